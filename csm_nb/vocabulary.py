"""The words and codes of the suite, each in one place.

* **Currencies**: ISO 4217 alphabetic codes in use (December 2026), plus the
  fund and metal codes a treasury may report in, and the symbols people
  write for the common ones (``CURRENCY_SYMBOLS``).
* **Periods and frequencies**: one table (``PERIODS``) of what "weekly",
  "fortnightly", "monthly" ... mean: the period's length in days, how many
  make a year, and its whole calendar months where it has them. Every module
  that reads a frequency or a period word asks :func:`period_unit`.
* **Verdicts**: the words and tone (good, warn, bad, or info for neutral) of
  every verdict a report or the portfolio summary shows, keyed by the value the
  results files carry (``MONEY_VERDICTS``, ``OVERALL_VERDICTS``,
  ``KPI_STATUSES``), and the colour of each tone (``TONE_COLOURS``, the same as
  the report stylesheet's).
* **Not known yet**: ``None`` for an amount always means "not known yet" (see
  :mod:`csm_nb.model`), and every figure a person reads says so in the same
  words, ``NOT_KNOWN``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from csm_nb import config
from csm_nb.errors import InputError

NOT_KNOWN = "not known yet"

CURRENCIES: frozenset[str] = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XAG",
        "XAU",
        "XCD",
        "XCG",
        "XDR",
        "XOF",
        "XPD",
        "XPF",
        "XPT",
        "XSU",
        "XUA",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
    ]
)
# The symbols written before an amount; any other currency is written as its code ("CHF 5").
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$"}


def currency_code(value: object) -> str | None:
    """The ISO 4217 code ``value`` names (upper-cased), or ``None`` when it names none.

    >>> currency_code("eur"), currency_code("dollars"), currency_code(5)
    ('EUR', None, None)
    """
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if code in CURRENCIES else None


# -- naming a row in a message -------------------------------------------------------------
class InlineRows(str):
    """The source of rows written in the engagement file itself: a row is named by its line.

    >>> rows = InlineRows("acme.yaml", "cash_flow")
    >>> row_at(rows, 6), row_at("cf.csv", 6)
    ('acme.yaml, line 6: cash_flow', 'cf.csv, row 6')
    """

    source: str
    key: str

    def __new__(cls, source: str, key: str) -> InlineRows:
        made = super().__new__(cls, f"{source}: {key}")
        made.source, made.key = source, key
        return made


def row_at(source: str, number: int) -> str:
    """How a message names row ``number`` of ``source``: ``file, row 3``, or for inline rows ``file, line 12: key``."""
    return f"{source.source}, line {number}: {source.key}" if isinstance(source, InlineRows) else f"{source}, row {number}"


# -- reading figures people typed ----------------------------------------------------------
# The symbols (longest first, so A$ goes whole) and any three capitals (a code) are stripped from a typed amount.
_CURRENCY_MARKS = re.compile(
    "|".join(re.escape(s) for s in sorted(set(CURRENCY_SYMBOLS.values()), key=len, reverse=True)) + r"|\b[A-Z]{3}\b"
)


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


_GROUPED = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3})(\.\d*)?")


def parse_amount(cell: Any, *, where: str) -> float | None:
    """A money or number cell: ``None`` when empty (not known yet), else a float.

    Accepts thousands separators, currency symbols or codes, a trailing ``%``
    is *not* accepted (amounts are money), accounting negatives in brackets,
    and a lone ``-`` (the accounting dash for zero).

    >>> parse_amount("$20,000", where="row 2, column revenue_est")
    20000.0
    >>> parse_amount("(1,250.50)", where="x")
    -1250.5
    >>> parse_amount("", where="x") is None
    True
    >>> parse_amount("-", where="x")
    0.0
    """
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise InputError(f"{where}: expected a number, got {cell!r}")
    if isinstance(cell, (int, float)):
        if cell != cell:  # NaN from a spreadsheet means nothing is there
            return None
        if not math.isfinite(cell):
            raise InputError(f"{where}: expected a finite number, got {cell!r}")
        return float(cell)
    text = str(cell).strip()
    if not text:
        return None
    if text in {"-", "–", "—"}:
        return 0.0
    negative = text.startswith("(") and text.endswith(")")
    cleaned = text[1:-1] if negative else text
    cleaned = _CURRENCY_MARKS.sub("", cleaned).replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        if not _GROUPED.fullmatch(cleaned):
            raise InputError(f"{where}: expected a number such as 20000 or $20,000 (commas only between thousands), got {text!r}")
        cleaned = cleaned.replace(",", "")
    if cleaned.startswith("-") and _CURRENCY_MARKS.search(text):
        cleaned = "-" + cleaned.lstrip("-")
    if not _NUMBER.fullmatch(cleaned):
        raise InputError(f"{where}: expected a number such as 20000 or $20,000 (or empty for not known yet), got {text!r}")
    value = float(cleaned)
    if not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number, got {text!r}")
    return -value if negative else value


def parse_period(cell: Any, *, where: str) -> int | str:
    """A measurement's period: a whole period index (0, 1, ...) or an ISO date.

    >>> parse_period("3", where="x"), parse_period("2026-01-31", where="x")
    (3, '2026-01-31')
    """
    if isinstance(cell, bool) or cell is None or cell == "":
        raise InputError(f"{where}: expected a period index (0, 1, 2 ...) or a date (YYYY-MM-DD), got {cell!r}")
    if isinstance(cell, (dt.datetime, dt.date)):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, str) and re.fullmatch(r"\s*[+-]?\d+\s*", cell):
        # Past 15 digits it is no period (and int() refuses 4,300 digits with a traceback).
        if len(cell.strip().lstrip("+-")) > 15:
            raise InputError(
                f"{where}: expected a period index from 0 to {config.MAX_PERIOD_INDEX} (or a date), "
                f"got a {len(cell.strip())}-digit number"
            )
        cell = int(cell)
    if isinstance(cell, int):
        if not 0 <= cell <= config.MAX_PERIOD_INDEX:
            raise InputError(f"{where}: expected a period index from 0 to {config.MAX_PERIOD_INDEX} (or a date), got {cell}")
        return cell
    text = str(cell).strip()
    if re.match(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)", text):  # a date, perhaps with a time: the day must exist
        try:
            day = dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise InputError(f"{where}: {text[:10]} is not a date that exists; expected YYYY-MM-DD") from None
        if len(text) == 10:
            return day
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise InputError(f"{where}: expected a period index (0, 1, 2 ...) or a date (YYYY-MM-DD), got {text!r}") from None


# -- writing figures for people ------------------------------------------------------------
COMPACT_UNITS = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"), (1.0, ""))


def compact_number(value: float, *, decimals: int | None = None) -> str:
    """A short number for axes and labels: ``52k``, ``1.2m``, ``-20k``.

    ``decimals`` is the most decimals to keep (trailing zeros are dropped);
    by default about three significant figures: one decimal below 100 of a
    unit, none above. Non-finite values read ``n/a``.

    >>> [compact_number(v) for v in (1234, 8_100_000, -20_000, 0.5, 52_000, 0, 999_999, 12.34)]
    ['1.2k', '8.1m', '-20k', '0.5', '52k', '0', '1m', '12.3']
    >>> compact_number(1250, decimals=2), compact_number(2.5e9)
    ('1.25k', '2.5bn')
    """
    number = float(value)
    if not math.isfinite(number):
        return "n/a"
    magnitude = abs(number)
    i = next((k for k, (div, _) in enumerate(COMPACT_UNITS) if magnitude >= div), len(COMPACT_UNITS) - 1)
    while True:
        div, suffix = COMPACT_UNITS[i]
        scaled = magnitude / div
        if decimals is not None:
            places = max(0, int(decimals))
        elif suffix:
            places = 0 if scaled >= 100 else 1
        else:
            places = 0 if scaled >= 100 else (1 if scaled >= 10 else 2)
        rounded = round(scaled, places)
        if rounded >= 1000 and i > 0:  # 999,999 should read 1m, not 1000k
            i -= 1
            continue
        break
    if rounded == 0:
        return "0"
    text = f"{rounded:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'-' if number < 0 else ''}{text}{suffix}"


def money(value: float | None, currency: str = "USD", *, unknown: str = NOT_KNOWN, decimals: int = 0) -> str:
    """Money for people, in ``currency`` (an ISO code): ``-$20,000``; ``None`` is not known yet, never zero.

    The sign is the amount's (money out is negative); the symbol comes from
    ``CURRENCY_SYMBOLS``, else the code is written before the amount.

    >>> money(-20000, "USD"), money(1650000.5, "EUR"), money(None), money(5, "CHF")
    ('-$20,000', '€1,650,000', 'not known yet', 'CHF 5')
    """
    if value is None:
        return unknown
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    amount = f"{abs(value):,.{decimals}f}"
    sign = "-" if round(value, decimals) < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency.upper()} {amount}"


def money_compact(value: float, currency: str = "USD") -> str:
    """Short money for chart axes: ``-$20k``, ``$8.1m``.

    >>> money_compact(-20000), money_compact(8_100_000, "EUR"), money_compact(1500, "CHF")
    ('-$20k', '€8.1m', '1.5k')
    """
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    return f"{'-' if value < 0 else ''}{symbol}{compact_number(abs(value))}"


def percent(fraction: float | None, *, decimals: int = 1, unknown: str = NOT_KNOWN) -> str:
    """A fraction as a percentage: 1.325 -> '132.5 %'; ``None`` is not known yet.

    >>> percent(1.325), percent(0.37295625), percent(None)
    ('132.5 %', '37.3 %', 'not known yet')
    """
    if fraction is None:
        return unknown
    return f"{fraction * 100:,.{decimals}f} %"


def number(value: float | None, *, decimals: int = 0, unknown: str = NOT_KNOWN) -> str:
    """A number with thousands separators; ``None`` is not known yet.

    >>> number(1800), number(22.5, decimals=1), number(None)
    ('1,800', '22.5', 'not known yet')
    """
    if value is None:
        return unknown
    return f"{value:,.{decimals}f}"


# -- periods and frequencies -----------------------------------------------------------------
DAYS_PER_YEAR = 365.25  # the average calendar year, leap years included


@dataclass(frozen=True)
class Period:
    """One period length, named as a noun (a plan counts in it: "Week 6") and as a frequency.

    ``days`` is the average length in days; ``per_year`` how many a year is
    counted as (52 weeks, 26 fortnights: the convention people use for annual
    figures); ``months`` the whole calendar months it spans (``None`` for days,
    weeks and fortnights, which are counted in days).
    """

    unit: str  # "fortnight"
    frequency: str  # "fortnightly"
    days: float
    per_year: float
    months: int | None = None


PERIODS: tuple[Period, ...] = (
    Period("day", "daily", 1.0, 365.0),
    Period("week", "weekly", 7.0, 52.0),
    Period("fortnight", "fortnightly", 14.0, 26.0),
    Period("month", "monthly", DAYS_PER_YEAR / 12, 12.0, months=1),
    Period("quarter", "quarterly", DAYS_PER_YEAR / 4, 4.0, months=3),
    Period("half-year", "half-yearly", DAYS_PER_YEAR / 2, 2.0, months=6),
    Period("year", "yearly", DAYS_PER_YEAR, 1.0, months=12),
)
PERIOD_BY_UNIT: dict[str, Period] = {p.unit: p for p in PERIODS}
FREQUENCIES: tuple[str, ...] = tuple(p.frequency for p in PERIODS)
# Other ways people write a period or a frequency (after "a", "per", "each", "every" and a plural s are dropped).
PERIOD_SYNONYMS: dict[str, str] = {
    "half year": "half-year",
    "half-yearly": "half-year",
    "semi-annual": "half-year",
    "semi-annually": "half-year",
    "six months": "half-year",
    "six-monthly": "half-year",
    "twice a year": "half-year",
    "annual": "year",
    "annually": "year",
    "annum": "year",
    "once a year": "year",
    "once a month": "month",
    "once a week": "week",
    "once a day": "day",
    "once a fortnight": "fortnight",
    "two weeks": "fortnight",
    "three months": "quarter",  # not "biweekly": it also means twice a week
} | {p.frequency: p.unit for p in PERIODS}


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count and its noun, singular or plural as English has it (never "KPI(s)").

    >>> plural(1, "KPI"), plural(2, "KPI"), plural(0, "outcome"), plural(3, "family", "families")
    ('1 KPI', '2 KPIs', '0 outcomes', '3 families')
    """
    return f"{count} {word if count == 1 else (many or word + 's')}"


