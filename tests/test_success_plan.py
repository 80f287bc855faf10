"""The success plan's arithmetic (csm_nb.method.success_plan): what completes a milestone, its status at
a date, an objective's and the plan's share done, the on-time rate, the burn-up and the overdue joint
milestones the value report turns into actions; with the contract's acceptance numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.engagement import read_engagement
from csm_nb.method import success_plan as sp
from csm_nb.model import Engagement, Kpi, Measurement, MomentRecord

D = dt.date
AS_OF = D(2027, 4, 5)
FIXTURE = Path(__file__).parent / "fixtures" / "success_plan" / "helios-2027.yaml"
SCORE = Kpi("engagement-score", outcome="clients-this-year", start="2027-01-01", frequency="monthly", baseline=6, target=8)


def helios() -> Engagement:
    """The acceptance fixture: five milestones, the engagement rating measured 6, 6.1, 6.4, 6.8 from January."""
    return read_engagement(FIXTURE)


def plan_of(*milestones: dict, **extra) -> Engagement:
    return Engagement("acme", "Acme", success_plan={"milestones": list(milestones)}, **extra)


# -- status at a date -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("due", "done_on", "as_of", "status", "days"),
    [
        # The acceptance plan at 5 April 2027.
        ("2027-01-15", "2027-01-20", "2027-04-05", "done_late", 5),
        ("2027-02-01", "2027-02-01", "2027-04-05", "done_on_time", None),  # done on the day it is due: on time
        ("2027-02-28", "2027-02-25", "2027-04-05", "done_on_time", None),
        ("2027-03-31", None, "2027-04-05", "overdue", 5),
        ("2027-12-15", None, "2027-04-05", "planned", None),
        # The edges.
        ("2027-03-31", None, "2027-03-31", "due", 0),  # due today: not overdue yet (no grace after it either)
        ("2027-03-31", None, "2027-04-01", "overdue", 1),
        ("2027-04-19", None, "2027-04-05", "due", 14),  # 14 days ahead: due soon
        ("2027-04-20", None, "2027-04-05", "planned", None),  # 15 days ahead: planned
        ("2027-03-31", "2027-04-09", "2027-04-05", "overdue", 5),  # done after as_of: not done at as_of
        ("2027-03-31", "2027-04-09", "2027-04-09", "done_late", 9),
    ],
)
def test_a_milestone_is_judged_at_as_of(due: str, done_on: str | None, as_of: str, status: str, days: int | None) -> None:
    found = sp.milestone_status(due=sp.day(due), done_on=sp.day(done_on), as_of=sp.day(as_of))
    assert found == (status, days)


def test_a_milestone_ticked_done_without_a_date_is_done_but_not_judged_on_time() -> None:
    assert sp.milestone_status(due=D(2027, 1, 15), done_on=None, as_of=AS_OF, done=True) == ("done", None)
    plan = [
        sp.Milestone("a", "A", D(2027, 1, 15), None, "done", None),
        sp.Milestone("b", "B", D(2027, 1, 20), D(2027, 1, 25), "done_late", 5),
    ]
    summary = sp.plan_summary(plan)
    assert (summary.done, summary.total, summary.on_time, summary.dated, summary.share_on_time) == (2, 2, 0, 1, 0.0)


# -- what completes a milestone -------------------------------------------------------------------------
SCORES = [Measurement("engagement-score", p, v) for p, v in enumerate([6, 6.1, 6.4, 6.8])]


@pytest.mark.parametrize(
    ("evidence", "rows", "as_of", "done_on"),
    [
        ({"kpi": "engagement-score", "at_least": 7}, SCORES, AS_OF, None),  # 6.8 at its latest: not met
        ({"kpi": "engagement-score", "at_least": 6.4}, SCORES, AS_OF, D(2027, 3, 1)),  # period 2 ends 1 March
        ({"kpi": "engagement-score", "at_least": 7}, [*SCORES, Measurement("engagement-score", 4, 7.1)], AS_OF, None),
        (
            {"kpi": "engagement-score", "at_least": 7},
            [*SCORES, Measurement("engagement-score", 4, 7.1)],
            D(2027, 5, 10),
            D(2027, 5, 1),
        ),
        (
            {"kpi": "engagement-score", "at_least": 7},
            [*SCORES, Measurement("engagement-score", "2027-04-03", 7.0)],
            AS_OF,
            D(2027, 4, 3),
        ),
        # A falling KPI: done on the first measurement at or under the ceiling, not the latest.
        (
            {"kpi": "engagement-score", "at_most": 6.1},
            [Measurement("engagement-score", p, v) for p, v in enumerate([7, 6, 6.5])],
            AS_OF,
            D(2027, 2, 1),
        ),
        ({"kpi": "engagement-score", "at_least": 7}, [], AS_OF, None),
    ],
)
def test_kpi_evidence_completes_a_milestone_on_the_first_measurement_that_meets_it(evidence, rows, as_of, done_on) -> None:
    e = plan_of({"id": "m", "name": "M", "due": "2027-03-31", "evidence": evidence}, kpis=[SCORE], measurements=rows)
    found = sp.completion(e.success_plan["milestones"][0], e, as_of=as_of)
    if done_on is None:
        assert found is None
    else:
        assert found == sp.Completion(done_on, "kpi")


def test_the_reading_keeps_the_latest_value_at_as_of_and_the_later_of_two_on_one_day() -> None:
    rows = [*SCORES, Measurement("engagement-score", "2027-04-01", 6.9), Measurement("engagement-score", 4, 7.4)]
    reading = sp.read_kpi({"kpi": "engagement-score", "at_least": 7}, SCORE, rows, as_of=AS_OF)
    assert reading == sp.KpiReading(met=False, met_on=None, latest=6.9, latest_on=D(2027, 4, 1))  # period 3 is 1 April too


def test_a_measurement_that_cannot_be_dated_still_completes_it_without_a_date() -> None:
    undated = Kpi("engagement-score")  # no start date: an index cannot be placed in time
    reading = sp.read_kpi(
        {"kpi": "engagement-score", "at_least": 7}, undated, [Measurement("engagement-score", 3, 7.2)], as_of=AS_OF
    )
    assert (reading.met, reading.met_on, reading.latest) == (True, None, 7.2)
    e = plan_of({"id": "m", "name": "M", "due": "2027-03-31", "evidence": {"kpi": "engagement-score", "at_least": 7}})
    e.kpis, e.measurements = [undated], [Measurement("engagement-score", 3, 7.2)]
    (m,) = sp.plan_milestones(e, as_of=AS_OF)
    assert (m.status, m.done_on, m.completed_by) == ("done", None, "kpi")


@pytest.mark.parametrize(
    ("log", "as_of", "done_on"),
    [
        ([MomentRecord("kickoff", held="2027-01-12")], AS_OF, D(2027, 1, 12)),
        (
            [MomentRecord("kickoff", status="cancelled", held="2027-01-08"), MomentRecord("kickoff", held="2027-01-14")],
            AS_OF,
            D(2027, 1, 14),
        ),
        ([MomentRecord("kickoff", status="no_show", held="2027-01-08")], AS_OF, None),
        ([MomentRecord("kickoff", due="2027-01-10")], AS_OF, None),  # due, never held
        ([MomentRecord("kickoff", held="2027-04-20")], AS_OF, None),  # held after as_of
        ([MomentRecord("qbr", held="2027-01-12")], AS_OF, None),  # another moment
    ],
)
def test_moment_evidence_completes_a_milestone_when_the_moment_is_held(log, as_of, done_on) -> None:
    e = plan_of({"id": "m", "name": "Kick-off held", "due": "2027-01-10", "evidence": {"moment": "kickoff"}}, moments=log)
    (m,) = sp.plan_milestones(e, as_of=as_of)
    assert m.done_on == done_on
    assert m.status == ("done_late" if done_on else "overdue")


def test_an_explicit_done_on_wins_over_the_evidence() -> None:
    e = plan_of(
        {
            "id": "m",
            "name": "M",
            "due": "2027-03-31",
            "done_on": "2027-03-30",
            "evidence": {"kpi": "engagement-score", "at_least": 7},
        },
        kpis=[SCORE],
        measurements=SCORES,
    )
    (m,) = sp.plan_milestones(e, as_of=AS_OF)
    assert (m.status, m.done_on, m.completed_by) == ("done_on_time", D(2027, 3, 30), "done_on")
    assert m.reading is not None and m.reading.latest == 6.8  # the evidence is still read, to show


# -- the acceptance plan ------------------------------------------------------------------------------
def test_the_acceptance_plan_at_5_april_2027() -> None:
    e = helios()
    milestones = sp.plan_milestones(e, as_of=AS_OF)
    assert [(m.id, m.status, m.days) for m in milestones] == [
        ("platform-live", "done_late", 5),
        ("first-pulse", "done_on_time", None),
        ("managers-trained", "done_on_time", None),
        ("rating-7", "overdue", 5),
        ("phase-one-review", "planned", None),
    ]
    rating = milestones[3]
    assert (rating.reading.latest, rating.reading.latest_on) == (6.8, D(2027, 4, 1))
    s = sp.plan_summary(milestones)
    assert (s.done, s.total, s.share_done) == (3, 5, 0.6)
    assert (s.on_time, s.dated, round(s.share_on_time * 100, 1)) == (2, 3, 66.7)
    assert [(m.id, m.days) for m in s.overdue] == [("rating-7", 5)]


def test_each_objective_counts_its_own_milestones_beside_its_outcome() -> None:
    e = helios()
    milestones = sp.plan_milestones(e, as_of=AS_OF)
    found = sp.objective_progress(e.success_plan["objectives"], milestones, outcome_statuses={"clients-this-year": "behind"})
    assert [(o.id, o.done, o.total, o.share_done, o.outcome, o.outcome_status) for o in found] == [
        ("more-clients", 2, 4, 0.5, "clients-this-year", "behind"),
        ("managers-own-it", 1, 1, 1.0, None, None),
    ]
    empty = sp.objective_progress([{"id": "later"}], milestones, outcome_statuses={})
    assert (empty[0].total, empty[0].share_done) == (0, None)


def test_the_burn_up_counts_planned_by_due_date_and_done_by_done_date() -> None:
    found = sp.burn_up(sp.plan_milestones(helios(), as_of=AS_OF), as_of=AS_OF)
    assert found.planned == [
        (D(2027, 1, 15), 1),
        (D(2027, 2, 1), 2),
        (D(2027, 2, 28), 3),
        (D(2027, 3, 31), 4),
        (D(2027, 12, 15), 5),
    ]
    assert found.done == [(D(2027, 1, 20), 1), (D(2027, 2, 1), 2), (D(2027, 2, 25), 3)]


def test_overdue_joint_milestones_for_the_value_report() -> None:
    e = helios()
    e.success_plan["milestones"].append(
        {"id": "ours", "name": "Our own data check", "due": "2027-03-01", "joint": False}  # overdue, but not joint
    )
    e.success_plan["milestones"].append({"id": "older", "name": "Data feed agreed", "due": "2027-03-20", "joint": True})
    found = sp.overdue_joint_milestones(e, as_of=AS_OF)
    assert [m.as_json() for m in found] == [
        {"id": "older", "name": "Data feed agreed", "owner": None, "due": "2027-03-20", "days": 16},
        {
            "id": "rating-7",
            "name": "Line-manager engagement rating reaches 7",
            "owner": "Priya Raman",
            "due": "2027-03-31",
            "days": 5,
        },
    ]
    assert sp.overdue_joint_milestones(e, as_of=D(2027, 3, 1)) == []
    assert sp.overdue_joint_milestones(Engagement("x", "X"), as_of=AS_OF) == []


# -- the initiative's own milestones ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("milestone", "status", "due", "done_on"),
    [
        ({"name": "M", "date": "2027-01-15", "done": True}, "done", D(2027, 1, 15), None),
        ({"name": "M", "date": "2027-01-15", "done_on": "2027-01-14"}, "done_on_time", D(2027, 1, 15), D(2027, 1, 14)),
        ({"name": "M", "date": "2027-01-15", "done": False}, "overdue", D(2027, 1, 15), None),
        ({"name": "M", "date": "3 months"}, "due", D(2027, 4, 1), None),  # from the initiative's start
        ({"name": "M", "date": "end of this financial year"}, "planned", D(2027, 7, 31), None),  # fiscal_year_end 07-31
        ({"name": "M", "date": "when it is ready"}, "planned", None, None),
        ({"name": "M"}, "planned", None, None),
    ],
)
def test_the_initiatives_milestones_are_judged_by_the_same_rule(milestone, status, due, done_on) -> None:
    e = Engagement("x", "X", initiative={"start": "2027-01-01", "milestones": [milestone]}, fiscal_year_end="07-31")
    (m,) = sp.initiative_milestones(e, as_of=D(2027, 3, 20))
    assert (m.status, m.due, m.done_on, m.source, m.joint) == (status, due, done_on, "initiative", False)


# -- properties ------------------------------------------------------------------------------------
dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31))


@given(due=dates, done_on=st.none() | dates, as_of=dates)
def test_every_milestone_has_exactly_one_status_and_days_that_agree_with_it(due, done_on, as_of) -> None:
    status, days = sp.milestone_status(due=due, done_on=done_on, as_of=as_of)
    done = done_on is not None and done_on <= as_of
    assert (status in sp.DONE_STATUSES) == done
    if status == "done_on_time":
        assert done_on <= due and days is None
    elif status == "done_late":
        assert days == (done_on - due).days > 0
    elif status == "overdue":
        assert days == (as_of - due).days > 0
    elif status == "due":
        assert days == (due - as_of).days and 0 <= days <= 14
    else:
        assert status == "planned" and days is None and (due - as_of).days > 14


@given(due=dates, done_on=st.none() | dates, first=dates, later=st.integers(0, 4000))
def test_judged_later_a_milestone_never_becomes_undone(due, done_on, first, later) -> None:
    second = first + dt.timedelta(days=later)
    if second > D(9000, 1, 1):
        return
    before, _ = sp.milestone_status(due=due, done_on=done_on, as_of=first)
    after, _ = sp.milestone_status(due=due, done_on=done_on, as_of=second)
    if before in sp.DONE_STATUSES:
        assert after == before


milestone_rows = st.lists(st.tuples(dates, st.none() | dates, st.booleans()), max_size=12)


@given(rows=milestone_rows, as_of=dates)
def test_the_plans_shares_and_burn_up_agree(rows, as_of) -> None:
    plan = [
        sp.Milestone(f"m{i}", f"M{i}", due, done_on, *sp.milestone_status(due=due, done_on=done_on, as_of=as_of, done=ticked))
        for i, (due, done_on, ticked) in enumerate(rows)
    ]
    s = sp.plan_summary(plan)
    assert 0 <= s.on_time <= s.dated <= s.done <= s.total == len(plan)
    if plan:
        assert s.share_done == s.done / s.total and 0 <= s.share_done <= 1
    assert s.share_on_time is None if not s.dated else 0 <= s.share_on_time <= 1
    assert all(m.status == "overdue" and m.due < as_of for m in s.overdue)
    assert [m.due for m in s.overdue] == sorted(m.due for m in s.overdue)
    burn = sp.burn_up(plan, as_of=as_of)
    counts = [n for _, n in burn.planned]
    assert counts == sorted(counts) and (counts[-1] if counts else 0) == len(plan)
    done = [n for _, n in burn.done]
    assert done == sorted(done) and (done[-1] if done else 0) == s.dated
    assert all(d <= as_of for d, _ in burn.done)


@given(values=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=12), threshold=st.floats(0, 10), as_of=dates)
def test_the_first_measurement_that_meets_the_threshold_is_the_one_read(values, threshold, as_of) -> None:
    rows = [Measurement("engagement-score", p, v) for p, v in enumerate(values)]
    reading = sp.read_kpi({"kpi": "engagement-score", "at_least": threshold}, SCORE, rows, as_of=as_of)
    shown = [(D(2027, p + 1, 1), v) for p, v in enumerate(values)]  # period p ends on the first of month p + 1
    kept = [(d, v) for d, v in shown if d <= as_of]
    meeting = [d for d, v in kept if v >= threshold - 1e-9]
    assert reading.met == bool(meeting)
    assert reading.met_on == (meeting[0] if meeting else None)
    assert reading.latest == (kept[-1][1] if kept else None)
