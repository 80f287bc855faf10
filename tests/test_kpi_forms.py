"""The KPI workshop and linkage forms, driven the way a person would (no browser), against a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from csm_nb.data.engagement import read_engagement
from csm_nb.data.store import Store
from csm_nb.pages.financial_linkage import FinancialLinkagePage
from csm_nb.pages.kpi_workshop import KpiWorkshopPage

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "employee-engagement.yaml"
EID = "employee-engagement"


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store holding the employee-engagement example."""
    path = tmp_path / "forms.sqlite"
    with Store(path) as store:
        store.save(read_engagement(EXAMPLE), summary="imported")
    return str(path)


def answers(db: str, workbook: str = "kpi_workshop") -> dict:
    with Store(db) as store:
        return {k: a.value for k, a in store.answers(EID, workbook).items()}


# -- KPI workshop -------------------------------------------------------------------------------------
def test_the_form_shows_the_saved_ranking(db):
    form = KpiWorkshopPage.form(EID, db=db)
    html = form.ranking_html.value
    assert (
        html.index("Line-manager engagement rating") < html.index("Monthly pulse survey") < html.index("Annual job-satisfaction")
    )
    assert [form.sliders[c].value for c in ("link", "warning", "frequency")] == [3, 2, 2]
    assert {cid for cid, box in form.shortlist_boxes.items() if box.value} == {"clients-served", "engagement-score"}


def test_a_new_candidate_is_checked_and_saved_at_once(db):
    form = KpiWorkshopPage.form(EID, db=db)
    for name, value in {
        "name": "Staff absence days",
        "outcome": "clients-this-year",
        "frequency": "monthly",
        "lead_time_months": "3",
        "effort": "low",
        "baseline": "4.2",
        "direction": "decrease",
        "approvals": "HR, Works council",
    }.items():
        form.inputs[name].value = value
    form.save_button.click()
    assert form.message() == "Saved Staff absence days."
    saved = answers(db)["candidate.staff-absence-days"]
    assert saved == {
        "id": "staff-absence-days",
        "name": "Staff absence days",
        "outcome": "clients-this-year",
        "kind": "leading",
        "frequency": "monthly",
        "lead_time_months": 3.0,
        "approvals": ["HR", "Works council"],
        "effort": "low",
        "direction": "decrease",
        "baseline": 4.2,
    }
    assert "Staff absence days" in form.ranking_html.value
    assert form.picker.value == "staff-absence-days"


def test_a_bad_candidate_is_refused_and_nothing_is_saved(db):
    form = KpiWorkshopPage.form(EID, db=db)
    before = answers(db)
    assert form.save_candidate({"name": "Pulse", "baseline": "about six"}) is None
    assert form.message().startswith("Not saved: Baseline: expected a number")
    assert form.save_candidate({"frequency": "monthly"}) is None
    assert "the candidate needs a name" in form.message()
    assert answers(db) == before


def test_moving_a_weight_reranks_and_saves(db):
    form = KpiWorkshopPage.form(EID, db=db)
    for cid in ("link", "frequency", "effort", "approvals", "ready"):
        form.sliders[cid].value = 0
    form.sliders["warning"].value = 5
    assert answers(db)["weights"] == {"link": 0, "warning": 5, "frequency": 0, "effort": 0, "approvals": 0, "ready": 0}
    html = form.ranking_html.value
    assert html.index("Annual job-satisfaction") < html.index("Monthly pulse survey")
    assert [s.candidate.id for s in form.state.ranking] == ["annual-survey", "engagement-score", "pulse-survey"]


def test_all_weights_zero_is_refused_and_the_slider_springs_back(db):
    form = KpiWorkshopPage.form(EID, db=db)
    for cid in ("link", "warning", "frequency", "effort", "approvals"):
        form.set_weight(cid, 0)
    form.sliders["ready"].value = 0
    assert "every weight is 0" in form.message()
    assert form.sliders["ready"].value == 1
    assert answers(db)["weights"]["ready"] == 1


def test_a_colleagues_change_is_not_overwritten(db):
    mine = KpiWorkshopPage.form(EID, db=db)
    theirs = KpiWorkshopPage.form(EID, db=db, author="colleague")
    theirs.set_weight("effort", 4)
    mine.set_weight("effort", 2)
    assert mine.message().startswith("Not saved: 'weights' was changed by colleague")
    assert answers(db)["weights"]["effort"] == 4
    assert mine.sliders["effort"].value == 4  # the form now shows what is saved
    mine.set_weight("effort", 2)  # and a second try, on top of theirs, saves
    assert answers(db)["weights"]["effort"] == 2


