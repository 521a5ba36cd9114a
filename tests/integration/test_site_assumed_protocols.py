"""otnet_ports_assumed_protocols through the shipped playbooks: the example site (explicit, narrowed) passes; written
with bare keys it is refused in the preflight, every bare assumed-protocol service of every host listed with the host
and the service, before any host is contacted (the tripwire of conftest stays untouched)."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import EXAMPLE, rollout

from tools.netlab import catalog as netlab_catalog

REFUSED = "the rollout stops before any host changes"
SEGMENT_HOSTS = ("fw-line1", "fw-line2")


def key(entry):
    return entry["service"] if isinstance(entry, dict) else entry


def bare_conduits(host):
    """The example host's conduits as written, every service entry back to its bare key (sources keep their Jinja)."""
    conduits = yaml.safe_load((EXAMPLE / "inventory" / "host_vars" / f"{host}.yml").read_text())
    return [{**c, "services": [key(s) for s in c["services"]]} for c in conduits["opto22_segment_conduits"]]


@pytest.fixture
def bare_site(site, layer):
    layer("bare", {host: {"opto22_segment_conduits": bare_conduits(host)} for host in SEGMENT_HOSTS})
    return site


def test_bare_assumed_services_are_listed_for_every_host_before_any_host_is_contacted(bare_site, tmp_path):
    catalog = netlab_catalog.load([bare_site / "collections"])
    expected = [
        (host, f"opto22_segment_conduits[{index}].services[{position}]", service)
        for host in SEGMENT_HOSTS
        for index, conduit in enumerate(bare_conduits(host))
        for position, service in enumerate(conduit["services"])
        if any(r["protocol_basis"] == "assumed" for r in catalog.select(services=[service], kind="assignment"))
    ]
    assert {host for host, _, _ in expected} == set(SEGMENT_HOSTS)
    rc, output, contacts = rollout(bare_site, tmp_path, "-i", "bare", "-e", "otnet_ports_site_igor_plan_only=true")
    assert rc != 0
    assert REFUSED in output
    for host in SEGMENT_HOSTS:
        mine = [entry for entry in expected if entry[0] == host]
        assert f"{host}: {len(mine)} problem(s)" in output, output
    for host, variable, service in expected:
        assert f"{variable}: conduit '" in output
        assert f"on {host} opens {service} (" in output, (host, variable, service)
    assert contacts == []


@pytest.mark.parametrize("value", ["Explicit", "explicit ", ["explicit"]], ids=["capitalised", "blank", "a list"])
def test_an_invalid_setting_is_refused_naming_it(site, tmp_path, value):
    rc, output, contacts = rollout(site, tmp_path, "-e", json.dumps({"otnet_ports_assumed_protocols": value}))
    assert rc != 0
    assert f"otnet_ports_assumed_protocols: {value!r} is not a mode; give both" in output, output
    assert contacts == []
