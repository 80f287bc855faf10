"""A small declarative schema for the engagement file (``csm-nb/engagement@1``): the keys it may hold, and what each accepts.

Each ``Spec`` checks one value and returns it normalised (dates as ISO text,
numbers as floats). Errors name the file, the line and the key path, e.g.
``acme.yaml, line 12: outcomes[0]: unknown key 'stauts'; expected one of ...``.
Adding a field is a one-line change to ``ENGAGEMENT`` below.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm_nb import config
from csm_nb.errors import InputError, LimitError
from csm_nb.method.dates import DEADLINE_FORMS, parse_deadline, parse_month_day
from csm_nb.vocabulary import (
    ACTIVITY_TYPES,
    CADENCE_DAYS,
    COMMITMENT_STATUSES,
    DELAY_REASONS,
    EVENT_TYPES,
    FREQUENCIES,
    HEALTH_COMPONENTS,
    JOB_KINDS,
    KPI_CONSENTS,
    KPI_ORIGINS,
    KPI_TARGET_TYPES,
    LEVELS,
    MATURITY_CREDITS,
    MILESTONE_KINDS,
    MISSIONS,
    MOMENT_LOG_STATUSES,
    OUR_FUNCTIONS,
    OUTCOME_DIRECTIONS,
    RATING_SCALE,
    REFERENCE_KINDS,
    RISK_KINDS,
    RISK_SEVERITIES,
    RISK_STATUSES,
    STAKEHOLDER_ROLES,
    STAKEHOLDER_SIDES,
    STAKEHOLDER_STATUSES,
    InlineRows,
    currency_code,
    frequency_word,
    parse_amount,
    parse_period,
)

Path_ = tuple[Any, ...]


@dataclass
class Context:
    source: str
    lines: dict[Path_, int] = field(default_factory=dict)
    base_dir: Path | None = None

    def where(self, path: Path_) -> str:
        line = None
        for cut in range(len(path), -1, -1):  # nearest enclosing node with a known line
            line = self.lines.get(path[:cut])
            if line is not None:
                break
        place = f"{self.source}, line {line}" if line else self.source
        return f"{place}: {dotted(path)}" if path else place

    def fail(self, path: Path_, problem: str) -> InputError:
        return InputError(f"{self.where(path)}: {problem}")


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Spec:
    description = "a value"

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class Text(Spec):
    description = "text"

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            raise ctx.fail(path, f"expected text, got {_shown(value)}")
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)


class DateText(Text):
    """A date (kept as ISO text) or a relative phrase such as '10 months'."""

    description = "a date (YYYY-MM-DD) or a phrase such as '10 months'"


class Deadline(Text):
    """A deadline in one of the forms csm_nb.method.dates.parse_deadline reads, kept as written."""

    description = DEADLINE_FORMS

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        text = super().check(value, path, ctx)
        if text.strip() and parse_deadline(text) is None:  # empty: not set yet
            raise ctx.fail(path, f"expected {DEADLINE_FORMS}; got {_shown(value)}")
        return text


class MonthDay(Text):
    """The last day of the customer's financial year, ``MM-DD`` (03-31); 02-29 is refused."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        text = super().check(value, path, ctx)
        if parse_month_day(text) is None:
            raise ctx.fail(path, f"expected the financial year's last day as MM-DD, such as 03-31; got {_shown(value)}")
        return text


class IsoDate(Spec):
    """A calendar date that exists, kept as ISO text: 2027-02-30 is refused, and so is a time of day
    (a spreadsheet's date cell, which reads as midnight, is a date)."""

    description = "a date (YYYY-MM-DD)"

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0):
                raise ctx.fail(path, f"expected a date without a time of day (YYYY-MM-DD), got {value.isoformat()}")
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ctx.fail(path, f"{value.strip()} is not a date that exists; expected YYYY-MM-DD") from None
        raise ctx.fail(path, f"expected a date (YYYY-MM-DD), got {_shown(value)}")


