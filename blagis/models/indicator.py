"""Targets staff set for the indicators of an objective node, per year (and commune), and
the computed figures the pages read (refreshed by cron)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, TimestampMixin, UTCDateTime


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


class FigureValue(Base):
    """One computed figure: a node's indicator in a year, for the territory or one commune.

    Written only by ``indicators.services.refresh_figures`` (the ``refresh-figures`` cron
    command); pages read a year's figures in one query instead of computing them per request.

    Narrow (one row per figure) rather than one column per indicator, so that what comes next
    adds rows, not columns:

    - ``breakdown`` splits an indicator by category: ``""`` is the indicator itself,
      ``"status:accepted"`` the initiatives of that public status; reach categories (issue 17:
      ``"age:18-25"``, ``"qpv:yes"``) are more keys of the same column.
    - ``commune_code`` is ``""`` for the whole territory (not NULL: a primary key cannot hold
      NULL, and a unique constraint would not see two NULL communes as equal), else a commune
      code: every commune's figures are stored, as the report and the API filter by commune.
      No foreign key, like ``node_code``: the figures of a year are a record of what was
      counted, kept as they were when the tree or the communes change (issue 18 freezes a
      year: ``FigureYear.frozen_at`` then, and the refresh leaves that year's rows alone).
    - ``value`` is a float so that hours (one decimal) sit beside counts (whole numbers, exact
      in a double).

    Only the figures of nodes with activity are stored (a node absent from a year has none),
    with raw counts: rates (attendance) are derived when read.
    """

    __tablename__ = "indicator_figures"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    commune_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    node_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    indicator: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    breakdown: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default="")
    value: Mapped[float] = mapped_column(sa.Float, nullable=False)

    def __repr__(self) -> str:
        return (
            f"<FigureValue {self.year} {self.commune_code or '*'} {self.node_code} "
            f"{self.indicator}{':' + self.breakdown if self.breakdown else ''}={self.value}>"
        )


class FigureYear(Base):
    """A year whose figures are in ``indicator_figures``, and when they were last computed.

    Tells "no activity" (the year is here, its nodes have no rows) from "never computed" (a
    fresh install before the first refresh: the pages then compute that year's figures live,
    never showing zeros that are not true).
    """

    __tablename__ = "indicator_figure_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
