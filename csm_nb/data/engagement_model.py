"""Engagement models (``csm-nb/engagement-model@1``): how a CS organisation engages one segment of customers.

A model lists the **moments** of a customer's life with us, who on our side owns each one and what
it must achieve, and **triggers** that call for a response on top of the plan:

* ``milestone`` moments (onboarding) chain from the signature: ``after: {moment: contract.signed
  or a milestone, days: n}``;
* ``time`` moments recur, ``every: "N day|week|month|quarter|year"`` ``from`` contract.start,
  contract.signed, a milestone or a date, ``until`` contract.end (the default) or a date; or
  come once, ``before: {anchor: contract.end|contract.start, days: n}``;
* ``event`` moments answer a condition, ``when: {...}``, within ``respond_within_days``.

Conditions (an event moment's ``when`` and a trigger's ``when``) are a closed grammar, see
:data:`GRAMMAR`. :func:`check_model` validates a model, a whole file or one written inline in an
engagement, and returns an :class:`~csm_nb.model.EngagementModel`. Every problem is one line
naming the file, the line, the key, the model and the moment or trigger, e.g.::

    hi.yaml, line 21: moments[3].after.moment: model 'hi', moment 'initial_training': 'activatd' is
    not a milestone of the model; expected contract.signed or one of: kickoff, activated, ...

**Built-in models** (``csm_nb/data/models/*.yaml``, package data): ``high-touch`` and
``low-touch``. They need no import. A model imported into a store under the same id overrides the
built-in one in that store (``Store.model``), so an organisation can adapt ``high-touch`` without
renaming it; ``csm-nb export --model high-touch`` writes the one in force.

**Which model an engagement follows** (:func:`resolve_model`, ``Store.engagement_model``): the one
written inline; else the one it names by id (the store's, else the built-in one); else, when it
has a contract, a moment log or events, the default :data:`DEFAULT_MODEL_ID`; else none.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from csm_nb.config import MODEL_SCHEMA
from csm_nb.data import schema
from csm_nb.data.schema import Choice, Context, Integer, IsoDate, ListOf, Number, Path_, Record, Spec, Text
from csm_nb.errors import InputError, NotFoundError
from csm_nb.model import Engagement, EngagementModel, MomentSpec, Trigger
from csm_nb.vocabulary import CHANNELS, EVENT_TYPES, KPI_STATUSES, MOMENT_MARKS, MOMENT_TYPES, PHASES

DEFAULT_MODEL_ID = "high-touch"  # what an engagement with a contract or a log follows when it names no model
BUILTIN_DIR = Path(__file__).with_name("models")
SIGNED, START, END = "contract.signed", "contract.start", "contract.end"
TOUCHES = ("high", "low")
HEALTH_BANDS = ("red", "amber", "green")
MODEL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MOMENT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
EVERY = re.compile(r"\s*([1-9]\d{0,3})\s*(day|week|month|quarter|year)s?\s*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# The closed grammar of conditions, in words (messages quote it).
GRAMMAR = (
    "{event: T, severity|ref|respondent: v}, {event: survey, score_at_most: n}, {no_event: T, for_days: n}, "
    "{kpi: K, below|above: v, at: {moment|date, days}}, {kpi: K, drop_pct: x, over_periods: n}, "
    "{kpi: K, status: behind, for_measurements: n}, {moment: M, overdue_days: n}, {health: red}, {health_drop: n}"
)
HEADS = ("event", "no_event", "kpi", "moment", "health", "health_drop")


# -- messages that name the model and the moment or trigger -----------------------------------
@dataclass
class ModelContext(Context):
    """A :class:`~csm_nb.data.schema.Context` whose messages also name the model and the moment or trigger."""

    data: Any = None  # the model as written (to find the ids a message names)
    base: Path_ = ()  # where the model is in its file: () for a model file, ("engagement_model",) inline

    @classmethod
    def inside(cls, ctx: Context, data: Any, base: Path_) -> ModelContext:
        return cls(ctx.source, ctx.lines, ctx.base_dir, data, base)

    def fail(self, path: Path_, problem: str) -> InputError:
        return InputError(f"{self.where(path)}: {self.about(path)}: {problem}")

    def about(self, path: Path_) -> str:
        data = self.data if isinstance(self.data, Mapping) else {}
        said = f"model {_named(data.get('id'))}"
        rel = path[len(self.base) :] if path[: len(self.base)] == self.base else ()
        if len(rel) >= 2 and rel[0] in ("moments", "triggers") and isinstance(rel[1], int):
            items = data.get(rel[0])
            item = items[rel[1]] if isinstance(items, list) and 0 <= rel[1] < len(items) else None
            what = "moment" if rel[0] == "moments" else "trigger"
            said += f", {what} {_named(item.get('id') if isinstance(item, Mapping) else None)}"
        return said


def _named(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return "(without an id)"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _listed(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


# -- the pieces of a model ----------------------------------------------------------------------
class Marks(Spec):
    """One mark or a list of them (first_value, onboarding_complete, reference), each once; kept as a list."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, list):
            return [Choice(*MOMENT_MARKS).check(value, path, ctx)]
        marks = ListOf(Choice(*MOMENT_MARKS)).check(value, path, ctx)
        for i, mark in enumerate(marks):
            if mark in marks[:i]:
                raise ctx.fail(path + (i,), f"{mark!r} is given twice")
        return marks


