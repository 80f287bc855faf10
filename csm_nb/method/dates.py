"""Calendar arithmetic, deadlines and the as-of date: pure functions, no I/O.

Units and conventions
---------------------
* A **date** is a calendar day (``datetime.date``). A span between two dates
  runs from the start of the first day to the start of the second, so
  1 January to 1 November 2027 is exactly 10 months and a deadline date is
  the moment that day begins.
* **Months and longer periods** (a quarter is 3 months, a half-year 6, a
  year 12) are counted on the calendar. First the whole months: step from
  the start with :func:`add_months` (same day of the month, or the month's
  last day when it is shorter) while the step does not pass the end. Then
  the rest as a fraction of the month that follows, by that month's own
  number of days: 1 January to 16 February 2026 is 1 + 15/28 months.
* **Days, weeks and fortnights** are counted in days (1, 7 and 14 a period).
* **Deadlines** are written in one of the forms of :data:`DEADLINE_FORMS`
  (:func:`parse_deadline`); a relative one is resolved against the plan's
  start date (:meth:`Deadline.on`), the financial year against the
  engagement's ``fiscal_year_end`` (``MM-DD``, default ``12-31``).
* **as_of** is the date a report is judged at (:func:`parse_as_of`): an ISO
  date, or empty for today. Nothing that depends on "now" reads the clock
  anywhere else.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from csm_nb.errors import InputError
from csm_nb.vocabulary import PERIOD_BY_UNIT, PERIODS

DEFAULT_FISCAL_YEAR_END = "12-31"
DEADLINE_FORMS = (
    "a date (YYYY-MM-DD), 'N months|weeks|days [from the start]', 'immediate', "
    "'end <Month> <YYYY>' or 'end of this|next financial year'"
)
AS_OF_EXPECTED = "a date (YYYY-MM-DD) such as 2026-11-30, or empty for today"

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNITS = "|".join(re.escape(p.unit) for p in sorted(PERIODS, key=lambda p: -len(p.unit)))
_NUMBER = r"(\d+(?:\.\d+)?)"
# "10 months", "10 months from the start", "26 weeks after start", "90 days"
_SPAN = re.compile(rf"{_NUMBER}\s*({_UNITS})s?(?:\s+(?:from|after)\s+(?:the\s+)?start)?", re.IGNORECASE)
# "end of week 12" (how a plan counted in weeks names its 12th period): the same as "12 weeks"
_END_OF_PERIOD = re.compile(rf"end\s+of\s+({_UNITS})\s+{_NUMBER}", re.IGNORECASE)
_IMMEDIATE = re.compile(r"immediate(?:ly)?", re.IGNORECASE)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTH_END = re.compile(r"end\s+(?:of\s+)?([A-Za-z]+)\.?\s+(\d{4})", re.IGNORECASE)
_FINANCIAL_YEAR = re.compile(r"end\s+of\s+(this|next)\s+(?:financial|fiscal)\s+year", re.IGNORECASE)


# -- calendar steps ------------------------------------------------------------------------------
def add_months(day: dt.date, months: int) -> dt.date:
    """``months`` calendar months after ``day`` (before it when negative), on the same day of the
    month, or on the month's last day when it has no such day.

    >>> add_months(dt.date(2026, 1, 31), 1), add_months(dt.date(2027, 1, 1), 10)
    (datetime.date(2026, 2, 28), datetime.date(2027, 11, 1))
    """
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def months_between(start: dt.date, end: dt.date) -> float:
    """Calendar months from ``start`` to ``end`` (negative when ``end`` is earlier).

    Formula: ``m + d / D`` where ``m`` is the largest whole number of months
    with ``add_months(start, m) <= end``, ``d`` the days left after that step
    and ``D`` the days of the month that follows it
    (``add_months(start, m + 1) - add_months(start, m)``).

    >>> months_between(dt.date(2027, 1, 1), dt.date(2027, 11, 1))
    10.0
    >>> round(months_between(dt.date(2026, 1, 1), dt.date(2026, 2, 16)), 4)  # 1 + 15/28
    1.5357
    """
    sign = 1.0
    if end < start:
        start, end, sign = end, start, -1.0
    whole = (end.year - start.year) * 12 + end.month - start.month
    while whole > 0 and add_months(start, whole) > end:
        whole -= 1
    anchor = add_months(start, whole)
    try:
        days = (add_months(start, whole + 1) - anchor).days
    except ValueError:  # the month after December 9999 is past the calendar; December has 31 days
        days = 31
    return sign * (whole + (end - anchor).days / days)


def periods_between(start: dt.date, end: dt.date, unit: str) -> float:
    """Periods of ``unit`` (a unit of csm_nb.vocabulary.PERIODS) from ``start`` to ``end``.

    Months and longer: :func:`months_between` divided by the period's months;
    days, weeks, fortnights: days divided by the period's days.

    >>> periods_between(dt.date(2026, 1, 1), dt.date(2026, 1, 15), "week")
    2.0
    >>> periods_between(dt.date(2026, 1, 1), dt.date(2026, 7, 1), "quarter")
    2.0
    """
    period = PERIOD_BY_UNIT[unit]
    if period.months:
        return months_between(start, end) / period.months
    return (end - start).days / period.days


def date_at(start: dt.date, periods: float, unit: str) -> dt.date:
    """The date ``periods`` periods of ``unit`` after ``start``: the inverse of :func:`periods_between`
    (a fraction of a month is that share of the following month's days, rounded to a whole day).

    >>> date_at(dt.date(2026, 1, 1), 3.75, "month"), date_at(dt.date(2027, 1, 1), 10, "month")
    (datetime.date(2026, 4, 23), datetime.date(2027, 11, 1))
    """
    period = PERIOD_BY_UNIT[unit]
    if period.months:
        months = periods * period.months
        whole = math.floor(months)
        anchor = add_months(start, whole)
        if months == whole:
            return anchor
        following = add_months(start, whole + 1)
        return anchor + dt.timedelta(days=round((months - whole) * (following - anchor).days))
    return start + dt.timedelta(days=round(periods * period.days))


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month.

    >>> month_end(2028, 2), month_end(2027, 11)
    (datetime.date(2028, 2, 29), datetime.date(2027, 11, 30))
    """
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# -- the financial year ----------------------------------------------------------------------------
def parse_month_day(text: Any) -> tuple[int, int] | None:
    """A financial year's last day as ``(month, day)`` from ``MM-DD``; ``None`` when it is not one.
    29 February is refused: a year end must come every year.

    >>> parse_month_day("03-31"), parse_month_day("12-31"), parse_month_day("02-29"), parse_month_day("13-01")
    ((3, 31), (12, 31), None, None)
    """
    match = re.fullmatch(r"(\d{2})-(\d{2})", str(text).strip()) if isinstance(text, str) else None
    if match is None:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2027, month)[1]:  # 2027: not a leap year
        return None
    return month, day


