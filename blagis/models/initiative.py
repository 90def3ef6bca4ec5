"""Initiatives proposed by residents: moderation, public status with answers, supports."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blagis.models.base import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    postgresql_only,
    utcnow,
)

TITLE_MAX = 150
SUMMARY_MAX = 300
BODY_MAX = 10_000
REASON_MAX = 1_000
ANSWER_MAX = 5_000


class ModerationState(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    # Published then withdrawn from view by staff (after reports, for instance).
    HIDDEN = "hidden"


class PublicStatus(StrEnum):
    NEW = "new"
    UNDER_STUDY = "under_study"
    ACCEPTED = "accepted"
    NOT_RETAINED = "not_retained"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Initiative(TimestampMixin, Base):
    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX), nullable=False)
    summary: Mapped[str] = mapped_column(sa.String(SUMMARY_MAX), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    commune_code: Mapped[str] = mapped_column(
        sa.ForeignKey("communes.code"), index=True, nullable=False
    )
    # Kept when the account is deleted: the proposal stays, anonymised.
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    state: Mapped[ModerationState] = mapped_column(
        enum_type(ModerationState), default=ModerationState.PENDING, nullable=False
    )
    # The reason staff gave for the last reject / request for changes / hiding.
    moderation_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    status: Mapped[PublicStatus] = mapped_column(
        enum_type(PublicStatus), default=PublicStatus.NEW, nullable=False, index=True
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Denormalised so that the list sorts by it without counting per row.
    support_count: Mapped[int] = mapped_column(default=0, nullable=False)
    # Unaccented, lower-cased title + summary + body: portable accent-insensitive search.
    search_text: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    author = relationship("User", lazy="raise_on_sql")
    status_changes: Mapped[list["InitiativeStatusChange"]] = relationship(
        back_populates="initiative",
        lazy="raise_on_sql",
        order_by="InitiativeStatusChange.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    objective_links: Mapped[list["InitiativeObjective"]] = relationship(
        back_populates="initiative",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    # Each list's index ends with its full sort, id included, so that a page (and a keyset
    # page of the API) is read in index order without a sort (docs/performance.md).
    __table_args__ = (
        sa.Index("ix_initiatives_state_created", "state", "created_at", "id"),
        sa.Index("ix_initiatives_created", "created_at", "id"),
        sa.Index("ix_initiatives_state_published", "state", "published_at", "id"),
        sa.Index("ix_initiatives_state_supports", "state", "support_count", "published_at", "id"),
        # ``search_text LIKE '%term%'`` on PostgreSQL: a trigram index answers it for terms of
        # three characters or more. SQLite has no pg_trgm: the index exists on PostgreSQL only
        # (the migration creates the extension first).
        postgresql_only(
            sa.Index(
                "ix_initiatives_search_text_trgm",
                "search_text",
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )
        ),
    )

    @property
    def is_published(self) -> bool:
        return self.state == ModerationState.PUBLISHED

    def __repr__(self) -> str:
        return f"<Initiative {self.id} {self.state}>"


# "Recently answered first, then the others" is DESC NULLS LAST, which a plain index scanned
# backwards (DESC NULLS FIRST on PostgreSQL) cannot give. SQLite refuses NULLS LAST in an index
# (its DESC puts NULLs last anyway) and serves the quarter: PostgreSQL only.
postgresql_only(
    sa.Index(
        "ix_initiatives_state_answered",
        Initiative.state,
        Initiative.answered_at.desc().nulls_last(),
        Initiative.id.desc(),
    )
)

# For a schema built by ``metadata.create_all`` rather than the migrations (which do the same).
sa.event.listen(
    Initiative.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class InitiativeStatusChange(Base):
    """One official answer: the public history, signed by the staff role, not a name."""

    __tablename__ = "initiative_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), index=True, nullable=False
    )
    status: Mapped[PublicStatus] = mapped_column(enum_type(PublicStatus), nullable=False)
    answer: Mapped[str] = mapped_column(sa.Text, nullable=False)
    actor_role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    actor_commune_code: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    initiative: Mapped[Initiative] = relationship(
        back_populates="status_changes", lazy="raise_on_sql"
    )


class InitiativeSupport(Base):
    __tablename__ = "initiative_supports"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    # A deleted account's support still counts, without saying whose it was.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("initiative_id", "user_id", name="uq_initiative_supports_pair"),
    )


class InitiativeReport(Base):
    __tablename__ = "initiative_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    reason: Mapped[str] = mapped_column(sa.String(REASON_MAX), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("initiative_id", "user_id", name="uq_initiative_reports_pair"),
    )


class InitiativeObjective(Base):
    __tablename__ = "initiative_objectives"

    initiative_id: Mapped[int] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    objective_id: Mapped[int] = mapped_column(
        sa.ForeignKey("objective_nodes.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    initiative: Mapped[Initiative] = relationship(
        back_populates="objective_links", lazy="raise_on_sql"
    )
    objective = relationship("ObjectiveNode", lazy="raise_on_sql")
