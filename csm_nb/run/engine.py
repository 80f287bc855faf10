"""The engine: running workbooks for one engagement, the one code path of
``csm-nb run``, ``report``, ``demo`` and ``portfolio``.

Everything a person typed (workbook ids, parameters, paths) is resolved and
checked once, at the entry; the engagement is loaded once per engagement;
one rule (``current_result``) says whether a report is up to date; and one
coroutine (``run_jobs``) runs an engagement's workbooks in kernels from a
``KernelPool``. ``run_engagement`` is that for one engagement in a pool of
its own (``run``, ``report``); a portfolio maps ``run_jobs`` over its
engagements in one shared pool, or sends them to Dask.

Outputs of workbook ``cash_flow`` for engagement ``acme`` are
``<out>/acme/cash_flow.{ipynb,html,json}``. They are produced in a private
temporary directory beside them and renamed into place (json, ipynb, then
html last), so a killed run never leaves a half-written report. A notebook
that fails keeps its partial copy as ``<out>/acme/cash_flow.failed.ipynb``
and raises one ``NotebookFailed`` line naming the cell.

Parameters are injected the way papermill does it (a cell tagged
``injected-parameters`` after the ``parameters`` cell), then nbclient executes
the notebook. A workbook that declares ``as_of`` always gets a date: the one
given (``--as-of``, ``-p as_of``), else today's (``effective_parameters``), so
the date is part of the fingerprint and a report made yesterday is not up to
date today. Nothing here changes the working directory; a kernel gets its
own ``cwd`` when it is launched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from csm_nb import __version__, config
from csm_nb.data.engagement import engagement_document
from csm_nb.data.files import output_dir_for
from csm_nb.data.store import Store
from csm_nb.errors import (
    CsmError,
    NotebookFailed,
    NotFoundError,
    RunError,
    plain_error_names,
)
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.run.export import export_html, html_fingerprint, preload, with_fingerprint
from csm_nb.run.kernels import (
    Kernel,
    KernelPool,
    alive,
    one_line,
    remove_stale_socket_dirs,
)
from csm_nb.run.parameters import (
    check_parameters,
    declared_parameters,
    workbook_notebook,
)
from csm_nb.run.registry import Workbook, get_workbook, warm_up_code

OUTPUT_SUFFIXES = (".json", ".ipynb", ".html")  # rename order: html last marks "complete"
# Files a page may write beside its results (the cash flow's spreadsheet); landed with the others, before the html.
EXTRA_SUFFIXES = (".xlsx",)
FAILED_SUFFIX = ".failed.ipynb"
DEFAULT_CELL_TIMEOUT = 600.0

T = TypeVar("T")


def today() -> dt.date:
    """The clock's date: what an empty ``as_of`` means (one function, so a test can move the clock)."""
    return dt.date.today()


