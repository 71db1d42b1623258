"""AR System error answers: a JSON array of message objects [reference 2.7].

Every refusal in the sandbox is an `ARError`; the HTTP layer turns it into
`[{"messageType": "ERROR", "messageText": ..., "messageAppendedText": ..., "messageNumber": N}]`.
Numbers 302, 303 and 623 and their texts are documented by BMC; the others are the sandbox's
choice (UNCONFIRMED, listed in README.md) and clients should key on the HTTP status and text.
"""

from __future__ import annotations

from typing import Any

ENTRY_NOT_FOUND = 302
FORM_NOT_FOUND = 303
AUTH_FAILED = 623
# Sandbox choices (UNCONFIRMED): see README.md, "UNCONFIRMED choices".
BAD_VALUE = 306
UNKNOWN_FIELD = 314
REQUIRED = 326
BAD_QUALIFICATION = 1587
BAD_REQUEST = 8955


class ARError(Exception):
    """A refusal the server answers with an AR error array and an HTTP status."""

    def __init__(self, status: int, number: int, text: str, appended: str | None = None) -> None:
        super().__init__(f"ERROR ({number}): {text}" + (f"; {appended}" if appended else ""))
        self.status = status
        self.number = number
        self.text = text
        self.appended = appended

    def body(self) -> list[dict[str, Any]]:
        return [
            {
                "messageType": "ERROR",
                "messageText": self.text,
                "messageAppendedText": self.appended,
                "messageNumber": self.number,
            }
        ]


def form_not_found(form: str) -> ARError:
    return ARError(404, FORM_NOT_FOUND, "Form does not exist on server", form)


def entry_not_found(entry_id: str) -> ARError:
    return ARError(404, ENTRY_NOT_FOUND, "Entry does not exist in database", entry_id)


def auth_failed(user: str | None = None) -> ARError:
    return ARError(401, AUTH_FAILED, "Authentication failed", user)


def unknown_field(name: str, form: str) -> ARError:
    text = "Field does not exist on current form"
    return ARError(400, UNKNOWN_FIELD, text, f"{name} (form {form})")


def bad_value(field: str, problem: str) -> ARError:
    return ARError(
        400,
        BAD_VALUE,
        "Value does not fall within the limits specified for the field",
        f"{field}: {problem}",
    )


def required(field: str, why: str | None = None) -> ARError:
    appended = field + (f" ({why})" if why else "")
    return ARError(400, REQUIRED, "Required field cannot be blank", appended)


def bad_qualification(position: int, problem: str) -> ARError:
    return ARError(
        400, BAD_QUALIFICATION, "Syntax error in qualification", f"position {position}: {problem}"
    )


def bad_request(problem: str) -> ARError:
    return ARError(400, BAD_REQUEST, "Request body is incorrect", problem)