class Frequency(Text):
    """How often a KPI is measured: a word from the one period table (csm_nb.vocabulary.PERIODS),
    kept as its frequency word ("every fortnight" -> "fortnightly")."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        text = super().check(value, path, ctx)
        word = frequency_word(text)
        if word is None:
            raise ctx.fail(path, f"expected how often it is measured, one of {', '.join(FREQUENCIES)}; got {_shown(value)}")
        return word


class Number(Spec):
    def __init__(self, *, minimum: float | None = None, maximum: float | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    @property
    def description(self) -> str:  # type: ignore[override]
        return "a number"

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, (bool, list, dict)):
            raise ctx.fail(path, f"expected a number, got {_shown(value)}")
        try:
            number = parse_amount(value, where=ctx.where(path))
        except InputError:
            finite = " finite" if isinstance(value, float) else ""  # .inf and .nan are numbers to YAML
            raise ctx.fail(path, f"expected a{finite} number, got {_shown(value)}") from None
        if number is None:
            raise ctx.fail(path, "expected a number, got nothing")
        if self.minimum is not None and number < self.minimum:
            raise ctx.fail(path, f"expected at least {self.minimum:g}, got {number:g}")
        if self.maximum is not None and number > self.maximum:
            raise ctx.fail(path, f"expected at most {self.maximum:g}, got {number:g}")
        return number


class Integer(Number):
    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        number = super().check(value, path, ctx)
        if not float(number).is_integer():
            raise ctx.fail(path, f"expected a whole number, got {number:g}")
        return int(number)


class Boolean(Spec):
    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, bool):
            raise ctx.fail(path, f"expected true or false, got {_shown(value)}")
        return value


class Choice(Spec):
    def __init__(self, *options: str) -> None:
        self.options = options

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if value not in self.options:
            raise ctx.fail(path, f"expected one of {', '.join(self.options)}; got {_shown(value)}")
        return value


class Credit(Choice):
    """How far a maturity behaviour is seen: yes, partly or no. YAML reads a bare yes/no as true/false,
    so those are taken as the words they were written as."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, bool):
            value = "yes" if value else "no"
        return super().check(value, path, ctx)


class Currency(Spec):
    """An ISO 4217 code such as USD; lower case is accepted and upper-cased."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        code = currency_code(value)
        if code is None:
            raise ctx.fail(path, f"expected a three-letter ISO 4217 currency code such as USD, EUR or GBP; got {_shown(value)}")
        return code


class ListOf(Spec):
    def __init__(self, item: Spec, *, at_least: int = 0, what: str = "item") -> None:
        self.item, self.at_least, self.what = item, at_least, what

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, list):
            raise ctx.fail(path, f"expected a list, got {_shown(value)}")
        if len(value) < self.at_least:
            raise ctx.fail(path, f"expected at least {self.at_least} {self.what}{'s' * (self.at_least != 1)}, got an empty list")
        return [self.item.check(v, path + (i,), ctx) for i, v in enumerate(value)]


class MappingOf(Spec):
    def __init__(self, key: Spec, value: Spec) -> None:
        self.key, self.value = key, value

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, Mapping):
            raise ctx.fail(path, f"expected a mapping, got {_shown(value)}")
        return {self.key.check(k, path + (k,), ctx): self.value.check(v, path + (k,), ctx) for k, v in value.items()}


class PeriodKey(Spec):
    """A period index (0, 1, ...) or an ISO date."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        try:
            return parse_period(value, where=ctx.where(path))
        except InputError:
            # The range is named so 100000000000000000000000 reads as out of range, not as "not a number".
            raise ctx.fail(
                path, f"expected a period index (0 to {config.MAX_PERIOD_INDEX:,}) or a date (YYYY-MM-DD), got {_shown(value)}"
            ) from None


