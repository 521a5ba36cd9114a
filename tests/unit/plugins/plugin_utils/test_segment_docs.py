"""docs/opto22_segment.md shows the file the renderer makes for its worked example; this keeps the two in step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ansible_collections.otnet.ports.plugins.plugin_utils._nft_render import render_nft
from ansible_collections.otnet.ports.plugins.plugin_utils._opto22_segment_plan import plan_segment

GUIDE = Path(__file__).resolve().parents[4] / "docs" / "opto22_segment.md"


def block(name: str, language: str) -> str:
    match = re.search(
        rf"<!-- BEGIN {name} .*?-->\n```{language}\n(.*?)```\n<!-- END {name} -->", GUIDE.read_text(), re.DOTALL
    )
    assert match, f"no {name} block in {GUIDE.name}"
    return match.group(1)


def test_the_guide_shows_what_its_example_renders_to(catalog):
    example = yaml.safe_load(block("example", "yaml"))
    rendered = render_nft(plan_segment(catalog, example)).text
    assert block("rendered", "nft") == rendered, (
        "docs/opto22_segment.md is out of date: replace its 'rendered' block with the file the renderer makes now"
    )
