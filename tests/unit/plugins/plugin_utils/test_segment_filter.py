"""The opto22_segment_plan filter (a thin wrapper over the planner and renderer) and the role's static contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader
from seedrows import igor_rows, opto22_rows
from segment_site import MGMT_CONNECTION, site, with_change

from ansible_collections.otnet.ports.plugins.plugin_utils._segment import PREFIX, SETTINGS, TABLE

ROLE = Path(__file__).resolve().parents[4] / "roles" / "opto22_segment"


@pytest.fixture
def segment_plan():
    return filter_loader.get("otnet.ports.opto22_segment_plan").j2_function


def test_filter_returns_plan_text_and_rev(segment_plan):
    result = segment_plan(site(), connection=MGMT_CONNECTION)
    assert result["table"] == TABLE
    assert result["text"].count(result["rev_comment"]) == 1
    assert result["rev_comment"].endswith(result["rev"])
    assert [c["name"] for c in result["conduits"]] == ["scada", "engineering", "nms", "corporate"]


def test_filter_without_details_returns_the_file_only(segment_plan):
    full = segment_plan(site(), connection=MGMT_CONNECTION)
    brief = segment_plan(site(), connection=MGMT_CONNECTION, details=False)
    assert brief == {key: full[key] for key in ("table", "text", "rev", "rev_comment")}


def test_filter_reports_errors_as_filter_errors(segment_plan):
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.opto22_segment_plan: opto22_segment_conduits\[0\]"):
        segment_plan(with_change("conduits[0].services[0]", "modbus"))


def test_filter_refuses_settings_that_are_not_a_mapping(segment_plan):
    with pytest.raises(AnsibleFilterError, match="expected the settings as a mapping; got list"):
        segment_plan([site()])


def test_filter_uses_the_site_overlay(segment_plan):
    overlay = [{"service": "historian_feed", "port": 49300, "protocol": "tcp", "description": "Historian feed"}]
    result = segment_plan(with_change("conduits[0].services", ["historian_feed"]), overlay=overlay)
    assert "historian_feed" in result["text"]
    with pytest.raises(AnsibleFilterError, match="unknown catalog service 'historian_feed'"):
        segment_plan(with_change("conduits[0].services", ["historian_feed"]))


# ---- the role's static contract ------------------------------------------------------------------------


def role_yaml(relative: str):
    return yaml.safe_load((ROLE / relative).read_text())


def test_role_table_is_the_planners():
    assert role_yaml("vars/main.yml")["__opto22_segment_table"] == TABLE


def test_role_hands_every_setting_to_the_planner():
    settings = role_yaml("vars/main.yml")["__opto22_segment_settings"]
    assert set(settings) == set(SETTINGS)
    for key, value in settings.items():
        assert value == f"{{{{ {PREFIX}{key} }}}}"


def test_every_public_variable_is_specified_with_its_default():
    defaults = role_yaml("defaults/main.yml")
    options = role_yaml("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


def seed_port_numbers() -> set[int]:
    ports = {p for row in opto22_rows() for start, end in row.ranges for p in (start, end)}
    ports |= {port for row in igor_rows() for _, _, port in row.filled_cells()}
    return ports - {0}  # the low edge of the document's ranges, not a port anything listens on


def test_the_role_writes_no_port_numbers_of_its_own():
    """Ports come from the catalog by service key; only the management SSH default (not a vendor port) is allowed."""
    seed = seed_port_numbers()
    found = []
    for path in sorted(p for p in ROLE.rglob("*") if p.is_file()):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for word in re.findall(r"(?<![\w.-])\d+(?![\w.])", line):
                if int(word) in seed:
                    found.append(f"{path.relative_to(ROLE)}:{number}: {word}: {line.strip()}")
    assert not found, "\n".join(found)
