"""Local stand-ins for the shapes of real REST APIs: where their records sit, how they page, what they call the page
size, how they filter by time, and what their records look like (string ids that look like numbers, epoch and
offset timestamps, nested objects).

Each `RealShape` pairs a `FakeRestApi` configuration with `answers`: what a person who read the API's documentation
would answer the template's questions. `invoke probe` must find them from the base URL, the path and the auth alone;
an OpenAPI document of the same API must give them too. The data is deterministic and made up; only the shapes follow
the real APIs (as their public documentation describes them).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.servers.rest_api import ApiShape, Auth, openfda_records, openfda_shape

RECORDS = 137  # several pages at every shape's default page size, and not a multiple of any of them
START = datetime.datetime(2024, 3, 1, 8, 0, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class RealShape:
    """One real API's list endpoint, served by FakeRestApi(shape, auth, records=records(RECORDS))."""

    name: str
    shape: ApiShape
    auth: Auth
    records: Callable[[int], list[dict[str, Any]]]
    # The template's answers for this endpoint (question name -> answer), as the API's documentation gives them.
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def auth_answers(self) -> dict[str, str]:
        """The answers that say how requests authenticate (the least a person knows besides the URL and path)."""
        return AUTH_ANSWERS[self.auth.method](self.auth)

    @property
    def secrets(self) -> dict[str, str]:
        """configuration.json values that carry the secret, by the template's key names."""
        return AUTH_SECRETS[self.auth.method](self.auth)


AUTH_ANSWERS: dict[str, Callable[[Auth], dict[str, str]]] = {
    "none": lambda auth: {"auth_method": "none"},
    "bearer": lambda auth: {"auth_method": "bearer"},
    "basic": lambda auth: {"auth_method": "basic"},
    "api_key_header": lambda auth: {"auth_method": "api_key", "api_key_location": "header", "api_key_name": auth.name},
    "api_key_query": lambda auth: {"auth_method": "api_key", "api_key_location": "query", "api_key_name": auth.name},
    "api_key_basic": lambda auth: {"auth_method": "api_key", "api_key_location": "basic_username"},
}
AUTH_SECRETS: dict[str, Callable[[Auth], dict[str, str]]] = {
    "none": lambda auth: {},
    "bearer": lambda auth: {"bearer_token": auth.secret},
    "basic": lambda auth: {"username": auth.username, "password": auth.password},
    "api_key_header": lambda auth: {"api_key": auth.secret},
    "api_key_query": lambda auth: {"api_key": auth.secret},
    "api_key_basic": lambda auth: {"api_key": auth.secret},
}


def moment(index: int) -> datetime.datetime:
    """The index-th record's last change: every 37 minutes, two records at a time (ties the cursor must break)."""
    return START + datetime.timedelta(minutes=37 * (index // 2))


def iso(index: int) -> str:
    return moment(index).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms_offset(index: int) -> str:
    """Jira's and Salesforce's spelling: milliseconds and a +0000 offset."""
    return moment(index).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def epoch(index: int) -> int:
    return int(moment(index).timestamp())


def digest(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - an identifier, as Mailchimp's subscriber hash


# ---------------------------------------------------------------------------------------------------- records


def github_issues(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": 2000000000 + i,
            "number": i + 1,
            "title": f"Crash when the path has a dot ({i})",
            "state": ("open", "closed")[i % 2],
            "user": {"login": f"octo{i % 5}", "id": 500 + i % 5},
            "labels": [{"name": "bug"}] if i % 3 == 0 else [],
            "comments": i % 4,
            "created_at": (moment(i) - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": iso(i),
        }
        for i in range(count)
    ]


def stripe_charges(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"ch_3Pq{i:06d}",
            "object": "charge",
            "amount": 1000 + 25 * i,
            "currency": "usd",
            "created": epoch(i),
            "paid": i % 7 != 0,
            "description": None if i % 4 else f"Order #{i:05d}",
            "metadata": {"order_id": f"{i:05d}"},
        }
        for i in range(count)
    ]


def hubspot_contacts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(51 + i),
            "properties": {"email": f"person{i}@example.com", "firstname": f"Ana {i}", "zip": f"0{2100 + i}"},
            "createdAt": (moment(i) - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "updatedAt": moment(i).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "archived": False,
        }
        for i in range(count)
    ]


def slack_users(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"U0{i:07d}",
            "team_id": "T012AB3C4",
            "name": f"user.{i}",
            "deleted": i % 9 == 0,
            "tz_offset": -28800 + 3600 * (i % 3),
            "profile": {"real_name": f"User Number {i}", "title": "" if i % 2 else "Engineer"},
            "updated": epoch(i),
        }
        for i in range(count)
    ]


