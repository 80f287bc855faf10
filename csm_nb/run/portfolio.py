"""Portfolio runs: every engagement's report in one command.

``run_portfolio`` renders the chosen workbooks (default: the value report)
for every engagement in the store, or those matching ids, tags or a CSM's
name, into ``<runs>/<label>/<engagement-id>/<workbook>.{ipynb,html,json}``,
then writes ``<runs>/<label>/summary.json`` and ``summary.csv``
(machine-readable; ``summary_frame`` is the same table as a DataFrame) and
``<runs>/<label>/index.html`` (a page linking every report with its status
and headline figures, each read from the report's page through the page
contract, ``csm_nb.pages.base.Page.index_headline``).

It is the engine's path (``csm_nb.run.engine.run_jobs``) mapped over the
engagements: the same code ``csm-nb report`` runs for one.

* Isolation: every notebook runs in its own fresh kernel. A notebook that
  fails is reported with the cell that failed, its partial notebook kept as
  ``<workbook>.failed.ipynb``; the other engagements complete.
* Nothing half-written: each output is written under a temporary name and
  renamed; ``resume=True`` skips workbooks whose outputs are complete and
  were made from the current data, notebook and parameters.
* As of one date: every report is judged at ``as_of`` (``--as-of``), by
  default the ``--label`` when it is a date (``2026-11-30``), else today;
  it is part of each report's fingerprint, so ``resume`` re-renders a report
  judged at another date. Internal reports are marked in the index.
* Local by default: notebooks run ``workers`` at a time in kernels started
  ahead of need (see ``csm_nb.run.kernels.KernelPool``). With ``scheduler`` the
  same work goes, one task an engagement, to an existing Dask distributed
  cluster whose workers see the same store and output folder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import stat
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csm_nb import __version__, config
from csm_nb.data.store import EngagementSummary, Store
from csm_nb.errors import (
    ConflictError,
    CsmError,
    InputError,
    Interrupted,
    NotebookFailed,
    NotFoundError,
    UsageError,
)
from csm_nb.model import Engagement
from csm_nb.render.index import Headline
from csm_nb.run import engine
from csm_nb.run.export import preload
from csm_nb.run.kernels import KernelPool, one_line
from csm_nb.run.parameters import (
    RESERVED_PARAMETERS,
    check_parameters,
    declared_parameters,
)
from csm_nb.run.registry import (
    applicable_workbooks,
    applies,
    get_workbook,
    report_audience,
    warm_up_code,
    workbooks,
)

__all__ = ["Interrupted", "UsageError", "run_portfolio"]  # the errors live in csm_nb.errors; named here for callers

DEFAULT_WORKBOOK = "value_report"
SUMMARY_SCHEMA = "csm-nb/portfolio-summary@1"
EXIT_OK, EXIT_PARTIAL = 0, 3
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Statuses of one engagement, and what each means on the index page.
STATUS_TEXT = {
    "ok": "rendered",
    "up_to_date": "up to date",
    "failed": "failed",
    "nothing_to_report": "nothing to report",
    "not_run": "not run (interrupted)",
}


# -- choosing what to run -----------------------------------------------------------
def select_engagements(
    summaries: Sequence[EngagementSummary], *, ids: Sequence[str] = (), tags: Sequence[str] = (), csm: str | None = None
) -> list[EngagementSummary]:
    """The engagements a run covers: all, or those matching every filter given.

    ``ids`` and ``tags`` match any of their values; ``csm`` matches the CSM's
    name ignoring case and surrounding spaces. An id that is not in the store
    is an error (a typo should not silently shrink the run).

    >>> rows = [EngagementSummary("a", "A", "Jo Park", ["emea"], 1, "", ""),
    ...         EngagementSummary("b", "B", "Sam Lee", ["emea", "tier-1"], 1, "", ""),
    ...         EngagementSummary("c", "C", "sam lee ", [], 1, "", "")]
    >>> [e.id for e in select_engagements(rows, tags=["emea"])], [e.id for e in select_engagements(rows, csm="Sam Lee")]
    (['a', 'b'], ['b', 'c'])
    >>> [e.id for e in select_engagements(rows, ids=["c", "a"], tags=["emea"])]
    ['a']
    """
    known = {e.id for e in summaries}
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFoundError(f"no engagement {', '.join(map(repr, missing))} in the store; see: csm-nb list")
    wanted_tags = {t.strip().lower() for t in tags}
    wanted_csm = csm.strip().lower() if csm else None
    chosen = []
    for e in summaries:
        if ids and e.id not in ids:
            continue
        if wanted_tags and not wanted_tags & {t.strip().lower() for t in e.tags or []}:
            continue
        if wanted_csm is not None and (e.csm or "").strip().lower() != wanted_csm:
            continue
        chosen.append(e)
    return chosen


def default_label(today: dt.date | None = None) -> str:
    """The run folder's name when none is given: the date, e.g. ``2026-03-31``."""
    return (today or dt.date.today()).isoformat()


def portfolio_as_of(as_of: str | dt.date | None, label: str) -> dt.date:
    """The date a portfolio run judges every report at: ``--as-of``, else the label when it is a date,
    else today.

    >>> portfolio_as_of(None, "2026-11-30"), portfolio_as_of("2026-10-31", "2026-11-30")
    (datetime.date(2026, 11, 30), datetime.date(2026, 10, 31))
    >>> portfolio_as_of(None, "month-end") == engine.today()
    True
    """
    from csm_nb.method.dates import parse_as_of

    if as_of is not None and as_of != "":
        return parse_as_of(as_of, name="--as-of")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", label):
        try:
            return dt.date.fromisoformat(label)
        except ValueError:  # 2026-02-30: a label, not a date
            pass
    return engine.today()


