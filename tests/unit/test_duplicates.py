"""One record per person: the matching rules, the form's check, the report, Not a duplicate."""

from __future__ import annotations

import pytest

from core.actor import Actor
from core.db import Database
from core.demo.customers import load_demo_customers
from core.errors import Forbidden
from core.models import Role
from core.services.account import list_history, merge_customers
from core.services.customers import (
    CustomerInput,
    PossibleDuplicate,
    archive_customer,
    create_customer,
    delete_customer,
    edit_contact,
)
from core.services.duplicates import find_duplicates, mark_not_duplicate
from core.services.matching import (
    Contact,
    Evidence,
    email_name,
    evidence,
    form_matches,
    name_evidence,
    normalise_email,
    warns_on_form,
)
from tests.statements import captured

TEAM = "T0001"
ADMIN = Actor(TEAM, "UADMIN", Role.ADMIN)
STAFF = Actor(TEAM, "USTAFF", Role.STAFF)


def _contact(first: str, last: str, email: str, mobile: str = "") -> Contact:
    return Contact(first, last, email, mobile)


# --- the rules, on their own ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [
        ("Zoe.Adams@Example.com", "zoe.adams@example.com"),
        ("zoe.adams+yoga@example.com", "zoe.adams@example.com"),
        ("Z.o.e.Adams+x@gmail.com", "zoeadams@gmail.com"),
        ("zoeadams@googlemail.com", "zoeadams@gmail.com"),
        ("+tag@example.com", "+tag@example.com"),
    ],
)
def test_an_address_normalises_to_the_mailbox_it_reaches(email: str, mailbox: str) -> None:
    assert normalise_email(email) == mailbox


def test_names_match_without_case_accents_or_one_slip() -> None:
    assert name_evidence("Zoë Adams", "zoe  ADAMS") is Evidence.SAME_NAME
    assert name_evidence("Zoe Adams", "Zoey Adams") is Evidence.SIMILAR_NAME
    assert name_evidence("Adams Zoe", "Zoe Adams") is Evidence.SIMILAR_NAME
    assert name_evidence("Siobhán O'Sullivan", "Siobhan O'Sulivan") is Evidence.SIMILAR_NAME
    assert name_evidence("Zoe Adams", "Zack Adler") is None
    assert name_evidence("Ann Lee", "Ian Lee") is None  # two slips in a short name


def test_evidence_and_when_a_form_warns() -> None:
    zoe = _contact("Zoë", "Adams", "zoe.adams@example.com", "+447700900123")
    same_mobile = _contact("Bob", "Brown", "bob@example.org", "+447700900123")
    same_mailbox = _contact("Z", "A", "zoe.adams+spa@example.com")
    name_and_local = _contact("zoe", "adams", "zoe.adams@other.org")
    name_only = _contact("Zoe", "Adams", "zadams@other.org")
    local_only = _contact("Quentin", "Zyx", "zoe.adams@other.org")
    assert evidence(zoe, same_mobile) == (Evidence.MOBILE,)
    assert evidence(zoe, same_mailbox) == (Evidence.EMAIL,)
    assert evidence(zoe, name_and_local) == (Evidence.SAME_NAME, Evidence.EMAIL_NAME)
    assert [warns_on_form(evidence(zoe, c)) for c in (same_mobile, same_mailbox)] == [True, True]
    assert warns_on_form(evidence(zoe, name_and_local))
    assert not warns_on_form(evidence(zoe, name_only))
    assert not warns_on_form(evidence(zoe, local_only))
    assert email_name("Zoe.Adams+x@gmail.com") == "zoeadams"


# --- the form's check ------------------------------------------------------------------------


def _create(db: Database, first: str, last: str, email: str, mobile: str, **kw: bool) -> str:
    with db.unit_of_work() as uow:
        data = CustomerInput(first_name=first, last_name=last, email=email, mobile=mobile)
        return create_customer(uow, ADMIN, data, send_welcome=False, **kw).uid


