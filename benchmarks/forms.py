"""A workshop form's recompute and redraw (target: under 150 ms).

Drives the real forms without a browser, against a real SQLite store, the
way a keystroke does: set a value, which validates it, saves it in its own
transaction, recomputes the figures and redraws the HTML (and, for the
financial link, the tornado chart). Prints the median and worst time of each
and its ratio to the target.

    .venv/bin/python benchmarks/forms.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from csm_nb.data.engagement import read_engagement
from csm_nb.data.questions import load_bank
from csm_nb.data.store import Store
from csm_nb.forms.widgets import WorkshopForm
from csm_nb.pages.financial_linkage import FinancialLinkagePage
from csm_nb.pages.kpi_workshop import KpiWorkshopPage
from csm_nb.pages.outcome_discovery import OutcomeDiscoveryPage

TARGET_MS = 150.0
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "employee-engagement.yaml"
EID = "employee-engagement"


def timed(repeat: int, action) -> list[float]:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "forms.sqlite")
        with Store(db) as store:
            store.save(read_engagement(EXAMPLE))
            engagement = store.load(EID)
        page = OutcomeDiscoveryPage(engagement, load_bank("outcome_discovery"), db=db, interactive=True)
        discovery = WorkshopForm(
            page.bank, engagement, db=db, composer=page.compose, summary=page.live_summary, context=page.context_for
        )
        page.form = discovery
        linkage = FinancialLinkagePage.form(EID, db=db)
        workshop = KpiWorkshopPage.form(EID, db=db)
        results = {
            "outcome discovery: type a run rate": timed(args.repeat, lambda i: discovery.set("monthly_run_rate", str(1700 + i))),
            "financial link: change a factor": timed(args.repeat, lambda i: linkage.set_factor(2, str(370 + i % 10))),
            "KPI workshop: move a weight": timed(args.repeat, lambda i: workshop.set_weight("warning", 1 + i % 5)),
        }
        with Store(db) as store:  # every change really reached the store
            saved = store.answers(EID, "outcome_discovery")["monthly_run_rate"].value
        assert saved == 1700 + args.repeat - 1, saved
    print(f"form change -> save -> recompute -> redraw ({args.repeat} changes each); target {TARGET_MS:.0f} ms")
    for name, ms in results.items():
        worst = max(ms)
        print(
            f"  {name:<38} median {statistics.median(ms):6.1f} ms  worst {worst:6.1f} ms  "
            f"{worst / TARGET_MS:5.2f} x target  {'OK' if worst < TARGET_MS else 'OVER'}"
        )


if __name__ == "__main__":
    main()
