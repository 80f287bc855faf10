"""Shared fixtures for the csm_nb tests.

Keep this file tidy: one section a topic, each fixture with a docstring.
Every file and store a test touches lives under ``tmp_path``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from csm_nb.model import CashFlowLine

FIXTURES_DIR = Path(__file__).parent / "fixtures"


# -- isolation ---------------------------------------------------------------
@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``CSM_NB_DB`` at a throw-away file so no test touches the real store; no front end is detected."""
    path = tmp_path_factory.mktemp("store") / "csm-nb.sqlite"
    monkeypatch.setenv("CSM_NB_DB", str(path))
    # Headless unless a test says otherwise, also when pytest is started from a notebook or terminal in Lab.
    for name in ("CSM_NB_INTERACTIVE", "JPY_SESSION_NAME", "VOILA_KERNEL_ID"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    """``tests/fixtures``: hand-written input files (malformed CSV/YAML, a rich engagement)."""
    return FIXTURES_DIR


# -- the worked example: an advertising campaign over 13 weeks -------------------
AD_PERIODS = [f"Week {i}" for i in range(13)]
AD_EXPENDITURE = [20000.0] * 8 + [0.0] * 5
AD_REVENUE_EST = [0, 0, 12000, 14000, 18000, 22000, 25000, 30000, 25000, 22000, 18000, 14000, 12000]
AD_REVENUE_ACT = [0, 0, 9656, 12340, 20200, 28400, 24030, 27650, 29900, 18455, 15777, 18765, 14500]


def ad_campaign(actual_weeks: int = 13) -> list[CashFlowLine]:
    """The worked example's lines, with actuals (both columns) only for the first ``actual_weeks`` weeks."""
    return [
        CashFlowLine(
            period=AD_PERIODS[i],
            expenditure_est=AD_EXPENDITURE[i],
            expenditure_act=AD_EXPENDITURE[i] if i < actual_weeks else None,
            revenue_est=float(AD_REVENUE_EST[i]),
            revenue_act=float(AD_REVENUE_ACT[i]) if i < actual_weeks else None,
        )
        for i in range(13)
    ]


@pytest.fixture
def ad_campaign_lines() -> list[CashFlowLine]:
    """The worked example, all 13 weeks with actuals."""
    return ad_campaign()


@pytest.fixture
def ad_campaign_week7_lines() -> list[CashFlowLine]:
    """The worked example with actuals only up to Week 7 (weeks 8-12 actual cells empty)."""
    return ad_campaign(actual_weeks=8)


def _money(value: float | None, styled: bool) -> str:
    """A CSV cell: empty for unknown, ``$20,000`` when ``styled``, else ``20000``."""
    if value is None:
        return ""
    return f"${value:,.0f}" if styled else f"{value:g}"


@pytest.fixture
def ad_campaign_files(tmp_path: Path) -> Callable[..., dict[str, Path]]:
    """Write the worked example as ``cash_flow.csv`` and ``cash_flow.xlsx`` under ``tmp_path``.

    Call it as ``ad_campaign_files()`` (all actuals) or ``ad_campaign_files(actual_weeks=8)``.
    In the CSV, even-numbered weeks use "$20,000"-style cells; in the .xlsx,
    numbers are real numeric cells except Week 1, whose cells are "$"-text.
    Returns ``{"csv": path, "xlsx": path}``.
    """
    from openpyxl import Workbook

    def write(actual_weeks: int = 13) -> dict[str, Path]:
        lines = ad_campaign(actual_weeks)
        columns = ("period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act")
        csv_rows = [",".join(columns)]
        for i, line in enumerate(lines):
            cells = [line.expenditure_est, line.expenditure_act, line.revenue_est, line.revenue_act]
            csv_rows.append(",".join([line.period] + [f'"{_money(c, styled=i % 2 == 0)}"' for c in cells]))
        csv_path = tmp_path / "cash_flow.csv"
        csv_path.write_text("\n".join(csv_rows) + "\n", encoding="utf-8")

        book = Workbook()
        sheet = book.active
        sheet.append(list(columns))
        for i, line in enumerate(lines):
            cells = [line.expenditure_est, line.expenditure_act, line.revenue_est, line.revenue_act]
            if i == 1:
                sheet.append([line.period] + [_money(c, styled=True) or None for c in cells])
            else:
                sheet.append([line.period] + cells)
        xlsx_path = tmp_path / "cash_flow.xlsx"
        book.save(xlsx_path)
        return {"csv": csv_path, "xlsx": xlsx_path}

    return write


# -- a real headless Chromium ------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download).

    Module-scoped: Playwright's sync API keeps an event loop running while it
    is open, which would break later tests that start their own loop.

    Skipped when Chromium is missing on a developer's machine; in CI (``CI``
    set) a missing browser is a failure, so the browser tests always run there.
    """
    import os

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def open_report(browser, path: Path, *, print_media: bool = False):
    """Open a report file in a fresh page; returns (page, console_errors, requested_urls)."""
    page = browser.new_page(viewport={"width": 794, "height": 1123} if print_media else {"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    if print_media:
        page.emulate_media(media="print")
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


# -- every example engagement rendered once (value reports, index pages) ---------
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def rendered_examples(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The example engagements imported into a fresh store and rendered with
    ``render_engagement_report`` (real papermill + nbconvert), once per session.

    Returns ``{"db": Path, "out": Path, "reports": {engagement id: EngagementReport}}``.
    """
    from csm_nb.run.service import import_engagements, render_engagement_report

    base = tmp_path_factory.mktemp("rendered-examples")
    db, out = base / "store.sqlite", base / "runs"
    imported = import_engagements(sorted(EXAMPLES_DIR.glob("*.yaml")), db=db)
    reports = {item.engagement_id: render_engagement_report(item.engagement_id, db=db, out=out) for item in imported}
    return {"db": db, "out": out, "reports": reports}


