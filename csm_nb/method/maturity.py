"""Where a customer stands on a maturity model, and how far it has come: pure arithmetic.

A **maturity model** has 3 to 7 levels, each defined by behaviours that are typical of it (``id``,
``text``, the product ``feature`` that helps, the ``metric`` that shows it); level 1 is where every
customer starts. An **assessment** says, on a date, how far each behaviour is seen: ``yes``,
``partly`` or ``no`` (a behaviour left out was not assessed).

* **Credit** (:func:`behaviour_credit`): yes 1, partly 0.5, no 0; not assessed: ``None``, left out of
  every mean (never counted as 0).
* **Level share** (:func:`level_shares`): the mean credit of the level's assessed behaviours, a
  fraction 0..1; a level with none assessed has no share (``None``).
* **Current level** (:func:`current_level`): the highest level L such that every level from 2 up to L
  has a share at or above the model's ``threshold`` (default 0.8); level 1 is always held. A level
  with no share is not reached, and neither is any level above it.
* **Maturity index** (:func:`maturity_index`): current level + share of the next level (a level with
  no share adds 0); at the top level the index is the top level. It runs from 1 to the top level and
  is the figure charted over time.
* **Gaps** (:func:`gaps`): the next level's behaviours not yet at ``yes``, with the feature that helps;
  **strengths** (:func:`strengths`): behaviours at ``yes`` on levels beyond the next one (the next
  level's are the work in hand: its behaviours at yes are what the gaps leave out).
* **Day 1** (:func:`day_one`): the first assessment by date is the benchmark; progress = index now
  - index on day 1 (in levels, positive is better).
* **Peers** (:func:`peer_position`): median and quartiles (linear between ranks) of peers' latest
  indexes, and the share of peers strictly below the customer.
* **The plan** (:func:`check_plan`): the target level must be above the current level (refused), two
  or more levels up in one plan warns; each metric target must be beyond the baseline in the metric's
  direction (refused), and beyond the best peer warns "ambitious". :func:`on_course` says whether the
  index is on the straight line from day 1 to the target level by the plan's date.
* **The KPI register** (:func:`plan_kpis`): each metric target becomes a leading KPI, baseline the
  day-1 value, deadline the plan's date, origin and consent copied from the metric.
* **Segments** (:func:`in_segment`): ``{behaviour_not: X, metric_not_improved: M}``: X is not ``yes``
  in the latest assessment, and M's latest value is not better than its first one in the metric's
  direction; both must hold when both are given.

The acceptance example (5 levels; L2 b2a-c, L3 b3a-c, L4 b4a-b, L5 b5a-b):

>>> model = example_model()
>>> observed = {"b2a": "yes", "b2b": "yes", "b2c": "partly", "b3a": "yes", "b3b": "partly", "b3c": "no",
...             "b4a": "yes", "b4b": "no", "b5a": "no", "b5b": "no"}
>>> p = place(model, observed)
>>> {k: round(v, 3) for k, v in p.shares.items() if v is not None}
{2: 0.833, 3: 0.5, 4: 0.5, 5: 0.0}
>>> p.level, p.index, [g.id for g in p.gaps], [s.id for s in p.strengths]
(2, 2.5, ['b3b', 'b3c'], ['b4a'])
>>> peer_position(2.5, [1.5, 2.0, 3.0, 3.5])
Peers(n=4, median=2.5, p25=1.875, p75=3.125, share_below=0.5)
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.model import Kpi
from csm_nb.vocabulary import MATURITY_CREDITS

DEFAULT_THRESHOLD = 0.8
MIN_LEVELS, MAX_LEVELS = 3, 7  # 5 plus or minus 2
DIRECTIONS = ("increase", "decrease")
TWO_LEVELS = "two levels in one plan"
AMBITIOUS = "ambitious"


# -- the model -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Behaviour:
    """A behaviour typical of a level; ``feature`` is what in the product helps, ``metric`` what shows it."""

    id: str
    text: str = ""
    feature: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Level:
    number: int
    name: str = ""
    description: str = ""
    behaviours: tuple[Behaviour, ...] = ()


@dataclass(frozen=True)
class Metric:
    """A figure that shows progress; ``direction`` says which way is better; ``origin`` usage (our
    product's data) or customer (their figures, shared with ``consent``)."""

    id: str
    name: str = ""
    unit: str = ""
    direction: str = "increase"
    origin: str | None = None
    consent: str | None = None


@dataclass(frozen=True)
class MaturityModel:
    id: str
    name: str = ""
    levels: tuple[Level, ...] = ()
    metrics: tuple[Metric, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    segments: tuple[Mapping[str, Any], ...] = ()
    description: str = ""

    @property
    def top(self) -> int:
        return max((lv.number for lv in self.levels), default=1)

    def level(self, number: int) -> Level | None:
        return next((lv for lv in self.levels if lv.number == number), None)

    def behaviours(self) -> list[Behaviour]:
        return [b for lv in self.levels for b in lv.behaviours]

    def behaviour(self, behaviour_id: str) -> Behaviour | None:
        return next((b for b in self.behaviours() if b.id == behaviour_id), None)

    def level_of(self, behaviour_id: str) -> int | None:
        return next((lv.number for lv in self.levels for b in lv.behaviours if b.id == behaviour_id), None)

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.id == metric_id), None)


