"""ansible-builder can build an execution environment with the collection (no container engine runs here: the
build context is checked, the image build is not run)."""

from __future__ import annotations

import shutil

import yaml
from conftest import ansible_env, run
from dev_collection import REPO

EXAMPLE = REPO / "examples" / "execution-environment"


def test_introspection_finds_the_collections_dependencies(collections):
    result = run(["ansible-builder", "introspect", str(collections)], env=ansible_env(None))
    assert result.returncode == 0, result.stderr
    found = yaml.safe_load(result.stdout.split("---", 1)[1])
    python = [line.split("#")[0].strip() for line in found["python"]]
    assert "jsonschema>=4.0" in python
    assert any(line.startswith("openssh-client [platform:dpkg]") for line in found["system"])


def test_create_makes_a_build_context_with_the_tarball(tarball, tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "ee")
    definition = yaml.safe_load((EXAMPLE / "execution-environment.yml").read_text())
    (build_file,) = definition["additional_build_files"]
    assert build_file["src"] == tarball.name, "examples/execution-environment names another collection version"
    shutil.copy(tarball, tmp_path / "ee" / tarball.name)

    context = tmp_path / "context"
    command = ["ansible-builder", "create", "--output-filename", "Containerfile", "-c", str(context)]
    result = run([*command, "-f", str(tmp_path / "ee/execution-environment.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "COPY _build/collections/ /build/collections/" in containerfile
    assert (context / "_build" / "collections" / tarball.name).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert f"/build/collections/{tarball.name}" in [c["name"] for c in requirements["collections"]]
