"""Bring a topology up in network namespaces and tear it down again.

Every namespace, root-namespace link and process is recorded in DIR/state.json *before* it is
created, so `down` can undo a partial `up`. `down` only kills recorded PIDs whose command line
still carries the recorded marker, and only deletes the recorded namespaces and links.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from . import inventory, sshd
from .system import (
    NetlabError,
    alive,
    cmdline,
    ip,
    link_exists,
    netns_list,
    ns_pids,
    require_tools,
    root_routes,
    run,
    start_in_ns,
    terminate,
    wait_for,
)
from .topology import MAX_ROOT_LINK, Host, Router, Topology, load_file, parse, resolve, uses_catalog

STATE_FILE = "state.json"
AGENT = Path(__file__).resolve().with_name("agent.py")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
HOST_INTERFACE = "eth0"
READY_TIMEOUT = 10.0
# With IPv6 legs: no duplicate address detection (addresses usable at once, nothing else is on the bridges); the
# routers forward IPv6.
IPV6_NODE = ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
IPV6_ROUTER = (*IPV6_NODE, "net.ipv6.conf.all.forwarding=1")


def default_prefix(state_dir: Path) -> str:
    """Stable per state directory, so parallel labs with different directories do not collide."""
    return "nl" + hashlib.sha256(str(state_dir).encode()).hexdigest()[:5]


def load_state(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


class Ledger:
    """DIR/state.json, rewritten before every namespace, root link or process is created."""

    def __init__(self, state_dir: Path, state: dict[str, Any]) -> None:
        self.dir = state_dir
        self.state = state
        self.save()

    def save(self) -> None:
        tmp = self.dir / f"{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        tmp.replace(self.dir / STATE_FILE)

    def record(self, key: str, value: str | dict[str, Any]) -> None:
        self.state[key].append(value)
        self.save()

    def ns(self, node: str) -> str:
        return f"{self.state['prefix']}-{node}"


# ---- up ---------------------------------------------------------------------------------------


def _preflight(topo: Topology, prefix: str) -> None:
    if not PREFIX_RE.match(prefix):
        raise NetlabError(f"prefix {prefix!r} must match {PREFIX_RE.pattern}")
    for router in topo.routers.values():
        if len(f"{prefix}-{router.name}") > MAX_ROOT_LINK:
            raise NetlabError(
                f"root link name {prefix}-{router.name} exceeds {MAX_ROOT_LINK} characters; shorten prefix/router"
            )
    wanted = {f"{prefix}-{name}" for name in [*topo.routers, *topo.hosts]}
    existing = wanted & netns_list()
    if existing:
        raise NetlabError(f"namespaces already exist (leftover lab?): {sorted(existing)}")
    for dst in root_routes():
        if dst != "default" and IPv4Network(dst, strict=False).overlaps(topo.mgmt_cidr):
            raise NetlabError(f"mgmt_cidr {topo.mgmt_cidr} overlaps root-namespace route {dst} (another lab running?)")


def _add_ns(ledger: Ledger, node: str, sysctls: tuple[str, ...]) -> str:
    ns = ledger.ns(node)
    ledger.record("namespaces", ns)
    ip("netns", "add", ns)
    if sysctls:
        run("ip", "netns", "exec", ns, "sysctl", "-qw", *sysctls)
    ip("link", "set", "lo", "up", ns=ns)
    return ns


def _add_router(ledger: Ledger, topo: Topology, router: Router) -> None:
    ns = _add_ns(ledger, router.name, ("net.ipv4.ip_forward=1", *(IPV6_ROUTER if topo.dual_stack else ())))
    for leg in router.legs.values():  # one bridge per leg; its hosts plug into it
        ip("link", "add", leg.name, "type", "bridge", ns=ns)
        ip("addr", "add", f"{leg.gateway}/{leg.network.prefixlen}", "dev", leg.name, ns=ns)
        if leg.network6 is not None:
            ip("addr", "add", f"{leg.gateway6}/{leg.network6.prefixlen}", "dev", leg.name, "nodad", ns=ns)
        ip("link", "set", leg.name, "up", ns=ns)
    root_end = ledger.ns(router.name)  # the only thing netlab creates in the root namespace
    ledger.record("root_links", root_end)
    plen = router.mgmt_network.prefixlen
    ip("link", "add", root_end, "type", "veth", "peer", "name", inventory.MGMT_INTERFACE, "netns", ns)
    ip("addr", "add", f"{router.mgmt_root}/{plen}", "dev", root_end)
    ip("link", "set", root_end, "up")
    ip("addr", "add", f"{router.mgmt_address}/{plen}", "dev", inventory.MGMT_INTERFACE, ns=ns)
    ip("link", "set", inventory.MGMT_INTERFACE, "up", ns=ns)


def _add_host(ledger: Ledger, topo: Topology, host: Host) -> None:
    ns = _add_ns(ledger, host.name, IPV6_NODE if topo.dual_stack else ())
    leg = topo.legs[host.leg]
    router_ns = ledger.ns(leg.router)
    port = f"{leg.name}-{topo.hosts_on(leg.name).index(host)}"  # bridge port in the router
    ip("link", "add", port, "type", "veth", "peer", "name", HOST_INTERFACE, "netns", ns, ns=router_ns)
    ip("link", "set", port, "master", leg.name, "up", ns=router_ns)
    ip("addr", "add", f"{host.address}/{leg.network.prefixlen}", "dev", HOST_INTERFACE, ns=ns)
    if host.address6 is not None and leg.network6 is not None:
        ip("addr", "add", f"{host.address6}/{leg.network6.prefixlen}", "dev", HOST_INTERFACE, "nodad", ns=ns)
    ip("link", "set", HOST_INTERFACE, "up", ns=ns)
    ip("route", "add", "default", "via", str(leg.gateway), ns=ns)
    if host.address6 is not None:
        ip("-6", "route", "add", "default", "via", str(leg.gateway6), ns=ns)


def _start(ledger: Ledger, name: str, node: str, argv: list[str], marker: str) -> int:
    pid = start_in_ns(ledger.ns(node), argv, ledger.dir / "log" / f"{name}.log")
    ledger.record("processes", {"name": name, "pid": pid, "marker": marker})
    return pid


def _ready(pid: int, check: Callable[[], bool], what: str) -> Callable[[], bool]:
    def probe() -> bool:
        if not alive(pid):
            raise NetlabError(f"{what} exited during start-up; see its log under the state directory")
        return check()

    return probe


def _listener_argv(host: Host, ready: Path) -> list[str]:
    def compact(ports: tuple[int, ...]) -> list[str]:
        return [f"{r['start']}-{r['end']}" for r in inventory.port_ranges(ports)]

    argv = [sys.executable, str(AGENT), "listen", "--name", host.name, "--ready-file", str(ready)]
    return [*argv, *(["--ipv6"] if host.address6 else []), "--tcp", *compact(host.tcp), "--udp", *compact(host.udp)]


def _start_processes(ledger: Ledger, topo: Topology) -> None:
    """Start every sshd and listener, then wait for all of them (they start in parallel)."""
    waits = []
    sshd.client_files(ledger.dir / "ssh")
    for router in topo.routers.values():
        config, pid_file = sshd.write_config(ledger.dir, router.name, str(router.mgmt_address))
        pid = _start(ledger, f"sshd-{router.name}", router.name, sshd.argv(config), str(config))
        waits.append(_ready(pid, pid_file.exists, f"sshd on {router.name}"))
    for host in topo.hosts.values():
        if host.tcp or host.udp:
            ready = ledger.dir / "run" / f"listen-{host.name}.ready"
            ready.unlink(missing_ok=True)
            pid = _start(ledger, f"listen-{host.name}", host.name, _listener_argv(host, ready), str(ready))
            waits.append(_ready(pid, ready.exists, f"listener on {host.name}"))
    for check in waits:
        wait_for(check, READY_TIMEOUT, "lab processes to become ready")


def load_topology(topology_file: Path) -> dict[str, Any]:
    """The topology document with its catalog references resolved (through the installed collection's catalog)."""
    raw = load_file(topology_file)
    if uses_catalog(raw):
        from . import catalog  # noqa: PLC0415 - ansible-core is needed only for catalog references

        raw = resolve(raw, catalog.selector(catalog.load()))
    return raw


def up(topology_file: Path, state_dir: Path, prefix: str | None = None, python: str | None = None) -> dict[str, Any]:
    """Create the lab described by topology_file; return a summary (prefix, inventory, namespaces).
    state.json records the resolved topology, so probes need no catalog."""
    require_tools("ip", "sysctl", "ssh-keygen", sshd.SSHD)
    state_dir = state_dir.resolve()
    if load_state(state_dir):
        raise NetlabError(f"{state_dir} already holds a lab; run `down` first")
    raw = load_topology(topology_file)
    topo = parse(raw)
    prefix = prefix or default_prefix(state_dir)
    _preflight(topo, prefix)
    for sub in ("", "run", "log", "ssh"):
        (state_dir / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    python = python or sys.executable
    inventory_file = state_dir / "inventory.yml"
    state = {"prefix": prefix, "topology": raw, "python": python, "inventory": str(inventory_file)}
    ledger = Ledger(state_dir, state | {"namespaces": [], "root_links": [], "processes": []})
    try:
        for router in topo.routers.values():
            _add_router(ledger, topo, router)
        for host in topo.hosts.values():
            _add_host(ledger, topo, host)
        _start_processes(ledger, topo)
        inventory.write(inventory_file, inventory.build(topo, prefix, state_dir, python))
    except BaseException:
        down(state_dir)
        raise
    return {"prefix": prefix, "inventory": str(inventory_file), "namespaces": ledger.state["namespaces"]}


# ---- down -------------------------------------------------------------------------------------


def _clear_namespace(ns: str) -> list[int]:
    """Kill the SSH sessions our sshd left in ns (ControlPersist); return any other PIDs still inside."""
    others = []
    for pid in ns_pids(ns):
        args = cmdline(pid)
        if args and args[0].startswith("sshd: "):
            terminate(pid, args[0])
        elif alive(pid):
            others.append(pid)
    return others


def down(state_dir: Path) -> dict[str, Any]:
    """Undo `up` (also a partial one). Safe to run twice."""
    state_dir = state_dir.resolve()
    state = load_state(state_dir)
    if state is None:
        return {"stopped": [], "namespaces": [], "links": []}
    own = f"{state['prefix']}-"
    stopped = [proc["name"] for proc in state["processes"] if terminate(proc["pid"], proc["marker"])]
    existing = netns_list()
    namespaces = [ns for ns in state["namespaces"] if ns.startswith(own) and ns in existing]
    for ns in namespaces:
        for pid in _clear_namespace(ns):
            print(f"netlab: warning: PID {pid} {cmdline(pid)} is still inside {ns}", file=sys.stderr)
    links = [link for link in state["root_links"] if link.startswith(own) and link_exists(link)]
    for link in links:
        ip("link", "del", link)
    for ns in reversed(namespaces):
        ip("netns", "del", ns)
    (state_dir / STATE_FILE).unlink()
    return {"stopped": stopped, "namespaces": namespaces, "links": links}


def status(state_dir: Path) -> dict[str, Any]:
    state = load_state(state_dir.resolve())
    if state is None:
        return {"up": False}
    existing = netns_list()
    return {
        "up": True,
        "prefix": state["prefix"],
        "inventory": state["inventory"],
        "namespaces": {ns: ns in existing for ns in state["namespaces"]},
        "processes": {p["name"]: {"pid": p["pid"], "running": alive(p["pid"])} for p in state["processes"]},
    }
