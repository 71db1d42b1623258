"""BMC Remedy ITSM / Helix through the AR System REST API.

Follows `../shared/reference/remedy-rest-api.md` (section numbers in comments):
- JWT login (form-encoded) and `Authorization: AR-JWT <token>`; a fresh login before the token's
  hour is up, one re-login on 401, logout on close [1.1-1.5]. Requests are serialised per
  connector because one AR user working from two sessions at once can get error 9093 [1.5].
- Lists page with explicit offset/limit and stop when `_links.next` is absent [2.3, 2.13]. The next
  link decides *whether* to go on, but the request is rebuilt against the configured base URL: real
  servers put internal load-balancer host names in links (see the recorded fixtures).
- Creates go through the `*_Create` interface forms, then read the record back for its real
  `Request ID` [2.5, 4.2]; updates are PUTs of the changed values only (204) [2.6].
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
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
    AuthenticationFailed,
    ConfigurationError,
    ConnectorError,
    FormNotFound,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    PlatformMessage,
    RateLimited,
    Rejected,
    Unavailable,
)
from connector.filters import Field, Filter, all_of
from connector.http import HttpOptions, make_session, retry_after_seconds, safe_url, send
from connector.qualification import render
from mappings.loader import PlatformMapping, RelationSource

log = logging.getLogger("smpm.remedy")

API = "/api/arsys/v1"
TOKEN_LIFETIME = 3600.0  # "A single JWT token is valid for one hour." [1.3]


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


# -- errors -------------------------------------------------------------------------------------
def parse_messages(response: requests.Response) -> tuple[PlatformMessage, ...]:
    """Remedy's error array; tolerates a single object, missing keys and non-JSON bodies [2.7]."""
    try:
        body = response.json()
    except ValueError:
        return ()
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    out = []
    for item in items:
        if not isinstance(item, dict) or "messageText" not in item:
            continue
        number = item.get("messageNumber")
        out.append(
            PlatformMessage(
                number=int(number) if isinstance(number, int | str) and str(number).isdigit() else None,
                text=str(item.get("messageText") or ""),
                appended=item.get("messageAppendedText") or item.get("appendedText"),
                kind=item.get("messageType"),
            )
        )
    return tuple(out)


def _body_excerpt(response: requests.Response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.text or "")
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200] or "(empty body)"


def translate_error(response: requests.Response, doing: str) -> ConnectorError:
    """The one place where Remedy error answers become smpm exceptions."""
    messages = parse_messages(response)
    numbers = {m.number for m in messages}
    status = response.status_code
    where = safe_url(response.url or "")
    detail = "; ".join(str(m) for m in messages) or _body_excerpt(response)
    kw: dict[str, Any] = {"status": status, "messages": messages, "url": where}
    text = f"Remedy {doing}: HTTP {status}: {detail}"
    if 623 in numbers or status == 401:
        return AuthenticationFailed(
            f"{text}. Check the Remedy user name and password (or the token has expired)", **kw
        )
    if 303 in numbers:
        return FormNotFound(f"{text}. Check the form name in the mapping", **kw)
    if 302 in numbers or (status == 404 and messages):
        return NotFound(text, **kw)
    if status == 403:
        return PermissionDenied(f"{text}. The AR user lacks a permission for this", **kw)
    if status == 429:
        return RateLimited(text, retry_after=retry_after_seconds(response), **kw)
    if status >= 500:
        return Unavailable(text, **kw)
    if not messages and status >= 400:
        return InvalidResponse(
            f"{text}. This is not an AR System answer; check the URL and any proxy in between",
            **kw,
        )
    return Rejected(text, **kw)


