"""python -m tools.lab up|rollout|probe|audit|status|down --state-dir DIR

up       copy examples/site to DIR/site and install the collection tarball into its ./collections (offline); draw
         the site's model with otnet.ports.diagram; build a netlab of namespaces from it (one router per
         opto22_segments host, the site's zones on every router, listeners on the controllers' catalog ports); run
         the site playbook for real (the Windows part plan-only); probe every flow with real packets and print the
         report. --prove-refusal first runs the playbook with one host broken and checks that no router changed.
         --prove-audit, right after the rollout, proves the site audit (tools/lab/audit.py).
         --prove-runner then runs the site and plan playbooks through ansible-runner (AWX's engine) and checks the
         artifacts; --prove-slicing resets the routers and rolls out as 2 slice jobs at once, and checks every
         router ends as after the one full run (tools/lab/runner.py).
rollout  run the site playbook against the running lab again; extra arguments go to ansible-playbook
probe    probe every flow again and print the report
audit    ansible-playbook otnet.ports.audit against the running lab (read-only; the Igor gateway is never contacted)
runner   build an ansible-runner private data dir from the running lab (DIR/runner) and run the site playbook, then
         otnet.ports.plan, with `ansible-runner run` (process isolation off); prints where the artifacts are
status   what the lab has running
down     stop the lab's processes, delete its namespaces and links, remove DIR's lab files (idempotent)

Exit status: 0 all as expected, 3 some flow not as expected (or the refusal proof failed), 1 an error. Needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.netlab import lab as netlab
from tools.netlab.probe import run_matrix
from tools.netlab.system import NetlabError
from tools.netlab.topology import TopologyError

from . import audit as lab_audit
from . import matrix, report, site, topology
from . import runner as lab_runner

EXIT_MISMATCH = 3
DEFAULT_PREFIX = "otlab"
DEFAULT_MGMT = "10.254.0.0/24"
SITE_PLAYBOOK = "site.yml"
REFUSAL_MARK = "the rollout stops before any host changes"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.lab", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build the lab from the example site, roll out, probe, report")
    up.add_argument("--prefix", default=DEFAULT_PREFIX, help="namespace name prefix (at most 8 characters)")
    up.add_argument("--mgmt-cidr", default=DEFAULT_MGMT, help="network of the management links to the routers")
    up.add_argument("--site", type=Path, default=site.EXAMPLE_SITE, help="site directory to copy (examples/site)")
    up.add_argument("--tarball", type=Path, default=None, help="collection tarball (build/otnet-ports-*.tar.gz)")
    up.add_argument("--prove-refusal", action="store_true", help="first show a broken inventory changes no host")
    up.add_argument("--prove-audit", action="store_true", help="after the rollout, prove the site audit")
    up.add_argument("--prove-runner", action="store_true", help="then the site and plan jobs through ansible-runner")
    up.add_argument("--prove-slicing", action="store_true", help="then 2 slice jobs converge as one full run")
    up.add_argument("--no-explore", action="store_true", help="skip the how-to-look-around notes (CI tears down)")
    sub.add_parser(
        "rollout", help="run the site playbook against the lab again; other arguments (--check --diff) go to it"
    )
    sub.add_parser("probe", help="probe every flow again and print the report")
    sub.add_parser("audit", help="audit the running lab (otnet.ports.audit) and say where the report is")
    sub.add_parser("runner", help="the site and plan playbooks through ansible-runner (as AWX); artifacts' path")
    sub.add_parser("status", help="what the lab has running")
    sub.add_parser("down", help="remove the lab (idempotent)")
    for command in sub.choices.values():
        command.add_argument("--state-dir", type=Path, required=True, help="where the lab keeps everything")
        command.add_argument("--timeout", type=float, default=0.6, help="seconds before a probe counts as dropped")
    return parser


# ---- pieces ------------------------------------------------------------------------------------------------------


def _lab_file(state: Path) -> Path:
    return state / "lab.json"


def _save_lab(state: Path, data: dict[str, Any]) -> None:
    _lab_file(state).write_text(json.dumps(data, indent=1))


def _load_lab(state: Path) -> dict[str, Any]:
    if not _lab_file(state).exists():
        raise site.SiteError(f"no lab in {state}; run `up` first")
    return json.loads(_lab_file(state).read_text())


def _load_model(state: Path) -> dict[str, Any]:
    return json.loads((state / "model" / f"{site.MODEL_NAME}.json").read_text())


def _build(state: Path, saved: dict[str, Any], model: dict[str, Any]) -> topology.Lab:
    ports = site.controller_ports(site.collections(state / "site"))
    return topology.build(model, ports, name=saved["name"], mgmt_cidr=saved["mgmt_cidr"], prefix=saved["prefix"])


def _inventory_args(state: Path, *extra: Path) -> list[str]:
    args = ["-i", "inventory", "-i", str(state / "layer")]
    for layer in extra:
        args += ["-i", str(layer)]
    plans = state / "plans"
    return [*args, "-e", "otnet_ports_site_igor_plan_only=true", "-e", f"otnet_ports_site_plan_dir={plans}"]


def _router_tables(prefix: str, routers: list[str]) -> dict[str, list[str]]:
    tables = {}
    for router in routers:
        out = subprocess.run(
            ["ip", "netns", "exec", f"{prefix}-{router}", "nft", "list", "tables"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        tables[router] = [line.split()[-1] for line in out.splitlines() if line.startswith("table")]
    return tables


def _probe(
    state: Path, lab: topology.Lab, saved: dict[str, Any], model: dict[str, Any], timeout: float
) -> report.Report:
    inventory = site.load_inventory(state / "netlab" / "inventory.yml")
    out = report.Report()
    out.add(f"Lab {saved['name']}: the site playbook ran for real against {len(lab.routers)} routers in network")
    out.add(f"namespaces ({saved['prefix']}-*); every flow below was sent as real TCP/UDP packets.")
    out.add("Expected results come from the role's settings as written and the catalog (tools/netlab/flows.py,")
    out.add("the oracle molecule uses too): open = admitted and answered, dropped = the firewall dropped it,")
    out.add("refused = admitted but nobody listens there.")
    out.add()
    every: list[dict[str, Any]] = []
    for name, router in lab.routers.items():
        rows = matrix.build(name, router.segment, inventory, site.collections(state / "site"))
        probed = run_matrix(state / "netlab", rows, timeout)
        report.router_section(out, router, probed)
        every += [{"router": name, **row} for row in probed]
    (state / report.REPORT_JSON).write_text(json.dumps(every, indent=1))
    for gateway in model["gateways"]:
        plan = state / "plans" / f"{gateway['host']}.igor-plan.txt"
        out.add(f"{gateway['host']}: Windows, not in the lab - the plan the site playbook computed (plan only):")
        text = plan.read_text() if plan.exists() else "  (no plan written; did the Igor play run?)\n"
        out.lines += ["  " + line for line in text.rstrip().splitlines()]
        out.add()
    out.add(report.summary(out))
    (state / "report.txt").write_text(out.text())
    return out


def _prove_refusal(state: Path, lab: topology.Lab, saved: dict[str, Any], gateways: list[str]) -> bool:
    broken, victim = site.write_broken_layer(state, lab, gateways)
    print(f"\n== Refusal: the site playbook with {victim} (and the Igor gateways) broken; no host may change ==")
    rc, output = site.playbook(
        state / "site", [SITE_PLAYBOOK, *_inventory_args(state, broken)], state / "log" / "refusal.log", echo=False
    )
    tables = _router_tables(saved["prefix"], list(lab.routers))
    role_table = site.role_table(site.collections(state / "site"))
    files = [str(p) for p in (state / "hosts").rglob("*") if p.is_file()] if (state / "hosts").exists() else []
    checks = {
        "the playbook failed": rc != 0,
        "the preflight said why and stopped": REFUSAL_MARK in output and "modbus" in output,
        "no router has the role's table": all(role_table not in t for t in tables.values()),
        "no rules file or role state was written": not files,
    }
    for what, good in checks.items():
        print(f"  {report.OK if good else report.BAD} {what}")
    print(f"  (output: {state / 'log' / 'refusal.log'})")
    shutil.rmtree(broken)
    return all(checks.values())


# ---- commands ----------------------------------------------------------------------------------------------------


def up(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    if _lab_file(state).exists() or netlab.load_state(state / "netlab"):
        raise site.SiteError(f"{state} already holds a lab; run `down` first (make lab-down)")
    state.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"== Site directory: {state / 'site'} (examples/site, with the collection installed into ./collections)")
    site_dir = site.prepare(state, (args.tarball or site.default_tarball()).resolve(), args.site.resolve())
    print("== Site model and diagram: ansible-playbook otnet.ports.diagram (runs the preflight)")
    model = site.model(site_dir, state)
    saved = {"name": model["name"], "prefix": args.prefix, "mgmt_cidr": args.mgmt_cidr}
    lab = topology.build(
        model,
        site.controller_ports(site.collections(site_dir)),
        name=saved["name"],
        mgmt_cidr=args.mgmt_cidr,
        prefix=args.prefix,
    )
    (state / "topology.json").write_text(json.dumps(lab.topology(), indent=1))
    _save_lab(state, saved)
    print(f"== Network namespaces: {len(lab.routers)} routers, {sum(len(r.hosts) for r in lab.routers.values())} hosts")
    result = netlab.up(state / "topology.json", state / "netlab", args.prefix, sys.executable)
    site.write_layer(state, Path(result["inventory"]), lab, args.mgmt_cidr)
    refusal_ok = True
    if args.prove_refusal:
        refusal_ok = _prove_refusal(state, lab, saved, [g["host"] for g in model["gateways"]])
    print(f"\n== Rollout: cd {site_dir} && ansible-playbook {SITE_PLAYBOOK} {' '.join(_inventory_args(state))}")
    rc, _ = site.playbook(site_dir, [SITE_PLAYBOOK, *_inventory_args(state)], state / "log" / "rollout.log")
    if rc != 0:
        print(f"\nThe rollout failed (rc {rc}); output in {state / 'log' / 'rollout.log'}. The lab stays up.")
        return 1
    audit_ok = lab_audit.prove(state, lab, saved, _inventory_args(state)) if args.prove_audit else True
    routers, gateways = list(lab.routers), [g["host"] for g in model["gateways"]]
    runner_ok = lab_runner.prove(state, routers, gateways) if args.prove_runner else True
    slicing_ok = lab_runner.prove_slicing(state, args.prefix, routers) if args.prove_slicing else True
    print("\n== Probes\n")
    out = _probe(state, lab, saved, model, args.timeout)
    print(out.text(), end="")
    print(f"Took {time.monotonic() - started:.0f} s.")
    if not args.no_explore:
        _explore(state, lab, saved["prefix"])
    return 0 if out.failed == 0 and refusal_ok and audit_ok and runner_ok and slicing_ok else EXIT_MISMATCH


def _explore(state: Path, lab: topology.Lab, prefix: str) -> None:
    router = next(iter(lab.routers.values()))
    ctl = next((h for h in router.hosts.values() if h.role == "controller"), None)
    conduit = next((c for c in router.segment["conduits"] if any(f["protocol"] == "tcp" for f in c["flows"])), None)
    admitted = next(
        (
            h
            for h in router.hosts.values()
            if conduit and h.role == "zone" and report.member(h.address, conduit["sources"])
        ),
        None,
    )
    lab_cmd = f"{Path(sys.executable)} -m tools.lab"
    table = site.role_table(site.collections(state / "site"))
    pad = " " * 58
    print(f"""
