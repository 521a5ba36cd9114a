"""Topology file: load (JSON, or YAML when PyYAML is importable) and validate.

    name: demo                      # optional, informational
    mgmt_cidr: 10.254.0.0/24        # optional; one /30 per router: .1 = root-namespace end, .2 = router
    routers:
      r1:
        groups: [opto22_routers]    # optional extra inventory groups
        legs:                       # leg name = bridge/interface name in the router (<= 12 chars)
          ctl: {cidr: 10.10.1.0/24, kind: segment}   # kind: segment (controllers) | zone (default)
          scada: {cidr: 10.20.1.0/24, gateway: 10.20.1.254}   # gateway: router address, default first host
    hosts:                          # one namespace each, default route via its leg's gateway
      pac1: {leg: ctl, address: 10.10.1.11, listen: {tcp: [502, "2001-2003"], udp: [2001]}}
      scada1: {leg: scada, address: 10.20.1.10}

Every network must lie inside 10.0.0.0/8. Leg names are unique across routers. Host addresses are unique across
the lab, or only among one router's hosts with ``address_scope: router`` (routers are never linked to each other,
so each router's copy of a site zone can carry the site's own addresses).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from .agent import parse_ports

LAB_RANGE = IPv4Network("10.0.0.0/8")
DEFAULT_MGMT = "10.254.0.0/24"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
MAX_NAME = 32  # router and host names
MAX_ROOT_LINK = 15  # Linux's interface name limit, which a router's root-namespace link PREFIX-ROUTER must fit
MAX_LEG_NAME = 12  # leaves room for "-NN" bridge-port suffixes inside the 15-char interface limit
KINDS = ("segment", "zone")
ADDRESS_SCOPES = ("lab", "router")


class TopologyError(ValueError):
    """The topology file (or a probe matrix) is invalid."""


@dataclass(frozen=True)
class Leg:
    name: str
    router: str
    kind: str
    network: IPv4Network
    gateway: IPv4Address


@dataclass(frozen=True)
class Host:
    name: str
    leg: str
    address: IPv4Address
    tcp: tuple[int, ...] = ()
    udp: tuple[int, ...] = ()


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


def _address(value: str, what: str) -> IPv4Address:
    try:
        return IPv4Address(value)
    except ValueError as exc:
        raise TopologyError(f"{what}: {exc}") from exc


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
    if gateway not in net or gateway in (net.network_address, net.broadcast_address):
        raise TopologyError(f"{what}: gateway {gateway} is not a host address of {net}")
    return Leg(_name(name, what, MAX_LEG_NAME), router, kind, net, gateway)


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
    if address not in leg.network or address in (
        leg.gateway,
        leg.network.network_address,
        leg.network.broadcast_address,
    ):
        raise TopologyError(f"{what}: {address} is not a free host address of {leg.network}")
    listen = _mapping(spec.get("listen") or {}, f"{what}.listen")
    try:
        tcp, udp = (
            parse_ports(listen.get("tcp", [])),
            parse_ports(listen.get("udp", [])),
        )
    except ValueError as exc:
        raise TopologyError(f"{what}.listen: {exc}") from exc
    return Host(_name(name, what), leg.name, address, tuple(tcp), tuple(udp))


def _check_unique(topo: Topology) -> None:
    seen_legs: set[str] = set()
    for router in topo.routers.values():
        dup = seen_legs & set(router.legs)
        if dup:
            raise TopologyError(f"leg names must be unique across routers: {sorted(dup)}")
        seen_legs |= set(router.legs)
        nets = [leg.network for leg in router.legs.values()] + [topo.mgmt_cidr]
        for i, net in enumerate(nets):
            if any(net.overlaps(other) for other in nets[i + 1 :]):
                raise TopologyError(f"router {router.name}: network {net} overlaps another leg or mgmt_cidr")
    clash = set(topo.routers) & set(topo.hosts)
    if clash:
        raise TopologyError(f"names used for both a router and a host: {sorted(clash)}")
    if topo.address_scope == "router":  # a zone behind several routers appears once per router, same addresses
        scopes = [[h.address for h in topo.hosts.values() if topo.legs[h.leg].router == r] for r in topo.routers]
    else:
        scopes = [[host.address for host in topo.hosts.values()]]
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


def address_in_lab(value: str) -> IPv4Address:
    """Parse a probe target; anything outside 10.0.0.0/8 is refused."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError as exc:
        raise TopologyError(f"{value!r} is neither a host of the lab nor an address") from exc
    if not isinstance(address, IPv4Address) or address not in LAB_RANGE:
        raise TopologyError(f"{value}: probes may only target {LAB_RANGE}")
    return address
