"""The igor_gateway role's files agree with each other and with the planning code: one list of variables, one set of
defaults, every planned rule option passed to win_firewall_rule, and no port or path of the role's own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from igor_gateway_seed import role_settings

from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import DATA_FIELDS, PROFILES, build_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._settings import role_spec

ROLE = Path(__file__).resolve().parents[3] / "roles" / "igor_gateway"


def load(relative: str) -> Any:
    return yaml.safe_load((ROLE / relative).read_text(encoding="utf-8"))


DEFAULTS = load("defaults/main.yml")
SPECS = load("meta/argument_specs.yml")["argument_specs"]
APPLY = load("tasks/apply.yml")


def task(tasks: list[dict[str, Any]], module: str, name_part: str = "") -> dict[str, Any]:
    (found,) = [t for t in tasks if module in t and name_part in t["name"]]
    return found


def test_entry_points_are_main_and_plan_with_the_same_options():
    assert sorted(SPECS) == ["main", "plan"]
    assert SPECS["main"]["options"] == SPECS["plan"]["options"]
    assert SPECS["main"]["options"] == role_spec("igor_gateway").options


def test_defaults_are_the_specs_defaults():
    """Ansible does not apply a spec's defaults to a role's variables; defaults/main.yml must say the same."""
    options = SPECS["main"]["options"]
    assert options["igor_gateway_version"]["required"] is True
    expected = role_spec("igor_gateway").defaults()
    del expected["igor_gateway_version"]  # required: no default
    assert expected == DEFAULTS


def test_the_plans_profile_order_covers_the_specs_choices():
    assert sorted(SPECS["main"]["options"]["igor_gateway_firewall_profiles"]["choices"]) == sorted(PROFILES)


def test_the_plan_filter_gets_every_variable_by_name():
    settings = load("vars/main.yml")["__igor_gateway_settings"]
    assert settings == {name: "{{ " + name + " }}" for name in role_spec("igor_gateway").names}


def test_plan_entry_point_only_sets_the_fact_on_the_controller():
    (only,) = load("tasks/plan.yml")
    assert list(only["ansible.builtin.set_fact"]) == ["igor_gateway_plan"]
    assert "otnet.ports.igor_gateway_plan" in only["ansible.builtin.set_fact"]["igor_gateway_plan"]


def test_main_plans_before_it_applies():
    """apply.yml is included, not imported: it is read only after requirements.yml has checked its collections."""
    steps = [(key, task[key]) for task in load("tasks/main.yml") for key in task if key != "name"]
    assert steps == [
        ("ansible.builtin.import_tasks", "plan.yml"),
        ("ansible.builtin.import_tasks", "requirements.yml"),
        ("ansible.builtin.include_tasks", "apply.yml"),
    ]


def test_the_rule_task_passes_every_planned_option_unchanged(catalog):
    values = role_settings(igor_gateway_bacnet=True)
    rules = [
        rule
        for outbound in (False, True)
        for rule in build_plan(catalog, {**values, "igor_gateway_outbound_rules": outbound})["rules"]
    ]
    keys = {key for rule in rules for key in rule} - set(DATA_FIELDS)  # data, not module options
    always = {key for key in keys if all(key in rule for rule in rules)}
    rule_task = task(APPLY, "community.windows.win_firewall_rule", "Apply")
    assert rule_task["loop"] == "{{ igor_gateway_plan.rules }}"
    assert rule_task["loop_control"]["loop_var"] == "__igor_gateway_rule"
    arguments = rule_task["community.windows.win_firewall_rule"]
    assert set(arguments) == keys
    for key in keys:
        suffix = "" if key in always else " | default(omit)"
        assert arguments[key] == "{{ __igor_gateway_rule." + key + suffix + " }}", key


def test_stale_rules_are_removed_by_name_only():
    stale = task(APPLY, "community.windows.win_firewall_rule", "no longer has")
    assert stale["community.windows.win_firewall_rule"] == {
        "name": "{{ __igor_gateway_stale_rule }}",
        "state": "absent",
    }
    assert stale["loop"] == "{{ __igor_gateway_compare.stale }}"


@pytest.mark.parametrize("state", ["present", "absent"])
def test_defender_tasks_say_what_they_change_and_run_only_for_their_state(state):
    verb = "Add" if state == "present" else "Remove"
    defender = task(APPLY, "ansible.windows.win_powershell", f"{verb} ")
    assert "Microsoft Defender exclusions" in defender["name"]
    assert defender["name"].endswith("(audited change)")
    assert f"igor_gateway_plan.state == '{state}'" in defender["when"]
    assert defender["ansible.windows.win_powershell"]["parameters"]["State"] == state


def test_no_port_number_or_path_of_its_own(catalog):
    """Ports, exclusion paths and the install directory live in the catalog; the README shows them, generated."""
    ports = {str(n) for r in catalog.select(vendor="igor") for n in (r["start"], r["end"])}
    paths = {catalog.default_install_dir, *(f"\\{e.relative}" for e in catalog.exclusions)}
    executables = {e.relative.rsplit("\\", 1)[-1] for e in catalog.exclusions if e.kind == "process"}
    words = ports | paths | executables
    for path in ROLE.rglob("*"):
        if path.is_file() and path.name != "README.md":
            text = path.read_text(encoding="utf-8")
            for word in words:
                assert not re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text), f"{path.name}: {word}"
