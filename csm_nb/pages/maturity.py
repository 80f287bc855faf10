"""Maturity (workbook ``maturity``): where the customer stands on a maturity model, what the next level
takes, how far it has come since day 1, where it sits among its peers, and the plan to move up.

The model (``csm-nb/maturity-model@1``: :mod:`csm_nb.data.maturity_model`) defines levels by the
behaviours typical of each; the engagement's ``maturity`` holds the assessments over time, the
improvement plan and segment rules. The arithmetic is :mod:`csm_nb.method.maturity`: level shares,
current level (every level from 2 up at or above the threshold), index (level + share of the next
level), gaps and strengths, the day-1 benchmark, the peers' median and quartiles, the plan's checks.

Peers are the store's other engagements on the same model that share the peer tag (the notebook's
``peer_tag``, else the engagement's ``maturity.peer_tag``; an engagement shares it as its own peer tag
or one of its tags); without a tag, every other engagement on the model.

Audience: the customer (a coaching tool). A person running the notebook gets forms above the report
to record an assessment and to put the plan's metric targets into the KPI register
(:mod:`csm_nb.forms.maturity`).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.maturity_model import resolve_maturity_model
from csm_nb.data.store import Store
from csm_nb.forms.plan_log import live_part
from csm_nb.method import maturity as mt
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement
from csm_nb.pages.base import Page, overall_headline
from csm_nb.render import charts
from csm_nb.render.charts import _GAP, _MUTED, _PAD, _TEXT, _TITLE, PALETTE, Svg, _Canvas, _house, _plain, _size, _uid
from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import day_words, percent, plural

WORKBOOK = "maturity"
TITLE = "Maturity"
ANSWER_WORDS = {"yes": "yes", "partly": "partly", None: "not assessed", "no": "no"}


def applies(engagement: Engagement) -> bool:
    """Something to show: the engagement's maturity has at least one assessment."""
    return bool((engagement.maturity or {}).get("assessments"))


def when(day: dt.date | None) -> str:
    return day_words(day) if day else "not set"


def number(value: float | None, *, decimals: int = 2) -> str:
    """A figure as people read it: 2.5, 0.83; "not known yet" for None."""
    if value is None:
        return "not known yet"
    return f"{round(float(value), decimals):g}"


