"""The flow oracle: the probe matrix of a guarded segment, every expectation computed from the opto22_segment role's
variables as written and the otnet.ports catalog. It reads the catalog (and the role's argument spec, for the
defaults of variables left unset) only; it does not use the role's planner, the code under test.

    python -m tools.netlab.flows < spec.json > matrix.json      # from the repository root

``spec.json``: ``hosts`` and ``legs`` (netlab's inventory: netlab_hosts and netlab_legs, of one router) and
``variables``: the role's variables by their full names (opto22_segment_controllers, opto22_segment_conduits,
opto22_segment_outbound, opto22_segment_management; unset ones take the argument spec's defaults) and
``otnet_ports_overlay`` (site records, so conduits and outbound entries can name site services, as in the role).
A service is a bare key (every protocol the catalog records for it) or ``{service, protocol}`` narrowed to tcp or
udp (or both); a service written twice keeps every protocol its entries name.
The catalog is the one of the otnet.ports that Ansible finds in this environment (``tools.netlab.catalog``:
ANSIBLE_COLLECTIONS_PATH), i.e. the collection the role under test runs from. The lab (tools/lab) calls ``build``
in its own process with the catalog of its site's ./collections.

Ports probed: every port the lab knows (the hosts' listeners, the catalog ports of every service the variables name,
their extra ports and the management port), each over TCP and UDP, over IPv4 and, where both ends have an IPv6
address (netlab's address6), over IPv6. Flows and expectations, per address family:

* zone host -> segment host: if the destination address is one of opto22_segment_controllers, open when a conduit
  whose sources hold the source address admits (protocol, port) and the host listens there, refused when admitted
  but nobody listens, otherwise dropped; if it is not a controller address, the segment's rules do not apply
  (open or refused) - a controller's IPv6 address left out of the controllers is not filtered;
* segment host -> zone host: the same with the outbound entries and their destinations, when the source address
  is a controller's;
* zone host -> zone host: not the segment's business, so never dropped - open or refused;
* zone host / segment host -> the router's own address on its leg: dropped, except management SSH (TCP to the
  management port) from a host inside a management source: the guarding host admits it, but sshd listens only on
  the router's management link, so it is refused.

Linux rate-limits the ICMP port-unreachable that makes a UDP probe "refused" (a burst of about six per peer), so at
most ``UDP_REFUSED_PER_PAIR`` expected-refused UDP flows are probed per host pair and family.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import catalog as catalog_loader
from .system import NetlabError
from .topology import FAMILIES, PROTOCOLS

UDP_REFUSED_PER_PAIR = 3
DIRECTIONS = {"conduits": "incoming", "outbound": "outgoing"}
PEERS = {"conduits": "sources", "outbound": "destinations"}
NARROWED = {"tcp": {"tcp"}, "udp": {"udp"}, "both": {"tcp", "udp"}}  # a service entry's protocol -> what it keeps
ROLE = "opto22_segment"
OVERLAY = "otnet_ports_overlay"
VARIABLES = tuple(f"{ROLE}_{name}" for name in ("controllers", "conduits", "outbound", "management"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Rules = list[tuple[list[Network], set[tuple[str, int]]]]


class FlowError(ValueError):
    """The oracle's input is incomplete or malformed."""


@dataclass(frozen=True)
class Policy:
    """What the role's variables say, as networks and (protocol, port) pairs."""

    controllers: list[Network]
    conduits: Rules
    outbound: Rules
    management_sources: list[Network]
    management_port: int

    def guards(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self.controllers)

    def station(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self.management_sources)


def ports_of(ranges: Iterable[Mapping[str, int]]) -> set[int]:
    return {port for r in ranges for port in range(r["start"], r["end"] + 1)}


def _networks(values: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(str(value), strict=False) for value in values]