_AT = Record({"moment": Text(), "date": IsoDate(), "days": Integer(minimum=0)})
_CONDITION_KEYS: dict[str, dict[str, Spec]] = {
    "event": {
        "event": Choice(*EVENT_TYPES),
        "severity": Text(),
        "ref": Text(),
        "respondent": Text(),
        "score_at_most": Number(),
    },
    "no_event": {"no_event": Choice(*EVENT_TYPES), "for_days": Integer(minimum=1)},
    "kpi": {
        "kpi": Text(),
        "below": Number(),
        "above": Number(),
        "at": _AT,
        "drop_pct": Number(minimum=0, maximum=100),
        "over_periods": Integer(minimum=1),
        "status": Choice(*KPI_STATUSES),
        "for_measurements": Integer(minimum=1),
    },
    "moment": {"moment": Text(), "overdue_days": Integer(minimum=0)},
    "health": {"health": Choice(*HEALTH_BANDS)},
    "health_drop": {"health_drop": Number(minimum=0)},
}
_CONDITION_REQUIRED = {"no_event": ("for_days",), "moment": ("overdue_days",)}
_ABOUT = {
    "event": "an event",
    "no_event": "a missing event",
    "kpi": "a KPI",
    "moment": "a moment",
    "health": "health",
    "health_drop": "a fall in health",
}
# A condition on a KPI takes the keys of exactly one of these forms.
_KPI_FORMS = (("below", "above", "at"), ("drop_pct", "over_periods"), ("status", "for_measurements"))


