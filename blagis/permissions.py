"""Who may do what: every view states its need through these decorators and helpers."""

from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from blagis.models import Role


def role_required(role: Role):
    """Anonymous visitors are sent to log in; accounts below ``role`` get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from blagis.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                forbid(role_reason(role))
            return view(*args, **kwargs)

        wrapped.required_role = Role(role)
        return wrapped

    return decorator


login_required = role_required(Role.RESIDENT)
volunteer_required = role_required(Role.VOLUNTEER)
staff_required = role_required(Role.STAFF)
admin_required = role_required(Role.ADMIN)


def forbid(reason: str | None = None):
    """Answer 403; ``reason`` is what the error page tells the visitor (else a generic text)."""
    if reason:
        abort(403, description=reason)
    abort(403)


def role_reason(role: Role | str) -> str:
    """Why an account below ``role`` is refused, in words."""
    role = Role(role)
    if role == Role.ADMIN:
        return _("This page is reserved for administrators.")
    if role == Role.STAFF:
        return _("This page is reserved for the team (city and partner agents).")
    return _("This page is reserved for volunteers: create your volunteer profile first.")


def scope_reason(commune_code: str | None) -> str | None:
    """Why the current account may not act in ``commune_code``; None if it may."""
    if not (current_user.is_authenticated and current_user.is_staff):
        return role_reason(Role.STAFF)
    if current_user.can_act_in(commune_code):
        return None
    from blagis.templating import commune_name

    mine = commune_name(current_user.scope_commune_code)
    if commune_code is None:
        return _(
            "This page is reserved for the agents of every commune: your account acts for "
            "%(mine)s only.",
            mine=mine,
        )
    return _(
        "This page is reserved for the team of %(commune)s: your account acts for %(mine)s.",
        commune=commune_name(commune_code),
        mine=mine,
    )


def require_commune_scope(commune_code: str | None) -> None:
    """403 unless the current staff member may act in this commune, saying why."""
    reason = scope_reason(commune_code)
    if reason is not None:
        forbid(reason)
