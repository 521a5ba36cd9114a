"""The opto22_segment role's plan: the site's zones and conduits checked, service keys resolved through the
catalog, and the nftables policy described as data (``_nft_render`` turns it into the one file the role loads).

IEC 62443 zones and conduits / NIST SP 800-82: the controllers are the protected zone; a conduit admits named
sources to the controllers on the ports of named catalog services (plus chart-logic ports, checked with the
chart-logic rules); outbound flows admit the controllers to named destinations. Everything else to or from the
segment is dropped, and the guarding host accepts only management SSH from named stations.

Ports come from the catalog by service key; this module adds none of its own. Every problem is reported with the
variable path, the value and the rule it breaks, all problems at once, before anything touches a host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._addresses import Network, parse_network
from ._catalog import Catalog
from ._chart_logic import allowed_ranges, check_chart_port
from ._errors import PortsError, QueryError, unknown_name
from ._nft_sets import Box, address_text, disjoint_boxes, network_range
from ._portrange import PORT_MAX, PROTOCOLS, check_port, parse_item, range_text
from ._queries import service_records

PREFIX = "opto22_segment_"
TABLE = "otnet_opto22"
SETTINGS = (
    "controllers",
    "conduits",
    "outbound",
    "management",
    "log_drops",
    "log_rate",
    "allow_management_lockout",
)
DEFAULT_MANAGEMENT_PORT = 22  # SSH; not a vendor port
DEFAULT_LOG_RATE = "10/minute"
FLOW_KEYS = {
    "conduits": ("name", "sources", "services", "ports"),
    "outbound": ("name", "destinations", "services", "ports"),
}
PORT_KEYS = ("port", "start", "end", "protocol")
MANAGEMENT_KEYS = ("sources", "port")
# Catalog direction of the records a flow uses: the controllers listen on conduit ports (incoming) and connect to
# outbound ports (outgoing). Records without a direction (all Opto 22 records) serve both.
DIRECTION = {"conduits": "incoming", "outbound": "outgoing"}
PEERS = {"conduits": "sources", "outbound": "destinations"}
EXTRA_PORT_LABEL = "chart_logic"  # the catalog's service key for ports PAC Control chart logic may use
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")
NAME_RULE = "names use letters, digits, '_', '.' and '-' (1-48 characters, starting with a letter or digit)"
LOG_RATE_RE = re.compile(r"^[1-9][0-9]{0,5}/(second|minute|hour|day)$")
COMMENT_MAX = 120  # nft keeps at most 128 bytes of a comment


class SegmentError(PortsError):
    """The opto22_segment settings break one or more rules; the message lists every problem."""


@dataclass
class Problems:
    """Collects every problem, so one run reports them all."""

    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if len(self.messages) == 1:
            raise SegmentError(self.messages[0])
        if self.messages:
            lines = "\n".join(f"  - {message}" for message in self.messages)
            raise SegmentError(f"{len(self.messages)} problems in the opto22_segment settings:\n{lines}")


@dataclass(frozen=True)
class Flow:
    """One port range of one protocol that a conduit or outbound flow opens, and the service it comes from."""

    service: str
    protocol: str
    start: int
    end: int
    basis: str


@dataclass(frozen=True)
class Permit:
    """A conduit (into the segment) or an outbound flow (from it): who, and which flows."""

    kind: str  # conduits | outbound
    name: str
    peers: tuple[Network, ...]
    services: tuple[str, ...]
    flows: tuple[Flow, ...]


def plan_segment(
    catalog: Catalog, settings: Mapping[str, Any], *, connection: str = "", prefix: str = PREFIX
) -> dict[str, Any]:
    """The checked policy as data; SegmentError listing every problem otherwise.

    ``settings`` holds the role's variables without their prefix (``controllers``, ``conduits``, ...);
    ``connection`` is ``SSH_CONNECTION`` (or ``SSH_CLIENT``) as the host sees it, to keep the management path.
    """
    problems = Problems()
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        problems.add(
            f"unknown settings {', '.join(prefix + key for key in unknown)}; known: {_names(SETTINGS, prefix)}"
        )
    controllers = _controllers(settings.get("controllers"), prefix, problems)
    resolver = ServiceIndex(catalog)
    permits = {
        kind: _permits(resolver, kind, settings.get(kind, []), prefix, problems) for kind in ("conduits", "outbound")
    }
    management = _management(settings.get("management"), prefix, problems)
    log_drops = _flag(settings.get("log_drops", True), f"{prefix}log_drops", problems)
    lockout_ok = _flag(settings.get("allow_management_lockout", False), f"{prefix}allow_management_lockout", problems)
    log_rate = settings.get("log_rate", DEFAULT_LOG_RATE)
    if not isinstance(log_rate, str) or not LOG_RATE_RE.match(log_rate):
        problems.add(
            f"{prefix}log_rate: {log_rate!r} is not an nft rate; write COUNT/UNIT with UNIT second, minute, hour "
            "or day (for example 10/minute)"
        )
    client = _check_management_path(management, connection, lockout_ok, prefix, problems)
    problems.raise_if_any()
    return {
        "table": TABLE,
        "controllers": _by_family(controllers),
        "management": {
            "port": management["port"],
            "sources": _by_family(management["sources"]),
            "connected_from": client,
            "lockout_allowed": lockout_ok,
        },
        **{kind: [_summary(item) for item in items] for kind, items in permits.items()},
        "elements": {
            f"{kind}_v{version}": _elements(permits[kind], version)
            for kind in ("conduits", "outbound")
            for version in (4, 6)
        },
        "log": {"drops": log_drops, "rate": log_rate},
    }


# ---- the variables, one checker each -------------------------------------------------------------------


def _names(keys: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + key for key in keys)


def _flag(value: Any, where: str, problems: Problems) -> bool:
    if isinstance(value, bool):
        return value
    problems.add(f"{where}: {value!r} is not a boolean (true or false)")
    return False


def _networks(values: Any, where: str, what: str, problems: Problems) -> list[Network]:
    """Addresses or CIDRs, IPv4 or IPv6, with host bits clear; never empty."""
    if values is None or isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        problems.add(f"{where}: expected a list of addresses or CIDRs for {what}; got {values!r}")
        return []
    if not values:
        problems.add(f"{where}: empty; {what} needs at least one address or CIDR")
        return []
    networks = []
    for index, value in enumerate(values):
        network = _network(value, f"{where}[{index}]", problems)
        if network is not None:
            networks.append(network)
    return networks


def _network(value: Any, where: str, problems: Problems) -> Network | None:
    try:
        return parse_network(value, where)
    except QueryError as exc:
        problems.add(str(exc))
        return None


def _controllers(values: Any, prefix: str, problems: Problems) -> list[Network]:
    networks = _networks(values, f"{prefix}controllers", "the controller zone", problems)
    for network in networks:
        if network.prefixlen == 0:
            problems.add(
                f"{prefix}controllers: {str(network)!r} would put every forwarded packet in the controller zone; "
                "list the controllers' own addresses or networks"
            )
    return [network for network in networks if network.prefixlen > 0]


def _permits(resolver: ServiceIndex, kind: str, items: Any, prefix: str, problems: Problems) -> list[Permit]:
    where = f"{prefix}{kind}"
    if items is None:
        return []
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        problems.add(f"{where}: expected a list of {kind} entries; got {items!r}")
        return []
    result: list[Permit] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            problems.add(f"{here}: expected a mapping with {_names(FLOW_KEYS[kind])}; got {item!r}")
            continue
        extra = sorted(set(item) - set(FLOW_KEYS[kind]))
        if extra:
            problems.add(f"{here}: unknown keys {', '.join(map(str, extra))}; allowed: {_names(FLOW_KEYS[kind])}")
        name = _name(item.get("name"), f"{here}.name", problems)
        if name is not None and name in seen:
            problems.add(f"{here}.name: {name!r} is already the name of {where}[{seen[name]}]; names must be unique")
        elif name is not None:
            seen[name] = index
        peers_key = PEERS[kind]
        peers = _networks(item.get(peers_key), f"{here}.{peers_key}", f"a {kind.rstrip('s')} entry", problems)
        services, flows = _service_flows(
            resolver, item.get("services", []), DIRECTION[kind], f"{here}.services", problems
        )
        flows += _extra_port_flows(resolver, item.get("ports", []), f"{here}.ports", problems)
        if name is not None:
            result.append(Permit(kind, name, tuple(peers), services, tuple(flows)))
    return result


def _name(value: Any, where: str, problems: Problems) -> str | None:
    if value is None:
        problems.add(f"{where}: missing; every entry needs a name ({NAME_RULE})")
        return None
    if not isinstance(value, str) or not NAME_RE.match(value):
        problems.add(f"{where}: {value!r} contains characters that could break the nft file; {NAME_RULE}")
        return None
    return value


class ServiceIndex:
    """Catalog services resolved once per plan: 5,000 conduits cost dictionary lookups, not 5,000 catalog scans."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.known = frozenset(r["service"] for r in catalog.select(kind="assignment"))
        self.chart_ranges = allowed_ranges(catalog)
        self._flows: dict[tuple[str, str], tuple[Flow, ...]] = {}

    def flows(self, service: str, direction: str) -> tuple[Flow, ...]:
        """The flows of a known service's records without a direction or with ``direction``, in catalog order."""
        key = (service, direction)
        if key not in self._flows:
            records = service_records(self.catalog, [service], direction=direction)
            self._flows[key] = tuple(
                dict.fromkeys(
                    Flow(r["service"], r["protocol"], r["start"], r["end"], r["protocol_basis"]) for r in records
                )
            )
        return self._flows[key]

    def directions(self, service: str) -> list[str]:
        return sorted({r.get("direction", "") for r in self.catalog.select(services=[service], kind="assignment")})


