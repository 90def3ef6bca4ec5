"""Declarative base, shared column types and small helpers for every model."""

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Current time, timezone-aware in UTC (used as a callable default)."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware datetimes stored in UTC on every backend.

    SQLite has no time zone type and hands back naive values; this makes both backends
    return aware UTC datetimes so comparisons never mix naive and aware values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[StrEnum], length: int = 32) -> sa.Enum:
    """A portable VARCHAR column holding a StrEnum's values (no native enum to migrate)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def postgresql_only(index: sa.Index) -> sa.Index:
    """An index created on PostgreSQL only (``ddl_if``), marked so that the schema comparison
    (``include_in_comparison``) does not expect it on SQLite."""
    index.info["dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


def include_in_comparison(dialect_name: str):
    """Alembic ``include_object`` hook: leave out the model's indexes made for another database.

    Only the model side is filtered: an index of that name found in a SQLite database (a
    migration that forgot its dialect guard) still shows up as a difference.
    """

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "index" and not reflected:
            wanted = obj.info.get("dialect")
            return wanted is None or wanted == dialect_name
        return True

    return include_object


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """created_at / updated_at, set by callables so each row gets its own time."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
