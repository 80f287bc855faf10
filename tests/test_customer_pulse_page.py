"""The customer pulse page (csm_nb.pages.customer_pulse) on the fixture and on engagements built in the test:
what it shows, its results and index headline, that it stays customer-safe, that text from people is
escaped, that as_of moves it, and the renewal summary's quotes from the pulse."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from pathlib import Path

import pytest
from reading import plain
from test_pulse import AS_OF, FIXTURE, harbor

from csm_nb.data.engagement import read_engagement
from csm_nb.errors import CsmError
from csm_nb.model import Engagement, PulseAnswer
from csm_nb.pages import customer_pulse as page_mod
from csm_nb.pages import renewal_prep
from csm_nb.run.service import import_engagements

PARTS = ("headline", "headline_figures", "questions", "shift_chart", "moves", "per_job", "quotes_part")
# Words a customer report must never use: internal figures live in internal reports.
INTERNAL_WORDS = re.compile(
    r"\b(account health|health score|readiness|influence|win over|risks?|internal)\b|how are we doing", re.IGNORECASE
)


def render(page) -> str:
    return plain("".join(str(getattr(page, p)()) for p in PARTS))


def text(page) -> str:
    """What a person reads: tags out, entities read back."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", render(page), flags=re.S)))


def test_the_acceptance_numbers_through_the_page() -> None:
    results = page_mod.page_for(harbor(), as_of=AS_OF).results()
    assert (results["workbook"], results["engagement"], results["as_of"], results["audience"]) == (
        "customer_pulse",
        "harbor-pulse",
        "2027-07-05",
        "customer",
    )
    plan = next(o for o in results["outcomes"] if o["id"] == "plan-time")
    assert (plan["previous"], plan["latest"], plan["shift"]) == (4.0, 6.0, 2.0)
    assert (plan["opportunity_previous"], plan["opportunity_latest"]) == (14.0, 12.0)
    assert plan["question"] == "How well can you cut the time it takes to plan the day's visits today?"
    assert (plan["job"], plan["respondents"]) == ("serve-clients", ["Priya Raman"])
    assert results["customer_view"] == 60.0
    assert results["rounds"] == ["2027-03-31", "2027-06-30"]
    assert [(j["id"], j["latest"], j["previous"], j["shift"]) for j in results["jobs"]] == [
        ("serve-clients", 5.0, 4.5, 0.5),
        ("hand-over", 8.0, 7.0, 1.0),
    ]
    assert results["overall"]["latest"] == 6.0 and round(results["overall"]["shift"], 3) == 0.667
    assert [(m["id"], m["shift"]) for m in results["improved"]] == [("plan-time", 2.0), ("handover-errors", 1.0)]
    assert [(m["id"], m["shift"]) for m in results["worsened"]] == [("missed-visits", -1.0)]
    assert [q["respondent"] for q in results["quotes"]] == ["Priya Raman", "Priya Raman", "Tom Becker", "Priya Raman"]
    assert results["coverage"]["missing"] == ["Grace Lin"]
    never = next(o for o in results["outcomes"] if o["id"] == "shift-cover")
    assert (never["latest"], never["shift"], never["respondents"]) == (None, None, [])


def test_the_report_shows_questions_moves_jobs_and_quotes() -> None:
    page = page_mod.page_for(harbor(), as_of=AS_OF)
    shown = text(page)
    assert "Latest round 30 Jun 2027." in shown
    assert "3 desired outcomes of 4 answered; mean satisfaction 6.0 of 10 at the latest answers." in shown
    assert "moved up 0.7 points on the round before" in shown
    assert "How well can you cut the time it takes to plan the day's visits today?" in shown
    assert "14 → 12" in shown and "+2.0" in shown and "-1.0" in shown
    assert "Worse: minimise the number of visits missed in a week (-1.0)." in shown
    assert "“The board is ready by eight now; Mondays are still slow.”" in shown
    assert "Not heard from yet: Grace Lin." in shown
    assert render(page).count("<svg") == 1  # the shift chart
    assert "Satisfaction per desired outcome, the round before and the latest" in render(page)


def test_the_page_is_customer_safe() -> None:
    page = page_mod.page_for(harbor(), as_of=AS_OF)
    assert page_mod.CustomerPulsePage.AUDIENCE == "customer" and page.report_audience() == "customer"
    found = INTERNAL_WORDS.findall(text(page))
    assert found == [], found


def test_text_from_people_is_escaped() -> None:
    e = harbor()
    e.pulse[0] = dataclasses.replace(e.pulse[0], comment="<script>alert(1)</script> & more", respondent="<b>Priya</b>")
    e.jobs[0]["statement"] = "<i>serve</i>"
    e.jobs[0]["steps"][0]["desired_outcomes"][0]["statement"] = "minimise <u>time</u>"
    raw = render(page_mod.page_for(e, as_of=AS_OF))
    assert "<script>" not in raw and "<b>Priya" not in raw and "<i>serve" not in raw and "<u>time" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in raw and "&lt;i&gt;serve&lt;/i&gt;" in raw
    assert "How well can you cut &lt;u&gt;time&lt;/u&gt; today?" in raw


