"""Every chart reads on A4: measured on the matplotlib figure that drew it.

For each chart kind, and for every chart in the example engagements' reports,
the text boxes and lines matplotlib reports (``get_window_extent`` on the
figure the SVG was saved from) must show: no two texts overlap, no text
crosses a plotted line, all text is inside the picture and at least 8 pt when
the chart is printed at its width on A4, every line and bar is in the legend
or labelled, and the SVG is inline, self-contained and keeps its text as text.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from csm_nb.data.engagement import read_engagement
from csm_nb.pages import cash_flow, financial_linkage, kpi_workshop, progress, value_report
from csm_nb.render.charts import (
    FULL_WIDTH_MM,
    HALF_WIDTH_MM,
    THIRD_WIDTH_MM,
    Band,
    Marker,
    Series,
    Svg,
    bar_chart,
    keep_figures,
    line_chart,
    tornado_chart,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MIN_PT = 8.0
PT_PER_MM = 72 / 25.4
Box = tuple[float, float, float, float]

EST = [-20000, -40000, -48000, -54000, -56000, -54000, -49000, -39000, -14000, 8000, 26000, 40000, 52000]
ACT = [-20000, -40000, -50344, -58004, -57804, -49404, -45374, -37724, None, None, None, None, None]
WEEKS = [f"Week {i}" for i in range(13)]


# ------------------------------------------------------------------ measuring


def texts_of(fig: Any) -> list[Any]:
    """Every text matplotlib draws: titles, tick labels, annotations, legend entries."""
    out = [t for t in fig.texts]
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        x0, x1 = sorted(ax.get_xlim())
        y0, y1 = sorted(ax.get_ylim())
        out += [t for t, loc in zip(ax.xaxis.get_majorticklabels(), ax.xaxis.get_majorticklocs()) if x0 <= loc <= x1]
        out += [t for t, loc in zip(ax.yaxis.get_majorticklabels(), ax.yaxis.get_majorticklocs()) if y0 <= loc <= y1]
        out += list(ax.texts)
        if ax.get_legend() is not None:
            out += list(ax.get_legend().get_texts())
    for legend in fig.legends:
        out += list(legend.get_texts())
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def box(text: Any, renderer: Any) -> Box:
    """The box of the text alone (an annotation's own extent would include its leader line)."""
    from matplotlib.text import Annotation, Text

    if isinstance(text, Annotation):
        text.update_positions(renderer)
    b = Text.get_window_extent(text, renderer)
    return (b.x0, b.y0, b.x1, b.y1)


def overlap(a: Box, b: Box, tol: float = 0.25) -> bool:
    return a[0] + tol < b[2] and b[0] + tol < a[2] and a[1] + tol < b[3] and b[1] + tol < a[3]


def plotted_segments(fig: Any) -> list[tuple[float, float, float, float, str]]:
    """Data lines, rules and zero lines (not gridlines) in display points, with their id."""
    import numpy as np

    out = []
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_linestyle() in ("None", "none", "", " ") or not line.get_visible():
                continue
            xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
            for (x1, y1), (x2, y2) in zip(xy, xy[1:]):
                if all(math.isfinite(v) for v in (x1, y1, x2, y2)):
                    out.append((x1, y1, x2, y2, line.get_gid() or ""))
    return out


def crosses(seg: tuple[float, float, float, float, str], b: Box, shrink: float = 0.5) -> bool:
    """Liang-Barsky clip of the segment against the (slightly shrunk) box."""
    x1, y1, x2, y2, _ = seg
    bx0, by0, bx1, by1 = b[0] + shrink, b[1] + shrink, b[2] - shrink, b[3] - shrink
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - bx0), (dx, bx1 - x1), (-dy, y1 - by0), (dy, by1 - y1)):
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


def printed_scale(chart: Svg, fig: Any) -> float:
    """Printed size / figure size: the chart is shown ``chart.width_mm`` wide on A4."""
    return chart.width_mm * PT_PER_MM / (fig.get_figwidth() * 72)


def legend_handles(fig: Any) -> list[Any]:
    handles = []
    for legend in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]:
        handles += list(legend.legend_handles)
    return handles


