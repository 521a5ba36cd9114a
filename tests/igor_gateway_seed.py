#!/usr/bin/env python3
"""What the Igor document asks of an Igor Gateway host, read from the verbatim seed (tests/seedrows.py), never from
the catalog: the expectations the igor_gateway tests (unit and molecule) hold the role's plan to. role_settings()
gives the unit tests the role's own defaults to plan with.

Run as a script it prints them as JSON, for the molecule scenario:
    {"cells": [{"table", "direction", "protocol", "port", "label"}, ...],
     "paths": [...], "processes": [...], "install_dir": "...", "bacnet_program": "..."}
"""

from __future__ import annotations

import functools
import json
import ntpath
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedrows import igor_exclusions, igor_rows

# The tables of the document that concern the gateway host (the firmware table is the Igor node's own).
GATEWAY_HOST_TABLES = ("gateway", "bacnet")
ROLE_DEFAULTS = Path(__file__).resolve().parents[1] / "roles" / "igor_gateway" / "defaults" / "main.yml"


@functools.cache
def _role_defaults() -> dict[str, Any]:
    return yaml.safe_load(ROLE_DEFAULTS.read_text(encoding="utf-8"))


def role_settings(**variables: Any) -> dict[str, Any]:
    """The role's defaults, igor_gateway_version 1.12.1 (the gateway table's floor), then the given variables."""
    return {**_role_defaults(), "igor_gateway_version": "1.12.1", **variables}


def seed_cells() -> list[dict[str, Any]]:
    """One entry per filled cell of the gateway and BACnet tables, labelled with the table's legend."""
    return [
        {"table": row.table, "direction": direction, "protocol": protocol, "port": port, "label": row.legend[port]}
        for row in igor_rows()
        if row.table in GATEWAY_HOST_TABLES
        for direction, protocol, port in row.filled_cells()
    ]


def seed_exclusions() -> dict[str, Any]:
    """The exclusion list, the install directory its paths share, and the BACnet service executable in it."""
    found = igor_exclusions()
    install_dir = ntpath.commonpath(found["paths"] + found["processes"])
    (bacnet,) = [path for path in found["processes"] if ntpath.basename(ntpath.dirname(path)).lower() == "bacnet"]
    return {**found, "install_dir": install_dir, "bacnet_program": bacnet}


def moved(path: str, install_dir: str) -> str:
    """A seed path below another install directory."""
    base = seed_exclusions()["install_dir"]
    assert path.startswith(base + "\\"), path
    return install_dir + path[len(base) :]


def main() -> int:
    print(json.dumps({"cells": seed_cells(), **seed_exclusions()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
