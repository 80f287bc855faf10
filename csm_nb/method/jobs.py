"""Customer jobs: how well each step of what the customer is trying to get done is served, and who the
customer deals with on the way. Pure functions over the engagement's ``jobs`` (checked mappings:
``id, statement, executor, kind, parent, outcome, steps``; a step ``id, name, order, parties, capability,
desired_outcomes``; a desired outcome ``id, statement, direction, unit, importance, satisfaction``).

* **Opportunity** (:func:`opportunity`), points on a 0-20 scale from two 0-10 ratings the customer
  gives a desired outcome: ``importance + max(importance - satisfaction, 0)``. Importance counts once,
  and again by as much as it is not satisfied; satisfaction beyond importance earns nothing back. The
  formula is the outcome-driven innovation literature's opportunity score (it is not in the seed).
* **Label** (:func:`opportunity_label`, the keys of :data:`LABELS`): opportunity above 15 is
  *extremely under-served*, above 10 *under-served*; else satisfaction above importance is
  *over-served*; else *appropriately served*. A desired outcome without both ratings is *not rated*
  and is left out of the ranking.
* **Ranking** (:func:`ranking`): highest opportunity first; ties by higher importance, then by id.
* **Share with other parties** (:func:`other_share`): of a step's interactions (counts by party:
  ``customer``, ``us``, ``other``), the fraction ``other / (customer + us + other)``; per job and overall
  the counts are summed first (so a busy step weighs more than a quiet one). A step with no counts has
  no share. A step is *mostly with other parties* when its share is above one half (:data:`MOSTLY_OTHER`).
* **Checks** (each returns warnings, one sentence each, empty when all is well):
  :func:`check_statement_solution` (a job statement names the product, the initiative or a
  bill-of-materials item: "strip the solution out"), :func:`check_outcome_metric` (a desired outcome
  without a direction or unit), :func:`check_outcome_service` (a desired outcome that describes our
  service, words of :data:`OUR_SERVICE_WORDS`: "this is how *we* are doing").
* **Read-back** (:func:`read_back`): the job map in one paraphrase to read to the customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from csm_nb.vocabulary import RATING_SCALE

UNDER_SERVED = 10.0  # opportunity above this: under-served
EXTREMELY_UNDER_SERVED = 15.0  # opportunity above this: extremely under-served
MOSTLY_OTHER = 0.5  # a step's share of interactions with other parties above this: mostly with other parties

# What each label says, in the order the report lists them.
LABELS: dict[str, str] = {
    "extremely_under_served": "extremely under-served",
    "under_served": "under-served",
    "served": "appropriately served",
    "over_served": "over-served",
    "not_rated": "not rated yet",
}
UNDER_SERVED_LABELS = ("extremely_under_served", "under_served")

# The eight universal steps of a job map (Ulwick and Bettencourt, "The Customer-Centered Innovation Map",
# 2008), offered as hints when the customer walks through a job; the seed itself does not list them.
UNIVERSAL_STEPS: dict[str, str] = {
    "define": "work out the aim and plan the approach",
    "locate": "gather what the job needs: inputs, information, people",
    "prepare": "set up the place and the inputs",
    "confirm": "check everything is ready before going ahead",
    "execute": "carry the job out",
    "monitor": "watch that it is going well",
    "modify": "adjust when it is not",
    "conclude": "finish off and wrap up",
}

# Words that make a desired outcome about our service rather than the customer's job. A closed list,
# matched as whole words (case does not matter); the product's own names are added by the caller.
OUR_SERVICE_WORDS: tuple[str, ...] = (
    "support",
    "our team",
    "your team",
    "response from us",
    "the vendor",
    "vendor",
    "the supplier",
    "supplier",
    "the product",
    "the software",
    "the tool",
    "ticket",
    "tickets",
    "account manager",
    "customer success manager",
    "csm",
    "help desk",
    "helpdesk",
    "service desk",
    "our service",
)

# Words of a product or bill-of-materials item too common to mean the solution on their own: a job
# statement may say "train" or "data" without naming what we sold. The whole item still counts.
GENERIC_WORDS: frozenset[str] = frozenset(
    """
    about after annual basic before days edition enterprise from hours implementation into licence licences
    license licenses module modules monthly onboarding package phase plan platform plus premium professional
    programme program project seat seats service services setup standard subscription support their them
    these they this training user users with year years your
    """.split()
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


# -- the scores --------------------------------------------------------------------------------------
def opportunity(*, importance: float, satisfaction: float) -> float:
    """The opportunity score of a desired outcome, in points (0 to 20): ``importance + max(importance -
    satisfaction, 0)``, both ratings on the 0-10 scale. Higher means a bigger unmet need.

    >>> opportunity(importance=9, satisfaction=4), opportunity(importance=6, satisfaction=8), opportunity(importance=8, satisfaction=8)
    (14.0, 6.0, 8.0)
    """
    importance, satisfaction = float(importance), float(satisfaction)
    return importance + max(importance - satisfaction, 0.0)


def opportunity_label(*, importance: float | None, satisfaction: float | None) -> str:
    """The label of a desired outcome (a key of :data:`LABELS`): opportunity above 15 extremely
    under-served, above 10 under-served; else satisfaction above importance over-served; else served.
    Without both ratings: ``not_rated``.

    >>> [opportunity_label(importance=i, satisfaction=s) for i, s in ((9, 4), (6, 8), (8, 8), (10, 2), (8, 6), (7, None))]
    ['under_served', 'over_served', 'served', 'extremely_under_served', 'served', 'not_rated']
    """
    if importance is None or satisfaction is None:
        return "not_rated"
    score = opportunity(importance=importance, satisfaction=satisfaction)
    if score > EXTREMELY_UNDER_SERVED:
        return "extremely_under_served"
    if score > UNDER_SERVED:
        return "under_served"
    if float(satisfaction) > float(importance):
        return "over_served"
    return "served"


@dataclass(frozen=True)
class RatedOutcome:
    """A desired outcome with where it sits (its job and step), its ratings and its opportunity."""

    id: str
    job: str
    step: str
    statement: str
    direction: str | None
    unit: str | None
    importance: float | None
    satisfaction: float | None
    opportunity: float | None
    label: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _rating(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def ordered_steps(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A job's steps in their ``order`` (steps without one keep their place after those with one).

    >>> [s["id"] for s in ordered_steps({"steps": [{"id": "b", "order": 2}, {"id": "c"}, {"id": "a", "order": 1}]})]
    ['a', 'b', 'c']
    """
    steps = [s for s in job.get("steps") or [] if isinstance(s, Mapping)]
    return [s for _, s in sorted(enumerate(steps), key=lambda p: (p[1].get("order") is None, p[1].get("order") or 0, p[0]))]


