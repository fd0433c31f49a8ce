"""Customer use cases: create, edit contact, archive/activate, delete, get, list, search."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.actor import Actor
from core.adapters.mail import drop_login_mail, queue_password_reset_mail, queue_welcome_mail
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.models import (
    AlertEvent,
    Appointment,
    Base,
    Booking,
    ConsentSource,
    ConsentState,
    Customer,
    CustomerLink,
    CustomerStatus,
    HistoryEntry,
    NotDuplicate,
    Note,
    OutboxMail,
    Pass,
    PaymentLink,
    PaymentMethod,
    QuestionnaireResponse,
    Subscription,
    VideoPurchase,
)
from core.models.customer import NAME_KEY_LENGTH
from core.security import HashedPassword, generate_password, hash_password, hashed
from core.services import alerts, history
from core.services.customer_search import Finder
from core.services.matching import Contact, Evidence, form_matches

# MAX_PAGE_SIZE is re-exported: callers size search limits by it.
from core.services.paging import MAX_PAGE_SIZE as MAX_PAGE_SIZE
from core.services.paging import Page
from core.services.workspaces import ensure_workspace
from core.text import fold
from core.validation import clean_email, clean_mobile, clean_name, password_problems

log = logging.getLogger(__name__)

UID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
UID_LENGTH = 12
# What the column holds: a longer UID names no one.
UID_MAX = 16
CONTACT_FIELDS = ("first_name", "last_name", "email", "mobile")
# The audit action left behind for an erased customer's UID.
DELETED = "deleted"


class SortOrder(StrEnum):
    """Name sort of the customer list."""

    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"


class CustomerInput(BaseModel):
    """Contact details as typed into the form; blank password means generate (create) or keep (edit)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    mobile: str = ""
    password: str = ""


@dataclass(frozen=True)
class CustomerRecord:
    """A customer as the edges see it: no password hash, no internal ids."""

    uid: str
    first_name: str
    last_name: str
    email: str
    mobile: str
    status: CustomerStatus
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str
    merged_into_uid: str | None
    has_password: bool
    # Set once an admin erased their personal details; the record stays for the accounts.
    anonymised_at: datetime | None = None
    # Marketing consent: the decision, when and how it was given (core/services/consent.py).
    marketing_consent: ConsentState = ConsentState.UNKNOWN
    consent_at: datetime | None = None
    consent_source: ConsentSource | None = None

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"


CustomerPage = Page[CustomerRecord]


def new_uid() -> str:
    """A short, unguessable public identifier (60 random bits)."""
    # 32 letters divide 256 evenly, so each byte's low five bits pick a letter without bias.
    return "".join(UID_ALPHABET[byte & 31] for byte in secrets.token_bytes(UID_LENGTH))


def name_key(first_name: str, last_name: str) -> str:
    """The folded full name used for sorting and name search."""
    # Folding can lengthen a name ("ß" → "ss", "ﷺ" → 18 letters); only the start of the key
    # matters for sorting and searching, and it has to fit its column.
    return fold(f"{first_name} {last_name}")[:NAME_KEY_LENGTH]


def _to_record(customer: Customer, merged_into_uid: str | None = None) -> CustomerRecord:
    return CustomerRecord(
        uid=customer.uid,
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        mobile=customer.mobile,
        status=customer.status,
        version=customer.version,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        updated_by=customer.updated_by,
        merged_into_uid=merged_into_uid,
        has_password=customer.password_hash is not None,
        anonymised_at=customer.anonymised_at,
        marketing_consent=customer.marketing_consent,
        consent_at=customer.consent_at,
        consent_source=customer.consent_source,
    )


def record_of(customer: Customer) -> CustomerRecord:
    """An unmerged customer as the edges see it."""
    return _to_record(customer)


def _record(uow: UnitOfWork, customer: Customer) -> CustomerRecord:
    merged_uid = None
    if customer.merged_into_id is not None:
        merged_uid = uow.session.scalar(
            select(Customer.uid).where(Customer.id == customer.merged_into_id)
        )
    return _to_record(customer, merged_uid)


