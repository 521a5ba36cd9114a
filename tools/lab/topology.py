"""The netlab topology of a site: one router per opto22_segments host, the site's zones on every router.

Built from the site model that ``ansible-playbook otnet.ports.diagram`` writes (NAME.json), so the lab runs the very
inventory the site rolls out:

* each segment host becomes a router (named like the inventory host); its controllers are hosts on a segment leg
  whose network is the zone that holds them (otnet_ports_site_zones), listening on the Opto 22 catalog ports and on
  every port a conduit of that router admits;
* every other zone appears on every router as a leg with the zone's own network (the lab's stand-in for the site
  core: routers are never linked, so each router has its own copy, with the site's own addresses -
  netlab's ``address_scope: router``). A zone that holds another router's controllers is left out: traffic between
  two segments crosses two routers at a site, and the lab has no links between routers;
* each zone leg has a representative host, plus one host at every address the router's conduits, outbound flows
  or management stations name inside that zone; zone hosts listen on the ports of the router's outbound flows;
* a conduit source, outbound destination or management station outside every zone gets a leg of its own.

Only 10.0.0.0/8 networks become legs (netlab refuses anything else); the rest is reported as not probed.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from tools.netlab.inventory import port_ranges
from tools.netlab.topology import LAB_RANGE, MAX_LEG_NAME, MAX_NAME, MAX_ROOT_LINK, NAME_RE, listen_ports

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REPRESENTATIVE_OFFSET = 10  # a zone's representative host: the first free address from network + 10


class LabTopologyError(ValueError):
    """The site cannot be turned into a lab (names, addresses); the message says which part and why."""


@dataclass
class LabHost:
    name: str
    leg: str
    address: str
    role: str  # controller | zone
    zone: str  # zone name ("" for an ad-hoc network)
    label: str  # the zone's label (or the network's, for an ad-hoc leg)
    tcp: set[int] = field(default_factory=set)
    udp: set[int] = field(default_factory=set)


@dataclass
class LabRouter:
    name: str
    segment: dict[str, Any]  # the model's segment entry
    legs: dict[str, dict[str, Any]] = field(default_factory=dict)  # leg -> {cidr, kind, zone, label}
    hosts: dict[str, LabHost] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # what the lab could not place, and why


@dataclass
class Lab:
    name: str
    mgmt_cidr: str
    routers: dict[str, LabRouter]

    def topology(self) -> dict[str, Any]:
        """The netlab topology document."""
        hosts: dict[str, Any] = {}
        for router in self.routers.values():
            for host in router.hosts.values():
                listen = {proto: _compact(ports) for proto, ports in (("tcp", host.tcp), ("udp", host.udp)) if ports}
                hosts[host.name] = {"leg": host.leg, "address": host.address, **({"listen": listen} if listen else {})}
        return {
            "name": self.name,
            "mgmt_cidr": self.mgmt_cidr,
            "address_scope": "router",
            "routers": {
                name: {"legs": {leg: {"cidr": spec["cidr"], "kind": spec["kind"]} for leg, spec in router.legs.items()}}
                for name, router in self.routers.items()
            },
            "hosts": hosts,
        }


def _compact(ports: set[int]) -> list[int | str]:
    """{502, 2001, 2002, 2003} -> [502, "2001-2003"], as netlab's topology file writes ports."""
    ranges = port_ranges(tuple(sorted(ports)))
    return [r["start"] if r["start"] == r["end"] else f"{r['start']}-{r['end']}" for r in ranges]


def span(flow: dict[str, Any]) -> tuple[int, int]:
    """A flow's ports: {start, end} (the plan's shape), or a "502" / "49210-49211" text under ``ports``."""
    if "start" in flow:
        return int(flow["start"]), int(flow["end"])
    first, _, last = str(flow["ports"]).partition("-")
    return int(first), int(last or first)


def _network(text: str) -> Network:
    return ipaddress.ip_network(text, strict=False)


def _zones(model: dict[str, Any]) -> list[tuple[str, str, list[Network]]]:
    return [(z["name"], z.get("label", z["name"]), [_network(n) for n in z["networks"]]) for z in model["zones"]]


def _zone_of(network: Network, zones: list[tuple[str, str, list[Network]]]) -> tuple[str, Network] | None:
    """The smallest zone network holding ``network``."""
    best: tuple[str, Network] | None = None
    for name, _, networks in zones:
        for candidate in networks:
            inside = network.version == candidate.version and network.subnet_of(candidate)  # type: ignore[arg-type]
            if inside and (best is None or candidate.prefixlen > best[1].prefixlen):
                best = (name, candidate)
    return best


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "z"
    if not slug[0].isalpha():
        slug = "z" + slug
    return slug[:limit].rstrip("-_") or "z"


