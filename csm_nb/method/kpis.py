"""KPI workshop: leading-indicator candidates, a scoring anyone in the room can
follow, the shortlist and the KPI register. Pure functions, no I/O.

The workshop brainstorms *candidates* for each outcome: the lagging KPI that
proves the outcome, and leading ones that move earlier. Each leading candidate
is scored 1-5 on six named criteria (see ``CRITERIA``; each says how its score
is read off the candidate, so nobody has to trust a black box). The total is
the weighted mean:

    score = Σ (weight × criterion score) ÷ Σ weight        (1 = poor, 5 = strong)

Weights are whole numbers people can change (0 leaves a criterion out). The
CSM shortlists two to five KPIs; they become the KPI register (the
engagement's ``kpis``).

Candidates, weights and the shortlist are saved as workshop answers of the
``kpi_workshop`` workbook: ``candidate.<id>`` (one answer per candidate, so two
people can add candidates at once), ``weights`` and ``shortlist``. They are
checked here when read; a problem names the answer and the field.

>>> c = candidate_from_answer("candidate.rating", {"name": "Manager rating", "outcome": "o", "frequency": "monthly",
...     "lead_time_months": 6, "effort": "low", "approvals": ["HR"], "confidence": 4, "baseline": 6,
...     "owner": "HR", "source": "questionnaire"})
>>> s = score(c, DEFAULT_WEIGHTS)
>>> s.scores, s.total
({'link': 4, 'warning': 5, 'frequency': 4, 'effort': 5, 'approvals': 3, 'ready': 5}, 4.3)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from csm_nb.errors import InputError
from csm_nb.model import Kpi, Outcome
from csm_nb.vocabulary import PERIODS, frequency_word, periods_per_year

WORKBOOK = "kpi_workshop"
CANDIDATE_PREFIX = "candidate."
SHORTLIST_MIN, SHORTLIST_MAX = 2, 5

# How often a KPI is measured, as measurements a year (from the one period table, csm_nb.vocabulary.PERIODS).
FREQUENCIES: dict[str, float] = {p.frequency: p.per_year for p in PERIODS}
EFFORTS = ("low", "medium", "high")
KINDS = ("leading", "lagging")
DIRECTIONS = ("increase", "decrease")


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    question: str  # what the room is asked
    how: str  # how the 1-5 score is read off the candidate
    weight: int  # default weight


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "link",
        "Moves with the outcome",
        "How sure are we that when this moves, the outcome follows?",
        "the group's own rating, 1 (a hunch) to 5 (shown in our data); 3 until rated",
        3,
    ),
    Criterion(
        "warning",
        "Early warning",
        "How long before the outcome does it move?",
        "lead time: none 1, under a month 2, 1-3 months 3, 3-6 months 4, 6 months or more 5",
        2,
    ),
    Criterion(
        "frequency",
        "Measured often",
        "How often can we read it?",
        "yearly 1, half-yearly 2, quarterly 3, monthly 4, fortnightly or more often 5",
        2,
    ),
    Criterion("effort", "Easy to collect", "How much work is it to collect?", "high effort 1, medium 3, low 5", 1),
    Criterion(
        "approvals", "Few approvals", "Who must agree before we can measure it?", "no approvals 5, one 3, two or more 1", 1
    ),
    Criterion(
        "ready",
        "Ready to start",
        "Do we know today's value, who owns it and where the data is?",
        "1, plus 2 for a baseline, 1 for an owner, 1 for a data source",
        1,
    ),
)
CRITERIA_BY_ID = {c.id: c for c in CRITERIA}
DEFAULT_WEIGHTS: dict[str, int] = {c.id: c.weight for c in CRITERIA}
MAX_WEIGHT = 5


@dataclass(frozen=True)
class Candidate:
    """A KPI put forward in the workshop (leading or lagging)."""

    id: str
    name: str
    outcome: str | None = None
    kind: str = "leading"
    measurement: str | None = None  # how it is measured
    frequency: str | None = None  # one of FREQUENCIES
    lead_time_months: float | None = None  # how long before the outcome moves
    owner: str | None = None
    source: str | None = None  # where the data comes from
    approvals: tuple[str, ...] = ()  # who must agree (e.g. HR)
    effort: str | None = None  # low | medium | high
    unit: str | None = None
    direction: str | None = None  # increase | decrease
    baseline: float | None = None
    target: float | None = None
    confidence: int | None = None  # 1-5: the group's rating of "moves with the outcome"
    notes: str | None = None

    def answer(self) -> dict[str, Any]:
        """As saved in the store (``candidate.<id>``): set fields only, lists as lists."""
        out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v not in (None, (), "")}
        return out


# ----------------------------------------------------------------------------- reading answers


def slug(text: str) -> str:
    """An id from a name: 'Line-manager rating (0-10)' -> 'line-manager-rating-0-10'.

    >>> slug("Line-manager rating (0-10)"), slug("  Ünïcode  Survey! ")
    ('line-manager-rating-0-10', 'unicode-survey')
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.casefold()).strip("-")[:64] or "kpi"


