"""Customer jobs (workbook ``customer_jobs``): what the customer is trying to get done, step by step,
how they judge each step (their desired outcomes), and which of those needs are served worst.

The job map (each job's steps in order, with who the customer deals with at each step, the capability
it calls on, its desired outcomes rated 0-10 for importance and satisfaction, and the KPIs that serve
them), the opportunity ranking (importance + max(importance - satisfaction, 0)), the under-served
list, the steps mostly with other parties, and the checks' warnings. The arithmetic is
:mod:`csm_nb.method.jobs`.

Audience: the customer (a map made with them). A person running the notebook, in JupyterLab or the
workshop app, gets the workshop above the report: each stage's questions as guidance and the fields
of the jobs, saved as they are typed (:mod:`csm_nb.forms.jobs`); the report's parts redraw after
each save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import jobs as jm
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import JOB_KINDS, TONE_COLOURS, percent, plural

WORKBOOK = "customer_jobs"
TITLE = "Customer jobs"
SHORT_LABEL = 34  # characters of a desired outcome's statement under its bar (the tables have it whole)
MOST_BARS = 15  # the ranking chart shows at most this many outcomes; the table lists them all
LABEL_TONES = {"extremely_under_served": "bad", "under_served": "warn", "served": "good", "over_served": "info"}


def applies(engagement: Engagement) -> bool:
    """Something to show: jobs in the engagement, or workshop answers saved for this workbook."""
    return bool(engagement.jobs) or bool((engagement.workshop or {}).get(WORKBOOK))


def short(text: str, *, limit: int = SHORT_LABEL) -> str:
    """A statement short enough to sit under a bar.

    >>> short("minimise the time it takes to plan the day's visits")
    'minimise the time it takes to…'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def rating(value: float | None) -> str:
    """A 0-10 rating or an opportunity as people read it: "9", "7.5", or "not rated"."""
    return "not rated" if value is None else f"{value:g}"