def plan_point(unit: str, position: float) -> str:
    """A point on a plan as people say it: the nearest whole period, never machine precision.

    >>> plan_point("month", 30.2), plan_point("week", 2.02), plan_point("month", 0.13), plan_point("month", -0.2)
    ('month 30', 'week 2', 'month 0', 'month 0')
    """
    return f"{unit} {round(position) + 0}"  # + 0: -0.2 rounds to -0, which prints as "0"


def part_of_month(day: dt.date) -> str:
    """ "early", "mid" or "late": where in its month a day falls (1-10, 11-20, 21 on).

    >>> part_of_month(dt.date(2028, 6, 15)), part_of_month(dt.date(2028, 6, 30))
    ('mid', 'late')
    """
    return "early" if day.day <= 10 else ("mid" if day.day <= 20 else "late")


def day_words(day: dt.date) -> str:
    """A date as people read it in a report.

    >>> day_words(dt.date(2026, 1, 5))
    '5 Jan 2026'
    """
    return f"{day.day} {day.strftime('%b %Y')}"


def period_unit(text: str | None) -> str | None:
    """The period a person's word names, as its unit noun; ``None`` when it names none.

    Case, spacing, a leading "a"/"an"/"per"/"each"/"every" and a plural s do
    not matter.

    >>> [period_unit(w) for w in ("Weekly", "every fortnight", "a month", "quarters", "once a year", "sprint", None)]
    ['week', 'fortnight', 'month', 'quarter', 'year', None, None]
    """
    if not isinstance(text, str):
        return None
    words = " ".join(text.casefold().split())
    if words not in PERIOD_SYNONYMS:
        words = re.sub(r"^(a|an|per|each|every)\s+", "", words)
    words = PERIOD_SYNONYMS.get(words, words)
    if words not in PERIOD_BY_UNIT and words.endswith("s"):
        words = PERIOD_SYNONYMS.get(words[:-1], words[:-1])
    return words if words in PERIOD_BY_UNIT else None


