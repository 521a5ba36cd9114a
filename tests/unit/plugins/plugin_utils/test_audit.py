"""The site audit's decisions (plugins/plugin_utils/_audit.py) on recorded nft JSON (tests/unit/fixtures/nft_json,
real nft 1.0.6 output, see its README) and on the Igor cmdlet fixtures (tests/unit/fixtures/igor_cmdlets): status,
drift as flows, foreign chains, boot unit, rules file, counters, no-hit conduits, drops, severities, the three
reports and the shipped JSON Schema."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.filter.opto22_segment_plan import opto22_segment_plan
from ansible_collections.otnet.ports.plugins.filter.site_audit import site_audit
from ansible_collections.otnet.ports.plugins.plugin_utils import _audit
from ansible_collections.otnet.ports.plugins.plugin_utils._audit import AuditError, audit, segment_host
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import build_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import rev_comment
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import TABLE

REPO = Path(__file__).resolve().parents[4]
NFT = REPO / "tests" / "unit" / "fixtures" / "nft_json"
IGOR = REPO / "tests" / "unit" / "fixtures" / "igor_cmdlets"
SCHEMA = json.loads((REPO / "plugins" / "plugin_utils" / "schemas" / "audit.schema.json").read_text())
IGOR_SETTINGS = {
    "igor_gateway_version": "1.12.1",
    "igor_gateway_bacnet": True,
    "igor_gateway_bms_networks": ["10.20.0.0/16"],
}
GENERATED = "2026-12-02T06:30:00+00:00"


def settings(**changes: Any) -> dict[str, Any]:
    values = json.loads((NFT / "settings.json").read_text())
    values.update({f"opto22_segment_{key}": value for key, value in changes.items()})
    return {"opto22_segment_persist": False, **values}


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return opto22_segment_plan(settings())


def ruleset(name: str) -> dict[str, Any]:
    return json.loads((NFT / f"{name}.json").read_text())


def read(plan: dict[str, Any], name: str = "in_sync", **changes: Any) -> dict[str, Any]:
    """What the audit playbook's read prints for a host that loaded ``plan`` and then had scenario ``name``."""
    return {
        "ruleset": ruleset(name),
        "table_comment": rev_comment(plan["rev"]),
        "listing": "same",
        "file_sha1": hashlib.sha1(plan["text"].encode()).hexdigest(),  # noqa: S324 - as sha1sum
        "file_comment": rev_comment(plan["rev"]),
        "unit": "disabled",
        **changes,
    }


def checks(host: dict[str, Any], severity: str | None = None) -> list[str]:
    return [f["check"] for f in host["findings"] if severity is None or f["severity"] == severity]


def with_counter(document: dict[str, Any], set_name: str, key_part: Any, packets: int) -> dict[str, Any]:
    """``document`` with the counter of the element of ``set_name`` whose address part is ``key_part`` set."""
    changed = copy.deepcopy(document)
    for item in changed["nftables"]:
        body = item.get("set")
        if body and body["name"] == set_name:
            for element in body["elem"]:
                if element["elem"]["val"]["concat"][0] == key_part:
                    element["elem"]["counter"] = {"packets": packets, "bytes": packets * 60}
                    return changed
    raise AssertionError(f"no element {key_part} in {set_name}")


def foreign_table(hook: str, priority: int, policy: str, family: str = "ip", accept_rule: bool = False) -> list:
    chain = {"family": family, "table": "admin", "name": "c", "handle": 1, "type": "filter", "hook": hook,
             "prio": priority, "policy": policy}  # fmt: skip
    items: list[dict[str, Any]] = [{"table": {"family": family, "name": "admin", "handle": 9}}, {"chain": chain}]
    if accept_rule:
        items.append({"rule": {"family": family, "table": "admin", "chain": "c", "handle": 2,
                               "expr": [{"accept": None}]}})  # fmt: skip
    return items


# ---- segment status ------------------------------------------------------------------------------------------------


def test_a_host_with_exactly_the_plan_is_in_sync(plan):
    host = segment_host(plan, read(plan))
    assert host["status"] == "in_sync"
    assert checks(host, "error") == checks(host, "warning") == []
    assert host["reason"] is None


