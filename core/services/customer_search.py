"""Customer search and list pages that stay fast at a million customers, as the plain queries.

`matches` defines a match; the Finder reads the name index a short way, else the text indexes.
"""

from __future__ import annotations

import functools
import heapq
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from core.db import UnitOfWork
from core.models import Customer, CustomerStatus
from core.services.paging import MAX_PAGE_SIZE, Page, clamp, fetch_page
from core.text import digits, fold, like_pattern

# Exact totals up to this many matches; above it an estimate, shown as "about".
COUNT_CAP = 1000
# Index entries walked in name order before the text index is asked instead: dense matches
# are found within it, sparse or clustered ones ("zoe" lives under z) are left to the index.
WINDOW = 2000
# Rows fetched through a text index to sort them here; with more matches than that, reading
# on in name order finds the first ones sooner (each fetched row is a random table read)...
CANDIDATES = 500
# ...unless the first matches lie further on than this many index entries.
WALK = 50_000
# Customers looked at (by evenly spaced ids) to estimate a large filtered total on SQLite.
SAMPLE = 1000
GOLDEN = 0.6180339887498949
# Both text indexes need three characters (counting the space before a word) to narrow down.
TRIGRAM = 3

# Must match migration 0003's customer_search_text(): pg_trgm treats punctuation as a gap
# between words, so each mark becomes a letter no normalised name key or email contains.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
LETTERS = "".join(chr(0xF900 + n) for n in range(len(PUNCTUATION)))
_AS_LETTERS = str.maketrans(PUNCTUATION, LETTERS)

_customers = Customer.__table__
_fts = table("customer_search", column("rowid", Integer))
_counts = table("customer_counts", column("team_id"), column("status"), column("total", Integer))


@dataclass(frozen=True)
class Terms:
    """What a search text looks for in each column."""

    folded: str
    email: str
    numbers: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Terms | None:
        """The terms of `text`, or None when it holds nothing to search for."""
        folded = fold(text)
        if not folded:
            return None
        number = digits(text)
        numbers: tuple[str, ...] = ()
        # Phone-like input: at least 3 digits and little else besides separators.
        if len(number) >= 3 and len(number) * 2 >= len(folded.replace(" ", "")):
            numbers = (number,)
            if number.startswith("0") and len(number) > 3:
                # A national trunk prefix is not part of the E.164 form.
                numbers += (number[1:],)
        return cls(folded, text.strip().lower(), numbers)


@dataclass(frozen=True)
class Columns:
    """The searched columns of the customers table, or of a subquery over it."""

    name_key: ColumnElement[str]
    email: ColumnElement[str]
    mobile: ColumnElement[str]


TABLE = Columns(_customers.c.name_key, _customers.c.email, _customers.c.mobile)


def matches(terms: Terms, columns: Columns = TABLE) -> ColumnElement[bool]:
    """The definition of a match: the folded name, email or mobile contains what was typed."""
    conditions = [
        columns.name_key.like(like_pattern(terms.folded), escape="\\"),
        columns.email.like(like_pattern(terms.email), escape="\\"),
        *(columns.mobile.like(like_pattern(number), escape="\\") for number in terms.numbers),
    ]
    return or_(*conditions)


def _starting(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _name_starts(terms: Terms, columns: Columns = TABLE) -> ColumnElement[bool]:
    return columns.name_key.like(_starting(terms.folded), escape="\\")


def _later_word_starts(terms: Terms, columns: Columns = TABLE) -> ColumnElement[bool]:
    return columns.name_key.like("% " + _starting(terms.folded), escape="\\")


def _email_starts(terms: Terms, columns: Columns = TABLE) -> ColumnElement[bool]:
    return columns.email.like(_starting(terms.folded), escape="\\")


def rank(terms: Terms, columns: Columns = TABLE) -> ColumnElement[int]:
    """Search order: the exact name, then names with a word starting so, emails so, the rest."""
    return case(
        (columns.name_key == terms.folded, 0),
        (_name_starts(terms, columns), 1),
        (_later_word_starts(terms, columns), 1),
        (_email_starts(terms, columns), 2),
        else_=3,
    )


# --- the plain queries: the reference the finder must agree with ---------------------------


def _plain_filtered(
    team_id: str, status: CustomerStatus | None, terms: Terms | None
) -> Select[Any]:
    query = select(Customer).where(Customer.team_id == team_id)
    if status is not None:
        query = query.where(Customer.status == status)
    if terms is not None:
        query = query.where(matches(terms))
    return query


def plain_list(
    uow: UnitOfWork,
    team_id: str,
    status: CustomerStatus,
    text: str,
    *,
    descending: bool,
    page: int,
    page_size: int,
) -> Page[Customer]:
    """A list page by counting every match and skipping rows with OFFSET."""
    base = _plain_filtered(team_id, status, Terms.parse(text))
    if descending:
        ordered = base.order_by(Customer.name_key.desc(), Customer.id.desc())
    else:
        ordered = base.order_by(Customer.name_key.asc(), Customer.id.asc())
    rows, total, page, page_size = fetch_page(uow, ordered, page=page, page_size=page_size)
    return Page([row[0] for row in rows], total, page, page_size)


def plain_search(
    uow: UnitOfWork, team_id: str, text: str, status: CustomerStatus | None, limit: int
) -> list[Customer]:
    """Search results by ranking and sorting every match."""
    terms = Terms.parse(text)
    if terms is None:
        return []
    query = (
        _plain_filtered(team_id, status, terms)
        .order_by(rank(terms), Customer.name_key, Customer.id)
        .limit(min(max(1, limit), MAX_PAGE_SIZE))
    )
    return list(uow.session.scalars(query))


# --- the finder -----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Key:
    """A row's place in name order."""

    name_key: str
    id: int


@dataclass(frozen=True)
class _Condition:
    """A filter, and how each database's text index narrows down the rows to check it on."""

    plain: Callable[[Columns], ColumnElement[bool]]
    # PostgreSQL: the same filter written over the trigram-indexed expressions.
    trigram: ColumnElement[bool] | None
    # SQLite: an FTS5 query finding at least every row the filter keeps.
    fts: str | None
    # PostgreSQL: index lookups (migration 0005's B-tree ranges, holding the name keys, and
    # trigrams) that together find at least every row kept, each read on its own. Thousands
    # of rows in a range are found without reading the table.
    narrowings: tuple[ColumnElement[bool], ...] = ()


def _letters(text: str) -> str:
    return text.translate(_AS_LETTERS)


def _searchable(*texts: str) -> bool:
    return all(len(text) >= TRIGRAM and "\x00" not in text for text in texts)


def _phrase(column_name: str, text: str) -> str:
    return f'{column_name} : "{text.replace(chr(34), chr(34) * 2)}"'


def _indexed_text(expression: ColumnElement[str]) -> ColumnElement[str]:
    return func.customer_search_text(expression)


def _second_words(name_key: ColumnElement[str]) -> ColumnElement[str]:
    return func.customer_second_words(name_key, type_=String)


def _third_words(name_key: ColumnElement[str]) -> ColumnElement[str]:
    return func.customer_third_words(name_key, type_=String)


def prefix_range(expression: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`expression` starts with `prefix`, as a range an index on it can read (code point order)."""
    upper = _successor(prefix)
    if upper is None:
        return expression >= prefix
    return and_(expression >= prefix, expression < upper)


class _Conditions:
    """The filters of one search text, each with its index forms when the text allows them."""

    def __init__(self, terms: Terms, *, postgres: bool = False) -> None:
        self.terms = terms
        self.postgres = postgres

    def matching(self) -> _Condition:
        terms = self.terms
        trigram: ColumnElement[bool] | None = None
        fts: str | None = None
        if _searchable(terms.folded, terms.email, *terms.numbers):
            fts = " OR ".join(
                [
                    _phrase("name_key", terms.folded),
                    _phrase("email", terms.email),
                    *(_phrase("mobile", number) for number in terms.numbers),
                ]
            )
            # Typed text holding one of the stand-in letters can't be told from punctuation.
            if not any(letter in terms.email for letter in LETTERS):
                trigram = or_(
                    _indexed_text(_customers.c.name_key).like(f"%{_letters(terms.folded)}%"),
                    _indexed_text(_customers.c.email).like(f"%{_letters(terms.email)}%"),
                    *(_customers.c.mobile.like(f"%{number}%") for number in terms.numbers),
                )
        return _Condition(lambda columns: matches(terms, columns), trigram, fts)

    def later_word(self) -> _Condition:
        terms = self.terms
        word = " " + terms.folded

        def plain(columns: Columns) -> ColumnElement[bool]:
            return _later_word_starts(terms, columns)

        if not _searchable(word):
            return _Condition(plain, None, None)
        if self.postgres:
            name_key = _customers.c.name_key
            third = _third_words(name_key)
            second_word = prefix_range(_second_words(name_key), terms.folded)
            later = and_(
                third.is_not(None), _indexed_text(third).like(f"% {_letters(terms.folded)}%")
            )
            return _Condition(plain, None, None, narrowings=(second_word, later))
        # FTS5's name_tail runs from the first space on, so a first name equal to the text is
        # not a candidate.
        return _Condition(plain, None, _phrase("name_tail", word))

    def email_start(self) -> _Condition:
        terms = self.terms
        matching = self.matching()

        def plain(columns: Columns) -> ColumnElement[bool]:
            return and_(_email_starts(terms, columns), matches(terms, columns))

        if not _searchable(" " + terms.folded):
            return _Condition(plain, None, None)
        if self.postgres:
            email: ColumnElement[str] = _customers.c.email.collate("C")
            return _Condition(plain, None, None, narrowings=(prefix_range(email, terms.folded),))
        if matching.trigram is None:
            return _Condition(plain, None, None)
        return _Condition(
            plain,
            and_(
                _indexed_text(_customers.c.email).like(f"{_letters(terms.folded)}%"),
                matching.trigram,
            ),
            # The FTS email column starts with a space, so this finds addresses starting so.
            _phrase("email", " " + terms.folded),
        )


def _successor(prefix: str) -> str | None:
    """The least string above every string starting with `prefix` (code point order)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:
            last = 0xE000  # surrogates can't be stored
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def about(count: float) -> int:
    """A count rounded to two significant digits, as an estimate is shown."""
    if count < 100:
        return round(count)
    scale = 10 ** (int(math.log10(count)) - 1)
    return int(round(count / scale) * scale)


class Finder:
    """Searches and pages one workspace's customers through the indexes of migration 0003."""

    # The plain queries check `matches` on every row of the workspace. The finder returns
    # the same rows in the same order, but checks it only on the rows that could match:
    # the next WINDOW entries of the listing index in name order, or the rows the text
    # indexes (pg_trgm on PostgreSQL, FTS5 trigrams on SQLite) point at.

    def __init__(
        self,
        uow: UnitOfWork,
        team_id: str,
        *,
        window: int = WINDOW,
        candidates: int = CANDIDATES,
        cap: int = COUNT_CAP,
        walk: int = WALK,
    ) -> None:
        self.session = uow.session
        self.postgres = uow.session.get_bind().dialect.name == "postgresql"
        self.team_id = team_id
        self.window = max(1, window)
        self.candidates = candidates
        self.cap = cap
        self.walk = walk
        # Customers the head read whole, by id: the page's rows, then, need no statement.
        self._read: dict[int, Customer] = {}

    # -- the building blocks: ordered keys of one status ---------------------------------

    def _where(
        self, status: CustomerStatus, descending: bool, after: Key | None, *, by_id: bool = False
    ) -> list[ColumnElement[bool]]:
        team_id: ColumnElement[str] = _customers.c.team_id
        status_column: ColumnElement[str] = _customers.c.status
        if by_id and not self.postgres:
            # The rows are reached by id from elsewhere (the FTS table, sampled ids). Without
            # statistics SQLite would rather walk the listing index and look each row up
            # there; a unary + keeps these terms from choosing that index.
            team_id, status_column = _unindexed(team_id), _unindexed(status_column)
        where = [team_id == self.team_id, status_column == status]
        if after is not None:
            position = tuple_(_customers.c.name_key, _customers.c.id)
            bound = tuple_(literal(after.name_key), literal(after.id))
            where.append(position < bound if descending else position > bound)
        return where

    @staticmethod
    def _order(descending: bool) -> list[ColumnElement[Any]]:
        return _ordered(_customers.c.name_key, _customers.c.id, descending)

    def _keys(self, query: Select[Any]) -> list[Key]:
        return [Key(name_key, row_id) for row_id, name_key in self.session.execute(query)]

    def _walk(
        self,
        status: CustomerStatus,
        condition: ColumnElement[bool] | None,
        count: int,
        *,
        offset: int = 0,
        descending: bool = False,
        after: Key | None = None,
    ) -> list[Key]:
        """Matches `offset` to `offset + count` in name order, reading the listing index."""
        where = self._where(status, descending, after)
        if condition is not None:
            where.append(condition)
        query = (
            select(_customers.c.id, _customers.c.name_key)
            .where(*where)
            .order_by(*self._order(descending))
            .offset(offset)
            .limit(count)
        )
        return self._keys(query)

    def first(
        self,
        status: CustomerStatus,
        condition: _Condition | None,
        count: int,
        *,
        offset: int = 0,
        descending: bool = False,
        after: Key | None = None,
    ) -> list[Key]:
        """Rows `offset` to `offset + count` in name order (after `after`) that `condition` keeps."""
        if condition is None:
            return self._walk(
                status, None, count, offset=offset, descending=descending, after=after
            )
        where = self._where(status, descending, after)
        order = self._order(descending)
        # First the window: the next rows of the name index, checked one by one. The same
        # statement reads the row the window ends at, to tell whether it held every row.
        reach = self.window + offset
        window = (
            select(_customers.c.id, _customers.c.name_key, _customers.c.email, _customers.c.mobile)
            .where(*where)
            .order_by(*order)
            .limit(reach)
            .subquery()
        )
        inside = Columns(window.c.name_key, window.c.email, window.c.mobile)
        hits = (
            select(window.c.id, window.c.name_key, literal(False).label("edge"))
            .where(condition.plain(inside))
            .order_by(*_ordered(window.c.name_key, window.c.id, descending))
            .offset(offset)
            .limit(count)
            .subquery()
        )
        last = (
            select(_customers.c.id, _customers.c.name_key, literal(True).label("edge"))
            .where(*where)
            .order_by(*order)
            .offset(reach - 1)
            .limit(1)
            .subquery()
        )
        rows = self.session.execute(select(hits).union_all(select(last))).all()
        found = sorted(
            (Key(row.name_key, row.id) for row in rows if not row.edge), reverse=descending
        )
        edge = next((Key(row.name_key, row.id) for row in rows if row.edge), None)
        if len(found) == count or edge is None:
            return found  # enough, or the window held every row there is
        limit = self.candidates + 1
        sample = self._candidates(status, condition, limit, descending=descending, after=after)
        if sample is not None and len(sample) < limit:
            # All of them (a row two lookups found is counted once only now).
            return sorted(set(sample), reverse=descending)[offset : offset + count]
        if sample is not None:
            # Plenty, read in table order, so spread over the names: the page ends by the
            # sample's own page end. Read on in name order if that is near; if far (the
            # matches crowd into some other part of the list), have the indexes sort them.
            sample = sorted(set(sample), reverse=descending)
            if offset + count <= len(sample):
                end = sample[offset + count - 1]
                far = self._span(status, descending, edge, end) > self.walk
                leading = (
                    self._candidates(
                        status,
                        condition,
                        offset + count,
                        descending=descending,
                        after=after,
                        leading=True,
                    )
                    if far
                    else None
                )
                if leading is not None:
                    return leading[offset:]
        plain = condition.plain(TABLE)
        if offset:
            # How many matches the window held before the page is unknown: read it all.
            return self._walk(
                status, plain, count, offset=offset, descending=descending, after=after
            )
        # Read on from where the window ended.
        rest = self._walk(
            status,
            plain,
            count - len(found),
            descending=descending,
            after=edge,
        )
        return found + rest

    def _candidates(
        self,
        status: CustomerStatus,
        condition: _Condition,
        limit: int | None,
        *,
        descending: bool = False,
        after: Key | None = None,
        leading: bool = False,
    ) -> list[Key] | None:
        """Up to `limit` rows (after `after`) that `condition` keeps, found through an index, in
        table order (or the first ones in name order); None when no index narrows them down.

        Unordered, a row several lookups find may be repeated."""
        query = self._candidate_query(
            status, condition, limit, descending=descending, after=after, leading=leading
        )
        return None if query is None else self._keys(query)

    def _candidate_query(
        self,
        status: CustomerStatus,
        condition: _Condition,
        limit: int | None,
        *,
        descending: bool = False,
        after: Key | None = None,
        leading: bool = False,
    ) -> Select[Any] | None:
        """The statement `_candidates` reads (id, name key), or None."""
        where = self._where(status, descending, after, by_id=True)
        trigram = (condition.trigram,) if condition.trigram is not None else ()
        narrowings = condition.narrowings or trigram
        if self.postgres and narrowings:
            parts = [
                select(_customers.c.id, _customers.c.name_key).where(
                    *where, narrowing, condition.plain(TABLE)
                )
                for narrowing in narrowings
            ]
            if len(parts) > 1 and leading and limit is not None:
                # Each lookup's first rows by name, sorted apart: a bounded sort each, instead
                # of one over every row found. Materialised, so each is read through its own
                # index, not by walking the name index until enough rows pass.
                parts = [
                    select(found.c.id, found.c.name_key)
                    .order_by(*_ordered(found.c.name_key, found.c.id, descending))
                    .limit(limit)
                    for found in (
                        part.cte(f"lookup{n}").prefix_with("MATERIALIZED")
                        for n, part in enumerate(parts)
                    )
                ]
            # A row two lookups find is one candidate. Unsorted, the parts are read in turn and
            # only as far as the LIMIT, so a row may come twice: the limit counts rows read.
            lookups = parts[0] if len(parts) == 1 else (union if leading else union_all)(*parts)
            # Materialised, so the planner gathers them through the indexes of the lookups
            # instead of walking the name index; a CTE is read lazily, so the LIMIT stops it
            # early too.
            gathered = lookups.cte("candidates").prefix_with("MATERIALIZED")
            query = select(gathered.c.id, gathered.c.name_key)
        elif not self.postgres and condition.fts is not None:
            query = (
                select(_customers.c.id, _customers.c.name_key)
                .select_from(_fts.join(_customers, _customers.c.id == _fts.c.rowid))
                .where(_fts_match(condition.fts), *where, condition.plain(TABLE))
            )
        else:
            return None
        if leading:
            columns = query.selected_columns
            query = query.order_by(*_ordered(columns[1], columns[0], descending))
        return query.limit(limit)

    def _span(self, status: CustomerStatus, descending: bool, start: Key, end: Key) -> float:
        """About how many index entries lie between `start` and `end` (up to the walk + 1)."""
        low, high = sorted([start.name_key, end.name_key])
        where = [*self._where(status, descending, None)]
        where += [_customers.c.name_key >= low, _customers.c.name_key <= high]
        if self.postgres:
            return self._planned_rows(select(literal(1)).where(*where))
        inner = select(literal(1)).where(*where).limit(self.walk + 1).subquery()
        return self.session.scalar(select(func.count()).select_from(inner)) or 0

    def _planned_rows(self, query: Select[Any]) -> float:
        """PostgreSQL's estimate of how many rows `query` returns."""
        compiled = query.compile(self.session.get_bind())
        plan = self.session.connection().exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        )
        return _plan_rows(plan.scalar())

    def _starting(self, status: CustomerStatus, terms: Terms, count: int) -> list[Key]:
        """Names starting with the text, read as one range of the listing index."""
        name_key = _customers.c.name_key
        where = [name_key >= terms.folded, _name_starts(terms)]
        upper = _successor(terms.folded)
        if upper is not None:
            where.append(name_key < upper)
        return self._walk(status, and_(*where), count)

    # -- search --------------------------------------------------------------------------

    def search(self, text: str, statuses: Sequence[CustomerStatus], limit: int) -> list[Customer]:
        """As plain_search: by rank (exact name, word start, email start, rest), then name."""
        terms = Terms.parse(text)
        if terms is None:
            return []
        limit = min(max(1, limit), MAX_PAGE_SIZE)
        conditions = _Conditions(terms, postgres=self.postgres)

        def each(fetch: Callable[[CustomerStatus], list[Key]]) -> list[Key]:
            return list(heapq.merge(*(fetch(status) for status in statuses)))

        def first(condition: _Condition, count: int) -> list[Key]:
            return each(lambda status: self.first(status, condition, count))

        found: list[Key] = []
        taken: set[int] = set()

        def take(keys: Iterable[Key]) -> None:
            for key in keys:
                if len(found) < limit and key.id not in taken:
                    found.append(key)
                    taken.add(key.id)

        # Names starting with the text begin with the name equal to it (rank 0): twice the
        # limit of them holds every such name or enough names starting so.
        starting = each(lambda status: self._starting(status, terms, 2 * limit))
        take(key for key in starting if key.name_key == terms.folded)
        # Each later tier asks for as many rows as could be dropped as already found, so a
        # short answer means the tier is complete and the next one may follow it.
        wanted = limit + len(found)
        take(heapq.merge(starting, first(conditions.later_word(), wanted)))
        for condition in (conditions.email_start(), conditions.matching()):
            if len(found) >= limit:
                break
            take(first(condition, limit + len(found)))
        return self._load(found)

    def _load(self, keys: Sequence[Key]) -> list[Customer]:
        if not keys:
            return []
        if all(key.id in self._read for key in keys):
            return [self._read[key.id] for key in keys]
        rows = {
            customer.id: customer
            for customer in self.session.scalars(
                select(Customer).where(Customer.id.in_([key.id for key in keys]))
            )
        }
        return [rows[key.id] for key in keys]

    # -- list pages ----------------------------------------------------------------------

    def _indexed(self, condition: _Condition | None) -> bool:
        """Whether an index finds the rows `condition` keeps (see `_candidate_query`)."""
        if condition is None:
            return False
        if self.postgres:
            return bool(condition.narrowings) or condition.trigram is not None
        return condition.fts is not None

    def _head(
        self,
        status: CustomerStatus,
        condition: _Condition | None,
        reach: int,
        *,
        descending: bool,
        in_order: bool,
        whole: bool = False,
    ) -> tuple[int, list[Key] | None]:
        """How many rows `condition` keeps, counted up to the cap + 1, and the first `reach` of
        them in name order; those are None when the count passed the cap and the rows were
        not read in name order (then they are not the first ones). One statement, which with
        `whole` reads those customers too, for `_load`.

        Without an index, `in_order` reads the rows in name order (best when matches are
        dense: the first ones come soon), else in table order (sparse: no index lookups)."""
        limit = self.cap + 1
        query = self._candidate_query(status, condition, limit) if condition is not None else None
        ordered = query is None and in_order
        if query is None:
            # On PostgreSQL materialised below, so planned as the walk asked for.
            where = self._where(status, descending, None)
            if condition is not None:
                where.append(condition.plain(TABLE))
            order = self._order(descending) if ordered else []
            query = (
                select(_customers.c.id, _customers.c.name_key)
                .where(*where)
                .order_by(*order)
                .limit(limit)
            )
        # Gathered once, then counted and sorted in the database: no row beyond the page
        # comes into Python.
        hits = query.cte("hits").prefix_with("MATERIALIZED")
        first = (
            select(hits.c.id, hits.c.name_key)
            .order_by(*_ordered(hits.c.name_key, hits.c.id, descending))
            .limit(reach)
            .subquery("first")
        )
        counted = select(func.count()).select_from(hits).scalar_subquery()
        columns: list[Any] = [counted, first.c.id, first.c.name_key]
        head = select(*columns).order_by(*_ordered(first.c.name_key, first.c.id, descending))
        if whole:
            head = head.add_columns(Customer).join(Customer, Customer.id == first.c.id)
        rows = self.session.execute(head).all()
        total = int(rows[0][0]) if rows else 0
        keys = [Key(row.name_key, row.id) for row in rows]
        if whole:
            self._read = {row.id: row.Customer for row in rows}
        return total, keys if ordered or total < limit else None

    def _status_total(self, status: CustomerStatus) -> int:
        """SQLite's trigger-kept number of customers with `status`."""
        total = self.session.scalar(
            select(_counts.c.total).where(
                _counts.c.team_id == self.team_id, _counts.c.status == status.value
            )
        )
        return int(total or 0)

    def _estimate(self, status: CustomerStatus, condition: _Condition | None) -> float:
        """A guess at the number of matches, for totals beyond the cap."""
        if self.postgres:
            where = self._where(status, False, None)
            if condition is not None:
                # The trigram form alone: the planner has statistics on those expressions.
                where.append(
                    condition.trigram if condition.trigram is not None else condition.plain(TABLE)
                )
            return self._planned_rows(select(literal(1)).where(*where))
        total = self._status_total(status)
        if condition is None:
            return total
        return total * self._sampled_share(status, condition)

    def _sampled_share(self, status: CustomerStatus, condition: _Condition) -> float:
        """The share of the status's customers matching, among ids spread over the table."""
        # Two scalar subqueries: SQLite reads min() and max() off the ends of the key only
        # when each is alone in its query.
        low, high = self.session.execute(
            select(
                select(func.min(_customers.c.id)).scalar_subquery(),
                select(func.max(_customers.c.id)).scalar_subquery(),
            )
        ).one()
        if low is None:
            return 0.0
        # One JSON parameter, not a thousand: the statement is compiled once, not per keystroke.
        ids: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(_sample_ids(low, high))
        )
        seen, hits = self.session.execute(
            select(func.count(), func.sum(case((condition.plain(TABLE), 1), else_=0))).where(
                _customers.c.id.in_(ids), *self._where(status, False, None, by_id=True)
            )
        ).one()
        return (hits or 0) / seen if seen else 1.0

    def _key_of(self, uid: str) -> Key | None:
        row = self.session.execute(
            select(_customers.c.id, _customers.c.name_key).where(
                _customers.c.team_id == self.team_id, _customers.c.uid == uid
            )
        ).first()
        return Key(row.name_key, row.id) if row is not None else None

    def page(
        self,
        status: CustomerStatus,
        text: str,
        *,
        descending: bool,
        page: int,
        page_size: int,
        after_uid: str | None = None,
        before_uid: str | None = None,
    ) -> Page[Customer]:
        """As plain_list, but counted only up to the cap and reached by keyset when it can."""
        page, page_size = clamp(page, page_size)
        terms = Terms.parse(text)
        condition = (
            _Conditions(terms, postgres=self.postgres).matching() if terms is not None else None
        )
        # The rows up to the end of the page asked for, and one more; by keyset (Next, Previous)
        # every match there is, when few, so the page is found among them as by number.
        keyset = bool(after_uid or before_uid)
        reach = self.cap + 1 if keyset else min(page * page_size + 1, self.cap + 1)
        head: list[Key] | None = None
        if condition is None and not self.postgres:
            total, estimated = self._status_total(status), False
        else:
            guess = None if self._indexed(condition) else self._estimate(status, condition)
            in_order = guess is not None and guess > self.cap
            # A first page's rows come whole with the head; further ones are read by key.
            total, head = self._head(
                status,
                condition,
                reach,
                descending=descending,
                in_order=in_order,
                whole=reach <= page_size + 1,
            )
            estimated = total > self.cap
            if estimated:
                if guess is None:
                    guess = self._estimate(status, condition)
                total = about(max(guess, total))
        # Every match, in name order, when the head holds them all.
        every = None
        if not estimated and head is not None and len(head) == total:
            every = head[::-1] if descending else head

        def take(
            count: int, offset: int = 0, after: Key | None = None, back: bool = False
        ) -> list[Key]:
            reverse = descending != back
            if every is not None:
                ordered = every[::-1] if reverse else every
                if after is not None:
                    ordered = [key for key in ordered if (key < after if reverse else key > after)]
                return ordered[offset : offset + count]
            return self.first(
                status, condition, count, offset=offset, descending=reverse, after=after
            )

        # One row more than the page shows whether another page follows it.
        keys: list[Key] | None = None
        more = True
        key = self._key_of(after_uid or before_uid or "") if after_uid or before_uid else None
        if key is not None and after_uid:
            following = take(page_size + 1, after=key)
            if following:
                keys, more = following[:page_size], len(following) > page_size
        elif key is not None:
            # Previous: read backwards from the first row of the page after this one.
            before = take(page_size, after=key, back=True)
            if len(before) == page_size:
                keys = before[::-1]
            else:
                page = 1  # less than a page before it: show the first page
        if keys is None:
            if not estimated:
                page = min(page, _pages(total, page_size))
            offset = (page - 1) * page_size
            if every is None and head is not None and offset + page_size < len(head):
                found = head[offset : offset + page_size + 1]  # the first rows of many
            else:
                found = take(page_size + 1, offset=offset)
            if not found and page > 1 and estimated:
                # Past the end of an estimated list: count the matches after all.
                total, estimated = self._exact_count(status, condition), False
                page = min(page, _pages(total, page_size))
                found = take(page_size + 1, offset=(page - 1) * page_size)
            keys, more = found[:page_size], len(found) > page_size
        if estimated:
            shown = (page - 1) * page_size + len(keys)
            # Past the last page the count is exact; before it, Next must stay.
            total, estimated = (max(total, shown + 1), True) if more else (shown, False)
        return Page(self._load(keys), total, page, page_size, estimated)

    def _exact_count(self, status: CustomerStatus, condition: _Condition | None) -> int:
        where = self._where(status, False, None)
        if condition is not None:
            where.append(condition.plain(TABLE))
        return self.session.scalar(select(func.count()).select_from(_customers).where(*where)) or 0


@functools.lru_cache(maxsize=64)
def _sample_ids(low: int, high: int) -> str:
    """Ids at the golden-ratio points of low..high as a JSON list: spread evenly, yet in step
    with no period the rows may have (evenly stepped ids could all land on every 40th row)."""
    span = high - low + 1
    return json.dumps(sorted({low + int((n * GOLDEN) % 1.0 * span) for n in range(1, SAMPLE + 1)}))


def _ordered(
    name_key: ColumnElement[str], row_id: ColumnElement[int], descending: bool
) -> list[ColumnElement[Any]]:
    if descending:
        return [name_key.desc(), row_id.desc()]
    return [name_key.asc(), row_id.asc()]


def _unindexed(column: ColumnElement[str]) -> ColumnElement[str]:
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _pages(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))


def _fts_match(query: str) -> ColumnElement[bool]:
    return literal_column("customer_search").op("MATCH")(literal(query))


def _plan_rows(plan: Any) -> float:
    """The planner's row estimate from EXPLAIN (FORMAT JSON) output."""
    data = json.loads(plan) if isinstance(plan, str) else plan
    return float(data[0]["Plan"]["Plan Rows"])
