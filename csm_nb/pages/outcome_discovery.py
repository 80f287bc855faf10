"""Outcome discovery (workbook ``outcome_discovery``): the guided questioning
flow of the stakeholder workshop, in five stages, with the summarising
paraphrase and the "check my maths" read-backs composed from the answers,
and the outcome requirements documented from them.

Interactive (a person in JupyterLab or the workshop app, see
``config.interactive_session``): an engagement picker and the form, every
answer saved as it is entered. Headless: a report of what was captured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csm_nb import config
from csm_nb.data.checks import setting_in_range
from csm_nb.data.questions import Question, load_bank, parse_answers_parameter
from csm_nb.data.store import Store
from csm_nb.errors import ConflictError, CsmError, InputError
from csm_nb.forms.widgets import WorkshopPage
from csm_nb.method import discovery
from csm_nb.method.dates import parse_as_of
from csm_nb.model import Engagement, Outcome
from csm_nb.pages.base import Page
from csm_nb.render.html import Html, callout, figures, join, paragraph, section, table
from csm_nb.vocabulary import TONE_COLOURS, money, number, percent

WORKBOOK = "outcome_discovery"
TITLE = "Outcome discovery"


def applies(engagement: Engagement) -> bool:
    return bool((engagement.workshop or {}).get(WORKBOOK))


@dataclass
class DiscoveryContext:
    """What repeated questions read: the engagement, plus the outcomes written from the answers."""

    engagement: Engagement
    documented_outcomes: list[Outcome] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engagement, name)


class OutcomeDiscoveryPage(WorkshopPage, Page):
    WORKBOOK, TITLE = WORKBOOK, TITLE
    WORKSHOP = True
    WORKSHOP_BLURB = "With the customer's managers: the problem, the outcome and its targets, the early signs, the money."
    applies = staticmethod(applies)

    @classmethod
    def open(cls, engagement_id: str, **options: Any) -> OutcomeDiscoveryPage:
        return open_page(engagement_id, **options)

    def __init__(self, *args: Any, tolerance: float = discovery.DEFAULT_TOLERANCE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tolerance = tolerance
        self.form: Any = None

    # -- the maths and the outcomes ---------------------------------------------------
    def maths(self, answers: Mapping[str, Any] | None = None) -> discovery.MathsCheck:
        return discovery.maths_check(self.answers if answers is None else answers, tolerance=self.tolerance)

    def outcomes(self, answers: Mapping[str, Any] | None = None) -> list[Outcome]:
        answers = self.answers if answers is None else answers
        return discovery.outcome_requirements(answers, maths=self.maths(answers))

    def context_for(self, answers: Mapping[str, Any]) -> DiscoveryContext:
        return DiscoveryContext(self.engagement, self.outcomes(answers))

    def compose(self, question: Question, answers: Mapping[str, Any]) -> Html | None:
        """The prompt the workbook writes from the answers so far."""
        if question.compose == "paraphrase":
            text = discovery.paraphrase(question.parts, answers)
            return Html('<p class="composed"><i>“{}”</i></p>').format(text) if text else None
        maths = self.maths(answers)
        statements = maths.statements(self.currency)
        if question.compose == "maths":
            lines = statements[:-1] if maths.money else statements  # the money read-back is stage 5's
            if not lines:
                return None
            body = Html("<p><i>“Let me check my maths. {} Is that right?”</i></p>").format(" ".join(lines))
            flags = [callout(c.message(), tone="warn", title="Check:") for c in maths.disagreements]
            agreed = [
                paragraph(c.message(), css_class="note")
                for c in (maths.last_year_stated, maths.this_year_stated, maths.remaining_stated)
                if c and c.agrees
            ]
            return join([body, *flags, *agreed])
        if question.compose == "money":
            if maths.money is None:
                return None
            return Html("<p><i>“{} Have I got that right?”</i></p>").format(statements[-1])
        return None

    # -- interactive extras ------------------------------------------------------------
    def live_summary(self, answers: Mapping[str, Any]) -> Html:
        outcomes = self.outcomes(answers)
        return join(
            [
                Html('<h3 style="margin:14px 0 4px">Outcome requirements so far</h3>'),
                self._outcome_table(outcomes)
                if outcomes
                else Html('<p style="color:#5b6672">{}</p>').format("They appear here as the answers come in."),
                self._to_validate(outcomes),
            ]
        )

    def record_outcomes(
        self, *, engagement_id: str | None = None, expected_revision: int | None = None, author: str | None = None
    ) -> int:
        """Write the documented outcomes into the engagement (replacing ones with the same id).

        ``expected_revision`` is the engagement revision the workshop opened;
        a save by somebody else since is refused with who and when.
        """
        if self.form is not None:  # interactive: what the form holds now, not what was loaded
            self.saved = self.form.answers()
        outcomes = self.outcomes()
        if not outcomes:
            raise InputError("no outcome requirements yet: answer stage 2 (the business measure, target and run rate) first")
        with Store(self.db or None) as store:
            current = store.load(engagement_id or self.engagement.id)
            expected = self.engagement.revision if expected_revision is None else expected_revision
            ids = {o.id for o in outcomes}
            current.outcomes = [o for o in current.outcomes if o.id not in ids] + outcomes
            revision = store.save(
                current,
                expected_revision=expected,
                author=author,
                summary=f"outcome discovery: {len(outcomes)} outcome requirement(s) recorded",
            )
        self.engagement.revision = revision
        return revision

    # -- the report -------------------------------------------------------------------------
    def headline(self) -> Html:
        done, total = self.answered_counts()
        outcomes = self.outcomes()
        if not self.answers:
            return callout(
                "No workshop answers yet for this engagement. Open the workbook in JupyterLab "
                "(csm-nb lab) to run the workshop; answers are saved as they are typed.",
                tone="info",
                title="Nothing captured yet.",
            )
        primary = next((o for o in outcomes if o.priority == "primary"), None)
        validate = discovery.to_validate(outcomes)
        text = f"{done} of {total} questions answered. {len(outcomes)} outcome requirement(s) documented" + (
            f"; {len(validate)} point(s) to validate." if validate else ", all confirmed."
        )
        if primary:
            text += f" Primary: {primary.description} — {primary.quantity}."
        maths = self.maths()
        tone = "warn" if maths.disagreements else "good" if primary and primary.status == "stated" else "info"
        return join([callout(text, tone=tone, title="Workshop record."), self.key_figures(), self.supplied_note()])

    def key_figures(self) -> Html:
        m = self.maths()
        if m.this_year is None:
            return Html("")
        u = m.unit
        items = [
            (
                "Projected this year",
                f"{number(m.this_year.projected)} {u}",
                "monthly run rate × 12" if m.projection_basis == "run_rate" else "last year's actual repeated",
            ),
            (
                "Shortfall",
                f"{number(m.this_year.count)} {u}",
                f"{percent(m.this_year.fraction)} of the target of {number(m.this_year.target)}",
            ),
        ]
        if m.reduced_target is not None and m.reduced_shortfall is not None:
            items.append(
                (
                    "Agreed target this year",
                    f"{number(m.reduced_target)} {u}",
                    f"{percent(m.reduced_shortfall.attained)} of target; shortfall cut by {percent(m.reduction, decimals=0)}",
                )
            )
        if m.money is not None:
            items.append(
                (
                    "Gap in money",
                    money(m.money.gap, self.currency),
                    f"a year: target {money(m.money.target_year, self.currency)} vs current pace {money(m.money.run_rate_year, self.currency)}",
                )
            )
        return figures(items)

    def maths_report(self) -> Html:
        if self.interactive:
            return Html("")
        m = self.maths()
        statements = m.statements(self.currency)
        if not statements:
            return Html("")
        body = [Html("<ol>") + join(Html("<li>{}</li>").format(s) for s in statements) + Html("</ol>")]
        for check in (m.last_year_stated, m.this_year_stated, m.remaining_stated):
            if check is not None:
                body.append(
                    callout(
                        check.message(), tone="good" if check.agrees else "warn", title="Matches." if check.agrees else "Check:"
                    )
                )
        if m.missing:
            body.append(paragraph(f"Not computed yet, for want of: {', '.join(m.missing)}.", css_class="note"))
        body.append(
            paragraph(
                "How these are computed: the projected year is the monthly run rate × 12 (or last year's actual when no "
                "run rate was given); the shortfall is target − projection, as a share of the target; the agreed target "
                "is the target less the part of the shortfall not closed; money is units × the agreed value per unit. "
                f"A stated percentage more than {percent(self.tolerance, decimals=0).replace(' %', '')} points from the "
                "computed one is flagged.",
                css_class="note",
            )
        )
        return section("Check my maths", *body, intro="The figures read back to the stakeholders, recomputed from their answers.")

    def _outcome_table(self, outcomes: list[Outcome]) -> Html:
        rows = [[o.description, o.quantity, o.deadline, o.measurement, o.status, o.priority] for o in outcomes]
        return table(["Outcome", "Quantity", "Deadline", "Measured by", "Stated / assumed", "Priority"], rows)

    def _to_validate(self, outcomes: list[Outcome]) -> Html:
        items = discovery.to_validate(outcomes)
        if not items:
            return Html("")
        return (
            Html("<h3>To validate with the customer</h3><ul>")
            + join(Html("<li>{}</li>").format(i) for i in items)
            + Html("</ul>")
        )

    def outcomes_report(self) -> Html:
        if self.interactive:
            return Html("")
        outcomes = self.outcomes()
        if not outcomes:
            return section(
                "Outcome requirements",
                paragraph(
                    "None yet: they are written from stage 2's answers (the business measure, the target and the run rate)."
                ),
            )
        return section(
            "Outcome requirements",
            self._outcome_table(outcomes),
            self._to_validate(outcomes),
            intro="Written from the workshop answers; each is marked stated or assumed, primary or secondary.",
        )

    def results(self) -> dict[str, Any]:
        outcomes = self.outcomes()
        maths = self.maths()
        from csm_nb.data.questions import open_questions
        from csm_nb.model import without_none

        return {
            **self.workshop_results(),
            "verdicts": self.verdicts(),
            "maths": maths.results(),
            "disagreements": [c.message() for c in maths.disagreements],
            "outcomes": [without_none(o) for o in outcomes],
            "to_validate": discovery.to_validate(outcomes),
            "open_questions": [q.question.id for q in open_questions(self.bank, self.context_for(self.answers), self.answers)],
        }

    def for_engagement(self, engagement: Engagement) -> OutcomeDiscoveryPage:
        return OutcomeDiscoveryPage(engagement, self.bank, db=self.db, interactive=True, tolerance=self.tolerance)

    def build_form(self, engagement_id: str) -> Any:
        form = super().build_form(engagement_id)
        self._add_record_button(form)
        return form

    def _add_record_button(self, form: Any) -> None:
        import ipywidgets as w

        page = self.current
        button = w.Button(
            description="Record these outcomes in the engagement", button_style="primary", layout=w.Layout(width="auto")
        )
        message = w.HTML()

        def record(_: Any) -> None:
            try:
                revision = page.record_outcomes()  # refused if anyone saved the engagement since it was opened
            except ConflictError as exc:
                message.value = str(Html('<span style="color:{}">Not recorded: {}</span>').format(TONE_COLOURS["warn"], str(exc)))
                return
            except CsmError as exc:
                message.value = str(Html('<span style="color:{}">Not recorded: {}</span>').format(TONE_COLOURS["bad"], str(exc)))
                return
            message.value = str(
                Html('<span style="color:{}">✓ recorded (engagement revision {})</span>').format(TONE_COLOURS["good"], revision)
            )

        button.on_click(record)
        form.record_button, form.record_message = button, message
        form.widget.children = (*form.widget.children, w.HBox([button, message]))


def open_page(
    engagement_id: str,
    *,
    db: str | None = None,
    results_path: str | None = None,
    answers: Any = None,
    tolerance: float = discovery.DEFAULT_TOLERANCE,
    as_of: str = "",
) -> OutcomeDiscoveryPage:
    """Load the engagement and its saved answers; forms or a report as ``config.interactive_session`` decides.
    ``as_of`` (an ISO date, empty for today) is the date it is judged at."""
    day = parse_as_of(as_of)
    setting_in_range(tolerance, name="tolerance", low=0, high=1, high_open=True, expected="a fraction such as 0.02 (2 points)")
    bank = load_bank(WORKBOOK)
    supplied = parse_answers_parameter(answers, bank)
    with Store.existing(db or None) as store:
        engagement = store.load(engagement_id)
        saved = {k: a.value for k, a in store.answers(engagement_id, WORKBOOK).items()}
    return OutcomeDiscoveryPage(
        engagement,
        bank,
        db=db,
        interactive=config.interactive_session(results_path),
        supplied=supplied,
        saved=saved,
        tolerance=float(tolerance),
    ).at(day)
