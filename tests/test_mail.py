"""The outbox end to end: a real SMTP server (aiosmtpd) on loopback, real threads, real DB."""

import email
import email.policy
import logging
import socket
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from icalendar import Calendar, Event

from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.mail.queue import text_to_html
from blagis.mail.unsubscribe import make_token
from blagis.mail.worker import OUTBOX_HEADER, backoff, run_once
from blagis.models import AuditEntry, OutboxMessage, OutboxStatus, Registration, User, utcnow
from tests import factories_events
from tests.conftest import csrf_token_from

make_event = factories_events.make_event
add_registration = factories_events.add_registration

# What the account_created template needs besides the user.
CONFIRM = {"confirm_url": "http://blagis.test/auth/confirm/abc", "days": 7}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.envelopes = []
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        with self.lock:
            envelopes = list(self.envelopes)
        return [
            (e.rcpt_tos, email.message_from_bytes(e.original_content, policy=email.policy.default))
            for e in envelopes
        ]

    def outbox_ids(self) -> list[int]:
        return [int(m[OUTBOX_HEADER]) for _, m in self.messages]


class SMTPServer:
    """A real SMTP server that a test can stop and start again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.collector = Collector()
        self.controller = None

    def start(self):
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app, monkeypatch):
    server = SMTPServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    yield server
    server.stop()


def ics_bytes(summary: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Blagis tests//")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", "event-1@blagis.test")
    event.add("summary", summary)
    event.add("dtstart", utcnow() + timedelta(days=2))
    event.add("dtend", utcnow() + timedelta(days=2, hours=2))
    event.add("dtstamp", utcnow())
    calendar.add_component(event)
    return calendar.to_ical()


def queue_many(app, n: int, prefix: str = "bulk") -> list[int]:
    with app.app_context():
        ids = [
            queue_mail(
                f"{prefix}{i}@example.org",
                "account_created",
                locale="fr",
                context={"user": {"display_name": f"Personne {i}"}, **CONFIRM},
            ).id
            for i in range(n)
        ]
        db.session.commit()
    return ids


def statuses(app) -> dict[int, OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        for row in rows:
            db.session.expunge(row)
    return {row.id: row for row in rows}


def make_due_now(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(due_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_delivers_french_and_english_with_ics_attachment(app, smtp, make_user):
    marie = make_user("marie@example.org", name="Marie", locale="fr")
    john = make_user("john@example.org", name="John", locale="en")
    with app.app_context():
        marie, john = db.session.get(User, marie.id), db.session.get(User, john.id)
        queue_mail(
            marie.email,
            "account_created",
            locale=marie.locale,
            context={"user": marie, **CONFIRM},
            attachments=[("atelier.ics", "text/calendar", ics_bytes("Atelier vélo"))],
            user=marie,
        )
        queue_mail(
            john.email,
            "password_reset",
            locale=john.locale,
            context={"user": john, "reset_url": "http://blagis.test/auth/reset/abc", "minutes": 60},
            user=john,
        )
        db.session.commit()
        report = run_once()
    assert (report.sent, report.retried, report.failed) == (2, 0, 0)

    received = {rcpt[0]: message for rcpt, message in smtp.collector.messages}
    assert set(received) == {"marie@example.org", "john@example.org"}

    fr = received["marie@example.org"]
    assert fr["To"] == "marie@example.org"
    assert fr["Subject"] == "Confirmez votre compte Blagis"
    assert fr["Content-Language"] == "fr"
    assert fr["Message-ID"].startswith("<outbox.") and fr["Date"]
    assert "List-Unsubscribe" not in fr  # essential mail
    text = fr.get_body(("plain",)).get_content()
    html = fr.get_body(("html",)).get_content()
    assert "Bonjour Marie" in text and "http://blagis.test/auth/confirm/abc" in text
    assert '<html lang="fr">' in html and "Bonjour Marie" in html
    assert '<a href="http://blagis.test/auth/confirm/abc">' in html
    [attachment] = list(fr.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "atelier.ics"
    calendar = Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Atelier vélo"

    en = received["john@example.org"]
    assert en["Subject"] == "Choose a new password"
    assert en["Content-Language"] == "en"
    en_text = en.get_body(("plain",)).get_content()
    assert "Hello John" in en_text and "http://blagis.test/auth/reset/abc" in en_text
    assert '<html lang="en">' in en.get_body(("html",)).get_content()

    rows = statuses(app)
    assert {r.status for r in rows.values()} == {OutboxStatus.SENT}
    assert all(r.sent_at and r.attempts == 1 and r.claimed_by is None for r in rows.values())
    assert sorted(smtp.collector.outbox_ids()) == sorted(rows)


def test_html_body_escapes_everything(app):
    with app.app_context():
        message = queue_mail(
            "x@example.org",
            "account_created",
            context={"user": {"display_name": '<script>alert("x")</script> & co'}, **CONFIRM},
        )
        assert "<script>" not in message.body_html
        assert "&lt;script&gt;" in message.body_html and "&amp; co" in message.body_html
        assert '<script>alert("x")</script> & co' in message.body_text
    html = str(text_to_html('a <b>\nhttp://x.test/?a=1&b="2"\n\nnext'))
    assert html == (
        "<p>a &lt;b&gt;<br>\n"
        '<a href="http://x.test/?a=1&amp;b=">http://x.test/?a=1&amp;b=</a>&#34;2&#34;</p>\n'
        "<p>next</p>"
    )


def test_server_down_then_back_delivers_each_message_once(app, smtp):
    ids = queue_many(app, 5)
    smtp.stop()
    before = utcnow()
    with app.app_context():
        report = run_once()
    assert (report.sent, report.retried, report.failed) == (0, 5, 0)
    rows = statuses(app)
    for message_id in ids:
        row = rows[message_id]
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 1
        assert row.last_error and "Connection" in row.last_error
        assert row.due_at >= before + timedelta(seconds=59)
        assert row.claimed_by is None
    with app.app_context():
        assert run_once().claimed == 0  # not due yet

    smtp.start()
    make_due_now(app)
    with app.app_context():
        report = run_once()
        assert report.sent == 5
        assert run_once().claimed == 0
    assert sorted(smtp.collector.outbox_ids()) == sorted(ids)
    rows = statuses(app)
    assert all(r.status == OutboxStatus.SENT and r.attempts == 2 for r in rows.values())


def test_two_workers_at_once_never_send_a_message_twice(app, smtp):
    ids = queue_many(app, 50)
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                while run_once(batch=5).claimed:
                    pass
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    delivered = smtp.collector.outbox_ids()
    assert len(delivered) == len(set(delivered)) == 50
    assert sorted(delivered) == sorted(ids)
    rows = statuses(app)
    assert all(r.status == OutboxStatus.SENT and r.attempts == 1 for r in rows.values())


def test_retries_exhausted_mark_the_message_failed(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    [message_id] = queue_many(app, 1)
    for attempt in (1, 2):
        with app.app_context():
            report = run_once()
        assert report.retried == 1
        assert statuses(app)[message_id].attempts == attempt
        make_due_now(app)
    with app.app_context():
        report = run_once()
    assert report.failed == 1
    row = statuses(app)[message_id]
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert "Connection" in row.last_error and row.sent_at is None
    make_due_now(app)
    with app.app_context():
        assert run_once().claimed == 0  # failed messages wait for a person


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 16]
    assert backoff(30) == timedelta(hours=4)


def test_message_stuck_in_sending_is_claimed_again(app, smtp):
    [message_id] = queue_many(app, 1)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(
                status=OutboxStatus.SENDING,
                claimed_by="dead-worker",
                claimed_at=utcnow() - timedelta(minutes=11),
            )
        )
        db.session.commit()
        assert run_once().sent == 1
    assert smtp.collector.outbox_ids() == [message_id]


def test_message_being_sent_by_a_live_worker_is_left_alone(app, smtp):
    queue_many(app, 1)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(
                status=OutboxStatus.SENDING, claimed_by="busy-worker", claimed_at=utcnow()
            )
        )
        db.session.commit()
        assert run_once().claimed == 0
    assert smtp.collector.outbox_ids() == []


def test_development_mode_logs_and_marks_sent(app, caplog):
    assert not app.config["MAIL_SERVER"]
    [message_id] = queue_many(app, 1, prefix="dev")
    with caplog.at_level(logging.INFO, logger="blagis.mail"):
        with app.app_context():
            report = run_once()
    assert report.sent == 1
    assert "dev0@example.org" in caplog.text and "Confirmez votre compte Blagis" in caplog.text
    assert "Bonjour Personne 0" in caplog.text
    row = statuses(app)[message_id]
    assert row.status == OutboxStatus.SENT and row.sent_at is not None


def test_send_mail_command(app, runner):
    queue_many(app, 3)
    result = runner.invoke(args=["send-mail", "--batch", "2", "--budget", "0"])
    assert result.exit_code == 0, result.output
    assert "sent: 2, to retry: 0, failed: 0, batches: 1" in result.output
    result = runner.invoke(args=["send-mail"])
    assert "sent: 1, to retry: 0, failed: 0, batches: 1" in result.output
    assert runner.invoke(args=["send-mail", "--batch", "0"]).exit_code == 2
    assert runner.invoke(args=["send-mail", "--interval", "x"]).exit_code == 2
    assert runner.invoke(args=["send-mail", "--budget", "-1"]).exit_code == 2


def test_one_send_mail_run_drains_a_backlog_in_batches(app, runner, smtp):
    """After an outage, the backlog goes out in one cron run, not 50 messages a minute."""
    ids = queue_many(app, 180)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent: 180, to retry: 0, failed: 0, batches: 4" in result.output
    assert sorted(smtp.collector.outbox_ids()) == sorted(ids)  # each exactly once
    assert {row.status for row in statuses(app).values()} == {OutboxStatus.SENT}


def test_send_mail_budget_bounds_a_run(app, runner, smtp):
    ids = queue_many(app, 120)
    result = runner.invoke(args=["send-mail", "--budget", "0"])  # spent after the first batch
    assert "sent: 50, to retry: 0, failed: 0, batches: 1" in result.output
    rows = statuses(app)
    assert sum(row.status == OutboxStatus.SENT for row in rows.values()) == 50
    assert sum(row.status == OutboxStatus.PENDING for row in rows.values()) == 70
    result = runner.invoke(args=["send-mail"])
    assert "sent: 70, to retry: 0, failed: 0, batches: 2" in result.output
    assert sorted(smtp.collector.outbox_ids()) == sorted(ids)


def test_send_mail_run_stops_at_a_batch_that_sends_nothing(app, runner, smtp):
    """Server still down: one batch learns it, the rest wait untouched for the next run."""
    queue_many(app, 120)
    smtp.stop()
    result = runner.invoke(args=["send-mail"])
    assert "sent: 0, to retry: 50, failed: 0, batches: 1" in result.output
    rows = statuses(app).values()
    assert sum(row.attempts == 1 and row.status == OutboxStatus.PENDING for row in rows) == 50
    assert sum(row.attempts == 0 and row.status == OutboxStatus.PENDING for row in rows) == 70


def test_dedup_key_queues_once(app):
    with app.app_context():
        context = {"user": {"display_name": "A"}, **CONFIRM}
        assert queue_mail("a@example.org", "account_created", context=context, dedup_key="k")
        assert (
            queue_mail("a@example.org", "account_created", context=context, dedup_key="k") is None
        )
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def queue_reminder(app, user_id: int, key: str | None = None):
    with app.app_context():
        user = db.session.get(User, user_id)
        message = queue_mail(
            user.email,
            "account_created",
            locale=user.locale,
            context={"user": user, **CONFIRM},
            category="reminder",
            user=user,
            dedup_key=key,
        )
        db.session.commit()
        return message.unsubscribe_url if message else None


def test_unsubscribe_link_in_reminder_then_no_more_reminders(app, client, smtp, make_user):
    user = make_user(locale="fr")
    url = queue_reminder(app, user.id)
    assert url.startswith("http://blagis.test/unsubscribe/") and url.endswith("?lang=fr")
    with app.app_context():
        run_once()
    [(_, received)] = smtp.collector.messages
    assert received["List-Unsubscribe"] == f"<{url}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in received.get_body(("plain",)).get_content()
    assert url.replace("&", "&amp;") in received.get_body(("html",)).get_content()

    path = url.removeprefix("http://blagis.test")
    page = client.get(path)
    assert page.status_code == 200
    assert "rappels" in page.get_data(as_text=True)  # in French, the mail's language
    with app.app_context():
        assert db.session.get(User, user.id).notify_reminders is True  # GET changes nothing
    done = client.post(path)
    assert done.status_code == 200 and "désinscrit" in done.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.notify_reminders is False and stored.notify_missions is True

    assert queue_reminder(app, user.id, key="later") is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
        # Essential mail still goes.
        stored = db.session.get(User, user.id)
        assert queue_mail(
            stored.email, "account_created", context={"user": stored, **CONFIRM}, user=stored
        )


def test_one_click_unsubscribe_needs_no_csrf_token(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user()
    with app.app_context():
        token = make_token(db.session.get(User, user.id), "mission_call")
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(User, user.id).notify_missions is False


@pytest.mark.parametrize(
    "token",
    ["garbage", "eyJ1IjoxLCJjIjoicmVtaW5kZXIifQ.forged-signature", "a" * 3000],
)
def test_bad_unsubscribe_token_is_a_clear_error(client, token):
    for method in (client.get, client.post):
        response = method(f"/unsubscribe/{token}?lang=fr")
        assert response.status_code == 400
        assert "lien de désinscription n’est pas valide" in response.get_data(as_text=True)
    response = client.get(f"/unsubscribe/{token}?lang=en")
    assert "This unsubscribe link is not valid" in response.get_data(as_text=True)


def test_genuine_token_for_essential_mail_or_missing_account_is_refused(app, client, make_user):
    user = make_user()
    with app.app_context():
        stored = db.session.get(User, user.id)
        essential = make_token(stored, "essential")
        stored.id = user.id  # token for an account that no longer exists
        from itsdangerous import URLSafeSerializer

        ghost = URLSafeSerializer(app.config["SECRET_KEY"], salt="mail-unsubscribe").dumps(
            {"u": 999999, "c": "reminder"}
        )
        db.session.rollback()
    assert client.post(f"/unsubscribe/{essential}").status_code == 400
    assert client.post(f"/unsubscribe/{ghost}").status_code == 400


def reminder_links(app) -> dict[str, str]:
    """Waiting reminders: recipient's registration id (from the dedup key) -> link."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).all()
        return {m.dedup_key: m.unsubscribe_url for m in rows}


