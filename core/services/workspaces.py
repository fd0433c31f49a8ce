"""Tenants: created on first contact with the settings' business defaults."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.models import Workspace

# The workspace of the local console, which runs without a Slack account.
LOCAL_TEAM_ID = "T0LOCAL"


def ensure_workspace(uow: UnitOfWork, team_id: str, name: str = "") -> Workspace:
    """The workspace row for `team_id`, created with the configured defaults if new."""
    workspace = uow.session.get(Workspace, team_id)
    if workspace is None:
        settings = uow.settings
        workspace = Workspace(
            team_id=team_id,
            name=name,
            timezone=settings.business_timezone,
            currency=settings.currency,
            default_region=settings.default_region,
            created_at=uow.now(),
        )
        try:
            # A savepoint, so losing a race with a concurrent first request is harmless.
            with uow.session.begin_nested():
                uow.session.add(workspace)
        except IntegrityError:
            workspace = uow.session.get(Workspace, team_id, populate_existing=True)
            assert workspace is not None
    return workspace


def team_ids(uow: UnitOfWork, *, limit: int) -> list[str]:
    """Up to `limit` workspace ids, in order."""
    return list(
        uow.session.scalars(select(Workspace.team_id).order_by(Workspace.team_id).limit(limit))
    )
