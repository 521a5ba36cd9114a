# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: boundary_config
author: otnet.ports maintainers
version_added: 1.1.0
short_description: A controller segment's conduits as the configuration of one network device platform
description:
  - Renders the aerleon policy of a segment host (P(otnet.ports.boundary_policy#filter)) with aerleon's generator
    for one target, in memory, and returns the text aerleon writes for it - the same conduits, outbound flows and
    denies as the host's own nftables table, on the router or firewall that guards the same controllers.
  - C(opto22_segment_plan | otnet.ports.boundary_config(target)) with no other argument gives exactly the text
    C(otnet.ports.plan) writes to C(<host>/boundary/<target>.<ext>) when O(host) is the host's name.
  - Cisco-family targets get plain extended ACL entries, an IPv4 and an IPv6 ACL (C(ipv6-otnet-opto22)) where the
    platform has both; C(ciscoasa) renders IPv4 entries only and is refused for a plan with IPv6 addresses.
  - C(windows_advfirewall) gets the allow rules only, because Windows Firewall applies block rules before allow
    rules; set the profiles' defaults to block inbound and outbound.
  - Requires the Python package C(aerleon) on the Ansible controller.
options:
  _input:
    description:
      - A segment host's plan or the role's variables, as P(otnet.ports.boundary_policy#filter) takes them.
    type: dict
    required: true
  target:
    description:
      - The aerleon target (platform) to render for.
    type: str
    required: true
    choices: [arista, cisco, ciscoasa, cisconx, fortigate, juniper, nftables, paloalto, srx, windows_advfirewall]
  host:
    description:
      - The guarding host's name; the controllers' zone on C(srx), C(paloalto) and C(fortigate).
    type: str
    default: segment
  overlay:
    description:
      - Site records for the catalog when O(_input) is the role's variables; ignored for a plan.
    type: list
    elements: dict
requirements:
  - aerleon (Python package, on the Ansible controller)
seealso:
  - plugin: otnet.ports.boundary_policy
    plugin_type: filter
  - plugin: otnet.ports.opto22_segment_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The Cisco IOS ACL that gives the Line 1 router the same conduits as fw-line1
  ansible.builtin.copy:
    dest: boundary/fw-line1.acl
    content: "{{ opto22_segment_plan | otnet.ports.boundary_config('cisco') }}"
    mode: "0644"
  delegate_to: localhost

- name: The Junos SRX policies, with fw-line1 as the controllers' zone
  ansible.builtin.debug:
    msg: "{{ opto22_segment_plan | otnet.ports.boundary_config('srx', host='fw-line1') }}"

- name: Fails, listing the supported targets
  ansible.builtin.debug:
    msg: "{{ opto22_segment_plan | otnet.ports.boundary_config('pix') }}"
  ignore_errors: true
"""

RETURN = r"""
_value:
  description: The text aerleon renders for the target (its own file format, as its C(aclgen) writes it).
  type: str
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._boundary import (
    DEFAULT_HOST,
    boundary_policy,
    check_target,
    plan_of,
    render,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors


@filter_errors("otnet.ports.boundary_config")
def boundary_config(plan: Any, target: Any, host: str = DEFAULT_HOST, overlay: Any = None) -> str:
    check_target(target)
    return render(boundary_policy(plan_of(plan, overlay), host), target)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"boundary_config": boundary_config}
