# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_audit
author: otnet.ports maintainers
version_added: 1.1.0
short_description: The site audit - what each host has against the plan its inventory gives now
description:
  - The decisions behind the P(otnet.ports.audit#playbook) playbook, which only reads the hosts and writes what this
    filter returns. Pure - nothing here contacts a host.
  - Segment hosts - the live ruleset against the plan - C(in_sync), C(drifted) (flows added and removed, as flows),
    C(missing) (no table), C(foreign) (other tables' base chains that could accept traffic before the role's); the
    boot-time unit; the rules file against the live table; packets and bytes per conduit and outbound entry since
    the last load, conduits without hits, drops per chain.
  - Igor gateways - the host's rules and Defender exclusions against the plan (otnet.ports.igor_gateway_compare), or
    C(not_audited) for gateways the site handles plan-only.
  - Severities - C(error) (drift, missing table, foreign accepting chain, unreachable host, exclusions wider than
    the plan), C(warning) (boot unit or rules file not matching), C(info) (conduits without hits, hosts not audited).
options:
  _input:
    description:
      - The inventory's groups (C(groups)); hosts of C(opto22_segments) and C(igor_gateways) are audited.
      - Without O(hostvars), a mapping host name -> C({kind, plan, read}) instead (C(kind) V(segment) or V(gateway)),
        as plugins/plugin_utils/_audit.py documents it.
    type: dict
    required: true
  hostvars:
    description:
      - Every host's variables (C(hostvars)), as the audit playbook leaves them - segment hosts
        C(opto22_segment_plan) and C(opto22_segment_read) (the role's C(read) entry point - C(nft -j list ruleset),
        the table's comment and listing state, the rules file's SHA-1 and comment, C(systemctl is-enabled)),
        gateways C(igor_gateway_plan) and C(igor_gateway_read), or C(otnet_ports_audit_failed) (the failed task's
        result) for either. A read that was unreachable makes the host C(unreachable) with Ansible's C(msg).
      - Hosts with none of these took no part in the run (C(--limit)) and are left out.
    type: dict
  site:
    description: The site's name, for the reports.
    type: str
    default: site
  generated:
    description: When the audit ran (ISO 8601 with offset), for the reports.
    type: str
    required: true
  plan_only:
    description: The site handles its Igor gateways plan-only (C(otnet_ports_site_igor_plan_only)) - they are
      C(not_audited), with that reason.
    type: bool
    default: false
  fail_on_findings:
    description: Whether C(failed) is true when a host has an C(error) or C(warning) finding.
    type: bool
    default: true
seealso:
  - plugin: otnet.ports.igor_gateway_compare
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Decide the audit, after each host's plan and read entry points ran (playbooks/audit.yml)
  ansible.builtin.set_fact:
    audit: >-
      {{ groups | otnet.ports.site_audit(hostvars, site='plant', plan_only=otnet_ports_site_igor_plan_only,
         generated=now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ')) }}
"""

RETURN = r"""
_value:
  description: The audit.
  type: dict
  contains:
    report:
      description: audit.json - C({generated, site, hosts, summary}); plugins/plugin_utils/schemas/audit.schema.json.
      type: dict
    markdown:
      description: audit.md - one section per host, each check with the IEC 62443-3-3 SR it gives evidence for.
      type: str
    junit:
      description: junit.xml - one test case per host and check.
      type: str
    failing:
      description: Hosts with an C(error) or C(warning) finding.
      type: list
      elements: str
    failed:
      description: C(failing) is not empty and O(fail_on_findings) is true.
      type: bool
    files:
      description: The three reports as C({name, content}) (audit.json, audit.md, junit.xml), for the playbook to write.
      type: list
      elements: dict
    verdict:
      description: One line - hosts, in sync, findings by severity, and the failing hosts.
      type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.otnet.ports.plugins.plugin_utils._audit import audit, site_inputs
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors


@filter_errors("otnet.ports.site_audit")
def site_audit(
    groups: Any,
    hostvars: Any = None,
    *,
    generated: str = "",
    site: str = "site",
    plan_only: Any = False,
    fail_on_findings: Any = True,
) -> dict[str, Any]:
    if not generated:
        raise AnsibleFilterError("otnet.ports.site_audit: generated (when the audit ran, ISO 8601) is required")
    # without hostvars, the input is already host name -> {kind, plan, read|task}
    hosts = groups if hostvars is None else site_inputs(groups, hostvars, plan_only=boolean(plan_only, strict=False))
    return audit(
        hosts, site=str(site), generated=str(generated), fail_on_findings=boolean(fail_on_findings, strict=False)
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_audit": site_audit}
