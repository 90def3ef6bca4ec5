"""Keyset ("cursor") pagination for the JSON API: a page starts after the last row seen.

``OFFSET n`` makes the database read and throw away ``n`` rows, so the pages a robot walking an
API to its end asks last are the dearest (docs/performance.md). A cursor carries the sort
values of the last row of a page instead; the next page is ``WHERE (sort values) after them``,
read straight from the sort's index at the same cost whatever its depth. It also skips and
repeats nothing when rows come or go between two requests, which OFFSET does.

The cursor is opaque to clients: URL-safe base64 of a small JSON list ``[tag, page, *values]``,
where ``tag`` names the order it belongs to (a cursor of another order is refused) and
``page`` the number of the page it opens (the answers keep giving ``page``). It is not signed:
a forged cursor only names another position in public data; anything malformed raises
:class:`InvalidCursor`, which the API answers with a 400.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

MAX_CURSOR_LENGTH = 400
MAX_PAGE = 10_000_000
INT_MAX = 2**31 - 1  # the integer columns sorted on are 32-bit


class InvalidCursor(ValueError):
    """The ``cursor`` parameter is not one this API gave (damaged, or of another order)."""


def bad_cursor_message() -> str:
    """What the 400 answer to an invalid cursor says (request code: translated at once)."""
    return _(
        "This cursor is not valid (damaged, or made for another sort): "
        "start again from the first page, without a cursor."
    )


@dataclass(frozen=True)
class SortKey:
    """One term of an ORDER BY that a cursor can resume: the last term must be unique (id)."""

    column: Any  # a mapped attribute, e.g. Initiative.published_at
    kind: type  # int or datetime: what the cursor holds for it
    descending: bool = False
    nullable: bool = False  # NULLs sort after every value (``NULLS LAST``)

    def order_by(self):
        term = self.column.desc() if self.descending else self.column.asc()
        return term.nulls_last() if self.nullable else term


@dataclass(frozen=True)
class Position:
    """Where a cursor resumes: the page it opens and the last row's sort values before it."""

    page: int
    values: tuple


def encode(tag: str, page: int, keys: Sequence[SortKey], row) -> str:
    """The cursor of the page after the one ending with ``row``."""
    values = []
    for key in keys:
        value = getattr(row, key.column.key)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    payload = json.dumps([tag, page, *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii").rstrip("=")


def _value(raw, key: SortKey):
    if raw is None:
        if key.nullable:
            return None
        raise InvalidCursor("null value")
    if key.kind is int:
        if type(raw) is not int or not 0 <= raw <= INT_MAX:
            raise InvalidCursor("bad integer")
        return raw
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidCursor("bad date")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as error:
        raise InvalidCursor("bad date") from error
    if value.tzinfo is None:
        raise InvalidCursor("naive date")
    return value


def decode(token: str, tag: str, keys: Sequence[SortKey]) -> Position:
    """Read a cursor made by :func:`encode` for the order ``tag``; else :class:`InvalidCursor`."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_CURSOR_LENGTH:
        raise InvalidCursor("length")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor("not a cursor") from error
    if not isinstance(data, list) or len(data) != len(keys) + 2 or data[0] != tag:
        raise InvalidCursor("not a cursor of this order")
    page = data[1]
    if type(page) is not int or not 2 <= page <= MAX_PAGE:
        raise InvalidCursor("bad page")
    return Position(page, tuple(_value(raw, key) for raw, key in zip(data[2:], keys, strict=True)))


def _bind(key: SortKey, value):
    return sa.bindparam(None, value, type_=key.column.type)


def _beyond(key: SortKey, value):
    """Rows strictly after ``value`` on this key alone (None: nothing is after the last NULL)."""
    if value is None:
        return None
    after = key.column < _bind(key, value) if key.descending else key.column > _bind(key, value)
    return sa.or_(after, key.column.is_(None)) if key.nullable else after


def _same(key: SortKey, value):
    return key.column.is_(None) if value is None else key.column == _bind(key, value)


def after(keys: Sequence[SortKey], values: tuple):
    """The WHERE clause of the rows that come after ``values`` in the order ``keys``.

    A row comparison, ``(a, b) < (x, y)``, when every key goes the same way without NULLs (the
    database reads it as one index range); otherwise the expanded form
    ``a after x OR (a = x AND b after y) …``.
    """
    if len({key.descending for key in keys}) == 1 and not any(key.nullable for key in keys):
        left = sa.tuple_(*(key.column for key in keys))
        right = sa.tuple_(*(_bind(key, value) for key, value in zip(keys, values, strict=True)))
        return left < right if keys[0].descending else left > right
    terms = []
    for i, key in enumerate(keys):
        beyond = _beyond(key, values[i])
        if beyond is not None:
            terms.append(
                sa.and_(*(_same(k, v) for k, v in zip(keys[:i], values[:i], strict=True)), beyond)
            )
    return sa.or_(*terms) if terms else sa.false()
