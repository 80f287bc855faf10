"""The one way the pages check the settings a person gives a workbook."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.data.checks import setting_choice, setting_in_range
from csm_nb.errors import InputError
from csm_nb.pages import cash_flow, financial_linkage, outcome_discovery
from csm_nb.pages import progress as progress_page


@given(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.booleans())
def test_a_number_passes_exactly_when_it_is_in_the_range(value: float, low_open: bool, high_open: bool) -> None:
    inside = (value > -1 if low_open else value >= -1) and (value < 1 if high_open else value <= 1)
    try:
        got = setting_in_range(value, name="x", low=-1, high=1, low_open=low_open, high_open=high_open, expected="a fraction")
    except InputError as exc:
        assert not inside
        assert str(exc) == f"parameter x: expected a fraction, got {value!r}"
    else:
        assert inside and got == value


@pytest.mark.parametrize(
    ("value", "passes"),
    [
        (True, False),
        ("0.5", False),
        ([0.5], False),
        (None, False),
        (math.nan, False),
        (0, True),
        (1, True),
    ],
)
def test_only_numbers_are_numbers(value: object, passes: bool) -> None:
    if passes:
        assert setting_in_range(value, name="x", low=0, high=1, expected="a fraction") == float(value)  # type: ignore[arg-type]
    else:
        with pytest.raises(InputError, match=r"^parameter x: expected a fraction, got "):
            setting_in_range(value, name="x", low=0, high=1, expected="a fraction")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("revenue", "profit"), "parameter basis: expected revenue or profit, got 'cash'"),
        (("a", "b", "c"), "parameter basis: expected one of a, b, c, got 'cash'"),
    ],
)
def test_a_choice_lists_the_options(options: tuple[str, ...], message: str) -> None:
    with pytest.raises(InputError) as caught:
        setting_choice("cash", name="basis", options=options)
    assert str(caught.value) == message


# Every page's settings, refused in the same words: the parameter, what was expected, what it got.
@pytest.mark.parametrize(
    ("check", "settings", "message"),
    [
        (
            progress_page.check_settings,
            {"tolerance": 0.5, "trend_periods": 3},
            "parameter tolerance: expected a fraction such as 0.02 (2 points either side of the plan), got 0.5",
        ),
        (
            progress_page.check_settings,
            {"tolerance": 0.02, "trend_periods": 0},
            "parameter trend_periods: expected a number of periods above 0, such as 3, got 0",
        ),
        (
            financial_linkage.check_settings,
            {"gap_fraction": 0, "basis": "revenue", "swing": 0.1},
            "parameter gap_fraction: expected a fraction above 0 up to 1 (0.5 for half the gap), got 0",
        ),
        (
            financial_linkage.check_settings,
            {"gap_fraction": 0.5, "basis": "cash", "swing": 0.1},
            "parameter basis: expected revenue or profit, got 'cash'",
        ),
        (
            financial_linkage.check_settings,
            {"gap_fraction": 0.5, "basis": "profit", "swing": 1},
            "parameter swing: expected a fraction above 0 and below 1 (0.1 for ±10 %), got 1",
        ),
        (
            cash_flow.check_settings,
            {"headline_roi": "roi", "accuracy_band": 0.1, "discount_rate": None},
            "parameter headline_roi: expected return_on_cost or net_roi, got 'roi'",
        ),
        (
            cash_flow.check_settings,
            {"headline_roi": "net_roi", "accuracy_band": 1, "discount_rate": None},
            "parameter accuracy_band: expected a fraction from 0 to under 1 (0.1 for ±10 %), got 1",
        ),
        (
            cash_flow.check_settings,
            {"headline_roi": "net_roi", "accuracy_band": 0.1, "discount_rate": -1},
            "parameter discount_rate: expected a rate per period such as 0.01 (1 %), or None, got -1",
        ),
    ],
)
def test_every_page_refuses_a_bad_setting_naming_it(check, settings: dict, message: str) -> None:
    with pytest.raises(InputError) as caught:
        check(**settings)
    assert str(caught.value) == message


def test_good_settings_pass() -> None:
    progress_page.check_settings(tolerance=0, trend_periods=0.5)
    financial_linkage.check_settings(gap_fraction=1, basis="profit", swing=0.5)
    cash_flow.check_settings(headline_roi="return_on_cost", accuracy_band=0, discount_rate=10)


def test_the_discovery_tolerance_is_checked_the_same_way() -> None:
    with pytest.raises(InputError) as caught:
        outcome_discovery.open_page("no-such-engagement", tolerance=1)
    assert str(caught.value) == "parameter tolerance: expected a fraction such as 0.02 (2 points), got 1"
