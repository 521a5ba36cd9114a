"""Boundary devices: a segment host's plan as an aerleon policy, rendered for the network devices that guard the same
controllers (a Cisco or Juniper router, a Palo Alto or FortiGate firewall ...).

The plan is the ``opto22_segment_plan`` filter's (with details): ``controllers {ipv4, ipv6}``, ``conduits`` and
``outbound`` with their resolved ``flows``. The policy says what the role's own table says, in aerleon's words:

* a conduit admits its sources to the controllers on its flows' ports, one term per conduit and protocol;
* an outbound entry admits the controllers to its destinations on its flows' ports, the same way;
* everything else to and from the controllers is denied (two final deny terms).

Address-based targets (cisco, ciscoasa, cisconx, arista, juniper) get one filter with every term, both address
families (``mixed``). Cisco-family targets use plain extended ACL entries: aerleon's object-group mode references
port groups it does not define for ranges such as 2002-2003. aerleon's ciscoasa renders IPv4 entries only, so it is
refused for a plan with IPv6 addresses rather than rendered without them. nftables gets one filter (table) per
address family in the ``forward`` hook, policy accept: what is neither to nor from the controllers passes, as on the
role's own host. Zone-based targets (srx, paloalto, fortigate) get one filter per zone pair: from the conduit's
zone (its name) to the host's zone (the controllers' zone, named after the host), from the host's zone to each
outbound entry's zone (its name), and a global filter last that denies everything else to and from the controllers.
windows_advfirewall gets an inbound and an outbound filter of allow rules only (Windows Firewall applies block rules
before allow rules; the profiles' defaults must block).

``Checker`` answers what a target's policy does with one packet, with aerleon's own AclCheck.

aerleon (PyPI ``aerleon``) is imported on first use; a controller without it gets an error naming the package.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ._errors import MissingDependencyError, PortsError, unknown_name
from ._plain import plain

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}", re.ASCII)
NAME_RULE = "a name of at most 48 letters, digits, '_', '.' or '-', starting with a letter or digit"
DEFAULT_HOST = "segment"
ROLE_PREFIX = "opto22_segment_"
CONTROLLERS = "CONTROLLERS"
ACL_NAME = "otnet-opto22"  # the ACL / firewall filter name on address-based targets
KINDS = {"conduits": ("sources", "in"), "outbound": ("destinations", "out")}
_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


Terms = dict[str, list[tuple[str, list[dict[str, Any]]]]]  # kind -> (entry name, its accept terms) in plan order


class BoundaryError(PortsError):
    """The plan or the target cannot be rendered as a boundary policy."""


@dataclass(frozen=True)
class Target:
    """An aerleon target and how its filters are laid out: ``acl`` (one filter), ``family`` (one per address
    family), ``zone`` (one per zone pair and a global one) or ``windows`` (one per direction)."""

    name: str
    layout: str


ADDRESS_TARGETS = {  # header options; a mixed Cisco-family filter names its IPv6 ACL ipv6-<name>
    "cisco": f"{ACL_NAME} mixed",
    "ciscoasa": ACL_NAME,  # IPv4 only: aerleon's ciscoasa renders no IPv6 entries (refused below)
    "cisconx": f"{ACL_NAME} mixed",
    "arista": f"{ACL_NAME} mixed",
    "juniper": f"{ACL_NAME}-v mixed",  # a mixed Junos filter is named <name>4 and <name>6
}
# nftables: one filter (table) per family, in the forward hook; what concerns no controller passes, as on the role's
# own host. aerleon's mixed nftables filter repeats every rule, and a single-family filter renders a term whose
# addresses are all of the other family without any address match - so each family's filter gets only the terms
# that have addresses of that family.
NFTABLES_OPTIONS = {"inet": "inet forward ACCEPT", "inet6": "inet6 forward ACCEPT"}
ZONE_ALL = {"srx": "all", "paloalto": "any", "fortigate": "any"}  # each target's word for "every zone"
ZONE_OPTIONS = {"srx": "", "paloalto": " mixed", "fortigate": ""}
# Windows Firewall applies block rules before any allow rule, whatever their order: its filters hold only the allow
# rules, and the profiles' default actions block the rest.
WINDOWS_NOTE = (
    "Windows Firewall applies block rules before allow rules: these are the allow rules only; block the rest with "
    "the profiles' defaults (netsh advfirewall set allprofiles firewallpolicy blockinbound,blockoutbound)"
)
IPV4_ONLY = frozenset({"ciscoasa"})
TARGETS: dict[str, Target] = {
    **{name: Target(name, "acl") for name in ADDRESS_TARGETS},
    "nftables": Target("nftables", "family"),
    **{name: Target(name, "zone") for name in ZONE_ALL},
    "windows_advfirewall": Target("windows_advfirewall", "windows"),
}
EXTRA_PORTS = "chart_logic"  # the plan's service key of a conduit's own extra ports: named per conduit


@functools.cache
def aerleon_modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """aerleon's ``api``, ``naming`` and ``aclcheck`` modules; an error naming the package when it is missing."""
    try:
        from aerleon import api  # noqa: PLC0415 - optional: only the boundary filters need it
        from aerleon.lib import aclcheck, naming  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError(
            "the boundary filters need the Python package 'aerleon' on the Ansible controller "
            f"(pip install aerleon): {exc}"
        ) from exc
    return api, naming, aclcheck


