"""Importing customers from another system's CSV export: preview, then import in batches; admin only.

The steps a front end takes: `read_csv(bytes)` → `guess_mapping(header)` (shown, maybe changed
with `override`) → `preview(uow, actor, file, mapping)` → `import_rows(db, actor, file, mapping,
progress=…)`. Rows match existing customers by email; importing the same file again changes
nothing, so a run cut short is finished by running it again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from core.actor import Actor
from core.adapters.mail import queue_welcome_mail
from core.db import Transactions, UnitOfWork
from core.errors import Forbidden, ValidationFailed
from core.models import (
    NOTE_MAX,
    ConsentSource,
    ConsentState,
    Customer,
    CustomerStatus,
    CustomerTag,
    HistoryEntry,
    Note,
)
from core.security import generate_password, hash_password
from core.services.customer_columns import (
    ColumnMapping,
    CsvFile,
    DateOrder,
    DateReading,
    ImportField,
    SourceRow,
    UnusableFile,
    consent_word,
    date_order,
    mapping_problem,
    parse_day,
    parse_moment,
    status_word,
    unguard,
    yes_no,
)
from core.services.customers import UID_ALPHABET, UID_LENGTH, name_key, new_uid
from core.services.history import clip
from core.services.tags import (
    TAGS_PER_CUSTOMER,
    clean_names,
    ensure_tags,
    join_tags,
    spellings,
    split_tags,
    tag_key,
    tags_of,
)
from core.services.workspaces import ensure_workspace
from core.text import clean_multiline, squeeze
from core.validation import clean_email, clean_mobile, clean_name

BATCH_SIZE = 1000
# Rows per IN (...) list: well under SQLite's and PostgreSQL's bound-parameter limits.
LOOKUP_CHUNK = 500
PROBLEMS_SHOWN = 20
IMPORTED = "imported"
IMPORT_UPDATED = "updated by import"
CONTACT_FIELDS = ("first_name", "last_name", "email", "mobile")
_FREE_TEXT = frozenset(
    {
        ImportField.FIRST_NAME,
        ImportField.LAST_NAME,
        ImportField.FULL_NAME,
        ImportField.EMAIL,
        ImportField.TAGS,
    }
)
# What a file can change on a customer already there (same email); blank cells change nothing.
UPDATABLE = ("first_name", "last_name", "mobile", "date_of_birth", "status")
REPORT_HEADER = ("line", "outcome", "reason", "email")

Progress = Callable[[int, int], None]


class Outcome(StrEnum):
    """What importing a row does (or did)."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INVALID = "invalid"


@dataclass(frozen=True)
class ReportLine:
    """One row of the file in the report: its line, what happens to it, why, whose email."""

    line: int
    outcome: Outcome
    reason: str
    email: str
    possible_duplicate: bool = False


@dataclass
class ImportReport:
    """Counts per outcome and a line per row; a preview's or an import's."""

    lines: list[ReportLine] = field(default_factory=list)
    # How numeric dates such as 03/04/2024 were read, and why; None when the file has none.
    dates: DateReading | None = None
    welcome_mails: int = 0

    def count(self, outcome: Outcome) -> int:
        """How many rows have `outcome`."""
        return sum(1 for line in self.lines if line.outcome is outcome)

    @property
    def possible_duplicates(self) -> int:
        """New customers who may be someone already there (same mobile or name)."""
        return sum(1 for line in self.lines if line.possible_duplicate)

    @property
    def total(self) -> int:
        """Rows read."""
        return len(self.lines)

    def problems(self, limit: int = PROBLEMS_SHOWN) -> list[ReportLine]:
        """The first `limit` rows with something to say: invalid rows, possible duplicates."""
        return list(islice((line for line in self.lines if line.reason), limit))

    def as_csv(self) -> str:
        """The full report as CSV text (line, outcome, reason, email)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(REPORT_HEADER)
        for line in self.lines:
            writer.writerow((line.line, line.outcome.value, line.reason, line.email))
        return out.getvalue()


@dataclass(frozen=True)
class _Row:
    """A valid row, cleaned: what the customer would hold."""

    line: int
    email: str
    first_name: str
    last_name: str
    mobile: str
    status: CustomerStatus | None
    created_at: datetime | None
    date_of_birth: date | None
    note: str
    uid: str
    name_key: str
    tags: tuple[str, ...] = ()
    consent: ConsentState | None = None
    consent_at: datetime | None = None


@dataclass(frozen=True)
class _Studio:
    region: str
    zone: ZoneInfo


def check_admin(actor: Actor) -> None:
    """Forbidden unless `actor` is an admin: a front end asks before reading a file."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can import customers.")


