"""Faults injected in turn every few minutes: database restart, mail, Slack and Stripe outages, a
worker killed. Each is recorded as a time window, so log lines it explains can be told apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.soak.stack import Stack

KINDS = ("postgres restart", "smtp outage", "slack 429", "stripe restart", "worker killed")
# How long each fault lasts in a full run; a compressed run (faults every few seconds)
# scales them down to fit.
DURATIONS = {
    "postgres restart": 4.0,
    "smtp outage": 45.0,
    "slack 429": 10.0,
    "stripe restart": 8.0,
    "worker killed": 3.0,
}
# Errors a fault causes may surface a little after it ends (a retry, a stale connection).
AFTERMATH = 10.0


@dataclass(frozen=True)
class FaultWindow:
    """One injected fault: what, from when until when (epoch seconds)."""

    kind: str
    started: float
    ended: float
    detail: str

    def covers(self, moment: float) -> bool:
        """Whether `moment` falls in the fault or its aftermath."""
        return self.started - 1.0 <= moment <= self.ended + AFTERMATH


class FaultInjector:
    """A thread injecting the next fault every `every` seconds until the run's end."""

    def __init__(self, stack: Stack, *, every: float, ends_at: float) -> None:
        self.stack = stack
        self.every = every
        self.ends_at = ends_at
        self.windows: list[FaultWindow] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-faults", daemon=True)
        self._actions: dict[str, Callable[[float], str]] = {
            "postgres restart": self._postgres,
            "smtp outage": self._smtp,
            "slack 429": self._slack,
            "stripe restart": self._stripe,
            "worker killed": self._worker,
        }

    def duration(self, kind: str) -> float:
        """How long `kind` lasts in this run."""
        return min(DURATIONS[kind], self.every / 2)

    def start(self) -> None:
        """Begin injecting."""
        self._thread.start()

    def stop(self) -> None:
        """Stop injecting and wait for the fault in progress to end."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        first = time.time()
        turn = 0
        # Fault n starts `every` × n seconds in, however long the ones before it lasted.
        while not self._stop.wait(max(0.0, first + self.every * (turn + 1) - time.time())):
            kind = KINDS[turn % len(KINDS)]
            if time.time() + self.duration(kind) + 2 > self.ends_at:
                return
            started = time.time()
            try:
                detail = self._actions[kind](self.duration(kind))
            except Exception as exc:
                # The soak's own machinery failed, not the app: say so in the report.
                self.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                detail = "injection failed"
            self.windows.append(FaultWindow(kind, started, time.time(), detail))
            turn += 1

    def _postgres(self, seconds: float) -> str:
        self.stack.cluster.stop("fast")
        time.sleep(seconds)
        self.stack.cluster.start()
        return f"stopped (fast) for {seconds:.0f} s, started again"

    def _smtp(self, seconds: float) -> str:
        self.stack.smtp.down()
        time.sleep(seconds)
        self.stack.smtp.up()
        return f"connections refused for {seconds:.0f} s"

    def _slack(self, seconds: float) -> str:
        self.stack.slack.rate_limit_for(seconds, retry_after=1)
        time.sleep(seconds)
        refused = self.stack.slack.limited_calls
        return f"every Web API call answered 429 (Retry-After: 1) for {seconds:.0f} s; {refused} so far"

    def _stripe(self, seconds: float) -> str:
        self.stack.stripe.stop()
        time.sleep(seconds)
        self.stack.stripe.start()
        return f"stopped for {seconds:.0f} s, restarted with its data"

    def _worker(self, seconds: float) -> str:
        worker = self.stack.workers[sum(w.kind == "worker killed" for w in self.windows) % 2]
        worker.kill()
        time.sleep(seconds)
        worker.start()
        return f"{worker.name} SIGKILLed, restarted after {seconds:.0f} s"
