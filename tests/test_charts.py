"""Tests for csm_nb.render.charts: the charts in the customer reports.

The charts are drawn by matplotlib. What is drawn (line data with its gaps,
markers, dash patterns, colours, bands, ticks, legend, bars) is read off the
Figure behind each chart, kept with ``keep_figures``; what the reader gets
(well-formed, self-contained, escaped, deterministic SVG, text kept as text)
is read off the SVG. Layout on A4 (overlaps, print sizes, every line in the
legend) is measured in tests/test_chart_layout.py, not here.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure

from csm_nb.render.charts import (
    PALETTE,
    Band,
    Marker,
    Series,
    Svg,
    bar_chart,
    keep_figures,
    line_chart,
    nice_ticks,
    small_multiples,
    tornado_chart,
)
from csm_nb.vocabulary import compact_number

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
NS = {"svg": SVG_NS}
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

EST = [-20000, -40000, -48000, -54000, -56000, -54000, -49000, -39000, -14000, 8000, 26000, 40000, 52000]
ACT = [-20000, -40000, -50344, -58004, -57804, -49404, -45374, -37724, None, None, None, None, None]
WEEKS = [f"Week {i}" for i in range(13)]
BAND_LOW = [v - abs(v) * 0.1 for v in EST]
BAND_HIGH = [v + abs(v) * 0.1 for v in EST]
PAYBACK_X = 8 + 14000 / 22000


def parse(chart: Svg) -> ET.Element:
    return ET.fromstring(chart.svg)


def cash_chart(**overrides: object) -> Svg:
    options: dict[str, object] = dict(
        title="Cumulative net cash flow, estimated vs actual",
        x_labels=WEEKS,
        series=[Series("Estimated", EST, style="dashed"), Series("Actual", ACT)],
        bands=[Band("Estimate ±10 %", BAND_LOW, BAND_HIGH)],
        markers=[Marker(x=PAYBACK_X, y=0, label="estimated payback")],
        y_label="USD",
        caption="The shaded band is the estimate's ±10 % accuracy.",
    )
    options.update(overrides)
    return line_chart(**options)  # type: ignore[arg-type]


def draw(make: Callable[[], Svg]) -> tuple[Svg, Figure]:
    """The chart and the matplotlib Figure it was saved from."""
    with keep_figures() as kept:
        chart = make()
    assert len(kept) == 1 and kept[0][0] is chart
    return chart, kept[0][1]


def artists(chart: Svg, fig: Figure, name: str) -> list[Any]:
    """The figure's artists drawn for ``name`` (e.g. "series-0"): their gid is the chart's id plus it."""
    gid = f"{parse(chart).get('id')}-{name}"
    return fig.findobj(lambda a: a.get_gid() == gid)


def artist(chart: Svg, fig: Figure, name: str) -> Any:
    (found,) = artists(chart, fig, name)
    return found


def group(chart: Svg, name: str) -> ET.Element:
    """The SVG group written for the artist ``name`` (its id is the chart's id plus it)."""
    root = parse(chart)
    found = root.find(f".//svg:g[@id='{root.get('id')}-{name}']", NS)
    assert found is not None, name
    return found


def has_group(chart: Svg, name: str) -> bool:
    root = parse(chart)
    return root.find(f".//svg:g[@id='{root.get('id')}-{name}']", NS) is not None


def style(el: ET.Element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (el.get("style") or "").split(";") if ":" in part)
    return {k.strip(): v.strip() for k, v in pairs}


def subpaths(d: str | None) -> list[list[tuple[float, float]]]:
    """An SVG path's runs of points: every M (move) starts a new run."""
    runs: list[list[tuple[float, float]]] = []
    for cmd, x, y in re.findall(r"([ML]) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)", d or ""):
        if cmd == "M":
            runs.append([])
        runs[-1].append((float(x), float(y)))
    return runs


def line_path(chart: Svg, name: str) -> ET.Element:
    """The path a line is stroked with (its markers' shapes sit in <defs>, not here)."""
    path = group(chart, name).find("svg:path", NS)
    assert path is not None
    return path


def marker_points(chart: Svg, name: str) -> list[tuple[float, float]]:
    """Where the markers of ``name`` are stamped (each is a <use> of one shape)."""
    return [(float(u.get("x", "nan")), float(u.get("y", "nan"))) for u in group(chart, name).iterfind(".//svg:use", NS)]


def zero_line_y(chart: Svg) -> float:
    (run,) = subpaths(line_path(chart, "zero-line").get("d"))
    assert run[0][1] == run[-1][1]  # horizontal
    return run[0][1]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{SVG_NS}}}text")]


def group_text(chart: Svg, name: str) -> str:
    return "\n".join(texts(group(chart, name)))


def with_gaps(values: Any) -> list[float | None]:
    """Plotted data with NaN (matplotlib's gap) read back as None."""
    return [None if math.isnan(v) else float(v) for v in values]


