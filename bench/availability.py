"""Availability benchmark: Availability Management P2 over a year of incidents on 500 services.

The sandbox (its own process, 5 ms per API call) holds the demo organisation with 494 more
business services (500 in all) and 100,000 incidents submitted over the last 365 days, spread
over the services by the generator (a quarter are Extensive restoration requests: the outages).
Every service has a monthly SLA (24x7, at least 99.5%, at most 4 outages); the overview covers
12 periods, so the outages of the whole year are read. The generator's outages last up to three
days, so every SLA is violated: the worst case for the decisions' writes.

Runs, each against a baseline of the same run:
- the raw cost of paging the same outage rows: a bare requests.Session, same qualification,
  fields, sort and page size (1,000);
- a dry run (reads and decisions only): calls made against the pages needed, the minimum number
  of list pages for the rows it read (per kind of record, one listing each); wall time against
  the raw paging;
- the first run (links the outages of the period just ended and the one under way, registers a
  problem investigation per service and period: the generator's outages name no CI, so there is
  no root-cause evidence to link them by) and the second, right after (the steady state of a daily
  job): calls against pages needed plus one write per action;
- report generation for that data (figures of 500 SLAs x 12 periods, the overview table with its
  charts, CSV and HTML) against writing the same rows with csv and an escaped HTML table only.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import requests

from bench.support import api_calls, connector, sandbox_process, say
from connector.codec import KindCodec
from connector.entities import RecordKind
from connector.remedy import entry_url, format_ar_date, values_param
from connector.remedy.qualification import render
from procedures.availability import tracking as p2
from procedures.availability.outages import outage_filter
from procedures.availability.overview import overview
from procedures.registry import Context
from sandbox.generate import generate_incidents
from sandbox.seed import DEMO_SEED, parse_seed
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.executor import RunReport
from smpm.reports import render_csv
from smpm.reports.html import render_html
from smpm.runner import run_procedure
from smpm.settings import Settings, load_settings

SERVICES = 500
INCIDENTS = 100_000
DAYS = 365
LATENCY_MS = 5
PAGE = 1000


def services() -> list[str]:
    demo = tomllib.loads(DEMO_SEED.read_text(encoding="utf-8"))
    names = [s["name"] for s in demo["services"]]
    return names + [f"Business Service {n:03d}" for n in range(1, SERVICES - len(names) + 1)]


def prepare(db: Path) -> None:
    """The demo seed plus services up to 500, then a year of incidents over all of them."""
    demo = tomllib.loads(DEMO_SEED.read_text(encoding="utf-8"))
    template = {k: v for k, v in demo["services"][0].items() if k not in ("name", "depends_on")}
    extra = [{**template, "name": name} for name in services()[len(demo["services"]) :]]
    seed = parse_seed({**demo, "services": [*demo["services"], *extra]}, "bench")
    sandbox = Sandbox(seed=seed, db_path=db)
    try:
        now = int(time.time())
        generate_incidents(sandbox.store, INCIDENTS, now=now, days=DAYS, open_ratio=0.002, seed=7)
    finally:
        sandbox.close()


def settings_for(url: str, state: Path) -> Settings:
    slas = [
        {"name": f"SLA {name}", "service": name, "availability_target": 99.5, "max_outages": 4}
        for name in services()
    ]
    return load_settings(
        None,
        remedy={"url": url, "username": DEMO_USER, "password": DEMO_PASSWORD},
        database={"url": f"sqlite:///{state / 'state.db'}"},
        reports={"folder": str(state / "reports")},
        availability={
            "slas": slas,
            "history_periods": 12,
            "outage_min_impact": "extensive",
            "specialist_group": "Problem Management",
        },
    )


class Counting:
    """A connector that counts the rows each kind of record's listings return."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.rows: Counter[str] = Counter()

    def find(self, model: Any, where: Any = None, **options: Any) -> Iterator[Any]:
        self.rows[model.kind.value] += 0  # a listing with no rows still needs its page
        for record in self.inner.find(model, where, **options):
            self.rows[model.kind.value] += 1
            yield record

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def pages(self) -> int:
        return sum(max(1, math.ceil(n / PAGE)) for n in self.rows.values())


