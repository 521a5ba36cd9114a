from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader


@pytest.fixture
def chart_port():
    return filter_loader.get("otnet.ports.chart_port").j2_function


def test_allowed_port_passes_through_as_int(chart_port):
    assert chart_port("49200") == 49200


def test_reserved_port_names_range_and_reason(chart_port):
    with pytest.raises(
        AnsibleFilterError, match=r"50000-50999, reserved by Opto 22 to be used internally by PAC and Ultimate"
    ):
        chart_port(50000)


HOSTILE = {
    "superscript ²": ("²", r"'²' is not a port number \('²' is SUPERSCRIPT TWO\)"),
    "arabic-indic ٨٠": ("٨٠", r"'٨٠' is not a port number \('٠' is ARABIC-INDIC DIGIT ZERO"),
    "fullwidth ８０": ("８０", r"'８０' is not a port number \('０' is FULLWIDTH DIGIT ZERO"),
    "5000 digits": ("9" * 5000, r"'9+' is out of range; ports are 0-65535"),
}


@pytest.mark.parametrize(("value", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_unicode_digits_name_the_value_and_the_rule(chart_port, value, message):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.chart_port: port: {message}") as error:
        chart_port(value)
    assert "invalid literal" not in str(error.value)
