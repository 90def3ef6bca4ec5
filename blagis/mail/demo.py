"""Demo content for mail: welcome messages in each language, one failed message for staff."""

from datetime import timedelta

from blagis.auth.services import send_confirmation
from blagis.mail import queue_mail
from blagis.models import OutboxStatus, utcnow


def step(users) -> dict:
    """Welcome mail for two residents (sent by ``send-mail``), and one that could not be sent."""
    for key in ("habitant", "resident.en"):
        send_confirmation(users[key])
    fatou = users["fatou"]
    failed = queue_mail(
        fatou.email,
        "password_reset",
        locale="fr",
        context={"user": fatou, "reset_url": "http://127.0.0.1:5000/auth/reset", "minutes": 60},
    )
    failed.status = OutboxStatus.FAILED
    failed.attempts = 8
    failed.due_at = utcnow() - timedelta(hours=2)
    failed.last_error = (
        "SMTPRecipientsRefused: {'fatou@blagis.example': (550, b'5.1.1 Mailbox unavailable')}"
    )
    # Marc wants no calls for volunteers (set on his account page).
    users["marc"].notify_missions = False
    return {"mail messages": 3}
