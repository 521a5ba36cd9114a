"""Errors raised by the pure catalog code; plugins re-raise them as Ansible errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PortsError(ValueError):
    """Base class. Messages say what was given, where, and what would be accepted."""


class CatalogError(PortsError):
    """The catalog or a site overlay breaks a rule."""


class MissingDependencyError(CatalogError):
    """A Python package the catalog needs is not installed on the controller."""


class QueryError(PortsError):
    """A query names something the catalog does not have, or its arguments are malformed."""


class ChartPortError(PortsError):
    """A port that PAC Control chart logic must not use."""


def unknown_name(
    kind: str, value: object, known: Iterable[str], where: str = "", error: type[PortsError] = QueryError
) -> PortsError:
    """An error for a name that is not one of ``known``, listing the valid names and the closest match."""
    names = sorted(set(known))
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, names, n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    prefix = f"{where}: " if where else ""
    return error(f"{prefix}unknown {kind} {value!r}{hint}; known: {', '.join(names)}")
