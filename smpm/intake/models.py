"""What the webhook endpoints accept, validated with pydantic before anything is stored.

- `/hooks/events`: smpm's documented generic monitoring event (`GenericEvent`).
- `/hooks/alertmanager`: Prometheus Alertmanager's webhook, version 4 (`AlertmanagerPayload`);
  each alert in it becomes one event.
- `/hooks/remedy`, `/hooks/servicenow`: record change notifications (`RecordNotification`):
  which record changed and how; the worker reads the record itself through the connector, so a
  thin payload is enough (ServiceNow's "thin payload" pattern, reference 2.10).

An event is accepted only if a worker can decide it, on either platform: what it names is later
looked up in the ITSM, so a value no query can hold is refused here (422), not accepted and then
left dead after its last attempt. Per field:
- `node`, `ci`, `message_key`, a notification's `record`: the exact value `NULL` and a value
  starting with `javascript:` are refused. ServiceNow may read `NULL` as "empty" and would run
  `javascript:` as a script, so the encoded query renderer refuses both
  (`connector.servicenow.encoded_query`); the rule is the same on Remedy, so an event means one
  thing whichever ITSM is behind the service;
- `source` begins the key built when `message_key` is absent: no `javascript:` there either;
- every text: not blank once trimmed (leave an optional field out instead), no NUL character
  (PostgreSQL cannot store one);
- `value`, `threshold`: finite numbers (NaN, Infinity and 1e400 are refused);
- `time`: ISO 8601 text with a zone (a bare number could be seconds or milliseconds), between
  1970-01-01 and 2100-01-01 UTC, and stored in UTC, so no later step can overflow on an offset.

Each accepted item is reduced to an `Intake` row: its endpoint, a dedup key and a JSON payload.
The dedup key is a digest of the normalised content, and of the sender's delivery id too when it
sends one. `X-Smpm-Delivery` is not covered by the signature, so a delivery id alone never makes a
request a duplicate: a captured request replayed under the sender's next delivery id is stored as
what it is (a repeat of the captured event) and cannot suppress the real event that id was for.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from connector.enums import EventSeverity

ENDPOINTS = ("events", "alertmanager", "remedy", "servicenow")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # excluded
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")


def _filled(value: str) -> str:
    if not value:
        raise ValueError("is blank (empty or only white space): leave the field out or fill it")
    return value


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("holds a NUL character (\\u0000), which the event store cannot keep")
    return value


def _not_script(value: str) -> str:
    if value.lstrip().lower().startswith("javascript:"):
        raise ValueError(
            "starts with 'javascript:', which ServiceNow would run as a script: no ITSM query "
            "can look it up, so the event could never be decided"
        )
    return value


def _not_null(value: str) -> str:
    if value == "NULL":
        raise ValueError(
            "is 'NULL', which ServiceNow may read as 'empty': no ITSM query can look it up, so "
            "the event could never be decided"
        )
    return value


def _iso_time(value: Any) -> Any:
    """A time must say its date and zone in words: 1764115200 could be seconds or milliseconds."""
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE.match(value.strip())):
        return value
    raise ValueError("must be ISO 8601 text with a zone, e.g. 2026-11-25T10:00:00Z")


def _in_range(value: datetime) -> datetime:
    """UTC, and within the years a monitoring event can be about (checked on the year first: a
    year 1 or 9999 time with a ±14:00 offset would overflow on the way to UTC)."""
    if EARLIEST.year - 1 <= value.year <= LATEST.year:
        value = value.astimezone(UTC)
        if EARLIEST <= value < LATEST:
            return value
    raise ValueError(
        f"{value.isoformat()} is not between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} UTC"
    )


Stored = Annotated[str, AfterValidator(_storable)]
Text = Annotated[str, AfterValidator(_filled), AfterValidator(_storable)]
Source = Annotated[Text, AfterValidator(_not_script)]
Name = Annotated[Text, AfterValidator(_not_null), AfterValidator(_not_script)]
Reading = Annotated[float, Field(allow_inf_nan=False)]
When = Annotated[AwareDatetime, BeforeValidator(_iso_time), AfterValidator(_in_range)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GenericEvent(_Strict):
    """A monitoring event, as any tool can send it.

    `value` and `threshold` make it a capacity reading (a utilisation past its threshold);
    `severity = "clear"` says the condition has ended.
    """

    source: Source = Field(max_length=200)
    node: Name | None = Field(default=None, max_length=200)
    ci: Name | None = Field(default=None, max_length=200)
    type: Text = Field(max_length=200)
    resource: Text | None = Field(default=None, max_length=200)
    metric: Text | None = Field(default=None, max_length=200)
    severity: EventSeverity
    message_key: Name | None = Field(default=None, max_length=500)
    message: Text = Field(max_length=4000)
    value: Reading | None = None
    threshold: Reading | None = None
    time: When

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
    labels: dict[Stored, Stored]
    annotations: dict[Stored, Stored] = Field(default_factory=dict)
    startsAt: Annotated[AwareDatetime, BeforeValidator(_iso_time)]
    endsAt: Annotated[datetime, BeforeValidator(_iso_time)] | None = None
    generatorURL: Stored | None = None
    fingerprint: Stored | None = None

    @field_validator("endsAt", mode="before")
    @classmethod
    def _zero_time(cls, value: Any) -> Any:
        """Alertmanager sends 0001-01-01T00:00:00Z for 'not ended'."""
        return None if isinstance(value, str) and value.startswith("0001-") else value


class AlertmanagerPayload(BaseModel):
    """Alertmanager webhook body, version 4 (firing and resolved groups)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: Stored
    status: Literal["firing", "resolved"]
    receiver: Stored
    alerts: list[AlertmanagerAlert] = Field(min_length=1)
    commonLabels: dict[Stored, Stored] = Field(default_factory=dict)
    externalURL: Stored | None = None


