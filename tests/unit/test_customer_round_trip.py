"""Export → import into an empty workspace of another deployment gives back every customer
exactly: the file the export writes is the file the importer reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db import Database
from core.models import Customer, Role
from core.services.customer_columns import guess_mapping, read_csv
from core.services.customer_export import write_customers_csv
from core.services.customer_import import Outcome, import_rows
from core.services.customers import CustomerInput, archive_customer, create_customer
from tests.conftest import MutableClock, make_settings

FIELDS = ("uid", "first_name", "last_name", "email", "mobile", "status", "created_at")
PEOPLE = [
    ("Zoë", "Ørsted", "zoe@example.com", "+44 7700 900123"),
    # Names a spreadsheet would run as formulas, and quoting the CSV must survive.
    ("=HYPERLINK(1)", "Smith, Jr", "eq@example.com", "+1 212 555 0100"),
    ("-Ann", 'Lee "Annie"', "ann@example.com", "07700 900456"),
    ("'+Bob", "O'Neil", "bob@example.com", "07700 900789"),
]


@pytest.fixture
def empty(tmp_path: Path, clock: MutableClock) -> Iterator[Database]:
    """Another deployment's database: no customers, no UIDs taken."""
    other = Database(make_settings(f"sqlite:///{tmp_path / 'moved.db'}"), clock=clock)
    other.upgrade()
    yield other
    other.dispose()


def _rows(db: Database, team_id: str) -> list[tuple[object, ...]]:
    with db.unit_of_work(readonly=True) as uow:
        found = uow.session.scalars(
            select(Customer).where(Customer.team_id == team_id).order_by(Customer.email)
        )
        return [(*(getattr(c, f) for f in FIELDS), c.date_of_birth, c.name_key) for c in found]


def test_export_then_import_into_an_empty_workspace_gives_every_customer_back_exactly(
    db: Database, empty: Database
) -> None:
    admin = Actor("T0SOURCE", "U0ADMIN", Role.ADMIN)
    with db.unit_of_work() as uow:
        for first, last, email, mobile in PEOPLE:
            typed = CustomerInput(first_name=first, last_name=last, email=email, mobile=mobile)
            create_customer(uow, admin, typed, send_welcome=False)
    with db.unit_of_work() as uow:
        bob = uow.session.scalars(select(Customer).where(Customer.email == "bob@example.com"))
        uid = bob.one().uid
        archive_customer(uow, admin, uid)
        zoe = uow.session.scalars(select(Customer).where(Customer.email == "zoe@example.com"))
        zoe.one().date_of_birth = date(1991, 2, 3)

    out = io.StringIO(newline="")
    with db.unit_of_work(readonly=True) as uow:
        assert write_customers_csv(uow, admin, out, status=None) == len(PEOPLE)
    parsed = read_csv(out.getvalue().encode())

    moved = Actor("T0MOVED", "U0OTHER", Role.ADMIN)
    mapping = guess_mapping(parsed.header)
    report = import_rows(empty, moved, parsed, mapping, source="customers.csv")
    assert report.count(Outcome.NEW) == len(PEOPLE) and report.count(Outcome.INVALID) == 0
    assert _rows(empty, moved.team_id) == _rows(db, admin.team_id)

    again = import_rows(empty, moved, parsed, mapping, source="customers.csv")
    assert again.count(Outcome.UNCHANGED) == len(PEOPLE)
