"""Erasure that keeps the books: a customer's personal details go, their purchases stay; admin only.

What stays: bookings, appointments, passes, videos and subscriptions with their amounts,
dates, states, refunds and Stripe ids, so the studio's accounts and sales still add up, and
the account history with every personal detail in it erased. What goes: name, email, mobile,
date of birth, password, notes, questionnaires, mail and the address payment links went to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, Forbidden
from core.formatting import format_phone
from core.models import (
    AlertEvent,
    Customer,
    CustomerStatus,
    HistoryEntry,
    Note,
    OutboxMail,
    PaymentLink,
    QuestionnaireResponse,
)
from core.services import history
from core.services.consent import reset_consent
from core.services.customers import (
    CONTACT_FIELDS,
    CustomerRecord,
    find_customer,
    get_customer,
    name_key,
    person_records,
)
from core.services.household import LINKED, UNLINKED, remove_links
from core.services.notes import NOTE_ADDED, NOTE_DELETED, NOTE_EDITED
from core.services.questionnaires import ANSWERS_RECORDED
from core.services.tags import remove_all_tags
from core.services.workspaces import audit_workspace

log = logging.getLogger(__name__)

ANONYMISED = "anonymised"
ERASED = "[erased]"
PLACEHOLDER_FIRST_NAME = "Anonymised"
# RFC 2606 reserves .invalid: no mail to it can ever be delivered.
PLACEHOLDER_DOMAIN = "anonymised.invalid"
# History changes whose values are personal whatever they say: contact details and free text.
_PERSONAL_KEYS = frozenset({*CONTACT_FIELDS, "date_of_birth", "content"})
_FREE_TEXT_ACTIONS = frozenset({NOTE_ADDED, NOTE_EDITED, NOTE_DELETED, ANSWERS_RECORDED})
# Shorter fragments (an initial, a two-letter name) would erase parts of unrelated words.
_SHORTEST_ERASED = 2


@dataclass(frozen=True)
class Anonymised:
    """The customer as they are now, how many merged records went with them, and whether they
    already were anonymised (then nothing changed)."""

    record: CustomerRecord
    merged: int
    already: bool


def placeholder_last_name(uid: str) -> str:
    """The last name an anonymised record carries: tells records apart in the books."""
    return f"customer {uid}"


def placeholder_email(uid: str) -> str:
    """An address unique per record (the UID is) that no mail can reach."""
    return f"customer-{uid.lower()}@{PLACEHOLDER_DOMAIN}"


def _personal_strings(uow: UnitOfWork, people: list[Customer], ids: list[int]) -> set[str]:
    """Every name, address and number the person went by, now and in their history."""
    found: set[str] = set()
    for person in people:
        found |= {person.first_name, person.last_name, person.full_name, person.email}
        if person.mobile:
            found |= {person.mobile, format_phone(person.mobile)}
    entries = uow.session.scalars(select(HistoryEntry).where(HistoryEntry.customer_id.in_(ids)))
    for entry in entries:
        for key in CONTACT_FIELDS:
            values = entry.changes.get(key)
            if isinstance(values, list):
                found |= {value for value in values if isinstance(value, str)}
    found |= set(
        uow.session.scalars(select(OutboxMail.to_address).where(OutboxMail.customer_id.in_(ids)))
    )
    found |= set(
        uow.session.scalars(select(PaymentLink.sent_to).where(PaymentLink.customer_id.in_(ids)))
    )
    return {text.strip() for text in found if len(text.strip()) >= _SHORTEST_ERASED}


def _pattern(strings: Iterable[str]) -> re.Pattern[str] | None:
    """Matches any of `strings` as whole words, longest first, in any case."""
    ordered = sorted(strings, key=len, reverse=True)
    if not ordered:
        return None
    alternatives = "|".join(re.escape(text) for text in ordered)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _scrubbed(value: Any, pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value) if pattern is not None else value
    if isinstance(value, list):
        return [_scrubbed(item, pattern) for item in value]
    if isinstance(value, dict):
        return {_scrubbed(k, pattern): _scrubbed(v, pattern) for k, v in value.items()}
    return value


def _erased(value: Any) -> Any:
    if isinstance(value, list):
        return [None if item is None else ERASED for item in value]
    return None if value is None else ERASED


def _scrub_history(uow: UnitOfWork, ids: list[int], pattern: re.Pattern[str] | None) -> int:
    """Erase the personal details in the person's account history; how many entries changed."""
    changed = 0
    entries = uow.session.scalars(select(HistoryEntry).where(HistoryEntry.customer_id.in_(ids)))
    for entry in entries:
        free_text = entry.action in _FREE_TEXT_ACTIONS
        changes = {
            _scrubbed(key, pattern): _erased(value)
            if free_text or key in _PERSONAL_KEYS
            else _scrubbed(value, pattern)
            for key, value in entry.changes.items()
        }
        detail = _scrubbed(entry.detail, pattern)
        if changes != entry.changes or detail != entry.detail:
            # A new dict: the JSON column notices reassignment, not changes in place.
            entry.changes, entry.detail = changes, detail
            changed += 1
    return changed


