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
    ├── UsageError              an option that cannot work as given                         exit 2
    ├── RunError                a workbook could not be run headlessly
    │   └── NotebookFailed      a cell raised or the kernel died; names the cell, keeps the partial notebook
    └── Interrupted             a run stopped by Ctrl+C or SIGTERM; what finished is kept    exit 130 (143 for SIGTERM)

Every class a person can cause is here, and only here: ``plain_error_names()``
is read off this tree (a kernel reports an error by its class name, and one of
these names means "the message is already one plain sentence").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


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


class UsageError(CsmError):
    """An option that cannot work as given (the CLI exits 2, as for other usage errors)."""

    exit_code = 2


class RunError(CsmError):
    """A workbook could not be run headlessly (no results written, a kernel that did not start)."""


class NotebookFailed(RunError):
    """A cell raised (or the kernel died) while a workbook ran headlessly.

    The message is one line: ``workbook 'cash_flow' failed in cell 4: ...``.
    ``cell`` is the cell's position in the workbook as a person sees it in
    Jupyter (1 = first cell), ``partial`` the kept partial notebook, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        workbook: str,
        cell: int | None = None,
        ename: str = "",
        evalue: str = "",
        partial: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.workbook, self.cell, self.ename, self.evalue, self.partial = workbook, cell, ename, evalue, partial

    def __reduce__(self) -> Any:  # survives pickling, so a Dask worker can send it back
        return (_rebuild_failure, (str(self), self.workbook, self.cell, self.ename, self.evalue, self.partial))


def _rebuild_failure(
    message: str, workbook: str, cell: int | None, ename: str, evalue: str, partial: Path | None
) -> NotebookFailed:
    return NotebookFailed(message, workbook=workbook, cell=cell, ename=ename, evalue=evalue, partial=partial)


class Interrupted(CsmError):
    """A run stopped by a signal; whatever finished is kept. ``exit_code`` is 128 + the signal (130 for Ctrl+C)."""

    exit_code = 130

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __reduce__(self) -> Any:
        return (_rebuild_interrupted, (str(self), self.exit_code))


def _rebuild_interrupted(message: str, exit_code: int) -> Interrupted:
    return Interrupted(message, exit_code=exit_code)


def plain_error_names() -> frozenset[str]:
    """The class names of the tree above: an error a kernel reports under one of them is one plain sentence.

    >>> {"CsmError", "InputError", "StoreBusyError", "NotebookFailed"} <= plain_error_names()
    True
    >>> "ValueError" in plain_error_names()
    False
    """
    found, todo = set(), [CsmError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(found)
