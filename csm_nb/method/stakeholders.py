"""The stakeholder map's rules: who stands where, who is missing, who has not heard from us.

Pure functions over the engagement's ``stakeholders`` (the checked mappings of the file, see
``csm_nb.data.schema.STAKEHOLDER``) and its logs; dates are ``datetime.date``, durations whole
days. A stakeholder without ``side`` is at the customer; without ``status`` active. "Present" is
every stakeholder whose status is not ``left`` (a ``new`` one counts).

* **Quadrants** (:func:`quadrant`): influence 1-5 against support -2..+2. Influence >= 3 and
  support <= 0: win over; influence >= 3 and support > 0: keep close; influence < 3 and
  support <= 0: monitor; else keep informed.
* **Single-threaded** (:func:`is_single_threaded`): exactly one present customer contact with
  influence >= 4.
* **Coverage** (:func:`level_coverage`): present customer contacts and our people at each of the
  three levels (operational, business, strategic).
* **Overdue contacts** (:func:`contact_status`): as_of - last contact > the cadence's days
  (``vocabulary.CADENCE_DAYS``: weekly 7, monthly 31, quarterly 92). The last contact is the latest
  of ``last_contact``, an activity ``with`` them and a moment held with them as an attendee, never
  later than ``as_of``; a cadence with no contact on record is overdue.
* **Changes** (:func:`changes`): stakeholders who left or are new with ``since`` in the 90 days up
  to ``as_of`` (0 <= as_of - since <= 90).
* **Sponsor change** (:func:`sponsor_change_events`): a customer sponsor or champion who has left
  is an event of type ``sponsor_change`` dated by ``since``.
* **Relationship checks** (:func:`relationship_checks`): a present sponsor, a present champion, a
  customer contact at each level, no present stakeholder with influence >= 4 and support < 0 (the
  health score's relationship component scores 25 for each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.model import Activity, Event, MomentRecord
from csm_nb.vocabulary import CADENCE_DAYS, LEVELS, STAKEHOLDER_ROLES, Verdict, day_words, plural

# -- the map's numbers (docs/stakeholder-map.md: decisions, not settings) -----------------------------
HIGH_INFLUENCE = 3  # from here a stakeholder can move the engagement: win over or keep close
KEY_INFLUENCE = 4  # a key person: the one who makes a relationship single-threaded, or a strong opponent
CHANGES_DAYS = 90  # "recent" changes: left or new within this many days of as_of
KEY_ROLES = ("sponsor", "champion")  # the roles whose departure is a sponsor change

# -- words -------------------------------------------------------------------------------------------
# Where a stakeholder stands on the influence x support grid, and what to do about it.
QUADRANTS: dict[str, Verdict] = {
    "win_over": Verdict("win over", "Win over.", "warn", phrase="can move the engagement and is not for it yet"),
    "keep_close": Verdict("keep close", "Keep close.", "good", phrase="can move the engagement and is for it"),
    "monitor": Verdict("monitor", "Monitor.", "info", phrase="has little sway and is not for it"),
    "keep_informed": Verdict("keep informed", "Keep informed.", "info", phrase="has little sway and is for it"),
}
# What to do with each quadrant, in a line.
QUADRANT_ADVICE: dict[str, str] = {
    "win_over": "learn what they want from it and show them what they gain; never let a decision surprise them",
    "keep_close": "involve them in decisions and ask them to speak for the results",
    "monitor": "watch for a change in their stance; a short update now and then is enough",
    "keep_informed": "tell them how it goes; they are allies to call on",
}
SUPPORT_WORDS: dict[int, str] = {-2: "opposed", -1: "sceptical", 0: "neutral", 1: "supportive", 2: "advocate"}
INFLUENCE_WORDS: dict[int, str] = {1: "little", 2: "some", 3: "real", 4: "strong", 5: "decisive"}
STATUS_WORDS: dict[str, str] = {"active": "active", "new": "new", "left": "has left"}
SIDE_WORDS: dict[str, str] = {"customer": "customer", "ours": "our team", "partner": "partner"}
CHECK_WORDS: dict[str, str] = {
    "active_sponsor": "a sponsor at the customer, still in post",
    "active_champion": "a champion at the customer, still in post",
    "levels_covered": "a customer contact at each level (operational, business, strategic)",
    "no_strong_opponent": "no one with influence 4 or more who opposes the engagement",
}


# -- the stakeholder, with its defaults ------------------------------------------------------------------
def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    return tuple(str(v) for v in value if str(v).strip())


@dataclass(frozen=True)
class Stakeholder:
    """One person around the engagement, with the file's defaults applied (side customer, status active).

    ``role`` is their job title as people say it; ``roles`` what they are to the engagement (keys of
    ``vocabulary.STAKEHOLDER_ROLES``). Influence 1-5 and support -2..+2 are ``None`` until rated.
    """

    name: str
    role: str | None = None
    side: str = "customer"
    org_unit: str | None = None
    reports_to: str | None = None
    roles: tuple[str, ...] = ()
    level: str | None = None
    function: str | None = None
    influence: int | None = None
    support: int | None = None
    objectives: tuple[str, ...] = ()
    contributes: str | None = None
    knows_about: tuple[str, ...] = ()
    cadence: str | None = None
    last_contact: dt.date | None = None
    status: str = "active"
    since: dt.date | None = None
    position: int = field(default=0, compare=False)  # where the file lists them: ties keep that order

    @property
    def present(self) -> bool:
        """Still part of the relationship: active or new, not left."""
        return self.status != "left"

    @property
    def at_customer(self) -> bool:
        return self.side == "customer"

    @property
    def rated(self) -> bool:
        return self.influence is not None and self.support is not None

    @classmethod
    def from_record(cls, record: Mapping[str, Any], position: int = 0) -> Stakeholder:
        """A stakeholder from the engagement file's mapping.

        >>> s = Stakeholder.from_record({"name": "Tom Becker", "roles": ["champion"], "influence": 3, "support": 1})
        >>> s.side, s.status, s.roles, s.present, s.rated
        ('customer', 'active', ('champion',), True, True)
        """

        def whole(key: str) -> int | None:
            value = record.get(key)
            return None if value is None else int(value)

        return cls(
            name=str(record.get("name") or "").strip(),
            role=record.get("role"),
            side=record.get("side") or "customer",
            org_unit=record.get("org_unit"),
            reports_to=record.get("reports_to"),
            roles=_texts(record.get("roles")),
            level=record.get("level"),
            function=record.get("function"),
            influence=whole("influence"),
            support=whole("support"),
            objectives=_texts(record.get("objectives")),
            contributes=record.get("contributes"),
            knows_about=_texts(record.get("knows_about")),
            cadence=record.get("cadence"),
            last_contact=_date(record.get("last_contact")),
            status=record.get("status") or "active",
            since=_date(record.get("since")),
            position=position,
        )


People = Sequence[Mapping[str, Any] | Stakeholder] | None


def people(stakeholders: People) -> list[Stakeholder]:
    """The engagement's stakeholders (its mappings, or ``Stakeholder`` already) with their defaults, in order."""
    out = []
    for i, record in enumerate(stakeholders or []):
        out.append(record if isinstance(record, Stakeholder) else Stakeholder.from_record(record, i))
    return out


