"""Copier's questions: the defaults follow the source (openFDA's only for openFDA's URL), a project made from a URL,
a path and a login alone works, bad answers are refused by name and leave nothing, lists come from answers files."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import BIN, REPO, project_tests, render

pytestmark = [pytest.mark.render]

# A git identity for the commit that git_init makes, whatever the machine's own configuration.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def copier_copy(template, destination, *args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    command = [str(BIN / "copier"), "copy", "--trust", "--defaults", *(["--quiet"] if quiet else []), *args]
    return subprocess.run(
        [*command, str(template), str(destination)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **GIT_IDENTITY},
    )


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def test_defaults_describe_openfda(template, tmp_path):
    project = render(template, tmp_path / "project", {})
    answers = answers_of(project)
    assert answers["connector_name"] == "fda_food_enforcement"
    assert answers["base_url"] == "https://api.fda.gov" and answers["pagination"] == "offset"
    assert answers["endpoint_path"] == "/food/enforcement.json" and answers["records_path"] == "results"
    assert answers["primary_key"] == "recall_number" and answers["incremental_field"] == "report_date"
    assert answers["incremental_filter"] == "search=report_date:[{cursor} TO 99991231]"
    assert answers["extra_params"] == {"sort": "report_date:asc"}
    assert answers["empty_result_404_text"] == "No matches found!" and answers["auth_method"] == "none"
    assert answers["_src_path"] == str(template)  # an absolute path, so `copier update` can find it again


def test_any_other_api_gets_neutral_defaults(template, tmp_path):
    """Enter after another base URL keeps nothing of openFDA's: no endpoint, key, cursor, filter or 404 text."""
    project = render(template, tmp_path / "project", {"base_url": "https://api.acme.com/v1"})
    answers = answers_of(project)
    assert {name: answers.get(name) for name in NEUTRAL} == NEUTRAL
    for not_asked in ("incremental_filter", "record_order", "offset_param", "total_path", "max_offset"):
        assert not_asked not in answers  # no cursor, and no offset pagination
    rendered = "\n".join(path.read_text() for path in project.glob("*.py"))
    assert not re.search(r"recall_number|report_date|enforcement|No matches found", rendered)


NEUTRAL = {
    "source_name": "Acme API",
    "connector_name": "acme_api",
    "endpoint_path": "/records",
    "table_name": "records",
    "records_path": "",
    "primary_key": "id",
    "pagination": "link_header",
    "page_size_param": "per_page",
    "incremental_field": "",
    "extra_params": {},
    "empty_result_404_text": "",
    "auth_method": "none",
}


def test_a_url_a_path_and_a_login_alone_give_a_working_project(template, tmp_path):
    """`copier copy --defaults` with only base_url, endpoint_path and auth_method: the project passes its own lint and
    tests, and is a git repository with everything committed, ready for `copier update`."""
    project = tmp_path / "acme_orders"
    answers = ["base_url=https://api.acme.com/v1", "endpoint_path=/v1/orders", "auth_method=bearer"]
    result = copier_copy(template, project, *(f"--data={one}" for one in answers))
    assert result.returncode == 0, result.stderr

    assert '"/v1/orders"' in (project / "endpoints.py").read_text()
    configuration = json.loads((project / "configuration.json").read_text())
    assert configuration == {
        "base_url": "https://api.acme.com/v1",
        "page_size": "100",
        "max_concurrency": "4",
        "bearer_token": "<BEARER_TOKEN>",
    }
    for check in (["check", "."], ["format", "--check", "."]):
        lint = subprocess.run([str(BIN / "ruff"), *check], cwd=project, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]
    git_status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=project, capture_output=True)
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=project, capture_output=True, text=True)
    assert commits.stdout.strip() == "1"
    assert all(line.startswith(b"!!") for line in git_status.stdout.splitlines())  # only ignored files, e.g. caches


