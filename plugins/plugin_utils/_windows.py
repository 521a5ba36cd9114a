"""Windows install directories and the exclusion paths built from them."""

from __future__ import annotations

import re
from typing import Any

from ._errors import QueryError

_DRIVE_PATH = re.compile(r"[A-Za-z]:\\(?P<rest>.*)")
_FORBIDDEN = re.compile(r'[*?<>|"%:/]')


def check_install_dir(value: Any, where: str) -> str:
    """An absolute drive path such as ``D:\\Igor`` (trailing backslash removed), or an error naming ``where``."""
    rule = r"an absolute Windows path below a drive, like C:\Igor, without wildcards"
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"{where}: {value!r} is not {rule}")
    text = value.strip()
    match = _DRIVE_PATH.fullmatch(text)
    if not match:
        raise QueryError(f"{where}: {value!r} is not absolute; expected {rule}")
    rest = match.group("rest").rstrip("\\")
    if not rest:
        raise QueryError(f"{where}: {value!r} is a bare drive; expected {rule}")
    bad = _FORBIDDEN.search(rest)
    if bad:
        raise QueryError(f"{where}: {value!r} contains {bad.group()!r}; expected {rule} (no environment variables)")
    parts = rest.split("\\")
    if any(part in ("", ".", "..") for part in parts):
        raise QueryError(f"{where}: {value!r} has an empty, '.' or '..' component; expected {rule}")
    return f"{text[:2]}\\{rest}"


def join(install_dir: str, relative: str) -> str:
    return f"{install_dir}\\{relative}"
