"""The opto22_segment plan (``_opto22_segment_plan.plan_segment``) as one nft file.

The file replaces the role's table atomically and touches nothing else:

    table inet otnet_opto22          # create it if missing, so the delete below cannot fail
    delete table inet otnet_opto22   # drop the old version ...
    table inet otnet_opto22 { ... }  # ... and define the new one, all in one transaction

Layout of the table (sets keep the rule count constant however many conduits a site has):

* sets ``controllers_v4/6`` (the protected zone) and ``management_v4/6`` (stations allowed to SSH to this host);
* sets ``conduits_v4/6`` (``source . protocol . port``) and ``outbound_v4/6`` (``destination . protocol . port``),
  one element per admitted piece, each with a counter and a comment naming the conduit and service;
* chain ``input`` (hook input, policy drop): loopback, established/related, management SSH, the ICMP a host needs;
* chain ``forward`` (hook forward, policy accept): sends traffic to or from the controllers to ``to_segment`` /
  ``from_segment``; other forwarded traffic is left to the other tables;
* chains ``to_segment`` / ``from_segment``: established/related, then the conduit or outbound set, then log
  (rate-limited) and drop.

Time-limited conduits (``expires``): the pieces admitted only until an instant T live in their own sets
``conduits_v4/6_until_T`` (T in seconds since the epoch, UTC), never in the unconditional ``conduits_v4/6``. In
``to_segment`` a rule ``meta time >= T ... @conduits_v4_until_T drop`` comes before established/related (from T on,
the conduit's connections are cut too, not only new ones), and ``meta time < T ... accept`` after the main set.
nft compares ``meta time`` with the kernel's realtime clock; T is written as an integer, the one form nft does not
read in the local time zone (a ``"YYYY-MM-DD HH:MM:SS"`` string would be). The host enforces it with no Ansible
run, and a reload at boot keeps the same absolute instant (a set element ``timeout`` would restart at each load).

The table comment carries ``rev`` (a hash of the file), so the live table tells which file it was loaded from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ._portrange import range_text

ROLE = "otnet.ports.opto22_segment"
LOG_PREFIX = "otnet-opto22 drop"
LOG_PREFIXES = {
    "input": f"{LOG_PREFIX} host: ",
    "to_segment": f"{LOG_PREFIX} fwd-in: ",
    "from_segment": f"{LOG_PREFIX} fwd-out: ",
}
REV_LENGTH = 16
_REV_MARK = "@REV@"
FAMILIES = {"v4": ("ip", "ipv4_addr", "icmp"), "v6": ("ip6", "ipv6_addr", "icmpv6")}
ICMPV6_NEIGHBOUR = "nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert"
ICMPV6_MLD = "mld-listener-query, mld-listener-report, mld2-listener-report"


class Rendered(NamedTuple):
    text: str
    rev: str


def render_nft(plan: Mapping[str, Any]) -> Rendered:
    """The nft file for ``plan``, and its ``rev``, which the file's table comment carries."""
    draft = "\n".join([*_header(plan), *_table(plan)]) + "\n"
    rev = revision(draft)
    return Rendered(draft.replace(_REV_MARK, rev), rev)


def revision(draft: str) -> str:
    return hashlib.sha256(draft.encode("utf-8")).hexdigest()[:REV_LENGTH]


def rev_comment(rev: str) -> str:
    """The table comment a live table carries when it was loaded from the file of revision ``rev``."""
    return f"{ROLE} rev {rev}"


def _header(plan: Mapping[str, Any]) -> list[str]:
    management = plan["management"]
    lines = [
        "#!/usr/sbin/nft -f",
        f"# {ROLE}: nftables policy of an Opto 22 controller segment (IEC 62443 zones and conduits).",
        "# Written by Ansible; do not edit: the role overwrites this file and reloads the table from it.",
        f"# Loading it replaces table inet {plan['table']} in one transaction and touches no other table.",
        "#",
        f"# Controllers (the protected zone): {_addresses(plan['controllers'])}",
        "# Default deny to and from the controllers; allowed by exception:",
    ]
    for kind, arrow, peers in (("conduits", "into the segment from", "sources"), ("outbound", "to", "destinations")):
        for item in plan[kind]:
            until = f" (expires {item['expires']})" if item.get("expires") else ""
            what = kind[:-1] if kind == "conduits" else kind
            lines.append(f"#   {what} {item['name']}: {arrow} {', '.join(item[peers])}{until}")
            lines.append(f"#     {_flows_text(item['flows']) or 'nothing (no services, no ports)'}")
    lines.append(
        f"# This host: SSH port {management['port']} from {_addresses(management['sources'])}; "
        "loopback, replies and neighbour discovery."
    )
    if plan["log"]["drops"]:
        lines.append(f'# Drops are logged at most {plan["log"]["rate"]} per chain, prefix "{LOG_PREFIX} ...: ".')
    return [*lines, ""]


def _addresses(by_family: Mapping[str, Sequence[str]]) -> str:
    return ", ".join([*by_family["ipv4"], *by_family["ipv6"]]) or "none"


def _flows_text(flows: Sequence[Mapping[str, Any]]) -> str:
    by_service: dict[str, list[str]] = {}
    for flow in flows:
        assumed = " assumed" if flow["basis"] == "assumed" else ""
        ports = range_text(flow["start"], flow["end"])
        by_service.setdefault(flow["service"], []).append(f"{ports}/{flow['protocol']}{assumed}")
    return "; ".join(f"{service} {', '.join(ports)}" for service, ports in by_service.items())


