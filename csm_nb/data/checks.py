"""Checking the settings a person gives a workbook (``-p NAME VALUE`` on the command
line, papermill parameters): every page refuses a mistyped one in the same words,
one line naming the parameter, what was expected and what it got.

>>> setting_in_range(0.02, name="tolerance", low=0, high=0.5, high_open=True, expected="a fraction such as 0.02")
0.02
>>> setting_in_range(0.7, name="tolerance", low=0, high=0.5, high_open=True, expected="a fraction such as 0.02")
Traceback (most recent call last):
...
csm_nb.errors.InputError: parameter tolerance: expected a fraction such as 0.02, got 0.7
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from csm_nb.errors import InputError


def refuse(name: str, expected: str, value: Any) -> InputError:
    """The one-line error for a setting: ``parameter NAME: expected ..., got VALUE``."""
    return InputError(f"parameter {name}: expected {expected}, got {value!r}")


def setting_in_range(
    value: Any,
    *,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    expected: str,
    optional: bool = False,
) -> float | None:
    """A number setting within ``low``..``high`` (an open end excludes the bound itself), as a float.

    ``None`` is accepted only when ``optional``. True/false, text and NaN are
    refused: a comparison with NaN is never true, so it falls outside every range.

    >>> setting_in_range(3, name="trend_periods", low=0, low_open=True, expected="a number of periods above 0")
    3.0
    >>> setting_in_range(None, name="discount_rate", low=-1, low_open=True, high=10, expected="a rate", optional=True) is None
    True
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse(name, expected, value)
    number = float(value)
    above_low = low is None or (number > low if low_open else number >= low)
    below_high = high is None or (number < high if high_open else number <= high)
    if not (above_low and below_high):
        raise refuse(name, expected, value)
    return number


def setting_choice(value: Any, *, name: str, options: Iterable[str]) -> str:
    """A setting that is one of ``options``; the message lists them.

    >>> setting_choice("profit", name="basis", options=("revenue", "profit"))
    'profit'
    >>> setting_choice("cash", name="basis", options=("revenue", "profit"))
    Traceback (most recent call last):
    ...
    csm_nb.errors.InputError: parameter basis: expected revenue or profit, got 'cash'
    """
    allowed = list(options)
    if value not in allowed:
        listed = " or ".join(allowed) if len(allowed) == 2 else f"one of {', '.join(allowed)}"
        raise refuse(name, listed, value)
    return value
