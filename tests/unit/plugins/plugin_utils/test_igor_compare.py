"""The igor_gateway plan against recorded output of the role's host read (firewall_group_rules.ps1: Get-NetFirewallRule,
Get-NetFirewallPortFilter, Get-NetFirewallAddressFilter, Get-NetFirewallApplicationFilter, Get-MpPreference): a host
that already has the rules, one with changed rules, one with a foreign rule of the same name, one with a rule of the
group the plan no longer has, rules outside the group open to Any on an Igor port, Defender exclusions missing and
extra. The fixtures and where their shape comes from: tests/unit/fixtures/igor_cmdlets/README.md. Nothing here ran
on Windows."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.filter.igor_gateway_compare import igor_gateway_compare
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_compare import (
    CompareError,
    compare,
    port_span,
    ports,
    scope,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import build_plan

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "igor_cmdlets"
SCRIPT = (REPO / "roles" / "igor_gateway" / "files" / "firewall_group_rules.ps1").read_text(encoding="utf-8")
# The settings the fixtures were recorded for (README.md there).
SETTINGS = {
    "igor_gateway_version": "1.12.1",
    "igor_gateway_bacnet": True,
    "igor_gateway_bms_networks": ["10.20.0.0/16"],
}
STALE = "Igor Gateway - Retired (TCP-In)"
UPNP_TCP = "Igor Gateway - UPnP (TCP-In)"
COAP = "Igor Gateway - CoAP (UDP-In)"
BACNET = "Igor BACnet Service - BACnet/IP (UDP-In)"
HTTP = "Igor Gateway - HTTP (TCP-In)"
NOTHING = {"added": [], "removed": []}
LISTS = ("LocalPort", "RemotePort", "RemoteAddress")  # string[] in the CIM classes; the script always emits arrays


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def plan(catalog, **overrides: Any) -> dict[str, Any]:
    return build_plan(catalog, {**SETTINGS, **{f"igor_gateway_{k}": v for k, v in overrides.items()}})


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items if item["kind"] == "rule"]


# ---- the recorded shape is the script's --------------------------------------------------------------------------


def script_record_keys() -> list[str]:
    body = re.search(r"function ConvertTo-RuleRecord \{.*?\[ordered\]@\{(.*?)\n    \}", SCRIPT, re.DOTALL).group(1)
    return re.findall(r"^\s+(\w+) = ", body, re.MULTILINE)


def script_result_keys() -> list[str]:
    body = re.search(r"\$Ansible\.Result = \[ordered\]@\{(.*?)\n\}", SCRIPT, re.DOTALL).group(1)
    return re.findall(r"^\s+(\w+) = ", body, re.MULTILINE)


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURES.glob("*.json")))
def test_every_fixture_has_exactly_the_scripts_shape(name):
    """Top-level keys and each rule's keys in the script's order; enums as names; multi-valued fields as lists."""
    data = recorded(name)
    assert list(data) == script_result_keys() == ["rules", "defender", "defender_note"]
    for rule in data["rules"]:
        assert list(rule) == script_record_keys()
        assert rule["Direction"] in ("Inbound", "Outbound")
        assert rule["Action"] in ("Allow", "Block")
        assert rule["Enabled"] in ("True", "False")
        assert rule["PolicyStoreSourceType"] in ("Local", "GroupPolicy")
        for key in LISTS:
            assert rule[key], key
            assert all(isinstance(value, str) for value in rule[key]), key
        assert all(isinstance(rule[key], str) for key in rule if key not in LISTS)
    if data["defender"] is not None:
        assert list(data["defender"]) == ["ExclusionPath", "ExclusionProcess"]
        assert data["defender_note"] is None
    else:
        assert data["defender_note"]


def test_the_fixtures_were_recorded_for_the_plan_they_are_tested_with(catalog):
    """in_sync.json holds every planned rule of the group in Windows' spelling: mask-form addresses, 'Inbound'."""
    group = [r for r in recorded("in_sync")["rules"] if r["Group"] == plan(catalog)["group"]]
    assert [r["DisplayName"] for r in group] == [r["name"] for r in plan(catalog)["rules"]]
    assert {tuple(r["RemoteAddress"]) for r in group} == {("LocalSubnet",), ("10.20.0.0/255.255.0.0",)}


