"""Dependency-free SVG charts for the reports: line, bar and tornado charts.

The reports are single HTML files that customers' CFOs read on screen, on a
projector and on paper, so every chart here is:

* plain SVG built from strings (standard library only, no matplotlib), which
  keeps the HTML self-contained: no scripts, links or web fonts;
* scalable (``viewBox`` + ``width="100%"``) and printable in black and white:
  estimated and actual lines differ by dash pattern and marker as well as
  colour, and the legend is inside the picture;
* honest about missing data: ``None`` (or NaN) is "not known yet", which
  breaks a line or shows an empty "to come" slot, and is never drawn as zero;
* safe with text typed by people: every label is XML-escaped.

>>> chart = line_chart(title="Seats in use", x_labels=["Jan", "Feb", "Mar"],
...                    series=[Series("Actual", [120, None, 180])])
>>> chart.svg.startswith("<svg") and "Seats in use" in str(chart)
True
"""
from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from csm_nb.vocabulary import COMPACT_UNITS, compact_number

__all__ = [
    "PALETTE",
    "Band",
    "Marker",
    "Series",
    "Svg",
    "bar_chart",
    "line_chart",
    "nice_ticks",
    "small_multiples",
    "tornado_chart",
]

# Okabe-Ito, reordered so the first colours are the strongest on white paper;
# yellow comes last because thin yellow lines all but vanish.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

# Generic and locally installed families only: a report must never fetch a font.
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# Dash patterns carry the meaning in black-and-white print, not just colour.
_DASHES: dict[str, str | None] = {"solid": None, "dashed": "8 5", "dotted": "1 4.5"}

_INK = "#1a1a1a"
_MUTED = "#555555"
_GRID = "#e3e3e3"
_ZERO = "#4d4d4d"
_SVG_NS = "http://www.w3.org/2000/svg"

# Characters XML 1.0 forbids even as references; a pasted label may carry them.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- data


@dataclass
class Series:
    """One line: ``None`` (or NaN) values are unknown and leave a gap.

    >>> Series("Actual", [1, None, 3]).style
    'solid'
    """

    label: str
    values: Sequence[float | None]
    style: str = "solid"
    color: str | None = None
    markers: bool = True
    x: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if self.style not in _DASHES:
            raise ValueError(f"Series {self.label!r}: style must be 'solid', 'dashed' or 'dotted', got {self.style!r}")


@dataclass
class Band:
    """A shaded range between ``low`` and ``high``, e.g. an estimate's ±10 % accuracy."""

    label: str
    low: Sequence[float | None]
    high: Sequence[float | None]
    color: str | None = None


@dataclass
class Marker:
    """An annotated point; ``x`` is a (fractional) index along the x axis."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Svg:
    """A rendered chart: ``svg`` is the bare markup, ``str()`` the HTML figure.

    >>> print(Svg("<svg/>", caption="Q1 & Q2"))
    <figure class="chart" ...><svg/><figcaption ...>Q1 &amp; Q2</figcaption></figure>
    """

    svg: str
    caption: str = ""
    title: str = ""

    def __str__(self) -> str:
        # break-inside keeps a chart and its caption on one printed page.
        caption = (
            f'<figcaption style="font: 0.85em/1.4 {FONT}; color: #444; margin-top: 0.35em">{_esc(self.caption)}</figcaption>'
            if self.caption
            else ""
        )
        return (
            '<figure class="chart" style="margin: 0 0 1.25em; break-inside: avoid; page-break-inside: avoid">'
            f"{self.svg}{caption}</figure>"
        )

    def _repr_html_(self) -> str:
        return str(self)


# ----------------------------------------------------------------------- numbers


def nice_ticks(lo: float, hi: float, *, target: int = 5) -> list[float]:
    """About ``target`` evenly spaced round tick values covering ``lo..hi``.

    Steps are 1, 2 or 5 times a power of ten, so a range that spans zero
    always has a tick at zero. Equal ends are widened rather than refused.

    >>> nice_ticks(0, 52_000)
    [0.0, 20000.0, 40000.0, 60000.0]
    >>> nice_ticks(-58_004, 52_000)
    [-60000.0, -40000.0, -20000.0, 0.0, 20000.0, 40000.0, 60000.0]
    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"nice_ticks needs finite ends, got {lo!r} and {hi!r}")
    if lo > hi:
        lo, hi = hi, lo
    scale = max(abs(lo), abs(hi))
    # A span lost in float noise is treated as a single value and widened.
    if hi - lo <= max(scale * 1e-9, 1e-200):
        mid = (lo + hi) / 2
        pad = abs(mid) * 0.1 if abs(mid) > 1e-200 else 1.0
        lo, hi = mid - pad, mid + pad
    span = hi - lo
    if not math.isfinite(span):
        raise ValueError(f"nice_ticks: the range {lo!r}..{hi!r} is too wide for floats")
    target = max(2, int(target))

    def tick(i: int, m: int, e: int) -> float:
        # Integer arithmetic, then one correctly rounded division: 0.3, not 0.30000000000000004.
        return float(i * m * 10**e) if e >= 0 else (i * m) / 10 ** (-e)

    best: tuple[float, int, int, int, int] | None = None
    top = math.floor(math.log10(span)) + 1
    for e in range(top - 3, top + 1):
        for m in (1, 2, 5):
            step = m * 10.0**e
            first, last = math.floor(lo / step), math.ceil(hi / step)
            while tick(first, m, e) > lo:
                first -= 1
            while tick(last, m, e) < hi:
                last += 1
            n = last - first + 1
            if n > 3 * target:
                continue
            waste = 1 - span / (tick(last, m, e) - tick(first, m, e))
            # Slightly more ticks is better than too few; empty axis is worst.
            score = (0.35 if n > target else 0.5) * abs(n - target) + 5 * waste
            if best is None or score < best[0] - 1e-12:
                best = (score, m, e, first, last)
    assert best is not None  # the largest step always gives 2 or 3 ticks
    _, m, e, first, last = best
    return [tick(i, m, e) for i in range(first, last + 1)]


