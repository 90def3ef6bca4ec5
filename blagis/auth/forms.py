from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from blagis.auth.passwords import password_problem
from blagis.text import single_line

PASSWORD_MIN = 10
PASSWORD_MAX = 128


class NotCommonPassword:
    """Refuses a password from the shipped common list, or equal to the form's ``email``."""

    def __call__(self, form, field):
        email_field = getattr(form, "email", None)
        email = getattr(form, "account_email", None) or (email_field.data if email_field else None)
        problem = password_problem(field.data or "", email if isinstance(email, str) else None)
        if problem:
            raise ValidationError(problem)


def _email_field():
    return EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            Email(
                _l("Enter a valid e-mail address, like name@example.fr."),
                check_deliverability=False,
            ),
        ],
        render_kw={"autocomplete": "email"},
    )


def _new_password_fields():
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=_l("The password must have between %(min)d and %(max)d characters."),
            ),
            NotCommonPassword(),
        ],
        description=_l("At least 10 characters. A short sentence is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are different.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = _email_field()
    display_name = StringField(
        _l("Name shown on the site"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Enter the name to show.")),
            Length(min=2, max=80, message=_l("Between 2 and 80 characters.")),
        ],
        description=_l("Your first name or a nickname: it is shown next to your proposals."),
        render_kw={"autocomplete": "nickname"},
    )
    password, password_confirm = _new_password_fields()
    commune = SelectField(
        _l("Your commune"),
        validators=[InputRequired(_l("Choose your commune."))],
        validate_choice=True,
    )
    accept_terms = BooleanField(
        _l("I accept the terms of use and the privacy policy"),
        validators=[DataRequired(_l("You must accept the terms to create an account."))],
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=PASSWORD_MAX, message=_l("This password is too long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password, password_confirm = _new_password_fields()

    def __init__(self, *args, account_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email
