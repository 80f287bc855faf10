"""The engagement plan's log forms in a real browser: the workshop app (``csm-nb workshop``) and
JupyterLab, in Debian's Chromium.

The store holds one engagement with a contract signed 16 days ago (both front ends judge the plan
at today) and two stakeholders. In the workshop app the moment form is saved five times for the
kick-off (a held date, a corrected date, more details, an empty date that is refused, then the
date again) and the event form twice (a score above its scale, refused, then a right one); after
each mark the SQLite file, read with the stdlib ``sqlite3``, must hold exactly what the mark says,
and the plan under the forms must have redrawn. In JupyterLab one moment is logged the same way.
A screenshot of the app's page goes to ``tests/output/engagement_plan_app.png`` (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import _free_port, _wait_for_server, open_workbook, running_lab
from marks import UI_TIMEOUT, Mark, poll

from csm_nb.run.service import import_engagements
from csm_nb.vocabulary import day_words

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = Path(__file__).parent / "output"
TOKEN = "csm-nb-plan-app-test"
EID = "plan-browser"
TODAY = dt.date.today()
SIGNED = TODAY - dt.timedelta(days=16)  # the kick-off (7 days after signing) is 9 days overdue: escalated
FORM_TIMEOUT = 90_000  # ms: the first page may wait for the fork server's imports


def engagement_file(folder: Path) -> Path:
    start = TODAY + dt.timedelta(days=10)
    path = folder / f"{EID}.yaml"
    path.write_text(
        f"""\
schema: csm-nb/engagement@1
id: {EID}
customer: Acme Logistics
stakeholders:
  - {{name: Ana Silva, role: Head of Operations (sponsor)}}
  - {{name: Ben Ode, role: Dispatch lead (champion)}}
contract: {{signed: {SIGNED.isoformat()}, start: {start.isoformat()}, end: {start.replace(year=start.year + 1).isoformat()}}}
""",
        encoding="utf-8",
    )
    return path


def new_store(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.sqlite"
    import_engagements([engagement_file(folder)], db=db)
    return db


# -- the file itself ---------------------------------------------------------------------------------
def logged(db: Path, moment: str) -> tuple[int, list[tuple[Any, ...]]]:
    """(the engagement's revision, the moment's log rows as (occurrence, due, held, status, attrs))."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        rows = connection.execute(
            "SELECT occurrence, due, held, status, attrs FROM moment_log WHERE engagement_id = ? AND moment = ? ORDER BY position",
            (EID, moment),
        ).fetchall()
    return revision, [(*r[:4], json.loads(r[4]) if r[4] else None) for r in rows]


def events(db: Path) -> tuple[int, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        rows = connection.execute(
            "SELECT date, type, ref, respondent, attrs FROM event WHERE engagement_id = ? ORDER BY position", (EID,)
        ).fetchall()
    return revision, [(*r[:4], json.loads(r[4]) if r[4] else None) for r in rows]


# -- driving the form ----------------------------------------------------------------------------------
def choose(select: Any, starting: str) -> str:
    """Pick the option whose label starts with ``starting``; its label."""
    labels = [t.replace("\xa0", " ") for t in select.locator("option").all_inner_texts()]
    label = next((t for t in labels if t.startswith(starting)), None)
    assert label is not None, f"no option starting {starting!r}: {labels}"
    select.select_option(label=label)
    return label


def save_and_check(page: Any, form: str, read: Any, expected: Any, *, refused: str = "") -> str:
    """Press Save; wait for the mark; the file must then hold ``expected`` (``refused``: the file unchanged)."""
    from playwright.sync_api import expect

    mark = Mark(page, f".csm-status-{form}", ".csm-state")
    before = read()
    mark.forget()
    page.locator(f".csm-save-{form}").click()
    if refused:
        expect(mark.fresh).to_contain_text("Not saved", timeout=UI_TIMEOUT)
        shown = mark.fresh.inner_text()
        assert refused in shown, shown
        time.sleep(0.5)  # a wrong write would land right after the mark
        assert read() == before, f"the mark says {shown!r}, yet the file went from {before} to {read()}"
        return shown
    expect(mark.fresh).to_have_text("✓ saved", timeout=UI_TIMEOUT)
    after = poll(read, lambda now: now == expected, seconds=2)
    assert after == expected, f"the mark says '✓ saved', but the file holds {after}, not {expected}"
    return mark.fresh.inner_text()


def type_into(box: Any, text: str) -> None:
    box.fill(text)
    box.press("Tab")  # the box sends its value when the cursor leaves it


# -- the workshop app ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``csm-nb workshop`` on a store of the one engagement, started as the CLI starts it."""
    from test_workshop_app_browser import stop

    from csm_nb.run.workshop import workshop_command

    base = tmp_path_factory.mktemp("plan-app")
    db = new_store(base)
    port = _free_port()
    command = workshop_command(db=db, port=port, open_browser=False, token=TOKEN, author="browser-test")
    log = base / "workshop.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            command.argv, env=command.env, cwd=command.cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/?token={TOKEN}", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "db": db.resolve(), "log": log}
    finally:
        stop(process)


