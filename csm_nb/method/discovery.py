"""Outcome discovery maths: the "check my maths" confirmations a CSM reads
back to a stakeholder, the summarising paraphrase, and the documented outcome
requirements, all as pure functions of the workshop answers.

Conventions, used everywhere in this module:

* counts are in the outcome's own unit (clients, orders, ...), per year
  unless the name says ``monthly``;
* a **shortfall** is ``target - projected``: positive means short of the
  target, negative means ahead of it; as a fraction it is divided by the
  target (0.169 means 16.9 %);
* percentages a person types (``20`` for 20 %) are converted to fractions
  once, when read from the answers, and never again;
* money is in the engagement's currency.

Which projection each figure uses: this year's projection is the monthly run
rate x 12 when the run rate is known (the stakeholder's current pace), and
otherwise last year's actual ("this year repeats last year"); the report says
which. Last year's shortfall always uses last year's actual.

Nothing here does I/O or imports notebook machinery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.model import Outcome
from csm_nb.vocabulary import money, number, percent

MONTHS_PER_YEAR = 12
DEFAULT_TOLERANCE = 0.02  # two percentage points: "about 15 %" for 14.4 % is fine, "about 20 %" for 16.9 % is not


# -- the arithmetic ------------------------------------------------------------
def projected_year(monthly_run_rate: float, *, months: int = MONTHS_PER_YEAR) -> float:
    """The year's total if the current monthly run rate holds.

    Units: the outcome's unit a month in, the same unit a year out.
    Formula: ``monthly_run_rate x months``.

    >>> projected_year(1800)
    21600
    >>> projected_year(1800, months=6)
    10800
    """
    if monthly_run_rate < 0:
        raise ValueError(f"a run rate cannot be negative, got {monthly_run_rate}")
    return monthly_run_rate * months


@dataclass(frozen=True)
class Shortfall:
    """How far a projection falls short of a target (negative: ahead of it)."""

    target: float
    projected: float
    count: float  # target - projected
    fraction: float  # count / target

    @property
    def attained(self) -> float:
        """The projection as a fraction of the target (0.831 means 83.1 %)."""
        return self.projected / self.target


def shortfall(target: float, projected: float) -> Shortfall:
    """The shortfall as a count and as a fraction of the target.

    Sign: positive when short of the target. Formula: ``count = target -
    projected``; ``fraction = count / target``. Last year: 25,000 targeted,
    21,400 served, 3,600 short, 14.4 %; this year at 1,800 a month: 4,400
    short of 26,000, 16.9 %.

    >>> s = shortfall(25000, 21400)
    >>> s.count, round(s.fraction, 3)
    (3600, 0.144)
    >>> s = shortfall(26000, projected_year(1800))
    >>> s.count, round(s.fraction, 4)
    (4400, 0.1692)
    """
    if target <= 0:
        raise ValueError(f"a target must be above zero, got {target}")
    count = target - projected
    return Shortfall(target=target, projected=projected, count=count, fraction=count / target)


def reduced_target(target: float, projected: float, *, reduction: float) -> float:
    """The figure to reach once the shortfall is cut by the agreed ``reduction``.

    ``reduction`` is a fraction (0.5 halves the shortfall). Formula:
    ``target - (1 - reduction) x (target - projected)``. Halving a shortfall
    of 4,400 against 26,000 gives 26,000 - 2,200 = 23,800 (91.5 % of target).

    >>> reduced_target(26000, 21600, reduction=0.5)
    23800.0
    >>> reduced_target(26000, 21600, reduction=1.0)
    26000.0
    """
    if not 0 <= reduction <= 1:
        raise ValueError(f"reduction must be a fraction from 0 to 1, got {reduction}")
    return target - (1 - reduction) * (target - projected)


def value_of(units: float, value_per_unit: float, *, margin: float | None = None) -> float:
    """Money for a number of units: ``units x value_per_unit`` (x ``margin`` for profit).

    1,800 clients a month at $375 each is $675,000 a month; with a 40 % margin
    that is $270,000 profit.

    >>> value_of(1800, 375), value_of(1800, 375, margin=0.4)
    (675000, 270000.0)
    """
    value = units * value_per_unit
    return value if margin is None else value * margin


@dataclass(frozen=True)
class StatedCheck:
    """A figure somebody said out loud, against the one the numbers give."""

    what: str
    stated: float  # fraction
    computed: float  # fraction
    tolerance: float  # fraction (0.02 = 2 percentage points)

    @property
    def difference(self) -> float:
        return self.stated - self.computed

    @property
    def agrees(self) -> bool:
        # A hair of slack so that exactly "tolerance apart" is not flagged by float noise.
        return abs(self.difference) <= self.tolerance + 1e-9

    def message(self) -> str:
        """One polite sentence with both numbers."""
        stated, computed = (
            percent(self.stated, decimals=0 if float(self.stated * 100).is_integer() else 1),
            percent(self.computed),
        )
        if self.agrees:
            return f"{self.what[0].upper()}{self.what[1:]}: about {stated} as stated, {computed} by the figures; they agree."
        return (
            f"A quick check on {self.what}: the figures give {computed}, not the {stated} mentioned. "
            f"Worth agreeing which one everyone works with."
        )


def check_stated(stated: float, computed: float, *, what: str, tolerance: float = DEFAULT_TOLERANCE) -> StatedCheck:
    """Compare a stated fraction with a computed one, within ``tolerance`` (absolute, as a fraction).

    "Missed by about 15 %" against a computed 14.4 % agrees (0.6 points apart);
    "about a 20 % shortfall" against the run-rate projection's 16.9 % does not.

    >>> check_stated(0.15, 0.144, what="last year's shortfall").agrees
    True
    >>> c = check_stated(0.20, 4400 / 26000, what="this year's shortfall")
    >>> c.agrees, round(c.difference, 3)
    (False, 0.031)
    """
    if tolerance < 0:
        raise ValueError(f"tolerance cannot be negative, got {tolerance}")
    return StatedCheck(what=what, stated=stated, computed=computed, tolerance=tolerance)


# -- reading the answers -----------------------------------------------------------
def answer_number(answers: Mapping[str, Any], key: str) -> float | None:
    """A numeric answer as a float; ``None`` when not given (never zero)."""
    value = answers.get(key)
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    from csm_nb.errors import InputError
    from csm_nb.vocabulary import parse_amount

    try:
        return parse_amount(str(value).rstrip("% "), where=key)
    except InputError:
        return None


def answer_fraction(answers: Mapping[str, Any], key: str) -> float | None:
    """A percentage answer (``20`` for 20 %) as a fraction (``0.2``)."""
    value = answer_number(answers, key)
    return None if value is None else value / 100


def answer_text(answers: Mapping[str, Any], key: str) -> str | None:
    value = answers.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class MoneyCheck:
    """The money read-back: run-rate revenue vs the target's, and the gap."""

    value_per_unit: float
    margin: float | None
    run_rate_month: float | None  # run rate x value, a month
    run_rate_year: float  # projected year x value
    target_year: float  # target x value
    gap: float  # target_year - run_rate_year (positive: short)
    reduced_target_year: float | None  # the agreed reduced target x value
    gain: float | None  # reduced_target_year - run_rate_year: what the initiative is worth this year


