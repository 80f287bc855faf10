"""The customer pulse (workbook ``customer_pulse``): "how well can *you* get your job done today?", asked
round after round, and how the answers move.

Each desired outcome of the customer's jobs is asked as a question on 0-10 about the customer's own work,
never about our service. The report shows the questions, where each answer stands against the round
before (a chart of both rounds per outcome), the largest rises and falls, each job's mean, who answered
and what they said in their own words. The arithmetic is :mod:`csm_nb.method.pulse`.

Audience: the customer. A person running the notebook gets a small form above the report to record one
respondent's answers for a date (:mod:`csm_nb.forms.pulse`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import pulse as pm
from csm_nb.method.dates import parse_as_of
from csm_nb.method.verdicts import Verdicts
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import day_words, percent, plural

WORKBOOK = "customer_pulse"
TITLE = "Customer pulse"
SHORT_NAME = 40  # characters of a desired outcome a chart row shows (its labels get at most 38 % of the width)
NOT_ASKED = "not answered yet"


def applies(engagement: Engagement) -> bool:
    """Something to show: at least one pulse answer."""
    return bool(engagement.pulse)


def when(day: dt.date | None) -> str:
    """A date as people read it ("30 Jun 2027"), or "not yet"."""
    return day_words(day) if day else "not yet"


def rating(value: float | None) -> str:
    """A 0-10 rating as people read it: one decimal ("6.0"), or "not answered yet".

    >>> rating(6), rating(6.666666667), rating(None)
    ('6.0', '6.7', 'not answered yet')
    """
    return NOT_ASKED if value is None else f"{value:.1f}"


def points(shift: float | None) -> str:
    """A shift in points with its sign ("+2.0", "-1.0", "0.0"); "" when there is nothing to compare.

    >>> points(2), points(-1), points(0), points(None)
    ('+2.0', '-1.0', '0.0', '')
    """
    if shift is None:
        return ""
    if round(shift, 1) == 0:
        return "0.0"
    return f"{shift:+.1f}"


def short_name(text: str, *, limit: int = SHORT_NAME) -> str:
    """A desired outcome short enough for a chart's row label.

    >>> short_name("minimise the time it takes to plan the day's visits and the week's rota", limit=30)
    'minimise the time it takes…'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def moved_words(shift: float | None) -> str:
    """How the mean moved, in words: "up 0.7 points", "down 1.0 point", "unchanged".

    >>> moved_words(0.67), moved_words(-1), moved_words(0.02), moved_words(None)
    ('up 0.7 points', 'down 1.0 point', 'unchanged', '')
    """
    if shift is None:
        return ""
    if round(shift, 1) == 0:
        return "unchanged"
    size = abs(round(shift, 1))
    return f"{'up' if shift > 0 else 'down'} {size:.1f} {'point' if size == 1 else 'points'}"


