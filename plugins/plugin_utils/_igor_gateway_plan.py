"""The igor_gateway role's plan: its variables checked, then the Windows Firewall rules and Microsoft Defender
exclusions the Igor document requires, as data the role applies unchanged.

Ports, paths, labels and version floors come from the catalog. This module adds only how Windows shows them: the
rule names and group, which win_firewall_rule option carries the port (``localport`` in, ``remoteport`` out), the
remote-address scope and, where the document ties a table to one service, the program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._catalog import Catalog
from ._errors import CatalogError, PortsError
from ._portrange import merge, range_text
from ._queries import EXCLUSION_KINDS, check_igor_version, exclusion_entries, igor_records
from ._settings import Problems, SettingsError, check_settings, role_spec
from ._windows import check_install_dir, check_remote_scope

ROLE = "otnet.ports.igor_gateway"
SPEC_ROLE = "igor_gateway"
GROUP = "Igor Gateway (otnet.ports)"
PROFILES = ("domain", "private", "public")  # Windows' order; the spec's choices say which are valid
# What each rule carries as data besides the win_firewall_rule options: the catalog service and its port span.
DATA_FIELDS = ("service", "start", "end")


class IgorPlanError(SettingsError):
    """The igor_gateway settings break one or more rules; the message lists every problem."""


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
    settings = check_role_settings(catalog, values)
    exclusions = exclusion_entries(catalog, (), settings.install_dir)
    rules = [rule for key in settings.tables for rule in table_rules(catalog, RULE_TABLES[key], settings, exclusions)]
    _check_unique_names(rules)
    plan = {
        "state": settings.state,
        "group": GROUP,
        "exclusive": settings.exclusive,
        "rules": rules,
        "exclusions": {
            kind: [e["path"] for e in exclusions if e["kind"] == entry] if settings.av_exclusions else []
            for kind, entry in EXCLUSION_KINDS.items()
        },
    }
    return {**plan, "text": rules_text(plan) + exclusions_text(plan)}


def check_role_settings(catalog: Catalog, values: Any) -> Settings:
    """The role's variables validated against its argument spec (types, choices, defaults, booleans as Ansible
    reads them), then every rule the spec cannot state; IgorPlanError listing every problem otherwise."""
    problems = Problems(SPEC_ROLE, IgorPlanError)
    given = check_settings(role_spec(SPEC_ROLE), values, problems)
    bacnet = given["igor_gateway_bacnet"]

    def written(version: Any) -> Any:
        """The version as written: the spec's str coercion turns an unquoted 1.20 (a float) into '1.2', null into ''."""
        raw = values.get("igor_gateway_version")
        return raw if raw is None or isinstance(raw, float) else version

    def checked(name: str, check: Callable[[Any], Any], fallback: Any) -> Any:
        try:
            return check(given[name])
        except PortsError as exc:
            problems.add(str(exc))
            return fallback

    settings = Settings(
        version=checked(
            "igor_gateway_version",
            lambda value: check_igor_version(
                catalog, written(value), tables_for(bacnet=bacnet), "igor_gateway_version"
            ),
            "",
        ),
        bacnet=bacnet,
        install_dir=checked("igor_gateway_install_dir", lambda value: check_install_dir_or_default(catalog, value), ""),
        networks={
            table.networks: checked(
                table.networks, lambda value, name=table.networks: check_remote_scope(value, name), ()
            )
            for table in RULE_TABLES.values()
        },
        profiles=checked("igor_gateway_firewall_profiles", check_profiles, ()),
        outbound_rules=given["igor_gateway_outbound_rules"],
        av_exclusions=given["igor_gateway_av_exclusions"],
        state=given["igor_gateway_state"],
        exclusive=given["igor_gateway_exclusive"],
    )
    problems.raise_if_any()
    return settings


def tables_for(*, bacnet: bool) -> list[str]:
    """The catalog tables the role turns into rules: the gateway's, and the BACnet service's when asked."""
    return ["gateway", "bacnet"] if bacnet else ["gateway"]


