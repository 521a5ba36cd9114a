# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: chart_logic_port
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Whether PAC Control chart logic may use a port
description:
  - True for the ports the Opto 22 document leaves to user chart logic (22004-22005, 49152-49999, 51000-65535),
    false for the reserved ones.
  - A value that is not a port number is an error, not false.
options:
  _input:
    description: A port number (an integer, or a string of the ASCII digits 0-9; other scripts' digits are refused).
    type: raw
    required: true
seealso:
  - plugin: otnet.ports.chart_port
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Chart-logic ports a controller's charts use must be allowed
  ansible.builtin.assert:
    that: item is otnet.ports.chart_logic_port
  loop: "{{ controller_chart_ports }}"

- name: Keep the allowed ones
  ansible.builtin.debug:
    msg: "{{ [22001, 22004, 50000, 51000] | select('otnet.ports.chart_logic_port') }}"  # [22004, 51000]
"""

RETURN = r"""
_value:
  description: Whether the port is allowed in PAC Control user chart logic.
  type: bool
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._chart_logic import verdict
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)


@filter_errors("otnet.ports.chart_logic_port")
def chart_logic_port(port: Any) -> bool:
    return verdict(load_catalog(), port).allowed


class TestModule:
    def tests(self) -> dict[str, Any]:
        return {"chart_logic_port": chart_logic_port}