def role_words(roles: Iterable[str]) -> str:
    """The roles as people say them.

    >>> role_words(["sponsor", "budget_holder"])
    'executive sponsor, budget holder'
    """
    return ", ".join(STAKEHOLDER_ROLES.get(r, r.replace("_", " ")) for r in roles)


def signed(value: int) -> str:
    """A rating with its sign, zero without one.

    >>> signed(2), signed(0), signed(-1)
    ('+2', '0', '-1')
    """
    return f"{value:+d}" if value else "0"


# -- the grid --------------------------------------------------------------------------------------------
def quadrant(influence: int | None, support: int | None) -> str | None:
    """Where a stakeholder stands on the influence x support grid; ``None`` until both are rated.

    Influence is 1 (little) to 5 (decisive), support -2 (opposed) to +2 (advocate); the line
    between high and low influence is 3 (``HIGH_INFLUENCE``, high from 3 on), the one between for
    and not for is 0 (neutral counts as not for).

    * influence >= 3 and support <= 0: ``win_over``;
    * influence >= 3 and support > 0: ``keep_close``;
    * influence < 3 and support <= 0: ``monitor``;
    * influence < 3 and support > 0: ``keep_informed``.

    >>> quadrant(5, 0), quadrant(3, 1), quadrant(2, -2), quadrant(2, 2), quadrant(4, None)
    ('win_over', 'keep_close', 'monitor', 'keep_informed', None)
    """
    if influence is None or support is None:
        return None
    high = influence >= HIGH_INFLUENCE
    for_us = support > 0
    if high:
        return "keep_close" if for_us else "win_over"
    return "keep_informed" if for_us else "monitor"


