"""The checkout as a collections path (ansible_collections/otnet/ports -> this checkout), as ansible-test arranges it.

Unit tests and the docs generator import the source through it, not an old build.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV_COLLECTIONS = REPO / ".cache" / "dev"


def link_checkout() -> Path:
    """A collections path whose otnet/ports is this checkout, so tests exercise the source, not an old build."""
    link = DEV_COLLECTIONS / "ansible_collections" / "otnet" / "ports"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() != REPO:
        link.unlink()  # the checkout moved
    if not link.is_symlink():
        link.symlink_to(REPO, target_is_directory=True)
    return DEV_COLLECTIONS