def wanted(services: Iterable[Any]) -> dict[str, set[str] | None]:
    """Service key -> the protocols its entries keep (None: a bare key, every protocol the catalog records)."""
    result: dict[str, set[str] | None] = {}
    for item in services:
        if isinstance(item, Mapping):
            try:
                service, protocols = str(item["service"]), NARROWED[item["protocol"]]
            except (KeyError, TypeError) as exc:
                raise FlowError(f"a service entry is a key or {{service, protocol}}: {item!r}") from exc
        else:
            service, protocols = str(item), None
        known = result.get(service, set())
        result[service] = None if protocols is None or known is None else known | protocols
    return result


def admitted(catalog: Any, entries: list[Mapping[str, Any]], kind: str) -> Rules:
    """Per conduit (or outbound entry): its peer networks and the (protocol, port) pairs the catalog gives it."""
    result = []
    for entry in entries:
        flows = set()
        for service, protocols in wanted(entry.get("services") or []).items():
            records = catalog.select(services=[service], kind="assignment", direction=DIRECTIONS[kind])
            flows |= {
                (r["protocol"], port)
                for r in records
                if protocols is None or r["protocol"] in protocols
                for port in range(r["start"], r["end"] + 1)
            }
        for extra in entry.get("ports") or []:
            start, end = extra.get("start", extra.get("port")), extra.get("end", extra.get("port"))
            flows |= {(extra["protocol"], port) for port in range(int(start), int(end) + 1)}
        result.append((_networks(entry[PEERS[kind]]), flows))
    return result


def allows(rules: Rules, address: str, protocol: str, port: int) -> bool:
    ip = ipaddress.ip_address(address)
    return any(any(ip in net for net in nets) and (protocol, port) in flows for nets, flows in rules)


@functools.cache
def role_defaults() -> dict[str, Any]:
    """The defaults of the role's variables (and of their suboptions) from its meta/argument_specs.yml, as installed
    with the catalog's collection."""
    import yaml  # noqa: PLC0415 - Ansible's dependency, present wherever the catalog is

    path = catalog_loader.collection_root() / "roles" / ROLE / "meta" / "argument_specs.yml"
    options = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    return {name: _default(spec) for name, spec in options.items()}


def _default(spec: Mapping[str, Any]) -> Any:
    default = spec.get("default")
    if isinstance(default, dict) and spec.get("options"):
        subs = {name: sub["default"] for name, sub in spec["options"].items() if "default" in sub}
        return {**subs, **default}
    return default


