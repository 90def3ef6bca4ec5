"""Signed unsubscribe links: no log-in needed, no expiry, one category per link."""

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from blagis.extensions import db
from blagis.models import MailCategory, OutboxMessage, OutboxStatus, User


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mail-unsubscribe")


def make_token(user: User, category: str) -> str:
    return _serializer().dumps({"u": user.id, "c": str(MailCategory(category))})


def unsubscribe_url(user: User, category: str, locale: str) -> str:
    base = current_app.config["BLAGIS_BASE_URL"]
    return f"{base}/unsubscribe/{make_token(user, category)}?lang={locale}"


def read_token(token: str) -> tuple[User, MailCategory] | None:
    """The account and category a genuine token names, else None (forged, garbled, stale)."""
    from blagis.mail.queue import NON_ESSENTIAL

    try:
        data = _serializer().loads(token)
        category = MailCategory(data["c"])
        user_id = int(data["u"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    if category not in NON_ESSENTIAL:
        return None
    user = db.session.get(User, user_id)
    if user is None:
        return None
    return user, category


def unsubscribe(user: User, category: MailCategory) -> None:
    """Turn one kind of non-essential mail off (the caller commits)."""
    from blagis.mail.queue import NON_ESSENTIAL

    setattr(user, NON_ESSENTIAL[category], False)
    drop_waiting(user, category)
    db.session.flush()


def drop_waiting(user: User, category: MailCategory) -> int:
    """Delete the not-yet-claimed messages of a category the person just turned off.

    A reminder queued before the change must not go out after it. Messages already being
    sent are left alone.
    """
    result = db.session.execute(
        sa.delete(OutboxMessage)
        .where(
            OutboxMessage.recipient == user.email,
            OutboxMessage.category == category,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
