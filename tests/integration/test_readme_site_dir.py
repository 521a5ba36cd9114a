"""README.md's "Using it in a site directory", as a new user runs it: the section's first ```sh block, read from
README.md (not copied here), with its two placeholders replaced by the freshly built tarball and this checkout, run
with bash in an empty directory with a fresh HOME and no ANSIBLE_COLLECTIONS_PATH (a real user has none). It must
exit 0 with no WARNING or ERROR; then the short-form lookup, the example site's ports.yml, the preflight, the
plan and the diagram run in the site directory it made, as the README and the example site's README give them, and
a gateway run without the Windows collections stops on the controller, naming them.

The block makes its own virtual environment and installs ansible-core from PyPI into it, as the README says.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import TRIPWIRE, TRIPWIRED_HOSTS, write_layer
from dev_collection import REPO

pytestmark = pytest.mark.slow

SECTION = "## Using it in a site directory"
TARBALL_PLACEHOLDER = "/path/to/otnet-ports-<version>.tar.gz"
CHECKOUT_PLACEHOLDER = "/path/to/otnet.ports"
# What points Ansible at this checkout's own state: a user following the README has none of it.
NOT_A_USERS = ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_HOME", "ANSIBLE_CONFIG")
_NOISE = re.compile(r"\[?(WARNING|ERROR)\]?[: ]")


def first_sh_block(readme: str) -> str:
    section = readme.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert match, f"README.md: no ```sh block in {SECTION!r}"
    return match.group(1)


BLOCK = first_sh_block((REPO / "README.md").read_text(encoding="utf-8"))


def noise(text: str) -> list[str]:
    return [line for line in text.splitlines() if _NOISE.search(line)]


class User:
    """The shell state the README block left: its working directory (the site) and environment (its venv on PATH)."""

    def __init__(self, home: Path, site: Path, env: dict[str, str]) -> None:
        self.home, self.site, self.env = home, site, env

    def run(self, *command: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **extra}
        return subprocess.run(command, cwd=self.site, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def readme_run(tarball, tmp_path_factory):
    """The block run once: (its result, the user it leaves behind)."""
    work = tmp_path_factory.mktemp("new-user")
    home = work / "home"
    home.mkdir()
    script = BLOCK.replace(TARBALL_PLACEHOLDER, str(tarball)).replace(CHECKOUT_PLACEHOLDER, str(REPO))
    state = work / "state"
    # After the block, and not part of it: where it left the shell, to run the next commands from there.
    record = f'\nprintf "%s\\n" "$PWD" "$PATH" "${{VIRTUAL_ENV:-}}" > {shlex.quote(str(state))}\n'
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_USERS} | {"HOME": str(home)}
    result = subprocess.run(
        ["bash", "-e", "-c", script + record], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    user = None
    if result.returncode == 0:
        site, path, venv = state.read_text().splitlines()[:3]
        user = User(home, Path(site), env | {"PATH": path, "VIRTUAL_ENV": venv})
    return result, user


@pytest.fixture(scope="module")
def user(readme_run):
    result, found = readme_run
    if found is None:
        pytest.fail(f"the README block failed:\n{result.stdout}\n{result.stderr}")
    return found


def test_the_block_has_only_the_two_placeholders():
    assert TARBALL_PLACEHOLDER in BLOCK
    assert CHECKOUT_PLACEHOLDER in BLOCK
    rest = BLOCK.replace(TARBALL_PLACEHOLDER, "").replace(CHECKOUT_PLACEHOLDER, "")
    assert "/path/to" not in rest
    assert not re.search(r"<[a-z-]+>", rest), rest


def test_the_block_runs_as_written_without_a_warning(readme_run):
    result, user = readme_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr
    installed = user.site / "collections" / "ansible_collections" / "otnet" / "ports" / "MANIFEST.json"
    assert installed.is_file()
    assert not (user.site / "collections" / "ansible_collections" / "ansible").exists()  # nothing forced on the site
    assert Path(user.env["VIRTUAL_ENV"]).is_relative_to(user.home)  # its own Ansible, not this checkout's


def test_the_short_form_lookup(user):
    lookup = "msg={{ lookup('opto22_ports', 'groov') }}"
    result = user.run("ansible", "localhost", "-m", "ansible.builtin.debug", "-a", lookup)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "groov" in result.stdout
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr


def test_the_example_sites_ports_playbook(user):
    result = user.run("ansible-playbook", "ports.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr


def test_the_preflight_with_its_defaults(user):
    result = user.run("ansible-playbook", "otnet.ports.preflight")
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr
    for host in TRIPWIRED_HOSTS:
        assert re.search(rf"^{host} +: ok=\d+ +changed=0 +unreachable=0 +failed=0", result.stdout, re.MULTILINE)


def test_the_diagram_with_its_defaults(user):
    result = user.run("ansible-playbook", "otnet.ports.diagram")
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr
    for suffix in ("json", "dot", "mmd", "md"):
        assert (user.site / "diagram" / f"site.{suffix}").is_file()


def test_the_plan_with_its_defaults(user):
    """README "Rolling out a site": `ansible-playbook otnet.ports.plan` writes ./plan, contacting no host."""
    result = user.run("ansible-playbook", "otnet.ports.plan")
    assert result.returncode == 0, result.stdout + result.stderr
    assert noise(result.stdout) + noise(result.stderr) == [], result.stdout + result.stderr
    for name in ("flows.csv", "flows.json", "summary.md"):
        assert (user.site / "plan" / name).is_file()
    assert (user.site / "plan" / "fw-line1" / "rules.nft").is_file()


def test_a_gateway_run_without_the_windows_collections_stops_naming_them(user, tmp_path):
    """Behind the tripwire connection: the check runs on the controller, before anything is sent to a host."""
    plugins = tmp_path / "connection_plugins"
    plugins.mkdir()
    (plugins / "tripwire.py").write_text(TRIPWIRE)
    layer = write_layer(tmp_path / "tripwire", {host: {"ansible_connection": "tripwire"} for host in TRIPWIRED_HOSTS})
    log = tmp_path / "tripwire.log"
    command = ["ansible-playbook", "site.yml", "-i", "inventory", "-i", str(layer), "--limit", "igor_gateways"]
    result = user.run(*command, ANSIBLE_CONNECTION_PLUGINS=str(plugins), OTNET_TRIPWIRE_LOG=str(log))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "not installed: ansible.windows, community.windows" in output, output
    assert "requirements.yml" in output
    assert "couldn't resolve module/action" not in output
    assert not log.exists(), log.read_text()
