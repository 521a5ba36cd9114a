from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from seedrows import opto22_rows

GROOV_PORTS = sorted({start for row in opto22_rows() if row.table == "groov" for start, _ in row.ranges})
SITE = {
    "service": "line3_handshake",
    "port": 49200,
    "protocol": "tcp",
    "description": "Line 3",
    "vendor": "opto22",
    "table": "groov",
}
SITE_OWN = {key: value for key, value in SITE.items() if key not in ("vendor", "table")}


@pytest.fixture
def lookup():
    return lookup_loader.get("otnet.ports.opto22_ports")


def test_groov(lookup):
    records = lookup.run(["groov"], variables={})
    assert sorted({r["start"] for r in records}) == GROOV_PORTS
    assert {r["table"] for r in records} == {"groov"}


def test_options_narrow(lookup):
    records = lookup.run(["controllers"], variables={}, services=["modbus_tcp", "ethernet_ip"], protocol="tcp")
    assert [(r["service"], r["start"]) for r in records] == [("modbus_tcp", 502), ("ethernet_ip", 44818)]


def test_terms_may_be_a_list(lookup):
    assert lookup.run([["groov", "controllers"]], variables={}) == lookup.run(["groov", "controllers"], variables={})


def test_overlay_from_variable_never_joins_a_vendor_table(lookup):
    with pytest.raises(AnsibleLookupError, match=r"record 0 \(service 'line3_handshake'\): field 'vendor' is 'opto22'"):
        lookup.run(["groov"], variables={"otnet_ports_overlay": [SITE]}, protocol="tcp")


def test_overlay_file_from_variable_never_joins_a_vendor_table(lookup, tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump([SITE]))
    with pytest.raises(AnsibleLookupError, match=r"site overlay file .*site\.yml record 0 .*field 'vendor'"):
        lookup.run(["groov"], variables={"otnet_ports_overlay_file": str(path)}, protocol="tcp")


def test_site_overlay_leaves_the_vendor_tables_as_the_document_says(lookup, tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump([SITE_OWN]))
    for variables in ({"otnet_ports_overlay": [SITE_OWN]}, {"otnet_ports_overlay_file": str(path)}):
        assert lookup.run(["groov"], variables=variables) == lookup.run(["groov"], variables={})


def test_bad_overlay_is_a_lookup_error_naming_record_and_field(lookup):
    with pytest.raises(AnsibleLookupError, match=r"record 0 \(service 'line3_handshake'\): field 'port': 99999"):
        lookup.run(["groov"], variables={"otnet_ports_overlay": [{**SITE, "port": 99999}]})


def test_unknown_table(lookup):
    with pytest.raises(AnsibleLookupError, match=r"unknown opto22 table 'grooov' \(did you mean 'groov'\?\)"):
        lookup.run(["grooov"], variables={})


def test_protocol_choice_is_checked(lookup):
    with pytest.raises(AnsibleLookupError, match=r"^unknown protocol 'sctp'; known: tcp, udp$"):
        lookup.run(["groov"], variables={}, protocol="sctp")
