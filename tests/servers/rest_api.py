"""A configurable fake JSON REST API for testing generated connectors.

Generated connectors have to cope with the many ways real APIs shape their responses (where the records sit in
the body, how pages are chained, how the incremental filter is spelled) and with the ways they fail (rate limits,
HTML error pages from proxies, dropped connections, expiring tokens).  This module serves such an API on
127.0.0.1 so tests can sync against it without the network, then inspect what the connector asked for.

Usage::

    with FakeRestApi(openfda_shape(), records=openfda_records(250)) as api:
        ...  # point a connector at api.base_url
        assert api.duplicate_param_requests == 0

Run ``python -m tests.servers.rest_api --openfda --records 250 --port 0`` for an openFDA-shaped sample server; it
prints its base URL on the first line of stdout.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import datetime
import hashlib
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from tests.servers.base import FakeHandler, FakeServer, ServedApi
from tests.servers.json_text import json_text

HTML_503 = "<html><body>Service Unavailable</body></html>"
HTML_ERROR = "<html><head><title>Error</title></head><body>Something broke</body></html>"
NOT_JSON = "this is not json"


# ---------------------------------------------------------------------------------------------------- configuration


@dataclass
class ApiShape:
    """How the fake API lays out its responses (dotted paths may escape a dot in a key as "\\.")."""

    records_path: str = "results"
    primary_key: tuple[str, ...] = ("id",)
    incremental_field: str = "updated_at"
    order: str = "ascending"  # "ascending" | "descending" | "unknown"
    pagination: str = "offset"  # "none" | "offset" | "page_number" | "cursor" | "next_url" | "link_header"
    page_size_param: str = "limit"
    max_page_size: int = 1000
    # Records on a page when the request asks for no size (0: max_page_size); real APIs default well below their cap.
    default_page_size: int = 0
    offset_param: str = "skip"
    page_param: str = "page"
    first_page: int = 1
    cursor_param: str = "cursor"
    next_cursor_path: str = "meta.next_cursor"
    next_url_path: str = "next"
    next_url_relative: bool = False
    total_path: str = ""
    total_pages_path: str = ""
    has_more_path: str = ""
    incremental_filter: str = ""
    empty_search_404: str = ""
    path: str = "/items"
    # GET takes paging values and the filter in the query string; POST in its JSON body, at the dotted paths the
    # parameter names give (a value that is not text is compared as compact JSON).
    method: str = "GET"
    # Values every page carries beside the records, at dotted paths (JSON:API's `included` related resources, say).
    extra_body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject impossible shapes early, so a typo fails the test that made it rather than a sync later."""
        self.primary_key = tuple(self.primary_key)
        if self.order not in ("ascending", "descending", "unknown"):
            raise ValueError(f"order: unknown value {self.order!r}")
        if self.pagination not in ("none", "offset", "page_number", "cursor", "next_url", "link_header"):
            raise ValueError(f"pagination: unknown value {self.pagination!r}")
        if self.max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        if not self.primary_key:
            raise ValueError("primary_key must name at least one field")
        if self.incremental_filter and (
            "=" not in self.incremental_filter or not PLACEHOLDER.search(self.incremental_filter)
        ):
            raise ValueError("incremental_filter must look like 'name=template' with {cursor} in the template")


@dataclass
class Auth:
    """Which credentials the fake API demands on data requests."""

    # none | api_key_header | api_key_query | api_key_basic | bearer | basic | oauth2 (client credentials) |
    # oauth2_refresh (refresh token grant; the refresh token rotates on every use and only the newest one works)
    method: str = "none"
    name: str = "X-API-Key"
    secret: str = "s3cret-key"
    username: str = "user"
    password: str = "pass"
    client_id: str = "client-id"
    client_secret: str = "client-secret"
    refresh_token: str = "refresh-token-0"  # oauth2_refresh: the one the app was authorized with
    token_path: str = "/oauth/token"
    expires_in: int = 3600  # only reported to the client; the server never expires tokens by the clock
    scope_required: str = ""
    expire_tokens_after_requests: int = 0

    def __post_init__(self) -> None:
        methods = ("none", "api_key_header", "api_key_query", "api_key_basic", "bearer", "basic", "oauth2")
        if self.method not in (*methods, "oauth2_refresh"):
            raise ValueError(f"auth method: unknown value {self.method!r}")


