"""Slack's side of the soak: signed requests alternating between the workers.

When a worker refuses the connection (it is down), the very same request goes to the next
worker, as Slack re-delivers to a load balancer's healthy backend; such a request never
reached the app, so sending it again cannot duplicate anything. Any other failure after
the request went out is reported as `AnswerLost`: the app may or may not have acted.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import parse_qs

from bot.local import AppEndpoint, AppResponse, SlackDriver
from bot.local.driver import DriverError, retry_headers
from bot.local.signing import signed_headers
from bot.local.slack_api import LocalSlackAPI
from tests.soak.tally import Tally

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Every worker refusing at once (one killed, the other restarting) is retried this long.
REFUSED_PATIENCE = 15.0


class AnswerLost(DriverError):
    """The request reached a worker but no usable answer came back: it may have been acted on."""


class NoWorker(DriverError):
    """No worker accepted the connection: the request was certainly not acted on."""


class RoundRobin:
    """The workers' URLs, handed out in turn (thread-safe)."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self._turn = itertools.cycle(range(len(self.urls)))
        self._lock = threading.Lock()

    def next(self) -> str:
        """The next worker's URL."""
        with self._lock:
            return self.urls[next(self._turn)]


def request_kind(body: bytes) -> str:
    """'slash', 'event', or the interaction type (block_actions, view_submission …)."""
    form = parse_qs(body.decode(errors="replace"))
    if "command" in form:
        return "slash"
    if "payload" in form:
        try:
            return str(json.loads(form["payload"][0]).get("type", "interaction"))
        except ValueError:
            return "interaction"
    return "event"


class SoakDriver(SlackDriver):
    """A SlackDriver sending each request to the next worker, re-sending refused connections."""

    def __init__(
        self,
        api: LocalSlackAPI,
        workers: RoundRobin,
        signing_secret: str,
        tally: Tally,
        *,
        user_id: str,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            api, AppEndpoint(workers.urls[0], signing_secret, timeout), user_id=user_id
        )
        self.workers = workers
        self.tally = tally

    def _post(self, body: bytes, content_type: str, *, retry_num: int = 0) -> AppResponse:
        mark = self.api.mark()
        kind = request_kind(body)
        self.tally.request(kind)
        deadline = time.monotonic() + REFUSED_PATIENCE
        while True:
            url = self.workers.next()
            headers = {
                "Content-Type": content_type,
                **signed_headers(self.app.signing_secret, int(time.time()), body),
                **retry_headers(retry_num),
            }
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - loopback URL we built
            started = time.perf_counter()
            try:
                with _OPENER.open(request, timeout=self.app.timeout) as reply:
                    status, raw = reply.status, reply.read()
            except urllib.error.HTTPError as error:
                status, raw = error.code, error.read()
            except urllib.error.URLError as error:
                if isinstance(error.reason, ConnectionRefusedError):
                    self.tally.retry("connection refused: sent to the other worker")
                    if time.monotonic() > deadline:
                        raise NoWorker(f"no worker accepted a {kind} request") from error
                    time.sleep(0.1)
                    continue
                raise AnswerLost(f"{kind} to {url}: {error.reason}") from error
            except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
                raise AnswerLost(f"{kind} to {url}: {type(error).__name__}") from error
            elapsed = time.perf_counter() - started
            if status >= 500:
                self.tally.server_error(status, kind, url)
                raise AnswerLost(f"{kind} to {url} answered HTTP {status}")
            text = raw.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(text) if text.strip() else {}
            except ValueError:
                parsed = {}
            data = parsed if isinstance(parsed, dict) else {}
            return AppResponse(status, text, data, mark, elapsed)
