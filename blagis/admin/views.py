from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from blagis.admin import services
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Role
from blagis.permissions import admin_required

bp = Blueprint("admin", __name__)

PER_PAGE = 50


def _page() -> int:
    page = request.args.get("page", 1, type=int)
    return page if 0 < page < 100_000 else 1


def _text(name: str, limit: int = 100) -> str:
    value = request.args.get(name, "", type=str)
    return "".join(c for c in value if c.isprintable())[:limit].strip()


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        form = FlaskForm()  # the CSRF check; fields are read below and checked by the service
        if not form.validate_on_submit():
            errors.append(_("The form has expired. Please send it again."))
            status = 422
        else:
            try:
                user = services.change_role(
                    current_user._get_current_object(),
                    request.form.get("user_id"),
                    request.form.get("role"),
                    request.form.get("commune"),
                )
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                errors.append(error.message)
                status = 422
            else:
                flash(_("The account %(email)s has been updated.", email=user.email), "success")
                return redirect(url_for("admin.users", q=request.args.get("q") or None))
    q = _text("q")
    role = _text("role", 16)
    pagination = db.paginate(
        services.users_query(q, role), page=_page(), per_page=PER_PAGE, error_out=False
    )
    return (
        render_template(
            "admin/users.html",
            pagination=pagination,
            q=q,
            role=role,
            roles=list(Role),
            errors=errors,
        ),
        status,
    )


@bp.route("/audit")
@admin_required
def audit():
    filters = {
        "action": _text("action", 64),
        "actor": _text("actor", 254),
        "object_type": _text("object_type", 32),
        "date_from": services.parse_day(_text("date_from", 10)),
        "date_to": services.parse_day(_text("date_to", 10)),
    }
    pagination = db.paginate(
        services.audit_query(**filters), page=_page(), per_page=PER_PAGE, error_out=False
    )
    actors = services.actors_by_id(e.actor_id for e in pagination.items)
    actions, object_types = services.audit_choices()
    args = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items() if v}
    return render_template(
        "admin/audit.html",
        pagination=pagination,
        actors=actors,
        filters=filters,
        args=args,
        actions=actions,
        object_types=object_types,
    )
