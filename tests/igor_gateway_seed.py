#!/usr/bin/env python3
"""What the Igor document asks of an Igor Gateway host, read from the verbatim seed (tests/seedrows.py), never from
the catalog: the expectations the igor_gateway tests (unit and molecule) hold the role's plan to. role_settings()
gives the unit tests the planner's input (the role's variables by full name; unset ones take the spec's defaults).

Run as a script it prints them as JSON, for the molecule scenario:
    {"cells": [{"table", "direction", "protocol", "port", "label"}, ...],
     "paths": [...], "processes": [...], "install_dir": "...", "bacnet_program": "..."}
"""

from __future__ import annotations

import json
import ntpath
import sys
from typing import Any

# tests/ is on pytest's pythonpath, and a script's own directory is on sys.path when it runs as one.
from seedrows import igor_exclusions, igor_rows

# The tables of the document that concern the gateway host (the firmware table is the Igor node's own).
GATEWAY_HOST_TABLES = ("gateway", "bacnet")


def role_settings(**variables: Any) -> dict[str, Any]:
    """igor_gateway_version 1.12.1 (the gateway table's floor), then the given variables; the planner fills in the
    others with the defaults of the role's argument spec."""
    return {"igor_gateway_version": "1.12.1", **variables}


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
