from __future__ import annotations

import pytest
from seedrows import igor_rows, opto22_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import (
    exclusion_entries,
    igor_exclusions,
    igor_records,
    opto22_records,
    port_conflicts,
    port_owners,
    service_records,
)

ASSIGNMENT_ROWS = [row for row in opto22_rows() if row.table in ("firmware", "controllers", "groov")]
FLOORS = {row.table: row.min_version for row in igor_rows()}


@pytest.mark.parametrize("row", ASSIGNMENT_ROWS, ids=lambda row: row.id)
def test_each_assigned_port_is_owned_by_its_row(catalog, row):
    for start, _ in row.ranges:
        assert row.description in {r["description"] for r in port_owners(catalog, start)}


def test_2002_is_optocontrol_peer_and_groov_find(catalog):
    owners = port_owners(catalog, 2002)
    assert sorted({(r["service"], r["description"]) for r in owners}) == [
        ("groov_find", "groov Find"),
        ("optocontrol_peer", "OptoControl peer port"),
    ]
    assert {r["protocol"] for r in owners} == {"tcp", "udp"}
    assert len(port_owners(catalog, "2002/udp")) == 2


def test_owners_of_a_port_used_by_both_vendors(catalog):
    assert {r["vendor"] for r in port_owners(catalog, 80)} == {"igor"}
    assert {r["vendor"] for r in port_owners(catalog, 50195)} == {"opto22", "igor"}


def test_owners_leave_policy_tables_out_unless_asked(catalog):
    assert port_owners(catalog, 49200) == []
    assert {r["table"] for r in port_owners(catalog, 49200, include_policy=True)} == {"chart_logic", "iana"}


def test_owners_take_one_port(catalog):
    with pytest.raises(QueryError, match="is a range"):
        port_owners(catalog, "80-90")


def test_conflicts(catalog):
    site = [
        {"name": "historian", "port": 2001, "protocol": "tcp"},
        "49200/udp",
        {"name": "bms", "start": 47800, "end": 47810},
    ]
    found = port_conflicts(catalog, site)
    assert [(c["site"].get("name"), c["catalog"]["service"], c["catalog"]["protocol"]) for c in found] == [
        ("historian", "optommp", "tcp"),
        ("bms", "bacnet_ip", "udp"),
        ("bms", "bacnet_ip", "udp"),
    ]
    assert found[0]["overlap"] == {"start": 2001, "end": 2001}
    assert port_conflicts(catalog, [161], include_policy=False)[0]["catalog"]["service"] == "snmp"


def test_service_records_span_vendors_and_name_unknown_keys(catalog):
    records = service_records(catalog, ["modbus_tcp", "coap"], direction="incoming")
    assert {(r["service"], r["protocol"]) for r in records} == {("modbus_tcp", "tcp"), ("coap", "udp")}
    with pytest.raises(
        QueryError, match=r"conduits\[0\]\.services\[1\]: unknown catalog service 'modbus' \(did you mean"
    ):
        service_records(catalog, ["snmp", "modbus"], where="conduits[0].services")
    with pytest.raises(QueryError, match="unknown catalog service 'chart_logic'"):
        service_records(catalog, ["chart_logic"])


def test_opto22_terms_narrow_and_default_to_all(catalog):
    assert {r["table"] for r in opto22_records(catalog, [])} == {
        "firmware",
        "controllers",
        "groov",
        "chart_logic",
        "chart_logic_reserved",
        "iana",
    }
    assert [r["start"] for r in opto22_records(catalog, ["controllers"], services=["ethernet_ip"], protocol="udp")] == [
        44818
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: opto22_records(c, ["grooov"]),
            "unknown opto22 table 'grooov' (did you mean 'groov'?); known: chart_logic",
        ),
        (lambda c: opto22_records(c, ["groov"], services=["modbus"]), "unknown opto22 service 'modbus'"),
        (lambda c: opto22_records(c, ["groov"], protocol="icmp"), "unknown protocol 'icmp'; known: tcp, udp"),
        (lambda c: opto22_records(c, ["groov"], services=["modbus_tcp"]), "modbus_tcp is in controllers"),
        (lambda c: opto22_records(c, ["controllers"], services=["snmp"], protocol="tcp"), "protocol tcp"),
        (lambda c: igor_records(c, ["gateway"], direction="inbound"), "unknown direction 'inbound'"),
        (lambda c: igor_records(c, ["bacnet"], direction="incoming", protocol="tcp"), "no igor records match"),
        (lambda c: igor_records(c, ["gateway"], version="latest"), "version: 'latest' is not a version"),
        (lambda c: igor_records(c, ["gateway"], version=1.2), "quote it"),
    ],
    ids=[
        "table",
        "service",
        "protocol",
        "service-elsewhere",
        "empty",
        "direction",
        "empty-igor",
        "not-a-version",
        "float",
    ],
)
def test_errors_list_valid_names_and_nothing_is_silently_empty(catalog, call, message):
    with pytest.raises(QueryError) as error:
        call(catalog)
    assert message in str(error.value)


