"""Personal data: export, erasure and retention, open to every domain through registries.

Each domain that stores personal data appends to these lists at import of its views or
services module (never edits this file):

- ``EXPORTERS``: ``(name, fn)`` with ``fn(user) -> dict | list``; the result goes under
  ``name`` in the JSON of ``/account/export``.
- ``ERASERS``: ``fn(user) -> None``, run in the deletion transaction *before* the user row is
  removed: anonymise rows that must stay (authored initiatives), cancel what must end
  (registrations to future events, promoting the waitlist), delete the rest. Flush, never
  commit.
- ``PURGERS``: ``(name, fn)`` with ``fn(cutoff: datetime) -> int``; erases personal data older
  than the retention cutoff while keeping the anonymous rows (so indicators stay the same) and
  returns how many rows it touched. Flush, never commit.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, null, or_, select, update

from blagis.extensions import db
from blagis.models import AuditEntry, OutboxMessage, OutboxStatus, User, utcnow

EXPORTERS: list[tuple[str, Callable[[User], dict | list]]] = []
ERASERS: list[Callable[[User], None]] = []
PURGERS: list[tuple[str, Callable[[datetime], int]]] = []

ERASED = "[erased]"


def register_exporter(name: str, fn: Callable[[User], dict | list]) -> None:
    if not any(existing == name for existing, _ in EXPORTERS):
        EXPORTERS.append((name, fn))


def register_eraser(fn: Callable[[User], None]) -> None:
    if fn not in ERASERS:
        ERASERS.append(fn)


def register_purger(name: str, fn: Callable[[datetime], int]) -> None:
    if not any(existing == name for existing, _ in PURGERS):
        PURGERS.append((name, fn))


def _iso(value):
    return value.isoformat() if value is not None else None


# --- export -------------------------------------------------------------------------------


def export_account(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": str(user.role),
        "commune": user.commune_code,
        "scope_commune": user.scope_commune_code,
        "locale": user.locale,
        "created_at": _iso(user.created_at),
        "email_confirmed_at": _iso(user.email_confirmed_at),
        "last_login_at": _iso(user.last_login_at),
    }


def export_audit(user: User) -> list:
    """Audit entries about my account and the actions I did (as staff)."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.actor_id == user.id,
                (AuditEntry.object_type == "user") & (AuditEntry.object_id == str(user.id)),
            )
        )
        .order_by(AuditEntry.at)
    )
    return [
        {
            "at": _iso(e.at),
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "by_me": e.actor_id == user.id,
            "before": e.before,
            "after": e.after,
        }
        for e in entries
    ]


def export_mail(user: User) -> list:
    """The e-mails we sent or will send to my address (subjects, not bodies)."""
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == user.email)
        .order_by(OutboxMessage.created_at)
    )
    return [
        {
            "created_at": _iso(m.created_at),
            "subject": m.subject,
            "status": str(m.status),
            "sent_at": _iso(m.sent_at),
        }
        for m in messages
    ]


def export_user_data(user: User) -> dict:
    """Everything we hold about ``user``, from every registered exporter."""
    data = {"exported_at": _iso(utcnow()), "format": "blagis-export-1"}
    for name, fn in EXPORTERS:
        data[name] = fn(user)
    return data


# --- erasure ------------------------------------------------------------------------------


def erase_account_audit(user: User) -> None:
    """Audit entries stay (they are the record of staff actions) but lose personal fields."""
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == str(user.id))
        .values(before=null(), after=null())
    )


def erase_pending_mail(user: User) -> None:
    """Mail not sent yet to this address is dropped; sent mail is purged with the rest."""
    db.session.execute(
        OutboxMessage.__table__.delete().where(
            OutboxMessage.recipient == user.email,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
        )
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient == user.email)
        .values(recipient=ERASED, subject=ERASED, body_text=ERASED, body_html=None)
        .execution_options(synchronize_session=False)
    )


def delete_account(actor: User, user: User) -> None:
    """Run every eraser, record the deletion and remove the user row (the view commits)."""
    from blagis import audit

    user_id = user.id
    for fn in ERASERS:
        fn(user)
    db.session.flush()
    audit.record(
        "user.delete",
        "user",
        user_id,
        actor=actor if actor.id != user_id else None,
        after={"deleted": True},
    )
    # Audit rows keep their action but no longer point at the deleted account.
    db.session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(actor_id=None)
    )
    _delete_user_row(user)


def _delete_user_row(user: User) -> None:
    """A plain DELETE: no relationship of another domain is loaded (they raise on SQL);
    the erasers must have left no row pointing at the account."""
    db.session.flush()
    db.session.execute(
        delete(User).where(User.id == user.id).execution_options(synchronize_session=False)
    )
    db.session.expunge(user)


# --- retention ----------------------------------------------------------------------------


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Now minus BLAGIS_RETENTION_MONTHS (a month counted as 30 days: erring on keeping less)."""
    months = current_app.config["BLAGIS_RETENTION_MONTHS"]
    return (now or utcnow()) - timedelta(days=30 * months)


def purge_outbox(cutoff: datetime) -> int:
    """Sent mail older than the cutoff keeps its row (for counts) but loses address and body."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at < cutoff,
            OutboxMessage.body_text != ERASED,
        )
        .values(
            recipient=ERASED, subject=ERASED, body_text=ERASED, body_html=None, attachments=None
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def purge_audit(cutoff: datetime) -> int:
    """Old audit entries about accounts keep who acted and what, not the personal values."""
    result = db.session.execute(
        update(AuditEntry)
        .where(
            AuditEntry.at < cutoff,
            AuditEntry.object_type == "user",
            or_(AuditEntry.before.is_not(None), AuditEntry.after.is_not(None)),
        )
        .values(before=null(), after=null())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def purge_unconfirmed_accounts(cutoff: datetime) -> int:
    """Accounts never confirmed since before the cutoff are deleted (they never logged in)."""
    stale = db.session.scalars(
        select(User).where(User.email_confirmed_at.is_(None), User.created_at < cutoff)
    ).all()
    for user in stale:
        for fn in ERASERS:
            fn(user)
        _delete_user_row(user)
    return len(stale)


def purge(now: datetime | None = None) -> dict[str, int]:
    """Run every purger with the retention cutoff; the caller commits."""
    cutoff = retention_cutoff(now)
    report = {}
    for name, fn in PURGERS:
        report[name] = fn(cutoff)
        db.session.flush()
    return report


register_exporter("account", export_account)
register_exporter("audit", export_audit)
register_exporter("mail", export_mail)
register_eraser(erase_account_audit)
register_eraser(erase_pending_mail)
register_purger("outbox", purge_outbox)
register_purger("audit", purge_audit)
register_purger("unconfirmed_accounts", purge_unconfirmed_accounts)