def financial_year_end(start: dt.date, fiscal_year_end: str | None = None, *, later: int = 0) -> dt.date:
    """The last day of the financial year that ``start`` falls in (``later`` years on).

    The year ends on ``fiscal_year_end`` (``MM-DD``, default 12-31): the first
    such day on or after ``start``.

    >>> financial_year_end(dt.date(2027, 1, 1)), financial_year_end(dt.date(2027, 1, 1), "03-31", later=1)
    (datetime.date(2027, 12, 31), datetime.date(2028, 3, 31))
    >>> financial_year_end(dt.date(2027, 4, 1), "03-31")
    datetime.date(2028, 3, 31)
    """
    found = parse_month_day(fiscal_year_end or DEFAULT_FISCAL_YEAR_END)
    if found is None:
        raise InputError(f"fiscal_year_end: expected a month and day such as 03-31 (MM-DD), got {fiscal_year_end!r}")
    month, day = found
    end = dt.date(start.year, month, day)
    if end < start:
        end = dt.date(start.year + 1, month, day)
    return dt.date(end.year + later, month, day)


# -- deadlines --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deadline:
    """A deadline as written, understood (:func:`parse_deadline`).

    ``kind`` is ``date`` (``day``), ``span`` (``count`` periods of ``unit``
    from the start), ``immediate`` (the start), ``month_end`` (``day``, the
    month's last day) or ``financial_year`` (``later`` = 0 this year, 1 next).
    """

    kind: str
    day: dt.date | None = None
    count: float = 0.0
    unit: str = ""
    later: int = 0

    @property
    def needs_start(self) -> bool:
        """Whether the deadline's date depends on the plan's start date."""
        return self.kind in ("span", "immediate", "financial_year")

    def on(self, start: dt.date | None, *, fiscal_year_end: str | None = None) -> dt.date | None:
        """The deadline's date for a plan starting on ``start`` (``None`` when it needs a start and has none).

        >>> parse_deadline("10 months from the start").on(dt.date(2027, 1, 1))
        datetime.date(2027, 11, 1)
        >>> parse_deadline("end of next financial year").on(dt.date(2027, 1, 1), fiscal_year_end="03-31")
        datetime.date(2028, 3, 31)
        """
        if not self.needs_start:
            return self.day
        if start is None:
            return None
        if self.kind == "immediate":
            return start
        if self.kind == "span":
            return date_at(start, self.count, self.unit)
        return financial_year_end(start, fiscal_year_end, later=self.later)


