"""The cash-flow report (workbook ``cash_flow``): estimated vs actual, profit,
both ROI conventions, payback, "are we on track?", discounting, and the chart."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from csm_nb.data.results import write_results
from csm_nb.data.store import Store
from csm_nb.errors import InputError
from csm_nb.method import cashflow
from csm_nb.model import Engagement
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.vocabulary import TO_COME, money, money_compact, percent

WORKBOOK = "cash_flow"
TITLE = "Cash flow: estimated and actual"


def applies(engagement: Engagement) -> bool:
    return bool(engagement.cash_flow)


def check_settings(*, headline_roi: str, accuracy_band: float, discount_rate: float | None) -> None:
    """Refuse settings a person could mistype, naming the parameter."""
    if headline_roi not in cashflow.HEADLINES:
        raise InputError(f"parameter headline_roi: expected one of {', '.join(cashflow.HEADLINES)}, got {headline_roi!r}")
    if not isinstance(accuracy_band, (int, float)) or not 0 <= accuracy_band < 1:
        raise InputError(f"parameter accuracy_band: expected a fraction from 0 to under 1 (0.1 for ±10 %), got {accuracy_band!r}")
    if discount_rate is not None and (not isinstance(discount_rate, (int, float)) or discount_rate <= -1 or discount_rate > 10):
        raise InputError(f"parameter discount_rate: expected a rate per period such as 0.01 (1 %), or None; got {discount_rate!r}")


@dataclass
class CashFlowPage:
    engagement: Engagement
    summary: cashflow.CashFlowSummary

    @property
    def currency(self) -> str:
        return self.engagement.currency_code

    def m(self, value: float | None) -> str:
        return money(value, self.currency)

    # -- plain words first ---------------------------------------------
    def verdict(self) -> Html:
        s, e = self.summary, self.engagement
        if not s.lines:
            return callout(
                f"{e.customer} has no cash flow yet. Add a cash-flow table (period, expenditure and revenue, "
                "estimated and actual) to the engagement file and import it again.",
                tone="info", title="Nothing to show yet.",
            )
        label = cashflow.HEADLINE_SHORT[s.headline]
        if s.complete:
            diff = (s.profit_act or 0) - (s.profit_est or 0)
            more_less = "more" if diff >= 0 else "less"
            paid = (
                f"It paid back in {s.period_label(s.payback_index_act)}"
                + (" as estimated." if s.payback_index_act == s.payback_index_est else f" (estimated: {s.period_label(s.payback_index_est) or 'never'}).")
                if s.payback_index_act is not None else "It did not pay back within the plan."
            )
            return callout(
                f"The initiative returned {self.m(s.profit_act)} profit on {self.m(s.totals['expenditure_act'])} spent "
                f"(a {label} of {percent(s.headline_act)}), {self.m(abs(diff))} {more_less} than estimated. {paid}",
                tone="good" if (s.profit_act or 0) >= 0 else "bad", title="Complete.",
            )
        t = s.to_date
        if t is None:
            return callout(
                f"No actual figures yet: this is the estimate. It shows {self.m(s.profit_est)} profit on "
                f"{self.m(s.totals['expenditure_est'])} (a {label} of {percent(s.headline_est)}), paying back in "
                f"{s.period_label(s.payback_index_est) or 'no period of the plan'}.",
                tone="info", title="Estimate only.",
            )
        span = f"{s.periods[0]} to {s.periods[t.last_period]}"
        ratio = percent(t.revenue_ratio) if t.revenue_ratio is not None else "not comparable (no revenue was expected yet)"
        spend = (
            f" Spending is {percent(t.expenditure_ratio)} of the estimate to date."
            if t.expenditure_ratio is not None else ""
        )
        sentence = (
            f"actual revenue to date ({span}) is {ratio} of the estimate to date "
            f"({self.m(t.revenue_act)} against {self.m(t.revenue_est)}).{spend}"
        )
        tone, title = {
            "on_track": ("good", "On track:"),
            "within_band": ("warn", f"Slightly behind, within the estimate's ±{s.accuracy_band:.0%} accuracy:"),
            "behind": ("bad", "Behind:"),
            "not_started": ("info", ""),
        }[s.verdict]
        if t.missing:
            sentence += f" Actuals are missing for {', '.join(s.periods[i] for i in t.missing)}; they count as not known, not as zero."
        return callout(sentence, tone=tone, title=title)

    def headline_figures(self) -> Html:
        s = self.summary
        if not s.lines:
            return Html("")
        first, second = ("return_on_cost", "net_roi") if s.headline == "return_on_cost" else ("net_roi", "return_on_cost")
        ratios = {
            "return_on_cost": (s.return_on_cost_est, s.return_on_cost_act),
            "net_roi": (s.net_roi_est, s.net_roi_act),
        }
        def pair(est: str, act: str) -> str:
            return f"estimated {est}" + (f" · actual {act}" if s.complete else "")
        items = [
            ("Profit", self.m(s.profit_act if s.complete else s.profit_est),
             "actual" + f" (estimated {self.m(s.profit_est)})" if s.complete else "estimated; actual to come"),
            (cashflow.HEADLINES[first], percent(ratios[first][1] if s.complete else ratios[first][0]),
             pair(percent(ratios[first][0]), percent(ratios[first][1]))),
            (cashflow.HEADLINES[second], percent(ratios[second][1] if s.complete else ratios[second][0]),
             pair(percent(ratios[second][0]), percent(ratios[second][1]))),
            ("Payback", (s.period_label(s.payback_index_act) if s.complete else s.period_label(s.payback_index_est)) or "not within the plan",
             pair(s.period_label(s.payback_index_est) or "never", s.period_label(s.payback_index_act) or "never")),
        ]
        if s.discount_rate is not None:
            items.append(("Net present value", self.m(s.npv_est), f"estimated, at {percent(s.discount_rate, decimals=2)} a period"))
        return figures(items)

    # -- numbers second ------------------------------------------------
    def table(self) -> Html:
        s = self.summary
        if not s.lines:
            return Html("")
        rows = []
        for i, line in enumerate(s.lines):
            rows.append([
                line.period,
                self.m(line.expenditure_est), self.m(line.expenditure_act),
                self.m(line.revenue_est), self.m(line.revenue_act),
                self.m(s.net_est[i]), self.m(s.net_act[i]),
                self.m(s.cumulative_est[i]), self.m(s.cumulative_act[i]),
            ])
        t = s.totals
        to_date = s.to_date
        footer = [["Total", self.m(t["expenditure_est"]), self.m(t["expenditure_act"]), self.m(t["revenue_est"]),
                   self.m(t["revenue_act"]), self.m(s.profit_est), self.m(s.profit_act), "", ""]]
        if to_date is not None and not s.complete:
            footer.append([
                f"To date ({s.periods[to_date.last_period]})", self.m(to_date.expenditure_est), self.m(to_date.expenditure_act),
                self.m(to_date.revenue_est), self.m(to_date.revenue_act), self.m(to_date.net_est), self.m(to_date.net_act), "", "",
            ])
        classes = ["payback" if i == s.payback_index_est else ("future" if s.net_act[i] is None else "") for i in range(len(s.lines))]
        columns = ["Period", "Expenditure (est)", "Expenditure (act)", "Revenue (est)", "Revenue (act)",
                   "Net (est)", "Net (act)", "Cumulative (est)", "Cumulative (act)"]
        return section(
            "Period by period",
            table(columns, rows, footer=footer, numeric=[False] + [True] * 8, row_classes=classes, css_class="data periods"),
            paragraph(f"Amounts in {self.currency}. Net cash flow is revenue minus expenditure, so money out shows "
                      f"as negative. “{TO_COME}” marks figures not known yet; they are never counted as zero."),
            intro="Estimated and actual figures side by side; the highlighted row is where the estimate pays back.",
        )

    def chart(self) -> Html:
        s = self.summary
        if not s.lines:
            return Html("")
        markers = []
        if s.payback_fraction_est is not None:
            # Points sit at period ends, so the zero crossing is one period before the elapsed time.
            markers.append(charts.Marker(x=max(s.payback_fraction_est - 1, 0.0), y=0.0, label="estimated payback"))
        svg = charts.line_chart(
            title="Cumulative net cash flow, estimated vs actual",
            x_labels=s.periods,
            series=[
                charts.Series("Estimated", s.cumulative_est, style="dashed"),
                charts.Series("Actual", s.cumulative_act, style="solid"),
            ],
            bands=[charts.Band(f"Estimate ±{s.accuracy_band:.0%}", s.cumulative_est_low, s.cumulative_est_high)] if s.accuracy_band else [],
            markers=markers,
            y_format=lambda v: money_compact(v, self.currency),
            y_label=self.currency,
            caption=(
                "Below zero the initiative has cost more than it has returned so far; the line crossing zero is payback. "
                + (f"The shaded band is the estimate's ±{s.accuracy_band:.0%} accuracy on revenue." if s.accuracy_band else "")
            ),
        )
        return Html(str(svg))

    def forecast(self) -> Html:
        s = self.summary
        if not s.forecasts:
            return Html("")
        f_est, f_pace = s.forecasts["as_estimated"], s.forecasts["at_current_pace"]
        rows = [
            ["Revenue", self.m(s.totals["revenue_est"]), self.m(f_est.revenue), self.m(f_pace.revenue)],
            ["Expenditure", self.m(s.totals["expenditure_est"]), self.m(f_est.expenditure), self.m(f_pace.expenditure)],
            ["Profit", self.m(s.profit_est), self.m(f_est.profit), self.m(f_pace.profit)],
            [cashflow.HEADLINES["return_on_cost"], percent(s.return_on_cost_est), percent(f_est.return_on_cost), percent(f_pace.return_on_cost)],
            [cashflow.HEADLINES["net_roi"], percent(s.net_roi_est), percent(f_est.net_roi), percent(f_pace.net_roi)],
        ]
        pace = s.to_date.revenue_ratio if s.to_date else None
        return section(
            "Forecast at completion",
            table(["", "Original estimate", "If the rest goes as estimated", "If the rest keeps today's pace"], rows,
                  numeric=[False, True, True, True]),
            paragraph(
                "“Today's pace” scales the remaining estimated revenue by actual ÷ estimated revenue to date"
                + (f" ({percent(pace)})" if pace is not None else "")
                + "; remaining costs are taken as estimated."
            ),
        )

    def discounting(self) -> Html:
        s = self.summary
        if s.discount_rate is None or not s.lines:
            return Html("")
        irr_note = (
            "no rate exists: the flows never change sign" if s.irr_est is None else f"{percent(s.irr_est, decimals=2)} a period"
        )
        rows = [
            ["Net present value", self.m(s.npv_est), self.m(s.npv_act) if s.complete else TO_COME],
            ["Internal rate of return", irr_note,
             (percent(s.irr_act, decimals=2) if s.irr_act is not None else "no rate exists") if s.complete else TO_COME],
            ["Discounted payback", s.period_label(s.discounted_payback_est) or "not within the plan",
             (s.period_label(s.discounted_payback_act) or "not within the plan") if s.complete else TO_COME],
        ]
        return section(
            "Discounted cash flow",
            table(["", "Estimated", "Actual"], rows, numeric=[False, True, True]),
            paragraph(f"Discount rate {percent(s.discount_rate, decimals=2)} a period. The first period is today and "
                      "is not discounted; each later period is divided by (1 + rate) for every period that has passed."),
        )

    def roi_note(self) -> Html:
        return paragraph(
            "Two ways to state the return, both shown: return on cost is revenue ÷ cost (132 % means every dollar "
            "came back with 32 cents more); net ROI is profit ÷ cost (the same case is 32 %). "
            f"The headline figure is the {cashflow.HEADLINES[self.summary.headline]}.",
            css_class="note",
        )

    def download(self) -> Html:
        """A self-contained link to the .xlsx with live formulas (no server needed)."""
        from csm_nb.render.xlsx import cash_flow_workbook_bytes

        if not self.summary.lines:
            return Html("")
        data = cash_flow_workbook_bytes(
            self.summary.lines, title=f"{self.engagement.title}: cash flow", currency=self.currency,
            discount_rate=self.summary.discount_rate,
        )
        href = "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + base64.b64encode(data).decode()
        return Html('<p class="download no-print"><a download="{}" href="{}">Download the spreadsheet (.xlsx, with formulas)</a></p>').format(
            f"{self.engagement.id}-cash-flow.xlsx", href
        )

    def results(self) -> dict:
        out = {"workbook": WORKBOOK, "engagement": self.engagement.id, "currency": self.currency}
        out.update(self.summary.results())
        return out

    def save_results(self, path: str | Path | None) -> None:
        """Write the results file when a path is given (headless runs give one)."""
        if path:
            write_results(path, self.results())


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    headline_roi: str = "net_roi",
    accuracy_band: float = 0.10,
    discount_rate: float | None = None,
) -> CashFlowPage:
    """Load the engagement from the store and compute the page."""
    check_settings(headline_roi=headline_roi, accuracy_band=accuracy_band, discount_rate=discount_rate)
    with Store(db or None) as store:
        engagement = store.load(engagement_id)
    return page_for(engagement, headline_roi=headline_roi, accuracy_band=accuracy_band, discount_rate=discount_rate)


def page_for(
    engagement: Engagement, *, headline_roi: str = "net_roi", accuracy_band: float = 0.10, discount_rate: float | None = None
) -> CashFlowPage:
    summary = cashflow.summarise(
        engagement.cash_flow, headline=headline_roi,  # type: ignore[arg-type]
        accuracy_band=float(accuracy_band), discount_rate=None if discount_rate is None else float(discount_rate),
    )
    return CashFlowPage(engagement, summary)
