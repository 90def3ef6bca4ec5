"""``flask --app blagis send-mail``: deliver the outbox (from cron, or ``--loop``)."""

import logging
import signal
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from blagis.extensions import db


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running, checking the outbox every interval.")
@click.option(
    "--interval", default=10.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds."
)
@click.option(
    "--batch",
    default=50,
    show_default=True,
    type=click.IntRange(min=1, max=1000),
    help="Messages claimed at a time.",
)
@click.option(
    "--budget",
    default=50.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds: without --loop, keep sending batches until nothing is due or this passed.",
)
@with_appcontext
def send_mail_command(loop, interval, batch, budget):
    """Send the e-mail that is due; retry failures with back-off. Safe to run concurrently."""
    from blagis.mail.worker import drain, log, new_worker_id, run_once

    current_app.logger  # noqa: B018 - Flask attaches its stderr handler on first access
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    worker_id = new_worker_id()
    stopping = []
    if loop:  # systemd/supervisors send SIGTERM: finish the batch in hand, then stop
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        try:
            if loop:  # goes on at once after a full batch (below)
                report = run_once(batch=batch, worker_id=worker_id)
            else:  # one run (cron): the whole backlog, batch after batch, within the budget
                report = drain(batch=batch, budget=budget, worker_id=worker_id)
        except Exception as error:  # noqa: BLE001 - a loop survives a database hiccup
            db.session.rollback()
            if not loop:
                raise click.ClickException(f"send-mail: {error}") from error
            log.exception("send-mail run failed; trying again in %s s", interval)
            report = None
        finally:
            db.session.remove()
        if report is not None and (report.claimed or not loop):
            line = f"sent: {report.sent}, to retry: {report.retried}, failed: {report.failed}"
            click.echo(line if loop else f"{line}, batches: {report.batches}")
        if not loop:
            return
        if report is None or report.claimed < batch:
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
