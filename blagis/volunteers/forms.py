from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blagis.events.forms import LocalDateTimeField
from blagis.models import DAYPARTS, SKILLS, WEEKDAYS
from blagis.text import single_line


def skill_labels() -> dict[str, str]:
    return {
        "accueil": _l("Welcoming people"),
        "cuisine": _l("Cooking"),
        "animation": _l("Running activities"),
        "numerique": _l("Digital help"),
        "bricolage": _l("DIY and repairs"),
        "logistique": _l("Setting up, logistics"),
        "traduction": _l("Translation"),
        "communication": _l("Communication, posters"),
    }


def weekday_labels() -> dict[str, str]:
    return dict(
        zip(
            WEEKDAYS,
            (
                _l("Monday"),
                _l("Tuesday"),
                _l("Wednesday"),
                _l("Thursday"),
                _l("Friday"),
                _l("Saturday"),
                _l("Sunday"),
            ),
            strict=True,
        )
    )


def daypart_labels() -> dict[str, str]:
    return dict(zip(DAYPARTS, (_l("Morning"), _l("Afternoon"), _l("Evening")), strict=True))


class ProfileForm(FlaskForm):
    skills = SelectMultipleField(
        _l("What I like to do"),
        choices=[SelectChoice(s) for s in SKILLS],
        validate_choice=False,
    )
    skills_other = StringField(
        _l("Other skills (optional)"),
        filters=[single_line],
        validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))],
    )
    availability = SelectMultipleField(
        _l("When I am usually free"), choices=[], validate_choice=False
    )
    contact_ok = BooleanField(_l("The team may write to me when a mission needs hands"))


class MissionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Enter a title.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=5000, message=_l("At most 5000 characters."))],
    )
    starts_at = LocalDateTimeField(
        _l("Start"), validators=[DataRequired(_l("Enter a date and time like 2026-03-14T18:30."))]
    )
    ends_at = LocalDateTimeField(
        _l("End"), validators=[DataRequired(_l("Enter a date and time like 2026-03-14T18:30."))]
    )
    needed = IntegerField(
        _l("Volunteers needed"),
        validators=[
            InputRequired(_l("Enter a number of volunteers.")),
            NumberRange(min=1, max=500, message=_l("Between 1 and 500 volunteers.")),
        ],
    )
    required_skill = SelectField(
        _l("Skill required (optional)"), choices=[], default="", validate_choice=False
    )
    place = StringField(
        _l("Place"),
        filters=[single_line],
        validators=[Optional(), Length(max=300, message=_l("At most 300 characters."))],
    )
    commune = SelectField(_l("Commune"), choices=[], validate_choice=False)

    def prepare(self, communes) -> None:
        self.required_skill.choices = [SelectChoice("", _l("No particular skill"))] + [
            SelectChoice(k, v) for k, v in skill_labels().items()
        ]
        self.commune.choices = communes

    def data_dict(self) -> dict:
        return {
            "title": self.title.data.strip(),
            "description": (self.description.data or "").strip(),
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "needed": self.needed.data,
            "required_skill": self.required_skill.data or None,
            "place": (self.place.data or "").strip(),
            "commune_code": self.commune.data,
        }


class AttendanceForm(FlaskForm):
    user_id = IntegerField(validators=[InputRequired()])
    present = SelectField(
        choices=[SelectChoice("1"), SelectChoice("0")], validators=[InputRequired()]
    )


class ContactForm(FlaskForm):
    message = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(_l("Write a message.")),
            Length(max=2000, message=_l("At most 2000 characters.")),
        ],
    )
    to = RadioField(
        _l("Send to"),
        choices=[
            SelectChoice("signed", _l("The volunteers signed up for this mission")),
            SelectChoice("all", _l("Every volunteer who agreed to be contacted")),
        ],
        default="signed",
        validators=[InputRequired(_l("Choose who receives the message."))],
    )


class AttestationForm(FlaskForm):
    """Ask for (or, for staff, issue) an attestation; ``year`` choices are set by the view."""

    full_name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter the full name, as on an identity document.")),
            Length(max=160, message=_l("At most 160 characters.")),
        ],
        description=_l("First name and surname as they must appear on the attestation."),
        render_kw={"autocomplete": "name"},
    )
    year = SelectField(_l("Period"), validators=[Optional()], validate_choice=True)
