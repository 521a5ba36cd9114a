"""The offline site plan (plugin_utils/_site_plan.py): flow rows, flows.csv/flows.json/summary.md, the per-host files
and the all-or-nothing write, without Ansible.

Segment plans come from the real planner (the contract's shape: flows with int start/end, a service key and a basis),
gateway plans from the Igor planner. Ports come from the catalog, never from here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.otnet.ports.plugins.filter.opto22_segment_plan import opto22_segment_plan
from ansible_collections.otnet.ports.plugins.plugin_utils import _site_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import build_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._site_plan import (
    COLUMNS,
    SitePlanError,
    check_host_name,
    check_plan_dir,
    flows_csv,
    flows_json,
    plan_files,
    site_flows,
    write_plan,
)

CONTROLLERS = ["10.10.1.11", "10.10.1.12"]
SCADA, ENG, NMS, STATION = "10.20.1.0/24", "10.20.2.0/24", "10.20.3.10", "10.20.2.50"
NODES, BMS = "10.40.2.0/24", "10.40.1.0/24"


def record(catalog, service, protocol=None):
    return catalog.select(services=[service], protocol=protocol)[0]


def chart_port(catalog):
    """A port chart logic may use, from the catalog's own chart-logic records."""
    chart = record(catalog, "chart_logic", "udp")
    return chart["start"], chart["start"] + 1


def segment_values(catalog, **overrides):
    start, end = chart_port(catalog)
    values = {
        "opto22_segment_controllers": CONTROLLERS,
        "opto22_segment_conduits": [
            {"name": "scada", "sources": [SCADA], "services": ["modbus_tcp"]},
            {
                "name": "engineering",
                "sources": [ENG],
                "services": ["groov_app"],
                "ports": [{"start": start, "end": end, "protocol": "udp"}],
            },
        ],
        "opto22_segment_outbound": [{"name": "traps", "destinations": [NMS], "services": ["snmp_traps"]}],
        "opto22_segment_management": {"sources": [STATION]},
    }
    return values | overrides


def segment_plan(catalog, **overrides):
    return opto22_segment_plan(segment_values(catalog, **overrides))


def gateway_plan(catalog, **overrides):
    values = {
        "igor_gateway_version": "1.12.1",
        "igor_gateway_node_networks": [NODES],
        "igor_gateway_bacnet": True,
        "igor_gateway_bms_networks": [BMS],
    }
    return build_plan(catalog, values | overrides)


@pytest.fixture
def site(catalog):
    groups = {"opto22_segments": ["fw1"], "igor_gateways": ["gw1"]}
    hostvars = {
        "fw1": {"ansible_host": "192.0.2.1", "opto22_segment_plan": segment_plan(catalog)},
        "gw1": {"ansible_host": "192.0.2.5", "igor_gateway_plan": gateway_plan(catalog)},
    }
    return groups, hostvars


def rows_of(rows, **match):
    return [row for row in rows if all(row[key] == value for key, value in match.items())]


# ---- rows ----------------------------------------------------------------------------------------------------


def test_a_conduit_flow_admits_its_sources_to_the_controllers_with_the_catalog_facts(catalog, site):
    rows = site_flows(catalog, *site)
    modbus = record(catalog, "modbus_tcp")
    (row,) = rows_of(rows, conduit="scada")
    assert row == {
        "host": "fw1",
        "kind": "segment",
        "direction": "in",
        "conduit": "scada",
        "sources": [SCADA],
        "destinations": CONTROLLERS,
        "protocol": modbus["protocol"],
        "start": modbus["start"],
        "end": modbus["end"],
        "service": "modbus_tcp",
        "vendor": "opto22",
        "protocol_basis": modbus["protocol_basis"],
        "description": modbus["description"],
        "expires": None,
    }
    assert list(row) == list(COLUMNS)


def test_an_outbound_flow_has_the_controllers_as_its_sources(catalog, site):
    (row,) = rows_of(site_flows(catalog, *site), conduit="traps")
    assert (row["direction"], row["sources"], row["destinations"]) == ("out", CONTROLLERS, [NMS])
    assert row["service"] == "snmp_traps"


