"""The tarball holds what a user runs, and installs quietly.

`ansible-galaxy collection build` of the checkout (galaxy.yml's build_ignore), listed and installed offline, with its
dependencies resolved (none are forced: the Windows collections are optional), into an empty directory with a fresh
HOME: no WARNING, nothing that runs only from the checkout (tests and molecule scenarios import tools/, which the
tarball can't hold), and everything the README has a user run.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest
from dev_collection import REPO

pytestmark = pytest.mark.slow

LEFT_OUT = ("tests", "extensions", "tools", "benchmarks", ".ci", "mk", "build", "context")
LEFT_OUT_FILES = ("Makefile", "constraints.txt", "requirements-dev.txt", "pyproject.toml", ".ansible-lint", ".yamllint")
SHIPPED = (
    "README.md",
    "LICENSE",
    "CHANGELOG.rst",
    "requirements.yml",
    "meta/runtime.yml",
    "meta/ee-requirements.txt",
    "roles/igor_gateway/tasks/requirements.yml",
    "roles/opto22_segment/tasks/main.yml",
    "playbooks/site.yml",
    "playbooks/preflight.yml",
    "playbooks/diagram.yml",
    "playbooks/audit.yml",
    "plugins/plugin_utils/schemas/audit.schema.json",
    "playbooks/files/write_audit_reports.py",
    "examples/site/ansible.cfg",
    "examples/site/inventory/hosts.yml",
    "examples/execution-environment/execution-environment.yml",
)


@pytest.fixture(scope="module")
def members(tarball) -> list[str]:
    with tarfile.open(tarball) as archive:
        return [name.removeprefix("./") for name in archive.getnames()]


def test_nothing_that_runs_only_from_the_checkout(members):
    tops = {name.split("/", 1)[0] for name in members}
    assert not tops & set(LEFT_OUT), sorted(tops & set(LEFT_OUT))
    assert not tops & set(LEFT_OUT_FILES), sorted(tops & set(LEFT_OUT_FILES))
    assert not [name for name in members if "__pycache__" in name or name.endswith((".pyc", ".tar.gz"))]


def test_everything_a_user_runs_is_in_it(members):
    assert set(SHIPPED) <= set(members), sorted(set(SHIPPED) - set(members))


def test_no_dependency_is_forced(tarball):
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["dependencies"] == {}


def test_it_installs_offline_with_no_warning(tarball, tmp_path):
    """Dependencies resolved (no --no-deps): a Linux-only site installs it offline with nothing else."""
    home, collections = tmp_path / "home", tmp_path / "collections"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # The target is a configured collections path, as a site's ansible.cfg makes it (the README's order).
    env.update(HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1")
    command = ["ansible-galaxy", "collection", "install", "--offline", "-p", str(collections), str(tarball)]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr
    installed = collections / "ansible_collections" / "otnet" / "ports"
    assert (installed / "MANIFEST.json").is_file()
    assert sorted(p.name for p in (collections / "ansible_collections").iterdir()) == ["otnet"]
    for name in LEFT_OUT:
        assert not (installed / name).exists(), name


def test_build_ignore_names_what_the_checkout_has():
    """Each entry left out above exists in the checkout (so the test above is not vacuous) or is a build product."""
    for name in ("tests", "extensions", "tools", "benchmarks", "mk", *LEFT_OUT_FILES):
        assert (REPO / name).exists(), name
