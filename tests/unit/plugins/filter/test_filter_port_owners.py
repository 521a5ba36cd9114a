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
