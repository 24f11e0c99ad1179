"""Fixtures of the template's tests: a committed snapshot of the template, and a sandbox for the Fivetran CLI."""

from __future__ import annotations

import pytest

from tests.harness import snapshot_template, tool_environment


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory):
    return snapshot_template(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture(scope="session")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return tool_environment(tmp_path_factory.mktemp("home"))
