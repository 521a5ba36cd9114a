"""The Ansible inventory a lab writes: routers as SSH hosts, zones and controllers as data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .topology import Host, Leg, Router, Topology

ROUTER_GROUP = "netlab_routers"
MGMT_INTERFACE = "mgmt0"
PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}  # keys YAML would not read as strings


def port_ranges(ports: tuple[int, ...]) -> list[dict[str, int]]:
    """(502, 2001, 2002, 2003) -> [{start: 502, end: 502}, {start: 2001, end: 2003}]"""
    ranges: list[dict[str, int]] = []
    for port in ports:
        if ranges and ranges[-1]["end"] == port - 1:
            ranges[-1]["end"] = port
        else:
            ranges.append({"start": port, "end": port})
    return ranges


def _leg_vars(topo: Topology, leg: Leg) -> dict[str, Any]:
    found = {
        "router": leg.router,
        "kind": leg.kind,
        "interface": leg.name,
        "cidr": str(leg.network),
        "gateway": str(leg.gateway),
        "hosts": {host.name: str(host.address) for host in topo.hosts_on(leg.name)},
    }
    if leg.network6 is not None:
        found |= {
            "cidr6": str(leg.network6),
            "gateway6": str(leg.gateway6),
            "hosts6": {host.name: str(host.address6) for host in topo.hosts_on(leg.name) if host.address6},
        }
    return found


def _host_vars(topo: Topology, host: Host, prefix: str) -> dict[str, Any]:
    leg = topo.legs[host.leg]
    return {
        "address": str(host.address),
        **({"address6": str(host.address6)} if host.address6 else {}),
        "leg": leg.name,
        "kind": leg.kind,
        "router": leg.router,
        "namespace": f"{prefix}-{host.name}",
        "listen": {"tcp": port_ranges(host.tcp), "udp": port_ranges(host.udp)},
    }


def _router_vars(router: Router, prefix: str, state_dir: Path, python: str) -> dict[str, Any]:
    ssh = state_dir / "ssh"
    return {
        "ansible_host": str(router.mgmt_address),
        "ansible_connection": "ssh",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(ssh / "id_ed25519"),
        "ansible_ssh_common_args": f"-o StrictHostKeyChecking=no -o UserKnownHostsFile={ssh / 'known_hosts'}",
        "ansible_python_interpreter": python,
        "netlab_namespace": f"{prefix}-{router.name}",
        "netlab_mgmt_interface": MGMT_INTERFACE,
        "netlab_mgmt_address": str(router.mgmt_address),
        "netlab_router_legs": list(router.legs),
    }


def build(topo: Topology, prefix: str, state_dir: Path, python: str) -> dict[str, Any]:
    """The inventory document (YAML inventory plugin layout)."""
    legs = topo.legs
    children: dict[str, Any] = {
        ROUTER_GROUP: {"hosts": {r.name: _router_vars(r, prefix, state_dir, python) for r in topo.routers.values()}}
    }
    for router in topo.routers.values():
        for group in router.groups:
            children.setdefault(group, {"hosts": {}})["hosts"][router.name] = {}
    segment_hosts = [host for host in topo.hosts.values() if legs[host.leg].kind == "segment"]
    controllers = {host.name: str(host.address) for host in segment_hosts}
    controllers6 = {host.name: str(host.address6) for host in segment_hosts if host.address6}
    return {
        "all": {
            "vars": {
                "netlab_name": topo.name,
                "netlab_prefix": prefix,
                "netlab_state_dir": str(state_dir),
                "netlab_python": python,
                "netlab_legs": {name: _leg_vars(topo, leg) for name, leg in legs.items()},
                "netlab_zones": [name for name, leg in legs.items() if leg.kind == "zone"],
                "netlab_segments": [name for name, leg in legs.items() if leg.kind == "segment"],
                "netlab_hosts": {name: _host_vars(topo, host, prefix) for name, host in topo.hosts.items()},
                "netlab_controllers": controllers,
                "netlab_controllers6": controllers6,
            },
            "children": children,
        }
    }


def to_yaml(value: Any, indent: int = 0) -> str:
    """Mappings as YAML blocks, everything else as JSON flow (JSON is valid YAML), keys plain when safe."""
    if not isinstance(value, dict) or not value:
        return json.dumps(value)
    lines = []
    for key, item in value.items():
        plain = PLAIN_KEY.match(str(key)) and str(key).lower() not in YAML_WORDS
        name = key if plain else json.dumps(str(key))
        if isinstance(item, dict) and item:
            lines.append(f"{'  ' * indent}{name}:\n{to_yaml(item, indent + 1)}")
        else:
            lines.append(f"{'  ' * indent}{name}: {to_yaml(item)}")
    return "\n".join(lines)


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(f"---\n# Written by tools/netlab; regenerated on every `up`.\n{to_yaml(document)}\n")
    return path
