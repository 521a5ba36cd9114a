"""Narrowed protocols (least privilege): a conduit's or outbound entry's service written {service, protocol}, and the
site setting otnet_ports_assumed_protocols (both | explicit) the preflight enforces.

Ports and protocols come from the catalog (never literals here); the example site is read from examples/site as
written. tests/unit/fixtures/segment_narrowed/example_site_bare_plan.json is the example site's plan (conduits,
outbound, set elements) made with bare service keys before narrowing existed: bare keys must plan exactly that.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml
from dev_collection import REPO
from segment_site import MGMT_CONNECTION, site

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import SegmentError, plan_segment
from ansible_collections.otnet.ports.plugins.plugin_utils._site import ASSUMED, host_problems

INVENTORY = REPO / "examples" / "site" / "inventory"
BARE_PLAN = REPO / "tests" / "unit" / "fixtures" / "segment_narrowed" / "example_site_bare_plan.json"
SEGMENT_HOSTS = ("fw-line1", "fw-line2")
ZONE_SOURCES = re.compile(r"\{\{\s*otnet_ports_site_zones\.(\w+)\.networks\s*\}\}")


def with_services(services, kind="conduits", index=1):
    """The worked example with one conduit's (or the outbound entry's) services replaced."""
    settings = copy.deepcopy(site())
    settings[f"opto22_segment_{kind}"][index if kind == "conduits" else 0]["services"] = services
    return settings


def plan(catalog, settings):
    return plan_segment(catalog, settings, connection=MGMT_CONNECTION)


def flows_of(result, name, kind="conduits"):
    (entry,) = [item for item in result[kind] if item["name"] == name]
    return entry


def catalog_flows(catalog, service, protocols=("tcp", "udp"), direction="incoming"):
    """(service, protocol, start, end) of the catalog's records, as the plan carries them."""
    return {
        (r["service"], r["protocol"], r["start"], r["end"])
        for r in catalog.select(services=[service], kind="assignment", direction=direction)
        if r["protocol"] in protocols
    }


def flow_set(entry):
    return {(f["service"], f["protocol"], f["start"], f["end"]) for f in entry["flows"]}


# ---- the entry forms -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "protocols"),
    [
        pytest.param("groov_app", ("tcp", "udp"), id="bare key: every protocol the catalog records"),
        pytest.param({"service": "groov_app", "protocol": "tcp"}, ("tcp",), id="tcp"),
        pytest.param({"service": "groov_app", "protocol": "udp"}, ("udp",), id="udp"),
        pytest.param({"service": "groov_app", "protocol": "both"}, ("tcp", "udp"), id="both"),
    ],
)
def test_an_entry_keeps_only_the_protocol_it_names(catalog, entry, protocols):
    result = plan(catalog, with_services([entry]))
    engineering = flows_of(result, "engineering")
    assert engineering["services"] == ["groov_app"]  # the plan's services stay a list of keys
    assert flow_set(engineering) == catalog_flows(catalog, "groov_app", protocols)
    assert {f["basis"] for f in engineering["flows"]} == {"assumed"}
    mine = [e for e in result["elements"]["conduits_v4"] if e["comment"].startswith("engineering: ")]
    assert {e["key"].split(" . ")[1] for e in mine} == set(protocols)  # set elements: address . protocol . port


def test_an_outbound_entry_is_narrowed_the_same_way(catalog):
    result = plan(catalog, with_services([{"service": "optocontrol_peer", "protocol": "udp"}], kind="outbound"))
    traps = flows_of(result, "traps", "outbound")
    assert traps["services"] == ["optocontrol_peer"]
    assert flow_set(traps) == catalog_flows(catalog, "optocontrol_peer", ("udp",), "outgoing")


def test_narrowed_and_bare_entries_mix_in_one_conduit(catalog):
    services = ["modbus_tcp", {"service": "pac_control_host", "protocol": "tcp"}, "snmp"]
    engineering = flows_of(plan(catalog, with_services(services)), "engineering")
    assert engineering["services"] == ["modbus_tcp", "pac_control_host", "snmp"]
    expected = (
        catalog_flows(catalog, "modbus_tcp")
        | catalog_flows(catalog, "pac_control_host", ("tcp",))
        | catalog_flows(catalog, "snmp")
    )
    assert flow_set(engineering) == expected


