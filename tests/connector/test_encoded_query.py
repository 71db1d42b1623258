"""ServiceNow encoded queries rendered from filter expressions (reference section 1.6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.enums import IncidentStatus
from connector.filters import (
    And,
    Comparison,
    Field,
    Filter,
    IsNull,
    Like,
    LikeMode,
    Not,
    Op,
    all_of,
    any_of,
)
from connector.servicenow.encoded_query import (
    NOTHING,
    UnsupportedQuery,
    encoded_query,
    map_leaves,
    render,
    widen,
)

F = Field

CASES = [
    ("equality", F("state") == "1", "state=1"),
    (
        "not equal includes empty (is not: 'populated by any value except')",
        F("state") != "7",
        "state!=7^ORstateISEMPTY",
    ),
    ("ordering", F("priority") <= 2, "priority<=2"),
    ("enum members render their value", F("x") == IncidentStatus.NEW, "x=new"),
    ("booleans are true/false", F("active") == True, "active=true"),  # noqa: E712
    ("floats without exponent", F("business_percentage") >= 1e-05, "business_percentage>=0.00001"),
    (
        "dates are UTC YYYY-MM-DD HH:MM:SS",
        F("opened_at") >= datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "opened_at>=2024-01-02 01:04:05",
    ),
    ("contains", F("short_description").contains("disk"), "short_descriptionLIKEdisk"),
    ("starts with", F("short_description").startswith("db"), "short_descriptionSTARTSWITHdb"),
    ("ends with", F("short_description").endswith("01"), "short_descriptionENDSWITH01"),
    ("null", F("assignment_group").is_null(), "assignment_groupISEMPTY"),
    ("not null", F("assignment_group").not_null(), "assignment_groupISNOTEMPTY"),
    ("an empty value is emptiness", F("close_code") == "", "close_codeISEMPTY"),
    ("not an empty value", F("close_code") != "", "close_codeISNOTEMPTY"),
    (
        "dot-walks are field names",
        F("assignment_group.name") == "Network",
        "assignment_group.name=Network",
    ),
    ("^ inside a value is doubled", F("short_description") == "a^b^", "short_description=a^^b^^"),
    ("one_of plain tokens is IN", F("state").one_of("1", "2", "3"), "stateIN1,2,3"),
    ("one_of with a comma is ^OR", F("name").one_of("a,b", "c"), "name=a,b^ORname=c"),
    ("one_of with spaces is ^OR", F("name").one_of("a b", "c"), "name=a b^ORname=c"),
    ("one_of one value is =", F("name").one_of("x"), "name=x"),
    ("and", (F("a") == "1") & (F("b") == "2"), "a=1^b=2"),
    ("or binds tightest", (F("a") == "1") & ((F("b") == "2") | (F("c") == "3")), "a=1^b=2^ORc=3"),
    ("or of ands is ^NQ", ((F("a") == "1") & (F("b") == "2")) | (F("c") == "3"), "c=3^NQa=1^b=2"),
    (
        "and over ^NQ alternatives distributes",
        (F("k") == "1") & (((F("a") == "1") & (F("b") == "2")) | (F("c") == "3")),
        "k=1^c=3^NQk=1^a=1^b=2",
    ),
    (
        "not of a comparison inverts it, empty too",
        ~(F("priority") < 3),
        "priority>=3^ORpriorityISEMPTY",
    ),
    (
        "not of contains is NOT LIKE, empty too",
        ~F("short_description").contains("x"),
        "short_descriptionNOT LIKEx^ORshort_descriptionISEMPTY",
    ),
    ("not of null is not empty", ~F("a").is_null(), "aISNOTEMPTY"),
    ("not of an empty value is not empty", ~(F("a") == ""), "aISNOTEMPTY"),
    ("not of not equal is equal, empty excluded", ~(F("a") != "1"), "a=1"),
    (
        "not of IN is NOT IN, empty too",
        ~F("state").one_of("6", "7"),
        "stateNOT IN6,7^ORstateISEMPTY",
    ),
    (
        "not of an unsafe IN is a != chain, empty too",
        ~F("n").one_of("a,b", "c"),
        "n!=a,b^ORnISEMPTY^n!=c^ORnISEMPTY",
    ),
    ("De Morgan over or", ~((F("a") == "1") | (F("b") == "2")), "a!=1^ORaISEMPTY^b!=2^ORbISEMPTY"),
    (
        "De Morgan over and",
        ~((F("a") == "1") & (F("b") == "2")),
        "a!=1^ORaISEMPTY^ORb!=2^ORbISEMPTY",
    ),
    ("double negation", ~~(F("a") == "1"), "a=1"),
    (
        "an alert name with _ is written as it is",
        F("type").contains("host_down"),
        "typeLIKEhost_down",
    ),
    (
        "a % is written as it is",
        F("short_description").startswith("[disk_90%]"),
        "short_descriptionSTARTSWITH[disk_90%]",
    ),
    (
        "a name without wildcards",
        F("type").endswith("KubePodCrashLooping"),
        "typeENDSWITHKubePodCrashLooping",
    ),
]


@pytest.mark.parametrize(("expr", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_renders_the_documented_syntax(expr: Filter, expected: str) -> None:
    """Each construct renders as the 'Encoded query strings' and operator pages document."""
    assert render(expr) == expected


def test_a_stable_order_always_ends_the_query() -> None:
    """ORDERBYsys_id is the default and the tie-break, so offset paging cannot skip rows."""
    assert encoded_query(None) == "ORDERBYsys_id"
    assert encoded_query(F("a") == "1", [("number", True)]) == (
        "a=1^ORDERBYDESCnumber^ORDERBYsys_id"
    )
    assert encoded_query(None, [("sys_id", True)]) == "ORDERBYDESCsys_id"


REFUSED = [
    ("a script value", F("short_description") == "javascript:gs.getUserID()", "javascript"),
    ("a script value in any case", F("x") != "  JavaScript:x", "javascript"),
    ("a script value in a list", F("x").one_of("a", "javascript:y"), "javascript"),
    ("NULL", F("x") == "NULL", "NULL"),
    ("NOT contains with a percent", ~F("x").contains("100%"), "through widen()"),
    ("NOT contains with an underscore", ~F("x").contains("db_1"), "through widen()"),
    ("NOT contains with a backslash", ~F("x").contains("C:\\"), "through widen()"),
    ("< before =", F("x") < "=5", "would read as <="),
    ("ordering against empty", F("x") > "", "empty value"),
    ("NOT starts with", ~F("x").startswith("a"), "no ServiceNow operator"),
    ("a field name with an operator", F("state=1^ORactive") == "x", "not a ServiceNow field"),
    ("an upper-case field name", F("ORDERBYx") == "x", "not a ServiceNow field"),
    ("naive dates", F("opened_at") > datetime(2024, 1, 1), "timezone-aware"),
    ("infinity", F("x") > float("inf"), "cannot compare"),
]


@pytest.mark.parametrize(("expr", "words"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_what_cannot_be_written_safely_is_refused(expr: Filter, words: str) -> None:
    """A value that could change what the query matches is refused with a reason, not sent."""
    with pytest.raises(ValueError, match=re.escape(words)):
        render(expr)


def test_too_many_alternatives_are_refused() -> None:
    """An AND of many ORs of ANDs would explode into ^NQ queries; it is refused, not cut."""
    pair = ((F("a") == "1") & (F("b") == "2")) | ((F("c") == "3") & (F("d") == "4"))
    with pytest.raises(UnsupportedQuery, match="alternative queries"):
        render(all_of(*([pair] * 7)))


def test_map_leaves_keeps_the_tree() -> None:
    """Conditions are replaced one by one; AND, OR and NOT stay where they were."""
    expr = ~((F("a") == "1") | F("b").is_null())
    out = map_leaves(expr, lambda leaf: NOTHING if isinstance(leaf, IsNull) else leaf)
    assert render(out) == "a!=1^ORaISEMPTY^sys_idISNOTEMPTY"


# -- the structural property ---------------------------------------------------------------------
WORDS = ["NOT LIKE", "NOT IN", "ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "LIKE", "IN"]
OPERATORS = sorted([*WORDS, "!=", "<=", ">=", "=", "<", ">"], key=len, reverse=True)
Term = tuple[str, str, str]


def segments(query: str) -> list[str]:
    """Split on single `^`; `^^` is a literal caret (read greedily, left to right)."""
    out, current, i = [], [], 0
    while i < len(query):
        if query[i] == "^":
            if query[i + 1 : i + 2] == "^":
                current.append("^")
                i += 2
                continue
            out.append("".join(current))
            current = []
        else:
            current.append(query[i])
        i += 1
    out.append("".join(current))
    return out


def term(text: str) -> Term:
    """field, operator, value; the operator is the longest one that matches (the worst case)."""
    match = re.match(r"[a-z0-9_.]+", text)
    assert match, f"no field name in {text!r}"
    rest = text[match.end() :]
    op = next(o for o in OPERATORS if rest.startswith(o))
    return match.group(), op, rest[len(op) :]


def parse(query: str) -> list[list[list[Term]]]:
    """^NQ queries of ^-joined ^OR clauses, as a ServiceNow parser would read them."""
    queries: list[list[list[Term]]] = [[]]
    for index, segment in enumerate(segments(query)):
        if segment.startswith("ORDERBY"):
            continue
        if segment.startswith("NQ") and index:
            queries.append([[term(segment[2:])]])
        elif segment.startswith("OR") and index:
            queries[-1][-1].append(term(segment[2:]))
        else:
            queries[-1].append([term(segment)])
    return queries


def sample(value: str) -> Filter:
    return all_of(
        F("short_description") == value,
        any_of(F("description").contains(value), F("category") != value),
        ~(F("priority") < value),
        F("close_notes").endswith(value) | F("assignment_group.name").startswith(value),
    )


def expected(value: str) -> list[list[list[Term]]]:
    return [
        [
            [("short_description", "=", value)],
            [
                ("description", "LIKE", value),
                ("category", "!=", value),
                ("category", "ISEMPTY", ""),
            ],
            [("priority", ">=", value), ("priority", "ISEMPTY", "")],
            [("close_notes", "ENDSWITH", value), ("assignment_group.name", "STARTSWITH", value)],
        ]
    ]


def refused(value: str) -> bool:
    """The documented refusals that apply to `sample`."""
    return value.lstrip().lower().startswith("javascript:") or value == "NULL"


NASTY = ["^", "^OR", "^NQ", "^ORDERBY", "^EQ", "javascript:", "NULL", "=", ",", "@", "IN", "^^"]
VALUES = st.one_of(
    st.text(min_size=1),
    st.text(alphabet=st.sampled_from(list("^,@=!<>%_* NQORDEBYIJLKST\n")), min_size=1),
    st.lists(st.sampled_from([*NASTY, "x", " ", "a b"]), min_size=1).map("".join),
)


@given(value=VALUES)
def test_no_value_changes_the_structure_of_an_encoded_query(value: str) -> None:
    """Whatever characters a value holds, the query keeps its shape and the value its text."""
    if refused(value):
        with pytest.raises(UnsupportedQuery):
            render(sample(value))
        return
    assert parse(render(sample(value))) == expected(value)


@given(first=VALUES, second=VALUES)
def test_no_value_widens_an_in_list(first: str, second: str) -> None:
    """IN is written only when no value could split; otherwise as exact ^OR equalities."""
    if refused(first) or refused(second):
        with pytest.raises(UnsupportedQuery):
            render(F("number").one_of(first, second))
        return
    [[clause]] = parse(render(F("number").one_of(first, second)))
    if len(clause) == 1:
        field, op, listed = clause[0]
        assert (field, op, listed.split(",")) == ("number", "IN", [first, second])
    else:
        assert clause == [("number", "=", first), ("number", "=", second)]


def test_the_parser_sees_what_an_unescaped_value_would_do() -> None:
    """The property's parser is not naive: without the escape, a value would add a condition."""
    unescaped = "short_description=x^NQactive=true"
    assert parse(unescaped) == [
        [[("short_description", "=", "x")]],
        [[("active", "=", "true")]],
    ]
    assert parse(render(F("short_description") == "x^NQactive=true")) == [
        [[("short_description", "=", "x^NQactive=true")]]
    ]


