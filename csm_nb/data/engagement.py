"""Engagement files (YAML, ``csm-nb/engagement@1``): read, validate, write, losslessly.

``read_engagement(path)`` returns a validated :class:`~csm_nb.model.Engagement`
with its cash flow and measurements loaded (from inline rows or from the
CSV/XLSX files the YAML points at). ``engagement_document(e)`` is the inverse,
with tables written inline, so ``read(write(read(f))) == read(f)``.

Engagement model files (``csm-nb/engagement-model@1``, YAML or JSON, checked by
:mod:`csm_nb.data.engagement_model`) are read and written here too:
``read_model``, ``dump_model``; ``read_document`` tells the two kinds apart by
their ``schema`` key.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from csm_nb import config
from csm_nb.config import ENGAGEMENT_SCHEMA, MODEL_SCHEMA, check_engagement_id
from csm_nb.data import schema
from csm_nb.data.engagement_model import (
    builtin_model,
    check_engagement_model,
    check_model,
    check_model_use,
    model_document,
)
from csm_nb.data.files import decode_text, read_limited
from csm_nb.data.lifecycle import (
    activity_document,
    activity_record,
    event_key,
    event_record,
    moment_key,
    moment_record,
    pulse_key,
    shown_event_key,
    shown_moment_key,
    shown_pulse_key,
)
from csm_nb.data.maturity_model import MATURITY_MODEL_SCHEMA, check_engagement_maturity, check_maturity_model
from csm_nb.data.tables import (
    CASH_FLOW_COLUMNS,
    cash_flow_from_rows,
    numbered_measurements,
    read_cash_flow,
    read_numbered_measurements,
)
from csm_nb.data.yaml_lines import load_yaml_with_lines
from csm_nb.errors import InputError
from csm_nb.method.maturity import MaturityModel
from csm_nb.method.progress import check_measurement_window
from csm_nb.model import (
    CashFlowLine,
    Contract,
    Engagement,
    EngagementModel,
    Kpi,
    Measurement,
    Outcome,
    PulseAnswer,
    without_none,
)


def parse_engagement(
    text: str, *, source: str, base_dir: Path | None = None, models: dict[str, EngagementModel] | None = None
) -> Engagement:
    """Validate engagement YAML text into an :class:`Engagement`.

    The model it names must be one of ``models`` or a built-in one, and every moment in its log a
    moment of that model (see :mod:`csm_nb.data.engagement_model` for which model applies).
    """
    data, lines = load_yaml_with_lines(text, source)
    ctx = schema.Context(source=source, lines=lines, base_dir=base_dir)
    engagement = _engagement_from(data, ctx)
    check_model_use(engagement, ctx, _lookup(models), known=models or ())
    return engagement


def _lookup(models: dict[str, EngagementModel] | None) -> Any:
    return lambda model_id: (models or {}).get(model_id) or builtin_model(model_id)


def _engagement_from(data: Any, ctx: schema.Context) -> Engagement:
    """Everything but the check that the model it names exists (the store may hold it: see ``read_document``)."""
    if not isinstance(data, dict):
        raise ctx.fail((), "expected a mapping with at least schema, id and customer")
    doc = schema.ENGAGEMENT.check(data, (), ctx)
    if doc["schema"] != ENGAGEMENT_SCHEMA:
        raise ctx.fail(("schema",), f"expected {ENGAGEMENT_SCHEMA!r}, got {doc['schema']!r}")
    try:
        check_engagement_id(doc["id"], where="id")
    except InputError as exc:
        raise ctx.fail(("id",), str(exc)) from None
    engagement = Engagement(
        id=doc["id"],
        customer=doc["customer"],
        currency=doc.get("currency"),
        csm=doc.get("csm"),
        tags=doc.get("tags"),
        initiative=doc.get("initiative"),
        solution=doc.get("solution"),
        stakeholders=doc.get("stakeholders"),
        financial_links=doc.get("financial_links"),
        outcomes=[Outcome(**o) for o in doc.get("outcomes", [])],
        kpis=[Kpi(**k) for k in doc.get("kpis", [])],
        workshop=doc.get("workshop"),
        fiscal_year_end=doc.get("fiscal_year_end"),
        success_plan=doc.get("success_plan"),
        risks=doc.get("risks"),
        commitments=doc.get("commitments"),
        references=doc.get("references"),
        health=doc.get("health"),
        activities=[activity_record(a) for a in doc.get("activities", [])],
        maturity=doc.get("maturity"),
        jobs=doc.get("jobs"),
        pulse=[PulseAnswer(**a) for a in doc.get("pulse", [])],
    )
    if "contract" in doc:
        engagement.contract = Contract(**doc["contract"])
    if "engagement_model" in doc:
        engagement.engagement_model = check_engagement_model(
            doc["engagement_model"], ("engagement_model",), ctx, kpis=[k.id for k in engagement.kpis]
        )
    engagement.moments = [moment_record(m, ("moments", i), ctx) for i, m in enumerate(doc.get("moments", []))]
    engagement.events = [event_record(e, ("events", i), ctx) for i, e in enumerate(doc.get("events", []))]
    if "cash_flow" in doc:
        engagement.cash_flow = _load_table(doc["cash_flow"], read_cash_flow, cash_flow_from_rows)
    numbered: list[tuple[int, Measurement]] = []
    if "measurements" in doc:
        numbered = _load_table(doc["measurements"], read_numbered_measurements, numbered_measurements)
        engagement.measurements = [m for _, m in numbered]
    check_references(engagement, ctx)
    check_relationship(engagement, ctx)
    check_lifecycle(engagement, ctx)
    if numbered:
        kind, payload = doc["measurements"]
        check_measurement_window(
            engagement.kpis,
            numbered,
            source=str(payload) if kind == "file" else payload[0],
            fiscal_year_end=engagement.fiscal_year_end,
        )
    return engagement


def check_lifecycle(engagement: Engagement, ctx: schema.Context) -> None:
    """The contract's dates in order; one log entry an occurrence and one entry an event."""
    contract = engagement.contract
    if contract is not None and contract.end:
        if contract.start and contract.end < contract.start:
            raise ctx.fail(("contract", "end"), f"{contract.end} is before the contract's start, {contract.start}")
        if contract.signed and contract.signed > contract.end:
            raise ctx.fail(("contract", "signed"), f"{contract.signed} is after the contract's end, {contract.end}")
    _unique(engagement.moments, "moments", moment_key, shown_moment_key, "one entry an occurrence", ctx)
    _unique(
        engagement.events,
        "events",
        event_key,
        shown_event_key,
        "give each a ref (a case or survey number) to tell them apart",
        ctx,
    )
    _unique(engagement.pulse, "pulse", pulse_key, shown_pulse_key, "one answer a person, outcome and day", ctx)


