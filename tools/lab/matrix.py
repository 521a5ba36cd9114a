"""The probe matrix of each lab router, with every expectation computed by the opto22_segment scenario's own
``flow_matrix.py`` (extensions/molecule/opto22_segment/files/) from the conduits as written and the catalog - the
same oracle molecule uses, not a second copy.

Two adaptations, both to the input and to one expectation, never to how it decides:

* ``flow_matrix.py`` knows the vendor catalog only; a conduit service that is a site record (otnet_ports_overlay)
  is handed to it as the extra ports that record names;
* it expects every flow to the router's own address dropped, because its scenario has no management station on a
  zone leg. A site whose management station sits in a zone admits that station's SSH at the router's input chain;
  sshd listens only on the lab's management link, so such a flow is refused, not dropped.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FLOW_MATRIX = REPO / "extensions" / "molecule" / "opto22_segment" / "files" / "flow_matrix.py"


class MatrixError(RuntimeError):
    """flow_matrix.py failed."""


def _overlay_ports(overlay: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    ports = []
    for record in overlay:
        if record.get("service") != service:
            continue
        start = record.get("start", record.get("port"))
        end = record.get("end", start)
        for protocol in [record["protocol"]] if record.get("protocol") else ["tcp", "udp"]:
            ports.append({"start": start, "end": end, "protocol": protocol})
    return ports


def role_settings(entries: list[dict[str, Any]], overlay: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conduits or outbound entries as written, with site services turned into the extra ports they name."""
    site_services = {record.get("service") for record in overlay}
    out = []
    for entry in entries:
        services = list(entry.get("services") or [])
        ports = list(entry.get("ports") or [])
        for service in services:
            if service in site_services:
                ports += _overlay_ports(overlay, service)
        out.append({**entry, "services": [s for s in services if s not in site_services], "ports": ports})
    return out


def spec_for(router: str, segment: dict[str, Any], inventory: dict[str, Any], collections: Path) -> dict[str, Any]:
    """flow_matrix.py's input for one router: its hosts and legs from netlab's inventory, the role settings."""
    variables = inventory["all"]["vars"]
    legs = {name: leg for name, leg in variables["netlab_legs"].items() if leg["router"] == router}
    hosts = {name: host for name, host in variables["netlab_hosts"].items() if host["router"] == router}
    settings = segment["settings"]
    return {
        "hosts": hosts,
        "legs": legs,
        "conduits": role_settings(settings["conduits"], settings["overlay"]),
        "outbound": role_settings(settings["outbound"], settings["overlay"]),
        "management": {"port": segment["management"]["port"]},
        "collections": str(collections),
    }


def expectations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run flow_matrix.py on ``spec``."""
    proc = subprocess.run(
        [sys.executable, str(FLOW_MATRIX)], input=json.dumps(spec), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise MatrixError(f"{FLOW_MATRIX.relative_to(REPO)} failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def admit_management(rows: list[dict[str, Any]], spec: dict[str, Any], segment: dict[str, Any]) -> list[dict[str, Any]]:
    """SSH from a management station to the router's address on a leg: admitted, and refused (no sshd there)."""
    stations = [ipaddress.ip_network(source) for source in segment["management"]["sources"]]
    gateways = {leg["gateway"] for leg in spec["legs"].values()}
    port = int(segment["management"]["port"])
    for row in rows:
        src = spec["hosts"].get(row["src"])
        if (
            src is not None
            and row["dst"] in gateways
            and row["protocol"] == "tcp"
            and int(row["port"]) == port
            and any(ipaddress.ip_address(src["address"]) in net for net in stations)
        ):
            row["expect"] = "refused"
    return rows


def build(router: str, segment: dict[str, Any], inventory: dict[str, Any], collections: Path) -> list[dict[str, Any]]:
    spec = spec_for(router, segment, inventory, collections)
    return admit_management(expectations(spec), spec, segment)
