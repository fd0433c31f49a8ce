"""Merging customers on SQLite and PostgreSQL: nothing lost, both histories, refusals, races."""

# ruff: noqa: F811 - tests take the imported `pool` fixture as a parameter

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Base,
    Booking,
    BookingState,
    Customer,
    CustomerStatus,
    Event,
    EventOccurrence,
    Facilitator,
    HistoryEntry,
    MailStatus,
    Note,
    OutboxMail,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    QuestionnaireResponse,
    QuestionnaireTemplate,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Video,
    VideoPurchase,
)
from core.services.account import (
    MergePreview,
    list_history,
    merge_candidates,
    merge_customers,
    merge_preview,
)
from core.services.customers import (
    CustomerInput,
    CustomerRecord,
    activate_customer,
    archive_customer,
    create_customer,
    edit_contact,
    get_customer,
)
from core.services.notes import add_note, edit_note, list_notes
from core.services.questionnaires import assign_questionnaire
from core.services.workspaces import ensure_workspace
from tests.concurrency import held_open, pool, wait_until_blocked  # noqa: F401 - a fixture
from tests.conftest import MutableClock

T = TypeVar("T")
_serial = itertools.count(1)
TABS: dict[str, type[Base]] = {
    "bookings": Booking,
    "appointments": Appointment,
    "passes": Pass,
    "videos": VideoPurchase,
    "subscriptions": Subscription,
    "questionnaires": QuestionnaireResponse,
    "notes": Note,
    "history": HistoryEntry,
}


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def customer(
    db: Database, actor: Actor, first: str, last: str = "Lovelace", *, welcome: bool = False
) -> CustomerRecord:
    data = CustomerInput(
        first_name=first,
        last_name=last,
        email=f"merge{next(_serial)}@example.com",
        mobile="+44 7700 900123",
    )
    return run(db, create_customer, actor, data, send_welcome=welcome)


@dataclass(frozen=True)
class Catalog:
    """One of everything a customer can book or be assigned."""

    occurrence: int
    service: int
    facilitator: int
    pass_type: int
    video: int
    plan: int
    template: int


@pytest.fixture
def catalog(db: Database, admin: Actor, clock: MutableClock) -> Catalog:
    team = admin.team_id
    with db.unit_of_work() as uow:
        ensure_workspace(uow, team)
        event = Event(
            team_id=team,
            key="yoga",
            name="Morning Yoga",
            timezone="Europe/London",
            price_minor=1200,
            credit_price=1,
            capacity=20,
        )
        service = AppointmentService(
            team_id=team, key="massage", name="Massage", duration_minutes=60, price_minor=5000
        )
        rows: list[Base] = [
            event,
            service,
            facilitator := Facilitator(team_id=team, key="sam", name="Sam"),
            pass_type := PassType(
                team_id=team,
                key="ten",
                name="10 classes",
                credits=10,
                validity_days=90,
                price_minor=9000,
            ),
            video := Video(team_id=team, key="flow", title="Flow", price_minor=800, credit_price=1),
            plan := SubscriptionPlan(
                team_id=team, key="monthly", name="Monthly", price_minor=4000, interval="month"
            ),
            template := QuestionnaireTemplate(
                team_id=team, key="health", name="Health form", questions=["Injuries?", "Meds?"]
            ),
        ]
        uow.session.add_all(rows)
        uow.session.flush()
        occurrence = EventOccurrence(
            team_id=team,
            event_id=event.id,
            starts_at=clock.current + timedelta(days=3),
            duration_minutes=60,
            timezone="Europe/London",
            capacity=20,
            price_minor=1200,
        )
        uow.session.add(occurrence)
        uow.session.flush()
        return Catalog(
            occurrence.id, service.id, facilitator.id, pass_type.id, video.id, plan.id, template.id
        )


