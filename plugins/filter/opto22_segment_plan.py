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
  - Validates the role's variables against the role's argument spec (C(ansible-doc -t role
    otnet.ports.opto22_segment)) the way Ansible does - types, choices, defaults, booleans such as V(false) or
    V(yes) given as strings - then makes the checks a spec cannot state (addresses, catalog services, chart-logic
    ports, names, bounds, host path safety, the management path), and reports every problem at once, each naming
    the variable path, the value and the rule it breaks.
  - Resolves the conduits' and outbound flows' service keys through the port catalog (any vendor, and site overlay
    records); extra ports must be ports PAC Control chart logic may use.
  - Returns the policy as data and as the nft file that replaces the role's table (C(inet otnet_opto22)) in one
    transaction, with the settings the host side needs (paths, unit, confirm timeout).
options:
  _input:
    description:
      - The role's variables by their full names, as the role's argument spec names them (for example
        C(opto22_segment_controllers), C(opto22_segment_conduits), C(opto22_segment_management),
        C(opto22_segment_state_dir)). Unset ones take the spec's defaults; a name the spec does not have is an
        error.
    type: dict
    required: true
  connection:
    description:
      - The managed host's C(SSH_CONNECTION) (or C(SSH_CLIENT)) value, the connection Ansible came in on.
      - The plan is refused when the management sources or port would not admit that connection, or when the value
        cannot be read (fail closed), unless C(opto22_segment_allow_management_lockout) is true.
      - Empty (a local connection, or a plan made without the host) skips the check.
    type: str
    default: ""
  overlay:
    description:
      - Site records to add to the catalog, so conduits can name site services.
      - See the O(otnet.ports.opto22_ports#lookup:overlay) lookup option.
    type: list
    elements: dict
  details:
    description:
      - Return the plan as data too (controllers, management, conduits, outbound, elements, log).
      - V(false) returns only what the role needs - C(table), C(text), C(rev), C(rev_comment) and the host-side
        settings; a plan of thousands of conduits is much cheaper for Ansible to keep as a fact without its data.
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
      opto22_segment_controllers: [10.10.1.11, 10.10.1.12]
      opto22_segment_conduits:
        - {name: scada, sources: [10.20.1.0/24], services: [modbus_tcp, ethernet_ip]}
        - {name: eng, sources: [10.20.2.0/24], services: [pac_control_host, pac_control_download, optommp]}
      opto22_segment_outbound:
        - {name: traps, destinations: [10.20.3.10], services: [snmp_traps]}
      opto22_segment_management: {sources: [10.254.1.0/29]}

- name: Fails, naming opto22_segment_conduits[0].services[0] and the catalog services it could be
  ansible.builtin.debug:
    msg: "{{ {'opto22_segment_controllers': ['10.10.1.11'],
              'opto22_segment_conduits': [{'name': 'scada', 'sources': ['10.20.1.0/24'], 'services': ['modbus']}],
              'opto22_segment_management': {'sources': ['10.254.1.0/29']}}
             | otnet.ports.opto22_segment_plan }}"
  ignore_errors: true
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    table:
      description: The role's table (family C(inet)), V(otnet_opto22).
      type: str
    state:
      description: V(present) or V(absent), from C(opto22_segment_state). With V(absent) the plan holds only
        C(table), C(state), C(paths), C(unit_name), C(confirm_timeout) and C(persist) (no file).
      type: str
    paths:
      description: The checked host paths - C(rules) (the rules file), C(state_dir) and C(unit) (the boot-time
        unit's file below C(/etc/systemd/system)).
      type: dict
    unit_name:
      description: The boot-time unit's name, from C(opto22_segment_unit_name).
      type: str
    confirm_timeout:
      description: Seconds the host waits for the confirmation before it restores the previous rules (0 - none).
      type: int
    persist:
      description: Whether the rules are loaded again at boot.
      type: bool
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
      description:
        - Each conduit (C(name), C(sources), C(services)) with its resolved flows, each C(service) (catalog key, or
          V(chart_logic) for an extra port), C(protocol), C(start) and C(end) (integers) and C(basis).
        - A conduit and each of its flows carry C(expires) (the instant it closes, UTC, V(2030-01-31T17:00:00Z), or
          V(null)); the conduit also C(expires_in), the seconds left when the plan was made (or V(null)).
      type: list
      elements: dict
    expiring:
      description:
        - One entry per expiry instant of the conduits, earliest first - C(expires), C(epoch) (seconds since the
          epoch), C(conduits) (names) and C(elements) (C(conduits_v4), C(conduits_v6)) - the set elements admitted
          only until then, which the file keeps in sets C(conduits_v4_until_<epoch>) / C(conduits_v6_until_<epoch>),
          out of C(conduits_v4/6).
      type: list
      elements: dict
    outbound:
      description: Each outbound flow entry, like the conduits but with C(destinations).
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

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import render_nft, rev_comment
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import plan_segment
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors

HOST_SIDE = ("table", "state", "paths", "unit_name", "confirm_timeout", "persist")


@filter_errors("otnet.ports.opto22_segment_plan")
def opto22_segment_plan(
    settings: Any, connection: str = "", overlay: Any = None, details: bool = True
) -> dict[str, Any]:
    catalog = load_catalog().with_overlay(overlay, "site overlay (otnet_ports_overlay)")
    plan = plan_segment(catalog, settings, connection=connection or "")
    if plan["state"] == "absent":
        return plan
    text, rev = render_nft(plan)
    rendered = {"text": text, "rev": rev, "rev_comment": rev_comment(rev)}
    if details:
        return {**plan, **rendered}
    return {**{key: plan[key] for key in HOST_SIDE}, **rendered}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"opto22_segment_plan": opto22_segment_plan}
