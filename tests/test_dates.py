"""Calendar arithmetic, deadline words and the as-of date (csm_nb.method.dates), and where they meet
the KPI plan (csm_nb.method.progress.timeline) and the engagement file (csm_nb.data.schema)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.engagement import parse_engagement
from csm_nb.errors import InputError
from csm_nb.method import dates
from csm_nb.method import progress as pg
from csm_nb.model import Kpi, Measurement

D = dt.date
days = st.dates(D(1900, 1, 1), D(2200, 12, 31))


# -- whole calendar periods, then the fraction of the last one by its own length -----------------------
@pytest.mark.parametrize(
    ("start", "end", "unit", "expected"),
    [
        (D(2027, 1, 1), D(2027, 11, 1), "month", 10.0),  # the brief's KPI: exactly 10 monthly periods
        (D(2027, 1, 1), D(2027, 11, 2), "month", 10 + 1 / 30),  # one of November's 30 days more
        (D(2027, 1, 1), D(2027, 12, 31), "month", 11 + 30 / 31),  # 30 of December's 31 days
        (D(2026, 1, 31), D(2026, 2, 28), "month", 1.0),  # the 31st steps to February's last day
        (D(2026, 1, 31), D(2026, 3, 31), "month", 2.0),
        (D(2028, 1, 15), D(2028, 3, 1), "month", 1 + 15 / 29),  # leap February: 15 of its 29 days
        (D(2027, 1, 1), D(2028, 1, 1), "quarter", 4.0),
        (D(2027, 1, 1), D(2027, 2, 15), "quarter", (1 + 14 / 28) / 3),
        (D(2027, 1, 1), D(2029, 7, 1), "year", 2.5),
        (D(2027, 1, 4), D(2027, 3, 1), "week", 8.0),  # 56 days
        (D(2027, 1, 4), D(2027, 1, 25), "fortnight", 1.5),
        (D(2027, 11, 1), D(2027, 1, 1), "month", -10.0),  # backwards counts negative
    ],
)
def test_periods_between_counts_the_calendar(start, end, unit, expected):
    assert dates.periods_between(start, end, unit) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("start", "periods", "unit", "expected"),
    [
        (D(2027, 1, 1), 10, "month", D(2027, 11, 1)),
        (D(2027, 1, 1), 3, "quarter", D(2027, 10, 1)),  # "every 3 months from 2027-01-01": 04-01, 07-01, 10-01
        (D(2026, 1, 31), 1, "month", D(2026, 2, 28)),
        (D(2026, 1, 1), 3.75, "month", D(2026, 4, 23)),  # 3 months, then 0.75 of April's 30 days (22.5 -> 22)
        (D(2027, 1, 4), 2.5, "fortnight", D(2027, 2, 8)),  # 35 days
    ],
)
def test_date_at(start, periods, unit, expected):
    assert dates.date_at(start, periods, unit) == expected


@given(days, st.integers(0, 600))
def test_adding_n_months_then_counting_gives_n(start, months):
    assert dates.months_between(start, dates.add_months(start, months)) == months
    assert dates.periods_between(start, dates.date_at(start, months, "month"), "month") == months


@given(days, st.integers(0, 200), st.sampled_from(["quarter", "half-year", "year"]))
def test_adding_n_long_periods_then_counting_gives_n(start, count, unit):
    assert dates.periods_between(start, dates.date_at(start, count, unit), unit) == count


@given(days, st.integers(0, 3000), st.sampled_from(["day", "week", "fortnight"]))
def test_adding_n_short_periods_then_counting_gives_n(start, count, unit):
    assert dates.periods_between(start, dates.date_at(start, count, unit), unit) == count


@given(days, days)
def test_the_fraction_of_a_month_is_within_the_month_and_counting_is_monotone(start, end):
    months = dates.months_between(start, end)
    whole = int(months) if months >= 0 else -int(-months)
    assert abs(months - whole) < 1
    later = end + dt.timedelta(days=1)
    assert dates.months_between(start, later) > months


# -- deadline words -------------------------------------------------------------------------------------
START = D(2027, 1, 1)


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("2027-11-01", D(2027, 11, 1)),
        ("10 months", D(2027, 11, 1)),
        ("10 months from the start", D(2027, 11, 1)),
        ("1 Month from start", D(2027, 2, 1)),
        ("26 weeks", START + dt.timedelta(days=182)),
        ("90 days from the start", START + dt.timedelta(days=90)),
        ("2 quarters", D(2027, 7, 1)),
        ("end of week 12", START + dt.timedelta(days=84)),  # how a weekly plan names its 12th period
        ("immediate", START),
        ("end November 2027", D(2027, 11, 30)),
        ("end of February 2028", D(2028, 2, 29)),  # that month's last day, leap years included
        ("end Feb 2027", D(2027, 2, 28)),
        ("end of this financial year", D(2027, 12, 31)),  # default year end 12-31
        ("end of next financial year", D(2028, 12, 31)),
        ("  End  of  THIS  fiscal  year ", D(2027, 12, 31)),
    ],
)
def test_every_deadline_form_is_read_and_placed_from_the_start(text, on):
    deadline = dates.parse_deadline(text)
    assert deadline is not None, text
    assert deadline.on(START) == on


@pytest.mark.parametrize(
    ("fiscal_year_end", "start", "this", "following"),
    [
        ("03-31", D(2027, 1, 1), D(2027, 3, 31), D(2028, 3, 31)),
        ("03-31", D(2027, 4, 1), D(2028, 3, 31), D(2029, 3, 31)),
        ("06-30", D(2027, 6, 30), D(2027, 6, 30), D(2028, 6, 30)),  # starting on the last day: that day
        ("12-31", D(2027, 1, 1), D(2027, 12, 31), D(2028, 12, 31)),
    ],
)
def test_the_financial_year_follows_fiscal_year_end(fiscal_year_end, start, this, following):
    assert dates.parse_deadline("end of this financial year").on(start, fiscal_year_end=fiscal_year_end) == this
    assert dates.parse_deadline("end of next financial year").on(start, fiscal_year_end=fiscal_year_end) == following


@pytest.mark.parametrize(
    "text",
    [
        "soon",
        "when it is done",
        "Q3",
        "2027-02-30",
        "10 moons",
        "end of the year",
        "end Smarch 2027",
        "within the first months",
        "",
    ],
)
def test_anything_else_is_not_a_deadline(text):
    assert dates.parse_deadline(text) is None


def test_a_deadline_that_needs_a_start_has_no_date_without_one():
    assert dates.parse_deadline("10 months").on(None) is None
    assert dates.parse_deadline("end November 2027").on(None) == D(2027, 11, 30)


@pytest.mark.parametrize(
    ("text", "found"), [("03-31", (3, 31)), ("12-31", (12, 31)), ("02-29", None), ("3-31", None), ("04-31", None)]
)
def test_fiscal_year_end_is_month_and_day(text, found):
    assert dates.parse_month_day(text) == found


# -- the KPI plan ----------------------------------------------------------------------------------------
def test_the_brief_kpi_is_ten_monthly_periods_ending_on_its_deadline():
    kpi = Kpi("k", baseline=0, target=10, start="2027-01-01", deadline="2027-11-01", frequency="monthly")
    tracked = pg.track(kpi, [Measurement("k", 5, 5.0)])
    r = tracked.results()
    assert r["plan_periods"] == 10.0 and r["deadline"] == "2027-11-01"
    assert r["planned"] == [0.5] and r["status"] == ["on_plan"]  # month 5 of 10: half way, exactly


@pytest.mark.parametrize(
    ("deadline", "fiscal_year_end", "length"),
    [
        ("end of this financial year", None, 11 + 30 / 31),  # 1 January to 31 December
        ("end of this financial year", "03-31", 2 + 30 / 31),  # to 31 March: 2 months and 30 of March's 31 days
        ("end of next financial year", "03-31", 14 + 30 / 31),
        ("end November 2027", None, 10 + 29 / 30),
        ("10 months from the start", "03-31", 10.0),
    ],
)
def test_timeline_places_every_deadline_word(deadline, fiscal_year_end, length):
    t = pg.timeline(Kpi("k", start="2027-01-01", deadline=deadline, frequency="monthly"), fiscal_year_end=fiscal_year_end)
    assert t.unit == "month" and t.length == pytest.approx(length)


def test_a_kpi_with_an_unknown_deadline_names_the_forms():
    with pytest.raises(InputError) as info:
        pg.timeline(Kpi("seats", start="2027-01-01", deadline="by Easter"))
    assert str(info.value) == f"KPI 'seats' has no usable deadline ('by Easter'); give {dates.DEADLINE_FORMS}"


def test_an_immediate_kpi_deadline_is_not_after_the_start():
    with pytest.raises(InputError, match=r"KPI 'k': the deadline 'immediate' is not after the start '2027-01-01'"):
        pg.timeline(Kpi("k", start="2027-01-01", deadline="immediate"))


# -- the engagement file ------------------------------------------------------------------------------------
HEAD = "schema: csm-nb/engagement@1\nid: acme\ncustomer: Acme\n"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("kpis:\n  - id: k\n    deadline: soon\n", "acme.yaml, line 6: kpis[0].deadline"),
        ("outcomes:\n  - id: o\n    description: Grow\n    deadline: by Easter\n", "acme.yaml, line 7: outcomes[0].deadline"),
    ],
)
def test_a_deadline_in_no_accepted_form_is_one_line_naming_file_line_key_and_forms(body, where):
    with pytest.raises(InputError) as info:
        parse_engagement(HEAD + body, source="acme.yaml")
    message = str(info.value)
    assert message.startswith(f"{where}: expected a date (YYYY-MM-DD), 'N months|weeks|days [from the start]', 'immediate'")
    assert "'end <Month> <YYYY>' or 'end of this|next financial year'" in message and "\n" not in message


def test_every_deadline_form_imports():
    words = ["2027-11-01", "10 months from the start", "immediate", "end November 2027", "end of next financial year"]
    body = "outcomes:\n" + "".join(f"  - id: o{i}\n    deadline: {w}\n" for i, w in enumerate(words))
    engagement = parse_engagement(HEAD + "fiscal_year_end: 03-31\n" + body, source="acme.yaml")
    assert [o.deadline for o in engagement.outcomes] == words


def test_the_financial_year_travels_through_the_store_to_the_plan(tmp_path):
    """fiscal_year_end is kept by the store and the file round trip, and places the KPI's deadline."""
    from csm_nb.data.engagement import engagement_document
    from csm_nb.data.store import Store
    from csm_nb.pages import progress as progress_page

    body = "kpis:\n  - id: k\n    baseline: 0\n    target: 10\n    start: 2027-01-01\n    deadline: end of this financial year\n"
    engagement = parse_engagement(HEAD + "fiscal_year_end: 03-31\n" + body, source="acme.yaml")
    with Store(tmp_path / "s.sqlite") as store:
        store.save(engagement)
        loaded = store.load(engagement.id)
    assert loaded.fiscal_year_end == engagement_document(loaded)["fiscal_year_end"] == "03-31"
    # The year ending 31 March 2027: 1 January to 31 March is two months and the 30 days of March's 31
    # (not the calendar year's eleven months and 30/31).
    kp = progress_page.page_for(loaded).tracked[0]
    assert kp.timeline.length == pytest.approx(2 + 30 / 31)