def test_a_bare_ports_entry_has_no_service_and_the_chart_logic_description(catalog, site):
    start, end = chart_port(catalog)
    (row,) = rows_of(site_flows(catalog, *site), conduit="engineering", start=start)
    assert (row["service"], row["vendor"], row["protocol_basis"], row["end"]) == (None, "opto22", "stated", end)
    assert row["description"] == record(catalog, "chart_logic", "udp")["description"]


def test_an_assumed_protocol_keeps_the_plans_basis(catalog, site):
    rows = rows_of(site_flows(catalog, *site), service="groov_app")
    assert {row["protocol"] for row in rows} == {r["protocol"] for r in catalog.select(services=["groov_app"])}
    assert {row["protocol_basis"] for row in rows} == {"assumed"}


def test_management_is_ssh_from_the_stations_to_the_guarding_host(catalog, site):
    (row,) = rows_of(site_flows(catalog, *site), conduit="management")
    port = site[1]["fw1"]["opto22_segment_plan"]["management"]["port"]
    assert (row["sources"], row["destinations"], row["protocol"], row["start"]) == (
        [STATION],
        ["192.0.2.1"],
        "tcp",
        port,
    )
    assert (row["service"], row["vendor"]) == (None, None)


def test_gateway_rules_admit_their_remote_addresses_to_the_gateway(catalog, site):
    rows = rows_of(site_flows(catalog, *site), kind="gateway")
    plan = site[1]["gw1"]["igor_gateway_plan"]
    assert [row["conduit"] for row in rows] == sorted(rule["name"] for rule in plan["rules"])
    bacnet = next(row for row in rows if row["service"] == "bacnet_ip")
    assert (bacnet["sources"], bacnet["destinations"], bacnet["vendor"]) == ([BMS], ["192.0.2.5"], "igor")
    assert all(row["description"] for row in rows)


def test_gateway_outbound_rules_go_from_the_gateway_and_only_when_enabled(catalog, site):
    groups, hostvars = site
    assert not rows_of(site_flows(catalog, groups, hostvars), kind="gateway", direction="out")
    hostvars["gw1"]["igor_gateway_plan"] = gateway_plan(catalog, igor_gateway_outbound_rules=True)
    out = rows_of(site_flows(catalog, groups, hostvars), kind="gateway", direction="out")
    assert out
    assert all(row["sources"] == ["192.0.2.5"] for row in out)


def test_a_gateway_without_ansible_host_is_named_by_its_inventory_name(catalog, site):
    groups, hostvars = site
    del hostvars["gw1"]["ansible_host"]
    rows = rows_of(site_flows(catalog, groups, hostvars), kind="gateway")
    assert {tuple(row["destinations"]) for row in rows} == {("gw1",)}


def test_an_expiring_conduit_carries_its_expiry_in_utc(catalog, site):
    groups, hostvars = site
    conduits = [
        {"name": "vendor", "sources": [SCADA], "services": ["modbus_tcp"], "expires": "2030-01-31T18:00:00+01:00"}
    ]
    hostvars["fw1"]["opto22_segment_plan"] = segment_plan(catalog, opto22_segment_conduits=conduits)
    rows = site_flows(catalog, groups, hostvars)
    assert [row["expires"] for row in rows_of(rows, conduit="vendor")] == ["2030-01-31T17:00:00Z"]
    assert {row["expires"] for row in rows_of(rows, host="fw1") if row["conduit"] != "vendor"} == {None}


def test_hosts_to_be_removed_allow_nothing(catalog, site):
    groups, hostvars = site
    hostvars["fw1"]["opto22_segment_plan"] = opto22_segment_plan({"opto22_segment_state": "absent"})
    hostvars["gw1"]["igor_gateway_plan"] = gateway_plan(catalog, igor_gateway_state="absent")
    assert site_flows(catalog, groups, hostvars) == []


