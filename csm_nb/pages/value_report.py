"""The stakeholder value report (workbook ``value_report``): one engagement on
one printed page. Outcomes and their status, each KPI's progress and trend,
the financial return so far, what changed since the last report, and what
needs deciding. Works with whatever parts the engagement has; a missing part
is named, never a failure.

Kept lean on purpose: a scheduled portfolio run renders it for every
engagement, so it imports only the maths, the SVG charts and the HTML helpers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_nb import config
from csm_nb.data.checks import refuse
from csm_nb.data.store import Store
from csm_nb.errors import CsmError
from csm_nb.method import cashflow, progress
from csm_nb.method import engagement_plan as ep
from csm_nb.method import success_plan as sp
from csm_nb.method.dates import date_words, parse_as_of
from csm_nb.method.progress import STATUS_WORDS, Freshness, KpiProgress
from csm_nb.method.verdicts import Verdicts, outcome_basis, worst_status
from csm_nb.model import Engagement, EngagementModel, Outcome
from csm_nb.pages.base import Page, engagement_verdicts, money_figures, overall_headline
from csm_nb.pages.progress import (
    check_settings,
    forecast_words,
    kpi_chart,
    kpi_status_tag,
    kpi_value,
    limit_name,
    limit_sentence,
    limit_status_words,
    pct,
    status_tag,
    trend_words,
)
from csm_nb.render import charts
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import (
    MONEY_VERDICTS,
    OVERALL_VERDICTS,
    money_compact,
    percent,
)

WORKBOOK = "value_report"
TITLE = "Value report"
# Overdue figures asked for one KPI a line, at most this many; the rest in one line (the report is one A4 page).
MAX_OVERDUE_ACTIONS = 2


def _section(title: str, *body: Any, intro: str = "") -> Html:
    return Html('<div class="vr">') + section(title, *body, intro=intro) + Html("</div>")


def applies(engagement: Engagement) -> bool:
    return True  # every engagement gets a value report, even an empty one says what is missing


def read_previous(path: str | Path | None) -> dict[str, Any] | None:
    """The last value report's results, or ``None`` when there is none or it cannot be read."""
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("workbook") == WORKBOOK else None


@dataclass
class OutcomeStatus:
    outcome: Outcome
    status: str | None  # ahead | on_plan | behind | None (not measured)
    basis: str  # which KPIs the status rests on, in words
    forecast: str