def frequency_word(text: str | None) -> str | None:
    """The frequency word we write for what a person wrote ("every fortnight" -> "fortnightly"), or ``None``.

    >>> frequency_word("Monthly"), frequency_word("once a year"), frequency_word("every two weeks"), frequency_word("sometimes")
    ('monthly', 'yearly', 'fortnightly', None)
    """
    unit = period_unit(text)
    return PERIOD_BY_UNIT[unit].frequency if unit else None


def periods_per_year(text: str | None) -> float | None:
    """How many of the period a word names make a year (``None`` when unknown).

    >>> periods_per_year("month"), periods_per_year("Weekly"), periods_per_year("a quarter"), periods_per_year("sprint")
    (12.0, 52.0, 4.0, None)
    """
    unit = period_unit(text)
    return PERIOD_BY_UNIT[unit].per_year if unit else None


# -- verdict words ---------------------------------------------------------------------------
Tone = Literal["good", "warn", "bad", "info"]
# The colour of each tone; "info" is the neutral one. The same as templates/csm_report/report.css.
TONE_COLOURS: dict[str, str] = {"good": "#1b7f4b", "warn": "#8a5a00", "bad": "#b3261e", "info": "#1f5f99"}


@dataclass(frozen=True)
class Verdict:
    """A verdict's words: ``words`` for a tag or a table cell (an index page, the
    portfolio summary), ``title`` to open a callout, ``tone`` for its colour, and
    ``phrase`` inside a sentence (the words when not given). The key each table
    files it under is the value the results files carry."""

    words: str
    title: str
    tone: Tone
    phrase: str = ""

    @property
    def in_sentence(self) -> str:
        """>>> MONEY_VERDICTS["within_band"].in_sentence, MONEY_VERDICTS["on_track"].in_sentence
        ("slightly below the estimate, within the estimate's accuracy", 'in line with the estimate')
        """
        return self.phrase or self.words


