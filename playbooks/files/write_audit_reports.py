"""Write the audit's reports (otnet.ports.audit) into DIR, each replaced whole by a rename.

    python write_audit_reports.py DIR < files.json      # [{"name": "audit.json", "content": "..."}, ...]

Run on the controller by the playbook (one process instead of a task per file). The files are written into a
temporary directory inside DIR (same filesystem), then each is renamed over its old copy: a reader sees the old
report or the new one, never half of one. Names are plain file names; anything else is refused.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    target = Path(sys.argv[1])
    files = json.load(sys.stdin)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".audit-", dir=target) as scratch:
        written = []
        for item in files:
            name = str(item["name"])
            if not name or "/" in name or name in (".", ".."):
                print(f"refusing report name {name!r}", file=sys.stderr)
                return 1
            path = Path(scratch) / name
            path.write_text(item["content"], encoding="utf-8")
            path.chmod(0o644)
            written.append(path)
        for path in written:
            os.replace(path, target / path.name)
    print(json.dumps({"written": [str(target / path.name) for path in written]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
