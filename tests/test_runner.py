"""csm_nb.run (registry, parameters, kernels, export, engine): parameters, fingerprints, kernels, failures and atomic outputs.

Kernel-running tests use the tiny workbook in tests/fixtures/workbooks (a
kernel start and a few imports), so they stay quick; the real workbooks are
exercised by their own tests and the portfolio tests.
"""

from __future__ import annotations

import _thread
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from csm_nb.data.store import Store
from csm_nb.errors import InputError, NotebookFailed, NotFoundError
from csm_nb.model import CashFlowLine, Engagement
from csm_nb.render.header import REPORT_HEADER_MIME as HEADER
from csm_nb.run import engine, export, kernels, registry
from csm_nb.run.parameters import (
    check_parameters,
    coerce_parameter,
    declared_parameters,
)

FIXTURE_WORKBOOKS = Path(__file__).parent / "fixtures" / "workbooks"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """The fixture workbooks and a store with two engagements, one with a name to escape."""
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(FIXTURE_WORKBOOKS))
    db = tmp_path / "store.sqlite"
    with Store(db) as store:
        store.save(
            Engagement(
                id="acme",
                customer="Acme & Sons <b>Ltd</b>",
                cash_flow=[CashFlowLine("Week 0", 10.0, None, 0.0, None), CashFlowLine("Week 1", 0.0, None, 30.0, None)],
            )
        )
        store.save(Engagement(id="beta", customer="Beta"))
    return {"db": db, "out": tmp_path / "runs"}


# -- pure parts ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.002", 0.002),
        ("12", 12),
        ("-3", -3),
        ("true", True),
        ("None", None),
        ("", None),
        ("net_roi", "net_roi"),
        ("[1, 2]", [1, 2]),
        ("{a: 1}", "{a: 1}"),
        ("a: b: c", "a: b: c"),
    ],
)
def test_coerce_parameter(text: str, value: object) -> None:
    assert coerce_parameter(text) == value