@pytest.mark.parametrize(("table", "floor"), sorted(FLOORS.items()))
def test_igor_version_floor_per_table(catalog, table, floor):
    assert igor_records(catalog, [table], version=floor)
    major, minor, patch = (int(part) for part in floor.split("."))
    assert igor_records(catalog, [table], version=f"{major}.{minor}.{patch + 1}")
    assert igor_records(catalog, [table], version=f"v{major + 1}.0")
    below = f"{major}.{minor}.{patch - 1}" if patch else f"{major - 1}.99"
    with pytest.raises(QueryError, match=rf"version: {below} is below {floor}, the lowest version the '{table}' table"):
        igor_records(catalog, [table], version=below)


@pytest.mark.parametrize(
    "version",
    [
        pytest.param(1.2, id="unquoted 1.20, read as 1.2"),
        pytest.param(1.12, id="unquoted 1.12, above no floor it can name"),
        pytest.param(3.0, id="unquoted 3.0, read as 3.0 but still a number"),
    ],
)
def test_igor_version_as_a_yaml_float_says_quote_it(catalog, version):
    """The one message for a float version, whoever asks (lookup option, planner variable)."""
    expected = f"version: {version!r} is a number, not a version string; YAML reads 1.20 as the number 1.2; quote it"
    for tables in (["gateway"], ["bacnet"]):
        with pytest.raises(QueryError) as error:
            igor_records(catalog, tables, version=version)
        assert str(error.value) == expected


def test_igor_direction_and_protocol(catalog):
    records = igor_records(catalog, ["gateway"], direction="outgoing", protocol="tcp")
    assert {r["direction"] for r in records} == {"outgoing"}
    assert {r["protocol"] for r in records} == {"tcp"}


def test_exclusions_follow_the_install_dir(catalog):
    default = igor_exclusions(catalog, [])
    moved = igor_exclusions(catalog, [], "D:\\Apps\\Igor\\")
    assert len(default) == len(moved) == 9
    assert moved == [path.replace("C:\\Igor", "D:\\Apps\\Igor", 1) for path in default]
    assert igor_exclusions(catalog, ["processes", "paths"])[-1] == default[1]
    assert {e["kind"] for e in exclusion_entries(catalog)} == {"path", "process"}


@pytest.mark.parametrize(
    ("install_dir", "message"),
    [
        ("C:\\", "is a bare drive"),
        ("C:", "is not absolute"),
        ("Igor", "is not absolute"),
        ("\\\\server\\share", "is not absolute"),
        ("C:\\Igor\\*", "contains '*'"),
        ("C:\\Ig?r", "contains '?'"),
        ("C:\\%ProgramFiles%\\Igor", "contains '%'"),
        ("C:\\Igor\\..\\Windows", "'..'"),
        ("C:/Igor", "is not absolute"),
        ("", "is not an absolute Windows path"),
        (5, "is not an absolute Windows path"),
    ],
)
def test_bad_install_dirs(catalog, install_dir, message):
    with pytest.raises(QueryError) as error:
        igor_exclusions(catalog, [], install_dir)
    assert str(error.value).startswith("install_dir: ")
    assert message in str(error.value)


def test_unknown_exclusion_list(catalog):
    with pytest.raises(QueryError, match="unknown exclusion list 'folders'; known: paths, processes"):
        igor_exclusions(catalog, ["folders"])
