"""Absolute URLs of the Table API: record links, `Location`, and the `Link` paging header [1.4].

    Link: <.../incident?sysparm_limit=1&sysparm_offset=0>;rel="first",
          <...&sysparm_offset=-1>;rel="prev",<...&sysparm_offset=1>;rel="next",
          <...&sysparm_offset=72>;rel="last"

(one line, no spaces.) Relations come first, prev, next, last; `prev` may be negative; `next`
is left out on the last page; `last` is the start of the last page, `(total-1)//limit*limit`
[1.4, formula UNCONFIRMED]. The URLs echo the request's other parameters in their order, then
`sysparm_limit` and `sysparm_offset`. With `sysparm_no_count=true` there is no total, so `last`
is left out and `next` is given while the page is full (UNCONFIRMED).
"""

from __future__ import annotations

from urllib.parse import quote


def query_string(items: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in items)


def link_header(
    url: str,
    items: list[tuple[str, str]],
    *,
    limit: int,
    offset: int,
    total: int | None,
    page_size: int,
) -> str:
    """The `Link` header for a page of `page_size` rows at `offset` of `total`."""
    rest = [(k, v) for k, v in items if k not in ("sysparm_limit", "sysparm_offset")]

    def at(position: int) -> str:
        tail = [*rest, ("sysparm_limit", str(limit)), ("sysparm_offset", str(position))]
        return f"{url}?{query_string(tail)}"

    links = [(at(0), "first"), (at(offset - limit), "prev")]
    more = offset + limit < total if total is not None else page_size >= limit
    if more:
        links.append((at(offset + limit), "next"))
    if total is not None:
        links.append((at(max(0, (total - 1) // limit * limit)), "last"))
    return ",".join(f'<{href}>;rel="{rel}"' for href, rel in links)
