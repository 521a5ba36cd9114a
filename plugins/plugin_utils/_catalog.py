"""The port catalog: vendor tables loaded once per process, schema-validated, flattened to records.

A record is one port or range x one transport protocol (x one direction for Igor):

    {"vendor": "opto22", "table": "groov", "service": "groov_find", "label": "groov Find",
     "start": 2002, "end": 2002, "protocol": "tcp", "protocol_basis": "assumed", "description": "groov Find"}

Site overlays add records in the same shape; they are validated the same way and named in errors. Site records
always belong to vendor ``site``: an overlay never joins, extends or overrides a vendor's tables, so the rules the
vendors' documents state (chart logic, Igor's firewall tables) come from the vendor catalog only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._errors import CatalogError, MissingDependencyError, unknown_name
from ._plain import plain
from ._portrange import PORT_MAX, PORT_MIN

try:
    import jsonschema
except ImportError as exc:  # pragma: no cover - depends on the controller's Python
    jsonschema = None
    JSONSCHEMA_IMPORT_ERROR: ImportError | None = exc
else:
    JSONSCHEMA_IMPORT_ERROR = None

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
SCHEMA_PATH = CATALOG_DIR / "catalog.schema.json"
CATALOG_FILES = ("opto22.yml", "igor.yml")
VENDORS = ("opto22", "igor", "site")
OVERLAY_VENDOR = "site"
OVERLAY_TABLE = "site"
RECORD_FIELDS = (
    "vendor",
    "table",
    "service",
    "label",
    "start",
    "end",
    "protocol",
    "direction",
    "min_version",
    "protocol_basis",
    "category",
    "description",
)
_IDENTITY = ("vendor", "table", "service", "start", "end", "protocol", "direction")


@dataclass(frozen=True)
class Table:
    vendor: str
    key: str
    title: str
    section: str
    kind: str
    device: str | None = None
    min_version: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Exclusion:
    kind: str
    relative: str
    component: str


@dataclass(frozen=True, eq=False)
class Catalog:
    """Immutable view of every record; ``select`` hands out copies."""

    records: tuple[Mapping[str, Any], ...]
    tables: Mapping[tuple[str, str], Table]
    services: Mapping[str, Mapping[str, str]]
    exclusions: tuple[Exclusion, ...]
    default_install_dir: str

    def table_names(self, vendor: str) -> list[str]:
        return [key for owner, key in self.tables if owner == vendor]

    def table(self, vendor: str, key: str) -> Table:
        try:
            return self.tables[(vendor, key)]
        except KeyError:
            raise unknown_name(f"{vendor} table", key, self.table_names(vendor)) from None

    def select(
        self,
        *,
        vendor: str | None = None,
        tables: Iterable[str] | None = None,
        services: Iterable[str] | None = None,
        protocol: str | None = None,
        direction: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Copies of the records that match every given criterion, in catalog order."""
        table_set = set(tables) if tables is not None else None
        service_set = set(services) if services is not None else None
        return [
            dict(record)
            for record in self.records
            if (vendor is None or record["vendor"] == vendor)
            and (table_set is None or record["table"] in table_set)
            and (service_set is None or record["service"] in service_set)
            and (protocol is None or record["protocol"] == protocol)
            and (direction is None or record.get("direction") in (None, direction))
            and (kind is None or self.tables[(record["vendor"], record["table"])].kind == kind)
        ]

    def with_overlay(self, overlay: Any, source: str = "site overlay") -> Catalog:
        """This catalog plus validated site records; the same overlay is validated once per process."""
        records = overlay_records(overlay, source)
        if not records:
            return self
        return _with_overlay_cached(self, json.dumps(records, sort_keys=True, default=str), source)


def load_catalog() -> Catalog:
    """The vendor catalog, parsed and validated on first use and shared by every caller in the process."""
    return _load_catalog()


@functools.lru_cache(maxsize=1)
def _load_catalog() -> Catalog:
    return build_catalog([(name, _read_yaml(CATALOG_DIR / name)) for name in CATALOG_FILES])