def products_list(value: Any) -> list[str]:
    """The notebook's ``products`` parameter (a list, or names separated by commas) as names."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [" ".join(str(v).split()) for v in value if str(v).strip()]


@dataclass
class CustomerJobsPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "customer"
    WORKSHOP = True
    WORKSHOP_BLURB = (
        "With the people who do the work: their jobs, the steps, how they judge each step, and how well it goes today."
    )
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """Desired outcomes rated, how many are under-served, and the share of interactions with other parties."""
        rated = results.get("ranking")
        if not isinstance(rated, list) or not rated:
            return overall_headline(results, tagged=False)
        under = len(results.get("under_served") or [])
        share = results.get("other_share")
        figures_ = {"outcomes_rated": len(rated), "under_served": under, "other_share": share}
        summary = f"{plural(len(rated), 'desired outcome')} rated; {under} under-served."
        if isinstance(share, (int, float)):
            summary += f" {percent(share, decimals=0)} of the interactions are with other parties."
        return overall_headline(results, figures=figures_, summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> CustomerJobsPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    as_of: dt.date
    products: list[str] = field(default_factory=list)  # the product's names a job statement must not contain
    db: str | None = None
    # The workshop while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e = self.engagement
        self.jobs: list[dict[str, Any]] = [dict(j) for j in e.jobs or []]
        self.outcomes = jm.desired_outcomes(self.jobs)
        self.ranked = jm.ranking(self.outcomes)
        self.steps = jm.step_shares(self.jobs)
        self.overall = jm.overall_parties(self.jobs)
        self.warnings = jm.check_jobs(
            self.jobs,
            bill_of_materials=[str(b.get("item") or "") for b in (e.solution or {}).get("bill_of_materials") or []],
            initiative=(e.initiative or {}).get("name"),
            products=self.products,
        )
        self.kpis_by_outcome: dict[str, list[str]] = {}
        for k in e.kpis:
            if k.desired_outcome:
                self.kpis_by_outcome.setdefault(k.desired_outcome, []).append(k.name or k.id)

    # -- the workshop, for a person ------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the workshop (questions as guidance, the jobs' fields saving as they are typed,
        csm_nb.forms.jobs) above the report, whose parts then redraw after each save. Headless: nothing."""
        if not self.interactive:
            return None
        from csm_nb.forms.jobs import JobsForms

        if self.forms is not None:
            self.forms.close()
        self.forms = JobsForms(self.engagement, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    def update_forms(self, forms: Any) -> None:
        """The forms keep their own draft of the jobs (they saved it): nothing to hand them."""

    # -- facts ---------------------------------------------------------------------------------------
    def under_served(self) -> list[jm.RatedOutcome]:
        return [o for o in self.ranked if o.label in jm.UNDER_SERVED_LABELS]

    def over_served(self) -> list[jm.RatedOutcome]:
        return [o for o in self.ranked if o.label == "over_served"]

    def job_name(self, job_id: str) -> str:
        job = next((j for j in self.jobs if j.get("id") == job_id), {})
        return str(job.get("statement") or job_id)

    def step_name(self, job_id: str, step_id: str) -> str:
        found = next((s for s in self.steps if s.job == job_id and s.step == step_id), None)
        return (found.name if found else "") or step_id

    def kpis_for(self, outcome_id: str) -> list[str]:
        return self.kpis_by_outcome.get(outcome_id, [])

    # -- the report ----------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not self.jobs:
            return callout(
                f"{e.customer} has no jobs mapped yet. Run the workshop (csm-nb workshop customer_jobs) or add jobs to "
                "the engagement file and import it again.",
                tone="info",
                title="No jobs yet.",
            )
        parts = [
            f"{plural(len(self.jobs), 'job')}, {plural(len(self.steps), 'step')}, "
            f"{plural(len(self.outcomes), 'desired outcome')} ({len(self.ranked)} rated)."
        ]
        under = self.under_served()
        if under:
            top = under[0]
            parts.append(
                f"{plural(len(under), 'desired outcome')} under-served; the biggest opportunity: {top.statement} "
                f"({rating(top.opportunity)} of 20)."
            )
        share = jm.other_share(self.overall)
        if share is not None:
            parts.append(f"{percent(share, decimals=0)} of the interactions along the way are with other parties.")
        title = f"{plural(len(under), 'need')} served badly today." if under else "No need is under-served."
        return callout(" ".join(parts), tone="warn" if under else "good", title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not self.jobs:
            return Html("")
        top = self.ranked[0] if self.ranked else None
        share = jm.other_share(self.overall)
        items = [
            ("Desired outcomes", str(len(self.outcomes)), f"{len(self.ranked)} rated for importance and satisfaction"),
            ("Under-served", str(len(self.under_served())), "opportunity above 10 of 20"),
            ("Biggest opportunity", rating(top.opportunity) if top else "none yet", short(top.statement) if top else ""),
            (
                "With other parties",
                percent(share, decimals=0) if share is not None else "not counted",
                f"of {plural(self.overall.total, 'interaction')}" if self.overall.total else "",
            ),
        ]
        return figures(items)

    @live_part
    def job_map(self) -> Html:
        if not self.jobs:
            return Html("")
        parts: list[Html] = []
        for job in self.jobs:
            jid = str(job.get("id") or "")
            kind = job.get("kind")
            about = [f"Done by {job['executor']}" if job.get("executor") else "", JOB_KINDS.get(kind, "") if kind else ""]
            if job.get("parent"):
                about.append(f"part of {self.job_name(str(job['parent']))}")
            share = jm.other_share(jm.job_parties(job))
            if share is not None:
                about.append(f"{percent(share, decimals=0)} of its interactions with other parties")
            rows: list[list[Any]] = []
            for n, step in enumerate(jm.ordered_steps(job), start=1):
                counts = jm.parties(step)
                step_cells = [
                    f"{n}. {step.get('name') or step.get('id')}",
                    f"{counts.customer} / {counts.us} / {counts.other}" if counts.total else "not counted",
                    step.get("capability") or "",
                ]
                found = [o for o in self.outcomes if o.job == jid and o.step == step.get("id")]
                if not found:
                    rows.append([*step_cells, "none yet", "", "", "", ""])
                for i, o in enumerate(found):
                    metric = " · ".join(x for x in (o.direction or "", o.unit or "") if x)
                    rows.append(
                        [
                            *(step_cells if i == 0 else ["", "", ""]),
                            o.statement + (f" ({metric})" if metric else ""),
                            f"{rating(o.importance)} / {rating(o.satisfaction)}",
                            rating(o.opportunity),
                            jm.LABELS[o.label],
                            ", ".join(self.kpis_for(o.id)),
                        ]
                    )
            parts.append(
                Html('<h3 style="margin:14px 0 4px">{}</h3>').format(job.get("statement") or jid)
                + paragraph("; ".join(a for a in about if a) + ".", css_class="note")
                + paragraph(jm.read_back(job))
                + table(
                    [
                        "Step",
                        "Interactions: customer / us / other",
                        "Capability",
                        "Desired outcome",
                        "Importance / satisfaction",
                        "Opportunity",
                        "Served",
                        "KPIs",
                    ],
                    rows,
                )
            )
        return section(
            "The job map",
            join(parts),
            intro=(
                "Each job the customer is trying to get done, its steps in order, and how they judge each step. Ratings are "
                "0 to 10; opportunity = importance + (importance - satisfaction when that is above 0), out of 20."
            ),
        )

    @live_part
    def ranking_chart(self) -> Html:
        if not self.ranked:
            return Html("")
        shown = self.ranked[:MOST_BARS]
        chart = charts.bar_chart(
            title="Opportunity by desired outcome",
            labels=[short(o.statement or o.id) for o in shown],
            values=[o.opportunity for o in shown],
            colors=[TONE_COLOURS[LABEL_TONES[o.label]] for o in shown],
            y_format=lambda v: f"{v:g}",
            y_label="opportunity (0-20)",
            caption=(
                "Highest opportunity first. Above 10 is under-served (amber), above 15 extremely under-served (red); "
                "green is appropriately served, blue over-served (satisfied beyond its importance)."
                + (f" The {MOST_BARS} biggest of {len(self.ranked)} are shown." if len(self.ranked) > MOST_BARS else "")
            ),
            desc="Opportunity by desired outcome: "
            + "; ".join(f"{o.statement} {rating(o.opportunity)} ({jm.LABELS[o.label]})" for o in shown)
            + ".",
        )
        return section("Where the needs are least served", Html(str(chart)))

    @live_part
    def under_served_list(self) -> Html:
        if not self.ranked:
            return Html("")
        under = self.under_served()
        if not under:
            body = paragraph("None: no rated desired outcome has an opportunity above 10.")
        else:
            body = table(
                ["Desired outcome", "Job", "Step", "Importance / satisfaction", "Opportunity", "Served", "KPIs"],
                [
                    [
                        o.statement,
                        self.job_name(o.job),
                        self.step_name(o.job, o.step),
                        f"{rating(o.importance)} / {rating(o.satisfaction)}",
                        rating(o.opportunity),
                        jm.LABELS[o.label],
                        ", ".join(self.kpis_for(o.id)) or "none yet",
                    ]
                    for o in under
                ],
            )
        over = self.over_served()
        extra = (
            paragraph(
                "Over-served (satisfied beyond their importance): " + "; ".join(o.statement for o in over) + ".",
                css_class="note",
            )
            if over
            else Html("")
        )
        return section(
            "Under-served needs",
            body,
            extra,
            intro="Important to the customer and not well satisfied today: where help is worth most.",
        )

    @live_part
    def other_parties(self) -> Html:
        counted = [s for s in self.steps if s.share is not None]
        if not counted:
            return Html("")
        mostly = [s for s in counted if s.mostly_other]
        share = jm.other_share(self.overall)
        text = (
            f"Over every step, {self.overall.other} of {plural(self.overall.total, 'interaction')} "
            f"({percent(share, decimals=0)}) are with other parties, {self.overall.us} with us and "
            f"{self.overall.customer} within the customer."
        )
        body = [paragraph(text)]
        if mostly:
            body.append(
                table(
                    ["Step", "Job", "Interactions: customer / us / other", "With other parties"],
                    [
                        [
                            s.name or s.step,
                            self.job_name(s.job),
                            f"{s.parties.customer} / {s.parties.us} / {s.parties.other}",
                            percent(s.share, decimals=0),
                        ]
                        for s in mostly
                    ],
                )
            )
        else:
            body.append(paragraph("No step is mostly with other parties (more than half of its interactions)."))
        return section(
            "Steps mostly with other parties",
            *body,
            intro="Value is made with others too: steps where most of the work is with other parties are where the job can break down out of our sight.",
        )

    @live_part
    def checks(self) -> Html:
        if not self.jobs:
            return Html("")
        if not self.warnings:
            return section(
                "Checks",
                paragraph(
                    "Nothing to fix: no job names the solution, and every desired outcome has a direction and a unit and is about the customer's job."
                ),
            )
        return section(
            "Checks",
            Html('<ul class="warnings">') + join(Html("<li>{}</li>").format(w) for w in self.warnings) + Html("</ul>"),
            intro=(
                "A job is what the customer is trying to get done with no solution in it; a desired outcome says which way "
                "it should move and in what unit, and is about the customer's step, not our service."
            ),
        )

    def results(self) -> dict[str, Any]:
        share = jm.other_share(self.overall)
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "audience": "customer",
            "verdicts": self.verdicts(),
            "jobs": [
                {
                    "id": j.get("id"),
                    "statement": j.get("statement"),
                    "executor": j.get("executor"),
                    "kind": j.get("kind"),
                    "steps": len(j.get("steps") or []),
                    "other_share": jm.other_share(jm.job_parties(j)),
                    "read_back": jm.read_back(j),
                }
                for j in self.jobs
            ],
            "desired_outcomes": [
                {
                    "id": o.id,
                    "job": o.job,
                    "step": o.step,
                    "statement": o.statement,
                    "direction": o.direction,
                    "unit": o.unit,
                    "importance": o.importance,
                    "satisfaction": o.satisfaction,
                    "opportunity": o.opportunity,
                    "label": o.label,
                    "kpis": [k.id for k in self.engagement.kpis if k.desired_outcome == o.id],
                }
                for o in self.outcomes
            ],
            "ranking": [o.id for o in self.ranked],
            "under_served": [o.id for o in self.under_served()],
            "over_served": [o.id for o in self.over_served()],
            "steps_mostly_with_others": [
                {"job": s.job, "step": s.step, "name": s.name, "other_share": s.share} for s in self.steps if s.mostly_other
            ],
            "interactions": {"customer": self.overall.customer, "us": self.overall.us, "other": self.overall.other},
            "other_share": share,
            "warnings": list(self.warnings),
        }


def page_for(engagement: Engagement, *, as_of: dt.date, products: Sequence[str] = ()) -> CustomerJobsPage:
    """The page for an engagement already loaded, judged at ``as_of``."""
    return CustomerJobsPage(engagement, as_of, products=list(products))


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "", products: Any = None
) -> CustomerJobsPage:
    """Load the engagement and score its jobs at ``as_of`` (an ISO date; empty for today); ``products``
    are the product's names (a list, or separated by commas) a job statement must not contain."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, as_of=day, products=products_list(products))
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page.at(day)
