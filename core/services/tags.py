"""Free tags on customers: set a customer's tags, suggest them as typed, and (admins) list,
rename and merge the workspace's tags. Every change is in the customers' account history."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Forbidden, ValidationFailed
from core.models import TAG_MAX, Customer, CustomerTag, HistoryEntry, Tag
from core.services import history
from core.services.customers import load_for_change
from core.text import like_pattern, squeeze

# A customer holds at most this many tags: enough to describe a person, few enough to read.
TAGS_PER_CUSTOMER = 20
# How the CSV columns and the history join a customer's tags. Other systems' exports separate
# them with commas, so a tag name may contain neither.
SEPARATOR = ";"
SEPARATORS = re.compile("[;,]")
TAGS_CHANGED = "tags changed"
TAG_RENAMED = "tag renamed"
TAG_MERGED = "tags merged"
SUGGESTIONS = 20


@dataclass(frozen=True)
class TagUse:
    """One of the workspace's tags and how many customers hold it."""

    id: int
    name: str
    customers: int


def tag_key(name: str) -> str:
    """What makes two names one tag: 'Early  Bird' and 'early bird' share a key."""
    return unicodedata.normalize("NFKC", squeeze(name)).casefold()


def name_problem(name: str) -> str | None:
    """Why `name` (already squeezed) can't be a tag, or None."""
    if not name:
        return "A tag needs a name."
    if len(name) > TAG_MAX:
        return f"“{name[:TAG_MAX]}…” is too long: a tag has at most {TAG_MAX} characters."
    if SEPARATORS.search(name):
        return f"“{name}” has a ';' or ',': they separate tags, so a tag can't contain them."
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return f"“{name}” holds invisible control characters; type it again."
    return None


def clean_names(raw: Iterable[str], field: str = "tags") -> list[str]:
    """The tags typed, trimmed and each once (the first spelling wins); blanks are dropped.

    Raises ValidationFailed under `field` for a name too long or with a ';'."""
    names: dict[str, str] = {}
    for typed in raw:
        name = squeeze(typed)
        if not name:
            continue
        problem = name_problem(name)
        if problem is not None:
            raise ValidationFailed({field: problem})
        names.setdefault(tag_key(name), name)
    if len(names) > TAGS_PER_CUSTOMER:
        raise ValidationFailed(
            {field: f"A customer holds at most {TAGS_PER_CUSTOMER} tags; remove a few."}
        )
    return list(names.values())


def split_tags(text: str) -> list[str]:
    """Tags from one CSV cell: names separated by ';' (this app's export) or ',' (others')."""
    return [part for part in (squeeze(p) for p in SEPARATORS.split(text)) if part]


def join_tags(names: Sequence[str]) -> str:
    """Tags as one CSV cell or history value."""
    return f"{SEPARATOR} ".join(names)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can rename or merge tags; ask an admin to do it.")


def tags_of(uow: UnitOfWork, customer_ids: Collection[int]) -> dict[int, list[str]]:
    """Each customer's tags, A→Z (customers without tags are left out)."""
    found: dict[int, list[str]] = {}
    if not customer_ids:
        return found
    rows = uow.session.execute(
        select(CustomerTag.customer_id, Tag.name)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.customer_id.in_(list(customer_ids)))
        .order_by(Tag.key)
    )
    for customer_id, name in rows:
        found.setdefault(customer_id, []).append(name)
    return found


# Built once: every details view runs it, and building it costs more than running it.
_CUSTOMER_TAGS = (
    select(Tag.name)
    .join(CustomerTag, CustomerTag.tag_id == Tag.id)
    .join(Customer, Customer.id == CustomerTag.customer_id)
    .where(Customer.team_id == bindparam("team_id"), Customer.uid == bindparam("uid"))
    .order_by(Tag.key)
)


def customer_tags(uow: UnitOfWork, actor: Actor, uid: str) -> list[str]:
    """The tags of customer `uid` of the actor's workspace, A→Z (none for a UID not theirs)."""
    return list(uow.session.scalars(_CUSTOMER_TAGS, {"team_id": actor.team_id, "uid": uid}))


def _find_or_create(uow: UnitOfWork, team_id: str, name: str) -> Tag:
    key = tag_key(name)
    query = select(Tag).where(Tag.team_id == team_id, Tag.key == key)
    found = uow.session.scalars(query).first()
    if found is not None:
        return found
    tag = Tag(team_id=team_id, name=name, key=key, created_at=uow.now())
    try:
        with uow.session.begin_nested():
            uow.session.add(tag)
    except IntegrityError:
        # Someone created the same tag meanwhile: theirs is the one.
        return uow.session.scalars(query).one()
    return tag