def _unique(items: list[Any], section: str, key_of: Any, shown: Any, advice: str, ctx: schema.Context) -> None:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        key = key_of(item)
        if key in seen:
            first = seen[key]
            line = ctx.lines.get((section, first))
            where = f"{section}[{first}]" + (f", line {line}" if line else "")
            raise ctx.fail((section, i), f"{shown(key)} is already in {section} ({where}); {advice}")
        seen[key] = i


@dataclass
class Document:
    """One file as read by ``read_document``: an engagement or an engagement model, and where its values are."""

    path: Path
    engagement: Engagement | None = None
    model: EngagementModel | None = None
    context: schema.Context | None = None
    maturity_model: MaturityModel | None = None

    @property
    def kind(self) -> str:
        if self.maturity_model is not None:
            return "maturity_model"
        return "model" if self.model is not None else "engagement"


def read_document(path: str | Path, *, check_models: bool = True) -> Document:
    """Read an engagement file, an engagement model file or a maturity model file (YAML or JSON), told
    apart by ``schema``.

    With ``check_models=False`` an engagement's model is not looked up: the caller does it with
    ``check_model_use(document.engagement, document.context, lookup)`` once it knows the store's
    models (``csm-nb import`` does, inside its transaction).
    """
    path = Path(path)
    raw = read_limited(path, limit=config.MAX_DOCUMENT_BYTES, what="an engagement file")
    text = decode_text(raw, source=str(path))
    data, lines = load_yaml_with_lines(text, str(path))
    ctx = schema.Context(source=str(path), lines=lines, base_dir=path.parent)
    kind = data.get("schema") if isinstance(data, dict) else None
    if kind == MODEL_SCHEMA:
        return Document(path, model=check_model(data, (), ctx, standalone=True), context=ctx)
    if kind == MATURITY_MODEL_SCHEMA:
        return Document(path, maturity_model=check_maturity_model(data, ctx, standalone=True), context=ctx)
    if isinstance(kind, str) and kind != ENGAGEMENT_SCHEMA:
        raise ctx.fail(
            ("schema",),
            f"expected {ENGAGEMENT_SCHEMA!r} (an engagement), {MODEL_SCHEMA!r} (an engagement model) or "
            f"{MATURITY_MODEL_SCHEMA!r} (a maturity model), got {kind!r}",
        )
    engagement = _engagement_from(data, ctx)
    if check_models:
        check_model_use(engagement, ctx)
        if engagement.maturity is not None:
            check_engagement_maturity(engagement.maturity, ctx)
    return Document(path, engagement=engagement, context=ctx)


