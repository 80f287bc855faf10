"""Progress towards an outcome: pure functions, no I/O.

Units and conventions
---------------------
* **Normalised progress** is a fraction of the journey from baseline to
  target: ``(value - baseline) / (target - baseline)``. 0 is the baseline,
  1 the target, for KPIs that should rise and for those that should fall
  (the sign of ``target - baseline`` takes care of the direction). Values
  below the baseline give negative progress and values past the target give
  more than 1; neither is clipped.
* **Periods** are counted from the KPI's start in the *plan's unit*: the
  unit of a relative deadline ("10 months" -> months), else the unit of the
  KPI's frequency (weekly -> weeks, fortnightly -> fortnights of 14 days,
  quarterly -> quarters, as in csm_nb.vocabulary.PERIODS; a missing or
  unknown frequency -> months). Period ``p``
  is the moment at the end of the p-th period, so *month 4* is the stretch
  from index 3 to index 4 and a crossing at 3.75 lies in the second half of
  month 4.
* **Measurements** are placed on that axis: an integer period counts in the
  unit of the KPI's *frequency* (week 6 of a weekly KPI) and is converted to
  plan periods; an ISO date is turned into fractional plan periods from the
  KPI's start date (calendar months for a monthly plan, days / 7 for a weekly
  one). So a KPI measured weekly against a monthly plan is compared at, for
  example, 1.48 months with the plan interpolated at 1.48.
* **The plan** is a line through (0, 0) and (deadline, 1), or through the
  agreed milestones (period -> planned KPI value) with those two ends added
  when not given; it is linear between points and flat outside them.
* **Status** per measurement: ``ahead`` when progress is more than
  ``tolerance`` above the plan, ``behind`` when more than ``tolerance`` below,
  else ``on_plan``. ``tolerance`` is a fraction of the whole journey
  (0.02 = 2 percentage points).
* **Crossings** are where actual and plan meet, by linear interpolation of
  both lines (fractional period indexes).
* **Forecast**: the period when progress reaches 1, from the least-squares
  line through the measurements of the last ``trend_periods`` plan periods. ``None`` (reported as
  "not at this rate") when that line does not rise.
* **Ceilings and floors** (``Kpi.target_type`` ``stay_below`` / ``stay_above``): ``target`` is a
  limit to stay at or below (a ceiling) or at or above (a floor), not a point to reach. Each
  measurement is ``within`` (the limit itself is within) or ``breached``
  (:func:`within_limit`); there is no plan line, no progress fraction
  (``None``), no crossing and no forecast. The plan-status of a measurement is ``on_plan`` when
  within and ``behind`` when breached, so every verdict reads it by the one rule. A deadline is
  optional (``immediate``: from the start).
* **Freshness** (:func:`freshness`): the next figure is due one period of the KPI's frequency
  after the last measured one (for a KPI never measured: one period after its start). It is
  **overdue** once ``as_of`` is past that due date plus a grace (:data:`GRACE_DAYS`: daily 1 day,
  weekly 3, fortnightly 5, monthly 10, quarterly 20, half-yearly 30, yearly 45).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from csm_nb.errors import InputError
from csm_nb.frames import measurement_list, pandas
from csm_nb.method import dates
from csm_nb.method.dates import DEADLINE_FORMS, date_at, parse_deadline, periods_between
from csm_nb.model import Kpi, Measurement
from csm_nb.vocabulary import KPI_STATUSES, PERIOD_BY_UNIT, day_words, period_unit, row_at

if TYPE_CHECKING:
    import pandas as pd

Status = Literal["ahead", "on_plan", "behind"]
# The words for each status ("ahead of plan" ...); their tones are in csm_nb.vocabulary.KPI_STATUSES.
STATUS_WORDS: dict[str, str] = {key: v.words for key, v in KPI_STATUSES.items()}

_EPS = 1e-9


# -- ceilings and floors -------------------------------------------------------------------------
LimitStatus = Literal["within", "breached"]
LIMIT_TYPES: tuple[str, ...] = ("stay_below", "stay_above")
# A limit's per-measurement word and the plan status every verdict reads it as.
LIMIT_STATUS_KEYS: dict[str, str] = {"within": "on_plan", "breached": "behind"}
# What a limit is called, by target type.
LIMIT_NAMES: dict[str, str] = {"stay_below": "ceiling", "stay_above": "floor"}


def is_limit(kpi: Kpi) -> bool:
    """Whether a KPI's target is a ceiling or floor to stay within rather than a point to reach.

    >>> is_limit(Kpi("k", target_type="stay_below")), is_limit(Kpi("k", target_type="reach")), is_limit(Kpi("k"))
    (True, False, False)
    """
    return getattr(kpi, "target_type", None) in LIMIT_TYPES


def within_limit(value: float, *, limit: float, target_type: str) -> bool:
    """Whether a measured ``value`` keeps a ceiling (``stay_below``: value ≤ limit) or a floor
    (``stay_above``: value ≥ limit); the limit itself is within. Same unit as the KPI.

    At most 6 months between releases: 6 is within, 7 breaches it.

    >>> within_limit(6, limit=6, target_type="stay_below"), within_limit(7, limit=6, target_type="stay_below")
    (True, False)
    >>> within_limit(95, limit=98, target_type="stay_above")
    False
    """
    if target_type == "stay_below":
        return float(value) <= float(limit)
    if target_type == "stay_above":
        return float(value) >= float(limit)
    raise ValueError(f"target_type {target_type!r} is not a limit; expected one of {', '.join(LIMIT_TYPES)}")


def limit_words(status: str, *, target_type: str, limit: str) -> str:
    """A limit's status in plain words, ``limit`` already written with its unit.

    >>> limit_words("within", target_type="stay_below", limit="6 months")
    'within the ceiling of 6 months'
    >>> limit_words("breached", target_type="stay_below", limit="6 months"), limit_words("breached", target_type="stay_above", limit="98 %")
    ('above the ceiling of 6 months', 'below the floor of 98 %')
    """
    name = LIMIT_NAMES[target_type]
    if status == "within":
        return f"within the {name} of {limit}"
    return f"{'above' if target_type == 'stay_below' else 'below'} the {name} of {limit}"


# -- normalising ---------------------------------------------------------------------
def normalised_progress(value: float, *, baseline: float, target: float, kpi: str = "KPI") -> float:
    """Progress as a fraction of the way from ``baseline`` (0) to ``target`` (1).

    ``(value - baseline) / (target - baseline)``; works for falling KPIs too
    and never clips. The order-to-ship example: 30 days -> 15 days, so 22.5
    days is half way and 33 days is 20 % backwards.

    >>> normalised_progress(22.5, baseline=30, target=15)
    0.5
    >>> normalised_progress(33, baseline=30, target=15), normalised_progress(12, baseline=30, target=15)
    (-0.2, 1.2)
    """
    if baseline == target:
        raise InputError(
            f"KPI {kpi!r}: baseline and target are both {baseline:g}, so there is no distance to make progress on; "
            "set a target different from the baseline"
        )
    # + 0.0 turns -0.0 (the baseline of a falling KPI) into a plain 0.
    return (float(value) - float(baseline)) / (float(target) - float(baseline)) + 0.0


def value_at_progress(progress: float, *, baseline: float, target: float) -> float:
    """The KPI value that corresponds to a progress fraction (the inverse).

    >>> value_at_progress(0.5, baseline=30, target=15)
    22.5
    """
    return float(baseline) + float(progress) * (float(target) - float(baseline))


def check_kpi(kpi: Kpi) -> tuple[float, float]:
    """The KPI's baseline and target, refusing what cannot be tracked, naming the KPI.

    A ceiling or floor (:func:`is_limit`) needs only its target (the limit);
    its baseline is shown when known and is NaN otherwise.
    """
    if is_limit(kpi):
        if kpi.target is None:
            raise InputError(f"KPI {kpi.id!r} has no target; a {kpi.target_type} KPI needs its limit as target")
        return (float(kpi.baseline) if kpi.baseline is not None else math.nan), float(kpi.target)
    if kpi.baseline is None or kpi.target is None:
        missing = " and ".join(n for n, v in (("baseline", kpi.baseline), ("target", kpi.target)) if v is None)
        raise InputError(f"KPI {kpi.id!r} has no {missing}; add it to the KPI register to track progress")
    baseline, target = float(kpi.baseline), float(kpi.target)
    normalised_progress(baseline, baseline=baseline, target=target, kpi=kpi.id)  # refuses baseline == target
    if kpi.direction == "increase" and target < baseline or kpi.direction == "decrease" and target > baseline:
        raise InputError(
            f"KPI {kpi.id!r} should {kpi.direction}, but its target {target:g} is "
            f"{'below' if target < baseline else 'above'} its baseline {baseline:g}; fix the direction or the target"
        )
    return baseline, target


# -- periods and dates ---------------------------------------------------------------
# The calendar steps (csm_nb.method.dates), named here too for this module's callers.
add_months, months_between = dates.add_months, dates.months_between


def frequency_unit(frequency: str | None) -> str:
    """The period unit a frequency counts in (csm_nb.vocabulary.PERIODS); unknown or missing means months.

    >>> frequency_unit("weekly"), frequency_unit("fortnightly"), frequency_unit("Monthly"), frequency_unit(None)
    ('week', 'fortnight', 'month', 'month')
    """
    return period_unit(frequency) or "month"


def relative_span(text: str | None) -> tuple[float, str] | None:
    """``"10 months"`` -> ``(10.0, "month")``; ``None`` for a date or anything else
    (the span forms of :func:`csm_nb.method.dates.parse_deadline`).

    >>> relative_span("10 months from the start"), relative_span("2026-10-31")
    ((10.0, 'month'), None)
    """
    deadline = parse_deadline(text)
    return (deadline.count, deadline.unit) if deadline is not None and deadline.kind == "span" else None


def parse_date(text: Any) -> dt.date | None:
    """An ISO date, or ``None`` when ``text`` is not one.

    >>> parse_date("2026-01-01"), parse_date("10 months")
    (datetime.date(2026, 1, 1), None)
    """
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except (TypeError, ValueError):
        return None


def convert_periods(count: float, from_unit: str, to_unit: str) -> float:
    """Periods of one unit in another (by average length; exact among month/quarter/year).

    >>> convert_periods(3, "quarter", "month"), round(convert_periods(13, "week", "month"), 4)
    (9.0, 2.9897)
    """
    if from_unit == to_unit:
        return float(count)
    return float(count) * PERIOD_BY_UNIT[from_unit].days / PERIOD_BY_UNIT[to_unit].days


@dataclass(frozen=True)
class Timeline:
    """How a KPI's periods are counted: the plan's unit and length, the start date,
    and the unit its measurements count in."""

    unit: str  # plan periods: month, week, ...
    length: float  # plan periods from start to deadline
    start: dt.date | None
    measured_unit: str  # integer measurement periods count in this unit

    def position(self, period: int | str, *, kpi: str = "KPI") -> float:
        """Where a measurement's period (index or ISO date) sits, in plan periods."""
        if isinstance(period, int):
            return convert_periods(period, self.measured_unit, self.unit)
        day = parse_date(period)
        if day is None:
            raise InputError(f"KPI {kpi!r}: measurement period {period!r} is neither a period index nor a date (YYYY-MM-DD)")
        if self.start is None:
            raise InputError(
                f"KPI {kpi!r}: the measurement dated {period} needs the KPI's start date to be placed on the plan; "
                "add start: YYYY-MM-DD to the KPI"
            )
        return periods_between(self.start, day, self.unit)

    def label(self, position: float) -> str:
        """``Month 4`` for a whole period; between two, the date when the plan has one (``5 Jan 2026``),
        else the position as it was given (``Month 3.5``): never machine precision (``Month 0.13``)."""
        if abs(position - round(position)) < 1e-6:
            return f"{self.unit.capitalize()} {round(position)}"
        day = self.date(position)
        if day is not None:
            return day_words(day)
        return f"{self.unit.capitalize()} {position:.2f}".rstrip("0").rstrip(".")

    def date(self, position: float) -> dt.date | None:
        """The date at ``position``; ``None`` without a start date, or past the calendar (a forecast
        thousands of years away, from a trend that barely rises)."""
        if self.start is None:
            return None
        try:
            return date_at(self.start, position, self.unit)
        except (ValueError, OverflowError):
            return None


