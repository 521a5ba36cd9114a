#!/usr/bin/env python3
"""The generated parts of the igor_gateway docs: the rule list as Windows Firewall shows it, and the Defender
exclusions, both computed by the role's own planning code. They sit between markers in roles/igor_gateway/README.md
and docs/igor_gateway.md; tests/unit/roles/test_igor_gateway_docs.py fails when either drifts.

    python tests/igor_gateway_docs.py --write    # after a change to the catalog or the planning code
    python tests/igor_gateway_docs.py --check
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
try:  # under pytest, tests/unit/conftest.py has made the checkout importable
    import ansible_collections.otnet.ports  # noqa: F401
except ImportError:  # run as a script
    sys.path.insert(0, str(REPO / "tools"))
    from dev_collection import link_checkout

    sys.path.insert(0, str(link_checkout()))

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog  # noqa: E402
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_plan import RULE_TABLES, build_plan  # noqa: E402

ROLE = REPO / "roles" / "igor_gateway"
TARGETS = (ROLE / "README.md", REPO / "docs" / "igor_gateway.md")
MARKER = re.compile(r"(<!-- BEGIN (\w+) .*?-->\n)(.*?)(<!-- END \2 -->)", re.DOTALL)
SWITCHES = ("igor_gateway_bacnet", "igor_gateway_outbound_rules")


def plan(**switches: bool) -> dict[str, Any]:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return build_plan(load_catalog(), {**defaults, "igor_gateway_version": "1.12.1", **switches})


def added_when(name: str) -> str:
    """The smallest set of switches whose plan has the rule, in words."""
    for needed in ((), *((s,) for s in SWITCHES), SWITCHES):
        if name in {r["name"] for r in plan(**dict.fromkeys(needed, True))["rules"]}:
            return " and ".join(f"`{s}`" for s in needed) or "always"
    raise AssertionError(name)


def scope(rule: dict[str, Any]) -> str:
    (table,) = [t for t in RULE_TABLES.values() if rule["name"].startswith(f"{t.name_prefix} - ")]
    return f"`{table.networks}` ({rule['remoteip']})"


def rules_table() -> str:
    full = plan(**dict.fromkeys(SWITCHES, True))
    lines = [
        f"All rules are in the group `{full['group']}`, action Allow, enabled, on the profiles of "
        "`igor_gateway_firewall_profiles`. Defaults shown; Any means the rule sets no value there.",
        "",
        "| Name | Direction | Protocol | Local port | Remote port | Remote address | Program | Added |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rule in full["rules"]:
        cells = [
            rule["name"],
            "Inbound" if rule["direction"] == "in" else "Outbound",
            rule["protocol"].upper(),
            rule.get("localport", "Any"),
            rule.get("remoteport", "Any"),
            scope(rule),
            f"`{rule['program']}`" if "program" in rule else "Any",
            added_when(rule["name"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def exclusions_table() -> str:
    exclusions = plan()["exclusions"]
    lines = [
        "Below `igor_gateway_install_dir`; the document's install directory shown.",
        "",
        "| Defender setting | Entry |",
        "| --- | --- |",
    ]
    lines += [f"| ExclusionPath | `{path}` |" for path in exclusions["paths"]]
    lines += [f"| ExclusionProcess | `{path}` |" for path in exclusions["processes"]]
    return "\n".join(lines) + "\n"


SECTIONS = {"rules": rules_table, "exclusions": exclusions_table}


def render(text: str) -> str:
    """The text with every marked section regenerated."""

    def section(match: re.Match[str]) -> str:
        return match.group(1) + SECTIONS[match.group(2)]() + match.group(4)

    return MARKER.sub(section, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    drifted = []
    for path in TARGETS:
        text = path.read_text(encoding="utf-8")
        if render(text) != text:
            drifted.append(path)
            if args.write:
                path.write_text(render(text), encoding="utf-8")
    if drifted and args.check:
        print(f"drifted: {', '.join(map(str, drifted))}; run tests/igor_gateway_docs.py --write", file=sys.stderr)
        return 1
    print("written" if drifted else "up to date", ", ".join(p.name for p in drifted or TARGETS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
