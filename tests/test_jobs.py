"""Customer jobs' arithmetic (csm_nb.method.jobs): the opportunity score and its labels, the ranking,
the share of interactions with other parties, the checks and the read-back; with the contract's
acceptance numbers ((9, 4) -> 14 under-served; (6, 8) -> 6 over-served; (8, 8) -> 8; 70 of 100 -> 70 %)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import jobs
from csm_nb.vocabulary import percent

RATING = st.floats(min_value=0, max_value=10, allow_nan=False)


# -- opportunity and labels -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("importance", "satisfaction", "score", "label"),
    [
        (9, 4, 14.0, "under_served"),  # acceptance
        (6, 8, 6.0, "over_served"),  # acceptance
        (8, 8, 8.0, "served"),  # acceptance
        (10, 2, 18.0, "extremely_under_served"),
        (8, 0, 16.0, "extremely_under_served"),
        (9, 1.5, 16.5, "extremely_under_served"),
        (8, 1, 15.0, "under_served"),  # 15 exactly is not above 15
        (6, 2, 10.0, "served"),  # 10 exactly is not above 10
        (7, 3.9, 10.1, "under_served"),
        (0, 10, 0.0, "over_served"),
        (10, 10, 10.0, "served"),
        (0, 0, 0.0, "served"),
    ],
)
def test_opportunity_and_label(importance: float, satisfaction: float, score: float, label: str) -> None:
    assert jobs.opportunity(importance=importance, satisfaction=satisfaction) == pytest.approx(score)
    assert jobs.opportunity_label(importance=importance, satisfaction=satisfaction) == label


@pytest.mark.parametrize(("importance", "satisfaction"), [(None, 4), (9, None), (None, None)])
def test_an_outcome_without_both_ratings_is_not_rated(importance: float | None, satisfaction: float | None) -> None:
    assert jobs.opportunity_label(importance=importance, satisfaction=satisfaction) == "not_rated"


def test_every_label_has_words() -> None:
    assert set(jobs.LABELS) == {"extremely_under_served", "under_served", "served", "over_served", "not_rated"}
    assert jobs.LABELS["served"] == "appropriately served"


@given(RATING, RATING)
def test_opportunity_lies_between_importance_and_twice_importance(importance: float, satisfaction: float) -> None:
    score = jobs.opportunity(importance=importance, satisfaction=satisfaction)
    assert importance <= score <= 2 * importance + 1e-9
    assert 0 <= score <= 20


@given(RATING, RATING, RATING)
def test_opportunity_rises_with_importance(a: float, b: float, satisfaction: float) -> None:
    low, high = sorted((a, b))
    assert jobs.opportunity(importance=low, satisfaction=satisfaction) <= jobs.opportunity(
        importance=high, satisfaction=satisfaction
    )


@given(RATING, RATING, RATING)
def test_opportunity_does_not_rise_with_satisfaction(importance: float, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert jobs.opportunity(importance=importance, satisfaction=high) <= jobs.opportunity(importance=importance, satisfaction=low)


@given(RATING, RATING)
def test_over_served_only_when_satisfaction_beats_importance(importance: float, satisfaction: float) -> None:
    label = jobs.opportunity_label(importance=importance, satisfaction=satisfaction)
    assert (label == "over_served") == (satisfaction > importance)


# -- the desired outcomes and the ranking ---------------------------------------------------------
def three_outcomes() -> list[dict]:
    """One job, two steps (given out of order), the acceptance ratings and an unrated outcome."""
    return [
        {
            "id": "serve-clients",
            "statement": "serve every client who needs help in the month",
            "executor": "Care teams",
            "steps": [
                {
                    "id": "visit",
                    "name": "Visit the clients",
                    "order": 2,
                    "parties": {"customer": 17, "us": 9, "other": 64},
                    "desired_outcomes": [
                        {"id": "missed-visits", "statement": "minimise missed visits", "importance": 6, "satisfaction": 8},
                        {"id": "notes-time", "statement": "minimise time writing notes", "importance": 8},
                    ],
                },
                {
                    "id": "plan",
                    "name": "Plan the day's visits",
                    "order": 1,
                    "parties": {"customer": 3, "us": 1, "other": 6},
                    "desired_outcomes": [
                        {"id": "plan-time", "statement": "minimise planning time", "importance": 9, "satisfaction": 4},
                        {"id": "route-length", "statement": "minimise the route", "importance": 8, "satisfaction": 8},
                    ],
                },
            ],
        }
    ]


def test_desired_outcomes_follow_the_steps_order_and_carry_their_scores() -> None:
    found = jobs.desired_outcomes(three_outcomes())
    assert [(o.id, o.step, o.opportunity, o.label) for o in found] == [
        ("plan-time", "plan", 14.0, "under_served"),
        ("route-length", "plan", 8.0, "served"),
        ("missed-visits", "visit", 6.0, "over_served"),
        ("notes-time", "visit", None, "not_rated"),
    ]
    assert {o.job for o in found} == {"serve-clients"}


def test_the_ranking_leaves_unrated_outcomes_out_and_breaks_ties_by_importance_then_id() -> None:
    rows = jobs.desired_outcomes(three_outcomes())
    assert [o.id for o in jobs.ranking(rows)] == ["plan-time", "route-length", "missed-visits"]
    tied = [
        jobs.RatedOutcome(i, "j", "s", "", None, None, imp, sat, jobs.opportunity(importance=imp, satisfaction=sat), "")
        for i, imp, sat in (("z", 6, 4), ("y", 8, 8), ("x", 8, 8))  # all score 8
    ]
    assert [o.id for o in jobs.ranking(tied)] == ["x", "y", "z"]


# -- parties -------------------------------------------------------------------------------------
def test_seventy_of_a_hundred_interactions_with_other_parties_is_seventy_percent() -> None:
    work = three_outcomes()
    overall = jobs.overall_parties(work)
    assert (overall.total, overall.other) == (100, 70)
    assert jobs.other_share(overall) == pytest.approx(0.7)
    assert percent(jobs.other_share(overall), decimals=0) == "70 %"
    assert jobs.other_share(jobs.job_parties(work[0])) == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("counts", "share", "mostly"),
    [
        ({"customer": 3, "us": 1, "other": 6}, 0.6, True),
        ({"customer": 4, "us": 1, "other": 5}, 0.5, False),  # one half exactly is not "mostly"
        ({"customer": 0, "us": 0, "other": 1}, 1.0, True),
        ({"customer": 5, "us": 5}, 0.0, False),
        ({}, None, False),  # nothing counted: no share
    ],
)
def test_a_steps_share_with_other_parties(counts: dict, share: float | None, mostly: bool) -> None:
    (found,) = jobs.step_shares([{"id": "j", "steps": [{"id": "s", "name": "S", "parties": counts}]}])
    assert found.share == (pytest.approx(share) if share is not None else None)
    assert found.mostly_other is mostly


def test_steps_mostly_with_other_parties_in_order() -> None:
    assert [(s.job, s.step, round(s.share, 3)) for s in jobs.mostly_with_others(three_outcomes())] == [
        ("serve-clients", "plan", 0.6),
        ("serve-clients", "visit", 0.711),
    ]


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_the_share_is_a_fraction_of_the_total(customer: int, us: int, other: int) -> None:
    share = jobs.other_share(jobs.Parties(customer, us, other))
    if customer + us + other == 0:
        assert share is None
    else:
        assert 0 <= share <= 1
        assert share * (customer + us + other) == pytest.approx(other)


# -- the checks -----------------------------------------------------------------------------------
BOM = ["Helios Pulse survey licence", "Manager coaching programme"]


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("run the Helios Pulse every month", "Helios Pulse survey licence: Helios, Pulse"),
        ("send the helios pulse survey licence to staff", "Helios Pulse survey licence"),
        ("get managers through coaching", "Manager coaching programme: coaching"),
        ("deliver Employee Engagement, Phase One", "Employee engagement, Phase One"),
        ("use CareApp to plan visits", "CareApp"),
    ],
)
def test_a_job_statement_naming_the_solution_warns(statement: str, named: str) -> None:
    terms = jobs.solution_terms(bill_of_materials=BOM, initiative="Employee engagement, Phase One", products=["CareApp"])
    (warning,) = jobs.check_statement_solution("serve-clients", statement, terms)
    assert warning.startswith('job "serve-clients": the statement names the solution (')
    assert named in warning
    assert "strip the solution out" in warning


@pytest.mark.parametrize(
    "statement",
    [
        "serve every client who needs help in the month",
        "keep staff engaged at work",  # the initiative's words alone are the customer's own
        "train new carers",  # "programme", "licence", "training" are too common to mean the solution
        "plan visits with the pulses of the week",  # whole words only: "pulses" is not "Pulse"
    ],
)
def test_a_job_statement_without_the_solution_passes(statement: str) -> None:
    terms = jobs.solution_terms(bill_of_materials=BOM, initiative="Employee engagement, Phase One", products=["CareApp"])
    assert jobs.check_statement_solution("j", statement, terms) == []


@pytest.mark.parametrize(
    ("outcome", "flagged"),
    [
        ({"id": "o", "direction": "minimise", "unit": "minutes"}, None),
        ({"id": "o", "unit": "minutes"}, "no direction (minimise or maximise);"),
        ({"id": "o", "direction": "maximise"}, "no unit;"),
        ({"id": "o", "direction": "", "unit": "  "}, "no direction (minimise or maximise) and no unit;"),
    ],
)
def test_a_desired_outcome_needs_a_direction_and_a_unit(outcome: dict, flagged: str | None) -> None:
    found = jobs.check_outcome_metric(outcome)
    if flagged is None:
        assert found == []
    else:
        (warning,) = found
        assert warning.startswith('desired outcome "o": ') and flagged in warning


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("minimise the time to get an answer from support", "support"),
        ("minimise tickets left open", "tickets"),
        ("maximise the response from us within a day", "response from us"),
        ("minimise the wait for the vendor", "the vendor"),  # named once, not also as "vendor"
        ("maximise visits the account manager attends", "account manager"),
        ("minimise CareApp outages", "careapp"),  # a product's name, passed in
    ],
)
def test_a_desired_outcome_about_our_service_warns(statement: str, words: str) -> None:
    (warning,) = jobs.check_outcome_service({"id": "o", "statement": statement}, products=["CareApp"])
    assert f"describes our service ({words})" in warning
    assert "this is how *we* are doing" in warning


@pytest.mark.parametrize(
    "statement",
    ["minimise the time it takes to plan the day's visits", "minimise supported-living visits missed", "maximise clients seen"],
)
def test_a_desired_outcome_about_the_customers_job_passes(statement: str) -> None:
    assert jobs.check_outcome_service({"id": "o", "statement": statement}) == []


def test_check_jobs_gathers_every_warning_in_order() -> None:
    work = three_outcomes()
    work[0]["statement"] = "run the Helios Pulse"
    work[0]["steps"][1]["desired_outcomes"][0].update(direction="minimise", unit="minutes")
    warnings = jobs.check_jobs(work, bill_of_materials=BOM)
    assert warnings[0].startswith('job "serve-clients": the statement names the solution')
    # Step 1 (plan) comes first: its second outcome, then step 2's two, lack a direction and unit.
    assert [w.split('"')[1] for w in warnings[1:]] == ["route-length", "missed-visits", "notes-time"]


# -- the read-back and the hints ------------------------------------------------------------------
def test_the_read_back_paraphrases_the_job_map() -> None:
    assert jobs.read_back(three_outcomes()[0]) == (
        "Care teams are trying to serve every client who needs help in the month; it goes in 2 steps: "
        "1. plan the day's visits (2 desired outcomes), 2. visit the clients (2 desired outcomes). Is that right?"
    )
    assert jobs.read_back({"statement": "File the tax return", "steps": [{"name": "gather receipts"}]}) == (
        "They are trying to file the tax return; it goes in 1 step: 1. gather receipts. Is that right?"
    )


def test_the_universal_steps_are_the_eight_of_the_job_map_literature() -> None:
    assert list(jobs.UNIVERSAL_STEPS) == ["define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude"]


@pytest.mark.parametrize(
    ("value", "ok"), [(0, True), (10, True), (7.5, True), (11, False), (-1, False), (True, False), ("5", False)]
)
def test_rating_in_scale(value: object, ok: bool) -> None:
    assert jobs.rating_in_scale(value) is ok
