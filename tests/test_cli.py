"""The command line: happy paths, --help everywhere, and every bad input gives
one line, a non-zero exit, no traceback, and an unchanged store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.data.engagement import read_engagement

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).parent / "fixtures"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def dump(db: Path) -> list[str]:
    """Everything in the store, as SQL, to compare before and after."""
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture
def seeded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "store.sqlite"
    code, out, err = run_cli(capsys, "--db", str(db), "import", *map(str, sorted(EXAMPLES.glob("*.yaml"))))
    assert code == 0, err
    return db


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_reports_created_then_unchanged_then_updated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.sqlite"
    source = EXAMPLES / "ad-campaign.yaml"
    assert run_cli(capsys, "--db", str(db), "import", str(source))[1].startswith("created ad-campaign (revision 1)")
    assert run_cli(capsys, "import", str(source), "--db", str(db))[1].startswith("unchanged ad-campaign (revision 1)")
    changed = write(tmp_path, "ad.yaml", source.read_text().replace("Brightline Outdoor Gear", "Brightline Gear Ltd"))
    (tmp_path / "ad-campaign-cash-flow.csv").write_text((EXAMPLES / "ad-campaign-cash-flow.csv").read_text())
    code, out, _ = run_cli(capsys, "--db", str(db), "import", str(changed))
    assert code == 0 and out.startswith("updated ad-campaign (revision 2)")
    code, out, _ = run_cli(capsys, "--db", str(db), "list")
    assert "ad-campaign\tBrightline Gear Ltd\trevision 2" in out


def test_export_round_trips_every_example(seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for source in sorted(EXAMPLES.glob("*.yaml")):
        original = read_engagement(source)
        target = tmp_path / f"{original.id}.yaml"
        code, out, err = run_cli(capsys, "--db", str(seeded), "export", original.id, "-o", str(target))
        assert code == 0, err
        again = read_engagement(target)
        # Store bookkeeping differs (the file has none); every data field must match.
        again.revision, again.updated_at, again.updated_by = original.revision, original.updated_at, original.updated_by
        assert again == original, source.name


def test_export_to_stdout_is_a_valid_engagement_file(seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--db", str(seeded), "export", "order-to-ship")
    assert code == 0
    again = read_engagement(write(tmp_path, "x.yaml", out))
    assert again.currency == "EUR"
    assert [k.direction for k in again.kpis][0] == "decrease"
    assert again.cash_flow[7].revenue_act is None and again.cash_flow[7].revenue_est == 30000


@pytest.mark.parametrize("command", ["demo", "import", "export", "run", "list"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"csm-nb {command}" in capsys.readouterr().out


def _cash_flow_yaml(tmp_path: Path, csv_name: str, *, engagement_id: str = "bad-file") -> Path:
    (tmp_path / csv_name).write_bytes((FIXTURES / csv_name).read_bytes())
    return write(
        tmp_path,
        f"{engagement_id}.yaml",
        f"schema: csm-nb/engagement@1\nid: {engagement_id}\ncustomer: X\ncash_flow: {csv_name}\n",
    )


# Each case: how to build the bad input, the CLI arguments, and words the one-line error must contain.
BAD_INPUTS = {
    "junk cell in the cash flow": (
        lambda t: _cash_flow_yaml(t, "cash_flow_junk_cell.csv"),
        "import",
        ["cash_flow_junk_cell.csv", "row", "column"],
    ),
    "unknown cash-flow column": (
        lambda t: _cash_flow_yaml(t, "cash_flow_unknown_column.csv"),
        "import",
        ["unknown column"],
    ),
    "unknown key": (
        lambda t: write(
            t, "k.yaml", "schema: csm-nb/engagement@1\nid: k\ncustomer: X\noutcomes:\n  - id: a\n    stauts: stated\n"
        ),
        "import",
        ["k.yaml", "line 6", "'stauts'"],
    ),
    "path-traversal id in a file": (
        lambda t: write(t, "evil.yaml", "schema: csm-nb/engagement@1\nid: ../../etc\ncustomer: X\n"),
        "import",
        ["line 2", "'../../etc'", "not valid"],
    ),
    "not YAML at all": (lambda t: write(t, "b.yaml", "id: [unclosed\n"), "import", ["b.yaml", "not valid YAML"]),
    "missing file": (lambda t: t / "nope.yaml", "import", ["nope.yaml", "not found"]),
    "wrong schema": (
        lambda t: write(t, "s.yaml", "schema: something-else\nid: s\ncustomer: X\n"),
        "import",
        ["line 1", "csm-nb/engagement@1"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_import_gives_one_line_and_leaves_the_store_alone(
    case: str, seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build, command, words = BAD_INPUTS[case]
    before = dump(seeded)
    path = build(tmp_path)
    # A good file next to the bad one must not be imported either: all or nothing.
    good = EXAMPLES / "ad-campaign.yaml"
    code, out, err = run_cli(capsys, "--db", str(seeded), command, str(good), str(path))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err + out
    for word in words:
        assert word in err, (word, err)
    assert dump(seeded) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["export", "../../etc"], ["'../../etc'", "not valid"]),
        (["run", "cash_flow", "--engagement", "../../etc"], ["'../../etc'", "not valid"]),
        (["export", "nobody"], ["no engagement 'nobody'", "csm-nb import"]),
        (["run", "cash_flow", "--engagement", "nobody"], ["no engagement 'nobody'"]),
        (["run", "no_such_workbook", "--engagement", "ad-campaign"], ["no workbook 'no_such_workbook'", "cash_flow"]),
        (["run", "cash_flow", "--engagement", "ad-campaign", "-p", "colour", "red"], ["no parameter 'colour'", "accuracy_band"]),
        (["run", "cash_flow", "--engagement", "ad-campaign", "-p", "accuracy_band", "wide"], ["accuracy_band", "expected float"]),
        (["run", "cash_flow", "--engagement", "ad-campaign", "-p", "db", "/tmp/x"], ["'db' is set by csm-nb"]),
        (["run", "cash_flow", "--engagement", "ad-campaign", "--as-of", "30/11/2026"], ["--as-of: expected a date (YYYY-MM-DD)"]),
        (["run", "cash_flow", "--engagement", "ad-campaign", "-p", "as_of", "soon"], ["parameter 'as_of'", "got 'soon'"]),
        (["report", "--engagement", "ad-campaign", "--as-of", "2026-02-30"], ["--as-of: expected a date", "'2026-02-30'"]),
        (["portfolio", "--as-of", "tomorrow"], ["--as-of: expected a date (YYYY-MM-DD) such as 2026-11-30", "'tomorrow'"]),
    ],
)
def test_bad_command_gives_one_line_and_leaves_the_store_alone(
    args: list[str], words: list[str], seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dump(seeded)
    out_option = ["--out", str(tmp_path / "runs")] if args[0] in ("run", "report", "portfolio") else []
    code, out, err = run_cli(capsys, "--db", str(seeded), *args, *out_option)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: "), err
    for word in words:
        assert word in err, (word, err)
    assert dump(seeded) == before
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.html"))


def test_a_store_that_is_not_sqlite_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = write(tmp_path, "fake.sqlite", "this is not a database, just text " * 100)
    code, _, err = run_cli(capsys, "--db", str(fake), "list")
    assert code == 1 and err.startswith(f"error: store {fake}") and "not a csm-nb SQLite store" in err
    assert fake.read_text().startswith("this is not a database")


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "cash_flow"])  # --engagement missing
    assert exit_info.value.code == 2
    assert "--engagement" in capsys.readouterr().err


def test_installed_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """The real entry point, in a real process, as a scheduler would call it."""
    script = Path(sys.executable).with_name("csm-nb")
    result = subprocess.run(
        [str(script), "--db", str(tmp_path / "s.sqlite"), "export", "missing-one"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: no engagement 'missing-one' in store {tmp_path / 's.sqlite'} (the store is empty); import one with: csm-nb import FILE"
    ]


def test_list_never_prints_control_characters_from_stored_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from csm_nb.data.store import Store
    from csm_nb.model import Engagement

    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        store.save(Engagement(id="evil", customer="Acme\x1b]0;pwned\x07\x1b[2J\rCorp\u202e"), author="x\x1b[31m")
    code, out, _ = run_cli(capsys, "--db", str(db), "list")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "evil\tAcme?]0;pwned??[2J?Corp?\trevision 1" in out and "by x?[31m" in out


def test_an_empty_db_option_is_refused_not_taken_for_the_project_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--db", "", "list")
    assert code == 1 and out == ""
    assert err == "error: --db is empty; give the store's file path (e.g. --db csm-nb.sqlite) or leave --db out\n"


def test_replace_is_only_for_engagement_files(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys,
        "--db",
        str(seeded),
        "import",
        "--replace",
        str(EXAMPLES / "order-to-ship-month-7.csv"),
        "--engagement",
        "order-to-ship",
    )
    assert code == 1 and "--replace is for engagement files" in err


# -- engagement models and the logs that grow -------------------------------------------------------
MODEL_FILE = """schema: csm-nb/engagement-model@1
id: enterprise
name: Enterprise
touch: high
ttv_target_days: 35
moments:
  - {id: kickoff, name: Kick-off, phase: onboarding, type: milestone, after: {moment: contract.signed, days: 5},
     escalate: {after_days: 3, to: CS manager}, marks: [first_value]}
  - {id: qbr, phase: ongoing, type: time, every: 3 months, from: contract.start}
  - {id: case_call, phase: ongoing, type: event, when: {event: support_case, severity: high}, respond_within_days: 1}
