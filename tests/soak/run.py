"""One soak run: start the stack, let the staff work while faults are injected, drain, check."""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import func, select

from core.adapters.mail import UNSENT
from core.db import Database
from core.models import OutboxMail
from tests.soak import invariants, report
from tests.soak.client import RoundRobin, SoakDriver
from tests.soak.faults import FaultInjector
from tests.soak.ledger import Ledger
from tests.soak.screen import listed
from tests.soak.stack import TEAM, Stack
from tests.soak.staff import Person, error_kind
from tests.soak.tally import Tally

# After the time limit: how long lost answers may take to settle, and the outbox to drain.
SETTLE_SECONDS = 60.0
DRAIN_LIMIT_SECONDS = 400.0


@dataclass(frozen=True)
class Options:
    """What `python -m tests.soak` was asked for."""

    minutes: float
    fault_every: float
    staff: int
    seed: int
    results: Path | None


def _people(stack: Stack, tally: Tally, ledger: Ledger, seed: int) -> list[Person]:
    workers = RoundRobin([w.url for w in stack.workers])
    roster = [(stack.roster.admin, True), *((user, False) for user in stack.roster.staff)]
    return [
        Person(
            name=user.lower(),
            driver=SoakDriver(stack.slack, workers, stack.signing_secret, tally, user_id=user),
            ledger=ledger,
            tally=tally,
            rng=random.Random(seed + n),
            stripe=stack.stripe,
            admin=admin,
        )
        for n, (user, admin) in enumerate(roster)
    ]


def _settle(people: list[Person], ledger: Ledger) -> None:
    """Once the faults are over, every person looks again at what is still uncertain."""
    deadline = time.monotonic() + SETTLE_SECONDS
    admin = people[0]
    while time.monotonic() < deadline:
        for person in people:
            person.settle_pending()
        for customer in list(ledger.customers_unsure):
            try:
                happened = customer.name in listed(admin.hub(customer.email))
            except Exception as exc:
                admin.tally.error(f"looking again: {error_kind(exc)}")
                continue
            ledger.customers_unsure.remove(customer)
            ledger.resolve("customers", happened=happened)
            if happened:
                ledger.add_customer(customer)
        if not ledger.customers_unsure and not any(p.pending for p in people):
            return
        time.sleep(2)


def _drain_outbox(db: Database, console: Console) -> float:
    """Wait until no mail is pending (retries and leases included); returns seconds waited."""
    started = time.monotonic()
    told = False
    while time.monotonic() - started < DRAIN_LIMIT_SECONDS:
        with db.unit_of_work(readonly=True) as uow:
            pending, latest = uow.session.execute(
                select(func.count(), func.max(OutboxMail.next_attempt_at)).where(
                    OutboxMail.team_id == TEAM, OutboxMail.status.in_(UNSENT)
                )
            ).one()
        if not pending:
            break
        if not told:
            console.print(
                f"Waiting for {pending} queued mail(s), the last due at {latest:%H:%M:%S}…"
            )
            told = True
        # Nothing can go out before the next attempt is due; waiting past it is the bug.
        if latest is not None and latest > datetime.now(UTC) + timedelta(
            seconds=DRAIN_LIMIT_SECONDS
        ):
            break
        time.sleep(1)
    return time.monotonic() - started


def _machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}


def run(options: Options, console: Console) -> bool:
    """Run the soak; True when every invariant held. Everything started is stopped on any exit."""
    tally, ledger = Tally(), Ledger()
    name = report.stamp()
    results = options.results or report.RESULTS_DIR
    console.print("Starting PostgreSQL, the Slack, Stripe and SMTP stand-ins and two workers…")
    with Stack(staff=options.staff) as stack:
        people = _people(stack, tally, ledger, options.seed)
        started = time.time()
        ends_at = started + options.minutes * 60
        faults = FaultInjector(stack, every=options.fault_every, ends_at=ends_at)
        stop = threading.Event()
        threads = [
            threading.Thread(target=p.work_until, args=(stop,), name=p.name, daemon=True)
            for p in people
        ]
        console.print(
            f"Running for {options.minutes:g} min with a fault every {options.fault_every:g} s…"
        )
        faults.start()
        for thread in threads:
            thread.start()
        try:
            stop.wait(max(0.0, ends_at - time.time()))
        finally:
            stop.set()
            faults.stop()
            for thread in threads:
                thread.join()
        worked = time.time() - started
        console.print(f"Time is up after {worked:.0f} s; settling lost answers, draining mail…")
        _settle(people, ledger)
        db = stack.database()
        try:
            drained = _drain_outbox(db, console)
            for worker in stack.workers:
                worker.stop()
            checks = [
                *invariants.counts(db, TEAM, ledger),
                *invariants.credits(db, TEAM, ledger),
                *invariants.refunds(db, TEAM, ledger, stack.stripe),
                *invariants.mail(db, TEAM, stack.smtp),
                invariants.settled(ledger),
            ]
        finally:
            db.dispose()
        records = [r for w in stack.workers for r in w.records()]
        clean, excused = invariants.clean_run(tally, records, faults.windows)
        checks += clean
        checks.append(
            invariants.Check(
                "faults injected as planned",
                not faults.failures and bool(faults.windows),
                "; ".join(faults.failures) or f"{len(faults.windows)} faults",
            )
        )
        if not all(c.passed for c in checks):
            # The stack's directory goes with it: keep the workers' logs for the post-mortem.
            kept = results / f"{name}-logs"
            kept.mkdir(parents=True, exist_ok=True)
            for worker in stack.workers:
                shutil.copy(worker.log_path, kept)
        summary: dict[str, Any] = {
            "minutes": options.minutes,
            "fault_every_seconds": options.fault_every,
            "seed": options.seed,
            "workers": len(stack.workers),
            "database": "PostgreSQL (private cluster)",
            "people": len(people),
            "worked_seconds": round(worked, 1),
            "drain_seconds": round(drained, 1),
            "machine": _machine(),
            "tally": tally.as_json(),
            "ledger": ledger.snapshot(),
            "mails_received": len(stack.smtp.messages),
            "faults": [
                {
                    "at_seconds": round(w.started - started, 1),
                    "kind": w.kind,
                    "lasted_seconds": round(w.ended - w.started, 1),
                    "detail": w.detail,
                }
                for w in faults.windows
            ],
            "errors_outside_faults": dict(
                Counter(
                    kind
                    for at, kind in tally.error_times
                    if not any(w.covers(at) for w in faults.windows)
                )
            ),
            "tracebacks_during_faults": excused,
            "worker_starts": {w.name: w.starts for w in stack.workers},
            "invariants": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in checks
            ],
        }
    report.show(summary, console)
    path = report.write(summary, results, name)
    console.print(f"Results written to {path}")
    return all(c.passed for c in checks)
