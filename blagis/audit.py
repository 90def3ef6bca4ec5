"""Writing the audit log: every staff and admin action, with before/after."""

from flask_login import current_user

from blagis.extensions import db
from blagis.models import AuditEntry


def record(
    action: str,
    object_type: str,
    object_id=None,
    *,
    actor=None,
    before: dict | None = None,
    after: dict | None = None,
    commune_code: str | None = None,
) -> AuditEntry:
    """Add an audit entry in the current transaction (the caller commits)."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_role=str(actor.role) if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        commune_code=commune_code,
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry
