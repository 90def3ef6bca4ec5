"""Who may do what: every view states its need through these decorators and helpers."""

from functools import wraps

from flask import abort
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
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = Role(role)
        return wrapped

    return decorator


login_required = role_required(Role.RESIDENT)
volunteer_required = role_required(Role.VOLUNTEER)
staff_required = role_required(Role.STAFF)
admin_required = role_required(Role.ADMIN)


def require_commune_scope(commune_code: str | None) -> None:
    """403 unless the current staff member may act in this commune."""
    if not (current_user.is_authenticated and current_user.can_act_in(commune_code)):
        abort(403)
