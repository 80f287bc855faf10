"""Log a moment held or an event from the engagement plan (ipywidgets), in a few clicks.

Two small forms above the plan, for a person in JupyterLab or the workshop app:

* :class:`MomentLogForm` ("Log a moment"): the moment (the model's moments by name, the ones due
  or overdue first), which of its occurrences (the one due first is chosen), the date held
  (default: the plan's date), held / cancelled / missed, who attended (the engagement's
  stakeholders, and others typed), the outcome, why it was late, a note; Save.
* :class:`EventLogForm` ("Log an event"): the type, the date, severity, reference, score and
  scale (a survey answer), respondent and a note; Save.

Saving writes one entry through the store (``Store.add_moments`` / ``Store.add_events``, in one
transaction), reads it back, and only then shows "✓ saved"; the plan below is redrawn from the
store (``on_saved``). An entry for an occurrence already logged corrects it: the same values again
change nothing. A milestone's entry is keyed by its held date (as an engagement file logs it), so a
corrected held date replaces the entry in the same transaction instead of adding a second one. A
wrong value is "Not saved: <the field>: <what is expected>" and nothing is written; a store held
by another program is waited for ``SAVE_WAIT_SECONDS``, then "Not saved: the store is busy (held by
...)" with Retry, the entries kept in the form. Every handler runs through
:func:`csm_nb.forms.widgets.shown_errors`.

The report parts the page shows under the forms are :func:`live_part`: headless they are the
page's HTML as before; while the forms are shown they are HTML widgets that :class:`PlanLogForms`
redraws after each save.

Nothing here needs a browser: tests call ``choose``, ``fill`` and ``save`` (what the clicks do)
and read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from csm_nb import config
from csm_nb.data.lifecycle import event_key, moment_key, shown_event_key, shown_moment_key
from csm_nb.data.store import Store
from csm_nb.errors import InputError, StoreBusyError, StoreError
from csm_nb.forms.widgets import FORM_CLASS, SAVE_WAIT_SECONDS, button_layout, ipywidgets, not_saved_message, shown_errors
from csm_nb.method.engagement_plan import Occurrence, applies_to
from csm_nb.model import Engagement, EngagementModel, Event, MomentRecord
from csm_nb.render.html import Html
from csm_nb.vocabulary import DELAY_REASONS, EVENT_TYPES, MOMENT_LOG_STATUSES, MOMENT_STATUSES, TONE_COLOURS, day_words

log = logging.getLogger(__name__)

GREY = "#5b6672"
# What the mark under each form says in each state, and its colour.
_MARK_STYLE = {
    "empty": ("", GREY),
    "changed": ("changed: press Save to log it", GREY),
    "saving": ("saving…", GREY),
    "saved": ("✓ saved", TONE_COLOURS["good"]),
    "invalid": ("", TONE_COLOURS["bad"]),
    "busy": ("", TONE_COLOURS["bad"]),
    "error": ("", TONE_COLOURS["bad"]),
}
KEPT = "your entries are kept in the form, press Retry"
STATUS_LABELS = {"held": "held", "cancelled": "cancelled", "no_show": "missed"}
SEVERITIES = ("low", "medium", "high", "critical")
URGENT = ("escalated", "overdue", "due")  # an occurrence to log first
LABEL_WIDTH = "120px"

F = TypeVar("F", bound=Callable[..., Any])


def moment_label(model: EngagementModel, moment_id: str) -> str:
    """A moment as people call it: its name in the model, else its id in words."""
    spec = model.moment(moment_id)
    return (spec.name if spec and spec.name else moment_id.replace("_", " ")).strip()


def parse_day(value: Any, label: str) -> str:
    """A date from a date picker (or typed as text) as ISO text; ``InputError`` names ``label``.

    >>> parse_day(dt.date(2027, 4, 9), "Date held"), parse_day(" 2027-04-09 ", "Date held")
    ('2027-04-09', '2027-04-09')
    >>> parse_day("2027-02-30", "Date held")
    Traceback (most recent call last):
    csm_nb.errors.InputError: Date held: 2027-02-30 is not a date that exists; expected a date such as 2027-04-09
    """
    if isinstance(value, dt.date):
        return value.isoformat()
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"{label}: expected a date such as 2027-04-09; the box is empty")
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise InputError(f"{label}: {text} is not a date that exists; expected a date such as 2027-04-09") from None


def parse_number(value: Any, label: str) -> float | None:
    """A number typed in a box ("8", "8.5", "8,5"); empty is none; ``InputError`` names ``label``.

    >>> parse_number("8,5", "Score"), parse_number("", "Score")
    (8.5, None)
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        number = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        raise InputError(f"{label}: expected a number such as 8; you typed {text!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{label}: expected a number such as 8; you typed {text!r}")
    return number


