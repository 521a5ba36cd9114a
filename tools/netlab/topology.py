"""Topology file: load (JSON, or YAML when PyYAML is importable), resolve catalog references, validate.

    name: demo                      # optional, informational
    mgmt_cidr: 10.254.0.0/24        # optional; one /30 per router: .1 = root-namespace end, .2 = router
    routers:
      r1:
        groups: [opto22_routers]    # optional extra inventory groups
        legs:                       # leg name = bridge/interface name in the router (<= 12 chars)
          ctl: {cidr: 10.10.1.0/24, kind: segment, cidr6: 2001:db8:10:1::/64}  # kind: segment | zone (default)
          scada: {cidr: 10.20.1.0/24, gateway: 10.20.1.254}   # gateway(6): router address, default first host
    hosts:                          # one namespace each, default route(s) via its leg's gateway(s)
      pac1: {leg: ctl, address: 10.10.1.11, address6: 2001:db8:10:1::11, listen: {catalog: [{vendor: opto22}]}}
      scada1: {leg: scada, address: 10.20.1.10, listen: {tcp: [8080], udp: ["5000-5001"]}}

IPv4 networks lie inside 10.0.0.0/8, IPv6 ones (``cidr6``, optional, makes a leg dual-stack) inside the
documentation prefix 2001:db8::/32. A host on a dual-stack leg may have an ``address6``. Leg names are unique
across routers. Host addresses are unique across the lab, or only among one router's hosts with
``address_scope: router`` (routers are never linked to each other, so each router's copy of a site zone can carry
the site's own addresses).

``listen.catalog`` names ports by the otnet.ports catalog instead of by number: a list of selectors (keys of
``Catalog.select``: vendor, tables, services, protocol, direction, kind), each adding the ports of the records it
selects; a range wider than ``SAMPLE_WIDER_THAN`` ports is listened on at its first and last port. ``resolve``
replaces them by tcp/udp lists (``netlab up`` does, with the catalog of the installed collection); ``parse`` only
takes resolved documents.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path
from typing import Any

from .agent import parse_ports

LAB_RANGE = IPv4Network("10.0.0.0/8")
LAB_RANGE6 = IPv6Network("2001:db8::/32")  # the IPv6 documentation prefix (RFC 3849)
FAMILIES = (4, 6)
DEFAULT_MGMT = "10.254.0.0/24"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
MAX_NAME = 32  # router and host names
MAX_ROOT_LINK = 15  # Linux's interface name limit, which a router's root-namespace link PREFIX-ROUTER must fit
MAX_LEG_NAME = 12  # leaves room for "-NN" bridge-port suffixes inside the 15-char interface limit
KINDS = ("segment", "zone")
ADDRESS_SCOPES = ("lab", "router")
CATALOG_SELECTORS = ("vendor", "tables", "services", "protocol", "direction", "kind")
SAMPLE_WIDER_THAN = 8  # a catalog range wider than this is listened on (and probed) at its first and last port
PROTOCOLS = ("tcp", "udp")


class TopologyError(ValueError):
    """The topology file (or a probe matrix) is invalid."""


@dataclass(frozen=True)
class Leg:
    name: str
    router: str
    kind: str
    network: IPv4Network
    gateway: IPv4Address
    network6: IPv6Network | None = None
    gateway6: IPv6Address | None = None


@dataclass(frozen=True)
class Host:
    name: str
    leg: str
    address: IPv4Address
    tcp: tuple[int, ...] = ()
    udp: tuple[int, ...] = ()
    address6: IPv6Address | None = None

    def address_of(self, family: int) -> IPv4Address | IPv6Address | None:
        return self.address if family == 4 else self.address6


@dataclass(frozen=True)
class Router:
    name: str
    groups: tuple[str, ...]
    mgmt_network: IPv4Network
    legs: dict[str, Leg] = field(default_factory=dict)

    @property
    def mgmt_root(self) -> IPv4Address:
        return self.mgmt_network.network_address + 1

    @property
    def mgmt_address(self) -> IPv4Address:
        return self.mgmt_network.network_address + 2


@dataclass(frozen=True)
class Topology:
    name: str
    mgmt_cidr: IPv4Network
    routers: dict[str, Router]
    hosts: dict[str, Host]
    address_scope: str = "lab"  # "router": host addresses need only be unique among one router's hosts

    @property
    def legs(self) -> dict[str, Leg]:
        return {name: leg for router in self.routers.values() for name, leg in router.legs.items()}

    @property
    def dual_stack(self) -> bool:
        """Whether any leg carries IPv6."""
        return any(leg.network6 is not None for leg in self.legs.values())

    def hosts_on(self, leg: str) -> list[Host]:
        return [host for host in self.hosts.values() if host.leg == leg]


def load_file(path: Path | str) -> Any:
    """Read JSON, or YAML (needs PyYAML) when the file name ends in .yml/.yaml."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith((".yml", ".yaml")):
        try:
            import yaml  # noqa: PLC0415 - optional dependency, JSON needs none
        except ImportError as exc:
            raise TopologyError(f"{path}: reading YAML needs PyYAML; use JSON instead") from exc
        return yaml.safe_load(text)
    return json.loads(text)


