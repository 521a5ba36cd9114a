from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader
from igor_gateway_seed import role_settings


@pytest.fixture
def igor_gateway_plan():
    return filter_loader.get("otnet.ports.igor_gateway_plan").j2_function


def test_the_role_defaults_plan_incoming_rules_and_both_exclusion_lists(igor_gateway_plan):
    plan = igor_gateway_plan(role_settings())
    assert sorted(plan) == ["exclusions", "exclusive", "group", "rules", "state", "text"]
    assert {rule["direction"] for rule in plan["rules"]} == {"in"}
    assert sorted(plan["exclusions"]) == ["paths", "processes"]


def test_errors_are_filter_errors_named_after_the_plugin(igor_gateway_plan):
    with pytest.raises(
        AnsibleFilterError, match=r"^otnet\.ports\.igor_gateway_plan: igor_gateway_version: 1\.2 is below 1\.12\.1"
    ):
        igor_gateway_plan(role_settings(igor_gateway_version="1.2"))
