"""Whether the template this project came from has a newer release than the one it was rendered from."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ANSWERS = Path(__file__).resolve().parent.parent / ".copier-answers.yml"
# PEP 440 release tags as Copier reads them: 1.2.3, v1.2.3, 1.2.3rc1 ...
VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?$")


def answers_value(key: str) -> str:
    """One top-level value of .copier-answers.yml (a flat YAML mapping Copier writes)."""
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}:"):
            return line.partition(":")[2].strip().strip("'\"")
    return ""


def version_key(tag: str) -> tuple | None:
    match = VERSION.match(tag)
    if match is None:
        return None
    release = tuple(int(part) for part in match.group(1).split("."))
    # A pre-release sorts before its release: (release, 0, kind, n) < (release, 1).
    return (release, 0, match.group(2), int(match.group(3))) if match.group(2) else (release, 1)


def template_tags(source: str) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-remote", "--tags", source], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    names = {
        line.split("refs/tags/", 1)[1].removesuffix("^{}") for line in listing.splitlines() if "refs/tags/" in line
    }
    return sorted((name for name in names if version_key(name) is not None), key=version_key)


def current_version() -> str:
    """The release this project was last rendered from: `_commit` is a tag, or `tag-N-gHASH` past it."""
    commit = answers_value("_commit")
    return re.sub(r"-\d+-g[0-9a-f]+$", "", commit)


def update_report() -> str:
    """Whether a newer release of the template exists, as a message for the owner."""
    source = answers_value("_src_path")
    if not source:
        return ".copier-answers.yml names no template (_src_path): this project was not made with Copier."
    try:
        tags = template_tags(source)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as error:
        return f"Cannot list the template's releases at {source}: {type(error).__name__}."
    if not tags:
        return f"The template at {source} has no releases yet."
    current, newest = current_version(), tags[-1]
    if version_key(current) is not None and version_key(current) >= version_key(newest):
        return f"Up to date: rendered from {current}, the newest release of {source}."
    return (
        f"Template {newest} is available (this project was rendered from {current or 'an untagged commit'}). "
        "Commit your work, then run `copier update --trust`; see CHANGELOG.md of the template for what changed."
    )
