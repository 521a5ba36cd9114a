"""Fault injection for the opto22_segment commit-confirm helper (issue 9, defect 4).

The helper (roles/opto22_segment/files/otnet-opto22-segment.sh) and the rollback script it writes mark every point
between two steps with ``step NAME``. With OTNET_FAULT=NAME:kill the helper (or the timer's rollback) kills itself
there with kill -9; with OTNET_FAULT=NAME:timer the pending timer's rollback runs there, as if it fired at that
moment. For every such point of load (with and without a confirm timeout), confirm, restore and the rollback, in a
network namespace of this test's own, three outcomes are checked:

- killed, then a reboot: the live table right after the kill, and after a reboot (the namespace's ruleset flushed,
  then exactly the boot unit's ExecStart), is the previous table or the new one;
- killed, then the timer fires: likewise, and what a boot loads is what is live;
- the timer fires at that point and the helper goes on: likewise.

Each then runs what the role runs next (confirm after a good load; restore after a failure), whose ``state=`` line
must name the rules that are live, before and after one more reboot. Never an empty (unfiltered) table.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from netns import end_processes, needs_netns, throwaway_netns

from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import TABLE

ROLE = Path(__file__).resolve().parents[3] / "roles" / "opto22_segment"
HELPER = ROLE / "files" / "otnet-opto22-segment.sh"
NS = f"otfi-{os.getpid()}"
KINDS = ("load", "save", "confirm", "restore", "rollback")  # save: the part of load that saves the previous rules
OUTCOMES = ("kill-reboot", "kill-timer", "timer")
# Long enough that the real timer never fires during a case; the cases make it fire when they mean it to.
TIMEOUT = "60"

pytestmark = [
    pytest.mark.netns,
    needs_netns,
]


def rules(label: str, port: int) -> str:
    """A small policy for the role's table: replaces it atomically, like the rendered file."""
    return (
        f"table inet {TABLE}\ndelete table inet {TABLE}\n"
        f'table inet {TABLE} {{\n\tcomment "fault injection {label}"\n'
        f"\tchain input {{\n\t\ttype filter hook input priority 0; policy drop;\n"
        f"\t\tiif lo accept\n\t\ttcp dport {port} accept\n\t}}\n}}\n"
    )


PREVIOUS, NEW = rules("previous", 22), rules("new", 2222)


def steps() -> list[str]:
    """Every fault-injection point of the helper and its rollback script, in order."""
    names = re.findall(r"^\s*step ((?:load|save|confirm|restore|rollback)\.\d+)$", HELPER.read_text(), re.MULTILINE)
    return sorted(set(names), key=lambda name: (KINDS.index(name.split(".")[0]), int(name.split(".")[1])))


def scenarios() -> list[tuple[str, str]]:
    """(step, confirm timeout): a load runs with and without a timeout (load.9 is only reached without one)."""
    cases = []
    for step in steps():
        if step.startswith(("load.", "save.")):
            if step != "load.9":
                cases.append((step, TIMEOUT))
            cases.append((step, "0"))
        else:
            cases.append((step, TIMEOUT))
    return cases


def test_the_helper_marks_every_part_of_the_state_machine():
    names = steps()
    assert {name.split(".")[0] for name in names} == set(KINDS), names
    assert len(names) >= 15, names


@pytest.fixture(scope="module")
def netns():
    with throwaway_netns(NS) as name:
        yield name


