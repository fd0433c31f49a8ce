"""Reading another system's customer CSV: the file's bytes, its columns, and its values (pure)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.errors import DomainError
from core.text import fold, squeeze

# Beyond this a file is not a customer list a studio exports; refusing it early keeps memory sane.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 100_000


class ImportField(StrEnum):
    """What a column of the file can hold."""

    UID = "uid"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    EMAIL = "email"
    MOBILE = "mobile"
    STATUS = "status"
    ARCHIVED = "archived"
    ACTIVE = "active"
    CREATED_AT = "created_at"
    DATE_OF_BIRTH = "date_of_birth"
    NOTES = "notes"
    TAGS = "tags"
    MARKETING_CONSENT = "marketing_consent"
    CONSENT_AT = "consent_at"


# Field → which column it reads, by index in the header. A plain value: a caller may show it,
# change it (see `override`) and hand it back.
ColumnMapping = dict[ImportField, int]


def header_key(text: str) -> str:
    """A header as compared: case, accents, spaces, underscores, dashes and dots ignored."""
    return re.sub(r"[\s_\-.]+", "", fold(text))


def _keys(*names: str) -> frozenset[str]:
    return frozenset(header_key(name) for name in names)


# The names exporting systems (Mindbody, Glofox, Momence, Eversports, Reservie, spreadsheets)
# give each column; the first matching column wins.
HEADER_NAMES: dict[ImportField, frozenset[str]] = {
    ImportField.UID: _keys("uid", "customer uid"),
    ImportField.FIRST_NAME: _keys(
        "first name", "firstname", "first", "given name", "forename", "client first name"
    ),
    ImportField.LAST_NAME: _keys(
        "last name", "lastname", "last", "surname", "family name", "client last name"
    ),
    ImportField.FULL_NAME: _keys(
        "name", "full name", "client name", "customer", "customer name", "member name", "member"
    ),
    ImportField.EMAIL: _keys(
        "email", "e-mail", "email address", "e-mail address", "mail", "client email"
    ),
    ImportField.MOBILE: _keys(
        "mobile",
        "phone",
        "cell",
        "mobile phone",
        "phone number",
        "mobile number",
        "cell phone",
        "telephone",
        "mobile phone number",
        "home phone",
    ),
    ImportField.STATUS: _keys("status", "client status", "member status", "membership status"),
    ImportField.ARCHIVED: _keys("archived", "is archived"),
    ImportField.ACTIVE: _keys("active", "is active"),
    ImportField.CREATED_AT: _keys(
        "created",
        "created at",
        "created_at",
        "date created",
        "creation date",
        "date joined",
        "joined",
        "member since",
        "signup date",
        "sign up date",
        "registration date",
        "registered",
    ),
    ImportField.DATE_OF_BIRTH: _keys(
        "date of birth", "dob", "birthday", "birth date", "birthdate", "birth", "date_of_birth"
    ),
    ImportField.NOTES: _keys("notes", "note", "comments", "comment", "remarks"),
    ImportField.TAGS: _keys("tags", "tag", "labels", "label", "client tags"),
    ImportField.MARKETING_CONSENT: _keys(
        "marketing consent",
        "marketing",
        "consent",
        "email opt in",
        "opt in",
        "opted in",
        "marketing opt in",
        "accepts marketing",
        "newsletter",
    ),
    ImportField.CONSENT_AT: _keys(
        "consent at", "consent date", "consented at", "opt in date", "consent given"
    ),
}

FIELD_LABELS: dict[ImportField, str] = {
    ImportField.UID: "UID",
    ImportField.FIRST_NAME: "First name",
    ImportField.LAST_NAME: "Last name",
    ImportField.FULL_NAME: "Full name",
    ImportField.EMAIL: "Email",
    ImportField.MOBILE: "Mobile",
    ImportField.STATUS: "Status",
    ImportField.ARCHIVED: "Archived (yes/no)",
    ImportField.ACTIVE: "Active (yes/no)",
    ImportField.CREATED_AT: "Created",
    ImportField.DATE_OF_BIRTH: "Date of birth",
    ImportField.NOTES: "Notes",
    ImportField.TAGS: "Tags (; between)",
    ImportField.MARKETING_CONSENT: "Marketing consent",
    ImportField.CONSENT_AT: "Consent given at",
}


class UnusableFile(DomainError):
    """The file cannot be imported at all (not a CSV, empty, no email column)."""


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: the line it starts on (header is line 1) and its cells."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CsvFile:
    """A parsed file: its header, its records, and how it was read."""

    header: tuple[str, ...]
    rows: tuple[SourceRow, ...]
    delimiter: str
    encoding: str


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if b"\x00" in data[:4096]:
        # Spreadsheets (.xlsx, .numbers) are zip archives; CSV text never holds NUL.
        raise UnusableFile(
            "This is not a CSV file (it looks like a spreadsheet or other binary file). "
            "Save or export it as CSV (UTF-8) and try again."
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page; its accents still read right.
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def _delimiter(text: str) -> str:
    """`;`, `,` or tab: whichever separates the most fields in the first line outside quotes."""
    first, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif not quoted:
            first.append(ch)
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_csv(data: bytes) -> CsvFile:
    """Parse a CSV file's bytes: UTF-8 (BOM or not), `,` `;` or tab separated, quoted fields."""
    if len(data) > MAX_FILE_BYTES:
        raise UnusableFile(f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
    text, encoding = _decode(data)
    if not text.strip():
        raise UnusableFile("The file is empty.")
    delimiter = _delimiter(text)
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header: tuple[str, ...] | None = None
    rows: list[SourceRow] = []
    line = 1
    try:
        for cells in reader:
            if header is None:
                header = tuple(cell.strip() for cell in cells)
            elif any(cell.strip() for cell in cells):
                rows.append(SourceRow(line, tuple(cells)))
            # A quoted cell may span lines: the next record starts after the reader's last line.
            line = reader.line_num + 1
    except csv.Error as exc:
        raise UnusableFile(f"This is not a readable CSV file (line {line}: {exc}).") from None
    if header is None or not any(header):
        raise UnusableFile("The file has no header row.")
    if not rows:
        raise UnusableFile("The file has a header row but no customers under it.")
    return CsvFile(header, tuple(rows), delimiter, encoding)


def guess_mapping(header: Sequence[str]) -> ColumnMapping:
    """Which column each field reads, recognised from the header's names."""
    mapping: ColumnMapping = {}
    for index, name in enumerate(header):
        key = header_key(name)
        for field, names in HEADER_NAMES.items():
            if key in names and field not in mapping:
                mapping[field] = index
                break
    return mapping


def ignored_columns(header: Sequence[str], mapping: ColumnMapping) -> list[str]:
    """The header's columns no field reads."""
    used = set(mapping.values())
    return [name or f"(column {i + 1})" for i, name in enumerate(header) if i not in used]


def column_index(header: Sequence[str], column: str) -> int | None:
    """A column by its header name (compared as headers are) or 1-based number."""
    if column.strip().isdigit():
        number = int(column)
        return number - 1 if 1 <= number <= len(header) else None
    wanted = header_key(column)
    return next((i for i, name in enumerate(header) if header_key(name) == wanted), None)


def override(
    mapping: ColumnMapping, header: Sequence[str], choices: Iterable[tuple[str, str]]
) -> ColumnMapping:
    """`mapping` with each (field, column) choice applied; an empty column unmaps the field."""
    changed = dict(mapping)
    for field_name, column in choices:
        try:
            field = ImportField(field_name.strip().lower())
        except ValueError:
            known = ", ".join(f.value for f in ImportField)
            raise UnusableFile(
                f"There is no field {field_name!r}; the fields are {known}."
            ) from None
        if not column.strip():
            changed.pop(field, None)
            continue
        index = column_index(header, column)
        if index is None:
            raise UnusableFile(f"The file has no column {column!r} for {field.value}.")
        changed = {f: i for f, i in changed.items() if i != index}
        changed[field] = index
    return changed


def mapping_problem(mapping: ColumnMapping) -> str | None:
    """Why rows cannot be read with `mapping`, or None."""
    if ImportField.EMAIL not in mapping:
        return (
            "No email column was recognised (looked for Email, E-mail, Email address); "
            "every customer needs an email, their login. Name the column or map it."
        )
    has_parts = ImportField.FIRST_NAME in mapping or ImportField.LAST_NAME in mapping
    if not has_parts and ImportField.FULL_NAME not in mapping:
        return (
            "No name column was recognised (looked for First name and Last name, or one Name "
            "column); map one."
        )
    return None


# -- values ---------------------------------------------------------------------------------

ACTIVE_WORDS = frozenset(
    {"active", "current", "member", "lead", "prospect", "trial", "yes", "y", "true", "1"}
)
ARCHIVED_WORDS = frozenset(
    {
        "archived",
        "inactive",
        "deleted",
        "terminated",
        "suspended",
        "expired",
        "cancelled",
        "canceled",
        "former",
        "no",
        "n",
        "false",
        "0",
    }
)
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0", ""})


def status_word(value: str) -> bool | None:
    """True for an active status word, False for an archived one, None when not understood."""
    word = fold(value)
    if word in ACTIVE_WORDS:
        return True
    if word in ARCHIVED_WORDS:
        return False
    return None


GRANTED_WORDS = frozenset(
    {"granted", "yes", "y", "true", "1", "x", "opted in", "opt in", "optin", "subscribed"}
)
WITHDRAWN_WORDS = frozenset(
    {"withdrawn", "no", "n", "false", "0", "opted out", "opt out", "optout", "unsubscribed"}
)


def consent_word(value: str) -> bool | None:
    """True for a word granting consent, False for one withdrawing it, None for "unknown" or
    a word this import doesn't read (the caller tells them apart)."""
    word = squeeze(value).casefold().replace("-", " ")
    if word in GRANTED_WORDS:
        return True
    if word in WITHDRAWN_WORDS:
        return False
    return None


def yes_no(value: str) -> bool | None:
    """A yes/no cell as a bool, None when not understood."""
    word = fold(value)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


class DateOrder(StrEnum):
    """How `01/02/2024` is read."""

    DAY_FIRST = "DD/MM/YYYY"
    MONTH_FIRST = "MM/DD/YYYY"


# Regions that write the month first (the United States and the places that follow it).
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW"})
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_MONTHS = {
    fold(name)[:3]: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}
_NAMED_DATE = re.compile(
    r"^(?:(\d{1,2})\s+([A-Za-z]{3,})\.?,?\s+(\d{4})|([A-Za-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4}))"
)


@dataclass(frozen=True)
class DateReading:
    """How the file's numeric dates are read, and why (said to the person importing)."""

    order: DateOrder
    reason: str


def date_order(values: Iterable[str], region: str) -> DateReading:
    """Day or month first, from the values (a part above 12 decides) or the workspace's region."""
    for value in values:
        match = _NUMERIC_DATE.match(value.strip())
        if match is None:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            return DateReading(DateOrder.DAY_FIRST, f"a date reads {value.strip()!r}")
        if second > 12 >= first:
            return DateReading(DateOrder.MONTH_FIRST, f"a date reads {value.strip()!r}")
    if region.upper() in MONTH_FIRST_REGIONS:
        return DateReading(
            DateOrder.MONTH_FIRST,
            f"no day is above 12 and the workspace's phone region is {region}",
        )
    return DateReading(
        DateOrder.DAY_FIRST, f"no day is above 12 and the workspace's phone region is {region}"
    )


def _year(text: str) -> int:
    year = int(text)
    # Two-digit years: 00–29 this century, the rest the last (birthdays are mostly the last).
    if len(text) == 2:
        year += 2000 if year < 30 else 1900
    return year


def parse_moment(value: str, order: DateOrder, zone: ZoneInfo) -> datetime | None:
    """A date or date-time cell as a UTC instant (local times read in `zone`), or None."""
    text = value.strip()
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        moment = _parse_other(text, order)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def parse_day(value: str, order: DateOrder) -> date | None:
    """A date cell (a time after it is ignored), or None."""
    text = value.strip()
    if len(text) >= 10 and text[4] == "-":
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    found = _parse_other(text, order)
    return found.date() if found is not None else None


def _parse_other(text: str, order: DateOrder) -> datetime | None:
    match = _NUMERIC_DATE.match(text)
    try:
        if match is not None:
            a, b, year, hour, minute, second, half = match.groups()
            day, month = (int(a), int(b)) if order is DateOrder.DAY_FIRST else (int(b), int(a))
            clock = _clock(hour, minute, second, half)
            if clock is None:
                return None
            return datetime.combine(date(_year(year), month, day), clock)
        named = _NAMED_DATE.match(text)
        if named is not None:
            d1, m1, y1, m2, d2, y2 = named.groups()
            month_name, day_text, year_text = (m1, d1, y1) if d1 else (m2, d2, y2)
            named_month = _MONTHS.get(fold(month_name)[:3])
            if named_month is None:
                return None
            return datetime(int(year_text), named_month, int(day_text))
    except ValueError:
        return None
    return None


def _clock(
    hour: str | None, minute: str | None, second: str | None, half: str | None
) -> time | None:
    if hour is None:
        return time()
    h = int(hour)
    if half is not None:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    return time(h, int(minute or 0), int(second or 0))


# CSV injection (the export guards, the import undoes it): a spreadsheet runs a cell starting with one of these as a formula. Only the
# free-text columns can hold one: `mobile` is validated E.164 ("+" and digits, which a
# spreadsheet at worst reads as a number, so it is written as stored and imports exactly), and
# uid, status and the dates are written by the app. A free-text cell that would start with a
# trigger gets a leading apostrophe (OWASP's advice), which spreadsheets hide and show as text.
# To keep the file an exact round trip, a value that already starts with apostrophes followed by
# a trigger gets one more; `unguard` undoes exactly one, so unguard(guard(v)) == v for every v.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def guard(value: str) -> str:
    """`value` made safe to open in a spreadsheet: an apostrophe before a formula trigger."""
    return "'" + value if value.lstrip("'").startswith(FORMULA_TRIGGERS) else value


def unguard(value: str) -> str:
    """The value `guard` was given: for an importer reading the guarded columns."""
    guarded = value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS)
    return value[1:] if guarded else value