def check_label(label: str) -> str:
    """A run label becomes a folder name under ``runs/``: letters, digits, ``.``, ``_``, ``-``.

    >>> check_label("2026-03")
    '2026-03'
    """
    if not LABEL_PATTERN.fullmatch(label or "") or ".." in label:
        raise UsageError(f"--label {label!r} is not valid: use 1-64 letters, digits, '.', '_' or '-' (e.g. 2026-03)")
    return label


_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
_PORT = r"(?P<port>[0-9]{1,5})"
SCHEDULER_PATTERNS = (
    re.compile(rf"(?:tcp|tls|ucx|ws|wss)://{_HOST}(?::{_PORT})?/?"),
    re.compile(r"inproc://[^\s]+"),
    re.compile(rf"{_HOST}:{_PORT}"),
)


def check_scheduler(address: str) -> str:
    """A Dask scheduler address, checked before any connection is tried (a typo should not wait 40 s).

    >>> check_scheduler("tcp://10.0.0.5:8786"), check_scheduler("sched.example.com:8786")
    ('tcp://10.0.0.5:8786', 'sched.example.com:8786')
    """
    text = (address or "").strip()
    found = next((m for m in (p.fullmatch(text) for p in SCHEDULER_PATTERNS) if m), None)
    port = found.groupdict().get("port") if found else None
    if found is None or (port is not None and not 0 < int(port) < 65536):
        raise InputError(  # a bad value, like any other: exit 1
            f"--scheduler {address!r} is not a Dask scheduler address: use tcp://host:port (or tls://, ucx://, "
            "ws://, wss://, inproc://) or host:port, e.g. tcp://10.0.0.5:8786"
        )
    return text


def chosen_workbooks(requested: Sequence[str] | None) -> list[str] | None:
    """The workbook ids to run, checked; ``None`` means the default.

    The default is the value report when it exists, else every workbook that
    applies to each engagement.
    """
    known = workbooks()
    if requested:
        unknown = [w for w in requested if w not in known]
        if unknown:
            raise UsageError(f"--workbooks: no workbook {', '.join(map(repr, unknown))}; available: {', '.join(known) or 'none'}")
        return list(dict.fromkeys(requested))
    return [DEFAULT_WORKBOOK] if DEFAULT_WORKBOOK in known else None


