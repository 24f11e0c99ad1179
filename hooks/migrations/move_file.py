"""Migration for a release that moves a generated file: carry the owner's version of it to the new path.

`copier update` deletes a path the template no longer renders, with whatever the owner wrote in it, and renders the
new path fresh. Declared as an `after` migration of the release that moves the file, this puts the owner's last
committed version of the old path at the new path, so nothing they wrote is lost:

    _migrations:
      - version: "2.0.0"
        when: "{{ _stage == 'after' }}"
        command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations/move_file.py",
                  "old.py", "new.py"]

A release that moves a file must not also change its content (change it in the next release): the owner's version
then already holds everything the template meant that file to hold. Copier runs migrations in the project; this is
idempotent and does nothing where the project has no committed old path (a fresh copy, or Copier's scratch copies).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def committed_version(project: Path, path: str) -> str | None:
    """The file as the owner last committed it, or None if git has no such file at HEAD."""
    shown = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=project, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else None


def move(project: Path, old: str, new: str) -> str:
    owners_version = committed_version(project, old)
    if owners_version is None:
        return f"{old}: not in the project's last commit; nothing to carry"
    target = project / new
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(owners_version, encoding="utf-8")
    (project / old).unlink(missing_ok=True)
    return f"moved {old} to {new} with your edits"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: move_file.py OLD_PATH NEW_PATH")
    print(move(Path.cwd(), sys.argv[1], sys.argv[2]))
