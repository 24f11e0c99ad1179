"""Copier answers for a REST connector, read from an OpenAPI 3.0 or 3.1 document.

    python openapi/answers.py DOCUMENT                       the list endpoints, and what was read for each
    python openapi/answers.py DOCUMENT --endpoint /v1/charges --out answers.yml
    copier copy --trust --data-file answers.yml <template> <destination>

(or `invoke openapi DOCUMENT --endpoint ... --out ...` in this repository). `--endpoint` takes a path as the document
writes it or an operationId, and may be repeated; `--path-param NAME=VALUE` fills a {NAME} in a path; `--auth NAME`
picks one of several security schemes an operation accepts.

DOCUMENT is a path or an http(s) URL, JSON or YAML. A list endpoint is a GET operation whose 2xx JSON response is an
array of objects, or an object holding one. For each, the document gives the base URL, where the records are, their
key, the authentication, the pagination, the incremental cursor with its filter, and the order when it says so. What
the document does not tell is left to the template's default and named on a line that says which answer to check;
the answers file repeats those lines as comments. Several --endpoint options write the `endpoints` list, whose
entries share one pagination: endpoints that page differently are refused.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin
from urllib.request import urlopen

import yaml

Schema = dict[str, Any]

# Names compared without case or separators: page_size, pageSize and page[size] are all "pagesize".
SIZE_NAMES = (
    "limit",
    "perpage",
    "pagesize",
    "size",
    "count",
    "maxresults",
    "top",
    "pagelimit",
    "maxrecords",
    "maxitems",
)
OFFSET_NAMES = ("offset", "skip", "start", "startat", "startindex", "from")
PAGE_NAMES = ("page", "pagenumber", "pageno", "pagenum", "pageindex")
CURSOR_NAMES = (
    "cursor",
    "after",
    "startingafter",
    "pagetoken",
    "nextpagetoken",
    "continuationtoken",
    "continuation",
    "pagecursor",
    "startcursor",
    "marker",
    "nexttoken",
    "pageinfo",
)
# Parameters that are page numbers or offsets when they are numbers, and cursors when they are text (Airtable's
# offset, Stripe's search page).
TEXT_CURSOR_NAMES = ("offset", "page")
NEXT_CURSOR_NAMES = ("nextcursor", "nextpagetoken", "nexttoken", "nextpagecursor", "endcursor", "nextpage", "cursor")
NEXT_URL_NAMES = ("next", "nextpage", "nexturl", "nextpageurl", "nextlink", "odatanextlink", "nextrecordsurl")
TOTAL_NAMES = ("total", "totalcount", "totalsize", "totalitems", "totalresults", "totalelements", "totalrecords")
TOTAL_PAGES_NAMES = ("totalpages", "pagecount", "numpages")
HAS_MORE_NAMES = ("hasmore", "moreitemsincollection", "hasnext", "hasnextpage", "moreavailable", "hasmoreitems")
RECORD_NAMES = ("data", "results", "items", "records", "content", "entries", "values", "elements", "hits", "nodes")
NOT_RECORDS = ("links", "_links", "errors", "warnings", "messages")
SORT_NAMES = ("sort", "sortby", "orderby", "sortfield", "sortkey", "order")
DIRECTION_NAMES = ("direction", "sortdir", "sortorder", "sortdirection", "order", "dir")
# Words of a filter parameter's name that say "at or after" and "before"; what remains names the field.
LOWER_BOUND = {"since", "after", "from", "min", "gte", "gt", "start", "begin", "newer"}
UPPER_BOUND = {"before", "until", "to", "max", "lte", "lt", "end", "older"}
TIME_SUFFIXES = {"at", "time", "date", "on"}
# Words of a record property's name that say it holds the time of the last change, or of the creation.
CHANGE_WORDS = re.compile(r"^(updated?|modified|modify|changed|edited|lastmodified|mtime)$")
CREATION_WORDS = re.compile(r"^(created?|inserted|added)$")
TIME_WORDS = re.compile(r"\b(epoch|unix|timestamp|time|date)\b", re.I)
KEY_DESCRIPTION = re.compile(r"\bunique(ly)?\b[^.]{0,40}\b(identif\w*|key|id)\b|\bidentifies\b|\bprimary key\b", re.I)
# A basic scheme whose description puts the API key in the user name (Stripe: "Authorization: Basic <api_key>").
KEY_AS_USER = re.compile(
    r"api[ _-]?key:|basic <api[ _-]?key>|api[ _-]?key as (the )?user ?name|user ?name[^.]{0,40}api[ _-]?key[^.]{0,40}"
    r"(empty|no|blank) password",
    re.I,
)
DESCENDING = re.compile(r"\b(most recent|newest|latest)\b[^.]{0,60}\bfirst\b|\bin descending order\b", re.I)
ASCENDING = re.compile(r"\b(oldest|earliest)\b[^.]{0,60}\bfirst\b|\bin ascending order\b", re.I)
DEFAULT_PAGE_SIZE = 100  # the template's page_size default


class Refused(Exception):
    """A document or a choice that cannot become answers; the message says why and what to do instead."""


class NotFollowed(Exception):
    """A schema construct this tool does not follow, at a place in the document (a JSON pointer)."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{what} at {where}")
        self.where = where


# ---------------------------------------------------------------------------------------------------- the document


@dataclass
class Document:
    data: dict[str, Any]
    source: str

    @property
    def title(self) -> str:
        return str((self.data.get("info") or {}).get("title") or "").strip()

    def resolve(self, node: Any, where: str) -> tuple[Any, str]:
        """The node a (chain of) local $ref leads to, and its place; references to other documents are not followed."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise NotFollowed(where, f"the reference {ref!r} to another document")
            if ref in seen:
                raise NotFollowed(where, f"the reference {ref}, which leads back to itself")
            seen.add(ref)
            node = self.data
            for part in ref[2:].split("/"):
                key = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or key not in node:
                    raise NotFollowed(where, f"the reference {ref}, which names nothing in the document")
                node = node[key]
            where = ref
        return node, where


def load(source: str) -> Document:
    """The document at a path or an http(s) URL, JSON or YAML."""
    try:
        if re.match(r"https?://", source):
            with urlopen(source, timeout=30) as response:  # noqa: S310 - the scheme is checked above
                text = response.read().decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused(f"cannot read {source}: {error}") from None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise Refused(f"{source} is neither JSON nor YAML: {error}") from None
    if not isinstance(data, dict):
        raise Refused(f"{source} holds no OpenAPI document (no mapping at the top)")
    if "swagger" in data:
        raise Refused(f"{source} is Swagger {data['swagger']}: convert it to OpenAPI 3 first (e.g. swagger2openapi)")
    if not str(data.get("openapi", "")).startswith("3."):
        raise Refused(f"{source} has no `openapi: 3.x` line: only OpenAPI 3.0 and 3.1 documents are read")
    return Document(string_keys(data), source)


def string_keys(node: Any) -> Any:
    """YAML reads `200:` as a number; OpenAPI keys are text."""
    if isinstance(node, dict):
        return {str(key): string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [string_keys(value) for value in node]
    return node


def pointer(where: str, *parts: Any) -> str:
    return where + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def words(name: str) -> list[str]:
    """updatedAtMin, updated_at_min and created[gte] as words: updated at min; created gte."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def dotted(parts: tuple[str, ...]) -> str:
    """A dotted path as the template's questions take it: a dot inside a key written as \\."""
    return ".".join(part.replace(".", "\\.") for part in parts)


