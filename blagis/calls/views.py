"""``/staff/calls``: the people staff should phone, per commune; each call marked done."""

from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blagis.calls import services
from blagis.calls.forms import OptOutForm
from blagis.domain import DomainError, commit_or_form_error
from blagis.extensions import db
from blagis.models import CallReason
from blagis.permissions import require_commune_scope, staff_required
from blagis.sms.optout import withdraw
from blagis.sms.phone import international

bp = Blueprint("calls", __name__)


def _me():
    return current_user._get_current_object()


def _page(form: OptOutForm, status: int = 200):
    me = _me()
    rows = services.calls_for(me)
    by_commune = [
        (code, list(items)) for code, items in groupby(rows, lambda r: r.call.commune_code)
    ]
    reasons = {
        CallReason.PROMOTED: _("A place freed up: now registered"),
        CallReason.EVENT_CANCELLED: _("The event is cancelled"),
        CallReason.EVENT_CHANGED: _("The event changed (date, time or place)"),
    }
    return (
        render_template(
            "calls/index.html",
            by_commune=by_commune,
            total=len(rows),
            done=services.calls_for(me, done=True, limit=20),
            reasons=reasons,
            form=form,
            scope=me.scope_commune_code if not me.is_admin else None,
        ),
        status,
    )


@bp.route("")
@staff_required
def index():
    return _page(OptOutForm(formdata=None))


@bp.route("/<int:call_id>/done", methods=["POST"])
@staff_required
def done(call_id: int):
    call = services.get_call(call_id)
    if call is None:
        abort(404)
    require_commune_scope(call.commune_code)  # 403 outside the staff member's commune
    try:
        services.mark_done(_me(), call)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "info")
    else:
        flash(_("The call is marked done."), "success")
    return redirect(url_for("calls.index"))


@bp.route("/opt-out", methods=["POST"])
@staff_required
def opt_out():
    """Staff record that someone asked to receive no more SMS."""
    form = OptOutForm()
    if form.validate_on_submit():
        number = international(form.phone.data)
        if number is None:
            form.phone.errors = [_("Enter a phone number, like 06 12 34 56 78.")]
        elif commit_or_form_error(form, lambda: withdraw(number, actor=_me(), via="staff")):
            flash(_("No more SMS will be sent to this number."), "success")
            return redirect(url_for("calls.index"))
    return _page(form, 422)
