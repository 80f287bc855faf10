"""Progress maths (csm_nb.method.progress), the progress page, measurement imports, and
the order-to-ship worked example through a real ``csm-nb run progress``."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reading import plain

from csm_nb import cli
from csm_nb.data.tables import read_measurements
from csm_nb.errors import InputError
from csm_nb.method import progress as pg
from csm_nb.model import Engagement, Kpi, Measurement
from csm_nb.pages import progress as page_mod

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).parent / "fixtures"

# The worked example: 30 days -> 15 days in 10 months; actuals lag for three
# months, then improve faster than planned (examples/order-to-ship-measurements.csv).
OTS_VALUES = [30, 29.25, 28.5, 27.75, 23.25, 21.3, 19.2]
OTS_PROGRESS = [0.0, 0.05, 0.10, 0.15, 0.45, 0.58, 0.72]  # (30 - v) / 15, by hand
OTS_STATUS = ["on_plan", "behind", "behind", "behind", "ahead", "ahead", "ahead"]


def ots_kpi(**changes) -> Kpi:
    fields = dict(
        id="order-to-ship-days",
        name="Order-to-ship time",
        kind="lagging",
        unit="days",
        direction="decrease",
        baseline=30,
        target=15,
        start="2026-01-01",
        deadline="10 months",
        frequency="monthly",
    )
    fields.update(changes)
    return Kpi(**fields)


def ots_rows(values=OTS_VALUES) -> list[Measurement]:
    return [Measurement("order-to-ship-days", i, float(v)) for i, v in enumerate(values)]


# -- normalised progress ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "baseline", "target", "expected"),
    [
        (30, 30, 15, 0.0),  # month 0 = 0 %
        (15, 30, 15, 1.0),  # month 10 = 100 %
        (22.5, 30, 15, 0.5),  # order-to-ship: 30 -> 15 days, so 22.5 days is half way
        (33, 30, 15, -0.2),  # worse than the baseline stays negative
        (12, 30, 15, 1.2),  # past the target is kept, not clipped
        (65, 40, 90, 0.5),  # a KPI that rises
        (35, 40, 90, -0.1),
    ],
)
def test_normalised_progress(value, baseline, target, expected):
    assert pg.normalised_progress(value, baseline=baseline, target=target) == pytest.approx(expected, abs=1e-12)


def test_baseline_equal_to_target_is_refused_naming_the_kpi():
    with pytest.raises(InputError, match=r"KPI 'nps': baseline and target are both 40"):
        pg.track(Kpi("nps", baseline=40, target=40, deadline="6 months"), [])


@pytest.mark.parametrize(
    ("kpi", "message"),
    [
        (
            Kpi("churn", direction="decrease", baseline=5, target=8, deadline="6 months"),
            r"KPI 'churn' should decrease, but its target 8 is above its baseline 5",
        ),
        (
            Kpi("seats", direction="increase", baseline=50, target=10, deadline="6 months"),
            r"KPI 'seats' should increase, but its target 10 is below its baseline 50",
        ),
        (Kpi("seats", baseline=None, target=10, deadline="6 months"), r"KPI 'seats' has no baseline"),
        (Kpi("seats", baseline=1, target=10, deadline="when it is done"), r"KPI 'seats' has no usable deadline"),
        (Kpi("seats", baseline=1, target=10, deadline="2026-06-30"), r"KPI 'seats': a dated deadline needs a start date"),
    ],
)
def test_kpis_that_cannot_be_tracked_are_refused_in_one_line(kpi, message):
    with pytest.raises(InputError, match=message):
        pg.track(kpi, [])


@given(
    baseline=st.floats(-1e6, 1e6, allow_nan=False),
    distance=st.floats(1e-3, 1e6, allow_nan=False),
    fraction=st.floats(-2, 3, allow_nan=False),
    falling=st.booleans(),
)
def test_progress_and_value_are_inverses_for_rising_and_falling_kpis(baseline, distance, fraction, falling):
    target = baseline - distance if falling else baseline + distance
    value = pg.value_at_progress(fraction, baseline=baseline, target=target)
    assert pg.normalised_progress(value, baseline=baseline, target=target) == pytest.approx(fraction, abs=1e-6)


@given(baseline=st.floats(-1e4, 1e4), distance=st.floats(0.01, 1e4), value=st.floats(-1e5, 1e5))
def test_a_falling_kpi_is_the_mirror_of_a_rising_one(baseline, distance, value):
    rising = pg.normalised_progress(value, baseline=baseline, target=baseline + distance)
    falling = pg.normalised_progress(2 * baseline - value, baseline=baseline, target=baseline - distance)
    assert falling == pytest.approx(rising, rel=1e-9, abs=1e-9)


# -- the plan ------------------------------------------------------------------------------
def test_linear_plan_is_ten_percent_a_month():
    t = pg.track(ots_kpi(), ots_rows())
    assert [pg.plan_at(m, t.plan) for m in range(11)] == pytest.approx([m / 10 for m in range(11)])
    assert t.planned == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert pg.plan_at(12, t.plan) == 1.0 and pg.plan_at(-1, t.plan) == 0.0  # flat outside the plan


def test_explicit_milestones_are_in_kpi_units_and_interpolated():
    # Agreed: 27 days by month 3 (20 %), 21 days by month 6 (60 %), then linear to 15 at month 10.
    t = pg.track(ots_kpi(milestones={3: 27, 6: 21}), ots_rows())
    assert [x for x, _ in t.plan] == [0, 3, 6, 10]
    assert [p for _, p in t.plan] == pytest.approx([0, 0.2, 0.6, 1.0])
    assert pg.plan_at(4.5, t.plan) == pytest.approx(0.4)
    assert pg.plan_at(8, t.plan) == pytest.approx(0.8)
    assert t.planned == pytest.approx([0, 0.2 / 3, 0.4 / 3, 0.2, 0.2 + 0.4 / 3, 0.2 + 0.8 / 3, 0.6])


@pytest.mark.parametrize(
    ("actual", "planned", "tolerance", "expected"),
    [
        (0.45, 0.40, 0.02, "ahead"),
        (0.45, 0.40, 0.05, "on_plan"),  # exactly 5 points: inside a 5-point tolerance despite float noise
        (0.35, 0.40, 0.05, "on_plan"),
        (0.34, 0.40, 0.05, "behind"),
        (0.40, 0.40, 0.0, "on_plan"),
        (-0.1, 0.0, 0.02, "behind"),
    ],
)
def test_status_with_tolerance(actual, planned, tolerance, expected):
    assert pg.status(actual, planned, tolerance=tolerance) == expected


# -- crossings -----------------------------------------------------------------------------
def test_order_to_ship_crosses_the_plan_in_the_second_half_of_month_4():
    t = pg.track(ots_kpi(), ots_rows())
    assert t.progress == pytest.approx(OTS_PROGRESS)
    assert t.status == OTS_STATUS
    # Gap -0.15 at month 3, +0.05 at month 4: closes 0.15 / 0.20 of the way into month 4.
    assert [(c.period, c.to) for c in t.crossings] == [(pytest.approx(3.75), "ahead")]


@pytest.mark.parametrize(
    ("xs", "actual", "plan", "expected"),
    [
        ([0, 1, 2], [0.2, 0.1, 0.1], [(0, 0), (2, 0.2)], [(1.0 + 0, "behind")]),  # touches at 1, then below
        ([0, 2], [0.0, 0.4], [(0, 0), (1, 0.3), (2, 0.4)], []),  # starts and ends on the plan, below in between
        ([0, 2], [0.1, 0.1], [(0, 0), (1, 0.2), (2, 0.2)], [(0.5, "behind")]),  # crossing before a milestone kink
        ([0, 1, 2], [0.0, 0.2, 0.2], [(0, 0), (2, 0.2)], []),  # touches the plan at the ends only
        ([0, 1, 2, 3], [0.1, -0.1, 0.3, 0.1], [(0, 0), (3, 0.3)], [(1 / 3, "behind"), (5 / 3, "ahead"), (7 / 3, "behind")]),
    ],
)
def test_crossings_by_linear_interpolation(xs, actual, plan, expected):
    assert [(c.period, c.to) for c in pg.crossings(xs, actual, plan)] == [(pytest.approx(p), to) for p, to in expected]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=2, max_size=12))
def test_at_every_crossing_actual_equals_plan_and_the_sign_flips(values):
    xs = [float(i) for i in range(len(values))]
    plan = pg.plan_points(10, {3: 0.1, 7: 0.8})
    found = pg.crossings(xs, values, plan)
    for c in found:
        assert pg.interpolate(c.period, xs, values) == pytest.approx(pg.plan_at(c.period, plan), abs=1e-6)
    # Directions alternate: you cannot go ahead twice without falling behind in between.
    assert all(a.to != b.to for a, b in zip(found, found[1:]))
    # The last crossing says which side the line ends on (unless it ends exactly on the plan).
    end_gap = round(values[-1] - pg.plan_at(xs[-1], plan), 12)
    if found and end_gap != 0:
        assert found[-1].to == ("ahead" if end_gap > 0 else "behind")


# -- the forecast -----------------------------------------------------------------------------
def test_forecast_for_order_to_ship_from_the_last_three_months():
    t = pg.track(ots_kpi(), ots_rows())
    # Least squares through (4, .45), (5, .58), (6, .72): slope .135, mean (5, .58333);
    # 100 % at 5 + (1 - .58333) / .135 = 8.0864 months, before the deadline (10).
    assert t.forecast.slope == pytest.approx(0.135)
    assert t.forecast.period == pytest.approx(5 + (1 - 1.75 / 3) / 0.135)
    assert "least-squares line through the 3 measurements of the last 3 periods" == t.forecast.method
    assert t.on_time is True


@pytest.mark.parametrize(
    ("xs", "progress", "period", "method"),
    [
        ([0, 1, 2], [0.1, 0.1, 0.05], None, "not improving, so not at this rate"),
        ([0, 1, 2], [0.2, 0.2, 0.2], None, "not improving"),
        ([0], [0.2], None, "too few measurements"),
        ([0, 1, 2], [0.5, 0.9, 1.1], 1.5, "already met the target"),
        ([0, 1, 2], [0.1, 0.2, 0.3], 9.0, "least-squares"),
    ],
)
def test_forecast_cases(xs, progress, period, method):
    f = pg.forecast_target(xs, progress)
    assert f.period == (pytest.approx(period) if period is not None else None)
    assert method in f.method


# -- periods: weekly, dated, date deadlines --------------------------------------------------
def weekly_kpi(**changes) -> Kpi:
    fields = dict(
        id="stock-waits",
        name="Orders waiting on stock",
        kind="leading",
        unit="%",
        direction="decrease",
        baseline=18,
        target=6,
        start="2026-01-01",
        deadline="10 months",
        frequency="weekly",
    )
    fields.update(changes)
    return Kpi(**fields)


def test_a_weekly_date_indexed_csv_against_a_monthly_plan():
    rows = read_measurements(FIXTURES / "measurements_weekly_dates.csv")
    t = pg.track(weekly_kpi(), rows)
    assert t.timeline.unit == "month" and t.timeline.length == 10
    # 16 February is 1 month and 15 of February's 28 days after 1 January.
    assert t.periods[-1] == pytest.approx(1 + 15 / 28)
    assert t.periods[0] == pytest.approx(4 / 31)
    assert t.planned[-1] == pytest.approx((1 + 15 / 28) / 10)
    assert t.progress[-1] == pytest.approx(3 / 12)  # 18 -> 15 of the way to 6
    assert t.status[-1] == "ahead" and len(t.status) == 7
    assert t.results()["forecast_date"] is not None


def test_integer_periods_of_a_weekly_kpi_count_weeks():
    rows = [Measurement("stock-waits", w, 18 - 0.3 * w) for w in range(14)]
    t = pg.track(weekly_kpi(), rows)
    assert t.periods[13] == pytest.approx(13 * 7 / (365.25 / 12))  # 2.99 months
    assert t.progress[13] == pytest.approx(0.3 * 13 / 12)


def test_a_date_and_an_index_for_the_same_moment_keep_the_last_given():
    rows = [Measurement("order-to-ship-days", 4, 24.0), Measurement("order-to-ship-days", "2026-05-01", 23.25)]
    t = pg.track(ots_kpi(), rows)
    assert t.periods == [4.0] and t.values == [23.25]


def test_a_dated_measurement_needs_the_kpi_start():
    with pytest.raises(InputError, match=r"KPI 'stock-waits': the measurement dated 2026-02-02 needs the KPI's start date"):
        pg.track(weekly_kpi(start=None), [Measurement("stock-waits", "2026-02-02", 15.0)])


@pytest.mark.parametrize(
    ("start", "deadline", "frequency", "unit", "length"),
    [
        ("2027-01-01", "2027-11-01", "monthly", "month", 10.0),  # a date deadline is that day: 10 whole months
        ("2027-01-01", "2027-12-31", "monthly", "month", 11 + 30 / 31),  # 11 months to 1 December, then 30 of its 31 days
        ("2027-01-01", "end December 2027", "monthly", "month", 11 + 30 / 31),  # the same day, in words
        ("2026-01-01", "10 months", "weekly", "month", 10.0),
        ("2026-01-05", "2026-03-29", "weekly", "week", (27 + 28 + 28) / 7),  # 27 days to 1 Feb, 28 to 1 Mar, 28 more
        ("2026-01-05", "90 days from the start", "weekly", "day", 90.0),
        ("2026-01-01", "4 quarters", None, "quarter", 4.0),
        (None, "26 weeks", "weekly", "week", 26.0),
    ],
)
def test_timeline(start, deadline, frequency, unit, length):
    t = pg.timeline(Kpi("k", start=start, deadline=deadline, frequency=frequency))
    assert (t.unit, t.length) == (unit, pytest.approx(length))


@given(st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)), st.floats(0, 120, allow_nan=False))
def test_date_at_and_months_between_agree(start, months):
    there = pg.date_at(start, months, "month")
    assert pg.months_between(start, there) == pytest.approx(months, abs=1 / 28)


# -- the results file contract ------------------------------------------------------------
def test_results_carry_the_contract_keys_as_plain_fractions():
    r = pg.track(ots_kpi(), ots_rows()).results()
    for key in ("progress", "planned", "status", "crossings", "forecast_period"):
        assert key in r
    assert r["crossings"] == [pytest.approx(3.75)] and r["crossing_directions"] == ["ahead"]
    assert r["deadline"] == "2026-11-01" and r["forecast_date"] == "2026-09-04"
    json.dumps(r, allow_nan=False)


# -- the page (no papermill) --------------------------------------------------------------
def test_the_page_escapes_names_and_survives_a_broken_kpi():
    e = Engagement(
        "acme",
        "<b>Acme</b>",
        kpis=[
            ots_kpi(name="<script>alert(1)</script> days"),
            Kpi("broken", name="Same & same", baseline=3, target=3, deadline="6 months"),
        ],
        measurements=ots_rows(),
    )
    page = page_mod.page_for(e)
    html = "".join(str(x) for x in (page.verdict(), page.summary_table(), page.charts(), page.details()))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; days" in html
    assert "baseline and target are both 3" in html
    assert page.results()["problems"] == {"broken": pg.track_all([e.kpis[1]], [])[1]["broken"]}
    assert page.results()["counts"] == {"ahead": 1, "on_plan": 0, "behind": 0, "not_measured": 0, "cannot_track": 1}


def test_the_page_says_what_is_missing_instead_of_failing():
    no_kpis = page_mod.page_for(Engagement("acme", "Acme"))
    assert "has no KPIs yet" in str(no_kpis.verdict()) and str(no_kpis.charts()) == ""
    unmeasured = page_mod.page_for(Engagement("acme", "Acme", kpis=[ots_kpi()]))
    assert "No measurements yet" in str(unmeasured.verdict())
    assert "csm-nb import FILE --engagement acme" in str(unmeasured.verdict())
    assert unmeasured.results()["kpis"]["order-to-ship-days"]["forecast_period"] is None


# -- judged at as_of -------------------------------------------------------------------------
def test_the_page_judged_at_as_of_leaves_later_measurements_out_and_says_how_many():
    weekly = weekly_kpi()  # dated rows: 5 and 19 January, 2 February
    rows = ots_rows() + [
        Measurement("stock-waits", d, v) for d, v in (("2026-01-05", 18.0), ("2026-01-19", 17.0), ("2026-02-02", 16.0))
    ]
    e = Engagement("ots", "Northwind", kpis=[ots_kpi(), weekly], measurements=rows)
    # Index p of the monthly KPI is the end of month p (1 January + p months): on 1 February months 0 and 1
    # stand and months 2-6 are after; of the weekly rows, 2 February is after. On 15 May months 0-4 stand.
    page = page_mod.page_for(e, as_of=dt.date(2026, 2, 1))
    ots, stock = page.tracked
    assert ots.periods == [0.0, 1.0] and ots.values == [30.0, 29.25]
    assert stock.values == [18.0, 17.0]
    assert page.results()["measurements_after_as_of"] == 5 + 1
    note = plain(str(page.verdict()))
    assert "6 measurements dated after 1 February 2026 (the date this report is judged at) are left out." in note
    assert page.results_json()["as_of"] == "2026-02-01" and page.results_json()["audience"] == "customer"
    may = page_mod.page_for(e, as_of=dt.date(2026, 5, 15))
    assert may.tracked[0].periods == [0.0, 1.0, 2.0, 3.0, 4.0] and may.tracked[0].status[-1] == OTS_STATUS[4]
    assert may.results()["measurements_after_as_of"] == 2
    # The verdicts every results file carries are judged at the same date: the latest status is month 4's.
    assert may.results()["verdicts"]["kpis"]["order-to-ship-days"] == OTS_STATUS[4]
    everything = page_mod.page_for(e)  # no as_of: every measurement, nothing said
    assert len(everything.tracked[0].periods) == 7 and everything.results()["measurements_after_as_of"] == 0
    assert "left out" not in str(everything.verdict())


def test_a_measurement_that_cannot_be_dated_is_kept():
    undated = Kpi("k", baseline=0, target=10, deadline="10 months")  # no start date: index 9 has no day
    kept, later = pg.split_at([undated], [Measurement("k", 9, 9.0)], dt.date(2000, 1, 1))
    assert [m.period for m in kept] == [9] and later == []


def test_the_page_places_the_financial_year_with_the_engagements_fiscal_year_end():
    kpi = ots_kpi(deadline="end of this financial year")
    e = Engagement("ots", "Northwind", kpis=[kpi], measurements=ots_rows())
    assert page_mod.page_for(e).tracked[0].results()["deadline"] == "2026-12-31"
    e.fiscal_year_end = "06-30"  # the engagement file's optional key
    assert page_mod.page_for(e).tracked[0].results()["deadline"] == "2026-06-30"


@pytest.mark.parametrize(("name", "value"), [("tolerance", 0.7), ("tolerance", "5 %"), ("trend_periods", 0)])
def test_bad_settings_are_refused_naming_the_parameter(name, value):
    settings_ = {"tolerance": 0.02, "trend_periods": 3, name: value}
    with pytest.raises(InputError, match=f"parameter {name}:"):
        page_mod.check_settings(**settings_)


# -- appending measurements from the command line -------------------------------------------
def test_importing_next_months_numbers_twice_changes_nothing(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml")]) == 0
    month7 = EXAMPLES / "order-to-ship-month-7.csv"
    assert cli.main(["--db", str(db), "import", str(month7), "--engagement", "order-to-ship"]) == 0
    assert cli.main(["--db", str(db), "import", str(month7), "--engagement", "order-to-ship"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("order-to-ship: 2 added, 0 updated, 0 unchanged")
    assert out[-1].startswith("order-to-ship: 0 added, 0 updated, 2 unchanged")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT period, value FROM measurement WHERE kpi_id = 'order-to-ship-days' ORDER BY position"
        ).fetchall()
    assert rows[-1] == ("7", 17.1) and len(rows) == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kpi,period,value\nnot-a-kpi,7,1\n", "bad.csv, row 2: unknown KPI id 'not-a-kpi'; engagement 'order-to-ship' has"),
        ("kpi,period,value\norder-to-ship-days,7,fast\n", "row 2, column value: expected a number"),
    ],
)
def test_a_bad_measurement_file_changes_nothing(tmp_path, capsys, content, message):
    db = tmp_path / "s.sqlite"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml")]) == 0
    with sqlite3.connect(db) as conn:
        before = list(conn.iterdump())
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    assert cli.main(["--db", str(db), "import", str(bad), "--engagement", "order-to-ship"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert list(conn.iterdump()) == before


# -- the worked example through a real papermill run ----------------------------------------------
@pytest.fixture(scope="module")
def progress_run(tmp_path_factory) -> dict:
    """``csm-nb import`` the order-to-ship example, then ``csm-nb run progress`` (papermill)."""
    base = tmp_path_factory.mktemp("progress-run")
    db, out = base / "s.sqlite", base / "runs"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml")]) == 0
    assert cli.main(["--db", str(db), "run", "progress", "--engagement", "order-to-ship", "--out", str(out)]) == 0
    folder = out / "order-to-ship"
    return {"results": json.loads((folder / "progress.json").read_text()), "html": (folder / "progress.html").read_text()}


@pytest.mark.slow
def test_order_to_ship_through_csm_nb_run(progress_run):
    kpi = progress_run["results"]["kpis"]["order-to-ship-days"]
    assert kpi["values"] == OTS_VALUES
    assert kpi["progress"] == pytest.approx(OTS_PROGRESS)
    assert kpi["planned"] == pytest.approx([m / 10 for m in range(7)])
    assert kpi["status"] == OTS_STATUS
    # "Month 4" is the stretch from index 3 to 4: its second half is 3.5..4.0.
    (crossing,) = kpi["crossings"]
    assert 3.5 < crossing < 4.0 and crossing == pytest.approx(3.75)
    assert all(s == "ahead" for s, x in zip(kpi["status"], kpi["periods"]) if x > crossing)
    assert kpi["forecast_period"] == pytest.approx(8.0864, abs=1e-4) and kpi["on_time"] is True


@pytest.mark.slow
def test_the_weekly_kpi_in_the_example_is_placed_by_date(progress_run):
    kpi = progress_run["results"]["kpis"]["orders-waiting-stock"]
    assert len(kpi["periods"]) == 27 and kpi["period_unit"] == "month"
    assert kpi["periods"][0] == pytest.approx(4 / 31)  # Monday 5 January 2026
    assert kpi["periods"][-1] == pytest.approx(6 + 5 / 31)  # Monday 6 July 2026
    assert kpi["status"][-1] == "behind" and kpi["crossing_directions"][-1] == "behind"
    html = plain(progress_run["html"])
    assert "Order-to-ship time" in html and "<script" not in html
    # Rounded for people: month 3.75 is late April, not "month 3.75".
    assert "Crossings of the plan: ahead from late April 2026 (month 4)" in html and "month 3.7" not in html


def test_measurements_from_an_xlsx_with_date_cells_are_appended(tmp_path, capsys):
    from openpyxl import Workbook

    db = tmp_path / "s.sqlite"
    assert cli.main(["--db", str(db), "import", str(EXAMPLES / "order-to-ship.yaml")]) == 0
    book = Workbook()
    sheet = book.active
    sheet.append(["kpi", "period", "value"])
    sheet.append(["orders-waiting-stock", dt.datetime(2026, 7, 13), 12.8])
    sheet.append(["orders-waiting-stock", dt.datetime(2026, 7, 6), 12.9])  # already in the example: unchanged
    path = tmp_path / "week-28.xlsx"
    book.save(path)
    assert cli.main(["--db", str(db), "import", str(path), "--engagement", "order-to-ship"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("order-to-ship: 1 added, 0 updated, 1 unchanged")
    from csm_nb.data.store import Store

    with Store(db) as store:
        e = store.load("order-to-ship")
    t = pg.track(e.kpi("orders-waiting-stock"), e.measurements)
    assert t.periods[-1] == pytest.approx(6 + 12 / 31) and t.values[-1] == 12.8


# -- words for people: better or worse, rounded periods --------------------------------------------
@pytest.mark.parametrize(
    ("values", "short", "long_start"),
    [
        # Order-to-ship time falls from 30 days: getting shorter is better, whatever the arrow of the days.
        ([30, 28, 25, 22, 20], "better, ", "better: falling "),
        ([20, 22, 25, 28, 30], "worse, ", "worse: rising "),
        ([25, 25, 25, 25, 25], "level", "level (under half a percentage point"),
    ],
)
def test_the_trend_says_better_or_worse_for_a_kpi_that_should_fall(values, short: str, long_start: str) -> None:
    from csm_nb.pages.progress import trend_words

    t = pg.track(ots_kpi(), ots_rows(values))
    slope = t.forecast.slope * 100
    assert trend_words(t, short=True).startswith(short) and "↑" not in trend_words(t, short=True)
    assert trend_words(t).startswith(long_start)
    if short != "level":
        # The KPI's own movement a month: progress a month times the 15 days from baseline to target.
        days = t.forecast.slope * (t.target - t.baseline)
        sign = "−" if days < 0 else "+"
        assert (days < 0) == (short == "better, ")  # shorter times are the better direction
        assert trend_words(t, short=True) == f"{short}{sign}{abs(days):.1f} days a month"
        assert trend_words(t).endswith(f"{abs(days):.1f} days a month ({abs(slope):.1f} percentage points of progress)")


@pytest.mark.parametrize(
    ("start", "position", "expected"),
    [
        ("2026-01-01", 4.0, "Month 4"),
        ("2026-01-01", 4 / 31, "5 Jan 2026"),  # a weekly measurement on a monthly plan: its date, not "Month 0.13"
        (None, 3.5, "Month 3.5"),  # no start date: the position as it was given
    ],
)
def test_a_period_label_is_for_people(start: str | None, position: float, expected: str) -> None:
    t = pg.timeline(ots_kpi(start=start, deadline="10 months"))
    assert t.label(position) == expected


def test_a_moment_on_the_plan_is_rounded_to_a_whole_period() -> None:
    from csm_nb.pages.progress import when

    t = pg.track(ots_kpi(), ots_rows())
    assert when(t, 30.2) == "early July 2028 (month 30)"
    assert when(t, None) == "not at this rate"
