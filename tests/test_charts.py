"""Tests for csm_nb.render.charts: the SVG charts in the customer reports."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_nb.render.charts import (
    Band,
    Marker,
    Series,
    Svg,
    bar_chart,
    line_chart,
    nice_ticks,
    small_multiples,
    tornado_chart,
)
from csm_nb.vocabulary import compact_number

NS = {"svg": "http://www.w3.org/2000/svg"}
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

EST = [-20000, -40000, -48000, -54000, -56000, -54000, -49000, -39000, -14000, 8000, 26000, 40000, 52000]
ACT = [-20000, -40000, -50344, -58004, -57804, -49404, -45374, -37724, None, None, None, None, None]
WEEKS = [f"Week {i}" for i in range(13)]


def parse(chart: Svg) -> ET.Element:
    return ET.fromstring(chart.svg)


def cash_chart(**overrides: object) -> Svg:
    options: dict[str, object] = dict(
        title="Cumulative net cash flow, estimated vs actual",
        x_labels=WEEKS,
        series=[Series("Estimated", EST, style="dashed"), Series("Actual", ACT)],
        bands=[Band("Estimate ±10 %", [v - abs(v) * 0.1 for v in EST], [v + abs(v) * 0.1 for v in EST])],
        markers=[Marker(x=8 + 14000 / 22000, y=0, label="estimated payback")],
        y_label="USD",
        caption="The shaded band is the estimate's ±10 % accuracy.",
    )
    options.update(overrides)
    return line_chart(**options)  # type: ignore[arg-type]


def series_group(root: ET.Element, k: int) -> ET.Element:
    group = root.find(f".//svg:g[@data-series='{k}']", NS)
    assert group is not None
    return group


def path_points(d: str) -> list[tuple[float, float]]:
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2]))


def zero_y(root: ET.Element) -> float:
    line = root.find(".//svg:line[@class='zero-line']", NS)
    assert line is not None
    return float(line.get("y1"))


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


# --------------------------------------------------------------- line chart


def test_line_chart_is_well_formed_accessible_svg() -> None:
    chart = cash_chart()
    root = parse(chart)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox") == "0 0 720 340"
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio")
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None and title.text == "Cumulative net cash flow, estimated vs actual"
    assert desc is not None and "Estimated (dashed)" in desc.text and "Actual (solid)" in desc.text
    assert "Actual: last known -37.7k at Week 7" in desc.text
    labelled_by = root.get("aria-labelledby", "").split()
    assert {title.get("id"), desc.get("id")} == set(labelled_by)


def test_chart_is_self_contained() -> None:
    for chart in (cash_chart(), bar_chart(title="b", labels=["a", "b"], values=[1, None]),
                  tornado_chart(title="t", base=1, rows=[("x", 0, 2)])):
        text = str(chart)
        assert "<script" not in text
        assert "href" not in text and "@import" not in text and "@font-face" not in text
        assert re.findall(r"https?://[^\"']+", text) == ["http://www.w3.org/2000/svg"]
        assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", text))
        assert "sans-serif" in text


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
    shown = "".join(el.text or "" for el in root.iter())
    assert "<script>alert(1)</script>" in shown  # the text is shown literally, as typed


def test_escaping_in_bar_and_tornado() -> None:
    bar = bar_chart(title=EVIL, labels=[EVIL, "b"], values=[1, None], caption=EVIL, missing_label=EVIL)
    tornado = tornado_chart(title=EVIL, base=1, rows=[(EVIL, 0, 2)], caption=EVIL, base_label=EVIL)
    for chart in (bar, tornado):
        assert "<script" not in str(chart)
        assert EVIL_ESCAPED in chart.svg
        parse(chart)


def test_colour_strings_cannot_break_out_of_attributes() -> None:
    chart = line_chart(title="t", x_labels=["a", "b"], series=[Series("s", [1, 2], color='red"/><script>x</script>')])
    assert "<script" not in chart.svg
    parse(chart)


def test_invalid_xml_characters_are_dropped() -> None:
    chart = line_chart(title="bell\x07 and null\x00", x_labels=["a\x0b"], series=[Series("s\x1f", [1])])
    assert "bell and null" in chart.svg
    parse(chart)


def test_gap_splits_line_into_segments() -> None:
    root = parse(line_chart(title="t", x_labels=list("abcdef"), series=[Series("s", [1, 2, None, 4, 5, 6])]))
    paths = series_group(root, 0).findall("svg:path", NS)
    assert len(paths) == 2
    assert [len(path_points(p.get("d"))) for p in paths] == [2, 3]


def test_actual_stops_where_data_stops() -> None:
    root = parse(cash_chart())
    actual = series_group(root, 1)
    paths = actual.findall("svg:path", NS)
    assert len(paths) == 1 and len(path_points(paths[0].get("d"))) == 8
    assert len(actual.findall("svg:circle", NS)) == 8
    estimated = series_group(root, 0)
    assert len(path_points(estimated.find("svg:path", NS).get("d"))) == 13


def test_none_is_never_drawn_at_zero() -> None:
    root = parse(line_chart(title="t", x_labels=list("abcde"), series=[Series("s", [10, None, 30, float("nan"), 50])]))
    y0 = zero_y(root)
    group = series_group(root, 0)
    ys = [float(c.get("cy")) for c in group.findall("svg:circle", NS)]
    ys += [y for p in group.findall("svg:path", NS) for _, y in path_points(p.get("d"))]
    assert len(group.findall("svg:circle", NS)) == 3  # NaN counts as unknown too
    assert ys and all(abs(y - y0) > 1 for y in ys)


def test_isolated_point_still_shows_as_marker() -> None:
    root = parse(line_chart(title="t", x_labels=list("abcde"), series=[Series("s", [1, None, 3, None, 5], markers=False)]))
    group = series_group(root, 0)
    assert group.findall("svg:path", NS) == []
    assert len(group.findall("svg:circle", NS)) == 3


def test_markers_off_draws_only_lines() -> None:
    root = parse(line_chart(title="t", x_labels=list("abc"), series=[Series("s", [1, 2, 3], markers=False)]))
    group = series_group(root, 0)
    assert len(group.findall("svg:path", NS)) == 1 and group.findall("svg:circle", NS) == []


def test_estimated_and_actual_differ_in_dash_and_marker() -> None:
    root = parse(cash_chart())
    est_path = series_group(root, 0).find("svg:path", NS)
    act_path = series_group(root, 1).find("svg:path", NS)
    assert est_path.get("stroke-dasharray") and act_path.get("stroke-dasharray") is None
    assert est_path.get("stroke") != act_path.get("stroke")
    est_dot = series_group(root, 0).find("svg:circle", NS)
    act_dot = series_group(root, 1).find("svg:circle", NS)
    assert est_dot.get("fill") == "#ffffff" and act_dot.get("fill") != "#ffffff"  # hollow vs filled in greyscale
    legend_text = [t.text for t in root.findall(".//svg:g[@class='legend']/svg:text", NS)]
    assert legend_text == ["Estimated", "Actual", "Estimate ±10 %"]


def test_band_is_drawn_as_area() -> None:
    root = parse(cash_chart())
    band = root.find(".//svg:g[@data-band='0']", NS)
    areas = band.findall("svg:path", NS)
    assert len(areas) == 1 and areas[0].get("d").endswith("Z")
    assert len(path_points(areas[0].get("d"))) == 26


def test_y_axis_ticks_include_zero_and_use_compact_labels() -> None:
    root = parse(cash_chart())
    labels = [t.text for t in root.findall(".//svg:text[@class='y-tick']", NS)]
    assert "0" in labels and "60k" in labels and "-40k" in labels


def test_custom_y_format_is_used() -> None:
    chart = cash_chart(y_format=lambda v: f"${v / 1000:,.0f}k")
    labels = [t.text for t in parse(chart).findall(".//svg:text[@class='y-tick']", NS)]
    assert "$-40k" in labels


def test_annotation_and_vline_are_labelled() -> None:
    root = parse(cash_chart(vlines=[(7, "Today")]))
    assert [t.text for t in root.findall(".//svg:text[@class='annotation-label']", NS)] == ["estimated payback"]
    assert [t.text for t in root.findall(".//svg:text[@class='vline-label']", NS)] == ["Today"]


def test_many_x_labels_are_thinned_without_overlap() -> None:
    weeks = [f"Week {i + 1}" for i in range(52)]
    root = parse(line_chart(title="t", x_labels=weeks, series=[Series("s", list(range(52)))]))
    labels = root.findall(".//svg:text[@class='x-label']", NS)
    assert 5 <= len(labels) < 52
    assert labels[0].text == "Week 1"
    xs = [float(t.get("x")) for t in labels]
    widest = max(len(t.text) for t in labels) * 11 * 0.6
    assert all(b - a >= widest for a, b in zip(xs, xs[1:]))


def test_few_x_labels_are_all_shown() -> None:
    root = parse(line_chart(title="t", x_labels=["Q1", "Q2", "Q3", "Q4"], series=[Series("s", [1, 2, 3, 4])]))
    assert [t.text for t in root.findall(".//svg:text[@class='x-label']", NS)] == ["Q1", "Q2", "Q3", "Q4"]


def test_fractional_x_positions() -> None:
    root = parse(line_chart(title="t", x_labels=["a", "b", "c"], series=[Series("s", [1, 2], x=[0.5, 1.5])]))
    (path,) = series_group(root, 0).findall("svg:path", NS)
    (x1, _), (x2, _) = path_points(path.get("d"))
    a, b, c = (float(t.get("x")) for t in root.findall(".//svg:text[@class='x-label']", NS))
    assert x1 == pytest.approx((a + b) / 2, abs=0.2) and x2 == pytest.approx((b + c) / 2, abs=0.2)


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
)
def test_degenerate_line_input_does_not_crash(series: list[Series]) -> None:
    for zero in (True, False):
        chart = line_chart(title="t", x_labels=["a", "b", "c"], series=series, zero_line=zero)
        root = parse(chart)
        ticks = root.findall(".//svg:text[@class='y-tick']", NS)
        assert len(ticks) >= 2
        assert_finite_geometry(root)


def test_no_data_is_said_not_drawn() -> None:
    chart = line_chart(title="t", x_labels=[], series=[Series("s", [None, None])])
    assert "No data yet" in chart.svg and 'class="series-line"' not in chart.svg


def test_bad_style_is_refused() -> None:
    with pytest.raises(ValueError, match="dashed"):
        Series("s", [1], style="wavy")


def test_default_colours_are_okabe_ito_and_distinct() -> None:
    chart = line_chart(title="t", x_labels=["a"], series=[Series(str(i), [i]) for i in range(3)])
    colours = [series_group(parse(chart), k).find("svg:circle", NS).get("fill") for k in range(3)]
    assert colours == ["#0072B2", "#D55E00", "#009E73"]


def test_output_is_deterministic_and_ids_differ_between_charts() -> None:
    assert cash_chart().svg == cash_chart().svg
    ids_a = parse(cash_chart()).find("svg:title", NS).get("id")
    ids_b = parse(cash_chart(title="Other")).find("svg:title", NS).get("id")
    assert ids_a != ids_b


text_st = st.text(max_size=30)
value_st = st.one_of(st.none(), st.floats())  # any float: NaN, infinities and 1e308 included


@settings(max_examples=60, deadline=None)
@given(
    title=text_st,
    x_labels=st.lists(text_st, max_size=60),
    series=st.lists(
        st.builds(Series, label=text_st, values=st.lists(value_st, max_size=60),
                  style=st.sampled_from(["solid", "dashed", "dotted"]), markers=st.booleans()),
        max_size=4,
    ),
    band_values=st.lists(st.tuples(value_st, value_st), max_size=60),
    markers=st.lists(st.builds(Marker, x=st.floats(-5, 70), y=st.floats(-1e9, 1e9), label=text_st), max_size=3),
    zero=st.booleans(),
)
def test_line_chart_always_parses(title: str, x_labels: list[str], series: list[Series],
                                  band_values: list[tuple[float | None, float | None]], markers: list[Marker],
                                  zero: bool) -> None:
    bands = [Band("band", [a for a, _ in band_values], [b for _, b in band_values])]
    chart = line_chart(title=title, x_labels=x_labels, series=series, bands=bands, markers=markers, zero_line=zero)
    root = parse(chart)
    assert root.find("svg:title", NS) is not None
    assert_finite_geometry(root)


GEOMETRY = ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "d")


def assert_finite_geometry(root: ET.Element) -> None:
    for el in root.iter():
        for name in GEOMETRY:
            value = el.get(name)
            if value is not None:
                assert "nan" not in value.lower() and "inf" not in value.lower(), (el.tag, name, value)


# ---------------------------------------------------------------- bar chart


def test_bar_chart_to_come_slot() -> None:
    chart = bar_chart(title="Savings", labels=["Q1", "Q2", "Q3"], values=[12_000, None, -3_000])
    root = parse(chart)
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    assert [b.get("data-index") for b in bars] == ["0", "2"]  # no zero-height bar for the unknown
    slots = root.findall(".//svg:rect[@class='to-come']", NS)
    assert [s.get("data-index") for s in slots] == ["1"]
    assert slots[0].get("fill", "").startswith("url(#")
    assert [t.text for t in root.findall(".//svg:text[@class='to-come-label']", NS)] == ["to come"]
    assert "Q2 to come" in root.find("svg:desc", NS).text


def test_bar_chart_negative_hangs_below_zero() -> None:
    root = parse(bar_chart(title="t", labels=["up", "down"], values=[10, -5]))
    y0 = zero_y(root)
    up, down = root.findall(".//svg:rect[@class='bar']", NS)
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(y0, abs=0.2)
    assert float(down.get("y")) == pytest.approx(y0, abs=0.2)
    assert float(up.get("height")) == pytest.approx(2 * float(down.get("height")), rel=0.02)
    assert [t.text for t in root.findall(".//svg:text[@class='value-label']", NS)] == ["10", "-5"]


def test_bar_chart_custom_colours_and_label_wrapping() -> None:
    labels = ["Support cost reduction in year one", "b", "c", "d", "e", "f"]
    root = parse(bar_chart(title="t", labels=labels, values=[1, 2, 3, 4, 5, 6], colors=["#111111", "#222222"]))
    fills = [b.get("fill") for b in root.findall(".//svg:rect[@class='bar']", NS)]
    assert fills == ["#111111", "#222222"] * 3  # colours cycle
    texts = [t.text for t in root.findall(".//svg:text[@class='x-label']", NS)]
    # The long label wraps onto two lines and is cut with an ellipsis rather than overlapping its neighbours.
    assert texts[:2] == ["Support cost", "reduction in year…"] and texts[2:] == ["b", "c", "d", "e", "f"]


@pytest.mark.parametrize(
    ("labels", "values"),
    [([], []), (["a"], [None]), (["a", "b"], [None, None]), (["a"], [0]), (["a", "b"], [7, 7]),
     (["a", "b", "c"], [float("nan")]), ([f"m{i}" for i in range(60)], list(range(-30, 30)))],
)
def test_bar_chart_degenerate_input(labels: list[str], values: list[float | None]) -> None:
    assert_finite_geometry(parse(bar_chart(title="t", labels=labels, values=values)))


# ------------------------------------------------------------ tornado chart


def row_labels(chart: Svg) -> list[str]:
    texts = parse(chart).findall(".//svg:text[@class='row-label']", NS)
    return [t.text for t in sorted(texts, key=lambda t: float(t.get("y")))]


def test_tornado_sorted_by_swing_widest_on_top() -> None:
    chart = tornado_chart(
        title="NPV sensitivity",
        base=100,
        rows=[("Price", 90, 110), ("Seats", 50, 150), ("Churn", 101, 99), ("Discount", 70, 120)],
    )
    assert row_labels(chart) == ["Seats", "Discount", "Price", "Churn"]


def test_tornado_ties_keep_input_order() -> None:
    chart = tornado_chart(title="t", base=0, rows=[("b", -1, 1), ("a", 1, -1), ("c", -3, 3)])
    assert row_labels(chart) == ["c", "b", "a"]


def test_tornado_base_line_and_bars() -> None:
    root = parse(tornado_chart(title="t", base=100, rows=[("Price", 80, 130)]))
    base = root.find(".//svg:line[@class='base-line']", NS)
    bx = float(base.get("x1"))
    low = root.find(".//svg:rect[@class='tornado-bar low']", NS)
    high = root.find(".//svg:rect[@class='tornado-bar high']", NS)
    assert float(low.get("x")) + float(low.get("width")) == pytest.approx(bx, abs=0.2)
    assert float(high.get("x")) == pytest.approx(bx, abs=0.2)
    assert float(high.get("width")) == pytest.approx(1.5 * float(low.get("width")), rel=0.02)
    assert root.find(".//svg:text[@class='base-label']", NS).text == "Base: 100"
    assert sorted(t.text for t in root.findall(".//svg:text[@class='value-label']", NS)) == ["130", "80"]


@pytest.mark.parametrize(
    "rows",
    [[], [("flat", 5, 5)], [("nan", float("nan"), 7)], [("same side", 110, 120)], [("x", None, None)]],
)
def test_tornado_degenerate_input(rows: list) -> None:
    assert_finite_geometry(parse(tornado_chart(title="t", base=5, rows=rows)))


def test_tornado_height_grows_with_rows() -> None:
    short = parse(tornado_chart(title="t", base=0, rows=[("a", -1, 1)]))
    tall = parse(tornado_chart(title="t", base=0, rows=[(str(i), -i, i) for i in range(12)]))
    height = lambda root: float(root.get("viewBox").split()[3])
    assert height(tall) > height(short)


# ----------------------------------------------------------- small multiples


def test_small_multiples_grid() -> None:
    charts = [bar_chart(title=f"KPI {i}", labels=["a"], values=[i]) for i in range(3)]
    grid = small_multiples(charts, columns=3)
    assert grid.startswith('<div class="chart-grid"') and grid.endswith("</div>")
    assert "repeat(3, minmax(0, 1fr))" in grid
    assert grid.count('<figure class="chart"') == 3
    assert "repeat(1," in small_multiples(charts, columns=0)  # nonsense columns fall back to one
