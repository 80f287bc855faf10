"""CSM activities (workbook ``csm_activities``): what the CSM did for the account, for which of the eight
missions, with whom, and how much time it took against what the account is worth.

Per mission: the activities and minutes of the last 90 days and the last date it was served, missions
without any activity in that time flagged; the activities by exchange level (operational, business,
strategic, from the people taking part); the minutes a month set against the renewal base. The moments
of the engagement plan that were held count as activities too. The arithmetic is
:mod:`csm_nb.method.activities`.

Audience: internal (the CSM's own review, and the CS manager's). A person running the notebook gets a
small form above the report to log an activity in a few clicks (:mod:`csm_nb.forms.activities`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import activities as am
from csm_nb.method import renewal as rn
from csm_nb.method.dates import parse_as_of
from csm_nb.method.verdicts import Verdicts
from csm_nb.model import Engagement, EngagementModel
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.pages.renewal_prep import bill_of_materials
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import LEVELS, MISSIONS, day_words, number, plural

WORKBOOK = "csm_activities"
TITLE = "CSM activities"
LEVEL_WORDS = {**LEVELS, am.NOT_KNOWN_LEVEL: "no one of known level"}
# The missions as a chart's bars name them: short enough that all eight names show under their bars.
MISSION_LABELS: dict[str, str] = {
    "reduce_risk": "Reduce risk",
    "develop_business": "Develop business",
    "focus_on_value": "Focus on value",
    "manage_goals": "Manage goals",
    "mutual_profitability": "Mutual profit",
    "satisfaction": "Satisfaction",
    "understand_customer": "Understand customer",
    "build_relationships": "Build relations",
}


def applies(engagement: Engagement) -> bool:
    """Something to show: activities logged, or moments of the plan held."""
    return bool(engagement.activities or am.held_moments(engagement.moments))


def when(day: dt.date | None) -> str:
    return day_words(day) if day else "never"


def minutes_words(minutes: float | None) -> str:
    """Minutes as people read them: "90 min", "2 h 30 min"; ``None`` is "not logged".

    >>> minutes_words(90), minutes_words(150), minutes_words(45), minutes_words(None)
    ('1 h 30 min', '2 h 30 min', '45 min', 'not logged')
    """
    if minutes is None:
        return "not logged"
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


@dataclass
class CsmActivitiesPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "internal"
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """Activities of the last 90 days and the missions with none, from the results alone."""
        count, flagged = results.get("activities"), results.get("flagged")
        if not isinstance(count, int) or not isinstance(flagged, list):
            return overall_headline(results, tagged=False)
        figures_ = {"activities_90_days": count, "missions_without_activity": len(flagged)}
        if isinstance(results.get("minutes_per_10k"), int | float):
            figures_["minutes_per_10k"] = results["minutes_per_10k"]
        summary = f"{plural(count, 'activity', 'activities')} in the last {results.get('window_days', am.WINDOW_DAYS)} days; " + (
            f"{plural(len(flagged), 'mission')} without any." if flagged else "every mission served."
        )
        return overall_headline(results, figures=figures_, summary=summary, tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> CsmActivitiesPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    as_of: dt.date
    model: EngagementModel | None = None  # names the moments held
    db: str | None = None
    # The log form while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e, as_of = self.engagement, self.as_of
        names = {m.id: m.name for m in self.model.moments if m.name} if self.model else {}
        self.done = am.counted_activities(e.activities, e.moments, as_of=as_of, names=names)
        self.recent = am.in_window(self.done, as_of=as_of)
        self.coverage = am.mission_coverage(self.done, as_of=as_of)
        self.levels = am.by_level(self.recent, e.stakeholders or [])
        self.minutes = am.known_minutes(self.recent)
        self.per_month = am.minutes_per_month(self.minutes)
        money = rn.renewal_money(bill_of_materials(e))
        self.base = money.base if money.lines else None  # no renewable line: not known, never zero
        self.per_10k = am.minutes_per_10k(self.per_month, self.base)
        self.months = am.minutes_by_month(self.done, as_of=as_of)
        self.judged: Verdicts = engagement_verdicts(e, as_of=as_of)

    def verdicts(self) -> dict[str, Any]:
        return self.judged.as_json()

    # -- the form, for a person ----------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the form to log an activity (csm_nb.forms.activities) above the report, whose parts
        then redraw after each save. Headless: nothing (the report is unchanged)."""
        if not self.interactive:
            return None
        from csm_nb.forms.activities import ActivityForms

        if self.forms is not None:
            self.forms.close()
        self.forms = ActivityForms(self.engagement, self.model, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    # -- facts -----------------------------------------------------------------------------------------
    @property
    def flagged(self) -> list[str]:
        return [c.mission for c in self.coverage if c.flagged]

    @property
    def mission_serves(self) -> int:
        """How many times the window's activities serve a mission: one activity may count for several."""
        return sum(c.activities for c in self.coverage)

    @property
    def without_mission(self) -> list[am.Done]:
        return [d for d in self.recent if not d.missions]

    # -- the report ----------------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not applies(e):
            return callout(
                f"No activity is logged for {e.customer} yet, and no moment of the plan is held. Log one with the form when "
                "you run the notebook, or import a CSV of activities (date, type, title, missions, with, minutes, outcome).",
                tone="info",
                title="Nothing logged yet.",
            )
        n = len(self.recent)
        text = f"{plural(n, 'activity', 'activities')} in the {am.WINDOW_DAYS} days to {when(self.as_of)}" + (
            f", {minutes_words(self.minutes)} logged." if self.minutes is not None else ", no minutes logged."
        )
        if self.flagged:
            text += " No activity for: " + ", ".join(MISSIONS[m] for m in self.flagged) + "."
            title = f"{plural(len(self.flagged), 'mission')} without activity."
        else:
            title = "Every mission served."
        return callout(text, tone="warn" if self.flagged else "good", title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        logged = sum(1 for d in self.recent if d.minutes is not None)
        items = [
            (f"Activities, last {am.WINDOW_DAYS} days", str(len(self.recent)), f"{len(self.done)} in all"),
            ("Time logged", minutes_words(self.minutes), f"for {logged} of {plural(len(self.recent), 'activity', 'activities')}"),
            (
                "Minutes a month per 10,000",
                number(self.per_10k, decimals=1) if self.per_10k is not None else "not known yet",
                f"of a renewal base of {self.m(self.base)}" if self.base else "no renewal base in the bill of materials",
            ),
            ("Missions without activity", str(len(self.flagged)), f"of {len(MISSIONS)}"),
        ]
        return figures(items)

    @live_part
    def missions(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rows = [
            [
                MISSIONS[c.mission],
                str(c.activities),
                minutes_words(c.minutes),
                when(c.last),
                "no activity in 90 days" if c.flagged else "",
            ]
            for c in self.coverage
        ]
        chart = charts.bar_chart(
            title=f"Minutes by mission, last {am.WINDOW_DAYS} days",
            labels=[MISSION_LABELS[c.mission] for c in self.coverage],
            values=[c.minutes for c in self.coverage],
            y_format=lambda v: f"{v:,.0f}",
            y_label="minutes",
            missing_label="not logged",
            height=260,
            caption="An activity that serves several missions counts its minutes under each of them.",
        )
        notes = [
            f"One activity may serve several missions: the {plural(len(self.recent), 'activity', 'activities')} of the last "
            f"{am.WINDOW_DAYS} days count {plural(self.mission_serves, 'time')} across the missions, so the missions' totals "
            "add up to more than the activities."
        ]
        if self.without_mission:
            notes.append(f"{plural(len(self.without_mission), 'activity', 'activities')} serve no mission yet: tag them.")
        return section(
            "Missions",
            table(["Mission", "Activities", "Minutes", "Last served", ""], rows, numeric=[False, True, True, False, False]),
            Html(str(chart)),
            *(paragraph(n, css_class="note") for n in notes),
            intro=f"Each of the eight missions over the last {am.WINDOW_DAYS} days; the last date is the latest ever.",
        )

    @live_part
    def exchange_levels(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rows = [[LEVEL_WORDS[k], str(v)] for k, v in self.levels.items()]
        return section(
            "Exchange levels",
            table(["Level", "Activities"], rows, numeric=[False, True]),
            paragraph(
                "An activity counts once at each level of the customer's people taking part (their level in the stakeholders).",
                css_class="note",
            ),
            intro=f"Who we met over the last {am.WINDOW_DAYS} days: operational, business and strategic.",
        )

    @live_part
    def time_spent(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rows = [
            [dt.date.fromisoformat(f"{m['month']}-01").strftime("%b %Y"), str(m["activities"]), minutes_words(m["minutes"])]
            for m in self.months
        ]
        if self.per_month is None:
            said = "No minutes are logged in the last 90 days: the time against the account's worth is not known yet."
        elif not self.base:
            said = f"{minutes_words(self.per_month)} a month; the bill of materials has no renewal base to set it against."
        else:
            said = (
                f"{minutes_words(self.per_month)} a month over the last {am.WINDOW_DAYS} days, for a renewal base of "
                f"{self.m(self.base)}: {number(self.per_10k, decimals=1)} minutes a month for each {self.m(am.PER_BASE)}."
            )
        return section(
            "Time against the account's worth",
            paragraph(said),
            table(["Month", "Activities", "Minutes"], rows, numeric=[False, True, True]),
            intro="How much of the CSM's time the account takes, for conversations about where time goes.",
        )

    @live_part
    def log(self) -> Html:
        if not applies(self.engagement) or not self.recent:
            return Html("")
        rows = [
            [
                when(d.date),
                d.type + (" (moment held)" if d.source == "moment" else ""),
                d.title,
                ", ".join(MISSIONS.get(m, m) for m in d.missions),
                ", ".join(d.people),
                minutes_words(d.minutes),
                d.outcome or "",
            ]
            for d in reversed(self.recent)
        ]
        return section(
            f"Activities of the last {am.WINDOW_DAYS} days",
            table(["Date", "Type", "What", "Missions", "With", "Minutes", "Outcome"], rows),
        )

    def results(self) -> dict[str, Any]:
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "verdicts": self.verdicts(),
            "window_days": am.WINDOW_DAYS,
            "activities": len(self.recent),
            "activities_all": len(self.done),
            "from_moments": sum(1 for d in self.recent if d.source == "moment"),
            "mission_serves": self.mission_serves,
            "missions": {c.mission: c.as_json() for c in self.coverage},
            "flagged": self.flagged,
            "without_mission": len(self.without_mission),
            "levels": self.levels,
            "minutes": self.minutes,
            "minutes_per_month": self.per_month,
            "renewal_base": self.base,
            "minutes_per_10k": self.per_10k,
            "by_month": self.months,
            "log": [d.as_json() for d in self.recent],
        }


def page_for(engagement: Engagement, *, as_of: dt.date, model: EngagementModel | None = None) -> CsmActivitiesPage:
    return CsmActivitiesPage(engagement, as_of, model=model)


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = ""
) -> CsmActivitiesPage:
    """Load the engagement (and the engagement model that names its moments) and count at ``as_of`` (an ISO date; empty for today)."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement)
    page = page_for(engagement, as_of=day, model=model)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page.at(day)
