"""What the webhook endpoints accept, validated with pydantic before anything is stored.

- `/hooks/events`: smpm's documented generic monitoring event (`GenericEvent`).
- `/hooks/alertmanager`: Prometheus Alertmanager's webhook, version 4 (`AlertmanagerPayload`);
  each alert in it becomes one event.
- `/hooks/remedy`, `/hooks/servicenow`: record change notifications (`RecordNotification`):
  which record changed and how; the worker reads the record itself through the connector, so a
  thin payload is enough (ServiceNow's "thin payload" pattern, reference 2.10).

Each accepted item is reduced to an `Intake` row: its endpoint, a dedup key and a JSON payload.
The dedup key is the sender's delivery id when it sends one, else a digest of the content, so a
redelivery of the same event maps to the stored row and is processed once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.enums import EventSeverity

ENDPOINTS = ("events", "alertmanager", "remedy", "servicenow")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GenericEvent(_Strict):
    """A monitoring event, as any tool can send it.

    `value` and `threshold` make it a capacity reading (a utilisation past its threshold);
    `severity = "clear"` says the condition has ended.
    """

    source: str = Field(min_length=1, max_length=200)
    node: str | None = Field(default=None, max_length=200)
    ci: str | None = Field(default=None, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    resource: str | None = Field(default=None, max_length=200)
    metric: str | None = Field(default=None, max_length=200)
    severity: EventSeverity
    message_key: str | None = Field(default=None, max_length=500)
    message: str = Field(min_length=1, max_length=4000)
    value: float | None = None
    threshold: float | None = None
    time: AwareDatetime

    @model_validator(mode="after")
    def _reading_is_complete(self) -> GenericEvent:
        if (self.value is None) != (self.threshold is None):
            raise ValueError("value and threshold go together: a capacity reading needs both")
        if self.node is None and self.ci is None:
            raise ValueError("name the CI the event is about: ci or node")
        return self

    def key(self) -> str:
        """The dedup key of the condition (ServiceNow builds it the same way when it is empty)."""
        if self.message_key:
            return self.message_key
        parts = (self.source, self.node or self.ci, self.type, self.resource, self.metric)
        return "/".join(p or "" for p in parts)


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: datetime | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None

    @field_validator("endsAt", mode="before")
    @classmethod
    def _zero_time(cls, value: Any) -> Any:
        """Alertmanager sends 0001-01-01T00:00:00Z for 'not ended'."""
        return None if isinstance(value, str) and value.startswith("0001-") else value


class AlertmanagerPayload(BaseModel):
    """Alertmanager webhook body, version 4 (firing and resolved groups)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str
    status: Literal["firing", "resolved"]
    receiver: str
    alerts: list[AlertmanagerAlert] = Field(min_length=1)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None


class RecordNotification(_Strict):
    """A record changed in the ITSM: which one, and how."""

    record: str = Field(min_length=1, max_length=200, description="the number, INC...")
    kind: Literal["incident", "problem", "change", "knowledge_article"] = "incident"
    operation: Literal["create", "update", "delete"] = "update"
    changed: list[str] = Field(default_factory=list, description="fields that changed, if known")


SEVERITIES = {
    "critical": EventSeverity.CRITICAL,
    "major": EventSeverity.MAJOR,
    "error": EventSeverity.MAJOR,
    "minor": EventSeverity.MINOR,
    "warning": EventSeverity.WARNING,
    "info": EventSeverity.INFO,
    "none": EventSeverity.INFO,
}


def alert_to_event(alert: AlertmanagerAlert, receiver: str) -> GenericEvent:
    """One Alertmanager alert as a generic event; resolved alerts clear the condition."""
    labels, notes = alert.labels, alert.annotations
    severity = SEVERITIES.get(labels.get("severity", "warning").lower(), EventSeverity.WARNING)
    reading = _reading(notes)
    node = labels.get("instance") or labels.get("node") or labels.get("host")
    return GenericEvent(
        source=f"alertmanager/{receiver}",
        node=node,
        ci=labels.get("ci") or node,
        type=labels.get("alertname", "alert"),
        resource=labels.get("resource") or labels.get("job"),
        metric=labels.get("metric") or labels.get("__name__"),
        severity=EventSeverity.CLEAR if alert.status == "resolved" else severity,
        message_key=alert.fingerprint or _digest(json.dumps(labels, sort_keys=True)),
        message=notes.get("summary")
        or notes.get("description")
        or labels.get("alertname", "alert"),
        value=reading[0] if reading else None,
        threshold=reading[1] if reading else None,
        time=alert.endsAt if alert.status == "resolved" and alert.endsAt else alert.startsAt,
    )


def _reading(notes: dict[str, str]) -> tuple[float, float] | None:
    try:
        return float(notes["value"]), float(notes["threshold"])
    except (KeyError, ValueError):
        return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Intake:
    """One accepted item, ready to store: `payload` is the validated, normalised body.

    `subject` groups items about one condition or record (repeat counts); `lane` is what must
    never be worked by two workers at once: the CI of a monitoring event, the record of a
    notification.
    """

    endpoint: str
    dedup_key: str
    subject: str
    lane: str
    delivery_id: str | None
    payload: dict[str, Any]


def intake_item(endpoint: str, payload: BaseModel, delivery_id: str | None) -> Intake:
    """The storable item for one validated payload."""
    body = payload.model_dump(mode="json")
    if delivery_id:
        key = _digest(f"{endpoint}\ndelivery\n{delivery_id}")
    else:  # fields in the schema's order, values normalised: the same event, the same bytes
        key = _digest(f"{endpoint}\nbody\n{payload.model_dump_json()}")
    if isinstance(payload, GenericEvent):
        subject, lane = payload.key(), ci_lane(payload.ci or payload.node or "")
    elif isinstance(payload, RecordNotification):
        subject = lane = f"{payload.kind}:{payload.record}"
    else:
        subject = lane = key
    return Intake(
        endpoint=endpoint,
        dedup_key=key,
        subject=subject[:500],
        lane=lane[:500],
        delivery_id=delivery_id,
        payload=body,
    )


def ci_lane(name: str) -> str:
    """The lane of the monitoring events about CI `name`."""
    return f"ci:{name.casefold()}"[:500]
