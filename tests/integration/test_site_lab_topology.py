"""The lab's pieces that need no root: the example site's model (docs/diagram/example-site.json) turned into a
netlab topology, the probe matrix computed for it by netlab's flow oracle (tools/netlab/flows.py), and the report.
`make test-lab` runs the whole lab, as root. tools.lab and tools.netlab import from the repository root (pytest's
pythonpath), as `python -m tools.lab` runs them."""

from __future__ import annotations

import ipaddress
import json
import re
import sys

import pytest
import yaml
from dev_collection import REPO

from tools.lab import matrix, report, site, topology
from tools.netlab import catalog as netlab_catalog
from tools.netlab import inventory as netlab_inventory
from tools.netlab.topology import TopologyError, parse

MODEL = json.loads((REPO / "docs" / "diagram" / "example-site.json").read_text())
MGMT = "10.254.9.0/24"


@pytest.fixture(scope="module")
def lab(collections):
    ports = site.controller_ports(collections)
    return topology.build(MODEL, ports, name="example", mgmt_cidr=MGMT, prefix="otlabu")


@pytest.fixture(scope="module")
def lab_inventory(lab, tmp_path_factory):
    """The inventory netlab would write for this topology (netlab_hosts, netlab_legs), without creating anything."""
    topo = parse(lab.topology())
    return netlab_inventory.build(topo, "otlabu", tmp_path_factory.mktemp("state"), sys.executable)


@pytest.fixture(scope="module")
def line1_rows(lab, lab_inventory, collections):
    """fw-line1's probe matrix from the flow oracle, computed once for the tests that read it."""
    return matrix.build("fw-line1", lab.routers["fw-line1"].segment, lab_inventory, collections)


def hosts_by_address(lab, router):
    return {host.address: host for host in lab.routers[router].hosts.values()}


def test_one_router_per_segment_host_with_the_sites_zones_and_addresses(lab):
    topo = parse(lab.topology())  # netlab's own validation
    assert set(topo.routers) == {"fw-line1", "fw-line2"}
    for router in ("fw-line1", "fw-line2"):
        cidrs = {spec["cidr"]: spec["kind"] for spec in lab.routers[router].legs.values()}
        for zone in ("10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24", "10.30.0.0/16", "10.40.1.0/24", "10.40.2.0/24"):
            assert cidrs[zone] == "zone"
        addresses = hosts_by_address(lab, router)
        assert addresses["10.20.3.10"].label == "Network management"  # the trap receiver, on both routers
        assert addresses["10.20.2.50"].label == "Engineering workstations"  # the management station
    kinds = {spec["cidr"]: spec["kind"] for spec in lab.routers["fw-line1"].legs.values()}
    assert kinds["10.10.1.0/24"] == "segment"
    assert "10.10.2.0/24" not in {spec["cidr"] for spec in lab.routers["fw-line1"].legs.values()}
    assert any("holds another router's controllers" in note for note in lab.routers["fw-line1"].skipped)


def test_controllers_listen_on_the_catalog_ports_and_what_their_conduits_admit(lab):
    line2 = hosts_by_address(lab, "fw-line2")
    controller = line2["10.10.2.11"]
    assert controller.role == "controller"
    assert {502, 2001, 44818, 50000, 50999} <= controller.tcp
    assert 50500 not in controller.tcp  # a wide catalog range is sampled at its ends
    assert {49210, 49211, 2222} <= controller.udp  # chart-logic ports and ethernet_ip_io of conduit scada
    assert hosts_by_address(lab, "fw-line1")["10.10.1.11"].tcp >= {49200}  # line_handshake, a site record
    assert line2["10.20.3.10"].udp == {162}  # zone hosts listen on the outbound ports


def test_address_scope_router_lets_each_router_carry_the_sites_addresses():
    doc = {
        "mgmt_cidr": MGMT,
        "routers": {"r1": {"legs": {"z1": {"cidr": "10.20.1.0/24"}}}, "r2": {"legs": {"z2": {"cidr": "10.20.1.0/24"}}}},
        "hosts": {"a": {"leg": "z1", "address": "10.20.1.10"}, "b": {"leg": "z2", "address": "10.20.1.10"}},
    }
    with pytest.raises(TopologyError, match="host addresses must be unique"):
        parse(doc)
    assert parse({**doc, "address_scope": "router"}).address_scope == "router"
    with pytest.raises(TopologyError, match="unique per router"):
        parse(
            {**doc, "address_scope": "router", "hosts": {**doc["hosts"], "c": {"leg": "z1", "address": "10.20.1.10"}}}
        )


