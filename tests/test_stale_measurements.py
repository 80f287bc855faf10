"""Stale measurements: a KPI's next figure is due one period after the last one and "measurement overdue"
once ``as_of`` is past that plus a grace by frequency; progress shows it, the value report asks the owner."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method import progress as pg
from csm_nb.model import Engagement, Kpi, Measurement, Outcome
from csm_nb.pages import progress as progress_page
from csm_nb.pages import value_report

D = dt.date


def kpi(frequency: str | None = "monthly", **changes) -> Kpi:
    fields = dict(
        id="waste",
        outcome="o",
        name="Material per unit",
        kind="lagging",
        unit="kg",
        direction="decrease",
        baseline=1.25,
        target=1.0,
        start="2019-01-01",
        deadline="end December 2020",
        frequency=frequency,
        owner="Tomas Reyes",
    )
    fields.update(changes)
    return Kpi(**fields)


@pytest.mark.parametrize(
    ("frequency", "grace"),
    [("daily", 1), ("weekly", 3), ("fortnightly", 5), ("monthly", 10), ("quarterly", 20), ("half-yearly", 30), ("yearly", 45)],
)
def test_grace_days_by_frequency(frequency, grace):
    assert pg.grace_days(frequency) == grace


# (frequency, last measured day, as_of, next due, overdue, period words)
CASES = [
    # Monthly, last figure 1 March 2020: the March figure is due 1 April, 10 days' grace to 11 April.
    ("monthly", "2020-03-01", D(2020, 4, 11), D(2020, 4, 1), False, "March 2020"),
    ("monthly", "2020-03-01", D(2020, 4, 12), D(2020, 4, 1), True, "March 2020"),
    # Month ends: last figure 31 January, the next is due 29 February (a leap year), grace to 10 March.
    ("monthly", "2020-01-31", D(2020, 3, 10), D(2020, 2, 29), False, "month to 28 Feb 2020"),
    ("monthly", "2020-01-31", D(2020, 3, 11), D(2020, 2, 29), True, "month to 28 Feb 2020"),
    # Weekly: 3 days' grace.
    ("weekly", "2020-03-02", D(2020, 3, 12), D(2020, 3, 9), False, "week to 8 Mar 2020"),
    ("weekly", "2020-03-02", D(2020, 3, 13), D(2020, 3, 9), True, "week to 8 Mar 2020"),
    # Quarterly: 20 days.
    ("quarterly", "2020-01-01", D(2020, 4, 21), D(2020, 4, 1), False, "quarter to 31 Mar 2020"),
    ("quarterly", "2020-01-01", D(2020, 4, 22), D(2020, 4, 1), True, "quarter to 31 Mar 2020"),
    # Yearly: 45 days.
    ("yearly", "2020-01-01", D(2021, 2, 15), D(2021, 1, 1), False, "2020"),
    ("yearly", "2020-01-01", D(2021, 2, 16), D(2021, 1, 1), True, "2020"),
]


@pytest.mark.parametrize(("frequency", "last", "as_of", "due", "overdue", "period"), CASES)
def test_measurement_overdue_past_the_next_period_plus_grace(frequency, last, as_of, due, overdue, period):
    tracked = pg.track(kpi(frequency), [Measurement("waste", "2019-01-01", 1.25), Measurement("waste", last, 1.1)])
    found = pg.freshness(tracked, as_of=as_of)
    assert (found.due, found.overdue, found.period) == (due, overdue, period)
    assert found.days_overdue == (1 if overdue else 0)


def test_measured_by_period_index():
    # Month 14 of a KPI from 1 January 2019 is 1 March 2020.
    tracked = pg.track(kpi(), [Measurement("waste", 14, 1.09)])
    found = pg.freshness(tracked, as_of=D(2020, 5, 15))
    assert (found.due, found.overdue, found.overdue_from, found.days_overdue) == (D(2020, 4, 1), True, D(2020, 4, 12), 34)
    assert found.as_json() == {
        "next_due": "2020-04-01",
        "grace_days": 10,
        "measurement_overdue": True,
        "overdue_from": "2020-04-12",
        "period": "March 2020",
    }


@pytest.mark.parametrize(
    ("changes", "as_of", "expected"),
    [
        # Never measured, started in the past: overdue from the first period's end + grace (1 Feb + 10 days).
        ({}, D(2019, 2, 11), (D(2019, 2, 1), False, True)),
        ({}, D(2019, 2, 12), (D(2019, 2, 1), True, True)),
        ({"frequency": None}, D(2020, 1, 1), None),  # nobody agreed how often: not judged
        ({"start": None, "deadline": "24 months"}, D(2020, 1, 1), None),  # nothing to count from
        ({"start": "2021-01-01", "deadline": "2022-01-01"}, D(2020, 1, 1), None),  # starts later
    ],
)
def test_a_kpi_never_measured(changes, as_of, expected):
    tracked = pg.track(kpi(**changes), [])
    found = pg.freshness(tracked, as_of=as_of)
    assert (None if found is None else (found.due, found.overdue, found.first)) == expected


@given(
    st.sampled_from(["weekly", "fortnightly", "monthly", "quarterly", "half-yearly", "yearly"]),
    st.dates(D(2019, 1, 2), D(2020, 12, 1)),
    st.integers(0, 800),
)
def test_overdue_exactly_when_as_of_is_past_the_due_date_plus_grace(frequency, last, days_after):
    tracked = pg.track(kpi(frequency, deadline="2021-01-01"), [Measurement("waste", last.isoformat(), 1.2)])
    as_of = last + dt.timedelta(days=days_after)
    found = pg.freshness(tracked, as_of=as_of)
    due = pg.next_due(tracked.kpi, last)
    assert found.due == due and due > last
    assert found.overdue is (as_of > due + dt.timedelta(days=pg.grace_days(frequency)))


# -- the reports ------------------------------------------------------------------------------------------
def engagement(*kpis: Kpi, measurements: list[Measurement]) -> Engagement:
    return Engagement("e", "Hartwell", outcomes=[Outcome("o")], kpis=list(kpis), measurements=measurements)


def test_progress_shows_measurement_overdue():
    e = engagement(kpi(), measurements=[Measurement("waste", 0, 1.25), Measurement("waste", 14, 1.09)])
    fresh = progress_page.page_for(e, as_of=D(2020, 4, 11))
    assert "measurement overdue" not in str(fresh.summary_table()) and fresh.results()["measurement_overdue"] == []
    late = progress_page.page_for(e, as_of=D(2020, 5, 15))
    assert "measurement overdue" in str(late.summary_table())
    assert "Measurement overdue: Material per unit (the March 2020 figure, due 1 April 2020)." in str(late.verdict())
    r = late.results()
    assert r["measurement_overdue"] == ["waste"]
    assert (r["kpis"]["waste"]["measurement_overdue"], r["kpis"]["waste"]["next_due"]) == (True, "2020-04-01")


@pytest.mark.parametrize(
    ("owner", "asked"),
    [("Tomas Reyes", "Tomas Reyes"), (None, "the KPI's owner")],
)
def test_the_value_report_asks_the_owner_for_the_figure(owner, asked):
    e = engagement(kpi(owner=owner), measurements=[Measurement("waste", 0, 1.25), Measurement("waste", 14, 1.09)])
    page = value_report.page_for(e, as_of=D(2020, 5, 15))
    expected = f"Ask {asked} for Material per unit's March 2020 figure (due 1 April 2020, now overdue)."
    assert expected in page.actions()
    assert page.results()["kpis"]["waste"]["measurement_overdue"] is True
    assert not [a for a in value_report.page_for(e, as_of=D(2020, 4, 11)).actions() if a.startswith("Ask")]


def test_overdue_asks_are_capped_so_the_report_stays_one_page():
    kpis = [kpi(id=f"k{i}", name=f"KPI {i}") for i in range(5)]
    rows = [Measurement(f"k{i}", 14, 1.1) for i in range(5)]
    page = value_report.page_for(engagement(*kpis, measurements=rows), as_of=D(2020, 5, 15))
    asks = [a for a in page.actions() if a.startswith("Ask")]
    assert len(asks) == value_report.MAX_OVERDUE_ACTIONS + 1
    assert asks[-1] == "Ask for the overdue figures of KPI 2, KPI 3, KPI 4."
