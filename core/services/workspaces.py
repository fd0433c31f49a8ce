"""Tenants: created on first contact with the settings' business defaults, disabled on uninstall."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.models import Workspace, WorkspaceAuditEntry

# The workspace of the local console, which runs without a Slack account.
LOCAL_TEAM_ID = "T0LOCAL"


def ensure_workspace(uow: UnitOfWork, team_id: str, name: str = "") -> Workspace:
    """The workspace row for `team_id`, created with the configured defaults if new."""
    workspace = uow.session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(
            team_id=team_id, name=name, created_at=uow.now(), **uow.settings.workspace_defaults()
        )
        try:
            # A savepoint, so losing a race with a concurrent first request is harmless.
            with uow.session.begin_nested():
                uow.session.add(workspace)
        except IntegrityError:
            workspace = uow.session.get(Workspace, team_id, populate_existing=True)
            assert workspace is not None
    return workspace


def audit_workspace(uow: UnitOfWork, team_id: str, user_id: str, action: str, detail: str) -> None:
    """Record who changed something of workspace `team_id` as a whole, and what, in its audit log."""
    uow.session.add(
        WorkspaceAuditEntry(
            team_id=team_id, actor=user_id, action=action, detail=detail, created_at=uow.now()
        )
    )


def enable_workspace(uow: UnitOfWork, team_id: str, name: str) -> Workspace:
    """Record an install: the workspace exists, carries Slack's name for it and is enabled."""
    workspace = ensure_workspace(uow, team_id, name)
    workspace.name = name or workspace.name
    workspace.disabled_at = None
    return workspace


def disable_workspace(uow: UnitOfWork, team_id: str) -> bool:
    """Record an uninstall, keeping every row; False when unknown or already disabled."""
    workspace = uow.session.get(Workspace, team_id)
    if workspace is None or workspace.disabled_at is not None:
        return False
    workspace.disabled_at = uow.now()
    return True


def is_disabled(uow: UnitOfWork, team_id: str) -> bool:
    """Whether the app was uninstalled from `team_id` and not installed again since."""
    disabled_at = uow.session.scalar(
        select(Workspace.disabled_at).where(Workspace.team_id == team_id)
    )
    return disabled_at is not None


def team_ids(uow: UnitOfWork, *, limit: int) -> list[str]:
    """Up to `limit` workspace ids, in order."""
    return list(
        uow.session.scalars(select(Workspace.team_id).order_by(Workspace.team_id).limit(limit))
    )