def test_a_host_without_its_plan_is_an_error_naming_it(catalog, site):
    groups, hostvars = site
    del hostvars["gw1"]["igor_gateway_plan"]
    with pytest.raises(SitePlanError, match=r"^gw1: has no igor_gateway_plan; run otnet.ports.preflight first"):
        site_flows(catalog, groups, hostvars)


def test_rows_are_sorted_and_the_same_whatever_the_inventory_order(catalog, site):
    groups, hostvars = site
    rows = site_flows(catalog, groups, hostvars)
    assert rows == sorted(rows, key=_site_plan.sort_key)
    plan = hostvars["fw1"]["opto22_segment_plan"]
    shuffled = {**plan, "conduits": list(reversed(plan["conduits"]))}
    hostvars2 = {"gw1": hostvars["gw1"], "fw1": {**hostvars["fw1"], "opto22_segment_plan": shuffled}}
    groups2 = {"igor_gateways": ["gw1"], "opto22_segments": ["fw1"]}
    assert site_flows(catalog, groups2, hostvars2) == rows


# ---- flows.csv, flows.json -----------------------------------------------------------------------------------

HOSTILE_DESCRIPTIONS = {
    "comma": "Line 1, Line 2",
    "double quote": 'the "handshake" port',
    "line break": "first line\nsecond line",
    "carriage return and quote": 'a\r\n"b", c',
    "leading equals sign": "=cmd|' /C calc'!A0",
}


@pytest.mark.parametrize("description", HOSTILE_DESCRIPTIONS.values(), ids=HOSTILE_DESCRIPTIONS.keys())
def test_csv_keeps_hostile_site_descriptions_intact(catalog, description):
    start, _end = chart_port(catalog)
    overlay = [{"service": "line_sync", "port": start, "protocol": "tcp", "description": description}]
    conduits = [{"name": "scada", "sources": [SCADA], "services": ["line_sync"]}]
    plan = opto22_segment_plan(segment_values(catalog, opto22_segment_conduits=conduits), overlay=overlay)
    hostvars = {"fw1": {"opto22_segment_plan": plan, "otnet_ports_overlay": overlay}}
    rows = site_flows(catalog, {"opto22_segments": ["fw1"]}, hostvars)
    (row,) = rows_of(rows, service="line_sync")
    assert (row["vendor"], row["description"]) == ("site", description)
    parsed = list(csv.reader(io.StringIO(flows_csv(rows), newline="")))
    assert parsed[0] == list(COLUMNS)
    assert len(parsed) == len(rows) + 1
    by_conduit = {line[3]: line for line in parsed[1:]}
    assert by_conduit["scada"][COLUMNS.index("description")] == description
    assert json.loads(flows_json("s", "g", rows))["flows"][rows.index(row)]["description"] == description


def test_csv_joins_lists_with_one_space_and_writes_null_as_empty(catalog, site):
    rows = site_flows(catalog, *site)
    parsed = list(csv.DictReader(io.StringIO(flows_csv(rows), newline="")))
    scada = next(line for line in parsed if line["conduit"] == "scada")
    assert scada["destinations"] == " ".join(CONTROLLERS)
    assert scada["expires"] == ""
    assert [line["conduit"] for line in parsed] == [row["conduit"] for row in rows]


def test_json_has_site_generated_and_flows_with_the_documented_keys(catalog, site):
    rows = site_flows(catalog, *site)
    document = json.loads(flows_json("plant", "2026-12-02T06:00:00Z", rows))
    assert list(document) == ["site", "generated", "flows"]
    assert (document["site"], document["generated"]) == ("plant", "2026-12-02T06:00:00Z")
    assert all(list(flow) == list(COLUMNS) for flow in document["flows"])
    assert document["flows"] == rows


# ---- the plan directory's files ------------------------------------------------------------------------------


def test_the_plan_files_are_the_role_files_and_the_flows(catalog, site):
    groups, hostvars = site
    files = plan_files(catalog, groups, hostvars, site="plant", generated="now")
    assert sorted(files) == [
        "flows.csv",
        "flows.json",
        "fw1/rules.nft",
        "gw1/exclusions.txt",
        "gw1/rules.txt",
        "summary.md",
    ]
    assert files["fw1/rules.nft"] == hostvars["fw1"]["opto22_segment_plan"]["text"]
    summary = files["summary.md"]
    assert "# Site plan: plant" in summary
    assert "| fw1 | engineering | groov_app |" in summary  # an assumed protocol still open
    assert "| fw1 | segment | 192.0.2.1 | present |" in summary


