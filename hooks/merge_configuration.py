"""Bring configuration.json up to date with the template without touching the owner's values.

configuration.json is the owner's file (copier.yml lists it in `_skip_if_exists`): its values are per deployment and
a text merge of JSON lines conflicts as soon as a key is added next to an edited one. Copier runs this after every
copy and update with the keys and defaults of the template version just rendered; it adds the keys that are
missing, in the template's order, keeps every existing value, and names the keys this version no longer reads.
It is idempotent, as Copier runs tasks more than once during an update.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def merged(current: dict[str, str], defaults: list[list[str]]) -> tuple[dict[str, str], list[str], list[str]]:
    """The configuration with missing keys added; the keys added; the keys no longer read."""
    expected = dict((key, value) for key, value in defaults)
    result = {key: current.get(key, value) for key, value in expected.items()}
    extra = [key for key in current if key not in expected]
    result.update({key: current[key] for key in extra})  # kept: they may be the owner's own settings
    added = [key for key in expected if key not in current]
    return result, added, extra


def main(project: Path, defaults: list[list[str]]) -> int:
    path = project / "configuration.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    result, added, extra = merged(current, defaults)
    if result != current or not path.exists():
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if added and current:
        print(f"configuration.json: added {', '.join(added)}; fill them in (secrets through CONNECTOR_* variables)")
    if extra:
        print(f"configuration.json: this version no longer reads {', '.join(extra)}; remove them if they are unused")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd(), json.loads(sys.argv[1])))