# ---------------------------------------------------------------------------------------------------- schemas


def schema_at(document: Document, node: Any, where: str) -> tuple[Schema, str]:
    """The schema at `node`: references followed, allOf merged, a union with null reduced to its one other type.
    A oneOf/anyOf of several schemas stays, normalised, under its keyword for the caller to judge."""
    schema, where = document.resolve(node, where)
    if not isinstance(schema, dict):
        raise NotFollowed(where, "a schema that is not a mapping")
    schema = dict(schema)
    for index, part in enumerate(schema.pop("allOf", [])):
        schema = merged(schema, schema_at(document, part, pointer(where, "allOf", index))[0])
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            variants = [schema_at(document, v, pointer(where, keyword, i))[0] for i, v in enumerate(schema[keyword])]
            real = [variant for variant in variants if type_of(variant) != "null"]
            rest = {key: value for key, value in schema.items() if key != keyword}
            schema = merged(rest, real[0]) if len(real) == 1 else {**rest, keyword: real}
    return schema, where


def merged(first: Schema, second: Schema) -> Schema:
    """Two schemas that both apply (allOf): properties and required names together, other keywords from either."""
    result = {**second, **first}
    result["properties"] = {**second.get("properties", {}), **first.get("properties", {})}
    result["required"] = list(dict.fromkeys([*first.get("required", []), *second.get("required", [])]))
    return result


def type_of(schema: Schema) -> str:
    """The schema's one type (3.1 type lists without "null"), or what its keywords imply; "" when it says nothing."""
    declared = schema.get("type")
    if isinstance(declared, list):
        types = [kind for kind in declared if kind != "null"]
        return types[0] if len(types) == 1 else ("null" if not types else "|".join(types))
    if declared:
        return str(declared)
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return ""


def is_object(schema: Schema) -> bool:
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        return all(is_object(variant) for variant in variants)
    return type_of(schema) == "object"


def properties(document: Document, schema: Schema, where: str) -> list[tuple[str, Schema, str]]:
    """(name, schema, place) of each property; a property that cannot be followed is kept, typeless. Records that are
    one of several object schemas have the properties all of them share."""
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants and all(is_object(variant) for variant in variants):
        common = set.intersection(*(set(variant.get("properties", {})) for variant in variants))
        schema = {"properties": {k: v for k, v in variants[0].get("properties", {}).items() if k in common}}
    found = []
    for name, node in (schema.get("properties") or {}).items():
        place = pointer(where, "properties", name)
        try:
            found.append((name, *schema_at(document, node, place)))
        except NotFollowed:
            found.append((name, {}, place))
    return found


def type_label(schema: Schema) -> str:
    kind = type_of(schema) or "any"
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        inner = type_of(items) or ("object" if "$ref" in items else "any")
        return f"array of {inner}"
    if schema.get("oneOf") or schema.get("anyOf"):
        return "one of several"
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def is_time_text(schema: Schema, description: str = "") -> bool:
    text = description + " " + str(schema.get("description", ""))
    return type_of(schema) == "string" and (
        schema.get("format") in ("date-time", "date") or bool(re.search(r"ISO[ -]?8601", text))
    )


def is_number(schema: Schema) -> bool:
    return type_of(schema) in ("integer", "number")


def is_time(schema: Schema, description: str = "") -> bool:
    """A timestamp: date-time or ISO-8601 text, or a number the schema or its description calls a time."""
    said = description + " " + str(schema.get("description", ""))
    return is_time_text(schema, description) or (
        is_number(schema) and (schema.get("format") in ("unix-time", "timestamp") or bool(TIME_WORDS.search(said)))
    )


def says(pattern: re.Pattern[str], name: str) -> bool:
    return any(pattern.match(word) for word in words(name))


# ---------------------------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    schema: Schema
    description: str
    style: str
    example: Any

    @property
    def kind(self) -> str:
        return type_of(self.schema)


@dataclass
class ListOperation:
    """A GET operation whose response holds records, as the document describes it."""

    path: str
    operation: dict[str, Any]
    path_item: dict[str, Any]
    where: str
    body: Schema
    body_where: str
    records: tuple[str, ...]  # the keys leading to the list of records; () when the body is the list
    item: Schema
    item_where: str
    headers: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"GET {self.path}"

    @property
    def operation_id(self) -> str:
        return str(self.operation.get("operationId") or "")


def list_operations(document: Document) -> tuple[list[ListOperation], list[str]]:
    """Every GET operation whose 2xx JSON response holds a list of objects; and what could not be read, by place."""
    found: list[ListOperation] = []
    unread: list[str] = []
    for path, node in (document.data.get("paths") or {}).items():
        where = pointer("#/paths", path)
        try:
            path_item, _ = document.resolve(node, where)
            operation = path_item.get("get") if isinstance(path_item, dict) else None
            if isinstance(operation, dict):
                listed = list_operation(document, path, path_item, operation, pointer(where, "get"))
                if listed:
                    found.append(listed)
        except NotFollowed as error:
            unread.append(f"GET {path}: not read: {error}")
    return found, unread


def list_operation(
    document: Document, path: str, path_item: dict[str, Any], operation: dict[str, Any], where: str
) -> ListOperation | None:
    response = success_response(document, operation, where)
    if response is None:
        return None
    content, response_where, headers = response
    body, body_where = schema_at(document, content, response_where)
    located = locate_records(document, body, body_where, literal_segments(path))
    if located is None:
        return None
    records, item, item_where, notes = located
    return ListOperation(path, operation, path_item, where, body, body_where, records, item, item_where, headers, notes)