@pytest.mark.parametrize(
    ("services", "protocols"),
    [
        pytest.param(
            [{"service": "groov_app", "protocol": "tcp"}, {"service": "groov_app", "protocol": "udp"}],
            ("tcp", "udp"),
            id="twice, tcp and udp: both",
        ),
        pytest.param(
            [{"service": "groov_app", "protocol": "udp"}, "groov_app"], ("tcp", "udp"), id="narrowed, then bare: both"
        ),
        pytest.param(
            ["groov_app", {"service": "groov_app", "protocol": "tcp"}], ("tcp", "udp"), id="bare, then narrowed: both"
        ),
        pytest.param(
            [{"service": "groov_app", "protocol": "tcp"}, {"service": "groov_app", "protocol": "tcp"}],
            ("tcp",),
            id="twice tcp: tcp once",
        ),
    ],
)
def test_a_service_written_twice_keeps_every_protocol_its_entries_ask_for(catalog, services, protocols):
    engineering = flows_of(plan(catalog, with_services(services)), "engineering")
    assert engineering["services"] == ["groov_app"]
    assert flow_set(engineering) == catalog_flows(catalog, "groov_app", protocols)
    assert len(engineering["flows"]) == len(flow_set(engineering))  # no flow twice


# ---- a protocol the service does not have ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "entry", "has"),
    [
        pytest.param("conduits", {"service": "modbus_tcp", "protocol": "udp"}, "tcp", id="modbus_tcp on udp"),
        pytest.param("conduits", {"service": "modbus_tcp", "protocol": "both"}, "tcp", id="modbus_tcp on both"),
        pytest.param("conduits", {"service": "snmp", "protocol": "tcp"}, "udp", id="snmp on tcp"),
        pytest.param("outbound", {"service": "https", "protocol": "udp"}, "tcp", id="outbound https on udp"),
    ],
)
def test_a_protocol_the_catalog_lacks_names_the_conduit_the_service_and_what_it_has(catalog, kind, entry, has):
    with pytest.raises(SegmentError) as error:
        plan(catalog, with_services(["snmp", entry], kind=kind))
    text = str(error.value)
    where = r"opto22_segment_conduits\[1\]" if kind == "conduits" else r"opto22_segment_outbound\[0\]"
    owner = "conduit 'engineering'" if kind == "conduits" else "outbound entry 'traps'"
    service, protocol = entry["service"], entry["protocol"]
    assert re.search(
        rf"^{where}\.services\[1\]: {owner} asks for {service} on {protocol}, but the catalog has {service} only on "
        rf"{has} \(.*\); give protocol {has}, or the bare key {service}$",
        text,
    ), text


# ---- hostile values ------------------------------------------------------------------------------------------------

SERVICE_RULE = re.escape("give a catalog service key (modbus_tcp) or {service: KEY, protocol: tcp, udp or both}")
PROTOCOL_RULE = "is not a protocol of a service entry; give tcp, udp or both"
HOSTILE = {
    "empty string": ("", rf"services\[0\]: '' is empty; {SERVICE_RULE}"),
    "blank string": ("  ", rf"services\[0\]: '  ' is empty; {SERVICE_RULE}"),
    "None": (None, rf"services\[0\]: None is not a service entry; {SERVICE_RULE}"),
    "a list": (["groov_app", "tcp"], rf"services\[0\]: \['groov_app', 'tcp'\] is not a service entry; {SERVICE_RULE}"),
    "a number": (502, rf"services\[0\]: 502 is not a service entry; {SERVICE_RULE}"),
    "protocol 'TCP '": (
        {"service": "groov_app", "protocol": "TCP "},
        rf"services\[0\]\.protocol: 'TCP ' {PROTOCOL_RULE}",
    ),
    "protocol 'tcp/udp'": (
        {"service": "groov_app", "protocol": "tcp/udp"},
        rf"services\[0\]\.protocol: 'tcp/udp' {PROTOCOL_RULE}",
    ),
    "protocol 'Both'": (
        {"service": "groov_app", "protocol": "Both"},
        rf"services\[0\]\.protocol: 'Both' {PROTOCOL_RULE}",
    ),
    "protocol None": ({"service": "groov_app", "protocol": None}, rf"services\[0\]\.protocol: None {PROTOCOL_RULE}"),
    "protocol true": ({"service": "groov_app", "protocol": True}, rf"services\[0\]\.protocol: True {PROTOCOL_RULE}"),
    "protocol a list": (
        {"service": "groov_app", "protocol": ["tcp", "udp"]},
        rf"services\[0\]\.protocol: \['tcp', 'udp'\] {PROTOCOL_RULE}",
    ),
    "no protocol": (
        {"service": "groov_app"},
        r"services\[0\]: \{'service': 'groov_app'\} has no protocol; give protocol tcp, udp or both, or write the "
        r"bare key groov_app",
    ),
    "unknown key port": (
        {"service": "groov_app", "protocol": "tcp", "port": 443},
        rf"services\[0\]: unknown keys port in .*; {SERVICE_RULE}",
    ),
    "unknown key protocols": (
        {"service": "groov_app", "protocols": "tcp"},
        rf"services\[0\]: unknown keys protocols in .*; {SERVICE_RULE}",
    ),
    "service not text": (
        {"service": 443, "protocol": "tcp"},
        rf"services\[0\]\.service: 443 is not a catalog service key; {SERVICE_RULE}",
    ),
    "service empty": ({"service": "", "protocol": "tcp"}, r"services\[0\]\.service: '' is not a catalog service key"),
    "service unknown": (
        {"service": "groov", "protocol": "tcp"},
        r"services\[0\]: unknown catalog service 'groov' \(did you mean '[a-z_]+'\?\); known: ",
    ),
    "bare key with a blank": ("groov_app ", r"services\[0\]: unknown catalog service 'groov_app '"),
}