@dataclass
class MathsCheck:
    """Every "check my maths" figure the answers allow; ``None`` where an input is missing."""

    unit: str
    last_year: Shortfall | None = None
    last_year_stated: StatedCheck | None = None
    monthly_run_rate: float | None = None
    projection_basis: str | None = None  # "run_rate" | "last_year_actual"
    this_year: Shortfall | None = None
    this_year_stated: StatedCheck | None = None
    reduction: float | None = None
    reduced_target: float | None = None
    reduced_shortfall: Shortfall | None = None  # the shortfall left once reduced
    remaining_stated: StatedCheck | None = None
    money: MoneyCheck | None = None
    missing: list[str] = field(default_factory=list)  # plain-words inputs still needed

    @property
    def disagreements(self) -> list[StatedCheck]:
        return [c for c in (self.last_year_stated, self.this_year_stated, self.remaining_stated) if c and not c.agrees]

    def statements(self, currency: str = "USD") -> list[str]:
        """The read-back, one sentence a step, with the numbers."""
        u, out = self.unit, []
        if self.last_year:
            s = self.last_year
            out.append(
                f"Last year: a target of {number(s.target)} {u} and {number(s.projected)} reached, {_short_or_ahead(s, u)}."
            )
        if self.this_year:
            s = self.this_year
            if self.projection_basis == "run_rate":
                basis = (
                    f"At the current {number(self.monthly_run_rate)} {u} a month, the year comes to about {number(s.projected)}"
                )
            else:
                basis = f"If this year repeats last year, it comes to about {number(s.projected)} {u}"
            out.append(f"{basis}: against this year's target of {number(s.target)}, that is {_short_or_ahead(s, u)}.")
        if self.reduced_target is not None and self.this_year and self.reduction is not None:
            share = "halving" if abs(self.reduction - 0.5) < 1e-9 else f"closing {percent(self.reduction, decimals=0)} of"
            left = self.reduced_shortfall
            out.append(
                f"{share.capitalize()} the shortfall means reaching {number(self.reduced_target)} {u} "
                f"({percent(left.attained if left else None)} of the target"
                + (f", {number(left.count)} short)" if left and left.count > 0 else ")")
                + "."
            )
        if self.money:
            m = self.money
            per = f" a month, {money(m.run_rate_year, currency)} a year" if m.run_rate_month is not None else " a year"
            lead = f"{money(m.run_rate_month, currency)}" if m.run_rate_month is not None else money(m.run_rate_year, currency)
            out.append(
                f"At {money(m.value_per_unit, currency, decimals=0 if float(m.value_per_unit).is_integer() else 2)} "
                f"per {_singular(u)}, the current pace is worth {lead}{per}; the target is worth "
                f"{money(m.target_year, currency)}, a gap of {money(m.gap, currency)}."
                + (
                    f" Reaching {number(self.reduced_target)} would add {money(m.gain, currency)} this year."
                    if m.gain is not None and self.reduced_target is not None
                    else ""
                )
                + (f" (Figures are profit, at a {percent(m.margin, decimals=0)} margin.)" if m.margin is not None else "")
            )
        return out

    def results(self) -> dict[str, Any]:
        """Plain JSON: counts as numbers, fractions as fractions, money in the currency."""

        def sf(s: Shortfall | None) -> dict[str, float] | None:
            return None if s is None else {"target": s.target, "projected": s.projected, "count": s.count, "fraction": s.fraction}

        def sc(c: StatedCheck | None) -> dict[str, Any] | None:
            return None if c is None else {"stated": c.stated, "computed": c.computed, "agrees": c.agrees}

        m = self.money
        return {
            "unit": self.unit,
            "last_year": sf(self.last_year),
            "last_year_stated": sc(self.last_year_stated),
            "monthly_run_rate": self.monthly_run_rate,
            "projection_basis": self.projection_basis,
            "this_year": sf(self.this_year),
            "this_year_stated": sc(self.this_year_stated),
            "shortfall_reduction": self.reduction,
            "reduced_target": self.reduced_target,
            "reduced_target_fraction_of_target": self.reduced_shortfall.attained if self.reduced_shortfall else None,
            "remaining_stated": sc(self.remaining_stated),
            "money": None
            if m is None
            else {
                "value_per_unit": m.value_per_unit,
                "margin": m.margin,
                "run_rate_month": m.run_rate_month,
                "run_rate_year": m.run_rate_year,
                "target_year": m.target_year,
                "gap": m.gap,
                "reduced_target_year": m.reduced_target_year,
                "gain": m.gain,
            },
            "missing": list(self.missing),
        }


