"""The opto22_segment planner: every validation rule, the management path, and the plan's flows and set elements.

Expected ports are read from the vendor document (tests/seeds via seedrows), not from the catalog the planner uses.
"""

from __future__ import annotations

import re

import pytest
from seedrows import igor_rows
from segment_site import DELETE, MGMT_CONNECTION, seed_ports, site, with_change

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import SegmentError, plan_segment
from ansible_collections.otnet.ports.plugins.plugin_utils._settings import role_spec


@pytest.fixture
def segment_spec():
    return role_spec("opto22_segment")


def plan(catalog, settings=None, connection=MGMT_CONNECTION):
    return plan_segment(catalog, site() if settings is None else settings, connection=connection)


def element_ports(plan_data: dict, kind: str, name: str, protocol: str) -> set[int]:
    """Ports the set elements admit for one conduit/outbound entry and protocol."""
    ports: set[int] = set()
    for element in plan_data["elements"][f"{kind}_v4"] + plan_data["elements"][f"{kind}_v6"]:
        _, proto, port = element["key"].split(" . ")
        if proto == protocol and re.search(rf"(^|; ){re.escape(name)}: ", element["comment"]):
            start, _, end = port.partition("-")
            ports.update(range(int(start), int(end or start) + 1))
    return ports


# ---- what a valid site plans to ---------------------------------------------------------------------------


def test_conduits_admit_the_documents_ports(catalog):
    result = plan(catalog)
    assert element_ports(result, "conduits", "scada", "tcp") == seed_ports("Modbus/TCP") | seed_ports(
        "EtherNet/IP (TCP & UDP explicit messages)"
    )
    assert element_ports(result, "conduits", "scada", "udp") == seed_ports("EtherNet/IP (TCP & UDP explicit messages)")
    engineering = (
        seed_ports("PAC Control and ioControl host port")
        | seed_ports("PAC Control background download feature")
        | seed_ports("OptoMMP host port or OptoControl host port")
    )
    # The document does not give these rows a protocol; the catalog records both, so both are opened.
    assert element_ports(result, "conduits", "engineering", "tcp") == engineering
    assert element_ports(result, "conduits", "engineering", "udp") == engineering
    assert element_ports(result, "conduits", "nms", "udp") == seed_ports("SNMP")
    assert element_ports(result, "conduits", "nms", "tcp") == set()
    assert (
        element_ports(result, "conduits", "corporate", "tcp") | element_ports(result, "conduits", "corporate", "udp")
        == set()
    )


def test_outbound_admits_traps_to_the_nms(catalog):
    result = plan(catalog)
    assert element_ports(result, "outbound", "traps", "udp") == seed_ports("SNMP traps")
    assert [e["key"].split(" . ")[0] for e in result["elements"]["outbound_v4"]] == ["10.20.3.10"]


def test_element_comments_name_conduit_and_service(catalog):
    comments = {e["comment"] for e in plan(catalog)["elements"]["conduits_v4"]}
    assert {"scada: modbus_tcp", "scada: ethernet_ip", "nms: snmp", "engineering: optommp"} <= comments


def test_plan_summary_lists_flows_with_their_protocol_basis(catalog):
    engineering = plan(catalog)["conduits"][1]
    assert engineering["name"] == "engineering"
    assert {(f["service"], f["protocol"], f["basis"]) for f in engineering["flows"]} >= {
        ("optommp", "tcp", "assumed"),
        ("optommp", "udp", "assumed"),
    }


def test_controllers_and_management_are_collapsed_by_family(catalog):
    settings = with_change("controllers", ["10.10.1.11", "10.10.1.10/31", "2001:db8:10::1", "2001:db8:10::/64"])
    result = plan(catalog, settings)
    assert result["controllers"] == {"ipv4": ["10.10.1.10/31"], "ipv6": ["2001:db8:10::/64"]}
    assert result["management"]["sources"] == {"ipv4": ["10.254.1.0/29"], "ipv6": []}


def test_ipv6_sources_land_in_the_v6_set(catalog):
    settings = with_change("conduits[0].sources", ["10.20.1.0/24", "2001:db8:20::/64"])
    result = plan(catalog, settings)
    v6 = {(e["key"], e["comment"]) for e in result["elements"]["conduits_v6"]}
    modbus = min(seed_ports("Modbus/TCP"))
    assert (f"2001:db8:20::/64 . tcp . {modbus}", "scada: modbus_tcp") in v6
    assert all(":" not in e["key"] for e in result["elements"]["conduits_v4"])


