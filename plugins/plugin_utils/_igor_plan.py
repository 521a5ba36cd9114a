"""The igor_gateway role's plan: its variables checked, then the Windows Firewall rules and Microsoft Defender
exclusions the Igor document requires, as data the role applies unchanged.

Ports, paths, labels and version floors come from the catalog. This module adds only how Windows shows them: the
rule names and group, which win_firewall_rule option carries the port (``localport`` in, ``remoteport`` out), the
remote-address scope and, where the document ties a table to one service, the program.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ._addresses import parse_network
from ._catalog import Catalog
from ._errors import CatalogError, QueryError, unknown_name
from ._portrange import merge, range_text
from ._queries import EXCLUSION_KINDS, check_igor_version, exclusion_entries, igor_records
from ._windows import check_install_dir

ROLE = "otnet.ports.igor_gateway"
GROUP = "Igor Gateway (otnet.ports)"
VARIABLES = (
    "igor_gateway_version",
    "igor_gateway_bacnet",
    "igor_gateway_install_dir",
    "igor_gateway_node_networks",
    "igor_gateway_bms_networks",
    "igor_gateway_firewall_profiles",
    "igor_gateway_outbound_rules",
    "igor_gateway_av_exclusions",
    "igor_gateway_state",
    "igor_gateway_exclusive",
)
PROFILES = ("domain", "private", "public")
STATES = ("present", "absent")
ANY = "any"
# The tokens INetFwRule.RemoteAddresses accepts besides addresses, in the spelling Windows shows.
ADDRESS_KEYWORDS = ("LocalSubnet", "DNS", "DHCP", "WINS", "DefaultGateway")
_ANY_SPELLINGS = ("any", "*")


@dataclass(frozen=True)
class RuleTable:
    """A catalog table the role turns into rules: the rule-name prefix and who the rules admit."""

    key: str
    name_prefix: str
    networks: str  # the variable whose addresses become remoteip
    program_component: str | None = None  # exclusion component whose process the document ties the table to


# The gateway table lists the ports of the gateway software as a whole, without saying which of its seven service
# executables uses which; only the BACnet table belongs to one service (the BACnet service).
RULE_TABLES = {
    "gateway": RuleTable("gateway", "Igor Gateway", "igor_gateway_node_networks"),
    "bacnet": RuleTable("bacnet", "Igor BACnet Service", "igor_gateway_bms_networks", "BACnet"),
}
# Catalog direction -> win_firewall_rule direction, the suffix Windows puts in rule names, and the port option.
DIRECTIONS = {
    "incoming": ("in", "In", "localport"),
    "outgoing": ("out", "Out", "remoteport"),
}


@dataclass(frozen=True)
class Settings:
    """The role's variables, checked and normalised."""

    version: str
    bacnet: bool
    install_dir: str
    networks: Mapping[str, tuple[str, ...]]  # variable name -> remote addresses
    profiles: tuple[str, ...]
    outbound_rules: bool
    av_exclusions: bool
    state: str
    exclusive: bool

    @property
    def tables(self) -> list[str]:
        return tables_for(bacnet=self.bacnet)

    @property
    def directions(self) -> list[str]:
        return ["incoming", "outgoing"] if self.outbound_rules else ["incoming"]


def build_plan(catalog: Catalog, values: Any) -> dict[str, Any]:
    """``igor_gateway_plan``: the checked variables turned into firewall rules and exclusions (data only)."""
    settings = check_settings(catalog, values)
    exclusions = exclusion_entries(catalog, (), settings.install_dir)
    rules = [rule for key in settings.tables for rule in table_rules(catalog, RULE_TABLES[key], settings, exclusions)]
    _check_unique_names(rules)
    return {
        "state": settings.state,
        "group": GROUP,
        "exclusive": settings.exclusive,
        "rules": rules,
        "exclusions": {
            kind: [e["path"] for e in exclusions if e["kind"] == entry] if settings.av_exclusions else []
            for kind, entry in EXCLUSION_KINDS.items()
        },
    }


