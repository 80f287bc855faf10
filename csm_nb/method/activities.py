"""The CSM's activities against the eight missions: what was done for the account, for which mission,
with whom, and how much time it took against what the account is worth.

Pure functions over the engagement's activity log and moment log (:mod:`csm_nb.model`) and its
stakeholders (the checked mappings of the file). Dates are ``datetime.date``; minutes are minutes
of the CSM's time (``None``: not logged, never zero); money is in the engagement's currency.

* **What counts** (:func:`counted_activities`): every logged activity dated on or before ``as_of``,
  and every moment of the engagement plan held by then (a meeting; its missions from
  :data:`MOMENT_MISSIONS`, its people the attendees, its minutes not known). A held moment that an
  activity already records (the activity names the moment and is dated the day it was held) counts once.
* **The window**: the last 90 days, an activity no more than 90 days before ``as_of``
  (0 <= as_of - date <= 90).
* **Per mission** (:func:`mission_coverage`): activities and known minutes in the window, and the
  last date ever; a mission with no activity in the window is flagged. One activity may serve
  several missions, so the missions' counts add up to more than the activities: the page says so.
* **By exchange level** (:func:`by_level`): an activity counts once at each level (operational,
  business, strategic) of the customer's or partner's people taking part; with none of known level,
  under "not known".
* **Time against the account's worth** (:func:`minutes_per_month`, :func:`minutes_per_10k`): minutes
  a month = minutes in the window x 30.4375 / 90 (a month is a twelfth of 365.25 days);
  minutes a month per 10,000 of renewal base = minutes a month / (renewal base / 10,000).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from csm_nb.model import Activity, MomentRecord
from csm_nb.vocabulary import DAYS_PER_YEAR, LEVELS, MISSIONS

WINDOW_DAYS = 90  # "the last 90 days" (docs/csm-activities.md)
MONTH_DAYS = DAYS_PER_YEAR / 12  # the average month, 30.4375 days
PER_BASE = 10_000  # minutes are set against each 10,000 of renewal base
NOT_KNOWN_LEVEL = "not_known"
MOMENT_TYPE = "meeting"  # what a held moment counts as

# The missions a held moment of the built-in engagement models serves (an activity logged for a moment
# carries its own). A moment of another model serves building relationships: a meeting with the customer.
MOMENT_MISSIONS: dict[str, tuple[str, ...]] = {
    # high touch
    "handoff": ("build_relationships", "understand_customer"),
    "kickoff": ("build_relationships", "manage_goals"),
    "activated": ("manage_goals",),
    "initial_training": ("manage_goals", "satisfaction"),
    "first_metrics_review": ("focus_on_value", "manage_goals"),
    "self_sufficiency_check": ("manage_goals", "reduce_risk"),
    "weekly_meeting": ("build_relationships", "understand_customer"),
    "monthly_metrics_review": ("focus_on_value", "reduce_risk"),
    "qbr": ("focus_on_value", "build_relationships"),
    "annual_account_review": ("focus_on_value", "develop_business", "build_relationships"),
    "severe_case_review": ("reduce_risk", "satisfaction"),
    "release_briefing": ("satisfaction", "understand_customer"),
    "new_sponsor_meeting": ("build_relationships", "reduce_risk"),
    "survey_follow_up": ("satisfaction", "understand_customer"),
    "quiet_account_check": ("reduce_risk", "understand_customer"),
    "usage_drop_review": ("reduce_risk", "manage_goals"),
    "metric_drop_review": ("reduce_risk", "focus_on_value"),
    # low touch
    "welcome": ("build_relationships",),
    "guided_training": ("manage_goals",),
    "first_usage_report": ("focus_on_value",),
    "self_service_check": ("manage_goals", "reduce_risk"),
    "monthly_usage_digest": ("focus_on_value",),
    "renewal_reminder": ("develop_business", "reduce_risk"),
    "usage_drop_nudge": ("reduce_risk",),
    "release_announcement": ("satisfaction",),
    "severe_case_check": ("reduce_risk", "satisfaction"),
}
DEFAULT_MOMENT_MISSIONS: tuple[str, ...] = ("build_relationships",)


def day(value: Any) -> dt.date | None:
    """An ISO date (text or date) as a date; ``None`` for nothing.

    >>> day("2027-03-04")
    datetime.date(2027, 3, 4)
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


@dataclass(frozen=True)
class Done:
    """One activity as it is counted: logged (``source`` "log") or a moment held (``source`` "moment")."""

    date: dt.date
    type: str
    title: str
    missions: tuple[str, ...]
    people: tuple[str, ...] = ()
    minutes: float | None = None
    source: str = "log"
    moment: str | None = None
    outcome: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "type": self.type,
            "title": self.title,
            "missions": list(self.missions),
            "with": list(self.people),
            "minutes": self.minutes,
            "source": self.source,
            "moment": self.moment,
            "outcome": self.outcome,
        }


