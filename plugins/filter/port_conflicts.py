# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: port_conflicts
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Where a site's own ports overlap ports the vendors' products use
description:
  - Compares a site's ports (its own services, chart-logic handles, ports it plans to open) with every
    assignment record of the catalog and returns each overlap.
  - A site port without a protocol conflicts with catalog records of either protocol.
options:
  _input:
    description:
      - The site's ports, in any shape P(otnet.ports.port_ranges#filter) accepts.
      - Records may carry C(name), C(service) or C(description); they are copied into the result to say which
        site port conflicts.
    type: raw
    required: true
  include_policy:
    description: Also report overlaps with the chart-logic and IANA tables (every port overlaps one of them).
    type: bool
    default: false
  overlay:
    description: Site records to add to the catalog before comparing.
    type: list
    elements: dict
seealso:
  - plugin: otnet.ports.port_owners
    plugin_type: filter
  - plugin: otnet.ports.chart_port
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Fail the play when a site port collides with a vendor port
  ansible.builtin.assert:
    that: conflicts | length == 0
    fail_msg: "{{ conflicts | map(attribute='catalog.description') | list }}"
  vars:
    conflicts: >-
      {{ [{'name': 'historian', 'port': 2001, 'protocol': 'tcp'}, '49200/udp'] | otnet.ports.port_conflicts }}
"""

RETURN = r"""
_value:
  description: One entry per overlap, in the order of the site's ports.
  type: list
  elements: dict
  contains:
    site:
      description:
        - The site port, C(start) and C(end), with C(protocol), C(name), C(service) and C(description) when given.
      type: dict
    catalog:
      description: The catalog record it overlaps.
      type: dict
    overlap:
      description: The shared ports, C(start) and C(end).
      type: dict
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import (
    port_conflicts as conflicts,
)


@filter_errors("otnet.ports.port_conflicts")
def port_conflicts(site: Any, include_policy: bool = False, overlay: Any = None) -> list[dict[str, Any]]:
    return conflicts(load_catalog().with_overlay(overlay), site, include_policy)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"port_conflicts": port_conflicts}
