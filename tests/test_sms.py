"""SMS, the outbox's second channel, and the call list, end to end.

A real SMPP 3.4 server process (tests/smsc_server.py: the smpp34 library's SMSC) and a real
SMTP server (aiosmtpd) on loopback; the ``send-mail`` worker delivers both channels.
"""

import json
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from smpplib.gsm import GSM_CHARACTER_TABLE

from blagis.extensions import db
from blagis.mail.worker import run_once
from blagis.models import (
    AuditEntry,
    CallTask,
    Channel,
    Event,
    OutboxMessage,
    OutboxStatus,
    Registration,
    User,
    utcnow,
)
from tests import factories_events
from tests.test_mail import SMTPServer, free_port

make_event = factories_events.make_event
add_registration = factories_events.add_registration

SERVER = Path(__file__).resolve().parent / "smsc_server.py"
SYSTEM_ID = "blagis"


def decode_part(record: dict) -> tuple[tuple | None, str]:
    """(concatenation key or None, text) of one submit_sm the server stored."""
    raw = bytes.fromhex(record["message"])
    key = None
    if record["esm_class"] & 0x40:  # a user data header: concatenated SMS
        header_length = raw[0]
        header, raw = raw[1 : 1 + header_length], raw[1 + header_length :]
        if header[0] == 0x00:  # IEI 0: 8-bit reference, total, sequence
            key = (record["to"], header[2], header[3], header[4])
    if record["data_coding"] == 8:
        text = raw.decode("utf-16-be")
    else:
        text = "".join(GSM_CHARACTER_TABLE[b] for b in raw)
    return key, text


