"""The logs that grow beside measurements: the moment log, events, the CSM's activities and the pulse.

Each entry comes from an engagement file (``moments:``, ``events:``) or a CSV/XLSX file appended
with ``csm-nb import FILE --engagement ID``. Both are checked by the same rules
(:data:`csm_nb.data.schema.MOMENT_LOG_ENTRY` and :data:`~csm_nb.data.schema.EVENT`, then
:func:`moment_record` and :func:`event_record`), and both are keyed the same way, so the same
row imported again changes nothing:

* a **moment-log entry** is one occurrence of a moment: ``(moment, due)``, or ``(moment, held)``
  when the log gives no due date (a milestone happens once; a recurring moment's occurrence is
  named by its date). A second entry for the same occurrence corrects the first.
* an **event** is ``(date, type, ref, respondent)``: two survey answers on one day are two events
  when their respondents differ; give a ``ref`` (a case number) to tell other same-day events apart.
* a **pulse answer** is ``(date, respondent, desired_outcome)``: a second answer of the same person
  about the same outcome on the same day corrects the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csm_nb.data.schema import Context, Path_
from csm_nb.model import Activity, Event, MomentRecord, PulseAnswer

MomentKey = tuple[str, str]
ActivityKey = tuple[str, str, str]
EventKey = tuple[str, str, str, str]
PulseKey = tuple[str, str, str]


def moment_key(record: MomentRecord) -> MomentKey:
    """Which occurrence an entry is about: its moment and its due date, else its held date.

    >>> moment_key(MomentRecord("qbr", due="2027-04-01", held="2027-04-06")), moment_key(MomentRecord("kickoff"))
    (('qbr', '2027-04-01'), ('kickoff', ''))
    """
    return (record.moment, record.due or record.held or "")


def event_key(event: Event) -> EventKey:
    """What tells one event from another: its date, type, reference and respondent."""
    return (event.date, event.type, event.ref or "", event.respondent or "")


def shown_moment_key(key: MomentKey) -> str:
    """An occurrence in words: ``'qbr' of 2027-04-01``, or the moment alone."""
    return f"{key[0]!r} of {key[1]}" if key[1] else repr(key[0])


def shown_event_key(key: EventKey) -> str:
    """An event in words: ``support_case of 2027-03-02 (CASE-1123)``."""
    extra = ", ".join(part for part in key[2:] if part)
    return f"{key[1]} of {key[0]}" + (f" ({extra})" if extra else "")


def moment_record(entry: Mapping[str, Any], base: Path_, ctx: Context) -> MomentRecord:
    """A checked log entry (``schema.MOMENT_LOG_ENTRY``'s result) as a record; a held date and a status must agree.

    ``status: held`` needs the held date; a cancelled or missed occurrence has none.
    """
    status, held = entry.get("status"), entry.get("held")
    if status == "held" and not held:
        raise ctx.fail(base + ("status",), "status held needs the day it was held (held: YYYY-MM-DD)")
    if held and status in ("cancelled", "no_show"):
        raise ctx.fail(base + ("held",), f"a {status.replace('_', '-')} occurrence was not held; remove held or the status")
    return MomentRecord(**entry)


def event_record(entry: Mapping[str, Any], base: Path_, ctx: Context) -> Event:
    """A checked event (``schema.EVENT``'s result) as an :class:`Event`; a score is within its scale."""
    score, scale = entry.get("score"), entry.get("scale")
    if scale is not None and scale <= 0:
        raise ctx.fail(base + ("scale",), f"expected the highest score possible (more than 0), got {scale:g}")
    if score is not None and scale is not None and not 0 <= score <= scale:
        raise ctx.fail(base + ("score",), f"expected a score from 0 to the scale's {scale:g}, got {score:g}")
    return Event(**entry)


def activity_key(activity: Activity) -> ActivityKey:
    """What tells one activity from another: its date, type and title."""
    return (activity.date, activity.type, activity.title)


def activity_record(entry: Mapping[str, Any]) -> Activity:
    """A checked activity (``schema.ACTIVITY``'s result) as an :class:`Activity` (the file's ``with`` is ``people``).

    >>> activity_record({"date": "2027-02-01", "type": "call", "title": "Renewal", "with": ["Ann"]}).people
    ['Ann']
    """
    fields = dict(entry)
    fields["people"] = fields.pop("with", None) or []
    fields["missions"] = fields.get("missions") or []
    return Activity(**fields)


def activity_document(activity: Activity) -> dict[str, Any]:
    """The activity as the file writes it (empty lists and unset values left out): the inverse of :func:`activity_record`."""
    doc = {
        "date": activity.date,
        "type": activity.type,
        "title": activity.title,
        "missions": activity.missions,
        "with": activity.people,
        "moment": activity.moment,
        "minutes": activity.minutes,
        "outcome": activity.outcome,
    }
    return {k: v for k, v in doc.items() if v not in (None, [])}


def pulse_key(answer: PulseAnswer) -> PulseKey:
    """What tells one pulse answer from another: its date, respondent and desired outcome."""
    return (answer.date, answer.respondent, answer.desired_outcome)


def shown_pulse_key(key: PulseKey) -> str:
    """An answer in words: ``Priya Raman's answer on 'plan-time' of 2027-03-31``."""
    return f"{key[1]}'s answer on {key[2]!r} of {key[0]}"
