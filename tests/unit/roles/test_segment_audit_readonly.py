"""ansible-playbook otnet.ports.audit changes nothing: the ruleset, the role's files and its unit are byte-identical
before and after an audit (in normal and in check mode), and the audit sees what the rollout left and what a hand
edit changed.

A segment host with a local connection inside a network namespace of this test's own (``otaudm-<pid>``), rolled out
with otnet.ports.site first; an Igor gateway the site handles plan-only, at an address nothing answers on (it must
come out ``not_audited``, never contacted).
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
NS = f"otaudm-{os.getpid()}"
UNIT = "otaudm-audit-test.service"
UNIT_PATH = Path("/etc/systemd/system") / UNIT

pytestmark = [
    pytest.mark.netns,
    pytest.mark.slow,
    needs_netns,
]


@pytest.fixture(scope="module")
def netns():
    with throwaway_netns(NS) as name:
        yield name


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """An inventory: seg1 (local, in the namespace) and gw1 (plan-only, never contacted)."""
    root = tmp_path_factory.mktemp("audit-site")
    segment = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "opto22_segment_controllers": ["10.10.1.11", "10.10.1.12"],
        "opto22_segment_conduits": [
            {"name": "scada", "sources": ["10.20.1.0/24"], "services": ["modbus_tcp"]},
            {"name": "nms", "sources": ["10.20.3.0/24"], "services": ["snmp"]},
            {"name": "corporate", "sources": ["10.30.1.0/24"], "services": []},
        ],
        "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
        "opto22_segment_persist": False,
        "opto22_segment_confirm_timeout": 30,
        "opto22_segment_rules_path": str(root / "etc" / "segment.nft"),
        "opto22_segment_state_dir": str(root / "state" / "opto22"),
        "opto22_segment_unit_name": UNIT,
    }
    gateway = {
        "ansible_host": "192.0.2.10",
        "ansible_connection": "ssh",
        "ansible_ssh_common_args": "-o ConnectTimeout=1",
        "igor_gateway_version": "1.12.1",
        "igor_gateway_node_networks": ["10.40.2.0/24"],
    }
    inventory = {
        "all": {
            "children": {
                "opto22_segments": {"hosts": {"seg1": segment}},
                "igor_gateways": {"hosts": {"gw1": gateway}},
            }
        }
    }
    (root / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (root / "site.yml").write_text("- ansible.builtin.import_playbook: otnet.ports.site\n")
    return root


def playbook(netns: str, site: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=f"{link_checkout()}:{REPO / '.cache' / 'collections'}",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_LOCAL_TEMP=str(site / "ansible-tmp"),
    )
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(site / "inventory.yml"), name]
    command += ["-e", "otnet_ports_site_igor_plan_only=true", *args]
    return subprocess.run(
        ["ip", "netns", "exec", netns, *command], capture_output=True, text=True, env=env, cwd=site, check=False
    )


def audit(netns: str, site: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = playbook(netns, site, "otnet.ports.audit", "-e", f"otnet_ports_audit_dir={out}", *args)
    report = json.loads((out / "audit.json").read_text()) if (out / "audit.json").exists() else {}
    return result, report


def snapshot(netns: str, site: Path) -> dict[str, object]:
    """The ruleset as nft lists it (counters included), every file of the role (bytes, mode, mtime) and the unit."""
    listing = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"], capture_output=True, check=True)
    files = {
        str(path): (_content(path), path.lstat().st_mode, path.lstat().st_mtime_ns)
        for base in (site / "etc", site / "state")
        for path in sorted(base.rglob("*"))
    }  # fmt: skip
    enabled = subprocess.run(["systemctl", "is-enabled", UNIT], capture_output=True, check=False).stdout
    unit = UNIT_PATH.read_bytes() if UNIT_PATH.exists() else None
    return {"ruleset": listing.stdout, "files": files, "unit": (unit, enabled)}


def _content(path: Path) -> bytes | str:
    if path.is_symlink():
        return os.readlink(path)
    return path.read_bytes() if path.is_file() else "directory"


@pytest.fixture(scope="module")
def rolled_out(netns, site):
    result = playbook(netns, site, str(site / "site.yml"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return site


def test_an_audit_changes_nothing_and_finds_the_rollout_in_sync(netns, rolled_out, tmp_path):
    before = snapshot(netns, rolled_out)
    assert before["files"], "the rollout wrote no role files"
    result, report = audit(netns, rolled_out, tmp_path / "audit")
    assert result.returncode == 0, result.stdout[-4000:]
    assert snapshot(netns, rolled_out) == before
    segment, gateway = report["hosts"]["seg1"], report["hosts"]["gw1"]
    assert segment["status"] == "in_sync", segment["findings"]
    assert [f["severity"] for f in segment["findings"]] == ["info", "info"]  # scada and nms: no hits yet
    assert segment["no_hit"] == ["scada", "nms"]  # never corporate: it admits nothing by design
    assert (gateway["status"], gateway["reason"].split(":")[0]) == (
        "not_audited",
        "otnet_ports_site_igor_plan_only is true",
    )
    assert "192.0.2.10" not in result.stdout  # the gateway was never contacted
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == ["audit.json", "audit.md", "junit.xml"]
    assert "ok=" in result.stdout
    assert "changed=0" in next(line for line in result.stdout.splitlines() if line.startswith("seg1"))


def test_an_audit_in_check_mode_changes_nothing_and_says_the_same(netns, rolled_out, tmp_path):
    before = snapshot(netns, rolled_out)
    result, report = audit(netns, rolled_out, tmp_path / "audit", "--check")
    assert result.returncode == 0, result.stdout[-4000:]
    assert snapshot(netns, rolled_out) == before
    assert report["hosts"]["seg1"]["status"] == "in_sync"


def test_a_hand_deleted_element_is_drift_and_fails_the_audit_after_the_report(netns, rolled_out, tmp_path):
    nft = ["ip", "netns", "exec", netns, "nft"]
    element = "10.20.3.0/24 . udp . 161"
    subprocess.run([*nft, "delete", "element", "inet", TABLE, "conduits_v4", f"{{ {element} }}"], check=True)
    try:
        before = snapshot(netns, rolled_out)
        result, report = audit(netns, rolled_out, tmp_path / "audit")
        assert snapshot(netns, rolled_out) == before
        assert result.returncode != 0
        assert "host(s) with error or warning findings: seg1" in result.stdout
        segment = report["hosts"]["seg1"]
        assert segment["status"] == "drifted"
        drift = next(f for f in segment["findings"] if f["check"] == "drift")
        assert [(f["conduit"], f["service"], f["protocol"], f["start"]) for f in drift["flows"]["removed"]] == [
            ("nms", "snmp", "udp", 161)
        ]
        quiet, _ = audit(netns, rolled_out, tmp_path / "quiet", "-e", "otnet_ports_audit_fail_on_findings=false")
        assert quiet.returncode == 0, quiet.stdout[-3000:]
    finally:
        subprocess.run(
            [*nft, "add", "element", "inet", TABLE, "conduits_v4", f'{{ {element} comment "nms: snmp" }}'], check=True
        )


def test_an_unreachable_host_is_reported_with_ansibles_reason_never_skipped(netns, rolled_out, tmp_path):
    unreachable = {
        "ansible_host": "192.0.2.11",
        "ansible_connection": "ssh",
        "ansible_ssh_common_args": "-o ConnectTimeout=1",
        "opto22_segment_controllers": ["10.10.2.11"],
        "opto22_segment_management": {"sources": ["10.254.1.0/29"]},
    }
    extra = tmp_path / "seg2.yml"
    extra.write_text(yaml.safe_dump({"all": {"children": {"opto22_segments": {"hosts": {"seg2": unreachable}}}}}))
    before = snapshot(netns, rolled_out)
    result, report = audit(netns, rolled_out, tmp_path / "audit", "-i", str(extra))
    assert snapshot(netns, rolled_out) == before
    assert result.returncode != 0
    host = report["hosts"]["seg2"]
    assert host["status"] == "unreachable"
    assert "192.0.2.11" in host["reason"] or "timed out" in host["reason"].lower(), host["reason"]
    assert report["hosts"]["seg1"]["status"] == "in_sync"