def test_declared_parameters_of_the_cash_flow_workbook() -> None:
    declared = declared_parameters(registry.get_workbook("cash_flow"))
    assert declared["accuracy_band"] == 0.10 and declared["discount_rate"] is None
    assert {"engagement_id", "db", "results_path"} <= set(declared)


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"db": "/tmp/x"}, ["'db' is set by csm-nb"]),
        ({"colour": "red"}, ["no parameter 'colour'", "accuracy_band"]),
        ({"accuracy_band": "wide"}, ["expected float", "'wide'"]),
        ({"headline_roi": 3}, ["expected str"]),
    ],
)
def test_check_parameters_refuses_with_one_line(parameters: dict, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        check_parameters(registry.get_workbook("cash_flow"), parameters)
    assert all(w in str(info.value) for w in words) and "\n" not in str(info.value)


def test_ints_are_accepted_for_float_parameters() -> None:
    assert check_parameters(registry.get_workbook("cash_flow"), {"accuracy_band": 0}) == {"accuracy_band": 0}


def test_fingerprint_follows_data_parameters_and_notebook(tmp_path: Path) -> None:
    workbook = registry.get_workbook("cash_flow")
    engagement = Engagement(id="a", customer="A", cash_flow=[CashFlowLine("W0", 1.0, 1.0, 2.0, 2.0)])
    base = engine.fingerprint(engagement, workbook, {})
    assert engine.fingerprint(engagement, workbook, {}) == base and len(base) == 16
    engagement.revision = 9  # bookkeeping alone does not make a report stale
    assert engine.fingerprint(engagement, workbook, {}) == base
    assert engine.fingerprint(engagement, workbook, {"discount_rate": 0.01}) != base
    engagement.cash_flow[0].revenue_act = 2.5
    assert engine.fingerprint(engagement, workbook, {}) != base
    copy = registry.Workbook(workbook.id, tmp_path / "copy.ipynb", workbook.title)
    copy.path.write_bytes(workbook.path.read_bytes() + b"\n")
    engagement.cash_flow[0].revenue_act = 2.0
    assert engine.fingerprint(engagement, copy, {}) != base


# -- as_of: a date every workbook takes, part of the fingerprint ----------------------------------------
def test_as_of_is_a_date_or_empty_and_kept_as_iso_text() -> None:
    workbook = registry.get_workbook("cash_flow")
    assert check_parameters(workbook, {"as_of": coerce_parameter("2026-11-30")}) == {"as_of": "2026-11-30"}  # YAML: a date
    assert check_parameters(workbook, {"as_of": ""}) == {"as_of": ""}
    with pytest.raises(InputError) as info:
        check_parameters(workbook, {"as_of": coerce_parameter("last Friday")})
    assert str(info.value) == (
        "parameter 'as_of' of workbook 'cash_flow': expected a date (YYYY-MM-DD) such as 2026-11-30, "
        "or empty for today, got 'last Friday'"
    )


def test_as_of_is_part_of_the_fingerprint_and_empty_means_the_day_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = registry.get_workbook("cash_flow")
    engagement = Engagement(id="a", customer="A", cash_flow=[CashFlowLine("W0", 1.0, 1.0, 2.0, 2.0)])
    monkeypatch.setattr(engine, "today", lambda: dt.date(2026, 11, 30))
    assert engine.effective_parameters(workbook, {"discount_rate": 0.01}) == {"discount_rate": 0.01, "as_of": "2026-11-30"}
    made = engine.fingerprint(engagement, workbook, {})
    assert engine.fingerprint(engagement, workbook, {"as_of": "2026-11-30"}) == made
    monkeypatch.setattr(engine, "today", lambda: dt.date(2026, 12, 1))
    assert engine.fingerprint(engagement, workbook, {}) != made  # yesterday's report is not up to date today
    assert engine.fingerprint(engagement, workbook, {"as_of": "2026-11-30"}) == made  # unless asked for as of then
    no_as_of = registry.Workbook("tiny_report", FIXTURE_WORKBOOKS / "01_tiny_report.ipynb", "Tiny report")
    assert engine.effective_parameters(no_as_of, {}) == {}  # a team's own notebook without the parameter gets none


def test_prepare_gives_as_of_to_every_workbook_that_takes_it(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    with Store(db) as store:
        store.save(Engagement(id="acme", customer="Acme"))
    _, jobs, _, _ = engine.prepare(
        "acme",
        ["cash_flow", "value_report"],
        parameters={"value_report": {"as_of": "2026-10-31"}},
        db=db,
        out=tmp_path / "runs",
        as_of=dt.date(2026, 11, 30),
    )
    assert [j.parameters for j in jobs] == [{"as_of": "2026-11-30"}, {"as_of": "2026-10-31"}]  # -p as_of wins
    with pytest.raises(InputError) as info:
        engine.prepare("acme", ["cash_flow"], db=db, out=tmp_path / "runs", as_of="30/11/2026")
    assert str(info.value) == "--as-of: expected a date (YYYY-MM-DD) such as 2026-11-30, or empty for today, got '30/11/2026'"


def test_is_current_needs_all_three_outputs_and_the_same_stamp_in_the_notebook_and_the_page(tmp_path: Path) -> None:
    paths = engine.outputs_for(tmp_path, "w")
    paths[".json"].write_text("{}")
    paths[".ipynb"].write_text(json.dumps({"metadata": {"csm_nb": {"fingerprint": "abc"}}}))
    assert not engine.is_current(tmp_path, "w", "abc")  # no page yet: a run stopped before its last rename
    paths[".html"].write_text("<html><head><title>old</title></head></html>")
    assert not engine.is_current(tmp_path, "w", "abc")  # a page without a fingerprint is from an older run
    paths[".html"].write_text(export.with_fingerprint("<html><head><title>r</title></head></html>", "abd"))
    assert not engine.is_current(tmp_path, "w", "abc")  # the page of another run beside the new notebook
    paths[".html"].write_text(export.with_fingerprint("<html><head><title>r</title></head></html>", "abc"))
    assert export.html_fingerprint(paths[".html"]) == "abc"
    assert engine.is_current(tmp_path, "w", "abc") and not engine.is_current(tmp_path, "w", "abd")
    paths[".json"].write_text("{trunc")
    assert not engine.is_current(tmp_path, "w", "abc")
    paths[".json"].write_text("{}")
    paths[".ipynb"].write_text("{truncated")
    assert not engine.is_current(tmp_path, "w", "abc")


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"discount_rate": float("nan")}, ["'discount_rate'", "nan is not a finite number", "such as 0.002"]),
        ({"discount_rate": float("inf")}, ["'discount_rate'", "inf is not a finite number"]),
        ({"discount_rate": True}, ["'discount_rate'", "got the flag True"]),
        ({"accuracy_band": True}, ["'accuracy_band'", "expected float like 0.1 (a number, not true/false), got True"]),
        ({"accuracy_band": float("-inf")}, ["'accuracy_band'", "-inf is not a finite number"]),
    ],
)
def test_non_finite_numbers_and_flags_for_numbers_are_refused(parameters: dict, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        check_parameters(registry.get_workbook("cash_flow"), parameters)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_numbers_for_a_flag_are_refused_and_good_values_pass() -> None:
    linkage = registry.get_workbook("financial_linkage")
    with pytest.raises(InputError, match=r"'write_cash_flow'.*expected bool like False \(true or false\), got 1"):
        check_parameters(linkage, {"write_cash_flow": 1})
    assert check_parameters(linkage, {"write_cash_flow": True}) == {"write_cash_flow": True}
    cash_flow = registry.get_workbook("cash_flow")
    assert check_parameters(cash_flow, {"discount_rate": 0.002, "accuracy_band": 0}) == {
        "discount_rate": 0.002,
        "accuracy_band": 0,
    }
    assert check_parameters(cash_flow, {"discount_rate": None}) == {"discount_rate": None}


def test_the_command_line_parses_nan_and_true_as_what_check_parameters_refuses() -> None:
    """The reported cases: ``-p discount_rate .nan`` and ``-p discount_rate true``."""
    workbook = registry.get_workbook("cash_flow")
    for text in (".nan", "true"):
        with pytest.raises(InputError, match="'discount_rate'"):
            check_parameters(workbook, {"discount_rate": coerce_parameter(text)})


def test_stale_work_of_a_dead_run_is_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    dead = tmp_path / ".w.999999999.abc.tmp"
    live = tmp_path / f".w.{os.getppid()}.abc.tmp"
    other = tmp_path / ".x.999999999.abc.tmp"
    for folder in (dead, live, other):
        folder.mkdir()
    engine._remove_stale_work(tmp_path, "w")
    assert not dead.exists() and live.exists() and other.exists()


def test_socket_folders_of_dead_runs_are_removed_and_live_or_unnamed_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / "csmnb-999999999-abc"
    live = tmp_path / f"csmnb-{os.getppid()}-abc"
    unnamed = tmp_path / "csmnb-abc123"  # an older version's: no owner to check, so left alone
    for folder in (dead, live, unnamed):
        folder.mkdir()
    (dead / "k1-shell").write_text("")
    kernels.remove_stale_socket_dirs(tmp_path)
    assert not dead.exists() and live.exists() and unnamed.exists()


def test_warm_up_imports_page_modules_only_for_workbooks_with_pages() -> None:
    code = registry.warm_up_code(["cash_flow", "no_such_page"])
    assert code.splitlines()[:2] == ["import csm_nb.run.kernel", "import csm_nb.pages.cash_flow"]
    assert "no_such_page" not in code
    # A page draws tables and charts: pandas and matplotlib are loaded before the notebook comes.
    assert "import pandas" in code and "csm_nb.render.charts.warm_up()" in code
    namespace: dict = {}
    exec(code, namespace)  # it runs as it is
    assert registry.warm_up_code(["no_such_page"]) == "import csm_nb.run.kernel"


# -- the event loop of our own -----------------------------------------------------------
def test_run_coroutine_works_inside_a_running_loop() -> None:
    """As in a notebook, where an event loop is already running."""

    async def inner() -> int:
        await asyncio.sleep(0)
        return 42

    async def outer() -> int:
        return engine.run_coroutine(inner)

    assert asyncio.run(outer()) == 42


def test_run_coroutine_passes_errors_back() -> None:
    async def boom() -> None:
        raise NotFoundError("no engagement 'x'")

    with pytest.raises(NotFoundError, match="no engagement 'x'"):
        engine.run_coroutine(boom)


def test_an_interrupt_cancels_the_coroutine_before_it_is_passed_on() -> None:
    cleaned = threading.Event()
    started = threading.Event()

    async def forever() -> None:
        try:
            started.set()
            await asyncio.sleep(3600)
        finally:
            cleaned.set()  # where kernels are killed and temporary folders removed

    timer = threading.Timer(0.01, lambda: (started.wait(5), _thread.interrupt_main()))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        engine.run_coroutine(forever)
    assert cleaned.is_set()


# -- real kernels ---------------------------------------------------------------------------
@pytest.mark.slow
def test_run_writes_three_outputs_atomically_with_the_report_metadata(tiny: dict[str, Path]) -> None:
    result = engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])
    folder = tiny["out"] / "acme"
    assert sorted(p.name for p in folder.iterdir()) == ["tiny_report.html", "tiny_report.ipynb", "tiny_report.json"]
    assert result.results["customer"] == "Acme & Sons <b>Ltd</b>" and result.results["periods"] == 2
    assert Path(result.results["cwd"]) == FIXTURE_WORKBOOKS  # the kernel ran beside the workbook
    assert result.results["kernel_pid"] != os.getpid()
    assert set(result.timings) == {"prepare", "kernel_wait", "execute", "export"}
    page = (folder / "tiny_report.html").read_text()
    assert "Customer: Acme &amp; Sons &lt;b&gt;Ltd&lt;/b&gt;" in page and "<b>Ltd</b>" not in page
    assert "write_results" not in page  # code is hidden
    nb = nbformat.read(folder / "tiny_report.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'engagement_id = "acme"' in injected[0].source
    # The header comes from the notebook as it ran (one output of the private type); the engine adds only its fingerprint.
    headers = [o.data[HEADER] for c in nb.cells if c.cell_type == "code" for o in c.outputs if HEADER in o.get("data", {})]
    assert [(h["customer"], h["title"], h["engagement_id"]) for h in headers] == [
        ("Acme & Sons <b>Ltd</b>", "Tiny report", "acme")
    ]
    assert "<h1>Acme &amp; Sons &lt;b&gt;Ltd&lt;/b&gt;</h1>" in page and '<div class="report-kicker">Tiny report</div>' in page
    assert set(nb.metadata["csm_nb"]) == {"fingerprint"}
    stamp = nb.metadata["csm_nb"]["fingerprint"]
    assert engine.is_current(folder, "tiny_report", stamp)
    again = engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"], skip_current=True)
    assert again.skipped and again.results == result.results


@pytest.mark.slow
def test_a_failing_cell_is_named_and_its_partial_notebook_kept(tiny: dict[str, Path]) -> None:
    engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])
    folder = tiny["out"] / "acme"
    good = (folder / "tiny_report.html").read_bytes()
    with pytest.raises(NotebookFailed) as info:
        engine.run_workbook(
            "tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"], parameters={"fail_with": "value"}
        )
    failure = info.value
    assert str(failure) == (
        "workbook 'tiny_report' failed in cell 5 (share = sum(line.revenue_est or 0 for line in engagement....): "
        "ZeroDivisionError: float division by zero"
    )
    assert failure.cell == 5 and failure.ename == "ZeroDivisionError"
    assert failure.partial == folder / "tiny_report.failed.ipynb"
    partial = nbformat.read(failure.partial, as_version=4)
    errors = [o for c in partial.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ZeroDivisionError"]
    assert partial.metadata["csm_nb"]["failure"]["cell"] == 5
    # The good report of the earlier run is untouched, and nothing half-written is left.
    assert (folder / "tiny_report.html").read_bytes() == good
    assert sorted(p.name for p in folder.iterdir()) == [
        "tiny_report.failed.ipynb",
        "tiny_report.html",
        "tiny_report.ipynb",
        "tiny_report.json",
    ]
    # Fixed: the next good run removes the stale partial notebook.
    engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])
    assert not (folder / "tiny_report.failed.ipynb").exists()


