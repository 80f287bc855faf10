"""Reading the cash-flow table (period, expenditure and revenue, estimated and actual), measurements (kpi, period, value),
and the logs appended beside them: events (date, type, ...) and the moment log (moment, ...).

Both come as CSV or .xlsx files, or as inline rows in an engagement file.
Every problem is reported as one ``InputError`` line naming the source, the
row (as a person counts it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from csm_nb import config
from csm_nb.data.files import ZIP_MAGIC, decode_text, read_limited
from csm_nb.data.lifecycle import (
    activity_key,
    activity_record,
    event_key,
    event_record,
    moment_key,
    moment_record,
    pulse_key,
    shown_event_key,
    shown_moment_key,
    shown_pulse_key,
)
from csm_nb.data.schema import ACTIVITY, EVENT, MOMENT_LOG_ENTRY, PULSE_ANSWER, Context, Path_, Record
from csm_nb.errors import CsmError, InputError, LimitError
from csm_nb.model import Activity, CashFlowLine, Event, Measurement, MomentRecord, PulseAnswer
from csm_nb.vocabulary import InlineRows, parse_amount, parse_period, row_at

CASH_FLOW_COLUMNS = ("period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act")
MEASUREMENT_COLUMNS = ("kpi", "period", "value")
MOMENT_LOG_COLUMNS = ("moment", "due", "held", "status", "attendees", "outcome", "delay_reason", "note")
EVENT_COLUMNS = ("date", "type", "severity", "ref", "score", "scale", "respondent", "note")
ACTIVITY_COLUMNS = ("date", "type", "title", "missions", "with", "moment", "minutes", "outcome")
# What ``csm-nb import FILE --engagement ID`` appends, told apart by the header (and, in a workbook, the sheet's name).
PULSE_COLUMNS = ("date", "respondent", "desired_outcome", "importance", "satisfaction", "comment")
LOG_KINDS = ("measurements", "events", "moments", "activities", "pulse")

# The limits a table is held to (README "Limits") live in config beside the engagement-file
# limits, where the README test checks them, and are read at each check (a test may lower them):
#   MAX_TABLE_BYTES        50 MB  a CSV or .xlsx file, checked by stat before it is read
#   MAX_TABLE_ROWS       200,000  data rows of one table: reading stops at the first row past it
#   MAX_CASH_FLOW_PERIODS 10,000  periods of one cash flow (rendering a million needed > 8 GB)
#   MAX_PERIOD_INDEX       1,200  a measurement's period index: a century of months

# One part of an .xlsx unzipped (the worksheet read, the shared strings): a 50 MB zip can
# inflate a thousandfold, and openpyxl holds the shared strings in memory. A 200,000-row
# measurements sheet saved by Excel is about 25 MB of XML; this is ten times that.
MAX_XLSX_PART_BYTES = 250 * 1024 * 1024

# An old .xls workbook, or an .xlsx saved with a password (both are OLE compound files).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Enough of the first line to tell its delimiter; sniffing a 50 MB line would take minutes.
_SNIFF_CHARS = 8192

# Commas only as thousands separators (1,000,000 or the Indian 1,00,000): "3,5"
# could be a decimal comma and is refused rather than read as 35.


def _row_word(source: str) -> str:
    return "line" if isinstance(source, InlineRows) else "row"


def read_rows(
    path: Path, *, sheet: str | tuple[str, ...], max_rows: int | None = None
) -> tuple[str, list[str], list[tuple[int, list[Any]]]]:
    """Where rows are (the file, and the sheet of a workbook), the header and the numbered data rows (blank ones skipped).

    ``sheet`` is the worksheet to read in a workbook (``cash_flow`` or
    ``measurements``, any case; or a tuple of names, any of them); without
    one of that name the only visible
    sheet is read, and with several the file is refused naming them. A hidden
    sheet is never read. A row with more cells than the header, a value under
    a column with no header, a column named twice, a formula with no saved
    value, or more than ``max_rows`` data rows is refused naming the row.
    Rows are read one at a time, so a file past the limit is refused without
    reading the rest.
    """
    max_rows = config.MAX_TABLE_ROWS if max_rows is None else max_rows
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx", ".xlsm"}:
        raise InputError(f"{path}: expected a .csv or .xlsx file, got {suffix or 'no extension'!r}")
    raw = read_limited(path, limit=config.MAX_TABLE_BYTES, what="a table")
    if raw.startswith(_OLE_MAGIC):
        raise InputError(
            f"{path}: this is an old-format Excel .xls workbook or a password-protected one; "
            "save it from Excel as .xlsx without a password, or as 'CSV UTF-8'"
        )
    if suffix == ".csv":
        if raw.startswith(ZIP_MAGIC):
            raise InputError(
                f"{path}: this is an Excel workbook (a zip file) with a .csv name; rename it to .xlsx, "
                "or save it from Excel as 'CSV UTF-8'"
            )
        rows: Iterable[list[Any]] = _csv_rows(raw, source=str(path))
        where = str(path)
    else:
        if not raw.startswith(ZIP_MAGIC):
            raise InputError(f"{path}: not an Excel .xlsx workbook (it is not a zip file); save it from Excel as .xlsx or CSV")
        rows, where = _xlsx_rows(path, raw, sheet=sheet)
    header: list[str] | None = None
    width = 0
    body: list[tuple[int, list[Any]]] = []
    for number, row in enumerate(rows, start=1):
        if all(_blank(c) for c in row):
            continue
        if header is None:
            header = ["" if h is None else str(h).strip().lower() for h in row]
            width = max(i + 1 for i, h in enumerate(header) if h)
            _check_header(where, number, header)
            continue
        filled = max(i + 1 for i, c in enumerate(row) if not _blank(c))
        if filled > width:
            raise InputError(
                f"{where}, row {number}: {filled} cells but the header has {width} columns; "
                "remove the extra cells or add a header for them"
            )
        for i in range(filled):
            if not header[i] and not _blank(row[i]):
                raise InputError(
                    f"{where}, row {number}, column {_column_letter(i + 1)}: {_shown(row[i])} is in a column "
                    "with no header; name the column or clear the cell"
                )
        if len(body) >= max_rows:
            raise LimitError(f"{where}: more than {max_rows:,} data rows; split the file (the limit is in the README)")
        body.append((number, list(row)))
    if header is None:
        raise InputError(f"{path}: the file is empty; expected a header row")
    return where, header, body


def _blank(cell: Any) -> bool:
    """Nothing in the cell: empty, or only spaces (a cell a person cleared with the space bar)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _shown(cell: Any) -> str:
    text = repr(cell.strip() if isinstance(cell, str) else cell)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_header(where: str, number: int, header: list[str]) -> None:
    """One column a name: with two, one of them would be silently ignored."""
    first: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name in first:
            raise InputError(
                f"{where}, row {number}: the column {name!r} is named twice (columns "
                f"{_column_letter(first[name] + 1)} and {_column_letter(i + 1)}); keep one of them"
            )
        first[name] = i


