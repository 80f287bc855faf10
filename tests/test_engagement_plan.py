"""The engagement plan's arithmetic (csm_nb.method.engagement_plan): due dates, statuses at a date,
triggers, time to value and the stages where onboarding loses time, with the contract's acceptance
numbers."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import engagement_plan as ep
from csm_nb.model import Contract, EngagementModel, Event, MomentRecord, MomentSpec, Trigger

D = dt.date
CONTRACT_2027 = Contract(signed="2026-12-01", start="2027-01-01", end="2027-12-31")

# The onboarding chain of the acceptance fixture: expected days from the step before.
EXPECTED = {"kickoff": 7, "activated": 7, "initial_training": 14, "first_metrics_review": 14, "self_sufficiency_check": 14}


def onboarding_model(**extra) -> EngagementModel:
    moments, previous = [], "contract.signed"
    for moment, days in EXPECTED.items():
        moments.append(
            MomentSpec(
                moment,
                phase="onboarding",
                after={"moment": previous, "days": days},
                escalate={"after_days": 7, "to": "CS manager"},
                marks={"first_metrics_review": ["first_value"], "self_sufficiency_check": ["onboarding_complete"]}.get(
                    moment, []
                ),
            )
        )
        previous = moment
    moments.append(MomentSpec("handoff", phase="onboarding", after={"moment": "contract.signed", "days": 3}))
    return EngagementModel("fixture", moments=moments, **extra)


# -- due dates -------------------------------------------------------------------------------------
def test_a_quarterly_review_is_due_every_three_calendar_months_within_the_contract() -> None:
    qbr = MomentSpec("qbr", type="time", every="3 months", start_from="contract.start")
    assert ep.time_dues(qbr, CONTRACT_2027, {}) == [D(2027, 4, 1), D(2027, 7, 1), D(2027, 10, 1)]  # not 2028-01-01


def test_the_annual_review_is_ninety_days_before_the_end() -> None:
    review = MomentSpec("annual", type="time", before={"anchor": "contract.end", "days": 90})
    assert ep.time_dues(review, CONTRACT_2027, {}) == [D(2027, 10, 2)]


def test_a_monthly_review_runs_from_the_held_first_metrics_review() -> None:
    monthly = MomentSpec("monthly", type="time", every="1 month", start_from="first_metrics_review", until="2027-05-31")
    dues = ep.time_dues(monthly, CONTRACT_2027, {"first_metrics_review": D(2027, 2, 5)})
    assert dues == [D(2027, 3, 5), D(2027, 4, 5), D(2027, 5, 5)]


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)), st.integers(1, 4), st.integers(1, 30))
def test_monthly_steps_never_drift(start: dt.date, count: int, k: int) -> None:
    # Counting from the start (never chaining) keeps the day of the month wherever the month has it.
    due = ep.step(start, count, "month", k)
    months = (due.year - start.year) * 12 + due.month - start.month
    assert months == count * k and (due.day == start.day or due.day < start.day)


def test_a_late_milestone_pushes_the_ones_after_it() -> None:
    model = onboarding_model()
    signed = Contract(signed="2026-01-05")
    on_plan = ep.milestone_dues(model, signed, [])
    assert on_plan["kickoff"] == D(2026, 1, 12) and on_plan["activated"] == D(2026, 1, 19)
    late = ep.milestone_dues(model, signed, [MomentRecord("kickoff", held="2026-01-20")])
    assert late["activated"] == D(2026, 1, 27) and late["initial_training"] == D(2026, 2, 10)
    assert late["kickoff"] == on_plan["kickoff"]  # its own due date does not move


# -- status at a date ----------------------------------------------------------------------------------
QBR = MomentSpec(
    "qbr", type="time", every="3 months", start_from="contract.start", escalate={"after_days": 21, "to": "CS manager"}
)


@pytest.mark.parametrize(
    ("record", "as_of", "status", "days_late", "escalated_to"),
    [
        (MomentRecord("qbr", held="2027-04-06"), D(2027, 4, 9), "held_on_time", None, None),  # within the 7-day grace
        (MomentRecord("qbr", held="2027-04-09"), D(2027, 4, 9), "held_late", 8, None),
        (None, D(2027, 4, 9), "overdue", 8, None),
        (None, D(2027, 4, 22), "escalated", 21, "CS manager"),
        (None, D(2027, 3, 17), "planned", None, None),
        (None, D(2027, 3, 18), "due", None, None),  # 14 days ahead
        (None, D(2027, 4, 8), "due", None, None),  # the last day of grace
        (MomentRecord("qbr", status="cancelled"), D(2027, 5, 1), "cancelled", None, None),
        (MomentRecord("qbr", status="no_show"), D(2027, 5, 1), "no_show", None, None),
    ],
)
def test_an_occurrence_is_judged_at_as_of(record, as_of, status, days_late, escalated_to) -> None:
    found = ep.occurrence_status(QBR, due=D(2027, 4, 1), record=record, as_of=as_of, grace=7)
    assert (found.status, found.days_late, found.escalated_to) == (status, days_late, escalated_to)


def test_an_onboarding_milestone_has_no_grace() -> None:
    model = onboarding_model()
    spec = model.moment("kickoff")
    assert ep.grace_days(spec, model) == 0 and ep.grace_days(QBR, model) == 7
    late = ep.occurrence_status(
        spec, due=D(2026, 1, 12), record=MomentRecord("kickoff", held="2026-01-13"), as_of=D(2026, 2, 1), grace=0
    )
    assert (late.status, late.days_late) == ("held_late", 1)


def test_the_schedule_matches_the_log_and_lists_what_comes_next() -> None:
    model = EngagementModel("m", moments=[QBR, MomentSpec("annual", type="time", before={"anchor": "contract.end", "days": 90})])
    plan = ep.schedule(model, CONTRACT_2027, [MomentRecord("qbr", held="2027-04-06")], as_of=D(2027, 7, 9))
    assert [(o.moment, o.due, o.status) for o in plan.occurrences] == [
        ("qbr", D(2027, 4, 1), "held_on_time"),
        ("qbr", D(2027, 7, 1), "overdue"),
        ("qbr", D(2027, 10, 1), "planned"),
        ("annual", D(2027, 10, 2), "planned"),
    ]
    assert [o.due for o in plan.next(2)] == [D(2027, 10, 1), D(2027, 10, 2)]
    assert [o.days_late for o in plan.overdue()] == [8]


def test_two_missed_reviews_in_a_row_say_interest_is_dropping() -> None:
    model = EngagementModel("m", moments=[QBR])
    log = [MomentRecord("qbr", due="2027-04-01", status="cancelled"), MomentRecord("qbr", due="2027-07-01", status="no_show")]
    plan = ep.schedule(model, CONTRACT_2027, log, as_of=D(2027, 8, 1))
    assert ep.interest_dropping(plan.occurrences) == ["qbr"]
    log[1] = MomentRecord("qbr", due="2027-07-01", held="2027-07-02")
    assert ep.interest_dropping(ep.schedule(model, CONTRACT_2027, log, as_of=D(2027, 8, 1)).occurrences) == []


# -- triggers ---------------------------------------------------------------------------------------------
SLOW = Trigger("slow-account-creation", {"kpi": "accounts-created", "below": 50, "at": {"moment": "kickoff", "days": 21}})


@pytest.mark.parametrize(
    ("series", "fires", "reason"),
    [
        ([(D(2026, 12, 29), 35.0)], True, "accounts-created was 35 on 2026-12-29, below 50"),
        ([(D(2026, 12, 29), 52.0)], False, None),
        ([(D(2026, 12, 20), 60.0), (D(2026, 12, 29), 35.0)], True, "accounts-created was 35 on 2026-12-29, below 50"),
        ([(D(2026, 12, 30), 70.0)], True, "no measurement of accounts-created by 2026-12-29"),  # measured too late
        ([], True, "no measurement of accounts-created by 2026-12-29"),
    ],
)
def test_accounts_not_created_three_weeks_after_kick_off(series, fires: bool, reason) -> None:
    kickoff = MomentSpec("kickoff", phase="onboarding", after={"moment": "contract.signed", "days": 7})
    model = EngagementModel("m", moments=[kickoff], triggers=[SLOW])
    log = [MomentRecord("kickoff", held="2026-12-08")]
    plan = ep.schedule(model, Contract(signed="2026-12-01"), log, as_of=D(2027, 1, 4), kpi_series={"accounts-created": series})
    assert [f.reason for _, f in plan.fired] == ([reason] if fires else [])
    if fires:
        assert plan.fired[0][1].on == D(2026, 12, 29)  # kick-off held 8 December, plus 21 days
    early = ep.schedule(model, Contract(signed="2026-12-01"), log, as_of=D(2026, 12, 28), kpi_series={"accounts-created": series})
    assert early.fired == []  # not judged before the day it names


@pytest.mark.parametrize(
    ("when", "events", "fires"),
    [
        ({"event": "support_case", "severity": "high"}, [Event("2027-03-02", "support_case", severity="high")], True),
        ({"event": "support_case", "severity": "high"}, [Event("2027-03-02", "support_case", severity="low")], False),
        ({"event": "survey", "score_at_most": 6}, [Event("2027-03-20", "survey", score=5, scale=10)], True),
        ({"event": "survey", "score_at_most": 6}, [Event("2027-03-20", "survey", score=8, scale=10)], False),
        ({"event": "release"}, [Event("2027-05-02", "release")], False),  # after as_of
        ({"no_event": "support_case", "for_days": 90}, [Event("2027-01-10", "support_case")], True),
        ({"no_event": "support_case", "for_days": 90}, [Event("2027-03-10", "support_case")], False),
    ],
)
def test_event_conditions(when, events, fires: bool) -> None:
    found = ep.evaluate("r", when, as_of=D(2027, 4, 30), events=events, start=D(2027, 1, 1))
    assert (found is not None) == fires


def test_a_kpi_drop_and_a_run_behind_plan_fire() -> None:
    series = {"wau": [(D(2027, 3, 1), 100.0), (D(2027, 3, 8), 75.0)]}
    drop = ep.evaluate("d", {"kpi": "wau", "drop_pct": 20, "over_periods": 1}, as_of=D(2027, 3, 9), kpi_series=series)
    assert drop is not None and drop.data["drop_pct"] == pytest.approx(25.0)
    assert ep.evaluate("d", {"kpi": "wau", "drop_pct": 30, "over_periods": 1}, as_of=D(2027, 3, 9), kpi_series=series) is None
    behind = {"kpi": "k", "status": "behind", "for_measurements": 2}
    assert ep.evaluate("b", behind, as_of=D(2027, 3, 9), kpi_statuses={"k": ["on_plan", "behind", "behind"]})
    assert ep.evaluate("b", behind, as_of=D(2027, 3, 9), kpi_statuses={"k": ["behind", "on_plan", "behind"]}) is None


def test_an_event_moment_is_due_after_the_event_that_starts_it() -> None:
    review = MomentSpec(
        "severe_case_review", type="event", when={"event": "support_case", "severity": "high"}, respond_within_days=2
    )
    model = EngagementModel("m", moments=[review])
    events = [Event("2027-03-02", "support_case", severity="high", ref="CASE-1123")]
    plan = ep.schedule(model, CONTRACT_2027, [], events, as_of=D(2027, 3, 10))
    (found,) = plan.occurrences
    assert (found.due, found.status, found.days_late) == (D(2027, 3, 4), "overdue", 6)
    assert found.triggered_by == "support_case on 2027-03-02"


# -- time to value and the stages of onboarding: the four-engagement fixture --------------------------------
DAYS = {  # days per step, in the order of EXPECTED
    "A": [5, 6, 30, 12, 14],
    "B": [8, 7, 25, 14, 10],
    "C": [6, 20, 28, 13, 20],
    "D": [7, 5, 12, 15, 14],
}
SIGNED = D(2026, 1, 5)


def log_of(days: list[int]) -> list[MomentRecord]:
    held, out = SIGNED, []
    for moment, n in zip(EXPECTED, days, strict=False):  # fewer days: onboarding not finished
        held += dt.timedelta(days=n)
        out.append(MomentRecord(moment, held=held.isoformat()))
    return out


def test_the_four_engagement_fixture() -> None:
    model = onboarding_model()
    stages = {name: ep.stage_durations(model, SIGNED, log_of(days)) for name, days in DAYS.items()}
    assert [s.moment for s in stages["A"]] == list(EXPECTED)  # the handoff beside the kick-off is not a stage

    ttv = {
        name: ep.time_to_value(
            SIGNED,
            ep.day(next(r.held for r in log_of(days) if r.moment == "first_metrics_review")),
            target=42,
            as_of=D(2026, 6, 1),
        )
        for name, days in DAYS.items()
    }
    assert {n: (t.days, t.status) for n, t in ttv.items()} == {
        "A": (53, "late"),
        "B": (54, "late"),
        "C": (67, "late"),
        "D": (39, "on_target"),
    }

    assert statistics.median(t.days for t in ttv.values()) == 53.5
    assert sum(t.status == "on_target" for t in ttv.values()) == 1

    summary = {s.moment: s for s in ep.stage_summary(stages)}
    assert [summary[m].excess_days for m in EXPECTED] == [1, 13, 41, 1, 6]
    assert sum(s.excess_days for s in summary.values()) == 62
    training = summary["initial_training"]
    assert training.systemic and training.over == 3 and training.measured == 4
    assert round(training.share_of_excess * 100, 1) == 66.1 and training.median_days == 26.5
    assert [m for m, s in summary.items() if s.systemic] == ["initial_training"]
    assert [summary[m].median_days for m in EXPECTED] == [6.5, 6.5, 26.5, 13.5, 14.0]
    statuses = {
        m: sorted(n for n, st_ in stages.items() for s in st_ if s.moment == m and s.status != "on_track") for m in EXPECTED
    }
    assert statuses == {
        "kickoff": ["B"],
        "activated": ["C"],
        "initial_training": ["A", "B", "C"],
        "first_metrics_review": ["D"],
        "self_sufficiency_check": ["C"],
    }
    stuck = sorted((n, s.moment) for n, st_ in stages.items() for s in st_ if s.status == "stuck")
    assert stuck == [("A", "initial_training"), ("B", "initial_training"), ("C", "activated"), ("C", "initial_training")]
    onboarding = [sum(days) for days in DAYS.values()]
    assert statistics.median(onboarding) == 65.5


def test_time_to_value_not_reached_yet() -> None:
    assert ep.time_to_value(SIGNED, None, target=42, as_of=D(2026, 2, 16)).status == "on_course"  # day 42
    late = ep.time_to_value(SIGNED, None, target=42, as_of=D(2026, 2, 17))
    assert (late.status, late.elapsed, late.days) == ("overdue", 43, None)
    assert ep.time_to_value(None, None, target=42, as_of=D(2026, 2, 17)) is None


def test_a_stage_not_completed_has_no_status_and_stops_the_chain() -> None:
    stages = ep.stage_durations(onboarding_model(), SIGNED, log_of([5, 6, 30, 12, 14])[:2])
    assert [(s.moment, s.actual, s.status) for s in stages][1:3] == [
        ("activated", 6, "on_track"),
        ("initial_training", None, None),
    ]
