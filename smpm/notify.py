"""Channels for SMPM's "informs X" steps, beyond the work note every such step writes.

The work note on the record is the durable notification (people see it where they work). Where
configured, the person is also mailed (SMTP, the address from the ITSM's person record) and a
chat channel gets a line (an incoming-webhook URL, Slack/Teams/Mattermost style `{"text": ...}`).
Delivery is at-least-once: a crash between sending and recording sends again on the replay.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from functools import lru_cache

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connector.base import Connector
from connector.entities import Person
from connector.errors import ConfigurationError, Unavailable
from connector.filters import Field as F
from procedures.plan import Action

log = logging.getLogger("smpm.notify")

Notifier = Callable[[str, str, Action], None]


class EmailSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 587
    starttls: bool = True
    sender: str = Field(alias="from")
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 10.0


class NotifySection(BaseModel):
    """`[notify]`: optional channels. Secrets (SMTP password, webhook URL) come from env."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: EmailSection | None = None
    chat_webhook_url: SecretStr | None = None


SmtpFactory = Callable[..., smtplib.SMTP]


def build_notifier(
    section: NotifySection,
    connector: Connector,
    *,
    smtp: SmtpFactory = smtplib.SMTP,
    session: requests.Session | None = None,
) -> Notifier:
    channels: list[Notifier] = [_log]
    if section.email is not None:
        channels.append(_EmailChannel(section.email, connector, smtp))
    if section.chat_webhook_url is not None:
        channels.append(_ChatChannel(section.chat_webhook_url, session or requests.Session()))

    def notify(recipient: str, message: str, action: Action) -> None:
        for channel in channels:
            channel(recipient, message, action)

    return notify


def _log(recipient: str, message: str, action: Action) -> None:
    log.info("inform %s: %s", recipient, message, extra={"procedure": action.reason.procedure})


class _EmailChannel:
    def __init__(self, config: EmailSection, connector: Connector, smtp: SmtpFactory) -> None:
        self.config = config
        self.smtp = smtp
        self.address = lru_cache(maxsize=512)(self._lookup)
        self.connector = connector

    def _lookup(self, login: str) -> str | None:
        person = next(iter(self.connector.find(Person, F("login") == login, limit=1)), None)
        return person.email if person is not None else None

    def __call__(self, recipient: str, message: str, action: Action) -> None:
        address = self.address(recipient)
        if not address:
            log.warning(
                "no e-mail address for %s in the ITSM; informed by work note only", recipient
            )
            return
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = address
        mail["Subject"] = f"[smpm] {action.reason.process} {action.reason.procedure}"
        mail.set_content(f"{message}\n\nWhy: {action.reason}\n")
        try:
            with self.smtp(
                self.config.host, self.config.port, timeout=self.config.timeout
            ) as server:
                if self.config.starttls:
                    server.starttls()
                if self.config.username and self.config.password:
                    server.login(self.config.username, self.config.password.get_secret_value())
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(f"e-mail to {address} via {self.config.host} failed: {exc}") from None


class _ChatChannel:
    def __init__(self, url: SecretStr, session: requests.Session) -> None:
        self.url = url
        self.session = session

    def __call__(self, recipient: str, message: str, action: Action) -> None:
        text = f"{recipient}: {message} ({action.reason})"
        try:
            response = self.session.post(
                self.url.get_secret_value(), json={"text": text}, timeout=10
            )
        except requests.RequestException as exc:
            raise Unavailable(f"chat webhook failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise ConfigurationError(f"chat webhook answered HTTP {response.status_code}")
