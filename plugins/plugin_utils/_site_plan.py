"""The offline site plan (``ansible-playbook otnet.ports.plan``): the checked plans of a site's hosts -> one row per
allowed flow, and the files of the plan directory, written all at once or not at all.

Inputs are what the preflight leaves as facts: ``opto22_segment_plan`` (with details, as the role's ``plan`` entry
point computes it) for each host of ``opto22_segments`` and ``igor_gateway_plan`` for each host of ``igor_gateways``.
Nothing here contacts a host or decides a policy: the planners decided; this module lists, renders and writes.

A flow row (``COLUMNS``, in this order in flows.csv and in each flows.json object):

* ``host``           the enforcing host (inventory name); ``kind`` ``segment`` or ``gateway``
* ``direction``      ``in`` (to the controllers, to the guarding host, to the gateway) or ``out`` (from them)
* ``conduit``        the conduit's or outbound entry's name, ``management`` for the guarding host's SSH, or the
                     Windows rule's name on a gateway
* ``sources``        addresses/CIDRs; for ``out`` flows of a segment the controllers, of a gateway the gateway
* ``destinations``   addresses/CIDRs; for ``in`` flows of a segment the controllers (the guarding host for
                     ``management``), of a gateway the gateway (its ``ansible_host``, else its inventory name)
* ``protocol``, ``start``, ``end`` (ints)
* ``service``        the catalog key; null for a bare ``ports:`` entry of a conduit (the planner keys those
                     ``chart_logic``: a port PAC Control chart logic may use, which no catalog service owns) and for
                     ``management``
* ``vendor``         the catalog vendor of the service (``site`` for otnet_ports_overlay records); ``opto22`` for a
                     bare ``ports:`` entry (the Opto 22 chart-logic rules admitted it); null for ``management``
* ``protocol_basis`` ``stated`` or ``assumed`` (the document names the protocol, or the catalog assumes it); a bare
                     ``ports:`` entry and ``management`` name their protocol: ``stated``
* ``description``    the catalog description of the service's record(s) for that protocol and port(s)
* ``expires``        the conduit's ``expires`` when it has one, else null

Rows are sorted by host, kind, direction, conduit, protocol, start, end, service, sources and destinations: the same
site gives the same files, byte for byte, whatever the order of the inventory.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import yaml

from ._catalog import Catalog
from ._errors import PortsError
from ._igor_gateway_plan import exclusions_text, rules_text
from ._portrange import range_text
from ._site import GATEWAYS, OVERLAY, SEGMENTS, parse_zones

COLUMNS = (
    "host",
    "kind",
    "direction",
    "conduit",
    "sources",
    "destinations",
    "protocol",
    "start",
    "end",
    "service",
    "vendor",
    "protocol_basis",
    "description",
    "expires",
)
LIST_COLUMNS = ("sources", "destinations")
EXTRA_PORTS = "chart_logic"  # the segment planner's service key for a conduit's bare `ports:` entries
CHART_VENDOR = "opto22"
MANAGEMENT = "management"
MANAGEMENT_DESCRIPTION = "SSH to the guarding host (opto22_segment_management)"
PLAN_DIR = "otnet_ports_plan_dir"
SITE_FILES = ("flows.csv", "flows.json", "summary.md")
SEGMENT_FILES = ("rules.nft",)
GATEWAY_FILES = ("rules.txt", "exclusions.txt")
DIR_MODE = 0o755
FILE_MODE = 0o644
# Written into every plan directory: the next plan replaces only a directory that holds it (or an empty one), so a
# slip such as otnet_ports_plan_dir=. can never replace the site directory itself.
PLAN_MARK = ".otnet-ports-plan"
PLAN_MARK_TEXT = "Written by otnet.ports.plan; the next plan replaces this whole directory.\n"
CHANGES_FILE = "changes.md"  # otnet.ports.site writes its change summary into the plan directory too


class SitePlanError(PortsError):
    """The site plan cannot be made or written; the message names the variable, the value and the rule."""


# ---- catalog facts of a flow ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the catalog says about one flow: who documents it, how sure the protocol is, and what it is for."""

    vendor: str | None
    basis: str | None
    description: str | None


