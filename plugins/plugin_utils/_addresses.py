"""IP addresses and networks as site inventories write them."""

from __future__ import annotations

import ipaddress
from typing import Any

from ._errors import QueryError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(value: Any, where: str) -> Network:
    """An IPv4/IPv6 address or CIDR with host bits clear; otherwise an error naming ``where``, the value and the fix."""
    if not isinstance(value, str):
        raise QueryError(f"{where}: {value!r} is not an IPv4/IPv6 address or CIDR")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise QueryError(
            f"{where}: {value!r} is not an IPv4/IPv6 address or CIDR (like 10.20.1.0/24 or 2001:db8::/64)"
        ) from None
    host = value.split("/")[0]
    raise QueryError(
        f"{where}: {value!r} has host bits set; a CIDR names a network: write {str(loose)!r}, "
        f"or {host}/{loose.max_prefixlen} for the one host"
    )