def _network(value: str, what: str) -> IPv4Network:
    try:
        net = IPv4Network(value)
    except ValueError as exc:
        raise TopologyError(f"{what}: {exc}") from exc
    if not net.subnet_of(LAB_RANGE):
        raise TopologyError(f"{what}: {net} is outside the lab range {LAB_RANGE}")
    return net


def _network6(value: object, what: str) -> IPv6Network:
    try:
        net = IPv6Network(str(value))
    except ValueError as exc:
        raise TopologyError(f"{what}: {exc}") from exc
    if not net.subnet_of(LAB_RANGE6):
        raise TopologyError(f"{what}: {net} is outside the lab's IPv6 range {LAB_RANGE6}")
    if net.prefixlen > 126:
        raise TopologyError(f"{what}: {net} has no room for a router and a host")
    return net


def _address(value: str, what: str) -> IPv4Address:
    try:
        return IPv4Address(value)
    except ValueError as exc:
        raise TopologyError(f"{what}: {exc}") from exc


def _address6(value: object, what: str) -> IPv6Address:
    try:
        return IPv6Address(str(value))
    except ValueError as exc:
        raise TopologyError(f"{what}: {exc}") from exc


def _usable(address: IPv4Address | IPv6Address, network: IPv4Network | IPv6Network) -> bool:
    """A host address of network: not its network address (nor, for IPv4, its broadcast address)."""
    if address not in network or address == network.network_address:
        return False
    return network.version == 6 or address != network.broadcast_address


def _name(value: str, what: str, max_len: int = MAX_NAME) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value) or len(value) > max_len:
        raise TopologyError(f"{what}: {value!r} must match {NAME_RE.pattern} and be at most {max_len} chars")
    return value


