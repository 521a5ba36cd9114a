"""The opto22_segment role's live table, read from ``nft -j list table inet <table>`` (libnftables JSON), as data.

The one parser of the live table: the role's change report (``_segment_changes``) and the audit use it.

API
---
``parse_table(document, table=TABLE) -> LiveTable | None``
    ``document`` is the JSON text nft printed, or it parsed (``{"nftables": [...]}``); empty text, ``None`` or a
    document without ``table inet <table>`` mean the table is missing: ``None``. Anything else not in the shape
    nft writes raises ``LiveTableError`` naming what is wrong.
``LiveTable``
    ``table`` (name), ``controllers`` and ``management_sources`` (``{"ipv4": [...], "ipv6": [...]}``, addresses
    and networks as the planner writes them: a host without ``/32``), ``management_port`` (the ``tcp dport`` of
    the input rule commented ``management SSH``; ``None`` when there is none), ``elements`` (``LiveElement``s of
    the sets ``conduits_v4/6`` and ``outbound_v4/6``, in the table's order).
``LiveElement``
    One set element ``peer . protocol . port``: ``kind`` (``conduits``|``outbound``), ``version`` (4|6), ``lo`` /
    ``hi`` (the peer addresses as integers), ``protocol`` (``tcp``, ``udp``, or the number as text), ``start`` /
    ``end`` (ports), ``comment`` (as the element has it), ``labels`` (``(conduit, service)`` pairs read from
    the comment, ``scada: modbus_tcp; eng: modbus_tcp, optommp``; ``(UNNAMED, "")`` for a comment that names none,
    such as an element added by hand), ``truncated`` (the comment ends in ``...``: the planner cut it at
    ``COMMENT_MAX``, so ``labels`` may miss some), ``packets`` / ``bytes`` (the element's
    counter; ``None`` when it has none, as in ``nft -s`` output). ``peer`` gives the address text nft reads
    (an address, a prefix, or ``first-last``).
``live_flows(live) -> list[dict]``
    The table's elements as flows, the shape of the plan's flows and of ``flows.json``: ``direction`` (``in`` for
    conduits, ``out`` for outbound), ``conduit``, ``service``, ``sources``, ``destinations`` (in: the conduit's
    sources -> the controllers; out: the controllers -> the destinations), ``protocol``, ``start``, ``end``, and
    ``packets`` / ``bytes`` (summed over the elements of the flow; an element several conduits share counts for
    each; ``None`` without counters). The pieces the planner cut (``_nft_sets.disjoint_boxes``) are joined again
    per conduit, service and protocol, and the IPv4 and IPv6 halves of a flow joined, so a conduit's flow comes
    back as one flow with all its sources. Sorted by direction, conduit, service, protocol, start
    (``sort_flows``, which also joins).
Lower level (``_segment_changes`` uses them): ``Region`` (conduit, service, protocol, addresses ``lo``-``hi``,
ports ``start``-``end``); ``element_flows(kind, version, regions, controllers, counters=False)`` - flows of one
kind and address family from regions, joined per conduit, service and protocol; ``joined(regions)`` - a union of
regions in a canonical form; ``parse_labels(comment)``; ``networks_text(lo, hi, version)``; ``sort_flows(flows)``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ._errors import QueryError
from ._nft_sets import address_text
from ._opto22_segment_plan import TABLE
from ._portrange import merge

UNTIL_SET = re.compile(r"conduits_v([46])_until_([0-9]+)")  # _nft_render: a time-limited conduit's set
KINDS = ("conduits", "outbound")
DIRECTIONS = {"conduits": "in", "outbound": "out"}
MANAGEMENT_COMMENT = "management SSH"
TRUNCATION = "..."
UNNAMED = "(unnamed)"  # the conduit of an element whose comment names none (conduit names have no parentheses)
_PROTOCOLS = {6: "tcp", 17: "udp", 33: "dccp", 132: "sctp", 136: "udplite"}
_FAMILY = {4: "ipv4", 6: "ipv6"}


class LiveTableError(QueryError):
    """The nft JSON handed in is not in the shape ``nft -j list table`` writes."""


@dataclass(frozen=True)
class LiveElement:
    """One element ``peer . protocol . port`` of a conduits/outbound set; see the module docstring."""

    kind: str
    version: int
    lo: int
    hi: int
    protocol: str
    start: int
    end: int
    comment: str
    labels: tuple[tuple[str, str], ...]
    truncated: bool = False
    packets: int | None = None
    bytes: int | None = None

    @property
    def peer(self) -> str:
        return address_text(self.lo, self.hi, self.version)

    @property
    def key(self) -> tuple[str, int, int, int, str, int, int]:
        """What the element matches, without its comment: set kind, family, addresses, protocol, ports."""
        return (self.kind, self.version, self.lo, self.hi, self.protocol, self.start, self.end)


@dataclass(frozen=True)
class LiveTable:
    table: str
    controllers: dict[str, list[str]]
    management_sources: dict[str, list[str]]
    management_port: int | None
    elements: tuple[LiveElement, ...]


@dataclass(frozen=True)
class Region:
    """Peer addresses ``lo``-``hi`` x ports ``start``-``end`` of one flow label (conduit, service, protocol)."""

    conduit: str
    service: str
    protocol: str
    lo: int
    hi: int
    start: int
    end: int
    packets: int | None = None
    bytes: int | None = None


def parse_table(document: Any, table: str = TABLE) -> LiveTable | None:
    """The live table from nft's JSON; ``None`` when it has no ``table inet <table>``."""
    objects = _objects(document)
    if not any(_of_table(item.get("table"), table, name_key="name") for item in objects):
        return None
    sets = {
        body["name"]: body
        for item in objects
        if isinstance(body := item.get("set"), Mapping) and _of_table(body, table)
    }
    elements = tuple(
        element
        for kind in KINDS
        for version in (4, 6)
        for element in _set_elements(sets.get(f"{kind}_v{version}"), kind, version)
    )
    return LiveTable(
        table=table,
        controllers=_plain_set(sets, "controllers"),
        management_sources=_plain_set(sets, "management"),
        management_port=_management_port(objects, table),
        elements=elements,
    )


