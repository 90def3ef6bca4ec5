from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class NotificationsForm(FlaskForm):
    """Non-essential mail the person wants; essential mail (account, registrations) always goes."""

    notify_reminders = BooleanField(
        _l("Event reminders"),
        description=_l("An e-mail the day before an event you signed up for."),
    )
    notify_missions = BooleanField(
        _l("Volunteer missions"),
        description=_l("Calls for volunteers and reminders of the missions you signed up for."),
    )
