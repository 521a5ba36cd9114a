# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: boundary_policy
author: otnet.ports maintainers
version_added: 1.1.0
short_description: A controller segment's conduits as an aerleon policy, for the network devices that guard it
description:
  - Turns a segment host's plan (what P(otnet.ports.opto22_segment_plan#filter) returns) into the policy and the
    definitions of L(aerleon,https://github.com/aerleon/aerleon), Capirca's maintained successor, which renders one
    policy for many platforms; P(otnet.ports.boundary_config#filter) renders it for one of them.
  - "Scope: the host's inbound conduits (a conduit's sources to the controllers on its flows' ports) and outbound
    flows (the controllers to an outbound entry's destinations), then everything else to and from the controllers
    denied. Management SSH to the guarding host is not the boundary device's business."
  - "Filters: one for the address-based targets (C(cisco), C(ciscoasa), C(cisconx), C(arista) - plain extended ACL
    entries, never object groups - and C(juniper)), one table per address family for C(nftables) (the C(forward)
    hook; what concerns no controller passes), one per zone pair for the zone-based targets (C(srx), C(paloalto),
    C(fortigate): the conduit's name is the source zone, O(host) the controllers' zone, an outbound entry's name its
    destination zone; a global filter last denies the rest), and an inbound and an outbound filter of allow rules
    for C(windows_advfirewall) (Windows Firewall applies block rules first; its profiles' defaults must block)."
  - A conduit with no flows (one that documents that a zone gets nothing) adds no terms; the deny terms cover it.
  - Needs the Python package C(aerleon) on the controller only to render; this filter builds data only.
options:
  _input:
    description:
      - The plan of one segment host, as P(otnet.ports.opto22_segment_plan#filter) returns it with
        O(otnet.ports.opto22_segment_plan#filter:details=true) (the default) - C(controllers), C(conduits) and
        C(outbound) with their C(flows).
      - Or the role's variables by their full names (C(opto22_segment_controllers) ...), planned first with
        P(otnet.ports.opto22_segment_plan#filter) and O(overlay).
    type: dict
    required: true
  host:
    description:
      - The guarding host's name; the controllers' zone on the zone-based targets and the policy's file name.
      - Letters, digits, C(_), C(.) and C(-), at most 48, starting with a letter or digit.
    type: str
    default: segment
  overlay:
    description:
      - Site records for the catalog when O(_input) is the role's variables (see the
        O(otnet.ports.opto22_segment_plan#filter:overlay) option); ignored for a plan.
    type: list
    elements: dict
seealso:
  - plugin: otnet.ports.boundary_config
    plugin_type: filter
  - plugin: otnet.ports.opto22_segment_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the aerleon policy and definitions of fw-line1, for a site that already runs aerleon
  ansible.builtin.copy:
    dest: "boundary/{{ item.key }}.yaml"
    content: "{{ item.value | to_nice_yaml }}"
    mode: "0644"
  loop: "{{ boundary | dict2items }}"
  vars:
    boundary: "{{ opto22_segment_plan | otnet.ports.boundary_policy(host='fw-line1') }}"
  delegate_to: localhost

- name: Fails, naming the host name and the rule it breaks
  ansible.builtin.debug:
    msg: "{{ opto22_segment_plan | otnet.ports.boundary_policy(host='line 1') }}"
  ignore_errors: true
"""

RETURN = r"""
_value:
  description: aerleon's policy and definitions as data (what its YAML files hold).
  type: dict
  contains:
    policy:
      description:
        - The policy file's content, C(filename) (O(host)) and C(filters), each a C(header) (C(targets), the
          supported targets' header options) and C(terms) (C(name), C(comment), C(source-address),
          C(destination-address), C(protocol), C(destination-port), C(action)).
        - Terms are named C(in-<conduit>-<protocol>) and C(out-<outbound entry>-<protocol>); the deny terms
          C(deny-to-controllers) and C(deny-from-controllers).
      type: dict
    definitions:
      description:
        - The definitions file's content, C(networks) (C(CONTROLLERS), C(IN_<CONDUIT>), C(OUT_<ENTRY>), each
          C(values) of C(address)) and C(services) (a catalog service's key in capitals, or C(<CONDUIT>_CHART_LOGIC)
          for a conduit's own ports, each a list of C(port) and C(protocol)).
      type: dict
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils import _boundary
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors


@filter_errors("otnet.ports.boundary_policy")
def boundary_policy(plan: Any, host: str = _boundary.DEFAULT_HOST, overlay: Any = None) -> dict[str, Any]:
    return _boundary.boundary_policy(_boundary.plan_of(plan, overlay), host)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"boundary_policy": boundary_policy}
