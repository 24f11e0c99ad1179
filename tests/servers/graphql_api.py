"""A fake GitHub/Shopify-style GraphQL API (Relay connections and offset pages) for testing generated connectors.

GraphQL connectors fail in ways REST connectors don't: errors arrive with HTTP 200 (a rate limit, a bad query, a
field that failed to resolve next to data that did), pages are chained by opaque Relay cursors, and a server that
keeps answering `hasNextPage: true` with the same cursor makes a naive client loop forever.  This module serves such
an API on 127.0.0.1 with graphql-core doing the real parsing, validation and execution, so a connector's queries are
checked the way a real server checks them, and tests can inspect what the connector sent.

Usage::

    with FakeGraphQLApi(sample_issues(250), auth=Auth("bearer"), faults=GraphQLFaults(rate_limit_every=3)) as api:
        ...  # point a connector at api.url
        assert not api.errors

Run ``python -m tests.servers.graphql_api --records 250 --port 0`` for a sample server; it prints its GraphQL URL
on the first line of stdout.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import datetime
import json
import re
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from tests.servers.base import FakeHandler, FakeServer, ServedApi
from tests.servers.json_text import json_text
from tests.servers.rest_api import HTML_503, Auth, CredentialChecks, HttpError, RecordStore

SCHEMA_SDL = """
type Query {
  issues(first: Int, after: String, since: String, updatedAfter: Int): IssueConnection!
  issuePage(limit: Int, offset: Int, since: String): IssuePage!
  issue(id: ID!): Issue
}
type CommentConnection { nodes: [Comment!]!  pageInfo: PageInfo! }
type Comment { id: ID!  body: String!  createdAt: String! }
type IssueConnection { edges: [IssueEdge!]!  nodes: [Issue!]!  pageInfo: PageInfo!  totalCount: Int! }
type IssueEdge { node: Issue!  cursor: String! }
type PageInfo { hasNextPage: Boolean!  endCursor: String }
# `fields` passes any JSON through as it is, for records that hold every kind of value (tests/exact_values.py).
scalar JSON
type Issue {
  id: ID!  number: Int!  title: String!  updatedAt: String!  score: Float  labels: [String!]!  author: User
  fields: JSON
  comments(first: Int, after: String, since: String): CommentConnection!
}
type User { login: String!  profile: Profile }
type Profile { country: String }
type IssuePage { items: [Issue!]!  total: Int! }
"""

# An error in a non-null field nulls the nearest nullable ancestor, and with `title: String!` there is none up to the
# root (every field on the way is non-null), so the answer would be {"data": null} rather than partial data.  The
# partial-error fault therefore runs against this variant, where only the failing title becomes null.
PARTIAL_SCHEMA_SDL = SCHEMA_SDL.replace("title: String!", "title: String")

RATE_LIMITED_BODY: dict[str, Any] = {
    "data": None,
    "errors": [{"message": "API rate limit exceeded", "extensions": {"code": "RATE_LIMITED"}, "type": "RATE_LIMITED"}],
}


# ---------------------------------------------------------------------------------------------------- configuration


@dataclass
class GraphQLFaults:
    """Misbehaviour to inject into POSTs to the GraphQL path (never into token requests or other paths).

    POSTs are numbered from 1.  The first `fail_first` answer 503, the next `graphql_rate_limit_first` answer
    RATE_LIMITED; `rate_limit_every` counts every POST (including those), so its 429s land on fixed request numbers
    (a 503 wins over a 429, a 429 over RATE_LIMITED).  Faults are decided before credentials are checked, as a proxy
    or rate limiter in front of a real API would.  Fields may be changed while the server runs.
    """

    rate_limit_every: int = 0  # every Nth POST answers HTTP 429 with Retry-After: retry_after
    retry_after: str = "0"
    graphql_rate_limit_first: int = 0  # HTTP 200 with RATE_LIMITED_BODY, as GitHub reports its rate limit
    partial_error_on_id: str = ""  # the title of this issue fails to resolve: data AND errors in one answer
    fail_first: int = 0  # HTTP 503 with an HTML body, as a load balancer answers
    repeat_cursor: bool = False  # pageInfo keeps saying hasNextPage with the request's own cursor: a pagination loop


@dataclass
class GraphQLRequestLog:
    """One request as the server saw it: `payload` is the parsed JSON body (None when the body isn't JSON)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0
    body: str = ""
    payload: Any = None


# ---------------------------------------------------------------------------------------------------- data helpers


def parse_instant(text: str) -> datetime.datetime:
    """An ISO-8601 timestamp as an aware datetime (Z or an offset; none means UTC), so filters compare instants."""
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def encode_cursor(position: int) -> str:
    """The opaque Relay cursor of the record at `position` in the filtered, ordered list."""
    return base64.b64encode(f"cursor:{position}".encode("ascii")).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The position inside a cursor made by `encode_cursor`; a GraphQL error (as GitHub words it) for anything else."""
    try:
        match = re.fullmatch(r"cursor:(\d+)", base64.b64decode(cursor, validate=True).decode("ascii"))
    except (binascii.Error, UnicodeDecodeError):
        match = None
    if match is None:
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.", extensions={"code": "INVALID_CURSOR"})
    return int(match.group(1))


def _page_size(requested: int | None, maximum: int, name: str) -> int:
    """The requested size capped at `maximum`, which is also the default (servers cap silently)."""
    if requested is None:
        return maximum
    if requested < 0:
        raise GraphQLError(f"`{name}` must not be negative.", extensions={"code": "BAD_ARGUMENT"})
    return min(requested, maximum)


def _unauthorized(message: str) -> HttpError:
    """A 401 that GitHub-style clients (top-level `message`) and GraphQL-style clients (`errors`) can both read."""
    return HttpError(
        401, {"message": message, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    )


# ---------------------------------------------------------------------------------------------------- the server


class FakeGraphQLApi(ServedApi, RecordStore, CredentialChecks):
    """A fake GraphQL API on 127.0.0.1 serving issue records as a Relay connection and as offset pages.

    Auth follows tests.servers.rest_api: the same `Auth` settings, checked on every POST to `path`, with the OAuth2
    client-credentials token endpoint at `auth.token_path`.
    """

    def __init__(
        self,
        records: list[dict] | None = None,
        *,
        auth: Auth | None = None,
        faults: GraphQLFaults | None = None,
        max_page_size: int = 100,
        path: str = "/graphql",
        port: int = 0,
    ) -> None:
        if max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        self.auth = auth or Auth()
        self.faults = faults or GraphQLFaults()
        self.max_page_size = max_page_size
        self.path = path
        self.base_url = ""
        self.errors: list[str] = []  # tracebacks of bugs in this server, for tests to assert empty
        self._port = port
        self._lock = threading.Lock()
        self._store: dict[str, dict] = {}
        self._comments: dict[str, dict[str, dict]] = {}  # issue id -> comment id -> comment
        self._requests: list[GraphQLRequestLog] = []
        self._graphql_requests = 0
        self._token_requests = 0
        self._tokens: dict[str, int] = {}  # token -> GraphQL requests served with it
        self._refresh_tokens = [self.auth.refresh_token]
        self._connections: set[socket.socket] = set()
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None
        self._schema = self._build(SCHEMA_SDL)
        self._partial_schema = self._build(PARTIAL_SCHEMA_SDL)
        for record in records or []:
            self.upsert(record)

    @property
    def url(self) -> str:
        """The GraphQL endpoint (base_url + path)."""
        return self.base_url + self.path

    # ---- lifecycle

    # ---- records and counters

    def upsert(self, record: dict) -> None:
        """Add the record, or replace the one with the same id; a bad id or updatedAt fails here, not in a sync."""
        if not isinstance(record.get("id"), str) or not record["id"]:
            raise ValueError(f"record needs a non-empty string id: {record!r}")
        parse_instant(record["updatedAt"])
        with self._lock:
            # stored records are replaced, never changed in place, so readers may share them without copying
            self._store[record["id"]] = copy.deepcopy(record)

    def upsert_comment(self, issue_id: str, comment: dict) -> None:
        """Add or replace a comment of an issue (a list only `issue(id) { comments }` reaches)."""
        parse_instant(comment["createdAt"])
        with self._lock:
            self._comments.setdefault(issue_id, {})[comment["id"]] = copy.deepcopy(comment)

    def comments(self) -> dict[str, list[dict]]:
        """Every issue's comments, by issue id."""
        with self._lock:
            return {issue_id: copy.deepcopy(list(found.values())) for issue_id, found in self._comments.items()}

    @property
    def requests(self) -> list[GraphQLRequestLog]:
        """Every request received so far, on any path (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    @property
    def graphql_requests(self) -> int:
        """POSTs to the GraphQL path, whatever their answer."""
        with self._lock:
            return self._graphql_requests

    # ---- schema and resolvers

    def _build(self, sdl: str) -> GraphQLSchema:
        """The schema from SDL with this server's resolvers; other fields read the record dicts by name."""
        schema = build_schema(sdl)
        query = schema.query_type
        issue = schema.get_type("Issue")
        assert query is not None and isinstance(issue, GraphQLObjectType)
        query.fields["issues"].resolve = self._resolve_issues
        query.fields["issuePage"].resolve = self._resolve_issue_page
        query.fields["issue"].resolve = self._resolve_issue
        issue.fields["title"].resolve = self._resolve_title
        issue.fields["comments"].resolve = self._resolve_comments
        return schema

    def _ordered(self, since: str | None, updated_after: int | None = None) -> list[dict]:
        """The records at or after `since` (inclusive, by instant) or `updated_after` (epoch seconds), ascending by
        (updatedAt, id)."""
        with self._lock:
            snapshot = list(self._store.values())
        keyed = [(parse_instant(record["updatedAt"]), record["id"], record) for record in snapshot]
        if updated_after is not None:
            bound = datetime.datetime.fromtimestamp(updated_after, tz=datetime.UTC)
            keyed = [item for item in keyed if item[0] >= bound]
        if since is not None:
            try:
                bound = parse_instant(since)
            except ValueError:
                raise GraphQLError(
                    f"`since` is not an ISO-8601 timestamp: {since!r}", extensions={"code": "BAD_ARGUMENT"}
                ) from None
            keyed = [item for item in keyed if item[0] >= bound]
        keyed.sort(key=lambda item: (item[0], item[1]))
        return [record for _, _, record in keyed]

    def _resolve_issues(
        self,
        _root: Any,
        _info: Any,
        first: int | None = None,
        after: str | None = None,
        since: str | None = None,
        updatedAfter: int | None = None,  # noqa: N803 - the GraphQL argument's name
    ) -> dict[str, Any]:
        """A Relay connection page: `after` holds the position of the last record the client has seen."""
        ordered = self._ordered(since, updatedAfter)
        size = _page_size(first, self.max_page_size, "first")
        start = 0 if after is None else decode_cursor(after) + 1
        chunk = ordered[start : start + size]
        edges = [{"node": record, "cursor": encode_cursor(start + i)} for i, record in enumerate(chunk)]
        end_cursor = edges[-1]["cursor"] if edges else None
        has_next = start + len(chunk) < len(ordered)
        if self.faults.repeat_cursor:
            end_cursor, has_next = after or end_cursor, True
        return {
            "edges": edges,
            "nodes": chunk,
            "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
            "totalCount": len(ordered),
        }

    def _resolve_issue_page(
        self, _root: Any, _info: Any, limit: int | None = None, offset: int | None = None, since: str | None = None
    ) -> dict[str, Any]:
        """An offset page, for connectors of APIs that page by limit/offset instead of cursors."""
        ordered = self._ordered(since)
        size = _page_size(limit, self.max_page_size, "limit")
        start = offset or 0
        if start < 0:
            raise GraphQLError("`offset` must not be negative.", extensions={"code": "BAD_ARGUMENT"})
        return {"items": ordered[start : start + size], "total": len(ordered)}

    def _resolve_issue(self, _root: Any, _info: Any, id: str) -> dict | None:  # noqa: A002 - the argument's name
        with self._lock:
            return self._store.get(id)

    def _resolve_comments(
        self, issue: dict, _info: Any, first: int | None = None, after: str | None = None, since: str | None = None
    ) -> dict[str, Any]:
        """An issue's comments at or after `since`, oldest first, as a Relay connection."""
        with self._lock:
            found = list(self._comments.get(issue["id"], {}).values())
        if since is not None:
            found = [comment for comment in found if parse_instant(comment["createdAt"]) >= parse_instant(since)]
        found.sort(key=lambda comment: (parse_instant(comment["createdAt"]), comment["id"]))
        size = _page_size(first, self.max_page_size, "first")
        start = 0 if after is None else decode_cursor(after) + 1
        chunk = found[start : start + size]
        end_cursor = encode_cursor(start + len(chunk) - 1) if chunk else after
        return {"nodes": chunk, "pageInfo": {"hasNextPage": start + len(chunk) < len(found), "endCursor": end_cursor}}

    def _resolve_title(self, issue: dict, _info: Any) -> str:
        """The title, or the partial-error fault's failure for one issue."""
        if self.faults.partial_error_on_id and issue["id"] == self.faults.partial_error_on_id:
            raise GraphQLError(f"Could not resolve the title of issue {issue['id']}.", extensions={"code": "INTERNAL"})
        return issue["title"]

    # ---- internals used by the handler

    def _register(self, log: GraphQLRequestLog) -> None:
        with self._lock:
            self._requests.append(log)

    def _next_graphql_request(self) -> int:
        """Count a GraphQL POST and return its 1-based number, which decides the faults it gets."""
        with self._lock:
            self._graphql_requests += 1
            return self._graphql_requests

    def _check_faults(self, number: int) -> None:
        """Raise the configured fault for GraphQL POST `number`."""
        faults = self.faults
        if number <= faults.fail_first:
            raise HttpError(503, HTML_503, {"Content-Type": "text/html; charset=utf-8"})
        if faults.rate_limit_every and number % faults.rate_limit_every == 0:
            raise HttpError(429, {"message": "API rate limit exceeded"}, {"Retry-After": faults.retry_after})
        if number <= faults.fail_first + faults.graphql_rate_limit_first:
            raise HttpError(200, copy.deepcopy(RATE_LIMITED_BODY))

    def announced_url(self) -> str:
        return self.url

    def _denied(self, message: str) -> HttpError:
        return _unauthorized(message)

    def _graphql(self, payload: Any) -> dict[str, Any]:
        """Parse, validate and execute one GraphQL request body; the answer body (always HTTP 200 from here).

        Request errors (syntax, validation, variables, unknown operation) answer errors without `data`, as the
        GraphQL spec and GitHub do; errors during execution answer `data` (possibly null) next to `errors`.
        """
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise HttpError(400, {"errors": [{"message": "Body must be a JSON object with a string `query`"}]})
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            raise HttpError(400, {"errors": [{"message": "`variables` must be a JSON object"}]})
        if operation_name is not None and not isinstance(operation_name, str):
            raise HttpError(400, {"errors": [{"message": "`operationName` must be a string"}]})
        schema = self._partial_schema if self.faults.partial_error_on_id else self._schema
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return {"errors": [error.formatted]}
        problems = validate(schema, document)
        if problems:
            return {"errors": [error.formatted for error in problems]}
        result = execute_sync(schema, document, variable_values=variables, operation_name=operation_name)
        errors = result.errors or []
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                # graphql-core turns exceptions from resolvers into response errors; those are bugs in this fake
                self.errors.append("".join(traceback.format_exception(original)))
        if result.data is None and errors and all(error.path is None for error in errors):
            return {"errors": [error.formatted for error in errors]}  # failed before execution: no data entry
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = [error.formatted for error in errors]
        return body


class _Server(FakeServer):
    api: FakeGraphQLApi


class _Handler(FakeHandler):
    """Routes requests to the FakeGraphQLApi; HTTP/1.1 with Content-Length on every answer, so keep-alive works."""

    server_version = "FakeGraphQLApi/1.0"
    server: _Server

    def _dispatch(self) -> None:
        """Log the request, compute the answer (errors as HttpError), and send it."""
        api = self.server.api
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        log = GraphQLRequestLog(self.command, split.path, query, dict(self.headers.items()), 0, body)
        try:
            log.payload = json.loads(body)
        except ValueError:
            pass  # logged as None; _route answers 400 if it was meant for GraphQL
        try:
            status, payload, headers = self._route(api, split.path, query, body)
        except HttpError as error:
            status, payload, headers = error.status, error.body, error.headers
        except Exception:  # noqa: BLE001 - a bug in this fake: answer 500 and keep the traceback for the test to show
            api.errors.append(traceback.format_exc())
            status, payload, headers = 500, {"errors": [{"message": "fake server error"}]}, {}
        log.status = status
        api._register(log)  # before sending, so a client that got its answer sees its request logged
        self._send(status, payload, headers)

    def _route(
        self, api: FakeGraphQLApi, path: str, query: dict[str, list[str]], body: str
    ) -> tuple[int, Any, dict[str, str]]:
        """The answer for one request as (status, body, headers)."""
        if api.auth.method in ("oauth2", "oauth2_refresh") and path == api.auth.token_path:
            if self.command != "POST":
                raise HttpError(405, {"message": "method not allowed"}, {"Allow": "POST"})
            form = parse_qs(body, keep_blank_values=True)
            return 200, api._issue_token(form, self.headers.get("Authorization", "")), {}
        if path != api.path:
            raise HttpError(404, {"message": "not found"})
        if self.command != "POST":
            raise HttpError(
                405, {"errors": [{"message": f"{self.command} is not supported; POST JSON"}]}, {"Allow": "POST"}
            )
        api._check_faults(api._next_graphql_request())
        api._check_auth(self.headers, query)
        try:
            payload = json.loads(body)
        except ValueError:
            raise HttpError(400, {"errors": [{"message": "Body is not JSON"}]}) from None
        return 200, api._graphql(payload), {}

    def _read_body(self) -> str:
        """The request body (read fully so the next request on a keep-alive connection starts at the right byte)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        """Write the answer: JSON unless the payload is text, always with Content-Length."""
        headers = dict(headers)
        if isinstance(payload, str):
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


# ---------------------------------------------------------------------------------------------------- sample data


_TITLES = [
    "Crash when the café menu is empty",
    "Überprüfung schlägt fehl",
    "日本語のタイトルが切れる",
    "Rocket 🚀 emoji breaks the export",
    "Quotes “smart”, 'single' and \"double\"",
    "Backslash \\ in path C:\\temp",
]
_SCORES: list[float | None] = [0.1, 36999.26, None, 2.675, 1234567.891, 0.0]
_LABELS = [[], ["bug"], ["bug", "help wanted"], ["enhancement", "good first issue", "größe"]]
_LOGINS = ["octocat", "hubot", "zoë-dev", "monalisa"]
_COUNTRIES = ["US", "DE", None, "JP", "BR"]


def sample_issues(count: int) -> list[dict]:
    """GitHub-issue-shaped records, deterministic, with ties on updatedAt and awkward values.

    Pairs of issues share an updatedAt, so incremental syncs must break ties by id; titles hold non-ASCII text and
    escapes, scores check that floats survive exactly (and that nulls stay null), and the nested author is sometimes
    null, sometimes without a profile, sometimes without a country.
    """
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    records: list[dict] = []
    for i in range(count):
        author: dict[str, Any] | None = None
        if i % 5 != 4:
            profile = None if i % 7 == 3 else {"country": _COUNTRIES[i % len(_COUNTRIES)]}
            author = {"login": _LOGINS[i % len(_LOGINS)], "profile": profile}
        records.append(
            {
                "id": f"I_{i + 1:04d}",
                "number": i + 1,
                "title": f"{_TITLES[i % len(_TITLES)]} #{i + 1}",
                "updatedAt": (base + datetime.timedelta(minutes=i // 2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "score": _SCORES[i % len(_SCORES)],
                "labels": list(_LABELS[i % len(_LABELS)]),
                "author": author,
            }
        )
    return records


# ---------------------------------------------------------------------------------------------------- command line


FakeGraphQLApi.handler = _Handler
FakeGraphQLApi.server_class = _Server


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; the first stdout line is the GraphQL URL so a parent process can read it."""
    parser = argparse.ArgumentParser(description="Serve a fake GraphQL API on 127.0.0.1.")
    parser.add_argument("--records", type=int, default=250, help="how many sample issues to serve")
    parser.add_argument("--max-page-size", type=int, default=100, help="cap on `first` and `limit`")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    args = parser.parse_args(argv)
    api = FakeGraphQLApi(sample_issues(args.records), max_page_size=args.max_page_size, port=args.port)
    api.serve_until_signalled()
    return 0


if __name__ == "__main__":
    sys.exit(main())
