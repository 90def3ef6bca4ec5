"""Template globals shared by every page."""

from typing import NamedTuple

from flask import g

from blagis.extensions import db


class CommuneRow(NamedTuple):
    code: str
    name: str


def _read_communes() -> list[CommuneRow]:
    from sqlalchemy import select

    from blagis.models import Commune

    rows = db.session.execute(select(Commune.code, Commune.name).order_by(Commune.position))
    return [CommuneRow(code, name) for code, name in rows]


def communes() -> list[CommuneRow]:
    """All communes (a handful of rows): kept by the worker until they change (nearly never)."""
    if "communes" not in g:
        from blagis.pagecache import memoize

        # A change to communes moves every counter (the table is not mapped to a domain);
        # following one domain keeps the list when only activity moved.
        g.communes = memoize(("contract",), ("communes",), _read_communes)
    return g.communes


def commune_name(code: str | None) -> str:
    if not code:
        return ""
    for commune in communes():
        if commune.code == code:
            return commune.name
    return code


def commune_choices(blank_label: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select field; a blank first choice when a label is given."""
    choices = [(c.code, c.name) for c in communes()]
    if blank_label is not None:
        choices.insert(0, ("", blank_label))
    return choices


def has_endpoint(endpoint: str) -> bool:
    """True when a view exists (lets the layout link to domains as they are added)."""
    from flask import current_app

    return endpoint in current_app.view_functions


def format_hours(value: float | int | None) -> str:
    """Hours the way people write them: ``3 h``, ``1,5 h`` in French (``1.5 h`` in English),
    at most one decimal, never ``3.0``; a no-break space keeps the number and the unit
    together."""
    from flask_babel import format_decimal

    return f"{format_decimal(round(float(value or 0), 1), format='#,##0.#')}\u00a0h"


def iso_date(value: str):
    """``"2026-03-14"`` (as kept in JSON) -> a date, for the ``date`` filter."""
    from datetime import date

    return date.fromisoformat(value)


def init_app(app) -> None:
    from blagis.urls import safe_href

    app.jinja_env.filters["hours"] = format_hours
    app.jinja_env.filters["isodate"] = iso_date
    app.jinja_env.globals.update(
        communes=communes, commune_name=commune_name, has_endpoint=has_endpoint
    )
    # ``{{ url | safe_href }}``: an address typed by someone, or None unless http(s).
    app.jinja_env.filters["safe_href"] = safe_href
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
