"""Financial linkage (workbook ``financial_linkage``): the chain of agreed factors
from one unit of a KPI to money, what one unit is worth, the run-rate vs target
gap, the KPI movement that closes it, how accurate all that is, and the cash
flow's increased-revenue columns built from the KPI plan and measurements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.checks import setting_choice, setting_in_range
from csm_nb.data.store import Store
from csm_nb.errors import InputError
from csm_nb.method import linkage
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.pages.base import Page
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.vocabulary import CURRENCY_SYMBOLS, money_compact, number, percent

WORKBOOK = "financial_linkage"
TITLE = "Financial linkage: from a KPI to money"


def applies(engagement: Engagement) -> bool:
    return bool(engagement.financial_links)


def check_settings(*, gap_fraction: float, basis: str, swing: float) -> None:
    """Refuse settings a person could mistype, naming the parameter."""
    setting_in_range(
        gap_fraction,
        name="gap_fraction",
        low=0,
        low_open=True,
        high=1,
        expected="a fraction above 0 up to 1 (0.5 for half the gap)",
    )
    setting_choice(basis, name="basis", options=("revenue", "profit"))
    setting_in_range(
        swing,
        name="swing",
        low=0,
        low_open=True,
        high=1,
        high_open=True,
        expected="a fraction above 0 and below 1 (0.1 for ±10 %)",
    )


def _units(value: float, decimals: int = 2) -> str:
    text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    return text or "0"


def _movement_range(high: float | None, low: float | None) -> str:
    """The units needed across a factor's range: "1.7 to 2.55", or one figure when the factor leaves it unchanged."""
    if low is None:
        return ""
    first, last = _units(high or 0), _units(low)
    return f"{first}, unchanged" if first == last else f"{first} to {last}"


