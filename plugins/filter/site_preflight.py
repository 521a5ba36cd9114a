# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_preflight
author: otnet.ports maintainers
version_added: 1.1.0
short_description: The preflight verdict on a site's rollout settings and on one host's variables
description:
  - The decisions behind the P(otnet.ports.preflight#playbook) playbook, which only runs each role's C(plan) entry
    point and reports what this filter returns.
  - With O(rollout), checks the rollout settings and the inventory's groups - C(otnet_ports_site_serial) (a number of
    hosts or a percentage, or a list of them), C(otnet_ports_site_max_fail_percentage) (a whole number 0-100),
    C(otnet_ports_site_igor_plan_only) (a boolean), at least one host in C(igor_gateways) or C(opto22_segments),
    and no host in both.
  - With O(host), checks that host - the problems its role's planner reported (O(failures)); each entry of
    C(otnet_ports_chart_ports) is a port, or range, PAC Control chart logic may use; each site service (from
    C(otnet_ports_overlay)) that a conduit of its C(opto22_segment_plan) admits into the segment is on such ports;
    the site's ports (C(otnet_ports_overlay), C(otnet_ports_chart_ports)) overlap no vendor port unless
    C(otnet_ports_accepted_overlaps) declares it with a reason; no declared overlap is stale; the networks of
    C(otnet_ports_site_zones) are addresses or CIDRs with host bits clear; with C(otnet_ports_assumed_protocols)
    V(explicit) (default V(both)), every service of C(opto22_segment_conduits) and C(opto22_segment_outbound) whose
    catalog records are C(protocol_basis=assumed) names its protocol (V(tcp), V(udp) or V(both)).
  - Collects every problem, never only the first.
options:
  _input:
    description: The inventory's groups (C(groups)).
    type: dict
    required: true
  rollout:
    description:
      - The rollout settings by their full names (C(otnet_ports_site_serial), C(otnet_ports_site_max_fail_percentage),
        C(otnet_ports_site_igor_plan_only)); a missing or null one takes its default (V(100%), V(0), V(false)).
      - When given, the settings and the groups are checked.
    type: dict
  host:
    description: The host whose variables O(variables) holds; when given, that host is checked.
    type: str
  variables:
    description:
      - The host's variables (C(hostvars[inventory_hostname])); read are C(otnet_ports_overlay),
        C(otnet_ports_chart_ports), C(otnet_ports_accepted_overlaps), C(otnet_ports_site_zones),
        C(otnet_ports_assumed_protocols), C(opto22_segment_conduits), C(opto22_segment_outbound) and the fact
        C(opto22_segment_plan) (flows with integer C(start) and C(end)).
    type: dict
    default: {}
  failures:
    description:
      - The role's C(plan) entry point failed - role name -> the failed task's message (C(ansible_failed_result.msg)).
      - Each problem the message lists becomes a problem of the verdict.
    type: dict
    default: {}
seealso:
  - plugin: otnet.ports.site_model
    plugin_type: filter
  - plugin: otnet.ports.chart_port
    plugin_type: filter
  - plugin: otnet.ports.port_conflicts
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Stop every host when one host's variables break a rule
  ansible.builtin.assert:
    that: verdict | length == 0
    fail_msg: "{{ verdict | map(attribute='message') }}"
  vars:
    verdict: >-
      {{ groups | otnet.ports.site_preflight(host=inventory_hostname, variables=hostvars[inventory_hostname]) }}
  any_errors_fatal: true

- name: Check the rollout settings once
  ansible.builtin.assert:
    that: verdict | length == 0
    fail_msg: "{{ verdict | map(attribute='message') }}"
  vars:
    verdict: "{{ groups | otnet.ports.site_preflight(rollout={'otnet_ports_site_serial': [1, '50%']}) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The problems, in the order found; empty when there is none.
  type: list
  elements: dict
  contains:
    host:
      description: The host, or an empty string for the rollout settings and the groups.
      type: str
    variable:
      description: The variable, with the path into it (C(otnet_ports_chart_ports[0].port)).
      type: str
    value:
      description: The value that breaks the rule, when known (the planners' problems name it in C(rule)).
      type: raw
    rule:
      description: What is wrong and what would be accepted.
      type: str
    message:
      description: C(variable), a colon and C(rule), to show to a person.
      type: str
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._site import (
    host_problems,
    rollout_problems,
)

NAME = "otnet.ports.site_preflight"


@filter_errors(NAME)
def site_preflight(
    groups: Any,
    rollout: Any = None,
    host: Any = None,
    variables: Any = None,
    failures: Any = None,
) -> list[dict[str, Any]]:
    _check_mapping(groups, "_input (groups)")
    problems = []
    if rollout is not None:
        _check_mapping(rollout, "rollout")
        problems += rollout_problems(rollout, groups)
    if host is not None:
        _check_mapping(variables or {}, "variables")
        _check_mapping(failures or {}, "failures")
        problems += host_problems(load_catalog(), str(host), variables or {}, failures or {})
    return [problem.as_dict() for problem in problems]


def _check_mapping(value: Any, option: str) -> None:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{NAME}: {option} must be a mapping; got {type(value).__name__}")


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_preflight": site_preflight}
