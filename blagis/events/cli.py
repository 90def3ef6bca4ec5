"""``send-reminders``: one reminder per registrant of the events of the next 48 hours."""

import click
from flask.cli import with_appcontext

from blagis.extensions import db


@click.command("send-reminders")
@click.option("--hours", default=48, show_default=True, help="How far ahead to look.")
@with_appcontext
def send_reminders_command(hours):
    """Queue reminders for events starting soon (each registrant is reminded once)."""
    from blagis.events.services import send_reminders
    from blagis.volunteers.services import send_mission_reminders

    queued = send_reminders(hours=hours) + send_mission_reminders(hours=hours)
    db.session.commit()
    click.echo(f"reminders queued: {queued}")
