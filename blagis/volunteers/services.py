"""Rules of volunteering: profiles, missions, sign-ups, attendance and hours.

Places are counted under a lock on the mission row (PostgreSQL ``SELECT … FOR UPDATE``;
SQLite ``BEGIN IMMEDIATE`` through :func:`blagis.dbtuning.begin_write`), exactly like event
seats, so a mission never has more confirmed volunteers than it needs. The volunteer's own
row is locked too, so two simultaneous sign-ups of one person cannot both pass the overlap
check.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from blagis import audit, dbtuning
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import (
    DAYPARTS,
    SKILLS,
    WEEKDAYS,
    Event,
    Mission,
    MissionSignup,
    Role,
    SignupState,
    User,
    VolunteerProfile,
    slot_of,
    utcnow,
)
from blagis.timeutils import PARIS
from blagis.urls import absolute_url

MAX_NEEDED = 500
SLOTS = tuple(f"{d}-{p}" for d in WEEKDAYS for p in DAYPARTS)
MISSION_FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "needed",
    "required_skill",
    "commune_code",
    "place",
)


# --- profiles ----------------------------------------------------------------------------------


def get_profile(user_id: int) -> VolunteerProfile | None:
    return db.session.scalar(select(VolunteerProfile).where(VolunteerProfile.user_id == user_id))


def save_profile(
    user: User, *, skills, skills_other: str, availability, contact_ok: bool
) -> VolunteerProfile:
    """Opt in or update; a resident becomes a volunteer (staff keep their role)."""
    skills = sorted(set(skills or []))
    chosen = set(availability or [])
    if any(s not in SKILLS for s in skills):
        raise DomainError(_("Choose skills from the list."), field="skills")
    if chosen - set(SLOTS):
        raise DomainError(_("Choose times from the grid."), field="availability")
    availability = [s for s in SLOTS if s in chosen]
    skills_other = (skills_other or "").strip()
    if len(skills_other) > 200:
        raise DomainError(_("At most 200 characters."), field="skills_other")
    profile = get_profile(user.id)
    if profile is None:
        profile = VolunteerProfile(user_id=user.id)
        db.session.add(profile)
    profile.skills = skills
    profile.skills_other = skills_other
    profile.availability = availability
    profile.contact_ok = bool(contact_ok)
    if user.role == Role.RESIDENT:
        user.role = Role.VOLUNTEER
    db.session.flush()
    return profile


def remove_profile(user: User) -> int:
    """Opt out: the profile goes, future missions are given back, a volunteer is a resident
    again. Returns how many missions were withdrawn."""
    profile = get_profile(user.id)
    if profile is None:
        raise DomainError(_("You have no volunteer profile."))
    withdrawn = 0
    for signup in _future_signups(user.id):
        mission = lock_mission(signup.mission_id)
        signup = _signup_of(mission.id, user.id)
        if signup is not None and signup.state == SignupState.CONFIRMED:
            signup.state = SignupState.WITHDRAWN
            signup.withdrawn_at = utcnow()
            withdrawn += 1
    db.session.delete(profile)
    if user.role == Role.VOLUNTEER:
        user.role = Role.RESIDENT
    db.session.flush()
    return withdrawn


def _future_signups(user_id: int) -> list[MissionSignup]:
    return list(
        db.session.scalars(
            select(MissionSignup)
            .join(Mission, Mission.id == MissionSignup.mission_id)
            .where(
                MissionSignup.user_id == user_id,
                MissionSignup.state == SignupState.CONFIRMED,
                Mission.starts_at > utcnow(),
            )
        )
    )


def suggested(profile: VolunteerProfile | None, mission: Mission) -> bool:
    """The mission fits the profile: the skill it asks for, at a time the person is free."""
    if profile is None:
        return False
    if mission.required_skill and mission.required_skill not in profile.skills:
        return False
    return slot_of(mission.starts_at) in set(profile.availability)


# --- reading missions --------------------------------------------------------------------------


class FilledMap(dict):
    def __missing__(self, key) -> int:
        return 0


def filled_for(mission_ids) -> FilledMap:
    """Confirmed volunteers of many missions, in one query."""
    ids = list(mission_ids)
    if not ids:
        return FilledMap()
    rows = db.session.execute(
        select(MissionSignup.mission_id, func.count(MissionSignup.id))
        .where(MissionSignup.mission_id.in_(ids), MissionSignup.state == SignupState.CONFIRMED)
        .group_by(MissionSignup.mission_id)
    )
    return FilledMap({mission_id: int(n) for mission_id, n in rows})


def _confirmed_count():
    return (
        select(func.count(MissionSignup.id))
        .where(
            MissionSignup.mission_id == Mission.id,
            MissionSignup.state == SignupState.CONFIRMED,
        )
        .correlate(Mission)
        .scalar_subquery()
    )


def open_missions_query(*, skill: str | None = None, commune: str | None = None, now=None):
    """Upcoming missions that still need people, soonest first."""
    now = now or utcnow()
    query = (
        select(Mission)
        .options(selectinload(Mission.event))
        .where(
            Mission.cancelled.is_(False),
            Mission.starts_at > now,
            _confirmed_count() < Mission.needed,
        )
        .order_by(Mission.starts_at, Mission.id)
    )
    if skill:
        query = query.where(Mission.required_skill == skill)
    if commune:
        query = query.where(Mission.commune_code == commune)
    return query


def get_mission(mission_id: int) -> Mission | None:
    return db.session.scalar(
        select(Mission).where(Mission.id == mission_id).options(selectinload(Mission.event))
    )


def missions_of_events(event_ids) -> dict[int, list[Mission]]:
    """Missions (cancelled ones included) of many events, by event id, in order."""
    ids = list(event_ids)
    out: dict[int, list[Mission]] = defaultdict(list)
    if not ids:
        return out
    for mission in db.session.scalars(
        select(Mission).where(Mission.event_id.in_(ids)).order_by(Mission.starts_at, Mission.id)
    ):
        out[mission.event_id].append(mission)
    return out


def signups_of(mission_id: int) -> list[MissionSignup]:
    """Every sign-up of a mission for staff, confirmed first, in order of arrival."""
    rows = db.session.scalars(
        select(MissionSignup)
        .where(MissionSignup.mission_id == mission_id)
        .options(selectinload(MissionSignup.user))
        .order_by(MissionSignup.created_at, MissionSignup.id)
    ).all()
    return sorted(rows, key=lambda s: s.state != SignupState.CONFIRMED)


def my_signups(user_id: int, mission_ids) -> dict[int, MissionSignup]:
    ids = list(mission_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(MissionSignup).where(
            MissionSignup.user_id == user_id,
            MissionSignup.mission_id.in_(ids),
            MissionSignup.state == SignupState.CONFIRMED,
        )
    )
    return {s.mission_id: s for s in rows}


def _signup_of(mission_id: int, user_id: int) -> MissionSignup | None:
    return db.session.scalar(
        select(MissionSignup)
        .where(MissionSignup.mission_id == mission_id, MissionSignup.user_id == user_id)
        .execution_options(populate_existing=True)
    )


# --- the lock ----------------------------------------------------------------------------------


def lock_mission(mission_id: int) -> Mission:
    """Load the mission for a transaction that counts its places, holding the lock."""
    mission = dbtuning.lock_row(db.session, Mission, mission_id, selectinload(Mission.event))
    if mission is None:
        raise DomainError(_("This mission does not exist."))
    return mission


def _lock_user(user_id: int) -> None:
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


# --- signing up --------------------------------------------------------------------------------


def mission_url(mission: Mission) -> str:
    return absolute_url("missions.detail", mission_id=mission.id)


def _mail(user: User, mission: Mission, template: str, *, key=None, category="essential", **extra):
    return queue_mail(
        user.email,
        template,
        locale=user.locale or "fr",
        context={
            "mission": mission,
            "name": user.display_name,
            "url": mission_url(mission),
            **extra,
        },
        dedup_key=key,
        category=category,
        user=user,
    )


@dataclass
class SignupResult:
    signup: MissionSignup
    created: bool


def _clash(user_id: int, mission: Mission) -> Mission | None:
    """Another mission (not cancelled) the person is confirmed for that overlaps this one in
    time (back to back is fine), or None; the caller holds the person's row lock."""
    return db.session.scalar(
        select(Mission)
        .join(MissionSignup, MissionSignup.mission_id == Mission.id)
        .where(
            MissionSignup.user_id == user_id,
            MissionSignup.state == SignupState.CONFIRMED,
            Mission.cancelled.is_(False),
            Mission.id != mission.id,
            Mission.starts_at < mission.ends_at,
            Mission.ends_at > mission.starts_at,
        )
        .order_by(Mission.starts_at, Mission.id)
        .limit(1)
    )


