"""Portfolio throughput: ``csm-nb portfolio`` against the two ways a user would do it without it.

Generates N synthetic engagements (default 40; cash flows of 6 to 60 periods,
one to four KPIs with measurements) in a temporary store, then in one run:

(a) a loop of command lines: for each engagement the ``papermill`` command,
    then ``jupyter nbconvert --to html`` with the project's template;
(c) the script a capable user would write instead: papermill's Python API and
    nbconvert's ``HTMLExporter``, imported once per worker, in a
    ``multiprocessing.Pool`` with one worker per core (``POOL_SCRIPT`` below);
(b) one ``csm-nb portfolio`` command producing the same reports.

It checks the outputs are equivalent (the same results JSON, the same visible
report text), prints the three times and both ratios, and the CPU seconds
per report: for (b) split into start (the fork server's imports, shared, and
each kernel getting ready), execute, export and this process's own work.
Nothing outside a temporary folder is touched (not the project's store, not
``runs/``). Targets: (b) at least 8x faster than (c) and 50x faster than (a).

``--scale 250,1000`` instead runs ``csm-nb portfolio`` alone on growing
portfolios and prints the time per engagement and the peak memory of the
whole process tree (the command, its fork server and every kernel, summed as
PSS so shared pages count once), which should stay flat.

    .venv/bin/python benchmarks/portfolio.py            # 40 engagements, the value report
    .venv/bin/python benchmarks/portfolio.py -n 10 --workbook cash_flow --keep /tmp/bench
    .venv/bin/python benchmarks/portfolio.py --scale 250,1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import html as html_lib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
# Keys whose values depend on the day or the run, not on the data.
VOLATILE_KEYS = {"generated"}


# -- synthetic engagements ------------------------------------------------------------
def synthetic_engagement(index: int, *, seed: int = 7) -> Any:
    """Engagement ``bench-NNN``: varied sizes, actuals part-way, KPIs that rise and fall."""
    from csm_nb.model import CashFlowLine, Engagement, Kpi, Measurement, Outcome

    rng = random.Random(seed * 1000 + index)
    periods = rng.randint(6, 60)
    unit = rng.choice(["Week", "Month"])
    actual_until = rng.randint(0, periods)  # periods with actuals: none, some or all
    spend_periods = max(1, periods // 3)
    lines = []
    for p in range(periods):
        spend = float(rng.randrange(5_000, 40_000, 500)) if p < spend_periods else 0.0
        revenue = 0.0 if p < 2 else float(rng.randrange(2_000, 60_000, 250))
        known = p < actual_until
        lines.append(
            CashFlowLine(
                period=f"{unit} {p}",
                expenditure_est=spend,
                revenue_est=revenue,
                expenditure_act=round(spend * rng.uniform(0.9, 1.15), 2) if known else None,
                revenue_act=round(revenue * rng.uniform(0.7, 1.3), 2) if known else None,
            )
        )
    kpis, measurements = [], []
    for k in range(rng.randint(1, 4)):
        rising = rng.random() < 0.5
        baseline = float(rng.randint(10, 100))
        target = baseline * (1.5 if rising else 0.5)
        kpi_id = f"kpi-{k}"
        kpis.append(
            Kpi(
                id=kpi_id,
                outcome="main",
                name=f"Indicator {k}",
                kind="lagging" if k == 0 else "leading",
                unit="points",
                direction="increase" if rising else "decrease",
                baseline=baseline,
                target=target,
                start="2026-01-01",
                deadline="12 months",
                frequency="monthly",
                source="synthetic",
                owner="Benchmark",
            )
        )
        for period in range(rng.randint(2, 12)):
            step = (target - baseline) / 12 * period * rng.uniform(0.6, 1.2)
            measurements.append(Measurement(kpi_id, period, round(baseline + step, 2)))
    # The relationship (drawn last, so the figures above stay as they were): a contract that ends within
    # a year of the as-of date, stakeholders with map data, sometimes an open risk.
    from csm_nb.model import Contract

    end = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randint(0, 360))
    contract = Contract(signed="2025-12-01", start="2026-01-01", end=end.isoformat(), notice_days=rng.choice([30, 60, 90]))
    stakeholders = [
        {"name": f"Sponsor {index}", "roles": ["sponsor"], "level": "strategic", "influence": 5, "support": rng.randint(-1, 2)},
        {
            "name": f"Champion {index}",
            "roles": ["champion"],
            "level": "operational",
            "influence": 3,
            "support": rng.randint(0, 2),
            "status": rng.choice(["active", "active", "left"]),
        },
    ]
    risks = (
        [
            {
                "id": "r1",
                "kind": "churn",
                "severity": rng.choice(["high", "medium"]),
                "status": "open",
                "description": "Budget review",
            }
        ]
        if rng.random() < 0.4
        else None
    )
    return Engagement(
        contract=contract,
        stakeholders=stakeholders,
        risks=risks,
        id=f"bench-{index:03d}",
        customer=f"Customer {index:03d} Ltd",
        currency=rng.choice(["USD", "EUR", "GBP"]),
        csm=rng.choice(["Dana Whitfield", "Sam Okafor", "Ines Duarte"]),
        tags=["benchmark", rng.choice(["emea", "amer"])],
        initiative={"name": f"Initiative {index}", "purpose": "A synthetic engagement for the portfolio benchmark."},
        outcomes=[Outcome(id="main", description="Improve the main indicator", status="stated", priority="primary")],
        kpis=kpis,
        cash_flow=lines,
        measurements=measurements,
    )


def make_store(path: Path, count: int, *, seed: int = 7) -> list[str]:
    """Write ``count`` synthetic engagements into a new store at ``path``; returns their ids."""
    from csm_nb.data.store import Store

    ids = []
    with Store(path) as store:
        for i in range(count):
            engagement = synthetic_engagement(i, seed=seed)
            store.save(engagement, author="benchmark", summary="synthetic")
            ids.append(engagement.id)
    return ids


# -- equivalence ----------------------------------------------------------------------
def stable_results(results: dict[str, Any]) -> dict[str, Any]:
    """Results without values that change with the day the report was made."""
    return {k: v for k, v in results.items() if k not in VOLATILE_KEYS}


def visible_text(page: str) -> str:
    """The text a reader sees in the report body (header and footer carry run details)."""
    match = re.search(r'<main class="report">(.*)</main>', page, flags=re.DOTALL)
    body = match.group(1) if match else page
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", body, flags=re.DOTALL | re.IGNORECASE)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(body).split())


def compare(naive_dir: Path, fast_dir: Path, ids: list[str], workbook: str) -> list[str]:
    problems = []
    for eid in ids:
        a, b = naive_dir / eid, fast_dir / eid
        try:
            ra = json.loads((a / f"{workbook}.json").read_text())
            rb = json.loads((b / f"{workbook}.json").read_text())
            if stable_results(ra) != stable_results(rb):
                problems.append(f"{eid}: results differ")
            if visible_text((a / f"{workbook}.html").read_text()) != visible_text((b / f"{workbook}.html").read_text()):
                problems.append(f"{eid}: visible report text differs")
        except OSError as exc:
            problems.append(f"{eid}: missing output ({exc})")
    return problems


# -- the two ways ---------------------------------------------------------------------
def naive(
    ids: list[str], *, store: Path, out: Path, workbook_path: Path, templates: Path, env: dict[str, str]
) -> dict[str, float]:
    """(a): papermill CLI then nbconvert CLI, one engagement after another."""
    times = {"papermill": 0.0, "nbconvert": 0.0}
    wid = workbook_path.stem.split("_", 1)[1] if workbook_path.stem[:2].isdigit() else workbook_path.stem
    for eid in ids:
        folder = out / eid
        folder.mkdir(parents=True, exist_ok=True)
        nb = folder / f"{wid}.ipynb"
        began = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "papermill"),
                str(workbook_path),
                str(nb),
                "-p",
                "engagement_id",
                eid,
                "-p",
                "db",
                str(store),
                "-p",
                "results_path",
                str(folder / f"{wid}.json"),
                "--cwd",
                str(workbook_path.parent),
                "--no-progress-bar",
                "--log-level",
                "ERROR",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        mid = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "jupyter"),
                "nbconvert",
                "--to",
                "html",
                "--no-input",
                "--no-prompt",
                "--template",
                "csm_report",
                f"--TemplateExporter.extra_template_basedirs={templates}",  # the template drops Lab-only cells itself
                "--log-level",
                "ERROR",
                str(nb),
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        times["papermill"] += mid - began
        times["nbconvert"] += time.perf_counter() - mid
    return times


# (c): what a capable user writes: imports paid once per worker, one worker per core.
POOL_SCRIPT = r"""
import json, multiprocessing, os, sys
from pathlib import Path

