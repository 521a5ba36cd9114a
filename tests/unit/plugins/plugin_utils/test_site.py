"""The site layer (plugin_utils/_site.py): the preflight verdicts and the site model, without Ansible.

Plans are shaped as the planners' contract says (flows and Windows rules carry int start/end and a service key), so
this proves the logic independently of the planners. Ports come from the catalog, never from here.
"""

from __future__ import annotations

import ipaddress

import count_jinja
import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._chart_logic import allowed_ranges
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import port_conflicts
from ansible_collections.otnet.ports.plugins.plugin_utils._site import (
    Zone,
    endpoint,
    first_reserved,
    host_problems,
    parse_zones,
    plan_problems,
    ports_lines,
    rollout_problems,
    site_model,
    zone_of,
)

GROUPS = {"opto22_segments": ["fw1"], "igor_gateways": ["gw1"]}


# ---- ports taken from the catalog --------------------------------------------------------------------------------


def record(catalog, service, protocol="tcp"):
    return catalog.select(services=[service], protocol=protocol)[0]


@pytest.fixture(scope="module")
def chart(catalog):
    """An allowed chart-logic range, and a reserved range that vendor services use (controller_internal)."""
    low, high = next((low, high) for low, high in allowed_ranges(catalog) if high > low + 10)
    internal = record(catalog, "controller_internal")
    return {"allowed": low + 1, "allowed_end": high, "internal": internal}


def overlay_record(service, port, protocol="tcp"):
    return {"service": service, "port": port, "protocol": protocol, "description": f"{service} of the site"}


def messages(problems):
    return [problem.message for problem in problems]


# ---- rollout settings ----------------------------------------------------------------------------------------------

GOOD_ROLLOUTS = {
    "nothing set (defaults)": {},
    "all null (unset in the playbook)": {
        "otnet_ports_site_serial": None,
        "otnet_ports_site_max_fail_percentage": None,
        "otnet_ports_site_igor_plan_only": None,
    },
    "one host at a time": {"otnet_ports_site_serial": 1},
    "a percentage": {"otnet_ports_site_serial": "10%"},
    "all of them": {"otnet_ports_site_serial": "100%"},
    "canary then the rest": {"otnet_ports_site_serial": [1, "100%"]},
    "a number as text (extra vars)": {"otnet_ports_site_serial": "2"},
    "max fail 0": {"otnet_ports_site_max_fail_percentage": 0},
    "max fail 100 as text": {"otnet_ports_site_max_fail_percentage": "100"},
    "plan only true": {"otnet_ports_site_igor_plan_only": True},
    "plan only 'yes' (Ansible's booleans)": {"otnet_ports_site_igor_plan_only": "yes"},
}


@pytest.mark.parametrize("case", list(GOOD_ROLLOUTS))
def test_good_rollout_settings_pass(case):
    assert rollout_problems(GOOD_ROLLOUTS[case], GROUPS) == []


BAD_ROLLOUTS = {
    "serial 0": ("otnet_ports_site_serial", 0),
    "serial '0'": ("otnet_ports_site_serial", "0"),
    "serial 0%": ("otnet_ports_site_serial", "0%"),
    "serial 101%": ("otnet_ports_site_serial", "101%"),
    "serial 1.5": ("otnet_ports_site_serial", 1.5),
    "serial '1.5'": ("otnet_ports_site_serial", "1.5"),
    "serial true (a boolean)": ("otnet_ports_site_serial", True),
    "serial empty list": ("otnet_ports_site_serial", []),
    "serial list with 0": ("otnet_ports_site_serial", [1, 0], "otnet_ports_site_serial[1]", 0),
    "serial Arabic-Indic digit": ("otnet_ports_site_serial", "\u0661"),
    "serial negative": ("otnet_ports_site_serial", -1),
    "max fail -1": ("otnet_ports_site_max_fail_percentage", -1),
    "max fail 101": ("otnet_ports_site_max_fail_percentage", 101),
    "max fail 50%": ("otnet_ports_site_max_fail_percentage", "50%"),
    "max fail true": ("otnet_ports_site_max_fail_percentage", True),
    "max fail 1.5": ("otnet_ports_site_max_fail_percentage", 1.5),
    "max fail '007'": ("otnet_ports_site_max_fail_percentage", "007"),
    "plan only 'sometimes'": ("otnet_ports_site_igor_plan_only", "sometimes"),
    "plan only 2": ("otnet_ports_site_igor_plan_only", 2),
}