@dataclass(frozen=True)
class _Contact:
    first_name: str
    last_name: str
    email: str
    mobile: str
    password: str | None


def _validate(
    uow: UnitOfWork, actor: Actor, data: CustomerInput, *, exclude_id: int | None
) -> _Contact:
    """Check every field at once; raise one ValidationFailed listing each problem."""
    region = ensure_workspace(uow, actor.team_id).default_region
    errors: dict[str, str] = {}
    first, problem = clean_name(data.first_name, "first name")
    if problem:
        errors["first_name"] = problem
    last, problem = clean_name(data.last_name, "last name")
    if problem:
        errors["last_name"] = problem
    email, problem = clean_email(data.email)
    if problem is None:
        problem = _email_taken(uow, actor, email, exclude_id)
    if problem:
        errors["email"] = problem
    mobile, problem = clean_mobile(data.mobile, region)
    if problem:
        errors["mobile"] = problem
    password: str | None = None
    if data.password.strip():
        password = data.password
        # Whoever sets a password knows it; staff send a new one by mail instead.
        problem = password_problems(password) if actor.is_admin else ADMIN_SETS_PASSWORDS
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    return _Contact(first, last, email, mobile, password)


def _email_taken(uow: UnitOfWork, actor: Actor, email: str, exclude_id: int | None) -> str | None:
    """Who else in the workspace already logs in with `email`, as an error message."""
    query = select(Customer).where(Customer.team_id == actor.team_id, Customer.email == email)
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    other = uow.session.scalars(query).first()
    if other is None:
        return None
    state = " (archived)" if other.status is CustomerStatus.ARCHIVED else ""
    return f"{other.full_name}{state} already uses this email (UID {other.uid})."


def _raced_duplicate(
    uow: UnitOfWork, actor: Actor, email: str, exclude_id: int | None
) -> ValidationFailed:
    """The error for losing a race to save the same email: name the winner once visible."""
    taken = _email_taken(uow, actor, email, exclude_id)
    return ValidationFailed(
        {
            "email": taken
            or "Another customer was saved with this email a moment ago; search for them."
        }
    )


@dataclass(frozen=True)
class PossibleMatch:
    """A customer who may be the person being saved; `field` is where the form says so."""

    customer: CustomerRecord
    evidence: tuple[Evidence, ...]
    field: str


class PossibleDuplicate(DomainError):
    """The person being saved may already have a record: nothing was saved; the form asks
    whether to open that record or save anyway."""

    def __init__(self, matches: list[PossibleMatch]) -> None:
        first = matches[0].customer
        super().__init__(f"{first.full_name} (UID {first.uid}) may be the same person.")
        self.matches = matches


def _refuse_possible_duplicates(
    uow: UnitOfWork, actor: Actor, contact: _Contact, exclude_id: int | None
) -> None:
    typed = Contact(contact.first_name, contact.last_name, contact.email, contact.mobile)
    matches = form_matches(uow, actor, typed, exclude_id=exclude_id)
    # Saved since the email was checked (a retried submission racing its original): the email
    # is taken, which is refused, not a possible duplicate to confirm.
    taken = _email_taken(uow, actor, contact.email, exclude_id) if matches else None
    if taken:
        raise ValidationFailed({"email": taken})
    if matches:
        raise PossibleDuplicate(
            [PossibleMatch(_to_record(m.customer), m.evidence, m.field) for m in matches]
        )


ADMIN_SETS_PASSWORDS = (
    "Only an admin can set a password. Leave it blank: a new customer gets a strong one by "
    "mail, and Send password reset on the Account tab mails an existing one a new one."
)