def same_colour(a: Any, b: Any) -> bool:
    return to_hex(a) == to_hex(b)


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234, "1.2k"),
        (8_100_000, "8.1m"),
        (-20_000, "-20k"),
        (0.5, "0.5"),
        (0, "0"),
        (-0.0, "0"),
        (52_000, "52k"),
        (1_000, "1k"),
        (999, "999"),
        (999_999, "1m"),  # rounds up into the next unit, never "1000k"
        (125_000, "125k"),
        (1_650_000, "1.6m"),
        (2_500_000_000, "2.5bn"),
        (12.34, "12.3"),
        (0.123, "0.12"),
        (-0.001, "0"),
        (float("nan"), "n/a"),
        (float("inf"), "n/a"),
    ],
)
def test_compact_number(value: float, expected: str) -> None:
    assert compact_number(value) == expected


def test_compact_number_decimals_keeps_tick_precision() -> None:
    assert compact_number(1250, decimals=2) == "1.25k"
    assert compact_number(1500, decimals=3) == "1.5k"  # trailing zeros dropped


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 52_000, [0, 20_000, 40_000, 60_000]),
        (-58_004, 52_000, [-60_000, -40_000, -20_000, 0, 20_000, 40_000, 60_000]),
        (-37_724, 0, [-40_000, -30_000, -20_000, -10_000, 0]),
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (0, 7, [0, 2, 4, 6, 8]),
        (-1, 1, [-1, -0.5, 0, 0.5, 1]),
        (1, 3, [1, 1.5, 2, 2.5, 3]),
        (0.001, 0.0042, [0.001, 0.002, 0.003, 0.004, 0.005]),
        (52_000, 0, [0, 20_000, 40_000, 60_000]),  # reversed ends are fine
        (0, 0, [-1, -0.5, 0, 0.5, 1]),  # degenerate: widened, not refused
        (-5, -5, [-5.5, -5, -4.5]),
    ],
)
def test_nice_ticks_table(lo: float, hi: float, expected: list[float]) -> None:
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_nice_ticks_are_clean_decimals() -> None:
    # 0.30000000000000004 would print badly in a custom y_format.
    assert 0.3 in nice_ticks(0.05, 0.95, target=10)


def test_nice_ticks_rejects_non_finite() -> None:
    with pytest.raises(ValueError):
        nice_ticks(0, math.inf)
    with pytest.raises(ValueError):
        nice_ticks(math.nan, 1)


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(finite, finite, st.integers(min_value=2, max_value=10))
def test_nice_ticks_cover_range_evenly(a: float, b: float, target: int) -> None:
    lo, hi = min(a, b), max(a, b)
    ticks = nice_ticks(a, b, target=target)
    assert 2 <= len(ticks) <= 3 * target
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = [t2 - t1 for t1, t2 in zip(ticks, ticks[1:])]
    step = steps[0]
    assert step > 0
    assert all(math.isclose(s, step, rel_tol=1e-5) for s in steps)
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-12)
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))
    if lo < 0 < hi:
        assert 0.0 in ticks


# ---------------------------------------------------------- the SVG itself


def test_line_chart_is_well_formed_accessible_svg() -> None:
    chart = cash_chart()
    root = parse(chart)
    uid = root.get("id", "")
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.get("role") == "img"
    # It scales to its container: a viewBox, width 100 % and no fixed height.
    view_box = [float(v) for v in root.get("viewBox", "").split()]
    assert view_box[:2] == [0, 0] and len(view_box) == 4 and all(0 < v < 2000 for v in view_box[2:])
    assert root.get("width") == "100%" and root.get("height") is None
    assert root.get("preserveAspectRatio")
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and title.text == "Cumulative net cash flow, estimated vs actual"
    assert desc is not None and desc.text is not None
    assert "Estimated (dashed)" in desc.text and "Actual (solid)" in desc.text
    assert "Actual: last known -37.7k at Week 7" in desc.text
    assert set(root.get("aria-labelledby", "").split()) == {title.get("id"), desc.get("id")}
    # The stylesheet matplotlib writes must style this chart only, not the whole HTML page.
    css = "".join(s.text or "" for s in root.iter(f"{{{SVG_NS}}}style"))
    rules = [r.strip() for r in re.findall(r"([^{}]+)\{", css)]
    assert rules and all(r.startswith(f"#{uid} ") for r in rules)


def some_charts() -> list[Svg]:
    return [
        cash_chart(vlines=[(7, "Today")]),
        bar_chart(title="Savings", labels=["a", "b"], values=[1, None]),
        tornado_chart(title="NPV", base=1, rows=[("x", 0, 2)]),
    ]


@pytest.mark.parametrize("kind", ["line", "bar", "tornado"])
def test_chart_is_self_contained(kind: str) -> None:
    chart = dict(zip(["line", "bar", "tornado"], some_charts()))[kind]
    text = str(chart)
    root = parse(chart)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert not tags & {"script", "image", "foreignObject", "a"}
    assert "<script" not in text and "@import" not in text and "@font-face" not in text
    # The only URLs are the SVG and XLink namespace names, which are never fetched.
    assert set(re.findall(r"https?://[^\"'\s]+", text)) <= {SVG_NS, XLINK_NS}
    # Every reference (marker shapes, clip paths, hatch patterns) points inside this SVG.
    ids = {el.get("id") for el in root.iter()} - {None}
    refs = re.findall(r'href="([^"]*)"', text) + re.findall(r"url\(([^)]*)\)", text)
    assert refs and all(r.startswith("#") and r[1:] in ids for r in refs)
    # A generic family last, so a reader without DejaVu Sans never needs a web font.
    assert "sans-serif" in text
    # Text stays text (svg.fonttype none): the title is a <text>, no glyph outlines are written.
    assert chart.title in texts(root)
    assert not any(i.startswith("DejaVu") for i in ids)


