"""Every variant of the template renders into a project that is lint-clean, compiles, and passes its own tests.

The rendered project's tests run its connector against its own local fake of the API (tests/fake_api.py), so
this also shows that a project works offline right after `copier copy`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import BIN, project_tests, render

OTHER_API = {
    "base_url": "https://api.example.com/v2",
    "endpoint_path": "/orders",
    "primary_key": "id",
    "records_path": "data",
    "incremental_field": "updated_at",
    "incremental_filter": "updated_since={cursor}",
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
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "api_key_header": {**OTHER_API, "auth_method": "api_key", "api_key_location": "header", "api_key_name": "X-Key"},
    "api_key_query": {**OTHER_API, "auth_method": "api_key", "api_key_location": "query", "api_key_name": "apikey"},
    "bearer": {**OTHER_API, "auth_method": "bearer"},
    "basic": {**OTHER_API, "auth_method": "basic"},
    "oauth2": {**OTHER_API, "auth_method": "oauth2_client_credentials", "oauth2_scope": "read:orders"},
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


def run(command: list[str], project) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_is_clean_and_passes_its_own_tests(name, template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS[name])

    lint = run([str(BIN / "ruff"), "check", "."], project)
    assert lint.returncode == 0, lint.stdout
    formatting = run([str(BIN / "ruff"), "format", "--check", "--diff", "."], project)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    compiled = run([sys.executable, "-m", "compileall", "-q", "."], project)
    assert compiled.returncode == 0, compiled.stdout
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-6000:]
    assert " passed" in tests.stdout


def test_only_the_chosen_code_paths_are_rendered(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["bearer"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "BearerAuth" in code
    assert "OAuth2ClientCredentials" not in code and "ApiKeyAuth" not in code and "HTTPBasicAuth" not in code
    assert "OFFSET_PARAM" in code and "CURSOR_PARAM" not in code and "NEXT_URL_PATH" not in code


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


def test_secrets_are_placeholders_in_the_tracked_configuration(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["oauth2"])
    configuration = (project / "configuration.json").read_text()
    assert '"client_secret": "<CLIENT_SECRET>"' in configuration
    assert "configuration.local.json" in (project / ".gitignore").read_text()
    answers = (project / ".copier-answers.yml").read_text()
    assert "client_secret" not in answers


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
    }


def test_a_file_project_holds_only_its_storage_and_format(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["file_sftp_jsonl_private_key"])
    code = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert "SftpFolder" in code and "paramiko" in code
    assert "boto3" not in code and "LocalFolder" not in code and "pyarrow" not in code and "csv.reader" not in code
    assert not (project / "api_client.py").exists() and not (project / "sample_data").exists()
    assert (project / "requirements.txt").read_text().splitlines()[-1] == "paramiko==5.1.0"
    configuration = (project / "configuration.json").read_text()
    assert '"private_key": "<PRIVATE_KEY>"' in configuration and '"password"' not in configuration


def test_a_local_text_file_project_needs_no_requirements_txt(template, tmp_path):
    project = render(template, tmp_path / "project", VARIANTS["file_defaults_local_csv"])
    assert not (project / "requirements.txt").exists()
    assert "-r requirements.txt" not in (project / "requirements-dev.txt").read_text()
    assert (project / "sample_data" / "sample.csv").exists()
