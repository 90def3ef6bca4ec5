from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TelField
from wtforms.validators import DataRequired, Length


class OptOutForm(FlaskForm):
    phone = TelField(
        _l("Phone number"),
        validators=[
            DataRequired(_l("Enter the phone number.")),
            Length(max=40, message=_l("At most 40 characters.")),
        ],
        description=_l("Someone asked us, at the desk or on the phone, to stop sending them SMS."),
    )
