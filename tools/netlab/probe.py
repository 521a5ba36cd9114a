"""Run a probe matrix: one agent per source namespace, all namespaces in parallel.

A matrix is a JSON (or YAML file) list of flows, or a mapping with a ``flows`` list:

    [{"src": "scada1", "dst": "pac1", "port": 502, "protocol": "tcp", "expect": "open"},
     {"src": "scada1", "dst": "pac1", "family": 6, "port": 502, "protocol": "tcp", "expect": "open"},
     {"src": "corp1", "dst": "10.10.1.11", "port": "2001-2003", "protocol": "udp"}]

src is a host or router name; dst a host name or an address inside 10.0.0.0/8 or 2001:db8::/32; family (4, the
default, or 6) picks a host's address (address or address6), an address has its own; port an int or "a-b" range
(expanded to one flow per port); expect (optional) is compared with the result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .agent import parse_ports
from .lab import AGENT, load_state
from .system import NetlabError
from .topology import FAMILIES, Topology, TopologyError, address_in_lab, load_file, parse

RESULTS = ("open", "dropped", "refused", "error")


def load_matrix(source: str) -> list[dict[str, Any]]:
    data = json.load(sys.stdin) if source == "-" else load_file(Path(source))
    if isinstance(data, dict):
        data = data.get("flows")
    if not isinstance(data, list):
        raise TopologyError("a probe matrix is a list of flows (or a mapping with a 'flows' list)")
    return data


def _resolve(topo: Topology, prefix: str, row: dict[str, Any]) -> tuple[str, str, int]:
    src, dst, family = str(row.get("src")), str(row.get("dst")), row.get("family", 4)
    if src not in topo.hosts and src not in topo.routers:
        raise TopologyError(f"flow {row}: src {src!r} is not a host or router of the lab")
    if family not in FAMILIES:
        raise TopologyError(f"flow {row}: family must be one of {FAMILIES}")
    address = topo.hosts[dst].address_of(family) if dst in topo.hosts else address_in_lab(dst)
    if address is None:
        raise TopologyError(f"flow {row}: host {dst} has no IPv{family} address")
    if address.version != family and "family" in row:
        raise TopologyError(f"flow {row}: {address} is not an IPv{family} address")
    return f"{prefix}-{src}", str(address), address.version


def expand(topo: Topology, prefix: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flow per port, with the source namespace and target address resolved."""
    flows = []
    for row in rows:
        if not isinstance(row, dict):
            raise TopologyError(f"flow {row!r}: expected a mapping")
        if row.get("protocol") not in ("tcp", "udp"):
            raise TopologyError(f"flow {row}: protocol must be tcp or udp")
        if row.get("expect") not in (None, *RESULTS):
            raise TopologyError(f"flow {row}: expect must be one of {RESULTS}")
        ns, address, family = _resolve(topo, prefix, row)
        try:
            ports = parse_ports([row.get("port", "")])
        except ValueError as exc:
            raise TopologyError(f"flow {row}: {exc}") from exc
        for port in ports:
            flow = {"src": row["src"], "dst": row["dst"], "family": family, "address": address, "port": port}
            flows.append(flow | {"protocol": row["protocol"], "ns": ns, "expect": row.get("expect")})
    return flows


def _run_agent(ns: str, flows: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    payload = [{"id": f["id"], "address": f["address"], "port": f["port"], "protocol": f["protocol"]} for f in flows]
    argv = ["ip", "netns", "exec", ns, sys.executable, str(AGENT), "probe", "--timeout", str(timeout)]
    proc = subprocess.run(argv, input=json.dumps(payload), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NetlabError(f"probe agent in {ns} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def run_matrix(state_dir: Path, rows: list[dict[str, Any]], timeout: float = 0.6) -> list[dict[str, Any]]:
    """Probe every flow; return rows {src, dst, family, address, port, protocol, result, detail[, expect, ok]}."""
    state = load_state(state_dir.resolve())
    if state is None:
        raise NetlabError(f"no lab is up in {state_dir}")
    flows = expand(parse(state["topology"]), state["prefix"], rows)
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for index, flow in enumerate(flows):
        by_ns.setdefault(flow["ns"], []).append(flow | {"id": index})
    with ThreadPoolExecutor(max_workers=max(1, len(by_ns))) as pool:
        answers = pool.map(lambda item: _run_agent(item[0], item[1], timeout), by_ns.items())
        results = {answer["id"]: answer for batch in answers for answer in batch}
    out = []
    for index, flow in enumerate(flows):
        row = {key: flow[key] for key in ("src", "dst", "family", "address", "port", "protocol")}
        row |= {"result": results[index]["result"], "detail": results[index]["detail"]}
        if flow["expect"]:
            row |= {"expect": flow["expect"], "ok": flow["expect"] == row["result"]}
        out.append(row)
    return out
