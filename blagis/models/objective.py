"""The contract objectives tree: axis -> objective -> action, addressed by stable codes."""

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base, TimestampMixin, enum_type


class NodeLevel(StrEnum):
    AXIS = "axis"
    OBJECTIVE = "objective"
    ACTION = "action"


class ObjectiveNode(TimestampMixin, Base):
    __tablename__ = "objective_nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("objective_nodes.id"), index=True, nullable=True
    )
    level: Mapped[NodeLevel] = mapped_column(enum_type(NodeLevel), nullable=False)
    title_fr: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    title_en: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    commune_code: Mapped[str | None] = mapped_column(sa.ForeignKey("communes.code"), nullable=True)
    position: Mapped[int] = mapped_column(default=0, nullable=False)

    def title(self, locale: str | None) -> str:
        return self.title_en if (locale or "fr").startswith("en") else self.title_fr

    @property
    def depth(self) -> int:
        return self.code.count(".") + 1

    def subtree_filter(self, code_column):
        """SQL condition matching this node and every node below it, by code prefix."""
        return sa.or_(code_column == self.code, code_column.like(self.code + ".%"))

    def __repr__(self) -> str:
        return f"<ObjectiveNode {self.code}>"
