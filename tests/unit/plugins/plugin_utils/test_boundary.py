"""Boundary devices (plugins/plugin_utils/_boundary.py): a segment host's plan as an aerleon policy, and the same
verdicts on every aerleon target - aerleon's own AclCheck answers every flow of the plan, and a denied sample, the way
the plan does; the nftables output loads into a real nftables; the golden files of the example site have not
drifted (tools/boundary_docs.py writes them)."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader
from boundary_docs import GOLDEN, PAGE, outputs, site_plans, site_settings
from boundary_plans import CONTRACT_PLAN, DUAL_STACK, HOST, bundle, plan_target_pairs, plans
from dev_collection import link_checkout

from ansible_collections.otnet.ports.plugins.plugin_utils import _boundary
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import PortsError

# --- the plan's own verdicts ------------------------------------------------------------------------------------


def networks(addresses: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(address) for address in addresses]


def member(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """An address inside the network: itself for a host route, else the first address after the network's."""
    return str(network.network_address + (0 if network.num_addresses == 1 else 1))


def controllers(plan: Mapping[str, Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return networks([*plan["controllers"]["ipv4"], *plan["controllers"]["ipv6"]])


def plan_allows(plan: Mapping[str, Any], probe: Probe, zoned: bool) -> bool:
    """Whether the plan admits the packet: an entry whose peers hold the far end (and, on a zone-based target, whose
    name is the zone the packet comes from or goes to) has a flow of its protocol and port."""
    source, destination = ipaddress.ip_address(probe.source), ipaddress.ip_address(probe.destination)
    guarded = controllers(plan)
    for kind, peers in (("conduits", "sources"), ("outbound", "destinations")):
        for entry in plan[kind]:
            near, far = (destination, source) if kind == "conduits" else (source, destination)
            zone = probe.zones[0] if kind == "conduits" else probe.zones[1]
            if zoned and zone != entry["name"]:
                continue
            if not (any(near in net for net in guarded) and any(far in net for net in networks(entry[peers]))):
                continue
            if any(f["protocol"] == probe.protocol and f["start"] <= probe.port <= f["end"] for f in entry["flows"]):
                return True
    return False


@dataclass(frozen=True)
class Probe:
    source: str
    destination: str
    protocol: str
    port: int
    zones: tuple[str, str]
    why: str


OTHER = {"tcp": "udp", "udp": "tcp"}
STRANGERS = {4: "192.0.2.77", 6: "2001:db8::77"}  # documentation addresses, in no conduit of these plans


def probes(host: str, plan: Mapping[str, Any]) -> Iterator[Probe]:
    """Each flow's first and last port per source (or destination) network and controller of its family, and the
    denied sample: the ports just outside, the other protocol, a stranger's address, the reverse direction, and a
    zone-based target's other zones."""
    names = [entry["name"] for kind in ("conduits", "outbound") for entry in plan[kind]]
    for kind, peers in (("conduits", "sources"), ("outbound", "destinations")):
        for entry in plan[kind]:
            for far in networks(entry[peers]):
                for near in [c for c in controllers(plan) if c.version == far.version]:
                    yield from _entry_probes(host, kind, entry, far=member(far), near=member(near), names=names)


def _entry_probes(
    host: str, kind: str, entry: Mapping[str, Any], *, far: str, near: str, names: list[str]
) -> Iterator[Probe]:
    zones = (entry["name"], host) if kind == "conduits" else (host, entry["name"])
    source, destination = (far, near) if kind == "conduits" else (near, far)
    version = ipaddress.ip_address(far).version
    for flow in entry["flows"]:
        protocol = flow["protocol"]
        for port, why in ((flow["start"], "first port"), (flow["end"], "last port")):
            yield Probe(source, destination, protocol, port, zones, why)
        for port in (flow["start"] - 1, flow["end"] + 1):
            if 0 < port <= 65535:
                yield Probe(source, destination, protocol, port, zones, "port outside")
        yield Probe(source, destination, OTHER[protocol], flow["start"], zones, "other protocol")
        stranger = (STRANGERS[version], destination) if kind == "conduits" else (source, STRANGERS[version])
        yield Probe(*stranger, protocol, flow["start"], zones, "stranger")
        yield Probe(destination, source, protocol, flow["start"], (zones[1], zones[0]), "reverse direction")
        for other in sorted(set(names) - {entry["name"]})[:2]:
            other_zones = (other, host) if kind == "conduits" else (host, other)
            yield Probe(source, destination, protocol, flow["start"], other_zones, "other zone")


@pytest.mark.parametrize(("name", "target"), plan_target_pairs(), ids=str)
def test_aerleon_aclcheck_answers_every_flow_as_the_plan_does(name, target):
    host, plan = plans()[name]
    checker = _boundary.Checker(bundle(name), target)
    zoned = _boundary.TARGETS[target].layout == "zone"
    answers = {"accept": 0, "deny": 0}
    differences = []
    for probe in probes(host, plan):
        expected = "accept" if plan_allows(plan, probe, zoned) else "deny"
        got = checker.verdict(probe.source, probe.destination, probe.protocol, probe.port, probe.zones)
        answers[got] += 1
        if got != expected:
            differences.append(f"{probe}: plan {expected}, aerleon {got}")
    assert not differences, "\n".join(differences[:20])
    flows = sum(len(entry["flows"]) for entry in [*plan["conduits"], *plan["outbound"]])
    assert answers["accept"] >= 2 * flows > 0
    assert answers["deny"] >= 3 * flows  # at least the other protocol, the stranger and the reverse direction


@pytest.mark.parametrize(("probe", "expected"), [
    (Probe("10.20.1.9", "10.10.1.11", "tcp", 502, ("scada", HOST), "in"), "accept"),
    (Probe("10.20.1.9", "10.10.1.11", "udp", 502, ("scada", HOST), "other protocol"), "deny"),
    (Probe("10.20.1.9", "10.10.1.11", "tcp", 502, ("eng.ws", HOST), "wrong zone"), "deny"),
    (Probe("fd00:20:2::9", "fd00:10:1::11", "tcp", 49300, ("v6only", HOST), "v6 chart port"), "accept"),
    (Probe("10.10.1.12", "10.20.3.10", "udp", 162, (HOST, "traps"), "out"), "accept"),
    (Probe("10.20.3.10", "10.10.1.12", "udp", 162, ("traps", HOST), "traps reversed"), "deny"),
    (Probe("10.30.0.9", "10.10.1.11", "tcp", 502, ("nothing", HOST), "the conduit with no services"), "deny"),
], ids=lambda value: getattr(value, "why", value))  # fmt: skip
def test_named_verdicts_on_srx(probe, expected):
    """A few verdicts spelled out, so a wrong oracle above could not hide a wrong policy."""
    checker = _boundary.Checker(bundle("dual-stack"), "srx")
    assert checker.verdict(probe.source, probe.destination, probe.protocol, probe.port, probe.zones) == expected


# --- the policy as data -------------------------------------------------------------------------------------------


def test_policy_and_definitions_are_plain_yaml_data():
    data = bundle("dual-stack")
    assert yaml.safe_load(yaml.safe_dump(data)) == data
    assert set(data) == {"policy", "definitions"}
    assert data["policy"]["filename"] == HOST


def test_networks_name_the_controllers_and_each_entry_with_flows():
    networks_ = bundle("dual-stack")["definitions"]["networks"]
    assert sorted(networks_) == ["CONTROLLERS", "IN_ENG_WS", "IN_SCADA", "IN_V6ONLY", "OUT_TRAPS"]
    addresses = [value["address"] for value in networks_["CONTROLLERS"]["values"]]
    assert addresses == ["10.10.1.11", "10.10.1.12", "fd00:10:1::11"]


def test_chart_logic_ports_are_named_per_conduit_and_catalog_services_once():
    services = bundle("dual-stack")["definitions"]["services"]
    assert services["ENG_WS_CHART_LOGIC"] == [{"port": "49210-49211", "protocol": "udp"}]
    assert services["V6ONLY_CHART_LOGIC"] == [{"port": 49300, "protocol": "tcp"}]
    assert "CHART_LOGIC" not in services
    assert services["SCM"] == [{"port": "22500-22531", "protocol": "tcp"}, {"port": "22500-22531", "protocol": "udp"}]


def test_one_accept_term_per_entry_and_protocol_then_the_denies():
    (acl,) = [f for f in bundle("dual-stack")["policy"]["filters"] if "cisco" in f["header"]["targets"]]
    assert [term["name"] for term in acl["terms"]] == [
        "in-scada-tcp", "in-scada-udp", "in-eng.ws-tcp", "in-eng.ws-udp", "in-v6only-tcp", "in-v6only-udp",
        "out-traps-udp", "deny-to-controllers", "deny-from-controllers",
    ]  # fmt: skip


def test_a_service_whose_ports_differ_between_entries_is_named_per_entry():
    plan = {
        **CONTRACT_PLAN,
        "conduits": [
            {**CONTRACT_PLAN["conduits"][0], "name": "a", "flows": [_flow("site_x", 1000)]},
            {**CONTRACT_PLAN["conduits"][0], "name": "b", "flows": [_flow("site_x", 1001)]},
        ],
    }
    services = _boundary.boundary_policy(plan)["definitions"]["services"]
    assert services["A_SITE_X"] == [{"port": 1000, "protocol": "tcp"}]
    assert services["B_SITE_X"] == [{"port": 1001, "protocol": "tcp"}]


def _flow(service: str, port: int) -> dict[str, Any]:
    return {"service": service, "protocol": "tcp", "start": port, "end": port, "basis": "stated"}


def test_entry_names_that_sanitise_alike_get_distinct_definitions():
    first = {**CONTRACT_PLAN["conduits"][0], "name": "a.b"}
    second = {**CONTRACT_PLAN["conduits"][1], "name": "a_b"}
    data = _boundary.boundary_policy({**CONTRACT_PLAN, "conduits": [first, second]})
    assert {"IN_A_B", "IN_A_B_2"} <= set(data["definitions"]["networks"])
    assert "permit tcp host 10.20.9.5" in _boundary.render(data, "cisco")


def test_the_filter_takes_the_role_variables_as_well_as_the_plan():
    policy = filter_loader.get("otnet.ports.boundary_policy").j2_function
    assert policy(DUAL_STACK, host=HOST) == bundle("dual-stack")
    host, (settings, overlay) = next(iter(site_settings().items()))
    assert policy(settings, host=host, overlay=overlay) == bundle(host)


def test_boundary_config_with_no_other_argument_renders_the_default_host():
    config = filter_loader.get("otnet.ports.boundary_config").j2_function
    plan = plans()["fw-line1"][1]
    text = config(plan, "srx")
    assert text == _boundary.render(_boundary.boundary_policy(plan, "segment"), "srx")
    assert "to-zone segment" in text


# --- hostile input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("plan", "target", "host", "message"), [
    pytest.param(CONTRACT_PLAN, "pix", "segment",
                 r"target: unknown boundary target 'pix'; known: arista, cisco, ciscoasa, cisconx, fortigate, "
                 r"juniper, nftables, paloalto, srx, windows_advfirewall$", id="unknown target"),
    pytest.param(CONTRACT_PLAN, "Cisco", "segment",
                 r"target: unknown boundary target 'Cisco' \(did you mean 'cisco'\?\)", id="target in capitals"),
    pytest.param(CONTRACT_PLAN, ["cisco"], "segment", r"target: unknown boundary target \['cisco'\]",
                 id="target as a list"),
    pytest.param(CONTRACT_PLAN, "cisco", "line 1", r"host: 'line 1' is not a zone name; a name of at most 48",
                 id="host with a space"),
    pytest.param(CONTRACT_PLAN, "srx", "a" * 49, r"host: 'a{49}' is not a zone name", id="host too long"),
    pytest.param(CONTRACT_PLAN, "srx", "", r"host: '' is not a zone name", id="empty host"),
    pytest.param({"table": "otnet_opto22", "state": "absent", "paths": {}}, "cisco", "segment",
                 r"state: 'absent'; a plan of a removed policy has no boundary policy", id="plan of state absent"),
    pytest.param({"table": "otnet_opto22", "state": "present", "text": ""}, "cisco", "segment",
                 r"the plan has no controllers, conduits, outbound; make it with opto22_segment_plan\(details=true\)",
                 id="plan without details"),
    pytest.param({**CONTRACT_PLAN, "controllers": {"ipv4": [], "ipv6": []}}, "cisco", "segment",
                 r"controllers: .*needs at least one controller address", id="no controllers"),
    pytest.param("fw-line1", "cisco", "segment", r"the plan must be the dict opto22_segment_plan returns, got str",
                 id="a host name instead of a plan"),
    pytest.param({**CONTRACT_PLAN, "outbound": [{**CONTRACT_PLAN["outbound"][0], "destinations": ["10.20.3.1/24"]}]},
                 "cisco", "segment",
                 r"outbound\[0\]\.destinations \(ntp\): '10\.20\.3\.1/24' is not an address or network",
                 id="host bits set"),
])  # fmt: skip
def test_bad_input_is_an_error_naming_what_and_where(plan, target, host, message):
    config = filter_loader.get("otnet.ports.boundary_config").j2_function
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.boundary_config: {message}"):
        config(plan, target, host=host)


