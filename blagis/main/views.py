from datetime import date

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from blagis import sections
from blagis.extensions import db
from blagis.pagecache import cached_page

bp = Blueprint("main", __name__)

# The accessibility statement: when the tests were last reviewed and with which axe-core
# (tests/e2e checks this is the version in package.json). Update both on each review.
ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 27)
AXE_CORE_VERSION = "4.14.1"


@bp.route("/")
@cached_page()
def index():
    blocks = sections.render_data(sections.HOME)
    return render_template("main/index.html", blocks=blocks)


@bp.route("/about/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.route("/about/terms")
def terms():
    return render_template("main/terms.html")


@bp.route("/accessibility")
def accessibility():
    """The accessibility statement (« déclaration d'accessibilité ») that RGAA requires."""
    return render_template(
        "main/accessibility.html",
        statement_date=ACCESSIBILITY_STATEMENT_DATE,
        axe_version=AXE_CORE_VERSION,
    )


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
