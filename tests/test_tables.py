"""Cash-flow and measurement tables (csm_nb.data.tables): amounts, CSV/XLSX, error messages."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_nb.data.tables import (
    CASH_FLOW_COLUMNS,
    cash_flow_from_rows,
    read_cash_flow,
    read_measurements,
    write_csv,
)
from csm_nb.errors import CsmError, InputError, LimitError, NotFoundError
from csm_nb.model import CashFlowLine, Measurement
from csm_nb.vocabulary import parse_amount, parse_period


def copy_fixture(fixtures_dir: Path, name: str, tmp_path: Path) -> Path:
    """Work on a copy in tmp_path, so messages name a path the test owns."""
    target = tmp_path / name
    shutil.copy(fixtures_dir / name, target)
    return target


# -- parse_amount -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$20,000", 20000.0),
        ("20,000.50", 20000.5),
        ("(1,200)", -1200.0),
        ("(1,250.50)", -1250.5),
        ("€ 3.5", 3.5),
        ("£1,000,000", 1_000_000.0),
        ("USD 1,000", 1000.0),
        ("₹1,00,000", 100_000.0),  # Indian grouping (lakh)
        ("20 000", 20000.0),
        ("20\u00a0000", 20000.0),
        ("  42  ", 42.0),
        ("-5", -5.0),
        ("-$5", -5.0),
        ("$-5", -5.0),
        ("+7", 7.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("0", 0.0),
        ("", None),
        ("   ", None),
        (None, None),
        ("-", 0.0),
        ("–", 0.0),
        ("—", 0.0),
        (12, 12.0),
        (12.5, 12.5),
        (0, 0.0),
        (float("nan"), None),
    ],
)
def test_parse_amount_accepts(cell, expected):
    value = parse_amount(cell, where="row 2, column revenue_est")
    assert value == expected
    if expected is not None:
        assert type(value) is float


@pytest.mark.parametrize("cell", ["abc", "12a", "1.2.3", "12%", "$", "USD", "1-2", "(12", "--5", True, False, "twelve"])
def test_parse_amount_refuses_junk_naming_the_place(cell):
    with pytest.raises(InputError) as info:
        parse_amount(cell, where="budget.csv, row 7, column revenue_act")
    message = str(info.value)
    assert message.startswith("budget.csv, row 7, column revenue_act: ")
    assert repr(cell if not isinstance(cell, str) else cell.strip()) in message
    assert "\n" not in message


@pytest.mark.parametrize("cell", ["3,5", "1,2,3", "20,00", "1,0000"])
def test_parse_amount_refuses_misplaced_thousands_separators(cell):
    with pytest.raises(InputError):
        parse_amount(cell, where="x")


@pytest.mark.parametrize("cell", ["1e400", float("inf"), float("-inf")])
def test_parse_amount_refuses_infinity(cell):
    with pytest.raises(InputError):
        parse_amount(cell, where="x")


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_property_thousands_and_currency_round_trip(n):
    assert parse_amount(f"${n:,}", where="x") == float(n)
    assert parse_amount(f"({n:,})", where="x") == -float(n)
    assert parse_amount(str(n), where="x") == float(n)


@settings(deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_property_repr_of_a_float_reads_back_exactly(x):
    assert parse_amount(repr(x), where="x") == x


# -- parse_period ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (0, 0),
        (3, 3),
        ("3", 3),
        (" 12 ", 12),
        (4.0, 4),
        ("2026-01-31", "2026-01-31"),
        ("2026-01-31T10:30:00", "2026-01-31"),
        (dt.date(2026, 1, 31), "2026-01-31"),
        (dt.datetime(2026, 1, 31, 9, 0), "2026-01-31"),
    ],
)
def test_parse_period_accepts(cell, expected):
    assert parse_period(cell, where="x") == expected


@pytest.mark.parametrize("cell", [None, "", -1, "-1", 2.5, "soon", "Week 3", True, 1e23, 1201, "99999999999"])
def test_parse_period_refuses(cell):
    with pytest.raises(InputError, match=r"^m\.csv, row 3, column period: expected a period"):
        parse_period(cell, where="m.csv, row 3, column period")


@pytest.mark.parametrize("cell", ["2026-13-01", "2026-02-30", "2025-02-29"])
def test_a_date_that_does_not_exist_is_named(cell):
    with pytest.raises(InputError) as info:
        parse_period(cell, where="m.csv, row 3, column period")
    assert str(info.value) == f"m.csv, row 3, column period: {cell} is not a date that exists; expected YYYY-MM-DD"


def test_the_last_period_index_allowed_is_a_century_of_months():
    assert parse_period(1200, where="x") == 1200


# -- cash-flow files ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_worked_example_reads_from_csv_and_xlsx(ad_campaign_files, ad_campaign_lines, kind):
    path = ad_campaign_files()[kind]
    assert read_cash_flow(path) == ad_campaign_lines


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_empty_cells_are_unknown_not_zero(ad_campaign_files, ad_campaign_week7_lines, kind):
    lines = read_cash_flow(ad_campaign_files(actual_weeks=8)[kind])
    assert lines == ad_campaign_week7_lines
    assert [x.revenue_act for x in lines[8:]] == [None] * 5
    assert lines[0].revenue_act == 0.0  # a real zero stays zero


def test_csv_and_xlsx_give_identical_lines(ad_campaign_files):
    files = ad_campaign_files(actual_weeks=8)
    assert read_cash_flow(files["csv"]) == read_cash_flow(files["xlsx"])


def test_csv_file_really_has_styled_cells(ad_campaign_files):
    text = ad_campaign_files()["csv"].read_text(encoding="utf-8")
    assert '"$20,000"' in text and '"$12,000"' in text  # the fixture exercises parse_amount


def test_junk_cell_names_file_row_and_column(fixtures_dir, tmp_path):
    path = copy_fixture(fixtures_dir, "cash_flow_junk_cell.csv", tmp_path)
    with pytest.raises(InputError) as info:
        read_cash_flow(path)
    message = str(info.value)
    assert message.startswith(f"{path}, row 4, column revenue_act: ")
    assert "'12,34x'" in message


def test_junk_cell_in_xlsx_names_row_and_column(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(CASH_FLOW_COLUMNS))
    sheet.append(["Week 0", 20000, 20000, 0, 0])
    sheet.append(["Week 1", 20000, 20000, 0, 0])
    sheet.append(["Week 2", 20000, 20000, 12000, "lots"])
    path = tmp_path / "cf.xlsx"
    book.save(path)
    with pytest.raises(InputError, match=r"cf\.xlsx, sheet 'Sheet', row 4, column revenue_act: .*'lots'"):
        read_cash_flow(path)


def test_blank_rows_are_skipped_but_still_counted(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text(
        "period,expenditure_est,expenditure_act,revenue_est,revenue_act\nWeek 0,1,1,0,0\n\n\nWeek 1,1,1,x,0\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"row 5, column revenue_est"):
        read_cash_flow(path)


@pytest.mark.parametrize(
    ("fixture", "pattern"),
    [
        ("cash_flow_unknown_column.csv", r"unknown column\(s\) 'notes'; expected: period, expenditure_est"),
        ("cash_flow_missing_column.csv", r"missing column\(s\) 'revenue_act'"),
        ("cash_flow_duplicate_period.csv", r"row 5, column period: 'Week 1' already appears in row 3"),
        ("cash_flow_negative.csv", r"row 3, column expenditure_act: expected an amount of zero or more, got -1200"),
        ("cash_flow_missing_period.csv", r"row 3, column period: expected a period label"),
        ("cash_flow_empty.csv", r"the file is empty; expected a header row"),
    ],
)
def test_malformed_cash_flow_files(fixtures_dir, tmp_path, fixture, pattern):
    path = copy_fixture(fixtures_dir, fixture, tmp_path)
    with pytest.raises(InputError, match=pattern) as info:
        read_cash_flow(path)
    assert str(info.value).startswith(str(path))


def test_zero_byte_file_is_empty(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        read_cash_flow(path)


def test_header_only_gives_no_lines(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text(",".join(CASH_FLOW_COLUMNS) + "\n", encoding="utf-8")
    assert read_cash_flow(path) == []


def test_semicolon_delimited_csv(fixtures_dir, tmp_path):
    path = copy_fixture(fixtures_dir, "cash_flow_semicolon.csv", tmp_path)
    assert read_cash_flow(path) == [
        CashFlowLine("Week 0", 20000.0, 20000.0, 0.0, 0.0),
        CashFlowLine("Week 1", 20000.0, 20000.0, 0.0, None),
        CashFlowLine("Week 2", 20000.0, 20000.0, 12000.0, 9656.0),
    ]


def test_tab_delimited_csv(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text("\t".join(CASH_FLOW_COLUMNS) + "\nWeek 0\t5\t6\t7\t8\n", encoding="utf-8")
    assert read_cash_flow(path) == [CashFlowLine("Week 0", 5.0, 6.0, 7.0, 8.0)]


def test_columns_in_any_order_any_case_with_bom(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text("Revenue_Act,PERIOD,revenue_est,expenditure_act,Expenditure_Est\n8,Week 0,7,6,5\n", encoding="utf-8-sig")
    assert read_cash_flow(path) == [CashFlowLine("Week 0", 5.0, 6.0, 7.0, 8.0)]


CAFE = ",".join(CASH_FLOW_COLUMNS) + '\r\nSemaine café,"€20,000",20000,0,0\r\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_utf8_and_utf16_with_a_bom_are_read(tmp_path, encoding):
    path = tmp_path / "cf.csv"
    if encoding.endswith("-bom"):
        codec = encoding[:-4]
        path.write_bytes(("\ufeff" + CAFE).encode(codec))
    else:
        path.write_bytes(CAFE.encode(encoding))
    assert read_cash_flow(path) == [CashFlowLine("Semaine café", 20000.0, 20000.0, 0.0, 0.0)]


@pytest.mark.parametrize(
    ("encoding", "problem"),
    [
        # The offset of "é" counted in the text itself; guessing cp1252 would be wrong for GBK.
        ("cp1252", f"not UTF-8 text (byte 0xe9 at offset {CAFE.index('é')}); save it as 'CSV UTF-8'"),
        ("utf-16-le", "UTF-16 text without a byte-order mark; save it as 'CSV UTF-8'"),
    ],
)
def test_other_encodings_are_refused_naming_the_file_and_what_to_save_as(tmp_path, encoding, problem):
    path = tmp_path / "cf.csv"
    path.write_bytes(CAFE.encode(encoding))
    with pytest.raises(InputError) as info:
        read_cash_flow(path)
    assert str(info.value).startswith(f"{path}: {problem}")


@pytest.mark.parametrize("codec", ["gbk", "shift_jis"])
def test_chinese_and_japanese_legacy_encodings_are_refused_not_stored_as_mojibake(tmp_path, codec):
    path = tmp_path / "m.csv"
    path.write_bytes(
        "kpi,period,value\n满意度,0,5\n".encode(codec) if codec == "gbk" else "kpi,period,value\n満足度,0,5\n".encode(codec)
    )
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 0x[0-9a-f]{2} at offset 17\)"):
        read_measurements(path)


def test_an_xlsx_renamed_csv_is_recognised(tmp_path, ad_campaign_files):
    path = tmp_path / "cf.csv"
    path.write_bytes(ad_campaign_files()["xlsx"].read_bytes())
    with pytest.raises(
        InputError, match=r"cf\.csv: this is an Excel workbook \(a zip file\) with a \.csv name; rename it to \.xlsx"
    ):
        read_cash_flow(path)


def test_short_rows_leave_cells_unknown(tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text(",".join(CASH_FLOW_COLUMNS) + "\nWeek 0,5,6\n", encoding="utf-8")
    assert read_cash_flow(path) == [CashFlowLine("Week 0", 5.0, 6.0, None, None)]


def test_numeric_period_labels_in_xlsx_match_csv(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(CASH_FLOW_COLUMNS))
    book.active.append([1, 10, 10, 0, 0])
    book.active.append([2.0, 10, 10, 5, 5])
    xlsx = tmp_path / "cf.xlsx"
    book.save(xlsx)
    csv_path = tmp_path / "cf.csv"
    csv_path.write_text(",".join(CASH_FLOW_COLUMNS) + "\n1,10,10,0,0\n2,10,10,5,5\n", encoding="utf-8")
    assert [x.period for x in read_cash_flow(xlsx)] == ["1", "2"]
    assert read_cash_flow(xlsx) == read_cash_flow(csv_path)


def test_missing_file_and_wrong_extension(tmp_path):
    with pytest.raises(NotFoundError, match="file not found"):
        read_cash_flow(tmp_path / "nope.csv")
    other = tmp_path / "cf.txt"
    other.write_text("period\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"expected a \.csv or \.xlsx file, got '\.txt'"):
        read_cash_flow(other)


def test_damaged_xlsx_is_an_input_error(tmp_path):
    path = tmp_path / "cf.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError, match=r"not a readable \.xlsx file"):
        read_cash_flow(path)


def test_errors_are_one_line_csm_errors(fixtures_dir, tmp_path):
    path = copy_fixture(fixtures_dir, "cash_flow_unknown_column.csv", tmp_path)
    with pytest.raises(CsmError) as info:
        read_cash_flow(path)
    assert "\n" not in str(info.value)


def test_write_csv_then_read_back(tmp_path, ad_campaign_week7_lines):
    from csm_nb.model import without_none

    path = tmp_path / "out.csv"
    write_csv(path, CASH_FLOW_COLUMNS, iter(without_none(x) for x in ad_campaign_week7_lines))
    assert read_cash_flow(path) == ad_campaign_week7_lines


# -- measurements ---------------------------------------------------------------------------
def test_measurements_with_integer_periods_and_dates(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        'kpi,period,value\nleads,0,10\nleads,1,"1,200"\nnps,2026-01-31,42.5\nnps, 2026-02-28 ,-3\n',
        encoding="utf-8",
    )
    assert read_measurements(path) == [
        Measurement("leads", 0, 10.0),
        Measurement("leads", 1, 1200.0),
        Measurement("nps", "2026-01-31", 42.5),
        Measurement("nps", "2026-02-28", -3.0),
    ]
    periods = [m.period for m in read_measurements(path)]
    assert [type(p) for p in periods] == [int, int, str, str]


def test_measurements_from_xlsx_with_date_cells(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["kpi", "period", "value"])
    book.active.append(["leads", 0, 10])
    book.active.append(["nps", dt.datetime(2026, 1, 31), 42.5])
    book.active.append(["nps", "2026-02-28", "$7"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    assert read_measurements(path) == [
        Measurement("leads", 0, 10.0),
        Measurement("nps", "2026-01-31", 42.5),
        Measurement("nps", "2026-02-28", 7.0),
    ]


@pytest.mark.parametrize(
    ("fixture", "pattern"),
    [
        ("measurements_bad_period.csv", r"row 3, column period: 2026-13-01 is not a date that exists; expected YYYY-MM-DD"),
        ("measurements_missing_value.csv", r"row 3, column value: expected a number, got nothing"),
    ],
)
def test_malformed_measurement_files(fixtures_dir, tmp_path, fixture, pattern):
    path = copy_fixture(fixtures_dir, fixture, tmp_path)
    with pytest.raises(InputError, match=pattern) as info:
        read_measurements(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        ("leads,-1,5", r"row 2, column period"),
        ("leads,soon,5", r"row 2, column period: .*'soon'"),
        (",3,5", r"row 2, column kpi: expected a KPI id"),
        ("leads,3,abc", r"row 2, column value: .*'abc'"),
    ],
)
def test_bad_measurement_rows(tmp_path, row, pattern):
    path = tmp_path / "m.csv"
    path.write_text(f"kpi,period,value\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError, match=pattern):
        read_measurements(path)


def test_measurement_columns_are_checked(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("kpi,period,amount\nleads,0,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown column\(s\) 'amount'"):
        read_measurements(path)


# -- workbooks with several sheets, formulas, ragged and repeated rows, limits ---------------------------------
def workbook(path: Path, sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = ()) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


MEASURED = [["kpi", "period", "value"], ["nps", 0, 31]]
OTHER = [["kpi", "period", "value"], ["nps", 0, 99]]


@pytest.mark.parametrize(
    ("sheets", "hidden", "value"),
    [
        ({"Notes": OTHER, "Measurements": MEASURED}, (), 31),  # the sheet named for the table, whatever its case
        ({"Old": OTHER, "Data": MEASURED}, ("Old",), 31),  # else the only visible one: a hidden sheet is never read
        ({"Data": MEASURED}, (), 31),
    ],
)
def test_the_sheet_read_is_the_named_one_else_the_only_visible_one(tmp_path, sheets, hidden, value):
    path = workbook(tmp_path / "m.xlsx", sheets, hidden=hidden)
    assert [m.value for m in read_measurements(path)] == [value]


def test_a_workbook_with_several_visible_sheets_and_none_named_is_refused_naming_them(tmp_path):
    path = workbook(tmp_path / "m.xlsx", {"Plan": OTHER, "Actuals": MEASURED})
    with pytest.raises(InputError) as info:
        read_measurements(path)
    assert str(info.value) == f"{path}: which worksheet? it has 'Plan', 'Actuals'; name the one to read 'measurements'"


def test_a_formula_with_no_saved_value_is_refused_naming_the_cell(tmp_path):
    # openpyxl writes formulas without their values: what a script-made workbook looks like.
    path = workbook(tmp_path / "m.xlsx", {"measurements": [["kpi", "period", "value"], ["nps", 0, 31], ["nps", 1, "=B3*2"]]})
    with pytest.raises(InputError) as info:
        read_measurements(path)
    assert str(info.value) == (
        f"{path}, sheet 'measurements', row 3, column C: a formula with no saved value (=B3*2); "
        "open and save the file in Excel, or export it as CSV"
    )


def test_an_empty_cell_that_is_not_a_formula_is_still_not_known_yet(tmp_path):
    rows = [list(CASH_FLOW_COLUMNS), ["Week 0", 10, None, 0, None]]
    path = workbook(tmp_path / "cf.xlsx", {"cash_flow": rows})
    assert read_cash_flow(path) == [CashFlowLine("Week 0", 10.0, None, 0.0, None)]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_row_longer_than_the_header_is_refused(tmp_path, suffix):
    rows = [["kpi", "period", "value"], ["nps", 0, 31], ["nps", 1, 32, "extra", "cells"]]
    if suffix == "csv":
        path = tmp_path / "m.csv"
        path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
        where = str(path)
    else:
        path = workbook(tmp_path / "m.xlsx", {"measurements": rows})
        where = f"{path}, sheet 'measurements'"
    with pytest.raises(InputError) as info:
        read_measurements(path)
    assert (
        str(info.value)
        == f"{where}, row 3: 5 cells but the header has 3 columns; remove the extra cells or add a header for them"
    )


def test_the_same_kpi_and_period_twice_in_one_file_is_refused_naming_both_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("kpi,period,value\nnps,0,31\nnps,1,33\nnps,0,35\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_measurements(path)
    assert str(info.value) == (
        f"{path}, row 4: KPI 'nps' period 0 is already in row 2; one value a KPI a period (remove one of them)"
    )


def test_tables_past_the_row_limit_are_refused_without_reading_on(tmp_path, monkeypatch):
    from csm_nb import config

    monkeypatch.setattr(config, "MAX_TABLE_ROWS", 3)
    path = tmp_path / "m.csv"
    path.write_text("kpi,period,value\n" + "".join(f"nps,{i},{i}\n" for i in range(4)), encoding="utf-8")
    with pytest.raises(LimitError, match=r"m\.csv: more than 3 data rows; split the file"):
        read_measurements(path)
    path.write_text("kpi,period,value\n" + "".join(f"nps,{i},{i}\n" for i in range(3)), encoding="utf-8")
    assert len(read_measurements(path)) == 3


def test_a_cash_flow_past_the_period_limit_is_refused(tmp_path, monkeypatch):
    from csm_nb import config

    monkeypatch.setattr(config, "MAX_CASH_FLOW_PERIODS", 2)
    rows = [(n, {"period": f"Week {n}"}) for n in range(2, 5)]
    with pytest.raises(LimitError, match=r"^cf: more than 2 cash-flow periods"):
        cash_flow_from_rows("cf", rows)


def test_a_table_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from csm_nb import config

    monkeypatch.setattr(config, "MAX_TABLE_BYTES", 100)
    path = tmp_path / "m.csv"
    path.write_text("kpi,period,value\n" + "nps,0,1\n" * 20, encoding="utf-8")
    with pytest.raises(LimitError) as info:
        read_measurements(path)
    assert (
        str(info.value)
        == f"{path}: 177 bytes is more than the 100 bytes allowed for a table; split it or remove what is not needed"
    )


@pytest.mark.parametrize("content", [b"PK\x03\x04junk that is not a workbook", b"\x00\x01\x02 random", b"not a zip"])
def test_a_damaged_or_fake_xlsx_is_one_line(tmp_path, content):
    path = tmp_path / "m.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"m\.xlsx: not (a readable \.xlsx file|an Excel \.xlsx workbook)"):
        read_measurements(path)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: ("kpi,period,value\n" + t).encode()))
def test_no_bytes_in_a_csv_escape_as_anything_but_one_line(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "m.csv"
    path.write_bytes(content)
    try:
        read_measurements(path)
    except CsmError as exc:
        assert "\n" not in str(exc)