@dataclass
class ValueReportPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    applies = staticmethod(applies)
    LEADS_INDEX = True

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """The overall verdict as a tag, the decisions needed, and the money figures."""
        actions = results.get("actions") or []
        s = "s" if len(actions) != 1 else ""
        summary = (f"{len(actions)} decision{s} or action{s} needed" if actions else "Nothing needs deciding") + (
            "; outcomes, KPIs and money in one short report."
        )
        return overall_headline(results, figures=money_figures(results), summary=summary)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> ValueReportPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    tracked: list[KpiProgress]
    problems: dict[str, str]
    cash: cashflow.CashFlowSummary | None
    previous: dict[str, Any] | None = None
    tolerance: float = 0.02
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    later: int = 0  # measurements dated after as_of, left out of this report
    # The last report's as-of date when it is after this one's: it is not compared with (what changed
    # since a later report means nothing).
    previous_later: str | None = None
    # The joint moments (held with the customer's people, csm_nb.method.engagement_plan.is_joint) next and
    # overdue at as_of; empty without a contract. Only these reach this customer-facing page.
    joint_next: list[ep.Occurrence] = field(default_factory=list)
    joint_overdue: list[ep.Occurrence] = field(default_factory=list)
    model: EngagementModel | None = None
    # The success plan's joint milestones overdue at as_of (csm_nb.method.success_plan).
    milestones_overdue: list[sp.OverdueMilestone] = field(default_factory=list)
    # When each KPI's next figure is due at as_of, and whether it is overdue (csm_nb.method.progress.freshness).
    fresh: dict[str, Freshness] = field(default_factory=dict)

    # -- derived status -------------------------------------------------------
    def kpi_progress(self, kpi_id: str) -> KpiProgress | None:
        return next((kp for kp in self.tracked if kp.kpi.id == kpi_id), None)

    def outcome_statuses(self) -> list[OutcomeStatus]:
        """An outcome's status rests on its lagging KPIs once they are measured, else on its leading ones
        (:mod:`csm_nb.method.verdicts`, the one rule every report uses)."""
        out = []
        for o in self.engagement.outcomes:
            basis_kpis, lagging = outcome_basis(o.id, self.tracked)
            if not basis_kpis:
                has_kpis = any(k.outcome == o.id for k in self.engagement.kpis)
                out.append(OutcomeStatus(o, None, "KPIs agreed, not measured yet" if has_kpis else "no KPI agreed yet", ""))
                continue
            status = worst_status([kp.status[-1] for kp in basis_kpis])
            worst = next(kp for kp in basis_kpis if kp.status[-1] == status)
            # A ceiling or floor reads in plain words ("Months between releases: 5 months, within the ceiling of 6 months").
            basis = ("measured by " if lagging else "early signs only, from ") + ", ".join(
                limit_sentence(kp) if kp.is_limit else kp.label() for kp in basis_kpis
            )
            out.append(OutcomeStatus(o, status, basis, "" if worst.is_limit else forecast_words(worst)))
        return out

    def engagement_verdicts(self) -> Verdicts:
        return engagement_verdicts(self.engagement, tracked=self.tracked, problems=self.problems, cash=self.cash)

    def verdicts(self) -> dict[str, Any]:
        return self.engagement_verdicts().as_json()

    def overall(self) -> str:
        """The overall verdict key, by the rule of :func:`csm_nb.method.verdicts.overall_verdict`."""
        return self.engagement_verdicts().overall

    # -- plain words first ---------------------------------------------------------
    def summary(self) -> Html:
        e = self.engagement
        overall = OVERALL_VERDICTS[self.overall()]
        tone, title = overall.tone, overall.title
        sentences = []
        statuses = [s for s in self.outcome_statuses() if s.status is not None]
        if statuses:
            good = [s for s in statuses if s.status in ("ahead", "on_plan")]
            sentences.append(
                f"{len(good)} of {len(statuses)} measured outcome{'s' if len(statuses) != 1 else ''} "
                f"{'is' if len(good) == 1 else 'are'} on plan or ahead."
            )
        measured = [kp for kp in self.tracked if kp.measured]
        behind = [
            f"{kp.label()} ({limit_status_words(kp)})" if kp.is_limit else kp.label()
            for kp in measured
            if kp.status[-1] == "behind"
        ]
        if measured:
            sentences.append(
                f"{len(measured) - len(behind)} of {len(measured)} KPIs are on plan or ahead"
                + (f"; behind: {', '.join(behind)}." if behind else ".")
            )
        if self.cash and self.cash.to_date is not None:
            t = self.cash.to_date
            sentences.append(
                f"Money: {MONEY_VERDICTS[self.cash.verdict].in_sentence}, with {self.m(t.revenue_act)} returned against "
                f"{self.m(t.expenditure_act)} spent so far."
            )
        if not sentences:
            sentences.append(f"Nothing has been measured for {e.customer} yet; the sections below say what is missing.")
        return Html('<div class="vr">') + callout(" ".join(sentences), tone=tone, title=title) + Html("</div>")

    def headline_figures(self) -> Html:
        items = []
        statuses = [s for s in self.outcome_statuses() if s.status is not None]
        if statuses:
            good = sum(s.status in ("ahead", "on_plan") for s in statuses)
            items.append(("Outcomes on plan or ahead", f"{good} of {len(statuses)}", "measured so far"))
        lagging = [kp for kp in self.tracked if kp.measured and (kp.kpi.kind or "lagging") == "lagging"]
        if lagging:
            kp = next((k for k in lagging if not k.is_limit), lagging[0])
            if kp.is_limit:
                items.append((f"{kp.label()}", kpi_value(kp, kp.values[-1]), limit_status_words(kp)))
            else:
                items.append((f"{kp.label()}", pct(kp.progress[-1]), f"of the way to target; plan {pct(kp.planned[-1])}"))
        if self.cash and self.cash.to_date is not None:
            t = self.cash.to_date
            items.append(("Net return so far", self.m(t.net_act), f"estimate to date {self.m(t.net_est)}"))
        if self.cash and self.cash.lines:
            s = self.cash
            label = s.period_label(s.payback_index_act if s.complete else s.payback_index_est) or "not within the plan"
            items.append(("Payback", label, "actual" if s.complete else "as estimated"))
        return Html('<div class="vr">') + figures(items) + Html("</div>") if items else Html("")

    def decisions(self) -> Html:
        items = self.actions()
        if not items:
            # Say only what was checked: a report with no KPI must not claim they are all on plan.
            reasons = []
            if any(kp.measured for kp in self.tracked):
                reasons.append("every measured KPI is on plan or ahead")
            if self.cash is not None and self.cash.verdict == "on_track":
                reasons.append(f"the money is {MONEY_VERDICTS['on_track'].words}")
            body = paragraph("Nothing needs deciding this time" + (f": {' and '.join(reasons)}." if reasons else "."))
        else:
            body = Html('<ol class="actions">') + join(Html("<li>{}</li>").format(a) for a in items) + Html("</ol>")
        together = self.next_together()
        if together:
            body += paragraph("Next together: " + "; ".join(together) + ".", css_class="note")
        return _section("Decisions and actions needed", body)

    def moment_words(self, o: ep.Occurrence) -> str:
        """A joint moment as the customer reads it: its name and who from their side takes part."""
        spec = self.model.moment(o.moment) if self.model else None
        name = (spec.name if spec and spec.name else o.moment.replace("_", " ")).strip()
        role = spec.customer_role.replace("_", " ") if spec and spec.customer_role else ""
        role = role[:1].lower() + role[1:]
        return f"{name} (with the {role})" if role else name

    def next_together(self) -> list[str]:
        """The next two joint moments, with their dates."""
        grouped: dict[str, list[str]] = {}  # the same moment twice reads once, with both dates
        for o in self.joint_next:
            if o.due:
                grouped.setdefault(self.moment_words(o), []).append(date_words(o.due))
        return [f"{words}, due {' and '.join(dates)}" for words, dates in grouped.items()]

    def moment_actions(self) -> list[str]:
        """Each overdue joint moment as an action; escalations and our owners stay in the internal reports."""
        out = []
        for o in self.joint_overdue:
            if o.due is None or o.days_late is None:
                continue
            words = self.moment_words(o)
            out.append(
                f"Hold the {words[:1].lower()}{words[1:]}: due {date_words(o.due)}, "
                f"{o.days_late} day{'s' if o.days_late != 1 else ''} overdue."
            )
        return out

    def actions(self) -> list[str]:
        """What the stakeholders need to decide or do, most important first, in plain words."""
        out: list[str] = []
        notes = ((self.engagement.workshop or {}).get(WORKBOOK) or {}).get("decisions")
        if isinstance(notes, str) and notes.strip():
            out.append(notes.strip())
        elif isinstance(notes, list):
            out.extend(str(n).strip() for n in notes if str(n).strip())
        measured = [kp for kp in self.tracked if kp.measured]
        lagging_ok = all(kp.status[-1] != "behind" for kp in measured if (kp.kpi.kind or "lagging") == "lagging")
        for kp in measured:
            gap = abs(kp.gap or 0) * 100
            behind, late = kp.status[-1] == "behind", kp.on_time is False
            if kp.is_limit:
                if behind and (kp.kpi.kind or "lagging") == "lagging":
                    out.append(f"Agree corrective actions: {limit_sentence(kp)}.")
                elif behind:
                    out.append(f"Look into this early indicator: {limit_sentence(kp)}.")
                continue
            if late:
                # One action a KPI: behind plan and late is one decision, not two.
                lead = f"it is {gap:.0f} percentage points of progress behind plan and " if behind else "it is "
                if kp.forecast.period is None:
                    out.append(
                        f"Decide how to restart progress on {kp.label()}: {lead}not improving, so the target "
                        "will not be reached at this rate."
                    )
                else:
                    rate = (
                        f"it is {gap:.0f} percentage points of progress behind plan and at the recent rate reaches its target"
                        if behind
                        else "at the recent rate it reaches its target"
                    )
                    out.append(
                        f"Decide on {kp.label()}: {rate} in {forecast_words(kp)}; "
                        "extend the deadline, add resources, or reset the target."
                    )
            elif behind and (kp.kpi.kind or "lagging") == "lagging":
                out.append(f"Agree corrective actions: {kp.label()} is {gap:.0f} percentage points of progress behind plan.")
            elif behind:
                out.append(
                    f"Look into {kp.label()}: this early indicator is {gap:.0f} percentage points of progress behind plan"
                    + (", which usually shows in the outcome later." if lagging_ok else ".")
                )
        for kp in self.tracked:
            if not kp.measured:
                out.append(f"Ask {kp.kpi.owner or 'the KPI owner'} for the first measurements of {kp.label()}.")
        out.extend(self.overdue_actions())
        for message in self.problems.values():
            out.append(f"Fix the KPI register: {message}.")
        for o in self.engagement.outcomes:
            if o.status == "assumed":
                out.append(f"Confirm with the stakeholders the assumed outcome: {o.description or o.id}.")
        if self.cash is None:
            out.append("Agree the business case: add estimated costs and returns so this report can show the money.")
        else:
            t = self.cash.to_date
            if self.cash.verdict in ("behind", "within_band") and t is not None and t.revenue_ratio is not None:
                out.append(
                    f"Review the revenue assumptions: actual revenue to date is {percent(t.revenue_ratio)} of the estimate."
                )
            if t is not None and t.missing:
                out.append("Collect the missing actual figures for " + ", ".join(self.cash.periods[i] for i in t.missing) + ".")
        out.extend(self.moment_actions())
        out.extend(self.milestone_actions())
        return out

    def overdue(self) -> list[KpiProgress]:
        """The measured KPIs whose next figure is overdue at as_of (one never measured is asked for its first figures)."""
        return [kp for kp in self.tracked if kp.measured and (f := self.fresh.get(kp.kpi.id)) is not None and f.overdue]

    def overdue_actions(self) -> list[str]:
        """Ask the owner of each KPI whose figure is overdue for it; past :data:`MAX_OVERDUE_ACTIONS`, one line for the rest."""
        late = self.overdue()
        out = []
        for kp in late[:MAX_OVERDUE_ACTIONS]:
            f = self.fresh[kp.kpi.id]
            owner = kp.kpi.owner or "the KPI's owner"
            out.append(f"Ask {owner} for {kp.label()}'s {f.period} figure (due {date_words(f.due)}, now overdue).")
        rest = late[MAX_OVERDUE_ACTIONS:]
        if rest:
            out.append(f"Ask for the overdue figures of {', '.join(kp.label() for kp in rest)}.")
        return out

    def milestone_actions(self) -> list[str]:
        """Each overdue joint milestone of the success plan as an action, with who owns it."""
        return [
            f"Complete the milestone “{m.name}”"
            + (f" ({m.owner})" if m.owner else "")
            + f": due {date_words(m.due)}, {m.days} day{'s' if m.days != 1 else ''} overdue."
            for m in self.milestones_overdue
        ]

    # -- numbers second ------------------------------------------------------------
    def outcomes(self) -> Html:
        e = self.engagement
        if not e.outcomes:
            return _section(
                "Outcomes",
                paragraph("No outcomes are recorded yet. Agree them with the stakeholders in the outcome discovery workshop."),
            )
        rows = []
        money_so_far = self.money_evidence()
        for s in self.outcome_statuses():
            o = s.outcome
            basis = s.basis + (f"; {money_so_far}" if s.status is None and money_so_far else "")
            rows.append(
                [
                    Html("{}<br><small>{}</small>").format(
                        o.description or o.id, ", ".join(x for x in ((o.priority or "").capitalize(), o.status or "") if x)
                    ),
                    o.quantity or "",
                    o.deadline or "not set",
                    status_tag(s.status) if s.status else Html('<span class="tag">{}</span>').format("not measured yet"),
                    basis + (f"; target reached {s.forecast.split(' (')[0]}" if s.forecast else ""),
                ]
            )
        return _section("Outcomes", table(["Outcome", "Target", "Deadline", "Status", "Evidence"], rows))

    def money_evidence(self) -> str:
        """What the money shows so far, for an outcome no KPI measures (its status stays "not measured yet":
        no KPI ties it to a target, but the reader should not have to look for the return)."""
        s = self.cash
        if s is None or (not s.complete and s.to_date is None):
            return ""
        ratio = s.headline_act if s.complete else None
        label = cashflow.HEADLINE_SHORT[s.headline]
        if ratio is not None:
            return f"the money shows a {label} of {percent(ratio)} (Financial return, below)"
        return f"the money so far is {MONEY_VERDICTS[s.verdict].in_sentence} (Financial return, below)"

    def kpis(self) -> Html:
        if not self.engagement.kpis:
            return _section(
                "KPI progress",
                paragraph("No KPIs yet. Agree the KPIs that prove each outcome (lagging) and warn early (leading)."),
            )
        rows = []
        for kp in self.tracked:
            measured = kp.measured
            # An overdue figure is asked for under "Decisions and actions needed"; the table stays narrow.
            rows.append(
                [
                    kp.label(),
                    "Leading" if kp.kpi.kind == "leading" else "Lagging",
                    kpi_value(kp, kp.values[-1]) if measured else "not measured yet",
                    pct(kp.progress[-1]) if measured and not kp.is_limit else "",
                    pct(kp.planned[-1]) if measured and not kp.is_limit else "",
                    kpi_status_tag(kp, short=True),
                    "" if kp.is_limit else trend_words(kp, short=True),
                    f"{limit_name(kp)}: {kpi_value(kp, kp.target)}"
                    if kp.is_limit
                    else forecast_words(kp).split(" (")[0]
                    + (", after the deadline" if kp.on_time is False and kp.forecast.period is not None else ""),
                ]
            )
        for kpi_id, message in self.problems.items():
            rows.append([kpi_id, "", Html('<span class="tag tag-warn">{}</span>').format(message), "", "", "", "", ""])
        # Three to a row once there are three charts, drawn third-width (56 mm, printed about 60 mm) so their
        # text still prints above 8 pt: two rows of half-width charts would not leave the page room for the
        # money. Heights 122 (third width) and 108 (half width) keep them about 40 mm tall on paper.
        measured = [kp for kp in self.tracked if kp.measured]
        columns = 3 if len(measured) >= 3 else 2
        chart_html = charts.small_multiples(
            [
                kpi_chart(kp, compact=True, height=122 if columns == 3 else 108, width=300 if columns == 3 else 460)
                for kp in measured
            ],
            columns=columns,
        )
        later = (
            paragraph(
                f"{self.later} measurement{'s' if self.later != 1 else ''} dated after {date_words(self.as_of_day)} "
                f"(the date this report is judged at) {'is' if self.later == 1 else 'are'} left out.",
                css_class="note",
            )
            if self.later
            else Html("")
        )
        return _section(
            "KPI progress",
            table(
                ["KPI", "Kind", "Latest", "Progress", "Plan", "Status", "Trend", "Target reached"],
                rows,
                numeric=[False, False, True, True, True, False, False, False],
            ),
            later,
            Html(chart_html),
            intro="0 % is where each KPI started, 100 % its target; the plan (dashed) is the agreed path between them.",
        )

    def money(self) -> Html:
        s = self.cash
        if s is None:
            return _section(
                "Financial return",
                paragraph(
                    "No cash flow yet, so the return cannot be shown. Add the business case (estimated expenditure and "
                    "revenue per period) and the actual figures as they come in."
                ),
            )
        t = s.to_date
        label = cashflow.HEADLINES[s.headline]
        if s.complete:
            words = (
                f"Complete, {MONEY_VERDICTS[s.verdict].words}: {self.m(s.profit_act)} profit on "
                f"{self.m(s.totals['expenditure_act'])} spent "
                f"({label}: {percent(s.headline_act)}; estimated {percent(s.headline_est)})."
            )
        elif t is None:
            words = (
                f"No actual figures yet. The estimate is {self.m(s.profit_est)} profit on "
                f"{self.m(s.totals['expenditure_est'])} ({label}: {percent(s.headline_est)})."
            )
        else:
            ratio = f"{percent(t.revenue_ratio)} of" if t.revenue_ratio is not None else "compared with"
            pace = s.forecasts.get("at_current_pace") if s.verdict in ("behind", "within_band") else None
            ending = (
                f"At today's pace it would end at {self.m(pace.profit)} profit, against the estimate's "
                f"{self.m(s.profit_est)} ({label}: {percent(s.headline_est)})"
                if pace is not None
                else f"At completion the estimate is {self.m(s.profit_est)} profit ({label}: {percent(s.headline_est)})"
            )
            words = (
                f"To {s.periods[t.last_period]}, {MONEY_VERDICTS[s.verdict].in_sentence}: {self.m(t.revenue_act)} revenue, "
                f"{ratio} the {self.m(t.revenue_est)} estimated for the same periods; {self.m(t.expenditure_act)} spent. "
                f"{ending}; the estimate pays back in {s.period_label(s.payback_index_est) or 'no period of the plan'}."
            )
        chart = charts.line_chart(
            title="Cumulative net cash flow",
            x_labels=s.periods,
            series=[charts.Series("Estimated", s.cumulative_est, style="dashed"), charts.Series("Actual", s.cumulative_act)],
            y_format=lambda v: money_compact(v, self.currency),
            width=460,
            # Drawn 81 x 30 mm, printed about 93 x 34 mm beside its words: short enough for one A4 page.
            height=105,
            caption="Below zero the initiative has cost more than it has returned so far; crossing zero is payback.",
        )
        return _section(
            "Financial return",
            Html('<div class="vr-two"><div>') + paragraph(words) + Html("</div>") + Html(str(chart)) + Html("</div>"),
        )

    def previous_when(self) -> str:
        """When the last report was judged: its as-of date in words, else the day it was made."""
        prev = self.previous or {}
        try:
            return f"figures as of {date_words(parse_as_of(prev.get('as_of')))}" if prev.get("as_of") else ""
        except CsmError:
            pass
        return str(prev.get("generated") or "date unknown")

    def changes(self) -> Html:
        items = self.change_list()
        if self.previous is None and self.previous_later:
            body = paragraph(
                f"The last report was judged at a later date ({self.previous_later}) than this one "
                f"({self.as_of_day.isoformat()}), so nothing is compared."
            )
        elif self.previous is None:
            body = paragraph("This is the first value report for this engagement; the next one will list what changed.")
        elif not items:
            body = paragraph(f"Nothing has changed since the last report ({self.previous_when()}).")
        else:
            body = (
                paragraph(f"Since the last report ({self.previous_when()}):")
                + Html('<ul class="plain">')
                + join(Html("<li>{}</li>").format(c) for c in items)
                + Html("</ul>")
            )
        return _section("What changed since the last report", body)

    def change_list(self) -> list[str]:
        prev = self.previous
        if prev is None:
            return []
        out = []
        before = prev.get("kpis") or {}
        now = self.kpi_results()
        for kpi_id, cur in now.items():
            old = before.get(kpi_id)
            name = cur["name"]
            if old is None:
                out.append(f"{name}: new in this report.")
                continue
            added = cur["measurements"] - (old.get("measurements") or 0)
            parts = []
            if added > 0:
                parts.append(f"{added} new measurement{'s' if added != 1 else ''}")
            if cur["progress"] is not None and old.get("progress") is not None:
                delta = (cur["progress"] - old["progress"]) * 100
                if abs(delta) >= 0.5:
                    parts.append(f"progress {pct(old['progress'])} → {pct(cur['progress'])} ({delta:+.0f} points)")
            if cur["limit_status"] is not None and cur["limit_status"] != old.get("limit_status"):
                was = old.get("limit_status") or "not measured"
                parts.append(f"now {cur['limit_status']} its limit (was {was})")
            elif cur["status"] != old.get("status") and cur["status"] is not None:
                parts.append(
                    f"now {STATUS_WORDS[cur['status']]} (was {STATUS_WORDS.get(old.get('status') or '', 'not measured')})"
                )
            if parts:
                out.append(f"{name}: " + "; ".join(parts) + ".")
        for kpi_id, old in before.items():
            if kpi_id not in now:
                out.append(f"{old.get('name') or kpi_id}: no longer tracked.")
        old_money, new_money = prev.get("financial") or {}, self.financial_results() or {}
        if (
            new_money.get("revenue_act_to_date") != old_money.get("revenue_act_to_date")
            and new_money.get("revenue_act_to_date") is not None
        ):
            was = old_money.get("revenue_act_to_date")
            out.append(
                f"Actual revenue to date: {self.m(was) if was is not None else 'none'} → "
                f"{self.m(new_money['revenue_act_to_date'])} (to {new_money.get('last_period')})."
            )
        if old_money.get("verdict") and new_money.get("verdict") and old_money["verdict"] != new_money["verdict"]:
            was = MONEY_VERDICTS.get(old_money["verdict"])
            out.append(
                f"Money is now {MONEY_VERDICTS[new_money['verdict']].in_sentence} "
                f"(was {was.in_sentence if was else old_money['verdict']})."
            )
        if prev.get("overall") and prev["overall"] != self.overall():
            was = OVERALL_VERDICTS.get(prev["overall"])
            out.append(
                f"Overall: {OVERALL_VERDICTS[self.overall()].title.rstrip('.').lower()} "
                f"(was {(was.title if was else prev['overall']).rstrip('.').lower()})."
            )
        return out

    def missing(self) -> Html:
        items = self.missing_parts()
        if not items:
            return Html("")
        return _section(
            "Not in this report yet",
            Html('<ul class="plain">') + join(Html("<li>{}</li>").format(i) for i in items) + Html("</ul>"),
        )

    def missing_parts(self) -> list[str]:
        e = self.engagement
        out = []
        if not e.outcomes:
            out.append("Outcomes: none recorded.")
        if not e.kpis:
            out.append("KPIs: none agreed.")
        elif not e.measurements:
            out.append("Measurements: none yet.")
        if not e.cash_flow:
            out.append("Cash flow: no business case figures yet.")
        elif self.cash is not None and self.cash.to_date is None:
            out.append("Cash flow: no actual figures yet (the estimate is shown).")
        return out

    def method_note(self) -> Html:
        return paragraph(
            # Short: the page footer already says that "not known yet" is never counted as zero.
            f"Status: each KPI's latest measurement against the plan at that moment (±{self.tolerance * 100:g} points is "
            "on plan). Forecasts extend the straight line through the last three periods. Money out is negative."
            + (
                " A ceiling or floor has no plan: each measurement is within its limit or breaches it."
                if any(kp.is_limit for kp in self.tracked)
                else ""
            ),
            css_class="note",
        )

    # -- results --------------------------------------------------------------------
    def kpi_results(self) -> dict[str, dict[str, Any]]:
        out = {}
        for kp in self.tracked:
            r = kp.results()
            measured = kp.measured
            fresh = self.fresh.get(kp.kpi.id)
            out[kp.kpi.id] = {
                "name": kp.label(),
                "kind": kp.kpi.kind,
                "measurements": len(kp.periods),
                "latest_period": kp.periods[-1] if measured else None,
                "latest_value": kp.values[-1] if measured else None,
                "progress": kp.progress[-1] if measured else None,
                "planned": kp.planned[-1] if measured else None,
                "status": kp.status[-1] if measured else None,
                "target_type": kp.target_type,
                "limit": kp.target if kp.is_limit else None,
                "limit_status": kp.limits[-1] if kp.limits else None,
                "measurement_overdue": fresh.overdue if fresh is not None else None,
                "next_due": fresh.due.isoformat() if fresh is not None else None,
                "forecast_period": r["forecast_period"],
                "forecast_date": r["forecast_date"],
                "on_time": r["on_time"],
                "trend_per_period": r["trend_per_period"],
            }
        return out

    def financial_results(self) -> dict[str, Any] | None:
        s = self.cash
        if s is None:
            return None
        t = s.to_date
        return {
            "verdict": s.verdict,
            "complete": s.complete,
            "last_period": s.periods[t.last_period] if t else None,
            "revenue_act_to_date": t.revenue_act if t else None,
            "revenue_est_to_date": t.revenue_est if t else None,
            "expenditure_act_to_date": t.expenditure_act if t else None,
            "net_act_to_date": t.net_act if t else None,
            "revenue_ratio": t.revenue_ratio if t else None,
            "profit_est": s.profit_est,
            "profit_act": s.profit_act,
            "headline_roi": s.headline,
            "roi_est": s.headline_est,
            "roi_act": s.headline_act,
            "payback_period_est": s.period_label(s.payback_index_est),
            "payback_period_act": s.period_label(s.payback_index_act),
        }

    def results(self) -> dict[str, Any]:
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "customer": self.engagement.customer,
            "currency": self.currency,
            "generated": self.generated,
            "overall": self.overall(),
            "verdicts": self.verdicts(),
            "outcomes": [
                {"id": s.outcome.id, "status": s.status, "deadline": s.outcome.deadline, "basis": s.basis}
                for s in self.outcome_statuses()
            ],
            "kpis": self.kpi_results(),
            "problems": self.problems,
            "measurements_after_as_of": self.later,
            "financial": self.financial_results(),
            "changes": self.change_list(),
            "actions": self.actions(),
            "next_together": [
                {"id": o.moment, "name": self.moment_words(o), "due": o.due.isoformat() if o.due else None}
                for o in self.joint_next
            ],
            "milestones_overdue": [m.as_json() for m in self.milestones_overdue],
            "overdue_together": [
                {"id": o.moment, "name": self.moment_words(o), "due": o.due.isoformat() if o.due else None, "days": o.days_late}
                for o in self.joint_overdue
            ],
            "missing": self.missing_parts(),
        }


