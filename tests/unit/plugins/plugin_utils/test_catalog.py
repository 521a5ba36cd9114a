"""Loading rules: schema, the rules a schema can't state, overlays, the once-per-process cache."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.otnet.ports.plugins.plugin_utils import _catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import (
    CATALOG_DIR,
    CATALOG_FILES,
    build_catalog,
    load_catalog,
    read_overlay_file,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import CatalogError, MissingDependencyError

SITE_RECORD = {"service": "line3_handshake", "port": 49200, "protocol": "tcp", "description": "Line 3 handshake"}


@pytest.fixture
def documents():
    return [(name, yaml.safe_load((CATALOG_DIR / name).read_text())) for name in CATALOG_FILES]


def first_row(documents, vendor_index=0, table="firmware"):
    return documents[vendor_index][1]["tables"][table]["records"][0]


def test_catalog_is_loaded_once_and_shared():
    assert load_catalog() is load_catalog()
    assert _catalog._load_catalog.cache_info().misses == 1


def test_shipped_files_build(documents):
    catalog = build_catalog(documents)
    assert len(catalog.records) == len(load_catalog().records)
    assert all(set(record) <= set(_catalog.RECORD_FIELDS) for record in catalog.records)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda row: row.update(port=70000),
            "field 'tables.firmware.records[0].port': 70000 is greater than the maximum of 65535",
        ),
        (lambda row: row.update(protocol="sctp"), "'sctp' is not one of ['tcp', 'udp']"),
        (lambda row: row.pop("description"), "'description' is a required property"),
        (lambda row: row.update(start=1, end=2), "give either 'port', or both 'start' and 'end'"),
        (lambda row: row.update(service="Bad-Key"), "'Bad-Key' is not a valid key"),
        (lambda row: row.update(colour="red"), "'colour' was unexpected"),
    ],
    ids=["port-over-65535", "unknown-protocol", "missing-description", "port-and-range", "bad-key", "unknown-field"],
)
def test_schema_errors_name_file_field_and_rule(documents, change, message):
    change(first_row(documents))
    with pytest.raises(CatalogError) as error:
        build_catalog(documents)
    assert str(error.value).startswith("catalog opto22.yml: ")
    assert message in str(error.value)


def test_start_after_end_is_refused(documents):
    row = first_row(documents)
    row.pop("port")
    row.update(start=2003, end=2001)
    with pytest.raises(CatalogError, match=r"tables\.firmware\.records\[0\]: start 2003 is greater than end 2001"):
        build_catalog(documents)


def test_duplicate_records_are_refused(documents):
    records = documents[0][1]["tables"]["groov"]["records"]
    records.append(copy.deepcopy(records[0]))
    with pytest.raises(CatalogError, match=r"duplicate record groov_app 443-443/tcp in opto22\.groov"):
        build_catalog(documents)


def test_undeclared_service_is_refused(documents):
    first_row(documents)["service"] = "optommpp"
    with pytest.raises(CatalogError, match=r"unknown service 'optommpp' \(did you mean 'optommp'\?\)"):
        build_catalog(documents)


def test_igor_records_need_a_direction(documents):
    documents[1][1]["tables"]["bacnet"]["records"][0].pop("direction")
    with pytest.raises(CatalogError, match=r"catalog igor\.yml: .*'direction' is a required property"):
        build_catalog(documents)


def test_missing_jsonschema_is_a_clear_error(monkeypatch, documents):
    monkeypatch.setattr(_catalog, "jsonschema", None)
    _catalog._validator.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match=r"Python package 'jsonschema'.*pip install jsonschema"):
            build_catalog(documents)
    finally:
        _catalog._validator.cache_clear()


def test_overlay_adds_site_records(catalog):
    site = catalog.with_overlay([SITE_RECORD])
    added = site.select(vendor="site")
    assert added == [
        {
            "vendor": "site",
            "table": "site",
            "service": "line3_handshake",
            "label": "line3_handshake",
            "start": 49200,
            "end": 49200,
            "protocol": "tcp",
            "protocol_basis": "stated",
            "description": "Line 3 handshake",
        }
    ]
    assert len(site.records) == len(catalog.records) + 1
    assert catalog.select(vendor="site") == []


def test_same_overlay_is_validated_once(catalog):
    assert catalog.with_overlay([SITE_RECORD]) is catalog.with_overlay({"records": [dict(SITE_RECORD)]})


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {**SITE_RECORD, "port": 70000},
            "overlay record 0 (service 'line3_handshake'): field 'port': 70000 is greater than the maximum of 65535",
        ),
        ({**SITE_RECORD, "service": "modbus_tcp"}, "service 'modbus_tcp' is a catalog service (opto22)"),
        ({**SITE_RECORD, "protocol": "TCP"}, "field 'protocol': 'TCP' is not one of ['tcp', 'udp']"),
    ],
    ids=["port-out-of-range", "vendor-service", "protocol-case"],
)
def test_overlay_errors_name_the_record_and_field(catalog, record, message):
    with pytest.raises(CatalogError) as error:
        catalog.with_overlay([record])
    assert message in str(error.value)


def test_overlay_duplicates_are_refused(catalog):
    with pytest.raises(CatalogError, match=r"duplicate record line3_handshake 49200-49200/tcp in site\.site"):
        catalog.with_overlay([SITE_RECORD, SITE_RECORD])


@pytest.mark.parametrize("overlay", [None, "", []])
def test_empty_overlay_is_the_catalog(catalog, overlay):
    assert catalog.with_overlay(overlay) is catalog


@pytest.mark.parametrize(
    ("overlay", "message"), [("x", "expected a list of records"), ({"rows": []}, "only 'records'")]
)
def test_overlay_shape_errors(catalog, overlay, message):
    with pytest.raises(CatalogError, match=message):
        catalog.with_overlay(overlay)


def test_overlay_file(tmp_path, catalog):
    path = tmp_path / "site-ports.yml"
    path.write_text(yaml.safe_dump({"records": [SITE_RECORD]}))
    assert catalog.with_overlay(read_overlay_file(path)).select(services=["line3_handshake"])[0]["start"] == 49200


def test_missing_overlay_file_is_named(tmp_path):
    with pytest.raises(CatalogError, match=r"site overlay file '.*nope\.yml': cannot read it"):
        read_overlay_file(tmp_path / "nope.yml")


# ---- an overlay never joins or overrides a vendor's tables (issue 9, defect 1) ----------------------------------

OPEN_EVERYTHING = {
    "service": "site_anything",
    "start": 0,
    "end": 65535,
    "protocol": "tcp",
    "description": "every port",
}
INTO_VENDOR_TABLES = {
    "vendor opto22 table chart_logic 0-65535": (
        {**OPEN_EVERYTHING, "vendor": "opto22", "table": "chart_logic"},
        "field 'vendor' is 'opto22'",
    ),
    "vendor opto22": ({**SITE_RECORD, "vendor": "opto22"}, "field 'vendor' is 'opto22'"),
    "vendor igor": ({**SITE_RECORD, "vendor": "igor", "direction": "incoming"}, "field 'vendor' is 'igor'"),
    "vendor igor table gateway": (
        {**SITE_RECORD, "vendor": "igor", "table": "gateway", "direction": "incoming"},
        "field 'vendor' is 'igor'",
    ),
    "table chart_logic": ({**OPEN_EVERYTHING, "table": "chart_logic"}, "field 'table' is 'chart_logic', a table of"),
    "table chart_logic_reserved": (
        {**SITE_RECORD, "table": "chart_logic_reserved"},
        "field 'table' is 'chart_logic_reserved', a table of the opto22 catalog",
    ),
    "table gateway": ({**SITE_RECORD, "table": "gateway"}, "field 'table' is 'gateway', a table of the igor catalog"),
    "table bacnet": ({**SITE_RECORD, "table": "bacnet"}, "field 'table' is 'bacnet', a table of the igor catalog"),
    "table firmware": (
        {**SITE_RECORD, "table": "firmware"},
        "field 'table' is 'firmware', a table of the igor and opto22 catalogs",
    ),
    "vendor site table groov": ({**SITE_RECORD, "vendor": "site", "table": "groov"}, "field 'table' is 'groov'"),
}


@pytest.mark.parametrize(("record", "message"), INTO_VENDOR_TABLES.values(), ids=INTO_VENDOR_TABLES.keys())
def test_overlay_records_never_join_vendor_tables(catalog, record, message):
    with pytest.raises(CatalogError) as error:
        catalog.with_overlay([SITE_RECORD | {"service": "line4_handshake", "port": 49300}, record])
    text = str(error.value)
    assert text.startswith(f"site overlay record 1 (service {record['service']!r}): ")
    assert message in text
    assert "never" in text  # the rule: an overlay never joins (or overrides) a vendor's tables


def test_every_vendor_table_key_is_refused_as_an_overlay_table(catalog):
    for vendor, key in catalog.tables:
        with pytest.raises(CatalogError, match=rf"field 'table' is {key!r}, a table of the .*{vendor}"):
            catalog.with_overlay([{**SITE_RECORD, "table": key}])


def test_site_records_keep_vendor_site_and_may_name_their_own_table(catalog):
    site = catalog.with_overlay(
        [{**SITE_RECORD, "vendor": "site", "table": "line3"}, {**SITE_RECORD, "service": "line3_sync", "port": 49201}]
    )
    added = site.select(vendor="site")
    assert [(r["vendor"], r["table"], r["service"]) for r in added] == [
        ("site", "line3", "line3_handshake"),
        ("site", "site", "line3_sync"),
    ]
    assert site.select(vendor="opto22") == catalog.select(vendor="opto22")
    assert site.select(vendor="igor") == catalog.select(vendor="igor")


def test_a_site_record_may_carry_a_direction(catalog):
    site = catalog.with_overlay([{**SITE_RECORD, "direction": "incoming"}])
    assert site.select(vendor="site")[0]["direction"] == "incoming"
