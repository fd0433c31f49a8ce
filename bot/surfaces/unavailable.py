"""When the database or Slack fails a request: tell the person plainly, where they are."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.context.steps import execution_id, is_step_run
from bot.views.unavailable import (
    DATABASE_DOWN,
    FORM_DATABASE_DOWN,
    form_slack_failed,
    slack_failed,
    unavailable_home,
    unavailable_modal,
)

log = logging.getLogger(__name__)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is down, restarting, unreachable or too busy."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def tell_database_down(
    body: dict[str, Any], client: WebClient, respond: Respond | None, *, answered: bool
) -> BoltResponse:
    """Say the database is unavailable; the answer to Slack counts only while not `answered`."""
    return _tell(body, client, respond, answered, DATABASE_DOWN, FORM_DATABASE_DOWN)


def tell_slack_failed(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond | None,
    code: str,
    *,
    answered: bool,
) -> BoltResponse:
    """Say Slack refused or could not be reached for a call the request needed (after the
    client's own retries); `code` is Slack's short error code or what went wrong."""
    return _tell(body, client, respond, answered, slack_failed(code), form_slack_failed(code))


def _first_input(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _tell(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond | None,
    answered: bool,
    text: str,
    form_text: str,
) -> BoltResponse:
    view = body.get("view") if isinstance(body.get("view"), dict) else None
    if body.get("command"):
        if answered and respond is not None:
            try:
                respond(response_type="ephemeral", text=text)
            except OSError as exc:
                log.warning("could not tell the person what failed: %s", type(exc).__name__)
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") == "view_submission" and view is not None and not answered:
        block = _first_input(view)
        if block is not None:
            errors = {block: form_text}
            return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
        update = {"response_action": "update", "view": unavailable_modal(text)}
        return BoltResponse(status=200, body=update)
    try:
        _show(body, client, view, respond, text)
    except SlackApiError as exc:
        log.warning("could not tell the person what failed: %s", exc.response.get("error"))
    except OSError as exc:
        log.warning("could not tell the person what failed: %s", type(exc).__name__)
    return BoltResponse(status=200, body="")


def _show(
    body: dict[str, Any],
    client: WebClient,
    view: dict[str, Any] | None,
    respond: Respond | None,
    text: str,
) -> None:
    if is_step_run(body):
        # A workflow step is answered by ending it: the person running the workflow sees why.
        client.functions_completeError(function_execution_id=execution_id(body), error=text)
        return
    user = body.get("user") if isinstance(body.get("user"), dict) else None
    event = body.get("event") if isinstance(body.get("event"), dict) else None
    user_id = str((user or {}).get("id") or (event or {}).get("user") or "")
    if view is None:
        if body.get("response_url") and respond is not None:
            respond(response_type="ephemeral", replace_original=False, text=text)
        elif user_id and (event or {}).get("type") == "app_home_opened":
            client.views_publish(user_id=user_id, view=unavailable_home(text))
        return
    if body.get("type") == "view_submission":
        return  # answered already: the form is gone, and nothing else shows its outcome
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        # On top of what they were doing, so closing it leaves everything as it was.
        try:
            if view.get("type") == "modal":
                client.views_push(trigger_id=trigger, view=unavailable_modal(text))
            else:
                client.views_open(trigger_id=trigger, view=unavailable_modal(text))
            return
        except SlackApiError as exc:
            # The trigger was spent, or the stack is full: say it in place instead.
            log.info("could not stack the notice (%s)", exc.response.get("error"))
    if view.get("type") == "home" and user_id:
        client.views_publish(user_id=user_id, view=unavailable_home(text))
    elif view.get("id"):
        client.views_update(view_id=str(view["id"]), view=unavailable_modal(text))