def _table(plan: Mapping[str, Any]) -> list[str]:
    table = f"inet {plan['table']}"
    body = [f'\tcomment "{rev_comment(_REV_MARK)}"']
    for family, (_, addr_type, _) in FAMILIES.items():
        body += _set(f"controllers_{family}", addr_type, plan["controllers"][f"ip{family}"])
    for family, (_, addr_type, _) in FAMILIES.items():
        body += _set(f"management_{family}", addr_type, plan["management"]["sources"][f"ip{family}"])
    for kind in ("conduits", "outbound"):
        for family, (_, addr_type, _) in FAMILIES.items():
            elements = plan["elements"][f"{kind}_{family}"]
            body += _set(
                f"{kind}_{family}",
                f"{addr_type} . inet_proto . inet_service",
                [f'{e["key"]} comment "{e["comment"]}"' for e in elements],
                counter=True,
            )
    for group in plan.get("expiring", []):
        for family, (_, addr_type, _) in FAMILIES.items():
            body += _set(
                _until_set(family, group),
                f"{addr_type} . inet_proto . inet_service",
                [f'{e["key"]} comment "{e["comment"]}"' for e in group["elements"][f"conduits_{family}"]],
                counter=True,
            )
    body += _input_chain(plan)
    body += _forward_chains(plan)
    return [f"table {table}", f"delete table {table}", f"table {table} {{", *body, "}"]


def _set(name: str, key_type: str, elements: Sequence[str], counter: bool = False) -> list[str]:
    lines = ["", f"\tset {name} {{", f"\t\ttype {key_type}", "\t\tflags interval"]
    if counter:
        lines.append("\t\tcounter")
    if elements:
        lines.append("\t\telements = {\n\t\t\t" + ",\n\t\t\t".join(elements) + "\n\t\t}")
    return [*lines, "\t}"]


def _drop(plan: Mapping[str, Any], chain: str, reason: str) -> list[str]:
    log = plan["log"]
    lines = [f'\t\tlimit rate {log["rate"]} log prefix "{LOG_PREFIXES[chain]}"'] if log["drops"] else []
    return [*lines, f'\t\tcounter drop comment "{reason}"']


def _input_chain(plan: Mapping[str, Any]) -> list[str]:
    port = plan["management"]["port"]
    lines = [
        "",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        '\t\tiif "lo" accept',
        "\t\tct state established,related accept",
        '\t\tct state invalid counter drop comment "invalid packets"',
    ]
    for family, (match, _, icmp) in FAMILIES.items():
        lines.append(f'\t\t{match} saddr @management_{family} tcp dport {port} counter accept comment "management SSH"')
        lines.append(
            f'\t\t{match} saddr @management_{family} {icmp} type echo-request accept comment "ping from management"'
        )
    lines += [
        f'\t\ticmpv6 type {{ {ICMPV6_NEIGHBOUR} }} ip6 hoplimit 255 accept comment "IPv6 neighbour discovery"',
        f'\t\tip6 saddr fe80::/10 icmpv6 type {{ {ICMPV6_MLD} }} accept comment "IPv6 multicast listeners"',
        *_drop(plan, "input", "not management: dropped at this host"),
        "\t}",
    ]
    return lines


def _forward_chains(plan: Mapping[str, Any]) -> list[str]:
    lines = ["", "\tchain forward {", "\t\ttype filter hook forward priority filter; policy accept;"]
    for direction, chain in (("daddr", "to_segment"), ("saddr", "from_segment")):
        for family, (match, _, _) in FAMILIES.items():
            lines.append(f"\t\t{match} {direction} @controllers_{family} jump {chain}")
    lines.append("\t}")
    for chain, peer, kind, reason in (
        ("to_segment", "saddr", "conduits", "no conduit admits this flow"),
        ("from_segment", "daddr", "outbound", "no outbound flow admits this"),
    ):
        expiring = plan.get("expiring", []) if kind == "conduits" else []
        lines += ["", f"\tchain {chain} {{", *_expired_drops(expiring), "\t\tct state established,related accept"]
        lines.append('\t\tct state invalid counter drop comment "invalid packets"')
        for family, (match, _, _) in FAMILIES.items():
            lines.append(f"\t\t{match} {peer} . meta l4proto . th dport @{kind}_{family} accept")
        lines += [*_until_accepts(expiring), *_drop(plan, chain, reason), "\t}"]
    return lines


def _until_set(family: str, group: Mapping[str, Any]) -> str:
    return f"conduits_{family}_until_{group['epoch']}"


def _expired_drops(expiring: Sequence[Mapping[str, Any]]) -> list[str]:
    """From each instant on, its conduits' packets are dropped, established connections included (the original
    direction only: a reply to a controller's own outbound flow never matches by accident)."""
    return [
        f"\t\tct direction original meta time >= {group['epoch']} {match} saddr . meta l4proto . th dport "
        f'@{_until_set(family, group)} counter drop comment "conduit expired at {group["expires"]}"'
        for group in expiring
        for family, (match, _, _) in FAMILIES.items()
    ]


def _until_accepts(expiring: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"\t\tmeta time < {group['epoch']} {match} saddr . meta l4proto . th dport @{_until_set(family, group)} "
        f'accept comment "conduit until {group["expires"]}"'
        for group in expiring
        for family, (match, _, _) in FAMILIES.items()
    ]
