"""Sending SMS over SMPP 3.4 with smpplib: one bind (transceiver) per worker run.

Each message is cut into parts (GSM 03.38 or UCS-2, concatenated with a UDH when longer than
one segment); every part is submitted and its ``submit_sm_resp`` awaited before the message
counts as sent. Messages the SMSC delivers to us meanwhile (``deliver_sm``: a person answering
STOP) are acknowledged and kept in ``inbound`` for the worker to record.
"""

import logging
from dataclasses import dataclass

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

log = logging.getLogger("blagis.sms")


@dataclass(frozen=True)
class SmsPayload:
    """What sending one SMS needs, read from its outbox row before the transaction ends."""

    destination: str  # +33612345678
    text: str


class SmsRefused(Exception):
    """The SMSC answered a submit_sm with an error status."""


class SmsNotConfigured(Exception):
    """An SMS is due but no SMPP server is configured: it waits and is retried."""


def _decode(pdu) -> str:
    raw = pdu.short_message or b""
    coding = int(getattr(pdu, "data_coding", 0) or 0)
    if coding == c.SMPP_ENCODING_ISO10646:
        return raw.decode("utf-16-be", "replace")
    if coding in (c.SMPP_ENCODING_ISO88591,):
        return raw.decode("latin-1")
    try:  # SMSC default alphabet, one septet a byte: ASCII letters are the same
        return "".join(smpplib.gsm.GSM_CHARACTER_TABLE[b] if b < 128 else "?" for b in raw)
    except IndexError:
        return raw.decode("latin-1")


def _source(sender: str) -> tuple[int, int, str]:
    """(TON, NPI, address) of ``SMS_FROM``: a number, or an alphanumeric name."""
    compact = sender.replace(" ", "")
    if compact.lstrip("+").isdigit():
        if compact.startswith("+"):
            return c.SMPP_TON_INTL, c.SMPP_NPI_ISDN, compact[1:]
        if len(compact) <= 6:  # a short code
            return c.SMPP_TON_NWSPEC, c.SMPP_NPI_ISDN, compact
        return c.SMPP_TON_NATNL, c.SMPP_NPI_ISDN, compact
    return c.SMPP_TON_ALNUM, c.SMPP_NPI_UNK, sender[:11]


class SMPPTransport:
    """One SMPP session per run, bound on first use, rebound after an error; when the SMSC
    cannot be reached (or refuses the bind), the rest of the run fails at once."""

    def __init__(self, config):
        self.config = config
        self.client: smpplib.client.Client | None = None
        self.unreachable: Exception | None = None
        self.inbound: list[tuple[str, str]] = []  # (source number, text)

    def _connect(self) -> smpplib.client.Client:
        config = self.config
        if not config.get("SMS_SMPP_HOST") or not config.get("SMS_SMPP_SYSTEM_ID"):
            raise SmsNotConfigured("SMS_SMPP_HOST / SMS_SMPP_SYSTEM_ID are not set")
        client = smpplib.client.Client(
            config["SMS_SMPP_HOST"],
            config["SMS_SMPP_PORT"],
            timeout=config["SMS_TIMEOUT"],
            allow_unknown_opt_params=True,
        )
        try:
            client.connect()
            client.bind_transceiver(
                system_id=config["SMS_SMPP_SYSTEM_ID"],
                password=config.get("SMS_SMPP_PASSWORD") or "",
            )
        except BaseException:
            client.disconnect()
            raise
        return client

    def send(self, payload: SmsPayload, message_id: int) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.client is None:
            try:
                self.client = self._connect()
            except Exception as error:
                self.unreachable = error
                raise
        try:
            self._submit(payload)
        except SmsRefused:
            raise  # the session is still good; only this message failed
        except BaseException:
            self._drop()  # state unknown: the next message binds again
            raise

    def _submit(self, payload: SmsPayload) -> None:
        client = self.client
        parts, coding, esm_class = smpplib.gsm.make_parts(payload.text)
        ton, npi, source = _source(self.config.get("SMS_FROM") or "Blagis")
        for part in parts:
            pdu = client.send_message(
                source_addr_ton=ton,
                source_addr_npi=npi,
                source_addr=source,
                dest_addr_ton=c.SMPP_TON_INTL,
                dest_addr_npi=c.SMPP_NPI_ISDN,
                destination_addr=payload.destination.lstrip("+"),
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=False,
            )
            self._await_response(pdu.sequence)

    def _await_response(self, sequence: int, command: str = "submit_sm_resp") -> None:
        """Read PDUs until the ``command`` of ``sequence``; answer what comes meanwhile."""
        client = self.client
        while True:
            try:
                pdu = client.read_pdu()
            except TimeoutError as error:
                raise smpplib.exceptions.ConnectionError("no answer from the SMSC") from error
            if pdu.command == command and pdu.sequence == sequence:
                if pdu.is_error():
                    status = int(pdu.status)
                    raise SmsRefused(
                        f"({status}) {c.DESCRIPTIONS.get(status, 'refused by the SMSC')}"
                    )
                return
            if pdu.command == "deliver_sm":
                if not (int(pdu.esm_class or 0) & 0x04):  # 0x04: a delivery receipt
                    source = pdu.source_addr or b""
                    if isinstance(source, bytes):
                        source = source.decode("ascii", "replace")
                    self.inbound.append((source, _decode(pdu)))
                self._reply(pdu, "deliver_sm_resp")
            elif pdu.command == "enquire_link":
                self._reply(pdu, "enquire_link_resp")
            elif pdu.command == "unbind":
                raise smpplib.exceptions.ConnectionError("the SMSC closed the session")

    def _reply(self, pdu, command: str) -> None:
        response = smpplib.smpp.make_pdu(command, client=self.client)
        response.sequence = pdu.sequence
        self.client.send_pdu(response)

    def _drop(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except OSError:
                pass
            self.client = None

    def close(self) -> None:
        """Unbind, still answering what the SMSC sends until it confirms (an answer STOP may
        come last), then disconnect."""
        if self.client is not None:
            try:
                unbind = smpplib.smpp.make_pdu("unbind", client=self.client)
                self.client.send_pdu(unbind)
                self._await_response(unbind.sequence, "unbind_resp")
            except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
                pass  # the server went away first: nothing left to close but the socket
            self._drop()
