"""The renewal's arithmetic: when it falls, what it is worth, the value shown so far and how ready we are.

Pure functions over the engagement's parts (:mod:`csm_nb.model`; the bill of materials, stakeholders,
risks, commitments and references are the checked mappings of the engagement file). Dates are
``datetime.date``; durations are whole days, positive ahead of ``as_of`` and negative once past it;
money is in the engagement's currency, amounts positive; ``None`` is "not known yet", never zero.

* **Renewal date** (:func:`renewal_date`): the contract's ``end``; without one, the earliest last day
  of a term among the renewable bill-of-materials lines booked now: the contract's ``start`` (else its
  signature) plus ``term_months`` calendar months, less one day, so a 12-month term from 2027-01-01
  ends on 2027-12-31, the day a contract end would name.
* **Notice deadline** (:func:`notice_deadline`): renewal date - ``notice_days``; 2027-12-31 less 90
  days is 2027-10-02.
* **Renewal money** (:func:`renewal_money`): the *renewal base* is the renewable lines expected to
  renew and booked now (timing immediate); the *expansion in pipeline* is the renewable lines
  planned, not booked yet; lines meant to be temporary are neither, and never count as lost.
* **Value delivered** (:func:`value_delivered`): the cash flow's actual profit and return once every
  actual is in; before that, the same to date (the periods with actuals).
* **Time to reference** (:func:`time_to_reference`): days from the signature to the first reference;
  on target *under* the model's ``reference_target_days`` (59 of 60 on target, 60 late).
* **Readiness** (:func:`readiness_checks`, :func:`readiness`): eight checks, each met or not with
  its reason; readiness = checks met / 8.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from csm_nb.method.cashflow import CashFlowSummary
from csm_nb.method.dates import add_months
from csm_nb.vocabulary import COMMITMENT_STATUSES, RISK_CLOSED, RISK_SEVERITIES, day_words, plural

# -- the contract's numbers (docs/renewal-prep.md: decisions) ----------------------------------------
HEALTH_READY = 75  # the health score from which the account counts as ready to renew (green)
QBR_MOMENT = "qbr"  # the moment id of the quarterly business review in the engagement's log
QBR_WITHIN_DAYS = 100  # a QBR held no more than this many days before as_of counts as recent
DEFAULT_REFERENCE_TARGET_DAYS = 60  # an advocate in under 60 days, when no engagement model says otherwise
COMMITMENTS_SETTLED = ("kept", "broken")  # a promise no longer open: kept, or broken and so closed

# The readiness checklist, in its order, as people read each check.
CHECKS: dict[str, str] = {
    "value_documented": "Value documented",
    "sponsor_active": "Sponsor active",
    "champion_active": "Champion active",
    "health": f"Health {HEALTH_READY} or more",
    "no_open_high_risk": "No open high-severity risk",
    "qbr_recent": f"A business review in the last {QBR_WITHIN_DAYS} days",
    "notice_not_passed": "Notice deadline not passed",
    "commitments_settled": "Every commitment kept or closed",
}
# What happens to a renewable line at renewal, as the page words it.
COUNTED_AS: dict[str, str] = {
    "base": "renewal base",
    "pipeline": "expansion in pipeline",
    "temporary": "temporary: not a renewal to chase",
    "unclassified": "not classified: say whether it renews and when it is booked",
}
SEVERITY_ORDER = {s: i for i, s in enumerate(RISK_SEVERITIES)}  # high first


def day(value: Any) -> dt.date | None:
    """An ISO date (text or date) as a date; ``None`` for nothing.

    >>> day("2027-12-31"), day(None)
    (datetime.date(2027, 12, 31), None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def days_until(when: dt.date | None, *, as_of: dt.date) -> int | None:
    """Whole days from ``as_of`` to ``when``: positive ahead, 0 on the day, negative once past.

    >>> days_until(dt.date(2027, 12, 31), as_of=dt.date(2027, 4, 5)), days_until(None, as_of=dt.date(2027, 4, 5))
    (270, None)
    """
    return None if when is None else (when - as_of).days


# -- the renewal date ------------------------------------------------------------------------------------
def term_end(start: dt.date, term_months: int) -> dt.date:
    """The last day of a term of ``term_months`` calendar months from ``start`` (start + months - 1 day).

    >>> term_end(dt.date(2027, 1, 1), 12), term_end(dt.date(2027, 3, 15), 6)
    (datetime.date(2027, 12, 31), datetime.date(2027, 9, 14))
    """
    return add_months(start, term_months) - dt.timedelta(days=1)


def renewable(line: Mapping[str, Any]) -> bool:
    return line.get("revenue") == "renewable"


def renewal_date(
    *, contract_end: dt.date | None, term_start: dt.date | None, lines: Sequence[Mapping[str, Any]]
) -> tuple[dt.date | None, str | None]:
    """When the renewal falls, and what says so: ``("contract")`` its end, else ``("bill_of_materials")``.

    Without a contract end, the earliest :func:`term_end` from ``term_start`` (the contract's start,
    else its signature) of the renewable lines with a term that are booked now (a planned line starts
    later, on a day not known yet). ``(None, None)`` when neither says.

    >>> lines = [{"revenue": "renewable", "term_months": 12, "timing": "immediate"},
    ...          {"revenue": "renewable", "term_months": 6, "timing": "planned"}]
    >>> renewal_date(contract_end=None, term_start=dt.date(2027, 1, 1), lines=lines)
    (datetime.date(2027, 12, 31), 'bill_of_materials')
    >>> renewal_date(contract_end=dt.date(2027, 11, 30), term_start=dt.date(2027, 1, 1), lines=lines)
    (datetime.date(2027, 11, 30), 'contract')
    """
    if contract_end is not None:
        return contract_end, "contract"
    if term_start is None:
        return None, None
    ends = [
        term_end(term_start, int(line["term_months"]))
        for line in lines
        if renewable(line) and line.get("term_months") and line.get("timing") != "planned"
    ]
    return (min(ends), "bill_of_materials") if ends else (None, None)


def notice_deadline(renewal: dt.date | None, notice_days: int | None) -> dt.date | None:
    """The last day to give notice: the renewal date less ``notice_days`` (``None`` when either is unknown).

    >>> notice_deadline(dt.date(2027, 12, 31), 90), notice_deadline(dt.date(2027, 12, 31), None)
    (datetime.date(2027, 10, 2), None)
    """
    if renewal is None or notice_days is None:
        return None
    return renewal - dt.timedelta(days=int(notice_days))


# -- the money at renewal ---------------------------------------------------------------------------------
def counted_as(line: Mapping[str, Any]) -> str | None:
    """What a bill-of-materials line is at renewal: ``base``, ``pipeline``, ``temporary``,
    ``unclassified`` (renewable, but not said whether it renews or when it is booked), ``None`` (one-off).

    >>> [counted_as(x) for x in ({"revenue": "renewable", "renewal": "expected", "timing": "immediate"},
    ...                          {"revenue": "renewable", "renewal": "expected", "timing": "planned"},
    ...                          {"revenue": "renewable", "renewal": "temporary", "timing": "immediate"},
    ...                          {"revenue": "renewable"}, {"revenue": "one_off"})]
    ['base', 'pipeline', 'temporary', 'unclassified', None]
    """
    if not renewable(line):
        return None
    if line.get("timing") == "planned":
        return "pipeline"
    if line.get("renewal") == "temporary":
        return "temporary"
    if line.get("renewal") == "expected" and line.get("timing") == "immediate":
        return "base"
    return "unclassified"


@dataclass(frozen=True)
class RenewalMoney:
    """The renewable lines' amounts by what each is at renewal (money in the engagement's currency)."""

    base: float
    pipeline: float
    temporary: float
    unclassified: float
    lines: list[dict[str, Any]] = field(default_factory=list)  # each renewable line with its ``counted_as``

    @property
    def renewable(self) -> float:
        return self.base + self.pipeline + self.temporary + self.unclassified


def renewal_money(lines: Sequence[Mapping[str, Any]]) -> RenewalMoney:
    """Renewal base = renewable lines expected to renew and booked now; expansion in pipeline = renewable
    lines planned; temporary lines apart (not lost at renewal). A line's amount is its ``amount`` (0 when
    not given).

    >>> m = renewal_money([
    ...     {"item": "Platform", "amount": 180000, "revenue": "renewable", "renewal": "expected", "timing": "immediate"},
    ...     {"item": "Add-on", "amount": 60000, "revenue": "renewable", "renewal": "expected", "timing": "planned"},
    ...     {"item": "Pilot", "amount": 15000, "revenue": "renewable", "renewal": "temporary", "timing": "immediate"},
    ...     {"item": "Set-up", "amount": 9000, "revenue": "one_off"}])
    >>> m.base, m.pipeline, m.temporary, m.renewable
    (180000.0, 60000.0, 15000.0, 255000.0)
    """
    totals = {"base": 0.0, "pipeline": 0.0, "temporary": 0.0, "unclassified": 0.0}
    shown = []
    for line in lines:
        kind = counted_as(line)
        if kind is None:
            continue
        amount = float(line.get("amount") or 0)
        totals[kind] += amount
        shown.append({**line, "amount": amount, "counted_as": kind})
    return RenewalMoney(**totals, lines=shown)


# -- value delivered ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ValueDelivered:
    """Money the engagement returned so far: actual revenue, cost, profit (revenue - cost) and net
    return (profit / cost, a fraction), over every period (``basis`` "complete") or the periods with
    actuals (``basis`` "to_date", ``through`` the last of them)."""

    basis: str  # complete | to_date
    through: str | None
    revenue: float
    cost: float
    profit: float
    net_roi: float | None
    return_on_cost: float | None


def value_delivered(summary: CashFlowSummary | None) -> ValueDelivered | None:
    """The cash flow's actual profit and return, to date until every actual is in (``None``: no actuals).

    >>> from csm_nb.method.cashflow import summarise
    >>> from csm_nb.model import CashFlowLine as L
    >>> v = value_delivered(summarise([L("M1", 100, 100, 0, 0), L("M2", 10, 10, 150, 160), L("M3", 10, None, 150, None)]))
    >>> v.basis, v.through, v.revenue, v.cost, v.profit, v.net_roi
    ('to_date', 'M2', 160.0, 110.0, 50.0, 0.45454545454545453)
    """
    if summary is None or summary.to_date is None:
        return None
    if summary.complete:
        revenue, cost = float(summary.totals["revenue_act"] or 0), float(summary.totals["expenditure_act"] or 0)
        return ValueDelivered(
            "complete",
            summary.periods[-1],
            revenue,
            cost,
            float(summary.profit_act or 0),
            summary.net_roi_act,
            summary.return_on_cost_act,
        )
    t = summary.to_date
    profit = t.revenue_act - t.expenditure_act
    return ValueDelivered(
        "to_date",
        summary.periods[t.last_period],
        t.revenue_act,
        t.expenditure_act,
        profit,
        profit / t.expenditure_act if t.expenditure_act else None,
        t.revenue_act / t.expenditure_act if t.expenditure_act else None,
    )


def outcomes_met(statuses: Mapping[str, str | None]) -> dict[str, Any]:
    """Outcomes on plan or ahead (met at ``as_of``), of those measured and of all, from the verdicts' outcome statuses.

    >>> outcomes_met({"a": "ahead", "b": None, "c": "behind"})
    {'met': 1, 'measured': 2, 'total': 3, 'ids': ['a']}
    """
    met = [k for k, s in statuses.items() if s in ("on_plan", "ahead")]
    return {"met": len(met), "measured": sum(1 for s in statuses.values() if s), "total": len(statuses), "ids": met}


# -- risks, commitments, references -------------------------------------------------------------------------
def risk_is_open(risk: Mapping[str, Any]) -> bool:
    """A risk still to deal with: any status but recovered or lost.

    >>> risk_is_open({"status": "plan_in_place"}), risk_is_open({"status": "lost"})
    (True, False)
    """
    return risk.get("status") not in RISK_CLOSED


def risks_in_order(risks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Open risks first, each group by severity (high, medium, low, then unrated), then by date raised.

    >>> [r["id"] for r in risks_in_order([{"id": "a", "status": "recovered", "severity": "high"},
    ...     {"id": "b", "status": "open", "severity": "low"}, {"id": "c", "status": "saving", "severity": "high"}])]
    ['c', 'b', 'a']
    """

    def rank(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int, str, int]:
        i, r = item
        return (
            0 if risk_is_open(r) else 1,
            SEVERITY_ORDER.get(r.get("severity") or "", len(SEVERITY_ORDER)),
            str(r.get("raised") or ""),
            i,
        )

    return [dict(r) for _, r in sorted(enumerate(risks), key=rank)]


def open_high_risks(risks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The open risks of high severity."""
    return [dict(r) for r in risks if risk_is_open(r) and r.get("severity") == "high"]


@dataclass(frozen=True)
class TimeToReference:
    """Days from the signature to the first reference (``days``; ``None`` while there is none) against the
    target; ``status`` is a key of ``vocabulary.TTV_STATUSES`` (on_target, late, on_course, overdue)."""

    days: int | None
    target: int
    status: str
    first: dt.date | None = None
    elapsed: int | None = None  # days since the signature at as_of, while no reference yet


def time_to_reference(
    signed: dt.date | None, references: Sequence[Mapping[str, Any]], *, target: int, as_of: dt.date
) -> TimeToReference | None:
    """TTR: on target when the first reference (dated on or before ``as_of``) came *under* ``target`` days
    after the signature; without one, on course while fewer than ``target`` days have passed, else overdue.
    ``None`` without a signature date.

    >>> [time_to_reference(dt.date(2027, 1, 1), [{"date": d}], target=60, as_of=dt.date(2027, 6, 1)).status
    ...  for d in ("2027-03-01", "2027-03-02")]
    ['on_target', 'late']
    >>> time_to_reference(dt.date(2027, 1, 1), [], target=60, as_of=dt.date(2027, 3, 2))
    TimeToReference(days=None, target=60, status='overdue', first=None, elapsed=60)
    """
    if signed is None:
        return None
    dates = sorted(d for d in (day(r.get("date")) for r in references) if d is not None and d <= as_of)
    if dates:
        days = (dates[0] - signed).days
        return TimeToReference(days, target, "on_target" if days < target else "late", dates[0])
    elapsed = (as_of - signed).days
    return TimeToReference(None, target, "on_course" if elapsed < target else "overdue", None, elapsed)


def last_qbr(moments: Sequence[Any], *, as_of: dt.date, moment_id: str = QBR_MOMENT) -> dt.date | None:
    """The latest date a business review was held, on or before ``as_of`` (log entries of the moment with
    a held date, not cancelled or missed)."""
    held = [
        d
        for r in moments
        if r.moment == moment_id and r.status in (None, "held")
        for d in [day(r.held)]
        if d is not None and d <= as_of
    ]
    return max(held) if held else None


def in_post(stakeholders: Sequence[Mapping[str, Any]], role: str) -> list[str]:
    """The customer's stakeholders holding ``role`` who have not left (side and status default to
    customer and active), by name.

    >>> in_post([{"name": "Priya", "roles": ["sponsor"]}, {"name": "Ola", "roles": ["sponsor"], "status": "left"},
    ...          {"name": "Sam", "roles": ["sponsor"], "side": "ours"}], "sponsor")
    ['Priya']
    """
    return [
        str(s.get("name"))
        for s in stakeholders
        if role in (s.get("roles") or [])
        and (s.get("side") or "customer") == "customer"
        and (s.get("status") or "active") != "left"
    ]


# -- readiness --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One line of the readiness checklist: its key (of :data:`CHECKS`), met or not, and why."""

    key: str
    met: bool
    reason: str

    @property
    def label(self) -> str:
        return CHECKS[self.key]


def readiness_checks(
    *,
    as_of: dt.date,
    overall: str,
    money: str | None,
    overall_words: str,
    money_words: str | None,
    sponsors: Sequence[str],
    champions: Sequence[str],
    health: float | None,
    risks: Sequence[Mapping[str, Any]],
    qbr: dt.date | None,
    notice: dt.date | None,
    commitments: Sequence[Mapping[str, Any]],
) -> list[Check]:
    """The eight checks of renewal readiness, in the order of :data:`CHECKS`:

    1. value documented: the overall verdict is not ``off_track`` and the money verdict not ``behind``;
    2. and 3. a customer sponsor and a customer champion who have not left;
    4. health >= 75 (not known: not met);
    5. no open risk (status neither recovered nor lost) of high severity;
    6. a QBR held no more than 100 days before ``as_of``;
    7. the notice deadline on or after ``as_of`` (not known: not met);
    8. every commitment kept or closed (broken counts as closed; at risk or open do not).

    >>> checks = readiness_checks(as_of=dt.date(2027, 4, 5), overall="attention", money="behind",
    ...     overall_words="needs attention", money_words="below the estimate", sponsors=["Priya"], champions=[],
    ...     health=None, risks=[], qbr=dt.date(2027, 1, 5), notice=dt.date(2027, 10, 2), commitments=[])
    >>> [c.key for c in checks if c.met]
    ['sponsor_active', 'no_open_high_risk', 'qbr_recent', 'notice_not_passed', 'commitments_settled']
    >>> readiness(checks)
    0.625
    """
    out = []
    documented = overall != "off_track" and money != "behind"
    said = f"the value report says {overall_words}" + (f"; money is {money_words}" if money_words else "; no cash flow")
    out.append(Check("value_documented", documented, said))
    for key, names, role in (("sponsor_active", sponsors, "sponsor"), ("champion_active", champions, "champion")):
        out.append(
            Check(
                key, bool(names), ", ".join(names) if names else f"no {role} at the customer in post: find one before the renewal"
            )
        )
    if health is None:
        out.append(Check("health", False, "health not known yet"))
    else:
        out.append(
            Check(
                "health",
                health >= HEALTH_READY,
                f"health {health:.1f}" + ("" if health >= HEALTH_READY else f", under {HEALTH_READY}"),
            )
        )
    high = open_high_risks(risks)
    out.append(
        Check(
            "no_open_high_risk",
            not high,
            "open, high severity: " + ", ".join(str(r.get("id")) for r in high) if high else "none open of high severity",
        )
    )
    if qbr is None:
        out.append(Check("qbr_recent", False, "no business review held yet"))
    else:
        ago = (as_of - qbr).days
        out.append(Check("qbr_recent", ago <= QBR_WITHIN_DAYS, f"last held {day_words(qbr)}, {plural(ago, 'day')} before"))
    if notice is None:
        out.append(Check("notice_not_passed", False, "the notice deadline is not known: add the contract's end and notice_days"))
    else:
        left = (notice - as_of).days
        out.append(
            Check(
                "notice_not_passed",
                left >= 0,
                f"{day_words(notice)}, "
                + (f"in {plural(left, 'day')}" if left > 0 else "today" if left == 0 else f"passed {plural(-left, 'day')} ago"),
            )
        )
    pending = [c for c in commitments if c.get("status") not in COMMITMENTS_SETTLED]
    broken = [c for c in commitments if c.get("status") == "broken"]
    if not commitments:
        reason = "no commitment on record"
    elif pending:
        reason = "; ".join(
            f"{c.get('promise')}: {COMMITMENT_STATUSES.get(c.get('status') or '', c.get('status'))}" for c in pending
        )
    else:
        reason = f"{len(commitments) - len(broken)} kept" + (f", {len(broken)} broken and closed" if broken else "")
    out.append(Check("commitments_settled", not pending, reason))
    return out


def readiness(checks: Sequence[Check]) -> float:
    """The share of the checks met (a fraction; 8 checks, so 5 met is 0.625).

    >>> readiness([Check("health", True, ""), Check("qbr_recent", False, "")])
    0.5
    """
    return sum(1 for c in checks if c.met) / len(checks) if checks else 0.0
