"""OAuth installs: the installer becomes admin only of a workspace without one; each is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.db import UnitOfWork
from core.models import Role, StaffMember, Workspace
from core.services.staff import admin_ids, resolve_actor
from core.services.workspaces import audit_workspace, enable_workspace

INSTALLED = "app installed"
REINSTALLED = "app re-installed"


@dataclass(frozen=True)
class InstallOutcome:
    """What an install did: first or again, and the installer's role after it (None: no access)."""

    reinstall: bool
    role: Role | None
    made_admin: bool


def record_install(uow: UnitOfWork, team_id: str, name: str, installer: str) -> InstallOutcome:
    """Enable the workspace, make `installer` admin if it has no admin, and audit the install."""
    reinstall = uow.session.get(Workspace, team_id) is not None
    enable_workspace(uow, team_id, name)
    # Concurrent installs of one workspace queue here (PostgreSQL; SQLite has one writer), so
    # two installers cannot both find it without an admin.
    uow.session.execute(
        select(Workspace.team_id).where(Workspace.team_id == team_id).with_for_update()
    )
    before = resolve_actor(uow, team_id, installer)
    made_admin = not admin_ids(uow, team_id)
    if made_admin:
        _make_admin(uow, team_id, installer)
    role = Role.ADMIN if made_admin else (before.role if before else None)
    action = REINSTALLED if reinstall else INSTALLED
    detail = _detail(before.role if before else None, made_admin)
    audit_workspace(uow, team_id, installer, action, detail)
    return InstallOutcome(reinstall=reinstall, role=role, made_admin=made_admin)


def _make_admin(uow: UnitOfWork, team_id: str, user_id: str) -> None:
    member = uow.session.scalars(
        select(StaffMember).where(
            StaffMember.team_id == team_id, StaffMember.slack_user_id == user_id
        )
    ).first()
    if member is not None:
        member.role = Role.ADMIN
        return
    uow.session.add(
        StaffMember(
            team_id=team_id,
            slack_user_id=user_id,
            role=Role.ADMIN,
            added_by=user_id,
            created_at=uow.now(),
        )
    )


def _detail(before: Role | None, made_admin: bool) -> str:
    had = before.value if before else "no access"
    if made_admin:
        return f"installer made admin (the workspace had no admin; before: {had})"
    return f"installer's access unchanged: {had}"