def _column_letter(index: int) -> str:
    """Column ``index`` (1 = A) as Excel names it, for CSV files too (people open them in Excel)."""
    from openpyxl.utils import get_column_letter  # only on the error path

    return get_column_letter(index)


def _csv_rows(raw: bytes, *, source: str) -> Iterator[list[str]]:
    text = decode_text(raw, source=source, save_as="'CSV UTF-8' (Excel: File > Save As > CSV UTF-8)")
    first_line = re.split(r"\r\n|\r|\n", text[:_SNIFF_CHARS], maxsplit=1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from reader
    except csv.Error as exc:
        raise InputError(f"{source}, row {reader.line_num}: not a readable CSV row ({exc})") from None


def _xlsx_rows(path: Path, raw: bytes, *, sheet: str | tuple[str, ...]) -> tuple[Iterator[list[Any]], str]:
    import warnings
    import zipfile

    from openpyxl import load_workbook  # only needed for spreadsheets

    # openpyxl warns about features it drops when saving (data validation, extensions);
    # we only read, and a warning on the console would look like an error to a user.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")

    def unreadable(exc: BaseException, at: str = "") -> InputError:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        return InputError(
            f"{path}: not a readable .xlsx file ({at}{detail[:160]}); open and save it in Excel, or export it as CSV"
        )

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        parts = {info.filename.lstrip("/"): info.file_size for info in archive.infolist()}
    except Exception as exc:  # BadZipFile, or a damaged directory that zipfile trips over
        raise unreadable(exc) from None

    def check_part(name: str | None) -> None:
        size = parts.get((name or "").lstrip("/"), 0)
        if size > MAX_XLSX_PART_BYTES:
            raise LimitError(
                f"{path}: its part {name} unzips to {size / 1024 / 1024:,.0f} MB, more than the "
                f"{MAX_XLSX_PART_BYTES / 1024 / 1024:,.0f} MB allowed; export the sheet as CSV"
            )

    for name in parts:
        if name.lower().endswith("sharedstrings.xml"):  # loaded whole, with the workbook
            check_part(name)

    def opened(data_only: bool) -> Any:
        try:
            return load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only)
        except CsmError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise unreadable(exc) from None

    book = opened(True)
    chosen = _choose_sheet(path, book, sheet)
    where = f"{path}, sheet {chosen!r}"
    member = getattr(book[chosen], "_worksheet_path", None)
    check_part(member)
    has_formulas = _sheet_has_formulas(archive, member)

    def rows() -> Iterator[list[Any]]:
        formula_book: Any = None  # the same workbook with formulas, opened once a row has an empty cell
        formulas: Iterator[tuple[Any, ...]] = iter(())
        at = 0  # rows of ``formulas`` read so far
        number = 0
        try:
            values_rows = book[chosen].iter_rows(values_only=True)
            while True:
                try:  # openpyxl reads the sheet's XML lazily: a damaged sheet fails here, not on opening
                    values = next(values_rows, None)
                except Exception as exc:
                    raise unreadable(exc, f"sheet {chosen!r}, after row {number}: ") from None
                if values is None:
                    return
                number += 1
                values = list(values)
                if has_formulas and None in values:
                    # A formula saved without its value (written by a script, never opened in
                    # Excel) reads as empty; the cost is one more pass over the sheet, only then.
                    try:
                        if formula_book is None:
                            formula_book = opened(False)
                            formulas = formula_book[chosen].iter_rows(values_only=True)
                        cells: tuple[Any, ...] = ()
                        while at < number:
                            cells, at = next(formulas, ()), at + 1
                    except CsmError:
                        raise
                    except Exception as exc:
                        raise unreadable(exc, f"sheet {chosen!r}, row {number}: ") from None
                    for column, (value, cell) in enumerate(zip(values, cells, strict=False), start=1):
                        formula = _formula_text(cell) if value is None else None
                        if formula is not None:
                            raise InputError(
                                f"{where}, row {number}, column {_column_letter(column)}: a formula with no saved value "
                                f"({formula[:40]}); open and save the file in Excel, or export it as CSV"
                            )
                yield values
        finally:
            book.close()
            if formula_book is not None:
                formula_book.close()

    return rows(), where