def candidate_from_answer(key: str, value: Any, *, outcomes: Iterable[str] | None = None) -> Candidate:
    """Check one saved candidate; errors name the answer key and the field."""
    where = f"{WORKBOOK} answer {key!r}"
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected the candidate's fields (name, frequency, ...), got {type(value).__name__}")
    known = {f for f in Candidate.__dataclass_fields__}
    unknown = sorted(set(value) - known)
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}; expected some of: {', '.join(sorted(known))}")
    name = _text(value.get("name"), where, "name")
    if not name:
        raise InputError(f"{where}: the candidate needs a name")
    cid = _text(value.get("id"), where, "id") or (
        key[len(CANDIDATE_PREFIX) :] if key.startswith(CANDIDATE_PREFIX) else slug(name)
    )
    kind = value.get("kind") or "leading"
    _choice(kind, KINDS, where, "kind")
    frequency = _text(value.get("frequency"), where, "frequency")
    if frequency is not None and frequency_word(frequency) is None:
        raise InputError(f"{where}: frequency {frequency!r} is not one of {', '.join(FREQUENCIES)}")
    effort = value.get("effort") or None
    if effort is not None:
        _choice(effort, EFFORTS, where, "effort")
    direction = value.get("direction") or None
    if direction is not None:
        _choice(direction, DIRECTIONS, where, "direction")
    lead = _number(value.get("lead_time_months"), where, "lead_time_months")
    if lead is not None and lead < 0:
        raise InputError(f"{where}: lead_time_months cannot be negative, got {lead:g}")
    confidence = _number(value.get("confidence"), where, "confidence")
    if confidence is not None and (confidence not in {1, 2, 3, 4, 5}):
        raise InputError(f"{where}: confidence is a whole number from 1 to 5, got {confidence:g}")
    approvals = value.get("approvals") or ()
    if isinstance(approvals, str):
        approvals = [a.strip() for a in approvals.split(",")]
    if not isinstance(approvals, (list, tuple)) or not all(isinstance(a, str) for a in approvals):
        raise InputError(f"{where}: approvals is a list of who must agree (e.g. [HR]), got {approvals!r}")
    outcome = _text(value.get("outcome"), where, "outcome")
    if outcome is not None and outcomes is not None:
        known_outcomes = sorted(set(outcomes))
        if outcome not in known_outcomes:
            raise InputError(
                f"{where}: outcome {outcome!r} is not the id of any outcome ({', '.join(known_outcomes) or 'none defined'})"
            )
    return Candidate(
        id=cid,
        name=name,
        outcome=outcome,
        kind=kind,
        measurement=_text(value.get("measurement"), where, "measurement"),
        frequency=frequency_word(frequency) if frequency else None,
        lead_time_months=lead,
        owner=_text(value.get("owner"), where, "owner"),
        source=_text(value.get("source"), where, "source"),
        approvals=tuple(a for a in approvals if a),
        effort=effort,
        unit=_text(value.get("unit"), where, "unit"),
        direction=direction,
        baseline=_number(value.get("baseline"), where, "baseline"),
        target=_number(value.get("target"), where, "target"),
        confidence=None if confidence is None else int(confidence),
        notes=_text(value.get("notes"), where, "notes"),
    )


