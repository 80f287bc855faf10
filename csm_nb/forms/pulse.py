"""Record one respondent's pulse answers (ipywidgets), above the customer pulse report.

One small form, :class:`PulseAnswerForm` ("Record pulse answers"): who answered (the customer's
stakeholders offered, any name typed), the date of the round (default: the report's date, ``as_of``),
then each desired outcome of the customer's jobs as its question, with satisfaction 0-10, importance
0-10 (optional) and a comment (optional). An outcome left without a satisfaction is not answered.

Saving appends the answers through ``Store.add_pulse(engagement_id, answers)`` in one transaction (the
same answers again change nothing; a second answer of the same person, outcome and date corrects the
first: choosing a respondent and date that have answers shows them, to be corrected), reads them back, and
only then shows "✓ saved"; the report below is redrawn from the store
(``on_saved``). A wrong value (satisfaction 11, a date that does not exist, a date after the report's,
no respondent) is "Not saved: <the field>: <what is expected>" and nothing is written. Every handler
runs through :func:`csm_nb.forms.widgets.shown_errors` (EntryForm).

Nothing here needs a browser: tests call ``fill`` and ``save`` (what the typing and the click do) and
read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.data.lifecycle import pulse_key, shown_pulse_key
from csm_nb.errors import InputError, StoreError
from csm_nb.forms.plan_log import LABEL_WIDTH, EntryForm, LiveForms, parse_number, stakeholder_names
from csm_nb.forms.widgets import ipywidgets
from csm_nb.method.pulse import DesiredOutcome, desired_outcomes
from csm_nb.model import Engagement, PulseAnswer
from csm_nb.render.html import Html
from csm_nb.vocabulary import day_words, plural

LOW, HIGH = 0.0, 10.0  # satisfaction and importance are rated 0-10


def rating(value: Any, label: str, *, required: bool = False) -> float | None:
    """A 0-10 rating typed in a box; empty is none (refused when ``required``); ``InputError`` names ``label``.

    >>> rating("7", "Satisfaction"), rating("", "Importance")
    (7.0, None)
    >>> rating("11", "Satisfaction")
    Traceback (most recent call last):
    csm_nb.errors.InputError: Satisfaction: expected a rating from 0 to 10; you typed 11
    """
    number = parse_number(value, label)
    if number is None:
        if required:
            raise InputError(f"{label}: expected a rating from 0 to 10; the box is empty")
        return None
    if not LOW <= number <= HIGH:
        raise InputError(f"{label}: expected a rating from 0 to 10; you typed {str(value).strip()}")
    return number


def typed_number(value: float) -> str:
    """A stored rating as its box shows it, every digit kept.

    >>> typed_number(6.0), typed_number(7.5)
    ('6', '7.5')
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


class OutcomeRow:
    """One desired outcome's question and its three boxes."""

    def __init__(self, outcome: DesiredOutcome) -> None:
        w = ipywidgets()
        self.outcome = outcome
        self.question = w.HTML(str(Html('<div style="font-size:14px;margin:6px 0 2px"><b>{}</b></div>').format(outcome.question)))
        self.satisfaction = w.Text(
            description="Satisfaction",
            placeholder="0-10",
            continuous_update=False,
            layout=w.Layout(width="200px"),
            style={"description_width": "90px"},
        )
        self.importance = w.Text(
            description="Importance",
            placeholder="0-10, optional",
            continuous_update=False,
            layout=w.Layout(width="220px"),
            style={"description_width": "90px"},
        )
        self.comment = w.Text(
            description="Comment",
            placeholder="in their own words, optional",
            continuous_update=False,
            layout=w.Layout(width="640px"),
            style={"description_width": "90px"},
        )
        for name, widget in (("satisfaction", self.satisfaction), ("importance", self.importance), ("comment", self.comment)):
            widget.add_class(f"csm-pulse-{name}")
        self.box = w.VBox([self.question, w.HBox([self.satisfaction, self.importance]), self.comment])
        self.box.add_class(f"csm-pulse-outcome-{outcome.id}")

    @property
    def widgets(self) -> list[Any]:
        return [self.satisfaction, self.importance, self.comment]

    def clear(self) -> None:
        for widget in self.widgets:
            widget.value = ""


