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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csm_nb import config
from csm_nb.errors import RunError

# A kernel that does not answer within this many seconds is reported as a failure.
KERNEL_START_TIMEOUT = 60.0
SOCKET_DIR_PREFIX = "csmnb-"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line of at most 300 characters (its class name when it has none)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def alive(pid: int) -> bool:
    """Is process ``pid`` still running (as far as this user can tell)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def socket_root() -> Path | None:
    """Where kernel socket folders go: /tmp keeps the socket paths short (under ~100 characters)."""
    return Path("/tmp") if os.path.isdir("/tmp") else None


def remove_stale_socket_dirs(root: Path | None = None) -> None:
    """Socket folders (``csmnb-<pid>-*``) of runs whose process is gone (killed) are removed."""
    root = root or socket_root() or Path(tempfile.gettempdir())
    for stale in root.glob(f"{SOCKET_DIR_PREFIX}*-*"):
        pid_text = stale.name[len(SOCKET_DIR_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or alive(int(pid_text)):
            continue  # no owner in the name (an older version's) or its owner still runs
        try:
            info = stale.lstat()
        except OSError:
            continue
        if stale.is_dir() and not stale.is_symlink() and info.st_uid == os.geteuid():
            shutil.rmtree(stale, ignore_errors=True)


@dataclass
class Kernel:
    """A started, warmed kernel and its client; used for exactly one notebook."""

    manager: Any
    client: Any
    started_in: float  # seconds from launch to ready (imports included)

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


async def start_kernel(
    *, cwd: Path, socket_dir: Path, warm_up: str = "", kernel_name: str = "python3", timeout: float = KERNEL_START_TIMEOUT
) -> Kernel:
    """Launch a kernel on IPC sockets under ``socket_dir``, wait until it answers, run ``warm_up``."""
    from jupyter_client import AsyncKernelManager

    begun = time.perf_counter()
    number = next(_KERNEL_COUNTER)
    manager = AsyncKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        # Absolute socket paths: the kernel runs in another directory than we do.
        ip=str(socket_dir / f"k{number}"),
        connection_file=str(socket_dir / f"k{number}.json"),
    )
    # No IPython history: many kernels writing one history.sqlite would lock each other.
    await manager.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    try:
        client.start_channels()
        await client.wait_for_ready(timeout=timeout)
        if warm_up:
            msg_id = client.execute(warm_up, silent=True, store_history=False)
            while True:
                reply = await client.get_shell_msg(timeout=timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            if reply["content"].get("status") != "ok":
                content = reply["content"]
                raise RunError(
                    f"a kernel could not import the workbooks' modules: {content.get('ename')}: {content.get('evalue')}"
                )
    except BaseException:
        await Kernel(manager, client, 0.0).shutdown()
        raise
    return Kernel(manager, client, time.perf_counter() - begun)


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
    ) -> None:
        self.total, self.prestart = max(0, total), max(1, prestart)
        self.cwd = cwd or config.workbooks_dir()
        self.warm_up, self.kernel_name, self.start_timeout = warm_up, kernel_name, start_timeout
        self.launched = 0
        self.start_times: list[float] = []
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
        root = socket_root()
        self._socket_dir = Path(tempfile.mkdtemp(prefix=f"{SOCKET_DIR_PREFIX}{os.getpid()}-", dir=root))
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
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _launch(self) -> None:
        self.launched += 1
        task = asyncio.ensure_future(self._start_one())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_one(self) -> None:
        assert self._ready is not None and self._socket_dir is not None
        try:
            kernel = await start_kernel(
                cwd=self.cwd,
                socket_dir=self._socket_dir,
                warm_up=self.warm_up,
                kernel_name=self.kernel_name,
                timeout=self.start_timeout,
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

    def release(self, kernel: Kernel) -> None:
        """Kill a used kernel in the background: nobody waits for it to go."""
        task = asyncio.ensure_future(kernel.shutdown())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
