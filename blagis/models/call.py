"""People staff should phone: their registration changed and no message can reach them."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blagis.models.base import Base, UTCDateTime, enum_type, utcnow


class CallReason(StrEnum):
    PROMOTED = "promoted"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_CHANGED = "event_changed"


class CallTask(Base):
    """One call to make. The name and number are read from the registration (or its account)
    when the list is shown: nothing personal is copied here, so erasing the person erases it."""

    __tablename__ = "call_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    # The event's commune: staff limited to a commune see only its calls.
    commune_code: Mapped[str] = mapped_column(sa.ForeignKey("communes.code"), nullable=False)
    reason: Mapped[CallReason] = mapped_column(enum_type(CallReason), nullable=False)
    # True when an SMS was tried and failed for good (otherwise: no channel at all).
    sms_failed: Mapped[bool] = mapped_column(default=False, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    registration: Mapped["Registration"] = relationship(lazy="raise_on_sql")  # noqa: F821
    event: Mapped["Event"] = relationship(lazy="raise_on_sql")  # noqa: F821

    __table_args__ = (sa.Index("ix_call_tasks_commune_done", "commune_code", "done_at"),)

    def __repr__(self) -> str:
        return f"<CallTask {self.id} {self.reason}>"
