"""The shipped site playbook refuses a broken inventory before it changes - or even contacts - any host.

Every host of the example site is given a "tripwire" connection: a connection plugin that writes down each attempt
to reach a host and fails it. A broken inventory must end the run in the preflight with the host, the variable, the
value and the rule named, no play after the preflight may start, and the tripwire must stay untouched. The same
inventory without the break does reach the hosts (the tripwire fires), so the test would see a contact.
"""

from __future__ import annotations

import pytest
from conftest import rollout

REFUSED = "the rollout stops before any host changes"
ROLLOUT_PLAYS = ("PLAY [Igor gateways", "PLAY [Opto 22 segments")


def test_the_tripwire_sees_a_rollout_that_reaches_a_host(site, tmp_path):
    """Without a break the preflight passes and the rollout reaches the first segment host: the tripwire fires."""
    rc, output, contacts = rollout(site, tmp_path, "-e", "otnet_ports_site_igor_plan_only=true")
    assert "fw-line1: no problems" in output, output
    assert "PLAY [Opto 22 segments" in output
    assert rc != 0
    assert contacts, "the tripwire connection did not record the contact"
    assert all(line.startswith("10.20.2.251 ") for line in contacts), contacts  # fw-line1 only: serial [1, 100%]


BROKEN = {
    "igor version below the document's floor": (
        ["-i", "broken"],
        {"igor-gw1": {"igor_gateway_version": "1.11.0"}},
        ["igor-gw1: 1 problem(s)", "igor_gateway_version: 1.11.0 is below 1.12.1"],
    ),
    "conduit service not in the catalog": (
        ["-i", "broken"],
        {
            "fw-line2": {
                "opto22_segment_conduits": [{"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus"]}]
            }
        },
        ["fw-line2: 1 problem(s)", "opto22_segment_conduits[0].services[0]: unknown catalog service 'modbus'"],
    ),
    "segment to be removed, with a system directory as its state dir": (
        ["-i", "broken"],
        {"fw-line2": {"opto22_segment_state": "absent", "opto22_segment_state_dir": "/etc"}},
        ["fw-line2: 1 problem(s)", "opto22_segment_state_dir: '/etc'"],
    ),
    "argument spec: not a boolean": (
        ["-i", "broken"],
        {"fw-line1": {"opto22_segment_log_drops": "sometimes"}},
        ["fw-line1: 1 problem(s)", "opto22_segment_log_drops", "sometimes"],
    ),
    "chart-logic port PAC controllers reserve": (
        ["-i", "broken"],
        {"fw-line1": {"otnet_ports_chart_ports": [{"service": "line1_sync", "port": 50010, "protocol": "tcp"}]}},
        [
            "otnet_ports_chart_ports[0].port: 50010 cannot be used in PAC Control chart logic",
            "otnet_ports_chart_ports[0]: line1_sync (50010/tcp) overlaps opto22 service controller_internal",
        ],
    ),
    "site service admitted into a segment on a port chart logic may not use": (
        ["-i", "broken"],
        {
            "fw-line1": {
                "otnet_ports_overlay": [
                    {"service": "line_handshake", "port": 20000, "protocol": "tcp", "description": "handshake"}
                ],
                "otnet_ports_accepted_overlaps": [],
            }
        },
        [
            "opto22_segment_conduits: conduit scada admits the site service line_handshake (otnet_ports_overlay, "
            "20000/tcp) into the segment",
            "port: 20000 cannot be used in PAC Control chart logic",
        ],
    ),
    "overlap with a vendor port nobody declared": (
        ["-i", "broken"],
        {"igor-gw1": {"otnet_ports_accepted_overlaps": []}},
        ["otnet_ports_overlay[1]: scada_node_red (1880/tcp) overlaps opto22 service node_red", "declares it"],
    ),
    "declared overlap that matches nothing": (
        ["-i", "broken"],
        {
            "fw-line2": {
                "otnet_ports_accepted_overlaps": [
                    {"site": "scada_node_red", "catalog": "node_red", "reason": "x"},
                    {"site": "historian", "catalog": "modbus_tcp", "reason": "y"},
                ]
            }
        },
        ["otnet_ports_accepted_overlaps: {site: historian, catalog: modbus_tcp} matches no overlap"],
    ),
    "rollout setting": (
        ["-e", "otnet_ports_site_serial=0"],
        {},
        ["otnet_ports_site_serial: '0' is not a batch size; give a number of hosts"],
    ),
    "every rollout setting at once": (
        [
            "-e",
            '{"otnet_ports_site_serial": [1, "0%"], "otnet_ports_site_max_fail_percentage": 101}',
            "-e",
            "otnet_ports_site_igor_plan_only=sometimes",
        ],
        {},
        [
            "otnet_ports_site_serial[1]: '0%' is not a batch size",
            "otnet_ports_site_max_fail_percentage: 101 is not a whole number 0-100",
            "otnet_ports_site_igor_plan_only: 'sometimes' is not a boolean",
        ],
    ),
    "every problem of every host at once": (
        ["-i", "broken"],
        {
            "igor-gw1": {"igor_gateway_version": "1.11.0"},
            "fw-line1": {
                "otnet_ports_chart_ports": [
                    {"service": "line1_sync", "port": 50010, "protocol": "tcp"},
                    {"service": "Line1", "port": 49230, "protocol": "icmp"},
                ]
            },
            "fw-line2": {"otnet_ports_accepted_overlaps": [{"site": "scada_node_red", "catalog": "node_red"}]},
        },
        [
            "igor-gw1: 1 problem(s)",
            "fw-line1: 4 problem(s)",
            "fw-line2: 2 problem(s)",
            "otnet_ports_chart_ports[1].service: 'Line1' is not a service key",
            "otnet_ports_chart_ports[1].protocol: 'icmp' is not a protocol",
            "otnet_ports_accepted_overlaps[0]: {",
            "otnet_ports_overlay[1]: scada_node_red (1880/tcp) overlaps",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_inventory_is_refused_before_any_host_is_contacted(site, layer, tmp_path, case):
    args, host_vars, messages = BROKEN[case]
    if host_vars:
        layer("broken", host_vars)
    rc, output, contacts = rollout(site, tmp_path, *args)
    assert rc != 0, output
    missing = [message for message in messages if message not in output]
    assert not missing, f"{missing} not in:\n{output}"
    if host_vars:
        assert REFUSED in output
    assert not [play for play in ROLLOUT_PLAYS if play in output], "a rollout play started after the preflight"
    assert contacts == [], f"hosts were contacted: {contacts}"


def test_check_mode_runs_the_same_preflight(site, layer, tmp_path):
    """--check is the first step of a staged rollout; the preflight refuses there as well."""
    layer("broken", {"igor-gw1": {"igor_gateway_version": "latest"}})
    rc, output, contacts = rollout(site, tmp_path, "-i", "broken", "--check", "--diff")
    assert rc != 0
    assert "igor_gateway_version: 'latest' is not a version" in output, output
    assert contacts == []


def test_a_host_in_both_groups_is_refused_before_any_host_is_contacted(site, layer, tmp_path):
    both = {"all": {"children": {"igor_gateways": {"hosts": {"fw-line1": {}}}}}}
    layer("both", {}, hosts=both)
    rc, output, contacts = rollout(site, tmp_path, "-i", "both")
    assert rc != 0
    assert "groups: fw-line1 in both igor_gateways and opto22_segments" in output, output
    assert not [play for play in ROLLOUT_PLAYS if play in output]
    assert contacts == []
