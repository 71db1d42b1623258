"""The Throttle: a condition that recurs thousands of times a second costs one line per
interval (issue 11, item 8: 610,303 accept() tracebacks in 10 s)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from smpm.logs import Throttle, ThrottleFilter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.wrote = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.wrote.set()


@pytest.fixture
def lines() -> Lines:
    handler = Lines()
    logger = logging.getLogger("tests.throttle")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return handler


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        pytest.param([0.0], ["out of descriptors 0"], id="once: said at once"),
        pytest.param(
            [0.0, 0.1, 0.2, 0.3],
            ["out of descriptors 0"],
            id="a flood within the interval: one line, the rest counted",
        ),
        pytest.param(
            [0.0, 0.1, 0.2, 61.0],
            ["out of descriptors 0", "out of descriptors 3 (3 more in the last 61 s)"],
            id="past the interval: the count, with the newest text",
        ),
        pytest.param(
            [0.0, 61.0, 200.0],
            ["out of descriptors 0", "out of descriptors 1", "out of descriptors 2"],
            id="after a quiet interval: said at once again",
        ),
    ],
)
def test_a_recurring_condition_is_logged_once_per_interval_with_a_count(
    lines: Lines, moments: list[float], expected: list[str]
) -> None:
    """Without an event loop the count is written at the first occurrence after the interval."""
    clock = Clock()
    throttle = Throttle(logging.getLogger("tests.throttle"), 60, clock=clock)
    start = clock.now
    for n, moment in enumerate(moments):
        clock.now = start + moment
        throttle.note("fds", "out of descriptors %d", n)
    assert lines.lines == expected


def test_on_an_event_loop_the_count_is_written_when_the_interval_ends(lines: Lines) -> None:
    """A flood that stops is still counted: the line is scheduled on the running loop."""

    async def flood() -> None:
        throttle = Throttle(logging.getLogger("tests.throttle"), 0.05)
        for n in range(1000):
            throttle.note("fds", "out of descriptors %d", n)
        lines.wrote.clear()
        await asyncio.wait_for(lines.wrote.wait(), timeout=5)

    asyncio.run(flood())
    assert lines.lines[0] == "out of descriptors 0"
    assert lines.lines[1].startswith("out of descriptors 999 (999 more in the last ")
    assert len(lines.lines) == 2


def test_the_filter_throttles_only_the_messages_named(lines: Lines) -> None:
    """uvicorn's per-request "Invalid HTTP request received." is throttled; its other lines
    pass as they are."""
    source = logging.getLogger("tests.throttle.uvicorn")
    passed = Lines()
    source.handlers[:] = [passed]
    source.propagate = False
    throttle = Throttle(logging.getLogger("tests.throttle"), 60)
    source.addFilter(ThrottleFilter(throttle, {"Invalid HTTP request received."}))
    for _ in range(500):
        source.warning("Invalid HTTP request received.")
    source.warning("Exception in ASGI application")
    assert lines.lines == ["Invalid HTTP request received."]
    assert passed.lines == ["Exception in ASGI application"]
