"""The generated parts of the igor_gateway docs: the rule list as Windows Firewall shows it, and the Defender
exclusions, both computed by the role's own planning code. They sit between markers in roles/igor_gateway/README.md
and docs/igor_gateway.md; tools/gen_docs.py writes them (`make docs`) and checks them (`make docs-check`), and
tests/unit/roles/test_igor_gateway_docs.py fails when either drifts.

The importer makes the checkout importable as ansible_collections.otnet.ports first (dev_collection.link_checkout,
or the unit tests' conftest).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from doc_tables import markdown_table

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import RULE_TABLES, build_plan

REPO = Path(__file__).resolve().parents[1]
ROLE = REPO / "roles" / "igor_gateway"
TARGETS = (ROLE / "README.md", REPO / "docs" / "igor_gateway.md")
MARKER = re.compile(r"(<!-- BEGIN (\w+) .*?-->\n)(.*?)(<!-- END \2 -->)", re.DOTALL)
SWITCHES = ("igor_gateway_bacnet", "igor_gateway_outbound_rules")


@functools.cache
def role_defaults() -> dict[str, Any]:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))


def plan(**switches: bool) -> dict[str, Any]:
    return build_plan(load_catalog(), {**role_defaults(), "igor_gateway_version": "1.12.1", **switches})


def added_when(name: str) -> str:
    """The smallest set of switches whose plan has the rule, in words."""
    for needed in ((), *((s,) for s in SWITCHES), SWITCHES):
        if name in {r["name"] for r in plan(**dict.fromkeys(needed, True))["rules"]}:
            return " and ".join(f"`{s}`" for s in needed) or "always"
    raise AssertionError(name)


def scope(rule: dict[str, Any]) -> str:
    (table,) = [t for t in RULE_TABLES.values() if rule["name"].startswith(f"{t.name_prefix} - ")]
    return f"`{table.networks}` ({rule['remoteip']})"


def rule_row(rule: dict[str, Any]) -> list[str]:
    return [
        rule["name"],
        "Inbound" if rule["direction"] == "in" else "Outbound",
        rule["protocol"].upper(),
        rule.get("localport", "Any"),
        rule.get("remoteport", "Any"),
        scope(rule),
        f"`{rule['program']}`" if "program" in rule else "Any",
        added_when(rule["name"]),
    ]


def rules_table() -> str:
    full = plan(**dict.fromkeys(SWITCHES, True))
    header = ["Name", "Direction", "Protocol", "Local port", "Remote port", "Remote address", "Program", "Added"]
    lines = [
        f"All rules are in the group `{full['group']}`, action Allow, enabled, on the profiles of "
        "`igor_gateway_firewall_profiles`. Defaults shown; Any means the rule sets no value there.",
        "",
        *markdown_table(header, (rule_row(rule) for rule in full["rules"])),
    ]
    return "\n".join(lines) + "\n"


def exclusions_table() -> str:
    exclusions = plan()["exclusions"]
    rows = [["ExclusionPath", f"`{path}`"] for path in exclusions["paths"]]
    rows += [["ExclusionProcess", f"`{path}`"] for path in exclusions["processes"]]
    lines = [
        "Below `igor_gateway_install_dir`; the document's install directory shown.",
        "",
        *markdown_table(["Defender setting", "Entry"], rows),
    ]
    return "\n".join(lines) + "\n"


SECTIONS = {"rules": rules_table, "exclusions": exclusions_table}


def render(text: str) -> str:
    """The text with every marked section regenerated."""

    def section(match: re.Match[str]) -> str:
        return match.group(1) + SECTIONS[match.group(2)]() + match.group(4)

    return MARKER.sub(section, text)


def outputs() -> dict[Path, str]:
    """Each target with its marked sections regenerated."""
    return {path: render(path.read_text(encoding="utf-8")) for path in TARGETS}