def create_customer(
    uow: UnitOfWork,
    actor: Actor,
    data: CustomerInput,
    *,
    send_welcome: bool = True,
    duplicates_ok: bool = True,
    prepared: LaterHash | None = None,
) -> CustomerRecord:
    """Create an active customer and queue their portal welcome mail in the same transaction.

    Unless `duplicates_ok`, a customer who may be the same person raises PossibleDuplicate.
    `prepared` is the password typed (or, left blank, one generated) to be hashed after the
    save; without it the password is hashed here."""
    contact = _validate(uow, actor, data, exclude_id=None)
    if not duplicates_ok:
        _refuse_possible_duplicates(uow, actor, contact, None)
    digest: str | None
    if prepared is not None and contact.password in (None, prepared.plain):
        if not send_welcome:
            raise ValueError("a password hashed later is kept by the welcome mail meanwhile")
        plain, digest = prepared.plain, None
    else:
        plain, digest = hashed(contact.password or generate_password())
    now = uow.now()
    customer = Customer(
        team_id=actor.team_id,
        uid=new_uid(),
        first_name=contact.first_name,
        last_name=contact.last_name,
        name_key=name_key(contact.first_name, contact.last_name),
        email=contact.email,
        mobile=contact.mobile,
        password_hash=digest,
        status=CustomerStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        updated_by=actor.user_id,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(customer)
    except IntegrityError:
        raise _raced_duplicate(uow, actor, contact.email, None) from None
    history.record(
        uow,
        actor.user_id,
        customer,
        "created",
        changes={field: [None, getattr(customer, field)] for field in CONTACT_FIELDS},
        detail="password generated" if contact.password is None else "password set by staff",
    )
    alerts.record(uow, alerts.CUSTOMER_CREATED, customer, "New customer")
    if send_welcome:
        queue_welcome_mail(uow, customer, plain)
    return _to_record(customer)


def prepare_password(actor: Actor, data: CustomerInput) -> HashedPassword | None:
    """The password an edit of `data` would store, hashed ahead of its unit of work; None when
    the edit keeps the current one or would refuse the one typed."""
    if not data.password.strip() or not actor.is_admin:
        return None
    if password_problems(data.password) is not None:
        return None
    return hashed(data.password)


class LaterHash(NamedTuple):
    """A new customer's password, saved unhashed and hashed once the save is acknowledged
    (`settle_password`). The welcome mail holds it meanwhile, and the outbox hashes it
    before sending if that never happened (core/adapters/mail.py)."""

    plain: str


def later_password(data: CustomerInput) -> LaterHash:
    """The password a Create of `data` would store: the one typed, else a generated one."""
    return LaterHash(data.password if data.password.strip() else generate_password())


def settle_password(uow: UnitOfWork, actor: Actor, uid: str, password_hash: str) -> bool:
    """Store the hash of a Create's `LaterHash`, unless the customer has another password (or
    was anonymised) by now; whether it was stored."""
    stored = uow.session.execute(
        update(Customer)
        .where(
            Customer.team_id == actor.team_id,
            Customer.uid == uid,
            Customer.password_hash.is_(None),
            Customer.anonymised_at.is_(None),
        )
        .values(password_hash=password_hash)
        .returning(Customer.id)
    )
    return stored.first() is not None


# Built once: nearly every interaction reads a customer by UID.
_BY_UID = select(Customer).where(
    Customer.team_id == bindparam("team_id"), Customer.uid == bindparam("uid")
)
_BY_UID_LOCKED = _BY_UID.with_for_update()


def _load(uow: UnitOfWork, actor: Actor, uid: str, *, lock: bool = False) -> Customer:
    # A forged UID is no one's; PostgreSQL would refuse a NUL in it as an error, not a miss.
    if "\x00" in uid or len(uid) > UID_MAX:
        raise NotFound("No customer has that UID; they may have been deleted.")
    query = _BY_UID_LOCKED if lock else _BY_UID
    customer = uow.session.scalars(query, {"team_id": actor.team_id, "uid": uid}).first()
    if customer is None:
        raise NotFound(f"No customer with UID {uid} exists; they may have been deleted.")
    return customer


def find_by_contact(
    uow: UnitOfWork, actor: Actor, *, email: str = "", mobile: str = ""
) -> CustomerRecord:
    """The customer with this email, else with this mobile, each read as the form saves it.

    Records merged into another are passed over; a mobile several customers share is refused."""
    if not email.strip() and not mobile.strip():
        raise ValidationFailed({"email": "Give the customer's email or mobile to find them."})
    alive = select(Customer).where(
        Customer.team_id == actor.team_id, Customer.merged_into_id.is_(None)
    )
    if email.strip():
        cleaned, problem = clean_email(email)
        if problem:
            raise ValidationFailed({"email": problem})
        found = uow.session.scalars(alive.where(Customer.email == cleaned)).first()
        if found is not None:
            return _to_record(found)
    if mobile.strip():
        region = ensure_workspace(uow, actor.team_id).default_region
        number, problem = clean_mobile(mobile, region)
        if problem:
            raise ValidationFailed({"mobile": problem})
        sharing = uow.session.scalars(alive.where(Customer.mobile == number).limit(2)).all()
        if len(sharing) > 1:
            raise DomainError(
                f"More than one customer has the mobile {number}; find them by email instead."
            )
        if sharing:
            return _to_record(sharing[0])
    said = " or ".join(
        f"the {what} {value.strip()}"
        for what, value in (("email", email), ("mobile", mobile))
        if value.strip()
    )
    raise NotFound(f"No customer has {said}.")


def customer_count(uow: UnitOfWork, team_id: str) -> int:
    """How many customers (active and archived) a workspace holds."""
    query = select(func.count()).select_from(Customer).where(Customer.team_id == team_id)
    return uow.session.scalar(query) or 0


def get_customer(uow: UnitOfWork, actor: Actor, uid: str) -> CustomerRecord:
    """One customer of the actor's workspace by public UID."""
    return _record(uow, _load(uow, actor, uid))


def find_customer(uow: UnitOfWork, actor: Actor, uid: str) -> Customer:
    """The customer model of the actor's workspace by UID, for reading their records."""
    return _load(uow, actor, uid)


def _merged_away(uow: UnitOfWork, customer: Customer) -> Conflict:
    kept = uow.session.get(Customer, customer.merged_into_id)
    where = f"{kept.full_name} (UID {kept.uid})" if kept is not None else "another customer"
    return Conflict(
        f"{customer.full_name} was merged into {where}; open the kept customer's record instead.",
        changed_by=customer.updated_by,
        changed_at=customer.updated_at,
    )


def anonymised_refusal(customer: Customer) -> DomainError:
    """Why an anonymised customer's record takes no new details or records."""
    return DomainError(
        f"Customer {customer.uid} was anonymised on {customer.anonymised_at:%Y-%m-%d}: their "
        "record is kept only for the accounts and takes nothing new."
    )


def load_for_change(uow: UnitOfWork, actor: Actor, uid: str) -> Customer:
    """The customer locked for adding to their records; one merged into another, or
    anonymised, is refused."""
    # The lock makes a merge and this change take turns: either the merge moves what we add,
    # or we see the merge and refuse, so nothing is left behind on a merged customer.
    customer = _load(uow, actor, uid, lock=True)
    if customer.merged_into_id is not None:
        raise _merged_away(uow, customer)
    if customer.anonymised_at is not None:
        raise anonymised_refusal(customer)
    return customer


class _Owned(Protocol):
    @property
    def customer_id(self) -> int: ...


OwnedT = TypeVar("OwnedT", bound=_Owned)


def lock_owner(uow: UnitOfWork, load: Callable[[], OwnedT]) -> tuple[OwnedT, Customer]:
    """Lock the customer a row belongs to; return the row as it is now, and that customer.

    `load` must re-read the row (populate_existing) and raise NotFound once it is gone."""
    row = load()
    # A merge may move the row to another customer while we wait for the lock; then the
    # customer to lock is the new one. Each retry needs another merge to win a race.
    for _ in range(3):
        customer = uow.session.get(
            Customer, row.customer_id, with_for_update=True, populate_existing=True
        )
        row = load()
        if customer is not None and row.customer_id == customer.id:
            return row, customer
    raise Conflict("This record moved to another customer meanwhile; reopen it and try again.")


def _stale(customer: Customer) -> Conflict:
    return Conflict(
        f"{customer.full_name} was changed by someone else meanwhile; "
        "reopen the record to see the latest details.",
        changed_by=customer.updated_by,
        changed_at=customer.updated_at,
    )


def edit_contact(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    data: CustomerInput,
    *,
    expected_version: int,
    duplicates_ok: bool = True,
    prepared: HashedPassword | None = None,
) -> CustomerRecord:
    """Update contact details; refuse an edit based on a version someone else has replaced.

    Unless `duplicates_ok`, new details matching another customer raise PossibleDuplicate.
    `prepared` is the password typed, hashed beforehand."""
    customer = _load(uow, actor, uid, lock=True)
    if customer.anonymised_at is not None:
        raise anonymised_refusal(customer)
    if customer.version != expected_version:
        raise _stale(customer)
    contact = _validate(uow, actor, data, exclude_id=customer.id)
    changes: dict[str, list[str | None]] = {
        field: [getattr(customer, field), getattr(contact, field)]
        for field in CONTACT_FIELDS
        if getattr(customer, field) != getattr(contact, field)
    }
    if contact.password is not None:
        changes["password"] = [history.PASSWORD_CHANGED, history.PASSWORD_CHANGED]
    if not changes:
        return _record(uow, customer)
    if not duplicates_ok and set(changes) & set(CONTACT_FIELDS):
        _refuse_possible_duplicates(uow, actor, contact, customer.id)
    new_hash = None
    if prepared is not None and prepared.plain == contact.password:
        new_hash = prepared.hash
    elif contact.password is not None:
        # Prepared for another password than the one typed (or not at all): hashed now.
        new_hash = hash_password(contact.password)
    try:
        # The changes are made inside the savepoint: `begin_nested` flushes whatever is already
        # pending outside it, where a lost race for the email would break the whole transaction.
        with uow.session.begin_nested():
            for field in CONTACT_FIELDS:
                setattr(customer, field, getattr(contact, field))
            if new_hash is not None:
                customer.password_hash = new_hash
            customer.name_key = name_key(customer.first_name, customer.last_name)
            customer.updated_at = uow.now()
            customer.updated_by = actor.user_id
    except IntegrityError:
        raise _raced_duplicate(uow, actor, contact.email, customer.id) from None
    except StaleDataError:
        uow.session.refresh(customer)
        raise _stale(customer) from None
    detail = "password changed" if "password" in changes else ""
    history.record(uow, actor.user_id, customer, "edited", changes=changes, detail=detail)
    if new_hash is not None:
        drop_login_mail(uow, customer)
    return _record(uow, customer)


def send_password_reset(uow: UnitOfWork, actor: Actor, uid: str) -> CustomerRecord:
    """Give the customer a new strong password, mailed to them (never shown to staff); the old
    one stops working and an unsent mail carrying it is withdrawn."""
    customer = _load(uow, actor, uid, lock=True)
    if customer.anonymised_at is not None:
        raise anonymised_refusal(customer)
    if customer.status is CustomerStatus.ARCHIVED:
        raise DomainError(
            f"{customer.full_name} is archived; activate them before sending a password reset."
        )
    password = generate_password()
    customer.password_hash = hash_password(password)
    customer.updated_at = uow.now()
    customer.updated_by = actor.user_id
    drop_login_mail(uow, customer)
    queue_password_reset_mail(uow, customer, password)
    history.record(
        uow,
        actor.user_id,
        customer,
        "password reset",
        detail=f"a new password was mailed to {customer.email}",
    )
    return _record(uow, customer)


def _set_status(uow: UnitOfWork, actor: Actor, uid: str, status: CustomerStatus) -> CustomerRecord:
    customer = _load(uow, actor, uid, lock=True)
    if status is CustomerStatus.ACTIVE and customer.merged_into_id is not None:
        # A merged record's history lives on the kept customer; reviving it would split them.
        raise _merged_away(uow, customer)
    if status is CustomerStatus.ACTIVE and customer.anonymised_at is not None:
        # Nobody is left to contact: the record only keeps the accounts.
        raise anonymised_refusal(customer)
    if customer.status is not status:
        before = customer.status
        customer.status = status
        customer.updated_at = uow.now()
        customer.updated_by = actor.user_id
        action = "archived" if status is CustomerStatus.ARCHIVED else "activated"
        history.record(
            uow, actor.user_id, customer, action, changes={"status": [before.value, status.value]}
        )
        uow.session.flush()
    return _record(uow, customer)


def archive_customer(uow: UnitOfWork, actor: Actor, uid: str) -> CustomerRecord:
    """Move a customer to the Archived list (no-op if already there)."""
    return _set_status(uow, actor, uid, CustomerStatus.ARCHIVED)


def activate_customer(uow: UnitOfWork, actor: Actor, uid: str) -> CustomerRecord:
    """Restore an archived customer to the Active list (no-op if already active)."""
    return _set_status(uow, actor, uid, CustomerStatus.ACTIVE)


def person_records(uow: UnitOfWork, customer: Customer) -> list[Customer]:
    """`customer` first, then every record merged into them, however indirectly: one person."""
    found, frontier = [customer], [customer.id]
    while frontier:
        merged = list(
            uow.session.scalars(
                select(Customer).where(Customer.merged_into_id.in_(frontier)).order_by(Customer.id)
            )
        )
        found += merged
        frontier = [c.id for c in merged]
    return found


# Every table holding a customer's rows, children before the passes they may point to.
_ERASED_WITH_CUSTOMER: tuple[type[Base], ...] = (
    Booking,
    Appointment,
    VideoPurchase,
    Subscription,
    QuestionnaireResponse,
    Note,
    Pass,
    OutboxMail,
    PaymentLink,
    HistoryEntry,
    AlertEvent,
)


class HasPayments(DomainError):
    """Deleting would erase payments the studio must keep for its accounts."""


# Each purchase table, with what makes a row of it a payment: money taken by Stripe or
# recorded by staff, whether or not it was later cancelled or refunded.
_PURCHASES: tuple[type[Booking | Appointment | Pass | VideoPurchase], ...] = (
    Booking,
    Appointment,
    Pass,
    VideoPurchase,
)


def has_payments(uow: UnitOfWork, customer_ids: Collection[int]) -> bool:
    """Whether any of these records holds a payment: a Stripe payment, a manual payment of
    more than nothing, or a subscription with a price (its invoices are payments)."""
    paid = [
        exists().where(
            model.customer_id.in_(customer_ids),
            or_(
                model.stripe_payment_intent_id.is_not(None),
                (model.payment_method.in_([PaymentMethod.STRIPE, PaymentMethod.MANUAL]))
                & (model.price_minor > 0),
            ),
        )
        for model in _PURCHASES
    ]
    paid.append(
        exists().where(
            Subscription.customer_id.in_(customer_ids),
            or_(Subscription.stripe_subscription_id.is_not(None), Subscription.price_minor > 0),
        )
    )
    return bool(uow.session.scalar(select(or_(*paid))))


def customer_has_payments(uow: UnitOfWork, actor: Actor, uid: str) -> bool:
    """Whether customer `uid`, or a record merged into them, holds a payment (see has_payments)."""
    customer = _load(uow, actor, uid)
    return has_payments(uow, [c.id for c in person_records(uow, customer)])


def delete_customer(uow: UnitOfWork, actor: Actor, uid: str) -> str:
    """Erase a customer and everything hanging off them, keeping one audit entry; admin only.

    Records merged into the customer are the same person and are erased with them. A
    customer holding payments is refused with HasPayments: anonymise them instead."""
    if not actor.is_admin:
        raise Forbidden(
            "Only an admin can delete a customer. Archive them instead, or ask an admin."
        )
    customer = _load(uow, actor, uid, lock=True)
    name = customer.full_name
    erased = {c.id: c.uid for c in person_records(uow, customer)}
    if has_payments(uow, erased):
        if customer.anonymised_at is not None:
            # Nothing personal is left, and what is left the accounts need.
            raise anonymised_refusal(customer)
        raise HasPayments(
            f"{name} has payments the studio must keep for its accounts, so they cannot be "
            "deleted. Anonymise them instead: their personal details are erased and the "
            "bookings and payments stay."
        )
    # Explicit deletes, so erasure does not depend on the database honouring ON DELETE.
    for model in _ERASED_WITH_CUSTOMER:
        table = Base.metadata.tables[model.__tablename__]
        uow.session.execute(delete(table).where(table.c.customer_id.in_(erased)))
    uow.session.execute(
        delete(NotDuplicate).where(
            or_(NotDuplicate.low_id.in_(erased), NotDuplicate.high_id.in_(erased))
        )
    )
    uow.session.execute(
        delete(CustomerLink).where(
            or_(CustomerLink.low_id.in_(erased), CustomerLink.high_id.in_(erased))
        )
    )
    uow.session.execute(delete(Customer).where(Customer.id.in_(erased)))
    now = uow.now()
    for erased_uid in erased.values():
        # The audit trail keeps who erased which UID and when, and nothing about the person.
        detail = "customer and their history permanently deleted"
        if erased_uid != uid:
            detail = f"merged into customer {uid}; deleted with them"
        uow.session.add(
            HistoryEntry(
                team_id=actor.team_id,
                customer_id=None,
                customer_uid=erased_uid,
                actor=actor.user_id,
                action=DELETED,
                changes={},
                detail=detail,
                created_at=now,
            )
        )
    # UIDs only: the log outlives the erasure and must not undo it.
    log.info(
        "customer %s erased by %s with %d merged record(s)", uid, actor.user_id, len(erased) - 1
    )
    return name


def list_customers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: CustomerStatus = CustomerStatus.ACTIVE,
    query: str = "",
    sort: SortOrder = SortOrder.NAME_ASC,
    page: int = 1,
    page_size: int = 10,
    after_uid: str | None = None,
    before_uid: str | None = None,
) -> CustomerPage:
    """One page of the actor's customers with the given status, filtered and sorted by name.

    Next passes the last UID shown as `after_uid`, Previous the first as `before_uid`."""
    found = Finder(uow, actor.team_id).page(
        status,
        query,
        descending=sort is SortOrder.NAME_DESC,
        page=page,
        page_size=page_size,
        after_uid=after_uid,
        before_uid=before_uid,
    )
    return CustomerPage(
        [_to_record(row) for row in found.rows],
        found.total,
        found.page,
        found.page_size,
        found.estimated,
    )


def count_matches(
    uow: UnitOfWork, actor: Actor, text: str, *, status: CustomerStatus | None = None
) -> tuple[int, bool]:
    """How many of the actor's customers (of `status`, or any) match `text`, and whether that
    is an estimate (above a thousand matches)."""
    statuses = list(CustomerStatus) if status is None else [status]
    finder = Finder(uow, actor.team_id)
    pages = [finder.page(s, text, descending=False, page=1, page_size=1) for s in statuses]
    return sum(page.total for page in pages), any(page.estimated for page in pages)


def search_customers(
    uow: UnitOfWork,
    actor: Actor,
    text: str,
    *,
    status: CustomerStatus | None = None,
    limit: int = 20,
) -> list[CustomerRecord]:
    """As-you-type search: exact name matches first, then prefixes, then the rest, by name."""
    statuses = list(CustomerStatus) if status is None else [status]
    found = Finder(uow, actor.team_id).search(text, statuses, limit)
    return [_to_record(customer) for customer in found]
