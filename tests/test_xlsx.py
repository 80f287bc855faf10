"""The .xlsx export: inputs as values, everything derived as live formulas."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import ad_campaign
from openpyxl import load_workbook

from csm_nb.render.xlsx import HEADERS, cash_flow_workbook_bytes


@pytest.fixture
def sheet():
    data = cash_flow_workbook_bytes(ad_campaign(8), title="Ad <campaign>", currency="USD", discount_rate=0.002)
    return load_workbook(io.BytesIO(data)).active


def test_inputs_are_values_and_unknowns_stay_blank(sheet) -> None:
    assert [c.value for c in sheet[3]] == list(HEADERS)
    assert [sheet.cell(row=4 + i, column=1).value for i in range(13)] == [f"Week {i}" for i in range(13)]
    assert sheet["D8"].value == 18000 and sheet["E8"].value == 20200  # row 8 is Week 4
    assert sheet["E12"].value is None and sheet["C12"].value is None  # Week 8: actuals to come, blank not 0


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        ("F4", "=D4-B4"),
        ("G4", '=IF(OR(C4="",E4=""),"",E4-C4)'),
        ("H4", "=F4"),
        ("H5", "=H4+F5"),
        ("I5", '=IF(OR(I4="",G5=""),"",I4+G5)'),
        ("B17", "=SUM(B4:B16)"),
        ("E17", '=IF(COUNTBLANK(G4:G16)=0,SUM(E4:E16),"to come")'),
        ("D17", "=SUM(D4:D16)"),
        ("C18", "=SUM(C4:C11)"),  # "To date (Week 7)": the actuals known so far
    ],
)
def test_derived_cells_are_formulas(sheet, cell: str, formula: str) -> None:
    assert sheet[cell].value == formula


def test_summary_formulas_point_at_the_totals_and_the_rate(sheet) -> None:
    labels = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=2).value for r in range(19, sheet.max_row + 1)}
    assert labels["Profit (estimated)"] == "=D17-B17"
    assert labels["Return on cost, revenue ÷ cost (estimated)"] == '=IF(B17=0,"",D17/B17)'
    assert labels["Discount rate per period"] == 0.002
    rate_row = next(r for r in range(19, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "Discount rate per period")
    # First period undiscounted, as in the report.
    assert labels["NPV (estimated)"] == f"=F4+NPV(B{rate_row},F5:F16)"
    assert labels["IRR per period (estimated)"] == "=IRR(F4:F16)"
    assert sheet["A1"].value == "Ad <campaign>"  # a spreadsheet cell, not HTML: kept as typed


# -- formula injection: what people typed stays text ------------------------------------------
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x","click")',
    "=cmd|' /C calc'!A0",
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(1,2)",
    "\t=1+2",
    "\r=1+2",
    "#N/A",
]


def hostile_lines() -> list:
    """The worked example (actuals to week 7) with every period label hostile."""
    lines = ad_campaign(8)
    for i, line in enumerate(lines):
        line.period = HOSTILE[i % len(HOSTILE)] + (f" {i}" if i >= len(HOSTILE) else "")
    return lines


def project_formulas(lines: list, *, rate: bool) -> dict[str, str]:
    """Every formula the export itself writes, by cell, for ``lines`` (the cells a person never fills)."""
    from csm_nb.method import cashflow

    first, last = 4, 3 + len(lines)
    t = last + 1
    out: dict[str, str] = {}
    for r in range(first, last + 1):
        out[f"F{r}"] = f"=D{r}-B{r}"
        out[f"G{r}"] = f'=IF(OR(C{r}="",E{r}=""),"",E{r}-C{r})'
        out[f"H{r}"] = f"=F{r}" if r == first else f"=H{r - 1}+F{r}"
        out[f"I{r}"] = f'=IF(G{r}="","",G{r})' if r == first else f'=IF(OR(I{r - 1}="",G{r}=""),"",I{r - 1}+G{r})'
    complete = f"COUNTBLANK(G{first}:G{last})=0"
    for c in "BDF":
        out[f"{c}{t}"] = f"=SUM({c}{first}:{c}{last})"
    for c in "CEG":
        out[f"{c}{t}"] = f'=IF({complete},SUM({c}{first}:{c}{last}),"to come")'
    summary = cashflow.summarise(lines)
    below = t + 1
    if summary.to_date is not None and not summary.complete:
        k = first + summary.to_date.last_period
        for c in "BCDEFG":
            out[f"{c}{below}"] = f"=SUM({c}{first}:{c}{k})"
        below += 1
    s = below + 1  # the first summary row, under a blank one
    formulas = [
        f"=D{t}-B{t}",
        f'=IF({complete},E{t}-C{t},"to come")',
        f'=IF(B{t}=0,"",D{t}/B{t})',
        f'=IF(AND({complete},C{t}<>0),E{t}/C{t},"to come")',
        f'=IF(B{t}=0,"",(D{t}-B{t})/B{t})',
        f'=IF(AND({complete},C{t}<>0),(E{t}-C{t})/C{t},"to come")',
    ]
    if rate:
        r = s + 6
        formulas += [
            None,
            f"=F{first}+NPV(B{r},F{first + 1}:F{last})",
            f'=IF({complete},G{first}+NPV(B{r},G{first + 1}:G{last}),"to come")',
            f"=IRR(F{first}:F{last})",
            f'=IF({complete},IRR(G{first}:G{last}),"to come")',
        ]
    for offset, formula in enumerate(formulas):
        if formula:
            out[f"B{s + offset}"] = formula
    return out


@pytest.fixture
def hostile_book() -> tuple[bytes, list]:
    lines = hostile_lines()
    data = cash_flow_workbook_bytes(
        lines, title='=HYPERLINK("http://evil.example","Acme"): cash flow', currency="USD", discount_rate=0.002
    )
    return data, lines


def test_text_from_people_is_never_a_formula(hostile_book: tuple[bytes, list]) -> None:
    data, lines = hostile_book
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == '=HYPERLINK("http://evil.example","Acme"): cash flow' and sheet["A1"].data_type == "s"
    for i, line in enumerate(lines):
        cell = sheet.cell(row=4 + i, column=1)
        # A line break in a cell is LF in .xlsx (XML reads a bare CR as LF): the one change made to a label.
        assert (cell.value, cell.data_type) == (line.period.replace("\r", "\n"), "s"), cell.coordinate
        assert cell.quotePrefix  # Excel keeps it text when someone edits the cell
    formulas = {c.coordinate: c.value for row in sheet.iter_rows() for c in row if c.data_type == "f"}
    assert formulas == project_formulas(lines, rate=True)


def test_the_raw_sheet_xml_holds_the_labels_as_strings() -> None:
    """Belt and braces: no ``<f>`` element anywhere but in the project's own cells (what Excel would run)."""
    import re
    import zipfile

    lines = hostile_lines()
    data = cash_flow_workbook_bytes(lines, title="=1+2", currency="USD")
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    formula_cells = re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f>', xml)
    assert set(formula_cells) == set(project_formulas(lines, rate=False))
    assert not [c for c in formula_cells if c.startswith("A")]


