"""Attestations: the printable document, the public check by code, issuing by staff.

A volunteer asks for theirs on ``/volunteer/certificate`` (blagis.volunteers.views).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blagis import privacy
from blagis.domain import commit_or_form_error
from blagis.extensions import db
from blagis.models import User
from blagis.permissions import login_required, require_commune_scope, staff_required
from blagis.urls import absolute_url
from blagis.volunteers import attestations
from blagis.volunteers.forms import AttestationForm

bp = Blueprint("attestations", __name__)


def attestation_form(
    user: User, commune_code: str | None = None, all_label: str | None = None
) -> AttestationForm:
    """The form with the years this person served in (in ``commune_code`` if given)."""
    form = AttestationForm()
    form.year.choices = [("", all_label or _("All my missions"))] + [
        (str(y), str(y)) for y in attestations.served_years(user.id, commune_code)
    ]
    return form


def issue_from(form: AttestationForm, actor: User, volunteer: User, commune_code=None):
    """Run ``attestations.issue`` with the form's data and commit; the attestation or None."""
    made = []

    def action():
        made.append(
            attestations.issue(
                actor,
                volunteer,
                full_name=form.full_name.data,
                year=int(form.year.data) if form.year.data else None,
                commune_code=commune_code,
            )
        )

    return made[0] if commit_or_form_error(form, action) else None


@bp.route("/attestations")
def lookup():
    """Type a code (from a paper attestation) to check it."""
    code = request.args.get("code", "")
    if code:
        normal = attestations.normalise_code(code)
        if normal is not None:
            return redirect(url_for("attestations.verify", code=attestations.format_code(normal)))
    return render_template("volunteers/attestation_lookup.html", code=code, bad=bool(code)), (
        404 if code else 200
    )


@bp.route("/attestations/<code>")
def verify(code: str):
    """The public check: who, which period, how many hours, issued when. Nothing more."""
    attestation = attestations.find_by_code(code)
    if attestation is None:
        response = render_template("volunteers/attestation_lookup.html", code=code, bad=True)
        return response, 404, {"X-Robots-Tag": "noindex"}
    return (
        render_template(
            "volunteers/attestation_verify.html",
            attestation=attestation,
            code=attestations.format_code(attestation.code),
        ),
        200,
        {"X-Robots-Tag": "noindex", "Cache-Control": "private, no-store"},
    )


@bp.route("/volunteer/attestations/<int:attestation_id>")
@login_required
def document(attestation_id: int):
    """The printable attestation: its volunteer, or staff of its commune."""
    attestation = attestations.get_attestation(attestation_id)
    if attestation is None:
        abort(404)
    if attestation.user_id != current_user.id:
        require_commune_scope(attestation.commune_code)
    return render_template(
        "volunteers/attestation.html",
        attestation=attestation,
        code=attestations.format_code(attestation.code),
        verify_url=absolute_url(
            "attestations.verify", code=attestations.format_code(attestation.code)
        ),
        lookup_url=absolute_url("attestations.lookup"),
    )


@bp.route("/staff/volunteers/<int:user_id>/attestation", methods=["GET", "POST"])
@staff_required
def staff_issue(user_id: int):
    """An agent issues an attestation for a volunteer (the missions of the agent's commune)."""
    volunteer = db.session.get(User, user_id)
    if volunteer is None:
        abort(404)
    me = current_user._get_current_object()
    scope = None if (me.is_admin or me.scope_commune_code is None) else me.scope_commune_code
    form = attestation_form(volunteer, scope, _("All the missions"))
    if request.method == "GET":
        form.full_name.data = volunteer.display_name
    status = 200
    if form.validate_on_submit():
        made = issue_from(form, me, volunteer, scope)
        if made is not None:
            flash(_("The attestation is issued: print it and sign it."), "success")
            return redirect(url_for("attestations.document", attestation_id=made.id))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "volunteers/staff/attestation_issue.html",
        form=form,
        volunteer=volunteer,
        scope=scope,
        issued=[a for a in attestations.of_user(volunteer.id) if me.can_act_in(a.commune_code)],
    ), status


privacy.register_exporter("attestations", attestations.export_attestations)
privacy.register_eraser(attestations.erase_attestations)
