"""The activity form without a browser (csm_nb.forms.activities): fill and save as the clicks do, then hold
the form to what the SQLite file says (read with the stdlib ``sqlite3``) and to the report it redraws.
Also: the same activity twice changes nothing, saving it again with other values corrects it, a wrong
value writes not a byte, a store held by another process is "busy" (never "saved") until Retry, and a
headless run shows no form."""

from __future__ import annotations

import datetime as dt
import html as html_text
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from reading import plain
from test_engagement_plan_forms import file_bytes

from csm_nb import config
from csm_nb.forms import plan_log
from csm_nb.pages import csm_activities
from csm_nb.run.service import import_engagements

EID = "helios-renewal"
AS_OF = "2027-04-05"
FIXTURE = Path(__file__).parent / "fixtures" / "renewal" / "helios-renewal.yaml"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding the relationship fixture: six activities logged, two moments held."""
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> csm_activities.CsmActivitiesPage:
    """The activities report as a person opens it at 5 April 2027, with the form shown."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = csm_activities.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def activity_rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rows = connection.execute(
            "SELECT date, type, title, attrs FROM activity WHERE engagement_id = ? ORDER BY position", (EID,)
        ).fetchall()
    return [(*r[:3], json.loads(r[3]) if r[3] else None) for r in rows]


def shown(widget) -> str:
    return plain(html_text.unescape(widget.value))


def test_the_form_starts_at_as_of_with_the_stakeholders_and_the_models_moments(page) -> None:
    form = page.forms.activity
    assert form.date.value == dt.date(2027, 4, 5) and form.type.value == "meeting"  # as_of, not the clock
    assert list(form.people_buttons) == ["Priya Raman", "Tom Becker", "Lena Ortiz", "Sam Okafor"]
    assert list(form.mission_boxes) == [
        "reduce_risk",
        "develop_business",
        "focus_on_value",
        "manage_goals",
        "mutual_profitability",
        "satisfaction",
        "understand_customer",
        "build_relationships",
    ]
    assert not any(b.value for b in form.mission_boxes.values())
    assert ("Quarterly business review", "qbr") in form.moment.options  # the built-in high-touch model's names


def test_a_logged_activity_is_in_sqlite_and_in_the_redrawn_report(page, db: Path) -> None:
    headline, missions = page.headline(), page.missions()
    assert "No activity for: keep the customer satisfied." in shown(headline)
    form = page.forms.activity
    form.fill(
        date="2027-04-02",
        type="call",
        title="Survey follow-up with team leads",
        missions=["satisfaction", "understand_customer"],
        people=["Lena Ortiz", "Kim Lee"],
        minutes="45",
        outcome="Two teams to pilot shorter ratings",
    )
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
    assert (form.state, form.message) == ("saved", "")
    assert "Survey follow-up with team leads (call, 2 Apr 2027): added to the log." in shown(form.mark.detail)
    assert activity_rows(db)[-1] == (
        "2027-04-02",
        "call",
        "Survey follow-up with team leads",
        {
            "missions": ["satisfaction", "understand_customer"],
            "with": ["Lena Ortiz", "Kim Lee"],
            "minutes": 45.0,
            "outcome": "Two teams to pilot shorter ratings",
        },
    )
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("sam",)
    # The same widgets, redrawn from the store: every mission served now.
    assert "Every mission served." in shown(headline)
    assert "the 5 activities of the last 90 days count 10 times across the missions" in shown(missions)
    assert page.results()["minutes"] == 345.0


def test_the_same_activity_twice_changes_nothing_and_other_values_correct_it(page, db: Path) -> None:
    form = page.forms.activity
    form.fill(type="email", title="Renewal dates to Priya", missions=["develop_business"], people=["Priya Raman"])
    assert form.save()["added"] == 1
    rows = activity_rows(db)
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1}
    assert "already in the log as it is" in shown(form.mark.detail) and activity_rows(db) == rows
    form.fill(minutes="10")
    assert form.state == "changed"
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 0}
    assert activity_rows(db)[-1][3]["minutes"] == 10.0 and len(activity_rows(db)) == len(rows)


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        ({"missions": ["reduce_risk"]}, "Not saved: What: say in a few words what the activity was"),
        ({"title": "Call"}, "Not saved: Missions: tick the missions this activity served (at least one)"),
        (
            {"title": "Call", "missions": ["reduce_risk"], "date": "2027-02-30"},
            "Not saved: Date: 2027-02-30 is not a date that exists; expected a date such as 2027-04-09",
        ),
        (
            {"title": "Call", "missions": ["reduce_risk"], "date": "2027-04-06"},
            "Not saved: Date: 2027-04-06 is after the report's date (2027-04-05); log an activity once it is done",
        ),
        (
            {"title": "Call", "missions": ["reduce_risk"], "minutes": "an hour"},
            "Not saved: Minutes: expected a number such as 8; you typed 'an hour'",
        ),
        (
            {"title": "Call", "missions": ["reduce_risk"], "minutes": "-5"},
            "Not saved: Minutes: expected the minutes it took, 0 or more; you typed -5",
        ),
    ],
)
def test_a_wrong_value_is_not_saved_and_the_file_is_untouched(page, db: Path, fill: dict, message: str) -> None:
    form = page.forms.activity
    before = file_bytes(db)
    form.fill(**fill)
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", message)
    assert file_bytes(db) == before


def test_a_busy_store_is_busy_never_saved_until_retry(db: Path, monkeypatch: pytest.MonkeyPatch, hold_write_lock) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setattr(plan_log, "SAVE_WAIT_SECONDS", 0.5)  # read by LiveForms, which every form builds on
    opened = csm_activities.open_page(EID, db=str(db), as_of=AS_OF)
    forms = opened.workshop()
    try:
        form = forms.activity
        form.fill(title="Check-in", missions=["build_relationships"], people=["Tom Becker"])
        holder = hold_write_lock(db, 30)
        before = file_bytes(db)
        assert form.save() is None
        assert form.state == "busy" and form.message.startswith(f"Not saved: the store is busy (held by pid {holder.pid} (")
        assert form.message.endswith("your entries are kept in the form, press Retry") and file_bytes(db) == before
        assert form.title.value == "Check-in" and form.people_buttons["Tom Becker"].value  # what was entered stays
        holder.release()
        assert form.retry() == {"added": 1, "updated": 0, "unchanged": 0}
        assert form.state == "saved" and activity_rows(db)[-1][2] == "Check-in"
    finally:
        forms.close()


def test_a_headless_run_shows_no_form(db: Path) -> None:
    headless = csm_activities.open_page(EID, db=str(db), as_of=AS_OF)
    assert headless.interactive is False and headless.workshop() is None and headless.forms is None
    assert type(headless.missions()).__name__ == "Html"
