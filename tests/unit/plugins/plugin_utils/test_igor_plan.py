"""The igor_gateway plan against the Igor document: every seed cell, and nothing else, as a firewall rule; the
exclusions; and each bad input failing with the variable, the value and the rule it breaks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from igor_gateway_seed import moved, role_settings, seed_cells, seed_exclusions

from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import IgorPlanError, build_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import range_text
from ansible_collections.otnet.ports.plugins.plugin_utils._settings import role_spec
from ansible_collections.otnet.ports.plugins.plugin_utils._windows import check_remote_scope

CELLS = seed_cells()
SEED = seed_exclusions()
# Distinct scopes tell the rules of the two tables apart (both have an outgoing HTTP rule).
SCOPES = {"gateway": "LocalSubnet", "bacnet": "10.20.0.0/24"}
EVERYTHING = {"bacnet": True, "outbound_rules": True, "bms_networks": [SCOPES["bacnet"]]}
WINDOWS = {"incoming": ("in", "localport", "remoteport", "In"), "outgoing": ("out", "remoteport", "localport", "Out")}


def settings(**overrides: Any) -> dict[str, Any]:
    """The role's defaults, a version, and the given variables (short names: bacnet=True)."""
    return role_settings(
        **{(k if k.startswith("igor_gateway_") else f"igor_gateway_{k}"): v for k, v in overrides.items()}
    )


def plan(catalog, **overrides: Any) -> dict[str, Any]:
    return build_plan(catalog, settings(**overrides))