def test_create_warns_of_a_possible_match_and_saves_when_confirmed(db: Database) -> None:
    zoe = _create(db, "Zoë", "Adams", "zoe.adams@example.com", "+44 7700 900123")
    typed = CustomerInput(
        first_name="zoe", last_name="adams", email="zoe.adams@other.org", mobile="07700 900999"
    )
    with db.unit_of_work() as uow, pytest.raises(PossibleDuplicate) as warned:
        create_customer(uow, STAFF, typed, send_welcome=False, duplicates_ok=False)
    (match,) = warned.value.matches
    assert match.customer.uid == zoe and match.field == "email"
    assert match.evidence == (Evidence.SAME_NAME, Evidence.EMAIL_NAME)
    # The same mobile (typed nationally, compared in E.164) lands under Mobile.
    other = typed.model_copy(
        update={"first_name": "Ann", "email": "ann@x.org", "mobile": "07700900123"}
    )
    with db.unit_of_work() as uow, pytest.raises(PossibleDuplicate) as warned:
        create_customer(uow, STAFF, other, send_welcome=False, duplicates_ok=False)
    assert warned.value.matches[0].field == "mobile"
    with db.unit_of_work() as uow:
        saved = create_customer(uow, STAFF, typed, send_welcome=False, duplicates_ok=True)
    assert saved.uid != zoe


def test_an_edit_warns_only_when_it_changes_the_contact(db: Database) -> None:
    _create(db, "Zoë", "Adams", "zoe.adams@example.com", "+44 7700 900123")
    ann = _create(db, "Ann", "Lee", "ann@example.com", "+44 7700 900456")
    moved = CustomerInput(
        first_name="Ann", last_name="Lee", email="ann@example.com", mobile="+44 7700 900123"
    )
    with db.unit_of_work() as uow, pytest.raises(PossibleDuplicate):
        edit_contact(uow, STAFF, ann, moved, expected_version=1, duplicates_ok=False)
    same = moved.model_copy(update={"mobile": "+44 7700 900456"})
    with db.unit_of_work() as uow:
        edit_contact(uow, STAFF, ann, same, expected_version=1, duplicates_ok=False)


def test_the_form_check_matches_an_address_start_literally(db: Database) -> None:
    # "_" would be a LIKE wildcard, and "a_b" is the range's bound: "axb…" is no match.
    _create(db, "Ann", "Bell", "axb@example.com", "+44 7700 900201")
    kept = _create(db, "Ann", "Bell", "a_b.bell@example.com", "+44 7700 900202")
    typed = CustomerInput(
        first_name="Ann", last_name="Bell", email="a_b.bell@other.org", mobile="+44 7700 900203"
    )
    with db.unit_of_work() as uow, pytest.raises(PossibleDuplicate) as warned:
        create_customer(uow, STAFF, typed, send_welcome=False, duplicates_ok=False)
    assert [m.customer.uid for m in warned.value.matches] == [kept]


def test_the_form_check_reads_customers_through_indexes(db: Database) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM, 2000, seed=7)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE customers")
    typed = Contact("Mary", "Smith", "mary.smith@example.com", "+447700900001")
    seen = captured(db, lambda uow: form_matches(uow, ADMIN, typed))
    ((statement, parameters),) = [(s, p) for s, p in seen if "customers" in s]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            # On a few thousand rows a scan costs the planner about what an index does.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            shown = "\n".join(plan)
            assert "ix_customers_mobile" in shown and "ix_customers_email_start" in shown
        else:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            shown = "\n".join(row[-1] for row in plan)
            assert "ix_customers_mobile" in shown and "email>? AND email<?" in shown
        assert "SCAN customers" not in shown and "Seq Scan" not in shown, shown


# --- the report ------------------------------------------------------------------------------


