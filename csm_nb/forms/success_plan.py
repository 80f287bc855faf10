"""Tick a milestone of the success plan done (ipywidgets), in a few clicks.

One small form above the success plan, for a person in JupyterLab: :class:`MilestoneDoneForm`
("Tick a milestone done"): the milestone (the plan's, the overdue and due ones first), Done (ticked),
the date it was done (default: the plan's date, ``as_of``); Save. Unticking Done and saving takes the
date away again (the milestone is then open, or done by its evidence).

Saving replaces the engagement's success plan through ``Store.set_part(engagement_id, "success_plan",
...)`` in one transaction, with only that milestone's ``done_on`` changed, reads it back, and only then
shows "✓ saved"; the plan below is redrawn from the store (``on_saved``). The same date again changes
nothing. When somebody else changed that milestone's date since the form was drawn, nothing is saved:
"Not saved: ... changed it ..." says to what, and Retry saves this one over it. A wrong date is "Not
saved: Done on: <what is expected>" and nothing is written; a store held by another program is waited
for ``SAVE_WAIT_SECONDS``, then "Not saved: the store is busy (held by ...)" with Retry. Every handler
runs through :func:`csm_nb.forms.widgets.shown_errors`.

Nothing here needs a browser: tests call ``choose``, ``fill`` and ``save`` (what the clicks do) and
read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from csm_nb.errors import ConflictError, InputError, StoreBusyError, StoreError
from csm_nb.forms.plan_log import KEPT, LABEL_WIDTH, EntryForm, LiveForms, parse_day
from csm_nb.forms.widgets import ipywidgets, not_saved_message, shown_errors
from csm_nb.method.success_plan import STATUSES, Milestone, plan_milestones
from csm_nb.model import Engagement
from csm_nb.vocabulary import day_words

URGENT = ("overdue", "due")  # offered first: what is waiting to be ticked
OVERWRITE = "press Retry to save yours over it"


def choice_label(m: Milestone) -> str:
    """A milestone in the list as people pick it: its name, status and the date that matters.

    >>> choice_label(Milestone("r", "Rating reaches 7", dt.date(2027, 3, 31), None, "overdue", 5))
    'Rating reaches 7 · overdue (due 31 Mar 2027)'
    >>> choice_label(Milestone("p", "Platform live", dt.date(2027, 1, 15), dt.date(2027, 1, 20), "done_late", 5))
    'Platform live · done late on 20 Jan 2027'
    """
    words = STATUSES[m.status].words
    if m.done_on is not None:
        return f"{m.name} · {words} on {day_words(m.done_on)}"
    return f"{m.name} · {words}" + (f" (due {day_words(m.due)})" if m.due else "")


def milestone_order(milestones: Sequence[Milestone]) -> list[Milestone]:
    """The milestones to offer: overdue and due soon first (the oldest due first), then the planned ones,
    then those done, each in the plan's order."""

    def rank(m: Milestone) -> int:
        return 0 if m.status in URGENT else (1 if not m.done else 2)

    return sorted(milestones, key=lambda m: (rank(m), (m.due or dt.date.max) if rank(m) == 0 else dt.date.min))


