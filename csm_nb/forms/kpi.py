"""Workshop forms for the KPI workshop and the financial linkage (ipywidgets).

* :class:`KpiWorkshopForm`: enter or edit a candidate, move the criterion
  weights (the ranking redraws at once), tick the shortlist, and put the
  shortlist into the KPI register.
* :class:`LinkageForm`: change a chain's factors, accuracies, baseline, run rate
  and target; the value of one KPI unit, the gap, the movement needed and the
  tornado chart recompute as you type.

Every change is saved at once as a workshop answer through
:class:`csm_nb.forms.widgets.AnswerSaver` (``Store.save_answer`` with the revision the
form last saw, so a colleague's change is never silently overwritten). The two
deliberate steps that change the engagement itself, "put the shortlist in the
register" and "agree the chain", read the engagement fresh and save it with
``expected_revision``.

A save waits a few seconds for a store another program holds, showing
"Saving…", then says "Not saved: the store is busy (held by ...)" with a Retry
button that repeats the change; "saved" is said only after the answer has
been read back. Every handler runs through :func:`csm_nb.forms.widgets.shown_errors`,
so no exception reaches only the Jupyter log.

Nothing here needs a browser: tests call the same methods the buttons call
(``save_candidate``, ``set_weight``, ``set_shortlist``, ``adopt_shortlist``,
``set_factor`` ...) and read ``message`` and the store. ipywidgets is imported
only when a form is built.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.data.store import Store
from csm_nb.errors import ConflictError, CsmError, InputError
from csm_nb.forms.widgets import (
    FORM_CLASS,
    AnswerSaver,
    button_layout,
    ipywidgets,
    not_saved_message,
    shown_errors,
)
from csm_nb.method import kpis, linkage
from csm_nb.model import Engagement
from csm_nb.render.html import Html
from csm_nb.vocabulary import TONE_COLOURS, parse_amount


def _number(text: Any, label: str) -> float | None:
    """A number typed in a box: empty is not known yet; '$1,800' and '1800' both read 1800."""
    return parse_amount(text, where=label)


class _Messages:
    """One status line under a form: what was saved, or why not, with Retry when repeating may help."""

    def __init__(self) -> None:
        w = ipywidgets()
        self.message, self.tone = "", "info"
        self.html = w.HTML()
        self.retry_button = w.Button(
            description="Retry",
            button_style="warning",
            layout=button_layout(shown=False),
            tooltip="Try the last change again",
        )
        self.retry_button.add_class("csm-retry")
        self.retry_button.on_click(lambda _: self.retry())
        self._retry: Callable[[], Any] | None = None
        self.box = w.HBox([self.html, self.retry_button], layout=w.Layout(align_items="center"))

    def say(self, text: str, tone: str = "info", *, retry: Callable[[], Any] | None = None) -> None:
        self.message, self.tone, self._retry = text, tone, retry
        self.html.value = str(
            Html('<div role="status" class="csm-message" style="color:{};font-size:15px;margin:4px 0">{}</div>').format(
                TONE_COLOURS[tone], text
            )
        )
        self.retry_button.layout = button_layout(shown=retry is not None)

    def show_error(self, exc: BaseException, *, retry: Callable[[], Any] | None = None) -> None:
        """Why a change was not saved, with Retry when ``retry`` repeats it."""
        self.say(not_saved_message(exc, then="press Retry" if retry else "try again"), "bad", retry=retry)

    def retry(self) -> None:
        """Repeat the change that could not be saved (the form's handler shows what happens)."""
        action, self._retry = self._retry, None
        if action is not None:
            action()


# ------------------------------------------------------------------------------------- KPI workshop

CANDIDATE_FIELDS: tuple[tuple[str, str, str], ...] = (
    # (field, label, kind) — kind: text | number | choice:<options> | outcome
    ("name", "Name", "text"),
    ("outcome", "For outcome", "outcome"),
    ("kind", "Kind", "choice:leading,lagging"),
    ("measurement", "How it is measured", "text"),
    ("frequency", "How often", "choice:" + ",".join(kpis.FREQUENCIES)),
    ("lead_time_months", "Lead time (months)", "number"),
    ("owner", "Owner", "text"),
    ("source", "Data from", "text"),
    ("approvals", "Approvals needed (comma-separated)", "text"),
    ("effort", "Effort to collect", "choice:low,medium,high"),
    ("unit", "Unit", "text"),
    ("direction", "Direction", "choice:increase,decrease"),
    ("baseline", "Baseline", "number"),
    ("target", "Target", "number"),
    ("confidence", "Moves with the outcome (1-5)", "choice:1,2,3,4,5"),
)


class _StatusForm:
    """A form with one status line: what :func:`shown_errors` calls to show a failure."""

    status: _Messages

    def show_error(self, exc: BaseException, *, retry: Callable[[], Any] | None = None) -> None:
        self.status.show_error(exc, retry=retry)


class KpiWorkshopForm(_StatusForm):
    """Candidates, weights, shortlist and register for one engagement."""

    def __init__(
        self,
        engagement_id: str,
        *,
        draw: Callable[[Engagement, kpis.Workshop], tuple[Html, Html]],
        db: str | None = None,
        author: str | None = None,
    ) -> None:
        w = ipywidgets()
        # The page draws the ranking and the register (forms sit below pages and never import one).
        self.engagement_id, self.db, self.draw = engagement_id, db, draw
        self.saver = AnswerSaver(db=db, engagement_id=engagement_id, workbook=kpis.WORKBOOK, author=author)
        self.status = _Messages()
        self._quiet = False
        self._load()

        # 1. candidates
        self.picker = w.Dropdown(
            description="Edit",
            options=self._picker_options(),
            value="",
            style={"description_width": "60px"},
            layout=w.Layout(width="460px"),
        )
        self.picker.observe(lambda ch: self.edit(ch["new"]), names="value")
        self.inputs: dict[str, Any] = {}
        rows = []
        for name, label, kind in CANDIDATE_FIELDS:
            if kind == "outcome":
                box = w.Dropdown(
                    options=[("", "")] + [(o.description or o.id, o.id) for o in self.engagement.outcomes],
                    value="",
                    layout=w.Layout(width="460px"),
                )
            elif kind.startswith("choice:"):
                box = w.Dropdown(
                    options=[("", "")] + [(o, o) for o in kind[7:].split(",")], value="", layout=w.Layout(width="220px")
                )
            else:
                box = w.Text(continuous_update=False, layout=w.Layout(width="460px" if kind == "text" else "160px"))
            self.inputs[name] = box
            rows.append(
                w.HBox([w.HTML(str(Html('<span style="display:inline-block;width:250px">{}</span>').format(label))), box])
            )
        self.save_button = w.Button(description="Save candidate", button_style="primary")
        self.save_button.on_click(lambda _: self.save_candidate(self.typed()))
        self.remove_button = w.Button(description="Remove candidate")
        self.remove_button.on_click(lambda _: self.remove_candidate(self.picker.value))
        candidates_tab = w.VBox([self.picker, *rows, w.HBox([self.save_button, self.remove_button])])

        # 2. scoring
        self.sliders: dict[str, Any] = {}
        slider_rows = []
        for c in kpis.CRITERIA:
            slider = w.IntSlider(
                value=self.state.weights[c.id],
                min=0,
                max=kpis.MAX_WEIGHT,
                description=c.label,
                continuous_update=False,
                style={"description_width": "190px"},
                layout=w.Layout(width="460px"),
            )
            slider.observe(lambda ch, cid=c.id: None if self._quiet else self.set_weight(cid, ch["new"]), names="value")
            self.sliders[c.id] = slider
            slider_rows.append(
                w.HBox([slider, w.HTML(str(Html('<span style="font-size:13px;color:#5b6672">{}</span>').format(c.how)))])
            )
        self.ranking_html = w.HTML()
        scoring_tab = w.VBox([*slider_rows, self.ranking_html])

        # 3. shortlist and register
        self.shortlist_boxes: dict[str, Any] = {}
        self.shortlist_area = w.VBox()
        self.adopt_button = w.Button(
            description="Put the shortlist in the KPI register", button_style="success", layout=w.Layout(width="auto")
        )
        self.adopt_button.on_click(lambda _: self.adopt_shortlist())
        self.register_html = w.HTML()
        shortlist_tab = w.VBox([self.shortlist_area, self.adopt_button, self.register_html])

        self.tabs = w.Tab(
            children=[candidates_tab, scoring_tab, shortlist_tab],
            titles=["1. Candidates", "2. Scoring and ranking", "3. Shortlist and register"],
        )
        heading = Html('<div style="font-size:15px;color:#5b6672">KPI workshop · {} · changes save as you go</div>').format(
            self.engagement.title
        )
        self.widget = w.VBox([w.HTML(str(heading)), self.tabs, self.status.box])
        self.widget.add_class("csm-kpi-workshop")
        self.widget.add_class(FORM_CLASS)
        self.refresh()

    # -- state --------------------------------------------------------------------------
    def _load(self) -> None:
        with Store(self.db or None) as store:
            self.engagement = store.load(self.engagement_id)
        self.saved = self.saver.load()
        self.state = self._state()

    def _answers(self) -> dict[str, Any]:
        return {k: a.value for k, a in self.saved.items()}

    def _state(self) -> kpis.Workshop:
        e = self.engagement
        return kpis.workshop_state(e.outcomes, e.kpis, self._answers())

    def _save(self, key: str, value: Any, *, retry: Callable[[], Any]) -> bool:
        """Save one answer; a conflict is shown and the form reloads what is saved; a busy store offers Retry."""
        current = self.saved.get(key)
        self.status.say("Saving…", "info")
        try:
            answer = self.saver.save(key, value, expected_revision=current.revision if current else 0)
        except ConflictError as exc:
            self.status.say(f"Not saved: {exc}", "warn")
            self._load()
            self.refresh()
            return False
        except CsmError as exc:
            self.show_error(exc, retry=retry)
            return False
        self.saved[key] = answer
        return True

    def message(self) -> str:
        return self.status.message

    # -- candidates ---------------------------------------------------------------------------
    def _picker_options(self) -> list[tuple[str, str]]:
        return [("New candidate", "")] + [(f"{c.name} ({c.kind})", c.id) for c in self.state.candidates]

    def typed(self) -> dict[str, Any]:
        """What the candidate boxes hold, as a raw candidate answer (numbers still text)."""
        out = {name: box.value for name, box in self.inputs.items() if box.value not in ("", None)}
        if self.picker.value:
            out["id"] = self.picker.value
        return out

    @shown_errors
    def edit(self, candidate_id: str) -> None:
        """Fill the boxes with a saved candidate ('' clears them for a new one)."""
        c = next((c for c in self.state.candidates if c.id == candidate_id), None)
        values = c.answer() if c else {}
        for name, box in self.inputs.items():
            v = values.get(name)
            if name == "approvals" and v:
                v = ", ".join(v)
            if name == "confidence" and v is not None:
                v = str(v)
            box.value = "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))

    @shown_errors
    def save_candidate(self, raw: Mapping[str, Any]) -> kpis.Candidate | None:
        """Check and save a candidate (one answer ``candidate.<id>``); the reason is shown if it is refused."""
        value: dict[str, Any] = {}
        try:
            for name, text in raw.items():
                if name in ("lead_time_months", "baseline", "target"):
                    label = {f: lab for f, lab, _ in CANDIDATE_FIELDS}[name]
                    value[name] = _number(text, label)
                elif name == "confidence":
                    value[name] = int(text) if text not in ("", None) else None
                elif name == "approvals" and isinstance(text, str):
                    value[name] = [a.strip() for a in text.split(",") if a.strip()]
                else:
                    value[name] = text
            value = {k: v for k, v in value.items() if v not in (None, "", [])}
            cid = value.get("id") or kpis.slug(str(value.get("name") or ""))
            candidate = kpis.candidate_from_answer(
                kpis.CANDIDATE_PREFIX + cid, value, outcomes=[o.id for o in self.engagement.outcomes]
            )
        except InputError as exc:
            self.status.say(f"Not saved: {exc}", "bad")
            return None
        if self._save(kpis.CANDIDATE_PREFIX + candidate.id, candidate.answer(), retry=lambda: self.save_candidate(raw)):
            self.status.say(f"Saved {candidate.name}.", "good")
            self.refresh(select=candidate.id)
            return candidate
        return None

    @shown_errors
    def remove_candidate(self, candidate_id: str) -> None:
        if not candidate_id:
            self.status.say("Choose a candidate to remove first.", "bad")
            return

        def again() -> None:
            self.remove_candidate(candidate_id)

        if self._save(kpis.CANDIDATE_PREFIX + candidate_id, None, retry=again):
            if candidate_id in self.state.shortlist and not self._save(
                "shortlist", [c for c in self.state.shortlist if c != candidate_id], retry=again
            ):
                return
            self.status.say(f"Removed {candidate_id}.", "good")
            self.refresh(select="")

    # -- weights ----------------------------------------------------------------------------------
    @shown_errors
    def set_weight(self, criterion: str, weight: int) -> None:
        """Change one weight; the ranking redraws and the weights are saved."""
        weights = dict(self.state.weights)
        weights[criterion] = weight
        try:
            kpis.weights_from_answer(weights)
        except InputError as exc:
            self.status.say(f"Not saved: {exc}", "bad")
            self._set_sliders(self.state.weights)
            return
        if self._save("weights", weights, retry=lambda: self.set_weight(criterion, weight)):
            self.status.say(f"Weight of “{kpis.CRITERIA_BY_ID[criterion].label}” set to {weight}.", "good")
            self.refresh()

    def _set_sliders(self, weights: Mapping[str, int]) -> None:
        quiet, self._quiet = self._quiet, True  # a redraw is not a person moving a slider
        try:
            for cid, slider in self.sliders.items():
                slider.value = weights[cid]
        finally:
            self._quiet = quiet

    # -- shortlist ---------------------------------------------------------------------------------
    @shown_errors
    def set_shortlist(self, ids: list[str]) -> None:
        try:
            chosen = kpis.shortlist_from_answer(list(ids), self.state.candidates)
        except InputError as exc:
            self.status.say(f"Not saved: {exc}", "bad")
            return
        if self._save("shortlist", chosen, retry=lambda: self.set_shortlist(ids)):
            n = len(chosen)
            hint = (
                "" if kpis.SHORTLIST_MIN <= n <= kpis.SHORTLIST_MAX else f" (choose {kpis.SHORTLIST_MIN} to {kpis.SHORTLIST_MAX})"
            )
            self.status.say(f"Shortlist: {n} KPI{'s' * (n != 1)}{hint}.", "good" if not hint else "warn")
            self.refresh()

    @shown_errors
    def _toggle(self, candidate_id: str, on: bool) -> None:
        if self._quiet:
            return
        chosen = [c for c in self.state.shortlist if c != candidate_id] + ([candidate_id] if on else [])
        self.set_shortlist(chosen)

    @shown_errors
    def adopt_shortlist(self) -> bool:
        """Put the shortlisted candidates in the KPI register (the engagement's KPIs), refusing a stale copy."""
        try:
            with Store(self.db or None) as store:
                fresh = store.load(self.engagement_id)
                answers = (fresh.workshop or {}).get(kpis.WORKBOOK, {})
                state = kpis.workshop_state(fresh.outcomes, fresh.kpis, answers)
                fresh.kpis = kpis.register_from_shortlist(fresh.kpis, state.candidates, state.shortlist)
                store.save(
                    fresh,
                    expected_revision=fresh.revision,
                    author=self.saver.author,
                    summary=f"KPI register from the workshop shortlist: {', '.join(state.shortlist)}",
                )
        except CsmError as exc:
            self.status.say(
                not_saved_message(exc, prefix="Not put in the register", then="press Retry"), "bad", retry=self.adopt_shortlist
            )
            return False
        self._load()  # saving the engagement renumbers answer revisions: start from what is stored
        self.status.say(f"The KPI register now holds {len(self.engagement.kpis)} KPIs.", "good")
        self.refresh()
        return True

    # -- drawing ------------------------------------------------------------------------------------
    def refresh(self, *, select: str | None = None) -> None:
        """Recompute the ranking, the shortlist boxes and the register from what is saved."""
        w = ipywidgets()
        try:
            self.state = self._state()
        except InputError as exc:
            self.status.say(f"A saved answer needs fixing: {exc}", "bad")
            return
        quiet, self._quiet = self._quiet, True
        try:
            self.picker.options = self._picker_options()
            if select is not None:
                self.picker.value = select if select in {v for _, v in self.picker.options} else ""
            self._set_sliders(self.state.weights)
            boxes = []
            for c in self.state.candidates:
                box = self.shortlist_boxes.get(c.id) or w.Checkbox(
                    description=f"{c.name} ({c.kind})", indent=False, layout=w.Layout(width="auto")
                )
                if c.id not in self.shortlist_boxes:
                    box.observe(lambda ch, cid=c.id: self._toggle(cid, ch["new"]), names="value")
                box.value = c.id in self.state.shortlist
                self.shortlist_boxes[c.id] = box
                boxes.append(box)
            self.shortlist_area.children = boxes
        finally:
            self._quiet = quiet
        engagement = dataclasses.replace(self.engagement, workshop={kpis.WORKBOOK: self._answers()})
        ranking, register = self.draw(engagement, self.state)
        self.ranking_html.value, self.register_html.value = str(ranking), str(register)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        self.saver.close()


# ------------------------------------------------------------------------------------- linkage


class LinkageForm(_StatusForm):
    """One financial link: factors and accuracies in boxes, the figures and tornado recomputed live.

    Each valid change is saved at once as a draft (answer ``link.<id>`` of the
    ``financial_linkage`` workbook); "Agree the chain" writes it into the
    engagement's ``financial_links``. A draft left by a closed session is
    picked up when the form opens again.
    """

    WORKBOOK = "financial_linkage"

    def __init__(
        self,
        engagement_id: str,
        link_id: str = "",
        *,
        draw: Callable[[Engagement, linkage.LinkSummary, float], Html],
        db: str | None = None,
        gap_fraction: float = 0.5,
        author: str | None = None,
    ) -> None:
        w = ipywidgets()
        # The page draws the verdict and figures (forms sit below pages and never import one).
        self.engagement_id, self.db, self.gap_fraction, self.draw = engagement_id, db, gap_fraction, draw
        self.saver = AnswerSaver(db=db, engagement_id=engagement_id, workbook=self.WORKBOOK, author=author)
        self.status = _Messages()
        with Store.existing(db or None) as store:
            self.engagement = store.load(engagement_id)
        links = self.engagement.financial_links or []
        if not links:
            raise InputError(f"engagement {engagement_id!r} has no financial link yet; add one to the engagement file")
        raw = next((x for x in links if x.get("id") == link_id), None) if link_id else links[0]
        if raw is None:
            raise InputError(f"no financial link {link_id!r}; the links are {', '.join(str(x.get('id')) for x in links)}")
        self.original = copy.deepcopy(raw)
        self.key = f"link.{raw['id']}"
        saved = self.saver.load().get(self.key)
        self.revision = saved.revision if saved else 0
        self.link = copy.deepcopy(saved.value) if saved and saved.value and saved.value != raw else copy.deepcopy(raw)
        self.kpi = self.engagement.kpi(self.link.get("kpi")) if self.link.get("kpi") else None
        self.summary: linkage.LinkSummary | None = None

        self.boxes: dict[tuple[Any, ...], Any] = {}
        rows = []
        for i, step in enumerate(self.link.get("steps", [])):
            kind = step.get("kind") or "multiply"
            title = Html("<b>Step {}</b> {}").format(i + 1, step.get("description") or "")
            parts = [w.HTML(str(title), layout=w.Layout(width="330px"))]
            factor_label = "%" if kind in ("percent", "margin") else "×"
            shown = step["factor"] * 100 if kind in ("percent", "margin") else step["factor"]
            parts.append(self._box(("steps", i, "factor"), f"{factor_label}", shown))
            if kind == "percent":
                parts.append(self._box(("steps", i, "baseline"), "of", step.get("baseline")))
            parts.append(
                self._box(("steps", i, "accuracy"), "± %", None if step.get("accuracy") is None else step["accuracy"] * 100)
            )
            rows.append(w.HBox(parts))
        if self.link.get("gap"):
            gap = self.link["gap"]
            rows.append(
                w.HBox(
                    [
                        w.HTML("<b>Gap</b>", layout=w.Layout(width="330px")),
                        self._box(("gap", "run_rate"), "run rate", gap.get("run_rate")),
                        self._box(("gap", "target_per_year"), "target a year", gap.get("target_per_year")),
                    ]
                )
            )
        self.output = w.HTML()
        self.agree_button = w.Button(
            description="Agree the chain",
            button_style="success",
            tooltip="Write these factors into the engagement's financial links",
        )
        self.agree_button.on_click(lambda _: self.agree())
        heading = Html(
            '<div style="font-size:15px;color:#5b6672">Financial link {} · {} · changes save as a draft as you go</div>'
        ).format(raw["id"], self.engagement.title)
        self.widget = w.VBox([w.HTML(str(heading)), *rows, self.agree_button, self.status.box, self.output])
        self.widget.add_class("csm-linkage")
        self.widget.add_class(FORM_CLASS)
        if saved and saved.value and saved.value != raw:
            self.status.say(
                f"A draft saved by {saved.updated_by} at {saved.updated_at} was restored; "
                "“Agree the chain” makes it the agreed one.",
                "info",
            )
        self.recompute(save=False)

    def _box(self, path: tuple[Any, ...], label: str, value: Any) -> Any:
        w = ipywidgets()
        box = w.Text(
            value="" if value is None else f"{value:g}",
            description=label,
            continuous_update=False,
            style={"description_width": "initial"},
            layout=w.Layout(width="170px"),
        )
        box.observe(lambda ch, p=path: self.set_value(p, ch["new"]), names="value")
        self.boxes[path] = box
        return box

    def message(self) -> str:
        return self.status.message

    # -- editing ---------------------------------------------------------------------------------

    def set_factor(self, step: int, text: Any) -> None:
        """Type a factor for step ``step`` (1-based); percent and margin steps take percentages (5 for 5 %)."""
        self.set_value(("steps", step - 1, "factor"), text)

    @shown_errors
    def set_value(self, path: tuple[Any, ...], text: Any) -> None:
        """Type a value at ``path`` (e.g. ('steps', 0, 'accuracy') or ('gap', 'run_rate')); recompute; save a draft."""
        where = self._label(path)
        try:
            value = _number(text, where)
        except InputError as exc:
            self.status.say(f"Not saved: {exc}", "bad")
            return
        if value is not None and path[0] == "steps" and (path[2] == "accuracy" or self._is_percent(path)):
            value = value / 100  # typed as a percentage
        target: Any = self.link
        for part in path[:-1]:
            target = target[part]
        before = target.get(path[-1])
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        if not self._check_and_draw():  # refused: the chain goes back to what it was
            if before is None:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = before
            return
        self._save_draft()  # a busy store keeps the change here for Retry

    def _is_percent(self, path: tuple[Any, ...]) -> bool:
        step = self.link["steps"][path[1]]
        return path[2] == "factor" and (step.get("kind") or "multiply") in ("percent", "margin")

    def _label(self, path: tuple[Any, ...]) -> str:
        if path[0] == "steps":
            return f"step {path[1] + 1} {path[2]}"
        return f"gap {path[1]}"

    def recompute(self, *, save: bool) -> bool:
        """Check the chain, redraw the figures and, when ``save``, save the draft. False if refused or not saved."""
        return self._check_and_draw() and (not save or self._save_draft())

    def _check_and_draw(self) -> bool:
        try:
            link = linkage.parse_link(self.link, kpi=self.kpi, currency=self.engagement.currency)
            self.summary = linkage.summarise(link, kpi=self.kpi, gap_fraction=self.gap_fraction)
        except InputError as exc:
            self.status.say(f"Not saved: {exc}", "bad")
            return False
        self.output.value = str(self.draw(self.engagement, self.summary, self.gap_fraction))
        return True

    @shown_errors
    def _save_draft(self) -> bool:
        """Save the chain as it is now as the draft; "Draft saved." only once it is read back."""
        self.status.say("Saving…", "info")
        try:
            answer = self.saver.save(self.key, copy.deepcopy(self.link), expected_revision=self.revision)
        except ConflictError as exc:
            self.status.say(f"Not saved: {exc}", "warn")
            return False
        except CsmError as exc:
            self.show_error(exc, retry=self._save_draft)
            return False
        self.revision = answer.revision
        self.status.say("Draft saved.", "good")
        return True

    @shown_errors
    def agree(self) -> bool:
        """Write the chain into the engagement's financial links, unless someone changed that link meanwhile."""
        try:
            with Store(self.db or None) as store:
                fresh = store.load(self.engagement_id)
                links = list(fresh.financial_links or [])
                index = next((i for i, x in enumerate(links) if x.get("id") == self.original["id"]), None)
                if index is None or links[index] != self.original:
                    raise ConflictError(
                        f"financial link {self.original['id']!r} was changed or removed by {fresh.updated_by} at "
                        f"{fresh.updated_at} after this form opened it; your chain was not written. Reopen the form"
                    )
                links[index] = copy.deepcopy(self.link)
                fresh.financial_links = links
                store.save(
                    fresh,
                    expected_revision=fresh.revision,
                    author=self.saver.author,
                    summary=f"financial link {self.original['id']!r} agreed in the workshop",
                )
        except CsmError as exc:
            again = None if isinstance(exc, ConflictError) else self.agree  # a conflict needs the form reopened
            self.status.say(
                not_saved_message(exc, prefix="Not written", then="press Retry" if again else "reopen the form"),
                "bad",
                retry=again,
            )
            return False
        self.original = copy.deepcopy(self.link)
        saved = self.saver.load().get(self.key)  # saving the engagement renumbers answer revisions
        self.revision = saved.revision if saved else 0
        self.status.say("The chain is agreed and saved in the engagement.", "good")
        return True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        self.saver.close()
