"""Account health: one number from 0 to 100 for how an account is doing, built on outcomes and money first.

Pure functions over the model's dataclasses (:mod:`csm_nb.model`); scores are points from 0 to 100,
fractions of a journey are fractions (0.4, not 40 %), dates are ``datetime.date``. ``None`` is
"not known yet" and never 0: a component that cannot be judged is left out and the weights of the
others are renormalised.

Components (docs/account-health.md; weights are the defaults of
``csm_nb.vocabulary.DEFAULT_HEALTH_WEIGHTS``, settings under ``health.weights``):

* **outcome** (weight 3), **leading** (2): the mean of the measured lagging, resp. leading, KPIs'
  :func:`kpi_score`. A KPI without ``kind`` is lagging. A KPI with a ceiling or floor
  (``target_type`` ``stay_below`` / ``stay_above``) scores :func:`limit_score`: 100 within, 0 breached.
* **money** (2): :func:`money_score` of actual against estimated revenue to date (the cash flow's
  ``to_date``, its accuracy band).
* **onboarding** (1), only while onboarding (the moment marked ``onboarding_complete`` not held by
  ``as_of``): the current stage (the first not completed) judged on its days so far, on track 100,
  behind 50, stuck 0 (:data:`ONBOARDING_SCORES`, the stage rule of
  :func:`csm_nb.method.engagement_plan.stage_status`).
* **moments** (1): 100 x the share of the moment occurrences due in the :data:`WINDOW_DAYS` up to
  ``as_of`` that were held on time (one still inside its grace days is not judged yet).
* **relationship** (1): 25 for each of the four checks of
  :func:`csm_nb.method.stakeholders.relationship_checks`; known only when a stakeholder carries map
  data (``roles``, ``level``, ``influence`` or ``support``).
* **customer_view** (1): the customer pulse first (:func:`csm_nb.method.pulse.customer_view`): 10 x the
  mean of the latest satisfaction (0-10) of each desired outcome answered in the :data:`WINDOW_DAYS` up
  to ``as_of`` (4, 6 and 8 give 60). Without a pulse answer there, the survey events: 10 x the mean of
  the latest rating of each respondent in the same window, ``score / scale x 10``.

Overall (:func:`overall`) = sum of weight x score over the known components / sum of their weights,
published to one decimal. Band (:func:`band`): red below ``red`` (50), green from ``green`` (75),
amber between (settings under ``health.bands``). **Override**: a lagging KPI scoring under 50, or
whose forecast misses its deadline, makes the band red whatever the number.

Measurements, moments held and events dated after ``as_of`` are left out. The cash flow's periods
carry no dates, so its actuals count as they stand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.errors import InputError
from csm_nb.method import cashflow, progress
from csm_nb.method import engagement_plan as ep
from csm_nb.method import pulse as pulse_method
from csm_nb.method import stakeholders as sm
from csm_nb.model import Engagement, EngagementModel, Event
from csm_nb.vocabulary import (
    DEFAULT_HEALTH_BANDS,
    DEFAULT_HEALTH_WEIGHTS,
    HEALTH_COMPONENTS,
    MOMENT_STATUSES,
    STAGE_STATUSES,
    day_words,
    money,
    percent,
    plural,
)

# -- the numbers (docs/account-health.md: decisions; weights and bands are settings) ----------------------
KPI_POINTS_PER_POINT = 5.0  # a KPI loses 5 health points for each point it is behind beyond the tolerance
MISSED_DEADLINE_CAP = 50.0  # a KPI whose forecast misses its deadline scores at most this
MONEY_BAND_SCORE = 50.0  # a money shortfall as deep as the accuracy band scores this (10 % -> 5 points a point)
RELATIONSHIP_POINTS = 25.0  # for each relationship check met
WINDOW_DAYS = 180  # moments due and ratings given in the last 180 days
RATING_SCALE = 10.0  # satisfaction ratings are read on 0-10
OVERRIDE_BELOW = 50.0  # a lagging KPI under this makes the band red
ONBOARDING_SCORES: dict[str, float] = {"on_track": 100.0, "behind": 50.0, "stuck": 0.0}
ARROW_FROM = 1.0  # a change under one point is no change
HISTORY_KEEP = 12  # the earlier scores a results file keeps
# Float noise (1 - 0.9 is 0.09999999999999998) must never move a score across a band's edge.
_DIGITS = 9

# What each component is called in a report (HEALTH_COMPONENTS says what it scores).
COMPONENT_NAMES: dict[str, str] = {
    "outcome": "Outcomes",
    "leading": "Early indicators",
    "money": "Money",
    "onboarding": "Onboarding",
    "moments": "Rhythm of moments",
    "relationship": "Relationship",
    "customer_view": "Customer's own view",
}
ARROWS: dict[str, str] = {"up": "▲", "down": "▼", "same": "▶"}
# The stakeholder keys that make the map: a stakeholder with any of them makes the relationship known.
MAP_KEYS = ("roles", "level", "influence", "support")


def _clean(score: float) -> float:
    return round(min(100.0, max(0.0, score)), _DIGITS)


# -- the scores -------------------------------------------------------------------------------------
def behind_points(*, progress: float, planned: float) -> float:
    """How far a KPI is behind its plan, in percentage points of its journey (negative: ahead).

    ``100 x (planned - progress)``, both fractions of the way from baseline (0) to target (1).

    >>> round(behind_points(progress=0.4, planned=0.5), 9), round(behind_points(progress=0.72, planned=0.6), 9)
    (10.0, -12.0)
    """
    return 100.0 * (planned - progress)


def kpi_score(*, progress: float, planned: float, on_time: bool | None, tolerance: float = 0.02) -> float:
    """One KPI's health score, 0-100, at its latest measurement.

    ``clamp(100 - 5 x max(0, behind - 100 x tolerance), 0, 100)`` with ``behind`` from
    :func:`behind_points`; a KPI whose forecast misses its deadline (``on_time`` False) scores at
    most 50 (``None``: not known, no cap). So on plan or ahead is 100, 12 points behind 50, 22 or
    more behind 0 (with the default tolerance of 2 points).

    The employee-engagement rating is 10 points behind (40 % of the way against 50 % planned):

    >>> kpi_score(progress=0.4, planned=0.5, on_time=True)
    60.0
    >>> kpi_score(progress=0.72, planned=0.6, on_time=True), kpi_score(progress=0.72, planned=0.6, on_time=False)
    (100.0, 50.0)
    >>> kpi_score(progress=0.1, planned=0.5, on_time=None)
    0.0
    """
    shortfall = max(0.0, behind_points(progress=progress, planned=planned) - 100.0 * tolerance)
    score = _clean(100.0 - KPI_POINTS_PER_POINT * shortfall)
    return min(score, MISSED_DEADLINE_CAP) if on_time is False else score


def limit_score(status: str) -> float:
    """A ceiling or floor KPI's health score at its latest measurement: 100 within, 0 breached
    (a limit has no path, so there is nothing in between).

    >>> limit_score("within"), limit_score("breached")
    (100.0, 0.0)
    """
    return 100.0 if status == "within" else 0.0


def money_score(*, actual: float | None, estimated: float | None, band: float = 0.10) -> float | None:
    """The money component, 0-100: actual revenue to date against the estimate for the same periods.

    ``shortfall = max(0, 100 x (estimated - actual) / estimated)`` points; ``score = clamp(100 -
    (50 / (100 x band)) x shortfall, 0, 100)``: a shortfall as deep as the estimate's accuracy band
    scores 50, so with the default 10 % each point short costs 5. At or above the estimate is 100
    (the cash flow's "on track"), within the band 50 to under 100, "behind" under 50. ``None`` when
    nothing is known: no actuals, or no revenue expected yet. A band of 0 makes any shortfall 0.

    Order-to-ship, 67,100 earned against 75,000 expected (89.5 %, 10.5 points short):

    >>> round(money_score(actual=67_100, estimated=75_000), 1)
    47.3
    >>> money_score(actual=90, estimated=100), money_score(actual=219_673, estimated=212_000)
    (50.0, 100.0)
    >>> money_score(actual=38_250, estimated=50_625), money_score(actual=10, estimated=0)
    (0.0, None)
    """
    if actual is None or estimated is None or estimated <= 0:
        return None
    shortfall = max(0.0, 100.0 * (estimated - actual) / estimated)
    if band <= 0:
        return 100.0 if shortfall <= 0 else 0.0
    return _clean(100.0 - MONEY_BAND_SCORE / (100.0 * band) * shortfall)


def share_score(*, on_time: int, due: int) -> float | None:
    """The moments component: ``100 x on_time / due``; ``None`` when nothing was due.

    >>> share_score(on_time=4, due=5), share_score(on_time=0, due=0)
    (80.0, None)
    """
    return _clean(100.0 * on_time / due) if due > 0 else None


def relationship_score(checks: Mapping[str, bool]) -> float:
    """The relationship component: 25 for each check met (four checks: 0 to 100).

    >>> relationship_score({"active_sponsor": True, "active_champion": False, "levels_covered": True, "no_strong_opponent": True})
    75.0
    """
    return _clean(RELATIONSHIP_POINTS * sum(bool(v) for v in checks.values()))


def rating_0_10(score: float | None, scale: float | None) -> float | None:
    """A satisfaction answer on 0-10: ``score / scale x 10`` (no scale: already 0-10), clamped.

    >>> rating_0_10(4, 5), rating_0_10(7, None), rating_0_10(12, 10), rating_0_10(None, 10)
    (8.0, 7.0, 10.0, None)
    """
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return None
    value = float(score) / float(scale) * RATING_SCALE if scale else float(score)
    return min(RATING_SCALE, max(0.0, value))


def customer_view_score(ratings: Sequence[float]) -> float | None:
    """The customer's-view component: 10 x the mean rating (0-10); ``None`` without a rating.

    >>> customer_view_score([8, 7, 9]), customer_view_score([])
    (80.0, None)
    """
    return _clean(RATING_SCALE * math.fsum(ratings) / len(ratings)) if ratings else None


def overall(components: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The overall score: ``sum(weight x score) / sum(weight)`` over the known components.

    A component that is ``None`` (not known), or has no weight, is left out and the others'
    weights are renormalised; nothing left gives ``None``, never 0.

    Order-to-ship: outcome 100 (weight 3), leading 57.2 (2), money 47.3 (2):

    >>> w = {"outcome": 3, "leading": 2, "money": 2, "moments": 1}
    >>> round(overall({"outcome": 100, "leading": 57.2, "money": 47.3, "moments": None}, w), 1)
    72.7
    >>> overall({"outcome": None}, w) is None
    True
    """
    known = [(float(weights.get(k) or 0.0), s) for k, s in components.items() if s is not None]
    total = math.fsum(w for w, _ in known if w > 0)
    if total <= 0:
        return None
    return _clean(math.fsum(w * s for w, s in known if w > 0) / total)


def band(score: float | None, bands: Mapping[str, float] = DEFAULT_HEALTH_BANDS) -> str | None:
    """The band of a score: red below ``bands["red"]``, green from ``bands["green"]``, amber between.

    >>> band(49.9), band(50.0), band(74.9), band(75.0), band(None)
    ('red', 'amber', 'amber', 'green', None)
    """
    if score is None:
        return None
    if score < bands["red"]:
        return "red"
    return "amber" if score < bands["green"] else "green"


def publish(score: float | None) -> float | None:
    """The score people read, to one decimal; the band is judged on this number so it matches what is shown.

    >>> publish(72.7142857), publish(None)
    (72.7, None)
    """
    return None if score is None else round(score, 1)


# -- settings ----------------------------------------------------------------------------------------
def settings(engagement: Engagement, model: EngagementModel | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """The weights and bands in force: the engagement's ``health`` settings over its model's (a segment's)
    over the defaults, key by key.

    Bands with ``red`` above ``green`` are refused in one line naming the key.

    >>> settings(Engagement("a", "A", health={"weights": {"money": 0}, "bands": {"green": 80}}))[1]
    {'red': 50.0, 'green': 80.0}
    >>> segment = EngagementModel("low", health={"weights": {"money": 4}, "bands": {"red": 40}})
    >>> w, b = settings(Engagement("a", "A", health={"bands": {"green": 70}}), segment)
    >>> w["money"], w["outcome"], b
    (4.0, 3.0, {'red': 40.0, 'green': 70.0})
    """
    weights = {k: float(v) for k, v in DEFAULT_HEALTH_WEIGHTS.items()}
    bands = {k: float(v) for k, v in DEFAULT_HEALTH_BANDS.items()}
    for given in ((model.health if model else None) or {}, engagement.health or {}):
        weights.update({k: float(v) for k, v in (given.get("weights") or {}).items() if k in weights and v is not None})
        bands.update({k: float(v) for k, v in (given.get("bands") or {}).items() if k in bands and v is not None})
    if bands["red"] > bands["green"]:
        raise InputError(
            f"engagement {engagement.id!r}: health.bands: expected red at or below green (the scores where amber and "
            f"green start), got red {bands['red']:g} and green {bands['green']:g}"
        )
    return weights, bands


# -- the components ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Component:
    """One component of the score: ``score`` 0-100 (``None``: not known), its weight, and why, in words."""

    score: float | None
    weight: float
    known: bool
    evidence: str

    def as_json(self) -> dict[str, Any]:
        return {"score": self.score, "weight": self.weight, "known": self.known, "evidence": self.evidence}


@dataclass(frozen=True)
class KpiHealth:
    """One measured KPI's score and the facts behind it (``behind`` in points; negative is ahead)."""

    kpi: str
    name: str
    kind: str
    score: float
    behind: float
    on_time: bool | None
    evidence: str


def kpi_on_time(kp: progress.KpiProgress) -> bool | None:
    """Does the KPI's forecast reach its target by the deadline? ``None`` (not known) with a single
    measurement that has not reached it: one point gives no trend, and no trend is no verdict."""
    if len(kp.periods) < 2 and not kp.forecast.reached:
        return None
    return kp.on_time


def kpi_words(behind: float, on_time: bool | None, tolerance: float) -> str:
    """What a KPI's score rests on, in words (``behind`` in points; negative is ahead).

    >>> kpi_words(19.1, False, 0.02)
    '19.1 points behind plan, and at the recent rate it misses its deadline'
    >>> kpi_words(-14.3, True, 0.02), kpi_words(1.5, None, 0.02)
    ('14.3 points ahead of plan', 'on plan')
    """
    if behind > 100 * tolerance:
        text = f"{behind:.1f} points behind plan"
    elif behind < -100 * tolerance:
        text = f"{-behind:.1f} points ahead of plan"
    else:
        text = "on plan"
    if on_time is False:
        text += ", and at the recent rate it misses its deadline"
    return text


def kpi_limit_words(kp: progress.KpiProgress) -> str:
    """A ceiling or floor KPI's latest measurement against its limit, in words ("7 months, above the ceiling of 6 months")."""
    unit = f" {kp.kpi.unit}" if kp.kpi.unit and kp.kpi.unit != "%" else (" %" if kp.kpi.unit == "%" else "")
    status = kp.limits[-1] if kp.limits else "within"
    return f"{kp.values[-1]:g}{unit}, " + progress.limit_words(status, target_type=kp.target_type, limit=f"{kp.target:g}{unit}")


def kpi_health(tracked: Sequence[progress.KpiProgress], *, tolerance: float = 0.02) -> list[KpiHealth]:
    """Every measured KPI's score at its latest measurement, in the engagement's order."""
    out = []
    for kp in tracked:
        i = kp.latest
        if i is None:
            continue
        if kp.limits is not None:  # a ceiling or floor: within or breached, no plan to be behind
            words = kpi_limit_words(kp)
            out.append(KpiHealth(kp.kpi.id, kp.label(), kp.kpi.kind or "lagging", limit_score(kp.limits[i]), 0.0, None, words))
            continue
        on_time = kpi_on_time(kp)
        behind = round(behind_points(progress=kp.progress[i], planned=kp.planned[i]), _DIGITS)
        out.append(
            KpiHealth(
                kp.kpi.id,
                kp.label(),
                kp.kpi.kind or "lagging",
                kpi_score(progress=kp.progress[i], planned=kp.planned[i], on_time=on_time, tolerance=tolerance),
                behind,
                on_time,
                kpi_words(behind, on_time, tolerance),
            )
        )
    return out


def _kpi_component(scores: Sequence[KpiHealth], kind: str, weight: float) -> Component:
    mine = [k for k in scores if k.kind == kind]
    if not mine:
        return Component(None, weight, False, f"no {kind} KPI measured yet")
    score = _clean(math.fsum(k.score for k in mine) / len(mine))
    listed = "; ".join(f"{k.name} {k.score:.1f}" for k in mine)
    return Component(score, weight, True, f"mean of {plural(len(mine), f'measured {kind} KPI')}: {listed}")


def money_component(
    engagement: Engagement, weight: float, *, accuracy_band: float = 0.10
) -> tuple[Component, cashflow.CashFlowSummary | None]:
    """The money component from the cash flow's actuals to date (``cashflow.summarise``)."""
    if not engagement.cash_flow:
        return Component(None, weight, False, "no cash flow yet"), None
    summary = cashflow.summarise(engagement.cash_flow, accuracy_band=accuracy_band)
    to_date = summary.to_date
    if to_date is None:
        return Component(None, weight, False, "no actual figures in the cash flow yet"), summary
    score = money_score(actual=to_date.revenue_act, estimated=to_date.revenue_est, band=accuracy_band)
    if score is None:
        return Component(None, weight, False, "no revenue was expected yet in the periods with actual figures"), summary
    c = engagement.currency_code
    ratio = to_date.revenue_act / to_date.revenue_est
    words = f"actual revenue to date {money(to_date.revenue_act, c)} against {money(to_date.revenue_est, c)} estimated ({percent(ratio)})"
    if ratio < 1:
        short = 100 * (1 - ratio)
        where = "within" if short <= 100 * accuracy_band + 1e-9 else "beyond"
        words += f", {short:.1f} points short: {where} the estimate's ±{accuracy_band * 100:g} % accuracy"
    return Component(score, weight, True, words), summary


def moment_name(model: EngagementModel, moment_id: str) -> str:
    """A moment's name in the model, else its id in words."""
    spec = model.moment(moment_id)
    return (spec.name if spec and spec.name else moment_id.replace("_", " ")).strip()


def onboarding_component(
    engagement: Engagement, model: EngagementModel | None, weight: float, *, as_of: dt.date
) -> tuple[Component, str | None]:
    """The onboarding component and the phase (``onboarding`` or ``ongoing``; ``None`` without a model
    and a signature). The current stage is the first not completed by ``as_of``: its days since the
    step before (or the signature) against the expected days; when every stage is completed but
    onboarding is not marked complete, the last stage's own verdict."""
    signed = ep.day(engagement.contract.signed) if engagement.contract else None
    if model is None or signed is None:
        return Component(None, weight, False, "no engagement model or no signature date"), None
    if as_of < signed:
        return Component(None, weight, False, f"the contract is signed on {day_words(signed)}, after this date"), None
    done_id = next((m.id for m in model.moments if "onboarding_complete" in m.marks), None)
    done = next((ep.day(r.held) for r in engagement.moments if r.moment == done_id and r.held), None) if done_id else None
    if done is not None and done <= as_of:
        return Component(None, weight, False, f"onboarding completed on {day_words(done)}"), "ongoing"
    stages = ep.stage_durations(model, signed, engagement.moments)
    if not stages:
        return Component(None, weight, False, "the engagement model has no onboarding stages"), "onboarding"
    start, current = signed, None
    for s in stages:
        if s.actual is None:
            current = s
            break
        start = start + dt.timedelta(days=s.actual)
    if current is not None:
        spec = model.moment(current.moment)
        allowance = int(((spec.escalate if spec else None) or {}).get("after_days") or ep.DEFAULT_ESCALATE_DAYS)
        elapsed = (as_of - start).days
        status = ep.stage_status(elapsed, current.expected, allowance)
        words = (
            f"current stage {moment_name(model, current.moment)}: {plural(elapsed, 'day')} since the step before, "
            f"{current.expected} expected ({STAGE_STATUSES[status].words})"
        )
    else:
        last = stages[-1]
        status = last.status or "on_track"
        words = f"every stage done; the last, {moment_name(model, last.moment)}, took {plural(last.actual or 0, 'day')} ({STAGE_STATUSES[status].words})"
    return Component(ONBOARDING_SCORES[status], weight, True, words), "onboarding"


def moments_component(engagement: Engagement, model: EngagementModel | None, weight: float, *, as_of: dt.date) -> Component:
    """The rhythm of moments: occurrences due in the last 180 days held on time (see the module)."""
    if model is None or engagement.contract is None:
        return Component(None, weight, False, "no contract or engagement model, so no moments are planned")
    plan = ep.engagement_schedule(engagement, model, as_of=as_of)
    since = as_of - dt.timedelta(days=WINDOW_DAYS)
    judged = [o for o in plan.occurrences if o.due is not None and since <= o.due <= as_of and o.status not in ("planned", "due")]
    if not judged:
        return Component(None, weight, False, f"no moment was due between {day_words(since)} and {day_words(as_of)}")
    on_time = [o for o in judged if o.status == "held_on_time"]
    words = f"{len(on_time)} of {plural(len(judged), 'moment')} due since {day_words(since)} held on time"
    late = [o for o in judged if o.status != "held_on_time"]
    if late:
        names = [
            f"{moment_name(model, o.moment)} due {day_words(o.due)} ({MOMENT_STATUSES[o.status].words})"
            for o in late[:3]
            if o.due is not None
        ]
        words += "; not on time: " + "; ".join(names) + (f" and {len(late) - 3} more" if len(late) > 3 else "")
    return Component(share_score(on_time=len(on_time), due=len(judged)), weight, True, words)


def relationship_component(engagement: Engagement, weight: float) -> Component:
    """The relationship checks, known once a stakeholder carries map data (roles, level, influence or support)."""
    records = engagement.stakeholders or []
    if not any(r.get(k) not in (None, [], "") for r in records for k in MAP_KEYS):
        return Component(None, weight, False, "no stakeholder is mapped yet (roles, level, influence or support)")
    checks = sm.relationship_checks(records)
    met = [k for k, v in checks.items() if v]
    missing = [sm.CHECK_WORDS[k] for k, v in checks.items() if not v]
    words = f"{len(met)} of {len(checks)} checks met"
    if missing:
        words += "; missing: " + "; ".join(missing)
    return Component(relationship_score(checks), weight, True, words)


def latest_ratings(events: Sequence[Event], *, as_of: dt.date) -> list[tuple[str | None, dt.date, float]]:
    """The latest satisfaction rating (0-10) of each respondent in the 180 days up to ``as_of``:
    (respondent, date, rating), in date order. An answer without a respondent counts on its own.

    >>> latest_ratings([Event("2027-01-10", "survey", score=6, scale=10, respondent="Tom"),
    ...                 Event("2027-03-01", "survey", score=4, scale=5, respondent="Tom"),
    ...                 Event("2027-02-01", "survey", score=9, respondent="Priya"),
    ...                 Event("2026-01-01", "survey", score=1, respondent="Grace")], as_of=dt.date(2027, 4, 1))
    [('Priya', datetime.date(2027, 2, 1), 9.0), ('Tom', datetime.date(2027, 3, 1), 8.0)]
    """
    since = as_of - dt.timedelta(days=WINDOW_DAYS)
    latest: dict[Any, tuple[str | None, dt.date, float]] = {}
    for i, e in enumerate(events):
        when = ep.day(e.date)
        rating = rating_0_10(e.score, e.scale)
        if e.type != "survey" or when is None or rating is None or not since <= when <= as_of:
            continue
        key = e.respondent if e.respondent else ("", i)
        if key not in latest or when >= latest[key][1]:
            latest[key] = (e.respondent or None, when, rating)
    return sorted(latest.values(), key=lambda r: (r[1], r[0] or ""))


def customer_view_component(engagement: Engagement, weight: float, *, as_of: dt.date) -> Component:
    """The customer's-view component: the pulse's latest satisfaction per desired outcome in the
    :data:`WINDOW_DAYS` up to ``as_of`` (10 x their mean); without a pulse answer there, the latest
    survey rating of each respondent (:func:`latest_ratings`).

    >>> from csm_nb.model import PulseAnswer
    >>> e = Engagement("a", "A", events=[Event("2027-06-01", "survey", score=9)],
    ...                pulse=[PulseAnswer("2027-06-30", "Priya", o, s) for o, s in (("a", 4), ("b", 6), ("c", 8))])
    >>> customer_view_component(e, 1, as_of=dt.date(2027, 7, 1)).score
    60.0
    >>> customer_view_component(e, 1, as_of=dt.date(2027, 6, 15)).score  # before the pulse: the survey
    90.0
    """
    since = as_of - dt.timedelta(days=WINDOW_DAYS)
    latest = pulse_method.latest_satisfaction(engagement.pulse, as_of=as_of, window_days=WINDOW_DAYS)
    if latest:
        score = pulse_method.customer_view(engagement.pulse, as_of=as_of, window_days=WINDOW_DAYS)
        mean = math.fsum(s for _, s in latest.values()) / len(latest)
        words = (
            f"mean {mean:.1f} of 10 over the latest pulse answer to {plural(len(latest), 'desired outcome')} "
            f"since {day_words(since)}"
        )
        return Component(score, weight, True, words)
    ratings = latest_ratings(engagement.events, as_of=as_of)
    if not ratings:
        return Component(None, weight, False, f"no satisfaction rating in the {WINDOW_DAYS} days up to {day_words(as_of)}")
    values = [r for _, _, r in ratings]
    mean = math.fsum(values) / len(values)
    words = f"mean {mean:.1f} of 10 over the latest rating of {plural(len(values), 'respondent')} since {day_words(as_of - dt.timedelta(days=WINDOW_DAYS))}"
    return Component(customer_view_score(values), weight, True, words)


def scorable(engagement: Engagement) -> bool:
    """Could any component be known at some date: a KPI measured, actual revenue against an estimate,
    a signed contract (onboarding, moments), a mapped stakeholder, a pulse answer or a satisfaction
    rating? Dates are not looked at: an index asks without one.

    >>> scorable(Engagement("a", "A")), scorable(Engagement("a", "A", events=[Event("2027-01-05", "survey", score=8)]))
    (False, True)
    """
    kpi_ids = {k.id for k in engagement.kpis}
    if any(m.kpi in kpi_ids for m in engagement.measurements):
        return True
    if any(x.revenue_act is not None and (x.revenue_est or 0) > 0 for x in engagement.cash_flow):
        return True
    if engagement.contract is not None and engagement.contract.signed:
        return True
    if any(r.get(k) not in (None, [], "") for r in engagement.stakeholders or [] for k in MAP_KEYS):
        return True
    if any(a.satisfaction is not None for a in engagement.pulse):
        return True
    return any(e.type == "survey" and rating_0_10(e.score, e.scale) is not None for e in engagement.events)


# -- the whole --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Health:
    """The account's health at ``as_of``: the published score (one decimal; ``None``: not known yet),
    its band (after the override), the components and KPI scores, and the drivers in words."""

    as_of: dt.date
    score: float | None
    band: str | None
    override: bool
    components: dict[str, Component]
    kpis: dict[str, float]
    drivers: list[str]
    override_reason: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    bands: dict[str, float] = field(default_factory=dict)
    phase: str | None = None
    kpi_details: list[KpiHealth] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.score is not None

    def as_trigger_input(self, previous_score: float | None = None) -> dict[str, Any] | None:
        """What the engagement plan's ``{health: red}`` and ``{health_drop: n}`` triggers read
        (``ep.schedule(..., health=...)``): the band, the points fallen since ``previous_score``
        (0 when it rose or is not known) and the score; ``None`` when the health is not known.

        >>> Health(dt.date(2027, 4, 5), 60.0, "amber", False, {}, {}, []).as_trigger_input(72.5)
        {'band': 'amber', 'drop': 12.5, 'score': 60.0}
        """
        if self.score is None:
            return None
        drop = max(0.0, round(previous_score - self.score, 1)) if previous_score is not None else 0.0
        return {"band": self.band, "drop": drop, "score": self.score}

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "band": self.band,
            "override": self.override,
            "override_reason": self.override_reason,
            "components": {k: c.as_json() for k, c in self.components.items()},
            "kpis": dict(self.kpis),
            "drivers": list(self.drivers),
        }


def drivers(components: Mapping[str, Component], kpis: Sequence[KpiHealth], *, under: float = 75.0) -> list[str]:
    """Every known component and KPI scoring under 75, worst first (a component before a KPI on a tie),
    with its evidence in words.

    >>> drivers({"money": Component(47.3, 2, True, "10.5 points short")},
    ...         [KpiHealth("stock", "Orders waiting on stock", "leading", 14.4, 19.1, False, "19.1 points behind plan")])
    ['Orders waiting on stock, leading KPI, scores 14.4: 19.1 points behind plan', 'Money scores 47.3: 10.5 points short']
    """
    found = [
        (c.score, 0, f"{COMPONENT_NAMES.get(k, k)} scores {c.score:.1f}: {c.evidence}")
        for k, c in components.items()
        if c.score is not None and c.score < under
    ]
    found += [(k.score, 1, f"{k.name}, {k.kind} KPI, scores {k.score:.1f}: {k.evidence}") for k in kpis if k.score < under]
    return [text for _, _, text in sorted(found, key=lambda f: (f[0], f[1]))]


def at(engagement: Engagement, as_of: dt.date) -> Engagement:
    """The engagement as it stood at ``as_of``: measurements, moments held and events dated after it left out
    (a moment held later is not held yet)."""
    kept, _ = progress.split_at(engagement.kpis, engagement.measurements, as_of)
    moments = [
        dataclasses.replace(r, held=None, status=None) if (ep.day(r.held) or dt.date.min) > as_of else r
        for r in engagement.moments
    ]
    events = [e for e in engagement.events if (ep.day(e.date) or dt.date.min) <= as_of]
    return dataclasses.replace(engagement, measurements=kept, moments=moments, events=events)


def engagement_health(
    engagement: Engagement, model: EngagementModel | None, *, as_of: dt.date, tolerance: float = 0.02
) -> Health:
    """The account's health at ``as_of`` (the rules in the module docstring): the entry point other
    workbooks call. ``model`` is the engagement model (``None``: no onboarding or moments component)."""
    weights, bands = settings(engagement, model)
    e = at(engagement, as_of)
    tracked, _ = progress.track_all(e.kpis, e.measurements, tolerance=float(tolerance), fiscal_year_end=e.fiscal_year_end)
    scored = kpi_health(tracked, tolerance=float(tolerance))
    money_part, _ = money_component(e, weights["money"])
    onboarding_part, phase = onboarding_component(e, model, weights["onboarding"], as_of=as_of)
    components = {
        "outcome": _kpi_component(scored, "lagging", weights["outcome"]),
        "leading": _kpi_component(scored, "leading", weights["leading"]),
        "money": money_part,
        "onboarding": onboarding_part,
        "moments": moments_component(e, model, weights["moments"], as_of=as_of),
        "relationship": relationship_component(e, weights["relationship"]),
        "customer_view": customer_view_component(e, weights["customer_view"], as_of=as_of),
    }
    assert list(components) == list(HEALTH_COMPONENTS)  # one order everywhere: the vocabulary's
    score = publish(overall({k: c.score for k, c in components.items()}, weights))
    found = band(score, bands)
    # The outcome decides: a lagging KPI far behind, or missing its deadline, is red whatever the number.
    lagging = [k for k in scored if k.kind == "lagging" and (k.score < OVERRIDE_BELOW or k.on_time is False)]
    override = bool(lagging) and score is not None
    reason = "; ".join(f"{k.name}: {k.evidence}" for k in lagging) if override else None
    return Health(
        as_of=as_of,
        score=score,
        band="red" if override else found,
        override=override,
        components=components,
        kpis={k.kpi: k.score for k in scored},
        drivers=drivers(components, scored),
        override_reason=reason,
        weights=weights,
        bands=bands,
        phase=phase,
        kpi_details=scored,
    )


# -- the trend ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """The change since the previous results: ``delta`` in points (one decimal), the arrow and the band change."""

    delta: float | None
    arrow: str | None  # up | down | same
    band_from: str | None = None
    band_to: str | None = None

    @property
    def band_changed(self) -> bool:
        return self.band_from is not None and self.band_to is not None and self.band_from != self.band_to


def trend(score: float | None, band_now: str | None, previous_score: float | None, previous_band: str | None) -> Trend:
    """The change since the previous run: ``delta = score - previous`` to one decimal; the arrow is up
    or down for a change of 1 point or more, else same; ``None`` when either score is not known.

    >>> trend(72.7, "amber", 75.8, "green")
    Trend(delta=-3.1, arrow='down', band_from='green', band_to='amber')
    >>> trend(60.4, "amber", 60.0, "amber").arrow, trend(None, None, 60.0, "amber").delta
    ('same', None)
    """
    if score is None or previous_score is None:
        return Trend(None, None, previous_band, band_now)
    delta = round(score - previous_score, 1)
    arrow = "up" if delta >= ARROW_FROM else ("down" if delta <= -ARROW_FROM else "same")
    return Trend(delta, arrow, previous_band, band_now)


def extend_history(
    earlier: Sequence[Mapping[str, Any]], *, as_of: dt.date, score: float | None, keep: int = HISTORY_KEEP
) -> list[dict[str, Any]]:
    """The last ``keep`` (as_of, score) pairs, this one last: earlier entries dated on or after
    ``as_of`` are dropped (a run again on the same day replaces that day's score).

    >>> extend_history([{"as_of": "2027-01-05", "score": 70.0}, {"as_of": "2027-02-05", "score": 65.5}],
    ...                as_of=dt.date(2027, 2, 5), score=61.0)
    [{'as_of': '2027-01-05', 'score': 70.0}, {'as_of': '2027-02-05', 'score': 61.0}]
    """
    out: list[dict[str, Any]] = []
    for entry in earlier:
        try:
            when = dt.date.fromisoformat(str(entry.get("as_of"))[:10])
        except ValueError:
            continue
        value = entry.get("score")
        if when < as_of and (value is None or (isinstance(value, int | float) and not isinstance(value, bool))):
            out.append({"as_of": when.isoformat(), "score": None if value is None else float(value)})
    out.sort(key=lambda h: h["as_of"])
    out.append({"as_of": as_of.isoformat(), "score": score})
    return out[-keep:]
