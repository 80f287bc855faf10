"""Writing outputs safely: temporary name first, then an atomic rename, so a
killed run never leaves a half-written file; never through a link,
never over a FIFO, device or folder."""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from csm_nb.errors import CsmError, InputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words for an error message.

    >>> kind_of(stat.S_IFIFO), kind_of(stat.S_IFLNK | 0o777)
    ('a FIFO (named pipe)', 'a symbolic link')
    """
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a file" if stat.S_ISREG(mode) else "not a regular file"


def check_target(path: Path, *, dir_fd: int | None = None) -> None:
    """Refuse to replace anything at ``path`` but a regular file (links are not followed).

    A rename over a symlink, FIFO or device node would silently swap what
    somebody set up there (``-o /dev/full`` became a plain file).
    """
    try:
        info = os.stat(path.name if dir_fd is not None else path, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CsmError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"cannot write {path}: it is {kind_of(info.st_mode)}; csm-nb only replaces regular files, "
            "so remove it or choose another name"
        )


def refuse_link(path: Path, *, what: str = "folder") -> None:
    """Refuse a ``path`` that is a symbolic link (or exists as something else than a folder)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CsmError(f"cannot use {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(
            f"{path} is a symbolic link; csm-nb does not write {what}s through links: remove the link or use another --out"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path} is {kind_of(info.st_mode)}, not a {what}; remove it or use another --out")


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose failure (a file in the way, no permission, a full disk) is one line naming ``path``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CsmError(f"cannot write into {path}: it (or a folder above it) is a file, not a folder") from None
    except OSError as exc:
        raise CsmError(f"cannot write into {path}: {exc.strerror or exc}") from None


def write_text_atomic(path: Path, text: str, *, follow_parent: bool = True) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), follow_parent=follow_parent)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (the one place a test double can fail a write)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_bytes_atomic(path: Path, data: bytes, *, follow_parent: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and an atomic rename.

    Refuses (one line naming the path) when ``path`` exists and is not a
    regular file. ``follow_parent=False`` also refuses a folder that is a
    symbolic link: outputs under ``runs/`` pass it, because nobody named
    their engagement or label folder; ``export -o`` into a linked folder the
    user typed is fine. Any OSError (a full disk, no permission) becomes a
    ``CsmError`` naming the path, and the temporary file is removed.
    """
    path = Path(path)
    make_dirs(path.parent)
    flags = os.O_RDONLY | _DIRECTORY | _CLOEXEC | (0 if follow_parent else _NOFOLLOW)
    try:
        folder = os.open(path.parent, flags)
    except OSError as exc:
        if not follow_parent and os.path.islink(path.parent):
            raise InputError(
                f"cannot write {path}: its folder {path.parent} is a symbolic link; csm-nb does not write outputs through links"
            ) from None
        raise CsmError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp: str | None = None
    try:
        check_target(path, dir_fd=folder)
        fd = -1
        while fd < 0:
            tmp = f".{path.name}.{secrets.token_hex(4)}.tmp"
            try:
                # Exclusive and not through a link: nobody can make us write into a file they planted.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666, dir_fd=folder)
            except FileExistsError:
                continue
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        tmp = None
    except OSError as exc:
        raise CsmError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=folder)
            except OSError:
                pass
        os.close(folder)
    return path


def plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def write_results(path: str | os.PathLike[str], results: dict[str, Any]) -> Path:
    """Write a workbook's key figures as plain JSON (numbers, ratios as fractions, ``null`` when not known yet), atomically."""
    text = json.dumps(plain(results), indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomic(Path(path), text + "\n")