def success_response(document: Document, operation: dict[str, Any], where: str) -> tuple[Any, str, list[str]] | None:
    """The JSON schema node of the operation's 200 (or first 2xx) response, its place, and its header names."""
    responses = operation.get("responses") or {}
    codes = sorted((code for code in responses if re.fullmatch(r"2(\d\d|XX)", code)), key=lambda c: c != "200")
    for code in codes:
        response, response_where = document.resolve(responses[code], pointer(where, "responses", code))
        if not isinstance(response, dict):
            continue
        content = response.get("content") or {}
        media = [m for m in content if "json" in m.lower()] + [m for m in content if m in ("*/*", "application/*")]
        for media_type in media:
            if isinstance(content[media_type], dict) and "schema" in content[media_type]:
                headers = [str(name) for name in response.get("headers") or {}]
                return content[media_type]["schema"], pointer(response_where, "content", media_type, "schema"), headers
    return None


def literal_segments(path: str) -> list[str]:
    return [norm(segment) for segment in path.split("/") if segment and "{" not in segment]


def locate_records(
    document: Document, body: Schema, where: str, segments: list[str]
) -> tuple[tuple[str, ...], Schema, str, list[str]] | None:
    """Where the list of records is in a response body: the body itself, or its best-named array of objects."""
    if type_of(body) == "array":
        item, item_where = schema_at(document, body.get("items") or {}, pointer(where, "items"))
        return ((), item, item_where, []) if is_object(item) else None
    if body.get("oneOf") or body.get("anyOf"):
        shapes = "oneOf" if body.get("oneOf") else "anyOf"
        if any(type_of(variant) == "array" or arrays_of_objects(document, variant, where) for variant in body[shapes]):
            raise NotFollowed(pointer(where, shapes), f"a response that is {shapes} {len(body[shapes])} schemas")
        return None
    candidates = arrays_of_objects(document, body, where)
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda c: record_rank(c[0], segments))
    parts, item, item_where = ranked[0]
    notes = []
    if len(ranked) > 1 and record_rank(ranked[0][0], segments) == record_rank(ranked[1][0], segments):
        others = ", ".join(dotted(c[0]) for c in ranked[1:])
        notes.append(f"records_path: {dotted(parts)} chosen; the response also holds lists of objects at {others}")
    return parts, item, item_where, notes


def arrays_of_objects(
    document: Document, schema: Schema, where: str, prefix: tuple[str, ...] = (), depth: int = 0
) -> list[tuple[tuple[str, ...], Schema, str]]:
    """(keys, item schema, place) of every array of objects in an object schema, up to three levels deep."""
    found = []
    for name, sub, place in properties(document, schema, where):
        if name in NOT_RECORDS:
            continue
        keys = (*prefix, name)
        if type_of(sub) == "array":
            try:
                item, item_where = schema_at(document, sub.get("items") or {}, pointer(place, "items"))
            except NotFollowed:
                continue
            if is_object(item):
                found.append((keys, item, item_where))
        elif type_of(sub) == "object" and depth < 2:
            found.extend(arrays_of_objects(document, sub, place, keys, depth + 1))
    return found


def record_rank(keys: tuple[str, ...], segments: list[str]) -> tuple[int, int, int]:
    """Shallow first; then a list named as the path names its resource (members for /lists/{id}/members); then the
    usual names of record lists."""
    leaf = norm(keys[-1])
    named_by_path = bool(segments) and leaf in (segments[-1], segments[-1].rstrip("s"), segments[-1] + "s")
    usual = RECORD_NAMES.index(leaf) if leaf in RECORD_NAMES else len(RECORD_NAMES)
    return (len(keys), 0 if named_by_path else 1, usual)


def parameters(document: Document, listed: ListOperation) -> list[Parameter]:
    """The operation's parameters with the path's, the operation's own taking precedence."""
    found: dict[tuple[str, str], Parameter] = {}
    path_where = listed.where.rsplit("/", 1)[0]
    for owner, where in ((listed.path_item, path_where), (listed.operation, listed.where)):
        for index, node in enumerate(owner.get("parameters") or []):
            try:
                parameter, place = document.resolve(node, pointer(where, "parameters", index))
                schema, _ = schema_at(document, parameter.get("schema") or {}, pointer(place, "schema"))
            except NotFollowed as error:
                listed.notes.append(f"a parameter was not read: {error}")
                continue
            example = parameter.get("example", schema.get("example", schema.get("default")))
            found[(parameter.get("name", ""), parameter.get("in", ""))] = Parameter(
                str(parameter.get("name", "")),
                str(parameter.get("in", "")),
                schema,
                str(parameter.get("description") or schema.get("description") or ""),
                str(parameter.get("style") or ""),
                example,
            )
    return list(found.values())


def query_parameters(document: Document, listed: ListOperation) -> list[Parameter]:
    return [parameter for parameter in parameters(document, listed) if parameter.location == "query"]


# ---------------------------------------------------------------------------------------------------- what is read


@dataclass
class Reading:
    """Answers read for one purpose, a short summary of them, and lines naming what the document did not tell."""

    answers: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    notes: list[str] = field(default_factory=list)


def meta_properties(
    document: Document, schema: Schema, where: str, skip: tuple[str, ...], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Schema]]:
    """(keys, schema) of every property of a response body outside the records, up to four levels deep."""
    for name, sub, place in properties(document, schema, where):
        keys = (*prefix, name)
        if keys == skip:
            continue
        yield keys, sub
        if type_of(sub) == "object" and len(keys) < 4:
            yield from meta_properties(document, sub, place, skip, keys)


def first_named(
    found: list[tuple[tuple[str, ...], Schema]], names: tuple[str, ...], kinds: tuple[str, ...]
) -> tuple[str, ...] | None:
    """The shallowest property with one of `names` (in their order of preference) and one of `kinds`."""
    matches = [(len(keys), names.index(norm(keys[-1])), keys) for keys, s in found if norm(keys[-1]) in names]
    matches = [match for match in matches if type_of(dict(found)[match[2]]) in kinds]
    return min(matches)[2] if matches else None


def named_parameter(query: list[Parameter], names: tuple[str, ...], kinds: tuple[str, ...]) -> Parameter | None:
    matches = [p for p in query if norm(p.name) in names and p.kind in kinds and not is_time_text(p.schema)]
    return min(matches, key=lambda p: names.index(norm(p.name))) if matches else None


def is_url(keys: tuple[str, ...], schema: Schema) -> bool:
    leaf = norm(keys[-1])
    says_url = schema.get("format") in ("uri", "url", "uri-reference") or bool(
        re.search(r"\b(url|uri|link)\b", str(schema.get("description", "")), re.I)
    )
    return leaf.endswith(("url", "link", "href", "uri")) or says_url