def test_the_gateway_files_are_the_plans_own_text(catalog):
    """site.yml's plan-only mode prints the plan's ``text``; rules.txt + exclusions.txt say the same, line for line."""
    for overrides in ({}, {"igor_gateway_av_exclusions": False}, {"igor_gateway_outbound_rules": True}):
        plan = gateway_plan(catalog, **overrides)
        groups, hostvars = {"igor_gateways": ["gw1"]}, {"gw1": {"igor_gateway_plan": plan}}
        files = plan_files(catalog, groups, hostvars, site="s", generated="g")
        assert files["gw1/rules.txt"] + files["gw1/exclusions.txt"] == f"gw1: {plan['text']}"
        assert plan["text"].startswith(f'igor_gateway plan (present), firewall group "{plan["group"]}"')


def test_boundary_files_for_each_target_and_the_aerleon_policy(catalog, site):
    pytest.importorskip("aerleon")
    from ansible_collections.otnet.ports.plugins.plugin_utils import _boundary  # noqa: PLC0415

    groups, hostvars = site
    files = plan_files(catalog, groups, hostvars, site="s", generated="g", boundary_targets=["cisco", "srx"])
    plan = hostvars["fw1"]["opto22_segment_plan"]
    bundle = _boundary.boundary_policy(plan, "fw1")
    assert files[f"fw1/boundary/cisco{_boundary.suffix('cisco')}"] == _boundary.render(bundle, "cisco")
    assert f"fw1/boundary/srx{_boundary.suffix('srx')}" in files
    assert {"fw1/boundary/policy.yaml", "fw1/boundary/def/networks.yaml", "fw1/boundary/def/services.yaml"} <= set(
        files
    )


def test_aerleons_aclgen_renders_the_written_policy_to_the_same_configs(catalog, site, tmp_path):
    """A site that already runs aerleon can take over policy.yaml and def/: its aclgen gives the same files."""
    pytest.importorskip("aerleon")
    aclgen = Path(sys.executable).parent / "aclgen"
    if not aclgen.exists():
        pytest.skip("aerleon's aclgen is not installed next to this Python")
    files = plan_files(catalog, *site, site="s", generated="g", boundary_targets=["cisco", "srx"])
    plan = Path(write_plan(str(tmp_path / "plan"), files))
    (tmp_path / "run" / "pol").mkdir(parents=True)
    (tmp_path / "run" / "pol" / "fw1.yaml").write_text((plan / "fw1/boundary/policy.yaml").read_text())
    command = [str(aclgen), f"--base_directory={tmp_path / 'run'}", f"--output_directory={tmp_path / 'out'}"]
    command.append(f"--definitions_directory={plan / 'fw1/boundary/def'}")
    (tmp_path / "out").mkdir()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/fw1.acl").read_text() == files["fw1/boundary/cisco.acl"]
    assert (tmp_path / "out/fw1.srx").read_text() == files["fw1/boundary/srx.srx"]
    assert "&id" not in files["fw1/boundary/policy.yaml"]  # no YAML anchors: every term written out


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ("cisco", r"^otnet_ports_boundary_targets: 'cisco' is not a list"),
        (["pix"], r"^otnet_ports_boundary_targets\[0\]: .*pix"),
    ],
    ids=["a string, not a list", "unknown target"],
)
def test_bad_boundary_targets_are_named(catalog, site, targets, message):
    pytest.importorskip("aerleon")
    with pytest.raises(SitePlanError, match=message):
        plan_files(catalog, *site, site="s", generated="g", boundary_targets=targets)


HOSTILE_HOSTS = {"parent directory": "..", "a path": "a/b", "current directory": ".", "a site file": "flows.csv"}


