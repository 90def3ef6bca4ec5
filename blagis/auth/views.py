from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from blagis.auth import SESSION_KEY, forget_login, remember_login, services
from blagis.auth.forms import LoginForm, RegisterForm, ResetPasswordForm, ResetRequestForm
from blagis.auth.services import LoginOutcome
from blagis.domain import commit_or_form_error
from blagis.extensions import db
from blagis.i18n import current_locale
from blagis.models import User, utcnow
from blagis.ratelimits import count_failure, limit
from blagis.templating import commune_choices

bp = Blueprint("auth", __name__)

# Set after a log-in with the right password on an unconfirmed account, for "resend".
UNCONFIRMED_KEY = "unconfirmed_uid"


def safe_next(target: str | None) -> str | None:
    """Only paths inside this site: no scheme, no host, no ``//`` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
@limit("RATELIMIT_REGISTER")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("account.index"))
    form = RegisterForm()
    form.commune.choices = commune_choices(_("Choose…"))
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            lambda: services.register_account(
                form.email.data,
                form.display_name.data,
                form.password.data,
                commune_code=form.commune.data,
                locale=current_locale(),
            ),
        )
        if saved:
            # The same answer whether the address was new or already had an account.
            return redirect(url_for("auth.check_mailbox"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.route("/register/sent")
def check_mailbox():
    return render_template("auth/check_mailbox.html")


@bp.route("/confirm/<token>")
def confirm(token: str):
    user = services.confirm_email(token)
    if user is None:
        flash(
            _("This confirmation link is invalid or has expired. Log in to get a new one."), "error"
        )
        return redirect(url_for("auth.login"))
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can log in."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/confirm/resend", methods=["POST"])
@limit("RATELIMIT_RESET")
def resend_confirmation():
    """Only after a log-in with the right password: the session remembers that account."""
    uid = session.pop(UNCONFIRMED_KEY, None)
    user = db.session.get(User, uid) if isinstance(uid, int) else None
    if user is None:
        return redirect(url_for("auth.login"))
    if user.email_confirmed_at is None:
        services.send_confirmation(user)
        db.session.commit()
    flash(_("We have sent you a new confirmation link."), "info")
    return redirect(url_for("auth.login"))


def _login_email() -> str:
    """The account a log-in names, for the failures limit (whether or not it exists)."""
    return services.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limit("RATELIMIT_LOGIN")
@limit("RATELIMIT_LOGIN_FAILURES", per=_login_email, failures_only=True)
def login():
    form = LoginForm()
    status = 200
    unconfirmed = False
    if form.validate_on_submit():
        attempt = services.check_login(form.email.data, form.password.data)
        key = services.open_session(attempt.user) if attempt.outcome == LoginOutcome.OK else None
        db.session.commit()
        if attempt.outcome == LoginOutcome.OK:
            remember_login(attempt.user, key)
            flash(_("You are logged in."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("account.index"))
        status = 422
        if attempt.outcome == LoginOutcome.UNCONFIRMED:
            session[UNCONFIRMED_KEY] = attempt.user.id
            unconfirmed = True
            form.form_errors.append(
                _("Please confirm your e-mail address first, with the link we sent you.")
            )
        else:
            count_failure()
            form.form_errors.append(
                _(
                    "Wrong e-mail address or password. After several failed attempts from "
                    "your connection, log-in to this account is paused for a few minutes."
                )
            )
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form, unconfirmed=unconfirmed), status


@bp.route("/logout", methods=["POST"])
def logout():
    # The row goes: a copy of this cookie, kept anywhere, opens nothing any more.
    services.end_session(session.get(SESSION_KEY))
    db.session.commit()
    forget_login()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@limit("RATELIMIT_RESET")
def reset_request():
    form = ResetRequestForm()
    status = 200
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, current_locale())
        db.session.commit()
        # Same answer whether or not the account exists.
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new "
                "password. The link is valid for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = services.user_from_reset_token(token)
    if user is None:
        flash(_("This link is invalid or has expired. Ask for a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm(account_email=user.email)
    status = 200
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        if user.email_confirmed_at is None:
            # The link reached the mailbox: that confirms the address too.
            user.email_confirmed_at = utcnow()
        db.session.commit()
        flash(_("Your password has been changed. You can log in."), "success")
        return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/reset_password.html", form=form, token=token), status
