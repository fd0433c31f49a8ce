"""Demo data: valid, varied, unique and searchable customers, loadable more than once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import Row, func, select

from core.actor import Actor
from core.db import Database
from core.demo.customers import DEMO_ACTOR, load_demo_customers
from core.models import Customer, CustomerStatus, Workspace
from core.services.customers import CustomerInput, create_customer, name_key, search_customers
from core.validation import clean_email, clean_mobile, clean_name
from tests.conftest import MutableClock

COUNT = 400


def _customers(db: Database, team_id: str) -> list[Row[Any]]:
    table = Customer.__table__
    with db.unit_of_work(readonly=True) as uow:
        return list(uow.session.execute(select(table).where(table.c.team_id == team_id)).all())


def test_loads_count_into_a_new_workspace(db: Database, admin: Actor) -> None:
    calls: list[tuple[int, int]] = []
    with db.unit_of_work() as uow:
        summary = load_demo_customers(
            uow,
            admin.team_id,
            COUNT,
            seed=1,
            progress=lambda d, t: calls.append((d, t)),
            batch_size=150,
        )
    assert calls == [(150, COUNT), (300, COUNT), (COUNT, COUNT)]
    customers = _customers(db, admin.team_id)
    assert summary.created == len(customers) == COUNT
    archived = sum(c.status is CustomerStatus.ARCHIVED for c in customers)
    assert summary.archived == archived
    assert 0.04 * COUNT < archived < 0.18 * COUNT
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.get(Workspace, admin.team_id) is not None


def test_rows_are_valid_customers(db: Database, admin: Actor, clock: MutableClock) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, COUNT, seed=2)
    customers = _customers(db, admin.team_id)
    assert len({c.uid for c in customers}) == COUNT
    assert len({c.email for c in customers}) == COUNT
    regions: Counter[str | None] = Counter()
    for c in customers:
        # Exactly what the create form would have stored for the same input.
        assert clean_name(c.first_name, "first name") == (c.first_name, None)
        assert clean_name(c.last_name, "last name") == (c.last_name, None)
        assert clean_email(c.email) == (c.email, None)
        assert c.email.isascii() and c.email == c.email.lower()
        assert clean_mobile(c.mobile, "GB") == (c.mobile, None)
        number = phonenumbers.parse(c.mobile)
        assert phonenumbers.is_possible_number(number)
        regions[phonenumbers.region_code_for_number(number)] += 1
        assert c.name_key == name_key(c.first_name, c.last_name)
        assert c.password_hash is None
        assert c.version == 1
        assert c.updated_by == DEMO_ACTOR
        assert clock() - timedelta(days=731) <= c.created_at <= c.updated_at <= clock()
    assert len(regions) >= 6
    assert regions["GB"] > COUNT / 2  # the workspace's own country dominates
    assert any(not (c.first_name + c.last_name).isascii() for c in customers)
    assert min(c.created_at for c in customers) < clock() - timedelta(days=365)


def test_search_zoe_finds_zoe_with_diaeresis(db: Database, admin: Actor) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, 50, seed=3)
    with db.unit_of_work(readonly=True) as uow:
        found = search_customers(uow, admin, "zoe", status=CustomerStatus.ACTIVE)
    assert "Zoë" in {c.first_name for c in found}
    assert all(c.status is CustomerStatus.ACTIVE for c in found)


def test_loading_twice_keeps_emails_unique(db: Database, admin: Actor) -> None:
    with db.unit_of_work() as uow:
        create_customer(
            uow,
            admin,
            CustomerInput(
                first_name="Zoë",
                last_name="Smith",
                email="zoe.smith@example.com",
                mobile="+447700900123",
            ),
            send_welcome=False,
        )
    for _ in range(2):
        with db.unit_of_work() as uow:
            load_demo_customers(uow, admin.team_id, COUNT, seed=4)
    customers = _customers(db, admin.team_id)
    assert len(customers) == 2 * COUNT + 1
    assert len({c.email for c in customers}) == len(customers)


def test_tenants_are_separate(db: Database, admin: Actor, other_tenant: Actor) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, 30, seed=5)
        load_demo_customers(uow, other_tenant.team_id, 20, seed=5)
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(Customer.team_id, func.count()).group_by(Customer.team_id)
        )
        counts = dict(rows.all())
    assert counts == {admin.team_id: 30, other_tenant.team_id: 20}


def _load_then_fail(db: Database, team_id: str) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, team_id, 20, seed=6)
        raise RuntimeError("interrupted")


def test_nothing_is_saved_when_the_transaction_fails(db: Database, admin: Actor) -> None:
    with pytest.raises(RuntimeError, match="interrupted"):
        _load_then_fail(db, admin.team_id)
    assert _customers(db, admin.team_id) == []


def test_negative_count_is_refused(db: Database, admin: Actor) -> None:
    with pytest.raises(ValueError, match="negative"), db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, -1)
