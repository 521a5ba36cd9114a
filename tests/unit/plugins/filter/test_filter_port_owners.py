from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader


@pytest.fixture
def port_owners():
    return filter_loader.get("otnet.ports.port_owners").j2_function


def test_2002(port_owners):
    assert sorted({r["description"] for r in port_owners(2002)}) == ["OptoControl peer port", "groov Find"]


def test_overlay_and_protocol(port_owners):
    site = [{"service": "historian", "port": 2002, "protocol": "udp", "description": "Historian"}]
    assert {r["service"] for r in port_owners(2002, protocol="udp", overlay=site)} == {
        "optocontrol_peer",
        "groov_find",
        "historian",
    }


def test_error(port_owners):
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.port_owners: "):
        port_owners("two thousand")


HOSTILE = {
    "arabic-indic ٥٠٢": ("٥٠٢", r"port\[0\]: '٥٠٢' is not a port spec \('٠' is ARABIC-INDIC DIGIT ZERO"),
    "superscript ²": ("²", r"port\[0\]: '²' is not a port spec \('²' is SUPERSCRIPT TWO\)"),
    "port 502 start 1 end 65535": (
        {"port": 502, "start": 1, "end": 65535},
        r"port\[0\]: \{'port': 502, 'start': 1, 'end': 65535\} gives both 'port' and 'start' and 'end'",
    ),
}


@pytest.mark.parametrize(("value", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_foreign_digits_and_contradictions_are_refused(port_owners, value, message):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.port_owners: {message}"):
        port_owners(value)


@pytest.mark.parametrize("vendor", ["opto22", "igor"])
def test_an_overlay_record_cannot_claim_a_vendor(port_owners, vendor):
    record = {"service": "x", "port": 2002, "protocol": "udp", "description": "x", "vendor": vendor}
    with pytest.raises(AnsibleFilterError, match=rf"field 'vendor' is '{vendor}'; site records belong to vendor"):
        port_owners(2002, overlay=[record])
