"""Customer services on SQLite and PostgreSQL: create, edit, archive, delete, tenancy, races."""

# ruff: noqa: F811 - tests take the imported `pool` fixture as a parameter

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.models import (
    Base,
    Customer,
    CustomerStatus,
    HistoryEntry,
    MailStatus,
    OutboxMail,
    Workspace,
)
from core.security import hashed, verify_password
from core.services import customers as customer_service
from core.services.customers import (
    ADMIN_SETS_PASSWORDS,
    UID_ALPHABET,
    UID_LENGTH,
    CustomerInput,
    CustomerRecord,
    LaterHash,
    activate_customer,
    archive_customer,
    create_customer,
    delete_customer,
    edit_contact,
    get_customer,
    list_customers,
    search_customers,
    send_password_reset,
    settle_password,
)
from core.services.history import PASSWORD_CHANGED
from core.services.workspaces import ensure_workspace
from core.text import squeeze
from core.validation import clean_name, password_problems
from tests.concurrency import held_open, pool, wait_until_blocked  # noqa: F401 - a fixture
from tests.conftest import MutableClock

T = TypeVar("T")
_serial = itertools.count(1)


def form(**values: str) -> CustomerInput:
    """A valid Create Customer form with a fresh email, overridden by `values`."""
    defaults = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"customer{next(_serial)}@example.com",
        "mobile": "+44 7700 900123",
    }
    return CustomerInput(**(defaults | values))


def form_of(record: CustomerRecord, **values: str) -> CustomerInput:
    """The Edit Contact form pre-filled from `record`, changed by `values`."""
    current = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": record.email,
        "mobile": record.mobile,
    }
    return CustomerInput(**(current | values))


def create(db: Database, actor: Actor, **values: str) -> CustomerRecord:
    with db.unit_of_work() as uow:
        return create_customer(uow, actor, form(**values))


def edit(db: Database, actor: Actor, record: CustomerRecord, **values: str) -> CustomerRecord:
    with db.unit_of_work() as uow:
        return edit_contact(
            uow, actor, record.uid, form_of(record, **values), expected_version=record.version
        )


def get(db: Database, actor: Actor, uid: str) -> CustomerRecord:
    with db.unit_of_work(readonly=True) as uow:
        return get_customer(uow, actor, uid)


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            model.__tablename__: conn.scalar(select(func.count()).select_from(model)) or 0
            for model in (Workspace, Customer, HistoryEntry, OutboxMail)
        }


def history_of(db: Database, uid: str) -> list[HistoryEntry]:
    with db.unit_of_work(readonly=True) as uow:
        query = select(HistoryEntry).where(HistoryEntry.customer_uid == uid)
        entries = list(uow.session.scalars(query.order_by(HistoryEntry.id)))
        uow.session.expunge_all()  # keep them readable after the read-only rollback
        return entries


def outbox_of(db: Database, email: str) -> list[OutboxMail]:
    with db.unit_of_work(readonly=True) as uow:
        query = select(OutboxMail).where(OutboxMail.to_address == email)
        mails = list(uow.session.scalars(query.order_by(OutboxMail.id)))
        uow.session.expunge_all()  # keep them readable after the read-only rollback
        return mails


