from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

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
