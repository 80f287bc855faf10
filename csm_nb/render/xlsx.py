"""The cash flow as an .xlsx workbook with live formulas, so finance can audit
every figure in their own spreadsheet: inputs are values, everything derived
(net, cumulative, totals, profit, both ROIs, NPV, IRR) is an Excel formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from csm_nb.model import CashFlowLine

HEADERS = (
    "Period",
    "Expenditure (est)",
    "Expenditure (act)",
    "Increased revenue (est)",
    "Increased revenue (act)",
    "Net cash flow (est)",
    "Net cash flow (act)",
    "Cumulative NCF (est)",
    "Cumulative NCF (act)",
)


# Characters an .xlsx cannot hold at all (openpyxl refuses them); a pasted label may carry one.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(cell: Any, value: str) -> None:
    """Put what a person typed into ``cell`` as plain text, whatever it starts with.

    openpyxl turns a string starting with ``=`` into a formula and ``#N/A``
    and friends into error values; a customer called ``=HYPERLINK(...)`` must
    stay a name. ``data_type = "s"`` is what openpyxl writes as an inline
    string; ``quotePrefix`` keeps Excel and LibreOffice from re-reading it as
    a formula (or ``+``/``-``/``@`` input) when someone edits the cell.
    """
    # XML reads a bare CR as a line feed anyway; say so up front, so what is written is what is read.
    cell.value = _ILLEGAL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    cell.data_type = "s"
    cell.quotePrefix = True


def cash_flow_workbook_bytes(
    lines: Sequence[CashFlowLine], *, title: str, currency: str, discount_rate: float | None = None
) -> bytes:
    """The workbook as bytes. Columns B-E are the inputs; F-I are formulas.

    Actual net and cumulative cells stay blank while an actual is missing
    (``IF(OR(C2="",E2=""),"",E2-C2)``), matching the report's "not known yet".
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Cash flow"
    # Text from people (title, currency, period labels) goes in through _text, never sheet.append.
    _text(sheet["A1"], title)
    sheet["A1"].font = Font(bold=True, size=13)
    _text(sheet["A2"], f"Amounts in {currency}. Money out is negative in the net columns. Blank = not known yet.")
    sheet.append(list(HEADERS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    first = 4
    for offset, line in enumerate(lines):
        r = first + offset
        sheet.append(
            [
                None,
                line.expenditure_est,
                line.expenditure_act,
                line.revenue_est,
                line.revenue_act,
                f"=D{r}-B{r}",
                f'=IF(OR(C{r}="",E{r}=""),"",E{r}-C{r})',
                f"=F{r}" if r == first else f"=H{r - 1}+F{r}",
                f'=IF(G{r}="","",G{r})' if r == first else f'=IF(OR(I{r - 1}="",G{r}=""),"",I{r - 1}+G{r})',
            ]
        )
        _text(sheet.cell(row=r, column=1), str(line.period))
    last = first + len(lines) - 1
    total_row = last + 1
    sheet.append(["Total"] + [f"=SUM({c}{first}:{c}{last})" for c in "BCDEFG"])
    for cell in sheet[total_row]:
        cell.font = Font(bold=True)
    # Actual totals only once every actual is in, as in the report.
    complete = f"COUNTBLANK(G{first}:G{last})=0"
    rows = [
        ("Profit (estimated)", f"=D{total_row}-B{total_row}"),
        ("Profit (actual)", f'=IF({complete},E{total_row}-C{total_row},"")'),
        ("Return on cost, revenue ÷ cost (estimated)", f'=IF(B{total_row}=0,"",D{total_row}/B{total_row})'),
        ("Return on cost, revenue ÷ cost (actual)", f'=IF(AND({complete},C{total_row}<>0),E{total_row}/C{total_row},"")'),
        ("Net ROI, profit ÷ cost (estimated)", f'=IF(B{total_row}=0,"",(D{total_row}-B{total_row})/B{total_row})'),
        ("Net ROI, profit ÷ cost (actual)", f'=IF(AND({complete},C{total_row}<>0),(E{total_row}-C{total_row})/C{total_row},"")'),
    ]
    if discount_rate is not None:
        rows += [
            ("Discount rate per period", discount_rate),
            # Excel's NPV discounts its first value; the first period is "now", so add it undiscounted.
            ("NPV (estimated)", f"=F{first}+NPV(B{total_row + 8},F{first + 1}:F{last})" if last > first else f"=F{first}"),
            ("IRR per period (estimated)", f"=IRR(F{first}:F{last})"),
        ]
    sheet.append([])
    for label, formula in rows:
        sheet.append([label, formula])
    for row in sheet.iter_rows(min_row=first, max_row=total_row, min_col=2, max_col=9):
        for cell in row:
            cell.number_format = "#,##0;-#,##0"
    for row in sheet.iter_rows(min_row=total_row + 2, max_row=sheet.max_row, min_col=2, max_col=2):
        for cell in row:
            label = sheet.cell(row=cell.row, column=1).value or ""
            cell.number_format = "0.0%" if ("ROI" in label or "Return" in label or "rate" in label or "IRR" in label) else "#,##0"
    sheet.column_dimensions["A"].width = 44
    for col in range(2, 10):
        sheet.column_dimensions[get_column_letter(col)].width = 20
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
