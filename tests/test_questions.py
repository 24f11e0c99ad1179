"""Copier's questions: defaults give the openFDA connector, bad answers are refused by name and leave nothing."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.harness import BIN, render


def copier_copy(template, destination, *args: str) -> subprocess.CompletedProcess:
    command = [str(BIN / "copier"), "copy", "--trust", "--defaults", "--quiet", *args, str(template), str(destination)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_defaults_describe_openfda(template, tmp_path):
    project = render(template, tmp_path / "project", {})
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["connector_name"] == "fda_food_enforcement"
    assert answers["base_url"] == "https://api.fda.gov" and answers["pagination"] == "offset"
    assert answers["incremental_filter"] == "search=report_date:[{cursor} TO 99991231]"
    assert answers["_src_path"] == str(template)  # an absolute path, so `copier update` can find it again


def test_connector_name_is_the_slug_of_the_source_name(template, tmp_path):
    project = render(template, tmp_path / "p", {"source_name": "3M  Product-Recalls (EU)"})
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["connector_name"] == "_3m_product_recalls_eu"


def test_data_file_answers_are_used(template, tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("source_name: Acme Orders\nbase_url: https://api.acme.test\nendpoint_path: /v1/orders\n")
    result = copier_copy(template, tmp_path / "project", "--data-file", str(answers))
    assert result.returncode == 0, result.stderr
    assert '"/v1/orders"' in (tmp_path / "project" / "endpoints.py").read_text()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("connector_name=Bad-Name", "connector_name: 'Bad-Name' must match"),
        ("base_url=ftp://example.com", "base_url: 'ftp://example.com' is not an http(s) URL"),
        ("endpoint_path=orders?x=1", "endpoint_path: 'orders?x=1' must start with /"),
        ("records_path=data..items", "records_path: 'data..items' is not a dotted path"),
        ("primary_key=id,,name", "primary_key: give at least one field name"),
        ("page_size=0", "page_size: must be a positive whole number"),
        ("incremental_filter=since=yesterday", "incremental_filter: 'since=yesterday' must look like name=value"),
        ("extra_params=[1, 2]", "extra_params: give a YAML mapping"),
        ("endpoints=[{path: /a, table: Bad}]", "endpoints[0].table: 'Bad' must match"),
        ("endpoints=[{path: /a, table: a}, {path: /b, table: a}]", "endpoints: two entries name the same table"),
        ("source_type=database db_port=70000", "db_port: must be between 1 and 65535"),
        ("source_type=database db_host=db host", "db_host: 'db host' is not a host name"),
        ("source_type=database db_tables=orders,,customers", "db_tables: an entry is empty"),
        ("source_type=database db_tables=orders, orders", "db_tables: a table is named twice"),
        ("source_type=database db_name= ", "db_name: name the database"),
    ],
)
def test_bad_answers_are_refused_by_name_and_leave_nothing(answer, message, template, tmp_path):
    """`answer` is one answer, or source_type=... and then one answer of that source type."""
    destination = tmp_path / "project"
    answers = answer.split(" ", 1) if answer.startswith("source_type=") and " " in answer else [answer]
    result = copier_copy(template, destination, *(f"--data={one}" for one in answers))
    assert result.returncode != 0
    assert message in result.stderr
    assert not destination.exists()
