from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from blagis.models.initiative import ANSWER_MAX, BODY_MAX, REASON_MAX, SUMMARY_MAX, TITLE_MAX
from blagis.text import single_line

TOO_LONG = _l("At most %(max)d characters.")


class InitiativeForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[single_line],
        validators=[
            DataRequired(_l("Give your initiative a title.")),
            Length(max=TITLE_MAX, message=TOO_LONG),
        ],
        description=_l("In a few words, at most 150 characters."),
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[
            DataRequired(_l("Write a short summary.")),
            Length(max=SUMMARY_MAX, message=TOO_LONG),
        ],
        description=_l("One or two sentences shown in the list, at most 300 characters."),
        render_kw={"rows": 3},
    )
    body = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(_l("Describe your initiative.")),
            Length(max=BODY_MAX, message=TOO_LONG),
        ],
        description=_l(
            "What, where, for whom, with whom. Plain text: leave an empty line between "
            "paragraphs; web addresses become links."
        ),
        render_kw={"rows": 12},
    )
    commune = SelectField(
        _l("Commune"),
        validators=[InputRequired(_l("Choose a commune of the quarter."))],
        validate_choice=True,
    )


class ModerateForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("publish", _l("Publish")),
            SelectChoice("request_changes", _l("Ask the author for changes")),
            SelectChoice("reject", _l("Reject")),
            SelectChoice("hide", _l("Hide (already published)")),
        ],
        validators=[InputRequired(_l("Choose a decision."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=REASON_MAX, message=TOO_LONG)],
        description=_l("Required to reject, ask for changes or hide: the author reads it."),
        render_kw={"rows": 4},
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Public status"), validators=[InputRequired(_l("Choose a status."))])
    answer = TextAreaField(
        _l("Official answer"),
        validators=[
            DataRequired(_l("Write the official answer.")),
            Length(max=ANSWER_MAX, message=TOO_LONG),
        ],
        description=_l("Shown publicly with the date and your role (not your name)."),
        render_kw={"rows": 5},
    )


class ObjectivesForm(FlaskForm):
    # Codes are checked by the service, which names the unknown ones.
    objectives = SelectMultipleField(
        _l("Linked contract objectives"),
        validate_choice=False,
    )


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("What is the problem?"),
        validators=[
            DataRequired(_l("Say what is wrong with this initiative.")),
            Length(max=REASON_MAX, message=TOO_LONG),
        ],
        render_kw={"rows": 3},
    )
