"""The igor_gateway plan against what a Windows host has: missing, extra, changed and stale rules, name clashes,
rules outside the role's group that open an Igor port to Any, Defender exclusions, and the change summary.

The host side is what ``roles/igor_gateway/files/firewall_group_rules.ps1`` returns (read-only, in check mode
too): ``{rules: [...], defender: {ExclusionPath, ExclusionProcess} | None, defender_note}``. Each rule is a mapping
of ``Get-NetFirewallRule`` properties (Name, DisplayName, Group, Description, Enabled, Profile, Direction, Action,
PolicyStoreSourceType; enums as the names PowerShell's ``[string]`` gives them), the conditions of its
``Get-NetFirewallPortFilter`` (Protocol, LocalPort, RemotePort), ``Get-NetFirewallAddressFilter`` (RemoteAddress)
and ``Get-NetFirewallApplicationFilter`` (Program). tests/unit/fixtures/igor_cmdlets/README.md documents the shape.

Everything here is decided by value, the way Windows compares: rule names, groups and paths case-insensitively;
ports as port spans (``1234``, ``12000-12009``, ``Any``); remote addresses as address spans, so Windows' mask form
``10.20.0.0/255.255.0.0`` equals the plan's ``10.20.0.0/16`` (the parser is the planner's,
``_windows.check_remote_address``).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import PortsError, QueryError
from ._nft_sets import address_text
from ._portrange import merge, overlap, range_text
from ._queries import EXCLUSION_KINDS
from ._windows import ANY, check_remote_address

PROFILES = ("domain", "private", "public")  # Windows' order; Profile 'Any' is all three
LOCAL_STORE = "local"  # PolicyStoreSourceType of rules in the local store, the only ones win_firewall_rule sees
# The win_firewall_rule options the role sets and this comparison checks, in the order reports list them.
COMPARED = (
    "description",
    "direction",
    "action",
    "protocol",
    "localport",
    "remoteport",
    "remoteip",
    "profiles",
    "program",
    "enabled",
)
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmpv4", "58": "icmpv6"}
_DIRECTIONS = {"inbound": "in", "outbound": "out"}
_FAMILY_BITS = {4: 32, 6: 128}
_PORT_SPAN = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", re.ASCII)  # ASCII digits only, as Windows writes them
_Span = tuple[int, int, int]  # IP version, first and last address as integers


class CompareError(QueryError):
    """The plan or the host state handed to the comparison is not in the documented shape."""


@dataclass(frozen=True)
class HostRule:
    """One rule as the host reported it, normalised for comparison; ``shown`` keeps the host's own spellings."""

    name: str
    group: str
    local: bool
    enabled: bool
    direction: str
    action: str
    protocol: str
    localport: tuple[str, ...]
    remoteport: tuple[str, ...]
    remoteip: tuple[str, ...]
    profiles: tuple[str, ...]
    program: str | None
    description: str
    shown: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.name.casefold()


# ---- the entry point -----------------------------------------------------------------------------------------


def compare(plan: Any, host_state: Any) -> dict[str, Any]:
    """``igor_gateway_compare``: the plan against the host's recorded state (see the filter's RETURN)."""
    group, exclusive, present, rules, exclusions = _check_plan(plan)
    host_rules, defender = _check_host_state(host_state)
    ours, others = partition(host_rules, group)
    verdicts = rule_verdicts(rules, ours, exclusive=exclusive, present=present)
    excluded = exclusion_differences(exclusions, defender, present=present)
    return {
        "stale": verdicts.stale,
        "clashes": clashes(others, [*verdicts.planned, *(name.casefold() for name in verdicts.stale)]),
        "missing": verdicts.missing,
        "extra": verdicts.extra,
        "changed": verdicts.changed,
        "exclusions": excluded,
        "open_to_any": open_to_any(others, igor_spans(rules)),
        "changes": change_summary(verdicts, exclusions, excluded, present=present),
    }