def _formula_text(cell: Any) -> str | None:
    """The formula a cell holds, as written, or ``None``: plain ``=...`` text, or an array or data-table formula."""
    if isinstance(cell, str):
        return cell if cell.startswith("=") else None
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if isinstance(cell, ArrayFormula):
        text = str(cell.text or "")
        return text if text.startswith("=") else f"={text}"
    if isinstance(cell, DataTableFormula):
        return "a data table"
    return None


def _sheet_has_formulas(archive: Any, member: str | None) -> bool:
    """Whether the sheet's XML holds any formula (``<f>``): most do not, and then the second pass is skipped.

    Measured with ``read_cash_flow`` on a 10,000-row cash flow whose actuals
    are empty (mean of 3 runs, 4 repeats): 1.05 s with the formula pass on
    every row, 0.5-0.7 s with this check first; openpyxl alone reads the
    values in 0.37-0.40 s.
    The XML is streamed, so a sheet that inflates far beyond its zipped size
    is never held in memory.
    """
    import zipfile

    if not member:
        return True  # cannot tell: look
    tail = b""
    try:
        with archive.open(member.lstrip("/")) as xml:
            while chunk := xml.read(1 << 20):
                window = tail + chunk
                if any(tag in window for tag in (b"<f>", b"<f ", b":f>", b":f ")):
                    return True
                tail = window[-4:]
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError):
        return True  # let the reading itself name what is wrong
    return False


