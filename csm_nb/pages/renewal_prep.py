"""Renewal preparation (workbook ``renewal_prep``): what the renewal is worth, when it falls, and how ready
the account is for it.

The renewal date and the notice deadline with their countdowns, the renewal base against the expansion
in the pipeline (temporary lines apart, never counted as lost), the value delivered to date (outcomes
on plan, the cash flow's actual profit and return), the risks (open first, by severity), the promises
made in the sale, the references and time to reference, and the readiness checklist of eight checks.
The arithmetic is :mod:`csm_nb.method.renewal`.

Audience: internal (risks, health and readiness are for our team). One section, the renewal value
summary, is written for the customer and carries no internal figure: it is marked for sharing. A
person running the notebook gets a small form above the report to raise or update a risk
(:mod:`csm_nb.forms.renewal`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import cashflow
from csm_nb.method import renewal as rn
from csm_nb.method.dates import parse_as_of
from csm_nb.method.health import engagement_health
from csm_nb.method.pulse import quotes as pulse_quotes
from csm_nb.method.verdicts import Verdicts
from csm_nb.model import Engagement, EngagementModel
from csm_nb.pages.base import Page, engagement_verdicts, overall_headline
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import (
    COMMITMENT_STATUSES,
    KPI_STATUSES,
    MONEY_VERDICTS,
    OVERALL_VERDICTS,
    REFERENCE_KINDS,
    RISK_STATUSES,
    TTV_STATUSES,
    day_words,
    money_compact,
    percent,
    plural,
)

WORKBOOK = "renewal_prep"
TITLE = "Renewal preparation"
BRIEF = "engagement_brief"  # the brief's answers may correct a bill-of-materials line; the renewal reads them too
BOM_PARTS = ("role", "revenue", "term_months", "renewal", "timing")
SOURCE_WORDS = {"contract": "the contract's end", "bill_of_materials": "the end of the first renewable term"}
SHARE_CLASS = "share-with-customer"  # the section a CSM may copy to the customer


def bill_of_materials(engagement: Engagement) -> list[dict[str, Any]]:
    """The bill of materials with the engagement brief's corrections (answers ``bom.N.part``), as the brief shows it."""
    answers = (engagement.workshop or {}).get(BRIEF) or {}
    rows = []
    for i, line in enumerate((engagement.solution or {}).get("bill_of_materials") or []):
        row = dict(line)
        for part in BOM_PARTS:
            if f"bom.{i}.{part}" in answers:
                row[part] = answers[f"bom.{i}.{part}"]
        rows.append(row)
    return rows


def applies(engagement: Engagement) -> bool:
    """Something to renew: a contract with an end, or renewable lines in the bill of materials."""
    ends = bool(engagement.contract and engagement.contract.end)
    return ends or any(rn.renewable(line) for line in bill_of_materials(engagement))


def health_score(engagement: Engagement, model: EngagementModel | None, *, as_of: dt.date) -> float | None:
    """The account's health score (0-100) at ``as_of``, as the account-health workbook computes it
    (:func:`csm_nb.method.health.engagement_health`); ``None`` when it is not known yet."""
    return engagement_health(engagement, model, as_of=as_of).score


def when(day: dt.date | None) -> str:
    return day_words(day) if day else "not known yet"


def in_days(days: int | None) -> str:
    """A countdown in words: "in 270 days", "today", "12 days ago"."""
    if days is None:
        return ""
    if days == 0:
        return "today"
    return f"in {plural(days, 'day')}" if days > 0 else f"{plural(-days, 'day')} ago"


