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

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import TABLE
from ansible_collections.otnet.ports.plugins.plugin_utils._settings import role_spec

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


def test_filter_without_details_returns_the_file_and_the_host_side_settings(segment_plan):
    full = segment_plan(site(), connection=MGMT_CONNECTION)
    brief = segment_plan(site(), connection=MGMT_CONNECTION, details=False)
    keys = ("table", "state", "paths", "unit_name", "confirm_timeout", "persist", "text", "rev", "rev_comment")
    assert brief == {key: full[key] for key in keys}


def test_filter_plans_absent_without_a_file(segment_plan):
    result = segment_plan({**site(), "opto22_segment_state": "absent"}, details=False)
    assert result["state"] == "absent"
    assert result["table"] == TABLE
    assert "text" not in result
    assert set(result["paths"]) == {"rules", "state_dir", "unit"}


def test_filter_refuses_a_hostile_state_dir_when_absent(segment_plan):
    with pytest.raises(AnsibleFilterError, match=r"opto22_segment_plan: opto22_segment_state_dir: '/' is a system"):
        segment_plan({"opto22_segment_state": "absent", "opto22_segment_state_dir": "/"})


def test_filter_reads_booleans_as_ansible_does(segment_plan):
    """-e opto22_segment_log_drops=false reaches the filter as the string 'false' (issue 9, defect 15)."""
    result = segment_plan({**site(), "opto22_segment_log_drops": "false"}, connection=MGMT_CONNECTION)
    assert result["log"] == {"drops": False, "rate": role_spec("opto22_segment").defaults()["opto22_segment_log_rate"]}
    assert "log prefix" not in result["text"]


def test_filter_has_no_prefix_option(segment_plan):
    with pytest.raises(TypeError):
        segment_plan(site(), prefix="site_")


def test_filter_reports_errors_as_filter_errors(segment_plan):
    with pytest.raises(AnsibleFilterError, match=r"^otnet\.ports\.opto22_segment_plan: opto22_segment_conduits\[0\]"):
        segment_plan(with_change("conduits[0].services[0]", "modbus"))


def test_filter_refuses_settings_that_are_not_a_mapping(segment_plan):
    with pytest.raises(
        AnsibleFilterError, match=r"expected a mapping of the opto22_segment role's variables .*; got list"
    ):
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


def test_role_hands_every_setting_to_the_planner_by_its_full_name():
    settings = role_yaml("vars/main.yml")["__opto22_segment_settings"]
    assert list(settings) == list(role_spec("opto22_segment").options)
    for name, value in settings.items():
        assert value == f"{{{{ {name} }}}}"


def test_the_role_checks_the_settings_in_python_before_anything_in_both_states():
    main = role_yaml("tasks/main.yml")
    assert main[0]["ansible.builtin.import_tasks"] == "validate.yml"
    assert "when" not in main[0]
    assert not (ROLE / "tasks" / "settings.yml").exists()
    validate = role_yaml("tasks/validate.yml")
    assert "otnet.ports.opto22_segment_plan" in validate[-1]["ansible.builtin.set_fact"]["__opto22_segment_plan"]
    assert "when" not in validate[-1]


def test_every_public_variable_is_specified_with_its_default():
    """Ansible does not apply a spec's defaults to a role's variables; defaults/main.yml must say the same."""
    defaults = role_yaml("defaults/main.yml")
    assert defaults == role_spec("opto22_segment").defaults()


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
