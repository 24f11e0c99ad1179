"""Copy-time: make the new project a git repository holding the generated files in one commit.

`copier update` needs the project in git with every file committed. Copier runs this after a copy when git_init is
true (copier.yml's `_tasks`; never during an update, which runs tasks in temporary copies). It changes nothing when
the folder is already inside a git work tree (a project adopted into an existing repository, a monorepo, a second
run), and it never fails the copy: when git is missing or cannot commit (no user.name / user.email), it says what to
run instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

COMMIT_MESSAGE = "Generated from the Fivetran connector template"
BY_HAND = 'git init && git add -A && git commit -m "Generated connector"'


def git(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)


def main(project: Path) -> int:
    if shutil.which("git") is None:
        print(f"git_init: git is not installed; install it, then run in {project}: {BY_HAND}")
        return 0
    if git(project, "rev-parse", "--is-inside-work-tree").returncode == 0:
        top = git(project, "rev-parse", "--show-toplevel").stdout.strip()
        if Path(top).resolve() != project.resolve():
            print(f"git_init: {project} is inside the git repository {top}; commit the new files there")
        return 0
    initialised = git(project, "init", "-q")
    if initialised.returncode != 0:
        print(f"git_init: git init failed ({initialised.stderr.strip()}); run in {project}: {BY_HAND}")
        return 0
    git(project, "add", "-A")
    committed = git(project, "commit", "-q", "-m", COMMIT_MESSAGE)
    if committed.returncode != 0:
        reason = (committed.stderr or committed.stdout).strip().splitlines()
        print(
            f"git_init: made a git repository but could not commit ({reason[-1] if reason else 'unknown reason'}); "
            f"set git config user.name and user.email, then run in {project}: {BY_HAND}"
        )
        return 0
    print("git_init: made a git repository and committed the generated files")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
