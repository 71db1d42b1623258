"""What can go wrong when talking to an ITSM, as one small tree.

    SmpmError
    └── ConnectorError               anything raised by a connector
        ├── RetryableError           worth trying again later; the HTTP layer already retried
        │   ├── Unavailable          connection refused/reset, timeout, 5xx
        │   │   └── OutcomeUnknown   a write was sent and no answer came: it may have happened
        │   └── RateLimited          429; `retry_after` holds the server's wish in seconds
        └── FinalError               trying again will not help
            ├── AuthenticationFailed bad credentials or an expired session (Remedy 623, HTTP 401)
            ├── PermissionDenied     the account may not do this (HTTP 403, ServiceNow ACLs)
            ├── NotFound             the record does not exist (Remedy 302, HTTP 404)
            ├── FormNotFound         the form or table does not exist (Remedy 303, ServiceNow 400)
            ├── Rejected             the platform refused the request; carries its messages
            │   └── UnknownReference a name written to a reference field matches no record
            │                        (a CI the CMDB lacks); names the field and the value
            ├── FilterNotApplied     the answer holds records the filter sent excludes (a column
            │                        the table lacks: ServiceNow ignores such query terms)
            ├── InvalidResponse      a body we cannot read (an HTML page from a proxy, say)
            └── TLSError             the server's certificate could not be verified

Platform errors are translated in exactly one function per platform
(`translate_error` in `connector.remedy.errors` and in `connector.servicenow.errors`). Messages
quote the platform's own words and say what to check.
Messages never contain credentials or tokens: they are built from response bodies and URLs only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformMessage:
    """One entry of a platform's error body (Remedy's messageNumber/messageText/...)."""

    number: int | None
    text: str
    appended: str | None = None
    kind: str | None = None

    def __str__(self) -> str:
        prefix = f"ERROR ({self.number}): " if self.number is not None else ""
        tail = f"; {self.appended}" if self.appended else ""
        return f"{prefix}{self.text}{tail}"


class SmpmError(Exception):
    """Root of every error smpm raises on purpose."""


class ConnectorError(SmpmError):
    """Raised by a connector; `status` is the HTTP status when there was one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        messages: tuple[PlatformMessage, ...] = (),
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.messages = messages
        self.url = url


class RetryableError(ConnectorError):
    """The platform may answer later; the HTTP layer has already retried with backoff."""


class Unavailable(RetryableError):
    """The platform could not be reached or answered with a server error."""


class OutcomeUnknown(Unavailable):
    """A write (POST) was sent but its answer did not come back: a read timeout, or the
    connection dropped after the request went out. The platform may have acted on it, so
    it is never sent again blind: the executor looks the write up by its idempotency key."""


class RateLimited(RetryableError):
    """The platform asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class FinalError(ConnectorError):
    """Retrying the same request will not change the answer."""


class AuthenticationFailed(FinalError):
    """Credentials were refused; check the user name, password or OAuth client."""


class PermissionDenied(FinalError):
    """The account lacks a permission (role, ACL, group) for this operation."""


class NotFound(FinalError):
    """The record asked for does not exist (or is hidden from this account)."""


class FormNotFound(FinalError):
    """The form or table does not exist on the server; check the mapping."""


class Rejected(FinalError):
    """The platform refused the request (a bad qualification, a missing required field...)."""


class UnknownReference(Rejected):
    """A name written to a reference field matches no record of the table it references (a
    CI the CMDB does not hold, a group that does not exist); `field` is the SMPM field (e.g.
    "incident.ci"), `table` and `column` where it was looked up, `value` the name.

    Raised before anything is written, and final: the name must be corrected where it comes
    from, or the record added to the ITSM. A reference is never dropped from a write to
    avoid it (that would hide a mapping or rule-table mistake); a caller that can do without
    one decides so before writing (Event Handling, for a CI its CMDB check did not find).
    """

    def __init__(
        self, message: str, *, field: str, table: str, column: str, value: str, **kw: object
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.field = field
        self.table = table
        self.column = column
        self.value = value


class FilterNotApplied(FinalError):
    """The platform answered records that the filter it was sent excludes; `columns` names the
    columns whose conditions they fail.

    ServiceNow ignores query terms on columns a table does not have [reference 1.2], so a
    mapping that names a missing column turns an equality look-up into "every record". Reading
    on would act on the wrong records (an idempotency look-up would find a write that never
    happened), so the answer is refused; `smpm check` compares the mapping with the instance.
    """

    def __init__(self, message: str, *, columns: tuple[str, ...] = (), **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.columns = columns


class InvalidResponse(FinalError):
    """The answer was not what the API documents (for example an HTML error page)."""


class TLSError(FinalError):
    """The TLS handshake failed; check `ca_bundle` or the server's certificate."""


class ConfigurationError(SmpmError):
    """Settings, mapping or rule files are invalid; the message names the file, key and problem."""