class _Names:
    """Names of one kind (legs, or hosts and routers), unique across the whole lab."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str, limit: int) -> str:
        base = _slug(wanted, limit)
        name, index = base, 2
        while name in self.used:
            suffix = f"-{index}"
            name = base[: limit - len(suffix)].rstrip("-_") + suffix
            index += 1
        self.used.add(name)
        return name


def build(
    model: dict[str, Any], controller_ports: dict[str, set[int]], *, name: str, mgmt_cidr: str, prefix: str
) -> Lab:
    """The lab of ``model``. ``controller_ports`` ({tcp, udp}) is what every controller listens on besides the ports
    its router's conduits admit (the Opto 22 catalog ports, wide ranges sampled)."""
    zones = _zones(model)
    mgmt = ipaddress.IPv4Network(mgmt_cidr)
    segment_zones: dict[str, set[str]] = {}
    for segment in model["segments"]:
        for controller in segment["controllers"]:
            found = _zone_of(_network(controller), zones)
            if found:
                segment_zones.setdefault(segment["host"], set()).add(found[0])
    all_segment_zones = {zone for names in segment_zones.values() for zone in names}
    leg_names, host_names = _Names(), _Names()  # netlab keeps legs (bridges) and hosts (namespaces) apart
    routers: dict[str, LabRouter] = {}
    for index, segment in enumerate(model["segments"], 1):
        router_name = segment["host"]
        if not NAME_RE.match(router_name) or len(f"{prefix}-{router_name}") > MAX_ROOT_LINK:
            raise LabTopologyError(
                f"opto22_segments host {router_name!r}: the lab names a router after it; it must match "
                f"{NAME_RE.pattern} and '{prefix}-{router_name}' fit in {MAX_ROOT_LINK} characters"
            )
        host_names.used.add(router_name)  # a namespace of its own, like the hosts
        router = LabRouter(router_name, segment)
        _add_segment_legs(router, segment, zones, leg_names, mgmt)
        own = segment_zones.get(router_name, set())
        for zone_name, label, networks in zones:
            if zone_name in all_segment_zones:
                if zone_name not in own:
                    router.skipped.append(
                        f"zone {zone_name}: holds another router's controllers (the lab links no two routers)"
                    )
                continue
            for network in networks:
                _add_leg(
                    router,
                    network,
                    kind="zone",
                    zone=zone_name,
                    label=label,
                    wanted=f"{zone_name}-{index}",
                    names=leg_names,
                    mgmt=mgmt,
                )
        for peer in _peers(segment):
            if not any(_in_leg(peer, spec) for spec in router.legs.values()):
                wide = ipaddress.ip_network(f"{peer.network_address}/24", strict=False)
                _add_leg(
                    router,
                    peer if peer.prefixlen <= 30 else wide,
                    kind="zone",
                    zone="",
                    label=str(peer),
                    wanted=f"net-{index}",
                    names=leg_names,
                    mgmt=mgmt,
                )
        _add_hosts(router, segment, host_names, index)
        _add_listeners(router, segment, controller_ports)
        routers[router_name] = router
    if not routers:
        raise LabTopologyError("the inventory has no opto22_segments host: the lab has no router to build")
    return Lab(name, mgmt_cidr, routers)


def _in_leg(network: Network, spec: dict[str, Any]) -> bool:
    leg = ipaddress.ip_network(spec["cidr"])
    return network.version == leg.version and network.subnet_of(leg)  # type: ignore[arg-type]


def _peers(segment: dict[str, Any]) -> list[Network]:
    """Every network the router's conduits, outbound flows and management stations name, in order, once."""
    texts = [s for c in segment["conduits"] for s in c["sources"]]
    texts += [d for o in segment["outbound"] for d in o["destinations"]]
    texts += list(segment["management"]["sources"])
    return list(dict.fromkeys(_network(t) for t in texts))


def _add_leg(
    router: LabRouter, network: Network, *, kind: str, zone: str, label: str, wanted: str, names: _Names, mgmt: Any
) -> str | None:
    if network.version != 4 or not network.subnet_of(LAB_RANGE):
        router.skipped.append(f"{label} {network}: outside {LAB_RANGE}, the only range the lab uses")
        return None
    if network.overlaps(mgmt):
        raise LabTopologyError(
            f"{label} {network} overlaps the lab's management network {mgmt}; pick another --mgmt-cidr"
        )
    if network.prefixlen > 30:
        router.skipped.append(f"{label} {network}: too small for a lab leg (a router address and a host)")
        return None
    for other in router.legs.values():
        if network.overlaps(ipaddress.ip_network(other["cidr"])):
            router.skipped.append(f"{label} {network}: overlaps the lab leg {other['cidr']} ({other['label']})")
            return None
    leg = names.take(wanted, MAX_LEG_NAME)
    router.legs[leg] = {"cidr": str(network), "kind": kind, "zone": zone, "label": label}
    return leg