# ----------------------------------------------------------------- small helpers


def _esc(text: object) -> str:
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def _n(v: float) -> str:
    """A coordinate with one decimal: short markup, sub-pixel precise enough."""
    s = f"{v:.1f}"
    s = s.removesuffix(".0")
    return "0" if s == "-0" else s


def _clean(values: Iterable[object] | None) -> list[float | None]:
    """Floats, with anything unknown, unparseable or non-finite as ``None``."""
    out: list[float | None] = []
    for v in values if values is not None else ():
        if v is None or isinstance(v, bool):
            out.append(None)
            continue
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            out.append(None)
            continue
        # Beyond ±1e100 is garbage, not money; dropping it keeps axis arithmetic finite.
        out.append(f if math.isfinite(f) and abs(f) <= 1e100 else None)
    return out


def _text_w(text: str, size: float, *, bold: bool = False) -> float:
    # Rough average advance for system sans fonts; good enough for layout.
    return len(text) * size * (0.6 if bold else 0.56)


def _truncate(text: str, max_chars: int) -> str:
    max_chars = max(1, max_chars)
    return text if len(text) <= max_chars else text[: max(1, max_chars - 1)].rstrip() + "…"


def _wrap(text: str, max_chars: int, max_lines: int) -> list[str]:
    """Greedy word wrap; the last allowed line ends in an ellipsis if cut."""
    max_chars = max(1, max_chars)
    words = text.split()
    if not words:
        return [""]
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > max_chars:  # a single very long word is cut hard
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:max_chars])
            word = word[max_chars:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_chars:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = lines[: max_lines - 1] + [_truncate(rest, max_chars)]
    return lines


def _uid(*parts: object) -> str:
    # Deterministic ids (same input, same markup) that differ between charts on one page.
    digest = hashlib.sha1(repr(parts).encode("utf-8", "backslashreplace")).hexdigest()
    return "chart-" + digest[:10]


def _ticks_and_labels(lo: float, hi: float, fmt: Callable[[float], str]) -> tuple[list[float], list[str]]:
    """Nice ticks and their labels; coarser ticks if the format makes labels collide."""
    try:
        candidates = [nice_ticks(lo, hi, target=t) for t in (5, 4, 3)]
    except ValueError:  # absurd magnitudes: plain ends rather than a crash
        candidates = [[lo, hi] if hi > lo else [lo - 1, lo + 1]]
    for ticks in candidates:
        labels = _tick_labels(ticks, fmt)
        if len(set(labels)) == len(labels):
            return ticks, labels
    ticks = candidates[0]
    return ticks, _tick_labels(ticks, fmt)


def _tick_labels(ticks: list[float], fmt: Callable[[float], str]) -> list[str]:
    if fmt is not compact_number or len(ticks) < 2:
        return [str(fmt(t)) for t in ticks]
    # Enough decimals for the step, so 1,500 reads 1.5k and not 2k.
    step = abs(ticks[1] - ticks[0])
    labels = []
    for t in ticks:
        div = next((d for d, _ in COMPACT_UNITS if abs(t) >= d), 1.0)
        places = max(0, -math.floor(math.log10(step / div) + 1e-9)) if step > 0 else 0
        labels.append(compact_number(t, decimals=min(places, 12)))
    return labels


def _svg_open(uid: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="{uid}-title {uid}-desc" font-family="{FONT}" '
        'style="display: block; width: 100%; height: auto; max-width: 100%">',
        f'<title id="{uid}-title">{_esc(title)}</title>',
        f'<desc id="{uid}-desc">{_esc(desc)}</desc>',
        # White paper even in a dark notebook theme; text is dark.
        f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _title(title: str, width: int, pad: float) -> tuple[list[str], float]:
    """Title markup (wrapped to two lines) and the y below it."""
    size = 15
    lines = _wrap(title, int((width - 2 * pad) / (size * 0.6)), 2) if title else []
    out = []
    y = pad + 12
    for line in lines:
        out.append(f'<text class="title" x="{_n(pad)}" y="{_n(y)}" font-size="{size}" font-weight="600" fill="{_INK}">{_esc(line)}</text>')
        y += 19
    return out, (y - 19 + 8 if lines else pad)


def _legend(items: list[tuple[str, str, str, str | None, bool]], x0: float, y0: float, max_w: float) -> tuple[list[str], float]:
    """Legend rows inside the SVG; items are (kind, label, colour, dash, marker).

    Returns the markup and the y below the legend.
    """
    if not items:
        return [], y0
    size = 12
    row_h = 18
    out = ['<g class="legend">']
    x, y = x0, y0 + 12
    for kind, label, color, dash, marker in items:
        text = _truncate(label, 40)
        w = 28 + 6 + _text_w(text, size) + 18
        if x > x0 and x + w > x0 + max_w:
            x, y = x0, y + row_h
        sy = y - 4
        if kind == "line":
            out.append(_line_swatch(x, sy, color, dash, marker))
        elif kind == "swatch":
            out.append(f'<rect x="{_n(x)}" y="{_n(sy - 6)}" width="28" height="12" fill="{_esc(color)}" fill-opacity="{dash or 1}" stroke="{_esc(color)}" stroke-opacity="0.5"/>')
        elif kind == "rule":
            out.append(f'<line x1="{_n(x + 14)}" y1="{_n(sy - 7)}" x2="{_n(x + 14)}" y2="{_n(sy + 7)}" stroke="{_esc(color)}" stroke-width="2"/>')
        out.append(f'<text x="{_n(x + 34)}" y="{_n(y)}" font-size="{size}" fill="{_INK}">{_esc(text)}</text>')
        x += w
    out.append("</g>")
    return out, y + 6


def _line_swatch(x: float, y: float, color: str, style: str | None, marker: bool) -> str:
    dash = _DASHES.get(style or "solid")
    parts = [
        f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + 28)}" y2="{_n(y)}" stroke="{_esc(color)}" stroke-width="2.5"'
        + (f' stroke-dasharray="{dash}"' if dash else "")
        + (' stroke-linecap="round"' if style == "dotted" else "")
        + "/>"
    ]
    if marker:
        parts.append(_point(x + 14, y, color, style or "solid", 3.4))
    return "".join(parts)