def _choose_sheet(path: Path, book: Any, wanted: str | tuple[str, ...]) -> str:
    # Worksheets only: a chart sheet has no rows to read.
    sheets = [(ws.title, getattr(ws, "sheet_state", "visible") == "visible") for ws in book.worksheets]
    names_wanted = (wanted,) if isinstance(wanted, str) else wanted
    named = [(title, visible) for title, visible in sheets if title.strip().lower() in names_wanted]
    wanted = " or ".join(map(repr, names_wanted))
    if named:
        title, visible = named[0]
        if not visible:
            raise InputError(
                f"{path}: the worksheet {title!r} is hidden; unhide it in Excel (right-click a sheet tab, "
                "Unhide) to have it read, or rename it"
            )
        return title
    visible = [title for title, shown in sheets if shown]
    if len(visible) == 1:
        return visible[0]
    names = ", ".join(repr(n) for n in book.sheetnames)
    if not visible:
        raise InputError(f"{path}: no visible worksheet (it has {names}); unhide the one to read, or name it {wanted}")
    raise InputError(f"{path}: which worksheet? it has {names}; name the one to read {wanted}")


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
        if len(lines) >= config.MAX_CASH_FLOW_PERIODS:
            raise LimitError(
                f"{source}: more than {config.MAX_CASH_FLOW_PERIODS:,} cash-flow periods; "
                "use longer periods (months, quarters) or split the plan"
            )
        period = row.get("period")
        label = _period_label(period)
        if not label:
            raise InputError(f"{row_at(source, number)}, column period: expected a period label such as 'Week 0', got nothing")
        if label in seen:
            raise InputError(
                f"{row_at(source, number)}, column period: {label!r} already appears in {_row_word(source)} {seen[label]}; one row a period"
            )
        seen[label] = number
        amounts = {
            name: parse_amount(row.get(name), where=f"{row_at(source, number)}, column {name}") for name in CASH_FLOW_COLUMNS[1:]
        }
        for name, value in amounts.items():
            if value is not None and value < 0:
                raise InputError(
                    f"{row_at(source, number)}, column {name}: expected an amount of zero or more, got {value:g}; "
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
    """A cash-flow table from a CSV or .xlsx file: columns period, expenditure_est, expenditure_act, revenue_est, revenue_act."""
    where, header, body = read_rows(path, sheet="cash_flow", max_rows=min(config.MAX_CASH_FLOW_PERIODS, config.MAX_TABLE_ROWS))
    index = _check_columns(where, header, CASH_FLOW_COLUMNS)
    rows = ((n, {c: _cell(r, i) for c, i in index.items()}) for n, r in body)
    return cash_flow_from_rows(where, rows)


def measurements_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Measurement]:
    """Validate numbered rows (as mappings) into measurements, in order."""
    return [m for _, m in numbered_measurements(source, rows)]


