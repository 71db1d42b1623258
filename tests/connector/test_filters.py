"""The answer check: a record an answer holds must satisfy the filter that was sent.

ServiceNow ignores query terms on columns a table does not have [reference 1.2], so the
connector checks every record against the filter itself. The check must never refuse a record
a real instance may legitimately return (case, accents, wildcards, number and date formats
differ per instance), and must refuse one the filter excludes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import FilterNotApplied, FinalError
from connector.filters import Field, Filter, admits, columns, require, unmet
from connector.testing import matches

F = Field
ROW = {
    "sys_id": "26d1744d47603110d737cd9bd36d436b",
    "number": "INC0010006",
    "short_description": "[host_down] web-01 unreachable",
    "state": "2",
    "priority": "10",
    "business_percentage": "87.50",
    "opened_at": "2023-08-07 10:59:39",
    "assignment_group": "287ebd7da9fe198100f92cc8d1d2154e",
    "assignment_group.name": "Service Desk",
    "active": "true",
    "close_code": "",
    "caller_id": "",
    "caller_id.user_name": "",
}
OPENED = datetime(2023, 8, 7, 10, 59, 39, tzinfo=UTC)


class State(StrEnum):
    IN_PROGRESS = "2"


ADMITTED = [
    ("equality", F("state") == "2"),
    ("an enum member is its value", F("state") == State.IN_PROGRESS),
    (
        "'=' ignores case on most instances",
        F("short_description") == "[HOST_DOWN] WEB-01 UNREACHABLE",
    ),
    ("'=' ignores trailing blanks (MySQL pads)", F("number") == "INC0010006  "),
    ("numbers compare as numbers", F("business_percentage") == 87.5),
    ("a reference by its display value", F("assignment_group") == "Service Desk"),
    (
        "a date, its fraction of a second dropped as rendered",
        F("opened_at") == OPENED.replace(microsecond=700),
    ),
    ("a date read in the user's time zone", F("opened_at") == OPENED + timedelta(hours=2)),
    ("at or after, the fraction dropped", F("opened_at") >= OPENED.replace(microsecond=999999)),
    ("numeric ordering", F("priority") > 9),
    ("text ordering is not judged", F("short_description") < "a"),
    ("not equal", F("state") != "7"),
    ("not equal, empty too (filters' two-valued negation)", F("close_code") != "x"),
    ("one_of", F("state").one_of("1", "2")),
    ("NOT one_of, empty too", ~F("close_code").one_of("a", "b")),
    ("contains, ignoring case", F("short_description").contains("HOST_DOWN")),
    ("an underscore may be a wildcard", F("short_description").contains("web_01")),
    ("a percent may be a wildcard", F("short_description").startswith("[host%web")),
    ("ends with", F("short_description").endswith("unreachable")),
    ("NOT contains, empty too", ~F("close_code").contains("x")),
    ("empty", F("close_code").is_null()),
    ("a dot-walk of an empty reference is empty", F("caller_id.user_name").is_null()),
    ("a dot-walk missing from the answer reads as empty", F("caller_id.email").is_null()),
    ("not empty", F("assignment_group").not_null()),
    ("an empty value means empty", F("close_code") == ""),
    ("boolean", F("active") == True),  # noqa: E712
    ("and / or", (F("state") == "2") & ((F("priority") == "1") | (F("active") == "true"))),
    ("NOT of a condition it fails", ~(F("state") == "7")),
]


@pytest.mark.parametrize("expr", [c[1] for c in ADMITTED], ids=[c[0] for c in ADMITTED])
def test_what_an_instance_may_return_is_admitted(expr: Filter) -> None:
    """A record a real instance may legitimately return for the filter is never refused."""
    assert admits(expr, ROW)
    require(expr, ROW, "ServiceNow list incident", listed=True)


REFUSED = [
    ("another value", F("state") == "7", ["state"]),
    (
        "an idempotency key the record lacks",
        F("correlation_id") == "smpm-0a1b2c",
        ["correlation_id"],
    ),
    ("another number", F("business_percentage") == 50, ["business_percentage"]),
    ("a date a day off", F("opened_at") == OPENED + timedelta(days=1), ["opened_at"]),
    (
        "after, by more than any time zone",
        F("opened_at") > OPENED + timedelta(hours=15),
        ["opened_at"],
    ),
    ("numeric ordering", F("priority") < 1, ["priority"]),
    ("not equal to its own value", F("state") != "2", ["state"]),
    ("an empty field equals nothing", F("close_code") == "x", ["close_code"]),
    ("one_of without its value", F("state").one_of("6", "7"), ["state"]),
    ("contains other text", F("short_description").contains("cpu_high"), ["short_description"]),
    (
        "NOT contains its own text",
        ~F("short_description").contains("web-01"),
        ["short_description"],
    ),
    ("empty", F("assignment_group").is_null(), ["assignment_group"]),
    ("not empty", F("close_code").not_null(), ["close_code"]),
    ("the failing part of an and", (F("state") == "2") & (F("priority") == "1"), ["priority"]),
    (
        "every field of a failing or",
        (F("state") == "7") | (F("active") == "false"),
        ["state", "active"],
    ),
]


@pytest.mark.parametrize(("expr", "failing"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_record_the_filter_excludes_is_refused_naming_the_column(
    expr: Filter, failing: list[str]
) -> None:
    """The error names the columns whose conditions fail and says to run `smpm check`."""
    assert not admits(expr, ROW)
    assert unmet(expr, ROW) == failing
    with pytest.raises(FilterNotApplied) as caught:
        require(expr, ROW, "ServiceNow list incident")
    assert isinstance(caught.value, FinalError)
    assert caught.value.columns == tuple(failing)
    assert "record INC0010006" in str(caught.value) and "smpm check" in str(caught.value)


def test_a_column_missing_from_the_answer_is_one_the_table_lacks() -> None:
    """Every column of the filter was asked for; one that did not come back does not exist,
    and ServiceNow ignored its condition: even an 'is empty' on it is refused."""
    where = (F("u_site") == "Berlin") & (F("state") == "2")
    with pytest.raises(FilterNotApplied, match="the answer has no column 'u_site'") as caught:
        require(where, ROW, "ServiceNow list incident", listed=True)
    assert caught.value.columns == ("u_site",)
    with pytest.raises(FilterNotApplied, match="no column 'u_site'"):
        require(F("u_site").is_null(), ROW, "ServiceNow list incident", listed=True)
    with pytest.raises(FilterNotApplied, match="no column 'u_site'"):  # its reference column
        require(F("u_site.name") == "Berlin", ROW, "ServiceNow list incident", listed=True)
    require(F("u_site").is_null(), ROW, "Remedy list HPD:Help Desk")  # AR answers null


def test_columns_names_the_references_a_dot_walk_starts_from() -> None:
    """So they are asked for too: every record has them when the table does."""
    where = (F("assignment_group.name") == "x") & F("caller_id.user_name").is_null()
    assert columns(where) == [
        "assignment_group",
        "assignment_group.name",
        "caller_id",
        "caller_id.user_name",
    ]


def test_without_wildcards_a_search_means_its_text() -> None:
    """What the connector drops after a wider query: `_` then matches only itself."""
    assert admits(F("short_description").contains("web_01"), ROW)
    assert not admits(F("short_description").contains("web_01"), ROW, wildcards=False)
    assert admits(F("short_description").contains("HOST_DOWN"), ROW, wildcards=False)


def test_remedy_values_are_read_as_ar_sends_them() -> None:
    """AR JSON: dates as ISO 8601 with an offset, numbers as numbers, null for empty."""
    entry = {"Submit Date": "2022-06-21T11:08:05.000+0000", "Priority Weight": 20, "Status": None}
    when = datetime(2022, 6, 21, 11, 8, 5, tzinfo=UTC)
    assert admits((F("Submit Date") == when) & (F("Priority Weight") >= 20), entry)
    assert admits(F("Status").is_null() & (F("Status") != "Closed"), entry)
    assert not admits(F("Submit Date") > when + timedelta(days=1), entry)


# -- the property: an exact match is always admitted ---------------------------------------------
TEXT = st.text(alphabet=st.sampled_from(list("aB_%\\ x1-É")), max_size=6)
VALUE = TEXT.filter(bool)  # compared with "", a field is asked to be empty: no exact value
COLUMNS = ("a", "b")


def conditions() -> st.SearchStrategy[Filter]:
    leaf = st.one_of(
        st.builds(lambda c, v: F(c) == v, st.sampled_from(COLUMNS), VALUE),
        st.builds(lambda c, v: F(c) != v, st.sampled_from(COLUMNS), VALUE),
        st.builds(lambda c, v: F(c).contains(v), st.sampled_from(COLUMNS), TEXT),
        st.builds(lambda c, v: F(c).startswith(v), st.sampled_from(COLUMNS), TEXT),
        st.builds(lambda c, v: F(c).endswith(v), st.sampled_from(COLUMNS), TEXT),
        st.builds(lambda c, *vs: F(c).one_of(*vs), st.sampled_from(COLUMNS), VALUE, VALUE),
        st.builds(lambda c: F(c).is_null(), st.sampled_from(COLUMNS)),
        st.builds(lambda n: F("n") < n, st.integers(-5, 5)),
        st.builds(lambda n: F("n") >= n, st.integers(-5, 5)),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=6,
    )


@given(expr=conditions(), a=TEXT, b=TEXT, n=st.one_of(st.none(), st.integers(-5, 5)))
def test_every_exact_match_is_admitted(expr: Filter, a: str, b: str, n: int | None) -> None:
    """Whatever the filter and the values: a record that satisfies the filter exactly (as the
    fake connector evaluates the entity) is admitted as the platform sends it (every value a
    string, empty ""), with or without wildcards, and `unmet` agrees."""
    row = {"a": a, "b": b, "n": "" if n is None else str(n)}
    exact = matches({"a": a or None, "b": b or None, "n": n}, expr)
    if exact:
        assert admits(expr, row) and admits(expr, row, wildcards=False)
    assert (unmet(expr, row) == []) == admits(expr, row)
