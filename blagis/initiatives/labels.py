"""Words for states and statuses, lazy so that e-mails render them in the recipient's language."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "new": _l("New"),
    "under_study": _l("Under study"),
    "accepted": _l("Accepted"),
    "not_retained": _l("Not retained"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
}

STATE_LABELS = {
    "pending": _l("Awaiting moderation"),
    "published": _l("Published"),
    "rejected": _l("Rejected"),
    "changes_requested": _l("Changes requested"),
    "hidden": _l("Hidden by moderators"),
}

SORT_LABELS = {
    "newest": _l("Newest"),
    "supported": _l("Most supported"),
    "answered": _l("Recently answered"),
}