def test_site_services_reach_the_oracle_as_the_ports_they_name(lab, lab_inventory, collections):
    """A conduit naming a site service (resolved through the overlay) expects what one naming its ports does."""
    spec = matrix.spec_for("fw-line1", lab.routers["fw-line1"].segment, lab_inventory)
    overlay = [{"service": "line_handshake", "port": 49200, "protocol": "tcp", "description": "x"}]
    entries = [{"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp", "line_handshake"]}]
    as_ports = [
        {
            "name": "scada",
            "sources": ["10.20.1.0/24"],
            "services": ["modbus_tcp"],
            "ports": [{"start": 49200, "end": 49200, "protocol": "tcp"}],
        }
    ]

    def with_conduits(conduits, overlay):
        variables = {**spec["variables"], "opto22_segment_conduits": conduits, "otnet_ports_overlay": overlay}
        return matrix.expectations({**spec, "variables": variables}, collections)

    by_service = with_conduits(entries, overlay)
    assert by_service == with_conduits(as_ports, [])
    name = {host.address: host.name for host in lab.routers["fw-line1"].hosts.values()}
    assert expected(by_service, name["10.20.1.11"], name["10.10.1.11"], 49200, "tcp") == "open"


def expected(rows, src, dst, port, protocol):
    (row,) = [r for r in rows if (r["src"], r["dst"], r["port"], r["protocol"]) == (src, dst, port, protocol)]
    return row["expect"]


def test_expectations_come_from_the_flow_oracle(lab, lab_inventory, line1_rows):
    name = {host.address: host.name for host in lab.routers["fw-line1"].hosts.values()}
    rows = line1_rows
    scada, corp, jump = name["10.20.1.11"], name["10.30.0.11"], name["10.20.2.50"]
    pac, nms = name["10.10.1.11"], name["10.20.3.10"]
    assert expected(rows, scada, pac, 502, "tcp") == "open"
    assert expected(rows, scada, pac, 49200, "tcp") == "open"  # the site record, admitted by conduit scada
    assert expected(rows, corp, pac, 502, "tcp") == "dropped"
    assert expected(rows, pac, nms, 162, "udp") == "open"  # outbound traps
    gateway = {
        leg["cidr"]: leg["gateway"]
        for leg in lab_inventory["all"]["vars"]["netlab_legs"].values()
        if leg["router"] == "fw-line1"
    }
    assert expected(rows, jump, gateway["10.20.2.0/24"], 22, "tcp") == "refused"  # management station; no sshd there
    assert expected(rows, scada, gateway["10.20.1.0/24"], 22, "tcp") == "dropped"


def test_the_report_marks_each_flow_and_counts_the_misses(lab, line1_rows):
    router = lab.routers["fw-line1"]
    rows = line1_rows
    probed = [{**row, "address": "10.0.0.1", "result": row["expect"], "detail": "", "ok": True} for row in rows]
    good = report.Report()
    report.router_section(good, router, probed)
    assert good.failed == 0
    assert good.flows == len(rows)
    text = good.text()
    assert "✓ conduit scada (modbus_tcp, optommp, line_handshake)" in text
    assert "✓ conduit corporate (admits nothing)" in text
    assert "✗" not in text
    wrong = next(i for i, row in enumerate(probed) if row["expect"] == "open" and row["port"] == 502)
    probed[wrong] = {**probed[wrong], "result": "dropped", "ok": False}
    bad = report.Report()
    report.router_section(bad, router, probed)
    assert bad.failed == 1
    assert "✗ conduit scada" in bad.text()
    assert f"✗ {probed[wrong]['src']} -> {probed[wrong]['dst']}" in bad.text()
    assert report.summary(bad).endswith("1 NOT as expected.")


def test_no_lab_network_overlaps_the_management_links(lab):
    mgmt = ipaddress.ip_network(MGMT)
    assert not [
        spec
        for r in lab.routers.values()
        for spec in r.legs.values()
        if mgmt.overlaps(ipaddress.ip_network(spec["cidr"]))
    ]
    with pytest.raises(topology.LabTopologyError, match="overlaps the lab's management network"):
        topology.build(MODEL, {"tcp": set(), "udp": set()}, name="x", mgmt_cidr="10.20.0.0/16", prefix="otlabu")


def test_the_lab_reads_the_roles_table_name_from_the_installed_collection(collections):
    """tools/lab keeps no copy of the table name; the planner's constant is its one home."""
    assert site.role_table(collections) == "otnet_opto22"


def example_conduits(host):
    """The example site's conduits of one host as written (examples/site), zone sources resolved (their only Jinja)."""
    inventory = REPO / "examples" / "site" / "inventory"
    zones = yaml.safe_load((inventory / "group_vars" / "all.yml").read_text())["otnet_ports_site_zones"]
    conduits = yaml.safe_load((inventory / "host_vars" / f"{host}.yml").read_text())["opto22_segment_conduits"]
    for conduit in conduits:
        zone = re.fullmatch(r"\{\{\s*otnet_ports_site_zones\.(\w+)\.networks\s*\}\}", conduit["sources"]).group(1)
        conduit["sources"] = zones[zone]["networks"]
    return conduits


def key(entry):
    return entry["service"] if isinstance(entry, dict) else entry