@pytest.mark.parametrize("case", list(BAD_ROLLOUTS))
def test_bad_rollout_setting_is_named_with_its_value(case):
    variable, value, *where = BAD_ROLLOUTS[case]
    named, shown = where or (variable, value)
    (problem,) = rollout_problems({variable: value}, GROUPS)
    assert (problem.host, problem.variable, problem.value) == ("", named, shown)
    assert problem.message.startswith(f"{named}: {shown!r}"), problem.message


def test_every_bad_rollout_setting_is_reported_at_once():
    settings = {
        "otnet_ports_site_serial": [0, "1", "200%"],
        "otnet_ports_site_max_fail_percentage": 101,
        "otnet_ports_site_igor_plan_only": "maybe",
    }
    found = rollout_problems(settings, {})
    assert [p.variable for p in found] == [
        "otnet_ports_site_serial[0]",
        "otnet_ports_site_serial[2]",
        "otnet_ports_site_max_fail_percentage",
        "otnet_ports_site_igor_plan_only",
        "groups",
    ]


def test_an_inventory_without_site_hosts_is_refused():
    (problem,) = rollout_problems({}, {"all": ["x"], "ungrouped": ["x"]})
    assert "no hosts in igor_gateways or opto22_segments" in problem.message


def test_a_host_in_both_groups_is_named():
    (problem,) = rollout_problems({}, {"opto22_segments": ["fw1", "both1"], "igor_gateways": ["both1"]})
    assert problem.value == ["both1"]
    assert "both1 in both igor_gateways and opto22_segments" in problem.message


# ---- a host: the planners' problems ---------------------------------------------------------------------------------

SEGMENT_FAILURE = (
    "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for "
    "'opto22_segment_plan': The filter plugin 'otnet.ports.opto22_segment_plan' failed: otnet.ports.opto22_segment_plan"
    ": 2 problems in the opto22_segment settings:\n"
    "  - opto22_segment_conduits[0].services[0]: unknown catalog service 'modbus'\n"
    "  - opto22_segment_log_rate: 'fast' is not an nft rate"
)
ARGUMENT_SPEC_FAILURE = (
    "Validation of arguments failed:\nargument 'opto22_segment_log_drops' is of type str and we were unable to "
    "convert to bool: The value 'sometimes' is not a valid boolean."
)


def test_each_problem_a_planner_lists_is_one_problem_named_after_its_variable():
    found = plan_problems("fw1", "opto22_segment", SEGMENT_FAILURE)
    assert [(p.host, p.variable) for p in found] == [
        ("fw1", "opto22_segment_conduits[0].services[0]"),
        ("fw1", "opto22_segment_log_rate"),
    ]
    assert found[0].message == "opto22_segment_conduits[0].services[0]: unknown catalog service 'modbus'"


def test_an_argument_spec_failure_names_the_argument():
    (problem,) = plan_problems("fw1", "opto22_segment", ARGUMENT_SPEC_FAILURE)
    assert problem.variable == "opto22_segment_log_drops"
    assert "'sometimes' is not a valid boolean" in problem.message


def test_a_single_planner_message_stays_whole():
    (problem,) = plan_problems("gw1", "igor_gateway", "igor_gateway_version: 1.11.0 is below 1.12.1")
    assert problem.message == "igor_gateway_version: 1.11.0 is below 1.12.1"


def test_a_planner_failure_without_a_message_is_still_a_problem():
    (problem,) = plan_problems("gw1", "igor_gateway", None)
    assert problem.variable == "igor_gateway settings"
    assert "failed without a message" in problem.rule


# ---- a host: otnet_ports_chart_ports ------------------------------------------------------------------------------


def chart_problems(catalog, entries):
    return host_problems(catalog, "fw1", {"otnet_ports_chart_ports": entries})


def test_chart_ports_chart_logic_may_use_pass(catalog, chart):
    entries = [
        {"service": "line2_sync", "port": chart["allowed"], "protocol": "tcp"},
        {"service": "line2_block", "start": chart["allowed"], "end": chart["allowed"] + 3, "protocol": "udp"},
    ]
    assert chart_problems(catalog, entries) == []


def test_a_reserved_chart_port_names_entry_port_range_and_reason(catalog, chart):
    port = chart["internal"]["start"] + 10
    found = chart_problems(catalog, [{"service": "line1_sync", "port": port, "protocol": "tcp"}])
    refused, overlap = found  # and it overlaps the vendor port it shares
    assert refused.variable == "otnet_ports_chart_ports[0].port"
    assert refused.value == port
    assert f"{port} cannot be used in PAC Control chart logic: it is in the reserved range" in refused.message
    assert overlap.variable == "otnet_ports_chart_ports[0]"
    assert "overlaps opto22 service controller_internal" in overlap.message


