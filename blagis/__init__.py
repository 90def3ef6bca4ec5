"""Blagis: participation and events platform of the Blagis priority quarter."""

from flask import Flask
from werkzeug.routing import IntegerConverter


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests pass a mapping)."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    from blagis.config import load_config

    load_config(app, config)
    register_proxy(app)
    register_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_ratelimits(app)
    register_errors(app)
    register_cli(app)
    register_templates(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` ids stop at the database's 32-bit integer: a larger one is a 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_proxy(app: Flask) -> None:
    """Behind nginx, the client's address (rate limits) and scheme come from X-Forwarded-*."""
    hops = app.config["BLAGIS_TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def register_converters(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter


def register_extensions(app: Flask) -> None:
    from blagis import auth, dbtuning, i18n, pagecache, security
    from blagis.extensions import csrf, db, login_manager, migrate

    dbtuning.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    auth.init_login(app)
    i18n.init_app(app)
    security.init_app(app)
    pagecache.init_app(app)


def _migrations_dir() -> str:
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def register_blueprints(app: Flask) -> None:
    from blagis.account.views import bp as account_bp
    from blagis.admin.views import bp as admin_bp
    from blagis.auth.views import bp as auth_bp
    from blagis.calls.views import bp as calls_bp
    from blagis.contact.views import bp as contact_bp
    from blagis.contact.views import staff_bp as contact_staff_bp
    from blagis.events.staff import bp as events_staff_bp
    from blagis.events.views import api_bp as events_api_bp
    from blagis.events.views import bp as events_bp
    from blagis.indicators.views import bp as report_bp
    from blagis.initiatives.views import api_bp as initiatives_api_bp
    from blagis.initiatives.views import bp as initiatives_bp
    from blagis.initiatives.views import staff_bp as initiatives_staff_bp
    from blagis.mail.views import admin_bp as outbox_admin_bp
    from blagis.mail.views import bp as notifications_bp
    from blagis.main.views import bp as main_bp
    from blagis.objectives.views import api_bp as objectives_api_bp
    from blagis.objectives.views import bp as objectives_bp
    from blagis.volunteers.attestation_views import bp as attestations_bp
    from blagis.volunteers.staff import bp as volunteers_staff_bp
    from blagis.volunteers.views import bp as volunteers_bp
    from blagis.volunteers.views import missions_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(objectives_bp, url_prefix="/objectives")
    app.register_blueprint(objectives_api_bp, url_prefix="/api/v1")
    app.register_blueprint(notifications_bp)
    app.register_blueprint(outbox_admin_bp, url_prefix="/admin/outbox")
    app.register_blueprint(initiatives_bp, url_prefix="/initiatives")
    app.register_blueprint(initiatives_staff_bp, url_prefix="/staff/initiatives")
    app.register_blueprint(initiatives_api_bp, url_prefix="/api/v1")
    app.register_blueprint(events_bp, url_prefix="/events")
    app.register_blueprint(events_staff_bp, url_prefix="/staff")
    app.register_blueprint(calls_bp, url_prefix="/staff/calls")
    app.register_blueprint(events_api_bp, url_prefix="/api/v1")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(report_bp, url_prefix="/staff")
    app.register_blueprint(volunteers_bp, url_prefix="/volunteer")
    app.register_blueprint(missions_bp, url_prefix="/missions")
    app.register_blueprint(volunteers_staff_bp, url_prefix="/staff")
    app.register_blueprint(attestations_bp)
    app.register_blueprint(contact_bp)
    app.register_blueprint(contact_staff_bp, url_prefix="/staff")

    from blagis.mail import devmail

    devmail.init_app(app)  # /dev/mail, in development only


def register_ratelimits(app: Flask) -> None:
    """After the blueprints: wraps every view marked with ``blagis.ratelimits.limit``."""
    from blagis import ratelimits

    ratelimits.init_app(app)


def register_errors(app: Flask) -> None:
    from blagis import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from blagis import cli

    cli.init_app(app)


def register_templates(app: Flask) -> None:
    from blagis import templating

    templating.init_app(app)
