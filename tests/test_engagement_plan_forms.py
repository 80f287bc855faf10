"""The engagement plan's log forms without a browser (csm_nb.forms.plan_log): pick, fill and save as
the clicks do, then hold the form to what the SQLite file says (read with the stdlib ``sqlite3``)
and to the plan it redraws. Also: the same entry twice changes nothing, a wrong value writes not a
byte, a store held by another process is "busy" (never "saved") until Retry, and a headless run
shows no forms and the report as before."""

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
from csm_nb.forms import plan_log
from csm_nb.pages import engagement_plan
from csm_nb.run.service import import_engagements

EID = "acme-plan"
AS_OF = "2027-01-20"
# Signed 4 January 2027 on the built-in high-touch model: at 20 January the handoff (due 7 January) and
# the kick-off (due 11 January) are escalated, the product switch-on (due 18 January) overdue.
ENGAGEMENT = f"""\
schema: csm-nb/engagement@1
id: {EID}
customer: Acme Logistics
stakeholders:
  - {{name: Ana Silva, role: Head of Operations (sponsor)}}
  - {{name: Ben Ode, role: Dispatch lead (champion)}}
contract: {{signed: 2027-01-04, start: 2027-02-01, end: 2028-01-31}}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding one engagement with a contract and two stakeholders, nothing logged yet."""
    source = tmp_path / f"{EID}.yaml"
    source.write_text(ENGAGEMENT, encoding="utf-8")
    path = tmp_path / "store.sqlite"
    import_engagements([source], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> engagement_plan.EngagementPlanPage:
    """The plan as a person opens it (forms), at 20 January 2027, with the forms shown."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = engagement_plan.open_page(EID, db=str(db), as_of=AS_OF, audience="internal")
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def moment_rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rows = connection.execute(
            "SELECT moment, occurrence, due, held, status, attrs FROM moment_log WHERE engagement_id = ? ORDER BY position",
            (EID,),
        ).fetchall()
    return [(*r[:5], json.loads(r[5]) if r[5] else None) for r in rows]


def event_rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rows = connection.execute(
            "SELECT date, type, ref, respondent, attrs FROM event WHERE engagement_id = ? ORDER BY position", (EID,)
        ).fetchall()
    return [(*r[:4], json.loads(r[4]) if r[4] else None) for r in rows]


def revision(db: Path) -> tuple[int, int]:
    """(the engagement's revision, its change-log lines), from the file."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rev = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM change_log WHERE engagement_id = ?", (EID,)).fetchone()[0]
    return rev, lines


def file_bytes(db: Path) -> dict[str, str]:
    """A digest of the store's file and of its write-ahead log, byte for byte.

    Read by another process: closing a file this process opened would drop the POSIX locks its
    SQLite connections hold on it (SQLite's own warning), and another process could then delete
    the write-ahead log under them.
    """
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


# -- a moment held ------------------------------------------------------------------------------
def test_the_moments_due_or_overdue_come_first_and_the_first_occurrence_due_is_chosen(page) -> None:
    form = page.forms.moment
    labels = [label for label, _ in form.moment.options]
    assert [v for _, v in form.moment.options][:4] == ["handoff", "kickoff", "activated", "initial_training"]
    assert labels[:2] == [
        "Sales-to-service handoff · escalated (due 7 Jan 2027)",
        "Kick-off meeting · escalated (due 11 Jan 2027)",
    ]
    assert labels[2] == "Product switched on · overdue (due 18 Jan 2027)"
    assert form.moment.value == "handoff" and form.occurrence.value == "2027-01-07"
    assert form.held.value == dt.date(2027, 1, 20)  # as_of, not the clock
    assert form.status.value == "held" and list(form.attendee_buttons) == ["Ana Silva", "Ben Ode"]
    form.choose("qbr")  # a recurring moment: its first occurrence not held yet
    assert form.occurrence.value == "2027-05-01"
    assert [label for label, _ in form.occurrence.options][:2] == ["due 1 May 2027 · planned", "due 1 Aug 2027 · planned"]


def test_a_logged_moment_is_in_sqlite_and_in_the_redrawn_plan(page, db: Path) -> None:
    table, headline = page.moments_table(), page.headline()
    assert "Kick-off meeting" in shown(table) and "escalated (9 days), to CS manager" in shown(table)
    assert "3 moments overdue." in shown(headline)
    form = page.forms.moment
    form.choose("kickoff")
    form.fill(
        held="2027-01-15",
        attendees=["Ana Silva", "Carl Jensen"],
        outcome="Champion named: Ben Ode",
        delay_reason="customer_resources",
        note="Sponsor travelling",
    )
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
    assert (form.state, form.message) == ("saved", "")
    assert "✓ saved" in form.mark.status.value
    assert "Kick-off meeting held on 15 Jan 2027: added to the log." in shown(form.mark.detail)
    assert moment_rows(db) == [
        (
            "kickoff",
            "2027-01-15",
            None,
            "2027-01-15",
            "held",
            {
                "attendees": ["Ana Silva", "Carl Jensen"],
                "outcome": "Champion named: Ben Ode",
                "delay_reason": "customer_resources",
                "note": "Sponsor travelling",
            },
        )
    ]
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("sam",)
    # The same widgets, redrawn from the store: the kick-off held 4 days late, the switch-on now due after it.
    assert "15 Jan 2027" in shown(table) and "held late (4 days)" in shown(table)
    assert "escalated (9 days)" not in shown(table)
    assert "1 moment overdue." in shown(headline)  # the switch-on is due 7 days after the kick-off held: 22 January
    assert dict((v, label) for label, v in form.moment.options)["kickoff"] == "Kick-off meeting · held 15 Jan 2027"
    assert form.moment.value == "kickoff"  # the entry just saved stays in the form, to correct it


def test_the_same_entry_twice_changes_nothing(page, db: Path) -> None:
    form = page.forms.moment
    form.choose("kickoff")
    form.fill(held="2027-01-15", attendees=["Ben Ode"])
    assert form.save()["added"] == 1
    before, rows = revision(db), moment_rows(db)
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1}
    assert form.state == "saved" and "already in the log as it is" in shown(form.mark.detail)
    assert (revision(db), moment_rows(db)) == (before, rows)


def test_a_corrected_milestone_replaces_its_entry(page, db: Path) -> None:
    form = page.forms.moment
    form.choose("kickoff")
    form.fill(held="2027-01-15")
    form.save()
    rev, lines = revision(db)
    form.fill(held="2027-01-14", outcome="Plan agreed")
    assert form.state == "changed" and "Save" in shown(form.mark.status)  # never "saved" for an edited entry
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 0}
    assert moment_rows(db) == [("kickoff", "2027-01-14", None, "2027-01-14", "held", {"outcome": "Plan agreed"})]
    assert revision(db) == (rev + 1, lines + 1)
    assert "14 Jan 2027" in shown(page.moments_table()) and "held late (3 days)" in shown(page.moments_table())
    form.fill(status="no_show")  # and then it did not happen after all
    assert form.held.disabled
    form.save()
    assert moment_rows(db) == [("kickoff", "", None, None, "no_show", {"outcome": "Plan agreed"})]


