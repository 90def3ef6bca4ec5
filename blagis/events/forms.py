from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from blagis.models import EventKind
from blagis.text import single_line
from blagis.timeutils import format_local, parse_local
from blagis.urls import is_http_url


def kind_labels() -> dict[str, str]:
    return {
        EventKind.CAFE_BENEVOLES: _l("Volunteers' café"),
        EventKind.CAFE_NUMERIQUE: _l("Digital café"),
        EventKind.ATELIER: _l("Workshop"),
        EventKind.REPAIR_CAFE: _l("Repair café"),
        EventKind.RENCONTRE: _l("Meeting"),
        EventKind.SORTIE: _l("Outing"),
        EventKind.AUTRE: _l("Other"),
    }


class LocalDateTimeField(StringField):
    """``YYYY-MM-DDTHH:MM`` typed in Paris time; ``data`` is an aware UTC datetime or None."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {})["type"] = "datetime-local"
        super().__init__(*args, **kwargs)
        self.parse_error = False

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.parse_error = False
        if not self.raw:
            self.data = None
            return
        try:
            self.data = parse_local(self.raw)
        except (ValueError, OverflowError):
            self.data = None
            self.parse_error = True

    def pre_validate(self, form):
        if self.parse_error:
            self.errors.append(_l("Enter a date and time like 2026-03-14T18:30."))
            raise ValidationError()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_local(self.data) if self.data else ""


class EventForm(FlaskForm):
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
        validators=[Optional(), Length(max=10000, message=_l("At most 10,000 characters."))],
    )
    kind = SelectField(_l("Kind of activity"), validators=[InputRequired()])
    starts_at = LocalDateTimeField(
        _l("Start"),
        validators=[InputRequired(_l("Enter the start."))],
        description=_l("Paris time."),
    )
    ends_at = LocalDateTimeField(_l("End"), validators=[InputRequired(_l("Enter the end."))])
    place = StringField(
        _l("Place"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Enter the place.")),
            Length(max=300, message=_l("At most 300 characters.")),
        ],
        description=_l("Name of the place and address."),
    )
    commune = SelectField(_l("Commune"), validators=[InputRequired()])
    partner_id = SelectField(_l("Organiser"), coerce=str, validators=[Optional()])
    capacity = IntegerField(
        _l("Capacity (seats)"),
        validators=[Optional(), NumberRange(min=1, max=100000, message=_l("At least 1 seat."))],
        description=_l("Leave empty for no limit."),
    )
    max_seats = IntegerField(
        _l("Seats per registration"),
        default=1,
        validators=[
            InputRequired(_l("Enter a number between 1 and 10.")),
            NumberRange(min=1, max=10, message=_l("Enter a number between 1 and 10.")),
        ],
        description=_l("1 for most activities; up to 4 for family workshops."),
    )
    registration_opens_at = LocalDateTimeField(
        _l("Registration opens"), validators=[Optional()], description=_l("Empty: open now.")
    )
    registration_closes_at = LocalDateTimeField(
        _l("Registration closes"),
        validators=[Optional()],
        description=_l("Empty: until the start."),
    )
    objectives = SelectMultipleField(_l("Contract objectives"), validators=[Optional()])
    repeat = SelectField(
        _l("Repeat"),
        choices=[
            SelectChoice("", _l("Only once")),
            SelectChoice("weekly", _l("Every week")),
            SelectChoice("monthly", _l("Every month")),
        ],
        default="",
        validators=[Optional()],
    )
    repeat_until = DateField(
        _l("Repeat until"),
        validators=[Optional()],
        description=_l("Last date of the series (each date becomes its own event)."),
    )

    def validate_repeat_until(self, field):
        if self.repeat.data and not field.data:
            raise ValidationError(_l("Give the last date of the series."))

    def to_data(self) -> dict:
        partner = self.partner_id.data
        return {
            "title": self.title.data.strip(),
            "description": (self.description.data or "").strip(),
            "kind": self.kind.data,
            "starts_at": self.starts_at.data,
            "ends_at": self.ends_at.data,
            "place": self.place.data.strip(),
            "commune_code": self.commune.data,
            "partner_id": int(partner) if partner and partner.isdigit() else None,
            "capacity": self.capacity.data,
            "max_seats": self.max_seats.data,
            "registration_opens_at": self.registration_opens_at.data,
            "registration_closes_at": self.registration_closes_at.data,
        }


class EditEventForm(EventForm):
    cancelled = BooleanField(
        _l("Cancel this event"),
        description=_l("Registrations are kept and every registered person gets an e-mail."),
    )
    apply_to = RadioField(
        _l("Apply the changes to"),
        choices=[
            SelectChoice("one", _l("This date only")),
            SelectChoice("series", _l("This date and the next dates of the series")),
        ],
        default="one",
        validators=[Optional()],
    )


class RegisterForm(FlaskForm):
    seats = IntegerField(
        _l("Number of seats"),
        default=1,
        validators=[InputRequired(_l("Choose a number of seats."))],
    )


class StaffRegistrationForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Enter the person's name.")),
            Length(max=120, message=_l("At most 120 characters.")),
        ],
    )
    phone = TelField(
        _l("Phone"),
        filters=[single_line],
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
        description=_l("If given, the person receives the confirmation and reminders (in French)."),
    )
    sms_ok = BooleanField(
        _l("The person agrees to receive SMS about this registration"),
        description=_l(
            "Ask first. Needs a mobile number; the SMS replace e-mail. Without e-mail or SMS, "
            "staff will phone if the registration changes."
        ),
    )
    seats = IntegerField(
        _l("Number of seats"),
        default=1,
        validators=[
            InputRequired(_l("Enter a number between 1 and 10.")),
            NumberRange(min=1, max=10, message=_l("Enter a number between 1 and 10.")),
        ],
    )

    def validate_phone(self, field):
        if not (field.data or "").strip() and not (self.email.data or "").strip():
            raise ValidationError(_l("Enter a phone number or an e-mail address."))


class AttendanceForm(FlaskForm):
    present = SelectField(
        choices=[SelectChoice("1"), SelectChoice("0")], validators=[InputRequired()]
    )


class DropInForm(FlaskForm):
    drop_in_count = IntegerField(
        _l("People who came without registering"),
        validators=[
            Optional(),
            NumberRange(min=0, max=100000, message=_l("Enter a number, 0 or more.")),
        ],
    )


def http_url(form, field):
    """Only web addresses: a ``javascript:`` or ``data:`` link must never reach a page."""
    if field.data and not is_http_url(field.data):
        raise ValidationError(_l("Enter a web address starting with https:// or http://."))


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Organisation name"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Enter the organisation's name.")),
            Length(max=160, message=_l("At most 160 characters.")),
        ],
    )
    website = URLField(
        _l("Website"),
        validators=[Optional(), Length(max=300, message=_l("At most 300 characters.")), http_url],
    )