def partition(rules: Iterable[HostRule], group: str) -> tuple[list[HostRule], list[HostRule]]:
    """The role's own rules (local store, in ``group``, compared case-insensitively) and all the others."""
    ours: list[HostRule] = []
    others: list[HostRule] = []
    for rule in rules:
        (ours if rule.local and rule.group.casefold() == group.casefold() else others).append(rule)
    return ours, others


@dataclass(frozen=True)
class RuleVerdicts:
    """The role's own rules (local store, in the group) against the planned ones, by folded name."""

    planned: Mapping[str, Mapping[str, Any]]
    found: Mapping[str, HostRule]
    missing: list[str]
    extra: list[str]
    stale: list[str]
    changed: list[dict[str, Any]]


def rule_verdicts(
    rules: Sequence[Mapping[str, Any]], ours: Sequence[HostRule], *, exclusive: bool, present: bool
) -> RuleVerdicts:
    """present: missing = planned rules the group lacks, extra = group rules not planned, changed = planned rules
    whose options differ; absent: every group rule is extra. stale (the rules the role removes by themselves) =
    the group rules not planned, when exclusive."""
    planned = {rule["name"].casefold(): rule for rule in rules}
    found = _first_by_name(ours)
    unplanned = _unique_names(rule for rule in ours if rule.key not in planned)
    changed = [
        {"name": found[key].name, "fields": fields}
        for key, rule in planned.items()
        if present and key in found
        for fields in [rule_differences(rule, found[key])]
        if fields
    ]
    return RuleVerdicts(
        planned=planned,
        found=found,
        missing=[rule["name"] for key, rule in planned.items() if key not in found] if present else [],
        extra=unplanned if present else _unique_names(ours),
        stale=unplanned if exclusive else [],
        changed=changed,
    )


# ---- input shapes --------------------------------------------------------------------------------------------


def _check_plan(plan: Any) -> tuple[str, bool, bool, list[Mapping[str, Any]], dict[str, list[str]]]:
    """The plan's group, exclusive flag, state (present?), rules and exclusions, or an error naming the key."""
    if not isinstance(plan, Mapping):
        raise CompareError(f"plan: {type(plan).__name__} is not a mapping; pass igor_gateway_plan as the input")
    for key in ("state", "group", "rules"):
        if key not in plan:
            raise CompareError(f"plan: the key {key!r} is missing; pass igor_gateway_plan as the input")
    if plan["state"] not in ("present", "absent"):
        raise CompareError(f"plan.state: {plan['state']!r} is not 'present' or 'absent'")
    rules = plan["rules"]
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        raise CompareError(f"plan.rules: {rules!r} is not a list")
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping) or not isinstance(rule.get("name"), str):
            raise CompareError(f"plan.rules[{index}]: {rule!r} is not a rule with a name")
    raw = plan.get("exclusions") or {}
    exclusions = {kind: [str(path) for path in raw.get(kind) or []] for kind in EXCLUSION_KINDS}
    return str(plan["group"]), bool(plan.get("exclusive")), plan["state"] == "present", list(rules), exclusions


def _check_host_state(host_state: Any) -> tuple[list[HostRule], Mapping[str, Any] | None]:
    """The rules and the Defender preference of firewall_group_rules.ps1's result, or an error naming the key."""
    hint = "pass the result of the role's firewall group read (firewall_group_rules.ps1)"
    if not isinstance(host_state, Mapping) or not isinstance(host_state.get("rules"), Sequence):
        raise CompareError(f"host_state: {host_state!r:.120} has no list 'rules'; {hint}")
    rules = [host_rule(rule, f"host_state.rules[{index}]") for index, rule in enumerate(host_state["rules"])]
    defender = host_state.get("defender")
    if defender is not None and not isinstance(defender, Mapping):
        raise CompareError(f"host_state.defender: {defender!r:.120} is not a mapping or null; {hint}")
    return rules, defender


