"""Rendered files against the real nft and kernel, and the role's commit-confirm helper, inside a throwaway network
namespace (root, ip and nft needed; skipped otherwise). Nothing here reads or changes the root namespace's ruleset.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import jinja2
import pytest
from netns import needs_netns, throwaway_netns
from segment_site import render, seed_ports, with_change

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import rev_comment
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import TABLE

ROLE = Path(__file__).resolve().parents[4] / "roles" / "opto22_segment"
HELPER = ROLE / "files" / "otnet-opto22-segment.sh"
ADMIN_TABLE = (
    "table inet admin_own {\n\tchain forward {\n\t\ttype filter hook forward priority 10; policy accept;\n"
    "\t\tcounter\n\t}\n}\n"
)

pytestmark = [
    pytest.mark.netns,
    needs_netns,
]


@pytest.fixture
def netns():
    with throwaway_netns(f"otseg-ut-{uuid.uuid4().hex[:8]}") as name:
        yield name


def end_timer(pid: int) -> None:
    """Stop a helper timer: its process group (its sh and its sleep), only if it is the group's leader."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def nft(ns: str, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ip", "netns", "exec", ns, "nft", *args], input=stdin, capture_output=True, text=True, check=check
    )


def ruleset(ns: str) -> str:
    return nft(ns, "-s", "list", "ruleset").stdout


def load(ns: str, text: str) -> None:
    nft(ns, "-f", "-", stdin=text)


def has_element(ns: str, set_name: str, element: str) -> bool:
    """Whether the loaded set matches a point (nft get element answers for the element containing it)."""
    return nft(ns, "get", "element", "inet", TABLE, set_name, f"{{ {element} }}", check=False).returncode == 0


def test_worked_example_passes_nft_check(catalog, netns):
    result = nft(netns, "-c", "-f", "-", stdin=render(catalog).text, check=False)
    assert result.returncode == 0, result.stderr
    assert ruleset(netns) == ""  # -c commits nothing


def test_ipv6_overlaps_and_chart_ports_pass_nft_check(catalog, netns):
    settings = with_change("controllers", ["10.10.1.11", "2001:db8:10::/64"])
    settings["opto22_segment_conduits"].append(
        {
            "name": "historian",
            "sources": ["10.20.1.5", "2001:db8:20::5"],
            "services": ["modbus_tcp"],
            "ports": [{"start": 22004, "end": 22005, "protocol": "tcp"}],
        }
    )
    settings["opto22_segment_conduits"][0]["sources"].append("2001:db8:20::/64")
    settings["opto22_segment_outbound"].append(
        {"name": "mail", "destinations": ["2001:db8:30::25"], "services": ["smtp"]}
    )
    result = nft(netns, "-c", "-f", "-", stdin=render(catalog, settings).text, check=False)
    assert result.returncode == 0, result.stderr


def test_five_thousand_conduits_load(catalog, netns):
    conduits = [
        {
            "name": f"c{i}",
            "sources": [f"10.{40 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"],
            "services": ["modbus_tcp"],
        }
        for i in range(5000)
    ]
    load(netns, render(catalog, with_change("conduits", conduits)).text)
    modbus = min(seed_ports("Modbus/TCP"))
    assert has_element(netns, "conduits_v4", f"10.40.19.250 . tcp . {modbus}")
    assert not has_element(netns, "conduits_v4", f"10.40.19.251 . tcp . {modbus}")


def test_loaded_sets_admit_exactly_the_plan(catalog, netns):
    load(netns, render(catalog).text)
    modbus = min(seed_ports("Modbus/TCP"))
    snmp = min(seed_ports("SNMP"))
    traps = min(seed_ports("SNMP traps"))
    assert has_element(netns, "conduits_v4", f"10.20.1.10 . tcp . {modbus}")
    assert not has_element(netns, "conduits_v4", f"10.20.1.10 . udp . {modbus}")
    assert not has_element(netns, "conduits_v4", f"10.30.1.10 . tcp . {modbus}")  # corporate gets nothing
    assert has_element(netns, "conduits_v4", f"10.20.3.99 . udp . {snmp}")
    assert not has_element(netns, "conduits_v4", f"10.20.3.99 . udp . {traps}")
    assert has_element(netns, "outbound_v4", f"10.20.3.10 . udp . {traps}")
    assert not has_element(netns, "outbound_v4", f"10.20.3.11 . udp . {traps}")
    assert has_element(netns, "controllers_v4", "10.10.1.12")
    assert not has_element(netns, "controllers_v4", "10.10.1.13")


