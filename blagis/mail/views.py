"""Unsubscribe links, the e-mail settings on /account, and the staff outbox page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, func, select

from blagis import sections
from blagis.domain import DomainError
from blagis.errors import render_error
from blagis.extensions import csrf, db
from blagis.mail import services
from blagis.mail.forms import NotificationsForm
from blagis.mail.unsubscribe import read_token, unsubscribe
from blagis.models import MailCategory, OutboxMessage, OutboxStatus, Registration, User
from blagis.permissions import forbid, login_required, staff_required

bp = Blueprint("notifications", __name__)
admin_bp = Blueprint("outbox_admin", __name__)


def category_label(category: MailCategory) -> str:
    return {
        MailCategory.REMINDER: _("event reminders"),
        MailCategory.MISSION_CALL: _("messages about volunteer missions"),
    }.get(category, str(category))


def subscriber_label(subscriber, category: MailCategory) -> str:
    """What the link turns off: a kind of mail for an account, one event's reminders for a
    person registered without an account."""
    if isinstance(subscriber, Registration):
        return _("reminders for “%(title)s”", title=subscriber.event.title)
    return category_label(category)


def may_see_outbox(user) -> bool:
    """The outbox shows every recipient's address, of every commune: staff limited to one
    commune must not see it (they see contacts of their commune only); unscoped staff and
    admins may."""
    return user.is_admin or (user.is_staff and not user.scope_commune_code)


def _require_outbox_access() -> None:
    if not may_see_outbox(current_user):
        forbid(_("This page is reserved for administrators and for the agents of every commune."))


def _account_block(user) -> dict:
    data = {"form": NotificationsForm(obj=user), "failed_mail": None}
    if may_see_outbox(user):  # staff find the outbox page from their account
        data["failed_mail"] = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.FAILED)
        )
    return data


sections.register(sections.ACCOUNT, 80, "notifications/account_block.html", _account_block)


@bp.route("/account/notifications", methods=["POST"])
@login_required
def settings():
    form = NotificationsForm()
    if form.validate_on_submit():
        services.set_preferences(
            current_user._get_current_object(),
            reminders=form.notify_reminders.data,
            missions=form.notify_missions.data,
        )
        db.session.commit()
        flash(_("Your e-mail preferences have been saved."), "success")
    else:
        flash(_("Your e-mail preferences could not be saved. Please try again."), "error")
    return redirect(url_for("account.index") + "#notifications")


# No CSRF token: the signed link is the proof, and mail clients post to it without a form
# (RFC 8058 one-click unsubscribe).
@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe_view(token: str):
    found = read_token(token)
    if found is None:
        return render_error(
            400,
            _(
                "This unsubscribe link is not valid: it may have been cut or changed. You can "
                "choose which e-mail you receive on your account page."
            ),
        )
    subscriber, category = found
    label = subscriber_label(subscriber, category)
    if request.method == "POST":
        unsubscribe(subscriber, category)
        db.session.commit()
        return render_template(
            "notifications/unsubscribed.html",
            category=label,
            account=isinstance(subscriber, User),
        )
    return render_template("notifications/unsubscribe.html", category=label, token=token)


VISIBLE = (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)


@admin_bp.route("")
@staff_required
def index():
    _require_outbox_access()
    wanted = request.args.get("status")
    statuses = [OutboxStatus(wanted)] if wanted in {s.value for s in VISIBLE} else list(VISIBLE)
    priority = case(
        (OutboxMessage.status == OutboxStatus.FAILED, 0),
        (OutboxMessage.status == OutboxStatus.SENDING, 1),
        else_=2,
    )
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(statuses))
        .order_by(priority, OutboxMessage.due_at.desc(), OutboxMessage.id.desc())
    )
    # Bounded: a huge ?page= made an OFFSET PostgreSQL refuses (a 500).
    number = request.args.get("page", 1, type=int)
    number = number if 0 < number <= 100_000 else 1
    page = db.paginate(query, page=number, per_page=50, error_out=False, count=True)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(VISIBLE))
            .group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "admin/outbox.html",
        page=page,
        counts=counts,
        current=wanted if len(statuses) == 1 else None,
        statuses=VISIBLE,
        retryable=services.RETRYABLE,
    )


@admin_bp.route("/<int:message_id>/retry", methods=["POST"])
@staff_required
def retry(message_id: int):
    _require_outbox_access()
    message = db.get_or_404(OutboxMessage, message_id)
    try:
        services.retry_message(current_user._get_current_object(), message)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The message will be sent again within a minute."), "success")
    return redirect(url_for("outbox_admin.index"))