def signup(user: User, mission_id: int) -> SignupResult:
    """A volunteer takes a place; a second request for the same mission changes nothing."""
    profile = get_profile(user.id)
    if profile is None:
        raise DomainError(
            _("Create your volunteer profile first: it takes a minute."), field="profile"
        )
    mission = lock_mission(mission_id)
    _lock_user(user.id)
    existing = _signup_of(mission.id, user.id)
    if existing is not None and existing.state == SignupState.CONFIRMED:
        return SignupResult(existing, created=False)
    if mission.cancelled:
        raise DomainError(_("This mission is cancelled."))
    now = utcnow()
    if now >= mission.starts_at:
        raise DomainError(_("This mission has already started: sign-up is closed."))
    if mission.required_skill and mission.required_skill not in profile.skills:
        raise DomainError(
            _("This mission asks for a skill that is not on your profile."), field="profile"
        )
    clash = _clash(user.id, mission)
    if clash is not None:
        when = clash.starts_at.astimezone(PARIS).strftime("%d/%m %H:%M")
        raise DomainError(
            _(
                "You are already signed up for « %(title)s » (%(when)s) at the same time: "
                "withdraw from it first, or choose another mission.",
                title=clash.title,
                when=when,
            )
        )
    if filled_for([mission.id])[mission.id] >= mission.needed:
        raise DomainError(_("This mission is complete: thank you, enough volunteers signed up."))
    if existing is None:
        existing = MissionSignup(mission_id=mission.id, user_id=user.id, created_at=now)
        db.session.add(existing)
    existing.state = SignupState.CONFIRMED
    existing.withdrawn_at = None
    existing.attended = None
    db.session.flush()
    _mail(
        user, mission, "mission_confirmed", key=f"mission-confirmed:{existing.id}:{now.timestamp()}"
    )
    return SignupResult(existing, created=True)


