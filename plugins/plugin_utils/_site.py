"""The site layer: an inventory's groups and host variables -> the preflight verdicts and the site model.

The playbooks (otnet.ports.preflight, otnet.ports.diagram) only orchestrate: they run each role's own ``plan``
entry point, hand what they got to the filters ``site_preflight`` and ``site_model``, and report or draw the result.
Every decision is made here:

* rollout settings   otnet_ports_site_serial / _max_fail_percentage / _igor_plan_only, and the inventory's groups
* a host             the planners' problems, otnet_ports_chart_ports (chart-logic ports), the site services a
                     conduit admits into a segment (chart-logic ports too), the site's ports against the vendors'
                     (otnet_ports_overlay, otnet_ports_accepted_overlaps), and with otnet_ports_assumed_protocols
                     explicit every conduit or outbound service whose protocol the vendor does not state, left bare
* the site model     zones, segments, gateways and the graph the diagram templates draw; an endpoint sits in the
                     smallest zone network that holds it (IPv4 and IPv6 alike)

Every problem of a host is collected (never only the first), each naming the variable, the value and the rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ._addresses import Network, parse_network
from ._catalog import Catalog, overlay_records
from ._chart_logic import allowed_ranges, check_chart_port
from ._errors import PortsError, QueryError
from ._opto22_segment_plan import service_entry
from ._portrange import PROTOCOLS, parse_item, range_text
from ._queries import port_conflicts
from ._windows import ADDRESS_KEYWORDS, ANY

SEGMENTS = "opto22_segments"
GATEWAYS = "igor_gateways"
SERIAL = "otnet_ports_site_serial"
MAX_FAIL = "otnet_ports_site_max_fail_percentage"
PLAN_ONLY = "otnet_ports_site_igor_plan_only"
ROLLOUT_DEFAULTS = {SERIAL: "100%", MAX_FAIL: 0, PLAN_ONLY: False}
OVERLAY = "otnet_ports_overlay"
CHART_PORTS = "otnet_ports_chart_ports"
ACCEPTED = "otnet_ports_accepted_overlaps"
ZONES = "otnet_ports_site_zones"
CONDUITS = "opto22_segment_conduits"
ASSUMED = "otnet_ports_assumed_protocols"
ASSUMED_MODES = ("both", "explicit")  # both: the default (a bare key opens tcp and udp where the protocol is assumed)
# The entries of a segment host that name catalog services: what they are called, and the records' direction.
SERVICE_ENTRIES = {CONDUITS: ("conduit", "incoming"), "opto22_segment_outbound": ("outbound entry", "outgoing")}
CHART_PORT_KEYS = ("service", "port", "start", "end", "protocol", "description")
ACCEPTED_KEYS = ("site", "catalog", "reason")
SERVICE_RE = re.compile(r"[a-z][a-z0-9_]*")
STEP_RE = re.compile(r"[1-9][0-9]*%?")
# What Ansible puts in front of a plugin's own message when a task fails on it.
_ANSIBLE_NOISE = re.compile(r"^Task failed: (?:.*?The filter plugin '[^']+' failed: )?(?:otnet\.ports\.[a-z0-9_]+: )?")
_VARIABLE_HEAD = re.compile(r"^(?:argument '([a-z][a-z0-9_]*)'|([a-z][a-z0-9_]*(?:\[[^\]]*\]|\.[A-Za-z0-9_]+)*):)")


# ---- problems --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken rule: on which host (empty for the rollout settings), in which variable, the value, and the rule."""

    host: str
    variable: str
    value: Any
    rule: str

    @property
    def message(self) -> str:
        return f"{self.variable}: {self.rule}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "variable": self.variable,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
        }


def _from_error(host: str, variable: str, value: Any, error: PortsError) -> Problem:
    """A problem from an error whose text starts with ``variable: `` (the catalog code's convention) or not."""
    text = str(error)
    return Problem(host, variable, value, text.removeprefix(f"{variable}: "))


# ---- rollout settings and groups --------------------------------------------------------------------------------


