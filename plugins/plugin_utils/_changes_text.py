"""The site's change summary as text: one line per added (``+``) or removed (``-``) flow, rule or exclusion.

``change_lines(reports, hosts)``: ``reports`` maps a host name to its variables (``hostvars``); a host's changes
are its ``opto22_segment_changes`` and ``igor_gateway_changes`` facts (``{added, removed}``, the roles set them in
check mode too). For each host in ``hosts`` order::

    fw-line1: + scada -> 10.10.1.11 tcp/502 (modbus_tcp) from 10.20.1.0/24
    fw-line1: - 10.10.1.11 -> traps udp/162 (snmp_traps) to 10.20.3.10
    fw-line1: + management -> 192.0.2.10 tcp/22 from 10.254.1.0/29
    igor-gw1: + OTNet Igor Gateway ... -> igor-gw1 tcp/8080 (igor_http) from 10.30.0.0/24
    igor-gw1: + Defender exclusion (path) C:\\Program Files\\Igor
    fw-line2: no change
    hmi-9: no change report (the roles did not run on it)

A conduit flow names the conduit for its sources and lists the addresses it opens to (the controllers) - the
sources follow after ``from``; an outbound flow names the controllers and the outbound entry, its destinations
follow after ``to``. ``changes_markdown(lines, title)`` is the same as a Markdown page (``changes.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import QueryError
from ._portrange import range_text

FACTS = ("opto22_segment_changes", "igor_gateway_changes")
SIGNS = {"added": "+", "removed": "-"}
NO_CHANGE = "no change"
NOT_RUN = "no change report (the roles did not run on it)"


def change_lines(reports: Mapping[str, Any], hosts: Sequence[str]) -> list[str]:
    """One line per change of each host, or one line saying there is none (module docstring)."""
    if isinstance(hosts, str) or not isinstance(hosts, Sequence):
        raise QueryError(f"hosts: {hosts!r} is not a list of inventory host names")
    lines: list[str] = []
    for host in hosts:
        variables = reports.get(host) or {}
        found = [variables[fact] for fact in FACTS if variables.get(fact) is not None]
        if not found:
            lines.append(f"{host}: {NOT_RUN}")
            continue
        own = [f"{host}: {line}" for changes in found for line in host_change_lines(changes, host)]
        lines += own or [f"{host}: {NO_CHANGE}"]
    return lines


def host_change_lines(changes: Any, host: str) -> list[str]:
    """The lines of one role's ``{added, removed}``, without the host name: removals first, as a run makes them."""
    if not isinstance(changes, Mapping):
        raise QueryError(f"{host}: the change report {changes!r} is not a mapping {{added, removed}}")
    lines = []
    for key in ("removed", "added"):
        items = changes.get(key) or []
        if not isinstance(items, list):
            raise QueryError(f"{host}: the change report's {key!r} is {items!r}, not a list")
        lines += [f"{SIGNS[key]} {item_text(item, host)}" for item in items]
    return lines


def item_text(item: Any, host: str) -> str:
    """A flow (opto22_segment), a rule or an exclusion (igor_gateway) as one line."""
    if not isinstance(item, Mapping):
        raise QueryError(f"{host}: the change {item!r} is not a mapping")
    if item.get("kind") in ("path", "process"):
        return f"Defender exclusion ({item['kind']}) {item.get('path')}"
    if item.get("kind") == "rule":
        return _rule_text(item, host)
    return _flow_text(item)


def _flow_text(flow: Mapping[str, Any]) -> str:
    ports = f"{flow.get('protocol')}/{_ports(flow)}{_service(flow)}"
    sources, destinations = _addresses(flow.get("sources")), _addresses(flow.get("destinations"))
    if flow.get("direction") == "out":
        return f"{sources} -> {flow.get('conduit')} {ports} to {destinations}"
    return f"{flow.get('conduit')} -> {destinations} {ports} from {sources}"


def _rule_text(rule: Mapping[str, Any], host: str) -> str:
    ports = f"{rule.get('protocol')}/{rule.get('ports') or _ports(rule)}{_service(rule)}"
    remote = _addresses(rule.get("remote")) if rule.get("remote") else "any"
    if rule.get("direction") == "out":
        return f"{host} -> {rule.get('name')} {ports} to {remote}"
    return f"{rule.get('name')} -> {host} {ports} from {remote}"


def _ports(item: Mapping[str, Any]) -> str:
    start, end = item.get("start"), item.get("end")
    if isinstance(start, int) and isinstance(end, int):
        return range_text(start, end)
    return "?"


def _service(item: Mapping[str, Any]) -> str:
    return f" ({item['service']})" if item.get("service") else ""


def _addresses(values: Any) -> str:
    if not values:
        return "this host"
    return ", ".join(str(value) for value in values) if isinstance(values, list) else str(values)


def changes_markdown(lines: Sequence[str], title: str = "Changes") -> str:
    """The lines as a Markdown page: a title, then one section per host with its lines as a list."""
    page = [f"# {title}", ""]
    current = None
    for line in lines:
        host, _, text = line.partition(": ")
        if host != current:
            page += ([""] if current is not None else []) + [f"## {host}", ""]
            current = host
        page.append(f"- `` {text} ``" if "`" in text else f"- `{text}`")
    return "\n".join(page) + "\n"