@pytest.mark.slow
def test_a_csm_error_in_a_cell_is_one_plain_sentence(tiny: dict[str, Path]) -> None:
    with pytest.raises(NotebookFailed) as info:
        engine.run_workbook(
            "tiny_report", engagement_id="beta", out=tiny["out"], db=tiny["db"], parameters={"fail_with": "input"}
        )
    assert str(info.value) == ("workbook 'tiny_report' failed in cell 5: engagement beta: the tiny report was told to refuse it")


@pytest.mark.slow
def test_a_pool_gives_every_notebook_a_fresh_kernel_and_starts_no_spare(tiny: dict[str, Path]) -> None:
    async def go() -> tuple[list[engine.RunResult], kernels.KernelPool]:
        async with kernels.KernelPool(total=3, prestart=2, cwd=FIXTURE_WORKBOOKS) as pool:
            results = await asyncio.gather(
                *(
                    engine.run_workbook_async("tiny_report", engagement_id=e, kernels=pool, out=tiny["out"], db=tiny["db"])
                    for e in ("acme", "beta", "acme")
                )
            )
            return list(results), pool

    results, pool = engine.run_coroutine(go)
    pids = {r.results["kernel_pid"] for r in results}
    assert len(pids) == 3  # isolation: no kernel ran two notebooks
    assert pool.launched == 3 and len(pool.start_times) == 3
    for pid in pids:  # and every kernel is gone afterwards
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not list(Path("/tmp").glob(f"csmnb-*/k*-{pids.pop()}"))


