"""Who is calling the ServiceNow face: HTTP Basic or an OAuth bearer token [1.7], and what the
restricted user may not do (ACLs) [1.5, 2.9].

The same logins as the AR face (the demo users, seed people with a password, `users=`) plus the
restricted users of the settings. Missing, malformed or wrong credentials and unknown or expired
tokens are 401 "User Not Authenticated". A restricted user may read, except the settings'
`denied_tables` (403 "Insufficient rights to query records") and `sys_journal_field`, whose
rows its read ACL hides (200 with `[]`, as the platform answers unprivileged users [2.9]);
every write is 403 "Operation Failed" (ACL Exception Insert/Update/Delete Failed).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from sandbox.servicenow.errors import (
    not_authenticated,
    query_denied,
    write_denied,
)
from sandbox.servicenow.oauth import OAuth
from sandbox.servicenow.settings import ServiceNowSettings

OPERATIONS = {"POST": "Insert", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}
HIDDEN_ROWS = ("sys_journal_field",)


class Users:
    """Logins and passwords; the mapping is shared with the AR face, so additions show in both."""

    def __init__(self, passwords: Mapping[str, str], settings: ServiceNowSettings) -> None:
        self.passwords = passwords
        self.settings = settings

    def check(self, user: str, password: str) -> bool:
        known = self.settings.readonly_users.get(user, self.passwords.get(user))
        return known is not None and hmac.compare_digest(known.encode(), password.encode())

    def logins(self) -> list[str]:
        return sorted({*self.passwords, *self.settings.readonly_users})

    def restricted(self, user: str) -> bool:
        return user in self.settings.readonly_users


class Authenticator:
    def __init__(self, users: Users, oauth: OAuth) -> None:
        self.users = users
        self.oauth = oauth

    def user(self, authorization: str | None) -> str:
        """The user behind an `Authorization` header; SNError 401 otherwise."""
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise not_authenticated() from None
            user, sep, password = decoded.partition(":")
            if sep and self.users.check(user, password):
                return user
        elif scheme.lower() == "bearer" and credentials:
            user = self.oauth.user(credentials)
            if user is not None:
                return user
        raise not_authenticated()

    # -- ACLs -------------------------------------------------------------------------------------
    def check_write(self, user: str, method: str) -> None:
        if self.users.restricted(user):
            raise write_denied(OPERATIONS.get(method, "Update"))

    def check_query(self, user: str, table: str) -> None:
        if self.users.restricted(user) and table in self.users.settings.denied_tables:
            raise query_denied()

    def may_read(self, user: str, table: str) -> bool:
        """Whether a record of `table` is visible to `user`."""
        restricted = self.users.restricted(user)
        return not restricted or (
            table not in self.users.settings.denied_tables and table not in HIDDEN_ROWS
        )

    def hides_rows(self, user: str, table: str) -> bool:
        return self.users.restricted(user) and table in HIDDEN_ROWS