# -- authentication -----------------------------------------------------------------------------
def _jwt_lifetime(token: str) -> float | None:
    """Seconds between `iat` and `exp` in the token, when it is a readable JWT [1.1]."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - float(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class RemedyAuth(requests.auth.AuthBase):
    """Adds `AR-JWT <token>`; logs in when there is no token or it is about to expire."""

    def __init__(self, options: RemedyOptions, session: requests.Session) -> None:
        self._options = options
        self._session = session
        self._token: str | None = None
        self._expires_at = 0.0
        self.logins = 0

    def __repr__(self) -> str:
        return f"RemedyAuth(user={self._options.username!r}, token={'set' if self._token else 'none'})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"AR-JWT {self.token()}"
        return request

    def token(self) -> str:
        now = self._options.clock()
        if self._token is None or now >= self._expires_at - self._options.refresh_margin:
            self.login()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def login(self) -> None:
        form = {
            "username": self._options.username,
            "password": self._options.password.get_secret_value(),
        }
        if self._options.auth_string is not None:
            form["authString"] = self._options.auth_string.get_secret_value()
        url = self._options.base_url + "/api/jwt/login"
        response = send(self._session, self._options.http, "POST", url, data=form)
        if response.status_code != 200:
            raise translate_error(response, f"login as {self._options.username!r}")
        token = response.text.strip()
        if not token or token.startswith(("<", "[", "{")):
            raise InvalidResponse(
                f"Remedy login at {safe_url(url)} did not answer with a token; is this the "
                "AR System REST API (port 8008/8443, path /api/jwt/login)?"
            )
        lifetime = _jwt_lifetime(token) or TOKEN_LIFETIME
        self._token = token
        self._expires_at = self._options.clock() + lifetime
        self.logins += 1
        log.info("logged in to Remedy as %s", self._options.username)

    def logout(self) -> None:
        if self._token is None:
            return
        url = self._options.base_url + "/api/jwt/logout"
        headers = {"Authorization": f"AR-JWT {self._token}"}
        self._token = None
        try:
            response = self._session.post(url, headers=headers, timeout=self._options.http.timeout)
            if response.status_code not in (200, 204):
                log.warning("Remedy logout answered HTTP %s", response.status_code)
        except requests.RequestException as exc:
            log.warning("Remedy logout failed: %s", type(exc).__name__)


# -- the connector ------------------------------------------------------------------------------
def _entry_url(base: str, form: str, entry_id: str | None = None) -> str:
    url = f"{base}{API}/entry/{quote(form, safe=':')}"
    return url if entry_id is None else f"{url}/{quote(entry_id, safe='')}"


def _next_offset(page: Mapping[str, Any]) -> int | None:
    """The offset of the next page from `_links.next[0].href`, or None when there is none."""
    links = page.get("_links") or {}
    nxt = links.get("next") if isinstance(links, dict) else None
    if not nxt:
        return None
    href = nxt[0].get("href") if isinstance(nxt, list) and isinstance(nxt[0], dict) else None
    if not isinstance(href, str):
        raise InvalidResponse(f"Remedy list answer has a malformed _links.next: {nxt!r}")
    offset = parse_qs(urlsplit(href).query).get("offset", [None])[0]
    if offset is None or not offset.isdigit():
        raise InvalidResponse(f"Remedy _links.next has no usable offset: {safe_url(href)}")
    return int(offset)


class RemedyConnector:
    """`connector.base.Connector` for the AR System REST API."""

    platform = "remedy"

    def __init__(self, options: RemedyOptions, mapping: PlatformMapping) -> None:
        if mapping.platform != "remedy":
            raise ConfigurationError(f"{mapping.source}: platform: expected a remedy mapping")
        self.options = options
        self.mapping = mapping
        self.base_url = options.base_url.rstrip("/")
        self.session = make_session(options.http)
        self.auth = RemedyAuth(
            RemedyOptions(**{**options.__dict__, "base_url": self.base_url}), self.session
        )
        self.session.auth = self.auth
        self._lock = threading.RLock()
        self._codecs: dict[RecordKind, KindCodec] = {}
        self.calls = 0

    def __repr__(self) -> str:
        return f"RemedyConnector({self.base_url!r}, user={self.options.username!r})"

    def __enter__(self) -> RemedyConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def codec(self, kind: RecordKind) -> KindCodec:
        if kind not in self._codecs:
            self._codecs[kind] = KindCodec(self.mapping, kind, format_ar_date)
        return self._codecs[kind]

    # -- HTTP -----------------------------------------------------------------------------
    def _call(self, method: str, url: str, doing: str, **kwargs: Any) -> requests.Response:
        """One API call: serialised, retried, re-logged-in once on 401, errors translated."""
        with self._lock:
            response = self._send(method, url, **kwargs)
            if response.status_code == 401:
                self.auth.invalidate()
                response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise translate_error(response, doing)
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls += 1
        return send(self.session, self.options.http, method, url, **kwargs)

    def _json(self, response: requests.Response, doing: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise InvalidResponse(
                f"Remedy {doing}: expected JSON, got {_body_excerpt(response)!r}"
            ) from None

    # -- reading --------------------------------------------------------------------------
    def list_entries(
        self,
        form: str,
        *,
        qualification: str | None,
        fields: list[str],
        sort: str | None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Raw entry values of a form, page by page; memory holds one page at most."""
        offset, seen = 0, 0
        while True:
            page_size = self.options.page_size if limit is None else min(self.options.page_size, limit - seen)
            params: dict[str, Any] = {"offset": offset, "limit": page_size}
            if qualification:
                params["q"] = qualification
            if fields:
                params["fields"] = f"values({','.join(fields)})"
            if sort:
                params["sort"] = sort
            response = self._call("GET", _entry_url(self.base_url, form), f"list {form}", params=params)
            page = self._json(response, f"list {form}")
            entries = page.get("entries") if isinstance(page, dict) else None
            if not isinstance(entries, list):
                raise InvalidResponse(f"Remedy list {form}: the answer has no 'entries' array")
            for entry in entries:
                yield entry.get("values") or {}
            seen += len(entries)
            next_offset = _next_offset(page)
            if next_offset is None or not entries or (limit is not None and seen >= limit):
                return
            if next_offset <= offset:
                raise InvalidResponse(
                    f"Remedy list {form}: _links.next points back to offset {next_offset}"
                )
            offset = next_offset

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
            return self._find_notes(where, within, limit)  # type: ignore[return-value]
        if kind is RecordKind.RELATION:
            return self._find_relations(where, within, limit)  # type: ignore[return-value]
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
        q = render(codec.translate(where)) if where is not None else None
        for values in self.list_entries(
            form, qualification=q, fields=codec.read_fields(), sort=sort, limit=limit
        ):
            yield codec.decode(values, f"{form} entry {values.get(codec.spec.fields.get('id', ''))}")  # type: ignore[misc]

    def get(self, model: type[E], id: str) -> E:
        for found in self._find_records(model, Field("id") == id, None, False, 2):
            return found
        codec = self.codec(model.kind)
        raise NotFound(f"Remedy: no {model.kind.value} {id!r} on {self._form(codec)}")

    def _form(self, codec: KindCodec) -> str:
        if not codec.spec.form:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.{codec.kind.value}.form: no form is mapped"
            )
        return codec.spec.form

    # -- writing --------------------------------------------------------------------------
    def create(self, entity: E) -> E:
        codec = self.codec(entity.kind)
        create_form = codec.spec.create_form or self._form(codec)
        values = {**codec.spec.create_values, **codec.encode(codec.entity_changes(entity), for_create=True)}
        returns = codec.spec.create_returns
        params = {"fields": f"values({','.join(returns)})"} if returns else None
        response = self._call(
            "POST",
            _entry_url(self.base_url, create_form),
            f"create on {create_form}",
            params=params,
            json={"values": values},
        )
        number = self._created_number(response, codec, create_form)
        return self.get(type(entity), number)

    def _created_number(self, response: requests.Response, codec: KindCodec, form: str) -> str:
        """The new record's id, from the body or, on servers that send none, the Location."""
        id_field = codec.platform_field("id", for_create=True)
        if response.content:
            values = (self._json(response, f"create on {form}") or {}).get("values") or {}
            if values.get(id_field):
                return str(values[id_field])
        location = response.headers.get("Location")
        if not location:
            raise InvalidResponse(f"Remedy create on {form}: no {id_field!r} and no Location")
        entry_id = urlsplit(location).path.rsplit("/", 1)[-1]
        if form == codec.spec.form and id_field == codec.spec.fields.get("platform_id"):
            return entry_id
        got = self._call(
            "GET",
            _entry_url(self.base_url, form, entry_id),
            f"read back from {form}",
            params={"fields": f"values({id_field})"},
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
            ident = record.id if isinstance(record, Entity) else record
            key = self.get(model, str(ident)).platform_id
        if not key:
            raise InvalidResponse(f"Remedy {form}: record has no {codec.spec.fields.get('platform_id')!r}")
        values = codec.encode(changes)
        self._call("PUT", _entry_url(self.base_url, form, key), f"update {form} {key}", json={"values": values})

    def add_note(self, note: WorkNote) -> WorkNote:
        codec = self.codec(RecordKind.WORK_NOTE)
        parent = self._note_parent(note.parent_kind)
        values = codec.encode(
            {k: v for k, v in note.model_dump(exclude_none=True).items() if k in codec.spec.fields and k not in ("id", "platform_id", "created_at")}
        )
        values = {**{parent.fields.get(k, k): v for k, v in values.items()}, parent.parent_field: note.parent_id}
        self._call("POST", _entry_url(self.base_url, parent.form), f"add work note on {parent.form}", json={"values": values})
        return note

    def _note_parent(self, kind: RecordKind):  # type: ignore[no-untyped-def]
        spec = self.codec(RecordKind.WORK_NOTE).spec
        if kind.value not in spec.parents:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.work_note.parents.{kind.value}: no work log form mapped"
            )
        return spec.parents[kind.value]

    def relate(self, relation: Relation) -> Relation:
        source = self._relation_source(relation.source_kind)
        label = self.mapping.to_platform(source.type_enum, relation.relation_type.value)
        values: dict[str, Any] = {
            source.source_field: relation.source_id,
            source.target_field: relation.target_id,
            source.type_field: label,
        }
        target = self.mapping.kind(relation.target_kind.value)
        if source.target_form_field and target and target.base_form:
            values[source.target_form_field] = target.base_form
        if source.target_type_field and target and target.association_label:
            values[source.target_type_field] = target.association_label
        self._call("POST", _entry_url(self.base_url, source.form), f"relate on {source.form}", json={"values": values})
        return relation

    def _relation_source(self, kind: RecordKind) -> RelationSource:
        spec = self.codec(RecordKind.RELATION).spec
        if kind.value not in spec.sources:
            raise ConfigurationError(
                f"{self.mapping.source}: kinds.relation.sources.{kind.value}: no association form mapped"
            )
        return spec.sources[kind.value]

    def _find_notes(self, where: Filter | None, within: RecordKind | None, limit: int | None) -> Iterator[WorkNote]:
        if within is None:
            raise ValueError("finding work notes needs within=<parent kind>")
        parent = self._note_parent(within)
        codec = self.codec(RecordKind.WORK_NOTE)
        names = {**codec.spec.fields, **parent.fields, "parent_id": parent.parent_field}

        def name(field: str) -> str:
            if field not in names:
                raise ConfigurationError(f"work notes on {parent.form} have no mapped field {field!r}")
            return names[field]

        q = render(where.translate(name, lambda f, v: codec.encode_value(f, v) if f in codec.spec.enums else v)) if where else None
        fields = list(dict.fromkeys(names.values()))
        for values in self.list_entries(parent.form, qualification=q, fields=fields, sort=f"{name('id')}.asc", limit=limit):
            renamed = {smpm: values.get(platform) for smpm, platform in names.items()}
            yield codec.decode(  # type: ignore[misc]
                {codec.spec.fields[k]: v for k, v in renamed.items() if k in codec.spec.fields},
                f"{parent.form} entry",
                parent_kind=within,
                parent_id=str(values.get(parent.parent_field)),
            )

    def _find_relations(self, where: Filter | None, within: RecordKind | None, limit: int | None) -> Iterator[Relation]:
        if within is None:
            raise ValueError("finding relations needs within=<source kind>")
        source = self._relation_source(within)
        names = {"source_id": source.source_field, "target_id": source.target_field, "relation_type": source.type_field}
        targets = {k.base_form: name for name, k in self.mapping.kinds.items() if k.base_form}

        def name(field: str) -> str:
            if field not in names:
                raise ConfigurationError(f"relations on {source.form} have no field {field!r}")
            return names[field]

        def value(field: str, v: Any) -> Any:
            return self.mapping.to_platform(source.type_enum, getattr(v, "value", v)) if field == "relation_type" else v

        q = render(where.translate(name, value)) if where else None
        fields = [*names.values(), *[f for f in (source.target_form_field,) if f]]
        for values in self.list_entries(source.form, qualification=q, fields=fields, sort=f"{source.source_field}.asc", limit=limit):
            target_form = values.get(source.target_form_field) if source.target_form_field else None
            target_kind = targets.get(str(target_form), within.value) if target_form else within.value
            relation_type = self.mapping.from_platform(source.type_enum, str(values.get(source.type_field)))
            if relation_type is None:
                raise InvalidResponse(f"{source.form}: unknown association type {values.get(source.type_field)!r}")
            yield Relation(
                source_kind=within,
                source_id=str(values.get(source.source_field)),
                target_kind=RecordKind(target_kind),
                target_id=str(values.get(source.target_field)),
                relation_type=relation_type,  # type: ignore[arg-type]
            )

    def close(self) -> None:
        with self._lock:
            self.auth.logout()
            self.session.close()
