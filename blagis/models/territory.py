"""Communes of the quarter: initiatives, events and staff scopes carry one."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base


class Commune(Base):
    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    position: Mapped[int] = mapped_column(default=0, nullable=False)

    def __repr__(self) -> str:
        return f"<Commune {self.code}>"
