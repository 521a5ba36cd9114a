from __future__ import annotations

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import PortsError, QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import plan_segment
from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import (
    PortSpan,
    check_port,
    format_ranges,
    merge,
    overlap,
    parse_item,
    range_text,
)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (80, PortSpan(80, 80)),
        ("80", PortSpan(80, 80)),
        ("1900-1901", PortSpan(1900, 1901)),
        (" 1900 - 1901 ", PortSpan(1900, 1901)),
        ("80/tcp", PortSpan(80, 80, "tcp")),
        ("50195-50199/UDP", PortSpan(50195, 50199, "udp")),
        ([22004, 22005], PortSpan(22004, 22005)),
        ({"port": 502, "protocol": "tcp"}, PortSpan(502, 502, "tcp")),
        ({"start": 0, "end": 65535}, PortSpan(0, 65535)),
    ],
)
def test_parse_item_shapes(item, expected):
    assert parse_item(item, "x") == expected


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (65536, "x: 65536 is out of range; ports are 0-65535"),
        (-1, "x: -1 is out of range"),
        (True, "x: True is not a port number"),
        ("http", "x: 'http' is not a port spec"),
        ("90-80", "x: start 90 is greater than end 80"),
        ("80/sctp", "x: unknown protocol 'sctp'"),
        ([1, 2, 3], "x: a pair is [start, end]"),
        ({"name": "x"}, "x: a record needs 'port', or 'start' and 'end'"),
        (None, "x: None is not a port number"),
    ],
)
def test_parse_item_errors(item, message):
    with pytest.raises(QueryError) as error:
        parse_item(item, "x")
    assert str(error.value).startswith(message)


# Contradictory or foreign-script input is refused, never resolved by a guess (issue 9, defect 12).
HOSTILE = {
    "port 49200 start 1 end 65535": (
        {"port": 49200, "start": 1, "end": 65535},
        "x: {'port': 49200, 'start': 1, 'end': 65535} gives both 'port' and 'start' and 'end'; give one port",
    ),
    "port and start": ({"port": 80, "start": 80}, "x: {'port': 80, 'start': 80} gives both 'port' and 'start'"),
    "port and end": ({"port": 80, "end": 90}, "x: {'port': 80, 'end': 90} gives both 'port' and 'end'"),
    "start without end": ({"start": 1, "protocol": "tcp"}, "x: {'start': 1} gives 'start' without 'end'"),
    "end without start": ({"end": 65535}, "x: {'end': 65535} gives 'end' without 'start'"),
    "arabic-indic ٨٠": ("٨٠", "x: '٨٠' is not a port spec ('٠' is ARABIC-INDIC DIGIT ZERO, '٨' is ARABIC-INDIC"),
    "arabic-indic ٨٠/tcp": ("٨٠/tcp", "x: '٨٠/tcp' is not a port spec ("),
    "superscript ²": ("²", "x: '²' is not a port spec ('²' is SUPERSCRIPT TWO)"),
    "fullwidth ８０": ("８０", "x: '８０' is not a port spec ('０' is FULLWIDTH DIGIT ZERO"),
    "devanagari ८०": ("८०", "x: '८०' is not a port spec ('०' is DEVANAGARI DIGIT ZERO"),
    "range ending in ²": ("80-9²", "x: '80-9²' is not a port spec ('²' is SUPERSCRIPT TWO)"),
    "record port ٨٠": ({"port": "٨٠"}, "x: '٨٠' is not a port number ('٠' is ARABIC-INDIC DIGIT ZERO"),
    "record start ²": ({"start": "²", "end": 5}, "x: '²' is not a port number ('²' is SUPERSCRIPT TWO)"),
    "pair of fullwidth": (["８０", "９０"], "x: '８０' is not a port number ("),
    "5000 digits": ("9" * 5000, "x: '9999"),
}