class Host:
    """The namespace as one host: its role table, the helper run as the role runs it, a reboot."""

    def __init__(self, ns: str, root: Path) -> None:
        self.ns = ns
        self.dir = str(root / "state" / "opto22")
        self.rules = str(root / "etc" / "segment.nft")
        self.boot_condition, self.boot_argv = boot_command(self.dir)

    def run(self, argv: list[str], stdin: str = "", fault: str = "") -> subprocess.CompletedProcess:
        env = {key: value for key, value in os.environ.items() if key != "OTNET_FAULT"}
        if fault:
            env["OTNET_FAULT"] = fault
        return subprocess.run(
            ["ip", "netns", "exec", self.ns, *argv], input=stdin, capture_output=True, text=True, env=env, check=False
        )

    def helper(self, *args: str, stdin: str = "", fault: str = "") -> subprocess.CompletedProcess:
        return self.run(["/bin/sh", "-c", HELPER.read_text(), "otnet-opto22-segment", *args], stdin, fault)

    def load(self, text: str, timeout: str, fault: str = "") -> subprocess.CompletedProcess:
        return self.helper("load", self.dir, TABLE, self.rules, timeout, stdin=text, fault=fault)

    def confirm(self, fault: str = "") -> subprocess.CompletedProcess:
        return self.helper("confirm", self.dir, TABLE, fault=fault)

    def restore(self, fault: str = "") -> subprocess.CompletedProcess:
        return self.helper("restore", self.dir, self.rules, stdin=NEW, fault=fault)

    def fire_timer(self, fault: str = "") -> subprocess.CompletedProcess | None:
        """The timer fires now: its sleep ends and it runs the rollback script (None if no timer is pending)."""
        pid_file = Path(self.dir, "timer.pid")
        pid = int(pid_file.read_text()) if pid_file.exists() else 0
        if not pid or not alive(pid):
            return None
        os.killpg(pid, signal.SIGTERM)
        return self.run(["/bin/sh", f"{self.dir}/rollback.sh", "not confirmed in time"], fault=fault)

    def table(self) -> str:
        result = self.run(["nft", "-s", "list", "table", "inet", TABLE])
        return result.stdout if result.returncode == 0 else ""

    def reboot(self) -> str:
        end_processes(self.ns)
        self.run(["nft", "flush", "ruleset"])
        if os.path.exists(self.boot_condition):  # systemd skips the unit otherwise
            result = self.run(self.boot_argv)
            assert result.returncode == 0, result.stderr
        return self.table()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def boot_command(state_dir: str) -> tuple[str, list[str]]:
    """The boot unit's ConditionPathExists and ExecStart, rendered from the role's template (ExecStart as an argv)."""
    unit = (
        jinja2.Template((ROLE / "templates" / "otnet-opto22-segment.service.j2").read_text())
        .render(
            ansible_managed="test",
            __opto22_segment_nft=shutil.which("nft"),
            __opto22_segment_plan={"table": TABLE, "paths": {"state_dir": state_dir}},
        )
        .splitlines()
    )
    (condition,) = [line.removeprefix("ConditionPathExists=") for line in unit if line.startswith("ConditionPath")]
    (line,) = [line for line in unit if line.startswith("ExecStart=")]
    argv = [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(line.removeprefix("ExecStart="))]
    return condition.replace("%%", "%"), argv


def state_line(result: subprocess.CompletedProcess | None) -> str:
    found = re.findall(r"^state=(\w+)$", result.stdout if result else "", re.MULTILINE)
    return found[-1] if found else ""


@pytest.fixture(scope="module")
def listings(netns, tmp_path_factory) -> dict[str, str]:
    """The stateless listing of the previous and of the new table, as a plain load leaves them."""
    host = Host(netns, tmp_path_factory.mktemp("reference"))
    found = {}
    for label, text in (("previous", PREVIOUS), ("new", NEW)):
        assert host.load(text, "0").returncode == 0
        found[label] = host.table()
    host.run(["nft", "flush", "ruleset"])
    assert found["previous"]
    assert found["new"]
    assert found["previous"] != found["new"]
    return found


@dataclass
class Lab:
    """The namespace, the two listings a live table may have, and the run's fault-injection counts."""

    ns: str
    listings: dict[str, str]
    report: dict


@pytest.fixture(scope="module")
def lab(netns, listings, fault_report) -> Lab:
    return Lab(netns, listings, fault_report)


class Case:
    """One fault-injection run: the previous rules confirmed, then the faulted operation and what follows."""

    def __init__(self, lab: Lab, root: Path, step: str, timeout: str, *, first_load: bool = False):
        self.host = Host(lab.ns, root)
        # A first load's previous state is no table at all (nothing to keep); otherwise it must never be empty.
        self.listings = {**lab.listings, "previous": ""} if first_load else lab.listings
        self.report = lab.report
        self.step, self.timeout = step, timeout
        self.kind = step.split(".", maxsplit=1)[0].replace("save", "load")
        end_processes(lab.ns)
        self.host.run(["nft", "flush", "ruleset"])
        if not first_load:
            assert self.host.load(PREVIOUS, TIMEOUT).returncode == 0
            assert state_line(self.host.confirm()) == "new"
        assert self.host.table() == self.listings["previous"]

    def which(self, listing: str, when: str) -> str:
        """'previous' or 'new' for a live listing; anything else fails the case (and counts an unfiltered one)."""
        for label, known in self.listings.items():
            if listing == known:
                return label
        if listing == "":
            self.report["unfiltered"] += 1
        pytest.fail(f"{self.step} ({when}): the table is neither the previous nor the new one:\n{listing or '(none)'}")

    def operate(self, mode: str) -> subprocess.CompletedProcess | None:
        """The operation, with the fault at this case's step."""
        fault = f"{self.step}:{mode}"
        host = self.host
        if self.kind == "load":
            return host.load(NEW, self.timeout, fault=fault)
        assert host.load(NEW, TIMEOUT).returncode == 0
        if self.kind == "confirm":
            return host.confirm(fault=fault)
        if self.kind == "restore":
            return host.restore(fault=fault)
        return host.fire_timer(fault=fault)

    def role_goes_on(self, result: subprocess.CompletedProcess | None) -> str:
        """What the role runs next, as apply.yml does; returns the state it reports."""
        state = state_line(result)
        succeeded = result is not None and result.returncode == 0
        if self.kind == "load" and succeeded and self.timeout == "0":
            return state
        if (self.kind == "load" and succeeded) or self.kind == "rollback":
            confirmed = self.host.confirm()
            if confirmed.returncode == 0:
                return state_line(confirmed)
        if self.kind == "confirm" and succeeded:
            return state
        restored = self.host.restore()
        assert restored.returncode == 0, restored.stderr
        return state_line(restored)

    def settle(self, result: subprocess.CompletedProcess | None, outcome: str) -> None:
        """The role's next step reports the rules that are live, and a reboot keeps them."""
        state = self.role_goes_on(result)
        assert state in ("new", "previous"), (self.step, outcome, state)
        assert self.which(self.host.table(), f"{outcome}, after the role's next step") == state
        assert self.which(self.host.reboot(), f"{outcome}, reboot after the role's next step") == state
        self.report["outcomes"].add(outcome)
        self.report["runs"] += 1

    def killed(self) -> subprocess.CompletedProcess | None:
        result = self.operate("kill")
        assert result is not None, self.step
        assert result.returncode == -signal.SIGKILL, (self.step, result)
        self.which(self.host.table(), "right after the kill")
        return result


