"""The account health's arithmetic (csm_nb.method.health): the scores of each component, the overall
score and its band, the outcome override, "not known yet", the drivers, the trend and the history,
with the contract's acceptance numbers on the fixture engagements and properties of the scores."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from csm_nb.data.engagement import read_engagement
from csm_nb.errors import InputError
from csm_nb.method import engagement_plan as ep
from csm_nb.method import health as hm
from csm_nb.model import (
    CashFlowLine,
    Contract,
    Engagement,
    EngagementModel,
    Event,
    Kpi,
    Measurement,
    MomentRecord,
    MomentSpec,
    Trigger,
)

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures" / "health"
scores = st.floats(min_value=0, max_value=100, allow_nan=False)
fractions = st.floats(min_value=-1.5, max_value=2.5, allow_nan=False)


# -- KPI score -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("progress", "planned", "on_time", "expected"),
    [
        (0.50, 0.50, True, 100.0),  # on plan
        (0.72, 0.60, True, 100.0),  # ahead
        (0.49, 0.50, True, 100.0),  # 1 point behind: inside the 2-point tolerance
        (0.48, 0.50, True, 100.0),  # exactly at the tolerance
        (0.40, 0.50, True, 60.0),  # 10 behind: 100 - 5 x 8 (the employee-engagement rating)
        (0.38, 0.50, True, 50.0),  # 12 behind
        (0.28, 0.50, True, 0.0),  # 22 behind
        (0.00, 0.50, True, 0.0),  # far behind: clamped
        (0.72, 0.60, False, 50.0),  # ahead but misses its deadline: capped
        (0.45, 0.50, False, 50.0),  # 5 behind (85) and misses: capped at 50
        (0.40, 0.50, False, 50.0),  # 60, capped at 50
        (0.30, 0.50, False, 10.0),  # under the cap already
        (0.40, 0.50, None, 60.0),  # deadline not known: no cap
    ],
)
def test_kpi_score(progress: float, planned: float, on_time: bool | None, expected: float) -> None:
    assert hm.kpi_score(progress=progress, planned=planned, on_time=on_time) == pytest.approx(expected, abs=1e-9)


def test_the_tolerance_is_a_setting() -> None:
    assert hm.kpi_score(progress=0.40, planned=0.50, on_time=True, tolerance=0.0) == pytest.approx(50.0)
    assert hm.kpi_score(progress=0.40, planned=0.50, on_time=True, tolerance=0.10) == 100.0


@given(fractions, fractions, st.sampled_from([True, False, None]))
def test_a_kpi_score_is_always_0_to_100(progress: float, planned: float, on_time: bool | None) -> None:
    score = hm.kpi_score(progress=progress, planned=planned, on_time=on_time)
    assert 0.0 <= score <= 100.0
    if on_time is False:
        assert score <= 50.0


@given(fractions, st.floats(min_value=0, max_value=2, allow_nan=False), st.floats(min_value=0, max_value=2, allow_nan=False))
def test_a_kpi_score_never_rises_as_the_shortfall_grows(planned: float, a: float, b: float) -> None:
    small, large = sorted((a, b))
    less_behind = hm.kpi_score(progress=planned - small, planned=planned, on_time=True)
    more_behind = hm.kpi_score(progress=planned - large, planned=planned, on_time=True)
    assert more_behind <= less_behind


# -- money score ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("actual", "estimated", "band", "expected"),
    [
        (212_000, 212_000, 0.10, 100.0),
        (219_673, 212_000, 0.10, 100.0),  # ad-campaign: above the estimate
        (0.90, 1.0, 0.10, 50.0),  # a ratio of exactly 0.90: the amber edge
        (90, 100, 0.10, 50.0),
        (45_000, 50_000, 0.10, 50.0),
        (95, 100, 0.10, 75.0),  # 5 points short: 5 a point
        (80, 100, 0.10, 0.0),  # 20 short
        (38_250, 50_625, 0.10, 0.0),  # employee-engagement: 75.6 %, 24.4 short
        (90, 100, 0.20, 75.0),  # a wider band: 2.5 a point
        (99, 100, 0.0, 0.0),  # no band: any shortfall is 0
        (100, 100, 0.0, 100.0),
    ],
)
def test_money_score(actual: float, estimated: float, band: float, expected: float) -> None:
    assert hm.money_score(actual=actual, estimated=estimated, band=band) == pytest.approx(expected, abs=1e-9)


def test_the_order_to_ship_money_score() -> None:
    assert round(hm.money_score(actual=67_100, estimated=75_000), 1) == 47.3


@pytest.mark.parametrize(("actual", "estimated"), [(None, 100), (100, None), (100, 0), (0, 0)])
def test_money_is_not_known_without_actuals_or_an_estimate(actual: float | None, estimated: float | None) -> None:
    assert hm.money_score(actual=actual, estimated=estimated) is None


@given(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.floats(min_value=1, max_value=1e9, allow_nan=False),
    st.floats(min_value=0.01, max_value=0.5),
)
def test_a_money_score_is_always_0_to_100_and_matches_the_cash_flow_verdict(actual: float, estimated: float, band: float) -> None:
    score = hm.money_score(actual=actual, estimated=estimated, band=band)
    assert score is not None and 0.0 <= score <= 100.0
    ratio = actual / estimated
    if ratio >= 1:
        assert score == 100.0  # the cash flow's "on track"
    elif ratio < 1 - band - 1e-9:
        assert score < 50.0  # "behind"
    elif ratio > 1 - band + 1e-9:
        assert 50.0 <= score < 100.0  # "within the band"


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=1, max_value=1e6, allow_nan=False),
)
def test_a_money_score_never_falls_as_actual_revenue_grows(a: float, b: float, estimated: float) -> None:
    low, high = sorted((a, b))
    assert hm.money_score(actual=low, estimated=estimated) <= hm.money_score(actual=high, estimated=estimated)


# -- the other components' scores ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ({"a": True, "b": True, "c": True, "d": True}, 100.0),
        ({"a": True, "b": False, "c": True, "d": True}, 75.0),
        ({"a": False, "b": False, "c": False, "d": False}, 0.0),
    ],
)
def test_relationship_score(checks: dict, expected: float) -> None:
    assert hm.relationship_score(checks) == expected


@pytest.mark.parametrize(
    ("score", "scale", "expected"),
    [(8, 10, 8.0), (4, 5, 8.0), (7, None, 7.0), (3, 4, 7.5), (11, 10, 10.0), (-1, 10, 0.0), (None, 10, None)],
)
def test_a_rating_on_0_to_10(score: float | None, scale: float | None, expected: float | None) -> None:
    assert hm.rating_0_10(score, scale) == expected


def test_customer_view_and_moments_scores() -> None:
    assert hm.customer_view_score([8.0, 6.0]) == 70.0 and hm.customer_view_score([]) is None
    assert hm.share_score(on_time=3, due=4) == 75.0 and hm.share_score(on_time=0, due=0) is None


# -- overall and band ---------------------------------------------------------------------------------
W = {"outcome": 3, "leading": 2, "money": 2, "onboarding": 1, "moments": 1, "relationship": 1, "customer_view": 1}


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ({"outcome": 100, "leading": 60, "money": 0}, 60.0),  # employee-engagement
        ({"outcome": 100, "leading": (100 + 14.4) / 2, "money": 47.3}, 72.7),  # order-to-ship
        ({"money": 100}, 100.0),  # ad-campaign
        ({"outcome": 100, "leading": None, "money": 0, "moments": None}, 60.0),  # 300 / 5
        ({"outcome": None, "money": None}, None),  # nothing known: not known, never 0
        ({}, None),
    ],
)
def test_overall_renormalises_over_the_known_components(components: dict, expected: float | None) -> None:
    found = hm.overall(components, W)
    assert (round(found, 1) if found is not None else None) == expected


def test_a_component_without_weight_is_left_out() -> None:
    assert hm.overall({"outcome": 100, "money": 0}, {"outcome": 3, "money": 0}) == 100.0
    assert hm.overall({"money": 40}, {"money": 0}) is None


component_scores = st.dictionaries(st.sampled_from(list(W)), st.one_of(st.none(), scores), min_size=1)


@given(component_scores)
def test_overall_lies_between_the_known_scores(components: dict) -> None:
    known = [s for s in components.values() if s is not None]
    found = hm.overall(components, W)
    if not known:
        assert found is None
    else:
        assert min(known) - 1e-6 <= found <= max(known) + 1e-6


@given(component_scores, st.sampled_from(list(W)), st.floats(min_value=0.1, max_value=100))
def test_an_unknown_component_or_scaled_weights_change_nothing(components: dict, extra: str, factor: float) -> None:
    assume(extra not in components)
    found = hm.overall(components, W)
    assert hm.overall({**components, extra: None}, W) == found
    scaled = hm.overall(components, {k: v * factor for k, v in W.items()})
    assert (scaled is None) == (found is None)
    if found is not None:
        assert math.isclose(scaled, found, abs_tol=1e-6)


@given(component_scores, st.sampled_from(list(W)), scores, scores)
def test_overall_never_falls_when_one_component_rises(components: dict, key: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert hm.overall({**components, key: low}, W) <= hm.overall({**components, key: high}, W) + 1e-9


@pytest.mark.parametrize(
    ("score", "bands", "expected"),
    [
        (49.9, None, "red"),
        (50.0, None, "amber"),
        (74.9, None, "amber"),
        (75.0, None, "green"),
        (100.0, None, "green"),
        (0.0, None, "red"),
        (None, None, None),
        (79.0, {"red": 60, "green": 80}, "amber"),
        (59.0, {"red": 60, "green": 80}, "red"),
    ],
)
def test_band(score: float | None, bands: dict | None, expected: str | None) -> None:
    assert hm.band(score, bands or hm.DEFAULT_HEALTH_BANDS) == expected


# -- the whole, on engagements built here -------------------------------------------------------------
def kpi(kpi_id: str, kind: str, **extra) -> Kpi:
    return Kpi(
        kpi_id,
        name=extra.pop("name", kpi_id.replace("-", " ").capitalize()),
        kind=kind,
        baseline=0,
        target=100,
        start="2027-01-01",
        deadline="10 months",
        frequency="monthly",
        **extra,
    )


def measured(kpi_id: str, values: list[float]) -> list[Measurement]:
    return [Measurement(kpi_id, i, v) for i, v in enumerate(values)]


def test_a_lagging_kpi_30_points_behind_makes_the_band_red_whatever_the_number() -> None:
    # Plan: 10 points a month. At month 5 the plan is 50 and the KPI is at 20: 30 behind, scoring 0.
    e = Engagement(
        "late",
        "Late Ltd",
        kpis=[kpi("revenue", "lagging"), kpi("usage", "leading")],
        measurements=measured("revenue", [0, 4, 8, 12, 16, 20]) + measured("usage", [0, 10, 20, 30, 40, 50]),
        cash_flow=[CashFlowLine("M1", 100, 100, 1000, 1000)],
        health={"weights": {"outcome": 1, "leading": 5, "money": 5}},
    )
    h = hm.engagement_health(e, None, as_of=D(2027, 7, 1))
    assert h.kpis["revenue"] == 0.0 and h.kpis["usage"] == 100.0
    assert h.score is not None and h.score >= 50  # (0 + 500 + 500) / 11 = 90.9 ...
    assert round(h.score, 1) == 90.9 and hm.band(h.score) == "green"
    assert h.override and h.band == "red"  # ... and still red
    assert "Revenue: 30.0 points behind plan" in (h.override_reason or "")
    assert h.drivers[0].startswith("Outcomes scores 0.0") and "Revenue, lagging KPI, scores 0.0" in h.drivers[1]


def test_a_lagging_kpi_missing_its_deadline_is_red_even_at_50() -> None:
    # Ahead of a slow plan (5 points a month), but flat lately: the forecast never reaches the target.
    slow = Kpi("revenue", name="Revenue", kind="lagging", baseline=0, target=100, start="2027-01-01", deadline="20 months")
    e = Engagement("flat", "Flat Ltd", kpis=[slow], measurements=measured("revenue", [0, 20, 30, 30, 30, 30]))
    h = hm.engagement_health(e, None, as_of=D(2027, 7, 1))
    assert h.kpi_details[0].on_time is False and h.kpis["revenue"] == 50.0
    assert h.score == 50.0 and h.override and h.band == "red"


def test_a_single_measurement_gives_no_deadline_verdict() -> None:
    e = Engagement("one", "One Ltd", kpis=[kpi("revenue", "lagging")], measurements=measured("revenue", [0]))
    h = hm.engagement_health(e, None, as_of=D(2027, 2, 1))
    assert h.kpi_details[0].on_time is None and h.kpis["revenue"] == 100.0 and not h.override and h.band == "green"


def test_no_known_component_is_not_known_yet_never_0() -> None:
    e = Engagement(
        "empty",
        "Empty Ltd",
        kpis=[kpi("revenue", "lagging")],
        cash_flow=[CashFlowLine("M1", 100, None, 1000, None)],
        stakeholders=[{"name": "Priya Raman", "role": "Head of Service"}],  # a job title only: not mapped
    )
    h = hm.engagement_health(e, None, as_of=D(2027, 4, 5))
    assert (h.score, h.band, h.override, h.kpis, h.drivers) == (None, None, False, {}, [])
    assert not any(c.known for c in h.components.values()) and all(c.score is None for c in h.components.values())
    assert h.as_trigger_input() is None
    assert h.components["relationship"].evidence.startswith("no stakeholder is mapped yet")


def test_measurements_after_as_of_are_left_out() -> None:
    e = Engagement("later", "Later Ltd", kpis=[kpi("revenue", "lagging")], measurements=measured("revenue", [0, 10, 20, 0, 0]))
    early = hm.engagement_health(e, None, as_of=D(2027, 3, 15))  # months 0-2 only (month 3 ends 1 April)
    late = hm.engagement_health(e, None, as_of=D(2027, 5, 15))
    assert early.kpis == {"revenue": 100.0} and late.kpis["revenue"] < 50
    assert hm.engagement_health(e, None, as_of=D(2026, 12, 1)).score is None  # nothing measured yet


def test_the_relationship_component_from_the_stakeholder_map() -> None:
    people = [
        {"name": "Priya Raman", "roles": ["sponsor"], "level": "strategic", "influence": 5, "support": 2},
        {"name": "Tom Becker", "roles": ["champion"], "level": "business", "status": "left"},
        {"name": "Lena Holm", "level": "operational", "influence": 4, "support": -1},
        {"name": "Sam Okafor", "side": "ours", "level": "business"},
    ]
    h = hm.engagement_health(Engagement("rel", "Rel Ltd", stakeholders=people), None, as_of=D(2027, 4, 5))
    c = h.components["relationship"]
    # Sponsor met; champion left; levels: Tom left, so no business contact at the customer; Lena opposes.
    assert (c.known, c.score, h.score) == (True, 25.0, 25.0)
    assert c.evidence.startswith("1 of 4 checks met; missing: a champion at the customer")


def test_the_customer_view_takes_each_respondents_latest_rating_of_the_last_180_days() -> None:
    events = [
        Event("2026-09-01", "survey", score=2, scale=10, respondent="Old"),  # more than 180 days before
        Event("2027-01-10", "survey", score=6, scale=10, respondent="Tom"),
        Event("2027-03-01", "survey", score=4, scale=5, respondent="Tom"),  # Tom's latest: 8
        Event("2027-02-01", "survey", score=9, respondent="Priya"),  # no scale: 0-10
        Event("2027-02-02", "survey", score=5, scale=10),  # nobody named: counts on its own
        Event("2027-04-06", "survey", score=0, scale=10, respondent="Priya"),  # after as_of
        Event("2027-02-03", "support_case", severity="high"),
    ]
    h = hm.engagement_health(Engagement("cv", "CV Ltd", events=events), None, as_of=D(2027, 4, 5))
    c = h.components["customer_view"]
    assert c.score == pytest.approx(10 * (8 + 9 + 5) / 3) and h.score == pytest.approx(73.3, abs=0.05)
    assert "3 respondents" in c.evidence


def onboarding_model() -> EngagementModel:
    chain = [("kickoff", 7), ("activated", 7), ("initial_training", 14), ("done", 14)]
    moments, previous = [], "contract.signed"
    for moment, days in chain:
        moments.append(
            MomentSpec(
                moment,
                name=moment.replace("_", " ").capitalize(),
                phase="onboarding",
                after={"moment": previous, "days": days},
                escalate={"after_days": 7},
                marks=["onboarding_complete"] if moment == "done" else [],
            )
        )
        previous = moment
    moments.append(MomentSpec("qbr", name="Quarterly review", phase="ongoing", type="time", every="3 months"))
    return EngagementModel("test", moments=moments, grace_days=7, triggers=[Trigger("red", {"health": "red"}, start="qbr")])


CONTRACT = Contract(signed="2027-01-04", start="2027-01-04", end="2027-12-31")
HELD = [MomentRecord("kickoff", held="2027-01-11"), MomentRecord("activated", held="2027-01-18")]


@pytest.mark.parametrize(
    ("as_of", "score", "status"),
    [
        (D(2027, 1, 30), 100.0, "12 days since the step before, 14 expected (on time)"),  # training due 1 Feb
        (D(2027, 2, 5), 50.0, "18 days since the step before, 14 expected (slower than expected)"),
        (D(2027, 2, 12), 0.0, "25 days since the step before, 14 expected (stuck)"),
    ],
)
def test_the_onboarding_component_judges_the_current_stage(as_of: dt.date, score: float, status: str) -> None:
    e = Engagement("onb", "Onb Ltd", contract=CONTRACT, moments=list(HELD))
    h = hm.engagement_health(e, onboarding_model(), as_of=as_of)
    c = h.components["onboarding"]
    assert (h.phase, c.known, c.score) == ("onboarding", True, score)
    assert c.evidence == f"current stage Initial training: {status}"


def test_onboarding_is_not_known_once_complete_or_without_a_model() -> None:
    log = [*HELD, MomentRecord("initial_training", held="2027-02-01"), MomentRecord("done", held="2027-02-15")]
    e = Engagement("onb", "Onb Ltd", contract=CONTRACT, moments=log)
    after = hm.engagement_health(e, onboarding_model(), as_of=D(2027, 3, 1))
    assert after.phase == "ongoing" and not after.components["onboarding"].known
    # Judged before the last step was held, it is still onboarding (a moment held later is not held yet).
    before = hm.engagement_health(e, onboarding_model(), as_of=D(2027, 2, 10))
    assert before.phase == "onboarding" and before.components["onboarding"].score == 100.0
    assert not hm.engagement_health(e, None, as_of=D(2027, 3, 1)).components["onboarding"].known


def test_the_moments_component_counts_those_due_in_the_last_180_days_held_on_time() -> None:
    log = [
        *HELD,
        MomentRecord("initial_training", held="2027-02-01"),
        MomentRecord("done", held="2027-02-20"),  # due 15 Feb, no grace for a milestone: late
        MomentRecord("qbr", held="2027-04-08"),  # due 4 Apr: within the 7 days' grace
        MomentRecord("qbr", held="2027-07-20"),  # due 4 Jul: late
    ]
    e = Engagement("mom", "Mom Ltd", contract=CONTRACT, moments=log)
    h = hm.engagement_health(e, onboarding_model(), as_of=D(2027, 7, 30))
    c = h.components["moments"]
    # Due 31 Jan .. 30 Jul 2027: initial training (1 Feb, on time), done (15 Feb, late), the reviews of 4 Apr (on
    # time) and 4 Jul (late); kick-off and activation were due before the window.
    assert c.score == 50.0 and c.evidence.startswith("2 of 4 moments due since 31 Jan 2027 held on time; not on time: Done")
    # Judged on 5 Apr (window from 7 Oct 2026), the April review is still inside its grace: not judged yet.
    early = hm.engagement_health(e, onboarding_model(), as_of=D(2027, 4, 5)).components["moments"]
    assert early.evidence.startswith("3 of 4 moments due")


def test_no_moments_without_a_contract() -> None:
    c = hm.engagement_health(Engagement("x", "X"), onboarding_model(), as_of=D(2027, 4, 5)).components["moments"]
    assert not c.known and c.score is None


def test_weights_and_bands_are_settings_and_bad_bands_are_refused() -> None:
    e = Engagement(
        "set",
        "Set Ltd",
        kpis=[kpi("revenue", "lagging"), kpi("usage", "leading")],
        measurements=measured("revenue", [0, 10, 20]) + measured("usage", [0, 10, 10]),
        health={"weights": {"leading": 0}, "bands": {"green": 101}},
    )
    h = hm.engagement_health(e, None, as_of=D(2027, 4, 5))
    assert h.components["leading"].weight == 0 and h.score == 100.0 and h.band == "amber"  # green from 101
    e.health = {"bands": {"red": 80, "green": 60}}
    with pytest.raises(InputError, match=r"^engagement 'set': health\.bands: expected red at or below green"):
        hm.engagement_health(e, None, as_of=D(2027, 4, 5))


def test_the_engagement_plans_health_triggers_read_as_trigger_input() -> None:
    e = Engagement(
        "trig",
        "Trig Ltd",
        contract=CONTRACT,
        kpis=[kpi("revenue", "lagging")],
        measurements=measured("revenue", [0, 4, 8, 12]),
        moments=list(HELD),
    )
    model = onboarding_model()
    model.triggers.append(Trigger("falling", {"health_drop": 10}))
    h = hm.engagement_health(e, model, as_of=D(2027, 4, 5))
    assert h.band == "red"
    given_to_plan = h.as_trigger_input(previous_score=h.score + 12)
    assert given_to_plan == {"band": "red", "drop": 12.0, "score": h.score}
    plan = ep.engagement_schedule(e, model, as_of=D(2027, 4, 5), health=given_to_plan)
    assert sorted(t.id for t, _ in plan.fired) == ["falling", "red"]


# -- drivers, trend and history ------------------------------------------------------------------------
def test_drivers_are_every_component_and_kpi_under_75_worst_first() -> None:
    found = hm.drivers(
        {
            "outcome": hm.Component(100.0, 3, True, "fine"),
            "money": hm.Component(47.3, 2, True, "short"),
            "moments": hm.Component(74.9, 1, True, "late"),
            "relationship": hm.Component(None, 1, False, "not mapped"),
        },
        [
            hm.KpiHealth("k", "Stock", "leading", 14.4, 19.1, False, "behind"),
            hm.KpiHealth("o", "Days", "lagging", 75.0, 0, True, "on plan"),
        ],
    )
    assert found == [
        "Stock, leading KPI, scores 14.4: behind",
        "Money scores 47.3: short",
        "Rhythm of moments scores 74.9: late",
    ]


@pytest.mark.parametrize(
    ("now", "before", "delta", "arrow"),
    [
        (72.7, 75.8, -3.1, "down"),
        (61.0, 60.0, 1.0, "up"),
        (60.9, 60.0, 0.9, "same"),
        (59.1, 60.0, -0.9, "same"),
        (60.0, 60.0, 0.0, "same"),
    ],
)
def test_trend(now: float, before: float, delta: float, arrow: str) -> None:
    t = hm.trend(now, hm.band(now), before, hm.band(before))
    assert (t.delta, t.arrow) == (delta, arrow)


def test_trend_band_change_and_unknowns() -> None:
    assert hm.trend(72.7, "amber", 75.8, "green").band_changed
    assert not hm.trend(72.7, "amber", 74.0, "amber").band_changed
    assert hm.trend(None, None, 70.0, "amber") == hm.Trend(None, None, "amber", None)
    assert hm.trend(70.0, "amber", None, None).delta is None


def test_history_keeps_the_last_twelve_and_replaces_a_run_on_the_same_day() -> None:
    earlier = [{"as_of": f"2026-{m:02d}-01", "score": float(m)} for m in range(1, 13)]
    found = hm.extend_history(earlier, as_of=D(2027, 1, 1), score=50.0)
    assert len(found) == 12 and found[0] == {"as_of": "2026-02-01", "score": 2.0} and found[-1]["score"] == 50.0
    again = hm.extend_history(found, as_of=D(2027, 1, 1), score=55.0)
    assert again[-1] == {"as_of": "2027-01-01", "score": 55.0} and len(again) == 12
    # Later entries (a run judged after this date), bad dates and non-numbers are dropped.
    odd = [{"as_of": "2027-02-01", "score": 1.0}, {"as_of": "soon", "score": 2.0}, {"as_of": "2026-05-01", "score": "x"}]
    assert hm.extend_history(odd, as_of=D(2027, 1, 1), score=None) == [{"as_of": "2027-01-01", "score": None}]


# -- acceptance on the fixtures (the same numbers through real runs: test_account_health_runs.py) ---------
@pytest.mark.parametrize(
    ("name", "as_of", "score", "band", "components", "kpis"),
    [
        (
            "employee-engagement",
            D(2027, 4, 5),
            60.0,
            "amber",
            {"outcome": 100, "leading": 60, "money": 0},
            {"engagement-score": 60},
        ),
        (
            "order-to-ship",
            D(2026, 7, 10),
            72.7,
            "amber",
            {"outcome": 100, "leading": 57.2, "money": 47.3},
            {"orders-waiting-stock": 14.4},
        ),
        ("ad-campaign", D(2026, 6, 1), 100.0, "green", {"money": 100}, {}),
    ],
)
def test_the_acceptance_numbers_on_the_fixtures(
    name: str, as_of: dt.date, score: float, band: str, components: dict, kpis: dict
) -> None:
    h = hm.engagement_health(read_engagement(FIXTURES / f"{name}.yaml"), None, as_of=as_of)
    assert (h.score, h.band, h.override) == (score, band, False)
    assert {k: round(c.score, 1) for k, c in h.components.items() if c.known} == components
    for kpi_id, expected in kpis.items():
        assert round(h.kpis[kpi_id], 1) == expected


# -- the customer's own view from the pulse (csm_nb.method.pulse) ------------------------------------------
def _pulse_answers(*rows: tuple[str, str, str, float]) -> list:
    from csm_nb.model import PulseAnswer

    return [PulseAnswer(d, who, outcome, s) for d, who, outcome, s in rows]


@pytest.mark.parametrize(
    ("pulse", "events", "as_of", "score", "evidence"),
    [
        # The acceptance numbers: latest satisfactions 4, 6 and 8 give 10 x 6 = 60 (the survey is not read then).
        (
            [("2027-06-30", "Priya", "a", 4), ("2027-06-30", "Priya", "b", 6), ("2027-06-30", "Tom", "c", 8)],
            [Event("2027-06-01", "survey", score=9, scale=10)],
            D(2027, 7, 5),
            60.0,
            "mean 6.0 of 10 over the latest pulse answer to 3 desired outcomes since 6 Jan 2027",
        ),
        # Each outcome's latest round; two respondents in a round are averaged (c: (6 + 10) / 2 = 8).
        (
            [
                ("2027-03-31", "Priya", "a", 2),
                ("2027-06-30", "Priya", "a", 4),
                ("2027-05-01", "Priya", "b", 6),
                ("2027-06-30", "Priya", "c", 6),
                ("2027-06-30", "Tom", "c", 10),
            ],
            [],
            D(2027, 7, 5),
            60.0,
            "3 desired outcomes",
        ),
        # No pulse answer in the 180 days: the survey events, as before.
        (
            [("2026-12-01", "Priya", "a", 2)],
            [Event("2027-06-01", "survey", score=4, scale=5, respondent="Tom")],
            D(2027, 7, 5),
            80.0,
            "1 respondent",
        ),
        # Neither: not known.
        ([("2027-07-06", "Priya", "a", 2)], [], D(2027, 7, 5), None, "no satisfaction rating"),
    ],
)
def test_the_customer_view_reads_the_pulse_first(pulse: list, events: list, as_of: dt.date, score, evidence: str) -> None:
    e = Engagement("acme", "Acme", events=events, pulse=_pulse_answers(*pulse))
    c = hm.customer_view_component(e, 1.0, as_of=as_of)
    assert (c.score, c.known) == (score, score is not None)
    assert evidence in c.evidence
    assert hm.engagement_health(e, None, as_of=as_of).components["customer_view"].score == score


def test_a_pulse_answer_makes_an_engagement_scorable() -> None:
    assert hm.scorable(Engagement("acme", "Acme", pulse=_pulse_answers(("2027-06-30", "Priya", "a", 4))))
    assert not hm.scorable(Engagement("acme", "Acme"))
