"""Time-limited conduits (``expires``): what is accepted and refused, the plan's expiry and time left, the elements
kept out of the unconditional sets, the nft rules that enforce the instant on the host, and the file checked by the
kernel's nft in a throwaway network namespace.

``now`` is injected (NOW) so every case is fixed in time; the real clock is used by the role and the molecule
scenario (extensions/molecule/opto22_segment), which probes a conduit before and after it expires.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import yaml
from ansible.plugins.loader import filter_loader
from netns import needs_netns, throwaway_netns
from segment_site import MGMT_CONNECTION, site

from ansible_collections.otnet.ports.plugins.plugin_utils._expires import parse_expires
from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import render_nft
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import SegmentError, plan_segment
from ansible_collections.otnet.ports.plugins.plugin_utils._segment_changes import changes
from ansible_collections.otnet.ports.plugins.plugin_utils._site import plan_problems

NOW = datetime(2026, 12, 2, 6, 0, 0, tzinfo=UTC)
EXPIRES = "2030-01-31T17:00:00Z"
EPOCH = 1896109200  # date -u -d 2030-01-31T17:00:00Z +%s
VENDOR = 4  # the index of the vendor conduit in with_vendor()
WHERE = f"opto22_segment_conduits[{VENDOR}].expires: conduit 'vendor'"
FORM = "with a time and a UTC offset (ISO 8601)"


def with_vendor(expires, sources=("10.40.0.0/24", "2001:db8:40::/64"), services=("modbus_tcp",), **more) -> dict:
    """site() and a vendor conduit that expires at ``expires``."""
    settings = site()
    vendor = {"name": "vendor", "sources": list(sources), "services": list(services), "expires": expires, **more}
    settings["opto22_segment_conduits"].append(vendor)
    return settings


def plan(catalog, settings, now=NOW):
    return plan_segment(catalog, settings, now=now)


def refused(catalog, settings, now=NOW) -> str:
    with pytest.raises(SegmentError) as caught:
        plan(catalog, settings, now)
    return str(caught.value)


# ---- accepted: every form names the same instant ---------------------------------------------------------------

ACCEPTED = {
    "string, Z": "2030-01-31T17:00:00Z",
    "string, +01:00": "2030-01-31T18:00:00+01:00",
    "string, -05:30": "2030-01-31T11:30:00-05:30",
    "string, +0100 (basic offset)": "2030-01-31T18:00:00+0100",
    "string, space instead of T (str() of a YAML date-time)": "2030-01-31 17:00:00+00:00",
    "string, minutes only": "2030-01-31T17:00Z",
    "string, fraction dropped (never later than stated)": "2030-01-31T17:00:00.999Z",
    "YAML unquoted, UTC (a datetime)": datetime(2030, 1, 31, 17, tzinfo=UTC),
    "YAML unquoted, +02:00 (a datetime)": datetime(2030, 1, 31, 19, tzinfo=timezone(timedelta(hours=2))),
}


@pytest.mark.parametrize("value", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_an_expiry_with_a_time_and_an_offset_is_kept_in_utc_on_the_conduit_and_its_flows(catalog, value):
    result = plan(catalog, with_vendor(value))
    vendor = result["conduits"][VENDOR]
    assert vendor["expires"] == EXPIRES
    assert vendor["expires_in"] == EPOCH - int(NOW.timestamp())
    assert vendor["flows"]
    assert {flow["expires"] for flow in vendor["flows"]} == {EXPIRES}
    assert [group["epoch"] for group in result["expiring"]] == [EPOCH]


def test_conduits_without_expires_say_so_and_outbound_entries_carry_no_expiry(catalog):
    result = plan(catalog, with_vendor(EXPIRES))
    assert [(c["name"], c["expires"], c["expires_in"]) for c in result["conduits"][:VENDOR]] == [
        (c["name"], None, None) for c in site()["opto22_segment_conduits"]
    ]
    assert all(flow["expires"] is None for flow in result["conduits"][0]["flows"])
    assert "expires" not in result["outbound"][0]
    assert plan(catalog, site())["expiring"] == []


def test_unquoted_yaml_gives_a_datetime_the_planner_takes(catalog):
    loaded = yaml.safe_load("expires: 2030-01-31T18:00:00+01:00")["expires"]
    assert isinstance(loaded, datetime)
    assert plan(catalog, with_vendor(loaded))["conduits"][VENDOR]["expires"] == EXPIRES


def test_the_filter_takes_the_datetime_ansible_hands_it_and_its_str_form(catalog):
    segment_plan = filter_loader.get("otnet.ports.opto22_segment_plan").j2_function
    aware = datetime(2030, 1, 31, 17, tzinfo=UTC)
    for value in (aware, str(aware)):
        result = segment_plan(with_vendor(value), connection=MGMT_CONNECTION)
        assert result["conduits"][VENDOR]["expires"] == EXPIRES
        assert f"meta time < {EPOCH} " in result["text"]


# ---- refused: hostile and bad dates ----------------------------------------------------------------------------

REFUSED = {
    "no offset": ("2030-01-01T10:00:00", "has no UTC offset"),
    "no offset, space": ("2030-01-01 10:00:00", "has no UTC offset"),
    "date only": ("2030-01-01", "is a date without a time"),
    "date only, YAML unquoted (a date)": (date(2030, 1, 1), "is a date without a time (an unquoted YAML date)"),
    "naive datetime (YAML unquoted, no offset)": (datetime(2030, 1, 1, 10), "has no UTC offset"),
    "not a date": ("next tuesday", "is not an ISO 8601 date-time"),
    "empty string": ("", "is not an ISO 8601 date-time"),
    "February 30": ("2030-02-30T00:00:00Z", "is not a valid date-time (day is out of range for month)"),
    "hour 24": ("2030-01-01T24:00:00Z", "is not a valid date-time (hour must be in 0..23)"),
    "huge year": ("99999-01-01T00:00:00Z", "is not an ISO 8601 date-time"),
    "year 9999": ("9999-12-31T23:59:59Z", "is more than 10 years ahead"),
    "year 9999 west of UTC (past datetime's range in UTC)": ("9999-12-31T23:00:00-05:00", "is out of range"),
    "year 1": ("0001-01-01T00:00:00+01:00", "is out of range"),
    "fullwidth digits": ("２０３０-01-01T00:00:00Z", "characters other than ASCII digits"),
    "Arabic-Indic digits": ("٢٠٣٠-01-01T00:00:00Z", "characters other than ASCII digits"),
    "offset beyond +14:00": ("2030-01-01T00:00:00+15:00", "has the UTC offset +15:00, beyond -12:00..+14:00"),
    "ISO week date": ("2030-W01-1T00:00Z", "is not an ISO 8601 date-time"),
    "nft text smuggled after the date": ('2030-01-01T00:00:00Z"; flush ruleset', "is not an ISO 8601 date-time"),
    "trailing newline": ("2030-01-01T00:00:00Z\n", "is not an ISO 8601 date-time"),
    "seconds since the epoch": (1896109200, "(int) is not a date-time"),
    "boolean": (True, "(bool) is not a date-time"),
    "a list": (["2030-01-01T00:00:00Z"], "(list) is not a date-time"),
}


@pytest.mark.parametrize(("value", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_expiry_is_refused_naming_the_conduit_expires_and_the_form(catalog, value, reason):
    message = refused(catalog, with_vendor(value))
    assert message.startswith(WHERE), message
    assert reason in message
    if "10 years" not in reason:
        assert FORM in message


EXPIRED = {
    "a day ago": ("2026-12-01T06:00:00Z", "expired at 2026-12-01T06:00:00Z, 1d ago"),
    "this very second": ("2026-12-02T06:00:00Z", "expired at 2026-12-02T06:00:00Z, 0s ago"),
    "a second ago, written in +01:00": ("2026-12-02T06:59:59+01:00", "expired at 2026-12-02T05:59:59Z, 1s ago"),
    "an aware datetime in the past": (datetime(2025, 1, 1, tzinfo=UTC), "expired at 2025-01-01T00:00:00Z"),
}


@pytest.mark.parametrize(("value", "expected"), EXPIRED.values(), ids=EXPIRED.keys())
def test_an_expired_conduit_is_refused_to_be_removed_or_renewed(catalog, value, expected):
    message = refused(catalog, with_vendor(value))
    assert message.startswith(WHERE)
    assert expected in message
    assert "remove the conduit from the inventory or renew it with a later expires" in message


def test_the_preflight_names_the_host_the_conduit_and_the_expiry(catalog):
    message = refused(catalog, with_vendor("2026-11-30T00:00:00Z"))
    (problem,) = plan_problems("fw1", "opto22_segment", message)
    assert (problem.host, problem.variable) == ("fw1", f"opto22_segment_conduits[{VENDOR}].expires")
    assert "conduit 'vendor'" in problem.rule
    assert "expired at 2026-11-30T00:00:00Z" in problem.rule


def test_every_bad_expiry_is_reported_at_once(catalog):
    settings = with_vendor("2030-01-01")
    settings["opto22_segment_conduits"][0]["expires"] = "2020-01-01T00:00:00Z"
    message = refused(catalog, settings)
    assert message.startswith("2 problems in the opto22_segment settings")
    assert "opto22_segment_conduits[0].expires: conduit 'scada'" in message
    assert WHERE in message


def test_an_outbound_entry_cannot_expire(catalog):
    settings = site()
    settings["opto22_segment_outbound"][0]["expires"] = EXPIRES
    message = refused(catalog, settings)
    assert "opto22_segment_outbound[0].expires: outbound entry 'traps' cannot expire" in message
    assert "only conduits" in message


def test_the_management_path_cannot_expire(catalog):
    settings = site()
    settings["opto22_segment_management"]["expires"] = EXPIRES
    message = refused(catalog, settings)
    assert "opto22_segment_management.expires: the management path cannot expire" in message


def test_now_must_be_aware(catalog):
    with pytest.raises(ValueError, match="no UTC offset"):
        plan(catalog, with_vendor(EXPIRES), now=datetime(2026, 12, 2))


def test_the_instant_is_kept_to_the_second_never_later_than_stated():
    assert parse_expires("2030-01-31T16:59:59.999999Z", NOW).text == "2030-01-31T16:59:59Z"


# ---- elements: pieces admitted until an instant live in its own sets ----------------------------------------------


def keys(elements) -> set[str]:
    return {element["key"] for element in elements}


def test_an_expiring_conduits_elements_are_not_in_the_unconditional_set(catalog):
    result = plan(catalog, with_vendor(EXPIRES))
    (group,) = result["expiring"]
    assert (group["expires"], group["epoch"], group["conduits"]) == (EXPIRES, EPOCH, ["vendor"])
    assert keys(group["elements"]["conduits_v4"]) == {"10.40.0.0/24 . tcp . 502"}
    assert keys(group["elements"]["conduits_v6"]) == {"2001:db8:40::/64 . tcp . 502"}
    main = keys(result["elements"]["conduits_v4"]) | keys(result["elements"]["conduits_v6"])
    assert not any(key.startswith(("10.40.", "2001:db8:40:")) for key in main)


def test_a_piece_a_permanent_conduit_also_admits_stays_in_the_unconditional_set(catalog):
    # scada (no expiry) admits modbus_tcp from 10.20.1.0/24; the vendor inside it adds optommp, until EXPIRES
    result = plan(catalog, with_vendor(EXPIRES, sources=["10.20.1.0/25"], services=["modbus_tcp", "optommp"]))
    (group,) = result["expiring"]
    assert {e["comment"] for e in group["elements"]["conduits_v4"]} == {"vendor: optommp"}
    main = {e["key"]: e["comment"] for e in result["elements"]["conduits_v4"]}
    assert main["10.20.1.0/25 . tcp . 502"] == "scada: modbus_tcp; vendor: modbus_tcp"


def test_a_piece_two_expiring_conduits_admit_lives_until_the_later_instant(catalog):
    settings = with_vendor(EXPIRES)
    later = {
        "name": "vendor-b",
        "sources": ["10.40.0.0/24"],
        "services": ["modbus_tcp"],
        "expires": "2030-02-01T00:00Z",
    }
    settings["opto22_segment_conduits"].append(later)
    result = plan(catalog, settings)
    assert [(g["expires"], g["conduits"]) for g in result["expiring"]] == [
        (EXPIRES, ["vendor"]),
        ("2030-02-01T00:00:00Z", ["vendor-b"]),
    ]
    first, second = result["expiring"]
    assert first["elements"]["conduits_v4"] == []  # vendor-b keeps it open after vendor has expired
    assert keys(second["elements"]["conduits_v4"]) == {"10.40.0.0/24 . tcp . 502"}
    assert keys(first["elements"]["conduits_v6"]) == {"2001:db8:40::/64 . tcp . 502"}  # vendor alone, over IPv6


# ---- the nft file ---------------------------------------------------------------------------------------------


def chain(text: str, name: str) -> list[str]:
    match = re.search(rf"^\tchain {name} {{\n(.*?)^\t}}", text, re.MULTILINE | re.DOTALL)
    assert match, name
    return [line.strip() for line in match.group(1).splitlines()]


def test_the_rules_drop_from_the_instant_on_before_established_and_accept_until_it(catalog):
    text = render_nft(plan(catalog, with_vendor(EXPIRES))).text
    rules = chain(text, "to_segment")
    drop = (
        f"ct direction original meta time >= {EPOCH} ip saddr . meta l4proto . th dport @conduits_v4_until_{EPOCH} "
        f'counter drop comment "conduit expired at {EXPIRES}"'
    )
    accept = (
        f"meta time < {EPOCH} ip6 saddr . meta l4proto . th dport @conduits_v6_until_{EPOCH} accept "
        f'comment "conduit until {EXPIRES}"'
    )
    assert rules.index(drop) < rules.index("ct state established,related accept")
    assert rules.index("ip6 saddr . meta l4proto . th dport @conduits_v6 accept") < rules.index(accept)
    assert rules.index(accept) < rules.index('counter drop comment "no conduit admits this flow"')
    assert f"#   conduit vendor: into the segment from 10.40.0.0/24, 2001:db8:40::/64 (expires {EXPIRES})" in text
    assert "meta time" not in "\n".join(chain(text, "from_segment") + chain(text, "input"))


def test_the_instant_is_written_as_epoch_seconds_never_as_local_time_text(catalog):
    text = render_nft(plan(catalog, with_vendor("2030-01-31T18:00:00+01:00"))).text
    assert re.findall(r"meta time [<>=]+ (\S+)", text) == [str(EPOCH)] * 4


def test_the_file_and_its_rev_do_not_change_as_time_passes(catalog):
    settings = with_vendor(EXPIRES)
    early, late = (render_nft(plan(catalog, settings, now)) for now in (NOW, NOW + timedelta(days=300)))
    assert early == late
    later = plan(catalog, settings, NOW + timedelta(days=300))["conduits"][VENDOR]["expires_in"]
    assert later == EPOCH - int(NOW.timestamp()) - 300 * 86400


@pytest.mark.netns
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"),
    reason="needs root, nft and ip (a throwaway network namespace)",
)
def test_the_kernels_nft_loads_expiring_conduits_and_reads_the_instant_back_in_utc(catalog, tmp_path):
    settings = with_vendor(EXPIRES, sources=["10.40.0.0/24", "10.20.1.0/25", "2001:db8:40::/64"])
    settings["opto22_segment_conduits"].append(
        {"name": "vendor-b", "sources": ["10.40.0.0/25"], "services": ["optommp"], "expires": "2030-02-01T00:00Z"}
    )
    path = tmp_path / "segment.nft"
    path.write_text(render_nft(plan(catalog, settings)).text, encoding="utf-8")
    name = f"otexp-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        run = ["ip", "netns", "exec", name, "env", "TZ=UTC"]
        checked = subprocess.run([*run, "nft", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        subprocess.run([*run, "nft", "-f", str(path)], check=True)
        listed = subprocess.run([*run, "nft", "list", "chain", "inet", "otnet_opto22", "to_segment"],
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)
    assert f'meta time >= "2030-01-31 17:00:00" ip saddr . meta l4proto . th dport @conduits_v4_until_{EPOCH}' in listed
    assert 'meta time < "2030-02-01 00:00:00" ip6 saddr' in listed


@pytest.mark.netns
@needs_netns
def test_the_change_summary_sees_a_time_limited_conduit_in_its_own_sets(catalog):
    """The vendor conduit's elements live in conduits_v4/6_until_EPOCH: a run that adds it reports its flows as
    added, one that drops it as removed, and a table loaded from the same plan changes nothing."""
    with_it = plan(catalog, with_vendor(EXPIRES))
    without = plan(catalog, site())
    with throwaway_netns(f"otexp-chg-{os.getpid()}") as name:

        def live(text: str) -> str:
            subprocess.run(["ip", "netns", "exec", name, "nft", "-f", "-"], input=text, text=True, check=True)
            listing = ["ip", "netns", "exec", name, "nft", "-j", "list", "table", "inet", with_it["table"]]
            return subprocess.run(listing, capture_output=True, text=True, check=True).stdout

        live_with, live_without = live(render_nft(with_it).text), live(render_nft(without).text)
    assert changes(with_it, live_with, catalog) == {"added": [], "removed": []}
    added = changes(with_it, live_without, catalog)
    removed = changes(without, live_with, catalog)
    assert added["removed"] == removed["added"] == []
    assert (
        {flow["conduit"] for flow in added["added"]} == {flow["conduit"] for flow in removed["removed"]} == {"vendor"}
    )
    sources = sorted(source for flow in added["added"] for source in flow["sources"])
    assert sources == ["10.40.0.0/24"]  # site()'s controllers are IPv4 only: the IPv6 source reaches none