class SMSC:
    """The SMPP server process, which a test can stop and start again on the same port."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.store = tmp_path / "smsc-received.jsonl"
        self.mo = tmp_path / "smsc-mo.jsonl"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own test server, fixed arguments
            [
                sys.executable,
                str(SERVER),
                "--port",
                str(self.port),
                "--system-id",
                SYSTEM_ID,
                "--store",
                str(self.store),
                "--mo",
                str(self.mo),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process.stdout.close()
            self.process = None

    def answer(self, number: str, text: str):
        """A person answers: delivered as a deliver_sm to the next session that binds."""
        with open(self.mo, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"from": number.lstrip("+"), "text": text}) + "\n")

    def received(self) -> dict[str, list[str]]:
        """Texts received per number (international form), parts put back together."""
        if not self.store.exists():
            return {}
        out = defaultdict(list)
        parts = defaultdict(dict)
        for line in self.store.read_text().splitlines():
            record = json.loads(line)
            key, text = decode_part(record)
            number = "+" + record["to"]
            if key is None:
                out[number].append(text)
                continue
            parts[key[:3]][key[3]] = text
            if len(parts[key[:3]]) == key[2]:
                out[number].append("".join(parts[key[:3]][i] for i in sorted(parts[key[:3]])))
        return dict(out)


@pytest.fixture
def smsc(app, tmp_path, monkeypatch):
    server = SMSC(tmp_path)
    server.start()
    for key, value in {
        "SMS_SMPP_HOST": "127.0.0.1",
        "SMS_SMPP_PORT": server.port,
        "SMS_SMPP_SYSTEM_ID": SYSTEM_ID,
        "SMS_SMPP_PASSWORD": "secret",
        "SMS_FROM": "0644445566",
        "SMS_TIMEOUT": 5,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


@pytest.fixture
def smtp(app, monkeypatch):
    server = SMTPServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    yield server
    server.stop()


def drain(app):
    """Run the worker until nothing is due; the number of messages sent."""
    sent = 0
    with app.app_context():
        for _ in range(20):
            report = run_once()
            sent += report.sent
            if not report.claimed:
                return sent
    raise AssertionError("the outbox does not empty")


def mails_by_recipient(smtp) -> dict[str, list[str]]:
    out = defaultdict(list)
    for recipients, message in smtp.collector.messages:
        for recipient in recipients:
            out[recipient].append(message["Subject"])
    return dict(out)


def set_user(app, user, **values):
    with app.app_context():
        row = db.session.get(User, user.id)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


def calls(app):
    with app.app_context():
        return [
            (c.registration_id, c.reason.value, c.sms_failed, c.commune_code)
            for c in db.session.scalars(sa.select(CallTask).order_by(CallTask.id))
        ]


def test_every_message_reaches_each_person_once_by_their_channel_and_language(
    app, smsc, smtp, make_user, make_event
):
    from blagis.events import services

    event = make_event(capacity=1, title="Atelier couture")
    staff = make_user(role="staff")
    sms_en = make_user(locale="en")  # account, English, SMS wanted
    set_user(app, sms_en, phone="+33611111111", sms_ok=True)
    mail_fr = make_user(locale="fr")  # account, French, e-mail
    with app.app_context():
        services.register(db.session.get(User, sms_en.id), event.id, 1)  # confirmed
        services.register(db.session.get(User, mail_fr.id), event.id, 1)  # waitlisted
        desk_sms = services.staff_register(  # desk, mobile with consent: SMS, French
            db.session.get(User, staff.id),
            event.id,
            name="Fatou",
            phone="06 22 22 22 22",
            email=None,
            seats=1,
            sms_ok=True,
        )
        desk_none = services.staff_register(  # desk, landline, no consent: the call list
            db.session.get(User, staff.id),
            event.id,
            name="Marcel",
            phone="01 46 00 00 00",
            email=None,
            seats=1,
        )
        desk_mail = services.staff_register(  # desk, e-mail only
            db.session.get(User, staff.id),
            event.id,
            name="Léa",
            phone=None,
            email="lea@example.org",
            seats=1,
        )
        db.session.commit()
        ids = desk_sms.id, desk_none.id, desk_mail.id
    desk_sms_id, desk_none_id, desk_mail_id = ids

    def edit(**changes):
        with app.app_context():
            current = db.session.get(Event, event.id)
            data = {name: getattr(current, name) for name in services.EVENT_FIELDS}
            cancelled = changes.pop("cancelled", False)
            data.update(changes)
            services.update_event(
                db.session.get(User, staff.id), event.id, data, [], cancelled=cancelled
            )
            db.session.commit()

    with app.app_context():
        services.cancel_registration(db.session.get(User, sms_en.id), event.id)  # promotes B
        db.session.commit()
    edit(capacity=10)  # promotes the three desk registrations
    start = utcnow() + timedelta(hours=30)
    edit(starts_at=start, ends_at=start + timedelta(hours=2))  # moved: everyone told
    with app.app_context():
        assert services.send_reminders() == 3  # within 48 h: each active person with a channel
        db.session.commit()
    edit(cancelled=True)
    drain(app)
    assert drain(app) == 0

    texts = smsc.received()
    assert set(texts) == {"+33611111111", "+33622222222"}
    english = texts["+33611111111"]
    assert [t.split(":")[0] for t in english] == ["Blagis", "Blagis"]
    assert english[0].startswith("Blagis: you are registered for Atelier couture")
    assert english[1].startswith("Blagis: your registration for Atelier couture")
    french = texts["+33622222222"]
    assert len(french) == 5 and len(set(french)) == 5
    assert french[0].startswith("Blagis : vous figurez sur la liste d'attente")
    assert french[1].startswith("Blagis : une place s'est libérée")
    assert french[2].startswith("Blagis : Atelier couture a changé")
    assert french[3].startswith("Rappel Blagis : Atelier couture")
    assert french[4].startswith("Blagis : Atelier couture prévu")
    assert all(t.endswith("STOP SMS : STOP au 0644445566") for t in french)

    mails = mails_by_recipient(smtp)
    assert sms_en.email not in mails  # SMS instead of e-mail, not both
    assert set(mails) == {mail_fr.email, "lea@example.org"}
    for address in (mail_fr.email, "lea@example.org"):
        assert len(mails[address]) == 5 and len(set(mails[address])) == 5
    assert any("Une place s’est libérée" in s or "place" in s for s in mails[mail_fr.email])

    assert sorted(calls(app)) == sorted(
        [
            (desk_none_id, "promoted", False, "sceaux"),
            (desk_none_id, "event_changed", False, "sceaux"),
            (desk_none_id, "event_cancelled", False, "sceaux"),
        ]
    )
    with app.app_context():
        channels = db.session.execute(
            sa.select(OutboxMessage.channel, sa.func.count())
            .where(OutboxMessage.status == OutboxStatus.SENT)
            .group_by(OutboxMessage.channel)
        ).all()
        assert dict(channels) == {Channel.SMS: 7, Channel.EMAIL: 10}
    assert desk_sms_id and desk_mail_id


def queue_promotion_sms(app, make_user, make_event, add_registration, phone="0633333333"):
    """A desk registration with SMS consent promoted from the waiting list; its id."""
    from blagis.events import services

    event = make_event(capacity=1)
    first = make_user()
    add_registration(event, first)
    waiting = add_registration(event, name="Ahmed", phone=phone, state="waitlisted")
    with app.app_context():
        row = db.session.get(Registration, waiting.id)
        row.sms_ok = True
        row.phone = "+33" + phone[1:]
        db.session.commit()
        services.cancel_registration(db.session.get(User, first.id), event.id)
        db.session.commit()
    return waiting.id


def test_sms_server_down_then_back_is_retried_and_delivered_once(
    app, smsc, make_user, make_event, add_registration
):
    queue_promotion_sms(app, make_user, make_event, add_registration)
    smsc.stop()
    with app.app_context():
        report = run_once()
        assert (report.retried, report.failed) == (1, 0)  # the e-mail to the other goes
        message = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS)
        )
        assert message.status == OutboxStatus.PENDING and message.attempts == 1
        assert message.due_at > utcnow() and "ConnectionError" in message.last_error
        assert run_once().claimed == 0  # not due yet
        smsc.start()
        message.due_at = utcnow()
        db.session.commit()
        assert run_once().sent == 1
        assert run_once().claimed == 0
    assert smsc.received() == {
        "+33633333333": [smsc.received()["+33633333333"][0]],
    }
    assert smsc.received()["+33633333333"][0].startswith("Blagis : une place s'est libérée")
    assert calls(app) == []


def test_sms_that_fails_for_good_puts_the_person_on_the_call_list(
    app, smsc, make_user, make_event, add_registration, monkeypatch
):
    registration_id = queue_promotion_sms(app, make_user, make_event, add_registration)
    smsc.stop()
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 1)
    with app.app_context():
        assert run_once().failed == 1
    assert calls(app) == [(registration_id, "promoted", True, "sceaux")]


def test_without_smpp_configuration_consent_is_not_enough(
    app, make_user, make_event, add_registration
):
    registration_id = queue_promotion_sms(app, make_user, make_event, add_registration)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.channel == Channel.SMS)
            )
            == 0
        )
    assert calls(app) == [(registration_id, "promoted", False, "sceaux")]


def test_an_answer_stop_withdraws_consent(app, smsc, make_user, make_event, add_registration):
    registration_id = queue_promotion_sms(app, make_user, make_event, add_registration)
    person = make_user()
    set_user(app, person, phone="+33633333333", sms_ok=True)
    smsc.answer("+33633333333", "Stop")
    with app.app_context():
        assert run_once().sent == 2  # the SMS (its session receives the answer) and an e-mail
        assert db.session.get(Registration, registration_id).sms_ok is False
        assert db.session.get(User, person.id).sms_ok is False
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sms.opt_out"))
        assert entry.after == {"via": "sms", "consents": 2}
    assert len(smsc.received()["+33633333333"]) == 1


def test_staff_record_an_opt_out(app, client, auth, make_user, make_event, add_registration):
    registration_id = queue_promotion_sms(app, make_user, make_event, add_registration)
    auth.login_as(make_user(role="staff", scope="sceaux"))
    response = client.post("/staff/calls/opt-out", data={"phone": "06 33 33 33 33"})
    assert response.status_code == 302
    assert client.post("/staff/calls/opt-out", data={"phone": "hello"}).status_code == 422
    with app.app_context():
        assert db.session.get(Registration, registration_id).sms_ok is False


def test_call_list_per_commune_and_calls_marked_done_with_audit(
    app, client, auth, make_user, make_event, add_registration
):
    from blagis.calls.services import add_call

    here = make_event(commune_code="sceaux", title="Repair café")
    there = make_event(commune_code="bagneux", title="Sortie au musée")
    mine = add_registration(here, name="Jeanne Sceaux", phone="0140000001")
    other = add_registration(there, name="Paul Bagneux", phone="0140000002")
    with app.app_context():
        add_call(db.session.get(Registration, mine.id), db.session.get(Event, here.id), "promoted")
        add_call(
            db.session.get(Registration, other.id),
            db.session.get(Event, there.id),
            "event_cancelled",
        )
        # A second change before the call: still one line.
        add_call(db.session.get(Registration, mine.id), db.session.get(Event, here.id), "promoted")
        db.session.commit()
        ids = {c.registration_id: c.id for c in db.session.scalars(sa.select(CallTask))}
    assert len(ids) == 2

    auth.login_as(make_user(role="staff", scope="sceaux"))
    html = client.get("/staff/calls").get_data(as_text=True)
    assert "Jeanne Sceaux" in html and "0140000001" in html
    assert "Paul Bagneux" not in html and "0140000002" not in html
    assert "Une place s’est libérée" in html
    english = client.get("/staff/calls?lang=en").get_data(as_text=True)
    assert "People to call" in english and "A place freed up" in english
    assert client.post(f"/staff/calls/{ids[other.id]}/done").status_code == 403
    assert client.post(f"/staff/calls/{ids[mine.id]}/done").status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "call.done"))
        assert entry.object_id == str(ids[mine.id]) and entry.commune_code == "sceaux"
        assert db.session.get(CallTask, ids[other.id]).done_at is None
    html = client.get("/staff/calls").get_data(as_text=True)
    assert "Nobody to call" in html or "Personne à appeler." in html
    auth.logout()

    auth.login_as(make_user(role="staff"))  # every commune
    html = client.get("/staff/calls").get_data(as_text=True)
    assert "Paul Bagneux" in html
    assert f"/staff/calls/{ids[other.id]}/done" in html
    assert f"/staff/calls/{ids[mine.id]}/done" not in html  # done: no longer to call
    resident = make_user()
    auth.logout()
    auth.login_as(resident)
    assert client.get("/staff/calls").status_code == 403


def test_desk_registration_asks_sms_consent(app, client, auth, smsc, make_user, make_event):
    event = make_event(capacity=5)
    auth.login_as(make_user(role="staff", scope="sceaux"))
    url = f"/staff/events/{event.id}/registrations"
    page = client.get(url).get_data(as_text=True)
    assert 'name="sms_ok"' in page
    refused = client.post(
        url, data={"name": "Nadia", "phone": "01 46 00 00 00", "sms_ok": "y", "seats": "1"}
    )
    assert refused.status_code == 422
    assert "06 ou 07" in refused.get_data(as_text=True)
    data = {"name": "Nadia", "phone": "07 12 34 56 78", "sms_ok": "y", "seats": "1"}
    assert client.post(url, data=data).status_code == 302
    with app.app_context():
        registration = db.session.scalar(sa.select(Registration))
        assert (registration.sms_ok, registration.phone) == (True, "+33712345678")
        message = db.session.scalar(sa.select(OutboxMessage))
        assert (message.channel, message.recipient) == (Channel.SMS, "+33712345678")
        assert message.template == "registration_confirmed"
    drain(app)
    [text] = smsc.received()["+33712345678"]
    assert text.startswith("Blagis : inscription confirmée à Café numérique")


def test_account_edit_phone_consent_name_commune_language(app, client, auth, make_user):
    user = make_user(locale="fr")
    auth.login_as(user)
    page = client.get("/account/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("display_name", "commune", "phone", "locale", "sms_ok"):
        assert f'name="{name}"' in html
    bad = {
        "display_name": "Zoé",
        "commune": "bagneux",
        "locale": "en",
        "phone": "0146000000",
        "sms_ok": "y",
    }
    assert client.post("/account/edit", data=bad).status_code == 422
    good = dict(bad, phone="06 98 76 54 32")
    assert client.post("/account/edit", data=good).status_code == 302
    with app.app_context():
        row = db.session.get(User, user.id)
        assert (row.display_name, row.commune_code, row.locale) == ("Zoé", "bagneux", "en")
        assert (row.phone, row.sms_ok) == ("+33698765432", True)
    assert "+33698765432" in client.get("/account").get_data(as_text=True)
    withdrawn = {k: v for k, v in good.items() if k != "sms_ok"}
    assert client.post("/account/edit", data=withdrawn).status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).sms_ok is False
    exported = client.post("/account/export").get_json()
    assert exported["phone"]["phone"] == "+33698765432" and exported["phone"]["sms_ok"] is False


def test_account_deletion_and_purge_erase_numbers_and_calls(
    app, smsc, make_user, make_event, add_registration
):
    from blagis import privacy
    from blagis.calls.services import add_call
    from blagis.sms import queue_sms

    user = make_user()
    set_user(app, user, phone="+33611112222", sms_ok=True)
    event = make_event()
    registration = add_registration(event, user)
    with app.app_context():
        queue_sms(
            "+33611112222",
            "registration_cancelled",
            context={"event": db.session.get(Event, event.id)},
        )
        add_call(
            db.session.get(Registration, registration.id),
            db.session.get(Event, event.id),
            "event_changed",
        )
        db.session.commit()
        privacy.delete_account(db.session.get(User, user.id), db.session.get(User, user.id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallTask)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    other = add_registration(event, name="Old", phone="0140000003")
    with app.app_context():
        add_call(
            db.session.get(Registration, other.id), db.session.get(Event, event.id), "promoted"
        )
        db.session.commit()
        report = privacy.purge(utcnow() + timedelta(days=10000))
        db.session.commit()
        assert report["calls"] == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallTask)) == 0


TEMPLATES = (
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "registration_cancelled",
    "event_cancelled",
    "event_changed",
    "event_reminder",
)


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("state", ["confirmed", "waitlisted"])
def test_every_sms_fits_two_segments_in_gsm_when_it_can(app, template, locale, state):
    from blagis.sms import render_sms
    from blagis.sms.text import gsm, segments

    app.config["SMS_FROM"] = "0644445566"
    start = utcnow() + timedelta(days=40)
    short = Event(
        title="Fête de l’été à l’Œuvre",
        place="Gymnase Léo-Lagrange, salle n°2",
        starts_at=start,
        ends_at=start,
        commune_code="sceaux",
    )
    long = Event(
        title="Atelier « bien vieillir » " * 10,
        place="Maison de quartier " * 15,
        starts_at=start,
        ends_at=start,
        commune_code="sceaux",
    )
    arabic = Event(
        title="ورشة الخياطة للنساء " * 8,
        place="المركز الاجتماعي " * 10,
        starts_at=start,
        ends_at=start,
        commune_code="sceaux",
    )
    registration = Registration(state=state)
    with app.test_request_context():
        for event in (short, long, arabic):
            context = {
                "event": event,
                "registration": registration,
                "url": "https://blagis.example/events/123456",
            }
            text = render_sms(template, context, locale=locale)
            assert segments(text) <= 2, (template, locale, text)
            assert "STOP" in text
            if event is not arabic:
                assert gsm(text) == text, text  # GSM 03.38: no UCS-2 for French
        text = render_sms(
            template,
            {
                "event": short,
                "registration": registration,
                "url": "https://blagis.example/events/1",
            },
            locale=locale,
        )
        assert "OEuvre" in text and "Fete" in text  # the letters GSM lacks, replaced