def test_a_range_reaching_into_a_reserved_range_names_its_first_reserved_port(catalog, chart):
    end = chart["allowed_end"]
    (problem, *_) = chart_problems(
        catalog, [{"service": "x_sync", "start": end - 1, "end": end + 5, "protocol": "tcp"}]
    )
    assert problem.variable == f"otnet_ports_chart_ports[0] ({end - 1}-{end + 5})"
    assert problem.value == end + 1
    assert f"{end + 1} cannot be used" in problem.rule


def test_first_reserved(catalog, chart):
    assert first_reserved(catalog, chart["allowed"], chart["allowed"]) is None
    assert first_reserved(catalog, chart["allowed_end"], chart["allowed_end"] + 1) == chart["allowed_end"] + 1


HOSTILE_CHART_PORTS = {
    "not a list": ("line2_sync", "otnet_ports_chart_ports", "is not a list"),
    "not a mapping": (["49200/tcp"], "otnet_ports_chart_ports[0]", "is not a mapping"),
    "unknown key": ([{"service": "a", "port": "ALLOWED", "protocol": "tcp", "proto": 1}], "otnet_ports_chart_ports[0]",
                    "unknown keys proto"),
    "service with capitals": ([{"service": "Line2", "port": "ALLOWED", "protocol": "tcp"}],
                              "otnet_ports_chart_ports[0].service", "is not a service key"),
    "service missing": ([{"port": "ALLOWED", "protocol": "tcp"}], "otnet_ports_chart_ports[0].service",
                        "None is not a service key"),
    "protocol sctp": ([{"service": "a", "port": "ALLOWED", "protocol": "sctp"}], "otnet_ports_chart_ports[0].protocol",
                      "'sctp' is not a protocol"),
    "port and start": ([{"service": "a", "port": "ALLOWED", "start": "ALLOWED", "end": "ALLOWED", "protocol": "tcp"}],
                       "otnet_ports_chart_ports[0]", "give port, or start and end"),
    "start without end": ([{"service": "a", "start": "ALLOWED", "protocol": "tcp"}], "otnet_ports_chart_ports[0]",
                          "give port, or start and end"),
    "no port": ([{"service": "a", "protocol": "tcp"}], "otnet_ports_chart_ports[0]", "has no port"),
    "port is a word": ([{"service": "a", "port": "http", "protocol": "tcp"}], "otnet_ports_chart_ports[0].port",
                       "'http' is not a port number"),
    "port out of range": ([{"service": "a", "port": 70000, "protocol": "tcp"}], "otnet_ports_chart_ports[0].port",
                          "70000 is out of range"),
    "start after end": ([{"service": "a", "start": 60001, "end": 60000, "protocol": "tcp"}],
                        "otnet_ports_chart_ports[0]", "start 60001 is greater than end 60000"),
}  # fmt: skip


def _with_allowed(value, port):
    if isinstance(value, list):
        return [_with_allowed(item, port) for item in value]
    if isinstance(value, dict):
        return {key: _with_allowed(item, port) for key, item in value.items()}
    return port if value == "ALLOWED" else value


@pytest.mark.parametrize("case", list(HOSTILE_CHART_PORTS))
def test_a_hostile_chart_port_entry_is_named(catalog, chart, case):
    entries, variable, text = HOSTILE_CHART_PORTS[case]
    found = chart_problems(catalog, _with_allowed(entries, chart["allowed"]))
    assert [p.variable for p in found] == [variable], messages(found)
    assert text in found[0].message


def test_every_broken_chart_port_is_reported(catalog, chart):
    entries = [
        {"service": "a", "port": chart["internal"]["start"], "protocol": "tcp"},
        {"service": "B", "port": chart["allowed"], "protocol": "icmp"},
        {"service": "c", "port": chart["allowed"], "protocol": "tcp"},
    ]
    variables = {p.variable for p in chart_problems(catalog, entries)}
    assert {"otnet_ports_chart_ports[0].port", "otnet_ports_chart_ports[1].service"} <= variables
    assert "otnet_ports_chart_ports[1].protocol" in variables
    assert not any(v.startswith("otnet_ports_chart_ports[2]") for v in variables)


# ---- a host: overlay and accepted overlaps --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_red(catalog):
    return record(catalog, "node_red")


def site_port_problems(catalog, overlay, accepted=None, chart_ports=None):
    variables = {"otnet_ports_overlay": overlay, "otnet_ports_accepted_overlaps": accepted or []}
    return host_problems(catalog, "gw1", {**variables, "otnet_ports_chart_ports": chart_ports or []})


