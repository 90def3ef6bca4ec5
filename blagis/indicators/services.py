"""Indicators per objective node, computed with a fixed number of aggregate queries.

Every link (event -> objective, initiative -> objective) is mapped to each *ancestor code* of
the linked node (codes are hierarchical: "1", "1.4", "1.4.2"), the (ancestor, thing) pairs
are made DISTINCT, then grouped by ancestor: an event linked to two objectives of the same
axis counts once for the axis. Years are Paris calendar years (``timeutils.year_bounds``); a
CASE on the year boundaries buckets rows by year, so several years cost no more queries.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import (
    Event,
    Initiative,
    InitiativeObjective,
    InitiativeStatusChange,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    Registration,
    RegistrationState,
    Target,
    event_objectives,
    utcnow,
)
from blagis.pagecache import memoize
from blagis.timeutils import PARIS, year_bounds

FIRST_YEAR = 2024  # the platform's first year: charts start here
MIN_YEAR, MAX_YEAR = 2000, 2100  # years outside are refused (404 / form error)

# Indicator keys (targets, CSV columns, API) and their labels.
INDICATORS = {
    "events": _l("Events held"),
    "registrations": _l("Registrations"),
    "seats": _l("Seats booked"),
    "participants": _l("Distinct participants"),
    "attendance_rate": _l("Attendance rate (%)"),
    "without_account": _l("People registered without an account"),
    "drop_ins": _l("Drop-in visitors"),
    "initiatives": _l("Initiatives linked"),
    "answered": _l("Initiatives answered"),
    "missions": _l("Volunteer missions"),
    "volunteer_hours": _l("Volunteer hours"),
}


def current_year() -> int:
    return utcnow().astimezone(PARIS).year


def parse_year(value, default: int | None = None) -> int | None:
    """A year from a query string: None when it is not a plausible year (the view 404s)."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        return None
    year = int(text)
    return year if MIN_YEAR <= year <= MAX_YEAR else None


@dataclass
class Figures:
    events: int = 0
    drop_ins: int = 0
    registrations: int = 0
    seats: int = 0
    participants: int = 0
    without_account: int = 0
    attended_seats: int = 0
    marked_seats: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    initiatives: int = 0
    answered: int = 0
    missions: int = 0
    volunteer_hours: float = 0.0

    @property
    def attendance_rate(self) -> int | None:
        """Seats marked present out of seats whose attendance was taken, in percent."""
        if not self.marked_seats:
            return None
        return round(100 * self.attended_seats / self.marked_seats)

    @property
    def active(self) -> bool:
        return bool(self.events or self.initiatives or self.answered or self.missions)

    def value(self, key: str):
        return getattr(self, key)

    def as_dict(self) -> dict:
        data = {key: self.value(key) for key in INDICATORS}
        data["initiatives_by_status"] = {
            s.value: self.by_status.get(s.value, 0) for s in PublicStatus
        }
        return data


# --- the SQL building blocks --------------------------------------------------------------------


def _ancestry():
    """(node_id, root code) for every node and each of its ancestors, itself included."""
    node = ObjectiveNode.__table__.alias("n")
    anc = ObjectiveNode.__table__.alias("a")
    return (
        select(node.c.id.label("node_id"), anc.c.code.label("root"))
        .select_from(node)
        .join(anc, sa.or_(node.c.code == anc.c.code, node.c.code.like(anc.c.code + ".%")))
        .subquery("ancestry")
    )


def _year_of(column, years: list[int]):
    """SQL expression giving the Paris year of a UTC datetime inside [first, last year]."""
    if len(years) == 1:
        return sa.literal(years[0])
    whens = [(column < year_bounds(y)[1], y) for y in years[:-1]]
    return sa.case(*whens, else_=years[-1])


def _span(years: list[int]) -> tuple[datetime, datetime]:
    return year_bounds(years[0])[0], year_bounds(years[-1])[1]


def _event_pairs(years, commune, roots):
    """DISTINCT (root, event, year) of the events held (not cancelled) in the years."""
    anc = _ancestry()
    eo = event_objectives
    start, end = _span(years)
    query = (
        select(
            anc.c.root,
            eo.c.event_id,
            _year_of(Event.starts_at, years).label("year"),
        )
        .distinct()
        .select_from(eo)
        .join(anc, anc.c.node_id == eo.c.objective_id)
        .join(Event, Event.id == eo.c.event_id)
        .where(Event.cancelled.is_(False), Event.starts_at >= start, Event.starts_at < end)
    )
    if commune:
        query = query.where(Event.commune_code == commune)
    if roots is not None:
        query = query.where(anc.c.root.in_(roots))
    return query.subquery("event_pairs")


