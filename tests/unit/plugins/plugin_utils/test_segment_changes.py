"""opto22_segment_changes: the live table (nft JSON recorded from a real nft, tests/unit/fixtures/nft_json/README.md)
against the plan, as flows; the live-table parser (_nft_live) the audit shares; the change summary's text.

Expected flows are written out by hand from what each fixture's scenario did to the table (record.py there), not
computed from the plan.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.filter.change_summary import change_summary
from ansible_collections.otnet.ports.plugins.filter.opto22_segment_changes import opto22_segment_changes
from ansible_collections.otnet.ports.plugins.filter.opto22_segment_plan import opto22_segment_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._changes_text import change_lines, changes_markdown
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._nft_live import (
    UNNAMED,
    LiveTableError,
    Region,
    live_flows,
    parse_labels,
    parse_table,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._segment_changes import changes, segment_changes, subtract

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "nft_json"
SETTINGS = json.loads((FIXTURES / "settings.json").read_text())
V4 = ["10.10.1.11", "10.10.1.12"]
V6 = ["fd00:10:1::11"]


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def flow(  # noqa: PLR0917 - a flow written as a row of the tables below
    direction: str, conduit: str, service: Any, sources: list, destinations: list, protocol: str, ports: Any
) -> dict:
    start, end = ports if isinstance(ports, tuple) else (ports, ports)
    return {
        "direction": direction,
        "conduit": conduit,
        "service": service,
        "sources": sources,
        "destinations": destinations,
        "protocol": protocol,
        "start": start,
        "end": end,
    }


# Every flow settings.json plans, as written there (the IPv4 and IPv6 halves of a conduit are one flow).
PLANNED = [
    flow("in", "eng", "modbus_tcp", ["10.20.1.5", "10.20.2.0/24"], V4, "tcp", 502),
    flow("in", "eng", "scm", ["10.20.1.5", "10.20.2.0/24"], V4, "tcp", (22500, 22531)),
    flow("in", "eng", "scm", ["10.20.1.5", "10.20.2.0/24"], V4, "udp", (22500, 22531)),
    flow("in", "line", "chart_logic", ["10.20.4.0/24", "fd00:20:4::/64"], V4 + V6, "tcp", (49200, 49210)),
    flow("in", "management", None, ["10.254.1.0/29", "fd00:254:1::/64"], ["fw-line1"], "tcp", 22),
    flow("in", "scada", "modbus_tcp", ["10.20.1.0/24", "fd00:20:1::/64"], V4 + V6, "tcp", 502),
    flow("out", "traps", "snmp_traps", V4 + V6, ["10.20.3.10", "fd00:20:3::10"], "udp", 162),
]


@pytest.fixture(scope="module")
def plan() -> dict:
    return opto22_segment_plan(SETTINGS)


# ---- the recorded scenarios ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "added", "removed"),
    [
        ("no_table", PLANNED, []),
        ("in_sync", [], []),
        ("element_deleted", [flow("in", "eng", "modbus_tcp", ["10.20.2.0/24"], V4, "tcp", 502)], []),
        (
            "element_added",
            [],
            [
                flow("in", UNNAMED, None, ["10.98.0.1"], V4, "udp", 161),
                flow("in", "rogue", "modbus_tcp", ["10.99.0.0/16"], V4, "tcp", 502),
            ],
        ),
        (
            "ipv6",
            [flow("in", "scada", "modbus_tcp", ["fd00:20:1::/64"], V6, "tcp", 502)],
            [flow("out", "vendor", "chart_logic", V6, ["fd00:99::/48"], "tcp", (49300, 49310))],
        ),
        (
            "controller_deleted",
            [
                flow("in", "eng", "modbus_tcp", ["10.20.1.5", "10.20.2.0/24"], ["10.10.1.12"], "tcp", 502),
                flow("in", "eng", "scm", ["10.20.1.5", "10.20.2.0/24"], ["10.10.1.12"], "tcp", (22500, 22531)),
                flow("in", "eng", "scm", ["10.20.1.5", "10.20.2.0/24"], ["10.10.1.12"], "udp", (22500, 22531)),
                flow("in", "line", "chart_logic", ["10.20.4.0/24"], ["10.10.1.12"], "tcp", (49200, 49210)),
                flow("in", "scada", "modbus_tcp", ["10.20.1.0/24"], ["10.10.1.12"], "tcp", 502),
                flow("out", "traps", "snmp_traps", ["10.10.1.12"], ["10.20.3.10"], "udp", 162),
            ],
            [],
        ),
    ],
    ids=["no table", "in sync", "an element deleted by hand", "elements added by hand", "ipv6", "a controller deleted"],
)
def test_changes_of_a_recorded_table(plan, scenario, added, removed):
    result = segment_changes(plan, parse_table(fixture(scenario)), host="fw-line1")
    assert result == {"added": added, "removed": removed}


def test_the_role_variables_give_the_same_changes_as_the_plan(plan, catalog):
    for scenario in ("no_table", "element_deleted", "ipv6"):
        from_settings = changes(SETTINGS, fixture(scenario), catalog, host="fw-line1")
        assert from_settings == segment_changes(plan, parse_table(fixture(scenario)), host="fw-line1")


def test_state_absent_removes_every_live_flow(catalog):
    result = changes({**SETTINGS, "opto22_segment_state": "absent"}, fixture("in_sync"), catalog, host="fw-line1")
    assert result == {"added": [], "removed": PLANNED}


def test_state_absent_without_a_table_changes_nothing(catalog):
    assert changes({**SETTINGS, "opto22_segment_state": "absent"}, "", catalog) == {"added": [], "removed": []}


def test_a_management_port_change_removes_the_old_port_and_adds_the_new(catalog):
    moved = {**SETTINGS, "opto22_segment_management": {**SETTINGS["opto22_segment_management"], "port": 2222}}
    result = changes(moved, fixture("in_sync"), catalog)
    sources = ["10.254.1.0/29", "fd00:254:1::/64"]
    assert result == {
        "added": [flow("in", "management", None, sources, [], "tcp", 2222)],
        "removed": [flow("in", "management", None, sources, [], "tcp", 22)],
    }


def test_a_new_overlapping_conduit_adds_only_its_own_flow(catalog):
    """The planner re-cuts the elements the new conduit overlaps; the conduits already there change nothing."""
    wider = {
        **SETTINGS,
        "opto22_segment_conduits": [
            *SETTINGS["opto22_segment_conduits"],
            {"name": "audit", "sources": ["10.20.1.0/25"], "services": ["modbus_tcp"]},
        ],
    }
    result = changes(wider, fixture("in_sync"), catalog)
    assert result == {"added": [flow("in", "audit", "modbus_tcp", ["10.20.1.0/25"], V4, "tcp", 502)], "removed": []}


def test_truncated_comments_take_their_labels_from_the_plan(catalog):
    """Five long conduit names on one element: the planner cuts the comment; a deleted element still adds back the
    flow of every conduit, the ones the comment lost too."""
    names = [f"conduit-with-a-long-name-for-the-comment-{index}" for index in range(5)]
    settings = {
        **SETTINGS,
        "opto22_segment_conduits": [{"name": n, "sources": ["10.30.0.1"], "services": ["modbus_tcp"]} for n in names],
        "opto22_segment_outbound": [],
    }
    plan = opto22_segment_plan(settings)
    (element,) = plan["elements"]["conduits_v4"]
    assert element["comment"].endswith("...")
    document = synthetic_table(plan)
    assert segment_changes(plan, parse_table(document)) == {"added": [], "removed": []}
    document["nftables"][-1]["set"]["elem"] = []
    added = segment_changes(plan, parse_table(document))["added"]
    assert [(f["conduit"], f["sources"]) for f in added] == [(n, ["10.30.0.1"]) for n in sorted(names)]


def synthetic_table(plan: dict) -> dict:
    """nft's JSON for a plan's controllers, management and conduits_v4 - in the shape the fixtures show."""
    elements = []
    for element in plan["elements"]["conduits_v4"]:
        address, protocol, port = element["key"].split(" . ")
        elements.append({"elem": {"val": {"concat": [address, protocol, int(port)]}, "comment": element["comment"]}})
    return {
        "nftables": [
            {"table": {"family": "inet", "name": "otnet_opto22", "handle": 1}},
            *(
                {"set": {"family": "inet", "table": "otnet_opto22", "name": name, "elem": values}}
                for name, values in (
                    ("controllers_v4", plan["controllers"]["ipv4"]),
                    ("controllers_v6", plan["controllers"]["ipv6"]),
                )
            ),
            {
                "rule": {
                    "family": "inet",
                    "table": "otnet_opto22",
                    "chain": "input",
                    "comment": "management SSH",
                    "expr": [
                        {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}
                    ],
                }
            },
            *(
                {
                    "set": {
                        "family": "inet",
                        "table": "otnet_opto22",
                        "name": f"management_v{v}",
                        "elem": [
                            {"prefix": {"addr": n.split("/")[0], "len": int(n.split("/")[1])}}
                            for n in plan["management"]["sources"][f"ipv{v}"]
                        ],
                    }
                }
                for v in (4, 6)
            ),
            {"set": {"family": "inet", "table": "otnet_opto22", "name": "conduits_v4", "elem": elements}},
        ]
    }


# ---- the parser ------------------------------------------------------------------------------------------------


def test_parse_reads_zones_management_and_counters():
    live = parse_table(fixture("in_sync"))
    assert live.controllers == {"ipv4": V4, "ipv6": V6}
    assert live.management_sources == {"ipv4": ["10.254.1.0/29"], "ipv6": ["fd00:254:1::/64"]}
    assert live.management_port == 22
    assert {e.peer for e in live.elements if e.kind == "conduits" and e.version == 4} >= {
        "10.20.1.0-10.20.1.4",
        "10.20.1.5",
        "10.20.2.0/24",
    }
    assert all(e.packets == 0 and e.bytes == 0 for e in live.elements)


def test_live_flows_join_the_planners_pieces_again():
    flows = [
        {key: value for key, value in f.items() if key not in ("packets", "bytes")}
        for f in live_flows(parse_table(fixture("in_sync")))
    ]
    assert flows == [f for f in PLANNED if f["conduit"] != "management"]


CONDUIT_SETS = ("conduits_v4", "conduits_v6")


def test_live_flows_sum_the_counters_of_their_elements():
    """scada's tcp/502 flow is three IPv4 pieces (one shared with eng) and one IPv6 element."""
    document = json.loads(fixture("in_sync"))
    sets = [item["set"] for item in document["nftables"] if item.get("set", {}).get("name") in CONDUIT_SETS]
    for element in (element["elem"] for body in sets for element in body["elem"]):
        if "scada" in element["comment"]:
            element["counter"] = {"packets": 3, "bytes": 180}
    (scada,) = [f for f in live_flows(parse_table(document)) if f["conduit"] == "scada"]
    assert (scada["packets"], scada["bytes"]) == (12, 720)
    without = json.loads(fixture("in_sync").replace('"counter": {', '"no_counter": {'))
    assert all(f["packets"] is None and f["bytes"] is None for f in live_flows(parse_table(without)))


