"""A workbook's parameters: what its ``parameters`` cell declares (read by
papermill's own inspection) and the checks a ``-p NAME VALUE`` must pass
before any kernel starts."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

from csm_nb.errors import InputError, RunError
from csm_nb.method.dates import parse_as_of
from csm_nb.run.registry import Workbook

# Parameters the runner fills in itself; -p cannot override them.
RESERVED_PARAMETERS = ("engagement_id", "db", "results_path", "previous_results_path")


def coerce_parameter(text: str) -> Any:
    """A ``-p NAME VALUE`` value from the command line as a typed literal.

    >>> coerce_parameter("0.01"), coerce_parameter("none"), coerce_parameter("net_roi"), coerce_parameter("true")
    (0.01, None, 'net_roi', True)
    """
    import yaml

    lowered = text.strip().lower()
    if lowered in {"none", "null", "~", ""}:
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str, list)) else text


_SOURCE_CACHE: dict[Path, tuple[int, Any]] = {}
_INSPECTED: dict[Path, tuple[int, dict[str, dict[str, Any]]]] = {}


def workbook_notebook(workbook: Workbook) -> Any:
    """The workbook as a notebook node, read once per process while the file is unchanged."""
    import nbformat

    mtime = workbook.path.stat().st_mtime_ns
    cached = _SOURCE_CACHE.get(workbook.path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, nbformat.read(workbook.path, as_version=4))
        _SOURCE_CACHE[workbook.path] = cached
    return cached[1]


def inspected(workbook: Workbook) -> dict[str, dict[str, Any]]:
    """``papermill.inspect_notebook`` of the workbook (name -> default source text and help), once per file version."""
    mtime = workbook.path.stat().st_mtime_ns
    cached = _INSPECTED.get(workbook.path)
    if cached is None or cached[0] != mtime:
        import papermill

        cached = (mtime, papermill.inspect_notebook(str(workbook.path)))
        _INSPECTED[workbook.path] = cached
    if not cached[1]:
        raise RunError(f"workbook {workbook.path} has no cell tagged 'parameters'")
    return cached[1]


def declared_parameters(workbook: Workbook) -> dict[str, Any]:
    """The names and default values in the workbook's ``parameters`` cell (literals only)."""
    return {name: ast.literal_eval(p["default"]) for name, p in inspected(workbook).items()}


def parameter_help(workbook: Workbook, name: str) -> str:
    """The ``# help:`` text of one parameter ('' if none); papermill reads the comment, we drop its ``help:``."""
    text = str(inspected(workbook).get(name, {}).get("help") or "").strip()
    return text.removeprefix("help:").strip()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_parameters(workbook: Workbook, parameters: dict[str, Any]) -> dict[str, Any]:
    """Refuse, naming the parameter and the expected form, a ``-p`` value the workbook cannot take.

    Numbers must be finite (``.nan`` printed "$nan"); a flag is not a number
    (``true`` became a 100 % discount rate) nor a number a flag. A default of
    ``None`` means "a value or nothing": it takes anything but a flag or a
    non-finite number (flags in the workbooks always default to True/False).
    ``as_of`` must be a date (``2026-11-30``, which YAML reads as a date) or
    empty; it is kept as ISO text.
    """
    declared = declared_parameters(workbook)
    for name, value in parameters.items():
        if name in RESERVED_PARAMETERS:
            raise InputError(f"parameter {name!r} is set by csm-nb itself; use --engagement/--db instead")
        if name not in declared:
            raise InputError(
                f"workbook {workbook.id!r} has no parameter {name!r}; it has: "
                f"{', '.join(n for n in declared if n not in RESERVED_PARAMETERS)}"
            )
        default = declared[name]
        where = f"parameter {name!r} of workbook {workbook.id!r}"
        if name == "as_of":
            parameters[name] = "" if value in (None, "") else parse_as_of(value, name=where).isoformat()
            continue
        if default is None:
            help_text = parameter_help(workbook, name)
            expected = f"a value or none{f' ({help_text})' if help_text else ''}"
        else:
            hint = (
                " (a number, not true/false)" if _is_number(default) else " (true or false)" if isinstance(default, bool) else ""
            )
            expected = f"{type(default).__name__} like {default!r}{hint}"
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{where}: expected {expected}; {value!r} is not a finite number")
        if default is None:
            if isinstance(value, bool):
                raise InputError(f"{where}: expected {expected}, got the flag {value!r}")
            continue
        if _is_number(default) and _is_number(value):
            continue
        if value is not None and type(value) is not type(default):
            raise InputError(f"{where}: expected {expected}, got {value!r}")
    return parameters
