"""Account-level actions: merge two customers, and read the account history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, update

from core.actor import Actor
from core.adapters.mail import retire_pending_mail
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.models import (
    Appointment,
    Base,
    Booking,
    Customer,
    CustomerStatus,
    HistoryEntry,
    Note,
    Pass,
    PaymentLink,
    QuestionnaireResponse,
    Subscription,
    VideoPurchase,
)
from core.services import customer_facts as facts
from core.services import history
from core.services.consent import merge_consent
from core.services.customers import (
    CustomerRecord,
    anonymised_refusal,
    find_customer,
    get_customer,
    search_customers,
)
from core.services.household import move_links
from core.services.paging import MAX_PAGE_SIZE, Page
from core.services.tabs import fetch_customer_page
from core.services.tags import join_tags, move_tags
from core.text import clean_multiline, squeeze

MERGED_INTO = "merged into"
MERGED_FROM = "merged from"
MERGE_REASON_MAX = 200

# What a merge moves, per tab of the details view, in the tabs' order.
_MOVED: tuple[tuple[str, type[Base]], ...] = (
    ("bookings", Booking),
    ("appointments", Appointment),
    ("passes", Pass),
    ("videos", VideoPurchase),
    ("subscriptions", Subscription),
    ("questionnaires", QuestionnaireResponse),
    ("notes", Note),
    ("history", HistoryEntry),
)


@dataclass(frozen=True)
class HistoryRow:
    """One audit entry: who (Slack user id or 'system'), what, when, before → after.

    `customer_uid` is whom it was written for; another customer's UID marks a merged-in entry."""

    id: int
    created_at: datetime
    actor: str
    action: str
    changes: dict[str, Any]
    detail: str
    customer_uid: str


@dataclass(frozen=True)
class MergePreview:
    """What merging `source` into `target` would move, counted per tab."""

    source: CustomerRecord
    target: CustomerRecord
    counts: dict[str, int] = field(default_factory=dict)


def list_history(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    *,
    query: str = "",
    page: int = 1,
    page_size: int = 10,
) -> Page[HistoryRow]:
    """A customer's account history, newest first, with entries merged in from others.

    `query` matches what was done, its details, or who did it (a Slack user id), or an entry id."""
    customer = find_customer(uow, actor, uid)
    haystack = HistoryEntry.action + " " + HistoryEntry.detail + " " + HistoryEntry.actor
    entries, total, page, page_size = fetch_customer_page(
        uow, HistoryEntry, customer.id, haystack, query, page=page, page_size=page_size
    )
    return Page(
        [
            HistoryRow(
                id=entry.id,
                created_at=entry.created_at,
                actor=entry.actor,
                action=entry.action,
                changes=dict(entry.changes),
                detail=entry.detail,
                customer_uid=entry.customer_uid,
            )
            for entry in entries
        ],
        total,
        page,
        page_size,
    )


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can merge customers; ask an admin to do it.")


def _refuse_self(source_uid: str, target_uid: str) -> None:
    if source_uid == target_uid:
        raise ValidationFailed(
            {"target": "Choose another customer to keep: a customer cannot be merged into itself."}
        )


def _name(uow: UnitOfWork, customer_id: int | None) -> str:
    kept = uow.session.get(Customer, customer_id) if customer_id is not None else None
    return f"{kept.full_name} (UID {kept.uid})" if kept is not None else "another customer"


def _refusal(uow: UnitOfWork, source: Customer, target: Customer) -> DomainError | None:
    """Why `source` cannot be merged into `target` as they are now, if it cannot."""
    if source.merged_into_id is not None:
        return Conflict(
            f"{source.full_name} was already merged into {_name(uow, source.merged_into_id)}.",
            changed_by=source.updated_by,
            changed_at=source.updated_at,
        )
    if source.anonymised_at is not None:
        return anonymised_refusal(source)
    if target.merged_into_id is not None:
        into = _name(uow, target.merged_into_id)
        return ValidationFailed(
            {"target": f"{target.full_name} was merged into {into}; keep that customer instead."}
        )
    if target.status is CustomerStatus.ARCHIVED:
        return ValidationFailed(
            {
                "target": f"{target.full_name} is archived; activate them first, "
                "or keep an active customer."
            }
        )
    return None


