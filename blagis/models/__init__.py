"""All models, imported here so that Alembic and ``db.create_all`` see every table."""

from blagis.models.audit import AuditEntry
from blagis.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from blagis.models.event import (
    ACTIVE_STATES,
    Event,
    EventKind,
    EventSeries,
    Partner,
    Registration,
    RegistrationState,
    SeriesFrequency,
    event_objectives,
)
from blagis.models.generation import ContentGeneration
from blagis.models.indicator import FigureValue, FigureYear, Target
from blagis.models.initiative import (
    Initiative,
    InitiativeObjective,
    InitiativeReport,
    InitiativeStatusChange,
    InitiativeSupport,
    ModerationState,
    PublicStatus,
)
from blagis.models.objective import NodeLevel, ObjectiveNode
from blagis.models.outbox import MailCategory, OutboxMessage, OutboxStatus
from blagis.models.territory import Commune
from blagis.models.user import Role, User
from blagis.models.volunteer import (
    DAYPARTS,
    SKILLS,
    WEEKDAYS,
    Mission,
    MissionSignup,
    SignupState,
    VolunteerProfile,
    slot_of,
)

__all__ = [
    "ACTIVE_STATES",
    "Event",
    "EventKind",
    "EventSeries",
    "FigureValue",
    "FigureYear",
    "Partner",
    "Registration",
    "RegistrationState",
    "SeriesFrequency",
    "event_objectives",
    "AuditEntry",
    "Base",
    "Commune",
    "ContentGeneration",
    "MailCategory",
    "Initiative",
    "InitiativeObjective",
    "InitiativeReport",
    "InitiativeStatusChange",
    "InitiativeSupport",
    "ModerationState",
    "NodeLevel",
    "ObjectiveNode",
    "OutboxMessage",
    "OutboxStatus",
    "PublicStatus",
    "Role",
    "Target",
    "TimestampMixin",
    "User",
    "UTCDateTime",
    "utcnow",
    "DAYPARTS",
    "SKILLS",
    "WEEKDAYS",
    "Mission",
    "MissionSignup",
    "SignupState",
    "VolunteerProfile",
    "slot_of",
]
