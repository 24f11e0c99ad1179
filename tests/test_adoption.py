"""Adopting a hand-written connector: the template is copied into the existing folder, the owner's connector.py is
kept byte for byte, and the template's tasks then test it with two real syncs like any generated connector."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import BIN
from tests.servers.rest_api import ApiShape, FakeRestApi, sample_records

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "rest_api"

HAND_WRITTEN = '''"""Our own items connector, written before we used the template."""

import requests
from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Logging as log
from fivetran_connector_sdk import Operations as op


def schema(configuration: dict):
    return [{"table": "items", "primary_key": ["id"]}]


def update(configuration: dict, state: dict):
    skip = 0
    while True:
        page = requests.get(configuration["base_url"] + "/v1/items", params={"skip": skip, "limit": 20}, timeout=30)
        records = page.json()["data"]
        if not records:
            break
        for record in records:
            op.upsert("items", record)
        skip += len(records)
        op.checkpoint({"skip": skip})
    log.info(f"{skip} items")


connector = Connector(update=update, schema=schema)
'''
# Keep the owner's code and configuration; leave out the tests written for the template's own connector.
ADOPT = [
    "--skip",
    "connector.py",
    "--skip",
    "configuration.json",
    "--exclude",
    "tests/test_connector.py",
    "--exclude",
    "tests/fake_api.py",
]


def test_adopting_keeps_the_owners_connector_and_tests_it(template, tool_env, tmp_path):
    project = tmp_path / "items"
    project.mkdir()
    (project / "connector.py").write_text(HAND_WRITTEN)
    (project / "configuration.json").write_text(json.dumps({"base_url": "https://items.example.com"}))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, check=True)

    answers = [
        "--data",
        "source_name=Items",
        "--data",
        "endpoint_path=/v1/items",
        "--data",
        "table_name=items",
        "--data",
        "records_path=data",
        "--data",
        "primary_key=id",
        "--data",
        "incremental_field=",
    ]
    command = [
        str(BIN / "copier"),
        "copy",
        "--trust",
        "--defaults",
        "--overwrite",
        "--quiet",
        *ADOPT,
        *answers,
        str(template),
        str(project),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    assert (project / "connector.py").read_text() == HAND_WRITTEN
    # The owner's values stay; keys this template version reads are added next to them.
    assert json.loads((project / "configuration.json").read_text()) == {
        "base_url": "https://items.example.com",
        "page_size": "100",
        "max_concurrency": "4",
    }
    assert (project / "tasks.py").exists() and (project / ".copier-answers.yml").exists()
    assert not (project / "tests" / "test_connector.py").exists()

    with FakeRestApi(ApiShape(path="/v1/items", records_path="data"), records=sample_records(45)) as server:
        environment = {**tool_env, "CONNECTOR_BASE_URL": server.base_url}
        checked = subprocess.run(
            [sys.executable, "-m", "invoke", "test", "--skip-unit"],
            cwd=project,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    assert json.loads((project / "files" / "test_report.json").read_text())["tables"] == {"items": 45}