def raw_paging(url: str, settings: Settings, now: datetime) -> tuple[int, int, float]:
    """The outage rows, paged by a bare session: (rows, pages, seconds)."""
    config = settings.procedures().availability
    window = p2.window(config.tracked(), config, now)
    with connector(url) as remedy:
        codec = KindCodec(remedy.mapping, RecordKind.INCIDENT, format_ar_date)
    params = {
        "q": render(codec.translate(outage_filter(config, window))),
        "fields": values_param(codec.read_fields()),
        "sort": "Incident Number.asc",
        "limit": PAGE,
    }
    started = time.perf_counter()
    rows = pages = 0
    with requests.Session() as session:
        login = {"username": DEMO_USER, "password": DEMO_PASSWORD}
        token = session.post(url + "/api/jwt/login", data=login, timeout=60).text
        session.headers["Authorization"] = f"AR-JWT {token}"
        while True:
            page = session.get(
                entry_url(url, "HPD:IncidentInterface"),
                params={**params, "offset": rows},
                timeout=120,
            ).json()
            pages += 1
            rows += len(page["entries"])
            if len(page["entries"]) < PAGE:
                break
    return rows, pages, time.perf_counter() - started


def one_run(url: str, settings: Settings, *, dry_run: bool) -> tuple[RunReport, Counting, float]:
    api_calls(url)  # reset the counters
    counting = Counting(connector(url, page_size=PAGE))
    started = time.perf_counter()
    try:
        report = run_procedure(settings, p2.NAME, dry_run=dry_run, connector=counting)  # type: ignore[arg-type]
    finally:
        counting.inner.close()
    return report, counting, time.perf_counter() - started


def show_run(label: str, url: str, run: tuple[RunReport, Counting, float], base: float) -> None:
    report, counting, wall = run
    calls = api_calls(url)
    writes = sum(1 for o in report.outcomes if o.outcome == "applied")
    made, needed = calls["reads"] + calls["writes"], counting.pages() + writes
    rows = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counting.rows.items()))
    say(f"\n{label}: {len(report.plan.actions):,} actions planned, {writes:,} applied")
    say(f"  rows read      : {rows}")
    say(
        f"  API calls made : {made:,} ({calls['reads']:,} reads, {calls['writes']:,} writes) "
        f"+ {calls['login']} login"
    )
    say(f"  minimum needed : {needed:,} ({counting.pages():,} pages, {writes:,} writes)")
    say(f"  ratio          : {made / needed:.3f}")
    floor = made * LATENCY_MS / 1000
    say(f"  wall time      : {wall:.1f} s; calls x latency {floor:.1f} s ({wall / floor:.1f}x)")
    if base:
        say(f"  vs raw paging  : {wall / base:.2f}x the {base:.1f} s of paging the outage rows")


def report_generation(url: str, settings: Settings, now: datetime) -> None:
    """Figures, the overview with charts, CSV and HTML, against a bare CSV + escaped table."""
    config = settings.procedures()
    with connector(url, page_size=PAGE) as remedy:
        gathered = p2.gather(Context(remedy, config, now, "bench"))
    slas = config.availability.tracked()
    by_service: dict[str, list[Any]] = {}
    for found in gathered.incidents.values():
        by_service.setdefault(str(found.service), []).append(found)
    started = time.perf_counter()
    periods = p2.track(slas, by_service, config.availability, now)
    table = overview(periods, {}, {}, config.availability, now)
    written = len(render_csv(table)) + len(render_html(table, now))
    ours = time.perf_counter() - started
    started = time.perf_counter()
    out = io.StringIO()
    csv.writer(out).writerows(table.rows)
    cells = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in table.rows
    )
    page = f"<table>{cells}</table>"
    bare = time.perf_counter() - started
    assert out.getvalue() and page
    say(f"\nreport generation: {len(table.rows):,} rows ({len(slas)} SLAs x 12 periods)")
    say(f"  figures + overview + CSV + HTML : {ours:.2f} s ({written / 1e6:.1f} MB written)")
    say(f"  bare CSV + escaped HTML table   : {bare:.2f} s")
    say(f"  ratio                           : {ours / bare:.1f}x")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, state = Path(tmp) / "availability.sqlite3", Path(tmp)
        say(f"Preparing a sandbox: {SERVICES} services, {INCIDENTS:,} incidents over {DAYS} days")
        prepare(db)
        with sandbox_process(db, latency_ms=LATENCY_MS) as url:
            settings = settings_for(url, state)
            now = datetime.now(UTC)
            rows, pages, base = raw_paging(url, settings, now)
            say(f"\nraw paging: {rows:,} outage rows in {pages} pages, {base:.1f} s")
            show_run("dry run", url, one_run(url, settings, dry_run=True), base)
            show_run("first run", url, one_run(url, settings, dry_run=False), base)
            show_run("second run", url, one_run(url, settings, dry_run=False), base)
            report_generation(url, settings, datetime.now(UTC))


if __name__ == "__main__":
    main()
