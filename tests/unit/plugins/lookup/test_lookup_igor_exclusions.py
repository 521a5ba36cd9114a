from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from seedrows import igor_exclusions

SEED = igor_exclusions()


@pytest.fixture
def lookup():
    return lookup_loader.get("otnet.ports.igor_exclusions")


@pytest.mark.parametrize("term", ["paths", "processes"])
def test_each_list(lookup, term):
    assert lookup.run([term], variables={}) == SEED[term]


def test_no_term_is_paths_then_processes(lookup):
    assert lookup.run([], variables={}) == SEED["paths"] + SEED["processes"]


def test_install_dir_moves_every_entry(lookup):
    moved = lookup.run(["processes"], variables={}, install_dir="E:\\Lighting\\Igor")
    assert moved == [path.replace("C:\\Igor", "E:\\Lighting\\Igor", 1) for path in SEED["processes"]]


def test_bad_install_dir(lookup):
    with pytest.raises(AnsibleLookupError, match=r"install_dir: 'C:\\\\Igor\\\\\*' contains '\*'"):
        lookup.run([], variables={}, install_dir="C:\\Igor\\*")
