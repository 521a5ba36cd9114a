# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: igor_gateway_plan
author: otnet.ports maintainers
version_added: 1.0.0
short_description: The Windows Firewall rules and Defender exclusions an Igor Gateway host needs, as data
description:
  - Checks the variables of the C(otnet.ports.igor_gateway) role and returns the plan the role applies; the role's
    C(plan) entry point sets it as the fact C(igor_gateway_plan).
  - Runs on the controller and reads only the port catalog; nothing contacts the Windows host.
  - Every port, path and label comes from the catalog (the Igor document's C(gateway) and C(bacnet) tables and its
    antivirus exclusion list).
  - >-
    A broken rule is an error naming the variable, the value and the rule, for example
    C(igor_gateway_node_networks[1]: '10.0.0.300/24' is not an IPv4/IPv6 address, CIDR, range or Windows keyword).
options:
  _input:
    description:
      - A mapping of the role's variables by their full names, as the role's argument spec names them
        (C(igor_gateway_version), C(igor_gateway_bacnet), C(igor_gateway_install_dir), ...;
        C(ansible-doc -t role otnet.ports.igor_gateway) describes each one).
      - They are validated against that spec the way Ansible does (types, choices, booleans such as V(yes) or
        V(false) given as strings); unset ones take the spec's defaults, a name the spec does not have is an error.
        Then the rules a spec cannot state are checked (version floor, install directory, remote scopes), and every
        problem is reported at once.
    type: dict
    required: true
notes:
  - Each rule holds one port or one contiguous range. C(community.windows.win_firewall_rule) compares port lists as
    exact strings, so a service whose ports are not contiguous (Firmware Updating) gets one rule per range, with
    the range in the rule name.
seealso:
  - plugin: otnet.ports.igor_ports
    plugin_type: lookup
  - plugin: otnet.ports.igor_exclusions
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: The plan, as the role computes it
  ansible.builtin.include_role:
    name: otnet.ports.igor_gateway
    tasks_from: plan

- name: The same with the filter, for a review outside the role
  ansible.builtin.debug:
    msg: >-
      {{ {'igor_gateway_version': '1.12.1', 'igor_gateway_bacnet': true, 'igor_gateway_install_dir': 'D:\\Igor',
          'igor_gateway_bms_networks': ['10.20.0.0/24'], 'igor_gateway_firewall_profiles': ['domain', 'private']}
         | otnet.ports.igor_gateway_plan }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    state:
      description: V(present) or V(absent), from C(igor_gateway_state).
      type: str
    group:
      description: The Windows Firewall group every rule is in, V(Igor Gateway (otnet.ports)).
      type: str
    exclusive:
      description: Whether rules of the group that are not in the plan are removed.
      type: bool
    rules:
      description:
        - One C(community.windows.win_firewall_rule) argument set per rule; the keys are the module's option names.
        - Incoming rules carry C(localport), outgoing rules C(remoteport) (the port the gateway connects to).
        - Each rule also carries, as data, C(service) (the catalog service key) and C(start) and C(end) (integers,
          the port span the rule opens); they are not module options.
        - C(program) only on the BACnet service rules, the one table the document ties to one executable.
      type: list
      elements: dict
    exclusions:
      description:
        - C(paths) and C(processes) for Microsoft Defender, below C(igor_gateway_install_dir).
        - Both empty when C(igor_gateway_av_exclusions) is false.
      type: dict
    text:
      description:
        - The rules (a table) and the exclusions as text for a review; C(otnet.ports.site) prints it in plan-only mode
          and C(otnet.ports.plan) writes it as C(HOST/rules.txt) and C(HOST/exclusions.txt).
      type: str
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._igor_gateway_plan import build_plan
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors


@filter_errors("otnet.ports.igor_gateway_plan")
def igor_gateway_plan(settings: Any) -> dict[str, Any]:
    return build_plan(load_catalog(), settings)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"igor_gateway_plan": igor_gateway_plan}
