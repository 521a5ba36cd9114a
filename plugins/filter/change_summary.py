# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: change_summary
author: otnet.ports maintainers
version_added: 1.1.0
short_description: The site's changes as readable lines, one per added or removed flow, rule or exclusion
description:
  - >-
    Turns each host's C(opto22_segment_changes) and C(igor_gateway_changes) facts (set by the roles, in check mode
    too) into one line per change, removals first, as a run makes them; for example
    "fw-line1: + scada -> 10.10.1.11 tcp/502 (modbus_tcp) from 10.20.1.0/24".
  - A host with neither fact gets one line saying the roles did not run on it; a host without changes, C(no change).
  - The site playbook shows these lines at its end and writes them to C(changes.md) in O(format=markdown).
options:
  _input:
    description: Host variables by host name (C(hostvars)).
    type: dict
    required: true
  hosts:
    description: The hosts to report, in this order (for example C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  format:
    description: V(lines) - a list of lines; V(markdown) - one Markdown page, a section per host.
    type: str
    choices: [lines, markdown]
    default: lines
seealso:
  - plugin: otnet.ports.opto22_segment_changes
    plugin_type: filter
  - plugin: otnet.ports.igor_gateway_compare
    plugin_type: filter
"""

EXAMPLES = r"""
- name: What the rollout changed on every host of this play
  ansible.builtin.debug:
    msg: "{{ hostvars | otnet.ports.change_summary(ansible_play_hosts_all) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The lines (O(format=lines)) or the Markdown page (O(format=markdown)).
  type: raw
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._changes_text import change_lines, changes_markdown
from ansible_collections.otnet.ports.plugins.plugin_utils._errors import unknown_name
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors

FORMATS = ("lines", "markdown")


@filter_errors("otnet.ports.change_summary")
def change_summary(hostvars: Any, hosts: Any, format: str = "lines") -> list[str] | str:  # noqa: A002 - the option's name
    if format not in FORMATS:
        raise unknown_name("format", format, FORMATS)
    lines = change_lines(hostvars, hosts)
    return lines if format == "lines" else changes_markdown(lines)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"change_summary": change_summary}