def _initiative_pairs(years, commune, roots, when_column, extra_join=None):
    """DISTINCT (root, initiative, status, year) of published initiatives, by ``when_column``."""
    anc = _ancestry()
    io = InitiativeObjective.__table__
    start, end = _span(years)
    query = (
        select(
            anc.c.root,
            Initiative.id.label("initiative_id"),
            Initiative.status,
            _year_of(when_column, years).label("year"),
        )
        .distinct()
        .select_from(io)
        .join(anc, anc.c.node_id == io.c.objective_id)
        .join(Initiative, Initiative.id == io.c.initiative_id)
    )
    if extra_join is not None:
        query = query.join(*extra_join)
    query = query.where(
        Initiative.state == ModerationState.PUBLISHED, when_column >= start, when_column < end
    )
    if commune:
        query = query.where(Initiative.commune_code == commune)
    if roots is not None:
        query = query.where(anc.c.root.in_(roots))
    return query.subquery("initiative_pairs")


def volunteer_figures(years, commune=None, roots=None) -> dict[tuple[str, int], tuple[int, float]]:
    """{(root, year): (missions, hours)} — zeros (an empty dict) until the volunteer tables exist.

    The volunteers domain adds ``missions`` (event_id nullable FK, starts_at, ends_at,
    commune_code, cancelled) and ``mission_signups`` (mission_id, user_id, state, attended).
    The lead wires it after the merge: nothing to change here once those tables are in
    ``db.metadata`` (the models module imported in ``blagis/models/__init__.py``). Missions
    count through their event's objective links; hours are the mission's duration summed over
    attended sign-ups.
    """
    tables = db.metadata.tables
    if "missions" not in tables or "mission_signups" not in tables:
        return {}
    return _volunteer_query(tables["missions"], tables["mission_signups"], years, commune, roots)


def _hours(starts, ends):
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(ends) - func.julianday(starts)) * 24.0
    return func.extract("epoch", ends - starts) / 3600.0


def _volunteer_query(missions, signups, years, commune, roots) -> dict:
    anc = _ancestry()
    eo = event_objectives
    start, end = _span(years)
    pairs = (
        select(
            anc.c.root,
            missions.c.id.label("mission_id"),
            _year_of(missions.c.starts_at, years).label("year"),
        )
        .distinct()
        .select_from(missions)
        .join(eo, eo.c.event_id == missions.c.event_id)
        .join(anc, anc.c.node_id == eo.c.objective_id)
        .where(
            missions.c.cancelled.is_(False),
            missions.c.starts_at >= start,
            missions.c.starts_at < end,
        )
    )
    if commune:
        pairs = pairs.where(missions.c.commune_code == commune)
    if roots is not None:
        pairs = pairs.where(anc.c.root.in_(roots))
    pairs = pairs.subquery("mission_pairs")
    hours = _hours(missions.c.starts_at, missions.c.ends_at)
    rows = db.session.execute(
        select(
            pairs.c.root,
            pairs.c.year,
            func.count(sa.distinct(pairs.c.mission_id)),
            func.coalesce(func.sum(hours).filter(signups.c.id.is_not(None)), 0),
        )
        .select_from(pairs)
        .join(missions, missions.c.id == pairs.c.mission_id)
        .outerjoin(
            signups,
            sa.and_(signups.c.mission_id == pairs.c.mission_id, signups.c.attended.is_(True)),
        )
        .group_by(pairs.c.root, pairs.c.year)
    )
    return {(root, int(year)): (int(n), round(float(h), 1)) for root, year, n, h in rows}


# --- the computation ----------------------------------------------------------------------------


def max_age() -> int:
    """How long yearly figures may lag behind the activity they count (seconds)."""
    return current_app.config["FIGURES_MAX_AGE"]


def compute(
    years: list[int] | int, commune: str | None = None, roots: list[str] | None = None
) -> dict[int, dict[str, Figures]]:
    """``{year: {code: Figures}}`` for every node (or only ``roots``) — five queries in all.

    Kept in memory (``blagis.pagecache``): the tree page, node pages and the report ask for the
    same figures again and again, and at the territory's size they cost half a second. A change
    to the contract (tree, links to objectives) drops them at once; new activity shows after at
    most FIGURES_MAX_AGE seconds. The result is shared: callers read it and never change it.
    """
    years = [years] if isinstance(years, int) else sorted(years)
    years = list(range(years[0], years[-1] + 1))
    key = ("indicators", tuple(years), commune, tuple(roots) if roots is not None else None)
    return memoize(("contract",), key, lambda: _compute(years, commune, roots), max_age=max_age())