def test_walk_in_reminder_has_its_own_link_and_following_it_stops_reminders(
    app, client, smtp, make_event, add_registration
):
    from blagis.events.services import send_reminders

    soon = make_event(title="Atelier CV", starts_at=utcnow() + timedelta(hours=20))
    other = make_event(title="Café numérique", starts_at=utcnow() + timedelta(hours=30))
    walk_in = add_registration(soon, name="Mme Diallo", email="diallo@example.org")
    same_address = add_registration(other, name="Mme Diallo", email="diallo@example.org")
    with app.app_context():
        assert send_reminders() == 2
        db.session.commit()
    links = reminder_links(app)
    url = links[f"event-reminder:{walk_in.id}"]
    kept = links[f"event-reminder:{same_address.id}"]
    assert url.startswith("http://blagis.test/unsubscribe/") and url.endswith("?lang=fr")
    assert kept != url

    path = url.removeprefix("http://blagis.test")
    page = client.get(path)
    assert page.status_code == 200 and "Atelier CV" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, walk_in.id).reminders_ok is True  # GET: no change
    done = client.post(path)
    assert done.status_code == 200 and "désinscrit" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, walk_in.id).reminders_ok is False
        assert db.session.get(Registration, same_address.id).reminders_ok is True
    # Its waiting reminder is dropped; the other registration's one goes, with its own link.
    with app.app_context():
        run_once()
    [(rcpt, received)] = smtp.collector.messages
    assert rcpt == ["diallo@example.org"]
    assert received["List-Unsubscribe"] == f"<{kept}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert kept in received.get_body(("plain",)).get_content()

    with app.app_context():  # even without the dedup key, no later reminder for it
        db.session.execute(sa.delete(OutboxMessage))
        assert send_reminders() == 1
        db.session.commit()
    assert list(reminder_links(app)) == [f"event-reminder:{same_address.id}"]


