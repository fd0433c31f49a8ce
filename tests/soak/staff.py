"""Simulated staff: each works through the app's screens as a person would, and keeps the books.

Every action starts where a person starts (the `/customers` hub, the App Home) and waits for
what the person waits for: the modal opening, the list changing, the form closing. A person
works on the customers they created, so the counts they read on a tab before a change tell
them afterwards whether a change whose answer was lost happened.
"""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.local import AppResponse
from bot.local.blockkit import JSON
from bot.local.driver import DriverError
from tests.slack.helpers import text_of
from tests.soak.client import AnswerLost, SoakDriver
from tests.soak.ledger import CustomerEntry, Ledger, StripeBooking
from tests.soak.screen import current_tab, listed, refunded_shown, row_ids, tab_total
from tests.soak.tally import Tally
from tests.stripe_server import StripeStandIn

HUB = "hub.view"
FORM = "customer_form.submit"
DETAILS = "customer_details.view"
BOOK = "book_event.submit"
ASSIGN_PASS = "assign_pass.submit"
NOTE_FORM = "note_form.submit"
REFUND = "booking_refund.submit"
MERGE = "merge.submit"
WORKING = "commerce.working"
RESULT = "commerce.result"
ROW_MENU = "customer.row_menu"
DETAILS_ROW_MENU = "customer_details.row"
PASS_CREDITS = 10
STRIPE_PRICE_MINOR = 1500
# How long a person waits for a screen before giving up on what they were doing.
WAIT = 12.0
FIRST_NAMES = ["Ada", "Zoë", "Maria", "José", "Liam", "Aoife", "Chen", "Fatima", "Noah", "Ines"]
SURNAMES = ["Okafor", "Smith", "Nowak", "O'Brien", "García", "Tanaka", "Müller", "Haddad"]
TABS = ["Bookings", "Appointments", "Passes", "Videos", "Subscriptions", "Questionnaires"]


class Unexpected(Exception):
    """The app showed the person something other than what they expected (or nothing)."""

    def __init__(self, message: str, shown: str = "") -> None:
        super().__init__(message)
        # What was on the screen instead, for the report's error samples.
        self.shown = shown


Resolver = Callable[[], None]