@pytest.fixture(scope="module")
def narrowed(lab, lab_inventory, collections):
    """fw-line1's engineering conduit as examples/site writes it (assumed-protocol services narrowed to TCP, OptoMMP
    kept on both): the oracle's matrix as written and with bare keys, and the ports from the installed catalog."""
    router = lab.routers["fw-line1"]
    spec = matrix.spec_for("fw-line1", router.segment, lab_inventory)
    conduits = example_conduits("fw-line1")
    (engineering,) = [conduit for conduit in conduits if conduit["name"] == "engineering"]
    to_tcp = [s["service"] for s in engineering["services"] if isinstance(s, dict) and s["protocol"] == "tcp"]
    kept = [key(s) for s in engineering["services"] if key(s) not in to_tcp]
    catalog = netlab_catalog.load([collections])

    def ports(services, protocol):
        records = catalog.select(services=services, kind="assignment", protocol=protocol, direction="incoming")
        return {port for r in records for port in range(r["start"], r["end"] + 1)}

    def rows(conduits):
        variables = {**spec["variables"], "opto22_segment_conduits": conduits}
        return matrix.expectations({**spec, "variables": variables}, collections)

    return {
        "router": router,
        "engineering": engineering,
        "to_tcp": to_tcp,
        "narrowed_udp": ports(to_tcp, "udp") - ports(kept, "udp"),
        "tcp": ports(to_tcp, "tcp"),
        "kept_udp": ports(kept, "udp"),
        "as_written": rows(conduits),
        "bare": rows([{**conduit, "services": [key(s) for s in conduit["services"]]} for conduit in conduits]),
        "controllers": [h.name for h in router.hosts.values() if h.role == "controller"],
        "stations": [
            h.name
            for h in router.hosts.values()
            if h.role == "zone" and report.member(h.address, engineering["sources"])
        ],
    }


def test_the_engineering_conduit_drops_udp_on_the_ports_it_narrowed_to_tcp(narrowed):
    """examples/site narrows the engineering conduit's assumed-protocol services to TCP (otnet_ports_assumed_protocols:
    explicit): the oracle expects their UDP ports dropped (open when written bare: the controllers listen there), TCP
    still open, and the UDP of a service kept on both still open. Ports come from the installed catalog."""
    case = narrowed
    assert case["to_tcp"]
    assert case["narrowed_udp"]
    assert case["kept_udp"]  # optommp, kept on both
    assert case["controllers"]
    assert case["stations"]
    for src in case["stations"]:
        for dst in case["controllers"]:
            for port in sorted(case["narrowed_udp"]):
                assert expected(case["as_written"], src, dst, port, "udp") == "dropped", (src, dst, port)
                assert expected(case["bare"], src, dst, port, "udp") == "open", (src, dst, port)
            for port in sorted(case["tcp"]):
                assert expected(case["as_written"], src, dst, port, "tcp") == "open", (src, dst, port)
            for port in sorted(case["kept_udp"]):
                assert expected(case["as_written"], src, dst, port, "udp") == "open", (src, dst, port)


def test_the_report_counts_the_udp_flows_narrowing_drops(narrowed):
    """The report sets the flows a narrowed service leaves out apart from the other drops, and counts them."""
    narrowed_router = narrowed["router"]  # its segment is the committed model's: the plan as examples/site writes it
    probed = [
        {**row, "address": "10.0.0.1", "result": row["expect"], "detail": "", "ok": True}
        for row in narrowed["as_written"]
    ]
    bare = {(r["src"], r["dst"], r["port"], r["protocol"]): r["expect"] for r in narrowed["bare"]}
    count = sum(  # every UDP flow of the router a narrowed entry leaves out (engineering's, and scada's OptoMMP)
        1
        for r in narrowed["as_written"]
        if r["protocol"] == "udp" and r["expect"] == "dropped" and bare[r["src"], r["dst"], r["port"], "udp"] == "open"
    )
    engineering = len(narrowed["stations"]) * len(narrowed["controllers"]) * len(narrowed["narrowed_udp"])
    assert count > engineering  # scada narrows OptoMMP to TCP too
    good = report.Report()
    report.router_section(good, narrowed_router, probed)
    line = f"✓ narrowed away (assumed protocol not admitted): {engineering}/{engineering} flows dropped, as expected"
    assert line in good.text()
    assert good.narrowed["udp"] == count
    assert good.narrowed_dropped["udp"] == count
    assert f"(narrowed away and dropped: {count}/{count} udp)" in report.summary(good)
    port = min(narrowed["narrowed_udp"])
    leak = next(
        i
        for i, row in enumerate(probed)
        if row["dst"] in narrowed["controllers"]
        and (row["port"], row["protocol"]) == (port, "udp")
        and row["src"] in narrowed["stations"]
    )
    probed[leak] = {**probed[leak], "result": "open", "ok": False}
    bad = report.Report()
    report.router_section(bad, narrowed_router, probed)
    assert (
        f"✗ narrowed away (assumed protocol not admitted): {engineering - 1}/{engineering} flows dropped" in bad.text()
    )
    assert bad.failed == 1
    assert f"(narrowed away and dropped: {count - 1}/{count} udp)" in report.summary(bad)
