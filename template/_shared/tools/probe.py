"""`invoke probe`: the answers this project was generated from, found from the API itself, each with its evidence.

For a REST project it reads a few pages of the first endpoint with the configured base URL and credentials and works
out where the records sit, how the API pages (a Link header, a next URL or a token in the body, or offset and
page-number parameters, found by trying the common names and watching what changes), which parameter sets the page
size, which field is a key (unique and never null), which is a cursor (timestamps a record's change moves) and in which
order they come, and whether a common filter form verifiably asks for records at or after a cursor. For a GraphQL
project it runs the first query with the variables it declares and finds the same: the records' list, the pageInfo
and the variables that page (Relay cursors or an offset), the key, the cursor, the order and a filter variable.
What it cannot tell it says, with what it saw: it never guesses silently. `invoke probe --apply` re-templates the
project with the answers through `copier update` (the same template version; the owner's edits kept).
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from invoke import Exit

from tools import local
from tools.project import SOURCE_TYPE
from tools.report import console
from tools.updates import answers_value

# Names APIs give their paging parameters, most common first.
# (JSON:API spells them page[size], page[offset], page[number], page[cursor]; OData $top and $skip.)
PAGE_SIZE_NAMES = (
    "limit", "per_page", "page_size", "pageSize", "size", "count", "maxResults", "max_results", "perPage",
    "PageSize", "pagesize", "per-page", "page_limit", "results_per_page", "rows", "num", "max", "top", "$top",
    "page[size]", "page[limit]",
)  # fmt: skip
OFFSET_NAMES = (
    "offset", "skip", "start", "startAt", "start_index", "startIndex", "from", "$skip", "begin", "page[offset]",
)  # fmt: skip
PAGE_NAMES = ("page", "page_number", "pageNumber", "p", "pageNo", "page_no", "pageIndex", "page_index", "page[number]")
CURSOR_NAMES = (
    "cursor", "after", "page_token", "pageToken", "next", "next_cursor", "starting_after", "continuation",
    "continuation_token", "token", "page_info", "marker", "offset", "scroll_id", "bookmark", "page", "page[cursor]",
    "page[after]",
)  # fmt: skip
# Stripe's way: no cursor in the body, the next page starts after the last record's key.
RECORD_CURSOR_NAMES = ("starting_after", "after", "since_id", "start_after", "after_id", "last_id", "cursor")
# Where APIs keep the list, when the body holds more than one list of objects.
RECORDS_KEYS = (
    "nodes", "data", "results", "items", "records", "entries", "values", "rows", "objects", "elements", "content",
    "edges",
)  # fmt: skip
# Keys of the parts of a body that are not records.
NEXT_URL_KEY = re.compile(r"next", re.IGNORECASE)
CURSOR_KEY = re.compile(r"cursor|after|token|continuation|scroll|offset|next|marker|bookmark|page_info", re.IGNORECASE)
HAS_MORE_KEY = re.compile(r"has_?more|more_?items|has_?next|^more$", re.IGNORECASE)
TOTAL_PAGES_KEY = re.compile(r"total_?pages|page_?count|last_?page|num_?pages", re.IGNORECASE)
TOTAL_KEY = re.compile(r"total", re.IGNORECASE)
COUNT_KEY = re.compile(r"^(count|size|hits)$", re.IGNORECASE)
# Names of fields a record's change moves, of fields set once, and of fields that hold a time at all.
CHANGED_NAME = re.compile(r"updat|modif|chang|edit", re.IGNORECASE)
CREATED_NAME = re.compile(r"creat|insert|added|publish", re.IGNORECASE)
TIME_NAME = re.compile(r"time|date|_at$|[a-z]At$|updated|modified|created|changed|stamp|^ts$|_ts$", re.IGNORECASE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
COMPACT_DATE = re.compile(r"^(19|20|21)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
EPOCH_SECONDS = range(946_684_800, 4_102_444_800)  # 2000 to 2100
EPOCH_MILLISECONDS = range(946_684_800_000, 4_102_444_800_000)
# Filters by time as APIs spell them: {field} is the cursor field's own name.
FILTER_NAMES = (
    "since", "updated_since", "updated_after", "updatedSince", "updatedAfter", "updated_at_min", "updated_min",
    "modified_since", "modified_after", "modifiedSince", "modifiedAfter", "changed_since", "since_last_changed",
    "last_modified_since", "last_modified_after", "lastModifiedSince", "start_time", "startTime", "start_date",
    "from", "min_date",
    "{field}[gte]", "{field}_gte", "{field}__gte", "{field}_min", "{field}_from", "{field}_after", "{field}_since",
    "min_{field}", "filter[{field}][gte]", "{field}.gte",
)  # fmt: skip
SAMPLE_PAGE_SIZE = 100


class ProbeError(Exception):
    """The probe cannot go on: the message says what it saw and what to check."""


@dataclass
class Page:
    records: list[dict[str, Any]]
    body: Any
    next_link: str | None = None


@dataclass
class Answer:
    value: str
    evidence: str


@dataclass
class Findings:
    """What the probe proposes (question -> answer with evidence), what it could not tell, and the column types."""

    answers: dict[str, Answer] = field(default_factory=dict)
    unsure: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def propose(self, question: str, value: str, evidence: str) -> None:
        self.answers[question] = Answer(value, evidence)


Fetch = Callable[[str, dict[str, Any]], Any]  # (path or URL, params) -> an ApiResponse (body, next_link)
# The filters to try, given a cursor value and its sort key: each one's answer, the parameters that send the value,
# and how the evidence shows them.
FilterTrials = Callable[[Any, Any], Iterable[tuple[str, dict[str, Any], str]]]


# ---------------------------------------------------------------------------------------------------- body paths


def dotted(keys: Iterable[str]) -> str:
    r"""A dotted path as the questions take it: a dot inside a key is written `\.`."""
    return ".".join(key.replace(".", "\\.") for key in keys)


def leaves(
    body: Any, skip: tuple[str, ...] = (), prefix: tuple[str, ...] = ()
) -> Iterable[tuple[tuple[str, ...], Any]]:
    """Every value of a body that is not an object, with the keys that lead to it; the records' list is skipped."""
    if not isinstance(body, dict):
        return
    for key, value in body.items():
        keys = (*prefix, key)
        if keys == skip:
            continue
        if isinstance(value, dict):
            yield from leaves(value, skip, keys)
        else:
            yield keys, value