def _short_or_ahead(s: Shortfall, unit: str) -> str:
    if s.count > 0:
        return f"{number(s.count)} {unit} short ({percent(s.fraction)})"
    if s.count < 0:
        return f"{number(-s.count)} {unit} ahead ({percent(-s.fraction)} over)"
    return "exactly on target"


def _singular(unit: str) -> str:
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def maths_check(answers: Mapping[str, Any], *, tolerance: float = DEFAULT_TOLERANCE) -> MathsCheck:
    """All the read-back figures the answers allow (keys are the question bank's).

    The employee-engagement scenario: last year 21,400 against 25,000 (14.4 %
    short; "about 15 %" agrees), 1,800 a month against 26,000 (16.9 % short;
    "about 20 %" does not agree), halving the shortfall gives 23,800; at $375
    a client the gap is $1.65m.

    >>> m = maths_check({"metric_unit": "clients", "last_year_target": 25000, "last_year_actual": 21400,
    ...                  "this_year_target": 26000, "monthly_run_rate": 1800, "stated_shortfall_pct": 20,
    ...                  "shortfall_reduction_pct": 50, "value_per_unit": 375})
    >>> m.this_year.count, m.reduced_target, m.money.gap, m.this_year_stated.agrees
    (4400.0, 23800.0, 1650000.0, False)
    """
    unit = answer_text(answers, "metric_unit") or "units"
    check = MathsCheck(unit=unit)
    ly_target, ly_actual = answer_number(answers, "last_year_target"), answer_number(answers, "last_year_actual")
    if ly_target and ly_actual is not None:
        check.last_year = shortfall(ly_target, ly_actual)
        stated = answer_fraction(answers, "last_year_stated_shortfall_pct")
        if stated is not None:
            check.last_year_stated = check_stated(
                stated, check.last_year.fraction, what="last year's shortfall", tolerance=tolerance
            )
    else:
        check.missing.append("last year's target and actual")

    run_rate = answer_number(answers, "monthly_run_rate")
    check.monthly_run_rate = run_rate
    if run_rate is not None and run_rate >= 0:
        projected, check.projection_basis = projected_year(run_rate), "run_rate"
    elif ly_actual is not None:
        projected, check.projection_basis = ly_actual, "last_year_actual"
        check.missing.append("the current monthly run rate")
    else:
        projected = None
        check.missing.append("the current monthly run rate")

    target = answer_number(answers, "this_year_target")
    if not target:
        check.missing.append("this year's target")
    if target and projected is not None:
        check.this_year = shortfall(target, projected)
        stated = answer_fraction(answers, "stated_shortfall_pct")
        if stated is not None:
            check.this_year_stated = check_stated(
                stated, check.this_year.fraction, what="this year's shortfall", tolerance=tolerance
            )
        reduction = answer_fraction(answers, "shortfall_reduction_pct")
        if reduction is not None and 0 <= reduction <= 1:
            check.reduction = reduction
            check.reduced_target = reduced_target(target, projected, reduction=reduction)
            check.reduced_shortfall = shortfall(target, check.reduced_target)
            stated_left = answer_fraction(answers, "stated_remaining_shortfall_pct")
            if stated_left is not None:
                check.remaining_stated = check_stated(
                    stated_left, check.reduced_shortfall.fraction, what="shortfall left after the reduction", tolerance=tolerance
                )
        elif reduction is None:
            check.missing.append("how much of the shortfall to close")

    per_unit = answer_number(answers, "value_per_unit")
    margin = answer_fraction(answers, "margin_pct")
    if per_unit is not None and target and projected is not None:
        run_year = value_of(projected, per_unit, margin=margin)
        target_year = value_of(target, per_unit, margin=margin)
        reduced_year = value_of(check.reduced_target, per_unit, margin=margin) if check.reduced_target is not None else None
        check.money = MoneyCheck(
            value_per_unit=per_unit,
            margin=margin,
            run_rate_month=value_of(run_rate, per_unit, margin=margin) if check.projection_basis == "run_rate" else None,
            run_rate_year=run_year,
            target_year=target_year,
            gap=target_year - run_year,
            reduced_target_year=reduced_year,
            gain=None if reduced_year is None else reduced_year - run_year,
        )
    elif per_unit is None:
        check.missing.append(f"the value of one {_singular(unit)} in money")
    return check