@dataclass
class Faults:
    """Misbehaviour to inject into data requests (never into token requests).

    The first `drop_connection_first` data requests are dropped, the next `fail_first` answer 503; `rate_limit_every`
    counts every data request (including those), so its 429s land on fixed request numbers.
    """

    rate_limit_every: int = 0
    retry_after: str = "0"
    fail_first: int = 0
    html_error_status: int = 0
    non_json_body: bool = False
    repeat_cursor: bool = False
    drop_connection_first: int = 0
    # Seconds each data request waits before it is answered: a round trip to an API far away.
    delay_seconds: float = 0.0
    # The data request with this number answers HTTP 400, a failure no retry fixes (0: none does).
    fail_request: int = 0
    # An allowance of `quota` data requests per `quota_seconds`, announced in X-RateLimit-Remaining and
    # X-RateLimit-Reset (epoch seconds, as GitHub sends it); a request beyond it answers 429 without Retry-After.
    quota: int = 0
    quota_seconds: float = 1.0


@dataclass
class ChildResource:
    """A list under each parent record, at a path such as /v1/orders/{id}/lines (any value fills a placeholder)."""

    path: str
    shape: ApiShape

    def matches(self, path: str) -> bool:
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, path) is not None


@dataclass
class RequestLog:
    """One request as the server saw it; `status` is 0 when the connection was dropped without an answer."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0
    body: str = ""
    # time.monotonic() when the request arrived and when its answer was sent.
    received_at: float = 0.0
    answered_at: float = 0.0


class HttpError(Exception):
    """An answer other than the normal page, raised from deep inside request handling to keep the handler flat."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


# ---------------------------------------------------------------------------------------------------- body paths


def split_path(dotted: str) -> list[str]:
    """Split a dotted path into keys; a backslash-escaped dot belongs to the key ("a.b\\.c" -> ["a", "b.c"])."""
    keys: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(dotted):
        char = dotted[i]
        if char == "\\" and i + 1 < len(dotted):
            current.append(dotted[i + 1])
            i += 2
            continue
        if char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    keys.append("".join(current))
    return keys


def set_path(body: dict[str, Any], dotted: str, value: Any) -> None:
    """Put `value` at `dotted` in `body`, creating the nested dicts on the way."""
    keys = split_path(dotted)
    node = body
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def build_body(shape: ApiShape, records: list[dict], meta: dict[str, Any]) -> Any:
    """The response body: records at records_path plus meta values at theirs, or the bare list without one."""
    if not shape.records_path:
        return records
    body: dict[str, Any] = {}
    set_path(body, shape.records_path, records)
    for dotted, value in meta.items():
        set_path(body, dotted, value)
    return body


# ---------------------------------------------------------------------------------------------------- ordering, filter


def _value_key(value: Any) -> tuple:
    """A total order over JSON values: None, then numbers, then strings, then anything else by its JSON text."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True, default=str))


def primary_key_of(shape: ApiShape, record: dict) -> tuple:
    """The record's primary key values, which must all be present."""
    missing = [name for name in shape.primary_key if name not in record]
    if missing:
        raise ValueError(f"record lacks primary key field(s) {missing}: {record!r}")
    return tuple(record[name] for name in shape.primary_key)


def key_token(shape: ApiShape, record: dict) -> str:
    """How a record's key is written as a Stripe-style cursor: the bare value, or a JSON list for composite keys."""
    key = primary_key_of(shape, record)
    return str(key[0]) if len(key) == 1 else json.dumps(list(key), default=str)


def order_records(shape: ApiShape, records: list[dict]) -> list[dict]:
    """Order by (incremental_field, primary key) as the shape says; "unknown" is a stable shuffle by key hash."""

    def sort_key(record: dict) -> tuple:
        return (
            _value_key(field_value(record, shape.incremental_field)),
            tuple(_value_key(v) for v in primary_key_of(shape, record)),
        )

    if shape.order == "unknown":

        def hash_key(record: dict) -> str:
            text = json.dumps(list(primary_key_of(shape, record)), default=str)
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        return sorted(records, key=hash_key)
    return sorted(records, key=sort_key, reverse=shape.order == "descending")


def field_value(record: dict, path: str) -> Any:
    """A record's value at a dotted path (fields.updated), as an API's filter and sort reach into nested objects."""
    value: Any = record
    for key in split_path(path):
        value = value.get(key) if isinstance(value, dict) else None
    return value


# `{cursor}`, or `{cursor:FORMAT}` as an API documents the value it takes: epoch, epoch_ms, date or a strftime format
# (in UTC here; the fake keeps no time zones).
PLACEHOLDER = re.compile(r"\{cursor(?::(?P<format>[^}@]+))?(?:@UTC)?\}")


def filter_format(shape: ApiShape) -> str | None:
    match = PLACEHOLDER.search(shape.incremental_filter)
    return match["format"] if match else None