def test_a_recurring_moment_is_logged_against_its_due_date(page, db: Path) -> None:
    form = page.forms.moment
    form.choose("qbr", "2027-08-01")
    form.fill(status="cancelled", note="Sponsor on leave")
    form.save()
    assert moment_rows(db) == [("qbr", "2027-08-01", "2027-08-01", None, "cancelled", {"note": "Sponsor on leave"})]
    assert "cancelled" in shown(page.moments_table())
    assert form.occurrence.value == "2027-08-01"


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        (
            {"held": "2027-02-30"},
            "Not saved: Date held: 2027-02-30 is not a date that exists; expected a date such as 2027-04-09",
        ),
        (
            {"held": "15/01/2027"},
            "Not saved: Date held: 15/01/2027 is not a date that exists; expected a date such as 2027-04-09",
        ),
    ],
)
def test_a_wrong_date_is_not_saved_and_the_file_is_untouched(page, db: Path, fill: dict, message: str) -> None:
    form = page.forms.moment
    form.choose("kickoff")
    before = file_bytes(db)
    form.fill(**fill)
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", message)
    assert "Not saved: Date held:" in form.mark.status.value
    assert file_bytes(db) == before and moment_rows(db) == []
    form.fill(held=dt.date(2027, 1, 16))  # the date picker again: saved
    form.save()
    assert form.state == "saved" and moment_rows(db)[0][3] == "2027-01-16"