@dataclass
class FinancialLinkagePage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    WORKSHOP = True
    WORKSHOP_BLURB = "The chain of agreed factors that turns one unit of a KPI into money, and how sure each is."
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> FinancialLinkagePage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    summaries: list[linkage.LinkSummary]
    generated: linkage.GeneratedCashFlow | None = None
    written: bool = False
    gap_fraction: float = 0.5
    notes: list[str] = field(default_factory=list)
    db: str | None = None
    interactive: bool = False

    def forms(self) -> Any:
        """The linkage forms (one per link) when run by hand; nothing in a headless report."""
        if not self.interactive or not self.summaries:
            return Html("")
        from csm_nb.forms.widgets import ipywidgets

        forms = [self.form(self.engagement.id, s.link.id, db=self.db, gap_fraction=self.gap_fraction) for s in self.summaries]
        return forms[0] if len(forms) == 1 else ipywidgets().VBox([f.widget for f in forms])

    @staticmethod
    def form(
        engagement_id: str, link_id: str = "", *, db: str | None = None, gap_fraction: float = 0.5, author: str | None = None
    ) -> Any:
        """The form for one link, drawing its verdict, figures, gap and sensitivity as this page does."""
        from csm_nb.forms.kpi import LinkageForm

        def draw(engagement: Engagement, summary: linkage.LinkSummary, gap: float) -> Html:
            page = FinancialLinkagePage(engagement, [summary], gap_fraction=gap)
            return join([page.verdict(), page.headline_figures(), page.gap(), page.sensitivity()])

        return LinkageForm(engagement_id, link_id, draw=draw, db=db, gap_fraction=gap_fraction, author=author)

    def kpi_label(self, s: linkage.LinkSummary) -> str:
        k = s.kpi
        return (k.name or k.id) if k else (s.link.kpi or "the KPI")

    def unit_label(self, s: linkage.LinkSummary) -> str:
        k = s.kpi
        unit = (k.unit if k and k.unit else None) or s.link.steps[0].unit_in or "unit"
        return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit

    def period(self, s: linkage.LinkSummary) -> str:
        return (s.link.period or "period").strip()

    # -- plain words first -------------------------------------------------------------
    def verdict(self) -> Html:
        if not self.summaries:
            return callout(
                "No financial link yet. Agree a chain of factors from one unit of a KPI to money "
                "and add it to the engagement file under financial_links.",
                tone="info",
                title="Nothing to show yet.",
            )
        parts = []
        for s in self.summaries:
            unit, period = self.unit_label(s), self.period(s)
            text = (
                f"One {unit} more of {self.kpi_label(s)} is worth {self.m(s.revenue_per_period)} revenue a {period}, "
                f"{self.m(s.revenue_per_year)} a year"
            )
            if s.profit_per_year is not None and s.link.margin_step is not None:
                text += (
                    f" ({self.m(s.profit_per_year)} profit a year at a {percent(s.link.margin_step.factor, decimals=0)} margin)"
                )
            text += "."
            g = s.gap
            if g is not None and g.money_gap_per_year > 0:
                share = share_words(g.fraction)
                text += f" Closing {share} {self.m(g.money_gap_per_year)} gap takes {_units(g.movement_for_fraction)} {unit}s."
                if s.target_movement is not None and s.target_share_of_gap is not None:
                    text += (
                        f" The agreed target (+{_units(s.target_movement)} {unit}s) would close "
                        f"{percent(s.target_share_of_gap, decimals=0)} of the gap."
                    )
            elif g is not None:
                text += " The run rate already meets the target: there is no gap to close."
            parts.append(
                callout(text, tone="info", title=f"{s.link.description or s.link.id}:" if len(self.summaries) > 1 else "")
            )
        return join(parts)

    def headline_figures(self) -> Html:
        out = []
        for s in self.summaries:
            unit, period = self.unit_label(s), self.period(s)
            a = s.accuracy_revenue
            items = [
                (f"Revenue per {unit}, a {period}", self.m(s.revenue_per_period), f"± {percent(a.likely, decimals=0)} likely"),
                (
                    f"Revenue per {unit}, a year",
                    self.m(s.revenue_per_year),
                    f"{self.m(s.revenue_per_year * (1 - a.likely))} to {self.m(s.revenue_per_year * (1 + a.likely))}",
                ),
            ]
            if s.profit_per_year is not None and s.accuracy_profit is not None:
                items.append(
                    (
                        f"Profit per {unit}, a year",
                        self.m(s.profit_per_year),
                        f"at a {percent(s.link.margin_step.factor, decimals=0)} margin" if s.link.margin_step else "",
                    )
                )
            if s.gap is not None:
                items.append(
                    (
                        f"{unit.capitalize()}s to close {share_words(s.gap.fraction)} gap",
                        _units(s.gap.movement_for_fraction),
                        f"all of it: {_units(s.gap.movement_to_close)}",
                    )
                )
            out.append(figures(items))
        return join(out)

    # -- the chain ----------------------------------------------------------------------------
    def chain(self) -> Html:
        out = []
        for s in self.summaries:
            rows = [["Start", f"one {self.unit_label(s)} more of {self.kpi_label(s)}", "", "", "", "", "1"]]
            for i, (step, value) in enumerate(zip(s.link.steps, s.running), start=1):
                rows.append(
                    [
                        str(i),
                        step.description or "",
                        step.shown_factor(),
                        " → ".join(u for u in (step.unit_in, step.unit_out) if u) or (step.unit or ""),
                        step.source or "not stated",
                        "not stated" if step.accuracy is None else f"± {percent(step.accuracy, decimals=0)}",
                        self.m(value) if i > _last_quantity_step(s.link) else _units(value),
                    ]
                )
            heading = "The chain of agreed factors" + (f": {s.link.description or s.link.id}" if len(self.summaries) > 1 else "")
            out.append(
                section(
                    heading,
                    table(
                        [
                            "Step",
                            "What was agreed",
                            "Factor",
                            "Units",
                            "Agreed with / from",
                            "Accuracy",
                            f"One {self.unit_label(s)} becomes (a {self.period(s)})",
                        ],
                        rows,
                        numeric=[False, False, True, False, False, True, True],
                    ),
                    paragraph(s.link.description or "", css_class="note")
                    if s.link.description and len(self.summaries) == 1
                    else Html(""),
                    intro=f"Each step multiplies what the step before gives. Amounts are per {self.period(s)}; "
                    f"a year is {number(s.link.periods_per_year)} {self.period(s)}s. Money in {self.currency}.",
                )
            )
        return join(out)

    # -- the gap -----------------------------------------------------------------------------
    def gap(self) -> Html:
        out = []
        for s in self.summaries:
            g = s.gap
            if g is None:
                continue
            unit, period = self.unit_label(s), self.period(s)
            quantity = g.quantity_unit or "units"
            rows = [
                [
                    "Run rate",
                    f"{number(g.run_rate)} {quantity}",
                    self.m(g.money_run_rate_per_period),
                    self.m(g.money_run_rate_per_year),
                ],
                ["Target", f"{number(g.target_per_year)} a year", "", self.m(g.money_target_per_year)],
                ["Gap", f"{number(g.quantity_gap_per_year)} a year", "", self.m(g.money_gap_per_year)],
            ]
            needed = [
                ["The whole gap", self.m(g.money_gap_per_year), f"{_units(g.movement_to_close)} {unit}s"],
            ]
            if g.fraction != 1:
                needed.append(
                    [
                        f"{share_words(g.fraction).capitalize()} gap",
                        self.m(g.money_gap_per_year * g.fraction),
                        f"{_units(g.movement_for_fraction)} {unit}s",
                    ]
                )
            if s.target_movement is not None and s.target_value_per_year is not None:
                share = f" ({percent(s.target_share_of_gap, decimals=0)} of the gap)" if s.target_share_of_gap is not None else ""
                needed.append(
                    [
                        "What the agreed target gives",
                        self.m(s.target_value_per_year),
                        f"{_units(s.target_movement)} {unit}s{share}",
                    ]
                )
            src = f" Source: {s.link.gap.source}." if s.link.gap and s.link.gap.source else ""
            out.append(
                section(
                    "Run rate against target",
                    table(["", "Quantity", f"Money a {period}", "Money a year"], rows, numeric=[False, True, True, True]),
                    paragraph(
                        f"Money per {quantity.split()[0].rstrip('s')} is {self.m(g.money_per_quantity)} "
                        f"(the steps after step {s.link.gap.step if s.link.gap else ''}).{src}",
                        css_class="note",
                    ),
                    Html("<h3>{}</h3>").format(f"How many {unit}s of {self.kpi_label(s)} that takes"),
                    table(["To close", "Revenue a year", f"{self.kpi_label(s)} movement"], needed, numeric=[False, True, True]),
                    paragraph(
                        f"Movement = money to close ÷ revenue per {unit} a year ({self.m(s.revenue_per_year)}), "
                        "shown to two decimals. The margin does not change it: profit gap and profit per "
                        f"{unit} shrink alike.",
                        css_class="note",
                    ),
                    intro="What the current pace earns against what the target would earn, in revenue.",
                )
            )
        return join(out)

    # -- accuracy and sensitivity ------------------------------------------------------------
    def sensitivity(self) -> Html:
        out = []
        for s in self.summaries:
            unit = self.unit_label(s)
            a = s.accuracy_profit if s.basis == "profit" and s.accuracy_profit else s.accuracy_revenue
            basis = "profit" if s.basis == "profit" else "revenue"
            base = s.value_per_year
            unstated = (
                f" Steps {', '.join(map(str, a.unstated))} have no stated accuracy and count as exact." if a.unstated else ""
            )
            accuracy_text = (
                f"Likely accuracy of the {basis} per {unit}: ± {percent(a.likely, decimals=1)} "
                f"({self.m(base * (1 - a.likely))} to {self.m(base * (1 + a.likely))} a year), the root-sum-square of the "
                f"steps' accuracies, right when their errors are independent. Worst case, every factor off the same way: "
                f"{percent(a.worst_low, decimals=1)} lower to {percent(a.worst_high, decimals=1)} higher "
                f"({self.m(base * (1 - a.worst_low))} to {self.m(base * (1 + a.worst_high))}).{unstated}"
            )
            swing = percent(s.swing, decimals=0)
            rows = []
            for r in s.sensitivity:
                rows.append(
                    [
                        r.label,
                        f"± {percent(r.accuracy, decimals=0)}" if r.accuracy else "exact",
                        self.m(r.value_low),
                        self.m(r.value_high),
                        self.m(r.value_swing_low),
                        self.m(r.value_swing_high),
                        _movement_range(r.movement_high, r.movement_low),
                    ]
                )
            svg = charts.tornado_chart(
                title=f"{basis.capitalize()} a year from one {unit}: each factor at its own accuracy",
                base=base,
                rows=[(r.short_label, r.value_low, r.value_high) for r in s.sensitivity],
                x_format=lambda v: money_compact(v, self.currency),
                base_label="Agreed",
                low_label="Factor at its low end",
                high_label="Factor at its high end",
                caption=f"Widest bar first: the factor worth checking hardest. The line is the agreed {self.m(base)}.",
            )
            share = "the gap" if s.gap is None else f"{share_words(s.gap.fraction)} gap"
            out.append(
                section(
                    "How sure are these numbers?",
                    paragraph(accuracy_text),
                    Html(str(svg)),
                    table(
                        ["Factor", "Its accuracy", "Low", "High", f"−{swing}", f"+{swing}", f"{unit.capitalize()}s for {share}"],
                        rows,
                        numeric=[False, True, True, True, True, True, True],
                    ),
                    paragraph(
                        f"{basis.capitalize()} a year from one {unit} with one factor changed at a time, everything else as "
                        "agreed. A factor after the gap step changes the gap and the value alike, so it leaves the "
                        f"{unit}s needed unchanged.",
                        css_class="note",
                    ),
                )
            )
        return join(out)

    # -- into the cash flow --------------------------------------------------------------------
    def cash_flow(self) -> Html:
        g = self.generated
        if g is None:
            return join(paragraph(n, css_class="note") for n in self.notes) if self.notes else Html("")
        typed = {x.period: x for x in self.engagement.cash_flow}
        rows = []
        for line, planned in zip(g.lines, g.plan):
            before = typed.get(line.period)
            rows.append(
                [
                    line.period,
                    _units(planned),
                    self.m(line.revenue_est),
                    self.m(before.revenue_est) if before else "",
                    self.m(line.revenue_act),
                    self.m(before.revenue_act) if before else "",
                ]
            )
        est_total = sum(x.revenue_est or 0 for x in g.lines)
        typed_total = sum((x.revenue_est or 0) for x in self.engagement.cash_flow)
        footer = [
            [
                "Total",
                "",
                self.m(est_total),
                self.m(typed_total) if typed else "",
                self.m(sum(x.revenue_act for x in g.lines if x.revenue_act is not None)),
                "",
            ]
        ]
        s = next((x for x in self.summaries if x.link.id == g.link), None)
        kpi_name = self.kpi_label(s) if s else g.kpi
        word = "profit" if g.basis == "profit" else "revenue"
        same = self.engagement.cash_flow and all(
            abs((a.revenue_est or 0) - (b.revenue_est or 0)) < 0.005 for a, b in zip(g.lines, self.engagement.cash_flow)
        )
        status = (
            "The generated column has been written into the engagement's cash flow as its estimated revenue."
            if self.written
            else "The engagement's estimated revenue already matches the generated one."
            if same
            else "To use the generated column in the business case, run this workbook with write_cash_flow set to True."
        )
        return section(
            f"Increased {word} for the cash flow, from the KPI plan",
            table(
                [
                    "Period",
                    f"{kpi_name} (plan)",
                    f"Generated {word} (est)",
                    "In the cash flow (est)",
                    f"Generated {word} (act)",
                    "In the cash flow (act)",
                ],
                rows,
                footer=footer,
                numeric=[False] + [True] * 5,
            ),
            paragraph(
                f"Estimated = (planned {kpi_name} − baseline) × {self.m(g.value_per_unit)} a period; actual = "
                f"(measured − baseline) × the same. Periods without a measurement are not known yet, never zero. " + status,
                css_class="note",
            ),
            intro="The business case built from the outcome: the KPI plan through the chain, period by period, beside "
            "what the cash flow holds now.",
        )

    # -- results ------------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "currency": self.currency,
            "gap_fraction": self.gap_fraction,
            "verdicts": self.verdicts(),
            "links": [s.results() for s in self.summaries],
            "cash_flow": None if self.generated is None else {**self.generated.results(), "written": self.written},
        }
        if self.summaries:
            first = self.summaries[0]
            out["headline"] = {
                "link": first.link.id,
                "revenue_per_unit_per_period": first.revenue_per_period,
                "revenue_per_unit_per_year": first.revenue_per_year,
                "profit_per_unit_per_year": first.profit_per_year,
                "money_gap_per_year": first.gap.money_gap_per_year if first.gap else None,
                "movement_to_close_gap": first.gap.movement_to_close if first.gap else None,
                "movement_to_close_fraction": first.gap.movement_for_fraction if first.gap else None,
            }
        return linkage.tidy(out)