def rollout_problems(settings: Mapping[str, Any], groups: Mapping[str, Sequence[str]]) -> list[Problem]:
    """The rollout settings (unset or None: their defaults) and the groups otnet.ports.site rolls out to."""
    values = {
        name: default if settings.get(name) is None else settings[name] for name, default in ROLLOUT_DEFAULTS.items()
    }
    problems = _serial_problems(values[SERIAL])
    problems += _max_fail_problems(values[MAX_FAIL])
    problems += _plan_only_problems(values[PLAN_ONLY])
    problems += _group_problems(groups)
    return problems


def _serial_problems(value: Any) -> list[Problem]:
    rule = (
        "a number of hosts (1 or more), a percentage of them (1%-100%), or a list of them "
        '([1, "50%"]: one host first, then half of the rest)'
    )
    if not isinstance(value, list):
        return [] if _is_step(value) else [Problem("", SERIAL, value, f"{value!r} is not a batch size; give {rule}")]
    if not value:
        return [Problem("", SERIAL, value, f"[] is an empty list; give {rule}")]
    return [
        Problem("", f"{SERIAL}[{index}]", step, f"{step!r} is not a batch size; give {rule}")
        for index, step in enumerate(value)
        if not _is_step(step)
    ]


def _is_step(step: Any) -> bool:
    if isinstance(step, bool) or not isinstance(step, (int, str)):
        return False
    text = str(step).strip()
    if not STEP_RE.fullmatch(text):  # [0-9]: ASCII digits only
        return False
    return not text.endswith("%") or int(text[:-1]) <= 100


def _max_fail_problems(value: Any) -> list[Problem]:
    if not isinstance(value, bool) and isinstance(value, (int, str)):
        text = str(value).strip()
        if text.isascii() and text.isdigit() and int(text) <= 100 and (text == "0" or not text.startswith("0")):
            return []
    rule = f"{value!r} is not a whole number 0-100 (the share of a batch that may fail before the rollout stops)"
    return [Problem("", MAX_FAIL, value, rule)]


def _plan_only_problems(value: Any) -> list[Problem]:
    try:
        boolean(value, strict=True)
    except TypeError:
        return [Problem("", PLAN_ONLY, value, f"{value!r} is not a boolean; use true or false")]
    return []


def _group_problems(groups: Mapping[str, Sequence[str]]) -> list[Problem]:
    gateways, segments = list(groups.get(GATEWAYS) or []), list(groups.get(SEGMENTS) or [])
    problems = []
    if not gateways and not segments:
        problems.append(
            Problem(
                "",
                "groups",
                [],
                f"the inventory has no hosts in {GATEWAYS} or {SEGMENTS}, the groups otnet.ports.site rolls out to",
            )
        )
    both = [host for host in gateways if host in segments]
    if both:
        problems.append(
            Problem(
                "",
                "groups",
                both,
                f"{', '.join(both)} in both {GATEWAYS} and {SEGMENTS}; a host is "
                "either an Igor gateway (Windows) or a segment's guarding host (Linux), not both",
            )
        )
    return problems


# ---- one host --------------------------------------------------------------------------------------------------


def host_problems(
    catalog: Catalog, host: str, variables: Mapping[str, Any], failures: Mapping[str, Any] | None = None
) -> list[Problem]:
    """Every problem of one host: its planners' (``failures``: role -> the failed plan task's message), its
    chart-logic ports, the site services its conduits admit, its site ports against the vendors', and its zones."""
    problems = [problem for role, text in (failures or {}).items() for problem in plan_problems(host, role, text)]
    overlay = variables.get(OVERLAY) or []
    broken_overlay = overlay_problems(catalog, host, overlay)
    records = [] if broken_overlay else overlay_records(overlay, OVERLAY)
    chart_ports, broken_chart, refused_chart = _chart_ports(catalog, host, variables.get(CHART_PORTS) or [])
    accepted, accepted_problems = _accepted(host, variables.get(ACCEPTED) or [])
    site_ports = [(CHART_PORTS, index, entry) for index, entry in chart_ports]
    if broken_overlay:
        problems += broken_overlay
    else:
        site_ports = [(OVERLAY, index, record) for index, record in enumerate(records)] + site_ports
        plan = variables.get("opto22_segment_plan")
        if isinstance(plan, Mapping):
            services = {record["service"] for record in records}
            problems += admitted_site_service_problems(catalog, host, plan, services)
    problems += broken_chart + refused_chart + accepted_problems + read_zones(variables.get(ZONES), host)[1]
    problems += assumed_protocol_problems(catalog if broken_overlay else catalog.with_overlay(overlay), host, variables)
    complete = not (broken_overlay or broken_chart or accepted_problems)
    return problems + overlap_problems(catalog, host, site_ports, accepted, complete=complete)