def igor_incoming(table: str, label: str) -> set[tuple[str, int]]:
    """(protocol, port) of an Igor table's INCOMING columns whose legend entry is ``label``."""
    return {
        (protocol, port)
        for row in igor_rows()
        if row.table == table
        for direction, protocol, port in row.filled_cells()
        if direction == "incoming" and row.legend.get(port) == label
    }


def test_igor_services_work_in_a_conduit(catalog):
    """Any catalog service may be used: the same role can guard an Igor node segment."""
    settings = with_change("conduits[0].services", ["coap", "http"])
    result = plan(catalog, settings)
    expected = igor_incoming("firmware", "CoAP") | igor_incoming("gateway", "HTTP")
    assert expected
    for protocol in ("tcp", "udp"):
        assert element_ports(result, "conduits", "scada", protocol) == {p for proto, p in expected if proto == protocol}


def test_a_service_only_outgoing_is_refused_in_a_conduit(catalog):
    settings = with_change("conduits[0].services", ["https"])
    with pytest.raises(SegmentError, match=r"conduits\[0\]\.services\[0\]: 'https' has no incoming records"):
        plan(catalog, settings)


def test_chart_logic_port_is_admitted(catalog):
    allowed = min(seed_ports("Available for use in PAC Control user chart logic"))
    settings = with_change("conduits[0].ports", [{"port": allowed, "protocol": "tcp"}])
    result = plan(catalog, settings)
    assert allowed in element_ports(result, "conduits", "scada", "tcp")
    assert allowed not in element_ports(result, "conduits", "scada", "udp")
    assert any(e["comment"] == "scada: chart_logic" for e in result["elements"]["conduits_v4"])


def test_chart_logic_range_is_admitted(catalog):
    settings = with_change("conduits[0].ports", [{"start": 22004, "end": 22005, "protocol": "udp"}])
    assert {22004, 22005} <= element_ports(plan(catalog, settings), "conduits", "scada", "udp")


def test_overlapping_conduits_share_elements_without_overlap(catalog):
    settings = with_change(
        "conduits",
        [
            *site()["opto22_segment_conduits"],
            {"name": "historian", "sources": ["10.20.1.5"], "services": ["modbus_tcp"]},
        ],
    )
    elements = plan(catalog, settings)["elements"]["conduits_v4"]
    modbus = min(seed_ports("Modbus/TCP"))
    shared = [e for e in elements if e["key"] == f"10.20.1.5 . tcp . {modbus}"]
    assert [e["comment"] for e in shared] == ["scada: modbus_tcp; historian: modbus_tcp"]
    assert f"10.20.1.0-10.20.1.4 . tcp . {modbus}" in {e["key"] for e in elements}


def test_a_site_overlay_service_can_be_used(catalog):
    site_catalog = catalog.with_overlay(
        [{"service": "historian_feed", "port": 49300, "protocol": "tcp", "description": "Historian feed"}]
    )
    settings = with_change("conduits[0].services", ["historian_feed"])
    assert element_ports(plan(site_catalog, settings), "conduits", "scada", "tcp") == {49300}


def test_management_path_is_checked_against_the_connection(catalog):
    assert plan(catalog)["management"]["connected_from"] == "10.254.1.1"
    assert plan(catalog, connection="")["management"]["connected_from"] is None
    assert plan(catalog, connection="::ffff:10.254.1.3 5000 ::ffff:10.254.1.2 22")["management"]["connected_from"] == (
        "10.254.1.3"
    )
    assert plan(catalog, connection="10.254.1.4 5000 22")["management"]["connected_from"] == "10.254.1.4"


# ---- every rule, broken once ---------------------------------------------------------------------------