def test_the_workshop_app_logs_a_moment_and_an_event_each_save_what_sqlite_holds(app: dict[str, Any], browser) -> None:
    from playwright.sync_api import Error, expect

    db = app["db"]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        query = urlencode({"engagement": EID, "workbook": "engagement_plan", "token": TOKEN})
        page.goto(f"{app['url']}/csm/open?{query}")
        expect(page).to_have_url(re.compile(r"/voila/render/08_engagement_plan\.ipynb\?engagement=" + EID + "$"))
        try:
            page.locator(".csm-moment-log").wait_for(state="visible", timeout=FORM_TIMEOUT)
        except Error as exc:
            pytest.fail(f"no form ({exc.message.splitlines()[0]})\nserver log:\n{app['log'].read_text()[-3000:]}")
        expect(page.locator('.ws-steps a[aria-current="page"]')).to_have_text(re.compile(r"Engagement plan$"))
        table = page.locator(".csm-live-moments-table")
        expect(table).to_contain_text("escalated (9 days)")  # the kick-off, judged today
        moment = page.locator(".csm-log-moment select")
        first = moment.locator("option").first.inner_text().replace("\xa0", " ")
        assert first.startswith("Sales-to-service handoff · escalated"), first  # the most overdue first
        choose(moment, "Kick-off meeting")
        expect(page.locator(".csm-log-occurrence select")).to_contain_text(f"due {day_words(SIGNED + dt.timedelta(days=7))}")
        held, outcome = page.locator(".csm-log-held input"), page.locator(".csm-log-outcome input")
        expect(held).to_have_value(TODAY.isoformat())  # as_of: today

        def kickoff() -> tuple[int, list[tuple[Any, ...]]]:
            return logged(db, "kickoff")

        revision, rows = kickoff()
        assert rows == []
        # 1. held three days late, with the sponsor, an outcome
        day1 = SIGNED + dt.timedelta(days=10)
        held.fill(day1.isoformat())
        page.locator(".csm-log-attendee", has_text="Ana Silva").click()
        type_into(outcome, "Plan agreed")
        entry = {"attendees": ["Ana Silva"], "outcome": "Plan agreed"}
        save_and_check(page, "moment-log", kickoff, (revision + 1, [(day1.isoformat(), None, day1.isoformat(), "held", entry)]))
        expect(table).to_contain_text(day_words(day1))
        expect(table).to_contain_text("held late (3 days)")
        expect(page.locator(".csm-detail-moment-log")).to_contain_text("added to the log")
        # 2. the date corrected: the entry is replaced, not doubled
        day2 = SIGNED + dt.timedelta(days=9)
        held.fill(day2.isoformat())
        expect(page.locator(".csm-status-moment-log")).to_contain_text("changed: press Save")  # never "saved" for an edit
        save_and_check(page, "moment-log", kickoff, (revision + 2, [(day2.isoformat(), None, day2.isoformat(), "held", entry)]))
        expect(table).to_contain_text("held late (2 days)")
        # 3. the champion too, and why it was late
        page.locator(".csm-log-attendee", has_text="Ben Ode").click()
        choose(page.locator(".csm-log-delay select"), "the customer's people were not available")
        entry = {"attendees": ["Ana Silva", "Ben Ode"], "outcome": "Plan agreed", "delay_reason": "customer_resources"}
        save_and_check(page, "moment-log", kickoff, (revision + 3, [(day2.isoformat(), None, day2.isoformat(), "held", entry)]))
        # 4. no date: refused, nothing written
        held.fill("")
        shown = save_and_check(page, "moment-log", kickoff, None, refused="Not saved: Date held: expected a date such as")
        assert "Traceback" not in page.evaluate("document.body.innerText"), shown
        # 5. the date again, and a note: saved
        held.fill(day2.isoformat())
        type_into(page.locator(".csm-log-note input"), "Sponsor travelling")
        entry = {**entry, "note": "Sponsor travelling"}
        save_and_check(page, "moment-log", kickoff, (revision + 4, [(day2.isoformat(), None, day2.isoformat(), "held", entry)]))
        expect(page.locator(".csm-log-moment select option").filter(has_text="Kick-off meeting")).to_have_text(
            f"Kick-off meeting · held {day_words(day2)}"
        )

        # The event form: a score above its scale is refused, then a survey answer is logged.
        choose(page.locator(".csm-event-type select"), "survey answer")
        type_into(page.locator(".csm-event-score input"), "11")
        type_into(page.locator(".csm-event-scale input"), "10")
        type_into(page.locator(".csm-event-respondent input"), "Ana Silva")

        def logged_events() -> tuple[int, list[tuple[Any, ...]]]:
            return events(db)

        save_and_check(page, "event-log", logged_events, None, refused="Not saved: Score: expected a score from 0 to 10")
        type_into(page.locator(".csm-event-score input"), "8")
        expected = (revision + 5, [(TODAY.isoformat(), "survey", "", "Ana Silva", {"score": 8.0, "scale": 10.0})])
        save_and_check(page, "event-log", logged_events, expected)
        expect(page.locator(".csm-live-questions")).to_contain_text(f"Latest survey 8 of 10 on {TODAY.isoformat()}")

        OUTPUT.mkdir(exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(OUTPUT / "engagement_plan_app.png"), full_page=False)
        stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert stderr.count() == 0, stderr.all_inner_texts()
    finally:
        context.close()