def plan_problems(host: str, role: str, text: Any) -> list[Problem]:
    """A role's failed ``plan`` entry point as problems: one per line the planner (or the argument spec) listed."""
    message = _ANSIBLE_NOISE.sub("", str(text or "")).strip() or f"the {role} plan failed without a message"
    lines = message.splitlines()
    items = [line.strip().removeprefix("- ") for line in lines[1:] if line.strip()]
    if len(lines) < 2 or not lines[0].rstrip().endswith(":"):
        items = [message]
    problems = []
    for item in items:
        head = _VARIABLE_HEAD.match(item)
        variable = next((name for name in head.groups() if name), role) if head else f"{role} settings"
        problems.append(Problem(host, variable, None, item.removeprefix(f"{variable}: ")))
    return problems


def assumed_protocol_problems(catalog: Catalog, host: str, variables: Mapping[str, Any]) -> list[Problem]:
    """otnet_ports_assumed_protocols: ``both`` (unset: the default) lets a bare service key open every protocol the
    catalog records; ``explicit`` wants a protocol on every conduit or outbound service of the host whose catalog
    records are ``protocol_basis: assumed`` (the document does not say tcp or udp, so the catalog records both)."""
    mode = variables.get(ASSUMED)
    if mode is None:
        return []
    if not isinstance(mode, str) or mode not in ASSUMED_MODES:
        rule = (
            f"{mode!r} is not a mode; give both (the default: a service whose protocol the vendor's document does not "
            "state opens on tcp and udp) or explicit (every such service of a conduit or outbound entry names its "
            "protocol)"
        )
        return [Problem(host, ASSUMED, mode, rule)]
    if mode == "both" or variables.get("opto22_segment_state") == "absent":
        return []
    problems = []
    for variable, (what, direction) in SERVICE_ENTRIES.items():
        entries = variables.get(variable)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            services = entry.get("services") if isinstance(entry, Mapping) else None
            for position, value in enumerate(services if isinstance(services, list) else []):
                where = f"{variable}[{index}].services[{position}]"
                owner = f"{what} {entry.get('name')!r}"
                problems += _assumed_entry(catalog, host, where, value, owner=owner, direction=direction)
    return problems


def _assumed_entry(catalog: Catalog, host: str, where: str, value: Any, *, owner: str, direction: str) -> list[Problem]:
    """A bare service key whose records in ``direction`` include assumed ones; a broken entry is the planner's."""
    try:
        entry = service_entry(value, where)
    except PortsError:
        return []
    if entry.protocol is not None:
        return []
    records = catalog.select(services=[entry.service], kind="assignment", direction=direction)
    assumed = [record for record in records if record["protocol_basis"] == "assumed"]
    if not assumed:
        return []
    ports = ", ".join(dict.fromkeys(range_text(record["start"], record["end"]) for record in assumed))
    protocols = "+".join(dict.fromkeys(record["protocol"] for record in assumed))
    rule = (
        f"{owner} on {host} opens {entry.service} ({ports}/{protocols}) on a protocol the vendor's document does not "
        f"state (protocol_basis assumed), and {ASSUMED} is explicit; narrow it ({{service: {entry.service}, "
        f"protocol: tcp}} or udp) or keep both on purpose ({{service: {entry.service}, protocol: both}})"
    )
    return [Problem(host, where, value, rule)]


def overlay_problems(catalog: Catalog, host: str, overlay: Any) -> list[Problem]:
    """otnet_ports_overlay checked the way the catalog checks its own records."""
    try:
        catalog.with_overlay(overlay, OVERLAY)
    except PortsError as exc:
        return [_from_error(host, OVERLAY, overlay, exc)]
    return []


