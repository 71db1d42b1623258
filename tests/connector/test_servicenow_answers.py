"""What the ServiceNow connector does with an answer before trusting it.

- ServiceNow ignores query terms on columns a table does not have [reference 1.2]: every record
  of an answer is checked against the filter sent, most of all the executor's idempotency
  look-up by correlation id, on the recorded bodies as they are.
- "Transaction cancelled: maximum execution time exceeded", even inside an HTTP 200 [1.5]: the
  page is asked again, smaller.
- A search the query can only write wider (`%`/`_` may be wildcards): the extra records dropped.
- An incident holds one problem (`problem_id`) [2.2]: a second link is refused, not overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from connector.codec import load_platform_mapping
from connector.entities import Change, IncidentRequest, RecordKind, Relation, SupportGroup, Task
from connector.enums import ChangeStatus, ChangeTiming, Impact, RelationType, TaskStatus
from connector.errors import FilterNotApplied, Rejected, Unavailable
from connector.filters import Field, Filter
from connector.servicenow import ServiceNowConnector
from tests.conftest import recorded
from tests.connector.conftest import FakeClock, Sleeps, sn_options
from tests.connector.test_servicenow_records import (
    INCIDENT_ID,
    TABLE,
    body,
    incident_row,
    listing,
    query,
)

F = Field
CANCELLED = "Transaction cancelled: maximum execution time exceeded"
KEY = "smpm-0f3a9c1e5b7d2a4c6e8f0a1b2c3"  # an idempotency key (smpm.executor)


def recorded_change() -> dict[str, Any]:
    """CHG0031889 as recorded (display_value=all envelopes, float choice values)."""
    return dict(recorded("servicenow", "create_co_from_template_result.json")["result"])


# -- never trust the filter ------------------------------------------------------------------------
def test_an_idempotency_look_up_answered_with_another_record_is_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """As if the instance ignored `correlation_id=<key>`: the executor must not take the first
    change of the table for the write it looks for (it would skip a create that never
    happened)."""
    listing(mocked, "change_request", [recorded_change()])
    with pytest.raises(FilterNotApplied) as caught:
        list(sn.find(Change, F("correlation_id") == KEY, limit=1))
    assert caught.value.columns == ("correlation_id",)
    assert "CHG0031889" in str(caught.value) and "smpm check" in str(caught.value)
    assert query(mocked.calls[0])["sysparm_query"] == f"correlation_id={KEY}^ORDERBYsys_id"


@pytest.fixture
def site_mapped(
    mocked: responses.RequestsMock, clock: FakeClock, sleeps: Sleeps
) -> Iterator[ServiceNowConnector]:
    """A mapping naming a site column this instance's change_request does not have."""
    mapping = load_platform_mapping(
        "servicenow", {"kinds": {"change": {"fields": {"change_coordinator": "u_coordinator"}}}}
    )
    connector = ServiceNowConnector(sn_options(sleeps, clock), mapping)
    yield connector
    connector.close()


def test_a_column_the_table_lacks_is_named(
    mocked: responses.RequestsMock, site_mapped: ServiceNowConnector
) -> None:
    """The column is asked for in sysparm_fields; the answer lacks it: the term was ignored."""
    listing(mocked, "change_request", [recorded_change()])
    where = (F("change_coordinator") == "mary") & (F("status") == ChangeStatus.DRAFT)
    with pytest.raises(FilterNotApplied, match="the answer has no column 'u_coordinator'") as e:
        list(site_mapped.find(Change, where))
    assert e.value.columns == ("u_coordinator",)
    assert "u_coordinator" in query(mocked.calls[0])["sysparm_fields"].split(",")


MATCHING = [  # what CHG0031889 is: a real instance returns it for each of these
    ("its state, recorded as the float -5.0", F("status") == ChangeStatus.DRAFT),
    ("one of its timings", F("timing").one_of(ChangeTiming.STANDARD, ChangeTiming.NORMAL)),
    (
        "its creation, to the second the query is written with",
        F("created_at") == datetime(2022, 1, 6, 12, 12, 43, 250_000, tzinfo=UTC),
    ),
    ("created at or before", F("created_at") <= datetime(2022, 1, 6, 12, 12, 43, tzinfo=UTC)),
    (
        "its summary in another case ('=' ignores it)",
        F("summary") == "ADD NETWORK SWITCH TO CABINET",
    ),
    ("a part of its summary", F("summary").contains("switch to")),
    ("not another impact", F("impact") != Impact.EXTENSIVE),
    ("no correlation id", F("correlation_id").is_null()),
]


