"""Disjoint set elements: the kernel refuses overlapping elements in a concatenated interval set."""

from __future__ import annotations

import random

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_sets import (
    Box,
    address_text,
    disjoint_boxes,
)


def coverage(boxes: list[Box]) -> dict[tuple[int, str, int], set]:
    """Every (address, protocol, port) point, with the labels that admit it (brute force, small numbers only)."""
    points: dict[tuple[int, str, int], set] = {}
    for box in boxes:
        for address in range(box.lo, box.hi + 1):
            for port in range(box.port_lo, box.port_hi + 1):
                points.setdefault((address, box.protocol, port), set()).update(box.labels)
    return points


def overlaps(first: Box, second: Box) -> bool:
    return (
        first.protocol == second.protocol
        and first.lo <= second.hi
        and second.lo <= first.hi
        and first.port_lo <= second.port_hi
        and second.port_lo <= first.port_hi
    )


def test_disjoint_boxes_come_out_unchanged():
    boxes = [Box(1, 1, "tcp", 502, 502, ("a",)), Box(2, 3, "tcp", 502, 502, ("b",)), Box(1, 1, "udp", 502, 502, ("a",))]
    assert sorted(disjoint_boxes(boxes), key=lambda b: (b.protocol, b.lo)) == sorted(
        boxes, key=lambda b: (b.protocol, b.lo)
    )


def test_identical_boxes_merge_their_labels():
    result = disjoint_boxes([Box(0, 255, "tcp", 10, 20, ("scada",)), Box(0, 255, "tcp", 10, 20, ("historian",))])
    assert result == [Box(0, 255, "tcp", 10, 20, ("scada", "historian"))]


def test_a_nested_source_is_cut_out_of_the_wider_one():
    result = disjoint_boxes([Box(0, 255, "tcp", 502, 502, ("zone",)), Box(5, 5, "tcp", 502, 502, ("host",))])
    assert result == [
        Box(0, 4, "tcp", 502, 502, ("zone",)),
        Box(5, 5, "tcp", 502, 502, ("zone", "host")),
        Box(6, 255, "tcp", 502, 502, ("zone",)),
    ]


def test_partly_overlapping_port_ranges_are_cut_where_they_overlap():
    result = disjoint_boxes([Box(0, 0, "tcp", 500, 510, ("a",)), Box(0, 0, "tcp", 505, 520, ("b",))])
    assert [(b.port_lo, b.port_hi, b.labels) for b in result] == [
        (500, 504, ("a",)),
        (505, 510, ("a", "b")),
        (511, 520, ("b",)),
    ]


@pytest.mark.parametrize("seed", range(40))
def test_random_boxes_keep_their_coverage_and_never_overlap(seed):
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    boxes = []
    for index in range(rng.randint(1, 12)):
        lo = rng.randint(0, 30)
        port_lo = rng.randint(0, 20)
        boxes.append(
            Box(
                lo,
                lo + rng.randint(0, 10),
                rng.choice(["tcp", "udp"]),
                port_lo,
                port_lo + rng.randint(0, 8),
                (f"label{index % 5}",),
            )
        )
    result = disjoint_boxes(boxes)
    assert coverage(result) == coverage(boxes)
    for i, first in enumerate(result):
        for second in result[i + 1 :]:
            assert not overlaps(first, second), (first, second)


def test_many_disjoint_boxes_are_fast():
    boxes = [Box(i, i, "tcp", 502, 502, (f"c{i}",)) for i in range(20000)]
    assert len(disjoint_boxes(boxes)) == 20000


@pytest.mark.parametrize(
    ("lo", "hi", "version", "text"),
    [
        (0x0A140105, 0x0A140105, 4, "10.20.1.5"),
        (0x0A140100, 0x0A1401FF, 4, "10.20.1.0/24"),
        (0x0A140100, 0x0A140104, 4, "10.20.1.0-10.20.1.4"),
        (0, 2**32 - 1, 4, "0.0.0.0/0"),
        (0x20010DB8 << 96, (0x20010DB8 << 96) + 2**64 - 1, 6, "2001:db8::/64"),
        ((0x20010DB8 << 96) + 1, (0x20010DB8 << 96) + 1, 6, "2001:db8::1"),
    ],
)
def test_address_text(lo, hi, version, text):
    assert address_text(lo, hi, version) == text
