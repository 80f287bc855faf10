"""The success plan's form without a browser (csm_nb.forms.success_plan): choose, fill and save as the
clicks do, then hold the form to what the SQLite file says (read with the stdlib ``sqlite3``) and to the
plan it redraws. Also: the same date twice changes nothing, a wrong date writes not a byte, a store held
by another process is "busy" (never "saved") until Retry, a milestone somebody else changed meanwhile
is not overwritten without Retry, and a headless run shows no form and the report as before."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import nbformat
import pytest
from reading import plain

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms import plan_log
from csm_nb.pages import success_plan
from csm_nb.run.service import import_engagements

EID = "helios-success-plan"
AS_OF = "2027-04-05"
FIXTURE = Path(__file__).parent / "fixtures" / "success_plan" / "helios-2027.yaml"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding the acceptance fixture: five milestones, the rating one overdue at 5 April 2027."""
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> success_plan.SuccessPlanPage:
    """The plan as a person opens it (the form shown), at 5 April 2027."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = success_plan.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def stored_dates(db: Path) -> dict[str, str | None]:
    """Each milestone's done_on as the file holds it."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        (text,) = connection.execute("SELECT success_plan FROM engagement WHERE id = ?", (EID,)).fetchone()
    return {m["id"]: m.get("done_on") for m in json.loads(text)["milestones"]}


