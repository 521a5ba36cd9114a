"""The `cisco` boundary configuration round-trips through cisco.ios.ios_acls with `state: parsed` (offline: the module
ships in the PyPI `ansible` package; the Makefile's DEP_COLLECTIONS vendors cisco.ios, ansible.netcommon and
ansible.utils into .cache/collections) into exactly the permits the plan says, and ends with the denies to and from
the controllers."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig
from conftest import DEPENDENCIES, ansible_env, run
from dev_collection import link_checkout

if AnsibleCollectionConfig.collection_finder is None:  # alone, without the unit tests' conftest
    init_plugin_loader([str(link_checkout())])

from boundary_plans import bundle, plans

from ansible_collections.otnet.ports.plugins.plugin_utils import _boundary

PLANS = sorted(plans())
IOS = DEPENDENCIES / "ansible_collections" / "cisco" / "ios"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not IOS.is_dir(), reason=f"cisco.ios is not in {DEPENDENCIES} (make deps vendors it)"),
]
PLAYBOOK = {
    "hosts": "localhost",
    "gather_facts": False,
    "vars": {"ansible_connection": "ansible.netcommon.network_cli", "ansible_network_os": "cisco.ios.ios"},
    "tasks": [
        {
            "name": "Parse each rendered configuration offline",
            "cisco.ios.ios_acls": {"state": "parsed", "running_config": "{{ lookup('file', item) }}"},
            "loop": "{{ configs }}",
            "register": "parsed",
        },
        {
            "name": "Keep what ios_acls parsed",
            "ansible.builtin.copy": {
                "content": "{{ parsed.results | map(attribute='parsed') | list | to_json }}",
                "dest": "{{ result }}",
                "mode": "0644",
            },
        },
    ],
}

Entry = tuple[str, str, str, str, int]  # afi, protocol, source, destination, port


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, Any]:
    """ios_acls' parsed ACLs of each plan's cisco configuration, by plan name (one playbook run for all)."""
    folder = tmp_path_factory.mktemp("cisco")
    configs = []
    for name in PLANS:
        path = folder / f"{name}.acl"
        path.write_text(_boundary.render(bundle(name), "cisco"))
        configs.append(str(path))
    (folder / "parse.yml").write_text(yaml.safe_dump([PLAYBOOK], sort_keys=False))
    (folder / "vars.json").write_text(json.dumps({"configs": configs, "result": str(folder / "parsed.json")}))
    command = ["ansible-playbook", "-i", "localhost,", str(folder / "parse.yml"), "-e", f"@{folder / 'vars.json'}"]
    result = run(command, env=ansible_env(str(DEPENDENCIES)))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dict(zip(PLANS, json.loads((folder / "parsed.json").read_text()), strict=True))


def expected_permits(plan: Mapping[str, Any]) -> set[Entry]:
    """Every (family, protocol, source, destination, port) the plan admits, per address of the controllers."""
    controllers = [ipaddress.ip_network(a) for a in [*plan["controllers"]["ipv4"], *plan["controllers"]["ipv6"]]]
    entries: set[Entry] = set()
    for kind, peers in (("conduits", "sources"), ("outbound", "destinations")):
        for entry in plan[kind]:
            for peer in map(ipaddress.ip_network, entry[peers]):
                for controller in [c for c in controllers if c.version == peer.version]:
                    pair = (peer, controller) if kind == "conduits" else (controller, peer)
                    entries |= {
                        (f"ipv{peer.version}", flow["protocol"], str(pair[0]), str(pair[1]), port)
                        for flow in entry["flows"]
                        for port in range(flow["start"], flow["end"] + 1)
                    }
    return entries


def _network(end: Mapping[str, Any]) -> str:
    if end.get("any"):
        return "any"
    if "host" in end:
        return str(ipaddress.ip_network(end["host"]))
    if "wildcard_bits" in end:
        return str(ipaddress.ip_network(f"{end['address']}/{end['wildcard_bits']}"))
    return str(ipaddress.ip_network(end["address"]))


def _ports(port_protocol: Mapping[str, Any] | None, protocol: str) -> Iterable[int]:
    if not port_protocol:
        return [0]
    if "range" in port_protocol:
        return range(int(port_protocol["range"]["start"]), int(port_protocol["range"]["end"]) + 1)
    ((operator, value),) = port_protocol.items()
    assert operator == "eq", port_protocol
    return [int(value) if str(value).isdigit() else socket.getservbyname(str(value), protocol)]


def parsed_entries(acls: list[dict[str, Any]], grant: str) -> set[Entry]:
    entries: set[Entry] = set()
    for family in acls:
        for acl in family["acls"]:
            for ace in acl.get("aces", []):
                if ace.get("grant") != grant:
                    continue
                ports = _ports(ace["destination"].get("port_protocol"), ace["protocol"])
                entries |= {
                    (family["afi"], ace["protocol"], _network(ace["source"]), _network(ace["destination"]), port)
                    for port in ports
                }
    return entries


@pytest.mark.parametrize("name", PLANS)
def test_ios_acls_parses_exactly_the_plans_permits(parsed, name):
    assert parsed_entries(parsed[name], "permit") == expected_permits(plans()[name][1])


@pytest.mark.parametrize("name", PLANS)
def test_ios_acls_parses_the_denies_to_and_from_each_controller(parsed, name):
    plan = plans()[name][1]
    denies = parsed_entries(parsed[name], "deny")
    for controller in map(ipaddress.ip_network, [*plan["controllers"]["ipv4"], *plan["controllers"]["ipv6"]]):
        afi, protocol = f"ipv{controller.version}", "ip" if controller.version == 4 else "ipv6"
        assert (afi, protocol, "any", str(controller), 0) in denies
        assert (afi, protocol, str(controller), "any", 0) in denies


def test_ios_acls_finds_the_two_acls(parsed):
    names = {(family["afi"], acl["name"]) for family in parsed["dual-stack"] for acl in family["acls"]}
    assert names == {("ipv4", "otnet-opto22"), ("ipv6", "ipv6-otnet-opto22")}