def test_a_deleted_element_is_drift_naming_the_flow(plan):
    host = segment_host(plan, read(plan, "element_deleted"))
    assert host["status"] == "drifted"
    (drift,) = [f for f in host["findings"] if f["check"] == "drift"]
    assert drift["severity"] == "error"
    assert drift["flows"]["added"] == []
    assert drift["flows"]["removed"] == [
        {"conduit": "eng", "sources": ["10.20.2.0/24"], "destinations": ["10.10.1.11", "10.10.1.12"],
         "protocol": "tcp", "start": 502, "end": 502, "service": "modbus_tcp", "direction": "in"},
    ]  # fmt: skip
    assert "eng: 10.20.2.0/24 -> 10.10.1.11, 10.10.1.12 502/tcp (modbus_tcp)" in drift["detail"]


def test_elements_added_by_hand_are_drift_named_by_their_comment_or_by_nothing(plan):
    host = segment_host(plan, read(plan, "element_added"))
    (drift,) = [f for f in host["findings"] if f["check"] == "drift"]
    added = {(flow["conduit"], flow["service"], tuple(flow["sources"])) for flow in drift["flows"]["added"]}
    assert added == {("rogue", "modbus_tcp", ("10.99.0.0/16",)), ("(unnamed)", None, ("10.98.0.1",))}
    assert drift["flows"]["removed"] == []


def test_ipv6_drift_in_both_directions(plan):
    drift = next(f for f in segment_host(plan, read(plan, "ipv6"))["findings"] if f["check"] == "drift")
    assert [(f["conduit"], f["sources"]) for f in drift["flows"]["removed"]] == [("scada", ["fd00:20:1::/64"])]
    (added,) = drift["flows"]["added"]
    assert added["direction"] == "out"
    assert added["destinations"] == ["fd00:99::/48"]
    assert (added["start"], added["end"], added["conduit"]) == (49300, 49310, "vendor")


def test_a_controller_deleted_from_the_zone_set_is_drift(plan):
    host = segment_host(plan, read(plan, "controller_deleted"))
    assert host["status"] == "drifted"
    assert "controllers: the host has 10.10.1.11, fd00:10:1::11" in host["findings"][0]["detail"]


def test_a_table_from_another_revision_is_drift(plan):
    host = segment_host(plan, read(plan, table_comment=rev_comment("0" * 16), file_comment=rev_comment("0" * 16)))
    assert host["status"] == "drifted"
    assert "loaded from rev 0000000000000000" in host["findings"][0]["detail"]


def test_rules_changed_by_hand_since_the_load_are_drift(plan):
    host = segment_host(plan, read(plan, listing="changed"))
    assert host["status"] == "drifted"
    assert "changed by hand" in host["findings"][0]["detail"]
    assert "rules_file" in checks(host, "warning")  # the file no longer matches the live table


def test_no_table_is_missing(plan):
    host = segment_host(plan, read(plan, "no_table", table_comment="", listing="absent"))
    assert host["status"] == "missing"
    assert checks(host, "error") == ["table"]


def test_state_absent_in_sync_without_the_table_and_drifted_with_it():
    absent = opto22_segment_plan(settings(state="absent"))
    assert segment_host(absent, {"ruleset": ruleset("no_table"), "unit": ""})["status"] == "in_sync"
    host = segment_host(absent, {"ruleset": ruleset("in_sync"), "unit": ""})
    assert host["status"] == "drifted"
    assert checks(host, "error") == ["drift"]


