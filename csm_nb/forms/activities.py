"""Log an activity from the CSM activities report (ipywidgets), in a few clicks.

One small form above the report, for a person in JupyterLab: :class:`ActivityForm` ("Log an
activity"): the date (default: the report's date, ``as_of``), the type (meeting, call, workshop ...),
what it was (a short title), the missions it served (ticked: one activity may serve several), the
people taking part (the engagement's stakeholders as buttons, others typed), the moment of the plan
it was (optional), the minutes it took and what came of it; Save.

Saving appends the activity through ``Store.add_activities`` (an activity is told apart by its date,
type and title, so saving the same one again with other values corrects it), reads it back, and only
then shows "✓ saved"; the report below is redrawn from the store (``on_saved``). The same entry again
changes nothing. A wrong value is "Not saved: <the field>: <what is expected>" and nothing is
written; a store held by another program is waited for ``SAVE_WAIT_SECONDS``, then "Not saved: the
store is busy (held by ...)" with Retry, the entries kept in the form. Every handler runs through
:func:`csm_nb.forms.widgets.shown_errors`.

Nothing here needs a browser: tests call ``fill`` and ``save`` (what the clicks do) and read
``state``, ``message`` and the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.data.lifecycle import activity_key
from csm_nb.errors import InputError, StoreError
from csm_nb.forms.plan_log import (
    GREY,
    LABEL_WIDTH,
    EntryForm,
    LiveForms,
    labelled,
    parse_number,
    stakeholder_names,
)
from csm_nb.forms.widgets import ipywidgets
from csm_nb.model import Activity, Engagement, EngagementModel
from csm_nb.render.html import Html
from csm_nb.vocabulary import ACTIVITY_TYPES, MISSIONS, day_words

FIELDS = ("date", "type", "title", "missions", "people", "others", "moment", "minutes", "outcome")


def _text(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


def _names(text: Any) -> list[str]:
    return [name for name in (" ".join(part.split()) for part in str(text or "").split(",")) if name]


class ActivityForm(EntryForm):
    """Log one activity: when, what, for which missions, with whom, how long, and what came of it."""

    NAME = "activity"
    TITLE = "Log an activity"
    REDRAWN = "the report"

    def __init__(self, owner: ActivityForms) -> None:
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        wide = w.Layout(width="520px")
        super().__init__(owner)
        self._date_text: str | None = None  # a date typed as text (tests) that a date picker cannot hold
        self._people_names: list[str] | None = None
        self.date = w.DatePicker(description="Date", value=owner.today, layout=w.Layout(width="300px"), **described)
        self.type = w.Dropdown(
            description="Type",
            options=[(t, t) for t in ACTIVITY_TYPES],
            value="meeting",
            layout=w.Layout(width="300px"),
            **described,
        )
        self.title = w.Text(
            description="What",
            placeholder="such as: renewal planning with the sponsor",
            continuous_update=False,
            layout=wide,
            **described,
        )
        self.mission_boxes: dict[str, Any] = {}
        for key, words in MISSIONS.items():
            box = w.Checkbox(description=words, value=False, indent=False, layout=w.Layout(width="250px"))
            box.add_class(f"csm-activity-mission-{key}")
            self.mission_boxes[key] = box
        self.missions_box = w.Box(list(self.mission_boxes.values()), layout=w.Layout(flex_flow="row wrap", width="520px"))
        self.people_buttons: dict[str, Any] = {}
        self.people_box = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.others = w.Text(
            description="Others", placeholder="names, separated by commas", continuous_update=False, layout=wide, **described
        )
        self.moment = w.Dropdown(description="Moment", options=[("(none)", "")], value="", layout=wide, **described)
        self.minutes = w.Text(
            description="Minutes", placeholder="such as 45", continuous_update=False, layout=w.Layout(width="250px"), **described
        )
        self.outcome = w.Text(
            description="Outcome", placeholder="what was agreed or achieved", continuous_update=False, layout=wide, **described
        )
        for name, widget in (
            ("date", self.date),
            ("type", self.type),
            ("title", self.title),
            ("others", self.others),
            ("moment", self.moment),
            ("minutes", self.minutes),
            ("outcome", self.outcome),
        ):
            widget.add_class(f"csm-activity-{name}")
        self.box = self._box(
            [
                self.date,
                self.type,
                self.title,
                labelled("Missions", self.missions_box),
                labelled("With", self.people_box),
                self.others,
                self.moment,
                self.minutes,
                self.outcome,
            ],
            width="680px",
        )
        self.date.observe(self._on_date, names="value")
        self._watch([self.type, self.title, *self.mission_boxes.values(), self.others, self.moment, self.minutes, self.outcome])
        self.update()

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        self._changed()

    # -- what the engagement offers ----------------------------------------------------------------
    def update(self) -> None:
        """The people and moments to pick from, as the engagement holds them now (what was picked stays)."""
        w = ipywidgets()
        self._quiet = True
        try:
            names = list(dict.fromkeys(stakeholder_names(self.owner.engagement)))
            if self._people_names != names:
                picked = {n for n, b in self.people_buttons.items() if b.value}
                self._people_names = names
                self.people_buttons = {}
                for name in names:
                    button = w.ToggleButton(
                        description=name, value=name in picked, tooltip=f"{name} took part", layout=w.Layout(width="auto")
                    )
                    button.add_class("csm-activity-person")
                    button.observe(self._changed, names="value")
                    self.people_buttons[name] = button
                self.people_box.children = list(self.people_buttons.values()) or [
                    w.HTML(
                        str(
                            Html('<i style="color:{}">{}</i>').format(
                                GREY, "No stakeholders in the engagement: type names below."
                            )
                        )
                    )
                ]
            model = self.owner.model
            before = self.moment.value
            options = [("(none)", "")] + [(m.name or m.id.replace("_", " "), m.id) for m in (model.moments if model else [])]
            self.moment.options = options
            self.moment.value = before if before in [v for _, v in options] else ""
        finally:
            self._quiet = False

    def fill(self, **values: Any) -> None:
        """Enter values as a person would (tests call it): ``date`` (text, even a date that does not exist, or a
        date), ``type``, ``title``, ``missions`` (the ticked ones), ``people`` (the buttons pressed), ``others``,
        ``moment``, ``minutes`` (as typed), ``outcome``."""
        for key, value in values.items():
            if key == "date":
                if isinstance(value, str):
                    try:
                        value = dt.date.fromisoformat(value.strip())
                    except ValueError:
                        self._date_text = value  # a date picker cannot hold it; Save checks it as typed
                        self._changed()
                        continue
                self._date_text = None
                self.date.value = value
            elif key == "missions":
                for mission, box in self.mission_boxes.items():
                    box.value = mission in value
            elif key == "people":
                for name, button in self.people_buttons.items():
                    button.value = name in value
                unknown = [n for n in value if n not in self.people_buttons]
                if unknown:
                    self.others.value = ", ".join(unknown)
            elif key in ("type", "title", "others", "moment", "outcome"):
                getattr(self, key).value = value
            elif key == "minutes":
                self.minutes.value = "" if value is None else str(value)
            else:
                raise KeyError(f"no field {key!r} in the activity form; fields: {', '.join(FIELDS)}")

    # -- saving ------------------------------------------------------------------------------------
    def entry(self) -> Activity:
        """The activity the form holds; ``InputError`` names the field that is wrong."""
        date = self.typed_date()
        if dt.date.fromisoformat(date) > self.owner.today:
            raise InputError(
                f"Date: {date} is after the report's date ({self.owner.today.isoformat()}); log an activity once it is done"
            )
        kind = self.type.value or ""
        if kind not in ACTIVITY_TYPES:
            raise InputError(f"Type: choose one of {', '.join(ACTIVITY_TYPES)}")
        title = _text(self.title.value)
        if title is None:
            raise InputError("What: say in a few words what the activity was")
        missions = [m for m, box in self.mission_boxes.items() if box.value]
        if not missions:
            raise InputError("Missions: tick the missions this activity served (at least one)")
        minutes = parse_number(self.minutes.value, "Minutes")
        if minutes is not None and minutes < 0:
            raise InputError(f"Minutes: expected the minutes it took, 0 or more; you typed {self.minutes.value.strip()}")
        people = [n for n, b in self.people_buttons.items() if b.value]
        people += [n for n in _names(self.others.value) if n not in people]
        moment = self.moment.value or None
        return Activity(date, kind, title, missions, people, moment, minutes, _text(self.outcome.value))

    def write(self, activity: Activity) -> dict[str, int]:
        return self.store.add_activities(self.owner.engagement.id, [activity], author=self.owner.author)

    def described(self, activity: Activity, counts: Mapping[str, int]) -> str:
        return f"{activity.title} ({activity.type}, {day_words(dt.date.fromisoformat(activity.date))}): {self._what_happened(counts)}."

    def read_back(self, activity: Activity) -> None:
        """``StoreError`` unless the store holds the activity as saved."""
        logged = {activity_key(a): a for a in self.store.load(self.owner.engagement.id).activities}
        found = logged.get(activity_key(activity))
        if found != activity:
            raise StoreError(
                f"the activity {activity.title!r} of {activity.date} read back as {found!r} after saving {activity!r}; it may not be saved"
            )


class ActivityForms(LiveForms):
    """The activity form for one engagement, above its activities report, and the report's parts that redraw
    after a save. ``model`` names the moments an activity may be; ``on_saved`` reads the engagement again and
    calls :meth:`update` (the page's ``refresh``); ``today`` is the date the form starts from (``as_of``)."""

    def __init__(
        self,
        engagement: Engagement,
        model: EngagementModel | None = None,
        *,
        db: str | None = None,
        author: str | None = None,
        today: dt.date | None = None,
        on_saved: Callable[[], Any] | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        self.model = model
        self.activity = ActivityForm(self)
        self.frame(
            [self.activity.box],
            saving="an activity is saved when you press Save; the report below follows",
            css_class="csm-activity-form",
        )

    def update(self, engagement: Engagement) -> None:
        """The engagement as the store holds it now: the people to pick follow."""
        self.engagement = engagement
        self.activity.update()