def page_for(
    engagement: Engagement,
    *,
    previous: dict[str, Any] | None = None,
    tolerance: float = 0.02,
    as_of: dt.date | None = None,
    model: EngagementModel | None = None,
) -> ValueReportPage:
    """The page for an engagement, judged at ``as_of``: measurements dated after it are left out (and
    counted), and a last report judged at a later date is not compared with; ``None`` shows them all.
    With the engagement ``model`` and a signed contract, the joint moments next and overdue at ``as_of``
    (today when ``None``) are shown too."""
    check_settings(tolerance=tolerance, trend_periods=3)
    shown, later = progress.split_at(engagement.kpis, engagement.measurements, as_of)
    tracked, problems = progress.track_all(
        engagement.kpis, shown, tolerance=float(tolerance), fiscal_year_end=engagement.fiscal_year_end
    )
    # The cash-flow lines were validated on import, so summarising them cannot fail on input.
    cash = cashflow.summarise(engagement.cash_flow) if engagement.cash_flow else None
    previous_later = None
    if previous is not None and as_of is not None:
        try:
            judged = parse_as_of(previous.get("as_of")) if previous.get("as_of") else None
        except CsmError:
            judged = None
        if judged is not None and judged > as_of:
            previous, previous_later = None, judged.isoformat()
    page = ValueReportPage(
        engagement,
        tracked,
        problems,
        cash,
        previous=previous,
        tolerance=float(tolerance),
        later=len(later),
        previous_later=previous_later,
        model=model,
    )
    page.milestones_overdue = sp.overdue_joint_milestones(engagement, as_of=as_of or dt.date.today())
    judged = as_of or dt.date.today()
    page.fresh = {kp.kpi.id: f for kp in tracked if (f := progress.freshness(kp, as_of=judged)) is not None}
    if model is not None and engagement.contract and engagement.contract.signed:
        plan = ep.engagement_schedule(engagement, model, as_of=as_of or dt.date.today())
        page.joint_next, page.joint_overdue = ep.joint_moments(model, plan)
    page.as_of = as_of
    return page


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    previous_results_path: str = "",
    tolerance: float = 0.02,
    as_of: str = "",
) -> ValueReportPage:
    """Load the engagement from the store (and the last report's results) and compute the page, judged at
    ``as_of`` (an ISO date, empty for today)."""
    if not isinstance(previous_results_path, str):
        raise refuse("previous_results_path", "a file path or empty", previous_results_path)
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement)
    page = page_for(engagement, previous=read_previous(previous_results_path), tolerance=tolerance, as_of=day, model=model)
    page.interactive = config.interactive_session()
    return page