@pytest.mark.parametrize(("value", "message"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_entry_is_refused_naming_where_the_value_and_the_rule(catalog, value, message):
    with pytest.raises(SegmentError) as error:
        plan(catalog, with_services([value]))
    assert re.search(rf"^opto22_segment_conduits\[1\]\.{message}", str(error.value)), str(error.value)


def test_every_hostile_entry_is_reported_at_once(catalog):
    with pytest.raises(SegmentError) as error:
        plan(catalog, with_services([value for value, _ in HOSTILE.values()]))
    text = str(error.value)
    assert text.startswith(f"{len(HOSTILE)} problems in the opto22_segment settings:"), text
    for position in range(len(HOSTILE)):
        assert f"opto22_segment_conduits[1].services[{position}]" in text


# ---- the example site: bare keys plan as before -------------------------------------------------------------------


def _yaml(path):
    return yaml.safe_load((INVENTORY / path).read_text()) or {}


def example_values(host):
    """The example site's variables of one segment host, zone sources resolved (the only Jinja it uses)."""
    common = _yaml("group_vars/all.yml")
    values = {**common, **_yaml("group_vars/opto22_segments.yml"), **_yaml(f"host_vars/{host}.yml")}
    for conduit in values["opto22_segment_conduits"]:
        zone = ZONE_SOURCES.fullmatch(conduit["sources"]).group(1)
        conduit["sources"] = common["otnet_ports_site_zones"][zone]["networks"]
    return values


def role_values(values):
    return {name: value for name, value in values.items() if name.startswith("opto22_segment_")}


def bare(values):
    """Every narrowed service entry written back as its bare key."""
    values = copy.deepcopy(values)
    for kind in ("opto22_segment_conduits", "opto22_segment_outbound"):
        for entry in values.get(kind) or []:
            entry["services"] = [s["service"] if isinstance(s, dict) else s for s in entry["services"]]
    return values


FLOW_KEYS = ("service", "protocol", "start", "end", "basis")  # the plan's contract (others may add keys)


def comparable(result):
    """What narrowing can change: each entry's name, services and flows, and the set elements."""
    entries = {
        kind: [
            {
                "name": item["name"],
                "services": item["services"],
                "flows": [{key: flow[key] for key in FLOW_KEYS} for flow in item["flows"]],
            }
            for item in result[kind]
        ]
        for kind in ("conduits", "outbound")
    }
    return {**entries, "elements": result["elements"]}


@pytest.mark.parametrize("host", SEGMENT_HOSTS)
def test_bare_keys_plan_exactly_what_they_planned_before_narrowing_existed(catalog, host):
    values = example_values(host)
    site_catalog = catalog.with_overlay(values["otnet_ports_overlay"])
    before = json.loads(BARE_PLAN.read_text())[host]
    result = plan_segment(site_catalog, role_values(bare(values)))
    assert comparable(result) == comparable(before)


@pytest.mark.parametrize("host", SEGMENT_HOSTS)
def test_the_example_sites_engineering_conduit_no_longer_opens_udp_on_assumed_ports(catalog, host):
    values = example_values(host)
    site_catalog = catalog.with_overlay(values["otnet_ports_overlay"])
    narrowed = flows_of(plan_segment(site_catalog, role_values(values)), "engineering")
    wide = flows_of(plan_segment(site_catalog, role_values(bare(values))), "engineering")
    dropped = flow_set(wide) - flow_set(narrowed)
    assert dropped
    assert {protocol for _, protocol, _, _ in dropped} == {"udp"}
    kept_both = {s["service"] for s in values["opto22_segment_conduits"][1]["services"] if s["protocol"] == "both"}
    assert {service for service, _, _, _ in dropped}.isdisjoint(kept_both)
    assert narrowed["services"] == wide["services"]


# ---- otnet_ports_assumed_protocols: the preflight ----------------------------------------------------------------


def assumed_problems(catalog, host, variables):
    return [p for p in host_problems(catalog, host, variables) if p.variable == ASSUMED or ".services[" in p.variable]


def test_explicit_lists_every_bare_assumed_service_of_every_host_with_the_host_and_service(catalog):
    found = []
    for host in SEGMENT_HOSTS:
        found += assumed_problems(catalog, host, bare(example_values(host)))
    listed = {(p.host, p.variable, p.value) for p in found}
    expected = {
        (host, f"opto22_segment_conduits[{index}].services[{position}]", service)
        for host in SEGMENT_HOSTS
        for index, conduit in enumerate(bare(example_values(host))["opto22_segment_conduits"])
        for position, service in enumerate(conduit["services"])
        if any(r["protocol_basis"] == "assumed" for r in catalog.select(services=[service], kind="assignment"))
    }
    assert listed == expected
    assert {host for host, _, _ in listed} == set(SEGMENT_HOSTS)
    for problem in found:
        assert problem.host in problem.rule
        assert f"opens {problem.value} (" in problem.rule
        assert f"{{service: {problem.value}, protocol: both}}" in problem.rule
        assert problem.message.startswith(f"{problem.variable}: conduit '")


def test_explicit_flags_only_services_whose_records_are_assumed(catalog):
    variables = {
        **site(),
        ASSUMED: "explicit",
        "opto22_segment_conduits": [
            {"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp", "ethernet_ip", "snmp"]},
            {
                "name": "engineering",
                "sources": ["10.20.2.0/24"],
                "services": [
                    {"service": "groov_app", "protocol": "tcp"},
                    {"service": "optommp", "protocol": "both"},
                    "pac_control_host",
                ],
            },
        ],
        "opto22_segment_outbound": [
            {"name": "peers", "destinations": ["10.20.3.10"], "services": ["snmp_traps", "optocontrol_peer"]}
        ],
    }
    found = assumed_problems(catalog, "fw1", variables)
    assert [(p.variable, p.value) for p in found] == [
        ("opto22_segment_conduits[1].services[2]", "pac_control_host"),
        ("opto22_segment_outbound[0].services[1]", "optocontrol_peer"),
    ]
    assert found[0].rule.startswith("conduit 'engineering' on fw1 opens pac_control_host (")
    assert found[1].rule.startswith("outbound entry 'peers' on fw1 opens optocontrol_peer (")


@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({}, id="unset"),
        pytest.param({ASSUMED: None}, id="null"),
        pytest.param({ASSUMED: "both"}, id="both"),
        pytest.param({ASSUMED: "explicit", "opto22_segment_state": "absent"}, id="explicit, segment absent"),
    ],
)
def test_both_and_unset_keep_todays_behaviour(catalog, variables):
    assert assumed_problems(catalog, "fw1", {**bare(example_values("fw-line1")), ASSUMED: None, **variables}) == []


