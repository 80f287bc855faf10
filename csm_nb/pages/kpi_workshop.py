"""The KPI workshop (workbook ``kpi_workshop``): for each outcome, the lagging KPI
that proves it and the leading candidates that could warn early, a scoring the
room can follow, the shortlist and the KPI register."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.frames import known, kpi_frame
from csm_nb.method import kpis
from csm_nb.method.dates import parse_as_of
from csm_nb.method.pulse import desired_outcomes
from csm_nb.model import Engagement, Kpi
from csm_nb.pages.base import Page
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, join, paragraph, section, table
from csm_nb.vocabulary import NOT_KNOWN, frequency_word, number

if TYPE_CHECKING:
    import pandas as pd

WORKBOOK = kpis.WORKBOOK
TITLE = "KPI workshop: leading and lagging indicators"


def applies(engagement: Engagement) -> bool:
    return bool(engagement.kpis or (engagement.workshop or {}).get(WORKBOOK))


def _value(v: float | None, unit: str | None = None) -> str:
    if v is None:
        return NOT_KNOWN
    text = number(v, decimals=0 if float(v).is_integer() else 2)
    return f"{text} {unit}" if unit else text


def _frequency(text: str | None) -> str:
    return frequency_word(text) or text or "not set"


@dataclass
class KpiWorkshopPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    WORKSHOP = True
    WORKSHOP_BLURB = "For each outcome, the KPI that proves it and the ones that warn early; score and shortlist them."
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> KpiWorkshopPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    workshop: kpis.Workshop
    db: str | None = None
    interactive: bool = False

    # -- interactive ---------------------------------------------------------------
    def forms(self) -> Any:
        """The workshop forms when run by hand; nothing in a headless report."""
        if not self.interactive:
            return Html("")
        return self.form(self.engagement.id, db=self.db)

    @staticmethod
    def form(engagement_id: str, *, db: str | None = None, author: str | None = None) -> Any:
        """The KPI workshop form for ``engagement_id``, drawing its ranking and register as this page does."""
        from csm_nb.forms.kpi import KpiWorkshopForm

        def draw(engagement: Engagement, workshop: kpis.Workshop) -> tuple[Html, Html]:
            page = KpiWorkshopPage(engagement, workshop)
            return page.ranking(), join([page.warnings(), page.register()])

        return KpiWorkshopForm(engagement_id, draw=draw, db=db, author=author)

    # -- plain words first -----------------------------------------------------------
    def verdict(self) -> Html:
        e, w = self.engagement, self.workshop
        leading = [k for k in e.kpis if k.kind == "leading"]
        lagging = [k for k in e.kpis if k.kind == "lagging"]
        if not e.kpis and not w.candidates:
            return callout(
                "No KPIs yet. In the workshop, note for each outcome the measure that proves it (lagging) and "
                "brainstorm early signs (leading); score them and shortlist two to five.",
                tone="info",
                title="Nothing to show yet.",
            )
        outcomes = len({k.outcome for k in e.kpis if k.outcome})
        text = (
            f"The register holds {len(e.kpis)} KPI{'s' * (len(e.kpis) != 1)} for {outcomes} "
            f"outcome{'s' * (outcomes != 1)}: {len(leading)} leading (early warning) and {len(lagging)} lagging (proof)."
        )
        if w.ranking:
            best = w.ranking[0]
            text += (
                f" {len(w.ranking)} leading candidate{'s' * (len(w.ranking) != 1)} were scored; "
                f"the strongest is {best.candidate.name} ({best.total:.1f} of 5)."
            )
        if w.warnings:
            return callout(
                text + f" {len(w.warnings)} thing{'s' * (len(w.warnings) != 1)} to settle, listed below.",
                tone="warn",
                title="Nearly there.",
            )
        return callout(text + " Every outcome has a leading and a lagging KPI.", tone="good", title="Ready to measure.")

    def warnings(self) -> Html:
        if not self.workshop.warnings:
            return Html("")
        items = [Html("<li>{}</li>").format(w.message) for w in self.workshop.warnings]
        return section(
            "To settle",
            Html('<ul class="plain">') + join(items) + Html("</ul>"),
            intro="Gaps in the register, outcome by outcome.",
        )

    # -- the register ------------------------------------------------------------------
    @property
    def kpis(self) -> pd.DataFrame:
        """The KPI register as a pandas DataFrame indexed by KPI id (outcome, name, kind, unit, direction,
        baseline, target, start, deadline, frequency, source, owner, milestones)."""
        return kpi_frame(self.engagement.kpis)

    def register(self) -> Html:
        e = self.engagement
        if not e.kpis:
            return Html("")
        columns = ["Kind", "KPI", "Unit", "Direction", "Baseline", "Target", "Measured", "Owner", "Data from"]
        numeric = [False] * 4 + [True, True] + [False] * 3
        # The customer's own measure each KPI serves (customer_jobs), in the customer's words, when any is named.
        serves = {o.id: o.statement for o in desired_outcomes(e.jobs)}
        show_serves = any(k.desired_outcome for k in e.kpis)
        if show_serves:
            columns.append("Serves the customer's measure")
            numeric.append(False)
        groups = [(o.description or o.id, [k for k in e.kpis if k.outcome == o.id]) for o in e.outcomes]
        linked = {o.id for o in e.outcomes}
        loose = [k for k in e.kpis if k.outcome not in linked]
        if loose:
            groups.append(("Not linked to an outcome", loose))
        register = self.kpis
        parts = []
        for title, mine in groups:
            parts.append(Html("<h3>{}</h3>").format(title))
            if not mine:
                parts.append(paragraph("No KPIs yet.", css_class="note"))
                continue
            # Rows come from the register's DataFrame (``page.kpis``), lagging KPIs first.
            frame = register.loc[[k.id for k in sorted(mine, key=lambda k: k.kind != "lagging")]]
            rows = [
                [
                    Html('<span class="tag {}">{}</span>').format("tag-good" if r.kind == "leading" else "", r.kind or "not set"),
                    r.name or r.Index,
                    r.unit or "",
                    _direction(r.direction, target_type=r.target_type),
                    _value(known(r.baseline)) if not _is_limit(r.target_type) else "–",
                    _target(known(r.target), target_type=r.target_type),
                    _frequency(r.frequency),
                    r.owner or "",
                    r.source or "",
                    *([serves.get(r.desired_outcome, r.desired_outcome or "")] if show_serves else []),
                ]
                for r in frame.itertuples()
            ]
            parts.append(table(columns, rows, numeric=numeric))
        return section(
            "The KPI register",
            join(parts),
            intro="What will be measured, outcome by outcome. Lagging KPIs prove the outcome; leading ones move "
            "earlier, so there is time to act.",
        )

    # -- scoring ---------------------------------------------------------------------------
    def scoring(self) -> Html:
        w = self.workshop.weights
        if not self.workshop.ranking:
            return Html("")
        rows = [[c.label, str(w[c.id]), c.question, c.how] for c in kpis.CRITERIA]
        total = sum(w.values())
        return section(
            "How the candidates are scored",
            table(["Criterion", "Weight", "What we ask", "Score 1-5"], rows, numeric=[False, True, False, False]),
            paragraph(
                f"A candidate's score is the weighted mean of its six criterion scores: each score times its "
                f"weight, added up, divided by the sum of the weights ({total}). 5 is strong, 1 is poor. "
                "Weights are set in the workshop; 0 leaves a criterion out.",
                css_class="note",
            ),
        )

    def ranking(self) -> Html:
        ranked = self.workshop.ranking
        if not ranked:
            return Html("")
        shortlist = set(self.workshop.shortlist)
        columns = ["Rank", "Candidate"] + [c.label for c in kpis.CRITERIA] + ["Score", "Shortlisted"]
        rows = []
        for s in ranked:
            c = s.candidate
            rows.append(
                [str(s.rank), c.name]
                + [str(s.scores[k.id]) for k in kpis.CRITERIA]
                + [f"{s.total:.2f}", "yes" if c.id in shortlist else ""]
            )
        details = []
        for s in ranked:
            c = s.candidate
            notes = "; ".join(self.workshop.notes.get(c.id, []))
            details.append(
                [
                    str(s.rank),
                    c.name,
                    c.measurement or "",
                    _frequency(c.frequency),
                    "" if c.lead_time_months is None else f"{c.lead_time_months:g} months",
                    c.owner or "",
                    c.source or "",
                    ", ".join(c.approvals) or "none",
                    c.effort or "not said",
                    notes,
                ]
            )
        svg = charts.bar_chart(
            title="Leading candidates by score (of 5)",
            labels=[s.candidate.name for s in ranked],
            values=[s.total for s in ranked],
            y_format=lambda v: f"{v:g}",
            height=260,
            caption="The weighted mean of the six criteria; the table above shows each criterion's score.",
        )
        return section(
            "Leading-indicator candidates, ranked",
            table(columns, rows, numeric=[True, False] + [True] * (len(kpis.CRITERIA) + 1) + [False]),
            Html(str(svg)),
            Html("<h3>What each candidate involves</h3>"),
            table(
                [
                    "Rank",
                    "Candidate",
                    "How it is measured",
                    "How often",
                    "Lead time",
                    "Owner",
                    "Data from",
                    "Approvals",
                    "Effort",
                    "Notes",
                ],
                details,
            ),
            intro="Best first. The shortlisted ones go into the KPI register.",
        )

    # -- results -----------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        e, w = self.engagement, self.workshop
        return {
            "workbook": WORKBOOK,
            "engagement": e.id,
            "verdicts": self.verdicts(),
            "register": [_kpi_result(k) for k in e.kpis],
            "leading": [k.id for k in e.kpis if k.kind == "leading"],
            "lagging": [k.id for k in e.kpis if k.kind == "lagging"],
            "weights": w.weights,
            "criteria": [{"id": c.id, "label": c.label, "how": c.how} for c in kpis.CRITERIA],
            "ranking": [
                {
                    "rank": s.rank,
                    "id": s.candidate.id,
                    "name": s.candidate.name,
                    "outcome": s.candidate.outcome,
                    "scores": s.scores,
                    "score": s.total,
                    "shortlisted": s.candidate.id in w.shortlist,
                    "notes": w.notes.get(s.candidate.id, []),
                }
                for s in w.ranking
            ],
            "candidates": [c.answer() for c in w.candidates],
            "shortlist": w.shortlist,
            "warnings": [{"kind": x.kind, "outcome": x.outcome, "kpi": x.kpi, "message": x.message} for x in w.warnings],
        }


def _is_limit(target_type: str | None) -> bool:
    return target_type in ("stay_below", "stay_above")


def _direction(direction: str | None, *, target_type: str | None = None) -> str:
    """Which way the KPI should go; a ceiling or floor says where it must stay."""
    if _is_limit(target_type):
        return "stay at or below" if target_type == "stay_below" else "stay at or above"
    return {"increase": "should rise", "decrease": "should fall"}.get(direction or "", "not set")


def _target(value: float | None, *, target_type: str | None = None) -> str:
    """The target; a ceiling reads "at most 6", a floor "at least 6".

    >>> _target(6.0, target_type="stay_below"), _target(6.0), _target(None, target_type="stay_above")
    ('at most 6', '6', 'not known yet')
    """
    text = _value(value)
    if value is None or not _is_limit(target_type):
        return text
    return f"{'at most' if target_type == 'stay_below' else 'at least'} {text}"


def _kpi_result(k: Kpi) -> dict[str, Any]:
    return {
        f: getattr(k, f)
        for f in (
            "id",
            "outcome",
            "name",
            "kind",
            "unit",
            "direction",
            "baseline",
            "target",
            "target_type",
            "frequency",
            "source",
            "owner",
            "capability",
            "desired_outcome",
            "origin",
            "consent",
        )
    }


def page_for(engagement: Engagement, *, db: str | None = None, interactive: bool = False) -> KpiWorkshopPage:
    answers = (engagement.workshop or {}).get(WORKBOOK)
    state = kpis.workshop_state(engagement.outcomes, engagement.kpis, answers)
    return KpiWorkshopPage(engagement, state, db=db, interactive=interactive)


def open_page(engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "") -> KpiWorkshopPage:
    """Load the engagement and its workshop answers; forms or a report as ``config.interactive_session`` decides.
    ``as_of`` (an ISO date, empty for today) is the date it is judged at."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    return page_for(engagement, db=db or None, interactive=config.interactive_session(results_path)).at(day)