def candidates_from_answers(answers: Mapping[str, Any] | None, *, outcomes: Iterable[str] | None = None) -> list[Candidate]:
    """Every saved candidate, in the order saved; a candidate saved as ``None`` was removed."""
    outcomes = None if outcomes is None else list(outcomes)
    out = []
    for key, value in (answers or {}).items():
        if key.startswith(CANDIDATE_PREFIX) and value is not None:
            out.append(candidate_from_answer(key, value, outcomes=outcomes))
    seen: dict[str, str] = {}
    for c in out:
        if c.id in seen:
            raise InputError(f"{WORKBOOK}: two candidates have the id {c.id!r} ({seen[c.id]!r} and {c.name!r}); rename one")
        seen[c.id] = c.name
    return out


def weights_from_answer(value: Any) -> dict[str, int]:
    """Saved weights merged over the defaults; unknown criteria and bad values are refused.

    >>> weights_from_answer({"effort": 3})["effort"], weights_from_answer(None) == DEFAULT_WEIGHTS
    (3, True)
    """
    weights = dict(DEFAULT_WEIGHTS)
    if value is None:
        return weights
    where = f"{WORKBOOK} answer 'weights'"
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected a weight for each criterion, got {type(value).__name__}")
    for name, w in value.items():
        if name not in CRITERIA_BY_ID:
            raise InputError(f"{where}: unknown criterion {name!r}; the criteria are {', '.join(CRITERIA_BY_ID)}")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not float(w).is_integer() or not 0 <= w <= MAX_WEIGHT:
            raise InputError(f"{where}: the weight of {name!r} is a whole number from 0 to {MAX_WEIGHT}, got {w!r}")
        weights[name] = int(w)
    if not any(weights.values()):
        raise InputError(f"{where}: every weight is 0, so nothing can be ranked; give at least one criterion a weight")
    return weights


def shortlist_from_answer(value: Any, candidates: Sequence[Candidate]) -> list[str]:
    """The saved shortlist (candidate ids), checked against the candidates."""
    if value is None:
        return []
    where = f"{WORKBOOK} answer 'shortlist'"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: expected a list of candidate ids, got {value!r}")
    ids = {c.id for c in candidates}
    unknown = [v for v in value if v not in ids]
    if unknown:
        raise InputError(
            f"{where}: {', '.join(map(repr, unknown))} is not a candidate; candidates: {', '.join(sorted(ids)) or 'none'}"
        )
    return list(dict.fromkeys(value))


def _text(value: Any, where: str, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list, bool)):
        raise InputError(f"{where}: {name} should be text, got {value!r}")
    return str(value).strip() or None


