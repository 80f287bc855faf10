"""The customer-jobs workshop (ipywidgets): the stages' questions as guidance, and the jobs' fields,
saved as they are typed.

Above the report, for a person in JupyterLab or the workshop app (:class:`JobsForms`):

* **Guidance**: one tab a stage of the ``customer_jobs`` question bank (the job, its steps, how each
  step is judged, rating, the read-back), each question with why it is asked and what a good answer
  holds; the step names most jobs share are offered as hints; the last tab reads the job map back
  (:func:`csm_nb.method.jobs.read_back`) and records whether the room agrees (a workshop answer, saved
  by :class:`csm_nb.forms.widgets.FieldWidget` as every workshop answer is).
* **The jobs**: for each job its statement, executor and kind; its steps (name, order, interactions
  with the customer's own people, with us and with other parties); each step's desired outcomes
  (statement, direction, unit) and their ratings (importance and satisfaction, 0 to 10). "Add a job",
  "Add a step" and "Add a desired outcome" add empty rows.

**Autosave.** Each change (on Enter or when the cursor leaves a box, or a choice picked) saves the
whole ``jobs`` part through ``Store.set_part(engagement_id, "jobs", value, expected_revision=...)``,
reads it back, and only then shows "✓ saved"; the report's parts below are redrawn from the store. A
row still without its text (a job without a statement, a step without a name, a desired outcome
without a statement) waits and is not saved yet; the mark says so. A wrong value is refused with
"Not saved: ..." and nothing is written: a rating outside 0-10 or a count that is not a whole number
is refused at the box (and not kept), a job with no step is refused by the engagement file's rules
(and kept in the form until it has one). When somebody else changed the jobs since this form last
saved, nothing is saved and Retry saves these over theirs; a save of another part of the engagement
meanwhile is no conflict. A store held by another program is waited for ``SAVE_WAIT_SECONDS``, then
"Not saved: the store is busy" with Retry. Every handler runs through
:func:`csm_nb.forms.widgets.shown_errors`.

Ids are made once from the text first typed (``plan-the-day-s-visits``) and never change after, so
the pulse and the KPIs can name a desired outcome.

Nothing here needs a browser: tests call ``add_job``, ``add_step``, ``add_outcome`` and ``set`` (what
the clicks and typing do) and read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.data.questions import load_bank
from csm_nb.errors import ConflictError, InputError, StoreBusyError, StoreError
from csm_nb.forms.plan_log import KEPT, LiveForms, SaveMark, parse_number
from csm_nb.forms.widgets import AnswerSaver, FieldWidget, ipywidgets, not_saved_message, shown_errors
from csm_nb.method import jobs as jm
from csm_nb.model import Engagement
from csm_nb.render.html import Html, join
from csm_nb.vocabulary import JOB_KINDS, OUTCOME_DIRECTIONS, RATING_SCALE, TONE_COLOURS, plural

WORKBOOK = "customer_jobs"
GREY = "#5b6672"
OVERWRITE = "press Retry to save yours over theirs"
# The fields of each row: (key, label, kind, width); kind text | count | rating | order | kind | direction.
JOB_FIELDS = (
    ("statement", "The job", "text", "520px"),
    ("executor", "Done by", "text", "300px"),
    ("kind", "Kind", "kind", "300px"),
)
STEP_FIELDS = (
    ("name", "Step", "text", "360px"),
    ("order", "Order", "order", "120px"),
    ("customer", "Own people", "count", "120px"),
    ("us", "Us", "count", "120px"),
    ("other", "Others", "count", "120px"),
)
OUTCOME_FIELDS = (
    ("statement", "Desired outcome", "text", "420px"),
    ("direction", "Direction", "direction", "180px"),
    ("unit", "Unit", "text", "160px"),
    ("importance", "Importance", "rating", "120px"),
    ("satisfaction", "Satisfaction", "rating", "120px"),
)
_REQUIRED_TEXT = {"job": "statement", "step": "name", "outcome": "statement"}


def slug(text: str, *, taken: set[str], fallback: str) -> str:
    """An id made from the first words of ``text``, not one of ``taken`` (a number is added when it is).

    >>> slug("Plan the day's visits", taken=set(), fallback="step")
    'plan-the-day-s-visits'
    >>> slug("Plan the day's visits", taken={"plan-the-day-s-visits"}, fallback="step")
    'plan-the-day-s-visits-2'
    >>> slug("  ", taken={"step-1"}, fallback="step")
    'step-2'
    """
    words = re.findall(r"[a-z0-9]+", text.lower())[:6]
    base = "-".join(words)[:40].strip("-") or fallback
    found, n = base, 1
    if base == fallback:
        found = f"{fallback}-1"
    while found in taken:
        n += 1
        found = f"{base}-{n}"
    return found


def parse_field(kind: str, raw: Any, label: str) -> Any:
    """What a person typed in one box as the value the jobs hold; ``InputError`` names ``label``.

    >>> parse_field("rating", "7,5", "Importance"), parse_field("count", "6", "Others"), parse_field("text", "  ", "Unit")
    (7.5, 6, None)
    >>> parse_field("rating", "11", "Satisfaction")
    Traceback (most recent call last):
    csm_nb.errors.InputError: Satisfaction: expected a rating from 0 to 10; you typed 11
    """
    if kind in ("text", "kind", "direction"):
        text = " ".join(str(raw or "").split())
        if kind == "kind" and text and text not in JOB_KINDS:
            raise InputError(f"{label}: choose one of {', '.join(JOB_KINDS)}")
        if kind == "direction" and text and text not in OUTCOME_DIRECTIONS:
            raise InputError(f"{label}: choose {' or '.join(OUTCOME_DIRECTIONS)}")
        return text or None
    number = parse_number(raw, label)
    if number is None:
        return None
    shown = str(raw).strip()
    if kind == "rating":
        if not jm.rating_in_scale(number):
            raise InputError(f"{label}: expected a rating from {RATING_SCALE[0]} to {RATING_SCALE[1]}; you typed {shown}")
        return number
    if not float(number).is_integer() or number < 0:
        what = "an order such as 1, 2, 3" if kind == "order" else "a count of interactions, a whole number from 0"
        raise InputError(f"{label}: expected {what}; you typed {shown}")
    return int(number)


def saved_value(draft: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The jobs to save from the form's rows: rows without their text wait (left out, and counted); empty
    fields and all-empty interaction counts left out. Returns (jobs, rows waiting)."""
    waiting = 0
    out: list[dict[str, Any]] = []
    for job in draft:
        if not job.get("statement"):
            waiting += 1
            continue
        steps = []
        for step in job.get("steps") or []:
            if not step.get("name"):
                waiting += 1
                continue
            outcomes = []
            for o in step.get("desired_outcomes") or []:
                if not o.get("statement"):
                    waiting += 1
                    continue
                outcomes.append({k: v for k, v in o.items() if v is not None})
            counts = {k: v for k, v in (step.get("parties") or {}).items() if v is not None}
            row = {k: v for k, v in step.items() if v is not None and k not in ("parties", "desired_outcomes")}
            if counts:
                row["parties"] = counts
            if outcomes:
                row["desired_outcomes"] = outcomes
            steps.append(row)
        row = {k: v for k, v in job.items() if v is not None and k != "steps"}
        row["steps"] = steps
        out.append(row)
    return out, waiting


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


