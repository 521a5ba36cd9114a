# Copyright: otnet.ports contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: site_plan_write
author: otnet.ports maintainers
version_added: 1.1.0
short_description: Write a plan directory on the controller, all files or none
description:
  - Writes O(files) into a new directory next to O(dir), then renames it to O(dir). An existing O(dir) is replaced
    only when every file was written; on any error O(dir) is left exactly as it was, and not created if it did not
    exist.
  - Refuses, naming C(otnet_ports_plan_dir), a O(dir) that is a file, lies under a file, is in a directory that does
    not exist or is not writable.
  - Runs on the controller only (an action plugin); no host is contacted.
  - Used by the P(otnet.ports.plan#playbook) playbook with the files of P(otnet.ports.site_plan_files#filter).
options:
  dir:
    description:
      - The plan directory (C(otnet_ports_plan_dir)); relative to where C(ansible-playbook) runs. Its parent directory
        must exist and be writable. Replaced as a whole - files in it that O(files) does not have are gone.
    type: raw
    required: true
  files:
    description: Path relative to O(dir) (no C(..), not absolute) -> text.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Checks O(dir) and the paths, writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
    description: The controller.
seealso:
  - plugin: otnet.ports.site_plan_files
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the site plan into ./plan
  otnet.ports.site_plan_write:
    dir: plan
    files: "{{ groups | otnet.ports.site_plan_files(hostvars) }}"
  run_once: true
"""

RETURN = r"""
path:
  description: The plan directory's absolute path.
  returned: success
  type: str
files:
  description: The paths written, relative to RV(path), sorted.
  returned: success
  type: list
  elements: str
"""
