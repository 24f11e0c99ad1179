"""Every variant of the template renders into a project that is lint-clean, compiles, and passes its own tests.

The rendered project's tests run its connector against its own local fake of the API (tests/fake_api.py), so
this also shows that a project works offline right after `copier copy`.
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

import pytest
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from tests.harness import BIN, REPO, column_name, project_tests, render, table_name

pytestmark = [pytest.mark.render]

OTHER_API = {
    "base_url": "https://api.example.com/v2",
    "endpoint_path": "/orders",
    "primary_key": "id",
    "records_path": "data",
    "incremental_field": "updated_at",
    "incremental_filter": "updated_since={cursor}",
    "pagination": "offset",
}
RELAY_QUERY = """query Issues($first: Int!, $after: String, $since: String) {
  issues(first: $first, after: $after, since: $since) {
    edges { node { id updatedAt title } }
    pageInfo { hasNextPage endCursor }
  }
}"""
OFFSET_QUERY = """query Items($limit: Int!, $offset: Int!, $since: String) {
  issuePage(limit: $limit, offset: $offset, since: $since) { items { id updatedAt title score } total }
}"""
GRAPHQL = {"source_type": "graphql", "graphql_url": "https://api.example.com/graphql"}
PRODUCTS_QUERY = """query Products($first: Int!, $after: String, $updatedAfter: Int) {
  products(first: $first, after: $after, updatedAfter: $updatedAfter) {
    nodes { id title updatedAt vendor { name } }
    pageInfo { hasNextPage endCursor }
  }
}"""
VARIANTS_QUERY = """query Variants($first: Int!, $after: String, $productId: ID!, $vendor: String) {
  product(id: $productId) {
    variants(first: $first, after: $after, vendor: $vendor) {
      nodes { sku price }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "api_key_header": {**OTHER_API, "auth_method": "api_key", "api_key_location": "header", "api_key_name": "X-Key"},
    "api_key_query": {**OTHER_API, "auth_method": "api_key", "api_key_location": "query", "api_key_name": "apikey"},
    "api_key_basic_user": {**OTHER_API, "auth_method": "api_key", "api_key_location": "basic_username"},
    "bearer": {**OTHER_API, "auth_method": "bearer"},
    "basic": {**OTHER_API, "auth_method": "basic"},
    "oauth2": {**OTHER_API, "auth_method": "oauth2_client_credentials", "oauth2_scope": "read:orders"},
    "oauth2_refresh_token": {
        **OTHER_API,
        "auth_method": "oauth2_refresh_token",
        "oauth2_token_url": "https://api.hubapi.com/oauth/v1/token",
        "incremental_field": "",
    },
    "no_pagination": {**OTHER_API, "pagination": "none"},
    "offset_has_more": {**OTHER_API, "pagination": "offset", "offset_param": "offset", "has_more_path": "meta.more"},
    "offset_short_page": {**OTHER_API, "pagination": "offset", "offset_param": "offset"},
    "page_number_total_pages": {**OTHER_API, "pagination": "page_number", "total_pages_path": "meta.total_pages"},
    "page_number_zero_based": {**OTHER_API, "pagination": "page_number", "first_page": 0},
    "cursor_token": {**OTHER_API, "pagination": "cursor", "next_cursor_path": "meta.next"},
    "cursor_last_record": {
        **OTHER_API,
        "pagination": "cursor",
        "next_cursor_path": "",
        "cursor_param": "starting_after",
        "has_more_path": "has_more",
    },
    "next_url": {**OTHER_API, "pagination": "next_url", "next_url_path": "links.next"},
    "link_header_body_is_list": {**OTHER_API, "pagination": "link_header", "records_path": ""},
    "full_sync_no_cursor": {**OTHER_API, "incremental_field": ""},
    "newest_first_no_filter": {**OTHER_API, "record_order": "descending", "incremental_filter": ""},
    # openFDA's offset limit with newest-first records: no new window from the cursor, a clear error at the limit.
    "newest_first_offset_limit": {"record_order": "descending"},
    "objects_as_json": {**OTHER_API, "flatten_nested": False},
    "escaped_dot_in_records_path": {**OTHER_API, "records_path": r"data.items\.v2"},
    "headers_and_params": {
        **OTHER_API,
        "extra_headers": {"X-Account-Id": "42"},
        "extra_params": {"state": "all", "archived": False},
    },
    "graphql_defaults": {"source_type": "graphql"},
    "graphql_relay_edges_bearer": {
        **GRAPHQL,
        "graphql_query": RELAY_QUERY,
        "records_path": "issues.edges",
        "auth_method": "bearer",
    },
    "graphql_offset_api_key": {
        **GRAPHQL,
        "graphql_query": OFFSET_QUERY,
        "graphql_pagination": "offset",
        "records_path": "issuePage.items",
        "auth_method": "api_key",
        "api_key_location": "query",
    },
    "graphql_no_pagination_full_sync_basic": {
        **GRAPHQL,
        "graphql_query": "query { issuePage { items { id title } } }",
        "graphql_pagination": "none",
        "records_path": "issuePage.items",
        "incremental_field": "",
        "auth_method": "basic",
    },
    "graphql_oauth2_objects_as_json": {
        **GRAPHQL,
        "graphql_query": RELAY_QUERY,
        "records_path": "issues.edges",
        "auth_method": "oauth2_client_credentials",
        "flatten_nested": False,
    },
    "graphql_oauth2_refresh_token": {**GRAPHQL, "auth_method": "oauth2_refresh_token", "oauth2_scope": "read"},
    "graphql_several_queries": {
        **GRAPHQL,
        "graphql_query": RELAY_QUERY,
        "records_path": "issues.edges",
        "graphql_queries": [
            {"table": "issues", "query": RELAY_QUERY, "records_path": "issues.edges"},
            {
                "table": "pull_requests",
                "query": RELAY_QUERY.replace("issues(", "pullRequests("),
                "records_path": "pullRequests.edges",
                "incremental_field": "updatedAt",
            },
        ],
    },
    # Shopify-like: products read in full (epoch-free), each product's variants by a child query that needs its own
    # paging, with two variables from the product (one nested) and the product's cursor sent as epoch seconds.
    "graphql_child_query_and_epoch_cursor": {
        **GRAPHQL,
        "graphql_query": PRODUCTS_QUERY,
        "records_path": "products.nodes",
        "incremental_field": "updatedAt",
        "incremental_variable": "updatedAfter={cursor:epoch}",
        "graphql_queries": [
            {"table": "products", "query": PRODUCTS_QUERY, "records_path": "products.nodes"},
            {
                "table": "product_variants",
                "parent": "products",
                "parent_variables": {"productId": "id", "vendor": "vendor.name"},
                "query": VARIANTS_QUERY,
                "records_path": "product.variants.nodes",
                "primary_key": "sku",
                "incremental_field": "",
            },
        ],
    },
    "database_postgresql": {"source_type": "database"},
    "database_mysql_tables_verify_full": {
        "source_type": "database",
        "db_engine": "mysql",
        "db_tables": "orders, Order Details",
        "db_tls_mode": "verify-full",
    },
    # SQL Server is rendered, linted and unit-tested here, never run against a live server.
    "database_sqlserver": {"source_type": "database", "db_engine": "sqlserver", "db_host": "sql.example.com"},
    "database_full_reads_only": {"source_type": "database", "incremental_column": "", "page_size": 20000},
    "file_defaults_local_csv": {"source_type": "file"},
    "file_local_tsv_no_header_latin1": {
        "source_type": "file",
        "csv_delimiter": "tab",
        "csv_quote": "'",
        "csv_header": False,
        "csv_encoding": "latin-1",
        "file_pattern": "exports/**/*.tsv",
        "primary_key": "_file,_line",
    },
    "file_local_jsonl_tables_by_pattern": {
        "source_type": "file",
        "file_format": "jsonl",
        "file_tables": [
            {"table": "orders", "pattern": "orders_*.jsonl", "primary_key": "order_id"},
            {"table": "customers", "pattern": "customers_*.jsonl", "primary_key": "region, customer_id"},
        ],
    },
    "file_local_parquet": {"source_type": "file", "file_format": "parquet"},
    "file_s3_csv": {"source_type": "file", "file_storage": "s3", "s3_prefix": "incoming/", "primary_key": "id"},
    "file_s3_parquet_endpoint": {
        "source_type": "file",
        "file_storage": "s3",
        "file_format": "parquet",
        "s3_endpoint_url": "https://minio.example.com:9000",
    },
    "file_sftp_json_password": {"source_type": "file", "file_storage": "sftp", "file_format": "json"},
    "file_sftp_jsonl_private_key": {
        "source_type": "file",
        "file_storage": "sftp",
        "file_format": "jsonl",
        "sftp_auth": "private_key",
        "file_pattern": "*.jsonl.gz",
    },
    "file_xlsx_named_sheet_header_on_row_4": {
        "source_type": "file",
        "file_format": "xlsx",
        "xlsx_sheet": "Q1 'Sales' & returns",
        "xlsx_header_row": "4",
        "file_pattern": "reports/*.xlsx",
        "primary_key": "order id",
    },
    "file_sftp_avro_key_id": {
        "source_type": "file",
        "file_storage": "sftp",
        "file_format": "avro",
        "primary_key": "id",
    },
    "file_gcs_avro_prefix": {
        "source_type": "file",
        "file_storage": "gcs",
        "file_format": "avro",
        "gcs_prefix": "exports/daily/",
        "primary_key": "id",
    },
    "file_azure_xlsx_prefix": {
        "source_type": "file",
        "file_storage": "azure",
        "file_format": "xlsx",
        "azure_prefix": "finance/",
        "xlsx_header_row": "2",
    },
    "file_ftps_parquet": {"source_type": "file", "file_storage": "ftps", "file_format": "parquet", "primary_key": "id"},
    "file_ftp_csv_semicolons_in_a_folder_with_spaces": {
        "source_type": "file",
        "file_storage": "ftp",
        "csv_delimiter": ";",
        "remote_path": "/Vendor Drops/daily",
        "file_pattern": "**/export_*.csv.gz",
    },
    "several_endpoints": {
        **OTHER_API,
        "auth_method": "bearer",
        "endpoints": [
            {
                "path": "/orders",
                "table": "orders",
                "primary_key": "id",
                "incremental_field": "updated_at",
                "incremental_filter": "updated_since={cursor}",
                "params": {"status": "any"},
            },
            {"path": "/customers", "table": "customers", "primary_key": "account_id, id", "incremental_field": ""},
            {"path": "/events", "table": "events", "records_path": "events", "primary_key": "event_id"},
        ],
    },
}


# Realistic answers for real APIs, with the hazards they bring: key names that collide with sample fields (`name`,
# `id`, `type`, `value`), a key that is also the incremental field, flattened nested fields, and values that need
# escaping in Python, TOML and Markdown (quotes, backslashes, `\.`, unicode, `$`, `@`, brackets) or are long.
LONG_SOURCE_NAME = (
    'Contoso "People & Places" directory – Zürich office’s HR feed (users, groups, café O\'Brien\\Weekly)'
)
REALISTIC_VARIANTS: dict[str, dict] = {
    # Microsoft Graph (OData): $top pages, @odata.nextLink holds the next URL, records under `value`.
    "realistic_rest_msgraph_odata": {
        "source_name": LONG_SOURCE_NAME,
        "connector_name": "contoso_people_directory",
        "base_url": "https://graph.microsoft.com/v1.0",
        "endpoint_path": "/users",
        "table_name": "users",
        "records_path": "value",
        "primary_key": "id",
        "pagination": "next_url",
        "next_url_path": r"@odata\.nextLink",
        "page_size_param": "$top",
        "incremental_field": "lastModifiedDateTime",
        "incremental_filter": "$filter=lastModifiedDateTime ge {cursor}",
        "record_order": "unknown",
        "auth_method": "oauth2_client_credentials",
        "oauth2_token_url": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        "oauth2_scope": "https://graph.microsoft.com/.default",
        "extra_headers": {
            "ConsistencyLevel": "eventual",
            "Prefer": 'odata.maxpagesize=999, outlook.timezone="W. Europe Standard Time", odata.track-changes',
        },
        "extra_params": {
            "$select": "id,displayName,mail,userPrincipalName,department,jobTitle,officeLocation,lastModifiedDateTime",
            "$count": "true",
            "@search": '"displayName:Zoë" OR "mail:o\'brien@contoso.com"',
        },
    },
    # JSON:API: page[number]/page[size], records under `data`, the timestamp nested in `attributes`.
    "realistic_rest_jsonapi_brackets": {
        "source_name": "Storefront JSON:API articles",
        "base_url": "https://shop.example.com/jsonapi",
        "endpoint_path": "/node/article",
        "records_path": "data",
        "primary_key": "id",
        "pagination": "page_number",
        "page_param": "page[number]",
        "page_size_param": "page[size]",
        "total_pages_path": "meta.page.total_pages",
        "incremental_field": "attributes_updated_at",
        "incremental_filter": "filter[updated_at][gte]={cursor}",
        "auth_method": "api_key",
        "api_key_location": "header",
        "api_key_name": "X-Api-Key",
        "extra_headers": {"Accept": "application/vnd.api+json"},
        "extra_params": {"sort": "attributes.updated_at", "fields[node--article]": "title,body,updated_at"},
    },
    # GitHub: the organisation's repositories read in full, and each one's issues from that repository's own cursor,
    # at a path filled from two fields of the repository, one of them nested.
    "realistic_rest_github_repos_and_their_issues": {
        "source_name": "GitHub repositories and issues of octo-org",
        "base_url": "https://api.github.com",
        "endpoint_path": "/orgs/octo-org/repos",
        "records_path": "",
        "primary_key": "id",
        "pagination": "link_header",
        "page_size_param": "per_page",
        "incremental_field": "",
        "child_endpoint_path": "/repos/{owner.login}/{name}/issues",
        "child_table_name": "repo_issues",
        "child_records_path": "",
        "child_primary_key": "number",
        "child_incremental_field": "updated_at",
        "child_incremental_filter": "since={cursor}",
        "auth_method": "bearer",
        "extra_headers": {"Accept": "application/vnd.github+json"},
    },
    # Two children of one incremental parent from an answers file, one keyed by two fields, nested objects as JSON.
    "realistic_rest_customers_with_two_children": {
        "source_name": "CRM customers, addresses and notes",
        "base_url": "https://crm.example.com/api/v3",
        "pagination": "cursor",
        "next_cursor_path": "paging.next.after",
        "cursor_param": "after",
        "flatten_nested": False,
        "record_order": "ascending",
        "endpoints": [
            {
                "path": "/customers",
                "table": "customers",
                "records_path": "results",
                "primary_key": "id",
                "incremental_field": "updatedAt",
                "incremental_filter": "updated_after={cursor:epoch_ms}",
            },
            {
                "path": "/customers/{id}/addresses",
                "table": "customer_addresses",
                "parent": "customers",
                "records_path": "results",
                "primary_key": "kind,line",
                "incremental_field": "",
            },
            {
                "path": "/customers/{id}/notes",
                "table": "customer_notes",
                "parent": "customers",
                "records_path": "results",
                "primary_key": "id",
                "incremental_field": "createdAt",
                "incremental_filter": "created_after={cursor:%Y-%m-%d}",
            },
        ],
    },
    # Notion's database query: POST, start_cursor and page_size in the body, the filter nested in it beside a fixed
    # one, a body with quotes, unicode and an empty list.
    "realistic_rest_notion_post_cursor_body": {
        "source_name": "Notion tasks database",
        "base_url": "https://api.notion.com/v1",
        "endpoint_path": "/databases/668d797c-76fa-4934-9b05-ad288df2d136/query",
        "table_name": "tasks",
        "request_method": "POST",
        "request_body": {
            "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
            "filter": {"and": [{"property": "Status", "status": {"does_not_equal": 'Won\'t "do" – café'}}]},
            "filter_properties": [],
        },
        "records_path": "results",
        "primary_key": "id",
        "pagination": "cursor",
        "cursor_param": "start_cursor",
        "next_cursor_path": "next_cursor",
        "has_more_path": "has_more",
        "page_size_param": "page_size",
        "incremental_field": "last_edited_time",
        "incremental_filter": "filter.timestamp_after={cursor}",
        "record_order": "ascending",
        "auth_method": "bearer",
        "extra_headers": {"Notion-Version": "2022-06-28"},
    },
    # HubSpot's CRM search: POST, offset paging with `after` and `limit`, the filter a JSON list with the cursor in
    # epoch milliseconds, and numbers and booleans in the fixed body.
    "realistic_rest_hubspot_post_json_filter": {
        "source_name": "HubSpot contacts",
        "base_url": "https://api.hubapi.com",
        "endpoint_path": "/crm/v3/objects/contacts/search",
        "request_method": "POST",
        "request_body": {
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["email", "firstname", "lastmodifieddate"],
            "archived": False,
            "weight": 1.5,
        },
        "records_path": "results",
        "primary_key": "id",
        "pagination": "offset",
        "offset_param": "after",
        "page_size_param": "limit",
        "total_path": "total",
        "incremental_field": "properties.lastmodifieddate",
        "incremental_filter": (
            'filterGroups=[{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", '
            '"value": "{cursor:epoch_ms}"}]}]'
        ),
        "record_order": "ascending",
        "auth_method": "oauth2_refresh_token",
        "oauth2_token_url": "https://api.hubapi.com/oauth/v1/token",
    },
    # GitHub labels: keyed by `name`, the body is the list, Link headers page it, no timestamp to filter on.
    "realistic_rest_github_labels_key_is_name": {
        "source_name": "GitHub labels of octo-org/octo-repo",
        "base_url": "https://api.github.com",
        "endpoint_path": "/repos/octo-org/octo-repo/labels",
        "table_name": "labels",
        "records_path": "",
        "primary_key": "name",
        "pagination": "link_header",
        "page_size_param": "per_page",
        "incremental_field": "",
        "auth_method": "bearer",
        "extra_headers": {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    },
    # A DNS provider: records keyed by (type, value), cursor pages, a regular expression with `\.` in a parameter.
    "realistic_rest_dns_key_type_value": {
        "source_name": "DNS records of example.com",
        "base_url": "https://dns.example.net/api/v4",
        "endpoint_path": "/zones/example.com/dns_records",
        "table_name": "dns_records",
        "records_path": "result",
        "primary_key": "type, value",
        "pagination": "cursor",
        "cursor_param": "cursor",
        "next_cursor_path": "result_info.cursor",
        "page_size_param": "per_page",
        "incremental_field": "modified_on",
        "incremental_filter": "modified_since={cursor}",
        "auth_method": "bearer",
        "extra_params": {"name.regex": r"^(www|api)\.example\.com$", "match": "all", "comment.contains": "C:\\zones\\"},
    },
    # Plausible-like daily statistics: one row per day, so the key is also the incremental field.
    "realistic_rest_daily_stats_key_is_cursor": {
        "source_name": "Plausible daily stats",
        "base_url": "https://plausible.io",
        "endpoint_path": "/api/v1/stats/timeseries",
        "table_name": "daily_stats",
        "records_path": "results",
        "primary_key": "date",
        "pagination": "none",
        "incremental_field": "date",
        "incremental_filter": "date={cursor},2099-12-31",
        "auth_method": "bearer",
        "extra_params": {
            "site_id": "example.com",
            "period": "custom",
            "metrics": "visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events",
            "filters": 'visit:country_name=="Côte d\'Ivoire";event:page==/blog/**',
        },
    },
    # An ads reporting API: rows keyed by five dimensions, one of them the date the sync resumes from.
    "realistic_rest_ads_report_wide_key_holds_cursor": {
        "source_name": "Ads campaign performance report",
        "base_url": "https://ads.example.com/api/v15",
        "endpoint_path": "/customers/1234567890/reports/campaign_performance",
        "table_name": "campaign_performance",
        "records_path": "results",
        "primary_key": (
            "segments_date, campaign_resource_name, ad_group_resource_name, segments_device, segments_ad_network_type"
        ),
        "pagination": "cursor",
        "cursor_param": "pageToken",
        "next_cursor_path": "nextPageToken",
        "page_size_param": "pageSize",
        "incremental_field": "segments_date",
        "incremental_filter": "where=segments.date >= '{cursor}'",
        "auth_method": "oauth2_client_credentials",
        "extra_headers": {"developer-token": "INSERT_DEVELOPER_TOKEN", "login-customer-id": "1234567890"},
    },
    # Salesforce SOQL through the query endpoint: a long query parameter with quotes, a backslash and unicode.
    "realistic_rest_salesforce_soql": {
        "source_name": "Salesforce accounts",
        "base_url": "https://contoso.my.salesforce.com",
        "endpoint_path": "/services/data/v60.0/query",
        "table_name": "accounts",
        "records_path": "records",
        "primary_key": "Id",
        "pagination": "next_url",
        "next_url_path": "nextRecordsUrl",
        "page_size_param": "",
        "incremental_field": "LastModifiedDate",
        "incremental_filter": "",
        "auth_method": "bearer",
        "extra_headers": {"Sforce-Query-Options": "batchSize=2000", "X-Note": 'Ünïcödé \\ "quoted" $HOME @me'},
        "extra_params": {
            "q": "SELECT Id, Name, BillingCity, LastModifiedDate FROM Account "
            "WHERE Name LIKE 'O\\'Brien%' AND BillingCity = 'Zürich' ORDER BY LastModifiedDate ASC",
        },
    },
    # Shopify-like GraphQL: orders keyed by `name` ("#1001"), a query string argument with escaped quotes; header
    # values stay within Latin-1, the only characters HTTP/1.1 headers carry.
    "realistic_graphql_shopify_orders": {
        **GRAPHQL,
        "source_name": 'Shopify "Plus" orders – Zürich store',
        "graphql_url": "https://contoso.myshopify.com/admin/api/2024-10/graphql.json",
        "graphql_query": (
            "query Orders($first: Int!, $after: String, $since: DateTime) {\n"
            '  orders(first: $first, after: $after, query: "tag:\\"VIP\\" AND email:*@example.com",'
            " sortKey: UPDATED_AT, updatedAtMin: $since) {\n"
            "    edges { node { name id updatedAt totalPriceSet { shopMoney { amount currencyCode } } } }\n"
            "    pageInfo { hasNextPage endCursor }\n"
            "  }\n"
            "}"
        ),
        "table_name": "orders",
        "records_path": "orders.edges",
        "primary_key": "name",
        "incremental_field": "updatedAt",
        "auth_method": "api_key",
        "api_key_location": "header",
        "api_key_name": "X-Shopify-Access-Token",
        "extra_headers": {"X-Request-Source": 'fivetran "connector" café'},
    },
    # Two queries of a GitHub-like API: issues keyed by (type, value), and daily counts keyed by their date, which is
    # also their cursor.
    "realistic_graphql_key_is_cursor_and_type_value": {
        **GRAPHQL,
        "graphql_url": "https://api.github.com/graphql",
        "graphql_query": RELAY_QUERY,
        "records_path": "issues.edges",
        "primary_key": "type, value",
        "incremental_field": "updatedAt",
        "graphql_queries": [
            {"table": "issues", "query": RELAY_QUERY, "records_path": "issues.edges", "primary_key": "type, value"},
            {
                "table": "daily_counts",
                "query": RELAY_QUERY.replace("issues(", "dailyCounts("),
                "records_path": "dailyCounts.edges",
                "primary_key": "updatedAt",
                "incremental_field": "updatedAt",
            },
        ],
    },
    # Vendor drops: tab-separated files in folders with spaces and brackets, keyed by (type, name).
    "realistic_file_tsv_brackets_key_type_name": {
        "source_type": "file",
        "source_name": 'Vendor "Acme" drops – Café Zürich',
        "file_pattern": "Acme Drops/report_[0-9][0-9][0-9][0-9]-*.tsv",
        "file_table": "acme_reports",
        "csv_delimiter": "\\t",
        "csv_quote": "'",
        "primary_key": "type, name",
    },
    # Product feeds: a table per pattern, in folders with spaces and parentheses, keyed by `name` and (type, value).
    "realistic_file_jsonl_tables_key_name": {
        "source_type": "file",
        "file_format": "jsonl",
        "file_pattern": "*.jsonl",
        "file_tables": [
            {"table": "products", "pattern": "Products (EU)/products_*.jsonl", "primary_key": "name"},
            {"table": "prices", "pattern": "Prices (EU)/prices_20[0-9][0-9]-*.jsonl", "primary_key": "type, value"},
        ],
    },
    # Databases: table names with spaces and quotes, an odd schema name, a long host name.
    "realistic_database_postgresql_odd_names": {
        "source_type": "database",
        "source_name": 'Northwind "legacy" ERP – O\'Brien & Söhne',
        "db_host": "northwind-replica-01.c9akciq32xyz.eu-central-1.rds.amazonaws.com",
        "db_name": "northwind",
        "db_schema": "Sales & Ops $2024",
        "db_tables": 'Order Details, O\'Brien "x", customers',
        "incremental_column": "Last Modified",
    },
    "realistic_database_mysql_odd_names": {
        "source_type": "database",
        "db_engine": "mysql",
        "db_host": "mysql-primary.internal.eu-west-1.prod.platform.example-company-with-a-long-name.com",
        "db_name": "shop-eu_2024",
        "db_tables": 'Order Details, O\'Brien "x"',
        "incremental_column": "updated_at",
    },
    "realistic_database_sqlserver_odd_names": {
        "source_type": "database",
        "db_engine": "sqlserver",
        "db_host": "sql-ag-listener.corp.contoso.com",
        "db_name": "AdventureWorks2022",
        "db_schema": "Sales [EU]",
        "db_tables": "SalesOrderHeader, Order Details",
        "incremental_column": "ModifiedDate",
    },
}


def run(command: list[str], project) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)


LINE_LENGTH = 120


def variant_id(name: str) -> str:
    """The variant's name after its source type, so that `-k rest_api` or `-m file` selects by it."""
    source = {**VARIANTS, **REALISTIC_VARIANTS}[name].get("source_type", "rest_api")
    short = "rest" if source == "rest_api" else source
    realistic = f"realistic_{short}_"
    if name.startswith(realistic):
        return f"{source}-realistic_{name.removeprefix(realistic)}"
    return f"{source}-{name.removeprefix(short + '_')}"


def lines_too_long_without_a_literal(project: Path) -> list[str]:
    """Lines longer than the line length where no string literal is the reason.

    Generated projects leave line length to `ruff format` (E501 is off, see template/_shared/ruff.toml.jinja): only a
    string literal that holds an answer, which nothing may split, makes a line longer. Code, comments and docstrings
    that grow past it are the template's fault.
    """
    found = []
    for path in sorted(project.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        docstring_lines = {number for node in ast.walk(ast.parse(source)) for number in docstring_line_numbers(node)}
        literal_width: dict[int, int] = defaultdict(int)  # line number -> width of the widest literal on it
        for start, end in string_literal_spans(source):
            if start[0] == end[0]:
                literal_width[start[0]] = max(literal_width[start[0]], end[1] - start[1])
            else:  # a multi-line literal (a query) owns its lines
                for number in range(start[0], end[0] + 1):
                    literal_width[number] = len(lines[number - 1])
        for number, line in enumerate(lines, start=1):
            too_long = len(line) > LINE_LENGTH
            if too_long and (number in docstring_lines or len(line) - literal_width[number] > LINE_LENGTH):
                found.append(f"{path.relative_to(project)}:{number}: {line}")
    return found


def docstring_line_numbers(node: ast.AST) -> range:
    if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not node.body:
        return range(0)
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return range(first.lineno, (first.end_lineno or first.lineno) + 1)
    return range(0)


def string_literal_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every string literal, f-strings included (tokenized in parts from Python 3.12)."""
    spans, fstring_starts = [], []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            spans.append((token.start, token.end))
        elif token.type == getattr(tokenize, "FSTRING_START", None):
            fstring_starts.append(token.start)
        elif token.type == getattr(tokenize, "FSTRING_END", None):
            spans.append((fstring_starts.pop(), token.end))
    return spans


# Fivetran runs connectors on Python 3.10 to 3.14; this template's own tests run on whatever Python it has.
OLDEST_FIVETRAN_PYTHON = "3.10"


def assert_runs_on_the_oldest_fivetran_python(project: Path) -> None:
    """No module, test or task of the project needs a newer Python than Fivetran's oldest (checked by vermin, as
    no such Python runs here), and ruff's target-version says so, so that its upgrade rules never suggest otherwise."""
    ruff_settings = (project / "ruff.toml").read_text()
    target = "py" + OLDEST_FIVETRAN_PYTHON.replace(".", "")
    assert f'target-version = "{target}"' in ruff_settings
    check = run([str(BIN / "vermin"), "--no-tips", "--violations", f"--target={OLDEST_FIVETRAN_PYTHON}-", "."], project)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("name", [*VARIANTS, *REALISTIC_VARIANTS], ids=lambda name: variant_id(name))
def test_variant_is_clean_and_passes_its_own_tests(name, template, tmp_path):
    project = render(template, tmp_path / "project", {**VARIANTS, **REALISTIC_VARIANTS}[name])

    lint = run([str(BIN / "ruff"), "check", "."], project)
    assert lint.returncode == 0, lint.stdout
    assert lines_too_long_without_a_literal(project) == []
    formatting = run([str(BIN / "ruff"), "format", "--check", "--diff", "."], project)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    compiled = run([sys.executable, "-m", "compileall", "-q", "."], project)
    assert compiled.returncode == 0, compiled.stdout
    assert_runs_on_the_oldest_fivetran_python(project)
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-6000:]
    assert " passed" in tests.stdout


@pytest.mark.rest_api
def test_only_the_chosen_code_paths_are_rendered(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["bearer"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "BearerAuth" in code
    assert "OAuth2ClientCredentials" not in code and "ApiKeyAuth" not in code and "HTTPBasicAuth" not in code
    assert "OFFSET_PARAM" in code and "CURSOR_PARAM" not in code and "NEXT_URL_PATH" not in code


@pytest.mark.rest_api
def test_the_offset_restart_window_is_rendered_only_for_an_api_with_an_offset_limit(template, tmp_path):
    limited = render(template, tmp_path / "limited", {**OTHER_API, "max_offset": "10000"})
    unlimited = render(template, tmp_path / "unlimited", VARIANTS["offset_short_page"])
    limited_code = "\n".join(path.read_text() for path in limited.glob("*.py"))
    unlimited_code = "\n".join(path.read_text() for path in unlimited.glob("*.py"))
    assert "MAX_OFFSET = 10000" in limited_code and "RestartFromCursor" in limited_code
    assert "MAX_OFFSET" not in unlimited_code and "RestartFromCursor" not in unlimited_code


# (table, primary key, cursor) of each table, as the answers of these variants name them.
STREAM_DECLARATIONS = {
    "defaults": [("food_enforcement", ["recall_number"], "report_date")],
    "full_sync_no_cursor": [("orders", ["id"], "")],
    "graphql_several_queries": [("issues", ["id"], "updatedAt"), ("pull_requests", ["id"], "updatedAt")],
    "file_local_jsonl_tables_by_pattern": [("orders", ["order_id"], ""), ("customers", ["region", "customer_id"], "")],
}
LIST_STREAMS = """
import json, connector
configuration = json.load(open("configuration.json"))
streams = [[stream.table, list(stream.primary_key), stream.cursor] for stream in connector.streams(configuration)]
schema = [[table["table"], table["primary_key"]] for table in connector.schema(configuration)]
print(json.dumps({"streams": streams, "schema": schema}))
"""


@pytest.mark.parametrize("name", list(STREAM_DECLARATIONS), ids=lambda name: variant_id(name))
def test_every_source_type_declares_its_tables_as_streams(name, template, tmp_path):
    """connector.streams() names each table with its primary key and cursor, whatever the source type: schema() and
    `invoke test` both read it, so tools/local.py knows no source type's own declarations."""
    project = render(template, tmp_path / "project", VARIANTS[name])
    listed = run([sys.executable, "-c", LIST_STREAMS], project)
    assert listed.returncode == 0, listed.stderr
    declared = json.loads(listed.stdout)
    assert declared["streams"] == [list(stream) for stream in STREAM_DECLARATIONS[name]]
    assert declared["schema"] == [[table, key] for table, key, _ in STREAM_DECLARATIONS[name]]
    local = ast.parse((project / "tools" / "local.py").read_text())
    imported = {node.module for node in ast.walk(local) if isinstance(node, ast.ImportFrom)}
    assert imported.isdisjoint({"endpoints", "graphql_queries", "catalog", "sync"}), imported
    assert "getattr" not in ast.unparse(local)


@pytest.mark.rest_api
def test_several_endpoints_become_several_tables(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["several_endpoints"])
    sys.path.insert(0, str(project))
    try:
        namespace: dict = {}
        exec((project / "endpoints.py").read_text(), namespace)
    finally:
        sys.path.remove(str(project))
    endpoints = namespace["ENDPOINTS"]
    assert [(e.table, e.primary_key, e.incremental_field) for e in endpoints] == [
        ("orders", ("id",), "updated_at"),
        ("customers", ("account_id", "id"), ""),
        ("events", ("event_id",), "updated_at"),
    ]
    assert endpoints[0].params == {"status": "any"}
    assert endpoints[2].records_path == "events"


@pytest.mark.rest_api
def test_secrets_are_placeholders_in_the_tracked_configuration(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["oauth2"])
    configuration = (project / "configuration.json").read_text()
    assert '"client_secret": "<CLIENT_SECRET>"' in configuration
    assert "configuration.local.json" in (project / ".gitignore").read_text()
    answers = (project / ".copier-answers.yml").read_text()
    assert "client_secret" not in answers


@pytest.mark.database
def test_a_database_connector_holds_only_its_engine_and_its_connection_settings(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["database_mysql_tables_verify_full"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "pymysql" in code and "psycopg" not in code and "pymssql" not in code
    assert not (project / "api_client.py").exists() and not (project / "pagination.py").exists()
    assert (project / "requirements.txt").read_text().splitlines()[-1] == "PyMySQL==1.2.4"
    configuration = json.loads((project / "configuration.json").read_text())
    assert configuration == {
        "host": "localhost",
        "port": "3306",
        "database": "app",
        "user": "fivetran",
        "password": "<PASSWORD>",
        "schema": "app",
        "tables": "orders, Order Details",
        "tls_mode": "verify-full",
        "connect_timeout": "30",
        "batch_size": "5000",
        "max_concurrency": "1",
        "lookback_minutes": "5",
        "detect_deletes": "false",
    }


@pytest.mark.file
def test_a_file_project_holds_only_its_storage_and_format(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["file_sftp_jsonl_private_key"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "SftpFolder" in code and "paramiko" in code
    assert "boto3" not in code and "LocalFolder" not in code and "pyarrow" not in code and "csv.reader" not in code
    assert not (project / "api_client.py").exists() and not (project / "sample_data").exists()
    assert (project / "requirements.txt").read_text().splitlines()[-1] == "paramiko==5.1.0"
    configuration = (project / "configuration.json").read_text()
    assert '"private_key": "<PRIVATE_KEY>"' in configuration and '"password"' not in configuration


@pytest.mark.file
def test_an_ftps_project_reads_with_the_standard_library_and_asks_for_a_password_and_a_ca(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["file_ftps_parquet"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "FtpFolder" in code and "SessionReusingFtpTls" in code and "paramiko" not in code and "boto3" not in code
    assert (project / "requirements.txt").read_text().splitlines()[-1] == "pyarrow==26.0.1"
    configuration = json.loads((project / "configuration.json").read_text())
    assert configuration["password"] == "<PASSWORD>" and configuration["ca_cert"] == ""
    assert (configuration["port"], configuration["remote_path"]) == ("21", "/upload")


@pytest.mark.file
def test_a_local_text_file_project_needs_no_requirements_txt(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["file_defaults_local_csv"])
    assert not (project / "requirements.txt").exists()
    assert "-r requirements.txt" not in (project / "requirements-dev.txt").read_text()
    assert (project / "sample_data" / "sample.csv").exists()


@pytest.mark.parametrize(
    "name",
    [
        "realistic_rest_github_labels_key_is_name",
        "realistic_rest_daily_stats_key_is_cursor",
        "realistic_graphql_shopify_orders",
        "realistic_file_tsv_brackets_key_type_name",
    ],
)
def test_a_projects_own_tests_fail_when_its_connector_loses_the_key(name, template, tmp_path):
    """The generated tests stay meaningful when key names collide with sample fields or the cursor: a connector
    that writes every record under the same key (here, through a hooks.py that overwrites the key fields) fails them.
    """
    answers = REALISTIC_VARIANTS[name]
    project = render(template, tmp_path / "project", answers)
    key_fields = [field.strip() for field in answers["primary_key"].split(",")]
    hooks = project / "hooks.py"
    source = hooks.read_text()
    assert "    return record\n" in source
    same_key = f"    return {{**record, **dict.fromkeys({key_fields!r}, 'x')}}\n"
    hooks.write_text(source.replace("    return record\n", same_key))

    tests = project_tests(project)
    assert tests.returncode != 0 and " failed" in tests.stdout, tests.stdout[-3000:]


# Answers as people write them for real APIs, and the characters that break naive quoting.
AWKWARD_ANSWERS = [
    "plain",
    "O'Brien",
    'say "hi"',
    '"both" \'kinds\', "more" doubles',
    "C:\\exports\\",
    r"@odata\.nextLink",
    r"^(www|api)\.example\.com$",
    "Zoë – 東京 ✓",
    "$filter=lastModifiedDateTime ge {cursor}",
    "page[size]",
    "line one\nline two\ttabbed\r",
    "\x00\x1f\x7f",
    '"""',
    '""""',
    "{{ not jinja }} {% raw %}",
    "",
]


def copier_jinja() -> SandboxedEnvironment:
    """Jinja as Copier sets it up for this template: rooted at the repository, with the Ansible filters."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(REPO)),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        keep_trailing_newline=True,
    )


@pytest.fixture(scope="module")
def macros():
    """template/_shared/macros.jinja, loaded the way Copier loads it."""
    return copier_jinja().get_template("template/_shared/macros.jinja").module


@pytest.mark.unit
def test_answers_become_python_literals_that_lint_and_format_leave_alone(macros, tmp_path):
    names = [f"ANSWER_{number}" for number in range(len(AWKWARD_ANSWERS))]
    lines = [f"{name} = {macros.py_str(answer)}" for name, answer in zip(names, AWKWARD_ANSWERS, strict=True)]
    lines.append(f"MAPPING = {macros.py_str_dict(dict(zip(AWKWARD_ANSWERS, AWKWARD_ANSWERS, strict=True)))}")
    lines.append(f"KEYS = {macros.py_str_tuple(AWKWARD_ANSWERS, '', len('KEYS = '))}")
    lines.append(f'TEXT = """\n{macros.triple_quoted_text("".join(AWKWARD_ANSWERS))}\n"""')
    lines.append(f"FLAGS = {macros.py_str_tuple([True, False])}")
    source = "\n".join(lines) + "\n"
    (tmp_path / "answers.py").write_text(source)

    namespace: dict = {}
    exec(source, namespace)
    assert [namespace[name] for name in names] == AWKWARD_ANSWERS
    assert namespace["MAPPING"] == dict(zip(AWKWARD_ANSWERS, AWKWARD_ANSWERS, strict=True))
    assert namespace["KEYS"] == tuple(AWKWARD_ANSWERS)
    assert namespace["TEXT"] == "\n" + "".join(AWKWARD_ANSWERS) + "\n"
    assert namespace["FLAGS"] == ("true", "false")
    # The generated projects' own settings.
    settings = copier_jinja().get_template("template/_shared/ruff.toml.jinja").render(source_type="rest_api")
    (tmp_path / "ruff.toml").write_text(settings)
    config = ["--config", str(tmp_path / "ruff.toml")]
    lint = run([str(BIN / "ruff"), "check", *config, "answers.py"], tmp_path)
    assert lint.returncode == 0, lint.stdout
    formatting = run([str(BIN / "ruff"), "format", *config, "--check", "--diff", "answers.py"], tmp_path)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


@pytest.mark.unit
@pytest.mark.parametrize(
    "name",
    ["orderId", "address1", "Order Details", "_id", "__2fa_code", "HTTPCode", "x1y2", "Zoë", "Ångström_Größe", "山田"],
)
def test_the_documents_name_columns_and_tables_as_the_generated_tasks_do(name, macros):
    assert str(macros.fivetran_name(name)) == column_name(name)
    assert str(macros.fivetran_name(name, True)) == table_name(name)


@pytest.mark.parametrize(
    "name",
    ["defaults", "graphql_defaults", "database_postgresql", "file_defaults_local_csv", "file_s3_parquet_endpoint"],
    ids=lambda name: variant_id(name),
)
def test_the_readme_lists_every_file_of_the_project(name, template, tmp_path):
    project = render(template, tmp_path / "project", {**VARIANTS[name], "git_init": False})
    readme = (project / "README.md").read_text()
    table = readme[readme.index("## Files in this project") : readme.index("## Customising")]
    listed = {
        entry.rstrip("/")
        for row in table.splitlines()
        if row.startswith("| `")
        for entry in row.split("|")[1].split("`")[1::2]
    }
    present = {path.name for path in project.iterdir()} - {
        ".git",
        ".gitignore",
        ".copier-answers.yml",
        "README.md",
        "DEPLOYMENT.md",
        "AGENTS.md",
    }
    assert sorted(present - listed) == [], "files the README does not explain"
    assert sorted(listed - present - {"files"}) == [], "the README explains files the project does not have"