class JobsForms(LiveForms):
    """The workshop for one engagement's jobs, above its report, saving each change as it is made."""

    def __init__(
        self,
        engagement: Engagement,
        *,
        db: str | None = None,
        author: str | None = None,
        today: dt.date | None = None,
        on_saved: Callable[[], Any] | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        w = ipywidgets()
        self.bank = load_bank(WORKBOOK)
        self.draft: list[dict[str, Any]] = copy.deepcopy(engagement.jobs or [])
        self.seen: list[dict[str, Any]] | None = copy.deepcopy(engagement.jobs) or None  # the jobs as last read or saved
        self.revision = engagement.revision
        self.boxes: dict[str, Any] = {}  # "job.0.step.1.outcome.0.importance" -> its input
        self._overwrite = False  # Retry after a conflict saves these jobs over the other person's
        self._quiet = False
        self.mark = SaveMark("jobs", self.retry)
        self.answers = AnswerSaver(db=db, engagement_id=engagement.id, workbook=WORKBOOK, author=self.author, wait=wait)
        saved = self.answers.load()
        read_back_question = self.bank.question("job_map_read_back")
        self.answer_fields = [
            FieldWidget(f, f.key, saver=self.answers, answer=saved.get(f.key), today=self.today)
            for f in read_back_question.fields
        ]
        self.read_back_text = w.HTML()
        self.guidance = self._guidance()
        self.rows = w.VBox()
        self.add_job_button = w.Button(description="Add a job", tooltip="A new job: type its statement first")
        self.add_job_button.add_class("csm-add-job")
        self.add_job_button.on_click(lambda _: self.add_job())
        heading = w.HTML(
            str(
                Html('<div style="font-size:17px;font-weight:600;margin:10px 0 4px">{}</div>').format(
                    "The jobs, their steps and how each step is judged"
                )
            )
        )
        self.editor = w.VBox([heading, self.rows, w.HBox([self.add_job_button, self.mark.box])])
        self.editor.add_class("csm-jobs-editor")
        self.frame(
            [w.VBox([self.guidance, self.editor])],
            saving="each change is saved as you type; the ranking below follows",
            css_class="csm-customer-jobs",
        )
        self.rebuild()
        self._read_back()

    # -- state, as tests and the browser read it ---------------------------------------------------------
    @property
    def state(self) -> str:
        return self.mark.state

    @property
    def message(self) -> str:
        return self.mark.message

    # -- guidance ----------------------------------------------------------------------------------------
    def _guidance(self) -> Any:
        w = ipywidgets()
        pages = []
        for number in self.bank.stages:
            cards = [self._card(q) for q in self.bank.stage(number)]
            if number == 2:
                hint = "; ".join(f"<b>{name}</b> ({words})" for name, words in jm.UNIVERSAL_STEPS.items())
                cards.append(
                    w.HTML(
                        '<div style="font-size:14px;color:#3d4650;margin:6px 0">Steps most jobs share, from the job-map '
                        f"literature (Ulwick and Bettencourt): {hint}.</div>"
                    )
                )
            if number == len(self.bank.stages):
                cards += [self.read_back_text, *(fw.box for fw in self.answer_fields)]
            pages.append(w.VBox(cards))
        tabs = w.Tab(children=pages, titles=[f"{n}. {t}" for n, t in self.bank.stages.items()])
        tabs.add_class("csm-jobs-guidance")
        return tabs

    @staticmethod
    def _card(question: Any) -> Any:
        follow = (
            Html('<div style="color:{}">Follow-ups: {}</div>').format(GREY, " · ".join(question.follow_ups))
            if question.follow_ups
            else Html("")
        )
        html = Html(
            '<div class="csm-q-{}" style="border:1px solid #d9dee4;padding:6px 10px;margin:4px 0">'
            '<span style="font-size:12px;text-transform:uppercase;color:{}">{}</span> '
            '<span style="font-size:16px;font-weight:600">{}</span>'
            '<div style="font-size:14px;color:#3d4650"><b>Why we ask:</b> {}<br><b>A good answer:</b> {}</div>{}</div>'
        ).format(
            question.id,
            TONE_COLOURS["info"],
            question.type_label,
            question.prompt,
            question.purpose,
            question.good_answer,
            follow,
        )
        return ipywidgets().HTML(str(html))

    def _read_back(self) -> None:
        jobs, _ = saved_value(self.draft)
        lines = [Html("<li><i>“{}”</i></li>").format(jm.read_back(j)) for j in jobs]
        body = (
            Html("<ul>") + join(lines) + Html("</ul>")
            if lines
            else Html("<p><i>{}</i></p>").format("Appears once a job has a step.")
        )
        self.read_back_text.value = str(Html('<div class="csm-read-back">{}</div>').format(body))

    # -- the rows ----------------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Draw the rows again from the draft (after a row is added)."""
        w = ipywidgets()
        self.boxes = {}
        boxes = []
        for j, job in enumerate(self.draft):
            parts = [self._row(f"job.{j}", job, JOB_FIELDS)]
            for s, step in enumerate(job.get("steps") or []):
                parts.append(self._row(f"job.{j}.step.{s}", {**step, **(step.get("parties") or {})}, STEP_FIELDS, indent=24))
                for o, outcome in enumerate(step.get("desired_outcomes") or []):
                    parts.append(self._row(f"job.{j}.step.{s}.outcome.{o}", outcome, OUTCOME_FIELDS, indent=48))
                add = w.Button(description="Add a desired outcome", layout=w.Layout(width="auto", margin="0 0 0 48px"))
                add.add_class(f"csm-add-outcome-{j}-{s}")
                add.on_click(lambda _, j=j, s=s: self.add_outcome(j, s))
                parts.append(add)
            add_step = w.Button(description="Add a step", layout=w.Layout(width="auto", margin="0 0 0 24px"))
            add_step.add_class(f"csm-add-step-{j}")
            add_step.on_click(lambda _, j=j: self.add_step(j))
            parts.append(add_step)
            box = w.VBox(parts, layout=w.Layout(border="1px solid #d9dee4", padding="6px 10px", margin="4px 0"))
            box.add_class(f"csm-job-{j}")
            boxes.append(box)
        self.rows.children = boxes

    def _row(
        self, path: str, values: Mapping[str, Any], fields: tuple[tuple[str, str, str, str], ...], *, indent: int = 0
    ) -> Any:
        w = ipywidgets()
        inputs = []
        for key, label, kind, width in fields:
            value = values.get(key)
            layout = w.Layout(width=width)
            style = {"description_width": "initial"}
            if kind == "kind":
                box = w.Dropdown(
                    description=label,
                    options=[("(choose)", "")] + [(k, k) for k in JOB_KINDS],
                    value=value or "",
                    layout=layout,
                    style=style,
                )
            elif kind == "direction":
                box = w.Dropdown(
                    description=label,
                    options=[("(choose)", "")] + [(d, d) for d in OUTCOME_DIRECTIONS],
                    value=value or "",
                    layout=layout,
                    style=style,
                )
            else:
                shown = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
                box = w.Text(description=label, value=shown, continuous_update=False, layout=layout, style=style)
            name = f"{path}.{key}"
            box.add_class("csm-" + name.replace(".", "-"))
            box.observe(
                lambda change, name=name, kind=kind, label=label: self._edited(name, kind, label, change["new"]), names="value"
            )
            self.boxes[name] = box
            inputs.append(box)
        return w.HBox(inputs, layout=w.Layout(flex_flow="row wrap", margin=f"2px 0 2px {indent}px"))

    # -- what the person does ----------------------------------------------------------------------------
    def show_error(self, exc: BaseException) -> None:
        then = OVERWRITE if isinstance(exc, ConflictError) else KEPT
        self.mark.show("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc, then=then))

    @shown_errors
    def add_job(self) -> None:
        """A new empty job (saved once its statement is typed and it has a step)."""
        self.draft.append({"id": None, "statement": None, "steps": []})
        self.rebuild()

    @shown_errors
    def add_step(self, job: int) -> None:
        """A new empty step at the end of job ``job`` (its order the next number)."""
        steps = self.draft[job].setdefault("steps", [])
        orders = [s.get("order") for s in steps if isinstance(s.get("order"), int)]
        steps.append({"id": None, "name": None, "order": max(orders, default=0) + 1})
        self.rebuild()

    @shown_errors
    def add_outcome(self, job: int, step: int) -> None:
        """A new empty desired outcome of step ``step`` of job ``job``."""
        self.draft[job]["steps"][step].setdefault("desired_outcomes", []).append({"id": None, "statement": None})
        self.rebuild()

    def set(self, name: str, raw: Any) -> None:
        """Type ``raw`` into the box ``name`` ("job.0.step.1.outcome.0.satisfaction") and leave it, as a
        person does (tests call it); the same value again saves again."""
        if name not in self.boxes:
            raise KeyError(f"no box {name!r}; there are: {', '.join(self.boxes)}")
        box = self.boxes[name]
        raw = "" if raw is None else str(raw)
        if box.value == raw:
            kind, label = self._field(name)
            self._edited(name, kind, label, raw)
        else:
            box.value = raw

    def _field(self, name: str) -> tuple[str, str]:
        key = name.rsplit(".", 1)[1]
        level = "outcome" if ".outcome." in name else ("step" if ".step." in name else "job")
        fields = {"job": JOB_FIELDS, "step": STEP_FIELDS, "outcome": OUTCOME_FIELDS}[level]
        _, label, kind, _ = next(f for f in fields if f[0] == key)
        return kind, label

    def _target(self, name: str) -> tuple[dict[str, Any], str, str]:
        """The draft row a box edits, its level (job, step, outcome) and the key."""
        parts = name.split(".")
        row: dict[str, Any] = self.draft[int(parts[1])]
        level = "job"
        if len(parts) > 3:
            row, level = row["steps"][int(parts[3])], "step"
        if len(parts) > 5:
            row, level = row["desired_outcomes"][int(parts[5])], "outcome"
        return row, level, parts[-1]

    @shown_errors
    def _edited(self, name: str, kind: str, label: str, raw: Any) -> None:
        if self._quiet:
            return
        try:
            value = parse_field(kind, raw, label)
        except InputError as exc:
            self.mark.show("invalid", f"Not saved: {exc}")
            return
        row, level, key = self._target(name)
        if level == "step" and key in ("customer", "us", "other"):
            row.setdefault("parties", {})[key] = value
        else:
            row[key] = value
        if key == _REQUIRED_TEXT[level] and value and not row.get("id"):
            row["id"] = slug(value, taken=self._ids(level, name), fallback=level)
        self._save()

    def _ids(self, level: str, name: str) -> set[str]:
        """The ids a new row's id must differ from: jobs' among jobs, a step's within its job, desired
        outcomes' across every job (the pulse names one by its id alone)."""
        if level == "job":
            return {str(j.get("id")) for j in self.draft if j.get("id")}
        if level == "step":
            job = self.draft[int(name.split(".")[1])]
            return {str(s.get("id")) for s in job.get("steps") or [] if s.get("id")}
        return {
            str(o.get("id"))
            for j in self.draft
            for s in j.get("steps") or []
            for o in s.get("desired_outcomes") or []
            if o.get("id")
        }

    @shown_errors
    def retry(self) -> None:
        """Save again (after "the store is busy", a conflict or another problem)."""
        self._overwrite = True
        self._save()

    # -- saving --------------------------------------------------------------------------------------------
    def _save(self) -> int | None:
        """Save the whole jobs part, read it back, redraw; the new revision, or None when nothing was saved."""
        value, waiting = saved_value(self.draft)
        self.mark.show("saving")
        eid = self.engagement.id
        with self.lock:
            with self.store.transaction():
                fresh = self.store.load(eid)
                theirs = copy.deepcopy(fresh.jobs) or None
                if fresh.revision != self.revision and not _same(theirs, self.seen) and not self._overwrite:
                    raise ConflictError(
                        f"{fresh.updated_by or 'somebody'} changed the jobs since this form last saved (revision "
                        f"{self.revision}, now {fresh.revision})"
                    )
                try:
                    revision = self.store.set_part(
                        eid, "jobs", value or None, expected_revision=fresh.revision, author=self.author
                    )
                except InputError as exc:
                    self.mark.show("invalid", f"Not saved: {exc}")
                    return None
            back = self.store.load(eid)
        if back.revision != revision or not _same(back.jobs or None, value or None):
            raise StoreError(
                f"the jobs read back as revision {back.revision} with other content after saving; they may not be saved"
            )
        self._overwrite = False
        self.revision, self.seen, self.engagement = revision, copy.deepcopy(back.jobs) or None, back
        outcomes = jm.desired_outcomes(back.jobs or [])
        detail = (
            f"{plural(len(back.jobs or []), 'job')}, {plural(len(outcomes), 'desired outcome')} "
            f"({sum(o.opportunity is not None for o in outcomes)} rated) in revision {revision}."
        )
        if waiting:
            detail += f" {plural(waiting, 'row')} without its text yet, not saved until it has one."
        self.mark.show("saved", detail=detail)
        self._read_back()
        try:
            self.saved()
        except Exception as exc:  # the jobs are saved; only the report below could not be redrawn
            self.mark.show(
                "saved", f"✓ saved (the report below could not be redrawn: {type(exc).__name__}: {exc})", detail=detail
            )
        return revision

    def close(self) -> None:
        self.answers.close()
        super().close()
