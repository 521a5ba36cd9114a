"""igor_gateway's check for the Windows collections (tasks/requirements.yml): the Python it runs on the controller finds
a collection where Ansible's loader would (a collections root, a path ending in ansible_collections, sys.path when
scanning) and reports exactly the missing ones. The whole task, run against a site without them, is in
tests/integration/test_readme_site_dir.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "igor_gateway"
(CHECK,) = yaml.safe_load((ROLE / "tasks" / "requirements.yml").read_text(encoding="utf-8"))
FIND = CHECK["vars"]["__igor_gateway_find_collections"]
WANTED = "ansible.windows,community.windows"


def missing(scan: bool, *roots: Path, pythonpath: Path | None = None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    command = [sys.executable, "-c", FIND, str(scan), WANTED, *map(str, roots)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout)


def collection(root: Path, name: str) -> Path:
    path = root / "ansible_collections" / Path(*name.split("."))
    path.mkdir(parents=True)
    return root


def test_the_task_fails_on_a_missing_collection_and_names_it():
    assert CHECK["ansible.builtin.assert"]["that"] == "__igor_gateway_missing_collections | length == 0"
    assert "__igor_gateway_missing_collections | join(', ')" in CHECK["ansible.builtin.assert"]["fail_msg"]
    assert "requirements.yml" in CHECK["ansible.builtin.assert"]["fail_msg"]


def test_both_found_in_one_root(tmp_path):
    root = collection(collection(tmp_path, "ansible.windows"), "community.windows")
    assert missing(False, root) == []


def test_each_missing_one_is_named(tmp_path):
    assert missing(False, tmp_path) == ["ansible.windows", "community.windows"]
    assert missing(False, collection(tmp_path, "ansible.windows")) == ["community.windows"]


def test_found_across_roots_and_in_a_path_that_is_ansible_collections_itself(tmp_path):
    first = collection(tmp_path / "first", "ansible.windows")
    second = collection(tmp_path / "second", "community.windows") / "ansible_collections"
    assert missing(False, tmp_path / "nowhere", first, second) == []


@pytest.mark.parametrize(("scan", "expected"), [(True, ["community.windows"]), (False, WANTED.split(","))])
def test_the_python_path_counts_only_when_scanned(tmp_path, scan, expected):
    """collections_scan_sys_path: the PyPI `ansible` package puts the collections into site-packages."""
    site_packages = collection(tmp_path, "ansible.windows")
    assert missing(scan, tmp_path / "nowhere", pythonpath=site_packages) == expected
