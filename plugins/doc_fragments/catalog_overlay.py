# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  overlay:
    description:
      - Site records to add to the catalog, in the catalog's record shape (C(service), C(port) or C(start)/C(end),
        C(protocol), C(description); optional C(direction), C(label), C(table), C(vendor)).
      - They are validated like the catalog itself; an error names the record and the field.
      - Site records need service keys of their own; they cannot redefine a vendor's service.
      - Site records always belong to vendor V(site) (leave C(vendor) out, or write V(site)); C(table) may group them
        under a name of the site's own, never a vendor table's (V(chart_logic), V(gateway), ...). An overlay never
        joins or overrides a vendor's tables, so the chart-logic rules and the Igor firewall tables stay the vendor
        documents'.
    type: list
    elements: dict
    vars:
      - name: otnet_ports_overlay
  overlay_file:
    description:
      - A YAML or JSON file of site records (a list, or a mapping with C(records)), added like O(overlay).
      - A relative path is searched like other lookup files (the play's C(files/) directories, then the play directory).
    type: str
    vars:
      - name: otnet_ports_overlay_file
    env:
      - name: OTNET_PORTS_OVERLAY_FILE
"""