# -- the summarising paraphrase --------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")


def paraphrase(
    parts: Sequence[str], answers: Mapping[str, Any], *, lead: str = "So, if I have this right: ", close: str = " Is that right?"
) -> str | None:
    """Compose a summarising question from answer-filled fragments.

    Each fragment is used only when every ``{key}`` in it has an answer, so a
    half-answered stage still reads as a sentence. ``None`` when nothing is
    answered yet.

    >>> paraphrase(["{change} needs to rise", "you measure it {how}", "there is no target yet"],
    ...            {"change": "employee engagement", "how": ""})
    'So, if I have this right: employee engagement needs to rise, and there is no target yet. Is that right?'
    """
    used, answered = [], False
    for part in parts:
        keys = _PLACEHOLDER.findall(part)
        values = {k: answer_text(answers, k) for k in keys}
        if keys and all(values.values()):
            used.append(_PLACEHOLDER.sub(lambda m, values=values: _display(values[m.group(1)]), part))
            answered = True
        elif not keys:
            used.append(part)
    if not answered:  # only the fixed fragments would be left: nothing to summarise yet
        return None
    if len(used) == 1:
        body = used[0]
    else:
        body = ", ".join(used[:-1]) + ", and " + used[-1]
    return f"{lead}{body}.{close}"


def _display(text: str) -> str:
    # Answers are full sentences at times; a trailing full stop would double up inside ours.
    return text.rstrip(" .")


# -- documented outcome requirements -------------------------------------------------
STATUSES = ("stated", "assumed")
PRIORITIES = ("primary", "secondary")


