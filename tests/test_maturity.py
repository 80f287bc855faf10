"""The maturity arithmetic (csm_nb.method.maturity): the contract's acceptance example, each rule in a
table, and properties that hold for any answers (the index between 1 and the top level, the level never
falling when a credit rises)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import maturity as mt

MODEL = mt.example_model()
ACCEPTANCE = {
    "b2a": "yes",
    "b2b": "yes",
    "b2c": "partly",
    "b3a": "yes",
    "b3b": "partly",
    "b3c": "no",
    "b4a": "yes",
    "b4b": "no",
    "b5a": "no",
    "b5b": "no",
}


def test_the_acceptance_example() -> None:
    p = mt.place(MODEL, ACCEPTANCE)
    assert [round(p.shares[n], 3) for n in (2, 3, 4, 5)] == [0.833, 0.5, 0.5, 0.0]
    assert p.shares[1] is None  # level 1 has no behaviours: nothing assessed
    assert (p.level, p.index) == (2, 2.5)
    assert [(g.id, g.answer, g.feature) for g in p.gaps] == [("b3b", "partly", "feature 3"), ("b3c", "no", "feature 3")]
    assert [s.id for s in p.strengths] == ["b4a"]
    peers = mt.peer_position(p.index, [1.5, 2.0, 3.0, 3.5])
    assert (peers.n, peers.median, peers.share_below) == (4, 2.5, 0.5)


def test_reaching_level_3_takes_b3b_yes_and_b3c_partly() -> None:
    p = mt.place(MODEL, {**ACCEPTANCE, "b3b": "yes", "b3c": "partly"})
    assert round(p.shares[3], 3) == 0.833 and p.level == 3 and p.index == 3.5


@pytest.mark.parametrize(
    ("answer", "credit"),
    [("yes", 1.0), ("partly", 0.5), ("no", 0.0), (None, None), ("", None), (True, 1.0), (False, 0.0), (" Yes ", 1.0)],
)
def test_behaviour_credit(answer, credit) -> None:
    assert mt.behaviour_credit(answer) == credit


@pytest.mark.parametrize(
    ("shares", "threshold", "level"),
    [
        ({2: 0.833, 3: 0.5}, 0.8, 2),
        ({2: 0.8, 3: 0.8, 4: 0.8, 5: 0.8}, 0.8, 5),
        ({2: 0.79, 3: 1.0, 4: 1.0}, 0.8, 1),  # a level below the threshold stops the climb
        ({2: 1.0, 3: None, 4: 1.0}, 0.8, 2),  # a level nobody assessed is not reached
        ({2: 0.5}, 0.5, 2),
        ({}, 0.8, 1),
    ],
)
def test_current_level(shares, threshold, level) -> None:
    assert mt.current_level(shares, threshold=threshold) == level


@pytest.mark.parametrize(
    ("level", "shares", "index"), [(2, {3: 0.5}, 2.5), (1, {2: None}, 1.0), (4, {5: 0.25}, 4.25), (5, {5: 1.0}, 5.0)]
)
def test_maturity_index(level, shares, index) -> None:
    assert mt.maturity_index(level, shares, top=5) == index


@pytest.mark.parametrize(
    ("index", "peers", "median", "p25", "p75", "below"),
    [
        (2.5, [1.5, 2.0, 3.0, 3.5], 2.5, 1.875, 3.125, 0.5),
        (2.0, [2.0, 2.0], 2.0, 2.0, 2.0, 0.0),  # equal is not below
        (4.0, [1.0], 1.0, 1.0, 1.0, 1.0),
        (1.0, [], None, None, None, None),
    ],
)
def test_peer_position(index, peers, median, p25, p75, below) -> None:
    got = mt.peer_position(index, peers)
    assert (got.n, got.median, got.p25, got.p75, got.share_below) == (len(peers), median, p25, p75, below)


@pytest.mark.parametrize(
    ("plan", "level", "baselines", "best", "refused", "warned"),
    [
        ({"target_level": 3}, 2, {}, {}, [], []),
        ({"target_level": 4}, 2, {}, {}, [], ["two levels in one plan"]),
        ({"target_level": 2}, 2, {}, {}, ["must be above the current level 2"], []),
        ({"target_level": 1}, 2, {}, {}, ["must be above the current level 2"], []),
        ({"metric_targets": {"m": 5.0}}, 2, {"m": 4.0}, {"m": 6.0}, [], []),
        ({"metric_targets": {"m": 4.0}}, 2, {"m": 4.0}, {}, ["not beyond the baseline 4"], []),
        ({"metric_targets": {"m": 7.0}}, 2, {"m": 4.0}, {"m": 6.0}, [], ["ambitious"]),
    ],
)
def test_plan_checks(plan, level, baselines, best, refused, warned) -> None:
    got = mt.check_plan(plan, model=MODEL, level=level, baselines=baselines, peer_best=best)
    assert len(got.refused) == len(refused) and all(r in g for r, g in zip(refused, got.refused, strict=True))
    assert len(got.warnings) == len(warned) and all(w in g for w, g in zip(warned, got.warnings, strict=True))


def test_a_decreasing_metric_must_go_down() -> None:
    model = mt.MaturityModel("d", levels=MODEL.levels, metrics=(mt.Metric("lag", direction="decrease"),))
    assert mt.check_plan({"metric_targets": {"lag": 2}}, model=model, level=2, baselines={"lag": 3}).refused == []
    assert (
        "lower is better" in mt.check_plan({"metric_targets": {"lag": 4}}, model=model, level=2, baselines={"lag": 3}).refused[0]
    )
    warned = mt.check_plan({"metric_targets": {"lag": 1}}, model=model, level=2, baselines={"lag": 3}, peer_best={"lag": 1.5})
    assert "ambitious" in warned.warnings[0]


def test_plan_kpis_are_leading_kpis_from_day_one() -> None:
    model = mt.MaturityModel(
        "d", levels=MODEL.levels, metrics=(mt.Metric("m", "Share on time", "%", origin="usage", consent="given"),)
    )
    [kpi] = mt.plan_kpis(model, {"by": "2026-07-15", "metric_targets": {"m": 80}}, {"m": (dt.date(2026, 1, 15), 60.0)})
    assert (kpi.id, kpi.name, kpi.kind, kpi.unit, kpi.baseline, kpi.target) == ("m", "Share on time", "leading", "%", 60.0, 80.0)
    assert (kpi.start, kpi.deadline, kpi.origin, kpi.consent, kpi.frequency) == (
        "2026-01-15",
        "2026-07-15",
        "usage",
        "given",
        "monthly",
    )


ASSESSED = [
    {"date": "2026-01-15", "observed": {"b3b": "no"}, "metrics": {"m": 4.0}},
    {"date": "2026-04-15", "observed": {"b3b": "partly"}, "metrics": {"m": 4.0}},
]


@pytest.mark.parametrize(
    ("rule", "latest", "member"),
    [
        ({"behaviour_not": "b3b", "metric_not_improved": "m"}, {"b3b": "partly"}, True),
        ({"behaviour_not": "b3b", "metric_not_improved": "m"}, {"b3b": "yes"}, False),
        ({"behaviour_not": "b3b"}, {}, True),  # not assessed is not yes
        ({"metric_not_improved": "m"}, {"b3b": "yes"}, True),
        ({}, {}, False),
    ],
)
def test_segment_membership(rule, latest, member) -> None:
    assessments = [ASSESSED[0], {**ASSESSED[1], "observed": latest}]
    assert mt.in_segment(rule, model=MODEL, assessments=assessments) is member


def test_a_metric_that_improved_leaves_the_segment() -> None:
    assessments = [ASSESSED[0], {**ASSESSED[1], "metrics": {"m": 4.5}}]
    assert not mt.in_segment({"metric_not_improved": "m"}, model=MODEL, assessments=assessments)
    assert not mt.in_segment({"metric_not_improved": "m"}, model=MODEL, assessments=[{"date": "2026-01-01", "observed": {}}])


def test_day_one_is_the_first_by_date_not_by_position() -> None:
    later = {"date": "2026-04-15", "observed": {**ACCEPTANCE, "b3b": "yes", "b3c": "partly"}}
    first = {"date": "2026-01-15", "observed": ACCEPTANCE}
    placed = mt.history(MODEL, [later, first])
    assert [p.date for p in placed] == [dt.date(2026, 1, 15), dt.date(2026, 4, 15)]
    assert mt.day_one(placed).index == 2.5 and mt.progress(placed) == 1.0


@pytest.mark.parametrize(
    ("as_of", "expected"), [("2026-01-15", True), ("2026-04-15", True), ("2026-06-30", False), ("2026-08-01", False)]
)
def test_on_course(as_of, expected) -> None:
    # Day 1 at 2.5 on 15 Jan, level 3 by 15 July: the line needs 3.0 by then; the customer stays at 2.75.
    start = mt.place(MODEL, ACCEPTANCE, date=dt.date(2026, 1, 15))
    now = mt.Placement(dt.date(2026, 4, 1), {}, 2, 2.75)
    got = mt.on_course([start, now], target_level=3, by=dt.date(2026, 7, 15), as_of=dt.date.fromisoformat(as_of))
    assert got is expected


ANSWERS = st.sampled_from(["yes", "partly", "no", None])
BEHAVIOURS = [b.id for b in MODEL.behaviours()]


@given(st.fixed_dictionaries({b: ANSWERS for b in BEHAVIOURS}))
def test_the_index_is_between_1_and_the_top(observed) -> None:
    p = mt.place(MODEL, observed)
    assert 1.0 <= p.index <= MODEL.top
    assert p.level <= p.index < p.level + 1 or p.index == MODEL.top
    for share in p.shares.values():
        assert share is None or 0.0 <= share <= 1.0


RISE = {"no": "partly", "partly": "yes", None: "no", "yes": "yes"}


@given(st.fixed_dictionaries({b: ANSWERS for b in BEHAVIOURS}), st.sampled_from(BEHAVIOURS))
def test_a_higher_credit_never_lowers_the_level(observed, behaviour) -> None:
    before = mt.place(MODEL, observed)
    raised = {**observed, behaviour: RISE[observed[behaviour]]}
    after = mt.place(MODEL, raised)
    if observed[behaviour] is not None:  # a credit rose (a new answer may lower a mean)
        assert after.level >= before.level and after.index >= before.index - 1e-9


@given(st.floats(0, 5), st.lists(st.floats(0, 5), min_size=1, max_size=30))
def test_peer_quartiles_are_ordered(index, peers) -> None:
    got = mt.peer_position(index, peers)
    assert got.p25 <= got.median <= got.p75 and 0 <= got.share_below <= 1