def _soffice() -> str:
    import os
    import shutil

    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is missing in CI: install the libreoffice-calc package")
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-calc); needed to recalculate the .xlsx")
    return found


# Recalculate every formula on load: openpyxl writes no cached values, and the point is LibreOffice's own result.
_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculated(xlsx: Path, work: Path) -> tuple[list[list], list[list]]:
    """The sheet saved again by LibreOffice (headless, private profile) after recalculating every formula:
    ``(values, formulas)``, rows of what LibreOffice computed and of what its cells hold."""
    import subprocess

    soffice = _soffice()
    profile = work / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE)
    outdir = work / "recalculated"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(outdir),
            str(xlsx),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = outdir / xlsx.name
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    values = [[c.value for c in row] for row in load_workbook(out, data_only=True).active.iter_rows()]
    formulas = [[c.value for c in row] for row in load_workbook(out).active.iter_rows()]
    return values, formulas


@pytest.mark.slow
def test_libreoffice_computes_the_same_totals_and_keeps_hostile_labels_as_text(
    hostile_book: tuple[bytes, list], tmp_path: Path
) -> None:
    from csm_nb.method import cashflow

    data, lines = hostile_book
    xlsx = tmp_path / "cash flow.xlsx"
    xlsx.write_bytes(data)
    rows, cells = recalculated(xlsx, tmp_path)
    expected = cashflow.summarise(lines, discount_rate=0.002)

    assert rows[0][0] == '=HYPERLINK("http://evil.example","Acme"): cash flow'
    # Every label comes back as typed, not as the result of a formula (=1+2 would read 3), in LibreOffice's own file too.
    typed = [line.period.replace("\r", "\n") for line in lines]
    assert [r[0] for r in rows[3 : 3 + len(lines)]] == typed
    assert [r[0] for r in cells[3 : 3 + len(lines)]] == typed

    body = rows[3 : 3 + len(lines)]
    assert [r[5] for r in body] == pytest.approx(expected.net_est)
    assert [r[7] for r in body] == pytest.approx(expected.cumulative_est)
    assert [None if r[8] in ("", None) else r[8] for r in body] == [
        None if v is None else pytest.approx(v) for v in expected.cumulative_act
    ]
    total = rows[3 + len(lines)]
    assert total[0] == "Total"
    t = expected.totals
    # Actual totals wait for every actual, as in the report; the "To date" row sums the ones known so far.
    assert total[1:7] == [pytest.approx(t["expenditure_est"]), "to come", pytest.approx(t["revenue_est"]), "to come"] + [
        pytest.approx(cashflow.total(expected.net_est)),
        "to come",
    ]
    to_date = rows[3 + len(lines) + 1]
    d = expected.to_date
    # The last period with actuals is the 8th (index 7), whose label here is hostile: still text.
    assert d.last_period == 7 and to_date[0] == f"To date ({expected.periods[7]})".replace("\r", "\n")
    assert to_date[1:7] == pytest.approx(
        [d.expenditure_est, d.expenditure_act, d.revenue_est, d.revenue_act, d.net_est, d.net_act]
    )
    labels = {r[0]: r[1] for r in rows[3 + len(lines) + 2 :] if r and r[0]}
    assert labels["Profit (estimated)"] == pytest.approx(expected.profit_est)
    assert labels["Profit (actual)"] == labels["NPV (actual)"] == labels["IRR per period (actual)"] == "to come"
    assert labels["Return on cost, revenue ÷ cost (estimated)"] == pytest.approx(expected.return_on_cost_est)
    assert labels["Net ROI, profit ÷ cost (estimated)"] == pytest.approx(expected.net_roi_est)
    assert labels["NPV (estimated)"] == pytest.approx(expected.npv_est)
    assert labels["IRR per period (estimated)"] == pytest.approx(expected.irr_est, rel=1e-6)