def _compute(years: list[int], commune: str | None, roots: list[str] | None):
    result: dict[int, dict[str, Figures]] = {y: {} for y in years}

    def figures(root: str, year) -> Figures:
        return result[int(year)].setdefault(root, Figures())

    events = _event_pairs(years, commune, roots)
    for root, year, n, drop_ins in db.session.execute(
        select(
            events.c.root,
            events.c.year,
            func.count(),
            func.coalesce(func.sum(Event.drop_in_count), 0),
        )
        .select_from(events)
        .join(Event, Event.id == events.c.event_id)
        .group_by(events.c.root, events.c.year)
    ):
        f = figures(root, year)
        f.events, f.drop_ins = int(n), int(drop_ins)

    r = Registration
    for row in db.session.execute(
        select(
            events.c.root,
            events.c.year,
            func.count(r.id),
            func.coalesce(func.sum(r.seats), 0),
            func.count(sa.distinct(r.user_id)),
            func.count(r.id).filter(r.user_id.is_(None)),
            func.coalesce(func.sum(r.seats).filter(r.attended.is_(True)), 0),
            func.coalesce(func.sum(r.seats).filter(r.attended.is_not(None)), 0),
        )
        .select_from(events)
        .join(r, r.event_id == events.c.event_id)
        .where(r.state == RegistrationState.CONFIRMED)
        .group_by(events.c.root, events.c.year)
    ):
        root, year, count, seats, accounts, anonymous, attended, marked = row
        f = figures(root, year)
        f.registrations, f.seats = int(count), int(seats)
        # People without an account cannot be matched across events: each counts once.
        f.participants, f.without_account = int(accounts) + int(anonymous), int(anonymous)
        f.attended_seats, f.marked_seats = int(attended), int(marked)

    linked = _initiative_pairs(years, commune, roots, Initiative.published_at)
    for root, year, status, n in db.session.execute(
        select(linked.c.root, linked.c.year, linked.c.status, func.count()).group_by(
            linked.c.root, linked.c.year, linked.c.status
        )
    ):
        f = figures(root, year)
        f.by_status[PublicStatus(status).value] = int(n)
        f.initiatives += int(n)

    answered = _initiative_pairs(
        years,
        commune,
        roots,
        InitiativeStatusChange.created_at,
        extra_join=(
            InitiativeStatusChange,
            InitiativeStatusChange.initiative_id == Initiative.id,
        ),
    )
    for root, year, n in db.session.execute(
        select(
            answered.c.root, answered.c.year, func.count(sa.distinct(answered.c.initiative_id))
        ).group_by(answered.c.root, answered.c.year)
    ):
        figures(root, year).answered = int(n)

    for (root, year), (n, hours) in volunteer_figures(years, commune, roots).items():
        f = figures(root, year)
        f.missions, f.volunteer_hours = n, hours
    return result


def for_year(year: int, commune: str | None = None) -> dict[str, Figures]:
    return compute([year], commune)[year]


def history(code: str, commune: str | None = None, until: int | None = None) -> list:
    """[(year, Figures)] of one node from FIRST_YEAR to ``until`` (default: this year)."""
    until = max(until or current_year(), FIRST_YEAR)
    data = compute(list(range(FIRST_YEAR, until + 1)), commune, roots=[code])
    return [(year, data[year].get(code, Figures())) for year in sorted(data)]


# --- what the report lists ----------------------------------------------------------------------


# At the quarter's size every node lists all of its year's activities; at the territory's a theme
# holds thousands (a 1.5 MB page). The report then names the first ones and gives the count.
LISTED_PER_NODE = 30


@dataclass
class Listed:
    """The first items of a node's list (at most LISTED_PER_NODE) and how many there are."""

    items: list = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _listed(ranked, model, limit: int, sort_key) -> dict[str, Listed]:
    """Read the first ``limit`` rows of each root from ``ranked`` (root, item_id, rank, total)."""
    rows = db.session.execute(
        select(ranked.c.root, ranked.c.item_id, ranked.c.total).where(
            ranked.c.rank <= (limit or LISTED_PER_NODE)
        )
    ).all()
    ids = {item_id for _, item_id, _ in rows}
    found = {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))}
    out: dict[str, Listed] = {}
    for root, item_id, total in rows:
        out.setdefault(root, Listed(total=int(total))).items.append(found[item_id])
    for listed in out.values():
        listed.items.sort(key=sort_key)
    return out