def test_forged_or_misused_walk_in_token_is_refused(app, client, make_event, add_registration):
    from itsdangerous import URLSafeSerializer

    walk_in = add_registration(make_event(), name="M. Petit", email="petit@example.org")
    salt = "mail-unsubscribe-registration"
    with app.app_context():
        registration = db.session.get(Registration, walk_in.id)
        genuine = make_token(registration, "reminder")
        missions = make_token(registration, "mission_call")  # not something it can turn off
    forged = URLSafeSerializer("not-the-secret", salt=salt).dumps(
        {"r": walk_in.id, "c": "reminder"}
    )
    as_account = URLSafeSerializer(app.config["SECRET_KEY"], salt="mail-unsubscribe").dumps(
        {"r": walk_in.id, "c": "reminder"}
    )
    assert genuine != make_token_for_account_like(app, walk_in.id)
    for token in (forged, missions, as_account):
        response = client.post(f"/unsubscribe/{token}?lang=fr")
        assert response.status_code == 400
        assert "lien de désinscription n’est pas valide" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, walk_in.id).reminders_ok is True


def make_token_for_account_like(app, row_id: int) -> str:
    """The account token with the same id: the salts keep the two kinds apart."""
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(app.config["SECRET_KEY"], salt="mail-unsubscribe").dumps(
        {"u": row_id, "c": "reminder"}
    )


