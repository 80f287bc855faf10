"""The failing-input suite: every bad file, row, key or option a person can
give fails the same way.

Each case asserts exit code 1, exactly one stderr line (``error: ...``) that
names the file, line/row/key/column/parameter and what was expected, no
traceback, and a store whose SQL dump is identical before and after. Most
cases run in-process through ``csm_nb.cli.main``; a few run as real
processes, as a scheduler or a terminal would see them.

Inputs are tiny files in ``tests/fixtures/bad/``, or built by the small
functions below when the content is binary (.xlsx, legacy encodings, SQLite
files) or must be generated (alias bombs).
"""

from __future__ import annotations

import codecs
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from csm_nb import cli, config

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "fixtures" / "bad"
SEED_FILE = ROOT / "examples" / "employee-engagement.yaml"
SEED_ID = "employee-engagement"  # KPIs clients-served and engagement-score, both starting 2027-01-01
HEADER = "schema: csm-nb/engagement@1\n"

# A file's content: a fixture name in tests/fixtures/bad/ (str), literal bytes,
# or a builder that creates the path itself (a folder, a symlink, an .xlsx ...).
Source = str | bytes | Callable[[Path], None]
# A fragment the error line must contain; a tuple means any one of them.
Fragment = str | tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, Source]  # names under the case's input folder
    argv: list[str]  # {db} the seeded store copy, {in} the input folder, {runs} an output folder
    fragments: tuple[Fragment, ...]
    real_process: bool = False  # run as a subprocess, to see what a terminal sees
    read_only_store: bool = False
    # csm_nb.config limits lowered for this case (in-process only), so "too big" needs no big file.
    limits: tuple[tuple[str, int], ...] = ()


# -- builders for content that cannot be a plain text fixture ------------------
def cash_flow_engagement(table: str, engagement_id: str = "cash-flow-file") -> bytes:
    """An otherwise valid engagement whose cash flow is the file ``table`` next to it."""
    return f"{HEADER}id: {engagement_id}\ncustomer: X\ncash_flow: {table}\n".encode()


