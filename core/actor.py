"""Who is acting: the staff member behind a request, scoped to one tenant."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.staff import Role


@dataclass(frozen=True)
class Actor:
    """A staff member of workspace `team_id`; services check `role` for admin-only work."""

    team_id: str
    user_id: str
    role: Role = Role.STAFF

    @property
    def is_admin(self) -> bool:
        """Admins may delete, merge, refund and manage staff."""
        return self.role is Role.ADMIN
