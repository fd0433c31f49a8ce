"""An `ack()` whose answer, once given, stays given.

slack_bolt's thread runner (1.30) handles a listener that raises *after* acking by setting
`ack.response = None`; unless the request thread had already picked the ack up (it polls every
10 ms), it then waits out Slack's 3 seconds and answers 404 "unhandled request", so Slack
shows an error for an action that was acknowledged (and retries events). Keeping the first
answer makes a failure after the ack cost only the failure itself, which `@app.error` reports.

That is not quite enough: while the failing listener's thread swaps its interim 500 answer
in and out, the request thread can read it as None at every check and still fall through to
404 "unhandled request". So the app's dispatch answers with the kept ack whenever one was given.

Nor is the answer object safe once handed out: when the listener fails, the thread runner sets
status 500 on the response it holds, which the request thread may have just taken from
`ack.response`. So the answer is kept as first given, and each read gets its own copy.
"""

from __future__ import annotations

from slack_bolt import Ack, BoltResponse


class KeptAck(Ack):
    """Bolt's Ack, except that the first answer given stays, as it was given."""

    def __init__(self) -> None:
        # Ack.__init__ only clears the answer (and is untyped): done here instead.
        self._answer: BoltResponse | None = None

    @property
    def response(self) -> BoltResponse | None:
        """A copy of the answer for Slack, or None while the listener has not acked."""
        return None if self._answer is None else _copy(self._answer)

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if self._answer is None and value is not None:
            self._answer = _copy(value)


def _copy(answer: BoltResponse) -> BoltResponse:
    return BoltResponse(
        status=answer.status,
        body=answer.body,
        headers={name: list(values) for name, values in answer.headers.items()},
    )
