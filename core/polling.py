"""A background thread that handles queued work one item at a time: the mail outbox's and the
channel alerts' deliveries share it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PollingWorker:
    """A daemon thread running `step` (True: it handled an item) until nothing is left, then
    waiting `interval` seconds, until stopped; `what` names the work in its logs."""

    def __init__(self, what: str, step: Callable[[], bool], *, interval: float) -> None:
        self.interval = interval
        self._what = what
        self._step = step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=what.replace(" ", "-"), daemon=True)

    def start(self) -> None:
        """Begin in the background."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the item in hand, then end the thread (waits at most `timeout`)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the thread is still alive."""
        return self._thread.is_alive()

    def drain(self) -> int:
        """Handle every item due now, one at a time until stopped; how many."""
        handled = 0
        # One item per step so that stop() waits for at most one; a backlog still drains
        # without pausing between items.
        while not self._stop.is_set() and self._step():
            handled += 1
        return handled

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:
                log.exception("%s pass failed; will try again", self._what)
            self._stop.wait(self.interval)
