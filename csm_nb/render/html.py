"""Building report HTML safely: everything is escaped unless it is ``Html``.

``Html`` is markupsafe's ``Markup`` (the escaping Jinja itself uses) with a
``_repr_html_`` so a notebook cell displays it. Format with
``Html("<td>{}</td>").format(user_text)``: the argument is escaped. Never
wrap text typed by a person in ``Html(...)`` directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape

from csm_nb.vocabulary import NOT_KNOWN, TONE_COLOURS

NBSP, WORD_JOINER = "\u00a0", "\u2060"
# Where a line must never break in a report: between a number and its "%", between a period word
# and its number ("Week 9"), and after the minus of an amount ("-€35,000"). A regular expression
# over each escaped text, because the words are composed in many places and the rule is the same.
_GLUE = (
    (re.compile(r"(?<=\d) (?=%)"), NBSP),
    (re.compile(r"\b(Week|Month|Quarter|Year|Day|Period|week|month|quarter|year|day|period) (?=\d)"), "\\1" + NBSP),
    (re.compile(r"(?<![\w\u2060-])([-−+])(?=[$€£¥]|\d)"), "\\1" + WORD_JOINER),
)


def keep_together(text: str) -> str:
    """Text with no line break inside "37.3 %", "Week 9" or "-€35,000" (no-break space, word joiner).

    >>> keep_together("37.3 % by Week 9, then -€35,000 from 2026-12-04") == (
    ...     "37.3\u00a0% by Week\u00a09, then -\u2060€35,000 from 2026-12-04")
    True
    """
    for pattern, glue in _GLUE:
        text = pattern.sub(glue, text)
    return text


class Html(Markup):
    def _repr_html_(self) -> str:
        # JupyterLab typesets text between two "$" as maths ("$33,750 a month, $405,000" became
        # italic letters); this class tells its MathJax to leave money alone.
        return f'<div class="tex2jax_ignore mathjax_ignore" style="display:contents">{self}</div>'

    @classmethod
    def escape(cls, s: Any, /) -> Html:
        """Escape text (``keep_together`` first); ``Html`` and other markup pass through unchanged."""
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(escape(keep_together(str(s))))


def esc(value: Any) -> Html:
    return Html.escape("" if value is None else value)


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(Html(sep).join(esc(p) if not isinstance(p, Markup) else p for p in parts))


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str = "",
    footer: Sequence[Sequence[Any]] = (),
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str] | None = None,
    css_class: str = "data",
) -> Html:
    """An HTML table; cells are escaped unless they are ``Html``.

    >>> str(table(["a"], [["<b>"]]))
    '<div class="table-wrap"><table class="data"><thead><tr><th scope="col">a</th></tr></thead><tbody><tr><td>&lt;b&gt;</td></tr></tbody></table></div>'
    """
    numeric = numeric or [False] * len(columns)

    def cell(tag: str, value: Any, i: int, scope: str = "") -> Html:
        cls = []
        if numeric[i]:
            cls.append("num")
        if value == NOT_KNOWN:  # shown muted, so a missing figure never reads as a real one
            cls.append("to-come")
        attrs = (f' class="{" ".join(cls)}"' if cls else "") + (f' scope="{scope}"' if scope else "")
        return Html(f"<{tag}{attrs}>") + esc(value) + Html(f"</{tag}>")

    head = join(cell("th", c, i, "col") for i, c in enumerate(columns))
    body = []
    for r, row in enumerate(rows):
        cls = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        body.append(Html(f"<tr{cls}>") + join(cell("td", v, i) for i, v in enumerate(row)) + Html("</tr>"))
    foot = join(
        Html("<tr>")
        + join(cell("th" if i == 0 else "td", v, i, "row" if i == 0 else "") for i, v in enumerate(row))
        + Html("</tr>")
        for row in footer
    )
    out = Html(f'<table class="{css_class}">')
    if caption:
        out += Html("<caption>") + esc(caption) + Html("</caption>")
    out += Html("<thead><tr>") + head + Html("</tr></thead><tbody>") + join(body) + Html("</tbody>")
    if footer:
        out += Html("<tfoot>") + foot + Html("</tfoot>")
    return Html(Html('<div class="table-wrap">') + out + Html("</table></div>"))


def figures(items: Iterable[tuple[str, str, str]]) -> Html:
    """A row of headline figures: (label, value, note) cards."""
    cards = [
        Html(
            '<div class="figure"><div class="figure-label">{}</div><div class="figure-value">{}</div>'
            '<div class="figure-note">{}</div></div>'
        ).format(label, value, note)
        for label, value, note in items
    ]
    return Html('<div class="figures">') + join(cards) + Html("</div>")


def callout(text: str, *, tone: str = "info", title: str = "") -> Html:
    """A plain-words message box; ``tone`` is one of csm_nb.vocabulary.TONE_COLOURS: good | info | warn | bad."""
    if tone not in TONE_COLOURS:
        raise ValueError(f"unknown tone {tone!r}")
    heading = Html("<strong>{}</strong> ").format(title) if title else Html("")
    return Html('<div class="callout callout-{}" role="status"><p>{}{}</p></div>').format(tone, heading, text)


def section(title: str, *body: Any, intro: str = "") -> Html:
    parts = [Html("<section><h2>{}</h2>").format(title)]
    if intro:
        parts.append(Html('<p class="intro">{}</p>').format(intro))
    parts.extend(b if isinstance(b, Markup) else esc(b) for b in body)
    parts.append(Html("</section>"))
    return join(parts)


def paragraph(text: str, *, css_class: str = "") -> Html:
    cls = Html(' class="{}"').format(css_class) if css_class else Html("")
    return Html("<p{}>{}</p>").format(cls, text)
