"""Marketing consent: granted, withdrawn or unknown, when it was given and how; every change
is in the customer's account history. Marketing mail goes only to those who granted it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.actor import Actor
from core.db import UnitOfWork
from core.models import ConsentSource, ConsentState, Customer
from core.services import history
from core.services.customers import CustomerRecord, load_for_change

CONSENT_CHANGED = "consent changed"
STATE_LABELS = {
    ConsentState.GRANTED: "Granted",
    ConsentState.WITHDRAWN: "Withdrawn",
    ConsentState.UNKNOWN: "Unknown",
}
SOURCE_LABELS = {
    ConsentSource.FORM: "the sign-up form",
    ConsentSource.IMPORT: "an import",
    ConsentSource.PHONE: "staff, on the phone",
    ConsentSource.SLACK: "staff, in Slack",
}
# What staff may say when they record a decision themselves.
STAFF_SOURCES = (ConsentSource.PHONE, ConsentSource.SLACK, ConsentSource.FORM)


@dataclass(frozen=True)
class Consent:
    """A customer's marketing consent as the edges show it."""

    state: ConsentState
    at: datetime | None
    source: ConsentSource | None


def consent_of(customer: Customer | CustomerRecord) -> Consent:
    """The customer's consent as it stands."""
    return Consent(customer.marketing_consent, customer.consent_at, customer.consent_source)


def apply_consent(
    uow: UnitOfWork,
    actor_id: str,
    customer: Customer,
    consent: Consent,
) -> bool:
    """Record `consent` on `customer` with a history entry; False when it changes nothing."""
    before = consent_of(customer)
    if (before.state, before.source) == (consent.state, consent.source) and (
        consent.at is None or before.at == consent.at
    ):
        return False
    customer.marketing_consent = consent.state
    customer.consent_source = consent.source
    customer.consent_at = consent.at or uow.now()
    how = SOURCE_LABELS[consent.source] if consent.source is not None else "not said"
    history.record(
        uow,
        actor_id,
        customer,
        CONSENT_CHANGED,
        changes={"marketing_consent": [before.state.value, consent.state.value]},
        detail=f"given through {how}",
    )
    return True


def set_consent(
    uow: UnitOfWork, actor: Actor, uid: str, state: ConsentState, source: ConsentSource
) -> Consent:
    """Staff record a customer's decision and how it reached them; returns it as stored."""
    customer = load_for_change(uow, actor, uid)
    apply_consent(uow, actor.user_id, customer, Consent(state, None, source))
    uow.session.flush()
    return consent_of(customer)


def merge_consent(uow: UnitOfWork, actor_id: str, source: Customer, target: Customer) -> bool:
    """A customer merge: the kept customer takes the most recent explicit decision (granted or
    withdrawn) of the two; True when the kept customer's consent changed."""
    explicit = [
        c
        for c in (target, source)
        if c.marketing_consent is not ConsentState.UNKNOWN and c.consent_at is not None
    ]
    if not explicit:
        return False
    # On a tie the kept customer's own decision stands.
    latest = max(explicit, key=lambda c: (c.consent_at or c.created_at, c is target))
    if latest is target:
        return False
    return apply_consent(uow, actor_id, target, consent_of(latest))


def reset_consent(customer: Customer) -> None:
    """Anonymising: nothing is known about the person any more."""
    customer.marketing_consent = ConsentState.UNKNOWN
    customer.consent_at = None
    customer.consent_source = None
