"""Every row of the Opto 22 document is in the catalog, exactly, and the catalog holds nothing else."""

from __future__ import annotations

import re

import pytest
from seedrows import Opto22Row, opto22_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import merge

ROWS = opto22_rows()
# Protocols whose own standard fixes the transport (the document names the protocol, not the transport).
STANDARD_TRANSPORTS = {"FTP": "tcp", "SMTP": "tcp", "BootP": "udp", "SNMP": "udp", "Modbus/TCP": "tcp"}


def expected_protocols(row: Opto22Row) -> tuple[set[str], str]:
    """The transports the document gives for a row, and on what basis."""
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


def records_of(catalog, row: Opto22Row) -> list[dict]:
    return [
        r
        for r in catalog.select(vendor="opto22", tables=[row.table])
        if r["description"] == row.description
        and any(r["start"] <= end and start <= r["end"] for start, end in row.ranges)
    ]


def test_the_document_has_all_its_tables():
    assert {row.table for row in ROWS} == {
        "chart_logic",
        "chart_logic_reserved",
        "firmware",
        "controllers",
        "groov",
        "iana",
    }
    assert len(ROWS) == 36


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_seed_row_is_in_the_catalog(catalog, row):
    records = records_of(catalog, row)
    protocols, basis = expected_protocols(row)
    assert {r["protocol"] for r in records} == protocols
    for protocol in protocols:
        ranges = merge((r["start"], r["end"]) for r in records if r["protocol"] == protocol)
        assert ranges == merge(row.ranges), f"{protocol} ranges"
    assert {r["protocol_basis"] for r in records} == {basis}
    if row.category:
        assert {r["category"] for r in records} == {row.category}


def test_every_opto22_record_comes_from_a_seed_row(catalog):
    seeded = [record for row in ROWS for record in records_of(catalog, row)]
    assert [record for record in catalog.select(vendor="opto22") if record not in seeded] == []