def test_account_page_sets_preferences(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make_user(locale="en")
    auth_client = client
    login_page = auth_client.get("/auth/login")
    auth_client.post(
        "/auth/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token_from(login_page.get_data(as_text=True)),
        },
    )
    page = client.get("/account?lang=en")
    html = page.get_data(as_text=True)
    assert 'id="notifications"' in html
    assert 'name="notify_reminders"' in html and 'name="notify_missions"' in html
    assert "checked" in html
    response = client.post(
        "/account/notifications",
        data={"notify_missions": "y", "csrf_token": csrf_token_from(html)},
    )
    assert response.status_code == 302 and response.location.endswith("/account#notifications")
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert (stored.notify_reminders, stored.notify_missions) == (False, True)
    assert queue_reminder(app, user.id) is None
    assert client.post("/account/notifications", data={}).status_code == 400  # no CSRF token
    assert client.get("/account/notifications").status_code == 405


def test_preferences_need_login(client):
    response = client.post("/account/notifications", data={"notify_reminders": "y"})
    assert response.status_code == 302 and "/auth/login" in response.location


def test_outbox_admin_lists_failed_and_retries(app, client, auth, make_user):
    staff = make_user(role="staff")
    [failed_id, pending_id, sent_id] = queue_many(app, 3)
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == failed_id)
            .values(status=OutboxStatus.FAILED, attempts=8, last_error="SMTPRecipientsRefused: x")
        )
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == sent_id)
            .values(status=OutboxStatus.SENT, sent_at=utcnow())
        )
        db.session.commit()
    auth.login_as(staff)
    html = client.get("/admin/outbox?lang=en").get_data(as_text=True)
    assert "bulk0@example.org" in html and "bulk1@example.org" in html
    assert "bulk2@example.org" not in html  # sent
    assert "SMTPRecipientsRefused: x" in html and "Failed" in html
    only_failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "bulk0@example.org" in only_failed and "bulk1@example.org" not in only_failed
    for query in ("?status=nope", "?page=abc", "?page=-3", "?status=sent", "?page=2" + "0" * 17):
        assert client.get(f"/admin/outbox{query}").status_code == 200

    response = client.post(f"/admin/outbox/{failed_id}/retry")
    assert response.status_code == 302
    row = statuses(app)[failed_id]
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.due_at <= utcnow()
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
        assert entry.actor_id == staff.id and entry.object_id == str(failed_id)
        assert entry.before["status"] == "failed" and entry.after["status"] == "pending"

    # A sent message cannot be sent again; unknown ids are 404.
    response = client.post(f"/admin/outbox/{sent_id}/retry", follow_redirects=True)
    assert response.status_code == 200
    assert statuses(app)[sent_id].status == OutboxStatus.SENT
    assert client.post("/admin/outbox/999999/retry").status_code == 404
    assert client.get(f"/admin/outbox/{failed_id}/retry").status_code == 405