def parse_deadline(text: Any) -> Deadline | None:
    """A deadline in one of the accepted forms, or ``None`` when it is in none of them.

    The forms (case and spacing do not matter): an ISO date; ``N <unit>``
    with an optional ``from the start`` (units: days, weeks, fortnights,
    months, quarters, half-years, years; ``end of week 12`` is ``12 weeks``);
    ``immediate`` (the start); ``end <Month> <YYYY>`` (that month's last day);
    ``end of this|next financial year``.

    >>> parse_deadline("2027-11-01").day, parse_deadline("10 Months from the start").count
    (datetime.date(2027, 11, 1), 10.0)
    >>> parse_deadline("end November 2027").day, parse_deadline("immediate").kind
    (datetime.date(2027, 11, 30), 'immediate')
    >>> parse_deadline("end of Week 12").unit, parse_deadline("end of this financial year").later
    ('week', 0)
    >>> parse_deadline("when it is done") is None, parse_deadline("2027-02-30") is None
    (True, True)
    """
    if isinstance(text, dt.datetime):
        return None
    if isinstance(text, dt.date):
        return Deadline("date", day=text)
    if not isinstance(text, str):
        return None
    words = " ".join(text.split())
    if _ISO.fullmatch(words):
        try:
            return Deadline("date", day=dt.date.fromisoformat(words))
        except ValueError:
            return None
    if match := _SPAN.fullmatch(words):
        return Deadline("span", count=float(match.group(1)), unit=match.group(2).lower())
    if match := _END_OF_PERIOD.fullmatch(words):
        return Deadline("span", count=float(match.group(2)), unit=match.group(1).lower())
    if _IMMEDIATE.fullmatch(words):
        return Deadline("immediate")
    if (match := _MONTH_END.fullmatch(words)) and match.group(1).lower() in _MONTHS:
        year = int(match.group(2))
        return Deadline("month_end", day=month_end(year, _MONTHS[match.group(1).lower()])) if year >= 1 else None
    if match := _FINANCIAL_YEAR.fullmatch(words):
        return Deadline("financial_year", later=0 if match.group(1).lower() == "this" else 1)
    return None


# -- the as-of date --------------------------------------------------------------------------------
def parse_as_of(value: Any, *, name: str = "parameter as_of", today: dt.date | None = None) -> dt.date:
    """The date a report is judged at: an ISO date (text or ``datetime.date``), or empty (``""`` or
    ``None``) for ``today`` (default: the clock's date). Anything else is one line naming ``name``.

    >>> parse_as_of("2026-11-30"), parse_as_of("", today=dt.date(2026, 12, 1))
    (datetime.date(2026, 11, 30), datetime.date(2026, 12, 1))
    >>> parse_as_of("yesterday")
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: parameter as_of: expected a date (YYYY-MM-DD) such as 2026-11-30, or empty for today, got 'yesterday'
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return today or dt.date.today()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{name}: expected {AS_OF_EXPECTED}, got {value!r}")


def date_words(day: dt.date) -> str:
    """A date written out for a report's header.

    >>> date_words(dt.date(2026, 11, 30)), date_words(dt.date(2027, 1, 5))
    ('30 November 2026', '5 January 2027')
    """
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"