def desired_outcomes(jobs: Iterable[Mapping[str, Any]]) -> list[RatedOutcome]:
    """Every desired outcome of every job, job by job and step by step in order, rated.

    >>> jobs = [{"id": "serve", "steps": [{"id": "plan", "order": 1, "desired_outcomes": [
    ...     {"id": "plan-time", "statement": "minimise the time to plan the day", "importance": 9, "satisfaction": 4}]}]}]
    >>> o = desired_outcomes(jobs)[0]
    >>> (o.id, o.job, o.step, o.opportunity, o.label)
    ('plan-time', 'serve', 'plan', 14.0, 'under_served')
    """
    out = []
    for job in jobs:
        for step in ordered_steps(job):
            for d in step.get("desired_outcomes") or []:
                importance, satisfaction = _rating(d.get("importance")), _rating(d.get("satisfaction"))
                rated = importance is not None and satisfaction is not None
                out.append(
                    RatedOutcome(
                        id=str(d.get("id") or ""),
                        job=str(job.get("id") or ""),
                        step=str(step.get("id") or ""),
                        statement=str(d.get("statement") or ""),
                        direction=d.get("direction"),
                        unit=d.get("unit"),
                        importance=importance,
                        satisfaction=satisfaction,
                        opportunity=opportunity(importance=importance, satisfaction=satisfaction) if rated else None,  # type: ignore[arg-type]
                        label=opportunity_label(importance=importance, satisfaction=satisfaction),
                    )
                )
    return out