@pytest.mark.parametrize("host", SEGMENT_HOSTS)
def test_the_narrowed_example_site_passes_explicit(catalog, host):
    values = example_values(host)
    assert values[ASSUMED] == "explicit"
    assert assumed_problems(catalog, host, values) == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Explicit", id="capitalised"),
        pytest.param("explicit ", id="trailing blank"),
        pytest.param("", id="empty"),
        pytest.param("tcp", id="a protocol"),
        pytest.param(True, id="true"),
        pytest.param(["explicit"], id="a list"),
        pytest.param({"mode": "explicit"}, id="a mapping"),
    ],
)
def test_an_invalid_setting_is_an_error_naming_it(catalog, value):
    found = assumed_problems(catalog, "fw1", {**bare(example_values("fw-line1")), ASSUMED: value})
    assert [(p.variable, p.value) for p in found] == [(ASSUMED, value)]
    assert found[0].message.startswith(f"{ASSUMED}: {value!r} is not a mode; give both (the default")


def test_broken_entries_are_left_to_the_planner(catalog):
    conduits = [
        {"name": "x", "sources": ["10.20.1.0/24"], "services": [None, "", {"service": "groov_app"}, "no_such"]},
        "not a conduit",
        {"name": "y", "services": "groov_app"},
    ]
    variables = {ASSUMED: "explicit", "opto22_segment_conduits": conduits, "opto22_segment_outbound": None}
    assert assumed_problems(catalog, "fw1", variables) == []
