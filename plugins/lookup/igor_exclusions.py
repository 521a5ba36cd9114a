# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: igor_exclusions
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Antivirus path and process exclusions the Igor Gateway needs
description:
  - Returns the antivirus exclusions the Igor document requires on the gateway host, as full Windows paths
    below the install directory.
  - Term V(paths) returns the path exclusions (folders), V(processes) the process exclusions (service
    executables). With no term, the paths come first, then the processes.
options:
  _terms:
    description: V(paths), V(processes), or both.
    type: list
    elements: str
  install_dir:
    description:
      - Where the Igor software is installed. The document's paths use V(C:\\Igor).
      - Must be an absolute path below a drive letter; not a bare drive, no wildcards, no environment variables,
        no V(.) or V(..) components. A trailing backslash is removed.
    type: str
    default: C:\Igor
notes:
  - Adding antivirus exclusions is what endpoint-security tooling watches for; apply them from a clearly named task
    (the C(otnet.ports.igor_gateway) role does).
seealso:
  - plugin: otnet.ports.igor_ports
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Folders to exclude from scanning
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.igor_exclusions', 'paths') }}"  # ['C:\Igor\Data', 'C:\Igor\Sampling']

- name: Service executables, for an install on drive D
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.igor_exclusions', 'processes', install_dir='D:\\Igor') }}"
"""

RETURN = r"""
_raw:
  description: Full Windows paths, in the document's order.
  type: list
  elements: str
"""

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import Catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    CatalogLookupBase,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import (
    igor_exclusions,
)


class LookupModule(CatalogLookupBase):
    uses_overlay = False

    def query(self, catalog: Catalog, terms: list[str]) -> list[str]:
        return igor_exclusions(catalog, terms, self.get_option("install_dir"))
