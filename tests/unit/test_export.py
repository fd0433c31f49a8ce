"""Subject access and erasure on SQLite and PostgreSQL: export everything, delete everything."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot.cli import CLI_USER_ID, app
from core.actor import Actor
from core.db import Database
from core.errors import Forbidden, NotFound
from core.models import Base, Customer, HistoryEntry, LinkStatus, PaymentLink, Role
from core.services.account import merge_customers
from core.services.catalog import CatalogSpec, QuestionnaireSpec, sync_catalog
from core.services.customers import CustomerInput, create_customer, delete_customer
from core.services.export import DATA_EXPORTED, EXPORT_FORMAT, PASSWORD_WITHHELD, export_customer
from core.services.notes import add_note
from core.services.questionnaires import assign_questionnaire, record_answers
from core.services.questions import Question, QuestionKind
from tests.conftest import MutableClock, make_settings
from tests.unit.history_rows import appointment, booking, pass_, shop, subscription, video

PASSWORD = "Export-Me-N0t!"
SHELL_PASSWORD = "Old-Login-99?"
CUSTOMER_TABLES = [t for t in Base.metadata.sorted_tables if "customer_id" in t.c]


@dataclass(frozen=True)
class Person:
    """A customer with a row in every history table, and a record merged into them."""

    uid: str
    shell_uid: str
    ids: tuple[int, int]
    email: str
    shell_email: str


def _create(
    db: Database,
    actor: Actor,
    first: str,
    email: str,
    password: str,
    last: str = "Okonkwo",
    mobile: str = "+44 7700 900456",
) -> str:
    with db.unit_of_work() as uow:
        form = CustomerInput(
            first_name=first, last_name=last, email=email, mobile=mobile, password=password
        )
        return create_customer(uow, actor, form).uid


def _person(db: Database, admin: Actor, clock: MutableClock) -> Person:
    """Everything the app can hold about one person, through the services where they exist."""
    uid = _create(db, admin, "Chiamaka", "chiamaka@example.com", PASSWORD)
    shell_uid = _create(db, admin, "Chi", "chi.old@example.com", SHELL_PASSWORD)
    at = clock.current
    with db.unit_of_work() as uow:
        catalog = shop(uow, admin.team_id, at + timedelta(days=3))
        asked = (Question("Any injuries?"), Question("Your goals?", QuestionKind.LONG))
        questions = QuestionnaireSpec("intake", "Health intake", asked)
        template = sync_catalog(uow, admin.team_id, CatalogSpec(questionnaires=(questions,)))
        owner = uow.session.scalars(select(Customer).where(Customer.uid == uid)).one()
        held = pass_(uow, catalog, owner, at)
        unpaid = booking(uow, catalog, owner, at, event="barre")
        booking(uow, catalog, owner, at, credits=1, price_minor=None, pass_id=held.id)
        appointment(uow, catalog, owner, at, facilitator="jorg")
        video(uow, catalog, owner, at)
        subscription(uow, catalog, owner, at)
        uow.session.add(
            PaymentLink(
                team_id=admin.team_id,
                customer_id=owner.id,
                kind="booking",
                target_id=unpaid.id,
                attempt=1,
                mode="payment",
                status=LinkStatus.OPEN,
                amount_minor=1300,
                currency="GBP",
                session_id="cs_test_export",
                url="https://checkout.stripe.com/c/pay/cs_test_export",
                expires_at=at + timedelta(hours=23),
                sent_to=owner.email,
                created_by=admin.user_id,
                created_at=at,
            )
        )
        add_note(uow, admin, uid, "Prefers evening classes; knee injury in 2024.")
        row = assign_questionnaire(uow, admin, uid, template.questionnaires["intake"])
        record_answers(uow, admin, row.id, ["Left knee", "Run 10k"], uid=uid)
        ids = (
            owner.id,
            uow.session.scalars(select(Customer.id).where(Customer.uid == shell_uid)).one(),
        )
    with db.unit_of_work() as uow:
        merge_customers(uow, admin, shell_uid, uid, reason="Same person")
    return Person(uid, shell_uid, ids, "chiamaka@example.com", "chi.old@example.com")


def _export(db: Database, actor: Actor, uid: str) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        return export_customer(uow, actor, uid)


def _rows_per_table(db: Database, ids: tuple[int, ...]) -> dict[str, int]:
    with db.engine.connect() as conn:
        counts = {
            table.name: conn.scalar(
                select(func.count()).select_from(table).where(table.c.customer_id.in_(ids))
            )
            or 0
            for table in CUSTOMER_TABLES
        }
        counts["customers"] = (
            conn.scalar(select(func.count()).select_from(Customer).where(Customer.id.in_(ids))) or 0
        )
    return counts


def _everything_stored(db: Database) -> str:
    with db.engine.connect() as conn:
        return "\n".join(
            str(dict(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table)).mappings()
        )


# -- export ---------------------------------------------------------------------------


def test_export_holds_everything_about_the_person_with_catalog_names(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    person = _person(db, admin, clock)
    data = _export(db, admin, person.uid)

    assert data["format"] == EXPORT_FORMAT
    assert data["exported_by"] == admin.user_id
    contact = data["customer"]
    assert (contact["uid"], contact["first_name"], contact["email"]) == (
        person.uid,
        "Chiamaka",
        person.email,
    )
    assert contact["mobile"] == "+447700900456"
    assert contact["password"].startswith("set")
    [shell] = data["merged_records"]
    assert (shell["uid"], shell["email"], shell["merged_into_uid"]) == (
        person.shell_uid,
        person.shell_email,
        person.uid,
    )
    assert sorted(b["event"] for b in data["bookings"]) == ["Café Barre", "Morning Yoga"]
    [paid_by_pass] = [b for b in data["bookings"] if b["credits"]]
    [held] = data["passes"]
    assert paid_by_pass["paid_with_pass_id"] == held["id"]
    assert held["pass_type"] == "10-class pass"
    [visit] = data["appointments"]
    assert (visit["service"], visit["facilitator"]) == ("Sports Massage", "Jörg Weiß")
    [watched] = data["videos"]
    assert (watched["video"], watched["state"]) == ("Yoga for Runners", "active")
    [plan] = data["subscriptions"]
    assert (plan["plan"], plan["interval"]) == ("Unlimited Monthly", "month")
    [form] = data["questionnaires"]
    assert form["name"] == "Health intake"
    assert form["answers"] == [
        {"question": "Any injuries?", "answer": "Left knee"},
        {"question": "Your goals?", "answer": "Run 10k"},
    ]
    [note] = data["notes"]
    assert "knee injury" in note["content"]
    actions = [entry["action"] for entry in data["account_history"]]
    assert actions[0] == "created"
    assert {"merged from", "merged into", "note added", DATA_EXPORTED} <= set(actions)
    mails = data["mail"]
    assert {m["to"] for m in mails} == {person.email, person.shell_email}
    for mail in mails:
        assert mail["subject"] == "Your customer portal login"
        assert PASSWORD_WITHHELD in mail["body"]
        assert mail["to"] in mail["body"]  # the login, as the mail showed it

    dumped = json.dumps(data, ensure_ascii=False)
    assert PASSWORD not in dumped and SHELL_PASSWORD not in dumped
    assert "argon2" not in dumped.replace("argon2id hash)", "")  # no hash, only its mention


def test_the_export_is_recorded_in_the_account_history(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    uid = _create(db, admin, "Ada", "ada@example.com", PASSWORD)
    clock.advance(hours=2)
    _export(db, admin, uid)
    with db.unit_of_work(readonly=True) as uow:
        entry = uow.session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.customer_uid == uid, HistoryEntry.action == DATA_EXPORTED
            )
        ).one()
        assert (entry.actor, entry.created_at) == (admin.user_id, clock.current)


def test_only_an_admin_of_the_same_workspace_may_export(
    db: Database, admin: Actor, staff: Actor, other_tenant: Actor
) -> None:
    uid = _create(db, admin, "Ada", "ada@example.com", PASSWORD)
    with pytest.raises(Forbidden):
        _export(db, staff, uid)
    with pytest.raises(NotFound) as caught:
        _export(db, other_tenant, uid)
    assert "Ada" not in caught.value.message
    with db.unit_of_work(readonly=True) as uow:
        actions = uow.session.scalars(
            select(HistoryEntry.action).where(HistoryEntry.customer_uid == uid)
        ).all()
    assert DATA_EXPORTED not in actions


# -- erasure --------------------------------------------------------------------------


def test_delete_erases_every_row_of_the_person_in_every_table(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    person = _person(db, admin, clock)
    bystander = _create(
        db, admin, "Grace", "grace@example.com", "Bystander-0k!", "Hopper", "+44 7700 900999"
    )
    before = _rows_per_table(db, person.ids)
    # The fixture really fills every table that can hold a customer's rows.
    assert all(before.values()), before

    with db.unit_of_work() as uow:
        delete_customer(uow, admin, person.uid)

    assert _rows_per_table(db, person.ids) == dict.fromkeys(before, 0)
    stored = _everything_stored(db)
    for personal in (
        person.email,
        person.shell_email,
        "Chiamaka",
        "Okonkwo",
        "knee",
        "Left knee",
        "+447700900456",
    ):
        assert personal not in stored, personal
    # Someone else's records are untouched.
    assert "grace@example.com" in stored
    assert _export(db, admin, bystander)["customer"]["email"] == "grace@example.com"


def test_erasure_keeps_one_audit_entry_per_record_without_personal_data(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    person = _person(db, admin, clock)
    clock.advance(days=1)
    with db.unit_of_work() as uow:
        delete_customer(uow, admin, person.uid)
    with db.unit_of_work(readonly=True) as uow:
        entries = uow.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        kept = [(e.customer_uid, e.customer_id, e.actor, e.action, e.changes) for e in entries]
        times = {e.created_at for e in entries}
        details = " ".join(e.detail for e in entries)
    assert sorted(kept) == sorted(
        [
            (person.uid, None, admin.user_id, "deleted", {}),
            (person.shell_uid, None, admin.user_id, "deleted", {}),
        ]
    )
    assert times == {clock.current}
    assert "Chi" not in details and "@" not in details


def test_exporting_an_erased_customer_says_they_no_longer_exist(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    person = _person(db, admin, clock)
    with db.unit_of_work() as uow:
        delete_customer(uow, admin, person.uid)
    for uid in (person.uid, person.shell_uid):
        with pytest.raises(NotFound) as caught:
            _export(db, admin, uid)
        assert f"Customer {uid} no longer exists" in caught.value.message
        assert f"by {admin.user_id}" in caught.value.message
    with pytest.raises(NotFound) as caught:
        _export(db, admin, "0000NOSUCH00")
    assert "No customer with UID 0000NOSUCH00" in caught.value.message


# -- the command ----------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, str]]:
    """A migrated SQLite file in an empty working directory, and its URL."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'export.db'}"
    db = Database(make_settings(url))
    db.upgrade()
    try:
        yield db, url
    finally:
        db.dispose()