def lists_of_objects(body: Any, prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], list]]:
    """Every list of objects in a body (and empty lists, which may be one), with the keys that lead to it."""
    if isinstance(body, list) and (not body or all(isinstance(item, dict) for item in body)):
        yield prefix, body
        return
    if isinstance(body, dict) and len(prefix) < 4:
        for key, value in body.items():
            yield from lists_of_objects(value, (*prefix, key))


def at(body: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        body = body.get(key) if isinstance(body, dict) else None
    return body


def identity(record: dict[str, Any]) -> str:
    """A record as comparable text: which records two pages share, before any key is known."""
    return json.dumps(record, sort_keys=True, default=str)


def identities(records: list[dict[str, Any]]) -> set[str]:
    return {identity(record) for record in records}


def fields_of(record: dict[str, Any], nested: bool, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """A record's fields by the keys that reach them; nested objects are followed only when they are flattened."""
    found: dict[tuple[str, ...], Any] = {}
    for key, value in record.items():
        keys = (*prefix, key)
        if isinstance(value, dict) and nested:
            found.update(fields_of(value, nested, keys))
        else:
            found[keys] = value
    return found


# ---------------------------------------------------------------------------------------------------- the probe


class Probe:
    """Reads the endpoint with chosen parameters and keeps what it learns about its pages."""

    def __init__(self, fetch: Fetch, path: str, fixed_params: dict[str, Any], nested: bool, label: str = "") -> None:
        self.fetch = fetch
        self.path = path
        self.label = label or f"GET {path}"  # how messages name what was read
        self.fixed_params = fixed_params
        self.nested = nested
        self.records_keys: tuple[str, ...] = ()
        self.findings = Findings()
        self.seen: dict[str, dict[str, Any]] = {}  # every record read, by identity, in the order first read

    def page(self, params: dict[str, Any], url: str = "") -> Page | None:
        """One page with these parameters, or None when the API refuses them (a trial that failed)."""
        self.findings.requests += 1
        try:
            response = self.fetch(url or self.path, {} if url else {**self.fixed_params, **params})
        except Exception:  # noqa: BLE001 - a parameter the API rejects is an answer too: not this one
            return None
        records = self.records_in(response.body)
        if records is None:
            return None
        for record in records:
            self.seen.setdefault(identity(record), record)
        return Page(records, response.body, response.next_link)

    def records_in(self, body: Any) -> list[dict[str, Any]] | None:
        """The records of a body, a GraphQL connection's edges unwrapped to their nodes; None if it holds none."""
        records = at(body, self.records_keys)
        if not isinstance(records, list):
            return None
        if self.records_keys[-1:] == ("edges",):
            records = [edge.get("node") for edge in records if isinstance(edge, dict)]
        return [record for record in records if isinstance(record, dict)]

    def first_page(self) -> Page:
        self.findings.requests += 1
        try:
            response = self.fetch(self.path, dict(self.fixed_params))
        except Exception as error:  # noqa: BLE001 - whatever failed, the probe cannot go on without the first page
            raise ProbeError(f"{self.label} failed, so there is nothing to learn from: {error}") from None
        self.records_keys = self.find_records(response.body)
        records = self.records_in(response.body) or []
        for record in records:
            self.seen.setdefault(identity(record), record)
        return Page(records, response.body, response.next_link)

    # ---- where the records are

    def find_records(self, body: Any) -> tuple[str, ...]:
        candidates = list(lists_of_objects(body))
        filled = [(keys, items) for keys, items in candidates if items]
        if not candidates:
            shape = ", ".join(sorted(body)) if isinstance(body, dict) else type(body).__name__
            raise ProbeError(f"{self.label} holds no list of objects (found: {shape}); check endpoint_path")
        if not filled:
            where = ", ".join(dotted(keys) or "the body" for keys, _ in candidates)
            raise ProbeError(f"{self.label} returned no records (empty lists at: {where}); probe an endpoint with them")
        # A list under a name APIs give their records wins over a longer one under another name (JSON:API's
        # `included` related resources often outnumber the `data` they relate to); then the longest, the shallowest.
        filled.sort(key=lambda item: (self.preference(item[0]) == len(RECORDS_KEYS), -len(item[1]), len(item[0])))
        keys, items = filled[0]
        others = [f"{dotted(k) or 'the body'} ({len(v)})" for k, v in filled[1:]]
        if others and len(filled[1][1]) == len(items) and self.preference(keys) == self.preference(filled[1][0]):
            self.findings.unsure.append(
                f"records_path: {dotted(keys) or 'the body'} and {others[0]} hold as many objects; check which one "
                "holds the records"
            )
        where = f"`{dotted(keys)}`" if keys else "the body itself"
        also = f" (other lists of objects: {', '.join(others)})" if others else ""
        self.findings.propose("records_path", dotted(keys), f"{where} is a list of {len(items)} objects{also}")
        return keys

    @staticmethod
    def preference(keys: tuple[str, ...]) -> int:
        name = keys[-1].lower() if keys else ""
        return RECORDS_KEYS.index(name) if name in RECORDS_KEYS else len(RECORDS_KEYS)

    # ---- the page size parameter

    def find_page_size(self, first: Page, hinted: Iterable[str]) -> tuple[str, int] | None:
        """The parameter that sets how many records a page holds: asking for a few must return that few."""
        wanted = 3 if len(first.records) != 3 else 4
        names = list(dict.fromkeys([*hinted, *PAGE_SIZE_NAMES]))
        for name in names:
            page = self.page({name: wanted})
            if page is not None and len(page.records) == wanted:
                self.findings.propose(
                    "page_size_param",
                    name,
                    f"{name}={wanted} returned {wanted} records (without it: {len(first.records)})",
                )
                return name, wanted
        self.findings.propose(
            "page_size_param",
            "",
            f"none of {', '.join(names[:8])} and {len(names) - 8} more names changed how many records a page holds",
        )
        return None

    # ---- how the API pages

    def find_pagination(self, first: Page, size: tuple[str, int] | None) -> Page | None:
        """The pagination style and its parameters; returns the second page when it found one."""
        for find in (self.by_link_header, self.by_next_url, self.by_cursor_in_body, self.by_record_cursor):
            second = find(first)
            if second is not None:
                return second
        baseline = self.page(dict([size])) if size else first
        if baseline is None or len(baseline.records) < 2:
            baseline = first
        for find_numbered in (self.by_offset, self.by_page_number):
            second = find_numbered(baseline, size)
            if second is not None:
                return second
        self.no_pagination(first)
        return None

    def is_next(self, first: Page, second: Page | None) -> bool:
        """A next page: records, none of them on the first page."""
        if second is None or not second.records:
            return False
        return not identities(second.records) & identities(first.records)

    def by_link_header(self, first: Page) -> Page | None:
        if not first.next_link:
            return None
        second = self.page({}, url=first.next_link)
        if not self.is_next(first, second):
            self.findings.unsure.append("pagination: the Link header's next page repeats the first page's records")
            return None
        names = ", ".join(name for name, _ in parse_qsl(urlsplit(first.next_link).query))
        self.findings.propose(
            "pagination",
            "link_header",
            f'a Link header with rel="next" (its parameters: {names}); following it returned '
            f"{len(second.records)} more records",
        )
        return second

    def non_record_leaves(self, body: Any) -> list[tuple[tuple[str, ...], Any]]:
        return list(leaves(body, skip=self.records_keys))

    def by_next_url(self, first: Page) -> Page | None:
        for keys, value in self.non_record_leaves(first.body):
            if not (isinstance(value, str) and NEXT_URL_KEY.search(keys[-1]) and looks_like_url(value)):
                continue
            second = self.page({}, url=value)
            if self.is_next(first, second):
                self.findings.propose(
                    "pagination",
                    "next_url",
                    f"`{dotted(keys)}` holds a URL; following it returned {len(second.records)} more records",
                )
                self.findings.propose("next_url_path", dotted(keys), f"`{dotted(keys)}` holds the next page's URL")
                return second
        return None

    def by_cursor_in_body(self, first: Page) -> Page | None:
        for keys, value in self.non_record_leaves(first.body):
            # An absolute URL is no token; a relative one may be (base64 tokens can start with "/").
            if not (CURSOR_KEY.search(keys[-1]) and isinstance(value, str) and value):
                continue
            if value.startswith(("http://", "https://")):
                continue
            reached = self.parameter_reaching_next(first, cursor_parameter_names(keys[-1]), value)
            if reached is None:
                continue
            name, second = reached
            self.findings.propose(
                "pagination",
                "cursor",
                f"`{dotted(keys)}` holds a token; {name}=<token> returned {len(second.records)} more records",
            )
            self.findings.propose("cursor_param", name, f"{name} takes the token of `{dotted(keys)}`")
            self.findings.propose("next_cursor_path", dotted(keys), f"`{dotted(keys)}` holds the next token")
            self.find_has_more(first, "cursor")
            return second
        return None

    def by_record_cursor(self, first: Page) -> Page | None:
        if not first.records:
            return None
        last = first.records[-1]
        for field_name in ("id", *(name for name in last if name.lower().endswith("id") and name != "id")):
            value = last.get(field_name)
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                continue
            reached = self.parameter_reaching_next(first, RECORD_CURSOR_NAMES, value)
            if reached is None:
                continue
            name, second = reached
            self.findings.propose(
                "pagination",
                "cursor",
                f"{name}=<the last record's {field_name}> returned {len(second.records)} more records",
            )
            self.findings.propose("cursor_param", name, f"{name} takes the last record's {field_name}")
            self.findings.propose("next_cursor_path", "", "the body holds no next token")
            self.findings.propose("cursor_record_field", field_name, f"the last record's {field_name}")
            self.find_has_more(first, "cursor")
            return second
        return None

    def parameter_reaching_next(self, first: Page, names: Iterable[str], value: Any) -> tuple[str, Page] | None:
        """The first of these parameters that, given the value, returns the page after `first`."""
        for name in names:
            second = self.page({name: value})
            if self.is_next(first, second):
                return name, second
        return None

    def by_offset(self, baseline: Page, size: tuple[str, int] | None) -> Page | None:
        """An offset moves the page by single records: offset 1 starts at the baseline's second record."""
        if len(baseline.records) < 2:
            return None
        sized = dict([size]) if size else {}
        for name in OFFSET_NAMES:
            shifted = self.page({**sized, name: 1})
            if shifted is None or not shifted.records or identity(shifted.records[0]) != identity(baseline.records[1]):
                continue
            second = self.page({**sized, name: len(baseline.records)})
            if not self.is_next(baseline, second):
                continue
            self.findings.propose(
                "pagination",
                "offset",
                f"{name}=1 started one record later; {name}={len(baseline.records)} returned the next "
                f"{len(second.records)} records",
            )
            self.findings.propose("offset_param", name, f"{name} moves the page by records")
            self.find_total(baseline, "total_path", TOTAL_KEY)
            self.find_has_more(baseline, "offset")
            return second
        return None

    def by_page_number(self, baseline: Page, size: tuple[str, int] | None) -> Page | None:
        sized = dict([size]) if size else {}
        for name in PAGE_NAMES:
            second = self.page({**sized, name: 2})
            if not self.is_next(baseline, second):
                continue
            first_page = self.first_page_number(name, baseline, sized)
            if first_page is None:
                continue
            self.findings.propose(
                "pagination", "page_number", f"{name}=2 returned {len(second.records)} records not on the first page"
            )
            self.findings.propose("page_param", name, f"{name} numbers the pages")
            self.findings.propose("first_page", str(first_page), f"{name}={first_page} returned the first page")
            self.find_total(baseline, "total_pages_path", TOTAL_PAGES_KEY)
            self.find_has_more(baseline, "page_number")
            return second
        return None

    def first_page_number(self, name: str, baseline: Page, sized: dict[str, Any]) -> int | None:
        for number in (1, 0):
            page = self.page({**sized, name: number})
            if page is not None and [identity(r) for r in page.records] == [identity(r) for r in baseline.records]:
                return number
        return None

    def no_pagination(self, first: Page) -> None:
        more = [
            f"`{dotted(keys)}` is {value}"
            for keys, value in self.non_record_leaves(first.body)
            if (HAS_MORE_KEY.search(keys[-1]) and value is True)
            or (TOTAL_KEY.search(keys[-1]) and is_count(value) and value > len(first.records))
        ]
        if more:
            self.findings.unsure.append(
                f"pagination: the first page holds {len(first.records)} records and says more follow "
                f"({'; '.join(more)}), but no Link header, next URL, token or common paging parameter reached them. "
                "Answer pagination and its parameters from the API's documentation"
            )
            return
        self.findings.propose(
            "pagination",
            "none",
            f"one request returned {len(first.records)} records, with no Link header, next URL or token, and no common "
            "paging parameter changed them",
        )

    def find_has_more(self, first: Page, style: str) -> None:
        for keys, value in self.non_record_leaves(first.body):
            if HAS_MORE_KEY.search(keys[-1]) and isinstance(value, bool):
                self.findings.propose("has_more_path", dotted(keys), f"`{dotted(keys)}` is {value} on the first page")
                return
        self.findings.propose("has_more_path", "", f"no has-more flag next to the records ({style} pagination)")

    def find_total(self, first: Page, question: str, pattern: re.Pattern[str]) -> None:
        """A count of records (or pages) next to them: a number at least as large as the page, named so."""
        counts = [
            (keys, value)
            for keys, value in self.non_record_leaves(first.body)
            if is_count(value) and not (question == "total_path" and TOTAL_PAGES_KEY.search(keys[-1]))
        ]
        named = [(keys, value) for keys, value in counts if pattern.search(keys[-1])]
        if question == "total_path" and not named:
            named = [(k, v) for k, v in counts if COUNT_KEY.search(k[-1]) and v > len(first.records)]
        for keys, value in named:
            if question == "total_pages_path" or value >= len(first.records):
                evidence = f"`{dotted(keys)}` is {value} next to a first page of {len(first.records)} records"
                self.findings.propose(question, dotted(keys), evidence)
                return
        self.findings.propose(question, "", "no count of them next to the records")

    # ---- a larger sample, read the way the connector will read it

    def read_sample(self, size: tuple[str, int] | None) -> list[dict[str, Any]]:
        """The first two pages at the page size a sync asks for, in the API's order."""
        sized = {size[0]: SAMPLE_PAGE_SIZE} if size else {}
        first = self.page(sized)
        if first is None:
            return []
        second = self.next_page(first, sized)
        return first.records + (second.records if second else [])

    def next_page(self, first: Page, sized: dict[str, Any]) -> Page | None:
        found = {question: answer.value for question, answer in self.findings.answers.items()}
        style = found.get("pagination")
        if style == "link_header" and first.next_link:
            return self.page({}, url=first.next_link)
        if style == "next_url":
            url = at(first.body, tuple(split_dotted(found["next_url_path"])))
            return self.page({}, url=url) if isinstance(url, str) else None
        if style == "cursor" and found.get("next_cursor_path"):
            token = at(first.body, tuple(split_dotted(found["next_cursor_path"])))
            return self.page({**sized, found["cursor_param"]: token}) if token else None
        if style == "cursor" and first.records:
            value = first.records[-1].get(found["cursor_record_field"])
            return self.page({**sized, found["cursor_param"]: value})
        if style == "offset":
            return self.page({**sized, found["offset_param"]: len(first.records)})
        if style == "page_number":
            return self.page({**sized, found["page_param"]: int(found["first_page"]) + 1})
        graphql_style = found.get("graphql_pagination")
        if graphql_style == "relay":
            info = at(first.body, tuple(split_dotted(found["page_info_path"])))
            token = info.get("endCursor") if isinstance(info, dict) and info.get("hasNextPage") else None
            return self.page({**sized, found["cursor_variable"]: token}) if token else None
        if graphql_style == "offset":
            return self.page({**sized, found["offset_variable"]: len(first.records)})
        return None

    # ---- keys, cursors, order, filter and types, from every record read

    def sample(self) -> list[dict[str, Any]]:
        return list(self.seen.values())

    def find_primary_key(self) -> None:
        records = self.sample()
        columns = [fields_of(record, self.nested) for record in records]
        candidates = []
        for keys in dict.fromkeys(keys for row in columns for keys in row):
            values = [row.get(keys) for row in columns]
            if all(isinstance(v, (str, int)) and not isinstance(v, bool) and v != "" for v in values):
                if len(set(values)) == len(values):
                    candidates.append((keys, values))
        if len(records) < 2 or not candidates:
            self.findings.unsure.append(
                f"primary_key: no field is unique and never null in the {len(records)} records read; answer "
                "primary_key (several fields, comma-separated, if it takes them)"
            )
            return
        candidates.sort(key=key_preference)
        chosen = candidates[0][0]
        others = ", ".join(dotted(keys) for keys, _ in candidates[1:4])
        self.findings.propose(
            "primary_key",
            dotted(chosen),
            f"unique and never null in {len(records)} records" + (f" (so are {others})" if others else ""),
        )

    def find_cursor(self) -> tuple[tuple[str, ...], str] | None:
        """The field a sync can resume from: time values in every record, a record's change moving it if the name
        says so. Returns its keys and the form of its values."""
        records = self.sample()
        columns = [fields_of(record, self.nested) for record in records]
        candidates = []
        for keys in dict.fromkeys(keys for row in columns for keys in row):
            values = [row.get(keys) for row in columns]
            form = time_form(values, keys[-1])
            if form:
                candidates.append((keys, form))
        if not candidates:
            self.findings.propose(
                "incremental_field",
                "",
                f"no field of the {len(records)} records read holds dates or timestamps in every record: every sync "
                "reads everything",
            )
            return None
        candidates.sort(key=lambda item: cursor_preference(item[0]))
        keys, form = candidates[0]
        name = keys[-1]
        evidence = f"{form} in all {len(records)} records"
        if not CHANGED_NAME.search(name):
            evidence += (
                "; its name does not say a change moves it (a creation time catches new records, not changed ones)"
            )
            if CREATED_NAME.search(name):
                self.findings.unsure.append(
                    f"incremental_field: {dotted(keys)} looks like a creation time; if records change after they are "
                    "created, give the field their change moves, or leave incremental_field empty"
                )
        others = [dotted(k) for k, _ in candidates[1:4]]
        if others:
            evidence += f" (other time fields: {', '.join(others)})"
        self.findings.propose("incremental_field", dotted(keys), evidence)
        return keys, form

    def find_order(self, ordered: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
        values = [fields_of(record, self.nested).get(keys) for record in ordered]
        sort_keys = [time_key(value) for value in values if value is not None]
        pairs = list(pairwise(sort_keys))
        if len(set(sort_keys)) < 3:
            self.findings.propose(
                "record_order", "unknown", f"too few distinct values of {dotted(keys)} to tell the order"
            )
        elif all(a <= b for a, b in pairs):
            self.findings.propose(
                "record_order", "ascending", f"{len(sort_keys)} values in the API's order never decrease"
            )
        elif all(a >= b for a, b in pairs):
            self.findings.propose(
                "record_order", "descending", f"{len(sort_keys)} values in the API's order never increase"
            )
        else:
            self.findings.propose("record_order", "unknown", f"{len(sort_keys)} values in the API's order go both ways")

    def find_filter(
        self, question: str, keys: tuple[str, ...], sized: dict[str, Any], trials: FilterTrials, none_worked: str
    ) -> None:
        """A parameter (or query variable) that asks for records at or after a value: given a value from the middle
        of a page, it returns records, and none older."""
        baseline = self.page(sized)
        values = [fields_of(r, self.nested).get(keys) for r in baseline.records] if baseline else []
        distinct = sorted({time_key(v): v for v in values if v is not None}.items())
        if len(distinct) < 2:
            self.findings.propose(question, "", "too few distinct values on a page to try a filter")
            return
        pivot_key, pivot = distinct[len(distinct) // 2]
        for answer, params, shown in trials(pivot, pivot_key):
            page = self.page({**sized, **params})
            if page is None or not page.records:
                continue
            found = [fields_of(r, self.nested).get(keys) for r in page.records]
            if all(v is not None and time_key(v) >= pivot_key for v in found):
                older = sum(1 for v in values if v is not None and time_key(v) < pivot_key)
                self.findings.propose(
                    question,
                    answer,
                    f"{shown} returned {len(page.records)} records, none before it (without it {older} of "
                    f"{len(values)} were)",
                )
                return
        self.findings.propose(question, "", none_worked)

    def find_types(self) -> None:
        from declared_types import ColumnProfile, type_name
        from records import flatten_record

        profiles: dict[str, ColumnProfile] = {}
        for record in self.sample():
            for name, value in flatten_record(record).items():
                profiles.setdefault(name, ColumnProfile()).add(value)
        self.findings.types = {name: type_name(profile.declaration()) for name, profile in profiles.items()}


def split_dotted(path: str) -> list[str]:
    return [key.replace("\x00", ".") for key in path.replace("\\.", "\x00").split(".")] if path else []


def looks_like_url(value: str) -> bool:
    """A next page's address: absolute, or relative to the API (`/items?page=2`, `/items/page/2`, `?page=2`)."""
    return value.startswith(("http://", "https://", "/", "?"))


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def cursor_parameter_names(key: str) -> list[str]:
    """Parameters that may take a token found at `key`: the key itself, without its `next`, then the common ones."""
    stripped = re.sub(r"^next_?", "", key, flags=re.IGNORECASE)
    names = [key]
    if stripped and stripped != key:
        names += [stripped, stripped[0].lower() + stripped[1:]]
    return list(dict.fromkeys([*names, *CURSOR_NAMES]))


def key_preference(candidate: tuple[tuple[str, ...], list[Any]]) -> tuple[int, int, str]:
    """Top-level fields first; then `id`, names of identifiers, names of codes and numbers, anything else; a field
    whose values hold spaces (a description, a title) only after all of them."""
    keys, values = candidate
    name = keys[-1]
    if name.lower() == "id":
        rank = 0
    elif re.search(r"(^|_)id$|[a-z]Id$|uuid|guid", name, re.IGNORECASE):
        rank = 1
    elif re.search(r"(key|sku|code|number|num|no|slug)$", name, re.IGNORECASE):
        rank = 2
    else:
        rank = 3
    if any(isinstance(value, str) and " " in value for value in values):
        rank += 4
    return (len(keys), rank, name)


def cursor_preference(keys: tuple[str, ...]) -> tuple[int, int]:
    name = keys[-1]
    rank = 0 if CHANGED_NAME.search(name) else 2 if CREATED_NAME.search(name) else 1
    return (rank, len(keys))


def time_form(values: list[Any], name: str) -> str:
    """How a field spells time in every record ("" if it does not): ISO-8601 text, compact dates, epoch numbers."""
    if not values or any(value is None for value in values):
        return ""
    if all(isinstance(v, str) and ISO_DATE.match(v) for v in values):
        return "ISO-8601 dates" if all(len(v) == 10 for v in values) else "ISO-8601 timestamps"
    if all(isinstance(v, str) and COMPACT_DATE.match(v) for v in values) and TIME_NAME.search(name):
        return "dates as YYYYMMDD"
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numbers and TIME_NAME.search(name):
        if all(EPOCH_SECONDS.start <= v < EPOCH_SECONDS.stop for v in values):
            return "epoch seconds"
        if all(EPOCH_MILLISECONDS.start <= v < EPOCH_MILLISECONDS.stop for v in values):
            return "epoch milliseconds"
    return ""


def time_key(value: Any) -> Any:
    """Time values of one field in their order: the connector's own cursor ordering."""
    from records import cursor_sort_key

    return cursor_sort_key(value)


# ---------------------------------------------------------------------------------------------------- running it


def run(probe: Probe) -> Findings:
    """Every finding, in the order the questions are asked."""
    first = probe.first_page()
    hinted = [name for name, _ in parse_qsl(urlsplit(first.next_link or "").query)]
    size = probe.find_page_size(first, hinted)
    probe.find_pagination(first, size)
    in_order = probe.read_sample(size)
    probe.find_primary_key()
    cursor = probe.find_cursor()
    if cursor is not None:
        probe.find_order(in_order, cursor[0])
        names = [template.replace("{field}", cursor[0][-1]) for template in FILTER_NAMES]
        probe.find_filter(
            "incremental_filter",
            cursor[0],
            {size[0]: SAMPLE_PAGE_SIZE} if size else {},
            lambda pivot, _: ((f"{name}={{cursor}}", {name: pivot}, f"{name}={pivot}") for name in names),
            f"none of {len(names)} common filter forms ({', '.join(names[:5])}, ...) left out older records: "
            "older records are skipped after reading them",
        )
    probe.find_types()
    return probe.findings


# ---------------------------------------------------------------------------------------------------- GraphQL

# What the arguments a query's variables fill are called, by what they do.
GRAPHQL_SIZE_ARGUMENTS = ("first", "limit", "pageSize", "page_size", "perPage", "per_page", "size", "count", "take")
GRAPHQL_CURSOR_ARGUMENTS = ("after", "cursor", "startingAfter", "starting_after", "pageToken", "page_token", "next")
GRAPHQL_OFFSET_ARGUMENTS = ("offset", "skip", "start", "from")


@dataclass(frozen=True)
class GraphQLAnswer:
    """A query's `data`, in the shape the probe reads pages in."""

    body: Any
    next_link: str | None = None


@dataclass(frozen=True)
class Variable:
    name: str
    type_name: str  # the named type under any list or non-null wrapper: Int, String, DateTime, ...
    arguments: tuple[str, ...]  # the names of the arguments (or input fields) it fills


def query_variables(text: str) -> dict[str, Variable]:
    """Each variable the query declares, with its type and what it fills (`after: $after`, `filter: {since: $s}`)."""
    from graphql import parse, visit
    from graphql.language import ArgumentNode, ObjectFieldNode, Visitor

    document = parse(text)
    filled: dict[str, list[str]] = {}

    class Uses(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.value.kind == "variable":
                filled.setdefault(node.value.name.value, []).append(node.name.value)

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            if node.value.kind == "variable":
                filled.setdefault(node.value.name.value, []).append(node.name.value)

    visit(document, Uses())
    variables = {}
    for definition in document.definitions[0].variable_definitions:
        type_node = definition.type
        while hasattr(type_node, "type"):
            type_node = type_node.type
        name = definition.variable.name.value
        variables[name] = Variable(name, type_node.name.value, tuple(filled.get(name, ())))
    return variables


def variable_for(variables: dict[str, Variable], arguments: tuple[str, ...]) -> Variable | None:
    for variable in variables.values():
        if any(argument in arguments for argument in variable.arguments):
            return variable
    return None


def run_graphql(probe: Probe, variables: dict[str, Variable]) -> Findings:
    """The GraphQL answers: where the records are, how the query pages, and the key, cursor, order and filter."""
    size = variable_for(variables, GRAPHQL_SIZE_ARGUMENTS)
    cursor = variable_for(variables, GRAPHQL_CURSOR_ARGUMENTS)
    offset = variable_for(variables, GRAPHQL_OFFSET_ARGUMENTS)
    if size is not None:
        probe.fixed_params = {size.name: 3}
        probe.findings.propose("page_size_variable", size.name, f"${size.name} fills `{size.arguments[0]}`")
    first = probe.first_page()
    graphql_pagination(probe, first, cursor, offset)
    in_order = probe.read_sample((size.name, SAMPLE_PAGE_SIZE) if size else None)
    probe.find_primary_key()
    found = probe.find_cursor()
    if found is not None:
        probe.find_order(in_order, found[0])
        paging = {v.name for v in (size, cursor, offset) if v is not None}
        candidates = [v for v in variables.values() if v.name not in paging]
        names = ", ".join(f"${v.name}" for v in candidates) or "none"
        probe.find_filter(
            "incremental_variable",
            found[0],
            {size.name: SAMPLE_PAGE_SIZE} if size else {},
            variable_trials(candidates),
            f"no variable of the query left out older records (tried: {names})",
        )
    probe.find_types()
    return probe.findings


def page_info_of(probe: Probe, body: Any) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """The pageInfo object beside the records' list (or beside the connection that holds it)."""
    keys = probe.records_keys[:-1]
    node = at(body, keys)
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and "endCursor" in value:
                return (*keys, key), value
    return None


def graphql_pagination(probe: Probe, first: Page, cursor: Variable | None, offset: Variable | None) -> None:
    findings = probe.findings
    page_info = page_info_of(probe, first.body)
    if cursor is not None and page_info is not None:
        keys, info = page_info
        second = probe.page({cursor.name: info.get("endCursor")}) if info.get("endCursor") else None
        if probe.is_next(first, second):
            findings.propose(
                "graphql_pagination",
                "relay",
                f"`{dotted(keys)}.endCursor` passed as ${cursor.name} returned {len(second.records)} more records",
            )
            findings.propose("page_info_path", dotted(keys), f"`{dotted(keys)}` holds hasNextPage and endCursor")
            findings.propose("cursor_variable", cursor.name, f"${cursor.name} fills `{cursor.arguments[0]}`")
            return
    if offset is not None and len(first.records) >= 2:
        shifted = probe.page({offset.name: 1})
        if shifted and shifted.records and identity(shifted.records[0]) == identity(first.records[1]):
            findings.propose("graphql_pagination", "offset", f"${offset.name}=1 started one record later")
            findings.propose("offset_variable", offset.name, f"${offset.name} fills `{offset.arguments[0]}`")
            return
    if page_info is not None and page_info[1].get("hasNextPage"):
        findings.unsure.append(
            f"graphql_pagination: `{dotted(page_info[0])}` says more pages follow, but no variable of the query that "
            "fills `after` (or an offset) reached them: add one to the query, e.g. $after: String"
        )
        return
    findings.propose("graphql_pagination", "none", f"the query returned {len(first.records)} records and no more")


def variable_trials(candidates: list[Variable]) -> FilterTrials:
    """Each variable the query does not page with, given the cursor value; an Int one takes a timestamp as epoch
    seconds, answered as name={cursor:epoch}."""

    def trials(pivot: Any, pivot_key: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
        for variable in candidates:
            value, answer = pivot, variable.name
            if variable.type_name == "Int" and isinstance(pivot, str) and pivot_key[0] == 1:  # a timestamp as text
                value, answer = int(pivot_key[1].timestamp()), f"{variable.name}={{cursor:epoch}}"
            yield answer, {variable.name: value}, f"${variable.name}={value}"

    return trials


def probe_project(configuration: dict[str, str]) -> tuple[Findings, Callable[[str], str]]:
    """The findings for this project's first endpoint, read with its configuration; and the redaction of its
    secrets, for whatever is shown."""
    import records
    import settings

    nested = "a_b" in records.flatten_record({"a": {"b": 1}})  # whether this project flattens nested objects
    if "state" in inspect.signature(settings.build_client).parameters:
        raise ProbeError(
            "this API rotates its OAuth2 refresh token and accepts only the newest one; the probe does not spend it. "
            "Answer from the API's documentation, then `invoke test`"
        )
    client = settings.build_client(configuration)
    if SOURCE_TYPE == "graphql":
        return probe_graphql(client, configuration[settings.URL_KEY], nested), client.redact
    import endpoints

    top_level = [e for e in endpoints.ENDPOINTS if not getattr(e, "parent", "")]
    endpoint = top_level[0]
    if getattr(endpoint, "method", "GET") != "GET":
        raise ProbeError(f"{endpoint.path} is read with {endpoint.method}; the probe reads GET endpoints only")
    fixed = {**settings.EXTRA_PARAMS, **endpoint.params}
    probe = Probe(client.get_json, endpoint.path, fixed, nested=nested)
    findings = run(probe)
    if len(top_level) > 1:
        findings.unsure.append(
            f"only {endpoint.path} was probed: its answers hold for the other endpoints unless their entries in "
            "`endpoints` set their own"
        )
    return findings, client.redact


def probe_graphql(client: Any, url: str, nested: bool) -> Findings:
    """The findings for this project's first query, run with the variables the probe chooses."""
    import graphql_queries
    from graphql_client import run_query

    query = next(q for q in graphql_queries.QUERIES if not getattr(q, "parent", ""))

    def fetch(_: str, variables: dict[str, Any]) -> GraphQLAnswer:
        return GraphQLAnswer(run_query(client, url, query.text, variables))

    probe = Probe(fetch, query.table, {}, nested=nested, label=f"The query of {query.table}")
    findings = run_graphql(probe, query_variables(query.text))
    if len(graphql_queries.QUERIES) > 1:
        findings.unsure.append(f"only the query of {query.table} was probed")
    return findings


# The answers a pagination style reads, beside `pagination` itself.
STYLE_ANSWERS = {
    "none": (),
    "link_header": ("page_size_param",),
    "next_url": ("page_size_param", "next_url_path"),
    "cursor": ("page_size_param", "cursor_param", "next_cursor_path", "cursor_record_field", "has_more_path"),
    "offset": ("page_size_param", "offset_param", "total_path", "has_more_path"),
    "page_number": ("page_size_param", "page_param", "first_page", "total_pages_path", "has_more_path"),
}


GRAPHQL_STYLE_ANSWERS = {
    "none": (),
    "relay": ("page_size_variable", "page_info_path", "cursor_variable"),
    "offset": ("page_size_variable", "offset_variable"),
}


def answers_to_apply(findings: Findings) -> dict[str, str]:
    """The answers `copier update` takes: only those the probe found, and only those their questions ask for."""
    found = {question: answer.value for question, answer in findings.answers.items()}
    chosen = {name: found[name] for name in ("records_path", "primary_key") if name in found}
    if SOURCE_TYPE == "graphql":
        style = found.get("graphql_pagination")
        if style:
            chosen["graphql_pagination"] = style
            chosen.update({name: found[name] for name in GRAPHQL_STYLE_ANSWERS[style] if name in found})
        if "incremental_field" in found:
            chosen["incremental_field"] = found["incremental_field"]
            if found["incremental_field"]:
                chosen.update({name: found[name] for name in ("incremental_variable", "record_order") if name in found})
        return chosen
    style = found.get("pagination")
    if style:
        chosen["pagination"] = style
        chosen.update({name: found[name] for name in STYLE_ANSWERS[style] if name in found})
        if found.get("next_cursor_path"):
            chosen.pop("cursor_record_field", None)
    if "incremental_field" in found:
        chosen["incremental_field"] = found["incremental_field"]
        if found["incremental_field"]:
            chosen.update({name: found[name] for name in ("incremental_filter", "record_order") if name in found})
    return chosen


def show(findings: Findings, redact: Callable[[str], str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table("question", "proposed answer", "now", "evidence", title="What the API shows")
    for question, answer in findings.answers.items():
        current = answers_value(question)
        table.add_row(question, escape(repr(answer.value)), escape(repr(current)), escape(redact(answer.evidence)))
    console.print(table)
    if findings.types:
        types = ", ".join(f"{name} {kind}" for name, kind in findings.types.items())
        console.print(f"Column types the sample holds (`invoke columns` declares them): {types}", markup=False)
    for doubt in findings.unsure:
        console.print(f"[yellow]?[/yellow] {escape(redact(doubt))}")
    console.print(f"({findings.requests} requests)")


def changed_answers(findings: Findings) -> dict[str, str]:
    return {name: value for name, value in answers_to_apply(findings).items() if value != answers_value(name)}


def update_command(answers: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref=:current:"]
    for name, value in answers.items():
        command += ["--data", f"{name}={value}"]
    return command


def apply(findings: Findings) -> None:
    """Re-template the project with the findings through `copier update`: same template version, owner edits
    kept; conflicts are reported like any update's."""
    if not changed_answers(findings):
        console.print("The answers already match what the API shows: nothing to apply.")
        return
    # Every answer the style reads, changed or not: one not given would take its question's default.
    answers = answers_to_apply(findings)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=local.PROJECT, capture_output=True, text=True)
    if status.returncode != 0 or status.stdout.strip():
        raise Exit("Commit your changes first: `copier update` needs a clean git working tree.", code=1)
    console.print("Applying: " + ", ".join(f"{name}={value!r}" for name, value in answers.items()), markup=False)
    result = subprocess.run(update_command(answers), cwd=local.PROJECT, capture_output=True, text=True)
    if result.returncode != 0:
        console.print((result.stdout + result.stderr)[-3000:], markup=False)
        raise Exit("copier update failed: see its output above.", code=1)
    local.refuse_unresolved_update()
    console.print("Re-templated. Review `git diff`, then `invoke test`, and commit.")