def password_hash_of(db: Database, uid: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(select(Customer.password_hash).where(Customer.uid == uid))


def stored_values(db: Database) -> Iterator[tuple[str, str, str]]:
    """Every value in every table, as (table, column, text)."""
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    yield table.name, column, str(value)


# --- create --------------------------------------------------------------------------------


def test_create_stores_trimmed_and_normalised_contact(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    record = create(
        db,
        staff,
        first_name="  Zoë ",
        last_name=" van  der Berg ",
        email="  Zoe.VanDerBerg@Example.COM ",
        mobile="07700 900123",
    )
    assert (record.first_name, record.last_name) == ("Zoë", "van der Berg")
    assert record.full_name == "Zoë van der Berg"
    assert record.email == "zoe.vanderberg@example.com"
    assert record.mobile == "+447700900123"
    assert record.status is CustomerStatus.ACTIVE
    assert record.version == 1
    assert record.created_at == record.updated_at == clock.current
    assert record.updated_by == staff.user_id
    assert record.has_password
    assert record.merged_into_uid is None
    assert len(record.uid) == UID_LENGTH
    assert set(record.uid) <= set(UID_ALPHABET)
    assert get(db, staff, record.uid) == record


def test_uids_are_unique(db: Database, staff: Actor) -> None:
    uids = {create(db, staff).uid for _ in range(20)}
    assert len(uids) == 20


def test_create_records_who_created_the_customer(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    (entry,) = history_of(db, record.uid)
    assert entry.action == "created"
    assert entry.actor == admin.user_id
    assert entry.created_at == clock.current
    assert entry.changes == {
        "first_name": [None, "Ada"],
        "last_name": [None, "Lovelace"],
        "email": [None, record.email],
        "mobile": [None, "+447700900123"],
    }
    assert entry.detail == "password set by staff"


def test_create_queues_the_welcome_mail_without_the_password_in_its_body(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    (mail,) = outbox_of(db, record.email)
    assert mail.kind == "welcome"
    assert mail.status is MailStatus.PENDING
    assert mail.next_attempt_at == clock.current
    assert mail.customer_id is not None
    assert "Sunny-Day-42" not in mail.body
    assert mail.secret == "Sunny-Day-42"


def test_blank_password_generates_a_strong_one_for_the_welcome_mail(
    db: Database, staff: Actor
) -> None:
    record = create(db, staff, password="   ")
    (mail,) = outbox_of(db, record.email)
    assert mail.secret is not None
    assert password_problems(mail.secret) is None
    assert mail.secret not in mail.body
    stored = password_hash_of(db, record.uid)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, mail.secret)
    assert history_of(db, record.uid)[0].detail == "password generated"


def test_a_password_hashed_beforehand_is_stored_as_prepared(db: Database, admin: Actor) -> None:
    # Edit Contact hashes an admin's new password before its unit of work opens.
    prepared = hashed("Sunny-Day-42")
    record = create(db, admin)
    typed = form_of(record, password="Sunny-Day-42")
    with db.unit_of_work() as uow:
        edit_contact(
            uow, admin, record.uid, typed, expected_version=record.version, prepared=prepared
        )
    assert password_hash_of(db, record.uid) == prepared.hash
    # Prepared for another password than the one saved: hashed again, never stored as is.
    other = create(db, admin)
    typed = form_of(other, password="Rainy-Night-77")
    with db.unit_of_work() as uow:
        edit_contact(
            uow, admin, other.uid, typed, expected_version=other.version, prepared=prepared
        )
    stored = password_hash_of(db, other.uid)
    assert stored != prepared.hash and stored is not None
    assert verify_password(stored, "Rainy-Night-77")


def test_a_password_hashed_later_is_stored_once_settled_and_never_over_another(
    db: Database, admin: Actor
) -> None:
    later = LaterHash("Sunny-Day-42")
    record = run(db, create_customer, admin, form(password="Sunny-Day-42"), prepared=later)
    # Saved unhashed; the welcome mail holds the password until the hash is stored.
    assert password_hash_of(db, record.uid) is None
    (mail,) = outbox_of(db, record.email)
    assert mail.secret == "Sunny-Day-42"
    digest = hashed(later.plain).hash
    assert run(db, settle_password, admin, record.uid, digest)
    assert password_hash_of(db, record.uid) == digest
    assert not run(db, settle_password, admin, record.uid, hashed("Other-Pass-1").hash)
    assert password_hash_of(db, record.uid) == digest

    # An admin set another password before the hash came: that one stays.
    blank = run(db, create_customer, admin, form(), prepared=LaterHash("Rainy-Night-77"))
    edit(db, admin, blank, password="Windy-Dawn-11")
    assert not run(db, settle_password, admin, blank.uid, hashed("Rainy-Night-77").hash)
    stored = password_hash_of(db, blank.uid)
    assert stored is not None and verify_password(stored, "Windy-Dawn-11")

    # Another password typed than the one to hash later: the typed one, hashed now.
    typed = run(db, create_customer, admin, form(password="Cold-Dusk-88"), prepared=later)
    stored = password_hash_of(db, typed.uid)
    assert stored is not None and verify_password(stored, "Cold-Dusk-88")

    # Only the welcome mail can hold it meanwhile.
    with pytest.raises(ValueError, match="welcome mail"):
        run(db, create_customer, admin, form(), prepared=later, send_welcome=False)


def test_password_is_stored_only_as_an_argon2id_hash(db: Database, admin: Actor) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    stored = password_hash_of(db, record.uid)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Sunny-Day-42")
    leaks = [
        (table, column)
        for table, column, value in stored_values(db)
        if "Sunny-Day-42" in value and (table, column) != ("mail_outbox", "secret")
    ]
    assert leaks == []


def test_create_can_skip_the_welcome_mail(db: Database, staff: Actor) -> None:
    with db.unit_of_work() as uow:
        record = create_customer(uow, staff, form(), send_welcome=False)
    assert outbox_of(db, record.email) == []


def test_every_invalid_field_is_reported_at_once_and_nothing_is_written(
    db: Database, admin: Actor
) -> None:
    bad = CustomerInput(
        first_name=" ", last_name="x" * 101, email="not-an-email", mobile="12", password="short"
    )
    with pytest.raises(ValidationFailed) as caught:
        run(db, create_customer, admin, bad)
    errors = caught.value.errors
    assert set(errors) == {"first_name", "last_name", "email", "mobile", "password"}
    assert errors["first_name"] == "Enter the customer's first name."
    assert "100 characters" in errors["last_name"]
    assert "name@example.com" in errors["email"]
    assert "too short" in errors["mobile"]
    assert errors["password"].startswith("Password needs at least 8 characters")
    assert counts(db) == {"workspaces": 0, "customers": 0, "account_history": 0, "mail_outbox": 0}


ONE_BAD_FIELD = {
    "first_name": "",
    "last_name": "Love\x00lace",
    "email": "ada@",
    "mobile": "call me",
    "password": "alllowercase1!",
}


def test_only_the_invalid_field_is_reported(db: Database, staff: Actor) -> None:
    reported = {}
    for field, value in ONE_BAD_FIELD.items():
        with pytest.raises(ValidationFailed) as caught:
            create(db, staff, **{field: value})
        reported[field] = list(caught.value.errors)
    assert reported == {field: [field] for field in ONE_BAD_FIELD}
    assert counts(db)["customers"] == 0


def test_names_in_any_script_up_to_100_characters_are_kept(db: Database, staff: Actor) -> None:
    longest = "Ø" * 100
    record = create(db, staff, first_name="王秀英", last_name=longest)
    assert get(db, staff, record.uid).full_name == f"王秀英 {longest}"


def test_names_that_grow_when_folded_still_fit(db: Database, staff: Actor) -> None:
    # "ß" folds to "ss" and "ﷺ" to 18 letters: the sort key must not overflow its column.
    record = create(db, staff, first_name="ß" * 100, last_name="ﷺ" * 100)
    assert get(db, staff, record.uid).first_name == "ß" * 100


# Any character a name may hold: everything but control, format, surrogate and private-use.
VISIBLE = st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.text(VISIBLE, min_size=1, max_size=100),
    last=st.text(VISIBLE, min_size=1, max_size=100),
)
def test_any_name_the_rules_accept_is_stored_as_typed(db: Database, first: str, last: str) -> None:
    assume(clean_name(first, "first name")[1] is None)
    assume(clean_name(last, "last name")[1] is None)
    actor = Actor(team_id=f"TN{uuid.uuid4().hex[:12]}", user_id="UPROP")
    record = create(db, actor, first_name=first, last_name=last)
    stored = get(db, actor, record.uid)
    assert (stored.first_name, stored.last_name) == (squeeze(first), squeeze(last))


def test_duplicate_email_names_the_existing_customer(db: Database, staff: Actor) -> None:
    first = create(db, staff, first_name="Grace", last_name="Hopper", email="grace@example.com")
    with pytest.raises(ValidationFailed) as caught:
        create(db, staff, email="  GRACE@Example.com ")
    assert caught.value.errors == {
        "email": f"Grace Hopper already uses this email (UID {first.uid})."
    }
    assert counts(db)["customers"] == 1


def test_duplicate_email_of_an_archived_customer_says_so(db: Database, staff: Actor) -> None:
    first = create(db, staff, first_name="Grace", last_name="Hopper", email="grace@example.com")
    run(db, archive_customer, staff, first.uid)
    with pytest.raises(ValidationFailed) as caught:
        create(db, staff, email="grace@example.com")
    assert caught.value.errors == {
        "email": f"Grace Hopper (archived) already uses this email (UID {first.uid})."
    }


def test_duplicate_email_is_reported_together_with_other_problems(
    db: Database, staff: Actor
) -> None:
    create(db, staff, email="grace@example.com")
    with pytest.raises(ValidationFailed) as caught:
        create(db, staff, email="grace@example.com", mobile="12")
    assert set(caught.value.errors) == {"email", "mobile"}


def test_the_same_email_may_be_used_in_another_workspace(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    mine = create(db, staff, email="shared@example.com")
    theirs = create(db, other_tenant, email="Shared@Example.com")
    assert mine.email == theirs.email == "shared@example.com"


def test_mobile_without_country_code_uses_the_workspaces_region(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    with db.unit_of_work() as uow:
        ensure_workspace(uow, other_tenant.team_id).default_region = "US"
    assert create(db, other_tenant, mobile="(201) 555-0123").mobile == "+12015550123"
    assert create(db, staff, mobile="07700 900123").mobile == "+447700900123"
    assert create(db, other_tenant, mobile="+44 7700 900124").mobile == "+447700900124"


def test_impossible_mobile_is_refused_with_a_clear_message(db: Database, staff: Actor) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(db, staff, mobile="+44 7700 900123 999")
    assert caught.value.errors == {
        "mobile": "Check the mobile number: it is too long. "
        "Include the country code, like +44 7700 900123."
    }


# --- nothing half-written ----------------------------------------------------------------------


class Boom(Exception):
    """A failure injected into a unit of work."""


def test_failure_after_create_in_the_same_unit_of_work_leaves_no_rows(
    db: Database, staff: Actor
) -> None:
    def create_then_fail() -> None:
        with db.unit_of_work() as uow:
            create_customer(uow, staff, form())
            uow.session.flush()
            raise Boom

    with pytest.raises(Boom):
        create_then_fail()
    assert counts(db) == {"workspaces": 0, "customers": 0, "account_history": 0, "mail_outbox": 0}


def test_failure_while_queueing_the_welcome_mail_leaves_no_customer(
    db: Database, staff: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_queue(*_args: object) -> None:
        raise Boom

    monkeypatch.setattr(customer_service, "queue_welcome_mail", failing_queue)
    with pytest.raises(Boom):
        create(db, staff)
    assert counts(db) == {"workspaces": 0, "customers": 0, "account_history": 0, "mail_outbox": 0}


def test_failure_after_an_edit_leaves_the_customer_as_it_was(db: Database, staff: Actor) -> None:
    record = create(db, staff)
    before = counts(db)

    def edit_then_fail() -> None:
        with db.unit_of_work() as uow:
            changes = form_of(record, first_name="Augusta")
            edit_contact(uow, staff, record.uid, changes, expected_version=1)
            uow.session.flush()
            raise Boom

    with pytest.raises(Boom):
        edit_then_fail()
    assert get(db, staff, record.uid) == record
    assert counts(db) == before


def test_invalid_edit_changes_nothing(db: Database, staff: Actor) -> None:
    record = create(db, staff)
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        edit(db, staff, record, first_name="Augusta", email="broken@", mobile="1")
    assert set(caught.value.errors) == {"email", "mobile"}
    assert get(db, staff, record.uid) == record
    assert counts(db) == before


# --- edit contact --------------------------------------------------------------------------


def test_edit_changes_contact_and_records_before_and_after(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    record = create(db, staff)
    clock.advance(hours=1)
    edited = edit(db, admin, record, last_name=" King ", mobile="07700 900999")
    assert (edited.last_name, edited.mobile) == ("King", "+447700900999")
    assert edited.version == 2
    assert edited.updated_at == clock.current
    assert edited.updated_by == admin.user_id
    assert edited.created_at == record.created_at
    assert get(db, staff, record.uid) == edited
    entry = history_of(db, record.uid)[-1]
    assert entry.action == "edited"
    assert entry.actor == admin.user_id
    assert entry.changes == {
        "last_name": ["Lovelace", "King"],
        "mobile": ["+447700900123", "+447700900999"],
    }
    assert entry.detail == ""


def test_edit_with_blank_password_keeps_the_existing_one(
    db: Database, staff: Actor, admin: Actor
) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    before = password_hash_of(db, record.uid)
    edit(db, staff, record, first_name="Augusta", password="")
    assert password_hash_of(db, record.uid) == before


def test_new_password_replaces_the_hash_and_is_never_recorded(db: Database, admin: Actor) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    edited = edit(db, admin, record, password="Rainy-Night-77")
    assert edited.version == 2
    stored = password_hash_of(db, record.uid)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Rainy-Night-77")
    assert not verify_password(stored, "Sunny-Day-42")
    *_, entry, dropped = history_of(db, record.uid)
    assert (entry.action, dropped.action) == ("edited", "mail not sent")
    assert entry.detail == "password changed"
    assert entry.changes == {"password": [PASSWORD_CHANGED, PASSWORD_CHANGED]}
    assert not [place for place in stored_values(db) if "Rainy-Night-77" in place[2]]


def test_edit_refuses_a_weak_new_password(db: Database, staff: Actor, admin: Actor) -> None:
    record = create(db, staff)
    with pytest.raises(ValidationFailed) as caught:
        edit(db, admin, record, password="password")
    assert caught.value.errors == {
        "password": "Password needs an uppercase letter, a number and "
        "a special character such as ! or #."
    }


def test_edit_that_changes_nothing_adds_no_history(db: Database, staff: Actor) -> None:
    record = create(db, staff)
    # The same details typed differently are the same details.
    same = edit(db, staff, record, email=record.email.upper(), mobile="07700 900123")
    assert same == record
    assert len(history_of(db, record.uid)) == 1


def test_edit_may_keep_the_customers_own_email_in_other_case(db: Database, staff: Actor) -> None:
    record = create(db, staff, email="ada@example.com")
    edited = edit(db, staff, record, email="ADA@example.com", first_name="Augusta")
    assert edited.email == "ada@example.com"


def test_edit_to_another_customers_email_names_them(db: Database, staff: Actor) -> None:
    grace = create(db, staff, first_name="Grace", last_name="Hopper", email="grace@example.com")
    ada = create(db, staff, email="ada@example.com")
    with pytest.raises(ValidationFailed) as caught:
        edit(db, staff, ada, email="Grace@example.com")
    assert caught.value.errors == {
        "email": f"Grace Hopper already uses this email (UID {grace.uid})."
    }


def test_stale_edit_is_refused_naming_who_changed_it_and_when(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    record = create(db, admin)
    clock.advance(minutes=3)
    changed_at = clock.current
    staff_version = edit(db, staff, record, first_name="Augusta")
    clock.advance(minutes=2)
    with pytest.raises(Conflict) as caught:
        edit(db, admin, record, last_name="Byron")  # still based on version 1
    assert caught.value.changed_by == staff.user_id
    assert caught.value.changed_at == changed_at
    assert "Augusta Lovelace was changed by someone else" in caught.value.message
    assert get(db, admin, record.uid) == staff_version


def test_archiving_meanwhile_also_makes_an_edit_stale(
    db: Database, staff: Actor, admin: Actor
) -> None:
    record = create(db, staff)
    run(db, archive_customer, admin, record.uid)
    with pytest.raises(Conflict) as caught:
        edit(db, staff, record, first_name="Augusta")
    assert caught.value.changed_by == admin.user_id


# --- archive / activate ----------------------------------------------------------------------


def test_archive_and_activate_are_idempotent_with_history_only_on_change(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    record = create(db, staff)
    clock.advance(minutes=1)
    archived = run(db, archive_customer, staff, record.uid)
    assert archived.status is CustomerStatus.ARCHIVED
    assert archived.version == 2
    assert archived.updated_at == clock.current
    again = run(db, archive_customer, staff, record.uid)
    assert again == archived
    active = run(db, activate_customer, staff, record.uid)
    assert active.status is CustomerStatus.ACTIVE
    assert run(db, activate_customer, staff, record.uid) == active
    entries = history_of(db, record.uid)
    assert [(e.action, e.changes) for e in entries] == [
        ("created", entries[0].changes),
        ("archived", {"status": ["active", "archived"]}),
        ("activated", {"status": ["archived", "active"]}),
    ]


def test_archived_customers_move_to_the_archived_list(db: Database, staff: Actor) -> None:
    kept = create(db, staff, first_name="Kept")
    gone = create(db, staff, first_name="Gone")
    run(db, archive_customer, staff, gone.uid)
    with db.unit_of_work(readonly=True) as uow:
        active = list_customers(uow, staff, status=CustomerStatus.ACTIVE)
        archived = list_customers(uow, staff, status=CustomerStatus.ARCHIVED)
    assert [r.uid for r in active.rows] == [kept.uid]
    assert [r.uid for r in archived.rows] == [gone.uid]


# --- delete --------------------------------------------------------------------------------


def test_only_an_admin_may_delete(db: Database, staff: Actor) -> None:
    record = create(db, staff)
    with pytest.raises(Forbidden) as caught:
        run(db, delete_customer, staff, record.uid)
    assert "Only an admin can delete a customer" in caught.value.message
    assert get(db, staff, record.uid) == record


def test_delete_erases_the_customer_and_keeps_one_audit_entry(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    record = create(db, admin, password="Sunny-Day-42")
    edit(db, staff, record, first_name="Augusta")
    bystander = create(db, staff, first_name="Grace")
    clock.advance(days=1)
    assert run(db, delete_customer, admin, record.uid) == "Augusta Lovelace"
    with pytest.raises(NotFound):
        get(db, staff, record.uid)
    (entry,) = history_of(db, record.uid)
    assert entry.action == "deleted"
    assert entry.customer_id is None
    assert entry.actor == admin.user_id
    assert entry.created_at == clock.current
    assert outbox_of(db, record.email) == []
    assert not [place for place in stored_values(db) if record.email in place[2]]
    # Nobody else's records are touched.
    assert get(db, staff, bystander.uid) == bystander
    assert len(history_of(db, bystander.uid)) == 1
    assert len(outbox_of(db, bystander.email)) == 1


def test_deleting_a_merge_target_erases_the_records_merged_into_it(
    db: Database, staff: Actor, admin: Actor
) -> None:
    target = create(db, staff)
    merged = create(db, staff)
    with db.unit_of_work() as uow:
        target_id = uow.session.scalar(select(Customer.id).where(Customer.uid == target.uid))
        row = uow.session.scalars(select(Customer).where(Customer.uid == merged.uid)).one()
        row.merged_into_id = target_id
    assert get(db, staff, merged.uid).merged_into_uid == target.uid
    run(db, delete_customer, admin, target.uid)
    # A merged record is the same person: erasing them leaves no contact details behind.
    with pytest.raises(NotFound):
        get(db, staff, merged.uid)
    assert [entry.action for entry in history_of(db, merged.uid)] == ["deleted"]


@pytest.mark.parametrize("action", [get_customer, archive_customer, activate_customer])
def test_unknown_uid_is_not_found(
    db: Database, staff: Actor, action: Callable[..., object]
) -> None:
    with pytest.raises(NotFound) as caught:
        run(db, action, staff, "0000NOSUCH00")
    assert "No customer with UID 0000NOSUCH00" in caught.value.message


def test_deleting_or_editing_an_unknown_uid_is_not_found(db: Database, admin: Actor) -> None:
    with pytest.raises(NotFound):
        run(db, delete_customer, admin, "0000NOSUCH00")
    with pytest.raises(NotFound):
        run(db, edit_contact, admin, "0000NOSUCH00", form(), expected_version=1)


# --- tenant isolation --------------------------------------------------------------------------


def test_another_workspace_can_neither_see_nor_touch_a_customer(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    record = create(db, staff, first_name="Private", email="private@example.com")
    create(db, other_tenant, first_name="Theirs")
    before = counts(db)
    for action in (get_customer, archive_customer, activate_customer, delete_customer):
        with pytest.raises(NotFound):
            run(db, action, other_tenant, record.uid)
    with pytest.raises(NotFound):
        run(db, edit_contact, other_tenant, record.uid, form_of(record), expected_version=1)
    with db.unit_of_work(readonly=True) as uow:
        listed = list_customers(uow, other_tenant)
        found = search_customers(uow, other_tenant, "private")
        by_email = search_customers(uow, other_tenant, "private@example.com")
    assert [r.first_name for r in listed.rows] == ["Theirs"]
    assert listed.total == 1
    assert found == by_email == []
    assert get(db, staff, record.uid) == record
    assert counts(db) == before


# --- concurrency -------------------------------------------------------------------------------


def _email_workspace_ready(db: Database, actor: Actor) -> None:
    # The workspace exists already, so the racing requests collide only on the email.
    with db.unit_of_work() as uow:
        ensure_workspace(uow, actor.team_id)


def test_simultaneous_creates_with_one_email_let_exactly_one_through(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    _email_workspace_ready(db, staff)
    start = threading.Barrier(2, timeout=10)

    def attempt(actor: Actor, email: str) -> CustomerRecord:
        start.wait()
        return create(db, actor, email=email)

    futures = [
        pool.submit(attempt, staff, "same@example.com"),
        pool.submit(attempt, admin, "SAME@example.com"),
    ]
    outcomes = [f.exception(timeout=20) or f.result() for f in futures]
    winners = [o for o in outcomes if isinstance(o, CustomerRecord)]
    losers = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(winners) == len(losers) == 1, outcomes
    assert set(losers[0].errors) == {"email"}
    assert counts(db)["customers"] == 1


def test_create_losing_the_race_for_an_email_names_the_winner(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    _email_workspace_ready(db, staff)
    first, release = held_open(
        pool, db, lambda uow: create_customer(uow, admin, form(email="same@example.com"))
    )
    second = pool.submit(create, db, staff, email="same@example.com")
    wait_until_blocked(db)  # on PostgreSQL both passed the duplicate check
    release.set()
    winner = first.result(timeout=20)
    with pytest.raises(ValidationFailed) as caught:
        second.result(timeout=20)
    assert caught.value.errors == {
        "email": f"Ada Lovelace already uses this email (UID {winner.uid})."
    }
    assert counts(db)["customers"] == 1


def test_edit_losing_the_race_for_an_email_names_the_winner(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    grace = create(db, staff, first_name="Grace")
    ada = create(db, staff)
    first, release = held_open(
        pool,
        db,
        lambda uow: edit_contact(
            uow, admin, grace.uid, form_of(grace, email="new@example.com"), expected_version=1
        ),
    )
    second = pool.submit(edit, db, staff, ada, email="new@example.com")
    wait_until_blocked(db)
    release.set()
    first.result(timeout=20)
    with pytest.raises(ValidationFailed) as caught:
        second.result(timeout=20)
    assert caught.value.errors == {
        "email": f"Grace Lovelace already uses this email (UID {grace.uid})."
    }
    assert get(db, staff, ada.uid) == ada


def test_concurrent_edits_from_one_version_let_one_win(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    record = create(db, staff)
    first, release = held_open(
        pool,
        db,
        lambda uow: edit_contact(
            uow, admin, record.uid, form_of(record, first_name="Augusta"), expected_version=1
        ),
    )
    second = pool.submit(edit, db, staff, record, last_name="Byron")
    wait_until_blocked(db)  # on PostgreSQL the second edit waits for the first one's row lock
    release.set()
    winner = first.result(timeout=20)
    with pytest.raises(Conflict) as caught:
        second.result(timeout=20)
    assert caught.value.changed_by == admin.user_id
    assert get(db, staff, record.uid) == winner
    assert winner.full_name == "Augusta Lovelace"


def test_simultaneous_edits_from_one_version_let_exactly_one_through(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    record = create(db, staff)
    start = threading.Barrier(2, timeout=10)

    def attempt(actor: Actor, last_name: str) -> CustomerRecord:
        start.wait()
        return edit(db, actor, record, last_name=last_name)

    futures = [pool.submit(attempt, staff, "Byron"), pool.submit(attempt, admin, "King")]
    outcomes = [f.exception(timeout=20) or f.result() for f in futures]
    winners = [o for o in outcomes if isinstance(o, CustomerRecord)]
    assert len(winners) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert get(db, staff, record.uid) == winners[0]
    assert len(history_of(db, record.uid)) == 2


def test_first_requests_of_a_new_workspace_may_race(
    db: Database, staff: Actor, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    first, release = held_open(
        pool, db, lambda uow: create_customer(uow, admin, form(email="one@example.com"))
    )
    second = pool.submit(create, db, staff, email="two@example.com")
    wait_until_blocked(db)  # on PostgreSQL the second waits to create the same workspace
    release.set()
    created = {first.result(timeout=20).email, second.result(timeout=20).email}
    assert created == {"one@example.com", "two@example.com"}
    assert counts(db)["workspaces"] == 1


def test_only_an_admin_sets_a_password_and_nothing_is_written_otherwise(
    db: Database, staff: Actor
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(db, staff, password="Sunny-Day-42")
    assert caught.value.errors == {"password": ADMIN_SETS_PASSWORDS}
    record = create(db, staff)
    before = password_hash_of(db, record.uid)
    with pytest.raises(ValidationFailed) as caught:
        edit(db, staff, record, password="Rainy-Night-77")
    assert caught.value.errors == {"password": ADMIN_SETS_PASSWORDS}
    assert password_hash_of(db, record.uid) == before
    assert get(db, staff, record.uid).version == 1


def test_a_password_reset_mails_a_new_password_and_withdraws_the_unsent_one(
    db: Database, staff: Actor
) -> None:
    record = create(db, staff)
    (welcome,) = outbox_of(db, record.email)
    before = password_hash_of(db, record.uid)
    run(db, send_password_reset, staff, record.uid)
    mails = {mail.kind: mail for mail in outbox_of(db, record.email)}
    assert mails["welcome"].status is MailStatus.NOT_SENT and mails["welcome"].secret is None
    reset = mails["password_reset"]
    assert reset.status is MailStatus.PENDING and reset.secret is not None
    assert password_problems(reset.secret) is None and reset.secret not in reset.body
    stored = password_hash_of(db, record.uid)
    assert stored != before and stored is not None and verify_password(stored, reset.secret)
    actions = [entry.action for entry in history_of(db, record.uid)]
    assert actions[-2:] == ["mail not sent", "password reset"]
    assert welcome.secret not in str([e.detail for e in history_of(db, record.uid)])


def test_an_archived_customer_gets_no_password_reset(db: Database, staff: Actor) -> None:
    record = create(db, staff)
    run(db, archive_customer, staff, record.uid)
    with pytest.raises(DomainError, match="activate them before sending a password reset"):
        run(db, send_password_reset, staff, record.uid)
