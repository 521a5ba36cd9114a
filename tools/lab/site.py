"""The site directory the lab runs, as a user sets one up, and the Ansible runs against it.

``STATE/site`` is a copy of examples/site with the collection tarball installed offline into ``./collections``
(README: "Using it in a site directory"). Ansible runs there, with its ansible.cfg, on three inventory sources:

    -i inventory      the site's own inventory, unchanged
    -i STATE/layer    netlab's inventory (netlab.yml: the routers as SSH hosts over the management link) and
                      host_vars/ROUTER.yml: the lab's connection details and the role settings a namespace needs
                      (rules file and state under STATE/hosts, no boot-time unit, the lab's management network
                      added to the management stations) - host_vars of a later source win over the site's own
    [-i STATE/broken] a layer that breaks one host's settings, to prove the preflight refuses before any change
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.netlab import catalog as netlab_catalog
from tools.netlab.topology import listen_ports

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = REPO / "examples" / "site"
MODEL_NAME = "lab-site"


class SiteError(RuntimeError):
    """A step of the site run failed; the message says which and where its output is."""


def default_tarball() -> Path:
    version = next(
        line.split(":", 1)[1].strip()
        for line in (REPO / "galaxy.yml").read_text().splitlines()
        if line.startswith("version:")
    )
    return REPO / "build" / f"otnet-ports-{version}.tar.gz"


def dependency_path() -> str:
    """Where the collections otnet.ports depends on are (the Makefile's .cache/collections)."""
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO / ".cache" / "collections")


def ansible_env(site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(site / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=f"{site / 'collections'}{os.pathsep}{dependency_path()}",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOST_KEY_CHECKING="false",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env.setdefault("ANSIBLE_LOCAL_TEMP", str(site.parent / "ansible-tmp"))
    return env


def _bin(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else name


def prepare(state: Path, tarball: Path, example: Path = EXAMPLE_SITE) -> Path:
    """STATE/site: the example site copied, the tarball installed offline into its ./collections."""
    if not tarball.is_file():
        raise SiteError(f"{tarball} does not exist; build it first (make build)")
    site = state / "site"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(example, site, ignore=shutil.ignore_patterns("collections", "*.retry"))
    command = [_bin("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "--force"]
    proc = subprocess.run(
        [*command, "-p", str(site / "collections"), str(tarball)],
        env=ansible_env(site),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SiteError(f"installing {tarball.name} into {site / 'collections'} failed:\n{proc.stderr}")
    return site


def collections(site: Path) -> Path:
    return site / "collections"


def playbook(site: Path, args: list[str], log: Path, echo: bool = True) -> tuple[int, str]:
    """ansible-playbook in the site directory; output to the log (and the terminal); (rc, output)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [_bin("ansible-playbook"), *args]
    lines: list[str] = []
    with log.open("w") as out:
        out.write(f"$ cd {site} && {' '.join(command)}\n")
        proc = subprocess.Popen(
            command, cwd=site, env=ansible_env(site), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            lines.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    return rc, "".join(lines)


def model(site: Path, state: Path) -> dict[str, Any]:
    """The site model (and its diagram) from `ansible-playbook otnet.ports.diagram`, into STATE/model."""
    out = state / "model"
    args = ["otnet.ports.diagram", "-i", "inventory", "-e", f"otnet_ports_diagram_dir={out}"]
    rc, output = playbook(
        site, [*args, "-e", f"otnet_ports_diagram_name={MODEL_NAME}"], state / "log" / "model.log", False
    )
    if rc != 0:
        raise SiteError(f"otnet.ports.diagram failed on the site inventory (rc {rc}):\n{output[-4000:]}")
    return json.loads((out / f"{MODEL_NAME}.json").read_text())


def controller_ports(collections_path: Path) -> dict[str, set[int]]:
    """The ports of the Opto 22 catalog's assignment tables, by protocol, wide ranges sampled (netlab's rule), from
    the catalog of the collection installed in ``collections_path`` (the site's ./collections)."""
    select = netlab_catalog.selector(netlab_catalog.load([collections_path]))
    ports: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    for record in select({"vendor": "opto22", "kind": "assignment"}):
        ports[record["protocol"]] |= listen_ports(record["start"], record["end"])
    return ports


def role_table(collections_path: Path) -> str:
    """The nft table the opto22_segment role owns (inet), from the installed collection: its one home."""
    return netlab_catalog.module([collections_path], "_opto22_segment_plan").TABLE


def _yaml_file(path: Path, data: dict[str, Any], note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {note}\n{json.dumps(data, indent=1)}\n")  # JSON is YAML


def write_layer(state: Path, netlab_inventory: Path, lab: Any, mgmt_cidr: str) -> Path:
    """STATE/layer: netlab's inventory and each router's lab settings."""
    layer = state / "layer"
    if layer.exists():
        shutil.rmtree(layer)
    (layer / "host_vars").mkdir(parents=True)
    (layer / "netlab.yml").symlink_to(netlab_inventory)
    inventory = load_inventory(netlab_inventory)
    routers = inventory["all"]["children"]["netlab_routers"]["hosts"]
    for name, router in lab.routers.items():
        connection = {key: value for key, value in routers[name].items() if key.startswith("ansible_")}
        management = router.segment["management"]
        host_dir = state / "hosts" / name
        settings = {
            **connection,
            "opto22_segment_persist": False,
            "opto22_segment_rules_path": str(host_dir / "opto22-segment.nft"),
            "opto22_segment_state_dir": str(host_dir / "state"),
            "opto22_segment_management": {
                "sources": [*management["sources"], mgmt_cidr],
                "port": management["port"],
            },
        }
        _yaml_file(
            layer / "host_vars" / f"{name}.yml", settings, "Written by tools/lab: the lab's settings of this router."
        )
    return layer


def write_broken_layer(state: Path, lab: Any, gateways: list[str]) -> tuple[Path, str]:
    """STATE/broken: one router gets a conduit naming a service the catalog does not have (and a gateway a version
    below the document's floor). Returns the layer and the host it breaks."""
    broken = state / "broken"
    if broken.exists():
        shutil.rmtree(broken)
    (broken / "host_vars").mkdir(parents=True)
    (broken / "hosts.yml").write_text("# Written by tools/lab: hosts come from the other inventory sources.\nall: {}\n")
    victim = list(lab.routers)[-1]
    conduits = [dict(c) for c in lab.routers[victim].segment["settings"]["conduits"]] or [{"name": "x", "sources": []}]
    conduits[0]["services"] = [*conduits[0].get("services", []), "modbus"]
    _yaml_file(
        broken / "host_vars" / f"{victim}.yml",
        {"opto22_segment_conduits": conduits},
        "Written by tools/lab: a broken conduit (service 'modbus' is not in the catalog).",
    )
    for gateway in gateways:
        _yaml_file(
            broken / "host_vars" / f"{gateway}.yml",
            {"igor_gateway_version": "1.0.0"},
            "Written by tools/lab: a version below the Igor document's floor.",
        )
    return broken, victim


def load_inventory(path: Path) -> Any:
    """netlab's inventory file (YAML)."""
    import yaml  # noqa: PLC0415 - Ansible's dependency, present wherever the lab runs

    return yaml.safe_load(path.read_text())
