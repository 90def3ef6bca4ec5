"""Opting out of SMS: an answer STOP (received by the worker), the account page, or staff.

Whatever the way, every consent given for that number is withdrawn (accounts and registrations
without account), and the SMS still waiting for it are not sent: a reminder is dropped, a
message about a change puts its person on the call list instead.
"""

import logging

from sqlalchemy import select

from blagis import audit
from blagis.extensions import db
from blagis.models import Channel, OutboxMessage, OutboxStatus, Registration, User
from blagis.sms.phone import international

log = logging.getLogger("blagis.sms")

STOP_WORDS = {"STOP", "STOP SMS", "ARRET", "ARRÊT", "STOPSMS", "UNSUBSCRIBE"}


def is_stop(text: str) -> bool:
    return " ".join((text or "").upper().split()).strip(" .!") in STOP_WORDS


def withdraw(number: str, *, actor=None, via: str) -> int:
    """Withdraw every SMS consent given for ``number`` (international form); flush, the caller
    commits. Returns how many consents were withdrawn."""
    # Numbers given with consent are stored in international form: an equality finds them.
    changed = 0
    for model in (User, Registration):
        for row in db.session.scalars(
            select(model).where(model.sms_ok.is_(True), model.phone == number)
        ):
            row.sms_ok = False
            changed += 1
    drop_waiting(number)
    db.session.flush()
    audit.record("sms.opt_out", "phone", None, actor=actor, after={"via": via, "consents": changed})
    return changed


def drop_waiting(number: str) -> None:
    """SMS still waiting for ``number`` are not sent; those about a change of registration
    put their person on the call list instead."""
    from blagis.calls.services import add_call
    from blagis.models import Event

    waiting = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.channel == Channel.SMS,
            OutboxMessage.recipient == number,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    ).all()
    for message in waiting:
        if message.call_reason and message.registration_id is not None:
            registration = db.session.get(Registration, message.registration_id)
            if registration is not None and registration.is_active:
                add_call(
                    registration, db.session.get(Event, registration.event_id), message.call_reason
                )
        db.session.delete(message)


def record_inbound(messages: list[tuple[str, str]]) -> None:
    """Answers the SMSC delivered while the worker was bound: STOP withdraws consent."""
    try:
        for source, text in messages:
            number = international("+" + source.lstrip("+")) if source else None
            if number and is_stop(text):
                withdraw(number, via="sms")
                log.info("sms: STOP received, consent withdrawn")
        db.session.commit()
    except Exception:  # noqa: BLE001 - never lose the run's report over an answer
        db.session.rollback()
        log.exception("sms: could not record the answers received")
