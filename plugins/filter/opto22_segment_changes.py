# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: opto22_segment_changes
author: otnet.ports maintainers
version_added: 1.1.0
short_description: The flows an Opto 22 segment's rollout adds and removes, from the live table and the plan
description:
  - Compares a segment host's live table (what C(nft -j list table inet otnet_opto22) prints; the
    P(otnet.ports.opto22_segment#role) role reads it in check mode too) with the plan, as flows - not as a diff of
    nft text. Both sides become the regions each conduit, service and protocol admits (peer addresses x ports);
    the changes are the differences of those regions, joined back into flows. So a plan that only cuts the same
    coverage into different set elements changes nothing, and an element deleted by hand comes back as exactly the
    flow it admitted.
  - A missing table means every planned flow is added; with C(opto22_segment_state=absent) every live flow is
    removed. A controller the zone gains or loses adds or removes every flow to or from it. This host's own
    management SSH is a flow of the conduit V(management).
  - Runs on the controller; it contacts no host.
options:
  _input:
    description:
      - The plan, as the P(otnet.ports.opto22_segment_plan#filter) filter returns it with
        O(otnet.ports.opto22_segment_plan#filter:details=true), or the role's variables by their full names
        (C(opto22_segment_controllers), ...), planned here (without the management path check, which needs the
        host's connection).
    type: dict
    required: true
  live:
    description:
      - The live table as C(nft -j list table inet otnet_opto22) prints it (text or parsed). Empty or null - the
        host has no such table.
    type: raw
    required: true
  host:
    description: The address or name of the segment host, the destination of the V(management) flows.
    type: str
    default: ""
  overlay:
    description:
      - Site records to add to the catalog when O(_input) is the role's variables; see the
        O(otnet.ports.opto22_ports#lookup:overlay) lookup option.
    type: list
    elements: dict
seealso:
  - plugin: otnet.ports.opto22_segment_plan
    plugin_type: filter
  - plugin: otnet.ports.change_summary
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the live table (read-only)
  ansible.builtin.command: nft -j list table inet otnet_opto22
  register: live
  changed_when: false
  failed_when: false  # no table: rc 1, nothing printed

- name: What loading the plan would add and remove
  ansible.builtin.debug:
    msg: "{{ segment | otnet.ports.opto22_segment_changes(live.stdout, host=inventory_hostname) }}"
  vars:
    segment:
      opto22_segment_controllers: [10.10.1.11]
      opto22_segment_conduits:
        - {name: scada, sources: [10.20.1.0/24], services: [modbus_tcp]}
      opto22_segment_management: {sources: [10.254.1.0/29]}
"""

RETURN = r"""
_value:
  description: C({added, removed}), each a sorted list of flows.
  type: dict
  contains:
    added:
      description:
        - The flows a run adds (in check mode, would add). Each has C(direction) (V(in) into the segment, V(out)
          from it), C(conduit) (the conduit or outbound entry; V(management) for this host's SSH), C(service)
          (catalog key; null for management), C(sources), C(destinations) (lists of addresses and networks; for
          V(in) the destinations are the controllers, for V(out) the sources are), C(protocol), C(start) and
          C(end) (integers). The IPv4 and IPv6 halves of a flow are one flow.
      type: list
      elements: dict
    removed:
      description: The flows a run removes, like RV(_value.added).
      type: list
      elements: dict
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors
from ansible_collections.otnet.ports.plugins.plugin_utils._segment_changes import changes


@filter_errors("otnet.ports.opto22_segment_changes")
def opto22_segment_changes(source: Any, live: Any, host: str = "", overlay: Any = None) -> dict[str, Any]:
    catalog = load_catalog().with_overlay(overlay, "site overlay (otnet_ports_overlay)")
    return changes(source, live, catalog, host=host or "")


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"opto22_segment_changes": opto22_segment_changes}
