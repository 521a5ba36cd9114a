"""The site playbook's rollout settings and its plan-only Windows part, in a site directory set up as the README says.

Every host sits behind the tripwire connection (conftest.example_site): these runs must not reach any host.
"""

from __future__ import annotations

import json

import pytest
from conftest import rollout, run, site_env

SECOND_GATEWAY = {
    "all": {"children": {"igor_gateways": {"hosts": {"igor-gw2": {"ansible_host": "10.40.2.6"}}}}},
}


@pytest.fixture
def two_gateways(site, layer):
    """A second Igor gateway, behind the tripwire like the rest."""
    settings = {
        "ansible_connection": "tripwire",
        "igor_gateway_version": "1.12.1",
        "igor_gateway_node_networks": ["10.40.2.0/24"],
        "igor_gateway_bacnet": True,
        "igor_gateway_bms_networks": ["10.40.1.0/24"],
    }
    layer("second", {"igor-gw2": settings}, hosts=SECOND_GATEWAY)
    return site


def plan_only_rollout(site, tmp_path, extra_var):
    """Both gateways, Igor plays only, plan-only, plus one extra variable."""
    return rollout(
        site,
        tmp_path,
        "-i",
        "second",
        "--tags",
        "igor_gateway",
        "-e",
        "otnet_ports_site_igor_plan_only=true",
        "-e",
        extra_var,
    )


def test_plan_only_computes_and_prints_the_windows_plan_in_batches_without_contacting_a_host(two_gateways, tmp_path):
    plans = tmp_path / "plans"
    rc, output, contacts = plan_only_rollout(two_gateways, tmp_path, f"otnet_ports_site_plan_dir={plans}")
    assert rc == 0, output
    assert contacts == []
    # examples/site/site.yml: otnet_ports_site_serial [1, "100%"] - a canary batch of one, then the rest
    assert output.count("PLAY [Igor gateways") == 2
    assert "Igor BACnet Service - BACnet/IP (UDP-In)" in output
    for host in ("igor-gw1", "igor-gw2"):
        plan = json.loads((plans / f"{host}.igor-plan.json").read_text())
        assert plan["state"] == "present"
        assert {rule["remoteip"] for rule in plan["rules"]} == {"10.40.2.0/24", "10.40.1.0/24"}
        table = (plans / f"{host}.igor-plan.txt").read_text()
        assert table.startswith(f"{host}: igor_gateway plan (present)")
        assert "Microsoft Defender exclusions:" in table


def test_extra_vars_override_the_site_playbooks_serial(two_gateways, tmp_path):
    rc, output, contacts = plan_only_rollout(two_gateways, tmp_path, "otnet_ports_site_serial=100%")
    assert rc == 0, output
    assert output.count("PLAY [Igor gateways") == 1
    assert contacts == []


def test_the_card_short_forms_work_in_the_site_directory(site):
    """examples/site/ports.yml asks the catalog with lookup('opto22_ports', 'groov') and friends."""
    result = run(["ansible-playbook", "ports.yml"], cwd=site, env=site_env(site))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Node-RED" in result.stdout
    assert "failed=0" in result.stdout