def give(db: Database, actor: Actor, catalog: Catalog, uid: str, n: int) -> None:
    """`n` rows of every tab for customer `uid`, notes and questionnaires through the services."""
    for i in range(n):
        run(db, add_note, actor, uid, f"Note {i + 1}")
        run(db, assign_questionnaire, actor, uid, catalog.template)
    with db.unit_of_work() as uow:
        now = uow.now()
        customer_id = uow.session.scalars(select(Customer.id).where(Customer.uid == uid)).one()
        owned = {"team_id": actor.team_id, "customer_id": customer_id, "currency": "GBP"}
        for _ in range(n):
            uow.session.add_all(
                [
                    Booking(
                        **owned,
                        occurrence_id=catalog.occurrence,
                        booked_at=now,
                        price_minor=1200,
                        state=BookingState.MANUAL,
                        payment_method=PaymentMethod.MANUAL,
                    ),
                    Appointment(
                        **owned,
                        service_id=catalog.service,
                        facilitator_id=catalog.facilitator,
                        booked_at=now,
                        starts_at=now + timedelta(days=1),
                        duration_minutes=60,
                        price_minor=5000,
                        payment_method=PaymentMethod.MANUAL,
                        state=AppointmentState.SCHEDULED,
                    ),
                    Pass(
                        **owned,
                        pass_type_id=catalog.pass_type,
                        purchased_at=now,
                        valid_from=date(2026, 3, 1),
                        valid_to=date(2026, 6, 1),
                        credits_total=10,
                        credits_remaining=7,
                        price_minor=9000,
                        payment_method=PaymentMethod.MANUAL,
                        state=PassState.MANUAL,
                    ),
                    VideoPurchase(
                        **owned,
                        video_id=catalog.video,
                        purchased_at=now,
                        price_minor=800,
                        payment_method=PaymentMethod.MANUAL,
                    ),
                    Subscription(
                        **owned,
                        plan_id=catalog.plan,
                        created_at=now,
                        next_payment_at=now + timedelta(days=30),
                        price_minor=4000,
                        state=SubscriptionState.ACTIVE,
                    ),
                ]
            )


def counts_of(db: Database, uid: str) -> dict[str, int]:
    """Rows per tab table that belong to customer `uid`."""
    with db.engine.connect() as conn:
        customer_id = conn.scalar(select(Customer.id).where(Customer.uid == uid))
        return {
            tab: conn.scalar(
                select(func.count())
                .select_from(model)
                .where(Base.metadata.tables[model.__tablename__].c.customer_id == customer_id)
            )
            or 0
            for tab, model in TABS.items()
        }


