"""The catalog's items as admins keep them in Slack: list, add, edit, archive and restore
services, facilitators, pass types, videos, plans and questionnaires, each change audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.models import facilitator_services
from core.services.catalog_fields import require_admin
from core.services.catalog_rules import RULES, ItemDraft, ItemKind, KindRules
from core.services.workspaces import audit_workspace, ensure_workspace
from core.text import fold

# A modal holds 100 blocks; the list keeps room for its controls.
SHOWN_MAX = 80
LINKS_MAX = 100


@dataclass(frozen=True)
class ItemRow:
    """One item as the catalog lists it."""

    id: int
    title: str
    summary: str
    archived: bool
    # The Slack user a facilitator is, shown as a mention.
    slack_user: str | None = None


@dataclass(frozen=True)
class ItemList:
    """The first SHOWN_MAX items of a kind, current before archived, and how many in all."""

    rows: list[ItemRow]
    total: int


@dataclass(frozen=True)
class LinkOption:
    """An item another can be linked to (a facilitator for a service, or the other way)."""

    id: int
    title: str


def _link_columns(kind: ItemKind) -> tuple[Any, Any]:
    """(this kind's column, the linked kind's column) in the services–facilitators table."""
    table = facilitator_services.c
    if kind is ItemKind.SERVICE:
        return table.service_id, table.facilitator_id
    return table.facilitator_id, table.service_id


def _title(rules: KindRules[Any], row: Any) -> str:
    return str(getattr(row, rules.title_column))


def _linked_titles(uow: UnitOfWork, kind: ItemKind, ids: list[int]) -> dict[int, list[str]]:
    mine, theirs = _link_columns(kind)
    other = RULES[ItemKind.FACILITATOR if kind is ItemKind.SERVICE else ItemKind.SERVICE].model
    rows = uow.session.execute(
        select(mine, other.name)
        .join(other, other.id == theirs)
        .where(mine.in_(ids), other.archived.is_(False))
        .order_by(other.name)
    )
    found: dict[int, list[str]] = {}
    for item_id, title in rows:
        found.setdefault(item_id, []).append(title)
    return found


def _with_links(kind: ItemKind, summary: str, titles: list[str]) -> str:
    if kind is ItemKind.SERVICE:
        return (
            f"{summary} · given by {', '.join(titles)}"
            if titles
            else f"{summary} · no one gives it yet"
        )
    return (
        f"{summary} · gives {', '.join(titles)}" if titles else f"{summary} · gives no service yet"
    )


def catalog_items(uow: UnitOfWork, actor: Actor, kind: ItemKind) -> ItemList:
    """The workspace's items of `kind`, current ones by name and then archived ones."""
    rules = RULES[kind]
    model = rules.model
    title = getattr(model, rules.title_column)
    query = select(model).where(model.team_id == actor.team_id)
    total = len(uow.session.scalars(query.with_only_columns(model.id)).all())
    found = list(
        uow.session.scalars(query.order_by(model.archived, title, model.id).limit(SHOWN_MAX))
    )
    currency = ensure_workspace(uow, actor.team_id).currency
    links = _linked_titles(uow, kind, [row.id for row in found]) if rules.link else {}
    rows = []
    for row in found:
        summary = rules.summary(row, currency)
        if rules.link:
            summary = _with_links(kind, summary, links.get(row.id, []))
        user = getattr(row, "slack_user_id", None)
        rows.append(ItemRow(row.id, _title(rules, row), summary, row.archived, user))
    return ItemList(rows, total)


def link_options(uow: UnitOfWork, actor: Actor, kind: ItemKind) -> list[LinkOption]:
    """The current items an item of `kind` can be linked to, by name (none for most kinds)."""
    linked = RULES[kind].link
    if linked is None:
        return []
    model = RULES[linked].model
    rows = uow.session.execute(
        select(model.id, model.name)
        .where(model.team_id == actor.team_id, model.archived.is_(False))
        .order_by(model.name, model.id)
        .limit(LINKS_MAX)
    )
    return [LinkOption(item_id, title) for item_id, title in rows]


def _found(uow: UnitOfWork, actor: Actor, kind: ItemKind, item_id: int) -> Any:
    model = RULES[kind].model
    row = uow.session.scalar(
        select(model).where(model.id == item_id, model.team_id == actor.team_id).with_for_update()
    )
    if row is None:
        raise NotFound(
            f"That {RULES[kind].noun} no longer exists; it may have been removed by an import."
        )
    return row


def _links_of(uow: UnitOfWork, kind: ItemKind, item_id: int) -> tuple[int, ...]:
    mine, theirs = _link_columns(kind)
    return tuple(sorted(uow.session.scalars(select(theirs).where(mine == item_id))))


def item_draft(uow: UnitOfWork, actor: Actor, kind: ItemKind, item_id: int) -> ItemDraft:
    """Item `item_id` of `kind` as its edit form starts."""
    require_admin(actor)
    rules = RULES[kind]
    row = _found(uow, actor, kind, item_id)
    currency = ensure_workspace(uow, actor.team_id).currency
    links = _links_of(uow, kind, item_id) if rules.link else ()
    return ItemDraft(rules.draft(row, currency), links)