def _studio(uow: UnitOfWork, actor: Actor) -> _Studio:
    workspace = ensure_workspace(uow, actor.team_id)
    return _Studio(workspace.default_region, ZoneInfo(workspace.timezone))


# -- reading rows ---------------------------------------------------------------------------


class _Reader:
    """Turns a file's rows into clean rows or reasons, with the file's date order decided once."""

    def __init__(self, file: CsvFile, mapping: ColumnMapping, studio: _Studio) -> None:
        problem = mapping_problem(mapping)
        if problem is not None:
            raise UnusableFile(problem)
        self.mapping = mapping
        self.studio = studio
        date_fields = [
            f
            for f in (ImportField.CREATED_AT, ImportField.DATE_OF_BIRTH, ImportField.CONSENT_AT)
            if f in mapping
        ]
        values = [self.cell(row, f) for row in file.rows for f in date_fields]
        numeric = [v for v in values if v and v[0].isdigit() and ("/" in v or "." in v[:6])]
        self.dates = date_order(numeric, studio.region) if numeric else None
        self.order = self.dates.order if self.dates is not None else DateOrder.DAY_FIRST

    def cell(self, row: SourceRow, field_: ImportField) -> str:
        index = self.mapping.get(field_)
        if index is None or index >= len(row.cells):
            return ""
        cell = row.cells[index].strip()
        # This app's own export guards free text against spreadsheet formulas.
        return unguard(cell) if field_ in _FREE_TEXT else cell

    def read(self, row: SourceRow) -> _Row | str:
        """The clean row, or why it cannot be imported."""
        problems: list[str] = []
        email, problem = clean_email(self.cell(row, ImportField.EMAIL))
        if problem:
            problems.append(problem)
        first, last = self._names(row)
        if (
            not (first and last)
            and ImportField.FULL_NAME in self.mapping
            and not (
                self.cell(row, ImportField.FIRST_NAME) or self.cell(row, ImportField.LAST_NAME)
            )
        ):
            full = squeeze(self.cell(row, ImportField.FULL_NAME))
            problems.append(
                f"Name {full!r} is one word; a customer needs a first and a last name."
                if full
                else "The name is missing."
            )
        first, problem = clean_name(first, "first name")
        if problem and first:
            problems.append(problem)
        last, problem = clean_name(last, "last name")
        if problem and last:
            problems.append(problem)
        if not (first and last) and not problems[-1:]:
            missing = [n for n, v in (("first name is", first), ("last name is", last)) if not v]
            said = "first and last names are" if len(missing) == 2 else missing[0]
            problems.append(f"The {said} missing.")
        mobile = self.cell(row, ImportField.MOBILE)
        if mobile:
            mobile, problem = clean_mobile(mobile, self.studio.region)
            if problem:
                problems.append(f"Mobile {self.cell(row, ImportField.MOBILE)!r}: {problem}")
        status = self._status(row, problems)
        created_at = self._created(row, problems)
        birthday = self._birthday(row, problems)
        tags = self._tags(row, problems)
        consent, consent_at = self._consent(row, problems)
        if problems:
            return " ".join(problems)
        note = clip(clean_multiline(self.cell(row, ImportField.NOTES)), NOTE_MAX)
        uid = self.cell(row, ImportField.UID).upper()
        return _Row(
            row.line,
            email,
            first,
            last,
            mobile,
            status,
            created_at,
            birthday,
            note,
            uid,
            name_key(first, last),
            tags,
            consent,
            consent_at,
        )

    def _names(self, row: SourceRow) -> tuple[str, str]:
        first = self.cell(row, ImportField.FIRST_NAME)
        last = self.cell(row, ImportField.LAST_NAME)
        full = squeeze(self.cell(row, ImportField.FULL_NAME))
        if (first or last) or not full:
            return first, last
        if "," in full:
            # "Smith, Anna" as address books and Mindbody's "Client" column write it.
            family, _, given = full.partition(",")
            return given.strip(), family.strip()
        given, _, family = full.rpartition(" ")
        return given, family

    def _status(self, row: SourceRow, problems: list[str]) -> CustomerStatus | None:
        for field_, read in (
            (ImportField.STATUS, status_word),
            (ImportField.ACTIVE, yes_no),
            (ImportField.ARCHIVED, lambda v: None if yes_no(v) is None else not yes_no(v)),
        ):
            value = self.cell(row, field_)
            if not value:
                continue
            active = read(value)
            if active is None:
                problems.append(
                    f"Status {value!r} is not understood (use active or archived, yes or no)."
                )
                return None
            return CustomerStatus.ACTIVE if active else CustomerStatus.ARCHIVED
        return None

    def _created(self, row: SourceRow, problems: list[str]) -> datetime | None:
        value = self.cell(row, ImportField.CREATED_AT)
        if not value:
            return None
        moment = parse_moment(value, self.order, self.studio.zone)
        if moment is None:
            problems.append(f"Created date {value!r} is not a date this import reads.")
        return moment

    def _tags(self, row: SourceRow, problems: list[str]) -> tuple[str, ...]:
        try:
            return tuple(clean_names(split_tags(self.cell(row, ImportField.TAGS))))
        except ValidationFailed as exc:
            problems.append(f"Tags: {exc.errors['tags']}")
            return ()

    def _consent(
        self, row: SourceRow, problems: list[str]
    ) -> tuple[ConsentState | None, datetime | None]:
        """The file's explicit decision and when it was given (None: the file doesn't say)."""
        value = self.cell(row, ImportField.MARKETING_CONSENT)
        granted = consent_word(value)
        if granted is None:
            if value and squeeze(value).casefold() != ConsentState.UNKNOWN.value:
                problems.append(
                    f"Marketing consent {value!r} is not understood (use granted or withdrawn, "
                    "yes or no)."
                )
            return None, None
        state = ConsentState.GRANTED if granted else ConsentState.WITHDRAWN
        given = self.cell(row, ImportField.CONSENT_AT)
        if not given:
            return state, None
        moment = parse_moment(given, self.order, self.studio.zone)
        if moment is None:
            problems.append(f"Consent date {given!r} is not a date this import reads.")
        return state, moment

    def _birthday(self, row: SourceRow, problems: list[str]) -> date | None:
        value = self.cell(row, ImportField.DATE_OF_BIRTH)
        if not value:
            return None
        day = parse_day(value, self.order)
        if day is None or not 1900 <= day.year <= date.today().year:
            problems.append(f"Date of birth {value!r} is not a date this import reads.")
            return None
        return day