@pytest.mark.parametrize("document", ["", None, "   ", '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}'])
def test_no_table(document):
    assert parse_table(document) is None


def test_another_table_is_not_the_roles():
    assert parse_table(fixture("in_sync"), table="other") is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "is not JSON as `nft -j list table` writes it"),
        ('{"tables": []}', r'must be nft\'s JSON: \{"nftables"'),
        ('{"nftables": [1]}', r'must be nft\'s JSON: \{"nftables"'),
        (
            '{"nftables": [{"table": {"family": "inet", "name": "otnet_opto22"}}, {"set": {"family": "inet", '
            '"table": "otnet_opto22", "name": "conduits_v4", "elem": ["10.0.0.1"]}}]}',
            r"set conduits_v4: element \"10.0.0.1\" is not 'address . protocol . port'",
        ),
        (
            '{"nftables": [{"table": {"family": "inet", "name": "otnet_opto22"}}, {"set": {"family": "inet", '
            '"table": "otnet_opto22", "name": "conduits_v4", "elem": [{"concat": ["fd00::1", "tcp", 502]}]}}]}',
            r'set conduits_v4: "fd00::1" is not an IPv4 address: an IPv6 address in an IPv4 set',
        ),
        (
            '{"nftables": [{"table": {"family": "inet", "name": "otnet_opto22"}}, {"set": {"family": "inet", '
            '"table": "otnet_opto22", "name": "conduits_v4", "elem": [{"concat": ["10.0.0.1", "tcp", "modbus"]}]}}]}',
            r"set conduits_v4: 'modbus' is not a port number \(list the table with nft -j, not -S\)",
        ),
        (
            '{"nftables": [{"table": {"family": "inet", "name": "otnet_opto22"}}, {"set": {"family": "inet", '
            '"table": "otnet_opto22", "name": "conduits_v4", "elem": [{"concat": ["10.0.0.1", "tcp", 70000]}]}}]}',
            r"set conduits_v4: 70000 is not a port number \(0-65535\)",
        ),
    ],
    ids=["not json", "no nftables list", "an object that is not a mapping", "not a concatenation",
         "an ipv6 address in the ipv4 set", "a service name for a port", "a port out of range"],
)  # fmt: skip
def test_a_document_not_in_nfts_shape_is_refused(document, message):
    with pytest.raises(LiveTableError, match=message):
        parse_table(document)