def test_figure_wraps_svg_with_caption() -> None:
    chart = cash_chart()
    text = str(chart)
    assert text.startswith('<figure class="chart"') and text.endswith("</figure>")
    assert chart.svg in text
    assert "<figcaption" in text and "estimate&#x27;s ±10 % accuracy" in text
    assert chart._repr_html_() == text
    assert "<figcaption" not in str(cash_chart(caption=""))


def test_every_text_is_escaped() -> None:
    chart = line_chart(
        title=EVIL,
        x_labels=[EVIL, "b"],
        series=[Series(EVIL, [1, 2])],
        bands=[Band(EVIL, [0, 1], [2, 3])],
        markers=[Marker(x=0.5, y=1.5, label=EVIL)],
        y_label=EVIL,
        caption=EVIL,
        vlines=[(1, EVIL)],
    )
    text = str(chart)
    assert "<script" not in text
    assert EVIL_ESCAPED in text
    root = parse(chart)  # still well-formed XML
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    # Shown literally, as typed: title, x label, legend (series, band), annotation, y label, rule label.
    assert texts(root).count(EVIL) == 7


def test_escaping_in_bar_and_tornado() -> None:
    bar = bar_chart(title=EVIL, labels=[EVIL, "b"], values=[1, None], caption=EVIL, missing_label=EVIL)
    tornado = tornado_chart(title=EVIL, base=1, rows=[(EVIL, 0, 2)], caption=EVIL, base_label=EVIL)
    for chart in (bar, tornado):
        assert "<script" not in str(chart)
        assert EVIL_ESCAPED in chart.svg
        assert EVIL in texts(parse(chart))


def test_colour_strings_cannot_break_out_of_attributes() -> None:
    chart, fig = draw(
        lambda: line_chart(title="t", x_labels=["a", "b"], series=[Series("s", [1, 2], color='red"/><script>x</script>')])
    )
    assert "<script" not in chart.svg
    parse(chart)
    # A colour that is not one falls back to the palette rather than reaching the SVG.
    assert same_colour(artist(chart, fig, "series-0").get_color(), PALETTE[0])


def test_invalid_xml_characters_are_dropped() -> None:
    chart = line_chart(title="bell\x07 and null\x00", x_labels=["a\x0b"], series=[Series("s\x1f", [1])])
    root = parse(chart)
    assert root.find("svg:title", NS).text == "bell and null"  # type: ignore[union-attr]
    assert {"bell and null", "a", "s"} <= set(texts(root))


@pytest.mark.parametrize("kind", ["line", "bar", "tornado"])
def test_output_is_deterministic_and_ids_differ_between_charts(kind: str) -> None:
    make: dict[str, Callable[[str], Svg]] = {
        "line": lambda title: cash_chart(title=title),
        "bar": lambda title: bar_chart(title=title, labels=["a", "b"], values=[1, None]),
        "tornado": lambda title: tornado_chart(title=title, base=1, rows=[("x", 0, 2)]),
    }
    assert make[kind]("One").svg == make[kind]("One").svg  # byte for byte
    # Two charts on one page must not share an id (clip paths, markers, hatches are looked up by id).
    ids_a = {el.get("id") for el in parse(make[kind]("One")).iter()} - {None}
    ids_b = {el.get("id") for el in parse(make[kind]("Other")).iter()} - {None}
    assert len(ids_a) >= 3 and not ids_a & ids_b


# ---------------------------------------------------------------- line data


@pytest.mark.parametrize(
    ("values", "runs"),
    [
        ([1, 2, None, 4, 5, 6], [2, 3]),
        ([None, 1, 2, None], [2]),
        ([1, 2, None, None, 5, 6, 7, None, 9, 10], [2, 3, 2]),
    ],
)
def test_gap_splits_line_into_segments(values: list[float | None], runs: list[int]) -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=[str(i) for i in range(len(values))], series=[Series("s", values)]))
    line = artist(chart, fig, "series-0")
    assert with_gaps(line.get_ydata()) == values  # unknown is NaN (a gap), never 0
    assert [len(run) for run in subpaths(line_path(chart, "series-0").get("d"))] == runs


def test_actual_stops_where_data_stops() -> None:
    chart, fig = draw(cash_chart)
    assert with_gaps(artist(chart, fig, "series-1").get_ydata()) == ACT
    assert [len(run) for run in subpaths(line_path(chart, "series-1").get("d"))] == [8]
    assert len(marker_points(chart, "series-1")) == 8
    assert [len(run) for run in subpaths(line_path(chart, "series-0").get("d"))] == [13]
    assert len(marker_points(chart, "series-0")) == 13


