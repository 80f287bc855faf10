"""One small error hierarchy.

Every error a person can cause by what they typed or supplied is a
``CsmError``: its message is one line that names the bad value and says what
to do. The CLI prints it as ``error: <message>`` and exits non-zero; the
notebooks show it as a plain sentence. Anything else is a bug and keeps its
traceback.

::

    CsmError                    exit 1 unless a subclass says otherwise
    ├── InputError              a file, row, key or value that is not what was expected
    │   └── LimitError          a file or table larger than the stated limits
    ├── NotFoundError           an engagement, workbook or file that does not exist
    ├── ConflictError           somebody else saved the same thing since it was read
    ├── StoreError              the store cannot be used: read-only, not a csm-nb store, disk full
    │   └── StoreBusyError      another process holds the store's write lock past the timeout
    ├── WouldRemoveError        an import would delete data; names it and how to confirm (--replace)
    └── RunError                a workbook failed while it ran headlessly
"""
from __future__ import annotations


class CsmError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is for the CLI."""

    exit_code = 1

    def __str__(self) -> str:  # keep it to one line whatever was passed in
        return " ".join(super().__str__().split())


class InputError(CsmError):
    """A file, row, key or value that is not what was expected."""


class LimitError(InputError):
    """A document or table beyond the size limits the README states."""


class NotFoundError(CsmError):
    """An engagement, workbook or file that does not exist."""


class ConflictError(CsmError):
    """Somebody else saved the same engagement since it was read."""


class StoreError(CsmError):
    """The store cannot be read or written: read-only, locked, not a csm-nb store, a full disk."""


class StoreBusyError(StoreError):
    """Another process held the store's write lock for longer than the wait allows.

    ``holders`` names the processes that have the file open, when they can be
    seen (``pid 123 (csm-nb import ...)``); nothing was written.
    """

    def __init__(self, message: str, *, holders: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.holders = holders


class WouldRemoveError(CsmError):
    """An import would remove rows or items the file does not have; run again with ``--replace`` to confirm."""


class RunError(CsmError):
    """A workbook failed while it ran headlessly."""
