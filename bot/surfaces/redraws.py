"""Redrawing a view that others may redraw at once, so the latest state always ends on screen.

Redraws of one view take turns (`core.view_redraws`); each renders from the state read in its
turn and sends it with the hash Slack gave the previous redraw, so two interactions acting on
one view at once both land instead of the second meeting `hash_conflict`. A redraw that shows
only what its action asked for (a keystroke, a tab) gives the action's `action_ts`: an older
one's turn after a newer one was drawn is skipped. A conflict on the known hash means the view
was changed some other way; the action's own hash is tried next, and if that conflicts too the
view has moved on (closed over, replaced), so the redraw is skipped quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.context.request import Request

log = logging.getLogger(__name__)

Render = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Shown:
    """The view a redraw replaces, as the action that asked for it saw it."""

    # A modal's id, or '' for the Home tab of the acting staff member.
    view_id: str
    # The hash the action's payload carried (None: the redraw may replace whatever is shown).
    view_hash: str | None = None
    # The action's timestamp when the redraw shows only what it asked for: newer wins.
    action_ts: str = ""

    @classmethod
    def of(cls, body: dict[str, Any]) -> Shown:
        """The view `body`'s action was taken in, for a redraw showing only what it asked for."""
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else {}
        action_ts = first.get("action_ts") if isinstance(first, dict) else ""
        home = view.get("type") == "home"
        return cls(
            "" if home else str(view.get("id") or ""),
            view.get("hash") if isinstance(view.get("hash"), str) else None,
            action_ts if isinstance(action_ts, str) else "",
        )

    def changed(self) -> Shown:
        """The same view, for a redraw showing a change: drawn even after a newer action's."""
        return replace(self, action_ts="")


def redraw(request: Request, shown: Shown, render: Render, what: str) -> None:
    """Draw `render()`, called in the view's turn, over the view `shown`."""
    key = shown.view_id or f"home:{request.actor.user_id}"
    with request.deps.redraws.turn(request.actor.team_id, key) as turn:
        if shown.action_ts and turn.last.newer_than(shown.action_ts):
            log.debug("%s skipped: a newer action's redraw is on screen", what)
            return
        view = render()
        for view_hash in _hashes(turn.last.view_hash, shown.view_hash):
            try:
                sent = _send(request, shown, view, view_hash)
            except SlackApiError as exc:
                if exc.response.get("error") != "hash_conflict":
                    raise
                continue
            drawn = (sent.get("view") or {}).get("hash")
            turn.drew(drawn if isinstance(drawn, str) and drawn else None, shown.action_ts)
            return
        log.debug("%s skipped: a newer update of the view won", what)


def _hashes(known: str | None, carried: str | None) -> list[str | None]:
    """The hashes to try: the action's first (current unless something changed the view since:
    an ack's response_action or a publish outside the turns leave the one kept behind), then
    the last redraw's; None (no check) only if the action carried none."""
    return [h for h in dict.fromkeys((carried, known)) if h is not None or carried is None]


def _send(request: Request, shown: Shown, view: dict[str, Any], view_hash: str | None) -> Any:
    client = request.client
    if shown.view_id:
        return client.views_update(view_id=shown.view_id, view=view, hash=view_hash)
    return client.views_publish(user_id=request.actor.user_id, view=view, hash=view_hash)