def example_model(*, threshold: float = DEFAULT_THRESHOLD) -> MaturityModel:
    """The acceptance model: 5 levels, level 1 without behaviours, L2 b2a-c, L3 b3a-c, L4 b4a-b, L5 b5a-b,
    one metric ``m`` (increase)."""
    counts = {2: "abc", 3: "abc", 4: "ab", 5: "ab"}
    levels = [Level(1, "Level 1")] + [
        Level(n, f"Level {n}", behaviours=tuple(Behaviour(f"b{n}{c}", f"behaviour {n}{c}", feature=f"feature {n}") for c in cs))
        for n, cs in counts.items()
    ]
    return MaturityModel("example", "Example", tuple(levels), (Metric("m", "Metric", "%"),), threshold=threshold)


# -- one assessment --------------------------------------------------------------------------------
def behaviour_credit(answer: Any) -> float | None:
    """The credit of one answer: yes 1, partly 0.5, no 0; not assessed (``None``, empty) ``None``.

    YAML reads a bare yes/no as true/false: those count as yes/no.

    >>> [behaviour_credit(a) for a in ("yes", "partly", "no", None, True, False)]
    [1.0, 0.5, 0.0, None, 1.0, 0.0]
    """
    if answer is True:
        return 1.0
    if answer is False:
        return 0.0
    if answer is None or answer == "":
        return None
    return MATURITY_CREDITS.get(str(answer).strip().lower())


def level_shares(model: MaturityModel, observed: Mapping[str, Any]) -> dict[int, float | None]:
    """Each level's share: the mean credit of its assessed behaviours (0..1); ``None`` when none was assessed.

    >>> level_shares(example_model(), {"b2a": "yes", "b2b": "partly", "b3a": "no"})
    {1: None, 2: 0.75, 3: 0.0, 4: None, 5: None}
    """
    shares: dict[int, float | None] = {}
    for lv in sorted(model.levels, key=lambda x: x.number):
        credits = [c for b in lv.behaviours if (c := behaviour_credit(observed.get(b.id))) is not None]
        shares[lv.number] = sum(credits) / len(credits) if credits else None
    return shares


def current_level(shares: Mapping[int, float | None], *, threshold: float = DEFAULT_THRESHOLD) -> int:
    """The highest level L with every level 2..L at or above ``threshold``; level 1 is always held.

    >>> current_level({1: None, 2: 0.833, 3: 0.5, 4: 0.5, 5: 0.0})
    2
    >>> current_level({2: 0.8, 3: 0.9, 4: None, 5: 1.0}), current_level({2: 0.79, 3: 1.0})
    (3, 1)
    """
    level = 1
    for number in sorted(n for n in shares if n >= 2):
        share = shares[number]
        if share is None or share < threshold - 1e-9:  # 0.8 written as 4/5 of a sum still counts
            break
        level = number
    return level


