"""`lookup('opto22_ports', 'groov')` in a site directory set up as the README shows, in a real playbook run."""

from __future__ import annotations

import shutil

import pytest
from conftest import ansible_env, install, run
from dev_collection import REPO
from seedrows import opto22_rows

GROOV_PORTS = sorted({start for row in opto22_rows() if row.table == "groov" for start, _ in row.ranges})


@pytest.fixture(scope="module")
def my_site(tarball, tmp_path_factory):
    """mkdir my-site; install the tarball into ./collections; copy examples/site/ansible.cfg."""
    directory = tmp_path_factory.mktemp("my-site")
    install(tarball, directory / "collections")
    shutil.copy(REPO / "examples/site/ansible.cfg", directory / "ansible.cfg")
    shutil.copy(REPO / "tests/integration/targets/short_names.yml", directory / "card.yml")
    (directory / "inventory").write_text("localhost ansible_connection=local\n")
    return directory


def test_short_names_work_with_the_shipped_ansible_cfg(my_site):
    result = run(["ansible-playbook", "card.yml"], cwd=my_site, env=ansible_env(None))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", ".join(map(str, GROOV_PORTS)) in result.stdout


def test_without_the_plugin_paths_short_names_do_not_resolve(my_site, tmp_path):
    """Proves the ansible.cfg is what makes them work: the `collections:` keyword does not apply to lookups."""
    config = tmp_path / "ansible.cfg"
    kept = [line for line in (my_site / "ansible.cfg").read_text().splitlines() if "_plugins =" not in line]
    config.write_text("\n".join(kept).replace("./", f"{my_site}/"))
    card = tmp_path / "card.yml"
    card.write_text(
        "- hosts: localhost\n  gather_facts: false\n  collections: [otnet.ports]\n  tasks:\n"
        "    - ansible.builtin.debug:\n        msg: \"{{ lookup('opto22_ports', 'groov') }}\"\n"
    )
    result = run(["ansible-playbook", str(card)], cwd=tmp_path, env=ansible_env(None, ANSIBLE_CONFIG=str(config)))
    assert result.returncode != 0
    assert "The lookup plugin 'opto22_ports' was not found" in result.stdout + result.stderr
