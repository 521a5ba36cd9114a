"""`ansible-playbook otnet.ports.plan` writes the example site's offline plan without contacting any host, and on any
error leaves the plan directory exactly as it was.

Every host has the "tripwire" connection (conftest.py): a contact would be written down and fail. The role's own plan
(entry point `plan`) is computed by a second playbook, so rules.nft is compared with what the role would load.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import run, site_env, snapshot

COLUMNS = [
    "host",
    "kind",
    "direction",
    "conduit",
    "sources",
    "destinations",
    "protocol",
    "start",
    "end",
    "service",
    "vendor",
    "protocol_basis",
    "description",
    "expires",
]
SEGMENTS, GATEWAYS = ("fw-line1", "fw-line2"), ("igor-gw1",)
ROLE_PLAN = """
- name: The role's own plan of each segment host
  hosts: opto22_segments
  gather_facts: false
  tasks:
    - name: Plan (entry point plan)
      ansible.builtin.include_role:
        name: otnet.ports.opto22_segment
        tasks_from: plan
    - name: Keep the text the role would load
      ansible.builtin.copy:
        content: "{{ opto22_segment_plan.text }}"
        dest: "{{ out }}/{{ inventory_hostname }}.nft"
        mode: "0644"
      delegate_to: localhost
"""


def plan(site: Path, tmp_path: Path, *args: str, playbook: str = "otnet.ports.plan") -> tuple[int, str, list[str]]:
    """ansible-playbook PLAYBOOK on the site's inventory behind the tripwire; (rc, output, contacts)."""
    log = tmp_path / "tripwire.log"
    command = ["ansible-playbook", playbook, "-i", "inventory", "-i", "tripwire", *args]
    env = site_env(site, ANSIBLE_CONNECTION_PLUGINS=str(site / "connection_plugins"), OTNET_TRIPWIRE_LOG=str(log))
    result = run(command, cwd=site, env=env)
    contacts = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, contacts


@pytest.fixture(scope="module")
def planned(example_site, tmp_path_factory):
    """The example site's plan, written once for the module: (plan dir, output, contacts)."""
    tmp = tmp_path_factory.mktemp("plan")
    rc, output, contacts = plan(example_site, tmp, "-e", f"otnet_ports_plan_dir={tmp / 'plan'}")
    assert rc == 0, output
    return tmp / "plan", output, contacts


def test_the_plan_contacts_no_host(planned):
    _directory, output, contacts = planned
    assert contacts == []
    assert "fw-line1: no problems" in output  # the preflight ran


def test_the_plan_dir_holds_the_site_files_and_each_hosts_files(planned):
    directory = planned[0]
    files = sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())
    expected = [".otnet-ports-plan", "flows.csv", "flows.json", "summary.md"]  # the mark: a plan wrote this dir
    expected += [f"{host}/rules.nft" for host in SEGMENTS]
    expected += [f"{host}/{name}" for host in GATEWAYS for name in ("exclusions.txt", "rules.txt")]
    assert files == sorted(expected)
    assert [path.name for path in directory.parent.iterdir()] == ["plan"]  # no temporary directory left


def test_rules_nft_is_exactly_the_file_the_role_would_load(site, planned, tmp_path):
    playbook = tmp_path / "role-plan.yml"
    playbook.write_text(ROLE_PLAN)
    rc, output, contacts = plan(site, tmp_path, "-e", f"out={tmp_path}", playbook=str(playbook))
    assert rc == 0, output
    assert contacts == []
    for host in SEGMENTS:
        assert (planned[0] / host / "rules.nft").read_text() == (tmp_path / f"{host}.nft").read_text(), host


def test_flows_json_has_the_documented_shape(planned):
    document = json.loads((planned[0] / "flows.json").read_text())
    assert list(document) == ["site", "generated", "flows"]
    assert document["site"] == "site"
    assert document["generated"].endswith("Z")
    flows = document["flows"]
    assert flows
    for flow in flows:
        assert list(flow) == COLUMNS
        assert flow["kind"] in ("segment", "gateway")
        assert flow["direction"] in ("in", "out")
        assert flow["protocol"] in ("tcp", "udp")
        assert isinstance(flow["start"], int)
        assert isinstance(flow["end"], int)
        assert flow["start"] <= flow["end"]
        assert all(isinstance(flow[key], list) and flow[key] for key in ("sources", "destinations"))
        assert flow["protocol_basis"] in ("stated", "standard", "assumed")
        assert flow["expires"] is None
    hosts = {flow["host"] for flow in flows}
    assert hosts == {*SEGMENTS, *GATEWAYS}
    bare = [flow for flow in flows if flow["service"] is None and flow["conduit"] != "management"]
    assert [(flow["host"], flow["conduit"]) for flow in bare] == [("fw-line2", "scada")]  # the chart's UDP handles
    traps = next(flow for flow in flows if flow["conduit"] == "traps")
    assert traps["direction"] == "out"
    assert traps["sources"] == ["10.10.1.11", "10.10.1.12"]  # the controllers
    gateway = next(flow for flow in flows if flow["kind"] == "gateway")
    assert gateway["destinations"] == ["10.40.2.5"]  # igor-gw1's ansible_host
    assert flows == sorted(flows, key=lambda f: (f["host"], f["kind"], f["direction"], f["conduit"], f["protocol"]))


