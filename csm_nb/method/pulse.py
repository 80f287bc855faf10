"""The customer pulse: "how well can *you* get your job done today?", asked again and again.

Pure functions over the engagement's customer jobs (``jobs`` → ``steps`` → ``desired_outcomes``, the
checked mappings of the engagement file) and its pulse answers (:class:`csm_nb.model.PulseAnswer`:
``date``, ``respondent``, ``desired_outcome``, ``satisfaction``, ``importance``, ``comment``). Ratings
are points on 0-10, shifts are points (positive: the customer can do it better than before), dates are
``datetime.date`` here and ISO text in the answers. ``None`` is "not known yet", never 0.

* **The question** (:func:`question`): each desired outcome is asked as "How well can you <its
  statement> today?" on 0-10; a leading "minimise" becomes "cut", a leading "maximise" becomes
  "raise". It asks how the customer is doing, never how we are doing.
* **A round** is a date: every answer given that day is in it. Several respondents answering the
  same desired outcome in a round are averaged (satisfaction, and importance among those who gave it).
* **Per desired outcome** (:func:`outcome_pulse`): the latest round that answered it and the one
  before; satisfaction then and now; **shift** = latest - previous (points). **Opportunity** =
  importance + max(importance - satisfaction, 0) (:func:`csm_nb.method.jobs.opportunity`, the
  customer jobs' own score, points on 0-20) at each of the two rounds,
  with the importance answered by then (the latest answered on or before the round), else the
  desired outcome's own importance from the jobs.
* **Per job and overall** (:func:`mean_shift`): the mean latest satisfaction over the outcomes
  answered; the mean previous over those answered twice; shift = the mean of their shifts (like for
  like: an outcome asked for the first time moves the level, not the shift).
* **Top moves** (:func:`top_moves`): the 3 largest rises and the 3 largest falls.
* **Quotes** (:func:`quotes`): the comments, newest first, each with who said it and when.
* **Coverage** (:func:`coverage`): which of the customer's stakeholders answered in the
  :data:`WINDOW_DAYS` up to ``as_of``, and who answered without being on the map.
* **Customer view** (:func:`customer_view`): 10 x the mean of the latest satisfaction of each
  desired outcome answered in the :data:`WINDOW_DAYS` up to ``as_of`` (the account-health component).

Nothing dated after ``as_of`` counts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from csm_nb.method.jobs import opportunity
from csm_nb.model import PulseAnswer

WINDOW_DAYS = 180  # the customer view reads the pulse rounds of the last 180 days
TOP_MOVES = 3  # improved and worsened outcomes shown
QUOTES = 5  # comments a report quotes
SCALE = 10.0  # satisfaction and importance are rated 0-10
_DIGITS = 9  # float noise (0.1 + 0.2) must never show in a shift

# A desired outcome's leading verb, as the question puts it to the customer.
_VERBS: dict[str, str] = {"minimise": "cut", "minimize": "cut", "maximise": "raise", "maximize": "raise"}
_LEADING_VERB = re.compile(r"^\s*(minimi[sz]e|maximi[sz]e)\b\s*", re.IGNORECASE)


def _clean(value: float | None) -> float | None:
    return None if value is None else round(float(value), _DIGITS) + 0.0


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return _clean(math.fsum(found) / len(found)) if found else None


def day(value: Any) -> dt.date | None:
    """An answer's ISO date as a date; ``None`` for nothing or a text that is no date.

    >>> day("2027-03-31"), day(dt.date(2027, 3, 31)), day("soon")
    (datetime.date(2027, 3, 31), datetime.date(2027, 3, 31), None)
    """
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


# -- the desired outcomes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DesiredOutcome:
    """One desired outcome of a job's step, as the pulse asks it (importance and satisfaction 0-10, as
    the jobs workshop rated them; ``None`` when not rated)."""

    id: str
    statement: str
    job: str
    step: str
    direction: str | None = None
    unit: str | None = None
    importance: float | None = None
    satisfaction: float | None = None
    job_statement: str = ""
    step_name: str = ""

    @property
    def question(self) -> str:
        return question(self.statement)


def _number(value: Any) -> float | None:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def desired_outcomes(jobs: Sequence[Mapping[str, Any]] | None) -> list[DesiredOutcome]:
    """Every desired outcome of the engagement's jobs: job by job in the file's order, steps by their
    ``order`` (then the file's), outcomes in the step's order.

    >>> jobs = [{"id": "serve", "statement": "serve every client", "steps": [
    ...     {"id": "b", "name": "visit", "order": 2, "desired_outcomes": [{"id": "missed", "statement": "minimise missed visits"}]},
    ...     {"id": "a", "name": "plan", "order": 1, "desired_outcomes": [
    ...         {"id": "plan-time", "statement": "minimise the time it takes to plan the day", "importance": 9, "satisfaction": 4}]}]}]
    >>> [(o.id, o.job, o.step, o.importance) for o in desired_outcomes(jobs)]
    [('plan-time', 'serve', 'a', 9.0), ('missed', 'serve', 'b', None)]
    """
    found: list[DesiredOutcome] = []
    for job in jobs or []:
        steps = sorted(
            enumerate(job.get("steps") or []),
            key=lambda s: (_number(s[1].get("order")) if _number(s[1].get("order")) is not None else math.inf, s[0]),
        )
        for _, step in steps:
            for o in step.get("desired_outcomes") or []:
                found.append(
                    DesiredOutcome(
                        id=str(o.get("id") or ""),
                        statement=" ".join(str(o.get("statement") or o.get("id") or "").split()),
                        job=str(job.get("id") or ""),
                        step=str(step.get("id") or ""),
                        direction=o.get("direction"),
                        unit=o.get("unit"),
                        importance=_number(o.get("importance")),
                        satisfaction=_number(o.get("satisfaction")),
                        job_statement=" ".join(str(job.get("statement") or job.get("id") or "").split()),
                        step_name=" ".join(str(step.get("name") or step.get("id") or "").split()),
                    )
                )
    return found


def question(statement: str) -> str:
    """The pulse question for a desired outcome: how well the customer can do it today (0-10).

    The statement's leading "minimise" reads "cut", "maximise" reads "raise"; its first letter is
    lowered and a final full stop dropped. It asks about the customer's job, never about our service.

    >>> question("minimise the time it takes to plan the day's visits")
    "How well can you cut the time it takes to plan the day's visits today?"
    >>> question("Maximise the share of clients seen in the month.")
    'How well can you raise the share of clients seen in the month today?'
    >>> question("keep every visit on schedule")
    'How well can you keep every visit on schedule today?'
    """
    text = " ".join(str(statement or "").split()).rstrip(" .?!")
    verb = _LEADING_VERB.match(text)
    if verb:
        text = _VERBS[verb.group(1).lower()] + " " + text[verb.end() :]
    elif text[:1].isupper() and text[1:2].islower():  # "Keep ..." but not an acronym such as "ERP ..."
        text = text[:1].lower() + text[1:]
    return f"How well can you {text.strip()} today?"


# -- rounds -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Round:
    """One desired outcome's answers on one date: the mean satisfaction, the mean importance of those
    who gave one (``None``: nobody did), and who answered."""

    date: dt.date
    satisfaction: float
    importance: float | None
    respondents: tuple[str, ...]


def answers_until(answers: Sequence[PulseAnswer], *, as_of: dt.date, since: dt.date | None = None) -> list[PulseAnswer]:
    """The answers dated on or before ``as_of`` (and on or after ``since``), with a satisfaction."""
    kept = []
    for a in answers:
        when = day(a.date)
        if when is None or when > as_of or (since is not None and when < since):
            continue
        if _number(a.satisfaction) is None:
            continue
        kept.append(a)
    return kept


def rounds(answers: Sequence[PulseAnswer], *, as_of: dt.date, since: dt.date | None = None) -> dict[str, list[Round]]:
    """Each desired outcome's rounds up to ``as_of``, oldest first; several answers on a date are averaged.

    >>> found = rounds([PulseAnswer("2027-03-31", "Priya", "plan-time", 4, importance=9),
    ...                 PulseAnswer("2027-06-30", "Priya", "plan-time", 7),
    ...                 PulseAnswer("2027-06-30", "Tom", "plan-time", 5, importance=8)], as_of=dt.date(2027, 7, 1))
    >>> [(r.date.isoformat(), r.satisfaction, r.importance, r.respondents) for r in found["plan-time"]]
    [('2027-03-31', 4.0, 9.0, ('Priya',)), ('2027-06-30', 6.0, 8.0, ('Priya', 'Tom'))]
    """
    by: dict[str, dict[dt.date, list[PulseAnswer]]] = {}
    for a in answers_until(answers, as_of=as_of, since=since):
        when = day(a.date)
        assert when is not None  # answers_until keeps dated answers only
        by.setdefault(a.desired_outcome, {}).setdefault(when, []).append(a)
    found: dict[str, list[Round]] = {}
    for outcome, dates in by.items():
        found[outcome] = [
            Round(
                date=when,
                satisfaction=_mean(float(a.satisfaction) for a in given) or 0.0,
                importance=_mean(float(a.importance) for a in given if _number(a.importance) is not None),
                respondents=tuple(sorted({str(a.respondent) for a in given if a.respondent})),
            )
            for when, given in sorted(dates.items())
        ]
    return found


def round_dates(answers: Sequence[PulseAnswer], *, as_of: dt.date) -> list[dt.date]:
    """The dates of the pulse rounds up to ``as_of``, oldest first.

    >>> round_dates([PulseAnswer("2027-06-30", "Tom", "a", 5), PulseAnswer("2027-03-31", "Tom", "a", 4),
    ...              PulseAnswer("2027-06-30", "Priya", "b", 6), PulseAnswer("2027-09-30", "Tom", "a", 6)],
    ...             as_of=dt.date(2027, 7, 1))
    [datetime.date(2027, 3, 31), datetime.date(2027, 6, 30)]
    """
    return sorted({d for a in answers_until(answers, as_of=as_of) if (d := day(a.date)) is not None})


# -- per desired outcome ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OutcomePulse:
    """Where a desired outcome stands in the pulse: satisfaction at the latest and previous rounds
    (``None``: no such round), the shift in points, the importance and opportunity at each."""

    outcome: DesiredOutcome
    latest_on: dt.date | None
    previous_on: dt.date | None
    latest: float | None
    previous: float | None
    shift: float | None
    importance_latest: float | None
    importance_previous: float | None
    opportunity_latest: float | None
    opportunity_previous: float | None
    respondents: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.outcome.id

    @property
    def job(self) -> str:
        return self.outcome.job

    @property
    def answered(self) -> bool:
        return self.latest is not None

    def as_json(self) -> dict[str, Any]:
        def iso(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "id": self.outcome.id,
            "job": self.outcome.job,
            "step": self.outcome.step,
            "statement": self.outcome.statement,
            "question": self.outcome.question,
            "previous": self.previous,
            "latest": self.latest,
            "shift": self.shift,
            "previous_on": iso(self.previous_on),
            "latest_on": iso(self.latest_on),
            "importance_previous": self.importance_previous,
            "importance_latest": self.importance_latest,
            "opportunity_previous": self.opportunity_previous,
            "opportunity_latest": self.opportunity_latest,
            "respondents": list(self.respondents),
        }


def _opportunity(importance: float | None, satisfaction: float | None) -> float | None:
    if importance is None or satisfaction is None:
        return None
    return _clean(opportunity(importance=importance, satisfaction=satisfaction))


def outcome_pulse(outcome: DesiredOutcome, found: Sequence[Round]) -> OutcomePulse:
    """A desired outcome's latest and previous rounds (``found`` oldest first): satisfaction, shift,
    and the opportunity at each with the importance answered by then, else the outcome's own.

    The acceptance numbers: importance 9; satisfaction 4 in March, 6 in June: shift +2, opportunity 14 -> 12.

    >>> o = DesiredOutcome("plan-time", "minimise the time it takes to plan the day's visits", "serve", "plan", importance=9)
    >>> p = outcome_pulse(o, [Round(dt.date(2027, 3, 31), 4.0, None, ("Priya",)), Round(dt.date(2027, 6, 30), 6.0, None, ("Priya",))])
    >>> (p.previous, p.latest, p.shift, p.opportunity_previous, p.opportunity_latest)
    (4.0, 6.0, 2.0, 14.0, 12.0)
    """
    importance: list[float | None] = []
    known = outcome.importance
    for r in found:
        known = r.importance if r.importance is not None else known  # the latest answered by then
        importance.append(known)
    latest = found[-1] if found else None
    previous = found[-2] if len(found) > 1 else None
    shift = _clean(latest.satisfaction - previous.satisfaction) if latest and previous else None
    imp_latest = importance[-1] if latest else outcome.importance
    imp_previous = importance[-2] if previous else None
    return OutcomePulse(
        outcome=outcome,
        latest_on=latest.date if latest else None,
        previous_on=previous.date if previous else None,
        latest=latest.satisfaction if latest else None,
        previous=previous.satisfaction if previous else None,
        shift=shift,
        importance_latest=imp_latest,
        importance_previous=imp_previous,
        opportunity_latest=_opportunity(imp_latest, latest.satisfaction if latest else None),
        opportunity_previous=_opportunity(imp_previous, previous.satisfaction if previous else None),
        respondents=latest.respondents if latest else (),
    )


def pulse_by_outcome(
    jobs: Sequence[Mapping[str, Any]] | None, answers: Sequence[PulseAnswer], *, as_of: dt.date
) -> list[OutcomePulse]:
    """Every desired outcome of the jobs (in :func:`desired_outcomes`' order) with its pulse up to ``as_of``;
    one never answered has no latest round."""
    found = rounds(answers, as_of=as_of)
    return [outcome_pulse(o, found.get(o.id, [])) for o in desired_outcomes(jobs)]


# -- per job and overall ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Shift:
    """Mean satisfaction over several desired outcomes: ``latest`` over those answered, ``previous``
    over those answered twice, ``shift`` = the mean of their shifts (points); ``answered`` and
    ``compared`` count them."""

    latest: float | None
    previous: float | None
    shift: float | None
    answered: int = 0
    compared: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"latest": self.latest, "previous": self.previous, "shift": self.shift}


def mean_shift(outcomes: Iterable[OutcomePulse]) -> Shift:
    """The mean latest and previous satisfaction of ``outcomes``, and their mean shift (like for like).

    >>> o = DesiredOutcome("x", "x", "j", "s")
    >>> def p(prev, latest):
    ...     return OutcomePulse(o, None, None, latest, prev, None if prev is None else latest - prev, None, None, None, None)
    >>> mean_shift([p(4, 6), p(7, 6), p(None, 8)])
    Shift(latest=6.666666667, previous=5.5, shift=0.5, answered=3, compared=2)
    """
    found = [o for o in outcomes if o.latest is not None]
    both = [o for o in found if o.previous is not None and o.shift is not None]
    return Shift(
        latest=_mean(o.latest for o in found if o.latest is not None),
        previous=_mean(o.previous for o in both if o.previous is not None),
        shift=_mean(o.shift for o in both if o.shift is not None),
        answered=len(found),
        compared=len(both),
    )


def by_job(outcomes: Sequence[OutcomePulse]) -> dict[str, Shift]:
    """:func:`mean_shift` of each job's desired outcomes, jobs in the order they first appear."""
    jobs: dict[str, list[OutcomePulse]] = {}
    for o in outcomes:
        jobs.setdefault(o.job, []).append(o)
    return {job: mean_shift(found) for job, found in jobs.items()}


def top_moves(outcomes: Sequence[OutcomePulse], *, n: int = TOP_MOVES) -> tuple[list[OutcomePulse], list[OutcomePulse]]:
    """The ``n`` desired outcomes that rose most (largest shift first) and the ``n`` that fell most
    (largest fall first); an outcome that did not move is in neither. Ties keep the jobs' order.

    >>> o = [OutcomePulse(DesiredOutcome(i, i, "j", "s"), None, None, 5, 5 - d, d, None, None, None, None)
    ...      for i, d in [("a", 2), ("b", -1), ("c", 0), ("d", 3), ("e", -3)]]
    >>> [[x.id for x in side] for side in top_moves(o)]
    [['d', 'a'], ['e', 'b']]
    """
    moved = [o for o in outcomes if o.shift is not None]
    improved = sorted((o for o in moved if o.shift > 0), key=lambda o: -o.shift)  # type: ignore[operator]
    worsened = sorted((o for o in moved if o.shift < 0), key=lambda o: o.shift)  # type: ignore[arg-type, return-value]
    return improved[:n], worsened[:n]


# -- what people said, and who -----------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    """A comment from the pulse, in the customer's own words."""

    date: dt.date
    respondent: str | None
    desired_outcome: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "respondent": self.respondent,
            "desired_outcome": self.desired_outcome,
            "text": self.text,
        }


def quotes(answers: Sequence[PulseAnswer], *, as_of: dt.date, limit: int = QUOTES) -> list[Quote]:
    """The comments up to ``as_of``, newest first (on one date, in the order given), at most ``limit``;
    the same words from the same person once.

    >>> [q.text for q in quotes([PulseAnswer("2027-03-31", "Priya", "a", 4, comment="Planning eats my mornings."),
    ...                          PulseAnswer("2027-06-30", "Tom", "a", 6, comment=" Much quicker now "),
    ...                          PulseAnswer("2027-06-30", "Tom", "b", 6)], as_of=dt.date(2027, 7, 1))]
    ['Much quicker now', 'Planning eats my mornings.']
    """
    found: list[tuple[dt.date, int, Quote]] = []
    seen: set[tuple[str | None, str]] = set()
    for i, a in enumerate(answers_until(answers, as_of=as_of)):
        text = " ".join(str(a.comment or "").split())
        when = day(a.date)
        if not text or when is None or (a.respondent, text) in seen:
            continue
        seen.add((a.respondent, text))
        found.append((when, i, Quote(when, a.respondent or None, a.desired_outcome, text)))
    found.sort(key=lambda f: (-f[0].toordinal(), f[1]))
    return [q for _, _, q in found[: max(0, limit)]]


@dataclass(frozen=True)
class Coverage:
    """Who answered the pulse in the window: the customer's stakeholders who did and did not, the
    respondents not on the map, and the share of the stakeholders who answered (``None``: none mapped)."""

    answered: list[str]
    missing: list[str]
    others: list[str]
    share: float | None

    def as_json(self) -> dict[str, Any]:
        return {"answered": self.answered, "missing": self.missing, "others": self.others, "share": self.share}


def coverage(
    answers: Sequence[PulseAnswer],
    stakeholders: Sequence[Mapping[str, Any]] | None,
    *,
    as_of: dt.date,
    window_days: int = WINDOW_DAYS,
) -> Coverage:
    """The customer's stakeholders (``side`` customer, or no side; not ``status: left``) who answered in the
    ``window_days`` up to ``as_of``; names compared without case or extra spaces.

    >>> people = [{"name": "Priya Raman", "side": "customer"}, {"name": "Tom Okafor"}, {"name": "Ana", "side": "ours"}]
    >>> coverage([PulseAnswer("2027-06-30", "priya raman", "a", 6), PulseAnswer("2027-06-30", "Lee", "a", 5)],
    ...          people, as_of=dt.date(2027, 7, 1))
    Coverage(answered=['Priya Raman'], missing=['Tom Okafor'], others=['Lee'], share=0.5)
    """

    def key(name: Any) -> str:
        return " ".join(str(name or "").split()).casefold()

    since = as_of - dt.timedelta(days=window_days)
    given = {
        key(a.respondent): " ".join(str(a.respondent).split())
        for a in answers_until(answers, as_of=as_of, since=since)
        if key(a.respondent)
    }
    people = [
        " ".join(str(s.get("name")).split())
        for s in stakeholders or []
        if key(s.get("name")) and s.get("side") in (None, "", "customer") and s.get("status") != "left"
    ]
    people = list(dict.fromkeys(people))
    answered = [p for p in people if key(p) in given]
    known = {key(p) for p in people}
    others = sorted((name for k, name in given.items() if k not in known), key=str.casefold)
    return Coverage(
        answered=answered,
        missing=[p for p in people if key(p) not in given],
        others=others,
        share=_clean(len(answered) / len(people)) if people else None,
    )


# -- the customer view (account health) ---------------------------------------------------------------
def latest_satisfaction(
    answers: Sequence[PulseAnswer], *, as_of: dt.date, window_days: int = WINDOW_DAYS
) -> dict[str, tuple[dt.date, float]]:
    """Each desired outcome's latest round in the ``window_days`` up to ``as_of``: (date, mean satisfaction).

    >>> latest_satisfaction([PulseAnswer("2027-03-31", "Priya", "a", 4), PulseAnswer("2027-06-30", "Priya", "a", 6),
    ...                      PulseAnswer("2026-06-30", "Priya", "b", 9)], as_of=dt.date(2027, 7, 1))
    {'a': (datetime.date(2027, 6, 30), 6.0)}
    """
    since = as_of - dt.timedelta(days=window_days)
    return {k: (r[-1].date, r[-1].satisfaction) for k, r in rounds(answers, as_of=as_of, since=since).items() if r}


def customer_view(answers: Sequence[PulseAnswer], *, as_of: dt.date, window_days: int = WINDOW_DAYS) -> float | None:
    """The customer's own view, 0-100: 10 x the mean of the latest satisfaction (0-10) of each desired
    outcome answered in the ``window_days`` up to ``as_of``; ``None`` without an answer there.

    The acceptance numbers: latest satisfactions 4, 6 and 8 give 10 x 6 = 60.

    >>> at = dt.date(2027, 7, 1)
    >>> customer_view([PulseAnswer("2027-06-30", "Priya", "a", 4), PulseAnswer("2027-06-30", "Priya", "b", 6),
    ...                PulseAnswer("2027-03-31", "Priya", "c", 2), PulseAnswer("2027-06-30", "Tom", "c", 8)], as_of=at)
    60.0
    >>> customer_view([PulseAnswer("2026-06-30", "Priya", "a", 4)], as_of=at) is None
    True
    """
    found = latest_satisfaction(answers, as_of=as_of, window_days=window_days)
    if not found:
        return None
    return _clean(SCALE * math.fsum(s for _, s in found.values()) / len(found))
