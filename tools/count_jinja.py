"""Count the lines of playbooks/ that hold a Jinja expression ({{ }} or {% %}), outside the diagram's drawing templates.

issue 9 asks for fewer than 80: playbooks and their templates orchestrate and render, plugins/plugin_utils decides.

    python tools/count_jinja.py            the total, per file
    python tools/count_jinja.py --lines    each counted line too
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAYBOOKS = REPO / "playbooks"
DRAWING = ("conduits.dot.j2", "conduits.mmd.j2", "conduits.md.j2")  # how the model is drawn, not what it holds
LIMIT = 80
JINJA = re.compile(r"\{\{|\{%|\}\}|%\}")


def counted_files(root: Path = PLAYBOOKS) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and path.name not in DRAWING)


def jinja_lines(path: Path) -> list[tuple[int, str]]:
    """(number, text) of each line with an opening or closing Jinja delimiter (a folded expression's every line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str]] = []
    inside = False
    for number, line in enumerate(lines, 1):
        opens, closes = line.count("{{") + line.count("{%"), line.count("}}") + line.count("%}")
        if inside or JINJA.search(line):
            found.append((number, line))
        if opens > closes:
            inside = True
        elif closes > opens:
            inside = False
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", action="store_true", help="print each counted line")
    args = parser.parse_args(argv)
    total = 0
    for path in counted_files():
        found = jinja_lines(path)
        total += len(found)
        if found:
            print(f"{len(found):4d}  {path.relative_to(REPO)}")
        if args.lines:
            for number, text in found:
                print(f"        {number:4d}: {text.strip()}")
    print(f"{total:4d}  lines with Jinja expressions in playbooks/ (drawing templates excluded; aim: under {LIMIT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
