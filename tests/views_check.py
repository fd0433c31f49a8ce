"""Checks every view against slack_sdk.models and the Block Kit limits of DESIGN.md §9."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_VIEW_BLOCKS = 100
MAX_METADATA = 3000


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def assert_valid_view(view: dict[str, Any]) -> None:
    """Fail with a precise message if Slack would reject `view`."""
    blocks = view.get("blocks", [])
    assert len(blocks) <= MAX_VIEW_BLOCKS, f"{len(blocks)} blocks"
    assert len(view.get("private_metadata", "")) <= MAX_METADATA
    parsed = View(**view)
    parsed.validate_json()
    for block in blocks:
        obj = Block.parse(block)
        assert obj is not None, f"unknown block {block.get('type')}"
        obj.validate_json()
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"
    for node in _walk(blocks):
        if node.get("type") == "overflow":
            assert 1 <= len(node["options"]) <= 5
        if node.get("type") == "button":
            assert len(node["text"]["text"]) <= 75
        if node.get("type") in {"plain_text", "mrkdwn"}:
            assert node["text"], "empty text object"
    if view.get("type") == "modal":
        if any(block.get("type") == "input" for block in blocks):
            assert "submit" in view, "Slack refuses a modal with input blocks but no submit"
        for key in ("title", "submit", "close"):
            if key in view:
                assert len(view[key]["text"]) <= 24, f"{key} too long"
    json.dumps(view)
