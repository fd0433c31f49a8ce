"""The customer list as CSV on SQLite and PostgreSQL: columns, quoting, selection, paging."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select, update

from core.actor import Actor
from core.db import Database
from core.demo.customers import load_demo_customers
from core.errors import Forbidden
from core.models import ConsentSource, ConsentState, Customer, CustomerStatus, Role
from core.services import customer_columns, customer_export
from core.services.account import merge_customers
from core.services.consent import set_consent
from core.services.customer_columns import guard, unguard
from core.services.customer_export import (
    CSV_COLUMNS,
    customers_csv,
    write_customers_csv,
)
from core.services.customers import (
    CustomerInput,
    archive_customer,
    create_customer,
    search_customers,
)
from core.services.tags import set_customer_tags

TEAM = "T0001"
ADMIN = Actor(TEAM, "UADMIN", Role.ADMIN)
STAFF = Actor(TEAM, "USTAFF", Role.STAFF)
OTHER = Actor("T0002", "UOTHER", Role.ADMIN)


def _add(db: Database, first: str, last: str, email: str, mobile: str, actor: Actor = ADMIN) -> str:
    with db.unit_of_work() as uow:
        data = CustomerInput(first_name=first, last_name=last, email=email, mobile=mobile)
        return create_customer(uow, actor, data, send_welcome=False).uid


def _export(db: Database, **kwargs: Any) -> list[dict[str, str]]:
    with db.unit_of_work(readonly=True) as uow:
        exported = customers_csv(uow, ADMIN, **kwargs)
    reader = csv.reader(io.StringIO(exported.text, newline=""))
    header, *lines = list(reader)
    assert tuple(header) == CSV_COLUMNS
    assert exported.count == len(lines)
    return [dict(zip(header, line, strict=True)) for line in lines]


def test_each_column_is_written_as_the_importer_reads_it(db: Database) -> None:
    uid = _add(db, "Zoë", "O'Brien, Jr.", "zoe@example.com", "+44 7700 900123")
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.uid == uid).values(date_of_birth=date(1990, 5, 17))
        )
        set_customer_tags(uow, ADMIN, uid, ["VIP", "=Early bird"])
        set_consent(uow, ADMIN, uid, ConsentState.GRANTED, ConsentSource.PHONE)
    plain = _add(db, "Mark", "Taylor", "mark@example.com", "07700 900456")

    rows = {row["uid"]: row for row in _export(db)}

    assert rows[uid] == {
        "uid": uid,
        "first_name": "Zoë",
        "last_name": "O'Brien, Jr.",
        "email": "zoe@example.com",
        "mobile": "+447700900123",
        "status": "active",
        # The test clock's time, in UTC with its offset.
        "created_at": "2026-03-14T09:30:00+00:00",
        "date_of_birth": "1990-05-17",
        # A tag starting like a formula is guarded as the names are.
        "tags": "'=Early bird; VIP",
        "marketing_consent": "granted",
        "consent_at": "2026-03-14T09:30:00+00:00",
    }
    assert rows[plain]["date_of_birth"] == ""
    assert (rows[plain]["tags"], rows[plain]["marketing_consent"], rows[plain]["consent_at"]) == (
        "",
        "unknown",
        "",
    )
    assert rows[plain]["mobile"] == "+447700900456"


def test_commas_quotes_newlines_and_accents_survive_rfc_4180_quoting(db: Database) -> None:
    uid = _add(db, "Anaïs", "Le Œuf", "anais@example.com", "+44 7700 900111")
    # Names typed in Slack have no line breaks; imported ones may.
    odd = 'Dupont, "Dédé"\nsecond line'
    with db.unit_of_work() as uow:
        uow.session.execute(update(Customer).where(Customer.uid == uid).values(last_name=odd))
    with db.unit_of_work(readonly=True) as uow:
        text = customers_csv(uow, ADMIN).text

    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert '"Dupont, ""Dédé""\nsecond line"' in text
    [row] = _export(db)
    assert (row["first_name"], row["last_name"]) == ("Anaïs", odd)


def test_tabs_search_and_merged_records_select_as_the_hub_does(db: Database) -> None:
    zoe = _add(db, "Zoe", "Young", "zoe.young@example.com", "+44 7700 900201")
    zoey = _add(db, "Zoey", "Quinn", "quinn@example.com", "+44 7700 900202")
    mark = _add(db, "Mark", "Taylor", "mark@example.com", "+44 7700 900203")
    shell = _add(db, "Zoë", "Young", "old.zoe@example.com", "+44 7700 900204")
    _add(db, "Zoe", "Elsewhere", "zoe@other.example", "+44 7700 900205", actor=OTHER)
    with db.unit_of_work() as uow:
        archive_customer(uow, ADMIN, zoey)
        merge_customers(uow, ADMIN, shell, zoe, reason="Same person")

    def uids(**kwargs: Any) -> list[str]:
        return [row["uid"] for row in _export(db, **kwargs)]

    assert uids() == [mark, zoe]
    assert uids(status=CustomerStatus.ARCHIVED) == [zoey]
    # All: the Active list, then the Archived one; the merged-away record is in neither.
    assert uids(status=None) == [mark, zoe, zoey]
    assert uids(status=None, text="zoe") == [zoe, zoey]
    assert uids(status=None, text="  ") == [mark, zoe, zoey]
    # Mobile digits as typed, with the trunk zero, as the hub's search finds them.
    assert uids(status=None, text="07700 900203") == [mark]
    # The same people the hub's search finds, less the merged-away record.
    with db.unit_of_work(readonly=True) as uow:
        hub = {r.uid for r in search_customers(uow, ADMIN, "young", status=None)}
    assert hub == {zoe, shell}
    assert uids(status=None, text="young") == [zoe]


def test_staff_are_refused_and_nothing_is_written(db: Database) -> None:
    _add(db, "Zoe", "Young", "zoe.young@example.com", "+44 7700 900201")
    out = io.StringIO()
    with db.unit_of_work(readonly=True) as uow, pytest.raises(Forbidden) as refused:
        write_customers_csv(uow, STAFF, out)
    assert "Only an admin" in refused.value.message
    assert out.getvalue() == ""


def test_formula_cells_are_guarded_but_mobiles_stay_exact(db: Database) -> None:
    uid = _add(db, "=HYPERLINK(1)", "-Minus", "+plus@example.com", "+44 7700 900301")
    [row] = _export(db)
    assert row["uid"] == uid
    assert row["first_name"] == "'=HYPERLINK(1)"
    assert row["last_name"] == "'-Minus"
    assert row["email"] == "'+plus@example.com"
    assert row["mobile"] == "+447700900301"
    assert unguard(row["first_name"]) == "=HYPERLINK(1)"


@given(st.text(alphabet=st.sampled_from("'=+-@a \t\r"), max_size=6) | st.text(max_size=6))
def test_unguard_undoes_guard_exactly(value: str) -> None:
    guarded = guard(value)
    assert unguard(guarded) == value
    assert not guarded.startswith(customer_columns.FORMULA_TRIGGERS)


def test_thousands_of_customers_are_read_in_pages(db: Database) -> None:
    with db.unit_of_work() as uow:
        summary = load_demo_customers(uow, TEAM, 2_100, seed=7)
    with db.unit_of_work(readonly=True) as uow:
        expected = list(
            uow.session.scalars(
                select(Customer.uid)
                .where(Customer.team_id == TEAM, Customer.status == CustomerStatus.ACTIVE)
                .order_by(Customer.name_key, Customer.id)
            )
        )
    selects: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "customers" in statement:
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        rows = _export(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    assert summary.created == 2_100 and len(expected) > customer_export.PAGE
    assert [row["uid"] for row in rows] == expected
    # One bounded query per page of a thousand, each one LIMITed: never the whole list at once.
    assert len(selects) == len(expected) // customer_export.PAGE + 1
    assert all("LIMIT" in statement.upper() for statement in selects)
    assert len(_export(db, status=None)) == 2_100
