"""What every benchmark needs: a sandbox in its own process, timing, memory, printing.

The sandbox runs as a separate `smpm sandbox` process so that its CPU work does not compete
with the measured client for the same interpreter lock; both sides of every comparison talk to
the same server, over the same loopback, in the same run.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from pydantic import SecretStr

from connector.codec import load_platform_mapping
from connector.http import HttpOptions
from connector.remedy import RemedyConnector, RemedyOptions
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox


def prepare_database(path: Path, incidents: int, *, open_ratio: float = 0.3) -> None:
    """A sandbox database with the demo organisation and `incidents` generated incidents."""
    sandbox = Sandbox(seed="demo", db_path=path)
    try:
        if incidents:
            sandbox.generate_incidents(incidents, open_ratio=open_ratio)
    finally:
        sandbox.close()


@contextlib.contextmanager
def sandbox_process(db: Path, latency_ms: int = 0) -> Iterator[str]:
    """`smpm sandbox` on a free port over `db`; yields its base URL."""
    command = [
        sys.executable,
        "-m",
        "smpm",
        "sandbox",
        "--port",
        "0",
        "--seed",
        "empty",
        "--db",
        str(db),
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"sandbox did not start: {line!r}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def connector(base_url: str, *, page_size: int = 1000) -> RemedyConnector:
    options = RemedyOptions(
        base_url=base_url,
        username=DEMO_USER,
        password=SecretStr(DEMO_PASSWORD),
        page_size=page_size,
        http=HttpOptions(read_timeout=120),
    )
    return RemedyConnector(options, load_platform_mapping("remedy"))


@dataclass
class Timing:
    best: float
    median: float


def timed(run: Callable[[], object], repeat: int = 3) -> Timing:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return Timing(min(runs), statistics.median(runs))


def peak_memory(run: Callable[[], object]) -> int:
    """Peak bytes allocated by Python while `run` runs (tracemalloc)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def say(text: str = "") -> None:
    print(text, flush=True)


def api_calls(url: str) -> dict[str, int]:
    stats = requests.get(url + "/__sandbox/stats", timeout=10).json()
    requests.delete(url + "/__sandbox/stats", timeout=10)
    routes = stats["by_route"]
    return {
        "login": sum(n for r, n in routes.items() if "/api/jwt/" in r),
        "reads": sum(n for r, n in routes.items() if r.startswith("GET /api/arsys")),
        "writes": sum(
            n for r, n in routes.items() if not r.startswith("GET") and "/api/arsys" in r
        ),
    }


def print_listing(
    connector_name: str, bare: Timing, ours: Timing, small: int, large: int, rows: tuple[int, int]
) -> None:
    """The listing benchmarks' figures: connector vs bare client, and peak memory."""
    label = f"smpm {connector_name} connector"
    width = max(len(label), len("bare requests.Session"))
    say(f"\nListing {rows[0]:,} incidents in pages of 1000 (best of 3, median in brackets)")
    say(f"  {'bare requests.Session':<{width}} : {bare.best:6.2f} s  ({bare.median:.2f} s)")
    say(f"  {label:<{width}} : {ours.best:6.2f} s  ({ours.median:.2f} s)")
    say(f"  {'ratio connector/bare':<{width}} : {ours.best / bare.best:6.2f}   (target <= 1.15)")
    say("\nConnector peak memory while listing (tracemalloc)")
    say(f"  {rows[0]:>7,} rows : {small / 1e6:6.1f} MB")
    say(f"  {rows[1]:>7,} rows : {large / 1e6:6.1f} MB   (ratio {large / small:.2f}; target: flat)")
