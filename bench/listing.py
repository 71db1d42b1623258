"""Listing benchmark: the Remedy connector vs a bare requests.Session, on the same pages.

Both read the first 20,000 incidents of HPD:IncidentInterface from the same sandbox process, with
the same `fields`, `sort`, `limit` and `offset`, in the same run. The bare client only parses
the JSON; the connector also validates every record into an SMPM entity. Target: <= 1.15.
Then the connector's peak memory for 20,000 and for 200,000 rows (target: flat, since the
listing is lazy and holds one page at a time).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests

from bench.support import (
    connector,
    peak_memory,
    prepare_database,
    print_listing,
    sandbox_process,
    say,
    timed,
)
from connector.codec import KindCodec
from connector.entities import IncidentRequest, RecordKind
from connector.remedy import entry_url, format_ar_date, values_param
from sandbox.server import DEMO_PASSWORD, DEMO_USER

ROWS = 20_000
BIG = 200_000
PAGE = 1000


def bare_listing(base_url: str, rows: int) -> int:
    """The same pages the connector asks for, with nothing but requests and json."""
    codec = KindCodec(connector(base_url).mapping, RecordKind.INCIDENT, format_ar_date)
    fields = values_param(codec.read_fields())
    with requests.Session() as session:
        token = session.post(
            base_url + "/api/jwt/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD}
        ).text
        session.headers["Authorization"] = f"AR-JWT {token}"
        seen = 0
        for offset in range(0, rows, PAGE):
            page = session.get(
                entry_url(base_url, "HPD:IncidentInterface"),
                params={
                    "offset": offset,
                    "limit": PAGE,
                    "fields": fields,
                    "sort": "Incident Number.asc",
                },
            ).json()
            seen += sum(1 for entry in page["entries"] if entry["values"])
    return seen


def connector_listing(base_url: str, rows: int) -> int:
    with connector(base_url, page_size=PAGE) as remedy:
        return sum(1 for _ in remedy.find(IncidentRequest, limit=rows))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "listing.sqlite3"
        say(f"Preparing a sandbox database with {BIG:,} incidents ...")
        prepare_database(db, BIG)
        with sandbox_process(db) as url:
            assert bare_listing(url, ROWS) == ROWS == connector_listing(url, ROWS)
            bare = timed(lambda: bare_listing(url, ROWS))
            ours = timed(lambda: connector_listing(url, ROWS))
            small = peak_memory(lambda: connector_listing(url, ROWS))
            large = peak_memory(lambda: connector_listing(url, BIG))
    print_listing("Remedy", bare, ours, small, large, (ROWS, BIG))


if __name__ == "__main__":
    main()