@pytest.mark.parametrize("host", HOSTILE_HOSTS.values(), ids=HOSTILE_HOSTS.keys())
def test_a_host_name_that_is_no_plain_directory_name_is_refused(host):
    with pytest.raises(SitePlanError, match=r"^inventory host .*one path component"):
        check_host_name(host)


# ---- writing: all or nothing ---------------------------------------------------------------------------------

FILES = {"flows.csv": "a,b\n", "fw1/rules.nft": "table\n", "gw1/rules.txt": "rules\n"}


def tree(directory: Path) -> dict[str, str]:
    """The files of a plan directory, without the mark every plan directory carries (checked on its own)."""
    return {
        str(p.relative_to(directory)): p.read_text()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != _site_plan.PLAN_MARK
    }


def test_write_creates_the_plan_dir_with_every_file_and_nothing_beside_it(tmp_path):
    path = write_plan(str(tmp_path / "plan"), FILES)
    assert path == str(tmp_path / "plan")
    assert tree(tmp_path / "plan") == FILES
    assert (tmp_path / "plan" / _site_plan.PLAN_MARK).read_text() == _site_plan.PLAN_MARK_TEXT
    assert sorted(os.listdir(tmp_path)) == ["plan"]
    assert oct((tmp_path / "plan").stat().st_mode & 0o777) == "0o755"


def test_write_replaces_an_existing_plan_dir_as_a_whole(tmp_path):
    old = tmp_path / "plan"
    (old / "gone").mkdir(parents=True)
    (old / "gone" / "old.txt").write_text("old")
    (old / _site_plan.PLAN_MARK).write_text(_site_plan.PLAN_MARK_TEXT)  # an earlier plan's directory
    write_plan(str(old), FILES)
    assert tree(old) == FILES
    assert sorted(os.listdir(tmp_path)) == ["plan"]


class Boom(OSError):
    """A failure of the file system half-way."""


def failing_at(number, real):
    """``real``, except that its call ``number`` (counted from 1) fails."""
    calls = []

    def call(*args, **kwargs):
        calls.append(args)
        if len(calls) == number:
            raise Boom("disk full")
        return real(*args, **kwargs)

    return call


@pytest.mark.parametrize("existing", [True, False], ids=["plan dir existed", "no plan dir yet"])
def test_a_write_that_fails_half_way_changes_nothing(tmp_path, monkeypatch, existing):
    plan = tmp_path / "plan"
    if existing:
        plan.mkdir()
        (plan / "flows.csv").write_text("before")
        (plan / _site_plan.PLAN_MARK).write_text(_site_plan.PLAN_MARK_TEXT)
    before = sorted(os.listdir(tmp_path))
    monkeypatch.setattr(_site_plan.os, "chmod", failing_at(3, os.chmod))  # after the staging dir and one file
    with pytest.raises(Boom):
        write_plan(str(plan), FILES)
    assert sorted(os.listdir(tmp_path)) == before
    assert tree(plan) == ({"flows.csv": "before"} if existing else {})


def test_a_rename_that_fails_puts_the_old_plan_dir_back(tmp_path, monkeypatch):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "flows.csv").write_text("before")
    (plan / _site_plan.PLAN_MARK).write_text(_site_plan.PLAN_MARK_TEXT)
    monkeypatch.setattr(_site_plan.os, "rename", failing_at(2, os.rename))  # the old dir aside, then the new one fails
    with pytest.raises(Boom):
        write_plan(str(plan), FILES)
    assert tree(plan) == {"flows.csv": "before"}
    assert sorted(os.listdir(tmp_path)) == ["plan"]


def test_a_path_that_is_both_a_file_and_a_directory_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(SitePlanError, match=r"^files: 'fw1' is a file and the directory of 'fw1/rules.nft'"):
        write_plan(str(tmp_path / "plan"), {"fw1": "file", "fw1/rules.nft": "x"})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../escape", "a/../../b", ""], ids=["absolute", "up", "up inside", "empty"]
)
def test_file_paths_outside_the_plan_dir_are_refused_before_anything_is_written(tmp_path, name):
    with pytest.raises(SitePlanError, match=r"^files: .* is not a path below the plan directory"):
        write_plan(str(tmp_path / "plan"), {name: "x"})
    assert os.listdir(tmp_path) == []