def stakeholder_names(engagement: Engagement) -> list[str]:
    """The names of the engagement's stakeholders, in the file's order."""
    return [
        str(s["name"]).strip()
        for s in engagement.stakeholders or []
        if isinstance(s, Mapping) and str(s.get("name") or "").strip()
    ]


def _text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


def _names(text: Any) -> list[str]:
    return [name for name in (" ".join(part.split()) for part in str(text or "").split(",")) if name]


def live_part(method: F) -> F:
    """A page method drawing one part of the report that redraws after a save while the log forms show.

    Without forms (``page.forms`` is None: every headless run) it returns the page's HTML
    unchanged; with them, an HTML widget that :meth:`PlanLogForms.redraw` fills again.
    """

    @functools.wraps(method)
    def drawn(page: Any, *args: Any, **kwargs: Any) -> Any:
        forms = getattr(page, "forms", None)
        if forms is None:
            return method(page, *args, **kwargs)
        return forms.live(method.__name__, lambda: method(page, *args, **kwargs))

    return drawn  # type: ignore[return-value]


def labelled(label: str, widget: Any) -> Any:
    """A row of ``widget`` after a label set like the other boxes' descriptions (buttons have none of their own)."""
    w = ipywidgets()
    text = Html(
        '<span style="display:inline-block;box-sizing:border-box;width:{};padding-right:8px;text-align:right">{}</span>'
    ).format(LABEL_WIDTH, label)
    return w.HBox([w.HTML(str(text), layout=w.Layout(flex="0 0 auto")), widget], layout=w.Layout(align_items="center"))


class SaveMark:
    """The state under a form: "saving…", "✓ saved" or "Not saved: ...", with Retry when it may help."""

    def __init__(self, name: str, retry: Callable[[], Any]) -> None:
        w = ipywidgets()
        self.state, self.message = "empty", ""
        self.status = w.HTML(layout=w.Layout(min_width="120px"))
        self.status.add_class(f"csm-status-{name}")
        self.retry_button = w.Button(
            description="Retry", button_style="warning", layout=button_layout(shown=False), tooltip="Save the entries again"
        )
        self.retry_button.add_class(f"csm-retry-{name}")
        self.retry_button.on_click(lambda _: retry())
        self.detail = w.HTML()
        self.detail.add_class(f"csm-detail-{name}")
        self.box = w.VBox([w.HBox([self.status, self.retry_button], layout=w.Layout(align_items="center")), self.detail])

    def show(self, state: str, message: str = "", *, detail: str = "") -> None:
        self.state, self.message = state, message
        text, colour = _MARK_STYLE[state]
        self.status.value = str(
            Html('<span class="csm-state csm-state-{}" role="status" style="color:{};font-size:14px">{}</span>').format(
                state, colour, message or text
            )
        )
        self.detail.value = str(Html('<span style="color:{};font-size:13px">{}</span>').format(GREY, detail)) if detail else ""
        self.retry_button.layout = button_layout(shown=state in ("busy", "error"))


