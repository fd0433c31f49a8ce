"""What the customer-details tabs share: finding the customer, reading the search box, paging."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    false,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import NotFound
from core.models import Customer, HistoryEntry, Note, QuestionnaireResponse
from core.services.paging import fetch_matching_page, fetch_page
from core.text import fold

# "#12" asks for row 12 only; a bare "12" may also be part of a name ("10-class pass").
_ID_QUERY = re.compile(r"(#)?\s*(\d{1,18})")


@dataclass(frozen=True)
class NamedCatalog:
    """A small catalog table whose names a tab's search box matches."""

    id: InstrumentedAttribute[int]
    name: InstrumentedAttribute[str]
    team_id: InstrumentedAttribute[str]


@dataclass(frozen=True)
class TabScope:
    """The customer a tab lists, and what its search box selects (nothing typed: everything)."""

    customer_id: int
    searching: bool
    row_id: int | None
    # Per catalog given to `tab_scope`, the ids whose names match every typed word.
    matching_ids: list[list[int]]

    def condition(self, row_id: Any, catalog_ids: Sequence[Any]) -> ColumnElement[bool]:
        """The rows the search box selects: the row id named, or a catalog row whose name matched."""
        if not self.searching:
            return true()
        found: list[ColumnElement[bool]] = []
        if self.row_id is not None:
            found.append(row_id == self.row_id)
        for column, ids in zip(catalog_ids, self.matching_ids, strict=True):
            if ids:
                found.append(column.in_(ids))
        return or_(*found) if found else false()


def _words_and_id(query: str) -> tuple[list[str], int | None]:
    text = query.strip()
    match = _ID_QUERY.fullmatch(text)
    if match is None:
        return fold(text).split(), None
    row_id = int(match.group(2))
    return ([] if match.group(1) else [match.group(2)]), row_id


def tab_scope(
    uow: UnitOfWork, actor: Actor, uid: str, query: str, catalogs: Sequence[NamedCatalog]
) -> TabScope:
    """The actor's customer `uid` (NotFound otherwise) and the catalog rows `query` names.

    One statement: the customer lookup and the (small) catalogs' names come back together.
    """
    words, row_id = _words_and_id(query)
    parts: list[Select[Any, Any, Any]] = [
        select(
            literal_column("-1").label("kind"), Customer.id.label("id"), null().label("name")
        ).where(Customer.team_id == actor.team_id, Customer.uid == uid)
    ]
    if words:
        parts.extend(
            select(literal_column(str(kind)), catalog.id, catalog.name).where(
                catalog.team_id == actor.team_id
            )
            for kind, catalog in enumerate(catalogs)
        )
    customer_id: int | None = None
    matching: list[list[int]] = [[] for _ in catalogs]
    # Names are folded here, not in SQL: neither database strips accents on its own.
    for kind, row_key, name in uow.session.execute(union_all(*parts)).all():
        if kind < 0:
            customer_id = row_key
        elif all(word in fold(name) for word in words):
            matching[kind].append(row_key)
    if customer_id is None:
        raise NotFound(f"No customer with UID {uid} exists; they may have been deleted.")
    searching = bool(words) or row_id is not None
    return TabScope(customer_id, searching, row_id, matching)


# The tabs whose search box matches a text column of their own rows, each with its customer_id.
Listed = TypeVar("Listed", Note, QuestionnaireResponse, HistoryEntry)


def fetch_customer_page(
    uow: UnitOfWork,
    model: type[Listed],
    customer_id: int,
    searched: SQLColumnExpression[str],
    query: str,
    *,
    page: int,
    page_size: int,
) -> tuple[list[Listed], int, int, int]:
    """A page of the customer's `model` rows, newest first, as fetch_page counts and clamps it.

    A non-blank `query` keeps the rows whose `searched` text holds it or whose id it names."""
    mine = model.customer_id == customer_id
    newest_first = (model.created_at.desc(), model.id.desc())
    if not query.strip():
        listing = select(model).where(mine).order_by(*newest_first)
        rows, total, page, page_size = fetch_page(uow, listing, page=page, page_size=page_size)
        return [row[0] for row in rows], total, page, page_size
    candidates = select(model.id, searched).where(mine).order_by(*newest_first)
    ids, total, page, page_size = fetch_matching_page(
        uow, candidates, query, page=page, page_size=page_size
    )
    by_id = {row.id: row for row in uow.session.scalars(select(model).where(model.id.in_(ids)))}
    return [by_id[i] for i in ids], total, page, page_size
