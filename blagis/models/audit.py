"""Audit log: who did what, when, with the state before and after."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    actor_role: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True, nullable=False)
    object_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    object_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)

    __table_args__ = (sa.Index("ix_audit_entries_object", "object_type", "object_id"),)