def test_an_undeclared_overlap_with_a_vendor_port_names_both_and_the_fix(catalog, node_red):
    overlay = [overlay_record("scada_node_red", node_red["start"])]
    (problem,) = site_port_problems(catalog, overlay)
    assert problem.variable == "otnet_ports_overlay[0]"
    assert problem.value == overlay[0]
    assert problem.rule.startswith(f"scada_node_red ({node_red['start']}/tcp) overlaps opto22 service node_red")
    assert "{site: scada_node_red, catalog: node_red, reason: ...}" in problem.rule


def test_a_declared_overlap_passes(catalog, node_red):
    overlay = [overlay_record("scada_node_red", node_red["start"])]
    accepted = [{"site": "scada_node_red", "catalog": "node_red", "reason": "our own Node-RED"}]
    assert site_port_problems(catalog, overlay, accepted) == []


def test_a_stale_declaration_is_refused(catalog, chart):
    overlay = [overlay_record("line_handshake", chart["allowed"])]
    accepted = [{"site": "historian", "catalog": "modbus_tcp", "reason": "y"}]
    (problem,) = site_port_problems(catalog, overlay, accepted)
    assert problem.variable == "otnet_ports_accepted_overlaps"
    assert "{site: historian, catalog: modbus_tcp} matches no overlap" in problem.message


def test_an_overlap_of_a_chart_port_is_found_too(catalog, node_red):
    """A chart port the rules refuse is still compared with the vendor ports (both problems, at once)."""
    chart_ports = [{"service": "line_node", "port": node_red["start"], "protocol": "tcp"}]
    found = site_port_problems(catalog, [], chart_ports=chart_ports)
    assert [p.variable for p in found] == ["otnet_ports_chart_ports[0].port", "otnet_ports_chart_ports[0]"]


HOSTILE_ACCEPTED = {
    "not a list": {"site": "a", "catalog": "b", "reason": "c"},
    "not a mapping": ["scada_node_red|node_red"],
    "reason missing": [{"site": "scada_node_red", "catalog": "node_red"}],
    "reason blank": [{"site": "scada_node_red", "catalog": "node_red", "reason": "  "}],
    "reason not text": [{"site": "scada_node_red", "catalog": "node_red", "reason": 1}],
    "extra key": [{"site": "scada_node_red", "catalog": "node_red", "reason": "r", "ok": True}],
}


@pytest.mark.parametrize("case", list(HOSTILE_ACCEPTED))
def test_a_hostile_accepted_overlap_is_refused_and_the_stale_check_waits(catalog, node_red, case):
    overlay = [overlay_record("scada_node_red", node_red["start"])]
    found = site_port_problems(catalog, overlay, HOSTILE_ACCEPTED[case])
    variables = [p.variable for p in found]
    assert variables[0].startswith("otnet_ports_accepted_overlaps"), messages(found)
    assert "otnet_ports_overlay[0]" in variables  # not declared by a broken entry
    assert not any("matches no overlap" in text for text in messages(found))


def test_a_broken_overlay_is_named_and_nothing_is_compared(catalog):
    overlay = [{"service": "x", "port": "eighty", "protocol": "tcp"}]
    found = site_port_problems(catalog, overlay, [{"site": "x", "catalog": "http", "reason": "r"}])
    assert [p.variable for p in found] == ["otnet_ports_overlay"], messages(found)


# ---- a host: site services a conduit admits ------------------------------------------------------------------------


def flow(service, protocol, start, end=None, basis="stated"):
    return {
        "service": service,
        "protocol": protocol,
        "start": start,
        "end": start if end is None else end,
        "basis": basis,
    }


def segment_plan(conduits=(), outbound=()):
    return {
        "table": "otnet_opto22",
        "state": "present",
        "controllers": {"ipv4": ["10.10.9.11"], "ipv6": ["2001:db8:10::11"]},
        "management": {"port": 22, "sources": {"ipv4": ["10.20.9.50"], "ipv6": []}},
        "conduits": list(conduits),
        "outbound": list(outbound),
    }


def conduit(name, sources, services, flows):
    return {"name": name, "sources": sources, "services": services, "flows": flows}


def admitted(catalog, port, end=None, service="line_handshake"):
    plan = segment_plan([conduit("scada", ["10.20.9.0/24"], [service], [flow(service, "tcp", port, end)])])
    overlay = [{"service": "line_handshake", "start": port, "end": end or port, "protocol": "tcp", "description": "x"}]
    accepted = [{"site": "line_handshake", "catalog": c["catalog"]["service"], "reason": "r"}
                for c in _conflicts(catalog, overlay)]  # fmt: skip
    variables = {"opto22_segment_plan": plan, "otnet_ports_overlay": overlay, "otnet_ports_accepted_overlaps": accepted}
    return host_problems(catalog, "fw1", variables)


