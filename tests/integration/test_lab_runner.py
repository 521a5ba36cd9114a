"""tools/lab/runner.py without root: AWX's job slicing of the example site's inventory, and ansible-runner on a
private data dir built from the example site running otnet.ports.plan (it contacts no host), its artifacts read.
`make test-lab` proves the rest against the lab, as root (`up --prove-runner --prove-slicing`)."""

from __future__ import annotations

import pytest
from dev_collection import REPO

from tools.lab import runner, site

HOSTS = ["fw-line1", "fw-line2", "igor-gw1"]
BROKEN_CONDUITS = [{"name": "x", "sources": ["10.20.1.0/24"], "services": ["modbus"]}]


@pytest.fixture(scope="module")
def site_dir(tarball, tmp_path_factory):
    """examples/site copied, the tarball installed into its ./collections (as the lab does)."""
    return site.prepare(tmp_path_factory.mktemp("state"), tarball, REPO / "examples" / "site")


@pytest.fixture(scope="module")
def inventory(site_dir):
    return runner.export_inventory(site_dir, "inventory")


def groups_of(inventory, host):
    return {name for name, group in inventory["all"]["children"].items() if host in (group.get("hosts") or {})}


def test_export_keeps_group_and_host_variables_apart(inventory):
    assert runner.inventory_hosts(inventory) == HOSTS
    segments = inventory["all"]["children"]["opto22_segments"]
    assert "opto22_segment_conduits" in segments["hosts"]["fw-line1"]  # host_vars/fw-line1.yml
    assert "opto22_segment_management" in segments["vars"]  # group_vars/opto22_segments.yml
    assert "otnet_ports_site_zones" in inventory["all"]["vars"]  # group_vars/all.yml


def test_two_slices_deal_the_hosts_by_name_like_awx(inventory):
    one, two = (runner.slice_inventory(inventory, n, 2) for n in (1, 2))
    assert runner.inventory_hosts(one) == ["fw-line1", "igor-gw1"]
    assert runner.inventory_hosts(two) == ["fw-line2"]
    assert groups_of(one, "fw-line1") == groups_of(inventory, "fw-line1") == {"opto22_segments"}
    assert one["all"]["children"]["opto22_segments"]["vars"] == inventory["all"]["children"]["opto22_segments"]["vars"]
    assert two["all"]["children"]["igor_gateways"]["hosts"] == {}  # the group stays, without hosts
    assert runner.inventory_hosts(inventory) == HOSTS  # the full inventory is not changed


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_every_host_in_exactly_one_slice(inventory, count):
    slices = [runner.inventory_hosts(runner.slice_inventory(inventory, n, count)) for n in range(1, count + 1)]
    assert sorted(host for hosts in slices for host in hosts) == HOSTS


@pytest.mark.parametrize(("number", "count"), [(0, 2), (3, 2), (-1, 2)])
def test_a_slice_number_out_of_range_is_refused(number, count):
    with pytest.raises(runner.RunnerError, match=f"slice {number} of {count}: the slice number must be 1 to {count}"):
        runner.slice_hosts(HOSTS, number, count)


def plan_job(site_dir, inventory, tmp_path, **extravars):
    data_dir = runner.build(tmp_path / "runner", site_dir, inventory, {"otnet_ports_plan_dir": "plan", **extravars})
    artifacts = runner.run(data_dir, runner.PLAN_PLAYBOOK, "plan", tmp_path / "runner.log")
    return data_dir, runner.read_artifacts(artifacts)


def test_the_data_dir_is_what_awx_hands_ansible_runner(site_dir, inventory, tmp_path):
    data_dir = runner.build(tmp_path / "runner", site_dir, inventory, {"a": 1})
    assert (data_dir / "project" / "site.yml").is_file()
    assert (data_dir / "project" / "collections" / "ansible_collections" / "otnet" / "ports").is_dir()
    assert not (data_dir / "project" / "inventory").exists()  # the job's inventory is the one below
    assert site.load_inventory(data_dir / "inventory" / "hosts.yml") == inventory
    assert site.load_inventory(data_dir / "env" / "settings")["process_isolation"] is False
    envvars = site.load_inventory(data_dir / "env" / "envvars")
    assert envvars["ANSIBLE_COLLECTIONS_PATH"].startswith(str(data_dir / "project" / "collections"))


def test_ansible_runner_runs_the_plan_and_its_events_show_the_roles_tasks(site_dir, inventory, tmp_path):
    data_dir, job = plan_job(site_dir, inventory, tmp_path)
    assert (job["status"], job["rc"]) == ("successful", 0)
    segment_task, igor_task = runner.ROLE_TASKS["opto22_segment"][0], runner.ROLE_TASKS["igor_gateway"][0]
    assert segment_task in runner.role_task_names(site_dir / "collections", "opto22_segment")
    assert all(runner.ran(job, host, "opto22_segment", f"{segment_task} (controller only)") for host in HOSTS[:2])
    assert runner.ran(job, "igor-gw1", "igor_gateway", igor_task)
    assert not runner.ran(job, "igor-gw1", "opto22_segment", f"{segment_task} (controller only)")
    assert (data_dir / "project" / "plan" / "fw-line1" / "rules.nft").is_file()  # relative to the project (cwd)


def test_a_refused_plan_reads_as_a_failed_job(site_dir, inventory, tmp_path):
    data_dir, job = plan_job(site_dir, inventory, tmp_path, opto22_segment_conduits=BROKEN_CONDUITS)
    assert job["status"] == "failed"
    assert job["rc"] != 0
    assert not (data_dir / "project" / "plan").exists()
    assert job["stats"]["failures"]
