"""Volunteers: opt-in profiles, missions (shifts) and who signed up for them."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blagis.models.base import Base, TimestampMixin, UTCDateTime, enum_type, utcnow

# Fixed skills offered on the profile (free text completes them); labels in volunteers/forms.py.
SKILLS = (
    "accueil",
    "cuisine",
    "animation",
    "numerique",
    "bricolage",
    "logistique",
    "traduction",
    "communication",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYPARTS = ("morning", "afternoon", "evening")


def slot_of(moment: datetime) -> str:
    """``"mon-morning"``-style availability slot of a moment (in Paris time)."""
    from blagis.timeutils import to_paris

    local = to_paris(moment)
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 18 else "evening"
    return f"{WEEKDAYS[local.weekday()]}-{part}"


class SignupState(StrEnum):
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class VolunteerProfile(TimestampMixin, Base):
    """A resident's opt-in: skills, when they are free, whether staff may write to them."""

    __tablename__ = "volunteer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    # Values of SKILLS; availability holds "mon-morning"-style slots.
    skills: Mapped[list] = mapped_column(sa.JSON, default=list, nullable=False)
    skills_other: Mapped[str] = mapped_column(sa.String(200), default="", nullable=False)
    availability: Mapped[list] = mapped_column(sa.JSON, default=list, nullable=False)
    contact_ok: Mapped[bool] = mapped_column(default=False, index=True, nullable=False)

    user: Mapped["User"] = relationship(lazy="raise_on_sql")  # noqa: F821


class Mission(TimestampMixin, Base):
    """A volunteer shift, part of an event or standalone."""

    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True, nullable=True
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    needed: Mapped[int] = mapped_column(nullable=False)
    required_skill: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    commune_code: Mapped[str] = mapped_column(
        sa.ForeignKey("communes.code"), index=True, nullable=False
    )
    place: Mapped[str] = mapped_column(sa.String(300), default="", nullable=False)
    cancelled: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    event: Mapped["Event | None"] = relationship(lazy="raise_on_sql")  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="mission_ends_after_start"),
        sa.CheckConstraint("needed BETWEEN 1 AND 500", name="needed_range"),
        sa.Index("ix_missions_commune_starts", "commune_code", "starts_at"),
    )

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600

    def __repr__(self) -> str:
        return f"<Mission {self.id} {self.starts_at:%Y-%m-%d}>"


class MissionSignup(Base):
    """A volunteer on a mission; one row per (mission, person), reused on signing up again.

    ``user_id`` becomes NULL when the account is deleted: attended rows stay, anonymous, so
    the hours in the indicators do not change.
    """

    __tablename__ = "mission_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("missions.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    state: Mapped[SignupState] = mapped_column(enum_type(SignupState), nullable=False)
    # None: not taken yet.
    attended: Mapped[bool | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    mission: Mapped[Mission] = relationship(lazy="raise_on_sql")
    user: Mapped["User | None"] = relationship(lazy="raise_on_sql")  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint("mission_id", "user_id", name="uq_mission_signups_mission_user"),
        sa.Index("ix_mission_signups_mission_state", "mission_id", "state"),
    )


class Attestation(Base):
    """A volunteer attestation as issued: what it says is kept, so that ``/attestations/<code>``
    confirms the document in the reader's hands even after later missions or a new name.

    ``code`` is random (blagis.volunteers.attestations.new_code): knowing it is the only way
    to the public verification page, which shows the name, period, total hours and issue date.
    """

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    full_name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    # Hours as issued, in minutes (exact sums; shown as hours).
    total_minutes: Mapped[int] = mapped_column(nullable=False)
    # [{"date": "YYYY-MM-DD", "title": ..., "place": ..., "commune": ..., "minutes": n}, ...]
    missions: Mapped[list] = mapped_column(sa.JSON, default=list, nullable=False)
    organisation: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    address: Mapped[str] = mapped_column(sa.String(600), default="", nullable=False)
    # None: every commune; else only the missions of that commune (issued by its team).
    commune_code: Mapped[str | None] = mapped_column(sa.ForeignKey("communes.code"), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # The agent who issued it; None when the volunteer asked for it from their account.
    issued_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    signatory: Mapped[str] = mapped_column(sa.String(160), default="", nullable=False)

    @property
    def hours(self) -> float:
        return self.total_minutes / 60

    def __repr__(self) -> str:
        return f"<Attestation {self.id}>"