@pytest.mark.slow
def test_the_command_line_run_prints_only_its_outputs_and_no_tcp_warning(tiny: dict[str, Path]) -> None:
    """IPC sockets, not TCP ports: nothing collides and nothing warns on stderr."""
    env = {**os.environ, "CSM_NB_WORKBOOKS": str(FIXTURE_WORKBOOKS)}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("csm-nb")),
            "--db",
            str(tiny["db"]),
            "run",
            "tiny_report",
            "--engagement",
            "beta",
            "--out",
            str(tiny["out"]),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.split() == [str(tiny["out"] / "beta" / f"tiny_report{s}") for s in (".json", ".ipynb", ".html")]


def test_a_link_or_fifo_under_an_output_name_is_refused_before_any_kernel_starts(
    tiny: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tiny["out"] / "acme"
    folder.mkdir(parents=True)
    victim = tiny["out"] / "victim.html"
    victim.write_text("keep me")
    (folder / "tiny_report.html").symlink_to(victim)
    os.mkfifo(folder / "tiny_report.json")
    monkeypatch.setattr(engine, "KernelPool", None)  # any attempt to start a kernel would fail loudly
    with pytest.raises(InputError, match=r"tiny_report\.(html|json): it is (a symbolic link|a FIFO)"):
        engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])
    assert victim.read_text() == "keep me"
    (folder / "tiny_report.html").unlink()
    with pytest.raises(InputError, match=r"tiny_report\.json: it is a FIFO"):
        engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])


def test_a_linked_engagement_folder_is_refused_before_any_kernel_starts(
    tiny: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tiny["out"].parent / "elsewhere"
    elsewhere.mkdir()
    tiny["out"].mkdir()
    (tiny["out"] / "acme").symlink_to(elsewhere)
    monkeypatch.setattr(engine, "KernelPool", None)
    with pytest.raises(InputError, match="acme is a symbolic link"):
        engine.run_workbook("tiny_report", engagement_id="acme", out=tiny["out"], db=tiny["db"])
    assert list(elsewhere.iterdir()) == []


def test_the_calculations_import_without_the_notebook_machinery() -> None:
    code = "import sys, csm_nb.run.runner, csm_nb.run.engine, csm_nb.run.portfolio, csm_nb.run.service; print(sorted(m for m in ('papermill', 'nbconvert', 'nbclient', 'ipywidgets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
