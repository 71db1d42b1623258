"""One fixed test clock, for smpm and for the sandbox ITSM alike.

smpm's clocks (the intake service, its workers, the scheduler's runner) are `() -> datetime`; the
sandbox ITSM keeps time as Unix seconds, `() -> float`. A test that runs both on one moment
passes the clock itself to smpm and `clock.seconds` to the sandbox, and moves that one moment by
hand (`advance`, `set`): nothing depends on the day the tests run, and no test sleeps.

Not for the clocks that stand in for `time.monotonic` (the connectors' token lifetimes, the log
throttle): those count seconds from nowhere in particular, not moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def _utc(moment: datetime | str) -> datetime:
    """`moment` as an aware UTC datetime; a text without a zone ('2026-11-03 10:00') is UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass
class TestClock:
    """A clock fixed at `now` (an aware UTC datetime) until the test moves it."""

    __test__ = False  # a helper, not a test class, wherever a test module imports it

    now: datetime

    def __post_init__(self) -> None:
        self.now = _utc(self.now)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """The same moment for the sandbox ITSM, which keeps time as a Unix timestamp."""
        return self.now.timestamp()

    @property
    def moment(self) -> datetime:
        """`now`, for a run that decides 'as of the sandbox's clock'."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Move on by `timedelta(**delta)`: `advance(hours=1)`, `advance(days=15)`."""
        self.now += timedelta(**delta)

    def set(self, moment: datetime | str) -> None:
        """Move to `moment` (a datetime, or ISO text such as '2026-11-03 10:00', then UTC)."""
        self.now = _utc(moment)
