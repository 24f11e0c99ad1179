"""Tasks for working on the template itself: `invoke --list`.

`invoke demo` is the main job: it renders the default openFDA connector and runs that project's own `invoke test`
against a bundled, openFDA-shaped sample API on 127.0.0.1, so it needs no credentials and no internet.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from invoke import Context, Exit, task

REPO = Path(__file__).resolve().parent
BUILD = REPO / "build"
DEMO_RECORDS = 250


@task(
    help={
        "k": "only the tests whose names match this pytest -k expression",
        "source": "only the tests of one source type: rest_api, graphql, database or file",
        "fast": "skip the tests that run the Fivetran CLI or build virtual environments (about a minute)",
    }
)
def test(c: Context, k: str = "", source: str = "", fast: bool = False) -> None:
    """The template's test suite (renders every variant, syncs with the real Fivetran CLI)."""
    markers = [name for name, wanted in ((source, bool(source)), ("not sync and not slow", fast)) if wanted]
    selection = (f" -k '{k}'" if k else "") + (f" -m '{' and '.join(markers)}'" if markers else "")
    c.run(f"{sys.executable} -m pytest -q tests{selection}", pty=False)


@task
def lint(c: Context) -> None:
    """ruff on this repository's own Python (rendered projects are linted by the tests)."""
    c.run(f"{sys.executable} -m ruff check tasks.py tests benchmarks hooks openapi")


@task
def render(c: Context, answers: str = "examples/openfda.yml", destination: str = "") -> None:
    """Render a project from an answers file into build/<connector_name> (or --destination)."""
    sys.path.insert(0, str(REPO))
    import copier
    import yaml

    from tests.harness import snapshot_template

    template = snapshot_template(_fresh(BUILD / "template"))
    target = Path(destination) if destination else BUILD / Path(answers).stem
    data = yaml.safe_load((REPO / answers).read_text(encoding="utf-8"))  # run_copy takes answers, not their file
    copier.run_copy(str(template), str(_fresh(target)), data=data, defaults=True, unsafe=True)
    print(f"Rendered {answers} into {target}")


@task
def demo(c: Context) -> None:
    """Render the default connector, start the sample openFDA API, run the project's `invoke test` in a fresh venv
    made only from the project's requirements (as its owner would), then `invoke verify` and the row count."""
    sys.path.insert(0, str(REPO))
    import copier

    from tests.harness import owner_environment, owner_venv, snapshot_template

    template = snapshot_template(_fresh(BUILD / "template"))
    project = _fresh(BUILD / "demo") / "fda_food_enforcement"
    copier.run_copy(str(template), str(project), data={"git_init": False}, defaults=True, unsafe=True, quiet=True)
    print(f"Rendered the default connector (openFDA food enforcement) into {project.relative_to(REPO)}")
    print("Preparing its virtual environment from its own requirements-dev.txt (built once, then reused)")
    venv = owner_venv(project)
    environment = owner_environment(venv, BUILD / "home")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.servers.rest_api", "--openfda", "--records", str(DEMO_RECORDS)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        print(f"Sample openFDA API with {DEMO_RECORDS} recalls at {base_url}\n")
        environment["CONNECTOR_BASE_URL"] = base_url
        result = subprocess.run([str(venv / "bin" / "invoke"), "test"], cwd=project, env=environment)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if result.returncode != 0:
        raise Exit("The demo's local test failed; its output is above.", code=1)
    _show_verification(project, venv, environment)


@task(
    iterable=["endpoint", "path_param"],
    help={
        "document": "an OpenAPI 3.0/3.1 document: a path or an http(s) URL, JSON or YAML",
        "endpoint": "a list endpoint's path or operationId (repeatable); none: list the list endpoints",
        "path_param": "NAME=VALUE for a {NAME} in an endpoint's path (repeatable)",
        "auth": "the security scheme to use when an operation accepts several",
        "list": "only list the list endpoints and what the document says about each",
        "out": "the answers file to write (default: print it)",
    },
)
def openapi(
    c: Context,
    document: str,
    endpoint: list[str] | None = None,
    path_param: list[str] | None = None,
    auth: str = "",
    list_: bool = False,
    out: str = "",
) -> None:
    """Copier answers for a REST connector from an OpenAPI document (openapi/answers.py); then
    `copier copy --trust --data-file <out> <template> <destination>`."""
    # A script of this repository, loaded from its path: `openapi` is no package to import by name.
    main = runpy.run_path(str(REPO / "openapi" / "answers.py"))["main"]
    argv = [document, *(f"--endpoint={path}" for path in endpoint or [])]
    argv += [f"--path-param={pair}" for pair in path_param or []]
    argv += [f"--auth={auth}"] * bool(auth) + ["--list"] * list_ + [f"--out={out}"] * bool(out)
    code = main(argv)
    if code:
        raise Exit(code=code)


def _show_verification(project: Path, venv: Path, environment: dict[str, str]) -> None:
    """The project's own `invoke verify`, then the one thing only the demo knows: how many recalls the API holds."""
    import duckdb

    subprocess.run([str(venv / "bin" / "invoke"), "verify"], cwd=project, env=environment, check=True)
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        rows, keys = connection.execute(
            "SELECT count(*), count(DISTINCT recall_number) FROM tester.food_enforcement"
        ).fetchone()
    if rows != DEMO_RECORDS or keys != DEMO_RECORDS:
        raise Exit(f"expected {DEMO_RECORDS} distinct recalls in the warehouse, found {rows} rows, {keys} keys", code=1)
    print(f"{rows} rows, {keys} distinct recall numbers: exactly what the sample API holds.")


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
