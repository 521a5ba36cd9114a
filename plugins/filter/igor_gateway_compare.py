# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: igor_gateway_compare
author: otnet.ports maintainers
version_added: 1.1.0
short_description: An Igor Gateway plan against the firewall rules and Defender exclusions a Windows host has
description:
  - Compares C(igor_gateway_plan) with what the C(otnet.ports.igor_gateway) role read on the host (its read-only
    script C(firewall_group_rules.ps1), run in check mode too) and returns the verdicts as data; the role's apply
    step removes exactly RV(_value.stale), stops on RV(_value.clashes) and sets RV(_value.changes) as the fact
    C(igor_gateway_changes).
  - Runs on the controller; it contacts no host and decides only by value. Rule names, groups and paths compare
    case-insensitively (as Windows compares them); ports as port spans (V(1234), V(12000-12009), V(Any)); remote
    addresses as address spans, so the mask form Windows shows (V(10.20.0.0/255.255.0.0)) equals the plan's
    V(10.20.0.0/16).
  - The role's own rules are the local-store rules of the plan's group. Every other rule the host read returned is
    outside the group.
options:
  _input:
    description: The plan, C(igor_gateway_plan) as the P(otnet.ports.igor_gateway_plan#filter) filter returns it.
    type: dict
    required: true
  host_state:
    description:
      - The C(result) of the role's firewall read, C({rules, defender, defender_note}).
      - C(rules) - each rule of the plan's group, each rule outside it named like one of them or like a planned
        rule, and each enabled inbound allow rule outside it whose local port is V(Any) or overlaps a port a
        planned incoming rule opens. One mapping per rule with the properties of C(Get-NetFirewallRule)
        (C(Name), C(DisplayName), C(Group), C(Description), C(Enabled), C(Profile), C(Direction), C(Action),
        C(PolicyStoreSourceType); enums as their names, V(Inbound), V(Allow), V(True), V(Domain, Private)), of
        its C(Get-NetFirewallPortFilter) (C(Protocol), C(LocalPort), C(RemotePort)), of its
        C(Get-NetFirewallAddressFilter) (C(RemoteAddress)) and of its C(Get-NetFirewallApplicationFilter)
        (C(Program)).
      - C(defender) - C(Get-MpPreference)'s C(ExclusionPath) and C(ExclusionProcess) lists, or null when the host
        could not read them (C(defender_note) says why).
    type: dict
    required: true
notes:
  - Compared options are those the role sets with C(community.windows.win_firewall_rule) - C(description),
    C(direction), C(action), C(protocol), C(localport) or C(remoteport), C(remoteip), C(profiles), C(program)
    (BACnet rules) and C(enabled). Options the plan leaves out (C(remoteport) of an incoming rule, local addresses,
    interface types, edge traversal) are not compared; the module leaves them alone too.
  - A local-port keyword (RPC, RPC-EPMap, IPHTTPS, ...) names a dynamic endpoint, not an Igor port, so a rule with
    one is not in RV(_value.open_to_any). Address keywords other than V(Any) (V(Internet), V(LocalSubnet), ...)
    do not count as Any there either; a list covering every IPv4 or every IPv6 address does.
  - Nothing here has run against a Windows host; the comparison is tested on recorded fixtures shaped like the
    script's output (tests/unit/fixtures/igor_cmdlets/README.md says where the shape comes from).
seealso:
  - plugin: otnet.ports.igor_gateway_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the host (read-only, runs in check mode too) as the role does
  ansible.windows.win_powershell:
    script: "{{ lookup('ansible.builtin.file', 'firewall_group_rules.ps1') }}"
    parameters:
      Group: "{{ igor_gateway_plan.group }}"
      Names: "{{ igor_gateway_plan.rules | map(attribute='name') | list }}"
      Ports: "{{ igor_gateway_plan.rules | selectattr('direction', 'eq', 'in') | map(attribute='localport') | list }}"
    depth: 5
  register: igor_read

- name: What a rollout would add and remove, and the rules outside the group that open an Igor port to Any
  ansible.builtin.debug:
    msg: "{{ (igor_gateway_plan | otnet.ports.igor_gateway_compare(igor_read.result))[item] }}"
  loop: [changes, open_to_any]
"""

RETURN = r"""
_value:
  description: The verdicts. Rule names are the host's spelling where the host has the rule, the plan's otherwise.
  type: dict
  contains:
    stale:
      description: Rules of the group the plan no longer has, which the role removes; empty unless the plan is
        C(exclusive).
      type: list
      elements: str
    clashes:
      description:
        - Local rules outside the group named like a planned or a stale rule. C(win_firewall_rule) selects rules by
          name, whatever their group, so it would change them; the role stops instead.
      type: list
      elements: str
    missing:
      description: Planned rules the group does not have (state V(present); empty for V(absent)).
      type: list
      elements: str
    extra:
      description: Rules of the group the plan does not want (all of them for state V(absent)).
      type: list
      elements: str
    changed:
      description:
        - Planned rules the group has with other options (state V(present)), as C({name, fields}).
        - C(fields) maps each differing option (C(win_firewall_rule)'s name) to C({plan, host}), both in one
          canonical form - ports and addresses as comma-joined text (V(10.20.0.0/16,LocalSubnet)), C(profiles)
          as a list, C(enabled) as a boolean, C(program) folded.
      type: list
      elements: dict
    exclusions:
      description:
        - C(read) - false when the host could not read Defender's preferences (then both lists are empty).
        - C(missing) - C({paths, processes}) planned entries Defender does not exclude (state V(present)).
        - >-
          C(extra) - C({paths, processes}) entries Defender excludes beyond the plan that reach the gateway's files:
          a folder or wildcard above a planned entry, a bare process name equal to a planned process's file name,
          anything below the install directory; for state V(absent) also the planned entries still excluded. The
          host's other exclusions are not reported.
      type: dict
    open_to_any:
      description:
        - Enabled incoming allow rules outside the group (any policy store, Group Policy included) that admit every
          remote address on a port a planned incoming rule opens, with the same protocol or any.
        - Each is C({name, group, store, protocol, localport, program, ports, services}); C(ports) as
          V(tcp/1234), C(services) the catalog keys of the planned rules whose ports it opens.
      type: list
      elements: dict
    changes:
      description:
        - What the apply step adds and removes (in check mode, would), C({added, removed}); a changed rule is in
          both, removed as the host has it and added as planned.
        - Rule items - C({kind=rule, name, direction, protocol, ports, remote, service, start, end}); C(ports) as
          text (V(12000-12009), V(Any)), C(remote) a list of addresses, C(start)/C(end) integers (null for a host
          rule with several port spans or keywords).
        - Exclusion items - C({kind=path, path}) or C({kind=process, path}).
      type: dict
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._igor_compare import compare
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors


@filter_errors("otnet.ports.igor_gateway_compare")
def igor_gateway_compare(plan: Any, host_state: Any) -> dict[str, Any]:
    return compare(plan, host_state)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"igor_gateway_compare": igor_gateway_compare}