def layout_problems(chart: Svg, fig: Any) -> list[str]:
    import io

    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    w, h = fig.get_figwidth() * 72, fig.get_figheight() * 72
    renderer = RendererSVG(w, h, io.StringIO())
    problems: list[str] = []
    texts = texts_of(fig)
    boxes = [(t.get_text(), box(t, renderer)) for t in texts]
    scale = printed_scale(chart, fig)
    for t in texts:
        if t.get_fontsize() * scale < MIN_PT - 1e-9:
            problems.append(f"{t.get_text()!r} prints at {t.get_fontsize() * scale:.1f} pt")
    for name, b in boxes:
        if b[0] < -0.5 or b[1] < -0.5 or b[2] > w + 0.5 or b[3] > h + 0.5:
            problems.append(f"{name!r} sticks out of the picture: {b} in {w}x{h}")
    for i, (a_name, a) in enumerate(boxes):
        for b_name, b in boxes[i + 1 :]:
            if overlap(a, b):
                problems.append(f"{a_name!r} overlaps {b_name!r}")
    segments = plotted_segments(fig)
    for name, b in boxes:
        for seg in segments:
            if crosses(seg, b):
                problems.append(f"{name!r} is crossed by line {seg[4]!r}")
                break

    # Every line and bar is in the legend or labelled directly.
    handles = legend_handles(fig)
    handle_keys = {
        (to_hex(hd.get_color()), str(hd.get_linestyle()))
        for hd in handles
        if hasattr(hd, "get_linestyle") and hasattr(hd, "get_color")
    }
    patch_colors = {to_hex(hd.get_facecolor()) for hd in handles if hasattr(hd, "get_facecolor")}
    labels = {t.get_gid() or "" for t in texts}
    for ax in fig.axes:
        for line in ax.get_lines():
            gid = line.get_gid() or ""
            if "-series-" in gid and line.get_linestyle() not in ("None", "none"):
                if (to_hex(line.get_color()), str(line.get_linestyle())) not in handle_keys:
                    problems.append(f"line {gid} has no legend entry")
            elif "-annotation-" in gid:
                if gid.replace("-annotation-", "-annotation-label-") not in labels:
                    problems.append(f"annotation {gid} has no label")
            elif "-vline-" in gid:
                if gid.replace("-vline-", "-vline-label-") not in labels:
                    problems.append(f"vertical rule {gid} has no label")
            elif "-base-line" in gid and not any(g.endswith("-base-label") for g in labels):
                problems.append("the base line has no label")
        for patch in ax.patches:
            gid = patch.get_gid() or ""
            if not isinstance(patch, Rectangle) or not gid:
                continue
            if "-bar-" in gid and gid.endswith(("-low", "-high")):  # tornado: colour in the legend
                if to_hex(patch.get_facecolor()) not in patch_colors:
                    problems.append(f"tornado bar {gid} has a colour the legend lacks")
            elif "-bar-" in gid:
                # Named under it, labelled with its value, or between two named bars of a thinned axis.
                i = int(gid.rsplit("-", 1)[1])
                named = [
                    loc for t, loc in zip(ax.xaxis.get_majorticklabels(), ax.xaxis.get_majorticklocs()) if t.get_text().strip()
                ]
                between = any(a < i < b for a, b in zip(named, named[1:])) or (
                    named and named[-1] < i <= named[-1] + (named[1] - named[0] if len(named) > 1 else 0)
                )
                if i not in named and not between and gid.replace("-bar-", "-value-") not in labels:
                    problems.append(f"bar {gid} has neither a name nor a value label")
            elif "-to-come-" in gid and gid.replace("-to-come-", "-to-come-label-") not in labels:
                problems.append(f"'to come' slot {gid} is not labelled")

    # The SVG: inline, nothing external, the text kept as text.
    svg = chart.svg
    if not svg.startswith("<svg") or "<?xml" in svg or "<!DOCTYPE" in svg:
        problems.append("the SVG is not an inline element")
    if "<script" in svg or "<image" in svg or "@import" in svg or "@font-face" in svg or "<foreignObject" in svg:
        problems.append("the SVG has scripts, images or fonts")
    refs = re.findall(r'href="([^"]*)"', svg) + re.findall(r"url\(([^)]*)\)", svg)
    if any(not r.startswith("#") for r in refs):
        problems.append(f"external references: {[r for r in refs if not r.startswith('#')]}")
    root = ET.fromstring(svg)
    written = "\n".join("".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text"))
    for t in texts:
        for line in t.get_text().split("\n"):
            if line.strip() and line not in written:
                problems.append(f"{line!r} is not in the SVG as text")
    return problems


# ------------------------------------------------------------- the chart kinds


def cash(**overrides: Any) -> Svg:
    options: dict[str, Any] = dict(
        title="Cumulative net cash flow, estimated vs actual",
        x_labels=WEEKS,
        series=[Series("Estimated", EST, style="dashed"), Series("Actual", ACT)],
        bands=[Band("Estimate ±10 %", [v - abs(v) * 0.1 for v in EST], [v + abs(v) * 0.1 for v in EST])],
        markers=[Marker(x=8 + 14000 / 22000, y=0, label="estimated payback")],
        y_label="USD",
    )
    options.update(overrides)
    return line_chart(**options)


def plan_and_actual(*, compact: bool, width: int | None = None) -> Svg:
    """The progress chart: plan reaches 100 % at the deadline, where its rule is."""
    return line_chart(
        title="Order-to-ship time (days) · outcome KPI (lagging)",
        x_labels=[f"Month {i}" if not compact else f"M{i}" for i in range(14)],
        series=[
            Series("Plan (8 % a month)", [i / 12 for i in range(13)], style="dashed", color="#5b6672"),
            Series("Actual", [0, 0.05, 0.12, 0.2, 0.31, 0.38, 0.45, 0.61], color="#0072B2"),
        ],
        markers=[Marker(3.4, 3.4 / 12, "ahead" if compact else "ahead from month 3")],
        vlines=[(12, "deadline"), (13, "target at this rate")],
        y_format=lambda v: f"{v * 100:.0f}%",
        width=width or (460 if compact else 720),
        height=250 if compact else 330,
    )


LONG = "Line-manager engagement rating (0-10) reported by the quarterly pulse survey"

CASES = {
    "cash flow, full width": lambda: cash(),
    "cash flow, half width": lambda: cash(width=460, height=240),
    "cash flow, no band or marker": lambda: cash(bands=[], markers=[]),
    "plan and actual, full width": lambda: plan_and_actual(compact=False),
    "plan and actual, half width": lambda: plan_and_actual(compact=True),
    "plan and actual, third width": lambda: plan_and_actual(compact=True, width=300),
    "52 weeks": lambda: line_chart(
        title="Weekly active seats",
        x_labels=[f"Week {i + 1}" for i in range(52)],
        series=[Series("Seats", [100 + 3 * i for i in range(52)])],
    ),
    "fractional x": lambda: line_chart(title="t", x_labels=["a", "b", "c"], series=[Series("s", [1, 2], x=[0.5, 1.5])]),
    "no data": lambda: line_chart(title="Nothing measured yet", x_labels=["Jan", "Feb"], series=[Series("Actual", [None, None])]),
    "bars with a gap and a loss": lambda: bar_chart(
        title="Savings by quarter", labels=["Q1", "Q2", "Q3", "Q4"], values=[12_000, None, -3_000, 8_000], y_label="USD"
    ),
    "bars with long names": lambda: bar_chart(
        title="Leading candidates by score (of 5)",
        labels=[LONG, "Pulse survey", "Annual survey"],
        values=[4.3, 3.4, 3.0],
        y_format=lambda v: f"{v:g}",
        height=260,
    ),
    "sixty bars": lambda: bar_chart(title="Monthly", labels=[f"m{i}" for i in range(60)], values=list(range(-30, 30))),
    "half-width bars": lambda: bar_chart(title="Score", labels=["Pulse", "Annual"], values=[3.4, None], width=460),
    "tornado with long factor names": lambda: tornado_chart(
        title="Revenue a year from one point: each factor at its own accuracy",
        base=405_000,
        rows=[
            (LONG, 300_000, 520_000),
            ("Revenue per client", 350_000, 460_000),
            ("Margin", 400_000, 410_000),
            ("Same side", 420_000, 440_000),
        ],
        x_format=lambda v: f"${v / 1000:,.0f}k",
        base_label="Agreed",
        low_label="Factor at its low end",
        high_label="Factor at its high end",
    ),
    "tornado, half width": lambda: tornado_chart(title="NPV", base=100, rows=[("Price", 80, 130), ("Seats", 60, 150)], width=460),
    "tornado, no rows": lambda: tornado_chart(title="No factors", base=5, rows=[]),
}


def draw(make: Any) -> tuple[Svg, Any]:
    with keep_figures() as kept:
        chart = make()
    assert len(kept) == 1 and kept[0][0] is chart
    return kept[0]


@pytest.mark.parametrize("name", list(CASES))
def test_chart_kind_reads_on_a4(name: str) -> None:
    chart, fig = draw(CASES[name])
    assert layout_problems(chart, fig) == []


@pytest.mark.parametrize(
    ("name", "width_mm"),
    [
        ("cash flow, full width", FULL_WIDTH_MM),
        ("cash flow, half width", HALF_WIDTH_MM),
        ("plan and actual, half width", HALF_WIDTH_MM),
        ("plan and actual, third width", THIRD_WIDTH_MM),
        ("tornado with long factor names", FULL_WIDTH_MM),
        ("half-width bars", HALF_WIDTH_MM),
    ],
)
def test_figure_is_drawn_at_its_printed_width(name: str, width_mm: float) -> None:
    chart, fig = draw(CASES[name])
    assert chart.width_mm == width_mm
    assert fig.get_figwidth() * 25.4 == pytest.approx(width_mm, abs=0.05)
    view_box = [float(v) for v in ET.fromstring(chart.svg).get("viewBox").split()]
    assert view_box[2] == pytest.approx(fig.get_figwidth() * 72, abs=0.1)  # viewBox units are points
    assert view_box[3] == pytest.approx(fig.get_figheight() * 72, abs=0.1)


def test_the_checks_catch_a_bad_layout() -> None:
    """The measuring helpers find overlaps, crossings and small print when they are there."""
    chart, fig = draw(CASES["cash flow, full width"])
    ax = fig.axes[0]
    ax.text(4, -54_000, "over the lines", fontsize=6)  # on both lines, and too small
    fig.text(0.01, 0.99, "title twin", va="top", fontsize=9)  # on top of the title
    problems = layout_problems(chart, fig)
    assert any("'over the lines' prints at 6.0 pt" == p for p in problems)
    assert any(p.startswith("'over the lines' is crossed by line") for p in problems)
    assert any("'title twin'" in p and "overlaps" in p for p in problems)
    assert any("is not in the SVG as text" in p for p in problems)  # added after saving


def test_a_half_width_chart_shown_full_width_would_be_caught() -> None:
    chart, fig = draw(CASES["cash flow, full width"])
    assert printed_scale(chart, fig) == pytest.approx(1.0)
    squeezed = Svg(chart.svg, width_mm=HALF_WIDTH_MM)
    assert printed_scale(squeezed, fig) == pytest.approx(HALF_WIDTH_MM / FULL_WIDTH_MM)
    assert any("prints at" in p for p in layout_problems(squeezed, fig))


# ------------------------------------------------------- the example reports


CHART_SECTIONS = [
    (cash_flow, ["chart"]),
    (financial_linkage, ["sensitivity"]),
    (kpi_workshop, ["ranking"]),
    (progress, ["charts"]),
    (value_report, ["kpis", "money"]),
]


def example_charts() -> list[tuple[str, Svg, Any]]:
    out = []
    for path in EXAMPLES:
        engagement = read_engagement(path)
        for module, sections in CHART_SECTIONS:
            if not module.applies(engagement):
                continue
            page = module.page_for(engagement)
            for section in sections:
                with keep_figures() as kept:
                    html = str(getattr(page, section)())
                for k, (chart, fig) in enumerate(kept):
                    assert chart.svg in html
                    out.append((f"{path.stem} {module.__name__.rsplit('.', 1)[1]}.{section} #{k}", chart, fig))
    return out


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, Svg, Any]]:
    return example_charts()