def _conflicts(catalog, overlay):
    return port_conflicts(catalog, overlay)


def test_a_site_service_on_a_chart_logic_port_may_be_admitted(catalog, chart):
    assert admitted(catalog, chart["allowed"]) == []


def test_a_site_service_on_a_reserved_port_may_not_be_admitted_into_the_segment(catalog, chart):
    port = chart["internal"]["start"]
    (problem,) = admitted(catalog, port)
    assert problem.variable == "opto22_segment_conduits"
    assert problem.message.startswith(
        "opto22_segment_conduits: conduit scada admits the site service line_handshake "
        f"(otnet_ports_overlay, {port}/tcp)"
    )
    assert f"port: {port} cannot be used in PAC Control chart logic" in problem.message


def test_a_site_service_range_reaching_a_reserved_port_is_refused_at_that_port(catalog, chart):
    end = chart["allowed_end"]
    (problem,) = admitted(catalog, end, end + 1)
    assert f"{end}-{end + 1}/tcp" in problem.message
    assert f"port: {end + 1} cannot be used" in problem.message


def test_a_vendor_service_is_not_a_site_service(catalog):
    """The controllers serve their own catalog services; only site services need chart logic."""
    modbus = record(catalog, "modbus_tcp")
    plan = segment_plan(
        [conduit("scada", ["10.20.9.0/24"], ["modbus_tcp"], [flow("modbus_tcp", "tcp", modbus["start"])])]
    )
    assert host_problems(catalog, "fw1", {"opto22_segment_plan": plan}) == []


def test_every_problem_of_a_host_is_collected(catalog, chart, node_red):
    port = chart["internal"]["start"]
    variables = {
        "opto22_segment_plan": segment_plan([conduit("s", ["10.20.9.0/24"], ["hs"], [flow("hs", "tcp", port)])]),
        "otnet_ports_overlay": [overlay_record("hs", port), overlay_record("red", node_red["start"])],
        "otnet_ports_chart_ports": [{"service": "c", "port": port, "protocol": "udp"}],
        "otnet_ports_accepted_overlaps": [{"site": "hs", "catalog": "controller_internal", "reason": "r"}],
    }
    found = host_problems(catalog, "fw1", variables, {"igor_gateway": "igor_gateway_version: x is not a version"})
    assert {p.host for p in found} == {"fw1"}
    assert [p.variable for p in found] == [
        "igor_gateway_version",
        "opto22_segment_conduits",
        "otnet_ports_chart_ports[0].port",
        "otnet_ports_overlay[1]",
        "otnet_ports_chart_ports[0]",
    ]


# ---- the site model: zones ---------------------------------------------------------------------------------------

ZONES = {
    "plant": {"label": "Plant", "networks": ["10.0.0.0/8", "2001:db8::/32"]},
    "line1": {"label": "Line 1", "networks": ["10.10.1.0/24", "2001:db8:10::/48"]},
    "hmi": {"networks": ["10.10.1.12", "2001:db8:10::12"]},
    "twin": {"label": "Twin of line 1", "networks": ["10.10.1.0/24"]},
}


def net(text):
    return ipaddress.ip_network(text)


@pytest.fixture(scope="module")
def zones():
    return parse_zones(ZONES)


ZONE_OF = {
    "IPv4 address in the smallest network": ("10.10.1.11", None, "line1"),
    "IPv4 host zone wins over its network": ("10.10.1.12", None, "hmi"),
    "IPv4 network in the larger zone": ("10.20.0.0/16", None, "plant"),
    "IPv4 outside every zone": ("192.0.2.1", None, ""),
    "IPv6 address in the smallest network": ("2001:db8:10::11", None, "line1"),
    "IPv6 host zone": ("2001:db8:10::12", None, "hmi"),
    "IPv6 network in the larger zone": ("2001:db8:20::/48", None, "plant"),
    "IPv6 outside every zone": ("2001:db9::1", None, ""),
    "IPv6 network wider than every zone": ("2001:db8::/31", None, ""),
    "range inside one network": ("10.10.1.20", "10.10.1.30", "line1"),
    "range across two networks": ("10.10.1.250", "10.10.2.5", "plant"),
    "range leaving every zone": ("10.255.255.250", "11.0.0.5", ""),
}


