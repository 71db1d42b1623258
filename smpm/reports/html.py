"""A review report as one self-contained HTML page: inline CSS, an inline SVG bar chart, no
scripts and no external assets, so it opens from a mail attachment or a file share as it is.

Every piece of text from the ITSM or a monitoring tool (summaries, job names) is escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from procedures.capacity.trend import TrendReport
from procedures.charts import ChartedReport
from procedures.event.report import Cell, ReportTable
from smpm.reports.charts import render_charts
from smpm.reports.trends import render_trends
from smpm.store import utcnow

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d2733; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.period, footer { color: #5b6878; }
.figures { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 1.2em 0; padding: 0; }
.figures li { list-style: none; border: 1px solid #d5dbe3; border-radius: 6px;
  padding: 0.5em 0.9em; }
.figures b { display: block; font-size: 1.4em; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border-bottom: 1px solid #e3e7ec; padding: 0.3em 0.6em; text-align: left;
  vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.prose { min-width: 22em; }
tr.flagged td { background: #fff3e0; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2733; }
svg rect { fill: #4a78b5; }
""".strip()

BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH = 18, 6, 260, 360
PROSE = 40  # characters: longer cell texts get a column wide enough to read


def render_html(report: ReportTable, as_of: datetime, written_at: datetime | None = None) -> str:
    """The page for `report`, whose figures are counted up to `as_of`; the footer says that
    moment and, apart from it, when the page was written (`written_at`, default: now)."""
    written = utcnow() if written_at is None else written_at
    period = str(report.period)
    if f"{as_of:%Y%m%d%H%M}" != f"{report.period.end:%Y%m%d%H%M}":
        period += f", as of {as_of:%Y-%m-%d %H:%M} UTC"
    footer = f"As of {as_of:%Y-%m-%d %H:%M} UTC. Written by smpm at {written:%Y-%m-%d %H:%M} UTC."
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.title)}: {escape(str(report.period))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="period">{escape(period)}</p>',
        f"<p>{escape(report.intro)}</p>",
        _figures(report),
        _chart(report),
        render_trends(report) if isinstance(report, TrendReport) else "",
        render_charts(report) if isinstance(report, ChartedReport) else "",
        _table(report),
        f"<footer><p>{footer}</p></footer>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _figures(report: ReportTable) -> str:
    if not report.figures:
        return ""
    items = "".join(
        f"<li><b>{escape(_text(value))}</b>{escape(name)}</li>" for name, value in report.figures
    )
    return f'<ul class="figures">{items}</ul>'


def _chart(report: ReportTable) -> str:
    """Horizontal bars, one per chart entry, scaled to the largest value."""
    if not report.chart:
        return ""
    top = max(value for _, value in report.chart) or 1.0
    step = BAR_HEIGHT + GAP
    height = step * len(report.chart)
    width = LABEL_WIDTH + BAR_WIDTH + 60
    bars = []
    for n, (label, value) in enumerate(report.chart):
        y = n * step
        length = max(1.0, BAR_WIDTH * value / top)
        bars.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end">'
            f"{escape(_clip(label, 40))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 13}">{value:g}</text>'
        )
    return (
        f"<h2>{escape(report.chart_title)}</h2>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(report.chart_title)}">{"".join(bars)}</svg>'
    )


def _table(report: ReportTable) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in report.columns)
    if not report.rows:
        return f"<table><tr>{head}</tr></table><p>Nothing to review in this period.</p>"
    lines = []
    for n, row in enumerate(report.rows):
        flagged = bool(report.flagged) and report.flagged[n]
        cells = "".join(_cell(value) for value in row)
        lines.append(f'<tr class="flagged">{cells}</tr>' if flagged else f"<tr>{cells}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    return f'<div class="table">{table}</div>'


def _cell(value: Cell) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{escape(_text(value))}</td>'
    text = _text(value)
    if len(text) > PROSE:  # a sentence (a reason, a list of requests): not squeezed to a sliver
        return f'<td class="prose">{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def _text(value: Cell) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
