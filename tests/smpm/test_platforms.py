"""What `smpm_itsm_call_seconds` labels a call with: the form or table, never a record id."""

from __future__ import annotations

import pytest

from smpm.intake.metrics import IntakeMetrics
from smpm.platforms import call_observer, resource_of

PATHS = [
    ("remedy entry list", "/api/arsys/v1/entry/HPD:IncidentInterface", "HPD:IncidentInterface"),
    ("remedy one entry", "/api/arsys/v1/entry/HPD:Help%20Desk/INC000000000001", "HPD:Help Desk"),
    ("remedy login", "/api/jwt/login", "jwt/login"),
    ("servicenow table", "/api/now/table/incident", "incident"),
    ("servicenow record", "/api/now/table/task_ci/0123456789abcdef0123456789abcdef", "task_ci"),
    ("servicenow batch", "/api/now/v1/batch", "batch"),
    ("servicenow oauth", "/oauth_token.do", "oauth_token.do"),
]


@pytest.mark.parametrize(("path", "resource"), [p[1:] for p in PATHS], ids=[p[0] for p in PATHS])
def test_a_call_is_labelled_by_its_form_or_table(path: str, resource: str) -> None:
    assert resource_of(path) == resource


def test_a_base_url_with_a_path_is_taken_off_first() -> None:
    """An ITSM behind a reverse proxy prefix (https://host/itsm) is labelled the same."""
    registry = IntakeMetrics(lambda: {}).registry
    labels = {"platform": "servicenow", "method": "GET", "resource": "incident", "status": "200"}
    before = registry.get_sample_value("smpm_itsm_call_seconds_count", labels) or 0.0
    observe = call_observer("servicenow", "https://host.example.com/itsm/")
    observe("GET", "https://host.example.com/itsm/api/now/table/incident/abc", "200", 0.01)
    assert registry.get_sample_value("smpm_itsm_call_seconds_count", labels) == before + 1
