"""Fixtures of the template's tests (a committed snapshot of the template, a sandbox for the Fivetran CLI), and the
markers that let a maintainer run a part of the suite:

    pytest -m rest_api            one source type (also graphql, database, file)
    pytest -m "not sync"          the fast tests: no real `fivetran debug`, no fresh virtual environments
    pytest -m "file and not slow"

Each module says what its tests need (`pytestmark`) and, where all its tests are of one source type, which
(`SOURCE_TYPE`); a parametrized test's source type is the prefix of its id (`rest_api-...`, `graphql_relay`, ...).
"""

from __future__ import annotations

import pytest

from tests.harness import snapshot_template, tool_environment

SOURCE_TYPES = ("rest_api", "graphql", "database", "file")
# An id's prefix -> the source type it names; ids of REST variants may say just "rest".
ID_PREFIXES = {"rest_api": "rest_api", "rest": "rest_api", "graphql": "graphql", "database": "database", "file": "file"}
MARKERS = {
    "unit": "runs template code directly, renders no project",
    "render": "renders projects with Copier and runs their lint and own tests",
    "sync": "runs the real Fivetran CLI (fivetran debug or deploy) on rendered projects",
    "slow": "builds fresh virtual environments or template releases: minutes, not seconds",
    "rest_api": "concerns REST API connectors",
    "graphql": "concerns GraphQL connectors",
    "database": "concerns database connectors; their sync tests need PostgreSQL and MariaDB on 127.0.0.1",
    "file": "concerns file connectors",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        source = source_type_of(item)
        if source and not item.get_closest_marker(source):
            item.add_marker(getattr(pytest.mark, source))


def source_type_of(item: pytest.Item) -> str | None:
    """The source type a test concerns: its own marker, its module's SOURCE_TYPE, or its parameter id."""
    for source in SOURCE_TYPES:
        if item.get_closest_marker(source):
            return source
    declared = getattr(item.module, "SOURCE_TYPE", None)
    if declared:
        return declared
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    first = callspec.id.replace("-", "_")
    if first.startswith("source_type="):  # a table of answers: "source_type=file+file_storage=s3+..."
        return first.removeprefix("source_type=").split("+")[0]
    if "source_type=" not in first and "=" in first:
        return "rest_api"  # an answer of the default source type
    for prefix in sorted(ID_PREFIXES, key=len, reverse=True):
        if first == prefix or first.startswith(prefix + "_"):
            return ID_PREFIXES[prefix]
    return None


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory):
    return snapshot_template(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture(scope="session")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return tool_environment(tmp_path_factory.mktemp("home"))
