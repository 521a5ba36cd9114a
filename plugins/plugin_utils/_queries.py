"""What the lookups, filters and roles ask of the catalog. Pure functions over a Catalog."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from ._catalog import Catalog
from ._errors import QueryError, unknown_name
from ._portrange import check_protocol, overlap, parse_items, range_text
from ._version import check_min_version
from ._windows import check_install_dir, join

DIRECTIONS = ("incoming", "outgoing")
EXCLUSION_KINDS = {"paths": "path", "processes": "process"}


def opto22_records(
    catalog: Catalog,
    tables: Sequence[str],
    *,
    services: Sequence[str] | None = None,
    protocol: str | None = None,
) -> list[dict[str, Any]]:
    """Records of the named Opto 22 tables (all of them when none are named), narrowed by service and protocol."""
    return _vendor_records(catalog, "opto22", tables, {"services": services, "protocol": protocol})


def igor_records(
    catalog: Catalog,
    tables: Sequence[str],
    *,
    version: Any = None,
    direction: str | None = None,
    protocol: str | None = None,
    services: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Records of the named Igor tables; ``version`` must reach each table's floor."""
    chosen = _tables(catalog, "igor", tables)
    if version is not None:
        check_igor_version(catalog, version, chosen, "version")
    if direction is not None and direction not in DIRECTIONS:
        raise unknown_name("direction", direction, DIRECTIONS)
    return _vendor_records(
        catalog, "igor", chosen, {"services": services, "protocol": protocol, "direction": direction}
    )


def check_igor_version(catalog: Catalog, version: Any, tables: Sequence[str], where: str) -> str:
    """The version, if it reaches the floor of every named Igor table; else an error naming ``where``."""
    for key in tables:
        table = catalog.table("igor", key)
        check_min_version(version, table.min_version, where, f"'{key}' table ({table.title})")
    return str(version)


def service_records(
    catalog: Catalog,
    services: Iterable[Any],
    *,
    direction: str | None = None,
    protocol: str | None = None,
    where: str = "services",
) -> list[dict[str, Any]]:
    """Assignment records of the given service keys, any vendor; unknown keys are an error naming ``where``."""
    wanted = list(services)
    assigned = {r["service"] for r in catalog.select(kind="assignment")}
    for index, service in enumerate(wanted):
        if service not in assigned:
            raise unknown_name("catalog service", service, assigned, f"{where}[{index}]")
    if protocol is not None:
        protocol = check_protocol(protocol, "protocol")
    return catalog.select(services=wanted, kind="assignment", protocol=protocol, direction=direction)


def igor_exclusions(catalog: Catalog, kinds: Sequence[str], install_dir: Any = None) -> list[str]:
    """Exclusion paths for the named kinds (``paths``, ``processes``; none means both), below ``install_dir``."""
    return [entry["path"] for entry in exclusion_entries(catalog, kinds, install_dir)]


def exclusion_entries(catalog: Catalog, kinds: Sequence[str] = (), install_dir: Any = None) -> list[dict[str, str]]:
    """Exclusions as records: kind (path|process), path, relative, component."""
    for kind in kinds:
        if kind not in EXCLUSION_KINDS:
            raise unknown_name("exclusion list", kind, EXCLUSION_KINDS)
    wanted = [EXCLUSION_KINDS[kind] for kind in dict.fromkeys(kinds or EXCLUSION_KINDS)]
    base = catalog.default_install_dir if install_dir is None else check_install_dir(install_dir, "install_dir")
    return [
        {
            "kind": e.kind,
            "path": join(base, e.relative),
            "relative": e.relative,
            "component": e.component,
        }
        for kind in wanted
        for e in catalog.exclusions
        if e.kind == kind
    ]