def share_words(fraction: float) -> str:
    """How a share of the gap is said.

    >>> share_words(1), share_words(0.5), share_words(0.25)
    ('the whole', 'half of the', '25 % of the')
    """
    if fraction == 1:
        return "the whole"
    if fraction == 0.5:
        return "half of the"
    return f"{percent(fraction, decimals=0)} of the"


def _last_quantity_step(link: linkage.Linkage) -> int:
    """The last step whose output is not yet money (shown as a count, not as money)."""
    from_money = None
    for i, step in enumerate(link.steps, start=1):
        if step.unit_out and step.kind != "margin" and from_money is None and _looks_like_money(step.unit_out):
            from_money = i
    if from_money is not None:
        return from_money - 1
    return max(len(link.revenue_steps) - 1, 0)


def _looks_like_money(unit: str) -> bool:
    return any(linkage.is_money_unit(unit, code) for code in CURRENCY_SYMBOLS) or unit.strip().lower().startswith("money")


def page_for(
    engagement: Engagement,
    *,
    gap_fraction: float = 0.5,
    basis: str = "revenue",
    swing: float = 0.10,
    cash_flow_link: str = "",
) -> FinancialLinkagePage:
    """Check every link and compute the page; the cash flow is generated from ``cash_flow_link`` (default: the first)."""
    check_settings(gap_fraction=gap_fraction, basis=basis, swing=swing)
    summaries = []
    for raw in engagement.financial_links or []:
        kpi = engagement.kpi(raw["kpi"]) if raw.get("kpi") else None
        link = linkage.parse_link(raw, kpi=kpi, currency=engagement.currency)
        link_basis = basis if basis == "revenue" or link.margin_step is not None else "revenue"
        summaries.append(
            linkage.summarise(
                link,
                kpi=kpi,
                gap_fraction=float(gap_fraction),
                basis=link_basis,  # type: ignore[arg-type]
                swing=float(swing),
            )
        )
    page = FinancialLinkagePage(engagement, summaries, gap_fraction=float(gap_fraction))
    chosen = _chosen(summaries, cash_flow_link)
    if chosen is not None:
        kpi = chosen.kpi
        if kpi is None:
            page.notes.append(f"Link {chosen.link.id!r} names no KPI, so no cash flow can be built from a KPI plan.")
        elif kpi.baseline is None or (kpi.target is None and not kpi.milestones):
            page.notes.append(f"KPI {kpi.id!r} needs a baseline and a target (or milestones) before its plan can be valued.")
        else:
            cf_basis = "profit" if basis == "profit" and chosen.link.margin_step is not None else "revenue"
            page.generated = linkage.generated_cash_flow(
                chosen.link,
                kpi,
                engagement.cash_flow,
                engagement.measurements,
                basis=cf_basis,  # type: ignore[arg-type]
            )
    return page