def _clean(
    uow: UnitOfWork, actor: Actor, kind: ItemKind, draft: ItemDraft, item_id: int
) -> dict[str, Any]:
    """The columns of `draft`, checked, with its name unique among the kind's current items."""
    rules = RULES[kind]
    currency = ensure_workspace(uow, actor.team_id).currency
    errors: dict[str, str] = {}
    try:
        columns = rules.clean(draft, currency)
    except ValidationFailed as exc:
        errors, columns = exc.errors, {}
    title = columns.get(rules.title_column)
    taken = _name_taken(uow, actor, rules, title, item_id) if title is not None else None
    if taken is not None:
        errors["name"] = f"There is already a {rules.noun} called {taken}; choose another name."
    errors.update(_link_problems(uow, actor, kind, draft.links))
    if errors:
        raise ValidationFailed(errors)
    return columns


def _name_taken(
    uow: UnitOfWork, actor: Actor, rules: KindRules[Any], title: str, item_id: int
) -> str | None:
    """The name of another current item of the kind called `title` (ignoring case and accents)."""
    model = rules.model
    others = uow.session.scalars(
        select(getattr(model, rules.title_column)).where(
            model.team_id == actor.team_id, model.archived.is_(False), model.id != item_id
        )
    )
    return next((other for other in others if fold(other) == fold(title)), None)


def _link_problems(
    uow: UnitOfWork, actor: Actor, kind: ItemKind, links: tuple[int, ...]
) -> dict[str, str]:
    linked = RULES[kind].link
    if linked is None or not links:
        return {}
    model = RULES[linked].model
    current = set(
        uow.session.scalars(
            select(model.id).where(
                model.id.in_(links), model.team_id == actor.team_id, model.archived.is_(False)
            )
        )
    )
    if current != set(links):
        return {
            "links": f"One of those {RULES[linked].plural.lower()} was archived or removed; choose again."
        }
    return {}


def _set_links(uow: UnitOfWork, kind: ItemKind, item_id: int, links: tuple[int, ...]) -> None:
    mine, theirs = _link_columns(kind)
    uow.session.execute(delete(facilitator_services).where(mine == item_id))
    if links:
        uow.session.execute(
            insert(facilitator_services),
            [{mine.name: item_id, theirs.name: other} for other in set(links)],
        )


def _described(rules: KindRules[Any], row: Any, currency: str) -> str:
    return f"{_title(rules, row)} ({rules.summary(row, currency)})"


def add_item(uow: UnitOfWork, actor: Actor, kind: ItemKind, draft: ItemDraft) -> str:
    """Add the item of `draft`; its description, in words."""
    require_admin(actor)
    rules = RULES[kind]
    columns = _clean(uow, actor, kind, draft, 0)
    key = f"{kind.value.replace('_', '-')}-{secrets.token_hex(6)}"
    row = rules.model(team_id=actor.team_id, key=key, archived=False, **columns)
    uow.session.add(row)
    uow.session.flush()
    if rules.link:
        _set_links(uow, kind, row.id, draft.links)
    described = _described(rules, row, ensure_workspace(uow, actor.team_id).currency)
    audit_workspace(uow, actor.team_id, actor.user_id, f"{rules.noun} added", described)
    return _title(rules, row)


def edit_item(uow: UnitOfWork, actor: Actor, kind: ItemKind, item_id: int, draft: ItemDraft) -> str:
    """Change item `item_id` to `draft`; its title, or '' when nothing changed."""
    require_admin(actor)
    rules = RULES[kind]
    row = _found(uow, actor, kind, item_id)
    if row.archived:
        raise DomainError(f"{_title(rules, row)} is archived; restore it before changing it.")
    columns = _clean(uow, actor, kind, draft, item_id)
    currency = ensure_workspace(uow, actor.team_id).currency
    before = (_described(rules, row, currency), _links_of(uow, kind, item_id) if rules.link else ())
    for name, value in columns.items():
        setattr(row, name, value)
    if rules.link:
        _set_links(uow, kind, item_id, draft.links)
    uow.session.flush()
    after = (_described(rules, row, currency), _links_of(uow, kind, item_id) if rules.link else ())
    if before == after:
        return ""
    audit_workspace(
        uow,
        actor.team_id,
        actor.user_id,
        f"{rules.noun} changed",
        f"#{item_id}: {before[0]} → {after[0]}",
    )
    return _title(rules, row)


def archive_item(
    uow: UnitOfWork, actor: Actor, kind: ItemKind, item_id: int, *, archived: bool = True
) -> str:
    """Archive item `item_id` (or restore it): what uses it keeps it, nothing new can; its title."""
    require_admin(actor)
    rules = RULES[kind]
    row = _found(uow, actor, kind, item_id)
    title = _title(rules, row)
    if row.archived == archived:
        return title
    if not archived and _name_taken(uow, actor, rules, title, item_id):
        raise DomainError(
            f"There is already a current {rules.noun} called {title}; rename or archive it first."
        )
    row.archived = archived
    audit_workspace(
        uow,
        actor.team_id,
        actor.user_id,
        f"{rules.noun} {'archived' if archived else 'restored'}",
        f"#{item_id}: {title}",
    )
    return title
