"""The lab report: per router and conduit, which flows were probed and whether each was as expected.

Flows are grouped by what decides them: a conduit (into the segment), an outbound entry (out of it), no rule at all
(a zone the segment admits nothing from), the guarding host itself, and traffic between zones that the segment's
firewall does not handle. Admitted flows are listed one by one; the flows a group drops are counted, and among them
apart the ones a narrowed service leaves out (least privilege): a port the group admits on one protocol only, from a
service whose protocol the vendor's document does not state (basis ``assumed``: the catalog records it for tcp and
udp, so the other protocol is dropped only because the entry was narrowed). Every flow that was not as expected is
listed in full, marked with a cross.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .topology import span

OK, BAD = "✓", "✗"
MAX_LISTED = 20
REPORT_JSON = "probes.json"


def member(address: str, networks: Iterable[str]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def _covers(flow: dict[str, Any], protocol: str, port: int) -> bool:
    if flow["protocol"] != protocol:
        return False
    first, last = span(flow)
    return first <= port <= last


def _service(flows: list[dict[str, Any]], protocol: str, port: int) -> str:
    names = [f["service"] for f in flows if _covers(f, protocol, port)]
    return ", ".join(dict.fromkeys(names)) or "-"


def _ports(rows: list[dict[str, Any]]) -> str:
    by_proto: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_proto[row["protocol"]].append(int(row["port"]))
    parts = []
    for proto, ports in sorted(by_proto.items()):
        unique = sorted(set(ports))
        shown = ", ".join(map(str, unique[:12])) + (f", ... ({len(unique)} ports)" if len(unique) > 12 else "")
        parts.append(f"{proto} {shown}")
    return "; ".join(parts)


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.flows = 0
        self.failed = 0
        self.narrowed: dict[str, int] = {"udp": 0, "tcp": 0}  # flows a narrowed service leaves out, by protocol
        self.narrowed_dropped: dict[str, int] = {"udp": 0, "tcp": 0}  # ... of which observed dropped

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def count(self, rows: list[dict[str, Any]]) -> None:
        self.flows += len(rows)
        self.failed += sum(1 for row in rows if not row.get("ok"))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _who(hosts: Any, names: Iterable[str]) -> str:
    """ "SCADA servers (lab host 10.20.1.11)", zones in order, addresses sorted."""
    by_label: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_label[hosts[name].label].add(hosts[name].address)
    if not by_label:
        return "no lab host"
    return "; ".join(
        f"{label} (lab host{'s' if len(ips) > 1 else ''} {', '.join(sorted(ips, key=ipaddress.ip_address))})"
        for label, ips in by_label.items()
    )


def _group_block(report: Report, title: str, rows: list[dict[str, Any]], flows: list[dict[str, Any]] | None) -> None:
    """One group: admitted flows one by one (service, port, expected, observed, how many), the rest counted."""
    report.count(rows)
    good = all(row.get("ok") for row in rows)
    report.add(f"  {OK if good else BAD} {title}")
    if not rows:
        report.add("      (no lab host to probe from)")
        return
    admitted: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
    denied: list[dict[str, Any]] = []
    for row in rows:
        if row["expect"] == "dropped":
            denied.append(row)
        else:
            admitted[(row["protocol"], int(row["port"]), row["expect"])].append(row)
    for (protocol, port, expect), items in sorted(admitted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        observed = sorted({row["result"] for row in items})
        mark = OK if all(row.get("ok") for row in items) else BAD
        service = _service(flows or [], protocol, port)
        pairs = len({(row["src"], row["dst"]) for row in items})
        report.add(
            f"      {mark} {service:<22} {f'{port}/{protocol}':<12} expected {expect:<8} "
            f"observed {'/'.join(observed):<8} ({pairs} host pair{'s' if pairs != 1 else ''})"
        )
    narrowed = [row for row in denied if _narrowed_away(flows or [], row)]
    if narrowed:
        _narrowed_line(report, narrowed)
        denied = [row for row in denied if not _narrowed_away(flows or [], row)]
    if denied:
        dropped = sum(1 for row in denied if row["result"] == "dropped")
        mark = OK if dropped == len(denied) else BAD
        verdict = "as expected" if dropped == len(denied) else "the rest NOT dropped"
        report.add(
            f"      {mark} every other port: {dropped}/{len(denied)} flows dropped, {verdict}  [{_ports(denied)}]"
        )
    _misses(report, rows)


def _narrowed_away(flows: list[dict[str, Any]], row: dict[str, Any]) -> bool:
    """A denied flow on a port the group admits only on the other protocol, from a service whose protocol is assumed
    (recorded for both): the entry was narrowed to one protocol, and this is the one it left out."""
    port, protocol = int(row["port"]), row["protocol"]
    other = "udp" if protocol == "tcp" else "tcp"
    kept = any(f.get("basis") == "assumed" and _covers(f, other, port) for f in flows)
    return kept and not any(_covers(f, protocol, port) for f in flows)


def _narrowed_line(report: Report, rows: list[dict[str, Any]]) -> None:
    for protocol in report.narrowed:
        mine = [row for row in rows if row["protocol"] == protocol]
        report.narrowed[protocol] += len(mine)
        report.narrowed_dropped[protocol] += sum(1 for row in mine if row["result"] == "dropped")
    dropped = sum(1 for row in rows if row["result"] == "dropped")
    mark = OK if dropped == len(rows) else BAD
    verdict = "as expected" if dropped == len(rows) else "the rest NOT dropped"
    report.add(
        f"      {mark} narrowed away (assumed protocol not admitted): {dropped}/{len(rows)} flows dropped, {verdict}  "
        f"[{_ports(rows)}]"
    )


def _misses(report: Report, rows: list[dict[str, Any]]) -> None:
    """Every flow that was not as expected, the first MAX_LISTED of a group in full."""
    misses = [row for row in rows if not row.get("ok")]
    for row in misses[:MAX_LISTED]:
        report.add(
            f"        {BAD} {row['src']} -> {row['dst']} ({row['address']}) {row['port']}/{row['protocol']}: "
            f"expected {row['expect']}, observed {row['result']} ({row['detail']})"
        )
    if len(misses) > MAX_LISTED:
        report.add(f"        {BAD} ... and {len(misses) - MAX_LISTED} more (all in {REPORT_JSON})")


def router_section(report: Report, lab_router: Any, rows: list[dict[str, Any]]) -> None:
    """Every probed flow of one router, by the rule that decides it."""
    segment = lab_router.segment
    hosts = lab_router.hosts
    controllers = [h.name for h in hosts.values() if h.role == "controller"]
    zone_hosts = {h.name: h for h in hosts.values() if h.role == "zone"}
    segment_label = hosts[controllers[0]].label if controllers else "no controllers"
    report.add(
        f"{lab_router.name}: guards {segment_label} {', '.join(hosts[c].address for c in controllers)} "
        "(the opto22_segment role's nftables table)"
    )
    inbound = [r for r in rows if r["src"] in zone_hosts and r["dst"] in controllers]
    outbound = [r for r in rows if r["src"] in controllers and r["dst"] in zone_hosts]
    to_router = [r for r in rows if r["dst"] not in hosts]
    between = [r for r in rows if r["src"] in zone_hosts and r["dst"] in zone_hosts]
    used: set[int] = set()
    for conduit in segment["conduits"]:
        mine = [r for r in inbound if member(zone_hosts[r["src"]].address, conduit["sources"])]
        used |= {id(r) for r in mine}
        sources = _who(hosts, dict.fromkeys(r["src"] for r in mine))
        what = "admits nothing" if not conduit["flows"] else f"{', '.join(conduit['services'] or ['chart logic'])}"
        _group_block(
            report, f"conduit {conduit['name']} ({what}) - from {sources} to the controllers", mine, conduit["flows"]
        )
    rest = [r for r in inbound if id(r) not in used]
    by_zone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rest:
        by_zone[zone_hosts[row["src"]].label].append(row)
    for items in by_zone.values():
        who = _who(hosts, dict.fromkeys(r["src"] for r in items))
        _group_block(report, f"no conduit - from {who} to the controllers", items, [])
    used = set()
    for entry in segment["outbound"]:
        mine = [r for r in outbound if member(zone_hosts[r["dst"]].address, entry["destinations"])]
        used |= {id(r) for r in mine}
        targets = _who(hosts, dict.fromkeys(r["dst"] for r in mine))
        _group_block(report, f"outbound {entry['name']} - from the controllers to {targets}", mine, entry["flows"])
    rest = [r for r in outbound if id(r) not in used]
    if rest:
        _group_block(report, "no outbound entry - from the controllers to every other zone host", rest, [])
    port = segment["management"]["port"]
    management = [{"service": "management ssh", "protocol": "tcp", "start": port, "end": port}]
    _group_block(
        report, f"{lab_router.name} itself - its address on each leg, from every lab host", to_router, management
    )
    if between:
        report.count(between)
        good = all(r.get("ok") for r in between)
        report.add(
            f"  {OK if good else BAD} between zones (not the segment's traffic, left to other tables): "
            f"{len(between)} flows, {sum(1 for r in between if r.get('ok'))} as expected (open or refused)"
        )
        _misses(report, between)
    for note in lab_router.skipped:
        report.add(f"  - not in the lab: {note}")
    report.add()


def summary(report: Report) -> str:
    verdict = "every flow as expected" if report.failed == 0 else f"{report.failed} NOT as expected"
    narrowed = ", ".join(
        f"{report.narrowed_dropped[protocol]}/{count} {protocol}"
        for protocol, count in report.narrowed.items()
        if count
    )
    extra = f" (narrowed away and dropped: {narrowed})" if narrowed else ""
    return f"{report.flows} flows probed with real packets{extra}: {verdict}."