def _add_segment_legs(router: LabRouter, segment: dict[str, Any], zones: Any, names: _Names, mgmt: Any) -> None:
    for controller in segment["controllers"]:
        address = _network(controller)
        if any(_in_leg(address, spec) for spec in router.legs.values()):
            continue
        found = _zone_of(address, zones)
        if found:
            zone_name, network = found
            label = next(label for name, label, _ in zones if name == zone_name)
        else:
            zone_name, label = "", f"controllers of {router.name}"
            network = ipaddress.ip_network(f"{address.network_address}/24", strict=False)
        _add_leg(
            router,
            network,
            kind="segment",
            zone=zone_name,
            label=label,
            wanted=zone_name or f"ctl-{router.name}",
            names=names,
            mgmt=mgmt,
        )


def _free(network: Network, taken: set[str], start: int) -> str:
    hosts = list(network.hosts())
    for candidate in hosts[start:] + hosts[:start]:
        if str(candidate) not in taken:
            return str(candidate)
    raise LabTopologyError(f"no free address left in {network}")


def _add_hosts(router: LabRouter, segment: dict[str, Any], names: _Names, index: int) -> None:
    taken: dict[str, set[str]] = {}
    for leg, spec in router.legs.items():
        network = ipaddress.ip_network(spec["cidr"])
        taken[leg] = {str(network.network_address + 1)}  # netlab's default gateway of the leg
    for controller in segment["controllers"]:
        address = _network(controller)
        leg = next((leg for leg, spec in router.legs.items() if _in_leg(address, spec)), None)
        if leg is None:
            continue
        ip = (
            str(address.network_address)
            if address.prefixlen == address.max_prefixlen
            else _free(address, taken[leg], 10)
        )
        if ip in taken[leg]:
            raise LabTopologyError(f"controller {ip} of {router.name} is the lab router's own address on its leg")
        taken[leg].add(ip)
        spec = router.legs[leg]
        name = names.take(f"{spec['zone'] or 'ctl'}-{ip.rsplit('.', 1)[-1]}", MAX_NAME)
        router.hosts[name] = LabHost(name, leg, ip, "controller", spec["zone"], spec["label"])
    for peer in _peers(segment):
        leg = next((leg for leg, spec in router.legs.items() if _in_leg(peer, spec) and spec["kind"] == "zone"), None)
        if leg is None or str(peer) == router.legs[leg]["cidr"]:
            continue
        spec = router.legs[leg]
        if peer.prefixlen == peer.max_prefixlen:
            ip = str(peer.network_address)
            if ip in taken[leg]:
                if any(h.address == ip for h in router.hosts.values()):
                    continue
                router.skipped.append(f"{peer}: the lab router's own address on leg {leg}")
                continue
        else:
            ip = _free(peer, taken[leg], REPRESENTATIVE_OFFSET)
        taken[leg].add(ip)
        name = names.take(f"{spec['zone'] or 'net'}-{index}-{ip.rsplit('.', 1)[-1]}", MAX_NAME)
        router.hosts[name] = LabHost(name, leg, ip, "zone", spec["zone"], spec["label"])
    for leg, spec in router.legs.items():
        if spec["kind"] != "zone":
            continue
        network = ipaddress.ip_network(spec["cidr"])
        ip = _free(network, taken[leg], REPRESENTATIVE_OFFSET)
        taken[leg].add(ip)
        name = names.take(f"{spec['zone'] or 'net'}-{index}", MAX_NAME)
        router.hosts[name] = LabHost(name, leg, ip, "zone", spec["zone"], spec["label"])


def _add_listeners(router: LabRouter, segment: dict[str, Any], controller_ports: dict[str, set[int]]) -> None:
    admitted: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    outbound: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    for conduit in segment["conduits"]:
        for flow in conduit["flows"]:
            admitted[flow["protocol"]] |= listen_ports(*span(flow))
    for entry in segment["outbound"]:
        for flow in entry["flows"]:
            outbound[flow["protocol"]] |= listen_ports(*span(flow))
    for host in router.hosts.values():
        if host.role == "controller":
            host.tcp, host.udp = controller_ports["tcp"] | admitted["tcp"], controller_ports["udp"] | admitted["udp"]
        else:
            host.tcp, host.udp = set(outbound["tcp"]), set(outbound["udp"])
