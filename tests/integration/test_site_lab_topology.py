"""The lab's pieces that need no root: the example site's model (docs/diagram/example-site.json) turned into a
netlab topology, the probe matrix computed for it by the opto22_segment scenario's flow_matrix.py, and the report.
`make test-lab` runs the whole lab, as root."""

from __future__ import annotations

import ipaddress
import json
import sys

import pytest
from dev_collection import REPO

sys.path.insert(0, str(REPO))  # tools.lab and tools.netlab, as `python -m tools.lab` runs them

from tools.lab import matrix, report, site, topology
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
    """fw-line1's probe matrix from flow_matrix.py, computed once for the tests that read it."""
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


def test_site_services_reach_flow_matrix_as_the_ports_they_name(lab, lab_inventory, collections):
    """A conduit naming a site service (resolved through the overlay) expects what one naming its ports does."""
    spec = matrix.spec_for("fw-line1", lab.routers["fw-line1"].segment, lab_inventory, collections)
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
    by_service = matrix.expectations({**spec, "conduits": entries, "overlay": overlay})
    assert by_service == matrix.expectations({**spec, "conduits": as_ports, "overlay": []})
    name = {host.address: host.name for host in lab.routers["fw-line1"].hosts.values()}
    assert expected(by_service, name["10.20.1.11"], name["10.10.1.11"], 49200, "tcp") == "open"


def expected(rows, src, dst, port, protocol):
    (row,) = [r for r in rows if (r["src"], r["dst"], r["port"], r["protocol"]) == (src, dst, port, protocol)]
    return row["expect"]


def test_expectations_come_from_flow_matrix(lab, lab_inventory, line1_rows):
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