@pytest.mark.parametrize("value", ["02-29", "31-03", "March", "13-01"])
def test_a_bad_fiscal_year_end_is_refused_at_its_line(value):
    with pytest.raises(
        InputError,
        match=rf"acme.yaml, line 4: fiscal_year_end: expected the financial year's last day as MM-DD, such as 03-31; got '{value}'",
    ):
        parse_engagement(HEAD + f"fiscal_year_end: '{value}'\n", source="acme.yaml")


# -- as of --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-30", D(2026, 11, 30)),
        (" 2026-11-30 ", D(2026, 11, 30)),
        (D(2026, 2, 28), D(2026, 2, 28)),
        ("", D(2026, 12, 1)),
        (None, D(2026, 12, 1)),
    ],
)
def test_as_of_is_a_date_or_empty_for_today(value, expected):
    assert dates.parse_as_of(value, today=D(2026, 12, 1)) == expected


@pytest.mark.parametrize("value", ["yesterday", "30/11/2026", "2026-02-30", 20261130, True, dt.datetime(2026, 11, 30, 9, 0)])
def test_a_bad_as_of_is_one_line_naming_the_parameter(value):
    with pytest.raises(InputError) as info:
        dates.parse_as_of(value)
    assert str(info.value) == f"parameter as_of: expected {dates.AS_OF_EXPECTED}, got {value!r}"


@given(days)
def test_date_words_name_the_day_month_and_year(day):
    assert dates.date_words(day) == f"{day.day} {calendar.month_name[day.month]} {day.year}"
