"""ServiceNow error answers: `{"error": {"message", "detail"}, "status": "failure"}` [1.5].

Bodies are the recorded ones where the reference has them; the few the sandbox had to choose
are marked UNCONFIRMED in README.md.
"""

from __future__ import annotations

from typing import Any


class SNError(Exception):
    """An answer with ServiceNow's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}: {detail}")
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return envelope(self.message, self.detail)


def envelope(message: str, detail: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


def invalid_table(name: str) -> SNError:
    """Same answer for every user, with `detail` null [1.5, OBS]."""
    return SNError(400, f"Invalid table {name}", None)


def no_record() -> SNError:
    return SNError(
        404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
    )


def no_records_v1() -> SNError:
    """An empty list on /api/now/v1 [1.1: "v1 returns 404 with no results"]; detail UNCONFIRMED."""
    return SNError(
        404,
        "No Record found",
        "Records matching query not found. Check query parameter or offset parameter",
    )


def not_authenticated() -> SNError:
    return SNError(
        401,
        "User Not Authenticated",
        "Required to provide Auth information",
        {"WWW-Authenticate": 'BASIC realm="Service-now"'},
    )


def unreadable_body() -> SNError:
    return SNError(
        400,
        "Exception while reading request",
        "Verify Request body and Content-type headers. Not able to parse request",
    )


def no_resource() -> SNError:
    """An unknown path under /api/now [1.5: status UNCONFIRMED, 400 chosen]."""
    return SNError(400, "Requested URI does not represent any resource", None)


def write_denied(operation: str) -> SNError:
    """A write ACL [1.5]; `Update` is the recorded wording, Insert/Delete follow it."""
    return SNError(
        403, "Operation Failed", f"ACL Exception {operation} Failed due to security constraints"
    )


def query_denied() -> SNError:
    return SNError(
        403,
        "Insufficient rights to query records",
        "Field(s) present in the query do not have permission to be read",
    )


def not_emulated(what: str) -> SNError:
    """Something the platform supports but the sandbox does not (its own wording)."""
    return SNError(400, "Not supported by the smpm sandbox", what)