def split_parameters(parameters: dict[str, Any], workbook_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``-p`` values for each workbook that declares them; a name no workbook has is an error."""
    per: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for wid in workbook_ids:
        workbook = get_workbook(wid)
        declared = declared_parameters(workbook)
        mine = {k: v for k, v in parameters.items() if k in declared}
        per[wid] = check_parameters(workbook, mine)
        used |= set(mine)
    for name in parameters:
        if name in RESERVED_PARAMETERS:
            raise UsageError(f"parameter {name!r} is set by csm-nb itself")
        if name not in used:
            raise UsageError(f"-p {name}: none of the workbooks run here ({', '.join(per)}) has that parameter")
    return per


# -- what happened --------------------------------------------------------------------
@dataclass
class WorkbookOutcome:
    workbook: str
    status: str  # ok | up_to_date | failed | not_applicable
    duration_s: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)  # html, ipynb, json: paths relative to the run folder
    error: str | None = None
    failed_cell: int | None = None
    partial_notebook: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)  # the headline's figures (see Headline)
    headline: dict[str, Any] = field(default_factory=dict)  # Headline.as_json(): verdict, tone, words, summary, figures
    audience: str = "customer"  # who may read the report: customer | internal (csm_nb.run.registry.report_audience)


@dataclass
class EngagementOutcome:
    engagement_id: str
    customer: str
    csm: str | None
    currency: str
    status: str  # a key of STATUS_TEXT
    duration_s: float = 0.0
    workbooks: list[WorkbookOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def rendered(self) -> int:
        return sum(1 for w in self.workbooks if w.status == "ok")

    def figures(self) -> dict[str, Any]:
        """The engagement's figures that come from one report each (the plan's phase, the health score, the
        renewal countdown), gathered from its reports (:data:`ENGAGEMENT_FIGURES`); a figure no report gave is
        left out."""
        found: dict[str, Any] = {}
        for w in self.workbooks:
            found.update({k: v for k, v in w.figures.items() if k in ENGAGEMENT_FIGURES and v is not None})
        return found

    def verdicts(self) -> dict[str, Any]:
        """The engagement's overall and money verdicts (keys and words), from whichever of its reports ran:
        each results file carries the same ``verdicts`` (csm_nb.method.verdicts), so the choice does not matter."""
        from csm_nb.vocabulary import MONEY_VERDICTS, OVERALL_VERDICTS

        figures = next((w.figures for w in self.workbooks if w.figures.get("verdict")), {})
        overall, money = figures.get("verdict"), figures.get("money")
        return {
            "overall": overall,
            "overall_words": OVERALL_VERDICTS[overall].words if overall in OVERALL_VERDICTS else None,
            "money": money,
            "money_words": MONEY_VERDICTS[money].words if money in MONEY_VERDICTS else None,
        }


def engagement_status(outcomes: Sequence[WorkbookOutcome]) -> str:
    """One status for an engagement from its workbooks' statuses.

    >>> engagement_status([WorkbookOutcome("a", "ok"), WorkbookOutcome("b", "up_to_date")])
    'ok'
    >>> engagement_status([WorkbookOutcome("a", "up_to_date")]), engagement_status([WorkbookOutcome("a", "not_applicable")])
    ('up_to_date', 'nothing_to_report')
    >>> engagement_status([WorkbookOutcome("a", "ok"), WorkbookOutcome("b", "failed")])
    'failed'
    """
    statuses = {w.status for w in outcomes}
    if "failed" in statuses:
        return "failed"
    if "ok" in statuses:
        return "ok"
    if "up_to_date" in statuses:
        return "up_to_date"
    return "nothing_to_report"


def headline_for(workbook_id: str, results: dict[str, Any], *, currency: str = "USD") -> Headline:
    """What the index shows for one report, as its page says (``Page.index_headline``); none without a page."""
    try:
        page = get_workbook(workbook_id).page
    except CsmError:  # a workbook no longer in the folder: its row still shows, without figures
        page = None
    return page.index_headline(results, currency=currency) if page is not None else Headline()


# -- one engagement ---------------------------------------------------------------------
@dataclass
class EngagementTask:
    """Everything needed to render one engagement (plain data: it travels to Dask workers)."""

    engagement_id: str
    customer: str
    csm: str | None
    currency: str
    db: str
    run_dir: str
    to_run: list[str]
    up_to_date: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    cell_timeout: float = engine.DEFAULT_CELL_TIMEOUT
    # The last results of each workbook from an earlier run, for "what changed since last time".
    previous: dict[str, str] = field(default_factory=dict)
    # The engagement as planned (loaded once); a Dask worker gets it with the task.
    engagement: Engagement | None = None


def plan_tasks(
    summaries: Sequence[EngagementSummary],
    *,
    db: Path,
    run_dir: Path,
    requested: list[str] | None,
    parameters: dict[str, Any],
    resume: bool,
    cell_timeout: float,
    as_of: str | None = None,
) -> list[EngagementTask]:
    """Decide, per engagement, which workbooks run, which are up to date and which do not apply.
    ``as_of`` (ISO) goes to every workbook that declares it, unless ``-p as_of`` gave one."""
    all_ids = requested if requested is not None else list(workbooks())
    per_workbook = split_parameters(parameters, all_ids) if parameters else {w: {} for w in all_ids}
    per_workbook = {w: engine.with_as_of(get_workbook(w), given, as_of) for w, given in per_workbook.items()}
    tasks = []
    with Store(db) as store:
        for summary in summaries:
            engagement = store.load(summary.id)
            if requested is not None:
                candidates = [w for w in requested if applies(get_workbook(w), engagement)]
                not_applicable = [w for w in requested if w not in candidates]
            else:
                candidates, not_applicable = applicable_workbooks(engagement), []
            task = EngagementTask(
                engagement.id,
                engagement.customer,
                engagement.csm,
                engagement.currency_code,
                str(db),
                str(run_dir),
                to_run=[],
                not_applicable=not_applicable,
                parameters={w: per_workbook.get(w, {}) for w in candidates},
                cell_timeout=cell_timeout,
                engagement=engagement,
            )
            for wid in candidates:
                job = engine.Job(get_workbook(wid), task.parameters[wid])
                if resume and engine.current_result(engagement, job, run_dir / engagement.id) is not None:
                    task.up_to_date.append(wid)
                else:
                    task.to_run.append(wid)
                    earlier = previous_results(run_dir, engagement.id, wid)
                    if earlier:
                        task.previous[wid] = str(earlier)
            tasks.append(task)
    return tasks


def previous_results(run_dir: Path, engagement_id: str, workbook_id: str) -> Path | None:
    """The newest results file of this workbook for this engagement from an earlier run under the same runs folder.

    A run folder that already holds one (a re-run of the same label) uses its
    own; otherwise the latest other run's wins, so a monthly run compares
    with last month's.
    """
    own = run_dir / engagement_id / f"{workbook_id}.json"
    if own.is_file():
        return own
    found = [p for p in run_dir.parent.glob(f"*/{engagement_id}/{workbook_id}.json") if p.parent.parent != run_dir]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


async def render_engagement(task: EngagementTask, kernels: KernelPool, slots: asyncio.Semaphore) -> EngagementOutcome:
    """Run the task's workbooks through the engine (each in its own kernel) and report; never raises for a failing notebook."""
    run_dir = Path(task.run_dir)
    out_dir = run_dir / task.engagement_id
    try:
        engagement = task.engagement or engine.load_engagement(task.engagement_id, Path(task.db))
    except CsmError as exc:  # gone from the store since the plan: only this engagement fails
        outcomes = [WorkbookOutcome(w, "failed", error=str(exc)) for w in task.to_run]
    else:
        jobs = [
            engine.Job(get_workbook(w), task.parameters.get(w, {}), Path(task.previous[w]) if w in task.previous else None)
            for w in task.to_run
        ]
        done = await engine.run_jobs(
            engagement, jobs, kernels=kernels, slots=slots, out_dir=out_dir, db_file=Path(task.db), cell_timeout=task.cell_timeout
        )
        outcomes = [_workbook_outcome(o, run_dir, task.currency) for o in done]
    for wid in task.up_to_date:
        paths = engine.outputs_for(out_dir, wid)
        outcomes.append(
            _with_headline(
                WorkbookOutcome(wid, "up_to_date", outputs=_relative_outputs(paths, run_dir)),
                engine.read_json(paths[".json"]),
                task.currency,
            )
        )
    outcomes += [WorkbookOutcome(w, "not_applicable") for w in task.not_applicable]
    order = {w: i for i, w in enumerate(task.to_run + task.up_to_date + task.not_applicable)}
    outcomes.sort(key=lambda o: order.get(o.workbook, 0))
    status = engagement_status(outcomes)
    error = next((o.error for o in outcomes if o.error), None)
    # Time spent on this engagement's notebooks (not the time it queued behind others).
    spent = sum(o.duration_s for o in outcomes)
    return EngagementOutcome(task.engagement_id, task.customer, task.csm, task.currency, status, round(spent, 3), outcomes, error)