def in_filter_form(value: Any, form: str | None) -> Any:
    """A record's ISO-8601 cursor value as the filter spells it, so that the two compare: epoch numbers as numbers,
    dates and strftime text as text (their fields run from largest to smallest, so text order is time order)."""
    if form is None or value is None:
        return value
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(datetime.UTC)
    if form == "epoch":
        return int(moment.timestamp())
    if form == "epoch_ms":
        return int(moment.timestamp() * 1000)
    return moment.strftime("%Y-%m-%d" if form == "date" else form)


def filter_regex(shape: ApiShape) -> tuple[str, re.Pattern[str]]:
    """The query parameter name of the incremental filter and an anchored regex that extracts its cursor."""
    name, template = shape.incremental_filter.split("=", 1)
    parts = [re.escape(part) for part in PLACEHOLDER.split(template)[::2]]
    # the first {cursor} captures; any later one must repeat the same text
    pattern = parts[0] + "(?P<cursor>.+?)" + parts[1] + "".join("(?P=cursor)" + part for part in parts[2:])
    return name, re.compile(pattern, re.DOTALL)


def _as_number(text: str) -> int | float | None:
    """The number a query string spells, or None; the filter compares numerically only when both sides are numbers."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def at_or_after(value: Any, cursor: str) -> bool:
    """Inclusive `value >= cursor`: numerically if the record holds a number and the cursor spells one, else as text."""
    if value is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = _as_number(cursor)
        if number is not None:
            return value >= number
    return str(value) >= cursor


def apply_filter(shape: ApiShape, records: list[dict], query: dict[str, list[str]]) -> tuple[list[dict], bool]:
    """Keep records at or after the request's filter cursor; also say whether a filter was applied at all."""
    if not shape.incremental_filter:
        return records, False
    name, regex = filter_regex(shape)
    if name not in query:
        return records, False
    match = regex.fullmatch(query[name][0])
    if match is None:
        raise HttpError(
            400,
            {
                "error": {
                    "code": "BAD_REQUEST",
                    "message": f"{name}: expected {shape.incremental_filter.split('=', 1)[1]}",
                }
            },
        )
    cursor = match.group("cursor")
    form = filter_format(shape)
    kept = [r for r in records if at_or_after(in_filter_form(field_value(r, shape.incremental_field), form), cursor)]
    return kept, True


# ---------------------------------------------------------------------------------------------------- pagination


