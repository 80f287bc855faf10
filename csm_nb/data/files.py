"""Reading the files people give us: bounded in size, and text in an encoding we can be sure of.

Text files are UTF-8 (with or without a byte-order mark) or UTF-16 with a
byte-order mark. Anything else is refused naming the file and the byte: a
guess (cp1252, say) would store Chinese or Japanese text as mojibake.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from csm_nb.config import check_engagement_id, runs_dir
from csm_nb.errors import InputError, LimitError, NotFoundError

ZIP_MAGIC = b"PK\x03\x04"


def read_limited(path: Path, *, limit: int, what: str) -> bytes:
    """The bytes of a regular file no larger than ``limit``; one line naming the file otherwise."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder; expected {what}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: is not a regular file; expected {what}")
    if info.st_size > limit:
        raise LimitError(
            f"{path}: {_size(info.st_size)} is more than the {_size(limit)} allowed for {what}; split it or remove what is not needed"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise LimitError(f"{path}: more than the {_size(limit)} allowed for {what}")
    return data


def decode_text(raw: bytes, *, source: str, save_as: str = "UTF-8") -> str:
    """UTF-8 (a BOM is dropped) or UTF-16 with a BOM; anything else is refused naming the first bad byte.

    >>> decode_text("café".encode("utf-16"), source="x.csv")
    'café'
    >>> decode_text(b"caf\\xe9", source="x.csv")
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: x.csv: not UTF-8 text (byte 0xe9 at offset 3); save it as UTF-8
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not valid UTF-16 text (at offset {exc.start}); save it as {save_as}") from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _looks_utf16(raw):
                raise InputError(f"{source}: UTF-16 text without a byte-order mark; save it as {save_as}") from None
            raise InputError(
                f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as {save_as}"
            ) from None
        if _looks_utf16(raw):
            raise InputError(f"{source}: UTF-16 text without a byte-order mark; save it as {save_as}")
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(f"{source}: a NUL character at position {nul}; this is not a text file (save it as {save_as})")
    return text


def _looks_utf16(raw: bytes) -> bool:
    """Every other byte NUL in the first few hundred: ASCII saved as UTF-16 with no BOM."""
    head = raw[:400]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


__all__ = ["ZIP_MAGIC", "decode_text", "read_limited"]


def output_dir_for(engagement_id: str, out: str | os.PathLike[str] | None = None) -> Path:
    """``<out>/<engagement_id>``, refusing anything that would leave ``<out>``.

    ``<out>`` itself may be a link the user named; ``<out>/<id>`` must not be
    one (nobody typed it, and following it would write somewhere else).
    """
    from csm_nb.data.results import refuse_link

    base = runs_dir(out).resolve()
    if base.exists() and not base.is_dir():
        raise InputError(f"--out {base} is a file, not a folder; give a folder for the reports")
    target = base / check_engagement_id(engagement_id)
    refuse_link(target)
    if target.resolve().parent != base:
        raise InputError(f"engagement id {engagement_id!r} would write outside {base}")
    return target