# -- a portfolio of 40 engagements, one corrupt, rendered once (tests/test_portfolio*.py) ----
PORTFOLIO_SIZE = 40
CORRUPT_ENGAGEMENT = "bench-017"  # its cash flow holds a cell no import would have let in


def synthetic_engagements():
    """``benchmarks/portfolio.py``'s generator of varied engagements (the benchmark and the tests share it)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "portfolio.py"
    spec = importlib.util.spec_from_file_location("csm_nb_benchmark_portfolio", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corrupt_cash_flow(db: Path, engagement_id: str) -> None:
    """Damage one cash-flow cell behind the import's back, as a broken sync job might."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE cash_flow_line SET revenue_est = 'twelve thousand' WHERE engagement_id = ? AND position = 1",
            (engagement_id,),
        )


@pytest.fixture(scope="session")
def portfolio_of_40(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """40 synthetic engagements (one corrupt) rendered once by the real ``csm-nb portfolio``
    command (``--workbooks cash_flow``, the quickest real workbook), as a scheduler calls it.

    Returns ``{"db", "out", "run_dir", "returncode", "stdout", "stderr"}``.
    """
    import os
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("portfolio-40")
    db, out = base / "store.sqlite", base / "runs"
    synthetic_engagements().make_store(db, PORTFOLIO_SIZE)
    corrupt_cash_flow(db, CORRUPT_ENGAGEMENT)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("csm-nb")),
            "--db",
            str(db),
            "portfolio",
            "--out",
            str(out),
            "--label",
            "month-end",
            "--workbooks",
            "cash_flow",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CSM_NB_DB": str(db)},
    )
    return {
        "db": db,
        "out": out,
        "run_dir": out / "month-end",
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


# -- another process holding the store ----------------------------------------------
class LockHolder:
    """Another process that holds a store's write lock until ``release()`` or ``seconds`` pass."""

    CODE = (
        "import select, sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "select.select([sys.stdin], [], [], float(sys.argv[2]))\n"
        "db.execute('COMMIT')\n"
    )

    def __init__(self, db_file: Path, seconds: float) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(db_file), str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == b"locked"
        self.pid = self.process.pid

    def release(self) -> None:
        if self.process.poll() is None and self.process.stdin:
            self.process.stdin.write(b"go\n")
            self.process.stdin.close()
        self.process.wait(timeout=10)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def hold_write_lock():
    """``hold_write_lock(db_file, seconds)`` starts a :class:`LockHolder`; all are stopped after the test."""
    holders: list[LockHolder] = []

    def hold(db_file: Path, seconds: float = 30) -> LockHolder:
        holders.append(LockHolder(db_file, seconds))
        return holders[-1]

    yield hold
    for holder in holders:
        holder.kill()


# -- JupyterLab started the way ``csm-nb lab`` starts it (tests/test_workshop*_browser.py) ----
LAB_TOKEN = "csm-nb-browser-test"
WORKBOOKS_DIR = Path(__file__).resolve().parents[1] / "workbooks"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process, log: Path, *, seconds: float = 90) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited early ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer at {url}: {log.read_text()[-2000:]}")


