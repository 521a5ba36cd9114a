"""Playbook tests run against a tarball built and installed offline here, so packaging is tested too.

The site tests (preflight, rollout, diagram) share one copy of examples/site behind the "tripwire" connection; see
example_site, site and layer.
"""

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

    def play(name: str, extra_vars: dict, tmp_path: Path) -> dict:
        """extra_vars go in as a JSON file in tmp_path."""
        vars_file = tmp_path / "extra-vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        playbook = str(REPO / "tests/integration/targets" / name)
        command = ["ansible-playbook", "-i", "localhost,", "-c", "local", playbook, "-e", f"@{vars_file}"]
        env = ansible_env(f"{collections}{os.pathsep}{DEPENDENCIES}", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        result = run(command, env=env)
        assert result.stdout.strip(), result.stderr
        return {"rc": result.returncode, "stderr": result.stderr, **json.loads(result.stdout)}

    return play


# ---- the example site, behind the tripwire ------------------------------------------------------------------------

EXAMPLE = REPO / "examples" / "site"
TRIPWIRE = '''
from __future__ import annotations

DOCUMENTATION = """
name: tripwire
short_description: Writes down every attempt to reach a host, and fails it
description: [A test double for otnet.ports' site tests.]
author: otnet.ports tests
"""

import os

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = "tripwire"
    has_pipelining = False

    def _trip(self, what):
        with open(os.environ["OTNET_TRIPWIRE_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{getattr(self._play_context, 'remote_addr', '?')} {what}\\n")
        raise AnsibleConnectionFailure(f"tripwire: {what}")

    def _connect(self):
        self._trip("connect")

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self._trip(f"exec {cmd}")

    def put_file(self, in_path, out_path):
        self._trip(f"put {out_path}")

    def fetch_file(self, in_path, out_path):
        self._trip(f"fetch {in_path}")

    def close(self):
        self._connected = False
'''
TRIPWIRED_HOSTS = ("fw-line1", "fw-line2", "igor-gw1")


def make_site(tarball: Path, directory: Path) -> Path:
    """examples/site copied, the tarball installed offline into its ./collections (as the README says)."""
    shutil.copytree(EXAMPLE, directory, dirs_exist_ok=True)
    install(tarball, directory / "collections")
    return directory


def site_env(site: Path, **extra: str) -> dict[str, str]:
    """The site's ansible.cfg, its ./collections first; JSON results, so messages stay on one line."""
    return ansible_env(
        f"{site / 'collections'}:{DEPENDENCIES}",
        ANSIBLE_CONFIG=str(site / "ansible.cfg"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        **extra,
    )


def write_layer(directory: Path, host_vars: dict[str, dict], hosts: dict | None = None) -> Path:
    """An inventory source of host_vars (JSON is YAML) that wins over the site's own."""
    (directory / "host_vars").mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(json.dumps(hosts or {"all": {}}))
    for host, values in host_vars.items():
        (directory / "host_vars" / f"{host}.yml").write_text(json.dumps(values))
    return directory


def rollout(site: Path, tmp_path: Path, *args: str) -> tuple[int, str, list[str]]:
    """ansible-playbook site.yml on the site's inventory behind the tripwire; (rc, output, contacts)."""
    log = tmp_path / "tripwire.log"
    command = ["ansible-playbook", "site.yml", "-i", "inventory", "-i", "tripwire", *args]
    env = site_env(site, ANSIBLE_CONNECTION_PLUGINS=str(site / "connection_plugins"), OTNET_TRIPWIRE_LOG=str(log))
    result = run(command, cwd=site, env=env)
    contacts = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, contacts


def snapshot(directory: Path) -> dict[str, tuple[int, int] | str]:
    """Every path below directory: (size, mtime) of a file, "dir" for a directory (its mtime changes when a bytecode
    cache or a removed layer comes and goes). Python's bytecode caches, which plugin loaders write, are left out."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else "dir"
        for path in directory.rglob("*")
        if "__pycache__" not in path.parts
    }


@pytest.fixture(scope="session")
def example_site(tarball, tmp_path_factory) -> Path:
    """examples/site set up as the README says, once for the session, plus the tripwire: the connection plugin in
    ./connection_plugins and an inventory layer ./tripwire (used only with `-i tripwire`) that gives every host that
    connection. Tests take it through `site`, which checks they leave it as they found it."""
    directory = make_site(tarball, tmp_path_factory.mktemp("site"))
    (directory / "connection_plugins").mkdir()
    (directory / "connection_plugins" / "tripwire.py").write_text(TRIPWIRE)
    tripwire = {"ansible_connection": "tripwire"}
    write_layer(directory / "tripwire", dict.fromkeys(TRIPWIRED_HOSTS, tripwire))
    return directory


@pytest.fixture
def site(example_site):
    """The shared example site; after the test it must be as before (layers gone), so no test sees another's."""
    before = snapshot(example_site)
    yield example_site
    after = snapshot(example_site)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"the test left changes in the shared example site: {changed}"


@pytest.fixture
def layer(site):
    """layer(name, host_vars, hosts=None): an inventory layer ./name in the shared site (used with `-i name`), for this
    test only: it is removed afterwards."""
    added: list[Path] = []

    def add(name: str, host_vars: dict[str, dict], hosts: dict | None = None) -> Path:
        added.append(site / name)
        return write_layer(site / name, host_vars, hosts)

    yield add
    for path in added:
        shutil.rmtree(path, ignore_errors=True)
