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
