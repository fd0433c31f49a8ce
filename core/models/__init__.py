"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from core.models.base import Base
from core.models.customer import Customer, CustomerStatus
from core.models.history import HistoryEntry
from core.models.mail import MailStatus, OutboxMail
from core.models.staff import Role, StaffMember
from core.models.workspace import Workspace

__all__ = [
    "Base",
    "Customer",
    "CustomerStatus",
    "HistoryEntry",
    "MailStatus",
    "OutboxMail",
    "Role",
    "StaffMember",
    "Workspace",
]