def _run(url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["export-customer", *args], env={"DATABASE_URL": url})


def test_export_customer_command_writes_an_owner_only_file_and_notes_it(
    cli_db: tuple[Database, str], tmp_path: Path
) -> None:
    db, url = cli_db
    team_admin = Actor("T0001", "UADMIN", Role.ADMIN)
    uid = _create(db, team_admin, "Ada", "ada@example.com", PASSWORD)
    target = tmp_path / "ada.json"

    result = _run(url, uid.lower(), "--output", str(target))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["customer"]["email"] == "ada@example.com"
    assert data["exported_by"] == CLI_USER_ID
    assert data["account_history"][-1]["action"] == DATA_EXPORTED

    again = _run(url, uid, "--output", str(target))
    assert again.exit_code == 2
    assert "already exists" in again.output

    printed = _run(url, uid)
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["customer"]["uid"] == uid


def test_export_customer_command_refuses_another_workspaces_uid(
    cli_db: tuple[Database, str],
) -> None:
    db, url = cli_db
    theirs = _create(db, Actor("T0002", "UOTHER", Role.ADMIN), "Eve", "eve@example.com", PASSWORD)
    _create(db, Actor("T0001", "UADMIN", Role.ADMIN), "Ada", "ada@example.com", PASSWORD)

    result = _run(url, theirs, "--team", "T0001")
    assert result.exit_code == 1
    assert f"No customer with UID {theirs} exists in workspace T0001" in result.output
    assert "eve@example.com" not in result.output