def timeline(kpi: Kpi, *, fiscal_year_end: str | None = None) -> Timeline:
    """Work out a KPI's plan unit and length from its deadline, start and frequency.

    A span ("10 months", "26 weeks from the start") sets both the unit and the
    length. Any other deadline (a date, ``immediate``, ``end November 2027``,
    ``end of this financial year`` with the engagement's ``fiscal_year_end``)
    is a day, measured from the start in the frequency's unit by the calendar
    (:mod:`csm_nb.method.dates`): 1 January to 1 November is exactly 10 months.

    >>> t = timeline(Kpi("k", start="2026-01-01", deadline="10 months", frequency="weekly"))
    >>> t.unit, t.length, t.measured_unit
    ('month', 10.0, 'week')
    >>> timeline(Kpi("k", start="2027-01-01", deadline="2027-11-01", frequency="monthly")).length
    10.0
    >>> t = timeline(Kpi("k", start="2027-01-01", deadline="end of this financial year"), fiscal_year_end="06-30")
    >>> t.date(t.length), round(t.length, 4)  # 5 months and 29 of June's 30 days
    (datetime.date(2027, 6, 30), 5.9667)
    """
    measured = frequency_unit(kpi.frequency)
    start = parse_date(kpi.start)
    deadline = parse_deadline(kpi.deadline)
    if deadline is None and is_limit(kpi) and kpi.deadline in (None, ""):
        deadline = parse_deadline("immediate")  # a limit without a deadline holds from the start
    if deadline is None:
        raise InputError(f"KPI {kpi.id!r} has no usable deadline ({kpi.deadline!r}); give {DEADLINE_FORMS}")
    if deadline.kind == "span":
        length, unit = deadline.count, deadline.unit
    else:
        unit = measured
        if start is None:
            raise InputError(f"KPI {kpi.id!r}: a dated deadline needs a start date; add start: YYYY-MM-DD")
        end = deadline.on(start, fiscal_year_end=fiscal_year_end)
        assert end is not None  # only spans and the financial year need the start, and it is known here
        length = periods_between(start, end, unit)
    if length == 0 and is_limit(kpi):
        return Timeline(unit=unit, length=0.0, start=start, measured_unit=measured)  # a limit from the start
    if length <= 0:
        raise InputError(f"KPI {kpi.id!r}: the deadline {kpi.deadline!r} is not after the start {kpi.start!r}")
    return Timeline(unit=unit, length=float(length), start=start, measured_unit=measured)