def effective_parameters(workbook: Workbook, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters a workbook runs with: as given, and for a workbook that declares ``as_of``
    without one given, today's date (ISO). The fingerprint and the injected cell both use these."""
    if "as_of" in declared_parameters(workbook) and not parameters.get("as_of"):
        return {**parameters, "as_of": today().isoformat()}
    return parameters


def fingerprint(engagement: Engagement, workbook: Workbook, parameters: dict[str, Any]) -> str:
    """Identifies what a report was made from: data, notebook, parameters (with the ``as_of`` date it is
    judged at, today's when none was given), and the code and template that rendered it (so a changed
    package re-renders)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(engagement_document(engagement), sort_keys=True, default=str).encode())
    digest.update(workbook.path.read_bytes())
    digest.update(json.dumps(effective_parameters(workbook, parameters), sort_keys=True, default=str).encode())
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


# -- running one workbook ---------------------------------------------------------
def _parameterized(workbook: Workbook, parameters: dict[str, Any], kernel_name: str) -> Any:
    """A fresh copy of the workbook with parameters injected as papermill does."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.from_dict(json.loads(json.dumps(workbook_notebook(workbook))))  # a deep copy
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
        nb,
        km=kernel.manager,
        kernel_name=kernel.manager.kernel_name,
        timeout=cell_timeout,
        allow_errors=False,
        on_cell_start=started,
        resources={"metadata": {"path": str(workbook.path.parent)}},
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
        reason = evalue if ename in plain_error_names() else f"{ename}: {evalue}"
    elif isinstance(exc, CellTimeoutError):
        ename, evalue = "CellTimeoutError", "the cell took longer than the time limit"
        reason = evalue
    elif isinstance(exc, DeadKernelError):
        ename, evalue = "DeadKernelError", "the kernel died (out of memory, or the process was killed)"
        reason = evalue
    else:
        ename, evalue = type(exc).__name__, one_line(exc)
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


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _remove_stale_work(out_dir: Path, workbook_id: str) -> None:
    """Temporary folders left by a killed run (their process is gone) are removed."""
    for stale in out_dir.glob(f".{workbook_id}.*.tmp"):
        parts = stale.name.split(".")
        pid = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
        if pid is not None and pid != os.getpid() and alive(pid):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:  # a temporary file of a killed write_bytes_atomic
            stale.unlink(missing_ok=True)


def _refuse_special_outputs(out_dir: Path, workbook_id: str) -> None:
    """Before any kernel runs: a link, FIFO or folder under an output's name is refused at once."""
    from csm_nb.data.results import check_target

    for path in [*outputs_for(out_dir, workbook_id).values(), failed_notebook_path(out_dir, workbook_id)]:
        check_target(path)


def _remove_leftovers(out_dir: Path, workbook_id: str) -> None:
    """What killed runs left (temporary and socket folders), also when this run has nothing to render."""
    _remove_stale_work(out_dir, workbook_id)
    remove_stale_socket_dirs()


def _land(staged: Path, final: Path) -> None:
    """Rename one finished output into place (one function, so a test can stop a run between renames)."""
    os.replace(staged, final)


def _land_outputs(staged: dict[str, Path], final: dict[str, Path]) -> None:
    """Rename the staged outputs into place: the old html goes first, the new html comes last.

    Until the new html is in place the outputs are incomplete (``is_current``
    is False), so a kill at any rename makes the next run render again.
    """
    from csm_nb.data.results import check_target

    for path in final.values():  # a link, FIFO or folder under a final name is refused, not replaced
        check_target(path)
    extras = [(staged[".json"].with_suffix(x), final[".json"].with_suffix(x)) for x in EXTRA_SUFFIXES]
    extras = [(source, target) for source, target in extras if source.is_file()]
    for _, target in extras:
        check_target(target)
    moves = [(None, final[".html"]), *extras] + [(staged[suffix], final[suffix]) for suffix in OUTPUT_SUFFIXES]
    for source, target in moves:
        try:
            if source is None:
                target.unlink(missing_ok=True)
            else:
                _land(source, target)
        except OSError as exc:
            raise CsmError(f"cannot write {target}: {exc.strerror or exc}") from None


# -- the engine ----------------------------------------------------------------------------
def load_engagement(engagement_id: str, db_file: Path) -> Engagement:
    """The engagement from the store (once per engagement per run); a missing store is named."""
    if not db_file.is_file():
        raise NotFoundError(f"store {db_file} does not exist; import an engagement first (csm-nb import FILE)")
    with Store(db_file) as store:
        return store.load(engagement_id)


@dataclass(frozen=True)
class Job:
    """One workbook to run for an engagement, already checked: its parameters and, for
    "what changed since last time", an earlier run's results file to compare with."""

    workbook: Workbook
    parameters: dict[str, Any] = field(default_factory=dict)
    previous_results: Path | None = None


@dataclass
class JobOutcome:
    """What became of one job: its result, or the error that stopped it (never both)."""

    workbook: str
    result: RunResult | None = None
    error: BaseException | None = None
    duration_s: float = 0.0


def current_result(engagement: Engagement, job: Job, out_dir: Path) -> RunResult | None:
    """The one skip-if-current rule: the outputs already there when they are complete and were made
    from this engagement's data, this notebook and these parameters (else None: run it)."""
    stamp = fingerprint(engagement, job.workbook, job.parameters)
    if not is_current(out_dir, job.workbook.id, stamp):
        return None
    _remove_leftovers(out_dir, job.workbook.id)
    final = outputs_for(out_dir, job.workbook.id)
    return RunResult(job.workbook.id, engagement.id, final, skipped=True, results=read_json(final[".json"]))


async def run_job(
    engagement: Engagement,
    job: Job,
    *,
    kernels: KernelPool,
    out_dir: Path,
    db_file: Path,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
) -> RunResult:
    """Execute one checked job in a kernel from ``kernels`` and land its three outputs.

    On failure the partial notebook is kept as ``<workbook>.failed.ipynb``
    and ``NotebookFailed`` is raised; complete outputs from an earlier run
    are left as they were.
    """
    import nbformat

    from csm_nb.data.results import make_dirs, write_text_atomic

    begun = time.perf_counter()
    workbook, workbook_id = job.workbook, job.workbook.id
    parameters = effective_parameters(workbook, job.parameters)  # the date fixed once, for the stamp and the run
    stamp = fingerprint(engagement, workbook, parameters)
    final = outputs_for(out_dir, workbook_id)
    make_dirs(out_dir)
    _refuse_special_outputs(out_dir, workbook_id)
    _remove_stale_work(out_dir, workbook_id)
    work = Path(tempfile.mkdtemp(prefix=f".{workbook_id}.{os.getpid()}.", suffix=".tmp", dir=out_dir))
    timings: dict[str, float] = {}
    try:
        staged = outputs_for(work, workbook_id)
        injected = {"engagement_id": engagement.id, "db": str(db_file), "results_path": str(staged[".json"])}
        if "previous_results_path" in declared_parameters(workbook):
            # A workbook that reports "what changed since last time" reads its last results
            # (a portfolio may point it at an earlier run's).
            earlier = final[".json"] if final[".json"].is_file() else job.previous_results
            if earlier is not None and Path(earlier).is_file():
                injected["previous_results_path"] = str(earlier)
        nb = _parameterized(workbook, {**parameters, **injected}, kernels.kernel_name)
        # The run's own bookkeeping; the report's header comes from the notebook as it runs (csm_nb.render.header).
        nb.metadata["csm_nb"] = {"fingerprint": stamp}
        timings["prepare"] = time.perf_counter() - begun

        mark = time.perf_counter()
        kernel = await kernels.acquire()
        timings["kernel_wait"] = time.perf_counter() - mark
        mark = time.perf_counter()
        try:
            await execute_in(kernel, nb, workbook=workbook, cell_timeout=cell_timeout)
        except NotebookFailed as failure:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The run is being stopped and its kernels with it: that is no failure of the notebook's
                # (nbclient can turn the cancellation into "kernel died"), so no partial notebook is left.
                raise asyncio.CancelledError from None
            nb.metadata["csm_nb"]["failure"] = {"cell": failure.cell, "ename": failure.ename, "evalue": failure.evalue}
            failure.partial = write_text_atomic(
                failed_notebook_path(out_dir, workbook_id), nbformat.writes(nb), follow_parent=False
            )
            raise
        finally:
            kernels.release(kernel)
        timings["execute"] = time.perf_counter() - mark

        mark = time.perf_counter()
        if not staged[".json"].is_file():
            raise RunError(f"workbook {workbook_id!r} ran but wrote no results file; it must call save_results(results_path)")
        staged[".ipynb"].write_text(nbformat.writes(nb), encoding="utf-8")
        # In a child of the fork server when there is one: exports then run on every core, not in this process.
        if not await kernels.export(staged[".ipynb"], staged[".html"], stamp, timeout=cell_timeout):
            staged[".html"].write_text(with_fingerprint(export_html(nb), stamp), encoding="utf-8")
        _land_outputs(staged, final)
        failed_notebook_path(out_dir, workbook_id).unlink(missing_ok=True)  # an old failure is fixed now
        timings["export"] = time.perf_counter() - mark
    finally:
        shutil.rmtree(work, ignore_errors=True)
    written = dict(final)
    for extra in EXTRA_SUFFIXES:
        if final[".json"].with_suffix(extra).is_file():
            written[extra] = final[".json"].with_suffix(extra)
    return RunResult(workbook_id, engagement.id, written, results=read_json(final[".json"]), timings=timings)


async def run_jobs(
    engagement: Engagement,
    jobs: Sequence[Job],
    *,
    kernels: KernelPool,
    slots: asyncio.Semaphore,
    out_dir: Path,
    db_file: Path,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
) -> list[JobOutcome]:
    """Run an engagement's jobs (each in its own kernel, ``slots`` at a time); one failing never stops the others.

    The outcomes come back in the jobs' order. Jobs that are up to date are
    the caller's to leave out (``current_result``), so this always renders.
    """

    async def one(job: Job) -> JobOutcome:
        async with slots:
            mark = time.perf_counter()
            try:
                result = await run_job(
                    engagement, job, kernels=kernels, out_dir=out_dir, db_file=db_file, cell_timeout=cell_timeout
                )
            except Exception as exc:  # a user's error, or a bug or broken machine: still only this workbook fails
                return JobOutcome(job.workbook.id, error=exc, duration_s=time.perf_counter() - mark)
            return JobOutcome(job.workbook.id, result=result, duration_s=time.perf_counter() - mark)

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def prepare(
    engagement_id: str,
    workbook_ids: Sequence[str],
    *,
    parameters: dict[str, dict[str, Any]] | None = None,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    engagement: Engagement | None = None,
    as_of: str | dt.date | None = None,
) -> tuple[Engagement, list[Job], Path, Path]:
    """Everything checked before a kernel starts: the id, the workbooks, their parameters, the
    store, the output folder and the names in it. Returns the engagement (loaded once), the jobs,
    the store's path and the output folder. A caller that has just loaded the engagement passes it.
    ``as_of`` (``--as-of``) goes to every workbook that declares it and was not given its own."""
    config.check_engagement_id(engagement_id)
    if as_of is not None and as_of != "":
        as_of = parse_as_of(as_of, name="--as-of")  # refused here, also when no workbook takes it
    parameters = parameters or {}
    jobs = []
    for wid in workbook_ids:
        workbook = get_workbook(wid)
        given = with_as_of(workbook, dict(parameters.get(wid) or {}), as_of)
        jobs.append(Job(workbook, check_parameters(workbook, given)))
    db_file = config.db_path(db).resolve()
    if engagement is None:
        engagement = load_engagement(engagement_id, db_file)
    out_dir = output_dir_for(engagement_id, out)
    for job in jobs:
        _refuse_special_outputs(out_dir, job.workbook.id)
    return engagement, jobs, db_file, out_dir


def with_as_of(workbook: Workbook, parameters: dict[str, Any], as_of: str | dt.date | None) -> dict[str, Any]:
    """``parameters`` with ``as_of`` (a run's ``--as-of``, checked: one line naming it) for a workbook
    that declares it and was not given one with ``-p``; unchanged without ``as_of``."""
    if as_of is None or as_of == "" or "as_of" not in declared_parameters(workbook) or parameters.get("as_of"):
        return parameters
    return {**parameters, "as_of": parse_as_of(as_of, name="--as-of").isoformat()}


def run_engagement(
    engagement_id: str,
    workbook_ids: Sequence[str],
    *,
    parameters: dict[str, dict[str, Any]] | None = None,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    skip_current: bool = False,
    kernel_name: str = "python3",
    workers: int | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    engagement: Engagement | None = None,
    as_of: str | dt.date | None = None,
) -> list[RunResult]:
    """Run workbooks for one engagement in a kernel pool of its own and return their results, in order.

    ``parameters`` maps a workbook id to its ``-p`` values; ``as_of`` is the
    date every report is judged at (None: today). With ``skip_current`` an
    up-to-date report is not rendered again. The first failure (in the
    workbooks' order) is raised once the others have finished.
    """
    from csm_nb.run import forkserver

    # The kernels' server starts first and imports while the ids, parameters and store are checked here;
    # the pool takes it over, and it is stopped however this ends (stopping twice is harmless).
    server = forkserver.ForkServer.start(warm_up_code(list(workbook_ids))) if forkserver.used_for(kernel_name) else None
    try:
        engagement, jobs, db_file, out_dir = prepare(
            engagement_id, workbook_ids, parameters=parameters, db=db, out=out, engagement=engagement, as_of=as_of
        )
        done: dict[str, RunResult] = {}
        if skip_current:
            for job in jobs:
                found = current_result(engagement, job, out_dir)
                if found is not None:
                    done[job.workbook.id] = found
        to_run = [job for job in jobs if job.workbook.id not in done]
        if to_run:
            workers = workers or os.cpu_count() or 1

            async def go() -> list[JobOutcome]:
                # The kernels start while the notebooks are being prepared.
                async with KernelPool(
                    total=len(to_run),
                    prestart=min(workers, len(to_run)),
                    cwd=to_run[0].workbook.path.parent,
                    warm_up=warm_up_code([j.workbook.id for j in to_run]),
                    kernel_name=kernel_name,
                    server=server,
                ) as pool:
                    await asyncio.to_thread(preload)
                    return await run_jobs(
                        engagement,
                        to_run,
                        kernels=pool,
                        slots=asyncio.Semaphore(workers),
                        out_dir=out_dir,
                        db_file=db_file,
                        cell_timeout=cell_timeout,
                    )

            outcomes = run_coroutine(go)
            failed = next((o.error for o in outcomes if o.error is not None), None)
            if failed is not None:
                raise failed
            done.update({o.workbook: o.result for o in outcomes if o.result is not None})
        return [done[job.workbook.id] for job in jobs]
    finally:
        if server is not None:
            server.stop()


def run_workbook(
    workbook_id: str,
    *,
    engagement_id: str,
    out: str | os.PathLike[str] | None = None,
    parameters: dict[str, Any] | None = None,
    db: str | os.PathLike[str] | None = None,
    skip_current: bool = False,
    kernel_name: str = "python3",
    as_of: str | dt.date | None = None,
) -> RunResult:
    """Execute one workbook for one engagement and write its three outputs (``csm-nb run``)."""
    return run_engagement(
        engagement_id,
        [workbook_id],
        parameters={workbook_id: dict(parameters or {})},
        db=db,
        out=out,
        skip_current=skip_current,
        kernel_name=kernel_name,
        as_of=as_of,
    )[0]


async def run_workbook_async(
    workbook_id: str,
    *,
    engagement_id: str,
    kernels: KernelPool,
    out: str | os.PathLike[str] | None = None,
    parameters: dict[str, Any] | None = None,
    db: str | os.PathLike[str] | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
) -> RunResult:
    """One workbook in a kernel from a pool the caller holds (checked and loaded here, then ``run_job``)."""
    engagement, jobs, db_file, out_dir = prepare(
        engagement_id, [workbook_id], parameters={workbook_id: parameters or {}}, db=db, out=out
    )
    return await run_job(engagement, jobs[0], kernels=kernels, out_dir=out_dir, db_file=db_file, cell_timeout=cell_timeout)


# -- an event loop of our own ------------------------------------------------------------
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
                _cancel_leftovers(loop)
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


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and wait for the tasks still pending (nbclient's kernel pollers after an interrupt), as
    ``asyncio.run`` does; else closing the loop prints "Task was destroyed but it is pending!" to a user."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


async def _as_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
