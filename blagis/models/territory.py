"""Communes of the quarter (initiatives, events and staff scopes carry one) and their desks."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, TimestampMixin


class Commune(Base):
    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    position: Mapped[int] = mapped_column(default=0, nullable=False)

    def __repr__(self) -> str:
        return f"<Commune {self.code}>"


class Desk(TimestampMixin, Base):
    """A place where a person can talk to the team: « l'accueil » of a commune.

    ``/contact`` lists them per commune; staff of the commune keep them up to date.
    """

    __tablename__ = "desks"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_code: Mapped[str] = mapped_column(
        sa.ForeignKey("communes.code"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    # Street address, one line per line of the envelope.
    address: Mapped[str] = mapped_column(sa.String(400), nullable=False)
    # Opening hours in words, one line per line (« Lundi au vendredi : 9 h – 12 h »).
    hours: Mapped[str] = mapped_column(sa.String(600), default="", nullable=False)
    phone: Mapped[str] = mapped_column(sa.String(40), default="", nullable=False)
    email: Mapped[str] = mapped_column(sa.String(254), default="", nullable=False)
    # What the desk can do for you, one service per line.
    services: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    position: Mapped[int] = mapped_column(default=0, nullable=False)

    def __repr__(self) -> str:
        return f"<Desk {self.id} {self.commune_code}>"