def _service_flows(
    resolver: ServiceIndex, services: Any, direction: str, where: str, problems: Problems
) -> tuple[tuple[str, ...], list[Flow]]:
    if services is None:
        return (), []
    if isinstance(services, (str, bytes, Mapping)) or not isinstance(services, Sequence):
        problems.add(f"{where}: expected a list of catalog service keys; got {services!r}")
        return (), []
    keys: list[str] = []
    for position, service in enumerate(services):
        here = f"{where}[{position}]"
        if not isinstance(service, str):
            problems.add(f"{here}: {service!r} is not a catalog service key (a string like modbus_tcp)")
        elif service not in resolver.known:
            problems.add(str(unknown_name("catalog service", service, resolver.known, here)))
        elif not resolver.flows(service, direction):
            problems.add(
                f"{here}: {service!r} has no {direction} records in the catalog (only "
                f"{', '.join(resolver.directions(service))}); "
                f"{'use it in outbound flows' if direction == 'incoming' else 'use it in a conduit'}"
            )
        else:
            keys.append(service)
    unique = tuple(dict.fromkeys(keys))
    flows = dict.fromkeys(flow for service in unique for flow in resolver.flows(service, direction))
    return unique, list(flows)


def _extra_port_flows(resolver: ServiceIndex, ports: Any, where: str, problems: Problems) -> list[Flow]:
    """Extra ports are chart-logic ports: each must be one PAC Control chart logic may use, with a protocol."""
    if ports is None:
        return []
    if isinstance(ports, (str, bytes, Mapping)) or not isinstance(ports, Sequence):
        problems.add(f"{where}: expected a list of {{port|start/end, protocol}} entries; got {ports!r}")
        return []
    flows = []
    for index, item in enumerate(ports):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            problems.add(f"{here}: expected a mapping with port (or start and end) and protocol; got {item!r}")
            continue
        extra = sorted(set(item) - set(PORT_KEYS))
        if extra:
            problems.add(f"{here}: unknown keys {', '.join(map(str, extra))}; allowed: {_names(PORT_KEYS)}")
            continue
        if item.get("protocol") not in PROTOCOLS:
            problems.add(f"{here}.protocol: {item.get('protocol')!r} is not a protocol; give tcp or udp")
            continue
        try:
            span = parse_item(dict(item), here)
            _check_chart_range(resolver, span.start, span.end, here)
        except PortsError as exc:
            problems.add(str(exc))
            continue
        flows.append(Flow(EXTRA_PORT_LABEL, item["protocol"], span.start, span.end, "stated"))
    return flows