def jira_issues(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(10000 + i),
            "key": f"PRJ-{i + 1}",
            "self": f"https://example.atlassian.net/rest/api/3/issue/{10000 + i}",
            "fields": {
                "summary": f"Ticket {i}: the export drops trailing zeros (10.50)",
                "status": {"name": ("To Do", "In Progress", "Done")[i % 3]},
                "updated": iso_ms_offset(i),
            },
        }
        for i in range(count)
    ]


def zendesk_tickets(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": 35436 + i,
            "subject": f"Help, my printer is on fire ({i})",
            "status": ("new", "open", "solved")[i % 3],
            "priority": None if i % 5 else "high",
            "tags": ["printer"] if i % 2 else [],
            "created_at": (moment(i) - datetime.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": iso(i),
        }
        for i in range(count)
    ]


def shopify_orders(count: int) -> list[dict[str, Any]]:
    eastern = datetime.timezone(datetime.timedelta(hours=-5))
    return [
        {
            "id": 450789469 + 1000 * i,
            "name": f"#{1001 + i}",
            "email": f"buyer{i}@example.com",
            "total_price": f"{19.9 + i:.2f}",
            "currency": "USD",
            "updated_at": moment(i).astimezone(eastern).isoformat(),
        }
        for i in range(count)
    ]


def salesforce_accounts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "attributes": {"type": "Account", "url": f"/services/data/v60.0/sobjects/Account/001{i:012d}AAA"},
            "Id": f"001{i:012d}AAA",
            "Name": f"Account {i} & Sons",
            "AnnualRevenue": None if i % 3 else 1250000.5 + i,
            "LastModifiedDate": iso_ms_offset(i),
        }
        for i in range(count)
    ]


def wordpress_posts(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": 100 + i,
            "slug": f"post-{i}",
            "status": "publish",
            "title": {"rendered": f"Post {i}: &quot;quoted&quot;"},
            "modified": moment(i).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        for i in range(count)
    ]


def mailchimp_members(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": digest(f"member{i}@example.com"),
            "email_address": f"member{i}@example.com",
            "status": ("subscribed", "unsubscribed")[i % 2],
            "merge_fields": {"FNAME": f"Member {i}", "PHONE": f"+1 555 01{i:02d}"[:14]},
            "last_changed": moment(i).isoformat(),
        }
        for i in range(count)
    ]


def pipedrive_deals(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": 1 + i,
            "title": f"Deal {i}",
            "value": 1500 + 10 * i,
            "currency": "EUR",
            "status": ("open", "won", "lost")[i % 3],
            "update_time": moment(i).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for i in range(count)
    ]


def airtable_records(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"rec{digest(str(i))[:14]}",
            "createdTime": iso(i),
            "fields": {"Name": f"Row {i}", "Notes": "" if i % 2 else "multi\nline", "Amount": 10.5 + i},
        }
        for i in range(count)
    ]


def spring_products(count: int) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SKU-{i:05d}",
            "name": f"Product {i}",
            "price": f"{i % 50}.{i % 100:02d}",
            "lastModified": epoch(i) * 1000,
        }
        for i in range(count)
    ]


def jsonapi_articles(count: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "articles",
            "id": str(i + 1),
            "attributes": {"title": f"JSON:API paints my bikeshed ({i})", "updatedAt": iso(i), "wordCount": 300 + i},
            "relationships": {"author": {"data": {"type": "people", "id": str(9 + i % 3)}}},
        }
        for i in range(count)
    ]


# ---------------------------------------------------------------------------------------------------- the shapes