def read_pagination(document: Document, listed: ListOperation, key: str) -> Reading:
    """How the endpoint pages, from its query parameters, its response body and its response headers."""
    query = query_parameters(document, listed)
    meta = list(meta_properties(document, listed.body, listed.body_where, listed.records))
    text = [(keys, schema) for keys, schema in meta if type_of(schema) == "string"]
    size = named_parameter(query, SIZE_NAMES, ("integer", "number", ""))
    offset = named_parameter(query, OFFSET_NAMES, ("integer", "number", ""))
    page = named_parameter(query, PAGE_NAMES, ("integer", "number", ""))
    cursor = named_parameter(query, CURSOR_NAMES, ("string", "")) or named_parameter(
        query, TEXT_CURSOR_NAMES, ("string",)
    )
    has_more = first_named(meta, HAS_MORE_NAMES, ("boolean",))
    next_cursor = find_next_cursor(text, cursor) if cursor else None
    next_url = find_next_url(text, cursor)
    reading = Reading(answers={"page_size_param": size.name if size else ""})
    if cursor and next_cursor:
        reading.answers.update(pagination="cursor", cursor_param=cursor.name, next_cursor_path=dotted(next_cursor))
        reading.summary = f"cursor: {cursor.name} from {dotted(next_cursor)}"
    elif next_url:
        reading.answers.update(pagination="next_url", next_url_path=dotted(next_url))
        reading.summary = f"next_url: {dotted(next_url)}"
    elif any(header.lower() == "link" for header in listed.headers):
        reading.answers.update(pagination="link_header")
        reading.summary = "link_header: the Link response header"
    elif cursor and has_more:
        record_field = key if key and "," not in key else "id"
        reading.answers.update(
            pagination="cursor", cursor_param=cursor.name, next_cursor_path="", cursor_record_field=record_field
        )
        reading.summary = f"cursor: {cursor.name} = the last record's {record_field}"
        reading.notes.append(
            f"cursor_record_field: the response names no next cursor, so {cursor.name} takes the last record's "
            f"{record_field} (as Stripe's starting_after does)"
        )
    elif offset:
        reading.answers.update(pagination="offset", offset_param=offset.name)
        total = first_named(meta, TOTAL_NAMES, ("integer", "number"))
        reading.answers["total_path"] = dotted(total) if total else ""
        if isinstance(offset.schema.get("maximum"), int):
            reading.answers["max_offset"] = str(offset.schema["maximum"])
        reading.summary = f"offset: {offset.name}" + (f", total at {dotted(total)}" if total else "")
    elif page:
        reading.answers.update(pagination="page_number", page_param=page.name)
        reading.answers["first_page"] = first_page(page, reading)
        pages = first_named(meta, TOTAL_PAGES_NAMES, ("integer", "number"))
        reading.answers["total_pages_path"] = dotted(pages) if pages else ""
        reading.summary = f"page_number: {page.name} from {reading.answers['first_page']}" + (
            f", total pages at {dotted(pages)}" if pages else ""
        )
    else:
        names = ", ".join(p.name for p in query) or "none"
        reading.answers = {}
        reading.summary = "not found"
        reading.notes.append(
            f"pagination: no paging parameters recognised (query parameters: {names}) and no next link in the "
            "response; left to the template's default (link_header: one page unless the API sends a Link header)"
        )
        return reading
    if reading.answers["pagination"] in ("offset", "page_number", "cursor"):
        reading.answers["has_more_path"] = dotted(has_more) if has_more else ""
        reading.summary += f", has more at {dotted(has_more)}" if has_more else ""
    reading.summary += f"; page size {size.name}" if size else "; no page size parameter"
    reading.answers = {"pagination": reading.answers.pop("pagination"), **reading.answers}
    return reading


def find_next_cursor(text: list[tuple[tuple[str, ...], Schema]], cursor: Parameter) -> tuple[str, ...] | None:
    """The response property that carries the value for the cursor parameter: the parameter's own name under a
    `next` object (HubSpot's paging.next.after), a next-cursor name, or the parameter's name (Airtable's offset)."""
    wanted = norm(cursor.name)

    def rank(keys: tuple[str, ...]) -> int:
        leaf = norm(keys[-1])
        if leaf == wanted and any("next" in norm(part) for part in keys[:-1]):
            return 0
        if leaf in NEXT_CURSOR_NAMES or leaf == "next" + wanted:
            return 1
        return 2 if leaf == wanted else 3

    ranked = sorted((rank(keys), len(keys), keys) for keys, schema in text if not is_url(keys, schema))
    return ranked[0][2] if ranked and ranked[0][0] < 3 else None


def find_next_url(text: list[tuple[tuple[str, ...], Schema]], cursor: Parameter | None) -> tuple[str, ...] | None:
    """A response property holding the next page's URL (next_page, nextRecordsUrl, links.next, @odata.nextLink)."""
    for keys, schema in sorted(text, key=lambda item: len(item[0])):
        leaf = norm(keys[-1])
        named = leaf in NEXT_URL_NAMES or ("next" in leaf and leaf.endswith(("url", "link", "href")))
        if named and (is_url(keys, schema) or (cursor is None and leaf not in ("next", "nextpage"))):
            return keys
    return None


def page_size(document: Document, listed: ListOperation) -> str:
    """The page size to ask for: the template's 100, or the size parameter's maximum when that is lower."""
    size = named_parameter(query_parameters(document, listed), SIZE_NAMES, ("integer", "number", ""))
    maximum = size.schema.get("maximum") if size else None
    return str(maximum) if isinstance(maximum, int) and 0 < maximum < DEFAULT_PAGE_SIZE else ""


def first_page(page: Parameter, reading: Reading) -> str:
    for keyword in ("minimum", "default"):
        if isinstance(page.schema.get(keyword), int):
            return str(page.schema[keyword])
    reading.notes.append(f"first_page: the {page.name} parameter gives no minimum or default; 1 assumed")
    return "1"


# ---------------------------------------------------------------------------------------------------- key, cursor


