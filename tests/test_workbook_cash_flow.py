"""The cash_flow workbook end to end: engagement file -> store -> papermill ->
results JSON and HTML through the project's template -> a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import AD_PERIODS, ad_campaign, open_report
from openpyxl import load_workbook
from reading import plain

from csm_nb import cli
from csm_nb.data.store import Store
from csm_nb.model import Engagement

pytestmark = pytest.mark.slow

EVIL = "<script>alert(1)</script>"
CASES = {
    # engagement id: (table format, weeks with actuals, customer name)
    "ad-csv": ("csv", 13, "Brightline Outdoor Gear"),
    "ad-xlsx": ("xlsx", 13, "Brightline Outdoor Gear"),
    "ad-week7": ("csv", 8, "Brightline Outdoor Gear"),
    "evil": ("inline", 13, EVIL),
}


def _write_table(folder: Path, name: str, weeks: int, fmt: str) -> str:
    lines = ad_campaign(weeks)
    columns = ("period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act")
    rows = [[x.period, x.expenditure_est, x.expenditure_act, x.revenue_est, x.revenue_act] for x in lines]
    if fmt == "csv":
        text = (
            ",".join(columns)
            + "\n"
            + "\n".join(",".join([r[0]] + ["" if v is None else f'"${v:,.0f}"' for v in r[1:]]) for r in rows)
        )
        (folder / f"{name}.csv").write_text(text + "\n")
        return f"{name}.csv"
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(columns))
    for r in rows:
        book.active.append(r)
    book.save(folder / f"{name}.xlsx")
    return f"{name}.xlsx"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Import four engagements through the CLI and run the workbook for each."""
    folder = tmp_path_factory.mktemp("cash-flow-run")
    db, out = folder / "store.sqlite", folder / "runs"
    files = []
    for engagement_id, (fmt, weeks, customer) in CASES.items():
        if fmt == "inline":
            rows = "\n".join(
                f"  - {{period: {x.period}, expenditure_est: {x.expenditure_est}, expenditure_act: {x.expenditure_act}, "
                f"revenue_est: {x.revenue_est}, revenue_act: {x.revenue_act}}}"
                for x in ad_campaign(weeks)
            )
            table = "\n" + rows
        else:
            table = " " + _write_table(folder, engagement_id, weeks, fmt)
        path = folder / f"{engagement_id}.yaml"
        path.write_text(
            f"schema: csm-nb/engagement@1\nid: {engagement_id}\ncustomer: {json.dumps(customer)}\ncurrency: USD\n"
            f"initiative: {{name: {json.dumps('Spring campaign & <b>bold</b> plans')}}}\ncash_flow:{table}\n"
        )
        files.append(str(path))
    assert cli.main(["--db", str(db), "import", *files]) == 0
    for engagement_id in CASES:
        args = ["--db", str(db), "run", "cash_flow", "--engagement", engagement_id, "--out", str(out)]
        if engagement_id == "ad-csv":
            args += ["-p", "discount_rate", "0.002", "-p", "headline_roi", "return_on_cost"]
        assert cli.main(args) == 0
    return {engagement_id: out / engagement_id for engagement_id in CASES}


def results(rendered: dict[str, Path], engagement_id: str) -> dict:
    return json.loads((rendered[engagement_id] / "cash_flow.json").read_text())


EXPECTED_CUMULATIVE_EST = [-20000, -40000, -48000, -54000, -56000, -54000, -49000, -39000, -14000, 8000, 26000, 40000, 52000]


@pytest.mark.parametrize("engagement_id", ["ad-csv", "ad-xlsx"])
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("periods", AD_PERIODS),
        ("totals", {"expenditure_est": 160000, "expenditure_act": 160000, "revenue_est": 212000, "revenue_act": 219673}),
        ("profit_est", 52000),
        ("profit_act", 59673),
        ("return_on_cost_est", 1.325),
        ("return_on_cost_act", 219673 / 160000),
        ("net_roi_est", 0.325),
        ("net_roi_act", 59673 / 160000),
        ("cumulative_ncf_est", EXPECTED_CUMULATIVE_EST),
        ("payback_period_est", "Week 9"),
        ("payback_period_act", "Week 9"),  # actual cumulative: -7,824 after Week 8, +10,631 after Week 9
    ],
)
def test_worked_example_comes_out_exactly(rendered: dict[str, Path], engagement_id: str, key: str, expected: object) -> None:
    value = results(rendered, engagement_id)[key]
    if key == "periods" or isinstance(expected, str):
        assert value == expected
    else:
        assert value == pytest.approx(expected, abs=1e-9)


