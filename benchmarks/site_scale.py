#!/usr/bin/env python3
"""How the site rollout scales with the number of segment routers: 1, 8 and 32 routers, in one run.

For each size N, a site shaped like examples/site: N ``opto22_segments`` hosts (seg01 ... segNN), odd ones with
fw-line1's conduits and controllers, even ones with fw-line2's, each guarding a segment of its own
(10.10.I.0/24, zone lineI; the other zones and the group/site settings as in the example). tools/lab turns it into
a netlab of N router namespaces, each with its own sshd on a management link (--mgmt-cidr, one /30 per router) and a
bridge per zone (no zone hosts: nothing is probed), and writes the lab's inventory layer. Then, for each variant
(a collection tarball and optionally another ansible.cfg, to measure a change side by side on the same lab):

* rollout: ``ansible-playbook otnet.ports.site`` (one batch: the example's canary serial is not used) with
  ``--forks N``, from no table on any router;
* no-op: the same again, which must report changed=0 on every host.

Printed per run: wall seconds, seconds per host, the ratio to N = 1 of the same variant, and the controller's CPU
seconds (ansible-playbook and the processes it waited for: workers, ssh clients). Aim: 32 routers <= 5 x 1 router.
``--profile`` adds ansible.posix's profile_tasks and prints each run's slowest tasks. Every SSH run starts with no
ControlPersist master (a control path directory of its own).

The lab is torn down after each size, and on any error, by netlab's own ``down`` (the namespace names and PIDs it
recorded). Needs root, and the collection built (``make benchmark-scale`` builds it).

    python benchmarks/site_scale.py [--sizes 1,8,32] [--variant LABEL=TARBALL[:ANSIBLE_CFG]] ... [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.lab import site, topology  # noqa: E402 - the repository root must be importable first
from tools.netlab import lab as netlab  # noqa: E402

PREFIX = "otsc"  # namespaces otsc-segNN; root links otsc-segNN (<= 15 characters)
MGMT_CIDR = "10.254.64.0/24"  # one /30 per router: room for 64
SIZES = (1, 8, 32)
AIM = 5.0  # 32 routers <= 5 x 1 router
PLAYBOOK = "otnet.ports.site"
TEMPLATES = ("fw-line1", "fw-line2")  # the example's segment hosts: odd routers copy the first, even the second
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


@dataclass
class Variant:
    label: str
    tarball: Path
    ansible_cfg: Path | None = None


@dataclass
class Run:
    seconds: float
    cpu: float
    changed: int
    failed: int
    hosts: int
    profile: list[str]


# ---- the site --------------------------------------------------------------------------------------------------


def host_name(index: int) -> str:
    return f"seg{index:02d}"


def write_site(example: Path, out: Path, count: int) -> Path:
    """examples/site with ``count`` segment hosts instead of its two (and without its Igor gateway)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(example, out, ignore=shutil.ignore_patterns("collections", "*.retry", "host_vars", "hosts.yml"))
    inventory = out / "inventory"
    hosts = {host_name(i): {"ansible_host": f"10.20.2.{100 + i}"} for i in range(1, count + 1)}
    note = f"# Written by benchmarks/site_scale.py: {count} segment routers shaped like examples/site's.\n"
    (inventory / "hosts.yml").write_text(
        note + json.dumps({"all": {"children": {"opto22_segments": {"hosts": hosts}}}})
    )
    (inventory / "group_vars" / "igor_gateways.yml").unlink(missing_ok=True)
    all_vars = inventory / "group_vars" / "all.yml"
    zones = "".join(
        f"  line{i:02d}: {{label: Line {i} controllers, networks: [10.10.{i}.0/24]}}\n" for i in range(1, count + 1)
    )
    text, found = re.subn(r"(?m)^  line[12]: .*\n", "", all_vars.read_text())
    if found != len(TEMPLATES):
        raise SystemExit(f"{all_vars}: expected the zones line1 and line2 of examples/site")
    all_vars.write_text(text.replace("otnet_ports_site_zones:\n", f"otnet_ports_site_zones:\n{zones}", 1))
    (inventory / "host_vars").mkdir()
    for i in range(1, count + 1):
        template = TEMPLATES[(i - 1) % len(TEMPLATES)]
        source = (example / "inventory" / "host_vars" / f"{template}.yml").read_text()
        line = (i - 1) % len(TEMPLATES) + 1
        (inventory / "host_vars" / f"{host_name(i)}.yml").write_text(source.replace(f"10.10.{line}.", f"10.10.{i}."))
    return out


