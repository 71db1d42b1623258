"""The recorded bodies under tests/fixtures are byte-for-byte copies of ../shared/fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures is not next to this clone")
def test_every_recorded_body_matches_the_shared_original() -> None:
    """No recorded body was edited to make a test pass."""
    originals = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*") if p.is_file())
    copies = sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*") if p.is_file())
    assert copies == originals
    for rel in originals:
        assert (FIXTURES / rel).read_bytes() == (SHARED / rel).read_bytes(), rel