def test_rounded_ratios_match_the_published_percentages(rendered: dict[str, Path]) -> None:
    data = results(rendered, "ad-csv")
    assert [round(data[k] * 100, 1) for k in ("return_on_cost_est", "return_on_cost_act", "net_roi_est", "net_roi_act")] == [
        132.5,
        137.3,
        32.5,
        37.3,
    ]
    assert data["net_cash_flow_est"][0] == -20000 and data["cumulative_ncf_act"][-1] == 59673


def test_discounting_parameters_reach_the_results(rendered: dict[str, Path]) -> None:
    import numpy_financial as npf

    data = results(rendered, "ad-csv")
    assert data["headline_roi"] == "return_on_cost"
    ncf = data["net_cash_flow_est"]
    assert data["npv_est"] == pytest.approx(npf.npv(0.002, ncf))
    assert data["npv_est"] < data["profit_est"]  # discounting shrinks later money
    assert npf.npv(data["irr_est"], ncf) == pytest.approx(0, abs=1e-6)
    assert "npv_est" not in results(rendered, "ad-xlsx")  # no rate, no NPV


def test_partial_actuals_are_never_counted_as_zero(rendered: dict[str, Path]) -> None:
    data = results(rendered, "ad-week7")
    assert data["complete"] is False
    assert data["to_date"]["last_period"] == "Week 7"
    assert data["to_date"]["revenue_act"] == 122276 and data["to_date"]["revenue_est"] == 121000
    assert data["verdict"] == "on_track"
    assert data["cumulative_ncf_act"][:8] == [-20000, -40000, -50344, -58004, -57804, -49404, -45374, -37724]
    assert data["cumulative_ncf_act"][8:] == [None] * 5
    assert data["totals"]["revenue_act"] is None and data["profit_act"] is None and data["payback_period_act"] is None
    forecast = data["forecast_at_completion"]
    assert forecast["as_estimated"]["revenue"] == 122276 + 91000
    assert forecast["at_current_pace"]["revenue"] == pytest.approx(122276 + 91000 * 122276 / 121000)


def _visible_rows(html: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.DOTALL)


def test_report_says_in_line_and_shows_weeks_8_to_12_as_not_known_yet(rendered: dict[str, Path]) -> None:
    html = plain((rendered["ad-week7"] / "cash_flow.html").read_text())
    assert "In line with the estimate:" in html and "101.1 %" in html  # 122,276 / 121,000
    week_rows = {re.search(r"Week \d+", r).group(0): r for r in _visible_rows(html) if re.search(r"<td[^>]*>Week \d+<", r)}
    assert len(week_rows) == 13
    for week in range(8, 13):
        assert week_rows[f"Week {week}"].count("not known yet") == 4  # expenditure, revenue, net and cumulative actuals
    for week in range(8):
        assert "not known yet" not in week_rows[f"Week {week}"]
    assert "Forecast at completion" in html


def test_report_has_no_code_no_scripts_and_no_network_references(rendered: dict[str, Path]) -> None:
    html = plain((rendered["ad-csv"] / "cash_flow.html").read_text())
    assert "<script" not in html.lower()
    assert "open_page(" not in html and "save_results" not in html  # code cells hidden
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, flags=re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", html, flags=re.IGNORECASE)
    assert "Brightline Outdoor Gear" in html and "Cash flow: estimated and actual" in html


def test_text_typed_by_people_is_escaped(rendered: dict[str, Path]) -> None:
    html = plain((rendered["evil"] / "cash_flow.html").read_text())
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_outputs_are_complete_and_no_temporary_files_are_left(rendered: dict[str, Path]) -> None:
    for folder in rendered.values():
        # The spreadsheet lands beside the report, and its cached figures are the results file's.
        assert sorted(p.name for p in folder.iterdir()) == [
            "cash_flow.html",
            "cash_flow.ipynb",
            "cash_flow.json",
            "cash_flow.xlsx",
        ]
        data = json.loads((folder / "cash_flow.json").read_text())
        sheet = load_workbook(folder / "cash_flow.xlsx", data_only=True).active
        labels = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
        assert labels["Profit (estimated)"] == pytest.approx(data["profit_est"])
        assert labels["Profit (actual)"] == (pytest.approx(data["profit_act"]) if data["complete"] else "to come")