@dataclass
class CustomerPulsePage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "customer"
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """The mean latest satisfaction, its shift and the latest round's date."""
        overall = results.get("overall") if isinstance(results.get("overall"), Mapping) else {}
        latest, shift = overall.get("latest"), overall.get("shift")
        rounds = results.get("rounds") or []
        if not isinstance(latest, int | float) or not rounds:
            return overall_headline(results, tagged=False)
        answered = sum(1 for o in results.get("outcomes") or [] if o.get("latest") is not None)
        moved = moved_words(shift) if isinstance(shift, int | float) else ""
        summary = (
            f"Mean satisfaction {latest:.1f} of 10"
            + (f" ({moved} on the round before)" if moved else "")
            + f" over {plural(answered, 'desired outcome')}; latest round {when(pm.day(rounds[-1]))}."
        )
        found = {"pulse_latest": latest, "pulse_shift": shift, "pulse_round": rounds[-1]}
        return overall_headline(results, figures=found, summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> CustomerPulsePage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    as_of: dt.date
    db: str | None = None
    # The form while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e, as_of = self.engagement, self.as_of
        self.outcomes = pm.pulse_by_outcome(e.jobs, e.pulse, as_of=as_of)
        self.jobs = pm.by_job(self.outcomes)
        self.overall = pm.mean_shift(self.outcomes)
        self.improved, self.worsened = pm.top_moves(self.outcomes)
        self.quotes = pm.quotes(e.pulse, as_of=as_of)
        self.rounds = pm.round_dates(e.pulse, as_of=as_of)
        self.coverage = pm.coverage(e.pulse, e.stakeholders, as_of=as_of)
        self.customer_view = pm.customer_view(e.pulse, as_of=as_of)
        self.judged: Verdicts = engagement_verdicts(e, as_of=as_of)

    def verdicts(self) -> dict[str, Any]:
        return self.judged.as_json()

    # -- the form, for a person ----------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the form to record one respondent's answers (csm_nb.forms.pulse), above the report,
        whose parts then redraw after each save. Headless: nothing (the report is unchanged)."""
        if not self.interactive:
            return None
        from csm_nb.forms.pulse import PulseForms

        if self.forms is not None:
            self.forms.close()
        self.forms = PulseForms(self.engagement, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    # -- facts ---------------------------------------------------------------------------------------
    def job_statement(self, job_id: str) -> str:
        found = next((j for j in self.engagement.jobs or [] if j.get("id") == job_id), None)
        return str((found or {}).get("statement") or job_id)

    def answered(self) -> list[pm.OutcomePulse]:
        return [o for o in self.outcomes if o.answered]

    # -- the report ----------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not self.rounds:
            return callout(
                f"Nobody at {e.customer} has answered the pulse yet. Ask each desired outcome of the customer's jobs "
                "as the question below, import the answers (csm-nb import answers.csv) or record them in the form.",
                tone="info",
                title="No answers yet.",
            )
        o = self.overall
        answered = self.answered()
        parts = [
            f"{plural(len(answered), 'desired outcome')} of {len(self.outcomes)} answered; "
            f"mean satisfaction {rating(o.latest)} of 10 at the latest answers."
        ]
        if o.shift is not None:
            parts.append(
                f"Like for like, the {plural(o.compared, 'outcome')} answered twice moved {moved_words(o.shift)} "
                "on the round before."
            )
        if self.improved:
            parts.append("Better: " + "; ".join(f"{x.outcome.statement} ({points(x.shift)})" for x in self.improved) + ".")
        if self.worsened:
            parts.append("Worse: " + "; ".join(f"{x.outcome.statement} ({points(x.shift)})" for x in self.worsened) + ".")
        tone = "warn" if o.shift is not None and o.shift < 0 else ("good" if o.shift is not None and o.shift > 0 else "info")
        title = f"Latest round {when(self.rounds[-1])}."
        return callout(" ".join(parts), tone=tone, title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not self.rounds:
            return Html("")
        o, c = self.overall, self.coverage
        people = len(c.answered) + len(c.missing)
        items = [
            ("Satisfaction now", f"{rating(o.latest)} of 10", f"mean over {plural(o.answered, 'desired outcome')}"),
            (
                "Since the round before",
                points(o.shift) or "first round",
                f"{plural(o.compared, 'outcome')} answered twice" if o.shift is not None else "nothing to compare yet",
            ),
            ("Rounds", str(len(self.rounds)), f"latest {when(self.rounds[-1])}"),
            (
                "Who answered",
                f"{len(c.answered)} of {people}" if people else str(len(c.others)),
                f"of the people named on your side ({percent(c.share, decimals=0)})" if people else "respondents",
            ),
        ]
        return figures(items)

    @live_part
    def questions(self) -> Html:
        if not self.outcomes:
            return Html("")
        rows = [
            [
                self.job_statement(o.job),
                o.outcome.question,
                rating(o.previous) if o.previous is not None else "",
                rating(o.latest),
                points(o.shift),
                self.opportunity_words(o),
                ", ".join(o.respondents),
            ]
            for o in self.outcomes
        ]
        return section(
            "The questions and the answers",
            table(
                ["Job", "Question (0-10)", "Before", "Latest", "Shift", "Opportunity", "Answered by"],
                rows,
                numeric=[False, False, True, True, True, False, False],
            ),
            paragraph(
                "Each question asks how well you can get a part of your own work done today, from 0 (not at all) to 10 "
                "(perfectly). Opportunity is importance plus the gap between importance and satisfaction (0-20): above "
                "10 the need is under-served."
            ),
        )

    @staticmethod
    def opportunity_words(o: pm.OutcomePulse) -> str:
        """ "14 → 12", "12" (one round), or "" (not answered)."""
        now, then = o.opportunity_latest, o.opportunity_previous
        if now is None:
            return ""
        return f"{then:g} → {now:g}" if then is not None else f"{now:g}"

    @live_part
    def shift_chart(self) -> Html:
        answered = self.answered()
        if not answered:
            return Html("")
        rows: list[tuple[str, list[charts.Dot]]] = []
        for o in answered:
            dots = []
            if o.previous is not None:
                dots.append(charts.Dot(o.previous, "planned"))
            if o.latest is not None:
                dots.append(charts.Dot(o.latest, "late" if o.shift is not None and o.shift < 0 else "done"))
            rows.append((short_name(o.outcome.statement), dots))
        chart = charts.rows_chart(
            title="Satisfaction per desired outcome, the round before and the latest",
            rows=rows,
            x_ticks=[(x, str(x)) for x in range(0, 11, 2)],
            legend=(("planned", "Round before"), ("done", "Latest, same or better"), ("late", "Latest, lower")),
            row_height=20,
            caption=(
                "Hollow: the round before; solid: the latest answers (0 not at all, 10 perfectly). The line between "
                "them is the shift; a single dot is an outcome answered once."
            ),
        )
        return section("How the answers moved", Html(str(chart)))

    @live_part
    def moves(self) -> Html:
        if not self.improved and not self.worsened:
            return Html("")

        def rows(found: list[pm.OutcomePulse]) -> list[list[str]]:
            return [[o.outcome.statement, rating(o.previous), rating(o.latest), points(o.shift)] for o in found]

        parts: list[Any] = []
        if self.improved:
            parts.append(
                table(["Better than before", "Before", "Latest", "Shift"], rows(self.improved), numeric=[False, True, True, True])
            )
        if self.worsened:
            parts.append(
                table(["Worse than before", "Before", "Latest", "Shift"], rows(self.worsened), numeric=[False, True, True, True])
            )
        return section(
            "Largest moves", *parts, intro=f"The {pm.TOP_MOVES} largest rises and falls since each outcome's round before."
        )

    @live_part
    def per_job(self) -> Html:
        if not self.rounds or not self.jobs:
            return Html("")
        rows = [
            [
                self.job_statement(job),
                rating(s.latest) if s.answered else NOT_ASKED,
                rating(s.previous) if s.previous is not None else "",
                points(s.shift),
                f"{s.answered} of {sum(1 for o in self.outcomes if o.job == job)}",
            ]
            for job, s in self.jobs.items()
        ]
        o = self.overall
        footer = [
            [
                "All jobs",
                rating(o.latest),
                rating(o.previous) if o.previous is not None else "",
                points(o.shift),
                f"{o.answered} of {len(self.outcomes)}",
            ]
        ]
        return section(
            "Per job",
            table(
                ["Job", "Mean now", "Mean before", "Shift", "Outcomes answered"],
                rows,
                footer=footer,
                numeric=[False, True, True, True, False],
            ),
            intro="The mean of each job's latest answers; before and shift compare only the outcomes answered in two rounds.",
        )

    @live_part
    def quotes_part(self) -> Html:
        c = self.coverage
        parts: list[Any] = []
        if self.quotes:
            parts.append(
                join(
                    Html("<blockquote><p>“{}”</p><footer>{}, {}</footer></blockquote>").format(
                        q.text, q.respondent or "a respondent", when(q.date)
                    )
                    for q in self.quotes
                )
            )
        if c.missing or c.others:
            said = []
            if c.answered:
                said.append(f"Answered in the last {pm.WINDOW_DAYS} days: {', '.join(c.answered)}.")
            if c.missing:
                said.append(f"Not heard from yet: {', '.join(c.missing)}.")
            if c.others:
                said.append(f"Also answered: {', '.join(c.others)}.")
            parts.append(paragraph(" ".join(said)))
        if not parts:
            return Html("")
        return section("In your own words", *parts)

    def results(self) -> dict[str, Any]:
        def move(o: pm.OutcomePulse) -> dict[str, Any]:
            return {"id": o.id, "question": o.outcome.question, "previous": o.previous, "latest": o.latest, "shift": o.shift}

        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "audience": "customer",
            "verdicts": self.verdicts(),
            "rounds": [d.isoformat() for d in self.rounds],
            "outcomes": [o.as_json() for o in self.outcomes],
            "jobs": [
                {"id": job, "statement": self.job_statement(job), **s.as_json(), "answered": s.answered}
                for job, s in self.jobs.items()
            ],
            "overall": self.overall.as_json(),
            "improved": [move(o) for o in self.improved],
            "worsened": [move(o) for o in self.worsened],
            "quotes": [q.as_json() for q in self.quotes],
            "customer_view": self.customer_view,
            "coverage": self.coverage.as_json(),
        }


def page_for(engagement: Engagement, *, as_of: dt.date) -> CustomerPulsePage:
    """The page for an engagement already loaded, judged at ``as_of``."""
    return CustomerPulsePage(engagement, as_of)


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = ""
) -> CustomerPulsePage:
    """Load the engagement and read its pulse at ``as_of`` (an ISO date; empty for today)."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, as_of=day)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page.at(day)
