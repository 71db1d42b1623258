"""Reading the audit log back: filters people ask for when something looks wrong."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from smpm.store import audit


def audit_rows(
    engine: Engine,
    *,
    procedure: str | None = None,
    record: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> Iterator[Mapping[str, Any]]:
    """Newest first."""
    query = select(audit).order_by(audit.c.id.desc()).limit(limit)
    if procedure:
        query = query.where(audit.c.procedure == procedure)
    if record:
        query = query.where(audit.c.target_id == record)
    if outcome:
        query = query.where(audit.c.outcome == outcome)
    if since:
        query = query.where(audit.c.at >= since)
    with engine.connect() as conn:
        yield from conn.execute(query).mappings()
