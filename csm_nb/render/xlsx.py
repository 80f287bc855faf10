"""The cash flow as an .xlsx workbook with live formulas, so finance can audit every figure in
their own spreadsheet: inputs are values, everything derived (net, cumulative, totals, profit,
both ROIs, NPV, IRR) is an Excel formula.

Written with XlsxWriter, which stores each formula's computed value beside it: a reader that
does not calculate (pandas, openpyxl with ``data_only=True``, a phone's preview) sees the numbers,
and Excel or LibreOffice recalculating get the same ones. The values come from the report's own
:class:`~csm_nb.method.cashflow.CashFlowSummary`, so the sheet and the report agree by
construction, and ``tests/test_xlsx.py`` has LibreOffice recalculate every formula and compares it
with the results file to the cent.

The same rule for what is not known yet as the report: an actual net or cumulative figure is
blank while an actual is missing; the actual totals, actual profit, ROIs, NPV and IRR say
"to come" until every actual is in; a separate "To date" row sums the actuals known so far
against the estimate for the same periods.
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
TO_COME = "to come"  # an actual figure that needs actuals not in yet (the report's "not known yet")
FIRST_ROW = 4  # the first period's row (1-based, as a spreadsheet shows it)

# Characters an .xlsx cannot hold at all; a pasted label may carry one.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _plain(value: str) -> str:
    # XML reads a bare CR as a line feed anyway; say so up front, so what is written is what is read.
    return _ILLEGAL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _cached(value: float | None) -> Any:
    """A formula's stored result: the number, or "" where the report has none."""
    return "" if value is None else value


