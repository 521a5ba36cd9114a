# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: port_ranges
author: otnet.ports maintainers
version_added: 1.0.0
short_description: Sort and merge ports into ranges, formatted for a firewall
description:
  - Takes ports in any of the shapes users write, or catalog records, and returns the sorted ranges with
    overlapping and adjacent ports merged (V(1900) and V(1901) become V(1900-1901)).
options:
  _input:
    description:
      - Integers, strings (V('80'), V('1900-1901'), V('80/tcp'), V('50195-50199/udp')), V([start, end]) pairs,
        or records with C(port) or C(start)/C(end) and optionally C(protocol) (as the catalog lookups return them).
      - Digits are the ASCII digits 0-9. A record with both C(port) and C(start)/C(end), or with only one of
        C(start) and C(end), is an error, never resolved by a guess.
      - A single value is accepted as a list of one.
    type: raw
    required: true
  format:
    description:
      - V(pairs) returns V([[start, end], ...]).
      - V(nft) returns a string for an nftables set, V('80, 88, 1900-1901').
      - V(windows) returns a Windows Firewall port list, V('80,88,1900-1901').
      - V(firewalld) returns a list of V('port/protocol') strings, V(['80/tcp', '1900-1901/udp']); the protocol
        comes from each record, or from O(protocol) for bare ports.
    type: str
    choices: [pairs, nft, windows, firewalld]
    default: pairs
  protocol:
    description:
      - Keep only records of this protocol (bare ports are kept), and label bare ports with it for V(firewalld).
      - Required when the input holds records of both protocols and O(format) is not V(firewalld).
    type: str
    choices: [tcp, udp]
seealso:
  - plugin: otnet.ports.opto22_ports
    plugin_type: lookup
  - plugin: otnet.ports.igor_ports
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: "80, 88, 1900-1901"
  ansible.builtin.debug:
    msg: "{{ [1901, 80, '88', 1900] | otnet.ports.port_ranges(format='nft') }}"

- name: Igor Gateway incoming UDP as a Windows Firewall list ("69,1050,1900-1901,5683,50195-50199")
  ansible.builtin.debug:
    msg: >-
      {{ query('otnet.ports.igor_ports', 'gateway', direction='incoming')
         | otnet.ports.port_ranges(format='windows', protocol='udp') }}

- name: firewalld port list from records of both protocols
  ansible.builtin.debug:
    msg: >-
      {{ query('otnet.ports.opto22_ports', 'controllers', services=['snmp', 'modbus_tcp'])
         | otnet.ports.port_ranges(format='firewalld') }}
"""

RETURN = r"""
_value:
  description: Merged ranges, as V(format) asks.
  type: raw
"""

from typing import Any

from ansible_collections.otnet.ports.plugins.plugin_utils._plugin_base import (
    filter_errors,
)
from ansible_collections.otnet.ports.plugins.plugin_utils._portrange import format_ranges


@filter_errors("otnet.ports.port_ranges")
def port_ranges(data: Any, format: str = "pairs", protocol: str | None = None) -> list[Any] | str:  # noqa: A002
    return format_ranges(data, format, protocol)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"port_ranges": port_ranges}
