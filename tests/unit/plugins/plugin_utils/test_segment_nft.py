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
from segment_site import render, seed_ports, with_change

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import rev_comment
from ansible_collections.otnet.ports.plugins.plugin_utils._segment import TABLE

ROLE = Path(__file__).resolve().parents[4] / "roles" / "opto22_segment"
HELPER = ROLE / "files" / "otnet-opto22-segment.sh"
ADMIN_TABLE = (
    "table inet admin_own {\n\tchain forward {\n\t\ttype filter hook forward priority 10; policy accept;\n"
    "\t\tcounter\n\t}\n}\n"
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"),
    reason="needs root, nft and ip (a throwaway network namespace)",
)


@pytest.fixture
def netns():
    name = f"otseg-ut-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        for pid in subprocess.run(
            ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
        ).stdout.split():
            end_timer(int(pid))  # a helper timer a failed test left behind
        subprocess.run(["ip", "netns", "del", name], check=True)


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
    settings["conduits"].append(
        {
            "name": "historian",
            "sources": ["10.20.1.5", "2001:db8:20::5"],
            "services": ["modbus_tcp"],
            "ports": [{"start": 22004, "end": 22005, "protocol": "tcp"}],
        }
    )
    settings["conduits"][0]["sources"].append("2001:db8:20::/64")
    settings["outbound"].append({"name": "mail", "destinations": ["2001:db8:30::25"], "services": ["smtp"]})
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


def confirmed_load(netns, paths, text: str) -> None:
    load_with_helper(netns, paths, text, "30")
    helper(netns, "confirm", paths["state"], TABLE)


def state_file(paths, name: str) -> Path:
    return Path(paths["state"], name)


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_confirmed_load_keeps_the_new_rules(catalog, netns, paths):
    text = render(catalog).text
    assert "unless confirmed" in load_with_helper(netns, paths, text, "30").stdout
    pid = int(state_file(paths, "timer.pid").read_text())
    assert Path(paths["rules"]).read_text() == text
    assert oct(Path(paths["rules"]).stat().st_mode & 0o777) == "0o600"
    assert "confirmed" in helper(netns, "confirm", paths["state"], TABLE).stdout
    assert wait_until(lambda: not group_alive(pid), 5), "the timer's process group was not stopped"
    applied = state_file(paths, "applied.nft").read_text()
    assert applied.strip() == nft(netns, "-s", "list", "table", "inet", TABLE).stdout.strip()
    assert not state_file(paths, "rollback.nft").exists()
    assert "nothing to restore" in helper(netns, "restore", paths["state"], paths["rules"], check=False).stderr


def test_rules_that_fail_nft_check_change_nothing(catalog, netns, paths):
    load(netns, ADMIN_TABLE)
    confirmed_load(netns, paths, render(catalog).text)
    before, file_before = ruleset(netns), Path(paths["rules"]).read_text()
    broken = render(catalog, with_change("log_drops", False)).text.replace("policy drop;", "policy dorp;")
    result = load_with_helper(netns, paths, broken, "30", check=False)
    assert result.returncode == 1
    assert "do not pass nft -c; nothing was changed" in result.stderr
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


def test_rollback_of_a_first_load_removes_table_and_file(catalog, netns, paths):
    load_with_helper(netns, paths, render(catalog).text, "1")
    assert ruleset(netns) != ""
    assert wait_until(lambda: state_file(paths, "rolled-back").exists(), 10)
    assert ruleset(netns) == ""
    assert not Path(paths["rules"]).exists()


def test_restore_rolls_back_at_once_and_only_once(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    load_with_helper(netns, paths, render(catalog, with_change("log_drops", False)).text, "30")
    pid = int(state_file(paths, "timer.pid").read_text())
    assert "restored the previous rules" in helper(netns, "restore", paths["state"], paths["rules"]).stdout
    assert ruleset(netns) == before
    assert Path(paths["rules"]).read_text() == first
    assert wait_until(lambda: not group_alive(pid), 5), "the timer's process group was not stopped"
    assert "nothing to restore" in helper(netns, "restore", paths["state"], paths["rules"]).stdout
    assert helper(netns, "confirm", paths["state"], TABLE, check=False).returncode == 3


def test_without_a_timeout_the_load_is_recorded_at_once(catalog, netns, paths):
    first = render(catalog).text
    assert "no confirm timeout" in load_with_helper(netns, paths, first, "0").stdout
    assert not state_file(paths, "timer.pid").exists()
    assert (
        state_file(paths, "applied.nft").read_text().strip()
        == nft(netns, "-s", "list", "table", "inet", TABLE).stdout.strip()
    )
    before = ruleset(netns)
    load_with_helper(netns, paths, render(catalog, with_change("log_drops", False)).text, "0")
    assert "restored the previous rules" in helper(netns, "restore", paths["state"], paths["rules"]).stdout
    assert ruleset(netns) == before


def test_a_second_load_is_refused_while_one_is_pending(catalog, netns, paths):
    text = render(catalog).text
    load_with_helper(netns, paths, text, "30")
    second = load_with_helper(netns, paths, text, "30", check=False)
    assert second.returncode == 1
    assert "still waiting for its confirmation" in second.stderr
    helper(netns, "disarm", paths["state"])
    load_with_helper(netns, paths, text, "30")
    helper(netns, "disarm", paths["state"])


# ---- the boot-time unit ----------------------------------------------------------------------------------


def boot_command(paths) -> list[str]:
    """The unit's ExecStart, rendered from the role's template, as an argv (systemd's $$ is a literal $)."""
    template = jinja2.Template((ROLE / "templates" / "otnet-opto22-segment.service.j2").read_text())
    unit = template.render(
        ansible_managed="test",
        __opto22_segment_table=TABLE,
        __opto22_segment_nft=shutil.which("nft"),
        opto22_segment_state_dir=paths["state"],
        opto22_segment_rules_path=paths["rules"],
    )
    (line,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart=").replace("$$", "$"))


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


def test_boot_inside_the_confirm_window_restores_the_previous_rules(catalog, netns, paths):
    first = render(catalog).text
    confirmed_load(netns, paths, first)
    before = ruleset(netns)
    load_with_helper(netns, paths, render(catalog, with_change("management.sources", ["10.254.9.0/24"])).text, "30")
    timer = int(state_file(paths, "timer.pid").read_text())
    end_timer(timer)  # the reboot ends the timer too
    boot(netns, paths)
    assert ruleset(netns) == before
    assert Path(paths["rules"]).read_text() == first
    boot(netns, paths)  # and the next boot loads that restored file
    assert ruleset(netns) == before