def read_key(document: Document, listed: ListOperation) -> Reading:
    """The records' key: what the schema marks (x-primary-key), an `id`, a property described as the unique
    identifier, or the one required *_id / *Id property."""
    found = properties(document, listed.item, listed.item_where)
    names = [name for name, _, _ in found]
    marked = listed.item.get("x-primary-key")
    if marked:
        key = ",".join(marked) if isinstance(marked, list) else str(marked)
        return Reading({"primary_key": key}, f"{key} (x-primary-key)")
    marked_properties = [name for name, schema, _ in found if schema.get("x-primary-key") is True]
    if marked_properties:
        return Reading({"primary_key": ",".join(marked_properties)}, f"{','.join(marked_properties)} (x-primary-key)")
    for name in names:
        if norm(name) == "id":
            return Reading({"primary_key": name}, name)
    described = [name for name, schema, _ in found if KEY_DESCRIPTION.search(str(schema.get("description", "")))]
    if len(described) == 1:
        note = f"primary_key: {described[0]}, the one property described as identifying a record"
        return Reading({"primary_key": described[0]}, f"{described[0]} (its description)", [note])
    required = set(listed.item.get("required") or [])
    ids = [name for name in names if name in required and re.search(r"(_id|[a-z]Id|ID)$", name)]
    if len(ids) == 1:
        note = f"primary_key: {ids[0]}, the one required *_id property"
        return Reading({"primary_key": ids[0]}, f"{ids[0]} (required *_id)", [note])
    what = "no properties" if not names else "no id, no property described as unique, no single required *_id"
    note = f"primary_key: the records' schema has {what}; left at id"
    return Reading({"primary_key": "id"}, "not found (id)", [note])


@dataclass(frozen=True)
class Filter:
    """A query parameter that asks for records at or after a value: its name as sent, and its schema."""

    name: str
    schema: Schema
    description: str
    stem: tuple[str, ...]


def lower_bound_filters(query: list[Parameter]) -> list[Filter]:
    """Parameters named like since, updated_since, updated_at_min, modified_after, created[gte] (a deepObject).
    One that names no field (since, after) must be a timestamp; paging parameters never are filters."""
    filters = []
    paging = SIZE_NAMES + OFFSET_NAMES + PAGE_NAMES + CURSOR_NAMES
    for parameter in (p for p in query if norm(p.name) not in paging):
        for name, schema in bound_forms(parameter):
            spelled = words(name)
            if UPPER_BOUND & set(spelled) or not LOWER_BOUND & set(spelled):
                continue
            stem = tuple(word for word in spelled if word not in LOWER_BOUND | TIME_SUFFIXES)
            if is_time(schema, parameter.description) or (stem and type_of(schema) in ("string", "integer")):
                filters.append(Filter(name, schema, parameter.description, stem))
    return filters


def bound_forms(parameter: Parameter) -> list[tuple[str, Schema]]:
    """The names a parameter is sent under with its schema: itself, or name[gte] for a deepObject range."""
    if parameter.style != "deepObject":
        return [(parameter.name, parameter.schema)]
    variants = parameter.schema.get("anyOf") or parameter.schema.get("oneOf") or [parameter.schema]
    forms = []
    for variant in variants:
        for bound in ("gte", "gt", "from", "min"):
            if bound in (variant.get("properties") or {}):
                forms.append((f"{parameter.name}[{bound}]", variant["properties"][bound]))
                break
    return forms


def field_stem(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word for word in words(keys[-1]) if word not in TIME_SUFFIXES)


def cursor_candidates(document: Document, listed: ListOperation) -> list[tuple[tuple[str, ...], Schema]]:
    """Record properties that can hold a sync cursor: timestamps and epoch numbers, nested objects included."""
    found = []

    def walk(schema: Schema, where: str, prefix: tuple[str, ...]) -> None:
        for name, sub, place in properties(document, schema, where):
            keys = (*prefix, name)
            if type_of(sub) == "object" and len(keys) < 3:
                walk(sub, place, keys)
            named = says(CHANGE_WORDS, name) or says(CREATION_WORDS, name)
            if named and (is_time(sub) or type_of(sub) == "string" or is_number(sub)):
                found.append((keys, sub))

    walk(listed.item, listed.item_where, ())
    return found


def read_cursor(document: Document, listed: ListOperation) -> tuple[Reading, tuple[str, ...], Schema]:
    """The incremental field and the filter that asks for records at or after it."""
    filters = lower_bound_filters(query_parameters(document, listed))
    candidates = cursor_candidates(document, listed)

    def filter_for(keys: tuple[str, ...], changed: bool) -> Filter | None:
        stem = field_stem(keys)
        matching = [f for f in filters if f.stem == stem or (changed and not f.stem)]
        return min(matching, key=lambda f: (f.stem != stem, "[gt]" in f.name)) if matching else None

    changed = [(keys, schema) for keys, schema in candidates if says(CHANGE_WORDS, keys[-1])]
    created = [(k, s) for k, s in candidates if says(CREATION_WORDS, k[-1]) and filter_for(k, False)]
    if changed:
        keys, schema = min(changed, key=lambda c: (filter_for(c[0], True) is None, len(c[0])))
        chosen = filter_for(keys, True)
        reading = Reading({"incremental_field": dotted(keys)}, dotted(keys))
    elif created:
        keys, schema = min(created, key=lambda c: len(c[0]))
        chosen = filter_for(keys, False)
        reading = Reading({"incremental_field": dotted(keys)}, dotted(keys))
        reading.notes.append(
            f"incremental_field: {dotted(keys)}, a creation time the API filters by; records changed after they "
            "were created are not read again"
        )
    else:
        note = "incremental_field: no record property looks like a time of last change; left empty (full syncs)"
        return Reading({"incremental_field": ""}, "none (full syncs)", [note]), (), {}
    reading.answers["incremental_filter"] = ""
    placeholder = cursor_placeholder(schema, chosen) if chosen else None
    if chosen and placeholder:
        reading.answers["incremental_filter"] = f"{chosen.name}={placeholder}"
        reading.summary += f", filter {chosen.name}={placeholder}"
    else:
        why = f"the {chosen.name} parameter cannot take its value" if chosen else "no query parameter filters by it"
        reading.notes.append(
            f"incremental_filter: {why}; left empty (every sync reads everything and skips older records)"
        )
    return reading, keys, schema


def cursor_placeholder(field_schema: Schema, chosen: Filter) -> str | None:
    """How the saved cursor is written into the filter: as the records hold it, or formatted as the parameter
    takes it (epoch seconds or milliseconds, a date)."""
    if is_number(field_schema):
        return "{cursor}" if is_number(chosen.schema) else None
    if is_number(chosen.schema):
        return "{cursor:epoch_ms}" if re.search(r"milli", chosen.description, re.I) else "{cursor:epoch}"
    if chosen.schema.get("format") == "date" and field_schema.get("format") != "date":
        return "{cursor:date}"
    return "{cursor}"