# -- the level ladder ------------------------------------------------------------------------------
def ladder_chart(
    *,
    title: str,
    levels: Sequence[tuple[str, float | None]],
    threshold: float,
    current: int,
    caption: str = "",
    width: int = 720,
    desc: str = "",
) -> Svg:
    """Each level a row (level 1 at the bottom), its share as a bar 0-100 %, a dashed line at the
    threshold, the current level's row drawn in the strong colour with "current level" beside it.
    A level nobody assessed says so in words, never a zero bar.

    >>> c = ladder_chart(title="Levels", levels=[("1 Entry", None), ("2 Stated", 0.833), ("3 Measured", 0.5)],
    ...                  threshold=0.8, current=2)
    >>> c.svg.count('class="bar"'), 'class="threshold"' in c.svg, "not assessed" in c.svg
    (2, True, True)
    """
    title = _plain(title)
    names = [_plain(n) for n, _ in levels]
    shares = [None if s is None else min(1.0, max(0.0, float(s))) for _, s in levels]
    uid = _uid("ladder", title, names, shares, threshold, current, width)
    if not desc:
        items = [f"{n}: {'not assessed' if s is None else percent(s, decimals=0)}" for n, s in zip(names, shares, strict=True)]
        desc = (
            f"{title}. " * bool(title)
            + "; ".join(items)
            + f". Threshold {percent(threshold, decimals=0)}; current level {current}."
        )
    W, _, mm = _size(width, 100, min_width=240)
    with _house(uid):
        c = _Canvas(uid, W, 100, mm)
        fig = c.fig
        title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
        top = _PAD + c.block_h(len(title_lines), _TITLE, bold=True) + (_GAP if title_lines else 0)
        rule_h = c.line_h() + 3
        row_h = 20.0
        label_w = min(max((c.text_w(n) for n in names), default=0.0) + 8, W * 0.38)
        note_w = c.text_w("current level") + 8
        bottom = _PAD + c.line_h() + 6
        plot_h = row_h * max(len(levels), 1)
        H = top + rule_h + plot_h + bottom
        fig.set_size_inches(W / 72, H / 72)
        left = _PAD + label_w
        ax = fig.add_axes((left / W, bottom / H, (W - left - _PAD - note_w) / W, plot_h / H))
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.5, len(levels) - 0.5)
        ax.set_yticks(range(len(levels)), labels=names)
        ax.tick_params(axis="y", length=0)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0 %", "25 %", "50 %", "75 %", "100 %"])
        ax.grid(axis="y", visible=False)
        c.title(title_lines, height=H)
        for i, share in enumerate(shares):
            number_ = i + 1
            strong = number_ == current
            if share is None:
                ax.text(0.01, i, "not assessed", va="center", ha="left", color=_MUTED, gid=c.gid(f"none-{i}", "no-data"))
                continue
            ax.barh(
                i,
                share,
                height=0.62,
                color=PALETTE[0] if strong else "#9ec5e3",
                zorder=2,
                gid=c.gid(f"bar-{i}", "bar"),
            )
            text = percent(share, decimals=0)
            inside = share > 0.85
            ax.annotate(
                text,
                xy=(share, i),
                xytext=(-3 if inside else 3, 0),
                textcoords="offset points",
                ha="right" if inside else "left",
                va="center",
                color="#ffffff" if inside and strong else "#1d232b",
                zorder=4,
                gid=c.gid(f"value-{i}", "value-label"),
            )
        if 1 <= current <= len(levels):
            ax.annotate(
                "current level",
                xy=(1, current - 1),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontweight="bold",
                annotation_clip=False,
                gid=c.gid("current", "current"),
            )
        ax.axvline(
            threshold, color="#1d232b", linewidth=1.1, linestyle=(0, (4, 2.5)), zorder=3, gid=c.gid("threshold", "threshold")
        )
        ax.annotate(
            f"threshold {percent(threshold, decimals=0)}",
            xy=(threshold, len(levels) - 0.5),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            color=_MUTED,
            fontsize=_TEXT,
            annotation_clip=False,
            gid=c.gid("threshold-label", "vline-label"),
        )
        return c.finish(title=title, desc=desc, caption=caption)


# -- peers -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeerReading:
    """A peer engagement's latest index and metric values at the page's date."""

    engagement: str
    index: float
    metrics: dict[str, float]


def model_id_of(maturity: Mapping[str, Any] | None) -> str | None:
    named = (maturity or {}).get("model")
    if isinstance(named, Mapping):
        return str(named.get("id")) if named.get("id") else None
    return named if isinstance(named, str) else None


def peer_readings(
    store: Store, engagement: Engagement, model: mt.MaturityModel, *, tag: str | None, as_of: dt.date
) -> list[PeerReading]:
    """The other engagements of the store on the same model sharing ``tag`` (all of them without one),
    each placed by its latest assessment on or before ``as_of``."""
    found = []
    for summary in store.engagements():
        if summary.id == engagement.id:
            continue
        other = store.load(summary.id)
        maturity = other.maturity or {}
        if model_id_of(maturity) != model.id:
            continue
        if tag and tag != maturity.get("peer_tag") and tag not in (other.tags or []):
            continue
        assessed = mt.in_order(maturity.get("assessments") or [], as_of=as_of)
        if not assessed:
            continue
        placed = mt.place(model, assessed[-1].get("observed") or {})
        latest = {m.id: values[-1][1] for m in model.metrics if (values := mt.metric_values(m.id, assessed))}
        found.append(PeerReading(other.id, placed.index, latest))
    return found


