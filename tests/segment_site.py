"""The opto22_segment unit tests' site: the worked example of docs/opto22_segment.md, variations of it, and the
Opto 22 document's ports (tests/seedrows.py), never the catalog's. The unit tests import it through pytest's
pythonpath (pyproject.toml), as they do tests/igor_gateway_seed.py and tests/seedrows.py.
"""

from __future__ import annotations

import copy
import re

from seedrows import opto22_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import render_nft
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import PREFIX, plan_segment

MGMT_CONNECTION = "10.254.1.1 40022 10.254.1.2 22"
DELETE = object()


def seed_ports(description: str) -> set[int]:
    """Ports of the Opto 22 document's rows with this description."""
    ports = {
        port
        for row in opto22_rows()
        if row.description == description
        for start, end in row.ranges
        for port in range(start, end + 1)
    }
    assert ports, description
    return ports


def site() -> dict:
    """The worked example of docs/opto22_segment.md: SCADA, engineering, NMS and corporate zones, by the role's full
    variable names (the planner's input); the settings it leaves out take the spec's defaults."""
    return {
        "opto22_segment_controllers": ["10.10.1.11", "10.10.1.12"],
        "opto22_segment_conduits": [
            {"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp", "ethernet_ip"]},
            {
                "name": "engineering",
                "sources": ["10.20.2.0/24"],
                "services": ["pac_control_host", "pac_control_download", "optommp"],
            },
            {"name": "nms", "sources": ["10.20.3.0/24"], "services": ["snmp"]},
            {"name": "corporate", "sources": ["10.30.1.0/24"], "services": []},
        ],
        "opto22_segment_outbound": [{"name": "traps", "destinations": ["10.20.3.10"], "services": ["snmp_traps"]}],
        "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
    }


def with_change(path: str, value):
    """site() with the value at a dotted/indexed path ("conduits[1].services[0]", the variable without its
    opto22_segment_ prefix) replaced or set; DELETE removes it."""
    settings = copy.deepcopy(site())
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    parts[0] = PREFIX + parts[0]
    target = settings
    for part in parts[:-1]:
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return settings


def render(catalog, settings=None):
    """render_nft of the plan for site() (or the given settings), planned without a management connection."""
    return render_nft(plan_segment(catalog, site() if settings is None else settings))