def maturity_index(level: int, shares: Mapping[int, float | None], *, top: int) -> float:
    """The current level plus the next level's share (none assessed adds 0); the top level's index is the top.

    >>> maturity_index(2, {3: 0.5}, top=5), maturity_index(5, {}, top=5), maturity_index(1, {2: None}, top=5)
    (2.5, 5.0, 1.0)
    """
    if level >= top:
        return float(top)
    return level + float(shares.get(level + 1) or 0.0)


@dataclass(frozen=True)
class Gap:
    """A behaviour on the way up (a gap) or already seen above the level (a strength); ``answer`` as assessed."""

    id: str
    text: str
    level: int
    feature: str | None
    answer: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "level": self.level, "feature": self.feature, "answer": self.answer}


def _answer(value: Any) -> str | None:
    credit = behaviour_credit(value)
    return None if credit is None else next(k for k, v in MATURITY_CREDITS.items() if v == credit)


def gaps(model: MaturityModel, observed: Mapping[str, Any], level: int) -> list[Gap]:
    """The next level's behaviours not yet at yes (not assessed counts as not yet), in the model's order.

    >>> [(g.id, g.answer) for g in gaps(example_model(), {"b3a": "yes", "b3b": "partly"}, 2)]
    [('b3b', 'partly'), ('b3c', None)]
    """
    nxt = model.level(level + 1)
    if nxt is None:
        return []
    return [
        Gap(b.id, b.text, nxt.number, b.feature, _answer(observed.get(b.id)))
        for b in nxt.behaviours
        if behaviour_credit(observed.get(b.id)) != 1.0
    ]


def strengths(model: MaturityModel, observed: Mapping[str, Any], level: int) -> list[Gap]:
    """Behaviours at yes on levels beyond the next one (level + 2 and up).

    >>> [s.id for s in strengths(example_model(), {"b5a": "yes", "b4a": "yes", "b3a": "yes", "b2a": "yes"}, 2)]
    ['b4a', 'b5a']
    """
    return [
        Gap(b.id, b.text, lv.number, b.feature, "yes")
        for lv in sorted(model.levels, key=lambda x: x.number)
        if lv.number > level + 1
        for b in lv.behaviours
        if behaviour_credit(observed.get(b.id)) == 1.0
    ]


@dataclass(frozen=True)
class Placement:
    """One assessment placed on the model: shares, level, index, gaps and strengths."""

    date: dt.date | None
    shares: dict[int, float | None]
    level: int
    index: float
    gaps: list[Gap] = field(default_factory=list)
    strengths: list[Gap] = field(default_factory=list)


def place(model: MaturityModel, observed: Mapping[str, Any], *, date: dt.date | None = None) -> Placement:
    """An assessment's ``observed`` answers placed on ``model`` (the module's rules)."""
    shares = level_shares(model, observed)
    level = current_level(shares, threshold=model.threshold)
    return Placement(
        date=date,
        shares=shares,
        level=level,
        index=maturity_index(level, shares, top=model.top),
        gaps=gaps(model, observed, level),
        strengths=strengths(model, observed, level),
    )


