"""Test setup shared by unit and integration tests.

The checkout is made importable as ansible_collections.otnet.ports, the way ansible-test arranges it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV_COLLECTIONS = REPO / ".cache" / "dev"


def link_checkout() -> Path:
    """A collections path whose otnet/ports is this checkout, so tests exercise the source, not an old build."""
    link = DEV_COLLECTIONS / "ansible_collections" / "otnet" / "ports"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REPO, target_is_directory=True)
    return DEV_COLLECTIONS