def quadrants(stakeholders: People) -> dict[str, list[str]]:
    """The present stakeholders' names by quadrant (every quadrant listed, the most influential first,
    then the file's order), and ``not_rated``: present customer and partner people not rated yet.

    >>> quadrants([{"name": "A", "influence": 4, "support": -1}, {"name": "B", "influence": 5, "support": 0},
    ...            {"name": "C"}, {"name": "D", "side": "ours"}, {"name": "E", "influence": 5, "support": 2,
    ...            "status": "left"}])
    {'win_over': ['B', 'A'], 'keep_close': [], 'monitor': [], 'keep_informed': [], 'not_rated': ['C']}
    """
    found: dict[str, list[Stakeholder]] = {key: [] for key in QUADRANTS}
    unrated = []
    for person in people(stakeholders):
        if not person.present:
            continue
        where = quadrant(person.influence, person.support)
        if where is not None:
            found[where].append(person)
        elif person.side != "ours":
            unrated.append(person.name)
    out = {key: [p.name for p in sorted(found[key], key=lambda p: (-(p.influence or 0), p.position))] for key in QUADRANTS}
    out["not_rated"] = unrated
    return out


# -- the organisation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrgNode:
    """A stakeholder and the people who report to them, in the file's order."""

    person: Stakeholder
    reports: tuple[OrgNode, ...] = ()

    def names(self) -> list[str]:
        """This node's name and everyone under it, depth first."""
        return [self.person.name] + [n for child in self.reports for n in child.names()]


def org_tree(stakeholders: People) -> list[OrgNode]:
    """The reporting lines as trees: a root is anyone who reports to no stakeholder (or to a name that
    is not one); everyone appears once. Import refuses loops; here a loop's people become roots.

    >>> trees = org_tree([{"name": "Ravi", "reports_to": "Priya"}, {"name": "Grace"},
    ...                   {"name": "Priya", "reports_to": "Grace"}])
    >>> [t.names() for t in trees]
    [['Grace', 'Priya', 'Ravi']]
    """
    everyone = people(stakeholders)
    names = {p.name for p in everyone}
    under: dict[str, list[Stakeholder]] = {}
    for p in everyone:
        if p.reports_to in names and p.reports_to != p.name:
            under.setdefault(p.reports_to, []).append(p)
    placed: set[str] = set()

    def grow(person: Stakeholder) -> OrgNode:
        placed.add(person.name)
        return OrgNode(person, tuple(grow(child) for child in under.get(person.name, []) if child.name not in placed))

    roots = [grow(p) for p in everyone if p.reports_to not in names or p.reports_to == p.name]
    roots += [grow(p) for p in everyone if p.name not in placed]  # a loop the checks did not see
    return roots


# -- coverage, single thread, checks -------------------------------------------------------------------------
def level_coverage(stakeholders: People) -> dict[str, dict[str, list[str]]]:
    """Present people at each level: the customer's contacts and our counterparts, by name.

    >>> level_coverage([{"name": "Grace", "level": "strategic"}, {"name": "Sam", "side": "ours", "level": "business"},
    ...                 {"name": "Ola", "level": "operational", "status": "left"}])["strategic"]
    {'customer': ['Grace'], 'ours': []}
    """
    out: dict[str, dict[str, list[str]]] = {level: {"customer": [], "ours": []} for level in LEVELS}
    for p in people(stakeholders):
        if p.present and p.level in out and p.side in ("customer", "ours"):
            out[p.level][p.side].append(p.name)
    return out