def _check_chart_range(resolver: ServiceIndex, start: int, end: int, where: str) -> None:
    """Every port of start-end must be a chart-logic port; the first one that is not raises the vendor's reason."""
    port = start
    for low, high in resolver.chart_ranges:
        if low <= port <= high:
            port = high + 1
    if port <= end:
        check_chart_port(resolver.catalog, port, f"{where}.port" if start == end else f"{where} ({start}-{end})")


def _management(value: Any, prefix: str, problems: Problems) -> dict[str, Any]:
    where = f"{prefix}management"
    if not isinstance(value, Mapping):
        problems.add(f"{where}: expected a mapping with sources (and port); got {value!r}")
        return {"sources": [], "port": DEFAULT_MANAGEMENT_PORT}
    extra = sorted(set(value) - set(MANAGEMENT_KEYS))
    if extra:
        problems.add(f"{where}: unknown keys {', '.join(map(str, extra))}; allowed: {_names(MANAGEMENT_KEYS)}")
    sources = _networks(value.get("sources"), f"{where}.sources", "the management stations", problems)
    port = value.get("port", DEFAULT_MANAGEMENT_PORT)
    try:
        port = check_port(port, f"{where}.port")
        if port == 0:
            problems.add(f"{where}.port: 0 is not a port a service can listen on; give 1-{PORT_MAX}")
    except PortsError as exc:
        problems.add(str(exc))
        port = DEFAULT_MANAGEMENT_PORT
    return {"sources": sources, "port": port}


