"""The sandbox's own qualification parser and its LIKE translation [reference 3]."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import Sandbox
from sandbox.engine import Engine
from sandbox.qualification import (
    And,
    Compare,
    Field,
    Keyword,
    Not,
    Or,
    QualificationError,
    Value,
    parse,
    quote_field,
    quote_value,
)
from sandbox.query import like_to_glob


def shape(node: object) -> object:
    """The tree without positions, for readable expectations."""
    if isinstance(node, Compare):
        return (shape(node.left), node.op, shape(node.right))
    if isinstance(node, And | Or):
        return (type(node).__name__, *(shape(p) for p in node.parts))
    if isinstance(node, Not):
        return ("NOT", shape(node.part))
    if isinstance(node, Field):
        return ("field", node.name)
    if isinstance(node, Keyword):
        return ("$", node.name)
    assert isinstance(node, Value)
    return node.value


ACCEPTED = [
    pytest.param(
        "('Status' = \"New\" AND 'Assigned Group' = $NULL$)",
        (
            "And",
            (("field", "Status"), "=", "New"),
            (("field", "Assigned Group"), "=", ("$", "NULL")),
        ),
        id="renderer-and-null",
    ),
    pytest.param(
        "NOT ('Status' = \"Closed\")",
        ("NOT", (("field", "Status"), "=", "Closed")),
        id="renderer-not",
    ),
    pytest.param(
        "(('A' = \"x\" OR 'A' = \"y\") AND 'B' LIKE \"%disk[%]%\")",
        (
            "And",
            ("Or", (("field", "A"), "=", "x"), (("field", "A"), "=", "y")),
            (("field", "B"), "LIKE", "%disk[%]%"),
        ),
        id="renderer-in-and-like",
    ),
    pytest.param(
        '\'Doug\'\'s Field\' != "Robert ""Bobby"" Smith"',
        (("field", "Doug's Field"), "!=", 'Robert "Bobby" Smith'),
        id="doubled-quotes",
    ),
    pytest.param(
        "('Submit Date' <= \"1657032797\" AND 'Submit Date' >\"1657032797\")"
        " AND ('Urgency' = \"4-Low\")",
        (
            "And",
            (
                "And",
                (("field", "Submit Date"), "<=", "1657032797"),
                (("field", "Submit Date"), ">", "1657032797"),
            ),
            (("field", "Urgency"), "=", "4-Low"),
        ),
        id="demisto-fetch-query",
    ),
    pytest.param("'Status' <> 7", (("field", "Status"), "!=", 7), id="angle-not-equal"),
    pytest.param("'1000000161' = \"INC1\"", (("field", "1000000161"), "=", "INC1"), id="field-id"),
    pytest.param("'A' >= -2.5", (("field", "A"), ">=", -2.5), id="negative-decimal"),
    pytest.param(
        "'A' = 1 && 'B' = 2 || !'C' = 3",
        (
            "Or",
            ("And", (("field", "A"), "=", 1), (("field", "B"), "=", 2)),
            ("NOT", (("field", "C"), "=", 3)),
        ),
        id="symbolic-precedence",
    ),
    pytest.param(
        "'A' = 1 or 'B' = 2 and not 'C' < 3",
        (
            "Or",
            (("field", "A"), "=", 1),
            ("And", (("field", "B"), "=", 2), ("NOT", (("field", "C"), "<", 3))),
        ),
        id="lowercase-keywords",
    ),
    pytest.param("\"x\" = 'A'", ("x", "=", ("field", "A")), id="value-first"),
    pytest.param(
        "'Submitter' = $USER$", (("field", "Submitter"), "=", ("$", "USER")), id="user-keyword"
    ),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepts(text: str, expected: object) -> None:
    """Every form the renderer and known clients produce parses to the expected tree."""
    assert shape(parse(text)) == expected


REJECTED = [
    pytest.param("", 1, "empty", id="empty"),
    pytest.param("'Status' = ", 12, "expected a field", id="missing-value"),
    pytest.param('Status = "New"', 1, "single quotes", id="unquoted-field"),
    pytest.param("('A' = 1", 9, "expected ')'", id="unclosed-paren"),
    pytest.param("'A' = \"x", 7, "unterminated value", id="unterminated-value"),
    pytest.param('\'A = "x"', 1, "unterminated field", id="unterminated-field"),
    pytest.param("'A' ~ 1", 5, "unexpected character", id="bad-operator"),
    pytest.param("'A' = 1 'B' = 2", 9, "expected AND or OR", id="missing-connective"),
    pytest.param("'A' = $NOW$", 7, "unknown keyword", id="unknown-keyword"),
    pytest.param("'A' 'B'", 5, "expected an operator", id="missing-operator"),
    pytest.param("(" * 150 + "'A' = 1" + ")" * 150, 101, "nested too deeply", id="too-deep"),
]


@pytest.mark.parametrize(("text", "position", "problem"), REJECTED)
def test_rejects_with_position(text: str, position: int, problem: str) -> None:
    """A malformed qualification is refused with the 1-based position of the fault."""
    with pytest.raises(QualificationError) as caught:
        parse(text)
    assert caught.value.position == position
    assert problem in caught.value.problem


names = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1)
values = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@settings(max_examples=300)
@given(name=names, value=values, op=st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "LIKE"]))
def test_quoting_round_trips(name: str, value: str, op: str) -> None:
    """Any field name and any value survive quoting and parsing unchanged."""
    node = parse(f"{quote_field(name)} {op} {quote_value(value)}")
    assert isinstance(node, Compare)
    assert (node.left, node.op) == (Field(name, 1), op)
    assert isinstance(node.right, Value) and node.right.value == value


@settings(max_examples=100)
@given(st.lists(st.tuples(names, values), min_size=2, max_size=6), st.booleans())
def test_nested_round_trip(pairs: list[tuple[str, str]], use_or: bool) -> None:
    """A quoted value can never change the shape of the expression it sits in."""
    joiner = " OR " if use_or else " AND "
    text = "NOT (" + joiner.join(f"({quote_field(n)} = {quote_value(v)})" for n, v in pairs) + ")"
    node = parse(text)
    assert isinstance(node, Not)
    inner = node.part
    assert isinstance(inner, Or if use_or else And)
    assert [(c.left.name, c.right.value) for c in inner.parts] == pairs  # type: ignore[union-attr]


SQLITE = sqlite3.connect(":memory:")

GLOBS = [
    ("%disk%", "*disk*"),
    ("a_c", "a?c"),
    ("100[%]", "100[%]"),
    ("[_]x", "[_]x"),
    ("a[[]b", "a[[]b"),
    ("[a-c]z", "[a-c]z"),
    ("[^a]z", "[^a]z"),
    ("what?*", "what[?][*]"),
    ("open[", "open[[]"),
]


@pytest.mark.parametrize(("pattern", "glob"), GLOBS, ids=[g[0] for g in GLOBS])
def test_like_patterns_become_globs(pattern: str, glob: str) -> None:
    """AR wildcards become GLOB ones, and GLOB's own wildcards are made literal."""
    assert like_to_glob(pattern) == glob


