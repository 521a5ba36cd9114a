"""The otnet.ports catalog, as the collection Ansible would load in this environment has it.

Imported through Ansible's own collection loader (``init_plugin_loader``), configured the way ``ansible-playbook``
configures it: ``ANSIBLE_COLLECTIONS_PATH`` (and ``ANSIBLE_COLLECTIONS_SCAN_SYS_PATH``), after any ``prefix``
paths a caller names. So the flow oracle and netlab's catalog references read the very collection the role under
test runs from (molecule's installed tarball, the lab site's ./collections), with no path to pass, no PYTHONPATH and
no ``sys.path`` edit. The loader is configured once per process; a process that configured it already (a pytest
session, a benchmark) keeps its configuration, as Ansible does.

Needs ansible-core and otnet.ports on the collections path; nothing else in netlab imports this module unless a
topology names ports by catalog selectors.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .system import NetlabError

COLLECTION = "ansible_collections.otnet.ports"
PLUGIN_UTILS = f"{COLLECTION}.plugins.plugin_utils"


def _configure(prefix: Sequence[Path | str]) -> None:
    try:
        from ansible.plugins.loader import init_plugin_loader  # noqa: PLC0415 - only when the catalog is needed
        from ansible.utils.collection_loader import AnsibleCollectionConfig  # noqa: PLC0415
    except ImportError as exc:
        raise NetlabError(f"reading the otnet.ports catalog needs ansible-core: {exc}") from exc
    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader([str(Path(path).resolve()) for path in prefix])  # the loader takes absolute paths


def module(prefix: Sequence[Path | str] = (), name: str = "_catalog") -> ModuleType:
    """An otnet.ports ``plugin_utils`` module (the catalog's by default), imported through Ansible's loader."""
    _configure(prefix)
    try:
        return importlib.import_module(f"{PLUGIN_UTILS}.{name}")
    except ImportError as exc:
        raise NetlabError(
            f"otnet.ports is not on the collections path ({exc}); install it (make install) and set "
            "ANSIBLE_COLLECTIONS_PATH as for ansible-playbook"
        ) from exc


def collection_root(prefix: Sequence[Path | str] = ()) -> Path:
    """The directory of the otnet.ports collection the catalog comes from."""
    return Path(module(prefix).__file__ or "").resolve().parents[2]


def load(prefix: Sequence[Path | str] = (), overlay: Any = None) -> Any:
    """The catalog (``_catalog.Catalog``), plus the site's overlay records when given."""
    catalog = module(prefix).load_catalog()
    return catalog.with_overlay(overlay) if overlay else catalog


def selector(catalog: Any) -> Any:
    """A ``topology.resolve`` selector function over ``catalog``: one selector mapping -> its records."""

    def select(criteria: dict[str, Any]) -> list[dict[str, Any]]:
        return catalog.select(**criteria)

    return select
