#!/usr/bin/env python3
"""How long ``ansible-playbook otnet.ports.plan`` takes for a large site, against a one-host site in the same run.

Two generated inventories (in a temporary directory, removed after), each planned REPEAT times after one warm-up run:

* small: one segment host with 10 conduits of one flow each (10 flows);
* large: 50 segment hosts x 20 conduits of one flow each (1,000 conduit flows);
* boundary: the aerleon render (otnet.ports.boundary_config) of one host with 5,000 conduit flows, for a few targets,
  in this process - each as a ratio to the small site's plan.

Printed: the median wall clock of each (the preflight included, as a reviewer runs it), the ratio large / small
(goal: <= 10), the cost per flow beyond the small site's, and Ansible's own floor (a play of one no-op task on the
same inventory). The hosts' addresses are in TEST-NET-1 (192.0.2.0/24): the plan contacts no host, so none is needed.

Services come from the catalog (records of one port and one protocol, without a direction): no port number here.
Needs the collection installed (``make install``) on ANSIBLE_COLLECTIONS_PATH (default: .cache/collections).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from ansible.plugins.loader import init_plugin_loader  # noqa: E402
from dev_collection import link_checkout  # noqa: E402

init_plugin_loader([str(link_checkout())])
from ansible_collections.otnet.ports.plugins.filter.boundary_config import boundary_config  # noqa: E402
from ansible_collections.otnet.ports.plugins.filter.opto22_segment_plan import opto22_segment_plan  # noqa: E402
from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog  # noqa: E402

REPEAT = 3
GOAL = 10.0
SMALL = (1, 10)  # hosts, conduits per host
LARGE = (50, 20)
BOUNDARY_FLOWS = 5000
BOUNDARY_TARGETS = ("cisco", "srx", "paloalto", "nftables")
NOOP = """\
- name: One no-op task on the same inventory (Ansible's own floor)
  hosts: all
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.set_fact:
        otnet_benchmark_noop: true
"""


def one_flow_services() -> list[str]:
    """Catalog services that a conduit opens as exactly one flow (one record, one protocol, no direction)."""
    catalog = load_catalog()
    counts: dict[str, int] = {}
    for record in catalog.select(kind="assignment"):
        if record.get("direction") is None and record["vendor"] == "opto22":
            counts[record["service"]] = counts.get(record["service"], 0) + 1
    return sorted(service for service, count in counts.items() if count == 1)


def segment_variables(index: int, conduits: int, sources: Any, services: list[str]) -> dict[str, Any]:
    """One segment host's role variables: ``conduits`` conduits, each one flow from its own /24."""
    controllers = ipaddress.ip_network(f"10.{index // 200}.{index % 200}.0/24")
    return {
        "opto22_segment_controllers": [str(controllers.network_address + 11)],
        "opto22_segment_management": {"sources": ["10.127.0.10"]},
        "opto22_segment_conduits": [
            {"name": f"c{number:04d}", "sources": [str(next(sources))], "services": [services[number % len(services)]]}
            for number in range(conduits)
        ],
    }


def inventory(directory: Path, hosts: int, conduits: int) -> Path:
    """A site of ``hosts`` segment hosts with ``conduits`` conduits each, every conduit one flow from its own /24."""
    services = one_flow_services()
    sources = ipaddress.ip_network("10.128.0.0/9").subnets(new_prefix=24)
    host_vars = {
        f"fw{index:03d}": {
            "ansible_host": str(ipaddress.ip_address("192.0.2.1") + index % 250),
            **segment_variables(index, conduits, sources, services),
        }
        for index in range(hosts)
    }
    directory.mkdir(parents=True)
    (directory / "hosts.yml").write_text(json.dumps({"all": {"children": {"opto22_segments": {"hosts": host_vars}}}}))
    return directory / "hosts.yml"


def seconds(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def median_seconds(command: list[str], cwd: Path, repeat: int) -> float:
    seconds(command, cwd)  # warm-up: bytecode, the collection's first load
    return statistics.median(seconds(command, cwd) for _ in range(repeat))


def boundary_seconds(repeat: int) -> dict[str, float]:
    """The median time of ``boundary_config`` per target for one host's plan of BOUNDARY_FLOWS conduit flows."""
    sources = ipaddress.ip_network("10.128.0.0/9").subnets(new_prefix=24)
    plan = opto22_segment_plan(segment_variables(0, BOUNDARY_FLOWS, sources, one_flow_services()))
    flow_count = sum(len(conduit["flows"]) for conduit in plan["conduits"])
    assert flow_count == BOUNDARY_FLOWS, flow_count
    timings = {}
    for target in BOUNDARY_TARGETS:
        boundary_config(plan, target)  # warm-up
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            boundary_config(plan, target)
            runs.append(time.perf_counter() - started)
        timings[target] = statistics.median(runs)
    return timings


def flows(plan_dir: Path) -> int:
    return len(json.loads((plan_dir / "flows.json").read_text())["flows"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args(argv)
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache" / "collections"))
    os.environ.setdefault("ANSIBLE_HOST_KEY_CHECKING", "false")
    playbook = [str(Path(sys.executable).parent / "ansible-playbook")]
    figures = {}
    with tempfile.TemporaryDirectory(prefix="otnet-plan-bench-") as temp:
        root = Path(temp)
        (root / "noop.yml").write_text(NOOP)
        for name, (hosts, conduits) in (("small", SMALL), ("large", LARGE)):
            hosts_file = inventory(root / name, hosts, conduits)
            plan_dir = root / f"{name}-plan"
            plan = [*playbook, "otnet.ports.plan", "-i", str(hosts_file), "-e", f"otnet_ports_plan_dir={plan_dir}"]
            noop = [*playbook, str(root / "noop.yml"), "-i", str(hosts_file)]
            figures[name] = {
                "hosts": hosts,
                "plan": median_seconds(plan, root, args.repeat),
                "noop": median_seconds(noop, root, args.repeat),
                "flows": flows(plan_dir),
            }
        boundary = boundary_seconds(args.repeat)
    small, large = figures["small"], figures["large"]
    ratio = large["plan"] / small["plan"]
    per_flow = (large["plan"] - small["plan"]) / (large["flows"] - small["flows"]) * 1000
    for name, figure in figures.items():
        print(
            f"{name:5}  {figure['hosts']:3} host(s)  {figure['flows']:5} flows  plan {figure['plan']:6.2f} s  "
            f"no-op play {figure['noop']:6.2f} s"
        )
    print(f"ratio large / small: {ratio:.2f} (goal <= {GOAL:g})  {'OK' if ratio <= GOAL else 'ABOVE GOAL'}")
    print(
        f"cost per extra flow: {per_flow:.2f} ms; plan beyond the no-op play: small "
        f"{small['plan'] - small['noop']:.2f} s, large {large['plan'] - large['noop']:.2f} s"
    )
    for target, elapsed in boundary.items():
        print(
            f"boundary render, one host, {BOUNDARY_FLOWS} flows, {target:9}: {elapsed:6.2f} s  "
            f"= {elapsed / small['plan']:.2f} x the small site's plan"
        )
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
