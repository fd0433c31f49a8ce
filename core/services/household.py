"""Linked people: a customer's parent, child or partner among the workspace's customers.

A link is stored once per pair (low customer id first, with what that customer is to the
other) and read from either side with the wording of that side: "Parent of Zoë Adams" on the
parent's record, "Child of Sam Adams" on the child's."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, delete, literal, or_, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, aliased

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, ValidationFailed
from core.models import Customer, CustomerLink, CustomerStatus, Relation
from core.services import history
from core.services.customers import find_customer, load_for_change

# The account history's actions, on both customers of a link.
LINKED = "linked"
UNLINKED = "unlinked"
# The form's field a refusal is about.
PERSON_FIELD = "person"
# The most linked people the details list; a household is a handful.
HOUSEHOLD_MAX = 20
_INVERSE = {Relation.PARENT: Relation.CHILD, Relation.CHILD: Relation.PARENT}


def inverse(relation: Relation) -> Relation:
    """What the other customer of a link is: a parent's other is a child; partners are partners."""
    return _INVERSE.get(relation, relation)


def described(relation: Relation, name: str) -> str:
    """'Parent of Zoë Adams': what a customer is to `name`."""
    return f"{relation.value.title()} of {name}"


@dataclass(frozen=True)
class Member:
    """Someone linked to the customer: who, and what the customer is to them."""

    uid: str
    name: str
    # What the customer whose record this is, is to this member ("Parent of" them).
    relation: Relation
    archived: bool

    @property
    def text(self) -> str:
        """'Parent of Zoë Adams'."""
        return described(self.relation, self.name)


def _stored(customer: Customer, other: Customer, relation: Relation) -> tuple[int, int, Relation]:
    """The row's (low id, high id, relation) for `customer` being `relation` to `other`."""
    if customer.id < other.id:
        return customer.id, other.id, relation
    return other.id, customer.id, inverse(relation)


def _link_between(uow: UnitOfWork, first_id: int, second_id: int) -> CustomerLink | None:
    low, high = sorted((first_id, second_id))
    return uow.session.scalars(
        select(CustomerLink).where(CustomerLink.low_id == low, CustomerLink.high_id == high)
    ).first()


def _seen_from(link: CustomerLink, customer_id: int) -> Relation:
    """What customer `customer_id` is to the other customer of `link`."""
    return link.relation if link.low_id == customer_id else inverse(link.relation)


def _locked_pair(
    uow: UnitOfWork, actor: Actor, uid: str, other_uid: str
) -> tuple[Customer, Customer]:
    """Both customers locked, in UID order so two requests linking the pair take turns."""
    if uid == other_uid:
        raise ValidationFailed(
            {PERSON_FIELD: "Choose someone else: a customer can't be linked to themselves."}
        )
    first, second = sorted((uid, other_uid))
    locked = {
        first: load_for_change(uow, actor, first),
        second: load_for_change(uow, actor, second),
    }
    return locked[uid], locked[other_uid]


def _record_both(
    uow: UnitOfWork,
    actor: Actor,
    customer: Customer,
    other: Customer,
    relation: Relation,
    action: str,
) -> None:
    """Each customer's history says what they are (or were) to the other."""
    for who, whom, as_ in ((customer, other, relation), (other, customer, inverse(relation))):
        text = described(as_, f"{whom.full_name} (UID {whom.uid})")
        history.record(uow, actor.user_id, who, action, detail=text)


def link_customers(
    uow: UnitOfWork, actor: Actor, uid: str, other_uid: str, relation: Relation
) -> Member:
    """Link customer `uid` to `other_uid` as their `relation` (`uid` is the parent, child or
    partner of `other_uid`); both records' histories say so. Returns the other as a member."""
    customer, other = _locked_pair(uow, actor, uid, other_uid)
    existing = _link_between(uow, customer.id, other.id)
    if existing is not None:
        already = described(_seen_from(existing, customer.id), other.full_name)
        raise ValidationFailed(
            {
                PERSON_FIELD: f"{customer.full_name} is already linked: {already}. Unlink them first to change it."
            }
        )
    low, high, stored = _stored(customer, other, relation)
    uow.session.add(
        CustomerLink(
            team_id=actor.team_id,
            low_id=low,
            high_id=high,
            relation=stored,
            created_by=actor.user_id,
            created_at=uow.now(),
        )
    )
    _record_both(uow, actor, customer, other, relation, LINKED)
    uow.session.flush()
    return Member(other.uid, other.full_name, relation, other.status is CustomerStatus.ARCHIVED)