class MilestoneDoneForm(EntryForm):
    """Tick one milestone done on a date, or untick it."""

    NAME = "milestone-done"
    TITLE = "Tick a milestone done"

    def __init__(self, owner: SuccessPlanForms) -> None:
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        super().__init__(owner)
        self._date_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self._overwrite: str | None = None  # the milestone whose newer date the person chose to save over
        self._fresh: Engagement | None = None  # the engagement as read back after the last save
        self.milestone = w.Dropdown(description="Milestone", options=[], layout=w.Layout(width="520px"), **described)
        self.done = w.Checkbox(description="Done", value=True, indent=False, layout=w.Layout(width="auto"))
        self.done_on = w.DatePicker(description="Done on", value=owner.today, layout=w.Layout(width="300px"), **described)
        for name, widget in (("milestone", self.milestone), ("done", self.done), ("date", self.done_on)):
            widget.add_class(f"csm-milestone-{name}")
        self.box = self._box([self.milestone, w.HBox([self.done_on, self.done], layout=w.Layout(align_items="center"))])
        self.milestone.observe(self._on_milestone, names="value")
        self.done.observe(self._on_done, names="value")
        self.done_on.observe(self._on_date, names="value")
        self.update()

    def chosen(self) -> Milestone | None:
        return next((m for m in self.owner.milestones if m.id == self.milestone.value), None)

    # -- what the plan offers ---------------------------------------------------------------------
    def update(self) -> None:
        """Redraw the list from the plan (after a save the same milestone stays chosen, with what it holds now)."""
        self._quiet = True
        try:
            before = self.milestone.value
            offered = [m for m in milestone_order(self.owner.milestones) if m.id]
            self.milestone.options = [(choice_label(m), m.id) for m in offered]
            ids = [m.id for m in offered]
            self.milestone.value = before if before in ids else (ids[0] if ids else None)
            if self.milestone.value != before:
                self._load()
        finally:
            self._quiet = False

    def _load(self) -> None:
        """Show the chosen milestone: ticked on its date when done, else ticked for the plan's date."""
        chosen = self.chosen()
        self._date_text = None
        self.done.value = True
        self.done_on.value = chosen.done_on if chosen is not None and chosen.done_on else self.owner.today
        self.done_on.disabled = False
        if chosen is not None and chosen.done and chosen.completed_by in ("kpi", "moment"):
            detail = "Done by its evidence: saving records the date by hand."
        elif chosen is not None and chosen.done:
            detail = "Done already: saving corrects the date; untick Done to take it away."
        else:
            detail = ""
        self.mark.show("empty", detail=detail)

    # -- what the person does ---------------------------------------------------------------------
    @shown_errors
    def _on_milestone(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._load()
        finally:
            self._quiet = False

    def _on_done(self, change: Mapping[str, Any]) -> None:
        self.done_on.disabled = not change["new"]
        self._changed()

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        self._changed()

    def choose(self, milestone_id: str) -> None:
        """Pick a milestone by its id, as the dropdown does."""
        ids = [v for _, v in self.milestone.options]
        if milestone_id not in ids:
            raise KeyError(f"no milestone {milestone_id!r} to tick; offered: {', '.join(ids)}")
        self.milestone.value = milestone_id

    def fill(self, *, done: bool | None = None, done_on: dt.date | str | None = None) -> None:
        """Enter values as a person would (tests call it); ``done_on`` may be text, even a date that does not exist."""
        if done is not None:
            self.done.value = done
        if done_on is not None:
            if isinstance(done_on, str):
                try:
                    done_on = dt.date.fromisoformat(done_on.strip())
                except ValueError:
                    self._date_text = done_on  # a date picker cannot hold it; Save checks it as typed
                    self._changed()
                    done_on = None
            if done_on is not None:
                self._date_text = None
                self.done_on.value = done_on

    # -- saving ------------------------------------------------------------------------------------
    def entry(self) -> tuple[str, str | None]:
        """(milestone id, its done date as ISO text or None to untick); ``InputError`` names the field."""
        chosen = self.chosen()
        if chosen is None or not chosen.id:
            raise InputError("Milestone: choose the milestone from the list")
        if not self.done.value:
            return chosen.id, None
        done_on = parse_day(self._date_text if self._date_text is not None else self.done_on.value, "Done on")
        if dt.date.fromisoformat(done_on) > self.owner.today:
            raise InputError(
                f"Done on: {done_on} is after {day_words(self.owner.today)}, the date the plan is judged at; "
                "tick a milestone once it is done"
            )
        return chosen.id, done_on

    def show_error(self, exc: BaseException) -> None:
        then = f"{OVERWRITE}, or choose another milestone" if isinstance(exc, ConflictError) else KEPT
        self.mark.show("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc, then=then))

    @shown_errors
    def save(self) -> dict[str, int] | None:
        """What Save does (EntryForm.save); a fresh Save never writes over somebody else's newer date.

        The counts ``{"updated", "unchanged"}``; None when nothing was saved (the mark says why).
        """
        self._overwrite = None
        return self._save()

    def saved(self, entry: tuple[str, str | None]) -> None:
        self._overwrite = None
        assert self._fresh is not None  # read_back ran first
        self.owner.reloaded(self._fresh)

    def described(self, entry: tuple[str, str | None], counts: Mapping[str, int]) -> str:
        milestone_id, done_on = entry
        name = next((m.name for m in self.owner.milestones if m.id == milestone_id), None) or milestone_id
        detail = (
            f"{name}: no longer marked done by hand"
            if done_on is None
            else f"{name}: done on {day_words(dt.date.fromisoformat(done_on))}"
        )
        return detail + (": saved." if counts["updated"] else ": already so in the plan.")

    def write(self, entry: tuple[str, str | None]) -> dict[str, int]:
        """Replace the success plan with this milestone's date changed, in one transaction."""
        milestone_id, done_on = entry
        eid, author = self.owner.engagement.id, self.owner.author
        seen = next(
            (
                m.get("done_on")
                for m in (self.owner.engagement.success_plan or {}).get("milestones") or []
                if m.get("id") == milestone_id
            ),
            None,
        )
        with self.store.transaction():
            fresh = self.store.load(eid)
            plan = copy.deepcopy(fresh.success_plan or {})
            items = plan.get("milestones") or []
            at = next((i for i, m in enumerate(items) if m.get("id") == milestone_id), None)
            if at is None:
                raise InputError(
                    f"Milestone: {milestone_id!r} is no longer in the success plan; run the notebook again to see it"
                )
            current = items[at].get("done_on")
            if current != seen and self._overwrite != milestone_id:
                self._overwrite = milestone_id  # Retry: the person saw what changed and saves theirs over it
                theirs = f"done on {day_words(dt.date.fromisoformat(current))}" if current else "not ticked done"
                raise ConflictError(
                    f"{fresh.updated_by or 'somebody'} changed {items[at].get('name') or milestone_id} since this form was "
                    f"drawn: it is now {theirs}"
                )
            if current == done_on:
                return {"updated": 0, "unchanged": 1}
            item = dict(items[at])
            if done_on is None:
                item.pop("done_on", None)
            else:
                item["done_on"] = done_on
            items[at] = item
            self.store.set_part(eid, "success_plan", plan, expected_revision=fresh.revision, author=author)
        return {"updated": 1, "unchanged": 0}

    def read_back(self, entry: tuple[str, str | None]) -> None:
        """Keeps the engagement as the store holds it after the save; ``StoreError`` when the date is not there."""
        milestone_id, done_on = entry
        fresh = self.store.load(self.owner.engagement.id)
        found = next((m for m in (fresh.success_plan or {}).get("milestones") or [] if m.get("id") == milestone_id), None)
        if found is None or found.get("done_on") != done_on:
            raise StoreError(
                f"milestone {milestone_id!r} read back with done_on {None if found is None else found.get('done_on')!r} "
                f"after saving {done_on!r}; it may not be saved"
            )
        self._fresh = fresh


class SuccessPlanForms(LiveForms):
    """The form for one engagement, above its success plan, and the plan's parts that redraw after a save.

    ``milestones`` are the plan's judged at ``today`` (the page's ``as_of``); ``on_saved`` reads the
    engagement again and calls :meth:`update` (the page's ``refresh``).
    """

    def __init__(
        self,
        engagement: Engagement,
        milestones: Sequence[Milestone],
        *,
        db: str | None = None,
        author: str | None = None,
        today: dt.date | None = None,
        on_saved: Callable[[], Any] | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        self.milestones = list(milestones)
        self.milestone = MilestoneDoneForm(self)
        self.frame(
            [self.milestone.box],
            saving="a milestone is saved when you press Save; the plan below follows",
            css_class="csm-success-plan-form",
        )

    def update(self, engagement: Engagement, milestones: Sequence[Milestone]) -> None:
        """The engagement and its plan as the store holds them now: the form's list follows."""
        self.engagement, self.milestones = engagement, list(milestones)
        self.milestone.update()

    def reloaded(self, engagement: Engagement) -> None:
        """After a save: the engagement read back, its milestones judged again (the page may redraw more)."""
        self.update(engagement, plan_milestones(engagement, as_of=self.today))