def test_the_shortlist_goes_into_the_register(db):
    form = KpiWorkshopPage.form(EID, db=db)
    form.shortlist_boxes["pulse-survey"].value = True
    assert answers(db)["shortlist"] == ["clients-served", "engagement-score", "pulse-survey"]
    form.adopt_button.click()
    assert form.message() == "The KPI register now holds 3 KPIs."
    with Store(db) as store:
        e = store.load(EID)
    pulse = e.kpi("pulse-survey")
    assert (pulse.kind, pulse.outcome, pulse.frequency) == ("leading", "clients-this-year", "monthly")
    assert e.kpi("engagement-score").milestones == {1: 6.0, 2: 6.5, 3: 7.0, 4: 7.5, 5: 8.0}
    assert "Monthly pulse survey" in form.register_html.value
    form.set_weight("effort", 3)  # answers were renumbered by the save; the form carries on without a false conflict
    assert answers(db)["weights"]["effort"] == 3


def test_a_shortlist_of_one_is_not_put_in_the_register(db):
    form = KpiWorkshopPage.form(EID, db=db)
    form.shortlist_boxes["clients-served"].value = False
    assert form.message() == "Shortlist: 1 KPI (choose 2 to 5)."
    assert form.adopt_shortlist() is False
    assert "the shortlist has 1 KPI; choose 2 to 5" in form.message()
    with Store(db) as store:
        assert [k.id for k in store.load(EID).kpis] == ["clients-served", "engagement-score"]


def test_removing_a_candidate_takes_it_off_the_shortlist(db):
    form = KpiWorkshopPage.form(EID, db=db)
    form.picker.value = "engagement-score"
    assert form.inputs["name"].value == "Line-manager engagement rating (0-10)"
    assert form.inputs["approvals"].value == "HR"
    form.remove_button.click()
    saved = answers(db)
    assert saved["candidate.engagement-score"] is None
    assert saved["shortlist"] == ["clients-served"]
    assert "engagement-score" not in {c.id for c in form.state.candidates}


# -- linkage ----------------------------------------------------------------------------------------------
def test_changing_a_factor_recomputes_and_saves_a_draft(db):
    form = FinancialLinkagePage.form(EID, db=db)
    assert form.summary.revenue_per_year == 405_000.0
    assert "$405,000" in form.output.value and "2.04 points" in form.output.value
    form.boxes[("steps", 1, "factor")].value = "400"  # $400 a client instead of $375
    assert form.message() == "Draft saved."
    assert form.summary.revenue_per_year == pytest.approx(90 * 400 * 12)
    assert "$432,000" in form.output.value
    draft = answers(db, "financial_linkage")["link.engagement-to-revenue"]
    assert draft["steps"][1]["factor"] == 400.0
    form.set_factor(1, "6")  # percent steps are typed as percentages: 6 %
    assert form.summary.running[0] == pytest.approx(108)
    with Store(db) as store:  # the agreed chain is untouched until it is agreed
        assert store.load(EID).financial_links[0]["steps"][1]["factor"] == 375.0


def test_a_zero_factor_is_refused_naming_the_link(db):
    form = FinancialLinkagePage.form(EID, db=db)
    form.set_factor(2, "0")
    assert form.message() == (
        "Not saved: financial link 'engagement-to-revenue', step 2 (average revenue per client served): the factor must "
        "be above zero, got 0; the chain values one unit of improvement, so every factor is a positive amount"
    )
    assert form.link["steps"][1]["factor"] == 375.0  # the chain keeps its last good value
    assert form.summary.revenue_per_year == 405_000.0
    assert "link.engagement-to-revenue" not in answers(db, "financial_linkage")


def test_agreeing_writes_the_chain_into_the_engagement(db):
    form = FinancialLinkagePage.form(EID, db=db)
    form.set_value(("steps", 0, "accuracy"), "10")
    form.agree_button.click()
    assert form.message() == "The chain is agreed and saved in the engagement."
    with Store(db) as store:
        link = store.load(EID).financial_links[0]
    assert link["steps"][0]["accuracy"] == pytest.approx(0.1)
    form.set_value(("gap", "target_per_year"), "27000")  # carries on after the save without a false conflict
    assert form.message() == "Draft saved."


