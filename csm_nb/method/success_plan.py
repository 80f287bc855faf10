"""The success plan's arithmetic: when each milestone of the joint plan is done, how it stands at a
date, how far each objective and the whole plan have come.

Pure functions over the engagement (:mod:`csm_nb.model`); its success plan is the checked mapping of
the engagement file (``objectives`` and ``milestones``), dates there are ISO text and here
``datetime.date``; durations are whole days, counted as positive numbers.

* **Completion** (:func:`completion`). An explicit ``done_on`` wins. Otherwise the milestone's
  evidence completes it by itself: ``{kpi: K, at_least: v}`` (or ``at_most``) is done on the date of
  the first measurement of K, in time order, whose value meets v; ``{moment: M}`` is done on the
  first date M was held (the moment log). A measurement is dated as the progress report dates it
  (:func:`csm_nb.method.progress.measurement_day`: a date, or the end of the KPI's p-th period from its
  start). Nothing dated after ``as_of`` counts: judged at a date, a milestone done later is not done.
* **Status at ``as_of``** (:func:`milestone_status`, the keys of
  ``csm_nb.vocabulary.MILESTONE_STATUSES``): ``done_on_time`` when done on or before the due date;
  ``done_late`` (days = done - due); not done: ``overdue`` once ``as_of`` is past the due date (days =
  as_of - due), ``due`` when the due date is at most 14 days ahead (days = due - as_of, the days
  left), else ``planned``. No grace: a milestone due on 31 March is overdue on 1 April.
* **The plan** (:func:`plan_summary`): share done = done / milestones; on-time rate = done on time /
  done with a known date (a milestone ticked done without a date cannot be judged on time); the
  overdue list, oldest due date first.
* **An objective** (:func:`objective_progress`): its milestones done / its milestones, beside the
  status of the outcome it serves (the one rule of :mod:`csm_nb.method.verdicts`, passed in).
* **Burn-up** (:func:`burn_up`): milestones planned, cumulated by due date, against milestones done,
  cumulated by the date they were done (up to ``as_of``).

The initiative's own milestones (``initiative.milestones``: ``name``, ``date``, ``done``, and
``done_on`` when given) are judged by the same rule (:func:`initiative_milestones`); one ticked
``done`` without a date has the status ``done`` (:data:`DONE`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from csm_nb.method.dates import parse_deadline
from csm_nb.method.engagement_plan import DUE_SOON_DAYS
from csm_nb.method.progress import measurement_day, parse_date
from csm_nb.model import Engagement, Kpi, Measurement, MomentRecord
from csm_nb.vocabulary import MILESTONE_STATUSES, Verdict

DONE = "done"  # done, on a date nobody recorded (an initiative milestone ticked ``done: true``)
# Every status a milestone can have: the vocabulary's five and the undated "done".
STATUSES: dict[str, Verdict] = {**MILESTONE_STATUSES, DONE: Verdict("done", "Done.", "good")}
DONE_STATUSES = ("done_on_time", "done_late", DONE)
_EPS = 1e-9  # 6.999999999 read from a spreadsheet meets "at least 7"


def day(value: Any) -> dt.date | None:
    """An ISO date (text or a date) as a date; ``None`` for nothing or anything else.

    >>> day("2027-04-05"), day(None), day("soon")
    (datetime.date(2027, 4, 5), None, None)
    """
    if value is None or value == "":
        return None
    return parse_date(value)


# -- status at a date ------------------------------------------------------------------------------
def milestone_status(
    *, due: dt.date | None, done_on: dt.date | None, as_of: dt.date, done: bool = False
) -> tuple[str, int | None]:
    """How a milestone stands at ``as_of``: a status key and its days (rule in the module docstring).

    ``done_on`` after ``as_of`` is not done yet; ``done`` says it is done without a date.
    Days are positive: days late (``done_late``, ``overdue``) or days left (``due``).

    The acceptance plan at 5 April 2027:

    >>> at = dt.date(2027, 4, 5)
    >>> milestone_status(due=dt.date(2027, 1, 15), done_on=dt.date(2027, 1, 20), as_of=at)
    ('done_late', 5)
    >>> milestone_status(due=dt.date(2027, 2, 1), done_on=dt.date(2027, 2, 1), as_of=at)
    ('done_on_time', None)
    >>> milestone_status(due=dt.date(2027, 3, 31), done_on=None, as_of=at)
    ('overdue', 5)
    >>> milestone_status(due=dt.date(2027, 4, 19), done_on=None, as_of=at), milestone_status(due=dt.date(2027, 12, 15), done_on=None, as_of=at)
    (('due', 14), ('planned', None))
    """
    if done_on is not None and done_on <= as_of:
        if due is None or done_on <= due:
            return "done_on_time", None
        return "done_late", (done_on - due).days
    if done and done_on is None:
        return DONE, None
    if due is None:
        return "planned", None
    if as_of > due:
        return "overdue", (as_of - due).days
    left = (due - as_of).days
    return ("due", left) if left <= DUE_SOON_DAYS else ("planned", None)


# -- what completes a milestone --------------------------------------------------------------------
@dataclass(frozen=True)
class Completion:
    """When a milestone was done (``on``; ``None``: done, the date not known) and what says so:
    ``done_on`` (a date given), ``kpi`` or ``moment`` (its evidence), ``done`` (ticked, no date)."""

    on: dt.date | None
    by: str


@dataclass(frozen=True)
class KpiReading:
    """A KPI's measurements read against a milestone's threshold at ``as_of``: the first one that meets
    it (``met``, dated ``met_on``: ``None`` when that measurement cannot be dated) and the latest value."""

    met: bool
    met_on: dt.date | None
    latest: float | None
    latest_on: dt.date | None


def meets(value: float, evidence: Mapping[str, Any]) -> bool:
    """Does a measured ``value`` meet the evidence's threshold (``at_least`` or ``at_most``)?

    >>> meets(7, {"at_least": 7}), meets(6.8, {"at_least": 7}), meets(12, {"at_most": 15})
    (True, False, True)
    """
    if evidence.get("at_least") is not None:
        return float(value) >= float(evidence["at_least"]) - _EPS
    if evidence.get("at_most") is not None:
        return float(value) <= float(evidence["at_most"]) + _EPS
    return False


def read_kpi(evidence: Mapping[str, Any], kpi: Kpi | None, measurements: Sequence[Measurement], *, as_of: dt.date) -> KpiReading:
    """The KPI named by ``evidence`` read at ``as_of``: the first measurement, in time order, that meets
    the threshold, and the latest value.

    Measurements dated after ``as_of`` are left out; two on the same day: the later one given wins (as
    the progress report places them); undated ones (an index of a KPI without a start date) come after
    the dated ones, in the order given.

    >>> k = Kpi("engagement-score", start="2027-01-01", frequency="monthly")
    >>> rows = [Measurement("engagement-score", p, v) for p, v in enumerate([6, 6.1, 6.4, 6.8, 7.1])]
    >>> read_kpi({"kpi": "engagement-score", "at_least": 7}, k, rows, as_of=dt.date(2027, 4, 5))
    KpiReading(met=False, met_on=None, latest=6.8, latest_on=datetime.date(2027, 4, 1))
    >>> read_kpi({"kpi": "engagement-score", "at_least": 7}, k, rows, as_of=dt.date(2027, 5, 10)).met_on
    datetime.date(2027, 5, 1)
    """
    dated: dict[dt.date, float] = {}
    undated: list[float] = []
    for m in measurements:
        if m.kpi != evidence.get("kpi"):
            continue
        when = measurement_day(kpi, m.period)
        if when is None:
            undated.append(float(m.value))
        elif when <= as_of:
            dated[when] = float(m.value)
    series: list[tuple[dt.date | None, float]] = [(d, dated[d]) for d in sorted(dated)] + [(None, v) for v in undated]
    first = next(((d, v) for d, v in series if meets(v, evidence)), None)
    latest = series[-1] if series else None
    return KpiReading(
        met=first is not None,
        met_on=first[0] if first else None,
        latest=latest[1] if latest else None,
        latest_on=latest[0] if latest else None,
    )


def moment_held_on(moment_id: str, log: Sequence[MomentRecord], *, as_of: dt.date) -> dt.date | None:
    """The first date the moment ``moment_id`` was held, on or before ``as_of`` (cancelled or missed
    entries do not count); ``None`` when it was not held by then.

    >>> log = [MomentRecord("kickoff", status="cancelled", held="2027-01-08"), MomentRecord("kickoff", held="2027-01-12")]
    >>> moment_held_on("kickoff", log, as_of=dt.date(2027, 2, 1)), moment_held_on("kickoff", log, as_of=dt.date(2027, 1, 10))
    (datetime.date(2027, 1, 12), None)
    """
    held = [
        d for r in log if r.moment == moment_id and r.status in (None, "held") and (d := day(r.held)) is not None and d <= as_of
    ]
    return min(held) if held else None


def completion(milestone: Mapping[str, Any], engagement: Engagement, *, as_of: dt.date) -> Completion | None:
    """When ``milestone`` (a success-plan mapping) was done, judged at ``as_of``: its ``done_on`` when
    given (it wins over evidence), else what its evidence says; ``None``: not done by ``as_of``.

    A ``done_on`` after ``as_of`` is not done yet at ``as_of``.

    >>> e = Engagement("x", "X", moments=[MomentRecord("kickoff", held="2027-01-12")])
    >>> completion({"id": "m", "due": "2027-01-10", "evidence": {"moment": "kickoff"}}, e, as_of=dt.date(2027, 2, 1))
    Completion(on=datetime.date(2027, 1, 12), by='moment')
    >>> completion({"id": "m", "due": "2027-01-10", "done_on": "2027-01-09", "evidence": {"moment": "kickoff"}}, e,
    ...            as_of=dt.date(2027, 2, 1)).on
    datetime.date(2027, 1, 9)
    """
    done_on = day(milestone.get("done_on"))
    if done_on is not None:
        return Completion(done_on, "done_on") if done_on <= as_of else None
    evidence = milestone.get("evidence") or {}
    if evidence.get("kpi"):
        reading = read_kpi(evidence, engagement.kpi(evidence["kpi"]), engagement.measurements, as_of=as_of)
        return Completion(reading.met_on, "kpi") if reading.met else None
    if evidence.get("moment"):
        held = moment_held_on(evidence["moment"], engagement.moments, as_of=as_of)
        return Completion(held, "moment") if held is not None else None
    return None


# -- each milestone --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Milestone:
    """One milestone judged at a date: what it is, when it is due and done, its status and days.

    ``source`` is ``success_plan`` (the joint plan) or ``initiative`` (the customer's own list);
    ``reading`` is its KPI evidence read at the date, when it has some.
    """

    id: str | None
    name: str
    due: dt.date | None
    done_on: dt.date | None
    status: str  # a key of STATUSES
    days: int | None
    objective: str | None = None
    kind: str | None = None
    owner: str | None = None
    joint: bool = True
    completed_by: str | None = None  # done_on | kpi | moment | done
    evidence: Mapping[str, Any] | None = None
    reading: KpiReading | None = None
    source: str = "success_plan"

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    def as_json(self) -> dict[str, Any]:
        """The milestone for a results file: dates as ISO text, days as whole numbers."""
        found: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "objective": self.objective,
            "kind": self.kind,
            "owner": self.owner,
            "joint": self.joint,
            "due": self.due.isoformat() if self.due else None,
            "done_on": self.done_on.isoformat() if self.done_on else None,
            "status": self.status,
            "days": self.days,
            "completed_by": self.completed_by,
            "evidence": dict(self.evidence) if self.evidence else None,
        }
        if self.reading is not None:
            found["latest"] = self.reading.latest
            found["latest_on"] = self.reading.latest_on.isoformat() if self.reading.latest_on else None
        return found


def plan_milestones(engagement: Engagement, *, as_of: dt.date) -> list[Milestone]:
    """The success plan's milestones judged at ``as_of``, in the file's order.

    >>> e = Engagement("x", "X", success_plan={"milestones": [
    ...     {"id": "live", "name": "Platform live", "due": "2027-01-15", "done_on": "2027-01-20"},
    ...     {"id": "review", "name": "Phase One review", "due": "2027-12-15", "joint": False}]})
    >>> [(m.id, m.status, m.days) for m in plan_milestones(e, as_of=dt.date(2027, 4, 5))]
    [('live', 'done_late', 5), ('review', 'planned', None)]
    """
    found = []
    for m in (engagement.success_plan or {}).get("milestones") or []:
        done = completion(m, engagement, as_of=as_of)
        due = day(m.get("due"))
        status, days = milestone_status(due=due, done_on=done.on if done else None, as_of=as_of, done=done is not None)
        evidence = m.get("evidence") or None
        reading = None
        if evidence and evidence.get("kpi"):
            reading = read_kpi(evidence, engagement.kpi(evidence["kpi"]), engagement.measurements, as_of=as_of)
        found.append(
            Milestone(
                id=m.get("id"),
                name=str(m.get("name") or m.get("id") or ""),
                due=due,
                done_on=done.on if done else None,
                status=status,
                days=days,
                objective=m.get("objective"),
                kind=m.get("kind"),
                owner=m.get("owner"),
                joint=m.get("joint") is not False,
                completed_by=done.by if done else None,
                evidence=evidence,
                reading=reading,
            )
        )
    return found


def initiative_milestones(engagement: Engagement, *, as_of: dt.date) -> list[Milestone]:
    """The initiative's own milestones judged at ``as_of`` by the same rule.

    ``date`` is an ISO date or a deadline phrase ("6 months") from the initiative's start (else the
    contract's start); one that cannot be placed is undated ("planned"). ``done_on`` is the date it was
    done; ``done: true`` without it is done, date not known.

    >>> e = Engagement("x", "X", initiative={"start": "2027-01-01", "milestones": [
    ...     {"name": "Platform live", "date": "2027-01-15", "done": True},
    ...     {"name": "First review", "date": "3 months", "done_on": "2027-04-08"}]})
    >>> [(m.name, m.due, m.status, m.days) for m in initiative_milestones(e, as_of=dt.date(2027, 4, 10))]
    [('Platform live', datetime.date(2027, 1, 15), 'done', None), ('First review', datetime.date(2027, 4, 1), 'done_late', 7)]
    """
    initiative = engagement.initiative or {}
    start = day(initiative.get("start")) or day(engagement.contract.start if engagement.contract else None)
    found = []
    for m in initiative.get("milestones") or []:
        deadline = parse_deadline(m.get("date"))
        due = deadline.on(start, fiscal_year_end=engagement.fiscal_year_end) if deadline else None
        done_on = day(m.get("done_on"))
        ticked = bool(m.get("done")) or done_on is not None
        status, days = milestone_status(due=due, done_on=done_on, as_of=as_of, done=ticked and done_on is None)
        shown_on = done_on if done_on is not None and done_on <= as_of else None
        found.append(
            Milestone(
                id=None,
                name=str(m.get("name") or ""),
                due=due,
                done_on=shown_on,
                status=status,
                days=days,
                joint=False,
                completed_by=("done_on" if shown_on else DONE) if status in DONE_STATUSES else None,
                source="initiative",
            )
        )
    return found


# -- the plan and its objectives -------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSummary:
    """The plan at a date: milestones ``done`` of ``total`` (``share_done``), ``on_time`` of those done
    with a known date (``dated``, ``share_on_time``), and the ``overdue`` ones, oldest first.
    Shares are fractions; ``None`` when there is nothing to divide by."""

    done: int
    total: int
    share_done: float | None
    on_time: int
    dated: int
    share_on_time: float | None
    overdue: list[Milestone]


def plan_summary(milestones: Sequence[Milestone]) -> PlanSummary:
    """Share done = done / total; on-time rate = done on time / done with a known date; the overdue list.

    The acceptance plan at 5 April 2027 (due 01-15 done 01-20, due 02-01 done 02-01, due 02-28 done
    02-25, due 03-31 not met yet, due 12-15 open): 3 of 5 done (60 %), 2 of 3 on time (66.7 %), one
    overdue by 5 days.

    >>> at = dt.date(2027, 4, 5)
    >>> rows = [("2027-01-15", "2027-01-20"), ("2027-02-01", "2027-02-01"), ("2027-02-28", "2027-02-25"),
    ...         ("2027-03-31", None), ("2027-12-15", None)]
    >>> plan = [Milestone(f"m{i}", f"M{i}", day(d), day(o), *milestone_status(due=day(d), done_on=day(o), as_of=at))
    ...         for i, (d, o) in enumerate(rows)]
    >>> s = plan_summary(plan)
    >>> s.done, s.total, s.share_done, s.on_time, s.dated, round(s.share_on_time * 100, 1)
    (3, 5, 0.6, 2, 3, 66.7)
    >>> [(m.id, m.days) for m in s.overdue]
    [('m3', 5)]
    """
    done = [m for m in milestones if m.done]
    dated = [m for m in done if m.status != DONE]
    on_time = [m for m in dated if m.status == "done_on_time"]
    overdue = sorted((m for m in milestones if m.status == "overdue"), key=lambda m: (m.due or dt.date.min, m.name))
    return PlanSummary(
        done=len(done),
        total=len(milestones),
        share_done=len(done) / len(milestones) if milestones else None,
        on_time=len(on_time),
        dated=len(dated),
        share_on_time=len(on_time) / len(dated) if dated else None,
        overdue=overdue,
    )


@dataclass(frozen=True)
class ObjectiveProgress:
    """One objective: its milestones ``done`` of ``total`` (``share_done``, ``None`` without any) and the
    status of the outcome it serves (a key of ``csm_nb.vocabulary.KPI_STATUSES``; ``None``: not measured
    yet, or no outcome linked)."""

    id: str
    description: str | None
    outcome: str | None
    outcome_status: str | None
    done: int
    total: int
    share_done: float | None
    due: dt.date | None = None
    owner_customer: str | None = None
    owner_ours: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "outcome": self.outcome,
            "outcome_status": self.outcome_status,
            "done": self.done,
            "total": self.total,
            "share_done": self.share_done,
            "due": self.due.isoformat() if self.due else None,
            "owner_customer": self.owner_customer,
            "owner_ours": self.owner_ours,
        }


def objective_progress(
    objectives: Sequence[Mapping[str, Any]],
    milestones: Sequence[Milestone],
    *,
    outcome_statuses: Mapping[str, str | None],
) -> list[ObjectiveProgress]:
    """Each objective's milestones done / its milestones, and its outcome's status from ``outcome_statuses``
    (outcome id -> status key, as :class:`csm_nb.method.verdicts.Verdicts` ``outcomes``).

    >>> plan = [Milestone("a", "A", None, dt.date(2027, 1, 2), "done_on_time", None, objective="o"),
    ...         Milestone("b", "B", dt.date(2027, 3, 1), None, "overdue", 4, objective="o")]
    >>> [(p.id, p.done, p.total, p.share_done, p.outcome_status)
    ...  for p in objective_progress([{"id": "o", "outcome": "more-clients"}], plan, outcome_statuses={"more-clients": "behind"})]
    [('o', 1, 2, 0.5, 'behind')]
    """
    found = []
    for o in objectives:
        mine = [m for m in milestones if m.objective == o.get("id")]
        done = sum(1 for m in mine if m.done)
        outcome = o.get("outcome")
        found.append(
            ObjectiveProgress(
                id=str(o.get("id")),
                description=o.get("description"),
                outcome=outcome,
                outcome_status=outcome_statuses.get(outcome) if outcome else None,
                done=done,
                total=len(mine),
                share_done=done / len(mine) if mine else None,
                due=day(o.get("due")),
                owner_customer=o.get("owner_customer"),
                owner_ours=o.get("owner_ours"),
            )
        )
    return found


@dataclass(frozen=True)
class BurnUp:
    """Cumulative counts by date: ``planned`` (milestones due by each due date) and ``done`` (milestones
    done by each date they were done, up to ``as_of``); each a list of (date, count) in date order,
    one point a date. Milestones without a due date, or done without a date, are not on it."""

    planned: list[tuple[dt.date, int]]
    done: list[tuple[dt.date, int]]


def cumulative(days: Sequence[dt.date]) -> list[tuple[dt.date, int]]:
    """How many of ``days`` fall on or before each of them: one point a distinct date, in order.

    >>> cumulative([dt.date(2027, 2, 1), dt.date(2027, 1, 15), dt.date(2027, 2, 1)])
    [(datetime.date(2027, 1, 15), 1), (datetime.date(2027, 2, 1), 3)]
    """
    points: dict[dt.date, int] = {}
    for n, d in enumerate(sorted(days), start=1):
        points[d] = n
    return sorted(points.items())


def burn_up(milestones: Sequence[Milestone], *, as_of: dt.date) -> BurnUp:
    """Planned (by due date) against done (by done date) milestones, cumulated.

    >>> at = dt.date(2027, 4, 5)
    >>> plan = [Milestone("a", "A", dt.date(2027, 1, 15), dt.date(2027, 1, 20), "done_late", 5),
    ...         Milestone("b", "B", dt.date(2027, 3, 31), None, "overdue", 5)]
    >>> b = burn_up(plan, as_of=at)
    >>> b.planned, b.done
    ([(datetime.date(2027, 1, 15), 1), (datetime.date(2027, 3, 31), 2)], [(datetime.date(2027, 1, 20), 1)])
    """
    planned = cumulative([m.due for m in milestones if m.due is not None])
    done = cumulative([m.done_on for m in milestones if m.done and m.done_on is not None and m.done_on <= as_of])
    return BurnUp(planned, done)


# -- for the value report --------------------------------------------------------------------------
@dataclass(frozen=True)
class OverdueMilestone:
    """A joint milestone overdue at a date: its id, name, owner, due date and days overdue."""

    id: str | None
    name: str
    due: dt.date
    days: int
    owner: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "owner": self.owner, "due": self.due.isoformat(), "days": self.days}


def overdue_joint_milestones(engagement: Engagement, *, as_of: dt.date) -> list[OverdueMilestone]:
    """The success plan's joint milestones (``joint`` not false) overdue at ``as_of``, oldest due first:
    the actions a customer report asks for.

    >>> e = Engagement("x", "X", success_plan={"milestones": [
    ...     {"id": "rating-7", "name": "Rating reaches 7", "due": "2027-03-31", "owner": "Priya Raman"},
    ...     {"id": "ours", "name": "Our internal review", "due": "2027-03-01", "joint": False}]})
    >>> overdue_joint_milestones(e, as_of=dt.date(2027, 4, 5))
    [OverdueMilestone(id='rating-7', name='Rating reaches 7', due=datetime.date(2027, 3, 31), days=5, owner='Priya Raman')]
    """
    return [
        OverdueMilestone(m.id, m.name, m.due, m.days or 0, m.owner)
        for m in plan_summary(plan_milestones(engagement, as_of=as_of)).overdue
        if m.joint and m.due is not None
    ]
