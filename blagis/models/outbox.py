"""Outbox: every e-mail is a row written in the transaction of the change that causes it."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, UTCDateTime, enum_type, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Channel(StrEnum):
    """How a message travels: e-mail (SMTP) or SMS (SMPP)."""

    EMAIL = "email"
    SMS = "sms"


class MailCategory(StrEnum):
    """Essential mail always goes out; the others follow the recipient's preferences."""

    ESSENTIAL = "essential"
    REMINDER = "reminder"
    MISSION_CALL = "mission_call"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    channel: Mapped[Channel] = mapped_column(
        enum_type(Channel), default=Channel.EMAIL, server_default="email", nullable=False
    )
    # An e-mail address, or for SMS a phone number in international form (+33612345678).
    recipient: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr", nullable=False)
    template: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # [{"filename": ..., "content_type": ..., "data": base64}]
    attachments: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)
    # The same key is never queued twice (reminders, repeated clicks).
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True, nullable=True)
    category: Mapped[MailCategory] = mapped_column(
        enum_type(MailCategory), default=MailCategory.ESSENTIAL, nullable=False
    )
    # Signed one-click link (RFC 8058) for non-essential mail; None for essential mail.
    unsubscribe_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus), default=OutboxStatus.PENDING, nullable=False
    )
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # SMS about a change of registration: if it fails for good, the person goes to the call
    # list for this reason (blagis.calls).
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), nullable=True
    )
    call_reason: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)

    __table_args__ = (sa.Index("ix_outbox_messages_status_due", "status", "due_at"),)
