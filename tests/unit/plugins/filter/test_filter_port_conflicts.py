from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader


@pytest.fixture
def port_conflicts():
    return filter_loader.get("otnet.ports.port_conflicts").j2_function


def test_site_port_against_catalog(port_conflicts):
    found = port_conflicts([{"name": "historian", "port": 502, "protocol": "tcp"}, 49200])
    assert [(c["site"]["name"], c["catalog"]["service"]) for c in found] == [("historian", "modbus_tcp")]


def test_no_conflict_is_an_empty_list(port_conflicts):
    assert port_conflicts(["49200/tcp", "51000-51010"]) == []


def test_error(port_conflicts):
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.port_conflicts: site\[0\]"):
        port_conflicts(["http"])


HOSTILE = {
    "port 49200 start 1 end 65535": (
        {"name": "x", "port": 49200, "start": 1, "end": 65535},
        r"site\[0\]: \{'port': 49200, 'start': 1, 'end': 65535\} gives both 'port' and 'start' and 'end'",
    ),
    "end without start": ({"name": "x", "end": 502}, r"site\[0\]: \{'end': 502\} gives 'end' without 'start'"),
    "arabic-indic ٥٠٢": ("٥٠٢", r"site\[0\]: '٥٠٢' is not a port spec \('٠' is ARABIC-INDIC DIGIT ZERO"),
    "record port ²": ({"name": "x", "port": "²"}, r"site\[0\]: '²' is not a port number \('²' is SUPERSCRIPT TWO\)"),
}


@pytest.mark.parametrize(("value", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_contradictory_or_foreign_digit_site_ports_are_refused(port_conflicts, value, message):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.port_conflicts: {message}"):
        port_conflicts([value])


def test_an_overlay_cannot_join_a_vendor_table(port_conflicts):
    record = {"service": "x", "start": 0, "end": 65535, "protocol": "tcp", "description": "x", "table": "chart_logic"}
    with pytest.raises(AnsibleFilterError, match=r"record 0 \(service 'x'\): field 'table' is 'chart_logic'"):
        port_conflicts([49200], overlay=[record])