# ---- a host that already has the rules ------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["in_sync", "in_sync_other_spellings"])
def test_a_host_that_already_has_the_rules_has_nothing_to_change(catalog, fixture):
    """Profile 'Any' is all three profiles; the program path compares case-insensitively."""
    result = compare(plan(catalog, exclusive=True), recorded(fixture))
    assert result == {
        "stale": [],
        "clashes": [],
        "missing": [],
        "extra": [],
        "changed": [],
        "exclusions": {"read": True, **{k: {"paths": [], "processes": []} for k in ("missing", "extra")}},
        "open_to_any": [],
        "changes": NOTHING,
    }


def test_names_compare_case_insensitively(catalog):
    host = recorded("in_sync")
    for rule in host["rules"]:
        rule["DisplayName"] = rule["DisplayName"].upper()
        rule["Group"] = rule["Group"].lower()
    result = compare(plan(catalog, exclusive=True), host)
    assert (result["missing"], result["extra"], result["stale"], result["changes"]) == ([], [], [], NOTHING)


def test_the_same_values_in_other_spellings_are_equal():
    """Windows' mask form, a /32 host, split ports and protocol numbers mean the same as the plan's forms."""
    assert scope(["10.20.0.0/255.255.0.0"], "h") == scope("10.20.0.0/16", "p") == ("10.20.0.0/16",)
    assert scope(["10.20.9.7"], "h") == scope("10.20.9.7/32", "p")
    assert scope(["10.0.0.0-10.0.0.255", "localsubnet"], "h") == scope("LocalSubnet,10.0.0.0/24", "p")
    assert scope(["Any"], "h") == scope("any", "p") == ("any",)
    assert ports(["1900", "1901"]) == ports("1900-1901")
    assert ports(["Any"]) == ports(None) == ("any",)


# ---- a host with changed rules ----------------------------------------------------------------------------------


def test_a_changed_rule_names_each_field_with_both_values(catalog):
    """changed_rule.json: the BACnet rule's remote address, the UPnP port, the CoAP profiles and enabled differ."""
    result = compare(plan(catalog), recorded("changed_rule"))
    assert result["changed"] == [
        {"name": UPNP_TCP, "fields": {"localport": {"plan": "1900-1901", "host": "1900"}}},
        {
            "name": COAP,
            "fields": {
                "profiles": {"plan": ["domain", "private", "public"], "host": ["domain", "private"]},
                "enabled": {"plan": True, "host": False},
            },
        },
        {"name": BACNET, "fields": {"remoteip": {"plan": "10.20.0.0/16", "host": "10.30.0.0/16"}}},
    ]
    assert (result["missing"], result["extra"], result["clashes"]) == ([], [], [])


def test_a_changed_rule_is_removed_as_the_host_has_it_and_added_as_planned(catalog):
    changes = compare(plan(catalog), recorded("changed_rule"))["changes"]
    assert names(changes["added"]) == names(changes["removed"]) == [UPNP_TCP, COAP, BACNET]
    added, removed = changes["added"][2], changes["removed"][2]
    assert added == {
        "kind": "rule",
        "name": BACNET,
        "direction": "in",
        "protocol": "udp",
        "ports": "47808",
        "remote": ["10.20.0.0/16"],
        "service": "bacnet_ip",
        "start": 47808,
        "end": 47808,
    }
    assert removed == {**added, "remote": ["10.30.0.0/16"]}
    assert (changes["removed"][0]["start"], changes["removed"][0]["end"]) == (1900, 1900)


def test_an_unparsable_host_address_is_a_difference_not_a_crash(catalog):
    """An IPv4-mapped address the planner refuses shows as it is, so the rule is rewritten."""
    host = recorded("in_sync")
    next(r for r in host["rules"] if r["DisplayName"] == BACNET)["RemoteAddress"] = ["::ffff:10.20.0.1"]
    (changed,) = compare(plan(catalog), host)["changed"]
    assert changed == {"name": BACNET, "fields": {"remoteip": {"plan": "10.20.0.0/16", "host": "::ffff:10.20.0.1"}}}


# ---- a foreign rule of the same name ------------------------------------------------------------------------------


def test_a_foreign_rule_of_a_planned_name_outside_the_group_clashes(catalog):
    """foreign_same_name.json: a local rule in another group named like the HTTP rule in other letter case clashes;
    a Group Policy rule named like the CoAP rule does not (win_firewall_rule writes the local store only)."""
    result = compare(plan(catalog), recorded("foreign_same_name"))
    assert result["clashes"] == ["IGOR GATEWAY - HTTP (TCP-IN)"]
    assert (result["missing"], result["changed"], result["changes"]) == ([], [], NOTHING)