def strong_contacts(stakeholders: People) -> list[str]:
    """The present customer contacts with influence >= 4 (``KEY_INFLUENCE``), in the file's order."""
    return [
        p.name
        for p in people(stakeholders)
        if p.present and p.at_customer and p.influence is not None and p.influence >= KEY_INFLUENCE
    ]


def is_single_threaded(stakeholders: People) -> bool:
    """Does the relationship hang on one person: exactly one present customer contact with influence >= 4?

    >>> is_single_threaded([{"name": "A", "influence": 5}, {"name": "B", "influence": 3}])
    True
    >>> is_single_threaded([{"name": "A", "influence": 5}, {"name": "B", "influence": 4}])
    False
    """
    return len(strong_contacts(stakeholders)) == 1


def relationship_checks(stakeholders: People) -> dict[str, bool]:
    """The four checks of the health score's relationship component, each met or not.

    * ``active_sponsor``: a customer stakeholder with the role sponsor who has not left;
    * ``active_champion``: the same for champion;
    * ``levels_covered``: a present customer contact at each of the three levels;
    * ``no_strong_opponent``: no present stakeholder with influence >= 4 and support < 0.

    The component scores 25 for each check met (0 to 100).

    >>> relationship_checks([
    ...     {"name": "Priya", "roles": ["sponsor"], "level": "business", "influence": 4, "support": 2},
    ...     {"name": "Tom", "roles": ["champion"], "level": "business", "status": "left"},
    ...     {"name": "Grace", "level": "strategic", "influence": 5, "support": 1},
    ...     {"name": "Lena", "level": "operational", "influence": 4, "support": -1}])
    {'active_sponsor': True, 'active_champion': False, 'levels_covered': True, 'no_strong_opponent': False}
    """
    present = [p for p in people(stakeholders) if p.present]
    customer = [p for p in present if p.at_customer]
    return {
        "active_sponsor": any("sponsor" in p.roles for p in customer),
        "active_champion": any("champion" in p.roles for p in customer),
        "levels_covered": all(any(p.level == level for p in customer) for level in LEVELS),
        "no_strong_opponent": not any(
            p.influence is not None and p.influence >= KEY_INFLUENCE and p.support is not None and p.support < 0 for p in present
        ),
    }


# -- contacts ------------------------------------------------------------------------------------------------
def logged_contacts(
    activities: Iterable[Activity] = (), moments: Iterable[MomentRecord] = (), *, as_of: dt.date
) -> dict[str, dt.date]:
    """The latest date each person was met, from the activity log (``with``) and the moments held
    (``attendees``), up to ``as_of``; names as written.

    >>> logged_contacts([Activity("2026-12-01", "call", "Check-in", people=["Tom Becker"])],
    ...                 [MomentRecord("qbr", held="2026-12-10", attendees=["Tom Becker", "Grace Obi"])],
    ...                 as_of=dt.date(2026, 12, 5))
    {'Tom Becker': datetime.date(2026, 12, 1)}
    """
    seen: dict[str, dt.date] = {}

    def met(name: str, day: dt.date | None) -> None:
        if day is not None and day <= as_of and (name not in seen or day > seen[name]):
            seen[name] = day

    for a in activities:
        for name in a.people:
            met(name, _date(a.date))
    for m in moments:
        if m.held and (m.status in (None, "held")):
            for name in m.attendees or []:
                met(name, _date(m.held))
    return seen


@dataclass(frozen=True)
class Contact:
    """How long since we last spoke to a stakeholder with a cadence, at ``as_of``.

    ``days`` = as_of - last contact (``None``: no contact on record); ``overdue`` when days >
    ``cadence_days`` or nothing is on record. ``source`` says where the last contact comes from:
    ``last_contact`` (the file or the form), ``log`` (an activity or a moment held), or ``None``.
    """

    name: str
    cadence: str
    cadence_days: int
    last: dt.date | None
    days: int | None
    overdue: bool
    source: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cadence": self.cadence,
            "cadence_days": self.cadence_days,
            "last_contact": self.last.isoformat() if self.last else None,
            "days": self.days,
            "overdue": self.overdue,
            "source": self.source,
        }


