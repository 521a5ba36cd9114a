# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: opto22_ports
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Opto 22 port reservations and PAC Control chart-logic rules
description:
  - Returns the records of the Opto 22 port document, one per port or range and transport protocol.
  - Each term names a table of the document. With no term, every table is returned.
  - Where the document does not name a port's protocol (C(protocol_basis=assumed)), the port has a tcp and a
    udp record; narrow them with O(protocol).
  - A query that matches nothing is an error, never an empty list.
options:
  _terms:
    description:
      - Tables to return, in order.
      - V(firmware) (ports used by Opto 22 firmware), V(controllers) (SNAP PAC controllers and brains),
        V(groov), V(chart_logic) (ports chart logic may use), V(chart_logic_reserved) (ports it must not use,
        with the reason), V(iana) (IANA port categories as the document explains them).
    type: list
    elements: str
  services:
    description: Only records of these service keys (for example V(modbus_tcp), V(pac_control_host)).
    type: list
    elements: str
  protocol:
    description: Only records of this transport protocol.
    type: str
    choices: [tcp, udp]
extends_documentation_fragment:
  - otnet.ports.catalog_overlay
notes:
  - C(lookup) returns a single dict rather than a list when exactly one record matches; use C(query) to
    always get a list.
  - The catalog is parsed and schema-checked once per Ansible process; the data files ship inside the collection.
seealso:
  - plugin: otnet.ports.igor_ports
    plugin_type: lookup
  - plugin: otnet.ports.port_ranges
    plugin_type: filter
  - plugin: otnet.ports.chart_port
    plugin_type: filter
  - plugin: otnet.ports.port_owners
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Ports groov needs (443, 8443, 1880, 2002, 3000, 10000; tcp and udp, the document does not say)
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.opto22_ports', 'groov') | otnet.ports.port_ranges(format='nft', protocol='tcp') }}"

- name: Modbus/TCP and EtherNet/IP records for a SCADA conduit
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.opto22_ports', 'controllers', services=['modbus_tcp', 'ethernet_ip']) }}"

- name: Port ranges chart logic may use
  ansible.builtin.debug:
    msg: "{{ query('otnet.ports.opto22_ports', 'chart_logic', protocol='tcp') | otnet.ports.port_ranges }}"

- name: With the short name, in a site directory whose ansible.cfg adds the collection's lookup path
  ansible.builtin.debug:
    msg: "{{ lookup('opto22_ports', 'groov') }}"
"""

RETURN = r"""
_raw:
  description: Records, in the document's order within each requested table.
  type: list
  elements: dict
  contains:
    vendor:
      description: V(opto22), or V(site) for overlay records.
      type: str
    table:
      description: The table the record belongs to.
      type: str
    service:
      description: Stable service key.
      type: str
    label:
      description: Short human name of the service.
      type: str
    start:
      description: First port of the range.
      type: int
    end:
      description: Last port of the range (equal to RV(_raw[].start) for a single port).
      type: int
    protocol:
      description: V(tcp) or V(udp).
      type: str
    protocol_basis:
      description: >-
        V(stated) where the document names the protocol, V(standard) where the protocol's own standard fixes it,
        V(assumed) where the document is silent (such ports have a record for each protocol).
      type: str
    category:
      description: IANA category (V(Well Known), V(Registered), V(Dynamic)); only in the V(iana) table.
      type: str
      returned: for the iana table
    description:
      description: The document's own words for the row.
      type: str
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import Catalog
from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    CatalogLookupBase,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._queries import opto22_records


class LookupModule(CatalogLookupBase):
    def query(self, catalog: Catalog, terms: list[str]) -> list[dict[str, Any]]:
        return opto22_records(
            catalog, terms, services=self.get_option("services"), protocol=self.get_option("protocol")
        )
