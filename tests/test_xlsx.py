"""The .xlsx export: inputs as values, everything derived as live formulas."""

from __future__ import annotations

import io
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
        ("E17", "=SUM(E4:E16)"),
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


def project_formulas(rows: int, *, rate: bool) -> dict[str, str]:
    """Every formula the export itself writes, by cell, for ``rows`` lines (the cells a person never fills)."""
    first, last = 4, 3 + rows
    total = last + 1
    out: dict[str, str] = {}
    for r in range(first, last + 1):
        out[f"F{r}"] = f"=D{r}-B{r}"
        out[f"G{r}"] = f'=IF(OR(C{r}="",E{r}=""),"",E{r}-C{r})'
        out[f"H{r}"] = f"=F{r}" if r == first else f"=H{r - 1}+F{r}"
        out[f"I{r}"] = f'=IF(G{r}="","",G{r})' if r == first else f'=IF(OR(I{r - 1}="",G{r}=""),"",I{r - 1}+G{r})'
    for c in "BCDEFG":
        out[f"{c}{total}"] = f"=SUM({c}{first}:{c}{last})"
    complete = f"COUNTBLANK(G{first}:G{last})=0"
    t = total
    summary = [
        f"=D{t}-B{t}",
        f'=IF({complete},E{t}-C{t},"")',
        f'=IF(B{t}=0,"",D{t}/B{t})',
        f'=IF(AND({complete},C{t}<>0),E{t}/C{t},"")',
        f'=IF(B{t}=0,"",(D{t}-B{t})/B{t})',
        f'=IF(AND({complete},C{t}<>0),(E{t}-C{t})/C{t},"")',
    ]
    if rate:
        summary += [None, f"=F{first}+NPV(B{t + 8},F{first + 1}:F{last})", f"=IRR(F{first}:F{last})"]
    for offset, formula in enumerate(summary):
        if formula:
            out[f"B{t + 2 + offset}"] = formula
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
    assert formulas == project_formulas(len(lines), rate=True)


def test_the_raw_sheet_xml_holds_the_labels_as_strings() -> None:
    """Belt and braces: no ``<f>`` element anywhere but in the project's own cells (what Excel would run)."""
    import re
    import zipfile

    lines = hostile_lines()
    data = cash_flow_workbook_bytes(lines, title="=1+2", currency="USD")
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    formula_cells = re.findall(r'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f>', xml)
    assert set(formula_cells) == set(project_formulas(len(lines), rate=False))
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
    # The sheet's actual columns sum what is known so far (the report's known_total); profit waits for all.
    known = [cashflow.known_total([x.expenditure_act for x in lines]), cashflow.known_total([x.revenue_act for x in lines])]
    assert total[1:5] == pytest.approx([t["expenditure_est"], known[0], t["revenue_est"], known[1]])
    assert total[5] == pytest.approx(cashflow.total(expected.net_est))
    labels = {r[0]: r[1] for r in rows[3 + len(lines) + 1 :] if r and r[0]}
    assert labels["Profit (estimated)"] == pytest.approx(expected.profit_est)
    assert labels["Profit (actual)"] in ("", None)  # actuals incomplete: blank, as in the report
    assert labels["Return on cost, revenue ÷ cost (estimated)"] == pytest.approx(expected.return_on_cost_est)
    assert labels["Net ROI, profit ÷ cost (estimated)"] == pytest.approx(expected.net_roi_est)
    assert labels["NPV (estimated)"] == pytest.approx(expected.npv_est)
    assert labels["IRR per period (estimated)"] == pytest.approx(expected.irr_est, rel=1e-6)