def _number(value: Any, where: str, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: {name} should be a number, got {value!r}")
    return float(value)


def _choice(value: Any, options: Sequence[str], where: str, name: str) -> None:
    if value not in options:
        raise InputError(f"{where}: {name} {value!r} is not one of {', '.join(options)}")


# ----------------------------------------------------------------------------- scoring


def score_link(confidence: int | None) -> int:
    """The group's 1-5 rating; 3 while nobody has rated it.

    >>> score_link(4), score_link(None)
    (4, 3)
    """
    return 3 if confidence is None else int(confidence)


def score_warning(lead_time_months: float | None) -> int:
    """Longer lead time, earlier warning.

    >>> [score_warning(m) for m in (None, 0, 0.5, 2, 4, 6, 12)]
    [1, 1, 2, 3, 4, 5, 5]
    """
    if not lead_time_months:
        return 1
    for limit, points in ((1, 2), (3, 3), (6, 4)):
        if lead_time_months < limit:
            return points
    return 5


def score_frequency(frequency: str | None) -> int:
    """More readings a year, sooner a change is seen.

    >>> [score_frequency(f) for f in ("yearly", "half-yearly", "quarterly", "monthly", "weekly", None)]
    [1, 2, 3, 4, 5, 1]
    """
    n = periods_per_year(frequency)
    if n is None:
        return 1
    return 5 if n >= 26 else 4 if n >= 12 else 3 if n >= 4 else 2 if n >= 2 else 1


def score_effort(effort: str | None) -> int:
    """>>> score_effort("low"), score_effort("high"), score_effort(None)
    (5, 1, 3)
    """
    return {"low": 5, "medium": 3, "high": 1}.get(effort or "medium", 3)


def score_approvals(approvals: Sequence[str]) -> int:
    """>>> score_approvals([]), score_approvals(["HR"]), score_approvals(["HR", "Legal"])
    (5, 3, 1)
    """
    return 5 if not approvals else 3 if len(approvals) == 1 else 1


def score_ready(candidate: Candidate) -> int:
    """1, plus 2 for a baseline, 1 for an owner, 1 for a data source.

    >>> score_ready(Candidate("x", "X", baseline=6, owner="HR")), score_ready(Candidate("x", "X"))
    (4, 1)
    """
    return 1 + 2 * (candidate.baseline is not None) + bool(candidate.owner) + bool(candidate.source)


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    scores: dict[str, int]
    total: float  # weighted mean, 1-5
    rank: int = 0


def score(candidate: Candidate, weights: Mapping[str, int]) -> Scored:
    """Criterion scores and the weighted mean ``Σ w·s ÷ Σ w`` (rounded to 2 decimals)."""
    scores = {
        "link": score_link(candidate.confidence),
        "warning": score_warning(candidate.lead_time_months),
        "frequency": score_frequency(candidate.frequency),
        "effort": score_effort(candidate.effort),
        "approvals": score_approvals(candidate.approvals),
        "ready": score_ready(candidate),
    }
    return Scored(candidate, scores, weighted_mean(scores, weights))


def weighted_mean(scores: Mapping[str, int], weights: Mapping[str, int]) -> float:
    """``Σ w·s ÷ Σ w``, rounded to 2 decimals.

    >>> weighted_mean({"a": 5, "b": 1}, {"a": 3, "b": 1})
    4.0
    """
    total_weight = sum(weights.get(k, 0) for k in scores)
    if total_weight <= 0:
        raise InputError("every weight is 0, so nothing can be ranked; give at least one criterion a weight")
    return round(sum(weights.get(k, 0) * s for k, s in scores.items()) / total_weight, 2)


def rank(candidates: Iterable[Candidate], weights: Mapping[str, int]) -> list[Scored]:
    """Leading candidates, best first (ties: by name); lagging ones are not ranked.

    >>> a, b = Candidate("a", "A", effort="low"), Candidate("b", "B", effort="high")
    >>> [(s.rank, s.candidate.id, s.total) for s in rank([b, a], DEFAULT_WEIGHTS)]
    [(1, 'a', 2.4), (2, 'b', 2.0)]
    """
    scored = [score(c, weights) for c in candidates if c.kind == "leading"]
    scored.sort(key=lambda s: (-s.total, s.candidate.name.casefold()))
    return [replace(s, rank=i) for i, s in enumerate(scored, start=1)]


# ----------------------------------------------------------------------------- shortlist and register


def register_from_shortlist(kpis: Sequence[Kpi], candidates: Sequence[Candidate], shortlist: Sequence[str]) -> list[Kpi]:
    """The KPI register after adopting the shortlist (two to five candidates).

    A shortlisted candidate updates the KPI with the same id (its set fields win;
    start, deadline and milestones are kept) or is added at the end. KPIs not
    on the shortlist stay: they may already have measurements.

    >>> reg = register_from_shortlist([Kpi("a", name="Old", start="2027-01-01")],
    ...     [Candidate("a", "A", kind="lagging", frequency="monthly"), Candidate("b", "B")], ["a", "b"])
    >>> [(k.id, k.name, k.kind, k.frequency, k.start) for k in reg]
    [('a', 'A', 'lagging', 'monthly', '2027-01-01'), ('b', 'B', 'leading', None, None)]
    """
    chosen = list(dict.fromkeys(shortlist))
    if not SHORTLIST_MIN <= len(chosen) <= SHORTLIST_MAX:
        raise InputError(
            f"the shortlist has {len(chosen)} KPI{'s' * (len(chosen) != 1)}; choose {SHORTLIST_MIN} to {SHORTLIST_MAX} "
            "(enough to see early and prove late, few enough to keep measuring)"
        )
    by_id = {c.id: c for c in candidates}
    missing = [c for c in chosen if c not in by_id]
    if missing:
        raise InputError(f"shortlist: {', '.join(map(repr, missing))} is not a candidate")
    register = list(kpis)
    position = {k.id: i for i, k in enumerate(register)}
    for cid in chosen:
        c = by_id[cid]
        updates = {
            "outcome": c.outcome,
            "name": c.name,
            "kind": c.kind,
            "unit": c.unit,
            "direction": c.direction,
            "baseline": c.baseline,
            "target": c.target,
            "frequency": c.frequency,
            "source": c.source,
            "owner": c.owner,
        }
        updates = {k: v for k, v in updates.items() if v is not None}
        if cid in position:
            register[position[cid]] = replace(register[position[cid]], **updates)
        else:
            register.append(Kpi(id=cid, **updates))
            position[cid] = len(register) - 1
    return register


@dataclass(frozen=True)
class RegisterWarning:
    kind: str  # no_leading | no_lagging | leading_less_often
    outcome: str
    kpi: str | None
    message: str


def register_warnings(outcomes: Sequence[Outcome], kpis: Sequence[Kpi]) -> list[RegisterWarning]:
    """What is missing or odd in the register, outcome by outcome.

    * an outcome with no leading KPI (nothing warns early);
    * an outcome with no lagging KPI (nothing proves it);
    * a leading KPI measured less often than a lagging KPI of the same outcome
      (it cannot warn before the lagging one shows the change).

    >>> ws = register_warnings([Outcome("o"), Outcome("p")], [Kpi("lag", outcome="o", kind="lagging", frequency="monthly"),
    ...     Kpi("lead", outcome="o", kind="leading", frequency="yearly")])
    >>> [(w.kind, w.outcome, w.kpi) for w in ws]
    [('leading_less_often', 'o', 'lead'), ('no_leading', 'p', None), ('no_lagging', 'p', None)]
    """
    out: list[RegisterWarning] = []
    for o in outcomes:
        mine = [k for k in kpis if k.outcome == o.id]
        leading = [k for k in mine if k.kind == "leading"]
        lagging = [k for k in mine if k.kind == "lagging"]
        label = o.description or o.id
        lag_known = [(periods_per_year(k.frequency), k) for k in lagging if periods_per_year(k.frequency) is not None]
        if lag_known:
            fastest_n, fastest = max(lag_known, key=lambda p: p[0])  # type: ignore[arg-type, return-value]
            for k in leading:
                n = periods_per_year(k.frequency)
                if n is not None and n < fastest_n:  # type: ignore[operator]
                    out.append(
                        RegisterWarning(
                            "leading_less_often",
                            o.id,
                            k.id,
                            f"{k.name or k.id} is meant to warn early but is measured {frequency_word(k.frequency)}, less often "
                            f"than {fastest.name or fastest.id} ({frequency_word(fastest.frequency)}), which it should run ahead of",
                        )
                    )
        if not leading:
            out.append(
                RegisterWarning(
                    "no_leading", o.id, None, f"“{label}” has no leading KPI: nothing will show early whether it is on course"
                )
            )
        if not lagging:
            out.append(
                RegisterWarning("no_lagging", o.id, None, f"“{label}” has no lagging KPI: nothing will prove it was reached")
            )
    return out


@dataclass
class Workshop:
    """The workshop's state for one engagement: candidates, weights, ranking, shortlist, warnings."""

    candidates: list[Candidate]
    weights: dict[str, int]
    ranking: list[Scored]
    shortlist: list[str]
    warnings: list[RegisterWarning]
    notes: dict[str, list[str]] = field(default_factory=dict)  # candidate id -> remarks for the ranking


def workshop_state(outcomes: Sequence[Outcome], kpis: Sequence[Kpi], answers: Mapping[str, Any] | None) -> Workshop:
    """Read and check the saved answers, rank the candidates, check the register."""
    answers = answers or {}
    candidates = candidates_from_answers(answers, outcomes=[o.id for o in outcomes] if outcomes else None)
    weights = weights_from_answer(answers.get("weights"))
    ranking = rank(candidates, weights)
    shortlist = shortlist_from_answer(answers.get("shortlist"), candidates)
    return Workshop(candidates, weights, ranking, shortlist, register_warnings(outcomes, kpis), candidate_notes(candidates, kpis))


def candidate_notes(candidates: Sequence[Candidate], kpis: Sequence[Kpi]) -> dict[str, list[str]]:
    """Remarks to show beside a leading candidate: slower than its outcome's lagging KPI.

    >>> candidate_notes([Candidate("s", "Survey", outcome="o", frequency="yearly")],
    ...                 [Kpi("c", outcome="o", kind="lagging", frequency="monthly", name="Clients")])
    {'s': ['measured yearly, less often than Clients (monthly)']}
    """
    lagging = [
        (k.outcome, periods_per_year(k.frequency), k.name or k.id, frequency_word(k.frequency))
        for k in kpis
        if k.kind == "lagging"
    ]
    lagging += [(c.outcome, periods_per_year(c.frequency), c.name, c.frequency) for c in candidates if c.kind == "lagging"]
    notes: dict[str, list[str]] = {}
    for c in candidates:
        n = periods_per_year(c.frequency)
        if c.kind != "leading" or n is None:
            continue
        faster = [(m, name, f) for outcome, m, name, f in lagging if outcome == c.outcome and m is not None and m > n]
        if faster:
            _, name, f = max(faster)
            notes.setdefault(c.id, []).append(f"measured {c.frequency}, less often than {name} ({f})")
    return notes


# ----------------------------------------------------------------------------- capabilities and their KPIs

# The capability changes (initiative.capabilities[].change) that move outputs and so need measuring; "keep" does not.
CHANGING = ("improve", "create", "retire")


def kpis_by_capability(capabilities: Sequence[Mapping[str, Any]], kpis: Sequence[Kpi]) -> dict[str, list[Kpi]]:
    """Each capability's name -> the KPIs that measure it (``kpis[].capability``), in register order.

    >>> caps = [{"name": "Taking new orders", "change": "improve"}, {"name": "Invoicing", "change": "keep"}]
    >>> found = kpis_by_capability(caps, [Kpi("o", capability="Taking new orders"), Kpi("x")])
    >>> {name: [k.id for k in ks] for name, ks in found.items()}
    {'Taking new orders': ['o'], 'Invoicing': []}
    """
    names = [str(c.get("name")) for c in capabilities if c.get("name")]
    return {name: [k for k in kpis if k.capability == name] for name in names}


def unmeasured_changes(capabilities: Sequence[Mapping[str, Any]], kpis: Sequence[Kpi]) -> list[str]:
    """The capabilities being changed (improve, create or retire) that no KPI measures, by name: their
    changed outputs are where value shows, so each needs a KPI.

    >>> caps = [{"name": "Releasing Software Y", "change": "improve"}, {"name": "Invoicing", "change": "keep"},
    ...         {"name": "Scrap tracking", "change": "create"}]
    >>> unmeasured_changes(caps, [Kpi("r", capability="Releasing Software Y")])
    ['Scrap tracking']
    """
    measured = kpis_by_capability(capabilities, kpis)
    return [
        str(c["name"]) for c in capabilities if c.get("name") and c.get("change") in CHANGING and not measured[str(c["name"])]
    ]