def check_measurement_window(
    kpis: Sequence[Kpi],
    measurements: Iterable[tuple[int, Measurement]],
    *,
    source: str,
    fiscal_year_end: str | None = None,
) -> None:
    """Refuse a measurement too far outside its KPI's plan to be anything but a typing mistake.

    The window runs from one plan length before the start (a baseline taken
    before kick-off) to one plan length after the deadline: for a KPI
    planned over 12 months, from month -12 to month 24. A date in 2020 for a
    plan starting in 2026 ("month -72") or a weekly index counted as months
    is refused naming the row. KPIs without a usable timeline, and dated
    measurements of a KPI without a start date, are left to the report,
    which says what is missing.

    >>> k = Kpi("nps", start="2026-01-01", deadline="2027-01-01", frequency="monthly")
    >>> check_measurement_window([k], [(2, Measurement("nps", 3, 30.0))], source="m.csv")
    >>> check_measurement_window([k], [(3, Measurement("nps", "2020-01-31", 30.0))], source="m.csv")
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: m.csv, row 3: KPI 'nps' starts 2026-01-01 and is planned over 12 months; a measurement dated 2020-01-31 (month -71.0) is outside month -12 to month 24; check the date
    """
    lines: dict[str, Timeline | None] = {}
    by_id = {k.id: k for k in kpis}
    for number, m in measurements:
        kpi = by_id.get(m.kpi)
        if kpi is None:
            continue  # unknown KPIs are refused with the list of known ones elsewhere
        if m.kpi not in lines:
            try:
                lines[m.kpi] = timeline(kpi, fiscal_year_end=fiscal_year_end)
            except InputError:
                lines[m.kpi] = None
        line = lines[m.kpi]
        if line is None or line.length <= 0 or (isinstance(m.period, str) and line.start is None):
            continue  # a limit that holds from the start has no plan length to measure a window by
        position = line.position(m.period, kpi=m.kpi)
        if -line.length <= position <= 2 * line.length:
            continue
        start = f"starts {line.start.isoformat()} and " if line.start else ""
        what = f"dated {m.period}" if isinstance(m.period, str) else f"for {line.measured_unit} {m.period}"
        raise InputError(
            f"{row_at(source, number)}: KPI {m.kpi!r} {start}is planned over {line.length:g} {line.unit}s; a measurement "
            f"{what} ({line.unit} {position:.1f}) is outside {line.unit} {-line.length:g} to {line.unit} {2 * line.length:g}; "
            f"check the {'date' if isinstance(m.period, str) else 'period'}"
        )


