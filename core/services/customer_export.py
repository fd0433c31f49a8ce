"""The workspace's customers as a CSV file, in the canonical columns the importer reads; admin only.

Selection as in the hub: a status (or both) and the hub's search text (`customer_search.matches`).
Rows are read in keyset pages, so a hundred thousand customers never sit in memory as objects.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Select, literal, select, tuple_

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Forbidden
from core.formatting import counted
from core.models import Customer, CustomerStatus
from core.services.customer_columns import guard
from core.services.customer_search import Terms, matches
from core.services.tags import join_tags, tags_of
from core.services.workspaces import audit_workspace

log = logging.getLogger(__name__)

# The file's header, in this order; the importer reads exactly these.
CSV_COLUMNS = (
    "uid",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "status",
    "created_at",
    "date_of_birth",
    "tags",
    "marketing_consent",
    "consent_at",
)
# Rows read per query: big enough that the per-query cost vanishes, small enough to stream.
PAGE = 1000

GUARDED_COLUMNS = frozenset({"first_name", "last_name", "email", "tags"})
_GUARDED_INDEXES = tuple(CSV_COLUMNS.index(name) for name in sorted(GUARDED_COLUMNS))


@dataclass(frozen=True)
class CustomersCsv:
    """An export held in memory (for an upload): the file's text and how many customers it has."""

    text: str
    count: int


def _statuses(status: CustomerStatus | None) -> Sequence[CustomerStatus]:
    # "All" is the Active list, then the Archived one: each walks its part of the listing index
    # in name order, where one list of both would sort the whole workspace for every page.
    return list(CustomerStatus) if status is None else [status]


def _line(row: Any, tags: list[str]) -> list[str]:
    line = [
        row.uid,
        row.first_name,
        row.last_name,
        row.email,
        row.mobile,
        row.status.value,
        row.created_at.isoformat(timespec="seconds"),
        row.date_of_birth.isoformat() if row.date_of_birth is not None else "",
        join_tags(tags),
        row.marketing_consent.value,
        row.consent_at.isoformat(timespec="seconds") if row.consent_at is not None else "",
    ]
    for index in _GUARDED_INDEXES:
        line[index] = guard(line[index])
    return line


def customer_lines(
    uow: UnitOfWork,
    team_id: str,
    *,
    status: CustomerStatus | None,
    text: str = "",
    within: Select[Any] | None = None,
) -> Iterator[list[str]]:
    """The CSV lines (without the header) of a workspace's customers, A→Z by name per status;
    records merged into another are left out (the kept record is the person). `within` selects
    the ids of the only customers to include (a segment's)."""
    terms = Terms.parse(text)
    columns = (
        Customer.id,
        Customer.name_key,
        Customer.uid,
        Customer.first_name,
        Customer.last_name,
        Customer.email,
        Customer.mobile,
        Customer.status,
        Customer.created_at,
        Customer.date_of_birth,
        Customer.marketing_consent,
        Customer.consent_at,
    )
    for current in _statuses(status):
        query = select(*columns).where(
            Customer.team_id == team_id,
            Customer.status == current,
            Customer.merged_into_id.is_(None),
        )
        if terms is not None:
            query = query.where(matches(terms))
        if within is not None:
            query = query.where(Customer.id.in_(within))
        after: tuple[str, int] | None = None
        while True:
            page = query
            if after is not None:
                position = tuple_(Customer.name_key, Customer.id)
                page = page.where(position > tuple_(literal(after[0]), literal(after[1])))
            rows = uow.session.execute(
                page.order_by(Customer.name_key, Customer.id).limit(PAGE)
            ).all()
            tags = tags_of(uow, [row.id for row in rows])
            for row in rows:
                yield _line(row, tags.get(row.id, []))
            if len(rows) < PAGE:
                break
            after = (rows[-1].name_key, rows[-1].id)


def write_customers_csv(
    uow: UnitOfWork,
    actor: Actor,
    out: TextIO,
    *,
    status: CustomerStatus | None = CustomerStatus.ACTIVE,
    text: str = "",
    within: Select[Any] | None = None,
) -> int:
    """Write the actor's customers (of `status`, or all when None) matching `text` to `out`:
    UTF-8 text, header first, RFC 4180 quoting; return how many customers were written.

    `out` should be opened with newline="" (the csv module writes its own CRLF line ends)."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can export the customer list.")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for line in customer_lines(uow, actor.team_id, status=status, text=text, within=within):
        writer.writerow(line)
        count += 1
    # Counts only: the log must not become a second copy of the list.
    log.info(
        "customers of %s exported by %s: %d (%s, %s)",
        actor.team_id,
        actor.user_id,
        count,
        status.value if status is not None else "all",
        "searched" if text.strip() else "no search",
    )
    return count


def customers_csv(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: CustomerStatus | None = CustomerStatus.ACTIVE,
    text: str = "",
    within: Select[Any] | None = None,
) -> CustomersCsv:
    """The same export held in memory, for sending as a file."""
    buffer = io.StringIO(newline="")
    count = write_customers_csv(uow, actor, buffer, status=status, text=text, within=within)
    return CustomersCsv(buffer.getvalue(), count)


LIST_EXPORTED = "customer list exported"


def record_list_export(
    uow: UnitOfWork,
    actor: Actor,
    count: int,
    status: CustomerStatus | None,
    text: str,
    *,
    within: str = "",
) -> None:
    """The workspace's audit log notes who took the customer list out, and which part of it
    (`within`: what else chose its customers, such as "a segment")."""
    which = "active and archived" if status is None else status.value
    searched = f", search {text.strip()!r}" if text.strip() else ""
    searched += f", {within}" if within else ""
    audit_workspace(
        uow,
        actor.team_id,
        actor.user_id,
        LIST_EXPORTED,
        f"{counted(count, 'customer', 'customers')} ({which}{searched})",
    )
