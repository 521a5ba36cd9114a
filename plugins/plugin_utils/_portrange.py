"""Port and port-range arithmetic: parsing the shapes users write, merging, formatting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ._errors import QueryError, unknown_name

PORT_MIN = 0
PORT_MAX = 65535
PROTOCOLS = ("tcp", "udp")
FORMATS = ("pairs", "nft", "windows", "firewalld")
_SPEC = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?(?:/\s*([A-Za-z]+)\s*)?", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SPACES = " \t"


class PortSpan(NamedTuple):
    """An inclusive range of ports, with the transport protocol when the input named one."""

    start: int
    end: int
    protocol: str | None = None


def check_port(value: Any, where: str) -> int:
    """``value`` as a port number, or an error naming ``where``: an integer, or a string of ASCII digits 0-9."""
    rule = f"a port number is an integer {PORT_MIN}-{PORT_MAX} written with the ASCII digits 0-9"
    if isinstance(value, str):
        value = _port_text(value, where, rule)
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"{where}: {value!r} is not a port number; {rule}")
    if not PORT_MIN <= value <= PORT_MAX:
        raise QueryError(f"{where}: {value} is out of range; ports are {PORT_MIN}-{PORT_MAX}")
    return value


def _port_text(value: str, where: str, rule: str) -> int:
    """A port written as text; other scripts' digits (٨٠, ８０, ²) are refused, never read as numbers."""
    text = value.strip(_SPACES)
    if not _DIGITS.fullmatch(text):
        raise QueryError(f"{where}: {value!r} is not a port number{_foreign_digits(text)}; {rule}")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(PORT_MAX)):  # too long for a port; int() of thousands of digits would fail anyway
        raise QueryError(f"{where}: {value!r} is out of range; ports are {PORT_MIN}-{PORT_MAX}")
    return int(digits)


def _foreign_digits(text: str) -> str:
    """`` (('٨' is ARABIC-INDIC DIGIT EIGHT, ...)`` when ``text`` holds digits other than ASCII 0-9, else ``''``."""
    other = sorted({char for char in text if not char.isascii() and (char.isdigit() or char.isnumeric())})
    names = [f"{char!r} is {unicodedata.name(char, f'U+{ord(char):04X}')}" for char in other]
    return f" ({', '.join(names)})" if names else ""


def check_protocol(value: Any, where: str) -> str:
    protocol = value.lower() if isinstance(value, str) else value
    if protocol not in PROTOCOLS:
        raise unknown_name("protocol", value, PROTOCOLS, where)
    return protocol


def span(start: Any, end: Any, protocol: str | None, where: str) -> PortSpan:
    start, end = check_port(start, where), check_port(end, where)
    if start > end:
        raise QueryError(f"{where}: start {start} is greater than end {end}")
    return PortSpan(start, end, check_protocol(protocol, where) if protocol is not None else None)


def parse_item(item: Any, where: str) -> PortSpan:
    """One port spec: 80, "80", "80-90", "80/tcp", "1900-1901/udp", [80, 90], or a record with port|start/end."""
    if isinstance(item, Mapping):
        return _record_span(item, where)
    if isinstance(item, (list, tuple)):
        if len(item) != 2:
            raise QueryError(f"{where}: a pair is [start, end]; got {list(item)!r}")
        return span(item[0], item[1], None, where)
    if isinstance(item, str):
        match = _SPEC.fullmatch(item)
        if not match:
            raise QueryError(
                f"{where}: {item!r} is not a port spec{_foreign_digits(item)}; write 80, '80-90', '80/tcp' or "
                "'80-90/udp' with the ASCII digits 0-9"
            )
        start, end, protocol = match.groups()
        return span(start, end or start, protocol, where)
    return span(item, item, None, where)


def _record_span(item: Mapping[Any, Any], where: str) -> PortSpan:
    """A record gives ``port``, or ``start`` and ``end``; both, or half a range, are contradictions, never guessed."""
    protocol = item.get("protocol")
    given = [key for key in ("port", "start", "end") if key in item]
    if given == ["port"]:
        return span(item["port"], item["port"], protocol, where)
    if given == ["start", "end"]:
        return span(item["start"], item["end"], protocol, where)
    shown = {key: item[key] for key in given}
    if "port" in given:
        raise QueryError(
            f"{where}: {shown!r} gives both 'port' and {' and '.join(repr(k) for k in given[1:])}; give one port, "
            "or a range with 'start' and 'end', never both"
        )
    if given:
        missing = "end" if given == ["start"] else "start"
        raise QueryError(f"{where}: {shown!r} gives {given[0]!r} without {missing!r}; a range needs both")
    raise QueryError(f"{where}: a record needs 'port', or 'start' and 'end'; got keys {sorted(map(str, item))}")


def parse_items(items: Any, where: str = "ports") -> list[PortSpan]:
    """A scalar or a list of port specs, each parsed with its position in the error messages."""
    if isinstance(items, (str, int, Mapping)) or (isinstance(items, tuple) and len(items) == 2):
        items = [items]
    if not isinstance(items, Iterable):
        raise QueryError(f"{where}: expected a port, a port spec or a list of them; got {items!r}")
    return [parse_item(item, f"{where}[{index}]") for index, item in enumerate(items)]


def merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlapping and adjacent ones joined: (80,80),(81,85),(84,90) -> (80,90)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlap(first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int] | None:
    start, end = max(first[0], second[0]), min(first[1], second[1])
    return (start, end) if start <= end else None


def range_text(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"


def ranges_text(ranges: Iterable[tuple[int, int]], separator: str = ", ") -> str:
    return separator.join(range_text(start, end) for start, end in ranges)


def format_ranges(items: Any, fmt: str = "pairs", protocol: str | None = None) -> list[Any] | str:
    """Merged ranges of ``items`` in one of FORMATS; ``protocol`` selects records and labels bare ports."""
    if fmt not in FORMATS:
        raise unknown_name("format", fmt, FORMATS)
    if protocol is not None:
        protocol = check_protocol(protocol, "protocol")
    spans = [s for s in parse_items(items) if protocol is None or s.protocol in (None, protocol)]
    if fmt == "firewalld":
        return _firewalld(spans, protocol)
    protocols = {s.protocol for s in spans} - {None}
    if len(protocols) > 1:
        raise QueryError(
            f"the ports carry more than one protocol ({', '.join(sorted(protocols))}); "
            "pass protocol='tcp' or protocol='udp', or use format='firewalld'"
        )
    ranges = merge((s.start, s.end) for s in spans)
    if fmt == "pairs":
        return [[start, end] for start, end in ranges]
    return ranges_text(ranges, ", " if fmt == "nft" else ",")


def _firewalld(spans: list[PortSpan], protocol: str | None) -> list[str]:
    by_protocol: dict[str, list[tuple[int, int]]] = {}
    for index, item in enumerate(spans):
        chosen = item.protocol or protocol
        if chosen is None:
            raise QueryError(
                f"ports[{index}]: {range_text(item.start, item.end)} has no protocol; "
                "firewalld needs one: pass protocol='tcp' or 'udp', or give records with a protocol"
            )
        by_protocol.setdefault(chosen, []).append((item.start, item.end))
    return [
        f"{range_text(start, end)}/{name}" for name in sorted(by_protocol) for start, end in merge(by_protocol[name])
    ]
