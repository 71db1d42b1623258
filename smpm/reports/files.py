"""Reports as files: CSV and a self-contained HTML page each, written whole, and listed.

A report is written to `[reports] folder` as `<kind>_<period>.csv` and `.html`. One whose
figures are counted up to a moment other than its period's end (a period under way, or a term
reviewed after it ended) also names that moment: `<kind>_<period>_asof<moment>`. So a report as
of another date (`--at`) is written beside the current one, never over it; only a report of the
same kind, period and moment is replaced.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from connector.errors import ConfigurationError
from procedures.event.report import Cell, ReportTable
from smpm.reports.html import render_html
from smpm.store import utcnow

STAMP = "%Y%m%dT%H%MZ"
_STEM = re.compile(
    r"^(?P<kind>[a-z-]+)_(?P<start>\d{8}T\d{4}Z)-(?P<end>\d{8}T\d{4}Z)"
    r"(?:_asof(?P<as_of>\d{8}T\d{4}Z))?$"
)
# Spreadsheets run cells starting with these as formulas; a leading ' keeps them text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class WrittenReport:
    kind: str
    period: str
    as_of: datetime  # the moment its figures are counted up to
    files: tuple[Path, ...]
    modified: datetime  # when it was written


def write_report(
    report: ReportTable, folder: Path, as_of: datetime, written_at: datetime | None = None
) -> list[Path]:
    """`<folder>/<stem>.csv` and `.html` (`report_stem`), each written whole or not at all;
    `as_of` is the moment the figures are counted up to, `written_at` (default: now) when."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"reports.folder: cannot create {str(folder)!r}: {exc}") from None
    stem = report_stem(report, as_of)
    paths = [folder / f"{stem}.csv", folder / f"{stem}.html"]
    _write(paths[0], render_csv(report))
    _write(paths[1], render_html(report, as_of, written_at or utcnow()))
    return paths


def report_stem(report: ReportTable, as_of: datetime) -> str:
    """Kind and period, and the as-of moment when it is not the period's end."""
    if f"{as_of:{STAMP}}" == f"{report.period.end:{STAMP}}":
        return report.stem
    return f"{report.stem}_asof{as_of:{STAMP}}"


def render_csv(report: ReportTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows([_csv_cell(v) for v in row] for row in report.rows)
    return out.getvalue()


def _csv_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def list_reports(folder: Path) -> list[WrittenReport]:
    """The reports in `folder`, newest first."""
    if not folder.is_dir():
        return []
    groups: dict[str, list[Path]] = {}
    for path in folder.iterdir():
        if path.suffix in (".csv", ".html") and _STEM.match(path.stem):
            groups.setdefault(path.stem, []).append(path)
    found = []
    for stem, files in groups.items():
        match = _STEM.match(stem)
        assert match is not None
        modified = max(f.stat().st_mtime for f in files)
        found.append(
            WrittenReport(
                kind=match["kind"],
                period=f"{_moment(match['start']):%Y-%m-%d %H:%M} to "
                f"{_moment(match['end']):%Y-%m-%d %H:%M}",
                as_of=_moment(match["as_of"] or match["end"]),
                files=tuple(sorted(files)),
                modified=datetime.fromtimestamp(modified, UTC),
            )
        )
    return sorted(found, key=lambda r: (r.modified, r.kind), reverse=True)


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