def parse_model(text: str, *, source: str) -> EngagementModel:
    """Validate engagement-model YAML (or JSON) text into an :class:`EngagementModel`."""
    data, lines = load_yaml_with_lines(text, source)
    return check_model(data, (), schema.Context(source=source, lines=lines), standalone=True)


def read_model(path: str | Path) -> EngagementModel:
    """Read and validate one engagement model file (``csm-nb/engagement-model@1``, YAML or JSON)."""
    path = Path(path)
    raw = read_limited(path, limit=config.MAX_DOCUMENT_BYTES, what="an engagement model file")
    return parse_model(decode_text(raw, source=str(path)), source=str(path))


def dump_model(model: EngagementModel, *, as_json: bool = False) -> str:
    """The model as a file: YAML (moments one after another, conditions on one line), or JSON."""
    doc = _tidy(model_document(model))
    if as_json:
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    for moment in doc["moments"]:
        for key in ("after", "before", "escalate", "when", "only_for"):
            if key in moment:
                moment[key] = _Row(moment[key])
    for trigger in doc.get("triggers", []):
        trigger["when"] = _Row(trigger["when"])
    header = f"# Engagement model ({MODEL_SCHEMA}); import it with: csm-nb import FILE\n"
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write_model(model: EngagementModel, path: str | Path) -> Path:
    """Write the model to ``path`` (JSON when its name ends in .json, else YAML)."""
    from csm_nb.data.results import write_text_atomic

    path = Path(path)
    return write_text_atomic(path, dump_model(model, as_json=path.suffix.lower() == ".json"))


def _load_table(ref: tuple[str, Any], read_file: Any, from_rows: Any) -> Any:
    kind, payload = ref
    if kind == "file":
        return read_file(payload)
    source, rows = payload
    return from_rows(source, rows)


def check_references(engagement: Engagement, ctx: schema.Context) -> None:
    """Ids are unique and every reference points at something that exists."""
    for section in ("outcomes", "kpis"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(engagement, section)):
            if item.id in seen:
                raise ctx.fail((section, i, "id"), f"id {item.id!r} is already used by {section}[{seen[item.id]}]")
            seen[item.id] = i
    outcome_ids = {o.id for o in engagement.outcomes}
    for i, kpi in enumerate(engagement.kpis):
        if kpi.target_type in ("stay_below", "stay_above") and kpi.target is None:
            limit = "ceiling" if kpi.target_type == "stay_below" else "floor"
            raise ctx.fail(("kpis", i, "target"), f"target_type {kpi.target_type} needs a target: the {limit} to stay within")
        if kpi.outcome is not None and kpi.outcome not in outcome_ids:
            raise ctx.fail(
                ("kpis", i, "outcome"),
                f"{kpi.outcome!r} is not the id of any outcome ({', '.join(sorted(outcome_ids)) or 'none defined'})",
            )
    kpi_ids = {k.id for k in engagement.kpis}
    unknown = sorted({m.kpi for m in engagement.measurements} - kpi_ids)
    if unknown:
        raise ctx.fail(
            ("measurements",),
            f"unknown KPI id(s) {', '.join(map(repr, unknown))}; known KPIs: {', '.join(sorted(kpi_ids)) or 'none'}",
        )
    for i, link in enumerate(engagement.financial_links or []):
        if link.get("kpi") is not None and link["kpi"] not in kpi_ids:
            raise ctx.fail(("financial_links", i, "kpi"), f"{link['kpi']!r} is not the id of any KPI")
    # What a chain of factors means (positive factors, baselines, units that follow on): csm_nb.method.linkage.
    from csm_nb.method.linkage import check_link

    link_ids: dict[str, int] = {}
    for i, link in enumerate(engagement.financial_links or []):
        if link.get("id") in link_ids:
            raise ctx.fail(
                ("financial_links", i, "id"), f"id {link['id']!r} is already used by financial_links[{link_ids[link['id']]}]"
            )
        link_ids[link.get("id")] = i
        try:
            check_link(link, kpi=engagement.kpi(link["kpi"]) if link.get("kpi") else None, currency=engagement.currency)
        except InputError as exc:
            raise ctx.fail(("financial_links", i), str(exc)) from None