# ---- the lab ---------------------------------------------------------------------------------------------------


def lab_up(state: Path, site_dir: Path, count: int, mgmt_cidr: str) -> tuple[topology.Lab, Path]:
    """The routers of the site (legs only, no zone hosts) as namespaces with sshd; the lab's inventory layer."""
    model = site.model(site_dir, state)
    lab = topology.build(
        model,
        site.controller_ports(site.collections(site_dir)),
        name=f"site_scale_{count}",
        mgmt_cidr=mgmt_cidr,
        prefix=PREFIX,
    )
    doc = lab.topology()
    doc["hosts"] = {}  # nothing is probed: routers, their zone bridges and sshd are what a rollout needs
    (state / "topology.json").write_text(json.dumps(doc, indent=1))
    result = netlab.up(state / "topology.json", state / "netlab", PREFIX, sys.executable)
    return lab, site.write_layer(state, Path(result["inventory"]), lab, mgmt_cidr)


def lab_down(state: Path) -> None:
    if (state / "netlab" / "state.json").exists():
        result = netlab.down(state / "netlab")
        print(f"   lab down: {len(result['namespaces'])} namespaces deleted")


def reset_routers(state: Path, lab: topology.Lab, table: str) -> None:
    """No table and no role state on any router: the next rollout starts from scratch."""
    for name in lab.routers:
        subprocess.run(
            ["ip", "netns", "exec", f"{PREFIX}-{name}", "nft", "delete", "table", "inet", table],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(state / "hosts" / name, ignore_errors=True)


# ---- the runs --------------------------------------------------------------------------------------------------


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rollout(site_dir: Path, state: Path, layer: Path, forks: int, log: Path, *, profile: bool) -> Run:
    control = state / "cp" / log.stem
    control.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    os.environ["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(control)
    if profile:
        os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks,ansible.posix.timer"
        os.environ["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "12"
    args = [PLAYBOOK, "-i", "inventory", "-i", str(layer), "--forks", str(forks)]
    try:
        cpu, started = children_cpu(), time.monotonic()
        rc, output = site.playbook(site_dir, args, log, echo=False)
        seconds, cpu = time.monotonic() - started, children_cpu() - cpu
    finally:
        os.environ.clear()
        os.environ.update(saved)
    recap = RECAP.findall(output)
    if rc != 0 or not recap:
        raise SystemExit(f"ansible-playbook failed (rc {rc}); output in {log}:\n{output[-3000:]}")
    slow = re.findall(r"^.* -+ \d+\.\d+s$", output, re.MULTILINE)
    return Run(
        seconds,
        cpu,
        changed=sum(int(r[2]) for r in recap),
        failed=sum(int(r[4]) + int(r[3]) for r in recap),
        hosts=len(recap),
        profile=slow,
    )


def measure_size(count: int, variants: list[Variant], work: Path, args: argparse.Namespace) -> dict[str, list[Run]]:
    state = work / f"n{count}"
    example = write_site(args.site, work / "gen" / f"n{count}", count)
    sites = {}
    for variant in variants:
        site_dir = site.prepare(state / variant.label, variant.tarball, example)
        if variant.ansible_cfg:
            shutil.copyfile(variant.ansible_cfg, site_dir / "ansible.cfg")
        sites[variant.label] = site_dir
    lab_down(state)
    started = time.monotonic()
    results: dict[str, list[Run]] = {}
    try:
        lab, layer = lab_up(state, sites[variants[0].label], count, args.mgmt_cidr)
        print(f"   lab up: {count} routers in {time.monotonic() - started:.1f} s")
        table = site.role_table(site.collections(sites[variants[0].label]))
        for variant in variants:
            reset_routers(state, lab, table)
            runs = []
            for kind in ("rollout", "noop"):
                log = state / "log" / f"{variant.label}-{kind}.log"
                run = rollout(sites[variant.label], state, layer, max(count, 1), log, profile=args.profile)
                if run.hosts != count or run.failed:
                    raise SystemExit(f"{kind} of {count} routers: {run.hosts} hosts in the recap, {run.failed} failed")
                if kind == "noop" and run.changed:
                    raise SystemExit(f"the no-op rerun of {count} routers changed {run.changed}; see {log}")
                print(f"   {variant.label:<10} {kind:<8} {run.seconds:6.1f} s  cpu {run.cpu:6.1f} s  (log {log})")
                if args.profile:
                    print("".join(f"      {line}\n" for line in run.profile), end="")
                runs.append(run)
            results[variant.label] = runs
    finally:
        lab_down(state)
    return results


def report(results: dict[int, dict[str, list[Run]]], variants: list[Variant]) -> bool:
    sizes = sorted(results)
    base = sizes[0]
    print("\nrouters  variant     run      wall s  s/host  ratio to N=1  cpu s  cpu s/host  changed")
    ok = True
    for kind_index, kind in enumerate(("rollout", "no-op")):
        for variant in variants:
            first = results[base][variant.label][kind_index]
            for count in sizes:
                run = results[count][variant.label][kind_index]
                ratio = run.seconds / first.seconds
                print(
                    f"{count:>7}  {variant.label:<10}  {kind:<7} {run.seconds:7.1f} {run.seconds / count:7.2f}"
                    f" {ratio:13.2f} {run.cpu:6.1f} {run.cpu / count:11.2f} {run.changed:8}"
                )
                if kind == "rollout" and count >= 32 and base == 1:
                    ok = ok and ratio <= AIM
    largest = sizes[-1]
    for variant in variants:
        ratio = results[largest][variant.label][0].seconds / results[base][variant.label][0].seconds
        verdict = "meets" if ratio <= AIM else "misses"
        print(f"{variant.label}: rollout of {largest} routers = {ratio:.2f} x {base} ({verdict} the aim <= {AIM:g} x)")
    return ok


def _variant(text: str) -> Variant:
    label, sep, rest = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_-]{0,15}", label):
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=TARBALL[:ANSIBLE_CFG], LABEL like 'before'")
    tarball, _, cfg = rest.partition(":")
    return Variant(label, Path(tarball).resolve(), Path(cfg).resolve() if cfg else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="router counts (default 1,8,32)")
    parser.add_argument("--variant", type=_variant, action="append", help="LABEL=TARBALL[:ANSIBLE_CFG], repeatable")
    parser.add_argument("--site", type=Path, default=site.EXAMPLE_SITE, help="the site to derive from")
    parser.add_argument("--state-dir", type=Path, default=REPO / ".cache" / "site-scale")
    parser.add_argument("--mgmt-cidr", default=MGMT_CIDR, help=f"management network (default {MGMT_CIDR})")
    parser.add_argument("--profile", action="store_true", help="print each run's slowest tasks (profile_tasks)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("error: the benchmark needs root (network namespaces, nftables)", file=sys.stderr)
        return 1
    variants = args.variant or [Variant("current", site.default_tarball())]
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    work = args.state_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, list[Run]]] = {}
    for count in sizes:
        print(f"== {count} router{'s' if count != 1 else ''}")
        results[count] = measure_size(count, variants, work, args)
    return 0 if report(results, variants) else 3


if __name__ == "__main__":
    sys.exit(main())