def events_held(year: int, commune: str | None = None, limit: int | None = None):
    """{root code: Listed(events held in the year in its subtree)}, in two queries."""
    pairs = _event_pairs([year], commune, None)
    ranked = (
        select(
            pairs.c.root,
            pairs.c.event_id.label("item_id"),
            func.row_number()
            .over(partition_by=pairs.c.root, order_by=(Event.starts_at, Event.id))
            .label("rank"),
            func.count().over(partition_by=pairs.c.root).label("total"),
        )
        .select_from(pairs)
        .join(Event, Event.id == pairs.c.event_id)
        .subquery("ranked")
    )
    return _listed(ranked, Event, limit, lambda e: (e.starts_at, e.id))


def initiatives_answered(year: int, commune: str | None = None, limit: int | None = None):
    """{root code: Listed(initiatives given an official answer in the year)}, in two queries."""
    pairs = _initiative_pairs(
        [year],
        commune,
        None,
        InitiativeStatusChange.created_at,
        extra_join=(InitiativeStatusChange, InitiativeStatusChange.initiative_id == Initiative.id),
    )
    answered = select(pairs.c.root, pairs.c.initiative_id).distinct().subquery("answered")
    ranked = (
        select(
            answered.c.root,
            answered.c.initiative_id.label("item_id"),
            func.row_number()
            .over(
                partition_by=answered.c.root,
                order_by=(func.lower(Initiative.title), Initiative.id),
            )
            .label("rank"),
            func.count().over(partition_by=answered.c.root).label("total"),
        )
        .select_from(answered)
        .join(Initiative, Initiative.id == answered.c.initiative_id)
        .subquery("ranked")
    )
    return _listed(ranked, Initiative, limit, lambda i: (i.title.lower(), i.id))


# --- targets ------------------------------------------------------------------------------------


def targets_for(years: list[int], commune: str | None = None) -> dict[tuple[int, str], dict]:
    """{(year, code): {indicator: value}} in one query."""
    rows = db.session.execute(
        select(Target.year, ObjectiveNode.code, Target.indicator, Target.value)
        .join(ObjectiveNode, ObjectiveNode.id == Target.node_id)
        .where(Target.year.in_(years), _same_commune(commune))
    )
    out: dict[tuple[int, str], dict] = {}
    for year, code, indicator, value in rows:
        out.setdefault((year, code), {})[indicator] = value
    return out


def targets_by_code(year: int, commune: str | None = None) -> dict[str, dict]:
    """{code: {indicator: value}} of one year (territory-wide when no commune), in one query."""
    return {code: values for (_year, code), values in targets_for([year], commune).items()}


def _same_commune(commune: str | None):
    return Target.commune_code.is_(None) if not commune else Target.commune_code == commune


def set_target(
    actor, node: ObjectiveNode, year: int, indicator: str, value: int | None, commune=None
) -> Target | None:
    """Create, change or (value None) remove a target; audited."""
    if indicator not in INDICATORS:
        raise DomainError(_l("Choose an indicator from the list."), field="indicator")
    if parse_year(year) is None:
        raise DomainError(_l("Give a year between 2000 and 2100."), field="year")
    if value is not None and not 0 <= value <= 1_000_000:
        raise DomainError(_l("Give a whole number between 0 and 1,000,000."), field="value")
    target = db.session.scalar(
        select(Target).where(
            Target.node_id == node.id,
            Target.year == year,
            Target.indicator == indicator,
            _same_commune(commune),
        )
    )
    before = {"value": target.value} if target else None
    key = {"node": node.code, "year": year, "indicator": indicator, "commune": commune}
    if value is None:
        if target is None:
            return None
        db.session.delete(target)
        db.session.flush()
        audit.record("target.delete", "target", target.id, actor=actor, before=before, after=key)
        return None
    if target is None:
        target = Target(
            node_id=node.id, year=year, indicator=indicator, commune_code=commune, value=value
        )
        db.session.add(target)
    else:
        target.value = value
    db.session.flush()
    audit.record(
        "target.set",
        "target",
        target.id,
        actor=actor,
        before=before,
        after={**key, "value": value},
        commune_code=commune,
    )
    return target
