"""Ansible's wrapped containers and tagged strings as plain Python values."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

_SCALARS = {str: str.__str__, int: int, float: float}  # builtin copies of (tagged) subclasses


def plain(value: Any, key: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as builtin dicts, lists, strings and numbers, so it serialises, hashes and deep-copies quickly
    (Ansible hands plugins tagged, lazily templated containers). ``key`` turns mapping keys (default: plain)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (str, int, float)):
        return _SCALARS[next(kind for kind in _SCALARS if isinstance(value, kind))](value)
    if isinstance(value, Mapping):
        return {(key or plain)(name): plain(item, key) for name, item in value.items()}
    if isinstance(value, (list, tuple)) or (isinstance(value, Sequence) and not isinstance(value, bytes)):
        return [plain(item, key) for item in value]
    return value