@pytest.mark.parametrize(
    ("comment", "labels", "truncated"),
    [
        ("scada: modbus_tcp", (("scada", "modbus_tcp"),), False),
        ("scada: modbus_tcp; eng: modbus_tcp, scm",
         (("scada", "modbus_tcp"), ("eng", "modbus_tcp"), ("eng", "scm")), False),
        ("a: modbus_tcp; b: modbus_tcp, sc...", (("a", "modbus_tcp"), ("b", "modbus_tcp")), True),
        ("", ((UNNAMED, ""),), False),
        ("added by bob", ((UNNAMED, ""),), False),
    ],
    ids=["one", "two conduits", "cut by the planner", "no comment", "a comment naming no conduit"],
)  # fmt: skip
def test_parse_labels(comment, labels, truncated):
    assert parse_labels(comment) == (labels, truncated)


@pytest.mark.parametrize(
    ("regions", "minus", "expected"),
    [
        ([(0, 255, 502, 502)], [(0, 255, 502, 502)], []),
        ([(0, 255, 502, 502)], [(0, 4, 502, 502), (5, 5, 502, 502), (6, 255, 502, 502)], []),
        ([(0, 255, 502, 502)], [(0, 127, 502, 502)], [(128, 255, 502, 502)]),
        ([(0, 255, 500, 510)], [(0, 255, 505, 520)], [(0, 255, 500, 504)]),
        ([(10, 20, 1, 1)], [], [(10, 20, 1, 1)]),
    ],
    ids=["same", "same coverage cut in pieces", "half the addresses", "part of the ports", "nothing to subtract"],
)
def test_subtract(regions, minus, expected):
    def make(boxes):
        return [Region("c", "s", "tcp", lo, hi, start, end) for lo, hi, start, end in boxes]

    assert [(r.lo, r.hi, r.start, r.end) for r in subtract(make(regions), make(minus))] == expected


