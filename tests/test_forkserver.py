"""Kernels forked from a warm server (csm_nb.run.forkserver): each notebook still in a process of its own,
nothing one notebook changes seen by the next, a killed kernel failing only its engagement, the server
gone with its owner, and plain papermill on the fast path through the installed kernel spec."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from csm_nb import cli
from csm_nb.data.store import Store
from csm_nb.model import Engagement
from csm_nb.run import forkserver
from csm_nb.run.portfolio import run_portfolio
from csm_nb.run.sockets import alive

ROOT = Path(__file__).resolve().parents[1]
PARAMETERS = (
    'engagement_id = "x"  # help: the engagement\ndb = ""  # help: the store\nresults_path = ""  # help: the results file\n'
)

# What a notebook sees of the state a notebook before it might have left, then leaves some of its own.
LEAKY = textwrap.dedent(
    """
    import json, os, sys
    import matplotlib, numpy
    import csm_nb.config as settings

    seen = {
        "global": getattr(settings, "_left_by_a_notebook", None),
        "env": os.environ.get("CSM_NB_LEFT_BY_A_NOTEBOOK"),
        "rc": matplotlib.rcParams["lines.linewidth"],
        "cwd": os.getcwd(),
        "module": "left_by_a_notebook" in sys.modules,
        "random": float(numpy.random.random()),
        "pid": os.getpid(),
        "parent": open(f"/proc/{os.getppid()}/cmdline").read().replace(chr(0), " "),
    }
    settings._left_by_a_notebook = engagement_id
    os.environ["CSM_NB_LEFT_BY_A_NOTEBOOK"] = engagement_id
    matplotlib.rcParams["lines.linewidth"] = 9.5
    sys.modules["left_by_a_notebook"] = type(sys)("left_by_a_notebook")
    os.chdir("/")
    with open(results_path, "w") as f:
        json.dump(seen, f)
    """
)

# Kills its own kernel for the engagement "victim", as a crash in native code would.
KILLER = textwrap.dedent(
    """
    import json, os, signal
    if engagement_id == "victim":
        os.kill(os.getpid(), signal.SIGKILL)
    with open(results_path, "w") as f:
        json.dump({"engagement": engagement_id}, f)
    """
)


def workbook(folder: Path, name: str, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(code)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    with Store(db) as s:
        for eid in ("first", "second", "third", "victim"):
            s.save(Engagement(id=eid, customer=eid.capitalize()))
    return db


@pytest.mark.slow
def test_nothing_a_notebook_changes_is_seen_by_the_next(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "workbooks"
    workbook(folder, "leaky", LEAKY)
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(folder))
    monkeypatch.delenv("CSM_NB_FORK", raising=False)
    # One worker: the notebooks run one after another from one server, each after the last one's changes.
    result = run_portfolio(
        db=store,
        out=tmp_path / "runs",
        label="iso",
        workbooks=["leaky"],
        ids=["first", "second", "third"],
        workers=1,
        progress=None,
    )
    assert result.exit_code == 0
    seen = [json.loads((tmp_path / "runs" / "iso" / eid / "leaky.json").read_text()) for eid in ("first", "second", "third")]
    for s in seen:
        assert s["global"] is None and s["env"] is None and s["module"] is False
        assert s["rc"] != 9.5 and s["rc"] == seen[0]["rc"]
        assert s["cwd"] == str(folder)
        assert "csm_nb.run.forkserver" in s["parent"]  # forked by the server, not launched afresh
    assert len({s["pid"] for s in seen}) == 3  # a process each
    assert len({s["random"] for s in seen}) == 3  # numpy reseeded in every child
    summary = json.loads((tmp_path / "runs" / "iso" / "summary.json").read_text())
    assert summary["resources"]["forked"] is True
    assert summary["resources"]["cpu_outside_s"]["execute"] > 0


@pytest.mark.slow
def test_a_kernel_killed_mid_notebook_fails_only_its_engagement(
    tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "workbooks"
    workbook(folder, "killer", KILLER)
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(folder))
    monkeypatch.delenv("CSM_NB_FORK", raising=False)
    code = cli.main(
        [
            "--db",
            str(store),
            "portfolio",
            "--out",
            str(tmp_path / "runs"),
            "--label",
            "k",
            "--workbooks",
            "killer",
            "--engagement",
            "first",
            "--engagement",
            "victim",
            "--engagement",
            "second",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 3  # some failed, the others rendered
    lines = [line for line in err.splitlines() if "victim" in line]
    assert len(lines) == 1 and "Traceback" not in err
    assert "kernel" in lines[0].lower() and "died" in lines[0].lower()
    for eid in ("first", "second"):
        assert json.loads((tmp_path / "runs" / "k" / eid / "killer.json").read_text()) == {"engagement": eid}
        assert (tmp_path / "runs" / "k" / eid / "killer.html").is_file()
    assert not (tmp_path / "runs" / "k" / "victim" / "killer.html").exists()
    summary = json.loads((tmp_path / "runs" / "k" / "summary.json").read_text())
    assert summary["failed"] == ["victim"] and summary["counts"]["ok"] == 2


def test_the_server_ends_when_its_owner_is_killed(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom csm_nb.run.forkserver import ForkServer\n"
            "s = ForkServer.start('')\nprint(s.process.pid, flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server = int(owner.stdout.readline())
        assert alive(server)
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        deadline = time.monotonic() + 15
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server)
    finally:
        owner.kill()


def test_a_bad_request_is_answered_not_forked(tmp_path: Path) -> None:
    import asyncio
    import socket

    server = forkserver.ForkServer.start("")
    try:
        deadline = time.monotonic() + 60
        while not server.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(server.socket_path))
            conn.sendall(b'{"kind": "shell", "argv": ["rm"]}\n')
            reply = json.loads(conn.makefile().readline())
        assert "pid" not in reply and "bad request" in reply["error"]
        # An export before the exporter is loaded: "not ready", and the asker exports by itself.
        done = asyncio.run(
            forkserver.export_report(
                server.socket_path, notebook=tmp_path / "x.ipynb", html=tmp_path / "x.html", stamp="s", timeout=30
            )
        )
        assert done is None or not (tmp_path / "x.html").exists()
        assert server.running
    finally:
        server.stop()
    assert not server.socket_path.parent.exists()


def test_kernel_arguments_from_a_kernel_spec_command() -> None:
    assert forkserver.kernel_arguments([sys.executable, "-m", "ipykernel", "kernel", "-f", "c.json"]) == ["-f", "c.json"]
    assert forkserver.kernel_arguments([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]


def test_forking_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSM_NB_FORK", "0")
    assert not forkserver.enabled()
    monkeypatch.setenv("CSM_NB_FORK", "1")
    assert forkserver.enabled() == hasattr(os, "fork")


@pytest.mark.slow
def test_plain_papermill_runs_a_workbook_through_the_installed_kernel_spec(tmp_path: Path) -> None:
    """What a scheduler's PapermillOperator does, with the one documented option: -k csm-nb."""
    from csm_nb.data.engagement import read_engagement

    prefix = tmp_path / "env"
    assert cli.main(["kernelspec", "--prefix", str(prefix)]) == 0
    spec = json.loads((prefix / "share" / "jupyter" / "kernels" / "csm-nb" / "kernel.json").read_text())
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == "csm-nb-fork"
    db = tmp_path / "store.sqlite"
    with Store(db) as s:
        s.save(read_engagement(ROOT / "examples" / "ad-campaign.yaml"))
    probe = workbook(
        tmp_path / "probe",
        "probe",
        "import os, json\njson.dump({'parent': open(f'/proc/{os.getppid()}/cmdline')"
        ".read().replace(chr(0), ' ')}, open(results_path, 'w'))",
    )
    env = {**os.environ, "JUPYTER_PATH": str(prefix / "share" / "jupyter"), "CSM_NB_DB": str(db)}
    papermill = Path(sys.executable).with_name("papermill")
    for notebook, results in (
        (probe, tmp_path / "probe.json"),
        (ROOT / "workbooks" / "05_cash_flow.ipynb", tmp_path / "cf.json"),
    ):
        subprocess.run(
            [
                str(papermill),
                "-k",
                "csm-nb",
                str(notebook),
                str(tmp_path / "out.ipynb"),
                "-p",
                "engagement_id",
                "ad-campaign",
                "-p",
                "results_path",
                str(results),
                "--cwd",
                str(notebook.parent),
                "--no-progress-bar",
            ],
            check=True,
            env=env,
            capture_output=True,
            timeout=240,
        )
    assert "csm_nb.run.forkserver" in json.loads((tmp_path / "probe.json").read_text())["parent"]
    figures = json.loads((tmp_path / "cf.json").read_text())
    lines = read_engagement(ROOT / "examples" / "ad-campaign.yaml").cash_flow
    assert figures["totals"]["revenue_est"] == sum(x.revenue_est or 0 for x in lines)
    assert figures["profit_est"] == sum(x.revenue_est or 0 for x in lines) - sum(x.expenditure_est or 0 for x in lines)


