"""Volunteer attestations: a document to hand to an employer or a school, and its check.

An attestation is issued by the volunteer (from their account) or by an agent, over a
period (a year or every mission), and keeps what it says (blagis.models.Attestation). Its
verification code is random: 16 characters from a 32-letter alphabet (80 bits), drawn
with ``secrets``; ``/attestations/<code>`` shows only the name, the period, the total hours
and the issue date (docs/security.md, « Volunteer attestations »).
"""

import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Attestation, Desk, Mission, User, utcnow
from blagis.timeutils import PARIS
from blagis.volunteers.services import attended_missions

# 32 symbols without 0/O or 1/I: a code read aloud or typed from paper comes out right.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
ORGANISATION = "Contrat de ville « Engagements Quartiers 2030 » — quartier prioritaire des Blagis"
NAME_MAX = 160


def new_code() -> str:
    """A fresh verification code (not yet checked for uniqueness: the unique index does)."""
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCD-EFGH-JKMN-PQRS``: groups of four, easier to read and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str) -> str | None:
    """The stored form of a code as typed (any case, dashes or spaces); None if it cannot be
    one (checked before any query)."""
    code = re.sub(r"[\s\-]", "", text or "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def find_by_code(text: str) -> Attestation | None:
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(select(Attestation).where(Attestation.code == code))


def get_attestation(attestation_id: int) -> Attestation | None:
    return db.session.get(Attestation, attestation_id)


def of_user(user_id: int) -> list[Attestation]:
    """A person's attestations, newest first."""
    return list(
        db.session.scalars(
            select(Attestation)
            .where(Attestation.user_id == user_id)
            .order_by(Attestation.issued_at.desc(), Attestation.id.desc())
        )
    )


def served_years(user_id: int, commune_code: str | None = None) -> list[int]:
    """Years (Paris time) with attended missions, newest first: the choices of the form."""
    missions = _missions(user_id, None, commune_code)
    return sorted({m.starts_at.astimezone(PARIS).year for m in missions}, reverse=True)


def _missions(user_id: int, year: int | None, commune_code: str | None) -> list[Mission]:
    missions = attended_missions(user_id)
    if commune_code is not None:
        missions = [m for m in missions if m.commune_code == commune_code]
    if year is not None:
        missions = [m for m in missions if m.starts_at.astimezone(PARIS).year == year]
    return missions


def _issuing_desk(commune_code: str | None, missions: list[Mission]) -> Desk | None:
    """The desk whose address goes on the document: the first desk of the commune of the
    attestation, else of the commune where most of the hours were served."""
    if commune_code is None:
        minutes: dict[str, float] = {}
        for m in missions:
            minutes[m.commune_code] = minutes.get(m.commune_code, 0) + m.hours
        commune_code = max(minutes, key=minutes.get) if minutes else None
    if commune_code is None:
        return None
    return db.session.scalar(
        select(Desk)
        .where(Desk.commune_code == commune_code)
        .order_by(Desk.position, Desk.id)
        .limit(1)
    )


def issue(
    actor: User,
    volunteer: User,
    *,
    full_name: str,
    year: int | None = None,
    commune_code: str | None = None,
) -> Attestation:
    """Issue an attestation of ``volunteer``'s attended missions (of ``year``, of
    ``commune_code``). The volunteer may issue their own; an agent issues one for the
    missions of the commune they act in (every commune if unscoped). Audited."""
    if actor.id != volunteer.id:
        if not actor.is_staff:
            raise PermissionError
        if not (actor.is_admin or actor.scope_commune_code is None):
            commune_code = actor.scope_commune_code
    full_name = " ".join((full_name or "").split())
    if len(full_name) < 2:
        raise DomainError(_("Enter the full name, as on an identity document."), field="full_name")
    if len(full_name) > NAME_MAX:
        raise DomainError(_("At most 160 characters."), field="full_name")
    missions = _missions(volunteer.id, year, commune_code)
    if not missions:
        raise DomainError(
            _("No mission with confirmed attendance in this period: nothing to attest yet."),
            field="year",
        )
    desk = _issuing_desk(commune_code, missions)
    rows = [
        {
            "date": m.starts_at.astimezone(PARIS).date().isoformat(),
            "title": m.title,
            "place": m.place,
            "commune": m.commune_code,
            "minutes": round((m.ends_at - m.starts_at).total_seconds() / 60),
        }
        for m in missions
    ]
    attestation = Attestation(
        code=new_code(),
        user_id=volunteer.id,
        full_name=full_name,
        period_start=missions[0].starts_at.astimezone(PARIS).date(),
        period_end=missions[-1].starts_at.astimezone(PARIS).date(),
        total_minutes=sum(r["minutes"] for r in rows),
        missions=rows,
        organisation=ORGANISATION,
        address=f"{desk.name}\n{desk.address}" if desk is not None else "",
        commune_code=commune_code,
        issued_at=utcnow(),
        issued_by_id=actor.id if actor.id != volunteer.id else None,
        signatory=actor.display_name if actor.id != volunteer.id else "",
    )
    db.session.add(attestation)
    db.session.flush()
    audit.record(
        "attestation.issued",
        "attestation",
        attestation.id,
        actor=actor,
        after={
            "user_id": volunteer.id,
            "period": [attestation.period_start.isoformat(), attestation.period_end.isoformat()],
            "total_minutes": attestation.total_minutes,
        },
        commune_code=commune_code,
    )
    return attestation


def export_attestations(user: User) -> list:
    """The person's attestations for the RGPD export."""
    return [
        {
            "code": format_code(a.code),
            "full_name": a.full_name,
            "period": [a.period_start.isoformat(), a.period_end.isoformat()],
            "total_minutes": a.total_minutes,
            "issued_at": a.issued_at.isoformat(),
        }
        for a in of_user(user.id)
    ]


def erase_attestations(user: User) -> None:
    """A deleted account's attestations go: their codes no longer confirm anything. Those an
    agent issued lose the link to the agent's account (the document keeps its signatory)."""
    db.session.execute(delete(Attestation).where(Attestation.user_id == user.id))
    db.session.execute(
        update(Attestation).where(Attestation.issued_by_id == user.id).values(issued_by_id=None)
    )
