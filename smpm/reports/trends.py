"""Trend charts of a report (`TrendReport.trends`): one small inline SVG line chart per row.

Each chart shows a value over the periods as a line with a dot per period (a gap where the
period has no value) and its thresholds as dashed lines across, so a capacity level's approach
to its warning and critical thresholds reads at a glance. Plain SVG with presentation
attributes: no script, no stylesheet, no external asset; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from procedures.capacity.trend import Trend, TrendReport

WIDTH, HEIGHT = 340, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 86, 12, 30
LINE, DOT = "#4a78b5", "#2f5a94"
LABEL_GAP = 12  # pixels between threshold labels, about a line of 11px text
THRESHOLD_COLOURS = {"critical": "#c0392b", "warning": "#e08e0b"}


def render_trends(report: TrendReport) -> str:
    """The report's trend charts as one HTML section; empty when it has none."""
    if not report.trends:
        return ""
    charts = "".join(_figure(trend) for trend in report.trends)
    return (
        f"<h2>{escape(report.trends_title)}</h2>"
        f'<div style="display:flex;flex-wrap:wrap;gap:1em">{charts}</div>'
    )


def _figure(trend: Trend) -> str:
    return (
        f'<figure style="margin:0"><figcaption>{escape(trend.label)}</figcaption>'
        f"{_svg(trend)}</figure>"
    )


def _top(trend: Trend) -> float:
    """The scale's top: 15% above the highest value or threshold, rounded up to 2 digits."""
    known = [v for v in trend.values if v is not None] + [t for _, t in trend.thresholds]
    if not known or max(known) <= 0:
        return 1.0
    wanted = max(known) * 1.15
    step = 10 ** math.floor(math.log10(wanted)) / 10
    return math.ceil(wanted / step) * step


def _bottom(trend: Trend, top: float) -> float:
    """The scale's bottom: 0, or a round number below the lowest value or threshold where they
    all sit high (a level climbing from 71% to 93% should not be drawn as a flat line)."""
    known = [v for v in trend.values if v is not None] + [t for _, t in trend.thresholds]
    if not known or min(known) <= 0:
        return 0.0
    step = 10 ** math.floor(math.log10(top)) / 10
    return max(0.0, math.floor(min(known) * 0.8 / step) * step)


def _svg(trend: Trend) -> str:
    top = _top(trend)
    bottom = _bottom(trend, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(trend.periods)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (max(bottom, value) - bottom) / (top - bottom))

    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#8a96a3"/>',
        _text(LEFT - 6, TOP + plot_h + 4, _number(bottom, trend.unit), "end"),
        _text(LEFT - 6, TOP + 4, _number(top, trend.unit), "end"),
    ]
    label_y = -math.inf  # thresholds close together (warning 90, critical 95) keep labels apart
    for name, value in sorted(trend.thresholds, key=lambda t: -t[1]):
        colour = THRESHOLD_COLOURS.get(name, "#5b6878")
        label_y = max(y(value) + 4, label_y + LABEL_GAP)
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" y2="{y(value):.1f}" '
            f'stroke="{colour}" stroke-dasharray="5 3"/>'
            + _text(LEFT + plot_w + 4, label_y, f"{name} {_number(value, trend.unit)}")
        )
    parts += _line(trend, x, y)
    parts += _period_labels(trend, x, TOP + plot_h + 16)
    label = escape(f"{trend.label} over {n} periods")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{label}">{"".join(parts)}</svg>'
    )


Scale = Callable[[int], float]
Level = Callable[[float], float]


def _line(trend: Trend, x: Scale, y: Level) -> list[str]:
    """Polylines through consecutive known values, and a dot with a tooltip per value."""
    runs: list[list[str]] = [[]]
    dots = []
    for i, value in enumerate(trend.values):
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        tip = escape(f"{trend.periods[i]}: {_number(value, trend.unit)}")
        dots.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{DOT}"><title>{tip}</title>'
            "</circle>"
        )
    lines = [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{LINE}" stroke-width="2"/>'
        for run in runs
        if len(run) > 1
    ]
    return lines + dots


def _period_labels(trend: Trend, x: Scale, baseline: float) -> list[str]:
    """The first and last period (and every one when there are few)."""
    n = len(trend.periods)
    shown = range(n) if n <= 4 else (0, n - 1)
    return [_text(x(i), baseline, trend.periods[i], "middle") for i in shown]


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11">{escape(text)}</text>'
    )


def _number(value: float, unit: str) -> str:
    shown = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{shown}{unit}" if unit in ("%", "") else f"{shown} {unit}"