def check_target(target: Any) -> Target:
    """The named target; an error listing the supported ones otherwise."""
    if not isinstance(target, str) or target not in TARGETS:
        raise unknown_name("boundary target", target, TARGETS, "target", BoundaryError)
    return TARGETS[target]


def check_host(host: Any) -> str:
    """The host's name, the controllers' zone on zone-based targets."""
    if not isinstance(host, str) or not NAME_RE.fullmatch(host):
        raise BoundaryError(f"host: {host!r} is not a zone name; {NAME_RULE}")
    return str(host)  # a plain str: Ansible's tagged strings do not dump as YAML


# --- plan -> policy and definitions ------------------------------------------------------------------------------


def plan_of(value: Any, overlay: Any = None) -> Any:
    """The plan itself, or the plan of the role's variables (by their full names) with the site overlay."""
    if not isinstance(value, Mapping) or "controllers" in value:
        return value
    if not any(str(key).startswith(ROLE_PREFIX) for key in value):
        return value
    from ._catalog import load_catalog  # noqa: PLC0415 - only the settings form needs the planner
    from ._opto22_segment_plan import plan_segment  # noqa: PLC0415

    return plan_segment(load_catalog().with_overlay(overlay, "site overlay (otnet_ports_overlay)"), value)


def check_plan(plan: Any) -> Mapping[str, Any]:
    """The plan, when it has what a boundary policy is made of."""
    if not isinstance(plan, Mapping):
        raise BoundaryError(f"the plan must be the dict opto22_segment_plan returns, got {type(plan).__name__}")
    if plan.get("state", "present") != "present":
        raise BoundaryError(f"state: {plan.get('state')!r}; a plan of a removed policy has no boundary policy")
    missing = [key for key in ("controllers", "conduits", "outbound") if key not in plan]
    if missing:
        raise BoundaryError(
            f"the plan has no {', '.join(missing)}; make it with opto22_segment_plan(details=true) (the default)"
        )
    controllers = plan["controllers"]
    if not isinstance(controllers, Mapping) or not (controllers.get("ipv4") or controllers.get("ipv6")):
        raise BoundaryError(f"controllers: {controllers!r}; a boundary policy needs at least one controller address")
    return {key: plain(plan[key]) for key in ("controllers", "conduits", "outbound")}


def boundary_policy(plan: Any, host: Any = DEFAULT_HOST) -> dict[str, Any]:
    """The plan as aerleon data: ``policy`` (the policy file's content, every supported target in its headers)
    and ``definitions`` (``networks`` and ``services``, the definitions file's content)."""
    plan = check_plan(plan)
    host = check_host(host)
    names = _Names()
    networks = {CONTROLLERS: _network_values(_controller_addresses(plan["controllers"]), "controllers")}
    services: dict[str, list[dict[str, Any]]] = {}
    service_names = _service_names(plan, names)
    terms: Terms = {"conduits": [], "outbound": []}
    for kind, (peers, direction) in KINDS.items():
        for index, entry in enumerate(plan[kind] or ()):
            if not entry.get("flows"):
                continue  # a conduit that documents that a zone gets nothing: the deny terms say it
            network = names.network(direction, entry["name"])
            networks[network] = _network_values(entry[peers], f"{kind}[{index}].{peers} ({entry['name']})")
            terms[kind].append((entry["name"], _entry_terms(kind, entry, network, service_names, services)))
    families = {name: _families(value["values"]) for name, value in networks.items()}
    definitions = {"networks": networks, "services": dict(sorted(services.items()))}
    policy = {"filename": host, "filters": _filters(host, terms, families)}
    return {"policy": policy, "definitions": definitions}