class RecordNotification(_Strict):
    """A record changed in the ITSM: which one, and how."""

    record: Name = Field(max_length=200, description="the number, INC...")
    kind: Literal["incident", "problem", "change", "knowledge_article"] = "incident"
    operation: Literal["create", "update", "delete"] = "update"
    changed: list[Stored] = Field(default_factory=list, description="fields that changed, if known")


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
    return GenericEvent(
        **{name: value for name, (_, value) in alert_fields(alert, receiver).items()}
    )


def alert_fields(
    alert: AlertmanagerAlert, receiver: str, at: str = "alert"
) -> dict[str, tuple[str, Any]]:
    """Each generic event field of one alert, with where in the body it comes from (`at` is the
    alert's own place), so that a refused value is named as the sender wrote it."""
    labels, notes = alert.labels, alert.annotations
    severity = SEVERITIES.get(labels.get("severity", "warning").lower(), EventSeverity.WARNING)
    tags = f"{at}.labels"
    node = _first(labels, tags, "instance", "node", "host")
    ci = _first(labels, tags, "ci") if labels.get("ci") else node
    reading = _reading(notes)
    ended = alert.status == "resolved" and alert.endsAt
    message = _first(notes, f"{at}.annotations", "summary", "description")
    if message[1] is None:
        message = (f"{at}.labels.alertname", labels.get("alertname", "alert"))
    key = (f"{at}.fingerprint", alert.fingerprint)
    if not alert.fingerprint:
        key = (f"{at}.labels", _digest(json.dumps(labels, sort_keys=True)))
    return {
        "source": ("receiver", f"alertmanager/{receiver}"),
        "node": node,
        "ci": ci,
        "type": (f"{at}.labels.alertname", labels.get("alertname", "alert")),
        "resource": _first(labels, tags, "resource", "job"),
        "metric": _first(labels, tags, "metric", "__name__"),
        "severity": (
            f"{at}.status" if alert.status == "resolved" else f"{at}.labels.severity",
            EventSeverity.CLEAR if alert.status == "resolved" else severity,
        ),
        "message_key": key,
        "message": message,
        "value": (f"{at}.annotations.value", reading[0] if reading else None),
        "threshold": (f"{at}.annotations.threshold", reading[1] if reading else None),
        "time": (f"{at}.endsAt", alert.endsAt) if ended else (f"{at}.startsAt", alert.startsAt),
    }


def _first(values: dict[str, str], where: str, *names: str) -> tuple[str, str | None]:
    """The first of `names` with a value, and where it is (`<where>.<name>`)."""
    for name in names:
        if values.get(name):
            return f"{where}.{name}", values[name]
    return where, None


def _reading(notes: dict[str, str]) -> tuple[float, float] | None:
    """A reading from the `value` and `threshold` annotations: none unless both are numbers
    (a non-finite number, NaN or 1e400, is a reading the event refuses)."""
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
    # fields in the schema's order, values normalised: the same event, the same bytes; with the
    # delivery id too when there is one (never the id alone: it is not signed)
    content = f"{endpoint}\nbody\n{payload.model_dump_json()}"
    key = _digest(f"{content}\ndelivery\n{delivery_id}" if delivery_id else content)
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
