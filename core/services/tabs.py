"""What the customer-details tabs share: finding the customer and reading a tab's search box."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
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
from core.models import Customer
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