@dataclass
class RenewalPrepPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "internal"
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """Days to the renewal and the readiness (a fraction), from the results alone."""
        days, ready, met = results.get("days_to_renewal"), results.get("readiness"), results.get("readiness_met")
        figures_ = {k: v for k, v in (("days_to_renewal", days), ("readiness", ready)) if isinstance(v, int | float)}
        parts = []
        if isinstance(days, int):
            parts.append(f"Renewal {in_days(days)}" if days >= 0 else f"Renewal date passed {plural(-days, 'day')} ago")
        if isinstance(met, int) and isinstance(ready, int | float):
            parts.append(f"ready on {met} of {len(results.get('checks') or rn.CHECKS)} checks")
        summary = "; ".join(parts) + "." if parts else ""
        return overall_headline(results, figures=figures_, summary=summary[:1].upper() + summary[1:], tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> RenewalPrepPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    as_of: dt.date
    model: EngagementModel | None = None  # names the reference target and feeds the health score
    db: str | None = None
    # The risk form while a person runs the workbook (``workshop()``); None in every headless run.
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        e, as_of = self.engagement, self.as_of
        contract = e.contract
        self.lines = bill_of_materials(e)
        start = rn.day(contract.start) or rn.day(contract.signed) if contract else None
        self.renewal, self.renewal_source = rn.renewal_date(
            contract_end=rn.day(contract.end) if contract else None, term_start=start, lines=self.lines
        )
        self.notice_days = contract.notice_days if contract else None
        self.notice = rn.notice_deadline(self.renewal, self.notice_days)
        self.money = rn.renewal_money(self.lines)
        self.cash = cashflow.summarise(e.cash_flow) if e.cash_flow else None
        self.delivered = rn.value_delivered(self.cash)
        self.judged: Verdicts = engagement_verdicts(e, cash=self.cash, as_of=as_of)
        self.outcomes = rn.outcomes_met(self.judged.outcomes)
        self.risks = rn.risks_in_order(e.risks or [])
        target = self.model.reference_target_days if self.model else rn.DEFAULT_REFERENCE_TARGET_DAYS
        self.ttr = rn.time_to_reference(
            rn.day(contract.signed) if contract else None, e.references or [], target=target, as_of=as_of
        )
        self.health = health_score(e, self.model, as_of=as_of)
        money = self.judged.money
        self.checks = rn.readiness_checks(
            as_of=as_of,
            overall=self.judged.overall,
            money=money,
            overall_words=OVERALL_VERDICTS[self.judged.overall].words,
            money_words=MONEY_VERDICTS[money].words if money in MONEY_VERDICTS else None,
            sponsors=rn.in_post(e.stakeholders or [], "sponsor"),
            champions=rn.in_post(e.stakeholders or [], "champion"),
            health=self.health,
            risks=e.risks or [],
            qbr=rn.last_qbr(e.moments, as_of=as_of),
            notice=self.notice,
            commitments=e.commitments or [],
        )
        self.readiness = rn.readiness(self.checks)

    def verdicts(self) -> dict[str, Any]:
        return self.judged.as_json()

    # -- the form, for a person ----------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the form to raise or update a risk (csm_nb.forms.renewal) above the report, whose
        parts then redraw after each save. Headless: nothing (the report is unchanged)."""
        if not self.interactive:
            return None
        from csm_nb.forms.renewal import RenewalForms

        if self.forms is not None:
            self.forms.close()
        self.forms = RenewalForms(self.engagement, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    # -- facts -----------------------------------------------------------------------------------------
    @property
    def days_to_renewal(self) -> int | None:
        return rn.days_until(self.renewal, as_of=self.as_of)

    @property
    def days_to_notice(self) -> int | None:
        return rn.days_until(self.notice, as_of=self.as_of)

    @property
    def met(self) -> int:
        return sum(1 for c in self.checks if c.met)

    def outcome_rows(self) -> list[dict[str, Any]]:
        """Each outcome with its status at ``as_of`` (a key of KPI_STATUSES, or None: not measured yet)."""
        return [
            {"id": o.id, "description": o.description or o.id, "status": self.judged.outcomes.get(o.id)}
            for o in self.engagement.outcomes
        ]

    def next_term(self) -> dict[str, list[str]]:
        """What the next term brings, for the customer: the lines that continue, those planned, and the outcomes still ahead."""

        def named(line: Mapping[str, Any]) -> str:
            return f"{line.get('item')}: {line['role']}" if line.get("role") else str(line.get("item"))

        return {
            "continues": [named(x) for x in self.money.lines if x["counted_as"] == "base"],
            "adds": [named(x) for x in self.money.lines if x["counted_as"] == "pipeline"],
            "outcomes_ahead": [o["description"] for o in self.outcome_rows() if o["status"] not in ("on_plan", "ahead")],
        }

    def value_summary_json(self) -> dict[str, Any]:
        """The customer-safe summary's content: outcomes, money returned, the next term (no internal figure)."""
        v = self.delivered
        return {
            "outcomes": self.outcome_rows(),
            "outcomes_met": self.outcomes["met"],
            "money": None
            if v is None
            else {
                "basis": v.basis,
                "through": v.through,
                "revenue": v.revenue,
                "cost": v.cost,
                "profit": v.profit,
                "net_roi": v.net_roi,
            },
            "next_term": self.next_term(),
        }

    # -- the report ----------------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        e = self.engagement
        if not applies(e):
            return callout(
                f"{e.customer} has no contract end and no renewable line in the bill of materials. Add contract: start, end "
                "and notice_days to the engagement file (or renewable lines with their term) and import it again.",
                tone="info",
                title="Nothing to renew yet.",
            )
        failing = [c for c in self.checks if not c.met]
        parts = []
        if self.renewal is None:
            parts.append("The renewal date is not known yet: add the contract's end, or its start and the lines' term_months.")
        else:
            parts.append(f"The renewal falls on {when(self.renewal)} ({SOURCE_WORDS[self.renewal_source or 'contract']}).")
        if self.notice is not None:
            verb = "must be given by" if (self.days_to_notice or 0) >= 0 else "was due by"
            parts.append(f"Notice {verb} {when(self.notice)}, {in_days(self.days_to_notice)}.")
        parts.append(
            f"Ready on {self.met} of {plural(len(self.checks), 'check')}"
            + (": not yet " + "; ".join(c.label.lower() for c in failing) + "." if failing else ".")
        )
        days = self.days_to_renewal
        title = (
            "Renewal date not known yet."
            if days is None
            else f"Renewal {in_days(days)}."
            if days >= 0
            else "Renewal date passed."
        )
        passed = self.days_to_notice is not None and self.days_to_notice < 0
        tone = "bad" if passed or self.readiness < 0.5 else ("warn" if failing else "good")
        return callout(" ".join(parts), tone=tone, title=title)

    @live_part
    def headline_figures(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        items = [
            ("Renewal", when(self.renewal), in_days(self.days_to_renewal)),
            (
                "Notice deadline",
                when(self.notice),
                in_days(self.days_to_notice) if self.notice else "no notice period on record",
            ),
            (
                ("Renewal base", self.m(self.money.base), f"{self.m(self.money.pipeline)} more in the pipeline")
                if self.money.lines
                else ("Renewal base", self.m(None), "no renewable line in the bill of materials")
            ),
            ("Readiness", f"{self.met} of {len(self.checks)}", f"{percent(self.readiness, decimals=0)} of the checks met"),
        ]
        return figures(items)

    @live_part
    def renewal_money(self) -> Html:
        if not applies(self.engagement) or not self.money.lines:
            return Html("")
        rows = [
            [
                x.get("item"),
                self.m(x["amount"]),
                f"{x['term_months']} months" if x.get("term_months") is not None else "",
                x.get("renewal") or "",
                x.get("timing") or "",
                rn.COUNTED_AS[x["counted_as"]],
            ]
            for x in self.money.lines
        ]
        kinds = [("Renewal base", self.money.base), ("Expansion in pipeline", self.money.pipeline)]
        if self.money.temporary:
            kinds.append(("Temporary", self.money.temporary))
        chart = charts.bar_chart(
            title="Renewable revenue by what happens at renewal",
            labels=[k for k, _ in kinds],
            values=[v for _, v in kinds],
            y_format=lambda v: money_compact(v, self.currency),
            height=220,
            caption="The renewal base is expected to renew and is booked now; the pipeline is planned, not booked yet.",
        )
        notes = []
        if self.money.temporary:
            notes.append(f"{self.m(self.money.temporary)} is meant to be temporary: it is not counted as lost at the renewal.")
        if self.money.unclassified:
            notes.append(
                f"{self.m(self.money.unclassified)} of renewable lines does not say whether it renews or when it is booked: "
                "it is in neither figure."
            )
        return section(
            "Renewal base and pipeline",
            table(
                ["Line", "Amount", "Term", "At end of term", "Booked", "Counted as"],
                rows,
                numeric=[False, True, False, False, False, False],
            ),
            Html(str(chart)),
            *(paragraph(n, css_class="note") for n in notes),
            intro="The renewable lines of the bill of materials (one-off lines and services do not renew).",
        )

    @live_part
    def value_delivered(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        o, v = self.outcomes, self.delivered
        items = [
            (
                "Outcomes on plan",
                f"{o['met']} of {o['total']}",
                f"{o['measured']} measured so far" if o["total"] else "no outcome agreed yet",
            )
        ]
        if v is None:
            items.append(("Money returned", "not known yet", "no actual figures in the cash flow yet"))
        else:
            label = "to date" if v.basis == "to_date" else "actual"
            items.append((f"Revenue {label}", self.m(v.revenue), f"through {v.through}, against {self.m(v.cost)} spent"))
            items.append(
                (
                    f"Profit {label}",
                    self.m(v.profit),
                    f"net return {percent(v.net_roi)}" if v.net_roi is not None else "nothing spent yet",
                )
            )
        words = OVERALL_VERDICTS[self.judged.overall].words
        return section(
            "Value delivered to date",
            figures(items),
            paragraph(f"The value report says: {words}.", css_class="note"),
        )

    @live_part
    def checklist(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        rows = [[c.label, "met" if c.met else "not met", c.reason] for c in self.checks]
        return section(
            "Readiness checklist",
            table(["Check", "", "Why"], rows),
            intro=f"{self.met} of {len(self.checks)} checks met ({percent(self.readiness, decimals=1)}), at {when(self.as_of)}.",
        )

    @live_part
    def risks_table(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        if not self.risks:
            return section(
                "Risks",
                paragraph(
                    "No risk on record. Raise one with the form when you run the notebook, or under risks in the engagement file."
                ),
            )
        rows = [
            [
                r.get("id"),
                r.get("kind") or "",
                r.get("description") or "",
                r.get("severity") or "not rated",
                RISK_STATUSES.get(r.get("status") or "", r.get("status") or ""),
                r.get("mitigation") or "none yet",
                r.get("owner") or "",
                when(rn.day(r.get("raised"))) if r.get("raised") else "",
            ]
            for r in self.risks
        ]
        open_ = sum(1 for r in self.risks if rn.risk_is_open(r))
        return section(
            "Risks",
            table(["Risk", "Kind", "What could happen", "Severity", "Status", "Mitigation", "Owner", "Raised"], rows),
            intro=f"{plural(open_, 'risk')} open of {len(self.risks)}: open ones first, the most severe first.",
        )

    @live_part
    def commitments_table(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        items = self.engagement.commitments or []
        if not items:
            return section("Commitments", paragraph("No promise from the sale on record (commitments in the engagement file)."))
        rows = [
            [
                c.get("promise"),
                c.get("made_by") or "",
                when(rn.day(c.get("due"))) if c.get("due") else "",
                COMMITMENT_STATUSES.get(c.get("status") or "", ""),
            ]
            for c in items
        ]
        return section(
            "Commitments",
            table(["Promise made in the sale", "Made by", "Due", "Status"], rows),
            intro="What was promised in the sale and whether it was kept.",
        )

    @live_part
    def references_table(self) -> Html:
        if not applies(self.engagement):
            return Html("")
        refs = sorted(self.engagement.references or [], key=lambda r: str(r.get("date") or ""))
        t = self.ttr
        if t is None:
            ttr = "Time to reference is not known: the contract has no signature date."
        elif t.days is not None:
            ttr = (
                f"The first reference came {plural(t.days, 'day')} after the signature: "
                f"{TTV_STATUSES[t.status].words} (the target is under {t.target} days)."
            )
        else:
            ttr = (
                f"No reference yet, {plural(t.elapsed or 0, 'day')} after the signature: "
                f"{TTV_STATUSES[t.status].words} (the target is under {t.target} days)."
            )
        body: list[Any] = [paragraph(ttr)]
        if refs:
            rows = [
                [
                    when(rn.day(r.get("date"))),
                    REFERENCE_KINDS.get(r.get("kind") or "", ""),
                    r.get("by") or "",
                    r.get("note") or "",
                ]
                for r in refs
            ]
            body.insert(0, table(["Date", "Kind", "By", "Note"], rows))
        return section("References", *body)

    @live_part
    def value_summary(self) -> Html:
        """The one page for the customer: outcomes, money returned, what the next term brings. Nothing internal."""
        if not applies(self.engagement):
            return Html("")
        e, summary = self.engagement, self.value_summary_json()
        rows = [
            [o["description"], KPI_STATUSES[o["status"]].words if o["status"] in KPI_STATUSES else "not measured yet"]
            for o in summary["outcomes"]
        ]
        parts: list[Any] = []
        if rows:
            parts.append(table(["What we set out to achieve", f"Where it stands on {when(self.as_of)}"], rows))
        v = self.delivered
        if v is None:
            parts.append(paragraph("The money side is measured once the first actual figures are in."))
        elif v.basis == "complete":
            parts.append(
                paragraph(
                    f"Over the whole plan the initiative brought {self.m(v.revenue)} against {self.m(v.cost)} spent: "
                    f"a profit of {self.m(v.profit)}"
                    + (f", a net return of {percent(v.net_roi)}." if v.net_roi is not None else ".")
                )
            )
        else:
            parts.append(
                paragraph(
                    f"Through {v.through} the initiative brought {self.m(v.revenue)} against {self.m(v.cost)} spent so far "
                    f"({self.m(v.profit)} to date); the return builds up over the plan."
                )
            )
        nxt = summary["next_term"]
        lines = [("Continues", x) for x in nxt["continues"]] + [("Adds", x) for x in nxt["adds"]]
        lines += [("Still to reach", x) for x in nxt["outcomes_ahead"]]
        if lines:
            parts.append(
                Html("<p><b>What the next term brings</b></p><ul>")
                + join(Html("<li>{}: {}</li>").format(k, x) for k, x in lines)
                + Html("</ul>")
            )
        parts.append(self.customer_quotes())
        body = section(
            f"Renewal value summary for {e.customer}",
            *parts,
            intro="Written for the customer: this section carries no internal figure and may be shared as it is.",
        )
        return Html('<div class="{}" data-audience="customer">').format(SHARE_CLASS) + body + Html("</div>")

    def customer_quotes(self, *, limit: int = 3) -> Html:
        """Up to ``limit`` comments from the customer pulse up to ``as_of``, newest first, in the customer's own
        words (escaped), with who said them and when; nothing without a comment."""
        found = pulse_quotes(self.engagement.pulse, as_of=self.as_of, limit=limit)
        if not found:
            return Html("")
        return Html("<p><b>In the customer's own words</b></p>") + join(
            Html("<blockquote><p>“{}”</p><footer>{}, {}</footer></blockquote>").format(
                q.text, q.respondent or "a respondent", when(q.date)
            )
            for q in found
        )

    def results(self) -> dict[str, Any]:
        e, v, t = self.engagement, self.delivered, self.ttr
        return {
            "workbook": WORKBOOK,
            "engagement": e.id,
            "as_of": self.as_of.isoformat(),
            "verdicts": self.verdicts(),
            "renewal_date": self.renewal.isoformat() if self.renewal else None,
            "renewal_source": self.renewal_source,
            "days_to_renewal": self.days_to_renewal,
            "notice_days": self.notice_days,
            "notice_deadline": self.notice.isoformat() if self.notice else None,
            "days_to_notice": self.days_to_notice,
            # Without a renewable line the money at renewal is not known yet (never zero).
            "renewal_base": self.money.base if self.money.lines else None,
            "expansion_pipeline": self.money.pipeline if self.money.lines else None,
            "temporary": self.money.temporary if self.money.lines else None,
            "unclassified": self.money.unclassified if self.money.lines else None,
            "renewable_total": self.money.renewable if self.money.lines else None,
            "lines": [
                {"item": x.get("item"), "amount": x["amount"], "term_months": x.get("term_months"), "counted_as": x["counted_as"]}
                for x in self.money.lines
            ],
            "value_delivered": None
            if v is None
            else {
                "basis": v.basis,
                "through": v.through,
                "revenue": v.revenue,
                "cost": v.cost,
                "profit": v.profit,
                "net_roi": v.net_roi,
                "return_on_cost": v.return_on_cost,
            },
            "outcomes": self.outcomes,
            "risks": self.risks,
            "open_risks": sum(1 for r in self.risks if rn.risk_is_open(r)),
            "open_high_risks": [r.get("id") for r in rn.open_high_risks(self.risks)],
            "commitments": [dict(c) for c in e.commitments or []],
            "references": [dict(r) for r in e.references or []],
            "ttr": None
            if t is None
            else {
                "days": t.days,
                "target": t.target,
                "status": t.status,
                "first": t.first.isoformat() if t.first else None,
                "elapsed": t.elapsed,
            },
            "health": self.health,
            "checks": [{"key": c.key, "label": c.label, "met": c.met, "reason": c.reason} for c in self.checks],
            "readiness_met": self.met,
            "readiness": self.readiness,
            "value_summary": self.value_summary_json(),
        }


def page_for(engagement: Engagement, *, as_of: dt.date, model: EngagementModel | None = None) -> RenewalPrepPage:
    return RenewalPrepPage(engagement, as_of, model=model)


def open_page(engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "") -> RenewalPrepPage:
    """Load the engagement (and its engagement model) and prepare the renewal at ``as_of`` (an ISO date; empty for today)."""
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement)
    page = page_for(engagement, as_of=day, model=model)
    page.db = db or None
    page.interactive = config.interactive_session(results_path)
    return page.at(day)
