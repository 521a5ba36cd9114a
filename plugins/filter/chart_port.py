# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: chart_port
author: otnet.ports maintainers
version_added: 1.0.0
short_description: A port PAC Control chart logic may use, or an error saying why not
description:
  - Returns the port, as an integer, when the Opto 22 document allows PAC Control user chart logic to use it
    (22004-22005, 49152-49999, 51000-65535).
  - Otherwise fails with the reserved range the port is in, the document's reason, and the services that use it.
options:
  _input:
    description: A port number (an integer, or a string of the ASCII digits 0-9; other scripts' digits are refused).
    type: raw
    required: true
seealso:
  - plugin: otnet.ports.chart_logic_port
    plugin_type: test
  - plugin: otnet.ports.opto22_ports
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Use a checked port in a chart's communication handle
  ansible.builtin.set_fact:
    line3_handle: "tcp:{{ controller_ip }}:{{ 49200 | otnet.ports.chart_port }}"

- name: Fails - 50000-50999 is used internally by PAC and Ultimate controllers
  ansible.builtin.debug:
    msg: "{{ 50000 | otnet.ports.chart_port }}"
  ignore_errors: true
"""

RETURN = r"""
_value:
  description: The port, unchanged, as an integer.
  type: int
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._chart_logic import (
    check_chart_port,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)


@filter_errors("otnet.ports.chart_port")
def chart_port(port: Any) -> int:
    return check_chart_port(load_catalog(), port)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"chart_port": chart_port}
