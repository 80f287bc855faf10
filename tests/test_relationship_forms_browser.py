"""The four relationship forms a CSM fills in by hand, in JupyterLab in Debian's Chromium: the stakeholder
rating (``10_stakeholder_map``), ticking a milestone done (``11_success_plan``), raising or updating a
risk (``12_renewal_prep``) and logging an activity (``13_csm_activities``).

One JupyterLab serves the module, on a store of one engagement (two stakeholders, a success plan whose
first milestone is five days overdue, a contract); the four workbooks are opened one after another and
run as a person runs them. In each, the same field is changed and saved several times (influence 2, 4,
3 and support -1 then +2; a done date on time, then late, then taken away; a risk's severity high,
medium, low; an activity's minutes 30 then 45); after each "✓ saved" the SQLite file, read with the
stdlib ``sqlite3``, must hold exactly that (the ``stakeholders``, ``success_plan`` and ``risks`` JSON
columns, the ``activity`` table) at the next revision. Each form is also given a value it refuses (a
person who left with no date, a done date after today, a risk that says nothing or is raised
tomorrow, an activity serving no mission): the mark says "Not saved" and the store's file and
write-ahead log are byte for byte unchanged, as they are when the same values are saved again. The
report under each form must have redrawn after each save (the grid's quadrants, the milestone's
status, the readiness checklist, the activities headline and log).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import LAB_TOKEN, open_workbook, running_lab
from marks import UI_TIMEOUT, Mark, poll
from test_engagement_plan_browser import type_into
from test_engagement_plan_forms import file_bytes

from csm_nb.method.stakeholders import signed
from csm_nb.run.service import import_engagements
from csm_nb.vocabulary import day_words

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EID = "relationship-browser"
# Every workbook is judged at today, set as its as_of so that a run crossing midnight does not judge the
# notebook at one date and the test's expectations at another.
TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=45)
END = START.replace(year=START.year + 1) - dt.timedelta(days=1)
DUE = TODAY - dt.timedelta(days=5)  # the first milestone: five days overdue
NOTEBOOKS = ("10_stakeholder_map.ipynb", "11_success_plan.ipynb", "12_renewal_prep.ipynb", "13_csm_activities.ipynb")
FORM_TIMEOUT = 120_000  # ms: a first notebook waits for its kernel's imports


def engagement_file(folder: Path) -> Path:
    path = folder / f"{EID}.yaml"
    path.write_text(
        f"""\
schema: csm-nb/engagement@1
id: {EID}
customer: Acme Logistics
contract: {{signed: {START - dt.timedelta(days=15)}, start: {START}, end: {END}, notice_days: 60}}
stakeholders:
  - {{name: Ana Silva, role: Head of Operations, roles: [sponsor], level: strategic}}
  - {{name: Ben Ode, role: Dispatch lead, roles: [champion], level: operational, notes: Prefers calls}}
success_plan:
  objectives:
    - {{id: faster-dispatch, description: Dispatch every order within the hour, owner_customer: Ana Silva, due: {END}}}
  milestones:
    - {{id: routes-live, objective: faster-dispatch, name: Routes live for every depot, kind: technical, owner: Ben Ode,
       due: {DUE}}}
    - {{id: first-review, objective: faster-dispatch, name: First dispatch review, kind: governance, owner: Ana Silva,
       due: {TODAY + dt.timedelta(days=90)}}}
