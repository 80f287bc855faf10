"""Onboarding across a portfolio run: where customers' onboarding loses time, from each engagement's
``engagement_plan.json`` (``summary.json -> onboarding`` and the index's "Onboarding stages").

A stage is systemic when more than half of the engagements that completed it took longer than
expected (:func:`csm_nb.method.engagement_plan.stage_summary`); the sentence names the stage with the
largest share of the excess days among the systemic ones.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from csm_nb.method.engagement_plan import Stage, stage_summary
from csm_nb.vocabulary import plural

WORKBOOK = "engagement_plan"


def read_plans(run_dir: Path, outputs: Iterable[tuple[str, Mapping[str, str]]]) -> dict[str, dict[str, Any]]:
    """Each engagement's engagement-plan results, from (engagement id, that workbook's outputs) pairs."""
    plans = {}
    for engagement_id, files in outputs:
        path = files.get("json")
        if not path:
            continue
        try:
            plans[engagement_id] = json.loads((run_dir / path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a report that failed or was removed: the others still count
    return plans


def onboarding(plans: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Stages, systemic delays and time to value across the engagements' plans (``None`` with no plan)."""
    stages: dict[str, list[Stage]] = {}
    names: dict[str, str] = {}
    ttv: list[Mapping[str, Any]] = []
    for engagement_id, plan in plans.items():
        rows = plan.get("stages") or []
        if not rows:
            continue
        stages[engagement_id] = [
            Stage(
                r["moment"],
                int(r["expected"]),
                r.get("actual"),
                r.get("status"),
                int(r.get("excess") or 0),
                r.get("delay_reason"),
            )
            for r in rows
        ]
        names.update({r["moment"]: r.get("name") or r["moment"] for r in rows})
        if plan.get("ttv"):
            ttv.append(plan["ttv"])
    if not stages:
        return None
    summary = stage_summary(stages)
    reached = [t["days"] for t in ttv if t.get("days") is not None]
    on_target = sum(1 for t in ttv if t.get("status") == "on_target")
    systemic = sorted((s for s in summary if s.systemic), key=lambda s: -(s.share_of_excess or 0))
    if systemic:
        worst = systemic[0]
        sentence = (
            f"{names[worst.moment].capitalize()} is the systemic delay: {worst.over} of {plural(worst.measured, 'customer')} "
            f"took longer than {plural(worst.expected, 'day')}; it accounts for {round((worst.share_of_excess or 0) * 100)} % "
            "of all onboarding delay."
        )
    else:
        sentence = "No stage is a systemic delay: in every stage at most half of the customers took longer than expected."
    return {
        "engagements": len(stages),
        "stages": [asdict(s) | {"name": names[s.moment]} for s in summary],
        "total_excess_days": sum(s.excess_days for s in summary),
        "systemic": [s.moment for s in systemic],
        "sentence": sentence,
        "ttv": {
            "measured": len(ttv),
            "reached": len(reached),
            "median_days": float(statistics.median(reached)) if reached else None,
            "on_target": on_target,
            "share_on_target": on_target / len(ttv) if ttv else None,
        },
    }


def run_onboarding(run_dir: Path, outcomes: Iterable[Any]) -> dict[str, Any] | None:
    """``onboarding`` for a portfolio run's engagement outcomes (``EngagementOutcome``)."""
    pairs = [(o.engagement_id, w.outputs) for o in outcomes for w in o.workbooks if w.workbook == WORKBOOK]
    return onboarding(read_plans(run_dir, pairs))
