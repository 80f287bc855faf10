"""Glue for running inside a notebook kernel (interactive or papermill)."""

from __future__ import annotations

import sys
from typing import Any

from csm_nb.errors import CsmError


def _show_csm_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    # A CSM on a projector sees one sentence, not a stack trace. The cell still
    # counts as failed, so a headless run stops and reports the same line.
    print(f"error: {value}", file=sys.stderr)


def setup() -> None:
    """Show ``CsmError`` as one plain line instead of a traceback (idempotent)."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to set up
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CsmError,), _show_csm_error)
