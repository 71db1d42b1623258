"""BMC Remedy ITSM / Helix through the AR System REST API.

Follows `../shared/reference/remedy-rest-api.md` (section numbers in brackets):
- AR-JWT login, renewal before the hour is up, one re-login on 401, logout on close
  (`connector.remedy.auth`) [1]. Calls are serialised per connector: one AR user in two sessions
  at once can get error 9093 [1.5].
- Lists page with explicit offset/limit and stop when `_links.next` is absent [2.3, 2.13]. The next
  link decides *whether* to go on; the request itself is rebuilt against the configured base URL,
  because real servers put internal load-balancer hosts in their links (see the recorded
  fixtures) and following them would send our token elsewhere.
- Creates go through the `*_Create` interface forms and the record is read back for its real
  `Request ID` [2.5, 4.2]; a 201 with an empty body and a Location (Remedy 25.2+) is handled too.
  Updates PUT only the changed values (204) [2.6].
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests
from pydantic import SecretStr

from connector.base import E
from connector.codec import KindCodec
from connector.entities import Entity, RecordKind, Relation, WorkNote
from connector.errors import (
    ConfigurationError,
    InvalidResponse,
    NotFound,
)
from connector.filters import Field, Filter, require
from connector.http import HttpOptions, safe_url
from connector.remedy.auth import RemedyAuth, RemedyCredentials
from connector.remedy.errors import body_excerpt, translate_error
from connector.remedy.layouts import NoteLayout, RelationLayout
from connector.remedy.qualification import render
from connector.rest import RestConnector, need_within
from mappings.loader import PlatformMapping

log = logging.getLogger("smpm.remedy")

API = "/api/arsys/v1"


def format_ar_date(value: datetime) -> str:
    """AR's JSON date-time: `2022-06-21T11:08:05.000+0000` [2.12]."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass(frozen=True)
class RemedyOptions:
    base_url: str
    username: str
    password: SecretStr = field(repr=False)
    auth_string: SecretStr | None = field(default=None, repr=False)
    page_size: int = 1000
    refresh_margin: float = 300.0
    http: HttpOptions = field(default_factory=HttpOptions)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


# -- URLs and pages -----------------------------------------------------------------------------
def entry_url(base: str, form: str, entry_id: str | None = None) -> str:
    """`/entry/{form}[/{id}]` with the form's spaces as %20 and `|` in ids as %7C [2.8]."""
    url = f"{base}{API}/entry/{quote(form, safe=':')}"
    return url if entry_id is None else f"{url}/{quote(entry_id, safe='')}"


def next_offset(page: Mapping[str, Any]) -> int | None:
    """The offset of the next page from `_links.next[0].href`, or None on the last page."""
    links = page.get("_links")
    nxt = links.get("next") if isinstance(links, dict) else None
    if not nxt:
        return None
    href = nxt[0].get("href") if isinstance(nxt, list) and isinstance(nxt[0], dict) else None
    if not isinstance(href, str):
        raise InvalidResponse(f"Remedy list answer has a malformed _links.next: {nxt!r}")
    offset = parse_qs(urlsplit(href).query).get("offset", [""])[0]
    if not offset.isdigit():
        raise InvalidResponse(f"Remedy _links.next has no usable offset: {safe_url(href)}")
    return int(offset)


def values_param(fields: list[str]) -> str:
    return f"values({','.join(fields)})"


