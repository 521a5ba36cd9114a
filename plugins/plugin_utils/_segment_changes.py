"""What an opto22_segment run adds and removes, as flows: the plan against the live table (``_nft_live``).

Not a diff of nft text: both sides become regions ``peer addresses x ports`` per conduit, service and protocol
(and per controller), and the change is the difference of those regions, joined back into flows
(``_nft_live.element_flows``). So a plan that only cuts the same coverage differently changes nothing, an element
deleted by hand comes back as exactly the flow it admitted, and a changed controller zone adds or removes every
flow to or from that controller.

``changes(source, live_json, catalog, host="")`` (the filter ``opto22_segment_changes``)
    ``source`` is a plan with details or the role's variables by full name (planned here with ``catalog``, the
    management path check left to the role); ``live_json`` what ``nft -j list table inet <table>`` printed
    (empty: no table). Returns ``segment_changes(...)``.
``segment_changes(plan, live, host="") -> {"added": [...], "removed": [...]}``
    ``plan``: the planner's plan with details (``_opto22_segment_plan.plan_segment``, or the filter
    ``opto22_segment_plan`` with ``details=true``); with ``state: absent`` everything live is removed.
    ``live``: ``_nft_live.parse_table(...)``; ``None`` (no table) means everything planned is added.
    Each change is a flow: ``direction`` (``in``|``out``), ``conduit`` (``management`` for this host's SSH),
    ``service`` (catalog key; ``None`` for management), ``sources``, ``destinations`` (for management: ``host``
    when given, else empty), ``protocol``, ``start``, ``end``. Sorted, IPv4 and IPv6 halves joined.

Elements that are the same on both sides (addresses, protocol, ports and comment) are set aside first; only the
others are compared, so in-sync tables cost one pass. A planned element whose comment the planner cut
(``COMMENT_MAX``) takes its labels from the plan's conduits instead of the comment. A live element with a cut
comment has only the labels the comment kept: should it differ from every planned element, the flows of the
conduits its comment lost show as added though they are live (rare: more conduits than a comment holds on one
piece, and that piece changed).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from ._addresses import parse_network
from ._catalog import Catalog
from ._errors import QueryError
from ._nft_live import (
    KINDS,
    LiveElement,
    LiveTable,
    Region,
    element_flows,
    parse_labels,
    parse_table,
    sort_flows,
    until_elements,
)
from ._nft_sets import network_range
from ._opto22_segment_plan import plan_segment
from ._portrange import merge

MANAGEMENT = "management"
PEERS = {"conduits": "sources", "outbound": "destinations"}
_FAMILY = {4: "ipv4", 6: "ipv6"}


def changes(source: Any, live_json: Any, catalog: Catalog, host: str = "") -> dict[str, list[dict[str, Any]]]:
    """The changes for a plan or the role's variables against nft's JSON (module docstring)."""
    if not isinstance(source, Mapping):
        raise QueryError(f"the plan or the role's variables must be a mapping, not {type(source).__name__}")
    if "table" in source:
        plan = source
        if plan.get("state") != "absent" and "elements" not in plan:
            raise QueryError(
                "the plan has no details (conduits, elements): make it with opto22_segment_plan(details=true), "
                "or pass the role's variables"
            )
    else:
        plan = plan_segment(catalog, source)
    if not isinstance(host, str):
        raise QueryError(f"host: {host!r} is not a host name or address")
    live = parse_table(live_json, plan["table"])
    if live is not None:  # a time-limited conduit's elements live in sets of their own, one per expiry instant
        extra = [element for elements in until_elements(live_json, plan["table"]).values() for element in elements]
        live = dataclasses.replace(live, elements=(*live.elements, *extra))
    return segment_changes(plan, live, host)


def segment_changes(plan: Mapping[str, Any], live: LiveTable | None, host: str = "") -> dict[str, list[dict[str, Any]]]:
    """The flows a run adds and removes (module docstring)."""
    if plan.get("state") == "absent":
        return {"added": [], "removed": _everything(live, host)}
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for version in (4, 6):
        planned_zone = list(plan["controllers"][_FAMILY[version]])
        live_zone = list(live.controllers[_FAMILY[version]]) if live else []
        common = [net for net in planned_zone if net in live_zone]
        new = [net for net in planned_zone if net not in live_zone]
        gone = [net for net in live_zone if net not in planned_zone]
        for kind in KINDS:
            planned = _planned_elements(plan, kind, version)
            found = [e for e in live.elements if e.kind == kind and e.version == version] if live else []
            only_planned, only_found = _unmatched(planned, found)
            permits = _permit_regions(plan, kind, version)
            plan_regions = [r for e in only_planned for r in _planned_regions(permits, e)]
            live_regions = [r for e in only_found for r in _element_regions(e)]
            if common:
                added += element_flows(kind, version, subtract(plan_regions, live_regions), common)
                removed += element_flows(kind, version, subtract(live_regions, plan_regions), common)
            if new:
                added += element_flows(kind, version, permits, new)
            if gone:
                everything = [r for e in found for r in _element_regions(e)]
                removed += element_flows(kind, version, everything, gone)
        planned_ssh = _management_regions(plan["management"]["sources"], plan["management"]["port"], version)
        live_ssh = _management_regions(live.management_sources, live.management_port, version) if live else []
        added += _management_flows(subtract(planned_ssh, live_ssh), version, host)
        removed += _management_flows(subtract(live_ssh, planned_ssh), version, host)
    return {"added": sort_flows(added), "removed": sort_flows(removed)}


def subtract(regions: Sequence[Region], minus: Sequence[Region]) -> list[Region]:
    """The parts of ``regions`` that ``minus`` does not cover, per (conduit, service, protocol)."""
    result: list[Region] = []
    minus_groups = _groups(minus)
    for label, members in _groups(regions).items():
        others = minus_groups.get(label, [])
        edges = sorted({r.start for r in [*members, *others]} | {r.end + 1 for r in [*members, *others]})
        for left, right in pairwise(edges):
            have = merge((r.lo, r.hi) for r in members if r.start <= left <= r.end)
            if not have:
                continue
            taken = merge((r.lo, r.hi) for r in others if r.start <= left <= r.end)
            for lo, hi in _ranges_minus(have, taken):
                result.append(Region(*label, lo, hi, left, right - 1))
    return result


def _ranges_minus(have: Sequence[tuple[int, int]], taken: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for lo, hi in have:
        cursor = lo
        for t_lo, t_hi in taken:
            if t_hi < cursor or t_lo > hi:
                continue
            if t_lo > cursor:
                out.append((cursor, t_lo - 1))
            cursor = max(cursor, t_hi + 1)
            if cursor > hi:
                break
        if cursor <= hi:
            out.append((cursor, hi))
    return out


def _groups(regions: Iterable[Region]) -> dict[tuple[str, str, str], list[Region]]:
    groups: dict[tuple[str, str, str], list[Region]] = {}
    for region in regions:
        groups.setdefault((region.conduit, region.service, region.protocol), []).append(region)
    return groups


def _unmatched(
    planned: Sequence[LiveElement], found: Sequence[LiveElement]
) -> tuple[list[LiveElement], list[LiveElement]]:
    """The elements each side has and the other has not, by addresses, protocol, ports and comment."""
    return _missing_from(planned, found), _missing_from(found, planned)


def _missing_from(elements: Sequence[LiveElement], others: Sequence[LiveElement]) -> list[LiveElement]:
    """``elements`` without one of each element ``others`` has too (a multiset difference, order kept)."""
    pool = Counter((e.key, e.comment) for e in others)
    missing = []
    for element in elements:
        if pool[(element.key, element.comment)] > 0:
            pool[(element.key, element.comment)] -= 1
        else:
            missing.append(element)
    return missing


def _planned_elements(plan: Mapping[str, Any], kind: str, version: int) -> list[LiveElement]:
    """The plan's set elements (``key``: ``peer . protocol . port``, ``comment``) read like live ones."""
    result = []
    pieces = list(plan["elements"][f"{kind}_v{version}"])
    if kind == "conduits":  # and those admitted until an expiry instant, kept in sets of their own
        pieces += [piece for group in plan.get("expiring") or [] for piece in group["elements"][f"{kind}_v{version}"]]
    for element in pieces:
        peer, protocol, ports = (part.strip() for part in element["key"].split(" . "))
        lo, hi = _peer_range(peer)
        first, _, last = ports.partition("-")
        labels, truncated = parse_labels(element["comment"])
        result.append(
            LiveElement(
                kind, version, lo, hi, protocol, int(first), int(last or first), element["comment"], labels, truncated
            )
        )
    return result


