from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import test_loader
from seedrows import opto22_rows

EDGES = [
    (port, row.table == "chart_logic")
    for row in opto22_rows()
    if row.table in ("chart_logic", "chart_logic_reserved")
    for start, end in row.ranges
    for port in (start, end)
]


@pytest.fixture
def chart_logic_port():
    return test_loader.get("otnet.ports.chart_logic_port").j2_function


@pytest.mark.parametrize(("port", "allowed"), EDGES)
def test_edges_of_every_chart_logic_row(chart_logic_port, port, allowed):
    assert chart_logic_port(port) is allowed


def test_not_a_port_is_an_error(chart_logic_port):
    with pytest.raises(AnsibleFilterError, match="is not a port number"):
        chart_logic_port("modbus")


@pytest.mark.parametrize(
    "value",
    ["²", "٨٠", "８０", "٥١٠٠٠"],
    ids=["superscript ²", "arabic-indic ٨٠", "fullwidth ８０", "arabic-indic ٥١٠٠٠"],
)
def test_unicode_digits_are_an_error_not_a_port(chart_logic_port, value):
    with pytest.raises(AnsibleFilterError, match=rf"port: {value!r} is not a port number \('") as error:
        chart_logic_port(value)
    assert str(error.value).endswith("an integer 0-65535 written with the ASCII digits 0-9")