# -- the plan ------------------------------------------------------------------------
def plan_points(length: float, milestones: Mapping[float, float] | None = None) -> list[tuple[float, float]]:
    """Breakpoints (period, planned progress) of the plan line.

    Linear from (0, 0) to (``length``, 1) by default. ``milestones`` maps a
    period to planned *progress*; the two ends are added when not given.

    >>> plan_points(10)
    [(0.0, 0.0), (10.0, 1.0)]
    >>> plan_points(10, {4: 0.2, 8: 0.9})
    [(0.0, 0.0), (4.0, 0.2), (8.0, 0.9), (10.0, 1.0)]
    """
    points = {float(k): float(v) for k, v in (milestones or {}).items()}
    points.setdefault(0.0, 0.0)
    if not any(k >= length - _EPS for k in points):
        points[float(length)] = 1.0
    return sorted(points.items())


def plan_at(x: float, points: Sequence[tuple[float, float]]) -> float:
    """The planned progress at period ``x``: linear between points, flat outside.

    >>> plan_at(4, plan_points(10)), plan_at(6, [(0, 0), (4, 0.2), (8, 0.9)]), plan_at(12, plan_points(10))
    (0.4, 0.55, 1.0)
    """
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def status(actual: float, planned: float, *, tolerance: float = 0.02) -> Status:
    """``ahead`` / ``on_plan`` / ``behind`` with ``tolerance`` as a fraction of the journey.

    >>> status(0.45, 0.40), status(0.41, 0.40), status(0.15, 0.30)
    ('ahead', 'on_plan', 'behind')
    """
    gap = round(actual - planned, 9)  # 0.45 - 0.40 is 0.04999999999999999 in floats
    if gap > tolerance:
        return "ahead"
    if gap < -tolerance:
        return "behind"
    return "on_plan"


