"""The site audit (``ansible-playbook otnet.ports.audit``): what each host has, against the plan the inventory gives
now, as findings with a severity and the IEC 62443-3-3 system requirement each check gives evidence for.

Segment hosts (role opto22_segment): the live ruleset (``nft -j list ruleset``, read-only) against the plan:
``in_sync``, ``drifted`` (the flows added and removed on the host, as flows), ``missing`` (no table), ``foreign``
(base chains of other tables that could accept traffic before ours); whether the boot-time unit is enabled as the
plan wants and whether the rules file on disk is the one the live table was loaded from; the hit counters.

Counters: the role's conduit and outbound sets carry a counter on every element (``_nft_render``: ``counter`` in
each set), and every drop rule has its own. An element is one disjoint piece ``peer . protocol . ports`` of what
the conduits admit; a conduit's counter is the sum over the elements inside what it admits (an element two conduits
share counts for both). No rule, object or lookup is added for it, so the packet path and the one-transaction load
are unchanged. The sets sit after ``ct state established,related accept``: a count is the packets that opened a
connection (or an unanswered datagram), not every packet of it. All counters start at zero when the table is
loaded, so they count since the last load.

Igor gateways: ``_igor_compare.compare`` of the host read with the plan, as findings; gateways the site handles
plan-only are ``not_audited`` and never contacted.

Everything here is pure: the playbook reads, this module decides, the playbook writes the three reports.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ._errors import PortsError
from ._igor_compare import compare as igor_compare
from ._nft_live import (
    UNNAMED,
    LiveElement,
    LiveTable,
    LiveTableError,
    Region,
    element_flows,
    parse_table,
    sort_flows,
    until_elements,
)
from ._nft_render import REV_LENGTH, rev_comment
from ._nft_sets import network_range
from ._portrange import range_text

SEVERITIES = ("error", "warning", "info")
FAILING = frozenset({"error", "warning"})
STATUSES = ("in_sync", "drifted", "missing", "foreign", "unreachable", "not_audited")
# check -> (IEC 62443-3-3 system requirements it gives evidence for, what it checks)
CHECKS: dict[str, tuple[str, str]] = {
    "plan": ("SR 5.1", "the inventory gives a plan for the host (its settings pass the role's checks)"),
    "reachable": ("SR 6.1", "the host could be read (audit log accessibility)"),
    "table": ("SR 5.1", "the role's table is loaded (zone boundary in place)"),
    "drift": ("SR 5.1, SR 5.2", "the live flows are the flows the inventory plans (zone boundary protection)"),
    "foreign": ("SR 5.2", "no other table's base chain could accept traffic before the role's chains"),
    "boot_unit": ("SR 5.1", "the boot-time unit is enabled exactly when the plan persists the rules"),
    "rules_file": ("SR 5.1", "the rules file on disk is the one the live table was loaded from"),
    "hits": ("SR 2.8", "per-conduit hit counters and drop counters since the last load (auditable events)"),
    "rules": ("SR 5.1, SR 5.2", "the firewall rules of the role's group are the planned ones"),
    "exclusions": ("SR 5.1", "the Defender exclusions are the planned ones and no wider"),
    "open_to_any": ("SR 5.2", "no rule outside the group opens an Igor port to Any"),
    "audited": ("SR 6.1", "the host was audited (not handled plan-only)"),
}
SEGMENT_CHECKS = ("plan", "reachable", "table", "drift", "foreign", "boot_unit", "rules_file", "hits")
GATEWAY_CHECKS = ("plan", "reachable", "audited", "rules", "exclusions", "open_to_any")
HOOKS_BEFORE = ("prerouting", "input", "forward", "output")
FAMILIES_IP = frozenset({"ip", "ip6", "inet"})
PEERS = {"conduits": "sources", "outbound": "destinations"}
DROP_CHAINS = ("input", "to_segment", "from_segment")
OUTBOUND_KEY = "outbound/{}"  # counter key of an outbound entry; names never hold '/', so no clash with conduits


class AuditError(PortsError):
    """What the playbook handed the audit is not in the documented shape; the message names the key."""


Key = tuple[str, int, int, int, str, int, int]  # _nft_live.LiveElement.key: kind, version, lo, hi, protocol, ports
Piece = tuple[Key, "int | None"]  # an element and the instant (epoch seconds) its set stops admitting it, or None


def finding(check: str, severity: str, detail: str, flows: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"check": check, "severity": severity, "detail": detail, "flows": dict(flows) if flows else None}


def host_result(kind: str, status: str, reason: str | None = None, **parts: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "status": status,
        "reason": reason,
        "findings": parts.get("findings", []),
        "conduits": parts.get("conduits", {}),
        "no_hit": parts.get("no_hit", []),
        "drops": parts.get("drops", {}),
        "expiries": parts.get("expiries", []),
    }


def not_planned(kind: str, reason: str) -> dict[str, Any]:
    """A host whose plan (or read) failed: not audited, with an error finding saying why."""
    return host_result(
        kind, "not_audited", reason, findings=[finding("plan", "error", f"the host could not be audited: {reason}")]
    )


def unreachable(kind: str, reason: str) -> dict[str, Any]:
    return host_result(
        kind, "unreachable", reason, findings=[finding("reachable", "error", f"the host could not be read: {reason}")]
    )


# ---- nft JSON (the set elements come from _nft_live, the one parser of the live table) ---------------------------


def ruleset_items(ruleset: Any) -> list[Mapping[str, Any]]:
    """The objects of ``nft -j list ruleset`` (text or parsed), or AuditError."""
    if isinstance(ruleset, str):
        try:
            ruleset = json.loads(ruleset)
        except ValueError as exc:
            raise AuditError(f"ruleset: not the JSON of `nft -j list ruleset`: {exc}") from exc
    items = ruleset.get("nftables") if isinstance(ruleset, Mapping) else None
    if not isinstance(items, list):
        raise AuditError("ruleset: expected the JSON of `nft -j list ruleset` ({'nftables': [...]})")
    return [item for item in items if isinstance(item, Mapping)]


def _objects(items: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [item[kind] for item in items if isinstance(item.get(kind), Mapping)]


def _ours(obj: Mapping[str, Any], table: str) -> bool:
    return obj.get("family") == "inet" and obj.get("table", obj.get("name")) == table


def rev_in(text: str) -> str | None:
    """The rev a table comment (``otnet.ports.opto22_segment rev 0123456789abcdef``) names, or None."""
    match = re.search(re.escape(rev_comment("")) + f"([0-9a-f]{{{REV_LENGTH}}})", text)
    return match[1] if match else None


def drop_counts(items: Sequence[Mapping[str, Any]], table: str) -> dict[str, int]:
    """Packets dropped per chain of the role's table (the counters of its drop rules; the policy drop of chain
    input has no counter, so what only the policy drops is not counted)."""
    drops = dict.fromkeys(DROP_CHAINS, 0)
    for rule in _objects(items, "rule"):
        if not _ours(rule, table) or rule.get("chain") not in drops:
            continue
        exprs = [expr for expr in rule.get("expr", []) or [] if isinstance(expr, Mapping)]
        if any("drop" in expr for expr in exprs):
            drops[rule["chain"]] += sum(
                int(expr["counter"].get("packets", 0)) for expr in exprs if isinstance(expr.get("counter"), Mapping)
            )
    return drops


def foreign_chains(items: Sequence[Mapping[str, Any]], table: str) -> list[str]:
    """Base chains of other tables (ip, ip6, inet) that could accept traffic before the role's chains: on
    prerouting (always before), or on input/forward/output at a priority lower than or equal to the role's chain
    on that hook (0 where the role has none), with policy accept or a rule that accepts."""
    ours = {
        chain["hook"]: _priority(chain) for chain in _objects(items, "chain") if _ours(chain, table) and "hook" in chain
    }
    accepting = {
        (rule.get("family"), rule.get("table"), rule.get("chain"))
        for rule in _objects(items, "rule")
        if any(isinstance(expr, Mapping) and "accept" in expr for expr in rule.get("expr", []) or [])
    }
    named = []
    for chain in _objects(items, "chain"):
        hook = chain.get("hook")
        if _ours(chain, table) or chain.get("family") not in FAMILIES_IP or hook not in HOOKS_BEFORE:
            continue
        if hook != "prerouting" and _priority(chain) > ours.get(hook, 0):
            continue
        key = (chain.get("family"), chain.get("table"), chain.get("name"))
        policy = chain.get("policy", "accept")
        if policy == "accept" or key in accepting:
            why = "policy accept" if policy == "accept" else "rules that accept"
            named.append(f"table {key[0]} {key[1]} chain {key[2]} (hook {hook}, priority {_priority(chain)}, {why})")
    return named


def _priority(chain: Mapping[str, Any]) -> int:
    try:
        return int(chain.get("prio", 0))
    except (TypeError, ValueError):
        return 0


# ---- the plan's elements and flows ---------------------------------------------------------------------------------


def planned_pieces(plan: Mapping[str, Any]) -> list[Piece]:
    """The plan's set elements as (key comparable with ``LiveElement.key``, expiry epoch or None): ``plan.elements``
    and, for time-limited conduits, each ``plan.expiring`` group's (``peer . protocol . ports`` as rendered)."""
    groups = [(None, plan.get("elements") or {})]
    groups += [(group.get("epoch"), group.get("elements") or {}) for group in plan.get("expiring") or []]
    pieces: list[Piece] = []
    for until, by_set in groups:
        for name, elements in by_set.items():
            kind, _, family = name.rpartition("_")
            version = 6 if family == "v6" else 4
            for element in elements:
                peer, protocol, ports = (part.strip() for part in element["key"].split(" . "))
                lo, hi = _peer_range(peer)
                start, _, end = ports.partition("-")
                pieces.append(((kind, version, lo, hi, protocol, int(start), int(end or start)), until))
    return pieces


