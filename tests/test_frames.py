"""pandas is the table of the package: the engagement's tables as DataFrames, both ways (csm_nb.frames),
and the pages' DataFrames (``page.cash_flow``, ``page.measurements``, ``page.kpis``, ``page.progress``)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reading import plain

from csm_nb.data.engagement import read_engagement
from csm_nb.errors import InputError
from csm_nb.frames import (
    CASH_FLOW_COLUMNS,
    cash_flow_frame,
    cash_flow_lines,
    known,
    kpi_frame,
    measurement_list,
    measurements_frame,
)
from csm_nb.method import cashflow, progress
from csm_nb.model import CashFlowLine, Kpi
from csm_nb.pages import cash_flow as cash_flow_page
from csm_nb.pages import kpi_workshop as kpi_workshop_page
from csm_nb.pages import progress as progress_page
from csm_nb.vocabulary import money
from tests.conftest import AD_REVENUE_ACT, AD_REVENUE_EST, ad_campaign

EXAMPLES = Path(__file__).parent.parent / "examples"

amounts = st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda v: round(v, 2)))
lines = st.lists(
    st.builds(
        CashFlowLine,
        period=st.from_regex(r"[A-Z][a-z]{0,6} [0-9]{1,3}", fullmatch=True),
        expenditure_est=amounts,
        expenditure_act=amounts,
        revenue_est=amounts,
        revenue_act=amounts,
    ),
    max_size=20,
)


# -- cash flow -------------------------------------------------------------------------------------
@given(lines)
def test_cash_flow_lines_round_trip_through_a_frame(records: list[CashFlowLine]) -> None:
    frame = cash_flow_frame(records)
    assert list(frame.index) == [r.period for r in records]
    assert cash_flow_lines(frame) == records
    # Not known yet is NaN in the frame, never zero.
    for r, (_, row) in zip(records, frame.iterrows()):
        assert (r.revenue_act is None) == bool(pd.isna(row["revenue_act"]))


def test_summarise_takes_a_frame_and_gives_the_same_figures() -> None:
    frame = cash_flow_frame(ad_campaign(actual_weeks=8))
    from_frame = cashflow.summarise(frame)
    from_lines = cashflow.summarise(ad_campaign(actual_weeks=8))
    assert from_frame.results() == from_lines.results()
    assert from_frame.totals["revenue_est"] == sum(AD_REVENUE_EST)
    assert from_frame.to_date is not None and from_frame.to_date.revenue_act == sum(AD_REVENUE_ACT[:8])


def test_a_frame_with_the_period_as_a_column_and_text_cells_reads_like_a_file() -> None:
    frame = pd.DataFrame(
        {
            "period": ["Week 0", "Week 1"],
            "expenditure_est": ["$20,000", "(1,250.50)"],
            "expenditure_act": [None, float("nan")],
            "revenue_est": [0, ""],
            "revenue_act": ["-", None],
        }
    )
    got = cash_flow_lines(frame)
    assert got == [CashFlowLine("Week 0", 20000.0, None, 0.0, 0.0), CashFlowLine("Week 1", -1250.5, None, None, None)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(revenue_est=["12,000", "3,5"]), "cash-flow table, row 2, column revenue_est: expected a number"),
        (lambda f: f.assign(revenue_est=["12000", "abc"]), "row 2, column revenue_est: expected a number"),
        (lambda f: f.assign(revenue_est=[1.0, math.inf]), "row 2, column revenue_est: expected a finite number"),
        (lambda f: f.assign(bonus=[1, 2]), "unknown column(s) 'bonus'"),
        (lambda f: f.drop(columns=["period"]), "missing column(s) period"),
        (lambda f: f.assign(period=["Week 0", None]), "row 2, column period: expected a period label"),
    ],
)
def test_a_bad_frame_is_one_line_naming_row_and_column(change, message: str) -> None:
    frame = pd.DataFrame({"period": ["Week 0", "Week 1"], "expenditure_est": [1.0, 2.0], "revenue_est": [3.0, 4.0]})
    with pytest.raises(InputError) as info:
        cash_flow_lines(change(frame))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_summary_frame_has_signed_net_and_cumulative_columns() -> None:
    summary = cashflow.summarise(ad_campaign(actual_weeks=8))
    frame = summary.frame()
    assert list(frame.columns) == [*CASH_FLOW_COLUMNS[1:], "net_est", "net_act", "cumulative_est", "cumulative_act"]
    expected_net = [r - e for r, e in zip(AD_REVENUE_EST, [20000.0] * 8 + [0.0] * 5)]
    assert frame["net_est"].tolist() == expected_net
    assert frame["cumulative_est"].tolist() == pd.Series(expected_net).cumsum().tolist()
    # Weeks 8-12 have no actuals: NaN, and pandas' own sum skips them rather than counting zero.
    assert frame["cumulative_act"].isna().tolist() == [False] * 8 + [True] * 5
    assert frame["revenue_act"].sum() == sum(AD_REVENUE_ACT[:8])


# -- measurements and the register -------------------------------------------------------------------
def _order_to_ship():
    return read_engagement(EXAMPLES / "order-to-ship.yaml")


def test_track_takes_a_measurement_frame_and_gives_the_same_series() -> None:
    engagement = _order_to_ship()
    frame = measurements_frame(engagement.measurements)
    assert list(frame.columns) == ["kpi", "period", "value"] and len(frame) == len(engagement.measurements)
    for kpi in engagement.kpis:
        from_frame = progress.track(kpi, frame)
        from_list = progress.track(kpi, engagement.measurements)
        assert from_frame.results() == from_list.results()


def test_the_progress_series_frame_matches_the_normalised_values() -> None:
    kpi = Kpi("days", direction="decrease", baseline=30, target=15, deadline="10 months")
    rows = pd.DataFrame({"kpi": ["days"] * 3, "period": [0, "5", 7], "value": ["30", 22.5, 18]})
    series = progress.track(kpi, rows).frame()
    assert series["label"].tolist() == ["Month 0", "Month 5", "Month 7"]
    assert series["progress"].tolist() == pytest.approx([(30 - v) / (30 - 15) for v in (30, 22.5, 18)])
    assert series["planned"].tolist() == pytest.approx([0.0, 0.5, 0.7])
    assert series["status"].tolist() == ["on_plan", "on_plan", "ahead"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"kpi": ["days"], "period": ["next week"], "value": [1]}, "measurements, row 1, column period"),
        ({"kpi": ["days"], "period": [1], "value": ["3,5"]}, "measurements, row 1, column value"),
        ({"kpi": ["days"], "period": [1], "value": [None]}, "row 1, column value: expected the measured value"),
        ({"kpi": [None], "period": [1], "value": [2]}, "row 1, column kpi: expected a KPI id"),
        ({"kpi": ["days"], "value": [2]}, "missing column(s) period"),
    ],
)
def test_a_bad_measurement_frame_names_row_and_column(rows: dict, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        measurement_list(pd.DataFrame(rows))


def test_kpi_frame_is_indexed_by_id_with_numeric_targets() -> None:
    kpis = [Kpi("a", name="Engagement score", baseline=6.8, target=7.8, unit="points"), Kpi("b", target=None)]
    frame = kpi_frame(kpis)
    assert list(frame.index) == ["a", "b"]
    assert frame.loc["a", "target"] - frame.loc["a", "baseline"] == pytest.approx(1.0)
    assert known(frame.loc["b", "target"]) is None and known(frame.loc["b", "unit"]) is None


# -- the pages' DataFrames are what the reports show -----------------------------------------------------
def test_cash_flow_page_table_is_rendered_from_its_frame() -> None:
    page = cash_flow_page.page_for(read_engagement(EXAMPLES / "ad-campaign.yaml"))
    frame = page.cash_flow
    assert frame.index.name == "period" and len(frame) == len(page.engagement.cash_flow)
    html = plain(str(page.table()))
    for period, row in frame.iterrows():
        cells = [money(known(v), page.currency) for v in row]
        shown = re.search(rf"<tr[^>]*>\s*<td[^>]*>{re.escape(str(period))}</td>(.*?)</tr>", html, re.S)
        assert shown is not None, period
        assert re.findall(r"<td[^>]*>(.*?)</td>", shown.group(1)) == cells


def test_progress_page_frames() -> None:
    engagement = _order_to_ship()
    page = progress_page.page_for(engagement)
    assert len(page.measurements) == len(engagement.measurements)
    assert sorted(page.kpis.index) == sorted(k.id for k in engagement.kpis)
    series = page.progress
    assert set(series["kpi"]) <= {k.id for k in engagement.kpis}
    for kp in page.tracked:
        mine = series[series["kpi"] == kp.kpi.id]
        assert mine["progress"].tolist() == pytest.approx(kp.progress)
        assert mine["status"].tolist() == kp.status


def test_kpi_workshop_register_rows_come_from_its_frame() -> None:
    engagement = read_engagement(EXAMPLES / "employee-engagement.yaml")
    page = kpi_workshop_page.page_for(engagement)
    html = str(page.register())
    assert list(page.kpis.index) == [k.id for k in engagement.kpis]
    for kpi_id, row in page.kpis.iterrows():
        assert (row["name"] or kpi_id) in html


def test_the_readme_chart_example_runs_on_a_page() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("Adding a chart of your own", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    page = cash_flow_page.page_for(read_engagement(EXAMPLES / "ad-campaign.yaml"))
    before = dict(matplotlib.rcParams)
    scope = {"page": page}
    exec(compile(example, "README.md", "exec"), scope)
    ax = scope["ax"]
    try:
        estimated, actual = ax.containers
        assert [b.get_height() for b in estimated] == page.cash_flow["revenue_est"].tolist()
        assert len(actual) == len(page.engagement.cash_flow) and ax.get_ylabel() == page.currency
        assert ax.get_title() == "Revenue by period"
    finally:
        plt.close("all")
    # The house style was applied for the chart only: the notebook's own settings are unchanged afterwards.
    assert dict(matplotlib.rcParams) == before