class Condition(Spec):
    """A condition in the closed grammar (:data:`GRAMMAR`); names outside the model (moments) are checked later."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, Mapping) or not value:
            got = "an empty mapping" if isinstance(value, Mapping) else schema._shown(value)
            raise ctx.fail(path, f"expected a condition, one of {GRAMMAR}; got {got}")
        heads = [k for k in value if isinstance(k, str) and k in HEADS]
        if not heads:
            key = next(iter(value))
            raise ctx.fail(path + (key,), f"unknown key {key!r}; a condition starts with one of: {', '.join(HEADS)}")
        if len(heads) > 1:
            raise ctx.fail(
                path + (heads[1],),
                f"a condition has one of {', '.join(HEADS)}, not both {heads[0]!r} and {heads[1]!r}; write two triggers",
            )
        head = heads[0]
        allowed = _CONDITION_KEYS[head]
        for key in value:
            if key not in allowed:
                raise ctx.fail(
                    path + (key,), f"unknown key {key!r} in a condition on {_ABOUT[head]}; expected: {', '.join(allowed)}"
                )
        out = Record(allowed, required=(head, *_CONDITION_REQUIRED.get(head, ()))).check(value, path, ctx)
        if head == "event" and "score_at_most" in out and out["event"] != "survey":
            raise ctx.fail(path + ("score_at_most",), f"score_at_most is for survey events, not {out['event']!r}")
        if head == "kpi":
            self._kpi_form(out, path, ctx)
        if head == "health_drop" and out["health_drop"] <= 0:
            raise ctx.fail(path + ("health_drop",), "expected the points health must fall by, more than 0")
        return out

    @staticmethod
    def _kpi_form(out: dict[str, Any], path: Path_, ctx: Context) -> None:
        used = [k for k in out if k != "kpi"]
        forms = [form for form in _KPI_FORMS if set(form) & set(used)]
        if not forms:
            raise ctx.fail(
                path,
                "a condition on a KPI needs below or above with at, drop_pct (with over_periods), "
                "or status (with for_measurements)",
            )
        if len(forms) > 1:
            first, other = (next(k for k in used if k in form) for form in forms[:2])
            raise ctx.fail(path + (other,), f"{other!r} does not go with {first!r} in one condition; write two triggers")
        form = forms[0]
        if form is _KPI_FORMS[0]:
            if "below" in out and "above" in out:
                raise ctx.fail(path + ("above",), "give below or above, not both")
            if "below" not in out and "above" not in out:
                raise ctx.fail(path, "expected below or above (the value the KPI must reach) with at")
            if "at" not in out:
                raise ctx.fail(path, "missing required key 'at' (when to look: {moment: M, days: n} or {date: YYYY-MM-DD})")
            if ("moment" in out["at"]) == ("date" in out["at"]):
                raise ctx.fail(
                    path + ("at",), "expected at: {moment: M, days: n} or {date: YYYY-MM-DD, days: n}, one of moment or date"
                )
        elif form is _KPI_FORMS[1]:
            if "drop_pct" not in out:
                raise ctx.fail(path, "missing required key 'drop_pct' (the percentage the KPI must fall by)")
            if out["drop_pct"] <= 0:
                raise ctx.fail(path + ("drop_pct",), "expected the percentage the KPI must fall by, more than 0")
        elif "status" not in out:
            raise ctx.fail(path, "missing required key 'status' (ahead, on_plan or behind)")


MOMENT = Record(
    {
        "id": Text(),
        "name": Text(),
        "phase": Choice(*PHASES),
        "type": Choice(*MOMENT_TYPES),
        "owner": Text(),
        "customer_role": Text(),
        "channel": Choice(*CHANNELS),
        "objective": Text(),
        "marks": Marks(),
        "escalate": Record({"after_days": Integer(minimum=0), "to": Text()}, required=("after_days", "to")),
        "after": Record({"moment": Text(), "days": Integer(minimum=0)}, required=("moment", "days")),
        "every": Text(),
        "from": Text(),
        "until": Text(),
        "before": Record({"anchor": Choice(END, START), "days": Integer(minimum=0)}, required=("anchor", "days")),
        "when": Condition(),
        "respond_within_days": Integer(minimum=0),
        "only_for": Record({"touch": Choice(*TOUCHES), "tags": ListOf(Text())}),
    },
    required=("id", "type"),
)
TRIGGER = Record(
    {"id": Text(), "when": Condition(), "start": Text(), "owner": Text(), "objective": Text()},
    required=("id", "when"),
)
MODEL = Record(
    {
        "schema": Text(),
        "id": Text(),
        "name": Text(),
        "touch": Choice(*TOUCHES),
        "ttv_target_days": Integer(minimum=1),
        "reference_target_days": Integer(minimum=1),
        "grace_days": Integer(minimum=0),
        "applies_to": Record({"tags": ListOf(Text()), "min_deal_size": Number(minimum=0)}),
        "moments": ListOf(MOMENT, at_least=1, what="moment"),
        "triggers": ListOf(TRIGGER),
        "health": schema.HEALTH_SETTINGS,
    },
    required=("id", "moments"),
)
# The timing keys each type of moment takes.
_TIMING = {"milestone": ("after",), "time": ("every", "from", "until", "before"), "event": ("when", "respond_within_days")}


# -- checking a model -----------------------------------------------------------------------------
def check_model(
    value: Any,
    path: Path_ = (),
    ctx: Context | None = None,
    *,
    standalone: bool = False,
    kpis: Sequence[str] | None = None,
) -> EngagementModel:
    """A model as written (a file's mapping, ``standalone``, or one inline in an engagement at ``path``),
    checked whole, as an :class:`EngagementModel`.

    ``kpis``, for a model inline in an engagement, are the engagement's KPI ids: its conditions may
    only name those. A model file is shared by many engagements, so its KPI names are not checked.
    """
    ctx = ModelContext.inside(ctx or Context(source="engagement model"), value, path)
    if not isinstance(value, Mapping):
        raise ctx.fail(path, f"expected an engagement model: a mapping with at least id and moments; got {schema._shown(value)}")
    doc = MODEL.check(value, path, ctx)
    if standalone and "schema" not in doc:
        raise ctx.fail(path, f"missing required key 'schema' ({MODEL_SCHEMA})")
    if "schema" in doc and doc["schema"] != MODEL_SCHEMA:
        raise ctx.fail(path + ("schema",), f"expected {MODEL_SCHEMA!r}, got {doc['schema']!r}")
    if not MODEL_ID.fullmatch(doc["id"]):
        raise ctx.fail(
            path + ("id",),
            f"{doc['id']!r} is not a model id: use 1-64 lower-case letters, digits and hyphens, such as 'high-touch'",
        )
    bands = (doc.get("health") or {}).get("bands") or {}
    if "red" in bands and "green" in bands and bands["red"] > bands["green"]:
        raise ctx.fail(
            path + ("health", "bands"),
            f"red ({bands['red']:g}) must not be above green ({bands['green']:g}): red below one, green from the other",
        )
    ids, milestones = _check_moments(doc["moments"], path + ("moments",), ctx, kpis)
    _check_triggers(doc.get("triggers", []), path + ("triggers",), ctx, ids, milestones, kpis)
    return model_from_document(doc)


def _check_moments(
    moments: list[dict[str, Any]], path: Path_, ctx: Context, kpis: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    seen: dict[str, int] = {}
    for i, m in enumerate(moments):
        if not MOMENT_ID.fullmatch(m["id"]):
            raise ctx.fail(
                path + (i, "id"),
                f"{m['id']!r} is not a moment id: use 1-64 lower-case letters, digits, '_' and '-', such as first_metrics_review",
            )
        if m["id"] in seen:
            raise ctx.fail(path + (i, "id"), f"id {m['id']!r} is already used by moments[{seen[m['id']]}]")
        seen[m["id"]] = i
    ids = list(seen)
    milestones = [m["id"] for m in moments if m["type"] == "milestone"]
    marked: dict[str, str] = {}
    for i, m in enumerate(moments):
        _check_timing(m, path + (i,), ctx, milestones)
        for mark in m.get("marks", []):
            if mark in marked:
                raise ctx.fail(path + (i, "marks"), f"{mark!r} already marks moment {marked[mark]!r}; one moment a mark")
            marked[mark] = m["id"]
        if "when" in m:
            _check_condition_names(m["when"], path + (i, "when"), ctx, ids, milestones, kpis)
    _check_loops(moments, path, ctx)
    return ids, milestones


def _check_timing(m: dict[str, Any], at: Path_, ctx: Context, milestones: list[str]) -> None:
    kind = m["type"]
    for key in ("after", "every", "from", "until", "before", "when", "respond_within_days"):
        if key in m and key not in _TIMING[kind]:
            raise ctx.fail(at + (key,), f"{key!r} is not for a {kind} moment, which takes {' or '.join(_TIMING[kind])}")
    if kind == "milestone":
        if "after" not in m:
            raise ctx.fail(at, "a milestone needs after: {moment: contract.signed or a milestone, days: n}")
        anchor = m["after"]["moment"]
        if anchor != SIGNED and anchor not in milestones:
            raise ctx.fail(
                at + ("after", "moment"),
                f"{anchor!r} is not a milestone of the model; expected {SIGNED} or one of: {_listed(milestones)}",
            )
    elif kind == "time":
        if "every" in m and "before" in m:
            raise ctx.fail(at + ("before",), "give every (a recurring moment) or before (a single one), not both")
        if "every" not in m and "before" not in m:
            raise ctx.fail(
                at, "a time-based moment needs every: 'N day|week|month|quarter|year' or before: {anchor: contract.end, days: n}"
            )
        if "before" in m:
            extra = next((k for k in ("from", "until") if k in m), None)
            if extra:
                raise ctx.fail(at + (extra,), f"{extra!r} goes with every, not with before")
            return
        if not EVERY.fullmatch(m["every"]):
            raise ctx.fail(
                at + ("every",), f"expected how often, 'N day|week|month|quarter|year' such as '3 months'; got {m['every']!r}"
            )
        start = m.get("from")
        if (
            start is not None
            and start not in (START, SIGNED)
            and start not in milestones
            and not _a_date(start, at + ("from",), ctx)
        ):
            raise ctx.fail(
                at + ("from",),
                f"expected {START}, {SIGNED}, a milestone of the model ({_listed(milestones)}) or a date (YYYY-MM-DD); got {start!r}",
            )
        until = m.get("until")
        if until is not None and until != END and not _a_date(until, at + ("until",), ctx):
            raise ctx.fail(at + ("until",), f"expected {END} or a date (YYYY-MM-DD); got {until!r}")
    elif "when" not in m:
        raise ctx.fail(at, "an event moment needs when: a condition such as {event: support_case, severity: high}")


def _a_date(text: str, at: Path_, ctx: Context) -> bool:
    """Is ``text`` an ISO date? One that does not exist (2027-02-30) is refused here."""
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ctx.fail(at, f"{text} is not a date that exists; expected YYYY-MM-DD") from None
    return True


def _check_loops(moments: list[dict[str, Any]], path: Path_, ctx: Context) -> None:
    """Each milestone comes after the signature in the end: an ``after`` chain that comes back to itself is refused."""
    after = {m["id"]: m["after"]["moment"] for m in moments if m["type"] == "milestone"}
    index = {m["id"]: i for i, m in enumerate(moments)}
    for first in after:
        chain, current = [first], after[first]
        while current in after:
            if current in chain:
                loop = chain[chain.index(current) :] + [current]
                raise ctx.fail(
                    path + (index[loop[0]], "after", "moment"),
                    f"the after chain loops: {' after '.join(loop)}; one of them must come after {SIGNED} "
                    "or a milestone outside the loop",
                )
            chain.append(current)
            current = after[current]


def _check_triggers(
    triggers: list[dict[str, Any]],
    path: Path_,
    ctx: Context,
    ids: list[str],
    milestones: list[str],
    kpis: Sequence[str] | None,
) -> None:
    seen: dict[str, int] = {}
    for i, t in enumerate(triggers):
        if not MOMENT_ID.fullmatch(t["id"]):
            raise ctx.fail(path + (i, "id"), f"{t['id']!r} is not a trigger id: use 1-64 lower-case letters, digits, '_' and '-'")
        if t["id"] in seen:
            raise ctx.fail(path + (i, "id"), f"id {t['id']!r} is already used by triggers[{seen[t['id']]}]")
        seen[t["id"]] = i
        if "start" in t and t["start"] not in ids:
            raise ctx.fail(path + (i, "start"), f"{t['start']!r} is not a moment of the model; expected one of: {_listed(ids)}")
        _check_condition_names(t["when"], path + (i, "when"), ctx, ids, milestones, kpis)


def _check_condition_names(
    when: dict[str, Any], at: Path_, ctx: Context, ids: list[str], milestones: list[str], kpis: Sequence[str] | None
) -> None:
    """The moments (and, inline, the KPIs) a condition names exist."""
    if "moment" in when and when["moment"] not in ids:
        raise ctx.fail(at + ("moment",), f"{when['moment']!r} is not a moment of the model; expected one of: {_listed(ids)}")
    if "kpi" in when:
        if kpis is not None and when["kpi"] not in kpis:
            raise ctx.fail(at + ("kpi",), f"{when['kpi']!r} is not a KPI of this engagement; expected one of: {_listed(kpis)}")
        anchor = (when.get("at") or {}).get("moment")
        if anchor is not None and anchor not in milestones:
            raise ctx.fail(
                at + ("at", "moment"), f"{anchor!r} is not a milestone of the model; expected one of: {_listed(milestones)}"
            )


# -- documents ------------------------------------------------------------------------------------
_SPEC_FIELDS = tuple(f.name for f in fields(MomentSpec))


def _doc_key(name: str) -> str:
    return "from" if name == "start_from" else name


def model_from_document(doc: Mapping[str, Any]) -> EngagementModel:
    """A checked model document as an :class:`EngagementModel` (``from`` becomes ``start_from``)."""
    moments = [
        MomentSpec(**{name: copy.deepcopy(m[_doc_key(name)]) for name in _SPEC_FIELDS if _doc_key(name) in m})
        for m in doc["moments"]
    ]
    triggers = [Trigger(**copy.deepcopy(t)) for t in doc.get("triggers", [])]
    settings = {k: doc[k] for k in ("name", "touch", "ttv_target_days", "reference_target_days", "grace_days") if k in doc}
    applies_to = copy.deepcopy(doc.get("applies_to"))
    return EngagementModel(
        id=doc["id"],
        **settings,
        applies_to=applies_to,
        moments=moments,
        triggers=triggers,
        health=copy.deepcopy(doc.get("health")),
    )


def model_document(model: EngagementModel, *, inline: bool = False) -> dict[str, Any]:
    """The model as its document (``schema`` first, unless ``inline`` in an engagement); the inverse of
    :func:`check_model`, so ``check_model(model_document(m)) == m``."""
    doc: dict[str, Any] = {} if inline else {"schema": MODEL_SCHEMA}
    doc["id"] = model.id
    if model.name is not None:
        doc["name"] = model.name
    doc.update(
        touch=model.touch,
        ttv_target_days=model.ttv_target_days,
        reference_target_days=model.reference_target_days,
        grace_days=model.grace_days,
    )
    if model.applies_to is not None:
        doc["applies_to"] = copy.deepcopy(model.applies_to)
    doc["moments"] = [
        {
            _doc_key(name): copy.deepcopy(getattr(m, name))
            for name in _SPEC_FIELDS
            if getattr(m, name) is not None and getattr(m, name) != []
        }
        for m in model.moments
    ]
    if model.health is not None:
        doc["health"] = copy.deepcopy(model.health)
    if model.triggers:
        doc["triggers"] = [
            {f.name: copy.deepcopy(getattr(t, f.name)) for f in fields(Trigger) if getattr(t, f.name) is not None}
            for t in model.triggers
        ]
    return doc


# -- built-in models --------------------------------------------------------------------------------
@functools.cache
def _builtin() -> dict[str, EngagementModel]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: dict[str, EngagementModel] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        model = check_model(data, (), Context(source=f"built-in model {path.name}"), standalone=True)
        out[model.id] = model
    return out


def builtin_models() -> dict[str, EngagementModel]:
    """The models shipped with csm-nb, by id (fresh copies: change them freely)."""
    return copy.deepcopy(_builtin())


def builtin_model(model_id: str) -> EngagementModel | None:
    found = _builtin().get(model_id)
    return copy.deepcopy(found) if found is not None else None


# -- an engagement's model -------------------------------------------------------------------------
Lookup = Callable[[str], EngagementModel | None]


def uses_lifecycle(engagement: Engagement) -> bool:
    """Does the engagement follow an engagement model: it names one, or has a contract, a moment log or events?"""
    return bool(
        engagement.engagement_model is not None or engagement.contract is not None or engagement.moments or engagement.events
    )


def resolve_model(engagement: Engagement, lookup: Lookup = builtin_model, *, known: Iterable[str] = ()) -> EngagementModel | None:
    """The model the engagement follows (see the module's docstring); ``None`` when it follows none.

    ``lookup`` finds a model by id (default: the built-in ones; ``Store.model`` adds the store's).
    A named model that ``lookup`` does not find is a ``NotFoundError`` naming the ``known`` ids.
    """
    named = engagement.engagement_model
    if isinstance(named, EngagementModel):
        return named
    if named is None:
        if not uses_lifecycle(engagement):
            return None
        named = DEFAULT_MODEL_ID
    model = lookup(named)
    if model is None:
        raise NotFoundError(
            f"engagement {engagement.id!r} follows the engagement model {named!r}, which is neither in the store nor "
            f"built in (known: {_listed(sorted(set(known) | set(_builtin())))}); import its file with: csm-nb import FILE"
        )
    return model


def check_engagement_model(value: Any, path: Path_, ctx: Context, *, kpis: Sequence[str]) -> str | EngagementModel:
    """An engagement's ``engagement_model``: a model id, or a model written inline (checked whole)."""
    if isinstance(value, Mapping):
        return check_model(value, path, ctx, kpis=kpis)
    if not MODEL_ID.fullmatch(value):
        raise ctx.fail(
            path, f"{value!r} is not a model id: use 1-64 lower-case letters, digits and hyphens, such as 'high-touch'"
        )
    return value


def check_model_use(engagement: Engagement, ctx: Context, lookup: Lookup = builtin_model, *, known: Iterable[str] = ()) -> None:
    """The model the engagement names exists, and every moment in its log (and every moment a success-plan
    milestone waits for) is a moment of its model."""
    try:
        model = resolve_model(engagement, lookup, known=known)
    except NotFoundError:
        known_ids = _listed(sorted(set(known) | set(_builtin())))
        raise ctx.fail(
            ("engagement_model",),
            f"no engagement model {engagement.engagement_model!r} in the store or built in (known: {known_ids}); "
            "import its file first, or in the same command: csm-nb import MODEL.yaml ENGAGEMENT.yaml",
        ) from None
    if model is None:
        return
    ids = {m.id for m in model.moments}
    for i, record in enumerate(engagement.moments):
        if record.moment not in ids:
            raise ctx.fail(("moments", i, "moment"), unknown_moment(record.moment, model, named=engagement.engagement_model))
    # A milestone completed by a moment names one the model has (else it would never complete).
    for i, milestone in enumerate((engagement.success_plan or {}).get("milestones") or []):
        moment = (milestone.get("evidence") or {}).get("moment")
        if moment is not None and moment not in ids:
            raise ctx.fail(
                ("success_plan", "milestones", i, "evidence", "moment"),
                unknown_moment(moment, model, named=engagement.engagement_model),
            )


def unknown_moment(moment: str, model: EngagementModel, *, named: Any) -> str:
    """The words for a logged moment that the engagement's model does not have."""
    how = "" if named is not None else " (the default for an engagement that names none)"
    return (
        f"{moment!r} is not a moment of the engagement model {model.id!r}{how}; "
        f"expected one of: {_listed(m.id for m in model.moments)}"
    )