def outcome_requirements(answers: Mapping[str, Any], *, maths: MathsCheck | None = None) -> list[Outcome]:
    """The outcome requirements the answers support: what the discovery workshop hands on.

    Up to three: the business outcome for this year (primary; stated when the
    stakeholder confirmed the maths), next year's goal (secondary; assumed
    until its target is known) and the immediate outcome the initiative
    changes first (secondary; assumed until it has a measure and a level).
    The CSM's own marks (``outcome.<id>.status`` / ``.priority`` answers)
    override these defaults.

    >>> [(o.id, o.quantity) for o in outcome_requirements(
    ...     {"business_metric": "clients served", "metric_unit": "clients", "this_year_target": 26000,
    ...      "monthly_run_rate": 1800, "shortfall_reduction_pct": 50})]
    [('this-year', '23,800 clients in the year (91.5 % of target; shortfall 2,200 instead of 4,400)')]
    """
    maths = maths or maths_check(answers)
    out: list[Outcome] = []
    metric = answer_text(answers, "business_metric")
    unit = maths.unit
    measurement = _measurement(answers)
    if metric and maths.this_year:
        t = maths.this_year
        if maths.reduced_target is not None and maths.reduced_shortfall is not None:
            left = maths.reduced_shortfall
            desc = (
                f"Raise {metric} this year, closing {percent(maths.reduction, decimals=0)} of the shortfall "
                f"against the target of {number(t.target)}"
            )
            qty = (
                f"{number(maths.reduced_target)} {unit} in the year ({percent(left.attained)} of target; "
                f"shortfall {number(max(left.count, 0))} instead of {number(max(t.count, 0))})"
            )
        else:
            desc = f"Raise {metric} this year towards the target of {number(t.target)}"
            qty = f"{number(t.target)} {unit} in the year (now heading for {number(t.projected)})"
        confirmed = answer_text(answers, "maths_confirmed") == "yes"
        out.append(
            Outcome(
                id="this-year",
                description=desc,
                quantity=qty,
                deadline=answer_text(answers, "deadline") or "end of this financial year",
                measurement=measurement,
                status="stated" if confirmed else "assumed",
                priority="primary",
            )
        )
    next_goal = answer_text(answers, "next_year_goal")
    if next_goal:
        out.append(
            Outcome(
                id="next-year",
                description=f"Next year: {_display(next_goal)}",
                quantity=answer_text(answers, "next_year_quantity") or "target not set yet",
                deadline="end of next financial year",
                measurement=measurement,
                status="assumed",
                priority="secondary",
            )
        )
    change = answer_text(answers, "desired_change")
    if change:
        indicator = answer_text(answers, "chosen_indicator")
        text = _display(change)
        out.append(
            Outcome(
                id="immediate",
                description=text[:1].upper() + text[1:],
                quantity=answer_text(answers, "immediate_target") or "level to be agreed",
                # A deadline word the engagement file accepts (csm_nb.method.dates): the change is wanted from the start.
                deadline=answer_text(answers, "immediate_deadline") or "immediate",
                measurement=indicator or "to be agreed (see the leading indicators)",
                status="assumed",
                priority="secondary",
            )
        )
    for outcome in out:
        status = answer_text(answers, f"outcome.{outcome.id}.status")
        priority = answer_text(answers, f"outcome.{outcome.id}.priority")
        if status in STATUSES:
            outcome.status = status
        if priority in PRIORITIES:
            outcome.priority = priority
    return out


def _measurement(answers: Mapping[str, Any]) -> str | None:
    method = answer_text(answers, "measurement_method")
    frequency = answer_text(answers, "measurement_frequency")
    if method and frequency:
        return f"{_display(method)} ({frequency})"
    return method or (f"measured {frequency}" if frequency else None)


def to_validate(outcomes: Sequence[Outcome]) -> list[str]:
    """Assumed outcomes and the parts of any outcome still unknown, as plain items.

    >>> to_validate([Outcome("a", description="Grow", status="assumed", quantity="target not set yet",
    ...                      deadline="2027-12-31", measurement="monthly report")])
    ['Grow: assumed, not yet confirmed by the customer', 'Grow: the quantity (target not set yet)']
    """
    items = []
    for o in outcomes:
        name = o.description or o.id
        if o.status != "stated":
            items.append(f"{name}: assumed, not yet confirmed by the customer")
        for label, value in (("the quantity", o.quantity), ("the deadline", o.deadline), ("how it is measured", o.measurement)):
            if not value or "not set" in value or "to be agreed" in value:
                items.append(f"{name}: {label}" + (f" ({value})" if value else ""))
    return items
