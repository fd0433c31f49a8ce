"""A questionnaire assigned to a customer and their answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk


class QuestionnaireStatus(StrEnum):
    """Pending until every question has an answer."""

    PENDING = "pending"
    COMPLETED = "completed"


class QuestionnaireResponse(Base):
    """The questions as they were when assigned, and an answer (or None) for each."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        Index("ix_questionnaire_responses_customer", "customer_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("questionnaire_templates.id"))
    name: Mapped[str] = mapped_column(String(200))
    # Copied from the template so later edits of the template don't rewrite old answers.
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[QuestionnaireStatus] = mapped_column(enum_type(QuestionnaireStatus))
    assigned_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
