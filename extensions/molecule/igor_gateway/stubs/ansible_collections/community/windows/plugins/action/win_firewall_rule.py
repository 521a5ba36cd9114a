"""Stand-in for community.windows.win_firewall_rule (molecule scenario igor_gateway): records the call only."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.ansible.windows.plugins.action.win_powershell import record


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        return record(self, "community.windows.win_firewall_rule", task_vars or {}, {"changed": True})