def numbered_measurements(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, Measurement]]:
    """Each measurement with the row (or line) it came from, so later checks can name it."""
    out: list[tuple[int, Measurement]] = []
    seen: dict[tuple[str, int | str], int] = {}
    for number, row in rows:
        if len(out) >= config.MAX_TABLE_ROWS:
            raise LimitError(f"{source}: more than {config.MAX_TABLE_ROWS:,} measurements; split the file")
        kpi = str(row.get("kpi") or "").strip()
        if not kpi:
            raise InputError(f"{row_at(source, number)}, column kpi: expected a KPI id, got nothing")
        period = parse_period(row.get("period"), where=f"{row_at(source, number)}, column period")
        value = parse_amount(row.get("value"), where=f"{row_at(source, number)}, column value")
        if value is None:
            raise InputError(f"{row_at(source, number)}, column value: expected a number, got nothing")
        first = seen.setdefault((kpi, period), number)
        if first != number:
            raise InputError(
                f"{row_at(source, number)}: KPI {kpi!r} period {period!r} is already in {_row_word(source)} {first}; "
                "one value a KPI a period (remove one of them)"
            )
        out.append((number, Measurement(kpi=kpi, period=period, value=value)))
    return out


def read_measurements(path: Path) -> list[Measurement]:
    """Measurements from a CSV or .xlsx file: columns kpi, period (an index or an ISO date) and value."""
    return [m for _, m in read_numbered_measurements(path)]


def read_numbered_measurements(path: Path) -> list[tuple[int, Measurement]]:
    """Measurements from a CSV or .xlsx file, each with its row number."""
    where, header, body = read_rows(path, sheet="measurements")
    index = _check_columns(where, header, MEASUREMENT_COLUMNS)
    rows = ((n, {c: _cell(r, i) for c, i in index.items()}) for n, r in body)
    return numbered_measurements(where, rows)


# -- the logs appended with csm-nb import FILE --engagement ID -------------------------------------------
@dataclass
class LogTable:
    """One appended table: which log it is (``LOG_KINDS``), where it came from, and its rows with their numbers."""

    kind: str
    source: str
    rows: list[tuple[int, Any]]  # (row number, Measurement | Event | MomentRecord)


def read_log(path: Path) -> LogTable:
    """Measurements, events or moment-log entries from a CSV or .xlsx file, the log told by the header.

    ``kpi, period, value`` are measurements; a header with ``moment`` is the moment log
    (``MOMENT_LOG_COLUMNS``); one with ``date`` and ``type`` is events (``EVENT_COLUMNS``). In a
    workbook, a sheet named measurements, events or moments is read (else the only visible one).
    """
    where, header, body = read_rows(path, sheet=LOG_KINDS)
    names = {h for h in header if h}
    if "kpi" in names:
        index = _check_columns(where, header, MEASUREMENT_COLUMNS)
        rows = ((n, {c: _cell(r, i) for c, i in index.items()}) for n, r in body)
        return LogTable("measurements", where, numbered_measurements(where, rows))
    if "desired_outcome" in names:
        return LogTable("pulse", where, pulse_from_rows(where, _log_rows(where, header, body, PULSE_COLUMNS)))
    if "moment" in names:
        return LogTable("moments", where, moment_log_from_rows(where, _log_rows(where, header, body, MOMENT_LOG_COLUMNS)))
    if {"date", "type", "title"} <= names:
        return LogTable("activities", where, activities_from_rows(where, _log_rows(where, header, body, ACTIVITY_COLUMNS)))
    if {"date", "type"} <= names:
        return LogTable("events", where, events_from_rows(where, _log_rows(where, header, body, EVENT_COLUMNS)))
    raise InputError(
        f"{where}: which log is this? expected the columns kpi, period, value (measurements), date, type, ... "
        f"(events: {', '.join(EVENT_COLUMNS)}), date, type, title, ... (activities: {', '.join(ACTIVITY_COLUMNS)}) "
        f"moment, ... (the moment log: {', '.join(MOMENT_LOG_COLUMNS)}) or date, respondent, desired_outcome, "
        f"satisfaction, ... (pulse answers: {', '.join(PULSE_COLUMNS)}); "
        f"got {', '.join(h for h in header if h) or 'no names'}"
    )


