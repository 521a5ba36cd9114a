"""The catalog lookups remember resolved options (CatalogLookupBase.set_options); they must equal Ansible's own."""

from __future__ import annotations

from collections import UserList

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

from ansible_collections.otnet.ports.plugins.plugin_utils import _plugin_base

SITE = {"service": "line3_handshake", "port": 49200, "protocol": "tcp", "description": "Line 3"}
CASES = {
    "no arguments": ("igor_ports", {}, {}),
    "version and direction": ("igor_ports", {}, {"version": "1.12.1", "direction": "incoming"}),
    "services as a list": ("igor_ports", {}, {"services": ["tftp", "http"]}),
    "services as a comma string": ("igor_ports", {}, {"services": "tftp,http"}),
    "protocol": ("opto22_ports", {}, {"protocol": "udp"}),
    "overlay variable": ("opto22_ports", {"otnet_ports_overlay": [SITE]}, {}),
    "direct overlay over the variable": ("opto22_ports", {"otnet_ports_overlay": [SITE]}, {"overlay": []}),
    "direct None falls back to the variable": ("opto22_ports", {"otnet_ports_overlay": [SITE]}, {"overlay": None}),
    "unrelated variables": ("opto22_ports", {"inventory_hostname": "fw1", "otnet_other": 1}, {}),
    "install_dir default": ("igor_exclusions", {}, {}),
    "install_dir": ("igor_exclusions", {}, {"install_dir": "D:\\Igor"}),
}


@pytest.fixture(autouse=True)
def forget_resolved_options():
    _plugin_base._RESOLVED.clear()
    _plugin_base._CATALOGS.clear()
    yield
    _plugin_base._RESOLVED.clear()
    _plugin_base._CATALOGS.clear()


def ansible_options(name: str, variables: dict, direct: dict) -> dict:
    """What Ansible's own set_options resolves, on a fresh instance."""
    plugin = lookup_loader.get(f"otnet.ports.{name}")
    LookupBase.set_options(plugin, var_options=variables, direct=direct)
    return plugin._options


@pytest.mark.parametrize(("name", "variables", "direct"), CASES.values(), ids=CASES.keys())
def test_remembered_options_are_ansibles(name, variables, direct):
    expected = ansible_options(name, variables, direct)
    for _ in range(2):  # the first call resolves, the second reuses
        plugin = lookup_loader.get(f"otnet.ports.{name}")
        plugin.set_options(var_options=variables, direct=dict(direct))
        assert plugin._options == expected


def test_same_inputs_are_resolved_once(monkeypatch):
    calls = []
    resolve = LookupBase.set_options
    monkeypatch.setattr(LookupBase, "set_options", lambda self, **kw: calls.append(kw) or resolve(self, **kw))
    for _ in range(3):
        lookup_loader.get("otnet.ports.igor_ports").run(["gateway"], variables={}, version="1.12.1")
    lookup_loader.get("otnet.ports.igor_ports").run(["gateway"], variables={}, version="1.13")
    assert len(calls) == 2


def test_a_variable_set_later_is_seen():
    lookup_loader.get("otnet.ports.opto22_ports").run(["groov"], variables={})
    plugin = lookup_loader.get("otnet.ports.opto22_ports")
    plugin.run(["groov"], variables={"otnet_ports_overlay": [SITE]})
    assert plugin.get_option("overlay") == [SITE]
    with pytest.raises(AnsibleLookupError, match="site overlay"):
        plugin.run(["groov"], variables={"otnet_ports_overlay": [{"service": "broken"}]})
    plugin.run(["groov"], variables={})
    assert plugin.get_option("overlay") is None


def test_an_environment_variable_set_later_is_seen(monkeypatch, tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump([SITE]))
    plugin = lookup_loader.get("otnet.ports.opto22_ports")
    plugin.run(["groov"], variables={})
    assert plugin.get_option("overlay_file") is None
    monkeypatch.setenv("OTNET_PORTS_OVERLAY_FILE", str(path))
    plugin.run(["groov"], variables={})
    assert plugin.get_option("overlay_file") == str(path)
    monkeypatch.setenv("OTNET_PORTS_OVERLAY_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(AnsibleLookupError, match=r"missing\.yml"):
        plugin.run(["groov"], variables={})


def test_the_callers_list_changing_later_changes_nothing():
    services = ["tftp"]
    first = lookup_loader.get("otnet.ports.igor_ports").run(["gateway"], variables={}, services=services)
    services.append("http")
    again = lookup_loader.get("otnet.ports.igor_ports").run(["gateway"], variables={}, services=["tftp"])
    assert again == first
    assert {r["service"] for r in again} == {"tftp"}


def test_errors_are_not_remembered():
    for _ in range(2):
        with pytest.raises(AnsibleLookupError, match="unknown direction 'inbound'"):
            lookup_loader.get("otnet.ports.igor_ports").run(["gateway"], variables={}, direction="inbound")
    assert not _plugin_base._RESOLVED


def test_a_value_without_a_key_is_resolved_every_time(monkeypatch):
    calls = []
    resolve = LookupBase.set_options
    monkeypatch.setattr(LookupBase, "set_options", lambda self, **kw: calls.append(kw) or resolve(self, **kw))
    odd = {"otnet_ports_overlay": UserList([SITE])}  # no stable key: resolved by Ansible each time, never remembered
    for _ in range(2):
        lookup_loader.get("otnet.ports.opto22_ports").set_options(var_options=odd, direct={})
    assert len(calls) == 2
    assert not _plugin_base._RESOLVED


def test_an_overlay_file_is_read_once_while_unchanged(monkeypatch, tmp_path):
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump([SITE]))
    reads = []
    read = _plugin_base.read_overlay_file
    monkeypatch.setattr(_plugin_base, "read_overlay_file", lambda found: reads.append(found) or read(found))
    for _ in range(3):
        lookup_loader.get("otnet.ports.opto22_ports").run(["groov"], variables={"otnet_ports_overlay_file": str(path)})
    assert reads == [str(path)]


def test_an_overlay_file_rewritten_between_lookups_is_read_again(tmp_path):
    path = tmp_path / "site.yml"
    variables = {"otnet_ports_overlay_file": str(path)}
    path.write_text(yaml.safe_dump([SITE]))
    lookup_loader.get("otnet.ports.opto22_ports").run(["groov"], variables=variables)
    path.write_text(yaml.safe_dump([{**SITE, "port": 99999}]))
    with pytest.raises(AnsibleLookupError, match=r"field 'port': 99999"):
        lookup_loader.get("otnet.ports.opto22_ports").run(["groov"], variables=variables)
    path.unlink()
    with pytest.raises(AnsibleLookupError, match=r"site\.yml'?: cannot read it"):
        lookup_loader.get("otnet.ports.opto22_ports").run(["groov"], variables=variables)


def test_an_overlay_variable_changed_between_lookups_is_validated_again():
    lookup_loader.get("otnet.ports.igor_ports").run(["bacnet"], variables={"otnet_ports_overlay": [SITE]})
    with pytest.raises(AnsibleLookupError, match=r"field 'port': 99999"):
        lookup_loader.get("otnet.ports.igor_ports").run(
            ["bacnet"], variables={"otnet_ports_overlay": [{**SITE, "port": 99999}]}
        )
