"""Portfolio throughput: ``csm-nb portfolio`` against the naive loop (target: at least 8x faster).

Generates N synthetic engagements (default 40; cash flows of 6 to 60 periods,
one to four KPIs with measurements) in a temporary store, then in one run:

(a) the way a user would script it: for each engagement, the ``papermill``
    command line, then ``jupyter nbconvert --to html`` with the project's
    template;
(b) one ``csm-nb portfolio`` command producing the same reports.

It checks the outputs are equivalent (the same results JSON, the same visible
report text) and prints both times, the ratio and where the time goes.
Nothing outside a temporary folder is touched (not the project's store, not
``runs/``). Target: (b) at least 8x faster than (a) on a 2-core machine.

    .venv/bin/python benchmarks/portfolio.py            # 40 engagements, the value report
    .venv/bin/python benchmarks/portfolio.py -n 10 --workbook cash_flow --keep /tmp/bench
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import os
import random
import re
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
    return Engagement(
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
                f"--TemplateExporter.extra_template_basedirs={templates}",
                "--TagRemovePreprocessor.enabled=True",
                "--TagRemovePreprocessor.remove_cell_tags=interactive-only",
                "--HTMLExporter.anchor_link_text=",
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


def fast(*, store: Path, out: Path, workbook: str, workers: int | None, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """(b): one csm-nb portfolio command."""
    command = [
        str(BIN / "csm-nb"),
        "--db",
        str(store),
        "portfolio",
        "--out",
        str(out),
        "--label",
        "bench",
        "--workbooks",
        workbook,
        "--quiet",
    ]
    if workers:
        command += ["--workers", str(workers)]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--engagements", type=int, default=40, help="how many engagements (default 40)")
    parser.add_argument("--workbook", default="value_report", help="workbook to render (default value_report)")
    parser.add_argument("--workers", type=int, help="csm-nb portfolio --workers (default: its own, the core count)")
    parser.add_argument("--keep", metavar="DIR", help="keep the store and outputs in DIR (default: a temporary folder, removed)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    args = parser.parse_args(argv)

    from csm_nb import config
    from csm_nb.run import registry

    workbook = registry.get_workbook(args.workbook)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="csm-nb-bench-"))
    root.mkdir(parents=True, exist_ok=True)
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
        for folder in ("naive", "fast"):
            shutil.rmtree(root / folder, ignore_errors=True)
        print(f"{len(ids)} engagements, workbook {workbook.id}, {os.cpu_count()} cores, in {root}", flush=True)

        began = time.perf_counter()
        naive_split = naive(
            ids, store=store, out=root / "naive", workbook_path=workbook.path, templates=config.templates_dir(), env=env
        )
        naive_s = time.perf_counter() - began
        print(f"(a) papermill + nbconvert command lines: {naive_s:7.1f} s", flush=True)

        fast_s, summary = fast(store=store, out=root / "fast", workbook=workbook.id, workers=args.workers, env=env)
        print(f"(b) csm-nb portfolio:                    {fast_s:7.1f} s", flush=True)
        ratio = naive_s / fast_s
        print(f"ratio: {ratio:.1f}x faster (target: at least 8x)")

        problems = compare(root / "naive", root / "fast" / "bench", ids, workbook.id)
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
        cold = cold_costs(env)
        n = len(ids)
        report = {
            "engagements": n,
            "workbook": workbook.id,
            "cores": os.cpu_count(),
            "naive_s": round(naive_s, 2),
            "portfolio_s": round(fast_s, 2),
            "ratio": round(ratio, 2),
            "equivalent": not problems,
            "naive_per_engagement_s": {k: round(v / n, 3) for k, v in naive_split.items()},
            "naive_cold_costs_s": {k: round(v, 3) for k, v in cold.items()},
            "portfolio_phase_mean_s": {k: round(statistics.mean(v), 3) for k, v in phases.items()},
            "portfolio_in_process_s": summary.get("duration_s"),
            "portfolio_resources": res,
        }
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
            "  portfolio, per notebook (mean): "
            + ", ".join(f"{k} {v:.3f} s" for k, v in report["portfolio_phase_mean_s"].items())
        )
        print(
            f"  portfolio: kernel start (launch to ready with modules imported, overlapping other notebooks) {res.get('kernel_start_mean_s')} s mean; "
            f"CPU: this process {res.get('cpu_this_process_s')} s, kernels {res.get('cpu_kernels_s')} s; "
            f"in-process total {summary.get('duration_s')} s of {fast_s:.1f} s wall"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0 if not problems else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
