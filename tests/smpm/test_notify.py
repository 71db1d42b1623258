"""SMPM's "informs X" beyond the work note: e-mail and chat, where configured."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pytest
import responses
from pydantic import SecretStr

from connector.entities import Person, RecordKind
from connector.errors import ConfigurationError, Unavailable
from connector.testing import FakeConnector
from procedures.plan import Action, ActionKind, Reason
from smpm.notify import EmailSection, NotifySection, build_notifier
from smpm.settings import load_settings

ACTION = Action(
    kind=ActionKind.NOTIFY,
    step="s",
    trigger="t",
    target_kind=RecordKind.INCIDENT,
    target_id="INC1",
    recipient="olivia",
    message="INC1 needs you",
    reason=Reason(
        process="Incident Management",
        procedure="P3 Incident Request Tracking",
        rule="outage past its resolution threshold",
    ),
)


class FakeSmtp:
    sent: ClassVar[list[EmailMessage]] = []
    calls: ClassVar[list[str]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(f"connect {host}:{port}")

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}")

    def send_message(self, mail: EmailMessage) -> None:
        self.sent.append(mail)


def test_email_goes_to_the_address_the_itsm_holds() -> None:
    """The recipient's address is the ITSM's; the subject and body carry the SMPM reason."""
    FakeSmtp.sent, FakeSmtp.calls = [], []
    fake = FakeConnector().add(Person(id="P1", login="olivia", email="o.ortega@example.com"))
    section = NotifySection(
        email=EmailSection.model_validate(
            {
                "host": "smtp.example.com",
                "from": "smpm@example.com",
                "username": "smpm",
                "password": "pw",
            }
        )
    )
    build_notifier(section, fake, smtp=FakeSmtp)("olivia", "INC1 needs you", ACTION)
    mail = FakeSmtp.sent[0]
    assert mail["To"] == "o.ortega@example.com"
    assert mail["Subject"] == "[smpm] Incident Management P3 Incident Request Tracking"
    assert "outage past its resolution threshold" in mail.get_content()
    assert FakeSmtp.calls == ["connect smtp.example.com:587", "starttls", "login smpm"]


def test_no_address_means_work_note_only() -> None:
    FakeSmtp.sent = []
    section = NotifySection(email=EmailSection.model_validate({"host": "h", "from": "f@x"}))
    build_notifier(section, FakeConnector(), smtp=FakeSmtp)("nobody", "m", ACTION)
    assert FakeSmtp.sent == []


def test_smtp_failure_is_retryable_and_names_the_server() -> None:
    class Refused(FakeSmtp):
        def __init__(self, *a: Any, **k: Any) -> None:
            raise ConnectionRefusedError("refused")

    fake = FakeConnector().add(Person(id="P1", login="olivia", email="o@example.com"))
    section = NotifySection(
        email=EmailSection.model_validate({"host": "smtp.example.com", "from": "f@x"})
    )
    with pytest.raises(Unavailable, match=r"via smtp\.example\.com failed"):
        build_notifier(section, fake, smtp=Refused)("olivia", "m", ACTION)


@responses.activate
def test_chat_webhook_gets_one_line() -> None:
    responses.post("https://chat.example.com/hook/T0KEN", json={"ok": True})
    section = NotifySection(chat_webhook_url=SecretStr("https://chat.example.com/hook/T0KEN"))
    build_notifier(section, FakeConnector())("olivia", "INC1 needs you", ACTION)
    assert responses.calls[0].request.body == (
        b'{"text": "olivia: INC1 needs you (Incident Management P3 Incident Request Tracking: '
        b'outage past its resolution threshold)"}'
    )


@responses.activate
def test_chat_webhook_refusal_is_reported() -> None:
    responses.post("https://chat.example.com/hook/T0KEN", status=404)
    section = NotifySection(chat_webhook_url=SecretStr("https://chat.example.com/hook/T0KEN"))
    with pytest.raises(ConfigurationError, match="HTTP 404"):
        build_notifier(section, FakeConnector())("olivia", "m", ACTION)


def test_webhook_url_is_a_secret(tmp_path: Path) -> None:
    """A chat webhook URL grants posting rights: like a password, never in the file."""
    path = tmp_path / "smpm.toml"
    path.write_text('[notify]\nchat_webhook_url = "https://chat.example.com/hook/T0KEN"\n')
    with pytest.raises(ConfigurationError, match="SMPM_NOTIFY__CHAT_WEBHOOK_URL"):
        load_settings(path)
