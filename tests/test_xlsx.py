"""The .xlsx export: inputs as values, everything derived as live formulas."""
from __future__ import annotations

import io

import pytest
from conftest import ad_campaign
from openpyxl import load_workbook

from csm_nb.xlsx import HEADERS, cash_flow_workbook_bytes


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