def _workbook_outcome(done: engine.JobOutcome, run_dir: Path, currency: str) -> WorkbookOutcome:
    """The engine's outcome of one workbook as the summary records it."""
    exc = done.error
    if isinstance(exc, NotebookFailed):
        partial = _relative(exc.partial, run_dir) if exc.partial else None
        return WorkbookOutcome(
            done.workbook, "failed", done.duration_s, error=str(exc), failed_cell=exc.cell, partial_notebook=partial
        )
    if isinstance(exc, CsmError):
        return WorkbookOutcome(done.workbook, "failed", done.duration_s, error=str(exc))
    if exc is not None:  # a bug or a broken machine: still only this engagement fails
        return WorkbookOutcome(done.workbook, "failed", done.duration_s, error=f"{type(exc).__name__}: {one_line(exc)}")
    assert done.result is not None
    outcome = WorkbookOutcome(
        done.workbook,
        "ok",
        done.duration_s,
        outputs=_relative_outputs(done.result.outputs, run_dir),
        timings={k: round(v, 3) for k, v in done.result.timings.items()},
    )
    return _with_headline(outcome, done.result.results, currency)


def _with_headline(outcome: WorkbookOutcome, results: dict[str, Any], currency: str) -> WorkbookOutcome:
    headline = headline_for(outcome.workbook, results, currency=currency)
    outcome.figures, outcome.headline = dict(headline.figures), headline.as_json()
    try:
        page = get_workbook(outcome.workbook).page
    except CsmError:  # a workbook no longer in the folder
        page = None
    outcome.audience = report_audience(page, results)
    return outcome


def _relative_outputs(paths: dict[str, Path], run_dir: Path) -> dict[str, str]:
    return {s.lstrip("."): _relative(p, run_dir) for s, p in paths.items()}


def _relative(path: Path | str, run_dir: Path) -> str:
    try:
        return Path(path).resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def render_engagement_task(task: EngagementTask) -> EngagementOutcome:
    """One engagement, start to finish, in this process: the unit of work sent to a Dask worker."""

    async def go() -> EngagementOutcome:
        async with KernelPool(
            total=len(task.to_run), prestart=max(1, len(task.to_run)), warm_up=warm_up_code(task.to_run)
        ) as pool:
            await asyncio.to_thread(preload)
            return await render_engagement(task, pool, asyncio.Semaphore(max(1, len(task.to_run))))

    return engine.run_coroutine(go)


# -- progress -------------------------------------------------------------------------------
class Progress:
    """Silent progress (``--quiet``); the base of the two that speak."""

    def start(self, total: int, *, label: str, where: str) -> None: ...

    def done(self, outcome: EngagementOutcome) -> None: ...

    def close(self) -> None: ...


class LineProgress(Progress):
    """Plain lines, one an engagement, for logs and schedulers (no terminal)."""

    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self.write = write or (lambda text: print(text, flush=True))
        self.count = self.total = 0

    def start(self, total: int, *, label: str, where: str) -> None:
        self.total = total
        self.write(f"portfolio {label}: {total} engagement{'s' if total != 1 else ''} on {where}")

    def done(self, outcome: EngagementOutcome) -> None:
        self.count += 1
        width = len(str(self.total))
        line = f"[{self.count:>{width}}/{self.total}] {STATUS_TEXT[outcome.status]:<10} {outcome.engagement_id} ({outcome.duration_s:.1f} s)"
        self.write(line + (f": {outcome.error}" if outcome.error else ""))


