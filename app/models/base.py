"""Declarative base and the columns every mutable row carries.

``version`` is SQLAlchemy's optimistic-lock column: every UPDATE checks it, so two
writers can never silently overwrite each other, and it doubles as the ETag.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import DateTime, Dialect, ForeignKey, FromClause, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator
from typing_extensions import override


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend.

    PostgreSQL keeps the offset; SQLite stores text and hands back naive values.
    Values are normalised to UTC on the way in and tagged UTC on the way out, so
    API responses and comparisons behave the same on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC)
        return value

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its plain string value (VARCHAR, no database enum type).

    The column stays an ordinary string column (so the schema and the migrations do not change
    and a new value needs no ALTER TYPE), while Python code reads and writes enum members.
    An unknown stored value fails loudly on load instead of leaking a bare string.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum
        #: value -> member: a dict lookup per loaded value instead of ``enum(value)`` (a list of
        #: 100 rows loads a few hundred of them).
        self._members: dict[str, E] = {member.value: member for member in enum}

    @override
    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    @override
    def process_result_value(self, value: Any, dialect: Any) -> E | None:
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum(value)  # unknown: enum() raises


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The model's table, for Core statements that must bypass ORM bookkeeping.

    Declarative types ``__table__`` as any ``FromClause`` (a class may be mapped to a join or a
    select); every model here is mapped to one plain table, and this says so once.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)


class Versioned(Timestamped):
    """Timestamps plus an optimistic-lock version (exposed as the ETag)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    if TYPE_CHECKING:
        # Declarative sets it on every mapped subclass; the mixin itself is never mapped.
        __table__: ClassVar[FromClause]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class DistrictOwned:
    """Every row belongs to a district; all queries are scoped by it."""

    @declared_attr
    def district_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("districts.id"), index=True, nullable=False)