# -- the connector ------------------------------------------------------------------------------
class RemedyConnector(RestConnector):
    """`connector.base.Connector` for the AR System REST API."""

    platform = "remedy"
    format_date = staticmethod(format_ar_date)
    translate_error = staticmethod(translate_error)

    def __init__(self, options: RemedyOptions, mapping: PlatformMapping) -> None:
        super().__init__(options, mapping, "smpm-remedy-page")
        self.options: RemedyOptions = options
        self.auth = RemedyAuth(
            self.base_url,
            RemedyCredentials(options.username, options.password, options.auth_string),
            self.session,
            options.http,
            refresh_margin=options.refresh_margin,
            clock=options.clock,
        )
        self.session.auth = self.auth

    def __repr__(self) -> str:
        return f"RemedyConnector({self.base_url!r}, user={self.options.username!r})"

    # -- HTTP ---------------------------------------------------------------------------------
    @staticmethod
    def _json(response: requests.Response, doing: str) -> Any:
        try:
            return response.json()
        except ValueError:
            excerpt = body_excerpt(response)
            raise InvalidResponse(f"Remedy {doing}: expected JSON, got {excerpt!r}") from None

    # -- raw form access ------------------------------------------------------------------------
    def list_entries(
        self,
        form: str,
        *,
        qualification: str | None = None,
        fields: list[str] | None = None,
        sort: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The `values` of every matching entry, a page at a time, as they are consumed.

        While the caller works through one page the next one is already being fetched (one
        page ahead, never more), so decoding overlaps the server's time; memory holds two pages
        at most, whatever the result size.
        """
        params: dict[str, Any] = {k: v for k, v in (("q", qualification), ("sort", sort)) if v}
        if fields:
            params["fields"] = values_param(fields)
        offset, seen = 0, 0
        pending = self._prefetch.submit(self._page, form, params, offset, self._size(limit, 0))
        while True:
            entries, following = pending.result()
            seen += len(entries)
            more = following is not None and bool(entries) and (limit is None or seen < limit)
            if more:
                assert following is not None
                if following <= offset:
                    raise InvalidResponse(
                        f"Remedy list {form}: _links.next goes back to {following}"
                    )
                offset = following
                pending = self._prefetch.submit(
                    self._page, form, params, offset, self._size(limit, seen)
                )
            yield from entries[: None if limit is None else len(entries) - max(0, seen - limit)]
            if not more:
                return

    def _size(self, limit: int | None, seen: int) -> int:
        return (
            self.options.page_size if limit is None else min(self.options.page_size, limit - seen)
        )

    def _page(
        self, form: str, params: dict[str, Any], offset: int, size: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page: the entries' values and the offset `_links.next` names, if any."""
        query = {**params, "offset": offset, "limit": size}
        response = self.call("GET", entry_url(self.base_url, form), f"list {form}", params=query)
        page = self._json(response, f"list {form}")
        entries = page.get("entries") if isinstance(page, dict) else None
        if not isinstance(entries, list):
            raise InvalidResponse(f"Remedy list {form}: the answer has no 'entries' array")
        return [entry.get("values") or {} for entry in entries], next_offset(page)

    def post_entry(
        self, form: str, values: Mapping[str, Any], returns: list[str]
    ) -> requests.Response:
        params = {"fields": values_param(returns)} if returns else None
        return self.call(
            "POST",
            entry_url(self.base_url, form),
            f"create on {form}",
            params=params,
            json={"values": dict(values)},
        )

    # -- Connector interface --------------------------------------------------------------------
    def find(
        self,
        model: type[E],
        where: Filter | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        within: RecordKind | None = None,
    ) -> Iterator[E]:
        if model.kind is RecordKind.WORK_NOTE:
            return self._find_notes(where, need_within(within, "work notes"), limit)  # type: ignore[return-value]
        if model.kind is RecordKind.RELATION:
            return self._find_relations(where, need_within(within, "relations"), limit)  # type: ignore[return-value]
        return self._find_records(model, where, order_by, descending, limit)

    def _find_records(
        self,
        model: type[E],
        where: Filter | None,
        order_by: str | None,
        descending: bool,
        limit: int | None,
    ) -> Iterator[E]:
        codec = self.codec(model.kind)
        form = self._form(codec)
        sort_field = codec.platform_field(order_by) if order_by else codec.spec.order_by
        sort = f"{sort_field}.{'desc' if descending else 'asc'}" if sort_field else None
        platform = codec.translate(where) if where is not None else None
        q = render(platform) if platform is not None else None
        where = f"{form} entry"
        for values in self.list_entries(
            form, qualification=q, fields=codec.read_fields(), sort=sort, limit=limit
        ):
            require(platform, values, f"Remedy list {form}")  # never trust the filter
            yield codec.decode(values, where)  # type: ignore[misc]

    def get(self, model: type[E], id: str) -> E:
        for found in self._find_records(model, Field("id") == id, None, False, 1):
            return found
        raise NotFound(
            f"Remedy: no {model.kind.value} {id!r} on {self._form(self.codec(model.kind))}"
        )

    def create(self, entity: E) -> E:
        codec = self.codec(entity.kind)
        form = codec.spec.create_form or self._form(codec)
        values = {
            **codec.spec.create_values,
            **codec.encode(codec.entity_changes(entity), for_create=True),
        }
        response = self.post_entry(form, values, codec.spec.create_returns)
        return self.get(type(entity), self._created_id(response, codec, form))

    def _created_id(self, response: requests.Response, codec: KindCodec, form: str) -> str:
        """The new record's id from the create answer, or from its Location when it has no body."""
        id_field = codec.platform_field("id", for_create=True)
        if response.content:
            values = (self._json(response, f"create on {form}") or {}).get("values") or {}
            if values.get(id_field):
                return str(values[id_field])
        location = response.headers.get("Location")
        if not location:
            raise InvalidResponse(f"Remedy create on {form}: no {id_field!r} and no Location")
        entry_id = urlsplit(location).path.rsplit("/", 1)[-1]
        got = self.call(
            "GET",
            entry_url(self.base_url, form, entry_id),
            f"read back from {form}",
            params={"fields": values_param([id_field])},
        )
        number = (self._json(got, f"read back from {form}").get("values") or {}).get(id_field)
        if not number:
            raise InvalidResponse(f"Remedy create on {form}: entry {entry_id} has no {id_field!r}")
        return str(number)

    def update(self, model: type[E], record: E | str, changes: Mapping[str, Any]) -> None:
        codec = self.codec(model.kind)
        form = self._form(codec)
        key = record.platform_id if isinstance(record, Entity) else None
        if key is None:
            key = self.get(model, record.id if isinstance(record, Entity) else record).platform_id  # type: ignore[arg-type]
        if not key:
            raise InvalidResponse(f"Remedy {form}: the record has no key to update it by")
        self.call(
            "PUT",
            entry_url(self.base_url, form, key),
            f"update {form} {key}",
            json={"values": codec.encode(changes)},
        )

    def add_note(self, note: WorkNote) -> WorkNote:
        layout = NoteLayout(self, note.parent_kind)
        values = layout.encode(note)
        self.post_entry(layout.parent.form, values, [])
        return note

    def relate(self, relation: Relation) -> Relation:
        layout = RelationLayout(self, relation.source_kind)
        self.post_entry(layout.source.form, layout.encode(relation), [])
        return relation

    def _find_notes(
        self, where: Filter | None, within: RecordKind, limit: int | None
    ) -> Iterator[WorkNote]:
        layout = NoteLayout(self, within)
        q = render(layout.translate(where)) if where is not None else None
        for values in self.list_entries(
            layout.parent.form,
            qualification=q,
            fields=layout.read_fields(),
            sort=f"{layout.name('id')}.asc",
            limit=limit,
        ):
            yield layout.decode(values)

    def _find_relations(
        self, where: Filter | None, within: RecordKind, limit: int | None
    ) -> Iterator[Relation]:
        layout = RelationLayout(self, within)
        bound = layout.bound(where)
        if bound is False:
            return
        q = None if bound is True else render(layout.translate(bound))
        for values in self.list_entries(
            layout.source.form,
            qualification=q,
            fields=layout.read_fields(),
            sort=f"{layout.source.source_field}.asc",
            limit=limit,
        ):
            yield layout.decode(values)

    def _form(self, codec: KindCodec) -> str:
        if not codec.spec.form:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.{codec.kind.value}.form: not mapped"
            )
        return codec.spec.form

    def _end_session(self) -> None:
        self.auth.logout()