def _chart_ports(
    catalog: Catalog, host: str, entries: Any
) -> tuple[list[tuple[int, Mapping[str, Any]]], list[Problem], list[Problem]]:
    """otnet_ports_chart_ports: the readable entries (with their index), a problem for every unreadable one, and a
    problem for every entry with a port chart logic may not use (such an entry is still compared with the vendors')."""
    if not isinstance(entries, list):
        rule = f"{entries!r} is not a list of {{service, port (or start and end), protocol}} entries"
        return [], [Problem(host, CHART_PORTS, entries, rule)], []
    readable, broken, refused = [], [], []
    for index, entry in enumerate(entries):
        where = f"{CHART_PORTS}[{index}]"
        shape = chart_port_shape(host, where, entry)
        if not isinstance(entry, Mapping):
            broken += shape
            continue
        here = f"{where}.port" if "port" in entry else where
        try:
            span = parse_item({key: entry[key] for key in ("port", "start", "end") if key in entry}, here)
        except PortsError as exc:
            shape = shape or [_from_error(host, here, entry.get("port", entry.get("start")), exc)]
        if shape:
            broken += shape
            continue
        readable.append((index, entry))
        refused += chart_span_problems(catalog, host, here, span.start, span.end)
    return readable, broken, refused


def chart_port_shape(host: str, where: str, entry: Any) -> list[Problem]:
    """One entry of otnet_ports_chart_ports: a mapping with service, port (or start and end) and protocol."""
    shape = (
        "an entry is a mapping with service (a key like line2_sync), port (or start and end), protocol (tcp or udp) "
        "and optionally description"
    )
    if not isinstance(entry, Mapping):
        return [Problem(host, where, entry, f"{entry!r} is not a mapping; {shape}")]
    problems = []
    extra = sorted(str(key) for key in entry if key not in CHART_PORT_KEYS)
    if extra:
        problems.append(Problem(host, where, entry, f"unknown keys {', '.join(extra)}; {shape}"))
    service = entry.get("service")
    if not isinstance(service, str) or not SERVICE_RE.fullmatch(service):
        rule = f"{service!r} is not a service key (lower-case letters, digits and '_', starting with a letter)"
        problems.append(Problem(host, f"{where}.service", service, rule))
    if entry.get("protocol") not in PROTOCOLS:
        rule = f"{entry.get('protocol')!r} is not a protocol; give tcp or udp"
        problems.append(Problem(host, f"{where}.protocol", entry.get("protocol"), rule))
    if ("port" in entry) == ("start" in entry or "end" in entry) or ("start" in entry) != ("end" in entry):
        keys = [key for key in ("port", "start", "end") if key in entry]
        problems.append(Problem(host, where, entry, f"has {', '.join(keys) or 'no port'}; give port, or start and end"))
    return problems


def chart_span_problems(catalog: Catalog, host: str, where: str, start: int, end: int) -> list[Problem]:
    """A problem when a port of start-end is one PAC Control chart logic may not use (the first such port)."""
    first = first_reserved(catalog, start, end)
    if first is None:
        return []
    variable = where if start == end else f"{where} ({start}-{end})"
    try:
        check_chart_port(catalog, first, variable)
    except PortsError as exc:
        return [_from_error(host, variable, first, exc)]
    return []


def first_reserved(catalog: Catalog, start: int, end: int) -> int | None:
    """The first port of start-end that PAC Control chart logic may not use, or None when it may use them all."""
    port = start
    for low, high in allowed_ranges(catalog):
        if low <= port <= high:
            port = high + 1
    return port if port <= end else None


def admitted_site_service_problems(
    catalog: Catalog, host: str, plan: Mapping[str, Any], site_services: Iterable[str]
) -> list[Problem]:
    """Only chart logic listens on a controller besides the vendor's own services, so a site service that a conduit
    admits INTO the segment must be on ports chart logic may use. Flows carry int start/end (the plan's contract)."""
    services = set(site_services)
    problems = []
    for conduit in plan.get("conduits") or []:
        for flow in conduit.get("flows") or []:
            if flow["service"] not in services:
                continue
            first = first_reserved(catalog, flow["start"], flow["end"])
            if first is None:
                continue
            ports = f"{range_text(flow['start'], flow['end'])}/{flow['protocol']}"
            try:
                check_chart_port(catalog, first, "port")
            except PortsError as exc:
                rule = (
                    f"conduit {conduit['name']} admits the site service {flow['service']} ({OVERLAY}, {ports}) into "
                    f"the segment, where only chart logic serves a site's port: {exc}"
                )
                problems.append(Problem(host, CONDUITS, flow, rule))
    return problems


