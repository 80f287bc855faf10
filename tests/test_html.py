from __future__ import annotations

import pytest

from csm_nb.render.html import Html, callout, figures, paragraph, section, table
from csm_nb.vocabulary import money, percent

EVIL = '<img src=x onerror="alert(1)">'


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (52000, "USD", "$52,000"),
        (-20000, "USD", "-$20,000"),
        (0.4, "USD", "$0"),
        (-0.4, "USD", "$0"),
        (1650000, "EUR", "€1,650,000"),
        (5, "chf", "CHF 5"),
        (None, "USD", "not known yet"),
    ],
)
def test_money(value: float | None, currency: str, expected: str) -> None:
    assert money(value, currency) == expected


@pytest.mark.parametrize(
    ("fraction", "expected"), [(1.325, "132.5 %"), (0.3729, "37.3 %"), (-0.05, "-5.0 %"), (None, "not known yet")]
)
def test_percent(fraction: float | None, expected: str) -> None:
    assert percent(fraction) == expected


@pytest.mark.parametrize(
    "render",
    [
        lambda t: table([t], [[t]], caption=t, footer=[[t]]),
        lambda t: figures([(t, t, t)]),
        lambda t: callout(t, title=t),
        lambda t: section(t, t, intro=t),
        lambda t: paragraph(t),
    ],
)
def test_every_builder_escapes_text(render) -> None:
    out = str(render(EVIL))
    assert "<img" not in out and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in out


def test_html_passes_through_unescaped_and_displays_in_notebooks() -> None:
    inner = Html("<em>ok</em>")
    out = section("Title", inner)
    assert "<em>ok</em>" in str(out)
    # In a notebook it is wrapped so that JupyterLab's MathJax leaves "$" amounts alone.
    assert out._repr_html_() == f'<div class="tex2jax_ignore mathjax_ignore" style="display:contents">{out}</div>'


def test_callout_refuses_unknown_tone() -> None:
    with pytest.raises(ValueError):
        callout("x", tone="loud")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("37.3 % of the estimate", "37.3\u00a0% of the estimate"),
        ("paid back in Week 9, not Month 10", "paid back in Week\u00a09, not Month\u00a010"),
        ("a net return of -€35,000", "a net return of -\u2060€35,000"),
        ("(-$1,250) and +5 %", "(-\u2060$1,250) and +\u20605\u00a0%"),
        ("2026-12-04, a 0-10 rating, Line-manager", "2026-12-04, a 0-10 rating, Line-manager"),  # no sign there
    ],
)
def test_numbers_stay_with_their_units_and_signs_wherever_text_is_escaped(typed: str, shown: str) -> None:
    from csm_nb.render.html import Html, callout, esc, table

    assert str(esc(typed)) == shown
    assert shown in str(Html("<p>{}</p>").format(typed)) and shown in str(callout(typed))
    assert shown in str(table(["a"], [[typed]]))
    # Markup is never changed: an SVG's text or an attribute written as Html stays byte for byte.
    svg = Html('<svg><text x="1">Week 9 -5 %</text></svg>')
    assert str(Html("<div>{}</div>").format(svg)) == f"<div>{svg}</div>"
