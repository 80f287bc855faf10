"""The engagement brief (workbook ``engagement_brief``): what the CSM prepares
before the first meeting. What was sold and the role of each line, how the
deal earns revenue, the customer's initiative, the capabilities it touches
and the outcomes known so far, on one page, with the questions still open.

It starts from the engagement file (solution, initiative, outcomes); answers
given in the form add to it or correct it. Interactive (a person in
JupyterLab or the workshop app, see ``config.interactive_session``): the
picker and the form. Headless: the one-page brief.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csm_nb import config
from csm_nb.data.questions import load_bank, option_label, parse_answers_parameter
from csm_nb.data.store import Store
from csm_nb.forms.widgets import WorkshopPage
from csm_nb.method.dates import parse_as_of
from csm_nb.method.kpis import kpis_by_capability, unmeasured_changes
from csm_nb.model import Engagement, Outcome
from csm_nb.pages.base import Page
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.vocabulary import LEVELS, NOT_KNOWN, OUR_FUNCTIONS, STAKEHOLDER_ROLES, number, plural

WORKBOOK = "engagement_brief"
TITLE = "Engagement brief"


def applies(engagement: Engagement) -> bool:
    return bool(engagement.solution or engagement.initiative or engagement.outcomes or (engagement.workshop or {}).get(WORKBOOK))


def _lines(text: Any) -> list[str]:
    """Text typed one item a line -> the items (blank lines and bullets dropped)."""
    return [line.strip(" -•*\t") for line in str(text or "").splitlines() if line.strip(" -•*\t")]


class EngagementBriefPage(WorkshopPage, Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    WORKSHOP = True
    WORKSHOP_BLURB = "Before the first meeting: what was sold and why, the initiative, what is still open."
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> EngagementBriefPage:
        return open_page(engagement_id, **options)

    # -- the engagement with the workshop's answers applied ------------------------------
    def bill_of_materials(self) -> list[dict[str, Any]]:
        a = self.answers
        rows = []
        for i, line in enumerate((self.engagement.solution or {}).get("bill_of_materials") or []):
            row = dict(line)
            for part in ("role", "revenue", "term_months", "renewal", "timing"):
                if f"bom.{i}.{part}" in a:
                    row[part] = a[f"bom.{i}.{part}"]
            rows.append(row)
        return rows

    def capabilities(self) -> list[dict[str, Any]]:
        a = self.answers
        rows = []
        for i, cap in enumerate((self.engagement.initiative or {}).get("capabilities") or []):
            row = dict(cap)
            for part in ("area", "level", "change"):
                if f"cap.{i}.{part}" in a:
                    row[part] = a[f"cap.{i}.{part}"]
            rows.append(row)
        return rows

    def outcomes(self) -> list[Outcome]:
        a, out = self.answers, []
        for o in self.engagement.outcomes:
            marked = Outcome(**o.__dict__)
            marked.status = a.get(f"outcome.{o.id}.status", o.status)
            marked.priority = a.get(f"outcome.{o.id}.priority", o.priority)
            out.append(marked)
        return out

    def revenue(self) -> dict[str, float | None]:
        """Totals of the bill of materials by how each line earns (amounts in the currency)."""
        lines = self.bill_of_materials()

        def total(**match: str) -> float:
            return sum(float(line.get("amount") or 0) for line in lines if all(line.get(k) == v for k, v in match.items()))

        deal = self.answers.get("deal_size")
        # Professional services are paid once: they count as one-off revenue, so the tiles add up to the deal.
        services = sum(float(s.get("amount") or 0) for s in (self.engagement.solution or {}).get("services") or [])
        return {
            "deal_size": float(deal) if deal is not None else None,
            "renewable": total(revenue="renewable"),
            "one_off": total(revenue="one_off") + services,
            "services": services,
            "renewal_expected": total(revenue="renewable", renewal="expected"),
            "temporary": total(renewal="temporary"),
            "immediate": total(timing="immediate"),
            "planned": total(timing="planned"),
        }

    # -- the brief ------------------------------------------------------------------------
    def headline(self) -> Html:
        e, a = self.engagement, self.answers
        name = a.get("initiative_name") or "an initiative not named yet"
        purpose = a.get("purpose")
        done, total = self.answered_counts()
        assumed = [o for o in self.outcomes() if o.status != "stated"]
        text = f"{e.customer}: {name}." + (f" {purpose}" if purpose else "")
        note = f"{done} of {total} brief questions answered; {plural(len(assumed), 'outcome')} to validate."
        return join(
            [callout(text, tone="info", title="The initiative."), paragraph(note, css_class="note"), self.supplied_note()]
        )

    def sold(self) -> Html:
        if self.interactive:
            return Html("")
        a, solution = self.answers, self.engagement.solution or {}
        parts: list[Any] = []
        if a.get("solution_summary"):
            parts.append(paragraph(a["solution_summary"]))
        bom = self.bill_of_materials()
        if bom:
            rows = [
                [
                    line.get("item"),
                    line.get("role") or "role not known yet",
                    number(line.get("quantity"), unknown=""),
                    self.m(line.get("amount")),
                    option_label(line.get("revenue") or "") or "?",
                    f"{line['term_months']} months" if line.get("term_months") is not None else "",
                    line.get("renewal") or "",
                    line.get("timing") or "",
                ]
                for line in bom
            ]
            parts.append(
                table(
                    ["Line", "Role in the solution", "Qty", "Amount", "Revenue", "Term", "At end of term", "Booked"],
                    rows,
                    numeric=[False, False, True, True, False, False, False, False],
                )
            )
        services = solution.get("services") or []
        if services:
            parts.append(
                table(
                    ["Service", "Scope", "Days", "Amount"],
                    [
                        [s.get("name"), s.get("description") or "", number(s.get("days"), unknown=""), self.m(s.get("amount"))]
                        for s in services
                    ],
                    numeric=[False, False, True, True],
                    caption="Professional services",
                )
            )
        if a.get("services_note"):
            parts.append(paragraph(f"Services, noted in preparation: {a['services_note']}"))
        support = solution.get("support") or {}
        level = a.get("support_level") or support.get("level")
        if level:
            parts.append(
                paragraph(f"Support: {level}" + (f" ({support['description']})" if support.get("description") else "") + ".")
            )
        if not parts:
            parts.append(paragraph("Nothing recorded yet about what was sold.", css_class="note"))
        return section("What was sold", *parts)

    def revenue_report(self) -> Html:
        if self.interactive:
            return Html("")
        r = self.revenue()
        if not self.bill_of_materials() and r["deal_size"] is None:
            return Html("")
        items = [
            ("Deal size", self.m(r["deal_size"]), "guides how much CSM time the account gets"),
            ("Renewable", self.m(r["renewable"]), f"{self.m(r['renewal_expected'])} expected to renew"),
            (
                "One-off",
                self.m(r["one_off"]),
                f"not renewed; {self.m(r['services'])} of it professional services" if r["services"] else "not renewed",
            ),
            ("Planned, not yet booked", self.m(r["planned"]), f"{self.m(r['immediate'])} booked now"),
        ]
        notes = []
        if r["temporary"]:
            notes.append(f"{self.m(r['temporary'])} is meant to be temporary: not a renewal to chase.")
        lines_total = r["renewable"] + r["one_off"]
        if r["deal_size"] is not None and lines_total and abs(lines_total - r["deal_size"]) > 0.5:
            notes.append(
                f"The lines add up to {self.m(lines_total)}, not the deal size of {self.m(r['deal_size'])}: "
                "check which is right before the first meeting."
            )
        return section(
            "Revenue",
            figures(items),
            *(paragraph(n, css_class="note") for n in notes),
            intro="From the bill of materials and the services: amounts by how each line earns.",
        )

    def initiative(self) -> Html:
        if self.interactive:
            return Html("")
        a, ini = self.answers, self.engagement.initiative or {}
        facts = [
            (label, a.get(key))
            for label, key in (
                ("Initiative", "initiative_name"),
                ("Purpose", "purpose"),
                ("Strategic fit", "strategic_fit"),
                ("Sponsor", "sponsor"),
            )
        ]
        parts: list[Any] = [
            Html("<dl>") + join(Html("<dt><b>{}</b></dt><dd>{}</dd>").format(k, v or NOT_KNOWN) for k, v in facts) + Html("</dl>")
        ]
        milestones = ini.get("milestones") or []
        extra_m = _lines(a.get("milestones_note"))
        if milestones or extra_m:
            rows = [[m.get("name"), m.get("date") or "", "done" if m.get("done") else ""] for m in milestones]
            rows += [[m, "", "added in preparation"] for m in extra_m]
            parts.append(table(["Milestone", "Date", ""], rows, caption="Milestones"))
        challenges = ini.get("challenges") or []
        extra_c = _lines(a.get("challenges_note"))
        if challenges or extra_c:
            rows = [[c.get("kind") or "", c.get("description"), c.get("mitigation") or "none yet"] for c in challenges]
            rows += [["", c, "added in preparation"] for c in extra_c]
            parts.append(table(["Kind", "Challenge", "Mitigation"], rows, caption="Known challenges"))
        # The people come right after the initiative they carry (in the notebook's initiative cell).
        return join([section("The initiative", *parts), self.stakeholders_report()])

    def stakeholders(self) -> list[dict[str, Any]]:
        """The people around the engagement as everyone may read them: name, job, roles, level, side (the
        file's default: customer) and, for our people, their function; those who have left are left out.
        Influence, support, objectives and contact notes are the internal stakeholder map's, never the brief's."""
        out = []
        for person in self.engagement.stakeholders or []:
            if person.get("status") == "left":
                continue
            out.append(
                {
                    "name": person.get("name"),
                    "role": person.get("role"),
                    "roles": list(person.get("roles") or []),
                    "level": person.get("level"),
                    "side": person.get("side") or "customer",
                    **({"function": person["function"]} if person.get("function") else {}),
                }
            )
        return out

    def stakeholders_report(self) -> Html:
        """Who is who, for everyone: the customer's people, partners and ours, with their roles and levels."""
        if self.interactive:
            return Html("")
        people = self.stakeholders()
        if not people:
            return Html("")
        parts: list[Any] = []
        for side, caption in (("customer", "At the customer"), ("partner", "Partners"), ("ours", "Our team")):
            rows = [
                [
                    p["name"],
                    p["role"] or "",
                    ", ".join(STAKEHOLDER_ROLES.get(r, r.replace("_", " ")) for r in p["roles"])
                    or OUR_FUNCTIONS.get(p.get("function") or "", ""),
                    LEVELS.get(p["level"] or "", ""),
                ]
                for p in people
                if p["side"] == side
            ]
            if rows:
                parts.append(table(["Name", "Job", "Role in the engagement", "Level"], rows, caption=caption))
        return section(
            "Who is who",
            *parts,
            intro="The people around the engagement on both sides, and the level each one works at: operational, business "
            "or strategic.",
        )

    def capabilities_report(self) -> Html:
        if self.interactive:
            return Html("")
        caps = self.capabilities()
        other = _lines(self.answers.get("capabilities_other"))
        if not caps and not other:
            return Html("")
        measured = kpis_by_capability(caps, self.engagement.kpis)
        rows = [
            [
                c.get("name"),
                c.get("area") or "",
                c.get("level") or "",
                c.get("change") or "",
                c.get("outputs") or "",
                ", ".join(k.name or k.id for k in measured.get(str(c.get("name")), [])) or "none",
            ]
            for c in caps
        ]
        rows += [[o, "", "", "", "", ""] for o in other]
        missing = unmeasured_changes(caps, self.engagement.kpis)
        note = (
            callout(
                "Their changed outputs are where the value will show: agree a KPI for each in the KPI workshop.",
                tone="warn",
                title=f"No KPI measures: {', '.join(missing)}.",
            )
            if missing
            else Html("")
        )
        return section(
            "Capabilities touched",
            table(["Capability", "People / process / tools", "Level (1-3)", "Change", "Outputs", "Measured by"], rows),
            note,
            intro="Which people, processes and tools the solution changes, what each produces, and the KPIs that measure it.",
        )

    def outcomes_report(self) -> Html:
        if self.interactive:
            return Html("")
        outcomes = self.outcomes()
        other = _lines(self.answers.get("outcomes_other"))
        parts: list[Any] = []
        if outcomes:
            parts.append(
                table(
                    ["Outcome", "Quantity", "Deadline", "Measured by", "Stated / assumed", "Priority"],
                    [
                        [
                            o.description or o.id,
                            o.quantity or "",
                            o.deadline or "",
                            o.measurement or "",
                            o.status or "not marked",
                            o.priority or "not marked",
                        ]
                        for o in outcomes
                    ],
                )
            )
        assumed = [o for o in outcomes if o.status != "stated"]
        if assumed or other:
            items = [Html("<li>{}</li>").format(f"{o.description or o.id} ({o.status or 'not marked'})") for o in assumed]
            items += [Html("<li>{}</li>").format(f"{x} (possible, raised in preparation)") for x in other]
            parts.append(Html("<h3>To validate with the customer</h3><ul>") + join(items) + Html("</ul>"))
        if not parts:
            parts.append(paragraph("No outcomes known yet: discover them in the workshop (outcome discovery).", css_class="note"))
        return section("Known outcomes", *parts)

    def open_points(self) -> Html:
        if self.interactive:
            return Html("")
        extra = _lines(self.answers.get("open_points"))
        if not extra:
            return Html("")
        return section("Still to find out", Html("<ul>") + join(Html("<li>{}</li>").format(x) for x in extra) + Html("</ul>"))

    def live_summary(self, answers: Mapping[str, Any]) -> Html:
        page = EngagementBriefPage(self.engagement, self.bank, db=self.db, interactive=False, saved=answers)
        done, total = page.answered_counts()
        assumed = [o for o in page.outcomes() if o.status != "stated"]
        return paragraph(
            f"{done} of {total} brief questions answered; {plural(len(assumed), 'outcome')} to validate. "
            "Render the one-page brief with: csm-nb run engagement_brief --engagement "
            f"{self.engagement.id}",
            css_class="note",
        )

    def results(self) -> dict[str, Any]:
        from csm_nb.data.questions import open_questions
        from csm_nb.model import without_none

        outcomes = self.outcomes()
        return {
            **self.workshop_results(),
            "verdicts": self.verdicts(),
            "revenue": self.revenue(),
            "bill_of_materials": self.bill_of_materials(),
            "capabilities": [
                {**c, "kpis": [k.id for k in kpis_by_capability([c], self.engagement.kpis).get(str(c.get("name")), [])]}
                for c in self.capabilities()
            ],
            "unmeasured_capabilities": unmeasured_changes(self.capabilities(), self.engagement.kpis),
            "stakeholders": self.stakeholders(),
            "outcomes": [without_none(o) for o in outcomes],
            "to_validate": [o.id for o in outcomes if o.status != "stated"],
            "open_questions": [q.question.id for q in open_questions(self.bank, self.engagement, self.answers)],
        }


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, answers: Any = None, as_of: str = ""
) -> EngagementBriefPage:
    """Load the engagement and its saved answers; forms or the brief as ``config.interactive_session`` decides.
    ``as_of`` (an ISO date, empty for today) is the date it is judged at."""
    day = parse_as_of(as_of)
    bank = load_bank(WORKBOOK)
    supplied = parse_answers_parameter(answers, bank)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        saved = {k: a.value for k, a in store.answers(engagement_id, WORKBOOK).items()}
    interactive = config.interactive_session(results_path)
    return EngagementBriefPage(engagement, bank, db=db, interactive=interactive, supplied=supplied, saved=saved).at(day)