triggers:
  - {id: late-kickoff, when: {moment: kickoff, overdue_days: 3}, start: case_call, owner: CS manager}
"""
LIFE_FILE = """schema: csm-nb/engagement@1
id: acme
customer: Acme
engagement_model: enterprise
contract: {signed: 2026-12-01, start: 2027-01-01, end: 2027-12-31, notice_days: 90, auto_renew: true}
moments:
  - {moment: kickoff, held: 2026-12-08}
events:
  - {date: 2027-03-02, type: support_case, severity: high, ref: CASE-1}
"""


def test_a_model_imports_with_the_engagement_that_names_it_and_exports_losslessly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from csm_nb.data.engagement import parse_model

    db = str(tmp_path / "s.sqlite")
    model, life = write(tmp_path, "enterprise.yaml", MODEL_FILE), write(tmp_path, "acme.yaml", LIFE_FILE)
    code, out, err = run_cli(capsys, "--db", db, "import", str(life), str(model))  # the model is saved first
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"created acme (revision 1) from {life}", f"created model enterprise (revision 1) from {model}"]
    assert run_cli(capsys, "--db", db, "import", str(model))[1] == f"unchanged model enterprise (revision 1) from {model}\n"
    code, exported, _ = run_cli(capsys, "--db", db, "export", "--model", "enterprise")
    assert code == 0 and parse_model(exported, source="out.yaml") == parse_model(MODEL_FILE, source="in.yaml")
    target = tmp_path / "again.json"
    assert run_cli(capsys, "--db", db, "export", "--model", "enterprise", "-o", str(target))[:2] == (0, f"wrote {target}\n")
    assert parse_model(target.read_text(), source="again.json") == parse_model(MODEL_FILE, source="in.yaml")
    assert run_cli(capsys, "--db", db, "import", str(target))[1].startswith("unchanged model enterprise (revision 1)")
    code, exported, _ = run_cli(capsys, "--db", db, "export", "acme")
    models = {"enterprise": parse_model(MODEL_FILE, source="in.yaml")}
    again, first = (
        read_engagement(write(tmp_path, "acme-again.yaml", exported), models=models),
        read_engagement(life, models=models),
    )
    again.revision, again.updated_at, again.updated_by = first.revision, first.updated_at, first.updated_by
    assert code == 0 and again == first and again.contract.auto_renew is True


def test_a_built_in_model_exports_without_a_store_import_and_can_be_adapted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.sqlite")
    code, text, _ = run_cli(capsys, "--db", db, "export", "--model", "high-touch")
    assert code == 0 and "id: high-touch" in text and "ttv_target_days: 42" in text
    adapted = write(tmp_path, "ht.yaml", text.replace("grace_days: 7", "grace_days: 5"))
    code, out, _ = run_cli(capsys, "--db", db, "import", str(adapted))
    assert out == f"created model high-touch (revision 1) from {adapted}: overrides the built-in model of that id in this store\n"
    assert "grace_days: 5" in run_cli(capsys, "--db", db, "export", "--model", "high-touch")[1]


def test_logs_append_from_csv_picked_by_the_header_and_the_same_rows_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.sqlite")
    run_cli(capsys, "--db", db, "import", str(write(tmp_path, "m.yaml", MODEL_FILE)), str(write(tmp_path, "a.yaml", LIFE_FILE)))
    events = write(tmp_path, "events.csv", "date,type,score,scale,respondent\n2027-03-20,survey,5,10,Tom\n")
    log = write(tmp_path, "moments.csv", "moment,due,held,attendees\nqbr,2027-04-01,2027-04-06,Ann; Bob\n")
    code, out, err = run_cli(capsys, "--db", db, "import", str(events), str(log), "--engagement", "acme")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"acme: 1 added, 0 updated, 0 unchanged from {events} (events)",
        f"acme: 1 added, 0 updated, 0 unchanged from {log} (moment log)",
    ]
    assert run_cli(capsys, "--db", db, "import", str(events), str(log), "--engagement", "acme")[1].splitlines() == [
        f"acme: 0 added, 0 updated, 1 unchanged from {events} (events)",
        f"acme: 0 added, 0 updated, 1 unchanged from {log} (moment log)",
    ]
    # Re-importing the engagement file keeps what was appended.
    code, out, _ = run_cli(capsys, "--db", db, "import", str(tmp_path / "a.yaml"))
    assert (
        out.startswith("unchanged acme (revision 3)") and "kept from the store: 1 moment-log entry (qbr); 1 event (survey)" in out
    )
    exported = run_cli(capsys, "--db", db, "export", "acme")[1]
    assert "{moment: qbr, due: '2027-04-01', held: '2027-04-06', attendees: [Ann, Bob]}" in exported


@pytest.mark.parametrize(
    ("args", "words"), [(["export"], "an engagement ID or --model ID"), (["export", "acme", "--model", "x"], "one of them")]
)
def test_export_takes_an_engagement_or_a_model(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == "" and words in err and err.count("\n") == 1