def build_catalog(documents: Sequence[tuple[str, Any]]) -> Catalog:
    """A Catalog from parsed catalog files, each checked against the schema and the rules a schema can't state."""
    validator = _validator()
    records: list[dict[str, Any]] = []
    tables: dict[tuple[str, str], Table] = {}
    services: dict[str, dict[str, str]] = {}
    exclusions: tuple[Exclusion, ...] = ()
    install_dir = ""
    for name, document in documents:
        _raise_schema_errors(validator, document, f"catalog {name}")
        vendor = document["vendor"]
        for key, info in document["services"].items():
            if key in services:
                raise CatalogError(f"catalog {name}: service {key!r} is already declared by {services[key]['vendor']}")
            services[key] = {"vendor": vendor, "label": info["label"]}
        for key, table in document["tables"].items():
            tables[(vendor, key)] = _table(vendor, key, table)
            for index, row in enumerate(table["records"]):
                where = f"catalog {name}: tables.{key}.records[{index}]"
                if row["service"] not in document["services"]:
                    raise unknown_name("service", row["service"], document["services"], where, CatalogError)
                defaults = {"vendor": vendor, "table": key, "min_version": table.get("min_version")}
                records.append(_normalise(row, defaults, services[row["service"]]["label"], where))
        if "exclusions" in document:
            exclusions = _exclusions(document["exclusions"])
            install_dir = document["exclusions"]["default_install_dir"]
    _check_unique(records, "catalog")
    return Catalog(tuple(records), tables, services, exclusions, install_dir)


@functools.lru_cache(maxsize=32)
def _with_overlay_cached(base: Catalog, records_json: str, source: str) -> Catalog:
    validator = _record_validator()
    records = list(base.records)
    tables = dict(base.tables)
    services = dict(base.services)
    for index, row in enumerate(json.loads(records_json)):
        where = f"{source} record {index}" + (
            f" (service {row['service']!r})" if isinstance(row, dict) and "service" in row else ""
        )
        _raise_schema_errors(validator, row, where)
        service = row["service"]
        if service in base.services:
            raise CatalogError(
                f"{where}: service {service!r} is a catalog service ({base.services[service]['vendor']}); "
                "site records need a service key of their own"
            )
        table = _overlay_table(base, row, where)
        label = row.get("label", services.get(service, {}).get("label", service))
        services[service] = {"vendor": OVERLAY_VENDOR, "label": label}
        tables.setdefault(
            (OVERLAY_VENDOR, table),
            Table(OVERLAY_VENDOR, table, f"Site records ({table})", source, "assignment"),
        )
        defaults = {"vendor": OVERLAY_VENDOR, "table": table, "min_version": None}
        records.append(_normalise(row, defaults, label, where))
    _check_unique(records, source)
    return Catalog(tuple(records), tables, services, base.exclusions, base.default_install_dir)


def _overlay_table(base: Catalog, row: Mapping[str, Any], where: str) -> str:
    """The site table a record joins; an overlay never joins, extends or overrides a vendor's tables."""
    vendor = row.get("vendor", OVERLAY_VENDOR)
    if vendor != OVERLAY_VENDOR:
        raise CatalogError(
            f"{where}: field 'vendor' is {vendor!r}; site records belong to vendor {OVERLAY_VENDOR!r}: an overlay "
            "never adds records to a vendor's tables (chart-logic rules and vendor ports come from the vendor "
            f"catalog only); leave 'vendor' out or write {OVERLAY_VENDOR!r}"
        )
    table = row.get("table", OVERLAY_TABLE)
    owners = sorted(owner for owner, key in base.tables if key == table and owner != OVERLAY_VENDOR)
    if owners:
        raise CatalogError(
            f"{where}: field 'table' is {table!r}, a table of the {' and '.join(owners)} "
            f"catalog{'s' if len(owners) > 1 else ''}; site records "
            "never join or override a vendor's tables: leave 'table' out or give a site table name of your own"
        )
    return table


def overlay_records(overlay: Any, source: str) -> list[Any]:
    """Site records from a list, a ``{records: [...]}`` mapping, or nothing."""
    if overlay is None or overlay in ("", []):
        return []
    if isinstance(overlay, Mapping):
        if set(overlay) != {"records"}:
            raise CatalogError(
                f"{source}: expected a list of records or a mapping with only 'records'; got keys {sorted(overlay)}"
            )
        overlay = overlay["records"]
    if isinstance(overlay, (str, bytes)) or not isinstance(overlay, Sequence):
        raise CatalogError(f"{source}: expected a list of records; got {type(overlay).__name__}")
    return [plain(item, key=str) for item in overlay]