def test_the_report_ranks_pairs_by_evidence_and_forgets_dismissed_ones(db: Database) -> None:
    zoe = _create(db, "Zoë", "Adams", "zoe.adams@gmail.com", "+44 7700 900123")
    both = _create(
        db, "Zoe", "Adams", "zoeadams+x@gmail.com", "+44 7700 900123", duplicates_ok=True
    )
    mobile = _create(db, "Bob", "Brown", "bob@example.com", "+44 7700 900777")
    mobile_too = _create(db, "Rob", "Green", "rob@example.org", "+44 7700 900777")
    named = _create(db, "Quentin", "Zyx", "quentin.zyx@example.com", "+44 7700 900001")
    named_too = _create(db, "Quentín", "Zyxx", "quentin.zyx@other.org", "+44 7700 900002")
    _create(db, "Quentin", "Zyx", "qz@elsewhere.org", "+44 7700 900003")  # name only: not listed
    with db.unit_of_work(readonly=True) as uow:
        report = find_duplicates(uow, ADMIN)
    pairs = [(p.keep.uid, p.other.uid) for p in report.pairs]
    assert report.total == 3
    # Mobile, mailbox and name beat mobile alone, which beats a similar name and email name.
    assert pairs == [(zoe, both), (mobile, mobile_too), (named, named_too)]
    assert report.pairs[0].evidence == (Evidence.MOBILE, Evidence.EMAIL, Evidence.SAME_NAME)
    with db.unit_of_work(readonly=True) as uow:
        assert find_duplicates(uow, ADMIN, limit=1).total == 3

    with db.unit_of_work() as uow:
        mark_not_duplicate(uow, ADMIN, mobile_too, mobile)
        mark_not_duplicate(uow, ADMIN, mobile, mobile_too)  # said twice: remembered once
    with db.unit_of_work(readonly=True) as uow:
        left = [(p.keep.uid, p.other.uid) for p in find_duplicates(uow, ADMIN).pairs]
    assert left == [(zoe, both), (named, named_too)]


def test_the_kept_one_is_active_and_archived_pairs_are_left_out(db: Database) -> None:
    old = _create(db, "Ann", "Lee", "ann@example.com", "+44 7700 900123")
    new = _create(db, "Ann", "Lee", "ann.lee@example.org", "+44 7700 900123")
    with db.unit_of_work() as uow:
        archive_customer(uow, ADMIN, old)
    with db.unit_of_work(readonly=True) as uow:
        (pair,) = find_duplicates(uow, ADMIN).pairs
    assert (pair.keep.uid, pair.other.uid) == (new, old)
    with db.unit_of_work() as uow:
        archive_customer(uow, ADMIN, new)
    with db.unit_of_work(readonly=True) as uow:
        assert find_duplicates(uow, ADMIN).total == 0


def test_not_a_duplicate_is_per_workspace_and_goes_with_the_customer(db: Database) -> None:
    a = _create(db, "Ann", "Lee", "ann@example.com", "+44 7700 900123")
    b = _create(db, "Bea", "Ray", "bea@example.com", "+44 7700 900123")
    elsewhere = Actor("T0002", "UADMIN2", Role.ADMIN)
    with db.unit_of_work() as uow:
        for first, email in (("Ann", "ann@example.com"), ("Bea", "bea@example.com")):
            data = CustomerInput(
                first_name=first, last_name="X", email=email, mobile="+44 7700 900123"
            )
            create_customer(uow, elsewhere, data, send_welcome=False)
    with db.unit_of_work() as uow:
        mark_not_duplicate(uow, ADMIN, a, b)
    with db.unit_of_work(readonly=True) as uow:
        assert find_duplicates(uow, ADMIN).total == 0
        assert find_duplicates(uow, elsewhere).total == 1
    with db.unit_of_work() as uow:
        delete_customer(uow, ADMIN, a)


def test_staff_are_refused_the_report_and_not_a_duplicate(db: Database) -> None:
    a = _create(db, "Ann", "Lee", "ann@example.com", "+44 7700 900123")
    b = _create(db, "Bea", "Ray", "bea@example.com", "+44 7700 900123")
    with db.unit_of_work() as uow, pytest.raises(Forbidden, match="Only an admin"):
        find_duplicates(uow, STAFF)
    with db.unit_of_work() as uow, pytest.raises(Forbidden, match="Only an admin"):
        mark_not_duplicate(uow, STAFF, a, b)


def test_a_merge_reason_is_required_and_kept_in_both_histories(db: Database) -> None:
    a = _create(db, "Ann", "Lee", "ann@example.com", "+44 7700 900123")
    b = _create(db, "Ann", "Lee", "ann.lee@example.org", "+44 7700 900124")
    with db.unit_of_work() as uow, pytest.raises(Exception, match="Say why") as refused:
        merge_customers(uow, ADMIN, a, b, reason="   ")
    assert getattr(refused.value, "errors", {}).keys() == {"reason"}
    with db.unit_of_work() as uow:
        merge_customers(uow, ADMIN, a, b, reason="Signed up twice at the desk")
    with db.unit_of_work(readonly=True) as uow:
        for uid in (a, b):
            newest = list_history(uow, STAFF, uid).rows[0]
            assert "reason: Signed up twice at the desk" in newest.detail
