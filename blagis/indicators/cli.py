"""``refresh-figures``: recompute the yearly figures that pages read (cron, every 5 minutes)."""

import time

import click
from flask.cli import with_appcontext

from blagis.extensions import db


@click.command("refresh-figures")
@click.option(
    "--year",
    "years",
    type=click.IntRange(2000, 2100),
    multiple=True,
    help="A year to recompute (repeatable; default: 2024 to next year and every stored year).",
)
@with_appcontext
def refresh_figures_command(years):
    """Recompute the indicators' yearly figures and store them (one transaction)."""
    from blagis.indicators.services import refresh_figures

    started = time.monotonic()
    done = refresh_figures(list(years) or None)
    db.session.commit()
    click.echo(
        f"figures of {', '.join(map(str, done.years))}: {done.inserted} rows added, "
        f"{done.updated} changed, {done.deleted} removed "
        f"({time.monotonic() - started:.1f} s)"
    )
