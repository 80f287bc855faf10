"""The financial chain: scenario figures, accuracy, sensitivity, validation, cash flow from a KPI plan."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.engagement import dump_engagement, parse_engagement, read_engagement
from csm_nb.errors import InputError
from csm_nb.method import linkage
from csm_nb.model import CashFlowLine, Kpi, Measurement

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "employee-engagement.yaml"

SCENARIO = {
    "id": "engagement-to-revenue",
    "kpi": "engagement-score",
    "period": "month",
    "steps": [
        {
            "description": "clients per point",
            "kind": "percent",
            "factor": 0.05,
            "baseline": 1800,
            "unit_in": "points",
            "unit_out": "clients a month",
            "accuracy": 0.2,
        },
        {
            "description": "revenue per client",
            "factor": 375,
            "unit_in": "clients a month",
            "unit_out": "USD a month",
            "accuracy": 0.05,
        },
        {"description": "margin", "kind": "margin", "factor": 0.4, "accuracy": 0.1},
    ],
    "gap": {"step": 1, "run_rate": 1800, "target_per_year": 26000},
}
SCORE = Kpi("engagement-score", unit="points", kind="leading", direction="increase", baseline=6, target=8)


@pytest.fixture
def summary() -> linkage.LinkSummary:
    link = linkage.parse_link(SCENARIO, kpi=SCORE, currency="USD")
    return linkage.summarise(link, kpi=SCORE, gap_fraction=0.5)


# -- the employee-engagement example (examples/employee-engagement.yaml) ---------------------------------------
@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        (lambda s: s.running[0], 90.0),  # +1 point = 5 % of 1,800 = 90 clients a month
        (lambda s: s.revenue_per_period, 33_750.0),
        (lambda s: s.revenue_per_year, 405_000.0),
        (lambda s: s.profit_per_period, 13_500.0),
        (lambda s: s.profit_per_year, 162_000.0),
        (lambda s: s.gap.money_run_rate_per_period, 675_000.0),
        (lambda s: s.gap.money_run_rate_per_year, 8_100_000.0),
        (lambda s: s.gap.money_target_per_year, 9_750_000.0),
        (lambda s: s.gap.money_gap_per_year, 1_650_000.0),
        (lambda s: s.gap.quantity_gap_per_year, 4_400.0),
        (lambda s: s.gap.movement_to_close, 1_650_000 / 405_000),  # 4.074 points
        (lambda s: s.gap.movement_for_fraction, 825_000 / 405_000),  # 2.037 points
        (lambda s: s.target_movement, 2.0),
        (lambda s: s.target_value_per_year, 810_000.0),
        (lambda s: s.target_share_of_gap, 810_000 / 1_650_000),
    ],
)
def test_scenario_figures(summary, figure, expected):
    assert figure(summary) == pytest.approx(expected, rel=1e-12)


def test_half_the_gap_needs_two_point_zero_four_points(summary):
    assert round(summary.gap.movement_for_fraction, 2) == 2.04
    assert round(summary.gap.movement_for_fraction, 3) == 2.037


def test_the_example_file_carries_the_scenario():
    e = read_engagement(EXAMPLE)
    link = linkage.parse_link(e.financial_links[0], kpi=e.kpi("engagement-score"), currency=e.currency)
    s = linkage.summarise(link, kpi=e.kpi("engagement-score"), gap_fraction=0.5)
    assert (s.revenue_per_period, s.revenue_per_year, s.profit_per_year) == (33_750.0, 405_000.0, 162_000.0)
    assert s.gap.money_gap_per_year == 1_650_000.0


def test_results_are_plain_numbers(summary):
    r = linkage.tidy(summary.results())
    assert r["value_per_unit"] == {
        "revenue_per_period": 33750.0,
        "revenue_per_year": 405000.0,
        "profit_per_period": 13500.0,
        "profit_per_year": 162000.0,
        "margin": 0.4,
    }
    assert r["gap"]["money_gap_per_year"] == 1650000.0
    assert r["gap"]["movement_for_fraction"] == pytest.approx(2.037037, abs=1e-6)
    assert [s["value_after"] for s in r["steps"]] == [90.0, 33750.0, 13500.0]


# -- accuracy -----------------------------------------------------------------------------------------------
def test_combined_accuracy_of_the_scenario(summary):
    a = summary.accuracy_revenue
    assert a.likely == pytest.approx(math.sqrt(0.2**2 + 0.05**2))  # 20.6 %
    assert a.worst_high == pytest.approx(1.2 * 1.05 - 1)  # 26 %
    assert a.worst_low == pytest.approx(1 - 0.8 * 0.95)  # 24 %
    assert summary.accuracy_profit.likely == pytest.approx(math.sqrt(0.04 + 0.0025 + 0.01))


accuracies = st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=0.9)), min_size=1, max_size=6)


@given(accuracies)
def test_likely_accuracy_lies_between_the_largest_factor_and_the_worst_case(values):
    a = linkage.combined_accuracy(values)
    known = [v or 0.0 for v in values]
    assert a.likely >= max(known) - 1e-12
    assert a.likely <= sum(known) + 1e-12
    assert a.worst_high >= sum(known) - 1e-9  # compounding only adds
    assert 0 <= a.worst_low <= 1
    assert a.unstated == tuple(i for i, v in enumerate(values, start=1) if v is None)


# -- maths properties -------------------------------------------------------------------------------------------
factors = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)


@given(st.lists(factors, min_size=1, max_size=5), st.sampled_from(["week", "month", "quarter", "year"]))
def test_value_is_the_product_of_the_factors_and_a_year_is_its_periods(values, period):
    link = linkage.parse_link({"id": "x", "period": period, "steps": [{"factor": v} for v in values]})
    s = linkage.summarise(link)
    assert s.revenue_per_period == pytest.approx(math.prod(values), rel=1e-9)
    assert s.revenue_per_year == pytest.approx(
        math.prod(values) * {"week": 52, "month": 12, "quarter": 4, "year": 1}[period], rel=1e-9
    )


@given(
    factors, st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=1e7), st.floats(min_value=0.01, max_value=1)
)
def test_moving_the_kpi_by_the_movement_needed_closes_that_share_of_the_gap(per_client, run_rate, target, fraction):
    link = linkage.parse_link(
        {
            "id": "x",
            "period": "month",
            "steps": [{"kind": "percent", "factor": 0.05, "baseline": 1800}, {"factor": per_client}],
            "gap": {"step": 1, "run_rate": run_rate, "target_per_year": target},
        }
    )
    g = linkage.gap_figures(link, fraction=fraction)
    value = linkage.per_year(linkage.chain_value(link.revenue_steps), 12)
    assert g.movement_for_fraction * value == pytest.approx(max(g.money_gap_per_year, 0) * fraction, rel=1e-9, abs=1e-6)
    assert g.movement_for_fraction >= 0


def test_sensitivity_moves_the_result_by_each_factors_own_accuracy(summary):
    rows = {r.step: r for r in summary.sensitivity}
    assert set(rows) == {1, 2}  # revenue basis: the margin is not a revenue factor
    assert (rows[1].value_low, rows[1].value_high) == (pytest.approx(324_000), pytest.approx(486_000))
    assert (rows[2].value_low, rows[2].value_high) == (pytest.approx(384_750), pytest.approx(425_250))
    for r in rows.values():  # ±10 % on any one factor of a product moves the result ±10 %
        assert (r.value_swing_low, r.value_swing_high) == (pytest.approx(364_500), pytest.approx(445_500))
    # Revenue per client scales the gap and the value alike: the points needed do not move.
    assert rows[2].movement_low == pytest.approx(825_000 / 405_000)
    assert rows[2].movement_high == pytest.approx(825_000 / 405_000)
    # Fewer clients per point means more points needed.
    assert rows[1].movement_low == pytest.approx(825_000 / 324_000)


def test_profit_basis_adds_the_margin_to_the_sensitivity():
    link = linkage.parse_link(SCENARIO, kpi=SCORE, currency="USD")
    s = linkage.summarise(link, basis="profit")
    assert s.value_per_year == 162_000.0
    margin = next(r for r in s.sensitivity if r.step == 3)
    assert (margin.value_low, margin.value_high) == (pytest.approx(145_800), pytest.approx(178_200))


# -- validation: every message names the link (and the step) ----------------------------------------------------
def _link(*steps: dict, **extra) -> dict:
    return {"id": "score-to-revenue", "period": "month", "steps": list(steps), **extra}


@pytest.mark.parametrize(
    ("data", "kpi", "message"),
    [
        (
            _link({"factor": 90}, {"description": "revenue per client", "factor": 0}),
            None,
            "financial link 'score-to-revenue', step 2 (revenue per client): the factor must be above zero, got 0",
        ),
        (_link({"factor": -375}), None, "financial link 'score-to-revenue', step 1: the factor must be above zero, got -375"),
        (
            _link({"kind": "percent", "factor": 0.05}),
            None,
            "financial link 'score-to-revenue', step 1: missing baseline: a percentage needs the amount",
        ),
        (_link({"kind": "percent", "factor": 0.05, "baseline": 0}), None, "step 1: the baseline must be above zero, got 0"),
        (
            _link({"factor": 90, "unit_out": "clients a month"}, {"factor": 375, "unit_in": "orders a month"}),
            None,
            "step 2: unit mismatch: it takes 'orders a month' but step 1 gives 'clients a month'",
        ),
        (
            _link({"factor": 90, "unit_in": "days"}),
            SCORE,
            "step 1: unit mismatch: it takes 'days' but KPI 'engagement-score' is measured in 'points'",
        ),
        (
            _link({"factor": 90, "unit_out": "clients a month"}),
            None,
            "step 1: unit mismatch: the chain must end in money (USD), but it ends in 'clients a month'",
        ),
        (
            _link({"kind": "percent", "factor": 5, "baseline": 1800}),
            None,
            "a percentage is written as a fraction (5 % is 0.05), got 5",
        ),
        (
            _link({"factor": 375}, {"kind": "margin", "factor": 40}),
            None,
            "a margin is a fraction of revenue (40 % is 0.4), got 40",
        ),
        (
            _link({"factor": 375}, {"kind": "margin", "factor": 0.4}, {"factor": 2}),
            None,
            "step 2: a margin turns revenue into profit, so it must be the last step",
        ),
        (_link({"factor": 375, "accuracy": 1.5}), None, "step 1: accuracy is a fraction from 0 to under 1"),
        (_link(), None, "financial link 'score-to-revenue': has no steps"),
        (
            {"id": "score-to-revenue", "period": "sprint", "steps": [{"factor": 2}]},
            None,
            "financial link 'score-to-revenue': period 'sprint' is not a length we know",
        ),
        (
            _link({"factor": 375}, {"kind": "margin", "factor": 0.4}, gap={"step": 2, "run_rate": 1, "target_per_year": 2}),
            None,
            "financial link 'score-to-revenue', gap: step 2 is not a step to revenue",
        ),
        (_link({"factor": 375}, gap={"target_per_year": 2}), None, "financial link 'score-to-revenue', gap: say which step"),
    ],
)
def test_bad_links_are_refused_naming_the_link(data, kpi, message):
    with pytest.raises(InputError) as caught:
        linkage.parse_link(data, kpi=kpi, currency="USD")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (
            "linkage_zero_factor.yaml",
            "line 9: financial_links[0]: financial link 'score-to-revenue', step 2 (revenue per client): the factor must be above zero, "
            "got 0; the chain values one unit of improvement, so every factor is a positive amount",
        ),
        (
            "linkage_missing_baseline.yaml",
            "line 8: financial_links[0]: financial link 'score-to-revenue', step 1 (clients per point): missing baseline: "
            "a percentage needs the amount it is a percentage of (e.g. 1800 clients a month)",
        ),
        (
            "linkage_unit_mismatch.yaml",
            "line 9: financial_links[0]: financial link 'score-to-revenue', step 2 (revenue per order): unit mismatch: "
            "it takes 'orders a month' but step 1 gives 'clients a month'; make the units follow on",
        ),
    ],
)
def test_bad_links_are_refused_on_import_naming_file_line_and_link(fixtures_dir, fixture, message):
    with pytest.raises(InputError) as caught:
        read_engagement(fixtures_dir / fixture)
    assert str(caught.value) == f"{fixtures_dir / fixture}, {message}"


def test_a_half_written_link_still_imports():
    text = (
        "schema: csm-nb/engagement@1\nid: a\ncustomer: A\nkpis:\n  - {id: k}\n"
        "financial_links:\n  - {id: l, kpi: k}\n  - {id: m, kpi: k, steps: [{factor: 2}]}\n"
    )
    assert [x["id"] for x in parse_engagement(text, source="a.yaml").financial_links] == ["l", "m"]


def test_duplicate_link_ids_are_refused():
    text = "schema: csm-nb/engagement@1\nid: a\ncustomer: A\nfinancial_links:\n  - {id: l}\n  - {id: l}\n"
    with pytest.raises(InputError, match=r"line 6: financial_links\[1\].id: id 'l' is already used by financial_links\[0\]"):
        parse_engagement(text, source="a.yaml")


def test_links_round_trip_through_the_engagement_file():
    e = read_engagement(EXAMPLE)
    again = parse_engagement(dump_engagement(e), source="again.yaml")
    assert again.financial_links == e.financial_links
    assert again.financial_links[0]["gap"] == {
        "step": 1,
        "run_rate": 1800.0,
        "target_per_year": 26000.0,
        "source": e.financial_links[0]["gap"]["source"],
    }
    assert [s.get("kind", "multiply") for s in again.financial_links[0]["steps"]] == ["percent", "multiply", "margin"]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("clients a month", "Client per month", True),
        ("clients/month", "clients a month", True),
        ("points", "point", True),
        ("USD a month", "usd per month", True),
        ("clients", "orders", False),
    ],
)
def test_unit_comparison_ignores_case_plurals_and_per(a, b, same):
    assert (linkage.unit_key(a) == linkage.unit_key(b)) is same


# -- into the cash flow ------------------------------------------------------------------------------------------------
def test_generated_cash_flow_of_the_example_matches_a_hand_calculation():
    e = read_engagement(EXAMPLE)
    kpi = e.kpi("engagement-score")
    link = linkage.parse_link(e.financial_links[0], kpi=kpi, currency=e.currency)
    cf = linkage.generated_cash_flow(link, kpi, e.cash_flow, e.measurements)
    # Plan by month: baseline 6, then the milestones 6, 6.5, 7, 7.5, 8, then held at 8.
    plan = [6, 6, 6.5, 7, 7.5, 8, 8, 8, 8, 8, 8, 8]
    hand_est = [(p - 6) * 0.05 * 1800 * 375 for p in plan]
    assert hand_est[:6] == pytest.approx([0, 0, 16_875, 33_750, 50_625, 67_500])
    assert [x.revenue_est for x in cf.lines] == pytest.approx(hand_est)
    # Measured 6, 6.1, 6.4, 6.8 in months 1-4; the rest is not known yet (None), never zero.
    hand_act = [0.0, 0.1 * 33_750, 0.4 * 33_750, 0.8 * 33_750] + [None] * 8
    assert [x.revenue_act for x in cf.lines] == [pytest.approx(v) if v is not None else None for v in hand_act]
    # Expenditure and periods are kept from the engagement's cash flow.
    assert [(x.period, x.expenditure_est) for x in cf.lines] == [(x.period, x.expenditure_est) for x in e.cash_flow]
    # The example's typed business case is exactly the one the outcome generates.
    assert [x.revenue_est for x in cf.lines] == pytest.approx([x.revenue_est for x in e.cash_flow])
    assert sum(x.revenue_est for x in cf.lines) == pytest.approx(573_750)


def test_a_straight_line_plan_without_milestones():
    link = linkage.parse_link({"id": "l", "period": "month", "steps": [{"factor": 90}, {"factor": 375}]})
    kpi = Kpi("score", baseline=6, target=8, direction="increase")
    cf = linkage.generated_cash_flow(link, kpi, [], periods=12)
    assert [x.period for x in cf.lines][:2] == ["Month 1", "Month 2"]
    assert [x.revenue_est for x in cf.lines] == pytest.approx([2 * i / 11 * 33_750 for i in range(12)])
    assert all(x.expenditure_est is None and x.revenue_act is None for x in cf.lines)


def test_a_kpi_that_should_fall_earns_as_it_falls():
    # Order-to-ship time 30 -> 15 days; each day less is worth 1,000 a week.
    link = linkage.parse_link({"id": "l", "period": "week", "steps": [{"factor": 1000}]})
    kpi = Kpi("days", baseline=30, target=15, direction="decrease")
    lines = [CashFlowLine(f"Week {i}", 500, None) for i in range(4)]
    cf = linkage.generated_cash_flow(link, kpi, lines, [Measurement("days", 1, 31), Measurement("days", 2, 22.5)])
    assert [x.revenue_est for x in cf.lines] == pytest.approx([0, 5_000, 10_000, 15_000])
    assert [x.revenue_act for x in cf.lines] == [None, pytest.approx(-1_000), pytest.approx(7_500), None]


def test_a_plan_needs_a_baseline():
    link = linkage.parse_link({"id": "l", "period": "week", "steps": [{"factor": 1000}]})
    with pytest.raises(InputError, match="KPI 'k' has no baseline"):
        linkage.generated_cash_flow(link, Kpi("k", target=3), [], periods=3)