@pytest.mark.parametrize(("exclusive", "clashes"), [(True, [STALE]), (False, [])])
def test_a_foreign_rule_named_like_a_stale_rule_clashes_only_when_the_role_would_remove_it(catalog, exclusive, clashes):
    host = recorded("stale_rule")
    foreign = copy.deepcopy(next(r for r in host["rules"] if r["DisplayName"] == STALE))
    host["rules"].append({**foreign, "Name": "{0F0F0F0F-0000-4000-8000-000000000001}", "Group": ""})
    assert compare(plan(catalog, exclusive=exclusive), host)["clashes"] == clashes


# ---- a rule of the group the plan no longer has ------------------------------------------------------------------


@pytest.mark.parametrize(("exclusive", "stale"), [(True, [STALE]), (False, [])])
def test_a_rule_of_the_group_the_plan_no_longer_has_is_extra_and_stale_when_exclusive(catalog, exclusive, stale):
    result = compare(plan(catalog, exclusive=exclusive), recorded("stale_rule"))
    assert result["extra"] == [STALE]
    assert result["stale"] == stale
    assert names(result["changes"]["removed"]) == stale
    assert result["changes"]["added"] == []


def test_a_plan_without_bacnet_finds_the_bacnet_rule_stale(catalog):
    result = compare(plan(catalog, bacnet=False, exclusive=True), recorded("stale_rule"))
    assert result["stale"] == [STALE, BACNET]


@pytest.mark.parametrize(("exclusive", "removed_extra"), [(True, [STALE]), (False, [])])
def test_state_absent_removes_the_planned_rules_and_exclusions_the_host_has(catalog, exclusive, removed_extra):
    the_plan = plan(catalog, state="absent", exclusive=exclusive)
    result = compare(the_plan, recorded("stale_rule"))
    planned = [r["name"] for r in the_plan["rules"]]
    assert result["missing"] == result["changed"] == []
    assert sorted(result["extra"]) == sorted([*planned, STALE])
    assert sorted(names(result["changes"]["removed"])) == sorted(planned + removed_extra)
    assert [i["path"] for i in result["changes"]["removed"] if i["kind"] != "rule"] == [
        *the_plan["exclusions"]["paths"],
        *the_plan["exclusions"]["processes"],
    ]
    assert result["changes"]["added"] == []


def test_a_fresh_host_gets_every_rule_and_exclusion(catalog):
    the_plan = plan(catalog)
    result = compare(the_plan, recorded("fresh_host"))
    assert result["missing"] == [r["name"] for r in the_plan["rules"]]
    assert result["exclusions"]["missing"] == the_plan["exclusions"]
    assert len(result["changes"]["added"]) == len(the_plan["rules"]) + 9
    assert result["changes"]["removed"] == []


# ---- rules outside the group open to Any -----------------------------------------------------------------------


def test_rules_outside_the_group_that_open_an_igor_port_to_any(catalog):
    """open_to_any.json: a local rule opening TCP 80 (and another port) to Any, and a Group Policy rule for any
    protocol and port whose scope covers every IPv4 and IPv6 address. Not reported: a disabled rule, a block rule,
    a rule scoped to one network, UDP on a port Igor opens on TCP only, the historian agent scoped to LocalSubnet."""
    found = compare(plan(catalog), recorded("open_to_any"))["open_to_any"]
    assert [f["name"] for f in found] == ["Vendor Web Console (TCP-In)", "Plant Discovery (UDP-In)"]
    assert found[0] == {
        "name": "Vendor Web Console (TCP-In)",
        "group": "",
        "store": "Local",
        "protocol": "tcp",
        "localport": "80,8443",
        "program": None,
        "ports": ["tcp/80"],
        "services": ["http"],
    }
    assert found[1]["store"] == "GroupPolicy"
    assert found[1]["services"] == [
        "http",
        "configuration",
        "upnp",
        "tftp",
        "firmware_update",
        "coap",
        "bacnet_ip",
    ]


def test_a_rule_of_the_group_open_to_any_is_planned_not_a_finding(catalog):
    the_plan = plan(catalog, node_networks=["Any"], bms_networks=["Any"])
    host = recorded("in_sync")
    for rule in host["rules"]:
        if rule["Group"] == the_plan["group"]:
            rule["RemoteAddress"] = ["Any"]
    result = compare(the_plan, host)
    assert (result["open_to_any"], result["changed"]) == ([], [])