def _read_all(reader: _Reader, rows: Sequence[SourceRow]) -> list[_Row | ReportLine]:
    """Every row read; a later row with an email already in the file is refused."""
    seen: dict[str, int] = {}
    out: list[_Row | ReportLine] = []
    for row in rows:
        read = reader.read(row)
        if isinstance(read, str):
            out.append(
                ReportLine(row.line, Outcome.INVALID, read, reader.cell(row, ImportField.EMAIL))
            )
        elif read.email in seen:
            why = f"Line {seen[read.email]} has the same email; only that row is imported."
            out.append(ReportLine(row.line, Outcome.INVALID, why, read.email))
        else:
            seen[read.email] = row.line
            out.append(read)
    return out


# -- matching with what the workspace holds -------------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def _well_formed(uid: str) -> bool:
    return len(uid) == UID_LENGTH and all(ch in UID_ALPHABET for ch in uid)


def _taken_uids(uow: UnitOfWork, uids: Iterable[str]) -> set[str]:
    """Which of `uids` any customer of any workspace has, or once had (its history keeps it)."""
    wanted = sorted({uid for uid in uids if _well_formed(uid)})
    taken: set[str] = set()
    for chunk in _chunks(wanted):
        taken.update(uow.session.scalars(select(Customer.uid).where(Customer.uid.in_(chunk))))
        taken.update(
            uow.session.scalars(
                select(HistoryEntry.customer_uid).where(HistoryEntry.customer_uid.in_(chunk))
            )
        )
    return taken


