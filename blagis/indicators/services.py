"""Indicators per objective node, computed with a fixed number of aggregate queries.

Every link (event -> objective, initiative -> objective) is mapped to each *ancestor code* of
the linked node (codes are hierarchical: "1", "1.4", "1.4.2"), the (ancestor, thing) pairs
are made DISTINCT, then grouped by ancestor: an event linked to two objectives of the same
axis counts once for the axis. Years are Paris calendar years (``timeutils.year_bounds``); a
CASE on the year boundaries buckets rows by year, so several years cost no more queries.

Pages do not run those queries: ``refresh_figures`` (the ``refresh-figures`` cron command)
stores their results in ``indicator_figures``, and pages read a year's figures there in one
query (``read``). A year never refreshed (a fresh install) is computed live instead.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from blagis import audit
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import (
    Event,
    FigureValue,
    FigureYear,
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


def _event_pairs(years, commune, roots, by_commune=False):
    """DISTINCT (root, event, year[, commune]) of the events held (not cancelled) in the years."""
    anc = _ancestry()
    eo = event_objectives
    start, end = _span(years)
    query = (
        select(
            anc.c.root,
            eo.c.event_id,
            _year_of(Event.starts_at, years).label("year"),
            *([Event.commune_code.label("commune")] if by_commune else []),
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


def _initiative_pairs(years, commune, roots, when_column, extra_join=None, by_commune=False):
    """DISTINCT (root, initiative, status, year[, commune]) of published initiatives."""
    anc = _ancestry()
    io = InitiativeObjective.__table__
    start, end = _span(years)
    query = (
        select(
            anc.c.root,
            Initiative.id.label("initiative_id"),
            Initiative.status,
            _year_of(when_column, years).label("year"),
            *([Initiative.commune_code.label("commune")] if by_commune else []),
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


def volunteer_figures(years, commune=None, roots=None, by_commune=False) -> dict[tuple, tuple]:
    """{(root, year[, commune]): (missions, hours)} — empty until the volunteer tables exist.

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
    return _volunteer_query(
        tables["missions"], tables["mission_signups"], years, commune, roots, by_commune
    )


def _hours(starts, ends):
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(ends) - func.julianday(starts)) * 24.0
    return func.extract("epoch", ends - starts) / 3600.0


