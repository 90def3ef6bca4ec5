from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from blagis.auth.forms import PASSWORD_MAX


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
