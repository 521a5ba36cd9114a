# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: igor_ports
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Igor gateway, node firmware and BACnet service port requirements
description:
  - Returns the records of the Igor network communication port document, one per port, transport protocol and
    direction. Direction is relative to the Igor device the table is about.
  - Each term names a table. With no term, every table is returned.
  - A query that matches nothing is an error, never an empty list.
options:
  _terms:
    description:
      - Tables to return, in order.
      - V(gateway) (Igor Gateway software, version 1.12.1 and higher), V(firmware) (Igor node firmware, 3.1.0
        and higher), V(bacnet) (BACnet service, 1.0.0 and higher).
    type: list
    elements: str
  version:
    description:
      - The version of the software the tables describe. A version below a requested table's floor, or a value
        that is not a version, is an error; the document does not cover older versions.
      - Quote it in YAML and Jinja (V('1.12.1')). An unquoted number is an error, not a version; YAML reads
        V(1.20) as the number 1.2.
    type: str
  direction:
    description: Only records of this direction, relative to the Igor device.
    type: str
    choices: [incoming, outgoing]
  protocol:
    description: Only records of this transport protocol.
    type: str
    choices: [tcp, udp]
  services:
    description:
      - Only records of these service keys (V(tftp), V(http), V(configuration), V(https), V(firmware_update),
        V(upnp), V(coap), V(bacnet_ip)).
    type: list
    elements: str
extends_documentation_fragment:
  - otnet.ports.catalog_overlay
notes:
  - C(lookup) returns a single dict rather than a list when exactly one record matches; use C(query) to
    always get a list.
seealso:
  - plugin: otnet.ports.opto22_ports
    plugin_type: lookup
  - plugin: otnet.ports.igor_exclusions
    plugin_type: lookup
  - plugin: otnet.ports.port_ranges
    plugin_type: filter
"""

EXAMPLES = r"""
- name: UDP ports the Igor Gateway must accept, as a Windows Firewall port list
  ansible.builtin.debug:
    msg: >-
      {{ query('otnet.ports.igor_ports', 'gateway', version='1.12.1', direction='incoming', protocol='udp')
         | otnet.ports.port_ranges(format='windows') }}

- name: BACnet service rules
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.igor_ports', 'bacnet') }}"

- name: Fails - the gateway table covers 1.12.1 and higher
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.igor_ports', 'gateway', version='1.11.0') }}"
  ignore_errors: true
"""

RETURN = r"""
_raw:
  description: Records, in the document's order within each requested table.
  type: list
  elements: dict
  contains:
    vendor:
      description: V(igor), or V(site) for overlay records.
      type: str
    table:
      description: V(gateway), V(firmware) or V(bacnet).
      type: str
    service:
      description: Stable service key.
      type: str
    label:
      description: Short human name of the service, as the document's legend writes it.
      type: str
    start:
      description: First port.
      type: int
    end:
      description: Last port.
      type: int
    protocol:
      description: V(tcp) or V(udp).
      type: str
    direction:
      description: V(incoming) or V(outgoing), relative to the Igor device.
      type: str
    min_version:
      description: The lowest version the table covers.
      type: str
    protocol_basis:
      description: Always V(stated) for Igor records; the document gives TCP and UDP columns.
      type: str
    description:
      description: The document's legend entry for the port.
      type: str
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import Catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    CatalogLookupBase,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import igor_records
from ansible_collections.otnet.ports.plugins.plugin_utils._version import parse_version


class LookupModule(CatalogLookupBase):
    def check_direct(self, kwargs: dict[str, Any]) -> None:
        super().check_direct(kwargs)
        if kwargs.get("version") is not None:
            parse_version(kwargs["version"], "version")  # as written: the str option would make 1.20 into '1.2'

    def query(self, catalog: Catalog, terms: list[str]) -> list[dict[str, Any]]:
        return igor_records(
            catalog,
            terms,
            version=self.get_option("version"),
            direction=self.get_option("direction"),
            protocol=self.get_option("protocol"),
            services=self.get_option("services"),
        )