def _accepted(host: str, entries: Any) -> tuple[list[Mapping[str, Any]], list[Problem]]:
    """The well-formed entries of otnet_ports_accepted_overlaps, and a problem for every broken one."""
    if not isinstance(entries, list):
        return [], [Problem(host, ACCEPTED, entries, f"{entries!r} is not a list of {{site, catalog, reason}} entries")]
    good, problems = [], []
    for index, entry in enumerate(entries):
        problem = accepted_problem(host, index, entry)
        if problem is None:
            good.append(entry)
        else:
            problems.append(problem)
    return good, problems


def accepted_problem(host: str, index: int, entry: Any) -> Problem | None:
    """One entry of otnet_ports_accepted_overlaps: exactly site, catalog and reason, each non-blank text."""
    rule = (
        "must be a mapping with exactly site (the site service key), catalog (the catalog service key) and reason "
        "(why the overlap is deliberate)"
    )
    if not isinstance(entry, Mapping) or set(entry) != set(ACCEPTED_KEYS):
        return Problem(host, f"{ACCEPTED}[{index}]", entry, f"{entry!r} {rule}")
    blank = [key for key in ACCEPTED_KEYS if not isinstance(entry[key], str) or not entry[key].strip()]
    if blank:
        return Problem(host, f"{ACCEPTED}[{index}]", entry, f"{', '.join(blank)} empty or not text; {entry!r} {rule}")
    return None


def overlap_problems(
    catalog: Catalog,
    host: str,
    sources: Sequence[tuple[str, int, Mapping[str, Any]]],
    accepted: Sequence[Mapping[str, Any]],
    *,
    complete: bool = True,
) -> list[Problem]:
    """Each overlap of a site port (variable, index, record) with a vendor port that ``accepted`` does not declare;
    with ``complete`` (every site port was readable), each declared overlap that matches none (a stale entry)."""
    declared = {(entry["site"], entry["catalog"]) for entry in accepted}
    found: set[tuple[str, str]] = set()
    problems = []
    for variable, index, record in sources:
        for conflict in port_conflicts(catalog, [record]):
            site, vendor = conflict["site"], conflict["catalog"]
            key = (str(record.get("service", "?")), vendor["service"])
            found.add(key)
            if key not in declared:
                problems.append(Problem(host, f"{variable}[{index}]", record, _overlap_rule(key[0], site, vendor)))
    if complete:
        for entry in accepted:
            if (entry["site"], entry["catalog"]) not in found:
                rule = (
                    f"{{site: {entry['site']}, catalog: {entry['catalog']}}} matches no overlap of a site port with a "
                    "vendor port on this host; remove it, or fix the service keys"
                )
                problems.append(Problem(host, ACCEPTED, entry, rule))
    return problems


def _overlap_rule(service: str, site: Mapping[str, Any], vendor: Mapping[str, Any]) -> str:
    site_ports = f"{range_text(site['start'], site['end'])}/{site.get('protocol', 'tcp+udp')}"
    vendor_ports = f"{range_text(vendor['start'], vendor['end'])}/{vendor['protocol']}"
    return (
        f"{service} ({site_ports}) overlaps {vendor['vendor']} service {vendor['service']} ({vendor['description']}, "
        f"table {vendor['table']}, {vendor_ports}); a site port may share a vendor port only when {ACCEPTED} "
        f"declares it: {{site: {service}, catalog: {vendor['service']}, reason: ...}}"
    )


# ---- the site model: zones ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    name: str
    label: str
    networks: tuple[Network, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "networks": [n.with_prefixlen for n in self.networks]}


def parse_zones(zones: Any) -> list[Zone]:
    """otnet_ports_site_zones checked (read_zones); an error listing every problem otherwise."""
    parsed, problems = read_zones(zones)
    if len(problems) == 1:
        raise QueryError(problems[0].message)
    if problems:
        lines = "\n".join(f"  - {problem.message}" for problem in problems)
        raise QueryError(f"{len(problems)} problems in {ZONES}:\n{lines}")
    return parsed