def until_elements(document: Any, table: str = TABLE) -> dict[int, list[LiveElement]]:
    """The elements of the time-limited sets ``conduits_v4/6_until_EPOCH`` (a conduit with ``expires``), by the
    epoch second they expire at; read like the unconditional sets' (kind ``conduits``)."""
    found: dict[int, list[LiveElement]] = {}
    for item in _objects(document):
        body = item.get("set")
        match = UNTIL_SET.fullmatch(str(body.get("name", ""))) if isinstance(body, Mapping) else None
        if match and _of_table(body, table):
            found.setdefault(int(match[2]), []).extend(_set_elements(body, "conduits", int(match[1])))
    return found


def live_flows(live: LiveTable) -> list[dict[str, Any]]:
    """The live table's conduit and outbound elements as flows (module docstring)."""
    flows: list[dict[str, Any]] = []
    for kind in KINDS:
        for version in (4, 6):
            regions = [
                Region(conduit, service, e.protocol, e.lo, e.hi, e.start, e.end, e.packets, e.bytes)
                for e in live.elements
                if e.kind == kind and e.version == version
                for conduit, service in e.labels
            ]
            flows += element_flows(kind, version, regions, live.controllers[_FAMILY[version]], counters=True)
    return sort_flows(flows)


def sort_flows(flows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Flows that differ only in their addresses (the IPv4 and IPv6 halves of one conduit's flow) joined, sorted by
    direction, conduit, service, protocol, ports, addresses."""
    joined_flows: list[dict[str, Any]] = []
    halves: dict[tuple[Any, ...], int] = {}  # (key, family) -> index of a one-family flow still without its half
    for flow in flows:
        key = tuple(flow[name] for name in ("direction", "conduit", "service", "protocol", "start", "end"))
        family = _families(flow)
        partner = halves.pop((*key, {"4": "6", "6": "4"}.get(family, "")), None)
        if partner is None:
            if family in ("4", "6"):
                halves.setdefault((*key, family), len(joined_flows))
            joined_flows.append({**flow, "sources": list(flow["sources"]), "destinations": list(flow["destinations"])})
            continue
        into = joined_flows[partner]
        for name in ("sources", "destinations"):
            into[name] += [text for text in flow[name] if text not in into[name]]
        for name in ("packets", "bytes"):
            if name in into:
                into[name] = _total((into[name], flow.get(name)))
    return _sorted(joined_flows)


def _families(flow: Mapping[str, Any]) -> str:
    """``4``, ``6`` (every address of the flow of that family), or ``46``; only a 4 and a 6 are joined."""
    families = {
        str(network.version)
        for name in ("sources", "destinations")
        for text in flow[name]
        if (network := _network(text)) is not None
    }
    return "".join(sorted(families)) or "46"


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None  # a host name (the management flows' destination)


def _sorted(flows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    def order(flow: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            flow["direction"],
            flow["conduit"],
            flow["service"] or "",
            flow["protocol"],
            flow["start"],
            flow["end"],
            flow["sources"],
            flow["destinations"],
        )

    return [dict(flow) for flow in sorted(flows, key=order)]


def element_flows(
    kind: str, version: int, regions: Sequence[Region], controllers: Sequence[str], *, counters: bool = False
) -> list[dict[str, Any]]:
    """Regions joined per (conduit, service, protocol) into flows: one flow per port range, with the address ranges
    that have exactly that port range (module docstring)."""
    groups: dict[tuple[str, str, str], list[Region]] = {}
    for region in regions:
        groups.setdefault((region.conduit, region.service, region.protocol), []).append(region)
    flows = []
    for (conduit, service, protocol), members in groups.items():
        for start, end, ranges in joined(members):
            peers = [text for lo, hi in ranges for text in networks_text(lo, hi, version)]
            inside = [r for r in members if r.start <= end and start <= r.end and _touches(r, ranges)]
            flow: dict[str, Any] = {
                "direction": DIRECTIONS[kind],
                "conduit": conduit,
                "service": service or None,
                "sources": peers if kind == "conduits" else list(controllers),
                "destinations": list(controllers) if kind == "conduits" else peers,
                "protocol": protocol,
                "start": start,
                "end": end,
            }
            if counters:
                flow["packets"] = _total(r.packets for r in inside)
                flow["bytes"] = _total(r.bytes for r in inside)
            flows.append(flow)
    return flows


def joined(regions: Sequence[Region]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The union of ``regions`` as (port start, port end, address ranges): cut at every port edge, the address
    ranges of each port piece merged, and neighbouring port pieces with the same address ranges joined. The
    result depends only on the union, not on how it was cut."""
    edges = sorted({r.start for r in regions} | {r.end + 1 for r in regions})
    pieces: list[tuple[int, int, list[tuple[int, int]]]] = []
    for left, right in pairwise(edges):
        ranges = merge((r.lo, r.hi) for r in regions if r.start <= left <= r.end)
        if not ranges:
            continue
        if pieces and pieces[-1][1] == left - 1 and pieces[-1][2] == ranges:
            pieces[-1] = (pieces[-1][0], right - 1, ranges)
        else:
            pieces.append((left, right - 1, ranges))
    return pieces


def networks_text(lo: int, hi: int, version: int) -> list[str]:
    """An address range as the fewest networks, each written the planner's way (a host without its prefix)."""
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [
        str(n) if n.prefixlen < n.max_prefixlen else str(n.network_address)
        for n in ipaddress.summarize_address_range(make(lo), make(hi))
    ]


def parse_labels(comment: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    """``scada: modbus_tcp; eng: modbus_tcp, optommp`` -> ((scada, modbus_tcp), (eng, modbus_tcp), ...), and
    whether the comment was cut (``...``); a cut last label is left out."""
    truncated = comment.endswith(TRUNCATION)
    text = comment[: -len(TRUNCATION)] if truncated else comment
    labels: list[tuple[str, str]] = []
    parts = text.split("; ")
    for index, part in enumerate(parts):
        name, colon, services = part.partition(": ")
        if not colon or not name:
            continue
        names = [service for service in services.split(", ") if service]
        if truncated and index == len(parts) - 1 and names:
            names = names[:-1]  # the cut one
        labels += [(name, service) for service in names]
    if not labels and not truncated:
        labels = [(UNNAMED, "")]  # an element someone added without (or with another) comment still admits traffic
    return tuple(dict.fromkeys(labels)), truncated


# ---- reading nft's JSON ----------------------------------------------------------------------------------------


def _objects(document: Any) -> list[Mapping[str, Any]]:
    if document is None or (isinstance(document, str) and not document.strip()):
        return []
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise LiveTableError(f"the live table is not JSON as `nft -j list table` writes it: {exc}") from exc
    items = document.get("nftables") if isinstance(document, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise LiveTableError('the live table must be nft\'s JSON: {"nftables": [{...}, ...]}')
    return items


def _of_table(body: Any, table: str, name_key: str = "table") -> bool:
    return isinstance(body, Mapping) and body.get("family") == "inet" and body.get(name_key) == table


def _plain_set(sets: Mapping[str, Mapping[str, Any]], base: str) -> dict[str, list[str]]:
    result = {}
    for version in (4, 6):
        ranges = [_address(value, f"{base}_v{version}", version) for value in _elems(sets.get(f"{base}_v{version}"))]
        result[_FAMILY[version]] = [text for lo, hi in merge(ranges) for text in networks_text(lo, hi, version)]
    return result


def _elems(body: Mapping[str, Any] | None) -> list[Any]:
    if body is None:
        return []
    elems = body.get("elem", [])
    return elems if isinstance(elems, list) else [elems]


def _set_elements(body: Mapping[str, Any] | None, kind: str, version: int) -> list[LiveElement]:
    where = f"{kind}_v{version}"
    result = []
    for raw in _elems(body):
        element = raw.get("elem", raw) if isinstance(raw, Mapping) else raw
        value = element.get("val") if isinstance(element, Mapping) and "val" in element else element
        parts = value.get("concat") if isinstance(value, Mapping) else None
        if not isinstance(parts, list) or len(parts) != 3:
            raise LiveTableError(f"set {where}: element {json.dumps(raw)} is not 'address . protocol . port'")
        lo, hi = _address(parts[0], where, version)
        start, end = _port(parts[2], where)
        comment = str(element.get("comment", "")) if isinstance(element, Mapping) else ""
        counter = element.get("counter") if isinstance(element, Mapping) else None
        labels, truncated = parse_labels(comment)
        result.append(
            LiveElement(
                kind, version, lo, hi, _protocol(parts[1], where), start, end, comment, labels, truncated,
                *(_counter(counter, key) for key in ("packets", "bytes")),
            )
        )  # fmt: skip
    return result


def _address(value: Any, where: str, version: int) -> tuple[int, int]:
    try:
        if isinstance(value, str):
            address = ipaddress.ip_address(value)
            _check_version(address.version, version)
            return int(address), int(address)
        if isinstance(value, Mapping) and isinstance(value.get("prefix"), Mapping):
            prefix = value["prefix"]
            network = ipaddress.ip_network(f"{prefix['addr']}/{prefix['len']}", strict=False)
            _check_version(network.version, version)
            return int(network.network_address), int(network.broadcast_address)
        if isinstance(value, Mapping) and isinstance(value.get("range"), list) and len(value["range"]) == 2:
            first, last = (ipaddress.ip_address(text) for text in value["range"])
            _check_version(first.version, version)
            _check_version(last.version, version)
            return int(first), int(last)
    except (ValueError, TypeError, KeyError) as exc:
        raise LiveTableError(f"set {where}: {json.dumps(value)} is not an IPv{version} address: {exc}") from exc
    raise LiveTableError(f"set {where}: {json.dumps(value)} is not an address, a prefix or a range")


def _check_version(found: int, wanted: int) -> None:
    if found != wanted:
        raise ValueError(f"an IPv{found} address in an IPv{wanted} set")


def _port(value: Any, where: str) -> tuple[int, int]:
    if isinstance(value, Mapping) and isinstance(value.get("range"), list) and len(value["range"]) == 2:
        start, end = (_port_number(item, where) for item in value["range"])
        return start, end
    number = _port_number(value, where)
    return number, number


def _port_number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isascii():
        raise LiveTableError(f"set {where}: {json.dumps(value)} is not a port number")
    if isinstance(value, str) and not value.isdigit():
        raise LiveTableError(f"set {where}: {value!r} is not a port number (list the table with nft -j, not -S)")
    number = int(value)
    if not 0 <= number <= 65535:
        raise LiveTableError(f"set {where}: {number} is not a port number (0-65535)")
    return number


def _protocol(value: Any, where: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _PROTOCOLS.get(value, str(value))
    raise LiveTableError(f"set {where}: {json.dumps(value)} is not a protocol")


def _counter(counter: Any, key: str) -> int | None:
    value = counter.get(key) if isinstance(counter, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _total(values: Iterable[int | None]) -> int | None:
    known = list(values)
    return None if any(value is None for value in known) else sum(known)  # type: ignore[arg-type]


def _touches(region: Region, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(region.lo <= hi and lo <= region.hi for lo, hi in ranges)


def _management_port(objects: Sequence[Mapping[str, Any]], table: str) -> int | None:
    for item in objects:
        rule = item.get("rule")
        if not (_of_table(rule, table) and rule.get("chain") == "input" and rule.get("comment") == MANAGEMENT_COMMENT):
            continue
        for expr in rule.get("expr", []):
            match = expr.get("match") if isinstance(expr, Mapping) else None
            left = match.get("left") if isinstance(match, Mapping) else None
            payload = left.get("payload") if isinstance(left, Mapping) else None
            if isinstance(payload, Mapping) and payload.get("field") == "dport":
                right = match.get("right")
                return right if isinstance(right, int) and not isinstance(right, bool) else None
    return None
