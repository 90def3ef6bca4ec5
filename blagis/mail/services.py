"""Rules around the outbox that people trigger: preferences and retries by staff."""

from flask_babel import gettext as _

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import MailCategory, OutboxMessage, OutboxStatus, User, utcnow

RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.PENDING)


def set_preferences(user: User, *, reminders: bool, missions: bool) -> None:
    """Save which non-essential mail ``user`` wants (the caller commits)."""
    from blagis.mail.unsubscribe import drop_waiting

    user.notify_reminders = bool(reminders)
    user.notify_missions = bool(missions)
    if not reminders:
        drop_waiting(user, MailCategory.REMINDER)
    if not missions:
        drop_waiting(user, MailCategory.MISSION_CALL)
    db.session.flush()


def _state(message: OutboxMessage) -> dict:
    return {
        "status": str(message.status),
        "attempts": message.attempts,
        "due_at": message.due_at.isoformat() if message.due_at else None,
    }


def retry_message(actor: User, message: OutboxMessage) -> None:
    """Send a failed (or waiting) message again now, with a fresh count of attempts.

    A message being sent or already sent cannot be retried: that could deliver it twice.
    """
    if message.status not in RETRYABLE:
        raise DomainError(_("Only a failed or waiting message can be sent again."))
    before = _state(message)
    message.status = OutboxStatus.PENDING
    message.due_at = utcnow()
    message.attempts = 0
    message.claimed_by = None
    message.claimed_at = None
    db.session.flush()
    audit.record(
        "outbox.retry",
        "outbox_message",
        message.id,
        actor=actor,
        before=before,
        after=_state(message),
    )