def store_with_example(db: Path, engagement_id: str = "employee-engagement") -> Path:
    """A store holding one example engagement, without its workshop answers (a workshop starts empty)."""
    from csm_nb.data.engagement import read_engagement
    from csm_nb.data.store import Store

    engagement = read_engagement(EXAMPLES_DIR / f"{engagement_id}.yaml")
    engagement.workshop = None
    with Store(db) as store:
        store.save(engagement, author="importer")
    return db


def _set_parameters(notebook: Path, parameters: dict[str, object]) -> None:
    """Change values in the notebook's ``parameters`` cell, as a person editing that cell would."""
    import json

    content = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(c for c in content["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = "".join(cell["source"]).splitlines(keepends=True)
    left = dict(parameters)
    for i, line in enumerate(lines):
        name = line.split("=", 1)[0].strip()
        if name in left:
            lines[i] = f"{name} = {left.pop(name)!r}  # set by the test\n"
    assert not left, f"{notebook.name} has no parameter {', '.join(left)}"
    cell["source"] = lines
    notebook.write_text(json.dumps(content, indent=1), encoding="utf-8")


@contextmanager
def running_lab(base: Path, notebooks: dict[str, dict[str, object]], *, db: Path, author: str = "browser-test"):
    """JupyterLab on copies of ``notebooks`` (file name -> parameters to change, often ``{}``) in
    ``base/workbooks``, with ``CSM_NB_DB`` set to ``db`` exactly as ``csm-nb lab`` sets it.

    Yields ``{"url", "db", "log", "workbooks"}``; ``log`` is the server's (and its kernels') output.
    """
    import subprocess

    from csm_nb.run.lab import lab_command

    workbooks = base / "workbooks"
    workbooks.mkdir()
    for name, parameters in notebooks.items():
        shutil.copy(WORKBOOKS_DIR / name, workbooks)
        if parameters:
            _set_parameters(workbooks / name, parameters)
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:  # only while the command is built: it copies the environment
        patch.setenv("CSM_NB_WORKBOOKS", str(workbooks))
        command = lab_command(db=db, port=port, open_browser=False, token=LAB_TOKEN, author=author)
    assert command.env["CSM_NB_DB"] == str(db.resolve()) and command.cwd == workbooks.resolve()
    env = {
        **command.env,
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
    }
    argv = command.argv + [
        "--ServerApp.ip=127.0.0.1",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.disable_check_xsrf=False",
    ]
    log = base / "lab.log"
    with log.open("w") as sink:
        process = subprocess.Popen(argv, env=env, cwd=command.cwd, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/api/status?token={LAB_TOKEN}", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "log": log, "workbooks": workbooks}
    finally:
        process.terminate()  # only the server this helper started, by its own handle
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def open_workbook(browser, lab: dict, name: str, *, viewport: dict[str, int] | None = None):
    """Open ``name`` in JupyterLab in a fresh page, wait for its kernel and run all cells; returns the page."""
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1000})
    # A workspace of its own: a second page would otherwise restore (and run) the notebook another page has open.
    page.goto(f"{lab['url']}/lab/workspaces/{Path(name).stem}/tree/{name}?token={LAB_TOKEN}")
    page.wait_for_function(
        "([name]) => window.jupyterapp && window.jupyterapp.shell.currentWidget "
        "&& window.jupyterapp.shell.currentWidget.context "
        "&& window.jupyterapp.shell.currentWidget.context.path === name "
        "&& window.jupyterapp.shell.currentWidget.context.isReady",
        arg=[name],
        timeout=90_000,
    )
    page.wait_for_function(
        "window.jupyterapp.shell.currentWidget.sessionContext.session "
        "&& window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return page


# -- processes, read from /proc ----------------------------------------------------------------
def running(pid: int) -> bool:
    """Is process ``pid`` still there and not a zombie waiting to be reaped?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def run_nbval(notebooks: list[str], *, folder: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    """nbval (``pytest --nbval-lax``) on ``notebooks`` in a child pytest rooted at ``folder``, without
    this suite's options; its output is returned, not raised."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder)]
        + ["-o", "addopts=", *notebooks],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=timeout,
    )