def alias_bomb(under: str) -> bytes:
    """Billion laughs: nine levels of nine aliases, about 330 bytes of YAML that would expand to 9**9 items."""
    levels = ["  a: &a [l,l,l,l,l,l,l,l,l]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"  {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    body = "\n".join(levels)
    if under == "workshop":  # answers are free-form plain data, the likeliest place to hide one
        body = "  outcome_discovery:\n" + "\n".join("  " + line for line in levels)
        return f"{HEADER}id: workshop-bomb\ncustomer: X\nworkshop:\n{body}\n".encode()
    return f"{HEADER}id: alias-bomb\ncustomer: X\n{under}:\n{body}\n".encode()


def yaml_in(encoding: str, customer: str) -> bytes:
    """A valid engagement, but saved in a legacy encoding (what Excel or Notepad may produce)."""
    return f"{HEADER}id: legacy-encoding\ncustomer: {customer}\n".encode(encoding)


def measurements_in(encoding: str, kpi: str) -> bytes:
    return f"kpi,period,value\n{kpi},4,7\n".encode(encoding)


def utf16_no_bom(text: str) -> bytes:
    return text.encode("utf-16-le")  # the -le codec writes no byte-order mark


def nul_bytes(path: Path) -> None:
    path.write_bytes(f"{HEADER}id: nul\ncustomer: Ac\x00me\n".encode())


def deeply_nested(depth: int) -> bytes:
    """Workshop answers nested ``depth`` lists deep: the parser or the checks must not blow the stack."""
    return f"{HEADER}id: deep\ncustomer: X\nworkshop:\n  notes:\n    a: {'[' * depth}{']' * depth}\n".encode()


def rows_csv(header: str, row: Callable[[int], str], count: int) -> bytes:
    return (header + "\n" + "".join(row(i) + "\n" for i in range(count))).encode()


def random_binary(path: Path) -> None:
    data = random.Random(20260330).randbytes(4096)
    assert not data.startswith((b"PK", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    path.write_bytes(data)


def a_folder(path: Path) -> None:
    path.mkdir()


def a_regular_file(path: Path) -> None:
    path.write_text("not a folder\n")


def dangling_symlink(path: Path) -> None:
    """A symlink to a file that does not exist: writing through it would create a file elsewhere."""
    path.symlink_to(path.parent / "elsewhere.yaml")


def other_program_sqlite(path: Path) -> None:
    """Another program's SQLite database: csm-nb must refuse it, not add its tables to it."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        db.execute("INSERT INTO contacts VALUES ('Ada', '555-0100')")
    db.close()


def xlsx(
    sheets: list[tuple[str, list[list[object]]]], *, hidden: tuple[str, ...] = (), active: int = 0
) -> Callable[[Path], None]:
    """An .xlsx with the given sheets and rows (formulas as '=...' text, saved without values)."""

    def build(path: Path) -> None:
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for title, rows in sheets:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
            if title in hidden:
                sheet.sheet_state = "hidden"
        book.active = active
        book.save(path)

    return build


MEASUREMENT_ROWS: list[list[object]] = [["kpi", "period", "value"], ["engagement-score", 4, 7.1]]
CASH_FLOW_ROWS: list[list[object]] = [
    ["period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act"],
    ["Month 1", 1000, 1000, 0, 0],
]
GOOD_MODEL = (
    b"schema: csm-nb/engagement-model@1\nid: good-model\n"
    b"moments: [{id: kickoff, type: milestone, after: {moment: contract.signed, days: 7}}]\n"
)
MEASURE = ["--engagement", SEED_ID]  # import FILE --engagement ID: the files are measurements


def imp(*names: str) -> list[str]:
    return ["--db", "{db}", "import", *(f"{{in}}/{n}" for n in names)]


def measure(*names: str) -> list[str]:
    return [*imp(*names), *MEASURE]


RUN = ["--db", "{db}", "run", "cash_flow", "--engagement", SEED_ID, "--out", "{runs}"]


# -- the cases ---------------------------------------------------------------
CASES: list[Case] = [
    # Engagement files (YAML): syntax and YAML features that are not plain data.
    Case("yaml-invalid-syntax", {"syntax.yaml": "syntax.yaml"}, imp("syntax.yaml"), ("syntax.yaml", "line ", "YAML")),
    Case(
        "yaml-duplicate-key",
        {"duplicate_key.yaml": "duplicate_key.yaml"},
        imp("duplicate_key.yaml"),
        ("duplicate_key.yaml", "line 4", "'customer'", "twice"),
    ),
    Case(
        "yaml-billion-laughs",
        {"bomb.yaml": alias_bomb("lol")},
        imp("bomb.yaml"),
        ("bomb.yaml", "line ", ("alias", "'lol'")),
        real_process=True,
    ),
    Case(
        "yaml-recursive-alias",
        {"recursive_alias.yaml": "recursive_alias.yaml"},
        imp("recursive_alias.yaml"),
        ("recursive_alias.yaml", "line 4", ("alias", "'y'")),
    ),
    Case(
        "yaml-alias-bomb-in-workshop",
        {"workshop_bomb.yaml": alias_bomb("workshop")},
        imp("workshop_bomb.yaml"),
        ("workshop_bomb.yaml", "line ", "alias"),
    ),
    Case(
        "yaml-binary-tag",
        {"binary_tag.yaml": "binary_tag.yaml"},
        imp("binary_tag.yaml"),
        ("binary_tag.yaml", "line 3", "!!binary"),
    ),
    Case("yaml-set-tag", {"set_tag.yaml": "set_tag.yaml"}, imp("set_tag.yaml"), ("set_tag.yaml", "line 4", "!!set")),
    Case(
        "yaml-python-object-tag",
        {"python_tag.yaml": "python_tag.yaml"},
        imp("python_tag.yaml"),
        ("python_tag.yaml", "line 3", "!!python/object"),
    ),
    Case(
        "yaml-merge-key",
        {"merge_key.yaml": "merge_key.yaml"},
        imp("merge_key.yaml"),
        ("merge_key.yaml", "line ", ("<<", "alias")),
    ),
    Case(
        "yaml-two-documents",
        {"two_documents.yaml": "two_documents.yaml"},
        imp("two_documents.yaml"),
        ("two_documents.yaml", "line 4", "document"),
    ),
    Case(
        "yaml-key-not-plain",
        {"complex_key.yaml": f"{HEADER}id: complex-key\ncustomer: X\n? [a, b]\n: c\n".encode()},
        imp("complex_key.yaml"),
        ("complex_key.yaml", "line 4", "key"),
    ),
    Case("yaml-nested-too-deep", {"deep.yaml": deeply_nested(20_000)}, imp("deep.yaml"), ("deep.yaml", ("nest", "deep"))),
    Case(
        "yaml-duplicate-outcome-id",
        {"duplicate_outcome_id.yaml": "duplicate_outcome_id.yaml"},
        imp("duplicate_outcome_id.yaml"),
        ("duplicate_outcome_id.yaml", "line 6", "'more-clients'"),
    ),
    Case(
        "yaml-table-path-not-a-table",
        {"table_not_csv.yaml": "table_not_csv.yaml"},
        imp("table_not_csv.yaml"),
        ("/etc/passwd", ".csv"),
    ),
    # Limits, lowered so tiny inputs cross them (the real ones are in csm_nb.config).
    Case(
        "yaml-larger-than-the-limit",
        {"big.yaml": "good.yaml"},
        imp("big.yaml"),
        ("big.yaml", "allowed"),
        limits=(("MAX_DOCUMENT_BYTES", 100),),
    ),
    Case(
        "yaml-too-many-values",
        {"many_values.yaml": "good.yaml"},
        imp("many_values.yaml"),
        ("many_values.yaml", "more than 20"),
        limits=(("MAX_YAML_NODES", 20),),
    ),
    # Engagement files: the schema.
    Case(
        "yaml-impossible-date",
        {"impossible_date.yaml": "impossible_date.yaml"},
        imp("impossible_date.yaml"),
        ("impossible_date.yaml", "line 6", "2026-02-30", "YYYY-MM-DD"),
    ),
    Case(
        "yaml-unknown-top-level-key",
        {"unknown_top_key.yaml": "unknown_top_key.yaml"},
        imp("unknown_top_key.yaml"),
        ("unknown_top_key.yaml", "line 4", "'colour'", "expected"),
    ),
    Case(
        "yaml-missing-id", {"missing_id.yaml": "missing_id.yaml"}, imp("missing_id.yaml"), ("missing_id.yaml", "'id'", "required")
    ),
    Case(
        "yaml-bad-id-characters",
        {"bad_id.yaml": "bad_id.yaml"},
        imp("bad_id.yaml"),
        ("bad_id.yaml", "line 2", "'Acme Corp!'", "lower-case"),
    ),
    Case(
        "yaml-currency-number",
        {"currency_number.yaml": "currency_number.yaml"},
        imp("currency_number.yaml"),
        ("currency_number.yaml", "line 4", "currency", "ISO 4217"),
    ),
    Case(
        "yaml-currency-word",
        {"currency_word.yaml": "currency_word.yaml"},
        imp("currency_word.yaml"),
        ("currency_word.yaml", "line 4", "'dollars'", "ISO 4217"),
    ),
    Case(
        "yaml-wrong-schema",
        {"wrong_schema.yaml": "wrong_schema.yaml"},
        imp("wrong_schema.yaml"),
        ("wrong_schema.yaml", "line 1", "csm-nb/engagement@1"),
    ),
    Case(
        "yaml-top-level-list",
        {"top_level_list.yaml": "top_level_list.yaml"},
        imp("top_level_list.yaml"),
        ("top_level_list.yaml", "mapping"),
    ),
    Case(
        "yaml-tags-not-a-list",
        {"tags_not_list.yaml": "tags_not_list.yaml"},
        imp("tags_not_list.yaml"),
        ("tags_not_list.yaml", "line 4", "tags", "list"),
    ),
    Case(
        "yaml-kpi-bad-direction",
        {"bad_choice.yaml": "bad_choice.yaml"},
        imp("bad_choice.yaml"),
        ("bad_choice.yaml", "line 6", "direction", "'upward'", "increase"),
    ),
    Case(
        "yaml-kpi-unknown-outcome",
        {"kpi_unknown_outcome.yaml": "kpi_unknown_outcome.yaml"},
        imp("kpi_unknown_outcome.yaml"),
        ("kpi_unknown_outcome.yaml", "line 8", "outcome", "'fewer-complaints'", "more-clients"),
    ),
    Case(
        "yaml-duplicate-kpi-id",
        {"duplicate_kpi_id.yaml": "duplicate_kpi_id.yaml"},
        imp("duplicate_kpi_id.yaml"),
        ("duplicate_kpi_id.yaml", "line 6", "'clients'"),
    ),
    Case(
        "yaml-measurement-unknown-kpi",
        {"measurement_unknown_kpi.yaml": "measurement_unknown_kpi.yaml"},
        imp("measurement_unknown_kpi.yaml"),
        ("measurement_unknown_kpi.yaml", "line ", "'ghost'", "clients"),
    ),
    Case(
        "yaml-link-without-steps",
        {"link_no_steps.yaml": "link_no_steps.yaml"},
        imp("link_no_steps.yaml"),
        ("link_no_steps.yaml", "line 9", "steps", "at least 1"),
    ),
    Case(
        "yaml-milestone-period-1e23",
        {"milestone_1e23.yaml": "milestone_1e23.yaml"},
        imp("milestone_1e23.yaml"),
        ("milestone_1e23.yaml", "line 7", "milestones", "period"),
    ),
    Case(
        "yaml-negative-cash-flow",
        {"negative_cash_flow.yaml": "negative_cash_flow.yaml"},
        imp("negative_cash_flow.yaml"),
        ("negative_cash_flow.yaml", "line 6", "expenditure_est", "zero or more"),
    ),
    Case(
        "yaml-infinite-amount",
        {"infinite_amount.yaml": "infinite_amount.yaml"},
        imp("infinite_amount.yaml"),
        ("infinite_amount.yaml", "line 6", "deal_size", "finite"),
    ),
    Case(
        "yaml-boolean-for-number",
        {"boolean_number.yaml": "boolean_number.yaml"},
        imp("boolean_number.yaml"),
        ("boolean_number.yaml", "line 6", "baseline", "number"),
    ),
    # Engagement files: bytes and paths.
    Case(
        "yaml-cp1252",
        {"cp1252.yaml": yaml_in("cp1252", "Café Müller")},
        imp("cp1252.yaml"),
        ("cp1252.yaml", "UTF-8"),
        real_process=True,
    ),
    Case("yaml-shift-jis", {"sjis.yaml": yaml_in("shift_jis", "株式会社テスト")}, imp("sjis.yaml"), ("sjis.yaml", "UTF-8")),
    Case(
        "yaml-utf16-without-bom",
        {"utf16.yaml": utf16_no_bom(f"{HEADER}id: utf16\ncustomer: X\n")},
        imp("utf16.yaml"),
        ("utf16.yaml", "UTF-16", "UTF-8"),
    ),
    Case("yaml-nul-bytes", {"nul.yaml": nul_bytes}, imp("nul.yaml"), ("nul.yaml", "NUL")),
    Case("yaml-empty-file", {"empty.yaml": "empty.yaml"}, imp("empty.yaml"), ("empty.yaml", ("empty", "schema"))),
    Case("yaml-a-directory", {"folder.yaml": a_folder}, imp("folder.yaml"), ("folder.yaml", ("folder", "directory"))),
    Case("yaml-missing-file", {}, imp("nope.yaml"), ("nope.yaml", "not found"), real_process=True),
    Case(
        "yaml-good-then-bad",
        {"good.yaml": "good.yaml", "unknown_top_key.yaml": "unknown_top_key.yaml"},
        imp("good.yaml", "unknown_top_key.yaml"),
        ("unknown_top_key.yaml", "line 4", "'colour'"),
    ),
    Case(
        "yaml-bad-then-good",
        {"good.yaml": "good.yaml", "bad_id.yaml": "bad_id.yaml"},
        imp("bad_id.yaml", "good.yaml"),
        ("bad_id.yaml", "line 2", "'Acme Corp!'"),
    ),
    Case("yaml-with-engagement-option", {"good.yaml": "good.yaml"}, measure("good.yaml"), ("good.yaml", "--engagement", ".csv")),
    # Cash-flow tables referenced from an engagement file: the error names the table.
    Case(
        "cash-flow-junk-cell",
        {"e.yaml": cash_flow_engagement("cf_junk.csv"), "cf_junk.csv": "cf_junk.csv"},
        imp("e.yaml"),
        ("cf_junk.csv", "row 3", "expenditure_act", "'12abc'", "number"),
    ),
    Case(
        "cash-flow-decimal-comma",
        {"e.yaml": cash_flow_engagement("cf_decimal_comma.csv"), "cf_decimal_comma.csv": "cf_decimal_comma.csv"},
        imp("e.yaml"),
        ("cf_decimal_comma.csv", "row 3", "revenue_est", "3,5"),
    ),
    Case(
        "cash-flow-ragged-row",
        {"e.yaml": cash_flow_engagement("cf_ragged.csv"), "cf_ragged.csv": "cf_ragged.csv"},
        imp("e.yaml"),
        ("cf_ragged.csv", "row 3", "header"),
    ),
    Case(
        "cash-flow-missing-column",
        {"e.yaml": cash_flow_engagement("cf_missing_column.csv"), "cf_missing_column.csv": "cf_missing_column.csv"},
        imp("e.yaml"),
        ("cf_missing_column.csv", "'expenditure_act'", "missing"),
    ),
    Case(
        "cash-flow-duplicate-period",
        {"e.yaml": cash_flow_engagement("cf_duplicate_period.csv"), "cf_duplicate_period.csv": "cf_duplicate_period.csv"},
        imp("e.yaml"),
        ("cf_duplicate_period.csv", "row 3", "'Month 1'", "row 2"),
    ),
    Case(
        "cash-flow-gbk",
        {
            "e.yaml": cash_flow_engagement("cf_gbk.csv"),
            "cf_gbk.csv": "period,expenditure_est,expenditure_act,revenue_est,revenue_act\n第一月,1000,1000,0,0\n".encode("gbk"),
        },
        imp("e.yaml"),
        ("cf_gbk.csv", "UTF-8"),
    ),
    Case("cash-flow-file-missing", {"e.yaml": cash_flow_engagement("nowhere.csv")}, imp("e.yaml"), ("nowhere.csv", "not found")),
    Case(
        "cash-flow-xlsx-two-sheets",
        {"e.yaml": cash_flow_engagement("cf.xlsx"), "cf.xlsx": xlsx([("Plan", CASH_FLOW_ROWS), ("Actuals", CASH_FLOW_ROWS)])},
        imp("e.yaml"),
        ("cf.xlsx", "'Plan'", "'Actuals'", "cash_flow"),
    ),
    Case(
        "cash-flow-infinite",
        {"e.yaml": cash_flow_engagement("cf_infinite.csv"), "cf_infinite.csv": "cf_infinite.csv"},
        imp("e.yaml"),
        ("cf_infinite.csv", "row 3", "revenue_est", "number"),
    ),
    Case(
        "cash-flow-too-many-periods",
        {
            "e.yaml": cash_flow_engagement("cf_long.csv"),
            "cf_long.csv": rows_csv(",".join(CASH_FLOW_ROWS[0]), lambda i: f"Month {i},100,100,0,0", 5),
        },
        imp("e.yaml"),
        ("cf_long.csv", "more than 3"),
        limits=(("MAX_CASH_FLOW_PERIODS", 3),),
    ),
    # Measurement tables: import FILE --engagement ID.
    Case(
        "measurements-shift-jis", {"sjis.csv": measurements_in("shift_jis", "満足度")}, measure("sjis.csv"), ("sjis.csv", "UTF-8")
    ),
    Case("measurements-gbk", {"gbk.csv": measurements_in("gbk", "满意度")}, measure("gbk.csv"), ("gbk.csv", "UTF-8")),
    Case(
        "measurements-utf16-without-bom",
        {"utf16.csv": utf16_no_bom("kpi,period,value\nengagement-score,4,7\n")},
        measure("utf16.csv"),
        ("utf16.csv", "UTF-16", "UTF-8"),
    ),
    Case(
        "measurements-xlsx-named-csv",
        {"book.csv": xlsx([("measurements", MEASUREMENT_ROWS)])},
        measure("book.csv"),
        ("book.csv", ".xlsx"),
        real_process=True,
    ),
    Case("measurements-random-binary", {"noise.csv": random_binary}, measure("noise.csv"), ("noise.csv", ("UTF-8", "text"))),
    Case(
        "measurements-ragged-row", {"m_ragged.csv": "m_ragged.csv"}, measure("m_ragged.csv"), ("m_ragged.csv", "row 3", "header")
    ),
    Case(
        "measurements-duplicate-rows",
        {"m_duplicate.csv": "m_duplicate.csv"},
        measure("m_duplicate.csv"),
        ("m_duplicate.csv", "row 3", "'engagement-score'", "row 2"),
    ),
    Case(
        "measurements-missing-column",
        {"m_missing_column.csv": "m_missing_column.csv"},
        measure("m_missing_column.csv"),
        ("m_missing_column.csv", "'value'", "missing"),
    ),
    Case(
        "measurements-unknown-column",
        {"m_unknown_column.csv": "m_unknown_column.csv"},
        measure("m_unknown_column.csv"),
        ("m_unknown_column.csv", "'colour'", "kpi, period, value"),
    ),
    Case(
        "measurements-12abc",
        {"m_12abc.csv": "m_12abc.csv"},
        measure("m_12abc.csv"),
        ("m_12abc.csv", "row 2", "value", "'12abc'", "number"),
    ),
    Case(
        "measurements-decimal-comma",
        {"m_decimal_comma.csv": "m_decimal_comma.csv"},
        measure("m_decimal_comma.csv"),
        ("m_decimal_comma.csv", "row 2", "value", "3,5"),
    ),
    Case(
        "measurements-empty-value",
        {"m_empty_value.csv": "m_empty_value.csv"},
        measure("m_empty_value.csv"),
        ("m_empty_value.csv", "row 2", "value", "number"),
    ),
    Case(
        "measurements-period-1e23",
        {"m_period_1e23.csv": "m_period_1e23.csv"},
        measure("m_period_1e23.csv"),
        ("m_period_1e23.csv", "row 2", "period", "1e23"),
    ),
    Case(
        "measurements-negative-period",
        {"m_negative_period.csv": "m_negative_period.csv"},
        measure("m_negative_period.csv"),
        ("m_negative_period.csv", "row 2", "period", "-1"),
    ),
    Case(
        "measurements-impossible-date",
        {"m_impossible_date.csv": "m_impossible_date.csv"},
        measure("m_impossible_date.csv"),
        ("m_impossible_date.csv", "row 2", "period", "2026-02-30"),
    ),
    Case(
        "measurements-before-kpi-start",
        {"m_before_start.csv": "m_before_start.csv"},
        measure("m_before_start.csv"),
        ("m_before_start.csv", "row 2", "2019-03-01", "start"),
    ),
    Case(
        "measurements-unknown-kpi",
        {"m_unknown_kpi.csv": "m_unknown_kpi.csv"},
        measure("m_unknown_kpi.csv"),
        ("m_unknown_kpi.csv", "'ghost'", "engagement-score"),
    ),
    Case(
        "measurements-xlsx-two-sheets",
        {"two.xlsx": xlsx([("Q1", MEASUREMENT_ROWS), ("Q2", MEASUREMENT_ROWS)])},
        measure("two.xlsx"),
        ("two.xlsx", "'Q1'", "'Q2'", "measurements"),
    ),
    # The first sheet is hidden (a lookup table); the visible one has a bad cell: the error must come from it.
    Case(
        "measurements-xlsx-first-sheet-hidden",
        {
            "hidden.xlsx": xlsx(
                [("lookup", MEASUREMENT_ROWS), ("Data", [["kpi", "period", "value"], ["engagement-score", 4, "twelve"]])],
                hidden=("lookup",),
                active=1,
            )
        },
        measure("hidden.xlsx"),
        ("hidden.xlsx", "'Data'", "row 2", "value", "'twelve'"),
    ),
    Case(
        "measurements-xlsx-formula-without-value",
        {"formula.xlsx": xlsx([("measurements", [["kpi", "period", "value"], ["engagement-score", 4, "=6+1"]])])},
        measure("formula.xlsx"),
        ("formula.xlsx", "row 2", ("column C", "column value"), "formula"),
    ),
    Case(
        "measurements-good-then-bad",
        {"good.csv": "good.csv", "m_12abc.csv": "m_12abc.csv"},
        measure("good.csv", "m_12abc.csv"),
        ("m_12abc.csv", "row 2", "'12abc'"),
    ),
    Case("measurements-missing-file", {}, measure("absent.csv"), ("absent.csv", "not found")),
    Case(
        "measurements-unknown-engagement",
        {"good.csv": "good.csv"},
        [*imp("good.csv"), "--engagement", "nobody"],
        ("'nobody'", SEED_ID),
    ),
    Case(
        "measurements-bad-engagement-id",
        {"good.csv": "good.csv"},
        [*imp("good.csv"), "--engagement", "../../etc"],
        ("'../../etc'", "lower-case"),
    ),
    Case(
        "measurements-too-many-rows",
        {"many.csv": rows_csv("kpi,period,value", lambda i: f"engagement-score,{i},7", 5)},
        measure("many.csv"),
        ("many.csv", "more than 3"),
        limits=(("MAX_TABLE_ROWS", 3),),
    ),
    Case(
        "measurements-text-named-xlsx",
        {"fake.xlsx": b"kpi,period,value\nengagement-score,4,7\n"},
        measure("fake.xlsx"),
        ("fake.xlsx", "Excel"),
    ),
    Case(
        "measurements-truncated-xlsx",
        {"broken.xlsx": b"PK\x03\x04" + bytes(200)},
        measure("broken.xlsx"),
        ("broken.xlsx", ".xlsx"),
    ),
    Case("measurements-not-a-table", {"notes.txt": b"kpi,period,value\n"}, measure("notes.txt"), ("notes.txt", ".csv")),
    # The engagement's life: models, the moment log and events (files and appended logs).
    Case(
        "lifecycle-unknown-moment-in-the-log",
        {"lifecycle_unknown_moment.yaml": "lifecycle_unknown_moment.yaml"},
        imp("lifecycle_unknown_moment.yaml"),
        ("lifecycle_unknown_moment.yaml", "line 7", "moments[1].moment", "'kick_off_call'", "'high-touch'", "kickoff"),
    ),
    Case(
        "lifecycle-event-type-not-in-the-list",
        {"lifecycle_event_type.yaml": "lifecycle_event_type.yaml"},
        imp("lifecycle_event_type.yaml"),
        ("lifecycle_event_type.yaml", "line 6", "events[1].type", "'outage'", "support_case"),
    ),
    Case(
        "lifecycle-date-that-does-not-exist",
        {"lifecycle_impossible_date.yaml": "lifecycle_impossible_date.yaml"},
        imp("lifecycle_impossible_date.yaml"),
        ("lifecycle_impossible_date.yaml", "line 6", "moments[0].due", "2027-02-30", "YYYY-MM-DD"),
    ),
    Case(
        "model-trigger-with-an-unknown-key",
        {"model_trigger_unknown_key.yaml": "model_trigger_unknown_key.yaml"},
        imp("model_trigger_unknown_key.yaml"),
        ("model_trigger_unknown_key.yaml", "line 7", "triggers[0].when.colour", "'trigger-unknown-key'", "'slow-accounts'"),
    ),
    Case(
        "model-after-chain-loops",
        {"model_after_loop.yaml": "model_after_loop.yaml"},
        imp("model_after_loop.yaml"),
        ("model_after_loop.yaml", "line 5", "moments[1].after.moment", "'after-loop'", "training after review after training"),
    ),
    # The relationship around the value (stakeholder map, success plan, risks, activities).
    *(
        Case(
            f"stakeholder-{name.replace('_', '-')}",
            {f"stakeholder_{name}.yaml": f"stakeholder_{name}.yaml"},
            imp(f"stakeholder_{name}.yaml"),
            (f"stakeholder_{name}.yaml", *fragments),
        )
        for name, fragments in [
            ("influence_6", ("line 6", "stakeholders[1].influence", "expected at most 5, got 6")),
            ("support_3", ("line 5", "stakeholders[0].support", "expected at least -2, got -3")),
            ("unknown_role", ("line 8", "stakeholders[1].roles[1]", "'cheerleader'", "sponsor, champion, decision_maker")),
            ("cadence", ("line 5", "stakeholders[0].cadence", "weekly, monthly, quarterly", "'fortnightly'")),
            ("last_contact", ("line 5", "stakeholders[0].last_contact", "2026-11-31", "YYYY-MM-DD")),
            ("reports_to_unknown", ("line 6", "stakeholders[1].reports_to", "'Priya Raman' is not the name of any stakeholder")),
            (
                "reports_to_loop",
                ("line 5", "stakeholders[0].reports_to", "loop: Grace Obi -> Priya Raman -> Ravi Das -> Grace Obi"),
            ),
        ]
    ),
    Case(
        "milestone-evidence-kpi-that-does-not-exist",
        {"milestone_evidence_unknown_kpi.yaml": "milestone_evidence_unknown_kpi.yaml"},
        imp("milestone_evidence_unknown_kpi.yaml"),
        (
            "milestone_evidence_unknown_kpi.yaml",
            "line 8",
            "success_plan.milestones[0].evidence.kpi",
            "'engagment-score'",
            "engagement-score",
        ),
    ),
    Case(
        "milestone-evidence-moment-the-model-lacks",
        {"milestone_evidence_unknown_moment.yaml": "milestone_evidence_unknown_moment.yaml"},
        imp("milestone_evidence_unknown_moment.yaml"),
        (
            "milestone_evidence_unknown_moment.yaml",
            "line 7",
            "success_plan.milestones[0].evidence.moment",
            "'initial-training' is not a moment of the engagement model 'high-touch'",
            "initial_training",
        ),
    ),
    Case(
        "risk-status-not-in-the-list",
        {"risk_status.yaml": "risk_status.yaml"},
        imp("risk_status.yaml"),
        ("risk_status.yaml", "line 6", "risks[1].status", "'parked'", "open, plan_in_place, saving, recovered, lost"),
    ),
    Case(
        "health-bands-crossed",
        {"health_bands_crossed.yaml": "health_bands_crossed.yaml"},
        imp("health_bands_crossed.yaml"),
        ("health_bands_crossed.yaml", "line 5", "health.bands", "red (80) must not be above green (60)"),
    ),
    Case(
        "activity-mission-not-in-the-list",
        {"activity_mission.yaml": "activity_mission.yaml"},
        imp("activity_mission.yaml"),
        ("activity_mission.yaml", "line 5", "activities[0].missions[1]", "'keep_them_happy'", "reduce_risk"),
    ),
    Case(
        "maturity-model-with-2-levels",
        {"maturity_two_levels.yaml": "maturity_two_levels.yaml"},
        imp("maturity_two_levels.yaml"),
        ("maturity_two_levels.yaml", "line 4", "levels", "'two-steps' has 2 levels", "3 to 7"),
    ),
    Case(
        "maturity-model-with-8-levels",
        {"maturity_eight_levels.yaml": "maturity_eight_levels.yaml"},
        imp("maturity_eight_levels.yaml"),
        ("maturity_eight_levels.yaml", "line 4", "levels", "'eight-steps' has 8 levels", "3 to 7"),
    ),
    Case(
        "maturity-observed-behaviour-not-in-the-model",
        {"maturity_unknown_behaviour.yaml": "maturity_unknown_behaviour.yaml"},
        imp("maturity_unknown_behaviour.yaml"),
        (
            "maturity_unknown_behaviour.yaml",
            "line 8",
            "maturity.assessments[0].observed.kpis-owned-weekly",
            "'value-measurement'",
            "kpis-owned-monthly",
        ),
    ),
    Case(
        "job-with-no-steps",
        {"jobs_no_steps.yaml": "jobs_no_steps.yaml"},
        imp("jobs_no_steps.yaml"),
        ("jobs_no_steps.yaml", "line 8", "jobs[0].steps", "at least 1 step"),
    ),
    Case(
        "pulse-satisfaction-11-in-the-file",
        {"pulse_satisfaction_11.yaml": "pulse_satisfaction_11.yaml"},
        imp("pulse_satisfaction_11.yaml"),
        ("pulse_satisfaction_11.yaml", "line 13", "pulse[0].satisfaction", "at most 10", "11"),
    ),
    Case(
        "pulse-satisfaction-11-appended",
        {"pulse_satisfaction_11.csv": "pulse_satisfaction_11.csv"},
        measure("pulse_satisfaction_11.csv"),
        ("pulse_satisfaction_11.csv", "row 3", "column satisfaction", "at most 10", "11"),
    ),
    Case(
        "pulse-unknown-desired-outcome",
        {"pulse_unknown_outcome.csv": "pulse_unknown_outcome.csv"},
        measure("pulse_unknown_outcome.csv"),
        ("pulse_unknown_outcome.csv", "row 2", "'plan-tme'", "plan-time"),
    ),
    # A good model beside a bad engagement: the model is not stored either (one transaction).
    Case(
        "good-model-then-bad-engagement",
        {"m.yaml": GOOD_MODEL, "lifecycle_event_type.yaml": "lifecycle_event_type.yaml"},
        imp("m.yaml", "lifecycle_event_type.yaml"),
        ("lifecycle_event_type.yaml", "line 6", "'outage'"),
    ),
    # Found inside the transaction, after the model was written: it is rolled back.
    Case(
        "good-model-then-engagement-naming-a-missing-model",
        {"m.yaml": GOOD_MODEL, "e.yaml": f"{HEADER}id: names-a-ghost\ncustomer: X\nengagement_model: ghost-model\n".encode()},
        imp("m.yaml", "e.yaml"),
        ("e.yaml", "line 4", "engagement_model", "'ghost-model'", "good-model"),
    ),
    Case(
        "events-type-not-in-the-list",
        {"ev_unknown_type.csv": "ev_unknown_type.csv"},
        measure("ev_unknown_type.csv"),
        ("ev_unknown_type.csv", "row 3", "column type", "'outage'", "support_case"),
    ),
    Case(
        "moments-unknown-moment",
        {"mo_unknown_moment.csv": "mo_unknown_moment.csv"},
        measure("mo_unknown_moment.csv"),
        ("mo_unknown_moment.csv", "row 3", "column moment", "'weekly_sync'", "'high-touch'"),
    ),
    Case(
        "moments-date-that-does-not-exist",
        {"mo_impossible_date.csv": "mo_impossible_date.csv"},
        measure("mo_impossible_date.csv"),
        ("mo_impossible_date.csv", "row 2", "column due", "2027-04-31"),
        real_process=True,
    ),
    # The store.
    Case("store-db-empty", {"good.yaml": "good.yaml"}, ["--db", "", "import", "{in}/good.yaml"], ("--db", "empty")),
    Case(
        "store-db-a-directory",
        {"adir": a_folder, "good.yaml": "good.yaml"},
        ["--db", "{in}/adir", "import", "{in}/good.yaml"],
        ("adir", ("directory", "folder")),
    ),
    Case(
        "store-db-under-a-file",
        {"afile": a_regular_file, "good.yaml": "good.yaml"},
        ["--db", "{in}/afile/store.sqlite", "import", "{in}/good.yaml"],
        ("afile", "not a folder"),
    ),
    Case(
        "store-another-programs-sqlite",
        {"contacts.sqlite": other_program_sqlite, "good.yaml": "good.yaml"},
        ["--db", "{in}/contacts.sqlite", "import", "{in}/good.yaml"],
        ("contacts.sqlite", "csm-nb"),
        real_process=True,
    ),
    Case(
        "store-not-sqlite",
        {"notes.sqlite": b"shopping list: eggs, milk\n" * 50},
        ["--db", "{in}/notes.sqlite", "list"],
        ("notes.sqlite", "csm-nb"),
    ),
    Case("store-read-only", {"good.yaml": "good.yaml"}, imp("good.yaml"), ("store.sqlite", "read-only"), read_only_store=True),
    # Commands and options.
    Case(
        "report-unknown-engagement",
        {},
        ["--db", "{db}", "report", "--engagement", "nobody", "--out", "{runs}"],
        ("'nobody'", SEED_ID),
    ),
    Case("export-unknown-engagement", {}, ["--db", "{db}", "export", "nobody"], ("'nobody'", SEED_ID), real_process=True),
    Case(
        "run-unknown-engagement",
        {},
        ["--db", "{db}", "run", "cash_flow", "--engagement", "nobody", "--out", "{runs}"],
        ("'nobody'", SEED_ID),
    ),
    Case(
        "export-output-a-directory",
        {"adir": a_folder},
        ["--db", "{db}", "export", SEED_ID, "-o", "{in}/adir"],
        ("adir", ("directory", "folder")),
    ),
    Case(
        "export-output-a-symlink",
        {"link.yaml": dangling_symlink},
        ["--db", "{db}", "export", SEED_ID, "-o", "{in}/link.yaml"],
        ("link.yaml", "symbolic link"),
        real_process=True,
    ),
    Case(
        "export-output-under-a-file",
        {"afile": a_regular_file},
        ["--db", "{db}", "export", SEED_ID, "-o", "{in}/afile/e.yaml"],
        ("afile", ("not a folder", "not a directory")),
    ),
    Case("run-discount-rate-nan", {}, [*RUN, "-p", "discount_rate", ".nan"], ("discount_rate", "nan", "finite")),
    Case("run-discount-rate-true", {}, [*RUN, "-p", "discount_rate", "true"], ("discount_rate", "True", "0.002")),
    Case("run-discount-rate-text", {}, [*RUN, "-p", "discount_rate", "five"], ("discount_rate", "'five'", "per period")),
    Case("run-unknown-parameter", {}, [*RUN, "-p", "colour", "red"], ("'colour'", "discount_rate")),
    # -p takes NAME VALUE: "-p discount_rate=0.002 ..." must name what was typed and the parameters there are.
    Case(
        "run-parameter-name-with-equals",
        {},
        [*RUN, "-p", "discount_rate=0.002", "0.002"],
        ("'discount_rate=0.002'", "headline_roi"),
    ),
    Case(
        "run-unknown-workbook",
        {},
        ["--db", "{db}", "run", "no_such_book", "--engagement", SEED_ID, "--out", "{runs}"],
        ("'no_such_book'", "cash_flow"),
    ),
    Case(
        "run-out-a-file",
        {"afile": a_regular_file},
        ["--db", "{db}", "run", "cash_flow", "--engagement", SEED_ID, "--out", "{in}/afile"],
        ("afile", "folder"),
    ),
    Case(
        "report-out-a-file",
        {"afile": a_regular_file},
        ["--db", "{db}", "report", "--engagement", SEED_ID, "--out", "{in}/afile"],
        ("afile", "folder"),
    ),
    Case(
        "portfolio-out-a-file",
        {"afile": a_regular_file},
        ["--db", "{db}", "portfolio", "--out", "{in}/afile"],
        ("afile", "folder"),
    ),
    Case(
        "portfolio-scheduler-not-a-url",
        {},
        ["--db", "{db}", "portfolio", "--scheduler", "not a url", "--out", "{runs}"],
        ("--scheduler", "'not a url'", "tcp://"),
    ),
    Case(
        "portfolio-unknown-engagement",
        {},
        ["--db", "{db}", "portfolio", "--engagement", "nobody", "--out", "{runs}"],
        ("'nobody'", (SEED_ID, "csm-nb list")),
    ),  # the known ids, or the command that lists them
    Case(
        "import-replace-with-engagement",
        {"good.csv": "good.csv"},
        [*measure("good.csv"), "--replace"],
        ("--replace", "engagement files"),
    ),
]


# -- running one case --------------------------------------------------------
@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example employee-engagement imported once per module (each case gets a copy)."""
    db = tmp_path_factory.mktemp("bad-input-seed") / "seed.sqlite"
    code = cli.main(["--db", str(db), "import", str(SEED_FILE)])
    assert code == 0, f"{SEED_FILE} no longer imports cleanly"
    return db


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy with SQLite's backup API (not a file copy, which could catch a half-written page)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def sql_dump(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def tree(folder: Path) -> dict[str, object]:
    """Every path under ``folder`` with its bytes (or link target): inputs must be left exactly as given."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = ("symlink", os.readlink(path))
        elif path.is_dir():
            out[rel] = "folder"
        else:
            out[rel] = path.read_bytes()
    return out


def make(path: Path, source: Source) -> None:
    if isinstance(source, str):
        path.write_bytes((BAD / source).read_bytes())
    elif isinstance(source, bytes):
        path.write_bytes(source)
    else:
        source(path)


def fill(argv: list[str], places: dict[str, Path]) -> list[str]:
    out = []
    for arg in argv:
        for name, place in places.items():
            arg = arg.replace("{" + name + "}", str(place))
        out.append(arg)
    return out


def run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code: object = cli.main(argv)
    except SystemExit as exc:  # argparse's usage errors: exit 2, not the 1 of a bad input
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - anything else would reach a terminal as a traceback
        out, err = capsys.readouterr()
        pytest.fail(f"raised {type(exc).__name__}: {exc} (stderr: {err!r})")
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 1 if code else 0), out, err


CONSOLE_SCRIPT = Path(sys.executable).with_name("csm-nb")


def run_process(argv: list[str]) -> tuple[int, str, str]:
    """The installed ``csm-nb`` console script in a real process, as a terminal or scheduler runs it."""
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} missing: install the project (pip install -e .)"
    done = subprocess.run([str(CONSOLE_SCRIPT), *argv], check=False, capture_output=True, text=True, timeout=60, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr


def missing_fragments(case: Case, message: str) -> list[Fragment]:
    """The fragments ``message`` lacks. A fragment that is one of the case's input names must be in the message;
    any other is looked for with those names blanked out, so "finite" cannot be found in "infinite_amount.yaml"."""
    names = set(case.files) | {arg.rsplit("/", 1)[-1] for arg in case.argv if arg.startswith("{in}/")}
    blanked = message
    for name in sorted(names, key=len, reverse=True):
        blanked = blanked.replace(name, "<file>")

    def found(text: str) -> bool:
        return text in message if text in names else text in blanked

    return [f for f in case.fragments if not (any(map(found, f)) if isinstance(f, tuple) else found(f))]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_in_one_line_and_changes_nothing(
    case: Case, seed_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.read_only_store and os.geteuid() == 0:
        pytest.skip("running as root, which can write to a read-only file: the case cannot fail here")
    assert not (case.limits and case.real_process), "lowered limits only reach an in-process run"
    for name, value in case.limits:
        assert hasattr(config, name), f"csm_nb.config.{name} is gone; update the case"
        monkeypatch.setattr(config, name, value)
    inputs, store_dir, runs = tmp_path / "in", tmp_path / "store", tmp_path / "runs"
    inputs.mkdir()
    store_dir.mkdir()
    db = store_dir / "store.sqlite"
    copy_store(seed_store, db)
    for name, source in case.files.items():
        make(inputs / name, source)
    if case.read_only_store:
        db.chmod(0o444)
        store_dir.chmod(0o555)  # no journal file can be created next to it either
    before, before_bytes, inputs_before = sql_dump(db), db.read_bytes(), tree(inputs)
    argv = fill(case.argv, {"db": db, "in": inputs, "runs": runs})
    try:
        code, out, err = run_process(argv) if case.real_process else run_in_process(argv, capsys)
    finally:
        if case.read_only_store:
            store_dir.chmod(0o755)
            db.chmod(0o644)

    lines = err.splitlines()
    assert "Traceback" not in err + out, err
    assert code == 1, f"exit {code}: {err!r}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"expected one 'error:' line, got {err!r}"
    assert out == "", f"a failed command printed {out!r}"
    # Match on the message with the test's own folder taken out, so the folder's name cannot satisfy a fragment.
    message = lines[0].replace(str(tmp_path), "<tmp>")
    missing = missing_fragments(case, message)
    assert not missing, f"{missing} not in: {lines[0]}"
    assert sql_dump(db) == before, "the store changed"
    assert db.read_bytes() == before_bytes, "the store file changed (the README promises byte for byte)"
    assert tree(inputs) == inputs_before, "an input file or folder was changed or added"
    # A failed run's partial notebook (<workbook>.failed.ipynb) is a documented diagnostic, not a report.
    reports = [p for p in runs.rglob("*") if p.suffix in {".html", ".ipynb", ".json"} and not p.name.endswith(".failed.ipynb")]
    assert not reports, f"a report was written: {reports}"


def test_the_suite_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(c.real_process for c in CASES) >= 6
    unused = {p.name for p in BAD.iterdir()} - {s for c in CASES for s in c.files.values() if isinstance(s, str)}
    assert not unused, f"fixtures no case uses: {sorted(unused)}"