def test_agreeing_is_refused_when_someone_changed_the_link_meanwhile(db):
    form = FinancialLinkagePage.form(EID, db=db)
    other = FinancialLinkagePage.form(EID, db=db, author="colleague")
    other.set_factor(2, "380")
    assert other.agree()
    form.set_value(("steps", 1, "accuracy"), "2")  # the draft conflicts too: the colleague saved it first
    assert "was changed by colleague" in form.message()
    assert form.agree() is False
    assert "financial link 'engagement-to-revenue' was changed or removed by colleague" in form.message()
    with Store(db) as store:
        assert store.load(EID).financial_links[0]["steps"][1]["factor"] == 380.0


def test_a_draft_left_behind_is_restored(db):
    first = FinancialLinkagePage.form(EID, db=db)
    first.set_factor(2, "390")
    again = FinancialLinkagePage.form(EID, db=db)
    assert again.link["steps"][1]["factor"] == 390.0
    assert again.message().startswith("A draft saved by")
    assert again.boxes[("steps", 1, "factor")].value == "390"


# -- saving under real use ---------------------------------------------------------------------------------
def draft_in_file(db: str) -> tuple:
    """The linkage draft (factor of step 2, revision) as the SQLite file holds it, read without the package."""
    import json
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as con:
        row = con.execute(
            "SELECT value, revision FROM answer WHERE workbook = 'financial_linkage' AND key = ?", ("link.engagement-to-revenue",)
        ).fetchone()
    return (json.loads(row[0])["steps"][1]["factor"], row[1]) if row else (None, 0)


def test_the_same_factor_typed_three_times_then_wrong_then_right_and_reopening_shows_the_latest(db) -> None:
    import threading

    form = FinancialLinkagePage.form(EID, db=db)
    box = form.boxes[("steps", 1, "factor")]
    for raw, revision in (("380", 1), ("390", 2), ("400", 3)):
        worker = threading.Thread(target=lambda r=raw: setattr(box, "value", r))  # kernels deliver on any thread
        worker.start()
        worker.join()
        assert (form.message(), draft_in_file(db)) == ("Draft saved.", (float(raw), revision))
    box.value = "abc"
    assert form.message().startswith("Not saved: step 2 factor: expected a number") and draft_in_file(db) == (400.0, 3)
    box.value = "410"
    assert (form.message(), draft_in_file(db)) == ("Draft saved.", (410.0, 4))
    again = FinancialLinkagePage.form(EID, db=db)
    assert again.boxes[("steps", 1, "factor")].value == "410" and again.link["steps"][1]["factor"] == 410.0


def test_a_busy_store_keeps_the_change_for_retry_in_the_linkage_form(db, hold_write_lock, monkeypatch) -> None:
    from csm_nb.forms import widgets as forms

    monkeypatch.setattr(forms, "SAVE_WAIT_SECONDS", 0.3)
    form = FinancialLinkagePage.form(EID, db=db)
    holder = hold_write_lock(Path(db))
    form.set_factor(2, "420")
    assert form.message().startswith(f"Not saved: the store is busy (held by pid {holder.pid} ")
    assert form.message().endswith("press Retry") and form.status.retry_button.layout.display == ""
    assert form.link["steps"][1]["factor"] == 420.0 and "$453,600" in form.output.value  # the figures follow the box
    assert draft_in_file(db) == (None, 0)
    holder.release()
    form.status.retry_button.click()
    assert (form.message(), draft_in_file(db)) == ("Draft saved.", (420.0, 1))
    assert form.status.retry_button.layout.display == "none"


def test_a_busy_store_keeps_the_weight_for_retry_in_the_kpi_form(db, hold_write_lock, monkeypatch) -> None:
    from csm_nb.forms import widgets as forms

    monkeypatch.setattr(forms, "SAVE_WAIT_SECONDS", 0.3)
    form = KpiWorkshopPage.form(EID, db=db)
    criterion = next(iter(form.sliders))
    before = answers(db).get("weights")
    holder = hold_write_lock(Path(db))
    form.sliders[criterion].value = 0 if form.state.weights[criterion] else 1
    wanted = form.sliders[criterion].value
    assert form.message().startswith("Not saved: the store is busy") and answers(db).get("weights") == before
    holder.release()
    form.status.retry_button.click()
    assert answers(db)["weights"][criterion] == wanted and "set to" in form.message()


def test_a_bug_in_a_kpi_form_handler_is_shown_not_only_logged(db, monkeypatch) -> None:
    form = KpiWorkshopPage.form(EID, db=db)
    monkeypatch.setattr(form.saver.store, "save_answer", lambda *a, **k: {}["boom"])
    form.sliders[next(iter(form.sliders))].value = 1
    assert form.message().startswith("Not saved: an unexpected problem (KeyError: 'boom')")
