from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional


class DeskForm(FlaskForm):
    commune = SelectField(_l("Commune"), validators=[InputRequired(_l("Choose the commune."))])
    name = StringField(
        _l("Name of the place"),
        validators=[
            DataRequired(_l("Enter the name of the place.")),
            Length(max=160, message=_l("At most 160 characters.")),
        ],
        description=_l("As residents know it, e.g. « Accueil du centre social des Blagis »."),
    )
    address = TextAreaField(
        _l("Address"),
        validators=[
            DataRequired(_l("Enter the address.")),
            Length(max=400, message=_l("At most 400 characters.")),
        ],
        description=_l("One line per line of the address."),
        render_kw={"rows": 3},
    )
    hours = TextAreaField(
        _l("Opening hours"),
        validators=[Optional(), Length(max=600, message=_l("At most 600 characters."))],
        description=_l(
            "One line per day or group of days, e.g. « Lundi au vendredi : 9 h – 12 h »."
        ),
        render_kw={"rows": 4},
    )
    phone = TelField(
        _l("Phone"),
        validators=[Optional(), Length(max=40, message=_l("At most 40 characters."))],
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[
            Optional(),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            Email(
                _l("Enter a valid e-mail address, like name@example.fr."),
                check_deliverability=False,
            ),
        ],
    )
    services = TextAreaField(
        _l("What the desk can do for you"),
        validators=[Optional(), Length(max=4000, message=_l("At most 4000 characters."))],
        description=_l("One service per line."),
        render_kw={"rows": 5},
    )
    position = IntegerField(
        _l("Order on the page"),
        validators=[
            Optional(),
            NumberRange(min=0, max=999, message=_l("A number between 0 and 999.")),
        ],
        description=_l("Smaller numbers come first within the commune."),
    )
