"""Elements of nftables interval sets keyed ``address . protocol . port``, made disjoint.

The kernel refuses overlapping elements in a concatenated interval set ("File exists"), but a policy may
well say "10.20.0.0/16 may reach 500-510/tcp" and "10.20.1.0/24 may reach 505-520/tcp". ``disjoint_boxes``
cuts such boxes into pieces that do not overlap, each labelled with every rule that admits it, so the set
holds one element per piece and each element's comment names the rules behind it.

Addresses are integers here (IPv4 and IPv6 are never mixed in one call); ``address_text`` turns a range back
into what nft reads: an address, a prefix, or ``first-last``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from itertools import groupby, pairwise

Label = Hashable


@dataclass(frozen=True)
class Box:
    """Addresses ``lo``-``hi`` x one protocol x ports ``port_lo``-``port_hi``, admitted by ``labels``."""

    lo: int
    hi: int
    protocol: str
    port_lo: int
    port_hi: int
    labels: tuple[Label, ...]


def disjoint_boxes(boxes: Iterable[Box]) -> list[Box]:
    """The same coverage as ``boxes``, as boxes that do not overlap, sorted by protocol, address, port.

    Identical boxes become one with both labels; a box inside another is cut out of it; port ranges are cut
    where they overlap. Labels keep their first-seen order. Boxes that overlap nothing come out unchanged.
    """
    result: list[Box] = []
    by_protocol = sorted(boxes, key=lambda box: box.protocol)
    for protocol, group in groupby(by_protocol, key=lambda box: box.protocol):
        result.extend(_disjoint_one_protocol(protocol, list(group)))
    return result


def _disjoint_one_protocol(protocol: str, boxes: list[Box]) -> list[Box]:
    """Sweep the address axis; between two consecutive edges the set of covering boxes is constant."""
    order = {box: index for index, box in enumerate(boxes)}
    edges = sorted({box.lo for box in boxes} | {box.hi + 1 for box in boxes})
    starts = sorted(boxes, key=lambda box: box.lo)
    active: dict[Box, None] = {}
    out: list[Box] = []
    next_start = 0
    for left, right in pairwise(edges):
        while next_start < len(starts) and starts[next_start].lo == left:
            active[starts[next_start]] = None
            next_start += 1
        for box in [box for box in active if box.hi < left]:
            del active[box]
        if not active:
            continue
        covering = sorted(active, key=order.__getitem__)
        for port_lo, port_hi, labels in _disjoint_ports(covering):
            out.append(Box(left, right - 1, protocol, port_lo, port_hi, labels))
    return out


def _disjoint_ports(boxes: list[Box]) -> list[tuple[int, int, tuple[Label, ...]]]:
    """Port pieces of boxes that share one address range; neighbours with the same labels are joined."""
    edges = sorted({box.port_lo for box in boxes} | {box.port_hi + 1 for box in boxes})
    pieces: list[tuple[int, int, tuple[Label, ...]]] = []
    for left, right in pairwise(edges):
        labels = tuple(
            dict.fromkeys(label for box in boxes if box.port_lo <= left <= box.port_hi for label in box.labels)
        )
        if not labels:
            continue
        if pieces and pieces[-1][1] == left - 1 and pieces[-1][2] == labels:
            pieces[-1] = (pieces[-1][0], right - 1, labels)
        else:
            pieces.append((left, right - 1, labels))
    return pieces


def network_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """First and last address as integers (arithmetic: ``broadcast_address`` builds an address object per call)."""
    first = int(network.network_address)
    return first, first + (1 << (network.max_prefixlen - network.prefixlen)) - 1


def address_text(lo: int, hi: int, version: int) -> str:
    """``10.0.0.1``, ``10.0.0.0/24``, or ``10.0.0.5-10.0.0.9`` (what nft reads in an interval set)."""
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    first, last = make(lo), make(hi)
    if lo == hi:
        return str(first)
    networks = list(ipaddress.summarize_address_range(first, last))
    if len(networks) == 1:
        return str(networks[0])
    return f"{first}-{last}"
