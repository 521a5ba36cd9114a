"""The opto22_segment role reports which rules are in effect from the helper's own state line (issue 9, defect 4).

The role runs with a local connection inside a network namespace of this test's own, its host-side helper
interrupted at chosen steps (OTNET_FAULT, see files/otnet-opto22-segment.sh). The failure message and the fact
opto22_segment_result must name the rules that are live - checked against the table itself.
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
NS = f"otfi-role-{os.getpid()}"
PREVIOUS = ["10.10.1.11"]
NEW = ["10.10.1.11", "10.10.1.12"]

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
    """A playbook that runs the role and writes opto22_segment_result to a file, whatever happened."""
    result_file = tmp_path / "result.json"
    settings = {
        "opto22_segment_conduits": [{"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp"]}],
        "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
        "opto22_segment_persist": False,
        "opto22_segment_confirm_timeout": 30,
        "opto22_segment_rules_path": str(tmp_path / "etc" / "segment.nft"),
        "opto22_segment_state_dir": str(tmp_path / "state" / "opto22"),
        "opto22_segment_unit_name": "otfi-role-report-test.service",
    }
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars": settings,
            "tasks": [
                {
                    "block": [{"ansible.builtin.import_role": {"name": "otnet.ports.opto22_segment"}}],
                    "always": [
                        {
                            "ansible.builtin.copy": {
                                "content": "{{ opto22_segment_result | default({}) | to_json }}",
                                "dest": str(result_file),
                                "mode": "0600",
                            }
                        }
                    ],
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    return tmp_path


def run_role(
    netns: str, site: Path, controllers: list[str], fault: str = ""
) -> tuple[subprocess.CompletedProcess, dict]:
    """The role run on the namespace: the playbook's output and the opto22_segment_result it left."""
    env = {key: value for key, value in os.environ.items() if key != "OTNET_FAULT"}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=f"{link_checkout()}:{REPO / '.cache' / 'collections'}",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(site / "ansible-tmp"),
    )
    if fault:
        env["OTNET_FAULT"] = fault
    playbook = str(Path(sys.executable).with_name("ansible-playbook"))
    result = subprocess.run(
        ["ip", "netns", "exec", netns, playbook, "-c", "local", "-i", "localhost,", str(site / "play.yml"),
         "-e", json.dumps({"opto22_segment_controllers": controllers})],
        capture_output=True, text=True, env=env, check=False, cwd=site,
    )  # fmt: skip
    return result, json.loads((site / "result.json").read_text())


def live_controllers(netns: str) -> str:
    listing = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "list", "set", "inet", TABLE, "controllers_v4"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return "new" if "10.10.1.12" in listing else "previous" if "10.10.1.11" in listing else "none"


@pytest.mark.parametrize(
    ("fault", "rules", "message"),
    [
        ("", "new", None),
        ("load.7:kill", "previous", "The previous rules are back in place. In effect, now and after a reboot: "
         "the previous rules (state=previous)."),
        ("confirm.1:timer", "previous", "The host had already restored the previous rules by itself (not confirmed "
         "within 30 seconds). In effect, now and after a reboot: the previous rules (state=previous)."),
        ("confirm.2:kill", "new", "In effect, now and after a reboot: the new rules (state=new)."),
    ],
    ids=["confirmed", "helper killed after the load", "timer first", "confirm killed after its decision"],
)  # fmt: skip
def test_the_role_reports_the_rules_in_effect(fault, rules, message, netns, site):
    subprocess.run(["ip", "netns", "exec", netns, "nft", "flush", "ruleset"], check=True)
    first, before = run_role(netns, site, PREVIOUS)
    assert first.returncode == 0, first.stdout + first.stderr
    assert before["rules"] == "new"
    assert live_controllers(netns) == "previous"
    result, report = run_role(netns, site, NEW, fault)
    assert report["rules"] == rules, result.stdout
    assert live_controllers(netns) == rules
    if message is None:
        assert result.returncode == 0, result.stdout + result.stderr
        assert report["loaded"] is True
    else:
        assert result.returncode != 0
        assert message in result.stdout + result.stderr, result.stdout
