# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: port_owners
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Every catalog record, of every vendor, that uses a port
description:
  - Returns the records of both vendors (and site overlay records) whose range covers the port.
  - By default only assignment tables count (ports products use); the chart-logic and IANA tables describe
    every port and are left out unless O(include_policy=true).
options:
  _input:
    description: A port number, or a V('port/protocol') string.
    type: raw
    required: true
  protocol:
    description: Only records of this protocol.
    type: str
    choices: [tcp, udp]
  include_policy:
    description: Also return the chart-logic and IANA records that cover the port.
    type: bool
    default: false
  overlay:
    description:
      - Site records to consider too, in the catalog record shape.
      - See the O(otnet.ports.opto22_ports#lookup:overlay) lookup option.
    type: list
    elements: dict
seealso:
  - plugin: otnet.ports.port_conflicts
    plugin_type: filter
  - plugin: otnet.ports.opto22_ports
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Who uses 2002? OptoControl peer port and groov Find
  ansible.builtin.debug:
    msg: "{{ 2002 | otnet.ports.port_owners | map(attribute='description') | unique }}"

- name: UDP only, including site records
  ansible.builtin.debug:
    msg: "{{ 47808 | otnet.ports.port_owners(protocol='udp', overlay=otnet_ports_overlay | default([])) }}"
"""

RETURN = r"""
_value:
  description: Catalog records (the shape the lookups return), in catalog order; empty when no product uses the port.
  type: list
  elements: dict
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import (
    port_owners as owners,
)


@filter_errors("otnet.ports.port_owners")
def port_owners(
    port: Any,
    protocol: str | None = None,
    include_policy: bool = False,
    overlay: Any = None,
) -> list[dict[str, Any]]:
    return owners(load_catalog().with_overlay(overlay), port, protocol, include_policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"port_owners": port_owners}
