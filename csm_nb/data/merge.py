"""What importing an engagement file over the stored copy does: the merge rules.

An engagement lives in two places: the file a person edits and the store,
which also gathers what arrives later (measurements appended from CSV,
outcomes recorded in the discovery workshop, a KPI register adopted from the
shortlist, workshop answers). A re-import must never quietly lose the
second kind. The rules, applied by :func:`plan_import`:

1. **The file updates what it has.** Every outcome, KPI, link, stakeholder,
   cash-flow period and measurement in the file is written as the file says.
2. **Measurements are appended data.** Stored measurements the file lacks are
   kept (the file's value wins for the same KPI and period), unless their KPI
   is no longer in the file. **The moment log, events, activities and pulse answers are appended data
   too**, by the same rule: stored entries the file lacks are kept (the file's
   entry wins for the same occurrence or event, ``csm_nb.data.lifecycle``),
   unless the moment is no longer in the engagement's model.
3. **Workshop answers are merged** (the store does it: answers the file lacks
   are kept, changed ones get a new revision). An import never removes one.
4. **Anything else the file lacks would be removed**: an outcome, KPI,
   financial link, stakeholder or cash-flow period that is only in the store,
   a known cash-flow figure the file leaves empty, measurements of a dropped
   KPI, log entries of a moment the engagement's model no longer has. Then the import is refused with one line naming what would go; with
   ``replace=True`` (``csm-nb import --replace``) the file is taken as the
   whole truth and they are removed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from csm_nb.data.engagement import desired_outcome_ids
from csm_nb.data.lifecycle import activity_key, event_key, moment_key, pulse_key
from csm_nb.model import Engagement, Measurement

# The figures of a cash-flow line, in the order a person reads them.
_CASH_FIGURES = ("expenditure_est", "expenditure_act", "revenue_est", "revenue_act")


@dataclass
class ImportPlan:
    """What to save, which stored rows the file lacks but are kept, and what would be removed."""

    engagement: Engagement
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _ids(items: Iterable[object], attribute: str = "id") -> list[str]:
    return [str(getattr(i, attribute)) for i in items]


def _keys(mappings: Iterable[dict] | None, key: str) -> list[str]:
    return [str(m.get(key)) for m in mappings or [] if m.get(key) is not None]


def _missing(label: str, stored: list[str], incoming: list[str]) -> list[str]:
    have = set(incoming)
    return [f"{label} {name!r}" for name in stored if name not in have]


def _period_list(rows: list[Measurement]) -> str:
    periods = [str(m.period) for m in rows]
    return ", ".join(periods[:4]) + (f" and {len(periods) - 4} more" if len(periods) > 4 else "")


def plan_import(
    current: Engagement | None, incoming: Engagement, *, replace: bool = False, moment_ids: Iterable[str] | None = None
) -> ImportPlan:
    """Merge ``incoming`` (a file) over ``current`` (the store's copy) by the rules above.

    ``removed`` lists, in words, what the file would remove; the caller refuses
    unless ``replace``. With ``replace`` the file is saved as it is (answers
    are still merged by the store). ``moment_ids`` are the moments of the
    model the file's engagement follows (``None``: not checked).

    >>> from csm_nb.model import Kpi, Outcome
    >>> stored = Engagement(id="a", customer="A", outcomes=[Outcome("o1"), Outcome("o2")], kpis=[Kpi("k")],
    ...                     measurements=[Measurement("k", 0, 1.0), Measurement("k", 7, 3.0)])
    >>> file = Engagement(id="a", customer="A", outcomes=[Outcome("o1")], kpis=[Kpi("k")],
    ...                   measurements=[Measurement("k", 0, 1.5)])
    >>> plan = plan_import(stored, file)
    >>> plan.removed, plan.kept
    (["outcome 'o2'"], ["1 measurement of KPI 'k' (period 7)"])
    >>> [(m.period, m.value) for m in plan.engagement.measurements]
    [(0, 1.5), (7, 3.0)]
    """
    merged = copy.deepcopy(incoming)
    if current is None:
        return ImportPlan(merged)
    removed: list[str] = []
    removed += _missing("outcome", _ids(current.outcomes), _ids(incoming.outcomes))
    removed += _missing("KPI", _ids(current.kpis), _ids(incoming.kpis))
    removed += _missing("financial link", _keys(current.financial_links, "id"), _keys(incoming.financial_links, "id"))
    removed += _missing("stakeholder", _keys(current.stakeholders, "name"), _keys(incoming.stakeholders, "name"))
    removed += _missing("cash-flow period", _ids(current.cash_flow, "period"), _ids(incoming.cash_flow, "period"))
    by_period = {line.period: line for line in incoming.cash_flow}
    for line in current.cash_flow:
        new = by_period.get(line.period)
        if new is None:
            continue
        for figure in _CASH_FIGURES:
            if getattr(line, figure) is not None and getattr(new, figure) is None:
                removed.append(f"cash-flow {line.period!r} {figure} {getattr(line, figure):g} (the file leaves it empty)")

    in_file = {(m.kpi, str(m.period)) for m in incoming.measurements}
    kpi_ids = set(_ids(incoming.kpis))
    extra: dict[str, list[Measurement]] = {}
    orphaned: dict[str, list[Measurement]] = {}
    for m in current.measurements:
        if (m.kpi, str(m.period)) in in_file:
            continue
        (extra if m.kpi in kpi_ids else orphaned).setdefault(m.kpi, []).append(m)
    for kpi, rows in orphaned.items():
        removed.append(
            f"{_count(rows)} of KPI {kpi!r} (period{'s' * (len(rows) > 1)} {_period_list(rows)}), "
            "whose KPI the file does not have"
        )
    kept: list[str] = []
    if not replace:
        for kpi, rows in extra.items():
            merged.measurements.extend(rows)
            kept.append(f"{_count(rows)} of KPI {kpi!r} (period{'s' * (len(rows) > 1)} {_period_list(rows)})")
    else:
        removed += [f"{_count(rows)} of KPI {kpi!r} added after the import" for kpi, rows in extra.items()]
    _merge_logs(current, incoming, merged, replace, moment_ids, kept, removed)
    # Answers the file lacks stay (the store merges them); showing them here keeps "unchanged" honest.
    workshop = copy.deepcopy(current.workshop or {})
    for workbook, answers in (incoming.workshop or {}).items():
        workshop.setdefault(workbook, {}).update(answers)
    merged.workshop = workshop or None
    return ImportPlan(merged, kept, removed)


def _merge_logs(
    current: Engagement,
    incoming: Engagement,
    merged: Engagement,
    replace: bool,
    moment_ids: Iterable[str] | None,
    kept: list[str],
    removed: list[str],
) -> None:
    """The moment log, events, activities and pulse answers, by rule 2: appended entries the file lacks are kept (or, with replace, removed)."""
    in_file = {moment_key(r) for r in incoming.moments}
    model = set(moment_ids) if moment_ids is not None else None
    extra = [r for r in current.moments if moment_key(r) not in in_file and (model is None or r.moment in model)]
    orphaned = [r for r in current.moments if moment_key(r) not in in_file and model is not None and r.moment not in model]
    if orphaned:
        names = ", ".join(sorted({r.moment for r in orphaned}))
        removed.append(f"{_entries(len(orphaned))} of moment(s) {names}, which the engagement's model does not have")
    events_in_file = {event_key(e) for e in incoming.events}
    extra_events = [e for e in current.events if event_key(e) not in events_in_file]
    activities_in_file = {activity_key(a) for a in incoming.activities}
    extra_activities = [a for a in current.activities if activity_key(a) not in activities_in_file]
    activities = f"{len(extra_activities)} activit{'y' if len(extra_activities) == 1 else 'ies'}"
    pulse_in_file = {pulse_key(a) for a in incoming.pulse}
    outcomes_now = set(desired_outcome_ids(incoming.jobs))
    extra_pulse = [a for a in current.pulse if pulse_key(a) not in pulse_in_file and a.desired_outcome in outcomes_now]
    gone_pulse = [a for a in current.pulse if pulse_key(a) not in pulse_in_file and a.desired_outcome not in outcomes_now]
    if gone_pulse:
        names = ", ".join(sorted({a.desired_outcome for a in gone_pulse}))
        removed.append(f"{len(gone_pulse)} pulse answer(s) about {names}, which the file's jobs no longer have")
    answers = f"{len(extra_pulse)} pulse answer{'s' * (len(extra_pulse) != 1)}"
    if replace:
        removed += [f"{_entries(len(extra))} added after the import"] if extra else []
        removed += [f"{_events(len(extra_events))} added after the import"] if extra_events else []
        removed += [f"{activities} added after the import"] if extra_activities else []
        removed += [f"{answers} added after the import"] if extra_pulse else []
        return
    if extra:
        merged.moments.extend(extra)
        kept.append(f"{_entries(len(extra))} ({', '.join(sorted({r.moment for r in extra}))})")
    if extra_events:
        merged.events.extend(extra_events)
        kept.append(f"{_events(len(extra_events))} ({', '.join(sorted({e.type for e in extra_events}))})")
    if extra_activities:
        merged.activities.extend(extra_activities)
        kept.append(f"{activities} (the CSM's log)")
    if extra_pulse:
        merged.pulse.extend(extra_pulse)
        kept.append(f"{answers} (the customer's own view)")


def _entries(n: int) -> str:
    return f"{n} moment-log entr{'y' if n == 1 else 'ies'}"


def _events(n: int) -> str:
    return f"{n} event{'s' * (n != 1)}"


def _count(rows: list[Measurement]) -> str:
    return f"{len(rows)} measurement{'s' * (len(rows) != 1)}"


def describe(items: list[str], *, limit: int = 4) -> str:
    """A short list in words: the first few, then how many more.

    >>> describe(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    """
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
