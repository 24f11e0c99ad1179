"""Every generated project carries an AGENTS.md, the file coding assistants read before working in it, and what it
says is true of that project: each `invoke` task and option it names exists in the project's tasks.py, each file it
names exists, the files it calls the owner's are the ones `copier update` skips, and it holds no secret. It is
template-owned, so an owner's edit to it survives `copier update` like an edit to any template file."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import copier
import pytest
import yaml

from tests.harness import REPO, render, snapshot_template
from tests.test_update import git, release, unresolved

pytestmark = [pytest.mark.render]

VARIANTS = {
    "rest_api_defaults": {},
    "rest_api_cursor_oauth2_refresh_token_full_reads": {
        "base_url": "https://api.example.com/v2",
        "endpoint_path": "/orders",
        "records_path": "data",
        "primary_key": "id",
        "incremental_field": "",
        "pagination": "cursor",
        "next_cursor_path": "meta.next",
        "auth_method": "oauth2_refresh_token",
        "oauth2_token_url": "https://api.example.com/oauth/token",
    },
    "graphql_defaults": {"source_type": "graphql"},
    "database_postgresql": {"source_type": "database"},
    "database_mysql_full_reads": {"source_type": "database", "db_engine": "mysql", "incremental_column": ""},
    "file_local_csv": {"source_type": "file"},
    "file_s3_parquet": {"source_type": "file", "file_storage": "s3", "file_format": "parquet"},
}
# Paths AGENTS.md may name that a fresh project does not have yet: local results, the owner's secrets file, the venv,
# the folder `invoke queries` writes, and requirements.txt where the rule is about adding one.
MADE_LATER = {"files/", "files/warehouse.db", "files/state.json", "configuration.local.json", ".venv/", "queries/"}
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^[\w.-]+(/[\w.-]+)*(/|\.(py|json|yml|yaml|md|txt|toml|db|sql))$")


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def project(request, template, tmp_path_factory) -> Path:
    return render(
        template, tmp_path_factory.mktemp(request.param) / "project", {**VARIANTS[request.param], "git_init": False}
    )


def agents_md(project: Path) -> str:
    return (project / "AGENTS.md").read_text(encoding="utf-8")


def defined_tasks(project: Path) -> dict[str, set[str]]:
    """The project's invoke tasks as `invoke` names them (dashes for underscores), each with its options."""
    tasks = {}
    for node in ast.parse((project / "tasks.py").read_text()).body:
        if isinstance(node, ast.FunctionDef) and any(is_task(decorator) for decorator in node.decorator_list):
            arguments = node.args.args[1:] + node.args.kwonlyargs  # the first is invoke's Context
            tasks[node.name.replace("_", "-")] = {"--" + argument.arg.replace("_", "-") for argument in arguments}
    return tasks


