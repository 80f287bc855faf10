"""csm_nb.run.portfolio and ``csm-nb portfolio``: selection, isolation of failures,
summary.json and the index page, --resume after a kill, and Dask.

The big run (40 engagements, one corrupt) happens once per session in the
``portfolio_of_40`` fixture (tests/conftest.py); the kill and Dask tests use
6-8 engagements so the suite stays quick on two cores.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import nbformat
import pytest
from conftest import (
    CORRUPT_ENGAGEMENT,
    PORTFOLIO_SIZE,
    corrupt_cash_flow,
    running,
    synthetic_engagements,
)

from csm_nb import cli
from csm_nb.data.store import EngagementSummary, Store
from csm_nb.errors import NotFoundError
from csm_nb.method import cashflow
from csm_nb.model import Engagement
from csm_nb.render.index import Headline
from csm_nb.run import portfolio, registry

CSM_NB = Path(sys.executable).with_name("csm-nb")


def summary_row(engagement_id: str, csm: str | None, tags: list[str]) -> EngagementSummary:
    return EngagementSummary(engagement_id, engagement_id.upper(), csm, tags, 1, "", "")


ROWS = [
    summary_row("acme", "Dana Whitfield", ["emea", "tier-1"]),
    summary_row("beta", "Sam Okafor", ["amer"]),
    summary_row("cato", "dana whitfield ", []),
    summary_row("delta", None, ["EMEA"]),
]


# -- choosing engagements, labels, parameters -------------------------------------------------
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["acme", "beta", "cato", "delta"]),
        ({"ids": ["delta", "beta"]}, ["beta", "delta"]),
        ({"tags": ["emea"]}, ["acme", "delta"]),
        ({"tags": ["amer", "tier-1"]}, ["acme", "beta"]),
        ({"csm": "Dana Whitfield"}, ["acme", "cato"]),
        ({"csm": "DANA WHITFIELD", "tags": ["emea"]}, ["acme"]),
        ({"csm": "Nobody"}, []),
        ({"ids": ["beta"], "csm": "Dana Whitfield"}, []),
    ],
)
def test_select_engagements(filters: dict, expected: list[str]) -> None:
    assert [e.id for e in portfolio.select_engagements(ROWS, **filters)] == expected


def test_an_unknown_id_is_an_error_not_a_smaller_run() -> None:
    with pytest.raises(NotFoundError, match="no engagement 'acne'"):
        portfolio.select_engagements(ROWS, ids=["acme", "acne"])


@pytest.mark.parametrize("label", ["../etc", "a/b", "", "..", " 2026", "x" * 65, "-lead"])
def test_labels_that_are_not_a_plain_folder_name_are_usage_errors(label: str) -> None:
    with pytest.raises(portfolio.UsageError) as info:
        portfolio.check_label(label)
    assert info.value.exit_code == 2 and "--label" in str(info.value)


def test_the_default_label_is_the_date() -> None:
    assert portfolio.default_label(dt.date(2026, 3, 31)) == "2026-03-31"


def test_the_default_workbook_is_the_value_report_and_unknown_ones_are_refused() -> None:
    assert portfolio.chosen_workbooks(None) == ["value_report"]
    assert portfolio.chosen_workbooks(["cash_flow", "cash_flow"]) == ["cash_flow"]
    with pytest.raises(portfolio.UsageError, match="no workbook 'cashflow'"):
        portfolio.chosen_workbooks(["cashflow"])


def test_parameters_go_to_the_workbooks_that_declare_them() -> None:
    per = portfolio.split_parameters({"discount_rate": 0.01}, ["cash_flow", "value_report"])
    assert per == {"cash_flow": {"discount_rate": 0.01}, "value_report": {}}
    with pytest.raises(portfolio.UsageError, match="-p colour: none of the workbooks"):
        portfolio.split_parameters({"colour": "red"}, ["cash_flow"])


# -- headline figures and the index page ------------------------------------------------------------
def test_headline_figures_come_from_the_pages_through_the_registry() -> None:
    value_report = {
        "overall": "attention",
        "verdicts": {"overall": "attention", "money": "behind"},
        "financial": {
            "profit_est": 45000.0,
            "profit_act": None,
            "headline_roi": "net_roi",
            "roi_est": 0.3,
            "roi_act": None,
            "payback_period_est": "Month 8",
        },
    }
    head = portfolio.headline_for("value_report", value_report)
    assert dict(head.figures) == {
        "profit": 45000.0,
        "roi": 0.3,
        "roi_kind": "net_roi",
        "payback": "Month 8",
        "verdict": "attention",
        "money": "behind",
        "estimated": True,
    }
    assert (head.verdict, head.tone, head.words) == ("attention", "warn", "needs attention")
    cash = {
        "profit_est": 52000.0,
        "profit_act": 59673.0,
        "headline_roi": "return_on_cost",
        "return_on_cost_act": 1.37295625,
        "payback_period_act": "Week 9",
        "verdict": "on_track",
        "verdicts": {"overall": "on_track", "money": "on_track"},
    }
    head = portfolio.headline_for("cash_flow", cash, currency="GBP")
    assert head.figures["profit"] == 59673.0 and head.figures["roi"] == 1.37295625 and not head.figures["estimated"]
    assert portfolio.figure_texts(head, "GBP") == {
        "profit": "£59,673",
        "roi": "137.3 %",
        "payback": "Week 9",
        "overall": "on track",
        "estimated": False,
    }
    not_started = {"overall": "not_started", "verdicts": {"overall": "not_started", "money": None}}
    assert dict(portfolio.headline_for("value_report", not_started).figures) == {"verdict": "not_started"}
    assert dict(portfolio.headline_for("value_report", {}).figures) == {}
    assert portfolio.headline_for("no_such_workbook", cash) == Headline()  # no page: nothing to show, no error


@pytest.mark.parametrize(
    ("workbook", "results", "verdict_words", "tone"),
    [
        ("value_report", {"verdicts": {"overall": "on_track"}}, "on track", "good"),
        ("value_report", {"verdicts": {"overall": "off_track"}}, "off track", "bad"),
        ("cash_flow", {"verdict": "behind", "profit_est": 1.0, "verdicts": {"overall": "on_track"}}, "on track", ""),
        ("cash_flow", {"verdict": "within_band", "profit_est": 1.0, "verdicts": {"overall": "attention"}}, "needs attention", ""),
        ("progress", {"counts": {"ahead": 1}, "verdicts": {"overall": "off_track"}}, "off track", ""),
        ("engagement_brief", {"verdicts": {"overall": "not_started"}}, "too early to tell", ""),
        ("progress", {"counts": {"ahead": 1}}, "", ""),  # an old results file without verdicts: no words
    ],
)
def test_the_overall_words_are_the_engagements_whichever_page_ran(
    workbook: str, results: dict, verdict_words: str, tone: str
) -> None:
    head = portfolio.headline_for(workbook, results)
    assert (head.words, head.tone) == (verdict_words, tone)  # only the value report tags it
    assert portfolio.figure_texts(head, "USD")["overall"] == verdict_words


EVIL = "<script>alert(1)</script>"


def test_the_index_page_escapes_what_people_typed_and_leads_with_failures() -> None:
    good = portfolio.EngagementOutcome(
        "acme",
        EVIL,
        "Dana <b>W</b>",
        "USD",
        "ok",
        1.25,
        [
            portfolio.WorkbookOutcome(
                "cash_flow",
                "ok",
                1.25,
                outputs={"html": "acme/cash_flow.html"},
                headline=Headline(
                    words="on <i>track</i>",
                    figures={
                        "profit": 59673.0,
                        "roi": 0.37295625,
                        "roi_kind": "net_roi",
                        "estimated": False,
                    },
                ).as_json(),
            )
        ],
    )
    bad = portfolio.EngagementOutcome(
        "beta",
        "Beta & Co",
        None,
        "EUR",
        "failed",
        0.5,
        [
            portfolio.WorkbookOutcome(
                "cash_flow",
                "failed",
                0.5,
                error="ValueError: <img src=x onerror=alert(2)>",
                failed_cell=4,
                partial_notebook="beta/cash_flow.failed.ipynb",
            )
        ],
        error="ValueError: <img src=x onerror=alert(2)>",
    )
    page = portfolio.index_html("2026-03", [good, bad], started_at=dt.datetime(2026, 3, 31, 6, 0, tzinfo=dt.UTC), duration=75.0)
    assert "<script" not in page and "<img" not in page and "<b>W</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Dana &lt;b&gt;W&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "Beta &amp; Co" in page
    assert page.index("Beta &amp; Co") < page.index("&lt;script&gt;alert(1)")  # failures first
    assert '<a href="acme/cash_flow.html">' in page and '<a href="beta/cash_flow.failed.ipynb">' in page
    assert "1 of 2 engagements failed." in page
    assert '<td class="num">$59,673</td><td class="num">37.3 %</td>' in page  # actual figures, so not marked estimated
    assert '<tr class="failure-row"><td colspan="8"><p class="failure-line">ValueError: &lt;img' in page
    assert "took 1 min 15 s" in page
    assert "<td>on &lt;i&gt;track&lt;/i&gt;</td>" in page  # a page's words are escaped too
    assert page.count("<tr>") == 3 and page.count('<tr class="failure-row">') == 1  # the head row and one row each
    assert "estimated" not in page.split("<tbody>")[1].split("</tbody>")[0]  # actual figures only


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_plain_lines_in_a_log_and_nothing_when_quiet() -> None:
    ok = portfolio.EngagementOutcome("acme", "Acme", None, "USD", "ok", 1.25)
    bad = portfolio.EngagementOutcome("beta", "Beta", None, "USD", "failed", 0.5, error="workbook 'x' failed in cell 4: boom")
    assert type(portfolio.progress_for(quiet=True, stream=_Terminal())) is portfolio.Progress

    lines: list[str] = []
    log = portfolio.progress_for(quiet=False, stream=io.StringIO())
    assert isinstance(log, portfolio.LineProgress)
    log.write = lines.append
    log.start(12, label="2026-03", where="2 local workers")
    log.done(ok)
    log.done(bad)
    assert lines == [
        "portfolio 2026-03: 12 engagements on 2 local workers",
        "[ 1/12] rendered   acme (1.2 s)",
        "[ 2/12] failed     beta (0.5 s): workbook 'x' failed in cell 4: boom",
    ]

    terminal = _Terminal()
    bar = portfolio.progress_for(quiet=False, stream=terminal)
    assert isinstance(bar, portfolio.BarProgress)
    bar.start(2, label="2026-03", where="here")
    bar.done(ok)
    bar.done(bad)
    bar.close()
    shown = terminal.getvalue()
    assert "portfolio 2026-03: 100%" in shown and "2/2 engagements" in shown
    assert "failed beta: workbook 'x' failed in cell 4: boom" in shown and "failed=1" in shown


def test_previous_results_come_from_the_latest_other_run(tmp_path: Path) -> None:
    for label, age in (("2026-01", 200), ("2026-02", 100)):
        path = tmp_path / label / "acme" / "value_report.json"
        path.parent.mkdir(parents=True)
        path.write_text("{}")
        os.utime(path, (time.time() - age, time.time() - age))
    current = tmp_path / "2026-03"
    assert portfolio.previous_results(current, "acme", "value_report") == tmp_path / "2026-02" / "acme" / "value_report.json"
    assert portfolio.previous_results(current, "beta", "value_report") is None
    own = current / "acme" / "value_report.json"
    own.parent.mkdir(parents=True)
    own.write_text("{}")
    assert portfolio.previous_results(current, "acme", "value_report") == own


# -- the command line: usage errors before any kernel starts ------------------------------------------
@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    with Store(db) as store:
        store.save(Engagement(id="acme", customer="Acme", csm="Dana Whitfield", tags=["emea"]))
    return db


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--workbooks", "nope"], 2, ["no workbook 'nope'", "cash_flow"]),
        (["--workers", "0"], 2, ["--workers 0"]),
        (["--label", "../up"], 2, ["--label '../up' is not valid"]),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], 2, ["--workers is for local runs"]),
        (["--scheduler", "not a url"], 1, ["--scheduler 'not a url' is not a Dask scheduler address", "tcp://host:port"]),
        (["--scheduler", "http://10.0.0.5:8786"], 1, ["--scheduler 'http://10.0.0.5:8786' is not a Dask"]),
        (["--scheduler", "tcp://10.0.0.5:99999"], 1, ["--scheduler 'tcp://10.0.0.5:99999'"]),
        (["--workbooks", "cash_flow", "-p", "colour", "red"], 2, ["-p colour"]),
        (["--tag", "amer"], 1, ["no engagement in", "matches tag amer"]),
        (["--csm", "Nobody"], 1, ["CSM 'Nobody'"]),
        (["--engagement", "ghost"], 1, ["no engagement 'ghost'"]),
    ],
)
def test_bad_requests_exit_with_one_line(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, words: list[str]
) -> None:
    assert cli.main(["--db", str(small_store), "portfolio", "--out", str(tmp_path / "runs"), *args]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not list((tmp_path / "runs").glob("*/*/*.html"))


@pytest.mark.parametrize(
    "address",
    [
        "tcp://10.0.0.5:8786",
        "tls://sched.example.com:8786",
        "ucx://10.0.0.5",
        "inproc://10.0.0.5/1234/1",
        "ws://[::1]:8786",
        "wss://host:443",
        "sched:8786",
    ],
)
def test_scheduler_addresses_dask_takes_pass_the_check(address: str) -> None:
    assert portfolio.check_scheduler(f" {address} ") == address


def test_a_missing_store_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", str(tmp_path / "none.sqlite"), "portfolio"]) == 1
    assert f"store {tmp_path / 'none.sqlite'} does not exist" in capsys.readouterr().err


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["portfolio", "--workers", "many"])
    assert info.value.code == 2 and "--workers" in capsys.readouterr().err


def test_help_names_the_exit_codes() -> None:
    text = cli.build_parser()._subparsers._group_actions[0].choices["portfolio"].format_help()
    assert "3 some engagements failed" in text and "--resume" in text and "--scheduler" in text


# -- 40 engagements, one corrupt (the session fixture) ------------------------------------------------
def _cell_number(workbook_id: str, needle: str) -> int:
    nb = nbformat.read(registry.get_workbook(workbook_id).path, as_version=4)
    return next(i for i, c in enumerate(nb.cells, start=1) if needle in c.source)


@pytest.mark.slow
def test_forty_engagements_one_corrupt_gives_39_reports_and_one_clear_failure(portfolio_of_40: dict) -> None:
    run_dir: Path = portfolio_of_40["run_dir"]
    assert portfolio_of_40["returncode"] == portfolio.EXIT_PARTIAL == 3
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is True and summary["failed"] == [CORRUPT_ENGAGEMENT]
    assert summary["counts"] == {"ok": PORTFOLIO_SIZE - 1, "failed": 1, "total": PORTFOLIO_SIZE}
    rows = {e["engagement_id"]: e for e in summary["engagements"]}
    assert len(rows) == PORTFOLIO_SIZE
    bad = rows[CORRUPT_ENGAGEMENT]
    cell = _cell_number("cash_flow", "open_page(")
    assert bad["status"] == "failed" and bad["workbooks"][0]["failed_cell"] == cell
    assert bad["error"].startswith(f"workbook 'cash_flow' failed in cell {cell} (page = cash_flow.open_page(")
    assert bad["error"].endswith("ValueError: could not convert string to float: 'twelve thousand'")
    assert "\n" not in bad["error"]
    partial = run_dir / bad["workbooks"][0]["partial_notebook"]
    assert partial == run_dir / CORRUPT_ENGAGEMENT / "cash_flow.failed.ipynb"
    assert [
        o.ename
        for c in nbformat.read(partial, as_version=4).cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ] == ["ValueError"]
    assert sorted(p.name for p in (run_dir / CORRUPT_ENGAGEMENT).iterdir()) == ["cash_flow.failed.ipynb"]

    # 39 complete reports, nothing temporary or half-written anywhere.
    htmls = sorted(run_dir.glob("*/cash_flow.html"))
    assert len(htmls) == PORTFOLIO_SIZE - 1
    for html in htmls:
        assert html.with_suffix(".json").is_file() and html.with_suffix(".ipynb").is_file()
        assert rows[html.parent.name]["status"] == "ok"
        assert rows[html.parent.name]["workbooks"][0]["outputs"]["html"] == f"{html.parent.name}/cash_flow.html"
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")]

    # What a scheduler's log shows: plain lines, one failure line on stderr, no traceback, no TCP warning.
    assert portfolio_of_40["stderr"].strip().splitlines() == [f"failed: {CORRUPT_ENGAGEMENT}: {bad['error']}"]
    out = portfolio_of_40["stdout"]
    assert f"[{PORTFOLIO_SIZE}/{PORTFOLIO_SIZE}]" in out and "40 engagements: 39 rendered, 0 up to date, 1 failed" in out

    # The index page says the same, escaped, with the failure first.
    page = (run_dir / "index.html").read_text()
    assert "1 of 40 engagements failed." in page
    assert "could not convert string to float: &#39;twelve thousand&#39;" in page
    assert page.count('class="status status-ok"') == 39 and page.count('class="status status-failed"') == 1
    assert f'href="{CORRUPT_ENGAGEMENT}/cash_flow.failed.ipynb"' in page
    links = re.findall(r'href="([^"]+\.html)"', page)
    assert len(set(links)) == 39 and all((run_dir / link).is_file() for link in links)


@pytest.mark.slow
def test_the_reports_carry_the_right_numbers(portfolio_of_40: dict) -> None:
    """Results and index figures agree with the calculations on the stored data."""
    run_dir: Path = portfolio_of_40["run_dir"]
    summary = {e["engagement_id"]: e for e in json.loads((run_dir / "summary.json").read_text())["engagements"]}
    with Store(portfolio_of_40["db"]) as store:
        for engagement_id in ("bench-000", "bench-013", "bench-039"):
            engagement = store.load(engagement_id)
            expected = cashflow.summarise(engagement.cash_flow)
            results = json.loads((run_dir / engagement_id / "cash_flow.json").read_text())
            assert results["totals"]["expenditure_est"] == pytest.approx(sum(x.expenditure_est for x in engagement.cash_flow))
            assert results["profit_est"] == pytest.approx(expected.profit_est)
            assert len(results["periods"]) == len(engagement.cash_flow)
            figures = summary[engagement_id]["workbooks"][0]["figures"]
            end = "act" if results["profit_act"] is not None else "est"
            assert figures["profit"] == pytest.approx(results[f"profit_{end}"])
            assert figures["estimated"] is (end == "est")


@pytest.mark.slow
def test_resume_renders_only_what_changed(portfolio_of_40: dict, tmp_path: Path) -> None:
    """On a copy of the run: 39 reports are up to date; the corrupt one fails again until it is fixed."""
    out = tmp_path / "runs"
    shutil.copytree(portfolio_of_40["run_dir"], out / "month-end")
    db = tmp_path / "store.sqlite"
    # SQLite's own backup, not a file copy: the corrupt cell may still sit in the -wal file.
    with closing(sqlite3.connect(portfolio_of_40["db"])) as source, closing(sqlite3.connect(db)) as copy:
        source.backup(copy)
    before = {p: p.stat().st_mtime_ns for p in (out / "month-end").glob("*/cash_flow.html")}

    result = portfolio.run_portfolio(db=db, out=out, label="month-end", workbooks=["cash_flow"], resume=True, workers=2)
    assert result.counts()["up_to_date"] == 39 and [e.engagement_id for e in result.failed] == [CORRUPT_ENGAGEMENT]
    assert {p: p.stat().st_mtime_ns for p in before} == before

    with Store(db) as store:  # somebody fixes the data
        engagement = store.load(CORRUPT_ENGAGEMENT)
        engagement.cash_flow[1].revenue_est = 12000.0
        store.save(engagement)
    result = portfolio.run_portfolio(db=db, out=out, label="month-end", workbooks=["cash_flow"], resume=True, workers=2)
    assert result.exit_code == 0 and result.counts()["ok"] == 1 and result.counts()["up_to_date"] == 39
    fixed = out / "month-end" / CORRUPT_ENGAGEMENT
    assert sorted(p.name for p in fixed.iterdir()) == ["cash_flow.html", "cash_flow.ipynb", "cash_flow.json", "cash_flow.xlsx"]
    assert json.loads((fixed / "cash_flow.json").read_text())["totals"]["revenue_est"] == pytest.approx(
        sum(x.revenue_est for x in engagement.cash_flow)
    )


@pytest.mark.slow
def test_a_run_is_judged_at_its_label_date_and_resume_renders_a_report_of_another_as_of_again(tmp_path: Path) -> None:
    db, out = tmp_path / "store.sqlite", tmp_path / "runs"
    (engagement_id,) = synthetic_engagements().make_store(db, 1)
    report = out / "2026-11-30" / engagement_id / "cash_flow.json"

    first = portfolio.run_portfolio(db=db, out=out, label="2026-11-30", workbooks=["cash_flow"], workers=1)
    assert first.counts()["ok"] == 1 and json.loads(report.read_text())["as_of"] == "2026-11-30"  # the label is a date
    summary = json.loads((out / "2026-11-30" / "summary.json").read_text())
    assert summary["settings"]["as_of"] == "2026-11-30"
    assert "Figures as of 30 November 2026" in (out / "2026-11-30" / "index.html").read_text()

    again = portfolio.run_portfolio(db=db, out=out, label="2026-11-30", workbooks=["cash_flow"], workers=1, resume=True)
    assert again.counts()["up_to_date"] == 1
    later = portfolio.run_portfolio(
        db=db, out=out, label="2026-11-30", workbooks=["cash_flow"], workers=1, resume=True, as_of="2026-12-01"
    )
    assert later.counts()["ok"] == 1 and json.loads(report.read_text())["as_of"] == "2026-12-01"  # not up to date


# -- kill half-way, then --resume -------------------------------------------------------------------
@pytest.mark.slow
def test_a_killed_run_leaves_only_complete_reports_and_resume_finishes_without_rendering_twice(tmp_path: Path) -> None:
    db, out = tmp_path / "store.sqlite", tmp_path / "runs"
    synthetic_engagements().make_store(db, 8)
    run_dir = out / "kill-test"
    command = [
        str(CSM_NB),
        "--db",
        str(db),
        "portfolio",
        "--out",
        str(out),
        "--label",
        "kill-test",
        "--workbooks",
        "cash_flow",
        "--workers",
        "1",
    ]
    env = {**os.environ, "CSM_NB_DB": str(db)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while len(list(run_dir.glob("*/cash_flow.html"))) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be stopped"
    kernels = _children_of(process.pid)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().startswith("error: stopped by SIGTERM;") and "--resume" in stderr and "Traceback" not in stderr

    done_before = {p.parent.name: p.stat().st_mtime_ns for p in run_dir.glob("*/cash_flow.html")}
    assert 2 <= len(done_before) < 8
    for engagement in run_dir.iterdir():  # nothing half-written, no temporary folder left behind
        if engagement.is_dir():
            names = sorted(p.name for p in engagement.iterdir())
            assert names in ([], ["cash_flow.html", "cash_flow.ipynb", "cash_flow.json", "cash_flow.xlsx"]), names
    summary = json.loads((run_dir / "summary.json").read_text())
    recorded = {e["engagement_id"] for e in summary["engagements"] if e["status"] == "ok"}
    # A report that landed in the instant before the signal may not be in the summary yet.
    assert summary["complete"] is False and recorded <= set(done_before) and len(recorded) >= len(done_before) - 1
    assert "This run was stopped before the end." in (run_dir / "index.html").read_text()
    assert kernels and not [pid for pid in kernels if running(pid)]  # its kernels went with it

    resumed = subprocess.run([*command, "--resume", "--workers", "2"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    statuses = {e["engagement_id"]: e["status"] for e in summary["engagements"]}
    assert {k for k, v in statuses.items() if v == "up_to_date"} == set(done_before)
    assert sum(v == "ok" for v in statuses.values()) == 8 - len(done_before)
    assert summary["complete"] is True and len(list(run_dir.glob("*/cash_flow.html"))) == 8
    for engagement_id, mtime in done_before.items():  # none rendered twice
        assert (run_dir / engagement_id / "cash_flow.html").stat().st_mtime_ns == mtime


def _children_of(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {int(p) for p in found}


# -- Dask distributed -----------------------------------------------------------------------------------
def _visible(page: str) -> str:
    body = re.search(r'<main class="report">(.*)</main>', page, flags=re.DOTALL).group(1)
    body = re.sub(r'href="data:[^"]*"', "", body)  # the .xlsx download carries its own timestamp
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_outputs_as_the_local_path(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    db = tmp_path / "store.sqlite"
    ids = synthetic_engagements().make_store(db, 6)
    corrupt_cash_flow(db, ids[4])
    local = portfolio.run_portfolio(db=db, out=tmp_path / "local", label="m", workbooks=["cash_flow"], workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = portfolio.run_portfolio(
            db=db, out=tmp_path / "dask", label="m", workbooks=["cash_flow"], scheduler=cluster.scheduler_address
        )
    assert local.exit_code == remote.exit_code == 3
    assert [e.status for e in local.engagements] == [e.status for e in remote.engagements]
    assert [e.engagement_id for e in remote.failed] == [ids[4]]
    assert local.failed[0].error == remote.failed[0].error
    summary = json.loads(remote.summary_path.read_text())
    assert summary["settings"]["scheduler"].startswith("tcp://") and summary["settings"]["workers"] is None
    for engagement_id in ids:
        a, b = tmp_path / "local" / "m" / engagement_id, tmp_path / "dask" / "m" / engagement_id
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        if engagement_id == ids[4]:
            continue
        assert json.loads((a / "cash_flow.json").read_text()) == json.loads((b / "cash_flow.json").read_text())
        assert _visible((a / "cash_flow.html").read_text()) == _visible((b / "cash_flow.html").read_text())


def test_summary_entries_are_written_once_and_read_back_exactly(tmp_path: Path) -> None:
    """Each entry is serialised once and spliced in; the document must be what json.dumps of the whole would be."""
    from dataclasses import asdict

    tasks = [
        portfolio.EngagementTask(f"e{i}", f'Customer "{i}" \x00<b>', None, "EUR", "db", str(tmp_path), ["value_report"])
        for i in range(4)
    ]
    writer = portfolio._SummaryWriter(tmp_path, "label", dt.datetime(2026, 12, 4, tzinfo=dt.UTC), {"workers": 2}, tasks)
    finished = {
        "e1": portfolio.EngagementOutcome("e1", tasks[1].customer, None, "EUR", "ok", duration_s=1.23456),
        "e3": portfolio.EngagementOutcome("e3", tasks[3].customer, "Dana", "EUR", "failed", error="x\ny"),
    }
    for _ in range(2):  # the second write reuses the cached entries
        document = json.loads(writer.write(finished, complete=False, duration=2.0).read_text())
    entries = document["engagements"]
    assert [e["engagement_id"] for e in entries] == ["e0", "e1", "e2", "e3"]
    assert [e["status"] for e in entries] == ["not_run", "ok", "not_run", "failed"]
    assert entries[1] == {
        **asdict(finished["e1"]),
        "duration_s": 1.235,
        "verdicts": finished["e1"].verdicts(),
        "figures": finished["e1"].figures(),
    }
    assert entries[3]["error"] == "x\ny" and entries[0]["customer"] == tasks[0].customer
    assert document["counts"] == {"ok": 1, "failed": 1, "not_run": 2, "total": 4} and document["failed"] == ["e3"]
    finished["e0"] = portfolio.EngagementOutcome("e0", tasks[0].customer, None, "EUR", "ok")
    document = json.loads(writer.write(finished, complete=True, duration=3.0).read_text())
    assert [e["status"] for e in document["engagements"]] == ["ok", "ok", "not_run", "failed"]
    assert document["complete"] is True
