"""Command line: ``flask --app blagis …`` or the ``blagis`` console script."""

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from blagis.extensions import db


def main() -> None:
    """Entry point of the ``blagis`` console script (same commands as ``flask --app blagis``)."""
    from blagis import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="Blagis administration commands.")
    cli(prog_name="blagis")


@click.command("load-contract")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="Also list each node created or updated.")
@with_appcontext
def load_contract_command(path, verbose):
    """Load the contract objectives tree (idempotent: upserts by code)."""
    from blagis.objectives.services import ContractFileError, load_contract

    try:
        report = load_contract(path)
    except ContractFileError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"communes created: {len(report.communes_created)}; nodes created: "
        f"{len(report.created)}, updated: {len(report.updated)}, unchanged: {report.unchanged}"
    )
    if verbose:
        for code in report.created:
            click.echo(f"  + {code}")
        for code in report.updated:
            click.echo(f"  ~ {code}")


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["resident", "volunteer", "staff", "admin"]),
    default="resident",
    show_default=True,
)
@click.option("--password", help="Asked for interactively when not given.")
@click.option("--name", "display_name", help="Name shown on the site (default: from the e-mail).")
@click.option("--commune", "commune", help="Commune code; for staff, limits them to it.")
@with_appcontext
def create_user_command(email, role, password, display_name, commune):
    """Create an account with a role (staff and admins are made this way)."""
    from wtforms.validators import ValidationError

    from blagis.auth.forms import PASSWORD_MIN
    from blagis.auth.services import create_user
    from blagis.domain import DomainError
    from blagis.models import Role

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < PASSWORD_MIN:
        raise click.ClickException(f"the password needs at least {PASSWORD_MIN} characters")
    from blagis.auth.passwords import password_problem

    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    try:
        from email_validator import EmailNotValidError, validate_email

        validate_email(email, check_deliverability=False)
    except (EmailNotValidError, ValidationError) as error:
        raise click.ClickException(f"invalid e-mail address: {error}") from error
    try:
        user = create_user(
            email,
            display_name or email.split("@")[0],
            password,
            role=Role(role),
            commune_code=commune,
        )
        if commune and user.is_staff:
            user.scope_commune_code = commune
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"created {user.email} ({user.role})")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@with_appcontext
def demo_command(if_empty):
    """Create realistic demo content (accounts, and each domain's own content)."""
    from blagis.demo import create_demo

    created = create_demo(if_empty=if_empty)
    if created is None:
        click.echo("the database already has content: demo skipped")
        return
    db.session.commit()
    # The demo's activity in the stored figures at once (not at the first cron run).
    from blagis.indicators.services import refresh_figures

    refresh_figures()
    db.session.commit()
    for key, count in created.items():
        click.echo(f"{key}: {count}")
    if current_app.config["BLAGIS_ENV"] == "development" or current_app.debug:
        click.echo("demo accounts use the password 'demo-blagis-2030'")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be erased, change nothing.")
@with_appcontext
def purge_command(dry_run):
    """Erase personal data older than BLAGIS_RETENTION_MONTHS, keeping anonymous rows."""
    from blagis.privacy import purge, retention_cutoff

    click.echo(f"retention cutoff: {retention_cutoff():%Y-%m-%d %H:%M} UTC")
    report = purge()
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for name, count in report.items():
        click.echo(f"{name}: {count}{' (dry run)' if dry_run else ''}")


def init_app(app) -> None:
    from blagis.events.cli import send_reminders_command
    from blagis.indicators.cli import refresh_figures_command
    from blagis.mail.cli import send_mail_command

    for command in (
        load_contract_command,
        create_user_command,
        demo_command,
        send_mail_command,
        send_reminders_command,
        purge_command,
        refresh_figures_command,
    ):
        app.cli.add_command(command)
