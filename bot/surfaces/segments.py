"""Segments on screen: the modal opened by `/customers segment` or from Home, re-counted as its
filters change, saved under a name; a customer opened from it; its CSV (admins); Home's Open
and Delete beside each saved segment."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.surfaces.audience import judge
from bot.surfaces.customer_details import details_or_gone
from bot.surfaces.exports import send_to_dm
from bot.surfaces.hub import HubControl
from bot.surfaces.redraws import Shown, redraw
from bot.views.payload import as_row_id, first_action, read_metadata, state_values
from bot.views.segments import (
    BLOCK_OF,
    DIGEST_BLOCK,
    NAME_BLOCK,
    SegmentForm,
    SegmentMeta,
    chosen_channel,
    filters_typed,
    read_filters,
    segment_modal,
    typed_filters,
    typed_name,
)
from bot.views.tabs import DetailsMeta
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, ValidationFailed
from core.formatting import counted
from core.services import saved_segments, segment_digests
from core.services.audience import Reason
from core.services.customer_export import customers_csv, record_list_export
from core.services.segments import (
    SegmentFilters,
    SegmentResult,
    segment,
    segment_customer_ids,
)
from core.services.tags import list_tags

log = logging.getLogger(__name__)


def _problem(errors: dict[str, str]) -> str:
    return " ".join(errors.values())


def _form(request: Request, meta: SegmentMeta, typed: dict[str, str], name: str) -> SegmentForm:
    """The form for what is typed: counted, or what to fix; with the tags to choose from."""
    tags = tuple(t.name for t in request.read(list_tags))
    base = SegmentForm(meta, typed, name, admin=request.actor.is_admin, tags=tags)
    filters = read_filters(typed, request.currency)
    if not isinstance(filters, SegmentFilters):
        return replace(base, problem=_problem(filters))

    def counted(uow: UnitOfWork, actor: Actor) -> SegmentResult:
        found = segment(uow, actor, filters)
        if meta.segment_id is not None:
            saved_segments.note_count(uow, actor, meta.segment_id, found.page.total)
        return found

    try:
        result = request.write(counted)
    except ValidationFailed as exc:
        return replace(base, problem=_problem(exc.errors))
    return replace(base, result=result)


def segment_view(request: Request, segment_id: int | None = None) -> dict[str, Any]:
    """A new segment's modal (active customers), or saved segment `segment_id`'s."""
    if segment_id is None:
        return segment_modal(_form(request, SegmentMeta(), {}, ""))
    saved = request.read(lambda uow, actor: saved_segments.open_segment(uow, actor, segment_id))
    typed = filters_typed(saved.filters, request.currency)
    form = _form(request, SegmentMeta(segment_id=segment_id), typed, saved.name)
    return segment_modal(replace(form, digest_channel=saved.digest_channel_id or ""))


@dataclass(frozen=True)
class SegmentControl:
    """A control changed in the segment modal: the request, the modal and what it holds."""

    request: Request
    shown: Shown
    meta: SegmentMeta
    typed: dict[str, str]
    name: str
    action: dict[str, Any]
    trigger_id: str

    @classmethod
    def of(cls, body: dict[str, Any], context: BoltContext, client: WebClient) -> SegmentControl:
        """The segment modal `body` was sent from (an empty one if its metadata was lost)."""
        view = body.get("view") or {}
        values = state_values(view)
        return cls(
            Request.of(context, client),
            Shown.of(body),
            read_metadata(SegmentMeta, view.get("private_metadata")) or SegmentMeta(),
            typed_filters(values),
            typed_name(values),
            first_action(body),
            str(body.get("trigger_id") or ""),
        )

    def show(self, *, problem: str = "", notice: str = "") -> None:
        """Re-count what the modal holds and show it there (with `problem` in the list's place,
        or `notice` above it); without either, a newer action's redraw wins over this one."""

        def render() -> dict[str, Any]:
            form = replace(_form(self.request, self.meta, self.typed, self.name), notice=notice)
            return segment_modal(replace(form, problem=problem) if problem else form)

        shown = self.shown.changed() if problem or notice else self.shown
        redraw(self.request, shown, render, "segment update")


