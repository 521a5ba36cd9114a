"""Address rules (plugins/plugin_utils/_addresses.py): IPv4-mapped IPv6 and IPv6 scope ids are refused with a message
saying why and what to write instead, in the segment planner as well as anywhere else addresses are parsed."""

from __future__ import annotations

import copy
import ipaddress

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._addresses import parse_network
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import PortsError, QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import plan_segment

MAPPED = {
    "::ffff:10.10.1.11": "write 10.10.1.11",
    "::FFFF:10.10.1.11": "write 10.10.1.11",
    "::ffff:a0a:10b": "write 10.10.1.11",
    "::ffff:10.10.1.0/120": "write 10.10.1.0/24",
    "::ffff:0.0.0.0/96": "write 0.0.0.0/0",
}
SCOPED = {
    "fe80::1%eth0": ("'%eth0'", "'fe80::1'"),
    "fe80::1%3": ("'%3'", "'fe80::1'"),
    "fe80::%eth0/64": ("'%eth0'", "'fe80::/64'"),
    "2001:db8::5%lan": ("'%lan'", "'2001:db8::5'"),
}


@pytest.mark.parametrize(("value", "fix"), MAPPED.items(), ids=MAPPED.keys())
def test_ipv4_mapped_is_refused_with_the_ipv4_form(value, fix):
    with pytest.raises(QueryError) as error:
        parse_network(value, "zone")
    message = str(error.value)
    assert message.startswith(f"zone: {value!r} is an IPv4 address written as IPv6")
    assert "IPv4 packets would not be filtered" in message
    assert message.endswith(fix)


@pytest.mark.parametrize(("value", "zone_and_fix"), SCOPED.items(), ids=SCOPED.keys())
def test_scope_id_is_refused_with_the_address_without_it(value, zone_and_fix):
    zone, fix = zone_and_fix
    with pytest.raises(QueryError) as error:
        parse_network(value, "zone")
    message = str(error.value)
    assert message.startswith(f"zone: {value!r} carries the IPv6 scope id {zone}")
    assert "not part of a firewall rule" in message
    assert message.endswith(f"write the address without it, {fix}")


@pytest.mark.parametrize(
    "value", ["10.10.1.11", "10.10.1.0/24", "2001:db8::5", "2001:db8::/64", "::/0", "::/64", "::1", "0.0.0.0/0"]
)
def test_plain_addresses_still_parse(value):
    assert parse_network(value, "zone") == ipaddress.ip_network(value)


def test_host_bits_of_a_mapped_network_name_the_ipv4_form_first():
    with pytest.raises(QueryError, match=r"written as IPv6 .* write 10\.10\.1\.0/24$"):
        parse_network("::ffff:10.10.1.5/120", "zone")


# ---- through the segment planner (it parses every address with parse_network) -------------------------------
# A small site of the test's own, by the role's full variable names (the planner's input contract).

SITE = {
    "opto22_segment_controllers": ["10.10.1.11"],
    "opto22_segment_conduits": [{"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp"]}],
    "opto22_segment_outbound": [{"name": "traps", "destinations": ["10.20.3.10"], "services": ["snmp_traps"]}],
    "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
}
SEGMENT_CASES = {
    "controller ::ffff:10.10.1.11": (("opto22_segment_controllers",), ["::ffff:10.10.1.11"], "write 10.10.1.11"),
    "controller fe80::1%eth0": (
        ("opto22_segment_controllers",),
        ["10.10.1.11", "fe80::1%eth0"],
        "without it, 'fe80::1'",
    ),
    "conduit source ::ffff:10.20.1.0/120": (
        ("opto22_segment_conduits", 0, "sources"),
        ["::ffff:10.20.1.0/120"],
        "write 10.20.1.0/24",
    ),
    "conduit source fe80::%eth0/64": (
        ("opto22_segment_conduits", 0, "sources"),
        ["fe80::%eth0/64"],
        "without it, 'fe80::/64'",
    ),
    "outbound destination ::ffff:10.20.3.10": (
        ("opto22_segment_outbound", 0, "destinations"),
        ["::ffff:10.20.3.10"],
        "write 10.20.3.10",
    ),
    "management source fe80::1%eth0": (
        ("opto22_segment_management", "sources"),
        ["10.254.1.0/29", "fe80::1%eth0"],
        "without it, 'fe80::1'",
    ),
}


def changed(path, value):
    settings = copy.deepcopy(SITE)
    target = settings
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return settings


def test_the_small_site_plans(catalog):
    assert plan_segment(catalog, copy.deepcopy(SITE))["controllers"]["ipv4"] == ["10.10.1.11"]


@pytest.mark.parametrize(("path", "value", "fix"), SEGMENT_CASES.values(), ids=SEGMENT_CASES.keys())
def test_segment_planner_refuses_mapped_and_scoped(catalog, path, value, fix):
    with pytest.raises(PortsError) as error:
        plan_segment(catalog, changed(path, value))
    assert f"{value[-1]!r} " in str(error.value)
    assert fix in str(error.value)
