"""Command line: up, down, probe, status. Results go to stdout as JSON, diagnostics to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from . import lab
from .probe import load_matrix, run_matrix
from .system import NetlabError
from .topology import TopologyError

EXIT_MISMATCH = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.netlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create the namespaces, links, sshd and listeners of a topology")
    up.add_argument("topology", type=Path, help="topology file (.json, or .yml/.yaml with PyYAML)")
    up.add_argument("--prefix", help="namespace/link name prefix (default: derived from the state directory)")
    up.add_argument("--python", help="ansible_python_interpreter for the routers (default: this python)")
    probe = sub.add_parser("probe", help="probe a matrix of flows from inside the source namespaces")
    probe.add_argument("--matrix", required=True, help="matrix file, or - for JSON on stdin")
    probe.add_argument("--timeout", type=float, default=0.6, help="seconds before a flow counts as dropped")
    probe.add_argument("--jsonl", action="store_true", help="one JSON object per line instead of an array")
    probe.add_argument("--check", action="store_true", help=f"exit {EXIT_MISMATCH} if any flow misses its expect")
    sub.add_parser("down", help="stop the lab's processes, delete its namespaces and links (idempotent)")
    sub.add_parser("status", help="show what the state directory records and whether it still runs")
    for command in sub.choices.values():
        command.add_argument("--state-dir", required=True, type=Path, help="where the lab keeps its state")
    return parser


def _print_probe(rows: list[dict[str, Any]], jsonl: bool) -> None:
    if jsonl:
        sys.stdout.writelines(json.dumps(row) + "\n" for row in rows)
    else:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
    counts = Counter(row["result"] for row in rows)
    failed = sum(1 for row in rows if row.get("ok") is False)
    print(f"netlab: {len(rows)} flows {dict(counts)}, {failed} not as expected", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            result: Any = lab.up(args.topology, args.state_dir, args.prefix, args.python)
        elif args.command == "down":
            result = lab.down(args.state_dir)
        elif args.command == "status":
            result = lab.status(args.state_dir)
        else:
            rows = run_matrix(args.state_dir, load_matrix(args.matrix), args.timeout)
            _print_probe(rows, args.jsonl)
            return EXIT_MISMATCH if args.check and any(row.get("ok") is False for row in rows) else 0
    except (NetlabError, TopologyError, OSError) as exc:
        print(f"netlab: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=1))
    return 0
