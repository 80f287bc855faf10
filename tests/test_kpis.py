"""KPI workshop maths: candidates read from answers, transparent scoring, ranking, shortlist, register, warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.engagement import read_engagement
from csm_nb.errors import InputError
from csm_nb.method import kpis
from csm_nb.model import Kpi, Outcome

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "employee-engagement.yaml"


@pytest.fixture
def example():
    e = read_engagement(EXAMPLE)
    return e, kpis.workshop_state(e.outcomes, e.kpis, e.workshop["kpi_workshop"])


# -- the employee-engagement workshop ------------------------------------------------------------------
def test_example_ranking_and_scores(example):
    _, w = example
    assert [(s.rank, s.candidate.id, s.total) for s in w.ranking] == [
        (1, "engagement-score", 4.3),
        (2, "pulse-survey", 3.4),
        (3, "annual-survey", 3.0),
    ]
    top = w.ranking[0]
    assert top.scores == {"link": 4, "warning": 5, "frequency": 4, "effort": 5, "approvals": 3, "ready": 5}
    # The weighted mean by hand: (3*4 + 2*5 + 2*4 + 1*5 + 1*3 + 1*5) / 10 = 43 / 10.
    assert top.total == (3 * 4 + 2 * 5 + 2 * 4 + 5 + 3 + 5) / 10
    assert w.shortlist == ["clients-served", "engagement-score"]


def test_example_register_has_a_leading_and_a_lagging_kpi_and_flags_the_empty_outcome(example):
    e, w = example
    kinds = {k.id: k.kind for k in e.kpis if k.outcome == "clients-this-year"}
    assert kinds == {"clients-served": "lagging", "engagement-score": "leading"}
    assert [(x.kind, x.outcome) for x in w.warnings] == [("no_leading", "clients-next-year"), ("no_lagging", "clients-next-year")]
    # The annual survey cannot warn ahead of a monthly lagging KPI.
    assert w.notes == {"annual-survey": ["measured yearly, less often than Clients served per month (monthly)"]}


def test_changing_weights_changes_the_ranking(example):
    e, _ = example
    answers = dict(
        e.workshop["kpi_workshop"], weights={"link": 0, "warning": 5, "frequency": 0, "effort": 0, "approvals": 0, "ready": 0}
    )
    w = kpis.workshop_state(e.outcomes, e.kpis, answers)
    # Only early warning counts: 6 months (5) beats 5 months (4); ties are by name.
    assert [(s.candidate.id, s.total) for s in w.ranking] == [
        ("annual-survey", 5.0),
        ("engagement-score", 5.0),
        ("pulse-survey", 4.0),
    ]


# -- criterion scores ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("months", "points"), [(None, 1), (0, 1), (0.5, 2), (1, 3), (2.9, 3), (3, 4), (5.9, 4), (6, 5), (24, 5)])
def test_early_warning_score(months, points):
    assert kpis.score_warning(months) == points


@pytest.mark.parametrize(
    ("frequency", "points"),
    [
        ("yearly", 1),
        ("half-yearly", 2),
        ("quarterly", 3),
        ("monthly", 4),
        ("fortnightly", 5),
        ("weekly", 5),
        ("daily", 5),
        ("Once a month", 4),
        ("annual", 1),
        (None, 1),
    ],
)
def test_frequency_score(frequency, points):
    assert kpis.score_frequency(frequency) == points


@pytest.mark.parametrize(
    ("candidate", "points"),
    [
        (kpis.Candidate("x", "X"), 1),
        (kpis.Candidate("x", "X", baseline=0), 3),
        (kpis.Candidate("x", "X", baseline=6, owner="HR", source="survey"), 5),
    ],
)
def test_ready_score(candidate, points):
    assert kpis.score_ready(candidate) == points


weights = st.fixed_dictionaries({c.id: st.integers(0, kpis.MAX_WEIGHT) for c in kpis.CRITERIA}).filter(lambda w: any(w.values()))
candidates = st.builds(
    kpis.Candidate,
    id=st.just("c"),
    name=st.just("C"),
    frequency=st.one_of(st.none(), st.sampled_from(list(kpis.FREQUENCIES))),
    lead_time_months=st.one_of(st.none(), st.floats(0, 36)),
    effort=st.one_of(st.none(), st.sampled_from(kpis.EFFORTS)),
    approvals=st.lists(st.sampled_from(["HR", "Legal", "Works council"]), max_size=3).map(tuple),
    confidence=st.one_of(st.none(), st.integers(1, 5)),
    baseline=st.one_of(st.none(), st.floats(0, 100)),
)


@given(candidates, weights, st.integers(2, 5))
def test_score_is_between_one_and_five_and_ignores_the_scale_of_the_weights(candidate, w, k):
    s = kpis.score(candidate, w)
    assert 1 <= s.total <= 5
    assert all(1 <= v <= 5 for v in s.scores.values())
    assert kpis.score(candidate, {c: v * k for c, v in w.items()}).total == pytest.approx(s.total, abs=0.006)


# -- reading answers ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"name": "Pulse", "frequency": "sometimes"},
            "kpi_workshop answer 'candidate.pulse': frequency 'sometimes' is not one of daily",
        ),
        ({"name": "Pulse", "confidence": 7}, "confidence is a whole number from 1 to 5, got 7"),
        ({"name": "Pulse", "effort": "huge"}, "effort 'huge' is not one of low, medium, high"),
        ({"name": "Pulse", "outcome": "nope"}, "outcome 'nope' is not the id of any outcome (o)"),
        ({"name": "Pulse", "lead_time_months": -1}, "lead_time_months cannot be negative"),
        ({"name": "Pulse", "baseline": "six"}, "baseline should be a number, got 'six'"),
        ({"name": "Pulse", "colour": "red"}, "unknown field 'colour'"),
        ({"frequency": "monthly"}, "the candidate needs a name"),
        ("Pulse", "expected the candidate's fields"),
    ],
)
def test_bad_candidates_are_refused_naming_the_answer_and_field(value, message):
    with pytest.raises(InputError) as caught:
        kpis.candidate_from_answer("candidate.pulse", value, outcomes=["o"])
    assert message in str(caught.value)


def test_a_bad_candidate_in_an_engagement_file_is_named(fixtures_dir):
    e = read_engagement(fixtures_dir / "kpi_workshop_bad_frequency.yaml")
    with pytest.raises(InputError, match=r"kpi_workshop answer 'candidate.pulse': frequency 'sometimes'"):
        kpis.workshop_state(e.outcomes, e.kpis, e.workshop["kpi_workshop"])


def test_removed_candidates_are_skipped_and_ids_come_from_keys():
    got = kpis.candidates_from_answers({"candidate.a": {"name": "A"}, "candidate.b": None, "weights": {}})
    assert [(c.id, c.name, c.kind) for c in got] == [("a", "A", "leading")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"speed": 2}, "unknown criterion 'speed'"),
        ({"link": 9}, "the weight of 'link' is a whole number from 0 to 5, got 9"),
        ({"link": 1.5}, "got 1.5"),
        ({c.id: 0 for c in kpis.CRITERIA}, "every weight is 0"),
    ],
)
def test_bad_weights_are_refused(value, message):
    with pytest.raises(InputError, match=message):
        kpis.weights_from_answer(value)


# -- shortlist and register ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 6])
def test_shortlist_must_hold_two_to_five(size):
    cands = [kpis.Candidate(f"c{i}", f"C{i}") for i in range(6)]
    with pytest.raises(InputError, match=f"the shortlist has {size} KPI"):
        kpis.register_from_shortlist([], cands, [c.id for c in cands[:size]])


def test_shortlist_updates_existing_kpis_and_adds_new_ones(example):
    e, w = example
    register = kpis.register_from_shortlist(e.kpis, w.candidates, ["engagement-score", "pulse-survey", "clients-served"])
    assert [k.id for k in register] == ["clients-served", "engagement-score", "pulse-survey"]
    pulse = register[2]
    assert (pulse.kind, pulse.outcome, pulse.frequency, pulse.unit, pulse.owner) == (
        "leading",
        "clients-this-year",
        "monthly",
        "points",
        "HR Business Partner",
    )
    kept = register[1]
    assert (kept.start, kept.milestones[5]) == ("2026-08-01", 8.0)  # fields the workshop does not set are kept


def test_shortlist_answer_must_name_candidates(example):
    _, w = example
    with pytest.raises(InputError, match="'ghost' is not a candidate"):
        kpis.shortlist_from_answer(["engagement-score", "ghost"], w.candidates)


def test_warning_when_a_leading_kpi_is_measured_less_often_than_its_lagging_one():
    ws = kpis.register_warnings(
        [Outcome("o", description="More clients")],
        [
            Kpi("lag", outcome="o", kind="lagging", frequency="weekly", name="Clients a week"),
            Kpi("lead", outcome="o", kind="leading", frequency="quarterly", name="Survey"),
        ],
    )
    assert [(w.kind, w.kpi) for w in ws] == [("leading_less_often", "lead")]
    assert ws[0].message == (
        "Survey is meant to warn early but is measured quarterly, less often than Clients a week "
        "(weekly), which it should run ahead of"
    )


def test_no_warning_when_every_outcome_is_covered():
    assert (
        kpis.register_warnings(
            [Outcome("o")],
            [
                Kpi("a", outcome="o", kind="lagging", frequency="monthly"),
                Kpi("b", outcome="o", kind="leading", frequency="weekly"),
            ],
        )
        == []
    )
