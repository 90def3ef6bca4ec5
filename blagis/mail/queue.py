"""Queueing e-mail in the outbox: rendered now, in the recipient's language, sent later.

A message template ``templates/mail/<name>.txt`` defines the blocks ``subject``, ``text`` and,
optionally, ``html``. Rendering happens in the transaction of the change that causes the mail,
so a rolled-back change never leaves a message behind. Every message gets the common footer of
``templates/mail/_layout.{txt,html}``; without an ``html`` block the HTML body is made from the
text (escaped, paragraphs kept, links made clickable).
"""

import base64
import re
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import MailCategory, OutboxMessage, Registration, utcnow
from blagis.urls import base_url

# Non-essential categories and the User attribute that says whether the person wants them.
NON_ESSENTIAL = {
    MailCategory.REMINDER: "notify_reminders",
    MailCategory.MISSION_CALL: "notify_missions",
}

# People registered by staff without an account: the Registration attribute, per category.
REGISTRATION_PREFERENCES = {MailCategory.REMINDER: "reminders_ok"}

_URL = re.compile(r"https?://[^\s<>\"']+")


def preference(subscriber, category: str) -> str | None:
    """The attribute of ``subscriber`` (a User or a Registration) that says whether it wants
    this category of mail; None when the category cannot be turned off for it."""
    table = REGISTRATION_PREFERENCES if isinstance(subscriber, Registration) else NON_ESSENTIAL
    return table.get(MailCategory(category))


def wants(subscriber, category: str) -> bool:
    """False when ``subscriber`` (a User or a Registration) turned this kind of mail off."""
    attribute = preference(subscriber, category)
    if attribute is None or subscriber is None:
        return True
    return bool(getattr(subscriber, attribute, True))


def _html_env():
    """The app's Jinja environment with autoescape forced on, for ``html`` blocks.

    Mail templates end in ``.txt`` so Flask would not escape them; an ``html`` block must be.
    """
    env = current_app.extensions.get("blagis_mail_html_env")
    if env is None:
        env = current_app.jinja_env.overlay(autoescape=True, cache_size=100)
        current_app.extensions["blagis_mail_html_env"] = env
    return env


def _render_block(env, template_name: str, block: str, context: dict) -> str | None:
    template = env.get_template(template_name)
    if block not in template.blocks:
        return None
    ctx = template.new_context(dict(context), shared=False)
    return "".join(template.blocks[block](ctx)).strip()


def text_to_html(text: str) -> Markup:
    """Plain text as escaped HTML paragraphs, with http(s) addresses as links."""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in chunk.splitlines():
            parts, last = [], 0
            for match in _URL.finditer(line):
                parts.append(escape(line[last : match.start()]))
                url = escape(match.group(0))
                parts.append(Markup('<a href="{0}">{0}</a>').format(url))
                last = match.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        paragraphs.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)))
    return Markup("\n").join(paragraphs)


def render_message(template: str, context: dict, *, locale: str, unsubscribe_url=None) -> dict:
    """Subject, text and HTML bodies of a message, footer included, in ``locale``."""
    name = f"mail/{template}.txt"
    with force_locale(locale):
        subject = _render_block(current_app.jinja_env, name, "subject", context) or ""
        text = _render_block(current_app.jinja_env, name, "text", context) or ""
        html = _render_block(_html_env(), name, "html", context)
        # ``html`` comes from the autoescaping environment: every value in it is escaped.
        body_html = Markup(html) if html else text_to_html(text)  # nosec B704
        subject = " ".join(subject.split())[:300]
        layout = {
            "subject": subject,
            "locale": locale,
            "base_url": base_url(),
            "unsubscribe_url": unsubscribe_url,
        }
        body_text = current_app.jinja_env.get_template("mail/_layout.txt").render(layout, body=text)
        body_html = current_app.jinja_env.get_template("mail/_layout.html").render(
            layout, body=body_html
        )
    return {"subject": subject, "text": body_text.strip() + "\n", "html": body_html}


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
    registration=None,
) -> OutboxMessage | None:
    """Add a message to the outbox (the caller commits). Returns None when nothing is queued:

    ``dedup_key`` was already queued, or the subscriber turned off this ``category`` of mail.
    ``category`` is ``essential`` (account, registrations, decisions) or a kind of
    non-essential mail (``reminder``, ``mission_call``) that carries an unsubscribe link.
    The subscriber is ``user`` (an account) or, for someone staff registered without an
    account, ``registration``: its preference is honoured and its own link is used.
    """
    category = MailCategory(category)
    subscriber = user if user is not None else registration
    if subscriber is not None and not wants(subscriber, category):
        return None
    if dedup_key is not None:
        existing = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if existing is not None:
            return None
    locale = locale if locale in current_app.config["BLAGIS_LOCALES"] else "fr"
    context = dict(context or {})
    context.setdefault("base_url", base_url())
    unsubscribe_url = None
    if (
        subscriber is not None
        and preference(subscriber, category)
        and getattr(subscriber, "id", None)
    ):
        from blagis.mail.unsubscribe import unsubscribe_url as make_url

        unsubscribe_url = make_url(subscriber, category, locale)
    rendered = render_message(template, context, locale=locale, unsubscribe_url=unsubscribe_url)
    message = OutboxMessage(
        recipient=recipient,
        locale=locale,
        template=template,
        subject=rendered["subject"],
        body_text=rendered["text"],
        body_html=rendered["html"],
        attachments=[
            {"filename": name, "content_type": ctype, "data": base64.b64encode(data).decode()}
            for name, ctype, data in (attachments or [])
        ]
        or None,
        dedup_key=dedup_key,
        due_at=due_at or utcnow(),
        category=category,
        unsubscribe_url=unsubscribe_url,
    )
    db.session.add(message)
    db.session.flush()
    return message
