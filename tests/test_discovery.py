"""Outcome discovery maths: check-my-maths figures, stated-figure checks,
the paraphrase and the documented outcome requirements."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import discovery
from csm_nb.method.discovery import (
    check_stated,
    maths_check,
    outcome_requirements,
    paraphrase,
    projected_year,
    reduced_target,
    shortfall,
    to_validate,
    value_of,
)

# The employee-engagement scenario, as a stakeholder would answer (percentages as typed).
SCENARIO = {
    "desired_change": "higher employee engagement",
    "business_metric": "clients served",
    "metric_unit": "clients",
    "measurement_method": "clients served, in the monthly report to Head Office",
    "measurement_frequency": "monthly",
    "last_year_target": 25000,
    "last_year_actual": 21400,
    "last_year_stated_shortfall_pct": 15,
    "this_year_target": 26000,
    "monthly_run_rate": 1800,
    "stated_shortfall_pct": 20,
    "shortfall_reduction_pct": 50,
    "stated_remaining_shortfall_pct": 10,
    "maths_confirmed": "yes",
    "next_year_goal": "reach 100 % of next year's target",
    "chosen_indicator": "line-manager engagement rating",
    "value_per_unit": 375,
}


# -- the arithmetic, against the figures worked out by hand ----------------------------------
@pytest.mark.parametrize(
    ("target", "projected", "count", "fraction"),
    [
        (25000, 21400, 3600, 0.144),  # last year: "missed by about 15 %"
        (26000, 21600, 4400, 4400 / 26000),  # this year at 1,800 a month: 16.9 %
        (26000, 21400, 4600, 4600 / 26000),  # 21,400 projected: 17.7 %, not 20 %
        (26000, 23800, 2200, 2200 / 26000),  # after halving: 8.5 % left
        (100, 120, -20, -0.2),  # ahead of target: negative shortfall
    ],
)
def test_shortfall_count_and_fraction(target: float, projected: float, count: float, fraction: float) -> None:
    s = shortfall(target, projected)
    assert s.count == count
    assert s.fraction == pytest.approx(fraction)
    assert s.attained == pytest.approx(projected / target)


def test_the_scenario_figures_come_out_exactly() -> None:
    projected = projected_year(1800)
    assert projected == 21600
    this_year = shortfall(26000, projected)
    assert (this_year.count, round(this_year.fraction * 100, 1)) == (4400, 16.9)
    target = reduced_target(26000, projected, reduction=0.5)
    assert target == 23800
    assert round(target / 26000 * 100, 1) == 91.5
    assert value_of(1800, 375) == 675000
    assert value_of(projected, 375) == 8_100_000
    assert value_of(26000, 375) == 9_750_000
    assert value_of(26000, 375) - value_of(projected, 375) == 1_650_000


@pytest.mark.parametrize(
    ("stated", "computed", "tolerance", "agrees"),
    [
        (0.15, 0.144, 0.02, True),  # last year: about 15 % for 14.4 %
        (0.20, 4400 / 26000, 0.02, False),  # this year: about 20 % for 16.9 %
        (0.20, 4600 / 26000, 0.02, False),  # even on last year's actual, 17.7 % is not 20 %
        (0.20, 4600 / 26000, 0.03, True),  # a looser tolerance accepts it
        (0.10, 2200 / 26000, 0.02, True),  # "down to 10 %" for 8.5 %
        (0.10, 0.12, 0.02, True),  # exactly two points apart is within
    ],
)
def test_stated_figures_are_checked_within_the_tolerance(stated: float, computed: float, tolerance: float, agrees: bool) -> None:
    assert check_stated(stated, computed, what="x", tolerance=tolerance).agrees is agrees


def test_a_disagreement_is_said_politely_with_both_numbers() -> None:
    message = check_stated(0.20, 4400 / 26000, what="this year's shortfall").message()
    assert "16.9 %" in message and "20 %" in message
    assert message.startswith("A quick check on this year's shortfall")


def test_maths_check_reads_the_whole_scenario() -> None:
    m = maths_check(SCENARIO)
    assert m.projection_basis == "run_rate"
    assert (m.last_year.count, m.last_year.fraction) == (3600, pytest.approx(0.144))
    assert m.last_year_stated.agrees
    assert (m.this_year.projected, m.this_year.count) == (21600, 4400)
    assert not m.this_year_stated.agrees
    assert m.reduced_target == 23800
    assert m.reduced_shortfall.attained == pytest.approx(23800 / 26000)
    assert m.remaining_stated.agrees
    assert [c.what for c in m.disagreements] == ["this year's shortfall"]
    money = m.money
    assert (money.run_rate_month, money.run_rate_year, money.target_year, money.gap) == (675000, 8_100_000, 9_750_000, 1_650_000)
    assert (money.reduced_target_year, money.gain) == (8_925_000, 825_000)
    assert m.missing == []
    said = " ".join(m.statements("USD"))
    for figure in ("21,600", "4,400", "16.9 %", "23,800", "91.5 %", "$675,000", "$8,100,000", "$9,750,000", "$1,650,000"):
        assert figure in said


def test_without_a_run_rate_last_years_actual_is_the_projection_and_it_says_so() -> None:
    answers = {k: v for k, v in SCENARIO.items() if k != "monthly_run_rate"}
    m = maths_check(answers)
    assert m.projection_basis == "last_year_actual"
    assert (m.this_year.projected, m.this_year.count) == (21400, 4600)
    assert "the current monthly run rate" in m.missing
    assert m.money.run_rate_month is None
    assert "If this year repeats last year" in " ".join(m.statements())


def test_a_profit_view_applies_the_margin() -> None:
    m = maths_check({**SCENARIO, "margin_pct": 40})
    assert m.money.gap == pytest.approx(1_650_000 * 0.4)
    assert m.results()["money"]["margin"] == pytest.approx(0.4)


def test_nothing_answered_gives_no_figures_and_lists_what_is_needed() -> None:
    m = maths_check({})
    assert m.this_year is None and m.money is None and m.statements() == []
    assert "this year's target" in m.missing


def test_results_are_plain_fractions_and_numbers() -> None:
    r = maths_check(SCENARIO).results()
    assert r["this_year"]["fraction"] == pytest.approx(0.16923, abs=1e-5)
    assert r["shortfall_reduction"] == 0.5
    assert r["reduced_target_fraction_of_target"] == pytest.approx(0.91538, abs=1e-5)
    assert r["this_year_stated"] == {"stated": 0.2, "computed": pytest.approx(4400 / 26000), "agrees": False}


# -- properties ---------------------------------------------------------------------------------------
counts = st.floats(min_value=1, max_value=1e7, allow_nan=False, allow_infinity=False)


@given(target=counts, projected=st.floats(min_value=0, max_value=1e7), reduction=st.floats(min_value=0, max_value=1))
def test_reducing_the_shortfall_lands_between_projection_and_target(target: float, projected: float, reduction: float) -> None:
    reached = reduced_target(target, projected, reduction=reduction)
    low, high = sorted((projected, target))
    assert low - 1e-6 * high <= reached <= high + 1e-6 * high
    left = shortfall(target, reached)
    assert math.isclose(left.count, (1 - reduction) * (target - projected), rel_tol=1e-9, abs_tol=1e-6)


@given(target=counts, projected=st.floats(min_value=0, max_value=1e7), value=st.floats(min_value=0, max_value=1e4))
def test_the_money_gap_is_the_shortfall_times_the_value(target: float, projected: float, value: float) -> None:
    gap = value_of(target, value) - value_of(projected, value)
    assert math.isclose(gap, shortfall(target, projected).count * value, rel_tol=1e-9, abs_tol=1e-3)


@given(
    stated=st.floats(min_value=0, max_value=1),
    computed=st.floats(min_value=0, max_value=1),
    tolerance=st.floats(min_value=0, max_value=0.2),
)
def test_agreement_is_symmetric_and_monotone_in_tolerance(stated: float, computed: float, tolerance: float) -> None:
    a = check_stated(stated, computed, what="x", tolerance=tolerance).agrees
    assert a == check_stated(computed, stated, what="x", tolerance=tolerance).agrees
    if a:
        assert check_stated(stated, computed, what="x", tolerance=tolerance + 0.01).agrees


@pytest.mark.parametrize("bad", [{"target": 0, "projected": 1}, {"target": -5, "projected": 1}])
def test_a_target_must_be_above_zero(bad: dict) -> None:
    with pytest.raises(ValueError, match="above zero"):
        shortfall(**bad)


# -- the paraphrase -----------------------------------------------------------------------------------
PARTS = [
    "{desired_change} matters ({importance}) to the organisation",
    "it should lead to this: {impact}",
    "an agreed target: {has_target}",
]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, None),
        ({"desired_change": "higher engagement"}, None),  # the first fragment needs both keys
        (
            {"desired_change": "higher engagement", "importance": "critical"},
            "So, if I have this right: higher engagement matters (critical) to the organisation. Is that right?",
        ),
        (
            {
                "desired_change": "higher engagement",
                "importance": "critical",
                "impact": "more clients served.",
                "has_target": "not yet",
            },
            "So, if I have this right: higher engagement matters (critical) to the organisation, it should lead to "
            "this: more clients served, and an agreed target: not yet. Is that right?",
        ),
    ],
)
def test_paraphrase_uses_only_fully_answered_fragments(answers: dict, expected: str | None) -> None:
    assert paraphrase(PARTS, answers) == expected


# -- documented outcomes ------------------------------------------------------------------------------
def test_the_scenario_documents_three_outcome_requirements() -> None:
    outcomes = {o.id: o for o in outcome_requirements(SCENARIO)}
    assert list(outcomes) == ["this-year", "next-year", "immediate"]
    primary = outcomes["this-year"]
    assert (primary.status, primary.priority) == ("stated", "primary")
    assert primary.quantity == "23,800 clients in the year (91.5 % of target; shortfall 2,200 instead of 4,400)"
    assert primary.measurement == "clients served, in the monthly report to Head Office (monthly)"
    assert (outcomes["next-year"].status, outcomes["next-year"].priority) == ("assumed", "secondary")
    assert outcomes["immediate"].description == "Higher employee engagement"
    assert outcomes["immediate"].measurement == "line-manager engagement rating"


def test_the_csm_marks_override_the_defaults_and_assumed_ones_are_to_validate() -> None:
    answers = {**SCENARIO, "maths_confirmed": "no", "outcome.next-year.status": "stated", "outcome.immediate.priority": "primary"}
    outcomes = {o.id: o for o in outcome_requirements(answers)}
    assert outcomes["this-year"].status == "assumed"  # maths not confirmed
    assert outcomes["next-year"].status == "stated"
    assert outcomes["immediate"].priority == "primary"
    todo = to_validate(list(outcomes.values()))
    assert any(item.startswith("Raise clients served this year") and "assumed" in item for item in todo)
    assert not any(item.startswith("Next year") and "assumed" in item for item in todo)


def test_a_bad_mark_is_ignored_not_stored() -> None:
    outcomes = outcome_requirements({**SCENARIO, "outcome.this-year.status": "maybe"})
    assert outcomes[0].status == "stated"


def test_module_constants() -> None:
    assert discovery.DEFAULT_TOLERANCE == 0.02
    assert discovery.MONTHS_PER_YEAR == 12