def read_order(document: Document, listed: ListOperation, keys: tuple[str, ...]) -> Reading:
    """Whether records come oldest first by the cursor: a sort parameter that can ask for it (the request then
    carries it, in extra_params), or the operation's description."""
    query = query_parameters(document, listed)
    for sort in (p for p in query if norm(p.name) in SORT_NAMES):
        params = ascending_sort(sort, query, keys)
        if params:
            spelled = "&".join(f"{name}={value}" for name, value in params.items())
            return Reading({"record_order": "ascending", "params": params}, f"ascending, asked with {spelled}")
    description = " ".join(str(listed.operation.get(key, "")) for key in ("summary", "description"))
    for order, pattern in (("descending", DESCENDING), ("ascending", ASCENDING)):
        said = pattern.search(description)
        if said:
            note = f"record_order: {order}, as the operation's description says ('{said.group(0)}')"
            return Reading({"record_order": order}, f"{order} (the description)", [note])
    note = "record_order: the document does not say how records are ordered; unknown (the cursor is saved at the end)"
    return Reading({"record_order": "unknown"}, "unknown", [note])


def ascending_sort(sort: Parameter, query: list[Parameter], keys: tuple[str, ...]) -> dict[str, str] | None:
    """Parameters that ask for records in ascending cursor order: an enum value naming the field (with a
    direction parameter, or a direction of its own), or Spring's `property,(asc|desc)`."""
    stem = field_stem(keys)
    values = sort.schema.get("enum") or (sort.schema.get("items") or {}).get("enum") or []
    for value in map(str, values):
        plain = re.sub(r"(?i)^\+|[:\s,]+(asc|ascending)$", "", value)
        if field_stem((plain,)) != stem or value.startswith("-") or re.search(r"(?i)desc", value):
            continue
        if plain != value:
            return {sort.name: value}
        for direction in (p for p in query if norm(p.name) in DIRECTION_NAMES and p is not sort):
            ascending = [v for v in map(str, direction.schema.get("enum") or []) if v.lower() in ("asc", "ascending")]
            if ascending:
                return {sort.name: value, direction.name: ascending[0]}
    if re.search(r"property,\s*\(asc\|desc\)", sort.description):
        return {sort.name: f"{'.'.join(keys)},asc"}
    return None


# ---------------------------------------------------------------------------------------------------- auth, URL


def read_auth(document: Document, listed: ListOperation, choice: str) -> Reading:
    """The authentication the operation requires: its own security requirement, else the document's. Among
    alternatives, one without OAuth2 comes first unless `choice` names a scheme."""
    requirements = listed.operation.get("security", document.data.get("security"))
    schemes = (document.data.get("components") or {}).get("securitySchemes") or {}
    names = [next(iter(r)) for r in requirements or [] if isinstance(r, dict) and len(r) == 1]
    scopes = {next(iter(r)): r[next(iter(r))] for r in requirements or [] if isinstance(r, dict) and len(r) == 1}
    notes = []
    if requirements is None and len(schemes) == 1:
        names = list(schemes)
        notes.append(f"auth_method: no operation requires a scheme; {names[0]}, the only one the document defines")
    if choice:
        if choice not in schemes:
            raise Refused(f"--auth {choice}: the document's security schemes are {', '.join(schemes) or 'none'}")
        names = [choice]
    if not names:
        if not schemes or requirements == [] or requirements == [{}]:
            note = "auth_method: the document declares no authentication here; left to the template's default"
            return Reading({}, "none declared", [note])
        note = f"auth_method: no single scheme of the document's ({', '.join(schemes)}) is required here; none used"
        return Reading({}, "not found", [note])
    readings = []
    for name in names:
        scheme, _ = document.resolve(schemes.get(name, {}), pointer("#/components/securitySchemes", name))
        reading = auth_answers(document, name, scheme, scopes.get(name) or [])
        if reading.answers:
            readings.append(reading)
    if not readings:
        note = f"auth_method: the schemes {', '.join(names)} are none the template supports"
        return Reading({}, "not supported", [note])
    best = min(readings, key=lambda r: r.answers["auth_method"].startswith("oauth2"))
    best.notes[:0] = notes
    if len(names) > 1 and not choice:
        best.notes.append(f"auth_method: the operation accepts {', '.join(names)}; chose one (--auth NAME for another)")
    return best


def auth_answers(document: Document, name: str, scheme: dict[str, Any], scopes: list[str]) -> Reading:
    kind, description = scheme.get("type"), str(scheme.get("description", ""))
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return Reading({"auth_method": "bearer"}, f"bearer ({name})")
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        if KEY_AS_USER.search(description):
            note = f"auth_method: api_key as the basic user name: {name} is HTTP basic, and its description says so"
            answers = {"auth_method": "api_key", "api_key_location": "basic_username"}
            return Reading(answers, f"api_key as the basic user name ({name})", [note])
        return Reading({"auth_method": "basic"}, f"basic ({name})")
    if kind == "apiKey" and scheme.get("in") in ("header", "query"):
        answers = {"auth_method": "api_key", "api_key_location": scheme["in"], "api_key_name": str(scheme.get("name"))}
        return Reading(answers, f"api_key in {scheme['in']} {scheme.get('name')} ({name})")
    if kind == "oauth2":
        flows = scheme.get("flows") or {}
        for flow, method in (
            ("clientCredentials", "oauth2_client_credentials"),
            ("authorizationCode", "oauth2_refresh_token"),
        ):
            if flow in flows:
                token_url = urljoin(server_url(document)[0] + "/", str(flows[flow].get("tokenUrl", "")))
                answers = {"auth_method": method, "oauth2_token_url": token_url, "oauth2_scope": " ".join(scopes)}
                return Reading(answers, f"{method} ({name}, {flow})")
    return Reading({}, f"{name}: {kind} not supported")


def server_url(document: Document, servers: list[Any] | None = None) -> tuple[str, list[str]]:
    """The first server's URL with its variables' defaults, made absolute against a document read from a URL."""
    servers = servers or document.data.get("servers") or []
    first = servers[0] if servers and isinstance(servers[0], dict) else {}
    url = str(first.get("url") or "")
    notes = []
    for variable, spec in (first.get("variables") or {}).items():
        value = str((spec or {}).get("default", ""))
        url = url.replace("{" + variable + "}", value)
        notes.append(f"base_url: the server variable {variable} is its default, {value!r}")
    if not re.match(r"https?://", url):
        if re.match(r"https?://", document.source):
            url = urljoin(document.source, url or "/")
        else:
            what = f"a relative server URL ({url})" if url else "no server"
            notes.append(f"base_url: the document names {what}; give the API's URL (copier --data base_url=...)")
            url = "https://api.example.com" + ("/" + url.lstrip("/") if url.strip("/") else "")
    elif not notes and re.match(r"https?://([^/]*\byour\b[^/]*|localhost|127\.0\.0\.1)(:\d+)?(/|$)", url):
        notes.append(f"base_url: {url} stands for your own server (as the document's authors wrote it); give yours")
    return url.rstrip("/"), notes


