"""The customer-jobs workshop in a real browser: the workshop app (``csm-nb workshop``) in Debian's
Chromium.

The store holds one engagement with no jobs yet. In the app: a job is added (refused until it has a
step), then two steps and three desired outcomes are typed and rated; each change saves itself, and
after each mark the SQLite file, read with the stdlib ``sqlite3``, must hold what the mark says. The
ranking under the form follows the ratings; a rating edited again moves it; a satisfaction of 11 is
refused with the file untouched. A screenshot goes to ``tests/output/customer_jobs_app.png``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import _free_port, _wait_for_server
from marks import UI_TIMEOUT, Mark, poll

from csm_nb.run.service import import_engagements

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = Path(__file__).parent / "output"
TOKEN = "csm-nb-jobs-app-test"
EID = "jobs-browser"
FORM_TIMEOUT = 90_000  # ms: the first page may wait for the fork server's imports


def new_store(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{EID}.yaml"
    path.write_text(f"schema: csm-nb/engagement@1\nid: {EID}\ncustomer: Helios Care Services\n", encoding="utf-8")
    db = folder / "store.sqlite"
    import_engagements([path], db=db)
    return db


def jobs_in(db: Path) -> tuple[int, list[dict[str, Any]] | None]:
    """(the engagement's revision, its jobs) as the file holds them."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        revision, text = connection.execute("SELECT revision, jobs FROM engagement WHERE id = ?", (EID,)).fetchone()
    return revision, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``csm-nb workshop`` on a store of the one engagement, started as the CLI starts it."""
    from test_workshop_app_browser import stop

    from csm_nb.run.workshop import workshop_command

    base = tmp_path_factory.mktemp("jobs-app")
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


class Workshop:
    """The page's boxes by the form's names ("job.0.step.1.name"), each change checked against the file."""

    def __init__(self, page: Any, db: Path) -> None:
        self.page, self.db = page, db
        self.mark = Mark(page, ".csm-status-jobs", ".csm-state")

    def box(self, name: str) -> Any:
        css = ".csm-" + name.replace(".", "-")
        return self.page.locator(f"{css} input, {css} select").first

    def type(self, name: str, text: str, *, check: Callable[[list[dict[str, Any]] | None], bool] | None = None) -> str:
        """Type ``text`` and leave the box; the mark must say saved and the file then pass ``check``."""
        from playwright.sync_api import expect

        before = jobs_in(self.db)
        self.mark.forget()
        box = self.box(name)
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(label=text)
        else:
            box.fill(text)
            box.press("Tab")  # the box sends its value when the cursor leaves it
        expect(self.mark.fresh).to_have_text("✓ saved", timeout=UI_TIMEOUT)
        after = poll(lambda: jobs_in(self.db), lambda now: now[0] > before[0] and (check is None or check(now[1])), seconds=2)
        assert after[0] == before[0] + 1, f"the mark says '✓ saved', yet the revision is {after[0]} (was {before[0]})"
        assert check is None or check(after[1]), f"the mark says '✓ saved', but the file holds {after[1]}"
        return self.mark.fresh.inner_text()

    def refused(self, name: str, text: str, said: str) -> None:
        """Type ``text``: "Not saved" naming ``said``, and the file as it was."""
        from playwright.sync_api import expect

        before = jobs_in(self.db)
        self.mark.forget()
        self.box(name).fill(text)
        self.box(name).press("Tab")
        expect(self.mark.fresh).to_contain_text("Not saved", timeout=UI_TIMEOUT)
        shown = self.mark.fresh.inner_text()
        assert said in shown, shown
        time.sleep(0.5)  # a wrong write would land right after the mark
        assert jobs_in(self.db) == before, f"the mark says {shown!r}, yet the file changed"

    def click(self, css: str) -> None:
        self.page.locator(css).click()


def outcome(jobs: list[dict[str, Any]] | None, statement: str) -> dict[str, Any]:
    found = [o for j in jobs or [] for s in j["steps"] for o in s.get("desired_outcomes", []) if o["statement"] == statement]
    return found[0] if found else {}


def test_the_workshop_app_maps_a_job_and_ranks_its_outcomes(app: dict[str, Any], browser) -> None:
    from playwright.sync_api import Error, expect

    db = app["db"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        query = urlencode({"engagement": EID, "workbook": "customer_jobs", "token": TOKEN})
        page.goto(f"{app['url']}/csm/open?{query}")
        expect(page).to_have_url(re.compile(r"/voila/render/15_customer_jobs\.ipynb\?engagement=" + EID + "$"))
        try:
            page.locator(".csm-jobs-editor").wait_for(state="visible", timeout=FORM_TIMEOUT)
        except Error as exc:
            pytest.fail(f"no workshop ({exc.message.splitlines()[0]})\nserver log:\n{app['log'].read_text()[-3000:]}")
        expect(page.locator(".csm-jobs-guidance")).to_contain_text("What are you trying to get done")
        w = Workshop(page, db)
        assert jobs_in(db)[1] is None

        # A job: its statement alone is refused (a job needs a step), then its first step saves it.
        w.click(".csm-add-job")
        w.refused("job.0.statement", "Serve every client who needs help in the month", "expected at least 1 step")
        w.click(".csm-add-step-0")
        w.type("job.0.step.0.name", "Plan the day's visits", check=lambda j: j is not None and len(j[0]["steps"]) == 1)
        w.type("job.0.executor", "Care teams", check=lambda j: j[0].get("executor") == "Care teams")
        w.type("job.0.step.0.other", "6", check=lambda j: j[0]["steps"][0].get("parties") == {"other": 6})
        w.click(".csm-add-step-0")
        w.type("job.0.step.1.name", "Visit the clients", check=lambda j: [s["order"] for s in j[0]["steps"]] == [1, 2])

        # Three desired outcomes, rated (9, 4), (6, 8), (8, 8).
        rows = [
            (0, "minimise the time it takes to plan the day's visits", "minutes", "9", "4"),
            (0, "minimise the changes to a route once the day has started", "changes a day", "8", "8"),
            (1, "minimise the visits missed in a month", "visits a month", "6", "8"),
        ]
        for n, (step, statement, unit, importance, satisfaction) in enumerate(rows):
            w.click(f".csm-add-outcome-0-{step}")
            k = sum(1 for r in rows[:n] if r[0] == step)
            at = f"job.0.step.{step}.outcome.{k}"
            w.type(f"{at}.statement", statement, check=lambda j, s=statement: bool(outcome(j, s)))
            w.type(f"{at}.direction", "minimise", check=lambda j, s=statement: outcome(j, s).get("direction") == "minimise")
            w.type(f"{at}.unit", unit, check=lambda j, s=statement, u=unit: outcome(j, s).get("unit") == u)
            w.type(
                f"{at}.importance",
                importance,
                check=lambda j, s=statement, i=importance: outcome(j, s).get("importance") == float(i),
            )
            w.type(
                f"{at}.satisfaction",
                satisfaction,
                check=lambda j, s=statement, v=satisfaction: outcome(j, s).get("satisfaction") == float(v),
            )
        ranking = page.locator(".csm-live-ranking-chart")
        under = page.locator(".csm-live-under-served-list")
        expect(ranking).to_contain_text("Opportunity by desired outcome")
        expect(page.locator(".csm-live-ranking-chart svg .bar, .csm-live-ranking-chart svg [class~=bar]")).to_have_count(3)
        expect(under).to_contain_text("minimise the time it takes to plan the day's visits")
        expect(under).to_contain_text("under-served")

        # Edit a rating again: (9, 9) leaves nothing under-served, and the list under the form says so.
        plan = rows[0][1]
        w.type("job.0.step.0.outcome.0.satisfaction", "9", check=lambda j: outcome(j, plan).get("satisfaction") == 9)
        expect(under).to_contain_text("None: no rated desired outcome has an opportunity above 10")
        w.type("job.0.step.0.outcome.0.satisfaction", "2", check=lambda j: outcome(j, plan).get("satisfaction") == 2)
        expect(under).to_contain_text("extremely under-served")  # 9 + 7 = 16, above 15
        # A satisfaction of 11: refused, the file as it was.
        w.refused("job.0.step.0.outcome.0.satisfaction", "11", "Satisfaction: expected a rating from 0 to 10; you typed 11")

        # What the file holds, read with sqlite3.
        _, jobs = jobs_in(db)
        assert jobs is not None and len(jobs) == 1
        job = jobs[0]
        assert (job["id"], job["statement"], job["executor"]) == (
            "serve-every-client-who-needs-help",
            "Serve every client who needs help in the month",
            "Care teams",
        )
        assert [(s["id"], s["name"], s["order"]) for s in job["steps"]] == [
            ("plan-the-day-s-visits", "Plan the day's visits", 1),
            ("visit-the-clients", "Visit the clients", 2),
        ]
        assert [(o["statement"], o["importance"], o["satisfaction"]) for s in job["steps"] for o in s["desired_outcomes"]] == [
            (rows[0][1], 9, 2),
            (rows[1][1], 8, 8),
            (rows[2][1], 6, 8),
        ]
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "customer_jobs_app.png"), full_page=False)
        assert "Traceback" not in page.evaluate("document.body.innerText")
    finally:
        context.close()
