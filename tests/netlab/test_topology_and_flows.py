"""netlab's pieces that need no root: dual-stack topologies, catalog listen references, and the flow oracle's
expectations per address family (with a stand-in catalog, and once with the checkout's own)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from dev_collection import link_checkout

from tools.netlab import catalog, flows
from tools.netlab.topology import TopologyError, listen_ports, parse, resolve, uses_catalog

REPO = Path(__file__).resolve().parents[2]
SCENARIO_TOPOLOGY = REPO / "extensions" / "molecule" / "opto22_segment" / "files" / "topology.yml"
BASE: dict[str, Any] = {
    "mgmt_cidr": "10.254.9.0/30",
    "routers": {
        "r1": {
            "legs": {
                "ctl": {"cidr": "10.99.1.0/24", "cidr6": "2001:db8:99:1::/64", "kind": "segment"},
                "ops": {"cidr": "10.99.2.0/24", "cidr6": "2001:db8:99:2::/64"},
                "corp": {"cidr": "10.99.3.0/24"},
            }
        }
    },
    "hosts": {
        "pac": {"leg": "ctl", "address": "10.99.1.11", "address6": "2001:db8:99:1::11", "listen": {"tcp": [502]}},
        "hmi": {"leg": "ops", "address": "10.99.2.10", "address6": "2001:db8:99:2::10"},
        "office": {"leg": "corp", "address": "10.99.3.10"},
    },
}


def doc(**changes: Any) -> dict[str, Any]:
    """BASE with the host and leg fields in ``changes`` (keys "host.NAME" or "leg.NAME") replaced."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        kind, name = key.split("__")
        target = data["hosts"] if kind == "host" else data["routers"]["r1"]["legs"]
        target[name] = value
    return data


def test_a_dual_stack_topology_parses() -> None:
    topo = parse(doc())
    assert str(topo.legs["ops"].gateway6) == "2001:db8:99:2::1"
    assert str(topo.hosts["pac"].address_of(6)) == "2001:db8:99:1::11"
    assert topo.hosts["office"].address_of(6) is None
    assert topo.dual_stack
    single = doc(leg__ctl={"cidr": "10.99.1.0/24"}, leg__ops={"cidr": "10.99.2.0/24"})
    single["hosts"] = {"office": BASE["hosts"]["office"]}
    assert not parse(single).dual_stack


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"leg__ops": {"cidr": "10.99.2.0/24", "cidr6": "fd00:1::/64"}}, "outside the lab's IPv6 range 2001:db8::/32"),
        ({"leg__corp": {"cidr": "10.99.3.0/24", "cidr6": "2001:db8:99:1::/64"}}, "overlaps another leg"),
        ({"leg__ops": {"cidr": "10.99.2.0/24", "gateway6": "2001:db8:99:2::1"}}, "gateway6 needs cidr6"),
        (
            {"leg__corp": {"cidr": "10.99.3.0/24", "cidr6": "2001:db8:99:3::/64", "gateway6": "2001:db8:1::1"}},
            "gateway6",
        ),
        ({"host__office": {"leg": "corp", "address": "10.99.3.10", "address6": "2001:db8:99:3::10"}}, "needs a leg"),
        ({"host__hmi": {"leg": "ops", "address": "10.99.2.10", "address6": "2001:db8:99:2::1"}}, "not a free host"),
        ({"host__hmi": {"leg": "ops", "address": "10.99.2.10", "address6": "2001:db8:99:1::11"}}, "not a free host"),
        ({"host__hmi": {"leg": "ops", "address": "10.99.2.10", "address6": "::ffff:10.99.2.10"}}, "not a free host"),
        ({"host__pac": {"leg": "ctl", "address": "10.99.1.11", "listen": {"catalog": [{}]}}}, "unresolved catalog"),
        ({"host__pac": {"leg": "ctl", "address": "10.99.1.11", "listen": {"sctp": [1]}}}, "unknown keys"),
    ],
    ids=[
        "cidr6-outside-documentation-prefix",
        "cidr6-overlaps-another-leg",
        "gateway6-without-cidr6",
        "gateway6-outside-cidr6",
        "address6-on-an-ipv4-only-leg",
        "address6-is-the-router",
        "address6-outside-its-leg",
        "address6-ipv4-mapped",
        "catalog-reference-left-unresolved",
        "unknown-listen-key",
    ],
)
def test_bad_dual_stack_input_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TopologyError, match=message):
        parse(doc(**changes))