@pytest.mark.parametrize("unknown", [None, math.nan, math.inf, -math.inf])
def test_none_is_never_drawn_at_zero(unknown: float | None) -> None:
    values = [10, unknown, 30, unknown, 50]
    chart, fig = draw(lambda: line_chart(title="t", x_labels=list("abcde"), series=[Series("s", values)]))
    assert with_gaps(artist(chart, fig, "series-0").get_ydata()) == [10, None, 30, None, 50]
    y0 = zero_line_y(chart)
    dots = marker_points(chart, "series-0")
    points = [p for run in subpaths(line_path(chart, "series-0").get("d")) for p in run]
    assert len(dots) == 3 and len(points) == 3
    assert all(abs(y - y0) > 1 for _, y in dots + points)


@pytest.mark.parametrize(
    ("n", "values", "lone"),
    [
        # Markers switched off.
        (5, [1, None, 3, None, 5], [(0, 1), (2, 3), (4, 5)]),
        # 60 points are too dense for markers, so they are left off; the lone one still shows.
        (60, [*range(50), None, 60, None, *range(7)], [(51, 60)]),
    ],
)
def test_isolated_point_still_shows_as_marker(n: int, values: list[float | None], lone: list[tuple[float, float]]) -> None:
    chart, fig = draw(
        lambda: line_chart(
            title="t", x_labels=[str(i) for i in range(n)], series=[Series("s", values, markers=n > 5)], zero_line=False
        )
    )
    assert artist(chart, fig, "series-0").get_marker() in ("None", "", None)
    dots = artist(chart, fig, "series-0-points")
    assert dots.get_linestyle() == "None" and dots.get_marker() not in ("None", "", None)
    assert list(zip(dots.get_xdata(), dots.get_ydata())) == lone
    assert len(marker_points(chart, "series-0-points")) == len(lone)


def test_markers_off_draws_only_lines() -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=list("abc"), series=[Series("s", [1, 2, 3], markers=False)]))
    assert artist(chart, fig, "series-0").get_marker() in ("None", "", None)
    assert artists(chart, fig, "series-0-points") == []
    assert [len(run) for run in subpaths(line_path(chart, "series-0").get("d"))] == [3]
    assert marker_points(chart, "series-0") == []


def legend_paths(chart: Svg) -> list[ET.Element]:
    """The legend's swatches in order (a line, or a rectangle for a band)."""
    return [p for g in group(chart, "legend").findall("svg:g", NS) for p in g.findall("svg:path", NS)]


def test_estimated_and_actual_differ_in_dash_and_marker() -> None:
    chart, fig = draw(cash_chart)
    est, act = style(line_path(chart, "series-0")), style(line_path(chart, "series-1"))
    assert "stroke-dasharray" in est and "stroke-dasharray" not in act
    assert (est["stroke"], act["stroke"]) == (PALETTE[0].lower(), PALETTE[1].lower())
    # Hollow estimate dots next to filled actual ones still differ in greyscale.
    est_dot = style(group(chart, "series-0").find(".//svg:use", NS))  # type: ignore[arg-type]
    act_dot = style(group(chart, "series-1").find(".//svg:use", NS))  # type: ignore[arg-type]
    assert est_dot["fill"] == "#ffffff" and est_dot["stroke"] == PALETTE[0].lower()
    assert act_dot["fill"] == PALETTE[1].lower()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Estimated", "Actual", "Estimate ±10 %"]
    # The legend's swatches are drawn like the lines they name.
    swatches = [style(p) for p in legend_paths(chart)]
    assert swatches[0].get("stroke-dasharray") == est["stroke-dasharray"] and swatches[0]["stroke"] == est["stroke"]
    assert "stroke-dasharray" not in swatches[1] and swatches[1]["stroke"] == act["stroke"]


@pytest.mark.parametrize("line_style", ["solid", "dashed", "dotted"])
def test_line_styles_survive_black_and_white_print(line_style: str) -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=list("abc"), series=[Series("s", [1, 3, 2], style=line_style)]))
    stroke = style(line_path(chart, "series-0"))
    width = float(stroke["stroke-width"])
    dashes = [float(v) for v in stroke["stroke-dasharray"].split(",")] if "stroke-dasharray" in stroke else []
    if line_style == "solid":
        assert dashes == []
    elif line_style == "dashed":  # dashes several times the line's width, with gaps between
        assert len(dashes) == 2 and dashes[0] >= 3 * width and dashes[1] >= width
    else:  # dots: no longer than the line is wide, clearly apart
        assert len(dashes) == 2 and dashes[0] <= width and dashes[1] >= 1.5 * width
    assert style(legend_paths(chart)[0]).get("stroke-dasharray") == stroke.get("stroke-dasharray")
    dot = style(group(chart, "series-0").find(".//svg:use", NS))  # type: ignore[arg-type]
    assert (dot["fill"] == "#ffffff") == (line_style == "dashed")  # only estimates are hollow
    assert artist(chart, fig, "series-0").get_marker() == ("s" if line_style == "dotted" else "o")


def points_of(collection: Any) -> set[tuple[float, float]]:
    return {(round(float(x), 6), round(float(y), 6)) for path in collection.get_paths() for x, y in path.vertices}