def moment_missions(moment_id: str) -> tuple[str, ...]:
    """The missions a held moment serves (:data:`MOMENT_MISSIONS`, else building relationships).

    >>> moment_missions("qbr"), moment_missions("our_own_review")
    (('focus_on_value', 'build_relationships'), ('build_relationships',))
    """
    return MOMENT_MISSIONS.get(moment_id, DEFAULT_MOMENT_MISSIONS)


def held_moments(log: Sequence[MomentRecord]) -> list[MomentRecord]:
    """The log's entries of moments held (a held date, not cancelled or missed)."""
    return [r for r in log if r.held and r.status in (None, "held")]


def counted_activities(
    activities: Sequence[Activity],
    moments: Sequence[MomentRecord],
    *,
    as_of: dt.date,
    names: Mapping[str, str] | None = None,
) -> list[Done]:
    """Every activity on or before ``as_of``: the log's and the moments held, by date (the log's first on a day).

    ``names`` gives a moment's name for its title (else its id in words).

    >>> done = counted_activities(
    ...     [Activity("2027-03-02", "call", "Renewal prep", ["develop_business"], minutes=30),
    ...      Activity("2027-04-01", "meeting", "QBR", ["focus_on_value"], moment="qbr", minutes=90)],
    ...     [MomentRecord("qbr", held="2027-04-01"), MomentRecord("kickoff", held="2027-01-12", attendees=["Priya"])],
    ...     as_of=dt.date(2027, 4, 5))
    >>> [(d.date.isoformat(), d.title, d.source, d.missions) for d in done]
    [('2027-01-12', 'kickoff', 'moment', ('build_relationships', 'manage_goals')),
     ('2027-03-02', 'Renewal prep', 'log', ('develop_business',)),
     ('2027-04-01', 'QBR', 'log', ('focus_on_value',))]
    """
    names = names or {}
    out: list[tuple[int, Done]] = []
    logged = set()
    for a in activities:
        when = day(a.date)
        if when is None or when > as_of:
            continue
        if a.moment:
            logged.add((a.moment, when))
        out.append((0, Done(when, a.type, a.title, tuple(a.missions), tuple(a.people), a.minutes, "log", a.moment, a.outcome)))
    for r in held_moments(moments):
        when = day(r.held)
        if when is None or when > as_of or (r.moment, when) in logged:
            continue
        title = names.get(r.moment) or r.moment.replace("_", " ")
        out.append(
            (
                1,
                Done(
                    when,
                    MOMENT_TYPE,
                    title,
                    moment_missions(r.moment),
                    tuple(r.attendees or ()),
                    None,
                    "moment",
                    r.moment,
                    r.outcome,
                ),
            )
        )
    return [d for _, d in sorted(out, key=lambda item: (item[1].date, item[0]))]


def in_window(done: Iterable[Done], *, as_of: dt.date, days: int = WINDOW_DAYS) -> list[Done]:
    """The activities no more than ``days`` before ``as_of`` (and not after it).

    >>> [d.title for d in in_window([Done(dt.date(2027, 1, 4), "call", "old", ()), Done(dt.date(2027, 1, 5), "call", "in", ())],
    ...                             as_of=dt.date(2027, 4, 5))]
    ['in']
    """
    return [d for d in done if 0 <= (as_of - d.date).days <= days]


def known_minutes(done: Iterable[Done]) -> float | None:
    """The minutes logged over some activities; ``None`` when none of them has minutes (not zero).

    >>> known_minutes([Done(dt.date(2027, 1, 1), "call", "a", (), minutes=30), Done(dt.date(2027, 1, 2), "call", "b", ())])
    30.0
    >>> known_minutes([Done(dt.date(2027, 1, 2), "call", "b", ())]) is None
    True
    """
    values = [float(d.minutes) for d in done if d.minutes is not None]
    return sum(values) if values else None


@dataclass(frozen=True)
class MissionCoverage:
    """One mission: its activities and minutes in the window, the last date it was served, and the flag."""

    mission: str
    activities: int
    minutes: float | None  # None: activities, but no minutes logged for any
    last: dt.date | None
    flagged: bool  # no activity in the window

    def as_json(self) -> dict[str, Any]:
        return {
            "activities": self.activities,
            "minutes": self.minutes,
            "last": self.last.isoformat() if self.last else None,
            "flagged": self.flagged,
        }


