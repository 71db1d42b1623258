"""Charts of values against targets (`ChartedReport.charts`) as inline SVG, one panel per SLA.

`columns`: a column per period with the target as a dashed tick across it. Availability sits
close to 100%, so a percent axis starts just below the lowest value or target (its bottom is
labelled) rather than at 0, where every column would look the same. `bars`: a horizontal bar per
named value on a 0-100% scale, the target as a dashed tick. A column or bar that missed its
target is red. Plain SVG with inline styles (they win over the page's `svg rect` rule): no
script, no external asset; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from procedures.charts import Chart, ChartedReport, Panel, Point

BLUE, RED, TICK, AXIS = "#4a78b5", "#c0392b", "#1d2733", "#8a96a3"
SLOT, LEFT, TOP, PLOT_H, BOTTOM = 54, 56, 8, 110, 30
LABEL_W, BAR_W, ROW = 230, 200, 20


def render_charts(report: ChartedReport) -> str:
    """Every chart of the report with panels, as HTML sections; empty when there are none."""
    return "".join(_section(chart) for chart in report.charts if chart.panels)


def _section(chart: Chart) -> str:
    draw = _columns if chart.kind == "columns" else _bars
    panels = "".join(
        f'<figure style="margin:0"><figcaption>{escape(p.title)}</figcaption>'
        f"{draw(p, chart.unit)}</figure>"
        for p in chart.panels
    )
    note = f'<p class="period">{escape(chart.note)}</p>' if chart.note else ""
    return (
        f"<h2>{escape(chart.title)}</h2>{note}"
        f'<div style="display:flex;flex-wrap:wrap;gap:1.2em">{panels}</div>'
    )


def _known(panel: Panel) -> list[float]:
    values = [p.value for p in panel.points if p.value is not None]
    return values + [p.target for p in panel.points if p.target is not None]


def scale(panel: Panel, unit: str) -> tuple[float, float]:
    """(bottom, top) of the value axis."""
    known = _known(panel) or [0.0]
    if unit == "%":
        low = min(known)
        bottom = max(0.0, low - max((100 - low) * 0.5, 0.1))
        return math.floor(bottom * 10) / 10, 100.0
    top = max(known) * 1.15
    if all(float(v).is_integer() for v in known):  # counts (outages): a whole number on top
        top = math.ceil(top)
    return 0.0, top if top > 0 else 1.0


def _number(value: float, unit: str) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".") if unit == "%" else f"{value:g}"
    return f"{text}%" if unit == "%" else text


def _columns(panel: Panel, unit: str) -> str:
    bottom, top = scale(panel, unit)
    width = LEFT + SLOT * len(panel.points) + 8
    height = TOP + PLOT_H + BOTTOM

    def y(value: float) -> float:
        share = (min(max(value, bottom), top) - bottom) / (top - bottom)
        return TOP + PLOT_H * (1 - share)

    parts = [
        _text(LEFT - 6, TOP + 4, _number(top, unit), "end"),
        _text(LEFT - 6, TOP + PLOT_H + 4, _number(bottom, unit), "end"),
        f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{width - 8}" y2="{TOP + PLOT_H}" '
        f'stroke="{AXIS}"/>',
    ]
    for n, point in enumerate(panel.points):
        x = LEFT + n * SLOT
        parts.append(_column(point, x, y, unit))
        parts.append(_text(x + SLOT / 2, TOP + PLOT_H + 16, point.label, "middle"))
    label = escape(f"{panel.title}: values against targets")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">{"".join(parts)}</svg>'
    )


def _column(point: Point, x: float, y: Callable[[float], float], unit: str) -> str:
    out = ""
    if point.value is not None:
        top, base = y(point.value), TOP + PLOT_H
        colour = RED if point.missed else BLUE
        tip = escape(f"{point.label}: {_number(point.value, unit)}{_target(point, unit)}")
        out += (
            f'<rect x="{x + 8:.1f}" y="{top:.1f}" width="{SLOT - 16}" '
            f'height="{max(1.0, base - top):.1f}" style="fill:{colour}"><title>{tip}</title></rect>'
        )
    if point.target is not None:
        at = y(point.target)
        out += (
            f'<line x1="{x + 2:.1f}" y1="{at:.1f}" x2="{x + SLOT - 2:.1f}" y2="{at:.1f}" '
            f'stroke="{TICK}" stroke-width="2" stroke-dasharray="4 2"/>'
        )
    return out


def _bars(panel: Panel, unit: str) -> str:
    width, height = LABEL_W + BAR_W + 70, ROW * len(panel.points) + 4
    parts = []
    for n, point in enumerate(panel.points):
        y = n * ROW + 2
        parts.append(_text(LABEL_W - 8, y + 13, _clip(point.label, 34), "end"))
        if point.value is not None:
            length = max(1.0, BAR_W * min(point.value, 100.0) / 100)
            colour = RED if point.missed else BLUE
            tip = escape(f"{point.label}: {_number(point.value, unit)}{_target(point, unit)}")
            parts.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{length:.1f}" height="{ROW - 6}" '
                f'style="fill:{colour}"><title>{tip}</title></rect>'
                + _text(LABEL_W + length + 6, y + 13, _number(point.value, unit))
            )
        if point.target is not None:
            at = LABEL_W + BAR_W * min(point.target, 100.0) / 100
            parts.append(
                f'<line x1="{at:.1f}" y1="{y - 1}" x2="{at:.1f}" y2="{y + ROW - 5}" '
                f'stroke="{TICK}" stroke-width="2" stroke-dasharray="3 2"/>'
            )
    label = escape(f"{panel.title}: values against targets")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">{"".join(parts)}</svg>'
    )


def _target(point: Point, unit: str) -> str:
    return "" if point.target is None else f" (target {_number(point.target, unit)})"


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11">{escape(text)}</text>'
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