# -- every example: the sheet, LibreOffice and the results file agree to the cent ------------------
EXAMPLE_FILES = ["ad-campaign", "order-to-ship", "employee-engagement"]
RATE = 0.01  # a discount rate per period, so NPV and IRR are in the sheet too


def example_sheets(tmp_path: Path) -> dict[str, tuple[Path, dict]]:
    """Each example's sheet written as ``csm-nb run cash_flow -p discount_rate 0.01`` writes it, with its results."""
    from conftest import EXAMPLES_DIR

    from csm_nb.data.engagement import read_engagement
    from csm_nb.pages.cash_flow import page_for

    out = {}
    for name in EXAMPLE_FILES:
        page = page_for(read_engagement(EXAMPLES_DIR / f"{name}.yaml"), discount_rate=RATE)
        results = tmp_path / name / "cash_flow.json"
        results.parent.mkdir()
        page.save_results(results)
        out[name] = (results.with_suffix(".xlsx"), json.loads(results.read_text()))
    return out


def money_cells(values: list[list], results: dict, rows: int) -> dict[str, object]:
    """What the results file says each computed cell must hold, by cell ("to come" and blanks included)."""
    first, last = 4, 3 + rows
    t = last + 1
    expect: dict[str, object] = {}
    for i in range(rows):
        r = first + i
        expect[f"F{r}"] = results["net_cash_flow_est"][i]
        expect[f"G{r}"] = results["net_cash_flow_act"][i]
        expect[f"H{r}"] = results["cumulative_ncf_est"][i]
        expect[f"I{r}"] = results["cumulative_ncf_act"][i]
    totals = results["totals"]
    complete = results["complete"]
    expect.update(
        {
            f"B{t}": totals["expenditure_est"],
            f"C{t}": totals["expenditure_act"] if complete else "to come",
            f"D{t}": totals["revenue_est"],
            f"E{t}": totals["revenue_act"] if complete else "to come",
            f"F{t}": results["profit_est"],
            f"G{t}": results["profit_act"] if complete else "to come",
        }
    )
    labels = {row[0]: f"B{n}" for n, row in enumerate(values, start=1) if row and isinstance(row[0], str)}
    if results["to_date"] and not complete:
        d, n = results["to_date"], labels[f"To date ({results['to_date']['last_period']})"][1:]
        expect.update(
            {
                f"B{n}": d["expenditure_est"],
                f"C{n}": d["expenditure_act"],
                f"D{n}": d["revenue_est"],
                f"E{n}": d["revenue_act"],
                f"F{n}": d["revenue_est"] - d["expenditure_est"],
                f"G{n}": d["revenue_act"] - d["expenditure_act"],
            }
        )
    by_label = {
        "Profit (estimated)": "profit_est",
        "Profit (actual)": "profit_act",
        "Return on cost, revenue ÷ cost (estimated)": "return_on_cost_est",
        "Return on cost, revenue ÷ cost (actual)": "return_on_cost_act",
        "Net ROI, profit ÷ cost (estimated)": "net_roi_est",
        "Net ROI, profit ÷ cost (actual)": "net_roi_act",
        "NPV (estimated)": "npv_est",
        "NPV (actual)": "npv_act",
        "IRR per period (estimated)": "irr_est",
        "IRR per period (actual)": "irr_act",
        "Payback period (estimated)": "payback_period_est",
        "Payback period (actual)": "payback_period_act",
        "Discounted payback period (estimated)": "discounted_payback_period_est",
        "Discounted payback period (actual)": "discounted_payback_period_act",
    }
    for label, key in by_label.items():
        value = results[key]
        if value is None and key.endswith("_act") and not complete:
            value = "to come"
        elif value is None and "payback" in key:
            value = "not within the plan"
        expect[labels[label]] = value
    return expect


