"""The stakeholder map's influence x support grid as an inline SVG, drawn with the house kit of
:mod:`csm_nb.render.charts` (print size, 8 pt text or more, deterministic ids, text kept as text).

Support runs along the bottom (-2 opposed to +2 advocate), influence up the side (1 to 5); each
of the 25 cells holds the names rated there, one under another, each with its dot (solid: in post;
hollow: new). The four quadrants are shaded and named in a band above and below the cells, so a
name never sits on a quadrant's label: influence 3 and up with support 0 or less is "win over",
with support above 0 "keep close"; below 3 "monitor" and "keep informed".

>>> svg = influence_support_grid(title="Who matters", points=[GridPoint("Grace Obi", 5, 1), GridPoint("Lena Holm", 4, -1)])
>>> svg.svg.count('class="dot"'), "Grace Obi" in svg.svg, "Win over" in svg.svg
(2, True, True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from csm_nb.render.charts import _GAP, _MUTED, _PAD, _TEXT, _TITLE, PALETTE, Svg, _Canvas, _house, _plain, _size, _uid

INFLUENCE = (1, 2, 3, 4, 5)
SUPPORT = (-2, -1, 0, 1, 2)
SUPPORT_TICKS = {-2: "opposed", -1: "sceptical", 0: "neutral", 1: "supportive", 2: "advocate"}
# Quadrant: (name, columns of support, the top half or not, its shade). The line between the halves is influence 3.
QUADRANT_AREAS = (
    ("Win over", (-2.5, 0.5), True, "#fbe8d9"),
    ("Keep close", (0.5, 2.5), True, "#dff0e6"),
    ("Monitor", (-2.5, 0.5), False, "#eceef1"),
    ("Keep informed", (0.5, 2.5), False, "#e2ecf6"),
)
_DOT = PALETTE[0]
_DOT_ROOM = 11.0  # points from a cell's left edge to its names: the dot sits in it
_CELL_PAD = 3.0


@dataclass(frozen=True)
class GridPoint:
    """One stakeholder on the grid: influence 1-5, support -2..+2, ``new`` drawn hollow."""

    name: str
    influence: int
    support: int
    new: bool = False


def quadrant_of(influence: int, support: int) -> str:
    """The quadrant's name as the grid shows it.

    >>> quadrant_of(3, 0), quadrant_of(3, 1), quadrant_of(2, 0), quadrant_of(2, 1)
    ('Win over', 'Keep close', 'Monitor', 'Keep informed')
    """
    top = influence >= 3
    return next(name for name, (lo, hi), upper, _ in QUADRANT_AREAS if upper == top and lo < support < hi)


def _wrap_name(c: _Canvas, name: str, max_w: float) -> list[str]:
    """A name in lines no wider than ``max_w``: broken at spaces or after a hyphen, and inside a
    word only when one part alone is wider than the line."""
    parts = [bit for word in name.split() for bit in re.split(r"(?<=-)(?=.)", word)]
    lines: list[str] = []
    for part in parts:
        joined = (lines[-1] + ("" if lines[-1].endswith("-") else " ") + part) if lines else part
        if lines and c.text_w(joined) <= max_w:
            lines[-1] = joined
        elif c.text_w(part) <= max_w:
            lines.append(part)
        else:
            lines.extend(c.wrap(part, _TEXT, max_w))
    return lines or [""]


def influence_support_grid(
    *, title: str, points: Sequence[GridPoint], caption: str = "", width: int = 720, desc: str = ""
) -> Svg:
    """The grid with every point's name in its cell; every row grows to hold the fullest cell's names.

    Always drawn full width (``charts.FULL_WIDTH_MM``): five columns of names need it."""
    title = _plain(title)
    shown = [
        GridPoint(_plain(p.name), int(p.influence), int(p.support), bool(p.new))
        for p in points
        if int(p.influence) in INFLUENCE and int(p.support) in SUPPORT
    ]
    uid = _uid("grid", title, [(p.name, p.influence, p.support, p.new) for p in shown], width)
    if not desc:
        by_quadrant = {
            name: [p.name for p in shown if quadrant_of(p.influence, p.support) == name] for name, *_ in QUADRANT_AREAS
        }
        items = [f"{name}: {', '.join(names)}" for name, names in by_quadrant.items() if names]
        desc = f"{title}. " * bool(title) + ("; ".join(items) or "No one rated yet") + "."
    W, _, mm = _size(width, 100, min_width=600)  # always full width: five columns of names need it
    with _house(uid):
        c = _Canvas(uid, W, 100, mm)
        fig = c.fig
        line_h = c.line_h()
        step = c.block_h(2) - c.block_h(1)  # one more line of text
        title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
        top = _PAD + c.block_h(len(title_lines), _TITLE, bold=True) + (_GAP if title_lines else 0)
        kinds = [(False, "In post"), (True, "New")] if any(p.new for p in shown) else []
        legend_h = 0.0
        if kinds:
            from matplotlib.lines import Line2D

            handles = [
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    markerfacecolor="#ffffff" if new else _DOT,
                    markeredgecolor=_DOT,
                )
                for new, _ in kinds
            ]
            legend, _, legend_h = c.legend(handles, [words for _, words in kinds], max_w=W - 2 * _PAD)
            top += legend_h + _GAP

        # Left: the y label (rotated) and the influence numbers; bottom: two lines of support words and the x label.
        left = _PAD + line_h + 4 + c.text_w("5") + 6
        bottom = _PAD + line_h + 4 + c.block_h(2) + 5
        cell_w = (W - left - _PAD) / len(SUPPORT)
        text_w = cell_w - _DOT_ROOM - _CELL_PAD
        cells: dict[tuple[int, int], list[tuple[GridPoint, list[str]]]] = {}
        for p in shown:
            cells.setdefault((p.influence, p.support), []).append((p, _wrap_name(c, p.name, text_w)))

        def height(block: list[tuple[GridPoint, list[str]]]) -> float:
            lines = sum(len(lines) for _, lines in block)
            return c.block_h(lines) + (len(block) - 1) * (step - line_h + 2) + 2 * _CELL_PAD if lines else 0.0

        cell_h = max([26.0] + [height(block) for block in cells.values()])
        band = line_h + 2 * _CELL_PAD  # the quadrants' names, above and below the cells
        plot_h = cell_h * len(INFLUENCE) + 2 * band
        H = top + plot_h + bottom
        fig.set_size_inches(W / 72, H / 72)
        ax = fig.add_axes((left / W, bottom / H, (W - left - _PAD) / W, plot_h / H))
        band_data = band / cell_h
        y_lo, y_hi = 0.5 - band_data, 5.5 + band_data
        ax.set_xlim(-2.5, 2.5)
        ax.set_ylim(y_lo, y_hi)
        ax.grid(False)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_xticks(list(SUPPORT), labels=[f"{s:+d}\n{SUPPORT_TICKS[s]}" if s else f"0\n{SUPPORT_TICKS[s]}" for s in SUPPORT])
        ax.set_yticks(list(INFLUENCE), labels=[str(i) for i in INFLUENCE])
        ax.tick_params(axis="both", length=0)
        ax.set_xlabel("Support", labelpad=4)
        ax.set_ylabel("Influence", labelpad=4)
        if kinds:
            legend.set_bbox_to_anchor((_PAD / W, 1 - (top - legend_h - _GAP) / H), transform=fig.transFigure)
        if title_lines:
            fig.text(
                _PAD / W,
                1 - _PAD / H,
                "\n".join(title_lines),
                ha="left",
                va="top",
                fontsize=_TITLE,
                fontweight="bold",
                gid=c.gid("title", "title"),
            )

        from matplotlib.patches import Rectangle

        for k, (name, (x0, x1), upper, shade) in enumerate(QUADRANT_AREAS):
            y0, y1 = (2.5, y_hi) if upper else (y_lo, 2.5)
            ax.add_patch(
                Rectangle(
                    (x0, y0),
                    x1 - x0,
                    y1 - y0,
                    facecolor=shade,
                    edgecolor="none",
                    zorder=0,
                    gid=c.gid(f"quadrant-{k}", "quadrant"),
                )
            )
            ax.text(
                (x0 + x1) / 2,
                y_hi - band_data / 2 if upper else y_lo + band_data / 2,
                name,
                ha="center",
                va="center",
                fontweight="bold",
                color="#1d232b",
                gid=c.gid(f"quadrant-label-{k}", "quadrant-label"),
            )
        # Thin white lines between the cells; the quadrants' own edges are where the shades meet.
        for x in (-1.5, -0.5, 1.5):
            ax.plot([x, x], [0.5, 5.5], color="#ffffff", linewidth=1.2, zorder=0.5, gid=c.gid(f"cell-x-{x}", "cell-line"))
        for y in (1.5, 3.5, 4.5):
            ax.plot([-2.5, 2.5], [y, y], color="#ffffff", linewidth=1.2, zorder=0.5, gid=c.gid(f"cell-y-{y}", "cell-line"))

        per_pt_x, per_pt_y = 1 / cell_w, 1 / cell_h
        n = 0
        for (influence, support), block in sorted(cells.items()):
            y = influence + 0.5 - _CELL_PAD * per_pt_y
            for p, lines in block:
                ax.text(
                    support - 0.5 + _DOT_ROOM * per_pt_x,
                    y,
                    "\n".join(lines),
                    ha="left",
                    va="top",
                    color="#1d232b",
                    zorder=3,
                    gid=c.gid(f"name-{n}", "name"),
                )
                ax.plot(
                    [support - 0.5 + (_DOT_ROOM / 2) * per_pt_x],
                    [y - (line_h / 2) * per_pt_y],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    markeredgewidth=1.2,
                    markeredgecolor=_DOT,
                    markerfacecolor="#ffffff" if p.new else _DOT,
                    zorder=3,
                    gid=c.gid(f"dot-{n}", "dot"),
                )
                y -= (c.block_h(len(lines)) + step - line_h + 2) * per_pt_y
                n += 1
        if not shown:
            ax.text(0, 3, "No one rated yet", ha="center", va="center", color=_MUTED, zorder=3, gid=c.gid("no-data", "no-data"))
        return c.finish(title=title, desc=desc, caption=caption)
