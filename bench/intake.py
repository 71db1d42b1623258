"""Intake benchmark: durable webhook acceptance against a bare FastAPI endpoint, same run.

Two servers, each its own process with one uvicorn worker: `smpm serve` (HMAC check, pydantic
validation, group-commit to SQLite in WAL mode with synchronous=FULL, then 202 with the id; event
workers off, so only acceptance is measured) and a bare FastAPI app whose endpoint reads the body
and answers 202 without storing anything. The same load generator (asyncio streams, 32
concurrent keep-alive connections, every event distinct and freshly signed) drives each for
SECONDS (default 30; `SMPM_BENCH_SECONDS` to change) and records every request's latency.

Targets: durable throughput >= 0.5 x bare; p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.support import say
from smpm.intake.auth import sign

SECONDS = float(os.environ.get("SMPM_BENCH_SECONDS", "30"))
CONCURRENCY = 32
SECRET = "bench-secret-0123456789"


@dataclass
class Result:
    accepted: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


@contextmanager
def server(command: list[str], env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError(f"server did not start: {line!r}")
        yield line.split("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=20)


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams, with TCP_NODELAY.

    A few lines of protocol instead of a client library: the generator must cost far less
    than the servers it measures, and general clients spend more per request than a bare
    FastAPI endpoint does.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        start = f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(f"{start}{head}\r\n".encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def load(url: str, seconds: float) -> Result:
    latencies: list[float] = []
    accepted = 0
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def one_sender() -> None:
        nonlocal accepted
        connection = await Connection.open(url)
        try:
            while time.perf_counter() < deadline:
                n = next(counter)
                body = json.dumps(
                    {
                        "source": "bench",
                        "node": f"node-{n % 300}",
                        "type": "cpu",
                        "severity": "warning",
                        "message": f"CPU high #{n}",
                        "time": "2026-11-25T10:00:00Z",
                    }
                ).encode()
                headers = {
                    "X-Smpm-Signature": sign(SECRET, int(time.time()), body),
                    "Content-Type": "application/json",
                }
                started = time.perf_counter()
                status = await connection.post("/hooks/events", body, headers)
                latencies.append(time.perf_counter() - started)
                accepted += status == 202
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_sender() for _ in range(CONCURRENCY)))
    return Result(accepted, time.perf_counter() - started, latencies)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "smpm.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{Path(tmp) / "state.db"}"\n'
            "[serve]\nport = 0\nworkers = 0\n"
            '[hooks.events]\nmethods = ["hmac"]\n'
            '[logging]\nlevel = "WARNING"\n'
        )
        smpm = [sys.executable, "-m", "smpm", "--config", str(config), "serve"]
        with server([sys.executable, "-m", "bench.bare_app"], {}) as url:
            asyncio.run(load(url, 2))  # warm up
            bare = asyncio.run(load(url, SECONDS))
        with server(smpm, {"SMPM_HOOKS__EVENTS__SECRET": SECRET}) as url:
            asyncio.run(load(url, 2))
            durable = asyncio.run(load(url, SECONDS))
    say(f"\nWebhook acceptance for {SECONDS:g} s, {CONCURRENCY} concurrent senders")
    for label, r in (("bare FastAPI 202 ", bare), ("smpm durable 202 ", durable)):
        say(
            f"  {label}: {r.rate:8.0f} events/s  p50 {r.percentile(0.5):6.1f} ms  "
            f"p99 {r.percentile(0.99):6.1f} ms  ({r.accepted:,} accepted)"
        )
    say(f"  ratio durable/bare: {durable.rate / bare.rate:.2f}   (target >= 0.5; p99 < 50 ms)")
    say(
        f"  mean latency: bare {statistics.mean(bare.latencies) * 1000:.1f} ms, "
        f"durable {statistics.mean(durable.latencies) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