def _unique_values(items: list[dict[str, Any]], key: str, section: tuple[Any, ...], ctx: schema.Context) -> dict[str, int]:
    """Each item's ``key`` once in ``section``; returns where each is."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = item.get(key)
        if value in seen:
            where = ".".join(str(p) for p in section)
            raise ctx.fail((*section, i, key), f"{value!r} is already used by {where}[{seen[value]}]")
        if value is not None:
            seen[value] = i
    return seen


def check_relationship(engagement: Engagement, ctx: schema.Context) -> None:
    """The stakeholders, success plan and risks refer to what exists: a manager who is a stakeholder, an
    objective's outcome, a milestone's objective and the KPI its evidence reads."""
    people = engagement.stakeholders or []
    names = _unique_values(people, "name", ("stakeholders",), ctx)
    for i, person in enumerate(people):
        boss = person.get("reports_to")
        if boss is None:
            continue
        if boss not in names:
            raise ctx.fail(
                ("stakeholders", i, "reports_to"), f"{boss!r} is not the name of any stakeholder ({', '.join(names) or 'none'})"
            )
        chain, current = [person["name"]], boss
        while current is not None:  # a reporting line that comes back to itself is a typing mistake
            if current in chain:
                raise ctx.fail(("stakeholders", i, "reports_to"), f"reporting lines loop: {' -> '.join([*chain, current])}")
            chain.append(current)
            current = people[names[current]].get("reports_to")
    plan = engagement.success_plan or {}
    objectives = _unique_values(plan.get("objectives", []), "id", ("success_plan", "objectives"), ctx)
    outcome_ids = {o.id for o in engagement.outcomes}
    for i, objective in enumerate(plan.get("objectives", [])):
        if objective.get("outcome") is not None and objective["outcome"] not in outcome_ids:
            raise ctx.fail(
                ("success_plan", "objectives", i, "outcome"),
                f"{objective['outcome']!r} is not the id of any outcome ({', '.join(sorted(outcome_ids)) or 'none defined'})",
            )
    _unique_values(plan.get("milestones", []), "id", ("success_plan", "milestones"), ctx)
    kpi_ids = {k.id for k in engagement.kpis}
    for i, milestone in enumerate(plan.get("milestones", [])):
        at = ("success_plan", "milestones", i)
        if milestone.get("objective") is not None and milestone["objective"] not in objectives:
            raise ctx.fail(
                (*at, "objective"),
                f"{milestone['objective']!r} is not the id of any objective ({', '.join(objectives) or 'none defined'})",
            )
        evidence = milestone.get("evidence")
        if evidence is None:
            continue
        if ("kpi" in evidence) == ("moment" in evidence):
            raise ctx.fail((*at, "evidence"), "expected either {kpi: K, at_least: v} (or at_most) or {moment: M}")
        if "kpi" in evidence:
            if evidence["kpi"] not in kpi_ids:
                raise ctx.fail(
                    (*at, "evidence", "kpi"),
                    f"{evidence['kpi']!r} is not the id of any KPI ({', '.join(sorted(kpi_ids)) or 'none defined'})",
                )
            if ("at_least" in evidence) == ("at_most" in evidence):
                raise ctx.fail((*at, "evidence"), "expected one of at_least or at_most: the value that completes the milestone")
        elif "at_least" in evidence or "at_most" in evidence:
            raise ctx.fail((*at, "evidence"), "at_least and at_most go with a kpi, not with a moment")
    _unique_values(engagement.risks or [], "id", ("risks",), ctx)
    check_jobs(engagement, ctx)
    bands = (engagement.health or {}).get("bands") or {}
    if "red" in bands and "green" in bands and bands["red"] > bands["green"]:
        raise ctx.fail(
            ("health", "bands"),
            f"red ({bands['red']:g}) must not be above green ({bands['green']:g}): red below one, green from the other",
        )


def desired_outcome_ids(jobs: list[dict[str, Any]] | None) -> list[str]:
    """Every desired outcome's id in the customer's jobs, in the order they are written.

    >>> desired_outcome_ids([{"id": "j", "steps": [{"id": "s", "desired_outcomes": [{"id": "a"}, {"id": "b"}]}]}])
    ['a', 'b']
    """
    return [o["id"] for job in jobs or [] for step in job.get("steps", []) for o in step.get("desired_outcomes", [])]


def check_jobs(engagement: Engagement, ctx: schema.Context) -> None:
    """The customer's jobs and what points at them: ids unique (a desired outcome's across all jobs, since
    the pulse and KPIs name it alone), a parent job and an outcome that exist; a KPI's capability and
    desired outcome, and a pulse answer's desired outcome, that exist."""
    jobs = engagement.jobs or []
    job_ids = _unique_values(jobs, "id", ("jobs",), ctx)
    outcome_ids = {o.id for o in engagement.outcomes}
    where_outcome: dict[str, str] = {}
    for i, job in enumerate(jobs):
        if job.get("parent") is not None and (job["parent"] not in job_ids or job["parent"] == job["id"]):
            others = [j for j in job_ids if j != job["id"]]
            raise ctx.fail(
                ("jobs", i, "parent"), f"{job['parent']!r} is not the id of another job ({', '.join(others) or 'none'})"
            )
        if job.get("outcome") is not None and job["outcome"] not in outcome_ids:
            raise ctx.fail(
                ("jobs", i, "outcome"),
                f"{job['outcome']!r} is not the id of any outcome ({', '.join(sorted(outcome_ids)) or 'none defined'})",
            )
        _unique_values(job["steps"], "id", ("jobs", i, "steps"), ctx)
        for j, step in enumerate(job["steps"]):
            for k, wanted in enumerate(step.get("desired_outcomes", [])):
                at = ("jobs", i, "steps", j, "desired_outcomes", k, "id")
                if wanted["id"] in where_outcome:
                    raise ctx.fail(at, f"{wanted['id']!r} is already used by {where_outcome[wanted['id']]}")
                where_outcome[wanted["id"]] = f"jobs[{i}].steps[{j}].desired_outcomes[{k}]"
    capabilities = [c.get("name") for c in (engagement.initiative or {}).get("capabilities", [])]
    for i, kpi in enumerate(engagement.kpis):
        if kpi.capability is not None and kpi.capability not in capabilities:
            raise ctx.fail(
                ("kpis", i, "capability"),
                f"{kpi.capability!r} is not the name of any initiative capability ({', '.join(capabilities) or 'none defined'})",
            )
        if kpi.desired_outcome is not None and kpi.desired_outcome not in where_outcome:
            raise ctx.fail(
                ("kpis", i, "desired_outcome"),
                f"{kpi.desired_outcome!r} is not the id of any desired outcome in jobs ({', '.join(where_outcome) or 'none defined'})",
            )
    for i, answer in enumerate(engagement.pulse):
        if answer.desired_outcome not in where_outcome:
            raise ctx.fail(
                ("pulse", i, "desired_outcome"),
                f"{answer.desired_outcome!r} is not the id of any desired outcome in jobs ({', '.join(where_outcome) or 'none defined'})",
            )