def test_outbox_admin_is_for_staff_only(client, auth, make_user):
    assert client.get("/admin/outbox").status_code == 302
    resident = make_user(role="resident")
    auth.login_as(resident)
    assert client.get("/admin/outbox").status_code == 403
    assert client.post("/admin/outbox/1/retry").status_code == 403


def test_template_html_block_is_escaped_and_ics_attached(app, smtp, make_user, monkeypatch):
    from jinja2 import ChoiceLoader, FileSystemLoader

    test_templates = str(__import__("pathlib").Path(__file__).parent / "templates")
    monkeypatch.setattr(
        app.jinja_env,
        "loader",
        ChoiceLoader([app.jinja_env.loader, FileSystemLoader(test_templates)]),
    )
    monkeypatch.delitem(app.extensions, "blagis_mail_html_env", raising=False)
    user = make_user(locale="fr")
    with app.app_context():
        stored = db.session.get(User, user.id)
        queue_mail(
            stored.email,
            "test_with_html",
            locale="fr",
            context={"name": "Ana <b>", "title": "Café & <i>vélo</i>"},
            attachments=[("cafe.ics", "text/calendar", ics_bytes("Café & vélo"))],
            category="reminder",
            user=stored,
        )
        db.session.commit()
        run_once()
    app.extensions.pop("blagis_mail_html_env", None)
    [(_, received)] = smtp.collector.messages
    assert received["Subject"] == "Rappels d’événements: Café & <i>vélo</i>"
    html = received.get_body(("html",)).get_content()
    assert "<p>Bonjour Ana &lt;b&gt;,</p>" in html
    assert "<strong>Café &amp; &lt;i&gt;vélo&lt;/i&gt;</strong>" in html
    assert "Ne plus recevoir ce type de message" in html
    [attachment] = list(received.iter_attachments())
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Café & vélo"


