"""Answering a form's submission when saving it fails: under the fields, or in its place."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack

from core.errors import DomainError, ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What a save returned (which may itself be empty)."""

    value: T


def saved_or_answered(
    ack: Ack,
    save: Callable[[], T],
    fields: Collection[str],
    message: Callable[[str], dict[str, Any]],
) -> Saved[T] | None:
    """What `save` returned; or None once `ack` has answered its problems: under the form's
    `fields`, or, for a problem no field shows, with `message` in the form's place."""
    try:
        return Saved(save())
    except ValidationFailed as exc:
        errors = {field: text for field, text in exc.errors.items() if field in fields}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack(response_action="update", view=message(exc.message))
    except DomainError as exc:
        ack(response_action="update", view=message(exc.message))
    return None