def start_worker(templates):
    global papermill, nbformat, exporter
    import nbformat, papermill
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    config = Config()
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    exporter = HTMLExporter(config=config, template_name="csm_report", extra_template_basedirs=[templates])

def render(job):
    folder = Path(job["out"]) / job["id"]
    folder.mkdir(parents=True, exist_ok=True)
    notebook = folder / (job["workbook"] + ".ipynb")
    papermill.execute_notebook(
        job["path"], str(notebook), cwd=job["cwd"], progress_bar=False,
        parameters={"engagement_id": job["id"], "db": job["store"], "results_path": str(folder / (job["workbook"] + ".json"))},
    )
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    (folder / (job["workbook"] + ".html")).write_text(body, encoding="utf-8")

if __name__ == "__main__":
    plan = json.loads(sys.argv[1])
    with multiprocessing.Pool(os.cpu_count(), initializer=start_worker, initargs=(plan["templates"],)) as pool:
        pool.map(render, plan["jobs"], chunksize=1)
"""


def pool_script(
    ids: list[str], *, store: Path, out: Path, workbook_path: Path, templates: Path, env: dict[str, str], folder: Path
) -> float:
    """(c): ``POOL_SCRIPT`` run as its own program; returns its wall time."""
    wid = workbook_path.stem.split("_", 1)[1] if workbook_path.stem[:2].isdigit() else workbook_path.stem
    script = folder / "pool_script.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    jobs = [
        {
            "id": eid,
            "workbook": wid,
            "path": str(workbook_path),
            "cwd": str(workbook_path.parent),
            "store": str(store),
            "out": str(out),
        }
        for eid in ids
    ]
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), json.dumps({"templates": str(templates), "jobs": jobs})],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the pool script failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return time.perf_counter() - began


def children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) child processes and their own children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def portfolio_command(*, store: Path, out: Path, label: str, workbook: str, workers: int | None) -> list[str]:
    """The ``csm-nb portfolio`` command line the benchmark runs."""
    command = [str(BIN / "csm-nb"), "--db", str(store), "portfolio", "--out", str(out), "--label", label]
    command += ["--workbooks", workbook, "--quiet"] + (["--workers", str(workers)] if workers else [])
    return command


def fast(*, store: Path, out: Path, workbook: str, workers: int | None, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """(b): one csm-nb portfolio command."""
    command = portfolio_command(store=store, out=out, label="bench", workbook=workbook, workers=workers)
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"csm-nb portfolio failed ({done.returncode}): {done.stderr.strip()}")
    return took, json.loads((out / "bench" / "summary.json").read_text())


def cold_costs(env: dict[str, str]) -> dict[str, float]:
    """What each naive command pays before it does any work: interpreter and imports."""

    def seconds(code: str) -> float:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
        return time.perf_counter() - began

    seconds("import papermill, nbconvert")  # warm the file cache first
    return {
        "python_start": seconds("pass"),
        "import_papermill": seconds("import papermill"),
        "import_nbconvert_exporter": seconds("from nbconvert import HTMLExporter"),
        "import_csm_nb_calculations": seconds("import csm_nb.method.cashflow, csm_nb.data.store"),
    }


def tree_memory(root: int) -> int:
    """Memory (bytes) of process ``root`` and all its descendants, summed as PSS from /proc: a page that
    forked kernels share with their server counts once, split among them, not once per process as RSS would."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            total += int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:"))) * 1024
        except (OSError, StopIteration, ValueError):
            pass
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def scale_run(sizes: list[int], *, workbook: str, workers: int | None, root: Path) -> list[dict[str, float]]:
    """``csm-nb portfolio`` alone on portfolios of each size: wall time and the process tree's peak memory."""
    rows = []
    for size in sizes:
        store = root / f"scale-{size}.sqlite"
        store.unlink(missing_ok=True)
        make_store(store, size)
        env = {**os.environ, "CSM_NB_DB": str(store), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        command = portfolio_command(store=store, out=root / f"scale-{size}", label="scale", workbook=workbook, workers=workers)
        began, peak = time.perf_counter(), 0
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while process.poll() is None:
            peak = max(peak, tree_memory(process.pid))
            time.sleep(0.25)
        took = time.perf_counter() - began
        if process.returncode != 0:
            raise SystemExit(f"csm-nb portfolio failed on {size} engagements: {process.stderr.read().decode().strip()}")
        rows.append(
            {
                "engagements": size,
                "seconds": round(took, 1),
                "per_engagement_s": round(took / size, 3),
                "peak_tree_pss_mb": round(peak / 2**20),
            }
        )
        print(
            f"  {size:5d} engagements: {took:7.1f} s, {took / size:.3f} s each; peak memory (process tree, PSS) "
            f"{peak / 2**20:6.0f} MB",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--engagements", type=int, default=40, help="how many engagements (default 40)")
    parser.add_argument("--workbook", default="value_report", help="workbook to render (default value_report)")
    parser.add_argument("--workers", type=int, help="csm-nb portfolio --workers (default: its own, the core count)")
    parser.add_argument("--keep", metavar="DIR", help="keep the store and outputs in DIR (default: a temporary folder, removed)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    parser.add_argument("--scale", metavar="N,N,...", help="instead: csm-nb portfolio alone on portfolios of these sizes")
    args = parser.parse_args(argv)

    from csm_nb import config
    from csm_nb.run import registry

    workbook = registry.get_workbook(args.workbook)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="csm-nb-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    if args.scale:
        try:
            sizes = [int(x) for x in args.scale.split(",") if x.strip()]
            print(f"growing portfolios, workbook {workbook.id}, {os.cpu_count()} cores, in {root}", flush=True)
            rows = scale_run(sizes, workbook=workbook.id, workers=args.workers, root=root)
            if len(rows) > 1:
                first, last = rows[0], rows[-1]
                print(
                    f"time per engagement {first['per_engagement_s']:.3f} s -> {last['per_engagement_s']:.3f} s "
                    f"({last['engagements'] / first['engagements']:.0f}x the engagements, "
                    f"{last['seconds'] / first['seconds']:.1f}x the time); peak memory {first['peak_tree_pss_mb']} MB -> "
                    f"{last['peak_tree_pss_mb']} MB"
                )
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
            return 0
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    store = root / "store.sqlite"
    if store.exists():
        store.unlink()
    env = {
        **os.environ,
        "CSM_NB_DB": str(store),
        "CSM_NB_RUNS": str(root / "runs"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    try:
        ids = make_store(store, args.engagements)
        for folder in ("naive", "pool", "fast"):
            shutil.rmtree(root / folder, ignore_errors=True)
        n = len(ids)
        print(f"{n} engagements, workbook {workbook.id}, {os.cpu_count()} cores, in {root}", flush=True)

        cpu, began = children_cpu(), time.perf_counter()
        naive_split = naive(
            ids, store=store, out=root / "naive", workbook_path=workbook.path, templates=config.templates_dir(), env=env
        )
        naive_s, naive_cpu = time.perf_counter() - began, children_cpu() - cpu
        print(f"(a) papermill + nbconvert command lines: {naive_s:7.1f} s", flush=True)

        cpu = children_cpu()
        pool_s = pool_script(
            ids,
            store=store,
            out=root / "pool",
            workbook_path=workbook.path,
            templates=config.templates_dir(),
            env=env,
            folder=root,
        )
        pool_cpu = children_cpu() - cpu
        print(f"(c) papermill + HTMLExporter in a Pool:  {pool_s:7.1f} s", flush=True)

        cpu = children_cpu()
        fast_s, summary = fast(store=store, out=root / "fast", workbook=workbook.id, workers=args.workers, env=env)
        fast_cpu = children_cpu() - cpu
        print(f"(b) csm-nb portfolio:                    {fast_s:7.1f} s", flush=True)
        print(
            f"(b) is {pool_s / fast_s:.1f}x faster than (c) (target: at least 8x) and "
            f"{naive_s / fast_s:.1f}x faster than (a) (target: at least 50x)"
        )

        problems = compare(root / "naive", root / "fast" / "bench", ids, workbook.id)
        problems += [f"pool script: {p}" for p in compare(root / "naive", root / "pool", ids, workbook.id)]
        print(
            "outputs equivalent: "
            + ("yes (same results JSON, same visible report text)" if not problems else f"NO: {problems[:5]}")
        )

        phases: dict[str, list[float]] = {}
        for engagement in summary["engagements"]:
            for w in engagement["workbooks"]:
                for phase, value in w.get("timings", {}).items():
                    phases.setdefault(phase, []).append(value)
        res = summary.get("resources", {})
        outside = res.get("cpu_outside_s") or {}
        own = res.get("cpu_this_process_s") or 0.0
        cold = cold_costs(env)
        split = {
            "start": (outside.get("server", 0.0) + outside.get("start", 0.0)) / n,
            "execute": outside.get("execute", 0.0) / n,
            "export": outside.get("export", 0.0) / n,
            "this_process": own / n,
        }
        if outside:
            # Forked kernels are the server's children, reaped at once: RUSAGE_CHILDREN never sees them, so
            # (b)'s total is the sum of what the portfolio measured process by process (/proc).
            fast_cpu = sum(split.values()) * n
        report = {
            "engagements": n,
            "workbook": workbook.id,
            "cores": os.cpu_count(),
            "naive_s": round(naive_s, 2),
            "pool_script_s": round(pool_s, 2),
            "portfolio_s": round(fast_s, 2),
            "ratio_to_pool_script": round(pool_s / fast_s, 2),
            "ratio_to_naive": round(naive_s / fast_s, 2),
            "equivalent": not problems,
            "cpu_per_report_s": {
                "naive": round(naive_cpu / n, 3),
                "pool_script": round(pool_cpu / n, 3),
                "portfolio": round(fast_cpu / n, 3),
                "portfolio_split": {k: round(v, 3) for k, v in split.items()},
            },
            "naive_per_engagement_s": {k: round(v / n, 3) for k, v in naive_split.items()},
            "naive_cold_costs_s": {k: round(v, 3) for k, v in cold.items()},
            "portfolio_phase_mean_s": {k: round(statistics.mean(v), 3) for k, v in phases.items()},
            "portfolio_in_process_s": summary.get("duration_s"),
            "portfolio_resources": res,
        }
        print("\nCPU seconds per report (all processes)")
        print(f"  (a) {naive_cpu / n:.3f} s   (c) {pool_cpu / n:.3f} s   (b) {fast_cpu / n:.3f} s")
        print(
            f"  (b) split: start {split['start']:.3f} s (the fork server's imports, shared by all, "
            f"{outside.get('server', 0.0):.2f} s in all; each kernel getting ready {outside.get('start', 0.0) / n:.3f} s), "
            f"execute {split['execute']:.3f} s, export {split['export']:.3f} s, "
            f"this process (kernels' messages, parameters, files) {split['this_process']:.3f} s"
        )
        print("\nwhere the time goes")
        print(
            f"  naive, per engagement: papermill CLI {report['naive_per_engagement_s']['papermill']:.2f} s, "
            f"nbconvert CLI {report['naive_per_engagement_s']['nbconvert']:.2f} s"
        )
        print(
            f"  naive, paid by every command: python start {cold['python_start']:.2f} s, import papermill "
            f"{cold['import_papermill']:.2f} s, import nbconvert's exporter {cold['import_nbconvert_exporter']:.2f} s"
        )
        print(
            "  portfolio, per notebook (mean wall): "
            + ", ".join(f"{k} {v:.3f} s" for k, v in report["portfolio_phase_mean_s"].items())
        )
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0 if not problems else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
