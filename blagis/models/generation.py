"""Content generations: one counter per domain, bumped by every change that public pages show.

The page cache (``blagis.pagecache``) keys what it stores by these counters. They live in the
database, in the same transaction as the change, so every worker and every instance sees a
change the moment it is committed, and never before: no stale page after a write, no extra
service to run.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from blagis.models.base import Base

DOMAINS = ("contract", "events", "initiatives")


class ContentGeneration(Base):
    __tablename__ = "content_generations"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0, nullable=False)


def _insert_rows(target, connection, **kw) -> None:
    """The rows exist from the start: a bump is then a plain UPDATE, never an insert race."""
    connection.execute(target.insert(), [{"name": name, "value": 0} for name in DOMAINS])


sa.event.listen(ContentGeneration.__table__, "after_create", _insert_rows)
