"""`/customers import`: the file form, the columns the file is read by, the preview, and the
messages in the admin's DM that follow an import as it runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, Field

from bot.views.blocks import Block, clip, context, escape, fields, modal, option, section, warning
from bot.views.inputs import MAX_OPTIONS, input_block, static_select
from bot.views.payload import chosen_in
from core.services.customer_columns import (
    FIELD_LABELS,
    ColumnMapping,
    ImportField,
    ignored_columns,
    mapping_problem,
)
from core.services.customer_import import ImportReport, Outcome

CALLBACK_ID = "customer_import.submit"
COLUMNS_CALLBACK = "customer_import.columns"
PREVIEW_CALLBACK = "customer_import.preview"
MESSAGE_CALLBACK = "customer_import.message"
FILE_BLOCK = "file"
FILE_ACTION = "customer_import.file"
WELCOME_BLOCK = "welcome"
WELCOME_ACTION = "customer_import.welcome"
COLUMN_ACTION = "customer_import.column"
BACK_ACTION = "customer_import.back"
NO_COLUMN = "none"
# Slack's file_input takes larger files, but a studio's customer list is far smaller; this
# keeps a download (held in memory while it is read) well inside what a worker can spare.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
NAME_MAX = 255
# A select offers 100 options: "none" and the first 99 columns.
COLUMNS_OFFERED = MAX_OPTIONS - 1


class ImportMeta(BaseModel):
    """Which file (Slack's id; it is downloaded again at each step) and how it is read."""

    file_id: str = Field(min_length=1, max_length=40)
    name: str = Field(max_length=NAME_MAX)
    welcome: bool = False
    # How many columns the header has, so a chosen column is checked before downloading.
    columns: int = Field(ge=1, le=10_000)
    mapping: dict[ImportField, Annotated[int, Field(ge=0, lt=10_000)]] = Field(default_factory=dict)


def column_block(field: ImportField) -> str:
    """The block_id of the select choosing `field`'s column."""
    return f"col_{field.value}"


def import_form(*, welcome: bool = False, problem: str = "") -> dict[str, Any]:
    """The first step: the file (CSV, at most 25 MB) and whether new customers get a welcome mail."""
    welcome_option = option("Send welcome mails to new customers", "yes")
    welcome_option["description"] = {
        "type": "plain_text",
        "text": "Each new active customer gets a portal login.",
    }
    checkboxes: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": WELCOME_ACTION,
        "options": [welcome_option],
    }
    if welcome:
        checkboxes["initial_options"] = [welcome_option]
    blocks: list[Block] = [
        section(
            "Add customers from another system's CSV export (Mindbody, Glofox, Momence, a "
            "spreadsheet…). You'll see which columns are read and a preview before anything "
            "changes; rows match customers already here by email."
        ),
        *warning(problem),
        input_block(
            FILE_BLOCK,
            "CSV file",
            {"type": "file_input", "action_id": FILE_ACTION, "filetypes": ["csv"], "max_files": 1},
            hint=f"At most {MAX_UPLOAD_BYTES // 1024 // 1024} MB. Save a spreadsheet as CSV first.",
        ),
        input_block(WELCOME_BLOCK, "Welcome mails", checkboxes, optional=True),
    ]
    return modal(
        "Import customers", blocks, callback_id=CALLBACK_ID, submit="Read file", close="Cancel"
    )


def columns_view(
    meta: ImportMeta,
    header: Sequence[str],
    sample: Sequence[str],
    *,
    rows: int,
    read_as: str,
    problem: str = "",
) -> dict[str, Any]:
    """The columns each field is read from, as guessed (or last chosen); Preview next."""
    offered = [option("— none —", NO_COLUMN)]
    for index, name in enumerate(header[:COLUMNS_OFFERED]):
        example = sample[index].strip() if index < len(sample) else ""
        label = name or f"(column {index + 1})"
        said = f"{label} (e.g. {clip(example, 30)})" if example else label
        offered.append(option(said, str(index)))
    blocks: list[Block] = [
        section(f"*{escape(meta.name)}*: {rows:,} rows, read as {escape(read_as)}."),
        *warning(problem),
    ]
    for field in ImportField:
        at = meta.mapping.get(field)
        chosen = offered[at + 1] if at is not None and at < COLUMNS_OFFERED else None
        select = static_select(
            COLUMN_ACTION, offered, placeholder="— none —", chosen=chosen or offered[0]
        )
        blocks.append(input_block(column_block(field), FIELD_LABELS[field], select, optional=True))
    ignored = ignored_columns(header, meta.mapping)
    notes = []
    if ignored:
        notes.append("Not read: " + escape(clip(", ".join(ignored), 2500)))
    if len(header) > COLUMNS_OFFERED:
        notes.append(f"Only the first {COLUMNS_OFFERED} columns can be chosen here.")
    if notes:
        blocks.append(context(*notes))
    return modal(
        "Import: columns",
        blocks,
        callback_id=COLUMNS_CALLBACK,
        private_metadata=meta.model_dump_json(),
        submit="Preview",
        close="Cancel",
    )