@dataclass
class Person:
    """One simulated member of staff (or the admin) with their own Slack client."""

    name: str
    driver: SoakDriver
    ledger: Ledger
    tally: Tally
    rng: random.Random
    stripe: StripeStandIn
    admin: bool = False
    # Changes whose answer was lost, each with how to find out whether it happened.
    pending: list[tuple[str, Resolver]] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> str:
        """The person's Slack member id."""
        return self.driver.user_id

    # ------------------------------------------------------------------ the day's work

    def work_until(self, stop: threading.Event) -> None:
        """Do one action after another, with a person's pauses, until told to stop."""
        while not stop.is_set():
            self.settle_pending()
            kind, action = self.pick()
            self.attempt(kind, action)
            stop.wait(self.rng.uniform(0.05, 0.4))

    def attempt(self, kind: str, action: Callable[[], None]) -> None:
        """Run one action; count it, and the error it ended with, by kind."""
        try:
            action()
        except Exception as exc:
            self.tally.action(kind, ok=False)
            self.tally.error(error_kind(exc), f"{kind} · {getattr(exc, 'shown', '')}")
        else:
            self.tally.action(kind, ok=True)

    def pick(self) -> tuple[str, Callable[[], None]]:
        """The next action, weighted like a front desk's day; creating comes first."""
        mine = self.workable()
        if len(mine) < 2 or all(c.archived for c in mine):
            return "create customer", self.create_customer
        choices: list[tuple[str, Callable[[], None], int]] = [
            ("open home", self.open_home, 4),
            ("search", self.search, 22),
            ("create customer", self.create_customer, 8),
            ("edit contact", self.edit_contact, 7),
            ("archive/activate", self.archive_toggle, 5),
            ("browse details", self.browse_details, 14),
            ("add note", self.add_note, 10),
            ("assign pass", self.assign_pass, 6),
            ("book event", self.book_event, 14),
        ]
        if self.admin:
            choices += [
                ("book with stripe", self.book_with_stripe, 10),
                ("refund", self.refund, 8 if self.refundable() else 0),
                ("merge duplicates", self.merge_duplicates, 2),
            ]
        kinds, actions, weights = zip(*choices, strict=True)
        index = self.rng.choices(range(len(kinds)), weights=weights)[0]
        return kinds[index], actions[index]

    def workable(self) -> list[CustomerEntry]:
        """My customers with no change of uncertain outcome pending."""
        return [c for c in self.ledger.mine(self.user_id) if c.email not in self.busy]

    def settle_pending(self) -> None:
        """Look again at each change whose answer was lost; keep those still unknowable."""
        still: list[tuple[str, Resolver]] = []
        for email, resolve in self.pending:
            try:
                resolve()
            except Exception as exc:
                self.tally.error(f"looking again: {error_kind(exc)}")
                still.append((email, resolve))
            else:
                self.busy.discard(email)
        self.pending = still

    def later(self, customer: CustomerEntry, what: str, resolve: Resolver) -> None:
        """Note a change of uncertain outcome; the customer is left alone until it is known."""
        self.ledger.unsure(what)
        self.busy.add(customer.email)
        self.pending.append((customer.email, resolve))

    # ------------------------------------------------------------------ screens

    def wait(self, predicate: Callable[[JSON], bool], what: str) -> JSON:
        """The top modal once it satisfies `predicate`; Unexpected after WAIT seconds."""
        try:
            return self.driver.wait_for_view(predicate, surface="modal", timeout=WAIT)
        except TimeoutError:
            shown = self.driver.api.current_view(self.user_id)
            title = (shown or {}).get("callback_id", "no modal")
            raise Unexpected(f"{what} not shown", f"{title}: {text_of(shown)[:300]}") from None

    def hub(self, text: str = "", *, archived: bool = False) -> JSON:
        """`/customers [text]` from a clear screen; the hub (on the Archived tab if asked)."""
        self.driver.api.clear_stack(self.user_id)
        answered(self.driver.slash("/customers", text))
        view = self.wait(lambda v: v["callback_id"] == HUB, "the hub")
        if archived:
            answered(self.driver.click("Archived"))
            view = self.wait(
                lambda v: v["callback_id"] == HUB and "Archived" in on_tab(v), "archived tab"
            )
        return view

    def hub_row(self, customer: CustomerEntry) -> str:
        """Search the hub for a customer; their UID, from the row."""
        self.hub(customer.email, archived=customer.archived)
        view = self.wait(lambda v: customer.name in listed(v), f"{customer.name} in the hub")
        return listed(view)[customer.name]

    def details(self, customer: CustomerEntry) -> JSON:
        """The customer's details, opened from their hub row."""
        self.hub_row(customer)
        answered(self.driver.click(customer.name))
        return self.wait(
            lambda v: v["callback_id"] == DETAILS and customer.name in text_of(v),
            "customer details",
        )

    def tab(self, label: str) -> JSON:
        """Switch the details to a tab."""
        answered(self.driver.click(label, in_block="details_tabs"))
        return self.wait(
            lambda v: v["callback_id"] == DETAILS and current_tab(v) == label, f"{label} tab"
        )

    def push(self, button: str, callback_id: str) -> JSON:
        """Press a button that pushes a form; the form."""
        answered(self.driver.click(button))
        return self.wait(lambda v: v["callback_id"] == callback_id, f"the {button} form")

    def choose_and_wait(self, option: str, menu: str, needle: str) -> JSON:
        """Pick an option that reshapes the top form; the form once it has been redrawn.

        A person waits to see the form change before the next choice: a choice sent with the
        old view would have its own redraw refused by Slack as a hash conflict.
        """
        before = self.driver.api.current_view(self.user_id) or {}
        answered(self.driver.choose(option, menu=menu))
        return self.wait(
            lambda v: (
                v["id"] == before.get("id")
                and v["hash"] != before.get("hash")
                and needle in text_of(v)
            ),
            "the redrawn form",
        )

    def count_on(self, customer: CustomerEntry, label: str, noun: str) -> int:
        """What the customer's tab says it holds."""
        self.details(customer)
        total = tab_total(self.tab(label), noun)
        if total is None:
            raise Unexpected(f"the {label} tab shows no count")
        return total

    def submit(self) -> Outcome:
        """Submit the top form: confirmed, refused with field errors, or answer lost."""
        try:
            response = self.driver.submit()
        except AnswerLost:
            return Outcome(lost=True)
        if response is None:
            raise Unexpected("the form was refused by the client's own checks")
        if response.status != 200:
            raise Unexpected(f"submit answered HTTP {response.status}")
        action = response.data.get("response_action")
        if not response.text.strip():
            return Outcome(confirmed=True)
        if action == "errors":
            return Outcome(errors=dict(response.data.get("errors") or {}))
        if action == "update" and (response.data.get("view") or {}).get("callback_id") == WORKING:
            # A slow change answers at once with "working…" and then shows its result.
            result = self.wait(lambda v: v["callback_id"] == RESULT, "the result")
            shown = text_of(result)
            return Outcome(confirmed=":warning:" not in shown, shown=shown)
        return Outcome(shown=text_of(response.data.get("view")))

    # ------------------------------------------------------------------ actions

    def open_home(self) -> None:
        """Open the App Home tab: the same hub, published."""
        before = self.driver.api.home_view(self.user_id)
        answered(self.driver.open_home())
        try:
            self.driver.wait_for_view(
                lambda v: before is None or v["hash"] != before["hash"],
                surface="home",
                timeout=WAIT,
            )
        except TimeoutError:
            raise Unexpected("the App Home not published") from None

    def search(self) -> None:
        """Type part of a customer's name keystroke by keystroke until they are listed."""
        customer = self.rng.choice(self.workable())
        self.hub(archived=customer.archived)
        word = customer.last_name
        for n in range(2, len(word) + 1):
            response = self.driver.type(word[:n], into="Search")
            answered(response)
            time.sleep(self.rng.uniform(0.02, 0.1))
        self.wait(lambda v: customer.name in listed(v), "the search result")

    def create_customer(self) -> None:
        """Create a customer with the form; the app queues their welcome mail."""
        customer = self.new_customer()
        self.hub()
        self.push("+ Create Customer", FORM)
        for label, value in (
            ("First name", customer.first_name),
            ("Last name", customer.last_name),
            ("Email", customer.email),
            ("Mobile", f"+44 7700 900{self.rng.randrange(1000):03d}"),
        ):
            self.driver.type(value, into=label)
        # A lost answer is resent from the same open form, as a person presses Create again:
        # the second answer is either "created" or "this email is already used by …".
        for attempt in range(6):
            outcome = self.submit()
            if outcome.confirmed or "already uses this email" in outcome.errors.get("email", ""):
                self.ledger.add_customer(customer)
                if attempt:
                    self.tally.retry("create resubmitted after a lost answer")
                return
            if not outcome.lost:
                raise Unexpected(f"create refused: {outcome.describe()}")
            time.sleep(1 + attempt)
        self.ledger.unsure("customers")
        self.ledger.customers_unsure.append(customer)
        raise Unexpected("create: every answer was lost")

    def edit_contact(self) -> None:
        """Change a customer's mobile from the row's ⋯ menu."""
        customer = self.rng.choice(self.workable())
        uid = self.hub_row(customer)
        answered(self.driver.choose("Edit Contact", menu=ROW_MENU, in_block=f"row_{uid}"))
        self.wait(lambda v: v["callback_id"] == FORM, "the edit form")
        self.driver.type(f"+44 7700 900{self.rng.randrange(1000):03d}", into="Mobile")
        outcome = self.submit()
        if not outcome.confirmed:
            raise Unexpected(f"edit not saved: {outcome.describe()}")

    def archive_toggle(self) -> None:
        """Archive an active customer, or activate an archived one, from the row's menu."""
        customer = self.rng.choice(self.workable())
        uid = self.hub_row(customer)
        verb, done = ("Activate", "Activated") if customer.archived else ("Archive", "Archived")
        answered(self.driver.choose(verb, menu=ROW_MENU, in_block=f"row_{uid}"))
        self.wait(lambda v: f"{done} {customer.name}" in text_of(v), f"{done} notice")
        customer.archived = not customer.archived

    def browse_details(self) -> None:
        """Open a customer's details and look through a few tabs."""
        customer = self.rng.choice(self.workable())
        self.details(customer)
        for label in self.rng.sample([*TABS, "Notes", "Account"], 3):
            self.tab(label)

    def add_note(self) -> None:
        """Add a note on the Notes tab."""
        customer = self.rng.choice(self.active())
        before = self.count_on(customer, "Notes", "notes")
        self.push("Add Note", NOTE_FORM)
        self.driver.type(f"Asked about {self.rng.choice(TABS).lower()} at the desk.", into="Note")
        self.counted_change(customer, "notes", "Notes", before)

    def assign_pass(self) -> None:
        """Assign a 10-class pass, paid manually."""
        customer = self.rng.choice(self.active())
        before = self.count_on(customer, "Passes", "passes")
        self.push("Assign Pass", ASSIGN_PASS)
        self.driver.choose("10-class pass", menu="Pass")

        def granted() -> None:
            self.ledger.grant(PASS_CREDITS)
            customer.passes += 1

        self.counted_change(customer, "passes", "Passes", before, on_done=granted)

    def book_event(self) -> None:
        """Book a session, paid with a pass credit when the customer has a pass, else manually."""
        customer = self.rng.choice(self.active())
        before = self.count_on(customer, "Bookings", "bookings")
        self.push("Book an Event", BOOK)
        session = self.choose_session(customer)
        credit = customer.passes > 0 and self.rng.random() < 0.6
        if credit:
            self.choose_and_wait("Pass credit", "Payment", "pass #")

        def booked() -> None:
            self.ledger.count("bookings")
            customer.sessions.add(session)
            if credit:
                self.ledger.use_credit()

        self.counted_change(customer, "bookings", "Bookings", before, on_done=booked)

    def book_with_stripe(self) -> None:
        """The customer paid online; staff record that Stripe payment against a booking."""
        customer = self.rng.choice(self.active())
        intent = self.stripe.payment(STRIPE_PRICE_MINOR)
        self.details(customer)
        shown = self.tab("Bookings")
        before, ids = tab_total(shown, "bookings"), row_ids(shown, "booking_")
        if before is None:
            raise Unexpected("the Bookings tab shows no count")
        self.push("Book an Event", BOOK)
        session = self.choose_session(customer)
        self.choose_and_wait("Record a Stripe payment", "Payment", "pi_")
        self.driver.type(intent, into="Stripe payment intent id")

        def booked() -> None:
            self.ledger.count("bookings")
            customer.sessions.add(session)
            view = self.wait(
                lambda v: v["callback_id"] == DETAILS and bool(row_ids(v, "booking_") - ids),
                "the new booking's row",
            )
            (booking_id,) = row_ids(view, "booking_") - ids
            self.ledger.stripe_booking(
                StripeBooking(
                    booking_id, intent, STRIPE_PRICE_MINOR, customer.email, owner=self.user_id
                )
            )

        self.counted_change(customer, "bookings", "Bookings", before, on_done=booked)

    def refundable(self) -> list[StripeBooking]:
        """My Stripe-paid bookings with money left to refund."""
        return [
            b
            for b in self.ledger.stripe_bookings_of(self.user_id)
            if b.refunded_minor < b.price_minor and b.customer not in self.busy
        ]

    def refund(self) -> None:
        """Refund a Stripe-paid booking: what is left in full, or half of it."""
        booking = self.rng.choice(self.refundable())
        customer = self.ledger.customers[booking.customer]
        self.details(customer)
        self.tab("Bookings")
        answered(
            self.driver.choose(
                "Refund", menu=DETAILS_ROW_MENU, in_block=f"booking_{booking.booking_id}"
            )
        )
        self.wait(lambda v: v["callback_id"] == REFUND, "the refund form")
        left = booking.price_minor - booking.refunded_minor
        amount = left if self.rng.random() < 0.5 or left < 200 else left // 2
        self.driver.type(f"{amount / 100:.2f}", into="Amount to refund")
        outcome = self.submit()
        if outcome.confirmed:
            self.ledger.refund(booking.booking_id, amount)
            return
        if not outcome.lost:
            raise Unexpected(f"refund refused: {outcome.describe()}")

        def look_again() -> None:
            self.details(customer)
            view = self.tab("Bookings")
            refunded = refunded_shown(view, booking.booking_id)
            if refunded is None:
                raise Unexpected("the refunded booking is not listed")
            happened = refunded == booking.refunded_minor + amount
            if not happened and refunded != booking.refunded_minor:
                raise Unexpected(f"the booking shows {refunded} refunded, neither before nor after")
            self.ledger.resolve("refunds", happened=happened)
            if happened:
                self.ledger.refund(booking.booking_id, amount)

        self.later(customer, "refunds", look_again)

    def merge_duplicates(self) -> None:
        """Someone registered twice: create the duplicate, then merge the older record into it."""
        source = self.rng.choice(self.active())
        self.create_customer()
        target = self.ledger.mine(self.user_id)[-1]
        self.details(source)
        self.tab("Account")
        self.push("Merge Customer", MERGE)
        answered(self.driver.choose(target.email, menu="merge.target"))
        self.wait(lambda v: "This cannot be undone" in text_of(v), "the merge preview")
        outcome = self.submit()
        if outcome.confirmed:
            self.ledger.merged(source, target)
            return
        if not outcome.lost:
            raise Unexpected(f"merge refused: {outcome.describe()}")

        def look_again() -> None:
            view = self.hub(source.email)
            happened = source.name not in listed(view)
            self.ledger.resolve("merges", happened=happened)
            if happened:
                self.ledger.merged(source, target)

        self.later(source, "merges", look_again)

    # ------------------------------------------------------------------ shared steps

    def active(self) -> list[CustomerEntry]:
        """My customers that are active (archived ones can't be booked or changed)."""
        found = [c for c in self.workable() if not c.archived]
        if not found:
            raise Unexpected("no active customer to work on")
        return found

    def new_customer(self) -> CustomerEntry:
        """A person not yet in the books: a unique surname suffix and email."""
        suffix = "".join(self.rng.choices(string.ascii_lowercase, k=5))
        first, surname = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        return CustomerEntry(
            email=f"{suffix}.{surname.lower().replace(chr(39), '')}@example.org",
            first_name=first,
            last_name=f"{surname}-{suffix.title()}",
            owner=self.user_id,
        )

    def choose_session(self, customer: CustomerEntry) -> str:
        """Pick one of the offered sessions the customer is not booked on; its value."""
        (element,) = [e for e in self.driver.find_elements() if e.label == "Session"]
        offered = [
            str(o["value"])
            for o in element.options
            if "full" not in str(o["text"]["text"]) and str(o["value"]) not in customer.sessions
        ]
        if not offered:
            raise Unexpected("no session left to book")
        value = self.rng.choice(offered)
        self.choose_and_wait(value, "Session", "Blank charges")
        return value

    def counted_change(
        self,
        customer: CustomerEntry,
        what: str,
        tab: str,
        before: int,
        *,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        """Submit a form that adds one row to a tab; a lost answer is settled by counting again."""
        done = on_done or (lambda: self.ledger.count(what))
        outcome = self.submit()
        if outcome.confirmed:
            done()
            return
        if not outcome.lost:
            raise Unexpected(f"{what}: {outcome.describe()}")

        def look_again() -> None:
            now = self.count_on(customer, tab, what)
            if now not in (before, before + 1):
                raise Unexpected(f"{tab} went from {before} to {now} on one change")
            self.ledger.resolve(what, happened=now == before + 1)
            if now == before + 1:
                done()

        self.later(customer, what, look_again)


@dataclass(frozen=True)
class Outcome:
    """How a form submission ended."""

    confirmed: bool = False
    lost: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    shown: str = ""

    def describe(self) -> str:
        """A short account of a refusal, for the error tally."""
        if self.errors:
            return "; ".join(f"{k}: {v}" for k, v in self.errors.items())[:200]
        return self.shown[:200] or "no answer"


def answered(response: AppResponse | None) -> AppResponse:
    """The app answered 200; anything else ends the action."""
    if response is None:
        raise Unexpected("nothing was sent")
    if response.status != 200:
        raise Unexpected(f"HTTP {response.status}")
    return response


def on_tab(view: JSON) -> str:
    """The hub tab styled as current ('Active' or 'Archived')."""
    for block in view.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button" and element.get("style") == "primary":
                label = str(element["text"]["text"])
                if label in ("Active", "Archived"):
                    return label
    return ""


def error_kind(exc: BaseException) -> str:
    """A short, stable name for what went wrong, for counting."""
    if isinstance(exc, AnswerLost):
        return "answer lost (" + str(exc).rsplit(": ", 1)[-1][:40] + ")"
    if isinstance(exc, DriverError):
        return f"driver: {str(exc)[:60]}"
    if isinstance(exc, Unexpected):
        return str(exc)[:80]
    return f"{type(exc).__name__}: {str(exc)[:60]}"
