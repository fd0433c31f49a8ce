"""One page of any listing, with what a pager needs; the database does the paging."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from core.db import UnitOfWork
from core.text import fold

MAX_PAGE_SIZE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of page `page` (1-based) out of `total`."""

    rows: list[T]
    total: int
    page: int
    page_size: int
    # True when `total` is an estimate (a large filtered list): show it as "about".
    estimated: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty list is 'page 1 of 1')."""
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first_index(self) -> int:
        """1-based position of the first row shown (0 when empty)."""
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        """1-based position of the last row shown (0 when empty)."""
        return self.first_index + len(self.rows) - 1 if self.rows else 0


def clamp(page: int, page_size: int) -> tuple[int, int]:
    """A page number of at least 1 and a size between 1 and MAX_PAGE_SIZE."""
    return max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)


def fetch_page(
    uow: UnitOfWork, query: Select[*tuple[Any, ...]], *, page: int, page_size: int
) -> tuple[list[Any], int, int, int]:
    """Count `query`, clamp the page to what exists, and fetch that page's rows (ordered by the
    caller), as tuples; one statement unless the page asked for lies past the end."""
    page, page_size = clamp(page, page_size)
    # The count rides along as a last column: a scalar subquery the database runs once.
    counted = select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()
    found = uow.session.execute(
        query.add_columns(counted).limit(page_size).offset((page - 1) * page_size)
    ).all()
    if found or page == 1:
        total = found[0][-1] if found else 0
        return [tuple(row)[:-1] for row in found], total, page, page_size
    total = uow.session.scalar(select(counted)) or 0
    page = min(page, max(1, math.ceil(total / page_size)))
    rows = uow.session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    return [tuple(row) for row in rows], total, page, page_size


def fetch_matching_page(
    uow: UnitOfWork, query: Select[int, str], text: str, *, page: int, page_size: int
) -> tuple[list[int], int, int, int]:
    """Page the ids of `query`'s (id, text) rows whose text contains `text` or whose id it is.

    Folded case and accents, which SQL can't do alike on both databases: for one customer's rows."""
    page, page_size = clamp(page, page_size)
    wanted = fold(text)
    digits = wanted.removeprefix("#")
    wanted_id = int(digits) if digits.isascii() and digits.isdigit() else None
    ids = [
        row_id
        for row_id, haystack in uow.session.execute(query)
        if row_id == wanted_id or wanted in fold(haystack)
    ]
    total = len(ids)
    page = min(page, max(1, math.ceil(total / page_size)))
    start = (page - 1) * page_size
    return ids[start : start + page_size], total, page, page_size
