"""Who may use the app in a workspace: admins from the settings or the install, staff granted by admins."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Forbidden, ValidationFailed
from core.models import Role, StaffMember
from core.services.workspaces import ensure_workspace


@dataclass(frozen=True)
class StaffEntry:
    """One person with access and how they got it."""

    user_id: str
    role: Role
    configured: bool


def resolve_actor(uow: UnitOfWork, team_id: str, user_id: str) -> Actor | None:
    """The Actor for a Slack user, or None when they have no access to this workspace."""
    if user_id in uow.settings.configured_admins(team_id):
        return Actor(team_id=team_id, user_id=user_id, role=Role.ADMIN)
    role = uow.session.scalar(
        select(StaffMember.role).where(
            StaffMember.team_id == team_id, StaffMember.slack_user_id == user_id
        )
    )
    return Actor(team_id=team_id, user_id=user_id, role=role) if role is not None else None


def admin_ids(uow: UnitOfWork, team_id: str) -> list[str]:
    """Everyone who can grant access: configured admins first, then admins added in the app."""
    added = uow.session.scalars(
        select(StaffMember.slack_user_id)
        .where(StaffMember.team_id == team_id, StaffMember.role == Role.ADMIN)
        .order_by(StaffMember.id)
    ).all()
    configured = uow.settings.configured_admins(team_id)
    return configured + [user for user in added if user not in configured]


def staff_among(uow: UnitOfWork, team_id: str, user_ids: Collection[str]) -> set[str]:
    """Which of `user_ids` have access to the workspace (admins and staff)."""
    wanted = set(user_ids)
    configured = wanted & set(uow.settings.configured_admins(team_id))
    rest = sorted(wanted - configured)
    added: set[str] = set()
    # Chunked: a large channel's members would exceed a database's bound parameters.
    for start in range(0, len(rest), 500):
        added.update(
            uow.session.scalars(
                select(StaffMember.slack_user_id).where(
                    StaffMember.team_id == team_id,
                    StaffMember.slack_user_id.in_(rest[start : start + 500]),
                )
            )
        )
    return configured | added


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can manage staff access.")


def add_staff(uow: UnitOfWork, actor: Actor, user_id: str, role: Role = Role.STAFF) -> bool:
    """Grant access (or change the role); False when they already had exactly that."""
    _require_admin(actor)
    if user_id in uow.settings.configured_admins(actor.team_id):
        raise ValidationFailed({"user": f"<@{user_id}> is already an admin by configuration."})
    ensure_workspace(uow, actor.team_id)
    member = uow.session.scalars(
        select(StaffMember).where(
            StaffMember.team_id == actor.team_id, StaffMember.slack_user_id == user_id
        )
    ).first()
    if member is not None:
        if member.role is role:
            return False
        member.role = role
        return True
    uow.session.add(
        StaffMember(
            team_id=actor.team_id,
            slack_user_id=user_id,
            role=role,
            added_by=actor.user_id,
            created_at=uow.now(),
        )
    )
    return True


def remove_staff(uow: UnitOfWork, actor: Actor, user_id: str) -> bool:
    """Withdraw access; False when they had none to withdraw."""
    _require_admin(actor)
    if user_id in uow.settings.configured_admins(actor.team_id):
        raise ValidationFailed(
            {"user": f"<@{user_id}> is an admin by configuration (ADMIN_SLACK_USER_IDS)."}
        )
    member = uow.session.scalars(
        select(StaffMember).where(
            StaffMember.team_id == actor.team_id, StaffMember.slack_user_id == user_id
        )
    ).first()
    if member is None:
        return False
    uow.session.delete(member)
    return True


def list_staff(uow: UnitOfWork, actor: Actor) -> list[StaffEntry]:
    """Configured admins, then everyone granted access in this workspace."""
    configured = uow.settings.configured_admins(actor.team_id)
    entries = [StaffEntry(user, Role.ADMIN, True) for user in configured]
    members = uow.session.scalars(
        select(StaffMember).where(StaffMember.team_id == actor.team_id).order_by(StaffMember.id)
    ).all()
    entries += [StaffEntry(m.slack_user_id, m.role, False) for m in members]
    return entries