def _peer_range(text: str) -> tuple[int, int]:
    if "-" in text:
        first, last = (parse_network(part, "plan element") for part in text.split("-"))
        return int(first.network_address), int(last.network_address)
    return network_range(parse_network(text, "plan element"))


def _element_regions(element: LiveElement) -> list[Region]:
    return [
        Region(conduit, service, element.protocol, element.lo, element.hi, element.start, element.end)
        for conduit, service in element.labels
    ]


def _planned_regions(permits: Sequence[Region], element: LiveElement) -> list[Region]:
    """A planned element's regions: from its comment, or, when the planner cut the comment, from every planned
    flow (``permits``, the element's kind and family) that admits the element (the planner's pieces lie wholly
    inside or outside each flow)."""
    if not element.truncated:
        return _element_regions(element)
    return [
        Region(r.conduit, r.service, r.protocol, element.lo, element.hi, element.start, element.end)
        for r in permits
        if r.protocol == element.protocol
        and r.lo <= element.lo
        and element.hi <= r.hi
        and r.start <= element.start
        and element.end <= r.end
    ]


def _permit_regions(plan: Mapping[str, Any], kind: str, version: int) -> list[Region]:
    regions = []
    for item in plan[kind]:
        for peer in item[PEERS[kind]]:
            network = parse_network(peer, f"{kind} {item['name']}")
            if network.version != version:
                continue
            lo, hi = network_range(network)
            regions += [
                Region(item["name"], flow["service"], flow["protocol"], lo, hi, flow["start"], flow["end"])
                for flow in item["flows"]
            ]
    return regions


def _management_regions(sources: Mapping[str, Sequence[str]], port: int | None, version: int) -> list[Region]:
    if port is None:
        return []
    return [
        Region(MANAGEMENT, "", "tcp", *network_range(parse_network(text, MANAGEMENT)), port, port)
        for text in sources[_FAMILY[version]]
    ]


def _management_flows(regions: Sequence[Region], version: int, host: str) -> list[dict[str, Any]]:
    flows = element_flows("conduits", version, regions, [host] if host else [])
    return [{**flow, "service": None} for flow in flows]


def _everything(live: LiveTable | None, host: str) -> list[dict[str, Any]]:
    """Every flow of the live table (state absent removes the table)."""
    if live is None:
        return []
    flows: list[dict[str, Any]] = []
    for version in (4, 6):
        zone = live.controllers[_FAMILY[version]]
        for kind in KINDS:
            regions = [r for e in live.elements if e.kind == kind and e.version == version for r in _element_regions(e)]
            flows += element_flows(kind, version, regions, zone)
        ssh = _management_regions(live.management_sources, live.management_port, version)
        flows += _management_flows(ssh, version, host)
    return sort_flows(flows)