@pytest.mark.parametrize("case", list(ZONE_OF))
def test_an_endpoint_sits_in_the_smallest_zone_network_that_holds_it(zones, case):
    first, last, expected = ZONE_OF[case]
    assert zone_of(zones, net(first), net(last) if last else None) == expected


def test_of_two_zones_with_the_same_network_the_first_wins(zones):
    assert zone_of([z for z in zones if z.name != "line1"], net("10.10.1.11")) == "twin"


def test_zones_are_normalised(zones):
    assert zones[2] == Zone("hmi", "hmi", (net("10.10.1.12/32"), net("2001:db8:10::12/128")))
    assert zones[2].as_dict()["networks"] == ["10.10.1.12/32", "2001:db8:10::12/128"]


HOSTILE_ZONES = {
    "not a mapping": (["line1"], "otnet_ports_site_zones: ['line1'] is not a mapping"),
    "zone not a mapping": ({"line1": "10.10.1.0/24"}, "otnet_ports_site_zones.line1: '10.10.1.0/24' is not a mapping"),
    "networks a string": ({"l": {"networks": "10.10.1.0/24"}}, "otnet_ports_site_zones.l.networks: '10.10.1.0/24'"),
    "host bits set": (
        {"l": {"networks": ["10.10.1.5/24"]}},
        "otnet_ports_site_zones.l.networks[0]: '10.10.1.5/24' has",
    ),
    "not an address": ({"l": {"networks": ["line-1"]}}, "otnet_ports_site_zones.l.networks[0]: 'line-1' is not"),
    "not text": ({"l": {"networks": [10]}}, "otnet_ports_site_zones.l.networks[0]: 10 is not"),
    "IPv4-mapped IPv6": ({"l": {"networks": ["::ffff:10.10.1.0/120"]}}, "otnet_ports_site_zones.l.networks[0]: "),
    "IPv6 scope id": ({"l": {"networks": ["fe80::1%eth0"]}}, "otnet_ports_site_zones.l.networks[0]: 'fe80::1%eth0'"),
}


@pytest.mark.parametrize("case", list(HOSTILE_ZONES))
def test_a_hostile_zone_map_is_refused_naming_the_zone(case):
    zones, text = HOSTILE_ZONES[case]
    with pytest.raises(QueryError) as error:
        parse_zones(zones)
    assert str(error.value).startswith(text)


def test_every_broken_zone_is_a_problem_of_the_preflight(catalog):
    zones = {"a": {"networks": ["10.10.1.5/24", "10.10.2.0/24", "2001:db8::1/64"]}, "b": "10.20.0.0/16"}
    found = host_problems(catalog, "fw1", {"otnet_ports_site_zones": zones})
    assert [(p.host, p.variable) for p in found] == [
        ("fw1", "otnet_ports_site_zones.a.networks[0]"),
        ("fw1", "otnet_ports_site_zones.a.networks[2]"),
        ("fw1", "otnet_ports_site_zones.b"),
    ]
    with pytest.raises(QueryError, match=r"^3 problems in otnet_ports_site_zones:\n  - otnet_ports_site_zones\.a"):
        parse_zones(zones)


ENDPOINTS = {
    "a zone's whole network": ("10.10.1.0/24", "net_10_10_1_0_24", "line1", "whole zone"),
    "an address": ("10.10.1.11", "net_10_10_1_11_32", "line1", "10.10.1.11"),
    "an address as /32": ("10.10.1.11/32", "net_10_10_1_11_32", "line1", "10.10.1.11"),
    "an IPv6 address": ("2001:db8:10::11", "net_2001_db8_10_11_128", "line1", "2001:db8:10::11"),
    "an IPv6 zone network": ("2001:db8:10::/48", "net_2001_db8_10_48", "line1", "whole zone"),
    "a network inside a zone": ("10.10.1.128/25", "net_10_10_1_128_25", "line1", "10.10.1.128/25"),
    "a range": ("10.10.1.20-10.10.1.30", "net_10_10_1_20_10_10_1_30", "line1", "10.10.1.20-10.10.1.30"),
    "outside": ("192.0.2.0/24", "net_192_0_2_0_24", "", "192.0.2.0/24"),
}


@pytest.mark.parametrize("case", list(ENDPOINTS))
def test_an_endpoint_becomes_a_node(zones, case):
    text, node_id, zone, label = ENDPOINTS[case]
    assert endpoint(zones, text) == {"id": node_id, "kind": "network", "zone": zone, "label": label}


