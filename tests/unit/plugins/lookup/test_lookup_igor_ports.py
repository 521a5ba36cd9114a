from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from seedrows import igor_rows

GATEWAY = [row for row in igor_rows() if row.table == "gateway"]


@pytest.fixture
def lookup():
    return lookup_loader.get("otnet.ports.igor_ports")


@pytest.mark.parametrize(
    ("direction", "protocol"), [("incoming", "tcp"), ("incoming", "udp"), ("outgoing", "tcp"), ("outgoing", "udp")]
)
def test_gateway_columns(lookup, direction, protocol):
    expected = sorted(
        row.cells[(direction, protocol)] for row in GATEWAY if row.cells[(direction, protocol)] is not None
    )
    records = lookup.run(["gateway"], variables={}, version="1.12.1", direction=direction, protocol=protocol)
    assert sorted(r["start"] for r in records) == expected


def test_version_below_floor(lookup):
    with pytest.raises(AnsibleLookupError, match=r"version: 1\.12\.0 is below 1\.12\.1"):
        lookup.run(["gateway"], variables={}, version="1.12.0")


def test_not_a_version(lookup):
    with pytest.raises(AnsibleLookupError, match=r"'one\.twelve' is not a version"):
        lookup.run(["bacnet"], variables={}, version="one.twelve")


def test_all_tables_by_default(lookup):
    assert {r["table"] for r in lookup.run([], variables={})} == {"gateway", "firmware", "bacnet"}


def test_direction_choice_names_the_valid_values(lookup):
    with pytest.raises(AnsibleLookupError, match=r"^unknown direction 'inbound'; known: incoming, outgoing$"):
        lookup.run(["gateway"], variables={}, direction="inbound")
