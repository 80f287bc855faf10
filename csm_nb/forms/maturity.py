"""Record a maturity assessment, and put the plan's metric targets into the KPI register (ipywidgets).

Two small forms above the maturity report, for a person in JupyterLab:

* :class:`AssessmentForm` ("Record an assessment"): the date (default: the report's date,
  ``as_of``), who assessed, each behaviour of the model yes / partly / no / not assessed (the latest
  assessment's answers to start from; the date of an earlier assessment shows that one's answers, to
  correct it), each metric's value; Save. Saving replaces the engagement's
  ``maturity`` through ``Store.set_part(engagement_id, "maturity", ..., expected_revision=...)`` in one
  transaction, with the assessment of that date added, or corrected when one of that date is there;
  the same answers again change nothing.
* :class:`KpiRegisterForm` ("Put into the KPI register"): each of the plan's metric targets becomes a
  leading KPI (:func:`csm_nb.method.maturity.plan_kpis`: baseline the day-1 value, deadline the plan's
  date, origin and consent copied), added to the engagement's KPIs, or replacing the KPI of the same id,
  saved with ``Store.save(engagement, expected_revision=...)`` as the KPI workshop's "Put the
  shortlist in the KPI register" does. A plan whose metric targets are refused by its checks is not
  put in.

Each save reads back what it wrote before it shows "✓ saved", then the report below is redrawn. A
wrong value is "Not saved: <the field>: <what is expected>" and nothing is written.

Nothing here needs a browser: tests call ``fill`` and ``save`` and read ``state``, ``message`` and the store.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from csm_nb.errors import InputError, StoreError
from csm_nb.forms.plan_log import LABEL_WIDTH, EntryForm, LiveForms, parse_number
from csm_nb.forms.widgets import ipywidgets
from csm_nb.method import maturity as mt
from csm_nb.model import Engagement
from csm_nb.vocabulary import day_words, plural

NOT_ASSESSED = ""
ANSWERS = (("not assessed", NOT_ASSESSED), ("yes", "yes"), ("partly", "partly"), ("no", "no"))


def short(text: str, limit: int = 48) -> str:
    """A behaviour's text short enough for a form's label.

    >>> short("Outcomes written with a number and a date"), short("x" * 60)[-1]
    ('Outcomes written with a number and a date', '…')
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def typed_number(value: Any) -> str:
    """A stored metric value as the box shows it: every digit kept, so that saving it again changes nothing.

    >>> typed_number(1234567.0), typed_number(4.6), typed_number(0.1234567), typed_number(1e20)
    ('1234567', '4.6', '0.1234567', '1e+20')
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class AssessmentForm(EntryForm):
    """Record how far each behaviour is seen on a date, and the metrics' values then."""

    NAME = "maturity-assessment"
    TITLE = "Record an assessment"
    REDRAWN = "the report"

    def __init__(self, owner: MaturityForms) -> None:
        w = ipywidgets()
        described = {"style": {"description_width": LABEL_WIDTH}}
        super().__init__(owner)
        self._date_text: str | None = None
        model = owner.model
        self.date = w.DatePicker(description="Date", value=owner.today, layout=w.Layout(width="300px"), **described)
        self.by = w.Text(description="Assessed by", continuous_update=False, layout=w.Layout(width="420px"), **described)
        self.answers: dict[str, Any] = {}
        rows: list[Any] = [self.date, self.by]
        for level in model.levels:
            if not level.behaviours:
                continue
            rows.append(w.HTML(f"<b>Level {level.number}</b> {level.name}"))
            for b in level.behaviours:
                box = w.Dropdown(options=list(ANSWERS), value=NOT_ASSESSED, layout=w.Layout(width="140px"))
                box.add_class(f"csm-maturity-{b.id}")
                self.answers[b.id] = box
                rows.append(w.HBox([w.HTML(short(b.text or b.id), layout=w.Layout(width="360px")), box]))
        self.metrics: dict[str, Any] = {}
        for m in model.metrics:
            box = w.Text(
                description=short(m.name or m.id, 24),
                placeholder=m.unit or "",
                continuous_update=False,
                layout=w.Layout(width="420px"),
                **described,
            )
            self.metrics[m.id] = box
            rows.append(box)
        self.box = self._box(rows, width="580px")
        self._watch([self.by, *self.answers.values(), *self.metrics.values()])
        self.date.observe(self._on_date, names="value")
        self.load()

    def _on_date(self, change: Mapping[str, Any]) -> None:
        self._date_text = None
        if isinstance(change.get("new"), dt.date):
            self.load(change["new"])
        self._changed()

    def load(self, day: dt.date | None = None) -> None:
        """Start from the answers of the assessment of ``day`` when there is one (to correct it, not to overwrite it
        with another date's answers); without ``day``, from the latest one (to change what moved). A date with no
        assessment keeps what the boxes hold."""
        assessments = mt.in_order((self.owner.engagement.maturity or {}).get("assessments") or [], as_of=self.owner.today)
        if day is None:
            chosen = assessments[-1] if assessments else {}
        else:
            found = next((a for a in assessments if mt.as_date(a.get("date")) == day), None)
            if found is None:
                return
            chosen = found
        self._quiet = True
        try:
            observed = chosen.get("observed") or {}
            for bid, box in self.answers.items():
                box.value = {True: "yes", False: "no"}.get(observed.get(bid), observed.get(bid) or NOT_ASSESSED)  # type: ignore[call-overload]
            values = chosen.get("metrics") or {}
            for mid, box in self.metrics.items():
                box.value = typed_number(values[mid]) if mid in values else ""
            self.by.value = str(chosen.get("by") or "")
        finally:
            self._quiet = False

    def fill(
        self,
        *,
        date: dt.date | str | None = None,
        by: str | None = None,
        observed: Mapping[str, str | None] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """Enter values as a person would (tests call it); ``date`` may be text, even a date that does not exist;
        an answer ``None`` is "not assessed"."""
        if date is not None:
            self.enter_date(date)
        if by is not None:
            self.by.value = by
        for bid, answer in (observed or {}).items():
            if bid not in self.answers:
                raise KeyError(f"no behaviour {bid!r} in the form; offered: {', '.join(self.answers)}")
            self.answers[bid].value = answer or NOT_ASSESSED
        for mid, value in (metrics or {}).items():
            self.metrics[mid].value = "" if value is None else str(value)

    # -- saving ------------------------------------------------------------------------------------
    def entry(self) -> dict[str, Any]:
        """The assessment the form holds; ``InputError`` names the field that is wrong."""
        day = self.typed_date()
        if dt.date.fromisoformat(day) > self.owner.today:
            raise InputError(f"Date: {day} is after {day_words(self.owner.today)}, the date the report is judged at")
        observed = {bid: box.value for bid, box in self.answers.items() if box.value != NOT_ASSESSED}
        if not observed:
            raise InputError("Behaviours: answer yes, partly or no for at least one behaviour")
        metrics: dict[str, float] = {}
        for mid, box in self.metrics.items():
            metric = self.owner.model.metric(mid)
            value = parse_number(box.value, (metric.name if metric and metric.name else mid))
            if value is not None:
                metrics[mid] = value
        found: dict[str, Any] = {"date": day}
        if " ".join(str(self.by.value or "").split()):
            found["by"] = " ".join(str(self.by.value).split())
        found["observed"] = observed
        if metrics:
            found["metrics"] = metrics
        return found

    def write(self, entry: dict[str, Any]) -> dict[str, int]:
        """The engagement's maturity with this assessment added (or the one of its date corrected), in one transaction."""
        eid = self.owner.engagement.id
        with self.store.transaction():
            fresh = self.store.load(eid)
            maturity = copy.deepcopy(fresh.maturity or {"model": self.owner.model.id})
            items = list(maturity.get("assessments") or [])
            at = next((i for i, a in enumerate(items) if str(a.get("date")) == entry["date"]), None)
            if at is not None:
                kept = {k: v for k, v in items[at].items() if k == "notes"}
                merged = {**entry, **kept}
                if merged == items[at]:
                    return {"added": 0, "updated": 0, "unchanged": 1}
                items[at] = merged
                counts = {"added": 0, "updated": 1, "unchanged": 0}
            else:
                items.append(entry)
                counts = {"added": 1, "updated": 0, "unchanged": 0}
            maturity["assessments"] = items
            self.store.set_part(eid, "maturity", maturity, expected_revision=fresh.revision, author=self.owner.author)
        return counts

    def read_back(self, entry: dict[str, Any]) -> None:
        fresh = self.store.load(self.owner.engagement.id)
        found = next((a for a in (fresh.maturity or {}).get("assessments") or [] if str(a.get("date")) == entry["date"]), None)
        if found is None or {k: found.get(k) for k in entry} != entry:
            raise StoreError(f"the assessment of {entry['date']} read back as {found!r}; it may not be saved")
        self.owner.engagement = fresh

    def described(self, entry: dict[str, Any], counts: Mapping[str, int]) -> str:
        what = f"Assessment of {day_words(dt.date.fromisoformat(entry['date']))}, {plural(len(entry['observed']), 'behaviour')}"
        if counts.get("added"):
            return what + ": added."
        return what + (": corrected." if counts.get("updated") else ": already recorded as it is.")


class KpiRegisterForm(EntryForm):
    """Put the plan's metric targets into the KPI register as leading KPIs."""

    NAME = "maturity-kpis"
    TITLE = "Put into the KPI register"
    REDRAWN = "the report"

    def __init__(self, owner: MaturityForms) -> None:
        w = ipywidgets()
        super().__init__(owner)
        self.save_button.description = "Put into the KPI register"
        self.save_button.layout = w.Layout(width="auto")
        self.summary = w.HTML()
        self.box = self._box([self.summary], width="420px")
        self.update()

    def update(self) -> None:
        targets = ((self.owner.engagement.maturity or {}).get("plan") or {}).get("metric_targets") or {}
        words = ", ".join(f"{mid} {float(v):g}" for mid, v in targets.items()) or "none in the plan yet"
        self.summary.value = f"The plan's metric targets: {words}. Each becomes a leading KPI, from its day-1 value."

    def entry(self) -> list[Any]:
        """The KPIs to put in, from the engagement as the store holds it; ``InputError`` when the plan gives none
        or its checks refuse a metric target."""
        fresh = self.store.load(self.owner.engagement.id)
        maturity = fresh.maturity or {}
        plan = maturity.get("plan") or {}
        if not plan.get("metric_targets"):
            raise InputError("Plan: it has no metric targets to put into the KPI register; add metric_targets to the plan")
        assessments = maturity.get("assessments") or []
        baselines = {m.id: values[0] for m in self.owner.model.metrics if (values := mt.metric_values(m.id, assessments))}
        first = mt.day_one(mt.history(self.owner.model, assessments))
        checks = mt.check_plan(
            {"metric_targets": plan["metric_targets"]},
            model=self.owner.model,
            level=first.level if first else 1,
            baselines={k: v for k, (_, v) in baselines.items()},
        )
        if checks.refused:
            raise InputError(f"Plan: {checks.refused[0]}; change the target first")
        return mt.plan_kpis(self.owner.model, plan, baselines)

    def write(self, entry: list[Any]) -> dict[str, int]:
        eid = self.owner.engagement.id
        with self.store.transaction():
            fresh = self.store.load(eid)
            before = {k.id: k for k in fresh.kpis}
            fresh.kpis, added, replaced = mt.register(fresh.kpis, entry)
            changed = [k.id for k in entry if k.id in replaced and before[k.id] != k]
            if not added and not changed:
                return {"added": 0, "updated": 0, "unchanged": len(entry)}
            self.store.save(
                fresh,
                expected_revision=fresh.revision,
                author=self.owner.author,
                summary=f"KPI register from the maturity plan: {', '.join(k.id for k in entry)}",
            )
        return {"added": len(added), "updated": len(changed), "unchanged": len(entry) - len(added) - len(changed)}

    def read_back(self, entry: list[Any]) -> None:
        fresh = self.store.load(self.owner.engagement.id)
        for kpi in entry:
            if fresh.kpi(kpi.id) != kpi:
                raise StoreError(f"KPI {kpi.id!r} read back as {fresh.kpi(kpi.id)!r}; it may not be saved")
        self.owner.engagement = fresh

    def described(self, entry: list[Any], counts: Mapping[str, int]) -> str:
        ids = ", ".join(k.id for k in entry)
        if counts.get("added") or counts.get("updated"):
            return f"{ids}: in the KPI register ({counts['added']} added, {counts['updated']} updated)."
        return f"{ids}: already in the KPI register as they are."


class MaturityForms(LiveForms):
    """Both forms for one engagement, above its maturity report, and the report's parts that redraw after a save."""

    def __init__(
        self,
        engagement: Engagement,
        model: mt.MaturityModel,
        *,
        db: str | None = None,
        author: str | None = None,
        today: dt.date | None = None,
        on_saved: Callable[[], Any] | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(engagement, db=db, author=author, today=today, on_saved=on_saved, wait=wait)
        self.model = model
        self.assessment = AssessmentForm(self)
        self.kpis = KpiRegisterForm(self)
        self.frame(
            [self.assessment.box, self.kpis.box],
            saving="each form saves when you press its button; the report below follows",
            css_class="csm-maturity-form",
        )

    def update(self, engagement: Engagement) -> None:
        """The engagement as the store holds it now."""
        self.engagement = engagement
        self.kpis.update()
