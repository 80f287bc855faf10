"""Rate a stakeholder from the stakeholder map (ipywidgets): influence, support, status, last contact.

One small form above the map, for a person running the workbook in JupyterLab (the map is
internal: it is not offered in the customer-facing workshop app):

* **Who**: the engagement's stakeholders by name and job (the file's order);
* **Influence** 1-5 and **Support** -2 (opposed) .. +2 (advocate), or not rated;
* **Status** active, new or has left, and **Since** (the date they joined or left; required for
  new and has left, filled with the map's date when the status changes);
* **Cadence** (weekly, monthly, quarterly or none) and **Last contact** ("Met today" sets the map's
  date).

Save replaces the engagement's ``stakeholders`` through ``Store.set_part`` (checked by the
engagement file's rules, one transaction, only if the store is still at the revision the form
read), reads the person back, and only then shows "✓ saved"; the map below is redrawn
(``on_saved``). The same values again write nothing. A wrong value is "Not saved: <the field>:
<what is expected>" and nothing is written; a store held by another program, or changed by
somebody else since the form read it, is "Not saved: ..." with Retry, the entries kept in the form
(Retry after a change by somebody else reads the store again and applies this form's entries to it).

Nothing here needs a browser: tests call ``choose``, ``fill`` and ``save`` and read ``state``,
``message`` and the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.data.store import Store
from csm_nb.errors import ConflictError, InputError, StoreBusyError, StoreError
from csm_nb.forms.plan_log import KEPT, LABEL_WIDTH, LiveForms, SaveMark, labelled, parse_day
from csm_nb.forms.widgets import ipywidgets, not_saved_message, shown_errors
from csm_nb.method.stakeholders import INFLUENCE_WORDS, STATUS_WORDS, SUPPORT_WORDS, signed
from csm_nb.model import Engagement
from csm_nb.render.html import Html
from csm_nb.vocabulary import CADENCE_DAYS, STAKEHOLDER_STATUSES, day_words

log = logging.getLogger(__name__)

NOT_RATED = ""
CHANGED = "changed: press Save to keep it"
# The keys this form sets; every other key of a stakeholder is kept as the file has it.
FORM_KEYS = ("influence", "support", "status", "since", "cadence", "last_contact")


def person_label(record: Mapping[str, Any]) -> str:
    """A stakeholder in the list: name, job, and "has left" when they have.

    >>> person_label({"name": "Tom Becker", "role": "HR Business Partner"}), person_label({"name": "Ana", "status": "left"})
    ('Tom Becker · HR Business Partner', 'Ana · has left')
    """
    bits = [str(record.get("name") or "").strip(), str(record.get("role") or "").strip()]
    if record.get("status") == "left":
        bits.append(STATUS_WORDS["left"])
    return " · ".join(b for b in bits if b)


def updated_record(record: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with the form's ``values`` (``FORM_KEYS``; ``None`` removes a key), the file's key order
    kept and new keys last; an active status the file did not write stays unwritten.

    >>> updated_record({"name": "Tom", "influence": 2, "notes": "x"}, {"influence": 3, "support": None, "status": "active"})
    {'name': 'Tom', 'influence': 3, 'notes': 'x'}
    """
    out = dict(record)
    for key, value in values.items():
        if key == "status" and value == "active" and "status" not in record:
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