def test_tls_required_but_not_offered_is_retried_not_sent_in_clear(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", True)  # aiosmtpd here offers no STARTTLS
    [message_id] = queue_many(app, 1)
    with app.app_context():
        report = run_once()
    assert report.retried == 1 and smtp.collector.outbox_ids() == []
    row = statuses(app)[message_id]
    assert row.status == OutboxStatus.PENDING and "STARTTLS" in row.last_error


def test_staff_account_page_links_to_outbox(app, client, auth, make_user):
    [message_id] = queue_many(app, 1)
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.FAILED))
        db.session.commit()
    auth.login_as(make_user(role="staff"))
    html = client.get("/account?lang=en").get_data(as_text=True)
    assert "1 message could not be sent." in html and 'href="/admin/outbox"' in html
    auth.logout()
    auth.login_as(make_user())
    assert 'href="/admin/outbox"' not in client.get("/account").get_data(as_text=True)
    assert message_id


WORKER_SCRIPT = """
import sys
from tests.conftest import test_config
from blagis import create_app
from blagis.extensions import db
from blagis.mail.worker import run_once

app = create_app(test_config(sys.argv[1], MAIL_SERVER="127.0.0.1", MAIL_PORT=int(sys.argv[2])))
with app.app_context():
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start sending together
    sent = 0
    while (report := run_once(batch=5)).claimed:
        sent += report.sent
    db.session.remove()
    db.engine.dispose()
print("sent", sent, flush=True)
"""