class _Names:
    """aerleon definition names (letters, digits, '_' and '-'), unique even where sanitised names collide."""

    def __init__(self) -> None:
        self.taken: set[str] = {CONTROLLERS}

    def unique(self, wanted: str) -> str:
        name, count = wanted, 1
        while name in self.taken:
            count += 1
            name = f"{wanted}_{count}"
        self.taken.add(name)
        return name

    def network(self, direction: str, entry: str) -> str:
        return self.unique(f"{direction.upper()}_{_token(entry)}")


def _token(name: str) -> str:
    return _TOKEN_UNSAFE.sub("_", name).upper()


def _controller_addresses(controllers: Mapping[str, Any]) -> list[str]:
    return [*(controllers.get("ipv4") or ()), *(controllers.get("ipv6") or ())]


def _network_values(addresses: Iterable[str], where: str) -> dict[str, Any]:
    values = []
    for address in addresses:
        try:
            ipaddress.ip_network(address, strict=True)
        except ValueError as exc:
            raise BoundaryError(f"{where}: {address!r} is not an address or network ({exc})") from exc
        values.append({"address": address})
    if not values:
        raise BoundaryError(f"{where}: no addresses")
    return {"values": values}


def _service_names(plan: Mapping[str, Any], names: _Names) -> dict[tuple[str, str, str], str]:
    """A definition name per (kind, entry, service key): the key's own name when every entry that uses the key
    opens the same ports per protocol with it (catalog services), else one name per entry (chart-logic ports)."""
    uses = list(_service_uses(plan))
    seen: dict[tuple[str, str], set[tuple[tuple[int, int], ...]]] = {}
    for _kind, _entry, key, protocol, ranges in uses:
        seen.setdefault((key, protocol), set()).add(ranges)
    split = {key for (key, _protocol), found in seen.items() if len(found) > 1}
    shared: dict[str, str] = {}
    result: dict[tuple[str, str, str], str] = {}
    for kind, entry, key, _protocol, _ranges in uses:
        if (kind, entry, key) in result:
            continue
        if key in split or key == EXTRA_PORTS:
            result[(kind, entry, key)] = names.unique(f"{_token(entry)}_{_token(key)}")
        else:
            result[(kind, entry, key)] = shared.get(key) or shared.setdefault(key, names.unique(_token(key)))
    return result


def _service_uses(plan: Mapping[str, Any]) -> Iterable[tuple[str, str, str, str, tuple[tuple[int, int], ...]]]:
    """(kind, entry name, service key, protocol, port ranges) for each service an entry uses, per protocol."""
    for kind in KINDS:
        for entry in plan[kind] or ():
            grouped: dict[tuple[str, str], list[tuple[int, int]]] = {}
            for flow in entry.get("flows") or ():
                grouped.setdefault((str(flow["service"]), flow["protocol"]), []).append(
                    (int(flow["start"]), int(flow["end"]))
                )
            for (key, protocol), ranges in grouped.items():
                yield kind, entry["name"], key, protocol, tuple(sorted(ranges))