The lab stays up. Look around (as root, from the repository root):
  ip netns list | grep '^{prefix}-'
{pad}its namespaces: {len(lab.routers)} routers, their zones and controllers
  ip netns exec {prefix}-{router.name} nft list table inet {table}
{pad}the rules the role loaded on {router.name}, with counters""")
    if ctl and conduit and admitted:
        port = next(topology.span(f)[0] for f in conduit["flows"] if f["protocol"] == "tcp")
        connect = f'import socket; print(socket.create_connection(("{ctl.address}", {port}), 2).recv(80))'
        print(f"""  ip netns exec {prefix}-{admitted.name} python3 -c '{connect}'
{pad}{admitted.label} to a controller through conduit {conduit["name"]}""")
    print(f"""  {lab_cmd} rollout --state-dir {state} --check --diff
{pad}the site playbook again, in check mode
  {lab_cmd} probe --state-dir {state}
{pad}probe every flow again
  {state / "site"}
{pad}the site directory (examples/site + ./collections)
  {state / "model" / site.MODEL_NAME}.svg
{pad}the site's conduit diagram (.dot, .mmd, .md next to it)
  {state / "report.txt"}  {state / report.REPORT_JSON}
{pad}this report, and every probe as JSON
Remove it: make lab-down""")


def rollout(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    _load_lab(state)
    extra = [a for a in args.playbook_args if a != "--"]
    rc, _ = site.playbook(state / "site", [SITE_PLAYBOOK, *_inventory_args(state), *extra], state / "log" / "rerun.log")
    return rc


def probe(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    saved = _load_lab(state)
    model = _load_model(state)
    out = _probe(state, _build(state, saved, model), saved, model, args.timeout)
    print(out.text(), end="")
    return 0 if out.failed == 0 else EXIT_MISMATCH


def audit(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    saved = _load_lab(state)
    rc, report_data = lab_audit.run(state, _inventory_args(state), saved["name"], echo=True)
    where = state / lab_audit.AUDIT_DIR
    print(f"\nThe audit report: {where}/audit.md ({where}/audit.json, {where}/junit.xml)")
    print(f"Summary: {json.dumps(report_data.get('summary', {}))}")
    return rc


def runner(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    _load_lab(state)
    data_dir, artifacts = lab_runner.jobs(state, echo=True)
    rc = 0
    print()
    for ident, where in artifacts.items():
        job = lab_runner.read_artifacts(where)
        rc = rc or (0 if job["status"] == "successful" and job["rc"] == 0 else 1)
        print(f"{ident}: {job['status']} (rc {job['rc']}, {job['events']} job events) - artifacts: {where}")
    print(f"The private data dir: {data_dir} (project/, inventory/, env/); artifacts: {data_dir / 'artifacts'}")
    return rc


def status(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    print(json.dumps(netlab.status(state / "netlab"), indent=1))
    return 0


def down(args: argparse.Namespace) -> int:
    state: Path = args.state_dir.resolve()
    result = netlab.down(state / "netlab") if (state / "netlab").exists() else {"namespaces": []}
    for name in ("lab.json", "topology.json", "report.txt", report.REPORT_JSON):
        (state / name).unlink(missing_ok=True)
    for name in ("layer", "broken", "hosts", "plans"):
        shutil.rmtree(state / name, ignore_errors=True)
    for data_dir in state.glob(f"{lab_runner.RUNNER_DIR}*"):
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"lab in {state} removed: {len(result['namespaces'])} namespaces deleted")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "rollout":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.playbook_args = extra
    if os.geteuid() != 0:
        print("error: the lab needs root (network namespaces, nftables). Run it as root or with sudo.", file=sys.stderr)
        return 1
    commands = {"up": up, "rollout": rollout, "probe": probe, "audit": audit, "runner": runner}
    command = {**commands, "status": status, "down": down}[args.command]
    try:
        return command(args)
    except (site.SiteError, topology.LabTopologyError, NetlabError, TopologyError, matrix.MatrixError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