""",
        encoding="utf-8",
    )
    return path


# -- the file itself ---------------------------------------------------------------------------------
def engagement_part(db: Path, column: str) -> tuple[int, Any]:
    """(the engagement's revision, one of its JSON columns parsed), read straight from the file."""
    assert column in ("stakeholders", "success_plan", "risks")
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision, text = connection.execute(f"SELECT revision, {column} FROM engagement WHERE id = ?", (EID,)).fetchone()
    return revision, json.loads(text) if text else None


def activity_rows(db: Path) -> tuple[int, list[tuple[Any, ...]]]:
    """(the engagement's revision, its activity rows as (date, type, title, attrs))."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        rows = connection.execute(
            "SELECT date, type, title, attrs FROM activity WHERE engagement_id = ? ORDER BY position", (EID,)
        ).fetchall()
    return revision, [(*r[:3], json.loads(r[3]) if r[3] else None) for r in rows]


# -- driving a form ------------------------------------------------------------------------------------
def press(page: Any, widget: str, label: str) -> None:
    """Press the toggle button labelled exactly ``label`` (``2`` is not ``+2``) and wait until it shows pressed."""
    from playwright.sync_api import expect

    button = page.locator(f"{widget} button").filter(has_text=re.compile(f"^{re.escape(label)}$"))
    button.click()
    expect(button).to_have_class(re.compile(r"\bmod-active\b"), timeout=UI_TIMEOUT)


def choose(select: Any, starting: str) -> str:
    """Pick the option whose label starts with ``starting``; its label. (The labels are read from the options'
    text: ``innerText`` is empty while the form is scrolled out of view, as after Run All.)"""
    labels = [t.replace("\xa0", " ") for t in select.evaluate("s => [...s.options].map(o => o.text)")]
    label = next((t for t in labels if t.startswith(starting)), None)
    assert label is not None, f"no option starting {starting!r}: {labels}"
    select.select_option(label=label)
    return label


def selected(page: Any, select: str) -> str:
    return page.locator(select).evaluate("s => s.options[s.selectedIndex].text").replace("\xa0", " ")


def plain(text: str) -> str:
    return text.replace("\u2060", "").replace("\xa0", " ")


def save_and_check(
    page: Any,
    form: str,
    read: Callable[[], Any],
    expected: Any = None,
    *,
    db: Path,
    save: str = "",
    refused: str = "",
    same: bool = False,
    detail: str = "",
) -> str:
    """Press Save and wait for the next mark; then the file must hold ``expected``. ``refused``: the mark
    must say "Not saved" with this text, ``same``: "✓ saved" for values already stored; either way the
    store's file and write-ahead log are then byte for byte as before. ``detail``: the line under the mark."""
    from playwright.sync_api import expect

    mark = Mark(page, f".csm-status-{form}", ".csm-state")
    before = read()
    bytes_before = file_bytes(db)
    mark.forget()
    page.locator(save or f".csm-save-{form}").click()
    if refused:
        expect(mark.fresh).to_contain_text("Not saved", timeout=UI_TIMEOUT)
    else:
        expect(mark.fresh).to_have_text("✓ saved", timeout=UI_TIMEOUT)
    shown = plain(mark.fresh.inner_text())
    if refused or same:
        assert not refused or refused in shown, shown
        time.sleep(0.5)  # a wrong write would land right after the mark
        assert file_bytes(db) == bytes_before, f"the mark says {shown!r}, yet the store's file changed"
        assert read() == before, f"the mark says {shown!r}, yet the store went from {before} to {read()}"
    else:
        after = poll(read, lambda now: now == expected, seconds=2)
        assert after == expected, f"the mark says {shown!r}, but the file holds {after}, not {expected}"
    if detail:  # a sign before a digit is followed by a word joiner on the page
        said = re.compile("".join(re.escape(c) + ("\u2060?" if c in "+-" else "") for c in detail))
        expect(page.locator(f".csm-detail-{form}")).to_contain_text(said, timeout=UI_TIMEOUT)
    return shown


# -- one JupyterLab for the module ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """JupyterLab (started as ``csm-nb lab`` starts it) on the four workbooks, set to the one engagement."""
    base = tmp_path_factory.mktemp("relationship-lab")
    db = base / "store.sqlite"
    import_engagements([engagement_file(base)], db=db)
    with running_lab(base, {name: {"engagement_id": EID, "as_of": TODAY.isoformat()} for name in NOTEBOOKS}, db=db) as running:
        yield {**running, "db": db.resolve()}


@pytest.fixture
def workbook(lab: dict[str, Any], browser) -> Iterator[Callable[[str, str], Any]]:
    """``workbook(name, form_css)`` opens a workbook, runs all cells and waits for its form; afterwards the
    page is checked for errors, closed, and its kernel shut down (the next workbook runs alone)."""
    opened: list[tuple[Any, str]] = []

    def open_it(name: str, form: str) -> Any:
        page = open_workbook(browser, lab, name)
        opened.append((page, name))
        try:
            page.locator(form).wait_for(state="visible", timeout=FORM_TIMEOUT)
        except Exception as exc:
            pytest.fail(f"no form in {name} ({str(exc).splitlines()[0]})\nlab log:\n{lab['log'].read_text()[-3000:]}")
        return page

    yield open_it
    for page, name in opened:
        try:
            if not page.is_closed():
                assert page.locator("text=Traceback").count() == 0, page.locator("text=Traceback").all_inner_texts()
                stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                assert stderr.count() == 0, stderr.all_inner_texts()
        finally:
            page.close()
            shut_down_kernel(lab, name)


def shut_down_kernel(lab: dict[str, Any], name: str) -> None:
    """End the session (and kernel) Lab runs for notebook ``name``, through its REST API."""
    headers = {"Authorization": f"token {LAB_TOKEN}"}
    with urllib.request.urlopen(urllib.request.Request(f"{lab['url']}/api/sessions", headers=headers), timeout=10) as reply:
        sessions = json.load(reply)
    for session in sessions:
        if Path(session.get("path") or "").name == name:
            request = urllib.request.Request(f"{lab['url']}/api/sessions/{session['id']}", headers=headers, method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()


# -- 1. the stakeholder rating ----------------------------------------------------------------------------
def test_rating_a_stakeholder_saves_what_the_mark_says_and_redraws_the_grid(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("10_stakeholder_map.ipynb", ".csm-stakeholder-forms")
    grid = page.locator(".csm-live-grid")
    expect(grid).to_contain_text("Not rated yet: Ana Silva, Ben Ode.", timeout=UI_TIMEOUT)

    def read() -> tuple[int, Any]:
        return engagement_part(db, "stakeholders")

    revision, people = read()
    ana, ben = people
    assert ben == {
        "name": "Ben Ode",
        "role": "Dispatch lead",
        "roles": ["champion"],
        "level": "operational",
        "notes": "Prefers calls",
    }
    choose(page.locator(".csm-stakeholder-person select"), "Ben Ode")
    expect(page.locator(".csm-stakeholder-influence button.mod-active")).to_have_text("not rated")

    def rate(influence: int, support: int) -> list[dict[str, Any]]:
        return [ana, {**ben, "influence": influence, "support": support}]

    form = dict(form="stakeholder", read=read, db=db, save=".csm-stakeholder-save")
    # 1. influence 2, support -1: monitor
    press(page, ".csm-stakeholder-influence", "2")
    press(page, ".csm-stakeholder-support", signed(-1))
    save_and_check(page, **form, expected=(revision + 1, rate(2, -1)), detail="Ben Ode: influence 2, support -1, active: saved.")
    expect(grid).to_contain_text("Not rated yet: Ana Silva.")
    expect(grid.locator("tr", has_text="Monitor")).to_contain_text("Ben Ode")
    expect(page.locator(".csm-live-org-chart")).to_contain_text("influence 2, support -")
    # 2. influence 4: win over
    press(page, ".csm-stakeholder-influence", "4")
    expect(page.locator(".csm-status-stakeholder")).to_contain_text("changed: press Save")  # never "saved" for an edit
    save_and_check(page, **form, expected=(revision + 2, rate(4, -1)))
    expect(grid.locator("tr", has_text="Win over")).to_contain_text("Ben Ode")
    expect(grid.locator("tr", has_text="Monitor")).to_have_count(0)
    # 3. influence 3: still win over (3 is high), the file says 3
    press(page, ".csm-stakeholder-influence", "3")
    save_and_check(page, **form, expected=(revision + 3, rate(3, -1)), detail="Ben Ode: influence 3, support -1")
    # 4. support +2: keep close
    press(page, ".csm-stakeholder-support", signed(2))
    save_and_check(page, **form, expected=(revision + 4, rate(3, 2)), detail="Ben Ode: influence 3, support +2")
    expect(grid.locator("tr", has_text="Keep close")).to_contain_text("Ben Ode")
    expect(grid.locator("tr", has_text="Win over")).to_have_count(0)
    # 5. the same values again: "saved", nothing written
    save_and_check(page, **form, same=True, detail="already saved as it is")
    # 6. met today: the last contact is the map's date
    page.locator(".csm-stakeholder-met-today").click()
    expect(page.locator(".csm-stakeholder-last-contact input")).to_have_value(TODAY.isoformat(), timeout=UI_TIMEOUT)
    expected = [ana, {**ben, "influence": 3, "support": 2, "last_contact": TODAY.isoformat()}]
    save_and_check(page, **form, expected=(revision + 5, expected), detail=f"last contact {day_words(TODAY)}")
    # 7. has left, the date taken out of the box: refused, not a byte written
    press(page, ".csm-stakeholder-status", "has left")
    since = page.locator(".csm-stakeholder-since input")
    expect(since).to_have_value(TODAY.isoformat(), timeout=UI_TIMEOUT)  # a new status starts at the map's date
    since.fill("")
    save_and_check(page, **form, refused="Not saved: Since: give the date they left, such as 2027-04-09; the box is empty")
    expect(grid.locator("tr", has_text="Keep close")).to_contain_text("Ben Ode")  # the map still has him in post
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("browser-test",)


# -- 2. ticking a milestone done --------------------------------------------------------------------------
def test_ticking_a_milestone_done_saves_the_date_and_redraws_its_status(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("11_success_plan.ipynb", ".csm-success-plan-form")
    table = page.locator(".csm-live-milestones-table")
    row = table.locator("tr", has_text="Routes live for every depot")
    expect(row).to_contain_text("overdue (5 days)", timeout=UI_TIMEOUT)
    choice = ".csm-milestone-milestone select"
    assert selected(page, choice) == f"Routes live for every depot · overdue (due {day_words(DUE)})"  # overdue first
    done_on = page.locator(".csm-milestone-date input")
    expect(done_on).to_have_value(TODAY.isoformat())  # the plan's date

    def read() -> tuple[int, Any]:
        return engagement_part(db, "success_plan")

    revision, plan = read()
    milestone = plan["milestones"][0]
    assert milestone["id"] == "routes-live" and "done_on" not in milestone

    def done(day: dt.date | None) -> dict[str, Any]:
        changed = dict(milestone) if day is None else {**milestone, "done_on": day.isoformat()}
        return {**plan, "milestones": [changed, plan["milestones"][1]]}

    form = dict(form="milestone-done", read=read, db=db)
    # 1. done three days before it was due: done on time
    early = DUE - dt.timedelta(days=3)
    done_on.fill(early.isoformat())
    save_and_check(
        page,
        **form,
        expected=(revision + 1, done(early)),
        detail=f"Routes live for every depot: done on {day_words(early)}: saved.",
    )
    expect(row).to_contain_text("done on time")
    expect(row).to_contain_text(day_words(early))
    assert selected(page, choice) == f"Routes live for every depot · done on time on {day_words(early)}"
    # 2. the date corrected: three days after it was due, done late
    late = DUE + dt.timedelta(days=3)
    done_on.fill(late.isoformat())
    expect(page.locator(".csm-status-milestone-done")).to_contain_text("changed: press Save")
    save_and_check(page, **form, expected=(revision + 2, done(late)))
    expect(row).to_contain_text("done late (3 days)")
    expect(row).to_contain_text(day_words(late))
    # 3. tomorrow: refused, not a byte written
    tomorrow = TODAY + dt.timedelta(days=1)
    done_on.fill(tomorrow.isoformat())
    save_and_check(
        page,
        **form,
        refused=f"Not saved: Done on: {tomorrow.isoformat()} is after {day_words(TODAY)}, the date the plan is judged at",
    )
    expect(row).to_contain_text("done late (3 days)")
    # 4. Done unticked: the date is taken away, the milestone is overdue again
    page.locator(".csm-milestone-done input[type=checkbox]").uncheck()
    expect(done_on).to_be_disabled()
    save_and_check(page, **form, expected=(revision + 3, done(None)), detail="no longer marked done by hand")
    expect(row).to_contain_text("overdue (5 days)")
    assert selected(page, choice) == f"Routes live for every depot · overdue (due {day_words(DUE)})"


# -- 3. raising and updating a risk -------------------------------------------------------------------------
def test_a_risk_raised_and_updated_is_what_sqlite_holds_and_the_checklist_follows(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("12_renewal_prep.ipynb", ".csm-renewal-form")
    checklist, risks = page.locator(".csm-live-checklist"), page.locator(".csm-live-risks-table")
    high_risk = checklist.locator("tr", has_text="No open high-severity risk")
    expect(high_risk).to_contain_text("none open of high severity", timeout=UI_TIMEOUT)
    expect(risks).to_contain_text("No risk on record.")

    def read() -> tuple[int, Any]:
        return engagement_part(db, "risks")

    revision, stored = read()
    assert stored is None
    choice = ".csm-risk-choice select"
    assert selected(page, choice) == "(a new risk)"
    expect(page.locator(".csm-risk-raised input")).to_have_value(TODAY.isoformat())
    form = dict(form="risk", read=read, db=db)
    # 1. a kind and nothing said: refused
    choose(page.locator(".csm-risk-kind select"), "churn")
    save_and_check(page, **form, refused="Not saved: What could happen: say in a few words what the risk is")
    # 2. raised, high severity
    type_into(page.locator(".csm-risk-description input"), "Ana Silva may move to the parent company")
    press(page, ".csm-risk-severity", "high")
    type_into(page.locator(".csm-risk-mitigation input"), "Meet her deputy before the summer")
    type_into(page.locator(".csm-risk-owner input"), "Ben Ode")
    risk = {
        "id": "ana-silva-may-move",
        "kind": "churn",
        "description": "Ana Silva may move to the parent company",
        "raised": TODAY.isoformat(),
        "severity": "high",
        "status": "open",
        "mitigation": "Meet her deputy before the summer",
        "owner": "Ben Ode",
    }
    save_and_check(page, **form, expected=(revision + 1, [risk]), detail="Risk ana-silva-may-move: raised.")
    expect(high_risk).to_contain_text("open, high severity: ana-silva-may-move")
    expect(risks.locator("tr", has_text="ana-silva-may-move")).to_contain_text("Meet her deputy before the summer")
    assert selected(page, choice) == "ana-silva-may-move · high · open"  # the risk just saved, to correct it
    expect(page.locator(".csm-risk-id input")).to_be_disabled()
    # 3. medium: no open high risk any more
    press(page, ".csm-risk-severity", "medium")
    risk = {**risk, "severity": "medium"}
    save_and_check(page, **form, expected=(revision + 2, [risk]), detail="Risk ana-silva-may-move: updated.")
    expect(high_risk).to_contain_text("none open of high severity")
    expect(risks.locator("tr", has_text="ana-silva-may-move")).to_contain_text("medium")
    # 4. low, and a plan in place
    press(page, ".csm-risk-severity", "low")
    choose(page.locator(".csm-risk-status select"), "plan in place")
    risk = {**risk, "severity": "low", "status": "plan_in_place"}
    save_and_check(page, **form, expected=(revision + 3, [risk]))
    expect(risks.locator("tr", has_text="ana-silva-may-move")).to_contain_text("plan in place")
    assert selected(page, choice) == "ana-silva-may-move · low · plan in place"
    # 5. raised tomorrow: refused; 6. today again, the same values: "saved", nothing written
    raised = page.locator(".csm-risk-raised input")
    tomorrow = TODAY + dt.timedelta(days=1)
    raised.fill(tomorrow.isoformat())
    save_and_check(page, **form, refused=f"Not saved: Raised on: {tomorrow.isoformat()} is after the report's date")
    raised.fill(TODAY.isoformat())
    save_and_check(page, **form, same=True, detail="Risk ana-silva-may-move: already so on record.")


# -- 4. logging an activity ------------------------------------------------------------------------------------
def test_logging_an_activity_appends_one_row_corrected_in_place_and_the_report_follows(lab: dict[str, Any], workbook) -> None:
    from playwright.sync_api import expect

    db = lab["db"]
    page = workbook("13_csm_activities.ipynb", ".csm-activity-form")
    headline, log = page.locator(".csm-live-headline"), page.locator(".csm-live-log")
    expect(headline).to_contain_text("Nothing logged yet.", timeout=UI_TIMEOUT)
    expect(page.locator(".csm-activity-date input")).to_have_value(TODAY.isoformat())

    def read() -> tuple[int, list[tuple[Any, ...]]]:
        return activity_rows(db)

    revision, rows = read()
    assert rows == []
    form = dict(form="activity", read=read, db=db)
    title = "Route review with the dispatch team"
    # 1. no mission ticked: refused
    choose(page.locator(".csm-activity-type select"), "call")
    type_into(page.locator(".csm-activity-title input"), title)
    page.locator(".csm-activity-person", has_text="Ben Ode").click()
    type_into(page.locator(".csm-activity-minutes input"), "30")
    save_and_check(page, **form, refused="Not saved: Missions: tick the missions this activity served (at least one)")
    expect(headline).to_contain_text("Nothing logged yet.")
    # 2. two missions: logged
    page.locator(".csm-activity-mission-understand_customer input").check()
    page.locator(".csm-activity-mission-satisfaction input").check()
    attrs = {"missions": ["satisfaction", "understand_customer"], "with": ["Ben Ode"], "minutes": 30.0}
    save_and_check(
        page,
        **form,
        expected=(revision + 1, [(TODAY.isoformat(), "call", title, attrs)]),
        detail=f"{title} (call, {day_words(TODAY)}): added to the log.",
    )
    expect(headline).to_contain_text(f"1 activity in the 90 days to {day_words(TODAY)}, 30 min logged.")
    expect(log.locator("tr", has_text=title)).to_contain_text("30 min")
    expect(page.locator(".csm-live-missions tr", has_text="keep the customer satisfied")).to_contain_text(day_words(TODAY))
    # 3. it took 45 minutes: the same row corrected, not a second one
    type_into(page.locator(".csm-activity-minutes input"), "45")
    expect(page.locator(".csm-status-activity")).to_contain_text("changed: press Save")
    attrs = {**attrs, "minutes": 45.0}
    save_and_check(
        page, **form, expected=(revision + 2, [(TODAY.isoformat(), "call", title, attrs)]), detail="corrected in the log."
    )
    expect(headline).to_contain_text("45 min logged.")
    expect(log.locator("tr", has_text=title)).to_contain_text("45 min")
    # 4. minus five minutes: refused
    type_into(page.locator(".csm-activity-minutes input"), "-5")
    save_and_check(page, **form, refused="Not saved: Minutes: expected the minutes it took, 0 or more; you typed -5")
    # 5. 45 again and what came of it
    type_into(page.locator(".csm-activity-minutes input"), "45")
    type_into(page.locator(".csm-activity-outcome input"), "Two depots pilot the new routes")
    attrs = {**attrs, "outcome": "Two depots pilot the new routes"}
    save_and_check(page, **form, expected=(revision + 3, [(TODAY.isoformat(), "call", title, attrs)]))
    expect(log.locator("tr", has_text=title)).to_contain_text("Two depots pilot the new routes")
    expect(log.locator("tr", has_text=title)).to_have_count(1)
