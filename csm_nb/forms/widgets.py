"""Workshop forms (ipywidgets) shared by the workshop workbooks.

Every field saves itself the moment a value is complete (on Enter or when
the cursor leaves the box), in its own transaction, through
``Store.save_answer``; the state beside it says so:

==========  ======================================================================
state       shown as
==========  ======================================================================
empty       nothing yet
default     the engagement file's value, shown but not yet confirmed in the workshop
saving      "saving…": the save is waiting for the store (another program may hold it)
saved       "✓ saved": committed and read back from the file; it survives a closed
            browser or a killed kernel
invalid     the reason, e.g. "This year's target cannot be below 0; you typed -5" (nothing saved)
conflict    who changed it to what since this form read it (nothing saved), with "Show theirs"
busy        "Not saved: the store is busy (held by ...)"; the answer stays in the box and
            "Retry" saves it
error       any other problem, in one line (nothing saved), with "Retry"
==========  ======================================================================

A form waits ``SAVE_WAIT_SECONDS`` for a store another program is writing to,
then says so rather than keep the room waiting. Every widget handler runs
through :func:`shown_errors`, so even a bug shows "Not saved" beside the field
instead of reaching only the Jupyter log. The mark "✓ saved" is set only
after the answer has been read back from the file with the revision the save
gave it.

Nothing here needs a browser: tests build a form, call ``FieldWidget.set``
(what typing does) and read ``state``, ``message`` and the store. ipywidgets
is imported only when a form is built, so calculation modules stay light.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from csm_nb import config
from csm_nb.data.questions import (
    Bank,
    Field,
    Item,
    Question,
    is_answered,
    items,
    option_label,
)
from csm_nb.data.recent import remember_engagement
from csm_nb.data.store import Answer, Store, answer_json
from csm_nb.errors import (
    ConflictError,
    CsmError,
    InputError,
    StoreBusyError,
    StoreError,
)
from csm_nb.model import Engagement
from csm_nb.render.html import Html
from csm_nb.vocabulary import TONE_COLOURS

log = logging.getLogger(__name__)

# Long enough for another program's import to finish, short enough that a
# workshop is not left staring at "saving…"; the person can press Retry.
SAVE_WAIT_SECONDS = 5.0

# What each save state says beside the answer, and its colour (muted grey, or a tone's colour).
_STATE_STYLE = {
    "empty": ("", "#5b6672"),
    "default": ("from the engagement file", "#5b6672"),
    "saving": ("saving…", "#5b6672"),
    "saved": ("✓ saved", TONE_COLOURS["good"]),
    "invalid": ("", TONE_COLOURS["bad"]),
    "conflict": ("", TONE_COLOURS["warn"]),
    "busy": ("", TONE_COLOURS["bad"]),
    "error": ("", TONE_COLOURS["bad"]),
}
_RETRY_STATES = ("busy", "error")
KEPT = "your answer is kept here, press Retry"

H = TypeVar("H", bound=Callable[..., Any])


def not_saved_message(exc: BaseException, *, prefix: str = "Not saved", then: str = KEPT) -> str:
    """One line for the person at the form: what went wrong, that nothing was saved, and what to do."""
    if isinstance(exc, StoreBusyError):
        held = f"held by {', '.join(exc.holders)}" if exc.holders else "held by another program"
        return f"{prefix}: the store is busy ({held}); {then}"
    if isinstance(exc, CsmError):
        return f"{prefix}: {exc}; {then}"
    return (
        f"{prefix}: an unexpected problem ({type(exc).__name__}: {' '.join(str(exc).split())}); {then}. "
        "The details are in the Jupyter log"
    )


def shown_errors(handler: H) -> H:
    """Decorate a widget handler method so that any exception is shown, never only logged.

    ipywidgets logs an exception raised in a handler and carries on: the
    person would go on seeing the last "✓ saved" for a value that was not
    saved. The handler's object shows it with its ``show_error(exc)``.
    """

    @functools.wraps(handler)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except Exception as exc:  # shown beside the field, and logged with its traceback
            if not isinstance(exc, CsmError):
                log.exception("form handler %s failed", handler.__qualname__)
            self.show_error(exc)
            return None

    return guarded  # type: ignore[return-value]


def ipywidgets() -> Any:
    """ipywidgets, imported on first use (a headless report never needs it), as :class:`SharedWidgets`."""
    global _WIDGETS
    if _WIDGETS is None:
        import ipywidgets

        _WIDGETS = SharedWidgets(ipywidgets)
    return _WIDGETS


class SharedWidgets:
    """The ipywidgets module, except that widgets laid out or styled alike share one Layout or Style.

    Every widget otherwise brings a Layout and a Style model of its own: the
    outcome discovery form had 1,377 models, 840 of them layouts and styles,
    and each one is a message from the kernel and an object in the browser
    before the form shows. Sharing them cut the form to 528 models (the count is
    checked in ``tests/test_forms.py``). ``w.Layout(width="260px")`` returns the one
    layout with those settings; a widget built without a layout or style gets
    the shared empty one. So a layout or style is never changed in place:
    give the widget another one (``button.layout = w.Layout(display="none")``).
    """

    def __init__(self, module: Any) -> None:
        self._module = module
        self._shared: dict[tuple[Any, ...], Any] = {}
        self._factories: dict[str, Any] = {}

    def _one(self, cls: type, traits: Mapping[str, Any]) -> Any:
        key = (cls, tuple(sorted(traits.items())))
        if key not in self._shared:
            self._shared[key] = cls(**traits)
        return self._shared[key]

    def Layout(self, **traits: Any) -> Any:  # noqa: N802 - stands for ipywidgets.Layout
        return self._one(self._module.Layout, traits)

    def _build(self, cls: type, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("layout") is None:
            kwargs["layout"] = self.Layout()
        style = cls.class_traits().get("style")  # type: ignore[attr-defined]
        if style is not None and (kwargs.get("style") is None or isinstance(kwargs["style"], Mapping)):
            kwargs["style"] = self._one(style.klass, kwargs.get("style") or {})
        return cls(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._module, name)
        if isinstance(found, type) and issubclass(found, self._module.DOMWidget):
            if name not in self._factories:
                self._factories[name] = functools.partial(self._build, found)
            return self._factories[name]
        return found


_WIDGETS: SharedWidgets | None = None


class AnswerSaver:
    """Saves one workbook's answers for one engagement; one open store per form.

    The store gives each thread its own connection, so a save works on
    whichever thread the kernel delivers the widget message. Saves of one
    form are serialised (a form's revisions must follow on), and each is read
    back before it counts as saved.
    """

    def __init__(
        self, *, db: str | None, engagement_id: str, workbook: str, author: str | None = None, wait: float | None = None
    ) -> None:
        self.store = Store(db or None, busy_timeout=SAVE_WAIT_SECONDS if wait is None else wait)
        self.engagement_id, self.workbook = engagement_id, workbook
        self.author = author or config.author()
        self._lock = threading.Lock()

    def load(self) -> dict[str, Answer]:
        return self.store.answers(self.engagement_id, self.workbook)

    def save(self, key: str, value: Any, *, expected_revision: int) -> Answer:
        """Save and read back; ``StoreError`` unless the file now holds ``value`` at the new revision."""
        with self._lock:
            answer = self.store.save_answer(
                self.engagement_id, self.workbook, key, value, expected_revision=expected_revision, author=self.author
            )
            back = self.store.answer(self.engagement_id, self.workbook, key)
        where = f"answer {key!r}"
        if (
            back is None
            or back.revision != answer.revision
            or answer_json(back.value, where=where) != answer_json(value, where=where)
        ):
            found = "nothing" if back is None else f"{back.value!r} (revision {back.revision})"
            raise StoreError(f"{where} read back as {found} after saving {value!r}; it may not be saved")
        return back

    def close(self) -> None:
        self.store.close()


class FieldWidget:
    """One field: the input shaped for its kind, its label, and its saved state."""

    def __init__(
        self,
        field: Field,
        key: str,
        *,
        saver: AnswerSaver,
        answer: Answer | None = None,
        default: Any = None,
        on_saved: Callable[[FieldWidget], None] | None = None,
        today: dt.date | None = None,
    ) -> None:
        w = ipywidgets()
        self.field, self.key, self.saver, self.on_saved, self.today = field, key, saver, on_saved, today
        self.revision = answer.revision if answer else 0
        self.value: Any = answer.value if answer else None
        self.theirs: Answer | None = None
        self.pending: Any = None  # what was typed and is not saved yet (Retry saves it)
        self._quiet = False
        css = "csm-field-" + _css_name(key)
        self.input = self._make_input(w)
        self.input.add_class("csm-input")
        self.input.add_class(css)
        label_text = field.label + (f" ({field.unit})" if field.unit and field.kind == "number" else "")
        self.label = w.HTML(
            str(Html('<span class="csm-label">{}</span>').format(label_text)), layout=w.Layout(width="260px", min_width="200px")
        )
        self.status = w.HTML(layout=w.Layout(min_width="120px"))
        self.status.add_class("csm-status-" + _css_name(key))
        self.theirs_button = w.Button(
            description="Show theirs",
            layout=button_layout(shown=False),
            tooltip="Replace what you typed with the saved answer",
        )
        self.theirs_button.on_click(lambda _: self.take_theirs())
        self.retry_button = w.Button(
            description="Retry",
            button_style="warning",
            layout=button_layout(shown=False),
            tooltip="Save what is in the box again",
        )
        self.retry_button.add_class("csm-retry-" + _css_name(key))
        self.retry_button.on_click(lambda _: self.retry())
        self.box = w.HBox(
            [self.label, self.input, self.status, self.theirs_button, self.retry_button],
            layout=w.Layout(align_items="center", margin="2px 0"),
        )
        if answer is not None:
            self._show(answer.value)
            self._state("saved", "")
        elif is_answered(default):
            self._show(default)
            self._state("default", "")
        else:
            self._state("empty", "")
        self.input.observe(self._on_change, names="value")

    # -- building ----------------------------------------------------------
    def _make_input(self, w: Any) -> Any:
        f = self.field
        if f.kind == "choice":
            return w.ToggleButtons(options=[(option_label(o), o) for o in f.options], value=None, style={"button_width": "auto"})
        if f.kind == "date":
            return w.DatePicker(value=None, layout=w.Layout(width="180px"))
        if f.kind == "text" and f.long:
            return w.Textarea(placeholder=f.hint, continuous_update=False, layout=w.Layout(width="460px", height="64px"))
        width = "160px" if f.kind == "number" else "460px"
        return w.Text(placeholder=f.hint, continuous_update=False, layout=w.Layout(width=width))

    # -- what the widget shows ---------------------------------------------------
    def _show(self, value: Any) -> None:
        """Put a stored value in the input without saving it again."""
        self._quiet = True
        try:
            if self.field.kind == "choice":
                self.input.value = value if value in self.field.options else None
            elif self.field.kind == "date":
                self.input.value = dt.date.fromisoformat(value) if isinstance(value, str) and value else None
            elif self.field.kind == "number":
                self.input.value = "" if value is None else self.field.shown(value).removesuffix(self.field.unit).strip()
            else:
                self.input.value = "" if value is None else str(value)
        finally:
            self._quiet = False

    def _state(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        text, colour = _STATE_STYLE[state]
        shown = message or text
        self.status.value = str(
            Html('<span class="csm-state csm-state-{}" role="status" style="color:{};font-size:14px">{}</span>').format(
                state, colour, shown
            )
        )
        self.theirs_button.layout = button_layout(shown=state == "conflict")
        self.retry_button.layout = button_layout(shown=state in _RETRY_STATES)

    def show_error(self, exc: BaseException) -> None:
        self._state("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc))

    # -- saving ----------------------------------------------------------------
    @shown_errors
    def set(self, raw: Any) -> None:
        """Do what typing a value and leaving the box does (tests call this)."""
        if self.field.kind in ("number", "text") and raw is not None and not isinstance(raw, str):
            raw = str(raw)
        if self.field.kind == "date" and isinstance(raw, str):
            try:
                raw = dt.date.fromisoformat(raw)
            except ValueError:
                # A date picker cannot hold text; validate it as typed so the message is the same.
                self._save(raw)
                return
        before = self.input.value
        self.input.value = raw
        if self.input.value == before:  # no change event: save anyway so a retry after a conflict works
            self._save(raw)

    @shown_errors
    def _on_change(self, change: Mapping[str, Any]) -> None:
        if not self._quiet:
            self._save(change["new"])

    @shown_errors
    def retry(self) -> None:
        """Save again what the box holds (after "the store is busy" or another problem)."""
        self._save(self.pending if self.pending is not None else self.input.value)

    def _save(self, raw: Any) -> None:
        self.pending = raw
        try:
            value = self.field.parse(raw, today=self.today)
        except InputError as exc:
            self._state("invalid", f"Not saved: {exc}")
            return
        self._state("saving", "")  # seen while a busy store is waited for
        try:
            answer = self.saver.save(self.key, value, expected_revision=self.revision)
        except ConflictError as exc:
            self.theirs = self.saver.load().get(self.key)
            self._state("conflict", f"Not saved: {exc}")
            return
        self.pending = None
        self.value, self.revision = value, answer.revision
        self._state("saved" if value is not None else "empty", "" if value is not None else "cleared")
        if self.on_saved:
            try:
                self.on_saved(self)
            except Exception as exc:  # the answer is saved; only the live parts failed
                log.exception("redrawing after saving %s failed", self.key)
                self._state("saved", f"✓ saved (the summary could not be redrawn: {type(exc).__name__}: {exc})")

    @shown_errors
    def take_theirs(self) -> None:
        """After a conflict: show the answer in the store and carry on from it."""
        theirs = self.theirs or self.saver.load().get(self.key)
        self.value = theirs.value if theirs else None
        self.revision = theirs.revision if theirs else 0
        self._show(self.value)
        self._state("saved" if theirs else "empty", "")
        self.theirs = None
        if self.on_saved:
            self.on_saved(self)


# The class on every form's outer widget: the workbook's last cell scrolls JupyterLab back to it.
FORM_CLASS = "csm-form"
# JupyterLab's Run All ends scrolled to the last cell; the form is what a person came for. The last
# cell of every workbook shows this script (an output of the person's own run is trusted, so Lab
# runs it once everything above has run); the workshop app (``data-voila`` on its body) and a
# workbook without a form are left as they are.
SCROLL_TO_FORM = """if (!document.body.dataset.voila) {
  setTimeout(function () {
    var notebook = element.closest('.jp-Notebook');
    var form = notebook && notebook.querySelector('.csm-form');
    var cell = form && form.closest('.jp-Cell');
    if (cell) { cell.scrollIntoView({block: 'start'}); }
  }, 300);
}"""


def scroll_to_form() -> None:
    """Show the script that scrolls JupyterLab to the notebook's form (see ``SCROLL_TO_FORM``)."""
    from IPython.display import Javascript, display

    display(Javascript(SCROLL_TO_FORM))


def button_layout(*, shown: bool) -> Any:
    """The layout of a Retry or Show-theirs button, shown or hidden (shared: never changed in place)."""
    return ipywidgets().Layout(display="" if shown else "none", width="auto", min_width="80px", flex="0 0 auto")


def _css_name(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in key)


class QuestionCard:
    """A question: prompt, type, why-we-ask on demand, its fields, follow-ups, composed text."""

    def __init__(self, question: Question, form: WorkshopForm) -> None:
        w = ipywidgets()
        self.question, self.form = question, form
        header = Html(
            '<div class="csm-question"><span class="csm-type" style="display:inline-block;font-size:12px;'
            "text-transform:uppercase;letter-spacing:.06em;color:{colour};border:1px solid {colour};border-radius:3px;"
            'padding:0 5px;margin-right:8px">{label}</span><span class="csm-prompt" style="font-size:18px;font-weight:600">{prompt}</span></div>'
        ).format(colour=TONE_COLOURS["info"], label=question.type_label, prompt=question.prompt)
        self.header = w.HTML(str(header))
        why = Html(
            '<div style="font-size:14px;color:#3d4650;background:#f4f6f8;padding:6px 10px;border-radius:4px">'
            "<b>Why we ask:</b> {}<br><b>A good answer:</b> {}</div>"
        ).format(question.purpose, question.good_answer)
        self.why = w.HTML(str(why), layout=w.Layout(display="none"))
        self.why_button = w.ToggleButton(
            description="Why ask this?",
            value=False,
            layout=w.Layout(width="auto", min_width="130px", flex="0 0 auto"),
            tooltip="Why the question is asked and what a good answer contains",
        )
        # Layouts are shared (SharedWidgets): the panel gets the shown or the hidden one, never a changed one.
        self.why_button.observe(
            lambda ch: setattr(self.why, "layout", w.Layout(display="" if ch["new"] else "none")), names="value"
        )
        self.composed = w.HTML()
        follow = ""
        if question.follow_ups:
            follow = str(
                Html('<div style="font-size:14px;color:#5b6672">Follow-ups: {}</div>').format(" · ".join(question.follow_ups))
            )
        self.follow = w.HTML(follow)
        self.fields_box = w.VBox()
        self.slots: dict[Any, list[FieldWidget]] = {}
        self.box = w.VBox(
            [
                w.HBox([self.header, self.why_button], layout=w.Layout(justify_content="space-between")),
                self.why,
                self.composed,
                self.fields_box,
                self.follow,
            ],
            layout=w.Layout(border="1px solid #d9dee4", padding="8px 12px", margin="8px 0"),
        )
        self.box.add_class("csm-q-" + question.id)
        self.sync()

    def sync(self) -> None:
        """(Re)build the field rows: repeated questions follow their list (e.g. documented outcomes)."""
        w = ipywidgets()
        q, form = self.question, self.form
        rows = []
        current = items(q, form.context())
        slots = [item.slot for item in current]
        if list(self.slots) != slots or not self.fields_box.children:
            kept = {}
            for item in current:
                kept[item.slot] = self.slots.get(item.slot) or [form.field_widget(item, f) for f in q.fields]
                if item.slot is not None:
                    rows.append(w.HTML(str(Html('<div style="font-weight:600;margin-top:6px">{}</div>').format(item.label))))
                rows.extend(fw.box for fw in kept[item.slot])
            self.slots = kept
            self.fields_box.children = rows
        if not current and q.repeat:
            self.fields_box.children = [
                w.HTML(
                    str(
                        Html('<i style="color:#5b6672">{}</i>').format(
                            "Nothing to ask about yet: this appears once there are items to ask about."
                        )
                    )
                )
            ]

    def widgets(self) -> list[FieldWidget]:
        return [fw for group in self.slots.values() for fw in group]


class WorkshopForm:
    """All stages of one workshop workbook for one engagement, saving as it goes.

    ``composer(question, answers)`` returns the composed text (``Html``) for
    questions with ``compose``; ``summary(answers)`` the live panel under the
    stages; ``context(answers)`` the object repeated questions read their
    lists from (the engagement, plus e.g. the documented outcomes).
    """

    def __init__(
        self,
        bank: Bank,
        engagement: Engagement,
        *,
        db: str | None = None,
        composer: Callable[[Question, dict[str, Any]], Html | None] | None = None,
        summary: Callable[[dict[str, Any]], Html] | None = None,
        context: Callable[[dict[str, Any]], Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        author: str | None = None,
        today: dt.date | None = None,
    ) -> None:
        w = ipywidgets()
        self.bank, self.engagement, self.today = bank, engagement, today
        self.saver = AnswerSaver(db=db, engagement_id=engagement.id, workbook=bank.workbook, author=author)
        self.saved = self.saver.load()
        self.defaults = dict(defaults or {})
        self._composer, self._summary, self._context = composer, summary, context
        self.fields: dict[str, FieldWidget] = {}
        self._cards: list[QuestionCard] = []
        # A stage's questions are built when its tab is first opened: the first stage alone is a
        # fifth of the form's widgets, so the form shows (and a new engagement opens) that much sooner.
        self._stages = list(bank.stages)
        self._built: set[int] = set()
        titles = [f"{number}. {title}" for number, title in bank.stages.items()]
        self.tabs = w.Tab(children=[w.VBox() for _ in titles], titles=titles)
        self.tabs.observe(lambda change: self._build_stage(change["new"]), names="selected_index")
        self.summary_panel = w.HTML()
        heading = Html('<div style="font-size:15px;color:#5b6672">{} · {} · answers save as you go</div>').format(
            bank.title, engagement.title
        )
        self.widget = w.VBox([w.HTML(str(heading)), self.tabs, self.summary_panel])
        self.widget.add_class("csm-workshop")
        self._build_stage(self.tabs.selected_index or 0)
        self.refresh()

    def _build_stage(self, index: int | None) -> None:
        if index is None or index in self._built or not 0 <= index < len(self._stages):
            return
        self._built.add(index)
        cards = [QuestionCard(q, self) for q in self.bank.stage(self._stages[index])]
        self._cards.extend(cards)
        self.tabs.children[index].children = [c.box for c in cards]
        self._compose(cards, self.answers())

    def build_all(self) -> None:
        """Build every stage's questions now (a stage is otherwise built when its tab is first opened)."""
        for index in range(len(self._stages)):
            self._build_stage(index)

    @property
    def cards(self) -> list[QuestionCard]:
        """Every question's card, in the bank's order (builds the stages not opened yet)."""
        if len(self._built) < len(self._stages):
            self.build_all()
        order = {q.id: i for i, q in enumerate(q for n in self._stages for q in self.bank.stage(n))}
        return sorted(self._cards, key=lambda c: order[c.question.id])

    # -- answers ---------------------------------------------------------------
    def answers(self) -> dict[str, Any]:
        """What the form holds now: file defaults, overlaid by saved answers."""
        out = dict(self.defaults)
        out.update({k: a.value for k, a in self.saved.items()})
        for key, fw in self.fields.items():
            if fw.revision:  # the last value this form saved (kept while a newer entry is invalid)
                out[key] = fw.value
        return {k: v for k, v in out.items() if is_answered(v)}

    def context(self) -> Any:
        return self._context(self.answers()) if self._context else self.engagement

    def field_widget(self, item: Item, f: Field) -> FieldWidget:
        key = item.key(f)
        if key not in self.fields:
            default = self.defaults.get(key)
            if default is None:
                default = item.default(f)
            self.fields[key] = FieldWidget(
                f,
                key,
                saver=self.saver,
                answer=self.saved.get(key),
                default=default,
                on_saved=lambda _: self.refresh(),
                today=self.today,
            )
        return self.fields[key]

    def field(self, key: str) -> FieldWidget:
        """The widget saving ``key`` (KeyError names the known keys)."""
        if key not in self.fields:
            self.build_all()  # it may be on a stage not opened yet
        try:
            return self.fields[key]
        except KeyError:
            raise KeyError(f"no field {key!r}; known: {', '.join(self.fields)}") from None

    def set(self, key: str, raw: Any) -> FieldWidget:
        fw = self.field(key)
        fw.set(raw)
        return fw

    # -- live parts --------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute composed prompts and the summary panel from the answers."""
        answers = self.answers()
        self._compose(self._cards, answers)
        if self._summary:
            self.summary_panel.value = str(self._summary(answers))

    def _compose(self, cards: list[QuestionCard], answers: dict[str, Any]) -> None:
        for card in cards:
            if card.question.repeat:
                card.sync()
            if card.question.compose and self._composer:
                text = self._composer(card.question, answers)
                card.composed.value = (
                    str(text)
                    if text
                    else str(Html('<i style="color:#5b6672">{}</i>').format("Appears once the questions before it are answered."))
                )

    def states(self) -> dict[str, str]:
        return {k: fw.state for k, fw in self.fields.items()}

    def close(self) -> None:
        self.saver.close()


class EngagementPicker:
    """Pick an engagement from the store, or create one (id and customer)."""

    NEW_HINT = "e.g. acme-2026"

    def __init__(self, *, db: str | None, on_pick: Callable[[str], bool | None], selected: str | None = None) -> None:
        w = ipywidgets()
        self.db, self.on_pick = db, on_pick
        self.dropdown = w.Dropdown(
            description="Engagement",
            options=self._options(),
            value=None,
            style={"description_width": "initial"},
            layout=w.Layout(width="460px"),
        )
        self.open_button = w.Button(description="Open", button_style="primary")
        self.open_button.on_click(lambda _: self.pick(self.dropdown.value))
        self.new_id = w.Text(placeholder=self.NEW_HINT, description="New id", style={"description_width": "initial"})
        self.new_customer = w.Text(placeholder="customer name", description="Customer", style={"description_width": "initial"})
        self.create_button = w.Button(description="Create")
        self.create_button.on_click(lambda _: self.create(self.new_id.value, self.new_customer.value))
        self.message = w.HTML()
        self.widget = w.VBox(
            [
                w.HBox([self.dropdown, self.open_button]),
                w.HBox([self.new_id, self.new_customer, self.create_button]),
                self.message,
            ]
        )
        self.widget.add_class("csm-picker")
        ids = [v for _, v in self.dropdown.options]
        if selected in ids:
            self.dropdown.value = selected

    def _options(self) -> list[tuple[str, str]]:
        with Store(self.db or None) as store:
            return [(f"{e.customer} ({e.id})", e.id) for e in store.engagements()]

    def _say(self, text: str, *, tone: str = "info") -> None:
        colour = TONE_COLOURS[tone]
        self.message.value = str(Html('<span style="color:{}">{}</span>').format(colour, text))

    def show_error(self, exc: BaseException) -> None:
        self._say(not_saved_message(exc, prefix="Not done", then="try again"), tone="bad")

    @shown_errors
    def pick(self, engagement_id: str | None) -> None:
        if not engagement_id:
            self._say("Choose an engagement first, or create one below.", tone="bad")
            return
        if self.on_pick(engagement_id):  # "Opened" once the form is there, not before
            self._say(f"Opened {engagement_id}.", tone="good")

    @shown_errors
    def create(self, engagement_id: str, customer: str) -> str | None:
        """Create an empty engagement and open it; problems are shown, not raised."""
        try:
            with Store(self.db or None) as store:
                engagement_id = store.create_engagement(engagement_id, customer, summary="created in a workshop", where="New id")
        except CsmError as exc:
            self._say(f"Not created: {exc}", tone="bad")
            return None
        self.dropdown.options = self._options()
        self.dropdown.value = engagement_id
        self.pick(engagement_id)
        return engagement_id


class WorkshopApp:
    """The picker above the form of the picked engagement."""

    def __init__(self, *, db: str | None, build: Callable[[str], WorkshopForm], selected: str | None = None) -> None:
        w = ipywidgets()
        self.build, self.form, self.db = build, None, db
        self.area = w.VBox()
        self.picker = EngagementPicker(db=db, on_pick=self.open, selected=selected)
        self.widget = w.VBox([self.picker.widget, self.area])
        self.widget.add_class(FORM_CLASS)
        if selected and self.picker.dropdown.value == selected:
            self.open(selected)

    def show_error(self, exc: BaseException) -> None:
        self.picker.show_error(exc)

    @shown_errors
    def open(self, engagement_id: str) -> bool:
        """Show the form of ``engagement_id``; False (and why, in the picker) if it cannot be opened."""
        if self.form is not None:
            self.form.close()
        try:
            self.form = self.build(engagement_id)
        except CsmError as exc:
            self.picker._say(f"Cannot open {engagement_id}: {exc}", tone="bad")
            return False
        self.area.children = [self.form.widget]
        # The workshop app's links open the engagement last opened from this store.
        remember_engagement(config.db_path(self.db or None), engagement_id)
        return True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


# -- the page side shared by the workshop workbooks ---------------------------------------
class WorkshopPage:
    """What a workshop notebook calls: the form when interactive, the report when headless.

    Subclasses set ``WORKBOOK`` and provide ``compose``, ``live_summary``,
    ``context_for`` and ``results``. ``answers`` are the engagement file's
    defaults, overlaid by the saved answers, overlaid by the run's
    ``answers`` parameter (which is never saved).
    """

    WORKBOOK = ""

    def __init__(
        self,
        engagement: Engagement,
        bank: Bank,
        *,
        db: str | None = None,
        interactive: bool = False,
        supplied: Mapping[str, Any] | None = None,
        saved: Mapping[str, Any] | None = None,
    ) -> None:
        from csm_nb.data.questions import defaults

        self.engagement, self.bank, self.db, self.interactive = engagement, bank, db, interactive
        self.supplied = dict(supplied or {})
        self.saved = dict(saved if saved is not None else (engagement.workshop or {}).get(bank.workbook, {}))
        self.file_defaults = defaults(bank, engagement)
        self.app: WorkshopApp | None = None

    # -- answers -----------------------------------------------------------------
    @property
    def answers(self) -> dict[str, Any]:
        merged = dict(self.file_defaults)
        merged.update(self.saved)
        merged.update(self.supplied)
        return {k: v for k, v in merged.items() if is_answered(v)}

    def context_for(self, answers: Mapping[str, Any]) -> Any:
        return self.engagement

    def compose(self, question: Question, answers: Mapping[str, Any]) -> Html | None:
        return None

    def live_summary(self, answers: Mapping[str, Any]) -> Html:
        return Html("")

    # -- interactive -----------------------------------------------------------------
    def for_engagement(self, engagement: Engagement) -> WorkshopPage:
        """A page for the engagement picked in the form (subclasses pass their settings on)."""
        return type(self)(engagement, self.bank, db=self.db, interactive=True)

    def build_form(self, engagement_id: str) -> WorkshopForm:
        from csm_nb.data.questions import defaults

        with Store(self.db or None) as store:
            engagement = store.load(engagement_id)
        page = self.for_engagement(engagement)
        form = WorkshopForm(
            self.bank,
            engagement,
            db=self.db,
            composer=page.compose,
            summary=page.live_summary,
            context=page.context_for,
            defaults=defaults(self.bank, engagement),
        )
        page.form = form
        self.current = page
        return form

    def workshop(self) -> Any:
        """Interactive: the engagement picker and the form. Headless: the report's opening summary."""
        if self.interactive:
            self.app = WorkshopApp(db=self.db, build=self.build_form, selected=self.engagement.id)
            return self.app
        return self.headline()

    def headline(self) -> Html:  # pragma: no cover - every page overrides it
        return Html("")

    # -- report pieces shared by the workshop pages ---------------------------------------
    def workshop_results(self) -> dict[str, Any]:
        """What every workshop page's results file starts with: whose answers, and how far the workshop got."""
        done, total = self.answered_counts()
        return {
            "workbook": self.WORKBOOK,
            "engagement": self.engagement.id,
            "currency": self.engagement.currency_code,
            "questions_answered": done,
            "questions": total,
            "answers": self.answers,
            "supplied_answers": sorted(self.supplied),
        }

    def answered_counts(self) -> tuple[int, int]:
        """(questions with every field answered, questions asked), repeated ones once per item."""
        done = total = 0
        answers = self.answers
        for q in self.bank.questions:
            required = [f for f in q.fields if not f.optional]
            if not required:
                continue
            for item in items(q, self.context_for(answers)):
                total += 1
                done += all(is_answered(answers.get(item.key(f))) for f in required)
        return done, total

    def transcript(self) -> Html:
        """What was said, stage by stage: each question with its type and the answers given."""
        from csm_nb.render.html import join, section

        if self.interactive:
            return Html("")
        answers, context = self.answers, self.context_for(self.answers)
        parts = []
        for number, title in self.bank.stages.items():
            rows = []
            for q in self.bank.stage(number):
                composed = self.compose(q, answers) if q.compose else None
                for item in items(q, context):
                    given = [
                        (f.label, f.shown(answers.get(item.key(f)))) for f in q.fields if is_answered(answers.get(item.key(f)))
                    ]
                    if not given and composed is None:
                        continue
                    prompt = f"{item.label}: {q.prompt}" if item.slot is not None else q.prompt
                    rows.append(
                        Html(
                            '<div class="qa" style="margin:10px 0 12px;break-inside:avoid">'
                            '<p class="qa-q" style="margin:0"><b>{}</b> <span class="note">({})</span></p>{}{}</div>'
                        ).format(
                            prompt,
                            q.type_label,
                            composed or Html(""),
                            Html('<ul class="qa-a" style="margin:2px 0;padding-left:18px">{}</ul>').format(
                                join(
                                    Html('<li><span class="note">{}:</span> {}</li>').format(label, value)
                                    for label, value in given
                                )
                            )
                            if given
                            else Html(""),
                        )
                    )
            if rows:
                parts.append(Html("<h3>{}. {}</h3>").format(number, title) + join(rows))
        if not parts:
            return section("What was said", Html('<p class="note">No answers yet.</p>'))
        return section(
            "What was said, stage by stage",
            join(parts),
            intro="Each question with its type and the answers recorded in the workshop.",
        )

    def open_questions(self) -> Html:
        from csm_nb.data.questions import open_questions
        from csm_nb.render.html import join, section

        if self.interactive:
            return Html("")
        still = open_questions(self.bank, self.context_for(self.answers), self.answers)
        if not still:
            return section("Questions still open", Html('<p class="note">None: every question has an answer.</p>'))
        rows = [
            Html('<li><b>{}</b>{}: {} <span class="note">(still to answer: {})</span></li>').format(
                self.bank.stages[o.question.stage],
                Html(" · {}").format(o.label) if o.label else Html(""),
                o.question.prompt,
                ", ".join(o.missing),
            )
            for o in still
        ]
        return section(
            "Questions still open",
            Html('<ul class="open-questions">') + join(rows) + Html("</ul>"),
            intro=f"{len(still)} to settle before or at the next meeting.",
        )

    def supplied_note(self) -> Html:
        from csm_nb.render.html import paragraph

        if not self.supplied:
            return Html("")
        return paragraph(
            f"{len(self.supplied)} answer(s) were supplied for this run only and are not saved: "
            f"{', '.join(sorted(self.supplied))}.",
            css_class="note",
        )

    def results(self) -> dict[str, Any]:  # pragma: no cover - every page overrides it
        return {}