def test_ciscoasa_is_refused_for_a_plan_with_ipv6_rather_than_rendered_without_it():
    with pytest.raises(
        PortsError,
        match=r"^target: aerleon's 'ciscoasa' renders IPv4 entries only.*\(CONTROLLERS fd00:10:1::11, IN_SCADA fd00",
    ):
        _boundary.render(bundle("dual-stack"), "ciscoasa")
    assert "ciscoasa" not in _boundary.renderable_targets(bundle("dual-stack"))
    assert "ciscoasa" in _boundary.renderable_targets(bundle("fw-line1"))


def test_a_missing_aerleon_is_an_error_naming_the_package(monkeypatch):
    _boundary.aerleon_modules.cache_clear()
    monkeypatch.setitem(sys.modules, "aerleon", None)
    try:
        config = filter_loader.get("otnet.ports.boundary_config").j2_function
        with pytest.raises(AnsibleFilterError, match=r"need the Python package 'aerleon'.*pip install aerleon"):
            config(CONTRACT_PLAN, "cisco")
        # boundary_policy builds data only: no aerleon needed
        assert filter_loader.get("otnet.ports.boundary_policy").j2_function(CONTRACT_PLAN)["policy"]
    finally:
        _boundary.aerleon_modules.cache_clear()


@pytest.mark.parametrize("name", ["dual-stack", "fw-line1"])
def test_a_family_filter_never_holds_a_rule_without_addresses(name):
    """aerleon renders a term whose addresses are all of the other family without any address match; in an nftables
    table of one family that would accept the port from anywhere. Every accept and drop rule names its addresses."""
    text = _boundary.render(bundle(name), "nftables")
    rules = [line.strip() for line in text.splitlines() if line.strip().endswith((" accept", " drop"))]
    rules = [rule for rule in rules if rule != "ct state established,related accept"]
    assert rules
    assert all(" saddr " in rule or " daddr " in rule for rule in rules), rules