def table_totals(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def merge(db: Database, actor: Actor, source: str, target: str) -> MergePreview:
    return run(db, merge_customers, actor, source, target, reason="Same person")


# --- nothing lost -------------------------------------------------------------------------------


def test_merge_moves_every_row_of_every_tab_and_loses_nothing(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    give(db, staff, catalog, source.uid, 3)
    give(db, staff, catalog, target.uid, 2)
    source_before, target_before = counts_of(db, source.uid), counts_of(db, target.uid)
    assert all(source_before.values()) and all(target_before.values())
    totals_before = table_totals(db)

    result = merge(db, admin, source.uid, target.uid)

    source_after, target_after = counts_of(db, source.uid), counts_of(db, target.uid)
    assert result.counts == source_before
    # The source keeps only the entry saying where everything went; each side gains one entry.
    assert source_after == {tab: 1 if tab == "history" else 0 for tab in TABS}
    assert target_after == {
        tab: target_before[tab] + source_before[tab] + (1 if tab == "history" else 0)
        for tab in TABS
    }
    totals_after = table_totals(db)
    assert totals_after == totals_before | {"account_history": totals_before["account_history"] + 2}


def test_merge_archives_the_source_pointing_at_the_kept_customer(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    result = merge(db, admin, source.uid, target.uid)
    assert result.source == run(db, get_customer, staff, source.uid)
    assert result.target == run(db, get_customer, staff, target.uid)
    assert (result.source.status, result.source.merged_into_uid) == (
        CustomerStatus.ARCHIVED,
        target.uid,
    )
    assert (result.target.status, result.target.merged_into_uid) == (CustomerStatus.ACTIVE, None)
    assert result.source.updated_by == result.target.updated_by == "UADMIN"


def test_both_histories_record_the_merge_and_the_kept_one_shows_the_trail(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    give(db, staff, catalog, source.uid, 1)
    give(db, staff, catalog, target.uid, 2)
    merge(db, admin, source.uid, target.uid)

    (on_source,) = run(db, list_history, staff, source.uid).rows
    assert (on_source.action, on_source.actor) == ("merged into", "UADMIN")
    assert on_source.changes == {
        "merged_into": [None, target.uid],
        "status": ["active", "archived"],
    }
    assert on_source.detail == (
        f"merged into Augusta King (UID {target.uid}); reason: Same person; moved bookings 1, "
        "appointments 1, "
        "passes 1, videos 1, subscriptions 1, questionnaires 1, notes 1, history 3"
    )

    history = run(db, list_history, staff, target.uid, page_size=100).rows
    merged_from = history[0]
    assert merged_from.action == "merged from"
    assert merged_from.detail.startswith(
        f"merged from Ada Lovelace (UID {source.uid}); reason: Same person; moved bookings 1, "
    )
    assert merged_from.changes["bookings"] == [2, 3]
    assert merged_from.changes["history"] == [5, 8]
    # Moved entries keep the UID they were written for: the trail shows where they came from.
    came_over = [row for row in history if row.customer_uid == source.uid]
    assert sorted(row.action for row in came_over) == [
        "created",
        "note added",
        "questionnaire assigned",
    ]
    assert {row.customer_uid for row in history} == {source.uid, target.uid}


def test_preview_counts_what_would_move_and_changes_nothing(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    give(db, staff, catalog, source.uid, 2)
    before = table_totals(db)
    preview = run(db, merge_preview, admin, source.uid, target.uid)
    assert list(preview.counts) == list(TABS)  # in the order of the tabs
    assert preview.counts == counts_of(db, source.uid)
    assert (preview.source, preview.target) == (
        run(db, get_customer, staff, source.uid),
        run(db, get_customer, staff, target.uid),
    )
    assert table_totals(db) == before


def test_moved_rows_and_both_customers_get_new_versions(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    give(db, staff, catalog, source.uid, 1)
    merge(db, admin, source.uid, target.uid)
    with db.engine.connect() as conn:
        for model in (Booking, Appointment, Pass, VideoPurchase, Subscription):
            version = Base.metadata.tables[model.__tablename__].c.version
            assert conn.scalar(select(version)) == 2, model.__name__
    # Edit Contact forms opened before the merge are stale on both sides.
    for record in (source, target):
        data = CustomerInput(
            first_name="Changed",
            last_name=record.last_name,
            email=record.email,
            mobile=record.mobile,
        )
        with pytest.raises(Conflict):
            run(db, edit_contact, staff, record.uid, data, expected_version=record.version)


def test_merging_an_archived_duplicate_is_allowed(db: Database, admin: Actor, staff: Actor) -> None:
    source = customer(db, staff, "Ada")
    target = customer(db, staff, "Augusta", "King")
    run(db, archive_customer, staff, source.uid)
    result = merge(db, admin, source.uid, target.uid)
    assert result.source.merged_into_uid == target.uid
    (merged,) = run(db, list_history, staff, source.uid).rows
    assert (merged.action, merged.changes) == ("merged into", {"merged_into": [None, target.uid]})
    moved = run(db, list_history, staff, target.uid).rows
    assert [(r.action, r.customer_uid) for r in moved][1] == ("archived", source.uid)


def test_a_pending_welcome_mail_of_the_source_is_not_sent(
    db: Database, admin: Actor, staff: Actor
) -> None:
    source = customer(db, staff, "Ada", welcome=True)
    target = customer(db, staff, "Augusta", "King", welcome=True)
    merge(db, admin, source.uid, target.uid)
    with db.engine.connect() as conn:
        mails = {
            row.to_address: row
            for row in conn.execute(
                select(
                    OutboxMail.to_address,
                    OutboxMail.status,
                    OutboxMail.secret,
                    OutboxMail.last_error,
                )
            )
        }
    dropped, kept = mails[source.email], mails[target.email]
    assert (dropped.status, dropped.secret) == (MailStatus.NOT_SENT.value, None)
    assert target.uid in dropped.last_error
    assert kept.status == MailStatus.PENDING.value and kept.secret
    (entry,) = run(db, list_history, staff, source.uid).rows
    assert entry.detail.endswith("; its pending portal welcome mail was not sent")


# --- refusals -----------------------------------------------------------------------------------


def refused(db: Database, actor: Actor, source: str, target: str) -> DomainError:
    """The merge's refusal, checking that neither the preview nor the merge changed anything."""
    before = table_totals(db), counts_of(db, source), counts_of(db, target)
    with pytest.raises(DomainError) as by_preview:
        run(db, merge_preview, actor, source, target)
    with pytest.raises(DomainError) as by_merge:
        merge(db, actor, source, target)
    assert type(by_preview.value) is type(by_merge.value)
    assert by_preview.value.message == by_merge.value.message
    assert (table_totals(db), counts_of(db, source), counts_of(db, target)) == before
    return by_merge.value


def test_merging_a_customer_into_itself_is_refused(db: Database, admin: Actor) -> None:
    ada = customer(db, admin, "Ada")
    error = refused(db, admin, ada.uid, ada.uid)
    assert isinstance(error, ValidationFailed)
    assert error.errors == {
        "target": "Choose another customer to keep: a customer cannot be merged into itself."
    }


def test_merging_into_an_archived_customer_is_refused(db: Database, admin: Actor) -> None:
    ada = customer(db, admin, "Ada")
    augusta = customer(db, admin, "Augusta", "King")
    run(db, archive_customer, admin, augusta.uid)
    error = refused(db, admin, ada.uid, augusta.uid)
    assert isinstance(error, ValidationFailed)
    assert error.errors == {
        "target": "Augusta King is archived; activate them first, or keep an active customer."
    }


def test_merging_into_an_already_merged_customer_is_refused_naming_the_kept_one(
    db: Database, admin: Actor
) -> None:
    ada = customer(db, admin, "Ada")
    augusta = customer(db, admin, "Augusta", "King")
    byron = customer(db, admin, "Annabella", "Byron")
    merge(db, admin, augusta.uid, byron.uid)
    error = refused(db, admin, ada.uid, augusta.uid)
    assert isinstance(error, ValidationFailed)
    assert error.errors == {
        "target": f"Augusta King was merged into Annabella Byron (UID {byron.uid}); "
        "keep that customer instead."
    }


def test_merging_an_already_merged_customer_again_is_refused(db: Database, admin: Actor) -> None:
    ada = customer(db, admin, "Ada")
    augusta = customer(db, admin, "Augusta", "King")
    byron = customer(db, admin, "Annabella", "Byron")
    merge(db, admin, ada.uid, augusta.uid)
    error = refused(db, admin, ada.uid, byron.uid)
    assert isinstance(error, Conflict)
    assert (
        error.message == f"Ada Lovelace was already merged into Augusta King (UID {augusta.uid})."
    )


def test_only_an_admin_may_merge(db: Database, admin: Actor, staff: Actor) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    error = refused(db, staff, ada.uid, augusta.uid)
    assert isinstance(error, Forbidden)
    assert error.message == "Only an admin can merge customers; ask an admin to do it."


def test_another_workspaces_customer_can_be_neither_side(
    db: Database, admin: Actor, other_tenant: Actor
) -> None:
    ours = customer(db, admin, "Ada")
    theirs = customer(db, other_tenant, "Augusta", "King")
    assert isinstance(refused(db, admin, ours.uid, theirs.uid), NotFound)
    assert isinstance(refused(db, admin, theirs.uid, ours.uid), NotFound)
    assert isinstance(refused(db, other_tenant, ours.uid, theirs.uid), NotFound)
    assert isinstance(refused(db, admin, ours.uid, "NOSUCHUID000"), NotFound)


def test_a_merged_customer_takes_no_new_notes_or_questionnaires(
    db: Database, admin: Actor, staff: Actor, catalog: Catalog
) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    merge(db, admin, ada.uid, augusta.uid)
    expected = (
        f"Ada Lovelace was merged into Augusta King (UID {augusta.uid}); "
        "open the kept customer's record instead."
    )
    with pytest.raises(Conflict) as note_refused:
        run(db, add_note, staff, ada.uid, "Too late")
    assert note_refused.value.message == expected
    with pytest.raises(Conflict) as questionnaire_refused:
        run(db, assign_questionnaire, staff, ada.uid, catalog.template)
    assert questionnaire_refused.value.message == expected
    assert counts_of(db, ada.uid)["notes"] == counts_of(db, ada.uid)["questionnaires"] == 0


def test_notes_stay_editable_by_id_after_moving(db: Database, admin: Actor, staff: Actor) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    merge(db, admin, ada.uid, augusta.uid)
    edited = run(db, edit_note, staff, note.id, "Prefers evenings.")
    assert edited.customer_uid == augusta.uid
    assert run(db, list_history, staff, augusta.uid).rows[0].action == "note edited"


# --- the merge target picker ---------------------------------------------------------------------


def test_candidates_are_active_unmerged_others_of_the_workspace(
    db: Database, admin: Actor, other_tenant: Actor
) -> None:
    ada = customer(db, admin, "Ada")
    twin = customer(db, admin, "Ada", "Lovelace-King")
    archived = customer(db, admin, "Ada", "Archived")
    merged = customer(db, admin, "Ada", "Merged")
    customer(db, other_tenant, "Ada", "Elsewhere")
    run(db, archive_customer, admin, archived.uid)
    merge(db, admin, merged.uid, twin.uid)
    found = run(db, merge_candidates, admin, ada.uid, "ada")
    assert [c.uid for c in found] == [twin.uid]
    assert run(db, merge_candidates, admin, ada.uid, "") == []
    with pytest.raises(NotFound):
        run(db, merge_candidates, other_tenant, ada.uid, "ada")


def test_candidates_fill_the_limit_even_when_the_source_matches(db: Database, admin: Actor) -> None:
    ada = customer(db, admin, "Ada", "Aaa")
    others = [customer(db, admin, "Ada", f"B{i}") for i in range(3)]
    found = run(db, merge_candidates, admin, ada.uid, "ada", limit=3)
    assert [c.uid for c in found] == [c.uid for c in others]


# --- races ----------------------------------------------------------------------------------------


def test_a_note_added_while_merging_is_refused_not_left_behind(
    db: Database, admin: Actor, staff: Actor, pool: ThreadPoolExecutor
) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    merging, release = held_open(
        pool,
        db,
        lambda uow: merge_customers(uow, admin, ada.uid, augusta.uid, reason="Same person"),
    )
    adding = pool.submit(run, db, add_note, staff, ada.uid, "Added during the merge")
    wait_until_blocked(db)  # on PostgreSQL the note waits for the merge's lock on Ada
    release.set()
    merging.result(timeout=20)
    with pytest.raises(Conflict):
        adding.result(timeout=20)
    assert counts_of(db, ada.uid)["notes"] == counts_of(db, augusta.uid)["notes"] == 0


def test_a_note_added_just_before_the_merge_moves_with_it(
    db: Database, admin: Actor, staff: Actor, pool: ThreadPoolExecutor
) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    adding, release = held_open(
        pool, db, lambda uow: add_note(uow, staff, ada.uid, "Added before the merge")
    )
    merging = pool.submit(merge, db, admin, ada.uid, augusta.uid)
    wait_until_blocked(db)
    release.set()
    note = adding.result(timeout=20)
    assert merging.result(timeout=20).counts["notes"] == 1
    assert run(db, list_notes, staff, augusta.uid).rows[0].id == note.id
    assert counts_of(db, ada.uid) == {tab: 1 if tab == "history" else 0 for tab in TABS}


def test_a_note_edited_during_the_merge_follows_it_to_the_kept_customer(
    db: Database, admin: Actor, staff: Actor, pool: ThreadPoolExecutor
) -> None:
    ada = customer(db, staff, "Ada")
    augusta = customer(db, staff, "Augusta", "King")
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    merging, release = held_open(
        pool,
        db,
        lambda uow: merge_customers(uow, admin, ada.uid, augusta.uid, reason="Same person"),
    )
    editing = pool.submit(run, db, edit_note, staff, note.id, "Prefers evenings.")
    wait_until_blocked(db)
    release.set()
    merging.result(timeout=20)
    assert editing.result(timeout=20).customer_uid == augusta.uid
    assert counts_of(db, ada.uid) == {tab: 1 if tab == "history" else 0 for tab in TABS}
    assert run(db, list_history, staff, augusta.uid).rows[0].action == "note edited"


def test_opposite_merges_at_once_let_exactly_one_through(
    db: Database, admin: Actor, pool: ThreadPoolExecutor
) -> None:
    ada = customer(db, admin, "Ada")
    augusta = customer(db, admin, "Augusta", "King")
    start = threading.Barrier(2, timeout=10)

    def attempt(source: str, target: str) -> MergePreview:
        start.wait()
        return merge(db, admin, source, target)

    futures = [
        pool.submit(attempt, ada.uid, augusta.uid),
        pool.submit(attempt, augusta.uid, ada.uid),
    ]
    outcomes = [f.exception(timeout=20) or f.result() for f in futures]
    winners = [o for o in outcomes if isinstance(o, MergePreview)]
    assert len(winners) == 1, outcomes
    assert sum(isinstance(o, ValidationFailed) for o in outcomes) == 1, outcomes
    kept = winners[0].target
    assert run(db, get_customer, admin, kept.uid).merged_into_uid is None
    assert run(db, get_customer, admin, winners[0].source.uid).merged_into_uid == kept.uid


def test_a_merged_customer_cannot_be_activated_again(db: Database, admin: Actor) -> None:
    source, target = customer(db, admin, "Zoe"), customer(db, admin, "Zoey")
    merge(db, admin, source.uid, target.uid)
    with pytest.raises(Conflict, match="merged into"):
        run(db, activate_customer, admin, source.uid)
