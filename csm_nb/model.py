"""The engagement and its parts, as plain dataclasses.

Money is in the engagement's currency, as a float; ``None`` always means
"not known yet", never zero. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Outcome:
    """An outcome requirement the customer wants from the initiative."""

    id: str
    description: str | None = None
    quantity: str | None = None  # absolute ("26,000 clients") or relative ("+5 %")
    deadline: str | None = None  # a date, or relative ("10 months")
    measurement: str | None = None
    status: str | None = None  # stated | assumed
    priority: str | None = None  # primary | secondary


@dataclass
class Kpi:
    """A key performance indicator: lagging ones prove an outcome, leading ones warn early."""

    id: str
    outcome: str | None = None
    name: str | None = None
    kind: str | None = None  # leading | lagging
    unit: str | None = None
    direction: str | None = None  # increase | decrease
    baseline: float | None = None
    target: float | None = None
    start: str | None = None
    deadline: str | None = None
    frequency: str | None = None
    source: str | None = None
    owner: str | None = None
    milestones: dict[int, float] | None = None  # period index -> planned value
    target_type: str | None = None  # reach (None: the default) | stay_below | stay_above (target is a ceiling/floor)
    capability: str | None = None  # the initiative capability (its name) this KPI measures
    desired_outcome: str | None = None  # the customer's desired outcome (an id in Engagement.jobs) it serves
    origin: str | None = None  # usage | customer
    consent: str | None = None  # needed | given (figures the customer must agree to share)


@dataclass
class CashFlowLine:
    """One period of the cash flow. Money out and money in are both positive here;
    the sign is applied when net cash flow is computed (out is negative)."""

    period: str
    expenditure_est: float | None = None
    expenditure_act: float | None = None
    revenue_est: float | None = None
    revenue_act: float | None = None


@dataclass
class Measurement:
    """One measured value of a KPI; ``period`` is an index from the KPI's start
    (int) or an ISO date (str)."""

    kpi: str
    period: int | str
    value: float


# -- the engagement model: moments, triggers, contract, and the logs that grow ----------------------
# Dates are ISO strings ("2027-01-01"), as everywhere in the model; csm_nb.method.engagement_plan
# parses them. The field names are the document's keys (``from`` is ``start_from``: a Python keyword).
@dataclass
class Contract:
    """The commercial dates: ``signed`` (the sale, where time to value starts), ``start``, ``end``."""

    signed: str | None = None
    start: str | None = None
    end: str | None = None
    notice_days: int | None = None
    auto_renew: bool | None = None


@dataclass
class MomentSpec:
    """One moment of an engagement model and its timing rule (one of ``after``, ``every``/``before``, ``when``).

    * ``type: milestone``: ``after = {"moment": id or "contract.signed", "days": n}``;
    * ``type: time``: ``every = "3 months"`` from ``start_from`` (``contract.start``, a moment id or a date)
      ``until`` (default the contract's end), or ``before = {"anchor": "contract.end", "days": n}``;
    * ``type: event``: ``when`` (a trigger condition) and ``respond_within_days`` (default 2).
    """

    id: str
    name: str | None = None
    phase: str | None = None  # onboarding | ongoing
    type: str = "milestone"  # milestone | time | event
    owner: str | None = None  # our role
    customer_role: str | None = None
    channel: str | None = None  # meeting | call | email | in_app | automated
    objective: str | None = None
    marks: list[str] = field(default_factory=list)  # first_value | onboarding_complete | reference
    escalate: dict[str, Any] | None = None  # {after_days, to}
    after: dict[str, Any] | None = None
    every: str | None = None
    start_from: str | None = None
    until: str | None = None
    before: dict[str, Any] | None = None
    when: dict[str, Any] | None = None
    respond_within_days: int | None = None
    only_for: dict[str, Any] | None = None  # {touch, tags}: the moment applies only to such engagements


@dataclass
class Trigger:
    """An escalation rule: when its condition (``when``, the closed grammar) holds, the moment ``start`` is due."""

    id: str
    when: dict[str, Any]
    start: str | None = None  # the moment (or event response) it starts
    owner: str | None = None
    objective: str | None = None


@dataclass
class EngagementModel:
    """How a CS organisation engages one segment: its moments, triggers and time-to-value targets."""

    id: str
    name: str | None = None
    touch: str = "high"  # high | low
    ttv_target_days: int = 42
    reference_target_days: int = 60
    grace_days: int = 7
    applies_to: dict[str, Any] | None = None
    moments: list[MomentSpec] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    # The health score's weights and bands for this segment (an engagement's own ``health`` wins).
    health: dict[str, Any] | None = None

    def moment(self, moment_id: str) -> MomentSpec | None:
        return next((m for m in self.moments if m.id == moment_id), None)


@dataclass
class MomentRecord:
    """One line of the moment log: an occurrence due, held, cancelled or missed."""

    moment: str
    due: str | None = None
    held: str | None = None
    status: str | None = None  # held | cancelled | no_show
    attendees: list[str] | None = None
    outcome: str | None = None
    delay_reason: str | None = None  # a key of vocabulary.DELAY_REASONS
    note: str | None = None


@dataclass
class Event:
    """Something that happened at the customer: a support case, a release, a survey answer, a sponsor change."""

    date: str
    type: str  # a key of vocabulary.EVENT_TYPES
    severity: str | None = None
    ref: str | None = None
    score: float | None = None
    scale: float | None = None
    respondent: str | None = None
    note: str | None = None


@dataclass
class Activity:
    """Something the CSM did for the account, and the missions it served (appendable like measurements).

    ``people`` is the file's ``with``: the stakeholders taking part, by name.
    """

    date: str
    type: str  # one of vocabulary.ACTIVITY_TYPES
    title: str
    missions: list[str] = field(default_factory=list)  # keys of vocabulary.MISSIONS
    people: list[str] = field(default_factory=list)
    moment: str | None = None  # the engagement-plan moment it was, when it was one
    minutes: float | None = None
    outcome: str | None = None


@dataclass
class PulseAnswer:
    """One answer of the "how are *you* doing?" pulse: how well a respondent can get one desired outcome
    (an id in ``Engagement.jobs``) today, 0 to 10. Appended like measurements; the key is
    (date, respondent, desired_outcome)."""

    date: str
    respondent: str
    desired_outcome: str
    satisfaction: float
    importance: float | None = None
    comment: str | None = None


@dataclass
class Engagement:
    id: str
    customer: str
    currency: str | None = None
    csm: str | None = None
    tags: list[str] | None = None
    initiative: dict[str, Any] | None = None
    solution: dict[str, Any] | None = None
    stakeholders: list[dict[str, Any]] | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    financial_links: list[dict[str, Any]] | None = None
    cash_flow: list[CashFlowLine] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    contract: Contract | None = None
    engagement_model: str | EngagementModel | None = None  # a model's id in the store, or one inline
    moments: list[MomentRecord] = field(default_factory=list)  # the log, appendable like measurements
    events: list[Event] = field(default_factory=list)  # appendable like measurements
    fiscal_year_end: str | None = None  # MM-DD, the last day of the customer's financial year; None: 12-31
    # The relationship around the value (csm_nb.data.schema: SUCCESS_PLAN, RISK, COMMITMENT, REFERENCE,
    # HEALTH_SETTINGS), kept as the checked mappings of the file.
    success_plan: dict[str, Any] | None = None
    risks: list[dict[str, Any]] | None = None
    commitments: list[dict[str, Any]] | None = None
    references: list[dict[str, Any]] | None = None
    health: dict[str, Any] | None = None
    activities: list[Activity] = field(default_factory=list)  # appendable like measurements
    maturity: dict[str, Any] | None = None  # {model, peer_tag, assessments, plan, segments}
    jobs: list[dict[str, Any]] | None = None  # the customer's jobs, their steps and desired outcomes
    pulse: list[PulseAnswer] = field(default_factory=list)  # appendable like measurements
    # Workshop answers by workbook id, then answer key (saved one at a time by the forms).
    workshop: dict[str, dict[str, Any]] | None = None
    # Bookkeeping from the store, not part of the engagement file.
    revision: int = 0
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def title(self) -> str:
        """What a reader calls it: the customer and, when known, the initiative."""
        name = (self.initiative or {}).get("name")
        return f"{self.customer}: {name}" if name else self.customer

    @property
    def currency_code(self) -> str:
        return self.currency or "USD"

    def kpi(self, kpi_id: str) -> Kpi | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)


BOOKKEEPING = ("revision", "updated_at", "updated_by")


def without_none(record: Any) -> dict[str, Any]:
    """A dataclass as a dict, leaving out unset (None) fields, in field order."""
    return {k: v for k, v in asdict(record).items() if v is not None}


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))
