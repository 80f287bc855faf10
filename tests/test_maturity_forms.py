"""The maturity forms without a browser (csm_nb.forms.maturity): fill and save as the clicks do, then hold
the form to what the SQLite file says (read with the stdlib ``sqlite3``). The same assessment saved
several times, a wrong value refused with the store byte for byte unchanged, and the plan's metric
targets put into the KPI register as leading KPIs."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from csm_nb import config
from csm_nb.pages import maturity
from csm_nb.run.service import import_engagements

EID = "northwind-maturity"
FIXTURES = Path(__file__).parent / "fixtures" / "maturity"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    import_engagements([FIXTURES / "five-levels.yaml", FIXTURES / "northwind.yaml"], db=path)
    return path


@pytest.fixture
def page(db: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    monkeypatch.setenv(config.AUTHOR_ENV, "sam")
    opened = maturity.open_page(EID, db=str(db), as_of="2026-04-30")
    assert opened.workshop() is opened.forms is not None
    yield opened
    opened.forms.close()


def stored(db: Path) -> tuple[dict, int]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        text, rev = connection.execute("SELECT maturity, revision FROM engagement WHERE id = ?", (EID,)).fetchone()
    return json.loads(text), rev


def stored_kpis(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=1)) as connection:
        return connection.execute(
            "SELECT id, kind, baseline, target, start, deadline FROM kpi WHERE engagement_id = ? ORDER BY position", (EID,)
        ).fetchall()


def digest(db: Path) -> str:
    return "".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in (db, Path(f"{db}-wal")) if p.exists())


def test_the_form_starts_from_the_latest_answers_at_the_reports_date(page) -> None:
    form = page.forms.assessment
    assert str(form.date.value) == "2026-04-30"  # as_of, not the clock
    assert form.answers["b3b"].value == "partly" and form.metrics["lead-conversion"].value == "4"
    assert form.by.value == "Dana Whitfield"


def test_an_assessment_saved_several_times(page, db: Path) -> None:
    form = page.forms.assessment
    before, rev = stored(db)
    form.fill(date="2026-04-20", observed={"b3b": "yes", "b3c": "partly"}, metrics={"lead-conversion": "4.4"})
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0} and form.state == "saved"
    after, rev2 = stored(db)
    assert rev2 == rev + 1 and len(after["assessments"]) == len(before["assessments"]) + 1
    saved = next(a for a in after["assessments"] if a["date"] == "2026-04-20")
    assert saved["observed"]["b3b"] == "yes" and saved["metrics"] == {"lead-conversion": 4.4}
    # The report below follows: level 3 now (b3b yes, b3c partly: 2.5 / 3 = 0.833).
    assert page.results()["level"] == 3 and round(page.results()["index"], 3) == 3.5
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1} and stored(db)[1] == rev2  # the same again: nothing
    form.fill(observed={"b3c": "no"})
    assert form.save() == {"added": 0, "updated": 1, "unchanged": 0}  # the same date corrected, not a second one
    again, rev3 = stored(db)
    assert rev3 == rev2 + 1 and [a["date"] for a in again["assessments"]].count("2026-04-20") == 1
    assert page.results()["level"] == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"date": "2026-02-30"}, "Not saved: Date: 2026-02-30 is not a date that exists"),
        ({"date": "2026-05-01"}, "Not saved: Date: 2026-05-01 is after 30 Apr 2026"),
        ({"metrics": {"lead-conversion": "lots"}}, "Not saved: Lead conversion: expected a number such as 8; you typed 'lots'"),
    ],
)
def test_a_wrong_value_writes_not_a_byte(page, db: Path, values, message: str) -> None:
    before = digest(db)
    form = page.forms.assessment
    form.fill(**values)
    assert form.save() is None and form.state == "invalid" and form.message.startswith(message)
    assert digest(db) == before


def test_no_answer_at_all_is_refused(page, db: Path) -> None:
    form = page.forms.assessment
    form.fill(observed={b: None for b in form.answers})
    assert form.save() is None and "at least one behaviour" in form.message


def test_the_plans_metric_targets_go_into_the_kpi_register(page, db: Path) -> None:
    assert stored_kpis(db) == []
    form = page.forms.kpis
    assert form.save() == {"added": 1, "updated": 0, "unchanged": 0} and form.state == "saved"
    assert stored_kpis(db) == [("lead-conversion", "leading", 4.0, 5.0, "2026-01-15", "2026-07-15")]
    assert form.save() == {"added": 0, "updated": 0, "unchanged": 1}  # twice: still one KPI
    assert len(stored_kpis(db)) == 1


def test_a_refused_metric_target_is_not_put_in(page, db: Path) -> None:
    from csm_nb.data.store import Store

    with Store(db) as store:
        e = store.load(EID)
        plan = dict(e.maturity)
        plan["plan"] = {**plan["plan"], "metric_targets": {"lead-conversion": 3.0}}
        store.set_part(EID, "maturity", plan, expected_revision=e.revision)
    before = digest(db)
    form = page.forms.kpis
    assert form.save() is None and "not beyond the baseline 4" in form.message
    assert digest(db) == before and stored_kpis(db) == []


# -- regressions found in the browser test (tests/test_maturity_pulse_forms_browser.py) ----------------------
def test_a_metric_value_is_shown_with_every_digit_so_saving_it_again_keeps_it(db: Path, monkeypatch) -> None:
    """A value such as 1234567.5 was shown as "1.23457e+06" and saved back as 1234570."""
    from csm_nb.data.store import Store

    with Store(db) as store:
        e = store.load(EID)
        changed = json.loads(json.dumps(e.maturity))
        changed["assessments"][0]["metrics"] = {"lead-conversion": 1234567.5}
        store.set_part(EID, "maturity", changed, expected_revision=e.revision)
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    opened = maturity.open_page(EID, db=str(db), as_of="2026-04-30")
    opened.workshop()
    try:
        form = opened.forms.assessment
        assert form.metrics["lead-conversion"].value == "1234567.5"
        assert form.save() == {"added": 1, "updated": 0, "unchanged": 0}
        saved = next(a for a in stored(db)[0]["assessments"] if a["date"] == "2026-04-30")
        assert saved["metrics"] == {"lead-conversion": 1234567.5}
    finally:
        opened.forms.close()


def test_choosing_an_earlier_assessments_date_shows_its_answers_and_saving_keeps_it(db: Path, monkeypatch) -> None:
    """The form kept the latest answers when an earlier date was chosen, so Save overwrote that assessment with them."""
    monkeypatch.setenv("CSM_NB_INTERACTIVE", "1")
    opened = maturity.open_page(EID, db=str(db), as_of="2026-06-30")
    opened.workshop()
    try:
        form = opened.forms.assessment
        assert form.answers["b3b"].value == "yes" and form.metrics["lead-conversion"].value == "4.6"  # 15 Jun 2026
        before = digest(db)
        form.fill(date="2026-01-15")
        assert form.answers["b3b"].value == "partly" and form.answers["b3c"].value == "no"
        assert form.metrics["lead-conversion"].value == "4"
        assert form.save() == {"added": 0, "updated": 0, "unchanged": 1} and digest(db) == before
        form.fill(date="2026-06-20")  # no assessment of that date: what the boxes hold stays
        assert form.answers["b3b"].value == "partly" and form.metrics["lead-conversion"].value == "4"
    finally:
        opened.forms.close()
