from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader


@pytest.fixture
def port_ranges():
    return filter_loader.get("otnet.ports.port_ranges").j2_function


def test_formats(port_ranges):
    assert port_ranges([1901, 80, "88", 1900]) == [[80, 80], [88, 88], [1900, 1901]]
    assert port_ranges([1901, 80, "88", 1900], format="nft") == "80, 88, 1900-1901"
    assert port_ranges([1901, 80, "88", 1900], "windows") == "80,88,1900-1901"
    assert port_ranges([1901, 80], format="firewalld", protocol="udp") == ["80/udp", "1901/udp"]


def test_errors_are_filter_errors_named_after_the_plugin(port_ranges):
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.port_ranges: ports\[1\]: 70000 is out of range"):
        port_ranges([80, 70000])