def encode_token(offset: int) -> str:
    """An opaque page token; base64 so clients can't be tempted to do arithmetic on it."""
    raw = json.dumps({"v": 1, "o": offset}).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> int:
    """The offset inside a token made by `encode_token`; 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset = json.loads(raw)["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise HttpError(400, {"message": "invalid cursor"}) from None
    if not isinstance(offset, int) or offset < 0:
        raise HttpError(400, {"message": "invalid cursor"})
    return offset


def _int_param(query: dict[str, list[str]], name: str, default: int, minimum: int) -> int:
    """An integer query parameter (first value), with a 400 like real APIs give for junk."""
    if not name or name not in query:
        return default
    try:
        value = int(query[name][0])
    except ValueError:
        raise HttpError(400, {"message": f"invalid {name}"}) from None
    if value < minimum:
        raise HttpError(400, {"message": f"invalid {name}"})
    return value


@dataclass
class _Page:
    """One computed page: its records, the meta values, and the token that leads to the next page (None at the end)."""

    records: list[dict]
    total: int
    total_pages: int
    has_more: bool
    next_token: str | None = None


def page_size(shape: ApiShape, query: dict[str, list[str]]) -> int:
    """The requested size (default_page_size when none is asked) capped at max_page_size, silently as real APIs do."""
    requested = _int_param(query, shape.page_size_param, shape.default_page_size or shape.max_page_size, 1)
    return min(requested, shape.max_page_size)


def _start_after_key(shape: ApiShape, records: list[dict], cursor: str) -> int:
    """Index just after the record whose key token is `cursor` (Stripe's starting_after)."""
    for index, record in enumerate(records):
        if key_token(shape, record) == cursor:
            return index + 1
    raise HttpError(400, {"message": "invalid cursor"})


def _page_start(shape: ApiShape, faults: Faults, records: list[dict], query: dict[str, list[str]], size: int) -> int:
    """Index of the page's first record, from the offset, page number or cursor the request carries."""
    if shape.pagination == "offset":
        return _int_param(query, shape.offset_param, 0, 0)
    if shape.pagination == "page_number":
        return (_int_param(query, shape.page_param, shape.first_page, shape.first_page) - shape.first_page) * size
    cursor = query.get(shape.cursor_param, [""])[0]
    if not cursor:
        return 0
    if shape.pagination == "cursor" and not shape.next_cursor_path:
        # Stripe-style: the client derives the cursor from the last record, so to make it loop the server
        # ignores the cursor and serves the first page again
        return 0 if faults.repeat_cursor else _start_after_key(shape, records, cursor)
    return decode_token(cursor)


def paginate(shape: ApiShape, faults: Faults, records: list[dict], query: dict[str, list[str]]) -> _Page:
    """Cut one page out of the filtered, ordered records according to the pagination style."""
    total = len(records)
    if shape.pagination == "none":
        return _Page(records, total, 1 if total else 0, False)
    size = page_size(shape, query)
    total_pages = math.ceil(total / size)
    start = _page_start(shape, faults, records, query, size)
    chunk = records[start : start + size]
    has_more = start + size < total
    page = _Page(chunk, total, total_pages, has_more)
    if shape.pagination in ("cursor", "next_url", "link_header"):
        if faults.repeat_cursor:
            page.has_more = True
            page.next_token = encode_token(start)
        elif has_more:
            page.next_token = encode_token(start + size)
    return page


# ---------------------------------------------------------------------------------------------------- the server


class RecordStore:
    """The records a fake API serves, keyed its own way; the host class provides `_lock` and `_store`."""

    _lock: threading.Lock
    _store: dict[Any, dict]

    def records(self) -> list[dict]:
        """Deep copies of the current records, in insertion order."""
        with self._lock:
            return copy.deepcopy(list(self._store.values()))


class CredentialChecks:
    """The credentials a fake API accepts, by `Auth.method`, and its OAuth2 token endpoint; shared by the fakes.

    The host class provides `auth`, `_lock`, `_tokens` (issued token -> requests served), `_token_requests` and
    `_refresh_tokens` (every refresh token issued, the authorized one first; only the last one works).
    """

    auth: Auth
    _lock: threading.Lock
    _tokens: dict[str, int]
    _token_requests: int
    _refresh_tokens: list[str]

    @property
    def refresh_tokens(self) -> list[str]:
        """Every refresh token this server has known, oldest first; only the last one is accepted."""
        with self._lock:
            return list(self._refresh_tokens)

    def authorize_again(self, refresh_token: str) -> None:
        """The owner authorized the app again: `refresh_token` is now the only one accepted."""
        with self._lock:
            self._refresh_tokens.append(refresh_token)

    @property
    def token_requests(self) -> int:
        """Requests to the OAuth2 token path."""
        with self._lock:
            return self._token_requests

    def _denied(self, message: str) -> HttpError:
        """The 401 this API answers; a fake may shape its body the way its clients expect."""
        return HttpError(401, {"message": message})

    def _check_auth(self, headers: Any, query: dict[str, list[str]]) -> None:
        """401 unless the data request carries the configured credentials; counts uses of OAuth2 tokens."""
        auth = self.auth
        denied = self._denied("invalid credentials")
        authorization = headers.get("Authorization", "")
        if auth.method == "none":
            return
        if auth.method == "api_key_header":
            if headers.get(auth.name) != auth.secret:
                raise denied
        elif auth.method == "api_key_query":
            if query.get(auth.name, [None])[0] != auth.secret:
                raise denied
        elif auth.method == "api_key_basic":
            if _basic_credentials(authorization) != (auth.secret, ""):
                raise denied
        elif auth.method == "bearer":
            if authorization != f"Bearer {auth.secret}":
                raise denied
        elif auth.method == "basic":
            if _basic_credentials(authorization) != (auth.username, auth.password):
                raise denied
        elif auth.method in ("oauth2", "oauth2_refresh"):
            self._use_token(authorization)

    def _use_token(self, authorization: str) -> None:
        """Accept an issued bearer token until it has served `expire_tokens_after_requests` data requests."""
        scheme, _, token = authorization.partition(" ")
        limit = self.auth.expire_tokens_after_requests
        with self._lock:
            if scheme.lower() != "bearer" or token not in self._tokens:
                raise self._denied("invalid credentials")
            if limit and self._tokens[token] >= limit:
                raise self._denied("token expired")
            self._tokens[token] += 1

    def _issue_token(self, form: dict[str, list[str]], authorization: str) -> dict[str, Any]:
        """The client-credentials grant, or for oauth2_refresh the refresh token grant, which rotates the refresh
        token: credentials from the form body or HTTP basic auth."""
        auth = self.auth
        with self._lock:
            self._token_requests += 1
        grant = "refresh_token" if auth.method == "oauth2_refresh" else "client_credentials"
        if form.get("grant_type", [""])[0] != grant:
            raise HttpError(400, {"error": "unsupported_grant_type"})
        credentials = (form.get("client_id", [None])[0], form.get("client_secret", [None])[0])
        if credentials == (None, None):
            credentials = _basic_credentials(authorization) or (None, None)
        if credentials != (auth.client_id, auth.client_secret):
            raise HttpError(401, {"error": "invalid_client"})
        scope = form.get("scope", [""])[0]
        if auth.scope_required and auth.scope_required not in scope.split():
            raise HttpError(400, {"error": "invalid_scope"})
        rotated = None
        if auth.method == "oauth2_refresh":
            presented = form.get("refresh_token", [""])[0]
            with self._lock:
                if presented != self._refresh_tokens[-1]:
                    # Some servers echo the refused token: the client must not pass it on.
                    description = f"refresh token {presented} is not valid"
                    raise HttpError(400, {"error": "invalid_grant", "error_description": description})
                rotated = f"refresh-token-{len(self._refresh_tokens)}-{secrets.token_hex(4)}"
                self._refresh_tokens.append(rotated)
        with self._lock:
            token = f"tok-{len(self._tokens) + 1}"
            self._tokens[token] = 0
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": auth.expires_in}
        if rotated:
            answer["refresh_token"] = rotated
        if scope:
            answer["scope"] = scope
        return answer


class FakeRestApi(ServedApi, RecordStore, CredentialChecks):
    """A fake JSON REST API on 127.0.0.1 that serves `records` in the given shape, with optional auth and faults."""

    def __init__(
        self,
        shape: ApiShape,
        auth: Auth | None = None,
        faults: Faults | None = None,
        records: list[dict] | None = None,
        *,
        children: ChildResource | None = None,
        port: int = 0,
    ) -> None:
        self.shape = shape
        self.children = children
        self._child_store: dict[str, dict[tuple, dict]] = {}  # concrete path -> key -> record
        self.auth = auth or Auth()
        self.faults = faults or Faults()
        self.base_url = ""
        self.errors: list[str] = []  # tracebacks of bugs in this server (answered 500), for tests to assert empty
        self._port = port
        self._lock = threading.Lock()
        self._store: dict[tuple, dict] = {}
        self._requests: list[RequestLog] = []
        self._data_requests = 0
        self._records_served = 0
        self._token_requests = 0
        self._duplicate_param_requests = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._quota_used = 0
        self._quota_resets_at = 0.0  # time.monotonic()
        self._tokens: dict[str, int] = {}  # token -> data requests served with it
        self._refresh_tokens = [self.auth.refresh_token]
        self._connections: set[socket.socket] = set()
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None
        for record in records or []:
            self.upsert(record)

    # ---- lifecycle

    # ---- records and counters

    def upsert(self, record: dict) -> None:
        """Add the record, or replace the one with the same primary key (keeping its original position)."""
        key = primary_key_of(self.shape, record)
        with self._lock:
            self._store[key] = copy.deepcopy(record)

    def delete(self, record: dict) -> None:
        """Remove the record with this one's primary key, as an API forgets a deleted object."""
        key = primary_key_of(self.shape, record)
        with self._lock:
            del self._store[key]

    def upsert_child(self, path: str, record: dict) -> None:
        """Add or replace a record of the child list at `path` (e.g. /v1/orders/7/lines)."""
        assert self.children and self.children.matches(path), path
        key = primary_key_of(self.children.shape, record)
        with self._lock:
            self._child_store.setdefault(path, {})[key] = copy.deepcopy(record)

    def delete_child(self, path: str, record: dict) -> None:
        assert self.children is not None
        key = primary_key_of(self.children.shape, record)
        with self._lock:
            del self._child_store[path][key]

    def child_records(self) -> dict[str, list[dict]]:
        """Every child list, by its path."""
        with self._lock:
            return {path: copy.deepcopy(list(store.values())) for path, store in self._child_store.items()}

    @property
    def requests(self) -> list[RequestLog]:
        """Every request received so far (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    @property
    def records_served(self) -> int:
        """Records sent in answers to data requests, counting each time a record is sent."""
        with self._lock:
            return self._records_served

    @property
    def data_requests(self) -> int:
        """Requests to the records path."""
        with self._lock:
            return self._data_requests

    @property
    def max_in_flight(self) -> int:
        """The most data requests this server was answering at one time."""
        with self._lock:
            return self._max_in_flight

    @property
    def duplicate_param_requests(self) -> int:
        """Requests whose query string repeats a parameter name (a client re-adding params to a next URL)."""
        with self._lock:
            return self._duplicate_param_requests

    # ---- internals used by the handler

    def _register(self, log: RequestLog, raw_query: str) -> None:
        """Record a request and count duplicated query parameters."""
        names = [name for name, _ in parse_qsl(raw_query, keep_blank_values=True)]
        with self._lock:
            self._requests.append(log)
            if len(names) != len(set(names)):
                self._duplicate_param_requests += 1

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """Count a data request in flight while it is answered, after the configured delay."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            if self.faults.delay_seconds:
                time.sleep(self.faults.delay_seconds)  # the simulated network round trip, not synchronisation
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _next_data_request(self) -> int:
        """Count a data request and return its 1-based number, which decides the faults it gets."""
        with self._lock:
            self._data_requests += 1
            return self._data_requests

    def _check_faults(self, number: int) -> str | None:
        """Raise the configured fault for data request `number`; return "drop" when the connection must be cut."""
        faults = self.faults
        if number <= faults.drop_connection_first:
            return "drop"
        if number <= faults.drop_connection_first + faults.fail_first:
            raise HttpError(503, HTML_503, {"Content-Type": "text/html; charset=utf-8"})
        if faults.html_error_status:
            raise HttpError(faults.html_error_status, HTML_ERROR, {"Content-Type": "text/html; charset=utf-8"})
        if faults.rate_limit_every and number % faults.rate_limit_every == 0:
            raise HttpError(429, {"message": "rate limited"}, {"Retry-After": faults.retry_after})
        if number == faults.fail_request:
            raise HttpError(400, {"message": f"request {number} is refused"})
        if faults.quota:
            remaining, reset_in = self._use_quota()
            if remaining < 0:
                raise HttpError(429, {"message": "rate limit exceeded"}, self._quota_headers(0, reset_in))
        return None

    def _use_quota(self) -> tuple[int, float]:
        """Count a request against the allowance: the requests left after it (-1: it is over) and seconds to reset."""
        now = time.monotonic()
        with self._lock:
            if now >= self._quota_resets_at:
                self._quota_used, self._quota_resets_at = 0, now + self.faults.quota_seconds
            self._quota_used += 1
            return max(self.faults.quota - self._quota_used, -1), self._quota_resets_at - now

    def quota_headers(self) -> dict[str, str]:
        """The allowance headers for an answer sent now."""
        with self._lock:
            remaining = max(self.faults.quota - self._quota_used, 0)
            return self._quota_headers(remaining, self._quota_resets_at - time.monotonic())

    @staticmethod
    def _quota_headers(remaining: int, reset_in: float) -> dict[str, str]:
        reset_at = math.ceil((time.time() + max(reset_in, 0.0)) * 1000) / 1000  # never before the reset
        return {"X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": f"{reset_at:.3f}"}

    def _list(self, path: str, query: dict[str, list[str]]) -> tuple[Any, dict[str, str]]:
        """Body and extra headers for a successful request to the records path or to a child list."""
        shape = self.shape if path == self.shape.path else self.children.shape  # type: ignore[union-attr]
        with self._lock:
            store = self._store if path == self.shape.path else self._child_store.get(path, {})
            snapshot = list(store.values())
        filtered, filtered_by_request = apply_filter(shape, snapshot, query)
        if filtered_by_request and not filtered and shape.empty_search_404:
            raise HttpError(404, {"error": {"code": "NOT_FOUND", "message": shape.empty_search_404}})
        page = paginate(shape, self.faults, order_records(shape, filtered), query)
        with self._lock:
            self._records_served += len(page.records)
        meta: dict[str, Any] = copy.deepcopy(shape.extra_body)
        headers: dict[str, str] = {}
        if shape.total_path:
            meta[shape.total_path] = page.total
        if shape.total_pages_path:
            meta[shape.total_pages_path] = page.total_pages
        if shape.has_more_path:
            meta[shape.has_more_path] = page.has_more
        if shape.pagination == "cursor" and shape.next_cursor_path:
            meta[shape.next_cursor_path] = page.next_token
        elif shape.pagination == "next_url":
            meta[shape.next_url_path] = self._next_url(shape, path, query, page.next_token) if page.next_token else None
        elif shape.pagination == "link_header" and page.next_token:
            headers["Link"] = f'<{self._next_url(shape, path, query, page.next_token)}>; rel="next"'
        return build_body(shape, copy.deepcopy(page.records), meta), headers

    def _next_url(self, shape: ApiShape, path: str, query: dict[str, list[str]], token: str) -> str:
        """A next-page URL carrying the request's own params (filter, size, ...) so it can be followed as given.

        The page token replaces any previous one; an api_key_query secret is not echoed into URLs, as real APIs
        don't put secrets in response bodies.
        """
        params: dict[str, str] = {name: values[0] for name, values in query.items()}
        params.pop(shape.cursor_param, None)
        if self.auth.method == "api_key_query":
            params.pop(self.auth.name, None)
        if shape.page_size_param:
            params[shape.page_size_param] = str(page_size(shape, query))
        params[shape.cursor_param] = token
        relative = f"{path}?{urlencode(params)}"
        return relative if shape.next_url_relative else self.base_url + relative


def body_parameters(shape: ApiShape, body: str) -> dict[str, list[str]]:
    """The paging values and the filter of a POST body, as the query-string parameters a GET would have sent."""
    try:
        document = json.loads(body or "{}")
    except ValueError:
        raise HttpError(400, {"message": "the body is not JSON"}) from None
    names = [shape.offset_param, shape.page_size_param, shape.page_param, shape.cursor_param]
    if shape.incremental_filter:
        names.append(shape.incremental_filter.split("=", 1)[0])
    parameters = {}
    for name in names:
        value = field_value(document, name)
        if value is not None:
            parameters[name] = [value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))]
    return parameters


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(username, password) from an HTTP Basic Authorization header, or None."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class _Server(FakeServer):
    api: FakeRestApi


