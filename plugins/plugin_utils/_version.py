"""Version strings as the vendor documents write them ("Version 1.12.1 and Higher")."""

from __future__ import annotations

import functools
import re
from typing import Any

from ._errors import QueryError

_VERSION = re.compile(r"v?(\d+(?:\.\d+){0,3})")


def parse_version(value: Any, where: str) -> tuple[int, ...]:
    """``"1.12.1"`` -> ``(1, 12, 1, 0)``; anything that is not a dotted version is an error naming ``where``.

    A float is refused whatever its value: it is what YAML or Jinja made of an unquoted version, and its digits are
    no longer the ones written. Callers whose input goes through Ansible's ``str`` coercion (lookup options, argument
    specs) check the value as written, before that coercion turns 1.20 into '1.2'.
    """
    if isinstance(value, str):
        return _parse_text(value, where)
    if isinstance(value, float):
        raise QueryError(
            f"{where}: {value!r} is a number, not a version string; YAML reads 1.20 as the number 1.2; quote it"
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return _parse_text(str(value), where)
    raise QueryError(f"{where}: {value!r} is not a version; expected numbers separated by dots, like 1.12.1")


@functools.lru_cache(maxsize=64)
def _parse_text(value: str, where: str) -> tuple[int, ...]:
    match = _VERSION.fullmatch(value.strip())
    if not match:
        raise QueryError(f"{where}: {value!r} is not a version; expected numbers separated by dots, like 1.12.1")
    parts = tuple(int(part) for part in match.group(1).split("."))
    return parts + (0,) * (4 - len(parts))


def check_min_version(value: Any, floor: str, where: str, subject: str) -> str:
    """``value`` if it is at least ``floor``; otherwise an error that names the floor and what it applies to."""
    if parse_version(value, where) < parse_version(floor, "catalog floor"):
        raise QueryError(f"{where}: {value} is below {floor}, the lowest version the {subject} covers")
    return str(value)