def days_since_contact(last: dt.date | None, *, as_of: dt.date) -> int | None:
    """Whole days from the last contact to ``as_of`` (a contact after ``as_of`` is not known then: ``None``).

    >>> days_since_contact(dt.date(2026, 11, 6), as_of=dt.date(2026, 12, 21)), days_since_contact(None, as_of=dt.date(2026, 12, 21))
    (45, None)
    """
    if last is None or last > as_of:
        return None
    return (as_of - last).days


def is_overdue(days: int | None, cadence: str) -> bool:
    """A contact is overdue when the days since the last one exceed the cadence's days
    (``CADENCE_DAYS``: weekly 7, monthly 31, quarterly 92), or when there is none on record.

    >>> is_overdue(31, "monthly"), is_overdue(32, "monthly"), is_overdue(45, "monthly"), is_overdue(None, "weekly")
    (False, True, True, True)
    """
    return days is None or days > CADENCE_DAYS[cadence]


def contact_status(stakeholders: People, *, as_of: dt.date, logged: Mapping[str, dt.date] | None = None) -> list[Contact]:
    """Every present stakeholder with a cadence: the last contact (the later of ``last_contact`` and
    ``logged``, see :func:`logged_contacts`, never after ``as_of``), days since, overdue or not.

    >>> [c.days for c in contact_status([{"name": "Tom Becker", "cadence": "monthly", "last_contact": "2026-11-06"}],
    ...                                 as_of=dt.date(2026, 12, 21))]
    [45]
    """
    logged = logged or {}
    out = []
    for p in people(stakeholders):
        if not p.present or p.cadence not in CADENCE_DAYS:
            continue
        written = p.last_contact if p.last_contact is not None and p.last_contact <= as_of else None
        from_log = logged.get(p.name)
        if from_log is not None and (written is None or from_log > written):
            last, source = from_log, "log"
        else:
            last, source = written, ("last_contact" if written else None)
        days = days_since_contact(last, as_of=as_of)
        out.append(Contact(p.name, p.cadence, CADENCE_DAYS[p.cadence], last, days, is_overdue(days, p.cadence), source))
    return out


def overdue_contacts(stakeholders: People, *, as_of: dt.date, logged: Mapping[str, dt.date] | None = None) -> list[Contact]:
    """The contacts overdue at ``as_of``, the longest silence first (no contact on record first of all)."""
    late = [c for c in contact_status(stakeholders, as_of=as_of, logged=logged) if c.overdue]
    return sorted(late, key=lambda c: -(c.days if c.days is not None else 10**9))


# -- changes and the sponsor-change event -------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """A stakeholder who left or is new, ``days`` before ``as_of``."""

    name: str
    status: str  # left | new
    since: dt.date
    days: int
    roles: tuple[str, ...]
    side: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "since": self.since.isoformat(),
            "days_ago": self.days,
            "roles": list(self.roles),
            "side": self.side,
        }


def changes(stakeholders: People, *, as_of: dt.date, days: int = CHANGES_DAYS) -> list[Change]:
    """The stakeholders who left or are new with ``since`` within ``days`` (90) before ``as_of``:
    0 <= as_of - since <= days; the most recent first. One without ``since`` cannot be dated and is
    left out (the page names them).

    >>> [(c.name, c.status, c.days) for c in changes([
    ...     {"name": "Priya", "status": "left", "since": "2026-11-01"},
    ...     {"name": "Ana", "status": "new", "since": "2026-12-15"},
    ...     {"name": "Old", "status": "left", "since": "2026-08-01"}], as_of=dt.date(2026, 12, 21))]
    [('Ana', 'new', 6), ('Priya', 'left', 50)]
    """
    out = []
    for p in people(stakeholders):
        if p.status in ("left", "new") and p.since is not None and 0 <= (as_of - p.since).days <= days:
            out.append(Change(p.name, p.status, p.since, (as_of - p.since).days, p.roles, p.side))
    return sorted(out, key=lambda c: (c.days, c.name))