class EntryForm:
    """What every entry form shares: the store, the Save button, the mark, and the save → read back → redraw
    steps. A form gives ``entry``, ``write``, ``read_back`` and ``described``; ``REDRAWN`` names what is
    drawn again under it."""

    NAME = ""
    TITLE = ""
    REDRAWN = "the plan"

    def __init__(self, owner: LiveForms) -> None:
        w = ipywidgets()
        self.owner = owner
        self._quiet = False
        self.mark = SaveMark(self.NAME, self.retry)
        self.save_button = w.Button(description="Save", button_style="primary", tooltip=f"{self.TITLE}: write it to the store")
        self.save_button.add_class(f"csm-save-{self.NAME}")
        self.save_button.on_click(lambda _: self.save())

    @property
    def store(self) -> Store:
        return self.owner.store

    @property
    def state(self) -> str:
        return self.mark.state

    @property
    def message(self) -> str:
        return self.mark.message

    def _box(self, rows: Sequence[Any], *, width: str = "560px") -> Any:
        w = ipywidgets()
        title = w.HTML(str(Html('<div style="font-size:17px;font-weight:600;margin:0 0 4px">{}</div>').format(self.TITLE)))
        box = w.VBox(
            [
                title,
                *rows,
                w.HBox([self.save_button, self.mark.box], layout=w.Layout(align_items="flex-start", margin="6px 0 0")),
            ],
            layout=w.Layout(border="1px solid #d9dee4", padding="8px 12px", margin="4px 12px 4px 0", width=width),
        )
        box.add_class(f"csm-{self.NAME}")
        return box

    def _watch(self, widgets: Iterable[Any]) -> None:
        for widget in widgets:
            widget.observe(self._changed, names="value")

    # A form with a date picker (``self.date``) keeps a date typed as text that the picker cannot hold
    # (a test's "2027-02-30") in ``_date_text``, so Save refuses it as typed instead of dropping it.
    _date_text: str | None = None

    def enter_date(self, date: dt.date | str) -> None:
        """Put ``date`` in the date picker, as a person would; text that is no date is kept for Save to refuse."""
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date.strip())
            except ValueError:
                self._date_text = date
                self._changed()
                return
        self._date_text = None
        self.date.value = date

    def typed_date(self, label: str = "Date") -> str:
        """The date the form holds as ISO text; ``InputError`` naming ``label`` when it is no date."""
        return parse_day(self._date_text if self._date_text is not None else self.date.value, label)

    def _changed(self, _: Any = None) -> None:
        """An entry was edited after a save: the mark must not go on saying "saved" for it."""
        if not self._quiet and self.mark.state == "saved":
            self.mark.show("changed")

    def show_error(self, exc: BaseException) -> None:
        self.mark.show("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc, then=KEPT))

    @shown_errors
    def retry(self) -> dict[str, int] | None:
        """Save the entries again (after "the store is busy" or another problem)."""
        return self._save()

    @shown_errors
    def save(self) -> dict[str, int] | None:
        """What Save does: check the entries, write them, read them back, redraw the plan.

        The counts ``{"added", "updated", "unchanged"}``; None when nothing was saved (the mark says why).
        """
        return self._save()

    def _save(self) -> dict[str, int] | None:
        try:
            entry = self.entry()
        except InputError as exc:
            self.mark.show("invalid", f"Not saved: {exc}")
            return None
        self.mark.show("saving")  # seen while a busy store is waited for
        with self.owner.lock:
            counts = self.write(entry)
            self.read_back(entry)
        self.saved(entry)
        detail = self.described(entry, counts)
        self.mark.show("saved", detail=detail)
        try:
            self.owner.saved()
        except Exception as exc:  # the entry is saved; only what is under the form could not be redrawn
            log.exception("redrawing %s after saving failed", self.REDRAWN)
            self.mark.show(
                "saved",
                f"✓ saved ({self.REDRAWN} below could not be redrawn: {type(exc).__name__}: {exc}; run the notebook again to see it)",
                detail=detail,
            )
        return counts

    # What each form provides.
    def entry(self) -> Any:  # pragma: no cover - both forms override it
        raise NotImplementedError

    def write(self, entry: Any) -> dict[str, int]:  # pragma: no cover
        raise NotImplementedError

    def read_back(self, entry: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def saved(self, entry: Any) -> None:
        """After a save, before the redraw."""

    def described(self, entry: Any, counts: Mapping[str, int]) -> str:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _what_happened(counts: Mapping[str, int]) -> str:
        if counts.get("added"):
            return "added to the log"
        if counts.get("updated"):
            return "corrected in the log"
        return "already in the log as it is"


class MomentLogForm(EntryForm):
    """Log one occurrence of a moment: held (when, who, what came of it), cancelled or missed."""

    NAME = "moment-log"
    TITLE = "Log a moment"

    def __init__(self, owner: PlanLogForms) -> None:
        super().__init__(owner)
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        self.target: MomentRecord | None = None  # the entry the chosen occurrence has in the log
        self._attendee_names: list[str] | None = None
        self._held_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self.moment = w.Dropdown(description="Moment", options=[], layout=w.Layout(width="520px"), **described)
        self.occurrence = w.Dropdown(description="Occurrence", options=[], layout=w.Layout(width="520px"), **described)
        self.held = w.DatePicker(description="Date held", value=owner.today, layout=w.Layout(width="300px"), **described)
        self.status = w.ToggleButtons(
            options=[(STATUS_LABELS[s], s) for s in MOMENT_LOG_STATUSES],
            value="held",
            tooltips=["It took place", "It was called off", "It did not happen: nobody came, or it was forgotten"],
            style={"button_width": "auto"},
        )
        self.attendee_buttons: dict[str, Any] = {}
        self.attendees_box = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.others = w.Text(
            description="Others present",
            placeholder="names, separated by commas",
            continuous_update=False,
            layout=w.Layout(width="520px"),
            **described,
        )
        self.outcome = w.Text(
            description="Outcome",
            placeholder="what was agreed or achieved",
            continuous_update=False,
            layout=w.Layout(width="520px"),
            **described,
        )
        self.delay_reason = w.Dropdown(
            description="Why it was late",
            options=[("(not late, or no reason given)", "")] + [(words, key) for key, words in DELAY_REASONS.items()],
            value="",
            layout=w.Layout(width="520px"),
            **described,
        )
        self.note = w.Text(description="Note", continuous_update=False, layout=w.Layout(width="520px"), **described)
        for name, widget in (
            ("moment", self.moment),
            ("occurrence", self.occurrence),
            ("held", self.held),
            ("status", self.status),
            ("others", self.others),
            ("outcome", self.outcome),
            ("delay", self.delay_reason),
            ("note", self.note),
        ):
            widget.add_class(f"csm-log-{name}")
        self.box = self._box(
            [
                self.moment,
                self.occurrence,
                self.held,
                labelled("Status", self.status),
                labelled("Attendees", self.attendees_box),
                self.others,
                self.outcome,
                self.delay_reason,
                self.note,
            ]
        )
        self.moment.observe(self._on_moment, names="value")
        self.occurrence.observe(self._on_occurrence, names="value")
        self.held.observe(self._on_held, names="value")
        self.status.observe(self._on_status, names="value")
        self._watch([self.others, self.outcome, self.delay_reason, self.note])
        self.update()

    # -- what the plan offers ---------------------------------------------------------------------
    def _moments(self) -> list[str]:
        """The moments that apply to the engagement, the ones with an occurrence due or overdue first."""
        model, engagement = self.owner.model, self.owner.engagement
        ids = [s.id for s in model.moments if applies_to(s, touch=model.touch, tags=engagement.tags or [])]
        urgent = {}
        for o in self.owner.occurrences:
            if o.status in URGENT and o.moment in ids and o.moment not in urgent:
                urgent[o.moment] = o.due or dt.date.max
        first = sorted(urgent, key=lambda m: (urgent[m], ids.index(m)))
        return first + [m for m in ids if m not in urgent]

    def occurrences_of(self, moment_id: str) -> list[Occurrence]:
        return sorted(
            (o for o in self.owner.occurrences if o.moment == moment_id), key=lambda o: (o.due is None, o.due or dt.date.max)
        )

    def _moment_option(self, moment_id: str) -> tuple[str, str]:
        name = moment_label(self.owner.model, moment_id)
        found = self.occurrences_of(moment_id)
        urgent = next((o for o in found if o.status in URGENT), None)
        planned = next((o for o in found if o.status == "planned" and o.due), None)
        if urgent is not None:
            words = MOMENT_STATUSES[urgent.status].words
            return (f"{name} · {words}" + (f" (due {day_words(urgent.due)})" if urgent.due else ""), moment_id)
        if planned is not None and planned.due is not None:
            return (f"{name} · next due {day_words(planned.due)}", moment_id)
        held = [o for o in found if o.held]
        if held and held[-1].held is not None:
            return (f"{name} · held {day_words(held[-1].held)}", moment_id)
        return (name, moment_id)

    @staticmethod
    def _occurrence_option(o: Occurrence) -> tuple[str, str]:
        words = MOMENT_STATUSES[o.status].words
        if o.held:
            words += f" on {day_words(o.held)}"
        if o.due is None:
            return (f"not dated yet · {words}", "")
        return (f"due {day_words(o.due)} · {words}", o.due.isoformat())

    def _default_occurrence(self, moment_id: str) -> str:
        found = self.occurrences_of(moment_id)
        chosen = (
            next((o for o in found if o.status in URGENT), None)
            or next((o for o in found if o.status == "planned"), None)
            or (found[-1] if found else None)
        )
        return chosen.due.isoformat() if chosen is not None and chosen.due else ""

    def chosen_occurrence(self) -> Occurrence | None:
        wanted = self.occurrence.value or ""
        return next(
            (o for o in self.occurrences_of(self.moment.value or "") if (o.due.isoformat() if o.due else "") == wanted), None
        )

    def update(self) -> None:
        """Redraw the choices from the plan (after a save: the same moment and occurrence stay chosen)."""
        w = ipywidgets()
        self._quiet = True
        try:
            moment, due = self.moment.value, self.occurrence.value
            ids = self._moments()
            self.moment.options = [self._moment_option(m) for m in ids]
            self.moment.value = moment if moment in ids else (ids[0] if ids else None)
            self._fill_occurrences(due if self.moment.value == moment else None)
            names = list(dict.fromkeys(stakeholder_names(self.owner.engagement)))
            if self._attendee_names != names:
                self._attendee_names = names
                self.attendee_buttons = {}
                for name in names:
                    button = w.ToggleButton(
                        description=name, value=False, tooltip=f"{name} attended", layout=w.Layout(width="auto")
                    )
                    button.add_class("csm-log-attendee")
                    button.observe(self._changed, names="value")
                    self.attendee_buttons[name] = button
                self.attendees_box.children = list(self.attendee_buttons.values()) or [
                    w.HTML(
                        str(
                            Html('<i style="color:{}">{}</i>').format(
                                GREY, "No stakeholders in the engagement: type names below."
                            )
                        )
                    )
                ]
            if (self.moment.value, self.occurrence.value) != (moment, due):  # another occurrence: show its entry
                self._load(self.target)
        finally:
            self._quiet = False

    def _fill_occurrences(self, due: str | None) -> None:
        """The chosen moment's occurrences; ``due`` stays chosen when it is one of them, else the first to log."""
        moment = self.moment.value or ""
        found = self.occurrences_of(moment)
        options = [self._occurrence_option(o) for o in found] or [("none due yet: log it as it happened", "")]
        self.occurrence.options = options
        values = [v for _, v in options]
        self.occurrence.value = due if due in values else (self._default_occurrence(moment) if moment else "")
        chosen = self.chosen_occurrence()
        self.target = chosen.record if chosen is not None else None

    # -- what the person does ---------------------------------------------------------------------
    @shown_errors
    def _on_moment(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._fill_occurrences(None)
            self._load(self.target)
        finally:
            self._quiet = False

    @shown_errors
    def _on_occurrence(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            chosen = self.chosen_occurrence()
            self.target = chosen.record if chosen is not None else None
            self._load(self.target)
        finally:
            self._quiet = False

    def _on_held(self, change: Mapping[str, Any]) -> None:
        self._held_text = None
        self._changed()

    def _on_status(self, change: Mapping[str, Any]) -> None:
        self.held.disabled = change["new"] != "held"  # a cancelled or missed occurrence has no held date
        self._changed()

    def _load(self, record: MomentRecord | None) -> None:
        """Show what the log holds for the chosen occurrence (to correct it), or a fresh entry."""
        self._held_text = None
        held = record.held if record else None
        self.held.value = dt.date.fromisoformat(held) if held else self.owner.today
        self.status.value = (record.status if record and record.status in MOMENT_LOG_STATUSES else "held") if record else "held"
        self.held.disabled = self.status.value != "held"
        present = list(record.attendees or []) if record else []
        for name, button in self.attendee_buttons.items():
            button.value = name in present
        self.others.value = ", ".join(p for p in present if p not in self.attendee_buttons)
        self.outcome.value = (record.outcome or "") if record else ""
        self.delay_reason.value = (
            (record.delay_reason if record and record.delay_reason in DELAY_REASONS else "") if record else ""
        )
        self.note.value = (record.note or "") if record else ""
        self.mark.show("empty", detail="Logged already: saving corrects it." if record else "")

    def choose(self, moment: str, due: str | dt.date | None = None) -> None:
        """Pick a moment (its id) and, optionally, which occurrence (its due date); as the dropdowns do."""
        ids = [v for _, v in self.moment.options]
        if moment not in ids:
            raise KeyError(f"no moment {moment!r} to log; offered: {', '.join(ids)}")
        if self.moment.value != moment:
            self.moment.value = moment
        if due is not None:
            wanted = due.isoformat() if isinstance(due, dt.date) else str(due)
            values = [v for _, v in self.occurrence.options]
            if wanted not in values:
                raise KeyError(f"{moment} has no occurrence due {wanted}; offered: {', '.join(values)}")
            self.occurrence.value = wanted

    def fill(
        self,
        *,
        held: dt.date | str | None = None,
        status: str | None = None,
        attendees: Sequence[str] | None = None,
        outcome: str | None = None,
        delay_reason: str | None = None,
        note: str | None = None,
    ) -> None:
        """Enter values as a person would (tests call it); ``held`` may be text, even a date that does not exist."""
        if status is not None:
            self.status.value = status
        if held is not None:
            if isinstance(held, str):
                try:
                    held = dt.date.fromisoformat(held.strip())
                except ValueError:
                    self._held_text = held  # a date picker cannot hold it; Save checks it as typed
                    self._changed()
                    held = None
            if held is not None:
                self._held_text = None
                self.held.value = held
        if attendees is not None:
            for name, button in self.attendee_buttons.items():
                button.value = name in attendees
            self.others.value = ", ".join(a for a in attendees if a not in self.attendee_buttons)
        if outcome is not None:
            self.outcome.value = outcome
        if delay_reason is not None:
            self.delay_reason.value = delay_reason
        if note is not None:
            self.note.value = note

    # -- saving ------------------------------------------------------------------------------------
    def entry(self) -> MomentRecord:
        """The log entry the form holds; ``InputError`` names the field that is wrong."""
        moment = self.moment.value or ""
        spec = self.owner.model.moment(moment)
        if spec is None:
            raise InputError("Moment: choose the moment from the list")
        status = self.status.value
        if status not in MOMENT_LOG_STATUSES:
            raise InputError("Status: choose held, cancelled or missed")
        held = (
            parse_day(self._held_text if self._held_text is not None else self.held.value, "Date held")
            if status == "held"
            else None
        )
        chosen = self.chosen_occurrence()
        if self.target is not None:
            due = self.target.due  # the entry's own key: a correction changes that entry
        elif chosen is not None and chosen.due is not None and spec.type != "milestone":
            due = chosen.due.isoformat()  # which occurrence of a recurring moment (or an event's response)
        else:
            due = None  # a milestone happens once; its due date follows from the ones before it
        present = [name for name, button in self.attendee_buttons.items() if button.value]
        present += [name for name in _names(self.others.value) if name not in present]
        delay = self.delay_reason.value or None
        if delay is not None and delay not in DELAY_REASONS:
            raise InputError(f"Why it was late: choose one of the list ({', '.join(DELAY_REASONS.values())})")
        return MomentRecord(
            moment,
            due=due,
            held=held,
            status=status,
            attendees=list(dict.fromkeys(present)) or None,
            outcome=_text(self.outcome.value),
            delay_reason=delay,
            note=_text(self.note.value),
        )

    def write(self, entry: MomentRecord) -> dict[str, int]:
        eid, author = self.owner.engagement.id, self.owner.author
        old = self.target
        if old is None or moment_key(old) == moment_key(entry):
            return self.store.add_moments(eid, [entry], author=author)
        # A milestone's entry is keyed by its held date: a corrected date replaces the entry, in one transaction.
        with self.store.transaction():
            engagement = self.store.load(eid)
            keys = [moment_key(r) for r in engagement.moments]
            if moment_key(old) not in keys:  # gone since the plan was drawn: log it as new
                return self.store.add_moments(eid, [entry], author=author)
            at = keys.index(moment_key(old))
            engagement.moments = [
                entry if i == at else r for i, r in enumerate(engagement.moments) if i == at or keys[i] != moment_key(entry)
            ]
            self.store.save(
                engagement,
                expected_revision=engagement.revision,
                author=author,
                summary=f"moment log: {shown_moment_key(moment_key(old))} corrected to {shown_moment_key(moment_key(entry))}",
            )
        return {"added": 0, "updated": 1, "unchanged": 0}

    def read_back(self, entry: MomentRecord) -> None:
        logged = {moment_key(r): r for r in self.store.load(self.owner.engagement.id).moments}
        found = logged.get(moment_key(entry))
        if found != entry:
            raise StoreError(
                f"the log entry {shown_moment_key(moment_key(entry))} read back as {found!r} after saving {entry!r}; it may not be saved"
            )
        if self.target is not None and moment_key(self.target) != moment_key(entry) and moment_key(self.target) in logged:
            raise StoreError(f"the log entry {shown_moment_key(moment_key(self.target))} is still there after correcting it")

    def saved(self, entry: MomentRecord) -> None:
        self.target = entry

    def described(self, entry: MomentRecord, counts: Mapping[str, int]) -> str:
        name = moment_label(self.owner.model, entry.moment)
        if entry.status == "held" and entry.held:
            what = f"held on {day_words(dt.date.fromisoformat(entry.held))}"
        else:
            what = STATUS_LABELS.get(entry.status or "", entry.status or "")
        due = f" (due {day_words(dt.date.fromisoformat(entry.due))})" if entry.due else ""
        return f"{name}{due} {what}: {self._what_happened(counts)}."


class EventLogForm(EntryForm):
    """Log something that happened at the customer: a support case, a release, a survey answer ..."""

    NAME = "event-log"
    TITLE = "Log an event"

    def __init__(self, owner: PlanLogForms) -> None:
        super().__init__(owner)
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        self._date_text: str | None = None
        self.type = w.Dropdown(
            description="Type",
            options=[("(choose what happened)", "")] + [(words, key) for key, words in EVENT_TYPES.items()],
            value="",
            layout=w.Layout(width="400px"),
            **described,
        )
        self.date = w.DatePicker(description="Date", value=owner.today, layout=w.Layout(width="300px"), **described)
        self.severity = w.Dropdown(
            description="Severity",
            options=[("(none)", "")] + [(s, s) for s in SEVERITIES],
            value="",
            layout=w.Layout(width="300px"),
            **described,
        )
        self.ref = w.Text(
            description="Reference",
            placeholder="a case number or release, such as CASE-1123",
            continuous_update=False,
            layout=w.Layout(width="520px"),
            **described,
        )
        self.score = w.Text(
            description="Score", placeholder="such as 8", continuous_update=False, layout=w.Layout(width="250px"), **described
        )
        self.scale = w.Text(
            description="out of",
            placeholder="such as 10",
            continuous_update=False,
            layout=w.Layout(width="170px"),
            style={"description_width": "50px"},
        )
        self.respondent = w.Combobox(
            description="Respondent",
            placeholder="who answered (a survey) or raised it",
            ensure_option=False,
            continuous_update=False,
            layout=w.Layout(width="520px"),
            **described,
        )
        self.note = w.Text(description="Note", continuous_update=False, layout=w.Layout(width="520px"), **described)
        for name, widget in (
            ("type", self.type),
            ("date", self.date),
            ("severity", self.severity),
            ("ref", self.ref),
            ("score", self.score),
            ("scale", self.scale),
            ("respondent", self.respondent),
            ("note", self.note),
        ):
            widget.add_class(f"csm-event-{name}")
        self.box = self._box(
            [
                self.type,
                self.date,
                self.severity,
                self.ref,
                w.HBox([self.score, self.scale]),
                self.respondent,
                self.note,
            ]
        )
        self.date.observe(self._on_date, names="value")
        self._watch([self.type, self.severity, self.ref, self.score, self.scale, self.respondent, self.note])
        self.update()

    def update(self) -> None:
        self.respondent.options = tuple(dict.fromkeys(stakeholder_names(self.owner.engagement)))

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        self._changed()

    def fill(
        self,
        *,
        type: str | None = None,
        date: dt.date | str | None = None,
        severity: str | None = None,
        ref: str | None = None,
        score: Any = None,
        scale: Any = None,
        respondent: str | None = None,
        note: str | None = None,
    ) -> None:
        """Enter values as a person would (tests call it); ``date`` may be text, even a date that does not exist."""
        if type is not None:
            self.type.value = type
        if date is not None:
            self.enter_date(date)
        for box, value in ((self.severity, severity), (self.ref, ref), (self.respondent, respondent), (self.note, note)):
            if value is not None:
                box.value = value
        if score is not None:
            self.score.value = str(score)
        if scale is not None:
            self.scale.value = str(scale)

    def entry(self) -> Event:
        kind = self.type.value or ""
        if kind not in EVENT_TYPES:
            raise InputError(f"Type: choose what happened ({', '.join(EVENT_TYPES.values())})")
        date = self.typed_date()
        score, scale = parse_number(self.score.value, "Score"), parse_number(self.scale.value, "out of")
        if scale is not None and scale <= 0:
            raise InputError(f"out of: expected the highest score possible, more than 0; you typed {self.scale.value.strip()}")
        if score is not None and scale is None:
            raise InputError("out of: give the highest score possible with the score, such as 10")
        if score is not None and scale is not None and not 0 <= score <= scale:
            raise InputError(f"Score: expected a score from 0 to {scale:g} (the scale); you typed {self.score.value.strip()}")
        severity = self.severity.value or None
        if severity is not None and severity not in SEVERITIES:
            raise InputError(f"Severity: choose one of {', '.join(SEVERITIES)}, or none")
        return Event(
            date,
            kind,
            severity=severity,
            ref=_text(self.ref.value),
            score=score,
            scale=scale,
            respondent=_text(self.respondent.value),
            note=_text(self.note.value),
        )

    def write(self, entry: Event) -> dict[str, int]:
        return self.store.add_events(self.owner.engagement.id, [entry], author=self.owner.author)

    def read_back(self, entry: Event) -> None:
        logged = {event_key(e): e for e in self.store.load(self.owner.engagement.id).events}
        found = logged.get(event_key(entry))
        if found != entry:
            raise StoreError(
                f"the event {shown_event_key(event_key(entry))} read back as {found!r} after saving {entry!r}; it may not be saved"
            )

    def described(self, entry: Event, counts: Mapping[str, int]) -> str:
        what = EVENT_TYPES[entry.type]
        return f"{what[0].upper()}{what[1:]} of {day_words(dt.date.fromisoformat(entry.date))}: {self._what_happened(counts)}."


class LiveForms:
    """Forms for one engagement above its report, and the report's parts that redraw after each save: what
    every workbook's forms share (the store they save through, one save at a time, the live parts).

    ``on_saved`` reads the engagement again and calls the subclass's ``update`` (the page's ``refresh``);
    ``today`` is the date the forms start from (the page's ``as_of``). A subclass makes its forms, then
    calls :meth:`frame`.
    """

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
        self.engagement = engagement
        self.author = author or config.author()
        self.today = today or dt.date.today()
        self.on_saved = on_saved
        self.store = Store(db or None, busy_timeout=SAVE_WAIT_SECONDS if wait is None else wait)
        self.lock = threading.Lock()  # one save at a time: an entry is read back before the next
        self.parts: dict[str, tuple[Any, Callable[[], Any]]] = {}

    def frame(self, boxes: Sequence[Any], *, saving: str, css_class: str) -> None:
        """The widget: a line naming the engagement and what ``saving`` does, then the forms side by side."""
        w = ipywidgets()
        intro = Html('<div style="font-size:15px;color:{}">{} · {}</div>').format(GREY, self.engagement.title, saving)
        row = (
            boxes[0] if len(boxes) == 1 else w.HBox(list(boxes), layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        )
        self.widget = w.VBox([w.HTML(str(intro)), row])
        self.widget.add_class(FORM_CLASS)
        self.widget.add_class(css_class)

    # -- the report below ----------------------------------------------------------------------------
    def live(self, name: str, draw: Callable[[], Any]) -> Any:
        """An HTML widget showing ``draw()`` now, drawn again by :meth:`redraw` (:func:`live_part`)."""
        w = ipywidgets()
        widget = w.HTML()
        widget.add_class(f"csm-live-{name.replace('_', '-')}")
        self.parts[name] = (widget, draw)
        self._draw(widget, draw)
        return widget

    @staticmethod
    def _draw(widget: Any, draw: Callable[[], Any]) -> None:
        html = draw()
        text = html._repr_html_() if hasattr(html, "_repr_html_") else str(html)
        # The class JupyterLab and Voila give an HTML output, so the part looks as the report's other cells do.
        widget.value = (
            f'<div class="jp-RenderedHTMLCommon jp-RenderedHTML" style="line-height:1.5">{text}</div>' if str(html) else ""
        )
        widget.layout = ipywidgets().Layout(display="" if str(html) else "none", width="100%")

    def redraw(self) -> None:
        for widget, draw in self.parts.values():
            self._draw(widget, draw)

    def saved(self) -> None:
        if self.on_saved is not None:
            self.on_saved()

    def close(self) -> None:
        self.store.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class PlanLogForms(LiveForms):
    """Both forms for one engagement, above its plan, and the plan's parts that redraw after a save.

    ``occurrences`` are the plan's (``Schedule.occurrences``); ``on_saved`` reads the engagement
    again and calls :meth:`update` (the page's ``refresh``); ``today`` is the date the forms
    start from (the page's ``as_of``).
    """

    def __init__(
        self,
        engagement: Engagement,
        model: EngagementModel,
        occurrences: Sequence[Occurrence],
        *,
        db: str | None = None,
        author: str | None = None,
        today: dt.date | None = None,
        on_saved: Callable[[], Any] | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        self.model, self.occurrences = model, list(occurrences)
        self.moment = MomentLogForm(self)
        self.event = EventLogForm(self)
        self.frame(
            [self.moment.box, self.event.box],
            saving="each entry is saved when you press Save; the plan below follows",
            css_class="csm-plan-log",
        )

    def update(self, engagement: Engagement, model: EngagementModel, occurrences: Sequence[Occurrence]) -> None:
        """The engagement and its plan as the store holds them now: both forms' choices follow."""
        self.engagement, self.model, self.occurrences = engagement, model, list(occurrences)
        self.moment.update()
        self.event.update()
