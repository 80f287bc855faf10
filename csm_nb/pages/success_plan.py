"""The success plan (workbook ``success_plan``): the joint plan's objectives and milestones, and how far
they have come at a date.

Each milestone's status (done on time, done late, overdue, due within 14 days, planned), with the
milestones that complete themselves from their evidence (a KPI reaching a value, a moment held);
each objective's share done beside the status of the outcome it serves; the plan's share done,
on-time rate and overdue list; a burn-up of planned against done milestones and a timeline that also
shows the initiative's own milestones. The arithmetic is :mod:`csm_nb.method.success_plan`.

Audience: the customer (a joint plan). A person running the notebook gets a small form above the
report to tick a milestone done (:mod:`csm_nb.forms.success_plan`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import success_plan as sp
from csm_nb.method.dates import add_months, parse_as_of, periods_between
from csm_nb.method.verdicts import Verdicts
from csm_nb.model import Engagement, EngagementModel
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import KPI_STATUSES, day_words, percent, plural

WORKBOOK = "success_plan"
TITLE = "Success plan"
SHORT_NAME = 40  # characters of a milestone's name a chart row shows (its labels get at most 38 % of the width)


def applies(engagement: Engagement) -> bool:
    """Something to show: a success plan (objectives or milestones) or the initiative's own milestones."""
    plan = engagement.success_plan or {}
    return bool(plan.get("milestones") or plan.get("objectives") or (engagement.initiative or {}).get("milestones"))


def when(day: dt.date | None) -> str:
    """A date as people read it ("31 Mar 2027"), or "not set"."""
    return day_words(day) if day else "not set"


def status_words(m: sp.Milestone) -> str:
    """A milestone's status in words, with its days: "overdue (5 days)", "due soon (in 9 days)"."""
    words = sp.STATUSES[m.status].words
    if m.days is None:
        return words
    if m.status == "due":
        return f"{words} (in {plural(m.days, 'day')})" if m.days else f"{words} (today)"
    return f"{words} ({plural(m.days, 'day')})"


def outcome_words(status: str | None, outcome: str | None) -> str:
    """An outcome's status as the value report words it; "not measured yet" before any measurement."""
    if outcome is None:
        return "no outcome linked"
    return KPI_STATUSES[status].words if status in KPI_STATUSES else "not measured yet"