@pytest.mark.parametrize(
    ("engagement", "applies"),
    [
        (Engagement("a", "A"), False),
        (dataclasses.replace(harbor(), pulse=[]), False),
        (harbor(), True),
    ],
)
def test_the_workbook_applies_where_there_are_answers(engagement: Engagement, applies: bool) -> None:
    assert page_mod.applies(engagement) is applies and page_mod.CustomerPulsePage.applies(engagement) is applies


def test_without_answers_it_says_how_to_get_them() -> None:
    page = page_mod.page_for(dataclasses.replace(harbor(), pulse=[]), as_of=AS_OF)
    shown = text(page)
    assert "No answers yet." in shown and "csm-nb import" in shown
    assert "How well can you cut the time it takes" in shown  # the questions to ask are listed already
    results = page.results()
    assert (results["rounds"], results["customer_view"], results["overall"]) == (
        [],
        None,
        {"latest": None, "previous": None, "shift": None},
    )


def test_as_of_moves_the_pulse() -> None:
    march = page_mod.page_for(harbor(), as_of=dt.date(2027, 4, 1)).results()
    assert march["rounds"] == ["2027-03-31"]
    plan = next(o for o in march["outcomes"] if o["id"] == "plan-time")
    assert (plan["previous"], plan["latest"], plan["shift"], plan["opportunity_latest"]) == (None, 4.0, None, 14.0)
    assert (march["improved"], march["worsened"], march["overall"]["shift"]) == ([], [], None)
    assert march["customer_view"] == round(10 * (4 + 5 + 7) / 3, 9)
    # Long after the last round the view is not known any more; the answers still show.
    late = page_mod.page_for(harbor(), as_of=dt.date(2028, 3, 1)).results()
    assert late["customer_view"] is None and late["overall"]["latest"] == 6.0


def test_the_index_shows_the_mean_and_its_shift() -> None:
    results = page_mod.page_for(harbor(), as_of=AS_OF).results()
    head = page_mod.CustomerPulsePage.index_headline(results)
    assert head.summary == (
        "Mean satisfaction 6.0 of 10 (up 0.7 points on the round before) over 3 desired outcomes; latest round 30 Jun 2027."
    )
    assert (head.figures["pulse_latest"], head.figures["pulse_round"]) == (6.0, "2027-06-30")
    assert page_mod.CustomerPulsePage.index_headline({}).summary == ""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=db)
    return db


def test_open_page_reads_the_store(store: Path) -> None:
    page = page_mod.open_page("harbor-pulse", db=str(store), as_of="2027-07-05")
    assert page.as_of == AS_OF and page.interactive is False and page.workshop() is None
    assert page.results()["customer_view"] == 60.0


@pytest.mark.parametrize("as_of", ["yesterday", "2027-02-30"])
def test_a_wrong_as_of_is_one_line_naming_it(store: Path, as_of: str) -> None:
    with pytest.raises(CsmError) as info:
        page_mod.open_page("harbor-pulse", db=str(store), as_of=as_of)
    assert str(info.value).startswith("parameter as_of: expected a date") and "\n" not in str(info.value)


# -- the renewal summary quotes the customer ------------------------------------------------------------------
def test_the_renewal_value_summary_quotes_the_pulse() -> None:
    # The renewal fixture (a contract to renew) with the pulse fixture's jobs and answers.
    e = read_engagement(Path(__file__).parent / "fixtures" / "renewal" / "employee-engagement.yaml")
    e.jobs, e.pulse = harbor().jobs, harbor().pulse
    e.pulse.append(PulseAnswer("2027-07-01", "Grace Lin", "plan-time", 7, comment="Rota <b>done</b> & signed"))
    page = renewal_prep.page_for(e, as_of=AS_OF)
    assert renewal_prep.applies(e)
    quoted = plain(str(page.customer_quotes()))
    assert quoted.count("<blockquote>") == 3  # at most three, newest first
    assert "“The board is ready by eight now; Mondays are still slow.”" in quoted and "Priya Raman, 30 Jun 2027" in quoted
    assert "Rota &lt;b&gt;done&lt;/b&gt; &amp; signed" in quoted and "<b>done" not in quoted
    assert "Notes are complete" not in quoted and "Planning still eats" not in quoted  # the fourth and fifth
    assert str(page.customer_quotes()) in str(page.value_summary())
    assert str(renewal_prep.page_for(dataclasses.replace(e, pulse=[]), as_of=AS_OF).customer_quotes()) == ""
