"""Counts of what happened: interactions by kind, errors by kind, HTTP answers, faults."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ServerError:
    """A 5xx answer from a worker."""

    at: float
    status: int
    request: str
    worker: str


@dataclass
class Tally:
    """Thread-safe counters shared by the driver, the simulated people and the fault injector."""

    actions: Counter[str] = field(default_factory=Counter)
    failed_actions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    server_errors: list[ServerError] = field(default_factory=list)
    # When each error happened (epoch seconds, kind), to tell fault-caused ones from others.
    error_times: list[tuple[float, str]] = field(default_factory=list)
    # What the person was looking at when an error happened: a few per kind, for diagnosis.
    samples: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def action(self, kind: str, *, ok: bool) -> None:
        """One high-level interaction (open hub, create customer, refund …) and how it ended."""
        with self._lock:
            (self.actions if ok else self.failed_actions)[kind] += 1

    def error(self, kind: str, sample: str = "") -> None:
        """Something went wrong, by kind (timeout, refused, server error, view not shown …)."""
        with self._lock:
            self.errors[kind] += 1
            self.error_times.append((time.time(), kind))
            kept = self.samples.setdefault(kind, [])
            if sample and len(kept) < 3:
                kept.append(sample)

    def request(self, kind: str) -> None:
        """One signed request sent to a worker."""
        with self._lock:
            self.requests[kind] += 1

    def retry(self, why: str) -> None:
        """A request sent again (as Slack re-delivers, or a person presses again)."""
        with self._lock:
            self.retried[why] += 1

    def server_error(self, status: int, request: str, worker: str) -> None:
        """A 5xx answer."""
        with self._lock:
            self.server_errors.append(ServerError(time.time(), status, request, worker))
            self.errors[f"HTTP {status}"] += 1
            self.error_times.append((time.time(), f"HTTP {status}"))

    def as_json(self) -> dict[str, Any]:
        """Everything counted, as plain data."""
        with self._lock:
            return {
                "interactions": dict(self.actions),
                "failed_interactions": dict(self.failed_actions),
                "errors": dict(self.errors),
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "retried": dict(self.retried),
                "error_samples": dict(self.samples),
                "server_errors": [
                    {"at": e.at, "status": e.status, "request": e.request, "worker": e.worker}
                    for e in self.server_errors
                ],
            }