class Anything(Spec):
    """Plain YAML data (text, numbers, lists, mappings): workshop answers."""

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, list):
            return [self.check(v, path + (i,), ctx) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            return {str(k): self.check(v, path + (k,), ctx) for k, v in value.items()}
        return value


class ModelRef(Spec):
    """A model: its id (text) or the model written inline (a mapping, kept as written and checked whole
    by the module that knows the model's grammar: csm_nb.data.engagement_model or .maturity_model)."""

    def __init__(self, *, what: str = "an engagement model's id (such as high-touch)") -> None:
        self.what = what

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, Mapping):
            return value
        if isinstance(value, list):
            raise ctx.fail(path, f"expected {self.what} or a model written inline; got a list")
        return Text().check(value, path, ctx)


class Record(Spec):
    def __init__(self, fields: dict[str, Spec], *, required: tuple[str, ...] = ()) -> None:
        self.fields, self.required = fields, required

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if not isinstance(value, Mapping):
            raise ctx.fail(path, f"expected a mapping of {', '.join(self.fields)}; got {_shown(value)}")
        for key in value:
            if key not in self.fields:
                raise ctx.fail(path + (key,), f"unknown key {key!r}; expected one of: {', '.join(self.fields)}")
        for key in self.required:
            if value.get(key) in (None, ""):
                raise ctx.fail(path, f"missing required key {key!r}")
        return {k: self.fields[k].check(v, path + (k,), ctx) for k, v in value.items() if v is not None}