# How the money is doing: actual revenue to date against the estimate, a cash-flow result's
# ``verdict`` (and ``verdicts.money`` in every results file). Worded apart from the overall
# verdict, so "on track" always means the engagement as a whole.
MONEY_VERDICTS: dict[str, Verdict] = {
    "on_track": Verdict("in line with the estimate", "In line with the estimate:", "good"),
    "within_band": Verdict(
        "slightly below the estimate",
        "Slightly below the estimate, within its accuracy:",
        "warn",
        phrase="slightly below the estimate, within the estimate's accuracy",
    ),
    "behind": Verdict("below the estimate", "Below the estimate:", "bad"),
    "not_started": Verdict("no actual figures yet", "No actual figures yet:", "info"),
}
# The engagement as a whole (``verdicts.overall``), by the rule of csm_nb.method.verdicts.
OVERALL_VERDICTS: dict[str, Verdict] = {
    "on_track": Verdict("on track", "On track.", "good"),
    "attention": Verdict("needs attention", "Needs attention.", "warn"),
    "off_track": Verdict("off track", "Off track.", "bad"),
    "not_started": Verdict("too early to tell", "Too early to tell.", "info"),
}
# One KPI measurement against its plan: a progress result's ``status``.
KPI_STATUSES: dict[str, Verdict] = {
    "ahead": Verdict("ahead of plan", "Ahead of plan.", "good"),
    "on_plan": Verdict("on plan", "On plan.", "good"),
    "behind": Verdict("behind plan", "Behind plan.", "bad"),
}
# A portfolio summary's verdict is the engagement's ``overall`` (OVERALL_VERDICTS), the same
# whichever workbooks ran: every results file carries the engagement's ``verdicts``.