def read_mapping(state: dict[str, Any], columns: int) -> tuple[ColumnMapping, dict[str, str]]:
    """The columns chosen in the columns view, and problems by block (none: it can be read)."""
    mapping: ColumnMapping = {}
    errors: dict[str, str] = {}
    for field in ImportField:
        block = column_block(field)
        value = chosen_in(state, block, COLUMN_ACTION)
        if not value or value == NO_COLUMN:
            continue
        index = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else -1
        if not 0 <= index < columns:
            errors[block] = "Choose one of the file's columns."
            continue
        other = next((f for f, i in mapping.items() if i == index), None)
        if other is not None:
            errors[block] = f"That column is already read as {FIELD_LABELS[other]}."
            continue
        mapping[field] = index
    if not errors:
        problem = mapping_problem(mapping)
        if problem is not None:
            field = (
                ImportField.EMAIL if ImportField.EMAIL not in mapping else ImportField.FIRST_NAME
            )
            errors[column_block(field)] = problem
    return mapping, errors


def preview_view(meta: ImportMeta, report: ImportReport, *, sent: str) -> dict[str, Any]:
    """What importing would do: counts, how dates are read, the first problems; Import next."""
    counts = [(o.value.capitalize(), f"{report.count(o):,}") for o in Outcome]
    counts.append(("Possible duplicates", f"{report.possible_duplicates:,}"))
    blocks: list[Block] = [
        section(f"*Preview of {escape(meta.name)}* ({report.total:,} rows; nothing changed yet)"),
        fields(counts),
    ]
    if report.dates is not None:
        blocks.append(
            context(
                f"Dates such as 03/04/2024 are read as {report.dates.order.value}: "
                f"{escape(report.dates.reason)}."
            )
        )
    welcome = (
        "New active customers get a welcome mail with a portal login."
        if meta.welcome
        else "No welcome mails are sent."
    )
    blocks.append(context(welcome, escape(sent)))
    problems = report.problems()
    if problems:
        blocks.append(section(f"*First {len(problems)} problems*"))
        for line in problems:
            who = f" ({escape(line.email)})" if line.email else ""
            blocks.append(section(clip(f"Line {line.line}{who}: {escape(line.reason)}", 2900)))
    blocks.append(
        {
            "type": "actions",
            "block_id": "import_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": BACK_ACTION,
                    "text": {"type": "plain_text", "text": "Back to columns"},
                    "value": "columns",
                }
            ],
        }
    )
    return modal(
        "Import: preview",
        blocks,
        callback_id=PREVIEW_CALLBACK,
        private_metadata=meta.model_dump_json(),
        submit="Import",
        close="Cancel",
    )


def message_view(text: str, *, ok: bool = True) -> dict[str, Any]:
    """A step's outcome in the modal's place: working, started, or why not."""
    icon = ":hourglass_flowing_sand:" if ok else ":warning:"
    return modal(
        "Import customers",
        [section(f"{icon} {escape(text)}")],
        callback_id=MESSAGE_CALLBACK,
    )


def progress_text(name: str, done: int, total: int) -> str:
    """The DM message while an import runs."""
    return f"Importing {escape(name)}: {done:,} of {total:,} rows…"


def summary_text(name: str, report: ImportReport, *, welcome: bool) -> str:
    """The DM message once an import is done."""
    counts = ", ".join(f"{report.count(o):,} {o.value}" for o in Outcome)
    text = (
        f"Imported {escape(name)}: {counts}; {report.possible_duplicates:,} possible duplicates "
        "(the preview's report lists them)."
    )
    if welcome:
        text += f" {report.welcome_mails:,} welcome mails queued."
    return text


def failure_text(name: str, done: int, total: int, reason: str) -> str:
    """The DM message when an import stops part-way."""
    return (
        f"Importing {escape(name)} stopped after {done:,} of {total:,} rows: {escape(reason)} The batches "
        "already imported stay; run the import again to finish (rows already imported are "
        "found unchanged)."
    )
