"""Progress tracking (workbook ``progress``): every KPI against its agreed plan,
0 % = baseline and 100 % = target, with status, crossings and a forecast."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csm_nb import config
from csm_nb.data.checks import setting_in_range
from csm_nb.data.store import Store
from csm_nb.errors import InputError
from csm_nb.frames import known, kpi_frame, measurements_frame, pandas
from csm_nb.method import progress
from csm_nb.method.dates import date_words, parse_as_of
from csm_nb.method.progress import LIMIT_NAMES, STATUS_WORDS, Freshness, KpiProgress, limit_words
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import KPI_STATUSES, number, part_of_month, plan_point, plural

if TYPE_CHECKING:
    import pandas as pd

WORKBOOK = "progress"
TITLE = "Progress towards the outcomes"

PLAN_COLOR = "#595959"
KIND_COLORS = {"lagging": charts.PALETTE[0], "leading": charts.PALETTE[2]}
KIND_WORDS = {"lagging": "Outcome KPI (lagging)", "leading": "Early indicator (leading)"}


def applies(engagement: Engagement) -> bool:
    return bool(engagement.kpis)


def check_settings(*, tolerance: float, trend_periods: float) -> None:
    """Refuse settings a person could mistype, naming the parameter."""
    setting_in_range(
        tolerance,
        name="tolerance",
        low=0,
        high=0.5,
        high_open=True,
        expected="a fraction such as 0.02 (2 points either side of the plan)",
    )
    setting_in_range(trend_periods, name="trend_periods", low=0, low_open=True, expected="a number of periods above 0, such as 3")


# -- words and numbers a reader sees ---------------------------------------------------
def pct(fraction: float | None) -> str:
    """Progress for people: ``45 %``; ``None`` is "not measured yet"."""
    return "not measured yet" if fraction is None else f"{fraction * 100:.0f} %"


def kpi_value(kp: KpiProgress, value: float | None) -> str:
    if value is None or math.isnan(value):
        return "not measured yet"
    # As many decimals as the figure needs (29.25 days stays 29.25), at most two.
    decimals = next((d for d in (0, 1) if abs(round(value, d) - value) < 1e-9), 2)
    unit = (kp.kpi.unit or "").strip()
    text = number(value, decimals=decimals)
    return f"{text} %" if unit == "%" else f"{text} {unit}".strip()


def when(kp: KpiProgress, position: float | None) -> str:
    """A moment on the plan in words: "early September 2026 (month 8)", or "month 8" without a start date.

    Rounded for people: a forecast is a trend's straight line, so "month 30.2" would claim a precision
    nobody has.
    """
    if position is None:
        return "not at this rate"
    t = kp.timeline
    text = plan_point(t.unit, position)
    day = t.date(position)
    if day is None:
        return text
    return f"{part_of_month(day)} {day.strftime('%B %Y')} ({text})"


def limit_name(kp: KpiProgress) -> str:
    """ "ceiling" or "floor"."""
    return LIMIT_NAMES[kp.target_type]


def limit_status_words(kp: KpiProgress, index: int = -1) -> str:
    """A ceiling or floor KPI's measurement against its limit: "within the ceiling of 6 months"."""
    assert kp.limits is not None
    return limit_words(kp.limits[index], target_type=kp.target_type, limit=kpi_value(kp, kp.target))


def limit_sentence(kp: KpiProgress) -> str:
    """The latest measurement of a ceiling or floor in plain words: "Months between releases: 5 months,
    within the ceiling of 6 months"."""
    if not kp.measured:
        return f"{kp.label()}: not measured yet ({limit_name(kp)} {kpi_value(kp, kp.target)})"
    return f"{kp.label()}: {kpi_value(kp, kp.values[-1])}, {limit_status_words(kp)}"