def spellings(uow: UnitOfWork, team_id: str, names: Iterable[str]) -> dict[str, str]:
    """Each name's key → the name of the workspace's tag with that key, or else the first of
    `names` with it."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(tag_key(name), name)
    if not first:
        return first
    known = uow.session.execute(
        select(Tag.key, Tag.name).where(Tag.team_id == team_id, Tag.key.in_(list(first)))
    )
    return first | {str(row.key): str(row.name) for row in known}


def ensure_tags(uow: UnitOfWork, team_id: str, names: Iterable[str]) -> dict[str, int]:
    """The id of each of these (clean) tag names by its key, creating the ones not there yet."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(tag_key(name), name)
    return {key: _find_or_create(uow, team_id, name).id for key, name in wanted.items()}


def apply_tags(
    uow: UnitOfWork, actor: Actor, customer: Customer, names: Sequence[str]
) -> list[str]:
    """Give `customer` exactly the tags `names` (cleaned), creating new ones, and record a
    change in their history; returns their tags afterwards, A→Z."""
    wanted = [_find_or_create(uow, customer.team_id, name) for name in names]
    held = dict(
        uow.session.execute(
            select(Tag.id, Tag.name)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == customer.id)
            .order_by(Tag.key)
        ).all()
    )
    wanted_ids = {tag.id for tag in wanted}
    added = [tag for tag in wanted if tag.id not in held]
    removed = [tag_id for tag_id in held if tag_id not in wanted_ids]
    after = sorted((tag.name for tag in wanted), key=tag_key)
    if not added and not removed:
        return after
    if removed:
        uow.session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id == customer.id, CustomerTag.tag_id.in_(removed)
            )
        )
    for tag in added:
        uow.session.add(CustomerTag(customer_id=customer.id, tag_id=tag.id, team_id=tag.team_id))
    uow.session.flush()
    before = list(held.values())
    history.record(
        uow,
        actor.user_id,
        customer,
        TAGS_CHANGED,
        changes={"tags": [join_tags(before), join_tags(after)]},
    )
    return after


def set_customer_tags(uow: UnitOfWork, actor: Actor, uid: str, names: Iterable[str]) -> list[str]:
    """Give customer `uid` exactly these tags (staff); returns their tags afterwards, A→Z.

    A merged or anonymised customer is refused; an empty list removes every tag."""
    cleaned = clean_names(names)
    customer = load_for_change(uow, actor, uid)
    return apply_tags(uow, actor, customer, cleaned)


def suggest_tags(uow: UnitOfWork, actor: Actor, typed: str, limit: int = SUGGESTIONS) -> list[str]:
    """The workspace's tags containing what is typed (all of them when nothing is), A→Z."""
    query = select(Tag.name).where(Tag.team_id == actor.team_id)
    key = tag_key(typed)[: TAG_MAX * 3]
    if key:
        query = query.where(Tag.key.like(like_pattern(key), escape="\\"))
    return list(uow.session.scalars(query.order_by(Tag.key).limit(max(1, limit))))


def list_tags(uow: UnitOfWork, actor: Actor) -> list[TagUse]:
    """Every tag of the workspace with how many customers hold it, A→Z."""
    held = (
        select(CustomerTag.tag_id, func.count().label("n"))
        .where(CustomerTag.team_id == actor.team_id)
        .group_by(CustomerTag.tag_id)
        .subquery()
    )
    rows = uow.session.execute(
        select(Tag.id, Tag.name, func.coalesce(held.c.n, 0))
        .outerjoin(held, held.c.tag_id == Tag.id)
        .where(Tag.team_id == actor.team_id)
        .order_by(Tag.key)
    )
    return [TagUse(tag_id, name, int(count)) for tag_id, name, count in rows]


def _load_tag(uow: UnitOfWork, actor: Actor, tag_id: int, field: str) -> Tag:
    tag = uow.session.scalars(
        select(Tag).where(Tag.team_id == actor.team_id, Tag.id == tag_id).with_for_update()
    ).first()
    if tag is None:
        raise ValidationFailed({field: "That tag no longer exists; it may have been merged."})
    return tag


