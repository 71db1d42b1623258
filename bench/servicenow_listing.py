"""Listing benchmark on the ServiceNow face: the connector vs a bare requests.Session.

Both read the first 20,000 incidents of the `incident` table from the same sandbox process, in
pages of 1,000, with the same query string: the bare client replays the parameters recorded
from one of the connector's own requests (`sysparm_query`, `sysparm_fields` with its dot-walks,
`sysparm_display_value`, `sysparm_exclude_reference_link`), with its own
`sysparm_limit`/`sysparm_offset`. The bare client only parses the JSON; the connector also
flattens every record and validates it into an SMPM entity. Best of three, the two clients
taking turns; target <= 1.15.
Then the connector's peak memory for 20,000 and for 200,000 rows (target: flat).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests

from bench.servicenow_support import connector, prepare_database
from bench.support import Timing, peak_memory, print_listing, sandbox_process, say
from connector.entities import IncidentRequest
from sandbox.server import DEMO_PASSWORD, DEMO_USER

ROWS = 20_000
BIG = 200_000
PAGE = 1000
PAGING = ("sysparm_limit", "sysparm_offset")


def recorded_params(base_url: str) -> dict[str, str]:
    """The query parameters of the connector's first list request, paging ones left out."""
    urls: list[str] = []
    with connector(base_url, page_size=PAGE) as sn:
        sn.session.hooks["response"].append(lambda r, *a, **k: urls.append(r.request.url))
        next(iter(sn.find(IncidentRequest, limit=1)))
    params = dict(parse_qsl(urlsplit(urls[0]).query, keep_blank_values=True))
    return {k: v for k, v in params.items() if k not in PAGING}


def bare_listing(base_url: str, params: dict[str, str], rows: int) -> int:
    """The same pages the connector asks for, with nothing but requests and json."""
    url = base_url + "/api/now/table/incident"
    with requests.Session() as session:
        session.auth = (DEMO_USER, DEMO_PASSWORD)
        session.headers["Accept"] = "application/json"
        seen = 0
        for offset in range(0, rows, PAGE):
            page = session.get(
                url,
                params={**params, "sysparm_limit": str(PAGE), "sysparm_offset": str(offset)},
                timeout=120,
            ).json()
            seen += len(page["result"])
    return seen


def connector_listing(base_url: str, rows: int) -> int:
    with connector(base_url, page_size=PAGE) as sn:
        return sum(1 for _ in sn.find(IncidentRequest, limit=rows))


def interleaved(
    first: Callable[[], object], second: Callable[[], object], repeat: int = 3
) -> tuple[Timing, Timing]:
    """Each run `repeat` times, taking turns, so a change in the machine's load hits both."""
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, times in zip((first, second), runs, strict=True):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    a, b = runs
    return Timing(min(a), statistics.median(a)), Timing(min(b), statistics.median(b))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "servicenow_listing.sqlite3"
        say(f"Preparing a sandbox database with {BIG:,} ServiceNow incidents ...")
        prepare_database(db, BIG)
        with sandbox_process(db) as url:
            params = recorded_params(url)
            assert bare_listing(url, params, ROWS) == ROWS == connector_listing(url, ROWS)
            bare, ours = interleaved(
                lambda: bare_listing(url, params, ROWS), lambda: connector_listing(url, ROWS)
            )
            small = peak_memory(lambda: connector_listing(url, ROWS))
            large = peak_memory(lambda: connector_listing(url, BIG))
    say("\nQuery string of every page (recorded from the connector, paging parameters apart):")
    for name, value in params.items():
        shown = value if len(value) <= 60 else value[:57] + "..."
        say(f"  {name} = {shown}")
    print_listing("ServiceNow", bare, ours, small, large, (ROWS, BIG))


if __name__ == "__main__":
    main()