def sponsor_change_events(stakeholders: People) -> list[Event]:
    """A ``sponsor_change`` event for each customer sponsor or champion who has left, dated by their
    ``since`` (one without ``since`` cannot be dated and raises none), ``respondent`` their name;
    oldest first. The engagement plan answers it with its sponsor-change moment.

    >>> sponsor_change_events([{"name": "Priya Raman", "roles": ["sponsor"], "status": "left", "since": "2027-03-01"},
    ...                        {"name": "Tom Becker", "roles": ["user"], "status": "left", "since": "2027-02-01"}])
    [Event(date='2027-03-01', type='sponsor_change', severity=None, ref=None, score=None, scale=None, respondent='Priya Raman', note='executive sponsor left')]
    """
    out = []
    for p in people(stakeholders):
        key = [r for r in p.roles if r in KEY_ROLES]
        if p.at_customer and p.status == "left" and key and p.since is not None:
            out.append(Event(p.since.isoformat(), "sponsor_change", respondent=p.name, note=f"{role_words(key)} left"))
    return sorted(out, key=lambda e: (e.date, e.respondent or ""))


# -- who knows what ----------------------------------------------------------------------------------------------
def _knows(topic: str, subject: str) -> bool:
    a, b = " ".join(topic.casefold().split()), " ".join(subject.casefold().split())
    return bool(a) and bool(b) and (a in b or b in a)


def who_should_be_in_the_room(stakeholders: People, topic: str) -> list[str]:
    """The present stakeholders who know about ``topic`` (their ``knows_about``; case and spacing do
    not matter, and "survey" finds "surveys"), the most influential first, then the file's order.

    >>> who_should_be_in_the_room([{"name": "Tom", "knows_about": ["surveys", "works council"], "influence": 3},
    ...                            {"name": "Ravi", "knows_about": ["rotas"]},
    ...                            {"name": "Ines", "side": "ours", "knows_about": ["Survey design"], "influence": 4}],
    ...                           "survey")
    ['Ines', 'Tom']
    """
    found = [p for p in people(stakeholders) if p.present and any(_knows(topic, s) for s in p.knows_about)]
    return [p.name for p in sorted(found, key=lambda p: (-(p.influence or 0), p.position))]


def topics(stakeholders: People) -> dict[str, list[str]]:
    """Every topic the present stakeholders know about (as first written; case and spacing ignored),
    with who knows it, in the order the file first names them.

    >>> topics([{"name": "Tom", "knows_about": ["Surveys"]}, {"name": "Ravi", "knows_about": ["surveys", "rotas"]}])
    {'Surveys': ['Tom', 'Ravi'], 'rotas': ['Ravi']}
    """
    out: dict[str, list[str]] = {}
    written: dict[str, str] = {}
    for p in people(stakeholders):
        if not p.present:
            continue
        for subject in p.knows_about:
            key = " ".join(subject.casefold().split())
            shown = written.setdefault(key, subject.strip())
            if p.name not in out.setdefault(shown, []):
                out[shown].append(p.name)
    return out


def objectives_side_by_side(stakeholders: People) -> list[Stakeholder]:
    """The present stakeholders who stated objectives of their own, the most influential first: the
    ones that compete must each get something, or resources are held back."""
    found = [p for p in people(stakeholders) if p.present and p.objectives]
    return sorted(found, key=lambda p: (-(p.influence or 0), p.position))


# -- actions ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    """One thing to do about the relationship, in words: ``kind`` says which rule raised it."""

    kind: str
    who: str | None
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "who": self.who, "text": self.text}


def _cadence_words(cadence: str) -> str:
    return f"{cadence} cadence"