def settings(variables: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The variables the oracle reads, unset ones (and unset suboptions of a dict) from the defaults."""
    found = {}
    for name in VARIABLES:
        value = variables.get(name, defaults.get(name))
        if isinstance(value, dict) and isinstance(defaults.get(name), dict):
            value = {**defaults[name], **value}
        if value is None:
            raise FlowError(f"{name} is not set and has no default")
        found[name] = value
    return found


def policy(variables: Mapping[str, Any], catalog: Any, defaults: Mapping[str, Any]) -> Policy:
    values = settings(variables, defaults)
    management = values[f"{ROLE}_management"]
    try:
        return Policy(
            controllers=_networks(values[f"{ROLE}_controllers"]),
            conduits=admitted(catalog, values[f"{ROLE}_conduits"], "conduits"),
            outbound=admitted(catalog, values[f"{ROLE}_outbound"], "outbound"),
            management_sources=_networks(management.get("sources") or []),
            management_port=int(management["port"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FlowError(f"the role's variables: {exc!r}") from exc


class _Matrix:
    """The rows, with the per-pair cap on expected-refused UDP flows."""

    def __init__(self, hosts: Mapping[str, Any], known: list[int]) -> None:
        self.hosts, self.known, self.rows = hosts, known, []

    def add(self, src: str, dst: str, family: int, *, protocol: str, port: int, expect: str) -> None:
        self.rows.append(
            {"src": src, "dst": dst, "family": family, "port": port, "protocol": protocol, "expect": expect}
        )

    def pair(self, src: str, dst: str, family: int, allowed: Callable[[str, int], bool]) -> None:
        refused_udp = 0
        listen = self.hosts[dst]["listen"]
        for protocol in PROTOCOLS:
            for port in self.known:
                if not allowed(protocol, port):
                    expect = "dropped"
                elif port in ports_of(listen[protocol]):
                    expect = "open"
                elif protocol == "tcp" or refused_udp < UDP_REFUSED_PER_PAIR:
                    refused_udp += protocol == "udp"
                    expect = "refused"
                else:
                    continue
                self.add(src, dst, family, protocol=protocol, port=port, expect=expect)


def address(host: Mapping[str, Any], family: int) -> str | None:
    return host.get("address") if family == 4 else host.get("address6")


def _unguarded(protocol: str, port: int) -> bool:
    return True


def _known_ports(hosts: Mapping[str, Any], rules: Policy) -> list[int]:
    known = {port for host in hosts.values() for protocol in PROTOCOLS for port in ports_of(host["listen"][protocol])}
    for entries in (rules.conduits, rules.outbound):
        known |= {port for _, flows in entries for _, port in flows}
    return sorted(known | {rules.management_port})


def _segment_pairs(matrix: _Matrix, family: int, segment: list[str], zone: list[str], rules: Policy) -> None:
    """Zone hosts to segment hosts (conduits) and back (outbound), where the segment end is a controller."""
    hosts = matrix.hosts
    for outer, inner, kind in ((zone, segment, "conduits"), (segment, zone, "outbound")):
        for src in outer:
            for dst in inner:
                src_ip, dst_ip = address(hosts[src], family), address(hosts[dst], family)
                if not (src_ip and dst_ip):
                    continue
                controller, peer = (dst_ip, src_ip) if kind == "conduits" else (src_ip, dst_ip)
                check = functools.partial(allows, getattr(rules, kind), peer)
                matrix.pair(src, dst, family, check if rules.guards(controller) else _unguarded)


def _router_flows(matrix: _Matrix, family: int, sources: list[str], legs: Mapping[str, Any], rules: Policy) -> None:
    """Each host to the router's own address on its leg: dropped, but management SSH from a station refused."""
    for src in sources:
        src_ip = address(matrix.hosts[src], family)
        gateway = legs[matrix.hosts[src]["leg"]].get("gateway" if family == 4 else "gateway6")
        if not (src_ip and gateway):
            continue
        for protocol in PROTOCOLS:
            for port in matrix.known:
                ssh = protocol == "tcp" and port == rules.management_port and rules.station(src_ip)
                matrix.add(src, gateway, family, protocol=protocol, port=port, expect="refused" if ssh else "dropped")


def build(hosts: Mapping[str, Any], legs: Mapping[str, Any], rules: Policy) -> list[dict[str, Any]]:
    """The probe matrix (netlab's format, with ``family``) of one router's hosts and legs under ``rules``."""
    segment = sorted(name for name, host in hosts.items() if host["kind"] == "segment")
    zone = sorted(name for name, host in hosts.items() if host["kind"] == "zone")
    matrix = _Matrix(hosts, _known_ports(hosts, rules))
    for family in FAMILIES:
        _segment_pairs(matrix, family, segment, zone, rules)
        for src in zone:
            for dst in zone:
                both = address(hosts[src], family) and address(hosts[dst], family)
                if both and hosts[src]["leg"] != hosts[dst]["leg"]:
                    matrix.pair(src, dst, family, _unguarded)
        _router_flows(matrix, family, [*zone, *segment], legs, rules)
    return matrix.rows


def expectations(spec: Mapping[str, Any], catalog: Any, defaults: Mapping[str, Any] | None = None) -> list[dict]:
    """The matrix of ``spec`` ({hosts, legs, variables}) with ``catalog`` (the overlay is added here)."""
    try:
        hosts, legs, variables = spec["hosts"], spec["legs"], spec["variables"]
    except (KeyError, TypeError) as exc:
        raise FlowError(f"the oracle's input needs hosts, legs and variables: {exc!r}") from exc
    overlay = variables.get(OVERLAY)
    rules = policy(variables, catalog.with_overlay(overlay) if overlay else catalog, defaults or role_defaults())
    return build(hosts, legs, rules)


def main() -> int:
    try:
        json.dump(expectations(json.load(sys.stdin), catalog_loader.load()), sys.stdout)
    except (FlowError, NetlabError, ValueError) as exc:
        print(f"flows: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
