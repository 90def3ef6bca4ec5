"""A real SMPP 3.4 server (SMSC) process for the tests: the ``smpp34`` library's server.

The protocol (binds, sessions, enquire_link, windowing, the PDU codec) is smpp34's own
(Rust/tokio core, from PyPI); this script only decides what to do with what it receives, as an
aiosmtpd handler does for SMTP:

- a bind whose ``system_id`` is not ``--system-id`` is unbound at once;
- every ``submit_sm`` is accepted and appended, one JSON object a line, to ``--store``
  (destination, source, data_coding, esm_class and the short message in hex);
- when a session binds, each line of ``--mo`` (JSON ``{"from": ..., "text": ...}``) not yet
  delivered is sent to it as a mobile-originated ``deliver_sm`` (a person answering STOP),
  before the session's next request is answered.

Run: ``python tests/smsc_server.py --port N --system-id ID --store FILE [--mo FILE]``; it
prints ``ready`` once listening and stops on SIGTERM.
"""

import argparse
import asyncio
import json
import signal
import sys
import uuid

import smpp34


async def main(args) -> None:
    server = smpp34.Server(host="127.0.0.1", port=args.port, system_id="BLAGIS-TEST-SMSC")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    delivered_mo = 0
    tasks = set()

    async def deliver_mo(esme) -> None:
        nonlocal delivered_mo
        if not args.mo:
            return
        try:
            with open(args.mo, encoding="utf-8") as handle:
                lines = [json.loads(line) for line in handle if line.strip()]
        except FileNotFoundError:
            return
        for item in lines[delivered_mo:]:
            await esme.deliver_sm(
                destination_addr=args.shortcode,
                short_message=item["text"].encode("ascii"),
                source_addr=item["from"],
                source_addr_ton=1,
                source_addr_npi=1,
            )
            delivered_mo += 1

    async def serve() -> None:
        while True:
            event = await server.next()
            if isinstance(event, smpp34.Esme):
                if event.system_id != args.system_id:
                    task = asyncio.ensure_future(event.unbind())
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                else:
                    # Before anything else of the session: the answers waiting reach the ESME
                    # before the response to its first submit_sm (it reads while waiting).
                    await deliver_mo(event)
            elif isinstance(event, smpp34.SubmitSmEvent):
                record = {
                    "session": event.session_id,
                    "to": event.destination_addr,
                    "from": event.source_addr,
                    "data_coding": event.data_coding,
                    "esm_class": event.esm_class,
                    "message": event.short_message.hex(),
                }
                with open(args.store, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
                event.accept(message_id=uuid.uuid4().hex[:16])

    serving = asyncio.ensure_future(serve())
    await stop.wait()
    serving.cancel()
    await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--system-id", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--mo")
    parser.add_argument("--shortcode", default="38000")
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)
