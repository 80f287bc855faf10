"""The health score's band gauge as an inline SVG, drawn with the house kit of
:mod:`csm_nb.render.charts` (print size, 8 pt text or more, deterministic ids, text kept as text).

A bar from 0 to 100 in three bands (red below ``red``, amber, green from ``green``), each named in
words inside it so the bands read in black-and-white print too; the numbers at the band edges under
the bar; the score as a solid triangle over the bar with its value above; the previous run's score,
when given, as a hollow triangle beside it, named in a legend. A score not known yet is said in
words, with no triangle: never drawn as 0.

>>> g = band_gauge(title="Health", score=72.7, previous=75.8)
>>> g.svg.count('class="score"'), "72.7" in g.svg, "Amber" in g.svg, 'class="previous"' in g.svg
(1, True, True, True)
>>> "Not known yet" in band_gauge(title="Health", score=None).svg
True
"""

from __future__ import annotations

from collections.abc import Mapping

from csm_nb.render.charts import _GAP, _INK, _MUTED, _PAD, _TEXT, _TITLE, Svg, _Canvas, _house, _plain, _size, _uid

# Light fills, so the band's name and the triangles in ink stay readable on them.
FILLS = {"red": "#f4c7c3", "amber": "#fbe0a6", "green": "#c9e6d2"}
NAMES = {"red": "Red", "amber": "Amber", "green": "Green"}
_BAR_H = 22.0  # points
_MARK = 9.0  # the triangle's size in points


