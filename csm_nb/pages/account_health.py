"""Account health (workbook ``account_health``): one score from 0 to 100 for how the account is doing.

The score starts from the agreed outcome KPIs and the money, then the onboarding stage, the
rhythm of moments, the relationship and the customer's own ratings: each component 0-100 or not
known yet (left out, the weights renormalised). The page shows the score on a band gauge, the
components with their weight, score and evidence, what pulls the score down (drivers), the change
since the previous run and, once there are earlier runs, the history line. The arithmetic is
:mod:`csm_nb.method.health`.

Audience: internal. The score never reaches a customer report.
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
from csm_nb.method import health as hm
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement, EngagementModel
from csm_nb.pages.base import Page, overall_headline
from csm_nb.pages.progress import check_settings
from csm_nb.render import charts
from csm_nb.render.gauge import band_gauge
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.render.index import Headline
from csm_nb.vocabulary import HEALTH_BANDS, HEALTH_COMPONENTS, NOT_KNOWN, TONE_COLOURS, day_words

WORKBOOK = "account_health"
TITLE = "Account health"
TREND_WORDS = {"up": "up", "down": "down", "same": "about the same"}


def applies(engagement: Engagement) -> bool:
    """Something to score: any component could be known (a KPI measured, actual revenue, a signed contract,
    a mapped stakeholder or a satisfaction rating; :func:`csm_nb.method.health.scorable`)."""
    return hm.scorable(engagement)


def read_previous(path: str | Path | None) -> dict[str, Any] | None:
    """The last account-health results, or ``None`` when there is none or it cannot be read."""
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("workbook") == WORKBOOK else None


def number_or_none(value: Any) -> float | None:
    """A number read from a results file, else ``None`` (text, true/false and missing are not scores).

    >>> number_or_none(72.7), number_or_none(True), number_or_none("72.7")
    (72.7, None, None)
    """
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def points(score: float | None) -> str:
    """A score for people: one decimal; ``None`` is "not known yet"."""
    return NOT_KNOWN if score is None else f"{score:.1f}"


def signed(delta: float) -> str:
    """>>> signed(-3.1), signed(0.4)
    ('-3.1', '+0.4')
    """
    return f"{delta:+.1f}"


def _tag(words: str, tone: str = "") -> Html:
    return Html('<span class="tag{}">{}</span>').format(f" tag-{tone}" if tone else "", words)


@dataclass
class AccountHealthPage(Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    AUDIENCE = "internal"
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> AccountHealthPage:
        return open_page(engagement_id, **options)

    @classmethod
    def index_headline(cls, results: Mapping[str, Any], *, currency: str = "USD") -> Headline:
        """The score, its band and the change since the previous run (figures ``health``, ``health_band``,
        ``health_delta``), and a sentence with the drivers' count."""
        score, delta = number_or_none(results.get("score")), number_or_none(results.get("delta"))
        found = results.get("band") if results.get("band") in HEALTH_BANDS else None
        figures = {"health": score, "health_band": found, "health_delta": delta}
        summary = ""
        if score is not None:
            summary = f"Health {score:.1f}, {found}"
            if delta is not None:
                summary += f", {signed(delta)} points since the last run"
            count = len(results.get("drivers") or [])
            summary += f"; {count} driver{'s' if count != 1 else ''} under 75."
        elif results:
            summary = "Health not known yet: no component can be scored."
        return overall_headline(
            results, figures={k: v for k, v in figures.items() if v is not None}, summary=summary, tagged=False
        )

    engagement: Engagement
    model: EngagementModel | None
    as_of: dt.date
    previous: dict[str, Any] | None = None
    tolerance: float = 0.02
    health: hm.Health = field(init=False)

    def __post_init__(self) -> None:
        self.health = hm.engagement_health(self.engagement, self.model, as_of=self.as_of, tolerance=self.tolerance)
        prev = self.previous or {}
        prev_score = number_or_none(prev.get("score"))
        prev_band = prev.get("band") if prev.get("band") in HEALTH_BANDS else None
        self.trend = hm.trend(self.health.score, self.health.band, prev_score, prev_band)
        earlier = prev.get("history")
        if not isinstance(earlier, list):
            earlier = [{"as_of": prev.get("as_of"), "score": prev_score}] if self.previous else []
        self.history = hm.extend_history(
            [h for h in earlier if isinstance(h, Mapping)], as_of=self.as_of, score=self.health.score
        )

    @property
    def previous_as_of(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(str((self.previous or {}).get("as_of"))[:10])
        except ValueError:
            return None

    def trigger_input(self) -> dict[str, Any] | None:
        """What the engagement plan's health triggers read (``Health.as_trigger_input``), with the drop since the previous run."""
        return self.health.as_trigger_input(number_or_none((self.previous or {}).get("score")))

    # -- the report ------------------------------------------------------------------------------------
    def headline(self) -> Html:
        h, e = self.health, self.engagement
        if h.score is None:
            return callout(
                f"No part of {e.customer}'s health can be scored at {day_words(self.as_of)}: no KPI measured, no actual "
                "revenue, no contract with moments, no stakeholder mapped and no satisfaction rating. Add any of them and "
                "run the workbook again.",
                tone="info",
                title="Health not known yet.",
            )
        verdict = HEALTH_BANDS[h.band or "red"]
        parts = [f"Health {points(h.score)} of 100, {h.band}, at {day_words(self.as_of)}, from {self._known_words()}."]
        if h.override:
            parts.append(
                f"The band is red whatever the number: an outcome KPI is far behind or will miss its deadline ({h.override_reason})."
            )
        parts.append(self._trend_sentence())
        return callout(" ".join(p for p in parts if p), tone=verdict.tone, title=verdict.title)

    def _known_words(self) -> str:
        known = [hm.COMPONENT_NAMES[k].lower() for k, c in self.health.components.items() if c.known and c.weight > 0]
        return ", ".join(known[:-1]) + f" and {known[-1]}" if len(known) > 1 else (known[0] if known else "nothing")

    def _trend_sentence(self) -> str:
        t, when = self.trend, self.previous_as_of
        if not self.previous:
            return "This is the first run: the change shows from the next one."
        since = f"since the run of {day_words(when)}" if when else "since the previous run"
        if t.delta is None:
            return f"No change to compare {since}: a score is not known."
        text = (
            f"{TREND_WORDS[t.arrow or 'same'].capitalize()} {abs(t.delta):.1f} points {since}"
            if t.arrow != "same"
            else (f"About the same {since} ({signed(t.delta)} points)")
        )
        if t.band_changed:
            text += f", from {t.band_from} to {t.band_to}"
        return text + "."

    def headline_figures(self) -> Html:
        h, t = self.health, self.trend
        change = "not known yet" if t.delta is None else f"{signed(t.delta)} {hm.ARROWS[t.arrow or 'same']}"
        items = [
            ("Health", points(h.score), "of 100"),
            (
                "Band",
                h.band or NOT_KNOWN,
                "set by an outcome KPI" if h.override else (HEALTH_BANDS[h.band].title if h.band else ""),
            ),
            ("Change", change, f"since {day_words(self.previous_as_of)}" if self.previous_as_of else "no earlier run"),
            ("Drivers", str(len(h.drivers)), "components and KPIs under 75"),
        ]
        return figures(items)

    def gauge(self) -> Html:
        h = self.health
        prev = number_or_none((self.previous or {}).get("score")) if self.trend.delta is not None else None
        caption = (
            f"Red under {h.bands['red']:g}, amber from {h.bands['red']:g} to under {h.bands['green']:g}, green from "
            f"{h.bands['green']:g}."
        )
        if prev is not None:
            caption += f" The hollow triangle is the previous run's score, {prev:.1f}."
        if h.override:
            caption += " The band is red because of an outcome KPI, whatever the number."
        chart = band_gauge(
            title=f"Health score, {day_words(self.as_of)}", score=h.score, bands=h.bands, previous=prev, caption=caption
        )
        return section("Health score", Html(str(chart)))

    def components_table(self) -> Html:
        h = self.health
        total = sum(c.weight for c in h.components.values() if c.known and c.weight > 0)
        rows, classes = [], []
        for key, c in h.components.items():
            counted = c.known and c.weight > 0
            share = f"{c.weight:g} ({c.weight / total:.0%})" if counted and total else f"{c.weight:g} (left out)"
            rows.append([hm.COMPONENT_NAMES[key], HEALTH_COMPONENTS[key], share, points(c.score), c.evidence])
            classes.append("" if counted else "future")  # the muted row style
        kpi_rows = [[k.name, f"{k.kind} KPI", _tag(f"{k.score:.1f}", _tone(k.score, h.bands)), k.evidence] for k in h.kpi_details]
        parts: list[Any] = [
            table(
                ["Component", "What it scores", "Weight (share)", "Score", "Evidence"],
                rows,
                footer=[["Overall", "weighted mean of the known components", f"{total:g}", points(h.score), ""]],
                numeric=[False, False, True, True, False],
                row_classes=classes,
            )
        ]
        if kpi_rows:
            parts += [
                Html("<h3>KPIs</h3>"),
                table(["KPI", "Kind", "Score", "At the latest measurement"], kpi_rows, numeric=[False, False, True, False]),
                paragraph(
                    f"A KPI scores 100 on plan or ahead and loses {hm.KPI_POINTS_PER_POINT:g} points for each point it is "
                    f"behind beyond the ±{self.tolerance * 100:g} points tolerance; one that will miss its deadline at the "
                    f"recent rate scores {hm.MISSED_DEADLINE_CAP:g} at most.",
                    css_class="note",
                ),
            ]
        return section(
            "What the score is made of",
            *parts,
            intro="Each component scores 0 to 100. One not known yet is left out and the weights of the others are shared "
            "again, so a missing figure never counts as 0.",
        )

    def drivers(self) -> Html:
        h = self.health
        if h.score is None:
            return Html("")
        body = (
            Html("<ol>") + join(Html("<li>{}</li>").format(d) for d in h.drivers) + Html("</ol>")
            if h.drivers
            else paragraph("Nothing scores under 75: every known component and KPI is in the green.")
        )
        return section("What pulls the score down", body, intro="Every component and KPI under 75, the lowest first.")

    def trend_part(self) -> Html:
        scored = [p for p in self.history if p["score"] is not None]
        parts: list[Any] = [paragraph(self._trend_sentence())]
        if len(self.history) >= 2 and scored:
            labels = [day_words(dt.date.fromisoformat(p["as_of"])) for p in self.history]
            n = len(labels)
            h = self.health
            spans = [
                ("red", 0.0, h.bands["red"]),
                ("amber", h.bands["red"], h.bands["green"]),
                ("green", h.bands["green"], 100.0),
            ]
            chart = charts.line_chart(
                title="Health score, run by run",
                x_labels=labels,
                series=[charts.Series("Health score", [p["score"] for p in self.history], color=charts.PALETTE[0])],
                bands=[
                    charts.Band(f"{name.capitalize()} band", [lo] * n, [hi] * n, color=TONE_COLOURS[HEALTH_BANDS[name].tone])
                    for name, lo, hi in spans
                    if hi > lo
                ],
                y_format=lambda v: f"{v:.0f}",
                y_label="points of 100",
                width=720,
                height=260,
                caption=f"The last {len(self.history)} runs' scores (up to {hm.HISTORY_KEEP} are kept), on the band colours.",
            )
            parts.append(Html(str(chart)))
        return section("Change since the last run", *parts)

    def method_note(self) -> Html:
        h = self.health
        weights = ", ".join(f"{hm.COMPONENT_NAMES[k].lower()} {w:g}" for k, w in h.weights.items())
        return section(
            "How the score is made",
            paragraph(
                f"Overall = the sum of weight × score over the known components ÷ the sum of their weights. Weights: {weights}. "
                f"Bands: red under {h.bands['red']:g}, green from {h.bands['green']:g}, amber between. An outcome (lagging) KPI "
                f"under {hm.OVERRIDE_BELOW:g}, or one that will miss its deadline, makes the band red whatever the number. "
                f"Money: 100 at or above the estimate to date, 50 at the edge of its accuracy band. Moments and the "
                f"customer's ratings count over the last {hm.WINDOW_DAYS} days. Weights and bands are settings "
                "(health: weights, bands in the engagement file).",
                css_class="note",
            ),
        )

    def results(self) -> dict[str, Any]:
        h, t = self.health, self.trend
        prev = self.previous or {}
        return {
            "workbook": WORKBOOK,
            "engagement": self.engagement.id,
            "as_of": self.as_of.isoformat(),
            "verdicts": self.verdicts(),
            "score": h.score,
            "band": h.band,
            "override": h.override,
            "override_reason": h.override_reason,
            "phase": h.phase,
            "components": {k: c.as_json() for k, c in h.components.items()},
            "kpis": dict(h.kpis),
            "drivers": list(h.drivers),
            "previous": {"score": prev.get("score"), "band": prev.get("band"), "as_of": prev.get("as_of")},
            "delta": t.delta,
            "arrow": t.arrow,
            "band_change": {"from": t.band_from, "to": t.band_to} if t.band_changed else None,
            "history": self.history,
            "settings": {"weights": h.weights, "bands": h.bands, "tolerance": self.tolerance},
            "trigger": self.trigger_input(),
        }


def _tone(score: float, bands: Mapping[str, float]) -> str:
    return HEALTH_BANDS[hm.band(score, bands) or "red"].tone


def page_for(
    engagement: Engagement,
    model: EngagementModel | None,
    *,
    as_of: dt.date,
    previous: dict[str, Any] | None = None,
    tolerance: float = 0.02,
) -> AccountHealthPage:
    """The page judged at ``as_of``; a previous run judged after ``as_of`` is not compared with."""
    check_settings(tolerance=tolerance, trend_periods=3)
    if previous is not None:
        try:
            judged = parse_as_of(previous.get("as_of")) if previous.get("as_of") else None
        except CsmError:
            judged = None
        if judged is None or judged > as_of:
            previous = None
    page = AccountHealthPage(engagement, model, as_of, previous=previous, tolerance=float(tolerance))
    return page


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    results_path: str | None = None,
    previous_results_path: str = "",
    tolerance: float = 0.02,
    as_of: str = "",
) -> AccountHealthPage:
    """Load the engagement and its engagement model (and the last run's results) and score it at ``as_of``
    (an ISO date; empty for today)."""
    if not isinstance(previous_results_path, str):
        raise refuse("previous_results_path", "a file path or empty", previous_results_path)
    day = parse_as_of(as_of)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        model = store.engagement_model(engagement)
    page = page_for(engagement, model, as_of=day, previous=read_previous(previous_results_path), tolerance=tolerance)
    page.interactive = config.interactive_session(results_path)
    return page
