"""The reading that raised a capacity incident request, as Event Handling (P1) recorded it.

SMPM P2: "the capacity manager looks up the capacity utilization level at which the event, for
which this incident request was created, had been generated." Event Management P1 writes the
event's facts as one JSON line starting with `smpm-reading ` in the request's details (see
`procedures.event.handling.reading_line`); this reads it back. A request without that line (one
registered by hand, or edited) has no reading: the capacity manager looks the level up.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, ValidationError

from procedures.event.handling import READING_TAG


class Reading(BaseModel):
    """A utilisation reading: which monitoring job measured what, where, and how full."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    value: float
    threshold: float | None = None
    metric: str | None = None
    resource: str | None = None
    ci: str | None = None
    node: str | None = None
    source: str | None = None
    type: str | None = None
    message_key: str | None = None

    @property
    def job(self) -> str:
        """The monitoring job that generated the event: 'zabbix / cpu / cpu.utilisation'."""
        return " / ".join(p for p in (self.source, self.type, self.metric) if p) or "(unknown)"

    @property
    def where(self) -> str | None:
        return self.ci or self.node


def read_reading(details: str | None) -> Reading | None:
    """The last `smpm-reading` line of `details`, or None when there is none or it is unreadable."""
    lines = [ln.strip() for ln in (details or "").splitlines()]
    tagged = [ln for ln in lines if ln.startswith(READING_TAG.strip())]
    if not tagged:
        return None
    try:
        facts = json.loads(tagged[-1][len(READING_TAG.strip()) :])
        return Reading.model_validate(facts) if isinstance(facts, dict) else None
    except (ValueError, ValidationError):
        return None