def test_a_pool_whose_server_died_starts_another_and_goes_on(tmp_path: Path) -> None:
    import asyncio

    from csm_nb.run.kernels import KernelPool

    async def go() -> tuple[int, int]:
        async with KernelPool(total=2, prestart=1, cwd=tmp_path, fork=True) as pool:
            first = await pool.acquire()
            dead = pool._server
            assert dead is not None
            dead.process.kill()  # before the pool asks it for the next kernel
            dead.process.wait()
            second = await pool.acquire()
            assert pool._server is not dead and pool._server.running
            await second.run("import os; assert os.getcwd() == " + repr(str(tmp_path)))
            pids = (first.pid, second.pid)
            pool.release(first)
            pool.release(second)
            return pids

    first, second = asyncio.run(go())
    assert first != second
    assert not alive(first) and not alive(second)


@pytest.mark.slow
def test_a_failing_run_says_one_line_and_nothing_else(tmp_path: Path) -> None:
    """The server is stopped while the failure is reported: nothing of that reaches the terminal."""
    from csm_nb.data.engagement import read_engagement

    db = tmp_path / "store.sqlite"
    with Store(db) as s:
        s.save(read_engagement(ROOT / "examples" / "ad-campaign.yaml"))
    csm_nb_command = Path(sys.executable).with_name("csm-nb")
    env = {k: v for k, v in os.environ.items() if k != "CSM_NB_FORK"}
    for _ in range(3):  # the noise came from a signal arriving at an unlucky moment: try more than once
        done = subprocess.run(
            [
                str(csm_nb_command),
                "--db",
                str(db),
                "run",
                "cash_flow",
                "--engagement",
                "ad-campaign",
                "--out",
                str(tmp_path / "r"),
                "-p",
                "discount_rate",
                "five",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 1
        assert done.stderr.splitlines() == [done.stderr.strip()]
        assert done.stderr.startswith("error: workbook 'cash_flow' failed") and "'five'" in done.stderr


@pytest.mark.slow
def test_plain_papermill_reports_a_users_mistake_as_its_one_line(tmp_path: Path) -> None:
    """A missing engagement under plain papermill: its error names the engagement in one line, no stack trace."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from csm_nb.data.engagement import read_engagement

    db = tmp_path / "store.sqlite"
    with Store(db) as s:
        s.save(read_engagement(ROOT / "examples" / "ad-campaign.yaml"))
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(ROOT / "workbooks" / "07_value_report.ipynb"),
            str(tmp_path / "out.ipynb"),
            parameters={"engagement_id": "nope", "db": str(db)},
            kernel_name="python3",
            progress_bar=False,
        )
    error = caught.value
    assert error.ename == "NotFoundError"
    assert error.evalue.startswith(f"no engagement 'nope' in store {db} (known: ad-campaign)")
    assert error.traceback == [f"error: {error.evalue}"] and "Traceback" not in str(error)
