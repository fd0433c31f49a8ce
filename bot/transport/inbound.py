"""What arrives from Slack: refuse what Slack never sends, clean what the database can't store.

Every request is signed, but its fields are still read by Bolt's matching and by the listeners,
which rely on the shapes Slack always sends; a payload without them (only a forged one can be)
is refused up front. Text people type can hold characters PostgreSQL refuses (NUL) or that no
encoding can store (lone surrogates from a JSON escape); they are dropped before any listener
sees the text, so a search or a note with them neither fails nor differs between databases."""

from __future__ import annotations

import re
from typing import Any, TypeGuard

# Slack's team, enterprise, user and view ids: T0123ABCD, E…, U…, W…, V… (letters and digits).
# Slack ids are short; the columns holding them (team, user, actor) take up to 32 characters.
SLACK_ID = re.compile(r"[A-Za-z0-9]{1,32}")
INTERACTIONS_WITH_VIEWS = frozenset({"view_submission", "view_closed"})
SHORTCUTS = frozenset({"shortcut", "message_action"})


def _has_view(body: dict[str, Any]) -> bool:
    view = body.get("view")
    return (
        isinstance(view, dict)
        and is_slack_id(view.get("id"))
        and isinstance(view.get("callback_id", ""), str)
    )


def is_slack_id(value: object) -> TypeGuard[str]:
    """Whether `value` looks like a Slack team, user or view id."""
    return isinstance(value, str) and SLACK_ID.fullmatch(value) is not None


def malformed(body: dict[str, Any]) -> str | None:
    """What makes a request unlike anything Slack sends; None when nothing does."""
    if "command" in body:
        fields = ("command", "text", "trigger_id", "channel_id")
        return None if all(isinstance(body.get(f), str) for f in fields) else "slash command"
    kind = body.get("type")
    if not isinstance(kind, str | None):
        return "typeless"
    if kind == "event_callback" or "event" in body:
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            return "event"
        if event["type"] == "function_executed" and not _is_step(event):
            return "workflow step"
        return None
    if ("view" in body or kind in INTERACTIONS_WITH_VIEWS) and not _has_view(body):
        return "view"
    if kind == "block_actions":
        actions = body.get("actions")
        ok = (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
            and isinstance(body.get("trigger_id"), str)
        )
        return None if ok else "block actions"
    if kind == "block_suggestion" and not isinstance(body.get("action_id"), str):
        return "block suggestion"
    if kind in SHORTCUTS:
        return None if _is_shortcut(body, kind) else "shortcut"
    return None


def _is_step(event: dict[str, Any]) -> bool:
    """A workflow step's run names its step, its execution and, if any, its inputs."""
    function = event.get("function")
    return (
        isinstance(function, dict)
        and isinstance(function.get("callback_id"), str)
        and isinstance(event.get("function_execution_id"), str)
        and isinstance(event.get("inputs", {}), dict)
    )


def _is_shortcut(body: dict[str, Any], kind: str) -> bool:
    """A global shortcut names its callback and trigger; a message shortcut also its message."""
    if not (isinstance(body.get("callback_id"), str) and isinstance(body.get("trigger_id"), str)):
        return False
    if kind == "shortcut":
        return True
    channel, message = body.get("channel"), body.get("message")
    return (
        isinstance(channel, dict)
        and isinstance(channel.get("id"), str)
        and isinstance(message, dict)
        and isinstance(message.get("ts"), str)
        and isinstance(message.get("text", ""), str)
        and isinstance(message.get("user", ""), str)
        and isinstance(body.get("message_ts", ""), str)
    )


def _clean(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "ignore").decode("utf-8")
    return text


def scrub(body: dict[str, Any]) -> None:
    """Drop NUL characters and lone surrogates from every string in `body`, in place."""
    pending: list[Any] = [body]
    while pending:
        node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, str):
                node[key] = _clean(value)
            elif isinstance(value, dict | list):
                pending.append(value)
