"""Kernels for headless runs: started ahead of need with the workbooks' modules
imported, each used for exactly one notebook and then killed, so one
engagement can never see another's state. Kernels talk over IPC sockets in a
private directory (``csmnb-<pid>-*``): no TCP ports to collide when many
start at once; a killed run's socket folders are removed by the next run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csm_nb import config
from csm_nb.errors import RunError
from csm_nb.run.sockets import (
    SOCKET_DIR_PREFIX,
    alive,
    cpu_seconds,
    new_socket_dir,
    remove_stale_socket_dirs,
    socket_root,
)

__all__ = [
    "KERNEL_START_TIMEOUT",
    "SOCKET_DIR_PREFIX",
    "Kernel",
    "KernelPool",
    "alive",
    "new_socket_dir",
    "one_line",
    "remove_stale_socket_dirs",
    "socket_root",
    "start_kernel",
]

# A kernel that does not answer within this many seconds is reported as a failure.
KERNEL_START_TIMEOUT = 60.0


def one_line(exc: BaseException) -> str:
    """An exception's message on one line of at most 300 characters (its class name when it has none)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class Kernel:
    """A started, warmed kernel and its client; used for exactly one notebook."""

    manager: Any
    client: Any
    started_in: float  # seconds from launch to ready (imports included)
    start_cpu: float | None = None  # CPU seconds the kernel process used to be ready (None: not measurable here)

    @property
    def pid(self) -> int | None:
        return getattr(self.manager.provisioner, "pid", None)

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid) if self.pid else None

    async def run(self, code: str, *, timeout: float = KERNEL_START_TIMEOUT, what: str = "run code") -> None:
        """Run ``code`` in the kernel (silently, no history) and wait for it; an error raises ``RunError``."""
        msg_id = self.client.execute(code, silent=True, store_history=False)
        while True:
            reply = await self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise RunError(f"a kernel could not {what}: {content.get('ename')}: {content.get('evalue')}")

    async def shutdown(self) -> None:
        # The kernel is disposable: kill it rather than wait for a polite exit.
        try:
            self.client.stop_channels()
            await self.manager.shutdown_kernel(now=True)
        except Exception:  # already dead: only leftovers to tidy
            await _quietly(self.manager.cleanup_resources())


async def _quietly(awaitable: Any) -> None:
    try:
        result = awaitable
        if asyncio.iscoroutine(result):
            await result
    except Exception:
        pass


_KERNEL_COUNTER = itertools.count(1)


async def _wait_until_ready(manager: Any, client: Any, *, timeout: float) -> None:
    """Until the kernel answers ``kernel_info`` on the shell channel and its IOPub messages reach us.

    jupyter_client's ``wait_for_ready`` does the same but gives IOPub 0.2 s
    each round; the first round nearly always misses (the subscription is
    still joining when the kernel publishes), so a kernel forked in 0.04 s
    waited 0.3 s more. Here a round gives IOPub 0.03 s and asks again.
    """
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        msg_id = client.kernel_info()
        answered = False
        try:
            while not answered:
                reply = await client.get_shell_msg(timeout=1)
                answered = reply["parent_header"].get("msg_id") == msg_id
            while True:
                message = await client.get_iopub_msg(timeout=0.03)
                if message["parent_header"].get("msg_id") == msg_id:
                    return
        except Empty:
            pass
        if not await manager.is_alive():
            raise RunError("the kernel died before it answered")
        if time.monotonic() > deadline:
            raise RunError(f"the kernel did not answer within {timeout:g} s")