def cash_flow_workbook_bytes(
    lines: Sequence[CashFlowLine], *, title: str, currency: str, discount_rate: float | None = None
) -> bytes:
    """The workbook as bytes. Columns B-E are the inputs; F-I, the totals and the summary are
    formulas, each with its computed value stored.

    Text from people (the title, period labels) is written as strings with Excel's quote prefix:
    never a formula, a number or a link, and kept text when someone edits the cell.
    """
    import xlsxwriter

    from csm_nb.method import cashflow

    summary = cashflow.summarise(list(lines), discount_rate=discount_rate)
    buffer = io.BytesIO()
    # No guessing from strings: a label like "=1+2" or "http://..." stays the label it is.
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet("Cash flow")
    money = "#,##0;-#,##0"
    fmt = {
        "text": book.add_format({"quote_prefix": True}),
        "title": book.add_format({"quote_prefix": True, "bold": True, "font_size": 13}),
        "head": book.add_format({"bold": True, "text_wrap": True, "valign": "bottom"}),
        "money": book.add_format({"num_format": money, "align": "right"}),
        "total": book.add_format({"num_format": money, "bold": True, "top": 1, "align": "right"}),
        "total_text": book.add_format({"bold": True, "top": 1, "quote_prefix": True}),
        "pct": book.add_format({"num_format": "0.0%", "align": "right"}),
        "rate": book.add_format({"num_format": "0.000%", "align": "right"}),
        "label": book.add_format({"align": "right", "quote_prefix": True}),
    }
    sheet.write_string(0, 0, _plain(title), fmt["title"])
    sheet.write_string(
        1,
        0,
        f"Amounts in {_plain(currency)}. Money out is negative in the net columns. Blank = not known yet; "
        f'"{TO_COME}" = needs actuals not in yet.',
        fmt["text"],
    )
    for col, header in enumerate(HEADERS):
        sheet.write_string(2, col, header, fmt["head"])

    first, last = FIRST_ROW, FIRST_ROW + len(lines) - 1
    for i, line in enumerate(lines):
        r = first + i
        row = r - 1  # XlsxWriter counts from 0
        sheet.write_string(row, 0, _plain(str(line.period)), fmt["text"])
        for col, value in enumerate((line.expenditure_est, line.expenditure_act, line.revenue_est, line.revenue_act), start=1):
            if value is None:
                sheet.write_blank(row, col, None, fmt["money"])
            else:
                sheet.write_number(row, col, value, fmt["money"])
        sheet.write_formula(row, 5, f"=D{r}-B{r}", fmt["money"], summary.net_est[i])
        sheet.write_formula(row, 6, f'=IF(OR(C{r}="",E{r}=""),"",E{r}-C{r})', fmt["money"], _cached(summary.net_act[i]))
        sheet.write_formula(row, 7, f"=F{r}" if r == first else f"=H{r - 1}+F{r}", fmt["money"], summary.cumulative_est[i])
        cumulative_act = f'=IF(G{r}="","",G{r})' if r == first else f'=IF(OR(I{r - 1}="",G{r}=""),"",I{r - 1}+G{r})'
        sheet.write_formula(row, 8, cumulative_act, fmt["money"], _cached(summary.cumulative_act[i]))

    # Totals: estimates always; actuals only once every actual is in, as in the report.
    t = last + 1
    complete = f"COUNTBLANK(G{first}:G{last})=0"
    totals = summary.totals
    net_est_total = cashflow.total(summary.net_est)
    net_act_total = cashflow.total(summary.net_act) if summary.complete else None
    sheet.write_string(t - 1, 0, "Total", fmt["total_text"])
    for col, letter, value, actual in (
        (1, "B", totals["expenditure_est"], False),
        (2, "C", totals["expenditure_act"], True),
        (3, "D", totals["revenue_est"], False),
        (4, "E", totals["revenue_act"], True),
        (5, "F", net_est_total, False),
        (6, "G", net_act_total, True),
    ):
        formula = f"SUM({letter}{first}:{letter}{last})"
        if actual:
            sheet.write_formula(
                t - 1, col, f'=IF({complete},{formula},"{TO_COME}")', fmt["total"], TO_COME if value is None else value
            )
        else:
            sheet.write_formula(t - 1, col, f"={formula}", fmt["total"], value)

    next_row = t + 1
    to_date = summary.to_date
    if to_date is not None and not summary.complete:
        # The actuals known so far against the estimate for the same periods (the report's "To date" row).
        k = first + to_date.last_period
        d = next_row
        sheet.write_string(d - 1, 0, f"To date ({_plain(summary.periods[to_date.last_period])})", fmt["total_text"])
        for col, letter, value in (
            (1, "B", to_date.expenditure_est),
            (2, "C", to_date.expenditure_act),
            (3, "D", to_date.revenue_est),
            (4, "E", to_date.revenue_act),
            (5, "F", to_date.net_est),
            (6, "G", to_date.net_act),
        ):
            sheet.write_formula(d - 1, col, f"=SUM({letter}{first}:{letter}{k})", fmt["total"], value)
        next_row = d + 1

    def actual(formula: str, value: float | None) -> tuple[str, Any]:
        return f'=IF({formula[0]},{formula[1]},"{TO_COME}")', TO_COME if value is None else value

    rows: list[tuple[str, Any, Any, str]] = [
        ("Profit (estimated)", f"=D{t}-B{t}", summary.profit_est, "money"),
        ("Profit (actual)", *actual((complete, f"E{t}-C{t}"), summary.profit_act), "money"),
        ("Return on cost, revenue ÷ cost (estimated)", f'=IF(B{t}=0,"",D{t}/B{t})', _cached(summary.return_on_cost_est), "pct"),
        (
            "Return on cost, revenue ÷ cost (actual)",
            *actual((f"AND({complete},C{t}<>0)", f"E{t}/C{t}"), summary.return_on_cost_act),
            "pct",
        ),
        ("Net ROI, profit ÷ cost (estimated)", f'=IF(B{t}=0,"",(D{t}-B{t})/B{t})', _cached(summary.net_roi_est), "pct"),
        (
            "Net ROI, profit ÷ cost (actual)",
            *actual((f"AND({complete},C{t}<>0)", f"(E{t}-C{t})/C{t}"), summary.net_roi_act),
            "pct",
        ),
    ]
    if discount_rate is not None:
        rate_row = next_row + 1 + len(rows)  # the row the rate lands on, below a blank line

        def npv(letter: str) -> str:
            # Excel's NPV discounts its first value; the first period is "now", so it is added undiscounted.
            later = f"+NPV(B{rate_row},{letter}{first + 1}:{letter}{last})" if last > first else ""
            return f"{letter}{first}{later}"

        rows += [
            ("Discount rate per period", None, discount_rate, "rate"),
            ("NPV (estimated)", f"={npv('F')}", summary.npv_est, "money"),
            ("NPV (actual)", *actual((complete, npv("G")), summary.npv_act), "money"),
            ("IRR per period (estimated)", f"=IRR(F{first}:F{last})", _cached(summary.irr_est), "rate"),
            ("IRR per period (actual)", *actual((complete, f"IRR(G{first}:G{last})"), summary.irr_act), "rate"),
        ]
    # Payback is a period of the plan, found by csm-nb exactly as in the report (text, not a formula).
    paybacks = [
        ("Payback period (estimated)", summary.payback_index_est, True),
        ("Payback period (actual)", summary.payback_index_act, summary.complete),
    ]
    if discount_rate is not None:
        paybacks += [
            ("Discounted payback period (estimated)", summary.discounted_payback_est, True),
            ("Discounted payback period (actual)", summary.discounted_payback_act, summary.complete),
        ]
    r = next_row + 1  # one blank row under the totals
    for label, formula, value, kind in rows:
        sheet.write_string(r - 1, 0, label, fmt["text"])
        if formula is None:
            sheet.write_number(r - 1, 1, value, fmt[kind])
        else:
            sheet.write_formula(r - 1, 1, formula, fmt[kind], value)
        r += 1
    for label, index, known in paybacks:
        sheet.write_string(r - 1, 0, label, fmt["text"])
        shown = (summary.period_label(index) or "not within the plan") if known else TO_COME
        sheet.write_string(r - 1, 1, _plain(shown), fmt["label"])
        r += 1

    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 8, 14)
    sheet.set_row(2, 32)
    sheet.freeze_panes(3, 1)
    # Printed: A4 landscape, one page wide, the header row on every page.
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    book.close()
    return buffer.getvalue()
