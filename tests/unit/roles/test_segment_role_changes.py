"""The opto22_segment role reports opto22_segment_changes (issue 10, change summary), and the site playbook ends with
the summary and writes changes.md.

The role runs with a local connection inside a network namespace of this test's own (``otchk-<pid>``): in check
mode against no table (every flow would be added, nothing loaded), for real (the same flows added), again (no
change), after an element was deleted by hand (exactly that flow added back, in check mode and for real), and with
state absent (every flow removed; nothing left to remove the second time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dev_collection import link_checkout
from netns import needs_netns, throwaway_netns

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import TABLE

REPO = Path(__file__).resolve().parents[3]
NS = f"otchk-role-{os.getpid()}"
CONTROLLERS = ["10.10.1.11", "fd00:10:1::11"]
SETTINGS = {
    "opto22_segment_controllers": CONTROLLERS,
    "opto22_segment_conduits": [
        {"name": "scada", "sources": ["10.20.1.0/24", "fd00:20:1::/64"], "services": ["modbus_tcp"]},
    ],
    "opto22_segment_outbound": [{"name": "traps", "destinations": ["10.20.3.10"], "services": ["snmp_traps"]}],
    "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
    "opto22_segment_persist": False,
    "opto22_segment_confirm_timeout": 0,
    "opto22_segment_unit_name": "otchk-role-changes-test.service",
}
SCADA = {
    "direction": "in",
    "conduit": "scada",
    "service": "modbus_tcp",
    "sources": ["10.20.1.0/24", "fd00:20:1::/64"],
    "destinations": CONTROLLERS,
    "protocol": "tcp",
    "start": 502,
    "end": 502,
}
MANAGEMENT = {
    "direction": "in",
    "conduit": "management",
    "service": None,
    "sources": ["10.254.1.0/29"],
    "destinations": ["fw-test"],
    "protocol": "tcp",
    "start": 22,
    "end": 22,
}
TRAPS = {
    "direction": "out",
    "conduit": "traps",
    "service": "snmp_traps",
    "sources": ["10.10.1.11"],
    "destinations": ["10.20.3.10"],
    "protocol": "udp",
    "start": 162,
    "end": 162,
}
EVERYTHING = [MANAGEMENT, SCADA, TRAPS]

pytestmark = [
    pytest.mark.netns,
    pytest.mark.slow,
    needs_netns,
]


@pytest.fixture(scope="module")
def netns():
    with throwaway_netns(NS) as name:
        yield name


@pytest.fixture
def site(tmp_path):
    """An inventory with one segment host (local connection) and a playbook that writes its changes fact."""
    settings = {
        **SETTINGS,
        "opto22_segment_rules_path": str(tmp_path / "etc" / "segment.nft"),
        "opto22_segment_state_dir": str(tmp_path / "state" / "opto22"),
    }
    inventory = {
        "all": {
            "children": {
                "opto22_segments": {
                    "hosts": {"fw-test": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                    "vars": settings,
                },
                "igor_gateways": {"hosts": {}},
            }
        }
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = [
        {
            "hosts": "opto22_segments",
            "gather_facts": False,
            "roles": ["otnet.ports.opto22_segment"],
            "post_tasks": [
                {
                    "ansible.builtin.copy": {
                        "content": "{{ opto22_segment_changes | to_json }}",
                        "dest": str(tmp_path / "changes.json"),
                        "mode": "0600",
                    },
                    "check_mode": False,
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    return tmp_path


def ansible_playbook(netns: str, site: Path, playbook: str, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "OTNET_FAULT"}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=f"{link_checkout()}:{REPO / '.cache' / 'collections'}",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(site / "ansible-tmp"),
    )
    tool = str(Path(sys.executable).with_name("ansible-playbook"))
    command = ["ip", "netns", "exec", netns, tool, "-i", str(site / "inventory.yml"), playbook, *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=site)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def run_role(netns: str, site: Path, *args: str) -> dict:
    ansible_playbook(netns, site, str(site / "play.yml"), *args)
    return json.loads((site / "changes.json").read_text())


def nft(netns: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", netns, "nft", *args], capture_output=True, text=True, check=False)


def test_the_role_reports_its_changes(netns, site):
    nft(netns, "flush", "ruleset")
    assert run_role(netns, site, "--check") == {"added": EVERYTHING, "removed": []}
    assert nft(netns, "list", "table", "inet", TABLE).returncode != 0, "check mode loaded the table"
    assert run_role(netns, site) == {"added": EVERYTHING, "removed": []}
    assert nft(netns, "list", "table", "inet", TABLE).returncode == 0
    assert run_role(netns, site) == {"added": [], "removed": []}
    deleted = nft(netns, "delete", "element", "inet", TABLE, "conduits_v6", "{ fd00:20:1::/64 . tcp . 502 }")
    assert deleted.returncode == 0, deleted.stderr
    back = {**SCADA, "sources": ["fd00:20:1::/64"], "destinations": ["fd00:10:1::11"]}
    assert run_role(netns, site, "--check") == {"added": [back], "removed": []}
    assert run_role(netns, site) == {"added": [back], "removed": []}
    assert run_role(netns, site) == {"added": [], "removed": []}
    absent = ("-e", "opto22_segment_state=absent")
    assert run_role(netns, site, "--check", *absent) == {"added": [], "removed": EVERYTHING}
    assert nft(netns, "list", "table", "inet", TABLE).returncode == 0, "check mode deleted the table"
    assert run_role(netns, site, *absent) == {"added": [], "removed": EVERYTHING}
    assert nft(netns, "list", "table", "inet", TABLE).returncode != 0
    assert run_role(netns, site, *absent) == {"added": [], "removed": []}


def test_the_site_playbook_ends_with_the_summary_and_writes_changes_md(netns, site):
    nft(netns, "flush", "ruleset")
    plan_dir = site / "plan"
    result = ansible_playbook(netns, site, "otnet.ports.site", "--check", "-e", f"otnet_ports_plan_dir={plan_dir}")
    line = "fw-test: + scada -> 10.10.1.11, fd00:10:1::11 tcp/502 (modbus_tcp) from 10.20.1.0/24, fd00:20:1::/64"
    assert line in result.stdout
    assert (plan_dir / "changes.md").read_text() == (
        "# Changes\n\n## fw-test\n\n"
        "- `+ management -> fw-test tcp/22 from 10.254.1.0/29`\n"
        f"- `{line.removeprefix('fw-test: ')}`\n"
        "- `+ 10.10.1.11 -> traps udp/162 (snmp_traps) to 10.20.3.10`\n"
    )
    assert nft(netns, "list", "table", "inet", TABLE).returncode != 0, "check mode loaded the table"
