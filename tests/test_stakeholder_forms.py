"""The stakeholder rating form without a browser (csm_nb.forms.stakeholders): choose, fill and save as the
clicks do, then hold the form to what the SQLite file says (read with the stdlib ``sqlite3``) and to the
map it redraws. The same values twice write nothing, a wrong value writes not a byte, somebody else's
save in between is "Not saved" until Retry (which keeps their change), a store held by another process
is "busy" until Retry, and a headless run shows no form and the report as before."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import nbformat
import pytest
from reading import plain
from test_engagement_plan_forms import file_bytes

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms import plan_log
from csm_nb.pages import stakeholder_map
from csm_nb.run.service import import_engagements

EID = "helios-form"
AS_OF = "2026-12-21"
ENGAGEMENT = f"""\
schema: csm-nb/engagement@1
id: {EID}
customer: Helios Care Services
stakeholders:
  - {{name: Priya Raman, role: Service Performance Lead, roles: [sponsor], level: business, influence: 4, support: 2,
     cadence: monthly, last_contact: 2026-12-01}}
  - {{name: Tom Becker, role: HR Business Partner, roles: [champion], level: business, notes: Prefers email,
     cadence: monthly, last_contact: 2026-11-06}}
  - {{name: Grace Obi, role: Director of Services, roles: [decision_maker], level: strategic, influence: 5, support: 1}}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    source = tmp_path / f"{EID}.yaml"
    source.write_text(ENGAGEMENT, encoding="utf-8")
    path = tmp_path / "store.sqlite"
    import_engagements([source], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch) -> stakeholder_map.StakeholderMapPage:
    """The map as a person opens it (a form), at 21 December 2026."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = stakeholder_map.open_page(EID, db=str(db), as_of=AS_OF)
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def stored(db: Path) -> list[dict]:
    """The engagement's stakeholders as the file holds them."""
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        (text,) = connection.execute("SELECT stakeholders FROM engagement WHERE id = ?", (EID,)).fetchone()
    return json.loads(text)