def test_a_plan_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "plan").write_text("mine")
    with pytest.raises(SitePlanError, match=r"^otnet_ports_plan_dir: '.*plan' is a file, not a directory"):
        write_plan(str(tmp_path / "plan"), FILES)
    assert (tmp_path / "plan").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["plan"]


def test_a_plan_dir_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(
        SitePlanError, match=r"^otnet_ports_plan_dir: '.*file/plan' lies under '.*file', which is a file"
    ):
        check_plan_dir(str(tmp_path / "file" / "plan"))


def test_a_plan_dir_in_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(SitePlanError, match=r"^otnet_ports_plan_dir: .* which does not exist"):
        check_plan_dir(str(tmp_path / "missing" / "plan"))
    assert os.listdir(tmp_path) == []


def test_a_plan_dir_in_a_directory_that_is_not_writable_is_refused(tmp_path, monkeypatch):
    """root may write anywhere, so the permission answer is what os.access says for another user."""
    monkeypatch.setattr(_site_plan.os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(SitePlanError, match=r"^otnet_ports_plan_dir: .* which is not writable"):
        check_plan_dir(str(tmp_path / "plan"))


@pytest.mark.parametrize("value", ["", "  ", None, 3], ids=["empty", "blank", "null", "a number"])
def test_a_plan_dir_that_is_no_path_is_refused(value):
    with pytest.raises(SitePlanError, match=r"^otnet_ports_plan_dir: .* is not a path"):
        check_plan_dir(value)


@pytest.mark.parametrize("name", [".", "site"], ids=["the working directory", "a directory of the user's"])
def test_a_directory_the_plan_did_not_write_is_never_replaced(tmp_path, monkeypatch, name):
    """otnet_ports_plan_dir=. at 3 a.m. must not replace the site directory with the plan."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "inventory").write_text("mine")
    monkeypatch.chdir(site if name == "." else tmp_path)
    with pytest.raises(SitePlanError, match=r"is a directory the plan did not write \(it holds files but no "):
        write_plan(name, FILES)
    assert tree(site) == {"inventory": "mine"}
    assert sorted(os.listdir(tmp_path)) == ["site"]


@pytest.mark.parametrize("before", [{}, {"changes.md": "+ scada"}], ids=["empty", "only the site's change summary"])
def test_an_empty_directory_or_one_with_only_a_change_summary_takes_the_plan(tmp_path, before):
    (tmp_path / "plan").mkdir()
    for name, text in before.items():
        (tmp_path / "plan" / name).write_text(text)
    write_plan(str(tmp_path / "plan"), FILES)
    assert tree(tmp_path / "plan") == FILES


def test_the_summary_lists_every_time_limited_conduit_with_its_expiry_and_the_time_left():
    # summary.md's section "Time-limited conduits" (summary_md calls _expiry_section)
    row = {"host": "fw1", "conduit": "vendor", "expires": "2030-01-02T03:04:00Z", "protocol_basis": "stated"}
    rows = [
        {**row, "service": "modbus_tcp", "protocol": "tcp", "start": 502, "end": 502},
        {**row, "service": "modbus_tcp", "protocol": "tcp", "start": 503, "end": 503},  # one line per conduit
        {**row, "conduit": "scada", "expires": None, "service": "s", "protocol": "tcp", "start": 1, "end": 1},
    ]
    section = "\n".join(_site_plan._expiry_section(rows, "2030-01-01T00:00:00Z"))
    assert "| fw1 | vendor | 2030-01-02T03:04:00Z | 1d 3h 4m |" in section
    assert section.count("| fw1 | vendor |") == 1
    assert "| fw1 | scada |" not in section
    later = "\n".join(_site_plan._expiry_section(rows, "2031-01-01T00:00:00Z"))
    assert "| fw1 | vendor | 2030-01-02T03:04:00Z | expired |" in later
    assert "| - |" in "\n".join(_site_plan._expiry_section(rows, "now"))  # a generated text that is no date-time