@pytest.mark.parametrize("where", [c[1] for c in MATCHING], ids=[c[0] for c in MATCHING])
def test_a_record_that_matches_is_never_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, where: Filter
) -> None:
    """The recorded change, as it is, for filters it satisfies: read without complaint."""
    listing(mocked, "change_request", [recorded_change()])
    assert [c.id for c in sn.find(Change, where)] == ["CHG0031889"]


NOT_MATCHING = [
    ("another state", F("status") == ChangeStatus.CLOSED, "state"),
    (
        "created a day later",
        F("created_at") > datetime(2022, 1, 7, 12, 12, 43, tzinfo=UTC),
        "sys_created_on",
    ),
    ("other words", F("summary").contains("firewall"), "short_description"),
    ("its own impact excluded", F("impact") != Impact.MINOR, "impact"),
]


@pytest.mark.parametrize(
    ("where", "column"), [c[1:] for c in NOT_MATCHING], ids=[c[0] for c in NOT_MATCHING]
)
def test_a_record_the_filter_excludes_is_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, where: Filter, column: str
) -> None:
    listing(mocked, "change_request", [recorded_change()])
    with pytest.raises(FilterNotApplied) as caught:
        list(sn.find(Change, where))
    assert caught.value.columns == (column,)


def test_the_recorded_change_tasks_page_through_the_check(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Six recorded tasks, state 1.0 each, two a page: all of them read, none refused."""
    tasks = recorded("servicenow", "get_tasks_for_co_command.json")["result"]
    for start in (0, 2, 4):
        listing(mocked, "change_task", tasks[start : start + 2], {"X-Total-Count": "6"})
    found = list(sn.find(Task, F("status") == TaskStatus.ASSIGNED))
    assert len(found) == 6


# -- a cancelled transaction -----------------------------------------------------------------------
def cancelled_body() -> dict[str, Any]:
    """The shape clients meet: a partial `result`, then the envelope, with HTTP 200."""
    detail = f"{CANCELLED}. Check logs for error trace."
    return {"result": [], "error": {"detail": detail, "message": CANCELLED}, "status": "failure"}


GROUPS = [{"sys_id": f"{n:032x}", "name": f"Group {n}"} for n in range(3)]


@pytest.mark.parametrize(
    ("answer", "times"),
    [
        ({"json": cancelled_body(), "status": 200}, 1),
        ({"body": '{"result": [{"sys_id": "1"},}""],"error":{"message":"' + CANCELLED + '"}}'}, 1),
        ({"json": cancelled_body(), "status": 500}, 4),  # after the HTTP layer's 4 attempts
    ],
    ids=["inside a 200", "a 200 that is no longer JSON", "a 500"],
)
def test_a_cancelled_page_is_asked_again_at_half_the_size(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, answer: dict[str, Any], times: int
) -> None:
    """Like a 5xx timeout, retryable: the same offset again with half the rows, and the list
    goes on at that size (pages of 2 here, so 1)."""
    for _ in range(times):
        mocked.get(f"{TABLE}/sys_user_group", **answer)
    for row in GROUPS:
        listing(mocked, "sys_user_group", [row], {"X-Total-Count": "3"})

    names = [g.name for g in sn.find(SupportGroup)]

    assert names == ["Group 0", "Group 1", "Group 2"]
    asked = [(query(c)["sysparm_offset"], query(c)["sysparm_limit"]) for c in mocked.calls]
    assert asked[-4:] == [("0", "2"), ("0", "1"), ("1", "1"), ("2", "1")]


def test_a_page_cancelled_at_every_size_is_unavailable(
    mocked: responses.RequestsMock, clock: FakeClock, sleeps: Sleeps, servicenow_mapping: Any
) -> None:
    """Halved three times at most, then Unavailable (retryable) with what to do about it."""
    options = replace(sn_options(sleeps, clock), page_size=40)
    with ServiceNowConnector(options, servicenow_mapping) as sn:
        mocked.get(f"{TABLE}/sys_user_group", json=cancelled_body())
        with pytest.raises(Unavailable, match="narrow it or lower page_size"):
            list(sn.find(SupportGroup))
    assert [query(c)["sysparm_limit"] for c in mocked.calls] == ["40", "20", "10", "5"]


# -- a search written wider ------------------------------------------------------------------------
def test_records_a_wildcard_brought_in_are_dropped(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """An instance that reads `_` as any character answers `[hostXdown]` too: dropped. The limit
    counts the records kept (full pages are asked for), so the real match is still found."""
    decoys = [
        incident_row(sys_id=f"{n:032x}", number=f"INC{n}", short_description=text)
        for n, text in ((1, "[hostXdown] web-02"), (2, "[host-down] web-03"))
    ]
    real = incident_row(sys_id="3" * 32, number="INC3", short_description="[host_down] web-01")
    listing(mocked, "incident", decoys, {"X-Total-Count": "3"})
    listing(mocked, "incident", [real], {"X-Total-Count": "3"})

    found = list(sn.find(IncidentRequest, F("summary").startswith("[host_down]"), limit=1))

    assert [i.id for i in found] == ["INC3"]
    first = query(mocked.calls[0])
    assert first["sysparm_query"] == "short_descriptionSTARTSWITH[host_down]^ORDERBYsys_id"
    assert first["sysparm_limit"] == "2"  # the page size, not the limit of 1


def test_a_negated_search_for_a_wildcard_asks_for_all_and_keeps_the_right_ones(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """NOT LIKE could miss records where `%` is a wildcard: every record asked for, then checked."""
    rows = [
        incident_row(sys_id="1" * 32, number="INC1", short_description="disk_90% on db-01"),
        incident_row(sys_id="2" * 32, number="INC2", short_description="disk 90 on db-02"),
    ]
    listing(mocked, "incident", rows)
    found = list(sn.find(IncidentRequest, ~F("summary").contains("disk_90%")))
    assert [i.id for i in found] == ["INC2"]
    assert query(mocked.calls[0])["sysparm_query"] == "sys_idISNOTEMPTY^ORDERBYsys_id"
    assert "short_description" in query(mocked.calls[0])["sysparm_fields"].split(",")


# -- one problem per incident ---------------------------------------------------------------------
PROBLEMS = {"PRB0040001": "d" * 32, "PRB0040002": "e" * 32}


def relate_to(sn: ServiceNowConnector, problem: str) -> None:
    sn.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id="INC0010006",
            target_kind=RecordKind.PROBLEM,
            target_id=problem,
            relation_type=RelationType.CAUSED_BY,
        )
    )


def incident_with(mocked: responses.RequestsMock, problem: str | None, target: str) -> None:
    """The look-up of the target problem, then the incident as it is, then the PATCH."""
    listing(mocked, "problem", [{"sys_id": PROBLEMS[target], "number": target}])
    row = {
        "sys_id": INCIDENT_ID,
        "number": "INC0010006",
        "problem_id": PROBLEMS.get(problem or "", ""),
    }
    listing(mocked, "incident", [{**row, "problem_id.number": problem or ""}])
    mocked.patch(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": {}})


def test_a_second_problem_is_refused_not_written_over_the_first(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """problem_id holds one link: PATCHing another would silently lose the first."""
    incident_with(mocked, "PRB0040001", "PRB0040002")
    with pytest.raises(Rejected, match="already names problem PRB0040001 in problem_id") as e:
        relate_to(sn, "PRB0040002")
    assert "PRB0040002" in str(e.value)
    assert not [c for c in mocked.calls if c.request.method == "PATCH"]


def test_relating_to_the_problem_it_names_is_a_no_op(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    incident_with(mocked, "PRB0040001", "PRB0040001")
    relate_to(sn, "PRB0040001")
    assert not [c for c in mocked.calls if c.request.method == "PATCH"]


def test_an_incident_without_a_problem_gets_the_link(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    incident_with(mocked, None, "PRB0040002")
    relate_to(sn, "PRB0040002")
    [patch] = [c for c in mocked.calls if c.request.method == "PATCH"]
    assert body(patch) == {"problem_id": PROBLEMS["PRB0040002"]}