def revision(db: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        rev = connection.execute("SELECT revision FROM engagement WHERE id = ?", (EID,)).fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM change_log WHERE engagement_id = ?", (EID,)).fetchone()[0]
    return rev, lines


def shown(widget) -> str:
    return plain(widget.value)


def test_the_form_shows_the_chosen_person_as_stored(page) -> None:
    form = page.forms.form
    assert [label for label, _ in form.person.options] == [
        "Priya Raman · Service Performance Lead",
        "Tom Becker · HR Business Partner",
        "Grace Obi · Director of Services",
    ]
    assert form.person.value == "Priya Raman"
    assert (form.influence.value, form.support.value, form.status.value) == (4, 2, "active")
    assert (form.cadence.value, form.last_contact.value, form.since.value) == ("monthly", dt.date(2026, 12, 1), None)
    form.choose("Tom Becker")
    assert (form.influence.value, form.support.value) == ("", "")  # not rated yet
    assert [label for label, _ in form.support.options] == ["not rated", "-2", "-1", "0", "+1", "+2"]


def test_a_rating_is_in_sqlite_and_in_the_redrawn_map(page, db: Path) -> None:
    contacts, grid, headline = page.contacts(), page.grid(), page.headline()
    assert "overdue by 14 days" in shown(contacts) and "Tom Becker" in shown(grid)  # named as not rated
    assert "Not rated yet: Tom Becker." in shown(grid) and "2 actions to take." in shown(headline)
    form = page.forms.form
    form.choose("Tom Becker")
    form.fill(influence=3, support=1)
    form.met_today.click()  # the map's date, not the clock's
    assert form.last_contact.value == dt.date(2026, 12, 21)
    assert form.save() == {"updated": 1, "unchanged": 0}
    assert (form.state, form.message) == ("saved", "")
    assert "✓ saved" in form.mark.status.value
    assert "Tom Becker: influence 3, support +1, active, monthly, last contact 21 Dec 2026: saved." in shown(form.mark.detail)
    tom = stored(db)[1]
    assert tom == {
        "name": "Tom Becker",
        "role": "HR Business Partner",
        "roles": ["champion"],
        "level": "business",
        "notes": "Prefers email",  # what the form does not edit is kept
        "cadence": "monthly",
        "last_contact": "2026-12-21",
        "influence": 3,
        "support": 1,
    }
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("SELECT updated_by FROM engagement WHERE id = ?", (EID,)).fetchone() == ("sam",)
    # The same widgets, redrawn from the store.
    assert "overdue by" not in shown(contacts) and "Not rated yet" not in shown(grid)
    assert "1 action to take." in shown(headline)  # Tom is no longer overdue; the operational level is still empty
    assert page.results()["quadrants"]["keep_close"] == ["Grace Obi", "Priya Raman", "Tom Becker"]
    assert form.person.value == "Tom Becker"  # the person just saved stays chosen


def test_the_same_values_twice_write_nothing(page, db: Path) -> None:
    form = page.forms.form
    form.choose("Grace Obi")
    form.fill(support=2)
    form.save()
    before, people = revision(db), stored(db)
    assert form.save() == {"updated": 0, "unchanged": 1}
    assert form.state == "saved" and "already saved as it is" in shown(form.mark.detail)
    assert (revision(db), stored(db)) == (before, people)
    form.fill(support=1)
    assert form.state == "changed" and "press Save" in shown(form.mark.status)  # never "saved" for an edited entry


def test_a_sponsor_who_leaves_raises_the_sponsor_change(page, db: Path) -> None:
    form = page.forms.form
    form.fill(status="left")
    assert form.since.value == dt.date(2026, 12, 21)  # leaving has a date: the map's, until another is given
    form.fill(since="2026-12-15")
    form.save()
    assert stored(db)[0]["status"] == "left" and stored(db)[0]["since"] == "2026-12-15"
    results = page.results()
    assert results["sponsor_change_events"] == [
        {"date": "2026-12-15", "type": "sponsor_change", "respondent": "Priya Raman", "note": "executive sponsor left"}
    ]
    assert results["actions"][0]["text"] == "Find a new sponsor: Priya Raman left on 15 Dec 2026."
    assert "Find a new sponsor: Priya Raman left on 15 Dec 2026." in shown(page.actions())
    assert [label for label, _ in form.person.options][0] == "Priya Raman · Service Performance Lead · has left"


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        ({"status": "left", "since": ""}, "Not saved: Since: give the date they left, such as 2027-04-09; the box is empty"),
        ({"status": "new", "since": ""}, "Not saved: Since: give the date they joined, such as 2027-04-09; the box is empty"),
        (
            {"last_contact": "2026-11-31"},
            "Not saved: Last contact: 2026-11-31 is not a date that exists; expected a date such as 2027-04-09",
        ),
        ({"since": "21/12/2026"}, "Not saved: Since: 21/12/2026 is not a date that exists; expected a date such as 2027-04-09"),
    ],
)
def test_a_wrong_value_is_not_saved_and_the_file_is_untouched(page, db: Path, fill: dict, message: str) -> None:
    form = page.forms.form
    form.choose("Tom Becker")
    before = file_bytes(db)
    form.fill(**fill)
    assert form.save() is None
    assert (form.state, form.message) == ("invalid", message)
    assert file_bytes(db) == before
    form.fill(status="active", since="2026-10-01", last_contact="2026-12-20")
    form.save()
    assert form.state == "saved" and stored(db)[1]["last_contact"] == "2026-12-20"


def test_a_rating_outside_the_scale_cannot_be_entered(page) -> None:
    with pytest.raises(KeyError, match="Influence: 6 is not offered"):
        page.forms.form.fill(influence=6)
    with pytest.raises(KeyError, match="Support: 3 is not offered"):
        page.forms.form.fill(support=3)