@pytest.mark.parametrize(("step", "timeout"), scenarios(), ids=[f"{s}-t{t}" for s, t in scenarios()])
def test_every_interruption_leaves_the_previous_or_the_new_rules(step, timeout, lab, tmp_path):
    lab.report["steps"].add((step, timeout))

    case = Case(lab, tmp_path / "kill-reboot", step, timeout)
    result = case.killed()
    case.which(case.host.reboot(), "reboot after the kill")
    case.settle(result, "kill-reboot")

    case = Case(lab, tmp_path / "kill-timer", step, timeout)
    result = case.killed()
    fired = case.host.fire_timer()
    live = case.which(case.host.table(), "the timer fired after the kill")
    after_reboot = case.which(case.host.reboot(), "reboot after the timer")
    if fired is not None:  # the load was decided: a boot loads what is live (without a timer it stays undecided)
        assert after_reboot == live, (step, fired.stdout, fired.stderr)
    case.settle(result, "kill-timer")

    case = Case(lab, tmp_path / "timer", step, timeout)
    result = case.operate("timer")
    live = case.which(case.host.table(), "the timer fired at this step")
    if state_line(result) in ("new", "previous"):
        assert state_line(result) == live, (step, result.stdout, result.stderr)
    case.which(case.host.reboot(), "reboot after the timer fired at this step")
    case.settle(result, "timer")


@pytest.mark.parametrize("step", [step for step, timeout in scenarios() if step.startswith("load.") and timeout != "0"])
def test_a_first_load_interrupted_leaves_no_table_or_the_new_one(step, lab, tmp_path):
    case = Case(lab, tmp_path, step, TIMEOUT, first_load=True)
    result = case.killed()
    case.which(case.host.reboot(), "reboot after the kill")
    state = case.role_goes_on(result)
    assert case.which(case.host.table(), "after the role's next step") == state
    assert case.which(case.host.reboot(), "reboot after the role's next step") == state
    if state == "previous":
        assert not Path(case.host.rules).exists()


@pytest.mark.parametrize("step", ["load.6", "load.7", "load.8"])
def test_a_timer_that_fires_during_the_load_wins(step, lab, tmp_path):
    case = Case(lab, tmp_path, step, TIMEOUT)
    result = case.operate("timer")
    assert result.returncode == 1
    assert "the rollback timer fired before the load finished" in result.stderr
    assert state_line(result) == "previous"
    assert case.host.table() == lab.listings["previous"]


def test_a_timer_that_fires_just_before_the_decision_beats_the_confirmation(lab, tmp_path):
    case = Case(lab, tmp_path, "confirm.1", TIMEOUT)
    result = case.operate("timer")
    assert result.returncode == 3
    assert "too late" in result.stderr
    assert state_line(result) == "previous"
    assert case.host.table() == lab.listings["previous"]
    assert case.host.reboot() == lab.listings["previous"]


def test_a_confirmation_after_a_reboot_in_the_window_keeps_the_previous_rules(lab, tmp_path):
    case = Case(lab, tmp_path, "load.1", TIMEOUT)
    assert state_line(case.host.load(NEW, TIMEOUT)) == "new"
    assert case.host.reboot() == lab.listings["previous"]
    late = case.host.confirm()
    assert late.returncode == 3
    assert "the rollback timer is gone" in late.stderr
    assert state_line(late) == "previous"
    assert case.host.table() == lab.listings["previous"]
    assert Path(case.host.rules).read_text() == PREVIOUS


def test_the_rollback_script_twice_is_harmless(lab, tmp_path):
    case = Case(lab, tmp_path, "rollback.1", TIMEOUT)
    assert case.host.load(NEW, TIMEOUT).returncode == 0
    first = case.host.fire_timer()
    assert first is not None
    assert "restored the previous rules" in first.stdout
    again = case.host.run(["/bin/sh", f"{case.host.dir}/rollback.sh", "again"])
    assert again.returncode == 0, again.stderr
    assert state_line(again) == "previous"
    assert case.host.table() == lab.listings["previous"]
    assert Path(case.host.rules).read_text() == PREVIOUS