def check_settings(catalog: Catalog, values: Any) -> Settings:
    """Every role variable checked; the first broken rule is an error naming the variable and the value."""
    if not isinstance(values, Mapping):
        raise QueryError(f"expected a mapping of the role's variables ({', '.join(VARIABLES)}); got {values!r}")
    for name in values:
        if name not in VARIABLES:
            raise unknown_name("igor_gateway variable", name, VARIABLES)
    for name in VARIABLES:
        if name not in values:
            raise QueryError(f"{name} is missing; the plan needs all of {', '.join(VARIABLES)}")
    bacnet = check_bool(values["igor_gateway_bacnet"], "igor_gateway_bacnet")
    return Settings(
        version=check_igor_version(
            catalog, values["igor_gateway_version"], tables_for(bacnet=bacnet), "igor_gateway_version"
        ),
        bacnet=bacnet,
        install_dir=check_install_dir_or_default(catalog, values["igor_gateway_install_dir"]),
        networks={
            table.networks: check_networks(values[table.networks], table.networks) for table in RULE_TABLES.values()
        },
        profiles=check_profiles(values["igor_gateway_firewall_profiles"], "igor_gateway_firewall_profiles"),
        outbound_rules=check_bool(values["igor_gateway_outbound_rules"], "igor_gateway_outbound_rules"),
        av_exclusions=check_bool(values["igor_gateway_av_exclusions"], "igor_gateway_av_exclusions"),
        state=check_choice(values["igor_gateway_state"], "igor_gateway_state", "state", STATES),
        exclusive=check_bool(values["igor_gateway_exclusive"], "igor_gateway_exclusive"),
    )


def tables_for(*, bacnet: bool) -> list[str]:
    """The catalog tables the role turns into rules: the gateway's, and the BACnet service's when asked."""
    return ["gateway", "bacnet"] if bacnet else ["gateway"]


def check_install_dir_or_default(catalog: Catalog, value: Any) -> str:
    """The install directory; unset (None) means the document's own, which the catalog holds."""
    if value is None:
        return catalog.default_install_dir
    return check_install_dir(value, "igor_gateway_install_dir")


def check_bool(value: Any, where: str) -> bool:
    """A boolean as Ansible reads one (true, 'yes', 1, ...); argument_specs accepts the same and passes it on."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise QueryError(f"{where}: {value!r} is not a boolean; use true or false") from None


def check_choice(value: Any, where: str, kind: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise unknown_name(kind, value, choices, where)
    return value


def check_profiles(value: Any, where: str) -> tuple[str, ...]:
    """Firewall profiles in Windows' order (domain, private, public), each once; at least one."""
    items = _items(value, where, "a firewall profile")
    for index, item in enumerate(items):
        check_choice(item, f"{where}[{index}]", "firewall profile", PROFILES)
    return tuple(profile for profile in PROFILES if profile in items)


def check_networks(value: Any, where: str) -> tuple[str, ...]:
    """Remote addresses in the form win_firewall_rule's remoteip takes; ``any`` only when written alone."""
    items = _items(value, where, "an address, CIDR, range or keyword (LocalSubnet keeps traffic on the local subnet)")
    networks = tuple(dict.fromkeys(check_network(item, f"{where}[{index}]") for index, item in enumerate(items)))
    if ANY in networks and len(networks) > 1:
        raise QueryError(
            f"{where}: {list(items)!r} mixes Any with other addresses; Any admits every address, so write it alone"
        )
    return networks


def check_network(value: Any, where: str) -> str:
    """One remote-address token: an address, a CIDR (prefix or mask), a range ``a-b``, a keyword, or Any."""
    rule = f"is not an IPv4/IPv6 address, CIDR, range or Windows keyword ({', '.join(ADDRESS_KEYWORDS)}, or Any alone)"
    text = value.strip() if isinstance(value, str) else ""
    if text.lower() in _ANY_SPELLINGS:
        return ANY
    for keyword in ADDRESS_KEYWORDS:
        if text.lower() == keyword.lower():
            return keyword
    try:
        if "%" in text:  # a scope id: Python accepts fe80::1%eth0, Windows Firewall does not
            raise ValueError(text)
        if "-" in text:
            return _address_range(text, where)
        if "/" in text:
            return _network(text, where)
        return str(ipaddress.ip_address(text))
    except QueryError:
        raise
    except ValueError:
        raise QueryError(f"{where}: {value!r} {rule}") from None