def ranking(outcomes: Iterable[RatedOutcome]) -> list[RatedOutcome]:
    """The rated desired outcomes, highest opportunity first; ties by higher importance, then by id.

    >>> rows = [RatedOutcome(i, "j", "s", "", None, None, imp, sat, opportunity(importance=imp, satisfaction=sat), "")
    ...         for i, imp, sat in (("b", 8, 8), ("a", 6, 4), ("c", 9, 4), ("d", 8, 8))]
    >>> [o.id for o in ranking(rows)]
    ['c', 'b', 'd', 'a']
    """
    rated = [o for o in outcomes if o.opportunity is not None]
    return sorted(rated, key=lambda o: (-(o.opportunity or 0.0), -(o.importance or 0.0), o.id))


# -- who the customer deals with -------------------------------------------------------------------
@dataclass(frozen=True)
class Parties:
    """Interactions counted by party: the customer's own people, us, and other parties."""

    customer: int = 0
    us: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.customer + self.us + self.other

    def __add__(self, more: Parties) -> Parties:
        return Parties(self.customer + more.customer, self.us + more.us, self.other + more.other)


def parties(step: Mapping[str, Any]) -> Parties:
    """A step's interaction counts (missing counts are 0).

    >>> parties({"parties": {"customer": 3, "us": 1, "other": 6}}).total
    10
    """
    found = step.get("parties") or {}
    return Parties(*(int(found.get(k) or 0) for k in ("customer", "us", "other")))


def other_share(counts: Parties) -> float | None:
    """The share of interactions with other parties, as a fraction: ``other / (customer + us + other)``;
    ``None`` when nothing was counted.

    Seventy of a hundred interactions with other parties:

    >>> other_share(Parties(customer=20, us=10, other=70))
    0.7
    >>> other_share(Parties()) is None
    True
    """
    return counts.other / counts.total if counts.total else None


def job_parties(job: Mapping[str, Any]) -> Parties:
    """A job's interactions: its steps' counts summed."""
    total = Parties()
    for step in job.get("steps") or []:
        total += parties(step)
    return total


def overall_parties(jobs: Iterable[Mapping[str, Any]]) -> Parties:
    """Every job's interactions summed.

    >>> jobs = [{"steps": [{"parties": {"customer": 3, "us": 1, "other": 6}}, {"parties": {"customer": 17, "us": 9, "other": 64}}]}]
    >>> other_share(overall_parties(jobs))
    0.7
    """
    total = Parties()
    for job in jobs:
        total += job_parties(job)
    return total


@dataclass(frozen=True)
class StepShare:
    """A step (of a job) with its interactions and the share with other parties."""

    job: str
    step: str
    name: str
    parties: Parties
    share: float | None

    @property
    def mostly_other(self) -> bool:
        return self.share is not None and self.share > MOSTLY_OTHER


def step_shares(jobs: Iterable[Mapping[str, Any]]) -> list[StepShare]:
    """Every step's share of interactions with other parties, job by job, steps in order."""
    return [
        StepShare(str(job.get("id") or ""), str(s.get("id") or ""), str(s.get("name") or ""), parties(s), other_share(parties(s)))
        for job in jobs
        for s in ordered_steps(job)
    ]


def mostly_with_others(jobs: Iterable[Mapping[str, Any]]) -> list[StepShare]:
    """The steps whose share of interactions with other parties is above one half (one half exactly is not).

    >>> jobs = [{"id": "j", "steps": [{"id": "a", "parties": {"customer": 3, "us": 1, "other": 6}},
    ...                               {"id": "b", "parties": {"customer": 4, "us": 1, "other": 5}}]}]
    >>> [s.step for s in mostly_with_others(jobs)]
    ['a']
    """
    return [s for s in step_shares(jobs) if s.mostly_other]


