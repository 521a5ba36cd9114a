"""The seed rows, checked through the plugins in a real playbook against the installed tarball."""

from __future__ import annotations

import pytest
from seedrows import expected_protocols, igor_exclusions, igor_rows, opto22_rows

SEED_OPTO22 = opto22_rows()
SEED_IGOR = igor_rows()


def igor_cells() -> list[dict]:
    return [
        {
            "table": row.table,
            "min_version": row.min_version,
            "direction": direction,
            "protocol": protocol,
            "port": port,
            "description": row.legend[port],
        }
        for row in SEED_IGOR
        for direction, protocol, port in row.filled_cells()
    ]


def igor_floors() -> list[dict]:
    floors = {row.table: row.min_version for row in SEED_IGOR}
    below = []
    for table, floor in floors.items():
        major, minor, patch = (int(x) for x in floor.split("."))
        below.append(
            {"table": table, "floor": floor, "below": f"{major}.{minor}.{patch - 1}" if patch else f"{major - 1}.9.9"}
        )
    return below


def chart_edges() -> list[dict]:
    edges = []
    for row in SEED_OPTO22:
        if row.table not in ("chart_logic", "chart_logic_reserved"):
            continue
        reason = row.description.split(". For more information")[0]
        for start, end in row.ranges:
            for port in {start, end}:
                edges.append(
                    {
                        "port": port,
                        "allowed": row.table == "chart_logic",
                        "range": f"{start}-{end}",
                        "reason": reason[1:],
                    }
                )
    return edges


def seed() -> dict:
    return {
        "opto22": [
            {
                "id": row.id,
                "table": row.table,
                "ranges": row.ranges,
                "description": row.description,
                "protocols": sorted(expected_protocols(row)[0]),  # the play compares the records' sorted protocols
            }
            for row in SEED_OPTO22
        ],
        "igor": igor_cells(),
        "igor_floors": igor_floors(),
        "exclusions": igor_exclusions(),
        "chart_edges": chart_edges(),
        "owned_ports": [
            {"port": port, "description": row.description}
            for row in SEED_OPTO22
            if row.table in ("firmware", "controllers", "groov")
            for start, end in row.ranges
            for port in {start, end}
        ],
    }


def task_results(play_output: dict, name: str) -> dict:
    for task in play_output["plays"][0]["tasks"]:
        if task["task"]["name"] == name:
            return task["hosts"]["localhost"]
    raise AssertionError(f"task {name!r} did not run")


@pytest.fixture(scope="module")
def outcome(playbook, tmp_path_factory):
    return playbook("seed_rows.yml", {"seed": seed()}, tmp_path_factory.mktemp("seed"))


def test_play_passes(outcome):
    assert outcome["rc"] == 0, outcome["stderr"]
    assert outcome["stats"]["localhost"]["failures"] == 0


@pytest.mark.parametrize(
    ("task", "count"),
    [
        ("Opto 22 rows are in their table, with the document's words, ranges and protocols", len(SEED_OPTO22)),
        ("Igor cells are in their table, direction and protocol, at the table's version floor", len(igor_cells())),
        ("Each refusal says the version is below that table's floor", 3),
        ("Chart-logic rows decide the filter and the test at both edges of every range", len(chart_edges())),
        ("Each failure names its range and reason", sum(not e["allowed"] for e in chart_edges())),
    ],
)
def test_every_row_was_checked(outcome, task, count):
    results = task_results(outcome, task)["results"]
    assert len(results) == count
    assert not any(result.get("failed") for result in results)
