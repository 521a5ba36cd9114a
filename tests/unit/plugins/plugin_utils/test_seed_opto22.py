"""Every row of the Opto 22 document is in the catalog, exactly, and the catalog holds nothing else."""

from __future__ import annotations

import pytest
from seedrows import Opto22Row, expected_protocols, opto22_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import merge

ROWS = opto22_rows()


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