@pytest.mark.parametrize(
    ("table", "foreign"),
    [
        (foreign_table("forward", 0, "accept"), True),
        (foreign_table("input", -100, "accept", family="inet"), True),
        (foreign_table("prerouting", 300, "accept", family="ip6"), True),
        (foreign_table("forward", -10, "drop", accept_rule=True), True),
        (foreign_table("forward", 0, "drop"), False),
        (foreign_table("forward", 10, "accept"), False),
        (foreign_table("postrouting", -300, "accept"), False),
        (foreign_table("forward", -10, "accept", family="bridge"), False),
    ],
    ids=[
        "forward same priority policy accept",
        "inet input earlier policy accept",
        "ip6 prerouting any priority",
        "forward earlier accept rule",
        "forward same priority drop only",
        "forward later priority",
        "postrouting",
        "bridge family",
    ],
)
def test_other_tables_that_could_accept_first_are_foreign(plan, table, foreign):
    document = ruleset("in_sync")
    document["nftables"] += table
    host = segment_host(plan, read(plan, ruleset=document))
    assert (host["status"] == "foreign") is foreign
    assert ("foreign" in checks(host, "error")) is foreign
    if foreign:
        assert "table" in host["findings"][0]["detail"]
        assert "admin chain c" in host["findings"][0]["detail"]


def test_foreign_chains_are_reported_on_a_host_without_the_table_too(plan):
    document = ruleset("no_table")
    document["nftables"] += foreign_table("input", 0, "accept")
    assert checks(segment_host(plan, read(plan, ruleset=document)), "error") == ["table", "foreign"]


# ---- boot unit and rules file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persist", "unit", "warned"),
    [
        (True, "enabled", False),
        (True, "disabled", True),
        (True, "", True),
        (False, "enabled", True),
        (False, "disabled", False),
        (False, "not-found", False),
    ],
    ids=[
        "persist enabled",
        "persist disabled",
        "persist no systemd",
        "no persist but enabled",
        "no persist disabled",
        "no persist no unit",
    ],
)
def test_the_boot_unit_must_match_persist(persist, unit, warned):
    planned = opto22_segment_plan(settings(persist=persist))
    host = segment_host(planned, read(planned, unit=unit))
    assert ("boot_unit" in checks(host, "warning")) is warned


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"file_sha1": "", "file_comment": ""}, "does not exist"),
        ({"file_comment": "someone else's file"}, "not a rules file the role wrote"),
        ({"file_comment": rev_comment("1" * 16)}, "is rev 1111111111111111"),
        ({"file_sha1": "0" * 40}, "edited after"),
    ],
    ids=["no file", "not the role's", "another revision", "edited"],
)
def test_a_rules_file_that_does_not_match_the_live_table_is_a_warning(plan, changes, says):
    host = segment_host(plan, read(plan, **changes))
    (warning,) = [f for f in host["findings"] if f["check"] == "rules_file"]
    assert warning["severity"] == "warning"
    assert says in warning["detail"]


# ---- counters ----------------------------------------------------------------------------------------------------


def test_counters_per_conduit_sum_their_elements_and_a_shared_element_counts_for_each(plan):
    # 10.20.1.5 . tcp . 502 is admitted by scada (10.20.1.0/24) and eng (10.20.1.5): one element, both conduits.
    document = with_counter(ruleset("in_sync"), "conduits_v4", "10.20.1.5", 7)
    host = segment_host(plan, read(plan, ruleset=document))
    assert host["conduits"]["scada"] == {"packets": 7, "bytes": 420}
    assert host["conduits"]["eng"] == {"packets": 7, "bytes": 420}
    assert host["conduits"]["line"] == {"packets": 0, "bytes": 0}
    assert host["no_hit"] == ["line", "outbound/traps"]
    assert [f["severity"] for f in host["findings"] if f["check"] == "hits"] == ["info", "info"]


def test_a_conduit_that_admits_nothing_by_design_is_never_without_hits():
    values = settings()
    values["opto22_segment_conduits"].append({"name": "corporate", "sources": ["10.30.1.0/24"], "services": []})
    planned = opto22_segment_plan(values)
    host = segment_host(planned, read(planned))
    assert host["conduits"]["corporate"] == {"packets": 0, "bytes": 0}
    assert "corporate" not in host["no_hit"]
    assert "scada" in host["no_hit"]


def test_drops_are_counted_per_chain(plan):
    document = ruleset("in_sync")
    for item in document["nftables"]:
        rule = item.get("rule")
        if rule and rule["chain"] == "to_segment" and any("drop" in e for e in rule["expr"]):
            next(e for e in rule["expr"] if "counter" in e)["counter"]["packets"] += 3
    assert segment_host(plan, read(plan, ruleset=document))["drops"]["to_segment"] == 6  # invalid + no conduit


