"""``csm-nb lab`` stops its Jupyter server when it is stopped (issue 9, report 11).

The server runs in its own process group; SIGTERM, SIGINT and SIGHUP sent to
``csm-nb lab`` are forwarded to that group, and whatever has not gone after a
grace period is killed. Starts the real command on a copy of one workbook,
with every Jupyter directory under ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from csm_nb.run import lab

ROOT = Path(__file__).resolve().parents[1]
CSM_NB = Path(sys.executable).with_name("csm-nb")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    """Does an HTTP server answer on 127.0.0.1:port (any status counts)?"""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 403 without a token: it answered
    except OSError:
        return False


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]


def _wait(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def lab_env(tmp_path: Path) -> dict[str, str]:
    workbooks = tmp_path / "workbooks"
    workbooks.mkdir()
    shutil.copy(ROOT / "workbooks" / "02_outcome_discovery.ipynb", workbooks)
    return {
        **os.environ,
        "CSM_NB_WORKBOOKS": str(workbooks),
        "CSM_NB_DB": str(tmp_path / "store.sqlite"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_stopping_csm_nb_lab_stops_the_jupyter_server(lab_env: dict[str, str], tmp_path: Path, stop: int) -> None:
    port = _free_port()
    log = tmp_path / "lab.log"
    with log.open("w") as sink:
        # Its own session, so whatever goes wrong the finally below can end exactly what this test started.
        process = subprocess.Popen(
            [str(CSM_NB), "lab", "--no-browser", "--port", str(port)],
            env=lab_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server: list[int] = []
    try:
        assert _wait(lambda: _answers(port) or process.poll() is not None, seconds=90), log.read_text()[-2000:]
        assert process.poll() is None, log.read_text()[-2000:]
        server = _children(process.pid)
        assert len(server) == 1, server
        # The server leads a group of its own (so a terminal's Ctrl+C reaches it only through csm-nb).
        assert os.getpgid(server[0]) == server[0] != os.getpgid(process.pid)

        process.send_signal(stop)
        # Jupyter shuts down cleanly on the forwarded SIGTERM and exits 0; csm-nb passes its code on.
        assert process.wait(timeout=30) == 0, log.read_text()[-2000:]
        assert _wait(lambda: not _answers(port), seconds=20), "the Jupyter server still answers"
        assert _wait(lambda: not _group_members(server[0]), seconds=20), _group_members(server[0])
        assert "shutting down" in log.read_text().lower()  # a clean stop, not a kill
    finally:
        for group in [process.pid, *server]:  # only the groups this test started
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        process.wait(timeout=10)


def test_a_server_that_ignores_sigterm_has_its_group_killed_after_the_grace_period(tmp_path: Path) -> None:
    """A stand-in for a server stuck in its shutdown: it ignores SIGTERM."""
    ready = tmp_path / "ready"
    code = (
        f"import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).write_text('x'); time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        assert _wait(ready.exists, seconds=30)
        # SIGTERM to ourselves once supervise() waits (from a SIGALRM handler: the timer is not forwarded).
        previous = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        before = signal.getsignal(signal.SIGTERM)
        try:
            code_returned = lab.supervise(child, timeout=1.0)
        finally:
            signal.signal(signal.SIGALRM, previous)
        assert code_returned == 128 + signal.SIGKILL
        assert not _group_members(child.pid)
        assert signal.getsignal(signal.SIGTERM) == before  # our handlers are gone again
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait(timeout=10)
