"""AR qualifications rendered from filter expressions (reference section 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.enums import IncidentStatus
from connector.filters import Field, Filter, LikeMode, all_of, any_of
from connector.remedy.qualification import quote_field, quote_value, render

CASES = [
    ("equality", Field("Status") == "New", "'Status' = \"New\""),
    ("not equal", Field("Status") != "Closed", "'Status' != \"Closed\""),
    ("numbers are bare", Field("Priority Weight") >= 20, "'Priority Weight' >= 20"),
    (
        "dates are epoch seconds in quotes",
        Field("Submit Date") > datetime(2022, 7, 5, 14, 53, 17, tzinfo=UTC),
        "'Submit Date' > \"1657032797\"",
    ),
    ("enum members render their value", Field("x") == IncidentStatus.NEW, "'x' = \"new\""),
    ("null", Field("Assigned Group").is_null(), "'Assigned Group' = $NULL$"),
    ("not null", Field("Assigned Group").not_null(), "'Assigned Group' != $NULL$"),
    ("contains", Field("Description").contains("disk"), "'Description' LIKE \"%disk%\""),
    ("starts with", Field("Description").startswith("db"), "'Description' LIKE \"db%\""),
    ("ends with", Field("Description").endswith("01"), "'Description' LIKE \"%01\""),
    (
        "wildcards in a LIKE value are bracketed so they match literally",
        Field("Description").contains("100%_[x"),
        "'Description' LIKE \"%100[%][_][[]x%\"",
    ),
    (
        "quotes are doubled, never backslashed",
        Field("Doug's Field") != 'Robert "Bobby" Smith',
        '\'Doug\'\'s Field\' != "Robert ""Bobby"" Smith"',
    ),
    (
        "and/or nest with parentheses",
        (Field("A") == "x") & ((Field("B") == "y") | (Field("C") == "z")),
        "('A' = \"x\" AND ('B' = \"y\" OR 'C' = \"z\"))",
    ),
    ("not", ~(Field("Status") == "Closed"), "NOT ('Status' = \"Closed\")"),
    ("one_of expands to OR", Field("S").one_of("a", "b"), "('S' = \"a\" OR 'S' = \"b\")"),
]


@pytest.mark.parametrize(("expr", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_renders_the_documented_syntax(expr: Filter, expected: str) -> None:
    """Each construct renders as BMC's 'Formatting conventions for fields in qualifications'."""
    assert render(expr) == expected


def test_and_flattens_chains() -> None:
    """a & b & c is one AND of three parts, not nested pairs."""
    expr = (Field("A") == "1") & (Field("B") == "2") & (Field("C") == "3")
    assert render(expr) == "('A' = \"1\" AND 'B' = \"2\" AND 'C' = \"3\")"
    assert all_of(Field("A") == "1") == (Field("A") == "1")
    assert render(any_of(Field("A") == "1", Field("B") == "2")) == "('A' = \"1\" OR 'B' = \"2\")"


@pytest.mark.parametrize("bad", [None, [1], {"a": 1}])
def test_unsupported_values_are_refused(bad: object) -> None:
    """None must be asked for with is_null(); containers are not values."""
    with pytest.raises(TypeError):
        _ = Field("A") == bad


def test_naive_dates_and_booleans_are_refused() -> None:
    """A date without a zone or a bare boolean would silently compare wrongly."""
    with pytest.raises(ValueError, match="timezone"):
        quote_value(datetime(2022, 1, 1))
    with pytest.raises(TypeError):
        quote_value(True)
    with pytest.raises(ValueError):
        quote_value(float("nan"))


# -- the structural property ---------------------------------------------------------------------
TOKEN = re.compile(
    r"""\s*(?:
      (?P<field>'(?:[^']|'')*')
    | (?P<value>"(?:[^"]|"")*")
    | (?P<null>\$NULL\$)
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<kw>\b(?:AND|OR|NOT|LIKE)\b)
    | (?P<paren>[()])
    | (?P<num>-?\d+(?:\.\d+)?)
    )""",
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[tuple[str, str]]:
    """Split a qualification into (kind, text) tokens; fails on anything unexpected."""
    out, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        assert match and match.end() > pos, f"unexpected text at {pos}: {text[pos : pos + 20]!r}"
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def shape(text: str) -> list[str]:
    """Token kinds, with keywords, operators and parentheses spelled out."""
    return [kind if kind in ("field", "value", "num") else tok for kind, tok in tokens(text)]


def unquote(token: str, quote: str) -> str:
    return token[1:-1].replace(quote * 2, quote)


def sample(field: str, value: str, mode: LikeMode) -> Filter:
    f = Field(field)
    return all_of(
        f == value,
        ~(f != value) | f.is_null(),
        any_of(f.contains(value) if mode is LikeMode.CONTAINS else f.startswith(value), f >= value),
    )


@given(field=st.text(min_size=1), value=st.text(), mode=st.sampled_from(list(LikeMode)))
def test_no_value_changes_the_structure_of_a_qualification(
    field: str, value: str, mode: LikeMode
) -> None:
    """Whatever characters a field name or value holds, the query keeps its shape and its values."""
    rendered = render(sample(field, value, mode))
    reference = render(sample("f", "v", mode))
    assert shape(rendered) == shape(reference)
    fields = [unquote(t, "'") for k, t in tokens(rendered) if k == "field"]
    values = [unquote(t, '"') for k, t in tokens(rendered) if k == "value"]
    assert set(fields) == {field}
    assert values[0] == value and values[1] == value and values[3] == value


def test_quoting_helpers_round_trip() -> None:
    """The helpers double their own quote character and nothing else."""
    assert quote_field("a'b") == "'a''b'"
    assert quote_value("a\"b'c") == '"a""b\'c"'