@pytest.mark.parametrize(("item", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_port_input_is_refused(item, message):
    with pytest.raises(QueryError) as error:
        parse_item(item, "x")
    assert str(error.value).startswith(message)
    assert "invalid literal" not in str(error.value)


def test_the_rule_is_stated():
    with pytest.raises(QueryError, match=r"a port number is an integer 0-65535 written with the ASCII digits 0-9$"):
        check_port("²", "x")
    with pytest.raises(QueryError, match=r"is out of range; ports are 0-65535$"):
        check_port("9" * 5000, "x")


@pytest.mark.parametrize(("item", "expected"), [(" 80 ", 80), ("080", 80), ("0" * 40 + "443", 443), ("65535", 65535)])
def test_ascii_digit_text_still_parses(item, expected):
    assert check_port(item, "x") == expected


def test_merge_joins_overlapping_and_adjacent():
    assert merge([(1901, 1901), (80, 80), (1900, 1900), (81, 85), (84, 90), (100, 100)]) == [
        (80, 90),
        (100, 100),
        (1900, 1901),
    ]


def test_overlap():
    assert overlap((10, 20), (15, 30)) == (15, 20)
    assert overlap((10, 20), (21, 30)) is None


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("pairs", [[80, 80], [88, 88], [1900, 1901]]),
        ("nft", "80, 88, 1900-1901"),
        ("windows", "80,88,1900-1901"),
    ],
)
def test_formats(fmt, expected):
    assert format_ranges([1901, "88", 80, [1900, 1900]], fmt) == expected


def test_firewalld_uses_record_protocols():
    records = [{"port": 161, "protocol": "udp"}, {"port": 502, "protocol": "tcp"}, {"port": 162, "protocol": "udp"}]
    assert format_ranges(records, "firewalld") == ["502/tcp", "161-162/udp"]


def test_firewalld_labels_bare_ports_with_the_argument():
    assert format_ranges([80, 81], "firewalld", protocol="tcp") == ["80-81/tcp"]


def test_firewalld_needs_a_protocol_for_bare_ports():
    with pytest.raises(QueryError, match="firewalld needs one"):
        format_ranges([80], "firewalld")


def test_mixed_protocols_need_a_choice():
    records = [{"port": 161, "protocol": "udp"}, {"port": 502, "protocol": "tcp"}]
    with pytest.raises(QueryError, match=r"more than one protocol \(tcp, udp\); pass protocol="):
        format_ranges(records, "nft")
    assert format_ranges(records, "nft", protocol="udp") == "161"


def test_unknown_format():
    with pytest.raises(QueryError, match=r"unknown format 'iptables'; known: firewalld, nft, pairs, windows"):
        format_ranges([80], "iptables")


def test_single_value_is_a_list_of_one():
    assert format_ranges(443, "nft") == "443"


def test_range_text():
    assert range_text(502, 502) == "502"
    assert range_text(22004, 22005) == "22004-22005"


# ---- through the segment planner's ports entries ----------------------------------------------------------

SEGMENT_PORTS = {
    "port 49200 start 1 end 65535": ({"port": 49200, "start": 1, "end": 65535}, "gives both 'port' and 'start'"),
    "start without end": ({"start": 49200}, "gives 'start' without 'end'"),
    "end without start": ({"end": 49200}, "gives 'end' without 'start'"),
}
# Ansible's `type: int` (the role's argument spec) reads '٤٩٢٠٠' and '４９２００' as 49200 before parse_item sees them;
# refusing them there is for the spec/_settings owner (the spec could say `type: raw` and leave ports to parse_item).
SEGMENT_DIGITS = {"arabic-indic ٤٩٢٠٠": "٤٩٢٠٠", "fullwidth ４９２００": "４９２００"}


def segment_settings(port: dict) -> dict:
    return {
        "opto22_segment_controllers": ["10.10.1.11"],
        "opto22_segment_conduits": [
            {"name": "scada", "sources": ["10.20.1.0/24"], "services": [], "ports": [{**port, "protocol": "tcp"}]}
        ],
        "opto22_segment_management": {"sources": ["10.254.1.0/29"], "port": 22},
    }


@pytest.mark.parametrize(("port", "message"), SEGMENT_PORTS.values(), ids=SEGMENT_PORTS.keys())
def test_segment_ports_entries_refuse_contradictions(catalog, port, message):
    with pytest.raises(PortsError) as error:
        plan_segment(catalog, segment_settings(port))
    assert f"opto22_segment_conduits[0].ports[0]: {port!r} {message}" in str(error.value)


@pytest.mark.parametrize("digits", SEGMENT_DIGITS.values(), ids=SEGMENT_DIGITS.keys())
def test_segment_ports_entries_refuse_unicode_digits(catalog, digits):
    with pytest.raises(PortsError, match=r"ports\[0\]\.port: .* is not an integer \(written with the ASCII digits"):
        plan_segment(catalog, segment_settings({"port": digits}))
