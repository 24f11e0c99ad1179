"""The generated project's `invoke test`: two real syncs with checks, refusals that name what to fix; and the
repository's `invoke demo`, which is that run against the bundled openFDA-shaped sample API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import REPO, invoke, render
from tests.servers.rest_api import FakeRestApi, openfda_records, openfda_shape

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"  # but where a test is marked otherwise


def test_invoke_test_syncs_twice_and_reports(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {})
    with FakeRestApi(openfda_shape(), records=openfda_records(120)) as server:
        result = invoke(project, {**tool_env, "CONNECTOR_BASE_URL": server.base_url}, "test")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "All checks passed." in result.stdout
    report = json.loads((project / "files" / "test_report.json").read_text())
    assert report["passed"] is True and report["tables"] == {"food_enforcement": 120}
    assert report["state"]["food_enforcement"]["cursor"] == max(r["report_date"] for r in openfda_records(120))


def test_invoke_test_names_the_likely_cause_of_a_failed_sync(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {})
    with FakeRestApi(openfda_shape(), records=openfda_records(5)) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url + "/wrong-prefix"}
        result = invoke(project, environment, "test", "--skip-unit")
    assert result.returncode != 0
    assert "Likely cause: URL" in result.stdout + result.stderr


def test_tasks_refuse_placeholders_and_name_the_variable(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {"auth_method": "bearer"})
    result = invoke(project, tool_env, "test", "--skip-unit")
    assert result.returncode != 0
    assert "set CONNECTOR_BEARER_TOKEN" in result.stderr


def test_tasks_refuse_unresolved_copier_conflicts(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {})
    (project / "connector.py.rej").write_text("@@ a rejected hunk @@\n")
    hooks = project / "hooks.py"
    hooks.write_text(hooks.read_text() + "<<<<<<< before updating\nx = 1\n=======\nx = 2\n>>>>>>> after updating\n")
    result = invoke(project, tool_env, "test")
    assert result.returncode != 0
    assert "connector.py.rej: rejected update hunk" in result.stderr
    assert "hooks.py:" in result.stderr and "conflict marker" in result.stderr


@pytest.mark.slow
def test_the_demo_syncs_the_sample_api_and_verifies_it(tool_env):
    # The demo installs the project's venv from the package index first (as `make demo` does for a person), so it
    # may use the network that way; the project's own commands then run in the demo's closed sandbox.
    environment = {key: value for key, value in tool_env.items() if "proxy" not in key.lower()}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "demo"], cwd=REPO, env=environment, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "its own requirements-dev.txt" in result.stdout  # the project runs in a venv of its own, as an owner's
    assert "250 rows, 250 distinct recall numbers" in result.stdout


@pytest.mark.file
def test_fake_is_refused_where_there_is_no_fake_api(template, tool_env, tmp_path):
    project = render(template, tmp_path / "project", {"source_type": "file"})
    result = invoke(project, tool_env, "test", "--skip-unit", "--fake")
    assert result.returncode != 0
    assert "--fake syncs from tests/fake_api.py, which only REST and GraphQL projects have." in result.stderr