class BarProgress(Progress):
    """A progress bar on a terminal (stderr), failures printed above it as they happen."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream
        self.bar: Any = None
        self.failed = 0

    def start(self, total: int, *, label: str, where: str) -> None:
        import shutil

        from tqdm import tqdm

        # A terminal that reports no size (some CI consoles) still gets a readable bar.
        size = shutil.get_terminal_size((100, 24))
        self.bar = tqdm(
            total=total,
            desc=f"portfolio {label}",
            file=self.stream,
            ncols=min(size.columns or 100, 120),
            nrows=size.lines or 24,
            leave=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} engagements [{elapsed}<{remaining}{postfix}]",
        )

    def done(self, outcome: EngagementOutcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
            self.bar.write(f"failed {outcome.engagement_id}: {outcome.error}", file=self.bar.fp)
            self.bar.set_postfix(failed=self.failed)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_for(*, quiet: bool, stream: Any = None) -> Progress:
    """A bar on a terminal, plain lines otherwise, nothing with ``--quiet``."""
    import sys

    if quiet:
        return Progress()
    stream = stream or sys.stderr
    return BarProgress(stream) if getattr(stream, "isatty", lambda: False)() else LineProgress()


# -- the whole run --------------------------------------------------------------------------
@dataclass
class PortfolioResult:
    label: str
    run_dir: Path
    summary_path: Path
    index_path: Path
    engagements: list[EngagementOutcome]
    duration_s: float
    interrupted: bool = False

    @property
    def failed(self) -> list[EngagementOutcome]:
        return [e for e in self.engagements if e.status == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.failed else EXIT_OK

    def counts(self) -> dict[str, int]:
        out = {status: 0 for status in STATUS_TEXT}
        for e in self.engagements:
            out[e.status] += 1
        return out

    @property
    def summary(self) -> Any:
        """The run as a pandas DataFrame, one row an engagement (see ``summary_frame``)."""
        return summary_frame(self.engagements)


def run_portfolio(
    *,
    db: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    label: str | None = None,
    workbooks: Sequence[str] | None = None,
    ids: Sequence[str] = (),
    tags: Sequence[str] = (),
    csm: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    parameters: dict[str, Any] | None = None,
    cell_timeout: float = engine.DEFAULT_CELL_TIMEOUT,
    progress: Progress | None = None,
    as_of: str | dt.date | None = None,
) -> PortfolioResult:
    """Render the portfolio and write ``summary.json`` and ``index.html``; see the module docstring."""
    begun = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    label = check_label(label or default_label())
    judged_at = portfolio_as_of(as_of, label).isoformat()
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise UsageError(f"--workers {workers}: use 1 or more")
    if cell_timeout <= 0:
        raise UsageError(f"--timeout {cell_timeout}: use a number of seconds above 0")
    requested = chosen_workbooks(workbooks)
    db_file = config.db_path(db).resolve()
    if not db_file.is_file():
        raise NotFoundError(f"store {db_file} does not exist; import engagements first (csm-nb import FILE)")
    with Store(db_file) as store:
        summaries = select_engagements(store.engagements(), ids=ids, tags=tags, csm=csm)
    if not summaries:
        filters = ", ".join(f for f in (f"tag {', '.join(tags)}" if tags else "", f"CSM {csm!r}" if csm else "") if f)
        raise NotFoundError(f"no engagement in {db_file} matches {filters or 'the selection'}; see: csm-nb list")
    run_dir = _run_folder(out, label)
    progress = progress or Progress()
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers} local worker{'s' if workers != 1 else ''}"
    settings = {
        "workbooks": requested or "applicable",
        "ids": list(ids),
        "tags": list(tags),
        "csm": csm,
        "resume": resume,
        "workers": None if scheduler else workers,
        "scheduler": scheduler,
        "as_of": judged_at,
        "parameters": parameters or {},
    }

    with _run_lock(run_dir), _signals_as_interrupts():
        tasks = plan_tasks(
            summaries,
            db=db_file,
            run_dir=run_dir,
            requested=requested,
            parameters=parameters or {},
            resume=resume,
            cell_timeout=cell_timeout,
            as_of=judged_at,
        )
        finished: dict[str, EngagementOutcome] = {}
        writer = _SummaryWriter(run_dir, label, started_at, settings, tasks)

        def record(outcome: EngagementOutcome) -> None:
            finished[outcome.engagement_id] = outcome
            writer.write(finished, complete=False, duration=time.perf_counter() - begun)
            progress.done(outcome)

        progress.start(len(tasks), label=label, where=where)
        interruption: Interrupted | None = None
        cpu_before = _cpu_seconds()
        try:
            if scheduler:
                _run_on_dask(tasks, scheduler, record)
            else:
                _run_locally(tasks, workers, record, writer.resources)
        except Interrupted as exc:
            interruption = exc
        except KeyboardInterrupt:
            interruption = Interrupted("interrupted", exit_code=130)
        finally:
            progress.close()
            cpu_after = _cpu_seconds()
            # Where the time went, for benchmarks/README.md: this process vs the kernels it started.
            writer.resources["cpu_this_process_s"] = round(cpu_after[0] - cpu_before[0], 3)
            # Child processes waited for: the kernels, or with forking the fork server (its kernels are its own children).
            writer.resources["cpu_children_s"] = round(cpu_after[1] - cpu_before[1], 3)
        outcomes = [finished.get(t.engagement_id) or _not_run(t) for t in tasks]
        duration = time.perf_counter() - begun
        from csm_nb.data.results import write_text_atomic
        from csm_nb.run.onboarding import run_onboarding
        from csm_nb.run.segments import run_segments

        writer.onboarding = run_onboarding(run_dir, outcomes)
        writer.segments = run_segments(run_dir, outcomes)
        summary_path = writer.write(finished, complete=interruption is None, duration=duration)
        write_summary_csv(run_dir, outcomes)
        page = index_html(
            label,
            outcomes,
            started_at=started_at,
            duration=duration,
            interrupted=interruption is not None,
            onboarding=writer.onboarding,
            segments=writer.segments,
            as_of=judged_at,
        )
        index_path = write_text_atomic(run_dir / "index.html", page, follow_parent=False)
    result = PortfolioResult(label, run_dir, summary_path, index_path, outcomes, duration, interrupted=interruption is not None)
    if interruption is not None:
        done = sum(1 for o in outcomes if o.status != "not_run")
        raise Interrupted(
            f"{interruption}; {done} of {len(outcomes)} engagements finished and kept in {run_dir}; "
            f"run the same command with --resume to finish",
            exit_code=interruption.exit_code,
        )
    return result


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished child processes (the kernels)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _not_run(task: EngagementTask) -> EngagementOutcome:
    return EngagementOutcome(task.engagement_id, task.customer, task.csm, task.currency, "not_run")


def _run_locally(
    tasks: list[EngagementTask], workers: int, record: Callable[[EngagementOutcome], None], stats: dict[str, Any]
) -> None:
    notebooks = sum(len(t.to_run) for t in tasks)
    warm = warm_up_code(sorted({w for t in tasks for w in t.to_run}))

    async def go() -> None:
        # ``workers`` notebooks execute at once while as many fresh kernels start up behind them.
        pool = KernelPool(total=notebooks, prestart=workers, warm_up=warm)
        try:
            async with pool:
                await asyncio.to_thread(preload)  # while the first kernels start
                slots = asyncio.Semaphore(workers)

                async def one(task: EngagementTask) -> None:
                    record(await render_engagement(task, pool, slots))

                await asyncio.gather(*(one(t) for t in tasks))
        finally:
            times = pool.start_times
            stats["kernels_started"] = len(times)
            stats["kernel_start_mean_s"] = round(sum(times) / len(times), 3) if times else None
            stats["forked"] = pool.fork
            # Where the CPU went outside this process (fork server, kernels, export children); see KernelPool.cpu.
            stats["cpu_outside_s"] = {k: round(v, 3) for k, v in pool.cpu.items()}

    engine.run_coroutine(go)


def _run_on_dask(tasks: list[EngagementTask], scheduler: str, record: Callable[[EngagementOutcome], None]) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask distributed: pip install 'csm-workbooks[dask]'") from None
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CsmError(f"cannot reach the Dask scheduler at {scheduler}: {one_line(exc)}") from None
    futures: dict[Any, EngagementTask] = {}
    try:
        for task in tasks:
            future = client.submit(
                render_engagement_task, task, pure=False, key=f"csm-nb-{task.engagement_id}-{os.getpid()}-{time.time_ns()}"
            )
            futures[future] = task
        for future in as_completed(list(futures), loop=client.loop):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died or could not run the task at all
                outcome = EngagementOutcome(
                    task.engagement_id,
                    task.customer,
                    task.csm,
                    task.currency,
                    "failed",
                    error=f"the Dask task failed: {type(exc).__name__}: {one_line(exc)}",
                )
                outcome.workbooks = [WorkbookOutcome(w, "failed", error=outcome.error) for w in task.to_run]
            record(outcome)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        client.close()


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) and Ctrl+C become ``Interrupted`` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        raise Interrupted("stopped by SIGTERM", exit_code=128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted("interrupted", exit_code=130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_folder(out: str | os.PathLike[str] | None, label: str) -> Path:
    """``<runs>/<label>``, made if need be; a file as ``--out`` or a linked label folder is refused in one line."""
    from csm_nb.data.results import make_dirs, refuse_link

    base = config.runs_dir(out).resolve()
    if base.exists() and not base.is_dir():
        raise InputError(f"--out {base} is a file, not a folder; give a folder for the run")
    run_dir = base / label
    refuse_link(run_dir)  # nobody typed the label folder's target: never follow a link there
    make_dirs(run_dir)
    return run_dir


def _open_lock_file(path: Path) -> int:
    """Open (or create) the lock file without following a link; refuse anything but a regular file."""
    from csm_nb.data.results import kind_of

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if os.path.islink(path):
            raise InputError(f"{path} is a symbolic link; remove it (csm-nb writes its lock file only in place)") from None
        raise CsmError(f"cannot write {path}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"{path} is {kind_of(info.st_mode)}, not a lock file; remove it")
    return fd


@contextmanager
def _run_lock(run_dir: Path) -> Iterator[None]:
    """One portfolio run at a time writes a run folder."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, runs are still atomic file by file
        yield
        return
    path = run_dir / ".portfolio.lock"
    fd = _open_lock_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise ConflictError(
                f"another portfolio run ({holder}) is writing {run_dir}; wait for it to finish or use another --label"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class _SummaryWriter:
    """``summary.json``, rewritten atomically as engagements finish (so even a hard kill leaves a true one).

    Each engagement's entry is turned into JSON text once, when it finishes
    (and once while it has not run): rewriting the whole document from
    scratch after every engagement made a run of 1,000 engagements spend
    O(n²) time here (``asdict`` and an indenting ``json.dumps`` of every
    entry, 38 ms a write at 1,000 entries).
    """

    def __init__(
        self, run_dir: Path, label: str, started_at: dt.datetime, settings: dict[str, Any], tasks: list[EngagementTask]
    ) -> None:
        self.path = run_dir / "summary.json"
        self.label, self.started_at, self.settings, self.tasks = label, started_at, settings, tasks
        self.resources: dict[str, Any] = {}
        self.onboarding: dict[str, Any] | None = None  # csm_nb.run.onboarding, set before the last write
        self.segments: list[dict[str, Any]] = []  # csm_nb.run.segments, likewise
        self._texts: dict[str, tuple[EngagementOutcome | None, str]] = {}  # id -> (the outcome it was made from, JSON)

    def _entry(self, task: EngagementTask, outcome: EngagementOutcome | None) -> str:
        cached = self._texts.get(task.engagement_id)
        if cached is None or cached[0] is not outcome:
            text = json.dumps(_outcome_json(outcome or _not_run(task)), indent=2, ensure_ascii=False, default=str)
            cached = (outcome, textwrap.indent(text, "    "))
            self._texts[task.engagement_id] = cached
        return cached[1]

    def write(self, finished: dict[str, EngagementOutcome], *, complete: bool, duration: float) -> Path:
        from csm_nb.data.results import write_text_atomic

        outcomes = [finished.get(t.engagement_id) or _not_run(t) for t in self.tasks]
        counts = {status: 0 for status in STATUS_TEXT}
        for o in outcomes:
            counts[o.status] += 1
        document = {
            "schema": SUMMARY_SCHEMA,
            "label": self.label,
            "csm_nb_version": __version__,
            "started": self.started_at.isoformat(timespec="seconds"),
            "duration_s": round(duration, 3),
            "complete": complete,
            "settings": self.settings,
            "counts": {k: v for k, v in counts.items() if v} | {"total": len(outcomes)},
            "failed": [o.engagement_id for o in outcomes if o.status == "failed"],
            "index": "index.html",
            "resources": self.resources,
            **({"onboarding": self.onboarding} if self.onboarding else {}),
            **({"segments": self.segments} if self.segments else {}),
            "engagements": _ENTRIES,
        }
        entries = ",\n".join(self._entry(t, finished.get(t.engagement_id)) for t in self.tasks)
        head = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        text = head.replace(json.dumps(_ENTRIES), f"[\n{entries}\n  ]" if entries else "[]", 1)
        return write_text_atomic(self.path, text + "\n", follow_parent=False)


# Where the entries go in summary.json's text (a string no JSON value of ours can be: it has a NUL).
_ENTRIES = "\x00csm-nb-engagements\x00"


def _outcome_json(outcome: EngagementOutcome) -> dict[str, Any]:
    data = asdict(outcome)
    data["verdicts"] = outcome.verdicts()
    data["figures"] = outcome.figures()
    data["duration_s"] = round(data["duration_s"], 3)
    for w in data["workbooks"]:
        w["duration_s"] = round(w["duration_s"], 3)
    return data


# -- the summary as a table -----------------------------------------------------------------
# One row an engagement: its keys in summary.json, then its first report's (``html``, relative to the
# run folder) and that report's headline figures (the keys of ``figures``).
SUMMARY_COLUMNS = (
    "engagement_id",
    "customer",
    "csm",
    "currency",
    "status",
    "duration_s",
    "error",
    "html",
    "profit",
    "roi",
    "roi_kind",
    "payback",
    "verdict",
    "money",
    "estimated",
    "health",
    "health_band",
    "health_delta",
    "days_to_renewal",
    "readiness",
)
# A spreadsheet reads a cell starting with one of these as a formula (or as input to one).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def summary_frame(outcomes: Sequence[EngagementOutcome]) -> Any:
    """The run's engagements as a pandas DataFrame with ``SUMMARY_COLUMNS``, in the run's order.

    Money (``profit``) is in the row's ``currency``, ``roi`` a fraction,
    ``duration_s`` seconds; a figure not known is empty (NaN/None), never 0.
    """
    import pandas as pd

    rows = []
    for o in outcomes:
        report = next((w for w in o.workbooks if w.outputs.get("html")), None)
        figures = {**next((w.figures for w in o.workbooks if w.figures), {}), **o.figures()}
        rows.append(
            {
                "engagement_id": o.engagement_id,
                "customer": o.customer,
                "csm": o.csm,
                "currency": o.currency,
                "status": o.status,
                "duration_s": round(o.duration_s, 3),
                "error": o.error,
                "html": report.outputs["html"] if report else None,
                **{key: figures.get(key) for key in SUMMARY_COLUMNS[8:]},
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet must never run as a formula, with an apostrophe in front (as the .xlsx writer's quote prefix).

    >>> csv_safe("=HYPERLINK(1)"), csv_safe("-1"), csv_safe("Acme"), csv_safe(-1.5)
    ("'=HYPERLINK(1)", "'-1", 'Acme', -1.5)
    """
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def summary_csv(outcomes: Sequence[EngagementOutcome]) -> str:
    """``summary.csv``: ``summary_frame`` as CSV, every text cell made safe for a spreadsheet (``csv_safe``)."""
    frame = summary_frame(outcomes).astype(object)  # cell by cell: text stays text, numbers stay numbers
    frame = frame.apply(lambda column: column.map(csv_safe))
    # RFC 4180 line ends, so a CR or LF inside a cell is quoted, never a new row.
    return frame.to_csv(index=False, lineterminator="\r\n")


def write_summary_csv(run_dir: Path, outcomes: Sequence[EngagementOutcome]) -> Path:
    from csm_nb.data.results import write_text_atomic

    return write_text_atomic(run_dir / "summary.csv", summary_csv(outcomes), follow_parent=False)


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run's ``summary.json`` (or the one inside a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no portfolio summary at {path}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not a portfolio summary (not JSON: {exc})") from None


# -- the index page ----------------------------------------------------------------------------
def figure_texts(headline: Headline, currency: str) -> dict[str, Any]:
    """The Profit, Return, Payback and Overall cells of an index row as people read them (None: left empty).

    >>> figure_texts(Headline(words="on track", figures={"profit": 59673.0, "roi": 0.373, "payback": "Week 9"}), "GBP")
    {'profit': '£59,673', 'roi': '37.3 %', 'payback': 'Week 9', 'overall': 'on track', 'estimated': False}
    """
    from csm_nb.vocabulary import money, percent

    figures = headline.figures
    profit, roi = figures.get("profit"), figures.get("roi")
    return {
        "profit": money(profit, currency) if profit is not None else None,
        "roi": percent(roi) if roi is not None else None,
        "payback": figures.get("payback") or "",
        "overall": headline.words,
        "estimated": bool(figures.get("estimated")),
    }


PLAN_FIGURES = ("phase", "day", "next_moment", "next_due", "overdue")
HEALTH_FIGURES = ("health", "health_band", "health_delta")
RENEWAL_FIGURES = ("days_to_renewal", "readiness")
# Figures each from one report that describe the engagement as a whole (EngagementOutcome.figures).
ENGAGEMENT_FIGURES = PLAN_FIGURES + HEALTH_FIGURES + RENEWAL_FIGURES


def health_cells(figures: Mapping[str, Any]) -> dict[str, str]:
    """The Health, Change, Renewal and Readiness cells of an index row ("" where not known).

    >>> health_cells({"health": 72.71, "health_band": "amber", "health_delta": -3.04, "days_to_renewal": 27, "readiness": 0.625})
    {'health': '72.7', 'band': 'amber', 'change': '−3.0 ▼', 'renewal': '27 days', 'readiness': '5 of 8'}
    >>> health_cells({"health_delta": 0.4})["change"], health_cells({"health_delta": 0.0})["change"], health_cells({})["health"]
    ('+0.4 ▶', '0.0 ▶', '')
    """
    score, delta = figures.get("health"), figures.get("health_delta")
    days, ready = figures.get("days_to_renewal"), figures.get("readiness")
    change = ""
    if delta is not None:
        arrow = "▲" if delta >= 1 else ("▼" if delta <= -1 else "▶")  # a change under a point is no change
        shown = f"{delta:+.1f}" if round(delta, 1) else "0.0"  # no sign on no change
        change = shown.replace("-", "−") + f" {arrow}"
    return {
        "health": f"{score:.1f}" if score is not None else "",
        "band": str(figures.get("health_band") or ""),
        "change": change,
        "renewal": (f"{days} day{'s' if days != 1 else ''}" if days >= 0 else f"{-days} days ago") if days is not None else "",
        "readiness": f"{round(ready * 8)} of 8" if ready is not None else "",
    }


def index_order(outcome: EngagementOutcome) -> tuple[Any, ...]:
    """Failures first, then the least healthy (no health score last), then by customer."""
    health = outcome.figures().get("health")
    return (
        outcome.status != "failed",
        health is None,
        health if health is not None else 0.0,
        outcome.customer.lower(),
        outcome.engagement_id,
    )


def plan_text(figures: Mapping[str, Any]) -> str:
    """The Plan cell of an index row from an engagement plan's figures ("" without one).

    >>> plan_text({"phase": "onboarding", "day": 40, "next_moment": "Kick-off meeting", "next_due": "2027-01-12", "overdue": 2})
    'Onboarding, day 40 · next: Kick-off meeting, 2027-01-12 · 2 overdue'
    """
    if not figures.get("phase"):
        return ""
    text = f"{str(figures['phase']).capitalize()}, day {figures.get('day')}"
    if figures.get("next_moment"):
        text += f" · next: {figures['next_moment']}, {figures.get('next_due')}"
    return text + (f" · {figures['overdue']} overdue" if figures.get("overdue") else "")


def index_html(
    label: str,
    outcomes: Sequence[EngagementOutcome],
    *,
    started_at: dt.datetime,
    duration: float,
    interrupted: bool = False,
    onboarding: dict[str, Any] | None = None,
    segments: Sequence[Mapping[str, Any]] = (),
    as_of: str | None = None,
) -> str:
    """The run's index page (``templates/csm_report/portfolio_index.html.j2``): self-contained, every user text
    escaped. It is for CS operations: it lists internal reports too, each tagged "internal"."""
    from csm_nb.method.dates import date_words
    from csm_nb.render.index import render_page

    counts = {status: 0 for status in STATUS_TEXT}
    for o in outcomes:
        counts[o.status] += 1
    many_reports = any(len([w for w in o.workbooks if w.outputs.get("html")]) > 1 for o in outcomes)
    rows = []
    for o in sorted(outcomes, key=index_order):
        reports = [w for w in o.workbooks if w.outputs.get("html")]
        main = next((w for w in reports if w.audience == "customer"), reports[0] if reports else None)
        headline = next((Headline.from_json(w.headline) for w in o.workbooks if w.headline), Headline())
        rows.append(
            {
                "customer": o.customer,
                "engagement_id": o.engagement_id,
                "csm": o.csm or "",
                "status": o.status,
                "status_text": STATUS_TEXT[o.status],
                "main_report": main.outputs["html"] if main else None,
                "main_internal": bool(main and main.audience != "customer"),
                **figure_texts(headline, o.currency),
                "plan": plan_text({k: v for k, v in o.figures().items() if k in PLAN_FIGURES}),
                **health_cells(o.figures()),
                "links": [
                    {"href": w.outputs["html"], "title": _workbook_title(w.workbook), "internal": w.audience != "customer"}
                    for w in reports
                ],
                "seconds": f"{o.duration_s:.1f} s" if o.duration_s else "–",
                "error": o.error,  # the failure in full, on its own line under the engagement
                "partials": [{"href": w.partial_notebook, "workbook": w.workbook} for w in o.workbooks if w.partial_notebook],
            }
        )
    finished = started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return render_page(
        "portfolio_index.html.j2",
        label=label,
        total=len(outcomes),
        rendered=sum(o.rendered for o in outcomes),
        counts=[(counts[status], STATUS_TEXT[status]) for status in STATUS_TEXT if counts[status]],
        failed=[o for o in outcomes if o.status == "failed"],
        interrupted=interrupted,
        many_reports=many_reports,
        rows=rows,
        show_plan=any(row["plan"] for row in rows),
        show_health=any(row["health"] for row in rows),
        show_renewal=any(row["renewal"] or row["readiness"] for row in rows),
        onboarding=onboarding,
        segments=segments,
        meta=[
            (f"Figures as of {date_words(dt.date.fromisoformat(as_of))} · " if as_of else "")
            + f"Started {finished} · took {_duration_text(duration)} · csm-workbooks {__version__}"
        ],
    )


def _workbook_title(workbook_id: str) -> str:
    try:
        return get_workbook(workbook_id).title
    except CsmError:
        return workbook_id


def _duration_text(seconds: float) -> str:
    """
    >>> _duration_text(42.04), _duration_text(125)
    ('42.0 s', '2 min 5 s')
    """
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"
