"""Cash-flow maths (csm_nb.method.cashflow): the worked example, edge cases and properties."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from csm_nb.data.results import plain
from csm_nb.method import cashflow as cf
from csm_nb.model import CashFlowLine

# The worked example's figures, written out by hand (not produced by the code).
NCF_EST = [-20000, -20000, -8000, -6000, -2000, 2000, 5000, 10000, 25000, 22000, 18000, 14000, 12000]
NCF_ACT = [-20000, -20000, -10344, -7660, 200, 8400, 4030, 7650, 29900, 18455, 15777, 18765, 14500]
CUM_EST = [-20000, -40000, -48000, -54000, -56000, -54000, -49000, -39000, -14000, 8000, 26000, 40000, 52000]
CUM_ACT_TO_WEEK7 = [-20000, -40000, -50344, -58004, -57804, -49404, -45374, -37724]
CUM_ACT = CUM_ACT_TO_WEEK7 + [-7824, 10631, 26408, 45173, 59673]


def line(period: str, e_est=None, e_act=None, r_est=None, r_act=None) -> CashFlowLine:
    return CashFlowLine(period, e_est, e_act, r_est, r_act)


def lines_from(expenditure: list[float | None], revenue: list[float | None]) -> list[CashFlowLine]:
    """Lines with the same values as estimate and actual."""
    return [line(f"P{i}", e, e, r, r) for i, (e, r) in enumerate(zip(expenditure, revenue))]


# -- the worked example ------------------------------------------------------------
def test_hand_written_tables_agree_with_the_brief():
    # Guard the expectations themselves: the cumulative table is the running sum
    # of the signed net cash flow, and ends at the brief's profit figures.
    assert [sum(NCF_EST[: i + 1]) for i in range(13)] == CUM_EST
    assert [sum(NCF_ACT[: i + 1]) for i in range(13)] == CUM_ACT
    assert CUM_EST[-1] == 52000 and CUM_ACT[-1] == 59673


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (("totals", "expenditure_est"), 160000),
        (("totals", "expenditure_act"), 160000),
        (("totals", "revenue_est"), 212000),
        (("totals", "revenue_act"), 219673),
        (("profit_est",), 52000),
        (("profit_act",), 59673),
        (("return_on_cost_est",), 1.325),
        (("return_on_cost_act",), 219673 / 160000),
        (("net_roi_est",), 0.325),
        (("net_roi_act",), 59673 / 160000),
        (("payback_period_est",), "Week 9"),
        (("payback_period_act",), "Week 9"),
        (("payback_periods_est",), 8 + 14000 / 22000),
        (("payback_periods_act",), 8 + 7824 / 18455),
        (("complete",), True),
        (("verdict",), "on_track"),
        (("to_date", "last_period"), "Week 12"),
        (("to_date", "revenue_act"), 219673),
        (("to_date", "revenue_est"), 212000),
    ],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else None,
)
def test_worked_example_key_figures(ad_campaign_lines, key, expected):
    value = cf.summarise(ad_campaign_lines).results()
    for part in key:
        value = value[part]
    if isinstance(expected, str) or isinstance(expected, bool):
        assert value == expected
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_worked_example_return_on_cost_actual_is_137_3_percent(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines)
    assert round(summary.return_on_cost_act * 100, 1) == 137.3
    assert round(summary.return_on_cost_est * 100, 1) == 132.5


def test_worked_example_signed_net_and_cumulative(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines)
    assert summary.net_est == NCF_EST
    assert summary.net_act == NCF_ACT
    assert summary.cumulative_est == CUM_EST
    assert summary.cumulative_act == CUM_ACT
    assert summary.periods == [f"Week {i}" for i in range(13)]
    # money out is negative: the first weeks are pure spending
    assert summary.net_est[0] < 0 and summary.cumulative_est[7] < 0


def test_worked_example_payback(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines)
    assert summary.payback_index_est == 9
    assert summary.period_label(summary.payback_index_est) == "Week 9"
    assert summary.payback_fraction_est == pytest.approx(8 + 14000 / 22000, rel=1e-12)
    assert round(summary.payback_fraction_est, 2) == 8.64  # during Week 9, whose cash counts at time 9
    assert cf.payback_index(CUM_EST) == 9
    assert cf.payback_fraction(CUM_EST) == pytest.approx(8.636363636, rel=1e-9)


def test_worked_example_no_forecasts_once_complete(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines)
    assert summary.complete is True
    assert summary.forecasts == {}
    assert summary.results()["forecast_at_completion"] == {}


@pytest.mark.parametrize(
    ("headline", "est", "act"),
    [("net_roi", 0.325, 59673 / 160000), ("return_on_cost", 1.325, 219673 / 160000)],
)
def test_headline_selects_the_ratio(ad_campaign_lines, headline, est, act):
    summary = cf.summarise(ad_campaign_lines, headline=headline)
    assert summary.headline_est == pytest.approx(est)
    assert summary.headline_act == pytest.approx(act)
    assert summary.results()["headline_roi"] == headline


@pytest.mark.parametrize(
    "kwargs",
    [{"headline": "roi"}, {"accuracy_band": 1.0}, {"accuracy_band": -0.1}],
)
def test_summarise_refuses_bad_settings(ad_campaign_lines, kwargs):
    with pytest.raises(ValueError):
        cf.summarise(ad_campaign_lines, **kwargs)


# -- actuals only to Week 7 -----------------------------------------------------------
def test_week7_to_date_and_verdict(ad_campaign_week7_lines):
    summary = cf.summarise(ad_campaign_week7_lines)
    t = summary.to_date
    assert t is not None
    assert t.last_period == 7
    assert t.revenue_est == 121000
    assert t.revenue_act == 122276
    assert t.expenditure_est == 160000
    assert t.expenditure_act == 160000
    assert t.missing == []
    assert t.revenue_ratio == pytest.approx(122276 / 121000)
    assert summary.verdict == "on_track"
    results = summary.results()
    assert results["to_date"]["last_period"] == "Week 7"
    assert results["to_date"]["missing_periods"] == []


def test_week7_unknowns_stay_unknown(ad_campaign_week7_lines):
    summary = cf.summarise(ad_campaign_week7_lines)
    assert summary.complete is False
    assert summary.cumulative_act[:8] == CUM_ACT_TO_WEEK7
    assert summary.cumulative_act[8:] == [None] * 5  # Weeks 8-12: not known, not zero
    assert summary.net_act[8:] == [None] * 5
    assert summary.totals["revenue_act"] is None
    assert summary.totals["expenditure_act"] is None
    assert summary.profit_act is None
    assert summary.return_on_cost_act is None
    assert summary.net_roi_act is None
    assert summary.payback_index_act is None  # still below zero at Week 7
    # the estimate side is unaffected
    assert summary.totals["revenue_est"] == 212000
    assert summary.profit_est == 52000


def test_week7_forecasts_at_completion(ad_campaign_week7_lines):
    summary = cf.summarise(ad_campaign_week7_lines)
    as_est = summary.forecasts["as_estimated"]
    pace = summary.forecasts["at_current_pace"]
    assert as_est.revenue == 122276 + 91000
    assert as_est.expenditure == 160000
    assert as_est.profit == 122276 + 91000 - 160000
    assert as_est.return_on_cost == pytest.approx((122276 + 91000) / 160000)
    assert pace.revenue == pytest.approx(122276 + 91000 * 122276 / 121000, rel=1e-12)
    assert pace.expenditure == 160000
    assert pace.net_roi == pytest.approx((122276 + 91000 * 122276 / 121000 - 160000) / 160000)
    forecast = summary.results()["forecast_at_completion"]
    assert set(forecast) == {"as_estimated", "at_current_pace"}
    assert forecast["as_estimated"]["profit"] == 53276


def test_week7_results_survive_json(ad_campaign_week7_lines):
    results = cf.summarise(ad_campaign_week7_lines, discount_rate=0.01).results()
    again = json.loads(json.dumps(plain(results), allow_nan=False))
    assert again["totals"]["revenue_act"] is None
    assert again["cumulative_ncf_act"][8:] == [None] * 5
    assert again["profit_est"] == 52000


def test_missing_actual_inside_the_span_is_reported():
    lines = [line("P0", 10, 10, 100, 100), line("P1", 10, 10, 100, None), line("P2", 10, 10, 100, 100)]
    t = cf.summarise(lines).to_date
    assert t.last_period == 2
    assert t.missing == [1]
    assert cf.summarise(lines).results()["to_date"]["missing_periods"] == ["P1"]


@pytest.mark.parametrize("case", ["gap inside the span", "costs booked before revenue"])
def test_missing_actual_is_not_counted_as_zero_in_the_verdict(ad_campaign_week7_lines, case):
    if case == "gap inside the span":
        lines = [line("P0", 10, 10, 100, 100), line("P1", 10, 10, 100, None), line("P2", 10, 10, 100, 100)]
    else:  # Week 8's (zero) cost is booked, its revenue is not reported yet
        lines = list(ad_campaign_week7_lines)
        lines[8] = dataclasses.replace(lines[8], expenditure_act=0.0)
    summary = cf.summarise(lines)
    assert summary.to_date.revenue_act >= summary.to_date.revenue_est  # like with like: on or above plan
    assert summary.verdict == "on_track"


@pytest.mark.parametrize(
    ("revenue_est", "revenue_act", "band", "expected"),
    [
        (121000, 122276, 0.10, "on_track"),
        (100, 100, 0.10, "on_track"),  # exactly on the estimate
        (100, 95, 0.10, "within_band"),
        (100, 90, 0.10, "within_band"),  # on the band's lower edge
        (100, 89, 0.10, "behind"),
        (100, 95, 0.0, "behind"),  # no band: anything below is behind
        (100, 80, 0.25, "within_band"),
        (100, 75, 0.25, "within_band"),  # on the wider band's lower edge
        (100, 74.9, 0.25, "behind"),
        (100, 0, 0.25, "behind"),
    ],
)
def test_verdict_table(revenue_est, revenue_act, band, expected):
    assert cf.on_track_verdict(cf.ToDate(3, revenue_est, revenue_act, 50, 50), band) == expected


@pytest.mark.parametrize(
    ("to_date", "expected"),
    [
        (None, "not_started"),
        (cf.ToDate(1, 0, 0, 100, 100), "on_track"),  # no revenue expected yet, spent as planned
        (cf.ToDate(1, 0, 0, 100, 120), "behind"),  # overspent before any revenue was due
        (cf.ToDate(1, 0, 10, 100, 100), "on_track"),  # early revenue
    ],
)
def test_verdict_without_expected_revenue(to_date, expected):
    assert cf.on_track_verdict(to_date, 0.1) == expected


def test_no_actuals_means_not_started(ad_campaign_lines):
    lines = [CashFlowLine(x.period, x.expenditure_est, None, x.revenue_est, None) for x in ad_campaign_lines]
    summary = cf.summarise(lines)
    assert summary.to_date is None
    assert summary.verdict == "not_started"
    assert summary.forecasts == {}
    assert summary.results()["to_date"] is None
    assert summary.cumulative_act == [None] * 13


# -- edge cases -----------------------------------------------------------------------------
def test_no_cost_ratios_are_undefined():
    summary = cf.summarise(lines_from([0, 0, 0], [0, 50, 70]))
    assert summary.totals["expenditure_est"] == 0
    assert summary.profit_est == 120
    assert summary.return_on_cost_est is None
    assert summary.return_on_cost_act is None
    assert summary.net_roi_est is None
    assert summary.net_roi_act is None
    assert summary.payback_index_est == 0
    assert summary.payback_fraction_est == 0.0


@pytest.mark.parametrize(
    ("revenue_total", "cost_total", "roc", "roi"),
    [
        (212000, 160000, 1.325, 0.325),
        (0, 100, 0.0, -1.0),
        (50, 100, 0.5, -0.5),
        (100, 0, None, None),
        (None, 100, None, None),
        (100, None, None, None),
    ],
)
def test_ratio_table(revenue_total, cost_total, roc, roi):
    assert cf.return_on_cost(revenue_total, cost_total) == roc
    assert cf.net_roi(cf.profit(revenue_total, cost_total), cost_total) == roi


def test_never_paying_back():
    summary = cf.summarise(lines_from([100, 100, 0], [0, 50, 100]))
    assert summary.cumulative_est == [-100, -150, -50]
    assert summary.payback_index_est is None
    assert summary.payback_fraction_est is None
    assert summary.results()["payback_period_est"] is None
    assert summary.results()["payback_periods_est"] is None


@pytest.mark.parametrize(
    ("cumulative", "index", "fraction"),
    [
        ([-20000, -40000, -14000, 8000, 26000], 3, 2 + 14000 / 22000),
        ([-5, 1, -2], None, None),  # paid back, then fell below again
        ([-10, 5, -1, 3], 3, 2 + 1 / 4),  # the last crossing counts
        ([0, 0, 0], 0, 0.0),
        ([5, 10], 0, 0.0),
        ([-1, 0], 1, 1.0),  # exactly zero counts as paid back, at the end of the period
        ([], None, None),
        ([-10, 5, None, None], 1, 0 + 10 / 15),  # "so far"
        ([-10, -5, None], None, None),
        ([None, None], None, None),
    ],
)
def test_payback_table(cumulative, index, fraction):
    assert cf.payback_index(cumulative) == index
    if fraction is None:
        assert cf.payback_fraction(cumulative) is None
    else:
        assert cf.payback_fraction(cumulative) == pytest.approx(fraction)


def test_accuracy_band_bounds(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines, accuracy_band=0.10)
    expenditure = [20000] * 8 + [0] * 5
    revenue = [0, 0, 12000, 14000, 18000, 22000, 25000, 30000, 25000, 22000, 18000, 14000, 12000]
    low = [sum(revenue[t] * 0.9 - expenditure[t] for t in range(i + 1)) for i in range(13)]
    high = [sum(revenue[t] * 1.1 - expenditure[t] for t in range(i + 1)) for i in range(13)]
    assert summary.cumulative_est_low == pytest.approx(low)
    assert summary.cumulative_est_high == pytest.approx(high)
    assert summary.cumulative_est_low[-1] == pytest.approx(212000 * 0.9 - 160000)  # 30,800
    assert summary.cumulative_est_high[-1] == pytest.approx(212000 * 1.1 - 160000)  # 73,200
    for lo, mid, hi in zip(summary.cumulative_est_low, summary.cumulative_est, summary.cumulative_est_high):
        assert lo <= mid <= hi
    results = summary.results()
    assert results["accuracy_band"] == 0.10
    assert results["cumulative_ncf_est_low"] == summary.cumulative_est_low


def test_zero_band_collapses_onto_the_estimate(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines, accuracy_band=0.0)
    assert summary.cumulative_est_low == CUM_EST
    assert summary.cumulative_est_high == CUM_EST


def test_band_keeps_unknowns():
    assert cf.band([200.0, None, 0.0], 0.25) == ([150.0, None, 0.0], [250.0, None, 0.0])


def test_empty_cash_flow():
    summary = cf.summarise([])
    assert summary.complete is False
    assert summary.verdict == "not_started"
    assert summary.payback_index_est is None
    assert summary.return_on_cost_est is None


# -- discounting: NPV and IRR ------------------------------------------------------------------
def test_npv_small_case_by_hand():
    # -100 + 60/1.1 + 60/1.21 = (-12100 + 6600 + 6000) / 121 = 500/121
    assert cf.npv(0.1, [-100, 60, 60]) == pytest.approx(500 / 121, rel=1e-12)
    assert cf.npv(0.1, [-100, 110]) == pytest.approx(0.0, abs=1e-9)
    assert cf.npv(0.0, [-100, 60, 60]) == pytest.approx(20.0)


def test_irr_small_case_by_hand():
    # 60x + 60x^2 = 100 with x = 1/(1+r): x = (-1 + sqrt(1 + 20/3)) / 2
    x = (-1 + math.sqrt(1 + 20 / 3)) / 2
    assert cf.irr([-100, 60, 60]) == pytest.approx(1 / x - 1, rel=1e-9)
    assert cf.irr([-100, 110]) == pytest.approx(0.10, rel=1e-9)
    assert cf.irr([-100, 0, 121]) == pytest.approx(0.10, rel=1e-9)


@pytest.mark.parametrize("rate", [0.0, 0.001, 0.01, 0.05, 0.2])
def test_worked_example_npv_against_numpy_financial(ad_campaign_lines, rate):
    summary = cf.summarise(ad_campaign_lines, discount_rate=rate)
    by_hand = math.fsum(v / (1 + rate) ** t for t, v in enumerate(NCF_EST))
    assert summary.npv_est == pytest.approx(float(npf.npv(rate, NCF_EST)), rel=1e-12, abs=1e-6)
    assert summary.npv_est == pytest.approx(by_hand, rel=1e-12, abs=1e-6)
    assert summary.npv_act == pytest.approx(float(npf.npv(rate, NCF_ACT)), rel=1e-12, abs=1e-6)


def test_worked_example_irr_against_numpy_financial(ad_campaign_lines):
    summary = cf.summarise(ad_campaign_lines, discount_rate=0.01)
    assert summary.irr_est == pytest.approx(float(npf.irr(NCF_EST)), rel=1e-9)
    assert summary.irr_act == pytest.approx(float(npf.irr(NCF_ACT)), rel=1e-9)
    # and it is a root: the hand-computed NPV at that rate is zero
    at_irr = math.fsum(v / (1 + summary.irr_est) ** t for t, v in enumerate(NCF_EST))
    assert at_irr == pytest.approx(0.0, abs=1e-6)
    assert 0 < summary.irr_est < 1  # profitable, weekly rate well under 100 %


def test_worked_example_results_with_discount_rate(ad_campaign_lines):
    rate = 0.01
    results = cf.summarise(ad_campaign_lines, discount_rate=rate).results()
    assert results["discount_rate"] == rate
    assert results["npv_est"] == pytest.approx(float(npf.npv(rate, NCF_EST)))
    assert results["irr_est"] == pytest.approx(float(npf.irr(NCF_EST)))
    # discounted cumulative: the first week whose discounted running sum stays >= 0
    running, discounted = 0.0, []
    for t, v in enumerate(NCF_EST):
        running += v / (1 + rate) ** t
        discounted.append(running)
    expected_index = next(i for i in range(13) if all(c >= 0 for c in discounted[i:]))
    assert results["discounted_payback_period_est"] == f"Week {expected_index}"
    assert expected_index >= 9  # discounting can only delay payback


def test_week7_npv_and_irr_of_actuals_are_unknown(ad_campaign_week7_lines):
    summary = cf.summarise(ad_campaign_week7_lines, discount_rate=0.01)
    assert summary.npv_act is None
    assert summary.irr_act is None
    assert summary.discounted_payback_act is None
    assert summary.npv_est == pytest.approx(float(npf.npv(0.01, NCF_EST)))


@pytest.mark.parametrize(
    "ncf",
    [[100, 50], [-100, -50], [0, 0], [-100, 0, 0], [], [-100, None, 60]],
)
def test_irr_none_without_a_sign_change_or_with_unknowns(ncf):
    assert cf.irr(ncf) is None


def test_npv_unknown_with_unknowns():
    assert cf.npv(0.1, [-100, None, 60]) is None


@pytest.mark.parametrize("rate", [-1.0, -1.5])
def test_discount_rate_at_or_below_minus_100_percent_is_refused(rate):
    with pytest.raises(ValueError, match="above -100"):
        cf.discount_factors(rate, 3)


def test_per_period_rate_compounds_back_to_the_annual_rate():
    monthly = cf.per_period_rate(0.10, 12)
    assert (1 + monthly) ** 12 == pytest.approx(1.10, rel=1e-12)
    assert cf.per_period_rate(0.0, 52) == 0.0


# -- the results-file contract ---------------------------------------------------------------------
REQUIRED_RESULT_KEYS = {
    "periods",
    "totals",
    "net_cash_flow_est",
    "net_cash_flow_act",
    "cumulative_ncf_est",
    "cumulative_ncf_act",
    "profit_est",
    "profit_act",
    "return_on_cost_est",
    "return_on_cost_act",
    "net_roi_est",
    "net_roi_act",
    "payback_period_est",
    "payback_period_act",
}


def test_results_contract_keys(ad_campaign_lines):
    results = cf.summarise(ad_campaign_lines).results()
    assert REQUIRED_RESULT_KEYS <= results.keys()
    assert set(results["totals"]) == {"expenditure_est", "expenditure_act", "revenue_est", "revenue_act"}
    assert results["periods"] == [f"Week {i}" for i in range(13)]
    assert results["cumulative_ncf_est"] == CUM_EST
    assert results["net_cash_flow_act"] == NCF_ACT


def test_results_contract_keys_with_discount_rate(ad_campaign_lines):
    results = cf.summarise(ad_campaign_lines, discount_rate=0.02).results()
    assert REQUIRED_RESULT_KEYS | {"npv_est", "irr_est", "discount_rate"} <= results.keys()
    assert isinstance(results["npv_est"], float)
    assert isinstance(results["irr_est"], float)


# -- properties ------------------------------------------------------------------------------------------
whole_amounts = st.integers(min_value=0, max_value=10**7).map(float)
maybe_amount = st.one_of(st.none(), whole_amounts)
float_amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def known_lines(draw, amounts=whole_amounts):
    n = draw(st.integers(min_value=1, max_value=30))
    return [CashFlowLine(f"P{i}", draw(amounts), draw(amounts), draw(amounts), draw(amounts)) for i in range(n)]


@settings(deadline=None)
@given(known_lines())
def test_property_cumulative_ends_at_total_profit(lines):
    summary = cf.summarise(lines)
    assert summary.cumulative_est[-1] == summary.profit_est
    assert summary.cumulative_act[-1] == summary.profit_act
    assert summary.complete is True


@settings(deadline=None)
@given(known_lines(float_amounts))
def test_property_cumulative_ends_at_total_profit_for_any_floats(lines):
    summary = cf.summarise(lines)
    scale = sum(x.revenue_est + x.expenditure_est for x in lines) + 1
    assert summary.cumulative_est[-1] == pytest.approx(summary.profit_est, abs=1e-9 * scale)


@settings(deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), max_size=40))
def test_property_npv_at_rate_zero_is_the_plain_sum(ncf):
    assert cf.npv(0.0, ncf) == pytest.approx(math.fsum(ncf), abs=1e-6 * (sum(map(abs, ncf)) + 1))


@settings(deadline=None)
@given(st.lists(st.tuples(maybe_amount, maybe_amount), max_size=30))
def test_property_net_is_unknown_iff_an_input_is(pairs):
    expenditure = [e for e, _ in pairs]
    revenue = [r for _, r in pairs]
    net = cf.net_cash_flow(expenditure, revenue)
    assert len(net) == len(pairs)
    for (e, r), n in zip(pairs, net):
        assert (n is None) == (e is None or r is None)
        if n is not None:
            assert n == r - e


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=-1000, max_value=1000).map(float)), max_size=30))
def test_property_cumulative_unknown_from_the_first_unknown(values):
    out = cf.cumulative(values)
    first_unknown = next((i for i, v in enumerate(values) if v is None), len(values))
    assert all(v is None for v in out[first_unknown:])
    assert out[:first_unknown] == [sum(values[: i + 1]) for i in range(first_unknown)]


@settings(deadline=None)
@given(st.lists(st.integers(min_value=-1000, max_value=1000).map(float), max_size=30), st.integers(0, 5))
def test_property_payback_index_stays_paid_back(ncf, unknown_tail):
    cum = cf.cumulative(ncf) + [None] * unknown_tail
    index = cf.payback_index(cum)
    known = [c for c in cum if c is not None]
    if index is None:
        assert not known or known[-1] < 0
    else:
        assert all(c >= 0 for c in known[index:])
        assert index == 0 or known[index - 1] < 0
        fraction = cf.payback_fraction(cum)
        if index == 0:
            assert fraction == 0.0
        else:  # paid back during period `index`, whose cash counts at time `index` (NPV's timing)
            assert index - 1 < fraction <= index


@settings(deadline=None)
@given(
    st.floats(min_value=0, max_value=1e12, allow_nan=False),
    st.floats(min_value=1e-3, max_value=1e12, allow_nan=False),
)
def test_property_return_on_cost_minus_net_roi_is_one(revenue, cost):
    roc = cf.return_on_cost(revenue, cost)
    roi = cf.net_roi(cf.profit(revenue, cost), cost)
    assert roc - roi == pytest.approx(1.0, rel=1e-9, abs=1e-9 * max(1.0, roc))


@settings(deadline=None)
@given(known_lines(), st.floats(min_value=0, max_value=0.99))
def test_property_band_brackets_the_estimate(lines, fraction):
    summary = cf.summarise(lines, accuracy_band=fraction)
    for lo, mid, hi in zip(summary.cumulative_est_low, summary.cumulative_est, summary.cumulative_est_high):
        assert lo <= mid + 1e-6 and mid <= hi + 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**6),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
)
def test_property_irr_is_a_root_of_npv(outlay, inflows):
    # One outlay then inflows: NPV falls strictly with the rate, so the root is unique.
    assume(sum(inflows) > 0)
    ncf = [-float(outlay)] + [float(v) for v in inflows]
    rate = cf.irr(ncf)
    assert rate is not None and rate > -1
    scale = sum(abs(v) / (1 + rate) ** t for t, v in enumerate(ncf))
    assert abs(cf.npv(rate, ncf)) <= 1e-6 * scale
    if sum(inflows) > outlay * (1 + 1e-6):
        assert rate > 0
    elif sum(inflows) < outlay * (1 - 1e-6):
        assert rate < 0
