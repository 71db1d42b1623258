"""The managers' reports: run the reviews, write CSV and HTML, list what was written.

`reviews` gathers a review's data and runs it (`review`, `report_now`); `files` writes and lists
the reports (`write_report`, `list_reports`); `html` renders the page, with `charts` (bars of a
`ChartedReport`) and `trends` (a line chart per row of a `TrendReport`). Imports run one way:
reviews -> files -> html -> charts, trends. The runner publishes a plan's report through `files`.
"""

from smpm.reports.files import WrittenReport, list_reports, render_csv, report_stem, write_report
from smpm.reports.reviews import REVIEWS, report_now, review, review_period, stored_events

__all__ = [
    "REVIEWS",
    "WrittenReport",
    "list_reports",
    "render_csv",
    "report_now",
    "report_stem",
    "review",
    "review_period",
    "stored_events",
    "write_report",
]