def forecast_words(kp: KpiProgress) -> str:
    f = kp.forecast
    if not kp.measured:
        return "not measured yet"
    if kp.is_limit:
        return f"no target date: a {limit_name(kp)} to stay within"
    if f.reached:
        return f"reached in {when(kp, f.period)}"
    if f.period is None:
        return "not at this rate"
    late = "" if kp.on_time else f", after the deadline of {when(kp, kp.timeline.length).split(' (')[0]}"
    return f"{when(kp, f.period)}{late}"


def trend_words(kp: KpiProgress, *, short: bool = False) -> str:
    """The recent trend as better or worse, in the KPI's own unit a period.

    "Better" is progress toward the target, so it is right for a KPI that should fall (an
    order-to-ship time getting shorter) as for one that should rise; the signed amount is the
    KPI's own movement ("−2.1 days a month"). A % KPI moves in percentage points. The long form
    also gives the pace as percentage points of progress (the share of the way from baseline to
    target). ``short`` is for a table column: "better, −2.1 days a month".
    """
    slope = kp.forecast.slope
    if kp.is_limit:
        return "no path: a limit" if short else f"a {limit_name(kp)} has no path to follow"
    if slope is None:
        return "no trend yet" if kp.measured else "not measured yet"
    word = "better" if slope > 0.005 else ("worse" if slope < -0.005 else "level")
    unit = kp.timeline.unit
    if word == "level":
        return "level" if short else f"level (under half a percentage point of progress a {unit})"
    delta = slope * (kp.target - kp.baseline)  # KPI units a period, signed as the KPI moves
    size = abs(delta)
    amount = number(size, decimals=0 if size >= 10 else (1 if size >= 1 else 2))
    kpi_unit = (kp.kpi.unit or "").strip()
    amount += " percentage points" if kpi_unit == "%" else (f" {kpi_unit}" if kpi_unit else "")
    # "clients a month" is already a rate: it moves "+38 clients a month each month", not "a month a month".
    per = f"each {unit}" if re.search(r"\b(a|per)\s+\w+$|/", kpi_unit) else f"a {unit}"
    moved = f"{'+' if delta > 0 else '−'}{amount} {per}"
    if short:
        return f"{word}, {moved}"
    return f"{word}: {'rising' if delta > 0 else 'falling'} {amount} {per} ({abs(slope) * 100:.1f} percentage points of progress)"


def kpi_status_tag(kp: KpiProgress, *, short: bool = False) -> Html:
    """The latest status as a tag: the plan status, or for a ceiling or floor "within the ceiling of 6 months"
    (``short``: "within the ceiling", for a table that shows the limit in another column)."""
    if kp.is_limit and kp.measured:
        tone = "good" if kp.limits[-1] == "within" else "bad"  # type: ignore[index]
        words = limit_status_words(kp)
        return Html('<span class="tag tag-{}">{}</span>').format(tone, words.split(" of ")[0] if short else words)
    return status_tag(kp.status[-1] if kp.measured else None)


def overdue_tag(fresh: Freshness | None) -> Html:
    """ "measurement overdue" as a warning tag when the next figure is overdue (nothing otherwise)."""
    if fresh is None or not fresh.overdue:
        return Html("")
    return Html(' <span class="tag tag-warn">measurement overdue</span>')


def status_tag(word: str | None) -> Html:
    if word is None:
        return Html('<span class="tag">not measured yet</span>')
    status = KPI_STATUSES.get(word)
    return Html('<span class="tag tag-{}">{}</span>').format(status.tone if status else "warn", status.words if status else word)


