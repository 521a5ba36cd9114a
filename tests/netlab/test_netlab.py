"""The netlab harness end to end: real namespaces, real packets over IPv4 and IPv6, one nft rule inside a lab
namespace.

Needs root, ip(8), nft and sshd; skipped otherwise. Uses mgmt 10.254.2.0/30 so it can run next to
the molecule scenario (10.254.1.0/29).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.netlab.system import alive

REPO = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"
MGMT_ADDRESS = "10.254.2.2"
TOPOLOGY = {
    "name": "netlab-selftest",
    "mgmt_cidr": "10.254.2.0/30",
    "routers": {
        "r1": {
            "legs": {
                "ctl": {"cidr": "10.99.1.0/24", "cidr6": "2001:db8:99:1::/64", "kind": "segment"},
                "ops": {"cidr": "10.99.2.0/24", "cidr6": "2001:db8:99:2::/64"},
            }
        }
    },
    "hosts": {
        "pac": {
            "leg": "ctl",
            "address": "10.99.1.11",
            "address6": "2001:db8:99:1::11",
            "listen": {"tcp": [502], "udp": ["2001-2002"]},
        },
        "hmi": {"leg": "ops", "address": "10.99.2.10", "address6": "2001:db8:99:2::10"},
    },
}
TEST_TABLE = "netlab_selftest"
DROP_502 = f"""
table inet {TEST_TABLE} {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport 502 drop
  }}
}}
"""


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "nft", "ssh-keygen", "sysctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None if Path(SSHD).exists() else f"{SSHD} is not installed (Debian package openssh-server)"


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def netlab(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "tools.netlab", *args]
    return subprocess.run(argv, cwd=REPO, input=stdin, capture_output=True, text=True, check=False)


def probe(state_dir: Path, *flows: tuple[str, int, str], family: int = 4) -> list[str]:
    matrix = [{"src": "hmi", "dst": "pac", "family": family, "port": port, "protocol": p} for _, port, p in flows]
    done = netlab("probe", "--state-dir", str(state_dir), "--matrix", "-", stdin=json.dumps(matrix))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {row["family"] for row in rows} == {family}
    return [row["result"] for row in rows]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state_dir = tmp_path_factory.mktemp("netlab")
    topology = state_dir.parent / "topology.json"
    topology.write_text(json.dumps(TOPOLOGY))
    done = netlab("up", str(topology), "--state-dir", str(state_dir))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    yield {"dir": state_dir, "prefix": summary["prefix"], "state": json.loads((state_dir / "state.json").read_text())}
    netlab("down", "--state-dir", str(state_dir))  # no-op when test_down already ran


@pytest.mark.parametrize("family", [4, 6])
def test_listener_answers(lab: dict[str, Any], family: int) -> None:
    flows = (("pac", 502, "tcp"), ("pac", 2001, "udp"), ("pac", 2002, "udp"))
    assert probe(lab["dir"], *flows, family=family) == ["open"] * 3


@pytest.mark.parametrize("family", [4, 6])
def test_unused_port_is_refused(lab: dict[str, Any], family: int) -> None:
    assert probe(lab["dir"], ("pac", 503, "tcp"), ("pac", 2003, "udp"), family=family) == ["refused", "refused"]


def test_ipv6_probes_use_the_hosts_ipv6_addresses(lab: dict[str, Any]) -> None:
    matrix = [{"src": "hmi", "dst": "pac", "family": 6, "port": 502, "protocol": "tcp"}]
    done = netlab("probe", "--state-dir", str(lab["dir"]), "--matrix", "-", stdin=json.dumps(matrix))
    (row,) = json.loads(done.stdout)
    assert (row["address"], row["result"]) == ("2001:db8:99:1::11", "open")
    by_address = [{"src": "hmi", "dst": "2001:db8:99:1::11", "port": 502, "protocol": "tcp"}]
    done = netlab("probe", "--state-dir", str(lab["dir"]), "--matrix", "-", stdin=json.dumps(by_address))
    assert [(r["family"], r["result"]) for r in json.loads(done.stdout)] == [(6, "open")]


def test_nft_drop_in_controller_namespace_turns_flow_dropped(lab: dict[str, Any]) -> None:
    ns = f"{lab['prefix']}-pac"
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=DROP_502, text=True, check=True)
    try:
        for family in (4, 6):  # an inet table: the rule matches both families
            assert probe(lab["dir"], ("pac", 502, "tcp"), ("pac", 2001, "udp"), family=family) == ["dropped", "open"]
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", TEST_TABLE], check=True)
    assert probe(lab["dir"], ("pac", 502, "tcp")) == ["open"]
    assert probe(lab["dir"], ("pac", 502, "tcp"), family=6) == ["open"]


def test_sshd_answers_on_the_management_address(lab: dict[str, Any]) -> None:
    with socket.create_connection((MGMT_ADDRESS, 22), timeout=2) as sock:
        assert sock.recv(64).startswith(b"SSH-2.0-")


def test_inventory_describes_routers_and_zones(lab: dict[str, Any]) -> None:
    inventory = yaml.safe_load((lab["dir"] / "inventory.yml").read_text())["all"]
    router = inventory["children"]["netlab_routers"]["hosts"]["r1"]
    assert router["ansible_host"] == MGMT_ADDRESS
    assert Path(router["ansible_ssh_private_key_file"]).is_file()
    assert inventory["vars"]["netlab_controllers"] == {"pac": "10.99.1.11"}
    assert inventory["vars"]["netlab_legs"]["ops"]["hosts"] == {"hmi": "10.99.2.10"}
    assert inventory["vars"]["netlab_hosts"]["pac"]["listen"]["udp"] == [{"start": 2001, "end": 2002}]
    assert inventory["vars"]["netlab_controllers6"] == {"pac": "2001:db8:99:1::11"}
    ops = inventory["vars"]["netlab_legs"]["ops"]
    assert (ops["cidr6"], ops["gateway6"], ops["hosts6"]) == (
        "2001:db8:99:2::/64",
        "2001:db8:99:2::1",
        {"hmi": "2001:db8:99:2::10"},
    )


def test_the_router_forwards_ipv6_and_dad_is_off(lab: dict[str, Any]) -> None:
    def sysctl(node: str, key: str) -> str:
        argv = ["ip", "netns", "exec", f"{lab['prefix']}-{node}", "sysctl", "-n", key]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    assert sysctl("r1", "net.ipv6.conf.all.forwarding") == "1"
    assert sysctl("pac", "net.ipv6.conf.eth0.accept_dad") == "0"
    argv = ["ip", "-n", f"{lab['prefix']}-pac", "-6", "-j", "addr", "show", "dev", "eth0"]
    addresses = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)[0]["addr_info"]
    assert not [a for a in addresses if a.get("tentative")]


@pytest.mark.parametrize("target", ["192.0.2.1", "fd00::1", "2001:db9::1"])
def test_probe_refuses_targets_outside_the_lab_range(lab: dict[str, Any], target: str) -> None:
    matrix = json.dumps([{"src": "hmi", "dst": target, "port": 80, "protocol": "tcp"}])
    done = netlab("probe", "--state-dir", str(lab["dir"]), "--matrix", "-", stdin=matrix)
    assert done.returncode == 1
    assert "10.0.0.0/8 and 2001:db8::/32" in done.stderr


def test_down_removes_everything_and_is_idempotent(lab: dict[str, Any]) -> None:
    pids = [proc["pid"] for proc in lab["state"]["processes"]]
    assert len(pids) == 2  # sshd on r1, listener on pac
    for _ in range(2):
        done = netlab("down", "--state-dir", str(lab["dir"]))
        assert done.returncode == 0, done.stderr
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert lab["prefix"] not in namespaces
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    assert lab["prefix"] not in links
    assert not [pid for pid in pids if alive(pid)]
