"""Chart-logic rules: every port is either allowed or reserved, with the document's reason."""

from __future__ import annotations

import dataclasses

import pytest
from seedrows import opto22_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._chart_logic import (
    allowed_ranges,
    check_chart_port,
    verdict,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import ChartPortError, QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import PORT_MAX, merge

ALLOWED = [row for row in opto22_rows() if row.table == "chart_logic"]
RESERVED = [row for row in opto22_rows() if row.table == "chart_logic_reserved"]


def test_allowed_and_reserved_cover_every_port_once(catalog):
    allowed = [(r["start"], r["end"]) for r in catalog.select(tables=["chart_logic"], protocol="tcp")]
    reserved = [(r["start"], r["end"]) for r in catalog.select(tables=["chart_logic_reserved"], protocol="tcp")]
    assert merge(allowed + reserved) == [(0, PORT_MAX)]
    assert sum(end - start + 1 for start, end in allowed + reserved) == PORT_MAX + 1


@pytest.mark.parametrize("row", ALLOWED, ids=lambda row: row.id)
def test_allowed_seed_row_edges_pass(catalog, row):
    for start, end in row.ranges:
        assert check_chart_port(catalog, start) == start
        assert check_chart_port(catalog, str(end)) == end


@pytest.mark.parametrize("row", RESERVED, ids=lambda row: row.id)
def test_reserved_seed_row_edges_fail_with_range_and_reason(catalog, row):
    reason = row.description.split(". For more information")[0]
    for start, end in row.ranges:
        for port in (start, end, (start + end) // 2):
            with pytest.raises(ChartPortError) as error:
                check_chart_port(catalog, port)
            message = str(error.value)
            assert f"{port} cannot be used in PAC Control chart logic" in message
            assert f"reserved range {start}-{end}, {reason[0].lower()}{reason[1:]}" in message
            assert verdict(catalog, port).allowed is False


def test_reserved_message_names_the_services_using_the_port(catalog):
    with pytest.raises(ChartPortError) as error:
        check_chart_port(catalog, 50000)
    assert "50000-50999, reserved by Opto 22 to be used internally by PAC and Ultimate controllers" in str(error.value)
    assert "also assigned to controller_internal (Used internally by PAC and Ultimate controllers)" in str(error.value)
    assert str(error.value).endswith("Chart logic may use 22004-22005, 49152-49999, 51000-65535")


def test_allowed_ranges(catalog):
    assert allowed_ranges(catalog) == merge(r for row in ALLOWED for r in row.ranges)


@pytest.mark.parametrize("value", ["abc", 70000, None, 1.5])
def test_not_a_port(catalog, value):
    with pytest.raises(QueryError):
        check_chart_port(catalog, value)


UNICODE_DIGITS = {
    "²": "SUPERSCRIPT TWO",
    "٨٠": "ARABIC-INDIC DIGIT EIGHT",
    "８０": "FULLWIDTH DIGIT EIGHT",
    "₅": "SUBSCRIPT",
}


@pytest.mark.parametrize(("value", "named"), UNICODE_DIGITS.items(), ids=UNICODE_DIGITS.keys())
def test_unicode_digits_are_not_ports(catalog, value, named):
    with pytest.raises(QueryError) as error:
        check_chart_port(catalog, value, "otnet_ports_chart_ports[0].port")
    message = str(error.value)
    assert message.startswith(f"otnet_ports_chart_ports[0].port: {value!r} is not a port number")
    assert named in message
    assert "an integer 0-65535 written with the ASCII digits 0-9" in message
    assert "invalid literal" not in message


# ---- chart-logic rules come from the vendor catalog only (issue 9, defect 1) -------------------------------

OPEN_RULE = {
    "vendor": "opto22",
    "table": "chart_logic",
    "service": "chart_logic",
    "label": "chart logic",
    "start": 0,
    "end": 65535,
    "protocol": "tcp",
    "protocol_basis": "stated",
    "description": "every port",
}


@pytest.mark.parametrize("position", ["first", "last"])
def test_a_catalog_object_with_an_injected_rule_changes_nothing(catalog, position):
    """Even a catalog object built around with_overlay's checks cannot widen chart logic."""
    records = (OPEN_RULE, *catalog.records) if position == "first" else (*catalog.records, OPEN_RULE)
    forged = dataclasses.replace(catalog, records=records)
    assert allowed_ranges(forged) == allowed_ranges(catalog)
    for port in (22, 2001, 50000):
        assert verdict(forged, port).allowed is False
        with pytest.raises(ChartPortError, match=rf"{port} cannot be used in PAC Control chart logic"):
            check_chart_port(forged, port)


def test_site_records_are_owners_but_never_rules(catalog):
    site = catalog.with_overlay(
        [{"service": "site_everything", "start": 0, "end": 65535, "protocol": "tcp", "description": "all ports"}]
    )
    assert allowed_ranges(site) == allowed_ranges(catalog)
    result = verdict(site, 22)
    assert result.allowed is False
    assert "site_everything" in {owner["service"] for owner in result.owners}
