"""`smpm serve` in processes of its own, on the sandbox ITSM, for the tests of what several
workers and processes do together: a settings file, the process, its health and metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from sandbox.server import DEMO_PASSWORD, DEMO_USER

TOKEN = "served-test-token"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def write_config(
    path: Path, platform: str, itsm_url: str, sections: Mapping[str, Mapping[str, Any]]
) -> Path:
    """A settings file for `platform` at `itsm_url` (the sandbox, or a proxy in front of it):
    the demo login, bearer-token events, the given sections (`"remedy.http"`, `"intake"`...)."""
    face: dict[str, Any] = {"url": itsm_url, "username": DEMO_USER}
    if platform == "servicenow":
        face["auth"] = "basic"
    tables: dict[str, Mapping[str, Any]] = {
        platform: face,
        "serve": {"port": 0, "poll_seconds": 0.05},
        "hooks.events": {"methods": ["bearer"]},
        "event.handling": {"customer": "Maya"},
        **sections,
    }
    lines = [f'platform = "{platform}"']
    for name, keys in tables.items():
        lines.append(f"[{name}]")
        for key, value in keys.items():
            shown = (
                "[" + ", ".join(toml_value(v) for v in value) + "]"
                if isinstance(value, list)
                else toml_value(value)
            )
            lines.append(f"{key} = {shown}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def serving(config: Path, platform: str, database_url: str) -> Iterator[str]:
    """`smpm serve` with `config` until the block ends (SIGTERM); yields its URL."""
    env = {
        **os.environ,
        f"SMPM_{platform.upper()}__PASSWORD": DEMO_PASSWORD,
        "SMPM_HOOKS__EVENTS__TOKEN": TOKEN,
        "SMPM_DATABASE__URL": database_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "smpm", "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on " in line, line
        yield line.split("listening on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def post_event(session: requests.Session, url: str, body: dict[str, Any]) -> str:
    answer = session.post(
        url + "/hooks/events",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def health(url: str) -> dict[str, Any]:
    answer = requests.get(url + "/healthz", timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def metric(url: str, name: str, **labels: str) -> float:
    """A sample of the service's /metrics (0 when it was never counted)."""
    text = requests.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    """Wait on what other processes bring about, with a deadline; the pace of the checks
    changes no behaviour."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)