def _point(x: float, y: float, color: str, style: str, r: float) -> str:
    """A data point; its shape follows the line style so it survives greyscale."""
    c = _esc(color)
    if style == "dashed":  # hollow: reads as "estimate" next to filled actuals
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{r:g}" fill="#ffffff" stroke="{c}" stroke-width="1.8"/>'
    if style == "dotted":
        s = r * 1.7
        return f'<rect x="{_n(x - s / 2)}" y="{_n(y - s / 2)}" width="{_n(s)}" height="{_n(s)}" fill="{c}" stroke="#ffffff" stroke-width="0.8"/>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{r:g}" fill="{c}" stroke="#ffffff" stroke-width="1"/>'


def _halo_text(x: float, y: float, text: str, *, size: float, anchor: str = "start", fill: str = _INK,
               weight: str = "normal", cls: str = "") -> str:
    # A white outline behind the glyphs keeps labels legible over lines and bands.
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<text{klass} x="{_n(x)}" y="{_n(y)}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}" '
        f'font-weight="{weight}" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{_esc(text)}</text>'
    )


def _runs(xs: Sequence[float | None], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """Consecutive known (x, y) points; an unknown in either breaks the run."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for x, y in zip(xs, ys):
        if x is None or y is None:
            if current:
                runs.append(current)
                current = []
        else:
            current.append((x, y))
    if current:
        runs.append(current)
    return runs


def _positions(x: Sequence[float] | None, n: int) -> list[float | None]:
    if x is None:
        return [float(i) for i in range(n)]
    xs = _clean(x)
    return (xs + [None] * n)[:n]


def _x_name(i: float, labels: Sequence[str]) -> str:
    k = round(i)
    if abs(i - k) < 1e-9 and 0 <= k < len(labels) and labels[k]:
        return labels[k]
    return f"position {i:g}"


# ------------------------------------------------------------------ line chart


def _y_axis(ticks: Sequence[float], tick_labels: Sequence[str], sy: Callable[[float], float], *, left: float, right: float,
            top: float, bottom: float, pad: float, tick_size: float, y_label: str) -> list[str]:
    """Gridlines, y tick labels and the rotated axis label, shared by line and bar charts."""
    out = ['<g class="y-axis">']
    for t, text in zip(ticks, tick_labels):
        y = sy(t)
        out.append(f'<line class="grid" x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" stroke="{_GRID}" stroke-width="1"/>')
        out.append(f'<text class="y-tick" x="{_n(left - 6)}" y="{_n(y + 4)}" font-size="{tick_size}" text-anchor="end" fill="{_MUTED}">{_esc(text)}</text>')
    if y_label:
        cy = (top + bottom) / 2
        out.append(f'<text class="y-label" x="{_n(pad + 6)}" y="{_n(cy)}" font-size="{tick_size}" text-anchor="middle" fill="{_MUTED}" '
                   f'transform="rotate(-90 {_n(pad + 6)} {_n(cy)})">{_esc(_truncate(y_label, 30))}</text>')
    out.append("</g>")
    return out


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    y_format: Callable[[float], str] = compact_number,
    y_label: str = "",
    caption: str = "",
    zero_line: bool = True,
    vlines: Sequence[tuple[float, str]] = (),
    width: int = 720,
    height: int = 340,
    desc: str = "",
) -> Svg:
    """Lines over periods, with optional shaded bands, annotated points and vertical rules.

    Unknown values (``None``/NaN) break a line; a lone known point still shows
    as a dot. ``desc`` overrides the generated screen-reader summary.

    >>> c = line_chart(title="Net cash", x_labels=["W1", "W2", "W3"],
    ...                series=[Series("Estimated", [-20_000, -5_000, 10_000], style="dashed"),
    ...                        Series("Actual", [-21_000, None, None])])
    >>> c.svg.count('class="series-line"'), "Actual: last known -21k at W1" in c.svg
    (1, True)
    """
    width, height = max(int(width), 240), max(int(height), 160)
    title, y_label = str(title), str(y_label)
    x_names = [str(s) for s in x_labels]

    prepared = []
    for k, s in enumerate(series):
        ys = _clean(s.values)
        xs = _positions(s.x, len(ys))
        color = s.color or PALETTE[k % len(PALETTE)]
        prepared.append((s, xs, ys, color))
    band_data = []
    for k, b in enumerate(bands):
        lows, highs = _clean(b.low), _clean(b.high)
        n = min(len(lows), len(highs))
        # Default band colour matches the first line: the band is usually "around the estimate".
        color = b.color or (prepared[0][3] if prepared else PALETTE[k % len(PALETTE)])
        band_data.append((b, [float(i) for i in range(n)], lows[:n], highs[:n], color))
    notes = []
    for m in markers:
        mx, my = _clean([m.x, m.y])
        if mx is not None and my is not None:
            notes.append((m, mx, my))
    rules = []
    for position, text in vlines:
        (x,) = _clean([position])
        if x is not None:
            rules.append((x, str(text)))
    # From the cleaned data: repr() of a long numpy array elides values.
    uid = _uid("line", title, x_names, [(s.label, s.style, c, xs, ys) for s, xs, ys, c in prepared],
               [(b.label, lows, highs, c) for b, _, lows, highs, c in band_data],
               [(m.label, mx, my) for m, mx, my in notes], rules, y_label, zero_line, width, height)

    # Domains.
    y_values = [y for _, xs, ys, _ in prepared for x, y in zip(xs, ys) if x is not None and y is not None]
    y_values += [v for _, xs, lows, highs, _ in band_data for lo, hi in zip(lows, highs) if lo is not None and hi is not None for v in (lo, hi)]
    y_values += [my for _, _, my in notes]
    has_data = bool(y_values)
    lo, hi = (min(y_values), max(y_values)) if has_data else (0.0, 1.0)
    if zero_line:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks, tick_labels = _ticks_and_labels(lo, hi, y_format)
    y0, y1 = ticks[0], ticks[-1]

    x_values = [float(len(x_names) - 1)] if x_names else []
    x_values += [x for _, xs, ys, _ in prepared for x, y in zip(xs, ys) if x is not None and y is not None]
    x_values += [x for _, xs, *_ in band_data for x in xs]
    x_values += [mx for _, mx, _ in notes] + [x for x, _ in rules]
    x_lo, x_hi = (min(0.0, min(x_values)), max(x_values)) if x_values else (0.0, 0.0)
    if x_hi - x_lo <= abs(x_hi) * 1e-9:  # one position: put it in the middle
        half = max(0.5, abs(x_hi) * 1e-6)
        x_lo, x_hi = x_lo - half, x_hi + half

    # Layout, top to bottom: title, legend, plot, x labels.
    pad = 16.0
    out = []
    title_markup, y_cursor = _title(title, width, pad)
    # Dots on every point of a 52-week line are clutter; dash patterns still tell lines apart.
    spacing_guess = (width - 2 * pad - 60) / (x_hi - x_lo)
    marker_r = min(3.4, spacing_guess / 4)
    show_markers = marker_r >= 2
    items: list[tuple[str, str, str, str | None, bool]] = [
        ("line", str(s.label), c, s.style, s.markers and show_markers) for s, _, _, c in prepared
    ]
    items += [("swatch", str(b.label), c, "0.18", False) for b, *_, c in band_data]
    legend_markup, y_cursor = _legend(items, pad, y_cursor, width - 2 * pad)
    plot_top = y_cursor + 12
    plot_bottom = height - 30.0
    if plot_bottom - plot_top < 60:  # a very short chart keeps a usable plot
        plot_top = max(pad, plot_bottom - 60)
    tick_size = 11
    shown_names = [_truncate(t, 18) for t in x_names]
    label_w = max((_text_w(t, tick_size) for t in shown_names), default=0.0)
    plot_left = pad + max((_text_w(t, tick_size) for t in tick_labels), default=0.0) + 8 + (18 if y_label else 0)
    if shown_names:
        plot_left = max(plot_left, pad + _text_w(shown_names[0], tick_size) / 2 - 8)
    plot_right = width - max(pad, (_text_w(shown_names[-1], tick_size) / 2 - 4) if shown_names else 0.0)
    # Long custom tick labels must not squeeze the plot away.
    plot_left, plot_right = min(plot_left, width * 0.4), max(plot_right, width * 0.6)
    inner = 8.0  # keeps end points off the plot edge

    def sx(x: float) -> float:
        return plot_left + inner + (x - x_lo) / (x_hi - x_lo) * (plot_right - plot_left - 2 * inner)

    def sy(y: float) -> float:
        return plot_bottom - (y - y0) / (y1 - y0) * (plot_bottom - plot_top)

    # Gridlines and y ticks.
    out.extend(_y_axis(ticks, tick_labels, sy, left=plot_left, right=plot_right, top=plot_top, bottom=plot_bottom,
                       pad=pad, tick_size=tick_size, y_label=y_label))

    # X labels, thinned so they never overlap (52 weekly labels would).
    if x_names:
        spacing = (sx(1) - sx(0)) if x_hi > x_lo else float(width)
        stride = max(1, math.ceil((label_w + 10) / spacing)) if spacing > 0 else len(x_names)
        shown = [i for i in range(len(x_names)) if i % stride == 0]
        last = len(x_names) - 1
        if shown and shown[-1] != last and (last - shown[-1]) * spacing >= label_w + 10:
            shown.append(last)
        out.append('<g class="x-axis">')
        for i in shown:
            x = sx(i)
            out.append(f'<line x1="{_n(x)}" y1="{_n(plot_bottom)}" x2="{_n(x)}" y2="{_n(plot_bottom + 4)}" stroke="#bbbbbb"/>')
            out.append(f'<text class="x-label" x="{_n(x)}" y="{_n(plot_bottom + 17)}" font-size="{tick_size}" text-anchor="middle" fill="{_MUTED}">{_esc(shown_names[i])}</text>')
        out.append("</g>")

    # Bands under everything else, so lines stay crisp on top.
    for k, (b, xs, lows, highs, color) in enumerate(band_data):
        out.append(f'<g class="band" data-band="{k}">')
        for run_lo, run_hi in zip(_runs(xs, lows), _runs(xs, highs)):
            if len(run_lo) == 1:
                (x, a), (_, c) = run_lo[0], run_hi[0]
                out.append(f'<line x1="{_n(sx(x))}" y1="{_n(sy(a))}" x2="{_n(sx(x))}" y2="{_n(sy(c))}" stroke="{_esc(color)}" stroke-opacity="0.3" stroke-width="6"/>')
                continue
            top = " L".join(f"{_n(sx(x))} {_n(sy(v))}" for x, v in run_hi)
            bottom = " L".join(f"{_n(sx(x))} {_n(sy(v))}" for x, v in reversed(run_lo))
            out.append(f'<path class="band-area" d="M{top} L{bottom} Z" fill="{_esc(color)}" fill-opacity="0.18" stroke="none"/>')
        out.append("</g>")

    if zero_line and y0 <= 0 <= y1:
        out.append(f'<line class="zero-line" x1="{_n(plot_left)}" y1="{_n(sy(0))}" x2="{_n(plot_right)}" y2="{_n(sy(0))}" stroke="{_ZERO}" stroke-width="1.25"/>')

    for x, text in rules:
        px = sx(x)
        out.append(f'<g class="vline"><line x1="{_n(px)}" y1="{_n(plot_top)}" x2="{_n(px)}" y2="{_n(plot_bottom)}" stroke="#777777" stroke-width="1" stroke-dasharray="3 3"/>')
        if text:
            text = _truncate(text, 30)
            right = px + 4 + _text_w(text, 11) > plot_right
            out.append(_halo_text(px - 4 if right else px + 4, plot_top + 11, text, size=11, anchor="end" if right else "start", fill=_MUTED, cls="vline-label"))
        out.append("</g>")

    segments: list[tuple[float, float, float, float]] = []  # in pixels, to keep annotation labels off the lines
    for k, (s, xs, ys, color) in enumerate(prepared):
        dash = _DASHES[s.style]
        out.append(f'<g class="series" data-series="{k}">')
        runs = _runs(xs, ys)
        for run in runs:
            if len(run) < 2:
                continue
            pixels = [(sx(x), sy(y)) for x, y in run]
            segments.extend((a[0], a[1], b[0], b[1]) for a, b in zip(pixels, pixels[1:]))
            d = " L".join(f"{_n(x)} {_n(y)}" for x, y in pixels)
            out.append(
                f'<path class="series-line" d="M{d}" fill="none" stroke="{_esc(color)}" stroke-width="2.4" stroke-linejoin="round"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + (' stroke-linecap="round"' if s.style == "dotted" else "")
                + "/>"
            )
        for run in runs:
            # A lone known point has no line, so it gets a dot even when markers are off.
            if (s.markers and show_markers) or len(run) == 1:
                r = marker_r if len(run) > 1 else 4.2
                out.extend(_point(sx(x), sy(y), color, s.style, r) for x, y in run)
        out.append("</g>")

    placed: list[tuple[float, float, float, float]] = []
    for m, mx, my in notes:
        px, py = sx(mx), sy(my)
        text = _truncate(str(m.label), 40)
        tx, ty, anchor = _place_label(px, py, _text_w(text, 11.5, bold=True), segments, placed,
                                      (plot_left, plot_top, plot_right, plot_bottom))
        out.append(f'<g class="annotation"><circle cx="{_n(px)}" cy="{_n(py)}" r="5.5" fill="#ffffff" fill-opacity="0.6" stroke="{_INK}" stroke-width="1.6"/>')
        out.append(_halo_text(tx, ty, text, size=11.5, anchor=anchor, weight="600", cls="annotation-label"))
        out.append("</g>")

    if not has_data:
        out.append(_halo_text((plot_left + plot_right) / 2, (plot_top + plot_bottom) / 2, "No data yet", size=13, anchor="middle", fill=_MUTED, cls="no-data"))

    if not desc:
        desc = _line_desc(title, x_names, prepared, band_data, y_format)
    head = _svg_open(uid, width, height, title or "Chart", desc)
    return Svg("".join(head + title_markup + legend_markup + out + ["</svg>"]), caption=caption, title=title)


def _place_label(px: float, py: float, tw: float, segments: list[tuple[float, float, float, float]],
                 placed: list[tuple[float, float, float, float]], bounds: tuple[float, float, float, float]) -> tuple[float, float, str]:
    """Where to put an annotation's text: the corner crossing fewest lines and labels.

    Returns the text's x, baseline y and text-anchor; ``placed`` gets its box.
    """
    left, top, right, bottom = bounds
    best: tuple[float, float, float, str, tuple[float, float, float, float]] | None = None
    for dx, dy in ((8, -9), (8, 18), (-8, -9), (-8, 18)):
        tx, ty = px + dx, py + dy
        box = (tx, ty - 11, tx + tw, ty + 3) if dx > 0 else (tx - tw, ty - 11, tx, ty + 3)
        outside = (box[0] < left) + (box[2] > right) + (box[1] < top) + (box[3] > bottom)
        hits = sum(_segment_hits_box(seg, box) for seg in segments)
        hits += sum(_boxes_overlap(box, other) for other in placed)
        score = outside * 100 + hits
        if best is None or score < best[0]:
            best = (score, tx, ty, "start" if dx > 0 else "end", box)
        if score == 0:
            break
    assert best is not None
    placed.append(best[4])
    return best[1], best[2], best[3]


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _segment_hits_box(seg: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """Liang-Barsky: does the segment pass through the box?"""
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - box[0]), (dx, box[2] - x1), (-dy, y1 - box[1]), (dy, box[3] - y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _line_desc(title: str, x_names: list[str], prepared: list, band_data: list, fmt: Callable[[float], str]) -> str:
    parts = []
    if prepared:
        names = [f"{s.label} ({s.style})" for s, *_ in prepared]
        parts.append("Line chart of " + ", ".join(names))
    else:
        parts.append("Line chart with no lines")
    if band_data:
        parts[-1] += ", with shaded " + ", ".join(str(b.label) for b, *_ in band_data)
    if x_names:
        parts[-1] += f", over {x_names[0]} to {x_names[-1]}"
    for s, xs, ys, _ in prepared:
        known = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
        if known:
            x, y = known[-1]
            parts.append(f"{s.label}: last known {fmt(y)} at {_x_name(x, x_names)}")
        else:
            parts.append(f"{s.label}: no values yet")
    return f"{title}. " * bool(title) + ". ".join(parts) + "."


# ------------------------------------------------------------------- bar chart


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    y_format: Callable[[float], str] = compact_number,
    caption: str = "",
    colors: Sequence[str] | None = None,
    width: int = 720,
    height: int = 300,
    y_label: str = "",
    missing_label: str = "to come",
    desc: str = "",
) -> Svg:
    """Vertical bars from a zero line; negatives hang below it.

    An unknown value is an empty hatched slot labelled "to come", never a zero bar.

    >>> c = bar_chart(title="Savings by quarter", labels=["Q1", "Q2", "Q3"], values=[12_000, -3_000, None])
    >>> c.svg.count('class="bar"'), c.svg.count('class="to-come"')
    (2, 1)
    """
    width, height = max(int(width), 200), max(int(height), 140)
    title, y_label, missing_label = str(title), str(y_label), str(missing_label)
    names = [str(s) for s in labels]
    vals = _clean(values)
    n = max(len(names), len(vals))
    names += [""] * (n - len(names))
    vals += [None] * (n - len(vals))
    palette = [str(c) for c in colors] if colors else []
    uid = _uid("bar", title, names, vals, palette, width, height, y_label, missing_label)

    known = [v for v in vals if v is not None]
    lo, hi = min(known + [0.0]), max(known + [0.0])
    if known:
        # Headroom so value labels above/below the longest bars stay in the plot.
        span = hi - lo
        lo, hi = (lo - 0.1 * span if lo < 0 else lo), (hi + 0.1 * span if hi > 0 else hi)
    else:
        hi = 1.0
    ticks, tick_labels = _ticks_and_labels(lo, hi, y_format)
    y0, y1 = ticks[0], ticks[-1]

    pad = 16.0
    tick_size = 11
    title_markup, y_cursor = _title(title, width, pad)
    plot_top = y_cursor + 14
    plot_left = min(pad + max((_text_w(t, tick_size) for t in tick_labels), default=0.0) + 8 + (18 if y_label else 0), width * 0.4)
    plot_right = width - pad
    slot = (plot_right - plot_left) / max(n, 1)
    max_chars = int(slot / (tick_size * 0.56))
    # Wrap labels to two lines when slots are wide enough, else thin them out.
    if max_chars >= 5:
        wrapped = [_wrap(t, max_chars, 2) for t in names]
        stride = 1
    else:
        wrapped = [[_truncate(t, 10)] for t in names]
        widest = max((_text_w(w[0], tick_size) for w in wrapped), default=0.0)
        stride = max(1, math.ceil((widest + 8) / max(slot, 1e-9)))
    label_lines = max((len(w) for w in wrapped), default=1)
    plot_bottom = height - 14 - 14 * label_lines
    if plot_bottom - plot_top < 50:
        plot_top = max(pad, plot_bottom - 50)

    def sy(y: float) -> float:
        return plot_bottom - (y - y0) / (y1 - y0) * (plot_bottom - plot_top)

    out = title_markup[:]
    out.append(f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
               '<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2"/></pattern></defs>')
    out.extend(_y_axis(ticks, tick_labels, sy, left=plot_left, right=plot_right, top=plot_top, bottom=plot_bottom,
                       pad=pad, tick_size=tick_size, y_label=y_label))

    bar_w = min(slot * 0.68, 90.0)
    zero_y = sy(0.0) if y0 <= 0 <= y1 else plot_bottom
    value_size = 11 if slot >= 34 else 9
    out.append('<g class="bars">')
    for i, (name, v) in enumerate(zip(names, vals)):
        cx = plot_left + slot * (i + 0.5)
        if v is None:
            out.append(f'<rect class="to-come" data-index="{i}" x="{_n(cx - bar_w / 2)}" y="{_n(plot_top)}" width="{_n(bar_w)}" '
                       f'height="{_n(plot_bottom - plot_top)}" fill="url(#{uid}-hatch)" stroke="#9a9a9a" stroke-dasharray="4 3"/>')
            text = _truncate(missing_label, 20)
            # Centre the words in the taller part of the slot, clear of the zero line.
            zy = min(max(zero_y, plot_top), plot_bottom)
            cy = (plot_top + zy) / 2 if zy - plot_top >= plot_bottom - zy else (zy + plot_bottom) / 2
            if _text_w(text, 11) + 6 <= bar_w:
                out.append(_halo_text(cx, cy + 4, text, size=11, anchor="middle", fill=_MUTED, cls="to-come-label"))
            else:  # narrow slot: read it sideways
                out.append(f'<g transform="rotate(-90 {_n(cx)} {_n(cy)})">'
                           + _halo_text(cx, cy + 4, text, size=11, anchor="middle", fill=_MUTED, cls="to-come-label") + "</g>")
            continue
        color = palette[i % len(palette)] if palette else (PALETTE[0] if v >= 0 else PALETTE[1])
        top, bottom = (sy(v), zero_y) if v >= 0 else (zero_y, sy(v))
        out.append(f'<rect class="bar" data-index="{i}" x="{_n(cx - bar_w / 2)}" y="{_n(top)}" width="{_n(bar_w)}" '
                   f'height="{_n(max(bottom - top, 0.0))}" fill="{_esc(color)}"/>')
        text = str(y_format(v))
        if _text_w(text, value_size) <= slot - 2:
            ty = top - 4 if v >= 0 else bottom + value_size + 2
            out.append(f'<text class="value-label" x="{_n(cx)}" y="{_n(ty)}" font-size="{value_size}" text-anchor="middle" fill="{_INK}">{_esc(text)}</text>')
    out.append("</g>")
    if y0 <= 0 <= y1:
        out.append(f'<line class="zero-line" x1="{_n(plot_left)}" y1="{_n(zero_y)}" x2="{_n(plot_right)}" y2="{_n(zero_y)}" stroke="{_ZERO}" stroke-width="1.25"/>')

    out.append('<g class="x-axis">')
    for i, lines in enumerate(wrapped):
        if i % stride:
            continue
        cx = plot_left + slot * (i + 0.5)
        for j, line in enumerate(lines):
            out.append(f'<text class="x-label" x="{_n(cx)}" y="{_n(plot_bottom + 16 + 14 * j)}" font-size="{tick_size}" text-anchor="middle" fill="{_MUTED}">{_esc(line)}</text>')
    out.append("</g>")
    if n == 0:
        out.append(_halo_text((plot_left + plot_right) / 2, (plot_top + plot_bottom) / 2, "No data yet", size=13, anchor="middle", fill=_MUTED, cls="no-data"))

    if not desc:
        items = [f"{name or f'bar {i + 1}'} {missing_label if v is None else y_format(v)}" for i, (name, v) in enumerate(zip(names, vals))]
        desc = f"{title}. " * bool(title) + ("Bar chart: " + "; ".join(items) if items else "Bar chart with no bars") + "."
    head = _svg_open(uid, width, height, title or "Chart", desc)
    return Svg("".join(head + out + ["</svg>"]), caption=caption, title=title)


# ---------------------------------------------------------------- tornado chart


def tornado_chart(
    *,
    title: str,
    base: float,
    rows: Sequence[tuple[str, float, float]],
    x_format: Callable[[float], str] = compact_number,
    caption: str = "",
    width: int = 720,
    height: int | None = None,
    low_label: str = "Factor at its low",
    high_label: str = "Factor at its high",
    base_label: str = "Base",
    desc: str = "",
) -> Svg:
    """Sensitivity: each row is (factor, result with the factor low, result with it high).

    Rows are sorted by swing, widest on top (ties keep their order); a vertical
    line marks the base result.

    >>> c = tornado_chart(title="NPV sensitivity", base=100,
    ...                   rows=[("Price", 80, 130), ("Churn", 95, 104), ("Seats", 60, 150)])
    >>> import re; re.findall(r'class="row-label"[^>]*>([^<]*)<', c.svg)
    ['Seats', 'Price', 'Churn']
    """
    width = max(int(width), 240)
    title, low_label, high_label, base_label = str(title), str(low_label), str(high_label), str(base_label)
    base_value = _clean([base])[0]
    cleaned = []
    for row in rows:
        label, low, high = (list(row) + [None, None, None])[:3]
        lo_r, hi_r = _clean([low, high])
        cleaned.append((str(label), lo_r, hi_r))
    ref = base_value if base_value is not None else 0.0

    def swing(row: tuple[str, float | None, float | None]) -> float:
        _, a, b = row
        if a is not None and b is not None:
            return abs(b - a)
        known = a if a is not None else b
        return abs(known - ref) if known is not None else 0.0

    ordered = sorted(cleaned, key=swing, reverse=True)  # stable: ties keep input order
    uid = _uid("tornado", title, base_value, ordered, width, height, low_label, high_label, base_label)

    values = [v for _, a, b in ordered for v in (a, b) if v is not None] + [ref]
    ticks, tick_labels = _ticks_and_labels(min(values), max(values), x_format)
    x0, x1 = ticks[0], ticks[-1]

    pad = 16.0
    row_h, bar_h = 30.0, 18.0
    tick_size, label_size, value_size = 11, 12, 11
    title_markup, y_cursor = _title(title, width, pad)
    legend_markup, y_cursor = _legend(
        [("swatch", low_label, PALETTE[4], "1", False), ("swatch", high_label, PALETTE[0], "1", False)],
        pad, y_cursor, width - 2 * pad,
    )
    plot_top = y_cursor + 22  # room for the base label above the rows
    n = len(ordered)
    if height is None:
        height = int(plot_top + max(n, 1) * row_h + 34)
    height = max(int(height), int(plot_top + 60))
    plot_bottom = height - 34.0
    row_h = (plot_bottom - plot_top) / max(n, 1)
    bar_h = min(bar_h, row_h * 0.7)

    label_col = min(max((_text_w(r[0], label_size) for r in ordered), default=0.0), width * 0.34)
    max_label_chars = max(4, int(label_col / (label_size * 0.56)))
    plot_left = pad + label_col + 10
    plot_right = width - pad
    value_w = max((_text_w(str(x_format(v)), value_size) for v in values), default=0.0) + 6
    inner_left, inner_right = plot_left + value_w, plot_right - value_w
    if inner_right - inner_left < 40:
        inner_left, inner_right = plot_left, plot_right

    def sx(x: float) -> float:
        return inner_left + (x - x0) / (x1 - x0) * (inner_right - inner_left)

    out = title_markup + legend_markup
    out.append('<g class="x-axis">')
    for t, text in zip(ticks, tick_labels):
        x = sx(t)
        out.append(f'<line class="grid" x1="{_n(x)}" y1="{_n(plot_top)}" x2="{_n(x)}" y2="{_n(plot_bottom)}" stroke="{_GRID}" stroke-width="1"/>')
        out.append(f'<text class="x-tick" x="{_n(x)}" y="{_n(plot_bottom + 16)}" font-size="{tick_size}" text-anchor="middle" fill="{_MUTED}">{_esc(text)}</text>')
    out.append("</g>")

    bx = sx(ref)
    out.append('<g class="rows">')
    for i, (label, a, b) in enumerate(ordered):
        cy = plot_top + row_h * (i + 0.5)
        out.append(f'<text class="row-label" x="{_n(plot_left - 10)}" y="{_n(cy + 4)}" font-size="{label_size}" text-anchor="end" fill="{_INK}">{_esc(_truncate(label, max_label_chars))}</text>')
        ends = [(v, PALETTE[4] if side == "low" else PALETTE[0], side) for v, side in ((a, "low"), (b, "high")) if v is not None]
        # The longer bar first so a shorter one on the same side stays visible on top.
        ends.sort(key=lambda e: -abs(e[0] - ref))
        for v, color, side in ends:
            left, right = sorted((sx(v), bx))
            out.append(f'<rect class="tornado-bar {side}" x="{_n(left)}" y="{_n(cy - bar_h / 2)}" width="{_n(right - left)}" '
                       f'height="{_n(bar_h)}" fill="{color}" stroke="#ffffff" stroke-width="0.5"/>')
        labelled_sides: set[bool] = set()
        for v, _, _ in ends:  # outermost first; an inner end on the same side stays unlabelled
            if v == ref or (v > ref) in labelled_sides:
                continue
            labelled_sides.add(v > ref)
            x = sx(v)
            anchor, tx = ("start", x + 4) if v > ref else ("end", x - 4)
            out.append(f'<text class="value-label" x="{_n(tx)}" y="{_n(cy + 4)}" font-size="{value_size}" text-anchor="{anchor}" fill="{_INK}">{_esc(x_format(v))}</text>')
    out.append("</g>")
    out.append(f'<line class="base-line" x1="{_n(bx)}" y1="{_n(plot_top - 6)}" x2="{_n(bx)}" y2="{_n(plot_bottom)}" stroke="{_INK}" stroke-width="1.5"/>')
    if base_value is not None:
        out.append(_halo_text(bx, plot_top - 10, f"{base_label}: {x_format(ref)}", size=11, anchor="middle", weight="600", cls="base-label"))
    if not ordered:
        out.append(_halo_text((plot_left + plot_right) / 2, (plot_top + plot_bottom) / 2, "No factors yet", size=13, anchor="middle", fill=_MUTED, cls="no-data"))

    if not desc:
        def fmt(v: float | None) -> str:
            return "unknown" if v is None else str(x_format(v))

        items = [f"{label}: {fmt(a)} (low) to {fmt(b)} (high)" for label, a, b in ordered]
        desc = (f"{title}. " * bool(title) + f"Tornado chart around {base_label.lower()} {fmt(base_value)}, widest swing first: "
                + ("; ".join(items) if items else "no factors") + ".")
    head = _svg_open(uid, width, height, title or "Chart", desc)
    return Svg("".join(head + out + ["</svg>"]), caption=caption, title=title)


# ------------------------------------------------------------- small multiples


def small_multiples(charts: Sequence[Svg], *, columns: int = 2) -> str:
    """Charts side by side in a CSS grid, e.g. one small chart per KPI.

    >>> html_ = small_multiples([Svg("<svg/>"), Svg("<svg/>")], columns=3)
    >>> html_.startswith('<div class="chart-grid"') and html_.count("<figure") == 2
    True
    """
    columns = max(1, int(columns))
    # minmax(0, 1fr) lets SVGs shrink instead of overflowing the page.
    style = (f"display: grid; grid-template-columns: repeat({columns}, minmax(0, 1fr)); "
             "gap: 1rem 1.5rem; align-items: start")
    return f'<div class="chart-grid" style="{style}">' + "".join(str(c) for c in charts) + "</div>"