# -- the chart ---------------------------------------------------------------------------
def kpi_chart(kp: KpiProgress, *, compact: bool = False, height: int | None = None, width: int | None = None) -> charts.Svg:
    """Plan (dashed, milestones as hollow points) and actual (solid) progress for one KPI.

    Leading indicators are green, lagging KPIs blue, and the title says which. ``width`` (CSS px)
    picks the printed size (:func:`csm_nb.render.charts.line_chart`); by default half width when
    ``compact``, else full width.
    """
    if kp.is_limit:
        return limit_chart(kp, compact=compact, height=height, width=width)
    t = kp.timeline
    horizon = max(t.length, kp.periods[-1] if kp.periods else 0.0)
    f = kp.forecast.period
    show_forecast = f is not None and not kp.forecast.reached and f <= 1.5 * t.length
    if show_forecast:
        horizon = max(horizon, f)  # type: ignore[arg-type]
    last = math.ceil(horizon - 1e-9)
    # One way of naming periods in every chart and sentence ("Month 3", never "M3"); the chart thins the ticks.
    x_labels = [f"{t.unit.capitalize()} {i}" for i in range(last + 1)]
    if kp.milestones:
        plan_x = [x for x, _ in kp.plan]
        plan_label = "Plan (agreed milestones)"
    else:
        plan_x = [float(i) for i in range(math.ceil(t.length - 1e-9) + 1)]
        if plan_x[-1] != t.length:
            plan_x[-1] = t.length
        plan_label = f"Plan ({100 / t.length:.0f} % a {t.unit})" if t.length else "Plan"
    plan_y = [progress.plan_at(x, kp.plan) for x in plan_x]
    kind = kp.kpi.kind or "lagging"
    series = [
        charts.Series(plan_label, plan_y, style="dashed", color=PLAN_COLOR, x=plan_x),
        charts.Series("Actual", kp.progress, style="solid", color=KIND_COLORS.get(kind, KIND_COLORS["lagging"]), x=kp.periods),
    ]
    markers = [
        charts.Marker(
            c.period,
            progress.plan_at(c.period, kp.plan),
            ("ahead" if c.to == "ahead" else "behind") + ("" if compact else f" from {plan_point(t.unit, c.period)}"),
        )
        for c in kp.crossings
    ]
    vlines = [(t.length, "deadline")]
    if show_forecast:
        vlines.append((f, "target at this rate"))
    title = f"{kp.label()} · {KIND_WORDS.get(kind, kind)}"
    caption = (
        # Small multiples sit under a section that explains the scale and the lines once.
        f"0 % = {kpi_value(kp, kp.baseline)}, 100 % = {kpi_value(kp, kp.target)}."
        if compact
        else f"0 % is the baseline ({kpi_value(kp, kp.baseline)}), 100 % the target ({kpi_value(kp, kp.target)}). "
        "Dashed: the agreed plan; solid: measured."
    )
    return charts.line_chart(
        title=title,
        x_labels=x_labels,
        series=series,
        markers=markers,
        vlines=vlines,
        y_format=lambda v: f"{v * 100:.0f}%",
        caption=caption,
        width=width or (460 if compact else 720),
        # A full-width chart 270 high (66 mm drawn, 73 mm printed) fits with its headings under the summary table on A4.
        height=height or (250 if compact else 270),
    )


def limit_chart(kp: KpiProgress, *, compact: bool = False, height: int | None = None, width: int | None = None) -> charts.Svg:
    """A ceiling or floor KPI in its own unit: the limit as a flat dashed line, the measurements solid,
    each breach marked. No plan line: there is no path to follow, only a limit to stay within."""
    t = kp.timeline
    last = max(1, math.ceil(max([t.length, *kp.periods]) - 1e-9))
    first = min(0, math.floor(min(kp.periods, default=0.0)))
    x_labels = [f"{t.unit.capitalize()} {i}" for i in range(first, last + 1)]
    shift = -first  # the chart's x axis starts at index 0
    name = limit_name(kp)
    kind = kp.kpi.kind or "lagging"
    series = [
        charts.Series(
            f"{name.capitalize()} ({kpi_value(kp, kp.target)})",
            [kp.target, kp.target],
            style="dashed",
            color=PLAN_COLOR,
            markers=False,
            x=[0.0, float(last + shift)],
        ),
        charts.Series(
            "Measured", kp.values, color=KIND_COLORS.get(kind, KIND_COLORS["lagging"]), x=[p + shift for p in kp.periods]
        ),
    ]
    markers = [
        charts.Marker(p + shift, v, "breached" if compact else f"breached: {kpi_value(kp, v)}")
        for p, v, w in zip(kp.periods, kp.values, kp.limits or [], strict=True)
        if w == "breached"
    ]
    unit = (kp.kpi.unit or "").strip()
    return charts.line_chart(
        title=f"{kp.label()} · {KIND_WORDS.get(kind, kind)}",
        x_labels=x_labels,
        series=series,
        markers=markers,
        y_format=lambda v: number(v, decimals=0 if abs(v) >= 10 or v == int(v) else 1),
        y_label=unit if not compact else "",
        zero_line=False,
        caption=(
            f"Dashed: the {name} of {kpi_value(kp, kp.target)}; solid: measured; breaches marked."
            if compact
            else f"The dashed line is the {name} ({kpi_value(kp, kp.target)}): each measurement stays "
            f"{'at or below' if kp.target_type == 'stay_below' else 'at or above'} it or breaches it; there is no path to follow."
        ),
        width=width or (460 if compact else 720),
        height=height or (250 if compact else 270),
    )