def revision(db: Path) -> tuple[int, int, str]:
    """(the engagement's revision, its change-log lines, who saved last), from the file."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rev, by = connection.execute("SELECT revision, updated_by FROM engagement WHERE id = ?", (EID,)).fetchone()
        lines = connection.execute("SELECT count(*) FROM change_log WHERE engagement_id = ?", (EID,)).fetchone()[0]
    return rev, lines, by


def file_bytes(db: Path) -> dict[str, str]:
    """A digest of the store's file and of its write-ahead log, read by another process (closing a file
    this process opened would drop the locks its SQLite connections hold)."""
    code = (
        "import hashlib, json, pathlib, sys\n"
        "found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in map(pathlib.Path, sys.argv[1:]) if p.exists()}\n"
        "print(json.dumps(found))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(db), f"{db}-wal"], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def shown(widget) -> str:
    return plain(widget.value)


FIRST = {
    "platform-live": "2027-01-20",
    "first-pulse": "2027-02-01",
    "managers-trained": "2027-02-25",
    "rating-7": None,
    "phase-one-review": None,
}


# -- ticking a milestone done -------------------------------------------------------------------------
def test_the_overdue_milestone_comes_first_and_the_date_is_the_plans(page) -> None:
    form = page.forms.milestone
    assert [v for _, v in form.milestone.options] == [
        "rating-7",
        "phase-one-review",
        "platform-live",
        "first-pulse",
        "managers-trained",
    ]
    labels = [label for label, _ in form.milestone.options]
    assert labels[:3] == [
        "Line-manager engagement rating reaches 7 · overdue (due 31 Mar 2027)",
        "Phase One review with the CFO · planned (due 15 Dec 2027)",
        "Platform live for all teams · done late on 20 Jan 2027",
    ]
    assert form.milestone.value == "rating-7" and form.done.value is True
    assert form.done_on.value == dt.date(2027, 4, 5)  # as_of, not the clock
    form.choose("platform-live")
    assert form.done_on.value == dt.date(2027, 1, 20) and "saving corrects the date" in shown(form.mark.detail)


def test_a_ticked_milestone_is_in_sqlite_and_in_the_redrawn_plan(page, db: Path) -> None:
    headline, table = page.headline(), page.milestones_table()
    assert "1 milestone overdue." in shown(headline) and "overdue (5 days)" in shown(table)
    before = revision(db)
    form = page.forms.milestone
    form.fill(done_on="2027-04-02")
    assert form.save() == {"updated": 1, "unchanged": 0}
    assert (form.state, form.message) == ("saved", "")
    assert "✓ saved" in form.mark.status.value
    assert "Line-manager engagement rating reaches 7: done on 2 Apr 2027: saved." in shown(form.mark.detail)
    assert stored_dates(db) == {**FIRST, "rating-7": "2027-04-02"}
    assert revision(db) == (before[0] + 1, before[1] + 1, "sam")
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT summary FROM change_log ORDER BY revision DESC LIMIT 1").fetchone() == (
            "success plan saved",
        )
    # The same widgets, redrawn from the store: nothing overdue, 4 of 5 done, 2 of 4 on time.
    assert "Nothing overdue." in shown(headline) and "4 of 5 milestones done (80 %); 2 of 4 on time (50.0 %)." in shown(headline)
    assert "done late (2 days)" in shown(table)
    assert page.results()["done"] == 4 and page.results()["overdue"] == []
    assert form.milestone.value == "rating-7"  # the milestone just saved stays in the form, to correct it
    assert dict((v, label) for label, v in form.milestone.options)["rating-7"].endswith("done late on 2 Apr 2027")


def test_the_same_date_twice_changes_nothing_and_unticking_takes_it_away(page, db: Path) -> None:
    form = page.forms.milestone
    form.save()
    before, dates = revision(db), stored_dates(db)
    assert form.save() == {"updated": 0, "unchanged": 1}
    assert form.state == "saved" and "already so in the plan" in shown(form.mark.detail)
    assert (revision(db), stored_dates(db)) == (before, dates)
    form.fill(done=False)
    assert form.state == "changed" and form.done_on.disabled  # never "saved" for an edited entry
    assert form.save() == {"updated": 1, "unchanged": 0}
    assert stored_dates(db) == FIRST  # back to open: the rating is still 6.8
    assert "1 milestone overdue." in shown(page.headline())


@pytest.mark.parametrize(
    ("done_on", "message"),
    [
        ("2027-02-30", "Not saved: Done on: 2027-02-30 is not a date that exists; expected a date such as 2027-04-09"),
        ("05/04/2027", "Not saved: Done on: 05/04/2027 is not a date that exists; expected a date such as 2027-04-09"),
        (
            "2027-04-06",
            "Not saved: Done on: 2027-04-06 is after 5 Apr 2027, the date the plan is judged at; tick a milestone once it is done",
        ),
    ],
)
def test_a_wrong_date_is_not_saved_and_the_file_is_untouched(page, db: Path, done_on: str, message: str) -> None:
    form = page.forms.milestone
    before = file_bytes(db)
    form.fill(done_on=done_on)
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", message)
    assert file_bytes(db) == before and stored_dates(db) == FIRST
    form.fill(done_on=dt.date(2027, 4, 1))  # the date picker again: saved
    form.save()
    assert form.state == "saved" and stored_dates(db)["rating-7"] == "2027-04-01"


def test_a_busy_store_is_busy_never_saved_until_retry(db: Path, monkeypatch: pytest.MonkeyPatch, hold_write_lock) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setattr(plan_log, "SAVE_WAIT_SECONDS", 0.5)  # read by LiveForms, which every form builds on
    opened = success_plan.open_page(EID, db=str(db), as_of=AS_OF)
    forms = opened.workshop()
    try:
        form = forms.milestone
        form.fill(done_on="2027-04-03")
        holder = hold_write_lock(db, 30)
        before = file_bytes(db)
        assert form.save() is None
        assert form.state == "busy"
        assert form.message.startswith(f"Not saved: the store is busy (held by pid {holder.pid} (")
        assert form.message.endswith("your entries are kept in the form, press Retry")
        assert "saved" not in form.mark.status.value.replace("Not saved", "")
        assert form.mark.retry_button.layout.display == ""
        assert stored_dates(db) == FIRST and file_bytes(db) == before
        assert form.done_on.value == dt.date(2027, 4, 3)  # what was entered stays
        holder.release()
        form.retry()
        assert form.state == "saved" and form.mark.retry_button.layout.display == "none"
        assert stored_dates(db)["rating-7"] == "2027-04-03"
    finally:
        forms.close()


def test_a_milestone_somebody_else_changed_is_not_overwritten_without_retry(page, db: Path) -> None:
    # Somebody ticks the rating milestone (and, separately, corrects another one) after the form was drawn.
    with Store(db) as other:
        engagement = other.load(EID)
        plan = json.loads(json.dumps(engagement.success_plan))
        plan["milestones"][3]["done_on"] = "2027-04-01"
        other.set_part(EID, "success_plan", plan, expected_revision=engagement.revision, author="ana")
    before = file_bytes(db)
    form = page.forms.milestone
    form.fill(done_on="2027-04-04")
    assert form.save() is None and form.state == "error"
    assert form.message == (
        "Not saved: ana changed Line-manager engagement rating reaches 7 since this form was drawn: it is now done on "
        "1 Apr 2027; press Retry to save yours over it, or choose another milestone"
    )
    assert file_bytes(db) == before and stored_dates(db)["rating-7"] == "2027-04-01"
    form.retry()  # the person saw theirs and keeps their own date
    assert form.state == "saved" and stored_dates(db)["rating-7"] == "2027-04-04"
    assert revision(db)[2] == "sam"


def test_a_change_to_another_milestone_is_kept(page, db: Path) -> None:
    with Store(db) as other:
        engagement = other.load(EID)
        plan = json.loads(json.dumps(engagement.success_plan))
        plan["milestones"][4]["done_on"] = "2027-04-01"  # the review, brought forward by somebody else
        other.set_part(EID, "success_plan", plan, expected_revision=engagement.revision, author="ana")
    form = page.forms.milestone
    assert form.save() == {"updated": 1, "unchanged": 0}
    assert stored_dates(db) == {**FIRST, "rating-7": "2027-04-05", "phase-one-review": "2027-04-01"}
    assert page.results()["done"] == 5  # the page read both back


def test_a_milestone_removed_meanwhile_is_one_line(page, db: Path) -> None:
    with Store(db) as other:
        engagement = other.load(EID)
        plan = json.loads(json.dumps(engagement.success_plan))
        plan["milestones"] = plan["milestones"][:3]
        other.set_part(EID, "success_plan", plan, expected_revision=engagement.revision, author="ana")
    before = file_bytes(db)
    form = page.forms.milestone
    assert form.save() is None and form.state == "error"
    assert form.message.startswith("Not saved: Milestone: 'rating-7' is no longer in the success plan; run the notebook again")
    assert file_bytes(db) == before


# -- headless: no form, the report as before ---------------------------------------------------------------
PARTS = ("headline", "headline_figures", "objectives", "burn_up", "timeline", "milestones_table")


def test_a_headless_run_shows_no_form_and_the_same_report(db: Path) -> None:
    headless = success_plan.open_page(EID, db=str(db), as_of=AS_OF)
    assert headless.interactive is False
    assert headless.workshop() is None and headless.forms is None
    same = success_plan.page_for(headless.engagement, as_of=dt.date(2027, 4, 5))
    for part in PARTS:
        html = getattr(headless, part)()
        assert type(html).__name__ == "Html" and html == getattr(same, part)()


def test_the_notebook_offers_the_form_in_lab_and_is_committed_without_outputs() -> None:
    notebook = nbformat.read(config.workbooks_dir() / "11_success_plan.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    for cell in code:
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        assert hidden == ("parameters" not in cell.metadata.get("tags", [])), cell.source
    parameters = code[0]
    assert "parameters" in parameters.metadata["tags"]
    assert all("  # help: " in line for line in parameters.source.splitlines())
    form = code[1]
    assert "interactive-only" in form.metadata["tags"] and "open_page(" in form.source and "page.workshop()" in form.source
    assert [c.source for c in code[2:]] == [f"page.{p}()" for p in PARTS] + ["page.save_results(results_path)"]
