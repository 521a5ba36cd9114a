#!/usr/bin/env python3
"""What the site audit costs against a site rollout, on the same lab, in one run.

Brings up the example site's lab (tools/lab: 2 routers reached over SSH, the Igor gateway plan-only) in a state
directory, prefix and management network of its own, then REPEAT times, each timed as the wall clock of its
ansible-playbook run:

* rollout   the site playbook after the role's table was deleted on every router (the table is loaded again);
* no-op     the site playbook again (nothing to change);
* audit     ansible-playbook otnet.ports.audit (read-only; the report written).

Prints the medians and the ratios audit / rollout and audit / no-op; goal: audit <= 0.5 x rollout. The lab is
torn down at the end, whatever happens. Needs root and the collection tarball (make build).

    .venv/bin/python benchmarks/site_audit.py [--repeat 3] [--prefix otaudb] [--mgmt-cidr 10.254.8.0/24]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.lab import site  # noqa: E402

GOAL = 0.5


def lab(*args: str, check: bool = True) -> float:
    """python -m tools.lab ARGS, its wall clock in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tools.lab", *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise SystemExit(f"tools.lab {' '.join(args)} failed (rc {result.returncode}):\n{result.stdout[-3000:]}")
    return time.monotonic() - started


def delete_tables(state: Path, prefix: str) -> None:
    table = site.role_table(site.collections(state / "site"))
    for router in json.loads((state / "topology.json").read_text())["routers"]:
        subprocess.run(
            ["ip", "netns", "exec", f"{prefix}-{router}", "nft", "delete", "table", "inet", table], check=True
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=REPO / ".cache" / "bench-audit")
    parser.add_argument("--prefix", default="otaudb")
    parser.add_argument("--mgmt-cidr", default="10.254.8.0/24")
    parser.add_argument("--tarball", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    state = args.state_dir.resolve()
    tarball = (args.tarball or site.default_tarball()).resolve()
    lab("down", "--state-dir", str(state), check=False)
    times: dict[str, list[float]] = {"rollout": [], "no-op": [], "audit": []}
    try:
        up = ["up", "--state-dir", str(state), "--tarball", str(tarball), "--prefix", args.prefix]
        lab(*up, "--mgmt-cidr", args.mgmt_cidr, "--no-explore")
        for _ in range(args.repeat):
            delete_tables(state, args.prefix)
            times["rollout"].append(lab("rollout", "--state-dir", str(state)))
            times["no-op"].append(lab("rollout", "--state-dir", str(state)))
            times["audit"].append(lab("audit", "--state-dir", str(state)))
    finally:
        lab("down", "--state-dir", str(state), check=False)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"site audit vs site rollout, lab of the example site (2 routers, 1 Igor gateway plan-only), {args.repeat} runs"
    )
    for name, value in median.items():
        print(f"  {name:8} median {value:6.1f} s   ({', '.join(f'{v:.1f}' for v in times[name])})")
    ratio = median["audit"] / median["rollout"]
    print(f"  audit / rollout = {ratio:.2f} (goal <= {GOAL}); audit / no-op = {median['audit'] / median['no-op']:.2f}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