class StakeholderForm:
    """Rate one stakeholder and note their status and last contact; Save writes the engagement's list."""

    NAME = "stakeholder"
    TITLE = "Rate a stakeholder"

    def __init__(self, owner: StakeholderForms) -> None:
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        self.owner = owner
        self._quiet = False
        self._since_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self._contact_text: str | None = None
        self._conflict = False
        self.mark = SaveMark(self.NAME, self.retry)
        self.person = w.Dropdown(description="Who", options=[], layout=w.Layout(width="520px"), **described)
        self.influence = w.ToggleButtons(
            options=[("not rated", NOT_RATED)] + [(str(i), i) for i in INFLUENCE_WORDS],
            value=NOT_RATED,
            tooltips=["Not rated yet"] + [f"{i}: {words} influence" for i, words in INFLUENCE_WORDS.items()],
            style={"button_width": "auto"},
        )
        self.support = w.ToggleButtons(
            options=[("not rated", NOT_RATED)] + [(signed(s), s) for s in SUPPORT_WORDS],
            value=NOT_RATED,
            tooltips=["Not rated yet"] + [f"{signed(s)}: {words}" for s, words in SUPPORT_WORDS.items()],
            style={"button_width": "auto"},
        )
        self.status = w.ToggleButtons(
            options=[(STATUS_WORDS[s], s) for s in STAKEHOLDER_STATUSES],
            value="active",
            tooltips=["In post", "Joined recently", "No longer part of the relationship"],
            style={"button_width": "auto"},
        )
        self.since = w.DatePicker(description="Since", value=None, layout=w.Layout(width="300px"), **described)
        self.cadence = w.Dropdown(
            description="Cadence",
            options=[("(none)", "")] + [(f"{c} ({d} days)", c) for c, d in CADENCE_DAYS.items()],
            value="",
            layout=w.Layout(width="300px"),
            **described,
        )
        self.last_contact = w.DatePicker(description="Last contact", value=None, layout=w.Layout(width="300px"), **described)
        self.met_today = w.Button(description="Met today", tooltip="Set the last contact to the map's date")
        self.met_today.on_click(lambda _: self.fill(last_contact=self.owner.today))
        self.save_button = w.Button(description="Save", button_style="primary", tooltip=f"{self.TITLE}: write it to the store")
        self.save_button.on_click(lambda _: self.save())
        for name, widget in (
            ("person", self.person),
            ("influence", self.influence),
            ("support", self.support),
            ("status", self.status),
            ("since", self.since),
            ("cadence", self.cadence),
            ("last-contact", self.last_contact),
            ("met-today", self.met_today),
            ("save", self.save_button),
        ):
            widget.add_class(f"csm-stakeholder-{name}")
        title = w.HTML(str(Html('<div style="font-size:17px;font-weight:600;margin:0 0 4px">{}</div>').format(self.TITLE)))
        self.box = w.VBox(
            [
                title,
                self.person,
                labelled("Influence", self.influence),
                labelled("Support", self.support),
                labelled("Status", self.status),
                self.since,
                self.cadence,
                w.HBox([self.last_contact, self.met_today], layout=w.Layout(align_items="center")),
                w.HBox([self.save_button, self.mark.box], layout=w.Layout(align_items="flex-start", margin="6px 0 0")),
            ],
            layout=w.Layout(border="1px solid #d9dee4", padding="8px 12px", margin="4px 12px 4px 0", width="620px"),
        )
        self.box.add_class("csm-stakeholder")
        self.person.observe(self._on_person, names="value")
        self.status.observe(self._on_status, names="value")
        self.since.observe(self._on_since, names="value")
        self.last_contact.observe(self._on_contact, names="value")
        for widget in (self.influence, self.support, self.cadence):
            widget.observe(self._changed, names="value")
        self.update()

    # -- state -------------------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.owner.store

    @property
    def state(self) -> str:
        return self.mark.state

    @property
    def message(self) -> str:
        return self.mark.message

    def records(self) -> list[dict[str, Any]]:
        return [dict(s) for s in self.owner.engagement.stakeholders or []]

    def record(self) -> dict[str, Any] | None:
        return next((r for r in self.records() if r.get("name") == self.person.value), None)

    def update(self) -> None:
        """The list of people as the engagement holds them now; the chosen one stays chosen (and is shown anew)."""
        self._quiet = True
        try:
            chosen = self.person.value
            records = self.records()
            names = [str(r.get("name")) for r in records]
            self.person.options = [(person_label(r), str(r.get("name"))) for r in records]
            self.person.value = chosen if chosen in names else (names[0] if names else None)
            self._load(self.record())
        finally:
            self._quiet = False

    def _load(self, record: Mapping[str, Any] | None) -> None:
        """Show what the engagement holds for the chosen person."""
        record = record or {}
        self._since_text = self._contact_text = None
        self.influence.value = record.get("influence", NOT_RATED) if record.get("influence") in INFLUENCE_WORDS else NOT_RATED
        self.support.value = record.get("support", NOT_RATED) if record.get("support") in SUPPORT_WORDS else NOT_RATED
        self.status.value = record.get("status") or "active"
        self.since.value = dt.date.fromisoformat(record["since"]) if record.get("since") else None
        self.cadence.value = record.get("cadence") if record.get("cadence") in CADENCE_DAYS else ""
        self.last_contact.value = dt.date.fromisoformat(record["last_contact"]) if record.get("last_contact") else None

    # -- what the person does ---------------------------------------------------------------------------------
    def _changed(self, _: Any = None) -> None:
        """An entry was edited after a save: the mark must not go on saying "saved" for it."""
        if not self._quiet and self.mark.state == "saved":
            self.mark.show("changed", CHANGED)

    @shown_errors
    def _on_person(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._load(self.record())
            self.mark.show("empty")
        finally:
            self._quiet = False

    def _on_status(self, change: Mapping[str, Any]) -> None:
        # Joining or leaving has a date: the map's, until the person gives another.
        if not self._quiet and change["new"] in ("new", "left") and self.since.value is None and self._since_text is None:
            self.since.value = self.owner.today
        self._changed()

    def _on_since(self, change: Mapping[str, Any]) -> None:
        self._since_text = None
        self._changed()

    def _on_contact(self, change: Mapping[str, Any]) -> None:
        self._contact_text = None
        self._changed()

    def choose(self, name: str) -> None:
        """Pick a stakeholder by name, as the dropdown does."""
        names = [v for _, v in self.person.options]
        if name not in names:
            raise KeyError(f"no stakeholder {name!r}; offered: {', '.join(names)}")
        self.person.value = name

    def fill(
        self,
        *,
        influence: Any = None,
        support: Any = None,
        status: str | None = None,
        since: dt.date | str | None = None,
        cadence: str | None = None,
        last_contact: dt.date | str | None = None,
    ) -> None:
        """Enter values as a person would (tests call it); a date may be text, even one that does not exist,
        and ``""`` clears it; ``influence``/``support`` ``""`` is not rated."""
        if influence is not None:
            self._pick(self.influence, influence, "Influence")
        if support is not None:
            self._pick(self.support, support, "Support")
        if status is not None:
            self.status.value = status
        if cadence is not None:
            self.cadence.value = cadence
        if since is not None:
            self._since_text = self._date(self.since, since)
        if last_contact is not None:
            self._contact_text = self._date(self.last_contact, last_contact)
        if self._since_text is not None or self._contact_text is not None:
            self._changed()

    @staticmethod
    def _pick(widget: Any, value: Any, label: str) -> None:
        values = [v for _, v in widget.options]
        if value not in values:
            raise KeyError(f"{label}: {value!r} is not offered; offered: {values}")
        widget.value = value

    @staticmethod
    def _date(picker: Any, value: dt.date | str) -> str | None:
        """Put a date in a picker; text that is no date is kept as typed (returned) for Save to refuse."""
        if isinstance(value, str):
            if not value.strip():
                picker.value = None
                return None
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                return value
        picker.value = value
        return None

    # -- saving ------------------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """What the form holds for the chosen person, as the file writes it; ``InputError`` names the field."""
        if self.record() is None:
            raise InputError("Who: choose a stakeholder from the list")
        influence, support = self.influence.value, self.support.value
        if influence != NOT_RATED and influence not in INFLUENCE_WORDS:
            raise InputError("Influence: choose 1 to 5, or not rated")
        if support != NOT_RATED and support not in SUPPORT_WORDS:
            raise InputError("Support: choose -2 to +2, or not rated")
        status = self.status.value
        if status not in STAKEHOLDER_STATUSES:
            raise InputError("Status: choose active, new or has left")
        since = self._date_value(self._since_text, self.since.value, "Since")
        if status in ("new", "left") and since is None:
            what = "they left" if status == "left" else "they joined"
            raise InputError(f"Since: give the date {what}, such as 2027-04-09; the box is empty")
        cadence = self.cadence.value or None
        if cadence is not None and cadence not in CADENCE_DAYS:
            raise InputError(f"Cadence: choose one of {', '.join(CADENCE_DAYS)}, or none")
        last_contact = self._date_value(self._contact_text, self.last_contact.value, "Last contact")
        # Dates after the map's own date would be left out of it: refused, as the other forms do.
        for label, value in (("Since", since), ("Last contact", last_contact)):
            if value is not None and value > self.owner.today.isoformat():
                raise InputError(
                    f"{label}: {value} is after the map's date ({self.owner.today.isoformat()}); give the day it happened"
                )
        return {
            "influence": None if influence == NOT_RATED else int(influence),
            "support": None if support == NOT_RATED else int(support),
            "status": status,
            "since": since,
            "cadence": cadence,
            "last_contact": last_contact,
        }

    @staticmethod
    def _date_value(typed: str | None, picked: dt.date | None, label: str) -> str | None:
        if typed is not None:
            return parse_day(typed, label)
        return picked.isoformat() if picked else None

    def show_error(self, exc: BaseException) -> None:
        self._conflict = isinstance(exc, ConflictError)
        self.mark.show("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc, then=KEPT))

    @shown_errors
    def retry(self) -> None:
        """Save again: after "the store is busy", or after somebody else's change (read first, then apply ours)."""
        if self._conflict:
            self.owner.engagement = self.store.load(self.owner.engagement.id)
            self._conflict = False
        self._save()

    @shown_errors
    def save(self) -> dict[str, int] | None:
        """What Save does: check the entries, write the list, read the person back, redraw the map.

        ``{"updated": 1}`` or ``{"unchanged": 1}`` (nothing written); None when nothing was saved (the mark says why).
        """
        return self._save()

    def _save(self) -> dict[str, int] | None:
        try:
            values = self.values()
        except InputError as exc:
            self.mark.show("invalid", f"Not saved: {exc}")
            return None
        name = self.person.value
        current = self.records()
        wanted = [updated_record(r, values) if r.get("name") == name else r for r in current]
        self.mark.show("saving")
        eid = self.owner.engagement.id
        with self.owner.lock:
            if wanted == current:
                counts = {"updated": 0, "unchanged": 1}
            else:
                self.store.set_part(
                    eid, "stakeholders", wanted, expected_revision=self.owner.engagement.revision, author=self.owner.author
                )
                counts = {"updated": 1, "unchanged": 0}
            engagement = self.store.load(eid)
            found = next((r for r in engagement.stakeholders or [] if r.get("name") == name), None)
            expected = next(r for r in wanted if r.get("name") == name)
            if found != expected:
                raise StoreError(f"{name} read back as {found!r} after saving {expected!r}; it may not be saved")
        self.owner.engagement = engagement
        detail = self.described(name, values, counts)
        self.mark.show("saved", detail=detail)
        try:
            self.owner.saved()
        except Exception as exc:  # the rating is saved; only the map could not be redrawn
            log.exception("redrawing the stakeholder map after saving failed")
            self.mark.show(
                "saved",
                f"✓ saved (the map below could not be redrawn: {type(exc).__name__}: {exc}; run the notebook again to see it)",
                detail=detail,
            )
        return counts

    @staticmethod
    def described(name: str, values: Mapping[str, Any], counts: Mapping[str, int]) -> str:
        """What was saved, in a line."""
        bits = []
        if values["influence"] is not None:
            bits.append(f"influence {values['influence']}")
        if values["support"] is not None:
            bits.append(f"support {signed(values['support'])}")
        status = STATUS_WORDS[values["status"]]
        bits.append(status + (f" since {day_words(dt.date.fromisoformat(values['since']))}" if values["since"] else ""))
        if values["cadence"]:
            bits.append(values["cadence"])
        if values["last_contact"]:
            bits.append(f"last contact {day_words(dt.date.fromisoformat(values['last_contact']))}")
        what = "saved" if counts.get("updated") else "already saved as it is"
        return f"{name}: {', '.join(bits)}: {what}."


class StakeholderForms(LiveForms):
    """The rating form for one engagement, above its map, and the map's parts that redraw after a save.

    ``on_saved`` reads the engagement again and calls :meth:`update` (the page's ``refresh``); ``today``
    is the map's date (its ``as_of``), which "Met today" and a new status start from.
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
        self.form = StakeholderForm(self)
        self.frame(
            [self.form.box],
            saving="internal: ratings never reach a customer report · saved when you press Save; the map below follows",
            css_class="csm-stakeholder-forms",
        )

    def update(self, engagement: Engagement) -> None:
        """The engagement as the store holds it now: the form's list follows."""
        self.engagement = engagement
        self.form.update()