def table_rules(
    catalog: Catalog, table: RuleTable, settings: Settings, exclusions: Sequence[Mapping[str, str]]
) -> list[dict[str, Any]]:
    """One rule per service, direction, protocol and contiguous port span of one catalog table."""
    title = catalog.table("igor", table.key).title
    spans: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    labels: dict[str, str] = {}
    for record in igor_records(catalog, [table.key]):
        if record["direction"] in settings.directions:
            key = (record["direction"], record["protocol"], record["service"])
            spans.setdefault(key, []).append((record["start"], record["end"]))
            labels[record["service"]] = record["label"]
    common = {
        "group": GROUP,
        "action": "allow",
        "remoteip": ",".join(settings.networks[table.networks]),
        "profiles": list(settings.profiles),
        "enabled": True,
        "state": settings.state,
    }
    program = _program(table, exclusions)
    if program:
        common["program"] = program
    keyed = []
    for (direction, protocol, service), ranges in spans.items():
        merged = merge(ranges)
        for span in merged:
            rule = _rule(table, title, labels[service], direction, protocol=protocol, span=span, split=len(merged) > 1)
            rule |= common
            keyed.append(((list(DIRECTIONS).index(direction), protocol, span), rule))
    return [rule for _, rule in sorted(keyed, key=lambda item: item[0])]


def _rule(
    table: RuleTable, title: str, label: str, direction: str, *, protocol: str, span: tuple[int, int], split: bool
) -> dict[str, Any]:
    """Name, description, direction, protocol and port of one rule.

    win_firewall_rule compares LocalPorts/RemotePorts as exact strings (community.windows#99), so a rule holds one
    port or one range, never a comma list; a service whose ports are not contiguous gets one rule per span, and
    those rules carry their ports in the name.
    """
    windows_direction, suffix, port_option = DIRECTIONS[direction]
    ports = range_text(*span)
    shown = f"{label} {ports}" if split else label
    return {
        "name": f"{table.name_prefix} - {shown} ({protocol.upper()}-{suffix})",
        "description": f"{title}: {label}, {protocol.upper()} {ports}, {direction}. Managed by {ROLE}.",
        "direction": windows_direction,
        "protocol": protocol,
        port_option: ports,
    }


def _program(table: RuleTable, exclusions: Sequence[Mapping[str, str]]) -> str | None:
    if table.program_component is None:
        return None
    for entry in exclusions:
        if entry["kind"] == "process" and entry["component"] == table.program_component:
            return entry["path"]
    raise CatalogError(f"catalog: no process exclusion for component {table.program_component!r} ({table.key} rules)")


def _check_unique_names(rules: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule["name"].lower() in seen:
            raise CatalogError(f"two planned rules are named {rule['name']!r}; rule names must be unique")
        seen.add(rule["name"].lower())


def _items(value: Any, where: str, wanted: str) -> list[Any]:
    """A list as given, or a comma-separated string split the way argument_specs reads ``type: list``."""
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise QueryError(f"{where}: {value!r} is not a list")
    if not items:
        raise QueryError(f"{where}: the list is empty; give at least one entry: {wanted}")
    return items


def _network(text: str, where: str) -> str:
    ipaddress.ip_network(text, strict=False)  # ValueError: not a CIDR at all; the caller names the Windows forms
    return str(parse_network(text, where))


def _address_range(text: str, where: str) -> str:
    start, end = (ipaddress.ip_address(part.strip()) for part in text.split("-", 1))
    if start.version != end.version:
        raise QueryError(f"{where}: {text!r} mixes IPv{start.version} and IPv{end.version} in one range")
    if start > end:
        raise QueryError(f"{where}: {text!r} starts after it ends")
    return f"{start}-{end}"
