"""A workspace's catalog as the YAML file `catalog import` reads: every event's sessions dated,
with what admins changed in Slack, so importing it elsewhere gives the same catalog."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from core.db import UnitOfWork
from core.formatting import plain_amount
from core.models import (
    AppointmentService,
    Event,
    EventOccurrence,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
    facilitator_services,
)
from core.services.questions import question_of, stored
from core.services.settings import studio_settings


def _sessions(rows: list[EventOccurrence], event: Event, currency: str) -> list[dict[str, Any]]:
    found = []
    for row in rows:
        local = row.starts_at.astimezone(ZoneInfo(event.timezone))
        one: dict[str, Any] = {
            "start": f"{local:%Y-%m-%d %H:%M}",
            "capacity": row.capacity,
            "price": plain_amount(row.price_minor, currency),
            "duration_minutes": row.duration_minutes,
        }
        if row.location:
            one["location"] = row.location
        if row.archived:
            one["archived"] = True
        found.append(one)
    return found


def _events(uow: UnitOfWork, team_id: str, currency: str) -> list[dict[str, Any]]:
    sessions: dict[int, list[EventOccurrence]] = {}
    for row in uow.session.scalars(
        select(EventOccurrence)
        .where(EventOccurrence.team_id == team_id, EventOccurrence.cancelled.is_(False))
        .order_by(EventOccurrence.starts_at, EventOccurrence.id)
    ):
        sessions.setdefault(row.event_id, []).append(row)
    found = []
    for event in uow.session.scalars(
        select(Event).where(Event.team_id == team_id).order_by(Event.key)
    ):
        rows = sessions.get(event.id, [])
        # The file asks for a duration per event; its sessions' commonest is the natural one.
        common = Counter(row.duration_minutes for row in rows).most_common(1)
        item: dict[str, Any] = {
            "key": event.key,
            "name": event.name,
            "timezone": event.timezone,
            "duration_minutes": common[0][0] if common else 60,
            "capacity": event.capacity,
            "price": plain_amount(event.price_minor, currency),
            "credit_price": event.credit_price,
        }
        if event.description:
            item["description"] = event.description
        if rows:
            item["occurrences"] = _sessions(rows, event, currency)
        found.append(item)
    return found


def _facilitators(uow: UnitOfWork, team_id: str) -> list[dict[str, Any]]:
    table = facilitator_services
    gives: dict[int, list[str]] = {}
    for facilitator_id, key in uow.session.execute(
        select(table.c.facilitator_id, AppointmentService.key)
        .join(AppointmentService, AppointmentService.id == table.c.service_id)
        .where(AppointmentService.team_id == team_id)
        .order_by(AppointmentService.key)
    ):
        gives.setdefault(facilitator_id, []).append(key)
    found = []
    for f in uow.session.scalars(
        select(Facilitator).where(Facilitator.team_id == team_id).order_by(Facilitator.key)
    ):
        item: dict[str, Any] = {"key": f.key, "name": f.name, "services": gives.get(f.id, [])}
        if f.slack_user_id:
            item["slack_user_id"] = f.slack_user_id
        found.append(_archived(item, f.archived))
    return found


def _archived(item: dict[str, Any], archived: bool) -> dict[str, Any]:
    """`item`, with `archived: true` when it is; the file leaves the usual false out."""
    return {**item, "archived": True} if archived else item


def _rest(uow: UnitOfWork, team_id: str, currency: str) -> dict[str, list[dict[str, Any]]]:
    def rows(model: Any) -> Any:
        return uow.session.scalars(
            select(model).where(model.team_id == team_id).order_by(model.key)
        )

    def money(minor: int) -> str:
        return plain_amount(minor, currency)

    return {
        "appointment_services": [
            _archived(
                {
                    "key": s.key,
                    "name": s.name,
                    "duration_minutes": s.duration_minutes,
                    "price": money(s.price_minor),
                    "credit_price": s.credit_price,
                },
                s.archived,
            )
            for s in rows(AppointmentService)
        ],
        "facilitators": _facilitators(uow, team_id),
        "pass_types": [
            _archived(
                {
                    "key": p.key,
                    "name": p.name,
                    "credits": p.credits,
                    "validity_days": p.validity_days,
                    "price": money(p.price_minor),
                },
                p.archived,
            )
            for p in rows(PassType)
        ],
        "videos": [
            _archived(
                {
                    "key": v.key,
                    "title": v.title,
                    "price": money(v.price_minor),
                    "credit_price": v.credit_price,
                    "access_days": v.access_days,
                },
                v.archived,
            )
            for v in rows(Video)
        ],
        "subscription_plans": [
            _archived(
                {
                    "key": p.key,
                    "name": p.name,
                    "price": money(p.price_minor),
                    "interval": p.interval,
                    "stripe_price_id": p.stripe_price_id,
                },
                p.archived,
            )
            for p in rows(SubscriptionPlan)
        ],
        "questionnaires": [_questionnaire(q) for q in rows(QuestionnaireTemplate)],
    }


def _questionnaire(template: QuestionnaireTemplate) -> dict[str, Any]:
    item: dict[str, Any] = {
        "key": template.key,
        "name": template.name,
        "questions": [stored(question_of(raw)) for raw in template.questions],
    }
    if template.archived:
        item["archived"] = True
    return item


def export_catalog(uow: UnitOfWork, team_id: str) -> str:
    """Workspace `team_id`'s catalog as catalog-file YAML (cancelled sessions left out)."""
    workspace = studio_settings(uow, team_id)
    document: dict[str, Any] = {
        "currency": workspace.currency,
        "timezone": workspace.timezone,
        "events": _events(uow, team_id, workspace.currency),
        **_rest(uow, team_id, workspace.currency),
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
