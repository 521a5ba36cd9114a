"""The site audit (``ansible-playbook otnet.ports.audit``) on the running lab, and its proof (``up --prove-audit``).

``run`` audits the lab as a user would, in ``STATE/site`` with the lab's inventory layers, the Igor gateways
plan-only (never contacted: the lab has no Windows), the report into ``STATE/audit``.

``prove`` (right after the rollout, before the probe matrix):
1. audit: every router ``in_sync``, every gateway ``not_audited``;
2. one TCP probe through one conduit of the first router: that conduit's counter > 0, a conduit of the same router
   the probe did not use 0;
3. ``nft delete element`` of one element of another conduit on the first router: that router ``drifted`` with that
   flow named among the removed flows, every other router still ``in_sync``;
4. the first router's table reloaded from its rules file (``nft -f``, as the boot-time unit would) and the audit
   ``in_sync`` everywhere again, so the lab is left as the rollout made it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tools.netlab.probe import run_matrix

from . import report, site, topology

AUDIT_PLAYBOOK = "otnet.ports.audit"
AUDIT_DIR = "audit"


def run(state: Path, inventory_args: list[str], name: str, *extra: str, echo: bool = False) -> tuple[int, dict]:
    """ansible-playbook otnet.ports.audit on the lab; (rc, audit.json as data, {} when none was written)."""
    out = state / AUDIT_DIR
    args = [
        AUDIT_PLAYBOOK,
        *inventory_args,
        "-e",
        f"otnet_ports_audit_dir={out}",
        "-e",
        f"otnet_ports_audit_site={name}",
    ]
    rc, _ = site.playbook(state / "site", [*args, *extra], state / "log" / "audit.log", echo=echo)
    data = out / "audit.json"
    return rc, json.loads(data.read_text()) if data.exists() else {}


def _nft(prefix: str, router: str, *args: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", f"{prefix}-{router}", "nft", *args], capture_output=True, text=True, check=True
    ).stdout


def _probe_choice(router: topology.LabRouter) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """A TCP probe row through one conduit (source host, controller, port), that conduit, and an unused conduit with
    flows whose sources do not hold the probe's source."""
    controller = next((h for h in router.hosts.values() if h.role == "controller"), None)
    for conduit in router.segment["conduits"]:
        tcp = [f for f in conduit["flows"] if f["protocol"] == "tcp"]
        source = next(
            (h for h in router.hosts.values() if h.role == "zone" and report.member(h.address, conduit["sources"])),
            None,
        )
        if not (tcp and source and controller):
            continue
        unused = next(
            (
                c["name"]
                for c in router.segment["conduits"]
                if c is not conduit and c["flows"] and not report.member(source.address, c["sources"])
            ),
            None,
        )
        if unused:
            port = topology.span(tcp[0])[0]
            row = {"src": source.name, "dst": controller.name, "port": port, "protocol": "tcp", "expect": "open"}
            return row, conduit, unused
    return None


def _element_of(prefix: str, router: str, table: str, conduit: str) -> tuple[str, dict[str, Any]] | None:
    """An IPv4 element of ``conduit`` in the live table (its nft text and the flow it stands for)."""
    listing = json.loads(_nft(prefix, router, "-j", "list", "set", "inet", table, "conduits_v4"))
    for item in listing["nftables"]:
        for raw in (item.get("set") or {}).get("elem", []):
            elem = raw["elem"] if isinstance(raw, dict) and "elem" in raw else raw
            if not str(elem.get("comment", "")).startswith(f"{conduit}: "):
                continue
            address, protocol, port = elem["val"]["concat"]
            if isinstance(address, dict) and "prefix" in address:
                address = f"{address['prefix']['addr']}/{address['prefix']['len']}"
            elif isinstance(address, dict):
                address = "-".join(address["range"])
            start, end = port["range"] if isinstance(port, dict) else (port, port)
            ports = f"{start}-{end}" if start != end else str(start)
            return f"{address} . {protocol} . {ports}", {"protocol": protocol, "start": start, "end": end}
    return None