def live_pieces(items: Sequence[Mapping[str, Any]], table: str, live: LiveTable) -> dict[Piece, LiveElement]:
    """The live conduit and outbound elements by (key, expiry epoch or None): those of ``live`` (the unconditional
    sets) and those of the time-limited sets ``conduits_v4/6_until_EPOCH`` (``_nft_live.until_elements``)."""
    pieces: dict[Piece, LiveElement] = {(element.key, None): element for element in live.elements}
    for epoch, elements in until_elements({"nftables": list(items)}, table).items():
        pieces.update({(element.key, epoch): element for element in elements})
    return pieces


def rule_references(items: Sequence[Mapping[str, Any]], table: str) -> set[tuple[str, str]]:
    """(set, verdict) of every rule of the role's table that matches a set: ``... @conduits_v4 accept`` gives
    (``conduits_v4``, ``accept``), ``ip daddr @controllers_v4 jump to_segment`` (``controllers_v4``,
    ``jump to_segment``)."""
    found: set[tuple[str, str]] = set()
    for rule in _objects(items, "rule"):
        if not _ours(rule, table):
            continue
        exprs = [expr for expr in rule.get("expr") or [] if isinstance(expr, Mapping)]
        verdicts = ["accept" for e in exprs if "accept" in e]
        verdicts += [f"jump {e['jump'].get('target')}" for e in exprs if isinstance(e.get("jump"), Mapping)]
        for expr in exprs:
            right = expr["match"].get("right") if isinstance(expr.get("match"), Mapping) else None
            if isinstance(right, str) and right.startswith("@"):
                found.update((right[1:], verdict) for verdict in verdicts)
    return found


