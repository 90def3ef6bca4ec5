"""Targets staff set for the indicators of an objective node, per year (and commune)."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, TimestampMixin


class Target(TimestampMixin, Base):
    """« 10 cafés numériques, 120 participants »: one indicator, one node, one year.

    ``commune_code`` NULL means the whole territory; the service upserts on the four keys
    (a unique constraint would not see NULL communes as equal on every backend).
    """

    __tablename__ = "indicator_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(
        sa.ForeignKey("objective_nodes.id", ondelete="CASCADE"), nullable=False
    )
    year: Mapped[int] = mapped_column(nullable=False)
    indicator: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    commune_code: Mapped[str | None] = mapped_column(sa.ForeignKey("communes.code"), nullable=True)
    value: Mapped[int] = mapped_column(nullable=False)

    __table_args__ = (
        sa.CheckConstraint("value >= 0", name="value_positive"),
        sa.Index("ix_indicator_targets_year_node", "year", "node_id", "indicator"),
    )

    def __repr__(self) -> str:
        return f"<Target {self.node_id} {self.year} {self.indicator}={self.value}>"