def read_zones(zones: Any, host: str = "") -> tuple[list[Zone], list[Problem]]:
    """otnet_ports_site_zones (name -> {label, networks}): the zones, and a problem for every network that is not an
    address or CIDR with host bits clear (and every zone that is not a mapping)."""
    if zones is None:
        return [], []
    if not isinstance(zones, Mapping):
        return [], [Problem(host, ZONES, zones, f"{zones!r} is not a mapping of zone name -> {{label, networks}}")]
    result, problems = [], []
    for name, zone in zones.items():
        where = f"{ZONES}.{name}"
        if not isinstance(zone, Mapping):
            problems.append(Problem(host, where, zone, f"{zone!r} is not a mapping with label and networks"))
            continue
        networks = zone.get("networks") or []
        if isinstance(networks, (str, Mapping)) or not isinstance(networks, Sequence):
            rule = f"{networks!r} is not a list of addresses or CIDRs"
            problems.append(Problem(host, f"{where}.networks", networks, rule))
            continue
        parsed = []
        for index, network in enumerate(networks):
            here = f"{where}.networks[{index}]"
            try:
                parsed.append(parse_network(network.strip() if isinstance(network, str) else network, here))
            except PortsError as exc:
                problems.append(_from_error(host, here, network, exc))
        result.append(Zone(str(name), str(zone.get("label", name)), tuple(parsed)))
    return result, problems


def zone_of(zones: Sequence[Zone], first: Network, last: Network | None = None) -> str:
    """The zone with the smallest network holding ``first`` (and ``last``, for a range); '' when none does.
    IPv4 and IPv6 alike; of two zones listing the same network the first wins."""
    best, length = "", -1
    for zone in zones:
        for network in zone.networks:
            inside = all(
                end.version == network.version and end.subnet_of(network)  # type: ignore[arg-type]
                for end in (first, last or first)
            )
            if inside and network.prefixlen > length:
                best, length = zone.name, network.prefixlen
    return best


# ---- the site model: endpoints and labels ------------------------------------------------------------------------


def node_id(prefix: str, text: str) -> str:
    return f"{prefix}_{re.sub('[^A-Za-z0-9]+', '_', text)}".rstrip("_")


def host_text(network: Network) -> str:
    """An address without /32 or /128; a network with its prefix."""
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else network.with_prefixlen


def endpoint(zones: Sequence[Zone], text: str) -> dict[str, Any]:
    """A network, an address or an address range ``a-b`` as a node, in its zone ('' outside every zone)."""
    first, last = _endpoint_ends(text)
    if first is None:
        return {"id": node_id("net", text), "kind": "network", "zone": "", "label": text}
    zone = zone_of(zones, first, last)
    shown = text if last is not None else first.with_prefixlen
    whole = any(first in z.networks for z in zones if z.name == zone) and last is None
    return {
        "id": node_id("net", shown),
        "kind": "network",
        "zone": zone,
        "label": "whole zone" if whole else (shown if last is not None else host_text(first)),
    }


def _endpoint_ends(text: str) -> tuple[Network | None, Network | None]:
    try:
        if "-" in text:
            low, high = (ipaddress.ip_network(part.strip()) for part in text.split("-", 1))
            return low, high
        return ipaddress.ip_network(text.strip()), None
    except ValueError:
        return None, None


def ports_lines(flows: Iterable[Mapping[str, Any]]) -> list[str]:
    """One "service ports/protocol+protocol" line per service and port range, in the flows' order."""
    protocols: dict[tuple[str, str], list[str]] = {}
    for flow in flows:
        seen = protocols.setdefault((flow["service"], range_text(flow["start"], flow["end"])), [])
        if flow["protocol"] not in seen:
            seen.append(flow["protocol"])
    return [f"{service} {ports}/{'+'.join(names)}" for (service, ports), names in protocols.items()]


# ---- the site model: segments and gateways as data -------------------------------------------------------------


def _address_networks(addresses: Mapping[str, Sequence[str]]) -> list[Network]:
    return [ipaddress.ip_network(text) for family in ("ipv4", "ipv6") for text in addresses.get(family) or []]