def interpolate(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Linear interpolation inside sorted ``xs`` (flat outside).

    >>> round(interpolate(3.5, [3, 4], [0.15, 0.45]), 9)
    0.3
    """
    return plan_at(x, list(zip(xs, ys)))


@dataclass(frozen=True)
class Crossing:
    """Where the actual line meets the plan; ``to`` is the status after it."""

    period: float
    to: Literal["ahead", "behind"]


def crossings(xs: Sequence[float], actual: Sequence[float], plan: Sequence[tuple[float, float]]) -> list[Crossing]:
    """Where the actual line crosses the plan line, as fractional periods.

    Both lines are piecewise linear (actual between measurements, plan
    between its points), so the gap is evaluated at every breakpoint of
    either and the zero found by linear interpolation inside a segment. A
    line that only touches the plan and turns back is not a crossing.

    Order-to-ship: 15 % at month 3 against a plan of 30 %, 45 % at month 4
    against 40 %; the gap goes -0.15 -> +0.05, so it closes 0.15 / 0.20 of
    the way into month 4:

    >>> crossings([3, 4], [0.15, 0.45], plan_points(10))
    [Crossing(period=3.75, to='ahead')]
    """
    if len(xs) < 2:
        return []
    grid = sorted({*xs, *(p for p, _ in plan if xs[0] < p < xs[-1])})
    gaps = [(x, round(interpolate(x, xs, actual) - plan_at(x, plan), 12)) for x in grid]
    found: list[Crossing] = []
    last: tuple[float, float] | None = None  # last point with a non-zero gap
    touched: float | None = None  # last point where the gap was exactly zero
    for x, gap in gaps:
        if gap == 0:
            touched = x
            continue
        if last is not None and (gap > 0) != (last[1] > 0):
            if touched is not None and touched > last[0]:
                at = touched
            else:
                at = last[0] + (x - last[0]) * (-last[1]) / (gap - last[1])
            found.append(Crossing(round(at, 9), "ahead" if gap > 0 else "behind"))
        last, touched = (x, gap), None
    return found


# -- the forecast ---------------------------------------------------------------------
@dataclass(frozen=True)
class Forecast:
    """When the target is reached at the recent rate; ``period`` is ``None`` when never."""

    period: float | None
    method: str
    slope: float | None = None  # progress per plan period from the trend line
    reached: bool = False  # already reached by the measurements


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line ``y = slope * x + intercept``.

    >>> [round(v, 6) for v in least_squares([4, 5, 6], [0.45, 0.58, 0.72])]
    [0.135, -0.091667]
    """
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    slope = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def forecast_target(xs: Sequence[float], progress: Sequence[float], *, trend_periods: float = 3) -> Forecast:
    """The period at which progress reaches 1 (the target).

    Method: the least-squares straight line through the measurements of the
    last ``trend_periods`` plan periods (those after ``last - trend_periods``;
    at least the last two), solved for progress = 1 and never earlier than the
    last measurement. A window in time rather than a count of points treats
    a weekly KPI and a monthly one alike. If the measurements already reached
    the target, the period where they first did (interpolated). ``period`` is
    ``None`` when the trend is flat or falling: "not at this rate".

    Order-to-ship, months 4-6 at 45 %, 58 %, 72 %: the line rises 13.5 points
    a month and reaches 100 % at month 8.09.

    >>> f = forecast_target([3, 4, 5, 6], [0.15, 0.45, 0.58, 0.72])
    >>> round(f.period, 2), round(f.slope, 3)
    (8.09, 0.135)
    >>> forecast_target([0, 1, 2], [0.1, 0.1, 0.05]).period is None
    True
    """
    for i, p in enumerate(progress):
        if p >= 1 - _EPS:
            if i == 0:
                return Forecast(xs[0], "reached at the first measurement", reached=True)
            x0, x1, p0 = xs[i - 1], xs[i], progress[i - 1]
            at = x0 + (x1 - x0) * (1 - p0) / (p - p0)
            return Forecast(at, "reached: the measurements already met the target", reached=True)
    if len(xs) < 2:
        return Forecast(None, "too few measurements for a trend (need two)")
    first = next(i for i, x in enumerate(xs) if x > xs[-1] - trend_periods + _EPS)
    first = min(first, len(xs) - 2)
    tail_x, tail_p = list(xs[first:]), list(progress[first:])
    method = f"least-squares line through the {len(tail_x)} measurements of the last {trend_periods:g} periods"
    slope, intercept = least_squares(tail_x, tail_p)
    if slope <= _EPS:
        return Forecast(None, method + ": not improving, so not at this rate", slope=slope)
    return Forecast(max((1 - intercept) / slope, tail_x[-1]), method, slope=slope)


# -- one KPI, end to end ------------------------------------------------------------
@dataclass
class KpiProgress:
    """Everything the progress report shows for one KPI, computed once."""

    kpi: Kpi
    timeline: Timeline
    baseline: float
    target: float
    plan: list[tuple[float, float]]
    periods: list[float]  # where each measurement sits, in plan periods
    values: list[float]
    progress: list[float]
    planned: list[float]
    status: list[Status]
    crossings: list[Crossing]
    forecast: Forecast
    tolerance: float
    milestones: dict[float, float] = field(default_factory=dict)  # explicit ones, period -> KPI value
    # A ceiling or floor (stay_below | stay_above): each measurement within or breached; None for reach KPIs.
    limits: list[LimitStatus] | None = None

    @property
    def measured(self) -> bool:
        return bool(self.periods)

    @property
    def latest(self) -> int | None:
        return len(self.periods) - 1 if self.periods else None

    @property
    def gap(self) -> float | None:
        """Latest progress minus plan (fraction of the journey); positive is ahead; ``None`` for a ceiling or floor."""
        i = self.latest
        return None if i is None or self.limits is not None else self.progress[i] - self.planned[i]

    @property
    def target_type(self) -> str:
        """``reach`` (a path from baseline to target), ``stay_below`` or ``stay_above``."""
        return self.kpi.target_type if is_limit(self.kpi) else "reach"

    @property
    def is_limit(self) -> bool:
        return self.limits is not None

    @property
    def on_time(self) -> bool | None:
        """Does the forecast reach the target by the deadline? (``None`` for a ceiling or floor: no deadline to reach.)"""
        if self.limits is not None:
            return None
        if self.forecast.period is None:
            return False if self.measured else None
        return self.forecast.period <= self.timeline.length + _EPS

    def label(self) -> str:
        return self.kpi.name or self.kpi.id

    def frame(self) -> pd.DataFrame:
        """The KPI's progress series as a DataFrame, one row a measurement in time order: ``period`` (plan
        periods from the start), ``label`` ("Month 4"), ``date`` (None without a start date), the measured
        ``value`` in the KPI's unit, ``progress`` and ``planned`` (fractions: 0 = baseline, 1 = target) and
        ``status``.

        >>> k = Kpi("days", direction="decrease", baseline=30, target=15, deadline="10 months")
        >>> track(k, [Measurement("days", 0, 30), Measurement("days", 5, 22.5)]).frame()[["label", "value", "progress", "planned", "status"]]
             label  value  progress  planned    status
        0  Month 0   30.0       0.0      0.0   on_plan
        1  Month 5   22.5       0.5      0.5   on_plan
        """
        t, pd = self.timeline, pandas()
        return pd.DataFrame(
            {
                "period": pd.Series(self.periods, dtype=float),
                "label": pd.Series([t.label(p) for p in self.periods], dtype=object),
                "date": pd.Series([t.date(p) for p in self.periods], dtype=object),
                "value": pd.Series(self.values, dtype=float),
                "progress": pd.Series(self.progress, dtype=float),
                "planned": pd.Series(self.planned, dtype=float),
                "status": pd.Series(self.status, dtype=object),
            }
        )

    def results(self) -> dict[str, Any]:
        """Per-KPI figures for the results file: progress as fractions (0.5, not "50 %"), periods as plan-period indexes."""
        t = self.timeline
        forecast_date = t.date(self.forecast.period) if self.forecast.period is not None else None
        deadline = t.date(t.length)
        return {
            "name": self.label(),
            "kind": self.kpi.kind,
            "unit": self.kpi.unit,
            "direction": self.kpi.direction,
            "target_type": self.target_type,
            "limit_status": list(self.limits) if self.limits is not None else None,
            "baseline": None if math.isnan(self.baseline) else self.baseline,
            "target": self.target,
            "period_unit": t.unit,
            "plan_periods": t.length,
            "start": t.start.isoformat() if t.start else None,
            "deadline": deadline.isoformat() if deadline else None,
            "periods": self.periods,
            "values": self.values,
            "progress": self.progress,
            "planned": self.planned,
            "status": self.status,
            "crossings": [c.period for c in self.crossings],
            "crossing_directions": [c.to for c in self.crossings],
            "forecast_period": self.forecast.period,
            "forecast_date": forecast_date.isoformat() if forecast_date else None,
            "forecast_method": self.forecast.method,
            "trend_per_period": self.forecast.slope,
            "on_time": self.on_time,
            "plan": [list(p) for p in self.plan],
            "tolerance": self.tolerance,
        }


def track(
    kpi: Kpi,
    measurements: Sequence[Measurement] | pd.DataFrame,
    *,
    tolerance: float = 0.02,
    trend_periods: float = 3,
    fiscal_year_end: str | None = None,
) -> KpiProgress:
    """Track one KPI: place its measurements, normalise, compare with the plan.

    Measurements of other KPIs are ignored. Two measurements at the same
    moment (say period 4 and the date it falls on): the later one given wins.
    ``measurements`` may be a DataFrame with the columns ``kpi``, ``period``
    and ``value`` (checked as a measurement file is).

    >>> k = Kpi("days", direction="decrease", baseline=30, target=15, deadline="10 months")
    >>> rows = [Measurement("days", i, v) for i, v in enumerate([30, 29.25, 28.5, 27.75, 23.25, 21.3, 19.2])]
    >>> t = track(k, rows)
    >>> [round(p, 2) for p in t.progress]
    [0.0, 0.05, 0.1, 0.15, 0.45, 0.58, 0.72]
    >>> t.status
    ['on_plan', 'behind', 'behind', 'behind', 'ahead', 'ahead', 'ahead']
    >>> [c.period for c in t.crossings]
    [3.75]
    """
    if not 0 <= tolerance < 1:
        raise InputError(f"tolerance: expected a fraction from 0 to under 1 (0.02 for 2 points), got {tolerance!r}")
    measurements = measurement_list(measurements)
    baseline, target = check_kpi(kpi)
    line = timeline(kpi, fiscal_year_end=fiscal_year_end)
    if is_limit(kpi):
        return track_limit(kpi, measurements, baseline=baseline, line=line, tolerance=tolerance)
    milestones: dict[float, float] = {}
    for key, value in (kpi.milestones or {}).items():
        where = float(key) if isinstance(key, int) else line.position(key, kpi=kpi.id)
        milestones[where] = float(value)
    plan = plan_points(
        line.length, {k: normalised_progress(v, baseline=baseline, target=target, kpi=kpi.id) for k, v in milestones.items()}
    )
    placed: dict[float, float] = {}
    for m in measurements:
        if m.kpi == kpi.id:
            placed[round(line.position(m.period, kpi=kpi.id), 9)] = float(m.value)
    xs = sorted(placed)
    values = [placed[x] for x in xs]
    progress = [normalised_progress(v, baseline=baseline, target=target, kpi=kpi.id) for v in values]
    planned = [plan_at(x, plan) for x in xs]
    return KpiProgress(
        kpi=kpi,
        timeline=line,
        baseline=baseline,
        target=target,
        plan=plan,
        periods=xs,
        values=values,
        progress=progress,
        planned=planned,
        status=[status(p, q, tolerance=tolerance) for p, q in zip(progress, planned)],
        crossings=crossings(xs, progress, plan),
        forecast=forecast_target(xs, progress, trend_periods=trend_periods) if xs else Forecast(None, "no measurements yet"),
        tolerance=tolerance,
        milestones=milestones,
    )


def track_limit(
    kpi: Kpi, measurements: Sequence[Measurement], *, baseline: float, line: Timeline, tolerance: float = 0.02
) -> KpiProgress:
    """Track a ceiling or floor: each measurement ``within`` or ``breached``, no plan, no forecast.

    ``progress`` and ``planned`` are ``None`` (there is no journey); ``status`` is ``on_plan`` within
    and ``behind`` breached (:data:`LIMIT_STATUS_KEYS`).

    At most 6 months between releases, measured at 5, 7 and 5 months:

    >>> k = Kpi("gap", unit="months", target=6, target_type="stay_below", start="2019-01-01", deadline="immediate")
    >>> t = track(k, [Measurement("gap", d, v) for d, v in (("2019-03-01", 5), ("2019-10-01", 7), ("2020-03-01", 5))])
    >>> t.limits, t.status, t.on_time
    (['within', 'breached', 'within'], ['on_plan', 'behind', 'on_plan'], None)
    """
    placed: dict[float, float] = {}
    for m in measurements:
        if m.kpi == kpi.id:
            placed[round(line.position(m.period, kpi=kpi.id), 9)] = float(m.value)
    xs = sorted(placed)
    values = [placed[x] for x in xs]
    limit = float(kpi.target)  # type: ignore[arg-type]  # check_kpi refused a limit without one
    limits: list[LimitStatus] = [
        "within" if within_limit(v, limit=limit, target_type=kpi.target_type or "") else "breached" for v in values
    ]
    return KpiProgress(
        kpi=kpi,
        timeline=line,
        baseline=baseline,
        target=limit,
        plan=[],
        periods=xs,
        values=values,
        progress=[None] * len(xs),  # type: ignore[list-item]  # no journey to measure a share of
        planned=[None] * len(xs),  # type: ignore[list-item]
        status=[LIMIT_STATUS_KEYS[w] for w in limits],  # type: ignore[misc]
        crossings=[],
        forecast=Forecast(None, f"a {'ceiling' if kpi.target_type == 'stay_below' else 'floor'} has no path to forecast"),
        tolerance=tolerance,
        limits=limits,
    )


# -- freshness: is a figure overdue? ---------------------------------------------------------
# Days of grace after a figure falls due before it is "measurement overdue", by the frequency's unit:
# long enough for the figure to be collected, short enough to ask before the next one is due too.
GRACE_DAYS: dict[str, int] = {"day": 1, "week": 3, "fortnight": 5, "month": 10, "quarter": 20, "half-year": 30, "year": 45}


def grace_days(frequency: str | None) -> int:
    """The grace after a figure falls due, in days, for a KPI's frequency (unknown or missing: monthly).

    >>> grace_days("monthly"), grace_days("weekly"), grace_days("quarterly"), grace_days("yearly"), grace_days(None)
    (10, 3, 20, 45, 10)
    """
    return GRACE_DAYS[frequency_unit(frequency)]


def period_words(unit: str, due: dt.date) -> str:
    """The period whose figure falls due on ``due``, in words: the period that ends there.

    >>> period_words("month", dt.date(2020, 4, 1)), period_words("year", dt.date(2021, 1, 1))
    ('March 2020', '2020')
    >>> period_words("quarter", dt.date(2020, 7, 1)), period_words("week", dt.date(2020, 3, 9))
    ('quarter to 30 Jun 2020', 'week to 8 Mar 2020')
    """
    last = due - dt.timedelta(days=1)
    if unit == "month" and due.day == 1:
        return last.strftime("%B %Y")
    if unit == "year" and (due.month, due.day) == (1, 1):
        return str(last.year)
    return f"{unit} to {day_words(last)}"


@dataclass(frozen=True)
class Freshness:
    """When a KPI's next figure is due, and whether it is overdue at ``as_of``.

    ``due`` is the end of the next period to measure; ``overdue_from`` is the first day it counts as
    overdue (``due`` + grace + 1 day); ``period`` names that period ("March 2020")."""

    due: dt.date
    grace: int
    as_of: dt.date
    period: str
    first: bool  # no figure yet: the first one is due

    @property
    def overdue_from(self) -> dt.date:
        return self.due + dt.timedelta(days=self.grace + 1)

    @property
    def overdue(self) -> bool:
        return self.as_of > self.due + dt.timedelta(days=self.grace)

    @property
    def days_overdue(self) -> int:
        """Days past the due date plus grace (0 when not overdue)."""
        return max(0, (self.as_of - self.due).days - self.grace)

    def as_json(self) -> dict[str, Any]:
        return {
            "next_due": self.due.isoformat(),
            "grace_days": self.grace,
            "measurement_overdue": self.overdue,
            "overdue_from": self.overdue_from.isoformat(),
            "period": self.period,
        }


def next_due(kpi: Kpi, last: dt.date | None) -> dt.date | None:
    """When the next figure is due: one period of the KPI's frequency after the ``last`` measured day,
    or after its start when never measured (``None``: no start date to count from).

    >>> next_due(Kpi("k", start="2020-01-01", frequency="monthly"), dt.date(2020, 3, 1))
    datetime.date(2020, 4, 1)
    >>> next_due(Kpi("k", start="2020-01-01", frequency="quarterly"), None), next_due(Kpi("k"), None)
    (datetime.date(2020, 4, 1), None)
    """
    anchor = last or parse_date(kpi.start)
    if anchor is None:
        return None
    try:
        return date_at(anchor, 1, frequency_unit(kpi.frequency))
    except (ValueError, OverflowError):
        return None


def freshness(kp: KpiProgress, *, as_of: dt.date) -> Freshness | None:
    """Is a tracked KPI's next figure overdue at ``as_of``?

    Overdue when ``as_of > last measured day + one period + grace``; a KPI never measured counts
    from its start. ``None`` when it cannot be told: no frequency given (nobody agreed how often to
    measure), no start date, or a KPI that starts after ``as_of``.

    Monthly, last figure for month 14 (1 March 2020): the March figure is due 1 April, overdue from
    12 April (10 days' grace):

    >>> k = Kpi("w", baseline=1.25, target=1.0, start="2019-01-01", deadline="end December 2020", frequency="monthly")
    >>> t = track(k, [Measurement("w", 14, 1.09)])
    >>> f = freshness(t, as_of=dt.date(2020, 4, 11))
    >>> f.due, f.overdue, f.period, freshness(t, as_of=dt.date(2020, 4, 12)).overdue
    (datetime.date(2020, 4, 1), False, 'March 2020', True)
    """
    kpi = kp.kpi
    if period_unit(kpi.frequency) is None:
        return None
    start = parse_date(kpi.start)
    if start is not None and start > as_of:
        return None
    last = kp.timeline.date(kp.periods[-1]) if kp.periods else None
    if kp.periods and last is None:
        return None  # indexes without a start date cannot be dated
    due = next_due(kpi, last)
    if due is None:
        return None
    unit = frequency_unit(kpi.frequency)
    return Freshness(due, grace_days(kpi.frequency), as_of, period_words(unit, due), first=not kp.periods)


# -- as of a date --------------------------------------------------------------------------
def measurement_day(kpi: Kpi | None, period: int | str) -> dt.date | None:
    """The day a measurement stands for: its date, or for a period index ``p`` the end of the KPI's
    ``p``-th period (its start plus ``p`` periods of its frequency, by the calendar). ``None`` when it
    cannot be dated: an index of a KPI without a start date (or of no KPI known here).

    >>> k = Kpi("k", start="2027-01-01", frequency="monthly")
    >>> measurement_day(k, 3), measurement_day(k, "2027-02-15"), measurement_day(Kpi("k"), 3)
    (datetime.date(2027, 4, 1), datetime.date(2027, 2, 15), None)
    """
    if not isinstance(period, int):
        return parse_date(period)
    start = parse_date(kpi.start) if kpi is not None else None
    if start is None:
        return None
    try:
        return date_at(start, period, frequency_unit(kpi.frequency))  # type: ignore[union-attr]
    except (ValueError, OverflowError):  # past the calendar: not on or before any as-of date
        return dt.date.max


def split_at(
    kpis: Sequence[Kpi], measurements: Sequence[Measurement] | pd.DataFrame, as_of: dt.date | None
) -> tuple[list[Measurement], list[Measurement]]:
    """The measurements a report judged at ``as_of`` shows, and those it leaves out (dated after ``as_of``).

    A measurement is dated by :func:`measurement_day`; one that cannot be
    dated is kept. ``as_of=None`` keeps them all.

    >>> k = Kpi("k", start="2027-01-01", frequency="monthly")
    >>> kept, later = split_at([k], [Measurement("k", p, 1.0) for p in range(5)], dt.date(2027, 3, 15))
    >>> [m.period for m in kept], [m.period for m in later]
    ([0, 1, 2], [3, 4])
    """
    rows = measurement_list(measurements)
    if as_of is None:
        return list(rows), []
    by_id = {k.id: k for k in kpis}
    kept: list[Measurement] = []
    later: list[Measurement] = []
    for m in rows:
        day = measurement_day(by_id.get(m.kpi), m.period)
        (later if day is not None and day > as_of else kept).append(m)
    return kept, later


def track_all(
    kpis: Sequence[Kpi],
    measurements: Sequence[Measurement] | pd.DataFrame,
    *,
    tolerance: float = 0.02,
    trend_periods: float = 3,
    fiscal_year_end: str | None = None,
) -> tuple[list[KpiProgress], dict[str, str]]:
    """Track every KPI; a KPI that cannot be tracked goes into ``problems`` (id -> one line)
    instead of stopping the others. ``fiscal_year_end`` (``MM-DD``) places "end of this financial year"."""
    from csm_nb.errors import CsmError

    measurements = measurement_list(measurements)  # once, not once a KPI
    tracked, problems = [], {}
    for kpi in kpis:
        try:
            tracked.append(
                track(kpi, measurements, tolerance=tolerance, trend_periods=trend_periods, fiscal_year_end=fiscal_year_end)
            )
        except CsmError as exc:
            problems[kpi.id] = str(exc)
    return tracked, problems