class TableRef(Spec):
    """A CSV/XLSX path relative to the engagement file, or inline rows (list of mappings).

    Returns ``(source, rows)`` where rows are ``(number, mapping)``; numbers are
    YAML line numbers for inline rows, spreadsheet rows for files.
    """

    def __init__(self, columns: tuple[str, ...], *, limit: str, rows_are: str, advice: str) -> None:
        # ``limit`` names the csm_nb.config constant, read at each check so a lowered limit applies.
        self.columns, self.limit, self.rows_are, self.advice = columns, limit, rows_are, advice

    def check(self, value: Any, path: Path_, ctx: Context) -> Any:
        if isinstance(value, str):
            target = Path(value)
            if not target.is_absolute() and ctx.base_dir is not None:
                target = ctx.base_dir / target
            return ("file", target)
        if isinstance(value, list):
            limit = getattr(config, self.limit)
            if len(value) > limit:  # named at the first row past the limit, before any row is read
                raise LimitError(f"{ctx.where(path + (limit,))}: more than {limit:,} {self.rows_are}; {self.advice}")
            rows = []
            for i, row in enumerate(value):
                if not isinstance(row, Mapping):
                    raise ctx.fail(path + (i,), f"expected a row with keys {', '.join(self.columns)}; got {_shown(row)}")
                for key in row:
                    if key not in self.columns:
                        raise ctx.fail(path + (i, key), f"unknown key {key!r}; expected one of: {', '.join(self.columns)}")
                rows.append((ctx.lines.get(path + (i,), i + 1), dict(row)))
            return ("rows", (InlineRows(ctx.source, dotted(path)), rows))
        raise ctx.fail(path, f"expected a path to a .csv/.xlsx file or a list of rows; got {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


OUTCOME = Record(
    {
        "id": Text(),
        "description": Text(),
        "quantity": Text(),
        "deadline": Deadline(),
        "measurement": Text(),
        "status": Choice("stated", "assumed"),
        "priority": Choice("primary", "secondary"),
    },
    required=("id",),
)
KPI = Record(
    {
        "id": Text(),
        "outcome": Text(),
        "name": Text(),
        "kind": Choice("leading", "lagging"),
        "unit": Text(),
        "direction": Choice("increase", "decrease"),
        "baseline": Number(),
        "target": Number(),
        "start": DateText(),
        "deadline": Deadline(),
        "frequency": Frequency(),
        "source": Text(),
        "owner": Text(),
        "milestones": MappingOf(PeriodKey(), Number()),
        "target_type": Choice(*KPI_TARGET_TYPES),  # default reach; stay_below/stay_above: target is a ceiling/floor
        "capability": Text(),  # the initiative's capability (its name) the KPI measures
        "desired_outcome": Text(),  # the customer's desired outcome (an id in jobs) the KPI serves
        "origin": Choice(*KPI_ORIGINS),
        "consent": Choice(*KPI_CONSENTS),
    },
    required=("id",),
)
INITIATIVE = Record(
    {
        "name": Text(),
        "purpose": Text(),
        "strategic_fit": Text(),
        "sponsor": Text(),
        "start": DateText(),
        "end": DateText(),
        "milestones": ListOf(
            Record(
                {"name": Text(), "date": DateText(), "description": Text(), "done": Boolean(), "done_on": IsoDate()},
                required=("name",),
            )
        ),
        "challenges": ListOf(
            Record(
                {
                    "kind": Choice("technical", "security", "continuity", "people", "commercial", "other"),
                    "description": Text(),
                    "mitigation": Text(),
                },
                required=("description",),
            )
        ),
        "capabilities": ListOf(
            Record(
                {
                    "name": Text(),
                    "area": Choice("people", "process", "tools"),
                    "level": Integer(minimum=1, maximum=3),
                    "change": Choice("keep", "improve", "create", "retire"),
                    "outputs": Text(),  # what the capability produces: where its change shows and can be measured
                    "note": Text(),
                },
                required=("name",),
            )
        ),
        "notes": Text(),
    }
)
SOLUTION = Record(
    {
        "summary": Text(),
        "deal_size": Number(minimum=0),
        "bill_of_materials": ListOf(
            Record(
                {
                    "item": Text(),
                    "role": Text(),
                    "quantity": Number(minimum=0),
                    "amount": Number(minimum=0),
                    "revenue": Choice("one_off", "renewable"),
                    "term_months": Integer(minimum=0),
                    "renewal": Choice("expected", "temporary"),
                    "timing": Choice("immediate", "planned"),
                },
                required=("item",),
            )
        ),
        "services": ListOf(
            Record(
                {"name": Text(), "description": Text(), "amount": Number(minimum=0), "days": Number(minimum=0)},
                required=("name",),
            )
        ),
        "support": Record({"level": Text(), "description": Text(), "amount": Number(minimum=0)}),
    }
)
STAKEHOLDER = Record(
    {
        "name": Text(),
        "role": Text(),  # their job title, as people say it
        "email": Text(),
        "notes": Text(),
        "side": Choice(*STAKEHOLDER_SIDES),  # default customer
        "org_unit": Text(),
        "reports_to": Text(),  # another stakeholder's name
        "roles": ListOf(Choice(*STAKEHOLDER_ROLES)),
        "level": Choice(*LEVELS),
        "function": Choice(*OUR_FUNCTIONS),  # ours: the function they are in
        "influence": Integer(minimum=1, maximum=5),
        "support": Integer(minimum=-2, maximum=2),  # -2 opposed ... +2 advocate
        "objectives": ListOf(Text()),
        "contributes": Text(),
        "knows_about": ListOf(Text()),
        "cadence": Choice(*CADENCE_DAYS),
        "last_contact": IsoDate(),
        "status": Choice(*STAKEHOLDER_STATUSES),  # default active
        "since": IsoDate(),
    },
    required=("name",),
)
# A chain of agreed factors from one unit of KPI movement to money (csm_nb.method.linkage
# checks the meaning: positive factors, baselines present, units that follow on).
FINANCIAL_LINK = Record(
    {
        "id": Text(),
        "kpi": Text(),
        "description": Text(),
        "period": Text(),
        "periods_per_year": Number(minimum=0),
        "steps": ListOf(
            Record(
                {
                    "description": Text(),
                    "kind": Choice("multiply", "percent", "margin"),
                    "factor": Number(),
                    "baseline": Number(),
                    "unit": Text(),
                    "unit_in": Text(),
                    "unit_out": Text(),
                    "source": Text(),
                    "accuracy": Number(minimum=0),
                },
                required=("factor",),
            ),
            at_least=1,
            what="step",
        ),
        "gap": Record(
            {
                "step": Integer(minimum=1),
                "run_rate": Number(minimum=0),
                "target_per_year": Number(minimum=0),
                "source": Text(),
            },
            required=("target_per_year",),
        ),
    },
    required=("id",),
)

# The engagement's life (csm_nb.data.engagement_model checks the model and that the log names its moments).
CONTRACT = Record(
    {
        "signed": IsoDate(),
        "start": IsoDate(),
        "end": IsoDate(),
        "notice_days": Integer(minimum=0),
        "auto_renew": Boolean(),
    }
)
MOMENT_LOG_ENTRY = Record(
    {
        "moment": Text(),
        "due": IsoDate(),
        "held": IsoDate(),
        "status": Choice(*MOMENT_LOG_STATUSES),
        "attendees": ListOf(Text()),
        "outcome": Text(),
        "delay_reason": Choice(*DELAY_REASONS),
        "note": Text(),
    },
    required=("moment",),
)
EVENT = Record(
    {
        "date": IsoDate(),
        "type": Choice(*EVENT_TYPES),
        "severity": Text(),
        "ref": Text(),
        "score": Number(),
        "scale": Number(minimum=0),
        "respondent": Text(),
        "note": Text(),
    },
    required=("date", "type"),
)

# The success plan: the customer's objectives and the milestones on the way, each measurable.
OBJECTIVE = Record(
    {"id": Text(), "description": Text(), "outcome": Text(), "owner_customer": Text(), "owner_ours": Text(), "due": IsoDate()},
    required=("id",),
)
EVIDENCE = Record({"kpi": Text(), "at_least": Number(), "at_most": Number(), "moment": Text()})
MILESTONE = Record(
    {
        "id": Text(),
        "objective": Text(),
        "name": Text(),
        "kind": Choice(*MILESTONE_KINDS),
        "owner": Text(),
        "joint": Boolean(),  # done together with the customer (default true); false: ours alone
        "due": IsoDate(),
        "done_on": IsoDate(),
        "evidence": EVIDENCE,
        "notes": Text(),
    },
    required=("id", "name", "due"),
)
SUCCESS_PLAN = Record({"objectives": ListOf(OBJECTIVE), "milestones": ListOf(MILESTONE)})
RISK = Record(
    {
        "id": Text(),
        "kind": Choice(*RISK_KINDS),
        "description": Text(),
        "raised": IsoDate(),
        "severity": Choice(*RISK_SEVERITIES),
        "status": Choice(*RISK_STATUSES),
        "mitigation": Text(),
        "owner": Text(),
    },
    required=("id", "kind", "status"),
)
COMMITMENT = Record(
    {"id": Text(), "promise": Text(), "made_by": Text(), "due": IsoDate(), "status": Choice(*COMMITMENT_STATUSES)},
    required=("promise", "status"),
)
REFERENCE = Record({"date": IsoDate(), "kind": Choice(*REFERENCE_KINDS), "by": Text(), "note": Text()}, required=("date", "kind"))
ACTIVITY = Record(
    {
        "date": IsoDate(),
        "type": Choice(*ACTIVITY_TYPES),
        "title": Text(),
        "missions": ListOf(Choice(*MISSIONS)),
        "with": ListOf(Text()),
        "moment": Text(),
        "minutes": Number(minimum=0),
        "outcome": Text(),
    },
    required=("date", "type", "title"),
)
HEALTH_SETTINGS = Record(
    {
        "weights": Record({name: Number(minimum=0) for name in HEALTH_COMPONENTS}),
        "bands": Record({"red": Number(minimum=0, maximum=100), "green": Number(minimum=0, maximum=100)}),
    }
)

# Maturity: where the customer stands on a maturity model (csm_nb.data.maturity_model checks it against the model).
OBSERVED = MappingOf(Text(), Credit(*MATURITY_CREDITS))
MATURITY = Record(
    {
        "model": ModelRef(what="a maturity model's id (such as value-measurement)"),
        "peer_tag": Text(),
        "assessments": ListOf(
            Record(
                {"date": IsoDate(), "by": Text(), "observed": OBSERVED, "metrics": MappingOf(Text(), Number()), "notes": Text()},
                required=("date",),
            )
        ),
        "plan": Record(
            {
                "target_level": Integer(minimum=1),
                "by": IsoDate(),
                "metric_targets": MappingOf(Text(), Number()),
                "actions": ListOf(
                    Record(
                        {
                            "behaviour": Text(),
                            "action": Text(),
                            "owner": Text(),
                            "due": IsoDate(),
                            "feature": Text(),
                            "content": Text(),
                        },
                        required=("action",),
                    )
                ),
            }
        ),
        "segments": ListOf(
            Record(
                {
                    "id": Text(),
                    "name": Text(),
                    "when": Record({"behaviour_not": Text(), "metric_not_improved": Text()}),
                    "content": Text(),
                },
                required=("id", "when"),
            )
        ),
    },
    required=("model",),
)

# Customer jobs: what the customer is trying to get done, its steps, and how they judge each step.
RATING = Number(minimum=RATING_SCALE[0], maximum=RATING_SCALE[1])
DESIRED_OUTCOME = Record(
    {
        "id": Text(),
        "statement": Text(),
        "direction": Choice(*OUTCOME_DIRECTIONS),
        "unit": Text(),
        "importance": RATING,
        "satisfaction": RATING,
    },
    required=("id", "statement"),
)
JOB_STEP = Record(
    {
        "id": Text(),
        "name": Text(),
        "order": Integer(minimum=0),
        "parties": Record({party: Integer(minimum=0) for party in ("customer", "us", "other")}),
        "capability": Text(),
        "desired_outcomes": ListOf(DESIRED_OUTCOME),
    },
    required=("id", "name"),
)
JOB = Record(
    {
        "id": Text(),
        "statement": Text(),
        "executor": Text(),
        "kind": Choice(*JOB_KINDS),
        "parent": Text(),
        "outcome": Text(),
        "steps": ListOf(JOB_STEP, at_least=1, what="step"),
    },
    required=("id", "statement", "steps"),
)
PULSE_ANSWER = Record(
    {
        "date": IsoDate(),
        "respondent": Text(),
        "desired_outcome": Text(),
        "importance": RATING,
        "satisfaction": RATING,
        "comment": Text(),
    },
    required=("date", "respondent", "desired_outcome", "satisfaction"),
)

ENGAGEMENT = Record(
    {
        "schema": Text(),
        "id": Text(),
        "customer": Text(),
        "currency": Currency(),
        "csm": Text(),
        "tags": ListOf(Text()),
        "initiative": INITIATIVE,
        "solution": SOLUTION,
        "stakeholders": ListOf(STAKEHOLDER),
        "outcomes": ListOf(OUTCOME),
        "kpis": ListOf(KPI),
        "financial_links": ListOf(FINANCIAL_LINK),
        "cash_flow": TableRef(
            ("period", "expenditure_est", "expenditure_act", "revenue_est", "revenue_act"),
            limit="MAX_CASH_FLOW_PERIODS",
            rows_are="cash-flow periods",
            advice="use longer periods (months, quarters) or split the plan",
        ),
        "measurements": TableRef(
            ("kpi", "period", "value"),
            limit="MAX_TABLE_ROWS",
            rows_are="measurements",
            advice="split them across files",
        ),
        "contract": CONTRACT,
        "engagement_model": ModelRef(),
        "moments": ListOf(MOMENT_LOG_ENTRY),
        "events": ListOf(EVENT),
        "fiscal_year_end": MonthDay(),
        "success_plan": SUCCESS_PLAN,
        "risks": ListOf(RISK),
        "commitments": ListOf(COMMITMENT),
        "references": ListOf(REFERENCE),
        "activities": ListOf(ACTIVITY),
        "health": HEALTH_SETTINGS,
        "maturity": MATURITY,
        "jobs": ListOf(JOB),
        "pulse": ListOf(PULSE_ANSWER),
        "workshop": MappingOf(Text(), MappingOf(Text(), Anything())),
    },
    required=("schema", "id", "customer"),
)
