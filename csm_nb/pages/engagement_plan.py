"""The engagement plan (workbook ``engagement_plan``): where the relationship stands in time.

The phase and the day since signature, time to value, the moments that come next, the ones
overdue or escalated, the triggers that fired and the data behind them, the onboarding stages
against their expected days, the onboarding exit check and the three questions. The arithmetic is
:mod:`csm_nb.method.engagement_plan`; the model is the engagement's (inline, from the store, or
the built-in high-touch one).

Audience: the customer, with an internal section (escalations, triggers and our owners) that
``audience = "customer"`` leaves out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.checks import refuse
from csm_nb.data.engagement_model import DEFAULT_MODEL_ID, builtin_model
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import engagement_plan as ep
from csm_nb.method import health as hm
from csm_nb.method import progress
from csm_nb.model import Engagement, EngagementModel
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import (
    DELAY_REASONS,
    MOMENT_STATUSES,
    OVERALL_VERDICTS,
    STAGE_STATUSES,
    TTV_STATUSES,
    plural,
)

WORKBOOK = "engagement_plan"
TITLE = "Engagement plan"
AUDIENCE_CHOICES = ("customer", "internal")
PHASE_WORDS = {"onboarding": "still in onboarding", "ongoing": "onboarding complete"}


def applies(engagement: Engagement) -> bool:
    """Something to plan from: a contract with its signature date."""
    return bool(engagement.contract and engagement.contract.signed)


def when(day: dt.date | None) -> str:
    """A date as people read it: "8 Dec 2026"."""
    return f"{day.day} {day:%b %Y}" if day else "not set"


def moment_name(model: EngagementModel, moment_id: str) -> str:
    spec = model.moment(moment_id)
    return (spec.name if spec and spec.name else moment_id.replace("_", " ")).strip()


@dataclass
class EngagementPlanPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "customer"
    WORKSHOP = True
    WORKSHOP_BLURB = "After a meeting or when something happens: log the moment held or the event; the plan follows."
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """The phase, the day since signature, the next moment and how many are overdue."""
        upcoming = (results.get("next") or [None])[0] or {}
        overdue = len(results.get("overdue") or [])
        figures = {
            "phase": results.get("phase"),
            "day": results.get("day"),
            "next_moment": upcoming.get("name"),
            "next_due": upcoming.get("due"),
            "overdue": overdue,
        }
        summary = ""
        if results.get("phase"):
            summary = f"Day {results.get('day')}, {PHASE_WORDS[results['phase']]}; {plural(overdue, 'moment')} overdue."
        return overall_headline(
            results, figures={k: v for k, v in figures.items() if v is not None}, summary=summary, tagged=False
        )

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> EngagementPlanPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    model: EngagementModel
    as_of: dt.date
    audience: str = "customer"
    horizon_days: int = 90
    db: str | None = None
    # The log forms while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e = self.engagement
        self.signed = ep.day(e.contract.signed) if e.contract else None
        # The health score feeds the model's {health: red} and {health_drop: n} triggers; on this page it shows
        # only to our team (audience internal).
        self.health = hm.engagement_health(e, self.model, as_of=self.as_of)
        self.plan = ep.engagement_schedule(e, self.model, as_of=self.as_of, health=self.health.as_trigger_input())
        self.stages = ep.stage_durations(self.model, self.signed, e.moments)
        first_value = next((m.id for m in self.model.moments if "first_value" in m.marks), None)
        done = next((m.id for m in self.model.moments if "onboarding_complete" in m.marks), None)
        self.ttv = ep.time_to_value(self.signed, self._held(first_value), target=self.model.ttv_target_days, as_of=self.as_of)
        self.onboarded = self._held(done)

    def _held(self, moment_id: str | None) -> dt.date | None:
        if moment_id is None:
            return None
        return next((ep.day(r.held) for r in self.engagement.moments if r.moment == moment_id and r.held), None)

    # -- the log forms, for a person ----------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the forms to log a moment held or an event (csm_nb.forms.plan_log), above the
        report, whose parts then redraw after each save. Headless: nothing (the report is unchanged)."""
        if not self.interactive:
            return None
        from csm_nb.forms.plan_log import PlanLogForms

        if self.forms is not None:
            self.forms.close()
        self.forms = PlanLogForms(
            self.engagement, self.model, self.plan.occurrences, db=self.db, today=self.as_of, on_saved=self.refresh
        )
        return self.forms

    def reread(self, store: Store) -> None:
        self.model = store.engagement_model(self.engagement) or builtin_model(DEFAULT_MODEL_ID)

    def update_forms(self, forms: Any) -> None:
        forms.update(self.engagement, self.model, self.plan.occurrences)

    # -- facts ---------------------------------------------------------------------------------
    @property
    def phase(self) -> str:
        return "ongoing" if self.onboarded and self.onboarded <= self.as_of else "onboarding"

    @property
    def day_number(self) -> int | None:
        return (self.as_of - self.signed).days if self.signed else None

    def upcoming(self) -> list[ep.Occurrence]:
        horizon = self.as_of + dt.timedelta(days=self.horizon_days)
        return [o for o in self.plan.next(10) if o.due is not None and o.due <= horizon][:3]

    def onboarding_exit(self) -> dict[str, Any]:
        """Every primary outcome has a lagging KPI with baseline and target, and a leading KPI."""
        e, missing = self.engagement, []
        for o in e.outcomes:
            if (o.priority or "primary") != "primary":
                continue
            mine = [k for k in e.kpis if k.outcome == o.id]
            lagging = [k for k in mine if (k.kind or "lagging") == "lagging" and k.baseline is not None and k.target is not None]
            if not lagging:
                missing.append(f"{o.description or o.id}: a lagging KPI with a baseline and a target")
            if not any(k.kind == "leading" for k in mine):
                missing.append(f"{o.description or o.id}: a leading KPI that warns early")
        if not any((o.priority or "primary") == "primary" for o in e.outcomes):
            missing.append("a primary outcome agreed with the customer")
        return {"met": not missing, "missing": missing}

    def three_questions(self) -> dict[str, Any]:
        e = self.engagement
        lagging = [k.name or k.id for k in e.kpis if (k.kind or "lagging") == "lagging"]
        overall = engagement_verdicts(e, as_of=self.as_of).overall
        surveys = sorted(
            (ev for ev in e.events if ev.type == "survey" and (ep.day(ev.date) or self.as_of) <= self.as_of),
            key=lambda ev: ev.date,
        )
        latest = surveys[-1] if surveys else None
        return {
            "how_value_is_measured": {"lagging_kpis": lagging, "money_link": bool(e.financial_links)},
            "are_they_getting_it": {"overall": overall, "words": OVERALL_VERDICTS[overall].words},
            "loyalty": {
                # Internal (the account-health workbook's score): never in the customer's version.
                "health": {"score": self.health.score, "band": self.health.band} if self.audience == "internal" else None,
                "latest_survey": None
                if latest is None
                else {"date": latest.date, "score": latest.score, "scale": latest.scale, "respondent": latest.respondent},
                "references": len([r for r in e.references or [] if (ep.day(r.get("date")) or self.as_of) <= self.as_of]),
            },
        }

    # -- the report ----------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not applies(e):
            return callout(
                f"{e.customer} has no contract dates yet. Add contract: signed, start and end to the engagement file "
                "and import it again; the plan starts from the signature.",
                tone="info",
                title="Nothing to plan yet.",
            )
        overdue = self.plan.overdue()
        parts = [f"Day {self.day_number} since signature, {PHASE_WORDS[self.phase]}."]
        if self.ttv is not None:
            status = TTV_STATUSES[self.ttv.status]
            if self.ttv.days is not None:
                parts.append(
                    f"First value came after {plural(self.ttv.days, 'day')} ({status.words}; the target is {self.ttv.target})."
                )
            else:
                parts.append(
                    f"First value is not reached yet after {plural(self.ttv.elapsed or 0, 'day')} ({status.words}; the target is {self.ttv.target})."
                )
        nxt = self.upcoming()
        if nxt:
            parts.append("Next: " + "; ".join(f"{moment_name(self.model, o.moment)} on {when(o.due)}" for o in nxt) + ".")
        tone = "bad" if any(o.status == "escalated" for o in overdue) else ("warn" if overdue else "good")
        title = f"{plural(len(overdue), 'moment')} overdue." if overdue else "Nothing overdue."
        return callout(" ".join(parts), tone=tone, title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        ttv = self.ttv
        items = [
            ("Phase", self.phase.capitalize(), f"day {self.day_number} since signature"),
            (
                "Time to value",
                plural(ttv.days, "day") if ttv and ttv.days is not None else "not yet",
                f"{TTV_STATUSES[ttv.status].words}; target {ttv.target} days" if ttv else "",
            ),
            ("Overdue moments", str(len(self.plan.overdue())), f"as of {when(self.as_of)}"),
        ]
        return figures(items)

    @live_part
    def timeline(self) -> Html:
        if not applies(self.engagement) or not self.plan.occurrences:
            return Html("")
        start = self.signed or self.as_of
        rows: list[tuple[str, list[charts.Dot]]] = []
        names: dict[str, int] = {}
        for o in self.plan.occurrences:
            name = moment_name(self.model, o.moment)
            if name not in names:
                names[name] = len(rows)
                rows.append((name, []))
            dots = rows[names[name]][1]
            if o.due:
                dots.append(charts.Dot((o.due - start).days, "planned"))
            if o.held:
                dots.append(charts.Dot((o.held - start).days, "late" if o.status == "held_late" else "done"))
        last = max([d.x for _, ds in rows for d in ds] + [(self.as_of - start).days])
        ticks = []
        month = dt.date(start.year, start.month, 1)
        step = max(1, round(last / 30 / 6))
        while (month - start).days <= last:
            if (month - start).days >= 0:
                ticks.append(((month - start).days, f"{month:%b %Y}"))
            month = progress.add_months(month, step)
        chart = charts.rows_chart(
            title="Moments: planned and held",
            rows=rows,
            x_ticks=ticks,
            vlines=[((self.as_of - start).days, "as of")],
            legend=(("done", "Held"), ("planned", "Planned"), ("late", "Held late")),
            caption=f"Hollow: when each moment is due; solid: when it was held. The rule is {when(self.as_of)}.",
        )
        return section("Timeline", Html(str(chart)))

    @live_part
    def moments_table(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        internal = self.audience == "internal"
        rows = []
        for o in self.plan.occurrences:
            spec = self.model.moment(o.moment)
            status = MOMENT_STATUSES[o.status].words
            if o.days_late:
                status += f" ({plural(o.days_late, 'day')})"
            if internal and o.escalated_to:
                status += f", to {o.escalated_to}"
            row = [
                moment_name(self.model, o.moment),
                (spec.objective if spec else "") or "",
                when(o.due),
                when(o.held) if o.held else "",
            ]
            rows.append([*row, status, (spec.owner if spec else "") or ""] if internal else [*row, status])
        columns = ["Moment", "What it must achieve", "Due", "Held", "Status"] + (["Owner"] if internal else [])
        return section("Moments", table(columns, rows))

    @live_part
    def onboarding(self) -> Html:
        if not applies(self.engagement) or not self.stages:
            return Html("")
        rows = [
            [
                moment_name(self.model, s.moment),
                plural(s.expected, "day"),
                plural(s.actual, "day") if s.actual is not None else "not yet",
                plural(s.excess, "day") if s.actual is not None else "",
                STAGE_STATUSES[s.status].words if s.status else "",
                DELAY_REASONS.get(s.delay_reason or "", "") if s.delay_reason else "",
            ]
            for s in self.stages
        ]
        chart = charts.rows_chart(
            title="Onboarding stages: expected and actual days",
            rows=[
                (
                    moment_name(self.model, s.moment),
                    [charts.Dot(s.expected, "planned")]
                    + ([charts.Dot(s.actual, "late" if s.excess else "done")] if s.actual is not None else []),
                )
                for s in self.stages
            ],
            x_ticks=[
                (float(x), f"{x} d")
                for x in range(0, max([s.actual or 0 for s in self.stages] + [s.expected for s in self.stages]) + 7, 7)
            ],
            legend=(("planned", "Expected"), ("done", "Actual, on time"), ("late", "Actual, over")),
            caption="Days from the step before (the first stage from the signature).",
        )
        exit_check = self.onboarding_exit()
        check = (
            paragraph(
                "Onboarding exit check: met. Every primary outcome has a lagging KPI with a baseline and a target, and a leading KPI."
            )
            if exit_check["met"]
            else paragraph("Onboarding exit check: not met yet. Missing: " + "; ".join(exit_check["missing"]) + ".")
        )
        return section(
            "Onboarding stages",
            table(["Stage", "Expected", "Actual", "Over by", "Status", "Why it was late"], rows),
            Html(str(chart)),
            check,
        )

    @live_part
    def questions(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        q = self.three_questions()
        measured = q["how_value_is_measured"]
        items = [
            (
                "How does the customer measure value?",
                (", ".join(measured["lagging_kpis"]) or "no lagging KPI agreed yet")
                + ("; the link to money is agreed." if measured["money_link"] else "; the link to money is not agreed yet."),
            ),
            ("Are they getting it?", f"The value report says: {q['are_they_getting_it']['words']}."),
            ("Will the experience make them loyal advocates?", self.loyalty_words(q["loyalty"])),
        ]
        body = Html("<dl>") + join(Html("<dt><b>{}</b></dt><dd>{}</dd>").format(k, v) for k, v in items) + Html("</dl>")
        return section("Three questions", body)

    @staticmethod
    def loyalty_words(loyalty: Mapping[str, Any]) -> str:
        """The third question's answer: the latest survey, references given, and (internal only) the health."""
        survey, parts = loyalty["latest_survey"], []
        if survey and survey["score"] is not None and survey["scale"]:
            parts.append(f"Latest survey {survey['score']:g} of {survey['scale']:g} on {survey['date']}.")
        else:
            parts.append("No survey answer yet.")
        count = loyalty.get("references") or 0
        parts.append(f"{plural(count, 'reference')} given so far." if count else "No reference given yet.")
        health = loyalty.get("health")
        if health:
            parts.append(
                f"Account health {health['score']:.1f} ({health['band']})."
                if health["score"] is not None
                else "Health not known yet."
            )
        return " ".join(parts)

    @live_part
    def internal(self) -> Html:
        """Escalations and fired triggers with the data behind them: for our team only."""
        if self.audience != "internal" or not applies(self.engagement):
            return Html("")
        lines = [
            f"{moment_name(self.model, o.moment)}: overdue {plural(o.days_late or 0, 'day')}, escalated to {o.escalated_to or 'the CS manager'}."
            for o in self.plan.occurrences
            if o.status == "escalated"
        ]
        lines += [f"Trigger {t.id}: {f.reason}" + (f"; start {t.start}" if t.start else "") + "." for t, f in self.plan.fired]
        lines += [
            f"{moment_name(self.model, m)}: two in a row cancelled or missed; review its cadence and content."
            for m in ep.interest_dropping(self.plan.occurrences)
        ]
        body = (
            Html("<ul>") + join(Html("<li>{}</li>").format(x) for x in lines) + Html("</ul>")
            if lines
            else paragraph("No escalation and no trigger fired.")
        )
        return section("Internal: escalations and triggers", body)

    def results(self) -> dict[str, Any]:
        e = self.engagement
        occurrences = [o.as_json(self.model.moment(o.moment)) for o in self.plan.occurrences]
        return {
            "workbook": WORKBOOK,
            "engagement": e.id,
            "as_of": self.as_of.isoformat(),
            "audience": self.audience,
            "verdicts": self.verdicts(),
            "model": self.model.id,
            "phase": self.phase if applies(e) else None,
            "day": self.day_number,
            "moments": occurrences,
            "next": [o.as_json(self.model.moment(o.moment)) for o in self.upcoming()],
            "overdue": [o.moment for o in self.plan.overdue()],
            "escalations": [
                {"moment": o.moment, "to": o.escalated_to, "days_late": o.days_late}
                for o in self.plan.occurrences
                if o.status == "escalated"
            ],
            "triggers_fired": [
                {"id": t.id, "on": f.on.isoformat(), "reason": f.reason, "data": f.data, "start": t.start}
                for t, f in self.plan.fired
            ],
            "interest_dropping": ep.interest_dropping(self.plan.occurrences),
            "onboarding_exit": self.onboarding_exit(),
            "three_questions": self.three_questions(),
            "ttv": None
            if self.ttv is None
            else {"days": self.ttv.days, "target": self.ttv.target, "status": self.ttv.status, "elapsed": self.ttv.elapsed},
            "stages": [
                {
                    "moment": s.moment,
                    "name": moment_name(self.model, s.moment),
                    "expected": s.expected,
                    "actual": s.actual,
                    "excess": s.excess,
                    "status": s.status,
                    "delay_reason": s.delay_reason,
                }
                for s in self.stages
            ],
        }


def page_for(
    engagement: Engagement, model: EngagementModel, *, as_of: dt.date, audience: str = "customer", horizon_days: int = 90
) -> EngagementPlanPage:
    if audience not in AUDIENCE_CHOICES:
        raise refuse("audience", "customer or internal", audience)
    if not isinstance(horizon_days, int) or isinstance(horizon_days, bool) or horizon_days < 1:
        raise refuse("horizon_days", "a whole number of days, 1 or more", horizon_days)
    return EngagementPlanPage(engagement, model, as_of, audience=audience, horizon_days=horizon_days)


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    results_path: str | None = None,
    as_of: str = "",
    audience: str = "customer",
    horizon_days: int = 90,
) -> EngagementPlanPage:
    """Load the engagement and its engagement model and compute the plan at ``as_of`` (default today)."""
    try:
        day = ep.day(as_of) or dt.date.today()
    except ValueError:
        raise refuse("as_of", "a date such as 2027-04-09, or empty for today", as_of) from None
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement) or builtin_model(DEFAULT_MODEL_ID)
    page = page_for(engagement, model, as_of=day, audience=audience, horizon_days=horizon_days)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page
