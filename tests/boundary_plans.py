"""Segment plans the boundary tests share (tests/unit/plugins/plugin_utils/test_boundary.py and
tests/integration/test_boundary_cisco_parsed.py): the example site's segment hosts (through tools/boundary_docs.py),
a dual-stack segment planned by the opto22_segment_plan filter, and a plan written by hand in the planner's output
shape. The importer makes the checkout importable as ansible_collections.otnet.ports first."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ansible.plugins.loader import filter_loader
from boundary_docs import site_plans

from ansible_collections.otnet.ports.plugins.plugin_utils import _boundary

HOST = "seg1"
# A dual-stack segment: an IPv6 controller, conduits of both families, of one family each, with a port range (scm),
# chart-logic ports in two conduits, a dotted conduit name, a conduit with no services, an outbound entry of both.
DUAL_STACK = {
    "opto22_segment_controllers": ["10.10.1.11", "10.10.1.12", "fd00:10:1::11"],
    "opto22_segment_conduits": [
        {"name": "scada", "sources": ["10.20.1.0/24", "fd00:20:1::/64"], "services": ["modbus_tcp", "scm"]},
        {
            "name": "eng.ws",
            "sources": ["10.20.2.0/24"],
            "services": ["optommp"],
            "ports": [{"start": 49210, "end": 49211, "protocol": "udp"}],
        },
        {
            "name": "v6only",
            "sources": ["fd00:20:2::/64"],
            "services": ["snmp"],
            "ports": [{"start": 49300, "end": 49300, "protocol": "tcp"}],
        },
        {"name": "nothing", "sources": ["10.30.0.0/16", "fd00:30::/48"], "services": []},
    ],
    "opto22_segment_outbound": [
        {"name": "traps", "destinations": ["10.20.3.10", "fd00:20:3::10"], "services": ["snmp_traps"]}
    ],
    "opto22_segment_management": {"sources": ["10.20.2.50"]},
}
# A plan written by hand in the planner's output shape (team contract 2), so this module is tested on the shape too.
CONTRACT_PLAN = {
    "table": "otnet_opto22",
    "state": "present",
    "controllers": {"ipv4": ["10.10.9.0/29"], "ipv6": []},
    "conduits": [
        {
            "name": "hmi",
            "sources": ["10.20.9.5", "10.20.9.6"],
            "services": ["groov_app"],
            "flows": [
                {"service": "groov_app", "protocol": "tcp", "start": 443, "end": 443, "basis": "assumed"},
                {"service": "groov_app", "protocol": "tcp", "start": 8443, "end": 8443, "basis": "assumed"},
            ],
        },
        {
            "name": "historian",
            "sources": ["10.20.8.0/24"],
            "services": ["groov_app"],
            "flows": [
                {"service": "groov_app", "protocol": "tcp", "start": 443, "end": 443, "basis": "assumed"},
                {"service": "groov_app", "protocol": "tcp", "start": 8443, "end": 8443, "basis": "assumed"},
                {"service": "chart_logic", "protocol": "tcp", "start": 51000, "end": 51010, "basis": "stated"},
            ],
        },
    ],
    "outbound": [
        {
            "name": "ntp",
            "destinations": ["10.20.3.1"],
            "services": ["ntp"],
            "flows": [{"service": "ntp", "protocol": "udp", "start": 123, "end": 123, "basis": "standard"}],
        }
    ],
}


def segment_plan(settings: Mapping[str, Any], overlay: Any = None) -> dict[str, Any]:
    return filter_loader.get("otnet.ports.opto22_segment_plan").j2_function(settings, overlay=overlay)


@functools.cache
def plans() -> dict[str, tuple[str, dict[str, Any]]]:
    """Plan name -> (host, plan): the example site's segment hosts, the dual-stack segment, the hand-written plan."""
    found = {host: (host, plan) for host, plan in site_plans().items()}
    found["dual-stack"] = (HOST, segment_plan(DUAL_STACK))
    found["contract-2"] = ("segment", CONTRACT_PLAN)
    return found


@functools.cache
def bundle(name: str) -> dict[str, Any]:
    host, plan = plans()[name]
    return _boundary.boundary_policy(plan, host)


def plan_target_pairs() -> list[tuple[str, str]]:
    return [(name, target) for name in plans() for target in _boundary.renderable_targets(bundle(name))]