def host_rule(raw: Any, where: str) -> HostRule:
    """One rule of the host read, its enums, ports, addresses and profiles normalised."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("DisplayName"), str):
        raise CompareError(f"{where}: {raw!r:.120} is not a firewall rule with a DisplayName")
    store = str(raw.get("PolicyStoreSourceType") or "Local")
    return HostRule(
        name=raw["DisplayName"],
        group=str(raw.get("Group") or ""),
        local=store.casefold() == LOCAL_STORE,
        enabled=str(raw.get("Enabled", "True")).casefold() == "true",
        direction=_DIRECTIONS.get(str(raw.get("Direction", "")).casefold(), str(raw.get("Direction", "")).casefold()),
        action=str(raw.get("Action", "")).casefold(),
        protocol=protocol(raw.get("Protocol")),
        localport=ports(raw.get("LocalPort")),
        remoteport=ports(raw.get("RemotePort")),
        remoteip=scope(raw.get("RemoteAddress"), f"{where}.RemoteAddress"),
        profiles=profiles(raw.get("Profile")),
        program=program(raw.get("Program")),
        description=str(raw.get("Description") or ""),
        shown=raw,
    )


# ---- values as Windows compares them -------------------------------------------------------------------------


def _items(value: Any) -> list[str]:
    """A list, a scalar or a comma-separated string (the plan's remoteip) as a list of stripped strings."""
    if value is None:
        return []
    values = value if isinstance(value, Sequence) and not isinstance(value, str) else str(value).split(",")
    return [str(item).strip() for item in values if str(item).strip()]


def protocol(value: Any) -> str:
    """``TCP``, ``6`` -> ``tcp``; ``Any`` or nothing -> ``any``."""
    text = str(value or "any").strip().casefold()
    return _PROTOCOL_NUMBERS.get(text, text)


def ports(value: Any) -> tuple[str, ...]:
    """Ports as port spans, merged and sorted (``['1234', '1235']`` -> ``('1234-1235',)``); keywords such as RPC folded;
    ``Any`` (or nothing) -> ``('any',)``."""
    items = _items(value)
    if not items or any(item.casefold() in ("any", "*") for item in items):
        return (ANY,)
    spans: list[tuple[int, int]] = []
    keywords: list[str] = []
    for item in items:
        span = port_span(item)
        if span is None:
            keywords.append(item.casefold())
        else:
            spans.append(span)
    return tuple(range_text(*span) for span in merge(spans)) + tuple(sorted(set(keywords)))


def port_span(text: str) -> tuple[int, int] | None:
    """``'1234'`` -> (1234, 1234), ``'12000-12009'`` -> (12000, 12009); a keyword (RPC, IPHTTPS...) -> None."""
    match = _PORT_SPAN.fullmatch(text)
    if match is None:
        return None
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def scope(value: Any, where: str) -> tuple[str, ...]:
    """Remote addresses as Windows shows them (``10.20.0.0/255.255.0.0``, ``10.0.0.1-10.0.0.9``, ``LocalSubnet``,
    ``Any``) or as the plan writes them, in one canonical form: keywords, then merged address spans written as
    CIDRs where they are one, ranges otherwise. A token the parser refuses stays as written (folded), so it shows
    as a difference instead of being dropped."""
    tokens: list[str] = []
    spans: list[_Span] = []
    for index, item in enumerate(_items(value)):
        try:
            token = check_remote_address(item, f"{where}[{index}]")
        except PortsError:
            tokens.append(item.casefold())
            continue
        if token == ANY:
            return (ANY,)
        found = _address_spans(token)
        if found is None:
            tokens.append(token)
        else:
            spans.append(found)
    if not tokens and not spans:
        return (ANY,)
    return tuple(sorted(set(tokens), key=str.casefold)) + tuple(_span_texts(spans))


def _address_spans(token: str) -> _Span | None:
    try:
        if "-" in token:
            first, last = (ipaddress.ip_address(part) for part in token.split("-", 1))
            return first.version, int(first), int(last)
        network = ipaddress.ip_network(token)
    except ValueError:
        return None
    return network.version, int(network.network_address), int(network.broadcast_address)


def _span_texts(spans: Iterable[_Span]) -> list[str]:
    texts = []
    for version in (4, 6):
        for first, last in merge([(a, b) for v, a, b in spans if v == version]):
            texts.append(address_text(first, last, version))
    return texts


def is_any(remote: Sequence[str]) -> bool:
    """Whether a canonical scope admits every address: Any, or every IPv4 or every IPv6 address."""
    if ANY in remote:
        return True
    spans = [span for token in remote if (span := _address_spans(token)) is not None]
    return any(
        merge([(a, b) for v, a, b in spans if v == version]) == [(0, 2**bits - 1)]
        for version, bits in _FAMILY_BITS.items()
    )


def profiles(value: Any) -> tuple[str, ...]:
    """``'Domain, Private'`` or ``['domain', 'private']`` in Windows' order; ``Any`` (or nothing) is all three."""
    names = {item.casefold() for item in _items(value)}
    if not names or "any" in names:
        return PROFILES
    return tuple(profile for profile in PROFILES if profile in names) + tuple(sorted(names - set(PROFILES)))


def program(value: Any) -> str | None:
    """A program path folded for comparison; ``Any`` or nothing -> None."""
    text = str(value or "").strip()
    return None if not text or text.casefold() == "any" else text.casefold()


# ---- rules ---------------------------------------------------------------------------------------------------


def planned_value(rule: Mapping[str, Any], field: str) -> Any:
    """A planned rule's option in the form ``host_value`` gives the host's, for ``field`` of COMPARED."""
    value = rule.get(field)
    normalisers = {
        "direction": lambda v: str(v).casefold(),
        "action": lambda v: str(v).casefold(),
        "protocol": protocol,
        "localport": ports,
        "remoteport": ports,
        "remoteip": lambda v: scope(v, f"plan rule {rule['name']!r}.remoteip"),
        "profiles": profiles,
        "program": program,
        "enabled": lambda v: v if isinstance(v, bool) else str(v).casefold() in ("true", "yes", "1"),
        "description": lambda v: str(v or ""),
    }
    return normalisers[field](value)


def host_value(rule: HostRule, field: str) -> Any:
    return rule.enabled if field == "enabled" else getattr(rule, field)


def rule_differences(planned: Mapping[str, Any], host: HostRule) -> dict[str, dict[str, Any]]:
    """The options the role sets that differ on the host: ``{field: {plan, host}}``, values in canonical form
    (ports and addresses as comma-joined text, profiles as a list, program folded). Options the plan leaves out
    (``program`` on the gateway rules, ``remoteport`` on incoming rules) are not compared: win_firewall_rule leaves
    them alone."""
    differences = {}
    for field in COMPARED:
        if field not in planned:
            continue
        want, have = planned_value(planned, field), host_value(host, field)
        if want != have:
            differences[field] = {"plan": _shown(field, want), "host": _shown(field, have)}
    return differences


def _shown(field: str, value: Any) -> Any:
    """A canonical value in the form of the plan's option: profiles a list, ports and addresses comma-joined."""
    if field == "profiles":
        return list(value)
    return ",".join(value) if isinstance(value, tuple) else value


def _first_by_name(rules: Iterable[HostRule]) -> dict[str, HostRule]:
    found: dict[str, HostRule] = {}
    for rule in rules:
        found.setdefault(rule.key, rule)
    return found


def _unique_names(rules: Iterable[HostRule]) -> list[str]:
    """Rule names in host order, each once (case-insensitively), in the host's spelling."""
    return list({rule.key: rule.name for rule in reversed(list(rules))}.values())[::-1]


def clashes(others: Iterable[HostRule], names: Iterable[str]) -> list[str]:
    """Local rules outside the group named like a rule the role would change or remove (``names`` folded):
    win_firewall_rule selects rules by name whatever their group. Group Policy rules are not in the local store
    the module writes, so they never clash."""
    wanted = set(names)
    return _unique_names(rule for rule in others if rule.local and rule.key in wanted)


def igor_spans(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ports the plan's incoming rules open: ``{protocol, start, end, service}`` (from ``start``/``end``, or
    ``localport`` when a plan carries no integers)."""
    spans = []
    for rule in rules:
        if str(rule.get("direction", "")).casefold() != "in":
            continue
        if isinstance(rule.get("start"), int) and isinstance(rule.get("end"), int):
            span: tuple[int, int] | None = (rule["start"], rule["end"])
        else:
            span = port_span(str(rule.get("localport", "")))
        if span is not None:
            spans.append(
                {
                    "protocol": protocol(rule.get("protocol")),
                    "start": span[0],
                    "end": span[1],
                    "service": rule.get("service"),
                }
            )
    return spans


def open_to_any(others: Iterable[HostRule], spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Enabled incoming allow rules outside the role's group (any policy store) that admit every remote address
    on a port an Igor rule opens: same protocol (or Any) and an overlapping local port (or Any). Local-port
    keywords (RPC, RPC-EPMap, IPHTTPS, ...) name dynamic endpoints, not these ports, and do not count."""
    found = []
    for rule in others:
        if not (rule.enabled and rule.direction == "in" and rule.action == "allow" and is_any(rule.remoteip)):
            continue
        hits = [span for span in spans if rule.protocol in (ANY, span["protocol"]) and _opens(rule, span)]
        if hits:
            found.append(
                {
                    "name": rule.name,
                    "group": rule.group,
                    "store": str(rule.shown.get("PolicyStoreSourceType") or "Local"),
                    "protocol": rule.protocol,
                    "localport": ",".join(rule.localport),
                    "program": rule.shown.get("Program") if rule.program else None,
                    "ports": list(dict.fromkeys(f"{s['protocol']}/{range_text(s['start'], s['end'])}" for s in hits)),
                    "services": list(dict.fromkeys(s["service"] for s in hits if s["service"])),
                }
            )
    return found


def _opens(rule: HostRule, span: Mapping[str, Any]) -> bool:
    if ANY in rule.localport:
        return True
    wanted = (span["start"], span["end"])
    return any(
        (found := port_span(token)) is not None and overlap(found, wanted) is not None for token in rule.localport
    )


# ---- Defender exclusions -------------------------------------------------------------------------------------


def exclusion_differences(
    planned: Mapping[str, Sequence[str]], defender: Mapping[str, Any] | None, *, present: bool
) -> dict[str, Any]:
    """``{read, missing: {paths, processes}, extra: {paths, processes}}``.

    ``missing``: planned entries Defender does not exclude (state present). ``extra``: entries Defender excludes
    that the plan does not want and that reach the gateway's files - a folder or wildcard above a planned entry,
    a bare process name equal to a planned process's file name, or anything below the install directory (the
    planned entries' common folder) - and, for state absent, the planned entries still excluded. Other
    exclusions of the host are none of the role's business and are not reported. ``read`` is false when the host
    could not read Defender's preferences; then both are empty.
    """
    if defender is None:
        return {"read": False, "missing": _no_entries(), "extra": _no_entries()}
    host = {
        "paths": _items(defender.get("ExclusionPath")),
        "processes": _items(defender.get("ExclusionProcess")),
    }
    wanted = [path for kind in EXCLUSION_KINDS for path in planned[kind]]
    base = install_dir(wanted)
    missing, extra = {}, {}
    for kind in EXCLUSION_KINDS:
        have = {_path_key(path) for path in host[kind]}
        mine = {_path_key(path) for path in planned[kind]}
        missing[kind] = [path for path in planned[kind] if _path_key(path) not in have] if present else []
        extra[kind] = [
            path
            for path in host[kind]
            if (_path_key(path) in mine and not present)
            or (_path_key(path) not in mine and _reaches(path, kind, wanted, planned["processes"], base))
        ]
    return {"read": True, "missing": missing, "extra": extra}


def _no_entries() -> dict[str, list[str]]:
    return {kind: [] for kind in EXCLUSION_KINDS}


def _path_key(path: str) -> str:
    return path.strip().rstrip("\\").casefold()


def install_dir(paths: Sequence[str]) -> str | None:
    """The deepest folder all planned entries are below (``C:\\Igor`` for the catalog's entries); None for fewer
    than two entries, where it would be the entry's own folder rather than the install directory."""
    if len(paths) < 2:
        return None
    split = [_path_key(path).split("\\") for path in paths]
    common = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "\\".join(common) if len(common) > 1 else None


def _reaches(entry: str, kind: str, wanted: Sequence[str], processes: Sequence[str], base: str | None) -> bool:
    key = _path_key(entry)
    if base is not None and (key == base or key.startswith(base + "\\")):
        return True
    if kind == "processes" and "\\" not in key:
        # A bare name excludes every process with that file name, wherever it runs from.
        return any(fnmatch.fnmatchcase(_path_key(path).rsplit("\\", 1)[-1], key) for path in processes)
    return any(_covers(key, _path_key(path)) for path in wanted)


def _covers(entry: str, path: str) -> bool:
    """Whether an exclusion (folded, maybe with wildcards) covers ``path``: equal, a folder above it, or a
    pattern matching it or a folder above it."""
    parents = [path[:index] for index, char in enumerate(path) if char == "\\"] + [path]
    if any(char in entry for char in "*?"):
        return any(fnmatch.fnmatchcase(candidate, entry) for candidate in parents)
    return entry in parents


# ---- the change summary ----------------------------------------------------------------------------------------


def change_summary(
    verdicts: RuleVerdicts,
    exclusions: Mapping[str, Sequence[str]],
    excluded: Mapping[str, Any],
    *,
    present: bool,
) -> dict[str, list[dict[str, Any]]]:
    """What the role's apply step adds and removes, as data: a changed rule is removed as the host has it and
    added as planned. Exclusions: the missing ones added (present), the planned ones still there removed
    (absent); wider exclusions the role did not add are findings, not changes it makes."""
    changed = {item["name"].casefold() for item in verdicts.changed}
    to_add = {name.casefold() for name in verdicts.missing} | changed
    added = [planned_item(rule) for key, rule in verdicts.planned.items() if key in to_add]
    gone = {name.casefold() for name in verdicts.stale} | changed
    if not present:
        gone |= set(verdicts.planned)
    removed = [host_item(rule, verdicts.planned.get(key)) for key, rule in verdicts.found.items() if key in gone]
    for kind, entry in EXCLUSION_KINDS.items():
        if present:
            added += [{"kind": entry, "path": path} for path in excluded["missing"][kind]]
        else:
            mine = {_path_key(path) for path in exclusions[kind]}
            removed += [{"kind": entry, "path": path} for path in excluded["extra"][kind] if _path_key(path) in mine]
    return {"added": added, "removed": removed}


def planned_item(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A planned rule as a change item."""
    port = rule.get("localport", rule.get("remoteport"))
    span = port_span(str(port)) if port is not None else None
    return {
        "kind": "rule",
        "name": rule["name"],
        "direction": str(rule.get("direction", "")).casefold(),
        "protocol": protocol(rule.get("protocol")),
        "ports": ",".join(ports(port)),
        "remote": list(planned_value(rule, "remoteip")),
        "service": rule.get("service"),
        "start": rule.get("start", span[0] if span else None),
        "end": rule.get("end", span[1] if span else None),
    }


def host_item(rule: HostRule, planned: Mapping[str, Any] | None) -> dict[str, Any]:
    """A rule as the host has it, as a change item; ``service`` is the planned rule's of that name, if any."""
    port = rule.localport if rule.direction == "in" else rule.remoteport
    span = port_span(port[0]) if len(port) == 1 else None
    return {
        "kind": "rule",
        "name": rule.name,
        "direction": rule.direction,
        "protocol": rule.protocol,
        "ports": ",".join(port),
        "remote": list(rule.remoteip),
        "service": planned.get("service") if planned else None,
        "start": span[0] if span else None,
        "end": span[1] if span else None,
    }
