"""Import of an engagement with 10,000 measurements (target: under 1 s).

Measures, in one run and side by side: the YAML file with inline rows, the
YAML file pointing at a CSV, and the whole `csm-nb import` command (a fresh
process, as a user runs it). Prints each time and its ratio to the target.

    .venv/bin/python benchmarks/import_measurements.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csm_nb.run.service import import_engagements

TARGET_SECONDS = 1.0


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    kpis = [f"kpi-{i}" for i in range(10)]
    header = (
        "schema: csm-nb/engagement@1\nid: ENGAGEMENT\ncustomer: Benchmark Co\n"
        "outcomes:\n  - {id: o1, description: faster}\nkpis:\n"
        + "".join(f"  - {{id: {k}, outcome: o1, kind: leading, direction: increase, baseline: 0, target: 100}}\n" for k in kpis)
    )
    per_kpi = rows // len(kpis)
    inline = folder / "inline.yaml"
    inline.write_text(
        header.replace("ENGAGEMENT", "bench-inline")
        + "measurements:\n"
        + "".join(f"  - {{kpi: {k}, period: {p}, value: {p * 0.5 + 1}}}\n" for k in kpis for p in range(per_kpi))
    )
    (folder / "m.csv").write_text(
        "kpi,period,value\n" + "".join(f"{k},{p},{p * 0.5 + 1}\n" for k in kpis for p in range(per_kpi))
    )
    csv_ref = folder / "csv.yaml"
    csv_ref.write_text(header.replace("ENGAGEMENT", "bench-csv") + "measurements: m.csv\n")
    return inline, csv_ref


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inline, csv_ref = write_files(folder, args.rows)
        results = {}
        for name, path in (("inline YAML rows", inline), ("CSV file", csv_ref)):
            db_counter = iter(range(1000))
            results[name] = best_of(
                args.repeat,
                lambda path=path, db_counter=db_counter: import_engagements([path], db=folder / f"s{next(db_counter)}.sqlite"),
            )
        cli = Path(sys.executable).with_name("csm-nb")
        results["csm-nb import (new process, CSV)"] = best_of(
            args.repeat,
            lambda: subprocess.run(
                [str(cli), "--db", str(folder / f"cli{time.time_ns()}.sqlite"), "import", str(csv_ref)],
                check=True,
                capture_output=True,
            ),
        )
    print(f"import of one engagement with {args.rows:,} measurements (best of {args.repeat}); target {TARGET_SECONDS:.1f} s")
    for name, seconds in results.items():
        print(
            f"  {name:<36} {seconds:6.3f} s   {seconds / TARGET_SECONDS:5.2f} x target  {'OK' if seconds < TARGET_SECONDS else 'OVER'}"
        )


if __name__ == "__main__":
    main()
