from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from blagis.indicators.services import INDICATORS, MAX_YEAR, MIN_YEAR


class TargetForm(FlaskForm):
    """A target for one indicator of one node and year; an empty value removes it."""

    node = SelectField(_l("Objective"), validators=[DataRequired()], choices=[])
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(),
            NumberRange(MIN_YEAR, MAX_YEAR, message=_l("Give a year between 2000 and 2100.")),
        ],
    )
    indicator = SelectField(
        _l("Indicator"),
        validators=[DataRequired()],
        choices=[SelectChoice(k, v) for k, v in INDICATORS.items()],
    )
    value = IntegerField(
        _l("Target"),
        description=_l("A whole number; leave it empty to remove the target."),
        validators=[
            Optional(),
            NumberRange(0, 1_000_000, message=_l("Give a whole number between 0 and 1,000,000.")),
        ],
    )
    commune = SelectField(_l("Commune"), choices=[], validators=[Optional()])