class _Handler(FakeHandler):
    """Routes requests to the FakeRestApi; HTTP/1.1 with Content-Length on every answer, so keep-alive works."""

    server_version = "FakeRestApi/1.0"
    server: _Server

    def _dispatch(self) -> None:
        """Log the request, compute the answer (errors as HttpError), and send it."""
        api = self.server.api
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        log = RequestLog(self.command, split.path, query, dict(self.headers.items()), 0, body, time.monotonic())
        try:
            status, payload, headers = self._route(api, split.path, query, body)
        except HttpError as error:
            status, payload, headers = error.status, error.body, error.headers
        except _Drop:
            api._register(log, split.query)
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - a bug in this fake: answer 500 and keep the traceback for the test to show
            api.errors.append(traceback.format_exc())
            status, payload, headers = 500, {"message": "fake server error"}, {}
        log.status, log.answered_at = status, time.monotonic()
        api._register(log, split.query)  # before sending, so a client that got its answer sees its request logged
        self._send(status, payload, headers)

    def _route(
        self, api: FakeRestApi, path: str, query: dict[str, list[str]], body: str
    ) -> tuple[int, Any, dict[str, str]]:
        """The answer for one request as (status, body, headers)."""
        if api.auth.method in ("oauth2", "oauth2_refresh") and path == api.auth.token_path:
            if self.command != "POST":
                raise HttpError(405, {"message": "method not allowed"})
            form = parse_qs(body, keep_blank_values=True)
            return 200, api._issue_token(form, self.headers.get("Authorization", "")), {}
        if path != api.shape.path and not (api.children and api.children.matches(path)):
            raise HttpError(404, {"message": "not found"})
        shape = api.shape if path == api.shape.path else api.children.shape  # type: ignore[union-attr]
        if self.command != shape.method:
            raise HttpError(405, {"message": "method not allowed"})
        if shape.method == "POST":
            query = {**query, **body_parameters(shape, body)}
        with api._answering():
            if api._check_faults(api._next_data_request()) == "drop":
                raise _Drop()
            api._check_auth(self.headers, query)
            if api.faults.non_json_body:
                return 200, _RawJson(NOT_JSON), {}
            payload, headers = api._list(path, query)
            if api.faults.quota:
                headers = {**headers, **api.quota_headers()}
            return 200, payload, headers

    def _read_body(self) -> str:
        """The request body (read fully so the next request on a keep-alive connection starts at the right byte)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        """Write the answer: JSON unless the payload is text, always with Content-Length."""
        headers = dict(headers)
        if isinstance(payload, _RawJson):
            data = payload.text.encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json_text(payload).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Drop(Exception):
    """Signals that the connection must be closed without an answer."""


@dataclass
class _RawJson:
    """A body sent verbatim with a JSON content type (for the non-JSON-body fault)."""

    text: str


# ---------------------------------------------------------------------------------------------------- sample data


_DESCRIPTIONS = [
    "Crème brûlée – 12 oz cups",
    "Jalapeño salsa, 16 oz jar",
    "Café au lait powder – 250 g",
    "Smoked salmon “Nordic” fillets",
    "Bánh mì sandwich kit",
    "Organic granola bars (6 × 40 g)",
    "Pâté de campagne, 200 g",
    "Peanut butter cookies",
]
_REASONS = [
    "Undeclared milk allergen.",
    "Potential Listeria monocytogenes contamination.",
    "Product contains undeclared peanuts.",
    "Foreign material (plastic fragments) found in product.",
    "Temperature abuse during distribution.",
]
_FIRMS = [
    ("Acme Foods, Inc.", "Boston", "MA", "02134"),
    ("Großmann Delikatessen LLC", "Hoboken", "NJ", "07030"),
    ("Sunrise Bakery", "Holtsville", "NY", "00501"),
    ("Bay Area Provisions", "San Francisco", "CA", "94105"),
    ("Señor Sabor Foods", "San Antonio", "TX", "78205"),
]
_QUANTITIES = [36999.26, 0.1, 2.675, 1234567.891, 120.0]


def openfda_records(count: int, start_date: str = "20200101") -> list[dict]:
    """openFDA food-enforcement-shaped records, deterministic, with ties on report_date and awkward values.

    report_date never decreases and several records share a date, so incremental syncs must break ties by key;
    postal codes keep leading zeros, descriptions hold non-ASCII text, and product_quantity_lbs floats check
    that values survive exactly.
    """
    start = datetime.datetime.strptime(start_date, "%Y%m%d").date()
    records: list[dict] = []
    for i in range(count):
        day = start + datetime.timedelta(days=i // 3 + i // 7)
        report_date = day.strftime("%Y%m%d")
        firm, city, state, postal_code = _FIRMS[i % len(_FIRMS)]
        record: dict[str, Any] = {
            "recall_number": f"F-{i + 1:04d}-{day.year}",
            "report_date": report_date,
            "recall_initiation_date": (day - datetime.timedelta(days=10 + i % 20)).strftime("%Y%m%d"),
            "status": ("Ongoing", "Completed", "Terminated")[i % 3],
            "classification": ("Class I", "Class II", "Class III")[(i // 2) % 3],
            "product_type": "Food",
            "product_description": _DESCRIPTIONS[i % len(_DESCRIPTIONS)],
            "reason_for_recall": _REASONS[i % len(_REASONS)],
            "recalling_firm": firm,
            "city": city,
            "state": state,
            "postal_code": postal_code,
            "country": "United States",
            "voluntary_mandated": "Voluntary: Firm initiated",
            "distribution_pattern": "Nationwide" if i % 2 else "MA, NY, NJ",
            "code_info": f"Lot {1000 + i}; best by {day.year + 1}-06-30",
            "event_id": str(80000 + i // 2),
            "product_quantity_lbs": _QUANTITIES[i % len(_QUANTITIES)],
            "openfda": {},
        }
        if i % 3:
            record["more_code_info"] = [f"UPC 0{12345678900 + i}"] if i % 3 == 1 else []
        records.append(record)
    return records


def openfda_shape() -> ApiShape:
    """The shape of openFDA's food enforcement endpoint (https://api.fda.gov/food/enforcement.json)."""
    return ApiShape(
        path="/food/enforcement.json",
        records_path="results",
        primary_key=("recall_number",),
        incremental_field="report_date",
        order="ascending",
        pagination="offset",
        offset_param="skip",
        page_size_param="limit",
        max_page_size=1000,
        total_path="meta.results.total",
        incremental_filter="search=report_date:[{cursor} TO 99991231]",
        empty_search_404="No matches found!",
    )


def sample_records(count: int) -> list[dict]:
    """Plain records for the default ApiShape (id, updated_at, name), for quick manual runs."""
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    return [
        {
            "id": i + 1,
            "updated_at": (base + datetime.timedelta(minutes=i // 2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": f"item {i + 1}",
        }
        for i in range(count)
    ]


# ---------------------------------------------------------------------------------------------------- command line


FakeRestApi.handler = _Handler
FakeRestApi.server_class = _Server


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; the first stdout line is the base URL so a parent process can read it."""
    parser = argparse.ArgumentParser(description="Serve a fake JSON REST API on 127.0.0.1.")
    parser.add_argument("--openfda", action="store_true", help="openFDA food-enforcement shape and records")
    parser.add_argument("--records", type=int, default=250, help="how many records to serve")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    args = parser.parse_args(argv)
    if args.openfda:
        api = FakeRestApi(openfda_shape(), records=openfda_records(args.records), port=args.port)
    else:
        api = FakeRestApi(ApiShape(), records=sample_records(args.records), port=args.port)
    api.serve_until_signalled()
    return 0


if __name__ == "__main__":
    sys.exit(main())
