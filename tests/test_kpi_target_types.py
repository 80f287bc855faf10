"""KPIs with a ceiling or floor instead of a path (``target_type: stay_below | stay_above``): each
measurement within or breached, no plan line, the verdicts, the health score and the reports' words."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.errors import InputError
from csm_nb.method import health
from csm_nb.method import progress as pg
from csm_nb.method.progress import LIMIT_STATUS_KEYS, is_limit, limit_words, within_limit
from csm_nb.method.verdicts import overall_verdict, verdicts
from csm_nb.model import Engagement, Kpi, Measurement, Outcome
from csm_nb.pages import progress as progress_page
from csm_nb.pages import value_report

RELEASES = [("2019-03-01", 5.0), ("2019-10-01", 7.0), ("2020-03-01", 5.0)]  # months since the previous release


def release_kpi(**changes) -> Kpi:
    fields = dict(
        id="gap",
        outcome="speed",
        name="Months between releases",
        kind="lagging",
        unit="months",
        baseline=9,
        target=6,
        target_type="stay_below",
        start="2019-01-01",
        deadline="immediate",
        frequency="half-yearly",
        owner="Priya Nair",
    )
    fields.update(changes)
    return Kpi(**fields)


def release_rows(values=RELEASES) -> list[Measurement]:
    return [Measurement("gap", day, v) for day, v in values]


# -- the rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "limit", "target_type", "within"),
    [
        (5, 6, "stay_below", True),
        (6, 6, "stay_below", True),  # at the ceiling itself is within
        (6.01, 6, "stay_below", False),
        (7, 6, "stay_below", False),  # the release that came 7 months after the last one
        (98, 98, "stay_above", True),  # at the floor itself is within
        (99.5, 98, "stay_above", True),
        (97.9, 98, "stay_above", False),
        (-3, -2, "stay_below", True),
    ],
)
def test_within_or_breached(value, limit, target_type, within):
    assert within_limit(value, limit=limit, target_type=target_type) is within


def test_a_reach_kpi_is_not_a_limit_and_has_no_limit_rule():
    assert not is_limit(Kpi("k")) and not is_limit(Kpi("k", target_type="reach"))
    with pytest.raises(ValueError, match="not a limit"):
        within_limit(1, limit=2, target_type="reach")


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
)
def test_a_ceiling_is_kept_exactly_when_the_value_is_at_or_below_it(value, ceiling):
    assert within_limit(value, limit=ceiling, target_type="stay_below") is (value <= ceiling)
    assert within_limit(value, limit=ceiling, target_type="stay_above") is (value >= ceiling)
    # Only the limit itself is within both.
    both = within_limit(value, limit=ceiling, target_type="stay_below") and within_limit(
        value, limit=ceiling, target_type="stay_above"
    )
    assert both is (value == ceiling)


@given(st.lists(st.floats(0, 24, allow_nan=False), min_size=1, max_size=12), st.floats(0.5, 20, allow_nan=False))
def test_tracking_a_ceiling_judges_every_measurement_and_maps_to_the_plan_statuses(values, ceiling):
    kpi = release_kpi(target=ceiling, deadline=None)
    tracked = pg.track(kpi, [Measurement("gap", i, v) for i, v in enumerate(values)])
    assert tracked.limits == ["within" if v <= ceiling else "breached" for v in values]
    assert tracked.status == [LIMIT_STATUS_KEYS[w] for w in tracked.limits]
    assert tracked.on_time is None and tracked.crossings == [] and tracked.plan == []


# -- tracking -----------------------------------------------------------------------------------
def test_the_release_ceiling_breached_at_seven_months_and_within_at_the_latest():
    t = pg.track(release_kpi(), release_rows())
    assert t.values == [5.0, 7.0, 5.0]
    assert t.limits == ["within", "breached", "within"]
    assert t.status == ["on_plan", "behind", "on_plan"]
    # Dated measurements sit on the half-year axis from the start: 1 March is 2 of 6 months in.
    assert t.periods == pytest.approx([2 / 6, 9 / 6, 14 / 6])
    assert t.progress == [None, None, None] and t.planned == [None, None, None]
    assert (t.forecast.period, t.gap, t.target_type) == (None, None, "stay_below")
    r = t.results()
    assert (r["target_type"], r["limit_status"], r["target"], r["baseline"]) == (
        "stay_below",
        ["within", "breached", "within"],
        6.0,
        9.0,
    )
    json.dumps(r, allow_nan=False)


@pytest.mark.parametrize(
    ("changes", "periods"),
    [
        ({"deadline": "immediate"}, 0.0),  # holds from the start
        ({"deadline": None}, 0.0),  # a limit without a deadline holds from the start too
        ({"deadline": "2019-07-01"}, 1.0),  # from a date: one half-year in
        ({"deadline": "end December 2019"}, pytest.approx(1 + 5 / 6 + 30 / 31 / 6)),
    ],
)
def test_a_limit_takes_immediate_no_deadline_or_a_date(changes, periods):
    assert pg.timeline(release_kpi(**changes)).length == periods


def test_a_limit_needs_its_target_and_no_baseline():
    with pytest.raises(InputError, match=r"KPI 'gap' has no target; a stay_below KPI needs its limit as target"):
        pg.track(release_kpi(target=None), [])
    t = pg.track(release_kpi(baseline=None), release_rows())
    assert t.results()["baseline"] is None and t.limits[-1] == "within"


def test_a_reach_kpi_still_refuses_an_immediate_deadline():
    with pytest.raises(InputError, match="is not after the start"):
        pg.track(release_kpi(target_type=None, deadline="immediate"), [])


def test_measurements_of_a_limit_from_the_start_pass_the_window_check():
    pg.check_measurement_window([release_kpi()], enumerate(release_rows(), start=2), source="m.csv")


def test_a_floor():
    kpi = Kpi("uptime", unit="%", target=99.5, target_type="stay_above", start="2026-01-01", frequency="monthly")
    t = pg.track(kpi, [Measurement("uptime", i, v) for i, v in enumerate([99.9, 99.5, 99.1])])
    assert t.limits == ["within", "within", "breached"]
    assert limit_words("breached", target_type="stay_above", limit="99.5 %") == "below the floor of 99.5 %"


# -- verdicts and health ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "values", "overall", "outcome"),
    [
        ("lagging", RELEASES, "on_track", "on_plan"),  # within at the latest
        ("lagging", RELEASES[:2], "off_track", "behind"),  # breached at the latest: the outcome's evidence fails
        ("leading", RELEASES[:2], "attention", "behind"),  # an early indicator breached: a point to watch
    ],
)
def test_the_one_verdict_rule_reads_a_limit(kind, values, overall, outcome):
    tracked = [pg.track(release_kpi(kind=kind), release_rows(values))]
    found = verdicts(outcome_ids=["speed"], tracked=tracked, money=None, problems={})
    assert (found.overall, found.outcomes["speed"]) == (overall, outcome)
    assert overall_verdict(tracked=tracked, money=None, problems={}) == overall


@pytest.mark.parametrize(("values", "score"), [(RELEASES, 100.0), (RELEASES[:2], 0.0), (RELEASES[:1], 100.0)])
def test_the_health_score_of_a_limit_is_100_within_and_0_breached(values, score):
    (scored,) = health.kpi_health([pg.track(release_kpi(), release_rows(values))])
    assert (scored.score, scored.on_time) == (score, None)
    words = "within the ceiling of 6 months" if score else "above the ceiling of 6 months"
    assert scored.evidence == f"{values[-1][1]:g} months, {words}"


def test_a_breached_lagging_ceiling_turns_the_health_band_red():
    e = Engagement("e", "Hartwell", outcomes=[Outcome("speed")], kpis=[release_kpi()], measurements=release_rows(RELEASES[:2]))
    found = health.engagement_health(e, None, as_of=dt.date(2019, 12, 1))
    assert found.components["outcome"].score == 0.0 and found.band == "red"


# -- the reports' words ---------------------------------------------------------------------------------
def fixture_engagement(values=RELEASES) -> Engagement:
    return Engagement(
        "prep",
        "Hartwell <Components>",
        outcomes=[Outcome("speed", description="Faster releases")],
        kpis=[release_kpi()],
        measurements=release_rows(values),
    )


def test_the_progress_page_shows_the_ceiling_and_marks_the_breach():
    page = progress_page.page_for(fixture_engagement(), as_of=dt.date(2020, 3, 31))
    table = str(page.summary_table())
    assert "ceiling 6 months" in table and "within the ceiling of 6 months" in table
    assert "no target date: a ceiling to stay within" in table
    verdict = str(page.verdict())
    assert "Months between releases within the ceiling of 6 months" in verdict
    details = str(page.details())
    assert details.count("above the ceiling of 6 months") == 1 and "Breaches of the ceiling: 1 of 3 measurements" in details
    chart = str(progress_page.kpi_chart(page.tracked[0]))
    assert "breached: 7 months" in chart and "Ceiling (6 months)" in chart
    assert "Plan (" not in chart  # no plan line for a limit
    r = page.results()["kpis"]["gap"]
    assert (r["limit_status"], r["status"], r["progress"]) == (
        ["within", "breached", "within"],
        ["on_plan", "behind", "on_plan"],
        [None] * 3,
    )


def test_the_value_report_reads_a_ceiling_in_plain_words():
    page = value_report.page_for(fixture_engagement(), as_of=dt.date(2020, 3, 31))
    (outcome,) = page.results()["outcomes"]
    assert outcome["basis"] == "measured by Months between releases: 5 months, within the ceiling of 6 months"
    assert outcome["status"] == "on_plan"
    kpi = page.results()["kpis"]["gap"]
    assert (kpi["target_type"], kpi["limit"], kpi["limit_status"], kpi["progress"]) == ("stay_below", 6.0, "within", None)
    assert "within the ceiling</span>" in str(page.kpis()) and "ceiling: 6 months" in str(page.kpis())


def test_the_value_report_asks_for_corrective_action_on_a_breach():
    page = value_report.page_for(fixture_engagement(RELEASES[:2]), as_of=dt.date(2019, 12, 31))
    assert "Agree corrective actions: Months between releases: 7 months, above the ceiling of 6 months." in page.actions()
    assert page.results()["overall"] == "off_track"
    summary = str(page.summary())
    assert "behind: Months between releases (above the ceiling of 6 months)" in summary


def test_the_kpi_register_reads_a_ceiling_as_a_ceiling_and_names_the_customers_measure_it_serves() -> None:
    from reading import plain

    from csm_nb.pages.kpi_workshop import page_for

    jobs = [
        {
            "id": "ship",
            "statement": "get new features to customers",
            "steps": [
                {
                    "id": "release",
                    "name": "release",
                    "desired_outcomes": [{"id": "wait", "statement": "minimise the wait for a fix"}],
                }
            ],
        }
    ]
    kpi = release_kpi(desired_outcome="wait")
    other = Kpi("cycle", outcome="speed", name="Cycle time", kind="leading", baseline=30, target=20, direction="decrease")
    engagement = Engagement(
        "prep", "Prep", outcomes=[Outcome("speed", description="Speed to market")], kpis=[kpi, other], jobs=jobs
    )

    def text(html: str) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", plain(html))).split())

    register = text(str(page_for(engagement).register()))
    assert (
        "Months between releases months stay at or below – at most 6 half-yearly Priya Nair minimise the wait for a fix"
        in register
    )
    assert "Cycle time should fall 30 20" in register
    # With no KPI naming a desired outcome, the column is not there at all.
    assert "Serves" not in text(str(page_for(Engagement("p", "P", kpis=[other])).register()))