# -- over time ---------------------------------------------------------------------------------------
def as_date(value: Any) -> dt.date | None:
    """An ISO date (text or a date) as a date; ``None`` for anything else.

    >>> as_date("2026-01-15"), as_date(None), as_date("soon")
    (datetime.date(2026, 1, 15), None, None)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def in_order(assessments: Sequence[Mapping[str, Any]], *, as_of: dt.date | None = None) -> list[Mapping[str, Any]]:
    """The assessments by date (the file's order within a day), those after ``as_of`` left out.

    >>> [a["date"] for a in in_order([{"date": "2026-04-01"}, {"date": "2026-01-15"}, {"date": "2026-09-01"}],
    ...                               as_of=dt.date(2026, 6, 30))]
    ['2026-01-15', '2026-04-01']
    """
    dated = [(d, i, a) for i, a in enumerate(assessments) if (d := as_date(a.get("date"))) is not None]
    return [a for d, _, a in sorted(dated, key=lambda x: (x[0], x[1])) if as_of is None or d <= as_of]


def history(model: MaturityModel, assessments: Sequence[Mapping[str, Any]]) -> list[Placement]:
    """Each assessment placed on the model, in date order (the first is day 1, the last is now)."""
    return [place(model, a.get("observed") or {}, date=as_date(a.get("date"))) for a in in_order(assessments)]


def day_one(placements: Sequence[Placement]) -> Placement | None:
    """The benchmark: the first placement by date (``None`` before any assessment)."""
    return placements[0] if placements else None


def progress(placements: Sequence[Placement]) -> float | None:
    """Index now - index on day 1, in levels (positive: the customer has moved up).

    >>> m = example_model()
    >>> progress([place(m, {"b2a": "partly"}), place(m, {"b2a": "yes", "b2b": "yes", "b2c": "partly", "b3a": "yes"})])
    1.5
    """
    if not placements:
        return None
    return placements[-1].index - placements[0].index


def metric_values(metric_id: str, assessments: Sequence[Mapping[str, Any]]) -> list[tuple[dt.date, float]]:
    """The metric's values over time, from the assessments in date order (assessments without it left out)."""
    found = []
    for a in in_order(assessments):
        value = (a.get("metrics") or {}).get(metric_id)
        if value is not None:
            found.append((as_date(a["date"]), float(value)))
    return found  # type: ignore[return-value]


def better(a: float, b: float, direction: str) -> bool:
    """Is ``a`` better than ``b`` for a metric going ``direction`` (increase or decrease)?

    >>> better(5, 4, "increase"), better(5, 4, "decrease"), better(4, 4, "increase")
    (True, False, False)
    """
    return a < b if direction == "decrease" else a > b


# -- peers ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peers:
    """Where the customer stands among peers: their number, median and quartiles of their latest index,
    and the share of peers strictly below the customer (0..1). All ``None`` without peers."""

    n: int
    median: float | None
    p25: float | None
    p75: float | None
    share_below: float | None

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "median": self.median, "p25": self.p25, "p75": self.p75, "share_below": self.share_below}


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(p25, median, p75), linear between ranks (numpy's default); one value is all three.

    >>> quartiles([1.5, 2.0, 3.0, 3.5])
    (1.875, 2.5, 3.125)
    >>> quartiles([2.0])
    (2.0, 2.0, 2.0)
    """
    ordered = sorted(float(v) for v in values)
    if len(ordered) == 1:
        return ordered[0], ordered[0], ordered[0]
    p25, median, p75 = statistics.quantiles(ordered, n=4, method="inclusive")
    return p25, median, p75


def peer_position(index: float, peers: Sequence[float]) -> Peers:
    """The customer's ``index`` among ``peers`` (their latest indexes).

    >>> peer_position(2.5, [1.5, 2.0, 3.0, 3.5]).share_below, peer_position(2.0, []).median
    (0.5, None)
    """
    if not peers:
        return Peers(0, None, None, None, None)
    p25, median, p75 = quartiles(peers)
    below = sum(1 for p in peers if p < index - 1e-9)
    return Peers(len(peers), median, p25, p75, below / len(peers))


def best_peer_value(values: Sequence[float], direction: str) -> float | None:
    """The best of the peers' latest values of a metric (the highest, or the lowest for decrease).

    >>> best_peer_value([60, 85, 70], "increase"), best_peer_value([3, 1, 2], "decrease"), best_peer_value([], "increase")
    (85, 1, None)
    """
    if not values:
        return None
    return min(values) if direction == "decrease" else max(values)


# -- the plan -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanCheck:
    """What the plan's checks say: ``refused`` (the plan cannot stand as it is) and ``warnings``."""

    refused: list[str]
    warnings: list[str]


def check_plan(
    plan: Mapping[str, Any],
    *,
    model: MaturityModel,
    level: int,
    baselines: Mapping[str, float],
    peer_best: Mapping[str, float | None] | None = None,
) -> PlanCheck:
    """Check an improvement plan from the current ``level`` and the metrics' day-1 ``baselines``.

    Refused: a target level not above the current one; a metric target not beyond its baseline in the
    metric's direction. Warned: a target two or more levels up ("two levels in one plan"); a metric
    target beyond the best peer's latest value ("ambitious").

    >>> m = example_model()
    >>> check_plan({"target_level": 4, "metric_targets": {"m": 5.0}}, model=m, level=2, baselines={"m": 4.0},
    ...            peer_best={"m": 4.5})
    PlanCheck(refused=[], warnings=['target level 4 is two levels in one plan from level 2', 'm: target 5 is ambitious: beyond the best peer (4.5)'])
    >>> check_plan({"target_level": 2, "metric_targets": {"m": 3.0}}, model=m, level=2, baselines={"m": 4.0}).refused
    ['target level 2 must be above the current level 2', 'm: target 3 is not beyond the baseline 4 (higher is better)']
    """
    refused: list[str] = []
    warnings: list[str] = []
    target = plan.get("target_level")
    if target is not None:
        if target <= level:
            refused.append(f"target level {target} must be above the current level {level}")
        elif target - level >= 2:
            warnings.append(f"target level {target} is {TWO_LEVELS} from level {level}")
    for metric_id, goal in (plan.get("metric_targets") or {}).items():
        metric = model.metric(metric_id)
        direction = metric.direction if metric else "increase"
        base = baselines.get(metric_id)
        if base is not None and not better(float(goal), float(base), direction):
            way = "lower" if direction == "decrease" else "higher"
            refused.append(f"{metric_id}: target {float(goal):g} is not beyond the baseline {float(base):g} ({way} is better)")
            continue
        best = (peer_best or {}).get(metric_id)
        if best is not None and better(float(goal), float(best), direction):
            warnings.append(f"{metric_id}: target {float(goal):g} is {AMBITIOUS}: beyond the best peer ({float(best):g})")
    return PlanCheck(refused, warnings)


def on_course(placements: Sequence[Placement], *, target_level: int | None, by: dt.date | None, as_of: dt.date) -> bool | None:
    """Is the customer on course for the plan at ``as_of``? ``None`` without a plan or assessments.

    Yes once the current level is at the target. Otherwise the expected index moves in a straight line
    from day 1's index (on its date) to the target level (on ``by``); the latest index must be at or
    above the line at ``as_of``, and past ``by`` the target is missed.

    >>> m = example_model()
    >>> first = place(m, {"b2a": "yes", "b2b": "yes", "b2c": "yes"}, date=dt.date(2026, 1, 1))
    >>> first.index
    2.0
    >>> on_course([first], target_level=3, by=dt.date(2026, 12, 31), as_of=dt.date(2026, 1, 1))
    True
    >>> on_course([first], target_level=3, by=dt.date(2026, 12, 31), as_of=dt.date(2026, 7, 2))
    False
    """
    if target_level is None or not placements:
        return None
    now = placements[-1]
    if now.level >= target_level:
        return True
    if by is None:
        return None
    if as_of > by:
        return False
    start = placements[0]
    begin = start.date or as_of
    span = (by - begin).days
    expected = float(target_level) if span <= 0 else start.index + (target_level - start.index) * (as_of - begin).days / span
    return now.index >= expected - 1e-9


def plan_kpis(
    model: MaturityModel,
    plan: Mapping[str, Any],
    baselines: Mapping[str, tuple[dt.date, float]],
    *,
    frequency: str = "monthly",
) -> list[Kpi]:
    """The plan's metric targets as leading KPIs for the KPI register: id and name the metric's, baseline
    its day-1 value (starting on that date), target the plan's, deadline the plan's date, origin and
    consent copied; ``frequency`` how often it is measured.

    >>> [k] = plan_kpis(example_model(), {"by": "2026-07-15", "metric_targets": {"m": 5.0}}, {"m": (dt.date(2026, 1, 15), 4.0)})
    >>> (k.id, k.kind, k.baseline, k.target, k.start, k.deadline, k.direction)
    ('m', 'leading', 4.0, 5.0, '2026-01-15', '2026-07-15', 'increase')
    """
    found = []
    for metric_id, goal in (plan.get("metric_targets") or {}).items():
        metric = model.metric(metric_id) or Metric(metric_id)
        start, base = baselines.get(metric_id, (None, None))
        found.append(
            Kpi(
                id=metric_id,
                name=metric.name or metric_id,
                kind="leading",
                unit=metric.unit or None,
                direction=metric.direction,
                baseline=base,
                target=float(goal),
                start=start.isoformat() if start else None,
                deadline=str(plan["by"]) if plan.get("by") else None,
                frequency=frequency,
                origin=metric.origin,
                consent=metric.consent,
            )
        )
    return found


def register(kpis: Sequence[Kpi], new: Sequence[Kpi]) -> tuple[list[Kpi], list[str], list[str]]:
    """The KPI register with ``new`` put in: a KPI with the same id is replaced in its place, others are
    added at the end. Returns (register, ids added, ids replaced).

    >>> out, added, replaced = register([Kpi("a"), Kpi("m", target=1.0)], [Kpi("m", target=5.0), Kpi("n")])
    >>> [(k.id, k.target) for k in out], added, replaced
    ([('a', None), ('m', 5.0), ('n', None)], ['n'], ['m'])
    """
    by_id = {k.id: k for k in new}
    out = [by_id.pop(k.id) if k.id in by_id else k for k in kpis]
    replaced = [k.id for k in kpis if k.id in {n.id for n in new}]
    added = list(by_id)
    return out + list(by_id.values()), added, replaced


# -- segments -----------------------------------------------------------------------------------------
def in_segment(rule: Mapping[str, Any], *, model: MaturityModel, assessments: Sequence[Mapping[str, Any]]) -> bool:
    """Does the engagement fall in a segment whose ``when`` is ``rule``?

    ``behaviour_not: X``: X is not yes in the latest assessment (not assessed counts as not yes);
    ``metric_not_improved: M``: M's latest value is not better than its first one (a metric never
    measured is not known to be unimproved, so it does not match). Both must hold when both are given;
    an empty rule matches nobody.

    >>> m = example_model()
    >>> a = [{"date": "2026-01-15", "observed": {"b3b": "partly"}, "metrics": {"m": 4.0}},
    ...      {"date": "2026-04-15", "observed": {"b3b": "partly"}, "metrics": {"m": 4.0}}]
    >>> in_segment({"behaviour_not": "b3b", "metric_not_improved": "m"}, model=m, assessments=a)
    True
    >>> in_segment({"behaviour_not": "b3b", "metric_not_improved": "m"}, model=m, assessments=a[:1] + [
    ...     {"date": "2026-04-15", "observed": {"b3b": "partly"}, "metrics": {"m": 4.5}}])
    False
    """
    if not rule.get("behaviour_not") and not rule.get("metric_not_improved"):
        return False
    ordered = in_order(assessments)
    if not ordered:
        return False
    if rule.get("behaviour_not"):
        latest = ordered[-1].get("observed") or {}
        if behaviour_credit(latest.get(rule["behaviour_not"])) == 1.0:
            return False
    if rule.get("metric_not_improved"):
        metric = model.metric(rule["metric_not_improved"])
        values = metric_values(rule["metric_not_improved"], ordered)
        if not values:
            return False
        if better(values[-1][1], values[0][1], metric.direction if metric else "increase"):
            return False
    return True


def segments_of(
    rules: Sequence[Mapping[str, Any]], *, model: MaturityModel, assessments: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The segments (``{id, name, when, content}``) the engagement is in, in the order given; a later
    segment with an id already seen replaces it (an engagement's own rule wins over the model's)."""
    by_id: dict[str, Mapping[str, Any]] = {}
    for rule in rules:
        by_id[str(rule.get("id"))] = rule
    return [s for s in by_id.values() if in_segment(s.get("when") or {}, model=model, assessments=assessments)]
