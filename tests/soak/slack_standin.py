"""The Slack Web API stand-in, plus an outage mode: every call answered 429 for a while."""

from __future__ import annotations

import time
from collections.abc import Mapping

from bot.local.blockkit import JSON
from bot.local.slack_api import LocalSlackAPI, SlackWorkspace


class RateLimitingSlackAPI(LocalSlackAPI):
    """A LocalSlackAPI that can answer every Web API call with HTTP 429 until a deadline."""

    def __init__(self, *, team_id: str, team_name: str) -> None:
        super().__init__(SlackWorkspace(team_id, team_name))
        self._limited_until = 0.0
        self.retry_after = 1
        self.limited_calls = 0

    def rate_limit_for(self, seconds: float, *, retry_after: int = 1) -> None:
        """From now on for `seconds`, answer `ratelimited` with Retry-After, as Slack does."""
        self.retry_after = retry_after
        self._limited_until = time.monotonic() + seconds

    @property
    def rate_limited(self) -> bool:
        """Whether calls are being refused right now."""
        return time.monotonic() < self._limited_until

    def _api(
        self, method: str, query: str, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], JSON]:
        if self.rate_limited:
            body: JSON = {"ok": False, "error": "ratelimited"}
            self._record(method, {}, None, body)
            with self._cond:
                self.limited_calls += 1
            return 429, {"Retry-After": str(self.retry_after)}, body
        return super()._api(method, query, raw, headers)
