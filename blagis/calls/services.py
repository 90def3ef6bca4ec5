"""The call list: people whose registration changed and whom no message can reach.

Someone lands here when their registration changes (promoted from the waiting list, event
cancelled, event moved) and they have neither an e-mail address nor consent to SMS (or SMS are
not configured), or when the SMS telling them failed for good. Staff phone them and mark the
call done (audited). Staff limited to a commune see only the calls of its events.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from blagis import audit, privacy
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import (
    CallReason,
    CallTask,
    Channel,
    Event,
    OutboxMessage,
    OutboxStatus,
    Registration,
    User,
    utcnow,
)
from blagis.sms.phone import international

# Which message about a registration puts its person on the call list, and why.
REASON_OF_TEMPLATE = {
    "registration_promoted": CallReason.PROMOTED,
    "event_cancelled": CallReason.EVENT_CANCELLED,
    "event_changed": CallReason.EVENT_CHANGED,
}


def add_call(
    registration: Registration, event: Event, reason: str, *, sms_failed: bool = False
) -> CallTask | None:
    """Put the person on the call list (the caller commits); one open call per registration
    and reason: a second change before the call is made does not add a line."""
    reason = CallReason(reason)
    existing = db.session.scalar(
        select(CallTask).where(
            CallTask.registration_id == registration.id,
            CallTask.reason == reason,
            CallTask.done_at.is_(None),
        )
    )
    if existing is not None:
        existing.sms_failed = existing.sms_failed or sms_failed
        return None
    call = CallTask(
        registration_id=registration.id,
        event_id=event.id,
        commune_code=event.commune_code,
        reason=reason,
        sms_failed=sms_failed,
    )
    db.session.add(call)
    db.session.flush()
    return call


def after_failure(message_id: int) -> None:
    """The worker gave up on a message: an SMS about a change puts its person on the list."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not message.call_reason or message.registration_id is None:
        return
    registration = db.session.get(Registration, message.registration_id)
    if registration is None or not registration.is_active:
        db.session.rollback()
        return
    event = db.session.get(Event, registration.event_id)
    add_call(registration, event, message.call_reason, sms_failed=True)
    db.session.commit()


@dataclass(frozen=True)
class CallRow:
    call: CallTask
    name: str
    number: str | None
    event: Event


def _visible(user: User):
    query = select(CallTask)
    if not user.is_admin and user.scope_commune_code is not None:
        query = query.where(CallTask.commune_code == user.scope_commune_code)
    return query


def calls_for(user: User, *, done: bool = False, limit: int = 200) -> list[CallRow]:
    """The calls ``user`` may see (their commune only when limited to one), oldest first;
    with ``done``, the last ones made, most recent first."""
    query = _visible(user).options(
        selectinload(CallTask.event),
        selectinload(CallTask.registration).selectinload(Registration.user),
    )
    if done:
        query = query.where(CallTask.done_at.is_not(None)).order_by(CallTask.done_at.desc())
    else:
        query = query.where(CallTask.done_at.is_(None)).order_by(
            CallTask.commune_code, CallTask.created_at, CallTask.id
        )
    rows = []
    for call in db.session.scalars(query.limit(limit)):
        registration = call.registration
        person = registration.user
        if person is not None:
            name, phone = person.display_name, person.phone
        else:
            name, phone = registration.name or _("(name erased)"), registration.phone
        rows.append(CallRow(call, name, phone, call.event))
    return rows


def get_call(call_id: int) -> CallTask | None:
    return db.session.get(CallTask, call_id)


def mark_done(actor: User, call: CallTask) -> CallTask:
    """Staff phoned the person: the call leaves the list (audited). The view checked that
    ``actor`` may act in the call's commune."""
    if call.done_at is not None:
        raise DomainError(_("This call is already marked done."))
    call.done_at = utcnow()
    call.done_by_id = actor.id
    db.session.flush()
    audit.record(
        "call.done",
        "call",
        call.id,
        actor=actor,
        before={"done": False},
        after={"done": True, "reason": str(call.reason), "registration_id": call.registration_id},
        commune_code=call.commune_code,
    )
    return call


def open_count(user: User) -> int:
    query = _visible(user).where(CallTask.done_at.is_(None)).subquery()
    return int(db.session.scalar(select(func.count()).select_from(query)))


# --- personal data ------------------------------------------------------------------------------


def purge_calls(cutoff: datetime) -> int:
    """Calls made (or left) before the retention cutoff are deleted."""
    result = db.session.execute(
        delete(CallTask)
        .where(CallTask.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def export_phone(user: User) -> dict:
    """My number and SMS consent, and the SMS we sent or will send to it."""
    number = international(user.phone)
    messages = []
    if number:
        messages = [
            {
                "created_at": m.created_at.isoformat(),
                "text": m.body_text,
                "status": str(m.status),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == Channel.SMS, OutboxMessage.recipient == number)
                .order_by(OutboxMessage.created_at)
            )
        ]
    return {"phone": user.phone, "sms_ok": user.sms_ok, "sms": messages}


def erase_phone(user: User) -> None:
    """Account deletion: SMS not sent yet to my number are dropped, sent ones lose number and
    text; the calls about my registrations and my name on calls I made go."""
    number = international(user.phone)
    if number:
        sms_to_me = (OutboxMessage.channel == Channel.SMS, OutboxMessage.recipient == number)
        db.session.execute(
            delete(OutboxMessage)
            .where(
                *sms_to_me,
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(OutboxMessage)
            .where(*sms_to_me)
            .values(recipient=privacy.ERASED, subject=privacy.ERASED, body_text=privacy.ERASED)
            .execution_options(synchronize_session=False)
        )
    mine = select(Registration.id).where(Registration.user_id == user.id)
    db.session.execute(
        delete(CallTask)
        .where(CallTask.registration_id.in_(mine))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(CallTask)
        .where(CallTask.done_by_id == user.id)
        .values(done_by_id=None)
        .execution_options(synchronize_session=False)
    )


privacy.register_exporter("phone", export_phone)
privacy.register_purger("calls", purge_calls)
# First: the registrations' eraser detaches them from the account, after which they could no
# longer be told apart.
if erase_phone not in privacy.ERASERS:
    privacy.ERASERS.insert(0, erase_phone)
