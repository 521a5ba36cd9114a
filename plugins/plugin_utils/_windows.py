"""Windows as the Igor gateway sees it: install directories and the exclusion paths built from them, and the
remote-address scopes of firewall rules (win_firewall_rule ``remoteip``). The one home of both sets of rules."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from ._addresses import check_no_scope_id, check_not_mapped, parse_network
from ._catalog import load_catalog
from ._errors import QueryError
from ._portrange import merge

# ---- install directories -------------------------------------------------------------------------------------

# MAX_PATH is 260 characters including the terminating NUL: a path Windows' classic APIs (and the services that
# read Defender exclusions) can open holds at most 259.
MAX_PATH = 260
_PATH_CHARS = MAX_PATH - 1
_DRIVE_PATH = re.compile(r"[A-Za-z]:\\(?P<rest>.*)", re.DOTALL)
_FORBIDDEN = re.compile(r'[*?<>|"%:/]')
# Device names Windows opens instead of a file, as any component and with any extension (NUL.txt is NUL).
_DEVICE_NAMES = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        "CONIN$",
        "CONOUT$",
        *(f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"),
    }
)
_SHORT_NAME = re.compile(r"[^.~]{1,6}~[0-9]+(\.[^.]{0,3})?")
# Folders where any local user may create files; a Defender exclusion there would exempt whatever they drop.
# Compared by component, case-insensitively, on any drive (the controller does not know the system drive).
_WORLD_WRITABLE = (
    ("users", "public"),
    ("windows", "temp"),
    ("windows", "tasks"),
    ("windows", "tracing"),
    ("windows", "registration", "crmlog"),
    ("windows", "system32", "tasks"),
    ("windows", "syswow64", "tasks"),
    ("windows", "system32", "spool", "drivers", "color"),
    ("windows", "system32", "microsoft", "crypto", "rsa", "machinekeys"),
    ("temp",),
    ("tmp",),
)
# Folders any user may create subfolders in: refused as the directory itself, allowed below (an installer gives its
# own subfolder an ACL of its own; the planner cannot see ACLs, so it refuses only what is writable by definition).
_SHARED_ROOTS = (("programdata",),)
# Junctions Windows keeps for old paths, resolved before the comparisons above.
_JUNCTIONS = ((("documents and settings",), ("users",)), (("users", "all users"), ("programdata",)))


def check_install_dir(value: Any, where: str, relatives: Iterable[str] | None = None) -> str:
    """An absolute drive path such as ``D:\\Igor`` (trailing backslash removed), or an error naming ``where``.

    ``relatives`` are the paths built below it (default: the catalog's exclusion paths); the longest of them must
    stay within MAX_PATH.
    """
    rule = r"an absolute Windows path below a drive, like C:\Igor, without wildcards"
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"{where}: {value!r} is not {rule}")
    _check_characters(value, where, rule)
    match = _DRIVE_PATH.fullmatch(value)
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
    for part in parts:
        _check_component(part, value, where)
    path = f"{value[:2]}\\{rest}"
    _check_length(path, value, where, relatives)
    _check_not_world_writable(parts, value, where)
    return path


def join(install_dir: str, relative: str) -> str:
    return f"{install_dir}\\{relative}"


def _check_characters(value: str, where: str, rule: str) -> None:
    for char in value:
        if unicodedata.category(char) == "Cc":
            raise QueryError(
                f"{where}: {value!r} contains a control character ({char!r}, U+{ord(char):04X}); a Windows path "
                f"cannot hold one (a pasted line break or tab?): expected {rule}"
            )
    if value != value.strip():
        raise QueryError(
            f"{where}: {value!r} starts or ends with a space; Windows drops trailing spaces, so the path would name "
            f"another folder: write {value.strip()!r}"
        )


def _check_component(part: str, value: str, where: str) -> None:
    if part[-1] in ". ":
        end = "a dot" if part[-1] == "." else "a space"
        raise QueryError(
            f"{where}: {value!r} has the component {part!r} ending in {end}; Windows drops trailing dots and spaces, "
            f"so the path would name another folder: write {part.rstrip('. ')!r}"
        )
    stem = part.split(".", 1)[0].rstrip(" ").upper()
    if stem in _DEVICE_NAMES:
        raise QueryError(
            f"{where}: {value!r} has the component {part!r}, a reserved device name ({stem}); Windows opens the "
            "device instead of a folder (CON, PRN, AUX, NUL, COM0-9, LPT0-9 are reserved with any extension): "
            "choose another name"
        )
    if _SHORT_NAME.fullmatch(part):
        raise QueryError(
            f"{where}: {value!r} has the component {part!r}, which looks like an 8.3 short name; Windows resolves it "
            "to a long name the rules and exclusions would not match: write the folder's long name"
        )


def _check_length(path: str, value: str, where: str, relatives: Iterable[str] | None) -> None:
    below = list(relatives) if relatives is not None else _catalog_relatives()
    longest = max(below, key=len, default="")
    built = join(path, longest) if longest else path
    if len(built) > _PATH_CHARS:
        limit = _PATH_CHARS - (len(longest) + 1 if longest else 0)
        raise QueryError(
            f"{where}: {value!r} is too long ({len(path)} characters): the longest path built from it, "
            f"{built!r}, has {len(built)} characters and Windows' MAX_PATH allows {_PATH_CHARS}; use a directory of "
            f"at most {limit} characters"
        )


def _catalog_relatives() -> list[str]:
    # The exclusion paths are the vendor catalog's; overlays cannot add any.
    return [exclusion.relative for exclusion in load_catalog().exclusions]


def _check_not_world_writable(parts: Sequence[str], value: str, where: str) -> None:
    folded = _resolve_junctions(tuple(part.casefold() for part in parts))
    temp = len(folded) >= 5 and folded[0] == "users" and folded[2:5] == ("appdata", "local", "temp")
    writable = [prefix for prefix in _WORLD_WRITABLE if folded[: len(prefix)] == prefix]
    if writable or temp:
        place = "a user's temporary folder" if temp else "\\".join(writable[0])
        raise QueryError(
            f"{where}: {value!r} is in {place}, where any local user can create files; Defender exclusions there "
            "would exempt whatever they drop: install to a folder only administrators can write to"
        )
    if folded in _SHARED_ROOTS:
        raise QueryError(
            f"{where}: {value!r} is a shared folder any local user can create files in; excluding it from Defender "
            "would exempt every program's data: use the gateway's own subfolder"
        )


def _resolve_junctions(folded: tuple[str, ...]) -> tuple[str, ...]:
    for old, new in _JUNCTIONS:
        if folded[: len(old)] == old:
            folded = new + folded[len(old) :]
    return folded


# ---- remote-address scopes -----------------------------------------------------------------------------------

ANY = "any"
# The tokens INetFwRule.RemoteAddresses accepts besides addresses, in the spelling Windows shows.
ADDRESS_KEYWORDS = ("LocalSubnet", "DNS", "DHCP", "WINS", "DefaultGateway")
_ANY_SPELLINGS = ("any", "*")
_Span = tuple[int, int, int]  # IP version, first and last address as integers


def check_remote_scope(value: Any, where: str) -> tuple[str, ...]:
    """Remote addresses in the form win_firewall_rule's remoteip takes; ``any`` only when written alone.

    Entries that together cover every IPv4 or every IPv6 address (0.0.0.0/0, ::/0, 0.0.0.0-255.255.255.255, two
    halves) are Any in disguise and refused like Any mixed with other entries: Any must be explicit.
    """
    items = _scope_items(value, where)
    scope = tuple(dict.fromkeys(check_remote_address(item, f"{where}[{index}]") for index, item in enumerate(items)))
    if ANY in scope and len(scope) > 1:
        raise QueryError(
            f"{where}: {list(items)!r} mixes Any with other addresses; Any admits every address, so write it alone"
        )
    _check_not_any_in_disguise(scope, items, where)
    return scope


def check_remote_address(value: Any, where: str) -> str:
    """One remote-address token: an address, a CIDR (prefix or mask), a range ``a-b``, a keyword, or Any."""
    rule = f"is not an IPv4/IPv6 address, CIDR, range or Windows keyword ({', '.join(ADDRESS_KEYWORDS)}, or Any alone)"
    text = value.strip() if isinstance(value, str) else ""
    if text.lower() in _ANY_SPELLINGS:
        return ANY
    for keyword in ADDRESS_KEYWORDS:
        if text.lower() == keyword.lower():
            return keyword
    if "-" not in text:
        check_no_scope_id(text, where)  # Python accepts fe80::1%eth0; a firewall rule has no zone index
    try:
        if "-" in text:
            return _address_range(text, where)
        if "/" in text:
            return _network(text, where)
        return str(_address(text, text, where))
    except QueryError:
        raise
    except ValueError:
        raise QueryError(f"{where}: {value!r} {rule}") from None


def _scope_items(value: Any, where: str) -> list[Any]:
    """A list as given, or a comma-separated string split the way argument_specs reads ``type: list``."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise QueryError(f"{where}: {value!r} is not a list")
    if not items:
        raise QueryError(
            f"{where}: the list is empty; give at least one entry: an address, CIDR, range or keyword "
            "(LocalSubnet keeps traffic on the local subnet)"
        )
    return items


def _address(text: str, written: str, where: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    check_no_scope_id(text, where, written)  # one end of a range
    address = ipaddress.ip_address(text)  # ValueError: not an address; the caller names the Windows forms
    check_not_mapped(ipaddress.ip_network(address), written, where)
    return address


def _network(text: str, where: str) -> str:
    ipaddress.ip_network(text, strict=False)  # ValueError: not a CIDR at all; the caller names the Windows forms
    return str(parse_network(text, where))


def _address_range(text: str, where: str) -> str:
    start, end = (_address(part.strip(), text, where) for part in text.split("-", 1))
    if start.version != end.version:
        raise QueryError(f"{where}: {text!r} mixes IPv{start.version} and IPv{end.version} in one range")
    if start > end:
        raise QueryError(f"{where}: {text!r} starts after it ends")
    return f"{start}-{end}"


def _check_not_any_in_disguise(scope: Sequence[str], items: Sequence[Any], where: str) -> None:
    """Refuse a scope whose addresses cover a whole family: every IPv4 or every IPv6 address is Any."""
    spans = [span for token in scope for span in _spans(token)]
    covered = [
        f"every IPv{version} address"
        for version, bits in ((4, 32), (6, 128))
        if merge([(first, last) for v, first, last in spans if v == version]) == [(0, 2**bits - 1)]
    ]
    if covered:
        raise QueryError(
            f"{where}: {list(items)!r} covers {' and '.join(covered)}: that is Any in disguise, and Any must be "
            "explicit: write Any alone if every address may connect, otherwise list only the networks that should"
        )


def _spans(token: str) -> list[_Span]:
    if token == ANY or token in ADDRESS_KEYWORDS:
        return []
    if "-" in token:
        first, last = (ipaddress.ip_address(part) for part in token.split("-", 1))
        return [(first.version, int(first), int(last))]
    network = ipaddress.ip_network(token)
    return [(network.version, int(network.network_address), int(network.broadcast_address))]