# ---- hosts that cannot be read, gateways ---------------------------------------------------------------------------


def test_an_unreachable_host_is_an_error_with_ansibles_reason(plan):
    host = segment_host(plan, {"unreachable": "Failed to connect to the host via ssh: Connection timed out"})
    assert host["status"] == "unreachable"
    assert host["reason"].startswith("Failed to connect")
    assert checks(host, "error") == ["reachable"]


def test_a_plan_only_gateway_is_not_audited_and_never_fails_the_audit(catalog):
    gateway = build_plan(catalog, IGOR_SETTINGS)
    result = audit({"gw": {"kind": "gateway", "plan": gateway, "read": {"plan_only": "plan-only site"}}},
                   site="lab", generated=GENERATED)  # fmt: skip
    host = result["report"]["hosts"]["gw"]
    assert (host["status"], host["reason"]) == ("not_audited", "plan-only site")
    assert checks(host, "info") == ["audited"]
    assert result["failed"] is False


@pytest.mark.parametrize(
    ("fixture", "status", "errors"),
    [
        ("in_sync", "in_sync", []),
        ("changed_rule", "drifted", ["rules"]),
        ("exclusions_differ", "drifted", ["exclusions", "exclusions"]),
        ("open_to_any", "foreign", ["open_to_any"]),
    ],
)
def test_gateways_are_compared_with_the_recorded_cmdlet_output(catalog, fixture, status, errors):
    recorded = json.loads((IGOR / f"{fixture}.json").read_text())
    host = _audit.gateway_host(build_plan(catalog, IGOR_SETTINGS), {"result": recorded})
    assert host["status"] == status
    assert checks(host, "error") == errors


# ---- the site report, severities, the three files -------------------------------------------------------------------


def site_inputs(plan, catalog, segment_scenario: str = "in_sync", **read_changes: Any) -> dict[str, Any]:
    return {
        "fw-line1": {"kind": "segment", "plan": plan, "read": read(plan)},
        "fw-line2": {"kind": "segment", "plan": plan, "read": read(plan, segment_scenario, **read_changes)},
        "gw1": {"kind": "gateway", "plan": build_plan(catalog, IGOR_SETTINGS), "read": {"plan_only": "plan-only"}},
        "fw-line3": {"kind": "segment", "plan": plan, "read": {"unreachable": "timed out"}},
    }


def test_the_report_follows_the_shipped_schema(plan, catalog):
    for scenario in ("in_sync", "element_deleted", "element_added", "ipv6", "no_table"):
        report = audit(site_inputs(plan, catalog, scenario), site="plant", generated=GENERATED)["report"]
        jsonschema.validate(report, SCHEMA)
    assert report["summary"]["hosts"] == 4


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        (lambda r: r["hosts"]["fw-line1"].pop("reason"), "reason"),
        (lambda r: r["hosts"]["fw-line1"].update(status="fine"), "fine"),
        (lambda r: r["hosts"]["fw-line3"].update(reason=None), "None"),
        (lambda r: r["hosts"]["fw-line2"]["findings"][0]["flows"]["removed"][0].pop("service"), "not valid under any"),
        (lambda r: r["hosts"]["fw-line1"]["conduits"]["scada"].update(packets="7"), "'7'"),
    ],
    ids=["no reason key", "unknown status", "unreachable without reason", "flow without service", "packets as text"],
)
def test_the_schema_refuses_reports_off_the_shape(plan, catalog, break_it, where):
    report = audit(site_inputs(plan, catalog, "element_deleted"), site="plant", generated=GENERATED)["report"]
    break_it(report)
    with pytest.raises(jsonschema.ValidationError, match=where):
        jsonschema.validate(report, SCHEMA)


