"""The renewal preparation page (csm_nb.pages.renewal_prep) on the fixtures read in the test: what it
shows, its results, the health score it takes from the account-health arithmetic, and the customer-safe
value summary that never carries an internal figure."""

from __future__ import annotations

import copy
import datetime as dt
import html as html_text
import types
from pathlib import Path

import pytest
from reading import plain

from csm_nb.data.engagement import read_engagement
from csm_nb.model import Contract, Engagement
from csm_nb.pages import renewal_prep as page_mod

FIXTURES = Path(__file__).parent / "fixtures" / "renewal"
AS_OF = dt.date(2027, 4, 5)
PARTS = (
    "headline",
    "headline_figures",
    "checklist",
    "renewal_money",
    "value_delivered",
    "risks_table",
    "commitments_table",
    "references_table",
    "value_summary",
)


def fixture(name: str = "employee-engagement") -> Engagement:
    return read_engagement(FIXTURES / f"{name}.yaml")


def read(markup: object) -> str:
    """Report HTML as a person reads its text: entities decoded, no-break spaces as spaces."""
    return plain(html_text.unescape(str(markup)))


def render(page: page_mod.RenewalPrepPage, parts: tuple[str, ...] = PARTS) -> str:
    return read("".join(str(getattr(page, p)()) for p in parts))


@pytest.fixture
def health(monkeypatch: pytest.MonkeyPatch):
    """``health(score)``: the account-health arithmetic (csm_nb.method.health.engagement_health) scores any
    engagement ``score`` (``None``: not known yet); returns the calls it was given."""

    def install(score: float | None) -> list:
        calls: list = []

        def engagement_health(engagement, model, *, as_of):
            calls.append((engagement.id, model, as_of))
            return types.SimpleNamespace(score=score, band=None)

        monkeypatch.setattr(page_mod, "engagement_health", engagement_health)
        return calls

    return install


# -- the acceptance engagement ---------------------------------------------------------------------------
def test_the_acceptance_engagement_through_the_page(health) -> None:
    health(None)  # the health is not known yet
    results = page_mod.page_for(fixture(), as_of=AS_OF).results()
    assert (results["renewal_date"], results["renewal_source"], results["days_to_renewal"]) == ("2027-12-31", "contract", 270)
    assert (results["notice_deadline"], results["days_to_notice"], results["notice_days"]) == ("2027-10-02", 180, 90)
    assert (results["renewal_base"], results["expansion_pipeline"], results["temporary"]) == (180000.0, 60000.0, 0.0)
    assert results["value_delivered"]["revenue"] == 38250.0 and results["value_delivered"]["basis"] == "to_date"
    assert results["outcomes"] == {"met": 1, "measured": 1, "total": 2, "ids": ["clients-this-year"]}
    met = {c["key"]: c["met"] for c in results["checks"]}
    assert met == {
        "value_documented": False,  # money below the estimate: 75.6 % of the revenue expected to date
        "sponsor_active": False,  # the file names a sponsor in a job title, not as a role
        "champion_active": False,
        "health": False,
        "no_open_high_risk": True,
        "qbr_recent": False,
        "notice_not_passed": True,
        "commitments_settled": True,
    }
    assert (results["readiness_met"], results["readiness"], results["health"]) == (3, 0.375, None)
    assert results["ttr"] is None  # the contract has no signature date
    html = render(page_mod.page_for(fixture(), as_of=AS_OF))
    assert "Renewal in 270 days." in html and "The renewal falls on 31 Dec 2027 (the contract's end)." in html
    assert "Notice must be given by 2 Oct 2027, in 180 days." in html and "Ready on 3 of 8 checks" in html
    assert "$180,000" in html and "$60,000 more in the pipeline" in html and "health not known yet" in html