def _existing(uow: UnitOfWork, team_id: str, emails: Sequence[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    for chunk in _chunks(emails):
        query = select(Customer).where(Customer.team_id == team_id, Customer.email.in_(chunk))
        found.update((c.email, c) for c in uow.session.scalars(query))
    return found


def _ids(uow: UnitOfWork, team_id: str, emails: Sequence[str]) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(emails):
        query = select(Customer.id, Customer.email).where(
            Customer.team_id == team_id, Customer.email.in_(chunk)
        )
        found.extend(uow.session.execute(query))
    return found


def _notes_of(uow: UnitOfWork, customer_ids: Sequence[int]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for start in range(0, len(customer_ids), LOOKUP_CHUNK):
        chunk = customer_ids[start : start + LOOKUP_CHUNK]
        query = select(Note.customer_id, Note.content).where(Note.customer_id.in_(chunk))
        found.update((cid, content) for cid, content in uow.session.execute(query))
    return found


class _Neighbours:
    """Who already has a mobile or a name, to flag a new row as a possible duplicate."""

    def __init__(self, uow: UnitOfWork, team_id: str) -> None:
        self.mobiles: dict[str, tuple[str, str]] = {}
        self.names: dict[str, tuple[str, str]] = {}
        query = select(Customer.email, Customer.uid, Customer.mobile, Customer.name_key).where(
            Customer.team_id == team_id
        )
        for email, uid, mobile, key in uow.session.execute(query):
            self.add(email, f"UID {uid}", mobile, key)

    def add(self, email: str, who: str, mobile: str, key: str) -> None:
        if mobile:
            self.mobiles.setdefault(mobile, (email, who))
        self.names.setdefault(key, (email, who))

    def reason(self, row: _Row) -> str:
        """Why `row` may be someone already known, or ""."""
        reasons = []
        other = self.mobiles.get(row.mobile) if row.mobile else None
        if other is not None and other[0] != row.email:
            reasons.append(f"same mobile as {other[1]} ({other[0]})")
        other = self.names.get(row.name_key)
        if other is not None and other[0] != row.email:
            reasons.append(f"same name as {other[1]} ({other[0]})")
        return "Possible duplicate: " + "; ".join(reasons) + "." if reasons else ""


def _changes(customer: Customer, row: _Row, held: list[str]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the file's non-blank values that differ; the file's tags
    are added to the `held` ones, an explicit consent decision replaces the one on record."""
    changes: dict[str, list[Any]] = {}
    keys = {tag_key(name) for name in held}
    # A customer holds at most TAGS_PER_CUSTOMER tags: those past it are not added.
    room = max(0, TAGS_PER_CUSTOMER - len(held))
    gained = [name for name in row.tags if tag_key(name) not in keys][:room]
    if gained:
        changes["tags"] = [join_tags(held), join_tags(sorted([*held, *gained], key=tag_key))]
    if row.consent is not None and row.consent is not customer.marketing_consent:
        changes["marketing_consent"] = [customer.marketing_consent.value, row.consent.value]
    for name in UPDATABLE:
        after = getattr(row, name)
        if after in ("", None):
            continue
        before = getattr(customer, name)
        if before != after:
            changes[name] = [_plain(before), _plain(after)]
    return changes


def _plain(value: Any) -> Any:
    """A value as the history's JSON holds it."""
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class _Batch:
    """One batch's rows matched against the workspace: what to insert, change and report."""

    new: list[tuple[_Row, str, str]] = field(default_factory=list)  # row, uid, reason
    updates: list[tuple[_Row, Customer, dict[str, list[Any]], bool]] = field(default_factory=list)
    lines: list[ReportLine] = field(default_factory=list)


def _match(
    uow: UnitOfWork,
    team_id: str,
    items: Sequence[_Row | ReportLine],
    neighbours: _Neighbours,
    claimed_uids: set[str],
) -> _Batch:
    rows = [item for item in items if isinstance(item, _Row)]
    existing = _existing(uow, team_id, [row.email for row in rows])
    with_notes = sorted({existing[r.email].id for r in rows if r.note and r.email in existing})
    notes = _notes_of(uow, with_notes)
    taken = _taken_uids(uow, (row.uid for row in rows if row.email not in existing)) | claimed_uids
    held = tags_of(uow, [existing[r.email].id for r in rows if r.tags and r.email in existing])
    spelled = spellings(uow, team_id, [name for r in rows for name in r.tags])
    batch = _Batch()
    for item in items:
        if isinstance(item, ReportLine):
            batch.lines.append(item)
            continue
        # A tag the workspace (or an earlier row) has is written as it spells it.
        row = replace(item, tags=tuple(spelled[tag_key(name)] for name in item.tags))
        customer = existing.get(row.email)
        if customer is None:
            uid, reasons = row.uid, []
            if uid and not _well_formed(uid):
                reasons.append(f"UID {uid} is not one of this app's; given a new one.")
                uid = ""
            elif uid in taken:
                reasons.append(f"UID {uid} is already used; given a new one.")
                uid = ""
            uid = uid or new_uid()
            claimed_uids.add(uid)
            duplicate = neighbours.reason(row)
            reason = " ".join([duplicate, *reasons]) if duplicate or reasons else ""
            neighbours.add(row.email, f"line {row.line}", row.mobile, row.name_key)
            batch.new.append((row, uid, reason))
            batch.lines.append(
                ReportLine(row.line, Outcome.NEW, reason, row.email, bool(duplicate))
            )
            continue
        if customer.merged_into_id is not None:
            why = f"UID {customer.uid} was merged into another customer; it is left as it is."
            batch.lines.append(ReportLine(row.line, Outcome.UNCHANGED, why, row.email))
            continue
        changes = _changes(customer, row, held.get(customer.id, []))
        add_note = bool(row.note) and (customer.id, row.note) not in notes
        if not changes and not add_note:
            batch.lines.append(ReportLine(row.line, Outcome.UNCHANGED, "", row.email))
            continue
        batch.updates.append((row, customer, changes, add_note))
        batch.lines.append(ReportLine(row.line, Outcome.UPDATED, "", row.email))
    return batch


# -- the two entry points ---------------------------------------------------------------------


def preview(uow: UnitOfWork, actor: Actor, file: CsvFile, mapping: ColumnMapping) -> ImportReport:
    """What importing `file` with `mapping` would do, changing nothing."""
    check_admin(actor)
    reader = _Reader(file, mapping, _studio(uow, actor))
    items = _read_all(reader, file.rows)
    neighbours = _Neighbours(uow, actor.team_id)
    report = ImportReport(dates=reader.dates)
    claimed: set[str] = set()
    for start in range(0, len(items), BATCH_SIZE):
        batch = _match(uow, actor.team_id, items[start : start + BATCH_SIZE], neighbours, claimed)
        report.lines.extend(batch.lines)
    return report


def import_rows(
    db: Transactions,
    actor: Actor,
    file: CsvFile,
    mapping: ColumnMapping,
    *,
    source: str,
    send_welcome: bool = False,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import `file`, committing every `batch_size` rows; `progress(done, total)` after each.

    A failure loses only the batch in flight: the batches before it stay, and importing the
    same file again finds them unchanged and finishes the rest. `source` (the file's name) is
    written in each changed customer's history; `send_welcome` queues the portal welcome
    mail, with a new password, to each new active customer.
    """
    check_admin(actor)
    with db.unit_of_work() as uow:
        reader = _Reader(file, mapping, _studio(uow, actor))
        neighbours = _Neighbours(uow, actor.team_id)
    items = _read_all(reader, file.rows)
    report = ImportReport(dates=reader.dates)
    claimed: set[str] = set()
    for start in range(0, len(items), batch_size):
        with db.unit_of_work() as uow:
            chunk = items[start : start + batch_size]
            batch = _match(uow, actor.team_id, chunk, neighbours, claimed)
            mails = _write(uow, actor, batch, source=source, send_welcome=send_welcome)
        report.lines.extend(batch.lines)
        report.welcome_mails += mails
        if progress is not None:
            progress(start + len(chunk), len(items))
    return report


def _write(uow: UnitOfWork, actor: Actor, batch: _Batch, *, source: str, send_welcome: bool) -> int:
    """Insert the batch's new customers and apply its updates; returns welcome mails queued."""
    now = uow.now()
    detail = clip(f"imported from {source}")
    passwords: dict[str, str] = {}
    values = []
    for row, uid, _reason in batch.new:
        status = row.status or CustomerStatus.ACTIVE
        password_hash = None
        if send_welcome and status is CustomerStatus.ACTIVE:
            passwords[row.email] = generate_password()
            password_hash = hash_password(passwords[row.email])
        values.append(
            {
                "team_id": actor.team_id,
                "uid": uid,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "name_key": row.name_key,
                "email": row.email,
                "mobile": row.mobile,
                "date_of_birth": row.date_of_birth,
                "password_hash": password_hash,
                "status": status,
                "marketing_consent": row.consent or ConsentState.UNKNOWN,
                "consent_at": (row.consent_at or now) if row.consent else None,
                "consent_source": ConsentSource.IMPORT if row.consent else None,
                "merged_into_id": None,
                "version": 1,
                "created_at": row.created_at or now,
                "updated_at": now,
                "updated_by": actor.user_id,
            }
        )
    history: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    tagged: list[tuple[int, Sequence[str]]] = []
    if values:
        # A plain executemany, then the ids by email: SQLite would insert row by row to return
        # them in order.
        uow.session.execute(insert(Customer), values)
        ids = {c.email: c.id for c in _ids(uow, actor.team_id, [v["email"] for v in values])}
        for value, (row, _uid, _reason) in zip(values, batch.new, strict=True):
            customer_id = ids[row.email]
            changes = {name: [None, value[name]] for name in CONTACT_FIELDS}
            if row.tags:
                changes["tags"] = [None, join_tags(row.tags)]
                tagged.append((customer_id, row.tags))
            if row.consent is not None:
                changes["marketing_consent"] = [None, row.consent.value]
            history.append(_entry(actor, customer_id, value["uid"], IMPORTED, changes, detail, now))
            if row.note:
                notes.append(_note(actor, customer_id, row.note, now))
    for row, customer, changes, add_note in batch.updates:
        for name in UPDATABLE:
            if name in changes:
                setattr(customer, name, getattr(row, name))
        if "tags" in changes:
            tagged.append((customer.id, row.tags))
        if row.consent is not None and "marketing_consent" in changes:
            customer.marketing_consent = row.consent
            customer.consent_at = row.consent_at or now
            customer.consent_source = ConsentSource.IMPORT
        if changes:
            customer.name_key = name_key(customer.first_name, customer.last_name)
            customer.updated_at = now
            customer.updated_by = actor.user_id
        said = detail + ("; note added" if add_note else "")
        history.append(_entry(actor, customer.id, customer.uid, IMPORT_UPDATED, changes, said, now))
        if add_note:
            notes.append(_note(actor, customer.id, row.note, now))
    # The ORM writes the changed customers (checking their versions) before these inserts.
    uow.session.flush()
    if history:
        uow.session.execute(insert(HistoryEntry), history)
    if notes:
        uow.session.execute(insert(Note), notes)
    if tagged:
        _add_tags(uow, actor.team_id, tagged)
    if passwords:
        query = select(Customer).where(
            Customer.team_id == actor.team_id, Customer.email.in_(list(passwords))
        )
        for customer in uow.session.scalars(query):
            queue_welcome_mail(uow, customer, passwords[customer.email])
    return len(passwords)


def _add_tags(uow: UnitOfWork, team_id: str, tagged: list[tuple[int, Sequence[str]]]) -> None:
    """Give each customer the tags the file names (creating new ones), keeping those they hold."""
    ids = ensure_tags(uow, team_id, [name for _, names in tagged for name in names])
    held = {
        (customer_id, tag_id)
        for customer_id, tag_id in uow.session.execute(
            select(CustomerTag.customer_id, CustomerTag.tag_id).where(
                CustomerTag.customer_id.in_([customer_id for customer_id, _ in tagged])
            )
        )
    }
    links = {
        (customer_id, ids[tag_key(name)]) for customer_id, names in tagged for name in names
    } - held
    if links:
        uow.session.execute(
            insert(CustomerTag),
            [{"customer_id": c, "tag_id": t, "team_id": team_id} for c, t in sorted(links)],
        )


def _entry(
    actor: Actor,
    customer_id: int,
    uid: str,
    action: str,
    changes: dict[str, list[Any]],
    detail: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "team_id": actor.team_id,
        "customer_id": customer_id,
        "customer_uid": uid,
        "actor": actor.user_id,
        "action": action,
        "changes": changes,
        "detail": detail,
        "created_at": now,
    }


def _note(actor: Actor, customer_id: int, content: str, now: datetime) -> dict[str, Any]:
    return {
        "team_id": actor.team_id,
        "customer_id": customer_id,
        "author": actor.user_id,
        "content": content,
        "created_at": now,
        "updated_at": now,
        "updated_by": actor.user_id,
    }
