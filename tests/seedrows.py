"""Rows of the vendor documents, read from verbatim copies in tests/seeds/ — the independent truth the catalog is
checked against. Nothing here reads the catalog.

The documents are PDF text: tab-separated cells, merged cells left empty or split over two rows. The parser
undoes just that: an empty description repeats the one above; a description whose raw text starts in lower case
finishes the sentence of the row above, and the joined text belongs to both rows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"
OPTO22_SEED = SEEDS / "opto22-ports.txt"
IGOR_SEED = SEEDS / "igor-ports.txt"

OPTO22_SECTIONS = {
    "Ports you can use in PAC Control chart logic": "chart_logic",
    "Ports you cannot use in chart logic": "chart_logic_reserved",
    "Ports used by Opto 22 firmware": "firmware",
    "Ports used by Opto 22 SNAP PAC controllers and brains": "controllers",
    "Ports used by Opto 22's groov": "groov",
    "TCP AND UDP PORT NUMBERS ASSIGNED BY IANA": "iana",
}
IGOR_SECTIONS = {
    "## Igor Gateway Software Ports": "gateway",
    "## Igor Firmware Network Communication Port Requirements": "firmware",
    "## Igor BACnet Service Communication Port Requirements": "bacnet",
}
# Protocols whose own standard fixes the transport (the document names the protocol, not the transport).
STANDARD_TRANSPORTS = {"FTP": "tcp", "SMTP": "tcp", "BootP": "udp", "SNMP": "udp", "Modbus/TCP": "tcp"}
_PORTS = re.compile(r"(\d+)(?:\s*(–|-|and)\s*(\d+))?")
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Opto22Row:
    table: str
    text: str
    ranges: list[tuple[int, int]]
    description: str
    category: str | None = None
    continues_above: bool = field(default=False, repr=False)

    @property
    def id(self) -> str:
        return f"{self.table}: {self.text}"


@dataclass
class IgorRow:
    table: str
    min_version: str
    number: int
    cells: dict[tuple[str, str], int | None]
    legend: dict[int, str] = field(repr=False)

    @property
    def id(self) -> str:
        shown = " | ".join("--" if port is None else str(port) for port in self.cells.values())
        return f"{self.table} row {self.number}: {shown}"

    def filled_cells(self) -> Iterator[tuple[str, str, int]]:
        """(direction, protocol, port) of each cell that holds a port ("--" cells left out), in the columns' order."""
        for (direction, protocol), port in self.cells.items():
            if port is not None:
                yield direction, protocol, port


def expected_protocols(row: Opto22Row) -> tuple[set[str], str]:
    """The transports the document gives for a row, and on what basis ("stated", "standard" or "assumed")."""
    if row.table == "iana":
        return {"tcp", "udp"}, "stated"  # the section is "TCP and UDP port numbers assigned by IANA"
    for name, transport in STANDARD_TRANSPORTS.items():
        if row.description == name or row.description.startswith(f"{name} "):
            return {transport}, "standard"
    own_words = re.sub(r'"[^"]*"', "", row.description)  # a quoted section title is a cross-reference, not a protocol
    stated = {word.lower() for word in re.findall(r"\b(TCP|UDP)\b", own_words)}
    if stated:
        return stated, "stated"
    return {"tcp", "udp"}, "assumed"


def clean(text: str) -> str:
    return " ".join(_TAG.sub("", text).split())


def port_ranges(text: str) -> list[tuple[int, int]]:
    """'22004 and 22005' -> two ports; '0 – 22003' -> one range; '443' -> one port."""
    match = _PORTS.fullmatch(text.strip())
    if not match:
        return []
    first, joiner, last = match.groups()
    if joiner is None:
        return [(int(first), int(first))]
    if joiner == "and":
        return [(int(first), int(first)), (int(last), int(last))]
    return [(int(first), int(last))]


def opto22_rows() -> list[Opto22Row]:
    rows: list[Opto22Row] = []
    table = None
    category = None
    for line in OPTO22_SEED.read_text(encoding="utf-8").splitlines():
        heading = line.strip()
        if heading in OPTO22_SECTIONS:
            table, category = OPTO22_SECTIONS[heading], None
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if table is None or len(cells) < 2:
            continue
        if table == "iana":
            if len(cells) < 3 or not port_ranges(cells[1]):
                continue
            category = cells[0] or category
            rows.append(Opto22Row(table, cells[1], port_ranges(cells[1]), clean(cells[2]), category))
        elif port_ranges(cells[0]):
            continues = cells[1][:1].islower()  # raw text: "<i>groov</i> Find" is not a continuation
            rows.append(Opto22Row(table, cells[0], port_ranges(cells[0]), clean(cells[1]), None, continues))
    _join_merged_cells(rows)
    return rows


def _join_merged_cells(rows: list[Opto22Row]) -> None:
    for previous, row in itertools.pairwise(rows):
        if previous.table != row.table:
            continue
        if not row.description:
            row.description = previous.description
        elif row.continues_above:
            previous.description = row.description = f"{previous.description} {row.description}"


def igor_rows() -> list[IgorRow]:
    rows: list[IgorRow] = []
    table, version, legend = None, "", {}
    in_ports = False
    for line in IGOR_SEED.read_text(encoding="utf-8").splitlines():
        if line.strip() in IGOR_SECTIONS:
            table, in_ports, legend = IGOR_SECTIONS[line.strip()], False, {}
            continue
        if line.startswith("Version "):
            version = line.split()[1]
        elif line.startswith("TCP\tUDP\tTCP\tUDP"):
            in_ports = True
        elif line.startswith(("Legend", "PORT\tDESCRIPTION")) or not line.strip():
            in_ports = in_ports and bool(line.strip())
        elif in_ports and table:
            cells = [None if cell.strip() == "--" else int(cell) for cell in line.split("\t")]
            keys = [("incoming", "tcp"), ("incoming", "udp"), ("outgoing", "tcp"), ("outgoing", "udp")]
            rows.append(
                IgorRow(
                    table,
                    version,
                    len([r for r in rows if r.table == table]) + 1,
                    dict(zip(keys, cells, strict=True)),
                    legend,
                )
            )
        elif table and re.fullmatch(r"\d+\t.+", line):
            port, description = line.split("\t")
            legend[int(port)] = description.strip()
        elif table and line.startswith("**Legend:**"):
            legend.update({int(p): d for p, d in re.findall(r"Port (\d+) \(([^)]+)\)", line)})
    return rows


def igor_exclusions() -> dict[str, list[str]]:
    """{'paths': [...], 'processes': [...]} from the antivirus exclusion table."""
    found: dict[str, list[str]] = {}
    for line in IGOR_SEED.read_text(encoding="utf-8").splitlines():
        for kind in ("Path", "Process"):
            if line.startswith(f"<b>{kind} exclusions:</b>"):
                found[f"{kind.lower()}{'s' if kind == 'Path' else 'es'}"] = re.findall(r"<li>• ([^<]+)</li>", line)
    return found
