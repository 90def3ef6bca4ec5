"""All models, imported here so that Alembic and ``db.create_all`` see every table."""

from blagis.models.audit import AuditEntry
from blagis.models.base import Base, TimestampMixin, UTCDateTime, utcnow
from blagis.models.call import CallReason, CallTask
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
from blagis.models.outbox import Channel, MailCategory, OutboxMessage, OutboxStatus
from blagis.models.territory import Commune, Desk
from blagis.models.user import Role, User, UserSession
from blagis.models.volunteer import (
    DAYPARTS,
    SKILLS,
    WEEKDAYS,
    Attestation,
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
    "CallReason",
    "CallTask",
    "Channel",
    "Base",
    "Commune",
    "Desk",
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
    "UserSession",
    "UTCDateTime",
    "utcnow",
    "DAYPARTS",
    "SKILLS",
    "WEEKDAYS",
    "Attestation",
    "Mission",
    "MissionSignup",
    "SignupState",
    "VolunteerProfile",
    "slot_of",
]
