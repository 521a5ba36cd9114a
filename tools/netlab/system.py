"""Thin wrappers around ip(8), processes and /proc used by the lab."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class NetlabError(RuntimeError):
    """A lab operation failed."""


def run(*argv: str) -> str:
    """Run a command, return stdout; raise NetlabError with its stderr on failure."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NetlabError(f"{' '.join(argv)}: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc.stdout


def ip(*args: str, ns: str | None = None) -> str:
    return run("ip", *(("-n", ns) if ns else ()), *args)


def netns_list() -> set[str]:
    return {line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()}


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True, check=False).returncode == 0


def root_routes() -> list[str]:
    """Destinations of the root namespace's IPv4 routes (main table), e.g. '10.1.0.0/24'."""
    return [route["dst"] for route in json.loads(ip("-j", "-4", "route", "show") or "[]")]


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None and not Path(name).is_file()]
    if missing:
        raise NetlabError(f"missing programs: {', '.join(missing)} (see the Debian packages in the Makefile)")
    if os.geteuid() != 0:
        raise NetlabError("netlab needs root (network namespaces)")


# ---- processes --------------------------------------------------------------------------------


def start_in_ns(ns: str, argv: list[str], log: Path) -> int:
    """Start argv inside ns, detached from us; ``ip netns exec`` execs, so the PID is argv's own."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    return proc.pid


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int) -> bool:
    """True unless the process is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def matches(pid: int, marker: str) -> bool:
    """The process still runs and its command line contains ``marker`` as one argument.

    sshd rewrites its argv into one title string ("sshd: /usr/sbin/sshd -D -f CONF [listener] ..."),
    so the marker may also be a space-delimited word of the joined command line.
    """
    args = cmdline(pid)
    return alive(pid) and (marker in args or f" {marker} " in f" {' '.join(args)} ")


def terminate(pid: int, marker: str, grace: float = 2.0) -> bool:
    """SIGTERM (then SIGKILL) pid if its command line still carries marker. Returns True if it was ours."""
    if not matches(pid, marker):
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if matches(pid, marker):
        _signal(pid, signal.SIGKILL)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited on its own in the meantime
        os.kill(pid, sig)


def ns_pids(ns: str) -> list[int]:
    return [int(pid) for pid in ip("netns", "pids", ns).split()]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise NetlabError(f"timed out waiting for {what}")
        time.sleep(0.02)
