"""Staff-only gate: a global middleware admitting staff and admins, refusing guests and others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.audience import People
from bot.context.deps import ACTOR_KEY, DEPS_KEY, STUDIO_KEY, Deps
from bot.context.steps import NO_RUNNER, execution_id, is_step_run, runner_id
from bot.transport.inbound import is_slack_id, malformed, scrub
from bot.views.blocks import modal, section
from bot.views.messages import refusal_text
from core.services.settings import resolve_with_settings
from core.services.staff import admin_ids

log = logging.getLogger(__name__)

# Events that concern the installation or a conversation, not a person acting: no staff check
# applies. Anyone may join a channel (its `user` is often a guest or non-staff), and that is
# exactly when the app must hear of it: see bot/events/membership.py. Anyone may paste a
# customer link or open its card: bot/surfaces/unfurls.py decides what each conversation and
# each viewer may see.
UNGATED_EVENTS = frozenset(
    {
        "app_uninstalled",
        "tokens_revoked",
        "member_joined_channel",
        "member_left_channel",
        "link_shared",
        "entity_details_requested",
    }
)
# Global and message shortcuts: nothing is on screen yet, so the refusal opens a modal.
SHORTCUTS = frozenset({"shortcut", "message_action"})


class GuestCheck:
    """Asks Slack whether a user is a guest, remembering answers for a few minutes."""

    def __init__(self, people: People | None = None) -> None:
        # Shared with the audience checks, so one users.info answer serves both.
        self.people = people or People()

    def is_guest(self, client: WebClient, team_id: str, user_id: str) -> bool:
        """True for single- and multi-channel guests; raises SlackApiError if Slack can't say."""
        return self.people.person(client, team_id, user_id).guest


def _refuse(body: dict[str, Any], client: WebClient, user_id: str, text: str) -> BoltResponse:
    """Tell the person why, on whichever surface they used, and stop the request here."""
    kind = str(body.get("type"))
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    refusal_modal = modal("Customer Records", [section(text)], callback_id="access.refused")
    if kind == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update", "view": refusal_modal})
    view = body.get("view")
    view = view if isinstance(view, dict) else {}
    try:
        if is_step_run(body):
            # A workflow step ends with the refusal as its error, shown to whoever runs it.
            client.functions_completeError(function_execution_id=execution_id(body), error=text)
        elif kind in SHORTCUTS:
            client.views_open(trigger_id=str(body.get("trigger_id")), view=refusal_modal)
        elif kind == "block_actions" and view.get("type") == "modal" and view.get("id"):
            client.views_update(view_id=str(view["id"]), view=refusal_modal)
        elif kind in {"block_actions", "event_callback"}:
            client.views_publish(user_id=user_id, view={"type": "home", "blocks": [section(text)]})
    except SlackApiError as exc:
        log.warning("could not show the access refusal: %s", exc.response.get("error"))
    return BoltResponse(status=200, body="")


def access_middleware(deps: Deps, guests: GuestCheck) -> Callable[..., BoltResponse | None]:
    """Build the middleware; it stores Deps and the Actor in the context for listeners."""

    def middleware(
        body: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        context[DEPS_KEY] = deps
        odd = malformed(body)
        if odd is not None:
            log.warning("dropped a malformed %s request", odd)
            return BoltResponse(status=400, body="")
        scrub(body)
        event = body.get("event")
        if isinstance(event, dict) and str(event.get("type")) in UNGATED_EVENTS:
            return next()
        team_id, user_id = context.team_id, context.user_id
        if is_step_run(body):
            user_id = runner_id(body)
            if user_id is None and is_slack_id(team_id):
                return _refuse(body, client, "", NO_RUNNER)
        # Nobody to check, or ids unlike Slack's (only a forged payload has them): nothing to do.
        if not (is_slack_id(team_id) and is_slack_id(user_id)):
            return BoltResponse(status=200, body="")
        with deps.db.unit_of_work(readonly=True) as uow:
            actor, studio = resolve_with_settings(uow, team_id, user_id)
            admins = admin_ids(uow, team_id) if actor is None else []
        if actor is None:
            log.info("refused non-staff user %s of %s", user_id, team_id)
            return _refuse(body, client, user_id, refusal_text(admins))
        try:
            guest = guests.is_guest(client, team_id, user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return _refuse(
                body, client, user_id, "Slack didn't confirm your account just now; try again."
            )
        if guest:
            log.info("refused guest user %s of %s", user_id, team_id)
            return _refuse(body, client, user_id, refusal_text([], guest=True))
        context[ACTOR_KEY] = actor
        context[STUDIO_KEY] = studio
        return next()

    return middleware
