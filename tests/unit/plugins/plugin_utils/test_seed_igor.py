"""Every cell of the Igor port tables, and every exclusion, is in the catalog exactly; nothing else is."""

from __future__ import annotations

import pytest
from seedrows import igor_exclusions, igor_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._queries import exclusion_entries

ROWS = igor_rows()


def test_the_document_has_all_its_tables():
    assert [(table, sum(1 for r in ROWS if r.table == table)) for table in ("gateway", "firmware", "bacnet")] == [
        ("gateway", 10),
        ("firmware", 10),
        ("bacnet", 1),
    ]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_seed_row_is_in_the_catalog(catalog, row):
    for direction, protocol, port in row.filled_cells():
        matches = [
            r
            for r in catalog.select(vendor="igor", tables=[row.table], protocol=protocol, direction=direction)
            if r.get("direction") == direction and r["start"] <= port <= r["end"]
        ]
        assert len(matches) == 1, f"{direction} {protocol} {port}"
        (record,) = matches
        assert (record["start"], record["end"]) == (port, port)
        assert record["description"] == row.legend[port]
        assert record["min_version"] == row.min_version
        assert record["protocol_basis"] == "stated"


@pytest.mark.parametrize("table", ["gateway", "firmware", "bacnet"])
def test_every_igor_record_comes_from_a_seed_cell(catalog, table):
    seeded = sorted((d, p, port) for row in ROWS if row.table == table for d, p, port in row.filled_cells())
    records = sorted((r["direction"], r["protocol"], r["start"]) for r in catalog.select(vendor="igor", tables=[table]))
    assert records == seeded


@pytest.mark.parametrize(("term", "kind"), [("paths", "path"), ("processes", "process")])
def test_exclusions_are_the_documents_exactly(catalog, term, kind):
    entries = exclusion_entries(catalog, [term])
    assert [e["path"] for e in entries] == igor_exclusions()[term]
    assert {e["kind"] for e in entries} == {kind}


def test_exclusion_counts():
    assert {kind: len(paths) for kind, paths in igor_exclusions().items()} == {"paths": 2, "processes": 7}