# -- JupyterLab ------------------------------------------------------------------------------------------
def test_jupyterlab_logs_a_moment_and_redraws_the_plan(tmp_path: Path, browser) -> None:
    from playwright.sync_api import expect

    db = new_store(tmp_path / "store")
    with running_lab(tmp_path, {"08_engagement_plan.ipynb": {"engagement_id": EID}}, db=db) as lab:
        page = open_workbook(browser, lab, "08_engagement_plan.ipynb")
        try:
            page.locator(".csm-moment-log").wait_for(state="visible", timeout=120_000)
            table = page.locator(".csm-live-moments-table")
            expect(table).to_contain_text("escalated (9 days)", timeout=UI_TIMEOUT)
            choose(page.locator(".csm-log-moment select"), "Kick-off meeting")
            held = page.locator(".csm-log-held input")
            day = SIGNED + dt.timedelta(days=8)
            held.fill(day.isoformat())
            page.locator(".csm-log-attendee", has_text="Ben Ode").click()
            revision, rows = logged(db, "kickoff")
            assert rows == []
            expected = (revision + 1, [(day.isoformat(), None, day.isoformat(), "held", {"attendees": ["Ben Ode"]})])
            save_and_check(page, "moment-log", lambda: logged(db, "kickoff"), expected)
            expect(table).to_contain_text("held late (1 day)")
            assert page.locator("text=Traceback").count() == 0
        finally:
            page.close()
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("browser-test",)
