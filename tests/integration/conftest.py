"""Playbook tests run against a tarball built and installed offline here, so packaging is tested too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dev_collection import REPO

_COLLECTIONS_PATH = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache" / "collections"))
DEPENDENCIES = Path(_COLLECTIONS_PATH.split(os.pathsep)[0])


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("build")
    result = run(["ansible-galaxy", "collection", "build", "--output-path", str(output), str(REPO)])
    assert result.returncode == 0, result.stderr
    (path,) = output.glob("otnet-ports-*.tar.gz")
    return path


def install(tarball: Path, collections: Path) -> None:
    """Install offline into ``collections``; --force because a copy elsewhere on the configured path would count."""
    command = ["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "--force", "-p", str(collections)]
    result = run([*command, str(tarball)], env=ansible_env(None))
    assert result.returncode == 0, result.stderr
    assert (collections / "ansible_collections/otnet/ports/MANIFEST.json").is_file(), result.stdout


@pytest.fixture(scope="session")
def collections(tarball, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("collections")
    install(tarball, path)
    return path


def ansible_env(collections_path: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_PYTHON_INTERPRETER=os.environ.get("ANSIBLE_PYTHON_INTERPRETER", shutil.which("python3") or "python3"),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=os.environ.get("ANSIBLE_LOCAL_TEMP", "/tmp/ansible-local"),  # noqa: S108
        **extra,
    )
    if collections_path:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    return env


@pytest.fixture(scope="session")
def playbook(collections):
    """Run a playbook from tests/integration/targets against the installed tarball; results as ansible.posix.json."""

    def play(name: str, extra_vars: dict | None = None, tmp_path: Path | None = None) -> dict:
        command = [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            str(REPO / "tests/integration/targets" / name),
        ]
        if extra_vars is not None:
            vars_file = (tmp_path or Path("/tmp")) / "extra-vars.json"  # noqa: S108
            vars_file.write_text(json.dumps(extra_vars))
            command += ["-e", f"@{vars_file}"]
        env = ansible_env(f"{collections}{os.pathsep}{DEPENDENCIES}", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        result = run(command, env=env)
        assert result.stdout.strip(), result.stderr
        return {"rc": result.returncode, "stderr": result.stderr, **json.loads(result.stdout)}

    return play