# -- the engagement plan (csm_nb.method.engagement_plan) ---------------------------------------
AUDIENCES: tuple[str, ...] = ("customer", "internal")
PHASES: tuple[str, ...] = ("onboarding", "ongoing")
MOMENT_TYPES: tuple[str, ...] = ("milestone", "time", "event")
MOMENT_MARKS: tuple[str, ...] = ("first_value", "onboarding_complete", "reference")
MOMENT_LOG_STATUSES: tuple[str, ...] = ("held", "cancelled", "no_show")
CHANNELS: tuple[str, ...] = ("meeting", "call", "email", "in_app", "automated")
# What a logged event is; the engagement model's event moments and triggers name these.
EVENT_TYPES: dict[str, str] = {
    "support_case": "support case",
    "release": "new release",
    "sponsor_change": "sponsor change",
    "survey": "survey answer",
    "usage_drop": "usage drop",
    "metric_drop": "key-metric drop",
    "other": "other",
}
# Why an onboarding step was late (closed, so delays can be counted across customers).
DELAY_REASONS: dict[str, str] = {
    "customer_consensus": "the customer needed time to agree",
    "customer_resources": "the customer's people were not available",
    "customer_data": "the customer's data was not ready",
    "our_resources": "our people were not available",
    "technical": "a technical problem",
    "third_party": "a third party",
    "other": "another reason",
}
# A moment occurrence judged at ``as_of``.
MOMENT_STATUSES: dict[str, Verdict] = {
    "held_on_time": Verdict("held on time", "Held on time.", "good"),
    "held_late": Verdict("held late", "Held late.", "warn"),
    "planned": Verdict("planned", "Planned.", "info"),
    "due": Verdict("due soon", "Due soon.", "info"),
    "overdue": Verdict("overdue", "Overdue.", "warn"),
    "escalated": Verdict("escalated", "Escalated.", "bad"),
    "cancelled": Verdict("cancelled", "Cancelled.", "info"),
    "no_show": Verdict("missed", "Missed.", "warn"),
}
# A stage of onboarding against its expected days.
STAGE_STATUSES: dict[str, Verdict] = {
    "on_track": Verdict("on time", "On time.", "good"),
    "behind": Verdict("slower than expected", "Slower than expected.", "warn"),
    "stuck": Verdict("stuck", "Stuck.", "bad"),
}
# Time to value against its target.
TTV_STATUSES: dict[str, Verdict] = {
    "on_target": Verdict("on target", "On target.", "good"),
    "late": Verdict("late", "Late.", "bad"),
    "on_course": Verdict("on course", "On course.", "info"),
    "overdue": Verdict("overdue", "Overdue.", "bad"),
}


# -- account health, stakeholders, success plan, renewal, activities (csm_nb.method.health, ...) ---
# A health score's band: red below ``red``, green from ``green``, amber between (settings: health.bands).
HEALTH_BANDS: dict[str, Verdict] = {
    "green": Verdict("green", "Healthy.", "good"),
    "amber": Verdict("amber", "Needs watching.", "warn"),
    "red": Verdict("red", "At risk.", "bad"),
}
# The health score's components, their default weights, and what each scores, in words.
HEALTH_COMPONENTS: dict[str, str] = {
    "outcome": "outcome KPIs (lagging) against their plan",
    "leading": "early indicators (leading KPIs) against their plan",
    "money": "actual revenue against the estimate to date",
    "onboarding": "the current onboarding stage against its expected days",
    "moments": "moments of the last 180 days held on time",
    "relationship": "sponsor, champion, contacts at each level, no strong opponent",
    "customer_view": "the customer's pulse answers (else survey ratings) of the last 180 days",
}
DEFAULT_HEALTH_WEIGHTS: dict[str, float] = {
    "outcome": 3,
    "leading": 2,
    "money": 2,
    "onboarding": 1,
    "moments": 1,
    "relationship": 1,
    "customer_view": 1,
}
DEFAULT_HEALTH_BANDS: dict[str, float] = {"red": 50, "green": 75}

