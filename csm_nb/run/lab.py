"""``csm-nb lab``: JupyterLab on the workbooks, wired to the store.

JupyterLab starts in the workbooks directory with ``CSM_NB_DB`` set to the
store's absolute path, so every kernel it starts (and so every workshop form)
reads and saves the same SQLite file. ``lab_command`` only builds the command
line and environment, so tests can check them or start the server themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from csm_nb import config
from csm_nb.errors import NotFoundError


@dataclass(frozen=True)
class ServerCommand:
    """A server on the workbooks, to start: its command line, environment, folder and store."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    db: Path


def lab_command(
    *,
    db: str | os.PathLike[str] | None = None,
    port: int | None = None,
    open_browser: bool = True,
    token: str | None = None,
    author: str | None = None,
    notebook: str | None = None,
) -> ServerCommand:
    """The command, environment and directory that start JupyterLab on the workbooks.

    ``notebook`` (a workbook id or file name) opens that workbook first;
    ``token`` fixes the access token (tests), otherwise Jupyter makes one.
    """
    workbooks, store = workbooks_and_store(db)
    quiet_lab_settings()
    env = server_environment(workbooks=workbooks, store=store, author=author)
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workbooks}",
        f"--ServerApp.open_browser={open_browser}",
        # No news or update pop-ups over a workshop on a projector, and no calls out to the internet.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # Answers live in the store; saving in Lab must not write outputs into the committed workbooks.
        "--FileContentsManager.pre_save_hook=csm_nb.run.lab.strip_outputs_before_save",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root; Jupyter refuses that unless told
    if port is not None:
        argv.append(f"--ServerApp.port={int(port)}")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if notebook:
        argv.append(_notebook_file(workbooks, notebook))
    return ServerCommand(argv, env, workbooks, store)


def workbooks_and_store(db: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """The workbooks folder (which must exist) and the store a server for them uses, both absolute."""
    workbooks = config.workbooks_dir().resolve()
    if not workbooks.is_dir():
        raise NotFoundError(f"workbooks directory {workbooks} does not exist; set CSM_NB_WORKBOOKS or run from the project")
    return workbooks, config.db_path(db).resolve()


def server_environment(*, workbooks: Path, store: Path, author: str | None) -> dict[str, str]:
    """The environment of a server on the workbooks (Lab, the workshop app): its kernels inherit it, so
    every form saves to ``store`` under ``author``'s name."""
    env = dict(os.environ)
    env["CSM_NB_DB"] = str(store)
    env["CSM_NB_WORKBOOKS"] = str(workbooks)
    if author:
        env[config.AUTHOR_ENV] = author
    return env


LAB_SETTINGS = {
    # The "receive Jupyter news?" toast would pop up over a workshop on a projector.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def quiet_lab_settings() -> Path:
    """Write JupyterLab's settings overrides into this environment (sys.prefix only)."""
    import json

    target = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        current = json.loads(target.read_text()) if target.is_file() else {}
    except ValueError:
        current = {}
    merged = {**current, **LAB_SETTINGS}
    if merged != current:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(merged, indent=2))
    return target


def strip_outputs_before_save(model: dict, **_: object) -> None:
    """Jupyter pre-save hook: keep workbooks free of outputs (answers are in the store).

    >>> m = {"type": "notebook", "content": {"cells": [{"cell_type": "code", "outputs": [1], "execution_count": 3}]}}
    >>> strip_outputs_before_save(m); m["content"]["cells"][0]
    {'cell_type': 'code', 'outputs': [], 'execution_count': None}
    """
    if model.get("type") != "notebook":
        return
    for cell in model.get("content", {}).get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    model["content"].get("metadata", {}).pop("widgets", None)


def _notebook_file(workbooks: Path, notebook: str) -> str:
    candidates = [
        p
        for p in sorted(workbooks.glob("*.ipynb"))
        if p.name == notebook or p.stem == notebook or (p.stem[:2].isdigit() and p.stem.split("_", 1)[-1] == notebook)
    ]
    if not candidates:
        known = ", ".join(p.stem.split("_", 1)[-1] if p.stem[:2].isdigit() else p.stem for p in sorted(workbooks.glob("*.ipynb")))
        raise NotFoundError(f"no workbook {notebook!r} in {workbooks}; available: {known}")
    return str(candidates[0])


LAB_STOP_TIMEOUT = 10.0  # seconds Jupyter gets to shut down its kernels before its group is killed
FORWARDED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


def run_lab(**options: object) -> int:
    """Start JupyterLab in the foreground; returns its exit code (Ctrl+C stops it).

    The server runs in its own process group, so that SIGTERM, SIGINT and
    SIGHUP sent to ``csm-nb lab`` reach it (and its kernels) once, forwarded
    from here; a server that does not stop within ``LAB_STOP_TIMEOUT`` has
    its whole group killed. Nothing of it outlives this command.
    """
    command = lab_command(**options)  # type: ignore[arg-type]
    print(
        f"store: {command.db}{'' if command.db.is_file() else ' (new; create an engagement in the form, or csm-nb import FILE)'}",
        flush=True,
    )
    print(f"workbooks: {command.cwd}", flush=True)
    process = subprocess.Popen(command.argv, env=command.env, cwd=command.cwd, start_new_session=True)
    return supervise(process, timeout=LAB_STOP_TIMEOUT)


def supervise(process: subprocess.Popen, *, timeout: float = LAB_STOP_TIMEOUT) -> int:
    """Wait for ``process`` (a process group leader), forwarding stop signals to its group; its exit code.

    Every stop signal is passed on as SIGTERM: Jupyter's SIGINT handler would
    ask "Shutdown this Jupyter server (y/[n])?" on a terminal it no longer
    owns. After the first one the group gets ``timeout`` seconds, then is
    killed. A code below 0 (killed by signal N) is returned as 128 + N.
    """
    deadline: list[float] = []

    def forward(signum: int, frame: object) -> None:
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        _signal_group(process, signal.SIGTERM)

    # Handlers can only be set from the main thread; elsewhere the caller owns signals.
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS} if in_main else {}
    try:
        while True:
            try:
                code = process.wait(timeout=0.2)  # short waits: the handler's deadline is checked here
                break
            except subprocess.TimeoutExpired:
                if deadline and time.monotonic() > deadline[0]:
                    _signal_group(process, signal.SIGKILL)
                    code = process.wait()
                    break
            except KeyboardInterrupt:  # not the main thread's handlers: still stop the server
                forward(signal.SIGINT, None)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        # Kernels or helpers the server left behind in its group go with it.
        _signal_group(process, signal.SIGKILL)
    return code if code >= 0 else 128 - code


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone
