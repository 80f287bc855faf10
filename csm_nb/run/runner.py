"""Running a workbook headlessly: execute it in a fresh kernel, export HTML
through the project's template, and land the three outputs atomically.

Outputs of ``run_workbook("cash_flow", engagement_id="acme")`` are
``<out>/acme/cash_flow.{ipynb,html,json}``. They are produced in a private
temporary directory beside them and renamed into place (json, ipynb, then
html last), so a killed run never leaves a half-written report. A notebook
that fails keeps its partial copy as ``<out>/acme/cash_flow.failed.ipynb``
for diagnosis and raises one ``NotebookFailed`` line naming the cell.

How a notebook runs (the same way for ``csm-nb run`` and for a portfolio):
parameters are injected the way papermill does it (a cell tagged
``injected-parameters`` after the ``parameters`` cell), then nbclient executes
it in a kernel taken from a ``KernelPool``. Each kernel is fresh, started
ahead of need with the workbook's modules already imported, runs exactly one
notebook and is then killed, so one engagement can never see another's state.
Kernels talk over IPC sockets in a private directory: no TCP ports to collide
when many start at once. Nothing here changes the working directory; a kernel
gets its own ``cwd`` when it is launched.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import importlib
import importlib.util
import itertools
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from csm_nb import __version__, config
from csm_nb.data.engagement import engagement_document
from csm_nb.data.files import output_dir_for
from csm_nb.data.store import Store
from csm_nb.errors import CsmError, InputError, NotFoundError, RunError
from csm_nb.model import Engagement

OUTPUT_SUFFIXES = (".json", ".ipynb", ".html")  # rename order: html last marks "complete"
FAILED_SUFFIX = ".failed.ipynb"
# Parameters the runner fills in itself; -p cannot override them.
RESERVED_PARAMETERS = ("engagement_id", "db", "results_path", "previous_results_path")
# A kernel that does not answer within this many seconds is reported as a failure.
KERNEL_START_TIMEOUT = 60.0
DEFAULT_CELL_TIMEOUT = 600.0
# Error classes whose message is already one plain sentence (csm_nb.errors).
_PLAIN_ERRORS = {"CsmError", "InputError", "NotFoundError", "ConflictError", "RunError"}

T = TypeVar("T")


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


def applies(workbook_id: str, engagement: Engagement) -> bool:
    """Does this workbook have anything to show for the engagement? (no page module: yes)"""
    return not _has_page(workbook_id) or bool(_page_module(workbook_id).applies(engagement))


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


def _workbook_notebook(workbook: Workbook) -> Any:
    """The workbook as a notebook node, read once per process while the file is unchanged."""
    import nbformat

    mtime = workbook.path.stat().st_mtime_ns
    cached = _SOURCE_CACHE.get(workbook.path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, nbformat.read(workbook.path, as_version=4))
        _SOURCE_CACHE[workbook.path] = cached
    return cached[1]


def declared_parameters(workbook: Workbook) -> dict[str, Any]:
    """The names and default values in the workbook's ``parameters`` cell (literals only)."""
    import ast

    for cell in _workbook_notebook(workbook).cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            names: dict[str, Any] = {}
            for node in ast.parse(cell.source).body:
                target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
                if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
                    names[target.id] = ast.literal_eval(node.value)
            return names
    raise RunError(f"workbook {workbook.path} has no cell tagged 'parameters'")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parameter_help(workbook: Workbook, name: str) -> str:
    """The ``# help:`` text of one parameter in the workbook's parameters cell ('' if none)."""
    for cell in _workbook_notebook(workbook).cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            found = re.search(rf"^{re.escape(name)}\s*=.*#\s*help:\s*(.+)$", cell.source, flags=re.MULTILINE)
            return found.group(1).strip() if found else ""
    return ""


def check_parameters(workbook: Workbook, parameters: dict[str, Any]) -> dict[str, Any]:
    """Refuse, naming the parameter and the expected form, a ``-p`` value the workbook cannot take.

    Numbers must be finite (``.nan`` printed "$nan"); a flag is not a number
    (``true`` became a 100 % discount rate) nor a number a flag. A default of
    ``None`` means "a value or nothing": it takes anything but a flag or a
    non-finite number (flags in the workbooks always default to True/False).
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
        if default is None:
            help_text = _parameter_help(workbook, name)
            expected = f"a value or none{f' ({help_text})' if help_text else ''}"
        else:
            hint = " (a number, not true/false)" if _is_number(default) else " (true or false)" if isinstance(default, bool) else ""
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


def fingerprint(engagement: Engagement, workbook: Workbook, parameters: dict[str, Any]) -> str:
    """Identifies what a report was made from: data, notebook, parameters, and the
    code and template that rendered it (so a changed package re-renders)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(engagement_document(engagement), sort_keys=True, default=str).encode())
    digest.update(workbook.path.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(_code_stamp().encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _code_stamp() -> str:
    """A hash of the package's code and data and of the report template (once a process)."""
    digest = hashlib.sha256(__version__.encode())
    files = sorted(config.PACKAGE_DIR.rglob("*.py")) + sorted(config.PACKAGE_DIR.rglob("*.yaml"))
    files += sorted(p for p in config.templates_dir().rglob("*") if p.is_file())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def outputs_for(out_dir: Path, workbook_id: str) -> dict[str, Path]:
    return {suffix: out_dir / f"{workbook_id}{suffix}" for suffix in OUTPUT_SUFFIXES}


def failed_notebook_path(out_dir: Path, workbook_id: str) -> Path:
    """Where the partial notebook of a failed run is kept: ``<out>/<id>/<workbook>.failed.ipynb``."""
    return out_dir / f"{workbook_id}{FAILED_SUFFIX}"


FINGERPRINT_META = "csm-nb-fingerprint"
_FINGERPRINT_TAG = re.compile(rb'<meta name="csm-nb-fingerprint" content="([0-9a-f]+)">')
_HEAD_TAG = re.compile(r"<head[^>]*>", flags=re.IGNORECASE)


def with_fingerprint(page: str, stamp: str) -> str:
    """The report page with its fingerprint in a ``<meta>`` tag at the top of ``<head>``.

    >>> with_fingerprint("<html><head><title>x</title></head></html>", "ab12")
    '<html><head>\\n<meta name="csm-nb-fingerprint" content="ab12"><title>x</title></head></html>'
    """
    tag = f'\n<meta name="{FINGERPRINT_META}" content="{stamp}">'
    found = _HEAD_TAG.search(page)
    return page[: found.end()] + tag + page[found.end():] if found else tag.lstrip() + page


def html_fingerprint(path: Path) -> str | None:
    """The fingerprint a report page was made with (read from its first 64 KB), or None."""
    try:
        with open(path, "rb") as handle:
            found = _FINGERPRINT_TAG.search(handle.read(65536))
    except OSError:
        return None
    return found.group(1).decode() if found else None


def is_current(out_dir: Path, workbook_id: str, stamp: str) -> bool:
    """True when all three outputs exist and were made from the same inputs.

    The html is the completion marker: a run removes it before the first
    rename and renames the new one last, and it carries the fingerprint. So a
    run killed between renames leaves no html (or one with another
    fingerprint) and the next ``report``/``--resume`` renders again.
    """
    paths = outputs_for(out_dir, workbook_id)
    if not all(p.is_file() and not p.is_symlink() for p in paths.values()):
        return False
    try:
        meta = json.loads(paths[".ipynb"].read_text(encoding="utf-8")).get("metadata", {}).get("csm_nb", {})
        json.loads(paths[".json"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("fingerprint") == stamp and html_fingerprint(paths[".html"]) == stamp


@dataclass
class RunResult:
    workbook: str
    engagement_id: str
    outputs: dict[str, Path]
    skipped: bool = False
    results: dict[str, Any] = field(default_factory=dict)
    # Seconds spent in each phase: prepare, kernel_wait, execute, export (empty when skipped).
    timings: dict[str, float] = field(default_factory=dict)


class NotebookFailed(RunError):
    """A cell raised (or the kernel died) while a workbook ran headlessly.

    The message is one line: ``workbook 'cash_flow' failed in cell 4: ...``.
    ``cell`` is the cell's position in the workbook as a person sees it in
    Jupyter (1 = first cell), ``partial`` the kept partial notebook, if any.
    """

    def __init__(self, message: str, *, workbook: str, cell: int | None = None, ename: str = "", evalue: str = "",
                 partial: Path | None = None) -> None:
        super().__init__(message)
        self.workbook, self.cell, self.ename, self.evalue, self.partial = workbook, cell, ename, evalue, partial

    def __reduce__(self) -> Any:  # survives pickling, so a Dask worker can send it back
        return (_rebuild_failure, (str(self), self.workbook, self.cell, self.ename, self.evalue, self.partial))


def _rebuild_failure(message: str, workbook: str, cell: int | None, ename: str, evalue: str, partial: Path | None) -> NotebookFailed:
    return NotebookFailed(message, workbook=workbook, cell=cell, ename=ename, evalue=evalue, partial=partial)


# -- HTML export ----------------------------------------------------------------
_EXPORTER: Any = None
_EXPORTER_LOCK = threading.Lock()


def html_exporter() -> Any:
    """One configured exporter per process (building it parses the templates)."""
    global _EXPORTER
    with _EXPORTER_LOCK:
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
    exporter = html_exporter()
    with _EXPORTER_LOCK:  # one exporter per process; a Dask worker may run tasks in several threads
        body, _ = exporter.from_notebook_node(nb)
    return body


def preload() -> None:
    """Import the notebook machinery and build the exporter now (about 2 s of CPU, once a process).

    Called in a helper thread while the first kernels start, so the two overlap
    and no notebook's timing absorbs it.
    """
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    from papermill.parameterize import parameterize_notebook  # noqa: F401

    html_exporter()


# -- kernels --------------------------------------------------------------------
def warm_up_code(workbook_ids: Iterable[str]) -> str:
    """What a waiting kernel imports before it is handed a notebook (saves that time later).

    >>> warm_up_code(["cash_flow"])
    'import csm_nb.run.kernel\\nimport csm_nb.pages.cash_flow'
    """
    modules = ["csm_nb.run.kernel"] + [f"csm_nb.pages.{w}" for w in workbook_ids if _has_page(w)]
    return "\n".join(f"import {m}" for m in dict.fromkeys(modules))


@dataclass
class Kernel:
    """A started, warmed kernel and its client; used for exactly one notebook."""

    manager: Any
    client: Any
    started_in: float  # seconds from launch to ready (imports included)

    async def shutdown(self) -> None:
        # The kernel is disposable: kill it rather than wait for a polite exit.
        try:
            self.client.stop_channels()
            await self.manager.shutdown_kernel(now=True)
        except Exception:  # already dead: only leftovers to tidy
            await _quietly(self.manager.cleanup_resources())


async def _quietly(awaitable: Any) -> None:
    try:
        result = awaitable
        if asyncio.iscoroutine(result):
            await result
    except Exception:
        pass


_KERNEL_COUNTER = itertools.count(1)


async def start_kernel(*, cwd: Path, socket_dir: Path, warm_up: str = "", kernel_name: str = "python3",
                       timeout: float = KERNEL_START_TIMEOUT) -> Kernel:
    """Launch a kernel on IPC sockets under ``socket_dir``, wait until it answers, run ``warm_up``."""
    from jupyter_client import AsyncKernelManager

    begun = time.perf_counter()
    number = next(_KERNEL_COUNTER)
    manager = AsyncKernelManager(
        kernel_name=kernel_name, transport="ipc",
        # Absolute socket paths: the kernel runs in another directory than we do.
        ip=str(socket_dir / f"k{number}"), connection_file=str(socket_dir / f"k{number}.json"),
    )
    # No IPython history: many kernels writing one history.sqlite would lock each other.
    await manager.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    try:
        client.start_channels()
        await client.wait_for_ready(timeout=timeout)
        if warm_up:
            msg_id = client.execute(warm_up, silent=True, store_history=False)
            while True:
                reply = await client.get_shell_msg(timeout=timeout)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            if reply["content"].get("status") != "ok":
                content = reply["content"]
                raise RunError(f"a kernel could not import the workbooks' modules: {content.get('ename')}: {content.get('evalue')}")
    except BaseException:
        await Kernel(manager, client, 0.0).shutdown()
        raise
    return Kernel(manager, client, time.perf_counter() - begun)


class KernelPool:
    """Fresh kernels started ahead of need; each runs exactly one notebook.

    ``prestart`` kernels are kept ready (launched in parallel, modules
    imported) so a notebook rarely waits for one; ``total`` caps how many are
    ever launched, so none is started that no notebook will use. Use as
    ``async with KernelPool(...) as pool: kernel = await pool.acquire()``, then
    ``pool.release(kernel)`` once the notebook has run.
    """

    def __init__(self, *, total: int, prestart: int = 2, cwd: Path | None = None, warm_up: str = "",
                 kernel_name: str = "python3", start_timeout: float = KERNEL_START_TIMEOUT) -> None:
        self.total, self.prestart = max(0, total), max(1, prestart)
        self.cwd = cwd or config.workbooks_dir()
        self.warm_up, self.kernel_name, self.start_timeout = warm_up, kernel_name, start_timeout
        self.launched = 0
        self.start_times: list[float] = []
        self._ready: asyncio.Queue[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # kernels being started
        self._stopping: set[asyncio.Task[Any]] = set()  # used kernels being killed
        self._socket_dir: Path | None = None

    async def __aenter__(self) -> KernelPool:
        # Imported here, before any kernel starts, so ``preload`` in a helper thread never
        # meets a half-imported jupyter_client.
        import jupyter_client  # noqa: F401

        # The owner's pid in the name, so the next run can tell a killed run's leftovers from a live one's.
        _remove_stale_socket_dirs()
        root = socket_root()
        self._socket_dir = Path(tempfile.mkdtemp(prefix=f"{SOCKET_DIR_PREFIX}{os.getpid()}-", dir=root))
        self._ready = asyncio.Queue()
        for _ in range(min(self.prestart, self.total)):
            self._launch()
        return self

    async def __aexit__(self, *exc: object) -> None:
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        # Used kernels must really be gone before we return (shield: even when cancelled).
        await asyncio.gather(*self._stopping, return_exceptions=True)
        assert self._ready is not None
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, Kernel):
                await item.shutdown()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _launch(self) -> None:
        self.launched += 1
        task = asyncio.ensure_future(self._start_one())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_one(self) -> None:
        assert self._ready is not None and self._socket_dir is not None
        try:
            kernel = await start_kernel(cwd=self.cwd, socket_dir=self._socket_dir, warm_up=self.warm_up,
                                        kernel_name=self.kernel_name, timeout=self.start_timeout)
            self.start_times.append(kernel.started_in)
            await self._ready.put(kernel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to whichever notebook takes this slot
            await self._ready.put(exc)

    async def acquire(self) -> Kernel:
        assert self._ready is not None
        if self._ready.empty() and self.launched < self.total and not any(not t.done() for t in self._tasks):
            self._launch()
        item = await self._ready.get()
        if self.launched < self.total:
            self._launch()  # keep one started ahead for the next notebook
        if isinstance(item, Exception):
            raise RunError(f"a kernel did not start: {_one_line(item)}")
        return item

    def release(self, kernel: Kernel) -> None:
        """Kill a used kernel in the background: nobody waits for it to go."""
        task = asyncio.ensure_future(kernel.shutdown())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# -- running one workbook ---------------------------------------------------------
def _parameterized(workbook: Workbook, parameters: dict[str, Any], kernel_name: str) -> Any:
    """A fresh copy of the workbook with parameters injected as papermill does."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.from_dict(json.loads(json.dumps(_workbook_notebook(workbook))))  # a deep copy
    nb.metadata.setdefault("papermill", {"default_parameters": {}, "parameters": {}, "environment_variables": {}})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return parameterize_notebook(nb, parameters, kernel_name=kernel_name, language="python")


async def execute_in(kernel: Kernel, nb: Any, *, workbook: Workbook, cell_timeout: float = DEFAULT_CELL_TIMEOUT) -> Any:
    """Execute ``nb`` in ``kernel``; a failing cell raises ``NotebookFailed`` (the notebook keeps the partial state)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

    at: dict[str, int] = {}

    def started(cell: Any, cell_index: int, **_: Any) -> None:
        at["index"] = cell_index

    client = NotebookClient(
        nb, km=kernel.manager, kernel_name=kernel.manager.kernel_name, timeout=cell_timeout,
        allow_errors=False, on_cell_start=started, resources={"metadata": {"path": str(workbook.path.parent)}},
    )
    client.kc = kernel.client
    try:
        await client.async_execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as exc:
        raise _failure(workbook, nb, at.get("index"), exc) from None
    return nb


def _failure(workbook: Workbook, nb: Any, index: int | None, exc: BaseException) -> NotebookFailed:
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

    if isinstance(exc, CellExecutionError):
        ename, evalue = exc.ename, exc.evalue
        reason = evalue if ename in _PLAIN_ERRORS else f"{ename}: {evalue}"
    elif isinstance(exc, CellTimeoutError):
        ename, evalue = "CellTimeoutError", "the cell took longer than the time limit"
        reason = evalue
    elif isinstance(exc, DeadKernelError):
        ename, evalue = "DeadKernelError", "the kernel died (out of memory, or the process was killed)"
        reason = evalue
    else:
        ename, evalue = type(exc).__name__, _one_line(exc)
        reason = f"{ename}: {evalue}"
    cell = _workbook_cell_number(nb, index)
    where = f" in cell {cell}" if cell else ""
    hint = _failing_line(nb.cells[index]) if index is not None and index < len(nb.cells) else ""
    message = f"workbook {workbook.id!r} failed{where}{f' ({hint})' if hint else ''}: {' '.join(str(reason).split())}"
    return NotebookFailed(message, workbook=workbook.id, cell=cell, ename=ename, evalue=" ".join(str(evalue).split()))


def _workbook_cell_number(nb: Any, index: int | None) -> int | None:
    """1-based position of cell ``index`` in the workbook as saved (the injected cell does not count)."""
    if index is None:
        return None
    injected = sum(1 for c in nb.cells[:index] if "injected-parameters" in c.metadata.get("tags", []))
    return index - injected + 1


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


def _failing_line(cell: Any, limit: int = 60) -> str:
    r"""The cell's source line the error came from, read off its traceback ('' if unknown).

    >>> cell = {"source": "x = 1\ny = x / 0", "outputs": [{"output_type": "error", "traceback": ["Cell In[4], line 2"]}]}
    >>> _failing_line(cell)
    'y = x / 0'
    """
    lines = str(cell.get("source", "")).splitlines()
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        found = _CELL_LINE.findall(_ANSI.sub("", "\n".join(output.get("traceback", []))))
        if found and 0 < int(found[-1]) <= len(lines):
            line = lines[int(found[-1]) - 1].strip()
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


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


def _remove_stale_work(out_dir: Path, workbook_id: str) -> None:
    """Temporary folders left by a killed run (their process is gone) are removed."""
    for stale in out_dir.glob(f".{workbook_id}.*.tmp"):
        parts = stale.name.split(".")
        pid = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:  # a temporary file of a killed write_bytes_atomic
            stale.unlink(missing_ok=True)


SOCKET_DIR_PREFIX = "csmnb-"


def socket_root() -> Path | None:
    """Where kernel socket folders go: /tmp keeps the socket paths short (under ~100 characters)."""
    return Path("/tmp") if os.path.isdir("/tmp") else None


def _remove_stale_socket_dirs(root: Path | None = None) -> None:
    """Socket folders (``csmnb-<pid>-*``) of runs whose process is gone (killed) are removed."""
    root = root or socket_root() or Path(tempfile.gettempdir())
    for stale in root.glob(f"{SOCKET_DIR_PREFIX}*-*"):
        pid_text = stale.name[len(SOCKET_DIR_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue  # no owner in the name (an older version's) or its owner still runs
        try:
            info = stale.lstat()
        except OSError:
            continue
        if stale.is_dir() and not stale.is_symlink() and info.st_uid == os.geteuid():
            shutil.rmtree(stale, ignore_errors=True)


def _refuse_special_outputs(out_dir: Path, workbook_id: str) -> None:
    """Before any kernel runs: a link, FIFO or folder under an output's name is refused at once."""
    from csm_nb.data.results import check_target

    for path in [*outputs_for(out_dir, workbook_id).values(), failed_notebook_path(out_dir, workbook_id)]:
        check_target(path)


def _remove_leftovers(out_dir: Path, workbook_id: str) -> None:
    """What killed runs left (temporary and socket folders), also when this run has nothing to render."""
    _remove_stale_work(out_dir, workbook_id)
    _remove_stale_socket_dirs()


def _land(staged: Path, final: Path) -> None:
    """Rename one finished output into place (one function, so a test can stop a run between renames)."""
    os.replace(staged, final)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _load_engagement(engagement_id: str, db_file: Path) -> Engagement:
    if not db_file.is_file():
        raise NotFoundError(f"store {db_file} does not exist; import an engagement first (csm-nb import FILE)")
    with Store(db_file) as store:
        return store.load(engagement_id)


async def run_workbook_async(
    workbook_id: str,
    *,
    engagement_id: str,
    kernels: KernelPool,
    out: str | os.PathLike[str] | None = None,
    parameters: dict[str, Any] | None = None,
    db: str | os.PathLike[str] | None = None,
    skip_current: bool = False,
    engagement: Engagement | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    previous_results: Path | None = None,
) -> RunResult:
    """Execute one workbook for one engagement in a kernel from ``kernels`` and write its outputs.

    On failure the partial notebook is kept as ``<workbook>.failed.ipynb``
    and ``NotebookFailed`` is raised; complete outputs from an earlier run
    are left as they were.
    """
    import nbformat

    from csm_nb.data.results import make_dirs, write_text_atomic

    begun = time.perf_counter()
    config.check_engagement_id(engagement_id)
    workbook = get_workbook(workbook_id)
    parameters = check_parameters(workbook, dict(parameters or {}))
    db_file = config.db_path(db).resolve()
    if engagement is None:
        engagement = _load_engagement(engagement_id, db_file)
    out_dir = output_dir_for(engagement_id, out)
    stamp = fingerprint(engagement, workbook, parameters)
    final = outputs_for(out_dir, workbook_id)
    if skip_current and is_current(out_dir, workbook_id, stamp):
        _remove_leftovers(out_dir, workbook_id)
        return RunResult(workbook_id, engagement_id, final, skipped=True, results=_read_json(final[".json"]))

    make_dirs(out_dir)
    _refuse_special_outputs(out_dir, workbook_id)
    _remove_stale_work(out_dir, workbook_id)
    work = Path(tempfile.mkdtemp(prefix=f".{workbook_id}.{os.getpid()}.", suffix=".tmp", dir=out_dir))
    timings: dict[str, float] = {}
    try:
        staged = outputs_for(work, workbook_id)
        injected = {"engagement_id": engagement_id, "db": str(db_file), "results_path": str(staged[".json"])}
        if "previous_results_path" in declared_parameters(workbook):
            # A workbook that reports "what changed since last time" reads its last results
            # (a portfolio may point it at an earlier run's).
            earlier = final[".json"] if final[".json"].is_file() else previous_results
            if earlier is not None and Path(earlier).is_file():
                injected["previous_results_path"] = str(earlier)
        nb = _parameterized(workbook, {**parameters, **injected}, kernels.kernel_name)
        nb.metadata["csm_nb"] = report_metadata(engagement, workbook, stamp)
        timings["prepare"] = time.perf_counter() - begun

        mark = time.perf_counter()
        kernel = await kernels.acquire()
        timings["kernel_wait"] = time.perf_counter() - mark
        mark = time.perf_counter()
        try:
            await execute_in(kernel, nb, workbook=workbook, cell_timeout=cell_timeout)
        except NotebookFailed as failure:
            nb.metadata["csm_nb"]["failure"] = {"cell": failure.cell, "ename": failure.ename, "evalue": failure.evalue}
            failure.partial = write_text_atomic(failed_notebook_path(out_dir, workbook_id), nbformat.writes(nb),
                                                follow_parent=False)
            raise
        finally:
            kernels.release(kernel)
        timings["execute"] = time.perf_counter() - mark

        mark = time.perf_counter()
        if not staged[".json"].is_file():
            raise RunError(f"workbook {workbook_id!r} ran but wrote no results file; it must call save_results(results_path)")
        staged[".ipynb"].write_text(nbformat.writes(nb), encoding="utf-8")
        staged[".html"].write_text(with_fingerprint(export_html(nb), stamp), encoding="utf-8")
        _land_outputs(staged, final)
        failed_notebook_path(out_dir, workbook_id).unlink(missing_ok=True)  # an old failure is fixed now
        timings["export"] = time.perf_counter() - mark
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RunResult(workbook_id, engagement_id, final, results=_read_json(final[".json"]), timings=timings)


def _land_outputs(staged: dict[str, Path], final: dict[str, Path]) -> None:
    """Rename the staged outputs into place: the old html goes first, the new html comes last.

    Until the new html is in place the outputs are incomplete (``is_current``
    is False), so a kill at any rename makes the next run render again.
    """
    from csm_nb.data.results import check_target

    for path in final.values():  # a link, FIFO or folder under a final name is refused, not replaced
        check_target(path)
    moves = [(None, final[".html"])] + [(staged[suffix], final[suffix]) for suffix in OUTPUT_SUFFIXES]
    for source, target in moves:
        try:
            if source is None:
                target.unlink(missing_ok=True)
            else:
                _land(source, target)
        except OSError as exc:
            raise CsmError(f"cannot write {target}: {exc.strerror or exc}") from None


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
    # Check everything a person typed before a kernel is started.
    config.check_engagement_id(engagement_id)
    workbook = get_workbook(workbook_id)
    check_parameters(workbook, dict(parameters or {}))
    engagement = _load_engagement(engagement_id, config.db_path(db).resolve())
    _refuse_special_outputs(output_dir_for(engagement_id, out), workbook_id)

    async def go() -> RunResult:
        if skip_current:
            stamp = fingerprint(engagement, workbook, dict(parameters or {}))
            out_dir = output_dir_for(engagement_id, out)
            if is_current(out_dir, workbook_id, stamp):
                _remove_leftovers(out_dir, workbook_id)
                final = outputs_for(out_dir, workbook_id)
                return RunResult(workbook_id, engagement_id, final, skipped=True, results=_read_json(final[".json"]))
        # The kernel starts while the notebook is being prepared.
        async with KernelPool(total=1, prestart=1, cwd=workbook.path.parent, warm_up=warm_up_code([workbook_id]),
                              kernel_name=kernel_name) as pool:
            await asyncio.to_thread(preload)
            return await run_workbook_async(
                workbook_id, engagement_id=engagement_id, kernels=pool, out=out, parameters=parameters, db=db,
                engagement=engagement,
            )

    return run_coroutine(go)


# -- an event loop of our own ------------------------------------------------------------
class Interrupted(CsmError):
    """The run was stopped by a signal; whatever finished is kept."""

    exit_code = 130


def run_coroutine(factory: Callable[[], Awaitable[T]], *, on_interrupt: Callable[[], Any] | None = None) -> T:
    """Run ``factory()`` to completion on an event loop in a helper thread and return its result.

    Why a thread: it works from inside a notebook (whose loop is already
    running), and nbclient only installs its own signal handlers on the main
    thread, so here Ctrl+C and SIGTERM stay ours. When the calling thread is
    interrupted, the coroutine is cancelled (kernels are killed, temporary
    folders removed) before the interruption is passed on.
    """
    box: dict[str, Any] = {}
    ready, finished = threading.Event(), threading.Event()

    def main() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        try:
            box["task"] = loop.create_task(_as_coroutine(factory))
            ready.set()
            box["result"] = loop.run_until_complete(box["task"])
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                finished.set()

    thread = threading.Thread(target=main, name="csm-nb-runner", daemon=True)
    thread.start()
    try:
        # An Event, not Thread.join: a join interrupted by a signal can later return too early.
        while not finished.wait(0.2):  # short waits keep the caller's thread responsive to signals
            pass
    except BaseException:
        ready.wait()
        if on_interrupt:
            on_interrupt()
        task, loop = box.get("task"), box.get("loop")
        if task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop just finished on its own
                pass
        finished.wait()
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


async def _as_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