def test_summary_and_failure_follow_the_severities(plan, catalog):
    result = audit(site_inputs(plan, catalog), site="plant", generated=GENERATED)
    assert result["report"]["summary"]["in_sync"] == 2
    assert result["failing"] == ["fw-line3"]  # unreachable: an error
    assert result["failed"] is True
    quiet = audit(site_inputs(plan, catalog), site="plant", generated=GENERATED, fail_on_findings=False)
    assert quiet["failed"] is False
    assert quiet["failing"] == ["fw-line3"]


def test_info_findings_alone_never_fail_the_audit(plan, catalog):
    inputs = site_inputs(plan, catalog)
    del inputs["fw-line3"]
    result = audit(inputs, site="plant", generated=GENERATED)
    assert result["report"]["summary"]["findings"]["info"] > 0
    assert result["failed"] is False


def test_a_warning_fails_the_audit(plan, catalog):
    inputs = site_inputs(plan, catalog, unit="enabled")
    del inputs["fw-line3"]
    result = audit(inputs, site="plant", generated=GENERATED)
    assert result["failing"] == ["fw-line2"]
    assert result["failed"] is True


def test_junit_has_one_case_per_host_and_check(plan, catalog):
    result = audit(site_inputs(plan, catalog, "element_deleted"), site="plant", generated=GENERATED)
    root = ET.fromstring(result["junit"])  # noqa: S314 - our own output
    cases = root.findall(".//testcase")
    segment_checks, gateway_checks = len(_audit.SEGMENT_CHECKS), len(_audit.GATEWAY_CHECKS)
    assert len(cases) == 3 * segment_checks + gateway_checks
    failed = {(c.get("classname"), c.get("name").split()[0]) for c in cases if c.find("failure") is not None}
    # the deleted element: drift, and the rules file no longer matches the live table
    assert failed == {("plant.fw-line2", "drift"), ("plant.fw-line2", "rules_file"), ("plant.fw-line3", "reachable")}
    skipped = {c.get("classname") for c in cases if c.find("skipped") is not None}
    assert skipped == {"plant.gw1", "plant.fw-line3"}
    assert root.get("failures") == "3"


def test_markdown_has_a_section_per_host_with_the_sr_of_each_check(plan, catalog):
    text = audit(site_inputs(plan, catalog, "element_deleted"), site="plant", generated=GENERATED)["markdown"]
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## fw-line1 (segment): in_sync",
        "## fw-line2 (segment): drifted",
        "## fw-line3 (segment): unreachable",
        "## gw1 (gateway): not_audited",
    ]
    assert "| drift | SR 5.1, SR 5.2 | error |" in text
    assert "| hits | SR 2.8 |" in text
    assert "| reachable | SR 6.1 | error |" in text


# ---- hostile or malformed input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "says"),
    [
        ({"h": {"kind": "router"}}, "segment|gateway"),
        ({"h": "segment"}, "segment|gateway"),
        ([{"kind": "segment"}], "a list of {host"),
        ({"h": {"kind": "segment", "plan": {}, "read": {"ruleset": "{}"}}}, "no 'table'"),
    ],
    ids=["unknown kind", "not a mapping", "list without host", "plan without table"],
)
def test_malformed_input_is_refused_naming_what_is_wrong(hosts, says):
    with pytest.raises(AuditError, match=says.replace("|", "\\|").replace("{", "\\{")):
        audit(hosts, site="s", generated=GENERATED)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("not json", "not the JSON"),
        ({"tables": []}, "nftables"),
        (
            '{"nftables": [{"set": {"family": "inet", '
            '"table": "otnet_opto22", "name": "conduits_v4", "elem": ["10.0.0.1"]}}, {"table": {"family": "inet", '
            '"name": "otnet_opto22"}}]}',
            "address . protocol . port",
        ),
    ],
    ids=["text", "other JSON", "element of another shape"],
)
def test_a_ruleset_off_the_nft_shape_is_refused(plan, document, says):
    with pytest.raises(AuditError, match=says):
        segment_host(plan, read(plan, ruleset=document))


def test_a_ruleset_nft_could_not_print_makes_the_host_unreadable(plan):
    host = segment_host(plan, read(plan, ruleset=""))
    assert host["status"] == "unreachable"
    assert "nft -j list ruleset" in host["reason"]