@functools.lru_cache(maxsize=4096)
def catalog_facts(catalog: Catalog, service: str, protocol: str, *, span: tuple[int, int], direction: str) -> Facts:
    """The catalog records of ``service`` for ``protocol`` that lie in start-end (a planner may merge contiguous
    records into one span); the descriptions each once, in catalog order. The basis is ``assumed`` when any record's
    is, else the records' own when they agree (``stated``, ``standard``), else ``stated``."""
    start, end = span
    records = [
        record
        for record in catalog.select(services=[service], protocol=protocol)
        if record["start"] <= end and record["end"] >= start and record.get("direction") in (None, direction)
    ]
    vendor = catalog.services.get(service, {}).get("vendor")
    if not records:
        return Facts(vendor, None, None)
    bases = list(dict.fromkeys(str(record["protocol_basis"]) for record in records))
    basis = "assumed" if "assumed" in bases else bases[0] if len(bases) == 1 else "stated"
    descriptions = dict.fromkeys(str(record["description"]) for record in records)
    return Facts(vendor, basis, "; ".join(descriptions))


def chart_facts(catalog: Catalog, protocol: str, start: int, end: int) -> Facts:
    """A bare ``ports:`` entry: the Opto 22 chart-logic record that holds its ports describes it; the conduit names
    its protocol, so the basis is ``stated``."""
    facts = catalog_facts(catalog, EXTRA_PORTS, protocol, span=(start, end), direction="incoming")
    return Facts(CHART_VENDOR, "stated", facts.description)


# ---- rows ----------------------------------------------------------------------------------------------------


def host_address(host: str, variables: Mapping[str, Any]) -> str:
    """How the plan names a host as an endpoint: its ``ansible_host``, else its inventory name."""
    return str(variables.get("ansible_host") or host)


def _family_list(addresses: Mapping[str, Sequence[str]]) -> list[str]:
    return [str(text) for family in ("ipv4", "ipv6") for text in addresses.get(family) or []]


def _row(**values: Any) -> dict[str, Any]:
    return {column: values.get(column) for column in COLUMNS}


def segment_rows(catalog: Catalog, host: str, plan: Mapping[str, Any], address: str) -> list[dict[str, Any]]:
    """Every flow a segment host's plan allows: its conduits (in), outbound entries (out) and management SSH (in)."""
    if plan.get("state", "present") != "present":
        return []
    controllers = _family_list(plan["controllers"])
    rows = []
    for kind, direction in (("conduits", "in"), ("outbound", "out")):
        for entry in plan.get(kind) or []:
            peers = [str(peer) for peer in entry["sources" if direction == "in" else "destinations"]]
            ends = (peers, controllers) if direction == "in" else (controllers, peers)
            rows += [
                _segment_flow(catalog, host, entry, flow, direction=direction, ends=ends) for flow in entry["flows"]
            ]
    management = plan["management"]
    rows.append(
        _row(
            host=host,
            kind="segment",
            direction="in",
            conduit=MANAGEMENT,
            sources=_family_list(management["sources"]),
            destinations=[address],
            protocol="tcp",
            start=int(management["port"]),
            end=int(management["port"]),
            protocol_basis="stated",
            description=MANAGEMENT_DESCRIPTION,
        )
    )
    return rows


def _segment_flow(
    catalog: Catalog,
    host: str,
    entry: Mapping[str, Any],
    flow: Mapping[str, Any],
    *,
    direction: str,
    ends: tuple[list[str], list[str]],
) -> dict[str, Any]:
    protocol, start, end = str(flow["protocol"]), int(flow["start"]), int(flow["end"])
    bare = flow["service"] == EXTRA_PORTS
    if bare:
        facts = chart_facts(catalog, protocol, start, end)
    else:
        catalog_direction = "incoming" if direction == "in" else "outgoing"
        facts = catalog_facts(catalog, str(flow["service"]), protocol, span=(start, end), direction=catalog_direction)
    return _row(
        host=host,
        kind="segment",
        direction=direction,
        conduit=str(entry["name"]),
        sources=list(ends[0]),
        destinations=list(ends[1]),
        protocol=protocol,
        start=start,
        end=end,
        service=None if bare else str(flow["service"]),
        vendor=facts.vendor,
        protocol_basis=flow.get("basis") or facts.basis,
        description=facts.description,
        expires=_expires(flow) or _expires(entry),
    )