def withdraw(user: User, mission_id: int) -> MissionSignup:
    """The volunteer gives the place back, until the mission starts."""
    mission = lock_mission(mission_id)
    existing = _signup_of(mission.id, user.id)
    if existing is None or existing.state != SignupState.CONFIRMED:
        raise DomainError(_("You are not signed up for this mission."))
    if utcnow() >= mission.starts_at:
        raise DomainError(_("The mission has started: you can no longer withdraw."))
    existing.state = SignupState.WITHDRAWN
    existing.withdrawn_at = utcnow()
    db.session.flush()
    return existing


# --- staff: missions ---------------------------------------------------------------------------


def snapshot(mission: Mission) -> dict:
    out = {}
    for name in MISSION_FIELDS + ("event_id", "cancelled"):
        value = getattr(mission, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _check(data: dict) -> None:
    if data["ends_at"] <= data["starts_at"]:
        raise DomainError(_("The end must come after the start."), field="ends_at")
    if data["ends_at"] - data["starts_at"] > timedelta(hours=24):
        raise DomainError(_("A mission lasts at most 24 hours."), field="ends_at")
    if not 1 <= data["needed"] <= MAX_NEEDED:
        raise DomainError(_("Between 1 and %(max)d volunteers.", max=MAX_NEEDED), field="needed")
    if data.get("required_skill") and data["required_skill"] not in SKILLS:
        raise DomainError(_("Choose skills from the list."), field="required_skill")


def create_mission(actor: User, data: dict, event: Event | None = None) -> Mission:
    """Staff add a mission to an event (same commune) or a standalone one."""
    data = dict(data)
    data["required_skill"] = data.get("required_skill") or None
    if event is not None:
        data["commune_code"] = event.commune_code
        data["place"] = data.get("place") or event.place
    _check(data)
    values = {name: data.get(name) for name in MISSION_FIELDS}
    values["description"] = values["description"] or ""
    values["place"] = values["place"] or ""
    mission = Mission(
        event_id=event.id if event is not None else None, created_by_id=actor.id, **values
    )
    db.session.add(mission)
    db.session.flush()
    audit.record(
        "mission.create",
        "mission",
        mission.id,
        actor=actor,
        after=snapshot(mission),
        commune_code=mission.commune_code,
    )
    return mission


def update_mission(actor: User, mission_id: int, data: dict) -> Mission:
    """Staff edit a mission; it cannot need fewer people than already signed up. A new time
    is told to its volunteers, and re-checked against their other missions
    (:func:`_after_move`)."""
    mission = lock_mission(mission_id)
    data = dict(data)
    data["required_skill"] = data.get("required_skill") or None
    if mission.event_id is not None:
        data["commune_code"] = mission.commune_code
    _check(data)
    filled = filled_for([mission.id])[mission.id]
    if data["needed"] < filled:
        raise DomainError(
            _("%(n)d volunteers are already signed up: ask for at least as many.", n=filled),
            field="needed",
        )
    before = snapshot(mission)
    for name in MISSION_FIELDS:
        value = data.get(name)
        setattr(mission, name, value if value is not None or name == "required_skill" else "")
    db.session.flush()
    after = snapshot(mission)
    audit.record(
        "mission.update",
        "mission",
        mission.id,
        actor=actor,
        before=before,
        after=after,
        commune_code=mission.commune_code,
    )
    if not mission.cancelled and any(before[k] != after[k] for k in ("starts_at", "ends_at")):
        _after_move(actor, [mission])
    return mission


# --- following the event -----------------------------------------------------------------------


def _event_missions(event_id: int) -> list[Mission]:
    """The event's missions still on, locked (in id order, before any user row: the order
    :func:`signup` takes its locks in, mission then user, so the two cannot deadlock)."""
    ids = db.session.scalars(
        select(Mission.id)
        .where(Mission.event_id == event_id, Mission.cancelled.is_(False))
        .order_by(Mission.id)
    ).all()
    return [lock_mission(mission_id) for mission_id in ids]


def cancel_event_missions(actor: User, event: Event) -> list[Mission]:
    """The event is cancelled: so are its missions, and their volunteers are told (in their
    language, through the outbox), as when staff cancel a mission."""
    return [cancel_mission(actor, mission.id) for mission in _event_missions(event.id)]


def move_event_missions(actor: User, event: Event, shift: timedelta) -> list[Mission]:
    """The event moved by ``shift``: its missions move by the same shift, and their volunteers
    are told and re-checked (:func:`_after_move`)."""
    if not shift:
        return []
    missions = _event_missions(event.id)
    for mission in missions:
        before = snapshot(mission)
        mission.starts_at += shift
        mission.ends_at += shift
        db.session.flush()
        audit.record(
            "mission.update",
            "mission",
            mission.id,
            actor=actor,
            before=before,
            after=snapshot(mission),
            commune_code=mission.commune_code,
        )
    _after_move(actor, missions)
    return missions


def _after_move(actor: User, missions: list[Mission]) -> None:
    """Tell each confirmed volunteer of these (moved, locked) missions the new time.

    A volunteer whose moved mission now overlaps another mission of theirs is withdrawn from
    the moved one (the other is the one they chose for that time; nobody ever holds two
    overlapping missions, the rule of :func:`signup`) and the mail says so, with the clash,
    so they can choose: withdraw from the other and sign up again. Decision in
    docs/volunteers.md.
    """
    now = utcnow()
    for mission in missions:
        signups = [s for s in signups_of(mission.id) if s.state == SignupState.CONFIRMED and s.user]
        for user_id in sorted(s.user_id for s in signups):
            _lock_user(user_id)
        for row in signups:
            clash = _clash(row.user_id, mission)
            if clash is not None:
                row.state = SignupState.WITHDRAWN
                row.withdrawn_at = now
                db.session.flush()
                audit.record(
                    "mission.withdraw_on_move",
                    "mission_signup",
                    row.id,
                    actor=actor,
                    before={"state": "confirmed"},
                    after={"state": "withdrawn", "clash_mission_id": clash.id},
                    commune_code=mission.commune_code,
                )
            _mail(
                row.user,
                mission,
                "mission_moved",
                key=f"mission-moved:{row.id}:{mission.starts_at.isoformat()}",
                withdrawn=clash is not None,
                clash=clash,
            )


def cancel_mission(actor: User, mission_id: int) -> Mission:
    """Staff cancel a mission; its volunteers are told."""
    mission = lock_mission(mission_id)
    if mission.cancelled:
        raise DomainError(_("This mission is already cancelled."))
    mission.cancelled = True
    db.session.flush()
    audit.record(
        "mission.cancel",
        "mission",
        mission.id,
        actor=actor,
        before={"cancelled": False},
        after={"cancelled": True},
        commune_code=mission.commune_code,
    )
    for s in signups_of(mission.id):
        if s.state == SignupState.CONFIRMED and s.user is not None:
            _mail(s.user, mission, "mission_cancelled", key=f"mission-cancelled:{s.id}")
    return mission


def set_attendance(actor: User, mission: Mission, user_id: int, present: bool) -> MissionSignup:
    """Staff confirm who served (or not), once the mission has started."""
    if utcnow() < mission.starts_at:
        raise DomainError(_("Attendance is taken once the mission has started."))
    signup_row = _signup_of(mission.id, user_id)
    if signup_row is None or signup_row.state != SignupState.CONFIRMED:
        raise DomainError(_("This person is not signed up for this mission."), field="user_id")
    before = {"attended": signup_row.attended}
    signup_row.attended = present
    db.session.flush()
    audit.record(
        "mission.attendance",
        "mission_signup",
        signup_row.id,
        actor=actor,
        before=before,
        after={"attended": present, "mission_id": mission.id, "user_id": user_id},
        commune_code=mission.commune_code,
    )
    return signup_row


def contact(actor: User, mission: Mission, message: str, *, everyone: bool) -> int:
    """Write to the mission's volunteers, or (``everyone``) to every volunteer, only those who
    agreed to be contacted; goes through the outbox as ``mission_call`` mail.

    Staff limited to one commune act only on its missions, and their ``everyone`` is the
    volunteers who live in it: they never write to another commune's volunteers.
    """
    if not actor.can_act_in(mission.commune_code):
        raise PermissionError("mission outside the staff member's commune")
    message = (message or "").strip()
    if not message:
        raise DomainError(_("Write a message."), field="message")
    if len(message) > 2000:
        raise DomainError(_("At most 2000 characters."), field="message")
    query = (
        select(User)
        .join(VolunteerProfile, VolunteerProfile.user_id == User.id)
        .where(VolunteerProfile.contact_ok.is_(True))
        .order_by(User.id)
    )
    if not everyone:
        query = query.join(MissionSignup, MissionSignup.user_id == User.id).where(
            MissionSignup.mission_id == mission.id,
            MissionSignup.state == SignupState.CONFIRMED,
        )
    elif actor.scope_commune_code is not None and not actor.is_admin:
        query = query.where(User.commune_code == actor.scope_commune_code)
    sent = 0
    now = utcnow()
    for user in db.session.scalars(query):
        queued = _mail(
            user,
            mission,
            "mission_call",
            key=f"mission-call:{mission.id}:{user.id}:{now.timestamp()}",
            category="mission_call",
            message=message,
            sender=actor.display_name,
        )
        sent += queued is not None
    audit.record(
        "mission.contact",
        "mission",
        mission.id,
        actor=actor,
        after={"recipients": sent, "everyone": everyone},
        commune_code=mission.commune_code,
    )
    return sent


def coverage(actor: User, *, weeks: int = 4, now=None) -> list[tuple[Mission, int]]:
    """The next weeks' missions in the staff member's scope with their confirmed count."""
    now = now or utcnow()
    query = (
        select(Mission)
        .options(selectinload(Mission.event))
        .where(
            Mission.cancelled.is_(False),
            Mission.ends_at > now,
            Mission.starts_at < now + timedelta(weeks=weeks),
        )
        .order_by(Mission.starts_at, Mission.id)
    )
    if actor.scope_commune_code and not actor.is_admin:
        query = query.where(Mission.commune_code == actor.scope_commune_code)
    missions = db.session.scalars(query.limit(500)).all()
    filled = filled_for(m.id for m in missions)
    return [(m, filled[m.id]) for m in missions]


# --- hours -------------------------------------------------------------------------------------


def attended_missions(user_id: int) -> list[Mission]:
    """Missions the person served (attendance confirmed by staff), oldest first."""
    return list(
        db.session.scalars(
            select(Mission)
            .join(MissionSignup, MissionSignup.mission_id == Mission.id)
            .where(
                MissionSignup.user_id == user_id,
                MissionSignup.state == SignupState.CONFIRMED,
                MissionSignup.attended.is_(True),
                Mission.cancelled.is_(False),
            )
            .order_by(Mission.starts_at)
        )
    )


def hours_by_year(user_id: int) -> dict[int, float]:
    """Hours served per (Paris) calendar year: the duration of each attended mission."""
    out: dict[int, float] = defaultdict(float)
    for mission in attended_missions(user_id):
        out[mission.starts_at.astimezone(PARIS).year] += mission.hours
    return dict(sorted(out.items()))


def hours_between(start: datetime, end: datetime, event_ids=None) -> float:
    """Volunteer hours served in [start, end), optionally on missions of some events only
    (for the indicators of the objectives those events are linked to)."""
    query = (
        select(Mission.starts_at, Mission.ends_at)
        .join(MissionSignup, MissionSignup.mission_id == Mission.id)
        .where(
            MissionSignup.state == SignupState.CONFIRMED,
            MissionSignup.attended.is_(True),
            Mission.cancelled.is_(False),
            Mission.starts_at >= start,
            Mission.starts_at < end,
        )
    )
    if event_ids is not None:
        query = query.where(Mission.event_id.in_(list(event_ids)))
    return sum((e - s).total_seconds() / 3600 for s, e in db.session.execute(query))


# --- reminders ---------------------------------------------------------------------------------


def send_mission_reminders(now: datetime | None = None, hours: int = 48) -> int:
    """One reminder per confirmed volunteer of the missions starting in the next ``hours``."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(MissionSignup)
        .join(Mission, Mission.id == MissionSignup.mission_id)
        .where(
            Mission.starts_at > now,
            Mission.starts_at <= now + timedelta(hours=hours),
            Mission.cancelled.is_(False),
            MissionSignup.state == SignupState.CONFIRMED,
            MissionSignup.user_id.is_not(None),
        )
        .options(selectinload(MissionSignup.user), selectinload(MissionSignup.mission))
        .order_by(MissionSignup.id)
    )
    queued = 0
    for s in rows:
        message = _mail(
            s.user,
            s.mission,
            "mission_reminder",
            key=f"mission-reminder:{s.id}:{s.mission.starts_at.isoformat()}",
            category="reminder",
        )
        queued += message is not None
    return queued


# --- personal data -----------------------------------------------------------------------------


def export_volunteering(user: User) -> dict:
    profile = get_profile(user.id)
    rows = db.session.scalars(
        select(MissionSignup)
        .where(MissionSignup.user_id == user.id)
        .options(selectinload(MissionSignup.mission))
        .order_by(MissionSignup.id)
    )
    return {
        "profile": None
        if profile is None
        else {
            "skills": profile.skills,
            "skills_other": profile.skills_other,
            "availability": profile.availability,
            "contact_ok": profile.contact_ok,
        },
        "missions": [
            {
                "mission": s.mission.title,
                "starts_at": s.mission.starts_at.isoformat(),
                "ends_at": s.mission.ends_at.isoformat(),
                "state": s.state.value,
                "attended": s.attended,
            }
            for s in rows
        ],
    }


def erase_volunteering(user: User) -> None:
    """Account deletion: profile gone, future places given back, past rows kept anonymous."""
    for s in _future_signups(user.id):
        s.state = SignupState.WITHDRAWN
        s.withdrawn_at = utcnow()
    db.session.flush()
    db.session.execute(delete(VolunteerProfile).where(VolunteerProfile.user_id == user.id))
    db.session.execute(
        update(MissionSignup).where(MissionSignup.user_id == user.id).values(user_id=None)
    )
    db.session.execute(
        update(Mission).where(Mission.created_by_id == user.id).values(created_by_id=None)
    )