def unlink_customers(uow: UnitOfWork, actor: Actor, uid: str, other_uid: str) -> Member:
    """Remove the link between customers `uid` and `other_uid`; both histories say so.
    Returns the other as the member they were."""
    customer, other = find_customer(uow, actor, uid), find_customer(uow, actor, other_uid)
    link = _link_between(uow, customer.id, other.id)
    if link is None:
        raise DomainError(f"{customer.full_name} and {other.full_name} are not linked.")
    relation = _seen_from(link, customer.id)
    uow.session.delete(link)
    _record_both(uow, actor, customer, other, relation, UNLINKED)
    uow.session.flush()
    return Member(other.uid, other.full_name, relation, other.status is CustomerStatus.ARCHIVED)


@cache
def _household_statement() -> Select[str, str, str, CustomerStatus, Relation, bool]:
    """Built once: every details view reads the household, and building this statement (two
    aliases, a union) costs several times more than running it."""
    me, other = aliased(Customer), aliased(Customer)

    def side(
        mine: InstrumentedAttribute[int], theirs: InstrumentedAttribute[int], low: bool
    ) -> Select[str, str, str, CustomerStatus, Relation, bool]:
        return (
            select(
                other.uid,
                other.first_name,
                other.last_name,
                other.status,
                CustomerLink.relation,
                # Whether the customer is the link's low side, so its relation reads as stored.
                literal(low).label("low"),
            )
            .select_from(CustomerLink)
            .join(me, me.id == mine)
            .join(other, other.id == theirs)
            .where(me.team_id == bindparam("team_id"), me.uid == bindparam("uid"))
        )

    both = union_all(
        side(CustomerLink.low_id, CustomerLink.high_id, True),
        side(CustomerLink.high_id, CustomerLink.low_id, False),
    ).subquery()
    return (
        select(both).order_by(both.c.last_name, both.c.first_name, both.c.uid).limit(HOUSEHOLD_MAX)
    )


def household(uow: UnitOfWork, actor: Actor, uid: str) -> list[Member]:
    """Everyone linked to customer `uid` (at most HOUSEHOLD_MAX), by name; one statement."""
    rows = uow.session.execute(_household_statement(), {"team_id": actor.team_id, "uid": uid}).all()
    return [
        Member(
            row.uid,
            f"{row.first_name} {row.last_name}",
            Relation(row.relation) if row.low else inverse(Relation(row.relation)),
            row.status == CustomerStatus.ARCHIVED,
        )
        for row in rows
    ]


def payers(members: list[Member]) -> list[str]:
    """The names of the parents among `members` (those the customer is a child of)."""
    return [m.name for m in members if m.relation is Relation.CHILD]


def move_links(uow: UnitOfWork, source: Customer, target: Customer) -> int:
    """A merge's part: `source`'s links become `target`'s, except one to `target` itself or to
    someone `target` is linked to already, which go. How many moved."""
    links = uow.session.scalars(
        select(CustomerLink).where(
            or_(CustomerLink.low_id == source.id, CustomerLink.high_id == source.id)
        )
    ).all()
    taken = {
        link.low_id if link.high_id == target.id else link.high_id
        for link in uow.session.scalars(
            select(CustomerLink).where(
                or_(CustomerLink.low_id == target.id, CustomerLink.high_id == target.id)
            )
        )
    }
    moved = 0
    for link in links:
        other_id = link.high_id if link.low_id == source.id else link.low_id
        relation = _seen_from(link, source.id)
        if other_id == target.id or other_id in taken:
            uow.session.delete(link)
            continue
        link.low_id, link.high_id = sorted((target.id, other_id))
        link.relation = relation if target.id < other_id else inverse(relation)
        taken.add(other_id)
        moved += 1
    uow.session.flush()
    return moved


def remove_links(uow: UnitOfWork, actor: Actor, customer_ids: Collection[int], uid: str) -> int:
    """An anonymisation's part: the links of these records (one person) go; the others'
    histories say they were unlinked from customer `uid`, naming no one. How many went."""
    ids = list(customer_ids)
    involved = or_(CustomerLink.low_id.in_(ids), CustomerLink.high_id.in_(ids))
    others = {
        link.high_id if link.low_id in ids else link.low_id
        for link in uow.session.scalars(select(CustomerLink).where(involved))
    }
    uow.session.execute(delete(CustomerLink).where(involved))
    for other in uow.session.scalars(select(Customer).where(Customer.id.in_(others - set(ids)))):
        history.record(
            uow, actor.user_id, other, UNLINKED, detail=f"unlinked from customer {uid}: anonymised"
        )
    return len(others)