def test_a_busy_store_is_busy_never_saved_until_retry(db: Path, monkeypatch: pytest.MonkeyPatch, hold_write_lock) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setattr(plan_log, "SAVE_WAIT_SECONDS", 0.5)
    opened = engagement_plan.open_page(EID, db=str(db), as_of=AS_OF)
    forms = opened.workshop()
    try:
        form = forms.moment
        form.choose("kickoff")
        form.fill(held="2027-01-15")
        holder = hold_write_lock(db, 30)
        before = file_bytes(db)
        assert form.save() is None
        assert form.state == "busy"
        assert form.message.startswith(f"Not saved: the store is busy (held by pid {holder.pid} (")
        assert form.message.endswith("your entries are kept in the form, press Retry")
        assert "saved" not in form.mark.status.value.replace("Not saved", "")
        assert form.mark.retry_button.layout.display == ""
        assert moment_rows(db) == [] and file_bytes(db) == before
        assert form.held.value == dt.date(2027, 1, 15)  # what was entered stays
        holder.release()
        form.retry()
        assert form.state == "saved" and form.mark.retry_button.layout.display == "none"
        assert moment_rows(db)[0][:5] == ("kickoff", "2027-01-15", None, "2027-01-15", "held")
    finally:
        forms.close()


# -- an event -------------------------------------------------------------------------------------
def test_an_event_is_logged_and_a_score_above_its_scale_is_not(page, db: Path) -> None:
    form = page.forms.event
    assert form.date.value == dt.date(2027, 1, 20) and form.respondent.options == ("Ana Silva", "Ben Ode")
    before = file_bytes(db)
    assert form.save() is None and form.message.startswith("Not saved: Type: choose what happened (support case, ")
    form.fill(type="survey", score="11", scale="10", respondent="Ana Silva", note="Pulse after the kick-off")
    assert form.save() is None
    assert form.message == "Not saved: Score: expected a score from 0 to 10 (the scale); you typed 11"
    form.fill(score="9", scale="")
    form.save()
    assert form.message == "Not saved: out of: give the highest score possible with the score, such as 10"
    assert file_bytes(db) == before and event_rows(db) == []
    form.fill(score="8,5", scale="10")
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
    assert form.state == "saved"
    assert event_rows(db) == [
        ("2027-01-20", "survey", "", "Ana Silva", {"score": 8.5, "scale": 10.0, "note": "Pulse after the kick-off"})
    ]
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1}
    form.fill(score="9")
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 0}
    assert event_rows(db)[0][4]["score"] == 9.0
    assert page.three_questions()["loyalty"]["latest_survey"]["score"] == 9.0  # the page read it back


def test_a_severe_support_case_starts_its_moment_in_the_redrawn_plan(page, db: Path) -> None:
    event = page.forms.event
    event.fill(type="support_case", date="2027-01-19", severity="high", ref="CASE-7")
    event.save()
    assert event_rows(db) == [("2027-01-19", "support_case", "CASE-7", "", {"severity": "high"})]
    assert "Severe support case follow-up" in shown(page.moments_table())
    moment = page.forms.moment
    assert "severe_case_review" in [v for _, v in moment.moment.options]
    moment.choose("severe_case_review")
    assert moment.occurrence.value == "2027-01-21"  # two days to respond
    moment.fill(attendees=["Ben Ode"])
    moment.save()
    assert moment_rows(db)[0][:5] == ("severe_case_review", "2027-01-21", "2027-01-21", "2027-01-20", "held")


# -- headless: no forms, the report as before ---------------------------------------------------------------
PARTS = ("headline", "headline_figures", "timeline", "moments_table", "onboarding", "questions", "internal")


def test_a_headless_run_shows_no_forms_and_the_same_report(db: Path) -> None:
    headless = engagement_plan.open_page(EID, db=str(db), as_of=AS_OF, audience="internal")
    assert headless.interactive is False
    assert headless.workshop() is None and headless.forms is None
    same = engagement_plan.page_for(headless.engagement, headless.model, as_of=dt.date(2027, 1, 20), audience="internal")
    for part in PARTS:
        html = getattr(headless, part)()
        assert type(html).__name__ == "Html" and html == getattr(same, part)()


def test_the_workbook_offers_the_forms_in_lab_and_the_workshop(db: Path) -> None:
    from csm_nb.run.workshop_server import prepare_notebook, workbook_by_id

    page = engagement_plan.EngagementPlanPage
    assert page.WORKSHOP and page.WORKSHOP_BLURB
    chosen = workbook_by_id("engagement_plan")
    notebook = nbformat.read(config.workbooks_dir() / chosen.notebook, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    for cell in code:
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        assert hidden == ("parameters" not in cell.metadata.get("tags", [])), cell.source
    forms = next(c for c in code if "page.workshop()" in c.source)
    assert "interactive-only" in forms.metadata["tags"] and "open_page(" in forms.source
    assert code.index(forms) == 1 and code[2].source == "page.headline()"
    prepared = prepare_notebook(notebook, workbook=chosen, engagement_id=EID, db=db)
    injected = next(c for c in prepared.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'engagement_id = "{EID}"' in injected.source and f'db = "{db}"' in injected.source
    assert any("page.workshop()" in c.source for c in prepared.cells)
