from __future__ import annotations

import pytest
from ansible.plugins.loader import init_plugin_loader
from dev_collection import link_checkout

init_plugin_loader([str(link_checkout())])

from ansible_collections.otnet.ports.plugins.plugin_utils._catalog import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
