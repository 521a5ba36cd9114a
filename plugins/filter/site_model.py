# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_model
author: otnet.ports maintainers
version_added: 1.1.0
short_description: A site as data - zones, segments, gateways and the graph of its conduits
description:
  - The data behind the P(otnet.ports.diagram#playbook) playbook, whose templates only draw what this filter
    returns. Built from the plans the preflight checked (C(opto22_segment_plan), C(igor_gateway_plan) facts).
  - An endpoint (a network, an address or an address range of a conduit, an outbound flow, a management station or
    a Windows rule) is placed in the zone with the smallest network that holds it, IPv4 and IPv6 alike; endpoints
    outside every zone are drawn on their own. A segment's controllers and guarding host sit in the zone of its
    first controller, a gateway in the zone of its C(ansible_host).
options:
  _input:
    description: The inventory's groups (C(groups)); read are C(opto22_segments) and C(igor_gateways).
    type: dict
    required: true
  hostvars:
    description:
      - Every host's variables (C(hostvars)). A segment host counts when it has an C(opto22_segment_plan) for
        C(state=present), a gateway when it has an C(igor_gateway_plan).
      - Also read - C(ansible_host), C(opto22_segment_conduits), C(opto22_segment_outbound), C(otnet_ports_overlay)
        (copied as the segment's C(settings)).
    type: dict
    required: true
  name:
    description: The site's name, for titles and file names.
    type: str
    default: site
  zones:
    description:
      - The zones (C(otnet_ports_site_zones)) - zone name -> C(label) and C(networks) (addresses or CIDRs).
      - Null or unset - the first segment's or gateway's C(otnet_ports_site_zones), if any.
    type: dict
seealso:
  - plugin: otnet.ports.site_preflight
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Keep the site as JSON
  ansible.builtin.copy:
    content: "{{ groups | otnet.ports.site_model(hostvars, name='plant') | to_nice_json(indent=1) }}\n"
    dest: plant.json
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The site model.
  type: dict
  contains:
    name:
      description: O(name).
      type: str
    zones:
      description: Each zone - C(name), C(label), C(networks) (CIDRs, an address as /32 or /128).
      type: list
      elements: dict
    segments:
      description:
        - Each segment host - C(host), C(address), C(controllers) (CIDRs), C(conduits) and C(outbound) (the plan's,
          each flow with C(service), C(protocol), C(start), C(end), C(basis) and C(ports) as text), C(management)
          (C(port), C(sources) as CIDRs), C(settings) (C(conduits), C(outbound), C(overlay) as written).
      type: list
      elements: dict
    gateways:
      description:
        - Each gateway host - C(host), C(address), C(state), C(rules) (C(name), C(direction), C(protocol), C(port)
          as text, C(remote) addresses, C(service), C(start), C(end)), C(exclusions) (C(paths), C(processes)).
      type: list
      elements: dict
    graph:
      description:
        - What the diagram draws - C(clusters) (one per zone with a node - C(id), C(label), C(networks), C(nodes)),
          C(nodes) outside every zone, and C(edges) (C(from), C(to), C(kind), C(label) as a list of lines).
        - A node has C(id), C(kind) (network, keyword, controllers, router, gateway) and C(label); an edge's kind is
          conduit, outbound, management, gateway, or nothing (a conduit or outbound flow that admits nothing).
      type: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._site import site_model as build_model

NAME = "otnet.ports.site_model"


@filter_errors(NAME)
def site_model(groups: Any, hostvars: Any, name: Any = "site", zones: Any = None) -> dict[str, Any]:
    for option, value in (("_input (groups)", groups), ("hostvars", hostvars)):
        if not isinstance(value, Mapping):
            raise AnsibleFilterError(f"{NAME}: {option} must be a mapping; got {type(value).__name__}")
    return build_model(load_catalog(), str(name), groups, hostvars, zones)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_model": site_model}
