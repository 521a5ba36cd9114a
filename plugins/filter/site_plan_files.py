# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_plan_files
author: otnet.ports maintainers
version_added: 1.1.0
short_description: The files of an offline site plan, by path, as text
description:
  - What the P(otnet.ports.plan#playbook) playbook writes into its plan directory, built from the plans the preflight
    checked; P(otnet.ports.site_plan_write#module) writes it all at once.
  - C(flows.csv) and C(flows.json) - the rows of P(otnet.ports.site_flows#filter); C(summary.md) - zones, hosts,
    conduits, counts and every flow whose protocol the catalog only assumes.
  - Per segment host C(<host>/rules.nft) - exactly the file the role would load (C(opto22_segment_plan.text));
    none for C(state=absent).
  - Per Igor gateway C(<host>/rules.txt) (the Windows Firewall rules, as C(otnet_ports_site_igor_plan_only) prints
    them) and C(<host>/exclusions.txt) (the Microsoft Defender exclusions).
  - With O(boundary_targets), per segment host C(<host>/boundary/<target>.<ext>) (aerleon's rendering,
    P(otnet.ports.boundary_config#filter) with C(host) the inventory name), C(<host>/boundary/policy.yaml) (the
    aerleon policy) and C(<host>/boundary/def/networks.yaml), C(<host>/boundary/def/services.yaml) (its
    definitions).
  - An inventory name that is not one plain path component, or that is the name of a site file, is an error.
options:
  _input:
    description: The inventory's groups (C(groups)); read are C(opto22_segments) and C(igor_gateways).
    type: dict
    required: true
  hostvars:
    description: Every host's variables (C(hostvars)), as for P(otnet.ports.site_flows#filter).
    type: dict
    required: true
  site:
    description: The site's name, the C(site) of C(flows.json) and the title of C(summary.md).
    type: str
    default: site
  generated:
    description: When the plan was made (C(generated) of C(flows.json)); any text, the playbook gives UTC ISO 8601.
    type: str
    default: ""
  zones:
    description: The zones (C(otnet_ports_site_zones)); null - the first host's C(otnet_ports_site_zones).
    type: dict
  boundary_targets:
    description:
      - aerleon targets to render for every segment host (C(otnet_ports_boundary_targets)); see
        P(otnet.ports.boundary_config#filter) for the supported ones. Needs the Python package C(aerleon).
    type: list
    elements: str
    default: []
seealso:
  - plugin: otnet.ports.site_flows
    plugin_type: filter
  - module: otnet.ports.site_plan_write
"""

EXAMPLES = r"""
- name: The plan files' names
  ansible.builtin.debug:
    msg: "{{ groups | otnet.ports.site_plan_files(hostvars, site='plant') | list }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: Path relative to the plan directory -> the file's text.
  type: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import load_catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import filter_errors
from ansible_collections.otnet.ports.plugins.plugin_utils._site_plan import plan_files

NAME = "otnet.ports.site_plan_files"


@filter_errors(NAME)
def site_plan_files(
    groups: Any,
    hostvars: Any,
    *,
    site: Any = "site",
    generated: Any = "",
    zones: Any = None,
    boundary_targets: Any = None,
) -> dict[str, str]:
    for option, value in (("_input (groups)", groups), ("hostvars", hostvars)):
        if not isinstance(value, Mapping):
            raise AnsibleFilterError(f"{NAME}: {option} must be a mapping; got {type(value).__name__}")
    return plan_files(
        load_catalog(),
        groups,
        hostvars,
        site=str(site),
        generated=str(generated),
        zones=zones,
        boundary_targets=boundary_targets,
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_plan_files": site_plan_files}
