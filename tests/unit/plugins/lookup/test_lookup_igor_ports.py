from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError, AnsibleTemplatePluginError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template
from seedrows import igor_rows

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import check_igor_version

GATEWAY = [row for row in igor_rows() if row.table == "gateway"]
FLOAT_VERSION = "version: 1.2 is a number, not a version string; YAML reads 1.20 as the number 1.2; quote it"


@pytest.fixture
def lookup():
    return lookup_loader.get("otnet.ports.igor_ports")


@pytest.mark.parametrize(
    ("direction", "protocol"), [("incoming", "tcp"), ("incoming", "udp"), ("outgoing", "tcp"), ("outgoing", "udp")]
)
def test_gateway_columns(lookup, direction, protocol):
    expected = sorted(
        row.cells[(direction, protocol)] for row in GATEWAY if row.cells[(direction, protocol)] is not None
    )
    records = lookup.run(["gateway"], variables={}, version="1.12.1", direction=direction, protocol=protocol)
    assert sorted(r["start"] for r in records) == expected


def test_version_below_floor(lookup):
    with pytest.raises(AnsibleLookupError, match=r"version: 1\.12\.0 is below 1\.12\.1"):
        lookup.run(["gateway"], variables={}, version="1.12.0")


def test_not_a_version(lookup):
    with pytest.raises(AnsibleLookupError, match=r"'one\.twelve' is not a version"):
        lookup.run(["bacnet"], variables={}, version="one.twelve")


def test_all_tables_by_default(lookup):
    assert {r["table"] for r in lookup.run([], variables={})} == {"gateway", "firmware", "bacnet"}


def test_direction_choice_names_the_valid_values(lookup):
    with pytest.raises(AnsibleLookupError, match=r"^unknown direction 'inbound'; known: incoming, outgoing$"):
        lookup.run(["gateway"], variables={}, direction="inbound")


def test_version_as_a_yaml_float(lookup):
    """Ansible's str option type made 1.2 into '1.2' and the lookup answered "1.2 is below 1.12.1"."""
    with pytest.raises(AnsibleLookupError) as error:
        lookup.run(["gateway"], variables={}, version=1.2)
    assert str(error.value) == FLOAT_VERSION


def test_version_float_message_is_the_planners(lookup, catalog):
    """The planner checks igor_gateway_version with check_igor_version; the lookup says the same, named 'version'."""
    with pytest.raises(QueryError) as planner:
        check_igor_version(catalog, 1.2, ["gateway"], "version")
    with pytest.raises(AnsibleLookupError) as looked_up:
        lookup.run(["gateway"], variables={}, version=1.2)
    assert str(looked_up.value) == str(planner.value) == FLOAT_VERSION


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("query('otnet.ports.igor_ports', 'gateway', version=1.20)", id="jinja literal 1.20"),
        pytest.param("query('otnet.ports.igor_ports', 'gateway', version=v)", id="yaml variable v: 1.20"),
        pytest.param("lookup('otnet.ports.igor_ports', 'gateway', version=v, direction='incoming')", id="lookup()"),
    ],
)
def test_version_float_through_ansible_templating(expression):
    """Through Ansible's own templar: the float reaches the lookup as written, not as Ansible's coerced '1.2'."""
    loader = DataLoader()
    templar = Templar(loader=loader, variables=loader.load("v: 1.20\n"))
    with pytest.raises(AnsibleTemplatePluginError, match=r"lookup plugin 'otnet\.ports\.igor_ports' failed") as error:
        templar.template(trust_as_template("{{ " + expression + " }}"))
    assert str(error.value).endswith(FLOAT_VERSION)


def test_quoted_version_through_ansible_templating():
    loader = DataLoader()
    templar = Templar(loader=loader, variables=loader.load("v: '1.20'\n"))
    records = templar.template(trust_as_template("{{ query('otnet.ports.igor_ports', 'gateway', version=v) }}"))
    assert {r["table"] for r in records} == {"gateway"}
