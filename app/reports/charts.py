"""Charts as inline SVG markup, rendered on the server: no JavaScript, no inline style (the CSP forbids it).

Only SVG presentation attributes (`fill`, `width`, …) are used. Each chart has `role="img"` and a `<title>`;
pages put the same numbers in a `<table>` beside it, so nothing is only in the picture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

BAR_COLOUR = "#0b5394"
BAR_MUTED = "#9fb8d6"
LINE_COLOUR = "#a4000f"
GRID_COLOUR = "#d0d7de"
TEXT_COLOUR = "#1f2328"
WIDTH = 640


def _label(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    chart_id: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    highlight: int = 0,
) -> Markup:
    """Horizontal bars, largest first as given; the first `highlight` bars in the strong colour."""
    if not items:
        return Markup("")
    row_h, gap, label_w, value_w = 22, 6, 210, 80
    height = len(items) * (row_h + gap) + gap
    top = max(v for _, v in items) or 1
    span = WIDTH - label_w - value_w
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(items):
        y = gap + i * (row_h + gap)
        w = max(1.0, span * value / top) if value > 0 else 0
        colour = BAR_COLOUR if i < highlight or not highlight else BAR_MUTED
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h * 0.7:.1f}" text-anchor="end" font-size="13" '
            f'fill="{TEXT_COLOUR}">{escape(_label(label))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h}" fill="{colour}" rx="2"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + row_h * 0.7:.1f}" font-size="13" '
            f'fill="{TEXT_COLOUR}">{escape(fmt(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def line_chart(
    points: Sequence[tuple[dt.date, float]],
    *,
    title: str,
    chart_id: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    date_fmt: Callable[[dt.date], str] = lambda d: d.strftime("%d/%m"),
) -> Markup:
    """A line over time with a light grid, the maximum marked, and the first and last dates labelled."""
    if not points:
        return Markup("")
    height, left, right, top_pad, bottom = 220, 56, 16, 16, 28
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    top = max(v for _, v in points) or 1
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    area = f"{x(0):.1f},{y(0):.1f} {coords} {x(n - 1):.1f},{y(0):.1f}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for frac in (0, 0.5, 1):
        gy = y(top * frac)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{gy:.1f}" y2="{gy:.1f}" '
            f'stroke="{GRID_COLOUR}"></line>'
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(fmt(top * frac))}</text>'
        )
    parts.append(f'<polygon points="{area}" fill="{LINE_COLOUR}" fill-opacity="0.12"></polygon>')
    parts.append(
        f'<polyline points="{coords}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2.5"></polyline>'
    )
    peak = max(range(n), key=lambda i: points[i][1])
    parts.append(
        f'<circle cx="{x(peak):.1f}" cy="{y(points[peak][1]):.1f}" r="4" fill="{LINE_COLOUR}"></circle>'
    )
    for i, anchor in ((0, "start"), (n - 1, "end")):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}" font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(date_fmt(points[i][0]))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()
