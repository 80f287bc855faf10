"""The report's charts, drawn by matplotlib: line, bar and tornado charts.

The reports are single HTML files that customers' CFOs read on screen, on a
projector and on A4 paper, so every chart here is:

* an inline ``<svg>`` with its text kept as text (``svg.fonttype: none``), no
  scripts, links or web fonts, and byte-identical for the same input (the
  SVG ids are salted with a hash of the input, never random);
* drawn at the size it is printed at: a full-width chart is 170 mm wide and a
  half-width one (two to a row) 81 mm, so 8 pt text in the figure is at least
  8 pt on paper; every text is 8 pt or more;
* laid out so no label overlaps another or a plotted line: the legend and the
  labels of vertical rules sit above the plot, annotations take the free
  corner, and x labels are thinned or wrapped rather than cut;
* printable in black and white: estimated and actual lines differ by dash
  pattern and marker as well as colour;
* honest about missing data: ``None`` (or NaN) is "not known yet", which
  breaks a line or shows an empty "to come" slot, and is never drawn as zero.

The house style is ``house.mplstyle`` next to this file (the colours of
``report.css``); it is applied with ``matplotlib.style.context`` for each
chart, so a notebook's own matplotlib settings are neither used nor changed.
matplotlib is imported only when a chart is drawn.

>>> chart = line_chart(title="Seats in use", x_labels=["Jan", "Feb", "Mar"],
...                    series=[Series("Actual", [120, None, 180])])
>>> chart.svg.startswith("<svg") and "Seats in use" in str(chart)
True
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import html
import io
import itertools
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csm_nb.vocabulary import COMPACT_UNITS, compact_number

__all__ = [
    "FULL_WIDTH_MM",
    "HALF_WIDTH_MM",
    "THIRD_WIDTH_MM",
    "PALETTE",
    "STYLE_FILE",
    "Band",
    "Marker",
    "Series",
    "Svg",
    "bar_chart",
    "keep_figures",
    "line_chart",
    "nice_ticks",
    "small_multiples",
    "tornado_chart",
    "warm_up",
]

# Okabe-Ito, reordered so the first colours are the strongest on white paper;
# yellow comes last because thin yellow lines all but vanish. The same list is
# house.mplstyle's colour cycle and report.css's --chart-1..8.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

STYLE_FILE = Path(__file__).with_name("house.mplstyle")

# Generic and locally installed families only: a report must never fetch a font.
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# The report body on A4 is 186 mm (12 mm margins); 170 mm leaves room for a
# notebook's own padding. Two charts to a row share it less a 6 mm gap; three
# to a row (the value report's KPIs, so it prints on one page) share it less
# two gaps, 58 to 60 mm each. Each is drawn a little narrower than the room it
# prints in, so 8 pt text prints at 8 pt or a little more (8.3 to 9.2 pt).
FULL_WIDTH_MM = 170.0
HALF_WIDTH_MM = 81.0
THIRD_WIDTH_MM = 56.0
_PT_PER_MM = 72 / 25.4
# A chart asked for narrower than this many (CSS) pixels is a half-width one,
# narrower than the second a third-width one.
_HALF_BELOW_PX = 600
_THIRD_BELOW_PX = 400

# Text sizes in points at print size; nothing below 8.
_TEXT = 8.0
_TITLE = 9.5
_PAD = 4.0  # around the picture's edge
_GAP = 5.0  # between stacked blocks: title, legend, rule labels, plot

# Dash patterns carry the meaning in black-and-white print, not just colour.
_DASHES: dict[str, Any] = {"solid": "-", "dashed": (0, (5, 2.6)), "dotted": (0, (1, 2.2))}

_INK = "#1d232b"
_MUTED = "#5b6672"
_ZERO = "#4d4d4d"
_RULE = "#777777"

# Characters XML 1.0 forbids even as references; a pasted label may carry them.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Text extents in points by (text, size, bold), for the house font (DejaVu Sans).
_MEASURED: dict[tuple[str, float, bool], tuple[float, float, float]] = {}

# keep_figures() collects (Svg, Figure) pairs here so tests can measure the layout.
_KEPT: contextvars.ContextVar[list[tuple[Svg, Any]] | None] = contextvars.ContextVar("csm_nb_kept_figures", default=None)


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

    ``width_mm`` is the width the chart is drawn for on A4 paper.

    >>> print(Svg("<svg/>", caption="Q1 & Q2"))
    <figure class="chart" ...><svg/><figcaption ...>Q1 &amp; Q2</figcaption></figure>
    """

    svg: str
    caption: str = ""
    title: str = ""
    width_mm: float = FULL_WIDTH_MM

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


@contextlib.contextmanager
def keep_figures() -> Iterator[list[tuple[Svg, Any]]]:
    """Collect the matplotlib Figure behind every chart drawn inside the block.

    For tests that measure the layout (text boxes, lines) the way matplotlib
    drew it; outside the block figures are dropped as soon as they are saved.
    """
    kept: list[tuple[Svg, Any]] = []
    token = _KEPT.set(kept)
    try:
        yield kept
    finally:
        _KEPT.reset(token)


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


def _plain(text: object) -> str:
    """Text for matplotlib: no XML-invalid characters (the SVG writer escapes the rest)."""
    return _XML_INVALID.sub("", str(text))


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


def _uid(*parts: object) -> str:
    # Deterministic ids (same input, same markup) that differ between charts on one page.
    digest = hashlib.sha1(repr(parts).encode("utf-8", "backslashreplace")).hexdigest()
    return "chart-" + digest[:10]


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


# ------------------------------------------------------------- the drawing kit


def _size(width: int, height: float, *, min_width: int) -> tuple[float, float, float]:
    """Figure width and height in points, and the width in mm it is drawn for.

    ``width``/``height`` are the CSS pixels the pages ask for: under 400 px wide
    is a third-width chart (three to a row), under 600 px a half-width one (two
    to a row), else a full-width one. The figure is as wide as it is printed,
    so its point sizes are the printed sizes.

    >>> [round(v, 1) for v in _size(720, 340, min_width=240)]
    [481.9, 238.0, 170.0]
    >>> round(_size(460, 225, min_width=240)[0], 1)
    229.6
    >>> [round(v, 1) for v in _size(300, 150, min_width=240)]
    [158.7, 135.0, 56.0]
    """
    width = max(int(width), min_width)
    mm = THIRD_WIDTH_MM if width < _THIRD_BELOW_PX else HALF_WIDTH_MM if width < _HALF_BELOW_PX else FULL_WIDTH_MM
    # A narrower chart keeps the same text in less width, so it needs relatively more height.
    factor = {THIRD_WIDTH_MM: 0.9, HALF_WIDTH_MM: 0.8}.get(mm, 0.7)
    return mm * _PT_PER_MM, round(max(float(height), 100.0) * factor, 1), mm