@dataclass
class MaturityPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "customer"
    applies = staticmethod(applies)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """The level and the index, with the progress since day 1."""
        level, index = results.get("level"), results.get("index")
        if not isinstance(level, int) or not isinstance(index, (int, float)):
            return overall_headline(results, tagged=False)
        day1 = results.get("day1") or {}
        figures_ = {"maturity_level": level, "maturity_index": index}
        summary = f"Level {level}, index {number(index)}"
        if isinstance(day1.get("index"), (int, float)):
            moved = index - day1["index"]
            figures_["maturity_progress"] = round(moved, 4)
            summary += f" ({'+' if moved >= 0 else ''}{number(moved)} since {day1.get('date')})"
        return overall_headline(results, figures=figures_, summary=summary + ".", tagged=False)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> MaturityPage:
        return open_page(engagement_id, **options)

    engagement: Engagement
    model: mt.MaturityModel
    as_of: dt.date
    peers: list[PeerReading] = field(default_factory=list)
    peer_tag: str | None = None
    db: str | None = None
    forms: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        maturity = self.engagement.maturity or {}
        self.assessments = mt.in_order(maturity.get("assessments") or [], as_of=self.as_of)
        self.placements = mt.history(self.model, self.assessments)
        self.now = self.placements[-1] if self.placements else None
        self.first = mt.day_one(self.placements)
        self.observed = (self.assessments[-1].get("observed") or {}) if self.assessments else {}
        self.position = mt.peer_position(self.now.index if self.now else 1.0, [p.index for p in self.peers])
        self.plan = maturity.get("plan") or {}
        self.baselines = {m.id: values[0] for m in self.model.metrics if (values := mt.metric_values(m.id, self.assessments))}
        self.latest = {m.id: values[-1] for m in self.model.metrics if (values := mt.metric_values(m.id, self.assessments))}
        peer_best = {
            m.id: mt.best_peer_value([p.metrics[m.id] for p in self.peers if m.id in p.metrics], m.direction)
            for m in self.model.metrics
        }
        # The plan starts from the latest level held below its target: a plan set at the last review is not
        # "two levels" away because day 1 was lower, and a target since reached is not refused after the fact.
        target = self.plan.get("target_level")
        below = [p.level for p in self.placements if target is not None and p.level < target]
        # The peers' metrics likewise: the median of their latest values (what "like companies" reach).
        self.peer_medians = {
            m.id: statistics.median(values)
            for m in self.model.metrics
            if (values := [p.metrics[m.id] for p in self.peers if m.id in p.metrics])
        }
        self.checks = mt.check_plan(
            self.plan,
            model=self.model,
            level=below[-1] if below else (self.first.level if self.first else 1),
            baselines={k: v for k, (_, v) in self.baselines.items()},
            peer_best=peer_best,
        )
        self.course = mt.on_course(
            self.placements, target_level=self.plan.get("target_level"), by=mt.as_date(self.plan.get("by")), as_of=self.as_of
        )
        rules = [*self.model.segments, *(maturity.get("segments") or [])]
        self.segments = mt.segments_of(rules, model=self.model, assessments=self.assessments)

    # -- the forms, for a person ---------------------------------------------------------------------
    def workshop(self) -> Any:
        """Interactive: the forms to record an assessment and to put the plan into the KPI register
        (csm_nb.forms.maturity), above the report, whose parts redraw after each save. Headless: nothing."""
        if not self.interactive:
            return None
        from csm_nb.forms.maturity import MaturityForms

        if self.forms is not None:
            self.forms.close()
        self.forms = MaturityForms(self.engagement, self.model, db=self.db, today=self.as_of, on_saved=self.refresh)
        return self.forms

    # -- words ---------------------------------------------------------------------------------------
    def level_name(self, number_: int) -> str:
        level = self.model.level(number_)
        return f"level {number_}" + (f" ({level.name})" if level and level.name else "")

    def metric_name(self, metric_id: str) -> str:
        metric = self.model.metric(metric_id)
        return (metric.name if metric and metric.name else metric_id) + (f" ({metric.unit})" if metric and metric.unit else "")

    # -- the report ----------------------------------------------------------------------------------
    @live_part
    def headline(self) -> Html:
        if self.now is None:
            return callout(
                f"{self.engagement.customer} has no assessment on or before {when(self.as_of)}: record one to place it on "
                f"the model {self.model.name or self.model.id}.",
                tone="info",
                title="Not assessed yet.",
            )
        now = self.now
        text = f"{self.engagement.customer} is at {self.level_name(now.level)} of {self.model.top}, index {number(now.index)}."
        if now.level < self.model.top:
            text += (
                f" Level {now.level + 1}{self.level_name(now.level + 1)[len(f'level {now.level + 1}') :]} needs its behaviours at {percent(self.model.threshold, decimals=0)} "
                f"or more: {plural(len(now.gaps), 'behaviour')} to work on."
            )
        if self.first is not None and self.first is not now:
            moved = now.index - self.first.index
            text += f" Since day 1 ({when(self.first.date)}): {'+' if moved >= 0 else ''}{number(moved)}."
        return callout(
            text,
            tone="good" if now.level >= self.model.top else "info",
            title=f"Level {now.level}: {self.model.level(now.level).name if self.model.level(now.level) else ''}".rstrip(": "),
        )

    @live_part
    def headline_figures(self) -> Html:
        if self.now is None:
            return Html("")
        p = self.position
        items = [
            ("Level", f"{self.now.level} of {self.model.top}", (self.model.level(self.now.level) or mt.Level(0)).name),
            (
                "Index",
                number(self.now.index),
                f"level + share of level {self.now.level + 1}" if self.now.level < self.model.top else "the top level",
            ),
            (
                "Since day 1",
                f"{'+' if (self.now.index - self.first.index) >= 0 else ''}{number(self.now.index - self.first.index)}"
                if self.first
                else "",
                f"from {number(self.first.index)} on {when(self.first.date)}" if self.first else "",
            ),
            (
                "Among peers",
                f"{percent(p.share_below, decimals=0)} below" if p.n else "no peers yet",
                f"median {number(p.median)} of {plural(p.n, 'peer')}" if p.n else "",
            ),
        ]
        return figures(items)

    @live_part
    def ladder(self) -> Html:
        if self.now is None:
            return Html("")
        rows = [
            (f"{lv.number} {lv.name}".strip(), self.now.shares.get(lv.number) if lv.behaviours else None)
            for lv in sorted(self.model.levels, key=lambda x: x.number)
        ]
        chart = ladder_chart(
            title="Where the customer stands, level by level",
            levels=rows,
            threshold=self.model.threshold,
            current=self.now.level,
            caption=(
                f"Each bar is the share of the level's behaviours seen (yes counts 1, partly a half). A level is held when "
                f"it and every level below it reach the dashed line at {percent(self.model.threshold, decimals=0)}; "
                "level 1 is where everybody starts."
            ),
        )
        return section("The level ladder", Html(str(chart)))

    @live_part
    def index_over_time(self) -> Html:
        if not self.placements:
            return Html("")
        dates = [p.date for p in self.placements]
        labels = [f"{d:%d %b %Y}" for d in dates]
        values: list[float | None] = [p.index for p in self.placements]
        series = [charts.Series("Maturity index", values)]
        target, by = self.plan.get("target_level"), mt.as_date(self.plan.get("by"))
        if target is not None and by is not None and (not dates or by > dates[-1]):
            labels.append(f"{by:%d %b %Y} (plan)")
            series[0] = charts.Series("Maturity index", [*values, None])
            series.append(
                charts.Series("Plan", [None] * (len(values) - 1) + [values[-1], float(target)], style="dashed", color=PALETTE[1])
            )
        chart = charts.line_chart(
            title="Maturity index over time",
            x_labels=labels,
            series=series,
            y_label="index (level + share of the next)",
            y_format=lambda v: f"{v:g}",
            zero_line=False,
            height=260,
            caption="One point an assessment; the dashed line runs to the plan's target level by the plan's date.",
        )
        return section("Over time", Html(str(chart)))

    @live_part
    def gaps(self) -> Html:
        if self.now is None:
            return Html("")
        if not self.now.gaps:
            return section(
                "To the next level",
                paragraph(
                    "The top level is held: nothing left to climb."
                    if self.now.level >= self.model.top
                    else "Every behaviour of the next level is seen."
                ),
            )
        rows = [[g.text or g.id, ANSWER_WORDS.get(g.answer, g.answer or ""), g.feature or ""] for g in self.now.gaps]
        return section(
            f"To reach {self.level_name(self.now.level + 1)}",
            table(["Behaviour", "Seen now", "What in the product helps"], rows),
            intro="The next level's behaviours not yet fully seen, and the part of the product that helps with each.",
        )

    @live_part
    def strengths(self) -> Html:
        if self.now is None or not self.now.strengths:
            return Html("")
        rows = [[s.text or s.id, self.level_name(s.level)] for s in self.now.strengths]
        return section(
            "Strengths above the level",
            table(["Behaviour", "Level"], rows),
            intro="Behaviours already seen on levels beyond the next one: strengths to build on.",
        )

    @live_part
    def since_day_one(self) -> Html:
        if self.now is None or self.first is None:
            return Html("")
        rows = [
            [
                f"{lv.number} {lv.name}".strip(),
                percent(self.first.shares.get(lv.number), decimals=0)
                if self.first.shares.get(lv.number) is not None
                else "not assessed",
                percent(self.now.shares.get(lv.number), decimals=0)
                if self.now.shares.get(lv.number) is not None
                else "not assessed",
            ]
            for lv in self.model.levels
            if lv.behaviours
        ]
        rows.append(["Level held", str(self.first.level), str(self.now.level)])
        rows.append(["Index", number(self.first.index), number(self.now.index)])
        return section(
            "Day 1 and now",
            table(["", f"Day 1 ({when(self.first.date)})", f"Now ({when(self.now.date)})"], rows),
            intro="The first assessment is the benchmark the plan improves on.",
        )

    @live_part
    def peers_part(self) -> Html:
        p = self.position
        tag = f" tagged {self.peer_tag}" if self.peer_tag else ""
        if not p.n:
            return section("Among peers", paragraph(f"No other engagement on this model{tag} has been assessed yet."))
        text = (
            f"Among {plural(p.n, 'engagement')} on the same model{tag}: median index {number(p.median)} "
            f"(the middle half from {number(p.p25)} to {number(p.p75)}). {percent(p.share_below, decimals=0)} of them are below "
            f"this customer's {number(self.now.index if self.now else None)}."
        )
        return section("Among peers", paragraph(text))

    @live_part
    def metrics_table(self) -> Html:
        targets = self.plan.get("metric_targets") or {}
        rows = []
        for m in self.model.metrics:
            base, latest = self.baselines.get(m.id), self.latest.get(m.id)
            if base is None and m.id not in targets:
                continue
            improved = base is not None and latest is not None and mt.better(latest[1], base[1], m.direction)
            rows.append(
                [
                    self.metric_name(m.id),
                    "higher is better" if m.direction == "increase" else "lower is better",
                    f"{base[1]:g} ({when(base[0])})" if base else "not measured",
                    f"{latest[1]:g} ({when(latest[0])})" if latest else "not measured",
                    f"{float(targets[m.id]):g}" if m.id in targets else "",
                    "improved" if improved else ("not yet" if base else ""),
                    *([f"{self.peer_medians[m.id]:g}" if m.id in self.peer_medians else "–"] if self.peer_medians else []),
                ]
            )
        if not rows:
            return Html("")
        columns = ["Metric", "Direction", "Day 1", "Latest", "Target", "Since day 1"]
        return section("Metrics", table(columns + (["Peers (median)"] if self.peer_medians else []), rows))

    @live_part
    def plan_part(self) -> Html:
        if not self.plan:
            return section(
                "The improvement plan", paragraph("No plan yet: agree a target level, a date and the actions to get there.")
            )
        target, by = self.plan.get("target_level"), mt.as_date(self.plan.get("by"))
        parts: list[Any] = []
        course = {True: "on course", False: "not on course", None: "not judged yet"}[self.course]
        parts.append(
            paragraph(
                f"Target: {self.level_name(target) if target else 'no level set'} by {when(by)}; {course} at {when(self.as_of)}."
            )
        )
        for problem in self.checks.refused:
            parts.append(callout(problem + ".", tone="bad", title="Not a plan yet."))
        for warning in self.checks.warnings:
            parts.append(callout(warning + ".", tone="warn", title="Check this."))
        actions = self.plan.get("actions") or []
        if actions:
            rows = [
                [
                    (
                        self.model.behaviour(a["behaviour"]).text
                        if a.get("behaviour") and self.model.behaviour(a["behaviour"])
                        else a.get("behaviour") or ""
                    ),
                    a.get("action", ""),
                    a.get("owner", ""),
                    when(mt.as_date(a.get("due"))) if a.get("due") else "",
                    a.get("feature")
                    or (
                        (self.model.behaviour(a["behaviour"]).feature or "")
                        if a.get("behaviour") and self.model.behaviour(a["behaviour"])
                        else ""
                    ),
                ]
                for a in actions
            ]
            parts.append(table(["Behaviour", "Action", "Owner", "Due", "What helps"], rows))
        return section("The improvement plan", *parts)

    @live_part
    def segments_part(self) -> Html:
        if not self.segments:
            return Html("")
        rows = [[s.get("name") or s.get("id"), s.get("content") or ""] for s in self.segments]
        return section(
            "Guidance that fits",
            table(["Segment", "What we will send"], rows),
            intro="Customers who show the same pattern get the same help; this one is in these groups now.",
        )

    def results(self) -> dict[str, Any]:
        now, first = self.now, self.first
        targets = self.plan.get("metric_targets") or {}
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "audience": "customer",
            "verdicts": self.verdicts(),
            "model": self.model.id,
            "level": now.level if now else None,
            "index": now.index if now else None,
            "level_shares": {str(k): v for k, v in now.shares.items()} if now else {},
            "gaps": [g.as_json() for g in now.gaps] if now else [],
            "strengths": [s.as_json() for s in now.strengths] if now else [],
            "day1": {"date": first.date.isoformat() if first.date else None, "level": first.level, "index": first.index}
            if first
            else None,
            "progress": mt.progress(self.placements),
            "history": [
                {"date": p.date.isoformat() if p.date else None, "level": p.level, "index": p.index} for p in self.placements
            ],
            "peers": {**self.position.as_json(), "tag": self.peer_tag},
            "metrics": [
                {
                    "id": m.id,
                    "name": m.name,
                    "unit": m.unit,
                    "direction": m.direction,
                    "baseline": self.baselines[m.id][1] if m.id in self.baselines else None,
                    "latest": self.latest[m.id][1] if m.id in self.latest else None,
                    "target": float(targets[m.id]) if m.id in targets else None,
                    "peer_median": self.peer_medians.get(m.id),
                }
                for m in self.model.metrics
            ],
            "plan": {
                "target_level": self.plan.get("target_level"),
                "by": self.plan.get("by"),
                "on_course": self.course,
                "warnings": list(self.checks.warnings),
                "refused": list(self.checks.refused),
            }
            if self.plan
            else None,
            "segments": [{"id": s.get("id"), "name": s.get("name"), "content": s.get("content")} for s in self.segments],
        }


def open_page(
    engagement_id: str, *, db: str | None = None, results_path: str | None = None, as_of: str = "", peer_tag: str = ""
) -> MaturityPage:
    """Load the engagement, its maturity model and its peers (the same model; ``peer_tag``, else the
    engagement's own peer tag), judged at ``as_of`` (an ISO date; empty for today)."""
    day = parse_as_of(as_of) or dt.date.today()
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        maturity = engagement.maturity or {"model": "value-measurement"}
        model = resolve_maturity_model(maturity, find=store.find_maturity_model)
        tag = (peer_tag or "").strip() or maturity.get("peer_tag") or None
        peers = peer_readings(store, engagement, model, tag=tag, as_of=day) if engagement.maturity else []
    page = MaturityPage(engagement, model, day, peers=peers, peer_tag=tag, db=db or None)
    page.interactive = config.interactive_session(results_path)
    return page.at(as_of)
