"""Running a workbook headlessly: papermill executes, nbconvert exports HTML
through the project's template, and the three outputs land atomically.

Outputs of ``run_workbook("cash_flow", engagement_id="acme")`` are
``<out>/acme/cash_flow.{ipynb,html,json}``. They are produced in a private
temporary directory beside them and renamed into place (json, ipynb, then
html last), so a killed run never leaves a half-written report.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, config
from .errors import InputError, NotFoundError, RunError
from .engagement import engagement_document
from .model import Engagement
from .store import Store

OUTPUT_SUFFIXES = (".json", ".ipynb", ".html")  # rename order: html last marks "complete"
# Parameters the runner fills in itself; -p cannot override them.
RESERVED_PARAMETERS = ("engagement_id", "db", "results_path", "previous_results_path")


@dataclass(frozen=True)
class Workbook:
    id: str
    path: Path
    title: str


def workbooks() -> dict[str, Workbook]:
    """Every workbook in the workbooks directory, by id (``05_cash_flow.ipynb`` -> ``cash_flow``)."""
    found: dict[str, Workbook] = {}
    for path in sorted(config.workbooks_dir().glob("*.ipynb")):
        stem = path.stem
        wid = stem.split("_", 1)[1] if stem[:2].isdigit() and "_" in stem else stem
        found[wid] = Workbook(wid, path, _page_module(wid).TITLE if _has_page(wid) else wid.replace("_", " ").capitalize())
    return found


def _has_page(workbook_id: str) -> bool:
    return importlib.util.find_spec(f"csm_nb.pages.{workbook_id}") is not None


def _page_module(workbook_id: str) -> Any:
    return importlib.import_module(f"csm_nb.pages.{workbook_id}")


def get_workbook(workbook_id: str) -> Workbook:
    known = workbooks()
    if workbook_id not in known:
        raise NotFoundError(f"no workbook {workbook_id!r}; available: {', '.join(known) or 'none'} (in {config.workbooks_dir()})")
    return known[workbook_id]


def applicable_workbooks(engagement: Engagement) -> list[str]:
    """Workbook ids that have something to show for this engagement, in order."""
    return [w for w in workbooks() if _has_page(w) and _page_module(w).applies(engagement)]


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


def declared_parameters(workbook: Workbook) -> dict[str, Any]:
    """The names and default values in the workbook's ``parameters`` cell (literals only)."""
    import ast

    import nbformat

    nb = nbformat.read(workbook.path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            names: dict[str, Any] = {}
            for node in ast.parse(cell.source).body:
                target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
                if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
                    names[target.id] = ast.literal_eval(node.value)
            return names
    raise RunError(f"workbook {workbook.path} has no cell tagged 'parameters'")


def check_parameters(workbook: Workbook, parameters: dict[str, Any]) -> dict[str, Any]:
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
        if isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(value, (int, float)) and not isinstance(value, bool):
            continue
        if default is not None and value is not None and type(value) is not type(default):
            raise InputError(
                f"parameter {name!r} of workbook {workbook.id!r}: expected {type(default).__name__} like {default!r}, got {value!r}"
            )
    return parameters


def fingerprint(engagement: Engagement, workbook: Workbook, parameters: dict[str, Any]) -> str:
    """Identifies what a report was made from: data, notebook, parameters, version."""
    digest = hashlib.sha256()
    digest.update(json.dumps(engagement_document(engagement), sort_keys=True, default=str).encode())
    digest.update(workbook.path.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(__version__.encode())
    return digest.hexdigest()[:16]


def outputs_for(out_dir: Path, workbook_id: str) -> dict[str, Path]:
    return {suffix: out_dir / f"{workbook_id}{suffix}" for suffix in OUTPUT_SUFFIXES}


def is_current(out_dir: Path, workbook_id: str, stamp: str) -> bool:
    """True when all three outputs exist and were made from the same inputs."""
    paths = outputs_for(out_dir, workbook_id)
    if not all(p.is_file() for p in paths.values()):
        return False
    try:
        meta = json.loads(paths[".ipynb"].read_text(encoding="utf-8")).get("metadata", {}).get("csm_nb", {})
    except (OSError, ValueError):
        return False
    return meta.get("fingerprint") == stamp


@dataclass
class RunResult:
    workbook: str
    engagement_id: str
    outputs: dict[str, Path]
    skipped: bool = False
    results: dict[str, Any] = field(default_factory=dict)


_EXPORTER: Any = None


def html_exporter() -> Any:
    """One configured exporter per process (building it parses the templates)."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        cfg = Config()
        cfg.TemplateExporter.exclude_input = True
        cfg.TemplateExporter.exclude_input_prompt = True
        cfg.TemplateExporter.exclude_output_prompt = True
        cfg.HTMLExporter.anchor_link_text = ""  # no pilcrow links in a customer's report
        cfg.TagRemovePreprocessor.remove_cell_tags = ("interactive-only",)
        cfg.TagRemovePreprocessor.enabled = True
        _EXPORTER = HTMLExporter(
            config=cfg, template_name="csm_report", extra_template_basedirs=[str(config.templates_dir())]
        )
    return _EXPORTER


def export_html(nb: Any) -> str:
    body, _ = html_exporter().from_notebook_node(nb)
    return body


def run_workbook(
    workbook_id: str,
    *,
    engagement_id: str,
    out: str | os.PathLike[str] | None = None,
    parameters: dict[str, Any] | None = None,
    db: str | os.PathLike[str] | None = None,
    skip_current: bool = False,
    kernel_name: str = "python3",
) -> RunResult:
    """Execute one workbook for one engagement and write its three outputs."""
    config.check_engagement_id(engagement_id)
    workbook = get_workbook(workbook_id)
    parameters = check_parameters(workbook, dict(parameters or {}))
    db_file = config.db_path(db)
    if not db_file.is_file():
        raise NotFoundError(f"store {db_file} does not exist; import an engagement first (csm-nb import FILE)")
    with Store(db_file) as store:
        engagement = store.load(engagement_id)
    out_dir = config.output_dir_for(engagement_id, out)
    stamp = fingerprint(engagement, workbook, parameters)
    final = outputs_for(out_dir, workbook_id)
    if skip_current and is_current(out_dir, workbook_id, stamp):
        return RunResult(workbook_id, engagement_id, final, skipped=True, results=_read_json(final[".json"]))

    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{workbook_id}.", suffix=".tmp", dir=out_dir))
    try:
        staged = outputs_for(work, workbook_id)
        injected = {"engagement_id": engagement_id, "db": str(db_file.resolve()), "results_path": str(staged[".json"])}
        if "previous_results_path" in declared_parameters(workbook) and final[".json"].is_file():
            # A workbook that reports "what changed since last time" reads its last results.
            injected["previous_results_path"] = str(final[".json"])
        nb = execute(workbook, staged[".ipynb"], {**parameters, **injected}, kernel_name=kernel_name)
        nb.metadata["csm_nb"] = report_metadata(engagement, workbook, stamp)
        import nbformat

        nbformat.write(nb, staged[".ipynb"])
        staged[".html"].write_text(export_html(nb), encoding="utf-8")
        if not staged[".json"].is_file():
            raise RunError(f"workbook {workbook_id!r} ran but wrote no results file; it must call save_results(results_path)")
        for suffix in OUTPUT_SUFFIXES:
            os.replace(staged[suffix], final[suffix])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RunResult(workbook_id, engagement_id, final, results=_read_json(final[".json"]))


def execute(workbook: Workbook, output_path: Path, parameters: dict[str, Any], *, kernel_name: str = "python3") -> Any:
    """papermill-execute ``workbook``; a failing cell becomes one ``RunError`` line."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        return papermill.execute_notebook(
            str(workbook.path), str(output_path), parameters=parameters, kernel_name=kernel_name,
            progress_bar=False, log_output=False, cwd=str(workbook.path.parent),
        )
    except PapermillExecutionError as exc:
        raise RunError(f"workbook {workbook.id!r} failed in cell {exc.exec_count}: {_error_line(exc)}") from None


def _error_line(exc: Any) -> str:
    # CsmError messages are already one plain line; show those without the class name.
    if exc.ename in {"CsmError", "InputError", "NotFoundError", "ConflictError", "RunError"}:
        return str(exc.evalue)
    return f"{exc.ename}: {exc.evalue}"


def report_metadata(engagement: Engagement, workbook: Workbook, stamp: str) -> dict[str, Any]:
    return {
        "engagement_id": engagement.id,
        "customer": engagement.customer,
        "initiative": (engagement.initiative or {}).get("name"),
        "csm": engagement.csm,
        "currency": engagement.currency_code,
        "workbook": workbook.id,
        "workbook_title": workbook.title,
        "title": workbook.title,
        "generated": dt.date.today().isoformat(),
        "revision": engagement.revision,
        "fingerprint": stamp,
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
