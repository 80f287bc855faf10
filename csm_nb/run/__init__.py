"""Running workbooks: the registry, kernels, export, reports and portfolios."""

from __future__ import annotations

import sys


def lean_imports() -> None:
    """Leave out one optional import that costs every run 1.5 s: call before nbformat is imported.

    nbformat (and so papermill, nbclient and nbconvert) imports jsonschema,
    whose format checkers import ``rfc3987_syntax`` when it is installed
    (JupyterLab's event schemas bring it); that module builds a Lark grammar
    when it is imported: 1.52 s of the 2.06 s of ``from nbconvert import
    HTMLExporter`` here (``python -X importtime``), and ``import papermill``
    falls from 1.46 s to 0.44 s without it. Marking it absent makes
    jsonschema skip the one check it serves (the ``iri`` string format),
    which no notebook schema uses. Only the command line and the fork server
    call this, in their own processes; a program that imports ``csm_nb`` keeps
    its jsonschema as it is.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
