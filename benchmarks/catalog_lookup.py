#!/usr/bin/env python3
"""Cost of a catalog lookup inside a Jinja loop, as a ratio to a trivial lookup measured in the same run.

Goal: <= 2x. Both loops are rendered by Ansible's own templar in this process, interleaved over several rounds so
machine noise hits both alike; the figure is the ratio of the medians. The catalog must be parsed and
schema-checked once per process, whatever the number of lookups: the script checks that too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

REPO = Path(__file__).resolve().parents[1]
GOAL = 2.0  # each catalog lookup at most this many times the trivial lookup (issue 9)
LOOPS = {
    "trivial lookup (ansible.builtin.items)": (
        "{% for i in range(N) %}{{ query('ansible.builtin.items', i) | length }}{% endfor %}"
    ),
    "catalog lookup (otnet.ports.opto22_ports groov)": (
        "{% for i in range(N) %}{{ query('otnet.ports.opto22_ports', 'groov') | length }}{% endfor %}"
    ),
    "catalog lookup (otnet.ports.igor_ports gateway, version + direction)": (
        "{% for i in range(N) %}"
        "{{ query('otnet.ports.igor_ports', 'gateway', version='1.12.1', direction='incoming') | length }}"
        "{% endfor %}"
    ),
    "catalog lookup (otnet.ports.igor_exclusions paths, install_dir)": (
        "{% for i in range(N) %}"
        "{{ query('otnet.ports.igor_exclusions', 'paths', install_dir='D:\\Igor') | length }}"
        "{% endfor %}"
    ),
}


def render_seconds(templar: Templar, template: str, iterations: int) -> float:
    source = trust_as_template(template.replace("range(N)", f"range({iterations})"))
    start = time.perf_counter()
    templar.template(source)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="lookups per loop")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the median is reported")
    args = parser.parse_args(argv)

    paths = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache" / "collections")).split(os.pathsep)
    init_plugin_loader(paths)
    from ansible_collections.otnet.ports.plugins.plugin_utils import _catalog  # noqa: PLC0415 - after the loader

    templar = Templar(loader=DataLoader(), variables={})
    for template in LOOPS.values():
        render_seconds(templar, template, 50)  # warm up: plugin loading, catalog parse
    samples: dict[str, list[float]] = {name: [] for name in LOOPS}
    for _ in range(args.rounds):
        for name, template in LOOPS.items():
            samples[name].append(render_seconds(templar, template, args.iterations))

    baseline_name = next(iter(LOOPS))
    baseline = statistics.median(samples[baseline_name])
    print(f"{args.iterations} lookups per loop, median of {args.rounds} interleaved rounds; goal <= {GOAL:g}x each")
    for name, values in samples.items():
        median = statistics.median(values)
        per_call = median / args.iterations * 1e6
        ratio = median / baseline
        mark = "" if name == baseline_name else ("  ok" if ratio <= GOAL else f"  OVER the {GOAL:g}x goal")
        print(f"  {name:<68} {per_call:8.1f} us/lookup  {ratio:5.2f}x{mark}")
    parses = _catalog._load_catalog.cache_info().misses
    print(
        f"catalog parsed and schema-checked {parses} time(s) for {args.rounds * len(LOOPS) * args.iterations} lookups"
    )
    worst = max(statistics.median(v) for v in samples.values()) / baseline
    verdict = "meets" if worst <= GOAL and parses == 1 else "MISSES"
    print(
        f"{verdict} the goal: worst catalog lookup {worst:.2f}x the trivial lookup (goal <= {GOAL:g}x), "
        "one parse per process"
    )
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    sys.exit(main())
