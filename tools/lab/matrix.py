"""The probe matrix of each lab router, with every expectation computed by the opto22_segment scenario's own
``flow_matrix.py`` (extensions/molecule/opto22_segment/files/) from the conduits as written, the site's overlay and
the catalog - the same oracle molecule uses, not a second copy.

The lab hands it the router's hosts and legs from netlab's inventory and the model's settings unchanged: conduits
and outbound entries as written (site services resolve through the overlay, as in the role), and the management
stations and port, so the oracle expects a station's SSH to the router's address on a zone leg to be refused
(admitted, but sshd listens only on the lab's management link) rather than dropped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FLOW_MATRIX = REPO / "extensions" / "molecule" / "opto22_segment" / "files" / "flow_matrix.py"


class MatrixError(RuntimeError):
    """flow_matrix.py failed."""


def spec_for(router: str, segment: dict[str, Any], inventory: dict[str, Any], collections: Path) -> dict[str, Any]:
    """flow_matrix.py's input for one router: its hosts and legs from netlab's inventory, the role settings."""
    variables = inventory["all"]["vars"]
    legs = {name: leg for name, leg in variables["netlab_legs"].items() if leg["router"] == router}
    hosts = {name: host for name, host in variables["netlab_hosts"].items() if host["router"] == router}
    settings = segment["settings"]
    return {
        "hosts": hosts,
        "legs": legs,
        "conduits": settings["conduits"],
        "outbound": settings["outbound"],
        "overlay": settings["overlay"],
        "management": segment["management"],
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


def build(router: str, segment: dict[str, Any], inventory: dict[str, Any], collections: Path) -> list[dict[str, Any]]:
    return expectations(spec_for(router, segment, inventory, collections))