def mission_coverage(done: Sequence[Done], *, as_of: dt.date, days: int = WINDOW_DAYS) -> list[MissionCoverage]:
    """Each of the eight missions (in :data:`vocabulary.MISSIONS` order) over the window; a mission with no
    activity has 0 minutes, one whose activities logged none has ``None``.

    >>> done = [Done(dt.date(2027, 3, 1), "call", "a", ("reduce_risk", "satisfaction"), minutes=30),
    ...         Done(dt.date(2027, 3, 9), "visit", "b", ("reduce_risk",), minutes=120),
    ...         Done(dt.date(2026, 6, 1), "email", "c", ("develop_business",))]
    >>> {c.mission: (c.activities, c.minutes, c.flagged) for c in mission_coverage(done, as_of=dt.date(2027, 4, 5))
    ...  if c.mission in ("reduce_risk", "satisfaction", "develop_business")}
    {'reduce_risk': (2, 150.0, False), 'develop_business': (0, 0.0, True), 'satisfaction': (1, 30.0, False)}
    """
    recent = in_window(done, as_of=as_of, days=days)
    out = []
    for mission in MISSIONS:
        mine = [d for d in recent if mission in d.missions]
        ever = [d.date for d in done if mission in d.missions and d.date <= as_of]
        out.append(
            MissionCoverage(
                mission,
                len(mine),
                known_minutes(mine) if mine else 0.0,
                max(ever) if ever else None,
                not mine,
            )
        )
    return out


def levels_of(people: Iterable[str], stakeholders: Sequence[Mapping[str, Any]]) -> set[str]:
    """The exchange levels of the people named, the customer's and partners' (our own people are the other
    side of the exchange); names match whatever their case and spacing.

    >>> levels_of(["priya raman", "Sam"], [{"name": "Priya Raman", "level": "strategic"},
    ...                                    {"name": "Sam", "side": "ours", "level": "operational"}])
    {'strategic'}
    """
    by_name = {" ".join(str(s.get("name") or "").split()).casefold(): s for s in stakeholders}
    found = set()
    for name in people:
        person = by_name.get(" ".join(str(name).split()).casefold())
        if person is not None and (person.get("side") or "customer") != "ours" and person.get("level") in LEVELS:
            found.add(person["level"])
    return found


def by_level(done: Sequence[Done], stakeholders: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Activities at each exchange level (an activity once per level of its people), and those of no known level.

    >>> people = [{"name": "Priya", "level": "strategic"}, {"name": "Tom", "level": "business"}]
    >>> by_level([Done(dt.date(2027, 3, 1), "meeting", "a", (), ("Priya", "Tom")),
    ...           Done(dt.date(2027, 3, 2), "call", "b", (), ("Tom",)), Done(dt.date(2027, 3, 3), "email", "c", ())], people)
    {'operational': 0, 'business': 2, 'strategic': 1, 'not_known': 1}
    """
    counts = dict.fromkeys([*LEVELS, NOT_KNOWN_LEVEL], 0)
    for d in done:
        levels = levels_of(d.people, stakeholders)
        for level in levels or {NOT_KNOWN_LEVEL}:
            counts[level] += 1
    return counts


def minutes_per_month(minutes: float | None, *, days: int = WINDOW_DAYS) -> float | None:
    """Minutes a month over a window of ``days``: minutes x 30.4375 / days.

    >>> minutes_per_month(900), minutes_per_month(None)
    (304.375, None)
    """
    return None if minutes is None else minutes * MONTH_DAYS / days


def minutes_per_10k(per_month: float | None, base: float | None) -> float | None:
    """Minutes a month for each 10,000 of renewal base (``None`` without minutes or without a base).

    >>> round(minutes_per_10k(304.375, 180_000), 2)
    16.91
    >>> minutes_per_10k(304.375, 0) is None
    True
    """
    if per_month is None or not base:
        return None
    return per_month / (base / PER_BASE)


def minutes_by_month(done: Sequence[Done], *, as_of: dt.date, months: int = 6) -> list[dict[str, Any]]:
    """Activities and known minutes in each calendar month, the ``months`` up to and including ``as_of``'s.

    >>> minutes_by_month([Done(dt.date(2027, 3, 1), "call", "a", (), minutes=30), Done(dt.date(2027, 3, 9), "email", "b", ())],
    ...                  as_of=dt.date(2027, 4, 5), months=2)
    [{'month': '2027-03', 'activities': 2, 'minutes': 30.0}, {'month': '2027-04', 'activities': 0, 'minutes': 0.0}]
    """
    out = []
    for back in range(months - 1, -1, -1):
        index = as_of.year * 12 + as_of.month - 1 - back
        year, month = divmod(index, 12)
        mine = [d for d in done if d.date.year == year and d.date.month == month + 1 and d.date <= as_of]
        out.append(
            {"month": f"{year:04d}-{month + 1:02d}", "activities": len(mine), "minutes": known_minutes(mine) if mine else 0.0}
        )
    return out
