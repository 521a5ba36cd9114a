"""Markdown tables for the generated docs (tools/gen_docs.py, tools/igor_docs.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines
