"""A Workflow Builder step's run (`function_executed`): which run it is, and who runs it.

Slack names no user on the event itself; each step of ours takes the person running the
workflow as its `runner` input, of type `slack#/types/user_context`, which only Slack fills
(with the person who started the workflow or answered its form) and nobody can type."""

from __future__ import annotations

from typing import Any

from bot.transport.inbound import is_slack_id

FUNCTION_EXECUTED = "function_executed"
RUNNER = "runner"
NO_RUNNER = (
    "Customer Records needs to know who runs this workflow: set the step's "
    "“Person running the workflow” to the person who used the workflow."
)


def _event(body: dict[str, Any]) -> dict[str, Any]:
    event = body.get("event")
    return event if isinstance(event, dict) else {}


def is_step_run(body: dict[str, Any]) -> bool:
    """Whether the request is Slack running one of the app's workflow steps."""
    return _event(body).get("type") == FUNCTION_EXECUTED


def execution_id(body: dict[str, Any]) -> str:
    """The run's `function_execution_id`, which functions.completeSuccess/Error answer."""
    return str(_event(body).get("function_execution_id") or "")


def runner_id(body: dict[str, Any]) -> str | None:
    """The user id of the person running the workflow, from the step's `runner` input."""
    inputs = _event(body).get("inputs")
    runner = inputs.get(RUNNER) if isinstance(inputs, dict) else None
    user_id = runner.get("id") if isinstance(runner, dict) else None
    return user_id if is_slack_id(user_id) else None