def test_band_is_drawn_as_area() -> None:
    chart, fig = draw(cash_chart)
    band = artist(chart, fig, "band-0")
    assert len(band.get_paths()) == 1  # one area, no gaps
    expected = {(float(i), round(v, 6)) for i, v in enumerate(BAND_LOW)} | {
        (float(i), round(v, 6)) for i, v in enumerate(BAND_HIGH)
    }
    assert points_of(band) == expected
    # Translucent, in the colour of the line it is around, so that line reads through it.
    (r, g, b, alpha) = band.get_facecolor()[0]
    assert same_colour((r, g, b), PALETTE[0]) and 0 < alpha <= 0.3
    # matplotlib may write the area once in <defs> and <use> it; either way it is one closed path.
    (area,) = group(chart, "band-0").findall(".//svg:path", NS)
    assert (area.get("d") or "").strip().endswith("z")
    assert artists(chart, fig, "band-0-points") == []


def test_band_gaps_are_left_empty() -> None:
    low, high = [1, 1, None, 2, 2, None, 3], [3, 3, None, 4, 4, None, 5]
    chart, fig = draw(lambda: line_chart(title="t", x_labels=list("abcdefg"), series=[], bands=[Band("b", low, high)]))
    known = {(float(i), float(v)) for i, (a, b) in enumerate(zip(low, high)) if a is not None for v in (a, b)}
    # Every corner of the shaded area is a known low or high: nothing at the unknown 2 and 5, nothing at 0.
    assert points_of(artist(chart, fig, "band-0")) <= known
    assert {x for x, _ in points_of(artist(chart, fig, "band-0"))} >= {0.0, 1.0, 3.0, 4.0}
    # The lone known range at 6 has no neighbour to make an area with: it is a thick stroke.
    (stroke,) = artist(chart, fig, "band-0-points").get_segments()
    assert sorted(map(tuple, stroke.tolist())) == [(6.0, 3.0), (6.0, 5.0)]


def y_ticks(fig: Figure) -> tuple[list[float], list[str]]:
    ax = fig.axes[0]
    return [float(t) for t in ax.get_yticks()], [t.get_text() for t in ax.get_yticklabels()]


def test_y_axis_ticks_include_zero_and_use_compact_labels() -> None:
    _, fig = draw(cash_chart)
    ticks, labels = y_ticks(fig)
    assert 0.0 in ticks
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and steps.pop() in {10_000, 20_000, 25_000, 50_000}
    # The axis is the ticks' span, and it holds every line and the band.
    assert fig.axes[0].get_ylim() == (ticks[0], ticks[-1])
    data = [v for v in EST + ACT + BAND_LOW + BAND_HIGH if v is not None]
    assert ticks[0] <= min(data) and max(data) <= ticks[-1]
    assert labels == [f"{t / 1000:g}k" if t else "0" for t in ticks]
    assert {"0", "60k", "-40k"} <= set(labels)


def test_custom_y_format_is_used() -> None:
    def fmt(v: float) -> str:
        return f"${v / 1000:,.0f}k"

    _, fig = draw(lambda: cash_chart(y_format=fmt))
    ticks, labels = y_ticks(fig)
    assert labels == [fmt(t) for t in ticks]
    assert "$-40k" in labels


def test_annotation_and_vline_are_labelled() -> None:
    chart, fig = draw(lambda: cash_chart(vlines=[(7, "Today")]))
    dot = artist(chart, fig, "annotation-0")
    assert (list(dot.get_xdata()), list(dot.get_ydata())) == ([PAYBACK_X], [0])
    label = artist(chart, fig, "annotation-label-0")
    assert label.get_text() == "estimated payback" and label.xy == pytest.approx((PAYBACK_X, 0))
    rule = artist(chart, fig, "vline-0")
    assert list(rule.get_xdata()) == [7, 7] and "stroke-dasharray" in style(line_path(chart, "vline-0"))
    rule_label = artist(chart, fig, "vline-label-0")
    assert rule_label.get_text() == "Today" and rule_label.xy[0] == 7
    assert group_text(chart, "annotation-label-0") == "estimated payback"
    assert group_text(chart, "vline-label-0") == "Today"


def x_labels_shown(fig: Figure) -> list[tuple[float, str]]:
    ax = fig.axes[0]
    return [(float(loc), t.get_text()) for loc, t in zip(ax.get_xticks(), ax.get_xticklabels())]


def test_many_x_labels_are_thinned() -> None:
    # That the shown ones do not overlap is measured in test_chart_layout.py ("52 weeks").
    weeks = [f"Week {i + 1}" for i in range(52)]
    _, fig = draw(lambda: line_chart(title="t", x_labels=weeks, series=[Series("s", list(range(52)))]))
    shown = x_labels_shown(fig)
    assert 5 <= len(shown) < 52
    assert shown[0] == (0.0, "Week 1")
    assert all(text == weeks[int(loc)] for loc, text in shown)  # each name stays at its own week
    steps = {b - a for (a, _), (b, _) in zip(shown[:-1], shown[1:-1])}
    assert len(steps) == 1 and steps.pop() > 1  # every k-th, evenly


def test_few_x_labels_are_all_shown() -> None:
    _, fig = draw(lambda: line_chart(title="t", x_labels=["Q1", "Q2", "Q3", "Q4"], series=[Series("s", [1, 2, 3, 4])]))
    assert x_labels_shown(fig) == [(0.0, "Q1"), (1.0, "Q2"), (2.0, "Q3"), (3.0, "Q4")]


