# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of otnet.ports.site_plan_write (documented in plugins/modules/site_plan_write.py): runs on the controller
only, and hands the writing to plugin_utils._site_plan.write_plan (a temporary directory, then one rename)."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.otnet.ports.plugins.plugin_utils._errors import PortsError
from ansible_collections.otnet.ports.plugins.plugin_utils._site_plan import check_file_paths, check_plan_dir, write_plan

ARGUMENT_SPEC = {
    "dir": {"type": "raw", "required": True},
    "files": {"type": "dict", "required": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the controller's own file system; no host is contacted

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        files = {str(name): content for name, content in args["files"].items()}
        try:
            if self._task.check_mode:
                check_file_paths(files)
                path = check_plan_dir(args["dir"])
            else:
                path = write_plan(args["dir"], files)
        except PortsError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        except OSError as exc:
            rule = "nothing was changed: the plan directory is as it was"
            return {**result, "failed": True, "msg": f"otnet_ports_plan_dir: {args['dir']!r}: {exc}; {rule}"}
        return {**result, "changed": True, "path": path, "files": sorted(files)}
