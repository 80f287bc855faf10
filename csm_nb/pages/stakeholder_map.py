"""The stakeholder map (workbook ``stakeholder_map``): who matters at the customer and where they stand.

The influence x support grid with its four quadrants, the reporting lines, who meets whom at each
level on both sides, a relationship that hangs on one person, the people we have not spoken to for
longer than their cadence, who left or arrived in the last 90 days (a sponsor or champion who
left raises a sponsor change for the engagement plan), their objectives side by side, who should be
in the room for a topic, and what to do, in words. The rules are :mod:`csm_nb.method.stakeholders`.

Audience: internal. Influence and support ratings never reach a customer report (the engagement
brief lists the names, job roles, roles and levels only). A person running the notebook gets a
form above the map to rate a stakeholder and note their status and last contact
(:mod:`csm_nb.forms.stakeholders`); the map redraws after each save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.checks import refuse
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import stakeholders as sm
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, overall_headline
from csm_nb.render.grid import GridPoint, influence_support_grid
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import CADENCE_DAYS, LEVELS, OUR_FUNCTIONS, day_words, plural

WORKBOOK = "stakeholder_map"
TITLE = "Stakeholder map"


def applies(engagement: Engagement) -> bool:
    """Something to map: at least one stakeholder."""
    return bool(engagement.stakeholders)


def _stance(support: int | None) -> str:
    return "not rated" if support is None else f"{sm.SUPPORT_WORDS[support]} ({sm.signed(support)})"


def _influence(influence: int | None) -> str:
    return "not rated" if influence is None else f"{influence} of 5, {sm.INFLUENCE_WORDS[influence]}"


def _tag(words: str, tone: str = "") -> Html:
    return Html('<span class="tag{}">{}</span>').format(f" tag-{tone}" if tone else "", words)


def _items(lines: list[Any]) -> Html:
    return Html("<ul>") + join(Html("<li>{}</li>").format(x) for x in lines) + Html("</ul>")


@dataclass
class StakeholderMapPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "internal"
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> StakeholderMapPage:
        return open_page(engagement_id, **options)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """How many stakeholders, the relationship checks met, contacts overdue and actions."""
        counts = results.get("counts") or {}
        checks = results.get("relationship_checks") or {}
        overdue = len(results.get("overdue") or [])
        actions = len(results.get("actions") or [])
        met = sum(bool(v) for v in checks.values())
        figures = {
            "stakeholders": counts.get("present"),
            "checks_met": met if checks else None,
            "win_over": len((results.get("quadrants") or {}).get("win_over") or []),
            "overdue": overdue,
            "actions": actions,
            "single_threaded": results.get("single_threaded"),
        }
        summary = ""
        if counts:
            summary = (
                f"{plural(counts.get('present') or 0, 'stakeholder')}; relationship checks {met} of {len(checks)} met; "
                f"{plural(overdue, 'contact')} overdue; {plural(actions, 'action')}."
            )
        return overall_headline(
            results, figures={k: v for k, v in figures.items() if v is not None}, summary=summary, tagged=False
        )

    engagement: Engagement
    as_of: dt.date
    topic: str = ""
    db: str | None = None
    # The rating form while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e = self.engagement
        self.people = sm.people(e.stakeholders)
        self.present = [p for p in self.people if p.present]
        self.logged = sm.logged_contacts(e.activities, e.moments, as_of=self.as_of)
        self.contact_list = sm.contact_status(self.people, as_of=self.as_of, logged=self.logged)
        self.overdue = sm.overdue_contacts(self.people, as_of=self.as_of, logged=self.logged)
        self.change_list = sm.changes(self.people, as_of=self.as_of)
        self.checks = sm.relationship_checks(self.people)
        self.quadrant_names = sm.quadrants(self.people)
        self.strong = sm.strong_contacts(self.people)
        self.action_list = sm.relationship_actions(self.people, as_of=self.as_of, logged=self.logged)

    # -- the rating form, for a person ----------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the form to rate a stakeholder and note their status and last contact
        (csm_nb.forms.stakeholders), above the map, which redraws after each save. Headless: nothing."""
        if not self.interactive:
            return None
        from csm_nb.forms.stakeholders import StakeholderForms

        if self.forms is not None:
            self.forms.close()
        self.forms = StakeholderForms(self.engagement, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    # -- facts --------------------------------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        present = self.present
        return {
            "stakeholders": len(self.people),
            "present": len(present),
            "customer": sum(p.side == "customer" for p in present),
            "ours": sum(p.side == "ours" for p in present),
            "partner": sum(p.side == "partner" for p in present),
            "rated": sum(p.rated for p in present),
            "left": sum(p.status == "left" for p in self.people),
            "new": sum(p.status == "new" for p in self.people),
            "by_quadrant": {k: len(v) for k, v in self.quadrant_names.items()},
            "by_level": {
                level: {side: len(names) for side, names in sides.items()}
                for level, sides in sm.level_coverage(self.people).items()
            },
        }

    def undated(self) -> list[sm.Stakeholder]:
        """People who left or are new without a ``since``: their change cannot be dated."""
        return [p for p in self.people if p.status in ("left", "new") and p.since is None]

    def room_people(self) -> list[str]:
        return sm.who_should_be_in_the_room(self.people, self.topic) if self.topic.strip() else []

    # -- the report ----------------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not applies(e):
            return callout(
                f"{e.customer} has no stakeholders yet. Add them under stakeholders: in the engagement file (name, job "
                "role, roles, level, influence, support) and import it again.",
                tone="info",
                title="No one to map yet.",
            )
        c = self.counts()
        met = sum(self.checks.values())
        parts = [
            f"{plural(c['customer'], 'stakeholder')} at the customer ({c['rated']} rated), {c['ours']} on our side"
            + (f", {plural(c['partner'], 'partner')}" if c["partner"] else "")
            + ".",
            f"Relationship checks: {met} of {len(self.checks)} met.",
        ]
        if len(self.strong) == 1:
            parts.append(f"The relationship hangs on {self.strong[0]} alone.")
        if self.overdue:
            parts.append(f"{plural(len(self.overdue), 'contact')} overdue.")
        severe = not (self.checks["active_sponsor"] and self.checks["active_champion"] and self.checks["no_strong_opponent"])
        tone = "bad" if severe else ("warn" if self.action_list else "good")
        title = f"{plural(len(self.action_list), 'action')} to take." if self.action_list else "Nothing to act on."
        return callout(" ".join(parts), tone=tone, title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        win = self.quadrant_names["win_over"]
        items = [
            ("Relationship checks", f"{sum(self.checks.values())} of {len(self.checks)}", "sponsor, champion, levels, opponents"),
            ("To win over", str(len(win)), ", ".join(win[:2]) + (" …" if len(win) > 2 else "") if win else "no one"),
            ("Overdue contacts", str(len(self.overdue)), f"as of {day_words(self.as_of)}"),
            ("Changes", str(len(self.change_list)), f"in the last {sm.CHANGES_DAYS} days"),
        ]
        return figures(items)

    @live_part
    def actions(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        checks = [
            Html("<li>{} {}</li>").format(_tag("met", "good") if ok else _tag("not met", "bad"), sm.CHECK_WORDS[key])
            for key, ok in self.checks.items()
        ]
        body = (
            Html("<ol>") + join(Html("<li>{}</li>").format(a.text) for a in self.action_list) + Html("</ol>")
            if self.action_list
            else paragraph("Nothing to act on: sponsor and champion in post, every level covered, contacts on time.")
        )
        return section(
            "Actions",
            body,
            Html("<h3>Relationship checks</h3><ul>") + join(checks) + Html("</ul>"),
            intro="Most pressing first. The four checks are the ones the health score's relationship component counts.",
        )

    @live_part
    def grid(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rated = [p for p in self.present if p.rated]
        points = [GridPoint(p.name, p.influence or 0, p.support or 0, new=p.status == "new") for p in rated]
        chart = influence_support_grid(
            title=f"Where each stakeholder stands, {day_words(self.as_of)}",
            points=points,
            caption="Each name sits where it is rated: influence 1 (little) to 5 (decisive), support -2 (opposed) to "
            "+2 (advocate). Influence 3 and up is high; support 0 counts as not for us yet.",
        )
        rows = []
        for key, verdict in sm.QUADRANTS.items():
            names = self.quadrant_names[key]
            if names:
                advice = sm.QUADRANT_ADVICE[key]
                rows.append([verdict.words.capitalize(), ", ".join(names), advice[0].upper() + advice[1:] + "."])
        parts: list[Any] = [Html(str(chart)), table(["Quadrant", "Who", "What to do"], rows)] if rows else [Html(str(chart))]
        if self.quadrant_names["not_rated"]:
            parts.append(
                paragraph(
                    "Not rated yet: " + ", ".join(self.quadrant_names["not_rated"]) + ". Rate their influence and support "
                    "to place them on the grid.",
                    css_class="note",
                )
            )
        return section("Influence and support", *parts)

    def _node(self, node: sm.OrgNode) -> Html:
        p = node.person
        details = [p.role or "", f"({p.org_unit})" if p.org_unit else ""]
        bits = [" ".join(d for d in details if d)]
        if p.side == "ours" and p.function:
            bits.append(OUR_FUNCTIONS.get(p.function, p.function))
        if p.roles:
            bits.append(sm.role_words(p.roles))
        if p.level:
            bits.append(f"{LEVELS[p.level]} level")
        if p.rated:
            bits.append(f"influence {p.influence}, support {sm.signed(p.support or 0)}")
        said = "; ".join(b for b in bits if b)
        line = Html("<b>{}</b>").format(p.name) + (Html(": {}").format(said) if said else Html(""))
        if p.status != "active":
            since = f" since {day_words(p.since)}" if p.since else ""
            line += Html(" ") + _tag(sm.STATUS_WORDS[p.status] + since, "bad" if p.status == "left" else "")
        children = Html("<ul>") + join(self._node(c) for c in node.reports) + Html("</ul>") if node.reports else Html("")
        return Html("<li>") + line + children + Html("</li>")

    @live_part
    def org_chart(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        trees = sm.org_tree(self.people)
        parts: list[Any] = []
        for side, heading in (("customer", "At the customer"), ("partner", "Partners"), ("ours", "Our team")):
            mine = [t for t in trees if t.person.side == side]
            if mine:
                parts.append(Html("<h3>{}</h3>").format(heading))
                parts.append(Html('<ul class="org-tree">') + join(self._node(t) for t in mine) + Html("</ul>"))
        return section("Organisation", *parts, intro="Who reports to whom (reports_to), each person with their job and roles.")

    @live_part
    def coverage(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        found = sm.level_coverage(self.people)
        has_ours = any(p.side == "ours" for p in self.present)
        rows = []
        for level, sides in found.items():
            if not sides["customer"]:
                note = "no customer contact: meet someone at this level"
            elif not sides["ours"] and has_ours:
                note = "no counterpart on our side"
            else:
                note = ""
            rows.append(
                [level.capitalize(), ", ".join(sides["customer"]) or "no one", ", ".join(sides["ours"]) or "no one", note]
            )
        unset = [p.name for p in self.present if p.side in ("customer", "ours") and p.level not in LEVELS]
        parts: list[Any] = [table(["Level", "Customer contacts", "Our counterparts", ""], rows)]
        if len(self.strong) == 1:
            parts.append(
                callout(
                    f"{self.strong[0]} is the only customer contact with influence {sm.KEY_INFLUENCE} or more: if they go, "
                    "the relationship goes with them.",
                    tone="warn",
                    title="Single-threaded.",
                )
            )
        elif self.strong:
            parts.append(paragraph(f"Customer contacts with influence {sm.KEY_INFLUENCE} or more: {', '.join(self.strong)}."))
        if unset:
            parts.append(paragraph("Level not noted yet: " + ", ".join(unset) + ".", css_class="note"))
        return section(
            "Coverage by level",
            *parts,
            intro="People in post at each level of exchange: operational (day to day), business (the project on both sides), "
            "strategic (the leadership on both sides).",
        )

    @live_part
    def contacts(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        ordered = sorted(self.contact_list, key=lambda c: (not c.overdue, -(c.days if c.days is not None else 10**9)))
        rows = []
        for c in ordered:
            if c.days is None:
                status = _tag("no contact on record", "bad")
            elif c.overdue:
                status = _tag(f"overdue by {plural(c.days - c.cadence_days, 'day')}", "warn")
            else:
                status = _tag("on time", "good")
            rows.append(
                [
                    c.name,
                    f"{c.cadence} ({c.cadence_days} days)",
                    day_words(c.last) if c.last else "",
                    "" if c.days is None else str(c.days),
                    {"log": "activity or meeting", "last_contact": "noted"}.get(c.source or "", ""),
                    status,
                ]
            )
        without = [p.name for p in self.present if p.side != "ours" and p.cadence not in CADENCE_DAYS]
        parts: list[Any] = (
            [
                table(
                    ["Who", "Cadence", "Last contact", "Days since", "From", ""],
                    rows,
                    numeric=[False, False, False, True, False, False],
                )
            ]
            if rows
            else [paragraph("No one has a contact cadence yet (weekly, monthly or quarterly).", css_class="note")]
        )
        if without:
            parts.append(paragraph("No cadence set: " + ", ".join(without) + ".", css_class="note"))
        return section(
            "Contacts and cadence",
            *parts,
            intro=f"Overdue when more days have passed since the last contact than the cadence allows, at {day_words(self.as_of)}. "
            "The last contact is the later of the one noted and the activities and meetings logged with them.",
        )

    @live_part
    def changes(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rows = [
            [
                c.name,
                sm.STATUS_WORDS[c.status],
                day_words(c.since),
                plural(c.days, "day") + " ago",
                sm.role_words(c.roles),
                sm.SIDE_WORDS.get(c.side, c.side),
            ]
            for c in self.change_list
        ]
        parts: list[Any] = (
            [table(["Who", "Change", "Since", "When", "Roles", "Side"], rows)]
            if rows
            else [paragraph(f"No one left or joined in the last {sm.CHANGES_DAYS} days.")]
        )
        events = sm.sponsor_change_events(self.people)
        if events:
            lines = [f"{e.respondent}: {e.note} on {day_words(dt.date.fromisoformat(e.date))}" for e in events]
            parts.append(
                Html("<h3>Sponsor changes for the engagement plan</h3>")
                + paragraph("Each is an event the engagement plan answers with its sponsor-change moment.")
                + _items(lines)
            )
        undated = self.undated()
        if undated:
            parts.append(
                paragraph(
                    "No date for: "
                    + ", ".join(f"{p.name} ({sm.STATUS_WORDS[p.status]})" for p in undated)
                    + ". Add since so the change can be dated.",
                    css_class="note",
                )
            )
        return section(f"Changes in the last {sm.CHANGES_DAYS} days", *parts)

    @live_part
    def objectives(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        found = sm.objectives_side_by_side(self.people)
        if not found:
            return section(
                "Objectives side by side",
                paragraph("No one's own objectives are noted yet (objectives: in the engagement file).", css_class="note"),
            )
        contributes = any(p.contributes for p in found)
        rows = [
            [p.name, (p.level or "").capitalize(), _influence(p.influence), _stance(p.support), "; ".join(p.objectives)]
            + ([p.contributes or ""] if contributes else [])
            for p in found
        ]
        columns = ["Who", "Level", "Influence", "Support", "Their objectives"] + (["What they contribute"] if contributes else [])
        return section(
            "Objectives side by side",
            table(columns, rows),
            intro="Objectives that pull apart each need something from the engagement, or resources are held back. "
            "The most influential first.",
        )

    @live_part
    def room(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        parts: list[Any] = []
        topic = self.topic.strip()
        if topic:
            found = self.room_people()
            parts.append(
                callout(", ".join(found) + ".", tone="info", title=f"For {topic}:")
                if found
                else callout(
                    f"No one is noted as knowing about {topic}. Ask the sponsor who does, and add it to their knows_about.",
                    tone="warn",
                    title=f"For {topic}:",
                )
            )
        known = sm.topics(self.people)
        if known:
            parts.append(table(["Topic", "Who knows about it"], [[t, ", ".join(names)] for t, names in known.items()]))
        else:
            parts.append(paragraph("No topics noted yet (knows_about: in the engagement file).", css_class="note"))
        return section(
            "Who should be in the room",
            *parts,
            intro="The people who know most about a subject may not be the ones in the meeting: invite them.",
        )

    def results(self) -> dict[str, Any]:
        e = self.engagement
        coverage = sm.level_coverage(self.people)

        def tree(node: sm.OrgNode) -> dict[str, Any]:
            return {"name": node.person.name, "reports": [tree(c) for c in node.reports]}

        return {
            "workbook": WORKBOOK,
            "engagement": e.id,
            "as_of": self.as_of.isoformat(),
            "audience": "internal",
            "verdicts": self.verdicts(),
            "counts": self.counts(),
            "quadrants": self.quadrant_names,
            "people": [
                {
                    "name": p.name,
                    "role": p.role,
                    "side": p.side,
                    "roles": list(p.roles),
                    "level": p.level,
                    "influence": p.influence,
                    "support": p.support,
                    "quadrant": sm.quadrant(p.influence, p.support) if p.present else None,
                    "status": p.status,
                    "since": p.since.isoformat() if p.since else None,
                }
                for p in self.people
            ],
            "coverage": coverage,
            "single_threaded": len(self.strong) == 1,
            "strong_contacts": self.strong,
            "relationship_checks": self.checks,
            "contacts": [c.as_json() for c in self.contact_list],
            "overdue": [c.as_json() for c in self.overdue],
            "changes": [c.as_json() for c in self.change_list],
            "sponsor_change_events": [
                {"date": ev.date, "type": ev.type, "respondent": ev.respondent, "note": ev.note}
                for ev in sm.sponsor_change_events(self.people)
            ],
            "org_tree": [tree(t) for t in sm.org_tree(self.people)],
            "objectives": [
                {"name": p.name, "objectives": list(p.objectives), "contributes": p.contributes}
                for p in sm.objectives_side_by_side(self.people)
            ],
            "topics": sm.topics(self.people),
            "room": {"topic": self.topic.strip(), "people": self.room_people()},
            "actions": [a.as_json() for a in self.action_list],
        }


def page_for(engagement: Engagement, *, as_of: dt.date, topic: str = "") -> StakeholderMapPage:
    if not isinstance(topic, str):
        raise refuse("topic", "a subject as text, such as surveys, or empty for none", topic)
    return StakeholderMapPage(engagement, as_of, topic=topic)


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "", topic: str = ""
) -> StakeholderMapPage:
    """Load the engagement and map its stakeholders at ``as_of`` (an ISO date; empty for today)."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
    page = page_for(engagement, as_of=day, topic=topic)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page