BAD = {
    "unknown service": (
        "conduits[0].services[0]",
        "modbus",
        r"^opto22_segment_conduits\[0\]\.services\[0\]: unknown catalog service 'modbus' "
        r"\(did you mean 'modbus_tcp'\?\); known: .*modbus_tcp",
    ),
    "service not a string": (
        "conduits[1].services[1]",
        502,
        r"conduits\[1\]\.services\[1\]: 502 is not a service entry; give a catalog service key",
    ),
    "services a mapping": (
        "conduits[0].services",
        {"modbus_tcp": True},
        r"^opto22_segment_conduits\[0\]\.services: \{'modbus_tcp': True\} is not a list",
    ),
    "bad CIDR": (
        "conduits[1].sources[0]",
        "10.20.2.0/33",
        r"conduits\[1\]\.sources\[0\]: '10.20.2.0/33' is not an IPv4/IPv6",
    ),
    "CIDR with host bits": (
        "conduits[1].sources[0]",
        "10.20.2.7/24",
        r"conduits\[1\]\.sources\[0\]: '10.20.2.7/24' has host bits set; .*'10.20.2.0/24', or 10.20.2.7/32",
    ),
    "hostname as source": ("conduits[0].sources[0]", "scada.example", r"'scada.example' is not an IPv4/IPv6 address"),
    "empty sources": (
        "conduits[2].sources",
        [],
        r"^opto22_segment_conduits\[2\]\.sources: empty; .* needs at least one",
    ),
    "missing sources": (
        "conduits[2].sources",
        DELETE,
        r"^opto22_segment_conduits\[2\]\.sources: missing; it is required",
    ),
    "empty destinations": ("outbound[0].destinations", [], r"outbound\[0\]\.destinations: empty"),
    "empty controllers": ("controllers", [], r"^opto22_segment_controllers: empty; the controller zone needs"),
    "controllers everything": (
        "controllers",
        ["0.0.0.0/0"],
        r"controllers: '0.0.0.0/0' would put every forwarded packet",
    ),
    "port out of range": (
        "conduits[0].ports",
        [{"port": 70000, "protocol": "tcp"}],
        r"conduits\[0\]\.ports\[0\]: 70000 is out of range; ports are 0-65535",
    ),
    "negative port": ("conduits[0].ports", [{"port": -1, "protocol": "udp"}], r"ports\[0\]: -1 is out of range"),
    "range reversed": (
        "conduits[0].ports",
        [{"start": 51010, "end": 51000, "protocol": "tcp"}],
        r"ports\[0\]: start 51010 is greater than end 51000",
    ),
    "reserved chart port": (
        "conduits[0].ports",
        [{"port": 50000, "protocol": "tcp"}],
        r"conduits\[0\]\.ports\[0\]\.port: 50000 cannot be used in PAC Control chart logic: it is in the reserved "
        r"range 50000-50999, reserved by Opto 22 to be used internally by PAC and Ultimate controllers",
    ),
    "vendor port as extra port": (
        "conduits[0].ports",
        [{"port": 502, "protocol": "tcp"}],
        r"ports\[0\]\.port: 502 cannot be used .* reserved by the Internet Assigned Number Authority .* "
        r"also assigned to modbus_tcp",
    ),
    "range reaching into reserved ports": (
        "conduits[0].ports",
        [{"start": 49990, "end": 50010, "protocol": "tcp"}],
        r"ports\[0\] \(49990-50010\): 50000 cannot be used in PAC Control chart logic",
    ),
    "extra port without protocol": (
        "conduits[0].ports",
        [{"port": 49200}],
        r"conduits\[0\]\.ports\[0\]\.protocol: missing; it is required",
    ),
    "extra port protocol sctp": (
        "conduits[0].ports",
        [{"port": 49200, "protocol": "sctp"}],
        r"conduits\[0\]\.ports\[0\]\.protocol: 'sctp' is not one of tcp, udp",
    ),
    "extra port with a typo": (
        "conduits[0].ports",
        [{"prot": 49200, "protocol": "tcp"}],
        r"conduits\[0\]\.ports\[0\]: unknown key 'prot'; allowed: port, start, end, protocol",
    ),
    "extra port both port and range": (
        "conduits[0].ports",
        [{"port": 49200, "start": 1, "end": 65535, "protocol": "tcp"}],
        r"conduits\[0\]\.ports\[0\]: .* gives both 'port' and 'start' and 'end'",
    ),
    "extra port not a number": (
        "conduits[0].ports",
        [{"port": "fifty", "protocol": "tcp"}],
        r"conduits\[0\]\.ports\[0\]\.port: 'fifty' is not an integer",
    ),
    "name with a quote": (
        "conduits[0].name",
        'scada" accept; #',
        r"conduits\[0\]\.name: 'scada\" accept; #' contains characters that could break the nft file; names use",
    ),
    "name with a newline": ("conduits[0].name", "scada\nflush ruleset", r"contains characters that could break"),
    "name with a space": ("outbound[0].name", "snmp traps", r"outbound\[0\]\.name: 'snmp traps' contains characters"),
    "name 49 characters": (
        "conduits[0].name",
        "x" * 49,
        r"^opto22_segment_conduits\[0\]\.name: 'x{48}'\.\.\. is 49 characters long; names have at most 48$",
    ),
    "name starting with a dot": ("conduits[0].name", ".scada", r"'\.scada' contains characters that could break"),
    "missing name": ("conduits[0].name", DELETE, r"^opto22_segment_conduits\[0\]\.name: missing; it is required"),
    "duplicate name": (
        "conduits[1].name",
        "scada",
        r"conduits\[1\]\.name: 'scada' is already the name of .*conduits\[0\]",
    ),
    "unknown conduit key": (
        "conduits[0].service",
        ["snmp"],
        r"conduits\[0\]: unknown key 'service'; allowed: name, sources, services, ports",
    ),
    "conduits not a list": (
        "conduits",
        {"name": "scada"},
        r"^opto22_segment_conduits: \{'name': 'scada'\} is not a list",
    ),
    "management without sources": ("management.sources", [], r"^opto22_segment_management\.sources: empty"),
    "management port 65536": ("management.port", 65536, r"management\.port: 65536 is not a port a service can listen"),
    "management port zero": ("management.port", 0, r"management\.port: 0 is not a port"),
    "management port text": ("management.port", "ssh", r"^opto22_segment_management\.port: 'ssh' is not an integer"),
    "bad log rate": ("log_rate", "10 per minute", r"log_rate: '10 per minute' is not an nft rate"),
    "log_drops maybe": ("log_drops", "maybe", r"^opto22_segment_log_drops: 'maybe' is not a boolean"),
    "state presnt": ("state", "presnt", r"^opto22_segment_state: 'presnt' is not one of present, absent"),
}