def _record_for_holders(
    uow: UnitOfWork, actor: Actor, customer_ids: Collection[int], action: str, change: list[str]
) -> None:
    """One history entry per customer in `customer_ids`, written in one statement."""
    if not customer_ids:
        return
    rows = uow.session.execute(
        select(Customer.id, Customer.uid).where(Customer.id.in_(list(customer_ids)))
    ).all()
    now = uow.now()
    uow.session.execute(
        insert(HistoryEntry),
        [
            {
                "team_id": actor.team_id,
                "customer_id": customer_id,
                "customer_uid": uid,
                "actor": actor.user_id,
                "action": action,
                "changes": {"tags": change},
                "detail": "",
                "created_at": now,
            }
            for customer_id, uid in rows
        ],
    )


def _holders(uow: UnitOfWork, tag_id: int) -> list[int]:
    return list(
        uow.session.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id))
    )


def rename_tag(uow: UnitOfWork, actor: Actor, tag_id: int, new_name: str) -> TagUse:
    """Rename a tag (admins); a name another tag has is refused: merge into it instead."""
    _require_admin(actor)
    name = squeeze(new_name)
    problem = name_problem(name)
    if problem is not None:
        raise ValidationFailed({"new_name": problem})
    tag = _load_tag(uow, actor, tag_id, "tag")
    key = tag_key(name)
    clash = uow.session.scalar(
        select(Tag.name).where(Tag.team_id == actor.team_id, Tag.key == key, Tag.id != tag.id)
    )
    if clash is not None:
        raise ValidationFailed(
            {"new_name": f"A tag “{clash}” already exists; to make them one, merge into it."}
        )
    holders = _holders(uow, tag.id)
    if name != tag.name:
        _record_for_holders(uow, actor, holders, TAG_RENAMED, [tag.name, name])
        tag.name, tag.key = name, key
        uow.session.flush()
    return TagUse(tag.id, tag.name, len(holders))


def merge_tags(uow: UnitOfWork, actor: Actor, source_id: int, target_id: int) -> TagUse:
    """Merge tag `source_id` into `target_id` (admins): its customers hold the target instead
    (once, for those who held both) and the source is gone."""
    _require_admin(actor)
    if source_id == target_id:
        raise ValidationFailed({"target": "Choose another tag to merge into."})
    # Locked in id order, so two merges of the same pair take turns instead of deadlocking.
    first, second = sorted((source_id, target_id))
    locked = {
        tag_id: _load_tag(uow, actor, tag_id, "tag" if tag_id == source_id else "target")
        for tag_id in (first, second)
    }
    source, target = locked[source_id], locked[target_id]
    holders = _holders(uow, source.id)
    both = set(_holders(uow, target.id)) & set(holders)
    if both:
        uow.session.execute(
            delete(CustomerTag).where(
                CustomerTag.tag_id == source.id, CustomerTag.customer_id.in_(both)
            )
        )
    uow.session.execute(
        update(CustomerTag).where(CustomerTag.tag_id == source.id).values(tag_id=target.id)
    )
    _record_for_holders(uow, actor, holders, TAG_MERGED, [source.name, target.name])
    uow.session.delete(source)
    uow.session.flush()
    count = uow.session.scalar(
        select(func.count()).select_from(CustomerTag).where(CustomerTag.tag_id == target.id)
    )
    return TagUse(target.id, target.name, int(count or 0))


def move_tags(uow: UnitOfWork, source: Customer, target: Customer) -> list[str]:
    """A customer merge: `target` ends with the union of both customers' tags, `source` with
    none. Returns the tags `target` gained."""
    source_tags = set(_tag_ids(uow, source.id))
    target_tags = set(_tag_ids(uow, target.id))
    gained = source_tags - target_tags
    uow.session.execute(delete(CustomerTag).where(CustomerTag.customer_id == source.id))
    for tag_id in sorted(gained):
        uow.session.add(CustomerTag(customer_id=target.id, tag_id=tag_id, team_id=target.team_id))
    uow.session.flush()
    if not gained:
        return []
    return list(uow.session.scalars(select(Tag.name).where(Tag.id.in_(gained)).order_by(Tag.key)))


def remove_all_tags(uow: UnitOfWork, customer_ids: Collection[int]) -> None:
    """Anonymising: these customers hold no tags any more."""
    if customer_ids:
        uow.session.execute(
            delete(CustomerTag).where(CustomerTag.customer_id.in_(list(customer_ids)))
        )


def _tag_ids(uow: UnitOfWork, customer_id: int) -> list[int]:
    return list(
        uow.session.scalars(
            select(CustomerTag.tag_id).where(CustomerTag.customer_id == customer_id)
        )
    )