def _expires(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("expires")
    return None if value in (None, "") else str(value)


def gateway_rows(catalog: Catalog, host: str, plan: Mapping[str, Any], address: str) -> list[dict[str, Any]]:
    """Every rule an Igor gateway's plan would apply (none for state absent: the role removes them)."""
    if plan.get("state", "present") != "present":
        return []
    rows = []
    for rule in plan["rules"]:
        remote = [part.strip() for part in str(rule["remoteip"]).split(",") if part.strip()]
        direction = str(rule["direction"])
        protocol, start, end = str(rule["protocol"]), int(rule["start"]), int(rule["end"])
        catalog_direction = "incoming" if direction == "in" else "outgoing"
        facts = catalog_facts(catalog, str(rule["service"]), protocol, span=(start, end), direction=catalog_direction)
        rows.append(
            _row(
                host=host,
                kind="gateway",
                direction=direction,
                conduit=str(rule["name"]),
                sources=remote if direction == "in" else [address],
                destinations=[address] if direction == "in" else remote,
                protocol=protocol,
                start=start,
                end=end,
                service=str(rule["service"]),
                vendor=facts.vendor,
                protocol_basis=facts.basis,
                description=facts.description,
            )
        )
    return rows


def sort_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        row["host"],
        row["kind"],
        row["direction"],
        row["conduit"],
        row["protocol"],
        row["start"],
        row["end"],
        row["service"] or "",
        row["sources"],
        row["destinations"],
    )


def _planned(hostvars: Mapping[str, Any], host: str, fact: str) -> Mapping[str, Any] | None:
    plan = hostvars[host].get(fact) if host in hostvars else None
    return plan if isinstance(plan, Mapping) else None


def site_flows(catalog: Catalog, groups: Mapping[str, Sequence[str]], hostvars: Mapping[str, Any]) -> list[dict]:
    """One row per allowed flow of the whole site, sorted. Each host's ``otnet_ports_overlay`` names its site
    services. A host in a group without its plan fact is an error (run the preflight first)."""
    rows: list[dict[str, Any]] = []
    for group, fact, rows_of in (
        (SEGMENTS, "opto22_segment_plan", segment_rows),
        (GATEWAYS, "igor_gateway_plan", gateway_rows),
    ):
        for host in groups.get(group) or []:
            plan = _planned(hostvars, host, fact)
            if plan is None:
                raise SitePlanError(
                    f"{host}: has no {fact}; run otnet.ports.preflight first (it computes every host's plan)"
                )
            variables = hostvars[host]
            host_catalog = catalog.with_overlay(variables.get(OVERLAY) or [], f"{host}: {OVERLAY}")
            rows += rows_of(host_catalog, str(host), plan, host_address(str(host), variables))
    return sorted(rows, key=sort_key)


# ---- flows.json, flows.csv -----------------------------------------------------------------------------------


def flows_json(site: str, generated: str, rows: Sequence[Mapping[str, Any]]) -> str:
    document = {"site": site, "generated": generated, "flows": [_ordered(row) for row in rows]}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _ordered(row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: row.get(column) for column in COLUMNS}


def flows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows in COLUMNS order with a header; lists joined by one space, null as an empty field; the csv
    module quotes what needs it (commas, quotes, line breaks). Lines end with LF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column), column) for column in COLUMNS])
    return buffer.getvalue()


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if column in LIST_COLUMNS:
        return " ".join(str(item) for item in value)
    return str(value)


# ---- summary.md ----------------------------------------------------------------------------------------------


def _md(text: Any) -> str:
    """A table cell: pipes escaped, line breaks as spaces."""
    return " ".join(str(text).split()).replace("|", "\\|")


def summary_md(
    site: str,
    generated: str,
    rows: Sequence[Mapping[str, Any]],
    hosts: Sequence[Mapping[str, Any]],
    zones: Any,
) -> str:
    """Zones, hosts, conduits, counts, and every flow whose protocol the catalog only assumes."""
    lines = [f"# Site plan: {_md(site)}", "", f"Generated {_md(generated)} by otnet.ports.plan.", ""]
    lines += _zones_section(zones) + _hosts_section(hosts, rows) + _conduits_section(rows)
    lines += _counts_section(rows) + _assumed_section(rows) + _expiry_section(rows, generated)
    return "\n".join(lines).rstrip("\n") + "\n"


def _zones_section(zones: Any) -> list[str]:
    parsed = parse_zones(zones)
    lines = ["## Zones", ""]
    if not parsed:
        return [*lines, "No zones (otnet_ports_site_zones is not set).", ""]
    lines += ["| zone | label | networks |", "| --- | --- | --- |"]
    lines += [
        f"| {_md(z.name)} | {_md(z.label)} | {_md(' '.join(n.with_prefixlen for n in z.networks))} |" for z in parsed
    ]
    return [*lines, ""]


