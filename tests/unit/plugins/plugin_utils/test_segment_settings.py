"""The opto22_segment settings the host side uses - paths, unit name, confirm timeout - and how the planner reads
its input: checked in every state, each problem naming its own variable, booleans read as Ansible reads them, the
management path failing closed. One parametrised case per hostile value, named after it (issue 9)."""

from __future__ import annotations

import re

import pytest
from segment_site import MGMT_CONNECTION, site

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import (
    CONFIRM_TIMEOUT_MAX,
    NAME_MAX,
    PREFIX,
    TABLE,
    UNIT_NAME_MAX,
    SegmentError,
    plan_segment,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._settings import role_spec

SPEC = role_spec("opto22_segment")
STATES = SPEC.options[f"{PREFIX}state"]["choices"]


def plan(catalog, connection=MGMT_CONNECTION, **variables):
    """site() with the given variables (names without the prefix) set."""
    return plan_segment(
        catalog, {**site(), **{PREFIX + key: value for key, value in variables.items()}}, connection=connection
    )


def refused(catalog, **variables) -> str:
    with pytest.raises(SegmentError) as error:
        plan(catalog, **variables)
    return str(error.value)


# ---- defect 2 and 5: the state directory, in every state -------------------------------------------------

BAD_STATE_DIRS = {
    "/": "is a system directory",
    "/etc": "is a system directory",
    "/var": "is a system directory",
    "/var/lib": "is a system directory",
    "/usr": "is a system directory",
    "/home": "is a system directory",
    "/root": "is a system directory",
    "/tmp": "is a system directory",  # noqa: S108
    "/etc/systemd/system": "is inside /etc/systemd",
    "/proc/otnet": "is inside /proc",
    "/otnet": "lies directly below /; the state directory must be at least two levels deep",
    "/home/alice": "is a user's home directory",
    "var/lib/otnet": "is not absolute",
    "/var/lib/otnet/../..": "is not in normal form",
    "/var//lib/otnet": "is not in normal form",
    "/var/lib/otnet/": "is not in normal form",
    "/var/lib/otnet/./x": "is not in normal form",
    "/var/lib/otnet\nExecStartPre=/bin/sh": r"contains '\\n'",
    "/var/lib/otnet\r": r"contains '\\r'",
    "/var/lib/$HOME": "contains '\\$'",
    "/var/lib/%h": "contains '%'",
    "/var/lib/o'tnet": 'contains "\'"',
    '/var/lib/o"tnet': "contains '\"'",
    "/var/lib/ot net": "contains ' '",
    "/var/lib/ot\\net": r"contains '\\\\'",
    "/var/lib/ot\tnet": r"contains '\\t'",
    "/var/lib/otnet;reboot": "contains ';'",
    "": "contains nothing",
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("value", "rule"), BAD_STATE_DIRS.items(), ids=[repr(v) for v in BAD_STATE_DIRS])
def test_a_hostile_state_dir_is_refused_in_every_state(catalog, state, value, rule):
    text = refused(catalog, state=state, state_dir=value)
    assert text.startswith(f"{PREFIX}state_dir: {value!r} "), text
    assert re.search(rule, text), text


@pytest.mark.parametrize("value", ["/var/lib/otnet/opto22-segment", "/srv/otnet/segment.state", "/tmp/bench/x_1.2"])  # noqa: S108
def test_a_state_dir_of_the_roles_own_is_accepted(catalog, value):
    assert plan(catalog, state_dir=value)["paths"]["state_dir"] == value


def test_the_path_rule_names_the_allowed_characters(catalog):
    text = refused(catalog, rules_path="/etc/otnet/x y.nft")
    assert "only letters, digits, '.', '_', '-' and '/'" in text


# ---- defect 5 and 6: the rules file ---------------------------------------------------------------------

STATE_DIR = SPEC.options[f"{PREFIX}state_dir"]["default"]
BAD_RULES_PATHS = {
    "/etc/otnet/x.nft\nExecStartPre=/bin/sh -c id": r"contains '\\n', ' '",
    "%h/x.nft": "contains '%'",
    "$HOME/x.nft": "contains '\\$'",
    "/etc/otnet/x'.nft": 'contains "\'"',
    "/etc/otnet/x`id`.nft": "contains '`'",
    "/": "is a system directory",
    "/etc": "is a system directory",
    "/x.nft": "lies directly below /",
    "/etc/systemd/system/otnet.service": "is inside /etc/systemd",
    "/dev/sda": "is inside /dev",
    f"{STATE_DIR}/rollback.sh": "is inside the state directory",
    f"{STATE_DIR}/applied.nft": "is inside the state directory",
    STATE_DIR: "is the state directory",
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("value", "rule"), BAD_RULES_PATHS.items(), ids=[repr(v) for v in BAD_RULES_PATHS])
def test_a_hostile_rules_path_is_refused_in_every_state(catalog, state, value, rule):
    text = refused(catalog, state=state, rules_path=value)
    assert text.startswith(f"{PREFIX}rules_path: {value!r} "), text
    assert re.search(rule, text), text


def test_rules_inside_a_custom_state_dir_are_refused(catalog):
    text = refused(catalog, state_dir="/srv/seg", rules_path="/srv/seg/rollback.sh")
    assert "is inside the state directory opto22_segment_state_dir ('/srv/seg')" in text
    assert plan(catalog, state_dir="/srv/seg", rules_path="/srv/segment.nft")["paths"]["rules"] == "/srv/segment.nft"


# ---- defect 8: each error names its own variable ---------------------------------------------------------

BAD_UNIT_NAMES = {
    "../../../etc/x.service": "is a path",
    "sub/x.service": "is a path",
    "x..service": "is a path",
    "x.timer": "is not a systemd service name; it must end in .service",
    "x.service\nExecStart=/bin/sh": "contains '\\n', '='; not a systemd service name",
    "x y.service": "contains ' '; not a systemd service name",
    "%i.service": "contains '%'; not a systemd service name",
    "x" * (UNIT_NAME_MAX - len(".service") + 1)
    + ".service": f"characters long; unit names here have at most {UNIT_NAME_MAX}",
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("value", "rule"), BAD_UNIT_NAMES.items(), ids=[repr(v[:40]) for v in BAD_UNIT_NAMES])
def test_a_hostile_unit_name_is_refused_naming_the_unit_name(catalog, state, value, rule):
    text = refused(catalog, state=state, unit_name=value)
    assert text.startswith(f"{PREFIX}unit_name: "), text
    assert rule in text
    assert "confirm_timeout" not in text


def test_a_unit_name_of_100_characters_is_accepted(catalog):
    name = "x" * (UNIT_NAME_MAX - len(".service")) + ".service"
    result = plan(catalog, unit_name=name)
    assert result["unit_name"] == name
    assert result["paths"]["unit"] == f"/etc/systemd/system/{name}"


def test_every_bad_host_setting_is_named_on_its_own(catalog):
    text = refused(
        catalog,
        unit_name="../../../etc/x.service",
        confirm_timeout=-5,
        state_dir="/etc",
        rules_path="relative.nft",
    )
    assert text.startswith("4 problems in the opto22_segment settings:")
    lines = text.splitlines()[1:]
    assert sorted(line.split(":")[0].strip(" -") for line in lines) == sorted(
        f"{PREFIX}{name}" for name in ("unit_name", "confirm_timeout", "state_dir", "rules_path")
    )


# ---- defect 7: the confirm timeout has an upper bound ---------------------------------------------------

BAD_TIMEOUTS = {
    "100000000000000000000": 100000000000000000000,
    "3601": CONFIRM_TIMEOUT_MAX + 1,
    "-1": -1,
    "'100000000000000000000' as text": "100000000000000000000",
}


@pytest.mark.parametrize("value", BAD_TIMEOUTS.values(), ids=BAD_TIMEOUTS.keys())
def test_a_confirm_timeout_out_of_bounds_is_refused_naming_the_bound(catalog, value):
    text = refused(catalog, confirm_timeout=value)
    assert text.startswith(
        f"{PREFIX}confirm_timeout: {int(value)} is out of range; give 0 (no rollback) to 3600 seconds"
    )


def test_a_confirm_timeout_that_is_not_a_number_is_refused(catalog):
    assert refused(catalog, confirm_timeout="1m").startswith(f"{PREFIX}confirm_timeout: '1m' is not an integer")


def test_no_rollback_with_the_lockout_escape_hatch_is_refused(catalog):
    text = refused(catalog, confirm_timeout=0, allow_management_lockout=True)
    assert text.startswith(f"{PREFIX}confirm_timeout: 0 disables the rollback, and {PREFIX}allow_management_lockout")


@pytest.mark.parametrize("value", [0, 1, CONFIRM_TIMEOUT_MAX, "60"])
def test_a_confirm_timeout_within_bounds_is_planned_as_an_integer(catalog, value):
    assert plan(catalog, confirm_timeout=value)["confirm_timeout"] == int(value)


# ---- defect 9: a long name is told it is too long -------------------------------------------------------


def test_a_name_one_character_too_long_is_told_its_length_not_its_characters(catalog):
    conduits = site()[f"{PREFIX}conduits"]
    conduits[0]["name"] = "z" * (NAME_MAX + 1)
    text = refused(catalog, conduits=conduits)
    assert f"is {NAME_MAX + 1} characters long; names have at most {NAME_MAX}" in text
    assert "characters that could break" not in text
    conduits[0]["name"] = "z" * NAME_MAX
    assert plan(catalog, conduits=conduits)["conduits"][0]["name"] == "z" * NAME_MAX


# ---- defect 15: booleans read the way Ansible reads them (as the igor_gateway role reads them) -------------

BOOLEANS = {"'false'": ("false", False), "'no'": ("no", False), "'yes'": ("yes", True), "'True'": ("True", True),
            "0": (0, False), "1": (1, True), "'on'": ("on", True), "'off'": ("off", False)}  # fmt: skip


@pytest.mark.parametrize(("value", "expected"), BOOLEANS.values(), ids=BOOLEANS.keys())
def test_log_drops_given_as_text_is_read_as_ansible_reads_it(catalog, value, expected):
    result = plan(catalog, log_drops=value, persist=value)
    assert result["log"]["drops"] is expected
    assert result["persist"] is expected


# ---- defect 13: a connection the role cannot read fails closed -----------------------------------------

UNREADABLE = {
    "garbage": "garbage",
    "two fields": "10.254.1.1 22",
    "port not a number": "10.254.1.1 x 10.254.1.2 22",
    "bad client address": "999.1.1.1 40022 10.254.1.2 22",
    "hostname client": "admin.example 40022 10.254.1.2 22",
    "bad server address": "10.254.1.1 40022 nowhere 22",
    "server port 99999": "10.254.1.1 40022 10.254.1.2 99999",
    "arabic-indic port": "10.254.1.1 40022 10.254.1.2 ٢٢",
    "five fields": "10.254.1.1 40022 10.254.1.2 22 extra",
}


@pytest.mark.parametrize("connection", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_ssh_connection_fails_closed(catalog, connection):
    with pytest.raises(SegmentError) as error:
        plan(catalog, connection=connection)
    text = str(error.value)
    assert text.startswith(f"{PREFIX}management: the SSH connection Ansible came in on ({connection.strip()!r}) is not")
    assert "cannot check that the new rules admit it" in text
    assert f"{PREFIX}allow_management_lockout: true" in text


@pytest.mark.parametrize("connection", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_ssh_connection_is_accepted_with_the_escape_hatch(catalog, connection):
    result = plan(catalog, connection=connection, allow_management_lockout=True)
    assert result["management"]["connected_from"] is None


@pytest.mark.parametrize("connection", ["", "   ", "\n"])
def test_an_empty_connection_skips_the_check(catalog, connection):
    """A local connection (ansible_connection=local) has no SSH connection to keep."""
    assert plan(catalog, connection=connection)["management"]["connected_from"] is None


# ---- the plan the host side reads (contract 2) ---------------------------------------------------------


def test_the_plan_carries_the_host_side_settings_from_the_spec(catalog):
    result = plan(catalog)
    defaults = SPEC.defaults()
    assert result["table"] == TABLE
    assert result["state"] == "present"
    assert result["paths"] == {
        "rules": defaults[f"{PREFIX}rules_path"],
        "state_dir": defaults[f"{PREFIX}state_dir"],
        "unit": f"/etc/systemd/system/{defaults[f'{PREFIX}unit_name']}",
    }
    assert result["confirm_timeout"] == defaults[f"{PREFIX}confirm_timeout"]
    assert result["persist"] is defaults[f"{PREFIX}persist"]


def test_an_absent_plan_has_the_host_side_settings_only(catalog):
    result = plan_segment(catalog, {f"{PREFIX}state": "absent", f"{PREFIX}state_dir": "/srv/seg"})
    assert result["state"] == "absent"
    assert result["table"] == TABLE
    assert result["paths"]["state_dir"] == "/srv/seg"
    assert "text" not in result
    assert "conduits" not in result


def test_an_absent_plan_needs_no_controllers(catalog):
    assert plan_segment(catalog, {f"{PREFIX}state": "absent"})["state"] == "absent"
    with pytest.raises(SegmentError, match=rf"^{PREFIX}controllers: empty"):
        plan_segment(catalog, {f"{PREFIX}management": {"sources": ["10.254.1.0/29"]}})


def test_flows_carry_integer_ports(catalog):
    flows = [flow for conduit in plan(catalog)["conduits"] for flow in conduit["flows"]]
    assert flows
    assert all(isinstance(flow["start"], int) and isinstance(flow["end"], int) for flow in flows)
    assert all(flow["start"] <= flow["end"] for flow in flows)
    assert all("ports" not in flow for flow in flows)


@pytest.mark.parametrize("value", [None, ["opto22_segment_state"], "present"], ids=["None", "list", "text"])
def test_input_that_is_not_a_mapping_is_refused(catalog, value):
    with pytest.raises(SegmentError, match=r"^expected a mapping of the opto22_segment role's variables"):
        plan_segment(catalog, value)
