"""The supported ansible-core range is stated once (meta/runtime.yml) and tested at both ends by `make test`: the
oldest release requires_ansible admits in `make test-oldest-core` (mk/compat.mk reads it from meta/runtime.yml),
the newest in the main venv (constraints.txt). Every other place that names the range must say the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
AS_WRITTEN = yaml.safe_load((REPO / "meta/runtime.yml").read_text(encoding="utf-8"))["requires_ansible"]
REQUIRES = SpecifierSet(AS_WRITTEN)
OLDEST = next(spec.version for spec in REQUIRES if spec.operator == ">=")
NEWEST = re.search(r"^ansible-core==(\S+)$", (REPO / "constraints.txt").read_text(encoding="utf-8"), re.M).group(1)


def test_the_range_is_closed_and_holds_both_tested_releases():
    assert {spec.operator for spec in REQUIRES} == {">=", "<"}, f"requires_ansible: {REQUIRES} (state an upper bound)"
    assert Version(OLDEST) in REQUIRES
    assert Version(NEWEST) in REQUIRES, f"constraints.txt tests ansible-core {NEWEST}, outside {REQUIRES}"


def test_readme_states_the_tested_range():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f'`requires_ansible: "{AS_WRITTEN}"`' in readme
    assert f"ansible-core **{OLDEST} to {NEWEST}**" in readme
    assert f"pip install 'ansible-core{AS_WRITTEN}'" in readme


def test_getting_started_states_the_oldest_release():
    text = (REPO / "docs/getting-started.md").read_text(encoding="utf-8")
    assert f"ansible-core {OLDEST} or a later" in text
    assert f"tested: {OLDEST} and {NEWEST}" in text


@pytest.mark.parametrize("role", ["igor_gateway", "opto22_segment"])
def test_role_metadata_states_the_oldest_release(role):
    meta = yaml.safe_load((REPO / "roles" / role / "meta/main.yml").read_text(encoding="utf-8"))
    assert meta["galaxy_info"]["min_ansible_version"] == OLDEST


def test_the_example_execution_environment_installs_a_supported_core():
    text = (REPO / "examples/execution-environment/execution-environment.yml").read_text(encoding="utf-8")
    assert f"package_pip: ansible-core{AS_WRITTEN}" in text
