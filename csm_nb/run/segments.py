"""Behavioural segments across a portfolio run: which engagements are in each maturity segment, and
what to send them (``summary.json -> segments`` and the index's "Segments" section).

Each engagement's ``maturity.json`` lists the segments it is in (``segments``: ``id, name, content``;
the rules are :func:`csm_nb.method.maturity` segment rules, e.g. a key behaviour still missing and a
metric no better than on day one). Here they are gathered per segment, so a person, or a marketing
tool reading the summary, sends each segment its content and nobody else gets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from csm_nb.run.onboarding import read_plans

WORKBOOK = "maturity"


def segments(results: Mapping[str, Mapping[str, Any]], customers: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Per segment (in the order first met, engagements by id): ``id, name, content, engagements``
    (each ``{id, customer}``), from each engagement's maturity results.

    >>> segments({"b": {"segments": [{"id": "s", "name": "S", "content": "Guide"}]},
    ...           "a": {"segments": [{"id": "s", "name": "S", "content": "Guide"}]}, "c": {"segments": []}})
    [{'id': 's', 'name': 'S', 'content': 'Guide', 'engagements': [{'id': 'a', 'customer': 'a'}, {'id': 'b', 'customer': 'b'}]}]
    """
    found: dict[str, dict[str, Any]] = {}
    for engagement_id in sorted(results):
        for segment in results[engagement_id].get("segments") or []:
            entry = found.setdefault(
                segment["id"],
                {
                    "id": segment["id"],
                    "name": segment.get("name") or segment["id"],
                    "content": segment.get("content"),
                    "engagements": [],
                },
            )
            entry["engagements"].append({"id": engagement_id, "customer": (customers or {}).get(engagement_id, engagement_id)})
    return list(found.values())


def run_segments(run_dir: Path, outcomes: Iterable[Any]) -> list[dict[str, Any]]:
    """``segments`` for a portfolio run's engagement outcomes (``EngagementOutcome``)."""
    outcomes = list(outcomes)
    pairs = [(o.engagement_id, w.outputs) for o in outcomes for w in o.workbooks if w.workbook == WORKBOOK]
    return segments(read_plans(run_dir, pairs), {o.engagement_id: o.customer for o in outcomes})