PARTS: dict[str, schema.Spec] = {
    "stakeholders": schema.ListOf(schema.STAKEHOLDER),
    "success_plan": schema.SUCCESS_PLAN,
    "risks": schema.ListOf(schema.RISK),
    "commitments": schema.ListOf(schema.COMMITMENT),
    "references": schema.ListOf(schema.REFERENCE),
    "health": schema.HEALTH_SETTINGS,
    "maturity": schema.MATURITY,
    "jobs": schema.ListOf(schema.JOB),
}


def check_part(engagement: Engagement, part: str, value: Any, *, source: str) -> Any:
    """One part a form replaces whole, checked by the engagement file's rules against the rest of the
    engagement (``None`` removes it); returns the checked value. The message names ``source`` and the key.

    >>> check_part(Engagement("acme", "Acme"), "risks", [{"id": "r", "kind": "churn", "status": "gone"}], source="form")
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: form: risks[0].status: expected one of open, plan_in_place, saving, recovered, lost; got 'gone'
    """
    ctx = schema.Context(source=source)
    checked = None if value is None else PARTS[part].check(value, (part,), ctx)
    trial = copy.copy(engagement)
    setattr(trial, part, checked)
    check_relationship(trial, ctx)
    return checked


def read_engagement(path: str | Path, *, models: dict[str, EngagementModel] | None = None) -> Engagement:
    """Read and validate one engagement file (UTF-8, or UTF-16 with a BOM; at most ``config.MAX_DOCUMENT_BYTES``).

    ``models`` are the engagement models it may name besides the built-in ones.
    """
    path = Path(path)
    raw = read_limited(path, limit=config.MAX_DOCUMENT_BYTES, what="an engagement file")
    text = decode_text(raw, source=str(path))
    return parse_engagement(text, source=str(path), base_dir=path.parent, models=models)


