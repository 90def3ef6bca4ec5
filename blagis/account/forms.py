from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from blagis.auth.forms import PASSWORD_MAX, _new_password_fields


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[
            DataRequired(_l("Enter your password to confirm.")),
            Length(max=PASSWORD_MAX, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ExportForm(FlaskForm):
    """No fields: the CSRF token only."""


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=PASSWORD_MAX, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    # The same rules as at registration (length, common passwords, not the e-mail address).
    password, password_confirm = _new_password_fields()

    def __init__(self, *args, account_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class AccountEditForm(FlaskForm):
    """``/account/edit``: name, commune, language, phone and SMS consent (the e-mail address is
    changed elsewhere: it must be confirmed again)."""

    display_name = StringField(
        _l("Name shown on the site"),
        validators=[
            DataRequired(_l("Enter the name to show.")),
            Length(min=2, max=80, message=_l("Between 2 and 80 characters.")),
        ],
        render_kw={"autocomplete": "nickname"},
    )
    commune = SelectField(_l("Your commune"), validate_choice=True)
    locale = SelectField(
        _l("Language of the messages we send you"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")],
        validate_choice=True,
    )
    phone = TelField(
        _l("Mobile phone"),
        validators=[Optional(), Length(max=40, message=_l("At most 40 characters."))],
        description=_l("Only used for SMS, and only if you tick the box below."),
        render_kw={"autocomplete": "tel"},
    )
    sms_ok = BooleanField(
        _l("Send me SMS instead of e-mail about my registrations"),
        description=_l(
            "Confirmations, waiting list, changes and cancellations, reminders. "
            "Untick to stop at any time."
        ),
    )