def _counts(uow: UnitOfWork, customer_id: int) -> dict[str, int]:
    """How many rows of each tab belong to the customer, in one round trip."""
    counts = select(
        *(
            select(func.count())
            .select_from(model)
            .where(_table(model).c.customer_id == customer_id)
            .scalar_subquery()
            .label(tab)
            for tab, model in _MOVED
        )
    )
    row = uow.session.execute(counts).one()
    return {tab: int(row._mapping[tab]) for tab, _ in _MOVED}


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def merge_preview(uow: UnitOfWork, actor: Actor, source_uid: str, target_uid: str) -> MergePreview:
    """What merging would move from `source_uid` to `target_uid`; refuses as the merge would."""
    _require_admin(actor)
    _refuse_self(source_uid, target_uid)
    source = find_customer(uow, actor, source_uid)
    target = find_customer(uow, actor, target_uid)
    refusal = _refusal(uow, source, target)
    if refusal is not None:
        raise refusal
    return MergePreview(
        get_customer(uow, actor, source_uid),
        get_customer(uow, actor, target_uid),
        _counts(uow, source.id),
    )


def _lock_pair(
    uow: UnitOfWork, actor: Actor, source_uid: str, target_uid: str
) -> tuple[Customer, Customer]:
    ids = dict(
        uow.session.execute(
            select(Customer.uid, Customer.id).where(
                Customer.team_id == actor.team_id, Customer.uid.in_((source_uid, target_uid))
            )
        ).all()
    )
    for uid in (source_uid, target_uid):
        if uid not in ids:
            raise NotFound(f"No customer with UID {uid} exists; they may have been deleted.")
    # Always lock the lower id first, so two merges of the same pair can't deadlock.
    locked = {
        customer_id: uow.session.get(
            Customer, customer_id, with_for_update=True, populate_existing=True
        )
        for customer_id in sorted(ids.values())
    }
    source, target = locked[ids[source_uid]], locked[ids[target_uid]]
    if source is None or target is None:
        raise NotFound("One of the two customers was deleted meanwhile; reopen the record.")
    return source, target


def _moved_summary(counts: dict[str, int]) -> str:
    moved = [f"{tab} {count}" for tab, count in counts.items() if count]
    return "moved " + ", ".join(moved) if moved else "nothing to move"


def _clean_reason(reason: str) -> str:
    """The admin's reason for a merge, one line; ValidationFailed under the field when blank
    or too long."""
    cleaned = squeeze(clean_multiline(reason))
    if not cleaned:
        raise ValidationFailed({"reason": "Say why these are one person, e.g. 'same mobile'."})
    if len(cleaned) > MERGE_REASON_MAX:
        raise ValidationFailed(
            {"reason": f"Keep the reason to {MERGE_REASON_MAX} characters; it has {len(cleaned)}."}
        )
    return cleaned


