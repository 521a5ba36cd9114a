#!/usr/bin/env python3
"""How long the opto22_segment role takes to converge a router, by rule count, against a per-rule task loop.

One run, on a router namespace of its own (tools/netlab, SSH as Ansible normally reaches a host), torn down after:

* converge time (wall clock of ansible-playbook, commit-confirm on, from no table) at 10, 500 and 5,000 rules - a
  rule being one conduit that admits one source to one catalog service; goal: 5,000 rules <= 1.3 x 10 rules;
* the no-op rerun at each size (it must report changed=0);
* for comparison, the same 5,000 rules written as 50 conduits of 100 sources each;
* a per-rule loop of ``nft add rule`` tasks at 500 rules, the way a firewall is often written in Ansible; goal: the
  role >= 50 x faster.

Each role figure is the median of REPEAT runs, after one warm-up run; the task loop runs once (it takes minutes).
``--quick`` measures 10 and 5,000 rules only (no grouped run, no task loop).

Ansible's own cost of taking 5,000 conduits as variables (parsing, tagging) is printed too: the same play with one
no-op task instead of the role, at each size. The converge figures include it, as a site's run would.

Needs root, ip, nft and sshd, and the collection installed (``make benchmark-segment`` does both). Ports come from
the catalog, as the role's do.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SIZES = (10, 500, 5000)
LOOP_SIZE = 500
REPEAT = 3
GROUPED = (50, 100)  # 5,000 rules as 50 conduits x 100 sources
SERVICE = "modbus_tcp"
PREFIX = "sgbench"
TOPOLOGY = {
    "name": "segment_benchmark",
    "mgmt_cidr": "10.254.9.0/30",
    "routers": {"r1": {"groups": ["opto22_routers"], "legs": {"ctl": {"cidr": "10.10.9.0/24", "kind": "segment"}}}},
    "hosts": {"pac1": {"leg": "ctl", "address": "10.10.9.11"}},
}
CONVERGE = """\
- name: Converge the segment policy
  hosts: opto22_routers
  gather_facts: false
  roles:
    - role: otnet.ports.opto22_segment
"""
NOOP = """\
- name: The same variables, one no-op task (what Ansible itself spends on them)
  hosts: opto22_routers
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.debug:
        msg: noop
"""
LOOP = """\
- name: The same policy as one nft add rule task per rule
  hosts: opto22_routers
  gather_facts: false
  vars:
    port: "{{ (query('otnet.ports.opto22_ports', 'controllers', services=[service]) | first).start }}"
  tasks:
    - name: Create the table and chain
      ansible.builtin.command:
        argv: [nft, -f, "-"]
        stdin: |
          table inet otnet_bench_loop {
            chain forward { type filter hook forward priority filter; policy accept; }
          }
      changed_when: true
    - name: Add one rule per source
      ansible.builtin.command:
        argv: [nft, add, rule, inet, otnet_bench_loop, forward,
               ip, saddr, "{{ item }}", tcp, dport, "{{ port }}", accept]
      loop: "{{ sources }}"
      changed_when: true
    - name: Remove the table
      ansible.builtin.command:
        argv: [nft, delete, table, inet, otnet_bench_loop]
      changed_when: true
