"""IP addresses and networks as site inventories write them: the one home of the address rules.

Two forms Python's ``ipaddress`` accepts are refused everywhere, because a firewall rule built from them would not
mean what the site wrote:

- IPv4-mapped IPv6 (``::ffff:10.10.1.11``, ``::ffff:10.10.1.0/120``): an IPv4 address written as IPv6. It lands in
  the IPv6 set, so IPv4 packets to or from that host are not filtered by it; the message gives the IPv4 form.
- IPv6 scope ids (``fe80::1%eth0``): a zone index names an interface of one host, not part of an address a firewall
  matches; the message gives the address without it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ._errors import QueryError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_MAPPED_BITS = MAPPED.max_prefixlen - 32


def parse_network(value: Any, where: str) -> Network:
    """An IPv4/IPv6 address or CIDR with host bits clear; otherwise an error naming ``where``, the value and the fix."""
    if not isinstance(value, str):
        raise QueryError(f"{where}: {value!r} is not an IPv4/IPv6 address or CIDR")
    check_no_scope_id(value, where)
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        network = None
    if network is not None:
        check_not_mapped(network, value, where)
        return network
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise QueryError(
            f"{where}: {value!r} is not an IPv4/IPv6 address or CIDR (like 10.20.1.0/24 or 2001:db8::/64)"
        ) from None
    check_not_mapped(loose, value, where)
    host = value.split("/")[0]
    raise QueryError(
        f"{where}: {value!r} has host bits set; a CIDR names a network: write {str(loose)!r}, "
        f"or {host}/{loose.max_prefixlen} for the one host"
    )


def check_no_scope_id(text: str, where: str, written: str | None = None) -> None:
    """Refuse an IPv6 scope id (``fe80::1%eth0``) before ``ipaddress`` accepts and carries it.

    ``written`` is the whole value as given when ``text`` is one part of it (one end of a range).
    """
    if "%" in text:
        address, _, zone = text.partition("%")
        zone = zone.split("/")[0]
        prefix = text[len(address) + 1 + len(zone) :]
        raise QueryError(
            f"{where}: {written or text!r} carries the IPv6 scope id '%{zone}'; a zone index names an interface of "
            f"one host and is not part of a firewall rule: write the address without it, "
            f"{address.strip() + prefix!r}"
        )


def check_not_mapped(network: Network, value: Any, where: str) -> None:
    """Refuse an IPv4-mapped IPv6 address or network (inside ::ffff:0:0/96), naming the IPv4 form to write."""
    if network.version != 6 or network.prefixlen < MAPPED.prefixlen or not network.subnet_of(MAPPED):
        return
    ipv4 = network.network_address.ipv4_mapped
    prefix = network.prefixlen - _MAPPED_BITS
    written = str(ipv4) if prefix == 32 else f"{ipv4}/{prefix}"
    raise QueryError(
        f"{where}: {value!r} is an IPv4 address written as IPv6 (IPv4-mapped, ::ffff:0:0/96); the rule would sit "
        f"in the IPv6 set and IPv4 packets would not be filtered by it: write {written}"
    )
