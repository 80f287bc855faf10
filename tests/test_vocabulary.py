"""One vocabulary: every module reads frequencies, periods, verdicts, currencies and
the "not known yet" phrase from csm_nb.vocabulary, and they agree."""

from __future__ import annotations

import datetime as dt
import re
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb import vocabulary as v
from csm_nb.data.schema import KPI, Context
from csm_nb.errors import InputError
from csm_nb.method import cashflow, kpis, linkage
from csm_nb.method import progress as pg
from csm_nb.model import Kpi

ROOT = Path(__file__).resolve().parents[1]

# Every word a person may write for a frequency, with the period it means and its length in days.
FREQUENCY_WORDS = [
    ("daily", "day", 1.0),
    ("every day", "day", 1.0),
    ("weekly", "week", 7.0),
    ("Weekly", "week", 7.0),
    ("once a week", "week", 7.0),
    ("per week", "week", 7.0),
    ("fortnightly", "fortnight", 14.0),
    ("every fortnight", "fortnight", 14.0),
    ("every two weeks", "fortnight", 14.0),
    ("monthly", "month", 365.25 / 12),
    ("once a month", "month", 365.25 / 12),
    ("a month", "month", 365.25 / 12),
    ("quarterly", "quarter", 365.25 / 4),
    ("every quarter", "quarter", 365.25 / 4),
    ("half-yearly", "half-year", 365.25 / 2),
    ("twice a year", "half-year", 365.25 / 2),
    ("six-monthly", "half-year", 365.25 / 2),
    ("yearly", "year", 365.25),
    ("annually", "year", 365.25),
    ("once a year", "year", 365.25),
]


def schema_frequency(text: str) -> str:
    """The frequency the engagement file's schema keeps for a KPI."""
    return KPI.check({"id": "k", "frequency": text}, ("kpis", 0), Context("e.yaml"))["frequency"]


@pytest.mark.parametrize(("word", "unit", "days"), FREQUENCY_WORDS)
def test_every_frequency_word_is_one_period_length_in_schema_progress_kpis_and_linkage(word: str, unit: str, days: float) -> None:
    period = v.PERIOD_BY_UNIT[unit]
    assert v.period_unit(word) == unit
    assert period.days == pytest.approx(days)
    # The schema keeps the one frequency word; progress counts in the same unit; the workshop
    # scores and the financial links count the same number a year.
    assert schema_frequency(word) == period.frequency
    assert pg.frequency_unit(word) == unit
    assert kpis.FREQUENCIES[schema_frequency(word)] == period.per_year
    assert v.periods_per_year(word) == period.per_year
    link = linkage.summarise(linkage.parse_link({"id": "x", "period": word, "steps": [{"factor": 10.0}]}))
    assert link.revenue_per_year == pytest.approx(10.0 * period.per_year)
    # One period of that frequency lasts the same number of days wherever progress counts it.
    assert pg.convert_periods(1, pg.frequency_unit(word), "day") == pytest.approx(days)


def test_fortnightly_is_fourteen_days_everywhere() -> None:
    start = dt.date(2026, 1, 5)
    assert pg.frequency_unit("fortnightly") == "fortnight"
    assert pg.convert_periods(3, "fortnight", "week") == 6.0
    assert pg.periods_between(start, start + dt.timedelta(days=28), "fortnight") == 2.0
    assert pg.date_at(start, 1.5, "fortnight") == start + dt.timedelta(days=21)
    # A fortnightly KPI with a dated deadline is planned in fortnights: 12 weeks (to 30 March) are 6 of them.
    t = pg.timeline(Kpi("k", start="2026-01-05", deadline="2026-03-30", frequency="fortnightly"))
    assert (t.unit, t.length, t.measured_unit) == ("fortnight", pytest.approx(6.0), "fortnight")
    assert pg.relative_span("3 fortnights") == (3.0, "fortnight")
    assert kpis.score_frequency("fortnightly") == 5


@pytest.mark.parametrize("word", ["sometimes", "every sprint", "", "fortnite", "biweekly"])
def test_an_unknown_frequency_is_refused_by_the_schema_naming_the_key(word: str) -> None:
    assert v.period_unit(word) is None
    with pytest.raises(InputError) as caught:
        schema_frequency(word)
    assert str(caught.value) == (
        f"e.yaml: kpis[0].frequency: expected how often it is measured, one of "
        f"daily, weekly, fortnightly, monthly, quarterly, half-yearly, yearly; got {word!r}"
    )


@given(
    st.sampled_from([w for w, _, _ in FREQUENCY_WORDS]),
    st.sampled_from(["", "  ", "\t"]),
    st.sampled_from([str.upper, str.lower, str.title]),
)
def test_case_and_spacing_do_not_change_the_period(word: str, pad: str, case: typing.Callable[[str], str]) -> None:
    assert v.period_unit(pad + case(word) + pad) == v.period_unit(word)


def test_every_period_is_counted_consistently() -> None:
    for p in v.PERIODS:
        # A calendar period's days are its months' share of the average year; a year holds per_year of them.
        if p.months:
            assert p.days == pytest.approx(p.months * v.DAYS_PER_YEAR / 12)
            assert p.per_year == 12 / p.months
        assert p.days * p.per_year == pytest.approx(v.DAYS_PER_YEAR, rel=0.005)
        assert v.frequency_word(p.unit) == v.frequency_word(p.frequency) == p.frequency