def port_owners(
    catalog: Catalog,
    port: Any,
    protocol: str | None = None,
    include_policy: bool = False,
) -> list[dict[str, Any]]:
    """Every record of every vendor whose range covers ``port`` (assignments only unless ``include_policy``)."""
    (spec,) = parse_items([port], "port")
    if spec.start != spec.end:
        raise QueryError(f"port: {range_text(spec.start, spec.end)} is a range; port_owners takes one port")
    chosen = protocol if protocol is not None else spec.protocol
    if chosen is not None:
        chosen = check_protocol(chosen, "protocol")
    kind = None if include_policy else "assignment"
    return [r for r in catalog.select(kind=kind, protocol=chosen) if r["start"] <= spec.start <= r["end"]]


def port_conflicts(catalog: Catalog, site: Any, include_policy: bool = False) -> list[dict[str, Any]]:
    """Each overlap between the site's ports and a catalog record of the same protocol (either, if unstated)."""
    items = site if isinstance(site, list) else [site]
    spans = parse_items(items, "site")
    candidates = catalog.select(kind=None if include_policy else "assignment")
    conflicts = []
    for item, spec in zip(items, spans, strict=True):
        for record in candidates:
            if spec.protocol not in (None, record["protocol"]):
                continue
            shared = overlap((spec.start, spec.end), (record["start"], record["end"]))
            if shared:
                conflicts.append(
                    {
                        "site": _site_entry(item, spec),
                        "catalog": record,
                        "overlap": {"start": shared[0], "end": shared[1]},
                    }
                )
    return conflicts


def _site_entry(item: Any, spec: Any) -> dict[str, Any]:
    entry = {"start": spec.start, "end": spec.end}
    if spec.protocol:
        entry["protocol"] = spec.protocol
    if isinstance(item, dict):
        for key in ("name", "service", "description"):
            if key in item:
                entry[key] = item[key]
    return entry


def _tables(catalog: Catalog, vendor: str, tables: Sequence[str]) -> list[str]:
    names = catalog.table_names(vendor)
    for table in tables:
        if table not in names:
            raise unknown_name(f"{vendor} table", table, names)
    return list(dict.fromkeys(tables)) or names


def _vendor_records(
    catalog: Catalog, vendor: str, tables: Sequence[str], asked: dict[str, Any]
) -> list[dict[str, Any]]:
    """Records of one vendor's tables narrowed by ``asked`` (services, protocol, direction); never empty."""
    criteria = (tuple(asked.get("services") or ()), asked.get("protocol"), asked.get("direction"))
    return [dict(record) for record in _matching(catalog, vendor, tuple(tables), criteria)]


@functools.lru_cache(maxsize=256)
def _matching(
    catalog: Catalog, vendor: str, tables: tuple[str, ...], criteria: tuple[tuple[str, ...], Any, Any]
) -> tuple[dict[str, Any], ...]:
    """The query behind ``_vendor_records``; pure over an immutable catalog, so memoised (errors are not)."""
    services, protocol, direction = criteria
    chosen = _tables(catalog, vendor, tables)
    if protocol is not None:
        protocol = check_protocol(protocol, "protocol")
    if services:
        known = {r["service"] for r in catalog.select(vendor=vendor)}
        for service in services:
            if service not in known:
                raise unknown_name(f"{vendor} service", service, known)
    records = catalog.select(vendor=vendor, tables=chosen, services=services or None, protocol=protocol)
    if direction is not None:
        records = [r for r in records if r.get("direction") == direction]
    if not records:
        asked = {"services": services, "protocol": protocol, "direction": direction}
        raise QueryError(_nothing_matched(catalog, vendor, chosen, asked))
    return tuple(records)


def _nothing_matched(catalog: Catalog, vendor: str, tables: Sequence[str], asked: dict[str, Any]) -> str:
    criteria = [f"table(s) {', '.join(tables)}"]
    services = asked.get("services")
    if services:
        homes = sorted({f"{r['service']} is in {r['table']}" for r in catalog.select(vendor=vendor, services=services)})
        criteria.append(f"services {', '.join(services)} ({'; '.join(homes)})")
    criteria += [f"{name} {value}" for name, value in asked.items() if value and name != "services"]
    return f"no {vendor} records match {', '.join(criteria)}"
