from __future__ import annotations

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import (
    PortSpan,
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
