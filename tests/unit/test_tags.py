"""Tags and marketing consent on SQLite and PostgreSQL: names and their boundaries, setting,
suggesting, renaming and merging tags (admins), consent changes, the marketing mail's gate,
customer merges and anonymising, and the migration going down and up again."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.actor import Actor
from core.adapters.mail import queue_marketing_mail, queue_welcome_mail
from core.db import Database
from core.errors import Forbidden, NotFound, ValidationFailed
from core.migrations.runner import alembic_config
from core.models import ConsentSource, ConsentState, Customer, CustomerTag, OutboxMail, Tag
from core.services.account import list_history, merge_customers
from core.services.anonymise import anonymise_customer
from core.services.consent import set_consent
from core.services.customer_columns import guess_mapping, read_csv
from core.services.customer_export import customers_csv
from core.services.customer_import import import_rows
from core.services.customers import CustomerInput, CustomerRecord, create_customer
from core.services.tags import (
    clean_names,
    customer_tags,
    join_tags,
    list_tags,
    merge_tags,
    rename_tag,
    set_customer_tags,
    split_tags,
    suggest_tags,
    tag_key,
)
from tests.conftest import MutableClock

T = TypeVar("T")
_serial = itertools.count(1)


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def customer(db: Database, actor: Actor, first: str = "Ada") -> CustomerRecord:
    data = CustomerInput(
        first_name=first,
        last_name="Lovelace",
        email=f"tags{next(_serial)}@example.com",
        mobile="+44 7700 900123",
    )
    return run(db, create_customer, actor, data, send_welcome=False)


def history(db: Database, actor: Actor, uid: str) -> list[tuple[str, dict[str, Any]]]:
    page = run(db, list_history, actor, uid, page_size=100)
    return [(row.action, row.changes) for row in page.rows]


def tag_id(db: Database, name: str) -> int:
    with db.unit_of_work(readonly=True) as uow:
        found = uow.session.scalar(select(Tag.id).where(Tag.name == name))
    assert found is not None
    return found


def test_names_are_trimmed_and_duplicates_differing_in_case_are_one_tag(
    db: Database, staff: Actor
) -> None:
    ada = customer(db, staff)
    tags = run(db, set_customer_tags, staff, ada.uid, ["  Early   bird ", "EARLY BIRD", "VIP", ""])
    assert tags == ["Early bird", "VIP"]
    bea = customer(db, staff, "Bea")
    # An existing tag keeps its spelling whatever case it is typed in.
    assert run(db, set_customer_tags, staff, bea.uid, ["vip"]) == ["VIP"]
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Tag)) == 2


def test_a_name_at_the_limit_is_kept_one_over_is_refused() -> None:
    assert clean_names(["x" * 40]) == ["x" * 40]
    with pytest.raises(ValidationFailed) as refused:
        clean_names(["x" * 41])
    assert "at most 40" in refused.value.errors["tags"]
    with pytest.raises(ValidationFailed) as refused:
        clean_names(["a;b"])
    assert "';' or ','" in refused.value.errors["tags"]
    with pytest.raises(ValidationFailed):
        clean_names([f"t{i}" for i in range(21)])
    assert clean_names(["   ", ""]) == []


def test_setting_tags_records_the_change_and_an_empty_list_removes_them(
    db: Database, staff: Actor
) -> None:
    ada = customer(db, staff)
    run(db, set_customer_tags, staff, ada.uid, ["VIP", "Beginner"])
    # The same tags again change nothing and write no history.
    run(db, set_customer_tags, staff, ada.uid, ["vip", "beginner"])
    assert run(db, set_customer_tags, staff, ada.uid, []) == []
    entries = [e for e in history(db, staff, ada.uid) if e[0] == "tags changed"]
    assert [e[1]["tags"] for e in entries] == [["Beginner; VIP", ""], ["", "Beginner; VIP"]]


def test_tags_belong_to_one_workspace(db: Database, staff: Actor, other_tenant: Actor) -> None:
    ada = customer(db, staff)
    run(db, set_customer_tags, staff, ada.uid, ["VIP"])
    assert run(db, suggest_tags, other_tenant, "v") == []
    assert run(db, list_tags, other_tenant) == []
    with pytest.raises(NotFound):
        run(db, set_customer_tags, other_tenant, ada.uid, ["VIP"])
    assert run(db, customer_tags, other_tenant, ada.uid) == []
    with pytest.raises(ValidationFailed):
        run(db, rename_tag, other_tenant, tag_id(db, "VIP"), "Mine")


def test_suggestions_match_anywhere_case_insensitively_and_escape_wildcards(
    db: Database, staff: Actor
) -> None:
    ada = customer(db, staff)
    run(db, set_customer_tags, staff, ada.uid, ["Early bird", "Bird watcher", "100% keen"])
    assert run(db, suggest_tags, staff, "BIRD") == ["Bird watcher", "Early bird"]
    assert run(db, suggest_tags, staff, "%") == ["100% keen"]
    assert run(db, suggest_tags, staff, "") == ["100% keen", "Bird watcher", "Early bird"]


def test_list_counts_customers_per_tag(db: Database, staff: Actor) -> None:
    for first, tags in (("Ada", ["VIP", "Kids"]), ("Bea", ["VIP"])):
        run(db, set_customer_tags, staff, customer(db, staff, first).uid, tags)
    assert [(t.name, t.customers) for t in run(db, list_tags, staff)] == [("Kids", 1), ("VIP", 2)]


def test_rename_is_for_admins_and_recorded_for_every_holder(
    db: Database, staff: Actor, admin: Actor
) -> None:
    ada, bea = customer(db, staff), customer(db, staff, "Bea")
    for who in (ada, bea):
        run(db, set_customer_tags, staff, who.uid, ["vip"])
    vip = tag_id(db, "vip")
    with pytest.raises(Forbidden):
        run(db, rename_tag, staff, vip, "VIP")
    renamed = run(db, rename_tag, admin, vip, "  VIP  ")
    assert (renamed.name, renamed.customers) == ("VIP", 2)
    for who in (ada, bea):
        assert ("tag renamed", {"tags": ["vip", "VIP"]}) in history(db, staff, who.uid)


def test_rename_onto_another_tags_name_is_refused_in_any_case(db: Database, admin: Actor) -> None:
    ada = customer(db, admin)
    run(db, set_customer_tags, admin, ada.uid, ["VIP", "Regular"])
    with pytest.raises(ValidationFailed) as refused:
        run(db, rename_tag, admin, tag_id(db, "Regular"), "vip")
    assert "merge" in refused.value.errors["new_name"]
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            run(db, rename_tag, admin, tag_id(db, "Regular"), blank)
        assert refused.value.errors["new_name"] == "A tag needs a name."
    assert run(db, customer_tags, admin, ada.uid) == ["Regular", "VIP"]


def test_merge_leaves_customers_holding_both_with_one(
    db: Database, staff: Actor, admin: Actor
) -> None:
    both, only = customer(db, staff), customer(db, staff, "Bea")
    run(db, set_customer_tags, staff, both.uid, ["VIP", "V.I.P."])
    run(db, set_customer_tags, staff, only.uid, ["V.I.P."])
    source, target = tag_id(db, "V.I.P."), tag_id(db, "VIP")
    with pytest.raises(Forbidden):
        run(db, merge_tags, staff, source, target)
    with pytest.raises(ValidationFailed):
        run(db, merge_tags, admin, target, target)
    merged = run(db, merge_tags, admin, source, target)
    assert (merged.name, merged.customers) == ("VIP", 2)
    assert run(db, customer_tags, staff, both.uid) == ["VIP"]
    assert run(db, customer_tags, staff, only.uid) == ["VIP"]
    assert [t.name for t in run(db, list_tags, admin)] == ["VIP"]
    assert ("tags merged", {"tags": ["V.I.P.", "VIP"]}) in history(db, staff, only.uid)
    # The merged tag is gone: merging it again says so.
    with pytest.raises(ValidationFailed) as refused:
        run(db, merge_tags, admin, source, target)
    assert "no longer exists" in refused.value.errors["tag"]


def test_consent_starts_unknown_and_each_change_is_in_the_history(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Customer).where(Customer.uid == ada.uid)).one()
        assert (row.marketing_consent, row.consent_at, row.consent_source) == (
            ConsentState.UNKNOWN,
            None,
            None,
        )
    given = run(db, set_consent, staff, ada.uid, ConsentState.GRANTED, ConsentSource.PHONE)
    assert (given.state, given.at, given.source) == (
        ConsentState.GRANTED,
        clock.current,
        ConsentSource.PHONE,
    )
    run(db, set_consent, staff, ada.uid, ConsentState.WITHDRAWN, ConsentSource.SLACK)
    changes = [c for a, c in history(db, staff, ada.uid) if a == "consent changed"]
    assert changes == [
        {"marketing_consent": ["granted", "withdrawn"]},
        {"marketing_consent": ["unknown", "granted"]},
    ]


def test_marketing_mail_goes_only_to_customers_who_granted_consent(
    db: Database, staff: Actor
) -> None:
    people = {state: customer(db, staff, state.value.title()) for state in ConsentState}
    for state, who in people.items():
        if state is not ConsentState.UNKNOWN:
            run(db, set_consent, staff, who.uid, state, ConsentSource.FORM)
    with db.unit_of_work() as uow:
        queued = {}
        for state, who in people.items():
            row = uow.session.scalars(select(Customer).where(Customer.uid == who.uid)).one()
            queued[state] = queue_marketing_mail(uow, row, subject="Spring offer", body="Hi")
            # Welcome mail is the customer's own business: no consent needed.
            assert queue_welcome_mail(uow, row, "S3cret!pass") is not None
    assert {state: mail is not None for state, mail in queued.items()} == {
        ConsentState.GRANTED: True,
        ConsentState.WITHDRAWN: False,
        ConsentState.UNKNOWN: False,
    }
    with db.unit_of_work(readonly=True) as uow:
        kinds = uow.session.scalars(select(OutboxMail.kind)).all()
    assert sorted(kinds).count("marketing") == 1
    assert sorted(kinds).count("welcome") == 3


def test_customer_merge_keeps_the_union_of_tags_and_the_latest_explicit_decision(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    source, target = customer(db, staff), customer(db, staff, "Bea")
    run(db, set_customer_tags, staff, source.uid, ["VIP", "Kids"])
    run(db, set_customer_tags, staff, target.uid, ["vip", "Mornings"])
    run(db, set_consent, staff, target.uid, ConsentState.GRANTED, ConsentSource.FORM)
    clock.advance(days=1)
    run(db, set_consent, staff, source.uid, ConsentState.WITHDRAWN, ConsentSource.PHONE)
    run(db, merge_customers, admin, source.uid, target.uid, reason="Same person")
    assert run(db, customer_tags, staff, target.uid) == ["Kids", "Mornings", "VIP"]
    assert run(db, customer_tags, staff, source.uid) == []
    with db.unit_of_work(readonly=True) as uow:
        kept = uow.session.scalars(select(Customer).where(Customer.uid == target.uid)).one()
        assert (kept.marketing_consent, kept.consent_source) == (
            ConsentState.WITHDRAWN,
            ConsentSource.PHONE,
        )
    merged_from = [c for a, c in history(db, staff, target.uid) if a == "merged from"]
    assert merged_from[0]["tags"] == [None, "Kids"]
    assert merged_from[0]["marketing_consent"] == ["granted", "withdrawn"]


def test_an_unknown_decision_never_overrides_an_explicit_one_in_a_merge(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    source, target = customer(db, staff), customer(db, staff, "Bea")
    run(db, set_consent, staff, source.uid, ConsentState.GRANTED, ConsentSource.FORM)
    clock.advance(days=1)
    run(db, set_consent, staff, target.uid, ConsentState.UNKNOWN, ConsentSource.SLACK)
    run(db, merge_customers, admin, source.uid, target.uid, reason="Same person")
    with db.unit_of_work(readonly=True) as uow:
        kept = uow.session.scalars(select(Customer).where(Customer.uid == target.uid)).one()
        assert kept.marketing_consent is ConsentState.GRANTED


def test_anonymise_removes_tags_and_resets_consent(
    db: Database, staff: Actor, admin: Actor
) -> None:
    ada = customer(db, staff)
    run(db, set_customer_tags, staff, ada.uid, ["VIP"])
    run(db, set_consent, staff, ada.uid, ConsentState.GRANTED, ConsentSource.FORM)
    run(db, anonymise_customer, admin, ada.uid)
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Customer).where(Customer.uid == ada.uid)).one()
        assert (row.marketing_consent, row.consent_at, row.consent_source) == (
            ConsentState.UNKNOWN,
            None,
            None,
        )
        assert uow.session.scalar(select(func.count()).select_from(CustomerTag)) == 0
    # Nothing new is taken by an anonymised record.
    with pytest.raises(Exception, match="anonymised"):
        run(db, set_customer_tags, staff, ada.uid, ["VIP"])


def test_migration_0026_goes_down_and_up_again(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    run(db, set_customer_tags, staff, ada.uid, ["VIP"])
    command.downgrade(alembic_config(db.engine), "0025")
    command.upgrade(alembic_config(db.engine), "head")
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Customer).where(Customer.uid == ada.uid)).one()
        assert row.marketing_consent is ConsentState.UNKNOWN
        assert uow.session.scalar(select(func.count()).select_from(Tag)) == 0


def _import(db: Database, actor: Actor, text: str) -> Any:
    parsed = read_csv(text.encode())
    return import_rows(db, actor, parsed, guess_mapping(parsed.header), source="tags.csv")


def test_import_reads_tags_and_consent_and_a_second_run_changes_nothing(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    known = customer(db, admin)
    run(db, set_customer_tags, admin, known.uid, ["Kids"])
    with db.unit_of_work(readonly=True) as uow:
        known_email = uow.session.scalar(select(Customer.email).where(Customer.uid == known.uid))
    text = (
        "first_name,last_name,email,tags,marketing_consent,consent_at\n"
        "Cleo,Park,cleo@example.com,VIP; Early bird,granted,2026-01-05T10:00:00+00:00\n"
        f"Ada,Lovelace,{known_email},vip,withdrawn,\n"
        "Dan,Roe,dan@example.com,,unknown,\n"
        "Eve,Moe,eve@example.com,,maybe,\n"
    )
    report = _import(db, admin, text)
    assert [line.outcome.value for line in report.lines] == ["new", "updated", "new", "invalid"]
    assert "Marketing consent 'maybe'" in report.lines[3].reason
    with db.unit_of_work(readonly=True) as uow:
        rows = {
            c.email: (c.uid, c.marketing_consent, c.consent_at, c.consent_source)
            for c in uow.session.scalars(select(Customer))
        }
    cleo, ada, dan = rows["cleo@example.com"], rows[known_email], rows["dan@example.com"]
    assert (cleo[1], cleo[3]) == (ConsentState.GRANTED, ConsentSource.IMPORT)
    assert cleo[2] is not None and cleo[2].isoformat().startswith("2026-01-05")
    assert (ada[1], ada[2], ada[3]) == (ConsentState.WITHDRAWN, clock.current, ConsentSource.IMPORT)
    assert (dan[1], dan[2]) == (ConsentState.UNKNOWN, None)
    assert run(db, customer_tags, admin, cleo[0]) == ["Early bird", "VIP"]
    # The file's tags are added to those the customer holds, as the workspace spells them.
    assert run(db, customer_tags, admin, ada[0]) == ["Kids", "VIP"]
    assert (
        "updated by import",
        {"tags": ["Kids", "Kids; VIP"], "marketing_consent": ["unknown", "withdrawn"]},
    ) in history(db, admin, ada[0])
    again = _import(db, admin, text)
    assert [line.outcome.value for line in again.lines] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "invalid",
    ]


def test_an_export_imported_again_changes_nothing(db: Database, admin: Actor) -> None:
    ada = customer(db, admin)
    run(db, set_customer_tags, admin, ada.uid, ["VIP", "=Early"])
    run(db, set_consent, admin, ada.uid, ConsentState.GRANTED, ConsentSource.SLACK)
    with db.unit_of_work(readonly=True) as uow:
        exported = customers_csv(uow, admin).text
    report = _import(db, admin, exported)
    assert [line.outcome.value for line in report.lines] == ["unchanged"]


@given(st.lists(st.text(max_size=50), max_size=25))
def test_cleaned_names_are_distinct_trimmed_and_clean_again_unchanged(raw: list[str]) -> None:
    try:
        names = clean_names(raw)
    except ValidationFailed as refused:
        errors = refused.errors
        names = []
    else:
        errors = {}
    assert set(errors) <= {"tags"}
    assert len({tag_key(name) for name in names}) == len(names) <= 20
    assert all(name == name.strip() and 0 < len(name) <= 40 for name in names)
    assert clean_names(names) == names
    assert split_tags(join_tags(names)) == names
