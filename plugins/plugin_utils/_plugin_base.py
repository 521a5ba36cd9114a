"""What the catalog plugins share: reading overlay options, and reporting catalog errors as Ansible errors."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

from ansible.errors import AnsibleFilterError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ._catalog import Catalog, load_catalog, read_overlay_file
from ._errors import PortsError, unknown_name


class CatalogLookupBase(LookupBase):
    """Base for lookups over the port catalog; subclasses implement ``query``."""

    uses_overlay = True

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        try:
            self._check_choices(kwargs)
            self.set_options(var_options=variables, direct=kwargs)
            return self.query(self._catalog(variables), flatten_terms(terms))
        except PortsError as exc:
            raise AnsibleLookupError(str(exc)) from exc

    def _check_choices(self, kwargs: dict[str, Any]) -> None:
        """Name the valid values in the error itself (Ansible's own choices error keeps them in its detail)."""
        for name, value in kwargs.items():
            choices = self.option_definitions.get(name, {}).get("choices")
            if choices and value is not None and value not in choices:
                raise unknown_name(name, value, choices)

    def query(self, catalog: Catalog, terms: list[str]) -> list[Any]:
        raise NotImplementedError

    def _catalog(self, variables: dict[str, Any] | None) -> Catalog:
        if not self.uses_overlay:
            return load_catalog()
        catalog = load_catalog().with_overlay(
            self.get_option("overlay"), "site overlay (overlay / otnet_ports_overlay)"
        )
        path = self.get_option("overlay_file")
        if path:
            found = path
            if not os.path.isabs(path):
                found = self.find_file_in_search_path(variables or {}, "files", path, ignore_missing=True) or path
            catalog = catalog.with_overlay(read_overlay_file(found), f"site overlay file {path}")
        return catalog


def flatten_terms(terms: Iterable[Any]) -> list[str]:
    """Terms as a flat list of names: ``query('x', 'a', 'b')`` and ``query('x', ['a', 'b'])`` mean the same."""
    flat: list[str] = []
    for term in terms:
        flat.extend(term if isinstance(term, (list, tuple)) else [term])
    return flat


def filter_errors(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Report catalog errors raised by a filter or test function as AnsibleFilterError named after the plugin."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except PortsError as exc:
                raise AnsibleFilterError(f"{name}: {exc}") from exc

        return wrapper

    return decorate