def test_translated_comparisons_keep_enum_values_and_dates() -> None:
    """What the codec hands over (labels as strings, aware dates) renders as is."""
    when = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    expr = Comparison("state", Op.EQ, "6") & Comparison("resolved_at", Op.GE, when)
    assert render(expr) == "state=6^resolved_at>=2026-03-01 00:00:00"


# -- wider searches (issue: events whose type holds `_` or `%` were never processed) -----------
ALERTS = ["host_down", "cpu_high", "instance_down", "disk_90%", "KubePodCrashLooping"]


@pytest.mark.parametrize("name", ALERTS)
def test_realistic_alert_names_are_written_as_they_are(name: str) -> None:
    """Event Handling finds a condition's requests by `[<event type>]` at the start of the
    summary: written as it is, whatever `%` and `_` do on the instance it finds them."""
    expr = F("short_description").startswith(f"[{name}]")
    assert widen(expr) == expr
    assert render(expr) == f"short_descriptionSTARTSWITH[{name}]"


WIDER = [
    (
        "a backslash splits the text into parts searched each",
        F("name").contains("C:\\temp\\x_1"),
        "nameLIKEC:^nameLIKEtemp^nameLIKEx_1",
    ),
    (
        "a starting part keeps STARTSWITH, an ending part ENDSWITH",
        F("name").startswith("a\\b") | F("name").endswith("c\\d"),
        "nameSTARTSWITHa^nameLIKEb^NQnameLIKEc^nameENDSWITHd",
    ),
    ("only backslashes: any text", F("name").contains("\\\\"), "nameISNOTEMPTY"),
    (
        "NOT contains with an underscore: every record",
        ~F("type").contains("host_down"),
        "sys_idISNOTEMPTY",
    ),
    (
        "NOT starts with has no operator: every record",
        ~F("type").startswith("x"),
        "sys_idISNOTEMPTY",
    ),
    (
        "only the part that needs it widens",
        (F("state") == "1") & ~F("type").contains("50%"),
        "state=1^sys_idISNOTEMPTY",
    ),
]


