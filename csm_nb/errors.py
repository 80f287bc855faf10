"""One small error hierarchy.

Every error a person can cause by what they typed or supplied is a
``CsmError``: its message is one line that names the bad value and says what
to do. The CLI prints it as ``error: <message>`` and exits non-zero; the
notebooks show it as a plain sentence. Anything else is a bug and keeps its
traceback.
"""
from __future__ import annotations


class CsmError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is for the CLI."""

    exit_code = 1

    def __str__(self) -> str:  # keep it to one line whatever was passed in
        return " ".join(super().__str__().split())


class InputError(CsmError):
    """A file, row, key or value that is not what was expected."""


class NotFoundError(CsmError):
    """An engagement, workbook or file that does not exist."""


class ConflictError(CsmError):
    """Somebody else saved the same engagement since it was read."""


class RunError(CsmError):
    """A workbook failed while it ran headlessly."""