def warm_up() -> None:
    """Import matplotlib and draw one small chart, so a waiting kernel has paid for the imports, the
    house style and the font cache before it is handed a notebook (about 0.4 s the first time)."""
    str(line_chart(title="warm-up", x_labels=["a", "b"], series=[Series("s", [0.0, 1.0])]))


@contextlib.contextmanager
def _house(uid: str) -> Iterator[None]:
    """matplotlib's defaults plus the house style, for this block only.

    The SVG ids are salted with ``uid`` (a hash of the chart's input): the
    same input gives the same bytes, and two charts on one page never share ids.
    """
    import matplotlib
    import matplotlib.style

    with (
        matplotlib.style.context(str(STYLE_FILE), after_reset=True),
        matplotlib.rc_context({"svg.hashsalt": uid, "svg.id": uid}),
        warnings.catch_warnings(),
    ):
        # A glyph DejaVu Sans lacks is still written as text; the browser finds a font for it.
        warnings.simplefilter("ignore")
        yield


class _Canvas:
    """One figure at print size (72 dpi: a pixel is a point) and a renderer to measure text."""

    def __init__(self, uid: str, width_pt: float, height_pt: float, width_mm: float) -> None:
        from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
        from matplotlib.figure import Figure

        self.uid, self.w, self.h, self.mm = uid, width_pt, height_pt, width_mm
        self.fig = Figure(figsize=(width_pt / 72, height_pt / 72), dpi=72)
        FigureCanvasSVG(self.fig)
        # The SVG renderer measures text exactly as it will be written.
        self.renderer = RendererSVG(width_pt, height_pt, io.StringIO())
        self.classes: dict[str, str] = {}
        self._props: dict[tuple[float, bool], Any] = {}

    # -- text measuring ---------------------------------------------------------
    def _prop(self, size: float, bold: bool) -> Any:
        key = (size, bold)
        if key not in self._props:
            from matplotlib.font_manager import FontProperties

            self._props[key] = FontProperties(size=size, weight="bold" if bold else "normal")
        return self._props[key]

    def _measure(self, line: str, size: float, bold: bool) -> tuple[float, float, float]:
        # Measuring is most of a chart's cost, and a redraw measures the same words again.
        key = (line, size, bold)
        if key not in _MEASURED:
            if len(_MEASURED) > 20_000:
                _MEASURED.clear()
            _MEASURED[key] = self.renderer.get_text_width_height_descent(line, self._prop(size, bold), ismath=False)
        return _MEASURED[key]

    def text_w(self, text: str, size: float = _TEXT, *, bold: bool = False) -> float:
        return max((self._measure(line, size, bold)[0] for line in str(text).split("\n") if line), default=0.0)

    def line_h(self, size: float = _TEXT, *, bold: bool = False) -> float:
        return self._measure("lp", size, bold)[1]

    def block_h(self, lines: int, size: float = _TEXT, *, bold: bool = False) -> float:
        """Height of ``lines`` lines of text as matplotlib stacks them (line spacing 1.2)."""
        if lines <= 0:
            return 0.0
        _, h, d = self._measure("lp", size, bold)
        return h + (lines - 1) * ((h - d) * 1.2 + d)

    def wrap(self, text: str, size: float, max_w: float, *, bold: bool = False, break_words: bool = True) -> list[str]:
        """Greedy word wrap to ``max_w`` points; nothing is cut off.

        With ``break_words`` a word wider than the line is split; without, it
        stays whole (the caller checks ``text_w`` and makes room another way).
        """
        out: list[str] = []
        for paragraph in str(text).split("\n"):
            current = ""
            for word in paragraph.split():
                trial = f"{current} {word}" if current else word
                if not current or self.text_w(trial, size, bold=bold) <= max_w:
                    current = trial
                else:
                    out.append(current)
                    current = word
                while break_words and len(current) > 1 and self.text_w(current, size, bold=bold) > max_w:
                    cut = len(current) - 1
                    while cut > 1 and self.text_w(current[:cut], size, bold=bold) > max_w:
                        cut -= 1
                    out.append(current[:cut])
                    current = current[cut:]
            out.append(current)
        while len(out) > 1 and not out[-1]:
            out.pop()
        return out or [""]

    # -- artists --------------------------------------------------------------
    def gid(self, name: str, css_class: str) -> str:
        """An SVG id for an artist; the written group also gets ``css_class``."""
        gid = f"{self.uid}-{name}"
        self.classes[gid] = css_class
        return gid

    def legend(self, handles: list, labels: list[str], *, max_w: float) -> tuple[Any, float, float]:
        """A figure legend in as few rows as fit ``max_w``; returns it with its width and height."""
        n = len(handles)
        for ncols in range(n, 0, -1):
            # matplotlib fills columns first; this order reads left to right, row by row.
            rows = math.ceil(n / ncols)
            order = [i * ncols + j for j in range(ncols) for i in range(rows) if i * ncols + j < n]
            legend = self.fig.legend(
                [handles[i] for i in order], [labels[i] for i in order], ncols=ncols, loc="upper left", bbox_to_anchor=(0, 1)
            )
            box = legend.get_window_extent(self.renderer)
            if box.width <= max_w or ncols == 1:
                legend.set_gid(self.gid("legend", "legend"))
                return legend, box.width, box.height
            legend.remove()
        raise AssertionError("unreachable")

    def title(self, lines: list[str], *, height: float) -> None:
        """The chart's bold title, top left; nothing when ``lines`` is empty.

        ``height`` is the figure's height now: a chart grows after the canvas is made.
        """
        if not lines:
            return
        self.fig.text(
            _PAD / self.w,
            1 - _PAD / height,
            "\n".join(lines),
            ha="left",
            va="top",
            fontsize=_TITLE,
            fontweight="bold",
            gid=self.gid("title", "title"),
        )

    # -- output ---------------------------------------------------------------
    def finish(self, *, title: str, desc: str, caption: str) -> Svg:
        buf = io.StringIO()
        self.fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
        svg = _inline_svg(buf.getvalue(), uid=self.uid, title=title or "Chart", desc=desc, classes=self.classes)
        chart = Svg(svg, caption=caption, title=title, width_mm=self.mm)
        kept = _KEPT.get()
        if kept is not None:
            kept.append((chart, self.fig))
        return chart


