"""Events, their organisers (partners), series, and people's registrations."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blagis.models.base import Base, TimestampMixin, UTCDateTime, enum_type, utcnow


class EventKind(StrEnum):
    CAFE_BENEVOLES = "cafe_benevoles"
    CAFE_NUMERIQUE = "cafe_numerique"
    ATELIER = "atelier"
    REPAIR_CAFE = "repair_cafe"
    RENCONTRE = "rencontre"
    SORTIE = "sortie"
    AUTRE = "autre"


class RegistrationState(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class SeriesFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


ACTIVE_STATES = (RegistrationState.CONFIRMED, RegistrationState.WAITLISTED)

event_objectives = sa.Table(
    "event_objectives",
    Base.metadata,
    sa.Column(
        "event_id", sa.ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
    sa.Column(
        "objective_id",
        sa.ForeignKey("objective_nodes.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Partner(TimestampMixin, Base):
    """An organisation that runs activities (centre social, CAF, association…)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True, nullable=False)
    website: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)

    def __repr__(self) -> str:
        return f"<Partner {self.id} {self.name!r}>"


class EventSeries(TimestampMixin, Base):
    """Dates created in one go (weekly or monthly until a date); each date is its own event."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[SeriesFrequency] = mapped_column(enum_type(SeriesFrequency), nullable=False)
    until: Mapped[date] = mapped_column(sa.Date, nullable=False)


class Event(TimestampMixin, Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind), index=True, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    place: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    commune_code: Mapped[str] = mapped_column(
        sa.ForeignKey("communes.code"), index=True, nullable=False
    )
    partner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partners.id", ondelete="SET NULL"), index=True, nullable=True
    )
    # None: unlimited.
    capacity: Mapped[int | None] = mapped_column(nullable=True)
    max_seats: Mapped[int] = mapped_column(default=1, nullable=False)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled: Mapped[bool] = mapped_column(default=False, nullable=False)
    # iCalendar SEQUENCE: bumped on every edit so calendars replace their copy.
    sequence: Mapped[int] = mapped_column(default=0, nullable=False)
    # People who walked in without registering, counted by staff (feeds the indicators).
    drop_in_count: Mapped[int | None] = mapped_column(nullable=True)
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event_series.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    partner: Mapped[Partner | None] = relationship(lazy="raise_on_sql")
    objectives: Mapped[list["ObjectiveNode"]] = relationship(  # noqa: F821
        secondary=event_objectives, lazy="raise_on_sql", order_by="ObjectiveNode.position"
    )

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("max_seats BETWEEN 1 AND 10", name="max_seats_range"),
        sa.Index("ix_events_commune_starts", "commune_code", "starts_at"),
    )

    def is_over(self, now: datetime | None = None) -> bool:
        """The event has ended: pages say it took place and offer nothing to do."""
        return (now or utcnow()) >= self.ends_at

    def registration_open(self, now: datetime | None = None) -> bool:
        """Residents may register: not cancelled, not started, inside the window."""
        now = now or utcnow()
        if self.cancelled or now >= self.starts_at:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        if self.registration_closes_at and now >= self.registration_closes_at:
            return False
        return True

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.starts_at:%Y-%m-%d}>"


class Registration(Base):
    """A person's place at an event: an account, or someone staff registered without one."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    # People without an account (entered by staff).
    name: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), nullable=True)
    # Reminders wanted by a person without an account (turned off by the signed link in one).
    reminders_ok: Mapped[bool] = mapped_column(default=True, nullable=False)
    # Consent, asked at the desk, to be sent SMS at ``phone`` about this registration.
    sms_ok: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), nullable=False)
    seats: Mapped[int] = mapped_column(default=1, nullable=False)
    state: Mapped[RegistrationState] = mapped_column(enum_type(RegistrationState), nullable=False)
    # None: not taken yet.
    attended: Mapped[bool | None] = mapped_column(nullable=True)
    registered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    event: Mapped[Event] = relationship(lazy="raise_on_sql")
    user: Mapped["User | None"] = relationship(  # noqa: F821
        lazy="raise_on_sql", foreign_keys=[user_id]
    )

    __table_args__ = (
        sa.CheckConstraint("seats BETWEEN 1 AND 10", name="seats_range"),
        sa.Index("ix_registrations_event_state", "event_id", "state", "id"),
    )

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.state}>"
