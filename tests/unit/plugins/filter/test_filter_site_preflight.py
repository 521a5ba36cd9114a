"""otnet.ports.site_preflight: the plugin wraps plugin_utils/_site.py (tested in test_site.py); here its arguments."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader

GROUPS = {"all": ["fw1"], "opto22_segments": ["fw1"]}
KEYS = {"host", "variable", "value", "rule", "message"}


@pytest.fixture
def site_preflight():
    return filter_loader.get("otnet.ports.site_preflight").j2_function


def test_nothing_asked_nothing_found(site_preflight):
    assert site_preflight(GROUPS) == []


def test_rollout_problems_come_as_records(site_preflight):
    (problem,) = site_preflight(GROUPS, rollout={"otnet_ports_site_serial": 0})
    assert set(problem) == KEYS
    assert problem["host"] == ""
    assert problem["message"].startswith("otnet_ports_site_serial: 0 is not a batch size")


def test_host_problems_name_the_host(site_preflight):
    variables = {"otnet_ports_chart_ports": [{"service": "s", "port": "x", "protocol": "tcp"}]}
    failures = {"opto22_segment": "opto22_segment_controllers: [] is empty"}
    found = site_preflight(GROUPS, host="fw1", variables=variables, failures=failures)
    assert [(p["host"], p["variable"]) for p in found] == [
        ("fw1", "opto22_segment_controllers"),
        ("fw1", "otnet_ports_chart_ports[0].port"),
    ]


def test_both_at_once(site_preflight):
    found = site_preflight({}, rollout={}, host="fw1", variables={})
    assert [p["variable"] for p in found] == ["groups"]


@pytest.mark.parametrize(
    ("args", "kwargs", "option"),
    [
        (["fw1"], {}, "_input"),
        ([GROUPS], {"rollout": [1]}, "rollout"),
        ([GROUPS], {"host": "fw1", "variables": "x"}, "variables"),
        ([GROUPS], {"host": "fw1", "failures": ["boom"]}, "failures"),
    ],
    ids=["groups not a mapping", "rollout not a mapping", "variables not a mapping", "failures not a mapping"],
)
def test_arguments_of_the_wrong_type_are_named(site_preflight, args, kwargs, option):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.site_preflight: {option}"):
        site_preflight(*args, **kwargs)
