"""Bring configuration.json up to date with the template without touching the owner's values.

configuration.json is the owner's file (copier.yml lists it in `_skip_if_exists`): its values are per deployment and
a text merge of JSON lines conflicts as soon as a key is added next to an edited one. Copier runs this after every
copy and update with the keys and defaults of the template version just rendered, and the keys a project of its
source type may hold whatever its answers. It adds the keys that are missing, in the template's order, and keeps
every existing value; a key the template writes for some answers but not for these (`page_size` after
`pagination=none`, `bearer_token` after another auth method) is removed, and any other key, perhaps the owner's own,
is kept and named. It is idempotent, as Copier runs tasks more than once during an update.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from pathlib import Path


def merged(
    current: dict[str, str], defaults: list[list[str]], template_keys: Collection[str] = ()
) -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """The configuration with missing keys added; the keys added; the template's keys removed, which these answers
    do not read; the other keys no longer read, kept."""
    expected = dict((key, value) for key, value in defaults)
    result = {key: current.get(key, value) for key, value in expected.items()}
    unread = [key for key in current if key not in expected]
    removed = [key for key in unread if key in template_keys]
    extra = [key for key in unread if key not in template_keys]
    result.update({key: current[key] for key in extra})  # kept: they may be the owner's own settings
    added = [key for key in expected if key not in current]
    return result, added, removed, extra


def main(project: Path, defaults: list[list[str]], template_keys: Collection[str] = ()) -> int:
    path = project / "configuration.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    result, added, removed, extra = merged(current, defaults, template_keys)
    if result != current or not path.exists():
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if added and current:
        print(f"configuration.json: added {', '.join(added)}; fill them in (secrets through CONNECTOR_* variables)")
    if removed:
        print(f"configuration.json: removed {', '.join(removed)}, which these answers no longer read")
    if extra:
        print(f"configuration.json: this version no longer reads {', '.join(extra)}; remove them if they are unused")
    return 0


if __name__ == "__main__":
    # The second argument is new: a template release before it passes the defaults alone.
    sys.exit(main(Path.cwd(), json.loads(sys.argv[1]), json.loads(sys.argv[2]) if len(sys.argv) > 2 else []))