def merge_customers(
    uow: UnitOfWork, actor: Actor, source_uid: str, target_uid: str, *, reason: str
) -> MergePreview:
    """Move everything of `source_uid` to `target_uid` and archive the source; admin only.

    `reason` (required, short) is written into both customers' account history. Returns both
    customers as they are afterwards and the counts that moved."""
    _require_admin(actor)
    _refuse_self(source_uid, target_uid)
    why = _clean_reason(reason)
    source, target = _lock_pair(uow, actor, source_uid, target_uid)
    refusal = _refusal(uow, source, target)
    if refusal is not None:
        raise refusal
    target_before = _counts(uow, target.id)
    uow.session.flush()
    connection = uow.session.connection()
    moved: dict[str, int] = {}
    for tab, model in _MOVED:
        table = _table(model)
        values: dict[str, Any] = {"customer_id": target.id}
        if "version" in table.c:
            # Forms opened on a moved row before the merge then fail as stale.
            values["version"] = table.c.version + 1
        # History entries keep their `customer_uid`, so the trail shows where they came from.
        result = connection.execute(
            update(table)
            .where(table.c.customer_id == source.id, table.c.team_id == actor.team_id)
            .values(values)
        )
        moved[tab] = result.rowcount
    # Moved by bulk statements, which the facts' commit hook does not see.
    facts.refresh(uow.session, (source.id, target.id), uow.now())
    # Payment links follow the records (and plans) they are for; they are no tab of their own.
    connection.execute(
        update(PaymentLink)
        .where(PaymentLink.customer_id == source.id, PaymentLink.team_id == actor.team_id)
        .values(customer_id=target.id)
    )
    # Linked people follow too, but never as a link of the kept customer to themselves.
    move_links(uow, source, target)
    # The source's portal login is retired with it, so mailing its initial password would
    # only confuse; the kept customer has a login of their own.
    dropped = len(
        retire_pending_mail(uow, source.id, f"the customer was merged into UID {target.uid}")
    )
    now = uow.now()
    changes: dict[str, Any] = {"merged_into": [None, target.uid]}
    if source.status is not CustomerStatus.ARCHIVED:
        changes["status"] = [source.status.value, CustomerStatus.ARCHIVED.value]
    source.status = CustomerStatus.ARCHIVED
    source.merged_into_id = target.id
    # Both rows change, so both versions move on and open edit forms of either are stale.
    for customer in (source, target):
        customer.updated_at = now
        customer.updated_by = actor.user_id
    summary = _moved_summary(moved)
    target_changes: dict[str, Any] = {
        tab: [target_before[tab], target_before[tab] + count]
        for tab, count in moved.items()
        if count
    }
    gained = move_tags(uow, source, target)
    if gained:
        target_changes["tags"] = [None, join_tags(gained)]
    consent_before = target.marketing_consent.value
    if merge_consent(uow, actor.user_id, source, target):
        target_changes["marketing_consent"] = [consent_before, target.marketing_consent.value]
    mail_note = "; its pending portal welcome mail was not sent" if dropped else ""
    history.record(
        uow,
        actor.user_id,
        source,
        MERGED_INTO,
        changes=changes,
        detail=(
            f"merged into {target.full_name} (UID {target.uid}); reason: {why}; "
            f"{summary}{mail_note}"
        ),
    )
    history.record(
        uow,
        actor.user_id,
        target,
        MERGED_FROM,
        changes=target_changes,
        detail=f"merged from {source.full_name} (UID {source.uid}); reason: {why}; {summary}",
    )
    uow.session.flush()
    return MergePreview(
        get_customer(uow, actor, source_uid), get_customer(uow, actor, target_uid), moved
    )


def merge_candidates(
    uow: UnitOfWork, actor: Actor, source_uid: str, text: str, limit: int = 20
) -> list[CustomerRecord]:
    """Customers `source_uid` may be merged into, matching `text`: active, unmerged, not itself."""
    find_customer(uow, actor, source_uid)
    limit = min(max(1, limit), MAX_PAGE_SIZE)
    # One more than asked for, since the source itself may be among the matches.
    found = search_customers(
        uow, actor, text, status=CustomerStatus.ACTIVE, limit=min(limit + 1, MAX_PAGE_SIZE)
    )
    # Reactivating a merged customer leaves it active, yet it cannot take a merge.
    merged = set(
        uow.session.scalars(
            select(Customer.uid).where(
                Customer.team_id == actor.team_id,
                Customer.uid.in_([c.uid for c in found]),
                Customer.merged_into_id.is_not(None),
            )
        )
    )
    return [c for c in found if c.uid != source_uid and c.uid not in merged][:limit]