async def start_kernel(
    *,
    cwd: Path,
    socket_dir: Path,
    warm_up: str = "",
    kernel_name: str = "python3",
    timeout: float = KERNEL_START_TIMEOUT,
    fork_server: Path | None = None,
) -> Kernel:
    """Launch a kernel on IPC sockets under ``socket_dir``, wait until it answers, run ``warm_up``.

    With ``fork_server`` (a server's socket) the kernel is forked from that
    warm server (``csm_nb.run.forkserver``), which has run ``warm_up`` already.
    """
    from jupyter_client import AsyncKernelManager

    begun = time.perf_counter()
    number = next(_KERNEL_COUNTER)
    extra: dict[str, Any] = {}
    if fork_server is not None:
        from csm_nb.run.forkserver import spec_manager

        extra["kernel_spec_manager"] = spec_manager(str(fork_server))
        warm_up = ""
    manager = AsyncKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        # Absolute socket paths: the kernel runs in another directory than we do.
        ip=str(socket_dir / f"k{number}"),
        connection_file=str(socket_dir / f"k{number}.json"),
        **extra,
    )
    # No IPython history: many kernels writing one history.sqlite would lock each other. Headless whatever
    # started this process (csm-nb run from a notebook in JupyterLab inherits its JPY_SESSION_NAME).
    env = {**os.environ, config.INTERACTIVE_ENV: "0"}
    await manager.start_kernel(cwd=str(cwd), env=env, extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    try:
        client.start_channels()
        await _wait_until_ready(manager, client, timeout=timeout)
        if warm_up:
            await Kernel(manager, client, 0.0).run(warm_up, timeout=timeout, what="import the workbooks' modules")
    except BaseException:
        await Kernel(manager, client, 0.0).shutdown()
        raise
    kernel = Kernel(manager, client, time.perf_counter() - begun)
    kernel.start_cpu = kernel.cpu_seconds()
    return kernel


class KernelPool:
    """Fresh kernels started ahead of need; each runs exactly one notebook.

    ``prestart`` kernels are kept ready (launched in parallel, modules
    imported) so a notebook rarely waits for one; ``total`` caps how many are
    ever launched, so none is started that no notebook will use. Use as
    ``async with KernelPool(...) as pool: kernel = await pool.acquire()``, then
    ``pool.release(kernel)`` once the notebook has run.
    """

    def __init__(
        self,
        *,
        total: int,
        prestart: int = 2,
        cwd: Path | None = None,
        warm_up: str = "",
        kernel_name: str = "python3",
        start_timeout: float = KERNEL_START_TIMEOUT,
        fork: bool | None = None,
        server: Any = None,
    ) -> None:
        from csm_nb.run import forkserver

        self.total, self.prestart = max(0, total), max(1, prestart)
        # Forked from a warm server unless turned off (CSM_NB_FORK=0) or asked for another kernel.
        # ``server``: one the caller started early (so it imports while the caller checks its input); the pool stops it.
        self.fork = (forkserver.used_for(kernel_name) if fork is None else fork) or server is not None
        self._server: forkserver.ForkServer | None = server
        self._restarts = 0
        self.cwd = cwd or config.workbooks_dir()
        self.warm_up, self.kernel_name, self.start_timeout = warm_up, kernel_name, start_timeout
        self.launched = 0
        self.start_times: list[float] = []
        # CPU seconds by where they were spent: the fork server's imports (once), kernels getting ready,
        # kernels running notebooks, and exports in forked children (this process's own are not here).
        self.cpu: dict[str, float] = {"server": 0.0, "start": 0.0, "execute": 0.0, "export": 0.0}
        self._ready: asyncio.Queue[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # kernels being started
        self._stopping: set[asyncio.Task[Any]] = set()  # used kernels being killed
        self._socket_dir: Path | None = None

    async def __aenter__(self) -> KernelPool:
        # Imported here, before any kernel starts, so ``preload`` in a helper thread never
        # meets a half-imported jupyter_client.
        import jupyter_client  # noqa: F401

        # The owner's pid in the name, so the next run can tell a killed run's leftovers from a live one's.
        remove_stale_socket_dirs()
        self._socket_dir = new_socket_dir()
        if self.fork and self.total and self._server is None:
            from csm_nb.run.forkserver import ForkServer

            self._server = ForkServer.start(self.warm_up)
        self._ready = asyncio.Queue()
        for _ in range(min(self.prestart, self.total)):
            self._launch()
        return self

    async def __aexit__(self, *exc: object) -> None:
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        # Used kernels must really be gone before we return (shield: even when cancelled).
        await asyncio.gather(*self._stopping, return_exceptions=True)
        assert self._ready is not None
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, Kernel):
                await item.shutdown()
        if self._server is not None:
            self.cpu["server"] += self._server.cpu_seconds() or 0.0
            self._server.stop()
            self._server = None
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _launch(self) -> None:
        self.launched += 1
        task = asyncio.ensure_future(self._start_one())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _server_for_next_kernel(self) -> Any:
        """The fork server, started again if it has stopped (twice at most; then kernels start the ordinary way)."""
        if self._server is not None and not self._server.running:
            from csm_nb.run.forkserver import ForkServer

            self._server.stop()
            self._server = ForkServer.start(self.warm_up) if self._restarts < 2 else None
            self._restarts += 1
        return self._server

    async def _start_one(self) -> None:
        assert self._ready is not None and self._socket_dir is not None
        server = self._server_for_next_kernel()
        try:
            kernel = await start_kernel(
                cwd=self.cwd,
                socket_dir=self._socket_dir,
                warm_up=self.warm_up,
                kernel_name=self.kernel_name,
                timeout=self.start_timeout,
                fork_server=server.socket_path if server is not None else None,
            )
            self.start_times.append(kernel.started_in)
            await self._ready.put(kernel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to whichever notebook takes this slot
            await self._ready.put(exc)

    async def acquire(self) -> Kernel:
        assert self._ready is not None
        if self._ready.empty() and self.launched < self.total and not any(not t.done() for t in self._tasks):
            self._launch()
        item = await self._ready.get()
        if self.launched < self.total:
            self._launch()  # keep one started ahead for the next notebook
        if isinstance(item, Exception):
            raise RunError(f"a kernel did not start: {one_line(item)}")
        return item

    async def export(self, notebook: Path, html: Path, stamp: str, *, timeout: float = 600.0) -> bool:
        """Export ``notebook`` to ``html`` in a child of this pool's fork server; False when the pool has
        none or its server has not loaded the exporter yet (the caller exports in its own process then)."""
        if self._server is None or not self._server.running:
            return False
        from csm_nb.run.forkserver import export_report

        used = await export_report(self._server.socket_path, notebook=notebook, html=html, stamp=stamp, timeout=timeout)
        if used is None:
            return False
        self.cpu["export"] += used
        return True

    def release(self, kernel: Kernel) -> None:
        """Kill a used kernel in the background: nobody waits for it to go."""
        total = kernel.cpu_seconds()
        if total is not None and kernel.start_cpu is not None:
            self.cpu["start"] += kernel.start_cpu
            self.cpu["execute"] += total - kernel.start_cpu
        task = asyncio.ensure_future(kernel.shutdown())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