# -- the checks ------------------------------------------------------------------------------------
def _contains(text: str, phrase: str) -> bool:
    """Does ``text`` hold ``phrase`` as whole words, case aside?"""
    phrase = " ".join(phrase.split())
    if not phrase:
        return False
    return re.search(r"(?<![\w])" + re.escape(phrase).replace(r"\ ", r"\s+") + r"(?![\w])", text, re.IGNORECASE) is not None


def solution_terms(
    *, bill_of_materials: Sequence[str] = (), initiative: str | None = None, products: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """What a job statement must not name: (the term, where it comes from). Each bill-of-materials item
    and product name counts whole, and so does each of its words of four letters or more that is not in
    :data:`GENERIC_WORDS`; the initiative's name counts whole only (its words are often the customer's own).

    >>> solution_terms(bill_of_materials=["Pulse survey licence"], initiative="Employee engagement")
    [('Pulse survey licence', 'Pulse survey licence'), ('Pulse', 'Pulse survey licence'), ('survey', 'Pulse survey licence'), ('Employee engagement', 'Employee engagement')]
    """
    out: list[tuple[str, str]] = []
    for item in [*bill_of_materials, *products]:
        item = " ".join(str(item or "").split())
        if not item:
            continue
        out.append((item, item))
        words = _WORD.findall(item)
        if len(words) > 1:
            out += [(w, item) for w in words if len(w) >= 4 and w.lower() not in GENERIC_WORDS]
    name = " ".join(str(initiative or "").split())
    if name:
        out.append((name, name))
    seen: set[str] = set()
    return [(t, s) for t, s in out if not (t.lower() in seen or seen.add(t.lower()))]  # type: ignore[func-returns-value]


def check_statement_solution(job_id: str, statement: str, terms: Sequence[tuple[str, str]]) -> list[str]:
    """A job statement that names the solution: one warning naming the words found.

    >>> terms = solution_terms(bill_of_materials=["Pulse survey licence"])
    >>> check_statement_solution("j", "run the monthly Pulse survey", terms)
    ['job "j": the statement names the solution (Pulse survey licence: Pulse, survey); strip the solution out: say what the customer is trying to get done, not with what']
    >>> check_statement_solution("j", "serve every client who needs help in the month", terms)
    []
    """
    found: dict[str, list[str]] = {}
    for term, source in terms:
        if _contains(statement, term):
            found.setdefault(source, [])
            if term != source:
                found[source].append(term)
    if not found:
        return []
    named = "; ".join(f"{source}: {', '.join(words)}" if words else source for source, words in found.items())
    return [
        f'job "{job_id}": the statement names the solution ({named}); strip the solution out: '
        "say what the customer is trying to get done, not with what"
    ]


def check_outcome_metric(outcome: Mapping[str, Any]) -> list[str]:
    """A desired outcome needs a direction (minimise or maximise) and a unit to be measured.

    >>> check_outcome_metric({"id": "plan-time", "direction": "minimise", "unit": "minutes"})
    []
    >>> check_outcome_metric({"id": "plan-time", "unit": " "})
    ['desired outcome "plan-time": no direction (minimise or maximise) and no unit; say which way it should move and in what it is counted']
    """
    missing = []
    if not str(outcome.get("direction") or "").strip():
        missing.append("no direction (minimise or maximise)")
    if not str(outcome.get("unit") or "").strip():
        missing.append("no unit")
    if not missing:
        return []
    return [
        f'desired outcome "{outcome.get("id")}": {" and ".join(missing)}; say which way it should move and in what it is counted'
    ]


def check_outcome_service(outcome: Mapping[str, Any], *, products: Sequence[str] = ()) -> list[str]:
    """A desired outcome that describes our service (words of :data:`OUR_SERVICE_WORDS`, or a product's
    name) measures how *we* are doing, not how the customer's step went.

    >>> check_outcome_service({"id": "fast-answers", "statement": "minimise the wait for a response from Support"})
    ['desired outcome "fast-answers" describes our service (support): this is how *we* are doing; ask how the customer judges the step itself']
    >>> check_outcome_service({"id": "plan-time", "statement": "minimise the time it takes to plan the day's visits"})
    []
    """
    statement = str(outcome.get("statement") or "")
    found = [w for w in (*OUR_SERVICE_WORDS, *products) if str(w).strip() and _contains(statement, str(w))]
    # "the vendor" and "vendor" both match one mention: name the longer words only.
    found = [w for w in found if not any(w != o and _contains(o, w) for o in found)]
    if not found:
        return []
    return [
        f'desired outcome "{outcome.get("id")}" describes our service ({", ".join(w.lower() for w in found)}): '
        "this is how *we* are doing; ask how the customer judges the step itself"
    ]


def check_jobs(
    jobs: Iterable[Mapping[str, Any]],
    *,
    bill_of_materials: Sequence[str] = (),
    initiative: str | None = None,
    products: Sequence[str] = (),
) -> list[str]:
    """Every check's warnings for every job, in the jobs' order (each job's statement, then its desired
    outcomes step by step).

    >>> jobs = [{"id": "j", "statement": "serve clients", "steps": [{"id": "s", "desired_outcomes": [
    ...     {"id": "o", "statement": "minimise tickets", "direction": "minimise", "unit": "tickets"}]}]}]
    >>> check_jobs(jobs)
    ['desired outcome "o" describes our service (tickets): this is how *we* are doing; ask how the customer judges the step itself']
    """
    terms = solution_terms(bill_of_materials=bill_of_materials, initiative=initiative, products=products)
    out: list[str] = []
    for job in jobs:
        out += check_statement_solution(str(job.get("id") or ""), str(job.get("statement") or ""), terms)
        for step in ordered_steps(job):
            for d in step.get("desired_outcomes") or []:
                out += check_outcome_metric(d) + check_outcome_service(d, products=products)
    return out


# -- the read-back ----------------------------------------------------------------------------------
def _lower_first(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def read_back(job: Mapping[str, Any]) -> str:
    """The job map in one paraphrase to read back to the customer: who, what, and the steps in order.

    >>> read_back({"executor": "Care teams", "statement": "Serve every client who needs help in the month",
    ...            "steps": [{"name": "plan the day's visits", "order": 1, "desired_outcomes": [{"id": "a"}, {"id": "b"}]},
    ...                      {"name": "visit the clients", "order": 2}]})
    "Care teams are trying to serve every client who needs help in the month; it goes in 2 steps: 1. plan the day's visits (2 desired outcomes), 2. visit the clients. Is that right?"
    """
    who = " ".join(str(job.get("executor") or "").split()) or "They"
    steps = ordered_steps(job)
    listed = []
    for n, step in enumerate(steps, start=1):
        count = len(step.get("desired_outcomes") or [])
        extra = f" ({count} desired outcome{'s' * (count != 1)})" if count else ""
        listed.append(f"{n}. {_lower_first(step.get('name') or step.get('id') or '')}{extra}")
    what = _lower_first(job.get("statement") or "") or "get a job done"
    text = f"{who} are trying to {what}"
    if steps:
        text += f"; it goes in {len(steps)} step{'s' * (len(steps) != 1)}: " + ", ".join(listed)
    return text + ". Is that right?"


def rating_in_scale(value: Any) -> bool:
    """Is ``value`` a rating on the 0-10 scale (:data:`csm_nb.vocabulary.RATING_SCALE`)?

    >>> rating_in_scale(10), rating_in_scale(11), rating_in_scale(-0.5)
    (True, False, False)
    """
    return not isinstance(value, bool) and isinstance(value, (int, float)) and RATING_SCALE[0] <= value <= RATING_SCALE[1]