def _inline_svg(text: str, *, uid: str, title: str, desc: str, classes: dict[str, str]) -> str:
    """matplotlib's SVG document as an element to inline in HTML.

    No XML prolog or DOCTYPE; it scales to its container (``viewBox`` kept),
    is an image with a title and description for screen readers, and its
    stylesheet applies inside this SVG only.
    """
    svg = text[text.index("<svg") :].rstrip()
    head_end = svg.index(">") + 1
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[: head_end - 1])
    head += (
        f' width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="{uid}-title {uid}-desc"'
        ' style="display: block; width: 100%; height: auto; max-width: 100%">'
    )
    body = svg[head_end:]
    # matplotlib's "*{...}" would restyle every element of the HTML page.
    body = body.replace('<style type="text/css">*{', f'<style type="text/css">#{uid} *{{', 1)
    # matplotlib numbers its groups (figure_1, axes_1, ...) afresh in every SVG; on a page of
    # charts those would repeat, so only our own ids (prefixed with the chart's uid) stay.
    body = re.sub(r'<g id="(?!' + re.escape(uid) + r'-)[^"]*"', "<g", body)
    for gid, css_class in classes.items():
        body = body.replace(f'<g id="{gid}">', f'<g id="{gid}" class="{css_class}">')
    return head + f'<title id="{uid}-title">{_esc(title)}</title><desc id="{uid}-desc">{_esc(desc)}</desc>' + body


def _color(value: object, fallback: str) -> str:
    """A colour matplotlib understands, else ``fallback`` (a colour is code's choice, not a person's)."""
    from matplotlib.colors import is_color_like, to_hex

    return to_hex(value, keep_alpha=False) if isinstance(value, str) and is_color_like(value) else fallback


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _segments(ax: Any) -> list[tuple[float, float, float, float]]:
    """Every plotted line of ``ax`` as display-space segments (points from the bottom left)."""
    import numpy as np

    out: list[tuple[float, float, float, float]] = []
    for line in ax.get_lines():
        if line.get_linestyle() in ("None", "none", " ", ""):
            continue
        xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        for (x1, y1), (x2, y2) in itertools.pairwise(xy):
            if all(math.isfinite(v) for v in (x1, y1, x2, y2)):
                out.append((float(x1), float(y1), float(x2), float(y2)))
    return out


