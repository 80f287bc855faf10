"""The cash-flow report (workbook ``cash_flow``): estimated vs actual, profit,
both ROI conventions, payback, "are we on track?", discounting, and the chart."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csm_nb import config
from csm_nb.data.checks import setting_choice, setting_in_range
from csm_nb.data.store import Store
from csm_nb.frames import known
from csm_nb.method import cashflow
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, engagement_verdicts, money_figures, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import (
    MONEY_VERDICTS,
    NOT_KNOWN,
    money,
    money_compact,
    percent,
)

if TYPE_CHECKING:
    import pandas as pd

WORKBOOK = "cash_flow"
TITLE = "Cash flow: estimated and actual"


def applies(engagement: Engagement) -> bool:
    return bool(engagement.cash_flow)


def check_settings(*, headline_roi: str, accuracy_band: float, discount_rate: float | None) -> None:
    """Refuse settings a person could mistype, naming the parameter."""
    setting_choice(headline_roi, name="headline_roi", options=cashflow.HEADLINES)
    setting_in_range(
        accuracy_band,
        name="accuracy_band",
        low=0,
        high=1,
        high_open=True,
        expected="a fraction from 0 to under 1 (0.1 for ±10 %)",
    )
    setting_in_range(
        discount_rate,
        name="discount_rate",
        low=-1,
        low_open=True,
        high=10,
        optional=True,
        expected="a rate per period such as 0.01 (1 %), or None",
    )


@dataclass
class CashFlowPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """Profit, return and payback, the engagement's overall verdict (untagged), and one line for the engagement index."""
        summary = ""
        if results:
            complete = results.get("complete")
            profit = results.get("profit_act") if complete else results.get("profit_est")
            verdict = results.get("verdict")
            known = MONEY_VERDICTS.get(verdict) if isinstance(verdict, str) else None
            summary = (
                (f"Money {known.in_sentence}. " if known and verdict != "not_started" else "")
                + f"{'Profit' if complete else 'Estimated profit'} {money(profit, currency)}; "
                f"payback {results.get('payback_period_est') or 'not within the plan'} (estimated)."
            )
        return overall_headline(results, figures=money_figures(results), summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> CashFlowPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    summary: cashflow.CashFlowSummary

    @property
    def cash_flow(self) -> pd.DataFrame:
        """The period-by-period table as a pandas DataFrame, indexed by period: expenditure and revenue
        (estimated, actual), then net and cumulative net cash flow (money out negative; NaN = not known yet)."""
        return self.summary.frame()

    # -- plain words first ---------------------------------------------
    def verdict(self) -> Html:
        s, e = self.summary, self.engagement
        if not s.lines:
            return callout(
                f"{e.customer} has no cash flow yet. Add a cash-flow table (period, expenditure and revenue, "
                "estimated and actual) to the engagement file and import it again.",
                tone="info",
                title="Nothing to show yet.",
            )
        label = cashflow.HEADLINE_SHORT[s.headline]
        if s.complete:
            diff = (s.profit_act or 0) - (s.profit_est or 0)
            more_less = "more" if diff >= 0 else "less"
            paid = (
                f"It paid back in {s.period_label(s.payback_index_act)}"
                + (
                    " as estimated."
                    if s.payback_index_act == s.payback_index_est
                    else f" (estimated: {s.period_label(s.payback_index_est) or 'never'})."
                )
                if s.payback_index_act is not None
                else "It did not pay back within the plan."
            )
            verdict = MONEY_VERDICTS[s.verdict]
            return callout(
                f"The initiative returned {self.m(s.profit_act)} profit on {self.m(s.totals['expenditure_act'])} spent "
                f"(a {label} of {percent(s.headline_act)}), {self.m(abs(diff))} {more_less} than estimated. {paid}",
                tone="good" if (s.profit_act or 0) >= 0 and verdict.tone == "good" else verdict.tone,
                title=f"Complete, {verdict.words}:",
            )
        t = s.to_date
        if t is None:
            return callout(
                f"No actual figures yet: this is the estimate. It shows {self.m(s.profit_est)} profit on "
                f"{self.m(s.totals['expenditure_est'])} (a {label} of {percent(s.headline_est)}), paying back in "
                f"{s.period_label(s.payback_index_est) or 'no period of the plan'}.",
                tone="info",
                title="Estimate only.",
            )
        span = f"{s.periods[0]} to {s.periods[t.last_period]}"
        ratio = percent(t.revenue_ratio) if t.revenue_ratio is not None else "not comparable (no revenue was expected yet)"
        spend = f" Spending is {percent(t.expenditure_ratio)} of the estimate to date." if t.expenditure_ratio is not None else ""
        sentence = (
            f"actual revenue to date ({span}) is {ratio} of the estimate to date "
            f"({self.m(t.revenue_act)} against {self.m(t.revenue_est)}).{spend}"
        )
        verdict = MONEY_VERDICTS[s.verdict]
        tone, title = verdict.tone, verdict.title
        if s.verdict == "within_band":  # the title names the band this report used
            title = f"Slightly below the estimate, within its ±{s.accuracy_band:.0%} accuracy:"
        if t.missing:
            sentence += f" Actuals are missing for {', '.join(s.periods[i] for i in t.missing)}; they count as not known yet, not as zero."
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

        # While actuals are partial and revenue runs short of the estimate, the bold figures are the
        # forecast at today's pace, so the headline never promises more than the banner above it.
        pace = s.forecasts.get("at_current_pace") if not s.complete and s.verdict in ("behind", "within_band") else None
        if pace is not None:
            at_pace = {"return_on_cost": pace.return_on_cost, "net_roi": pace.net_roi}
            items = [
                ("Profit if today's pace holds", self.m(pace.profit), f"estimated {self.m(s.profit_est)}"),
                *(
                    (
                        f"{cashflow.HEADLINES[key]}, at today's pace",
                        percent(at_pace[key]),
                        f"estimated {percent(ratios[key][0])}",
                    )
                    for key in (first, second)
                ),
            ]
        else:
            items = [
                (
                    "Profit",
                    self.m(s.profit_act if s.complete else s.profit_est),
                    "actual" + f" (estimated {self.m(s.profit_est)})" if s.complete else "estimated; actual not known yet",
                ),
                *(
                    (
                        cashflow.HEADLINES[key],
                        percent(ratios[key][1] if s.complete else ratios[key][0]),
                        pair(percent(ratios[key][0]), percent(ratios[key][1])),
                    )
                    for key in (first, second)
                ),
            ]
        items += [
            (
                "Payback",
                (s.period_label(s.payback_index_act) if s.complete else s.period_label(s.payback_index_est))
                or "not within the plan",
                pair(s.period_label(s.payback_index_est) or "never", s.period_label(s.payback_index_act) or "never"),
            ),
        ]
        if s.discount_rate is not None:
            items.append(
                ("Net present value", self.m(s.npv_est), f"estimated, at {percent(s.discount_rate, decimals=2)} a period")
            )
        return figures(items)

    # -- numbers second ------------------------------------------------
    def table(self) -> Html:
        s = self.summary
        if not s.lines:
            return Html("")
        # The table a person reads is the DataFrame an analyst gets from ``page.cash_flow``, formatted.
        rows = [[period, *(self.m(known(v)) for v in values)] for period, *values in self.cash_flow.itertuples(name=None)]
        t = s.totals
        to_date = s.to_date
        footer = [
            [
                "Total",
                self.m(t["expenditure_est"]),
                self.m(t["expenditure_act"]),
                self.m(t["revenue_est"]),
                self.m(t["revenue_act"]),
                self.m(s.profit_est),
                self.m(s.profit_act),
                "",
                "",
            ]
        ]
        if to_date is not None and not s.complete:
            footer.append(
                [
                    f"To date ({s.periods[to_date.last_period]})",
                    self.m(to_date.expenditure_est),
                    self.m(to_date.expenditure_act),
                    self.m(to_date.revenue_est),
                    self.m(to_date.revenue_act),
                    self.m(to_date.net_est),
                    self.m(to_date.net_act),
                    "",
                    "",
                ]
            )
        classes = [
            "payback" if i == s.payback_index_est else ("future" if s.net_act[i] is None else "") for i in range(len(s.lines))
        ]
        columns = [
            "Period",
            "Expenditure (est)",
            "Expenditure (act)",
            "Revenue (est)",
            "Revenue (act)",
            "Net (est)",
            "Net (act)",
            "Cumulative (est)",
            "Cumulative (act)",
        ]
        return section(
            "Period by period",
            table(columns, rows, footer=footer, numeric=[False] + [True] * 8, row_classes=classes, css_class="data periods"),
            paragraph(
                f"Amounts in {self.currency}. Net cash flow is revenue minus expenditure, so money out shows "
                f"as negative. “{NOT_KNOWN}” marks a figure nobody has yet; it is never counted as zero."
            ),
            intro="Estimated and actual figures side by side; the highlighted row is where the estimate pays back.",
        )

    def chart(self) -> Html:
        s = self.summary
        if not s.lines:
            return Html("")
        markers = []
        if s.payback_fraction_est is not None:
            # The chart's points stand at the periods' times, as payback counts them (NPV's timing).
            markers.append(charts.Marker(x=s.payback_fraction_est, y=0.0, label="estimated payback"))
        svg = charts.line_chart(
            title="Cumulative net cash flow, estimated vs actual",
            x_labels=s.periods,
            series=[
                charts.Series("Estimated", s.cumulative_est, style="dashed"),
                charts.Series("Actual", s.cumulative_act, style="solid"),
            ],
            bands=[charts.Band(f"Estimate ±{s.accuracy_band:.0%}", s.cumulative_est_low, s.cumulative_est_high)]
            if s.accuracy_band
            else [],
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
            [
                cashflow.HEADLINES["return_on_cost"],
                percent(s.return_on_cost_est),
                percent(f_est.return_on_cost),
                percent(f_pace.return_on_cost),
            ],
            [cashflow.HEADLINES["net_roi"], percent(s.net_roi_est), percent(f_est.net_roi), percent(f_pace.net_roi)],
        ]
        pace = s.to_date.revenue_ratio if s.to_date else None
        return section(
            "Forecast at completion",
            table(
                ["", "Original estimate", "If the rest goes as estimated", "If the rest keeps today's pace"],
                rows,
                numeric=[False, True, True, True],
            ),
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
            ["Net present value", self.m(s.npv_est), self.m(s.npv_act) if s.complete else NOT_KNOWN],
            [
                "Internal rate of return",
                irr_note,
                (percent(s.irr_act, decimals=2) if s.irr_act is not None else "no rate exists") if s.complete else NOT_KNOWN,
            ],
            [
                "Discounted payback",
                s.period_label(s.discounted_payback_est) or "not within the plan",
                (s.period_label(s.discounted_payback_act) or "not within the plan") if s.complete else NOT_KNOWN,
            ],
        ]
        return section(
            "Discounted cash flow",
            table(["", "Estimated", "Actual"], rows, numeric=[False, True, True]),
            paragraph(
                f"Discount rate {percent(s.discount_rate, decimals=2)} a period. The first period is today and "
                "is not discounted; each later period is divided by (1 + rate) for every period that has passed."
            ),
        )

    def roi_note(self) -> Html:
        return paragraph(
            "Two ways to state the return, both shown: return on cost is revenue ÷ cost (132 % means each "
            f"{money(100, self.currency)} spent brought back {money(132, self.currency)}); "
            "net ROI is profit ÷ cost (the same case is 32 %). "
            f"The headline figure is the {cashflow.HEADLINES[self.summary.headline]}.",
            css_class="note",
        )

    def workbook_bytes(self) -> bytes:
        """The cash flow as an .xlsx with live formulas and their values (see :mod:`csm_nb.render.xlsx`)."""
        from csm_nb.render.xlsx import cash_flow_workbook_bytes

        return cash_flow_workbook_bytes(
            self.summary.lines,
            title=f"{self.engagement.title}: cash flow",
            currency=self.currency,
            discount_rate=self.summary.discount_rate,
        )

    def download(self) -> Html:
        """A self-contained link to the .xlsx with live formulas (no server needed)."""
        if not self.summary.lines:
            return Html("")
        data = self.workbook_bytes()
        href = "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + base64.b64encode(data).decode()
        return Html(
            '<p class="download no-print"><a download="{}" href="{}">Download the spreadsheet (.xlsx, with formulas)</a></p>'
        ).format(f"{self.engagement.id}-cash-flow.xlsx", href)

    def files_beside_results(self) -> dict[str, bytes]:
        """The spreadsheet, written as ``cash_flow.xlsx`` beside ``cash_flow.json``."""
        return {".xlsx": self.workbook_bytes()} if self.summary.lines else {}

    def results(self) -> dict:
        out = {"workbook": WORKBOOK, "engagement": self.engagement.id, "currency": self.currency}
        out.update(self.summary.results())
        out["verdicts"] = self.verdicts()
        return out

    def verdicts(self) -> dict[str, Any]:
        """The engagement's verdicts, with the money verdict of this page's own summary (its accuracy band)."""
        return engagement_verdicts(self.engagement, cash=self.summary, as_of=self.as_of).as_json()


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    headline_roi: str = "net_roi",
    accuracy_band: float = 0.10,
    discount_rate: float | None = None,
    as_of: str = "",
) -> CashFlowPage:
    """Load the engagement from the store and compute the page."""
    check_settings(headline_roi=headline_roi, accuracy_band=accuracy_band, discount_rate=discount_rate)
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, headline_roi=headline_roi, accuracy_band=accuracy_band, discount_rate=discount_rate)
    page.interactive = config.interactive_session()
    return page.at(day)


def page_for(
    engagement: Engagement, *, headline_roi: str = "net_roi", accuracy_band: float = 0.10, discount_rate: float | None = None
) -> CashFlowPage:
    summary = cashflow.summarise(
        engagement.cash_flow,
        headline=headline_roi,  # type: ignore[arg-type]
        accuracy_band=float(accuracy_band),
        discount_rate=None if discount_rate is None else float(discount_rate),
    )
    return CashFlowPage(engagement, summary)