def test_cisco_family_acls_are_plain_extended_entries_with_ranges():
    text = _boundary.render(bundle("dual-stack"), "cisco")
    assert "object-group" not in text
    assert "permit tcp 10.20.1.0 0.0.0.255 host 10.10.1.11 range 22500 22531" in text
    assert "ipv6 access-list ipv6-otnet-opto22" in text
    assert "permit tcp fd00:20:2::/64 host fd00:10:1::11 eq 49300" in text


# --- the nftables target in a real nftables ---------------------------------------------------------------------


NFT_READY = os.geteuid() == 0 and shutil.which("nft") and shutil.which("ip")


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"othb-{os.getpid()}"
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


@pytest.mark.netns
@pytest.mark.skipif(not NFT_READY, reason="needs root, nft and ip")
@pytest.mark.parametrize("name", ["fw-line1", "fw-line2", "dual-stack", "contract-2"])
def test_the_nftables_output_loads_into_a_real_nftables(name, namespace, tmp_path):
    rules = tmp_path / "boundary.nft"
    rules.write_text(_boundary.render(bundle(name), "nftables"))
    inside = ["ip", "netns", "exec", namespace, "nft"]
    check = subprocess.run([*inside, "-c", "-f", str(rules)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    load = subprocess.run([*inside, "-f", str(rules)], capture_output=True, text=True, check=False)
    assert load.returncode == 0, load.stderr
    listed = subprocess.run([*inside, "list", "ruleset"], capture_output=True, text=True, check=True).stdout
    families = {"ip"} | ({"ip6"} if plans()[name][1]["controllers"]["ipv6"] else set())
    assert {f"table {family} filtering_policies" for family in families} <= {
        line.strip(" {") for line in listed.splitlines() if line.startswith("table")
    }
    assert "hook forward priority filter; policy accept;" in listed
    assert listed.count("jump deny-to-controllers") == len(families)


# --- golden files -------------------------------------------------------------------------------------------------


@functools.cache
def generated() -> dict[Path, str]:
    return outputs()


@pytest.mark.parametrize("path", sorted(generated()), ids=lambda path: str(path.relative_to(GOLDEN.parents[3])))
def test_golden_files_have_not_drifted(path):
    assert path.is_file(), f"{path} is missing; run: make docs"
    assert path.read_text(encoding="utf-8") == generated()[path], f"{path} drifted from the plans; run: make docs"


def test_no_stray_golden_files():
    stray = {path for path in GOLDEN.rglob("*") if path.is_file()} - set(generated())
    assert not stray, f"golden files no generator writes: {sorted(map(str, stray))}"


def test_golden_files_cover_every_target_of_every_example_host():
    hosts = site_plans()
    assert hosts, "examples/site has no segment hosts"
    for host in hosts:
        names = {path.name for path in generated() if path.parent == GOLDEN / host}
        expected = {f"{t}{_boundary.suffix(t)}" for t in _boundary.renderable_targets(bundle(host))}
        assert expected <= names
        assert len(expected) == len(_boundary.TARGETS)  # the example site is IPv4 only: every target renders
    assert "## fw-line1: `cisco`" in generated()[PAGE]
    assert "## fw-line1: `srx`" in generated()[PAGE]


@pytest.mark.slow
def test_aerleons_own_aclgen_renders_the_same_files_from_the_policy_and_definitions_yaml(tmp_path):
    """A site that already runs aerleon can take the YAML over: aclgen gives byte for byte the filter's text."""
    host = "fw-line1"
    (tmp_path / "policies" / "pol").mkdir(parents=True)
    (tmp_path / "def").mkdir()
    policy = (GOLDEN / host / "policy.yaml").read_text(encoding="utf-8")
    (tmp_path / "policies" / "pol" / f"{host}.yaml").write_text(policy, encoding="utf-8")
    definitions = (GOLDEN / host / "def" / "definitions.yaml").read_text(encoding="utf-8")
    (tmp_path / "def" / "definitions.yaml").write_text(definitions, encoding="utf-8")
    aclgen = Path(sys.executable).parent / "aclgen"
    command = [
        str(aclgen),
        "--base_directory",
        "policies",
        "--definitions_directory",
        "def",
        "--output_directory",
        "out",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    for target in _boundary.renderable_targets(bundle(host)):
        suffix = _boundary.suffix(target)
        written = (tmp_path / "out" / f"{host}{suffix}").read_text(encoding="utf-8")
        assert written == generated()[GOLDEN / host / f"{target}{suffix}"], target


# --- the nftables target on a lab router, with real packets -----------------------------------------------------

LAB_TOPOLOGY = {  # format: tools/netlab/README.md; one router between a dual-stack segment and four zones
    "name": "boundary",
    "mgmt_cidr": "10.254.77.0/30",
    "routers": {
        "r1": {
            "legs": {
                "ctl": {"cidr": "10.10.1.0/24", "cidr6": "2001:db8:10:1::/64", "kind": "segment"},
                "scada": {"cidr": "10.20.1.0/24", "cidr6": "2001:db8:20:1::/64"},
                "eng": {"cidr": "10.20.2.0/24"},
                "nms": {"cidr": "10.20.3.0/24", "cidr6": "2001:db8:20:3::/64"},
                "corp": {"cidr": "10.30.1.0/24", "cidr6": "2001:db8:30:1::/64"},
            }
        }
    },
    "hosts": {
        "pac1": {
            "leg": "ctl",
            "address": "10.10.1.11",
            "address6": "2001:db8:10:1::11",
            "listen": {"catalog": [{"services": ["modbus_tcp", "optommp", "snmp", "pac_control_host", "groov_app"]}]},
        },
        "pac2": {"leg": "ctl", "address": "10.10.1.12", "listen": {"catalog": [{"services": ["modbus_tcp"]}]}},
        "scada1": {"leg": "scada", "address": "10.20.1.10", "address6": "2001:db8:20:1::10"},
        "eng1": {"leg": "eng", "address": "10.20.2.10"},
        "nms1": {
            "leg": "nms",
            "address": "10.20.3.10",
            "address6": "2001:db8:20:3::10",
            "listen": {"catalog": [{"services": ["snmp_traps"]}]},
        },
        "corp1": {"leg": "corp", "address": "10.30.1.10", "address6": "2001:db8:30:1::10"},
    },
}
LAB_VARIABLES = {
    "opto22_segment_controllers": ["10.10.1.11", "10.10.1.12", "2001:db8:10:1::11"],
    "opto22_segment_conduits": [
        {"name": "scada", "sources": ["10.20.1.0/24", "2001:db8:20:1::/64"], "services": ["modbus_tcp", "optommp"]},
        {"name": "eng", "sources": ["10.20.2.0/24"], "services": ["pac_control_host", "groov_app"]},
        {"name": "nms", "sources": ["10.20.3.0/24", "2001:db8:20:3::/64"], "services": ["snmp"]},
        {"name": "corporate", "sources": ["10.30.0.0/16"], "services": []},
    ],
    "opto22_segment_outbound": [
        {"name": "traps", "destinations": ["10.20.3.10", "2001:db8:20:3::10"], "services": ["snmp_traps"]}
    ],
    "opto22_segment_management": {"sources": ["10.254.77.1"]},
}


def _lab_missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [tool for tool in ("ip", "nft", "ssh-keygen", "sysctl") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed"
    return None if Path("/usr/sbin/sshd").exists() else "/usr/sbin/sshd is not installed (openssh-server)"


def netlab(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    repo = GOLDEN.parents[3]
    argv = [sys.executable, "-m", "tools.netlab", *args]
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(link_checkout())}  # the catalog of this checkout
    return subprocess.run(argv, cwd=repo, input=stdin, env=env, capture_output=True, text=True, check=False)


@pytest.mark.netns
@pytest.mark.skipif(_lab_missing() is not None, reason=_lab_missing() or "")
def test_the_nftables_output_on_a_lab_router_gives_the_roles_probe_matrix(tmp_path, catalog):
    """The nftables configuration, loaded into a netlab router (namespaces othb<pid>-*), gives every forwarded flow
    of the flow oracle's probe matrix - the matrix the role's own table passes - its expected verdict, with real
    packets over IPv4 and IPv6. Flows to the router itself are left out: the boundary device's own input is not
    the boundary configuration's business."""
    from tools.netlab import flows  # noqa: PLC0415 - the lab harness, only for this test

    state, topology = tmp_path / "lab", tmp_path / "topology.yml"
    topology.write_text(yaml.safe_dump(LAB_TOPOLOGY))
    prefix = f"othb{os.getpid() % 10000}"  # netlab prefixes: a letter and at most 7 more letters or digits
    up = netlab("up", str(topology), "--state-dir", str(state), "--prefix", prefix)
    try:
        assert up.returncode == 0, up.stderr[-3000:]
        lab = yaml.safe_load((state / "inventory.yml").read_text())["all"]["vars"]
        spec = {"hosts": lab["netlab_hosts"], "legs": lab["netlab_legs"], "variables": LAB_VARIABLES}
        matrix = [row for row in flows.expectations(spec, catalog) if row["dst"] in lab["netlab_hosts"]]
        rules = tmp_path / "boundary.nft"
        rules.write_text(filter_loader.get("otnet.ports.boundary_config").j2_function(LAB_VARIABLES, "nftables"))
        load = subprocess.run(
            ["ip", "netns", "exec", f"{prefix}-r1", "nft", "-f", str(rules)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert load.returncode == 0, load.stderr
        probe = netlab("probe", "--state-dir", str(state), "--matrix", "-", stdin=json.dumps(matrix))
        assert probe.returncode == 0, probe.stderr[-3000:]
        results = json.loads(probe.stdout)
    finally:
        down = netlab("down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr[-2000:]
    differences = [
        f"{r['src']} -> {r['address']} {r['protocol']}/{r['port']}: {r['result']}" for r in results if not r["ok"]
    ]
    assert not differences, f"{len(differences)} of {len(results)} flows differ:\n" + "\n".join(differences[:30])
    seen = {(row["result"], row["family"]) for row in results}
    assert {("open", 4), ("open", 6), ("dropped", 4), ("dropped", 6), ("refused", 4)} <= seen


LONGEST = "a" * 20 + ".b-c_d" + "e" * 22  # 48 characters, every character a name may have


@pytest.mark.parametrize("target", sorted(_boundary.TARGETS))
def test_the_longest_names_render_or_fail_naming_the_platforms_rule(target):
    plan = {**CONTRACT_PLAN, "conduits": [{**CONTRACT_PLAN["conduits"][0], "name": LONGEST}]}
    data = _boundary.boundary_policy(plan, "h" * 48)
    if target == "paloalto":  # PAN-OS zone names have at most 31 characters
        with pytest.raises(
            PortsError, match=rf"(?s)^target: aerleon could not render 'paloalto'.*31 characters.*{LONGEST}"
        ):
            _boundary.render(data, target)
    else:
        assert LONGEST in _boundary.render(data, target)