def test_fractional_x_positions() -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=["a", "b", "c"], series=[Series("s", [1, 2], x=[0.5, 1.5])]))
    assert list(artist(chart, fig, "series-0").get_xdata()) == [0.5, 1.5]
    # In the SVG the points sit halfway between the labels' centres.
    label_x = {t.text: float(t.get("x", "nan")) for t in parse(chart).iter(f"{{{SVG_NS}}}text") if t.text in {"a", "b", "c"}}
    ((x1, _), (x2, _)) = subpaths(line_path(chart, "series-0").get("d"))[0]
    assert x1 == pytest.approx((label_x["a"] + label_x["b"]) / 2, abs=0.2)
    assert x2 == pytest.approx((label_x["b"] + label_x["c"]) / 2, abs=0.2)


GEOMETRY = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "d", "transform", "viewBox")


def assert_finite_geometry(root: ET.Element) -> None:
    for el in root.iter():
        for name in GEOMETRY:
            value = el.get(name)
            if value is not None:
                assert "nan" not in value.lower() and "inf" not in value.lower(), (el.tag, name, value)


@pytest.mark.parametrize("zero", [True, False])
@pytest.mark.parametrize(
    "series",
    [
        [],
        [Series("empty", [])],
        [Series("unknown", [None, None, None])],
        [Series("nan", [float("nan"), float("inf"), None])],
        [Series("one", [42])],
        [Series("flat", [5, 5, 5, 5])],
        [Series("zeros", [0, 0, 0])],
        [Series("negative flat", [-3, -3])],
    ],
    ids=lambda s: s[0].label if s else "none",
)
def test_degenerate_line_input_does_not_crash(series: list[Series], zero: bool) -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=["a", "b", "c"], series=series, zero_line=zero))
    ticks, labels = y_ticks(fig)
    assert len(ticks) >= 2 and all(math.isfinite(t) for t in ticks)
    assert all(a < b for a, b in zip(ticks, ticks[1:]))
    assert all(labels) and len(set(labels)) == len(labels)  # every tick reads differently
    known = [float(v) for s in series for v in s.values if v is not None and math.isfinite(v)]
    assert all(ticks[0] <= v <= ticks[-1] for v in known)
    assert bool(artists(chart, fig, "zero-line")) == zero  # with the zero line on, 0 is always in range
    assert_finite_geometry(parse(chart))


def test_no_data_is_said_not_drawn() -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=[], series=[Series("s", [None, None])]))
    assert artist(chart, fig, "no-data").get_text() == "No data yet"
    assert group_text(chart, "no-data") == "No data yet"
    assert with_gaps(artist(chart, fig, "series-0").get_ydata()) == [None, None]
    assert subpaths(line_path(chart, "series-0").get("d")) == [] and marker_points(chart, "series-0") == []


def test_bad_style_is_refused() -> None:
    with pytest.raises(ValueError, match="dashed"):
        Series("s", [1], style="wavy")


def test_default_colours_are_okabe_ito_and_distinct() -> None:
    assert len(set(PALETTE)) == len(PALETTE) == 8
    # Nine lines: the ninth starts the palette again.
    chart, fig = draw(lambda: line_chart(title="t", x_labels=["a"], series=[Series(str(i), [i]) for i in range(9)]))
    expected = [*PALETTE, PALETTE[0]]
    assert [to_hex(artist(chart, fig, f"series-{k}").get_color()) for k in range(9)] == [to_hex(c) for c in expected]
    # SVG's default fill is black, so matplotlib leaves "fill: #000000" out.
    dots = [style(group(chart, f"series-{k}").find(".//svg:use", NS)).get("fill", "#000000") for k in range(9)]  # type: ignore[arg-type]
    assert dots == [c.lower() for c in expected]


def test_explicit_series_colour_is_used() -> None:
    chart, fig = draw(lambda: line_chart(title="t", x_labels=list("ab"), series=[Series("s", [1, 2], color="#5b6672")]))
    assert same_colour(artist(chart, fig, "series-0").get_color(), "#5b6672")
    assert style(line_path(chart, "series-0"))["stroke"] == "#5b6672"


text_st = st.text(max_size=30)
value_st = st.one_of(st.none(), st.floats())  # any float: NaN, infinities and 1e308 included


@settings(max_examples=60, deadline=None)
@given(
    title=text_st,
    x_labels=st.lists(text_st, max_size=60),
    series=st.lists(
        st.builds(
            Series,
            label=text_st,
            values=st.lists(value_st, max_size=60),
            style=st.sampled_from(["solid", "dashed", "dotted"]),
            markers=st.booleans(),
        ),
        max_size=4,
    ),
    band_values=st.lists(st.tuples(value_st, value_st), max_size=60),
    markers=st.lists(st.builds(Marker, x=st.floats(-5, 70), y=st.floats(-1e9, 1e9), label=text_st), max_size=3),
    zero=st.booleans(),
)
def test_line_chart_always_parses(
    title: str,
    x_labels: list[str],
    series: list[Series],
    band_values: list[tuple[float | None, float | None]],
    markers: list[Marker],
    zero: bool,
) -> None:
    bands = [Band("band", [a for a, _ in band_values], [b for _, b in band_values])]
    chart = line_chart(title=title, x_labels=x_labels, series=series, bands=bands, markers=markers, zero_line=zero)
    root = parse(chart)
    assert root.find("svg:title", NS) is not None
    assert_finite_geometry(root)