def band_spans(bands: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """The three bands as (name, from, to) on 0-100, empty ones left out.

    >>> band_spans({"red": 50, "green": 75})
    [('red', 0.0, 50.0), ('amber', 50.0, 75.0), ('green', 75.0, 100.0)]
    >>> band_spans({"red": 0, "green": 75})
    [('amber', 0.0, 75.0), ('green', 75.0, 100.0)]
    """
    red, green = float(bands["red"]), float(bands["green"])
    spans = [("red", 0.0, red), ("amber", red, green), ("green", green, 100.0)]
    return [(name, lo, hi) for name, lo, hi in spans if hi > lo]


def _band_words(name: str, lo: float, hi: float) -> list[str]:
    """The band's label, longest first: the caller takes the first that fits its width."""
    if name == "red":
        long = f"{NAMES[name]}: under {hi:g}"
    elif name == "green":
        long = f"{NAMES[name]}: {lo:g} and over"
    else:
        long = f"{NAMES[name]}: {lo:g} to under {hi:g}"
    return [long, NAMES[name]]


def band_gauge(
    *,
    title: str,
    score: float | None,
    bands: Mapping[str, float] | None = None,
    previous: float | None = None,
    caption: str = "",
    width: int = 720,
    desc: str = "",
) -> Svg:
    """The 0-100 gauge with its bands, the score and (optionally) the previous score.

    ``bands`` are the edges ``{"red": 50, "green": 75}`` (the default). ``width`` under 600 (CSS px)
    draws a half-width gauge.
    """
    title = _plain(title)
    edges = {"red": 50.0, "green": 75.0, **({k: float(v) for k, v in (bands or {}).items()})}
    spans = band_spans(edges)
    shown = None if score is None else min(100.0, max(0.0, float(score)))
    before = None if previous is None else min(100.0, max(0.0, float(previous)))
    uid = _uid("gauge", title, shown, before, sorted(edges.items()), width)
    if not desc:
        where = next((NAMES[n].lower() for n, lo, hi in spans if lo <= (shown or 0) < hi or (hi == 100 and shown == 100)), "")
        desc = f"{title}. " * bool(title) + (
            f"Score {shown:.1f} of 100, in the {where} band." if shown is not None else "Score not known yet."
        )
        desc += " Bands: " + ", ".join(_band_words(n, lo, hi)[0] for n, lo, hi in spans) + "."
        if before is not None:
            desc += f" The previous run scored {before:.1f}."
    W, _, mm = _size(width, 100, min_width=240)
    with _house(uid):
        from matplotlib.lines import Line2D

        c = _Canvas(uid, W, 100, mm)
        fig = c.fig
        title_lines = c.wrap(title, _TITLE, W - 2 * _PAD, bold=True) if title else []
        top = _PAD + c.block_h(len(title_lines), _TITLE, bold=True) + (_GAP if title_lines else 0)
        legend = None
        legend_h = 0.0
        if before is not None:
            handles = [
                Line2D([], [], linestyle="none", marker="v", markersize=_MARK, color=_INK),
                Line2D([], [], linestyle="none", marker="v", markersize=_MARK, markerfacecolor="#ffffff", markeredgecolor=_INK),
            ]
            legend, _, legend_h = c.legend(handles, ["This run", "Previous run"], max_w=W - 2 * _PAD)
            top += legend_h + _GAP
        label_h = c.line_h(_TITLE, bold=True)
        tick_h = c.line_h()
        side = _PAD + 2
        H = top + label_h + 2 + _MARK + _BAR_H + 3 + tick_h + _PAD
        fig.set_size_inches(W / 72, H / 72)
        bar_bottom = _PAD + tick_h + 3
        ax = fig.add_axes((side / W, bar_bottom / H, (W - 2 * side) / W, _BAR_H / H))
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 1)
        ax.set_axis_off()
        ax.set_xticks([])
        ax.set_yticks([])
        if legend is not None:
            legend.set_bbox_to_anchor((_PAD / W, 1 - (top - legend_h - _GAP) / H), transform=fig.transFigure)
        c.title(title_lines, height=H)
        per_unit = (W - 2 * side) / 100.0
        for k, (name, lo, hi) in enumerate(spans):
            ax.axvspan(lo, hi, color=FILLS[name], linewidth=0, zorder=1, gid=c.gid(f"band-{k}", "band"))
            room = (hi - lo) * per_unit - 6
            words = next((w for w in _band_words(name, lo, hi) if c.text_w(w) <= room), None)
            if words:
                ax.text(
                    (lo + hi) / 2,
                    0.5,
                    words,
                    ha="center",
                    va="center",
                    color=_INK,
                    zorder=2,
                    gid=c.gid(f"band-label-{k}", "band-label"),
                )
        # The band edges under the bar; one that would touch the one before it is left out.
        placed: list[tuple[float, float]] = []
        ticks = sorted({0.0, 100.0, *(lo for _, lo, _ in spans), *(hi for _, _, hi in spans)})
        for k, x in enumerate(ticks):
            text = f"{x:g}"
            w = c.text_w(text)
            ha = "left" if x == 0 else ("right" if x == 100 else "center")
            a = side + x * per_unit - {"left": 0, "center": w / 2, "right": w}[ha]
            if any(a < b1 + 4 and a + w > b0 - 4 for b0, b1 in placed):
                continue
            placed.append((a, a + w))
            ax.annotate(
                text,
                xy=(x, 0),
                xytext=(0, -3),
                textcoords="offset points",
                ha=ha,
                va="top",
                color=_MUTED,
                annotation_clip=False,
                gid=c.gid(f"tick-{k}", "tick"),
            )
        if before is not None:
            ax.plot(
                [before],
                [1],
                linestyle="none",
                marker="v",
                markersize=_MARK,
                markerfacecolor="#ffffff",
                markeredgecolor=_INK,
                markeredgewidth=1.2,
                clip_on=False,
                transform=ax.transData + _offset(fig, _MARK / 2),
                zorder=3,
                gid=c.gid("previous", "previous"),
            )
        if shown is not None:
            ax.plot(
                [shown],
                [1],
                linestyle="none",
                marker="v",
                markersize=_MARK,
                color=_INK,
                clip_on=False,
                transform=ax.transData + _offset(fig, _MARK / 2),
                zorder=4,
                gid=c.gid("score", "score"),
            )
            text = f"{shown:.1f}"
            w = c.text_w(text, _TITLE, bold=True)
            at = side + shown * per_unit
            ha = "left" if at - w / 2 < _PAD else ("right" if at + w / 2 > W - _PAD else "center")
            ax.annotate(
                text,
                xy=(shown, 1),
                xytext=(0, _MARK + 2),
                textcoords="offset points",
                ha=ha,
                va="bottom",
                fontsize=_TITLE,
                color=_INK,  # not bold: the chart's title is its one bold line (a reader, and the print check, find it so)
                annotation_clip=False,
                gid=c.gid("score-label", "score-label"),
            )
        else:
            ax.annotate(
                "Not known yet",
                xy=(50, 1),
                xytext=(0, _MARK + 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=_TEXT,
                color=_MUTED,
                annotation_clip=False,
                gid=c.gid("no-score", "no-data"),
            )
        return c.finish(title=title, desc=desc, caption=caption)


def _offset(fig: object, points: float) -> object:
    """A shift up by ``points``: the triangle sits on the bar, its tip on the bar's top edge."""
    from matplotlib.transforms import ScaledTranslation

    return ScaledTranslation(0, points / 72, fig.dpi_scale_trans)  # type: ignore[attr-defined]
