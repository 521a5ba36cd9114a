"""The probe matrix of each lab router, with every expectation computed by netlab's flow oracle
(``tools.netlab.flows``) from the role's settings as written, the site's overlay and the catalog - the same oracle
the opto22_segment molecule scenario uses, not a second copy.

The lab hands it the router's hosts and legs from netlab's inventory and the model's settings unchanged, by the
role's variable names: controllers, conduits and outbound entries as written (site services resolve through the
overlay, as in the role), and the management stations and port, so the oracle expects a station's SSH to the
router's address on a zone leg to be refused (admitted, but sshd listens only on the lab's management link) rather
than dropped. The catalog is the one of the collection installed in the site's ./collections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.netlab import catalog as netlab_catalog
from tools.netlab import flows
from tools.netlab.system import NetlabError


class MatrixError(RuntimeError):
    """The flow oracle refused its input, or the catalog could not be loaded."""


def spec_for(router: str, segment: dict[str, Any], inventory: dict[str, Any]) -> dict[str, Any]:
    """The oracle's input for one router: its hosts and legs from netlab's inventory, the role's variables."""
    variables = inventory["all"]["vars"]
    legs = {name: leg for name, leg in variables["netlab_legs"].items() if leg["router"] == router}
    hosts = {name: host for name, host in variables["netlab_hosts"].items() if host["router"] == router}
    settings = segment["settings"]
    return {
        "hosts": hosts,
        "legs": legs,
        "variables": {
            "opto22_segment_controllers": segment["controllers"],
            "opto22_segment_conduits": settings["conduits"],
            "opto22_segment_outbound": settings["outbound"],
            "opto22_segment_management": segment["management"],
            "otnet_ports_overlay": settings["overlay"],
        },
    }


def expectations(spec: dict[str, Any], collections: Path) -> list[dict[str, Any]]:
    """The oracle's matrix for ``spec``, with the catalog of the collection installed in ``collections``."""
    try:
        return flows.expectations(spec, netlab_catalog.load([collections]))
    except (flows.FlowError, NetlabError, ValueError) as exc:
        raise MatrixError(f"tools.netlab.flows: {exc}") from exc


def build(router: str, segment: dict[str, Any], inventory: dict[str, Any], collections: Path) -> list[dict[str, Any]]:
    return expectations(spec_for(router, segment, inventory), collections)