SHAPES: dict[str, RealShape] = {
    shape.name: shape
    for shape in [
        RealShape(
            "github_issues",
            ApiShape(
                path="/repos/acme/widgets/issues",
                records_path="",
                incremental_field="updated_at",
                order="ascending",
                pagination="link_header",
                page_size_param="per_page",
                default_page_size=30,
                max_page_size=100,
                incremental_filter="since={cursor}",
            ),
            Auth("bearer", secret="ghp_fake0123456789"),
            github_issues,
            {
                "records_path": "",
                "pagination": "link_header",
                "page_size_param": "per_page",
                "primary_key": "id",
                "incremental_field": "updated_at",
                "incremental_filter": "since={cursor}",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "stripe_charges",
            ApiShape(
                path="/v1/charges",
                records_path="data",
                incremental_field="created",
                order="descending",
                pagination="cursor",
                cursor_param="starting_after",
                next_cursor_path="",
                has_more_path="has_more",
                page_size_param="limit",
                default_page_size=10,
                max_page_size=100,
                incremental_filter="created[gte]={cursor}",
            ),
            Auth("api_key_basic", secret="sk_test_fake123"),
            stripe_charges,
            {
                "records_path": "data",
                "pagination": "cursor",
                "cursor_param": "starting_after",
                "next_cursor_path": "",
                "cursor_record_field": "id",
                "has_more_path": "has_more",
                "page_size_param": "limit",
                "primary_key": "id",
                "incremental_field": "created",
                "incremental_filter": "created[gte]={cursor}",
                "record_order": "descending",
            },
        ),
        RealShape(
            "hubspot_contacts",
            ApiShape(
                path="/crm/v3/objects/contacts",
                records_path="results",
                incremental_field="updatedAt",
                order="unknown",
                pagination="cursor",
                cursor_param="after",
                next_cursor_path="paging.next.after",
                page_size_param="limit",
                default_page_size=10,
                max_page_size=100,
            ),
            Auth("bearer", secret="pat-na1-fake"),
            hubspot_contacts,
            {
                "records_path": "results",
                "pagination": "cursor",
                "cursor_param": "after",
                "next_cursor_path": "paging.next.after",
                "page_size_param": "limit",
                "primary_key": "id",
                "incremental_field": "updatedAt",
                "incremental_filter": "",
                "record_order": "unknown",
            },
        ),
        RealShape(
            "slack_users",
            ApiShape(
                path="/api/users.list",
                records_path="members",
                incremental_field="updated",
                order="unknown",
                pagination="cursor",
                cursor_param="cursor",
                next_cursor_path="response_metadata.next_cursor",
                page_size_param="limit",
                default_page_size=20,
                max_page_size=200,
            ),
            Auth("bearer", secret="xoxb-fake"),
            slack_users,
            {
                "records_path": "members",
                "pagination": "cursor",
                "cursor_param": "cursor",
                "next_cursor_path": "response_metadata.next_cursor",
                "page_size_param": "limit",
                "primary_key": "id",
                "incremental_field": "updated",
                "incremental_filter": "",
                "record_order": "unknown",
            },
        ),
        RealShape(
            "openfda_enforcement",
            # openFDA answers one record when no limit is asked.
            replace(openfda_shape(), default_page_size=1),
            Auth("none"),
            openfda_records,
            {
                "records_path": "results",
                "pagination": "offset",
                "offset_param": "skip",
                "page_size_param": "limit",
                "total_path": "meta.results.total",
                "primary_key": "recall_number",
                "incremental_field": "report_date",
                "incremental_filter": "",  # openFDA's search syntax is not a common form
                "record_order": "ascending",
            },
        ),
        RealShape(
            "jira_issues",
            ApiShape(
                path="/rest/api/3/search",
                records_path="issues",
                incremental_field="fields.updated",
                order="ascending",
                pagination="offset",
                offset_param="startAt",
                page_size_param="maxResults",
                default_page_size=50,
                max_page_size=100,
                total_path="total",
            ),
            Auth("basic", username="me@example.com", password="api-token-fake"),
            jira_issues,
            {
                "records_path": "issues",
                "pagination": "offset",
                "offset_param": "startAt",
                "page_size_param": "maxResults",
                "total_path": "total",
                "primary_key": "id",
                "incremental_field": "fields.updated",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "zendesk_tickets",
            ApiShape(
                path="/api/v2/tickets.json",
                records_path="tickets",
                incremental_field="updated_at",
                order="ascending",
                pagination="next_url",
                next_url_path="next_page",
                cursor_param="page",
                page_size_param="per_page",
                default_page_size=25,
                max_page_size=100,
                total_path="count",
            ),
            Auth("basic", username="agent@example.com/token", password="zd-fake"),
            zendesk_tickets,
            {
                "records_path": "tickets",
                "pagination": "next_url",
                "next_url_path": "next_page",
                "page_size_param": "per_page",
                "primary_key": "id",
                "incremental_field": "updated_at",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "shopify_orders",
            ApiShape(
                path="/admin/api/2024-01/orders.json",
                records_path="orders",
                incremental_field="updated_at",
                order="ascending",
                pagination="link_header",
                cursor_param="page_info",
                page_size_param="limit",
                default_page_size=50,
                max_page_size=250,
                incremental_filter="updated_at_min={cursor}",
            ),
            Auth("api_key_header", name="X-Shopify-Access-Token", secret="shpat_fake"),
            shopify_orders,
            {
                "records_path": "orders",
                "pagination": "link_header",
                "page_size_param": "limit",
                "primary_key": "id",
                "incremental_field": "updated_at",
                "incremental_filter": "updated_at_min={cursor}",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "salesforce_accounts",
            ApiShape(
                path="/services/data/v60.0/query",
                records_path="records",
                primary_key=("Id",),
                incremental_field="LastModifiedDate",
                order="ascending",
                pagination="next_url",
                next_url_path="nextRecordsUrl",
                next_url_relative=True,
                cursor_param="locator",
                page_size_param="",
                default_page_size=40,
                max_page_size=40,
                total_path="totalSize",
            ),
            Auth("bearer", secret="00Dfake!token"),
            salesforce_accounts,
            {
                "records_path": "records",
                "pagination": "next_url",
                "next_url_path": "nextRecordsUrl",
                "page_size_param": "",
                "primary_key": "Id",
                "incremental_field": "LastModifiedDate",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "wordpress_posts",
            ApiShape(
                path="/wp-json/wp/v2/posts",
                records_path="",
                incremental_field="modified",
                order="ascending",
                pagination="page_number",
                page_param="page",
                first_page=1,
                page_size_param="per_page",
                default_page_size=10,
                max_page_size=100,
                incremental_filter="modified_after={cursor}",
            ),
            Auth("none"),
            wordpress_posts,
            {
                "records_path": "",
                "pagination": "page_number",
                "page_param": "page",
                "first_page": "1",
                "page_size_param": "per_page",
                "primary_key": "id",
                "incremental_field": "modified",
                "incremental_filter": "modified_after={cursor}",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "mailchimp_members",
            ApiShape(
                path="/3.0/lists/9e67587f52/members",
                records_path="members",
                incremental_field="last_changed",
                order="ascending",
                pagination="offset",
                offset_param="offset",
                page_size_param="count",
                default_page_size=10,
                max_page_size=1000,
                total_path="total_items",
                incremental_filter="since_last_changed={cursor}",
            ),
            Auth("basic", username="anystring", password="mc-fake-us21"),
            mailchimp_members,
            {
                "records_path": "members",
                "pagination": "offset",
                "offset_param": "offset",
                "page_size_param": "count",
                "total_path": "total_items",
                "primary_key": "id",
                "incremental_field": "last_changed",
                "incremental_filter": "since_last_changed={cursor}",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "pipedrive_deals",
            ApiShape(
                path="/v1/deals",
                records_path="data",
                incremental_field="update_time",
                order="ascending",
                pagination="offset",
                offset_param="start",
                page_size_param="limit",
                default_page_size=100,
                max_page_size=500,
                has_more_path="additional_data.pagination.more_items_in_collection",
            ),
            Auth("api_key_query", name="api_token", secret="pd-fake"),
            pipedrive_deals,
            {
                "records_path": "data",
                "pagination": "offset",
                "offset_param": "start",
                "page_size_param": "limit",
                "has_more_path": "additional_data.pagination.more_items_in_collection",
                "primary_key": "id",
                "incremental_field": "update_time",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "airtable_records",
            ApiShape(
                path="/v0/appFake123/Projects",
                records_path="records",
                incremental_field="createdTime",
                order="ascending",
                pagination="cursor",
                cursor_param="offset",
                next_cursor_path="offset",
                page_size_param="pageSize",
                default_page_size=100,
                max_page_size=100,
            ),
            Auth("bearer", secret="patFake.123"),
            airtable_records,
            {
                "records_path": "records",
                "pagination": "cursor",
                "cursor_param": "offset",
                "next_cursor_path": "offset",
                "page_size_param": "pageSize",
                "primary_key": "id",
                "incremental_field": "createdTime",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "spring_products",
            ApiShape(
                path="/api/products",
                records_path="content",
                primary_key=("sku",),
                incremental_field="lastModified",
                order="ascending",
                pagination="page_number",
                page_param="page",
                first_page=0,
                page_size_param="size",
                default_page_size=20,
                max_page_size=2000,
                total_pages_path="totalPages",
            ),
            Auth("api_key_header", name="X-API-Key", secret="spring-fake"),
            spring_products,
            {
                "records_path": "content",
                "pagination": "page_number",
                "page_param": "page",
                "first_page": "0",
                "page_size_param": "size",
                "total_pages_path": "totalPages",
                "primary_key": "sku",
                "incremental_field": "lastModified",
                "incremental_filter": "",
                "record_order": "ascending",
            },
        ),
        RealShape(
            "jsonapi_articles",
            ApiShape(
                path="/articles",
                records_path="data",
                incremental_field="attributes.updatedAt",
                order="ascending",
                pagination="next_url",
                next_url_path="links.next",
                cursor_param="page[cursor]",
                page_size_param="page[size]",
                default_page_size=25,
                max_page_size=100,
                incremental_filter="filter[updatedAt][gte]={cursor}",
                # A compound document: the related people, more of them than articles on a page.
                extra_body={"included": [{"type": "people", "id": str(n), "attributes": {}} for n in range(40)]},
            ),
            Auth("bearer", secret="jsonapi-fake"),
            jsonapi_articles,
            {
                "records_path": "data",
                "pagination": "next_url",
                "next_url_path": "links.next",
                "page_size_param": "page[size]",
                "primary_key": "id",
                "incremental_field": "attributes.updatedAt",
                "incremental_filter": "filter[updatedAt][gte]={cursor}",
                "record_order": "ascending",
            },
        ),
    ]
}