def short_name(name: str, *, limit: int = SHORT_NAME) -> str:
    """A milestone's name short enough for a chart's row label (the table has it whole).

    >>> short_name("Line managers trained to act on their team's results")
    'Line managers trained to act on their…'
    >>> short_name("Platform live")
    'Platform live'
    """
    if len(name) <= limit:
        return name
    cut = name[: limit - 1].rsplit(" ", 1)[0] if " " in name[: limit - 1] else name[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def month_start(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


@dataclass
class SuccessPlanPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "customer"
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """Milestones done of the plan's, the share, and how many are overdue."""
        total, done = results.get("total"), results.get("done")
        if not isinstance(total, int) or not isinstance(done, int) or total <= 0:
            return overall_headline(results, tagged=False)
        overdue = len(results.get("overdue") or [])
        share = results.get("share_done")
        figures = {"milestones_done": done, "milestones_total": total, "share_done": share, "milestones_overdue": overdue}
        summary = (
            f"{done} of {plural(total, 'milestone')} done ({percent(share, decimals=0)}); {plural(overdue, 'milestone')} overdue."
        )
        return overall_headline(results, figures=figures, summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> SuccessPlanPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    as_of: dt.date
    model: EngagementModel | None = None  # names the moments that evidence a milestone
    db: str | None = None
    # The form while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e = self.engagement
        self.milestones = sp.plan_milestones(e, as_of=self.as_of)
        self.initiative_milestones = sp.initiative_milestones(e, as_of=self.as_of)
        # The plan's figures count the joint plan's milestones; without any, the initiative's own list.
        self.counted = "success_plan" if self.milestones else ("initiative" if self.initiative_milestones else None)
        self.summary = sp.plan_summary(self.milestones or self.initiative_milestones)
        self.judged: Verdicts = engagement_verdicts(e, as_of=self.as_of)
        self.objectives_progress = sp.objective_progress(
            (e.success_plan or {}).get("objectives") or [], self.milestones, outcome_statuses=self.judged.outcomes
        )

    def verdicts(self) -> dict[str, Any]:
        return self.judged.as_json()

    # -- the form, for a person ----------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the form to tick a milestone done (csm_nb.forms.success_plan), above the report,
        whose parts then redraw after each save. Headless: nothing (the report is unchanged)."""
        if not self.interactive:
            return None
        from csm_nb.forms.success_plan import SuccessPlanForms

        if self.forms is not None:
            self.forms.close()
        self.forms = SuccessPlanForms(self.engagement, self.milestones, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    def update_forms(self, forms: Any) -> None:
        forms.update(self.engagement, self.milestones)

    # -- facts ---------------------------------------------------------------------------------------
    def upcoming(self) -> sp.Milestone | None:
        """The next milestone not done yet and not overdue (the one due first)."""
        ahead = [m for m in self.milestones or self.initiative_milestones if m.status in ("due", "planned") and m.due]
        return min(ahead, key=lambda m: (m.due, m.name)) if ahead else None

    def outcome_name(self, outcome_id: str | None) -> str:
        found = next((o for o in self.engagement.outcomes if o.id == outcome_id), None)
        return (found.description or found.id) if found else (outcome_id or "")

    def objective_name(self, objective_id: str | None) -> str:
        objectives = (self.engagement.success_plan or {}).get("objectives") or []
        found = next((o for o in objectives if o.get("id") == objective_id), None)
        return str((found or {}).get("description") or objective_id or "")

    def evidence_words(self, m: sp.Milestone) -> str:
        """What completes the milestone by itself, and where it stands: "Engagement rating at least 7;
        latest 6.8 on 1 Apr 2027", "when the kick-off meeting is held"."""
        evidence = m.evidence or {}
        if evidence.get("kpi"):
            kpi = self.engagement.kpi(evidence["kpi"])
            name = (kpi.name if kpi else None) or evidence["kpi"]
            unit = f" {kpi.unit}" if kpi and kpi.unit else ""
            bound, value = (
                ("at least", evidence["at_least"])
                if evidence.get("at_least") is not None
                else ("at most", evidence.get("at_most"))
            )
            text = f"{name} {bound} {float(value):g}{unit}"
            reading = m.reading
            if reading is None or reading.latest is None:
                return text + "; not measured yet"
            on = f" on {when(reading.latest_on)}" if reading.latest_on else ""
            return text + f"; latest {reading.latest:g}{on}"
        if evidence.get("moment"):
            spec = self.model.moment(evidence["moment"]) if self.model else None
            name = (spec.name if spec and spec.name else str(evidence["moment"]).replace("_", " ")).strip()
            # "the kick-off meeting", but "the QBR": an acronym keeps its capitals.
            return f"when the {name[:1].lower() + name[1:] if name[1:2].islower() else name} is held"
        return ""

    # -- the report ----------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e, s = self.engagement, self.summary
        if not applies(e):
            return callout(
                f"{e.customer} has no success plan yet. Add success_plan (objectives and milestones) to the engagement "
                "file, or milestones to its initiative, and import it again.",
                tone="info",
                title="No success plan yet.",
            )
        if not s.total:
            return callout(
                "The plan has objectives but no milestones yet: add the milestones on the way to each objective.",
                tone="info",
                title="No milestones yet.",
            )
        parts = [f"{s.done} of {plural(s.total, 'milestone')} done ({percent(s.share_done, decimals=0)})"]
        if s.dated:
            parts[0] += f"; {s.on_time} of {s.dated} on time ({percent(s.share_on_time)})"
        parts[0] += "."
        if s.overdue:
            parts.append(
                "Overdue: "
                + "; ".join(f"{m.name} (due {when(m.due)}, {plural(m.days or 0, 'day')} overdue)" for m in s.overdue)
                + "."
            )
        nxt = self.upcoming()
        if nxt is not None:
            parts.append(f"Next: {nxt.name}, due {when(nxt.due)}.")
        title = f"{plural(len(s.overdue), 'milestone')} overdue." if s.overdue else "Nothing overdue."
        return callout(" ".join(parts), tone="warn" if s.overdue else "good", title=title)

    @live_part
    def headline_figures(self) -> Html:
        s = self.summary
        if not s.total:
            return Html("")
        nxt = self.upcoming()
        items = [
            ("Done", f"{s.done} of {s.total}", f"{percent(s.share_done, decimals=0)} of the milestones"),
            (
                "On time",
                f"{s.on_time} of {s.dated}" if s.dated else "none done yet",
                f"{percent(s.share_on_time)} of those done" if s.dated else "",
            ),
            ("Overdue", str(len(s.overdue)), f"as of {when(self.as_of)}"),
            ("Next due", when(nxt.due) if nxt else "nothing planned", nxt.name if nxt else ""),
        ]
        return figures(items)

    @live_part
    def objectives(self) -> Html:
        if not self.objectives_progress:
            return Html("")
        rows = [
            [
                o.description or o.id,
                f"{o.done} of {o.total} ({percent(o.share_done, decimals=0)})" if o.total else "no milestones yet",
                self.outcome_name(o.outcome) if o.outcome else "",
                outcome_words(o.outcome_status, o.outcome),
                " / ".join(x for x in (o.owner_customer, o.owner_ours) if x),
                when(o.due) if o.due else "",
            ]
            for o in self.objectives_progress
        ]
        return section(
            "Objectives",
            table(["Objective", "Milestones done", "Outcome it serves", "How the outcome is doing", "Owners", "Due"], rows),
            intro="Each objective's milestones done, beside how the outcome it serves is doing against its agreed plan.",
        )

    @live_part
    def burn_up(self) -> Html:
        counted = self.milestones or self.initiative_milestones
        found = sp.burn_up(counted, as_of=self.as_of)
        if not found.planned:
            return Html("")
        days = [d for d, _ in found.planned] + [d for d, _ in found.done] + [self.as_of]
        start, last = month_start(min(days)), max(days)
        months = 0
        while add_months(start, months) <= last:
            months += 1

        def x(day: dt.date) -> float:
            return periods_between(start, day, "month")

        def steps(points: Sequence[tuple[dt.date, int]], end: dt.date) -> tuple[list[float], list[float]]:
            xs, ys = [0.0], [0.0]
            for d, n in points:
                xs += [x(d), x(d)]
                ys += [ys[-1], float(n)]
            xs.append(x(end))
            ys.append(ys[-1])
            return xs, ys

        planned_x, planned_y = steps(found.planned, add_months(start, months))  # to the axis' end
        done_x, done_y = steps(found.done, self.as_of)
        total = found.planned[-1][1]
        done = found.done[-1][1] if found.done else 0
        chart = charts.line_chart(
            title="Milestones planned and done",
            x_labels=[f"{add_months(start, k):%b %Y}" for k in range(months + 1)],
            series=[
                charts.Series("Planned, by due date", planned_y, style="dashed", markers=False, x=planned_x),
                charts.Series("Done", done_y, markers=False, x=done_x),
            ],
            y_label="milestones",
            vlines=[(x(self.as_of), f"as of {when(self.as_of)}")],
            height=230,  # a step line needs little height; it then fits under the figures on the first page
            caption=(
                f"The dashed line climbs as milestones fall due ({plural(total, 'milestone')} by {when(found.planned[-1][0])}); "
                f"the solid line as they are done ({done} by {when(self.as_of)}). Where the solid line is below the dashed "
                "one, the plan is behind."
            ),
            desc=f"Milestones planned and done: {total} planned by {when(found.planned[-1][0])}; {done} done by {when(self.as_of)}.",
        )
        return section("Planned and done", Html(str(chart)))

    @live_part
    def timeline(self) -> Html:
        shown = [*self.milestones, *self.initiative_milestones]
        dated = [m for m in shown if m.due or m.done_on]
        if not dated:
            return Html("")
        days = [d for m in dated for d in (m.due, m.done_on) if d] + [self.as_of]
        start = month_start(min(days))
        rows: list[tuple[str, list[charts.Dot]]] = []
        for m in dated:
            dots = []
            if m.due:
                dots.append(charts.Dot((m.due - start).days, "planned"))
            if m.done_on:
                dots.append(charts.Dot((m.done_on - start).days, "late" if m.status == "done_late" else "done"))
            rows.append((short_name(m.name) + (" (initiative)" if m.source == "initiative" else ""), dots))
        last = max(max(days), start)
        step = max(1, round((last - start).days / 30 / 6))
        ticks, month = [], start
        while month <= last:
            ticks.append(((month - start).days, f"{month:%b %Y}"))
            month = add_months(month, step)
        chart = charts.rows_chart(
            title="Milestones: due and done",
            rows=rows,
            x_ticks=ticks,
            vlines=[((self.as_of - start).days, "as of")],
            legend=(("done", "Done"), ("planned", "Due"), ("late", "Done late")),
            caption=(
                f"Hollow: when each milestone is due; solid: when it was done. The rule is {when(self.as_of)}."
                + (" Rows marked (initiative) are the initiative's own milestones." if self.initiative_milestones else "")
            ),
        )
        return section("Timeline", Html(str(chart)))

    @live_part
    def milestones_table(self) -> Html:
        parts: list[Html] = []
        if self.milestones:
            rows = [
                [
                    m.name,
                    self.objective_name(m.objective),
                    m.kind or "",
                    m.owner or "",
                    when(m.due),
                    when(m.done_on) if m.done_on else ("done" if m.done else ""),
                    status_words(m),
                    self.evidence_words(m),
                ]
                for m in self.milestones
            ]
            parts.append(table(["Milestone", "Objective", "Kind", "Owner", "Due", "Done", "Status", "Done when"], rows))
            if any(m.evidence for m in self.milestones):
                parts.append(
                    paragraph(
                        "A milestone with a 'done when' completes itself: on the first measurement that reaches the value, "
                        "or when the meeting is held. A date entered by hand wins."
                    )
                )
        if self.initiative_milestones:
            rows = [
                [m.name, when(m.due), when(m.done_on) if m.done_on else ("done" if m.done else ""), status_words(m)]
                for m in self.initiative_milestones
            ]
            initiative = section(
                "The initiative's own milestones",
                table(["Milestone", "Due", "Done", "Status"], rows),
                intro="The customer's own list from the initiative, shown on the timeline beside the joint plan.",
            )
        else:
            initiative = Html("")
        return (section("Milestones", *parts) if parts else Html("")) + initiative

    def results(self) -> dict[str, Any]:
        s, nxt = self.summary, self.upcoming()
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "audience": "customer",
            "verdicts": self.verdicts(),
            "counted": self.counted,
            "milestones": [m.as_json() for m in self.milestones],
            "initiative_milestones": [m.as_json() for m in self.initiative_milestones],
            "objectives": [o.as_json() for o in self.objectives_progress],
            "done": s.done,
            "total": s.total,
            "share_done": s.share_done,
            "on_time": s.on_time,
            "done_with_date": s.dated,
            "share_on_time": s.share_on_time,
            "overdue": [
                {"id": m.id, "name": m.name, "due": m.due.isoformat() if m.due else None, "days": m.days} for m in s.overdue
            ],
            "next": None if nxt is None else {"id": nxt.id, "name": nxt.name, "due": nxt.due.isoformat() if nxt.due else None},
        }


def page_for(engagement: Engagement, *, as_of: dt.date, model: EngagementModel | None = None) -> SuccessPlanPage:
    """The page for an engagement already loaded, judged at ``as_of``."""
    return SuccessPlanPage(engagement, as_of, model=model)


def open_page(engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "") -> SuccessPlanPage:
    """Load the engagement (and the engagement model that names its moments) and judge the plan at ``as_of``
    (an ISO date; empty for today)."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement)
    page = page_for(engagement, as_of=day, model=model)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page.at(day)
