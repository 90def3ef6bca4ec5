"""Desk rules: who may change which desk, what a desk must say; every change audited."""

import re

from flask_babel import gettext as _
from sqlalchemy import select

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Desk, User

FIELDS = ("commune_code", "name", "address", "hours", "phone", "email", "services", "position")
# What a phone number may contain: digits, spaces, dots, dashes, a leading +, brackets.
PHONE_RE = re.compile(r"^\+?[0-9 .()\-]{6,30}$")


def desks(commune_codes: list[str] | None = None) -> list[Desk]:
    """Desks in commune order then their own; ``commune_codes`` narrows to those communes."""
    from blagis.models import Commune

    query = (
        select(Desk)
        .join(Commune, Commune.code == Desk.commune_code)
        .order_by(Commune.position, Desk.position, Desk.id)
    )
    if commune_codes is not None:
        query = query.where(Desk.commune_code.in_(commune_codes))
    return list(db.session.scalars(query))


def get_desk(desk_id: int) -> Desk | None:
    return db.session.get(Desk, desk_id)


def tel_href(phone: str) -> str:
    """``tel:`` address of a phone number as written (« 01 00 00 00 01 » -> tel:0100000001)."""
    return "tel:" + re.sub(r"[^0-9+]", "", phone or "")


def snapshot(desk: Desk) -> dict:
    return {name: getattr(desk, name) for name in FIELDS}


def _clean(data: dict) -> dict:
    clean = {name: (data.get(name) or "") for name in FIELDS if name != "position"}
    for name in ("name", "phone", "email", "commune_code"):
        clean[name] = " ".join(clean[name].split())
    for name in ("address", "hours", "services"):
        # One item per line, blank lines dropped; CR/LF normalised.
        lines = [" ".join(line.split()) for line in clean[name].splitlines()]
        clean[name] = "\n".join(line for line in lines if line)
    clean["position"] = int(data.get("position") or 0)
    return clean


def _check(actor: User, data: dict) -> None:
    if not actor.can_act_in(data["commune_code"]):
        raise DomainError(_("You can only edit the desks of your commune."), field="commune")
    if not data["name"]:
        raise DomainError(_("Enter the name of the place."), field="name")
    if not data["address"]:
        raise DomainError(_("Enter the address."), field="address")
    if data["phone"] and not PHONE_RE.match(data["phone"]):
        raise DomainError(
            _("Enter a phone number with digits and spaces, like 01 00 00 00 00."), field="phone"
        )


def save_desk(actor: User, desk: Desk | None, data: dict) -> Desk:
    """Create (``desk`` None) or change a desk of a commune the agent acts in; audited."""
    data = _clean(data)
    _check(actor, data)
    if desk is not None and not actor.can_act_in(desk.commune_code):
        raise DomainError(_("You can only edit the desks of your commune."), field="commune")
    before = snapshot(desk) if desk is not None else None
    if desk is None:
        desk = Desk(**data)
        db.session.add(desk)
    else:
        for name, value in data.items():
            setattr(desk, name, value)
    db.session.flush()
    audit.record(
        "desk.created" if before is None else "desk.updated",
        "desk",
        desk.id,
        actor=actor,
        before=before,
        after=snapshot(desk),
        commune_code=desk.commune_code,
    )
    return desk


def delete_desk(actor: User, desk: Desk) -> None:
    """Remove a desk (closed for good); audited with what it said."""
    if not actor.can_act_in(desk.commune_code):
        raise DomainError(_("You can only edit the desks of your commune."))
    audit.record(
        "desk.deleted",
        "desk",
        desk.id,
        actor=actor,
        before=snapshot(desk),
        commune_code=desk.commune_code,
    )
    db.session.delete(desk)
    db.session.flush()