def _entry_terms(
    kind: str,
    entry: Mapping[str, Any],
    network: str,
    service_names: Mapping[tuple[str, str, str], str],
    services: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """One accept term per protocol of a conduit (sources -> controllers) or outbound entry (the reverse)."""
    _peers, direction = KINDS[kind]
    by_protocol: dict[str, list[str]] = {}
    for flow in entry["flows"]:
        name = service_names[(kind, entry["name"], str(flow["service"]))]
        item = {"port": _port(flow), "protocol": flow["protocol"]}
        if item not in services.setdefault(name, []):
            services[name].append(item)
        if name not in by_protocol.setdefault(flow["protocol"], []):
            by_protocol[flow["protocol"]].append(name)
    source, destination = (network, CONTROLLERS) if kind == "conduits" else (CONTROLLERS, network)
    keys = ", ".join(entry.get("services") or sorted({str(flow["service"]) for flow in entry["flows"]}))
    return [
        {
            "name": f"{direction}-{entry['name']}-{protocol}",
            "comment": f"{kind} {entry['name']}: {keys}",
            "source-address": source,
            "destination-address": destination,
            "protocol": protocol,
            "destination-port": " ".join(ports),
            "action": "accept",
        }
        for protocol, ports in sorted(by_protocol.items())
    ]


def _port(flow: Mapping[str, Any]) -> int | str:
    start, end = int(flow["start"]), int(flow["end"])
    return start if start == end else f"{start}-{end}"


DENY_TO = {
    "name": "deny-to-controllers",
    "comment": "everything else to the controllers",
    "destination-address": CONTROLLERS,
    "action": "deny",
}
DENY_FROM = {
    "name": "deny-from-controllers",
    "comment": "everything else from the controllers",
    "source-address": CONTROLLERS,
    "action": "deny",
}


def _families(values: Iterable[Mapping[str, str]]) -> frozenset[str]:
    return frozenset(FAMILY[ipaddress.ip_network(value["address"]).version] for value in values)


FAMILY = {4: "inet", 6: "inet6"}


def _has_family(term: Mapping[str, Any], family: str, families: Mapping[str, frozenset[str]]) -> bool:
    """Whether every address field of the term has addresses of the family."""
    fields = (term.get("source-address"), term.get("destination-address"))
    return all(family in families[name] for name in fields if name)


def _filters(host: str, terms: Terms, families: Mapping[str, frozenset[str]]) -> list[dict[str, Any]]:
    comment = f"otnet.ports boundary policy of {host}: its conduits and outbound flows, nothing else to or from them"
    every_term = [term for kind in KINDS for _entry, entry_terms in terms[kind] for term in entry_terms]
    every_term += [DENY_TO, DENY_FROM]
    filters = [{"header": {"targets": dict(ADDRESS_TARGETS), "comment": comment}, "terms": every_term}]
    filters += [
        {
            "header": {"targets": {"nftables": options}, "comment": comment},
            "terms": [term for term in every_term if _has_family(term, family, families)],
        }
        for family, options in NFTABLES_OPTIONS.items()
        if family in families[CONTROLLERS]
    ]
    filters += _zone_filters(host, terms)
    filters += _windows_filters(terms)
    return filters


def _zone_filters(host: str, terms: Terms) -> list[dict[str, Any]]:
    """A filter per conduit (its zone -> the host's) and outbound entry (the host's zone -> its), a global last."""
    filters = [
        {
            "header": {"targets": _zone_targets(entry, host) if kind == "conduits" else _zone_targets(host, entry)},
            "terms": entry_terms,
        }
        for kind in KINDS
        for entry, entry_terms in terms[kind]
    ]
    every = {target: _zone_header(target, zone, zone) for target, zone in ZONE_ALL.items()}
    filters.append({"header": {"targets": every}, "terms": [DENY_TO, DENY_FROM]})
    return filters


def _zone_targets(source: str, destination: str) -> dict[str, str]:
    return {target: _zone_header(target, source, destination) for target in ZONE_ALL}


def _zone_header(target: str, source: str, destination: str) -> str:
    return f"from-zone {source} to-zone {destination}{ZONE_OPTIONS[target]}"


def _windows_filters(terms: Terms) -> list[dict[str, Any]]:
    """An inbound (conduits) and an outbound filter of allow rules."""
    filters = []
    for kind in KINDS:
        kind_terms = [term for _entry, entry_terms in terms[kind] for term in entry_terms]
        if kind_terms or kind == "conduits":
            header = {"targets": {"windows_advfirewall": KINDS[kind][1]}, "comment": WINDOWS_NOTE}
            filters.append({"header": header, "terms": kind_terms})
    return filters


# --- rendering ---------------------------------------------------------------------------------------------------


def target_policy(bundle: Mapping[str, Any], target: Any) -> dict[str, Any]:
    """The policy's filters of one target only, with that target alone in their headers."""
    name = check_target(target).name
    policy = bundle["policy"]
    filters = []
    for entry in policy["filters"]:
        targets = entry["header"]["targets"]
        if name in targets:
            header = {**copy.deepcopy(entry["header"]), "targets": {name: targets[name]}}
            filters.append({"header": header, "terms": copy.deepcopy(entry["terms"])})
    return {"filename": policy["filename"], "filters": filters}


def naming(bundle: Mapping[str, Any]) -> Any:
    """aerleon's Naming object of the bundle's definitions."""
    _api, naming_module, _aclcheck = aerleon_modules()
    names = naming_module.Naming()
    names.ParseDefinitionsObject(copy.deepcopy(dict(bundle["definitions"])), "otnet.ports")
    return names


def render(bundle: Mapping[str, Any], target: Any) -> str:
    """The text aerleon renders for one target."""
    _check_families(bundle, target)
    policy = target_policy(bundle, target)
    api, _naming, _aclcheck = aerleon_modules()
    try:
        configs = api.Generate([policy], naming(bundle))
    except Exception as exc:  # aerleon raises many unrelated types; name the target and keep the cause
        raise BoundaryError(f"target: aerleon could not render {target!r}: {exc}") from exc
    if not configs or len(configs) != 1:
        raise BoundaryError(f"target: aerleon rendered {sorted(configs or {})} for {target!r}; expected one file")
    return next(iter(configs.values()))


def _check_families(bundle: Mapping[str, Any], target: Any) -> None:
    """Refuse a target that would silently leave out the plan's IPv6 addresses."""
    ipv6 = ipv6_addresses(bundle) if check_target(target).name in IPV4_ONLY else []
    if ipv6:
        raise BoundaryError(
            f"target: aerleon's {target!r} renders IPv4 entries only, and the plan has IPv6 addresses "
            f"({', '.join(ipv6[:3])}{' ...' if len(ipv6) > 3 else ''}); choose a target that renders both families"
        )


def ipv6_addresses(bundle: Mapping[str, Any]) -> list[str]:
    """The IPv6 addresses of the bundle's networks, each after its network's name."""
    return [
        f"{name} {value['address']}"
        for name, network in bundle["definitions"]["networks"].items()
        for value in network["values"]
        if ipaddress.ip_network(value["address"]).version == 6
    ]


def renderable_targets(bundle: Mapping[str, Any]) -> list[str]:
    """The supported targets that render this bundle (the IPv4-only ones only for a plan without IPv6)."""
    refused = IPV4_ONLY if ipv6_addresses(bundle) else frozenset()
    return [name for name in sorted(TARGETS) if name not in refused]


def suffix(target: Any) -> str:
    """aerleon's own file extension for the target (``.acl``, ``.srx`` ...)."""
    name = check_target(target).name
    aerleon_modules()
    from aerleon.lib import plugin_supervisor  # noqa: PLC0415 - optional dependency, loaded after the guard

    plugin_supervisor.PluginSupervisor.Start()
    return plugin_supervisor.PluginSupervisor.generators[name].SUFFIX


# --- verdicts ----------------------------------------------------------------------------------------------------


class Checker:
    """What one target's policy does with a packet, by aerleon's own AclCheck: ``accept`` or ``deny``.

    The first exact match of the first filter that has one decides. Filters are read the way the platform reads
    them: address-based ones in order, nftables the table of the packet's family, zone-based ones the zone pair's
    filter and then the global one, Windows the filter of the direction (inbound when the destination is a
    controller). No match is ``deny``: every target's default for traffic to or from the controllers (nftables'
    forward ACCEPT only concerns traffic that is neither; Windows needs its profiles set to block, see WINDOWS_NOTE).
    """

    def __init__(self, bundle: Mapping[str, Any], target: Any) -> None:
        self.target = check_target(target)
        _api, _naming, aclcheck = aerleon_modules()
        from aerleon.lib import policy, policy_builder  # noqa: PLC0415 - optional dependency, after the guard

        self._aclcheck = aclcheck
        names = naming(bundle)
        whole = target_policy(bundle, target)
        self.headers = [entry["header"]["targets"][self.target.name] for entry in whole["filters"]]
        self.filters = [
            policy.FromBuilder(
                policy_builder.PolicyBuilder({"filename": whole["filename"], "filters": [copy.deepcopy(entry)]}, names)
            )
            for entry in whole["filters"]
        ]
        controllers = bundle["definitions"]["networks"][CONTROLLERS]["values"]
        self.controllers = [ipaddress.ip_network(value["address"]) for value in controllers]

    def verdict(
        self, source: str, destination: str, protocol: str, port: int, zones: Sequence[str] = ("any", "any")
    ) -> str:
        for index in self._order(source, destination, zones):
            check = self._aclcheck.AclCheck(self.filters[index], source, destination, "any", port, protocol)
            exact = check.ExactMatches()
            if exact:
                return "accept" if exact[0].action == "accept" else "deny"
        return "deny"

    def _order(self, source: str, destination: str, zones: Sequence[str]) -> list[int]:
        name, layout, headers = self.target.name, self.target.layout, self.headers
        indexes = range(len(headers))
        if layout == "zone":
            wanted = _zone_header(name, zones[0], zones[1])
            every = _zone_header(name, ZONE_ALL[name], ZONE_ALL[name])
            return [i for i in indexes if headers[i] == wanted] + [i for i in indexes if headers[i] == every]
        if layout == "family":
            family = FAMILY[ipaddress.ip_network(source, strict=False).version]
            return [i for i in indexes if headers[i] == NFTABLES_OPTIONS[family]]
        if layout == "windows":
            inbound = any(ipaddress.ip_network(destination, strict=False).subnet_of(c) for c in self._same(destination))
            return [i for i in indexes if headers[i] == ("in" if inbound else "out")]
        return list(indexes)

    def _same(self, address: str) -> list[Any]:
        version = ipaddress.ip_network(address, strict=False).version
        return [network for network in self.controllers if network.version == version]
