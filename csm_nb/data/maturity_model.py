"""Maturity models (``csm-nb/maturity-model@1``): the levels a customer climbs, and what an engagement
says about them.

A model document holds ``schema, id, name, description, threshold`` (0 < t <= 1, default 0.8),
``levels`` (3 to 7, numbered 1, 2, 3 ... in order; each ``level, name, description, behaviours``
with ``id, text, feature, metric``), ``metrics`` (``id, name, unit, direction: increase|decrease,
origin: usage|customer, consent: needed|given``) and ``segments`` (``id, name, when:
{behaviour_not, metric_not_improved}, content``). :func:`check_maturity_model` checks one and gives a
:class:`csm_nb.method.maturity.MaturityModel`; every problem is one line naming the file, the line,
the key and the model, e.g.::

    m.yaml, line 4: levels: model 'x' has 8 levels; a maturity model has 3 to 7 (5 plus or minus 2)

**Built-in models** (``csm_nb/data/maturity_models/*.yaml``, package data): ``value-measurement``.
A model imported into a store under the same id wins there (the store's ``maturity_model_document``).

**An engagement's maturity** (``maturity: {model, peer_tag, assessments, plan, segments}``):
:func:`resolve_maturity_model` finds its model (written inline, or by id in the store, else built in)
and :func:`check_maturity_use` refuses what the model does not know (a behaviour, a metric, a level).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from csm_nb import config
from csm_nb.data import schema
from csm_nb.data.files import decode_text, read_limited
from csm_nb.data.schema import Choice, Context, Integer, ListOf, Number, Path_, Record, Text
from csm_nb.data.yaml_lines import load_yaml_with_lines
from csm_nb.errors import NotFoundError
from csm_nb.method.maturity import DIRECTIONS, MAX_LEVELS, MIN_LEVELS, Behaviour, Level, MaturityModel, Metric
from csm_nb.vocabulary import KPI_CONSENTS, KPI_ORIGINS, MATURITY_CREDITS

MATURITY_MODEL_SCHEMA = "csm-nb/maturity-model@1"
BUILTIN_DIR = Path(__file__).with_name("maturity_models")
MODEL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

BEHAVIOUR = Record({"id": Text(), "text": Text(), "feature": Text(), "metric": Text()}, required=("id", "text"))
LEVEL = Record(
    {"level": Integer(minimum=1), "name": Text(), "description": Text(), "behaviours": ListOf(BEHAVIOUR)},
    required=("level", "name"),
)
METRIC = Record(
    {
        "id": Text(),
        "name": Text(),
        "unit": Text(),
        "direction": Choice(*DIRECTIONS),
        "origin": Choice(*KPI_ORIGINS),
        "consent": Choice(*KPI_CONSENTS),
    },
    required=("id", "name"),
)
SEGMENT = Record(
    {
        "id": Text(),
        "name": Text(),
        "when": Record({"behaviour_not": Text(), "metric_not_improved": Text()}),
        "content": Text(),
    },
    required=("id", "when"),
)
DOCUMENT = Record(
    {
        "schema": Text(),
        "id": Text(),
        "name": Text(),
        "description": Text(),
        "threshold": Number(minimum=0, maximum=1),
        "levels": ListOf(LEVEL),
        "metrics": ListOf(METRIC),
        "segments": ListOf(SEGMENT),
    },
    required=("id", "levels"),
)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


# -- checking a model ---------------------------------------------------------------------------------
def check_maturity_model(doc: Any, ctx: Context | None = None, path: Path_ = (), *, standalone: bool = False) -> MaturityModel:
    """A model as written (a file's mapping, ``standalone``; or one inline in an engagement at ``path``),
    checked whole, as a :class:`MaturityModel`.

    >>> levels = [{"level": n, "name": f"L{n}", "behaviours": [{"id": f"b{n}", "text": "t"}]} for n in range(1, 9)]
    >>> check_maturity_model({"id": "x", "levels": levels}, Context("m.yaml", {("levels",): 4}))
    Traceback (most recent call last):
    csm_nb.errors.InputError: m.yaml, line 4: levels: model 'x' has 8 levels; a maturity model has 3 to 7 (5 plus or minus 2)
    """
    ctx = ctx or Context(source="maturity model")
    if not isinstance(doc, Mapping):
        raise ctx.fail(path, f"expected a maturity model: a mapping with at least id and levels; got {schema._shown(doc)}")
    checked = DOCUMENT.check(doc, path, ctx)
    if standalone and "schema" not in checked:
        raise ctx.fail(path, f"missing required key 'schema' ({MATURITY_MODEL_SCHEMA})")
    if "schema" in checked and checked["schema"] != MATURITY_MODEL_SCHEMA:
        raise ctx.fail(path + ("schema",), f"expected {MATURITY_MODEL_SCHEMA!r}, got {checked['schema']!r}")
    model_id = checked["id"]
    if not MODEL_ID.fullmatch(model_id):
        raise ctx.fail(
            path + ("id",),
            f"{model_id!r} is not a model id: use 1-64 lower-case letters, digits and hyphens, such as 'value-measurement'",
        )
    named = f"model {model_id!r}"
    if "threshold" in checked and checked["threshold"] <= 0:
        raise ctx.fail(
            path + ("threshold",), f"{named}: expected a share above 0 and at most 1, such as 0.8; got {checked['threshold']:g}"
        )
    levels = checked["levels"]
    if not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
        raise ctx.fail(
            path + ("levels",),
            f"{named} has {len(levels)} levels; a maturity model has {MIN_LEVELS} to {MAX_LEVELS} (5 plus or minus 2)",
        )
    metric_ids: dict[str, int] = {}
    for i, metric in enumerate(checked.get("metrics", [])):
        if metric["id"] in metric_ids:
            raise ctx.fail(
                path + ("metrics", i, "id"),
                f"{named}: id {metric['id']!r} is already used by metrics[{metric_ids[metric['id']]}]",
            )
        metric_ids[metric["id"]] = i
    seen: dict[str, str] = {}
    for i, level in enumerate(levels):
        if level["level"] != i + 1:
            raise ctx.fail(
                path + ("levels", i, "level"),
                f"{named}: levels are numbered 1, 2, 3 ... in order; expected {i + 1} here, got {level['level']}",
            )
        for j, behaviour in enumerate(level.get("behaviours", [])):
            at = path + ("levels", i, "behaviours", j)
            if not ITEM_ID.fullmatch(behaviour["id"]):
                raise ctx.fail(
                    at + ("id",), f"{named}: {behaviour['id']!r} is not a behaviour id: use letters, digits, '_' and '-'"
                )
            if behaviour["id"] in seen:
                raise ctx.fail(
                    at + ("id",), f"{named}: behaviour id {behaviour['id']!r} is already used by {seen[behaviour['id']]}"
                )
            seen[behaviour["id"]] = f"levels[{i}].behaviours[{j}]"
            if "metric" in behaviour and behaviour["metric"] not in metric_ids:
                raise ctx.fail(
                    at + ("metric",),
                    f"{named}: {behaviour['metric']!r} is not a metric of the model; expected one of: {_listed(metric_ids)}",
                )
    _check_segments(checked.get("segments", []), path + ("segments",), ctx, named, list(seen), list(metric_ids))
    return model_from_document(checked)


def _check_segments(
    segments: list[dict[str, Any]], path: Path_, ctx: Context, named: str, behaviours: list[str], metrics: list[str]
) -> None:
    ids: dict[str, int] = {}
    for i, segment in enumerate(segments):
        if segment["id"] in ids:
            raise ctx.fail(path + (i, "id"), f"{named}: id {segment['id']!r} is already used by segments[{ids[segment['id']]}]")
        ids[segment["id"]] = i
        when = segment["when"]
        if not when:
            raise ctx.fail(path + (i, "when"), "expected behaviour_not, metric_not_improved or both")
        if "behaviour_not" in when and when["behaviour_not"] not in behaviours:
            raise ctx.fail(
                path + (i, "when", "behaviour_not"),
                f"{when['behaviour_not']!r} is not a behaviour of {named}; expected one of: {_listed(behaviours)}",
            )
        if "metric_not_improved" in when and when["metric_not_improved"] not in metrics:
            raise ctx.fail(
                path + (i, "when", "metric_not_improved"),
                f"{when['metric_not_improved']!r} is not a metric of {named}; expected one of: {_listed(metrics)}",
            )


def model_from_document(doc: Mapping[str, Any]) -> MaturityModel:
    """A checked document as a :class:`MaturityModel`."""
    levels = tuple(
        Level(
            number=lv["level"],
            name=lv.get("name", ""),
            description=lv.get("description", ""),
            behaviours=tuple(
                Behaviour(b["id"], b.get("text", ""), feature=b.get("feature"), metric=b.get("metric"))
                for b in lv.get("behaviours", [])
            ),
        )
        for lv in doc["levels"]
    )
    metrics = tuple(
        Metric(
            m["id"],
            m.get("name", ""),
            m.get("unit", ""),
            direction=m.get("direction", "increase"),
            origin=m.get("origin"),
            consent=m.get("consent"),
        )
        for m in doc.get("metrics", [])
    )
    return MaturityModel(
        id=doc["id"],
        name=doc.get("name", ""),
        levels=levels,
        metrics=metrics,
        threshold=float(doc.get("threshold", 0.8)),
        segments=tuple(copy.deepcopy(doc.get("segments", []))),
        description=doc.get("description", ""),
    )


def maturity_model_document(model: MaturityModel) -> dict[str, Any]:
    """The model as its document (``schema`` first); ``check_maturity_model`` of it gives the model back."""
    doc: dict[str, Any] = {"schema": MATURITY_MODEL_SCHEMA, "id": model.id}
    if model.name:
        doc["name"] = model.name
    if model.description:
        doc["description"] = model.description
    doc["threshold"] = model.threshold
    doc["levels"] = [
        {
            "level": lv.number,
            "name": lv.name,
            **({"description": lv.description} if lv.description else {}),
            "behaviours": [
                {k: v for k, v in (("id", b.id), ("text", b.text), ("feature", b.feature), ("metric", b.metric)) if v is not None}
                for b in lv.behaviours
            ],
        }
        for lv in model.levels
    ]
    doc["metrics"] = [
        {
            k: v
            for k, v in (
                ("id", m.id),
                ("name", m.name),
                ("unit", m.unit or None),
                ("direction", m.direction),
                ("origin", m.origin),
                ("consent", m.consent),
            )
            if v is not None
        }
        for m in model.metrics
    ]
    if model.segments:
        doc["segments"] = [dict(s) for s in model.segments]
    return doc


# -- built-in models and files ------------------------------------------------------------------------
@functools.cache
def _builtin() -> dict[str, MaturityModel]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: dict[str, MaturityModel] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        model = check_maturity_model(data, Context(source=f"built-in maturity model {path.name}"), standalone=True)
        found[model.id] = model
    return found


def builtin_maturity_model(model_id: str) -> MaturityModel | None:
    """The maturity model shipped with csm-nb under ``model_id``; ``None`` when there is none (models are frozen)."""
    return _builtin().get(model_id)


def builtin_maturity_model_ids() -> list[str]:
    return sorted(_builtin())


def parse_maturity_model(text: str, *, source: str) -> MaturityModel:
    """Validate maturity-model YAML (or JSON) text, with line numbers in its messages."""
    data, lines = load_yaml_with_lines(text, source)
    return check_maturity_model(data, Context(source=source, lines=lines), standalone=True)


def read_maturity_model(path: str | Path) -> MaturityModel:
    """Read and validate one maturity model file (``csm-nb/maturity-model@1``, YAML or JSON)."""
    path = Path(path)
    raw = read_limited(path, limit=config.MAX_DOCUMENT_BYTES, what="a maturity model file")
    return parse_maturity_model(decode_text(raw, source=str(path)), source=str(path))


# -- an engagement's maturity -------------------------------------------------------------------------
Find = Callable[[str], MaturityModel | None]


def resolve_maturity_model(
    maturity: Mapping[str, Any], *, find: Find | None = None, known: Iterable[str] = (), ctx: Context | None = None
) -> MaturityModel:
    """The model an engagement's ``maturity`` uses: written inline (checked whole), or named by id and found
    by ``find`` (the store's), else built in. An unknown id is a ``NotFoundError`` naming it and the ids
    known (``known``, the store's, and the built-in ones)."""
    named = maturity.get("model")
    if isinstance(named, MaturityModel):
        return named
    if isinstance(named, Mapping):
        return check_maturity_model(named, ctx or Context(source="maturity"), ("maturity", "model"))
    found = (find(named) if find is not None and isinstance(named, str) else None) or (
        builtin_maturity_model(named) if isinstance(named, str) else None
    )
    if found is None:
        ids = sorted(set(known) | set(_builtin()))
        raise NotFoundError(
            f"no maturity model {named!r} in the store or built in (known: {_listed(ids)}); "
            "import its file with: csm-nb import MODEL.yaml"
        )
    return found


def check_maturity_use(maturity: Mapping[str, Any], model: MaturityModel, ctx: Context, path: Path_ = ("maturity",)) -> None:
    """What the engagement's ``maturity`` names is in its ``model``: each observed behaviour (answered yes,
    partly or no; YAML's true/false read as yes/no), each metric, the plan's target level, each action's
    behaviour, each segment rule's behaviour and metric. One line naming the key otherwise."""
    named = f"model {model.id!r}"
    behaviours = [b.id for b in model.behaviours()]
    metrics = [m.id for m in model.metrics]
    answers = ", ".join(MATURITY_CREDITS)

    def behaviour(value: Any, at: Path_) -> None:
        if value not in behaviours:
            raise ctx.fail(at, f"{value!r} is not a behaviour of {named}; expected one of: {_listed(behaviours)}")

    def metric(value: Any, at: Path_) -> None:
        if value not in metrics:
            raise ctx.fail(at, f"{value!r} is not a metric of {named}; expected one of: {_listed(metrics)}")

    for i, assessment in enumerate(maturity.get("assessments") or []):
        at = path + ("assessments", i)
        for key, answer in (assessment.get("observed") or {}).items():
            behaviour(key, at + ("observed", key))
            if not isinstance(answer, bool) and answer not in MATURITY_CREDITS:
                raise ctx.fail(at + ("observed", key), f"expected one of {answers}; got {schema._shown(answer)}")
        for key in assessment.get("metrics") or {}:
            metric(key, at + ("metrics", key))
    plan = maturity.get("plan") or {}
    target = plan.get("target_level")
    if target is not None and model.level(target) is None:
        raise ctx.fail(path + ("plan", "target_level"), f"{named} has levels 1 to {model.top}; level {target} is not one of them")
    for key in plan.get("metric_targets") or {}:
        metric(key, path + ("plan", "metric_targets", key))
    for i, action in enumerate(plan.get("actions") or []):
        if action.get("behaviour") is not None:
            behaviour(action["behaviour"], path + ("plan", "actions", i, "behaviour"))
    for i, segment in enumerate(maturity.get("segments") or []):
        when = segment.get("when") or {}
        if not when:
            raise ctx.fail(path + ("segments", i, "when"), "expected behaviour_not, metric_not_improved or both")
        if "behaviour_not" in when:
            behaviour(when["behaviour_not"], path + ("segments", i, "when", "behaviour_not"))
        if "metric_not_improved" in when:
            metric(when["metric_not_improved"], path + ("segments", i, "when", "metric_not_improved"))


def check_engagement_maturity(
    maturity: Mapping[str, Any], ctx: Context, *, find: Find | None = None, known: Iterable[str] = (), path: Path_ = ("maturity",)
) -> MaturityModel:
    """Resolve the engagement's model and check its use in one go (what an import calls); an unknown model id
    is one line naming ``maturity.model``."""
    try:
        model = resolve_maturity_model(maturity, find=find, known=known, ctx=ctx)
    except NotFoundError as exc:
        raise ctx.fail(path + ("model",), str(exc)) from None
    check_maturity_use(maturity, model, ctx, path)
    return model
