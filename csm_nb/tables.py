"""Reading the cash-flow table (SPEC 4.2) and measurements (SPEC 4.3).

Both come as CSV or .xlsx files, or as inline rows in an engagement file.
Every problem is reported as one ``InputError`` line naming the source, the
row (as a person counts it: the header is row 1) and the column.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import InputError, NotFoundError
from .model import CashFlowLine, Measurement

CASH_FLOW_COLUMNS = ("period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act")
MEASUREMENT_COLUMNS = ("kpi", "period", "value")

_CURRENCY_MARKS = re.compile(r"[$€£¥₹]|\b[A-Z]{3}\b")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Commas only as thousands separators (1,000,000 or the Indian 1,00,000): "3,5"
# could be a decimal comma and is refused rather than read as 35.
_GROUPED = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3})(\.\d*)?")


def parse_amount(cell: Any, *, where: str) -> float | None:
    """A money or number cell: ``None`` when empty (not known yet), else a float.

    Accepts thousands separators, currency symbols or codes, a trailing ``%``
    is *not* accepted (amounts are money), accounting negatives in brackets,
    and a lone ``-`` (the accounting dash for zero).

    >>> parse_amount("$20,000", where="row 2, column revenue_est")
    20000.0
    >>> parse_amount("(1,250.50)", where="x")
    -1250.5
    >>> parse_amount("", where="x") is None
    True
    >>> parse_amount("-", where="x")
    0.0
    """
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise InputError(f"{where}: expected a number, got {cell!r}")
    if isinstance(cell, (int, float)):
        if cell != cell:  # NaN from a spreadsheet means nothing is there
            return None
        if not math.isfinite(cell):
            raise InputError(f"{where}: expected a finite number, got {cell!r}")
        return float(cell)
    text = str(cell).strip()
    if not text:
        return None
    if text in {"-", "–", "—"}:
        return 0.0
    negative = text.startswith("(") and text.endswith(")")
    cleaned = text[1:-1] if negative else text
    cleaned = _CURRENCY_MARKS.sub("", cleaned).replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        if not _GROUPED.fullmatch(cleaned):
            raise InputError(
                f"{where}: expected a number such as 20000 or $20,000 (commas only between thousands), got {text!r}"
            )
        cleaned = cleaned.replace(",", "")
    if cleaned.startswith("-") and _CURRENCY_MARKS.search(text):
        cleaned = "-" + cleaned.lstrip("-")
    if not _NUMBER.fullmatch(cleaned):
        raise InputError(f"{where}: expected a number such as 20000 or $20,000 (or empty for not known yet), got {text!r}")
    value = float(cleaned)
    if not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number, got {text!r}")
    return -value if negative else value


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and numbered data rows of a CSV or .xlsx file (blank rows skipped)."""
    if not path.is_file():
        raise NotFoundError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in {".xlsx", ".xlsm"}:
        rows = _xlsx_rows(path)
    else:
        raise InputError(f"{path}: expected a .csv or .xlsx file, got {suffix or 'no extension'!r}")
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(c not in (None, "") for c in r)]
    if not numbered:
        raise InputError(f"{path}: the file is empty; expected a header row")
    (_, header), body = numbered[0], numbered[1:]
    return [str(h or "").strip().lower() for h in header], body


def _csv_rows(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # what Excel on Windows saves as "CSV"
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook  # only needed for spreadsheets

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{path}: not a readable .xlsx file ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _check_columns(source: str, header: list[str], expected: tuple[str, ...]) -> dict[str, int]:
    unknown = [h for h in header if h and h not in expected]
    if unknown:
        raise InputError(f"{source}: unknown column(s) {', '.join(map(repr, unknown))}; expected: {', '.join(expected)}")
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; expected: {', '.join(expected)}")
    return {name: header.index(name) for name in expected}


def _cell(row: list[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def cash_flow_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[CashFlowLine]:
    """Validate numbered rows (as mappings) into cash-flow lines, in order."""
    lines: list[CashFlowLine] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        period = row.get("period")
        label = _period_label(period)
        if not label:
            raise InputError(f"{source}, row {number}, column period: expected a period label such as 'Week 0', got nothing")
        if label in seen:
            raise InputError(f"{source}, row {number}, column period: {label!r} already appears in row {seen[label]}; one row a period")
        seen[label] = number
        amounts = {
            name: parse_amount(row.get(name), where=f"{source}, row {number}, column {name}")
            for name in CASH_FLOW_COLUMNS[1:]
        }
        for name, value in amounts.items():
            if value is not None and value < 0:
                raise InputError(
                    f"{source}, row {number}, column {name}: expected an amount of zero or more, got {value:g}; "
                    "enter money out as a positive expenditure"
                )
        lines.append(CashFlowLine(period=label, **amounts))
    return lines


def _period_label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return str(value).strip()


def read_cash_flow(path: Path) -> list[CashFlowLine]:
    """A cash-flow table from a CSV or .xlsx file (SPEC 4.2)."""
    header, body = read_rows(path)
    index = _check_columns(str(path), header, CASH_FLOW_COLUMNS)
    rows = ((n, {c: _cell(r, i) for c, i in index.items()}) for n, r in body)
    return cash_flow_from_rows(str(path), rows)


def measurements_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Measurement]:
    out: list[Measurement] = []
    for number, row in rows:
        kpi = str(row.get("kpi") or "").strip()
        if not kpi:
            raise InputError(f"{source}, row {number}, column kpi: expected a KPI id, got nothing")
        period = parse_period(row.get("period"), where=f"{source}, row {number}, column period")
        value = parse_amount(row.get("value"), where=f"{source}, row {number}, column value")
        if value is None:
            raise InputError(f"{source}, row {number}, column value: expected a number, got nothing")
        out.append(Measurement(kpi=kpi, period=period, value=value))
    return out


def parse_period(cell: Any, *, where: str) -> int | str:
    """A measurement's period: a whole period index (0, 1, ...) or an ISO date.

    >>> parse_period("3", where="x"), parse_period("2026-01-31", where="x")
    (3, '2026-01-31')
    """
    if isinstance(cell, bool) or cell is None or cell == "":
        raise InputError(f"{where}: expected a period index (0, 1, 2 ...) or a date (YYYY-MM-DD), got {cell!r}")
    if isinstance(cell, (dt.datetime, dt.date)):
        return cell.isoformat()[:10]
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, int):
        if cell < 0:
            raise InputError(f"{where}: expected a period index of 0 or more, got {cell}")
        return cell
    text = str(cell).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise InputError(
            f"{where}: expected a period index (0, 1, 2 ...) or a date (YYYY-MM-DD), got {text!r}"
        ) from None


def read_measurements(path: Path) -> list[Measurement]:
    """Measurements from a CSV or .xlsx file (SPEC 4.3)."""
    header, body = read_rows(path)
    index = _check_columns(str(path), header, MEASUREMENT_COLUMNS)
    rows = ((n, {c: _cell(r, i) for c, i in index.items()}) for n, r in body)
    return measurements_from_rows(str(path), rows)


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterator[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