# ---- Defender exclusions ----------------------------------------------------------------------------------------


def test_missing_and_extra_exclusions(catalog):
    """exclusions_differ.json: Sampling and two processes missing; the install dir itself, a folder below it, a bare
    process name and a wildcard below it are extra. Data with a trailing backslash is the planned entry; the host's
    unrelated exclusions (a backup folder, another vendor's agent) are not reported."""
    result = compare(plan(catalog), recorded("exclusions_differ"))["exclusions"]
    assert result == {
        "read": True,
        "missing": {
            "paths": ["C:\\Igor\\Sampling"],
            "processes": ["C:\\Igor\\Cloud\\Igor.Cloud.Service.exe", "C:\\Igor\\Runtime\\Igor.Runtime.Service.exe"],
        },
        "extra": {
            "paths": ["C:\\Igor", "C:\\Igor\\Logs"],
            "processes": ["Igor.Runtime.Service.exe", "C:\\Igor\\Tools\\*.exe"],
        },
    }


def test_missing_exclusions_are_added_and_extra_ones_are_findings_only(catalog):
    changes = compare(plan(catalog), recorded("exclusions_differ"))["changes"]
    assert changes["added"] == [
        {"kind": "path", "path": "C:\\Igor\\Sampling"},
        {"kind": "process", "path": "C:\\Igor\\Cloud\\Igor.Cloud.Service.exe"},
        {"kind": "process", "path": "C:\\Igor\\Runtime\\Igor.Runtime.Service.exe"},
    ]
    assert changes["removed"] == []


def test_without_planned_exclusions_none_is_missing_or_extra(catalog):
    result = compare(plan(catalog, av_exclusions=False), recorded("exclusions_differ"))
    assert result["exclusions"]["missing"] == result["exclusions"]["extra"] == {"paths": [], "processes": []}


def test_unreadable_defender_preferences_are_said_not_guessed(catalog):
    result = compare(plan(catalog), recorded("defender_unreadable"))
    assert result["exclusions"] == {
        "read": False,
        "missing": {"paths": [], "processes": []},
        "extra": {"paths": [], "processes": []},
    }
    assert result["changes"] == NOTHING


# ---- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_plan", "host", "message"),
    [
        pytest.param("plan", {"rules": []}, "plan: str is not a mapping", id="plan-not-a-mapping"),
        pytest.param({"state": "present", "group": "g"}, {"rules": []}, "plan: the key 'rules'", id="plan-no-rules"),
        pytest.param({"state": "on", "group": "g", "rules": []}, {"rules": []}, "plan.state: 'on'", id="bad-state"),
        pytest.param({"state": "present", "group": "g", "rules": [{}]}, {"rules": []}, "plan.rules[0]", id="nameless"),
        pytest.param(
            {"state": "present", "group": "g", "rules": []}, {}, "host_state: {} has no list 'rules'", id="no-rules"
        ),
        pytest.param(
            {"state": "present", "group": "g", "rules": []},
            {"rules": [{"Name": "{x}"}]},
            "host_state.rules[0]: {'Name': '{x}'} is not a firewall rule with a DisplayName",
            id="rule-without-displayname",
        ),
        pytest.param(
            {"state": "present", "group": "g", "rules": []},
            {"rules": [], "defender": ["C:\\Igor"]},
            "host_state.defender",
            id="defender-not-a-mapping",
        ),
    ],
)
def test_bad_input_names_the_argument(the_plan, host, message):
    with pytest.raises(CompareError, match=re.escape(message)):
        compare(the_plan, host)


def test_the_filter_reports_bad_input_as_its_own_error(catalog):
    assert igor_gateway_compare(plan(catalog), recorded("in_sync"))["changes"] == NOTHING
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.igor_gateway_compare: host_state"):
        igor_gateway_compare(plan(catalog), {"in_group": [HTTP], "outside": []})


@pytest.mark.parametrize(
    ("text", "span"),
    [
        pytest.param("1234", (1234, 1234), id="one-port"),
        pytest.param("12000-12009", (12000, 12009), id="range"),
        pytest.param("RPC-EPMap", None, id="keyword-with-a-dash"),
        pytest.param("IPHTTPS", None, id="keyword"),
        pytest.param("\u0668\u0660", None, id="arabic-indic-digits"),
        pytest.param("12000-\u0661", None, id="range-ending-in-foreign-digits"),
    ],
)
def test_port_spans_are_ascii_numbers_or_keywords(text, span):
    assert port_span(text) == span