# ---------------------------------------------------------------------------------------------------- endpoints


@dataclass
class Endpoint:
    """What one chosen list endpoint answers, and what is shared by all endpoints of a project."""

    listed: ListOperation
    own: dict[str, Any]  # endpoint_path, table, records_path, primary_key, incremental_*, params
    record_order: str
    paging: dict[str, Any]
    page_size: str  # "" for the template's default
    auth: dict[str, Any]
    base_url: str
    summary: dict[str, str]
    columns: list[tuple[str, str]]
    notes: list[str]
    missing_path_values: list[str]


def analyse(document: Document, listed: ListOperation, path_values: dict[str, str], auth_choice: str) -> Endpoint:
    key = read_key(document, listed)
    paging = read_pagination(document, listed, key.answers["primary_key"])
    cursor, keys, _ = read_cursor(document, listed)
    order = read_order(document, listed, keys) if keys else Reading({"record_order": ""})
    auth = read_auth(document, listed, auth_choice)
    servers = listed.operation.get("servers") or listed.path_item.get("servers")
    base_url, url_notes = server_url(document, servers)
    path, table, missing, path_notes = concrete_path(document, listed, path_values)
    own: dict[str, Any] = {
        "endpoint_path": path,
        "table": table,
        "records_path": dotted(listed.records),
        "primary_key": key.answers["primary_key"],
        "incremental_field": cursor.answers["incremental_field"],
        "incremental_filter": cursor.answers.get("incremental_filter", ""),
        "params": order.answers.get("params", {}),
    }
    summary = {
        "table": table or default_table(path),
        "records": dotted(listed.records) or "(the body is the list)",
        "key": key.summary,
        "pagination": paging.summary,
        "incremental": cursor.summary + (f", order {order.summary}" if keys else ""),
        "auth": auth.summary,
    }
    notes = [*listed.notes, *url_notes, *path_notes, *key.notes, *paging.notes, *cursor.notes, *order.notes]
    return Endpoint(
        listed,
        own,
        order.answers["record_order"],
        paging.answers,
        page_size(document, listed),
        auth.answers,
        base_url,
        summary,
        columns(document, listed),
        [*notes, *auth.notes],
        missing,
    )


def concrete_path(
    document: Document, listed: ListOperation, values: dict[str, str]
) -> tuple[str, str, list[str], list[str]]:
    """The path with its {parameters} filled (from --path-param, else the document's example), the table its
    records go to when the path had parameters (the resource after the last one), the parameters still without a
    value, and notes."""
    path_parameters = {p.name: p for p in parameters(document, listed) if p.location == "path"}
    missing, notes = [], []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return quote(values[name], safe="")
        example = path_parameters[name].example if name in path_parameters else None
        if example is not None:
            notes.append(f"endpoint_path: {{{name}}} is the document's example, {example!r}")
            return quote(str(example), safe="")
        missing.append(name)
        return match.group(0)

    path = re.sub(r"\{([^}/]+)\}", fill, listed.path)
    table = ""
    if "{" in listed.path:
        after = listed.path.rsplit("}", 1)[1]
        table = default_table(after) if after.strip("/") else default_table(path)
    return path, table, missing, notes


def default_table(path: str) -> str:
    """The table the template names after an endpoint path (questions/api.yml, table_name)."""
    name = re.sub(r"(?i)\.(json|xml|csv|jsonl|ndjson|txt)$", "", path)
    name = re.sub(r"(?i)^(/(api|rest|v?[0-9]+(\.[0-9]+)?|[0-9]{4}-[0-9]{2}(-[0-9]{2})?))+(?=/)", "", name).lower()
    name = re.sub(r"^_+|_+$", "", re.sub(r"[^a-z0-9]+", "_", name))
    return re.sub(r"^([0-9])", r"_\1", name) or "records"


def columns(document: Document, listed: ListOperation) -> list[tuple[str, str]]:
    """Each record property as the API names it (nested objects' properties dotted) with its schema type."""
    found = []

    def walk(schema: Schema, where: str, prefix: tuple[str, ...]) -> None:
        for name, sub, place in properties(document, schema, where):
            keys = (*prefix, name)
            if type_of(sub) == "object" and sub.get("properties") and len(keys) < 3:
                walk(sub, place, keys)
            else:
                found.append((".".join(keys), type_label(sub)))

    walk(listed.item, listed.item_where, ())
    return found


# ---------------------------------------------------------------------------------------------------- answers


def choose(found: list[ListOperation], unread: list[str], wanted: str) -> ListOperation:
    for listed in found:
        if wanted in (listed.path, listed.operation_id):
            return listed
    for line in unread:
        if line.startswith(f"GET {wanted}:"):
            raise Refused(line)
    paths = ", ".join(listed.path for listed in found) or "none"
    raise Refused(f"--endpoint {wanted}: not a list endpoint of this document (its list endpoints: {paths})")


def answers_for(document: Document, endpoints: list[Endpoint]) -> tuple[dict[str, Any], list[str]]:
    """The answers file's content, and the lines that say what to check."""
    first = endpoints[0]
    for name, what in (("base_url", "the server"), ("paging", "pagination"), ("auth", "authentication")):
        differing = {repr(getattr(e, name)): e for e in endpoints}
        if len(differing) > 1:
            values = [getattr(e, name) for e in differing.values()]
            described = "; ".join(f"{e.listed.name}: {describe(getattr(e, name), values)}" for e in differing.values())
            raise Refused(
                f"the chosen endpoints differ in {what} ({described}), and the template's endpoints share one: "
                "choose endpoints that agree, or write one answers file for each"
            )
    for endpoint in endpoints:
        if endpoint.missing_path_values:
            needed = " ".join(f"--path-param {name}=VALUE" for name in endpoint.missing_path_values)
            raise Refused(f"{endpoint.listed.name} needs a value for each path parameter: {needed}")
    answers: dict[str, Any] = {"source_type": "rest_api"}
    if document.title:
        answers["source_name"] = document.title
    answers["base_url"] = first.base_url
    answers["endpoint_path"] = first.own["endpoint_path"]
    single = len(endpoints) == 1
    tables = table_names(endpoints)
    if first.own["table"] or not single:
        answers["table_name"] = tables[0]
    answers.update(records_path=first.own["records_path"], primary_key=first.own["primary_key"])
    answers.update(first.auth)
    if single and first.own["params"]:
        answers["extra_params"] = first.own["params"]
    answers.update(first.paging)
    sizes = [int(e.page_size) for e in endpoints if e.page_size]
    if sizes and first.paging:
        answers["page_size"] = str(min(sizes))
    answers["incremental_field"] = first.own["incremental_field"]
    orders = {e.record_order for e in endpoints if e.own["incremental_field"]}
    if first.own["incremental_field"]:
        answers["incremental_filter"] = first.own["incremental_filter"]
    if orders:
        answers["record_order"] = next(iter(orders)) if len(orders) == 1 else "unknown"
    notes = grouped_notes(endpoints)
    if not single:
        answers["endpoints"] = [endpoint_entry(e, table) for e, table in zip(endpoints, tables, strict=True)]
        if len(orders) > 1:
            notes.append("record_order: the endpoints are ordered differently; unknown, which is safe for all")
    return answers, notes


