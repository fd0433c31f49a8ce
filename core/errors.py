"""One family of domain errors; the edges turn them into user-facing messages."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A business rule refused the request; `message` is safe to show to staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The record does not exist for this tenant (or no longer exists)."""


class Forbidden(DomainError):
    """The acting staff member may not do this."""


class Conflict(DomainError):
    """The request is based on a state that someone else has changed meanwhile."""

    def __init__(
        self,
        message: str,
        *,
        changed_by: str | None = None,
        changed_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.changed_by = changed_by
        self.changed_at = changed_at


class ValidationFailed(DomainError):
    """One message per invalid field, keyed by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = dict(errors)


class ConfigError(Exception):
    """The environment is missing or mis-setting a variable; the message names it."""
