# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: opto22_segment_plan
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Check a controller segment's zones and conduits and render them as one nft file
description:
  - The planner behind the P(otnet.ports.opto22_segment#role) role, usable on its own to review a policy.
  - Checks the settings (controllers, conduits, outbound flows, management stations, logging) and reports every
    problem at once, each naming the variable path, the value and the rule it breaks.
  - Resolves the conduits' and outbound flows' service keys through the port catalog (any vendor, and site overlay
    records); extra ports must be ports PAC Control chart logic may use.
  - Returns the policy as data and as the nft file that replaces table C(inet otnet_opto22) in one transaction.
options:
  _input:
    description:
      - The role's settings without the C(opto22_segment_) prefix.
      - C(controllers) (list of addresses/CIDRs), C(conduits) (list of C(name), C(sources), C(services), C(ports)),
        C(outbound) (list of C(name), C(destinations), C(services), C(ports)), C(management) (C(sources), C(port)),
        C(log_drops) (bool), C(log_rate) (for example V(10/minute)), C(allow_management_lockout) (bool).
    type: dict
    required: true
  connection:
    description:
      - The managed host's C(SSH_CONNECTION) (or C(SSH_CLIENT)) value, the connection Ansible came in on.
      - The plan is refused when the management sources or port would not admit that connection, unless
        C(allow_management_lockout) is true. Empty skips the check.
    type: str
    default: ""
  overlay:
    description:
      - Site records to add to the catalog, so conduits can name site services.
      - See the O(otnet.ports.opto22_ports#lookup:overlay) lookup option.
    type: list
    elements: dict
  prefix:
    description: The variable prefix used in error messages.
    type: str
    default: opto22_segment_
  details:
    description:
      - Return the plan as data too (controllers, management, conduits, outbound, elements, log).
      - V(false) returns only C(table), C(text), C(rev) and C(rev_comment) - what the role needs; a plan of
        thousands of conduits is much cheaper for Ansible to keep as a fact without its data.
    type: bool
    default: true
seealso:
  - plugin: otnet.ports.opto22_ports
    plugin_type: lookup
  - plugin: otnet.ports.chart_port
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Review the nft file a segment policy renders to
  ansible.builtin.debug:
    msg: "{{ (segment | otnet.ports.opto22_segment_plan).text }}"
  vars:
    segment:
      controllers: [10.10.1.11, 10.10.1.12]
      conduits:
        - {name: scada, sources: [10.20.1.0/24], services: [modbus_tcp, ethernet_ip]}
        - {name: eng, sources: [10.20.2.0/24], services: [pac_control_host, pac_control_download, optommp]}
      outbound:
        - {name: traps, destinations: [10.20.3.10], services: [snmp_traps]}
      management: {sources: [10.254.1.0/29]}

- name: Fails, naming opto22_segment_conduits[0].services[0] and the catalog services it could be
  ansible.builtin.debug:
    msg: "{{ {'controllers': ['10.10.1.11'], 'conduits': [{'name': 'scada', 'sources': ['10.20.1.0/24'],
             'services': ['modbus']}], 'management': {'sources': ['10.254.1.0/29']}}
             | otnet.ports.opto22_segment_plan }}"
  ignore_errors: true
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    table:
      description: The role's table (family C(inet)).
      type: str
    text:
      description: The nft file.
      type: str
    rev:
      description: A hash of the file; the table comment carries it, so the live table tells which file it came from.
      type: str
    rev_comment:
      description: The table comment of a table loaded from this file.
      type: str
    controllers:
      description:
        - The controller zone, collapsed, by family (C(ipv4), C(ipv6)).
        - This key and the ones below are returned only with O(details=true).
      type: dict
    management:
      description: C(port), C(sources) by family, C(connected_from) (the checked client address) and C(lockout_allowed).
      type: dict
    conduits:
      description: Each conduit with its resolved flows (C(service), C(protocol), C(ports), C(basis)).
      type: list
      elements: dict
    outbound:
      description: Each outbound flow entry, like O(_input) conduits.
      type: list
      elements: dict
    elements:
      description:
        - The set elements (C(key), C(comment)) of C(conduits_v4), C(conduits_v6), C(outbound_v4) and C(outbound_v6).
      type: dict
    log:
      description: C(drops) and C(rate).
      type: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import render_nft, rev_comment
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors
from ansible_collections.otnet.ports.plugins.plugin_utils._segment import PREFIX, SegmentError, plan_segment


@filter_errors("otnet.ports.opto22_segment_plan")
def opto22_segment_plan(
    settings: Any, connection: str = "", overlay: Any = None, prefix: str = PREFIX, details: bool = True
) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        raise SegmentError(f"expected the settings as a mapping; got {type(settings).__name__}")
    catalog = load_catalog().with_overlay(overlay, "site overlay (otnet_ports_overlay)")
    plan = plan_segment(catalog, settings, connection=connection or "", prefix=prefix)
    text, rev = render_nft(plan)
    rendered = {"table": plan["table"], "text": text, "rev": rev, "rev_comment": rev_comment(rev)}
    return {**plan, **rendered} if details else rendered


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"opto22_segment_plan": opto22_segment_plan}