# ---------------------------------------------------------------- bar chart


def bar_gids(chart: Svg, fig: Figure) -> list[str]:
    prefix = f"{parse(chart).get('id')}-"
    return [(p.get_gid() or "").removeprefix(prefix) for p in fig.axes[0].patches]


def test_bar_chart_to_come_slot() -> None:
    chart, fig = draw(lambda: bar_chart(title="Savings", labels=["Q1", "Q2", "Q3"], values=[12_000, None, -3_000]))
    assert sorted(bar_gids(chart, fig)) == ["bar-0", "bar-2", "to-come-1"]  # no zero-height bar for the unknown
    slot = artist(chart, fig, "to-come-1")
    y0, y1 = fig.axes[0].get_ylim()
    # The empty slot: white, hatched, the full height of the plot, where Q2's bar would be.
    assert slot.get_hatch() and same_colour(slot.get_facecolor(), "#ffffff")
    assert (slot.get_y(), slot.get_height()) == pytest.approx((y0, y1 - y0))
    assert slot.get_x() + slot.get_width() / 2 == pytest.approx(1)
    # The hatch is a pattern defined inside the SVG.
    fill = style(group(chart, "to-come-1").find("svg:path", NS))["fill"]  # type: ignore[arg-type]
    pattern = parse(chart).find(f".//svg:pattern[@id='{fill.removeprefix('url(#').removesuffix(')')}']", NS)
    assert fill.startswith("url(#") and pattern is not None
    assert artist(chart, fig, "to-come-label-1").get_text() == "to come"
    assert group_text(chart, "to-come-label-1") == "to come"
    assert "Q2 to come" in (parse(chart).find("svg:desc", NS).text or "")  # type: ignore[union-attr]


def bar_ys(chart: Svg, name: str) -> tuple[float, float]:
    """Top and bottom of a bar in the SVG (y grows downwards)."""
    (run,) = subpaths(group(chart, name).find("svg:path", NS).get("d"))  # type: ignore[union-attr]
    ys = [y for _, y in run]
    return min(ys), max(ys)


def test_bar_chart_negative_hangs_below_zero() -> None:
    chart, fig = draw(lambda: bar_chart(title="t", labels=["up", "down"], values=[10, -5]))
    up, down = artist(chart, fig, "bar-0"), artist(chart, fig, "bar-1")
    assert (up.get_y(), up.get_height()) == (0, 10) and (down.get_y(), down.get_height()) == (0, -5)
    # Default colours: gains and losses differ.
    assert same_colour(up.get_facecolor(), PALETTE[0]) and same_colour(down.get_facecolor(), PALETTE[1])
    y0 = zero_line_y(chart)
    (up_top, up_bottom), (down_top, down_bottom) = bar_ys(chart, "bar-0"), bar_ys(chart, "bar-1")
    assert up_bottom == pytest.approx(y0, abs=0.2) and down_top == pytest.approx(y0, abs=0.2)
    assert up_bottom - up_top == pytest.approx(2 * (down_bottom - down_top), rel=0.02)
    assert [artist(chart, fig, f"value-{i}").get_text() for i in (0, 1)] == ["10", "-5"]
    # Each value label sits beyond its bar's end, clear of the bar: above the gain, below the loss.
    renderer = RendererSVG(fig.get_figwidth() * 72, fig.get_figheight() * 72, io.StringIO())
    up_label, down_label = (artist(chart, fig, f"value-{i}").get_window_extent(renderer) for i in (0, 1))
    assert up_label.y0 >= up.get_window_extent().y1 and down_label.y1 <= down.get_window_extent().y0


def test_bar_chart_custom_colours_and_label_wrapping() -> None:
    labels = ["Support cost reduction in year one", "b", "c", "d", "e", "f"]
    chart, fig = draw(lambda: bar_chart(title="t", labels=labels, values=[1, 2, 3, 4, 5, 6], colors=["#111111", "#222222"]))
    fills = [to_hex(artist(chart, fig, f"bar-{i}").get_facecolor()) for i in range(6)]
    assert fills == ["#111111", "#222222"] * 3  # colours cycle
    shown = x_labels_shown(fig)
    assert [loc for loc, _ in shown] == [0, 1, 2, 3, 4, 5] and [t for _, t in shown][1:] == ["b", "c", "d", "e", "f"]
    # The long name wraps onto several lines under its bar, every word kept: nothing is cut off.
    long_lines = shown[0][1].split("\n")
    assert len(long_lines) >= 2 and " ".join(long_lines) == labels[0] and "…" not in chart.svg
    assert set(long_lines) <= set(texts(parse(chart)))


