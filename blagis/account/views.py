import json

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blagis import privacy, sections
from blagis.account.forms import AccountEditForm, ChangePasswordForm, DeleteAccountForm
from blagis.account.services import update_profile
from blagis.auth import SESSION_KEY, forget_login
from blagis.auth import services as auth_services
from blagis.auth.passwords import verify_password
from blagis.domain import commit_or_form_error
from blagis.extensions import db
from blagis.models import Role, User
from blagis.permissions import login_required
from blagis.ratelimits import limit
from blagis.templating import commune_choices

bp = Blueprint("account", __name__)


@bp.route("")
@login_required
def index():
    user = current_user._get_current_object()
    blocks = sections.render_data(sections.ACCOUNT, user)
    return render_template("account/index.html", user=user, blocks=blocks)


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit():
    """My name, commune, language, phone and SMS consent."""
    user = current_user._get_current_object()
    form = AccountEditForm(
        data=None
        if request.method == "POST"
        else {
            "display_name": user.display_name,
            "commune": user.commune_code or "",
            "locale": user.locale or "fr",
            "phone": user.phone,
            "sms_ok": user.sms_ok,
        }
    )
    form.commune.choices = commune_choices(_("not given"))
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            lambda: update_profile(
                user,
                display_name=form.display_name.data,
                commune_code=form.commune.data or None,
                locale=form.locale.data,
                phone=form.phone.data,
                sms_ok=form.sms_ok.data,
            ),
        )
        if saved:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("account/edit.html", form=form, user=user), status


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of the account: this browser, other devices, any copied cookie."""
    auth_services.end_all_sessions(current_user._get_current_object())
    db.session.commit()
    forget_login()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("main.index"))


@bp.route("/export", methods=["POST"])
@login_required
def export():
    """All my data as a JSON download (RGPD right of access and portability)."""
    user = current_user._get_current_object()
    body = json.dumps(privacy.export_user_data(user), ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="blagis-{user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/password", methods=["GET", "POST"])
@limit("RATELIMIT_LOGIN")
@login_required
def password():
    """Change my password; every other session of the account is logged out."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(account_email=user.email)
    status = 200
    if form.validate_on_submit():
        if commit_or_form_error(
            form,
            lambda: auth_services.change_password(
                user,
                form.current_password.data,
                form.password.data,
                keep_session=session.get(SESSION_KEY),
            ),
        ):
            flash(
                _("Your password has been changed. Your other sessions are logged out."),
                "success",
            )
            return redirect(url_for("account.index"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("account/password.html", form=form), status


def _last_admin(user: User) -> bool:
    from sqlalchemy import func, select

    if user.role != Role.ADMIN:
        return False
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)) <= 1


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """GET explains the consequences; POST with the password deletes the account."""
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.password.data):
            form.password.errors = [_("This is not your password.")]
            status = 422
        elif _last_admin(user):
            form.form_errors.append(
                _("You are the last administrator: name another one before deleting your account.")
            )
            status = 422
        else:
            privacy.delete_account(user, user)
            db.session.commit()
            forget_login()
            flash(_("Your account has been deleted."), "success")
            return redirect(url_for("main.index"))
    elif request.method == "POST":
        status = 422
    return render_template("account/delete.html", form=form, user=user), status
