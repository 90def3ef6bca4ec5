"""Signed unsubscribe links: no log-in needed, no expiry, one category per link.

Two kinds of subscriber carry their preferences: an account (``User.notify_*``) and a person
staff registered without an account but with an e-mail (``Registration.reminders_ok``, for
that registration's reminders). Each kind signs with its own salt, so a token of one kind is
never read as the other.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy.orm import joinedload

from blagis.extensions import db
from blagis.mail.queue import preference
from blagis.models import MailCategory, OutboxMessage, OutboxStatus, Registration, User
from blagis.urls import base_url


@dataclass(frozen=True)
class _Kind:
    model: type
    salt: str
    key: str  # payload key holding the row id


_KINDS = (
    _Kind(User, "mail-unsubscribe", "u"),
    _Kind(Registration, "mail-unsubscribe-registration", "r"),
)


def _kind_of(subscriber) -> _Kind:
    return next(kind for kind in _KINDS if isinstance(subscriber, kind.model))


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_token(subscriber: User | Registration, category: str) -> str:
    kind = _kind_of(subscriber)
    return _serializer(kind.salt).dumps({kind.key: subscriber.id, "c": str(MailCategory(category))})


def unsubscribe_url(subscriber: User | Registration, category: str, locale: str) -> str:
    return f"{base_url()}/unsubscribe/{make_token(subscriber, category)}?lang={locale}"


def _load(kind: _Kind, row_id: int):
    if kind.model is Registration:
        registration = db.session.get(
            Registration, row_id, options=[joinedload(Registration.event)]
        )
        # Erased contact details (privacy purge) or an account now: nothing to turn off here.
        if registration is None or registration.email is None or registration.user_id:
            return None
        return registration
    return db.session.get(kind.model, row_id)


def read_token(token: str) -> tuple[User | Registration, MailCategory] | None:
    """The subscriber and category a genuine token names, else None (forged, garbled, stale)."""
    for kind in _KINDS:
        try:
            data = _serializer(kind.salt).loads(token)
            category = MailCategory(data["c"])
            row_id = int(data[kind.key])
        except BadData:
            continue  # maybe signed for the other kind
        except (KeyError, TypeError, ValueError):
            return None
        subscriber = _load(kind, row_id)
        if subscriber is None or preference(subscriber, category) is None:
            return None  # gone, or essential mail (never turned off)
        return subscriber, category
    return None


def unsubscribe(subscriber: User | Registration, category: MailCategory) -> None:
    """Turn one kind of non-essential mail off (the caller commits)."""
    setattr(subscriber, preference(subscriber, category), False)
    drop_waiting(subscriber, category)
    db.session.flush()


def drop_waiting(subscriber: User | Registration, category: MailCategory) -> int:
    """Delete the not-yet-claimed messages of a category the person just turned off.

    A reminder queued before the change must not go out after it. Messages already being
    sent are left alone. For a registration, only the messages carrying its own link: the
    same address may have other registrations, or an account.
    """
    query = sa.delete(OutboxMessage).where(
        OutboxMessage.recipient == subscriber.email,
        OutboxMessage.category == category,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    if isinstance(subscriber, Registration):
        link = f"/unsubscribe/{make_token(subscriber, category)}?"
        query = query.where(OutboxMessage.unsubscribe_url.contains(link, autoescape=True))
    result = db.session.execute(query.execution_options(synchronize_session=False))
    return result.rowcount