def same(a: object, b: object) -> bool:
    """Equal to the cent (money) or to 1e-9 (ratios); None and "" are the same blank."""
    a, b = (None if v == "" else v for v in (a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < (0.005 if max(abs(a), abs(b)) > 10 else 1e-9)
    return a == b


@pytest.mark.slow
def test_every_example_sheet_agrees_with_its_results_cached_and_recalculated_by_libreoffice(tmp_path: Path) -> None:
    sheets = example_sheets(tmp_path)
    recalculated_by = {name: recalculated(path, tmp_path / name) for name, (path, _) in sheets.items()}
    checked = 0
    for name, (path, results) in sheets.items():
        cached = load_workbook(path, data_only=True).active
        own = load_workbook(path).active
        values, _ = recalculated_by[name]
        formula_cells = [c.coordinate for row in own.iter_rows() for c in row if c.data_type == "f"]
        cells_values = [[c.value for c in row] for row in cached.iter_rows()]
        expected = money_cells(cells_values, results, len(results["periods"]))
        for cell, want in expected.items():
            row, col = own[cell].row, own[cell].column
            recalc = values[row - 1][col - 1] if len(values) >= row and len(values[row - 1]) >= col else None
            assert same(cached[cell].value, want), f"{name} {cell}: cached {cached[cell].value!r}, results {want!r}"
            if cell in formula_cells:
                assert same(recalc, want), f"{name} {cell}: LibreOffice computed {recalc!r}, results {want!r}"
                checked += 1
        # No formula cell is left unchecked against the results file.
        assert set(formula_cells) <= set(expected), (
            f"{name}: unchecked formula cells {sorted(set(formula_cells) - set(expected))}"
        )
    assert checked > 100