def _set_name(piece: Piece) -> str:
    (kind, version, *_), until = piece
    return f"{kind}_v{version}" + (f"_until_{until}" if until is not None else "")


def _peer_range(text: str) -> tuple[int, int]:
    if "-" in text and "/" not in text:
        first, last = (ipaddress.ip_address(part) for part in text.split("-"))
        return int(first), int(last)
    return network_range(ipaddress.ip_network(text, strict=False))


def _items_of(plan: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return [item for item in plan.get(kind, []) or [] if isinstance(item, Mapping)]


def admitting(item: Mapping[str, Any], kind: str, key: Key) -> list[str]:
    """The services of the plan's conduit (or outbound entry) ``item`` whose flows admit all of element ``key``."""
    _, version, lo, hi, protocol, start, end = key
    peers = [ipaddress.ip_network(peer, strict=False) for peer in item.get(PEERS[kind], [])]
    if not any(net.version == version and _inside(lo, hi, *network_range(net)) for net in peers):
        return []
    return list(
        dict.fromkeys(
            flow["service"]
            for flow in item.get("flows", [])
            if flow["protocol"] == protocol and _inside(start, end, flow["start"], flow["end"])
        )
    )


def _inside(lo: int, hi: int, outer_lo: int, outer_hi: int) -> bool:
    return outer_lo <= lo and hi <= outer_hi


def key_flows(
    plan: Mapping[str, Any], keys: Sequence[Key], labels: Mapping[Key, Sequence[Any]]
) -> list[dict[str, Any]]:
    """Elements as flows (``_nft_live.element_flows``: pieces joined per conduit, service and protocol): each element
    under every planned conduit and service that admits it, else under the labels its live comment gives, else
    under no name."""
    flows: list[dict[str, Any]] = []
    for kind in PEERS:
        for version in (4, 6):
            regions = [
                Region(str(conduit), str(service), key[4], key[2], key[3], key[5], key[6])
                for key in keys
                if key[0] == kind and key[1] == version
                for conduit, service in _owners(plan, kind, key, labels.get(key, ()))
            ]
            controllers = (plan.get("controllers") or {}).get(f"ipv{version}", [])
            flows += element_flows(kind, version, regions, controllers)
    return [_flow(flow) for flow in sort_flows(flows)]


def _owners(plan: Mapping[str, Any], kind: str, key: Key, labels: Sequence[Any]) -> list[tuple[str, str]]:
    owners = [(item["name"], service) for item in _items_of(plan, kind) for service in admitting(item, kind, key)]
    return owners or [(str(c), str(s)) for c, s in labels] or [(UNNAMED, "")]


def _flow(flow: Mapping[str, Any]) -> dict[str, Any]:
    """A flow object of the report: conduit, sources, destinations, protocol, start, end, service, direction."""
    return {
        "conduit": flow["conduit"] or None,
        "sources": list(flow["sources"]),
        "destinations": list(flow["destinations"]),
        "protocol": flow["protocol"],
        "start": flow["start"],
        "end": flow["end"],
        "service": flow["service"] or None,
        "direction": flow["direction"],
    }


def flow_text(flow: Mapping[str, Any]) -> str:
    service = f" ({flow['service']})" if flow["service"] else ""
    return (
        f"{flow['conduit'] or '(no conduit)'}: {', '.join(flow['sources'])} -> {', '.join(flow['destinations'])} "
        f"{range_text(flow['start'], flow['end'])}/{flow['protocol']}{service}"
    )


# ---- segment hosts -------------------------------------------------------------------------------------------------


def segment_host(plan: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]:
    """One opto22_segment host: ``plan`` (opto22_segment_plan, from the role's plan entry point) and ``read``, what
    the audit playbook's one read-only command printed: {ruleset (``nft -j list ruleset``, text or parsed),
    table_comment (the live table's comment), listing (``same``: the live table's stateless listing is the one
    recorded right after the last load, ``changed``, or ``unrecorded``), file_sha1 and file_comment (the rules
    file's SHA-1 and table comment; '' without the file), unit (``systemctl is-enabled``)}, or {unreachable}."""
    if read.get("unreachable"):
        return unreachable("segment", str(read["unreachable"]))
    if read.get("failed"):
        return not_planned("segment", str(read["failed"]))
    table = _key(plan, "table")
    if read.get("ruleset") in (None, ""):
        return host_result(
            "segment", "unreachable", "nft -j list ruleset printed nothing (is nft installed, is the user root?)",
            findings=[finding("reachable", "error", "the ruleset could not be listed (nft -j list ruleset)")],
        )  # fmt: skip
    items = ruleset_items(read["ruleset"])
    try:
        live = parse_table({"nftables": list(items)}, table)
    except LiveTableError as exc:
        raise AuditError(f"ruleset: {exc}") from exc
    if plan.get("state") == "absent":
        return _absent_segment(table, live)
    findings = _foreign_findings(items, table)
    if live is None:
        findings.insert(0, finding("table", "error", f"no table inet {table}: the segment is not protected"))
        return host_result("segment", "missing", findings=[*findings, *_unit_findings(plan, read)])
    rev = rev_in(str(read.get("table_comment") or "")) or ""
    have = live_pieces(items, table, live)
    drift = _drift_finding(plan, items, live, have, rev=rev, listing=str(read.get("listing") or "unrecorded"))
    conduits, no_hit = hit_counts(plan, have.values())
    findings = [
        *([drift] if drift else []),
        *findings,
        *_unit_findings(plan, read),
        *_file_findings(plan, read, rev, drifted=drift is not None),
        *(
            finding("hits", "info", f"{name} admitted nothing since the last load: a candidate for removal")
            for name in no_hit
        ),
    ]
    status = "drifted" if drift else "foreign" if any(f["check"] == "foreign" for f in findings) else "in_sync"
    return host_result(
        "segment", status, findings=findings, conduits=conduits, no_hit=no_hit, drops=drop_counts(items, table),
        expiries=expiries(plan),
    )  # fmt: skip


def _absent_segment(table: str, live: LiveTable | None) -> dict[str, Any]:
    if live is None:
        return host_result("segment", "in_sync")
    detail = f"opto22_segment_state is absent, but table inet {table} is loaded"
    return host_result("segment", "drifted", findings=[finding("drift", "error", detail)])


def _key(plan: Mapping[str, Any], key: str) -> Any:
    if not isinstance(plan, Mapping) or key not in plan:
        raise AuditError(f"plan: no {key!r}; expected opto22_segment_plan from the role's plan entry point")
    return plan[key]


def _drift_finding(
    plan: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    live: LiveTable,
    have: Mapping[Piece, LiveElement],
    *,
    rev: str,
    listing: str,
) -> dict[str, Any] | None:
    """Flows added and removed (the live elements against the planned ones; the elements of a set no rule accepts
    from any more count as removed), the zone and management sets and the chains that send traffic to the conduit
    chains, the revision the table was loaded from, and rules changed by hand since the load (the stateless listing
    against the one the role recorded)."""
    planned = planned_pieces(plan)
    wanted = set(planned)
    references = rule_references(items, live.table)
    have = {piece: element for piece, element in have.items() if (_set_name(piece), "accept") in references}
    added_pieces = [piece for piece in have if piece not in wanted]
    added = key_flows(plan, [key for key, _ in added_pieces], {key: have[key, u].labels for key, u in added_pieces})
    removed = key_flows(plan, [key for key, until in planned if (key, until) not in have], {})
    parts = []
    if removed:
        parts.append(f"{len(removed)} planned flow(s) missing on the host: " + "; ".join(map(flow_text, removed)))
    if added:
        parts.append(
            f"{len(added)} flow(s) on the host the inventory does not plan: " + "; ".join(map(flow_text, added))
        )
    parts += _set_differences(plan, live)
    parts += [
        f"traffic {way} the controllers (IPv{version}) no longer goes through chain {chain}: the forward chain's "
        f"policy accepts it unfiltered"
        for version in (4, 6)
        for way, chain in (("to", "to_segment"), ("from", "from_segment"))
        if (plan.get("controllers") or {}).get(f"ipv{version}")
        and (f"controllers_v{version}", f"jump {chain}") not in references
    ]
    if rev != plan.get("rev"):
        parts.append(
            f"the live table was loaded from rev {rev or 'unknown'}, the inventory plans rev {plan.get('rev')} "
            "(the site playbook would load it)"
        )
    if listing == "changed":
        parts.append(
            "the table's rules changed by hand since the last load (its listing differs from the recorded one)"
        )
    if not parts:
        return None
    return finding("drift", "error", "; ".join(parts), {"added": added, "removed": removed})


def _set_differences(plan: Mapping[str, Any], live: LiveTable) -> list[str]:
    management = plan.get("management") or {}
    pairs = (
        ("controllers", plan.get("controllers") or {}, live.controllers),
        ("management stations", management.get("sources") or {}, live.management_sources),
    )
    out = [
        f"{what}: the host has {_family_text(have)}, the inventory plans {_family_text(want)}"
        for what, want, have in pairs
        if {f: sorted(want.get(f, [])) for f in ("ipv4", "ipv6")}
        != {f: sorted(have.get(f, [])) for f in ("ipv4", "ipv6")}
    ]
    if management.get("port") is not None and live.management_port != management.get("port"):
        out.append(
            f"management SSH port: the host has {live.management_port}, the inventory plans {management['port']}"
        )
    return out


def _family_text(by_family: Mapping[str, Sequence[str]]) -> str:
    return ", ".join([*by_family.get("ipv4", []), *by_family.get("ipv6", [])]) or "none"


def _foreign_findings(items: Sequence[Mapping[str, Any]], table: str) -> list[dict[str, Any]]:
    return [
        finding("foreign", "error", f"{chain} could accept traffic before table inet {table}")
        for chain in foreign_chains(items, table)
    ]


ENABLED = frozenset({"enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "linked"})


def _unit_findings(plan: Mapping[str, Any], read: Mapping[str, Any]) -> list[dict[str, Any]]:
    state = str(read.get("unit") or "").strip() or "not-found"
    unit = plan.get("unit_name", "the boot-time unit")
    persist = bool(plan.get("persist"))
    if persist != (state in ENABLED):
        return [
            finding("boot_unit", "warning", f"{unit} is {state}, but opto22_segment_persist is {str(persist).lower()}")
        ]
    return []


def _file_findings(
    plan: Mapping[str, Any], read: Mapping[str, Any], rev: str, *, drifted: bool
) -> list[dict[str, Any]]:
    path = (plan.get("paths") or {}).get("rules", "the rules file")
    if not read.get("file_sha1"):
        return [finding("rules_file", "warning", f"{path} does not exist: nothing to load the table from at boot")]
    file_rev = rev_in(str(read.get("file_comment") or ""))
    if file_rev is None:
        return [finding("rules_file", "warning", f"{path} is not a rules file the role wrote")]
    if file_rev != rev:
        return [
            finding(
                "rules_file",
                "warning",
                f"{path} is rev {file_rev}; the live table was loaded from rev {rev or 'unknown'}",
            )
        ]
    planned_sha1 = hashlib.sha1(str(plan.get("text", "")).encode("utf-8")).hexdigest()  # noqa: S324 - as the role
    if file_rev == plan.get("rev") and read["file_sha1"] != planned_sha1:
        return [finding("rules_file", "warning", f"{path} names rev {file_rev} but was edited after the role wrote it")]
    if drifted and file_rev == plan.get("rev"):
        return [finding("rules_file", "warning", f"{path} is rev {rev}, but the live table changed since its load")]
    return []


def hit_counts(plan: Mapping[str, Any], elements: Iterable[LiveElement]) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Packets and bytes per conduit (and per outbound entry, as ``outbound/NAME``) since the last load: the sum of
    the counters of the live elements inside what it admits; and the ones that admitted nothing - never one that
    admits nothing by design (no flows: ``services: []`` and no ports)."""
    counts: dict[str, dict[str, int]] = {}
    no_hit: list[str] = []
    elements = list(elements)
    for kind in PEERS:
        for item in _items_of(plan, kind):
            name = item["name"] if kind == "conduits" else OUTBOUND_KEY.format(item["name"])
            inside = [e for e in elements if e.kind == kind and admitting(item, kind, e.key)]
            counts[name] = {
                "packets": sum(e.packets or 0 for e in inside),
                "bytes": sum(e.bytes or 0 for e in inside),
            }
            if item.get("flows") and counts[name]["packets"] == 0:
                no_hit.append(name)
    return counts, no_hit


def expiries(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every time-limited conduit with its expiry (UTC) and the seconds left when the plan was made (the audit
    makes it at once), as the planner gives them."""
    return [
        {"conduit": item["name"], "expires": str(item["expires"]), "seconds_left": item.get("expires_in")}
        for item in _items_of(plan, "conduits")
        if item.get("expires")
    ]


# ---- gateways ------------------------------------------------------------------------------------------------------


def gateway_host(plan: Mapping[str, Any] | None, read: Mapping[str, Any]) -> dict[str, Any]:
    """One igor_gateway host: ``read`` is {plan_only: reason} (never contacted), {unreachable: reason}, or
    {result: what the role's read step (firewall_group_rules.ps1) returned}."""
    if read.get("plan_only"):
        reason = str(read["plan_only"])
        return host_result("gateway", "not_audited", reason, findings=[finding("audited", "info", reason)])
    if read.get("unreachable"):
        return unreachable("gateway", str(read["unreachable"]))
    if read.get("failed"):
        return not_planned("gateway", str(read["failed"]))
    verdict = igor_compare(plan, read.get("result"))
    findings = []
    parts = [
        f"{len(verdict[key])} {key}: {', '.join(_rule_name(r) for r in verdict[key])}"
        for key in ("missing", "extra", "changed")
        if verdict[key]
    ]
    if parts:
        findings.append(finding("rules", "error", "; ".join(parts), verdict["changes"]))
    excluded = verdict["exclusions"]
    if not excluded["read"]:
        findings.append(finding("exclusions", "warning", "Defender's exclusions could not be read"))
    wider = [path for kind in excluded["extra"] for path in excluded["extra"][kind]]
    lacking = [path for kind in excluded["missing"] for path in excluded["missing"][kind]]
    if wider:
        findings.append(finding("exclusions", "error", f"exclusions wider than the plan: {', '.join(wider)}"))
    if lacking:
        findings.append(finding("exclusions", "error", f"planned exclusions missing: {', '.join(lacking)}"))
    if verdict["open_to_any"]:
        names = ", ".join(str(item.get("name", item)) for item in verdict["open_to_any"])
        findings.append(finding("open_to_any", "error", f"rules outside the group open an Igor port to Any: {names}"))
    status = "drifted" if parts or wider or lacking else "foreign" if verdict["open_to_any"] else "in_sync"
    return host_result("gateway", status, findings=findings)


def _rule_name(item: Any) -> str:
    return str(item.get("name")) if isinstance(item, Mapping) else str(item)


# ---- the site report -----------------------------------------------------------------------------------------------


def site_report(hosts: Mapping[str, Mapping[str, Any]], *, site: str, generated: str) -> dict[str, Any]:
    """audit.json: {generated, site, hosts, summary: {hosts, in_sync, findings: {error, warning, info}}}."""
    ordered = {name: dict(hosts[name]) for name in sorted(hosts)}
    by_severity = dict.fromkeys(SEVERITIES, 0)
    for host in ordered.values():
        for item in host["findings"]:
            by_severity[item["severity"]] += 1
    return {
        "generated": generated,
        "site": site,
        "hosts": ordered,
        "summary": {
            "hosts": len(ordered),
            "in_sync": sum(1 for host in ordered.values() if host["status"] == "in_sync"),
            "findings": by_severity,
        },
    }


def failing_hosts(report: Mapping[str, Any]) -> list[str]:
    """Hosts with an error or warning finding (info never fails the audit)."""
    return [
        name for name, host in report["hosts"].items() if any(item["severity"] in FAILING for item in host["findings"])
    ]


def markdown(report: Mapping[str, Any]) -> str:
    """audit.md: a summary, then one section per host with each check, its result and the SR it evidences."""
    summary = report["summary"]
    lines = [
        f"# Audit of {report['site']}",
        "",
        f"Generated {report['generated']}. {summary['hosts']} host(s), {summary['in_sync']} in sync; findings: "
        + ", ".join(f"{count} {severity}" for severity, count in summary["findings"].items())
        + ".",
        "",
    ]
    for name, host in report["hosts"].items():
        lines += _host_markdown(name, host)
    return "\n".join(lines).rstrip() + "\n"


def _host_markdown(name: str, host: Mapping[str, Any]) -> list[str]:
    lines = [f"## {name} ({host['kind']}): {host['status']}", ""]
    if host["reason"]:
        lines += [f"Reason: {host['reason']}", ""]
    lines += ["| Check | IEC 62443-3-3 | Result | Detail |", "| --- | --- | --- | --- |"]
    for check, results in _check_results(host):
        for severity, detail in results:
            lines.append(f"| {check} | {CHECKS[check][0]} | {severity} | {_cell(detail)} |")
    if host["conduits"]:
        lines += ["", "| Conduit | Packets | Bytes |", "| --- | ---: | ---: |"]
        lines += [f"| {c} | {n['packets']} | {n['bytes']} |" for c, n in host["conduits"].items()]
    if host["drops"]:
        lines += ["", "Drops since the last load: " + ", ".join(f"{c} {n}" for c, n in host["drops"].items()) + "."]
    if host["no_hit"]:
        lines += ["", "No hits since the last load (candidates for removal): " + ", ".join(host["no_hit"]) + "."]
    for item in host.get("expiries", []):
        lines += ["", f"Conduit {item['conduit']} expires {item['expires']}{_time_left(item.get('seconds_left'))}."]
    return [*lines, ""]


def _time_left(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return ""
    if seconds <= 0:
        return " (expired: its flows are dropped; remove or renew it)"
    days, rest = divmod(seconds, 86400)
    return f" ({days} d {rest // 3600} h left)" if days else f" ({rest // 3600} h {rest % 3600 // 60} min left)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _check_results(host: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each check of the host's kind with its findings, or ``pass`` (``skipped`` when it could not be checked)."""
    checks = SEGMENT_CHECKS if host["kind"] == "segment" else GATEWAY_CHECKS
    out = []
    skipped = host["status"] in ("unreachable", "not_audited")
    for check in checks:
        found = [(item["severity"], item["detail"]) for item in host["findings"] if item["check"] == check]
        if not found:
            found = [("skipped" if skipped else "pass", CHECKS[check][1])]
        out.append((check, found))
    return out


def junit(report: Mapping[str, Any]) -> str:
    """junit.xml: one test suite per host, one test case per check; error/warning findings fail their case,
    info ones pass with the detail as output, unchecked ones are skipped."""
    suites = []
    site = str(report["site"])
    total = failures = skipped = 0
    for name, host in report["hosts"].items():
        cases = []
        host_failures = host_skipped = 0
        for check, results in _check_results(host):
            severities = [severity for severity, _ in results]
            text = "\n".join(f"{severity}: {detail}" for severity, detail in results)
            body = f"<system-out>{escape(text)}</system-out>"
            if any(s in FAILING for s in severities):
                host_failures += 1
                first = next(s for s in severities if s in FAILING)
                body = f"<failure type={quoteattr(first)} message={quoteattr(text[:200])}>{escape(text)}</failure>"
            elif "skipped" in severities:
                host_skipped += 1
                body = f"<skipped message={quoteattr(host['reason'] or host['status'])}/>"
            sr = CHECKS[check][0]
            cases.append(
                f"    <testcase classname={quoteattr(site + '.' + name)} name={quoteattr(f'{check} ({sr})')}>"
                f"{body}</testcase>"
            )
        total += len(cases)
        failures += host_failures
        skipped += host_skipped
        suites.append(
            f'  <testsuite name={quoteattr(name)} tests="{len(cases)}" failures="{host_failures}" errors="0" '
            f'skipped="{host_skipped}" timestamp={quoteattr(report["generated"])}>\n'
            + "\n".join(cases)
            + "\n  </testsuite>"
        )
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name={quoteattr("otnet.ports audit " + report["site"])} '
        f'tests="{total}" failures="{failures}" errors="0" skipped="{skipped}">'
    )
    return head + "\n" + "\n".join(suites) + "\n</testsuites>\n"


def audit(hosts: Any, *, site: str, generated: str, fail_on_findings: bool = True) -> dict[str, Any]:
    """The whole audit from each host's input {kind: segment|gateway, plan, read} (a mapping by host name, or a
    list of inputs that each carry ``host``): the report, audit.md, junit.xml, the failing hosts and whether the
    play should fail."""
    results = {}
    for name, given in _by_host(hosts).items():
        if not isinstance(given, Mapping) or given.get("kind") not in ("segment", "gateway"):
            raise AuditError(f"hosts[{name!r}]: expected {{kind: segment|gateway, plan, read}}, got {given!r}")
        read = host_read(name, given)
        if given["kind"] == "segment":
            results[name] = segment_host(given.get("plan") or {}, read)
        else:
            results[name] = gateway_host(given.get("plan"), read)
    report = site_report(results, site=site, generated=generated)
    failing = failing_hosts(report)
    texts = {
        "audit.json": json.dumps(report, indent=1) + "\n",
        "audit.md": markdown(report),
        "junit.xml": junit(report),
    }
    return {
        "report": report,
        "markdown": texts["audit.md"],
        "junit": texts["junit.xml"],
        "files": [{"name": name, "content": content} for name, content in texts.items()],
        "failing": failing,
        "failed": bool(failing) and fail_on_findings,
        "verdict": _verdict(report, failing),
    }


def _verdict(report: Mapping[str, Any], failing: Sequence[str]) -> str:
    summary = report["summary"]
    counts = ", ".join(f"{count} {severity}" for severity, count in summary["findings"].items())
    text = f"{summary['hosts']} host(s), {summary['in_sync']} in sync; findings: {counts}"
    if failing:
        text += f"; {len(failing)} host(s) with error or warning findings: {', '.join(failing)}"
    return text


def site_inputs(groups: Mapping[str, Any], hostvars: Mapping[str, Any], *, plan_only: Any = False) -> dict[str, Any]:
    """Each host's audit input from what the audit playbook left in ``hostvars``: segment hosts of
    ``groups.opto22_segments`` with opto22_segment_plan and opto22_segment_read (the read task's result), gateways of
    ``groups.igor_gateways`` with igor_gateway_plan and igor_gateway_read, or otnet_ports_audit_failed (the failed
    task's result) for either. Hosts with none of them took no part in this run (``--limit``) and are left out."""
    inputs: dict[str, Any] = {}
    for kind, group, plan_fact, read_fact in (
        ("segment", "opto22_segments", "opto22_segment_plan", "opto22_segment_read"),
        ("gateway", "igor_gateways", "igor_gateway_plan", "igor_gateway_read"),
    ):
        for host in groups.get(group) or []:
            variables = hostvars[host] if host in hostvars else {}  # noqa: SIM401 - Ansible's HostVars
            failed = variables.get("otnet_ports_audit_failed")
            if failed is not None:
                inputs[host] = {"kind": kind, "task": failed}
            elif variables.get(plan_fact) is not None and (kind == "gateway" or variables.get(read_fact) is not None):
                gateway = {"plan_only": plan_only} if kind == "gateway" else {}
                inputs[host] = {"kind": kind, "plan": variables[plan_fact], "task": variables.get(read_fact), **gateway}
    return inputs


PLAN_ONLY = (
    "otnet_ports_site_igor_plan_only is true: the site handles its Igor gateways plan-only, so the audit did not "
    "contact this host"
)


def host_read(name: str, given: Mapping[str, Any]) -> Mapping[str, Any]:
    """What was read on a host: ``read`` as given, or made from ``task`` - the registered result of the playbook's
    read task (a segment's stdout is the read's JSON line; a gateway's ``result`` what the role's read returned),
    an unreachable result (Ansible's ``msg``), or a failed one (the plan or the read failed; ``msg``); a gateway
    with ``plan_only`` true is never read."""
    if "read" in given:
        return given["read"] or {}
    if given.get("plan_only") in (True, "True", "true"):
        return {"plan_only": PLAN_ONLY}
    task = given.get("task")
    if not isinstance(task, Mapping):
        return {"failed": "the host was not read (no task result)"}
    if task.get("unreachable"):
        return {"unreachable": str(task.get("msg") or "unreachable")}
    if task.get("failed") or task.get("skipped"):
        return {"failed": str(task.get("msg") or "the plan or the read failed")}
    return _task_read(name, given["kind"], task)


def _task_read(name: str, kind: str, task: Mapping[str, Any]) -> Mapping[str, Any]:
    if kind == "gateway":
        return {"result": task.get("result")}
    try:
        return json.loads(str(task.get("stdout", "")))
    except ValueError as exc:
        raise AuditError(f"hosts[{name!r}].task.stdout: not the JSON line the audit's read prints: {exc}") from exc


def _by_host(hosts: Any) -> dict[str, Any]:
    if isinstance(hosts, Mapping):
        return dict(hosts)
    if isinstance(hosts, (list, tuple)) and all(isinstance(h, Mapping) and h.get("host") for h in hosts):
        return {str(h["host"]): h for h in hosts}
    raise AuditError("hosts: expected a mapping host -> {kind, plan, read}, or a list of {host, kind, plan, read}")