# -- verdicts ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("table", "keys"),
    [
        (v.MONEY_VERDICTS, set(typing.get_args(cashflow.Verdict))),
        (v.KPI_STATUSES, set(typing.get_args(pg.Status))),
        (v.OVERALL_VERDICTS, {"on_track", "attention", "off_track", "not_started"}),
    ],
)
def test_every_verdict_the_results_carry_has_words_and_a_tone(table: dict[str, v.Verdict], keys: set[str]) -> None:
    assert set(table) == keys
    for key, verdict in table.items():
        assert verdict.words and verdict.words == verdict.words.lower(), key
        assert verdict.tone in v.TONE_COLOURS, key
        assert verdict.title == "" or verdict.title[0].isupper(), key


@pytest.mark.parametrize(
    ("table", "key", "words", "tone"),
    [
        (v.MONEY_VERDICTS, "on_track", "in line with the estimate", "good"),
        (v.MONEY_VERDICTS, "within_band", "slightly below the estimate", "warn"),
        (v.MONEY_VERDICTS, "behind", "below the estimate", "bad"),
        (v.MONEY_VERDICTS, "not_started", "no actual figures yet", "info"),
        (v.OVERALL_VERDICTS, "attention", "needs attention", "warn"),
        (v.OVERALL_VERDICTS, "off_track", "off track", "bad"),
        (v.OVERALL_VERDICTS, "not_started", "too early to tell", "info"),
        (v.KPI_STATUSES, "ahead", "ahead of plan", "good"),
        (v.KPI_STATUSES, "on_plan", "on plan", "good"),
        (v.KPI_STATUSES, "behind", "behind plan", "bad"),
    ],
)
def test_verdict_words_and_tones(table: dict[str, v.Verdict], key: str, words: str, tone: str) -> None:
    assert (table[key].words, table[key].tone) == (words, tone)


@pytest.mark.parametrize(
    ("key", "phrase"),
    [
        ("within_band", "slightly below the estimate, within the estimate's accuracy"),
        ("behind", "below the estimate"),
        ("on_track", "in line with the estimate"),
    ],
)
def test_a_money_verdict_in_a_sentence_says_how_far_behind(key: str, phrase: str) -> None:
    assert v.MONEY_VERDICTS[key].in_sentence == phrase


def test_no_overall_verdict_reads_like_a_money_or_kpi_verdict() -> None:
    # A reader meets "on track" for the engagement only: the money's and the KPIs' words never
    # contain an overall verdict's words or the other way round.
    overall = [x.words for x in v.OVERALL_VERDICTS.values()]
    others = [x.words for x in (*v.MONEY_VERDICTS.values(), *v.KPI_STATUSES.values())]
    assert not [(a, b) for a in overall for b in others if a in b or b in a]


def test_progress_status_words_come_from_the_vocabulary() -> None:
    assert pg.STATUS_WORDS == {"ahead": "ahead of plan", "on_plan": "on plan", "behind": "behind plan"}


def test_tone_colours_are_the_report_stylesheets() -> None:
    css = (ROOT / "templates" / "csm_report" / "report.css").read_text(encoding="utf-8")
    assert {name: re.search(rf"--{name}: (#[0-9a-f]{{6}})", css).group(1) for name in v.TONE_COLOURS} == v.TONE_COLOURS


# -- money and the unknown phrase ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (20000, "USD", "$20,000"),
        (-20000, "usd", "-$20,000"),
        (1650000.5, "EUR", "€1,650,000"),
        (-1250, "GBP", "-£1,250"),
        (300000, "JPY", "¥300,000"),
        (99.6, "INR", "₹100"),
        (1000, "AUD", "A$1,000"),
        (-5, "CAD", "-C$5"),
        (5, "CHF", "CHF 5"),
        (-0.4, "SEK", "SEK 0"),
        (1234.567, "NZD", "NZD 1,235"),
    ],
)
def test_money_for_the_common_currencies(value: float, currency: str, shown: str) -> None:
    assert v.money(value, currency) == shown


@given(st.integers(-(10**12), 10**12), st.sampled_from(sorted(v.CURRENCY_SYMBOLS) + ["CHF", "SEK"]))
def test_money_reads_back_as_the_same_amount(amount: int, currency: str) -> None:
    assert v.parse_amount(v.money(amount, currency), where="x") == amount


def test_the_unknown_phrase_is_one_and_never_zero() -> None:
    assert v.NOT_KNOWN == "not known yet"
    assert v.money(None, "EUR") == v.number(None) == v.percent(None) == v.NOT_KNOWN
    assert v.money(0, "EUR") == "€0" and v.number(0) == "0" and v.percent(0) == "0.0 %"


@pytest.mark.parametrize(("key", "verdict"), [*v.OVERALL_VERDICTS.items(), *v.MONEY_VERDICTS.items()])
def test_the_portfolio_guide_names_each_verdict_with_the_vocabularys_words(key: str, verdict: v.Verdict) -> None:
    guide = " ".join((ROOT / "docs" / "portfolio.md").read_text(encoding="utf-8").split())
    assert f'`{key}` "{verdict.words}"' in guide