def engagement_document(engagement: Engagement) -> dict[str, Any]:
    """The engagement as an engagement-file mapping, tables inline."""
    doc: dict[str, Any] = {"schema": ENGAGEMENT_SCHEMA, "id": engagement.id, "customer": engagement.customer}
    for key in ("currency", "csm", "fiscal_year_end", "tags", "initiative", "solution", "stakeholders"):
        value = getattr(engagement, key)
        if value is not None:
            doc[key] = value
    for key in ("success_plan", "risks", "commitments", "references", "health", "maturity", "jobs"):
        value = getattr(engagement, key)
        if value is not None:
            doc[key] = value
    if engagement.outcomes:
        doc["outcomes"] = [without_none(o) for o in engagement.outcomes]
    if engagement.kpis:
        doc["kpis"] = [without_none(k) for k in engagement.kpis]
    if engagement.financial_links is not None:
        doc["financial_links"] = engagement.financial_links
    if engagement.cash_flow:
        doc["cash_flow"] = [_Row(without_none(line)) for line in engagement.cash_flow]
    if engagement.measurements:
        doc["measurements"] = [_Row(without_none(m)) for m in engagement.measurements]
    if engagement.contract is not None:
        doc["contract"] = without_none(engagement.contract)
    if isinstance(engagement.engagement_model, EngagementModel):
        doc["engagement_model"] = model_document(engagement.engagement_model, inline=True)
    elif engagement.engagement_model is not None:
        doc["engagement_model"] = engagement.engagement_model
    if engagement.moments:
        doc["moments"] = [_Row(without_none(r)) for r in engagement.moments]
    if engagement.events:
        doc["events"] = [_Row(without_none(e)) for e in engagement.events]
    if engagement.activities:
        doc["activities"] = [_Row(activity_document(a)) for a in engagement.activities]
    if engagement.pulse:
        doc["pulse"] = [_Row(without_none(a)) for a in engagement.pulse]
    if engagement.workshop:
        doc["workshop"] = engagement.workshop
    return _tidy(doc)


def _tidy(value: Any) -> Any:
    """Whole floats as ints so the file reads as a person would write it."""
    if isinstance(value, _Row):
        return _Row({k: _tidy(v) for k, v in value.items()})
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


class _Row(dict):
    """A table row, written on one line (flow style) to keep files short."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Row, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True))
_Dumper.add_representer(dt.date, lambda d, data: d.represent_str(data.isoformat()))


def dump_engagement(engagement: Engagement) -> str:
    header = f"# Engagement file ({ENGAGEMENT_SCHEMA}); empty or missing cells mean 'not known yet'.\n"
    body = yaml.dump(engagement_document(engagement), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def write_engagement(engagement: Engagement, path: str | Path) -> Path:
    from csm_nb.data.results import write_text_atomic

    return write_text_atomic(Path(path), dump_engagement(engagement))


__all__ = [
    "CASH_FLOW_COLUMNS",
    "CashFlowLine",
    "Document",
    "Measurement",
    "dump_engagement",
    "dump_model",
    "engagement_document",
    "parse_engagement",
    "parse_model",
    "read_document",
    "read_engagement",
    "read_model",
    "write_engagement",
    "write_model",
]
