"""The CSM's activities against the missions (csm_nb.method.activities): what counts, the 90-day window,
per-mission coverage (one activity may serve several missions), exchange levels, and the minutes set
against the renewal base (docs/csm-activities.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import activities as am
from csm_nb.model import Activity, MomentRecord
from csm_nb.vocabulary import MISSIONS

D = dt.date
AS_OF = D(2027, 4, 5)
PEOPLE = [
    {"name": "Priya Raman", "level": "strategic"},
    {"name": "Tom Becker", "level": "business"},
    {"name": "Lena Ortiz", "level": "operational"},
    {"name": "Sam Okafor", "side": "ours", "level": "business"},
    {"name": "Ada Partner", "side": "partner", "level": "operational"},
    {"name": "No Level"},
]


def done(day: dt.date, *missions: str, minutes: float | None = None, people: tuple[str, ...] = ()) -> am.Done:
    return am.Done(day, "call", f"call on {day}", tuple(missions), people, minutes)


# -- what counts --------------------------------------------------------------------------------------
def test_held_moments_count_as_meetings_once_with_their_missions_and_attendees() -> None:
    activities = [
        Activity("2027-04-01", "meeting", "Quarterly business review", ["focus_on_value"], ["Priya Raman"], "qbr", 90),
        Activity("2027-04-09", "call", "After as_of", ["reduce_risk"]),
    ]
    log = [
        MomentRecord("qbr", held="2027-04-01"),  # the activity above records it: counted once
        MomentRecord("kickoff", held="2027-01-12", attendees=["Tom Becker"], outcome="Champion named"),
        MomentRecord("monthly_metrics_review", due="2027-03-01", held="2027-03-02", status="cancelled"),
        MomentRecord("initial_training", due="2027-02-01"),  # not held
        MomentRecord("our_own_review", held="2027-03-20", status="held"),
    ]
    found = am.counted_activities(activities, log, as_of=AS_OF, names={"kickoff": "Kick-off meeting"})
    assert [(d.date, d.type, d.title, d.missions, d.source) for d in found] == [
        (D(2027, 1, 12), "meeting", "Kick-off meeting", ("build_relationships", "manage_goals"), "moment"),
        (D(2027, 3, 20), "meeting", "our own review", ("build_relationships",), "moment"),
        (D(2027, 4, 1), "meeting", "Quarterly business review", ("focus_on_value",), "log"),
    ]
    assert found[0].people == ("Tom Becker",) and found[0].minutes is None and found[0].outcome == "Champion named"


def test_a_moment_held_on_another_day_than_the_activity_that_names_it_counts_too() -> None:
    activities = [Activity("2027-03-30", "report", "QBR deck", ["focus_on_value"], moment="qbr", minutes=60)]
    found = am.counted_activities(activities, [MomentRecord("qbr", held="2027-04-01")], as_of=AS_OF)
    assert [(d.title, d.source) for d in found] == [("QBR deck", "log"), ("qbr", "moment")]


def test_every_moment_of_the_built_in_models_serves_known_missions() -> None:
    from csm_nb.data.engagement_model import builtin_models

    ids = {m.id for model in builtin_models().values() for m in model.moments}
    assert ids <= set(am.MOMENT_MISSIONS)  # none falls back to the default by accident
    assert all(set(ms) <= set(MISSIONS) and ms for ms in am.MOMENT_MISSIONS.values())
    assert am.moment_missions("qbr") == ("focus_on_value", "build_relationships")


@pytest.mark.parametrize(
    ("day", "inside"),
    [(AS_OF, True), (D(2027, 1, 5), True), (D(2027, 1, 4), False), (D(2027, 4, 6), False)],  # 90 days back: in; 91: out
)
def test_the_window_is_the_90_days_before_as_of(day: dt.date, inside: bool) -> None:
    assert bool(am.in_window([done(day)], as_of=AS_OF)) is inside


# -- per mission -----------------------------------------------------------------------------------------
def test_one_activity_serving_three_missions_counts_for_each_so_the_totals_exceed_the_activities() -> None:
    recent = [
        done(D(2027, 4, 1), "focus_on_value", "build_relationships", "develop_business", minutes=90),
        done(D(2027, 3, 10), "build_relationships", minutes=60),
        done(D(2027, 2, 15), "reduce_risk", minutes=30),
        done(D(2026, 12, 20), "satisfaction", minutes=15),  # before the window: only its last date counts
    ]
    coverage = {c.mission: c for c in am.mission_coverage(recent, as_of=AS_OF)}
    assert list(coverage) == list(MISSIONS)
    assert (coverage["build_relationships"].activities, coverage["build_relationships"].minutes) == (2, 150.0)
    assert coverage["satisfaction"].flagged and coverage["satisfaction"].last == D(2026, 12, 20)
    assert (coverage["satisfaction"].activities, coverage["satisfaction"].minutes) == (0, 0.0)
    assert [m for m, c in coverage.items() if c.flagged] == [
        "manage_goals",
        "mutual_profitability",
        "satisfaction",
        "understand_customer",
    ]
    assert sum(c.activities for c in coverage.values()) == 5 > len(am.in_window(recent, as_of=AS_OF)) == 3
    assert sum(c.minutes or 0 for c in coverage.values()) == 360 > am.known_minutes(am.in_window(recent, as_of=AS_OF)) == 180


def test_a_mission_served_without_minutes_logged_has_minutes_not_known_never_zero() -> None:
    coverage = {c.mission: c for c in am.mission_coverage([done(D(2027, 3, 1), "reduce_risk")], as_of=AS_OF)}
    assert coverage["reduce_risk"].activities == 1 and coverage["reduce_risk"].minutes is None
    assert am.known_minutes([]) is None


MISSION = st.sampled_from(list(MISSIONS))
DONE = st.builds(
    done,
    st.dates(D(2026, 10, 1), D(2027, 4, 5)),
    MISSION,
    MISSION,
    minutes=st.one_of(st.none(), st.floats(0, 600, allow_nan=False)),
)


@given(st.lists(DONE, max_size=20))
def test_the_missions_count_every_activity_at_least_once_and_never_more_than_its_missions(found: list[am.Done]) -> None:
    coverage = am.mission_coverage(found, as_of=AS_OF)
    recent = am.in_window(found, as_of=AS_OF)
    served = sum(c.activities for c in coverage)
    assert len(recent) <= served <= sum(len(set(d.missions)) for d in recent)
    assert {c.mission for c in coverage if c.flagged} == set(MISSIONS) - {m for d in recent for m in d.missions}
    known = am.known_minutes(recent)
    assert sum(c.minutes or 0 for c in coverage) >= (known or 0) - 1e-9


# -- levels and time ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("people", "levels"),
    [
        (("Priya Raman", "Tom Becker"), {"strategic", "business"}),
        (("  priya   RAMAN ",), {"strategic"}),  # names match whatever their case and spacing
        (("Sam Okafor",), set()),  # our own people are the other side of the exchange
        (("Ada Partner",), {"operational"}),
        (("No Level", "Somebody Else"), set()),
    ],
)
def test_the_exchange_level_is_the_customers_people_level(people: tuple, levels: set) -> None:
    assert am.levels_of(people, PEOPLE) == levels


def test_activities_by_level_count_once_per_level_and_the_rest_as_not_known() -> None:
    found = [
        done(D(2027, 3, 1), people=("Priya Raman", "Tom Becker", "Sam Okafor")),
        done(D(2027, 3, 2), people=("Tom Becker", "Tom Becker")),
        done(D(2027, 3, 3), people=("Lena Ortiz",)),
        done(D(2027, 3, 4), people=("Sam Okafor",)),
        done(D(2027, 3, 5)),
    ]
    assert am.by_level(found, PEOPLE) == {"operational": 1, "business": 2, "strategic": 1, "not_known": 2}


@pytest.mark.parametrize(
    ("minutes", "base", "per_month", "per_10k"),
    [
        (900, 180_000, 304.375, 16.91),  # 900 minutes over 90 days; 18 times 10,000 of base
        (300, 180_000, 101.458, 5.64),  # the helios-renewal fixture's four activities
        (90, 0, 30.438, None),  # no renewal base: nothing to set it against
        (None, 180_000, None, None),  # no minutes logged: not known, never zero
    ],
)
def test_minutes_a_month_against_each_10000_of_renewal_base(minutes, base, per_month, per_10k) -> None:
    month = am.minutes_per_month(minutes)
    assert (round(month, 3) if month is not None else None) == per_month
    found = am.minutes_per_10k(month, base)
    assert (round(found, 2) if found is not None else None) == per_10k


def test_minutes_by_calendar_month_up_to_as_of() -> None:
    found = [
        done(D(2027, 1, 31), minutes=30),
        done(D(2027, 2, 1)),
        done(D(2027, 4, 5), minutes=10),
        done(D(2027, 4, 6), minutes=99),
    ]
    assert am.minutes_by_month(found, as_of=AS_OF, months=4) == [
        {"month": "2027-01", "activities": 1, "minutes": 30.0},
        {"month": "2027-02", "activities": 1, "minutes": None},  # an activity without minutes
        {"month": "2027-03", "activities": 0, "minutes": 0.0},
        {"month": "2027-04", "activities": 1, "minutes": 10.0},  # the 6th is after as_of
    ]
    assert [m["month"] for m in am.minutes_by_month([], as_of=D(2027, 1, 15), months=3)] == ["2026-11", "2026-12", "2027-01"]