def test_the_examples_have_charts_of_every_kind(examples: list[tuple[str, Svg, Any]]) -> None:
    names = [name for name, _, _ in examples]
    assert len(EXAMPLES) == 3
    kinds = {name.split()[1] for name in names}
    assert {
        "cash_flow.chart",
        "financial_linkage.sensitivity",
        "kpi_workshop.ranking",
        "progress.charts",
        "value_report.kpis",
        "value_report.money",
    } <= kinds
    tornado = [c for n, c, _ in examples if "sensitivity" in n]
    assert tornado and all("tornado-bar low" in c.svg for c in tornado)


def test_every_example_chart_reads_on_a4(examples: list[tuple[str, Svg, Any]]) -> None:
    problems = {name: p for name, chart, fig in examples if (p := layout_problems(chart, fig))}
    assert problems == {}


def test_example_grids_use_half_and_third_width_charts(examples: list[tuple[str, Svg, Any]]) -> None:
    """The value report puts two KPI charts to a row, drawn 81 mm wide, and three or more three to
    a row, drawn 56 mm wide (so it prints on one page); its money chart is half width."""
    widths: dict[str, set[float]] = {}
    for name, chart, _ in examples:
        example, kind, _ = name.split()
        widths.setdefault(f"{example} {kind}", set()).add(chart.width_mm)
    assert widths["employee-engagement value_report.kpis"] == {HALF_WIDTH_MM}  # two KPIs
    assert widths["order-to-ship value_report.kpis"] == {THIRD_WIDTH_MM}  # three KPIs

    def of_kind(*kinds: str) -> set[float]:
        return {w for key, ws in widths.items() if key.endswith(kinds) for w in ws}

    assert of_kind("value_report.money") == {HALF_WIDTH_MM}
    assert of_kind("cash_flow.chart", "financial_linkage.sensitivity") == {FULL_WIDTH_MM}
