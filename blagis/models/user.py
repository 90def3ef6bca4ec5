"""Accounts and roles."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, TimestampMixin, UTCDateTime, enum_type, utcnow


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: "Role") -> bool:
        return self.rank >= Role(other).rank


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so that uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    role: Mapped[Role] = mapped_column(
        enum_type(Role), default=Role.RESIDENT, index=True, nullable=False
    )
    commune_code: Mapped[str | None] = mapped_column(sa.ForeignKey("communes.code"), nullable=True)
    # Staff limited to one commune; None means every commune.
    scope_commune_code: Mapped[str | None] = mapped_column(
        sa.ForeignKey("communes.code"), nullable=True
    )
    locale: Mapped[str | None] = mapped_column(sa.String(5), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Non-essential mail the person may turn off (link in each such mail, or /account).
    notify_reminders: Mapped[bool] = mapped_column(default=True, nullable=False)
    notify_missions: Mapped[bool] = mapped_column(default=True, nullable=False)
    # A mobile number, used for SMS only while ``sms_ok`` (the person's consent) is true.
    phone: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    sms_ok: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), nullable=False)
    # None until the owner follows the link of the welcome e-mail; unconfirmed cannot log in.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def get_id(self) -> str:
        # The session cookie also carries the key of its ``UserSession`` (blagis.auth).
        return str(self.id)

    def has_role(self, role: Role | str) -> bool:
        return self.role.at_least(Role(role))

    @property
    def is_staff(self) -> bool:
        return self.has_role(Role.STAFF)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def can_act_in(self, commune_code: str | None) -> bool:
        """Staff scoped to a commune act only there; unscoped staff and admins act anywhere."""
        if not self.is_staff:
            return False
        if self.is_admin or self.scope_commune_code is None:
            return True
        return commune_code == self.scope_commune_code

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(Base):
    """One log-in. The session cookie carries a random key whose digest is this row's id.

    Deleting the row (log-out, "log out everywhere", a password change) ends every copy of
    that cookie at once, on every instance; the cookie stays a signed cookie holding no data.
    """

    __tablename__ = "user_sessions"

    # SHA-256 of the key in the cookie: a copy of the table alone opens no session.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)

    def __repr__(self) -> str:
        return f"<UserSession {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}>"
