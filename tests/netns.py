"""Throwaway network namespaces for the tests that load real nftables rules: each made under a name of the test's
own, and torn down by that name; processes left in it (a commit-confirm helper's timer) are ended by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator

import pytest

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"),
    reason="needs root, nft and ip (a throwaway network namespace)",
)


def end_processes(name: str) -> None:
    """End every process in namespace ``name`` by its PID: a group leader (a helper timer: its sh and its sleep)
    with its process group, any other alone."""
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout
    for pid in map(int, pids.split()):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGTERM)
            else:
                os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def throwaway_netns(name: str) -> Iterator[str]:
    """Namespace ``name``, made for the block and removed after it, whatever happened."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        end_processes(name)
        subprocess.run(["ip", "netns", "del", name], check=True)