STAKEHOLDER_SIDES: tuple[str, ...] = ("customer", "ours", "partner")
STAKEHOLDER_ROLES: dict[str, str] = {
    "sponsor": "executive sponsor",
    "champion": "champion",
    "decision_maker": "decision maker",
    "budget_holder": "budget holder",
    "technical_owner": "technical owner",
    "user": "user",
    "influencer": "influencer",
    "blocker": "blocker",
}
# The three levels people meet at, on both sides.
LEVELS: dict[str, str] = {"operational": "operational", "business": "business", "strategic": "strategic"}
# Our functions the CSM speaks for (the single point of contact for each).
OUR_FUNCTIONS: dict[str, str] = {
    "support": "support",
    "legal": "legal",
    "sales": "sales",
    "marketing": "marketing",
    "engineering": "engineering",
    "accounting": "accounting",
    "consulting": "consulting",
    "data_science": "data science",
    "product_development": "product development",
    "product_deployment": "product deployment",
}
STAKEHOLDER_STATUSES: tuple[str, ...] = ("active", "left", "new")
# How often a stakeholder expects contact, in days (a contact is overdue after this many).
CADENCE_DAYS: dict[str, int] = {"weekly": 7, "monthly": 31, "quarterly": 92}

MILESTONE_KINDS: tuple[str, ...] = ("technical", "learning", "adoption", "value", "governance")
MILESTONE_STATUSES: dict[str, Verdict] = {
    "done_on_time": Verdict("done on time", "Done on time.", "good"),
    "done_late": Verdict("done late", "Done late.", "warn"),
    "overdue": Verdict("overdue", "Overdue.", "bad"),
    "due": Verdict("due soon", "Due soon.", "info"),
    "planned": Verdict("planned", "Planned.", "info"),
}

RISK_KINDS: tuple[str, ...] = ("churn", "downsell", "delay", "adoption", "relationship")
RISK_SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
RISK_STATUSES: dict[str, str] = {
    "open": "open",
    "plan_in_place": "plan in place",
    "saving": "being saved",
    "recovered": "recovered",
    "lost": "lost",
}
RISK_CLOSED: tuple[str, ...] = ("recovered", "lost")
COMMITMENT_STATUSES: dict[str, str] = {"kept": "kept", "at_risk": "at risk", "broken": "broken", "open": "open"}
REFERENCE_KINDS: dict[str, str] = {
    "case_study": "case study",
    "reference_call": "reference call",
    "testimonial": "testimonial",
    "event_talk": "talk at an event",
}
ACTIVITY_TYPES: tuple[str, ...] = (
    "meeting",
    "workshop",
    "report",
    "training",
    "visit",
    "call",
    "email",
    "escalation",
    "internal",
)
# The CSM's eight missions: what each activity serves (one activity may serve several).
MISSIONS: dict[str, str] = {
    "reduce_risk": "reduce the risk of churn",
    "develop_business": "develop the business",
    "focus_on_value": "focus on value",
    "manage_goals": "manage the customer's goals",
    "mutual_profitability": "create mutual profitability",
    "satisfaction": "keep the customer satisfied",
    "understand_customer": "understand the customer",
    "build_relationships": "build relationships",
}

# What a KPI's target means: a path from the baseline (reach), or a ceiling or floor to stay within.
KPI_TARGET_TYPES: dict[str, str] = {
    "reach": "reach the target by the deadline",
    "stay_below": "stay at or below the target (a ceiling)",
    "stay_above": "stay at or above the target (a floor)",
}
# Where a KPI's figures come from: our product's usage data, or the customer (who must agree to share them).
KPI_ORIGINS: tuple[str, ...] = ("usage", "customer")
KPI_CONSENTS: tuple[str, ...] = ("needed", "given")

# Maturity: how far a behaviour of a maturity model is seen, and the credit each answer earns.
MATURITY_CREDITS: dict[str, float] = {"yes": 1.0, "partly": 0.5, "no": 0.0}

# Customer jobs: what kind of job, and which way a desired outcome should move.
JOB_KINDS: dict[str, str] = {
    "core": "the job the customer is trying to get done",
    "related": "a job done alongside it",
    "consumption": "a job of using what was bought (installing, learning, upgrading)",
}
OUTCOME_DIRECTIONS: tuple[str, ...] = ("minimise", "maximise")
RATING_SCALE: tuple[int, int] = (0, 10)  # importance and satisfaction are rated 0 to 10