def test_the_filter_reports_audit_errors_as_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"otnet.ports.site_audit: hosts\['h'\]"):
        site_audit({"h": {"kind": "x"}}, generated=GENERATED)


# ---- time-limited conduits, on a real nft (a throwaway namespace) ---------------------------------------------------


@pytest.fixture
def netns():
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        pytest.skip("needs root, nft and ip (a throwaway network namespace)")
    name = f"otaudm-ut-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def live_read(netns: str, planned: dict[str, Any]) -> dict[str, Any]:
    def nft(*args: str) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", netns, "nft", *args], capture_output=True, text=True, check=False
        ).stdout

    return read(planned, ruleset=nft("-j", "list", "ruleset"), table_comment=nft("-s", "list", "table", "inet", TABLE))


@pytest.mark.netns
def test_a_time_limited_conduit_is_compared_counted_and_listed_with_its_expiry(netns):
    values = settings()
    values["opto22_segment_conduits"].append(
        {
            "name": "vendor",
            "sources": ["10.60.0.0/24"],
            "services": ["modbus_tcp"],
            "expires": "2030-01-01T00:00:00+00:00",
        }
    )
    planned = opto22_segment_plan(values)
    subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=planned["text"], text=True, check=True)
    host = segment_host(planned, live_read(netns, planned))
    assert host["status"] == "in_sync", host["findings"]
    assert "vendor" in host["no_hit"]
    (expiry,) = host["expiries"]
    assert expiry["conduit"] == "vendor"
    assert expiry["expires"].startswith("2030-01-01T00:00:00")
    assert expiry["seconds_left"] > 0
    (until_set,) = [f"conduits_v4_until_{group['epoch']}" for group in planned["expiring"]]
    subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            netns,
            "nft",
            "delete",
            "element",
            "inet",
            TABLE,
            until_set,
            "{ 10.60.0.0/24 . tcp . 502 }",
        ],
        check=True,
    )
    host = segment_host(planned, live_read(netns, planned))
    drift = next(f for f in host["findings"] if f["check"] == "drift")
    assert [(f["conduit"], f["sources"], f["start"]) for f in drift["flows"]["removed"]] == [
        ("vendor", ["10.60.0.0/24"], 502)
    ]


# ---- the playbook's registered task results ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "status", "reason"),
    [
        ({"kind": "segment", "task": {"unreachable": True, "msg": "ssh: connect to host 10.0.0.9 port 22: timed out"}},
         "unreachable", "ssh: connect to host 10.0.0.9 port 22: timed out"),
        ({"kind": "segment", "task": {"failed": True, "msg": "opto22_segment_conduits[0].expires: expired"}},
         "not_audited", "opto22_segment_conduits[0].expires: expired"),
        ({"kind": "gateway", "plan_only": True, "task": None}, "not_audited", _audit.PLAN_ONLY),
        ({"kind": "gateway", "plan_only": "False", "task": {"unreachable": True, "msg": "winrm: timed out"}},
         "unreachable", "winrm: timed out"),
        ({"kind": "gateway", "task": None}, "not_audited", "the host was not read (no task result)"),
    ],
    ids=["segment unreachable", "segment plan failed", "gateway plan-only", "gateway unreachable", "gateway not read"],
)  # fmt: skip
def test_task_results_become_statuses_with_the_reason(catalog, given, status, reason):
    plan = build_plan(catalog, IGOR_SETTINGS) if given["kind"] == "gateway" else None
    host = audit({"h": {**given, "plan": plan}}, site="s", generated=GENERATED)["report"]["hosts"]["h"]
    assert host["status"] == status
    assert host["reason"] == reason


def test_a_segment_task_result_is_read_from_its_json_line(plan):
    task = {"changed": False, "stdout": json.dumps(read(plan)), "rc": 0}
    host = audit({"h": {"kind": "segment", "plan": plan, "task": task}}, site="s", generated=GENERATED)
    assert host["report"]["hosts"]["h"]["status"] == "in_sync"


