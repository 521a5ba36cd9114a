#!/usr/bin/env python3
"""The probe matrix of the opto22_segment scenario, every expectation computed from the conduits and the catalog.

Reads JSON on stdin - ``hosts`` and ``legs`` (netlab's inventory), ``conduits``, ``outbound`` and ``management``
(``{sources, port}``; the scenario's role variables, templated), optionally ``overlay`` (site records, so conduits
and outbound entries can name site services, as with the collection's otnet_ports_overlay), ``collections`` (where
otnet.ports is installed) - and writes a netlab probe matrix (JSON) to stdout. It reads the catalog only; it does
not use the role's planner, the code under test.

Ports probed: every port the scenario knows (the controllers' listeners, the catalog ports of every service the
scenario names, its extra ports and the management port), each over TCP and UDP. Flows and expectations:

* zone host -> controller: open when a conduit whose sources hold the host admits (protocol, port) and the
  controller listens there, refused when admitted but nobody listens, otherwise dropped;
* controller -> zone host: the same with the outbound entries and their destinations;
* zone host -> zone host: not the segment's business, so never dropped - open or refused;
* zone host / controller -> the router's own address on its leg: dropped, except management SSH (TCP to the
  management port) from a host inside a management source: the guarding host admits it, but sshd listens only on
  the router's management link, so it is refused. (The scenario's management source is the management link
  itself, so every such flow of the scenario is dropped.)

Linux rate-limits the ICMP port-unreachable that makes a UDP probe "refused" (a burst of about six per peer), so at
most ``UDP_REFUSED_PER_PAIR`` expected-refused UDP flows are probed per host pair.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import sys
from collections.abc import Iterable
from typing import Any

UDP_REFUSED_PER_PAIR = 3
PROTOCOLS = ("tcp", "udp")
DIRECTIONS = {"conduits": "incoming", "outbound": "outgoing"}


def ports_of(ranges: Iterable[dict[str, int]]) -> set[int]:
    return {port for r in ranges for port in range(r["start"], r["end"] + 1)}


def admitted(catalog: Any, entries: list[dict[str, Any]], kind: str) -> list[tuple[list[Any], set[tuple[str, int]]]]:
    """Per conduit (or outbound entry): its peer networks and the (protocol, port) pairs the catalog gives it."""
    peers_key = "sources" if kind == "conduits" else "destinations"
    result = []
    for entry in entries:
        flows = {
            (record["protocol"], port)
            for record in catalog.select(
                services=entry.get("services") or [], kind="assignment", direction=DIRECTIONS[kind]
            )
            for port in range(record["start"], record["end"] + 1)
        }
        for extra in entry.get("ports") or []:
            start, end = extra.get("start", extra.get("port")), extra.get("end", extra.get("port"))
            flows |= {(extra["protocol"], port) for port in range(start, end + 1)}
        networks = [ipaddress.ip_network(peer) for peer in entry[peers_key]]
        result.append((networks, flows))
    return result


def allows(rules: list[tuple[list[Any], set[tuple[str, int]]]], address: str, protocol: str, port: int) -> bool:
    ip = ipaddress.ip_address(address)
    return any(any(ip in net for net in nets) and (protocol, port) in flows for nets, flows in rules)


def listens(host: dict[str, Any], protocol: str, port: int) -> bool:
    return port in ports_of(host["listen"][protocol])


def management_port(spec: dict[str, Any]) -> int:
    return int(spec["management"].get("port", 22))


def management_station(spec: dict[str, Any], address: str) -> bool:
    """Whether ``address`` lies inside a management source (none given: no host is a management station)."""
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(source) for source in spec["management"].get("sources") or [])


def to_router(spec: dict[str, Any], src: str, protocol: str, port: int) -> str:
    """A flow from host ``src`` to the router's own address: management SSH is admitted, and refused (sshd listens
    only on the management link); everything else is dropped."""
    ssh = protocol == "tcp" and port == management_port(spec)
    return "refused" if ssh and management_station(spec, spec["hosts"][src]["address"]) else "dropped"


def build(spec: dict[str, Any], catalog: Any) -> list[dict[str, Any]]:
    hosts, legs = spec["hosts"], spec["legs"]
    controllers = sorted(name for name, host in hosts.items() if host["kind"] == "segment")
    zone_hosts = sorted(name for name, host in hosts.items() if host["kind"] == "zone")
    conduits = admitted(catalog, spec["conduits"], "conduits")
    outbound = admitted(catalog, spec["outbound"], "outbound")
    known = {port for host in hosts.values() for protocol in PROTOCOLS for port in ports_of(host["listen"][protocol])}
    for rules in (conduits, outbound):
        known |= {port for _, flows in rules for _, port in flows}
    known.add(management_port(spec))

    matrix: list[dict[str, Any]] = []

    def add(src: str, dst: str, address: str, *, protocol: str, port: int, expect: str) -> None:
        matrix.append(
            {"src": src, "dst": dst if dst in hosts else address, "port": port, "protocol": protocol, "expect": expect}
        )

    def pair(src: str, dst: str, allowed: Any) -> None:
        refused_udp = 0
        for protocol in PROTOCOLS:
            for port in sorted(known):
                if not allowed(protocol, port):
                    add(src, dst, hosts[dst]["address"], protocol=protocol, port=port, expect="dropped")
                elif listens(hosts[dst], protocol, port):
                    add(src, dst, hosts[dst]["address"], protocol=protocol, port=port, expect="open")
                elif protocol == "tcp" or refused_udp < UDP_REFUSED_PER_PAIR:
                    refused_udp += protocol == "udp"
                    add(src, dst, hosts[dst]["address"], protocol=protocol, port=port, expect="refused")

    for src in zone_hosts:
        for dst in controllers:
            pair(src, dst, lambda protocol, port, src=src: allows(conduits, hosts[src]["address"], protocol, port))
    for src in controllers:
        for dst in zone_hosts:
            pair(src, dst, lambda protocol, port, dst=dst: allows(outbound, hosts[dst]["address"], protocol, port))
    for src in zone_hosts:
        for dst in zone_hosts:
            if hosts[src]["leg"] != hosts[dst]["leg"]:
                pair(src, dst, lambda protocol, port: True)
    for src in [*zone_hosts, *controllers]:
        gateway = legs[hosts[src]["leg"]]["gateway"]
        for protocol in PROTOCOLS:
            for port in sorted(known):
                add(src, gateway, gateway, protocol=protocol, port=port, expect=to_router(spec, src, protocol, port))
    return matrix


def main() -> int:
    spec = json.load(sys.stdin)
    sys.path.insert(0, spec["collections"])  # the installed collection, as the role under test sees it
    catalog_module = importlib.import_module("ansible_collections.otnet.ports.plugins.plugin_utils._catalog")
    catalog = catalog_module.load_catalog().with_overlay(spec.get("overlay"))  # site services resolve like vendor ones
    json.dump(build(spec, catalog), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
