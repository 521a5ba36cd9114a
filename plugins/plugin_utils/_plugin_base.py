"""What the catalog plugins share: options resolved once per distinct input, the catalog with its site overlays,
and catalog errors reported as Ansible errors."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible import constants
from ansible.errors import AnsibleFilterError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ._catalog import Catalog, load_catalog, read_overlay_file
from ._errors import PortsError, unknown_name

# Option sources other than direct arguments, ``vars`` and ``env``; an option using one is resolved every time.
_UNTRACKED_SOURCES = ("cli", "ini", "yaml", "keyword", "deprecated")
# Option types whose value depends on more than the input (the working directory, a temporary directory).
_UNTRACKED_TYPES = ("path", "pathspec", "pathlist", "tmppath", "tmp", "temppath")
_REMEMBERED = 256
_SCALARS = (str, int, float, type(None))


class CatalogLookupBase(LookupBase):
    """Base for lookups over the port catalog; subclasses implement ``query``."""

    uses_overlay = True
    _options_key: tuple[Any, ...] | None = None  # what the options were resolved from; None if not remembered

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        try:
            self.check_direct(kwargs)
            self.set_options(var_options=variables, direct=kwargs)
            return self.query(self._catalog(variables), flatten_terms(terms))
        except PortsError as exc:
            raise AnsibleLookupError(str(exc)) from exc

    def check_direct(self, kwargs: dict[str, Any]) -> None:
        """Check arguments as written, before Ansible coerces them to the documented types.

        Names the valid values in the error itself (Ansible's own choices error keeps them in its detail).
        """
        choices = _option_sources(self.plugin_type, self._load_name).choices
        for name, value in kwargs.items():
            allowed = choices.get(name)
            if allowed and value is not None and value not in allowed:
                raise unknown_name(name, value, allowed)

    def set_options(
        self,
        task_keys: dict[str, Any] | None = None,
        var_options: Mapping[str, Any] | None = None,
        direct: dict[str, Any] | None = None,
    ) -> None:
        """Ansible's ``set_options``, remembered for the inputs it depends on.

        Ansible resolves every declared option on every call (about 6 us each); a lookup in a loop asks the same
        thing again and again. The resolved options are a function of the direct arguments, the option variables
        and the option environment variables alone (when no option uses another source, a path type or a
        templated default), so they are kept per plugin for those inputs and copied into each instance.
        """
        sources = _option_sources(self.plugin_type, self._load_name)
        key = None if task_keys or not sources.trackable else _options_key(sources, var_options, direct)
        self._options_key = key
        if key is None:
            super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
            return
        resolved = _RESOLVED.get(key)
        if resolved is None:
            super().set_options(var_options=var_options, direct=direct)
            options = {name: _plain_copy(value) for name, value in self._options.items()}
            resolved = _remember(_RESOLVED, key, (options, dict(getattr(self, "_origins", {}))))
        self._options = dict(resolved[0])
        if hasattr(self, "_origins"):  # ansible-core 2.19 records each option's origin; older cores do not
            self._origins = dict(resolved[1])

    def query(self, catalog: Catalog, terms: list[str]) -> list[Any]:
        raise NotImplementedError

    def _catalog(self, variables: dict[str, Any] | None) -> Catalog:
        """The catalog with the site overlays; built once for the same options and the same overlay file."""
        if not self.uses_overlay:
            return load_catalog()
        path = self.get_option("overlay_file")
        found = None
        if path:
            found = path
            if not os.path.isabs(path):
                found = self.find_file_in_search_path(variables or {}, "files", path, ignore_missing=True) or path
        key = None
        if self._options_key is not None:
            signature = _file_signature(found) if found else ()
            key = None if signature is None else (self._options_key, found, signature)
        catalog = _CATALOGS.get(key) if key is not None else None
        if catalog is None:
            catalog = load_catalog().with_overlay(
                self.get_option("overlay"), "site overlay (overlay / otnet_ports_overlay)"
            )
            if found:
                catalog = catalog.with_overlay(read_overlay_file(found), f"site overlay file {path}")
            if key is not None:
                _remember(_CATALOGS, key, catalog)
        return catalog


@dataclass(frozen=True)
class _Sources:
    """Where a plugin's options can come from, read once from its documentation."""

    load_name: str
    variables: tuple[str, ...]
    environment: tuple[str, ...]
    choices: Mapping[str, Any]
    trackable: bool


_RESOLVED: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
_CATALOGS: dict[tuple[Any, ...], Catalog] = {}


def _remember(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> Any:
    """``value`` kept under ``key`` in a cache of at most _REMEMBERED entries (emptied when full)."""
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache[key] = value
    return value


def _file_signature(path: str) -> tuple[int, ...] | None:
    """What changes when the file at an absolute ``path`` is replaced or rewritten; None if it cannot be told."""
    if not os.path.isabs(path):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@functools.lru_cache(maxsize=64)
def _option_sources(plugin_type: str, load_name: str) -> _Sources:
    definitions = constants.config.get_configuration_definitions(plugin_type=plugin_type, name=load_name)
    trackable = True
    for definition in definitions.values():
        default = definition.get("default")
        if (
            any(definition.get(source) for source in _UNTRACKED_SOURCES)
            or definition.get("type") in _UNTRACKED_TYPES
            or (isinstance(default, str) and ("{{" in default or "{%" in default))
        ):
            trackable = False
    return _Sources(
        load_name=load_name,
        variables=tuple(entry["name"] for d in definitions.values() for entry in d.get("vars") or ()),
        environment=tuple(entry["name"] for d in definitions.values() for entry in d.get("env") or ()),
        choices={name: d["choices"] for name, d in definitions.items() if d.get("choices")},
        trackable=trackable,
    )


def _options_key(
    sources: _Sources, var_options: Mapping[str, Any] | None, direct: dict[str, Any] | None
) -> tuple[Any, ...] | None:
    """Everything the resolved options depend on, hashable; None when a value has no stable key."""
    try:
        return (
            sources.load_name,
            tuple((name, _frozen(value)) for name, value in (direct or {}).items()),
            tuple(_frozen((var_options or {}).get(name)) for name in sources.variables),
            tuple(os.environ.get(name) for name in sources.environment),
        )
    except _Unkeyable:
        return None


class _Unkeyable(Exception):
    """A value with no stable hashable key."""


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key; its type is part of it (``1``, ``True`` and ``'1'`` resolve differently)."""
    if isinstance(value, _SCALARS):
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (list, tuple([_frozen(item) for item in value]))
    if isinstance(value, Mapping):
        return (dict, tuple([(_frozen(name), _frozen(item)) for name, item in value.items()]))
    raise _Unkeyable


def _plain_copy(value: Any) -> Any:
    """A kept option value detached from the caller's (possibly lazy, possibly mutable) containers."""
    if isinstance(value, Mapping):
        return {name: _plain_copy(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_copy(item) for item in value]
    return value


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
