"""The engagement plan's arithmetic: when each moment is due, how it stands at a date, which
triggers fire, time to value and where onboarding loses time.

Pure functions over the model's dataclasses (:mod:`csm_nb.model`); dates are ``datetime.date``
(the model's ISO strings are parsed with :func:`day`), durations whole days.

* **Due dates.** A milestone is due ``after.days`` after its anchor: ``contract.signed``, or the
  previous moment's *held* date once it is held, else that moment's due date (a late step pushes
  the ones after it). A time-based moment recurs ``every`` N days, weeks, months, quarters or
  years from ``start_from`` (``contract.start``, a moment, or a date), up to ``until`` (default
  the contract's end); or once, ``before.days`` before an anchor. An event moment is due
  ``respond_within_days`` (default 2) after the event that matches its ``when``.
* **Status at ``as_of``** (:func:`occurrence_status`): held on time (held <= due + grace; grace 0
  for onboarding milestones, the model's ``grace_days`` for time-based ones), held late, planned
  (more than 14 days ahead), due soon, overdue, escalated (overdue by at least
  ``escalate.after_days``), cancelled, missed.
* **Time to value** (:func:`time_to_value`): days from signature to the held date of the moment
  marked ``first_value``; on target when <= the model's target.
* **Stages** (:func:`stage_durations`): days between consecutive onboarding milestones against
  the expected ``after.days``; excess = max(0, actual - expected); on time, slower than expected
  (within ``escalate.after_days``, default 7) or stuck. Across customers (:func:`stage_summary`) a
  stage is *systemic* when more than half of the engagements that completed it were over.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.method import progress
from csm_nb.method.progress import add_months
from csm_nb.method.stakeholders import sponsor_change_events
from csm_nb.model import Contract, Engagement, EngagementModel, Event, MomentRecord, MomentSpec, Trigger

DUE_SOON_DAYS = 14  # "due" rather than "planned" within this many days of the due date
DEFAULT_RESPONSE_DAYS = 2  # an event moment's default time to respond
DEFAULT_ESCALATE_DAYS = 7  # a stage is "slower than expected" up to this many days over, then stuck
SIGNED = "contract.signed"
_EVERY = re.compile(r"^\s*(\d+)\s*(day|week|month|quarter|year)s?\s*$")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
JOINT_CHANNELS = ("meeting", "call")  # a moment held with the customer's people, not an email or an automated step


def day(value: Any) -> dt.date | None:
    """An ISO date string (or a date) as a date; ``None`` for nothing.

    >>> day("2027-04-01"), day(None)
    (datetime.date(2027, 4, 1), None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def every(text: str) -> tuple[int, str]:
    """A recurrence as (count, unit): "3 months" is (3, "month").

    >>> every("3 months"), every("1 week")
    ((3, 'month'), (1, 'week'))
    """
    found = _EVERY.match(text or "")
    if not found:
        raise ValueError(f"not a recurrence: {text!r} (expected N day|week|month|quarter|year)")
    return int(found.group(1)), found.group(2)


def step(start: dt.date, count: int, unit: str, k: int) -> dt.date:
    """The ``k``-th date ``count`` ``unit``s apart from ``start``, in calendar arithmetic.

    Months are counted from ``start`` itself (never chained), so 31 January steps to 28 February
    and then 31 March.

    >>> step(dt.date(2027, 1, 1), 3, "month", 1), step(dt.date(2027, 1, 31), 1, "month", 2)
    (datetime.date(2027, 4, 1), datetime.date(2027, 3, 31))
    >>> step(dt.date(2027, 1, 1), 2, "week", 1)
    datetime.date(2027, 1, 15)
    """
    if unit in _MONTHS:
        return add_months(start, count * k * _MONTHS[unit])
    return start + dt.timedelta(days=count * k * (7 if unit == "week" else 1))


# -- occurrences and their status ------------------------------------------------------------------
@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a moment: when it is due, when it was held, and how it stands at ``as_of``.

    ``days_late`` is held - due for a late one, as_of - due for an overdue one, else ``None``.
    """

    moment: str
    due: dt.date | None
    held: dt.date | None
    status: str  # a key of csm_nb.vocabulary.MOMENT_STATUSES
    days_late: int | None = None
    escalated_to: str | None = None
    record: MomentRecord | None = None
    triggered_by: str | None = None  # the event or trigger that made it due

    def as_json(self, spec: MomentSpec | None = None) -> dict[str, Any]:
        return {
            "id": self.moment,
            "name": (spec.name if spec else None) or self.moment,
            "phase": spec.phase if spec else None,
            "type": spec.type if spec else None,
            "owner": spec.owner if spec else None,
            "objective": spec.objective if spec else None,
            "due": self.due.isoformat() if self.due else None,
            "held": self.held.isoformat() if self.held else None,
            "status": self.status,
            "days_late": self.days_late,
            "escalated_to": self.escalated_to,
            "triggered_by": self.triggered_by,
        }


def grace_days(spec: MomentSpec, model: EngagementModel) -> int:
    """Days after the due date that still count as on time: none for an onboarding milestone."""
    return model.grace_days if spec.type == "time" else 0


def occurrence_status(
    spec: MomentSpec,
    *,
    due: dt.date | None,
    record: MomentRecord | None,
    as_of: dt.date,
    grace: int,
    triggered_by: str | None = None,
) -> Occurrence:
    """How one occurrence stands at ``as_of`` (the rule in the module docstring).

    >>> qbr = MomentSpec("qbr", type="time")
    >>> occurrence_status(qbr, due=dt.date(2027, 4, 1), record=MomentRecord("qbr", held="2027-04-06"),
    ...                   as_of=dt.date(2027, 4, 9), grace=7).status
    'held_on_time'
    >>> o = occurrence_status(qbr, due=dt.date(2027, 4, 1), record=None, as_of=dt.date(2027, 4, 9), grace=7)
    >>> o.status, o.days_late
    ('overdue', 8)
    """
    held = day(record.held) if record else None
    if record is not None and record.status in ("cancelled", "no_show"):
        return Occurrence(spec.id, due, held, record.status, record=record, triggered_by=triggered_by)
    if held is not None:
        if due is None or held <= due + dt.timedelta(days=grace):
            return Occurrence(spec.id, due, held, "held_on_time", record=record, triggered_by=triggered_by)
        return Occurrence(spec.id, due, held, "held_late", (held - due).days, record=record, triggered_by=triggered_by)
    if due is None:
        return Occurrence(spec.id, None, None, "planned", record=record, triggered_by=triggered_by)
    if as_of < due - dt.timedelta(days=DUE_SOON_DAYS):
        return Occurrence(spec.id, due, None, "planned", record=record, triggered_by=triggered_by)
    if as_of <= due + dt.timedelta(days=grace):
        return Occurrence(spec.id, due, None, "due", record=record, triggered_by=triggered_by)
    late = (as_of - due).days
    escalate = spec.escalate or {}
    if escalate.get("after_days") is not None and late >= int(escalate["after_days"]):
        return Occurrence(spec.id, due, None, "escalated", late, escalate.get("to"), record, triggered_by)
    return Occurrence(spec.id, due, None, "overdue", late, record=record, triggered_by=triggered_by)


def _records(log: Sequence[MomentRecord], moment_id: str) -> list[MomentRecord]:
    return [r for r in log if r.moment == moment_id]


def milestone_dues(model: EngagementModel, contract: Contract | None, log: Sequence[MomentRecord]) -> dict[str, dt.date | None]:
    """Each milestone's due date: ``after.days`` after its anchor (a due date in the log wins).

    The anchor is the contract's signature or the previous moment: its held date once held, else
    its due date. Models are checked for loops on import; a loop here leaves the moment undated.
    """
    signed = day(contract.signed) if contract else None
    out: dict[str, dt.date | None] = {}
    visiting: set[str] = set()

    def due_of(spec: MomentSpec) -> dt.date | None:
        if spec.id in out:
            return out[spec.id]
        if spec.id in visiting:
            return None
        visiting.add(spec.id)
        logged = next((day(r.due) for r in _records(log, spec.id) if r.due), None)
        after = spec.after or {}
        anchor_id = after.get("moment")
        anchor: dt.date | None
        if anchor_id in (None, SIGNED):
            anchor = signed
        else:
            before = model.moment(anchor_id)
            held = next((day(r.held) for r in _records(log, anchor_id) if r.held), None)
            anchor = held or (due_of(before) if before else None)
        due = logged or (anchor + dt.timedelta(days=int(after.get("days") or 0)) if anchor else None)
        out[spec.id] = due
        return due

    for spec in model.moments:
        if spec.type == "milestone":
            due_of(spec)
    return out


def time_dues(spec: MomentSpec, contract: Contract | None, anchors: Mapping[str, dt.date | None]) -> list[dt.date]:
    """The due dates of a time-based moment (``anchors``: each moment's held or due date).

    >>> qbr = MomentSpec("qbr", type="time", every="3 months", start_from="contract.start")
    >>> time_dues(qbr, Contract(start="2027-01-01", end="2027-12-31"), {})
    [datetime.date(2027, 4, 1), datetime.date(2027, 7, 1), datetime.date(2027, 10, 1)]
    >>> review = MomentSpec("annual", type="time", before={"anchor": "contract.end", "days": 90})
    >>> time_dues(review, Contract(start="2027-01-01", end="2027-12-31"), {})
    [datetime.date(2027, 10, 2)]
    """
    contract = contract or Contract()
    named = {"contract.start": day(contract.start), "contract.end": day(contract.end), SIGNED: day(contract.signed)}
    if spec.before:
        anchor = named.get(spec.before.get("anchor") or "contract.end")
        return [anchor - dt.timedelta(days=int(spec.before.get("days") or 0))] if anchor else []
    if not spec.every:
        return []
    count, unit = every(spec.every)
    source = spec.start_from or "contract.start"
    start = named[source] if source in named else (anchors.get(source) if source in anchors else day(source))
    until = day(spec.until) if spec.until and spec.until not in named else named.get(spec.until or "contract.end")
    if start is None or until is None:
        return []
    dues, k = [], 1
    while (due := step(start, count, unit, k)) <= until:
        dues.append(due)
        k += 1
    return dues


def applies_to(spec: MomentSpec, *, touch: str, tags: Sequence[str]) -> bool:
    """Does the moment apply to this engagement (``only_for``: the model's touch and any of the tags)?"""
    only = spec.only_for or {}
    if only.get("touch") and only["touch"] != touch:
        return False
    wanted = set(only.get("tags") or [])
    return not wanted or bool(wanted & set(tags))


def match_records(dues: Sequence[dt.date], records: Sequence[MomentRecord]) -> dict[int, MomentRecord]:
    """Which logged record belongs to which due date (by index): its own ``due`` when given, else the
    unmatched occurrence nearest its held date."""
    out: dict[int, MomentRecord] = {}
    for record in sorted(records, key=lambda r: (r.due is None, r.due or r.held or "")):
        own = day(record.due)
        free = [i for i in range(len(dues)) if i not in out]
        if not free:
            break
        if own is not None and own in dues and dues.index(own) in free:
            out[dues.index(own)] = record
            continue
        when = day(record.held) or own
        if when is not None:
            out[min(free, key=lambda i: (abs((dues[i] - when).days), i))] = record
    return out


def event_matches(when: Mapping[str, Any], event: Event) -> bool:
    """Does ``event`` meet an event condition (``{event: T, attr: v}`` or ``{event: survey, score_at_most: n}``)?

    >>> event_matches({"event": "support_case", "severity": "high"}, Event("2027-03-02", "support_case", severity="high"))
    True
    >>> event_matches({"event": "survey", "score_at_most": 6}, Event("2027-03-20", "survey", score=7))
    False
    """
    if when.get("event") != event.type:
        return False
    for key, wanted in when.items():
        if key == "event":
            continue
        if key == "score_at_most":
            if event.score is None or event.score > float(wanted):
                return False
        elif getattr(event, key, None) != wanted:
            return False
    return True


# -- triggers -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Firing:
    """A trigger (or an event moment's condition) that holds at ``as_of``: on which day, why, and the data."""

    rule: str
    on: dt.date
    reason: str
    data: dict[str, Any] = field(default_factory=dict)


def evaluate(
    rule: str,
    when: Mapping[str, Any],
    *,
    as_of: dt.date,
    events: Sequence[Event] = (),
    anchors: Mapping[str, dt.date | None] | None = None,
    kpi_series: Mapping[str, Sequence[tuple[dt.date, float]]] | None = None,
    kpi_statuses: Mapping[str, Sequence[str]] | None = None,
    occurrences: Sequence[Occurrence] = (),
    start: dt.date | None = None,
    health: Mapping[str, Any] | None = None,
) -> Firing | None:
    """Does the condition ``when`` (the closed grammar of engagement models) hold at ``as_of``?

    ``anchors`` are each moment's held (else due) date, ``kpi_series`` each KPI's dated values,
    ``kpi_statuses`` each KPI's statuses in time order, ``start`` when the engagement started
    (for "no event for N days"), ``health`` the account health (``band``, ``drop``) when known.

    >>> kickoff = {"kickoff": dt.date(2026, 12, 8)}
    >>> rule = {"kpi": "accounts", "below": 50, "at": {"moment": "kickoff", "days": 21}}
    >>> f = evaluate("slow", rule, as_of=dt.date(2027, 1, 5), anchors=kickoff,
    ...              kpi_series={"accounts": [(dt.date(2026, 12, 29), 35.0)]})
    >>> f.on, f.data["value"]
    (datetime.date(2026, 12, 29), 35.0)
    >>> evaluate("slow", rule, as_of=dt.date(2027, 1, 5), anchors=kickoff,
    ...          kpi_series={"accounts": [(dt.date(2026, 12, 29), 52.0)]}) is None
    True
    """
    anchors = anchors or {}
    if "event" in when:
        hits = [e for e in events if (day(e.date) or as_of) <= as_of and event_matches(when, e)]
        if not hits:
            return None
        last = max(hits, key=lambda e: e.date)
        return Firing(rule, day(last.date) or as_of, f"{when['event']} on {last.date}", {"event": last.date, "ref": last.ref})
    if "no_event" in when:
        days = int(when.get("for_days") or 0)
        since = as_of - dt.timedelta(days=days)
        if start is not None and start > since:
            return None  # not yet that long since the start
        if any(e.type == when["no_event"] and since < (day(e.date) or as_of) <= as_of for e in events):
            return None
        return Firing(rule, as_of, f"no {when['no_event']} for {days} days", {"since": since.isoformat()})
    if "kpi" in when:
        kpi = str(when["kpi"])
        series = sorted((kpi_series or {}).get(kpi, ()))
        if "below" in when or "above" in when:
            at = when.get("at") or {}
            base = anchors.get(at["moment"]) if at.get("moment") else day(at.get("date"))
            if base is None:
                return None
            on = base + dt.timedelta(days=int(at.get("days") or 0))
            if as_of < on:
                return None
            known = [(d, v) for d, v in series if d <= on]
            if not known:
                return Firing(rule, on, f"no measurement of {kpi} by {on.isoformat()}", {"kpi": kpi, "value": None})
            measured_on, value = known[-1]
            side = "below" if "below" in when else "above"
            limit = float(when[side])
            if (value >= limit) if side == "below" else (value <= limit):
                return None
            return Firing(
                rule, on, f"{kpi} was {value:g} on {measured_on.isoformat()}, {side} {limit:g}", {"kpi": kpi, "value": value}
            )
        if "drop_pct" in when:
            back = int(when.get("over_periods") or 1)
            known = [(d, v) for d, v in series if d <= as_of]
            if len(known) <= back or known[-1 - back][1] == 0:
                return None
            before, now = known[-1 - back][1], known[-1][1]
            drop = (before - now) / abs(before) * 100
            if drop < float(when["drop_pct"]):
                return None
            return Firing(rule, known[-1][0], f"{kpi} fell {drop:.0f} % ({before:g} to {now:g})", {"kpi": kpi, "drop_pct": drop})
        if when.get("status"):
            n = int(when.get("for_measurements") or 1)
            statuses = list((kpi_statuses or {}).get(kpi, ()))[-n:]
            if len(statuses) < n or any(s != when["status"] for s in statuses):
                return None
            return Firing(rule, as_of, f"{kpi} {when['status']} for {n} measurements in a row", {"kpi": kpi})
        return None
    if "moment" in when:
        late = [
            o
            for o in occurrences
            if o.moment == when["moment"]
            and o.held is None
            and (o.days_late or 0) >= int(when.get("overdue_days") or 0)
            and o.status in ("overdue", "escalated")
        ]
        if not late:
            return None
        worst = max(late, key=lambda o: o.days_late or 0)
        return Firing(rule, as_of, f"{when['moment']} overdue by {worst.days_late} days", {"moment": when["moment"]})
    if "health" in when or "health_drop" in when:
        if not health:
            return None
        if "health" in when and health.get("band") == when["health"]:
            return Firing(rule, as_of, f"health is {health['band']}", dict(health))
        if "health_drop" in when and (health.get("drop") or 0) >= float(when["health_drop"]):
            return Firing(rule, as_of, f"health fell {health['drop']:g} points", dict(health))
    return None


# -- time to value and stages ---------------------------------------------------------------------
@dataclass(frozen=True)
class TimeToValue:
    """Days from signature to first value (``days``; ``None`` while not reached) and its status."""

    days: int | None
    target: int
    status: str  # a key of csm_nb.vocabulary.TTV_STATUSES
    elapsed: int | None = None  # days since signature at as_of, while not reached


def time_to_value(signed: dt.date | None, reached: dt.date | None, *, target: int, as_of: dt.date) -> TimeToValue | None:
    """Time to value against its target (``None`` without a signature date).

    >>> time_to_value(dt.date(2026, 1, 5), dt.date(2026, 2, 27), target=42, as_of=dt.date(2026, 6, 1))
    TimeToValue(days=53, target=42, status='late', elapsed=None)
    >>> time_to_value(dt.date(2026, 1, 5), None, target=42, as_of=dt.date(2026, 2, 1)).status
    'on_course'
    """
    if signed is None:
        return None
    if reached is not None:
        days = (reached - signed).days
        return TimeToValue(days, target, "on_target" if days <= target else "late")
    elapsed = (as_of - signed).days
    return TimeToValue(None, target, "on_course" if elapsed <= target else "overdue", elapsed)


@dataclass(frozen=True)
class Stage:
    """One onboarding stage: from the previous milestone (or the signature) to ``moment``."""

    moment: str
    expected: int
    actual: int | None  # None: not completed yet
    status: str | None  # a key of csm_nb.vocabulary.STAGE_STATUSES; None while not completed
    excess: int = 0
    delay_reason: str | None = None


def stage_status(actual: int, expected: int, allowance: int = DEFAULT_ESCALATE_DAYS) -> str:
    """On time within the expected days, slower than expected within ``allowance`` more, else stuck.

    >>> stage_status(14, 14), stage_status(21, 14), stage_status(22, 14)
    ('on_track', 'behind', 'stuck')
    """
    return "on_track" if actual <= expected else ("behind" if actual <= expected + allowance else "stuck")


def onboarding_chain(model: EngagementModel) -> list[MomentSpec]:
    """The onboarding milestones in their order, each after the one before (the signature first)."""
    chain, previous = [], SIGNED
    milestones = [m for m in model.moments if m.type == "milestone" and m.phase == "onboarding"]
    while True:
        following = [m for m in milestones if (m.after or {}).get("moment") == previous and m not in chain]
        # Of several moments after one anchor (a handoff beside the kick-off), the one others follow.
        nxt = next((m for m in following if any((x.after or {}).get("moment") == m.id for x in milestones)), None)
        nxt = nxt or (following[0] if following else None)
        if nxt is None:
            return chain
        chain.append(nxt)
        previous = nxt.id


def stage_durations(model: EngagementModel, signed: dt.date | None, log: Sequence[MomentRecord]) -> list[Stage]:
    """Each onboarding stage's actual days against the expected ``after.days``.

    >>> m = EngagementModel("x", moments=[MomentSpec("a", phase="onboarding", after={"moment": "contract.signed", "days": 7}),
    ...                                   MomentSpec("b", phase="onboarding", after={"moment": "a", "days": 14})])
    >>> [(s.moment, s.actual, s.excess, s.status) for s in stage_durations(m, dt.date(2026, 1, 5),
    ...     [MomentRecord("a", held="2026-01-10"), MomentRecord("b", held="2026-02-09")])]
    [('a', 5, 0, 'on_track'), ('b', 30, 16, 'stuck')]
    """
    out, previous = [], signed
    for spec in onboarding_chain(model):
        record = next((r for r in log if r.moment == spec.id and r.held), None)
        held = day(record.held) if record else None
        expected = int((spec.after or {}).get("days") or 0)
        allowance = int((spec.escalate or {}).get("after_days") or DEFAULT_ESCALATE_DAYS)
        if held is None or previous is None:
            out.append(Stage(spec.id, expected, None, None))
            previous = None
            continue
        actual = (held - previous).days
        out.append(
            Stage(
                spec.id,
                expected,
                actual,
                stage_status(actual, expected, allowance),
                max(0, actual - expected),
                record.delay_reason if record else None,
            )
        )
        previous = held
    return out


@dataclass(frozen=True)
class StageSummary:
    """One stage across engagements: how many completed it, typical days, excess and whether it is systemic."""

    moment: str
    expected: int
    measured: int
    median_days: float | None
    mean_days: float | None
    over: int
    excess_days: int
    share_of_excess: float | None  # of all stages' excess, a fraction
    delay_reasons: dict[str, int]
    systemic: bool


def stage_summary(stages_by_engagement: Mapping[str, Sequence[Stage]]) -> list[StageSummary]:
    """Stages across engagements, in the order they first appear; systemic when over expected for
    more than half of the engagements that completed the stage."""
    order: list[str] = []
    by_stage: dict[str, list[Stage]] = {}
    for stages in stages_by_engagement.values():
        for s in stages:
            if s.moment not in by_stage:
                order.append(s.moment)
                by_stage[s.moment] = []
            by_stage[s.moment].append(s)
    total = sum(s.excess for stages in by_stage.values() for s in stages if s.actual is not None)
    out = []
    for moment in order:
        done = [s for s in by_stage[moment] if s.actual is not None]
        actual = [s.actual for s in done if s.actual is not None]
        over = sum(1 for s in done if s.excess > 0)
        reasons: dict[str, int] = {}
        for s in done:
            if s.delay_reason:
                reasons[s.delay_reason] = reasons.get(s.delay_reason, 0) + 1
        excess = sum(s.excess for s in done)
        out.append(
            StageSummary(
                moment,
                by_stage[moment][0].expected,
                len(done),
                float(statistics.median(actual)) if actual else None,
                float(statistics.fmean(actual)) if actual else None,
                over,
                excess,
                excess / total if total else None,
                reasons,
                bool(done) and over * 2 > len(done),
            )
        )
    return out


def interest_dropping(occurrences: Sequence[Occurrence]) -> list[str]:
    """Time-based moments whose last two occurrences were cancelled or missed (in due order)."""
    out: list[str] = []
    by_moment: dict[str, list[Occurrence]] = {}
    for o in occurrences:
        by_moment.setdefault(o.moment, []).append(o)
    for moment, items in by_moment.items():
        past = [o for o in sorted(items, key=lambda o: o.due or dt.date.min) if o.status not in ("planned", "due")]
        if len(past) >= 2 and all(o.status in ("cancelled", "no_show") for o in past[-2:]):
            out.append(moment)
    return out


# -- the whole schedule ------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """Every occurrence of every moment at ``as_of`` (in due order), and the triggers that fired."""

    as_of: dt.date
    occurrences: list[Occurrence]
    fired: list[tuple[Trigger, Firing]]

    def next(self, count: int = 3) -> list[Occurrence]:
        """The next ``count`` occurrences not held yet that are not overdue (planned or due soon)."""
        ahead = [o for o in self.occurrences if o.status in ("planned", "due") and o.due is not None]
        return sorted(ahead, key=lambda o: o.due)[:count]  # type: ignore[arg-type, return-value]

    def overdue(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.status in ("overdue", "escalated")]


def schedule(
    model: EngagementModel,
    contract: Contract | None,
    log: Sequence[MomentRecord],
    events: Sequence[Event] = (),
    *,
    as_of: dt.date,
    tags: Sequence[str] = (),
    kpi_series: Mapping[str, Sequence[tuple[dt.date, float]]] | None = None,
    kpi_statuses: Mapping[str, Sequence[str]] | None = None,
    health: Mapping[str, Any] | None = None,
) -> Schedule:
    """Every moment's occurrences and their status at ``as_of``, then the triggers evaluated on them."""
    dues = milestone_dues(model, contract, log)
    anchors: dict[str, dt.date | None] = {}
    for spec in model.moments:
        held = next((day(r.held) for r in _records(log, spec.id) if r.held), None)
        anchors[spec.id] = held or dues.get(spec.id)
    start = day(contract.start) if contract and contract.start else (day(contract.signed) if contract else None)
    occurrences: list[Occurrence] = []
    for spec in model.moments:
        if not applies_to(spec, touch=model.touch, tags=tags):
            continue
        grace = grace_days(spec, model)
        records = _records(log, spec.id)
        if spec.type == "milestone":
            record = next((r for r in records if r.held or r.status), None)
            occurrences.append(occurrence_status(spec, due=dues.get(spec.id), record=record, as_of=as_of, grace=grace))
        elif spec.type == "time":
            times = time_dues(spec, contract, anchors)
            matched = match_records(times, records)
            occurrences += [
                occurrence_status(spec, due=d, record=matched.get(i), as_of=as_of, grace=grace) for i, d in enumerate(times)
            ]
        elif spec.type == "event" and spec.when:
            firing = evaluate(
                spec.id,
                spec.when,
                as_of=as_of,
                events=events,
                anchors=anchors,
                kpi_series=kpi_series,
                kpi_statuses=kpi_statuses,
                start=start,
                health=health,
            )
            if firing is not None:
                due = firing.on + dt.timedelta(days=spec.respond_within_days or DEFAULT_RESPONSE_DAYS)
                record = next((r for r in records if (day(r.held) or dt.date.min) >= firing.on or day(r.due) == due), None)
                occurrences.append(
                    occurrence_status(spec, due=due, record=record, as_of=as_of, grace=0, triggered_by=firing.reason)
                )
    fired = []
    for trigger in model.triggers:
        firing = evaluate(
            trigger.id,
            trigger.when,
            as_of=as_of,
            events=events,
            anchors=anchors,
            kpi_series=kpi_series,
            kpi_statuses=kpi_statuses,
            occurrences=occurrences,
            start=start,
            health=health,
        )
        if firing is not None:
            fired.append((trigger, firing))
    occurrences.sort(key=lambda o: (o.due is None, o.due or dt.date.max, o.moment))
    return Schedule(as_of, occurrences, fired)


def kpi_series(engagement: Engagement) -> tuple[dict[str, list[tuple[dt.date, float]]], dict[str, list[str]]]:
    """Each KPI's dated measurements and its statuses in time order: what the KPI triggers read."""
    tracked, _ = progress.track_all(engagement.kpis, engagement.measurements, fiscal_year_end=engagement.fiscal_year_end)
    series: dict[str, list[tuple[dt.date, float]]] = {}
    statuses: dict[str, list[str]] = {}
    for kp in tracked:
        dated = [(kp.timeline.date(p), v) for p, v in zip(kp.periods, kp.values, strict=True)]
        series[kp.kpi.id] = [(d, v) for d, v in dated if d is not None]
        statuses[kp.kpi.id] = list(kp.status)
    return series, statuses


def engagement_schedule(
    engagement: Engagement, model: EngagementModel, *, as_of: dt.date, health: Mapping[str, Any] | None = None
) -> Schedule:
    """The engagement's schedule at ``as_of``: its contract, moment log, events, tags and KPIs under ``model``.

    A sponsor or champion who left (the stakeholder map) counts as a sponsor-change event unless one is
    logged for them already (:func:`csm_nb.method.stakeholders.sponsor_change_events`).
    """
    series, statuses = kpi_series(engagement)
    logged = {(e.type, e.respondent) for e in engagement.events}
    derived = [e for e in sponsor_change_events(engagement.stakeholders or []) if (e.type, e.respondent) not in logged]
    return schedule(
        model,
        engagement.contract,
        engagement.moments,
        [*engagement.events, *derived],
        as_of=as_of,
        tags=engagement.tags or [],
        kpi_series=series,
        kpi_statuses=statuses,
        health=health,
    )


def is_joint(spec: MomentSpec | None) -> bool:
    """A moment held together with the customer: it names a customer role and meets in person or by call.

    >>> is_joint(MomentSpec("qbr", customer_role="sponsor", channel="meeting"))
    True
    >>> is_joint(MomentSpec("health_check", channel="meeting")), is_joint(MomentSpec("nudge", customer_role="user", channel="email"))
    (False, False)
    """
    return spec is not None and bool(spec.customer_role) and spec.channel in JOINT_CHANNELS


def joint_moments(model: EngagementModel, plan: Schedule, *, count: int = 2) -> tuple[list[Occurrence], list[Occurrence]]:
    """The next ``count`` joint moments (planned or due soon) and the joint ones overdue, oldest first:
    what a customer-facing report may show (:func:`is_joint`)."""
    joint = [o for o in plan.occurrences if is_joint(model.moment(o.moment))]
    ahead = sorted((o for o in joint if o.status in ("planned", "due") and o.due is not None), key=lambda o: o.due)
    overdue = sorted((o for o in joint if o.status in ("overdue", "escalated")), key=lambda o: o.due or dt.date.min)
    return ahead[:count], overdue