def test_reload_replaces_the_table_and_leaves_other_tables_alone(catalog, netns):
    load(netns, ADMIN_TABLE)
    admin = nft(netns, "list", "table", "inet", "admin_own").stdout
    load(netns, render(catalog).text)
    second = with_change("conduits[2].services", ["snmp", "snmp_traps"])
    load(netns, render(catalog, second).text)
    assert nft(netns, "list", "table", "inet", "admin_own").stdout == admin
    live = nft(netns, "-s", "list", "table", "inet", TABLE).stdout
    rev = render(catalog, second).rev
    assert rev_comment(rev) in live
    assert "snmp_traps" in live


def test_a_broken_file_changes_nothing(catalog, netns):
    load(netns, ADMIN_TABLE)
    load(netns, render(catalog).text)
    before = ruleset(netns)
    broken = render(catalog, with_change("conduits[2].services", ["snmp", "snmp_traps"])).text.replace(
        "policy drop;", "policy dorp;"
    )
    assert nft(netns, "-f", "-", stdin=broken, check=False).returncode != 0
    assert ruleset(netns) == before


# ---- the commit-confirm helper ---------------------------------------------------------------------------


def helper(ns: str, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """The helper run the way the role runs it: sh -c CONTENT otnet-opto22-segment ARGS, inside the namespace."""
    argv = ["ip", "netns", "exec", ns, "/bin/sh", "-c", HELPER.read_text(), "otnet-opto22-segment", *args]
    return subprocess.run(argv, input=stdin or "", capture_output=True, text=True, check=check)


@pytest.fixture
def paths(tmp_path):
    return {"state": str(tmp_path / "state"), "rules": str(tmp_path / "etc" / "segment.nft")}


def load_with_helper(netns, paths, text: str, timeout: str, check: bool = True) -> subprocess.CompletedProcess:
    return helper(netns, "load", paths["state"], TABLE, paths["rules"], timeout, stdin=text, check=check)


def restore_with_helper(netns, paths, text: str, check: bool = True) -> subprocess.CompletedProcess:
    return helper(netns, "restore", paths["state"], paths["rules"], stdin=text, check=check)


def confirmed_load(netns, paths, text: str) -> None:
    load_with_helper(netns, paths, text, "30")
    helper(netns, "confirm", paths["state"], TABLE)


def state_file(paths, name: str) -> Path:
    return Path(paths["state"], name)


def state_line(result: subprocess.CompletedProcess) -> str:
    """The helper's machine-readable last word: which rules are in effect."""
    return [line for line in result.stdout.splitlines() if line.startswith("state=")][-1]


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_confirmed_load_keeps_the_new_rules(catalog, netns, paths):
    text = render(catalog).text
    loaded = load_with_helper(netns, paths, text, "30")
    assert "unless confirmed" in loaded.stdout
    assert state_line(loaded) == "state=new"
    assert os.readlink(state_file(paths, "boot")) == "previous.nft"  # a boot before the confirmation: previous rules
    pid = int(state_file(paths, "timer.pid").read_text())
    assert Path(paths["rules"]).read_text() == text
    assert oct(Path(paths["rules"]).stat().st_mode & 0o777) == "0o600"
    confirmed = helper(netns, "confirm", paths["state"], TABLE)
    assert "confirmed" in confirmed.stdout
    assert state_line(confirmed) == "state=new"
    assert os.readlink(state_file(paths, "boot")) == paths["rules"]
    assert not state_file(paths, "pending").exists()
    assert wait_until(lambda: not group_alive(pid), 5), "the timer's process group was not stopped"
    applied = state_file(paths, "applied.nft").read_text()
    assert applied.strip() == nft(netns, "-s", "list", "table", "inet", TABLE).stdout.strip()
    again = restore_with_helper(netns, paths, text)
    assert "nothing to restore: the new rules were confirmed" in again.stdout
    assert state_line(again) == "state=new"


def test_rules_that_fail_nft_check_change_nothing(catalog, netns, paths):
    load(netns, ADMIN_TABLE)
    confirmed_load(netns, paths, render(catalog).text)
    before, file_before = ruleset(netns), Path(paths["rules"]).read_text()
    broken = render(catalog, with_change("log_drops", False)).text.replace("policy drop;", "policy dorp;")
    result = load_with_helper(netns, paths, broken, "30", check=False)
    assert result.returncode == 1
    assert "do not pass nft -c; nothing was changed" in result.stderr
    assert state_line(result) == "state=previous"
    assert ruleset(netns) == before
    assert Path(paths["rules"]).read_text() == file_before
    assert not state_file(paths, "timer.pid").exists()


def test_unconfirmed_load_is_rolled_back_by_the_host(catalog, netns, paths):
    first = render(catalog).text
    load(netns, ADMIN_TABLE)
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    record = state_file(paths, "applied.nft").read_text()
    load_with_helper(netns, paths, render(catalog, with_change("management.sources", ["10.254.9.0/24"])).text, "1")
    assert ruleset(netns) != before
    assert wait_until(lambda: state_file(paths, "rolled-back").exists(), 10)
    assert ruleset(netns) == before
    assert Path(paths["rules"]).read_text() == first
    # The record of the loaded table (drift detection) is the confirmed one, so the next run sees no drift.
    assert state_file(paths, "applied.nft").read_text() == record
    assert record.strip() == nft(netns, "-s", "list", "table", "inet", TABLE).stdout.strip()
    late = helper(netns, "confirm", paths["state"], TABLE, check=False)
    assert late.returncode == 3
    assert "too late: the previous rules were restored at" in late.stderr
    assert state_line(late) == "state=previous"
    assert ruleset(netns) == before


def test_rollback_of_a_first_load_removes_table_and_file(catalog, netns, paths):
    load_with_helper(netns, paths, render(catalog).text, "1")
    assert ruleset(netns) != ""
    assert wait_until(lambda: state_file(paths, "rolled-back").exists(), 10)
    assert ruleset(netns) == ""
    assert not Path(paths["rules"]).exists()


def test_restore_rolls_back_at_once_and_again_harmlessly(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    second = render(catalog, with_change("log_drops", False)).text
    load_with_helper(netns, paths, second, "30")
    pid = int(state_file(paths, "timer.pid").read_text())
    restored = restore_with_helper(netns, paths, second)
    assert "restored the previous rules" in restored.stdout
    assert state_line(restored) == "state=previous"
    assert ruleset(netns) == before
    assert Path(paths["rules"]).read_text() == first
    assert wait_until(lambda: not group_alive(pid), 5), "the timer's process group was not stopped"
    again = restore_with_helper(netns, paths, second)
    assert "the previous rules are in effect (chosen earlier, loaded again)" in again.stdout
    assert state_line(again) == "state=previous"
    assert ruleset(netns) == before
    assert helper(netns, "confirm", paths["state"], TABLE, check=False).returncode == 3


def test_without_a_timeout_the_load_is_chosen_and_recorded_at_once(catalog, netns, paths):
    first = render(catalog).text
    loaded = load_with_helper(netns, paths, first, "0")
    assert "no confirm timeout" in loaded.stdout
    assert state_line(loaded) == "state=new"
    assert not state_file(paths, "timer.pid").exists()
    assert os.readlink(state_file(paths, "boot")) == paths["rules"]
    assert (
        state_file(paths, "applied.nft").read_text().strip()
        == nft(netns, "-s", "list", "table", "inet", TABLE).stdout.strip()
    )
    second = render(catalog, with_change("log_drops", False)).text
    load_with_helper(netns, paths, second, "0")
    after = ruleset(netns)
    restored = restore_with_helper(netns, paths, second)
    assert state_line(restored) == "state=new"  # nothing waited for a confirmation: nothing to roll back
    assert ruleset(netns) == after


def test_a_second_load_is_refused_while_one_is_pending(catalog, netns, paths):
    text = render(catalog).text
    load_with_helper(netns, paths, text, "30")
    second = load_with_helper(netns, paths, text, "30", check=False)
    assert second.returncode == 1
    assert "still waiting for its confirmation" in second.stderr
    assert state_line(second) == "state=previous"
    helper(netns, "disarm", paths["state"])
    load_with_helper(netns, paths, text, "30")
    helper(netns, "disarm", paths["state"])


def test_a_load_interrupted_earlier_is_rolled_back_before_the_next_one(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    second = render(catalog, with_change("log_drops", False)).text
    load_with_helper(netns, paths, second, "30")
    end_timer(int(state_file(paths, "timer.pid").read_text()))  # the timer is gone: killed, or a reboot
    snapshot = state_file(paths, "previous.nft").read_text()
    load_with_helper(netns, paths, first, "30")
    # The interrupted load was rolled back first, so the rules saved for this one are the confirmed ones.
    assert state_file(paths, "previous.nft").read_text() == snapshot
    restore_with_helper(netns, paths, first)
    assert ruleset(netns) == before


# Each hostile value refused by the helper itself, before anything changes (defence in depth: the planner refuses
# them first, naming the variable).
HOSTILE_LOADS = {
    "rules file inside the state directory": ("{state}", "{state}/rollback.sh", "30", "inside it"),
    "rules file is the state directory": ("{state}", "{state}", "30", "is the state directory"),
    "state directory inside the rules path": ("{rules}/state", "{rules}", "30", "inside the rules file path"),
    "timeout with 21 digits": ("{state}", "{rules}", "100000000000000000000", "must be 0 to 3600 seconds"),
    "timeout above an hour": ("{state}", "{rules}", "3601", "must be 0 to 3600 seconds"),
    "timeout with a leading zero": ("{state}", "{rules}", "0060", "must be 0 to 3600 seconds"),
    "negative timeout": ("{state}", "{rules}", "-1", "must be 0 to 3600 seconds"),
    "rules path with a newline": ("{state}", "{rules}\nExecStartPre=/bin/true", "30", "has characters other than"),
    "rules path with a systemd specifier": ("{state}", "{rules}%h", "30", "has characters other than"),
    "state directory with a variable": ("{state}$HOME", "{rules}", "30", "has characters other than"),
    "rules path with a quote": ("{state}", '{rules}"x', "30", "has characters other than"),
    "rules path with a space": ("{state}", "{rules} x", "30", "has characters other than"),
    "relative state directory": ("state", "{rules}", "30", "must be an absolute path"),
    "state directory with ..": ("{state}/../x", "{rules}", "30", "is not a plain path"),
    "state directory /": ("/", "{rules}", "30", "is not a plain path"),
}


@pytest.mark.parametrize("case", HOSTILE_LOADS, ids=list(HOSTILE_LOADS))
def test_the_helper_refuses_hostile_settings(case, catalog, netns, paths):
    state_dir, rules, timeout, message = (value.format(**paths) for value in HOSTILE_LOADS[case])
    result = helper(netns, "load", state_dir, TABLE, rules, timeout, stdin=render(catalog).text, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert ruleset(netns) == ""
    assert not Path(paths["state"]).exists()
    assert not Path(paths["rules"]).parent.exists()


def test_the_helper_refuses_a_table_name_that_is_not_an_nft_identifier(catalog, netns, paths):
    result = helper(netns, "confirm", paths["state"], "x; flush ruleset", check=False)
    assert result.returncode == 1
    assert "NAME must be an nft table name" in result.stderr


# ---- removing it (state absent) --------------------------------------------------------------------------


def test_purge_removes_only_the_role_files_by_name(catalog, netns, paths):
    confirmed_load(netns, paths, render(catalog).text)
    load_with_helper(netns, paths, render(catalog, with_change("log_drops", False)).text, "30")
    helper(netns, "disarm", paths["state"])
    stranger = state_file(paths, "notes.txt")
    stranger.write_text("the admin's own file\n")
    neighbour = Path(paths["rules"]).with_name("other.nft")
    neighbour.write_text("not the role's\n")
    dry = helper(netns, "purge", paths["state"], paths["rules"], "check")
    assert f"removed {paths['rules']}" in dry.stdout
    assert Path(paths["rules"]).exists()  # check mode changes nothing
    assert state_file(paths, "boot").is_symlink()
    purged = helper(netns, "purge", paths["state"], paths["rules"])
    assert f"removed {paths['state']}/rollback.sh" in purged.stdout
    assert f"kept {paths['state']}: it holds files the role did not write" in purged.stdout
    assert sorted(p.name for p in Path(paths["state"]).iterdir()) == ["notes.txt"]
    assert not Path(paths["rules"]).exists()
    assert neighbour.read_text() == "not the role's\n"
    stranger.unlink()
    again = helper(netns, "purge", paths["state"], paths["rules"])
    assert again.stdout.splitlines() == [f"removed {paths['state']}"]
    assert not Path(paths["state"]).exists()
    assert helper(netns, "purge", paths["state"], paths["rules"]).stdout == ""  # nothing left: no change


def test_purge_never_descends_into_a_directory(netns, paths):
    Path(paths["state"], "boot").mkdir(parents=True)  # a directory where the role keeps a link
    result = helper(netns, "purge", paths["state"], paths["rules"], check=False)
    assert result.returncode == 1
    assert "is a directory" in result.stderr
    assert Path(paths["state"], "boot").is_dir()


# ---- the boot-time unit ----------------------------------------------------------------------------------


def render_unit(state_dir: str, nft_path: str | None = None) -> str:
    template = jinja2.Template((ROLE / "templates" / "otnet-opto22-segment.service.j2").read_text())
    return template.render(
        ansible_managed="test",
        __opto22_segment_nft=nft_path or shutil.which("nft"),
        __opto22_segment_plan={"table": TABLE, "paths": {"state_dir": state_dir}},
    )


def boot_command(paths) -> list[str]:
    """The unit's ExecStart, rendered from the role's template, as an argv (systemd's $$ and %% are $ and %)."""
    (line,) = [line for line in render_unit(paths["state"]).splitlines() if line.startswith("ExecStart=")]
    return [word.replace("$$", "$").replace("%%", "%") for word in shlex.split(line.removeprefix("ExecStart="))]


def boot(netns: str, paths) -> None:
    """A reboot, as far as the role's table goes: the table is gone, then the unit's ExecStart runs."""
    nft(netns, "delete", "table", "inet", TABLE, check=False)
    subprocess.run(["ip", "netns", "exec", netns, *boot_command(paths)], check=True, capture_output=True)


def test_boot_loads_the_rules_file(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    boot(netns, paths)
    assert ruleset(netns) == before


def test_boot_inside_the_confirm_window_loads_the_previous_rules(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    load_with_helper(netns, paths, render(catalog, with_change("management.sources", ["10.254.9.0/24"])).text, "30")
    timer = int(state_file(paths, "timer.pid").read_text())
    end_timer(timer)  # the reboot ends the timer too
    boot(netns, paths)
    assert ruleset(netns) == before
    late = helper(netns, "confirm", paths["state"], TABLE, check=False)  # the role, reconnected after the reboot
    assert late.returncode == 3
    assert "the rollback timer is gone" in late.stderr
    assert Path(paths["rules"]).read_text() == first
    boot(netns, paths)  # and the next boot loads the same
    assert ruleset(netns) == before


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
@pytest.mark.parametrize(
    "state_dir",
    ["/var/lib/otnet/opto22-segment", "/var/lib/otnet/a%h$HOME", '/var/lib/otnet/q"uote\\x'],
    ids=["default", "specifier and variable", "quote and backslash"],
)
def test_the_unit_passes_systemd_analyze_verify(state_dir, tmp_path):
    """The rendered unit is valid for systemd; values that systemd would expand are escaped (the planner and the
    helper refuse them before, this is the second line of defence)."""
    unit = tmp_path / "otnet-opto22-segment.service"
    unit.write_text(render_unit(state_dir, "/bin/true"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False
    )
    problems = [line for line in (result.stdout + result.stderr).splitlines() if str(unit) in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert not problems, problems
    (line,) = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    assert "%h" not in line.replace("%%", "")
    assert "$HOME" not in line.replace("$$", "")