@pytest.mark.parametrize(
    ("labels", "values"),
    [
        ([], []),
        (["a"], [None]),
        (["a", "b"], [None, None]),
        (["a"], [0]),
        (["a", "b"], [7, 7]),
        (["a", "b", "c"], [float("nan")]),
        ([f"m{i}" for i in range(60)], list(range(-30, 30))),
    ],
)
def test_bar_chart_degenerate_input(labels: list[str], values: list[float | None]) -> None:
    assert_finite_geometry(parse(bar_chart(title="t", labels=labels, values=values)))


# ------------------------------------------------------------ tornado chart


def rows_top_down(fig: Figure) -> list[str]:
    """The factor names as read from the top of the chart down."""
    ax = fig.axes[0]
    at = [(ax.transData.transform((0, loc))[1], t.get_text()) for loc, t in zip(ax.get_yticks(), ax.get_yticklabels())]
    return [text for _, text in sorted(at, reverse=True)]


def bar_ends(chart: Svg, fig: Figure, row: int) -> dict[str, float]:
    """Where the row's low and high bars end, from the base."""
    ends = {}
    for side in ("low", "high"):
        bar = artist(chart, fig, f"bar-{row}-{side}")
        assert bar.get_y() + bar.get_height() / 2 == pytest.approx(row)  # on the row's own line
        ends[side] = bar.get_x() + bar.get_width()
    return ends


def test_tornado_sorted_by_swing_widest_on_top() -> None:
    rows = [("Price", 90, 110), ("Seats", 50, 150), ("Churn", 101, 99), ("Discount", 70, 120)]
    chart, fig = draw(lambda: tornado_chart(title="NPV sensitivity", base=100, rows=rows))
    assert rows_top_down(fig) == ["Seats", "Discount", "Price", "Churn"]
    # Each row's bars are that factor's, not left in input order.
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    for i, name in enumerate(names):
        _, low, high = next(r for r in rows if r[0] == name)
        assert bar_ends(chart, fig, i) == {"low": low, "high": high}


def test_tornado_ties_keep_input_order() -> None:
    _, fig = draw(lambda: tornado_chart(title="t", base=0, rows=[("b", -1, 1), ("a", 1, -1), ("c", -3, 3)]))
    assert rows_top_down(fig) == ["c", "b", "a"]


def bar_xs(chart: Svg, name: str) -> tuple[float, float]:
    (run,) = subpaths(group(chart, name).find("svg:path", NS).get("d"))  # type: ignore[union-attr]
    xs = [x for x, _ in run]
    return min(xs), max(xs)


def test_tornado_base_line_and_bars() -> None:
    chart, fig = draw(lambda: tornado_chart(title="t", base=100, rows=[("Price", 80, 130)]))
    assert list(artist(chart, fig, "base-line").get_xdata()) == [100, 100]
    low, high = artist(chart, fig, "bar-0-low"), artist(chart, fig, "bar-0-high")
    assert (low.get_x(), low.get_x() + low.get_width()) == (100, 80)
    assert (high.get_x(), high.get_x() + high.get_width()) == (100, 130)
    # Low and high are told apart by colour, and the legend says which is which.
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Factor at its low", "Factor at its high"]
    swatches = [to_rgba(h.get_facecolor()) for h in legend.legend_handles]
    assert swatches == [to_rgba(low.get_facecolor()), to_rgba(high.get_facecolor())]
    assert swatches[0] != swatches[1]
    # In the SVG both bars start at the base line, the high one 1.5 times as long (30 against 20).
    (run,) = subpaths(line_path(chart, "base-line").get("d"))
    bx = run[0][0]
    (low_left, low_right), (high_left, high_right) = bar_xs(chart, "bar-0-low"), bar_xs(chart, "bar-0-high")
    assert low_right == pytest.approx(bx, abs=0.2) and high_left == pytest.approx(bx, abs=0.2)
    assert high_right - high_left == pytest.approx(1.5 * (low_right - low_left), rel=0.02)
    assert group_text(chart, "base-label") == "Base: 100"
    assert sorted(artist(chart, fig, f"value-0-{side}").get_text() for side in ("low", "high")) == ["130", "80"]


@pytest.mark.parametrize(
    "rows",
    [[], [("flat", 5, 5)], [("nan", float("nan"), 7)], [("same side", 110, 120)], [("x", None, None)]],
)
def test_tornado_degenerate_input(rows: list[tuple[str, float | None, float | None]]) -> None:
    assert_finite_geometry(parse(tornado_chart(title="t", base=5, rows=rows)))


def test_tornado_height_grows_with_rows() -> None:
    def height(chart: Svg) -> float:
        return float(parse(chart).get("viewBox", "").split()[3])

    short = tornado_chart(title="t", base=0, rows=[("a", -1, 1)])
    tall = tornado_chart(title="t", base=0, rows=[(str(i), -i, i) for i in range(12)])
    assert height(tall) > height(short)


# ----------------------------------------------------------- small multiples


def test_small_multiples_grid() -> None:
    charts = [bar_chart(title=f"KPI {i}", labels=["a"], values=[i]) for i in range(3)]
    grid = small_multiples(charts, columns=3)
    assert grid.startswith('<div class="chart-grid"') and grid.endswith("</div>")
    assert "repeat(3, minmax(0, 1fr))" in grid
    assert grid.count('<figure class="chart"') == 3
    assert "repeat(1," in small_multiples(charts, columns=0)  # nonsense columns fall back to one