def _segment_hits_box(seg: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """Liang-Barsky: does the segment pass through the box (x0, y0, x1, y1)?

    >>> _segment_hits_box((0, 0, 10, 10), (4, 4, 6, 6)), _segment_hits_box((0, 0, 10, 0), (4, 1, 6, 2))
    (True, False)
    """
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


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box(text: Any, renderer: Any, pad: float = 0.0) -> tuple[float, float, float, float]:
    b = text.get_window_extent(renderer)
    return (b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad)


def _stack_labels(spans: list[tuple[float, float]]) -> list[int]:
    """A row for each (left, right) span so no two in a row overlap; first fit, in order.

    >>> _stack_labels([(0, 10), (5, 15), (14, 20), (30, 40)])
    [0, 1, 0, 0]
    """
    rows: list[list[tuple[float, float]]] = []
    out = []
    for a, b in spans:
        for k, row in enumerate(rows):
            if all(b + 3 <= c or d + 3 <= a for c, d in row):
                row.append((a, b))
                out.append(k)
                break
        else:
            rows.append([(a, b)])
            out.append(len(rows) - 1)
    return out


def _fit_ticks(
    c: _Canvas, lo: float, hi: float, fmt: Callable[[float], str], *, room: float, vertical: bool
) -> tuple[list[float], list[str]]:
    """Nice ticks whose labels fit ``room`` points of axis without touching each other."""
    try:
        candidates = [nice_ticks(lo, hi, target=t) for t in (5, 4, 3, 2)]
    except ValueError:  # absurd magnitudes: plain ends rather than a crash
        candidates = [[lo, hi] if hi > lo else [lo - 1, lo + 1]]
    fallback = None
    for ticks in candidates:
        labels = _tick_labels(ticks, fmt)
        if len(set(labels)) != len(labels):
            continue
        fallback = (ticks, labels)  # the last that reads: fewest ticks
        step = room / max(len(ticks) - 1, 1)
        need = c.line_h() * 1.3 if vertical else max(c.text_w(t) for t in labels) + 6
        if step >= need:
            return ticks, labels
    if fallback is not None:
        return fallback
    return candidates[0], _tick_labels(candidates[0], fmt)


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


# ------------------------------------------------------------------ line chart


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


# Where an annotation's label may go, nearest first: (dx, dy) in points from the point,
# with the alignment that keeps the text on that side of it.
_ANNOTATION_SPOTS = tuple(
    sorted(
        {
            (
                sx * dx,
                sy * dy,
                ("left" if sx > 0 else "right") if dx else "center",
                "center" if dy == 0 else ("bottom" if sy > 0 else "top"),
            )
            for dx in (0, 6, 12, 18, 30, 45)
            for dy in (0, 2, 5, 9, 16, 26)
            for sx in (1, -1)
            for sy in (1, -1)
            if (dx or dy >= 9) and (dx or sx > 0) and (dy or sy > 0)
        },
        key=lambda spot: (math.hypot(spot[0], spot[1]), spot),
    )
)


def _marker_style(style: str, color: str, size: float) -> dict[str, Any]:
    """A data point's look; its shape follows the line style so it survives greyscale."""
    if style == "dashed":  # hollow: reads as "estimate" next to filled actuals
        return {"marker": "o", "markersize": size, "markerfacecolor": "#ffffff", "markeredgecolor": color, "markeredgewidth": 1.3}
    if style == "dotted":
        return {
            "marker": "s",
            "markersize": size * 0.9,
            "markerfacecolor": color,
            "markeredgecolor": "#ffffff",
            "markeredgewidth": 0.6,
        }
    return {"marker": "o", "markersize": size, "markerfacecolor": color, "markeredgecolor": "#ffffff", "markeredgewidth": 0.7}


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
    as a dot. ``width`` under 600 (CSS px) draws a half-width chart for a
    two-column grid, under 400 a third-width one for three columns; ``height``
    sets the proportions. ``desc`` overrides the
    generated screen-reader summary.

    >>> c = line_chart(title="Net cash", x_labels=["W1", "W2", "W3"],
    ...                series=[Series("Estimated", [-20_000, -5_000, 10_000], style="dashed"),
    ...                        Series("Actual", [-21_000, None, None])])
    >>> c.svg.count('class="series"'), "Actual: last known -21k at W1" in c.svg
    (2, True)
    """
    title, y_label = _plain(title), _plain(y_label)
    x_names = [_plain(s) for s in x_labels]
    prepared = []
    for k, s in enumerate(series):
        ys = _clean(s.values)
        xs = _positions(s.x, len(ys))
        prepared.append((s, xs, ys, _color(s.color, PALETTE[k % len(PALETTE)])))
    band_data = []
    for k, b in enumerate(bands):
        lows, highs = _clean(b.low), _clean(b.high)
        n = min(len(lows), len(highs))
        # Default band colour matches the first line: the band is usually "around the estimate".
        color = _color(b.color, prepared[0][3] if prepared else PALETTE[k % len(PALETTE)])
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
            rules.append((x, _plain(text)))
    # From the cleaned data: repr() of a long numpy array elides values.
    uid = _uid(
        "line",
        title,
        x_names,
        [(str(s.label), s.style, c, xs, ys, s.markers) for s, xs, ys, c in prepared],
        [(str(b.label), lows, highs, c) for b, _, lows, highs, c in band_data],
        [(str(m.label), mx, my) for m, mx, my in notes],
        rules,
        y_label,
        zero_line,
        width,
        height,
        [y_format(v) for v in (-1234.5, 0, 0.5, 1e6)],
    )
    if not desc:
        desc = _line_desc(title, x_names, prepared, band_data, y_format)
    with _house(uid):
        return _draw_line(
            uid,
            title=title,
            x_names=x_names,
            prepared=prepared,
            band_data=band_data,
            notes=notes,
            rules=rules,
            y_format=y_format,
            y_label=y_label,
            caption=caption,
            zero_line=zero_line,
            size=_size(width, height, min_width=240),
            desc=desc,
        )


def _draw_line(
    uid: str,
    *,
    title: str,
    x_names: list[str],
    prepared: list,
    band_data: list,
    notes: list,
    rules: list,
    y_format: Callable[[float], str],
    y_label: str,
    caption: str,
    zero_line: bool,
    size: tuple[float, float, float],
    desc: str,
) -> Svg:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    W, H, mm = size
    c = _Canvas(uid, W, H, mm)
    fig = c.fig

    # Domains.
    y_values = [y for _, xs, ys, _ in prepared for x, y in zip(xs, ys) if x is not None and y is not None]
    y_values += [
        v
        for _, _, lows, highs, _ in band_data
        for lo, hi in zip(lows, highs)
        if lo is not None and hi is not None
        for v in (lo, hi)
    ]
    y_values += [my for _, _, my in notes]
    has_data = bool(y_values)
    lo, hi = (min(y_values), max(y_values)) if has_data else (0.0, 1.0)
    if zero_line:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    x_values = [float(len(x_names) - 1)] if x_names else []
    x_values += [x for _, xs, ys, _ in prepared for x, y in zip(xs, ys) if x is not None and y is not None]
    x_values += [x for _, xs, *_ in band_data for x in xs]
    x_values += [mx for _, mx, _ in notes] + [x for x, _ in rules]
    x_lo, x_hi = (min(0.0, min(x_values)), max(x_values)) if x_values else (0.0, 0.0)
    if x_hi - x_lo <= abs(x_hi) * 1e-9:  # one position: put it in the middle
        half = max(0.5, abs(x_hi) * 1e-6)
        x_lo, x_hi = x_lo - half, x_hi + half
    x_pad = 0.3 if x_hi - x_lo >= 1 else (x_hi - x_lo) * 0.05
    x_min, x_max = x_lo - x_pad, x_hi + x_pad

    # Top block: title, then legend.
    title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
    title_h = c.block_h(len(title_lines), _TITLE, bold=True)
    handles: list[Any] = []
    labels: list[str] = []
    for s, _, _, color in prepared:
        handles.append(
            Line2D(
                [],
                [],
                color=color,
                linestyle=_DASHES[s.style],
                linewidth=1.8,
                **(_marker_style(s.style, color, 4.5) if s.markers else {}),
            )
        )
        labels.append(_plain(s.label))
    for b, *_, color in band_data:
        handles.append(Patch(facecolor=color, alpha=0.18, linewidth=0))
        labels.append(_plain(b.label))
    legend, _, legend_h = c.legend(handles, labels, max_w=W - 2 * _PAD) if handles else (None, 0.0, 0.0)

    # Left and right: y tick labels and the y label, x labels at the ends.
    line_h = c.line_h()
    bottom = _PAD + 3 + 2.5 + c.block_h(max((n.count("\n") + 1 for n in x_names), default=1))
    top_fixed = _PAD + title_h + (_GAP if title_lines else 0) + (legend_h + _GAP if legend else 0)
    widths = [c.text_w(name) for name in x_names]
    row_step = line_h + 2
    plot_h = max(H - top_fixed - bottom - row_step, 60.0)
    # Ticks depend on the plot's height, which depends on the rule labels' rows, which
    # depend on the left margin, which depends on the ticks: twice round settles it.
    for _ in range(2):
        ticks, tick_labels = _fit_ticks(c, lo, hi, y_format, room=plot_h, vertical=True)
        y_label_lines = c.wrap(y_label, _TEXT, plot_h) if y_label else []
        left = (
            _PAD
            + max((c.text_w(t) for t in tick_labels), default=0.0)
            + 4
            + (c.block_h(len(y_label_lines)) + 4 if y_label else 0)
        )
        if widths:
            left = max(left, _PAD + widths[0] / 2)
        right = max(_PAD, _PAD + (widths[-1] / 2 if widths else 0.0))
        left, right = min(left, W * 0.45), min(right, W * 0.2)  # long custom labels must not squeeze the plot away
        ax_w = W - left - right
        # Labels of the vertical rules sit above the plot, stacked if they would touch.
        spans, aligns = [], []
        for x, text in rules:
            w = c.text_w(text)
            at = left + (x - x_min) / (x_max - x_min) * ax_w
            a, ha = at - w / 2, "center"
            if a + w > W - _PAD:
                a, ha = at - w, "right"
            elif a < _PAD:
                a, ha = at, "left"
            spans.append((a, a + w))
            aligns.append(ha)
        rows = _stack_labels([s for s, (_, t) in zip(spans, rules) if t])
        n_rows = (max(rows) + 1) if rows else 0
        top = top_fixed + (n_rows * row_step + 2 if n_rows else 0)
        plot_h = max(H - top - bottom, 60.0)
    if H - top - bottom < 60:  # a short chart grows rather than lose its plot
        H = top + bottom + 60
        fig.set_size_inches(W / 72, H / 72)
    ax = fig.add_axes((left / W, bottom / H, ax_w / W, plot_h / H))
    ax.set_xlim(x_min, x_max)
    y0, y1 = ticks[0], ticks[-1]
    ax.set_ylim(y0, y1)
    ax.set_yticks(ticks, labels=tick_labels)
    if y_label:
        ax.set_ylabel("\n".join(y_label_lines), labelpad=4)

    c.title(title_lines, height=H)
    if legend is not None:
        legend.set_bbox_to_anchor((_PAD / W, 1 - (_PAD + title_h + (_GAP if title_lines else 0)) / H), transform=fig.transFigure)

    # X labels, thinned so they never touch (52 weekly labels would).
    if x_names:
        spacing = ax_w / (x_max - x_min)
        widest = max(widths)
        stride = max(1, math.ceil((widest + 6) / spacing)) if spacing > 0 else len(x_names)
        shown = list(range(0, len(x_names), stride))
        last = len(x_names) - 1
        if shown[-1] != last and (last - shown[-1]) * spacing >= (widths[last] + widths[shown[-1]]) / 2 + 6:
            shown.append(last)
        ax.set_xticks([float(i) for i in shown], labels=[x_names[i] for i in shown])
    else:
        ax.set_xticks([])

    # Bands under everything else, so lines stay crisp on top.
    for k, (_, xs, lows, highs, color) in enumerate(band_data):
        gid = c.gid(f"band-{k}", "band")
        known = [a is not None and b is not None for a, b in zip(lows, highs)]
        lone = [
            i for i, ok in enumerate(known) if ok and not (i > 0 and known[i - 1]) and not (i + 1 < len(known) and known[i + 1])
        ]
        if any(known):
            ax.fill_between(
                xs,
                [a if ok else 0.0 for a, ok in zip(lows, known)],
                [b if ok else 0.0 for b, ok in zip(highs, known)],
                where=known,
                color=color,
                alpha=0.18,
                linewidth=0,
                zorder=1,
                gid=gid,
            )
        if lone:
            ax.vlines(
                [xs[i] for i in lone],
                [lows[i] for i in lone],
                [highs[i] for i in lone],
                colors=color,
                alpha=0.3,
                linewidth=6,
                zorder=1,
                gid=c.gid(f"band-{k}-points", "band"),
            )

    if zero_line and y0 <= 0 <= y1:
        ax.axhline(0.0, color=_ZERO, linewidth=1.0, zorder=1.5, gid=c.gid("zero-line", "zero-line"))

    for k, (x, _label) in enumerate(rules):
        ax.axvline(x, color=_RULE, linewidth=1.0, linestyle=(0, (3, 3)), zorder=1.6, gid=c.gid(f"vline-{k}", "vline"))
    labelled = [(k, x, text) for k, (x, text) in enumerate(rules) if text]
    for (k, x, text), row in zip(labelled, rows):
        ax.annotate(
            text,
            xy=(x, 1),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, 3 + row * row_step),
            textcoords="offset points",
            ha=aligns[k],
            va="bottom",
            color=_MUTED,
            annotation_clip=False,
            gid=c.gid(f"vline-label-{k}", "vline-label"),
        )

    # Dots on every point of a 52-week line are clutter; dash patterns still tell lines apart.
    spacing_pt = ax_w / (x_max - x_min)
    show_markers = spacing_pt >= 9
    for k, (s, xs, ys, color) in enumerate(prepared):
        gid = c.gid(f"series-{k}", "series")
        style = _marker_style(s.style, color, 4.5) if s.markers and show_markers else {}
        ax.plot(
            _nan(xs),
            _nan(ys),
            color=color,
            linestyle=_DASHES[s.style],
            linewidth=1.8,
            zorder=3,
            dash_capstyle="round" if s.style == "dotted" else "butt",
            gid=gid,
            **style,
        )
        if not style:
            # A lone known point has no line, so it gets a dot even when markers are off.
            runs = [r for r in _runs(xs, ys) if len(r) == 1]
            if runs:
                ax.plot(
                    [r[0][0] for r in runs],
                    [r[0][1] for r in runs],
                    linestyle="none",
                    zorder=3,
                    gid=c.gid(f"series-{k}-points", "series"),
                    **_marker_style(s.style, color, 5.5),
                )

    # Annotations: the corner whose label crosses no line and no other label.
    bounds = ax.get_window_extent(c.renderer)
    segments = _segments(ax)
    placed: list[tuple[float, float, float, float]] = []
    for k, (m, mx, my) in enumerate(notes):
        ax.plot(
            [mx],
            [my],
            linestyle="none",
            marker="o",
            markersize=7,
            markerfacecolor="#ffffff",
            markeredgecolor=_INK,
            markeredgewidth=1.4,
            zorder=4,
            gid=c.gid(f"annotation-{k}", "annotation"),
        )
        label = ax.annotate(
            _plain(m.label),
            xy=(mx, my),
            xytext=(6, 5),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontweight="bold",
            zorder=5,
            gid=c.gid(f"annotation-label-{k}", "annotation-label"),
        )
        best = None
        for dx, dy, ha, va in _ANNOTATION_SPOTS:
            label.set_position((dx, dy))
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)
            box = _box(label, c.renderer, pad=1.0)
            outside = (box[0] < bounds.x0) + (box[2] > bounds.x1) + (box[1] < bounds.y0) + (box[3] > bounds.y1)
            score = 100 * outside + sum(_segment_hits_box(seg, box) for seg in segments)
            score += 10 * sum(_boxes_overlap(box, other) for other in placed)
            if best is None or score < best[0]:
                best = (score, dx, dy, ha, va, box)
            if score == 0:
                break
        assert best is not None
        _, dx, dy, ha, va, box = best
        label.set_position((dx, dy))
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        if math.hypot(dx, dy) > 14:  # a label further off gets a thin leader back to its point
            gid = label.get_gid()
            label.remove()
            ax.annotate(
                _plain(m.label),
                xy=(mx, my),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontweight="bold",
                zorder=5,
                gid=gid,
                arrowprops={"arrowstyle": "-", "color": _MUTED, "linewidth": 0.7, "shrinkA": 1, "shrinkB": 4},
            )
        placed.append(box)

    if not has_data:
        ax.text(
            0.5,
            0.5,
            "No data yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=9,
            gid=c.gid("no-data", "no-data"),
        )
    return c.finish(title=title, desc=desc, caption=caption)


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

    An unknown value is an empty hatched slot labelled "to come", never a zero
    bar. Each bar is labelled with its value; long names wrap under their bar.

    >>> c = bar_chart(title="Savings by quarter", labels=["Q1", "Q2", "Q3"], values=[12_000, -3_000, None])
    >>> c.svg.count('class="bar"'), c.svg.count('class="to-come"')
    (2, 1)
    """
    title, y_label, missing_label = _plain(title), _plain(y_label), _plain(missing_label)
    names = [_plain(s) for s in labels]
    vals = _clean(values)
    n = max(len(names), len(vals))
    names += [""] * (n - len(names))
    vals += [None] * (n - len(vals))
    palette = [str(c) for c in colors] if colors else []
    uid = _uid(
        "bar", title, names, vals, palette, width, height, y_label, missing_label, [y_format(v) for v in (-1234.5, 0, 0.5, 1e6)]
    )
    if not desc:
        items = [
            f"{name or f'bar {i + 1}'} {missing_label if v is None else y_format(v)}"
            for i, (name, v) in enumerate(zip(names, vals))
        ]
        desc = f"{title}. " * bool(title) + ("Bar chart: " + "; ".join(items) if items else "Bar chart with no bars") + "."
    with _house(uid):
        return _draw_bar(
            uid,
            title=title,
            names=names,
            vals=vals,
            palette=palette,
            y_format=y_format,
            y_label=y_label,
            missing_label=missing_label,
            caption=caption,
            size=_size(width, height, min_width=200),
            desc=desc,
        )


def _draw_bar(
    uid: str,
    *,
    title: str,
    names: list[str],
    vals: list[float | None],
    palette: list[str],
    y_format: Callable[[float], str],
    y_label: str,
    missing_label: str,
    caption: str,
    size: tuple[float, float, float],
    desc: str,
) -> Svg:
    W, H, mm = size
    c = _Canvas(uid, W, H, mm)
    fig = c.fig
    n = len(vals)
    known = [v for v in vals if v is not None]
    lo, hi = min(known + [0.0]), max(known + [0.0])
    if not known:
        hi = 1.0

    title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
    title_h = c.block_h(len(title_lines), _TITLE, bold=True)
    line_h = c.line_h()
    top = _PAD + title_h + (_GAP if title_lines else 0) + 2

    # Room under the plot: names wrap to up to three lines under their bar, else every k-th shows.
    rough_left = _PAD + c.text_w(str(y_format(hi))) + 30
    slot = (W - rough_left - _PAD) / max(n, 1)
    wrapped = [c.wrap(t, _TEXT, slot - 4, break_words=False) for t in names]
    fits = all(len(w) <= 3 and all(c.text_w(line) <= slot - 4 for line in w) for w in wrapped)
    if not fits:
        wrapped = [[" ".join(t.split())] for t in names]
    label_lines = max((len(w) for w in wrapped), default=1)
    bottom = _PAD + 3 + 2.5 + c.block_h(label_lines)
    plot_h = H - top - bottom
    if plot_h < 60:
        H = top + bottom + 60
        plot_h = 60.0
        fig.set_size_inches(W / 72, H / 72)

    # Headroom for the value labels above (and below) the longest bars, in points made data.
    ticks, tick_labels = _fit_ticks(c, lo, hi, y_format, room=plot_h, vertical=True)
    for _ in range(2):
        unit = (ticks[-1] - ticks[0]) / plot_h
        need_hi = hi + (line_h + 4) * unit if known and hi > 0 else hi
        need_lo = lo - (line_h + 4) * unit if known and lo < 0 else lo
        if need_hi <= ticks[-1] and need_lo >= ticks[0]:
            break
        ticks, tick_labels = _fit_ticks(c, need_lo, need_hi, y_format, room=plot_h, vertical=True)
    y0, y1 = ticks[0], ticks[-1]
    y_label_lines = c.wrap(y_label, _TEXT, plot_h) if y_label else []
    left = _PAD + max((c.text_w(t) for t in tick_labels), default=0.0) + 4 + (c.block_h(len(y_label_lines)) + 4 if y_label else 0)
    left = min(left, W * 0.4)
    ax_w = W - left - _PAD
    slot = ax_w / max(n, 1)
    ax = fig.add_axes((left / W, bottom / H, ax_w / W, plot_h / H))
    ax.set_xlim(-0.5, max(n, 1) - 0.5)
    ax.set_ylim(y0, y1)
    ax.set_yticks(ticks, labels=tick_labels)
    if y_label:
        ax.set_ylabel("\n".join(y_label_lines), labelpad=4)
    c.title(title_lines, height=H)

    # X labels: all of them when they fit their slot, else thinned so none touch.
    texts = ["\n".join(w) for w in wrapped]
    widest = max((c.text_w(t) for t in texts), default=0.0)
    stride = 1 if fits else max(1, math.ceil((widest + 6) / max(slot, 1e-9)))
    shown = [i for i in range(n) if i % stride == 0]
    ax.set_xticks([float(i) for i in shown], labels=[texts[i] for i in shown])
    ax.tick_params(axis="x", length=0, pad=5.5)

    bar_w = min(0.68, 90.0 / max(slot, 1e-9))
    bar_w_pt = bar_w * slot
    zero = 0.0 if y0 <= 0 <= y1 else y0
    for i, v in enumerate(vals):
        if v is None:
            ax.bar(
                i,
                y1 - y0,
                bottom=y0,
                width=bar_w,
                facecolor="#ffffff",
                edgecolor="#9aa3ad",
                hatch="////",
                linestyle=(0, (4, 3)),
                linewidth=0.8,
                zorder=1,
                gid=c.gid(f"to-come-{i}", "to-come"),
            )
            # The words go in the taller part of the slot, clear of the zero line.
            upper, lower = y1 - zero, zero - y0
            cy = (zero + y1) / 2 if upper >= lower else (y0 + zero) / 2
            upright = c.text_w(missing_label) + 4 > bar_w_pt
            ax.text(
                i,
                cy,
                missing_label,
                ha="center",
                va="center",
                rotation=90 if upright else 0,
                color=_MUTED,
                zorder=4,
                backgroundcolor="#ffffff",
                gid=c.gid(f"to-come-label-{i}", "to-come-label"),
            )
            continue
        color = _color(palette[i % len(palette)], PALETTE[0]) if palette else (PALETTE[0] if v >= 0 else PALETTE[1])
        ax.bar(i, v - zero, bottom=zero, width=bar_w, color=color, zorder=2, gid=c.gid(f"bar-{i}", "bar"))
        text = str(y_format(v))
        if c.text_w(text) <= slot - 3:
            ax.annotate(
                text,
                xy=(i, v),
                xytext=(0, 2 if v >= 0 else -2),
                textcoords="offset points",
                ha="center",
                va="bottom" if v >= 0 else "top",
                zorder=4,
                gid=c.gid(f"value-{i}", "value-label"),
            )
    if y0 <= 0 <= y1:
        ax.axhline(0.0, color=_ZERO, linewidth=1.0, zorder=3, gid=c.gid("zero-line", "zero-line"))
    if n == 0:
        ax.text(
            0.5,
            0.5,
            "No data yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=9,
            gid=c.gid("no-data", "no-data"),
        )
    return c.finish(title=title, desc=desc, caption=caption)


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
    line marks the base result. Factor names wrap, never cut; ``height`` (CSS
    px) is a minimum, the chart grows with its rows.

    >>> c = tornado_chart(title="NPV sensitivity", base=100,
    ...                   rows=[("Price", 80, 130), ("Churn", 95, 104), ("Seats", 60, 150)])
    >>> c.svg.count('class="tornado-bar low"'), c.svg.index(">Seats<") < c.svg.index(">Price<") < c.svg.index(">Churn<")
    (3, True)
    """
    title, low_label, high_label, base_label = _plain(title), _plain(low_label), _plain(high_label), _plain(base_label)
    base_value = _clean([base])[0]
    cleaned = []
    for row in rows:
        label, low, high = (list(row) + [None, None, None])[:3]
        lo_r, hi_r = _clean([low, high])
        cleaned.append((_plain(label), lo_r, hi_r))
    ref = base_value if base_value is not None else 0.0

    def swing(row: tuple[str, float | None, float | None]) -> float:
        _, a, b = row
        if a is not None and b is not None:
            return abs(b - a)
        known = a if a is not None else b
        return abs(known - ref) if known is not None else 0.0

    ordered = sorted(cleaned, key=swing, reverse=True)  # stable: ties keep input order
    uid = _uid(
        "tornado",
        title,
        base_value,
        ordered,
        width,
        height,
        low_label,
        high_label,
        base_label,
        [x_format(v) for v in (-1234.5, 0, 0.5, 1e6)],
    )
    if not desc:

        def fmt(v: float | None) -> str:
            return "unknown" if v is None else str(x_format(v))

        items = [f"{label}: {fmt(a)} (low) to {fmt(b)} (high)" for label, a, b in ordered]
        desc = (
            f"{title}. " * bool(title)
            + f"Tornado chart around {base_label.lower()} {fmt(base_value)}, widest swing first: "
            + ("; ".join(items) if items else "no factors")
            + "."
        )
    with _house(uid):
        return _draw_tornado(
            uid,
            title=title,
            base_value=base_value,
            ref=ref,
            ordered=ordered,
            x_format=x_format,
            caption=caption,
            size=_size(width, height or 0, min_width=240),
            low_label=low_label,
            high_label=high_label,
            base_label=base_label,
            desc=desc,
        )


def _draw_tornado(
    uid: str,
    *,
    title: str,
    base_value: float | None,
    ref: float,
    ordered: list,
    x_format: Callable[[float], str],
    caption: str,
    size: tuple[float, float, float],
    low_label: str,
    high_label: str,
    base_label: str,
    desc: str,
) -> Svg:
    from matplotlib.patches import Patch

    W, H_min, mm = size
    c = _Canvas(uid, W, H_min, mm)
    fig = c.fig
    low_color, high_color = PALETTE[4], PALETTE[0]
    n = len(ordered)

    title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
    title_h = c.block_h(len(title_lines), _TITLE, bold=True)
    legend, _, legend_h = c.legend(
        [Patch(facecolor=low_color), Patch(facecolor=high_color)], [low_label, high_label], max_w=W - 2 * _PAD
    )
    line_h = c.line_h()
    base_text = f"{base_label}: {x_format(ref)}" if base_value is not None and ordered else ""
    top = _PAD + title_h + (_GAP if title_lines else 0) + legend_h + _GAP + (line_h + 5 if base_text else 0)
    bottom = _PAD + 3 + 2.5 + line_h

    # Factor names in a column on the left, wrapped to at most 38 % of the width.
    wrapped = [c.wrap(label, _TEXT, W * 0.38) for label, _, _ in ordered]
    label_w = max((c.text_w(line) for w in wrapped for line in w), default=0.0)
    lines = max((len(w) for w in wrapped), default=1)
    row_h = max(20.0, c.block_h(lines) + 8)
    plot_h = max(n, 1) * row_h
    H = max(H_min, top + plot_h + bottom)
    plot_h = H - top - bottom
    fig.set_size_inches(W / 72, H / 72)
    left = _PAD + label_w + 6
    right = _PAD
    ax_w = W - left - right

    values = [v for _, a, b in ordered for v in (a, b) if v is not None] + [ref]
    # Value labels go outside the bar ends: keep room for the widest on each side.
    low_w = max((c.text_w(str(x_format(v))) for v in values if v < ref), default=0.0)
    high_w = max((c.text_w(str(x_format(v))) for v in values if v > ref), default=0.0)
    inner_l, inner_r = (low_w + 5 if low_w else 0.0), (high_w + 5 if high_w else 0.0)
    if ax_w - inner_l - inner_r < 40:
        inner_l = inner_r = 0.0
    ticks, tick_labels = _fit_ticks(c, min(values), max(values), x_format, room=ax_w - inner_l - inner_r, vertical=False)
    # The end ticks' labels are centred on them: keep them inside the picture.
    right = max(right, c.text_w(tick_labels[-1]) / 2 - inner_r + 1)
    left = max(left, c.text_w(tick_labels[0]) / 2 - inner_l + 1)
    ax_w = W - left - right
    t0, t1 = ticks[0], ticks[-1]
    unit = (t1 - t0) / (ax_w - inner_l - inner_r)
    ax = fig.add_axes((left / W, bottom / H, ax_w / W, plot_h / H))
    ax.set_xlim(t0 - inner_l * unit, t1 + inner_r * unit)
    ax.set_ylim(max(n, 1) - 0.5, -0.5)  # widest swing on top
    ax.set_xticks(ticks, labels=tick_labels)
    ax.set_yticks(list(range(n)), labels=["\n".join(w) for w in wrapped])
    ax.tick_params(axis="y", labelcolor=_INK, length=0, pad=6)
    ax.grid(False, axis="y")
    ax.grid(True, axis="x")
    c.title(title_lines, height=H)
    legend.set_bbox_to_anchor((_PAD / W, 1 - (_PAD + title_h + (_GAP if title_lines else 0)) / H), transform=fig.transFigure)

    bar_h = min(0.62, 16.0 / row_h)
    for i, (_, a, b) in enumerate(ordered):
        ends = [(v, low_color if side == "low" else high_color, side) for v, side in ((a, "low"), (b, "high")) if v is not None]
        # The longer bar first so a shorter one on the same side stays visible on top.
        ends.sort(key=lambda e: -abs(e[0] - ref))
        for v, color, side in ends:
            ax.barh(
                i,
                v - ref,
                left=ref,
                height=bar_h,
                color=color,
                edgecolor="#ffffff",
                linewidth=0.5,
                zorder=2,
                gid=c.gid(f"bar-{i}-{side}", f"tornado-bar {side}"),
            )
        labelled_sides: set[bool] = set()
        for v, _, side in ends:  # outermost first; an inner end on the same side stays unlabelled
            if v == ref or (v > ref) in labelled_sides:
                continue
            labelled_sides.add(v > ref)
            ax.annotate(
                str(x_format(v)),
                xy=(v, i),
                xytext=(3 if v > ref else -3, 0),
                textcoords="offset points",
                ha="left" if v > ref else "right",
                va="center",
                zorder=4,
                gid=c.gid(f"value-{i}-{side}", "value-label"),
            )
    if ordered:
        ax.axvline(ref, color=_INK, linewidth=1.3, zorder=3, gid=c.gid("base-line", "base-line"))
    if base_text and ordered:
        w = c.text_w(base_text, bold=True)
        bx = left + (ref - ax.get_xlim()[0]) / (ax.get_xlim()[1] - ax.get_xlim()[0]) * ax_w
        ha = "right" if bx + w / 2 > W - _PAD else ("left" if bx - w / 2 < _PAD else "center")
        ax.annotate(
            base_text,
            xy=(ref, 1),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, 3),
            textcoords="offset points",
            ha=ha,
            va="bottom",
            fontweight="bold",
            annotation_clip=False,
            gid=c.gid("base-label", "base-label"),
        )
    if not ordered:
        ax.text(
            0.5,
            0.5,
            "No factors yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=9,
            gid=c.gid("no-data", "no-data"),
        )
    return c.finish(title=title, desc=desc, caption=caption)


# ------------------------------------------------------------- small multiples


def small_multiples(charts: Sequence[Svg], *, columns: int = 2) -> str:
    """Charts side by side in a CSS grid, e.g. one small chart per KPI.

    Draw the charts half-width (``width`` under 600) for two columns and
    third-width (under 400) for three, so their text prints at its size.

    >>> html_ = small_multiples([Svg("<svg/>"), Svg("<svg/>")], columns=3)
    >>> html_.startswith('<div class="chart-grid"') and html_.count("<figure") == 2
    True
    """
    columns = max(1, int(columns))
    # minmax(0, 1fr) lets SVGs shrink instead of overflowing the page.
    style = f"display: grid; grid-template-columns: repeat({columns}, minmax(0, 1fr)); gap: 1rem 1.5rem; align-items: start"
    return f'<div class="chart-grid" style="{style}">' + "".join(str(c) for c in charts) + "</div>"


# ---------------------------------------------------------------- rows of dots (timelines, stages)


@dataclass(frozen=True)
class Dot:
    """A point on a row: ``kind`` "done" (solid), "planned" (hollow) or "late" (solid, the warning colour)."""

    x: float
    kind: str = "done"


_DOT_KINDS = {"done": PALETTE[0], "planned": PALETTE[0], "late": PALETTE[1]}


def rows_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, Sequence[Dot]]],
    x_ticks: Sequence[tuple[float, str]],
    legend: Sequence[tuple[str, str]] = (("done", "Held"), ("planned", "Planned"), ("late", "Late")),
    vlines: Sequence[tuple[float, str]] = (),
    caption: str = "",
    width: int = 720,
    row_height: float = 15.0,
    desc: str = "",
) -> Svg:
    """One row a thing (a moment, a stage), its dots along a shared axis, joined by a thin line.

    A timeline uses day numbers on the axis (planned hollow, held solid, a rule for today); the
    stages chart uses days (expected hollow, actual solid). ``x_ticks`` are (position, label);
    ``legend`` lists the (kind, words) shown.

    >>> c = rows_chart(title="Moments", rows=[("Kick-off", [Dot(3, "planned"), Dot(5)])],
    ...                x_ticks=[(0, "Jan"), (31, "Feb")], vlines=[(10, "today")])
    >>> c.svg.count('class="dot"'), "Kick-off" in c.svg
    (2, True)
    """
    title = _plain(title)
    names = [_plain(name) for name, _ in rows]
    dots = [[(float(d.x), d.kind if d.kind in _DOT_KINDS else "done") for d in ds if math.isfinite(float(d.x))] for _, ds in rows]
    ticks = [(float(x), _plain(t)) for x, t in x_ticks]
    rules = [(float(x), _plain(t)) for x, t in vlines]
    kinds = [(k, _plain(words)) for k, words in legend if any(kind == k for row in dots for _, kind in row)]
    uid = _uid("rows", title, names, dots, ticks, rules, kinds, width, row_height)
    if not desc:
        label = dict(kinds)
        items = [
            f"{name}: " + ", ".join(f"{label.get(kind, kind).lower()} {_x_tick_name(x, ticks)}" for x, kind in row)
            for name, row in zip(names, dots, strict=True)
            if row
        ]
        desc = f"{title}. " * bool(title) + ("; ".join(items) or "No rows yet") + "."
    W, _, mm = _size(width, 100, min_width=240)
    with _house(uid):
        c = _Canvas(uid, W, 100, mm)
        fig = c.fig
        title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
        top = _PAD + c.block_h(len(title_lines), _TITLE, bold=True) + (_GAP if title_lines else 0)
        handles = []
        from matplotlib.lines import Line2D

        for kind, _ in kinds:
            color = _DOT_KINDS[kind]
            face = "#ffffff" if kind == "planned" else color
            handles.append(
                Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor=face, markeredgecolor=color)
            )
        legend_h = 0.0
        if handles:
            leg, _, legend_h = c.legend(handles, [w for _, w in kinds], max_w=W - 2 * _PAD)
        label_w = min(max((c.text_w(n) for n in names), default=0.0) + 6, W * 0.38)
        rule_h = c.line_h() + 3 if rules else 0.0
        bottom = _PAD + c.line_h() + 6
        plot_h = max(row_height * max(len(rows), 1), 30.0)
        H = top + legend_h + (_GAP if handles else 0) + rule_h + plot_h + bottom
        fig.set_size_inches(W / 72, H / 72)
        left = _PAD + label_w
        ax = fig.add_axes((left / W, bottom / H, (W - left - _PAD - 4) / W, plot_h / H))
        xs = [x for row in dots for x, _ in row] + [x for x, _ in ticks] + [x for x, _ in rules]
        lo, hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
        pad = (hi - lo) * 0.03 or 1.0
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_yticks(range(len(rows)), labels=names)
        ax.tick_params(axis="y", length=0)
        ax.set_xticks([x for x, _ in ticks], labels=[t for _, t in ticks])
        ax.grid(axis="y", visible=False)
        if handles:
            leg.set_bbox_to_anchor((_PAD / W, 1 - (top) / H), transform=fig.transFigure)
        c.title(title_lines, height=H)
        for i, row in enumerate(dots):
            if len(row) > 1:
                ax.plot(
                    [min(x for x, _ in row), max(x for x, _ in row)],
                    [i, i],
                    color="#b8c0c8",
                    linewidth=1.2,
                    zorder=1,
                    gid=c.gid(f"join-{i}", "join"),
                )
            for j, (x, kind) in enumerate(row):
                color = _DOT_KINDS[kind]
                ax.plot(
                    [x],
                    [i],
                    linestyle="none",
                    marker="o",
                    markersize=6,
                    markeredgewidth=1.4,
                    markeredgecolor=color,
                    markerfacecolor="#ffffff" if kind == "planned" else color,
                    zorder=3,
                    gid=c.gid(f"dot-{i}-{j}", "dot"),
                )
        for k, (x, text) in enumerate(rules):
            ax.axvline(x, color=_RULE, linewidth=1.0, linestyle=(0, (3, 3)), zorder=1.6, gid=c.gid(f"vline-{k}", "vline"))
            ax.annotate(
                text,
                xy=(x, -0.5),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color=_MUTED,
                annotation_clip=False,
                gid=c.gid(f"vline-label-{k}", "vline-label"),
            )
        if not rows:
            ax.text(
                0.5,
                0.5,
                "No data yet",
                transform=ax.transAxes,
                ha="center",
                va="center",
                color=_MUTED,
                gid=c.gid("no-data", "no-data"),
            )
        return c.finish(title=title, desc=desc, caption=caption)


def _x_tick_name(x: float, ticks: Sequence[tuple[float, str]]) -> str:
    """The tick label at ``x`` when there is one, else the number."""
    return next((t for at, t in ticks if abs(at - x) < 1e-9), f"{x:g}")