def segment_entry(host: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """One opto22_segments host: its plan's controllers, conduits, outbound flows and management, and the settings
    as written (for tools that compute expectations on their own, like the lab)."""
    plan = variables["opto22_segment_plan"]
    management = plan["management"]
    return {
        "host": host,
        "address": str(variables.get("ansible_host") or host),
        "controllers": [n.with_prefixlen for n in _address_networks(plan["controllers"])],
        "conduits": [_permit(item) for item in plan.get("conduits") or []],
        "outbound": [_permit(item) for item in plan.get("outbound") or []],
        "management": {
            "port": management["port"],
            "sources": [n.with_prefixlen for n in _address_networks(management["sources"])],
        },
        "settings": {
            "conduits": variables.get(CONDUITS) or [],
            "outbound": variables.get("opto22_segment_outbound") or [],
            "overlay": variables.get(OVERLAY) or [],
        },
    }


def _permit(item: Mapping[str, Any]) -> dict[str, Any]:
    """A conduit or outbound entry of the plan; each flow keeps its ints and gains ``ports`` as text."""
    return {**item, "flows": [{**flow, "ports": range_text(flow["start"], flow["end"])} for flow in item["flows"]]}


def gateway_entry(host: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """One igor_gateways host: its plan's rules and Microsoft Defender exclusions."""
    plan = variables["igor_gateway_plan"]
    return {
        "host": host,
        "address": str(variables.get("ansible_host") or host),
        "state": plan["state"],
        "rules": [_rule(rule) for rule in plan["rules"]],
        "exclusions": plan["exclusions"],
    }


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A Windows Firewall rule of the plan: what the diagram shows, and its service key and ports (contract 3)."""
    service = rule["service"]
    return {
        "name": rule["name"],
        "direction": rule["direction"],
        "protocol": rule["protocol"],
        "port": range_text(rule["start"], rule["end"]),
        "remote": [part.strip() for part in str(rule["remoteip"]).split(",")],
        "service": service,
        "start": rule["start"],
        "end": rule["end"],
    }


# ---- the site model: the graph -----------------------------------------------------------------------------------


class Graph:
    """Nodes in the order first asked for (each once), and edges labelled with what they admit."""

    def __init__(self, zones: Sequence[Zone], catalog: Catalog) -> None:
        self.zones = zones
        self.catalog = catalog
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[dict[str, Any]] = []

    def node(self, node: dict[str, Any]) -> dict[str, Any]:
        return self.nodes.setdefault(node["id"], node)

    def edge(self, source: Mapping[str, Any], target: Mapping[str, Any], kind: str, label: list[str]) -> None:
        self.edges.append({"from": source["id"], "to": target["id"], "kind": kind, "label": label})

    def add_segment(self, segment: Mapping[str, Any]) -> None:
        host, controllers = segment["host"], segment["controllers"]
        zone = zone_of(self.zones, ipaddress.ip_network(controllers[0])) if controllers else ""
        shown = "\n".join(host_text(ipaddress.ip_network(text)) for text in controllers)
        ctl = self.node(
            {"id": node_id("ctl", host), "kind": "controllers", "zone": zone, "label": f"controllers\n{shown}"}
        )
        router = self.node(
            {"id": node_id("fw", host), "kind": "router", "zone": zone, "label": f"{host}\nnftables (opto22_segment)"}
        )
        for conduit in segment["conduits"]:
            for source in conduit["sources"]:
                peer = self.node(endpoint(self.zones, source))
                self.edge(peer, ctl, *_flow_edge("conduit", conduit))
        for outbound in segment["outbound"]:
            for destination in outbound["destinations"]:
                peer = self.node(endpoint(self.zones, destination))
                self.edge(ctl, peer, *_flow_edge("outbound", outbound))
        for source in segment["management"]["sources"]:
            peer = self.node(endpoint(self.zones, source))
            self.edge(peer, router, "management", ["management", f"ssh {segment['management']['port']}/tcp"])

    def add_gateway(self, gateway: Mapping[str, Any]) -> None:
        host = gateway["host"]
        first, _ = _endpoint_ends(gateway["address"])
        zone = zone_of(self.zones, first) if first is not None else ""
        node = self.node(
            {
                "id": node_id("gw", host),
                "kind": "gateway",
                "zone": zone,
                "label": f"{host}\nIgor Gateway (igor_gateway)\nWindows Firewall",
            }
        )
        for direction in ("in", "out"):
            rules = [rule for rule in gateway["rules"] if rule["direction"] == direction]
            for remote in dict.fromkeys(remote for rule in rules for remote in rule["remote"]):
                peer = self.node(self._remote(host, zone, remote))
                flows = [
                    {
                        "service": self.label(r["service"]),
                        "protocol": r["protocol"],
                        "start": r["start"],
                        "end": r["end"],
                    }
                    for r in rules
                    if remote in r["remote"]
                ]
                ends = (peer, node) if direction == "in" else (node, peer)
                self.edge(*ends, "gateway", [f"igor_gateway {direction}", *ports_lines(flows)])

    def label(self, service: str) -> str:
        """How the document names a service (BACnet/IP), as the Windows rule names show it."""
        return str(self.catalog.services.get(service, {}).get("label", service))

    def _remote(self, host: str, zone: str, remote: str) -> dict[str, Any]:
        """A Windows remote address: a keyword node of this gateway, Any, or an endpoint."""
        if remote in (*ADDRESS_KEYWORDS, ANY):
            label = "any address" if remote == ANY else f"{remote} (of {host})"
            return {
                "id": node_id("kw", f"{host} {remote}"),
                "kind": "keyword",
                "label": label,
                "zone": "" if remote == ANY else zone,
            }
        return endpoint(self.zones, remote)

    def as_dict(self) -> dict[str, Any]:
        nodes = list(self.nodes.values())
        clusters = []
        for name in dict.fromkeys(node["zone"] for node in nodes if node["zone"]):
            zone = next(z for z in self.zones if z.name == name)
            members = [_without_zone(node) for node in nodes if node["zone"] == name]
            networks = [network.with_prefixlen for network in zone.networks]
            clusters.append({"id": f"cluster_{name}", "label": zone.label, "networks": networks, "nodes": members})
        return {
            "clusters": clusters,
            "nodes": [_without_zone(node) for node in nodes if not node["zone"]],
            "edges": self.edges,
        }


def _flow_edge(kind: str, entry: Mapping[str, Any]) -> tuple[str, list[str]]:
    lines = ports_lines(entry["flows"])
    return (kind if lines else "nothing"), [f"{kind} {entry['name']}", *(lines or ["nothing"])]


def _without_zone(node: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key != "zone"}


# ---- the site model ----------------------------------------------------------------------------------------------


def site_model(
    catalog: Catalog,
    name: str,
    groups: Mapping[str, Sequence[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    zones: Any = None,
) -> dict[str, Any]:
    """The site as data: zones, each planned segment and gateway, and the graph the diagram templates draw.

    ``hostvars`` holds each host's variables; a segment host counts when its opto22_segment_plan is present (not
    for state absent), a gateway when its igor_gateway_plan is. ``zones`` defaults to the first site host's
    otnet_ports_site_zones."""
    segment_hosts = [h for h in groups.get(SEGMENTS) or [] if _planned(hostvars, h, "opto22_segment_plan")]
    gateway_hosts = [h for h in groups.get(GATEWAYS) or [] if _planned(hostvars, h, "igor_gateway_plan", None)]
    if zones is None:
        targets = [*(groups.get(SEGMENTS) or []), *(groups.get(GATEWAYS) or [])]
        zones = hostvars[targets[0]].get(ZONES) if targets else None
    parsed = parse_zones(zones)
    segments = [segment_entry(host, hostvars[host]) for host in segment_hosts]
    gateways = [gateway_entry(host, hostvars[host]) for host in gateway_hosts]
    graph = Graph(parsed, catalog)
    for segment in segments:
        graph.add_segment(segment)
    for gateway in gateways:
        graph.add_gateway(gateway)
    return {
        "name": name,
        "zones": [zone.as_dict() for zone in parsed],
        "segments": segments,
        "gateways": gateways,
        "graph": graph.as_dict(),
    }


def _planned(hostvars: Mapping[str, Mapping[str, Any]], host: str, fact: str, state: str | None = "present") -> bool:
    """The host has the plan ``fact`` (in ``state``, unless None): a segment removed (absent) has nothing to draw."""
    plan = hostvars[host].get(fact) if host in hostvars else None
    return isinstance(plan, Mapping) and (state is None or plan.get("state", "present") == state)