def test_second_run_of_unchanged_data_is_skipped(rendered: dict[str, Path]) -> None:
    from csm_nb.run.runner import run_workbook

    folder = rendered["ad-xlsx"]
    db = folder.parent.parent / "store.sqlite"
    before = (folder / "cash_flow.html").stat().st_mtime_ns
    result = run_workbook("cash_flow", engagement_id="ad-xlsx", out=folder.parent, db=db, skip_current=True)
    assert result.skipped and (folder / "cash_flow.html").stat().st_mtime_ns == before
    with Store(db) as store:
        engagement: Engagement = store.load("ad-xlsx")
        engagement.cash_flow[12].revenue_act = 14600.0
        store.save(engagement)
    result = run_workbook("cash_flow", engagement_id="ad-xlsx", out=folder.parent, db=db, skip_current=True)
    assert not result.skipped and result.results["totals"]["revenue_act"] == 219773


@pytest.mark.browser
def test_report_in_a_real_browser(rendered: dict[str, Path], browser) -> None:
    page, errors, requests = open_report(browser, rendered["evil"] / "cash_flow.html")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        assert page.locator("h1").inner_text() == EVIL  # shown as text, not run
        assert dialogs == [] and errors == []
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        assert page.locator("figure.chart svg").count() == 1
        assert page.locator("table.data tbody tr").count() == 13
        assert "Payback" in page.locator(".figures").inner_text()
    finally:
        page.close()


@pytest.mark.browser
def test_report_prints_on_a4(rendered: dict[str, Path], browser, tmp_path: Path) -> None:
    page, errors, _ = open_report(browser, rendered["ad-week7"] / "cash_flow.html", print_media=True)
    try:
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and errors == []
        # The table fits the printable width: nothing wider than the page body.
        overflow = page.evaluate(
            "() => [...document.querySelectorAll('table.data')].some(t => t.scrollWidth > document.body.clientWidth + 1)"
        )
        assert overflow is False
        assert page.locator(".download").is_hidden()  # the download link is for screens only
    finally:
        page.close()


def test_the_analyst_sees_the_dataframe_in_the_notebook_but_the_report_does_not(rendered: dict[str, Path]) -> None:
    import nbformat

    notebook = nbformat.read(rendered["ad-week7"] / "cash_flow.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and c.source.strip() == "page.cash_flow")
    assert "interactive-only" in cell.metadata.get("tags", [])
    shown = cell.outputs[0]["data"]
    # pandas' own table: one row a week, with the signed cumulative column; weeks 8-12 are NaN, not 0.
    assert 'class="dataframe' in shown["text/html"]
    assert shown["text/html"].count("<th>Week ") == 13
    rows = re.findall(r"<tr>\s*<th>(Week \d+)</th>(.*?)</tr>", shown["text/html"], flags=re.S)
    last_period, last_cells = rows[-1]
    assert last_period == "Week 12" and re.findall(r"<td>(.*?)</td>", last_cells)[-1] == "NaN"
    report = (rendered["ad-week7"] / "cash_flow.html").read_text(encoding="utf-8")
    assert 'class="dataframe' not in report and "page.cash_flow" not in report


@pytest.mark.parametrize(("example", "hundred", "back"), [("order-to-ship", "€100", "€132"), ("ad-campaign", "$100", "$132")])
def test_the_return_note_speaks_the_reports_currency(example: str, hundred: str, back: str) -> None:
    from conftest import EXAMPLES_DIR

    from csm_nb.data.engagement import read_engagement
    from csm_nb.pages.cash_flow import page_for

    note = str(page_for(read_engagement(EXAMPLES_DIR / f"{example}.yaml")).roi_note())
    assert f"each {hundred} spent brought back {back}" in note and "dollar" not in note and "cents" not in note
