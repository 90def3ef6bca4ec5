"""Queueing e-mail in the outbox: rendered now, in the recipient's language, sent later.

A message template ``templates/mail/<name>.txt`` defines the blocks ``subject``, ``text`` and,
optionally, ``html``. Rendering happens in the transaction of the change that causes the mail,
so a rolled-back change never leaves a message behind.
"""

import base64
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import OutboxMessage, utcnow


def _render_blocks(template_name: str, context: dict) -> dict[str, str]:
    env = current_app.jinja_env
    template = env.get_template(f"mail/{template_name}.txt")
    ctx = template.new_context(dict(context), shared=False)
    out = {}
    for block in ("subject", "text", "html"):
        if block in template.blocks:
            out[block] = "".join(template.blocks[block](ctx)).strip()
    return out


def queue_mail(
    recipient: str,
    template: str,
    *,
    locale: str | None = None,
    context: dict | None = None,
    dedup_key: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    due_at: datetime | None = None,
    category: str = "essential",
    user=None,
) -> OutboxMessage | None:
    """Add a message to the outbox. Returns None if ``dedup_key`` was already queued.

    ``category`` is ``essential`` (account, registrations, decisions) or a kind of
    non-essential mail (``reminder``, ``mission_call``) that ``user`` may have turned off.
    """
    if dedup_key is not None:
        existing = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if existing is not None:
            return None
    locale = locale if locale in current_app.config["BLAGIS_LOCALES"] else "fr"
    context = dict(context or {})
    context.setdefault("base_url", current_app.config["BLAGIS_BASE_URL"])
    with force_locale(locale):
        blocks = _render_blocks(template, context)
    message = OutboxMessage(
        recipient=recipient,
        locale=locale,
        template=template,
        subject=" ".join(blocks.get("subject", "").split())[:300],
        body_text=blocks.get("text", ""),
        body_html=blocks.get("html") or None,
        attachments=[
            {"filename": name, "content_type": ctype, "data": base64.b64encode(data).decode()}
            for name, ctype, data in (attachments or [])
        ]
        or None,
        dedup_key=dedup_key,
        due_at=due_at or utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message
