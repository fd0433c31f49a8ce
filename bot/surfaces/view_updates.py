"""Updating a view that may have moved on: Slack's `hash_conflict` means a newer update won."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@contextmanager
def newer_wins(what: str) -> Iterator[None]:
    """Run a views.update/publish sent with the view's hash; a conflict skips it, quietly."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        log.debug("%s skipped: a newer update of the view won", what)