# -- the page -----------------------------------------------------------------------------
@dataclass
class ProgressPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """How many KPIs are ahead, on plan, behind and not measured yet, in one line."""
        counts = results.get("counts") or {}
        if not results:
            return Headline()
        summary = (
            f"{plural(counts.get('ahead', 0), 'KPI')} ahead, {counts.get('on_plan', 0)} on plan, {counts.get('behind', 0)} behind"
            f"{'; ' + str(counts.get('not_measured')) + ' not measured yet' if counts.get('not_measured') else ''}."
        )
        return overall_headline(results, summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> ProgressPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    tracked: list[KpiProgress]
    problems: dict[str, str] = field(default_factory=dict)
    tolerance: float = 0.02
    trend_periods: float = 3
    grid_from: int = 3
    later: int = 0  # measurements dated after as_of, left out of this report
    # When each KPI's next figure is due at as_of, and whether it is overdue (csm_nb.method.progress.freshness).
    fresh: dict[str, Freshness] = field(default_factory=dict)

    def overdue(self) -> list[KpiProgress]:
        """The KPIs whose next figure is overdue at as_of, in the register's order."""
        return [kp for kp in self.tracked if (f := self.fresh.get(kp.kpi.id)) is not None and f.overdue]

    def verdicts(self) -> dict[str, Any]:
        """The engagement's verdicts; this page's tracking is reused unless it shows one KPI only."""
        if len(self.tracked) + len(self.problems) == len(self.engagement.kpis):
            return engagement_verdicts(self.engagement, tracked=self.tracked, problems=self.problems).as_json()
        found = engagement_verdicts(self.engagement, tolerance=self.tolerance, trend_periods=self.trend_periods, as_of=self.as_of)
        return found.as_json()

    def left_out(self) -> Html:
        """One line saying how many measurements are dated after the report's as-of date (none: nothing)."""
        if not self.later:
            return Html("")
        return paragraph(
            f"{plural(self.later, 'measurement')} dated after {date_words(self.as_of_day)} (the date this report "
            f"is judged at) {'is' if self.later == 1 else 'are'} left out.",
            css_class="note",
        )

    # -- the tables, for an analyst ---------------------------------------------
    @property
    def kpis(self) -> pd.DataFrame:
        """The KPI register as a pandas DataFrame indexed by KPI id (baseline, target, unit, direction, ...)."""
        return kpi_frame(self.engagement.kpis)

    @property
    def measurements(self) -> pd.DataFrame:
        """Every stored measurement as a pandas DataFrame: ``kpi``, ``period`` (index or ISO date), ``value``."""
        return measurements_frame(self.engagement.measurements)

    @property
    def progress(self) -> pd.DataFrame:
        """Each tracked KPI's progress series in one pandas DataFrame, a row a measurement: ``kpi``, then
        the columns of :meth:`KpiProgress.frame` (period, label, date, value, progress, planned, status)."""
        pd = pandas()
        frames = [kp.frame().assign(kpi=kp.kpi.id) for kp in self.tracked]
        columns = ["kpi", "period", "label", "date", "value", "progress", "planned", "status"]
        if not frames:
            return pd.DataFrame(
                {c: pd.Series(dtype=float if c in {"period", "value", "progress", "planned"} else object) for c in columns}
            )
        return pd.concat(frames, ignore_index=True)[columns]

    def latest_status(self, kp: KpiProgress) -> str | None:
        return kp.status[-1] if kp.status else None

    def counts(self) -> dict[str, int]:
        """KPIs by latest status (a ceiling or floor within counts as on plan, breached as behind)."""
        out = {"ahead": 0, "on_plan": 0, "behind": 0, "not_measured": 0, "cannot_track": len(self.problems)}
        for kp in self.tracked:
            out[self.latest_status(kp) or "not_measured"] += 1
        return out

    # -- plain words first ---------------------------------------------------
    def verdict(self) -> Html:
        """Where the KPIs stand in one message, and how many measurements the as-of date leaves out."""
        return self.standing() + self.left_out()

    def standing(self) -> Html:
        e = self.engagement
        if not e.kpis:
            return callout(
                f"{e.customer} has no KPIs yet. Agree them in the KPI workshop, then add measurements.",
                tone="info",
                title="Nothing to track yet.",
            )
        measured = [kp for kp in self.tracked if kp.measured]
        if not measured:
            return callout(
                "No measurements yet. Import the first figures with: csm-nb import FILE --engagement "
                f"{e.id} (columns kpi, period, value).",
                tone="info",
                title="Not measured yet.",
            )
        behind = [kp for kp in measured if self.latest_status(kp) == "behind"]
        late = [kp for kp in measured if kp.on_time is False]
        parts = []
        for word in ("ahead", "on_plan", "behind"):
            names = [kp.label() for kp in measured if self.latest_status(kp) == word and not kp.is_limit]
            if names:
                parts.append(f"{STATUS_WORDS[word]}: {', '.join(names)}")
        # A ceiling or floor says where it stands against its limit, not against a plan.
        parts += [f"{kp.label()} {limit_status_words(kp)}" for kp in measured if kp.is_limit]
        sentence = "; ".join(parts) + "."
        sentence = sentence[0].upper() + sentence[1:]
        overdue = self.overdue()
        if overdue:
            sentence += " Measurement overdue: " + "; ".join(self.overdue_words(kp) for kp in overdue) + "."
        if late:
            sentence += (
                " At the recent rate " + ", ".join(kp.label() for kp in late) + " will not reach the target by the deadline."
            )
        # The title counts KPIs; the verdict on the engagement as a whole is the value report's.
        lagging_behind = any((kp.kpi.kind or "lagging") == "lagging" for kp in behind)
        good = len(measured) - len(behind)
        limits = any(kp.is_limit for kp in measured)
        title = f"{good} of {plural(len(measured), 'measured KPI')} on plan{', ahead or within their limit' if limits else ' or ahead'}."
        tone = "bad" if lagging_behind else ("warn" if behind or late or overdue else "good")
        return callout(sentence, tone=tone, title=title)

    def overdue_words(self, kp: KpiProgress) -> str:
        """Which figure of a KPI is overdue: "Wastage (the March 2020 figure, due 1 Apr 2020)"."""
        f = self.fresh[kp.kpi.id]
        first = "first " if f.first else ""
        return f"{kp.label()} (the {first}{f.period} figure, due {date_words(f.due)})"

    def summary_table(self) -> Html:
        if not self.tracked and not self.problems:
            return Html("")
        rows = []
        for kp in self.tracked:
            i = kp.latest
            latest = (
                kpi_value(kp, kp.values[i]) + f" ({kp.timeline.label(kp.periods[i])})" if i is not None else "not measured yet"
            )
            if kp.is_limit:
                rows.append(
                    [
                        kp.label(),
                        KIND_WORDS.get(kp.kpi.kind or "lagging", kp.kpi.kind or ""),
                        f"{limit_name(kp)} {kpi_value(kp, kp.target)}",
                        Html("{}").format(latest) + overdue_tag(self.fresh.get(kp.kpi.id)),
                        "",
                        "",
                        kpi_status_tag(kp),
                        trend_words(kp, short=True),
                        forecast_words(kp),
                    ]
                )
                continue
            rows.append(
                [
                    kp.label(),
                    KIND_WORDS.get(kp.kpi.kind or "lagging", kp.kpi.kind or ""),
                    f"{kpi_value(kp, kp.baseline)} → {kpi_value(kp, kp.target)}",
                    Html("{}").format(latest) + overdue_tag(self.fresh.get(kp.kpi.id)),
                    pct(kp.progress[i] if i is not None else None),
                    pct(kp.planned[i] if i is not None else None),
                    status_tag(self.latest_status(kp)),
                    trend_words(kp, short=True),
                    forecast_words(kp),
                ]
            )
        for kpi_id, message in self.problems.items():
            kpi = self.engagement.kpi(kpi_id)
            rows.append(
                [
                    (kpi.name if kpi else None) or kpi_id,
                    "",
                    "",
                    Html('<span class="tag tag-warn">{}</span>').format(message),
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        return section(
            "Where each KPI stands",
            table(
                ["KPI", "Kind", "Baseline → target", "Latest", "Progress", "Plan", "Status", "Trend", "Target reached"],
                rows,
                numeric=[False, False, False, False, True, True, False, False, False],
            ),
            paragraph(
                f"Progress is the share of the way from baseline to target. On plan means within ±{self.tolerance * 100:g} "
                "points of the plan; below-baseline and past-target values are shown as they are."
                + (
                    " A ceiling or floor has no path: each measurement is within its limit (the limit itself included) "
                    "or breaches it."
                    if any(kp.is_limit for kp in self.tracked)
                    else ""
                )
                + (
                    " Measurement overdue: the next figure is more than the grace days past its due date (one period "
                    "after the last figure)."
                    if self.overdue()
                    else ""
                ),
                css_class="note",
            ),
        )

    def charts(self) -> Html:
        measured = self.tracked  # an unmeasured KPI still shows its plan
        if not measured:
            return Html("")
        compact = len(measured) >= self.grid_from
        parts = []
        for kind, heading in (
            ("lagging", "Outcome KPIs (lagging): they prove the outcome"),
            ("leading", "Early indicators (leading): they warn early"),
        ):
            group = [kp for kp in measured if (kp.kpi.kind or "lagging") == kind]
            if not group:
                continue
            svgs = [kpi_chart(kp, compact=compact) for kp in group]
            body = Html(charts.small_multiples(svgs, columns=2)) if compact else join(Html(str(s)) for s in svgs)
            parts.append(Html("<h3>{}</h3>").format(heading) + body)
        return section("Plan and actual", join(parts))

    def details(self) -> Html:
        blocks = []
        for kp in self.tracked:
            if not kp.measured:
                continue
            rows = [
                [
                    r.label,
                    r.date.isoformat() if known(r.date) else "",
                    kpi_value(kp, r.value),
                    "" if kp.is_limit else pct(r.progress),
                    "" if kp.is_limit else pct(r.planned),
                    limit_status_words(kp, n) if kp.is_limit else STATUS_WORDS[r.status],
                ]
                for n, r in enumerate(kp.frame().itertuples())
            ]
            crossings = (
                "; ".join(f"{'ahead' if c.to == 'ahead' else 'behind'} from {when(kp, c.period)}" for c in kp.crossings) or "none"
            )
            blocks.append(
                join(
                    [
                        Html("<h3>{}</h3>").format(kp.label()),
                        table(
                            ["Period", "Date", "Measured", "Progress", "Plan", "Status"],
                            rows,
                            numeric=[False, False, True, True, True, False],
                        ),
                        paragraph(
                            f"Breaches of the {limit_name(kp)}: {sum(w == 'breached' for w in kp.limits)} of "
                            f"{plural(len(kp.limits), 'measurement')}."
                            if kp.limits is not None
                            else f"Crossings of the plan: {crossings}. Forecast: {forecast_words(kp)} ({kp.forecast.method}).",
                            css_class="note",
                        ),
                    ]
                )
            )
        if not blocks:
            return Html("")
        return section("Measurements, period by period", join(blocks))

    def method_note(self) -> Html:
        if not self.tracked:
            return Html("")
        return paragraph(
            "How it is worked out: progress = (measured − baseline) ÷ (target − baseline), so it works for KPIs that "
            "should fall as well as rise. The plan runs in a straight line from 0 % at the start to 100 % at the deadline "
            "unless milestones were agreed. Dated or weekly measurements are placed at their exact point on the plan "
            "(for example 1.5 months) and compared with the plan there. Period n is the end of the n-th period, so "
            "month 4 runs from 3 to 4. The forecast extends the straight line that best fits the measurements of the last "
            f"{self.trend_periods:g} periods.",
            css_class="note",
        )

    # -- results ----------------------------------------------------------------
    def freshness_results(self, kp: KpiProgress) -> dict[str, Any]:
        """``next_due``, ``grace_days``, ``measurement_overdue``, ``overdue_from`` and ``period`` (all None when it cannot be told)."""
        f = self.fresh.get(kp.kpi.id)
        if f is None:
            return {"next_due": None, "grace_days": None, "measurement_overdue": None, "overdue_from": None, "period": None}
        return f.as_json()

    def results(self) -> dict[str, Any]:
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "tolerance": self.tolerance,
            "trend_periods": self.trend_periods,
            "kpis": {kp.kpi.id: {**kp.results(), **self.freshness_results(kp)} for kp in self.tracked},
            "problems": self.problems,
            "counts": self.counts(),
            "measurement_overdue": [kp.kpi.id for kp in self.overdue()],
            "measurements_after_as_of": self.later,
            "verdicts": self.verdicts(),
        }


def page_for(
    engagement: Engagement,
    *,
    tolerance: float = 0.02,
    trend_periods: float = 3,
    kpi: str = "",
    as_of: dt.date | None = None,
) -> ProgressPage:
    """The page for an engagement, judged at ``as_of``: measurements dated after it are left out (and
    counted); ``None`` shows them all."""
    check_settings(tolerance=tolerance, trend_periods=trend_periods)
    kpis = engagement.kpis
    if kpi:
        kpis = [k for k in kpis if k.id == kpi]
        if not kpis:
            raise InputError(
                f"parameter kpi: no KPI {kpi!r} in engagement {engagement.id!r}; it has: "
                f"{', '.join(k.id for k in engagement.kpis) or 'none'}"
            )
    shown, later = progress.split_at(kpis, engagement.measurements, as_of)
    tracked, problems = progress.track_all(
        kpis,
        shown,
        tolerance=float(tolerance),
        trend_periods=float(trend_periods),
        fiscal_year_end=engagement.fiscal_year_end,
    )
    judged = as_of or dt.date.today()
    fresh = {kp.kpi.id: f for kp in tracked if (f := progress.freshness(kp, as_of=judged)) is not None}
    page = ProgressPage(
        engagement,
        tracked,
        problems,
        tolerance=float(tolerance),
        trend_periods=float(trend_periods),
        later=len(later),
        fresh=fresh,
    )
    page.as_of = as_of
    return page


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    tolerance: float = 0.02,
    trend_periods: float = 3,
    kpi: str = "",
    as_of: str = "",
) -> ProgressPage:
    """Load the engagement from the store and compute the page, judged at ``as_of`` (an ISO date, empty for today)."""
    check_settings(tolerance=tolerance, trend_periods=trend_periods)
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, tolerance=tolerance, trend_periods=trend_periods, kpi=kpi, as_of=day)
    page.interactive = config.interactive_session()
    return page
