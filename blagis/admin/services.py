"""Admin rules: role and scope changes, and the audit log queries."""

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import AuditEntry, Commune, Role, User
from blagis.timeutils import PARIS


def users_query(q: str | None = None, role: str | None = None) -> Select:
    """Accounts matching a search on e-mail or name, optionally of one role, by e-mail."""
    stmt = select(User).order_by(User.email)
    if q:
        pattern = "%" + q.strip().lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(
            or_(func.lower(User.email).like(pattern), func.lower(User.display_name).like(pattern))
        )
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    return stmt


def _snapshot(user: User) -> dict:
    return {"role": str(user.role), "scope_commune": user.scope_commune_code}


def change_role(actor: User, user_id, role, commune) -> User:
    """Set an account's role and, for staff, the commune they are limited to (audited).

    ``commune`` empty means every commune. The last administrator cannot lose the role.
    """
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise DomainError(_("Unknown account."), field="user_id") from None
    user = db.session.get(User, uid) if 0 < uid <= 2**31 - 1 else None  # 32-bit ids
    if user is None:
        raise DomainError(_("Unknown account."), field="user_id")
    try:
        new_role = Role(role)
    except ValueError:
        raise DomainError(_("Choose a role from the list."), field="role") from None
    scope = (commune or "").strip() or None
    if scope is not None and db.session.get(Commune, scope) is None:
        raise DomainError(_("Unknown commune."), field="commune")
    if new_role != Role.STAFF:
        scope = None  # only staff are limited to a commune; admins act everywhere
    if user.role == Role.ADMIN and new_role != Role.ADMIN:
        # Lock the admin rows so two admins cannot demote each other at the same time.
        admins = db.session.scalars(
            select(User.id).where(User.role == Role.ADMIN).with_for_update()
        ).all()
        if len(admins) <= 1:
            raise DomainError(
                _("This is the last administrator: name another one first."), field="role"
            )
    before = _snapshot(user)
    user.role = new_role
    user.scope_commune_code = scope
    after = _snapshot(user)
    if before != after:
        db.session.flush()
        audit.record(
            "user.role",
            "user",
            user.id,
            actor=actor,
            before=before,
            after=after,
            commune_code=scope,
        )
    return user


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date from a query parameter, None when absent or invalid."""
    if not text or len(text) > 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def audit_query(
    action: str | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Select:
    """Audit entries, newest first, filtered; ``actor`` is an account id or e-mail."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action == action[:64])
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type[:32])
    if actor:
        actor = actor.strip()
        if actor.isdigit() and len(actor) < 18:
            # Ids are 32-bit: a larger number matches nobody (PostgreSQL refuses it).
            number = int(actor)
            stmt = stmt.where(AuditEntry.actor_id == (number if number <= 2**31 - 1 else -1))
        else:
            sub = select(User.id).where(User.email == actor.lower()[:254])
            stmt = stmt.where(AuditEntry.actor_id.in_(sub))
    if date_from:
        stmt = stmt.where(AuditEntry.at >= _day_start(date_from))
    if date_to and date_to < date.max:
        stmt = stmt.where(AuditEntry.at < _day_start(date_to + timedelta(days=1)))
    return stmt


def audit_choices() -> tuple[list[str], list[str]]:
    """The actions and object types present, for the filter lists."""
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    types = db.session.scalars(
        select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    )
    return list(actions), list(types)


def actors_by_id(ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
