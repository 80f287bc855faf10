"""Cash-flow maths: pure functions, no I/O.

Units and signs
---------------
Amounts are money in the engagement's currency. Inputs keep expenditure and
revenue as positive amounts; **net cash flow is signed: money out is
negative** (``ncf = revenue - expenditure``). ``None`` means "not known yet"
and is never treated as zero: a net or cumulative figure that depends on an
unknown is itself unknown.

Ratios are fractions (1.325, not 132.5 %). Periods are counted from 0.

Conventions decided here
------------------------
* **Return on cost** = revenue / cost; **net ROI** = profit / cost. Both are
  reported; which one is the headline is a setting (``headline``).
* With **no cost** both ratios are undefined (``None``), not infinite.
* **Payback period**: the first period at whose end cumulative net cash flow
  is at or above zero and stays there for every later known period. A plan
  that ends below zero **never pays back** (``None``).
* **Discounting** uses numpy-financial's timing: the first period is not
  discounted (it is "now"), period *t* is divided by ``(1 + rate) ** t``.
  ``rate`` is per period (use :func:`per_period_rate` for an annual rate).
* **IRR** needs both money out and money in; without a sign change there is
  no rate (numpy-financial returns NaN) and we return ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from csm_nb.frames import cash_flow_frame, cash_flow_lines, pandas
from csm_nb.model import CashFlowLine

if TYPE_CHECKING:
    import pandas as pd

Amount = float | None
Headline = Literal["return_on_cost", "net_roi"]
HEADLINES: dict[str, str] = {
    "return_on_cost": "Return on cost (revenue ÷ cost)",
    "net_roi": "Net ROI (profit ÷ cost)",
}
HEADLINE_SHORT: dict[str, str] = {"return_on_cost": "return on cost", "net_roi": "net ROI"}


def net_cash_flow(expenditure: Sequence[Amount], revenue: Sequence[Amount]) -> list[Amount]:
    """Per-period net cash flow ``revenue - expenditure``; money out is negative.

    >>> net_cash_flow([20000, 20000, 0], [0, 12000, None])
    [-20000.0, -8000.0, None]
    """
    return [None if e is None or r is None else float(r) - float(e) for e, r in zip(expenditure, revenue, strict=True)]


def cumulative(values: Sequence[Amount]) -> list[Amount]:
    """Running total; unknown from the first unknown value onwards.

    >>> cumulative([-20000, -20000, -8000, None, 5000])
    [-20000.0, -40000.0, -48000.0, None, None]
    """
    out: list[Amount] = []
    running: Amount = 0.0
    for v in values:
        running = None if running is None or v is None else running + float(v)
        out.append(running)
    return out


def total(values: Sequence[Amount]) -> Amount:
    """Sum of a column, or ``None`` if any value is unknown.

    >>> total([20000, 20000, 0]), total([1, None])
    (40000.0, None)
    """
    if any(v is None for v in values):
        return None
    return float(math.fsum(values))  # type: ignore[arg-type]


def known_total(values: Sequence[Amount]) -> float:
    """Sum of the known values only (for "to date" figures)."""
    return float(math.fsum(v for v in values if v is not None))


def profit(revenue_total: Amount, cost_total: Amount) -> Amount:
    """Profit = revenue - cost.

    >>> profit(212000, 160000)
    52000.0
    """
    if revenue_total is None or cost_total is None:
        return None
    return float(revenue_total) - float(cost_total)


def return_on_cost(revenue_total: Amount, cost_total: Amount) -> Amount:
    """Revenue ÷ cost, as a fraction; ``None`` when cost is zero or unknown.

    >>> return_on_cost(212000, 160000)
    1.325
    """
    if revenue_total is None or not cost_total:
        return None
    return float(revenue_total) / float(cost_total)


def net_roi(profit_total: Amount, cost_total: Amount) -> Amount:
    """Profit ÷ cost, as a fraction; ``None`` when cost is zero or unknown.

    >>> net_roi(52000, 160000)
    0.325
    """
    if profit_total is None or not cost_total:
        return None
    return float(profit_total) / float(cost_total)


def payback_index(cumulative_ncf: Sequence[Amount]) -> int | None:
    """Index of the payback period (see module docstring), or ``None``.

    Unknown values at the end (periods still to come) are ignored; the answer
    is then "so far".

    >>> payback_index([-20000, -40000, -14000, 8000, 26000])
    3
    >>> payback_index([-5, 1, -2]) is None
    True
    """
    known = [c for c in cumulative_ncf if c is not None]
    if not known or known[-1] < 0:
        return None
    index = len(known) - 1
    while index > 0 and known[index - 1] >= 0:
        index -= 1
    return index


def payback_fraction(cumulative_ncf: Sequence[Amount]) -> float | None:
    """Payback in periods from the start, interpolated: the time at which the cumulative net cash
    flow reaches zero.

    One timing for everything, NPV's (numpy-financial's): the first period is now, time 0, and
    the cash of period *p* counts at time *p*, so the cumulative figure after period *p* stands at
    time *p* (as the chart plots it). The deficit left after period *p - 1* is recovered at an even
    rate until time *p*, so payback comes at ``(p - 1) + deficit / ncf[p]``, inside the payback
    period *p* (which ends at time *p*). In the advertising example 8.64: 64 % of the way from the
    end of Week 8 to the end of Week 9, the payback period.

    >>> round(payback_fraction([-20000, -40000, -14000, 8000]), 4)
    2.6364
    """
    index = payback_index(cumulative_ncf)
    if index is None:
        return None
    if index == 0:
        return 0.0
    before, after = cumulative_ncf[index - 1], cumulative_ncf[index]
    assert before is not None and after is not None
    return (index - 1) + (-before) / (after - before)


def discount_factors(rate: float, periods: int) -> list[float]:
    """``1 / (1 + rate) ** t`` for t = 0 .. periods-1 (first period undiscounted).

    >>> discount_factors(0.1, 3)
    [1.0, 0.9090909090909091, 0.8264462809917354]
    """
    if rate <= -1:
        raise ValueError(f"discount rate must be above -100 %, got {rate:g}")
    return [1.0 / (1.0 + rate) ** t for t in range(periods)]


def npv(rate: float, ncf: Sequence[Amount]) -> Amount:
    """Net present value at ``rate`` per period (numpy-financial timing).

    ``NPV = sum(ncf[t] / (1 + rate) ** t)``; ``None`` if any value is unknown.

    >>> round(npv(0.1, [-100, 60, 60]), 6)
    4.132231
    """
    if any(v is None for v in ncf):
        return None
    import numpy_financial as npf

    return float(npf.npv(rate, [float(v) for v in ncf]))  # type: ignore[arg-type]


def irr(ncf: Sequence[Amount]) -> Amount:
    """Internal rate of return per period; ``None`` when unknown or undefined.

    Undefined when the flows never change sign (all money out, or all money
    in): no rate makes the NPV zero.

    >>> round(irr([-100, 60, 60]), 6)
    0.130662
    >>> irr([100, 50]) is None
    True
    """
    if any(v is None for v in ncf):
        return None
    values = [float(v) for v in ncf]  # type: ignore[arg-type]
    if not (any(v < 0 for v in values) and any(v > 0 for v in values)):
        return None
    import numpy_financial as npf

    result = float(npf.irr(values))
    return None if math.isnan(result) else result


def per_period_rate(annual_rate: float, periods_per_year: int) -> float:
    """The per-period rate equivalent to an annual rate (compounded).

    >>> round(per_period_rate(0.10, 12), 6)
    0.007974
    """
    return (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0


def band(values: Sequence[Amount], fraction: float) -> tuple[list[Amount], list[Amount]]:
    """Low and high bounds ``v * (1 -/+ fraction)`` for an accuracy band.

    >>> band([200.0, None], 0.25)
    ([150.0, None], [250.0, None])
    """
    low = [None if v is None else v * (1 - fraction) for v in values]
    high = [None if v is None else v * (1 + fraction) for v in values]
    return low, high


@dataclass
class ToDate:
    """Actuals so far against the estimate for the same periods."""

    last_period: int  # index of the last period with any actual
    revenue_est: float
    revenue_act: float
    expenditure_est: float
    expenditure_act: float
    missing: list[int] = field(default_factory=list)  # periods inside the span with an actual missing

    @property
    def revenue_ratio(self) -> float | None:
        return self.revenue_act / self.revenue_est if self.revenue_est else None

    @property
    def expenditure_ratio(self) -> float | None:
        return self.expenditure_act / self.expenditure_est if self.expenditure_est else None

    @property
    def net_est(self) -> float:
        return self.revenue_est - self.expenditure_est

    @property
    def net_act(self) -> float:
        return self.revenue_act - self.expenditure_act


def actuals_to_date(lines: Sequence[CashFlowLine]) -> ToDate | None:
    """Actuals so far against the estimate for the same periods.

    The span runs from period 0 to k, the last period with any actual. Each
    side is compared only where its actual is known: revenue over periods with
    an actual revenue, expenditure over periods with an actual expenditure, so
    a week whose cost is booked before its revenue is never read as zero
    revenue. ``None`` when there are no actuals at all.
    """
    with_actuals = [i for i, line in enumerate(lines) if line.revenue_act is not None or line.expenditure_act is not None]
    if not with_actuals:
        return None
    k = with_actuals[-1]
    span = lines[: k + 1]
    revenue_known = [x for x in span if x.revenue_act is not None]
    cost_known = [x for x in span if x.expenditure_act is not None]
    return ToDate(
        last_period=k,
        revenue_est=known_total([x.revenue_est for x in revenue_known]),
        revenue_act=known_total([x.revenue_act for x in revenue_known]),
        expenditure_est=known_total([x.expenditure_est for x in cost_known]),
        expenditure_act=known_total([x.expenditure_act for x in cost_known]),
        missing=[i for i, x in enumerate(span) if x.revenue_act is None or x.expenditure_act is None],
    )


@dataclass
class Forecast:
    """Totals at completion under one assumption about the periods still to come."""

    method: str
    revenue: float
    expenditure: float

    @property
    def profit(self) -> float:
        return self.revenue - self.expenditure

    @property
    def return_on_cost(self) -> float | None:
        return return_on_cost(self.revenue, self.expenditure)

    @property
    def net_roi(self) -> float | None:
        return net_roi(self.profit, self.expenditure)


def forecast_at_completion(lines: Sequence[CashFlowLine], to_date: ToDate) -> dict[str, Forecast]:
    """Two forecasts at completion from the actuals so far.

    * ``as_estimated``: the remaining periods come in exactly as estimated.
    * ``at_current_pace``: remaining revenue scaled by actual ÷ estimated
      revenue to date (costs are kept as estimated: they are known in advance).
    """
    # "Still to come" is every period without an actual, including gaps inside the span.
    rest_revenue = known_total([x.revenue_est for x in lines if x.revenue_act is None])
    rest_cost = known_total([x.expenditure_est for x in lines if x.expenditure_act is None])
    pace = to_date.revenue_ratio if to_date.revenue_ratio is not None else 1.0
    return {
        "as_estimated": Forecast("as_estimated", to_date.revenue_act + rest_revenue, to_date.expenditure_act + rest_cost),
        "at_current_pace": Forecast(
            "at_current_pace", to_date.revenue_act + rest_revenue * pace, to_date.expenditure_act + rest_cost
        ),
    }


Verdict = Literal["on_track", "within_band", "behind", "not_started"]


def on_track_verdict(to_date: ToDate | None, accuracy_band: float) -> Verdict:
    """``on_track`` at or above the estimate to date; ``within_band`` when below it
    but inside the estimate's accuracy band; ``behind`` when further below.

    >>> on_track_verdict(ToDate(7, 121000, 122276, 160000, 160000), 0.1)
    'on_track'
    >>> on_track_verdict(ToDate(7, 100, 95, 0, 0), 0.1), on_track_verdict(ToDate(7, 100, 85, 0, 0), 0.1)
    ('within_band', 'behind')
    """
    if to_date is None:
        return "not_started"
    ratio = to_date.revenue_ratio
    if ratio is None:  # nothing was expected yet: judge on the net position
        return "on_track" if to_date.net_act >= to_date.net_est else "behind"
    if ratio >= 1.0:
        return "on_track"
    return "within_band" if ratio >= 1.0 - accuracy_band else "behind"


@dataclass
class CashFlowSummary:
    """Everything the cash-flow report shows, computed once."""

    periods: list[str]
    lines: list[CashFlowLine]
    net_est: list[Amount]
    net_act: list[Amount]
    cumulative_est: list[Amount]
    cumulative_act: list[Amount]
    cumulative_est_low: list[Amount]
    cumulative_est_high: list[Amount]
    totals: dict[str, Amount]
    profit_est: Amount
    profit_act: Amount
    return_on_cost_est: Amount
    return_on_cost_act: Amount
    net_roi_est: Amount
    net_roi_act: Amount
    payback_index_est: int | None
    payback_index_act: int | None
    payback_fraction_est: float | None
    payback_fraction_act: float | None
    to_date: ToDate | None
    forecasts: dict[str, Forecast]
    verdict: Verdict
    complete: bool
    headline: Headline
    accuracy_band: float
    discount_rate: float | None = None
    npv_est: Amount = None
    npv_act: Amount = None
    irr_est: Amount = None
    irr_act: Amount = None
    discounted_payback_est: int | None = None
    discounted_payback_act: int | None = None

    def period_label(self, index: int | None) -> str | None:
        return None if index is None else self.periods[index]

    def frame(self) -> pd.DataFrame:
        """The period-by-period table as a DataFrame indexed by period: the four input columns, then net and
        cumulative net cash flow, estimated and actual (money out negative; NaN = not known yet).

        >>> from csm_nb.model import CashFlowLine as L
        >>> summarise([L("M0", 100, 100, 0, 0), L("M1", 0, None, 150, None)]).frame()[["net_est", "cumulative_act"]]
                net_est  cumulative_act
        period
        M0       -100.0          -100.0
        M1        150.0             NaN
        """
        table, series = cash_flow_frame(self.lines), pandas().Series
        for name, values in (
            ("net_est", self.net_est),
            ("net_act", self.net_act),
            ("cumulative_est", self.cumulative_est),
            ("cumulative_act", self.cumulative_act),
        ):
            table[name] = series(values, index=table.index, dtype=float)
        return table

    @property
    def headline_est(self) -> Amount:
        return self.return_on_cost_est if self.headline == "return_on_cost" else self.net_roi_est

    @property
    def headline_act(self) -> Amount:
        return self.return_on_cost_act if self.headline == "return_on_cost" else self.net_roi_act

    def results(self) -> dict[str, Any]:
        """The results-file figures: plain numbers in the engagement's currency, ratios as fractions
        (1.325, not "132.5 %"), ``None`` where not known yet."""
        out: dict[str, Any] = {
            "periods": self.periods,
            "complete": self.complete,
            "totals": self.totals,
            "net_cash_flow_est": self.net_est,
            "net_cash_flow_act": self.net_act,
            "cumulative_ncf_est": self.cumulative_est,
            "cumulative_ncf_act": self.cumulative_act,
            "cumulative_ncf_est_low": self.cumulative_est_low,
            "cumulative_ncf_est_high": self.cumulative_est_high,
            "profit_est": self.profit_est,
            "profit_act": self.profit_act,
            "return_on_cost_est": self.return_on_cost_est,
            "return_on_cost_act": self.return_on_cost_act,
            "net_roi_est": self.net_roi_est,
            "net_roi_act": self.net_roi_act,
            "headline_roi": self.headline,
            "payback_period_est": self.period_label(self.payback_index_est),
            "payback_period_act": self.period_label(self.payback_index_act),
            "payback_periods_est": self.payback_fraction_est,
            "payback_periods_act": self.payback_fraction_act,
            "accuracy_band": self.accuracy_band,
            "verdict": self.verdict,
            "to_date": None,
            "forecast_at_completion": {
                name: {
                    "revenue": f.revenue,
                    "expenditure": f.expenditure,
                    "profit": f.profit,
                    "return_on_cost": f.return_on_cost,
                    "net_roi": f.net_roi,
                }
                for name, f in self.forecasts.items()
            },
        }
        if self.to_date is not None:
            t = self.to_date
            out["to_date"] = {
                "last_period": self.periods[t.last_period],
                "revenue_est": t.revenue_est,
                "revenue_act": t.revenue_act,
                "expenditure_est": t.expenditure_est,
                "expenditure_act": t.expenditure_act,
                "revenue_ratio": t.revenue_ratio,
                "missing_periods": [self.periods[i] for i in t.missing],
            }
        if self.discount_rate is not None:
            out.update(
                discount_rate=self.discount_rate,
                npv_est=self.npv_est,
                npv_act=self.npv_act,
                irr_est=self.irr_est,
                irr_act=self.irr_act,
                discounted_payback_period_est=self.period_label(self.discounted_payback_est),
                discounted_payback_period_act=self.period_label(self.discounted_payback_act),
            )
        return out


def summarise(
    lines: Sequence[CashFlowLine] | pd.DataFrame,
    *,
    headline: Headline = "net_roi",
    accuracy_band: float = 0.10,
    discount_rate: float | None = None,
) -> CashFlowSummary:
    """Compute the whole cash-flow report from its lines.

    >>> from csm_nb.model import CashFlowLine as L
    >>> s = summarise([L("M0", 100, 100, 0, 0), L("M1", 0, None, 150, None)])
    >>> s.cumulative_est, s.cumulative_act, s.profit_est, s.profit_act
    ([-100.0, 50.0], [-100.0, None], 50.0, None)
    """
    lines = cash_flow_lines(lines)
    if headline not in HEADLINES:
        raise ValueError(f"headline must be one of {', '.join(HEADLINES)}, got {headline!r}")
    if not 0 <= accuracy_band < 1:
        raise ValueError(f"accuracy band must be a fraction from 0 to under 1 (0.1 for ±10 %), got {accuracy_band!r}")
    exp_est = [x.expenditure_est for x in lines]
    exp_act = [x.expenditure_act for x in lines]
    rev_est = [x.revenue_est for x in lines]
    rev_act = [x.revenue_act for x in lines]
    net_est = net_cash_flow(exp_est, rev_est)
    net_act = net_cash_flow(exp_act, rev_act)
    cum_est, cum_act = cumulative(net_est), cumulative(net_act)
    rev_low, rev_high = band(rev_est, accuracy_band)
    cum_low = cumulative(net_cash_flow(exp_est, rev_low))
    cum_high = cumulative(net_cash_flow(exp_est, rev_high))
    totals = {
        "expenditure_est": total(exp_est),
        "expenditure_act": total(exp_act),
        "revenue_est": total(rev_est),
        "revenue_act": total(rev_act),
    }
    profit_est = profit(totals["revenue_est"], totals["expenditure_est"])
    profit_act = profit(totals["revenue_act"], totals["expenditure_act"])
    to_date = actuals_to_date(lines)
    complete = all(v is not None for v in net_act) and bool(lines)
    summary = CashFlowSummary(
        periods=[x.period for x in lines],
        lines=list(lines),
        net_est=net_est,
        net_act=net_act,
        cumulative_est=cum_est,
        cumulative_act=cum_act,
        cumulative_est_low=cum_low,
        cumulative_est_high=cum_high,
        totals=totals,
        profit_est=profit_est,
        profit_act=profit_act,
        return_on_cost_est=return_on_cost(totals["revenue_est"], totals["expenditure_est"]),
        return_on_cost_act=return_on_cost(totals["revenue_act"], totals["expenditure_act"]),
        net_roi_est=net_roi(profit_est, totals["expenditure_est"]),
        net_roi_act=net_roi(profit_act, totals["expenditure_act"]),
        payback_index_est=payback_index(cum_est),
        payback_index_act=payback_index(cum_act),
        payback_fraction_est=payback_fraction(cum_est),
        payback_fraction_act=payback_fraction(cum_act),
        to_date=to_date,
        forecasts=forecast_at_completion(lines, to_date) if to_date is not None and not complete else {},
        verdict=on_track_verdict(to_date, accuracy_band),
        complete=complete,
        headline=headline,
        accuracy_band=accuracy_band,
    )
    if discount_rate is not None:
        factors = discount_factors(discount_rate, len(lines))
        disc_est = [None if v is None else v * f for v, f in zip(net_est, factors)]
        disc_act = [None if v is None else v * f for v, f in zip(net_act, factors)]
        summary.discount_rate = discount_rate
        summary.npv_est, summary.npv_act = npv(discount_rate, net_est), npv(discount_rate, net_act)
        summary.irr_est, summary.irr_act = irr(net_est), irr(net_act)
        summary.discounted_payback_est = payback_index(cumulative(disc_est))
        summary.discounted_payback_act = payback_index(cumulative(disc_act)) if complete else None
    return summary
