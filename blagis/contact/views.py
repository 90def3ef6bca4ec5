"""``/contact`` (public) and the staff pages that keep the desks up to date."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blagis.contact import services
from blagis.contact.forms import DeskForm
from blagis.domain import DomainError, commit_or_form_error
from blagis.extensions import db
from blagis.models import Desk
from blagis.pagecache import cached_page
from blagis.permissions import require_commune_scope, staff_required
from blagis.templating import commune_choices, communes

bp = Blueprint("contact", __name__)
staff_bp = Blueprint("contact_staff", __name__)


@bp.route("/contact")
@cached_page()
def index():
    by_commune = {c.code: [] for c in communes()}
    for desk in services.desks():
        by_commune.setdefault(desk.commune_code, []).append(desk)
    return render_template("contact/index.html", by_commune=by_commune)


# --- staff -------------------------------------------------------------------------------------


def _me():
    return current_user._get_current_object()


def _my_communes() -> list[str] | None:
    """The communes whose desks this agent keeps (None: every commune)."""
    me = _me()
    if me.is_admin or me.scope_commune_code is None:
        return None
    return [me.scope_commune_code]


def _form(desk: Desk | None = None) -> DeskForm:
    form = DeskForm(obj=desk)
    mine = _my_communes()
    form.commune.choices = [c for c in commune_choices() if mine is None or c[0] in mine]
    if desk is not None and request.method == "GET":
        form.commune.data = desk.commune_code
    return form


def _data(form: DeskForm) -> dict:
    return {
        "commune_code": form.commune.data,
        "name": form.name.data,
        "address": form.address.data,
        "hours": form.hours.data,
        "phone": form.phone.data,
        "email": form.email.data,
        "services": form.services.data,
        "position": form.position.data,
    }


def _desk_in_scope(desk_id: int) -> Desk:
    desk = services.get_desk(desk_id)
    if desk is None:
        abort(404)
    require_commune_scope(desk.commune_code)
    return desk


@staff_bp.route("/desks", methods=["GET", "POST"])
@staff_required
def desks():
    """The desks this agent keeps; POST adds one."""
    form = _form()
    status = 200
    if form.validate_on_submit():
        require_commune_scope(form.commune.data)
        if commit_or_form_error(form, lambda: services.save_desk(_me(), None, _data(form))):
            flash(_("The desk is added to the contact page."), "success")
            return redirect(url_for("contact_staff.desks"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "contact/staff_desks.html", desks=services.desks(_my_communes()), form=form
    ), status


@staff_bp.route("/desks/<int:desk_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(desk_id: int):
    desk = _desk_in_scope(desk_id)
    form = _form(desk)
    status = 200
    if form.validate_on_submit():
        require_commune_scope(form.commune.data)
        if commit_or_form_error(form, lambda: services.save_desk(_me(), desk, _data(form))):
            flash(_("The desk is updated."), "success")
            return redirect(url_for("contact_staff.desks"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("contact/staff_desk_edit.html", desk=desk, form=form), status


@staff_bp.route("/desks/<int:desk_id>/delete", methods=["POST"])
@staff_required
def delete(desk_id: int):
    desk = _desk_in_scope(desk_id)
    try:
        services.delete_desk(_me(), desk)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The desk is removed from the contact page."), "success")
    return redirect(url_for("contact_staff.desks"))


bp.add_app_template_filter(services.tel_href, "tel_href")
