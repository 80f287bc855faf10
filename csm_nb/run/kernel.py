"""Glue for running inside a notebook kernel (interactive or papermill)."""

from __future__ import annotations

from typing import Any

from csm_nb.errors import CsmError


def _show_csm_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> list[str]:
    # A CSM on a projector sees one sentence, not a stack trace. It is shown as the cell's error
    # (name, message, and the sentence as the whole traceback), so the cell counts as failed and
    # whatever runs the notebook reports that sentence: csm-nb, and plain papermill, whose
    # PapermillExecutionError was empty while the sentence went to stderr.
    stb = [f"error: {value}"]
    shell._showtraceback(etype, value, stb)  # the kernel's hook that sends the error to the frontend
    return stb


def setup() -> None:
    """Show ``CsmError`` as one plain line instead of a traceback (idempotent)."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to set up
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CsmError,), _show_csm_error)