def grouped_notes(endpoints: list[Endpoint]) -> list[str]:
    """Each note once, prefixed with the endpoints it concerns unless it concerns all of them."""
    concerned: dict[str, list[str]] = {}
    for endpoint in endpoints:
        for note in endpoint.notes:
            concerned.setdefault(note, []).append(endpoint.listed.name)
    return [
        note if len(names) == len(endpoints) else f"{', '.join(names)}: {note}" for note, names in concerned.items()
    ]


def describe(value: Any, values: list[Any]) -> str:
    """A value as it differs from the others: for answers, only the ones that are not the same in all."""
    if not isinstance(value, dict):
        return str(value)
    differing = [key for key in value if any(other.get(key) != value[key] for other in values)]
    return ", ".join(f"{key}={value[key]}" for key in differing) or "nothing found"


def table_names(endpoints: list[Endpoint]) -> list[str]:
    names: list[str] = []
    for endpoint in endpoints:
        name = endpoint.own["table"] or default_table(endpoint.own["endpoint_path"])
        base, number = name, 2
        while name in names:
            name, number = f"{base}_{number}", number + 1
        names.append(name)
    return names


def endpoint_entry(endpoint: Endpoint, table: str) -> dict[str, Any]:
    own = endpoint.own
    entry = {
        "path": own["endpoint_path"],
        "table": table,
        "records_path": own["records_path"],
        "primary_key": own["primary_key"],
        "incremental_field": own["incremental_field"],
        "incremental_filter": own["incremental_filter"],
    }
    if own["params"]:
        entry["params"] = own["params"]
    return entry


def answers_text(document: Document, endpoints: list[Endpoint], answers: dict[str, Any], notes: list[str]) -> str:
    names = ", ".join(e.listed.name for e in endpoints)
    lines = [
        f"# Copier answers for a REST connector, written by openapi/answers.py from {document.source}",
        f"# ({document.title or 'untitled'}) for {names}.",
        "# Use: copier copy --trust --data-file THIS_FILE <template> <destination>",
    ]
    if notes:
        lines.append("# What the document did not tell, to check:")
        lines.extend(f"#   {note}" for note in notes)
    dumped = yaml.safe_dump(answers, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    return "\n".join(lines) + "\n" + dumped


def listing(document: Document, found: list[ListOperation], unread: list[str], analysed: list[Endpoint]) -> str:
    base_url, _ = server_url(document)
    lines = [f"{document.title or document.source} (OpenAPI {document.data.get('openapi')}): base_url {base_url}"]
    if not found:
        lines.append("No list endpoints: no GET operation answers with a list of objects.")
    else:
        lines.append(f"{len(found)} list endpoints (GET, a 2xx JSON response holding a list of objects):")
    for endpoint in analysed:
        operation_id = f" ({endpoint.listed.operation_id})" if endpoint.listed.operation_id else ""
        lines.append(f"\n  GET {endpoint.listed.path}{operation_id}")
        lines.extend(f"    {label}: {value}" for label, value in endpoint.summary.items())
        if endpoint.missing_path_values:
            needed = " ".join(f"--path-param {name}=VALUE" for name in endpoint.missing_path_values)
            lines.append(f"    path parameters: {needed}")
        lines.append("    columns: " + ", ".join(f"{name} {kind}" for name, kind in endpoint.columns))
        lines.extend(f"    check {note}" for note in endpoint.notes)
    lines.extend(f"\n  {line}" for line in unread)
    if found:
        lines.append(
            "\nChoose with --endpoint PATH (repeatable; endpoints that page alike), e.g.\n"
            f"  python openapi/answers.py {shlex.quote(document.source)} --endpoint {shlex.quote(found[0].path)}"
            " --out answers.yml"
        )
    return "\n".join(lines)


def key_values(pairs: list[str], option: str) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise Refused(f"{option} {pair}: write NAME=VALUE")
        values[name] = value
    return values


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="openapi/answers.py",
        description="Write Copier answers for a REST connector from an OpenAPI 3 document (a path or URL).",
    )
    parser.add_argument("document", help="the OpenAPI 3.0/3.1 document: a path or an http(s) URL, JSON or YAML")
    parser.add_argument("--endpoint", action="append", default=[], help="a list endpoint's path or operationId")
    parser.add_argument("--path-param", action="append", default=[], help="NAME=VALUE for a {NAME} in the path")
    parser.add_argument("--auth", default="", help="the security scheme to use, when the operation accepts several")
    parser.add_argument("--list", action="store_true", help="list the list endpoints and what was read, only")
    parser.add_argument("--out", default="", help="the answers file to write (default: standard output)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        document = load(args.document)
        path_values = key_values(args.path_param, "--path-param")
        found, unread = list_operations(document)
        if args.list or not args.endpoint:
            analysed = [analyse(document, listed, path_values, args.auth) for listed in found]
            print(listing(document, found, unread, analysed))
            return 0
        chosen = list(dict.fromkeys(choose(found, unread, wanted).path for wanted in args.endpoint))
        by_path = {listed.path: listed for listed in found}
        endpoints = [analyse(document, by_path[path], path_values, args.auth) for path in chosen]
        answers, notes = answers_for(document, endpoints)
    except (Refused, NotFollowed) as error:
        print(f"openapi: {error}", file=sys.stderr)
        return 2
    text = answers_text(document, endpoints, answers, notes)
    if not args.out:
        print(text, end="")
        for note in notes:
            print(f"check {note}", file=sys.stderr)
        return 0
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"Wrote {args.out} for {', '.join(e.listed.name for e in endpoints)}.")
    for note in notes:
        print(f"check {note}")
    print(f"Next: copier copy --trust --data-file {args.out} <template> <destination>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