def test_two_hosts_may_not_share_an_ipv6_address() -> None:
    data = doc(host__other={"leg": "ops", "address": "10.99.2.11", "address6": "2001:db8:99:2::10"})
    with pytest.raises(TopologyError, match="host addresses must be unique"):
        parse(data)


FAKE_RECORDS = [
    {"vendor": "v", "service": "a", "protocol": "tcp", "start": 502, "end": 502},
    {"vendor": "v", "service": "a", "protocol": "udp", "start": 2001, "end": 2003},
    {"vendor": "v", "service": "wide", "protocol": "tcp", "start": 50000, "end": 50999},
    {"vendor": "w", "service": "b", "protocol": "udp", "start": 162, "end": 162},
]


def fake_select(criteria: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in FAKE_RECORDS
        if r["vendor"] == criteria.get("vendor", r["vendor"])
        and r["service"] in criteria.get("services", [r["service"]])
    ]


def test_catalog_references_resolve_to_ports_wide_ranges_at_their_ends() -> None:
    data = doc(
        host__pac={"leg": "ctl", "address": "10.99.1.11", "listen": {"tcp": [8080], "catalog": [{"vendor": "v"}]}}
    )
    assert uses_catalog(data)
    resolved = resolve(data, fake_select)
    assert not uses_catalog(resolved)
    assert resolved["hosts"]["pac"]["listen"] == {"tcp": [502, 8080, 50000, 50999], "udp": [2001, 2002, 2003]}
    assert parse(resolved).hosts["pac"].tcp == (502, 8080, 50000, 50999)
    assert data["hosts"]["pac"]["listen"]["catalog"] == [{"vendor": "v"}]  # the input is left as it was


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        ([{"services": ["nothing"]}], "selects no catalog record"),
        ([{"port": 502}], "selector keys are"),
        ([], "non-empty list"),
        ({"vendor": "v"}, "non-empty list"),
    ],
    ids=["selects-nothing", "unknown-selector-key", "empty-list", "not-a-list"],
)
def test_bad_catalog_references_are_refused(selectors: Any, message: str) -> None:
    data = doc(host__pac={"leg": "ctl", "address": "10.99.1.11", "listen": {"catalog": selectors}})
    with pytest.raises(TopologyError, match=message):
        resolve(data, fake_select)


def test_listen_ports_samples_wide_ranges() -> None:
    assert listen_ports(22004, 22005) == {22004, 22005}
    assert listen_ports(22500, 22531) == {22500, 22531}


def test_the_scenario_topology_resolves_through_the_checkouts_catalog() -> None:
    """The molecule topology names no port; its listeners come from the catalog, as `netlab up` resolves them."""
    text = SCENARIO_TOPOLOGY.read_text()
    data = yaml.safe_load(text)
    the_catalog = catalog.load([link_checkout()])
    topo = parse(resolve(data, catalog.selector(the_catalog)))
    modbus = the_catalog.select(services=["modbus_tcp"])[0]["start"]
    traps = the_catalog.select(services=["snmp_traps"])[0]["start"]
    assert modbus in topo.hosts["pac1"].tcp
    assert topo.hosts["pac1"].tcp == topo.hosts["pac2"].tcp
    assert topo.hosts["nms1"].udp == (traps,)
    assert str(modbus) not in text
    assert str(traps) not in text
    assert topo.hosts["pac1"].address6 is not None
    assert topo.hosts["scada1"].address6 is not None