def _log_rows(
    where: str, header: list[str], body: list[tuple[int, list[Any]]], columns: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    unknown = [h for h in header if h and h not in columns]
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; expected some of: {', '.join(columns)}")
    index = {name: i for i, name in enumerate(header) if name}
    for number, row in body:
        yield number, {c: _cell(row, i) for c, i in index.items()}


@dataclass
class _RowContext(Context):
    """Names a table's row and column, as the other table messages do: ``events.csv, row 3, column type``."""

    number: int = 0

    def where(self, path: Path_) -> str:
        place = row_at(self.source, self.number)
        return f"{place}, column {path[0]}" if path else place


def _checked_row(record: Record, source: str, number: int, row: dict[str, Any]) -> tuple[dict[str, Any], Context]:
    """A row's filled cells checked by the engagement file's rules (``record``); attendees split at semicolons."""
    ctx = _RowContext(source=source, number=number)
    cells = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if not _blank(v)}
    for name in record.required:
        if name not in cells:
            raise ctx.fail((name,), "expected a value, got nothing")
    for listed in ("attendees", "missions", "with"):  # a list in one cell, split at semicolons
        if isinstance(cells.get(listed), str):
            cells[listed] = [name.strip() for name in cells[listed].split(";") if name.strip()]
    return record.check(cells, (), ctx), ctx


# A log's entry (Event, MomentRecord) and the key that tells two entries apart.
_Entry = TypeVar("_Entry")
_Key = TypeVar("_Key", bound=Hashable)


def _log_from_rows(
    source: str,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    spec: Record,
    build: Callable[[Mapping[str, Any], Path_, Context], _Entry],
    key: Callable[[_Entry], _Key],
    shown: Callable[[_Key], str],
    hint: str,
) -> list[tuple[int, _Entry]]:
    """Numbered rows checked by ``spec`` and built into entries; a second row with an entry's ``key`` is refused.

    The refusal names the key in words (``shown``), the row that had it first, and ``hint``.
    """
    out: list[tuple[int, _Entry]] = []
    seen: dict[_Key, int] = {}
    for number, row in rows:
        cells, ctx = _checked_row(spec, source, number, dict(row))
        entry = build(cells, (), ctx)
        first = seen.setdefault(key(entry), number)
        if first != number:
            raise InputError(f"{row_at(source, number)}: {shown(key(entry))} is already in {_row_word(source)} {first}; {hint}")
        out.append((number, entry))
    return out


def moment_log_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, MomentRecord]]:
    """Numbered rows (as mappings) as moment-log entries; one row an occurrence (``lifecycle.moment_key``)."""
    return _log_from_rows(
        source,
        rows,
        spec=MOMENT_LOG_ENTRY,
        build=moment_record,
        key=moment_key,
        shown=shown_moment_key,
        hint="one row an occurrence (remove one of them)",
    )


def events_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, Event]]:
    """Numbered rows (as mappings) as events; one row an event (``lifecycle.event_key``)."""
    return _log_from_rows(
        source,
        rows,
        spec=EVENT,
        build=event_record,
        key=event_key,
        shown=shown_event_key,
        hint="give each a ref (a case or survey number) to tell them apart",
    )


def activities_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, Activity]]:
    """Numbered rows (as mappings) as the CSM's activities; one row an activity (``lifecycle.activity_key``)."""
    return _log_from_rows(
        source,
        rows,
        spec=ACTIVITY,
        build=lambda cells, _path, _ctx: activity_record(cells),
        key=activity_key,
        shown=lambda k: f"the {k[1]} {k[2]!r} of {k[0]}",
        hint="one row an activity (give the second one its own title)",
    )


def pulse_from_rows(source: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, PulseAnswer]]:
    """Numbered rows (as mappings) as pulse answers; one row a person, outcome and day (``lifecycle.pulse_key``)."""
    return _log_from_rows(
        source,
        rows,
        spec=PULSE_ANSWER,
        build=lambda cells, _path, _ctx: PulseAnswer(**cells),
        key=pulse_key,
        shown=shown_pulse_key,
        hint="one answer a person, outcome and day (remove one of them)",
    )


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterator[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