@pytest.mark.parametrize(
    ("graphql_url", "auth_method", "source_name"),
    [
        ("https://api.github.com/graphql", "bearer", "GitHub Issues"),
        ("https://gql.shop.example/graphql", "none", "Shop API"),
    ],
    ids=["github_needs_a_token", "other_api"],
)
def test_graphql_login_follows_the_url(graphql_url, auth_method, source_name, template, tmp_path):
    project = render(template, tmp_path / "project", {"source_type": "graphql", "graphql_url": graphql_url})
    answers = answers_of(project)
    assert answers["auth_method"] == auth_method and answers["source_name"] == source_name
    configuration = json.loads((project / "configuration.json").read_text())
    assert ("bearer_token" in configuration) == (auth_method == "bearer")


def test_connector_name_is_the_slug_of_the_source_name(template, tmp_path):
    project = render(template, tmp_path / "p", {"source_name": "3M  Product-Recalls (EU)"})
    assert answers_of(project)["connector_name"] == "_3m_product_recalls_eu"


def test_data_file_answers_are_used(template, tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("source_name: Acme Orders\nbase_url: https://api.acme.test\nendpoint_path: /v1/orders\n")
    result = copier_copy(template, tmp_path / "project", "--data-file", str(answers))
    assert result.returncode == 0, result.stderr
    assert '"/v1/orders"' in (tmp_path / "project" / "endpoints.py").read_text()


@pytest.mark.parametrize("example", sorted(path.stem for path in (REPO / "examples").glob("*.yml")))
def test_each_example_answers_file_gives_a_project_that_passes_its_own_checks(example, template, tmp_path):
    project = tmp_path / example
    result = copier_copy(template, project, "--data-file", str(REPO / "examples" / f"{example}.yml"))
    assert result.returncode == 0, result.stderr
    for check in (["check", "."], ["format", "--check", "."]):
        lint = subprocess.run([str(BIN / "ruff"), *check], cwd=project, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_numbers_in_an_answers_file_may_be_written_as_numbers(template, tmp_path):
    """Numbers are asked as text; answers files (and answers files of earlier releases) that hold ints still work."""
    answers = tmp_path / "answers.yml"
    answers.write_text("source_type: database\ndb_port: 6543\npage_size: 250\n")
    project = tmp_path / "project"
    result = copier_copy(template, project, "--data-file", str(answers))
    assert result.returncode == 0, result.stderr
    configuration = json.loads((project / "configuration.json").read_text())
    assert configuration["port"] == "6543" and configuration["batch_size"] == "250"
    assert answers_of(project)["db_port"] == "6543"


def test_lists_come_from_answers_files_and_are_recorded(template, tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text(
        "base_url: https://api.acme.test\n"
        "endpoints:\n  - {path: /v1/orders, table: orders}\n  - {path: /v1/customers, table: customers}\n"
    )
    project = tmp_path / "project"
    result = copier_copy(template, project, "--data-file", str(answers))
    assert result.returncode == 0, result.stderr
    assert [e["table"] for e in answers_of(project)["endpoints"]] == ["orders", "customers"]
    endpoints = (project / "endpoints.py").read_text()
    assert '"/v1/orders"' in endpoints and '"/v1/customers"' in endpoints


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["connector_name=Bad-Name"], "connector_name: 'Bad-Name' must match"),
        (["source_name=Acme Orders", "connector_name=Acme-Orders"], "not starting with a digit), e.g. acme_orders"),
        (["base_url=ftp://example.com"], "base_url: 'ftp://example.com' is not an http(s) URL"),
        (["endpoint_path=orders?x=1"], "endpoint_path: 'orders?x=1' must start with /"),
        (["records_path=data..items"], "records_path: 'data..items' is not a dotted path"),
        (["primary_key=id,,name"], "primary_key: give at least one field name"),
        (["page_size=0"], "page_size: must be a positive whole number, e.g. 100; got '0'"),
        (["page_size=ten"], "page_size: must be a positive whole number, e.g. 100; got 'ten'"),
        (["page_size=1e3"], "page_size: must be a positive whole number"),
        (["max_offset=-1"], "max_offset: must be 0 (no limit) or a positive whole number"),
        (["pagination=page_number", "first_page=one"], "first_page: must be a whole number, usually 1 or 0"),
        (["incremental_filter=since=yesterday"], "incremental_filter: 'since=yesterday' must look like name=value"),
        (["extra_params=[1, 2]"], "extra_params: give a YAML mapping"),
        (["extra_params={state: [open, closed]}"], "extra_params.state: give one value"),
        (["extra_headers={X-Team: null}"], "extra_headers.X-Team: give one text value"),
        (["extra_headers={X-Team: Zürich–Nord}"], "extra_headers.X-Team: header values must be Latin-1 text"),
        (["extra_headers={Bad Name: x}"], "extra_headers: 'Bad Name' is not a header name"),
        (["endpoints=[{path: /a, table: Bad}]"], "endpoints[0].table: 'Bad' must match"),
        (["endpoints=[{path: /a, table: a}, {path: /b, table: a}]"], "endpoints: two entries name the same table"),
        (["source_type=database", "db_port=70000"], "db_port: must be between 1 and 65535, a port number such as 5432"),
        (
            ["source_type=database", "db_port=abc"],
            "db_port: must be between 1 and 65535, a port number such as 5432; got 'abc'",
        ),
        (["source_type=database", "db_engine=mysql", "db_port=3306.0"], "db_port: must be between 1 and 65535"),
        (["source_type=database", "page_size=many"], "page_size: must be a positive whole number, e.g. 5000"),
        (["source_type=database", "db_host=db host"], "db_host: 'db host' is not a host name"),
        (["source_type=database", "db_tables=orders,,customers"], "db_tables: an entry is empty"),
        (["source_type=database", "db_tables=orders, orders"], "db_tables: a table is named twice"),
        (["source_type=database", "db_name= "], "db_name: name the database"),
        (
            ["source_type=file", "file_storage=sftp", "sftp_port=x"],
            "sftp_port: must be between 1 and 65535, a port number such as 22; got 'x'",
        ),
        (["source_type=file", "file_tables=[{table: t}]"], "file_tables[0].pattern: give a relative glob"),
        (
            ["source_type=file", "file_storage=local", "file_pattern=/abs/*.csv"],
            "file_pattern: '/abs/*.csv' must be a relative glob",
        ),
        (["source_type=file", "file_storage=local", "file_table=Orders"], "file_table: 'Orders' must match"),
        (
            [
                "source_type=file",
                "file_storage=local",
                "file_tables=[{table: a, pattern: '*.csv'}, {table: a, pattern: '*.txt'}]",
            ],
            "file_tables: two entries",
        ),
        (
            ["source_type=file", "file_storage=local", "file_tables=[{table: a}]"],
            "file_tables[0].pattern: give a relative glob",
        ),
        (["source_type=file", "file_storage=local", "csv_delimiter=;;"], "csv_delimiter: give one character"),
        (
            ["source_type=file", "file_storage=local", "csv_encoding=utf 8"],
            "csv_encoding: 'utf 8' is not an encoding name",
        ),
        (
            ["source_type=file", "file_storage=s3", "s3_bucket=Bad_Bucket"],
            "s3_bucket: 'Bad_Bucket' is not an S3 bucket name",
        ),
        (
            ["source_type=file", "file_storage=s3", "s3_endpoint_url=minio:9000"],
            "s3_endpoint_url: 'minio:9000' is not an http(s) URL",
        ),
        (["source_type=file", "file_storage=sftp", "sftp_port=70000"], "sftp_port: must be between 1 and 65535"),
        (["source_type=file", "file_storage=ftps", "ftp_port=21x"], "ftp_port: must be between 1 and 65535"),
        (["source_type=file", "file_format=xlsx", "xlsx_header_row=0"], "xlsx_header_row: give the row number"),
        (
            ["source_type=file", "file_storage=gcs", "gcs_bucket=My Bucket"],
            "gcs_bucket: 'My Bucket' is not a Cloud Storage",
        ),
        (["source_type=file", "file_storage=ftp", "ftp_host=ftp://x"], "ftp_host: 'ftp://x' is not a host name"),
        (["source_type=graphql", "graphql_queries={table: t}"], "graphql_queries: give a YAML list of mappings"),
        (
            ["source_type=graphql", "incremental_variable=since={cursor:iso}"],
            "incremental_variable: '{cursor:iso}' is not a cursor format",
        ),
        (
            [
                "source_type=graphql",
                "graphql_queries=[{table: a, query: 'query { a { id } }'},"
                " {table: b, query: 'query ($x: ID!) { b(id: $x) { id } }', parent: a, parent_variables: {y: id}}]",
            ],
            "graphql_queries[1].parent_variables: the query declares no $y",
        ),
        (
            [
                "source_type=graphql",
                "graphql_queries=[{table: a, query: 'query { a { id } }'}, {table: b, query: 'query { b { id } }',"
                " parent: a}]",
            ],
            "graphql_queries[1].parent_variables: give a mapping of query variable to parent field",
        ),
        (
            ["source_type=rest_api", "request_method=POST", "pagination=link_header"],
            "pagination: a POST endpoint pages with values in its body (offset, page_number or cursor), not by",
        ),
        (["source_type=rest_api", "request_method=POST", "request_body=[1, 2]"], "request_body: give a mapping"),
        (
            ["source_type=rest_api", "child_endpoint_path=/v1/orders/lines"],
            "child_endpoint_path: '/v1/orders/lines' must start with /, carry no query string and hold at least one",
        ),
        (["source_type=rest_api", "endpoint_path=/v1/{id}/lines"], "and no {placeholder} (a path read for each"),
        (
            [
                "source_type=rest_api",
                "endpoints=[{path: /a, table: a, primary_key: id}, {path: '/a/{id}/b', table: b, parent: c}]",
            ],
            "endpoints[1].parent: 'c' must be the table of an earlier entry that has no parent itself",
        ),
        (
            [
                "source_type=rest_api",
                "endpoints=[{path: /a, table: a, primary_key: id}, {path: /b, table: b, parent: a}]",
            ],
            "endpoints[1].path: '/b' must hold at least one {field} of the parent record",
        ),
        (
            ["source_type=rest_api", "endpoints=[{path: /a, table: a, primary_key: id}, {path: '/a/{id}', table: b}]"],
            "endpoints[1].path: '/a/{id}' holds a {placeholder} but names no parent",
        ),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, list) else None,
)
def test_bad_answers_are_refused_by_name_and_leave_nothing(answers, message, template, tmp_path):
    """`answers` is one bad answer, after the answers that make its question asked."""
    destination = tmp_path / "project"
    result = copier_copy(template, destination, *(f"--data={one}" for one in answers))
    assert result.returncode != 0
    assert message in result.stderr
    assert not destination.exists()


