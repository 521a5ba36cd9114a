"""The shipped site playbook refuses a broken inventory before it changes - or even contacts - any host.

Every host of the example site is given a "tripwire" connection: a connection plugin that writes down each attempt
to reach a host and fails it. A broken inventory must end the run in the preflight with the host, the variable, the
value and the rule named, no play after the preflight may start, and the tripwire must stay untouched. The same
inventory without the break does reach the hosts (the tripwire fires), so the test would see a contact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DEPENDENCIES, ansible_env, install, run
from dev_collection import REPO

EXAMPLE = REPO / "examples" / "site"
REFUSED = "the rollout stops before any host changes"
ROLLOUT_PLAYS = ("PLAY [Igor gateways", "PLAY [Opto 22 segments")
TRIPWIRE = '''
from __future__ import annotations

DOCUMENTATION = """
name: tripwire
short_description: Writes down every attempt to reach a host, and fails it
description: [A test double for otnet.ports' site tests.]
author: otnet.ports tests
"""

import os

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = "tripwire"
    has_pipelining = False

    def _trip(self, what):
        with open(os.environ["OTNET_TRIPWIRE_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{getattr(self._play_context, 'remote_addr', '?')} {what}\\n")
        raise AnsibleConnectionFailure(f"tripwire: {what}")

    def _connect(self):
        self._trip("connect")

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self._trip(f"exec {cmd}")

    def put_file(self, in_path, out_path):
        self._trip(f"put {out_path}")

    def fetch_file(self, in_path, out_path):
        self._trip(f"fetch {in_path}")

    def close(self):
        self._connected = False
'''


def make_site(tarball: Path, directory: Path) -> Path:
    """examples/site copied, the tarball installed offline into its ./collections (as the README says)."""
    shutil.copytree(EXAMPLE, directory, dirs_exist_ok=True)
    install(tarball, directory / "collections")
    return directory


def site_env(site: Path, **extra: str) -> dict[str, str]:
    """The site's ansible.cfg, its ./collections first; JSON results, so messages stay on one line."""
    return ansible_env(
        f"{site / 'collections'}:{DEPENDENCIES}",
        ANSIBLE_CONFIG=str(site / "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        **extra,
    )


def write_layer(directory: Path, host_vars: dict[str, dict], hosts: dict | None = None) -> Path:
    """An inventory source of host_vars (JSON is YAML) that wins over the site's own."""
    (directory / "host_vars").mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(json.dumps(hosts or {"all": {}}))
    for host, values in host_vars.items():
        (directory / "host_vars" / f"{host}.yml").write_text(json.dumps(values))
    return directory


@pytest.fixture(scope="module")
def site(tarball, tmp_path_factory) -> Path:
    directory = make_site(tarball, tmp_path_factory.mktemp("site"))
    (directory / "connection_plugins").mkdir()
    (directory / "connection_plugins" / "tripwire.py").write_text(TRIPWIRE)
    tripwire = {"ansible_connection": "tripwire"}
    write_layer(directory / "tripwire", dict.fromkeys(("fw-line1", "fw-line2", "igor-gw1"), tripwire))
    return directory


def rollout(site: Path, tmp_path: Path, *args: str) -> tuple[int, str, list[str]]:
    """ansible-playbook site.yml on the site's inventory behind the tripwire; (rc, output, contacts)."""
    log = tmp_path / "tripwire.log"
    command = ["ansible-playbook", "site.yml", "-i", "inventory", "-i", "tripwire", *args]
    env = site_env(site, ANSIBLE_CONNECTION_PLUGINS=str(site / "connection_plugins"), OTNET_TRIPWIRE_LOG=str(log))
    result = run(command, cwd=site, env=env)
    contacts = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, contacts


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
    "argument spec: not a boolean": (
        ["-i", "broken"],
        {"fw-line1": {"opto22_segment_log_drops": "sometimes"}},
        ["fw-line1: 1 problem(s)", "opto22_segment_log_drops", "sometimes"],
    ),
    "chart-logic port PAC controllers reserve": (
        ["-i", "broken"],
        {"fw-line1": {"otnet_ports_chart_ports": [{"service": "line1_sync", "port": 50010, "protocol": "tcp"}]}},
        [
            "otnet_ports_chart_ports: line1_sync: port: 50010 cannot be used in PAC Control chart logic",
            "line1_sync (50010/tcp) overlaps opto22 service controller_internal",
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
        ["site service line_handshake (otnet_ports_overlay) is admitted into the segment", "port: 20000 cannot"],
    ),
    "overlap with a vendor port nobody declared": (
        ["-i", "broken"],
        {"igor-gw1": {"otnet_ports_accepted_overlaps": []}},
        ["otnet_ports_overlay: scada_node_red (1880/tcp) overlaps opto22 service node_red", "declares it"],
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
        ["otnet_ports_site_serial must be a number of hosts or a percentage"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_inventory_is_refused_before_any_host_is_contacted(site, tmp_path, case):
    args, host_vars, messages = BROKEN[case]
    if host_vars:
        write_layer(site / "broken", host_vars)
    try:
        rc, output, contacts = rollout(site, tmp_path, *args)
    finally:
        shutil.rmtree(site / "broken", ignore_errors=True)
    assert rc != 0, output
    missing = [message for message in messages if message not in output]
    assert not missing, f"{missing} not in:\n{output}"
    if host_vars:
        assert REFUSED in output
    assert not [play for play in ROLLOUT_PLAYS if play in output], "a rollout play started after the preflight"
    assert contacts == [], f"hosts were contacted: {contacts}"


def test_check_mode_runs_the_same_preflight(site, tmp_path):
    """--check is the first step of a staged rollout; the preflight refuses there as well."""
    write_layer(site / "broken", {"igor-gw1": {"igor_gateway_version": "latest"}})
    try:
        rc, output, contacts = rollout(site, tmp_path, "-i", "broken", "--check", "--diff")
    finally:
        shutil.rmtree(site / "broken", ignore_errors=True)
    assert rc != 0
    assert "igor_gateway_version: 'latest' is not a version" in output, output
    assert contacts == []
