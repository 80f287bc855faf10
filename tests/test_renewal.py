"""The renewal's arithmetic (csm_nb.method.renewal): the renewal date and the notice deadline, the renewal
base against the pipeline, the value delivered so far, time to reference and the readiness checklist,
with the contract's acceptance numbers (docs/renewal-prep.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ad_campaign
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import cashflow
from csm_nb.method import renewal as rn
from csm_nb.model import CashFlowLine, MomentRecord

D = dt.date
AS_OF = D(2027, 4, 5)

# The employee-engagement example's bill of materials (tests/fixtures/renewal/employee-engagement.yaml).
HELIOS_LINES = [
    {
        "item": "Engagement platform",
        "amount": 180000,
        "revenue": "renewable",
        "term_months": 12,
        "renewal": "expected",
        "timing": "immediate",
    },
    {
        "item": "Manager analytics add-on",
        "amount": 60000,
        "revenue": "renewable",
        "term_months": 12,
        "renewal": "expected",
        "timing": "planned",
    },
]


# -- when the renewal falls ----------------------------------------------------------------------------
def test_the_acceptance_dates_renewal_in_270_days_notice_in_180() -> None:
    renewal, source = rn.renewal_date(contract_end=D(2027, 12, 31), term_start=D(2027, 1, 1), lines=HELIOS_LINES)
    notice = rn.notice_deadline(renewal, 90)
    assert (renewal, source, rn.days_until(renewal, as_of=AS_OF)) == (D(2027, 12, 31), "contract", 270)
    assert (notice, rn.days_until(notice, as_of=AS_OF)) == (D(2027, 10, 2), 180)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2027, 1, 1), 12, D(2027, 12, 31)),  # what a contract end would say
        (D(2027, 3, 15), 6, D(2027, 9, 14)),
        (D(2027, 1, 1), 24, D(2028, 12, 31)),
        (D(2027, 7, 1), 1, D(2027, 7, 31)),
    ],
)
def test_a_term_ends_the_day_before_the_same_day_months_later(start: dt.date, months: int, end: dt.date) -> None:
    assert rn.term_end(start, months) == end


@pytest.mark.parametrize(
    ("end", "start", "lines", "expected"),
    [
        (D(2027, 11, 30), D(2027, 1, 1), HELIOS_LINES, (D(2027, 11, 30), "contract")),  # the contract wins
        (None, D(2027, 1, 1), HELIOS_LINES, (D(2027, 12, 31), "bill_of_materials")),
        (
            None,
            D(2027, 1, 1),
            [*HELIOS_LINES, {"revenue": "renewable", "term_months": 6, "timing": "immediate", "amount": 5}],
            (D(2027, 6, 30), "bill_of_materials"),  # the earliest term
        ),
        (None, D(2027, 1, 1), [{"revenue": "renewable", "term_months": 3, "timing": "planned"}], (None, None)),  # not booked
        (None, D(2027, 1, 1), [{"revenue": "one_off", "term_months": 3}], (None, None)),
        (None, None, HELIOS_LINES, (None, None)),  # no start to count from
    ],
)
def test_the_renewal_date_is_the_contract_end_else_the_first_renewable_term(end, start, lines, expected) -> None:
    assert rn.renewal_date(contract_end=end, term_start=start, lines=lines) == expected


def test_without_a_notice_period_there_is_no_deadline() -> None:
    assert rn.notice_deadline(D(2027, 12, 31), None) is None and rn.notice_deadline(None, 90) is None


@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)), st.integers(0, 400), st.dates(D(2000, 1, 1), D(2090, 12, 31))
)
def test_the_notice_deadline_comes_notice_days_before_the_renewal(renewal: dt.date, notice_days: int, as_of: dt.date) -> None:
    notice = rn.notice_deadline(renewal, notice_days)
    assert rn.days_until(notice, as_of=as_of) == rn.days_until(renewal, as_of=as_of) - notice_days


# -- what renews -------------------------------------------------------------------------------------------
def test_the_acceptance_money_base_180000_pipeline_60000() -> None:
    money = rn.renewal_money(HELIOS_LINES)
    assert (money.base, money.pipeline, money.temporary, money.renewable) == (180000.0, 60000.0, 0.0, 240000.0)
    assert [x["counted_as"] for x in money.lines] == ["base", "pipeline"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ({"revenue": "renewable", "renewal": "expected", "timing": "immediate"}, "base"),
        ({"revenue": "renewable", "renewal": "expected", "timing": "planned"}, "pipeline"),
        ({"revenue": "renewable", "renewal": "temporary", "timing": "planned"}, "pipeline"),  # to book: pipeline
        ({"revenue": "renewable", "renewal": "temporary", "timing": "immediate"}, "temporary"),  # never lost
        ({"revenue": "renewable", "renewal": "temporary"}, "temporary"),
        ({"revenue": "renewable", "renewal": "expected"}, "unclassified"),  # booked when?
        ({"revenue": "renewable", "timing": "immediate"}, "unclassified"),  # renews?
        ({"revenue": "one_off", "renewal": "expected", "timing": "immediate"}, None),
        ({"item": "no revenue said"}, None),
    ],
)
def test_what_each_line_is_at_renewal(line: dict, kind: str | None) -> None:
    assert rn.counted_as(line) == kind


LINE = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False)),
        "revenue": st.sampled_from(["renewable", "one_off"]),
        "renewal": st.sampled_from(["expected", "temporary", None]),
        "timing": st.sampled_from(["immediate", "planned", None]),
    }
)


@given(st.lists(LINE, max_size=12))
def test_the_renewable_amount_splits_into_the_four_figures_without_loss(lines: list[dict]) -> None:
    money = rn.renewal_money(lines)
    renewable = sum(float(x["amount"] or 0) for x in lines if x["revenue"] == "renewable")
    assert money.renewable == pytest.approx(renewable)
    assert min(money.base, money.pipeline, money.temporary, money.unclassified) >= 0
    assert len(money.lines) == sum(1 for x in lines if x["revenue"] == "renewable")


# -- value delivered -----------------------------------------------------------------------------------------
def test_value_to_date_is_the_actuals_so_far_the_employee_engagement_case() -> None:
    lines = [
        CashFlowLine("Month 1", 120000, 120000, 0, 0),
        CashFlowLine("Month 2", 15000, 15000, 0, 0),
        CashFlowLine("Month 3", 15000, 16500, 16875, 11250),
        CashFlowLine("Month 4", 15000, 15000, 33750, 27000),
        CashFlowLine("Month 5", 15000, None, 50625, None),
    ]
    v = rn.value_delivered(cashflow.summarise(lines))
    assert (v.basis, v.through, v.revenue, v.cost, v.profit) == ("to_date", "Month 4", 38250.0, 166500.0, -128250.0)
    assert round(v.net_roi, 4) == -0.7703 and round(v.return_on_cost, 4) == 0.2297


def test_value_once_every_actual_is_in_is_the_cash_flows_actual_profit_and_return() -> None:
    v = rn.value_delivered(cashflow.summarise(ad_campaign()))
    assert (v.basis, v.through, round(v.profit), round(v.net_roi, 3)) == ("complete", "Week 12", 59673, 0.373)


def test_no_actuals_no_value_yet() -> None:
    assert rn.value_delivered(cashflow.summarise(ad_campaign(actual_weeks=0))) is None
    assert rn.value_delivered(None) is None


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"a": "ahead", "b": "on_plan"}, (2, 2, 2)),
        ({"a": "ahead", "b": None}, (1, 1, 2)),
        ({"a": "behind", "b": None}, (0, 1, 2)),
        ({}, (0, 0, 0)),
    ],
)
def test_outcomes_met_are_those_on_plan_or_ahead(statuses: dict, expected: tuple) -> None:
    found = rn.outcomes_met(statuses)
    assert (found["met"], found["measured"], found["total"]) == expected


# -- risks, references, QBR, people -------------------------------------------------------------------------
def test_risks_open_first_then_by_severity_then_by_date_raised() -> None:
    risks = [
        {"id": "lost-high", "status": "lost", "severity": "high"},
        {"id": "open-low", "status": "open", "severity": "low"},
        {"id": "saving-high-late", "status": "saving", "severity": "high", "raised": "2027-03-01"},
        {"id": "unrated", "status": "plan_in_place"},
        {"id": "open-high-early", "status": "open", "severity": "high", "raised": "2027-01-01"},
        {"id": "recovered-medium", "status": "recovered", "severity": "medium"},
    ]
    assert [r["id"] for r in rn.risks_in_order(risks)] == [
        "open-high-early",
        "saving-high-late",
        "open-low",
        "unrated",
        "lost-high",
        "recovered-medium",
    ]
    assert [r["id"] for r in rn.open_high_risks(risks)] == ["saving-high-late", "open-high-early"]


@pytest.mark.parametrize(
    ("references", "as_of", "expected"),
    [
        ([{"date": "2027-03-01"}], D(2027, 6, 1), (59, "on_target")),  # under 60 days
        ([{"date": "2027-03-02"}], D(2027, 6, 1), (60, "late")),
        ([{"date": "2027-05-01"}, {"date": "2027-02-10"}], D(2027, 6, 1), (40, "on_target")),  # the first one
        ([], D(2027, 3, 1), (None, "on_course")),  # 59 days on
        ([], D(2027, 3, 2), (None, "overdue")),  # 60 days on: it can only be late now
        ([{"date": "2027-02-10"}], D(2027, 2, 9), (None, "on_course")),  # dated after as_of: not yet
    ],
)
def test_time_to_reference_against_the_60_day_target(references: list, as_of: dt.date, expected: tuple) -> None:
    ttr = rn.time_to_reference(D(2027, 1, 1), references, target=60, as_of=as_of)
    assert (ttr.days, ttr.status) == expected


def test_no_signature_no_time_to_reference() -> None:
    assert rn.time_to_reference(None, [{"date": "2027-03-01"}], target=60, as_of=AS_OF) is None


def test_the_last_qbr_is_the_latest_held_on_or_before_as_of() -> None:
    log = [
        MomentRecord("qbr", due="2027-01-01", held="2027-01-03"),
        MomentRecord("qbr", due="2027-04-01", held="2027-04-02", status="cancelled"),
        MomentRecord("kickoff", held="2027-03-30"),
        MomentRecord("qbr", due="2027-07-01", held="2027-07-01"),  # after as_of
    ]
    assert rn.last_qbr(log, as_of=AS_OF) == D(2027, 1, 3)
    assert rn.last_qbr([], as_of=AS_OF) is None


@pytest.mark.parametrize(
    ("person", "found"),
    [
        ({"name": "A", "roles": ["sponsor"]}, ["A"]),
        ({"name": "A", "roles": ["sponsor"], "status": "new"}, ["A"]),
        ({"name": "A", "roles": ["sponsor"], "status": "left"}, []),
        ({"name": "A", "roles": ["sponsor"], "side": "ours"}, []),
        ({"name": "A", "roles": ["champion"]}, []),
        ({"name": "A", "role": "Sponsor"}, []),  # a job title is not a role
    ],
)
def test_a_sponsor_in_post_is_the_customers_and_has_not_left(person: dict, found: list) -> None:
    assert rn.in_post([person], "sponsor") == found


# -- readiness ----------------------------------------------------------------------------------------------
def checks(**changed) -> dict[str, rn.Check]:
    """The checklist of an account ready on every count, with ``changed`` facts."""
    facts = {
        "as_of": AS_OF,
        "overall": "on_track",
        "money": "on_track",
        "overall_words": "on track",
        "money_words": "in line with the estimate",
        "sponsors": ["Priya"],
        "champions": ["Tom"],
        "health": 80.0,
        "risks": [],
        "qbr": D(2027, 4, 1),
        "notice": D(2027, 10, 2),
        "commitments": [{"promise": "p", "status": "kept"}],
    } | changed
    return {c.key: c for c in rn.readiness_checks(**facts)}


def test_the_checklist_has_the_eight_checks_in_order_and_all_met_is_ready() -> None:
    found = checks()
    assert list(found) == list(rn.CHECKS) and len(found) == 8
    assert all(c.met for c in found.values()) and rn.readiness(list(found.values())) == 1.0


@pytest.mark.parametrize(
    ("key", "changed", "met", "reason"),
    [
        ("value_documented", {"overall": "off_track"}, False, None),
        ("value_documented", {"money": "behind"}, False, None),
        ("value_documented", {"overall": "attention", "money": "within_band"}, True, None),
        ("value_documented", {"overall": "not_started", "money": None, "money_words": None}, True, None),
        ("sponsor_active", {"sponsors": []}, False, "no sponsor at the customer in post: find one before the renewal"),
        ("champion_active", {"champions": []}, False, "no champion at the customer in post: find one before the renewal"),
        ("health", {"health": 75.0}, True, "health 75.0"),
        ("health", {"health": 74.9}, False, "health 74.9, under 75"),
        ("health", {"health": None}, False, "health not known yet"),
        (
            "no_open_high_risk",
            {"risks": [{"id": "r1", "severity": "high", "status": "saving"}]},
            False,
            "open, high severity: r1",
        ),
        ("no_open_high_risk", {"risks": [{"id": "r1", "severity": "high", "status": "recovered"}]}, True, None),
        ("no_open_high_risk", {"risks": [{"id": "r1", "severity": "medium", "status": "open"}]}, True, None),
        ("qbr_recent", {"qbr": D(2026, 12, 26)}, True, "last held 26 Dec 2026, 100 days before"),
        ("qbr_recent", {"qbr": D(2026, 12, 25)}, False, "last held 25 Dec 2026, 101 days before"),
        ("qbr_recent", {"qbr": None}, False, "no business review held yet"),
        ("notice_not_passed", {"notice": AS_OF}, True, "5 Apr 2027, today"),
        ("notice_not_passed", {"notice": D(2027, 4, 4)}, False, "4 Apr 2027, passed 1 day ago"),
        ("notice_not_passed", {"notice": None}, False, None),
        ("commitments_settled", {"commitments": []}, True, "no commitment on record"),
        (
            "commitments_settled",
            {"commitments": [{"promise": "a", "status": "kept"}, {"promise": "b", "status": "broken"}]},
            True,
            "1 kept, 1 broken and closed",
        ),
        (
            "commitments_settled",
            {"commitments": [{"promise": "Demo by March", "status": "at_risk"}]},
            False,
            "Demo by March: at risk",
        ),
        ("commitments_settled", {"commitments": [{"promise": "Training", "status": "open"}]}, False, "Training: open"),
    ],
)
def test_each_check_met_or_not_with_its_reason(key: str, changed: dict, met: bool, reason: str | None) -> None:
    found = checks(**changed)[key]
    assert found.met is met
    if reason is not None:
        assert found.reason == reason
    others = [c for k, c in checks(**changed).items() if k != key]
    assert all(c.met for c in others)  # one fact moves one check


@given(st.lists(st.booleans(), min_size=8, max_size=8))
def test_readiness_is_the_share_of_checks_met(flags: list[bool]) -> None:
    found = [rn.Check(key, flag, "") for key, flag in zip(rn.CHECKS, flags)]
    assert rn.readiness(found) == sum(flags) / 8
