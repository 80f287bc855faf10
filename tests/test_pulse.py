"""The customer pulse's arithmetic (csm_nb.method.pulse): the question a desired outcome is asked as,
rounds and their means, latest against previous with the shift and the opportunity then and now, the
means per job and overall, top moves, quotes, coverage and the customer's own view; with the
contract's acceptance numbers (4 -> 6 is +2 and opportunity 14 -> 12; 4, 6, 8 give a view of 60)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.engagement import read_engagement
from csm_nb.method import jobs as jobs_method
from csm_nb.method import pulse as pm
from csm_nb.model import Engagement, PulseAnswer

D = dt.date
AS_OF = D(2027, 7, 5)
FIXTURE = Path(__file__).parent / "fixtures" / "customer_pulse" / "harbor-pulse.yaml"


def harbor() -> Engagement:
    """The acceptance fixture: four desired outcomes in two jobs, asked on 31 March and 30 June 2027."""
    return read_engagement(FIXTURE)


def outcome(oid: str = "plan-time", *, importance: float | None = 9, job: str = "serve") -> pm.DesiredOutcome:
    return pm.DesiredOutcome(oid, f"minimise {oid}", job, "step", importance=importance)


# -- the question ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statement", "asked"),
    [
        (
            "minimise the time it takes to plan the day's visits",
            "How well can you cut the time it takes to plan the day's visits today?",
        ),
        ("Minimize the errors in handover notes.", "How well can you cut the errors in handover notes today?"),
        ("maximise the share of clients seen", "How well can you raise the share of clients seen today?"),
        ("MAXIMISE  uptime", "How well can you raise uptime today?"),
        ("Keep every visit on schedule", "How well can you keep every visit on schedule today?"),
        ("ERP closes on the third day", "How well can you ERP closes on the third day today?"),  # an acronym keeps its capitals
        ("minimised waste", "How well can you minimised waste today?"),  # only the whole verb is turned into words
    ],
)
def test_each_desired_outcome_is_asked_how_well_the_customer_can_do_it(statement: str, asked: str) -> None:
    assert pm.question(statement) == asked


def test_no_question_asks_how_we_are_doing() -> None:
    for o in pm.desired_outcomes(harbor().jobs):
        assert o.question.startswith("How well can you ") and o.question.endswith(" today?")
        assert "we " not in o.question.lower() and "minimise" not in o.question and "maximise" not in o.question


def test_desired_outcomes_come_from_jobs_steps_in_order() -> None:
    found = pm.desired_outcomes(harbor().jobs)
    assert [(o.id, o.job, o.step, o.importance) for o in found] == [
        ("plan-time", "serve-clients", "plan-visits", 9.0),
        ("shift-cover", "serve-clients", "plan-visits", 7.0),
        ("missed-visits", "serve-clients", "make-visits", 8.0),
        ("handover-errors", "hand-over", "write-notes", 6.0),
    ]
    assert pm.desired_outcomes(None) == []


# -- opportunity: the jobs' own formula ------------------------------------------------------------------
def test_the_pulse_uses_the_customer_jobs_opportunity() -> None:
    assert pm.opportunity is jobs_method.opportunity


@pytest.mark.parametrize(
    ("importance", "satisfaction", "expected"),
    [(9, 4, 14.0), (9, 6, 12.0), (6, 8, 6.0), (8, 8, 8.0), (10, 0, 20.0), (0, 10, 0.0)],
)
def test_opportunity(importance: float, satisfaction: float, expected: float) -> None:
    assert pm.opportunity(importance=importance, satisfaction=satisfaction) == expected


# -- rounds, latest and previous --------------------------------------------------------------------------
def test_the_acceptance_shift_and_opportunity() -> None:
    answers = [PulseAnswer("2027-03-31", "Priya", "plan-time", 4), PulseAnswer("2027-06-30", "Priya", "plan-time", 6)]
    found = pm.pulse_by_outcome(harbor().jobs, answers, as_of=AS_OF)[0]
    assert (found.previous, found.latest, found.shift) == (4.0, 6.0, 2.0)
    assert (found.importance_previous, found.importance_latest) == (9.0, 9.0)
    assert (found.opportunity_previous, found.opportunity_latest) == (14.0, 12.0)
    assert (found.previous_on, found.latest_on) == (D(2027, 3, 31), D(2027, 6, 30))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # Several respondents in a round are averaged; importance among those who gave it.
        (
            [("2027-03-31", "A", 4, None), ("2027-06-30", "A", 7, 8), ("2027-06-30", "B", 5, None)],
            (4.0, 6.0, 2.0, 9.0, 8.0, 14.0, 10.0),
        ),
        # The importance answered in March holds for June too; the desired outcome's own (9) only before any.
        ([("2027-03-31", "A", 4, 6), ("2027-06-30", "A", 5, None)], (4.0, 5.0, 1.0, 6.0, 6.0, 8.0, 7.0)),
        # One round: nothing to compare.
        ([("2027-06-30", "A", 6, None)], (None, 6.0, None, None, 9.0, None, 12.0)),
        # An answer after as_of does not count yet.
        ([("2027-06-30", "A", 6, None), ("2027-07-06", "A", 9, None)], (None, 6.0, None, None, 9.0, None, 12.0)),
        # Three rounds: the latest two are compared.
        (
            [("2027-01-31", "A", 2, None), ("2027-03-31", "A", 4, None), ("2027-06-30", "A", 3, None)],
            (4.0, 3.0, -1.0, 9.0, 9.0, 14.0, 15.0),
        ),
    ],
)
def test_latest_against_previous(answers: list[tuple], expected: tuple) -> None:
    given = [PulseAnswer(d, who, "plan-time", s, importance=i) for d, who, s, i in answers]
    found = pm.outcome_pulse(outcome(), pm.rounds(given, as_of=AS_OF).get("plan-time", []))
    assert (
        found.previous,
        found.latest,
        found.shift,
        found.importance_previous,
        found.importance_latest,
        found.opportunity_previous,
        found.opportunity_latest,
    ) == expected


def test_a_desired_outcome_never_answered_has_no_latest() -> None:
    found = pm.outcome_pulse(outcome(), [])
    assert (found.latest, found.shift, found.opportunity_latest, found.importance_latest, found.answered) == (
        None,
        None,
        None,
        9,
        False,
    )


def test_rounds_are_dates() -> None:
    assert pm.round_dates(harbor().pulse, as_of=AS_OF) == [D(2027, 3, 31), D(2027, 6, 30)]
    assert pm.round_dates(harbor().pulse, as_of=D(2027, 6, 29)) == [D(2027, 3, 31)]


# -- the fixture: per outcome, job and overall --------------------------------------------------------------
def test_the_fixture_outcome_by_outcome() -> None:
    e = harbor()
    found = {o.id: o for o in pm.pulse_by_outcome(e.jobs, e.pulse, as_of=AS_OF)}
    assert {k: (o.previous, o.latest, o.shift, o.opportunity_previous, o.opportunity_latest) for k, o in found.items()} == {
        "plan-time": (4.0, 6.0, 2.0, 14.0, 12.0),
        "shift-cover": (None, None, None, None, None),
        "missed-visits": (5.0, 4.0, -1.0, 11.0, 12.0),  # Priya 3 and Tom 5 in June: 4
        "handover-errors": (7.0, 8.0, 1.0, 6.0, 6.0),
    }
    assert found["missed-visits"].respondents == ("Priya Raman", "Tom Becker")


def test_the_fixture_per_job_and_overall() -> None:
    e = harbor()
    outcomes = pm.pulse_by_outcome(e.jobs, e.pulse, as_of=AS_OF)
    jobs = pm.by_job(outcomes)
    assert list(jobs) == ["serve-clients", "hand-over"]
    assert (jobs["serve-clients"].latest, jobs["serve-clients"].previous, jobs["serve-clients"].shift) == (5.0, 4.5, 0.5)
    assert (jobs["hand-over"].latest, jobs["hand-over"].previous, jobs["hand-over"].shift) == (8.0, 7.0, 1.0)
    overall = pm.mean_shift(outcomes)
    assert (overall.latest, round(overall.previous, 3), round(overall.shift, 3)) == (6.0, 5.333, 0.667)
    assert (overall.answered, overall.compared) == (3, 3)
    improved, worsened = pm.top_moves(outcomes)
    assert [o.id for o in improved] == ["plan-time", "handover-errors"] and [o.id for o in worsened] == ["missed-visits"]


def test_an_outcome_asked_for_the_first_time_moves_the_level_not_the_shift() -> None:
    o = pm.DesiredOutcome("x", "x", "j", "s")
    twice = pm.OutcomePulse(o, None, None, 6.0, 4.0, 2.0, None, None, None, None)
    once = pm.OutcomePulse(o, None, None, 10.0, None, None, None, None, None, None)
    found = pm.mean_shift([twice, once])
    assert (found.latest, found.previous, found.shift, found.answered, found.compared) == (8.0, 4.0, 2.0, 2, 1)
    assert pm.mean_shift([]) == pm.Shift(None, None, None, 0, 0)


def test_top_moves_keep_three_of_each() -> None:
    o = [
        pm.OutcomePulse(pm.DesiredOutcome(str(i), str(i), "j", "s"), None, None, 5.0, 5.0 - d, float(d), None, None, None, None)
        for i, d in enumerate([1, 4, 2, 3, -1, -4, -2, -3, 0])
    ]
    improved, worsened = pm.top_moves(o)
    assert [x.shift for x in improved] == [4.0, 3.0, 2.0] and [x.shift for x in worsened] == [-4.0, -3.0, -2.0]


# -- quotes and coverage ------------------------------------------------------------------------------------
def test_quotes_newest_first_with_who_and_when() -> None:
    found = pm.quotes(harbor().pulse, as_of=AS_OF)
    assert [(q.date.isoformat(), q.respondent, q.desired_outcome) for q in found] == [
        ("2027-06-30", "Priya Raman", "plan-time"),
        ("2027-06-30", "Priya Raman", "missed-visits"),
        ("2027-06-30", "Tom Becker", "handover-errors"),
        ("2027-03-31", "Priya Raman", "plan-time"),
    ]
    assert [q.text for q in pm.quotes(harbor().pulse, as_of=AS_OF, limit=1)] == [
        "The board is ready by eight now; Mondays are still slow."
    ]
    assert [q.date for q in pm.quotes(harbor().pulse, as_of=D(2027, 4, 1))] == [D(2027, 3, 31)]


def test_coverage_against_the_customers_stakeholders() -> None:
    e = harbor()
    found = pm.coverage(e.pulse, e.stakeholders, as_of=AS_OF)
    assert (found.answered, found.missing, found.others, round(found.share, 3)) == (
        ["Priya Raman", "Tom Becker"],
        ["Grace Lin"],
        [],
        0.667,
    )
    # Our own people are never counted as the customer's; answers older than the window do not count.
    late = pm.coverage(e.pulse, e.stakeholders, as_of=D(2028, 3, 1))
    assert (late.answered, late.share) == ([], 0.0)
    assert pm.coverage(e.pulse, None, as_of=AS_OF).share is None


# -- the customer's own view ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "as_of", "expected"),
    [
        ([("2027-06-30", "a", 4), ("2027-06-30", "b", 6), ("2027-06-30", "c", 8)], AS_OF, 60.0),  # the acceptance numbers
        ([("2027-03-31", "a", 2), ("2027-06-30", "a", 4), ("2027-06-30", "b", 6), ("2027-05-01", "c", 8)], AS_OF, 60.0),
        ([("2027-06-30", "a", 10)], AS_OF, 100.0),
        ([("2027-06-30", "a", 0)], AS_OF, 0.0),
        ([("2027-01-05", "a", 5)], AS_OF, None),  # 181 days before as_of: outside the window
        ([("2027-01-06", "a", 5)], AS_OF, 50.0),  # 180 days: inside
        ([("2027-07-06", "a", 5)], AS_OF, None),  # after as_of
    ],
)
def test_customer_view(answers: list[tuple], as_of: dt.date, expected: float | None) -> None:
    given = [PulseAnswer(d, "Priya", o, s) for d, o, s in answers]
    assert pm.customer_view(given, as_of=as_of) == expected


def test_the_fixture_gives_a_customer_view_of_60() -> None:
    assert pm.customer_view(harbor().pulse, as_of=AS_OF) == 60.0


# -- properties ---------------------------------------------------------------------------------------------
RATINGS = st.integers(min_value=0, max_value=20).map(lambda n: n / 2)  # 0, 0.5, ... 10


@given(importance=RATINGS, satisfaction=RATINGS)
def test_opportunity_lies_between_importance_and_twice_it(importance: float, satisfaction: float) -> None:
    found = pm.opportunity(importance=importance, satisfaction=satisfaction)
    assert importance <= found <= 2 * importance
    assert (found > importance) == (satisfaction < importance)


@given(before=RATINGS, after=RATINGS, importance=RATINGS)
def test_a_rise_in_satisfaction_never_raises_the_opportunity(before: float, after: float, importance: float) -> None:
    given_ = [PulseAnswer("2027-03-31", "A", "x", before), PulseAnswer("2027-06-30", "A", "x", after)]
    found = pm.outcome_pulse(outcome("x", importance=importance), pm.rounds(given_, as_of=AS_OF)["x"])
    assert math.isclose(found.shift, after - before, abs_tol=1e-9)
    if after >= before:
        assert found.opportunity_latest <= found.opportunity_previous


@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["2027-03-31", "2027-06-30"]), RATINGS), min_size=1, max_size=12)
)
def test_the_customer_view_is_ten_times_a_mean_of_ratings(rows: list[tuple[str, str, float]]) -> None:
    given_ = [PulseAnswer(d, f"r{i}", o, s) for i, (o, d, s) in enumerate(rows)]
    found = pm.customer_view(given_, as_of=AS_OF)
    assert found is not None and 0.0 <= found <= 100.0
    latest = pm.latest_satisfaction(given_, as_of=AS_OF)
    assert set(latest) == {o for o, _, _ in rows}
    assert math.isclose(found, 10 * sum(s for _, s in latest.values()) / len(latest), abs_tol=1e-6)