def test_the_relationship_fixture_ready_on_four_of_eight(health) -> None:
    health(None)
    page = page_mod.page_for(fixture("helios-renewal"), as_of=AS_OF)
    results = page.results()
    assert [c["key"] for c in results["checks"] if c["met"]] == [
        "sponsor_active",
        "champion_active",
        "qbr_recent",
        "notice_not_passed",
    ]
    assert results["readiness"] == 0.5 and results["open_high_risks"] == ["winter-ratings"] and results["open_risks"] == 2
    assert [r["id"] for r in results["risks"]] == ["winter-ratings", "hr-capacity", "budget-freeze"]  # open first, by severity
    assert results["ttr"] == {"days": 99, "target": 60, "status": "late", "first": "2027-03-10", "elapsed": None}
    reasons = {c["key"]: c["reason"] for c in results["checks"]}
    assert reasons["commitments_settled"] == "A demo of the manager analytics add-on by the end of March: at risk"
    assert reasons["qbr_recent"] == "last held 1 Apr 2027, 4 days before"
    html = render(page)
    assert "The first reference came 99 days after the signature: late (the target is under 60 days)." in html
    assert "2 risks open of 3" in html and "plan in place" in html


# -- health from the account-health arithmetic ------------------------------------------------------------
@pytest.mark.parametrize(
    ("score", "met", "reason"),
    [
        (80.0, True, "health 80.0"),
        (75.0, True, "health 75.0"),
        (74.9, False, "health 74.9, under 75"),
        (None, False, "health not known yet"),
    ],
)
def test_the_health_check_reads_the_account_health_score(health, score, met, reason) -> None:
    calls = health(score)
    results = page_mod.page_for(fixture(), as_of=AS_OF).results()
    check = next(c for c in results["checks"] if c["key"] == "health")
    assert (results["health"], check["met"], check["reason"]) == (score, met, reason)
    assert calls == [("employee-engagement", None, AS_OF)]  # judged at as_of, never the clock


def test_the_health_is_the_account_health_workbooks_own_number() -> None:
    from csm_nb.method.health import engagement_health

    e = fixture("helios-renewal")
    expected = engagement_health(e, None, as_of=AS_OF).score
    assert page_mod.page_for(e, as_of=AS_OF).results()["health"] == expected


# -- what is shown --------------------------------------------------------------------------------------------
def test_renewable_lines_from_the_bill_of_materials_alone_and_the_briefs_corrections() -> None:
    e = fixture()
    e.contract = Contract(start="2027-01-01")  # no end, no notice period
    e.solution = copy.deepcopy(e.solution)
    e.solution["bill_of_materials"].append(
        {
            "item": "Pilot team licences",
            "amount": 12000,
            "revenue": "renewable",
            "term_months": 6,
            "renewal": "temporary",
            "timing": "immediate",
        }
    )
    page = page_mod.page_for(e, as_of=AS_OF)
    results = page.results()
    assert (results["renewal_date"], results["renewal_source"]) == ("2027-06-30", "bill_of_materials")  # the pilot's term
    assert results["notice_deadline"] is None and results["temporary"] == 12000.0
    notice = next(c for c in results["checks"] if c["key"] == "notice_not_passed")
    assert not notice["met"] and "not known" in notice["reason"]
    html = render(page, ("headline", "renewal_money"))
    assert "(the end of the first renewable term)" in html
    assert "$12,000 is meant to be temporary: it is not counted as lost at the renewal." in html
    # The brief's workshop said the add-on is booked now after all: it joins the renewal base.
    e.workshop = {"engagement_brief": {"bom.1.timing": "immediate"}}
    assert page_mod.page_for(e, as_of=AS_OF).results()["renewal_base"] == 240000.0