def _check_management_path(
    management: Mapping[str, Any], connection: str, lockout_ok: bool, prefix: str, problems: Problems
) -> str | None:
    """Refuse rules that would not admit the SSH connection Ansible came in on (unless the escape hatch is set)."""
    fields = (connection or "").split()
    if len(fields) not in (3, 4):
        return None
    try:
        client = ipaddress.ip_address(fields[0].split("%")[0])
    except ValueError:
        return None
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:
        client = client.ipv4_mapped
    server_port = fields[-1]
    hatch = f"set {prefix}allow_management_lockout: true to apply anyway and let the confirm-timeout rollback restore"
    if lockout_ok:
        return str(client)
    sources = management["sources"]
    if sources and not any(client in network for network in sources):
        problems.add(
            f"{prefix}management.sources: {[str(n) for n in sources]} do not admit {client}, the address Ansible is "
            f"connected from (SSH_CONNECTION); these rules would cut the management path. Add {client} or its "
            f"network, or {hatch} the previous rules"
        )
    if server_port.isdigit() and int(server_port) != management["port"]:
        problems.add(
            f"{prefix}management.port: {management['port']} is not the port Ansible's SSH connection uses "
            f"({server_port}); these rules would cut the management path. Set it to {server_port}, or {hatch} the "
            "previous rules"
        )
    return str(client)


# ---- the plan as data ----------------------------------------------------------------------------------


def _text(network: Network) -> str:
    """A network as the user would write it: a host without its /32 or /128."""
    return str(network) if network.prefixlen < network.max_prefixlen else str(network.network_address)


def _by_family(networks: Sequence[Network]) -> dict[str, list[str]]:
    return {
        f"ipv{version}": [_text(n) for n in ipaddress.collapse_addresses(n for n in networks if n.version == version)]
        for version in (4, 6)
    }


def _summary(item: Permit) -> dict[str, Any]:
    return {
        "name": item.name,
        PEERS[item.kind]: [_text(n) for n in item.peers],
        "services": list(item.services),
        "flows": [
            {"service": f.service, "protocol": f.protocol, "ports": range_text(f.start, f.end), "basis": f.basis}
            for f in item.flows
        ],
    }


def _elements(items: Sequence[Permit], version: int) -> list[dict[str, str]]:
    """Set elements ``peer . protocol . port`` for one address family, disjoint, each with a comment naming who
    admits it (``scada: modbus_tcp``)."""
    boxes = [
        Box(*network_range(peer), flow.protocol, flow.start, flow.end, ((item.name, flow.service),))
        for item in items
        for peer in item.peers
        if peer.version == version
        for flow in item.flows
    ]
    return [
        {
            "key": f"{address_text(box.lo, box.hi, version)} . {box.protocol} . {range_text(box.port_lo, box.port_hi)}",
            "comment": _comment(box.labels),
        }
        for box in disjoint_boxes(boxes)
    ]


def _comment(labels: Sequence[tuple[str, str]]) -> str:
    by_name: dict[str, list[str]] = {}
    for name, service in labels:
        by_name.setdefault(name, []).append(service)
    text = "; ".join(f"{name}: {', '.join(dict.fromkeys(services))}" for name, services in by_name.items())
    return text if len(text) <= COMMENT_MAX else text[: COMMENT_MAX - 3] + "..."
