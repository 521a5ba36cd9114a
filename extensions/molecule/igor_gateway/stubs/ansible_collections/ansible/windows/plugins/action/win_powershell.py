"""Stand-in for ansible.windows.win_powershell (molecule scenario igor_gateway): records the call, runs nothing."""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.action import ActionBase

# The name of a rule in the Igor Gateway group that no plan has: the group read reports it, so exclusive runs
# must remove it and other runs must leave it.
STALE_RULE = "Igor Gateway - Retired (TCP-In)"


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
        if "Group" in parameters:  # the read of the firewall group
            result = {"changed": False, "result": {"in_group": [*parameters["Names"], STALE_RULE], "outside": []}}
        else:
            result = {"changed": True, "result": {"state": parameters.get("State")}}
        return record(self, "ansible.windows.win_powershell", task_vars or {}, result)