@pytest.mark.slow
def test_two_worker_processes_never_send_a_message_twice(app, smtp, database):
    import subprocess
    import sys
    from pathlib import Path

    ids = queue_many(app, 60)
    root = Path(__file__).resolve().parent.parent
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, database, str(smtp.port)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent = [int(out.split()[-1]) for out in outputs]
    assert sum(sent) == 60
    delivered = smtp.collector.outbox_ids()
    assert len(delivered) == len(set(delivered)) == 60
    assert sorted(delivered) == sorted(ids)


def test_refused_recipient_or_broken_row_does_not_hold_up_the_others(app, smtp):
    ids = queue_many(app, 3)
    smtp.collector.refused.add("bulk1@example.org")
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == ids[2])
            .values(recipient="bad\r\nBcc: victim@example.org")
        )
        db.session.commit()
        report = run_once()
    assert (report.sent, report.retried, report.failed) == (1, 1, 1)
    assert smtp.collector.outbox_ids() == [ids[0]]
    rows = statuses(app)
    assert rows[ids[1]].status == OutboxStatus.PENDING and "550" in rows[ids[1]].last_error
    assert rows[ids[2]].status == OutboxStatus.FAILED and rows[ids[2]].attempts == 1


def test_turning_a_category_off_drops_its_waiting_messages(app, client, auth, make_user):
    user = make_user(locale="fr")
    url = queue_reminder(app, user.id, key="tomorrow")
    with app.app_context():
        stored = db.session.get(User, user.id)
        queue_mail(
            stored.email, "account_created", context={"user": stored, **CONFIRM}, user=stored
        )
        queue_mail(
            stored.email,
            "account_created",
            context={"user": stored, **CONFIRM},
            category="mission_call",
            user=stored,
        )
        db.session.commit()
    client.post(url.removeprefix("http://blagis.test"))
    remaining = sorted(str(r.category) for r in statuses(app).values())
    assert remaining == ["essential", "mission_call"]
    auth.login_as(user)
    client.post("/account/notifications", data={})  # both boxes unchecked
    assert [str(r.category) for r in statuses(app).values()] == ["essential"]


def test_outbox_is_refused_to_staff_limited_to_a_commune(app, client, auth, make_user):
    """The outbox lists every recipient's address: contacts of other communes included."""
    [message_id] = queue_many(app, 1)
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.FAILED))
        db.session.commit()
    auth.login_as(make_user(role="staff", scope="bagneux"))
    assert client.get("/admin/outbox").status_code == 403
    assert client.post(f"/admin/outbox/{message_id}/retry").status_code == 403
    assert 'href="/admin/outbox"' not in client.get("/account").get_data(as_text=True)
    assert statuses(app)[message_id].status == OutboxStatus.FAILED
