"""Uninstalls: with OAuth the workspace is disabled and its tokens forgotten; its data stays."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.context.deps import deps_of
from core.services.workspaces import disable_workspace

log = logging.getLogger(__name__)


def _forget(context: BoltContext) -> None:
    team_id = context.team_id
    if not team_id:
        return
    deps = deps_of(context)
    if deps.installation_store is None:
        # Token mode: nothing stored to forget, and a disabled workspace would stay
        # disabled after a reinstall, which brings a new SLACK_BOT_TOKEN and no OAuth.
        log.warning("the app was uninstalled from workspace %s; its records are kept", team_id)
        return
    # Disabled first: from then on the workspace's requests are ignored, whatever remains.
    with deps.db.unit_of_work() as uow:
        disable_workspace(uow, team_id)
    deps.installation_store.delete_all(enterprise_id=context.enterprise_id, team_id=team_id)
    log.info("uninstalled from workspace %s; its records are kept", team_id)


def on_uninstalled(context: BoltContext) -> None:
    """The app was removed from a workspace."""
    _forget(context)


def on_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
    """Tokens were revoked; without its bot token the app can do nothing in the workspace."""
    tokens = event.get("tokens")
    # The app holds no user tokens.
    if isinstance(tokens, dict) and tokens.get("bot"):
        _forget(context)


def register(app: App) -> None:
    """Wire app_uninstalled and tokens_revoked."""
    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
