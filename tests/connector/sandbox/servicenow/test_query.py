"""The encoded query parser and its SQL, table-driven and against the demo data [1.6]."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sandbox import Sandbox
from connector.sandbox.servicenow.encoded_query import NotEmulated, Query, Term, escape, parse
from tests.connector.sandbox.servicenow.support import SN

T = Term
PARSES = [
    ("active=true", ((T("active", "=", "true"),),), ()),
    ("priority<=2^stateIN1,2", ((T("priority", "<=", "2"),), (T("state", "IN", "1,2"),)), ()),
    ("a=1^ORb=2^c=3", ((T("a", "=", "1"), T("b", "=", "2")), (T("c", "=", "3"),)), ()),
    ("short_descriptionLIKEmail", ((T("short_description", "LIKE", "mail"),),), ()),
    (
        "nameNOT LIKEx^nameNOT INa,b",
        ((T("name", "NOT LIKE", "x"),), (T("name", "NOT IN", "a,b"),)),
        (),
    ),
    (
        "name*x^name!*y^name%z",
        ((T("name", "LIKE", "x"),), (T("name", "NOT LIKE", "y"),), (T("name", "ENDSWITH", "z"),)),
        (),
    ),
    (
        "caller_idISEMPTY^emailISNOTEMPTY",
        ((T("caller_id", "ISEMPTY"),), (T("email", "ISNOTEMPTY"),)),
        (),
    ),
    ("xEMPTYSTRING^yANYTHING", ((T("x", "EMPTYSTRING"),), (T("y", "ANYTHING"),)), ()),
    ("sys_created_onBETWEENa@b", ((T("sys_created_on", "BETWEEN", "a@b"),),), ()),
    (
        "openedSAMEASclosed^aNSAMEASb",
        ((T("opened", "SAMEAS", "closed"),), (T("a", "NSAMEAS", "b"),)),
        (),
    ),
    (
        "assignment_group.name=Service Desk",
        ((T("assignment_group.name", "=", "Service Desk"),),),
        (),
    ),
    ("short_description=a=b!=c", ((T("short_description", "=", "a=b!=c"),),), ()),
    ("short_description=x^^y^ORz=1", ((T("short_description", "=", "x^y"), T("z", "=", "1")),), ()),
    ("a=1^EQ", ((T("a", "=", "1"),),), ()),
    (
        "a>=1^b!=2^c<3^d>4",
        ((T("a", ">=", "1"),), (T("b", "!=", "2"),), (T("c", "<", "3"),), (T("d", ">", "4"),)),
        (),
    ),
    ("a~1^b=2", ((T("b", "=", "2"),),), ("a~1",)),
    ("Name=x", (), ("Name=x",)),
]


@pytest.mark.parametrize(("text", "clauses", "invalid"), PARSES, ids=[p[0] for p in PARSES])
def test_parse_terms(text: str, clauses: tuple[object, ...], invalid: tuple[str, ...]) -> None:
    """Terms, OR binding to the term before, `^^` as a literal caret, invalid parts kept aside."""
    parsed = parse(text)
    assert parsed.groups == ((clauses,) if clauses else ())
    assert parsed.invalid == invalid


def test_parse_new_query_and_order() -> None:
    """`^NQ` starts a group OR-ed with the others; ORDERBY / ORDERBYDESC chain [1.6]."""
    parsed = parse(
        "short_descriptionISEMPTY^NQdescriptionISNOTEMPTY^ORDERBYnumber^ORDERBYDESCcategory"
    )
    assert parsed == Query(
        ((((T("short_description", "ISEMPTY"),),)), (((T("description", "ISNOTEMPTY"),),))),
        (("number", False), ("category", True)),
    )


@pytest.mark.parametrize(
    "text",
    [
        "RLQUERYincident.problem_id,>=1^ENDRLQUERY",
        "JOINsys_user.sys_id=x!active=true",
        "nameIN_HIERARCHYx",
    ],
)
def test_not_emulated_parts_are_refused(text: str) -> None:
    with pytest.raises(NotEmulated):
        parse(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab^=@,ORNQ ^!<>*%"), max_size=20))
def test_escaped_values_round_trip(value: str) -> None:
    """Any value written with `^` doubled parses back unchanged, whatever follows it [1.6]."""
    query = parse(f"short_description={escape(value)}^ORDERBYnumber")
    assert query.groups == (((T("short_description", "=", value),),),)
    assert query.order == (("number", False),)


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12))
def test_escaped_values_find_their_record(sandbox: Sandbox, value: str) -> None:
    """End to end: a record stored with any text is found by `=` on that text, escaped."""
    client = SN(sandbox.base_url)
    made = client.new("incident", short_description=value, correlation_id="roundtrip")
    found = client.rows(
        "incident",
        sysparm_query=f"correlation_id=roundtrip^short_description={escape(value)}",
        sysparm_fields="sys_id",
    )
    assert {"sys_id": made["sys_id"]} in found
    client.delete("incident", made["sys_id"])


def numbers(sn: SN, query: str, table: str = "incident", **params: str) -> list[str]:
    rows = sn.rows(table, sysparm_query=query, sysparm_fields="number,name", **params)
    return [r.get("number") or r.get("name", "") for r in rows]


QUERIES = [  # against the demo seed's incidents (see demo_seed.toml)
    ("short_description=Packet loss on core-sw-02", 1),
    ("short_descriptionLIKEpayroll", 3),  # LIKE ignores case
    ("short_descriptionSTARTSWITHpayroll", 2),
    ("short_descriptionENDSWITHmailbox", 1),
    ("assignment_group.name=Service Desk", 3),
    ("assignment_group=Service Desk", 3),  # a reference by its display value
    ("assignment_groupLIKEdesk", 3),
    ("assignment_groupISEMPTY^short_descriptionNOT LIKEtest", 5),
    ("assignment_group.manager.user_name=Mary", 3),
    ("caller_id.emailISEMPTY^u_service_type=infrastructure_event", 3),  # no caller at all
    ("priority=1", 2),
    ("priorityIN1,2^ORDERBYnumber", 5),
    ("priority<=2^state!=2", 2),
    ("priorityNOT IN3,4,5", 5),
    ("state=3", 2),
    ("stateBETWEEN2@3", 7),
    ("u_event_keyISNOTEMPTY", 3),
    ("u_event_keySTARTSWITHcalbro-mon-0001", 2),
    ("business_service.name=Payroll^ORbusiness_service.name=Email", 5),
    ("business_service.nameINPayroll,Email^impact=1", 2),
    ("u_service_type=infrastructure_event^NQpriority=1", 5),
    ("opened_at>=javascript:gs.daysAgoStart(1)^active=true", None),
    ("opened_at<javascript:gs.beginningOfToday()^ORopened_atISEMPTY", None),
    (
        "opened_atBETWEENjavascript:gs.dateGenerate('2000-01-01','start')@javascript:gs.endOfToday()",
        16,
    ),
    ("opened_atRELATIVEGT@day@ago@1", None),
    ("caller_idDYNAMIC54635e965f510100a9ad2572f2b4774c", 0),
    ("sys_created_onSAMEASsys_updated_on^state=1", None),
    (
        "opened_atON2000-01-01@javascript:gs.dateGenerate('2000-01-01','start')@javascript:gs.dateGenerate('2000-01-01','end')",
        0,
    ),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_queries_on_the_demo_incidents(sn: SN, query: str, expected: int | None) -> None:
    """Each operator against the seeded incidents (seeded ones only: numbers up to INC0010016)."""
    found = numbers(sn, f"{query}^number<=INC0010016")
    if expected is not None:
        assert len(found) == expected, found


def test_query_results_are_consistent(sn: SN) -> None:
    """OR, NQ and negations partition the rows as they should."""
    everything = set(numbers(sn, "number<=INC0010016"))
    high = set(numbers(sn, "priorityIN1,2^number<=INC0010016"))
    rest = set(numbers(sn, "priorityNOT IN1,2^number<=INC0010016"))
    assert high | rest == everything and not high & rest
    either = set(numbers(sn, "priority=1^number<=INC0010016^NQpriority=2^number<=INC0010016"))
    assert either == high
    assert numbers(sn, "number<=INC0010016^ORDERBYDESCnumber") == sorted(everything, reverse=True)


def test_numbers_compare_as_numbers(sn: SN) -> None:
    """Integer choice columns compare numerically: change states run -5..4 [2.3]."""
    states = {
        r["state"]
        for r in sn.rows("change_request", sysparm_query="state<0", sysparm_fields="state")
    }
    assert states and all(int(s) < 0 for s in states)


def test_name_value_pairs(sn: SN) -> None:
    """`&field=value` filters; a choice may be given by its label [1.2]."""
    by_value = sn.rows("incident", state="3", sysparm_fields="number")
    by_label = sn.rows("incident", state="On Hold", sysparm_fields="number")
    assert by_value == by_label and len(by_value) == 2


def test_invalid_fields_are_ignored_or_empty_the_result(sandbox: Sandbox, sn: SN) -> None:
    """An unknown field in a query is ignored by default; with the
    glide.invalid_query.returns_no_rows setting, no rows come back [1.2]."""
    valid = numbers(sn, "priority=1")
    assert numbers(sn, "priority=1^bogus_field=3") == valid
    assert numbers(sn, "priority=1^caller_id.bogus=3") == valid
    sandbox.servicenow.settings.invalid_query_returns_no_rows = True
    try:
        assert numbers(sn, "priority=1^bogus_field=3") == []
        assert numbers(sn, "priority=1") == valid
    finally:
        sandbox.servicenow.settings.invalid_query_returns_no_rows = False


def test_unemulated_query_parts_answer_400(sn: SN) -> None:
    """Parts the sandbox does not evaluate are refused clearly, not silently ignored."""
    for query in ("javascript:getGroupQualifier()", "opened_at>javascript:gs.somethingElse()"):
        answer = sn.list("incident", sysparm_query=query)
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == "Not supported by the smpm sandbox"