def test_somebody_elses_save_in_between_is_not_overwritten_until_retry(page, db: Path) -> None:
    form = page.forms.form
    form.choose("Tom Becker")
    form.fill(influence=3, support=1)
    with Store(db) as other:  # a colleague rates Grace Obi from another notebook
        people = other.load(EID).stakeholders
        people[2] = {**people[2], "support": 2}
        other.set_part(EID, "stakeholders", people, expected_revision=other.load(EID).revision, author="alex")
    before = file_bytes(db)
    assert form.save() is None
    assert form.state == "error" and "changed since you opened it" in form.message and "alex" in form.message
    assert form.message.endswith("your entries are kept in the form, press Retry")
    assert file_bytes(db) == before
    form.retry()
    assert form.state == "saved"
    assert [(p.get("influence"), p.get("support")) for p in stored(db)] == [(4, 2), (3, 1), (5, 2)]  # both changes kept


def test_a_busy_store_is_busy_never_saved_until_retry(db: Path, monkeypatch: pytest.MonkeyPatch, hold_write_lock) -> None:
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setattr(plan_log, "SAVE_WAIT_SECONDS", 0.5)  # read by LiveForms, which every form builds on
    opened = stakeholder_map.open_page(EID, db=str(db), as_of=AS_OF)
    forms = opened.workshop()
    try:
        form = forms.form
        form.choose("Tom Becker")
        form.fill(influence=2)
        holder = hold_write_lock(db, 30)
        before = file_bytes(db)
        assert form.save() is None
        assert form.state == "busy" and form.message.startswith(f"Not saved: the store is busy (held by pid {holder.pid} (")
        assert form.mark.retry_button.layout.display == ""
        assert file_bytes(db) == before and form.influence.value == 2  # what was entered stays
        holder.release()
        form.retry()
        assert form.state == "saved" and stored(db)[1]["influence"] == 2
    finally:
        forms.close()


# -- headless: no form, the report as before ----------------------------------------------------------------
PARTS = ("headline", "headline_figures", "actions", "grid", "coverage", "contacts", "changes", "org_chart", "objectives", "room")


def test_a_headless_run_shows_no_form_and_the_same_report(db: Path) -> None:
    headless = stakeholder_map.open_page(EID, db=str(db), as_of=AS_OF)
    assert headless.interactive is False and headless.workshop() is None and headless.forms is None
    same = stakeholder_map.page_for(headless.engagement, as_of=dt.date(2026, 12, 21))
    for part in PARTS:
        html = getattr(headless, part)()
        assert type(html).__name__ == "Html" and html == getattr(same, part)()


def test_the_workbook_offers_the_form_in_lab_but_not_in_the_customer_workshop() -> None:
    from csm_nb.run.workshop_server import workshop_workbooks

    assert not stakeholder_map.StakeholderMapPage.WORKSHOP
    assert "stakeholder_map" not in [w.id for w in workshop_workbooks()]
    notebook = nbformat.read(config.workbooks_dir() / "10_stakeholder_map.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    for cell in code:
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        assert hidden == ("parameters" not in cell.metadata.get("tags", [])), cell.source
    forms = next(c for c in code if "page.workshop()" in c.source)
    assert "interactive-only" in forms.metadata["tags"] and "as_of=as_of" in forms.source
    assert code.index(forms) == 1 and code[2].source == "page.headline()" and code[-1].source == "page.save_results(results_path)"


@pytest.mark.parametrize("field", ["last_contact", "since"])
def test_a_date_after_the_maps_date_is_not_saved(page, db: Path, field: str) -> None:
    """The map would leave a future contact out (and count the person overdue): refused, as the other forms do."""
    form = page.forms.form
    form.choose("Tom Becker")
    before = file_bytes(db)
    later = (page.forms.today + dt.timedelta(days=300)).isoformat()
    form.fill(**{field: later, "status": "new" if field == "since" else "active"})
    assert form.save() is None
    label = "Last contact" if field == "last_contact" else "Since"
    assert (form.state, form.message) == (
        "invalid",
        f"Not saved: {label}: {later} is after the map's date ({page.forms.today.isoformat()}); give the day it happened",
    )
    assert file_bytes(db) == before