@pytest.mark.parametrize("answer", ["extra_params={state: [all", "extra_headers={X-Id: 42"])
def test_a_yaml_answer_that_does_not_parse_is_refused_and_leaves_nothing(answer, template, tmp_path):
    """Copier 9.19.1 parses a `type: yaml` answer before any validator runs, and refuses one that does not parse with
    the YAML parser's message, which points at the line and column but does not name the question (interactively it
    says "Invalid input" and asks again). An answers file (--data-file) names the file and line instead."""
    destination = tmp_path / "project"
    result = copier_copy(template, destination, f"--data={answer}")
    assert result.returncode != 0
    assert "while parsing a flow" in result.stderr and "line 1, column" in result.stderr
    assert not destination.exists()


def test_the_message_after_copy_says_to_commit_when_the_copy_did_not(template, tmp_path):
    project = tmp_path / "project"
    result = copier_copy(template, project, "--data=git_init=false", quiet=False)
    assert result.returncode == 0, result.stderr
    assert "`copier update` needs it in git with every file committed" in result.stderr
    assert f"cd {project} && git init && git add -A && git commit" in result.stderr
    assert not (project / ".git").exists()


def test_git_init_leaves_an_enclosing_repository_alone(template, tmp_path):
    """A project made inside an existing repository (a monorepo) is committed there by its owner, not re-initialised."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    project = tmp_path / "connectors" / "acme"
    result = copier_copy(template, project, "--data=base_url=https://api.acme.test", quiet=False)
    assert result.returncode == 0, result.stderr
    assert not (project / ".git").exists()
    assert "is inside the git repository" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------- interactive


def interactive_copy(template: Path, destination: Path, *args: str):
    """`copier copy` in a terminal, as a person runs it."""
    pexpect = pytest.importorskip("pexpect")
    environment = {"PATH": os.environ["PATH"], "TERM": "xterm", "HOME": str(destination.parent), **GIT_IDENTITY}
    command = [
        "copy",
        "--trust",
        "--data=git_init=false",
        *args,
        str(template),
        str(destination),
    ]
    return pexpect.spawn(
        str(BIN / "copier"), command, encoding="utf-8", timeout=60, dimensions=(50, 200), env=environment
    )


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_interactive_copy_asks_no_list_and_no_graphql_help_for_rest(template, tmp_path):
    """Pressing Enter at every question: the list questions are not asked, yet recorded (empty) in the answers file;
    the REST questions' help says nothing about GraphQL."""
    import pexpect

    project = tmp_path / "project"
    child = interactive_copy(template, project)
    transcript = []
    while child.expect(["🎤", pexpect.EOF]) == 0:
        transcript.append(child.before)
        child.send("\r")
    transcript.append(child.before)
    child.close()
    shown = plain("".join(transcript))
    assert child.exitstatus == 0, shown[-3000:]
    assert "Dotted path to the list of records in each response body" in shown
    assert "Answers file only" not in shown and "edges" not in shown and "inside the response's `data`" not in shown
    answers = answers_of(project)
    assert answers["endpoints"] == [] and answers["records_path"] == "results"


