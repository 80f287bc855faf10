"""Financial linkage: from one unit of KPI movement to money. Pure functions, no I/O.

A *linkage* is a chain of agreed factors. Each step turns the output of the
step before into something closer to money, for example (the employee
engagement scenario):

====  =========  ==========================================  ========================
step  kind       what was agreed                             one engagement point
====  =========  ==========================================  ========================
1     percent    +5 % clients served, on a baseline of 1,800  90 clients a month
2     multiply   $375 revenue per client served               $33,750 revenue a month
3     margin     40 % profit margin                           $13,500 profit a month
====  =========  ==========================================  ========================

Units and signs
---------------
* The chain values **one unit of improvement** of the KPI, in the direction
  agreed for it (one point more engagement; one day less order-to-ship time).
  Every factor is therefore a positive number; zero or a negative factor is
  refused, naming the link and the step.
* ``multiply``: output = input × factor. ``percent``: output = input × factor
  × baseline, the factor a fraction (5 % is 0.05) of a positive baseline.
  ``margin``: profit = revenue × factor (0 < factor ≤ 1); it is the last step.
* The chain runs per *period* of the link (a month, a week ...); a year is
  ``periods_per_year`` periods (12 for a month). Money is in the
  engagement's currency.
* Accuracies are fractions: 0.2 means the factor may be 20 % off either way.

Combined accuracy
-----------------
The result is a product of factors, so relative errors combine. Two figures
are shown, labelled:

* **likely** (the headline): root-sum-square of the relative accuracies,
  ``sqrt(a1² + a2² + ...)``, right when the factors' errors are independent;
* **worst case**: every factor off the same way at once,
  ``Π(1 + a) - 1`` above and ``1 - Π(1 - a)`` below.

>>> link = parse_link({"id": "engagement-to-revenue", "period": "month", "steps": [
...     {"kind": "percent", "factor": 0.05, "baseline": 1800, "accuracy": 0.2},
...     {"factor": 375, "accuracy": 0.05}, {"kind": "margin", "factor": 0.4}],
...     "gap": {"step": 1, "target_per_year": 26000}})
>>> s = summarise(link, gap_fraction=0.5)
>>> s.revenue_per_period, s.revenue_per_year, s.profit_per_year
(33750.0, 405000.0, 162000.0)
>>> s.gap.money_gap_per_year, round(s.gap.movement_for_fraction, 3)
(1650000.0, 2.037)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from csm_nb.errors import InputError
from csm_nb.model import CashFlowLine, Kpi, Measurement
from csm_nb.vocabulary import CURRENCY_SYMBOLS, PERIODS, periods_per_year

Basis = Literal["revenue", "profit"]
KINDS = ("multiply", "percent", "margin")


# ----------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Step:
    """One agreed factor of the chain (see the module docstring for the kinds)."""

    factor: float
    kind: str = "multiply"
    description: str | None = None
    baseline: float | None = None  # percent steps only: what the percentage is of
    unit_in: str | None = None
    unit_out: str | None = None
    unit: str | None = None  # a free-text label, for people
    source: str | None = None  # agreed with whom, from which data
    accuracy: float | None = None  # fraction: 0.2 = ±20 %

    @property
    def multiplier(self) -> float:
        """What one unit in becomes: the factor, or factor × baseline for a percent step.

        >>> Step(0.05, "percent", baseline=1800).multiplier
        90.0
        """
        return self.factor * self.baseline if self.kind == "percent" and self.baseline is not None else self.factor

    @property
    def accuracy_or_zero(self) -> float:
        return self.accuracy or 0.0

    def shown_factor(self) -> str:
        """The factor as a person says it: '5 % of 1,800', '× 375', '40 % margin'."""
        if self.kind == "percent":
            return f"{_num(self.factor * 100)} % of {_num(self.baseline or 0)}"
        if self.kind == "margin":
            return f"{_num(self.factor * 100)} % margin"
        return f"× {_num(self.factor)}"


@dataclass(frozen=True)
class Gap:
    """Run rate against target, in the quantity that step ``step`` (1-based) puts out."""

    step: int
    run_rate: float  # per link period, e.g. 1,800 clients a month
    target_per_year: float  # e.g. 26,000 clients a year
    source: str | None = None


@dataclass(frozen=True)
class Linkage:
    id: str
    steps: tuple[Step, ...]
    periods_per_year: float
    period: str | None = None
    kpi: str | None = None
    description: str | None = None
    gap: Gap | None = None

    @property
    def margin_step(self) -> Step | None:
        return next((s for s in self.steps if s.kind == "margin"), None)

    @property
    def revenue_steps(self) -> tuple[Step, ...]:
        """The steps up to revenue (everything except the margin)."""
        return tuple(s for s in self.steps if s.kind != "margin")

    def steps_for(self, basis: Basis) -> tuple[Step, ...]:
        return self.steps if basis == "profit" else self.revenue_steps


# ----------------------------------------------------------------------------- reading and checking


def unit_key(unit: str) -> str:
    """A unit as compared between steps: case, plurals and 'a'/'per' do not matter.

    >>> unit_key("Clients a month") == unit_key("client per month") == unit_key("clients/month")
    True
    >>> unit_key("points") == unit_key("USD")
    False
    """
    text = unit.casefold().replace("/", " per ")
    words = []
    for word in text.split():
        word = "per" if word in {"a", "an", "per", "each", "every"} else word
        words.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return " ".join(words)


def is_money_unit(unit: str, currency: str) -> bool:
    """Does ``unit`` start with the currency (code or symbol), or say 'money'?

    >>> is_money_unit("USD a month", "USD"), is_money_unit("$ per client", "USD"), is_money_unit("clients", "USD")
    (True, True, False)
    """
    first = unit.strip().split()[0].casefold() if unit.strip() else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    return first in {currency.casefold(), "money"} or bool(symbol and first.startswith(symbol.casefold()))


def parse_link(data: Mapping[str, Any], *, kpi: Kpi | None = None, currency: str | None = None) -> Linkage:
    """Check one ``financial_links`` entry and return it as a :class:`Linkage`.

    Refuses, naming the link and the step: no steps; a zero or negative factor;
    a percent step without a baseline; a percentage written as a whole number;
    a margin that is not the last step; an accuracy of 100 % or more; units
    that do not follow on from one step to the next (or from the KPI, or to the
    currency at the end); a period whose length is not known; a gap whose step
    or run rate is missing.

    >>> parse_link({"id": "x", "period": "month", "steps": [{"factor": 0}]})
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: financial link 'x', step 1: the factor must be above zero, got 0; ...
    """
    link = _read_link(data, kpi=kpi, currency=currency, complete=True)
    assert link is not None
    return link


def check_link(data: Mapping[str, Any], *, kpi: Kpi | None = None, currency: str | None = None) -> None:
    """The checks of :func:`parse_link` for a file being imported: zero or negative
    factors, missing baselines and units that do not follow on are refused; a
    link still without steps or a period is let through (it may be filled in
    later, in the workshop), and the plausibility checks (a percentage above 1,
    where the margin sits) wait until the link is used.

    >>> check_link({"id": "x", "steps": [{"factor": 2}]}) is None
    True
    >>> check_link({"id": "x", "steps": [{"kind": "percent", "factor": 0.05}]})
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: financial link 'x', step 1: missing baseline: ...
    """
    _read_link(data, kpi=kpi, currency=currency, complete=False)


def _read_link(data: Mapping[str, Any], *, kpi: Kpi | None, currency: str | None, complete: bool) -> Linkage | None:
    link_id = str(data.get("id") or "(no id)")
    name = f"financial link {link_id!r}"
    raw_steps = list(data.get("steps") or [])
    if not raw_steps:
        if not complete:
            return None
        raise InputError(f"{name}: has no steps; add at least one agreed factor from one unit of the KPI to money")
    steps = [_parse_step(raw, i + 1, name, strict=complete) for i, raw in enumerate(raw_steps)]

    for i, step in enumerate(steps, start=1):
        if complete and step.kind == "margin" and i != len(steps):
            raise InputError(f"{_where(name, i, step)}: a margin turns revenue into profit, so it must be the last step")
        if complete and step.kind == "margin" and i == 1:
            raise InputError(f"{_where(name, i, step)}: a margin needs revenue before it; put the steps to revenue first")
    for i in range(1, len(steps)):
        before, after = steps[i - 1], steps[i]
        if before.unit_out and after.unit_in and unit_key(before.unit_out) != unit_key(after.unit_in):
            raise InputError(
                f"{_where(name, i + 1, after)}: unit mismatch: it takes {after.unit_in!r} but step {i} gives "
                f"{before.unit_out!r}; make the units follow on"
            )
    first = steps[0]
    if kpi is not None and kpi.unit and first.unit_in and unit_key(kpi.unit) != unit_key(first.unit_in):
        raise InputError(
            f"{_where(name, 1, first)}: unit mismatch: it takes {first.unit_in!r} but KPI {kpi.id!r} is measured in {kpi.unit!r}"
        )
    last_money = next((s for s in reversed(steps) if s.kind != "margin"), None)
    if currency and last_money is not None and last_money.unit_out and not is_money_unit(last_money.unit_out, currency):
        n = steps.index(last_money) + 1
        raise InputError(
            f"{_where(name, n, last_money)}: unit mismatch: the chain must end in money ({currency}), "
            f"but it ends in {last_money.unit_out!r}"
        )

    per_year = data.get("periods_per_year")
    if per_year is None:
        per_year = periods_per_year(data.get("period"))
    if per_year is None and not complete:
        _parse_gap(data.get("gap"), steps, name)
        return None
    if per_year is None:
        said = f"period {data.get('period')!r} is not a length we know" if data.get("period") else "no period given"
        raise InputError(f"{name}: {said}; set period to {', '.join(p.unit for p in PERIODS)}, or give periods_per_year")
    if not per_year > 0:
        raise InputError(f"{name}: periods_per_year must be above zero, got {per_year!r}")

    gap = _parse_gap(data.get("gap"), steps, name)
    return Linkage(
        id=link_id,
        steps=tuple(steps),
        periods_per_year=float(per_year),
        period=data.get("period"),
        kpi=data.get("kpi"),
        description=data.get("description"),
        gap=gap,
    )


def _where(name: str, number: int, step: Step | Mapping[str, Any]) -> str:
    description = step.description if isinstance(step, Step) else step.get("description")
    return f"{name}, step {number}" + (f" ({description})" if description else "")


def _parse_step(raw: Mapping[str, Any], number: int, name: str, *, strict: bool = True) -> Step:
    where = _where(name, number, raw)
    kind = raw.get("kind") or "multiply"
    if kind not in KINDS:
        raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    factor = _number(raw.get("factor"), f"{where}: factor")
    if factor is None:
        raise InputError(f"{where}: the factor is missing")
    if factor <= 0:
        raise InputError(
            f"{where}: the factor must be above zero, got {_num(factor)}; the chain values one unit of improvement, "
            "so every factor is a positive amount"
        )
    baseline = _number(raw.get("baseline"), f"{where}: baseline")
    if kind == "percent":
        if baseline is None:
            raise InputError(
                f"{where}: missing baseline: a percentage needs the amount it is a percentage of (e.g. 1800 clients a month)"
            )
        if baseline <= 0:
            raise InputError(f"{where}: the baseline must be above zero, got {_num(baseline)}")
        if strict and factor > 1:
            raise InputError(f"{where}: a percentage is written as a fraction (5 % is 0.05), got {_num(factor)}")
    elif baseline is not None:
        raise InputError(f"{where}: only a percent step has a baseline; set kind: percent or remove the baseline")
    if strict and kind == "margin" and factor > 1:
        raise InputError(f"{where}: a margin is a fraction of revenue (40 % is 0.4), got {_num(factor)}")
    accuracy = _number(raw.get("accuracy"), f"{where}: accuracy")
    if accuracy is not None and not 0 <= accuracy < 1:
        raise InputError(f"{where}: accuracy is a fraction from 0 to under 1 (0.2 for ±20 %), got {_num(accuracy)}")
    return Step(
        factor=factor,
        kind=kind,
        description=raw.get("description"),
        baseline=baseline,
        unit_in=raw.get("unit_in") or None,
        unit_out=raw.get("unit_out") or None,
        unit=raw.get("unit") or None,
        source=raw.get("source") or None,
        accuracy=accuracy,
    )


def _parse_gap(raw: Mapping[str, Any] | None, steps: list[Step], name: str) -> Gap | None:
    if not raw:
        return None
    revenue_steps = [i for i, s in enumerate(steps, start=1) if s.kind != "margin"]
    number = raw.get("step")
    if number is None:
        number = next((i for i, s in enumerate(steps, start=1) if s.kind == "percent"), None)
        if number is None:
            raise InputError(f"{name}, gap: say which step's output the run rate and target are counted in (step: 1)")
    if number not in revenue_steps:
        raise InputError(
            f"{name}, gap: step {number} is not a step to revenue; choose one of {', '.join(map(str, revenue_steps))}"
        )
    target = _number(raw.get("target_per_year"), f"{name}, gap: target_per_year")
    if target is None:
        raise InputError(f"{name}, gap: missing target_per_year")
    run_rate = _number(raw.get("run_rate"), f"{name}, gap: run_rate")
    if run_rate is None:
        step = steps[number - 1]
        if step.kind != "percent":
            raise InputError(f"{name}, gap: missing run_rate (the current level per period, e.g. 1800 clients a month)")
        run_rate = step.baseline
    if run_rate < 0 or target < 0:
        raise InputError(f"{name}, gap: run rate and target cannot be negative")
    return Gap(step=int(number), run_rate=float(run_rate), target_per_year=float(target), source=raw.get("source"))  # type: ignore[arg-type]


def _number(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InputError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    from csm_nb.vocabulary import parse_amount

    return parse_amount(value, where=where)


def _num(value: float) -> str:
    """A factor for people: no trailing zeros, thousands separated."""
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return text


# ----------------------------------------------------------------------------- the maths


def chain_value(steps: Sequence[Step]) -> float:
    """Money from one unit of KPI improvement, per period: the product of the steps' multipliers.

    ``value = Π multiplier``; a percent step's multiplier is factor × baseline.

    >>> chain_value([Step(0.05, "percent", baseline=1800), Step(375)])
    33750.0
    >>> chain_value([Step(0.05, "percent", baseline=1800), Step(375), Step(0.4, "margin")])
    13500.0
    """
    return float(math.prod(s.multiplier for s in steps))


def running_values(steps: Sequence[Step]) -> list[float]:
    """What one unit of KPI improvement has become after each step.

    >>> running_values([Step(0.05, "percent", baseline=1800), Step(375), Step(0.4, "margin")])
    [90.0, 33750.0, 13500.0]
    """
    out, value = [], 1.0
    for s in steps:
        value *= s.multiplier
        out.append(value)
    return out


def per_year(value_per_period: float, periods_in_year: float) -> float:
    """A per-period amount over a year: ``value × periods_per_year``.

    >>> per_year(33750, 12)
    405000.0
    """
    return float(value_per_period) * float(periods_in_year)


def movement_needed(money_gap: float, value_per_unit: float, *, fraction: float = 1.0) -> float:
    """KPI movement (in KPI units) that closes ``fraction`` of a money gap.

    ``movement = gap × fraction ÷ value of one unit``, both per year. A gap of
    zero or less needs no movement (0.0).

    >>> round(movement_needed(1_650_000, 405_000, fraction=0.5), 3)
    2.037
    >>> movement_needed(-10, 405_000)
    0.0
    """
    if value_per_unit <= 0:
        raise ValueError(f"the value of one KPI unit must be above zero, got {value_per_unit!r}")
    return max(money_gap, 0.0) * fraction / value_per_unit


@dataclass(frozen=True)
class Accuracy:
    """Combined accuracy of a chain, as fractions of the result."""

    likely: float  # root-sum-square
    worst_low: float  # the result may be this fraction lower
    worst_high: float  # or this fraction higher
    unstated: tuple[int, ...] = ()  # step numbers without an accuracy (counted as exact)


def combined_accuracy(accuracies: Sequence[float | None]) -> Accuracy:
    """Root-sum-square (likely) and worst case of relative accuracies.

    ``likely = sqrt(Σ a²)``; ``worst_high = Π(1 + a) - 1``; ``worst_low = 1 - Π(1 - a)``.
    A missing accuracy counts as exact and is listed in ``unstated``.

    >>> a = combined_accuracy([0.2, 0.05, None])
    >>> round(a.likely, 4), round(a.worst_low, 4), round(a.worst_high, 4), a.unstated
    (0.2062, 0.24, 0.26, (3,))
    """
    values = [a or 0.0 for a in accuracies]
    return Accuracy(
        likely=math.sqrt(math.fsum(a * a for a in values)),
        worst_low=1.0 - math.prod(1.0 - a for a in values),
        worst_high=math.prod(1.0 + a for a in values) - 1.0,
        unstated=tuple(i for i, a in enumerate(accuracies, start=1) if a is None),
    )


@dataclass(frozen=True)
class GapFigures:
    """The run-rate vs target gap in money, and the KPI movement that closes it."""

    quantity_unit: str | None
    run_rate: float  # per period, in the gap step's output
    run_rate_per_year: float
    target_per_year: float
    quantity_gap_per_year: float  # target - run rate over a year, e.g. 4,400 clients
    money_per_quantity: float  # e.g. $375 a client
    money_run_rate_per_period: float
    money_run_rate_per_year: float
    money_target_per_year: float
    money_gap_per_year: float
    fraction: float
    movement_to_close: float  # KPI units
    movement_for_fraction: float  # KPI units to close ``fraction`` of the gap


def gap_figures(link: Linkage, *, fraction: float = 1.0) -> GapFigures | None:
    """Run rate vs target in money (revenue), and the KPI movement to close it.

    Money per unit of the gap's quantity is the product of the revenue steps
    after the gap step. Run rate a year = run rate × periods a year; gap =
    target a year − run rate a year (money: × money per unit).

    >>> link = parse_link({"id": "x", "period": "month", "steps": [
    ...     {"kind": "percent", "factor": 0.05, "baseline": 1800}, {"factor": 375}],
    ...     "gap": {"target_per_year": 26000}})
    >>> g = gap_figures(link, fraction=0.5)
    >>> g.money_run_rate_per_period, g.money_run_rate_per_year, g.money_target_per_year, g.money_gap_per_year
    (675000.0, 8100000.0, 9750000.0, 1650000.0)
    >>> g.quantity_gap_per_year, round(g.movement_to_close, 4), round(g.movement_for_fraction, 4)
    (4400.0, 4.0741, 2.037)
    """
    if link.gap is None:
        return None
    if not 0 <= fraction <= 1:
        raise InputError(f"the share of the gap to close is a fraction from 0 to 1 (0.5 for half), got {fraction!r}")
    gap = link.gap
    after = [s for s in link.steps[gap.step :] if s.kind != "margin"]
    money_per_quantity = chain_value(after)
    run_rate_year = per_year(gap.run_rate, link.periods_per_year)
    quantity_gap = gap.target_per_year - run_rate_year
    money_gap = quantity_gap * money_per_quantity
    value_year = per_year(chain_value(link.revenue_steps), link.periods_per_year)
    return GapFigures(
        quantity_unit=link.steps[gap.step - 1].unit_out,
        run_rate=gap.run_rate,
        run_rate_per_year=run_rate_year,
        target_per_year=gap.target_per_year,
        quantity_gap_per_year=quantity_gap,
        money_per_quantity=money_per_quantity,
        money_run_rate_per_period=gap.run_rate * money_per_quantity,
        money_run_rate_per_year=run_rate_year * money_per_quantity,
        money_target_per_year=gap.target_per_year * money_per_quantity,
        money_gap_per_year=money_gap,
        fraction=fraction,
        movement_to_close=movement_needed(money_gap, value_year),
        movement_for_fraction=movement_needed(money_gap, value_year, fraction=fraction),
    )


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def with_factor_scaled(link: Linkage, step_number: int, scale: float) -> Linkage:
    """The same link with one step's factor multiplied by ``scale`` (for sensitivity).

    >>> link = parse_link({"id": "x", "period": "month", "steps": [{"factor": 375}]})
    >>> round(with_factor_scaled(link, 1, 1.1).steps[0].factor, 6)
    412.5
    """
    steps = list(link.steps)
    old = steps[step_number - 1]
    steps[step_number - 1] = Step(**{**old.__dict__, "factor": old.factor * scale})
    return Linkage(**{**link.__dict__, "steps": tuple(steps)})


@dataclass(frozen=True)
class SensitivityRow:
    """The result with one factor low and high, everything else as agreed."""

    step: int
    label: str
    accuracy: float
    value_low: float  # per year, factor at (1 - its accuracy)
    value_high: float
    value_swing_low: float  # per year, factor at (1 - swing)
    value_swing_high: float
    movement_low: float | None  # KPI movement for the chosen share of the gap, factor low
    movement_high: float | None
    short_label: str = ""  # for charts: the step's description alone, whole (the chart wraps it)


def sensitivity(link: Linkage, *, basis: Basis = "revenue", swing: float = 0.10, fraction: float = 1.0) -> list[SensitivityRow]:
    """Each step's factor moved by its own accuracy and by ±``swing``.

    The result is the value of one KPI unit a year on ``basis``; the movement
    needed to close ``fraction`` of the gap is recomputed too (a factor after
    the gap step changes the gap and the value alike, so it leaves the movement
    unchanged: worth knowing when agreeing the factors).

    >>> link = parse_link({"id": "x", "period": "month", "steps": [
    ...     {"kind": "percent", "factor": 0.05, "baseline": 1800, "accuracy": 0.2}, {"factor": 375, "accuracy": 0.05}]})
    >>> [(r.step, round(r.value_low), round(r.value_high)) for r in sensitivity(link)]
    [(1, 324000, 486000), (2, 384750, 425250)]
    """
    rows = []
    for number, step in enumerate(link.steps, start=1):
        if basis == "revenue" and step.kind == "margin":
            continue
        a = step.accuracy_or_zero

        def value(scale: float, number: int = number) -> float:
            changed = with_factor_scaled(link, number, scale)
            return per_year(chain_value(changed.steps_for(basis)), link.periods_per_year)

        def movement(scale: float, number: int = number) -> float | None:
            figures = gap_figures(with_factor_scaled(link, number, scale), fraction=fraction)
            return None if figures is None else figures.movement_for_fraction

        label = step.description or f"step {number}"
        rows.append(
            SensitivityRow(
                step=number,
                label=f"{label} ({step.shown_factor()})",
                accuracy=a,
                value_low=value(1 - a),
                value_high=value(1 + a),
                value_swing_low=value(1 - swing),
                value_swing_high=value(1 + swing),
                movement_low=movement(1 - a),
                movement_high=movement(1 + a),
                short_label=label,
            )
        )
    return rows


@dataclass
class LinkSummary:
    """Everything the linkage page shows for one link, computed once."""

    link: Linkage
    kpi: Kpi | None
    running: list[float]
    revenue_per_period: float
    revenue_per_year: float
    profit_per_period: float | None
    profit_per_year: float | None
    accuracy_revenue: Accuracy
    accuracy_profit: Accuracy | None
    gap: GapFigures | None
    sensitivity: list[SensitivityRow]
    basis: Basis
    swing: float
    target_movement: float | None = None  # the KPI's agreed improvement, baseline to target
    target_value_per_year: float | None = None
    target_share_of_gap: float | None = None

    @property
    def value_per_year(self) -> float:
        """The headline on the chosen basis."""
        return self.profit_per_year if self.basis == "profit" and self.profit_per_year is not None else self.revenue_per_year

    def results(self) -> dict[str, Any]:
        """Plain figures for the results file: money in the currency, fractions for ratios."""
        link = self.link
        out: dict[str, Any] = {
            "id": link.id,
            "kpi": link.kpi,
            "period": link.period,
            "periods_per_year": link.periods_per_year,
            "steps": [
                {
                    "step": i,
                    "description": s.description,
                    "kind": s.kind,
                    "factor": s.factor,
                    "baseline": s.baseline,
                    "multiplier": s.multiplier,
                    "unit_in": s.unit_in,
                    "unit_out": s.unit_out,
                    "source": s.source,
                    "accuracy": s.accuracy,
                    "value_after": v,
                }
                for i, (s, v) in enumerate(zip(link.steps, self.running), start=1)
            ],
            "value_per_unit": {
                "revenue_per_period": self.revenue_per_period,
                "revenue_per_year": self.revenue_per_year,
                "profit_per_period": self.profit_per_period,
                "profit_per_year": self.profit_per_year,
                "margin": link.margin_step.factor if link.margin_step else None,
            },
            "accuracy": {
                "method": "likely = root-sum-square of the steps' accuracies; worst case = all off the same way",
                "revenue": _accuracy_dict(self.accuracy_revenue),
                "profit": _accuracy_dict(self.accuracy_profit) if self.accuracy_profit else None,
            },
            "gap": None,
            "sensitivity": {
                "basis": self.basis,
                "swing": self.swing,
                "base_per_year": self.value_per_year,
                "rows": [r.__dict__ for r in self.sensitivity],
            },
            "target_movement": self.target_movement,
            "target_value_per_year": self.target_value_per_year,
            "target_share_of_gap": self.target_share_of_gap,
        }
        if self.gap is not None:
            out["gap"] = dict(self.gap.__dict__)
        return out


def tidy(value: Any) -> Any:
    """Floats to 12 significant digits, so 324000.00000000006 is written as 324000.0.

    >>> tidy({"a": [0.1 + 0.2, None, 2.0370370370370372]})
    {'a': [0.3, None, 2.03703703704]}
    """
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v) for v in value]
    return value


def _accuracy_dict(a: Accuracy) -> dict[str, Any]:
    return {"likely": a.likely, "worst_low": a.worst_low, "worst_high": a.worst_high, "unstated_steps": list(a.unstated)}


def summarise(
    link: Linkage, *, kpi: Kpi | None = None, gap_fraction: float = 1.0, basis: Basis = "revenue", swing: float = 0.10
) -> LinkSummary:
    """Compute everything about one link: values, gap, accuracy, sensitivity.

    ``basis`` is what the sensitivity and headline are on (``profit`` needs a
    margin step). With the KPI, also the agreed movement (baseline to target)
    and the share of the gap it would close.
    """
    if basis not in ("revenue", "profit"):
        raise InputError(f"basis: expected revenue or profit, got {basis!r}")
    if basis == "profit" and link.margin_step is None:
        raise InputError(f"financial link {link.id!r}: basis profit needs a margin step (kind: margin, e.g. factor 0.4)")
    if not 0 < swing < 1:
        raise InputError(f"sensitivity swing is a fraction above 0 and below 1 (0.1 for ±10 %), got {swing!r}")
    revenue = chain_value(link.revenue_steps)
    profit = chain_value(link.steps) if link.margin_step else None
    gap = gap_figures(link, fraction=gap_fraction)
    summary = LinkSummary(
        link=link,
        kpi=kpi,
        running=running_values(link.steps),
        revenue_per_period=revenue,
        revenue_per_year=per_year(revenue, link.periods_per_year),
        profit_per_period=profit,
        profit_per_year=None if profit is None else per_year(profit, link.periods_per_year),
        accuracy_revenue=combined_accuracy([s.accuracy for s in link.revenue_steps]),
        accuracy_profit=combined_accuracy([s.accuracy for s in link.steps]) if link.margin_step else None,
        gap=gap,
        sensitivity=sensitivity(link, basis=basis, swing=swing, fraction=gap_fraction),
        basis=basis,
        swing=swing,
    )
    if kpi is not None and kpi.baseline is not None and kpi.target is not None:
        movement = improvement(kpi.target, baseline=kpi.baseline, direction=kpi.direction)
        summary.target_movement = movement
        summary.target_value_per_year = movement * summary.revenue_per_year
        if gap is not None and gap.money_gap_per_year > 0:
            summary.target_share_of_gap = summary.target_value_per_year / gap.money_gap_per_year
    return summary


# ----------------------------------------------------------------------------- into the cash flow


def improvement(value: float, *, baseline: float, direction: str | None) -> float:
    """KPI units of improvement over the baseline; a KPI that should fall improves downwards.

    >>> improvement(7.5, baseline=6, direction="increase"), improvement(22.5, baseline=30, direction="decrease")
    (1.5, 7.5)
    """
    return float(baseline - value) if direction == "decrease" else float(value - baseline)


def kpi_plan(kpi: Kpi, periods: int) -> list[float]:
    """The planned KPI value for periods 0 .. ``periods``-1 (period 0 is the baseline).

    Milestones with period numbers are joined by straight lines; after the
    last one the value holds. Without milestones the plan is a straight line
    from the baseline at period 0 to the target at the last period. Milestones
    given by date are not used here (they cannot be placed on periods).

    >>> kpi_plan(Kpi("e", baseline=6, target=8, milestones={1: 6, 2: 6.5, 5: 8}), 7)
    [6.0, 6.0, 6.5, 7.0, 7.5, 8.0, 8.0]
    >>> kpi_plan(Kpi("e", baseline=6, target=8), 5)
    [6.0, 6.5, 7.0, 7.5, 8.0]
    """
    if kpi.baseline is None:
        raise InputError(f"KPI {kpi.id!r} has no baseline; the plan counts improvement from the baseline, so add one")
    if periods <= 0:
        return []
    points = {0: float(kpi.baseline)}
    numbered = {int(k): float(v) for k, v in (kpi.milestones or {}).items() if isinstance(k, int) and k >= 0}
    if numbered:
        points.update(numbered)
    elif kpi.target is not None:
        points[max(periods - 1, 1)] = float(kpi.target)
    else:
        raise InputError(f"KPI {kpi.id!r} has neither a target nor milestones by period number, so there is no plan to value")
    known = sorted(points)
    plan = []
    for t in range(periods):
        before = max(k for k in known if k <= t)
        later = [k for k in known if k > t]
        if not later:
            plan.append(points[before])
            continue
        after = later[0]
        share = (t - before) / (after - before)
        plan.append(points[before] + share * (points[after] - points[before]))
    return plan


def revenue_from_plan(plan: Sequence[float], *, baseline: float, direction: str | None, value_per_unit: float) -> list[float]:
    """Estimated increased revenue per period: improvement over baseline × value of one unit.

    >>> revenue_from_plan([6, 6, 6.5, 7, 8], baseline=6, direction="increase", value_per_unit=33750)
    [0.0, 0.0, 16875.0, 33750.0, 67500.0]
    """
    return [improvement(v, baseline=baseline, direction=direction) * value_per_unit for v in plan]


def revenue_from_measurements(
    measurements: Sequence[Measurement], kpi: Kpi, periods: int, *, value_per_unit: float
) -> list[float | None]:
    """Actual increased revenue per period from the measured KPI; ``None`` where nothing is measured yet.

    Only measurements by period number are placed; a value below the baseline
    gives negative revenue, shown as it is.

    >>> ms = [Measurement("e", 0, 6), Measurement("e", 1, 6.1), Measurement("e", 3, 6.8)]
    >>> [None if v is None else round(v, 2) for v in revenue_from_measurements(ms, Kpi("e", baseline=6), 5, value_per_unit=33750)]
    [0.0, 3375.0, None, 27000.0, None]
    """
    if kpi.baseline is None:
        raise InputError(f"KPI {kpi.id!r} has no baseline; actual revenue counts improvement from the baseline, so add one")
    by_period = {m.period: m.value for m in measurements if m.kpi == kpi.id and isinstance(m.period, int)}
    return [
        None if t not in by_period else improvement(by_period[t], baseline=kpi.baseline, direction=kpi.direction) * value_per_unit
        for t in range(periods)
    ]


@dataclass
class GeneratedCashFlow:
    """A cash flow whose revenue columns come from the KPI plan and measurements through a link."""

    link: str
    kpi: str
    basis: Basis
    value_per_unit: float  # per period
    plan: list[float]
    lines: list[CashFlowLine] = field(default_factory=list)

    def results(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "kpi": self.kpi,
            "basis": self.basis,
            "value_per_unit_per_period": self.value_per_unit,
            "periods": [x.period for x in self.lines],
            "kpi_plan": self.plan,
            "revenue_est": [x.revenue_est for x in self.lines],
            "revenue_act": [x.revenue_act for x in self.lines],
        }


def generated_cash_flow(
    link: Linkage,
    kpi: Kpi,
    lines: Sequence[CashFlowLine],
    measurements: Sequence[Measurement] = (),
    *,
    basis: Basis = "revenue",
    periods: int = 12,
    period_name: str | None = None,
) -> GeneratedCashFlow:
    """The cash flow with ``revenue_est`` from the KPI plan and ``revenue_act`` from the
    measurements, each through the link. Expenditure is kept from ``lines``.

    Period *t* of the cash flow is period *t* of the KPI (counted from its
    start); the link's period should be the cash flow's. Without cash-flow
    lines, ``periods`` lines are made ('Month 1', ...) with expenditure to come.

    >>> link = parse_link({"id": "x", "period": "month", "steps": [{"factor": 90}, {"factor": 375}]})
    >>> cf = generated_cash_flow(link, Kpi("e", baseline=6, target=8), [], periods=3)
    >>> [(x.period, x.revenue_est) for x in cf.lines]
    [('Month 1', 0.0), ('Month 2', 33750.0), ('Month 3', 67500.0)]
    """
    steps = link.steps_for(basis)
    value = chain_value(steps)
    n = len(lines) if lines else periods
    plan = kpi_plan(kpi, n)
    est = revenue_from_plan(plan, baseline=kpi.baseline, direction=kpi.direction, value_per_unit=value)  # type: ignore[arg-type]
    act = revenue_from_measurements(measurements, kpi, n, value_per_unit=value)
    if lines:
        new = [CashFlowLine(x.period, x.expenditure_est, x.expenditure_act, e, a) for x, e, a in zip(lines, est, act)]
    else:
        word = (period_name or link.period or "period").strip().capitalize()
        new = [CashFlowLine(f"{word} {t + 1}", None, None, e, a) for t, (e, a) in enumerate(zip(est, act))]
    return GeneratedCashFlow(link=link.id, kpi=kpi.id, basis=basis, value_per_unit=value, plan=plan, lines=new)
