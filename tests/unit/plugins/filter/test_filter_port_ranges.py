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


HOSTILE = {
    "port 49200 start 1 end 65535": (
        {"port": 49200, "start": 1, "end": 65535},
        r"ports\[0\]: \{'port': 49200, 'start': 1, 'end': 65535\} gives both 'port' and 'start' and 'end'",
    ),
    "start without end": ({"start": 1}, r"ports\[0\]: \{'start': 1\} gives 'start' without 'end'"),
    "arabic-indic ٨٠": ("٨٠", r"ports\[0\]: '٨٠' is not a port spec \('٠' is ARABIC-INDIC DIGIT ZERO"),
    "superscript ²": ("²", r"ports\[0\]: '²' is not a port spec \('²' is SUPERSCRIPT TWO\)"),
    "fullwidth ８０/tcp": ("８０/tcp", r"ports\[0\]: '８０/tcp' is not a port spec"),
}


@pytest.mark.parametrize(("value", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_contradictory_or_foreign_digit_input_is_refused(port_ranges, value, message):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.port_ranges: {message}"):
        port_ranges(value)