# ---- the filters and the change summary ------------------------------------------------------------------------


def test_the_filter_takes_a_plan_or_the_role_variables(plan):
    from_plan = opto22_segment_changes(plan, fixture("element_deleted"))
    assert from_plan == opto22_segment_changes(SETTINGS, fixture("element_deleted"))
    assert from_plan["added"] == [flow("in", "eng", "modbus_tcp", ["10.20.2.0/24"], V4, "tcp", 502)]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("settings", "the plan or the role's variables must be a mapping, not str"),
        ({"table": "otnet_opto22", "state": "present", "text": ""}, r"the plan has no details .*details=true"),
    ],
    ids=["not a mapping", "a plan without details"],
)
def test_the_filter_refuses(source, message):
    with pytest.raises(AnsibleFilterError, match=f"^otnet.ports.opto22_segment_changes: {message}"):
        opto22_segment_changes(source, "")


def test_the_filter_names_a_bad_setting():
    with pytest.raises(AnsibleFilterError, match="opto22_segment_conduits"):
        opto22_segment_changes({**SETTINGS, "opto22_segment_conduits": "scada"}, "")


IGOR_CHANGES = {
    "added": [
        {"kind": "rule", "name": "Igor Gateway - HTTP (TCP-In)", "direction": "in", "protocol": "tcp",
         "ports": "8080", "remote": ["10.20.0.0/16"], "service": "igor_http", "start": 8080, "end": 8080},
        {"kind": "path", "path": "C:\\Program Files\\Igor"},
    ],
    "removed": [
        {"kind": "rule", "name": "Igor Gateway - Retired (TCP-In)", "direction": "in", "protocol": "tcp",
         "ports": "9999", "remote": [], "service": None, "start": 9999, "end": 9999},
    ],
}  # fmt: skip