@pytest.mark.parametrize(
    ("contract", "lines", "applies"),
    [
        (Contract(end="2027-12-31"), [], True),
        (Contract(signed="2026-12-01"), [{"item": "x", "revenue": "renewable"}], True),
        (Contract(signed="2026-12-01"), [{"item": "x", "revenue": "one_off"}], False),
        (None, [], False),
    ],
)
def test_it_applies_to_a_contract_end_or_renewable_lines(contract, lines, applies) -> None:
    e = Engagement("acme", "Acme", contract=contract, solution={"bill_of_materials": lines})
    assert page_mod.applies(e) is applies
    if not lines:  # no renewable line: the money at renewal is not known yet, never zero
        results = page_mod.page_for(e, as_of=AS_OF).results()
        assert results["renewal_base"] is None and results["expansion_pipeline"] is None
    if not applies:
        page = page_mod.page_for(e, as_of=AS_OF)
        assert "Nothing to renew yet." in render(page) and page.results()["renewal_date"] is None


def test_text_from_people_is_escaped() -> None:
    e = fixture("helios-renewal")
    e.risks = [{"id": "xss", "kind": "churn", "status": "open", "description": "<script>alert(1)</script>", "owner": "A & B"}]
    html = str(page_mod.page_for(e, as_of=AS_OF).risks_table())
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "A &amp; B" in html


def test_the_index_headline_comes_from_the_results_alone() -> None:
    results = page_mod.page_for(fixture("helios-renewal"), as_of=AS_OF).results()
    headline = page_mod.RenewalPrepPage.index_headline(results)
    assert headline.figures["days_to_renewal"] == 270 and headline.figures["readiness"] == 0.5
    assert headline.summary == "Renewal in 270 days; ready on 4 of 8 checks."
    assert page_mod.RenewalPrepPage.index_headline({}).figures == {}


# -- the customer-safe value summary --------------------------------------------------------------------------
MARKERS = {
    "risk": "RISK-MARKER-5521",
    "mitigation": "MITIGATION-MARKER-8812",
    "owner": "OWNER-MARKER-3307",
    "commitment": "PROMISE-MARKER-2290",
    "objective": "STAKEHOLDER-OBJECTIVE-MARKER-7743",
    "reference": "REFERENCE-NOTE-MARKER-6604",
}
HEALTH = 41.7


def test_the_value_summary_is_for_the_customer_and_carries_no_internal_figure(health) -> None:
    health(HEALTH)
    e = fixture("helios-renewal")
    e.risks = [
        {
            "id": "r1",
            "kind": "churn",
            "severity": "high",
            "status": "open",
            "description": MARKERS["risk"],
            "mitigation": MARKERS["mitigation"],
            "owner": MARKERS["owner"],
        }
    ]
    e.commitments = [{"promise": MARKERS["commitment"], "status": "at_risk"}]
    e.stakeholders = [dict(s, objectives=[MARKERS["objective"]]) for s in e.stakeholders]
    e.references = [{"date": "2027-03-10", "kind": "case_study", "by": "Priya Raman", "note": MARKERS["reference"]}]
    page = page_mod.page_for(e, as_of=AS_OF)
    internal = render(page, PARTS[:-1])
    for key in ("risk", "mitigation", "owner", "commitment", "reference"):
        assert MARKERS[key] in internal  # the report itself shows them ...
    assert "health 41.7, under 75" in internal
    shared = str(page.value_summary())
    summary = str(page.value_summary_json())
    for text in (shared, summary):  # ... the part for the customer never does
        assert not [m for m in MARKERS.values() if m in text]
        for word in ("41.7", "health", "Health", "risk", "readiness", "Readiness", "of 8", "influence", "support", "pipeline"):
            assert word not in text, word
    assert shared.startswith('<div class="share-with-customer" data-audience="customer">')
    assert "Renewal value summary for Helios Care Services" in shared
    assert "Continues: Engagement platform: pulse surveys and recognition for all staff" in read(shared)
    assert "Adds: Manager analytics add-on" in read(shared)
    assert "Still to reach: Reach 100 % of next year's target" in read(shared)
    assert "Through Month 4 the initiative brought $38,250 against $166,500 spent so far" in read(shared)
    assert page.value_summary_json()["outcomes_met"] == 1
