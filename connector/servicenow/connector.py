"""ServiceNow through the Table API (`/api/now/table/{table}`).

Follows `../shared/reference/servicenow-rest-api.md` (section numbers in brackets):
- Basic or OAuth 2 authentication as a requests auth plugin (`connector.servicenow.auth`),
  renewed once on a 401 [1.7]. Calls are serialised per connector, as on Remedy.
- Lists page with `sysparm_limit`/`sysparm_offset` and a stable `ORDERBY...^ORDERBYsys_id`
  (`connector.servicenow.encoded_query`), one page read ahead. Paging stops when
  `X-Total-Count` says every offset was asked for, else when the `Link` header has no `next`;
  never on a short page alone, because the limit applies before ACLs and a page may come back
  short while more rows follow [1.2, 1.4]. Without either header, only an empty page ends the
  list. A page the instance cancels ("maximum execution time exceeded", with a 5xx or inside a
  200 [1.5]) is asked again at half the size, up to three times, and the list goes on at that
  size.
- The filter is never trusted: the instance ignores query terms on columns a table lacks
  [1.2], so every record of an answer is checked against the filter sent, whose columns are
  all asked for in `sysparm_fields`; a record it excludes, or a column missing from it, is
  `FilterNotApplied` (`connector.filters.require`). A search the encoded query can only
  write wider (`encoded_query.widen`) is finished here: records the filter itself does not
  admit are dropped.
- Reads ask for raw values (`sysparm_display_value=false`) with reference links left out
  (`sysparm_exclude_reference_link=true`): every value a string, a reference its sys_id, names
  through dot-walked `sysparm_fields` [1.2, 1.3]. `connector.servicenow.values` also accepts the
  `display_value=all` shape, as the recorded bodies have it.
- Creates POST one record and decode the answer, which carries the requested fields; the record
  is read back by sys_id only when the answer lacks some of them (dot-walks on POST are
  UNCONFIRMED) [1.1]. Updates PATCH only the changed columns [1.1; PUT semantics UNCONFIRMED].
- Names in writes become sys_ids through `connector.servicenow.refs`; work notes, relations and
  service targets have layouts of their own (`connector.servicenow.layouts`, `.sla`).
- `apply_batch` (not part of the Connector protocol) sends many updates and notes through the
  Batch API [1.8]; the executor keeps using `update`/`add_note`, one call each.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from connector.base import BatchWrite, E, RecordUpdate
from connector.codec import KindCodec
from connector.entities import Entity, RecordKind, Relation, ServiceTarget, WorkNote
from connector.errors import ConfigurationError, InvalidResponse, NotFound, Unavailable
from connector.filters import (
    Comparison,
    Field,
    Filter,
    Op,
    admits,
    all_of,
    bind,
    columns,
    require,
)
from connector.http import HttpOptions
from connector.rest import RestConnector, need_within
from connector.servicenow.auth import ServiceNowAuth, ServiceNowCredentials
from connector.servicenow.batch import BatchRunner
from connector.servicenow.encoded_query import encoded_query, exact, widen
from connector.servicenow.errors import (
    body_excerpt,
    cancelled_answer,
    is_cancelled,
    is_failure,
    translate_error,
)
from connector.servicenow.layouts import (
    NoteLayout,
    RelationLayout,
    Write,
    merge_scope,
    translate,
    translate_leaf,
)
from connector.servicenow.paging import READ_PARAMS, location_id, more_pages, table_url
from connector.servicenow.refs import References
from connector.servicenow.sla import SlaLayout
from connector.servicenow.values import (
    flatten_record,
    format_sn_date,
    result_list,
    result_record,
)
from mappings.loader import PlatformMapping

log = logging.getLogger("smpm.servicenow")
SHRINKS = 3  # a cancelled page is asked again at half the size, this many times at most

__all__ = ["RecordUpdate", "ServiceNowConnector", "ServiceNowOptions", "format_sn_date"]


@dataclass(frozen=True)
class ServiceNowOptions:
    base_url: str
    credentials: ServiceNowCredentials
    page_size: int = 1000
    batch_size: int = 50
    sla_warning_percent: float = 50.0
    http: HttpOptions = field(default_factory=HttpOptions)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def username(self) -> str:
        return self.credentials.who


class ServiceNowConnector(RestConnector):
    """`connector.base.Connector` for the ServiceNow Table API."""

    platform = "servicenow"
    format_date = staticmethod(format_sn_date)
    translate_error = staticmethod(translate_error)

    def __init__(self, options: ServiceNowOptions, mapping: PlatformMapping) -> None:
        super().__init__(options, mapping, "smpm-sn-page")
        self.options: ServiceNowOptions = options
        self.auth = ServiceNowAuth(
            self.base_url, options.credentials, self.session, options.http, clock=options.clock
        )
        self.session.auth = self.auth
        self.refs = References(self)
        self.batch_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"ServiceNowConnector({self.base_url!r}, {self.options.credentials.who!r})"

    # -- HTTP ---------------------------------------------------------------------------------
    @staticmethod
    def json(response: requests.Response, doing: str) -> Any:
        """The JSON body; an error envelope inside a 2xx is still an error [1.5]."""
        try:
            body = response.json()
        except ValueError:
            cancelled = cancelled_answer(response, doing)
            if cancelled is not None:
                raise cancelled from None
            excerpt = body_excerpt(response)
            raise InvalidResponse(
                f"ServiceNow {doing}: expected JSON, got {excerpt!r}; is the URL the instance "
                "root, without a single sign-on page in front?"
            ) from None
        if is_failure(body):
            raise translate_error(response, doing)
        return body

    # -- lists --------------------------------------------------------------------------------
    def list_pages(
        self,
        table: str,
        *,
        where: Filter | None = None,
        fields: Sequence[str] = ("sys_id",),
        order: Sequence[tuple[str, bool]] = (),
        limit: int | None = None,
    ) -> Iterator[list[dict[str, str]]]:
        """Matching records a page at a time, fetched as they are consumed, one page ahead.

        Memory holds two pages at most, whatever the result size. `where` is in platform names.
        A page is flattened and checked here, after the next one is asked for, so that the
        instance is not kept waiting while this side reads values (bench/README.md,
        servicenow_listing). Every record must satisfy the filter sent (FilterNotApplied);
        where that filter is wider than `where`, records `where` excludes are dropped and
        `limit` counts the records kept.
        """
        sent = widen(where) if where is not None else None
        meant = where if where is not None and not exact(where) else None  # to drop by
        asked = [*fields, *(columns(where) if where else []), *(columns(sent) if sent else [])]
        params = {
            **READ_PARAMS,
            "sysparm_query": encoded_query(sent, order),
            "sysparm_fields": ",".join(dict.fromkeys(["sys_id", *asked])),
        }
        source, kept = f"ServiceNow list {table}", 0
        for page in self._raw_pages(table, params, limit if meant is None else None):
            rows = [flatten_record(r, f"{table} record") for r in page]
            for row in rows:
                require(sent, row, source, listed=True)
            if meant is not None:
                rows = [r for r in rows if admits(meant, r, wildcards=False)]
            rows = rows if limit is None else rows[: limit - kept]
            kept += len(rows)
            if rows:
                yield rows
            if limit is not None and kept >= limit:
                return

    def _raw_pages(
        self, table: str, params: Mapping[str, str], limit: int | None
    ) -> Iterator[list[Any]]:
        """The `result` arrays of the pages, up to `limit` rows, each asked for one ahead."""
        offset, seen, size = 0, 0, self._size(limit, 0)
        pending = self._prefetch.submit(self._page, table, params, offset, size)
        while True:
            result, more, size = pending.result()  # size: smaller after a cancelled page
            seen += len(result)
            more = more and (limit is None or seen < limit)
            if more:  # the offset moves by what was asked: the limit applies before ACLs
                offset, size = offset + size, min(size, self._size(limit, seen))
                pending = self._prefetch.submit(self._page, table, params, offset, size)
            yield result[: None if limit is None else len(result) - max(0, seen - limit)]
            if not more:
                return

    def list_records(self, table: str, **kwargs: Any) -> Iterator[dict[str, str]]:
        """Like `list_pages`, one record at a time."""
        for page in self.list_pages(table, **kwargs):
            yield from page

    def _size(self, limit: int | None, seen: int) -> int:
        size = self.options.page_size
        return size if limit is None else max(1, min(size, limit - seen))

    def _page(
        self, table: str, params: Mapping[str, str], offset: int, size: int
    ) -> tuple[list[Any], bool, int]:
        """One page's `result` array, still unflattened, whether more pages follow, and the
        page size it was asked with: halved after each cancelled attempt [1.5]."""
        doing = f"list {table}"
        shrinks = 0
        while True:
            query = {**params, "sysparm_limit": str(size), "sysparm_offset": str(offset)}
            try:
                response = self.call("GET", table_url(self.base_url, table), doing, params=query)
                result = result_list(self.json(response, doing), f"ServiceNow {doing}")
            except Unavailable as exc:
                if not is_cancelled(exc) or shrinks == SHRINKS or size == 1:
                    raise
                shrinks, size = shrinks + 1, max(1, size // 2)
                log.warning("ServiceNow %s cancelled at offset %d; asking %d", doing, offset, size)
                continue
            return result, more_pages(response, offset, size, len(result)), size

    # -- Connector interface: reading ---------------------------------------------------------
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
        kind = model.kind
        if kind is RecordKind.WORK_NOTE:
            return self._find_notes(where, need_within(within, "work notes"), limit)  # type: ignore[return-value]
        if kind is RecordKind.RELATION:
            return self._find_relations(where, need_within(within, "relations"), limit)  # type: ignore[return-value]
        codec = self.codec(kind)
        name = order_by or codec.spec.order_by
        order = [(codec.platform_field(name) if order_by else name, descending)] if name else []
        if kind is RecordKind.SERVICE_TARGET:
            return self._find_targets(where, order, limit)  # type: ignore[return-value]
        return self._find_records(codec, where, order, limit)

    def _find_records(
        self,
        codec: KindCodec,
        where: Filter | None,
        order: list[tuple[str, bool]],
        limit: int | None,
    ) -> Iterator[Any]:
        table = self.table(codec)
        restriction = [Comparison(k, Op.EQ, v) for k, v in codec.spec.where.items()]
        query = merge_scope(
            all_of(*restriction) if restriction else None,
            translate(codec, where) if where is not None else None,
        )
        for row in self.list_records(
            table, where=query, fields=codec.read_fields(), order=order, limit=limit
        ):
            yield codec.decode(row, f"{table} record")

    def _find_targets(
        self, where: Filter | None, order: list[tuple[str, bool]], limit: int | None
    ) -> Iterator[ServiceTarget]:
        codec = self.codec(RecordKind.SERVICE_TARGET)
        layout = SlaLayout(
            codec, lambda leaf: translate_leaf(codec, leaf), self.options.sla_warning_percent
        )
        table = self.table(codec)
        query = layout.translate(where) if where is not None else None
        for row in self.list_records(
            table, where=query, fields=layout.read_fields(), order=order, limit=limit
        ):
            yield layout.decode(row, f"{table} record")

    def _find_notes(
        self, where: Filter | None, within: RecordKind, limit: int | None
    ) -> Iterator[WorkNote]:
        layout = NoteLayout(self, within)
        query = merge_scope(layout.scope(), layout.translate(where) if where else None)
        for page in self.list_pages(
            layout.table, where=query, fields=layout.read_fields(), limit=limit
        ):
            yield from layout.decode_page(page)

    def _find_relations(
        self, where: Filter | None, within: RecordKind, limit: int | None
    ) -> Iterator[Relation]:
        found = 0
        for layout in RelationLayout.reading(self, within):
            bound = True if where is None else bind(where, "target_kind", layout.target_kind.value)
            if bound is False:  # this table holds links to another kind only: not asked
                continue
            own = None if bound is True else layout.translate(bound)
            query = merge_scope(layout.scope(), own)
            left = None if limit is None else limit - found
            if left == 0:
                return
            for row in self.list_records(
                layout.source.form, where=query, fields=layout.read_fields(), limit=left
            ):
                found += 1
                yield layout.decode(row)

    def get(self, model: type[E], id: str) -> E:
        for found in self.find(model, Field("id") == id, limit=1):
            return found
        table = self.table(self.codec(model.kind))
        raise NotFound(f"ServiceNow: no {model.kind.value} {id!r} in {table}")

    # -- Connector interface: writing ---------------------------------------------------------
    def create(self, entity: E) -> E:
        codec = self.codec(entity.kind)
        table = self.table(codec)
        body = codec.encode(codec.entity_changes(entity), for_create=True)
        key = codec.platform_field("id")
        if codec.spec.where and body.get(key):
            return self._mark(type(entity), codec, str(body[key]), body)
        body = {**codec.spec.where, **codec.spec.create_values, **body}
        fields = list(dict.fromkeys(["sys_id", *codec.read_fields()]))
        response = self.call(
            "POST",
            table_url(self.base_url, table),
            f"create on {table}",
            params={**READ_PARAMS, "sysparm_fields": ",".join(fields)},
            json=self.refs.resolve_body(codec, body),
        )
        return self._created(codec, table, response, fields)  # type: ignore[return-value]

    def _created(
        self, codec: KindCodec, table: str, response: requests.Response, fields: list[str]
    ) -> Entity:
        """The new record from the 201 answer, or read back by sys_id when it lacks fields."""
        doing = f"create on {table}"
        record = result_record(self.json(response, doing), doing) if response.content else {}
        if record.get("sys_id") and all(f in record for f in fields):
            return codec.decode(record, f"{table} record")
        sys_id = record.get("sys_id") or location_id(response)
        if not sys_id:
            raise InvalidResponse(f"ServiceNow {doing}: no sys_id in the answer or Location")
        got = self.call(
            "GET",
            table_url(self.base_url, table, sys_id),
            f"read back {table} {sys_id}",
            params={**READ_PARAMS, "sysparm_fields": ",".join(fields)},
        )
        return codec.decode(result_record(self.json(got, doing), doing), f"{table} record")

    def _mark(self, model: type[E], codec: KindCodec, number: str, body: Mapping[str, Any]) -> E:
        """A kind living on another's table, made from an existing record: mark that record.

        The correlation id is left alone (it is the record's own key); marking twice is harmless.
        """
        skip = (codec.platform_field("id"), codec.spec.fields.get("correlation_id"))
        keep = {k: v for k, v in body.items() if k not in skip}
        self.write(self.prepare_write(model, number, {}, extra={**keep, **codec.spec.where}))
        return self.get(model, number)

    def update(self, model: type[E], record: E | str, changes: Mapping[str, Any]) -> None:
        if changes:
            self.write(self.prepare_write(model, record, changes))

    def prepare_write(
        self,
        model: type[Entity],
        record: Entity | str,
        changes: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> Write:
        codec = self.codec(model.kind)
        table = self.table(codec)
        sys_id = record.platform_id if isinstance(record, Entity) else None
        if not sys_id:
            number = str(record.id if isinstance(record, Entity) else record)
            what = f"{model.kind.value} {number}"
            key = codec.platform_field("id")
            sys_id = self.refs.sys_id(table, key, number, what=what, missing=NotFound)
        body = self.refs.resolve_body(codec, {**codec.encode(changes), **(extra or {})})
        return Write("PATCH", table, sys_id, body)

    def write(self, write: Write, doing: str | None = None) -> requests.Response:
        """Send one layout write: PATCH a record or POST a new row."""
        url = table_url(self.base_url, write.table, write.sys_id)
        doing = doing or f"{write.method.lower()} {write.table} {write.sys_id or ''}".strip()
        params = {"sysparm_fields": "sys_id"}
        return self.call(write.method, url, doing, params=params, json=write.body)

    def add_note(self, note: WorkNote) -> WorkNote:
        self.write(NoteLayout(self, note.parent_kind).encode(note))
        return note

    def relate(self, relation: Relation) -> Relation:
        """Write the link; one kept as a reference on the record (an incident's problem_id) is
        written only where it is not set already (RelationLayout.encode)."""
        write = RelationLayout.writing(self, relation).encode(relation)
        if write is not None:
            self.write(write)
        return relation

    @property
    def batching(self) -> bool:
        return self.options.batch_size > 0

    def apply_batch(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        """Updates and work notes in as few round trips as the Batch API allows [1.8].

        Not part of the Connector protocol: a bulk path for callers that write many small
        changes at once. Returns one result per write, in order: None when it was applied, else
        the error it met (nothing is raised for a single failed write).
        """
        return BatchRunner(self).apply(writes)

    def table(self, codec: KindCodec) -> str:
        if not codec.spec.form:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.{codec.kind.value}.form: no table mapped"
            )
        return codec.spec.form
