"""Raise a risk or update one from the renewal preparation (ipywidgets), in a few clicks.

One small form above the renewal report, for a person in JupyterLab: :class:`RiskForm` ("Raise or
update a risk"): the risk (a new one, or one on record: the open ones first, the most severe first),
its id (made from the description when left empty), kind, what could happen, severity, status, the
mitigation, the owner (the engagement's stakeholders offered, others typed) and the date it was raised
(default: the report's date, ``as_of``); Save.

Saving replaces the engagement's risks through ``Store.set_part(engagement_id, "risks", ...)`` in one
transaction, with only that risk added or changed, reads it back, and only then shows "✓ saved"; the
report below is redrawn from the store (``on_saved``). The same values again change nothing. When
somebody else changed that risk since the form was drawn, nothing is saved: "Not saved: ... changed
it ..." says so, and Retry saves this one over it. A wrong value is "Not saved: <the field>: <what is
expected>" and nothing is written; a store held by another program is waited for
``SAVE_WAIT_SECONDS``, then "Not saved: the store is busy (held by ...)" with Retry. Every handler
runs through :func:`csm_nb.forms.widgets.shown_errors`.

Nothing here needs a browser: tests call ``choose``, ``fill`` and ``save`` (what the clicks do) and
read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from csm_nb.errors import ConflictError, InputError, StoreBusyError, StoreError
from csm_nb.forms.plan_log import KEPT, LABEL_WIDTH, EntryForm, LiveForms, labelled, parse_day, stakeholder_names
from csm_nb.forms.widgets import ipywidgets, not_saved_message, shown_errors
from csm_nb.method.renewal import risk_is_open, risks_in_order
from csm_nb.model import Engagement
from csm_nb.vocabulary import RISK_KINDS, RISK_SEVERITIES, RISK_STATUSES

NEW = ""  # the dropdown's value for a risk not on record yet
OVERWRITE = "press Retry to save yours over it"
FIELDS = ("id", "kind", "description", "raised", "severity", "status", "mitigation", "owner")
_ID_WORDS = 4  # words of the description a made-up id keeps


def choice_label(risk: Mapping[str, Any]) -> str:
    """A risk in the list as people pick it: its id, severity and status.

    >>> choice_label({"id": "winter-ratings", "severity": "high", "status": "plan_in_place"})
    'winter-ratings · high · plan in place'
    """
    severity = risk.get("severity") or "not rated"
    return f"{risk.get('id')} · {severity} · {RISK_STATUSES.get(risk.get('status') or '', risk.get('status') or '')}"


def made_id(description: str, taken: Sequence[str]) -> str:
    """An id for a new risk from the first words of its description, unique among ``taken``.

    >>> made_id("HR has no one to approve the next survey", []), made_id("HR has no one", ["hr-has-no-one"])
    ('hr-has-no-one', 'hr-has-no-one-2')
    """
    words = re.findall(r"[a-z0-9]+", description.casefold())[:_ID_WORDS]
    base = "-".join(words) or "risk"
    found, n = base, 2
    while found in taken:
        found, n = f"{base}-{n}", n + 1
    return found


def _text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


class RiskForm(EntryForm):
    """Raise a new risk, or change one on record (kind, severity, status, mitigation, owner ...)."""

    NAME = "risk"
    TITLE = "Raise or update a risk"
    REDRAWN = "the report"

    def __init__(self, owner: RenewalForms) -> None:
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        wide = w.Layout(width="520px")
        super().__init__(owner)
        self._date_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self._overwrite: str | None = None  # the risk whose newer values the person chose to save over
        self._fresh: Engagement | None = None  # the engagement as read back after the last save
        self.risk = w.Dropdown(description="Risk", options=[("(a new risk)", NEW)], value=NEW, layout=wide, **described)
        self.risk_id = w.Text(
            description="Id", placeholder="empty: made from the description", continuous_update=False, layout=wide, **described
        )
        self.kind = w.Dropdown(
            description="Kind",
            options=[("(choose)", "")] + [(k, k) for k in RISK_KINDS],
            value="",
            layout=w.Layout(width="300px"),
            **described,
        )
        self.description = w.Text(
            description="What could happen",
            placeholder="such as: the sponsor leaves before the renewal",
            continuous_update=False,
            layout=wide,
            **described,
        )
        self.severity = w.ToggleButtons(
            options=[(s, s) for s in RISK_SEVERITIES] + [("not rated", "")], value="medium", style={"button_width": "auto"}
        )
        self.status = w.Dropdown(
            description="Status",
            options=[(words, key) for key, words in RISK_STATUSES.items()],
            value="open",
            layout=w.Layout(width="300px"),
            **described,
        )
        self.mitigation = w.Text(
            description="Mitigation", placeholder="what we do about it", continuous_update=False, layout=wide, **described
        )
        self.owner_box = w.Combobox(
            description="Owner",
            placeholder="who acts on it",
            ensure_option=False,
            continuous_update=False,
            layout=wide,
            **described,
        )
        self.raised = w.DatePicker(description="Raised on", value=owner.today, layout=w.Layout(width="300px"), **described)
        for name, widget in (
            ("choice", self.risk),
            ("id", self.risk_id),
            ("kind", self.kind),
            ("description", self.description),
            ("severity", self.severity),
            ("status", self.status),
            ("mitigation", self.mitigation),
            ("owner", self.owner_box),
            ("raised", self.raised),
        ):
            widget.add_class(f"csm-risk-{name}")
        self.box = self._box(
            [
                self.risk,
                self.risk_id,
                self.kind,
                self.description,
                labelled("Severity", self.severity),
                self.status,
                self.mitigation,
                self.owner_box,
                self.raised,
            ]
        )
        self.risk.observe(self._on_risk, names="value")
        self.raised.observe(self._on_date, names="value")
        for widget in (self.risk_id, self.kind, self.description, self.severity, self.status, self.mitigation, self.owner_box):
            widget.observe(self._changed, names="value")
        self.update()
        self._quiet = True
        try:
            self._load()
        finally:
            self._quiet = False

    def on_record(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.owner.engagement.risks or []]

    def chosen(self) -> dict[str, Any] | None:
        return next((r for r in self.on_record() if r.get("id") == self.risk.value), None) if self.risk.value else None

    # -- what the engagement offers ----------------------------------------------------------------
    def update(self) -> None:
        """Redraw the list from the engagement (after a save the same risk stays chosen, with what it holds now)."""
        self._quiet = True
        try:
            before = self.risk.value
            ordered = risks_in_order(self.on_record())
            self.risk.options = [("(a new risk)", NEW)] + [(choice_label(r), r["id"]) for r in ordered]
            ids = [r["id"] for r in ordered]
            self.risk.value = before if before in ids else NEW
            self.owner_box.options = tuple(dict.fromkeys(stakeholder_names(self.owner.engagement)))
            if self.risk.value != before:  # the risk shown is gone: show a new one
                self._load()
        finally:
            self._quiet = False

    def show_saved(self, risk_id: str) -> None:
        """After a save: the list as the store holds it now, with the risk just saved chosen and shown."""
        self._quiet = True
        try:
            self.risk.options = [("(a new risk)", NEW)] + [(choice_label(r), r["id"]) for r in risks_in_order(self.on_record())]
            self.risk.value = risk_id
            self.owner_box.options = tuple(dict.fromkeys(stakeholder_names(self.owner.engagement)))
            self._load()
        finally:
            self._quiet = False

    def _load(self) -> None:
        """Show the chosen risk as recorded, or an empty form for a new one."""
        chosen = self.chosen() or {}
        self._date_text = None
        self.risk_id.value = chosen.get("id") or ""
        self.risk_id.disabled = bool(chosen)  # an id on record names the risk: it does not change
        self.kind.value = chosen.get("kind") or ""
        self.description.value = chosen.get("description") or ""
        self.severity.value = chosen.get("severity") or ("" if chosen else "medium")
        self.status.value = chosen.get("status") or "open"
        self.mitigation.value = chosen.get("mitigation") or ""
        self.owner_box.value = chosen.get("owner") or ""
        raised = chosen.get("raised")
        self.raised.value = dt.date.fromisoformat(raised) if raised else (None if chosen else self.owner.today)
        if chosen:
            words = "open" if risk_is_open(chosen) else "closed"
            self.mark.show("empty", detail=f"On record, {words}: saving changes it.")
        else:
            self.mark.show("empty")

    # -- what the person does ---------------------------------------------------------------------
    @shown_errors
    def _on_risk(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._load()
        finally:
            self._quiet = False

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        self._changed()

    def choose(self, risk_id: str) -> None:
        """Pick a risk by its id ("" for a new one), as the dropdown does."""
        ids = [v for _, v in self.risk.options]
        if risk_id not in ids:
            raise KeyError(f"no risk {risk_id!r} to update; offered: {', '.join(i for i in ids if i)}")
        self.risk.value = risk_id

    def fill(self, **values: Any) -> None:
        """Enter values as a person would (tests call it): ``id``, ``kind``, ``description``, ``severity``,
        ``status``, ``mitigation``, ``owner``, ``raised`` (text, even a date that does not exist, or a date)."""
        boxes = {
            "id": self.risk_id,
            "kind": self.kind,
            "description": self.description,
            "severity": self.severity,
            "status": self.status,
            "mitigation": self.mitigation,
            "owner": self.owner_box,
        }
        for key, value in values.items():
            if key == "raised":
                if isinstance(value, str):
                    try:
                        value = dt.date.fromisoformat(value.strip())
                    except ValueError:
                        self._date_text = value  # a date picker cannot hold it; Save checks it as typed
                        self._changed()
                        continue
                self._date_text = None
                self.raised.value = value
            elif key in boxes:
                boxes[key].value = value
            else:
                raise KeyError(f"no field {key!r} in the risk form; fields: {', '.join(FIELDS)}")

    # -- saving ------------------------------------------------------------------------------------
    def entry(self) -> dict[str, Any]:
        """The risk the form holds, as the engagement file writes it; ``InputError`` names the field that is wrong."""
        chosen = self.chosen()
        kind = self.kind.value or ""
        if kind not in RISK_KINDS:
            raise InputError(f"Kind: choose one of {', '.join(RISK_KINDS)}")
        description = _text(self.description.value)
        if description is None:  # a new risk, or a recorded one whose words were cleared
            raise InputError("What could happen: say in a few words what the risk is")
        if self.severity.value not in (*RISK_SEVERITIES, ""):
            raise InputError(f"Severity: choose one of {', '.join(RISK_SEVERITIES)}, or not rated")
        if self.status.value not in RISK_STATUSES:
            raise InputError(f"Status: choose one of {', '.join(RISK_STATUSES)}")
        raised_value = self._date_text if self._date_text is not None else self.raised.value
        raised = parse_day(raised_value, "Raised on") if raised_value not in (None, "") else None
        if raised is not None and dt.date.fromisoformat(raised) > self.owner.today:
            raise InputError(
                f"Raised on: {raised} is after the report's date ({self.owner.today.isoformat()}); a risk is raised once it is seen"
            )
        if chosen is not None:
            risk_id = chosen["id"]
        else:
            typed = _text(self.risk_id.value)
            taken = [r.get("id") for r in self.on_record()]
            if typed is not None and typed in taken:
                raise InputError(
                    f"Id: {typed!r} is already a risk on record; choose it in the list to update it, or give another id"
                )
            risk_id = typed or made_id(description or "", taken)
        risk = {
            "id": risk_id,
            "kind": kind,
            "description": description,
            "raised": raised,
            "severity": self.severity.value or None,
            "status": self.status.value,
            "mitigation": _text(self.mitigation.value),
            "owner": _text(self.owner_box.value),
        }
        return {k: v for k, v in risk.items() if v is not None}

    def show_error(self, exc: BaseException) -> None:
        then = f"{OVERWRITE}, or choose another risk" if isinstance(exc, ConflictError) else KEPT
        self.mark.show("busy" if isinstance(exc, StoreBusyError) else "error", not_saved_message(exc, then=then))

    @shown_errors
    def save(self) -> dict[str, int] | None:
        """What Save does (EntryForm.save); a fresh Save never writes over somebody else's newer values."""
        self._overwrite = None
        return self._save()

    def saved(self, risk: dict[str, Any]) -> None:
        self._overwrite = None
        assert self._fresh is not None  # read_back ran first
        self.owner.reloaded(self._fresh, chosen=risk["id"])

    def described(self, risk: dict[str, Any], counts: Mapping[str, int]) -> str:
        what = "raised" if counts["added"] else ("updated" if counts["updated"] else "already so on record")
        return f"Risk {risk['id']}: {what}."

    def write(self, risk: dict[str, Any]) -> dict[str, int]:
        """Replace the engagement's risks with this one added or changed, in one transaction."""
        eid, author = self.owner.engagement.id, self.owner.author
        seen = next((r for r in self.on_record() if r.get("id") == risk["id"]), None)
        with self.store.transaction():
            fresh = self.store.load(eid)
            risks = copy.deepcopy(fresh.risks or [])
            at = next((i for i, r in enumerate(risks) if r.get("id") == risk["id"]), None)
            current = risks[at] if at is not None else None
            if current != seen and self._overwrite != risk["id"]:
                self._overwrite = risk["id"]  # Retry: the person saw what changed and saves theirs over it
                now = "gone from the record" if current is None else f"{choice_label(current)}"
                verb = "added" if seen is None else "changed"
                raise ConflictError(
                    f"{fresh.updated_by or 'somebody'} {verb} risk {risk['id']} since this form was drawn: it is now {now}"
                )
            if current == risk:
                return {"added": 0, "updated": 0, "unchanged": 1}
            if at is None:
                risks.append(risk)
            else:
                risks[at] = risk
            self.store.set_part(eid, "risks", risks, expected_revision=fresh.revision, author=author)
        return {"added": int(at is None), "updated": int(at is not None), "unchanged": 0}

    def read_back(self, risk: Mapping[str, Any]) -> None:
        """Keeps the engagement as the store holds it after the save; ``StoreError`` when the risk is not there as saved."""
        fresh = self.store.load(self.owner.engagement.id)
        found = next((r for r in fresh.risks or [] if r.get("id") == risk["id"]), None)
        if found != risk:
            raise StoreError(f"risk {risk['id']!r} read back as {found!r} after saving {dict(risk)!r}; it may not be saved")
        self._fresh = fresh


class RenewalForms(LiveForms):
    """The risk form for one engagement, above its renewal report, and the report's parts that redraw after a save.

    ``on_saved`` reads the engagement again and calls :meth:`update` (the page's ``refresh``); ``today`` is the
    date the form starts from (the page's ``as_of``).
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
        self.risk = RiskForm(self)
        self.frame(
            [self.risk.box], saving="a risk is saved when you press Save; the report below follows", css_class="csm-renewal-form"
        )

    def update(self, engagement: Engagement) -> None:
        """The engagement as the store holds it now: the form's list follows."""
        self.engagement = engagement
        self.risk.update()

    def reloaded(self, engagement: Engagement, *, chosen: str | None = None) -> None:
        """After a save: the engagement read back, and the risk just saved chosen (to correct it)."""
        self.engagement = engagement
        if chosen is None:
            self.risk.update()
        else:
            self.risk.show_saved(chosen)