def _scrub_link_mentions(
    uow: UnitOfWork, actor: Actor, people: list[Customer], pattern: re.Pattern[str] | None
) -> None:
    """Erase the person's name from the entries that linked others to them (or unlinked)."""
    if pattern is None:
        return
    mentions = [HistoryEntry.detail.contains(f"(UID {person.uid})") for person in people]
    entries = uow.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.team_id == actor.team_id,
            HistoryEntry.action.in_([LINKED, UNLINKED]),
            or_(*mentions),
        )
    )
    for entry in entries:
        entry.detail = pattern.sub(ERASED, entry.detail)


def _lock(uow: UnitOfWork, actor: Actor, uid: str) -> Customer:
    customer = find_customer(uow, actor, uid)  # NotFound, worded, for a UID that isn't ours
    uow.session.refresh(customer, with_for_update=True)
    return customer


def _merged_away(uow: UnitOfWork, customer: Customer) -> Conflict:
    kept = uow.session.get(Customer, customer.merged_into_id)
    where = f"customer {kept.uid}" if kept is not None else "another customer"
    return Conflict(
        f"{customer.full_name} was merged into {where}, which holds their bookings and "
        "payments now; anonymise that customer, and this record goes with them.",
        changed_by=customer.updated_by,
        changed_at=customer.updated_at,
    )


def anonymise_customer(uow: UnitOfWork, actor: Actor, uid: str) -> Anonymised:
    """Erase customer `uid`'s personal details, and those of every record merged into them,
    keeping their purchases for the accounts; admin only, irreversible, idempotent."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can anonymise a customer; ask an admin to do it.")
    customer = _lock(uow, actor, uid)
    if customer.anonymised_at is not None:
        return Anonymised(get_customer(uow, actor, uid), 0, already=True)
    if customer.merged_into_id is not None:
        raise _merged_away(uow, customer)
    people = person_records(uow, customer)
    ids = [person.id for person in people]
    pattern = _pattern(_personal_strings(uow, people, ids))
    session = uow.session
    # Explicit deletes, as in delete_customer: not left to the database's ON DELETE.
    # An alert's text names the customer: those not yet posted go unposted.
    for model in (Note, QuestionnaireResponse, OutboxMail, AlertEvent):
        session.execute(delete(model).where(model.customer_id.in_(ids)))
    session.execute(update(PaymentLink).where(PaymentLink.customer_id.in_(ids)).values(sent_to=""))
    _scrub_history(uow, ids, pattern)
    _scrub_link_mentions(uow, actor, people, pattern)
    remove_links(uow, actor, ids, uid)
    # Tags and a consent decision describe the person: nothing of them is kept.
    remove_all_tags(uow, ids)
    now = uow.now()
    for person in people:
        person.first_name = PLACEHOLDER_FIRST_NAME
        person.last_name = placeholder_last_name(person.uid)
        person.name_key = name_key(person.first_name, person.last_name)
        person.email = placeholder_email(person.uid)
        person.mobile = ""
        person.date_of_birth = None
        person.password_hash = None
        reset_consent(person)
        # Out of the Active list for good: there is nobody left to contact.
        person.status = CustomerStatus.ARCHIVED
        person.anonymised_at = now
        person.updated_at = now
        person.updated_by = actor.user_id
        detail = "personal details erased; bookings and payments kept for the accounts"
        if person is not customer:
            detail = f"merged into customer {uid}; anonymised with them"
        history.record(uow, actor.user_id, person, ANONYMISED, detail=detail)
    merged = len(people) - 1
    also = f" with {merged} merged record(s)" if merged else ""
    audit_workspace(
        uow, actor.team_id, actor.user_id, "customer anonymised", f"customer {uid}{also}"
    )
    session.flush()
    # UIDs only: the log outlives the erasure and must not undo it.
    log.info("customer %s anonymised by %s%s", uid, actor.user_id, also)
    return Anonymised(get_customer(uow, actor, uid), merged, already=False)