def test_interactive_bad_number_is_refused_by_name_and_asked_again(template, tmp_path):
    import pexpect

    project = tmp_path / "project"
    child = interactive_copy(template, project, "--defaults", "--ask=page_size")
    child.expect("Records to ask for per page")
    child.send("\x7f" * 5 + "ten\r")
    child.expect("page_size: must be a positive whole number, e.g. 100; got 'ten'")
    child.send("\x7f" * 5 + "50\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert answers_of(project)["page_size"] == "50"
    assert json.loads((project / "configuration.json").read_text())["page_size"] == "50"


@pytest.mark.unit
def test_the_readme_question_reference_names_every_question_and_no_other():
    """The README's table is written by hand; this keeps it from drifting from questions/*.yml."""
    questions = {}
    for path in sorted((REPO / "questions").glob("*.yml")):
        questions.update(yaml.safe_load(path.read_text()))
    asked = {name for name, spec in questions.items() if spec.get("when") is not False}
    readme = (REPO / "README.md").read_text()
    start = readme.index("## Question reference")
    table = readme[start : readme.index("\n## ", start + 1)]
    documented = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            documented |= set(re.findall(r"`([a-z0-9_]+)`", row.split("|")[1]))
    assert sorted(asked - documented) == [], "questions missing from the README's question reference"
    assert sorted(documented - set(questions)) == [], "the README documents questions that do not exist"


@pytest.mark.parametrize(
    ("endpoint_path", "table"),
    [
        ("/food/enforcement.json", "food_enforcement"),
        ("/api/conversations.history", "conversations_history"),
        ("/v1/orders", "orders"),
        ("/api/v2.1/users/search", "users_search"),
        ("/rest/api/3/search", "search"),
        ("/admin/api/2024-01/orders.json", "admin_api_2024_01_orders"),
        ("/v1", "v1"),
        ("/reports/2024/Q1.JSON", "reports_2024_q1"),
        ("/2024_report", "_2024_report"),
    ],
)
def test_the_default_table_name_keeps_every_part_of_the_path_that_names_the_resource(
    endpoint_path, table, template, tmp_path
):
    project = render(template, tmp_path / "p", {"base_url": "https://api.example.com", "endpoint_path": endpoint_path})
    assert answers_of(project)["table_name"] == table
