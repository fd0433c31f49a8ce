"""Running one of the app's Workflow Builder steps: once per event, ended with its outputs
(functions.completeSuccess) or with why not (functions.completeError).

Slack retries an event it thinks was missed (`X-Slack-Retry-Num`); the event id is recorded in
the step's own transaction, so a retry finds it and does nothing, whichever worker gets it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import BoltContext, Complete, Fail
from slack_sdk import WebClient

from bot.context.request import Request
from bot.context.steps import execution_id
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, ValidationFailed
from core.services.seen_events import act_once

log = logging.getLogger(__name__)

T = TypeVar("T")
Outputs = dict[str, Any]


def refusal_message(error: DomainError) -> str:
    """What the person running the workflow reads: each field's problem, or the refusal."""
    if isinstance(error, ValidationFailed):
        return " ".join(error.errors.values())
    return error.message


@dataclass(frozen=True)
class Step:
    """One run of a step: who runs it, what it was given, and how it ends."""

    request: Request
    event_id: str
    inputs: dict[str, Any]
    complete: Complete
    fail: Fail

    @classmethod
    def of(
        cls,
        context: BoltContext,
        client: WebClient,
        body: dict[str, Any],
        complete: Complete,
        fail: Fail,
    ) -> Step:
        """The run the access middleware admitted (its runner is staff)."""
        event = body.get("event")
        inputs = event.get("inputs") if isinstance(event, dict) else None
        # Slack always sends an event id; the execution id is as unique, should one be missing.
        event_id = str(body.get("event_id") or execution_id(body))[:64]
        given = inputs if isinstance(inputs, dict) else {}
        return cls(Request.of(context, client), event_id, given, complete, fail)

    def text(self, name: str) -> str:
        """A text input as given, trimmed; empty when it was left out."""
        value = self.inputs.get(name)
        return value.strip() if isinstance(value, str) else ""

    def run(self, what: Callable[[UnitOfWork, Actor], T], outputs: Callable[[T], Outputs]) -> None:
        """Do `what` once for this event, then end the step with its outputs or its refusal."""
        request = self.request
        with request.deps.db.unit_of_work() as uow:
            outcome = act_once(
                uow, request.actor.team_id, self.event_id, lambda: what(uow, request.actor)
            )
        if outcome is None:
            log.info("workflow step event delivered again; it was acted on once already")
        elif isinstance(outcome, DomainError):
            self.fail(error=refusal_message(outcome))
        else:
            self.complete(outputs=outputs(outcome))