"""


def sources(count: int) -> list[str]:
    return [f"10.{64 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(count)]


def role_vars(count: int, work: Path, state: str = "present", per_conduit: int = 1) -> dict:
    addresses = sources(count)
    return {
        "opto22_segment_state": state,
        "opto22_segment_controllers": ["10.10.9.11"],
        "opto22_segment_conduits": [
            {"name": f"conduit{i}", "sources": addresses[i : i + per_conduit], "services": [SERVICE]}
            for i in range(0, count, per_conduit)
        ],
        "opto22_segment_management": {"sources": [TOPOLOGY["mgmt_cidr"]]},
        "opto22_segment_persist": False,
        "opto22_segment_rules_path": str(work / "segment.nft"),
        "opto22_segment_state_dir": str(work / "segment.state"),
    }


def env() -> dict[str, str]:
    cache = REPO / ".cache"
    defaults = {
        "ANSIBLE_COLLECTIONS_PATH": str(cache / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_HOME": str(cache / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(cache / "ansible-tmp"),
    }
    forced = {"ANSIBLE_PIPELINING": "true", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return {**defaults, **os.environ, **forced, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def playbook(inventory: str, play: Path, extra: dict, work: Path) -> tuple[float, str]:
    """Run a playbook; return its wall-clock seconds and the recap line of r1."""
    extra_file = work / "extra.json"
    extra_file.write_text(json.dumps(extra))
    argv = [str(BIN / "ansible-playbook"), "-i", inventory, str(play), "-e", f"@{extra_file}"]
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env(), cwd=REPO, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{play.name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    recap = re.search(r"^r1\s*:.*$", result.stdout, re.MULTILINE)
    return seconds, re.sub(r"\s+", " ", recap.group(0)) if recap else "?"


def netlab(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tools.netlab", *args], capture_output=True, text=True, cwd=REPO, check=False
    )
    if result.returncode != 0:
        sys.exit(f"netlab {args[0]} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 5,000 rules only: no grouped run, no task loop")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    with tempfile.TemporaryDirectory(prefix="otnet-segment-bench-") as tmp:
        work = Path(tmp)
        (work / "topology.json").write_text(json.dumps(TOPOLOGY))
        (work / "converge.yml").write_text(CONVERGE)
        (work / "noop.yml").write_text(NOOP)
        (work / "loop.yml").write_text(LOOP)
        lab = work / "lab"
        inventory = netlab("up", str(work / "topology.json"), "--state-dir", str(lab), "--prefix", PREFIX)["inventory"]
        try:
            return report(inventory, work, quick=args.quick)
        finally:
            netlab("down", "--state-dir", str(lab))


def converge_and_rerun(inventory: str, work: Path, count: int, per_conduit: int = 1) -> tuple[float, float]:
    """Median converge (from no table) and no-op rerun seconds over REPEAT runs."""
    play = work / "converge.yml"
    converge, noop = [], []
    for _ in range(REPEAT):
        playbook(inventory, play, role_vars(count, work, "absent"), work)  # start from nothing
        seconds, recap = playbook(inventory, play, role_vars(count, work, per_conduit=per_conduit), work)
        if " changed=0 " in f"{recap} ":
            sys.exit(f"the converge at {count} rules changed nothing: {recap}")
        converge.append(seconds)
        seconds, recap = playbook(inventory, play, role_vars(count, work, per_conduit=per_conduit), work)
        if " changed=0 " not in f"{recap} ":
            sys.exit(f"the rerun at {count} rules changed something: {recap}")
        noop.append(seconds)
    return statistics.median(converge), statistics.median(noop)


def noop_seconds(inventory: str, work: Path, count: int) -> float:
    """Median seconds of the no-op play given the variables of ``count`` rules."""
    return statistics.median(
        playbook(inventory, work / "noop.yml", role_vars(count, work), work)[0] for _ in range(REPEAT)
    )


def report(inventory: str, work: Path, *, quick: bool = False) -> int:
    playbook(inventory, work / "converge.yml", role_vars(10, work), work)  # warm-up: SSH, caches
    converge, noop, floor = {}, {}, {}
    sizes = (SIZES[0], SIZES[-1]) if quick else SIZES
    print(f"median of {REPEAT} runs each; ansible-playbook wall clock, SSH with pipelining, commit-confirm on")
    for count in sizes:
        converge[count], noop[count] = converge_and_rerun(inventory, work, count)
        floor[count] = noop_seconds(inventory, work, count)
        print(
            f"role converge {count:>5} rules: {converge[count]:7.2f} s    no-op rerun: {noop[count]:6.2f} s    "
            f"(a no-op play given the same variables: {floor[count]:5.2f} s)"
        )
    if not quick:
        conduits, per_conduit = GROUPED
        grouped, grouped_noop = converge_and_rerun(inventory, work, conduits * per_conduit, per_conduit)
        print(
            f"role converge {conduits * per_conduit:>5} rules as {conduits} conduits x {per_conduit} sources: "
            f"{grouped:7.2f} s    no-op rerun: {grouped_noop:6.2f} s"
        )
        playbook(inventory, work / "converge.yml", role_vars(10, work, "absent"), work)
        loop, recap = playbook(inventory, work / "loop.yml", {"sources": sources(LOOP_SIZE), "service": SERVICE}, work)
        print(f"task loop     {LOOP_SIZE:>5} rules: {loop:7.2f} s    ({loop / LOOP_SIZE:.2f} s per rule; {recap})")
    large, small = sizes[-1], sizes[0]
    scale = converge[large] / converge[small]
    print()
    print(
        f"converge 5,000 / 10 rules:             {scale:6.2f} x  (goal <= 1.3: {'met' if scale <= 1.3 else 'MISSED'})"
    )
    growth = converge[large] - converge[small]
    ansible = floor[large] - floor[small]
    print(
        f"  of the {growth:.2f} s it grows, {ansible:.2f} s is Ansible taking the variables (no-op play); "
        f"the role's own growth: {growth - ansible:.2f} s, {(converge[large] - ansible) / converge[small]:.2f} x"
    )
    if not quick:
        print(f"  as 50 conduits x 100 sources / 10:   {grouped / converge[small]:6.2f} x")
        speedup = loop / converge[LOOP_SIZE]
        verdict = "met" if speedup >= 50 else "MISSED"
        print(f"task loop / role converge, {LOOP_SIZE} rules: {speedup:6.1f} x  (goal >= 50: {verdict})")
    print(f"no-op rerun / converge, 10 rules:      {noop[small] / converge[small]:6.2f} x")
    print(f"no-op rerun / converge, 5,000 rules:   {noop[large] / converge[large]:6.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