def relationship_actions(
    stakeholders: People,
    *,
    as_of: dt.date,
    logged: Mapping[str, dt.date] | None = None,
    days: int = CHANGES_DAYS,
) -> list[Action]:
    """What to do, most pressing first: a missing sponsor or champion, the people to win over, a single
    thread, levels without a contact (theirs or ours), overdue contacts, new people to meet. No
    stakeholder at all: nothing (there is no map to act on yet).

    >>> for a in relationship_actions([
    ...         {"name": "Priya Raman", "roles": ["sponsor"], "status": "left", "since": "2026-12-01", "level": "business"},
    ...         {"name": "Tom Becker", "roles": ["champion"], "level": "business", "influence": 3, "support": 1,
    ...          "cadence": "monthly", "last_contact": "2026-11-06"}], as_of=dt.date(2026, 12, 21)):
    ...     print(a.text)
    Find a new sponsor: Priya Raman left on 1 Dec 2026.
    Find a contact with influence 4 or more: no one rated at the customer has that much.
    Meet someone at the operational level: no customer contact there yet.
    Meet someone at the strategic level: no customer contact there yet.
    Re-engage Tom Becker: no contact for 45 days, monthly cadence.
    """
    everyone = people(stakeholders)
    if not everyone:
        return []
    present = [p for p in everyone if p.present]
    customer = [p for p in present if p.at_customer]
    out: list[Action] = []
    checks = relationship_checks(everyone)
    for role, check in (("sponsor", "active_sponsor"), ("champion", "active_champion")):
        if checks[check]:
            continue
        gone = [p for p in everyone if p.at_customer and not p.present and role in p.roles]
        if gone:
            last = max(gone, key=lambda p: (p.since or dt.date.min, p.position))
            when = f" on {day_words(last.since)}" if last.since else ""
            out.append(Action(f"find_{role}", last.name, f"Find a new {role}: {last.name} left{when}."))
        else:
            out.append(Action(f"find_{role}", None, f"Find a {role}: no one at the customer is named {role} yet."))
    for p in sorted(present, key=lambda p: (-(p.influence or 0), p.position)):
        if quadrant(p.influence, p.support) == "win_over":
            stance = SUPPORT_WORDS.get(p.support if p.support is not None else 0, "")
            out.append(
                Action(
                    "win_over",
                    p.name,
                    f"Win over {p.name}: influence {p.influence} of 5, {stance} (support {signed(p.support or 0)}).",
                )
            )
    strong = strong_contacts(everyone)
    if len(strong) == 1:
        out.append(
            Action(
                "single_threaded",
                strong[0],
                f"Widen the relationship: {strong[0]} is the only customer contact with influence {KEY_INFLUENCE} or more.",
            )
        )
    elif not strong and any(p.influence is not None for p in customer):
        out.append(
            Action(
                "no_strong_contact",
                None,
                f"Find a contact with influence {KEY_INFLUENCE} or more: no one rated at the customer has that much.",
            )
        )
    coverage = level_coverage(everyone)
    if customer and not any(p.level in LEVELS for p in customer):
        out.append(
            Action("level_gap", None, "Note each customer contact's level (operational, business, strategic): none is set.")
        )
        coverage = {}
    unmatched: dict[str, list[str]] = {}
    for level, sides in coverage.items():
        if not sides["customer"]:
            out.append(Action("level_gap", None, f"Meet someone at the {level} level: no customer contact there yet."))
        elif not sides["ours"] and any(p.side == "ours" for p in present):
            unmatched[level] = sides["customer"]
    if unmatched:
        levels = " and ".join(unmatched)
        their = ", ".join(name for names in unmatched.values() for name in names)
        out.append(
            Action(
                "counterpart_gap",
                None,
                f"Name our counterpart{'s' * (len(unmatched) > 1)} at the {levels} level{'s' * (len(unmatched) > 1)}: "
                f"no one on our side meets {their}.",
            )
        )
    for c in overdue_contacts(everyone, as_of=as_of, logged=logged):
        if c.days is None:
            text = f"Contact {c.name}: no contact on record, {_cadence_words(c.cadence)}."
        else:
            text = f"Re-engage {c.name}: no contact for {plural(c.days, 'day')}, {_cadence_words(c.cadence)}."
        out.append(Action("overdue_contact", c.name, text))
    for change in changes(everyone, as_of=as_of, days=days):
        if change.status == "new" and change.side != "ours":
            out.append(Action("new_stakeholder", change.name, f"Get to know {change.name}: new since {day_words(change.since)}."))
    return out
