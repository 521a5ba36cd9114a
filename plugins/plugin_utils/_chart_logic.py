"""PAC Control chart-logic port rules: which ports user chart logic may use, and why the others are reserved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._catalog import Catalog
from ._errors import ChartPortError
from ._portrange import check_port, merge, range_text, ranges_text

ALLOWED_TABLE = "chart_logic"
RESERVED_TABLE = "chart_logic_reserved"


@dataclass(frozen=True)
class ChartVerdict:
    port: int
    allowed: bool
    rule: dict[str, Any]
    owners: list[dict[str, Any]]


def allowed_ranges(catalog: Catalog) -> list[tuple[int, int]]:
    return merge((r["start"], r["end"]) for r in catalog.select(vendor="opto22", tables=[ALLOWED_TABLE]))


def verdict(catalog: Catalog, port: Any, where: str = "port") -> ChartVerdict:
    """Whether chart logic may use ``port``, the chart-logic row that says so, and who else uses the port."""
    number = check_port(port, where)
    for table, allowed in ((ALLOWED_TABLE, True), (RESERVED_TABLE, False)):
        for record in catalog.select(vendor="opto22", tables=[table], protocol="tcp"):
            if record["start"] <= number <= record["end"]:
                owners = [r for r in catalog.select(kind="assignment") if r["start"] <= number <= r["end"]]
                return ChartVerdict(number, allowed, record, owners)
    raise ChartPortError(f"{where}: {number} is in no chart-logic table; the catalog is incomplete")


def check_chart_port(catalog: Catalog, port: Any, where: str = "port") -> int:
    """``port`` if PAC Control chart logic may use it; otherwise an error naming the reserved range and its reason."""
    result = verdict(catalog, port, where)
    if result.allowed:
        return result.port
    raise ChartPortError(reserved_message(catalog, result, where))


def reserved_message(catalog: Catalog, result: ChartVerdict, where: str) -> str:
    rule = result.rule
    reason = rule["description"].split(". For more information")[0].rstrip(".")
    owners = sorted({f"{r['service']} ({r['description']})" for r in result.owners})
    also = f"; the port is also assigned to {', '.join(owners)}" if owners else ""
    return (
        f"{where}: {result.port} cannot be used in PAC Control chart logic: it is in the reserved range "
        f"{range_text(rule['start'], rule['end'])}, {reason[0].lower()}{reason[1:]} [{rule['service']}]{also}. "
        f"Chart logic may use {ranges_text(allowed_ranges(catalog))}"
    )
