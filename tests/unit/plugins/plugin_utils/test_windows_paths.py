"""Windows rules (plugins/plugin_utils/_windows.py): install directories Windows would refuse or change, folders any
user can write to, and remote-address scopes (mapped, scoped, Any in disguise). Each hostile value is a named case."""

from __future__ import annotations

import pytest

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import QueryError
from ansible_collections.otnet.ports.plugins.plugin_utils._windows import (
    ADDRESS_KEYWORDS,
    MAX_PATH,
    check_install_dir,
    check_remote_address,
    check_remote_scope,
)

WHERE = "igor_gateway_install_dir"


def refused(value, *, relatives=None) -> str:
    with pytest.raises(QueryError) as error:
        check_install_dir(value, WHERE, relatives)
    message = str(error.value)
    assert message.startswith(f"{WHERE}: {value!r} ")
    return message


# ---- install directories ----------------------------------------------------------------------------------

CONTROL = {
    "C:\\Igor\\r\\n": ("C:\\Igor\r\n", "'\\r'"),
    "C:\\Ig\\tor tab": ("C:\\Ig\tor", "'\\t'"),
    "C:\\Igor NUL": ("C:\\Igor\x00", "'\\x00'"),
    "C:\\Igor\\nD:\\x": ("C:\\Igor\nD:\\x", "'\\n'"),
    "C:\\Igor ESC": ("C:\\Igor\x1b", "'\\x1b'"),
    "C:\\Igor DEL": ("C:\\Igor\x7f", "'\\x7f'"),
    "leading CR": ("\rC:\\Igor", "'\\r'"),
}


@pytest.mark.parametrize(("value", "char"), CONTROL.values(), ids=CONTROL.keys())
def test_control_characters_are_named_not_called_relative(value, char):
    message = refused(value)
    assert f"contains a control character ({char}" in message
    assert "not absolute" not in message


DOTS_AND_SPACES = {
    "C:\\Igor.": "'Igor.' ending in a dot",
    "C:\\Igor.\\Data": "'Igor.' ending in a dot",
    "C:\\Igor \\Data": "'Igor ' ending in a space",
    "C:\\Igor\\...": "'...' ending in a dot",
    "C:\\Igor ": "starts or ends with a space",
    " C:\\Igor": "starts or ends with a space",
}


@pytest.mark.parametrize(("value", "rule"), DOTS_AND_SPACES.items(), ids=DOTS_AND_SPACES.keys())
def test_components_windows_would_rename(value, rule):
    assert rule in refused(value)


DEVICES = [
    "C:\\CON",
    "C:\\CON\\NUL",
    "C:\\Igor\\nul",
    "C:\\Igor\\NUL.txt",
    "C:\\Igor\\Aux.Data",
    "C:\\PRN\\Igor",
    "C:\\Igor\\COM1",
    "C:\\Igor\\com9.log",
    "C:\\Igor\\LPT1",
    "C:\\Igor\\lpt9",
    "C:\\Igor\\COM¹",
    "C:\\Igor\\LPT³.txt",
    "C:\\Igor\\COM0",
    "C:\\Igor\\CONIN$",
    "C:\\Igor\\NUL .txt",
]


@pytest.mark.parametrize("value", DEVICES, ids=DEVICES)
def test_reserved_device_names(value):
    assert "a reserved device name" in refused(value)


@pytest.mark.parametrize("value", ["C:\\Igor\\COM10", "C:\\Console", "C:\\Igor\\NULL", "C:\\Igor\\COMPANY", "D:\\AUXI"])
def test_names_that_only_start_like_a_device_are_fine(value):
    assert check_install_dir(value, WHERE) == value


@pytest.mark.parametrize("value", ["C:\\PROGRA~1\\Igor", "C:\\Igor~1", "C:\\Users\\PUBLIC~1"])
def test_short_names_are_refused(value):
    assert "8.3 short name" in refused(value)


WORLD_WRITABLE = [
    "C:\\Users\\Public",
    "C:\\Users\\Public\\Igor",
    "c:\\users\\public\\documents\\igor",
    "C:\\USERS\\PUBLIC\\Igor\\",
    "C:\\Windows\\Temp",
    "C:\\WINDOWS\\TEMP\\Igor",
    "C:\\Temp",
    "C:\\temp\\Igor",
    "C:\\Tmp\\Igor",
    "C:\\Users\\operator\\AppData\\Local\\Temp\\Igor",
    "C:\\Users\\Administrator\\AppData\\Local\\Temp",
    "C:\\Windows\\Tasks\\Igor",
    "C:\\Windows\\tracing\\Igor",
    "C:\\Windows\\System32\\spool\\drivers\\color\\Igor",
    "C:\\Documents and Settings\\Public\\Igor",
    "D:\\Users\\Public\\Igor",
]


@pytest.mark.parametrize("value", WORLD_WRITABLE, ids=WORLD_WRITABLE)
def test_world_writable_locations(value):
    message = refused(value)
    assert "where any local user can create files" in message
    assert "Defender exclusions there" in message