def _mapping(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise TopologyError(f"{what}: expected a mapping, got {value!r}")
    return value


def _leg(router: str, name: str, spec: dict) -> Leg:
    what = f"routers.{router}.legs.{name}"
    spec = _mapping(spec, what)
    net = _network(spec.get("cidr", ""), what)
    gateway = _address(spec.get("gateway", str(net.network_address + 1)), what)
    kind = spec.get("kind", "zone")
    if kind not in KINDS:
        raise TopologyError(f"{what}: kind must be one of {KINDS}")
    if not _usable(gateway, net):
        raise TopologyError(f"{what}: gateway {gateway} is not a host address of {net}")
    net6 = gateway6 = None
    if "cidr6" in spec:
        net6 = _network6(spec["cidr6"], f"{what}.cidr6")
        gateway6 = _address6(spec.get("gateway6", net6.network_address + 1), f"{what}.gateway6")
        if not _usable(gateway6, net6):
            raise TopologyError(f"{what}: gateway6 {gateway6} is not a host address of {net6}")
    elif "gateway6" in spec:
        raise TopologyError(f"{what}: gateway6 needs cidr6")
    return Leg(_name(name, what, MAX_LEG_NAME), router, kind, net, gateway, net6, gateway6)


def _routers(data: dict, mgmt: IPv4Network) -> dict[str, Router]:
    if mgmt.prefixlen > 30:
        raise TopologyError(f"mgmt_cidr {mgmt} is smaller than one /30")
    slots = mgmt.subnets(new_prefix=30)
    routers: dict[str, Router] = {}
    for name, raw in _mapping(data.get("routers") or {}, "routers").items():
        spec = _mapping(raw or {}, f"routers.{_name(name, f'routers.{name}')}")
        slot = next(slots, None)
        if slot is None:
            raise TopologyError(f"mgmt_cidr {mgmt} has no /30 left for router {name}")
        legs = {leg: _leg(name, leg, leg_spec) for leg, leg_spec in (spec.get("legs") or {}).items()}
        routers[name] = Router(name, tuple(spec.get("groups", [])), slot, legs)
    if not routers:
        raise TopologyError("at least one router is needed")
    return routers


def _host(name: str, spec: dict, legs: dict[str, Leg]) -> Host:
    what = f"hosts.{name}"
    spec = _mapping(spec, what)
    leg = legs.get(spec.get("leg", ""))
    if leg is None:
        raise TopologyError(f"{what}: leg {spec.get('leg')!r} is not a router leg")
    address = _address(spec.get("address", ""), what)
    if not _usable(address, leg.network) or address == leg.gateway:
        raise TopologyError(f"{what}: {address} is not a free host address of {leg.network}")
    address6 = None
    if "address6" in spec:
        if leg.network6 is None:
            raise TopologyError(f"{what}: address6 needs a leg with cidr6; leg {leg.name} has none")
        address6 = _address6(spec["address6"], f"{what}.address6")
        if not _usable(address6, leg.network6) or address6 == leg.gateway6:
            raise TopologyError(f"{what}: {address6} is not a free host address of {leg.network6}")
    listen = _mapping(spec.get("listen") or {}, f"{what}.listen")
    if "catalog" in listen:
        raise TopologyError(f"{what}.listen.catalog: unresolved catalog reference (netlab up resolves it)")
    unknown = set(listen) - set(PROTOCOLS)
    if unknown:
        raise TopologyError(f"{what}.listen: unknown keys {sorted(unknown)}; expected tcp, udp or catalog")
    try:
        tcp, udp = (
            parse_ports(listen.get("tcp", [])),
            parse_ports(listen.get("udp", [])),
        )
    except ValueError as exc:
        raise TopologyError(f"{what}.listen: {exc}") from exc
    return Host(_name(name, what), leg.name, address, tuple(tcp), tuple(udp), address6)


def _addresses(hosts: Iterable[Host]) -> list[IPv4Address | IPv6Address]:
    return [address for host in hosts for address in (host.address, host.address6) if address is not None]


def _check_unique(topo: Topology) -> None:
    seen_legs: set[str] = set()
    for router in topo.routers.values():
        dup = seen_legs & set(router.legs)
        if dup:
            raise TopologyError(f"leg names must be unique across routers: {sorted(dup)}")
        seen_legs |= set(router.legs)
        nets: list[IPv4Network | IPv6Network] = [leg.network for leg in router.legs.values()] + [topo.mgmt_cidr]
        nets += [leg.network6 for leg in router.legs.values() if leg.network6 is not None]
        for i, net in enumerate(nets):
            if any(net.version == other.version and net.overlaps(other) for other in nets[i + 1 :]):
                raise TopologyError(f"router {router.name}: network {net} overlaps another leg or mgmt_cidr")
    clash = set(topo.routers) & set(topo.hosts)
    if clash:
        raise TopologyError(f"names used for both a router and a host: {sorted(clash)}")
    if topo.address_scope == "router":  # a zone behind several routers appears once per router, same addresses
        scopes = [_addresses(h for h in topo.hosts.values() if topo.legs[h.leg].router == r) for r in topo.routers]
    else:
        scopes = [_addresses(topo.hosts.values())]
    for addresses in scopes:
        if len(addresses) != len(set(addresses)):
            raise TopologyError(f"host addresses must be unique{' per router' if len(scopes) > 1 else ''}")


def parse(data: dict) -> Topology:
    """Validate a loaded topology document and return the model."""
    if not isinstance(data, dict):
        raise TopologyError("topology must be a mapping")
    mgmt = _network(data.get("mgmt_cidr", DEFAULT_MGMT), "mgmt_cidr")
    routers = _routers(data, mgmt)
    legs = {name: leg for router in routers.values() for name, leg in router.legs.items()}
    hosts = {name: _host(name, spec or {}, legs) for name, spec in _mapping(data.get("hosts") or {}, "hosts").items()}
    scope = data.get("address_scope", "lab")
    if scope not in ADDRESS_SCOPES:
        raise TopologyError(f"address_scope must be one of {ADDRESS_SCOPES}; got {scope!r}")
    topo = Topology(str(data.get("name", "netlab")), mgmt, routers, hosts, scope)
    _check_unique(topo)
    return topo


def address_in_lab(value: str) -> IPv4Address | IPv6Address:
    """Parse a probe target; anything outside 10.0.0.0/8 and 2001:db8::/32 is refused."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError as exc:
        raise TopologyError(f"{value!r} is neither a host of the lab nor an address") from exc
    if address not in (LAB_RANGE if address.version == 4 else LAB_RANGE6):
        raise TopologyError(f"{value}: probes may only target {LAB_RANGE} and {LAB_RANGE6}")
    return address


# ---- catalog references -----------------------------------------------------------------------

Selector = Callable[[dict[str, Any]], list[dict[str, Any]]]


def listen_ports(start: int, end: int) -> set[int]:
    """Every port of a narrow range; the first and the last of a wide one."""
    return set(range(start, end + 1)) if end - start < SAMPLE_WIDER_THAN else {start, end}


def uses_catalog(data: Any) -> bool:
    """Whether a loaded topology document names listen ports by catalog selectors."""
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return isinstance(hosts, dict) and any(
        isinstance(spec, dict) and isinstance(spec.get("listen"), dict) and "catalog" in spec["listen"]
        for spec in hosts.values()
    )


def _catalog_ports(selectors: object, select: Selector, what: str) -> dict[str, set[int]]:
    if not isinstance(selectors, list) or not selectors:
        raise TopologyError(f"{what}: expected a non-empty list of selectors ({', '.join(CATALOG_SELECTORS)})")
    ports: dict[str, set[int]] = {protocol: set() for protocol in PROTOCOLS}
    for index, raw in enumerate(selectors):
        where = f"{what}[{index}]"
        selector = _mapping(raw, where)
        unknown = set(selector) - set(CATALOG_SELECTORS)
        if not selector or unknown:
            raise TopologyError(f"{where}: {selector!r}; selector keys are {', '.join(CATALOG_SELECTORS)}")
        try:
            records = select(selector)
        except (KeyError, ValueError, TypeError) as exc:
            raise TopologyError(f"{where}: {exc}") from exc
        if not records:
            raise TopologyError(f"{where}: {selector!r} selects no catalog record")
        for record in records:
            if record["protocol"] in ports:
                ports[record["protocol"]] |= listen_ports(record["start"], record["end"])
    return ports


def resolve(data: dict[str, Any], select: Selector) -> dict[str, Any]:
    """A copy of ``data`` whose ``listen.catalog`` selectors are replaced by the ports they select (added to the
    host's own tcp/udp lists). ``select`` takes one selector and returns catalog records (protocol, start, end)."""
    hosts = dict(_mapping(data.get("hosts") or {}, "hosts"))
    for name, spec in hosts.items():
        listen = spec.get("listen") if isinstance(spec, dict) else None
        if not isinstance(listen, dict) or "catalog" not in listen:
            continue
        found = _catalog_ports(listen["catalog"], select, f"hosts.{name}.listen.catalog")
        try:
            own = {protocol: set(parse_ports(listen.get(protocol, []))) for protocol in PROTOCOLS}
        except ValueError as exc:
            raise TopologyError(f"hosts.{name}.listen: {exc}") from exc
        resolved = {protocol: sorted(own[protocol] | found[protocol]) for protocol in PROTOCOLS}
        hosts[name] = {**spec, "listen": {protocol: ports for protocol, ports in resolved.items() if ports}}
    return {**data, "hosts": hosts}
