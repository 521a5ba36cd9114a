"""PAC Control chart-logic port rules: which ports user chart logic may use, and why the others are reserved.

The rules are the Opto 22 document's, so they are read from the shipped vendor catalog only, whatever catalog a
caller passes: a site overlay (or any catalog object carrying extra records) can never widen them. The catalog a
caller passes still decides who else uses a port (site records included).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ._catalog import Catalog, load_catalog
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
    """The ports chart logic may use, merged: the vendor catalog's, whatever ``catalog`` holds (see above)."""
    return list(_allowed_ranges())


def verdict(catalog: Catalog, port: Any, where: str = "port") -> ChartVerdict:
    """Whether chart logic may use ``port``, the chart-logic row that says so, and who else uses the port."""
    number = check_port(port, where)
    for table, allowed in ((ALLOWED_TABLE, True), (RESERVED_TABLE, False)):
        for record in _rules(table):
            if record["start"] <= number <= record["end"]:
                owners = [r for r in catalog.select(kind="assignment") if r["start"] <= number <= r["end"]]
                return ChartVerdict(number, allowed, dict(record), owners)
    raise ChartPortError(f"{where}: {number} is in no chart-logic table; the catalog is incomplete")


@functools.lru_cache(maxsize=2)
def _rules(table: str) -> tuple[dict[str, Any], ...]:
    """The TCP records of one chart-logic table of the vendor catalog, which no overlay can reach."""
    return tuple(load_catalog().select(vendor="opto22", tables=[table], protocol="tcp"))


@functools.lru_cache(maxsize=1)
def _allowed_ranges() -> tuple[tuple[int, int], ...]:
    return tuple(merge((r["start"], r["end"]) for r in load_catalog().select(vendor="opto22", tables=[ALLOWED_TABLE])))


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
