"""The names callers used before the runner was split by job; new code imports
from the modules themselves:

* :mod:`csm_nb.run.registry`: the workbooks, by id, with their pages;
* :mod:`csm_nb.run.parameters`: what a workbook's parameters cell declares, and the ``-p`` checks;
* :mod:`csm_nb.run.kernels`: the kernel pool;
* :mod:`csm_nb.run.export`: HTML export and the report's fingerprint;
* :mod:`csm_nb.run.engine`: running workbooks for an engagement (``run``, ``report``, ``portfolio``).
"""

from __future__ import annotations

from csm_nb.errors import Interrupted, NotebookFailed
from csm_nb.run.engine import (
    DEFAULT_CELL_TIMEOUT,
    OUTPUT_SUFFIXES,
    RunResult,
    fingerprint,
    is_current,
    outputs_for,
    run_coroutine,
    run_workbook,
    run_workbook_async,
)
from csm_nb.run.export import html_fingerprint, with_fingerprint
from csm_nb.run.kernels import KernelPool
from csm_nb.run.parameters import (
    RESERVED_PARAMETERS,
    check_parameters,
    coerce_parameter,
    declared_parameters,
)
from csm_nb.run.registry import (
    Workbook,
    applicable_workbooks,
    get_workbook,
    warm_up_code,
    workbooks,
)

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "OUTPUT_SUFFIXES",
    "RESERVED_PARAMETERS",
    "Interrupted",
    "KernelPool",
    "NotebookFailed",
    "RunResult",
    "Workbook",
    "applicable_workbooks",
    "check_parameters",
    "coerce_parameter",
    "declared_parameters",
    "fingerprint",
    "get_workbook",
    "html_fingerprint",
    "is_current",
    "outputs_for",
    "run_coroutine",
    "run_workbook",
    "run_workbook_async",
    "warm_up_code",
    "with_fingerprint",
    "workbooks",
]
