"""Stand-in for ansible.windows.win_powershell (molecule scenario igor_gateway): records the call, runs nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

# What the role's read (firewall_group_rules.ps1) returns on a host that has the rules of a BACnet plan plus one rule
# of the group that no plan has ("Igor Gateway - Retired (TCP-In)"): the unit tests' recorded fixture, in the
# script's documented shape (tests/unit/fixtures/igor_cmdlets/README.md). Exclusive runs must remove the rules of
# the group their plan lacks, other runs must leave them; no rule outside the group shares a planned name.
RECORDING = Path("tests", "unit", "fixtures", "igor_cmdlets", "stale_rule.json")


def recorded_read() -> dict[str, Any]:
    """The recorded result, from the checkout molecule runs in (MOLECULE_PROJECT_DIRECTORY, else this file's)."""
    root = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or Path(__file__).resolve().parents[9]
    return json.loads((Path(root) / RECORDING).read_text(encoding="utf-8"))


def record(action: ActionBase, module: str, task_vars: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Append the call (host, module, final arguments, check mode, the result handed back) to the log named by
    IGOR_GATEWAY_STUB_LOG, and return the result."""
    call = {
        "host": task_vars["inventory_hostname"],
        "module": module,
        "args": action._task.args,
        "check_mode": action._task.check_mode,
        "result": result,
    }
    with open(os.environ["IGOR_GATEWAY_STUB_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(call, default=str) + "\n")
    return result


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        parameters = self._task.args.get("parameters", {})
        if "Group" in parameters:  # the read of the firewall group and the Defender exclusions
            result = {"changed": False, "result": recorded_read()}
        else:
            result = {"changed": True, "result": {"state": parameters.get("State")}}
        return record(self, "ansible.windows.win_powershell", task_vars or {}, result)
