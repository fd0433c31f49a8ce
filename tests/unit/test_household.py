"""Linked people on SQLite and PostgreSQL: linking with each side's wording and history, the
refusals (oneself, twice in either direction, another workspace, an anonymised or merged
record), unlinking, and what merge, anonymise and delete do to links."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import DomainError, NotFound, ValidationFailed
from core.models import Customer, CustomerLink, HistoryEntry, Relation
from core.services.account import merge_customers
from core.services.anonymise import anonymise_customer
from core.services.customers import archive_customer, delete_customer
from core.services.household import (
    LINKED,
    UNLINKED,
    Member,
    household,
    link_customers,
    payers,
    unlink_customers,
)
from tests.unit.commerce_helpers import history_of
from tests.unit.history_rows import customer


def _people(db: Database, actor: Actor, *names: str) -> list[str]:
    with db.unit_of_work() as uow:
        return [customer(uow, actor, name, "Adams").uid for name in names]


def _link(db: Database, actor: Actor, uid: str, other: str, relation: Relation) -> Member:
    with db.unit_of_work() as uow:
        return link_customers(uow, actor, uid, other, relation)


def _household(db: Database, actor: Actor, uid: str) -> list[tuple[str, str]]:
    with db.unit_of_work(readonly=True) as uow:
        return [(m.uid, m.text) for m in household(uow, actor, uid)]


def _links(db: Database) -> int:
    with db.unit_of_work(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(CustomerLink)) or 0)


def test_a_link_is_stored_once_and_read_from_both_sides(db: Database, staff: Actor) -> None:
    sam, zoe, kim = _people(db, staff, "Sam", "Zoe", "Kim")
    # Linked from the child's side and from the later record: stored low id first either way.
    member = _link(db, staff, zoe, sam, Relation.CHILD)
    assert (member.uid, member.text) == (sam, "Child of Sam Adams")
    _link(db, staff, kim, sam, Relation.PARTNER)
    assert _links(db) == 2
    assert _household(db, staff, sam) == [
        (kim, "Partner of Kim Adams"),
        (zoe, "Parent of Zoe Adams"),
    ]
    assert _household(db, staff, zoe) == [(sam, "Child of Sam Adams")]
    assert _household(db, staff, kim) == [(sam, "Partner of Sam Adams")]
    with db.unit_of_work(readonly=True) as uow:
        assert payers(household(uow, staff, zoe)) == ["Sam Adams"]
        assert payers(household(uow, staff, sam)) == []
        # Both histories say so, each in its own words.
        (on_zoe,) = [e for e in history_of(uow, zoe) if e.action == LINKED]
        (on_sam, _) = [e for e in history_of(uow, sam) if e.action == LINKED]
        assert on_zoe.detail == f"Child of Sam Adams (UID {sam})"
        assert on_sam.detail == f"Parent of Zoe Adams (UID {zoe})"
        assert on_sam.actor == staff.user_id


def test_refusals(db: Database, staff: Actor, admin: Actor, other_tenant: Actor) -> None:
    sam, zoe, gone = _people(db, staff, "Sam", "Zoe", "Gone")
    with pytest.raises(ValidationFailed, match="themselves"):
        _link(db, staff, sam, sam, Relation.PARTNER)
    _link(db, staff, sam, zoe, Relation.PARENT)
    # Twice, from either side and with any relation.
    for first, second in ((sam, zoe), (zoe, sam)):
        with pytest.raises(ValidationFailed, match="already linked"):
            _link(db, staff, first, second, Relation.PARTNER)
    # Another workspace's customer is no customer of ours, either way round.
    (theirs,) = _people(db, other_tenant, "Their")
    with pytest.raises(NotFound):
        _link(db, staff, sam, theirs, Relation.PARTNER)
    with pytest.raises(NotFound):
        _link(db, other_tenant, theirs, sam, Relation.PARTNER)
    assert _household(db, other_tenant, sam) == []
    with db.unit_of_work() as uow:
        anonymise_customer(uow, admin, gone)
    with pytest.raises(DomainError, match="anonymised"):
        _link(db, staff, sam, gone, Relation.PARTNER)
    assert _links(db) == 1


def test_archived_customers_can_be_linked_and_say_so(db: Database, staff: Actor) -> None:
    sam, zoe = _people(db, staff, "Sam", "Zoe")
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, zoe)
    assert _link(db, staff, sam, zoe, Relation.PARENT).archived


def test_unlink_removes_the_link_and_records_it_on_both(db: Database, staff: Actor) -> None:
    sam, zoe = _people(db, staff, "Sam", "Zoe")
    _link(db, staff, sam, zoe, Relation.PARENT)
    with db.unit_of_work() as uow:
        member = unlink_customers(uow, staff, zoe, sam)
    assert member.text == "Child of Sam Adams"
    assert _household(db, staff, sam) == []
    with db.unit_of_work(readonly=True) as uow:
        for uid in (sam, zoe):
            assert [e.action for e in history_of(uow, uid)][-1] == UNLINKED
    with pytest.raises(DomainError, match="not linked"), db.unit_of_work() as uow:
        unlink_customers(uow, staff, zoe, sam)


def test_merge_moves_links_to_the_kept_customer_without_self_links_or_duplicates(
    db: Database, staff: Actor, admin: Actor
) -> None:
    twin, kept, child, partner, parent = _people(
        db, staff, "Twin", "Kept", "Child", "Partner", "Parent"
    )
    _link(db, staff, twin, kept, Relation.PARTNER)  # becomes a self-link: dropped
    _link(db, staff, twin, child, Relation.PARENT)  # moves: Kept is Child's parent
    _link(db, staff, partner, twin, Relation.PARTNER)  # Kept has it already: dropped
    _link(db, staff, kept, partner, Relation.PARTNER)
    _link(db, staff, parent, twin, Relation.PARENT)  # moves, seen from the other side
    with db.unit_of_work() as uow:
        merge_customers(uow, admin, twin, kept, reason="Same person")
    assert _household(db, staff, kept) == [
        (child, "Parent of Child Adams"),
        (parent, "Child of Parent Adams"),
        (partner, "Partner of Partner Adams"),
    ]
    assert _household(db, staff, twin) == []
    assert _household(db, staff, child) == [(kept, "Child of Kept Adams")]
    assert _links(db) == 3


def test_anonymise_removes_links_and_erases_the_name_from_the_others_history(
    db: Database, staff: Actor, admin: Actor
) -> None:
    with db.unit_of_work() as uow:
        chiamaka = customer(uow, staff, "Chiamaka", "Okonkwo").uid
        (friend,) = [customer(uow, staff, "Friend", "Jones").uid]
    _link(db, staff, chiamaka, friend, Relation.PARTNER)
    with db.unit_of_work() as uow:
        anonymise_customer(uow, admin, chiamaka)
    assert _household(db, staff, friend) == []
    with db.unit_of_work(readonly=True) as uow:
        details = [e.detail for e in history_of(uow, friend)]
    assert details[-2] == f"Partner of [erased] (UID {chiamaka})"
    assert details[-1] == f"unlinked from customer {chiamaka}: anonymised"
    assert not any("Chiamaka" in d or "Okonkwo" in d for d in details)


def test_delete_removes_links(db: Database, staff: Actor, admin: Actor) -> None:
    sam, zoe = _people(db, staff, "Sam", "Zoe")
    _link(db, staff, sam, zoe, Relation.PARENT)
    with db.unit_of_work() as uow:
        delete_customer(uow, admin, zoe)
    assert _links(db) == 0
    assert _household(db, staff, sam) == []
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(Customer.id).where(Customer.uid == zoe)) is None
        assert uow.session.scalar(select(func.count()).select_from(HistoryEntry)) is not None