class PulseAnswerForm(EntryForm):
    """One respondent's answers for one date: a satisfaction (and importance, comment) per desired outcome."""

    NAME = "pulse-answers"
    TITLE = "Record pulse answers"
    REDRAWN = "the report"

    def __init__(self, owner: PulseForms) -> None:
        super().__init__(owner)
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        self._date_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self.respondent = w.Combobox(
            description="Respondent",
            placeholder="who answered",
            ensure_option=False,
            continuous_update=False,
            layout=w.Layout(width="520px"),
            **described,
        )
        self.date = w.DatePicker(description="Date", value=owner.today, layout=w.Layout(width="300px"), **described)
        self.respondent.add_class("csm-pulse-respondent")
        self.date.add_class("csm-pulse-date")
        self.rows: dict[str, OutcomeRow] = {}
        # Whose stored answers the boxes show (respondent, date), once loaded or saved: moving on to a person
        # with no answers that day then starts from empty boxes, so nobody's ratings are saved under another name.
        self._shown_for: tuple[str, str] | None = None
        self.outcomes_box = w.VBox()
        self.box = self._box([self.respondent, self.date, self.outcomes_box], width="700px")
        self.date.observe(self._on_date, names="value")
        self.respondent.observe(self._on_respondent, names="value")
        self._watch([self.respondent])
        self.update()

    # -- what the jobs offer ----------------------------------------------------------------------------
    def update(self) -> None:
        """The respondents offered and a row per desired outcome, from the engagement as it is now (what was
        typed in a row whose outcome is still there is kept)."""
        w = ipywidgets()
        self.respondent.options = tuple(dict.fromkeys(stakeholder_names(self.owner.engagement)))
        outcomes = [o for o in desired_outcomes(self.owner.engagement.jobs) if o.id]
        rows = {o.id: self.rows.get(o.id) or OutcomeRow(o) for o in outcomes}
        for row in rows.values():
            if row not in self.rows.values():
                self._watch(row.widgets)
        self.rows = rows
        self.outcomes_box.children = [r.box for r in rows.values()] or [
            w.HTML(
                str(Html("<i>{}</i>").format("The engagement has no desired outcomes yet: describe the customer's jobs first."))
            )
        ]

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        self.load()
        self._changed()

    def _on_respondent(self, change: Mapping[str, Any]) -> None:
        self.load()

    def load(self) -> None:
        """Show what the respondent answered on the date when the store holds answers of theirs then, so that a
        correction keeps the importance and comment not retyped. Otherwise the boxes are emptied when they show
        another person's or day's stored answers, and what was typed before the name stays."""
        who = _text(self.respondent.value)
        day = self.date.value if self._date_text is None else None
        if who is None or not isinstance(day, dt.date):
            return
        given = {a.desired_outcome: a for a in self.owner.engagement.pulse if a.respondent == who and a.date == day.isoformat()}
        if not given:
            if self._shown_for is not None and self._shown_for != (who, day.isoformat()):
                self._shown_for = None
                self._quiet = True
                try:
                    for row in self.rows.values():
                        row.satisfaction.value = row.importance.value = row.comment.value = ""
                finally:
                    self._quiet = False
            return
        self._shown_for = (who, day.isoformat())
        self._quiet = True
        try:
            for outcome_id, row in self.rows.items():
                answer = given.get(outcome_id)
                row.satisfaction.value = typed_number(answer.satisfaction) if answer else ""
                row.importance.value = typed_number(answer.importance) if answer and answer.importance is not None else ""
                row.comment.value = (answer.comment or "") if answer else ""
        finally:
            self._quiet = False

    # -- what the person does ---------------------------------------------------------------------------
    def fill(
        self,
        *,
        respondent: str | None = None,
        date: dt.date | str | None = None,
        answers: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Enter values as a person would (tests call it): ``answers`` maps a desired outcome's id to any of
        ``satisfaction``, ``importance``, ``comment``; ``date`` may be text, even a date that does not exist."""
        if respondent is not None:
            self.respondent.value = respondent
        if date is not None:
            self.enter_date(date)
        for outcome_id, given in (answers or {}).items():
            if outcome_id not in self.rows:
                raise KeyError(f"no desired outcome {outcome_id!r} in the form; offered: {', '.join(self.rows)}")
            row = self.rows[outcome_id]
            for name in ("satisfaction", "importance", "comment"):
                if name in given:
                    getattr(row, name).value = "" if given[name] is None else str(given[name])

    # -- saving ------------------------------------------------------------------------------------------
    def entry(self) -> list[PulseAnswer]:
        """The answers to save; ``InputError`` names the field and what is expected."""
        who = _text(self.respondent.value)
        if who is None:
            raise InputError("Respondent: type who answered, such as one of the people on the customer's side")
        date = self.typed_date()
        if dt.date.fromisoformat(date) > self.owner.today:
            raise InputError(
                f"Date: {date} is after {day_words(self.owner.today)}, the date the report is read at; "
                "record answers once they are given"
            )
        answers = []
        for row in self.rows.values():
            label = f"{row.outcome.question} ({row.outcome.id})"
            satisfaction = rating(row.satisfaction.value, f"Satisfaction for {label}")
            importance = rating(row.importance.value, f"Importance for {label}")
            comment = _text(row.comment.value)
            if satisfaction is None:
                if importance is not None or comment is not None:
                    raise InputError(f"Satisfaction for {label}: expected a rating from 0 to 10 with the importance or comment")
                continue
            answers.append(PulseAnswer(date, who, row.outcome.id, satisfaction, importance=importance, comment=comment))
        if not answers:
            raise InputError("Satisfaction: rate at least one question from 0 to 10")
        return answers

    def write(self, entry: list[PulseAnswer]) -> dict[str, int]:
        counts = self.store.add_pulse(self.owner.engagement.id, entry, author=self.owner.author)
        self._shown_for = (entry[0].respondent, entry[0].date)
        return counts

    def read_back(self, entry: list[PulseAnswer]) -> None:
        logged = {pulse_key(a): a for a in self.store.load(self.owner.engagement.id).pulse}
        for answer in entry:
            found = logged.get(pulse_key(answer))
            if found != answer:
                raise StoreError(
                    f"{shown_pulse_key(pulse_key(answer))} read back as {found!r} after saving {answer!r}; it may not be saved"
                )

    def described(self, entry: list[PulseAnswer], counts: Mapping[str, int]) -> str:
        first = entry[0]
        what = []
        if counts.get("added"):
            what.append(f"{counts['added']} added")
        if counts.get("updated"):
            what.append(f"{counts['updated']} corrected")
        if counts.get("unchanged"):
            what.append(f"{counts['unchanged']} already so")
        return (
            f"{first.respondent}'s {plural(len(entry), 'answer')} of {day_words(dt.date.fromisoformat(first.date))}: "
            + ", ".join(what)
            + "."
        )


class PulseForms(LiveForms):
    """The form for one engagement, above its pulse report, and the report's parts that redraw after a save.

    ``today`` is the report's ``as_of`` (the default date of a round); ``on_saved`` reads the engagement
    again and calls :meth:`update` (the page's ``refresh``).
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
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        self.answers = PulseAnswerForm(self)
        self.frame(
            [self.answers.box],
            saving="the answers are saved when you press Save; the report below follows",
            css_class="csm-pulse-form",
        )

    def update(self, engagement: Engagement) -> None:
        """The engagement as the store holds it now: the form's questions and respondents follow."""
        self.engagement = engagement
        self.answers.update()