def open_customer(control: SegmentControl) -> None:
    """A customer's Open: their details, stacked on the segment."""
    uid = str(control.action.get("value") or "")
    view = details_or_gone(control.request, DetailsMeta(uid=uid[:16]))
    control.request.client.views_push(trigger_id=control.trigger_id, view=view)


def export_segment(control: SegmentControl) -> None:
    """Export CSV (admins): the segment's customers to the admin's DM, with the customer
    export's columns; the modal then says where it went, or why not."""
    request = control.request
    filters = read_filters(control.typed, request.currency)
    if not isinstance(filters, SegmentFilters):
        control.show(problem=_problem(filters))
        return
    try:
        with request.deps.db.unit_of_work() as uow:
            within = segment_customer_ids(uow, request.actor, filters)
            export = customers_csv(uow, request.actor, status=None, within=within)
            record_list_export(uow, request.actor, export.count, None, "", within="a segment")
            day = uow.now().date().isoformat()
        filename = f"segment-{day}.csv"
        send_to_dm(
            request,
            content=export.text.encode("utf-8"),
            filename=filename,
            comment=f"{counted(export.count, 'customer', 'customers')} in a segment, as CSV.",
        )
    except (DomainError, SlackApiError) as exc:
        reason = exc.message if isinstance(exc, DomainError) else exc.response.get("error")
        log.warning("sending a segment's CSV failed: %s", reason)
        control.show(problem=f"Nothing was sent: {reason}.")
        return
    control.show(notice=f"Sent to your DM: {filename}.")


def _digest_refusal(request: Request, channel_id: str) -> str:
    """Why the weekly digest may not go into `channel_id` ('' when it may)."""
    if not channel_id:
        return ""
    judged = judge(request.deps, request.client, request.actor.team_id, channel_id)
    if judged.verdict.all_staff:
        return ""
    if judged.verdict.reason is Reason.UNCHECKED:
        return f"I couldn't check who is in {judged.label}: invite the app there first."
    return f"{judged.label} has members who aren't staff: a digest names customers."


def save_segment_form(ack: Ack, request: Request, view: dict[str, Any]) -> None:
    """Save segment: kept under its name (with its weekly digest, if a channel is chosen),
    or what to fix under the field."""
    values = state_values(view)
    meta = read_metadata(SegmentMeta, view.get("private_metadata")) or SegmentMeta()
    filters = read_filters(typed_filters(values), request.currency)
    if not isinstance(filters, SegmentFilters):
        ack(response_action="errors", errors=filters)
        return
    name, channel = typed_name(values), chosen_channel(values)
    refused = _digest_refusal(request, channel)
    if refused:
        ack(response_action="errors", errors={DIGEST_BLOCK: refused})
        return

    def save(uow: UnitOfWork, actor: Actor) -> None:
        saved = saved_segments.save_segment(uow, actor, name, filters, segment_id=meta.segment_id)
        segment_digests.set_digest(uow, actor, saved.id, channel or None)

    try:
        request.write(save)
    except ValidationFailed as exc:
        errors = {BLOCK_OF.get(key, NAME_BLOCK): text for key, text in exc.errors.items()}
        ack(response_action="errors", errors=errors)
        return
    except DomainError as exc:
        ack(response_action="errors", errors={NAME_BLOCK: exc.message})
        return
    ack()


def open_saved(control: HubControl) -> None:
    """Home's Open beside a saved segment: its modal."""
    segment_id = as_row_id(control.value)
    if segment_id is None:
        control.tell("That segment no longer exists.")
        return
    try:
        view = segment_view(control.request, segment_id)
    except DomainError as exc:
        control.tell(exc.message)
        return
    control.open(view)


def delete_saved(control: HubControl) -> None:
    """Home's Delete (confirmed) beside a saved segment."""
    segment_id = as_row_id(control.value)
    if segment_id is None:
        control.tell("That segment no longer exists.")
        return
    try:
        name = control.request.write(
            lambda uow, actor: saved_segments.delete_segment(uow, actor, segment_id)
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    control.tell(f"Deleted the segment “{name}”.", ok=True)