def test_change_lines(plan):
    reports = {
        "fw-line1": {"opto22_segment_changes": segment_changes(plan, parse_table(fixture("ipv6")))},
        "fw-line2": {"opto22_segment_changes": {"added": [], "removed": []}},
        "igor-gw1": {"igor_gateway_changes": IGOR_CHANGES},
        "hmi-9": {},
    }
    assert change_lines(reports, ["fw-line1", "fw-line2", "igor-gw1", "hmi-9"]) == [
        "fw-line1: - fd00:10:1::11 -> vendor tcp/49300-49310 (chart_logic) to fd00:99::/48",
        "fw-line1: + scada -> fd00:10:1::11 tcp/502 (modbus_tcp) from fd00:20:1::/64",
        "fw-line2: no change",
        "igor-gw1: - Igor Gateway - Retired (TCP-In) -> igor-gw1 tcp/9999 from any",
        "igor-gw1: + Igor Gateway - HTTP (TCP-In) -> igor-gw1 tcp/8080 (igor_http) from 10.20.0.0/16",
        "igor-gw1: + Defender exclusion (path) C:\\Program Files\\Igor",
        "hmi-9: no change report (the roles did not run on it)",
    ]


def test_the_issues_example_line():
    change = flow("in", "scada", "line_handshake", ["10.20.1.0/24"], ["10.10.1.11"], "tcp", 49200)
    lines = change_lines({"fw-line1": {"opto22_segment_changes": {"added": [change], "removed": []}}}, ["fw-line1"])
    assert lines == ["fw-line1: + scada -> 10.10.1.11 tcp/49200 (line_handshake) from 10.20.1.0/24"]


def test_changes_markdown():
    page = changes_markdown(["a: + x", "a: - y", "b: no change", "c: + `tick`"], title="Changes")
    assert page == "# Changes\n\n## a\n\n- `+ x`\n- `- y`\n\n## b\n\n- `no change`\n\n## c\n\n- `` + `tick` ``\n"


@pytest.mark.parametrize(
    ("reports", "hosts", "message"),
    [
        ({}, "fw-line1", "hosts: 'fw-line1' is not a list of inventory host names"),
        ({"h": {"opto22_segment_changes": ["x"]}}, ["h"], r"h: the change report \['x'\] is not a mapping"),
        ({"h": {"opto22_segment_changes": {"added": "x"}}}, ["h"], "h: the change report's 'added' is 'x', not a list"),
    ],
    ids=["hosts not a list", "a report not a mapping", "added not a list"],
)
def test_change_lines_refuse(reports, hosts, message):
    with pytest.raises(QueryError, match=message):
        change_lines(reports, hosts)


def test_the_summary_filter_refuses_an_unknown_format():
    with pytest.raises(AnsibleFilterError, match="format"):
        change_summary({}, [], format="html")


# ---- a real table --------------------------------------------------------------------------------------------


@pytest.mark.netns
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"),
    reason="needs root, nft and ip (a throwaway network namespace)",
)
def test_an_element_deleted_by_hand_in_a_real_table(plan):
    """Load the plan, delete one element with nft, read nft -j: exactly that flow is gone from the live flows, and
    the change a run makes is exactly that flow, added back."""
    namespace = f"otchk-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:

        def nft(*args: str, stdin: str | None = None) -> str:
            command = ["ip", "netns", "exec", namespace, "nft", *args]
            return subprocess.run(command, input=stdin, capture_output=True, text=True, check=True).stdout

        nft("-f", "-", stdin=plan["text"])
        before = parse_table(nft("-j", "list", "table", "inet", "otnet_opto22"))
        assert segment_changes(plan, before) == {"added": [], "removed": []}
        nft("delete", "element", "inet", "otnet_opto22", "conduits_v4", "{ 10.20.1.6-10.20.1.255 . tcp . 502 }")
        after = parse_table(nft("-j", "list", "table", "inet", "otnet_opto22"))
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=True)
    gone = [f for f in live_flows(before) if f not in live_flows(after)]
    assert [(f["conduit"], f["sources"]) for f in gone] == [("scada", ["10.20.1.0/24", "fd00:20:1::/64"])]
    pieces = ["10.20.1.6/31", "10.20.1.8/29", "10.20.1.16/28", "10.20.1.32/27", "10.20.1.64/26", "10.20.1.128/25"]
    assert segment_changes(plan, after) == {
        "added": [flow("in", "scada", "modbus_tcp", pieces, V4, "tcp", 502)],
        "removed": [],
    }
