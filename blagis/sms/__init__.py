"""SMS, the outbox's second channel (SMPP 3.4).

``queue_sms`` writes an ``OutboxMessage`` with ``channel = sms`` in the transaction of the
change, rendered now in the person's language and kept to two SMS segments; the ``send-mail``
worker sends it over SMPP (``blagis.sms.transport``) with the same claim, retry and back-off as
e-mail. A number is used only with the person's consent (``sms_ok``); see docs/notifications.md.
"""

import re
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import Channel, MailCategory, OutboxMessage, utcnow
from blagis.sms import text as sms_text
from blagis.sms.phone import can_take_sms, international

__all__ = ["configured", "consented_number", "queue_sms", "render_sms", "stop_number"]

# Title and place are cut shorter and shorter until the message fits two segments.
_SIZES = ((60, 45), (45, 30), (30, 20), (20, 12), (12, 8))


def configured() -> bool:
    """SMS go out only when an SMPP server is configured."""
    config = current_app.config
    return bool(config.get("SMS_SMPP_HOST") and config.get("SMS_SMPP_SYSTEM_ID"))


def consented_number(phone: str | None, sms_ok: bool) -> str | None:
    """The number to text, in international form, if the person agreed and it takes SMS."""
    if not sms_ok:
        return None
    number = international(phone)
    return number if can_take_sms(number) else None


def stop_number() -> str | None:
    """The number people can answer STOP to: ``SMS_FROM`` when it is a number (an
    alphanumeric sender such as "Blagis" cannot be answered, so no STOP line then)."""
    sender = (current_app.config.get("SMS_FROM") or "").replace(" ", "")
    return sender if re.fullmatch(r"\+?\d{3,15}", sender) else None


def _when(value: datetime, locale: str) -> str:
    from blagis.i18n import _datetime_text

    return _datetime_text(value, "EEE d MMM, HH:mm", locale)


def render_sms(template: str, context: dict, *, locale: str) -> str:
    """The text of ``templates/sms/<template>.txt`` in ``locale``, at most two segments."""
    env = current_app.jinja_env
    event = context.get("event")
    number = stop_number()
    text = ""
    with force_locale(locale):
        stop = env.get_template("sms/_stop.txt").render(number=number).strip() if number else ""
        for title_size, place_size in _SIZES:
            values = dict(context)
            if event is not None:
                values.setdefault("when", _when(event.starts_at, locale))
                values["title"] = sms_text.shorten(event.title, title_size)
                values["place"] = sms_text.shorten(event.place, place_size)
            body = sms_text.prepare(env.get_template(f"sms/{template}.txt").render(values))
            text = sms_text.prepare(f"{body} {stop}".strip())
            if sms_text.segments(text) <= sms_text.MAX_SEGMENTS:
                return text
    # Still too long (a title in a script GSM lacks: 67 characters a segment): the end of the
    # body goes, never the STOP line.
    room = sms_text.limit(text) - len(stop) - 1
    return f"{body[: room - 3].rstrip()}... {stop}".strip()


def queue_sms(
    number: str,
    template: str,
    *,
    locale: str | None = None,
    context: dict | None = None,
    dedup_key: str | None = None,
    category: str = "essential",
    user=None,
    registration=None,
    registration_id: int | None = None,
    call_reason: str | None = None,
) -> OutboxMessage | None:
    """Add an SMS to the outbox (the caller commits); None when nothing is queued (the
    ``dedup_key`` was used, or the subscriber turned this category off). ``call_reason``: if the
    SMS fails for good, the registration ``registration_id`` goes to the call list for that
    reason. As for ``queue_mail``, ``registration`` is the subscriber only for someone without
    an account."""
    from blagis.mail.queue import wants

    category = MailCategory(category)
    subscriber = user if user is not None else registration
    if subscriber is not None and not wants(subscriber, category):
        return None
    if dedup_key is not None:
        dedup_key = f"sms:{dedup_key}"
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)):
            return None
    locale = locale if locale in current_app.config["BLAGIS_LOCALES"] else "fr"
    body = render_sms(template, dict(context or {}), locale=locale)
    message = OutboxMessage(
        channel=Channel.SMS,
        recipient=number,
        locale=locale,
        template=template,
        subject=sms_text.shorten(body, 300),
        body_text=body,
        dedup_key=dedup_key,
        due_at=utcnow(),
        category=category,
        registration_id=registration_id,
        call_reason=call_reason,
    )
    db.session.add(message)
    db.session.flush()
    return message