def test_ports_lines_join_protocols_per_service_and_range_in_order():
    flows = [flow("optommp", "tcp", 2001), flow("modbus_tcp", "tcp", 502), flow("optommp", "udp", 2001)]
    flows.append(flow("upnp", "udp", 1900, 1901))
    assert ports_lines(flows) == ["optommp 2001/tcp+udp", "modbus_tcp 502/tcp", "upnp 1900-1901/udp"]


# ---- the site model --------------------------------------------------------------------------------------------------


def gateway_plan(catalog):
    """Two rules shaped as the Igor planner's contract: win_firewall_rule options plus service, start and end."""
    rules = []
    for service, remote in (("http", "10.40.2.0/24,LocalSubnet"), ("bacnet_ip", "10.10.1.0/24")):
        found = catalog.select(vendor="igor", services=[service], direction="incoming")[0]
        rules.append(
            {
                "name": f"Igor Gateway - {found['label']} ({found['protocol'].upper()}-In)",
                "direction": "in",
                "protocol": found["protocol"],
                "localport": str(found["start"]),
                "remoteip": remote,
                "service": service,
                "start": found["start"],
                "end": found["end"],
            }
        )
    return {"state": "present", "group": "g", "exclusive": False, "rules": rules,
            "exclusions": {"paths": [], "processes": []}}  # fmt: skip


@pytest.fixture(scope="module")
def model(catalog, chart):
    modbus = record(catalog, "modbus_tcp")
    traps = catalog.select(services=["snmp_traps"])[0]
    plan = segment_plan(
        conduits=[
            conduit("scada", ["10.20.9.0/24"], ["modbus_tcp"], [flow("modbus_tcp", "tcp", modbus["start"])]),
            conduit(
                "v6", ["2001:db8:20::/48"], [], [flow("chart_logic", "udp", chart["allowed"], chart["allowed"] + 1)]
            ),
            conduit("corporate", ["10.30.0.0/16"], [], []),
        ],
        outbound=[conduit("traps", ["10.20.9.10"], ["snmp_traps"], [flow("snmp_traps", "udp", traps["start"])])],
    )
    plan["outbound"][0]["destinations"] = plan["outbound"][0].pop("sources")
    hostvars = {
        "fw1": {"opto22_segment_plan": plan, "ansible_host": "10.20.9.251", "opto22_segment_conduits": ["as written"]},
        "fw2": {"opto22_segment_plan": {"table": "otnet_opto22", "state": "absent", "paths": {}}},
        "fw3": {},
        "gw1": {"igor_gateway_plan": gateway_plan(catalog), "ansible_host": "2001:db8:40::5"},
    }
    groups = {"opto22_segments": ["fw1", "fw2", "fw3"], "igor_gateways": ["gw1"]}
    zones = {
        "line1": {"label": "Line 1", "networks": ["10.10.9.0/24", "2001:db8:10::/48"]},
        "scada": {"label": "SCADA", "networks": ["10.20.9.0/24"]},
        "lighting": {"label": "Lighting", "networks": ["2001:db8:40::/48"]},
    }
    return site_model(catalog, "plant", groups, hostvars, zones)


def test_the_model_holds_the_planned_hosts_only(model):
    assert model["name"] == "plant"
    assert [s["host"] for s in model["segments"]] == ["fw1"]  # fw2 is removed (absent), fw3 has no plan
    assert [g["host"] for g in model["gateways"]] == ["gw1"]
    assert [z["name"] for z in model["zones"]] == ["line1", "scada", "lighting"]


def test_a_segment_keeps_the_plan_flows_with_ports_as_text(model, catalog):
    segment = model["segments"][0]
    assert segment["address"] == "10.20.9.251"
    assert segment["controllers"] == ["10.10.9.11/32", "2001:db8:10::11/128"]
    assert segment["management"] == {"port": 22, "sources": ["10.20.9.50/32"]}
    modbus = record(catalog, "modbus_tcp")
    assert segment["conduits"][0]["flows"][0] == {
        **flow("modbus_tcp", "tcp", modbus["start"]),
        "ports": str(modbus["start"]),
    }
    assert segment["settings"] == {"conduits": ["as written"], "outbound": [], "overlay": []}


def test_a_gateway_rule_carries_its_port_remotes_and_service(model, catalog):
    http = catalog.select(vendor="igor", services=["http"], direction="incoming")[0]
    rule = model["gateways"][0]["rules"][0]
    assert rule["port"] == str(http["start"])
    assert rule["remote"] == ["10.40.2.0/24", "LocalSubnet"]
    assert (rule["service"], rule["start"], rule["end"]) == ("http", http["start"], http["end"])


