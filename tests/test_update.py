"""`copier update` as a connector's owner meets it: a project copied at one release, edited and committed, then
updated to a newer release of this template (a tagged clone with a template change). Template changes arrive, the
owner's edits survive, and edits made only in owner-owned places cause no conflict."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
from pathlib import Path

import copier
import pytest
import yaml

from tests.harness import BIN, REPO, project_tests, snapshot_template

pytestmark = [pytest.mark.render, pytest.mark.slow]

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
# The same identity for the copy's own first commit (git_init), whatever the machine's git configuration.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
# Where release 1.1.0 raises MAX_ATTEMPTS: the module that retries, per source type.
RETRYING_MODULES = {
    "api_client.py": "template/_api/api_client.py.jinja",
    "sync.py": "template/database/sync.py.jinja",
}
# Per source type: the answers, the module that retries, and a configuration key the owner tunes.
SOURCES = {
    "rest_api": ({}, "api_client.py", "page_size"),
    "graphql": ({"source_type": "graphql"}, "api_client.py", "page_size"),
    "database": ({"source_type": "database"}, "sync.py", "batch_size"),
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def release(template: Path, version: str) -> None:
    git(template, "add", "-A")
    git(template, "commit", "-q", "--allow-empty", "-m", f"release {version}")
    git(template, "tag", version)


def unresolved(project: Path) -> list[str]:
    found = [str(path) for path in project.rglob("*.rej")]
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            lines = path.read_text(errors="ignore").splitlines()
            if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
                found.append(str(path))
    return found


@pytest.fixture
def template(tmp_path):
    """This repository as a template with two releases: 1.0.0 as it is, 1.1.0 with an improvement."""
    repo = snapshot_template(tmp_path / "template")
    git(repo, "tag", "1.0.0")
    for template_file in RETRYING_MODULES.values():
        module = repo / template_file
        module.write_text(module.read_text().replace("MAX_ATTEMPTS = 5", "MAX_ATTEMPTS = 6", 1))
    readme = repo / "template" / "_shared" / "README.md.jinja"
    readme.write_text(
        readme.read_text().replace("\n## Tables\n", "\nA paragraph the template added in 1.1.0.\n\n## Tables\n", 1)
    )
    release(repo, "1.1.0")
    return repo


def copy_and_edit(template: Path, project: Path, answers: dict, tuned_key: str = "page_size") -> None:
    """Copy at 1.0.0, then the edits an owner typically makes, committed."""
    copier.run_copy(str(template), str(project), data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="1.0.0")
    git(project, "init", "-q", "-b", "main")
    hooks = project / "hooks.py"
    hooks.write_text(
        hooks.read_text().replace("    return record\n", '    record.pop("internal_notes", None)\n    return record\n')
    )
    configuration = json.loads((project / "configuration.json").read_text())
    configuration[tuned_key] = "50"
    (project / "configuration.json").write_text(json.dumps(configuration, indent=2) + "\n")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOn call: data-platform.\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "owner edits")


@pytest.mark.parametrize("source", SOURCES)
def test_update_brings_template_changes_and_keeps_owner_edits(source, template, tmp_path):
    project = tmp_path / "project"
    answers, retrying_module, tuned_key = SOURCES[source]
    copy_and_edit(template, project, answers, tuned_key)

    copier.run_update(str(project), defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="1.1.0")

    assert unresolved(project) == []  # owner-owned edits only: no conflict at all
    assert "MAX_ATTEMPTS = 6" in (project / retrying_module).read_text()
    readme = (project / "README.md").read_text()
    assert "A paragraph the template added in 1.1.0." in readme and readme.endswith("On call: data-platform.\n")
    assert 'record.pop("internal_notes", None)' in (project / "hooks.py").read_text()
    assert json.loads((project / "configuration.json").read_text())[tuned_key] == "50"
    assert "_commit: 1.1.0" in (project / ".copier-answers.yml").read_text()
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]


@pytest.mark.parametrize(
    ("changed", "expected_file", "expected_text", "gone_text"),
    [
        (
            {"pagination": "cursor", "next_cursor_path": "meta.next"},
            "pagination.py",
            'CURSOR_PARAM = "cursor"',
            "OFFSET_PARAM",
        ),
        ({"auth_method": "bearer"}, "configuration.json", '"bearer_token": "<BEARER_TOKEN>"', "no-such-text"),
    ],
    ids=["pagination", "auth_method"],
)
def test_an_answer_changed_on_update_rerenders_what_depends_on_it(
    changed, expected_file, expected_text, gone_text, template, tmp_path
):
    project = tmp_path / "project"
    copy_and_edit(template, project, {})

    copier.run_update(
        str(project), data=changed, defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="1.1.0"
    )

    assert unresolved(project) == []
    rendered = (project / expected_file).read_text()
    assert expected_text in rendered and gone_text not in rendered
    assert 'record.pop("internal_notes", None)' in (project / "hooks.py").read_text()
    assert json.loads((project / "configuration.json").read_text())["page_size"] == "50"
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_a_migration_that_moves_a_file_carries_the_owners_content(template, tmp_path):
    project = tmp_path / "project"
    copy_and_edit(template, project, {})
    deployment = project / "DEPLOYMENT.md"
    deployment.write_text(deployment.read_text() + "\nOur change window: Tuesdays.\n")
    git(project, "commit", "-qam", "owner note in DEPLOYMENT.md")

    # Release 2.0.0 moves DEPLOYMENT.md into docs/ and declares the move, as copier.yml's comment asks.
    (template / "template" / "rest_api" / "docs").mkdir()
    git(template, "rm", "-q", "template/rest_api/DEPLOYMENT.md.jinja")  # a link to the shared DEPLOYMENT.md
    (template / "template" / "rest_api" / "docs" / "DEPLOYMENT.md.jinja").symlink_to(
        "../../_shared/DEPLOYMENT.md.jinja"
    )
    git(template, "add", "template/rest_api/docs")
    copier_yml = template / "copier.yml"
    migration = (
        '_migrations:\n  - version: "2.0.0"\n    when: "{{ _stage == \'after\' }}"\n'
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations/move_file.py",'
        ' "DEPLOYMENT.md", "docs/DEPLOYMENT.md"]\n'
    )
    copier_yml.write_text(copier_yml.read_text().replace("_migrations: []\n", migration))
    release(template, "2.0.0")

    copier.run_update(str(project), defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="2.0.0")

    assert not deployment.exists()
    moved = (project / "docs" / "DEPLOYMENT.md").read_text()
    assert "Our change window: Tuesdays." in moved and "## " in moved
    assert unresolved(project) == []


# ---------------------------------------------------------------------------------------------------- as users run it


def copier_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The copier command, as a person types it; fails the test with Copier's own output."""
    result = subprocess.run(
        [str(BIN / "copier"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **GIT_IDENTITY},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def recorded_commit(project: Path) -> str:
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"])


def commit_count(project: Path) -> int:
    return int(git(project, "rev-list", "--count", "HEAD"))


def add_to_readme(template: Path, text: str, message: str) -> None:
    readme = template / "template" / "_shared" / "README.md.jinja"
    readme.write_text(readme.read_text().replace("\n## Tables\n", f"\n{text}\n\n## Tables\n", 1))
    git(template, "commit", "-qam", message)


def test_copy_and_update_from_an_untagged_clone(tmp_path):
    """A clone without tags (tags did not travel, or none were made yet): copy works, the project records the commit,
    and `copier update` brings the clone's newer commits; once releases are tagged, updates follow the tags."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(snapshot_template(tmp_path / "origin")), str(clone)], check=True)
    assert git(clone, "tag") == ""
    project = tmp_path / "project"

    copier_cli("copy", "--trust", "--defaults", "--data=source_name=Acme Orders", str(clone), str(project))

    head = git(clone, "rev-parse", "HEAD").strip()
    assert head.startswith(recorded_commit(project))  # no version to record: the commit itself
    assert commit_count(project) == 1 and git(project, "status", "--porcelain") == ""  # git_init's first commit
    hooks = project / "hooks.py"
    hooks.write_text(
        hooks.read_text().replace("    return record\n", "    record.pop('notes', None)\n    return record\n")
    )
    git(project, "commit", "-qam", "owner edits")

    add_to_readme(clone, "A paragraph from an unreleased commit.", "template change, not released")
    copier_cli("update", "--trust", "--defaults", cwd=project)

    assert unresolved(project) == []
    assert "A paragraph from an unreleased commit." in (project / "README.md").read_text()
    assert "record.pop('notes', None)" in hooks.read_text()
    assert git(clone, "rev-parse", "HEAD").strip().startswith(recorded_commit(project))
    assert commit_count(project) == 2  # the update commits nothing itself (git_init is copy-only)
    git(project, "commit", "-qam", "update")

    # Later the maintainers tag releases: the next update goes to the newest one.
    git(clone, "tag", "1.0.0")
    add_to_readme(clone, "A paragraph released in 1.1.0.", "release 1.1.0")
    git(clone, "tag", "1.1.0")
    copier_cli("update", "--trust", "--defaults", cwd=project)

    assert recorded_commit(project) == "1.1.0"
    readme = (project / "README.md").read_text()
    assert "A paragraph released in 1.1.0." in readme and "A paragraph from an unreleased commit." in readme
    assert unresolved(project) == []


def test_pinning_a_release_with_vcs_ref(template, tmp_path):
    """`--vcs-ref` pins a release at copy and at update; without it Copier takes the newest release tag, never an
    unreleased commit after it, unless asked for with `--vcs-ref HEAD`."""
    add_to_readme(template, "A paragraph not released yet.", "work after 1.1.0")
    pinned, latest = tmp_path / "pinned", tmp_path / "latest"

    copier_cli("copy", "--trust", "--defaults", "--vcs-ref=1.0.0", str(template), str(pinned))
    copier_cli("copy", "--trust", "--defaults", str(template), str(latest))

    assert recorded_commit(pinned) == "1.0.0" and "MAX_ATTEMPTS = 5" in (pinned / "api_client.py").read_text()
    assert recorded_commit(latest) == "1.1.0" and "MAX_ATTEMPTS = 6" in (latest / "api_client.py").read_text()
    assert "A paragraph not released yet." not in (latest / "README.md").read_text()

    copier_cli("update", "--trust", "--defaults", "--vcs-ref=1.0.0", cwd=pinned)  # stays where it is pinned
    assert recorded_commit(pinned) == "1.0.0" and git(pinned, "status", "--porcelain") == ""

    copier_cli("update", "--trust", "--defaults", cwd=pinned)  # to the newest release
    assert recorded_commit(pinned) == "1.1.0" and "MAX_ATTEMPTS = 6" in (pinned / "api_client.py").read_text()
    assert "A paragraph not released yet." not in (pinned / "README.md").read_text()
    git(pinned, "commit", "-qam", "update to 1.1.0")

    copier_cli("update", "--trust", "--defaults", "--vcs-ref=HEAD", cwd=pinned)  # unreleased work, on purpose
    assert recorded_commit(pinned).startswith("1.1.0-1-g")
    assert "A paragraph not released yet." in (pinned / "README.md").read_text()
    assert unresolved(pinned) == []


def test_answers_of_earlier_releases_survive_an_update(template, tmp_path):
    """Numbers written as numbers (as releases that asked them as int wrote them) and a list of endpoints, which is
    never asked, both stay as they were through `copier update`."""
    project = tmp_path / "project"
    endpoints = [
        {"path": "/food/enforcement.json", "table": "food_enforcement"},
        {"path": "/drug/enforcement.json", "table": "drug_enforcement"},
    ]
    copier.run_copy(
        str(template),
        str(project),
        data={"endpoints": endpoints, "page_size": 50},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="1.0.0",
    )
    answers_file = project / ".copier-answers.yml"
    answers_file.write_text(
        answers_file.read_text()
        .replace("page_size: '50'", "page_size: 50")
        .replace("max_offset: '25000'", "max_offset: 25000")
    )
    assert "page_size: 50\n" in answers_file.read_text()
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "answers as an earlier release wrote them")

    copier_cli("update", "--trust", "--defaults", "--vcs-ref=1.1.0", cwd=project)

    answers = yaml.safe_load(answers_file.read_text())
    assert answers["_commit"] == "1.1.0" and answers["endpoints"] == endpoints
    assert str(answers["page_size"]) == "50" and str(answers["max_offset"]) == "25000"
    rendered = (project / "endpoints.py").read_text()
    assert '"/drug/enforcement.json"' in rendered
    assert "MAX_OFFSET = 25000" in (project / "pagination.py").read_text()
    assert unresolved(project) == []


# The last commit of this repository whose template/ named files by conditions on source_type; the layout by source
# type (template/<source_type>, _shared, _api) came after it. Projects copied from it must update with nothing lost.
CONDITIONAL_LAYOUT = "8fc89fe787da6065bb77707205b8907f999eb7d4"
LAYOUT_SOURCES = {
    "rest_api": {},
    "graphql": {"source_type": "graphql"},
    "database": {"source_type": "database", "db_engine": "mysql"},
    "file": {"source_type": "file", "file_storage": "s3", "file_format": "parquet"},
}


@pytest.fixture(scope="module")
def layout_releases(tmp_path_factory) -> Path:
    """1.0.0: this repository as it was before the layout by source type; 1.1.0: as it is now."""
    repo = tmp_path_factory.mktemp("layout") / "template"
    repo.mkdir()
    archive = subprocess.run(["git", "archive", CONDITIONAL_LAYOUT], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive.stdout, check=True)
    git(repo, "init", "-q", "-b", "main")
    release(repo, "1.0.0")
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    current = snapshot_template(repo.parent / "current")
    shutil.copytree(current, repo, ignore=shutil.ignore_patterns(".git"), symlinks=True, dirs_exist_ok=True)
    release(repo, "1.1.0")
    return repo


@pytest.mark.parametrize("source", LAYOUT_SOURCES)
def test_a_project_updates_across_the_layout_by_source_type(source, layout_releases, tmp_path):
    project = tmp_path / "project"
    copier.run_copy(
        str(layout_releases),
        str(project),
        data=LAYOUT_SOURCES[source],
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="1.0.0",
    )
    assert git(project, "status", "--porcelain") == ""  # git_init committed the copy
    before = sorted(str(path.relative_to(project)) for path in project.rglob("*") if ".git" not in path.parts)
    hooks = project / "hooks.py"
    hooks.write_text(
        hooks.read_text().replace("    return record\n", "    record.pop('notes', None)\n    return record\n")
    )
    connector = project / "connector.py"
    connector.write_text(connector.read_text() + "\n# Owner's note: reviewed by the data platform team.\n")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOn call: data-platform.\n")
    git(project, "commit", "-qam", "owner edits")

    copier_cli("update", "--trust", "--defaults", "--vcs-ref=1.1.0", cwd=project)

    assert unresolved(project) == []
    after = sorted(str(path.relative_to(project)) for path in project.rglob("*") if ".git" not in path.parts)
    assert sorted(set(before) - set(after)) == []  # every path where it was: nothing moved, nothing deleted
    assert "record.pop('notes', None)" in hooks.read_text()
    assert connector.read_text().endswith("# Owner's note: reviewed by the data platform team.\n")
    assert readme.read_text().endswith("On call: data-platform.\n")
    assert recorded_commit(project) == "1.1.0"
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_an_edited_setting_that_moved_module_is_kept_where_the_owner_sees_it(layout_releases, tmp_path):
    """1.1.0 moved EXTRA_PARAMS from connector.py to settings.py. The owner's edited value is not lost: the update
    leaves it in connector.py as a conflict to resolve by hand, and settings.py holds the setting's new place."""
    project = tmp_path / "project"
    copier.run_copy(str(layout_releases), str(project), defaults=True, unsafe=True, quiet=True, vcs_ref="1.0.0")
    connector = project / "connector.py"
    assert '"sort": "report_date:asc"' in connector.read_text()
    connector.write_text(connector.read_text().replace('"sort": "report_date:asc"', '"sort": "recall_number:asc"'))
    git(project, "commit", "-qam", "owner sorts by recall number")

    copier_cli("update", "--trust", "--defaults", "--vcs-ref=1.1.0", cwd=project)

    assert unresolved(project) == [str(connector)]
    assert '"sort": "recall_number:asc"' in connector.read_text()
    assert "EXTRA_PARAMS: dict[str, str] = {" in (project / "settings.py").read_text()


def test_keys_the_new_answers_no_longer_read_leave_the_configuration(template, tmp_path):
    """`pagination=none` and another auth method: the template's keys for the old answers (page_size, bearer_token)
    leave configuration.json, whose setup form would no longer ask for them; the owner's tuned values stay."""
    project = tmp_path / "project"
    copy_and_edit(template, project, {"auth_method": "bearer"}, tuned_key="max_concurrency")

    changed = {"pagination": "none", "auth_method": "api_key"}
    copier.run_update(
        str(project), data=changed, defaults=True, unsafe=True, overwrite=True, quiet=True, vcs_ref="1.1.0"
    )

    configuration = json.loads((project / "configuration.json").read_text())
    assert "page_size" not in configuration and "bearer_token" not in configuration
    assert configuration["api_key"] == "<API_KEY>" and configuration["max_concurrency"] == "50"
    tests = project_tests(project)
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_the_owners_own_configuration_keys_stay():
    """Only keys the template itself writes are removed; any other is the owner's, kept and named."""
    merge = runpy.run_path(str(REPO / "hooks" / "merge_configuration.py"))["merged"]
    current = {"base_url": "https://api.acme.com", "page_size": "50", "team_channel": "#data"}
    result, added, removed, extra = merge(current, [["base_url", "x"], ["max_concurrency", "4"]], ["page_size"])
    assert result == {"base_url": "https://api.acme.com", "max_concurrency": "4", "team_channel": "#data"}
    assert (added, removed, extra) == (["max_concurrency"], ["page_size"], ["team_channel"])
