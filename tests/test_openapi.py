"""`invoke openapi` (openapi/answers.py): Copier answers read from an OpenAPI 3 document.

The documents under tests/data/openapi are modelled on real APIs' published descriptions (Stripe, GitHub, Jira,
Spring Data, Mailchimp, HubSpot, Zendesk). For each, the answers the document gives must be those a person who read
the API's documentation gives (tests/servers/api_shapes.py), and every answer it cannot give must be named on a line
that says what to check. Then, for several of them, the answers file is rendered with Copier as its user would, and
the project's own `invoke test` syncs the fake of that API into DuckDB, where every row must match exactly.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.exact_values import assert_table_exact, declared_columns
from tests.harness import BIN, REPO, invoke, table_name
from tests.servers.api_shapes import RECORDS, SHAPES, RealShape
from tests.servers.rest_api import FakeRestApi

SOURCE_TYPE = "rest_api"
DOCUMENTS = Path(__file__).parent / "data" / "openapi"


def converter() -> ModuleType:
    """openapi/answers.py as a module (openapi/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("openapi_answers", REPO / "openapi" / "answers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


openapi = converter()


@dataclass(frozen=True)
class Case:
    """One document and the list endpoint of it that a fake of tests/servers/api_shapes.py stands in for."""

    document: str
    endpoint: str
    table: str
    path_values: dict[str, str] = field(default_factory=dict)
    # Answers the document cannot give (a line names each); the others must equal what the API's reader answers.
    undetermined: tuple[str, ...] = ()


CASES = {
    "stripe_charges": Case("stripe_charges.json", "/v1/charges", "charges"),
    # GitHub's published description declares no security scheme: the template's default for api.github.com (bearer)
    # stays, and a line says so.
    "github_issues": Case(
        "github_issues.yaml",
        "/repos/{owner}/{repo}/issues",
        "issues",
        {"owner": "acme", "repo": "widgets"},
        ("auth_method",),
    ),
    # Jira's order is a clause of the JQL text, which the document cannot show.
    "jira_issues": Case("jira_issues.json", "/rest/api/3/search", "search", undetermined=("record_order",)),
    "spring_products": Case("spring_products.json", "/api/products", "products"),
    "mailchimp_members": Case(
        "mailchimp_members.yaml", "/lists/{list_id}/members", "members", {"list_id": "9e67587f52"}
    ),
    "hubspot_contacts": Case("hubspot_contacts.json", "/crm/v3/objects/contacts", "crm_v3_objects_contacts"),
    "zendesk_tickets": Case("zendesk_tickets.yaml", "/api/v2/tickets.json", "tickets"),
}


def arguments(case: Case) -> list[str]:
    path_values = [f"--path-param={name}={value}" for name, value in case.path_values.items()]
    return [str(DOCUMENTS / case.document), "--endpoint", case.endpoint, *path_values]


def write_answers(case: Case, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], list[str]]:
    """The answers file the tool writes for the case, read back, and the lines it printed for the user to check."""
    code = openapi.main([*arguments(case), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    return yaml.safe_load(out.read_text()), [line for line in printed.out.splitlines() if line.startswith("check ")]


def expected_answers(real: RealShape) -> dict[str, str]:
    return {**real.answers, **real.auth_answers}


@pytest.mark.unit
@pytest.mark.parametrize("name", CASES)
def test_a_document_gives_the_answers_a_reader_of_the_api_docs_gives(name, tmp_path, capsys):
    case, real = CASES[name], SHAPES[name]
    answers, checks = write_answers(case, tmp_path / "answers.yml", capsys)

    determined = {key: value for key, value in expected_answers(real).items() if key not in case.undetermined}
    assert {key: answers.get(key) for key in determined} == determined
    for key in case.undetermined:
        assert any(line.startswith(f"check {key}:") for line in checks), checks
    # The document's server and path are the fake's path: the answers reach the same endpoint.
    assert urlsplit(answers["base_url"]).path + answers["endpoint_path"] == real.shape.path
    assert answers.get("table_name", openapi.default_table(answers["endpoint_path"])) == case.table
    assert answers["source_type"] == "rest_api"
    # The checks are also in the file, for whoever reads it later.
    text = (tmp_path / "answers.yml").read_text()
    assert all(line.removeprefix("check ") in text for line in checks)


@pytest.mark.unit
def test_without_an_endpoint_the_list_endpoints_are_listed_with_what_was_read(capsys):
    assert openapi.main([str(DOCUMENTS / "stripe_charges.json")]) == 0
    listing = capsys.readouterr().out
    for path in ("/v1/charges (GetCharges)", "/v1/charges/search", "/v1/customers"):
        assert f"GET {path}" in listing
    assert "/v1/charges/{charge}" not in listing  # one charge, not a list
    assert "pagination: cursor: starting_after = the last record's id, has more at has_more; page size limit" in listing
    assert "incremental: created, filter created[gte]={cursor}, order descending" in listing
    # Schema types are reported for columns.py (`invoke columns`), not turned into answers.
    assert "created integer (unix-time)" in listing and "metadata object" in listing
    assert "Choose with --endpoint PATH" in listing


@pytest.mark.unit
def test_endpoints_that_page_alike_become_the_endpoints_list(tmp_path, capsys):
    out = tmp_path / "answers.yml"
    code = openapi.main(
        [
            str(DOCUMENTS / "github_issues.yaml"),
            "--endpoint=/repos/{owner}/{repo}/issues",
            "--endpoint=pulls/list",  # an operationId chooses too
            "--path-param=owner=acme",
            "--path-param=repo=widgets",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    answers = yaml.safe_load(out.read_text())
    ascending = {"sort": "updated", "direction": "asc"}
    assert answers["endpoints"] == [
        {
            "path": "/repos/acme/widgets/issues",
            "table": "issues",
            "records_path": "",
            "primary_key": "id",
            "incremental_field": "updated_at",
            "incremental_filter": "since={cursor}",
            "params": ascending,
        },
        {
            "path": "/repos/acme/widgets/pulls",
            "table": "pulls",
            "records_path": "",
            "primary_key": "id",
            "incremental_field": "updated_at",
            "incremental_filter": "",
            "params": ascending,
        },
    ]
    assert answers["pagination"] == "link_header" and answers["record_order"] == "ascending"
    assert "extra_params" not in answers  # each endpoint carries its own sort


@pytest.mark.render
def test_an_endpoints_list_from_a_document_is_taken_by_copier(template, tmp_path, capsys):
    """The template's validator accepts the list, and the project reads both endpoints, each with its own sort."""
    out = tmp_path / "answers.yml"
    document = str(DOCUMENTS / "github_issues.yaml")
    values = ["--path-param=owner=acme", "--path-param=repo=widgets"]
    assert (
        openapi.main([document, "--endpoint=issues/list-for-repo", "--endpoint=pulls/list", *values, "--out", str(out)])
        == 0
    )
    capsys.readouterr()
    project = copy_project(template, out, tmp_path / "project")
    read = "import json, endpoints; print(json.dumps([[e.path, e.table, e.params] for e in endpoints.ENDPOINTS]))"
    listed = subprocess.run([sys.executable, "-c", read], cwd=project, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    ascending = {"sort": "updated", "direction": "asc"}
    assert json.loads(listed.stdout) == [
        ["/repos/acme/widgets/issues", "issues", ascending],
        ["/repos/acme/widgets/pulls", "pulls", ascending],
    ]


def copy_project(template: Path, answers: Path, project: Path) -> Path:
    """`copier copy --trust --data-file answers.yml <template> <project>`, as the tool tells its user to run it."""
    command = [str(BIN / "copier"), "copy", "--trust", "--defaults", "--quiet", "--data-file", str(answers)]
    copied = subprocess.run([*command, str(template), str(project)], capture_output=True, text=True, timeout=300)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    return project


@pytest.mark.unit
def test_endpoints_that_page_differently_are_refused_naming_the_difference(tmp_path, capsys):
    document = str(DOCUMENTS / "stripe_charges.json")
    out = tmp_path / "answers.yml"
    code = openapi.main([document, "--endpoint", "/v1/charges", "--endpoint", "/v1/charges/search", "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "differ in pagination" in error
    assert "GET /v1/charges: cursor_param=starting_after" in error
    assert "GET /v1/charges/search: cursor_param=page, next_cursor_path=next_page" in error


@pytest.mark.unit
def test_a_path_parameter_without_a_value_is_refused_naming_the_option(capsys):
    code = openapi.main([str(DOCUMENTS / "github_issues.yaml"), "--endpoint", "/repos/{owner}/{repo}/issues"])
    assert code == 2
    assert "--path-param owner=VALUE --path-param repo=VALUE" in capsys.readouterr().err


def write_document(folder: Path, document: dict[str, Any], name: str = "openapi.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def list_operation(schema: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema}}
    return {"get": {"parameters": parameters or [], "responses": {"200": {"description": "OK", "content": content}}}}


WIDGET = {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string"}}}


@pytest.mark.unit
def test_what_the_document_cannot_tell_is_left_to_the_defaults_and_named(tmp_path, capsys):
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Widgets", "version": "1"},
        "servers": [{"url": "https://widgets.example.com/v1"}],
        "paths": {"/widgets": list_operation({"type": "array", "items": WIDGET})},
    }
    answers, checks = write_answers(
        Case(str(write_document(tmp_path, document)), "/widgets", "widgets"), tmp_path / "a.yml", capsys
    )
    assert answers["primary_key"] == "id" and answers["incremental_field"] == ""
    assert "pagination" not in answers and "auth_method" not in answers  # the template's defaults stay
    for answer in ("primary_key", "pagination", "incremental_field", "auth_method"):
        assert any(line.startswith(f"check {answer}:") for line in checks), checks


@pytest.mark.unit
def test_a_schema_it_does_not_follow_is_named_by_its_place(tmp_path, capsys):
    either = {"oneOf": [{"type": "array", "items": WIDGET}, {"type": "object", "properties": {"items": WIDGET}}]}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Widgets", "version": "1"},
        "servers": [{"url": "https://widgets.example.com"}],
        "paths": {
            "/widgets": list_operation(either),
            "/gadgets": list_operation({"$ref": "gadgets.yaml#/components/schemas/GadgetList"}),
        },
    }
    path = str(write_document(tmp_path, document))
    assert openapi.main([path]) == 0
    listing = capsys.readouterr().out
    place = "#/paths/~1widgets/get/responses/200/content/application~1json/schema/oneOf"
    assert f"GET /widgets: not read: a response that is oneOf 2 schemas at {place}" in listing
    assert "GET /gadgets: not read: the reference 'gadgets.yaml#/components/schemas/GadgetList' to another" in listing
    assert openapi.main([path, "--endpoint", "/widgets"]) == 2
    assert place in capsys.readouterr().err


OAUTH2 = {
    "type": "oauth2",
    "flows": {
        "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {"read": "", "write": ""}},
        "authorizationCode": {
            "authorizationUrl": "https://id.example.com/authorize",
            "tokenUrl": "https://id.example.com/token",
            "scopes": {"read": ""},
        },
    },
}
AUTH_CASES = {
    "oauth2_client_credentials_relative_token_url": (
        {"app": OAUTH2},
        [{"app": ["read"]}],
        "",
        {
            "auth_method": "oauth2_client_credentials",
            "oauth2_token_url": "https://widgets.example.com/oauth/token",
            "oauth2_scope": "read",
        },
    ),
    "oauth2_authorization_code": (
        {"user": {"type": "oauth2", "flows": {"authorizationCode": OAUTH2["flows"]["authorizationCode"]}}},
        [{"user": ["read"]}],
        "",
        {
            "auth_method": "oauth2_refresh_token",
            "oauth2_token_url": "https://id.example.com/token",
            "oauth2_scope": "read",
        },
    ),
    "api_key_in_query": (
        {"key": {"type": "apiKey", "in": "query", "name": "api_token"}},
        [{"key": []}],
        "",
        {"auth_method": "api_key", "api_key_location": "query", "api_key_name": "api_token"},
    ),
    "basic_with_a_password": (
        {"basic": {"type": "http", "scheme": "basic", "description": "Any user name, your API key as the password."}},
        [{"basic": []}],
        "",
        {"auth_method": "basic"},
    ),
    "simple_scheme_preferred_to_oauth2": (
        {"app": OAUTH2, "token": {"type": "http", "scheme": "bearer"}},
        [{"app": ["read"]}, {"token": []}],
        "",
        {"auth_method": "bearer"},
    ),
    "chosen_with_auth": (
        {"app": OAUTH2, "token": {"type": "http", "scheme": "bearer"}},
        [{"app": ["read"]}, {"token": []}],
        "app",
        {"auth_method": "oauth2_client_credentials", "oauth2_scope": "read"},
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize("name", AUTH_CASES)
def test_security_schemes_become_the_auth_answers(name, tmp_path, capsys):
    schemes, security, choice, expected = AUTH_CASES[name]
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Widgets", "version": "1"},
        "servers": [{"url": "https://widgets.example.com/v1"}],
        "security": security,
        "components": {"securitySchemes": schemes},
        "paths": {"/widgets": list_operation({"type": "array", "items": WIDGET})},
    }
    path = write_document(tmp_path, document, "openapi.yaml")
    out = tmp_path / "answers.yml"
    assert openapi.main([str(path), "--endpoint", "/widgets", "--auth", choice, "--out", str(out)]) == 0
    answers = yaml.safe_load(out.read_text())
    assert {key: answers.get(key) for key in expected} == expected
    if len(security) > 1 and not choice:
        assert "check auth_method: the operation accepts app, token; chose one" in capsys.readouterr().out


@pytest.mark.unit
def test_hubspot_oauth2_is_chosen_with_its_token_url_and_scope(tmp_path, capsys):
    out = tmp_path / "answers.yml"
    document = str(DOCUMENTS / "hubspot_contacts.json")
    assert (
        openapi.main([document, "--endpoint", "/crm/v3/objects/contacts", "--auth", "oauth2", "--out", str(out)]) == 0
    )
    answers = yaml.safe_load(out.read_text())
    assert answers["auth_method"] == "oauth2_refresh_token"
    assert answers["oauth2_token_url"] == "https://api.hubapi.com/oauth/v1/token"
    assert answers["oauth2_scope"] == "crm.objects.contacts.read"


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder's files over HTTP on 127.0.0.1; yields the base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.unit
def test_a_document_is_read_from_a_url_and_a_relative_server_resolved_against_it(tmp_path, monkeypatch, capsys):
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Pet Store", "version": "1"},
        "servers": [{"url": "/api/v3"}],
        "paths": {
            "/pets": list_operation({"type": "object", "properties": {"data": {"type": "array", "items": WIDGET}}})
        },
    }
    (tmp_path / "specs").mkdir()
    write_document(tmp_path / "specs", document, "openapi.yaml")
    with served(tmp_path) as url:
        assert openapi.main([f"{url}/specs/openapi.yaml", "--endpoint", "/pets", "--out", str(tmp_path / "a.yml")]) == 0
        answers = yaml.safe_load((tmp_path / "a.yml").read_text())
        assert answers["base_url"] == f"{url}/api/v3" and answers["records_path"] == "data"
        # The same document from a file cannot say where the API is: a placeholder, and a line that says so.
        assert openapi.main([str(tmp_path / "specs" / "openapi.yaml"), "--endpoint", "/pets"]) == 0
        assert "check base_url: the document names a relative server URL (/api/v3)" in capsys.readouterr().err


@pytest.mark.unit
def test_a_swagger_2_document_is_refused_with_what_to_do(tmp_path, capsys):
    path = write_document(tmp_path, {"swagger": "2.0", "info": {"title": "Old", "version": "1"}, "paths": {}})
    assert openapi.main([str(path)]) == 2
    assert "convert it to OpenAPI 3 first" in capsys.readouterr().err


@pytest.mark.unit
def test_the_invoke_task_writes_the_same_answers_file(tmp_path, capsys):
    case = CASES["mailchimp_members"]
    written, _ = write_answers(case, tmp_path / "direct.yml", capsys)
    command = [sys.executable, "-m", "invoke", "openapi", *arguments(case), "--out", str(tmp_path / "task.yml")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load((tmp_path / "task.yml").read_text()) == written
    assert "Next: copier copy --trust --data-file" in result.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "invoke", "openapi", str(DOCUMENTS / "stripe_charges.json"), "--endpoint", "/nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "not a list endpoint of this document" in refused.stderr


# ---------------------------------------------------------------------------------------------------- end to end


def later_changes(real: RealShape) -> list[dict[str, Any]]:
    """A new record and a changed one (the first record's key, newer values), both after every cursor so far."""
    newer = real.records(RECORDS + 2)[RECORDS:]
    first = real.records(1)[0]
    return [newer[0], {**newer[1], **{key: first[key] for key in real.shape.primary_key}}]


@pytest.mark.sync
@pytest.mark.parametrize("name", CASES)
def test_answers_from_a_document_sync_exactly_what_the_api_holds(name, template, tool_env, tmp_path, capsys):
    """The answers file goes to `copier copy --data-file` unchanged; the secrets and the fake's address go where the
    project reads them (CONNECTOR_* variables); its own `invoke test` syncs twice, then `invoke sync` reads a change."""
    case, real = CASES[name], SHAPES[name]
    answers, _ = write_answers(case, tmp_path / "answers.yml", capsys)
    project = copy_project(template, tmp_path / "answers.yml", tmp_path / "project")
    with FakeRestApi(real.shape, real.auth, records=real.records(RECORDS)) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url + urlsplit(answers["base_url"]).path}
        environment.update({f"CONNECTOR_{key.upper()}": value for key, value in real.secrets.items()})
        tested = invoke(project, environment, "test")
        assert tested.returncode == 0, tested.stdout[-5000:] + tested.stderr[-3000:]
        assert "All checks passed." in tested.stdout
        declarations = declared_columns(project)[case.table]
        warehouse_table = table_name(case.table)  # as Fivetran names it: crm_v_3_objects_contacts
        assert_table_exact(project, warehouse_table, server.records(), real.shape.primary_key, declarations)

        for record in later_changes(real):
            server.upsert(record)
        before = len(server.requests)
        synced = invoke(project, environment, "sync")
        assert synced.returncode == 0, synced.stdout[-5000:] + synced.stderr[-3000:]
        assert_table_exact(project, warehouse_table, server.records(), real.shape.primary_key, declarations)
        assert not server.errors, server.errors
        # With a filter from the document, the sync after the change asks the API only for what changed.
        filter_name = answers.get("incremental_filter", "").partition("=")[0]
        assert not filter_name or all(filter_name in log.query for log in server.requests[before:])
    output = tested.stdout + tested.stderr + synced.stdout + synced.stderr
    for key, secret in real.secrets.items():
        assert key == "username" or secret not in output, f"the {key} shows in the output"
