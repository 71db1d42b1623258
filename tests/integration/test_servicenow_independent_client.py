"""The sandbox's ServiceNow face, checked by a Table API client that is not ours.

PySNC (ServiceNow's own Python client, `pysnc` on PyPI) creates, reads, updates and lists
incidents with an encoded query, paging in small batches, against `smpm sandbox` served over
HTTPS (PySNC talks to https instances only; the certificate is made for 127.0.0.1 by openssl
for this module). What it writes, our connector reads back, and the other way round: both
clients see one instance.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.entities import IncidentRequest
from connector.enums import Impact, Urgency
from connector.errors import TLSError
from connector.servicenow import ServiceNowConnector
from mappings.loader import PlatformMapping
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from tests.integration.conftest import servicenow_for

pysnc = pytest.importorskip("pysnc")
pytestmark = [pytest.mark.integration, pytest.mark.timeless]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make the sandbox's TLS certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "sandbox.pem", folder / "sandbox.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def instance(certificate: tuple[Path, Path]) -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo", tls=certificate) as sandbox:
        yield sandbox


@pytest.fixture
def snc(instance: Sandbox, certificate: tuple[Path, Path]) -> object:
    """PySNC on a session that trusts the sandbox's certificate and ignores the environment's
    CA bundle variables (requests would let them override `verify`)."""
    session = requests.Session()
    session.auth = (DEMO_USER, DEMO_PASSWORD)
    session.verify = str(certificate[0])
    session.trust_env = False
    return pysnc.ServiceNowClient(instance.base_url, session)


@pytest.fixture
def ours(
    instance: Sandbox,
    certificate: tuple[Path, Path],
    servicenow_mapping: PlatformMapping,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServiceNowConnector]:
    """Our connector with `ca_bundle` set, on a machine whose environment names another CA
    bundle (as many do): the configured one must win."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", requests.certs.where())
    with servicenow_for(instance, servicenow_mapping, ca_bundle=certificate[0]) as connector:
        yield connector


def test_create_get_and_update_through_pysnc(snc: object, ours: ServiceNowConnector) -> None:
    """An insert answers a sys_id; get and update by it; our connector sees the same record."""
    gr = snc.GlideRecord("incident")  # type: ignore[attr-defined]
    gr.initialize()
    gr.short_description = "pysnc: VPN drops every hour"
    gr.impact = "2"
    gr.urgency = "2"
    sys_id = gr.insert()
    assert sys_id is not None and len(str(sys_id)) == 32

    again = snc.GlideRecord("incident")  # type: ignore[attr-defined]
    assert again.get(str(sys_id))
    number = again.get_value("number")
    assert number.startswith("INC")
    assert again.get_value("priority") == "3"  # the instance's impact x urgency lookup: 2 x 2
    assert again.get_value("state") == "1"  # New

    again.urgency = "1"
    again.update()
    seen = ours.get(IncidentRequest, number)
    assert seen.summary == "pysnc: VPN drops every hour"
    assert (seen.impact, seen.urgency) == (Impact.MODERATE, Urgency.CRITICAL)
    assert seen.platform_id == str(sys_id)


def test_an_encoded_query_pages_through_every_match_once(
    snc: object, ours: ServiceNowConnector
) -> None:
    """Seven matches read three to a page: every one once, in the order asked for; the total
    comes from X-Total-Count."""
    made = [
        ours.create(IncidentRequest(summary=f"pysnc-paging {n}", impact=Impact.MINOR)).id
        for n in range(7)
    ]
    gr = snc.GlideRecord("incident", batch_size=3)  # type: ignore[attr-defined]
    gr.add_encoded_query("short_descriptionSTARTSWITHpysnc-paging^ORDERBYnumber")
    gr.query()
    assert gr.get_row_count() == 7
    numbers = [record.get_value("number") for record in gr]
    assert numbers == sorted(made)


def test_our_connector_refuses_the_instance_without_its_certificate(
    instance: Sandbox, servicenow_mapping: PlatformMapping
) -> None:
    """TLS is verified: a certificate no trusted CA signed stops the call, saying so."""
    with (
        servicenow_for(instance, servicenow_mapping, attempts=1) as connector,
        pytest.raises(TLSError, match=r"TLS verification failed .* set ca_bundle"),
    ):
        connector.get(IncidentRequest, "INC0010001")
