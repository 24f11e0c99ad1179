"""`invoke check-update` in a generated project: it compares the release the project was rendered from with the
template's newest release tag, as a person sees it after the template moved on."""

from __future__ import annotations

import subprocess

import copier
import pytest

from tests.harness import invoke

pytestmark = [pytest.mark.render]
SOURCE_TYPE = "rest_api"

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


def test_check_update_names_the_newer_release(template, tool_env, tmp_path):
    subprocess.run([*GIT, "tag", "0.1.0"], cwd=template, check=True)
    project = tmp_path / "project"
    copier.run_copy(str(template), str(project), defaults=True, unsafe=True, quiet=True, vcs_ref="0.1.0")
    try:
        current = invoke(project, tool_env, "check-update")
        assert current.returncode == 0
        assert "Up to date: rendered from 0.1.0" in current.stdout

        subprocess.run([*GIT, "commit", "-q", "--allow-empty", "-m", "a newer release"], cwd=template, check=True)
        subprocess.run([*GIT, "tag", "0.2.0"], cwd=template, check=True)
        newer = invoke(project, tool_env, "check-update")
        assert newer.returncode == 0
        assert "Template 0.2.0 is available (this project was rendered from 0.1.0)" in newer.stdout
    finally:
        subprocess.run([*GIT, "tag", "-d", "0.1.0", "0.2.0"], cwd=template, capture_output=True)
