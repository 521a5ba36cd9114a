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