def check_install_dir_or_default(catalog: Catalog, value: Any) -> str:
    """The install directory; unset (None) means the document's own, which the catalog holds."""
    if value is None:
        return catalog.default_install_dir
    return check_install_dir(value, "igor_gateway_install_dir")


def check_profiles(value: Sequence[str]) -> tuple[str, ...]:
    """Firewall profiles (the spec checked each) in Windows' order, each once; at least one."""
    if not value:
        raise IgorPlanError(
            f"igor_gateway_firewall_profiles: the list is empty; give at least one of {', '.join(PROFILES)}"
        )
    return tuple(profile for profile in PROFILES if profile in value)


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
            split = len(merged) > 1
            rule = _rule(table, title, labels, direction, service=service, protocol=protocol, span=span, split=split)
            rule |= common
            keyed.append(((list(DIRECTIONS).index(direction), protocol, span), rule))
    return [rule for _, rule in sorted(keyed, key=lambda item: item[0])]


def _rule(
    table: RuleTable,
    title: str,
    labels: Mapping[str, str],
    direction: str,
    *,
    service: str,
    protocol: str,
    span: tuple[int, int],
    split: bool,
) -> dict[str, Any]:
    """Name, description, direction, protocol and port of one rule, and the catalog service and span it opens.

    win_firewall_rule compares LocalPorts/RemotePorts as exact strings (community.windows#99), so a rule holds one
    port or one range, never a comma list; a service whose ports are not contiguous gets one rule per span, and
    those rules carry their ports in the name.
    """
    windows_direction, suffix, port_option = DIRECTIONS[direction]
    label = labels[service]
    ports = range_text(*span)
    shown = f"{label} {ports}" if split else label
    return {
        "name": f"{table.name_prefix} - {shown} ({protocol.upper()}-{suffix})",
        "description": f"{title}: {label}, {protocol.upper()} {ports}, {direction}. Managed by {ROLE}.",
        "direction": windows_direction,
        "protocol": protocol,
        port_option: ports,
        "service": service,
        "start": span[0],
        "end": span[1],
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


# ---- the plan as text, for a review (site.yml's plan-only mode, otnet.ports.plan) ---------------------


def rules_text(plan: Mapping[str, Any]) -> str:
    """The Windows Firewall rules the role would apply, as a table for a review (the plan's ``text`` starts with it)."""
    rules = plan["rules"]
    width = max([4, *(len(rule["name"]) for rule in rules)])
    row = "{:<{w}}  {:<3}  {:<5}  {:<11}  {}"
    lines = [
        f'igor_gateway plan ({plan["state"]}), firewall group "{plan["group"]}"'
        + (", exclusive" if plan.get("exclusive") else ""),
        row.format("rule", "dir", "proto", "port", "remote addresses", w=width),
    ]
    for rule in rules:
        port = rule["localport"] if "localport" in rule else f"{rule.get('remoteport', '')} (remote)"
        lines.append(row.format(rule["name"], rule["direction"], rule["protocol"], port, rule["remoteip"], w=width))
    if rules:
        programs = list(dict.fromkeys(rule["program"] for rule in rules if "program" in rule))
        lines.append(
            f"profiles: {', '.join(rules[0]['profiles'])}" + (f"; program: {', '.join(programs)}" if programs else "")
        )
    return "\n".join(lines) + "\n"


def exclusions_text(plan: Mapping[str, Any]) -> str:
    """The Microsoft Defender exclusions the role would add (or, for state absent, remove)."""
    exclusions = plan["exclusions"]
    paths, processes = exclusions.get("paths") or [], exclusions.get("processes") or []
    head = "Microsoft Defender exclusions" + (" (none)" if not (paths or processes) else ":")
    return "\n".join([head, *(f"  path     {p}" for p in paths), *(f"  process  {p}" for p in processes)]) + "\n"