def test_a_segment_task_result_that_is_not_the_reads_json_is_refused(plan):
    task = {"changed": False, "stdout": "sh: 1: nft: not found", "rc": 0}
    with pytest.raises(AuditError, match=r"hosts\['h'\].task.stdout: not the JSON line"):
        audit({"h": {"kind": "segment", "plan": plan, "task": task}}, site="s", generated=GENERATED)


def test_the_inputs_come_from_what_the_playbook_left_in_hostvars(plan, catalog):
    task = {"changed": False, "stdout": json.dumps(read(plan))}
    hostvars = {
        "fw1": {"opto22_segment_plan": plan, "opto22_segment_read": task},
        "fw2": {"opto22_segment_plan": plan, "otnet_ports_audit_failed": {"failed": True, "msg": "bad settings"}},
        "fw3": {"ansible_host": "10.0.0.3"},  # left out by --limit: no plan, no read
        "gw1": {"igor_gateway_plan": build_plan(catalog, IGOR_SETTINGS)},
    }
    groups = {"opto22_segments": ["fw1", "fw2", "fw3"], "igor_gateways": ["gw1"], "ungrouped": []}
    result = site_audit(groups, hostvars, generated=GENERATED, plan_only="true")
    hosts = result["report"]["hosts"]
    assert {name: host["status"] for name, host in hosts.items()} == {
        "fw1": "in_sync",
        "fw2": "not_audited",
        "gw1": "not_audited",
    }
    assert hosts["fw2"]["reason"] == "bad settings"
    assert [f["name"] for f in result["files"]] == ["audit.json", "audit.md", "junit.xml"]
    assert json.loads(result["files"][0]["content"]) == result["report"]
    assert result["verdict"].endswith("1 host(s) with error or warning findings: fw2")


def without_rule(document: dict[str, Any], chain: str, needle: str) -> dict[str, Any]:
    """``document`` without the rules of ``chain`` whose JSON holds ``needle`` (``nft delete rule`` by hand)."""
    changed = copy.deepcopy(document)
    before = len(changed["nftables"])
    changed["nftables"] = [
        item
        for item in changed["nftables"]
        if not (item.get("rule", {}).get("chain") == chain and needle in json.dumps(item["rule"]))
    ]
    assert len(changed["nftables"]) < before, needle
    return changed


def test_a_deleted_accept_rule_removes_every_flow_of_its_set(plan):
    document = without_rule(ruleset("in_sync"), "to_segment", '"@conduits_v4"')
    host = segment_host(plan, read(plan, ruleset=document, listing="changed"))
    drift = next(f for f in host["findings"] if f["check"] == "drift")
    removed = {(f["conduit"], f["service"]) for f in drift["flows"]["removed"]}
    assert removed == {("scada", "modbus_tcp"), ("eng", "modbus_tcp"), ("eng", "scm"), ("line", "chart_logic")}
    assert all(":" not in source for f in drift["flows"]["removed"] for source in f["sources"])  # IPv4 only


def test_a_deleted_jump_to_the_conduit_chain_is_drift(plan):
    document = without_rule(ruleset("in_sync"), "forward", '"@controllers_v4"')
    host = segment_host(plan, read(plan, ruleset=document, listing="changed"))
    assert host["status"] == "drifted"
    detail = host["findings"][0]["detail"]
    assert "traffic to the controllers (IPv4) no longer goes through chain to_segment" in detail
    assert "traffic from the controllers (IPv4) no longer goes through chain from_segment" in detail


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (90061, "(1 d 1 h left)"),
        (3720, "(1 h 2 min left)"),
        (0, "(expired: its flows are dropped; remove or renew it)"),
    ],
)
def test_markdown_lists_each_time_limited_conduit_with_the_time_left(plan, seconds, text):
    host = segment_host(plan, read(plan))
    host["expiries"] = [{"conduit": "vendor", "expires": "2030-01-01T00:00:00Z", "seconds_left": seconds}]
    report = _audit.site_report({"fw": host}, site="s", generated=GENERATED)
    assert f"Conduit vendor expires 2030-01-01T00:00:00Z {text}." in _audit.markdown(report)