@pytest.mark.parametrize("value", ["C:\\ProgramData", "c:\\programdata\\", "C:\\Users\\All Users"])
def test_programdata_itself_is_refused(value):
    assert "a shared folder any local user can create files in" in refused(value)


@pytest.mark.parametrize(
    "value",
    [
        "C:\\ProgramData\\Igor",
        "C:\\Program Files\\Igor",
        "E:\\Lighting\\Igor",
        "C:\\Users\\operator\\Igor",
        "C:\\Temporary\\Igor",
        "C:\\Igor\\Temp",
    ],
)
def test_ordinary_locations_pass(value):
    assert check_install_dir(value, WHERE) == value


def test_the_longest_exclusion_path_stays_under_max_path(catalog):
    longest = max((e.relative for e in catalog.exclusions), key=len)
    limit = MAX_PATH - 1 - len(longest) - 1
    fits = "C:\\" + "a" * (limit - 3)
    assert check_install_dir(fits, WHERE) == fits
    too_long = fits + "b"
    message = refused(too_long)
    assert f"is too long ({limit + 1} characters)" in message
    assert f"has {MAX_PATH} characters and Windows' MAX_PATH allows {MAX_PATH - 1}" in message
    assert f"at most {limit} characters" in message
    assert longest.rsplit("\\", 1)[-1] in message


def test_the_length_rule_uses_the_paths_given():
    assert "too long" in refused("C:\\Igor", relatives=["x" * 300])
    assert check_install_dir("C:\\" + "a" * 255, WHERE, relatives=[]) == "C:\\" + "a" * 255


# ---- remote-address scopes --------------------------------------------------------------------------------

SCOPE = "igor_gateway_node_networks"

ANY_IN_DISGUISE = {
    "0.0.0.0/0": ["0.0.0.0/0"],
    "::/0": ["::/0"],
    "0.0.0.0/0, ::/0, LocalSubnet": ["0.0.0.0/0", "::/0", "LocalSubnet"],
    "0.0.0.0/0.0.0.0": ["0.0.0.0/0.0.0.0"],
    "0.0.0.0-255.255.255.255": ["0.0.0.0-255.255.255.255"],
    "::-ffff:...:ffff": ["::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    "0.0.0.0/1 + 128.0.0.0/1 + ::/0": ["0.0.0.0/1", "128.0.0.0/1", "::/0"],
    "0.0.0.0/1 + 128.0.0.0/1": ["0.0.0.0/1", "128.0.0.0/1"],
    "ranges joining end to end": ["0.0.0.0-10.0.0.0", "10.0.0.1-255.255.255.255"],
    "overlapping CIDR and range": ["0.0.0.0/1", "100.0.0.0-255.255.255.255", "DNS"],
    "comma string 0.0.0.0/0": "0.0.0.0/0",
}


@pytest.mark.parametrize("value", ANY_IN_DISGUISE.values(), ids=ANY_IN_DISGUISE.keys())
def test_any_in_disguise_is_refused(value):
    with pytest.raises(QueryError) as error:
        check_remote_scope(value, SCOPE)
    message = str(error.value)
    assert message.startswith(f"{SCOPE}: ")
    assert "Any in disguise" in message
    assert "write Any alone" in message


@pytest.mark.parametrize(
    "value",
    [
        ["0.0.0.0/1"],
        ["0.0.0.0/1", "128.0.0.0/2"],
        ["0.0.0.0-255.255.255.254"],
        ["::/1", "8000::/2", "LocalSubnet"],
        ["10.0.0.0/8", "2001:db8::/32"],
    ],
)
def test_wide_but_not_everything_passes(value):
    assert len(check_remote_scope(value, SCOPE)) == len(value)


def test_any_written_alone_is_still_any():
    assert check_remote_scope(["Any"], SCOPE) == ("any",)


REMOTE_REFUSED = {
    "::ffff:10.10.1.11": "write 10.10.1.11",
    "::ffff:10.10.1.0/120": "write 10.10.1.0/24",
    "::ffff:10.0.0.1-::ffff:10.0.0.9": "IPv4 address written as IPv6",
    "10.0.0.1-::ffff:10.0.0.9": "IPv4 address written as IPv6",
    "fe80::1%eth0": "scope id '%eth0'",
    "fe80::1%eth0-fe80::9": "scope id '%eth0'",
    "fe80::/64%eth0": "scope id '%eth0'",
    "fe80::1-fe80::9%eth0": "scope id '%eth0'",
}


@pytest.mark.parametrize(("value", "rule"), REMOTE_REFUSED.items(), ids=REMOTE_REFUSED.keys())
def test_remote_mapped_and_scoped_are_refused(value, rule):
    with pytest.raises(QueryError) as error:
        check_remote_address(value, f"{SCOPE}[0]")
    assert str(error.value).startswith(f"{SCOPE}[0]: {value!r} ")
    assert rule in str(error.value)


def test_keywords_have_one_home():
    assert check_remote_scope(list(ADDRESS_KEYWORDS), SCOPE) == ADDRESS_KEYWORDS
