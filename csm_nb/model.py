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
