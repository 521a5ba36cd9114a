"""otnet.ports.site_model: the plugin wraps plugin_utils/_site.py (tested in test_site.py); here its arguments."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader


@pytest.fixture
def site_model():
    return filter_loader.get("otnet.ports.site_model").j2_function


def test_an_empty_site_is_an_empty_model(site_model):
    assert site_model({}, {}) == {
        "name": "site",
        "zones": [],
        "segments": [],
        "gateways": [],
        "graph": {"clusters": [], "nodes": [], "edges": []},
    }


def test_name_and_zones(site_model):
    model = site_model({}, {}, name="plant", zones={"l1": {"label": "Line 1", "networks": ["10.10.1.0/24"]}})
    assert model["name"] == "plant"
    assert model["zones"] == [{"name": "l1", "label": "Line 1", "networks": ["10.10.1.0/24"]}]


def test_a_broken_zone_is_an_error_naming_the_filter_and_the_zone(site_model):
    with pytest.raises(
        AnsibleFilterError, match=r"^otnet\.ports\.site_model: otnet_ports_site_zones\.l1\.networks\[0\]"
    ):
        site_model({}, {}, zones={"l1": {"networks": ["10.10.1.1/24"]}})


@pytest.mark.parametrize(("args", "option"), [((["fw1"], {}), "_input"), (({}, "hostvars"), "hostvars")])
def test_arguments_of_the_wrong_type_are_named(site_model, args, option):
    with pytest.raises(AnsibleFilterError, match=rf"^otnet\.ports\.site_model: {option}"):
        site_model(*args)
