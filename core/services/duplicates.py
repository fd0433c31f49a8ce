"""The duplicates report: pairs of customers who may be one person, ranked by evidence, and
the pairs an admin said are two people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Forbidden, ValidationFailed
from core.models import Customer, CustomerStatus, NotDuplicate
from core.services.customers import CustomerRecord, find_customer, record_of
from core.services.matching import (
    Evidence,
    contact_of,
    dismissed_pairs,
    evidence,
    normalise_email,
    ordered_pair,
    score,
    suggested,
)

# A name block this big is a common name ("James Smith"): sharing it says nothing on its own.
NAME_BLOCK_MAX = 12
REPORT_MAX = 25


@dataclass(frozen=True)
class DuplicatePair:
    """Two customers who may be one person: `keep` is the one a merge would keep."""

    keep: CustomerRecord
    other: CustomerRecord
    evidence: tuple[Evidence, ...]
    score: int


@dataclass(frozen=True)
class DuplicatesReport:
    """The best-ranked pairs, and how many were found in all."""

    pairs: list[DuplicatePair]
    total: int


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can review duplicates; ask an admin.")


def _blocks(rows: Iterable[tuple[int, str, str]]) -> Iterator[list[int]]:
    """Groups of customer ids worth comparing: one mailbox, or one name block.

    Each name lands in two blocks, first word + last initial and first initial + last word,
    so a slip in either half still meets the other spelling."""
    mailboxes: dict[str, list[int]] = defaultdict(list)
    names: dict[str, list[int]] = defaultdict(list)
    for customer_id, email, key in rows:
        mailboxes[normalise_email(email)].append(customer_id)
        words = key.split(" ")
        if len(words) < 2:
            names[f"{key}|"].append(customer_id)
            continue
        first, last = words[0], words[-1]
        names[f"{first}|{last[:1]}"].append(customer_id)
        names[f"{first[:1]}|{last}"].append(customer_id)
    yield from (ids for ids in mailboxes.values() if len(ids) > 1)
    yield from (ids for ids in names.values() if 1 < len(ids) <= NAME_BLOCK_MAX)


def _candidate_pairs(uow: UnitOfWork, team_id: str) -> set[tuple[int, int]]:
    """Every pair sharing a mobile (grouped in SQL) or a block (one pass over three columns)."""
    unmerged = (
        Customer.team_id == team_id,
        Customer.merged_into_id.is_(None),
        # Anonymised records keep no contact details to match on.
        Customer.anonymised_at.is_(None),
    )
    shared = (
        select(Customer.mobile)
        .where(*unmerged, Customer.mobile != "")
        .group_by(Customer.mobile)
        .having(func.count() > 1)
        .scalar_subquery()
    )
    by_mobile: dict[str, list[int]] = defaultdict(list)
    for customer_id, mobile in uow.session.execute(
        select(Customer.id, Customer.mobile).where(*unmerged, Customer.mobile.in_(shared))
    ):
        by_mobile[mobile].append(customer_id)
    pairs: set[tuple[int, int]] = set()
    groups: list[list[int]] = [ids for ids in by_mobile.values() if len(ids) <= NAME_BLOCK_MAX]
    # Mailboxes have no portable SQL form (gmail's dots), so they are grouped here, in the
    # same single pass that blocks the names.
    rows = uow.session.execute(
        select(Customer.id, Customer.email, Customer.name_key).where(*unmerged)
    )
    groups.extend(_blocks((i, email, key) for i, email, key in rows))
    for ids in groups:
        pairs.update(ordered_pair(a, b) for a, b in combinations(ids, 2))
    return pairs


def _keep_first(a: Customer, b: Customer) -> tuple[Customer, Customer]:
    """The customer a merge keeps: an active one before an archived one, then the older."""
    ranked = sorted((a, b), key=lambda c: (c.status is CustomerStatus.ARCHIVED, c.id))
    return ranked[0], ranked[1]


def find_duplicates(uow: UnitOfWork, actor: Actor, *, limit: int = REPORT_MAX) -> DuplicatesReport:
    """Pairs of the workspace's customers who may be one person, strongest evidence first;
    pairs an admin dismissed and pairs of two archived customers are left out. Admin only."""
    _require_admin(actor)
    pairs = _candidate_pairs(uow, actor.team_id)
    dismissed = {
        (low, high)
        for low, high in uow.session.execute(
            select(NotDuplicate.low_id, NotDuplicate.high_id).where(
                NotDuplicate.team_id == actor.team_id
            )
        )
    }
    pairs -= dismissed
    ids = {i for pair in pairs for i in pair}
    customers: dict[int, Customer] = {}
    id_list = sorted(ids)
    # In chunks: a single IN list of thousands of ids trips SQLite's variable limit.
    for start in range(0, len(id_list), 900):
        chunk = id_list[start : start + 900]
        customers.update(
            (c.id, c) for c in uow.session.scalars(select(Customer).where(Customer.id.in_(chunk)))
        )
    ranked: list[tuple[int, Customer, Customer, tuple[Evidence, ...]]] = []
    for low, high in pairs:
        a, b = customers[low], customers[high]
        if a.status is CustomerStatus.ARCHIVED and b.status is CustomerStatus.ARCHIVED:
            continue
        found = evidence(contact_of(a), contact_of(b))
        if suggested(found):
            keep, other = _keep_first(a, b)
            ranked.append((score(found), keep, other, found))
    ranked.sort(key=lambda item: (-item[0], item[1].id, item[2].id))
    shown = [
        DuplicatePair(record_of(keep), record_of(other), found, points)
        for points, keep, other, found in ranked[: max(0, limit)]
    ]
    return DuplicatesReport(shown, len(ranked))


def mark_not_duplicate(uow: UnitOfWork, actor: Actor, uid_a: str, uid_b: str) -> None:
    """Remember that two customers are two people, so the report never pairs them again."""
    _require_admin(actor)
    if uid_a == uid_b:
        raise ValidationFailed({"pair": "A customer cannot be their own duplicate."})
    a, b = find_customer(uow, actor, uid_a), find_customer(uow, actor, uid_b)
    low, high = ordered_pair(a.id, b.id)
    if (low, high) in dismissed_pairs(uow, actor.team_id, [low]):
        return
    try:
        with uow.session.begin_nested():
            uow.session.add(
                NotDuplicate(
                    team_id=actor.team_id,
                    low_id=low,
                    high_id=high,
                    decided_by=actor.user_id,
                    decided_at=uow.now(),
                )
            )
    except IntegrityError:
        # Another admin said the same a moment ago: the pair is remembered either way.
        return