def _volunteer_query(missions, signups, years, commune, roots, by_commune=False) -> dict:
    anc = _ancestry()
    eo = event_objectives
    start, end = _span(years)
    pairs = (
        select(
            anc.c.root,
            missions.c.id.label("mission_id"),
            _year_of(missions.c.starts_at, years).label("year"),
            *([missions.c.commune_code.label("commune")] if by_commune else []),
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
    group = _group(pairs, by_commune)
    rows = db.session.execute(
        select(
            *group,
            func.count(sa.distinct(pairs.c.mission_id)),
            func.coalesce(func.sum(hours).filter(signups.c.id.is_not(None)), 0),
        )
        .select_from(pairs)
        .join(missions, missions.c.id == pairs.c.mission_id)
        .outerjoin(
            signups,
            sa.and_(signups.c.mission_id == pairs.c.mission_id, signups.c.attended.is_(True)),
        )
        .group_by(*group)
    )
    return {
        (root, int(year), *rest): (int(n), round(float(h), 1)) for root, year, *rest, n, h in rows
    }


def _group(pairs, by_commune: bool) -> list:
    """The GROUP BY columns of a pairs subquery: root and year, and the commune when asked."""
    return [pairs.c.root, pairs.c.year, *([pairs.c.commune] if by_commune else [])]


# --- the computation ----------------------------------------------------------------------------


def _contiguous(years: list[int] | int) -> list[int]:
    """Every year from the first to the last asked (the year CASE needs contiguous years)."""
    years = [years] if isinstance(years, int) else sorted(years)
    return list(range(years[0], years[-1] + 1))


def live(
    years: list[int] | int, commune: str | None = None, roots: list[str] | None = None
) -> dict[int, dict[str, Figures]]:
    """``{year: {code: Figures}}`` computed now for every node (or only ``roots``): five queries.

    What ``read`` falls back to for a year never refreshed; ``refresh_figures`` stores the same.
    """
    years = _contiguous(years)
    result: dict[int, dict[str, Figures]] = {y: {} for y in years}
    for (year, _commune, root), f in _compute(years, commune, roots).items():
        result[year][root] = f
    return result


def _compute(
    years: list[int], commune: str | None, roots: list[str] | None, by_commune: bool = False
) -> dict[tuple[int, str, str], Figures]:
    """``{(year, commune, root): Figures}`` in five queries.

    ``commune`` is ``""`` (the whole territory, or the one commune filtered on) unless
    ``by_commune``: the same queries then also group by the activity's own commune, which gives
    every commune's figures at once (what filtering on each commune in turn would give).
    """
    result: dict[tuple[int, str, str], Figures] = {}

    def figures(root: str, year, *rest) -> Figures:
        key = (int(year), rest[0] if by_commune else (commune or ""), root)
        return result.setdefault(key, Figures())

    events = _event_pairs(years, commune, roots, by_commune)
    group = _group(events, by_commune)
    for *key, n, drop_ins in db.session.execute(
        select(*group, func.count(), func.coalesce(func.sum(Event.drop_in_count), 0))
        .select_from(events)
        .join(Event, Event.id == events.c.event_id)
        .group_by(*group)
    ):
        f = figures(*key)
        f.events, f.drop_ins = int(n), int(drop_ins)

    r = Registration
    for *key, count, seats, accounts, anonymous, attended, marked in db.session.execute(
        select(
            *group,
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
        .group_by(*group)
    ):
        f = figures(*key)
        f.registrations, f.seats = int(count), int(seats)
        # People without an account cannot be matched across events: each counts once.
        f.participants, f.without_account = int(accounts) + int(anonymous), int(anonymous)
        f.attended_seats, f.marked_seats = int(attended), int(marked)

    linked = _initiative_pairs(
        years, commune, roots, Initiative.published_at, by_commune=by_commune
    )
    group = _group(linked, by_commune)
    for *key, status, n in db.session.execute(
        select(*group, linked.c.status, func.count()).group_by(*group, linked.c.status)
    ):
        f = figures(*key)
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
        by_commune=by_commune,
    )
    group = _group(answered, by_commune)
    for *key, n in db.session.execute(
        select(*group, func.count(sa.distinct(answered.c.initiative_id))).group_by(*group)
    ):
        figures(*key).answered = int(n)

    for key, (n, hours) in volunteer_figures(years, commune, roots, by_commune).items():
        f = figures(*key)
        f.missions, f.volunteer_hours = n, hours
    return result


# --- the stored figures -------------------------------------------------------------------------

# Figures' counters, one row each in indicator_figures (``by_status`` is the "initiatives" row's
# breakdown "status:<status>"; the attendance rate is derived from two of them when read).
STORED = tuple(f.name for f in fields(Figures) if f.name != "by_status")
TERRITORY = ""  # indicator_figures.commune_code of the whole territory's figures
# Names the refresh among PostgreSQL's advisory locks (any constant the app uses nowhere else).
REFRESH_LOCK = 16_2024_0001


def _rows_of(f: Figures):
    """(indicator, breakdown, value) of what ``f`` holds: the non-zero counters (``events``
    always, so that a node with activity has a row whatever its counters) and each status."""
    for name in STORED:
        value = getattr(f, name)
        if value or name == "events":
            yield name, "", value
    for status, n in sorted(f.by_status.items()):
        if n:
            yield "initiatives", f"status:{status}", n


def _put(f: Figures, indicator: str, breakdown: str, value: float) -> None:
    """Set what one stored row says; rows a newer release may add (other keys) are ignored."""
    if breakdown:
        kind, _, category = breakdown.partition(":")
        if indicator == "initiatives" and kind == "status":
            f.by_status[category] = int(value)
    elif indicator == "volunteer_hours":
        f.volunteer_hours = float(value)
    elif indicator in STORED:
        setattr(f, indicator, int(value))


def read(
    years: list[int] | int, commune: str | None = None, roots: list[str] | None = None
) -> dict[int, dict[str, Figures]]:
    """``{year: {code: Figures}}`` of every node (or only ``roots``), from the stored figures.

    One query whatever the data. A year the refresh has never stored (a fresh install, before
    the first ``refresh-figures``; a year far from the activity's) is computed live instead
    (five more queries), so a page never shows zeros that are not true. The stored figures lag
    the activity by at most the cron's interval plus one refresh (docs/indicators.md).
    """
    years = _contiguous(years)
    on = [FigureValue.year == FigureYear.year, FigureValue.commune_code == (commune or TERRITORY)]
    if roots is not None:
        on.append(FigureValue.node_code.in_(roots))
    rows = db.session.execute(
        select(
            FigureYear.year,
            FigureValue.node_code,
            FigureValue.indicator,
            FigureValue.breakdown,
            FigureValue.value,
        )
        .select_from(FigureYear)
        .outerjoin(FigureValue, sa.and_(*on))
        .where(FigureYear.year.in_(years))
    )
    result: dict[int, dict[str, Figures]] = {y: {} for y in years}
    stored = set()
    for year, code, indicator, breakdown, value in rows:
        stored.add(year)
        if code is not None:
            _put(result[year].setdefault(code, Figures()), indicator, breakdown, value)
    missing = [y for y in years if y not in stored]
    if missing:
        computed = live(missing, commune, roots)
        result.update({y: computed[y] for y in missing})
    return result


def for_year(year: int, commune: str | None = None) -> dict[str, Figures]:
    return read([year], commune)[year]


def history(code: str, commune: str | None = None, until: int | None = None) -> list:
    """[(year, Figures)] of one node from FIRST_YEAR to ``until`` (default: this year)."""
    until = max(until or current_year(), FIRST_YEAR)
    data = read(list(range(FIRST_YEAR, until + 1)), commune, roots=[code])
    return [(year, data[year].get(code, Figures())) for year in sorted(data)]


@dataclass
class Refreshed:
    """What ``refresh_figures`` did: the years recomputed and the rows written."""

    years: list[int]
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


def refresh_years() -> list[int]:
    """The years a refresh recomputes by default: FIRST_YEAR to next year (activities are
    planned ahead), and any other year already stored (so that it never goes stale)."""
    stored = db.session.scalars(select(FigureYear.year))
    return sorted(set(range(FIRST_YEAR, current_year() + 2)) | set(stored))


def refresh_figures(years: list[int] | None = None) -> Refreshed:
    """Recompute the figures of ``years`` (default ``refresh_years()``) and store them.

    Ten aggregate queries whatever the data (the five of ``live`` for the territory, the same
    five grouped by commune), then the stored rows of those years are read and only what
    differs is written (deleted, updated, inserted: a refresh that finds nothing new writes
    nothing but the years' timestamps, and pages kept while their figures are unchanged stay
    kept). Flushes, never commits: the caller commits once, so readers see the old figures or
    the new ones, never a mix. Concurrent refreshes take turns: an advisory lock on PostgreSQL
    (taken after the computing, held only while writing); on SQLite the command's transaction
    holds the write lock from its start (``blagis.dbtuning``).
    """
    years = sorted(set(years)) if years else refresh_years()
    span, wanted = _contiguous(years), set(years)
    new: dict[tuple, float] = {}
    for by_commune in (False, True):
        for (year, commune, code), f in _compute(span, None, None, by_commune).items():
            if year in wanted and (commune or not by_commune):
                for indicator, breakdown, value in _rows_of(f):
                    new[(year, commune, code, indicator, breakdown)] = value

    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
    t = FigureValue.__table__
    key_columns = (t.c.year, t.c.commune_code, t.c.node_code, t.c.indicator, t.c.breakdown)
    names = [c.name for c in key_columns]
    old = {
        tuple(row[:5]): row[5]
        for row in db.session.execute(select(*key_columns, t.c.value).where(t.c.year.in_(years)))
    }
    done = Refreshed(years=years)
    by_key = sa.and_(*(c == sa.bindparam(f"k_{c.name}") for c in key_columns))

    def params(key, **extra) -> dict:
        return {f"k_{name}": value for name, value in zip(names, key, strict=True)} | extra

    gone = [params(key) for key in old.keys() - new.keys()]
    if gone:
        db.session.execute(t.delete().where(by_key), gone)
    changed = [params(key, v=new[key]) for key in old.keys() & new.keys() if old[key] != new[key]]
    if changed:
        db.session.execute(t.update().where(by_key).values(value=sa.bindparam("v")), changed)
    added = [dict(zip(names, key, strict=True), value=new[key]) for key in new.keys() - old.keys()]
    if added:
        db.session.execute(t.insert(), added)
    done.deleted, done.updated, done.inserted = len(gone), len(changed), len(added)

    now = utcnow()
    known = {
        y.year: y for y in db.session.scalars(select(FigureYear).where(FigureYear.year.in_(years)))
    }
    for year in years:
        if year in known:
            known[year].refreshed_at = now
        else:
            db.session.add(FigureYear(year=year, refreshed_at=now))
    db.session.flush()
    return done


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