def _hosts_section(hosts: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["host"]] = counts.get(row["host"], 0) + 1
    lines = [
        "## Hosts",
        "",
        "| host | kind | address | state | flows | files |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for host in hosts:
        files = " ".join(f"{host['host']}/{name}" for name in host["files"]) or "-"
        lines.append(
            f"| {_md(host['host'])} | {host['kind']} | {_md(host['address'])} | {host['state']} | "
            f"{counts.get(host['host'], 0)} | {_md(files)} |"
        )
    return [*lines, ""]


def _conduits_section(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    grouped: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["host"], row["direction"], row["conduit"]), []).append(row)
    lines = [
        "## Conduits",
        "",
        "| host | direction | conduit | peers | services | flows |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (host, direction, conduit), members in grouped.items():
        peers = members[0]["sources" if direction == "in" else "destinations"]
        services = ", ".join(dict.fromkeys(row["service"] or _bare_label(row) for row in members))
        cells = [_md(host), direction, _md(conduit), _md(" ".join(peers)), _md(services), str(len(members))]
        lines.append(f"| {' | '.join(cells)} |")
    return [*lines, ""]


def _bare_label(row: Mapping[str, Any]) -> str:
    return "ssh" if row["conduit"] == MANAGEMENT else f"ports {range_text(row['start'], row['end'])}/{row['protocol']}"


def _counts_section(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    def count(column: str) -> str:
        tally: dict[str, int] = {}
        for row in rows:
            tally[str(row[column])] = tally.get(str(row[column]), 0) + 1
        return ", ".join(f"{key} {value}" for key, value in sorted(tally.items())) or "none"

    return [
        "## Counts",
        "",
        f"- flows: {len(rows)}",
        f"- hosts with flows: {len({row['host'] for row in rows})}",
        f"- by kind: {count('kind')}",
        f"- by direction: {count('direction')}",
        f"- by protocol: {count('protocol')}",
        f"- by protocol basis: {count('protocol_basis')}",
        "",
    ]


def _assumed_section(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    assumed = [row for row in rows if row["protocol_basis"] == "assumed"]
    lines = ["## Assumed protocols still open", ""]
    if not assumed:
        return [*lines, "None: every open protocol is one the vendor's document states.", ""]
    lines += [
        "The vendor's document does not state the protocol of these ports; the catalog assumes it. Narrow the",
        "conduit's service to the protocol the device really uses (otnet_ports_assumed_protocols: explicit).",
        "",
        "| host | conduit | service | protocol | ports |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {_md(row['host'])} | {_md(row['conduit'])} | {_md(row['service'] or '-')} | {row['protocol']} | "
        f"{range_text(row['start'], row['end'])} |"
        for row in assumed
    ]
    return [*lines, ""]


def _expiry_section(rows: Sequence[Mapping[str, Any]], generated: str) -> list[str]:
    """Every time-limited conduit with its expiry and the time left when the plan was generated."""
    expiring = sorted({(row["host"], row["conduit"], row["expires"]) for row in rows if row.get("expires")})
    lines = ["## Time-limited conduits", ""]
    if not expiring:
        return [*lines, "None: no conduit carries `expires`.", ""]
    lines += ["| host | conduit | expires (UTC) | time left |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {_md(host)} | {_md(conduit)} | {_md(expires)} | {_time_left(expires, generated)} |"
        for host, conduit, expires in expiring
    ]
    return [*lines, ""]


def _time_left(expires: str, generated: str) -> str:
    """``3d 4h 5m`` from ``generated`` to ``expires`` (ISO 8601); ``-`` when either is not a date-time."""
    try:
        left = datetime.fromisoformat(expires) - datetime.fromisoformat(generated)
    except (TypeError, ValueError):
        return "-"
    seconds = int(left.total_seconds())
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600}h {rest % 3600 // 60}m"


# ---- per-host files ------------------------------------------------------------------------------------------


def check_host_name(host: str) -> str:
    """A host's name becomes a directory of the plan: one plain path component, not one of the site's files."""
    rule = (
        "a host's files go to a directory named after it, so the name must be one path component (no '/', not '.' "
        f"or '..', no NUL) and none of {', '.join(SITE_FILES)}"
    )
    if not host or host in (".", "..") or "/" in host or "\0" in host or host in SITE_FILES:
        raise SitePlanError(f"inventory host {host!r}: {rule}")
    return host


# ---- the plan directory's files --------------------------------------------------------------------------------


def _boundary_files(host: str, plan: Mapping[str, Any], targets: Sequence[str]) -> dict[str, str]:
    """``boundary/<target>.<ext>`` per target, the aerleon policy (policy.yaml) and definitions (def/)."""
    from . import _boundary  # noqa: PLC0415 - aerleon is loaded only when a site asks for boundary configs

    bundle = _boundary.boundary_policy(plan, host)
    files = {
        f"{host}/boundary/{target}{_boundary.suffix(target)}": _boundary.render(bundle, target) for target in targets
    }
    files[f"{host}/boundary/policy.yaml"] = _yaml({"filters": bundle["policy"]["filters"]})
    for section, content in bundle["definitions"].items():
        files[f"{host}/boundary/def/{section}.yaml"] = _yaml({section: content})
    return files


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases: the policy repeats terms in several filters, and a reader sees each."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _host_boundary_files(host: str, plan: Mapping[str, Any], targets: Sequence[str]) -> dict[str, str]:
    try:
        return _boundary_files(host, plan, targets)
    except PortsError as exc:
        raise SitePlanError(f"{host}: otnet_ports_boundary_targets: {exc}") from exc


def _yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def check_targets(targets: Any) -> list[str]:
    if targets is None:
        return []
    if not isinstance(targets, (list, tuple)) or not all(isinstance(t, str) for t in targets):
        raise SitePlanError(
            f"otnet_ports_boundary_targets: {targets!r} is not a list of aerleon target names (like [cisco, srx])"
        )
    if targets:
        from ._boundary import check_target  # noqa: PLC0415 - aerleon only when asked for

        for index, target in enumerate(targets):
            try:
                check_target(target)
            except PortsError as exc:
                raise SitePlanError(
                    f"otnet_ports_boundary_targets[{index}]: {str(exc).removeprefix('target: ')}"
                ) from exc
    return list(dict.fromkeys(targets))


def plan_files(
    catalog: Catalog,
    groups: Mapping[str, Sequence[str]],
    hostvars: Mapping[str, Any],
    *,
    site: str,
    generated: str,
    zones: Any = None,
    boundary_targets: Any = None,
) -> dict[str, str]:
    """Every file of the plan directory, by its path relative to it, as text."""
    targets = check_targets(boundary_targets)
    rows = site_flows(catalog, groups, hostvars)
    files: dict[str, str] = {}
    hosts = []
    for host in groups.get(SEGMENTS) or []:
        plan = _planned(hostvars, host, "opto22_segment_plan") or {}
        name = check_host_name(str(host))
        present = plan.get("state", "present") == "present"
        if present:
            if not plan.get("text"):
                raise SitePlanError(f"{host}: opto22_segment_plan has no text; compute it with details (the default)")
            files[f"{name}/rules.nft"] = str(plan["text"])
            if targets:
                files.update(_host_boundary_files(name, plan, targets))
        written = sorted(path.removeprefix(f"{name}/") for path in files if path.startswith(f"{name}/"))
        hosts.append(_host_entry(name, "segment", hostvars[host], plan, written))
    for host in groups.get(GATEWAYS) or []:
        plan = _planned(hostvars, host, "igor_gateway_plan") or {}
        name = check_host_name(str(host))
        files[f"{name}/rules.txt"] = f"{name}: {rules_text(plan)}"
        files[f"{name}/exclusions.txt"] = exclusions_text(plan)
        hosts.append(_host_entry(name, "gateway", hostvars[host], plan, list(GATEWAY_FILES)))
    if zones is None:
        first = next(iter(hosts), None)
        zones = hostvars[first["host"]].get("otnet_ports_site_zones") if first else None
    files["flows.json"] = flows_json(site, generated, rows)
    files["flows.csv"] = flows_csv(rows)
    files["summary.md"] = summary_md(site, generated, rows, hosts, zones)
    return dict(sorted(files.items()))


def _host_entry(
    host: str, kind: str, variables: Mapping[str, Any], plan: Mapping[str, Any], files: list[str]
) -> dict[str, Any]:
    return {
        "host": host,
        "kind": kind,
        "address": host_address(host, variables),
        "state": plan.get("state", "present"),
        "files": files,
    }


# ---- writing: a temporary directory next to the plan directory, then one rename ------------------------------


def check_plan_dir(value: Any) -> str:
    """The plan directory as an absolute path: a directory or nothing yet, in an existing, writable directory."""
    if not isinstance(value, str) or not value.strip():
        raise SitePlanError(f"{PLAN_DIR}: {value!r} is not a path; give a directory, like ./plan")
    path = os.path.realpath(os.path.expanduser(value))
    parent = os.path.dirname(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise SitePlanError(
            f"{PLAN_DIR}: {value!r} is a file, not a directory; the plan replaces a directory (or creates one): "
            "give another path or move the file away"
        )
    foreign = set(os.listdir(path)) - {CHANGES_FILE} if os.path.isdir(path) else set()
    if foreign and not os.path.isfile(os.path.join(path, PLAN_MARK)):
        raise SitePlanError(
            f"{PLAN_DIR}: {value!r} is a directory the plan did not write (it holds files but no {PLAN_MARK}); the "
            "plan replaces its directory whole, so it takes only a new or empty directory or an earlier plan's: give "
            "another path, like ./plan"
        )
    blocker = _file_above(path)
    if blocker:
        raise SitePlanError(
            f"{PLAN_DIR}: {value!r} lies under {blocker!r}, which is a file, not a directory; give a path below a "
            "directory"
        )
    if not os.path.isdir(parent):
        raise SitePlanError(
            f"{PLAN_DIR}: {value!r} is in {parent!r}, which does not exist; the plan creates only its own directory: "
            "create the directory it goes in first"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SitePlanError(
            f"{PLAN_DIR}: {value!r} is in {parent!r}, which is not writable; the plan is written next to it and "
            "renamed into place, so that directory must be writable"
        )
    return path


def _file_above(path: str) -> str | None:
    """The first ancestor of ``path`` that exists and is not a directory, if any."""
    for ancestor in PurePosixPath(path).parents:
        if os.path.lexists(ancestor) and not os.path.isdir(ancestor):
            return str(ancestor)
    return None


def check_file_paths(files: Mapping[str, Any]) -> None:
    """Every path is relative, below the plan directory, and every content text."""
    for name, content in files.items():
        parts = PurePosixPath(str(name)).parts
        if not parts or str(name).startswith("/") or any(part in ("", ".", "..") for part in parts) or "\0" in name:
            raise SitePlanError(f"files: {name!r} is not a path below the plan directory (relative, no '..')")
        if not isinstance(content, str):
            raise SitePlanError(f"files[{name!r}]: the content must be text, got {type(content).__name__}")
    names = {str(name) for name in files}
    for name in sorted(names):
        clash = next((str(p) for p in PurePosixPath(name).parents if str(p) in names), None)
        if clash:
            raise SitePlanError(f"files: {clash!r} is a file and the directory of {name!r}; a path can't be both")


def write_plan(value: Any, files: Mapping[str, str]) -> str:
    """Write ``files`` into a new directory next to the plan directory, then put it in the plan directory's place.

    On any error nothing changes: the temporary directory goes, and a plan directory that existed stays as it was
    (one that did not exist is not created). Returns the plan directory's absolute path."""
    check_file_paths(files)
    path = check_plan_dir(value)
    parent, name = os.path.split(path)
    staging = tempfile.mkdtemp(prefix=f".{name}.new-", dir=parent)
    try:
        _fill(staging, files)
        _swap(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _fill(directory: str, files: Mapping[str, str]) -> None:
    os.chmod(directory, DIR_MODE)
    files = {**files, PLAN_MARK: PLAN_MARK_TEXT}
    for name, content in files.items():
        target = os.path.join(directory, *PurePosixPath(name).parts)
        os.makedirs(os.path.dirname(target), mode=DIR_MODE, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        os.chmod(target, FILE_MODE)


def _swap(staging: str, path: str) -> None:
    """Rename ``staging`` to ``path``; an existing ``path`` is moved aside first and removed after, or put back."""
    if not os.path.isdir(path):
        os.rename(staging, path)
        return
    parent, name = os.path.split(path)
    aside = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    old = os.path.join(aside, name)
    os.rename(path, old)
    try:
        os.rename(staging, path)
    except BaseException:
        os.rename(old, path)
        os.rmdir(aside)
        raise
    shutil.rmtree(aside, ignore_errors=True)
