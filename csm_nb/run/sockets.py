"""Private folders for kernels' IPC sockets (``/tmp/csmnb-<pid>-*``): short paths, one owner each, and
the leftovers of a killed run removed by the next."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SOCKET_DIR_PREFIX = "csmnb-"


def alive(pid: int) -> bool:
    """Is process ``pid`` still running (as far as this user can tell)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) process ``pid`` has used so far, from ``/proc`` (None where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime in clock ticks


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


def new_socket_dir() -> Path:
    """A new private socket folder owned by this process (its pid in the name, for ``remove_stale_socket_dirs``)."""
    return Path(tempfile.mkdtemp(prefix=f"{SOCKET_DIR_PREFIX}{os.getpid()}-", dir=socket_root()))
