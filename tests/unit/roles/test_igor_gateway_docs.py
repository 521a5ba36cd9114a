"""The rule list and the exclusion list in the igor_gateway README and user guide are the plan's, not hand-written."""

from __future__ import annotations

import pytest
from igor_docs import MARKER, SECTIONS, TARGETS, render


@pytest.mark.parametrize("path", TARGETS, ids=lambda path: path.name)
def test_generated_sections_have_not_drifted(path):
    text = path.read_text(encoding="utf-8")
    assert sorted(match.group(2) for match in MARKER.finditer(text)) == sorted(SECTIONS)
    assert render(text) == text, f"{path} drifted from the plan; run: make docs"