@settings(max_examples=200)
@given(
    text=st.text(st.characters(codec="ascii", exclude_characters="\x00")),
    probe=st.text(st.characters(codec="ascii", exclude_characters="\x00"), min_size=1, max_size=4),
)
def test_bracket_escaped_like_finds_literal_text(text: str, probe: str) -> None:
    """`%<probe with %, _ and [ bracketed>%` matches exactly the texts containing probe."""
    escaped = "".join(f"[{c}]" if c in "%_[" else c for c in probe)
    glob = like_to_glob(f"%{escaped}%")
    (matched,) = SQLITE.execute("SELECT ? GLOB ?", (text, glob)).fetchone()
    assert bool(matched) == (probe in text)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """An empty sandbox's engine, driven directly (no HTTP) for many quick examples."""
    sandbox = Sandbox(seed=None)
    yield sandbox.engine
    sandbox.close()


@settings(max_examples=60, deadline=None)
@given(
    value=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1)
)
def test_any_value_finds_exactly_its_entry(engine: Engine, value: str) -> None:
    """A stored value is found by `=` on its quoted form, and matches nothing else."""
    created = engine.create_entry(
        "COM:Company", {"Company": "Q", "Description": value}, user="test"
    )
    assert created.record is not None
    page = engine.list_entries(
        "COM:Company", user="test", q=f"'Description' = {quote_value(value)}", limit=1000
    )
    assert created.record["Company Entry ID"] in {e.link_id for e in page.entries}
    assert all(e.values["Description"] == value for e in page.entries)