@pytest.mark.parametrize(("path", "value", "message"), BAD.values(), ids=BAD.keys())
def test_each_rule_is_refused_naming_the_variable_value_and_rule(catalog, path, value, message):
    with pytest.raises(SegmentError) as error:
        plan(catalog, with_change(path, value))
    assert re.search(message, str(error.value), re.DOTALL), str(error.value)


def test_every_problem_is_reported_at_once(catalog):
    settings = with_change("conduits[0].services", ["modbus", "snmp"])
    settings["opto22_segment_conduits"][1]["sources"] = ["10.20.2.0/33"]
    settings["opto22_segment_controllers"] = []
    with pytest.raises(SegmentError) as error:
        plan(catalog, settings)
    text = str(error.value)
    assert text.startswith("3 problems in the opto22_segment settings:")
    for part in ("conduits[0].services[0]", "conduits[1].sources[0]", "opto22_segment_controllers: empty"):
        assert part in text


def test_unknown_setting_is_refused_listing_the_spec(catalog, segment_spec):
    settings = {**site(), "opto22_segment_conduit": []}
    with pytest.raises(SegmentError) as error:
        plan(catalog, settings)
    text = str(error.value)
    assert text.startswith(
        "opto22_segment_conduit: not a variable of the opto22_segment role (did you mean opto22_segment_conduits?)"
    )
    assert text.endswith(f"known: {', '.join(segment_spec.options)}")


# ---- the management path ----------------------------------------------------------------------------


def test_rules_that_cut_the_connection_are_refused(catalog):
    settings = with_change("management.sources", ["10.254.9.0/24"])
    with pytest.raises(SegmentError) as error:
        plan(catalog, settings)
    text = str(error.value)
    assert text.startswith("opto22_segment_management.sources: ['10.254.9.0/24'] do not admit 10.254.1.1")
    assert "cut the management path" in text
    assert "opto22_segment_allow_management_lockout: true" in text


def test_a_management_port_that_is_not_the_connections_is_refused(catalog):
    settings = with_change("management.port", 2022)
    with pytest.raises(
        SegmentError, match=r"management\.port: 2022 is not the port Ansible's SSH connection uses \(22\)"
    ):
        plan(catalog, settings)


def test_ipv6_management_connection(catalog):
    settings = with_change("management.sources", ["2001:db8:fe::/64"])
    result = plan(catalog, settings, connection="2001:db8:fe::5 40000 2001:db8:fe::1 22")
    assert result["management"]["connected_from"] == "2001:db8:fe::5"
    with pytest.raises(SegmentError, match="do not admit 2001:db8:ff::5"):
        plan(catalog, settings, connection="2001:db8:ff::5 40000 2001:db8:fe::1 22")


def test_escape_hatch_allows_a_lockout(catalog):
    settings = with_change("management.sources", ["10.254.9.0/24"])
    settings["opto22_segment_allow_management_lockout"] = True
    result = plan(catalog, settings)
    assert result["management"]["lockout_allowed"] is True
    assert result["management"]["sources"]["ipv4"] == ["10.254.9.0/24"]


def test_without_a_connection_there_is_nothing_to_check(catalog):
    settings = with_change("management.sources", ["10.254.9.0/24"])
    assert plan(catalog, settings, connection="")["management"]["connected_from"] is None
