"""`bind`: deciding the conditions on a field a platform keeps implicitly (a table's links all
point at one kind), so a connector asks only the tables a query can match."""

from __future__ import annotations

import pytest

from connector.entities import RecordKind
from connector.filters import Field, Filter, bind

SOURCE = Field("source_id") == "INC1"
TO_PROBLEM = Field("target_kind") == RecordKind.PROBLEM
TO_CI = Field("target_kind") == RecordKind.CI

CASES: list[tuple[str, Filter, Filter | bool]] = [
    ("no condition on the field", SOURCE, SOURCE),
    ("the right kind", SOURCE & TO_CI, SOURCE),
    ("another kind", SOURCE & TO_PROBLEM, False),
    ("either kind", SOURCE & (TO_PROBLEM | TO_CI), SOURCE),
    ("one_of", Field("target_kind").one_of(RecordKind.CI, RecordKind.CHANGE), True),
    ("not another kind", ~TO_PROBLEM, True),
    ("not equal", Field("target_kind") != RecordKind.CI, False),
    ("an OR keeps its other branch", TO_PROBLEM | SOURCE, SOURCE),
]


@pytest.mark.parametrize(("expr", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_conditions_on_the_field_are_decided_for_the_table(
    expr: Filter, expected: Filter | bool
) -> None:
    assert bind(expr, "target_kind", RecordKind.CI.value) == expected


def test_an_ordering_on_an_implicit_field_is_refused() -> None:
    with pytest.raises(ValueError, match="can only be compared"):
        bind(Field("target_kind") > "a", "target_kind", "ci")
