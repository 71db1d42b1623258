"""Paging: sysparm_limit / sysparm_offset, X-Total-Count and Link [reference 1.2, 1.4]."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.sandbox.servicenow.support import SN


def links(header: str) -> dict[str, str]:
    """rel -> URL, checking the recorded syntax: `<url>;rel="x"` joined by `,`, no spaces."""
    assert " " not in header
    parts = header.split(",")
    found = {}
    for part in parts:
        match = re.fullmatch(r'<([^>]+)>;rel="(\w+)"', part)
        assert match, part
        found[match.group(2)] = match.group(1)
    assert list(found) == [r for r in ("first", "prev", "next", "last") if r in found]
    return found


def offset(url: str) -> int:
    return int(dict(parse_qsl(urlsplit(url).query))["sysparm_offset"])


def tagged(sn: SN, tag: str, count: int) -> list[str]:
    return [
        sn.new("incident", correlation_id=tag, short_description=f"{tag} {i}")["sys_id"]
        for i in range(count)
    ]


def test_headers_on_the_first_middle_and_last_page(sn: SN) -> None:
    """first, prev (negative on the first page), next (absent on the last), last = the start
    of the last page; the other parameters echoed in order [1.4]."""
    tagged(sn, "paging-headers", 5)
    query = "correlation_id=paging-headers"
    first = sn.list("incident", sysparm_query=query, sysparm_fields="number", sysparm_limit=2)
    assert first.headers["X-Total-Count"] == "5"
    rels = links(first.headers["Link"])
    assert [offset(rels[r]) for r in rels] == [0, -2, 2, 4]
    assert rels["next"] == (
        f"{sn.url('incident')}?sysparm_query=correlation_id%3Dpaging-headers"
        "&sysparm_fields=number&sysparm_limit=2&sysparm_offset=2"
    )
    middle = sn.list("incident", sysparm_query=query, sysparm_limit=2, sysparm_offset=2)
    assert [offset(u) for u in links(middle.headers["Link"]).values()] == [0, 0, 4, 4]
    last = sn.list("incident", sysparm_query=query, sysparm_limit=2, sysparm_offset=4)
    assert "next" not in links(last.headers["Link"]) and len(last.json()["result"]) == 1


def test_count_and_link_can_be_switched_off(sn: SN) -> None:
    """sysparm_no_count drops X-Total-Count (and `last`); sysparm_suppress_pagination_header
    drops Link but keeps X-Total-Count, as PySNC relies on [1.2]."""
    quiet = sn.list("incident", sysparm_limit=2, sysparm_no_count="true")
    assert "X-Total-Count" not in quiet.headers
    assert set(links(quiet.headers["Link"])) == {"first", "prev", "next"}
    bare = sn.list("incident", sysparm_limit=2, sysparm_suppress_pagination_header="true")
    assert "Link" not in bare.headers and int(bare.headers["X-Total-Count"]) >= 16


def test_default_limit_and_offsets(sn: SN) -> None:
    """Without sysparm_limit every row up to 10000 comes back [1.2]; an offset past the end
    is an empty page on v2."""
    total = int(sn.list("incident", sysparm_limit=1).headers["X-Total-Count"])
    assert len(sn.rows("incident", sysparm_fields="sys_id")) == total
    assert sn.rows("incident", sysparm_offset=total + 5) == []


def test_v1_answers_404_for_no_rows(sandbox: object) -> None:
    """/api/now/v1 answers an empty list with 404 [1.1]; v2 and the unversioned path with []."""
    base = sandbox.base_url  # type: ignore[attr-defined]
    query = {"sysparm_query": "number=INC9999999"}
    v1 = SN(base, version="v1").list("incident", **query)
    assert v1.status_code == 404 and v1.json()["error"]["message"] == "No Record found"
    assert SN(base, version="v2").list("incident", **query).json() == {"result": []}
    assert SN(base).list("incident", **query).status_code == 200


@pytest.mark.parametrize(
    "order", ["", "^ORDERBYsys_id", "^ORDERBYnumber", "^ORDERBYsys_created_on"]
)
def test_paging_is_stable_while_rows_are_added(sn: SN, order: str) -> None:
    """Rows added during a scan come after it, in the default order and in ORDERBY sys_id,
    number or creation: no page skips or repeats a row."""
    tag = f"paging-stable-{order.removeprefix('^ORDERBY') or 'default'}"
    before = tagged(sn, tag, 7)
    seen: list[str] = []
    position = 0
    while True:
        page = sn.rows(
            "incident",
            sysparm_query=f"correlation_id={tag}{order}",
            sysparm_fields="sys_id",
            sysparm_limit=3,
            sysparm_offset=position,
        )
        if not page:
            break
        seen += [r["sys_id"] for r in page]
        position += 3
        if position < 9:
            tagged(sn, tag, 1)  # someone files an incident meanwhile
    assert seen[:7] == before
    assert len(seen) == len(set(seen)) == 9
