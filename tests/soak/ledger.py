"""The driver's own books: what the app confirmed it created, and what is still uncertain.

A change counts once the app confirmed it (its ack closed the form, or a retry was told the
thing already exists). A change whose answer was lost (worker killed, timeout, 5xx) is
"uncertain" until the simulated person looks again and sees whether it happened.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CustomerEntry:
    """One customer a simulated person created and now looks after."""

    email: str
    first_name: str
    last_name: str
    owner: str
    archived: bool = False
    merged: bool = False
    passes: int = 0
    # The sessions booked for them (the app refuses a second booking of one session).
    sessions: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The full name as the hub lists it."""
        return f"{self.first_name} {self.last_name}"


@dataclass
class StripeBooking:
    """A booking paid through Stripe: its payment, what it cost, what was refunded."""

    booking_id: int
    intent: str
    price_minor: int
    # The email of the customer holding it (a merge moves it to the kept customer).
    customer: str
    owner: str = ""
    refunds: list[int] = field(default_factory=list)

    @property
    def refunded_minor(self) -> int:
        """The sum of the confirmed refunds."""
        return sum(self.refunds)


class Ledger:
    """Thread-safe: every simulated person writes to the same books."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.customers: dict[str, CustomerEntry] = {}
        self.confirmed: Counter[str] = Counter()
        self.uncertain: Counter[str] = Counter()
        self.resolved: Counter[str] = Counter()
        self.credits_granted = 0
        self.credits_used = 0
        self.stripe_bookings: dict[int, StripeBooking] = {}
        # Creates whose every answer was lost: looked up once the run is over.
        self.customers_unsure: list[CustomerEntry] = []

    def add_customer(self, entry: CustomerEntry) -> None:
        """A create the app confirmed; its welcome mail is now expected."""
        with self._lock:
            self.customers[entry.email] = entry
            self.confirmed["customers"] += 1

    def count(self, what: str, n: int = 1) -> None:
        """`n` confirmed changes of a kind (bookings, notes, passes, merges, refunds …)."""
        with self._lock:
            self.confirmed[what] += n

    def unsure(self, what: str) -> None:
        """A change whose answer was lost; resolve() or leave it counted as uncertain."""
        with self._lock:
            self.uncertain[what] += 1

    def resolve(self, what: str, *, happened: bool) -> None:
        """The person looked again and saw whether the uncertain change happened.

        The caller then books a change that happened as it books a confirmed one.
        """
        with self._lock:
            self.uncertain[what] -= 1
            self.resolved[f"{what} {'happened' if happened else 'did not happen'}"] += 1

    def grant(self, credits: int) -> None:
        """A pass the app confirmed, holding `credits`."""
        with self._lock:
            self.credits_granted += credits
            self.confirmed["passes"] += 1

    def use_credit(self, credits: int = 1) -> None:
        """A booking paid with pass credits, confirmed."""
        with self._lock:
            self.credits_used += credits

    def stripe_booking(self, booking: StripeBooking) -> None:
        """A confirmed booking paid through Stripe."""
        with self._lock:
            self.stripe_bookings[booking.booking_id] = booking

    def refund(self, booking_id: int, amount_minor: int) -> None:
        """A refund the app confirmed."""
        with self._lock:
            self.stripe_bookings[booking_id].refunds.append(amount_minor)
            self.confirmed["refunds"] += 1

    def merged(self, source: CustomerEntry, target: CustomerEntry) -> None:
        """A merge the app confirmed: the source is archived, its bookings and passes moved."""
        with self._lock:
            source.merged = source.archived = True
            target.passes += source.passes
            target.sessions |= source.sessions
            for booking in self.stripe_bookings.values():
                if booking.customer == source.email:
                    booking.customer = target.email
            self.confirmed["merges"] += 1

    def stripe_bookings_of(self, owner: str) -> list[StripeBooking]:
        """The Stripe-paid bookings one person recorded."""
        with self._lock:
            return [b for b in self.stripe_bookings.values() if b.owner == owner]

    def mine(self, owner: str) -> list[CustomerEntry]:
        """The customers one person created and that are still theirs to work on."""
        with self._lock:
            return [c for c in self.customers.values() if c.owner == owner and not c.merged]

    def snapshot(self) -> dict[str, Any]:
        """The books as plain data, for the report."""
        with self._lock:
            return {
                "confirmed": dict(self.confirmed),
                "uncertain": {k: v for k, v in self.uncertain.items() if v},
                "resolved": dict(self.resolved),
                "credits_granted": self.credits_granted,
                "credits_used": self.credits_used,
                "stripe_bookings": len(self.stripe_bookings),
            }