def test_the_graph_places_both_families_in_zones(model):
    clusters = {c["id"]: [n["id"] for n in c["nodes"]] for c in model["graph"]["clusters"]}
    assert clusters == {
        "cluster_line1": ["ctl_fw1", "fw_fw1"],
        "cluster_scada": ["net_10_20_9_0_24", "net_10_20_9_10_32", "net_10_20_9_50_32"],
        "cluster_lighting": ["gw_gw1", "kw_gw1_LocalSubnet"],
    }
    outside = [n["id"] for n in model["graph"]["nodes"]]
    assert outside == ["net_2001_db8_20_48", "net_10_30_0_0_16", "net_10_40_2_0_24", "net_10_10_1_0_24"]
    scada = model["graph"]["clusters"][1]
    assert scada["label"] == "SCADA"
    assert scada["networks"] == ["10.20.9.0/24"]
    assert scada["nodes"][0] == {"id": "net_10_20_9_0_24", "kind": "network", "label": "whole zone"}


def test_the_graph_edges_are_labelled_with_services_and_ports(model, catalog, chart):
    edges = {(e["from"], e["to"]): e for e in model["graph"]["edges"]}
    modbus = record(catalog, "modbus_tcp")
    assert edges[("net_10_20_9_0_24", "ctl_fw1")]["label"] == ["conduit scada", f"modbus_tcp {modbus['start']}/tcp"]
    v6 = edges[("net_2001_db8_20_48", "ctl_fw1")]
    assert v6["label"] == ["conduit v6", f"chart_logic {chart['allowed']}-{chart['allowed'] + 1}/udp"]
    assert edges[("net_10_30_0_0_16", "ctl_fw1")] == {
        "from": "net_10_30_0_0_16", "to": "ctl_fw1", "kind": "nothing", "label": ["conduit corporate", "nothing"],
    }  # fmt: skip
    assert edges[("ctl_fw1", "net_10_20_9_10_32")]["kind"] == "outbound"
    assert edges[("net_10_20_9_50_32", "fw_fw1")]["label"] == ["management", "ssh 22/tcp"]
    http = catalog.select(vendor="igor", services=["http"], direction="incoming")[0]
    bacnet = catalog.select(vendor="igor", services=["bacnet_ip"], direction="incoming")[0]
    gateway = edges[("kw_gw1_LocalSubnet", "gw_gw1")]
    assert gateway["label"] == ["igor_gateway in", f"{http['label']} {http['start']}/{http['protocol']}"]
    label = f"{bacnet['label']} {bacnet['start']}/{bacnet['protocol']}"
    assert edges[("net_10_10_1_0_24", "gw_gw1")]["label"] == ["igor_gateway in", label]


def test_a_keyword_node_belongs_to_its_gateway(model):
    node = next(n for c in model["graph"]["clusters"] for n in c["nodes"] if n["id"] == "kw_gw1_LocalSubnet")
    assert node == {"id": "kw_gw1_LocalSubnet", "kind": "keyword", "label": "LocalSubnet (of gw1)"}


def test_zones_default_to_the_first_site_hosts_zones(catalog):
    hostvars = {"gw1": {"igor_gateway_plan": gateway_plan(catalog), "otnet_ports_site_zones": {"l": {"networks": []}}}}
    model = site_model(catalog, "site", {"igor_gateways": ["gw1"]}, hostvars)
    assert model["zones"] == [{"name": "l", "label": "l", "networks": []}]


def test_a_site_without_zones_draws_every_node_on_its_own(catalog):
    hostvars = {"gw1": {"igor_gateway_plan": gateway_plan(catalog), "ansible_host": "gw1.example"}}
    model = site_model(catalog, "site", {"igor_gateways": ["gw1"]}, hostvars)
    assert model["graph"]["clusters"] == []
    assert [n["id"] for n in model["graph"]["nodes"]][:2] == ["gw_gw1", "net_10_40_2_0_24"]


# ---- the playbooks only orchestrate ----------------------------------------------------------------------------------


def test_the_playbooks_hold_fewer_than_80_lines_of_jinja():
    """The decisions live here; playbooks/ (outside the drawing templates) only orchestrate and render (issue 9)."""
    total = sum(len(count_jinja.jinja_lines(path)) for path in count_jinja.counted_files())
    assert 0 < total < count_jinja.LIMIT, f"{total} lines; python tools/count_jinja.py --lines lists them"


def test_the_jinja_count_follows_a_folded_expression_over_its_lines(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text('a: "{{ x }}"\nb: >-\n  {{ y\n     | z }}\nc: plain\n{% if q %}\n')
    assert [number for number, _ in count_jinja.jinja_lines(playbook)] == [1, 3, 4, 6]
