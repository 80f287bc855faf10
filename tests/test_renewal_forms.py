"""The renewal's risk form without a browser (csm_nb.forms.renewal): choose, fill and save as the clicks
do, then hold the form to what the SQLite file says (read with the stdlib ``sqlite3``) and to the report
it redraws. Also: the same risk twice changes nothing, a wrong value writes not a byte, a risk somebody
else changed meanwhile is not overwritten until Retry, a store held by another process is "busy" (never
"saved"), and a headless run shows no form and the report as before."""

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
from csm_nb.data.store import Store
from csm_nb.forms import plan_log
from csm_nb.pages import renewal_prep
from csm_nb.run.service import import_engagements

EID = "helios-renewal"
AS_OF = "2027-04-05"
FIXTURE = Path(__file__).parent / "fixtures" / "renewal" / "helios-renewal.yaml"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding the relationship fixture: three risks, one open of high severity."""
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> renewal_prep.RenewalPrepPage:
    """The renewal report as a person opens it at 5 April 2027, with the form shown."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = renewal_prep.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def stored_risks(db: Path) -> list[dict]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        row = connection.execute("SELECT risks FROM engagement WHERE id = ?", (EID,)).fetchone()
    return json.loads(row[0]) if row[0] else []


def revision(db: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rev = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM change_log WHERE engagement_id = ?", (EID,)).fetchone()[0]
    return rev, lines


def shown(widget) -> str:
    return plain(html_text.unescape(widget.value))


def test_the_form_offers_a_new_risk_first_then_the_open_ones_by_severity(page) -> None:
    form = page.forms.risk
    assert [v for _, v in form.risk.options] == ["", "winter-ratings", "hr-capacity", "budget-freeze"]
    assert [label for label, _ in form.risk.options][1] == "winter-ratings · high · plan in place"
    assert form.risk.value == "" and form.raised.value == dt.date(2027, 4, 5)  # as_of, not the clock
    assert form.owner_box.options == ("Priya Raman", "Tom Becker", "Lena Ortiz", "Sam Okafor")
    form.choose("hr-capacity")
    assert (form.kind.value, form.severity.value, form.status.value, form.owner_box.value) == (
        "delay",
        "medium",
        "open",
        "Tom Becker",
    )
    assert form.risk_id.disabled and form.raised.value == dt.date(2027, 3, 1)


def test_a_new_risk_is_in_sqlite_and_in_the_redrawn_checklist(page, db: Path) -> None:
    checklist, headline = page.checklist(), page.headline()
    assert "open, high severity: winter-ratings" in shown(checklist)
    form = page.forms.risk
    form.fill(
        kind="relationship",
        description="Priya Raman moves to Head Office in the summer",
        severity="high",
        mitigation="Meet her successor before June",
        owner="Sam Okafor",
        raised="2027-04-02",
    )
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
    assert (form.state, form.message) == ("saved", "")
    assert "Risk priya-raman-moves-to: raised." in shown(form.mark.detail)
    assert stored_risks(db)[-1] == {
        "id": "priya-raman-moves-to",
        "kind": "relationship",
        "description": "Priya Raman moves to Head Office in the summer",
        "raised": "2027-04-02",
        "severity": "high",
        "status": "open",
        "mitigation": "Meet her successor before June",
        "owner": "Sam Okafor",
    }
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("sam",)
    # The same widgets, redrawn from the store.
    assert "open, high severity: winter-ratings, priya-raman-moves-to" in shown(checklist)
    assert "Ready on 4 of 8 checks" in shown(headline)
    assert form.risk.value == "priya-raman-moves-to" and form.risk_id.disabled  # the risk just raised, to correct it


def test_closing_the_high_risk_meets_its_check_and_the_same_values_again_change_nothing(page, db: Path) -> None:
    form = page.forms.risk
    form.choose("winter-ratings")
    form.fill(status="recovered", mitigation="Ratings back to 95 % since March")
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 0}
    assert stored_risks(db)[0]["status"] == "recovered" and len(stored_risks(db)) == 3
    assert "none open of high severity" in shown(page.checklist()) and "Ready on 5 of 8 checks" in shown(page.headline())
    before = revision(db)
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1}
    assert form.state == "saved" and "already so on record" in shown(form.mark.detail)
    assert revision(db) == before
    form.fill(severity="medium")
    assert form.state == "changed"  # never "saved" for an edited entry


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        ({"description": "Budget cut"}, "Not saved: Kind: choose one of churn, downsell, delay, adoption, relationship"),
        ({"kind": "churn"}, "Not saved: What could happen: say in a few words what the risk is"),
        (
            {"kind": "churn", "description": "Budget cut", "raised": "2027-02-30"},
            "Not saved: Raised on: 2027-02-30 is not a date that exists; expected a date such as 2027-04-09",
        ),
        (
            {"kind": "churn", "description": "Budget cut", "raised": "2027-04-06"},
            "Not saved: Raised on: 2027-04-06 is after the report's date (2027-04-05); a risk is raised once it is seen",
        ),
        (
            {"kind": "churn", "description": "Budget cut", "id": "hr-capacity"},
            "Not saved: Id: 'hr-capacity' is already a risk on record; choose it in the list to update it, or give another id",
        ),
    ],
)
def test_a_wrong_value_is_not_saved_and_the_file_is_untouched(page, db: Path, fill: dict, message: str) -> None:
    form = page.forms.risk
    before = file_bytes(db)
    form.fill(**fill)
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", message)
    assert file_bytes(db) == before


