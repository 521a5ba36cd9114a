"""The opto22_segment role's plan: the role's settings checked, service keys resolved through the catalog, and
the nftables policy described as data (``_nft_render`` turns it into the one file the role loads), with the
settings the host side needs (paths, unit, confirm timeout).

IEC 62443 zones and conduits / NIST SP 800-82: the controllers are the protected zone; a conduit admits named
sources to the controllers on the ports of named catalog services (plus chart-logic ports, checked with the
chart-logic rules); outbound flows admit the controllers to named destinations. Everything else to or from the
segment is dropped, and the guarding host accepts only management SSH from named stations.

The settings are the role's variables by their full names; ``meta/argument_specs.yml`` defines them (``_settings``
validates with it). This module makes only the checks a spec cannot express: addresses, catalog services,
chart-logic ports, names, bounds, host path safety and the management path. Ports come from the catalog by service
key; this module adds none of its own. Every problem is reported with the variable path, the value and the rule
it breaks, all problems at once, before anything touches a host.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._addresses import Network, parse_network
from ._catalog import Catalog
from ._chart_logic import allowed_ranges, check_chart_port
from ._errors import PortsError, QueryError, unknown_name
from ._expires import ExpiresError, Expiry, parse_expires, utc_now
from ._nft_sets import Box, address_text, disjoint_boxes, network_range
from ._portrange import PORT_MAX, parse_item, range_text
from ._queries import service_records
from ._settings import Problems, check_settings, role_spec

ROLE = "opto22_segment"
PREFIX = f"{ROLE}_"
TABLE = "otnet_opto22"  # table inet otnet_opto22: the only table the role touches (the plan carries it)
UNIT_DIR = "/etc/systemd/system"
# Catalog direction of the records a flow uses: the controllers listen on conduit ports (incoming) and connect to
# outbound ports (outgoing). Records without a direction (all Opto 22 records) serve both.
DIRECTION = {"conduits": "incoming", "outbound": "outgoing"}
PEERS = {"conduits": "sources", "outbound": "destinations"}
EXTRA_PORT_LABEL = "chart_logic"  # the catalog's service key for ports PAC Control chart logic may use
# A services element: a bare catalog key (every protocol the catalog records for it) or one narrowed to a protocol.
SERVICE_KEYS = ("service", "protocol")
SERVICE_PROTOCOLS = {"tcp": ("tcp",), "udp": ("udp",), "both": ("tcp", "udp")}
SERVICE_RULE = "give a catalog service key (modbus_tcp) or {service: KEY, protocol: tcp, udp or both}"
OWNER = {"conduits": "conduit", "outbound": "outbound entry"}
NAME_MAX = 48
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*", re.ASCII)
NAME_RULE = "names use letters, digits, '_', '.' and '-', starting with a letter or digit"
LOG_RATE_RE = re.compile(r"[1-9][0-9]{0,5}/(second|minute|hour|day)", re.ASCII)
COMMENT_MAX = 120  # nft keeps at most 128 bytes of a comment
CONFIRM_TIMEOUT_MAX = 3600  # seconds; the rollback timer's shell arithmetic stays far from overflow
UNIT_NAME_MAX = 100
UNIT_CHAR_RE = re.compile(r"[A-Za-z0-9_.@-]", re.ASCII)
UNIT_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]+\.service", re.ASCII)
UNIT_EXAMPLE = "otnet-opto22-segment.service"
# Host paths reach a shell and a systemd unit: only characters neither expands nor splits.
PATH_RE = re.compile(r"[A-Za-z0-9._/-]+", re.ASCII)
PATH_RULE = "host paths use only letters, digits, '.', '_', '-' and '/' (nothing sh or systemd would expand or split)"
# System directories the role must never take for its own: none of them may be the state directory or the rules
# file, and the state directory must lie at least two levels below / (like /var/lib/otnet/opto22-segment).
SYSTEM_DIRS = frozenset(
    {
        "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
        "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",  # noqa: S108
        "/etc/default", "/etc/network", "/etc/nftables.d", "/etc/ssh", "/etc/sysconfig", "/etc/systemd",
        "/run/systemd", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/sbin",
        "/usr/share", "/var/cache", "/var/lib", "/var/log", "/var/mail", "/var/run", "/var/spool", "/var/tmp",  # noqa: S108
        "/var/lib/systemd",
    }
)  # fmt: skip
# Trees no role file belongs in: kernel and device filesystems, the boot files, the units systemd reads.
SYSTEM_TREES = ("/proc", "/sys", "/dev", "/boot", "/etc/systemd", "/usr/lib/systemd", "/lib/systemd", "/run/systemd")


class SegmentError(PortsError):
    """The opto22_segment settings break one or more rules; the message lists every problem."""


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


def plan_segment(catalog: Catalog, values: Any, *, connection: str = "", now: datetime | None = None) -> dict[str, Any]:
    """The checked policy as data; SegmentError listing every problem otherwise.

    ``values`` maps the role's variables by their full names (``opto22_segment_controllers``, ...); unset ones take
    the spec's defaults. ``connection`` is ``SSH_CONNECTION`` (or ``SSH_CLIENT``) as the host sees it, to keep the
    management path; empty (a local connection, or a plan made without the host) skips that check.
    With ``opto22_segment_state: absent`` only the settings the host side needs are checked and planned.
    ``now`` (an aware datetime; the clock's time when None) is the instant conduit expiries are checked against.
    """
    problems = Problems(ROLE, SegmentError)
    settings = {
        name.removeprefix(PREFIX): value for name, value in check_settings(role_spec(ROLE), values, problems).items()
    }
    host = _host_settings(settings, problems)
    if settings["state"] == "absent":
        problems.raise_if_any()
        return {"table": TABLE, "state": "absent", **host}
    controllers = _controllers(settings["controllers"], problems)
    resolver = ServiceIndex(catalog)
    permits = {kind: _permits(resolver, kind, settings[kind], problems) for kind in ("conduits", "outbound")}
    clock = utc_now(now)
    expiries = _expiries(settings, values, clock, problems)
    management = _management(settings["management"], problems)
    log_rate = settings["log_rate"]
    if not LOG_RATE_RE.fullmatch(log_rate):
        problems.add(
            f"{PREFIX}log_rate: {log_rate!r} is not an nft rate; write COUNT/UNIT with UNIT second, minute, hour "
            "or day (for example 10/minute)"
        )
    lockout_ok = settings["allow_management_lockout"]
    client = _check_management_path(management, connection, lockout_ok, problems)
    problems.raise_if_any()
    split = {
        (kind, version): _elements(permits[kind], version, expiries if kind == "conduits" else {})
        for kind in ("conduits", "outbound")
        for version in (4, 6)
    }
    return {
        "table": TABLE,
        "state": "present",
        **host,
        "controllers": _by_family(controllers),
        "management": {
            "port": management["port"],
            "sources": _by_family(management["sources"]),
            "connected_from": client,
            "lockout_allowed": lockout_ok,
        },
        **{kind: [_summary(item, expiries, clock) for item in items] for kind, items in permits.items()},
        "elements": {f"{kind}_v{version}": pieces.get(None, []) for (kind, version), pieces in split.items()},
        "expiring": _expiring(split, expiries),
        "log": {"drops": settings["log_drops"], "rate": log_rate},
    }


# ---- the host-side settings (every state) ----------------------------------------------------------------


def _host_settings(settings: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """Paths, unit and confirm timeout, checked before anything on the host changes, in every state."""
    state_dir = _host_path(settings["state_dir"], f"{PREFIX}state_dir", problems, directory=True)
    rules = _host_path(settings["rules_path"], f"{PREFIX}rules_path", problems, directory=False)
    if state_dir and rules and (rules == state_dir or rules.startswith(f"{state_dir}/")):
        what = "the state directory" if rules == state_dir else "inside the state directory"
        problems.add(
            f"{PREFIX}rules_path: {rules!r} is {what} "
            f"{PREFIX}state_dir ({state_dir!r}); the load would overwrite the role's rollback copies and helper there "
            "and the safety net would be lost: keep the rules file outside the state directory"
        )
    unit = _unit_name(settings["unit_name"], problems)
    timeout = _confirm_timeout(settings["confirm_timeout"], settings["allow_management_lockout"], problems)
    return {
        "paths": {"rules": rules, "state_dir": state_dir, "unit": posixpath.join(UNIT_DIR, unit) if unit else None},
        "unit_name": unit,
        "confirm_timeout": timeout,
        "persist": settings["persist"],
    }


def _host_path(value: str, where: str, problems: Problems, *, directory: bool) -> str | None:
    """An absolute, normalised path of characters no shell or systemd expands, away from system directories."""
    problem = _path_form_problem(value) or _path_place_problem(value, where, directory=directory)
    if problem:
        problems.add(f"{where}: {value!r} {problem}")
        return None
    return value


def _path_form_problem(value: str) -> str | None:
    """What is wrong with how the path is written, if anything."""
    bad = sorted({char for char in value if not PATH_RE.fullmatch(char)})
    if bad or not value:
        return f"contains {', '.join(repr(char) for char in bad) or 'nothing'}; {PATH_RULE}"
    if not value.startswith("/"):
        return "is not absolute; give a path starting with '/'"
    normal = posixpath.normpath(value)
    if normal != value or value.startswith("//"):
        return (
            "is not in normal form (no '.' or '..' components, no '//', no trailing '/'); "
            f"write {normal!r} if that is what you mean"
        )
    return None


def _path_place_problem(value: str, where: str, *, directory: bool) -> str | None:
    """What is wrong with where the path points, if anything: system directories, too shallow, a user's home."""
    what = "the state directory" if directory else "the rules file"
    like = f"like {role_spec(ROLE).options[where]['default']!r}"
    inside = next((tree for tree in SYSTEM_TREES if value == tree or value.startswith(f"{tree}/")), None)
    if value == "/" or value in SYSTEM_DIRS or inside:
        reason = f"is inside {inside}" if inside and value != inside else "is a system directory"
        return (
            f"{reason}; {what} must be a path of the role's own, {like} (not /, a system directory such as "
            f"/etc, /var or /var/lib, or anything below {', '.join(SYSTEM_TREES)})"
        )
    if value.count("/") < 2:
        return f"lies directly below /; {what} must be at least two levels deep, {like}"
    if directory and posixpath.dirname(value) == "/home":
        return f"is a user's home directory; {what} must be a directory of the role's own, {like}"
    return None


def _unit_name(value: str, problems: Problems) -> str | None:
    where = f"{PREFIX}unit_name"
    bad = sorted({char for char in value if char != "/" and not UNIT_CHAR_RE.fullmatch(char)})
    if bad:
        problems.add(
            f"{where}: {value!r} contains {', '.join(repr(char) for char in bad)}; not a systemd service name: use "
            "letters, digits, '_', '.', '@' and '-', ending in .service"
        )
    elif "/" in value or ".." in value:
        problems.add(f"{where}: {value!r} is a path; give a unit name like {UNIT_EXAMPLE} (no '/' or '..')")
    elif len(value) > UNIT_NAME_MAX:
        problems.add(
            f"{where}: {value[:20]!r}... is {len(value)} characters long; unit names here have at most {UNIT_NAME_MAX}"
        )
    elif not UNIT_NAME_RE.fullmatch(value):
        problems.add(f"{where}: {value!r} is not a systemd service name; it must end in .service, like {UNIT_EXAMPLE}")
    else:
        return value
    return None


def _confirm_timeout(value: int, lockout_ok: bool, problems: Problems) -> int | None:
    where = f"{PREFIX}confirm_timeout"
    if not 0 <= value <= CONFIRM_TIMEOUT_MAX:
        problems.add(
            f"{where}: {value} is out of range; give 0 (no rollback) to {CONFIRM_TIMEOUT_MAX} seconds (one hour, the "
            "longest the rollback timer waits)"
        )
        return None
    if value == 0 and lockout_ok:
        problems.add(
            f"{where}: 0 disables the rollback, and {PREFIX}allow_management_lockout is true: nothing would restore "
            "the previous rules if the new ones cut the management path; give a timeout of 1 or more seconds"
        )
    return value


# ---- the policy (state present) --------------------------------------------------------------------------


def _networks(values: Sequence[str], where: str, what: str, problems: Problems) -> list[Network]:
    """Addresses or CIDRs, IPv4 or IPv6, with host bits clear; never empty."""
    if not values:
        problems.add(f"{where}: empty; {what} needs at least one address or CIDR")
        return []
    networks = []
    for index, value in enumerate(values):
        try:
            networks.append(parse_network(value, f"{where}[{index}]"))
        except QueryError as exc:
            problems.add(str(exc))
    return networks


def _controllers(values: Sequence[str], problems: Problems) -> list[Network]:
    networks = _networks(values, f"{PREFIX}controllers", "the controller zone", problems)
    for network in networks:
        if network.prefixlen == 0:
            problems.add(
                f"{PREFIX}controllers: {str(network)!r} would put every forwarded packet in the controller zone; "
                "list the controllers' own addresses or networks"
            )
    return [network for network in networks if network.prefixlen > 0]


def _permits(resolver: ServiceIndex, kind: str, items: Sequence[Mapping[str, Any]], problems: Problems) -> list[Permit]:
    where = f"{PREFIX}{kind}"
    result: list[Permit] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item is None:  # refused by the spec already
            continue
        here = f"{where}[{index}]"
        name = _name(item["name"], f"{here}.name", problems)
        if name is not None and name in seen:
            problems.add(f"{here}.name: {name!r} is already the name of {where}[{seen[name]}]; names must be unique")
        elif name is not None:
            seen[name] = index
        peers_key = PEERS[kind]
        peers = _networks(item[peers_key], f"{here}.{peers_key}", f"a {kind.rstrip('s')} entry", problems)
        owner = f"{OWNER[kind]} {item['name']!r}"
        services, flows = _service_flows(
            resolver, item["services"], DIRECTION[kind], f"{here}.services", problems, owner=owner
        )
        flows += _extra_port_flows(resolver, item["ports"], f"{here}.ports", problems)
        if name is not None:
            result.append(Permit(kind, name, tuple(peers), services, tuple(flows)))
    return result


def _name(value: str, where: str, problems: Problems) -> str | None:
    if len(value) > NAME_MAX:
        problems.add(f"{where}: {value[:NAME_MAX]!r}... is {len(value)} characters long; names have at most {NAME_MAX}")
        return None
    if not NAME_RE.fullmatch(value):
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

    def protocols(self, service: str, direction: str) -> tuple[str, ...]:
        """The protocols of a known service's flows in ``direction``, tcp before udp."""
        found = {flow.protocol for flow in self.flows(service, direction)}
        return tuple(protocol for protocol in SERVICE_PROTOCOLS["both"] if protocol in found)


@dataclass(frozen=True)
class ServiceEntry:
    """One element of a conduit's or outbound entry's services: a catalog key, as written bare (every protocol the
    catalog records for it) or narrowed with a protocol (tcp, udp, or both)."""

    service: str
    protocol: str | None = None


def service_entry(value: Any, where: str) -> ServiceEntry:
    """A services element read strictly (no case folding, no trimming); QueryError naming ``where``, the value and
    the rule otherwise. Whether the catalog has the service is the caller's check."""
    if isinstance(value, str):
        if not value.strip():
            raise QueryError(f"{where}: {value!r} is empty; {SERVICE_RULE}")
        return ServiceEntry(value)
    if not isinstance(value, Mapping):
        raise QueryError(f"{where}: {value!r} is not a service entry; {SERVICE_RULE}")
    unknown = sorted(str(key) for key in value if key not in SERVICE_KEYS)
    if unknown:
        raise QueryError(f"{where}: unknown keys {', '.join(unknown)} in {dict(value)!r}; {SERVICE_RULE}")
    service, protocol = value.get("service"), value.get("protocol")
    if not isinstance(service, str) or not service.strip():
        raise QueryError(f"{where}.service: {service!r} is not a catalog service key; {SERVICE_RULE}")
    if "protocol" not in value:
        raise QueryError(
            f"{where}: {dict(value)!r} has no protocol; give protocol tcp, udp or both, or write the bare key {service}"
        )
    if not isinstance(protocol, str) or protocol not in SERVICE_PROTOCOLS:
        rule = "tcp, udp or both (lower case; both keeps every protocol the catalog records)"
        raise QueryError(f"{where}.protocol: {protocol!r} is not a protocol of a service entry; give {rule}")
    return ServiceEntry(service, protocol)


def _service_flows(
    resolver: ServiceIndex, services: Sequence[Any], direction: str, where: str, problems: Problems, *, owner: str
) -> tuple[tuple[str, ...], list[Flow]]:
    """The service keys (each once, in order) and their flows; a service written more than once keeps every
    protocol any of its entries asks for (a bare key: all of them)."""
    wanted: dict[str, set[str] | None] = {}
    for position, value in enumerate(services):
        here = f"{where}[{position}]"
        try:
            entry = service_entry(value, here)
            protocols = _entry_protocols(resolver, entry, direction, here, owner)
        except PortsError as exc:
            problems.add(str(exc))
            continue
        known = wanted.get(entry.service, set())
        wanted[entry.service] = None if protocols is None or known is None else known | set(protocols)
    flows = dict.fromkeys(
        flow
        for service, protocols in wanted.items()
        for flow in resolver.flows(service, direction)
        if protocols is None or flow.protocol in protocols
    )
    return tuple(wanted), list(flows)


def _entry_protocols(
    resolver: ServiceIndex, entry: ServiceEntry, direction: str, where: str, owner: str
) -> tuple[str, ...] | None:
    """The protocols an entry keeps (None: a bare key keeps all); QueryError when the catalog lacks the service, its
    records in ``direction``, or a protocol the entry asks for."""
    service = entry.service
    if service not in resolver.known:
        raise unknown_name("catalog service", service, resolver.known, where)
    if not resolver.flows(service, direction):
        raise QueryError(
            f"{where}: {service!r} has no {direction} records in the catalog (only "
            f"{', '.join(resolver.directions(service))}); "
            f"{'use it in outbound flows' if direction == 'incoming' else 'use it in a conduit'}"
        )
    if entry.protocol is None:
        return None
    has = resolver.protocols(service, direction)
    missing = [protocol for protocol in SERVICE_PROTOCOLS[entry.protocol] if protocol not in has]
    if missing:
        fix = f"protocol {has[0]}, or the bare key {service}" if len(has) == 1 else "protocol tcp, udp or both"
        raise QueryError(
            f"{where}: {owner} asks for {service} on {entry.protocol}, but the catalog has {service} only on "
            f"{' and '.join(has)} ({direction} records; no {' or '.join(missing)}); give {fix}"
        )
    return SERVICE_PROTOCOLS[entry.protocol]


def _extra_port_flows(
    resolver: ServiceIndex, ports: Sequence[Mapping[str, Any]], where: str, problems: Problems
) -> list[Flow]:
    """Extra ports are chart-logic ports: each must be one PAC Control chart logic may use, with a protocol."""
    flows = []
    for index, item in enumerate(ports):
        here = f"{where}[{index}]"
        try:
            span = parse_item({key: value for key, value in item.items() if value is not None}, here)
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


def _management(value: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    where = f"{PREFIX}management"
    sources = _networks(value["sources"], f"{where}.sources", "the management stations", problems)
    port = value["port"]
    if not 1 <= port <= PORT_MAX:
        problems.add(f"{where}.port: {port} is not a port a service can listen on; give 1-{PORT_MAX}")
    return {"sources": sources, "port": port}


def _check_management_path(
    management: Mapping[str, Any], connection: str, lockout_ok: bool, problems: Problems
) -> str | None:
    """Refuse rules that would not admit the SSH connection Ansible came in on (unless the escape hatch is set).

    An empty connection (a local connection, or a plan made without the host) has nothing to check. One the role
    cannot read fails closed: without the client address and port it cannot tell whether the rules cut it.
    """
    hatch = f"set {PREFIX}allow_management_lockout: true to apply anyway and let the confirm-timeout rollback restore"
    text = (connection or "").strip()
    if not text:
        return None
    parsed = _parse_connection(text)
    if parsed is None:
        if not lockout_ok:
            problems.add(
                f"{PREFIX}management: the SSH connection Ansible came in on ({text!r}) is not 'CLIENT_ADDRESS "
                "CLIENT_PORT SERVER_ADDRESS SERVER_PORT' (SSH_CONNECTION) or 'CLIENT_ADDRESS CLIENT_PORT SERVER_PORT' "
                "(SSH_CLIENT), so the role cannot check that the new rules admit it and refuses to apply them; "
                f"{hatch} the previous rules"
            )
        return None
    client, server_port = parsed
    if lockout_ok:
        return str(client)
    sources = management["sources"]
    if sources and not any(client in network for network in sources):
        problems.add(
            f"{PREFIX}management.sources: {[str(n) for n in sources]} do not admit {client}, the address Ansible is "
            f"connected from (SSH_CONNECTION); these rules would cut the management path. Add {client} or its "
            f"network, or {hatch} the previous rules"
        )
    if server_port != management["port"]:
        problems.add(
            f"{PREFIX}management.port: {management['port']} is not the port Ansible's SSH connection uses "
            f"({server_port}); these rules would cut the management path. Set it to {server_port}, or {hatch} the "
            "previous rules"
        )
    return str(client)


def _parse_connection(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    """(client address, server port) of SSH_CONNECTION or SSH_CLIENT; None when it is neither."""
    fields = text.split()
    if len(fields) not in (3, 4) or not all(_is_port(field) for field in (fields[1], fields[-1])):
        return None
    try:
        client = ipaddress.ip_address(fields[0].split("%")[0])  # sshd may report a link-local client's zone
        if len(fields) == 4:
            ipaddress.ip_address(fields[2].split("%")[0])
    except ValueError:
        return None
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:
        client = client.ipv4_mapped  # a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d
    return client, int(fields[-1])


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= PORT_MAX


# ---- the plan as data ----------------------------------------------------------------------------------


def _text(network: Network) -> str:
    """A network as the user would write it: a host without its /32 or /128."""
    return str(network) if network.prefixlen < network.max_prefixlen else str(network.network_address)


def _by_family(networks: Sequence[Network]) -> dict[str, list[str]]:
    return {
        f"ipv{version}": [_text(n) for n in ipaddress.collapse_addresses(n for n in networks if n.version == version)]
        for version in (4, 6)
    }


def _summary(item: Permit, expiries: Mapping[str, Expiry], now: datetime) -> dict[str, Any]:
    """A conduit or outbound entry as data; a conduit also carries ``expires`` (UTC, ``...Z``, or None) on itself
    and on each flow, and ``expires_in`` (seconds left at ``now``, or None)."""
    timed = item.kind == "conduits"
    expiry = expiries.get(item.name) if timed else None
    until = {"expires": expiry.text if expiry else None} if timed else {}
    return {
        "name": item.name,
        PEERS[item.kind]: [_text(n) for n in item.peers],
        "services": list(item.services),
        **until,
        **({"expires_in": expiry.left(now) if expiry else None} if timed else {}),
        "flows": [
            {"service": f.service, "protocol": f.protocol, "start": f.start, "end": f.end, "basis": f.basis, **until}
            for f in item.flows
        ],
    }


def _elements(
    items: Sequence[Permit], version: int, expiries: Mapping[str, Expiry]
) -> dict[int | None, list[dict[str, str]]]:
    """Set elements ``peer . protocol . port`` for one address family, disjoint, each with a comment naming who
    admits it (``scada: modbus_tcp``), by the instant (epoch seconds) they stop being admitted: None for pieces a
    conduit without ``expires`` admits, else the latest expiry of the conduits admitting the piece. Pieces are
    disjoint across instants too, so each lives in exactly one set."""
    by_until: dict[int | None, list[dict[str, str]]] = {}
    boxes = [
        Box(*network_range(peer), flow.protocol, flow.start, flow.end, ((item.name, flow.service),))
        for item in items
        for peer in item.peers
        if peer.version == version
        for flow in item.flows
    ]
    for box in disjoint_boxes(boxes):
        by_until.setdefault(_until(box.labels, expiries), []).append(
            {
                "key": f"{address_text(box.lo, box.hi, version)} . {box.protocol} . "
                f"{range_text(box.port_lo, box.port_hi)}",
                "comment": _comment(box.labels),
            }
        )
    return by_until


def _until(labels: Sequence[tuple[str, str]], expiries: Mapping[str, Expiry]) -> int | None:
    """None when a conduit without expiry admits the piece, else the last instant one of them still does."""
    epochs = [expiries[name].epoch if name in expiries else None for name, _ in labels]
    return None if None in epochs else max(epoch for epoch in epochs if epoch is not None)


def _expiring(split: Mapping[tuple[str, int], Mapping[int | None, Any]], expiries: Mapping[str, Expiry]) -> list:
    """One entry per expiry instant, earliest first: when (``expires``, ``epoch``), which conduits, and the set
    elements admitted until then (``conduits_v4``, ``conduits_v6``), kept out of the unconditional sets."""
    instants = {expiry.epoch: expiry for expiry in expiries.values()}
    return [
        {
            "expires": instants[epoch].text,
            "epoch": epoch,
            "conduits": sorted(name for name, expiry in expiries.items() if expiry.epoch == epoch),
            "elements": {f"conduits_v{version}": list(split["conduits", version].get(epoch, [])) for version in (4, 6)},
        }
        for epoch in sorted(instants)
    ]


# ---- expiring conduits ---------------------------------------------------------------------------------


def _expiries(settings: Mapping[str, Any], values: Mapping[str, Any], now: datetime, problems: Problems) -> dict:
    """Each conduit's ``expires`` checked (by conduit name); ``expires`` on what cannot expire refused (the
    management mapping has no such key in the spec, so its reason is added to the spec's "unknown key")."""
    found: dict[str, Expiry] = {}
    for index, item in enumerate(settings["conduits"]):
        if item is None or item.get("expires") is None:
            continue
        where = f"{PREFIX}conduits[{index}].expires"
        try:
            found[item["name"]] = parse_expires(item["expires"], now)
        except ExpiresError as exc:
            problems.add(f"{where}: conduit {item['name']!r}: {exc}")
    for index, item in enumerate(settings["outbound"]):
        if item is not None and item.get("expires") is not None:
            problems.add(
                f"{PREFIX}outbound[{index}].expires: outbound entry {item['name']!r} cannot expire (outbound flows "
                "carry the controllers' own traffic; only conduits, the access INTO the segment, are time-limited); "
                "remove expires, or remove the entry when it is no longer needed"
            )
    management = values.get(f"{PREFIX}management")
    if isinstance(management, Mapping) and "expires" in management:
        problems.add(
            f"{PREFIX}management.expires: the management path cannot expire (it would lock Ansible and the "
            "operators out of this host); remove expires"
        )
    return found


def _comment(labels: Sequence[tuple[str, str]]) -> str:
    by_name: dict[str, list[str]] = {}
    for name, service in labels:
        by_name.setdefault(name, []).append(service)
    text = "; ".join(f"{name}: {', '.join(dict.fromkeys(services))}" for name, services in by_name.items())
    return text if len(text) <= COMMENT_MAX else text[: COMMENT_MAX - 3] + "..."