def read_overlay_file(path: str | Path) -> list[Any]:
    """Site records from a YAML or JSON file (a list, or a mapping with ``records``)."""
    path = Path(path)
    try:
        data = _read_yaml(path)
    except OSError as exc:
        raise CatalogError(f"site overlay file {str(path)!r}: cannot read it: {exc.strerror}") from exc
    return overlay_records(data, f"site overlay file {path.name}")


def _read_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        try:
            return yaml.load(handle, Loader=loader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path.name}: not valid YAML: {exc}") from exc


def _table(vendor: str, key: str, table: Mapping[str, Any]) -> Table:
    return Table(
        vendor=vendor,
        key=key,
        title=table["title"],
        section=table["section"],
        kind=table["kind"],
        device=table.get("device"),
        min_version=table.get("min_version"),
        note=table.get("note"),
    )


def _exclusions(spec: Mapping[str, Any]) -> tuple[Exclusion, ...]:
    return tuple(
        Exclusion(kind, entry["relative"], entry["component"])
        for kind, entries in (("path", spec["paths"]), ("process", spec["processes"]))
        for entry in entries
    )


def _normalise(row: Mapping[str, Any], defaults: Mapping[str, Any], label: str, where: str) -> dict[str, Any]:
    """A flat record in RECORD_FIELDS order: port becomes start/end, table-level values fill the gaps."""
    for field in ("vendor", "table"):
        if field in row and row[field] != defaults[field]:
            raise CatalogError(f"{where}: field {field!r} is {row[field]!r} but the record sits in {defaults[field]!r}")
    start = row.get("start", row.get("port"))
    end = row.get("end", row.get("port"))
    for field, value in (("start", start), ("end", end)):
        if not PORT_MIN <= value <= PORT_MAX:
            raise CatalogError(f"{where}: field {field!r}: {value} is out of range {PORT_MIN}-{PORT_MAX}")
    if start > end:
        raise CatalogError(f"{where}: start {start} is greater than end {end}")
    values = {
        **defaults,
        "service": row["service"],
        "label": label,
        "start": start,
        "end": end,
        "protocol": row["protocol"],
        "direction": row.get("direction"),
        "min_version": row.get("min_version", defaults.get("min_version")),
        "protocol_basis": row.get("protocol_basis", "stated"),
        "category": row.get("category"),
        "description": row["description"],
    }
    return {field: values[field] for field in RECORD_FIELDS if values.get(field) is not None}


def _check_unique(records: Sequence[Mapping[str, Any]], where: str) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for index, record in enumerate(records):
        key = tuple(record.get(field) for field in _IDENTITY)
        if key in seen:
            raise CatalogError(
                f"{where}: duplicate record {record['service']} {record['start']}-{record['end']}/{record['protocol']}"
                f" in {record['vendor']}.{record['table']} (records {seen[key]} and {index})"
            )
        seen[key] = index


@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    if jsonschema is None:
        raise MissingDependencyError(
            "otnet.ports validates its port catalog with the Python package 'jsonschema', which is not installed "
            "for the Python that runs Ansible on the controller; install it (pip install jsonschema)"
        ) from JSONSCHEMA_IMPORT_ERROR
    return jsonschema.Draft202012Validator(_schema())


@functools.lru_cache(maxsize=1)
def _record_validator() -> Any:
    schema = _schema()
    return _validator().evolve(schema={"$ref": "#/$defs/record", "$defs": schema["$defs"]})


def _raise_schema_errors(validator: Any, instance: Any, where: str) -> None:
    errors = sorted(
        validator.iter_errors(instance),
        key=lambda error: list(map(str, error.absolute_path)),
    )
    if errors:
        error = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CatalogError(f"{where}: {_field_path(error)}{_describe(error)}{more}")


def _field_path(error: Any) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"field {path!r}: " if path else ""


def _describe(error: Any) -> str:
    if error.validator == "oneOf" and "port" in error.schema.get("oneOf", [{}])[0].get("required", []):
        return "give either 'port', or both 'start' and 'end'"
    if error.validator == "pattern" and error.schema.get("pattern") == _schema()["$defs"]["key"]["pattern"]:
        return f"{error.instance!r} is not a valid key; use lowercase letters, digits and '_', starting with a letter"
    if error.validator == "additionalProperties":
        return f"{error.message}; allowed: {', '.join(sorted(error.schema.get('properties', {})))}"
    return error.message