def ports(rule: dict[str, Any]) -> range:
    text = rule.get("localport", rule.get("remoteport"))
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def covering(rules: list[dict[str, Any]], cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules that admit the cell's traffic: its direction, protocol, port and its table's remote scope."""
    direction, port_option, _, _ = WINDOWS[cell["direction"]]
    return [
        r
        for r in rules
        if r["remoteip"] == SCOPES[cell["table"]]
        and r["direction"] == direction
        and r["protocol"] == cell["protocol"]
        and port_option in r
        and cell["port"] in ports(r)
    ]


def cell_id(cell: dict[str, Any]) -> str:
    return f"{cell['table']} {cell['direction']} {cell['protocol']} {cell['port']} ({cell['label']})"


def test_the_seed_has_the_cells_the_issue_names():
    tables = {table: sum(1 for c in CELLS if c["table"] == table) for table in SCOPES}
    assert tables == {"gateway": 29, "bacnet": 3}
    assert (len(SEED["paths"]), len(SEED["processes"])) == (2, 7)


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_seed_cell_is_one_rule_of_the_full_plan(catalog, cell):
    full = plan(catalog, **EVERYTHING)
    (rule,) = covering(full["rules"], cell)
    _, port_option, other_option, suffix = WINDOWS[cell["direction"]]
    assert port_option in rule
    assert other_option not in rule
    assert f" - {cell['label']}" in rule["name"]
    assert rule["name"].endswith(f"({cell['protocol'].upper()}-{suffix})")
    assert rule["group"] == full["group"] == "Igor Gateway (otnet.ports)"
    assert rule["action"] == "allow"
    assert rule["enabled"] is True
    assert rule["state"] == "present"
    if cell["table"] == "bacnet":
        assert rule["program"] == SEED["bacnet_program"]
    else:
        assert "program" not in rule


@pytest.mark.parametrize(("bacnet", "outbound"), [(False, False), (True, False), (False, True), (True, True)], ids=str)
def test_the_plan_holds_the_chosen_cells_and_nothing_else(catalog, bacnet, outbound):
    rules = plan(catalog, bacnet=bacnet, outbound_rules=outbound, bms_networks=[SCOPES["bacnet"]])["rules"]
    wanted = [c for c in CELLS if (bacnet or c["table"] == "gateway") and (outbound or c["direction"] == "incoming")]
    assert all(len(covering(rules, cell)) == 1 for cell in wanted)
    assert sum(len(ports(r)) for r in rules) == len(wanted)
    assert ("out" in {r["direction"] for r in rules}) is outbound
    assert any("program" in r for r in rules) is bacnet


def test_rules_are_single_ports_or_ranges_and_names_are_unique(catalog):
    rules = plan(catalog, **EVERYTHING)["rules"]
    for rule in rules:
        text = rule.get("localport", rule.get("remoteport"))
        assert "," not in text
        assert " " not in text
    assert len({r["name"].lower() for r in rules}) == len(rules)
    assert {r["name"] for r in rules if len(ports(r)) > 1} >= {
        "Igor Gateway - UPnP (UDP-In)",
        "Igor Gateway - Firmware Updating 50195-50199 (UDP-Out)",
    }


def test_a_service_with_ports_apart_gets_a_rule_per_span_named_with_its_ports(catalog):
    rules = plan(catalog)["rules"]
    split = [r for r in rules if "Firmware Updating" in r["name"] and r["protocol"] == "udp"]
    expected = {c["port"] for c in CELLS if c["label"] == "Firmware Updating" and c["direction"] == "incoming"}
    assert {p for r in split for p in ports(r)} == expected
    assert len(split) == 2
    for rule in split:
        assert f"Firmware Updating {rule['localport']} (UDP-In)" in rule["name"]


def test_default_scope_is_the_local_subnet_never_any(catalog):
    default = plan(catalog, bacnet=True, outbound_rules=True)
    assert {r["remoteip"] for r in default["rules"]} == {"LocalSubnet"}
    assert {tuple(r["profiles"]) for r in default["rules"]} == {("domain", "private", "public")}


@pytest.mark.parametrize("written", ["Any", "any", "*", ["Any"]])
def test_any_only_when_written(catalog, written):
    rules = plan(catalog, node_networks=written)["rules"]
    assert {r["remoteip"] for r in rules} == {"any"}


def test_networks_and_profiles_reach_every_rule_of_their_table(catalog):
    rules = plan(
        catalog,
        bacnet=True,
        outbound_rules=True,
        node_networks=["10.1.0.0/16", "LocalSubnet"],
        bms_networks="10.20.0.5,10.20.1.0/255.255.255.0",
        firewall_profiles=["private", "domain", "private"],
    )["rules"]
    by_table = {("bacnet" if "program" in r else "gateway"): r["remoteip"] for r in rules}
    assert by_table == {"gateway": "10.1.0.0/16,LocalSubnet", "bacnet": "10.20.0.5,10.20.1.0/24"}
    assert {tuple(r["profiles"]) for r in rules} == {("domain", "private")}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["localsubnet", "dns", "DefaultGateway"], ("LocalSubnet", "DNS", "DefaultGateway")),
        (["10.1.2.3", "10.1.2.3"], ("10.1.2.3",)),
        (["2001:DB8::/32", "fe80::1-fe80::9"], ("2001:db8::/32", "fe80::1-fe80::9")),
        ("10.0.0.10 - 10.0.0.99, WINS", ("10.0.0.10-10.0.0.99", "WINS")),
    ],
)
def test_network_forms(given, expected):
    assert check_remote_scope(given, "igor_gateway_node_networks") == expected


def test_install_dir_moves_every_exclusion_and_the_program(catalog):
    base = "E:\\Lighting\\Igor"
    moved_plan = plan(catalog, bacnet=True, install_dir=base + "\\")
    assert moved_plan["exclusions"] == {
        "paths": [moved(p, base) for p in SEED["paths"]],
        "processes": [moved(p, base) for p in SEED["processes"]],
    }
    assert {r["program"] for r in moved_plan["rules"] if "program" in r} == {moved(SEED["bacnet_program"], base)}


def test_unset_install_dir_is_the_documents(catalog):
    assert plan(catalog)["exclusions"] == {"paths": SEED["paths"], "processes": SEED["processes"]}


def test_no_av_exclusions_leaves_defender_alone_but_keeps_the_program(catalog):
    quiet = plan(catalog, bacnet=True, av_exclusions=False)
    assert quiet["exclusions"] == {"paths": [], "processes": []}
    assert {r["program"] for r in quiet["rules"] if "program" in r} == {SEED["bacnet_program"]}


def test_absent_plans_the_same_rules_for_removal(catalog):
    present = plan(catalog, **EVERYTHING)
    absent = plan(catalog, **EVERYTHING, state="absent", exclusive=True)
    assert [r["name"] for r in absent["rules"]] == [r["name"] for r in present["rules"]]
    assert {r["state"] for r in absent["rules"]} == {"absent"}
    assert (absent["state"], absent["exclusive"]) == ("absent", True)
    assert absent["exclusions"] == present["exclusions"]


def test_string_booleans_as_ansible_reads_them(catalog):
    assert plan(catalog, bacnet="yes", outbound_rules="False", exclusive=1) == plan(
        catalog, bacnet=True, outbound_rules=False, exclusive=True
    )


BAD_INPUTS = {
    "version below the floor": (
        {"version": "1.11.0"},
        r"^igor_gateway_version: 1\.11\.0 is below 1\.12\.1, the lowest version the 'gateway' table",
    ),
    "version not a version": ({"version": "latest"}, r"^igor_gateway_version: 'latest' is not a version"),
    "version as a YAML float": ({"version": 1.12}, r"^igor_gateway_version: 1\.12 is a number, not a version"),
    "version null": ({"version": None}, r"^igor_gateway_version: None is not a version"),
    "version 1.20 unquoted": ({"version": 1.20}, r"^igor_gateway_version: 1\.2 is a number, not a version string"),
    "install dir relative": ({"install_dir": "Igor"}, r"^igor_gateway_install_dir: 'Igor' is not absolute"),
    "install dir wildcard": (
        {"install_dir": "C:\\Igor\\*"},
        r"^igor_gateway_install_dir: 'C:\\\\Igor\\\\\*' contains '\*'",
    ),
    "install dir bare drive": ({"install_dir": "D:\\"}, r"^igor_gateway_install_dir: 'D:\\\\' is a bare drive"),
    "install dir variable": (
        {"install_dir": "%ProgramFiles%\\Igor"},
        r"^igor_gateway_install_dir: '%ProgramFiles%\\\\Igor' is not absolute",
    ),
    "network malformed": (
        {"node_networks": ["LocalSubnet", "10.0.0.300/24"]},
        r"^igor_gateway_node_networks\[1\]: '10\.0\.0\.300/24' is not an IPv4/IPv6 address, CIDR, range or Windows "
        r"keyword \(LocalSubnet, ",
    ),
    "network host bits": (
        {"node_networks": ["10.0.0.5/24"]},
        r"^igor_gateway_node_networks\[0\]: '10\.0\.0\.5/24' has host bits set; "
        r"a CIDR names a network: write '10\.0\.0\.0/24'",
    ),
    "network range backwards": (
        {"node_networks": ["10.0.0.9-10.0.0.1"]},
        r"^igor_gateway_node_networks\[0\]: '10\.0\.0\.9-10\.0\.0\.1' starts after it ends",
    ),
    "network range of two families": (
        {"node_networks": ["10.0.0.1-fe80::1"]},
        r"^igor_gateway_node_networks\[0\]: '10\.0\.0\.1-fe80::1' mixes IPv4 and IPv6",
    ),
    "network with a scope id": (
        {"node_networks": ["fe80::1%3"]},
        r"^igor_gateway_node_networks\[0\]: 'fe80::1%3' carries the IPv6 scope id",
    ),
    "network any mixed": ({"node_networks": ["Any", "LocalSubnet"]}, r"^igor_gateway_node_networks: .* mixes Any"),
    "network list empty": ({"node_networks": []}, r"^igor_gateway_node_networks: the list is empty"),
    "network not a string": ({"node_networks": [10]}, r"^igor_gateway_node_networks\[0\]: '10' is not an IPv4"),
    "networks a mapping": ({"node_networks": {"a": 1}}, r"^igor_gateway_node_networks: \{'a': 1\} is not a list"),
    "bms network malformed": (
        {"bms_networks": ["bms.example"]},
        r"^igor_gateway_bms_networks\[0\]: 'bms\.example' is not an IPv4/IPv6 address",
    ),
    "profile unknown": (
        {"firewall_profiles": ["domain", "dmz"]},
        r"^igor_gateway_firewall_profiles\[1\]: 'dmz' is not one of domain, private, public$",
    ),
    "profiles empty": ({"firewall_profiles": []}, r"^igor_gateway_firewall_profiles: the list is empty"),
    "state unknown": ({"state": "gone"}, r"^igor_gateway_state: 'gone' is not one of present, absent$"),
    "bool malformed": ({"bacnet": "maybe"}, r"^igor_gateway_bacnet: 'maybe' is not a boolean"),
    "bool unset": ({"av_exclusions": None}, r"^igor_gateway_av_exclusions: None \(null\) is not a boolean"),
    "variable unknown": (
        {"igor_gateway_bacnett": True},
        r"^igor_gateway_bacnett: not a variable of the igor_gateway role \(did you mean igor_gateway_bacnet\?\); "
        r"known: igor_gateway_version, ",
    ),
}


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_names_the_variable_the_value_and_the_rule(catalog, overrides, message):
    with pytest.raises(IgorPlanError) as error:
        plan(catalog, **overrides)
    assert re.search(message, str(error.value)), str(error.value)


def test_every_problem_is_reported_at_once(catalog):
    """The planner collects every problem of a host, as the opto22_segment planner does (issue 9)."""
    with pytest.raises(IgorPlanError) as error:
        plan(catalog, version="1.11.0", node_networks=["10.0.0.300/24"], firewall_profiles=["dmz"], bacnet="maybe")
    text = str(error.value)
    assert text.startswith("4 problems in the igor_gateway settings:\n")
    for name in ("igor_gateway_version", "igor_gateway_node_networks[0]", "igor_gateway_firewall_profiles[0]",
                 "igor_gateway_bacnet"):  # fmt: skip
        assert f"\n  - {name}: " in text


def test_unset_variables_take_the_specs_defaults(catalog):
    spec = role_spec("igor_gateway")
    given = {"igor_gateway_version": "1.12.1"}
    assert build_plan(catalog, given) == build_plan(catalog, {**spec.defaults(), **given})


def test_the_role_hands_every_variable_to_the_planner():
    role = Path(__file__).resolve().parents[4] / "roles" / "igor_gateway"
    handed = yaml.safe_load((role / "vars" / "main.yml").read_text())["__igor_gateway_settings"]
    assert list(handed) == role_spec("igor_gateway").names
    assert all(value == f"{{{{ {name} }}}}" for name, value in handed.items())


def test_each_rule_carries_its_service_and_port_span(catalog):
    """Contract 3: service, start and end as data, besides the port text win_firewall_rule takes."""
    rules = plan(catalog, **EVERYTHING)["rules"]
    known = {r["service"] for r in catalog.select(vendor="igor")}
    for rule in rules:
        assert rule["service"] in known
        assert isinstance(rule["start"], int)
        assert isinstance(rule["end"], int)
        assert rule.get("localport", rule.get("remoteport")) == range_text(rule["start"], rule["end"])