def test_flows_csv_is_flows_json_row_for_row(planned):
    flows = json.loads((planned[0] / "flows.json").read_text())["flows"]
    rows = list(csv.DictReader(io.StringIO((planned[0] / "flows.csv").read_text(), newline="")))
    assert len(rows) == len(flows)
    for row, flow in zip(rows, flows, strict=True):
        assert list(row) == COLUMNS
        expected = {
            key: " ".join(value) if isinstance(value, list) else "" if value is None else str(value)
            for key, value in flow.items()
        }
        assert row == expected


def test_summary_lists_hosts_zones_and_the_assumed_protocols_still_open(planned):
    summary = (planned[0] / "summary.md").read_text()
    for heading in ("## Zones", "## Hosts", "## Conduits", "## Counts", "## Assumed protocols still open"):
        assert heading in summary
    assert "| fw-line1 | segment | 10.20.2.251 | present |" in summary
    assert "| Building management (BACnet/IP) |" in summary
    assert "| fw-line1 | engineering | groov_app | tcp |" in summary


def test_the_gateway_files_say_what_the_plan_only_rollout_prints(site, planned, tmp_path):
    """otnet_ports_site_igor_plan_only keeps working: site.yml's plan for igor-gw1 is rules.txt + exclusions.txt."""
    out = tmp_path / "site-plan"
    out.mkdir()
    args = ["-e", "otnet_ports_site_igor_plan_only=true", "-e", f"otnet_ports_site_plan_dir={out}"]
    rc, output, contacts = plan(site, tmp_path, *args, "--tags", "igor_gateway", playbook="site.yml")
    assert rc == 0, output
    assert contacts == []
    printed = (out / "igor-gw1.igor-plan.txt").read_text()
    directory = planned[0] / "igor-gw1"
    written = (directory / "rules.txt").read_text() + (directory / "exclusions.txt").read_text()
    assert written.rstrip("\n") == printed.rstrip("\n")


def test_boundary_configs_for_the_asked_targets(site, tmp_path):
    pytest.importorskip("aerleon")
    args = ["-e", f"otnet_ports_plan_dir={tmp_path / 'plan'}", "-e", '{"otnet_ports_boundary_targets": ["cisco"]}']
    rc, output, contacts = plan(site, tmp_path, *args)
    assert rc == 0, output
    assert contacts == []
    for host in SEGMENTS:
        boundary = tmp_path / "plan" / host / "boundary"
        assert (boundary / "cisco.acl").read_text().strip(), host
        assert {"policy.yaml", "def"} <= {path.name for path in boundary.iterdir()}


# ---- errors: the plan directory is left exactly as it was --------------------------------------------------------

PLAN_DIR_ERRORS = {
    "plan dir is a file": ("file", "is a file, not a directory"),
    "plan dir under a file": ("file/plan", "lies under"),
    "plan dir in a missing directory": ("missing/plan", "which does not exist"),
}


@pytest.mark.parametrize(("relative", "rule"), PLAN_DIR_ERRORS.values(), ids=PLAN_DIR_ERRORS.keys())
def test_a_bad_plan_dir_is_refused_naming_the_variable_and_nothing_is_written(site, tmp_path, relative, rule):
    (tmp_path / "file").write_text("mine")
    before = snapshot(tmp_path)
    rc, output, contacts = plan(site, tmp_path, "-e", f"otnet_ports_plan_dir={tmp_path / relative}")
    assert rc != 0
    assert f"otnet_ports_plan_dir: '{tmp_path / relative}' " in output
    assert rule in output
    assert contacts == []
    assert snapshot(tmp_path) == before


def test_a_broken_inventory_leaves_an_existing_plan_dir_as_it_was(site, layer, tmp_path):
    directory = tmp_path / "plan"
    directory.mkdir()
    (directory / "flows.csv").write_text("the last review")
    before = snapshot(directory)
    layer("broken", {"igor-gw1": {"igor_gateway_version": "1.11.0"}})
    rc, output, contacts = plan(site, tmp_path, "-i", "broken", "-e", f"otnet_ports_plan_dir={directory}")
    assert rc != 0
    assert "igor_gateway_version: 1.11.0 is below 1.12.1" in output
    assert contacts == []
    assert snapshot(directory) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "tripwire.log") == ["plan"]


def test_a_broken_inventory_creates_no_plan_dir(site, layer, tmp_path):
    layer("broken", {"igor-gw1": {"igor_gateway_version": "1.11.0"}})
    rc, output, _contacts = plan(site, tmp_path, "-i", "broken", "-e", f"otnet_ports_plan_dir={tmp_path / 'plan'}")
    assert rc != 0, output
    assert not (tmp_path / "plan").exists()


def test_an_unknown_boundary_target_is_refused_and_nothing_is_written(site, tmp_path):
    pytest.importorskip("aerleon")
    args = ["-e", f"otnet_ports_plan_dir={tmp_path / 'plan'}", "-e", '{"otnet_ports_boundary_targets": ["pix"]}']
    rc, output, _contacts = plan(site, tmp_path, *args)
    assert rc != 0
    assert "otnet_ports_boundary_targets[0]" in output
    assert "pix" in output
    assert not (tmp_path / "plan").exists()
