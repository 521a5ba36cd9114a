#!/usr/bin/env python3
"""ansible-doc must render every plugin and role of the installed collection, with nothing on stderr.

This stands in for `ansible-test sanity --test validate-modules`, which needs downloads these machines can't make.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COLLECTION = "otnet.ports"
PLUGIN_TYPES = ("lookup", "filter", "test")


def plugin_names(plugin_type: str) -> list[str]:
    return sorted(p.stem for p in (REPO / "plugins" / plugin_type).glob("*.py") if not p.stem.startswith("_"))


def plugin_path(plugin_type: str, name: str) -> Path:
    return REPO / "plugins" / plugin_type / f"{name}.py"


def doc_blocks(path: Path) -> dict[str, Any]:
    """The module-level names a plugin file defines before its imports (DOCUMENTATION, EXAMPLES, RETURN), unparsed."""
    namespace: dict[str, Any] = {}
    source = path.read_text(encoding="utf-8")
    exec(source.split("\nfrom ansible")[0].split("\nfrom typing")[0], namespace)  # noqa: S102 - our own doc strings
    return namespace


def role_names() -> list[str]:
    return sorted(p.name for p in (REPO / "roles").glob("*") if (p / "meta" / "argument_specs.yml").is_file())


def ansible_doc(doc_type: str, names: list[str], *extra: str) -> tuple[str, list[str]]:
    fqcns = [f"{COLLECTION}.{name}" for name in names]
    result = subprocess.run(
        ["ansible-doc", "-t", doc_type, *extra, *fqcns], capture_output=True, text=True, check=False
    )
    problems = []
    if result.returncode != 0:
        problems.append(f"ansible-doc -t {doc_type} {' '.join(extra)} exited {result.returncode}")
    if result.stderr.strip():
        problems.append(f"ansible-doc -t {doc_type} {' '.join(extra)} wrote to stderr:\n{result.stderr.strip()}")
    return result.stdout, problems


def check_source(plugin_type: str, name: str) -> list[str]:
    """The documentation blocks parse, and the plugin is named after its file."""
    namespace = doc_blocks(plugin_path(plugin_type, name))
    problems = []
    for block in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        try:
            parsed = yaml.safe_load(str(namespace[block]))
        except (KeyError, yaml.YAMLError) as exc:
            problems.append(f"{plugin_type}/{name}.py: {block}: {exc}")
            continue
        if block == "DOCUMENTATION" and parsed.get("name") != name:
            problems.append(f"{plugin_type}/{name}.py: DOCUMENTATION name is {parsed.get('name')!r}, not {name!r}")
    return problems


def main() -> int:
    problems: list[str] = []
    checked = 0
    for plugin_type in PLUGIN_TYPES:
        names = plugin_names(plugin_type)
        for name in names:
            problems += check_source(plugin_type, name)
        _, text_problems = ansible_doc(plugin_type, names)
        output, json_problems = ansible_doc(plugin_type, names, "--json")
        problems += text_problems + json_problems
        documented = json.loads(output) if output.strip() else {}
        for name in names:
            doc = documented.get(f"{COLLECTION}.{name}", {}).get("doc")
            if not doc or not doc.get("short_description"):
                problems.append(f"{plugin_type} {COLLECTION}.{name}: ansible-doc found no documentation")
        checked += len(names)
    roles = role_names()
    if roles:
        _, role_problems = ansible_doc("role", roles)
        problems += role_problems
        checked += len(roles)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print(f"ansible-doc: {checked} plugins and roles checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