def _chosen(summaries: list[linkage.LinkSummary], link_id: str) -> linkage.LinkSummary | None:
    if not summaries:
        return None
    if not link_id:
        return summaries[0]
    for s in summaries:
        if s.link.id == link_id:
            return s
    raise InputError(
        f"parameter cash_flow_link: no financial link {link_id!r}; the links are {', '.join(s.link.id for s in summaries)}"
    )


def write_generated_cash_flow(
    engagement_id: str,
    *,
    db: str | None = None,
    link_id: str = "",
    basis: str = "revenue",
    author: str | None = None,
) -> Engagement:
    """Put the generated estimated revenue into the engagement's cash flow in the store.

    Reads the engagement fresh and saves it with ``expected_revision``, so a
    change saved by someone else in between is never overwritten (ConflictError).
    Expenditure and actual revenue are left as they are. Without cash-flow
    lines, twelve periods are created (expenditure to come).
    """
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        page = page_for(engagement, basis=basis, cash_flow_link=link_id)
        if page.generated is None:
            raise InputError(
                f"engagement {engagement_id!r}: nothing to write; " + (" ".join(page.notes) or "it has no financial link")
            )
        old = {x.period: x for x in engagement.cash_flow}
        new_lines = []
        for line in page.generated.lines:
            kept = old.get(line.period)
            new_lines.append(
                type(line)(
                    line.period, line.expenditure_est, line.expenditure_act, line.revenue_est, kept.revenue_act if kept else None
                )
            )
        engagement.cash_flow = new_lines
        store.save(
            engagement,
            expected_revision=engagement.revision,
            author=author,
            summary=f"cash flow: estimated {page.generated.basis} from link {page.generated.link!r}",
        )
    return engagement


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    results_path: str | None = None,
    gap_fraction: float = 0.5,
    basis: str = "revenue",
    swing: float = 0.10,
    cash_flow_link: str = "",
    write_cash_flow: bool = False,
    as_of: str = "",
) -> FinancialLinkagePage:
    """Load the engagement from the store and compute the page (optionally writing the generated revenue first)."""
    check_settings(gap_fraction=gap_fraction, basis=basis, swing=swing)
    day = parse_as_of(as_of)
    if write_cash_flow:
        write_generated_cash_flow(engagement_id, db=db, link_id=cash_flow_link, basis=basis)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, gap_fraction=gap_fraction, basis=basis, swing=swing, cash_flow_link=cash_flow_link)
    page.written = bool(write_cash_flow)
    page.db, page.interactive = db or None, config.interactive_session(results_path)
    return page.at(day)