def prove(state: Path, lab: topology.Lab, saved: dict[str, Any], inventory_args: list[str]) -> bool:
    print(
        "\n== Audit: ansible-playbook otnet.ports.audit on the lab (read-only; the Igor gateway is never contacted) =="
    )
    table = site.role_table(site.collections(state / "site"))
    prefix, name = saved["prefix"], saved["name"]
    routers = list(lab.routers)
    first = lab.routers[routers[0]]
    checks: dict[str, bool] = {}

    rc, audit = run(state, inventory_args, name)
    hosts = audit.get("hosts", {})
    segments = {h: v for h, v in hosts.items() if v["kind"] == "segment"}
    gateways = {h: v for h, v in hosts.items() if v["kind"] == "gateway"}
    checks["right after the rollout: the audit passes (rc 0)"] = rc == 0
    checks[f"every router in_sync ({', '.join(segments)})"] = bool(segments) and all(
        v["status"] == "in_sync" for v in segments.values()
    )
    checks[f"every gateway not_audited ({', '.join(gateways) or 'none'})"] = all(
        v["status"] == "not_audited" and v["reason"] for v in gateways.values()
    )

    choice = _probe_choice(first)
    if choice:
        row, conduit, unused = choice
        probed = run_matrix(state / "netlab", [row], 1.0)
        _, audit = run(state, inventory_args, name)
        counters = audit.get("hosts", {}).get(first.name, {}).get("conduits", {})
        used = counters.get(conduit["name"], {}).get("packets", 0)
        idle = counters.get(unused, {}).get("packets", -1)
        where = f"{row['src']} -> {row['dst']} {row['port']}/tcp: {probed[0]['result']}"
        checks[f"a probe through conduit {conduit['name']} ({where}): its counter > 0 ({used})"] = used > 0
        checks[f"conduit {unused}, not probed: its counter 0 ({idle})"] = idle == 0
        victim_conduit = unused
    else:
        checks["a conduit to probe and an unused one on the first router"] = False
        victim_conduit = first.segment["conduits"][0]["name"]

    element = _element_of(prefix, first.name, table, victim_conduit)
    if element:
        text, flow = element
        _nft(prefix, first.name, "delete", "element", "inet", table, "conduits_v4", f"{{ {text} }}")
        rc, audit = run(state, inventory_args, name)
        hosts = audit.get("hosts", {})
        drift = next((f for f in hosts.get(first.name, {}).get("findings", []) if f["check"] == "drift"), None)
        removed = (drift or {}).get("flows", {}).get("removed", []) if drift else []
        named = any(
            f["conduit"] == victim_conduit and f["protocol"] == flow["protocol"] and f["start"] <= flow["start"]
            for f in removed
        )
        checks[f"after `nft delete element ... {{ {text} }}` on {first.name}: the audit fails (rc {rc})"] = rc != 0
        checks[f"{first.name} drifted, the removed flow named (conduit {victim_conduit})"] = (
            hosts.get(first.name, {}).get("status") == "drifted" and named
        )
        checks["every other router still in_sync"] = all(
            hosts.get(r, {}).get("status") == "in_sync" for r in routers[1:]
        )
        rules = state / "hosts" / first.name / "opto22-segment.nft"
        subprocess.run(["ip", "netns", "exec", f"{prefix}-{first.name}", "nft", "-f", str(rules)], check=True)
        rc, audit = run(state, inventory_args, name)
        checks[f"{first.name} reloaded from its rules file: every router in_sync again"] = rc == 0 and all(
            v["status"] == "in_sync" for v in audit.get("hosts", {}).values() if v["kind"] == "segment"
        )
    else:
        checks[f"an element of conduit {victim_conduit} on {first.name}"] = False

    for what, good in checks.items():
        print(f"  {report.OK if good else report.BAD} {what}")
    print(f"  (report: {state / AUDIT_DIR}/audit.md; output: {state / 'log' / 'audit.log'})")
    return all(checks.values())
