"""The ``send-mail`` worker: claim due messages, send them, record the outcome.

Several workers may run at once (cron overlapping a slow run, several servers): a message is
first *claimed* in its own short transaction, so only one worker ever holds it, then sent with
no database transaction open, then marked sent or scheduled for a retry with back-off.
"""

import base64
import logging
import os
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app

from blagis.extensions import db
from blagis.models import Channel, OutboxMessage, OutboxStatus, utcnow
from blagis.sms.transport import SMPPTransport, SmsPayload

log = logging.getLogger("blagis.mail")

BACKOFF_CAP_MINUTES = 240
OUTBOX_HEADER = "X-Blagis-Outbox-Id"


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` tries: 1, 2, 4, 8… minutes, capped."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), BACKOFF_CAP_MINUTES))


def new_worker_id() -> str:
    """Unique per run, even for two threads of one process."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _claimable(now):
    """Due pending messages, and messages whose worker died mid-send (claim too old)."""
    stale = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    return sa.or_(
        sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
        sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < stale),
    )


def claim(worker_id: str, batch: int) -> list[int]:
    """Mark up to ``batch`` due messages as ``sending`` by this worker; commit; their ids.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent workers take disjoint rows
    without waiting. SQLite has no row locks but serialises writers: a conditional ``UPDATE``
    that only matches a still-claimable row, checked through its row count, is the equivalent.
    """
    now = utcnow()
    order = (OutboxMessage.due_at, OutboxMessage.id)
    values = {"status": OutboxStatus.SENDING, "claimed_by": worker_id, "claimed_at": now}
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(_claimable(now))
            .order_by(*order)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if ids:
            db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        return list(ids)
    claimed: list[int] = []
    while True:
        candidates = db.session.scalars(
            sa.select(OutboxMessage.id).where(_claimable(now)).order_by(*order).limit(batch)
        ).all()
        for message_id in candidates:
            result = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _claimable(now))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(message_id)
        db.session.commit()
        # Another worker took every candidate first: look again rather than stop early.
        if claimed or not candidates:
            return claimed


def _domain(config) -> str:
    address = parseaddr(config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "blagis.invalid"


def build_email(message: OutboxMessage, config) -> EmailMessage:
    """The MIME message: text, HTML alternative, attachments, and stable identifying headers."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Date"] = format_datetime(utcnow(), usegmt=True)
    # Stable across retries: a receiving server or client can drop a duplicate.
    stamp = message.created_at.strftime("%Y%m%d%H%M%S")
    email["Message-ID"] = f"<outbox.{message.id}.{stamp}@{_domain(config)}>"
    email[OUTBOX_HEADER] = str(message.id)
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for item in message.attachments or []:
        maintype, _, subtype = item["content_type"].partition("/")
        email.add_attachment(
            base64.b64decode(item["data"]),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=item["filename"],
        )
        if maintype == "text":  # bytes kept exactly (an .ics wants CRLF); say they are UTF-8
            email.get_payload()[-1].set_param("charset", "utf-8")
    # Last: set_content() and add_attachment() move or drop Content-* headers set earlier.
    email["Content-Language"] = message.locale
    return email


def build_payload(message: OutboxMessage, config):
    """What the transport of the message's channel sends: an e-mail, or an SMS."""
    if message.channel == Channel.SMS:
        return SmsPayload(destination=message.recipient, text=message.body_text)
    return build_email(message, config)


class SMTPTransport:
    """One SMTP connection per run, opened on first use, reopened after an error.

    When the server cannot be reached (or refuses TLS or the log-in), every later message of
    the run fails at once with the same error instead of waiting for a time-out each.
    """

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection = smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        )
        try:
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, email: EmailMessage, message_id: int) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            try:
                self.connection = self._connect()
            except Exception as error:
                self.unreachable = error
                raise
        try:
            self.connection.send_message(email)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good; only this message failed
        except BaseException:
            self.close()  # state unknown: the next message reconnects
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class LogTransport:
    """Development (no MAIL_SERVER): the message goes to the log and counts as sent."""

    def send(self, email: EmailMessage, message_id: int) -> None:
        text = email.get_body(("plain",)).get_content()
        log.info(
            "mail %s (not sent, no MAIL_SERVER) to %s: %s\n%s",
            message_id,
            email["To"],
            email["Subject"],
            text,
        )

    def close(self) -> None:
        pass


class Transports:
    """Per message, the transport of its channel, each opened on first use: SMTP (or the log
    without MAIL_SERVER) for e-mail, SMPP for SMS."""

    def __init__(self, config):
        self.config = config
        self.email = None
        self.sms: SMPPTransport | None = None

    def send(self, payload, message_id: int) -> None:
        if isinstance(payload, SmsPayload):
            if self.sms is None:
                self.sms = SMPPTransport(self.config)
            self.sms.send(payload, message_id)
            return
        if self.email is None:
            config = self.config
            self.email = SMTPTransport(config) if config.get("MAIL_SERVER") else LogTransport()
        self.email.send(payload, message_id)

    def close(self) -> None:
        try:
            if self.email is not None:
                self.email.close()
        finally:
            if self.sms is not None:
                self.sms.close()
                if self.sms.inbound:  # answers received while bound (STOP): recorded
                    from blagis.sms.optout import record_inbound

                    record_inbound(self.sms.inbound)


@dataclass
class RunReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    batches: int = 1


def _mark(message_id: int, worker_id: str, **values) -> None:
    """Update a message only while this worker still holds it, and commit."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_once(batch: int = 50, worker_id: str | None = None) -> RunReport:
    """Claim and send one batch of due messages; safe to call from several workers at once."""
    config = current_app.config
    worker_id = worker_id or new_worker_id()
    report = RunReport()
    ids = claim(worker_id, batch)
    report.claimed = len(ids)
    if not ids:
        return report
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker_id)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    ).all()
    # Snapshot what sending needs, then end the transaction: none stays open during SMTP.
    work = []
    for message in messages:
        try:
            email = build_payload(message, config)
        except Exception as error:  # noqa: BLE001 - a malformed row must not block the others
            email = error
        work.append((message.id, message.attempts, email))
    db.session.commit()
    deadline = utcnow() + timedelta(seconds=config["MAIL_CLAIM_TIMEOUT"] / 2)
    transport = Transports(config)
    try:
        for message_id, attempts, email in work:
            attempts += 1
            if utcnow() > deadline:
                # Too slow: give the rest back before another worker would reclaim them.
                _mark(message_id, worker_id, status=OutboxStatus.PENDING, claimed_by=None)
                report.retried += 1
                continue
            if isinstance(email, Exception):  # cannot be built: retrying would not help
                _record_failure(message_id, worker_id, attempts, email, report, final=True)
                continue
            try:
                transport.send(email, message_id)
            except Exception as error:  # noqa: BLE001 - recorded on the message, retried later
                _record_failure(message_id, worker_id, attempts, error, report)
            else:
                _mark(
                    message_id,
                    worker_id,
                    status=OutboxStatus.SENT,
                    sent_at=utcnow(),
                    attempts=attempts,
                    claimed_by=None,
                )
                report.sent += 1
    finally:
        transport.close()
    return report


def drain(batch: int = 50, budget: float = 50.0, worker_id: str | None = None) -> RunReport:
    """Send batch after batch until the outbox has nothing due, or ``budget`` seconds passed.

    A backlog (after an SMTP outage, a mass mailing) goes out in one run instead of ``batch``
    messages per cron minute. The budget is checked between batches, so a run lasts about
    ``budget`` plus one batch: with the default (50 s), runs started each minute rarely
    overlap (and overlapping runs are safe: rows are claimed).
    A batch that sends nothing (the server is down) ends the run: its messages wait for their
    back-off, and the next run tries again. Each batch claims its rows as ``run_once`` does.
    """
    worker_id = worker_id or new_worker_id()
    started = time.monotonic()
    total = RunReport(batches=0)
    while True:
        report = run_once(batch=batch, worker_id=worker_id)
        total.claimed += report.claimed
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.errors.extend(report.errors)
        total.batches += 1
        if report.claimed < batch or not report.sent:
            return total
        if time.monotonic() - started >= budget:
            return total


def _record_failure(
    message_id, worker_id, attempts, error, report: RunReport, final: bool = False
) -> None:
    """Retry later with exponential back-off, or give up after MAIL_MAX_ATTEMPTS tries."""
    text = f"{type(error).__name__}: {error}"[:2000]
    report.errors.append(f"{message_id}: {text}")
    values = {"attempts": attempts, "last_error": text, "claimed_by": None}
    if final or attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        values["status"] = OutboxStatus.FAILED
        report.failed += 1
        log.warning("mail %s failed for good after %s attempts: %s", message_id, attempts, text)
        _mark(message_id, worker_id, **values)
        from blagis.calls.services import after_failure

        after_failure(message_id)  # an SMS about a change: the person goes to the call list
        return
    else:
        values["status"] = OutboxStatus.PENDING
        values["due_at"] = utcnow() + backoff(attempts)
        report.retried += 1
        log.info("mail %s will be retried (attempt %s): %s", message_id, attempts, text)
    _mark(message_id, worker_id, **values)