def is_task(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == "task"


def named_invocations(text: str) -> list[list[str]]:
    """Each `invoke ...` code span, as the words after `invoke`."""
    return [span.split()[1:] for span in CODE_SPAN.findall(text) if span.split()[0] == "invoke" and " " in span]


def module_table(text: str) -> dict[str, str]:
    """The rows of "How the connector is built": each file it names, with the row's description."""
    section = text[text.index("## How the connector is built") : text.index("## Where changes go")]
    rows = {}
    for row in section.splitlines():
        if row.startswith("| `"):
            name_cell, description = row.split("|")[1:3]
            for name in CODE_SPAN.findall(name_cell):
                rows[name] = description.strip()
    return rows


def skipped_by_updates() -> list[str]:
    """copier.yml's _skip_if_exists: the files `copier update` never rewrites (its first YAML document, the settings;
    the documents after it are !include lines)."""
    settings = (REPO / "copier.yml").read_text().split("\n---\n", 1)[0]
    return yaml.safe_load(settings)["_skip_if_exists"]


def test_every_task_and_option_it_names_exists_in_the_projects_tasks(project):
    tasks = defined_tasks(project)
    invocations = named_invocations(agents_md(project))
    named = {words[0] for words in invocations if words[0] != "--list"}
    assert {"lint", "unit", "test", "verify", "queries", "deploy", "status", "reset"} <= named
    assert sorted(named - set(tasks)) == [], "tasks AGENTS.md names that tasks.py lacks"
    for words in invocations:
        if words[0] != "--list":
            options = {word for word in words[1:] if word.startswith("--")}
            assert options <= tasks[words[0]], f"`invoke {' '.join(words)}`: options tasks.py lacks"
    assert ("columns" in named) == ("columns" in tasks)  # named exactly where the project declares columns


def test_it_names_probe_for_api_projects_only(project):
    text = agents_md(project)
    api = yaml.safe_load((project / ".copier-answers.yml").read_text())["source_type"] in ("rest_api", "graphql")
    invocations = [" ".join(words) for words in named_invocations(text)]
    if api:
        assert "probe" in invocations and "probe --apply" in invocations
        assert "test --fake" in invocations
    else:
        assert "probe" not in text and "--fake" not in text
    assert api == ("probe" in defined_tasks(project))  # and the project has the task exactly then


def test_every_file_it_names_exists_and_every_module_is_explained(project):
    text = agents_md(project)
    table = module_table(text)
    assert sorted(name for name in table if not (project / name).exists()) == []
    named_paths = {span for span in CODE_SPAN.findall(text) if PATH.match(span)}
    later = MADE_LATER | ({"requirements.txt"} if not (project / "requirements.txt").exists() else set())
    assert sorted(name for name in named_paths - later if not (project / name).exists()) == []
    modules = {path.name for path in project.glob("*.py")}
    folders = {f"{path.name}/" for path in project.iterdir() if path.is_dir() and not path.name.startswith(".")}
    assert sorted(modules - set(table)) == [], "modules AGENTS.md does not explain"
    assert sorted(folders - set(table)) == [], "folders AGENTS.md does not explain"


def test_the_owners_files_it_names_are_the_ones_updates_skip(project):
    table = module_table(agents_md(project))
    owners = {name for name, description in table.items() if description.startswith("**owner's**")}
    expected = {"hooks.py", "configuration.json"} | ({"columns.py"} if (project / "columns.py").exists() else set())
    assert owners == expected
    skipped = skipped_by_updates()
    assert owners <= set(skipped)
    assert "AGENTS.md" not in skipped  # template-owned: updates merge into it


def test_it_holds_no_secret_and_nothing_that_stops_the_tasks(project):
    text = agents_md(project)
    configuration = json.loads((project / "configuration.json").read_text())
    secrets = {key: value for key, value in configuration.items() if re.fullmatch(r"<[A-Z0-9_]+>", value)}
    for key, placeholder in secrets.items():
        assert placeholder not in text
        assert f"`CONNECTOR_{key.upper()}`" in text  # where the secret comes from instead
    assert re.findall(r"(?<!CONNECTOR_)<[A-Z][A-Z0-9_]*>", text) == []
    # refuse_unresolved_update() in the project's tools stops every task at a line that starts like a conflict marker.
    assert [line for line in text.splitlines() if line.startswith(("<<<<<<< ", ">>>>>>> "))] == []
    assert 60 <= len(text.splitlines()) <= 130, "AGENTS.md is read on every request: keep it short"


@pytest.mark.slow
@pytest.mark.rest_api
def test_an_owners_edit_to_agents_md_survives_copier_update(tmp_path):
    repo = snapshot_template(tmp_path / "template")
    git(repo, "tag", "1.0.0")
    shared = repo / "template" / "_shared" / "AGENTS.md.jinja"
    shared.write_text(shared.read_text() + "4. A step the template added in 1.1.0.\n")
    release(repo, "1.1.0")
    project = tmp_path / "project"
    copier.run_copy(
        str(repo), str(project), data={"git_init": False}, defaults=True, unsafe=True, quiet=True, vcs_ref="1.0.0"
    )
    agents = project / "AGENTS.md"
    owner_note = "## This team's conventions\n\nAsk #data-platform before adding an endpoint.\n\n"
    agents.write_text(
        agents.read_text().replace("## How the connector is built\n", owner_note + "## How the connector is built\n", 1)
    )
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "owner's conventions for assistants")

    copier.run_update(str(project), defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="1.1.0")

    assert unresolved(project) == []
    text = agents.read_text()
    assert owner_note in text and text.endswith("4. A step the template added in 1.1.0.\n")
    assert "_commit: 1.1.0" in (project / ".copier-answers.yml").read_text()
