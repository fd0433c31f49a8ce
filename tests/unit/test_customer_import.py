"""Importing customers from other systems' CSV files, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import Forbidden
from core.models import Customer, CustomerStatus, HistoryEntry, Note, OutboxMail
from core.services import customer_import
from core.services.customer_columns import (
    DateOrder,
    ImportField,
    UnusableFile,
    guess_mapping,
    ignored_columns,
    override,
    read_csv,
)
from core.services.customer_import import IMPORTED, Outcome, import_rows, preview
from core.services.customers import CustomerInput, create_customer, new_uid, search_customers
from core.services.workspaces import ensure_workspace

DATA = Path(__file__).parent.parent / "data" / "imports"
CANONICAL = "uid,first_name,last_name,email,mobile,status,created_at,date_of_birth"


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _region(db: Database, actor: Actor, region: str) -> None:
    with db.unit_of_work() as uow:
        ensure_workspace(uow, actor.team_id).default_region = region


def _preview(db: Database, actor: Actor, data: bytes) -> customer_import.ImportReport:
    parsed = read_csv(data)
    with db.unit_of_work(readonly=True) as uow:
        return preview(uow, actor, parsed, guess_mapping(parsed.header))


def _import(db: Database, actor: Actor, data: bytes, **kw: object) -> customer_import.ImportReport:
    parsed = read_csv(data)
    return import_rows(db, actor, parsed, guess_mapping(parsed.header), source="f.csv", **kw)  # type: ignore[arg-type]


def _counts(report: customer_import.ImportReport) -> dict[str, int]:
    return {o.value: report.count(o) for o in Outcome}


def _customers(db: Database, team_id: str) -> dict[str, Customer]:
    with db.unit_of_work(readonly=True) as uow:
        query = select(Customer).where(Customer.team_id == team_id)
        found = {c.email: c for c in uow.session.scalars(query)}
        # Detached before the read-only transaction's rollback would expire them.
        uow.session.expunge_all()
        return found


def _reasons(report: customer_import.ImportReport) -> dict[int, str]:
    return {line.line: line.reason for line in report.lines}


def test_mindbody_export_reads_us_dates_and_reports_broken_rows(db: Database, admin: Actor) -> None:
    _region(db, admin, "US")
    report = _import(db, admin, _file("mindbody_clients.csv"))
    assert _counts(report) == {"new": 4, "updated": 0, "unchanged": 0, "invalid": 4}
    assert report.dates is not None and report.dates.order is DateOrder.MONTH_FIRST
    reasons = _reasons(report)
    assert "valid email" in reasons[5]
    assert "Mobile '12'" in reasons[6] and "too short" in reasons[6]
    assert reasons[7] == "The last name is missing."
    assert "Date of birth '13/45/1990'" in reasons[8]
    people = _customers(db, admin.team_id)
    maria = people["maria.alvarez@example.com"]
    assert (maria.first_name, maria.last_name, maria.mobile) == ("Maria", "Alvarez", "+12125550143")
    assert maria.date_of_birth == date(1986, 4, 27)
    assert maria.created_at.astimezone(UTC).date() == date(2021, 1, 15)
    assert maria.password_hash is None
    # Lower-cased as the app stores emails; the Inactive status archives.
    assert "david.chen@example.com" in people
    assert people["siobhan.obrien@example.com"].status is CustomerStatus.ARCHIVED
    assert people["juergen.mueller@example.de"].date_of_birth == date(1988, 2, 29)


def test_glofox_export_with_quotes_newlines_duplicates_and_notes(
    db: Database, admin: Actor
) -> None:
    _region(db, admin, "IE")
    report = _import(db, admin, _file("glofox_members.csv"))
    assert _counts(report) == {"new": 3, "updated": 0, "unchanged": 0, "invalid": 4}
    reasons = _reasons(report)
    assert "'yesterday'" in reasons[3]
    assert "'1988-02-30'" in reasons[4]
    # The note spanning three lines moves the following rows' line numbers.
    assert reasons[8] == "The first and last names are missing."
    assert reasons[9] == "Line 2 has the same email; only that row is imported."
    assert reasons[10].startswith("Possible duplicate: same mobile as line 2")
    assert report.possible_duplicates == 1
    people = _customers(db, admin.team_id)
    assert people["oisin.ryan@example.ie"].mobile == people["aoife.murphy@example.ie"].mobile
    assert people["sean.kelly@example.ie"].status is CustomerStatus.ARCHIVED
    with db.unit_of_work(readonly=True) as uow:
        notes = set(uow.session.scalars(select(Note.content)))
    assert notes == {
        'Pays by card, asks for "quiet" spot',
        "Multi-line note:\nline two, with a comma\nline three",
    }


def test_full_name_column_and_day_first_dates(db: Database, admin: Actor) -> None:
    report = _import(db, admin, _file("momence_customers.csv"))
    assert _counts(report) == {"new": 4, "updated": 0, "unchanged": 0, "invalid": 1}
    assert report.dates is not None and report.dates.order is DateOrder.DAY_FIRST
    assert "'23/01/2024'" in report.dates.reason
    reasons = _reasons(report)
    assert "'Cher' is one word" in reasons[5]
    assert reasons[6].startswith("Possible duplicate: same name as line 2")
    people = _customers(db, admin.team_id)
    olivia = people["olivia.jones@example.co.uk"]
    assert (olivia.first_name, olivia.last_name) == ("Olivia", "Jones")
    assert olivia.created_at == datetime(2024, 2, 5, tzinfo=UTC)  # midnight in London, GMT
    assert people["hannah.taylor@example.co.uk"].mobile == "+447700900123"


def test_semicolons_bom_and_archived_column(db: Database, admin: Actor) -> None:
    parsed = read_csv(_file("spreadsheet_semicolon_bom.csv"))
    assert parsed.delimiter == ";"
    assert parsed.header[0] == "Full name"  # the BOM is not part of the first column's name
    report = _import(db, admin, _file("spreadsheet_semicolon_bom.csv"))
    assert _counts(report) == {"new": 3, "updated": 0, "unchanged": 0, "invalid": 1}
    people = _customers(db, admin.team_id)
    assert people["zoe.dubois@example.fr"].date_of_birth == date(1990, 4, 3)
    assert people["lea.martin@example.fr"].status is CustomerStatus.ARCHIVED
    assert people["jose.garcia@example.es"].status is CustomerStatus.ACTIVE


def test_headers_are_recognised_whatever_they_are_called() -> None:
    header = ["E-Mail", "CLIENT_NAME", "Cell", "Member since", "DOB", "Favourite class"]
    mapping = guess_mapping(header)
    assert mapping == {
        ImportField.EMAIL: 0,
        ImportField.FULL_NAME: 1,
        ImportField.MOBILE: 2,
        ImportField.CREATED_AT: 3,
        ImportField.DATE_OF_BIRTH: 4,
    }
    assert ignored_columns(header, mapping) == ["Favourite class"]
    changed = override(mapping, header, [("notes", "Favourite class"), ("mobile", "")])
    assert changed[ImportField.NOTES] == 5 and ImportField.MOBILE not in changed
    with pytest.raises(UnusableFile, match="no column"):
        override(mapping, header, [("notes", "Nope")])


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x00\x00binary", "not a CSV"),
        (b"email,name\n", "no customers"),
    ],
)
def test_unusable_files_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(UnusableFile, match=why):
        read_csv(data)


def test_a_file_without_an_email_column_is_refused(db: Database, admin: Actor) -> None:
    with pytest.raises(UnusableFile, match="No email column"):
        _preview(db, admin, b"Name,Phone\nAnn Lee,+447700900123\n")


def test_staff_cannot_import(db: Database, staff: Actor) -> None:
    with pytest.raises(Forbidden):
        _preview(db, staff, _file("momence_customers.csv"))


def test_preview_changes_nothing_and_matches_by_email(db: Database, admin: Actor) -> None:
    with db.unit_of_work() as uow:
        create_customer(
            uow,
            admin,
            CustomerInput(
                first_name="Grace",
                last_name="Evans",
                email="grace.evans@example.co.uk",
                mobile="+447700900789",
            ),
            send_welcome=False,
        )
    report = _preview(db, admin, _file("momence_customers.csv"))
    # Grace's note is new to her record: she is updated; the preview wrote nothing.
    assert _counts(report) == {"new": 3, "updated": 1, "unchanged": 0, "invalid": 1}
    assert len(_customers(db, admin.team_id)) == 1
    csv_rows = list(csv.reader(io.StringIO(report.as_csv())))
    assert csv_rows[0] == ["line", "outcome", "reason", "email"]
    assert ["4", "updated", "", "grace.evans@example.co.uk"] in csv_rows
    assert [p.line for p in report.problems()] == [5, 6]


def test_existing_customers_take_the_files_non_empty_values_once(
    db: Database, admin: Actor
) -> None:
    with db.unit_of_work() as uow:
        kept = create_customer(
            uow,
            admin,
            CustomerInput(
                first_name="Hanna",
                last_name="Taylor",
                email="hannah.taylor@example.co.uk",
                mobile="+447700900999",
            ),
            send_welcome=False,
        )
    first = _import(db, admin, _file("momence_customers.csv"))
    assert _counts(first) == {"new": 3, "updated": 1, "unchanged": 0, "invalid": 1}
    hannah = _customers(db, admin.team_id)["hannah.taylor@example.co.uk"]
    assert (hannah.uid, hannah.first_name, hannah.mobile) == (kept.uid, "Hannah", "+447700900123")
    assert hannah.created_at == kept.created_at
    again = _import(db, admin, _file("momence_customers.csv"))
    assert _counts(again) == {"new": 0, "updated": 0, "unchanged": 4, "invalid": 1}
    with db.unit_of_work(readonly=True) as uow:
        entries = uow.session.execute(
            select(HistoryEntry.action, HistoryEntry.changes, HistoryEntry.detail).where(
                HistoryEntry.customer_uid == kept.uid
            )
        ).all()
        grace_notes = uow.session.scalar(select(func.count()).select_from(Note))
    assert (
        customer_import.IMPORT_UPDATED,
        {
            "first_name": ["Hanna", "Hannah"],
            "mobile": ["+447700900999", "+447700900123"],
            # Momence separates its tags with commas.
            "tags": ["", "founding member; vip"],
        },
        "imported from f.csv",
    ) in entries
    assert grace_notes == 1  # Grace's note was added once, not again on the second run


def test_imported_customers_are_found_by_search(db: Database, admin: Actor) -> None:
    _import(db, admin, _file("spreadsheet_semicolon_bom.csv"))
    with db.unit_of_work(readonly=True) as uow:
        by_name = search_customers(uow, admin, "zoe dub")
        by_mobile = search_customers(uow, admin, "33612345")
        by_email = search_customers(uow, admin, "garcia@exam")
    assert [c.email for c in by_name] == ["zoe.dubois@example.fr"]
    assert [c.email for c in by_mobile] == ["zoe.dubois@example.fr"]
    assert [c.email for c in by_email] == ["jose.garcia@example.es"]


def _canonical(rows: list[tuple[str, ...]]) -> bytes:
    return (CANONICAL + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()


def test_the_apps_own_columns_round_trip(db: Database, admin: Actor, other_tenant: Actor) -> None:
    uids = [new_uid(), new_uid()]
    data = _canonical(
        [
            (
                uids[0],
                "Zoë",
                "Ørsted",
                "zoe@example.com",
                "+447700900123",
                "active",
                "2024-05-06T07:08:09.123456+00:00",
                "1991-02-03",
            ),
            (
                uids[1],
                "Ann",
                "Lee",
                "ann@example.com",
                "",
                "archived",
                "2019-12-31T23:59:59+00:00",
                "",
            ),
        ]
    )
    report = _import(db, admin, data)
    assert _counts(report) == {"new": 2, "updated": 0, "unchanged": 0, "invalid": 0}
    assert report.dates is None
    people = _customers(db, admin.team_id)
    zoe, ann = people["zoe@example.com"], people["ann@example.com"]
    assert (zoe.uid, zoe.first_name, zoe.last_name, zoe.mobile, zoe.status) == (
        uids[0],
        "Zoë",
        "Ørsted",
        "+447700900123",
        CustomerStatus.ACTIVE,
    )
    assert zoe.created_at == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert zoe.date_of_birth == date(1991, 2, 3)
    assert (ann.uid, ann.mobile, ann.status, ann.date_of_birth) == (
        uids[1],
        "",
        CustomerStatus.ARCHIVED,
        None,
    )
    assert ann.created_at == datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC)
    # UIDs are unique across workspaces: another workspace importing the same file gets new ones.
    elsewhere = _import(db, other_tenant, data)
    assert all("is already used; given a new one" in line.reason for line in elsewhere.lines)
    assert {c.uid for c in _customers(db, other_tenant.team_id).values()}.isdisjoint(uids)


def test_a_malformed_uid_is_replaced(db: Database, admin: Actor) -> None:
    data = _canonical([("12345", "Ann", "Lee", "ann@example.com", "", "", "", "")])
    report = _import(db, admin, data)
    assert "UID 12345 is not one of this app's" in report.lines[0].reason
    assert len(_customers(db, admin.team_id)["ann@example.com"].uid) == 12


def _generated(count: int) -> bytes:
    lines = [CANONICAL]
    for i in range(count):
        lines.append(
            f",Person{i},Family{i % 97},person{i}@example.com,+4477009{i:05d},,"
            f"2024-01-02T03:04:05+00:00,"
        )
    return ("\n".join(lines) + "\n").encode()


def test_ten_thousand_rows_in_batches_with_progress_and_history(db: Database, admin: Actor) -> None:
    calls: list[tuple[int, int]] = []
    report = _import(db, admin, _generated(10_000), progress=lambda d, t: calls.append((d, t)))
    assert report.count(Outcome.NEW) == 10_000
    assert calls == [(n, 10_000) for n in range(1000, 10_001, 1000)]
    with db.unit_of_work(readonly=True) as uow:
        customers = uow.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.team_id == admin.team_id)
        )
        imported = uow.session.scalar(
            select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == IMPORTED)
        )
        found = search_customers(uow, admin, "person9999@")
        keys = set(uow.session.scalars(select(Customer.name_key).limit(5)))
    assert customers == imported == 10_000
    assert [c.email for c in found] == ["person9999@example.com"]
    assert all(key.startswith("person") for key in keys)


def test_a_crash_loses_only_the_batch_in_flight_and_a_rerun_finishes(
    db: Database, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _generated(2500)
    real_write = customer_import._write
    batches: list[int] = []

    def failing_third(*args: object, **kwargs: object) -> int:
        batches.append(1)
        if len(batches) == 3:
            raise RuntimeError("the database went away")
        return real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(customer_import, "_write", failing_third)
    with pytest.raises(RuntimeError):
        _import(db, admin, data, batch_size=1000)
    assert len(_customers(db, admin.team_id)) == 2000
    monkeypatch.setattr(customer_import, "_write", real_write)
    rerun = _import(db, admin, data, batch_size=1000)
    assert _counts(rerun) == {"new": 500, "updated": 0, "unchanged": 2000, "invalid": 0}
    assert len(_customers(db, admin.team_id)) == 2500


def test_welcome_mails_only_when_asked(db: Database, admin: Actor) -> None:
    quiet = _import(db, admin, _file("spreadsheet_semicolon_bom.csv"))
    assert quiet.welcome_mails == 0
    report = _import(db, admin, _file("momence_customers.csv"), send_welcome=True)
    assert report.welcome_mails == 4
    with db.unit_of_work(readonly=True) as uow:
        mails = set(uow.session.scalars(select(OutboxMail.to_address)))
        hashed = uow.session.scalars(
            select(Customer.email).where(Customer.password_hash.is_not(None))
        ).all()
    assert "hannah.taylor@example.co.uk" in mails and "zoe.dubois@example.fr" not in mails
    assert len(hashed) == 4
