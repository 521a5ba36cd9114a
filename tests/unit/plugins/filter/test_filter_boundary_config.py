"""otnet.ports.boundary_config and boundary_policy: thin wrappers over plugins/plugin_utils/_boundary.py (tested in
test_boundary.py); here their documentation against the code."""

from __future__ import annotations

import pytest
import yaml
from ansible.plugins.loader import filter_loader
from check_plugin_docs import doc_blocks, plugin_path

from ansible_collections.otnet.ports.plugins.plugin_utils._boundary import DEFAULT_HOST, TARGETS


def documentation(name: str) -> dict:
    return yaml.safe_load(doc_blocks(plugin_path("filter", name))["DOCUMENTATION"])


def test_the_documented_targets_are_the_supported_ones():
    assert documentation("boundary_config")["options"]["target"]["choices"] == sorted(TARGETS)


@pytest.mark.parametrize("name", ["boundary_config", "boundary_policy"])
def test_the_documented_host_default_is_the_code_default(name):
    assert documentation(name)["options"]["host"]["default"] == DEFAULT_HOST


@pytest.mark.parametrize(("name", "others"), [
    ("boundary_config", {"otnet.ports.boundary_policy", "otnet.ports.opto22_segment_plan"}),
    ("boundary_policy", {"otnet.ports.boundary_config", "otnet.ports.opto22_segment_plan"}),
])  # fmt: skip
def test_the_filters_refer_to_each_other_and_to_the_planner(name, others):
    assert {entry["plugin"] for entry in documentation(name)["seealso"]} == others


@pytest.mark.parametrize("name", ["boundary_config", "boundary_policy"])
def test_the_filters_load_by_their_full_names(name):
    assert filter_loader.get(f"otnet.ports.{name}") is not None
