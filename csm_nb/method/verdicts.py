"""One verdict for each fact, computed once: every report, the index and ``summary.json`` show these.

The facts and their keys (the words people read are in :mod:`csm_nb.vocabulary`):

* a KPI's status: its latest measurement against its plan, ``ahead`` | ``on_plan`` | ``behind``
  (``None``: not measured yet), from :mod:`csm_nb.method.progress`. A KPI with a ceiling or floor
  (``target_type`` ``stay_below`` | ``stay_above``) has no plan: its latest measurement is
  ``within`` (status ``on_plan``) or ``breached`` (status ``behind``),
  :data:`csm_nb.method.progress.LIMIT_STATUS_KEYS`, so
  a breached lagging ceiling makes the engagement off track like a lagging KPI behind plan;
* an outcome's status: the worst status of its measured lagging KPIs, or of its leading ones
  while no lagging KPI is measured ("early signs only"); ``None`` when none is measured;
* the money verdict: actual against estimated revenue to date, from
  :func:`csm_nb.method.cashflow.on_track_verdict` (``None``: the engagement has no cash flow);
* the overall verdict, from those three by one rule (:func:`overall_verdict`).

The overall rule, in order:

1. ``not_started``: no KPI is measured and the money has no actual figures yet;
2. ``off_track``: a measured lagging KPI (the evidence of an outcome) is behind its plan, or
   at its recent rate will not reach its target by the deadline;
3. ``attention``: anything else that is not on plan: a leading KPI behind or late, money
   behind the estimate (or slightly behind, within the estimate's accuracy), or KPIs whose
   data cannot be tracked;
4. ``on_track``: everything measured is on plan or ahead.

So an outcome decides "off track"; early indicators and money are points to watch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csm_nb.method.progress import KpiProgress

_ORDER = {"behind": 0, "on_plan": 1, "ahead": 2}


def is_lagging(kp: KpiProgress) -> bool:
    """A KPI without a kind counts as lagging (it proves its outcome)."""
    return (kp.kpi.kind or "lagging") == "lagging"


def outcome_basis(outcome_id: str, tracked: Sequence[KpiProgress]) -> tuple[list[KpiProgress], bool]:
    """The measured KPIs an outcome's status rests on, and whether they are lagging ones."""
    mine = [kp for kp in tracked if kp.kpi.outcome == outcome_id and kp.measured]
    lagging = [kp for kp in mine if is_lagging(kp)]
    return (lagging, True) if lagging else (mine, False)


def worst_status(statuses: Sequence[str]) -> str | None:
    """The worst of some KPI statuses (``None`` for none).

    >>> worst_status(["ahead", "behind", "on_plan"]), worst_status(["ahead", "on_plan"]), worst_status([])
    ('behind', 'on_plan', None)
    """
    return min(statuses, key=_ORDER.__getitem__) if statuses else None


def overall_verdict(*, tracked: Sequence[KpiProgress], money: str | None, problems: Mapping[str, str]) -> str:
    """The engagement's overall verdict key by the rule in this module's docstring.

    ``money`` is the cash flow's verdict key (``None`` without a cash flow);
    ``problems`` maps KPIs that cannot be tracked to the reason.

    >>> overall_verdict(tracked=[], money=None, problems={}), overall_verdict(tracked=[], money="on_track", problems={})
    ('not_started', 'on_track')
    >>> overall_verdict(tracked=[], money="within_band", problems={})
    'attention'
    """
    measured = [kp for kp in tracked if kp.measured]
    if not measured and money in (None, "not_started"):
        return "not_started"
    if any(kp.status[-1] == "behind" or kp.on_time is False for kp in measured if is_lagging(kp)):
        return "off_track"
    if any(kp.status[-1] == "behind" or kp.on_time is False for kp in measured) or money in ("behind", "within_band") or problems:
        return "attention"
    return "on_track"


@dataclass(frozen=True)
class Verdicts:
    """The engagement's verdict keys: ``overall``, ``money`` and each outcome's and KPI's status (``None``: not measured)."""

    overall: str
    money: str | None
    outcomes: dict[str, str | None] = field(default_factory=dict)
    kpis: dict[str, str | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"overall": self.overall, "money": self.money, "outcomes": dict(self.outcomes), "kpis": dict(self.kpis)}


def verdicts(
    *, outcome_ids: Sequence[str], tracked: Sequence[KpiProgress], money: str | None, problems: Mapping[str, str]
) -> Verdicts:
    """Every verdict of one engagement, from its tracked KPIs, its money verdict and its tracking problems."""
    outcomes = {}
    for oid in outcome_ids:
        basis, _ = outcome_basis(oid, tracked)
        outcomes[oid] = worst_status([kp.status[-1] for kp in basis])
    kpis = {kp.kpi.id: (kp.status[-1] if kp.measured else None) for kp in tracked}
    return Verdicts(overall_verdict(tracked=tracked, money=money, problems=problems), money, outcomes, kpis)
