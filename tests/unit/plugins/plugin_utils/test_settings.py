"""plugin_utils/_settings.py: a role's settings validated against its meta/argument_specs.yml with Ansible's own
validator - every boolean, integer and choice read as Ansible reads it, the same way for both roles (issue 9,
defect 15), each problem named by its full path, value and rule. The cases are built from the specs themselves."""

from __future__ import annotations

from collections import UserDict

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._settings import (
    Problems,
    SettingsError,
    check_settings,
    plain,
    role_spec,
)

ROLES = ("opto22_segment", "igor_gateway")
BOOLEAN_OPTIONS = [
    (role, name) for role in ROLES for name, option in role_spec(role).options.items() if option.get("type") == "bool"
]
TEXT_BOOLEANS = {"false": False, "no": False, "off": False, "0": False, "true": True, "yes": True, "on": True}


def checked(role: str, values) -> tuple[dict, list[str]]:
    problems = Problems(role)
    return check_settings(role_spec(role), values, problems), problems.messages


def required(role: str) -> dict[str, str]:
    """A string for each required variable (the spec's type for them), so a case breaks one rule only."""
    return {name: "1.12.1" for name, option in role_spec(role).options.items() if option.get("required")}


def test_every_role_setting_comes_from_its_spec():
    for role in ROLES:
        spec = role_spec(role)
        assert spec.names
        assert all(name.startswith(spec.prefix) for name in spec.names)
        assert set(spec.defaults()) == set(spec.names)


@pytest.mark.parametrize(("role", "name"), BOOLEAN_OPTIONS, ids=[f"{r}.{n}" for r, n in BOOLEAN_OPTIONS])
@pytest.mark.parametrize(("text", "expected"), TEXT_BOOLEANS.items(), ids=TEXT_BOOLEANS.keys())
def test_both_roles_read_a_boolean_given_as_text_as_ansible_does(role, name, text, expected):
    """-e opto22_segment_log_drops=false and -e igor_gateway_bacnet=yes arrive as text; both are booleans."""
    values, problems = checked(role, {**required(role), name: text})
    assert problems == []
    assert values[name] is expected


@pytest.mark.parametrize(("role", "name"), BOOLEAN_OPTIONS, ids=[f"{r}.{n}" for r, n in BOOLEAN_OPTIONS])
def test_both_roles_refuse_a_boolean_that_is_not_one(role, name):
    _, problems = checked(role, {**required(role), name: "maybe"})
    assert problems == [f"{name}: 'maybe' is not a boolean (true or false; Ansible also reads yes/no, on/off, 1/0)"]


@pytest.mark.parametrize("role", ROLES)
def test_unset_variables_take_the_specs_defaults(role):
    values, problems = checked(role, {})
    spec = role_spec(role)
    required = [name for name, option in spec.options.items() if option.get("required")]
    assert problems == [f"{name}: missing; it is required (a string)" for name in required]
    assert {k: v for k, v in values.items() if k not in required} == {
        k: v for k, v in spec.defaults().items() if k not in required
    }


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_variable_is_named_with_the_known_ones(role):
    spec = role_spec(role)
    typo = spec.names[1][:-1]
    _, problems = checked(role, {typo: 1})
    assert problems[0] == (
        f"{typo}: not a variable of the {role} role (did you mean {spec.names[1]}?); known: {', '.join(spec.names)}"
    )


def test_nested_problems_are_named_by_their_full_path():
    conduits = [
        {"name": "ok", "sources": ["10.0.0.0/8"]},
        {"name": "ok2", "sources": ["10.0.0.0/8"], "ports": [{"port": 1}, {"port": "x", "protocol": "tcp"}]},
        {"sources": ["10.0.0.0/8"], "colour": "red"},
        "scada",
    ]
    values, problems = checked("opto22_segment", {"opto22_segment_conduits": conduits})
    assert problems == [
        "opto22_segment_conduits[1].ports[0].protocol: missing; it is required (a string)",
        "opto22_segment_conduits[1].ports[1].port: 'x' is not an integer (written with the ASCII digits 0-9)",
        "opto22_segment_conduits[2]: unknown key 'colour'; allowed: name, sources, services, ports, expires",
        "opto22_segment_conduits[2].name: missing; it is required (a string)",
        "opto22_segment_conduits[3]: 'scada' is not a mapping",
    ]
    # The entries that pass keep their place, with the spec's defaults filled in; the others are None.
    assert values["opto22_segment_conduits"][0] == {
        "name": "ok",
        "sources": ["10.0.0.0/8"],
        "services": [],
        "ports": [],
        "expires": None,
    }
    assert values["opto22_segment_conduits"][1:] == [None, None, None]


def test_a_mapping_keeps_the_keys_that_pass():
    values, problems = checked(
        "opto22_segment", {"opto22_segment_management": {"sources": ["10.1.0.0/24"], "port": "x"}}
    )
    assert problems == ["opto22_segment_management.port: 'x' is not an integer (written with the ASCII digits 0-9)"]
    assert values["opto22_segment_management"] == {"sources": ["10.1.0.0/24"], "port": 22}


def test_input_that_is_not_a_mapping_stops_at_once():
    with pytest.raises(SettingsError, match=r"^expected a mapping of the igor_gateway role's variables by their full"):
        checked("igor_gateway", ["igor_gateway_version"])


def test_plain_copies_any_mapping_and_sequence_into_builtin_types():
    class Text(str):
        pass

    given = UserDict({Text("a"): (1, Text("b"), {"c": [True, None, 2.5]})})
    copied = plain(given)
    assert copied == {"a": [1, "b", {"c": [True, None, 2.5]}]}
    assert type(copied) is dict
    assert type(next(iter(copied))) is str
    assert type(copied["a"][1]) is str


@pytest.mark.parametrize("value", ["٦٠", "６０", "6０", "²"], ids=["arabic-indic", "fullwidth", "mixed", "superscript"])
def test_integers_in_other_scripts_digits_are_refused(value):
    # Python's int() reads all of these as numbers; a timeout or port written this way is refused, by name.
    _, problems = checked("opto22_segment", {"opto22_segment_confirm_timeout": value})
    assert problems == [
        f"opto22_segment_confirm_timeout: {value!r} is not an integer (written with the ASCII digits 0-9)"
    ]
