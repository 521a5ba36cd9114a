# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_flows
author: otnet.ports maintainers
version_added: 1.1.0
short_description: Every flow a site allows, one row per flow, from the checked plans of its hosts
description:
  - The rows of C(flows.csv) and C(flows.json) that the P(otnet.ports.plan#playbook) playbook writes, built from the
    plans the preflight checked (C(opto22_segment_plan) of each C(opto22_segments) host, C(igor_gateway_plan) of each
    C(igor_gateways) host).
  - A segment host gives a row per flow of each conduit (direction C(in), to its controllers), of each outbound
    entry (C(out), from its controllers) and one for its management SSH (conduit V(management), to the host). A
    gateway gives a row per Windows Firewall rule the role would apply (outbound rules only when
    C(igor_gateway_outbound_rules) is true). A host whose plan has C(state=absent) gives none.
  - A bare C(ports) entry of a conduit (a port PAC Control chart logic may use) has C(service) null, C(vendor)
    V(opto22) and C(protocol_basis) V(stated); its description is the Opto 22 chart-logic record that holds it.
  - Rows are sorted by host, kind, direction, conduit, protocol, start, end, service, sources and destinations.
options:
  _input:
    description: The inventory's groups (C(groups)); read are C(opto22_segments) and C(igor_gateways).
    type: dict
    required: true
  hostvars:
    description:
      - Every host's variables (C(hostvars)). Read are the plan facts, C(ansible_host) (a gateway's address, and the
        destination of a segment host's management SSH) and C(otnet_ports_overlay) (site services).
      - A host of either group without its plan fact is an error - run P(otnet.ports.preflight#playbook) first.
    type: dict
    required: true
seealso:
  - plugin: otnet.ports.site_model
    plugin_type: filter
  - plugin: otnet.ports.site_plan_files
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Who may reach the controllers' Modbus/TCP
  ansible.builtin.debug:
    msg: "{{ groups | otnet.ports.site_flows(hostvars) | selectattr('service', 'eq', 'modbus_tcp') }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - One dict per allowed flow with, in this order - C(host) (the enforcing host), C(kind) (V(segment) or
      V(gateway)), C(direction) (V(in) or V(out)), C(conduit) (conduit, outbound entry or rule name; V(management)
      for the guarding host's SSH), C(sources) and C(destinations) (lists of addresses or CIDRs; the controllers
      for a segment's C(out) sources and C(in) destinations; the gateway's C(ansible_host), else its inventory name,
      for a gateway), C(protocol), C(start), C(end) (integers), C(service) (catalog key; null for a bare C(ports)
      entry and for V(management)), C(vendor), C(protocol_basis) (V(stated) or V(assumed)), C(description) (the
      catalog's), C(expires) (the conduit's C(expires), else null).
  type: list
  elements: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors
from ansible_collections.otnet.ports.plugins.plugin_utils._site_plan import site_flows as build_rows

NAME = "otnet.ports.site_flows"


@filter_errors(NAME)
def site_flows(groups: Any, hostvars: Any) -> list[dict[str, Any]]:
    for option, value in (("_input (groups)", groups), ("hostvars", hostvars)):
        if not isinstance(value, Mapping):
            raise AnsibleFilterError(f"{NAME}: {option} must be a mapping; got {type(value).__name__}")
    return build_rows(load_catalog(), groups, hostvars)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_flows": site_flows}