@pytest.mark.parametrize(("expr", "expected"), [c[1:] for c in WIDER], ids=[c[0] for c in WIDER])
def test_searches_that_cannot_be_written_exactly_are_widened(expr: Filter, expected: str) -> None:
    """widen() never narrows: the connector drops what the wider query brings in."""
    assert widen(expr) != expr
    assert render(widen(expr)) == expected


def like_reads(pattern: str, value: str, how: str) -> bool:
    """`value LIKE '%pattern%'` on an instance that reads the text literally, as SQL wildcards,
    or as MySQL does (wildcards, backslash escapes)."""
    if how == "literal":
        return pattern in value
    regex, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if how == "mysql" and ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append({"%": ".*", "_": "."}.get(ch, re.escape(ch)))
        i += 1
    return re.search("".join(regex), value, re.S) is not None


def platform_holds(expr: Filter, value: str, how: str) -> bool:
    """A one-column instance's answer for the rendered shape of `expr` (value never empty)."""
    if isinstance(expr, Not):
        return not platform_holds(expr.part, value, how)
    if isinstance(expr, And):
        return all(platform_holds(p, value, how) for p in expr.parts)
    if isinstance(expr, IsNull):
        return expr.negated
    assert isinstance(expr, Like) and expr.mode is LikeMode.CONTAINS
    return like_reads(expr.text, value, how)


@given(
    text=st.text(alphabet=st.sampled_from(list("a_%\\b")), min_size=1, max_size=5),
    value=st.text(alphabet=st.sampled_from(list("a_%\\bx")), min_size=1, max_size=8),
    negated=st.booleans(),
    how=st.sampled_from(["literal", "wildcards", "mysql"]),
)
def test_a_widened_search_never_misses_a_match(
    text: str, value: str, negated: bool, how: str
) -> None:
    """Whether the instance reads `%`, `_` and `\\` literally, as wildcards or as MySQL does,
    every record the search means is among those the widened query finds."""
    expr: Filter = F("name").contains(text)
    if negated:
        expr = ~expr
    meant = (text not in value) if negated else (text in value)
    sent = widen(expr)
    if sent == NOTHING or sent == Not(NOTHING):
        assert platform_holds(Not(NOTHING), value, how)
        return
    if meant:
        assert platform_holds(sent, value, how)