# ---- the flow oracle ----------------------------------------------------------------------------------------------


class FakeCatalog:
    def select(self, *, services: list[str], **_: Any) -> list[dict[str, Any]]:
        return [r for r in FAKE_RECORDS if r["service"] in services]

    def with_overlay(self, overlay: Any) -> FakeCatalog:
        return self


LEGS = {
    "ctl": {
        "cidr": "10.99.1.0/24",
        "gateway": "10.99.1.1",
        "cidr6": "2001:db8:99:1::/64",
        "gateway6": "2001:db8:99:1::1",
    },
    "ops": {
        "cidr": "10.99.2.0/24",
        "gateway": "10.99.2.1",
        "cidr6": "2001:db8:99:2::/64",
        "gateway6": "2001:db8:99:2::1",
    },
}
NO_PORTS: dict[str, list[dict[str, int]]] = {"tcp": [], "udp": []}
HOSTS = {
    "pac": {
        "kind": "segment",
        "leg": "ctl",
        "address": "10.99.1.11",
        "address6": "2001:db8:99:1::11",
        "listen": {"tcp": [{"start": 502, "end": 502}], "udp": [{"start": 2001, "end": 2003}]},
    },
    "hmi": {"kind": "zone", "leg": "ops", "address": "10.99.2.10", "address6": "2001:db8:99:2::10", "listen": NO_PORTS},
}
DEFAULTS = {"opto22_segment_outbound": [], "opto22_segment_management": {"sources": [], "port": 22}}


def matrix(controllers: list[str], sources: list[str]) -> dict[tuple, str]:
    variables = {
        "opto22_segment_controllers": controllers,
        "opto22_segment_conduits": [{"name": "ops", "sources": sources, "services": ["a"]}],
    }
    rows = flows.expectations({"hosts": HOSTS, "legs": LEGS, "variables": variables}, FakeCatalog(), DEFAULTS)
    return {(r["src"], r["dst"], r["family"], r["protocol"], r["port"]): r["expect"] for r in rows}


def test_the_oracle_expects_ipv6_flows_from_the_conduits_ipv6_sources() -> None:
    rows = matrix(["10.99.1.11", "2001:db8:99:1::11"], ["10.99.2.0/24", "2001:db8:99:2::/64"])
    for family in (4, 6):
        assert rows[("hmi", "pac", family, "tcp", 502)] == "open"
        assert rows[("hmi", "pac", family, "udp", 2001)] == "open"
        assert rows[("hmi", "pac", family, "tcp", 22)] == "dropped"
        assert rows[("pac", "hmi", family, "tcp", 502)] == "dropped"  # no outbound entry
    assert rows[("hmi", "2001:db8:99:2::1", 6, "tcp", 22)] == "dropped"  # the router's own IPv6 address


def test_the_oracle_drops_ipv6_when_only_the_ipv4_source_is_admitted() -> None:
    rows = matrix(["10.99.1.11", "2001:db8:99:1::11"], ["10.99.2.0/24"])
    assert rows[("hmi", "pac", 4, "tcp", 502)] == "open"
    assert rows[("hmi", "pac", 6, "tcp", 502)] == "dropped"


def test_an_ipv6_controller_address_left_out_is_not_filtered() -> None:
    rows = matrix(["10.99.1.11"], ["10.99.2.0/24"])
    assert rows[("hmi", "pac", 4, "tcp", 22)] == "dropped"
    assert rows[("hmi", "pac", 6, "tcp", 22)] == "refused"  # nobody listens, and no rule applies
    assert rows[("pac", "hmi", 6, "tcp", 502)] == "refused"


def test_the_oracle_takes_unset_variables_from_the_role_argument_spec() -> None:
    defaults = flows.role_defaults()
    assert defaults["opto22_segment_management"]["port"] == 22
    assert defaults["opto22_segment_outbound"] == []