def test_a_risk_changed_meanwhile_is_not_overwritten_until_retry(page, db: Path) -> None:
    form = page.forms.risk
    form.choose("hr-capacity")
    form.fill(status="plan_in_place", mitigation="Ask the HR director for a deputy")
    with Store(str(db)) as other:  # somebody else, in another notebook, since the form was drawn
        engagement = other.load(EID)
        risks = [dict(r, severity="high") if r["id"] == "hr-capacity" else r for r in engagement.risks]
        other.set_part(EID, "risks", risks, expected_revision=engagement.revision, author="ana")
    before = file_bytes(db)
    assert form.save() is None
    assert form.state == "error"
    assert form.message == (
        "Not saved: ana changed risk hr-capacity since this form was drawn: it is now hr-capacity · high · open; "
        "press Retry to save yours over it, or choose another risk"
    )
    assert file_bytes(db) == before
    assert form.retry() == {"added": 0, "updated": 1, "unchanged": 0}
    found = next(r for r in stored_risks(db) if r["id"] == "hr-capacity")
    assert (found["status"], found["severity"], found["mitigation"]) == (
        "plan_in_place",
        "medium",
        "Ask the HR director for a deputy",
    )


def test_a_busy_store_is_busy_never_saved_until_retry(db: Path, monkeypatch: pytest.MonkeyPatch, hold_write_lock) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setattr(plan_log, "SAVE_WAIT_SECONDS", 0.5)  # read by LiveForms, which every form builds on
    opened = renewal_prep.open_page(EID, db=str(db), as_of=AS_OF)
    forms = opened.workshop()
    try:
        form = forms.risk
        form.fill(kind="churn", description="Budget cut next year")
        holder = hold_write_lock(db, 30)
        before = file_bytes(db)
        assert form.save() is None
        assert form.state == "busy" and form.message.startswith(f"Not saved: the store is busy (held by pid {holder.pid} (")
        assert form.message.endswith("your entries are kept in the form, press Retry")
        assert form.mark.retry_button.layout.display == "" and file_bytes(db) == before
        assert form.description.value == "Budget cut next year"  # what was entered stays
        holder.release()
        assert form.retry() == {"added": 1, "updated": 0, "unchanged": 0}
        assert form.state == "saved" and stored_risks(db)[-1]["id"] == "budget-cut-next-year"
    finally:
        forms.close()


def test_a_headless_run_shows_no_form_and_the_same_report(db: Path) -> None:
    headless = renewal_prep.open_page(EID, db=str(db), as_of=AS_OF)
    assert headless.interactive is False and headless.workshop() is None and headless.forms is None
    same = renewal_prep.page_for(headless.engagement, as_of=dt.date(2027, 4, 5), model=headless.model)
    for part in ("headline", "checklist", "risks_table", "value_summary"):
        html = getattr(headless, part)()
        assert type(html).__name__ == "Html" and html == getattr(same, part)()


def test_a_recorded_risks_words_cannot_be_cleared(page, db: Path) -> None:
    """Updating a risk keeps it described: clearing "What could happen" is refused and nothing is written."""
    form = page.forms.risk
    form.choose("winter-ratings")
    before = file_bytes(db)
    form.fill(description="")
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", "Not saved: What could happen: say in a few words what the risk is")
    assert file_bytes(db) == before
