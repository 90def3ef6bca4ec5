"""Indicators of a hand-built dataset against figures worked out by hand.

The dataset (tests/factories_indicators.py), Paris times:

- E1 2025-03-10, Sceaux, linked to 1.1.1 and 1.4.1 (same axis), 5 drop-ins; confirmed: u1 2 seats
  present, u2 1 seat absent, one person without account 1 seat present; u3 cancelled.
- E2 2025-12-31 23:30 (22:30 UTC), Bagneux, linked to 1.1 and 2.1; u1 1 seat not marked, one
  person without account 3 seats present.
- E3 2026-01-01 00:30 (2025-12-31 23:30 UTC), Sceaux, 1.1.1, 4 drop-ins; u2 present.
- E4 2025, cancelled: never counted. E5 2025-05-05, Sceaux, axis 2; u3 present, u2 waitlisted.
- I1 published 2025, accepted (answered 2025), Sceaux, 1.1.1 + 1.4.1; I2 published 2025, new,
  Bagneux, 1.1; I3 pending; I4 published 2024, done, answered 2025-01-15, Sceaux, 2.1.

The figures are read as the pages read them: stored by the refresh (the cron's), whose result
is checked against the live computation for every year and commune.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from blagis.extensions import db
from blagis.indicators import services
from blagis.indicators.services import Figures
from blagis.models import (
    ContentGeneration,
    FigureValue,
    FigureYear,
    Mission,
    MissionSignup,
    Registration,
)
from tests.factories_indicators import build_dataset, paris


@pytest.fixture
def dataset(app, refresh_figures):
    with app.app_context():
        made = build_dataset()
        db.session.remove()
    refresh_figures()
    return made


def figures(app, year, commune=None):
    with app.app_context():
        return services.for_year(year, commune)


def test_year_boundaries_are_paris_time(app, dataset):
    assert paris(2025, 12, 31, 23, 30) == datetime(2025, 12, 31, 22, 30, tzinfo=UTC)
    assert paris(2026, 1, 1, 0, 30) == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    f2026 = figures(app, 2026)
    # E3 only (E2, 22:30 UTC on the 31st, stays in 2025).
    assert f2026["1.1.1"].events == 1 and f2026["1.1.1"].drop_ins == 4
    assert f2026["1"].events == 1 and f2026["1"].participants == 1
    assert "2" not in f2026 and "2.1" not in f2026
    assert figures(app, 2025)["2.1"].events == 1  # E2


def test_leaf_figures(app, dataset):
    f = figures(app, 2025)["1.1.1"]
    assert (f.events, f.drop_ins) == (1, 5)
    assert (f.registrations, f.seats) == (3, 4)
    assert (f.participants, f.without_account) == (3, 1)
    assert (f.attended_seats, f.marked_seats, f.attendance_rate) == (3, 4, 75)
    assert f.by_status == {"accepted": 1} and f.initiatives == 1 and f.answered == 1


def test_subtree_rollup_without_double_counting(app, dataset):
    f = figures(app, 2025)
    # Axis 1: E1 (through three links) and E2 once each.
    for code in ("1", "1.1"):
        assert (f[code].events, f[code].drop_ins) == (2, 5), code
        assert (f[code].registrations, f[code].seats) == (5, 8)
        assert (f[code].participants, f[code].without_account) == (4, 2)
        assert (f[code].attended_seats, f[code].marked_seats) == (6, 7)
        assert f[code].attendance_rate == 86
    assert f["1"].initiatives == 2 and f["1"].by_status == {"accepted": 1, "new": 1}
    assert f["1"].answered == 1
    assert f["1.4"].events == 1 and f["1.4"].initiatives == 1
    # Axis 2: E2 (through 2.1) and E5; I4 was published in 2024 but answered in 2025.
    assert (f["2"].events, f["2"].registrations, f["2"].seats) == (2, 3, 5)
    assert (f["2"].participants, f["2"].attendance_rate) == (3, 100)
    assert (f["2"].initiatives, f["2"].answered) == (0, 1)
    assert (f["2.1"].events, f["2.1"].participants, f["2.1"].without_account) == (1, 2, 1)
    assert "3" not in f and "1.2" not in f
    assert figures(app, 2024)["2"].by_status == {"done": 1}


def test_commune_filter(app, dataset):
    f = figures(app, 2025, "sceaux")
    assert (f["1"].events, f["1"].registrations, f["1"].participants) == (1, 3, 3)
    assert (f["1"].initiatives, f["1"].answered) == (1, 1)
    assert (f["2"].events, f["2"].participants) == (1, 1)
    assert "2.1" not in f or f["2.1"].events == 0
    b = figures(app, 2025, "bagneux")
    assert (b["1"].events, b["1"].seats, b["1"].initiatives) == (1, 4, 1)


def test_history_year_by_year(app, dataset):
    with app.app_context():
        rows = services.history("1.1", until=2026)
    assert [y for y, _ in rows] == [2024, 2025, 2026]
    assert [f.events for _, f in rows] == [0, 2, 1]


def add_missions(dataset) -> None:
    """Missions of E1 and E2 (one cancelled, one without event) and their sign-ups."""

    def mission(event_id, start, end, commune, cancelled=False):
        m = Mission(
            event_id=event_id,
            title="Accueil",
            starts_at=start,
            ends_at=end,
            needed=3,
            commune_code=commune,
            cancelled=cancelled,
        )
        db.session.add(m)
        db.session.flush()
        return m

    m1 = mission(dataset["e1"], paris(2025, 3, 10, 9), paris(2025, 3, 10, 12), "sceaux")
    m2 = mission(dataset["e2"], paris(2025, 12, 31, 20), paris(2025, 12, 31, 22), "bagneux")
    m3 = mission(dataset["e1"], paris(2025, 3, 11, 9), paris(2025, 3, 11, 12), "sceaux", True)
    mission(None, paris(2025, 4, 1, 9), paris(2025, 4, 1, 12), "sceaux")
    for m, attended in ((m1, True), (m1, True), (m1, False), (m2, True), (m3, True)):
        db.session.add(MissionSignup(mission_id=m.id, state="confirmed", attended=attended))
    db.session.commit()


def test_volunteer_missions_and_hours_from_attended_signups(app, dataset, refresh_figures):
    """Real Mission/MissionSignup rows: hours only from attended sign-ups, each mission once."""
    with app.app_context():
        add_missions(dataset)
    refresh_figures()
    f2025 = figures(app, 2025)
    assert (f2025["1"].missions, f2025["1"].volunteer_hours) == (2, 8.0)
    assert (f2025["1.1.1"].missions, f2025["1.1.1"].volunteer_hours) == (1, 6.0)
    assert (f2025["2"].missions, f2025["2"].volunteer_hours) == (1, 2.0)
    sceaux = figures(app, 2025, "sceaux")
    assert (sceaux["1"].missions, sceaux["1"].volunteer_hours) == (1, 6.0)


def test_volunteer_sql_on_tables_shaped_like_the_volunteer_models(app, dataset):
    """The query the lead wires after the merge, run on stand-in tables of the same shape."""
    from blagis.models import UTCDateTime

    meta = sa.MetaData()
    missions = sa.Table(
        "test_missions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("commune_code", sa.String(40), nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
    )
    signups = sa.Table(
        "test_mission_signups",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mission_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("attended", sa.Boolean, nullable=True),
    )
    with app.app_context():
        meta.create_all(db.engine)
        try:
            rows = [
                (1, dataset["e1"], paris(2025, 3, 10, 9), paris(2025, 3, 10, 12), "sceaux", False),
                (
                    2,
                    dataset["e2"],
                    paris(2025, 12, 31, 20),
                    paris(2025, 12, 31, 22),
                    "bagneux",
                    False,
                ),
                (3, dataset["e1"], paris(2025, 3, 11, 9), paris(2025, 3, 11, 12), "sceaux", True),
                (4, None, paris(2025, 4, 1, 9), paris(2025, 4, 1, 12), "sceaux", False),
            ]
            keys = ("id", "event_id", "starts_at", "ends_at", "commune_code", "cancelled")
            db.session.execute(missions.insert(), [dict(zip(keys, r, strict=True)) for r in rows])
            db.session.execute(
                signups.insert(),
                [
                    {"mission_id": 1, "state": "confirmed", "attended": True},
                    {"mission_id": 1, "state": "confirmed", "attended": True},
                    {"mission_id": 1, "state": "confirmed", "attended": False},
                    {"mission_id": 2, "state": "confirmed", "attended": True},
                    {"mission_id": 3, "state": "confirmed", "attended": True},
                ],
            )
            data = services._volunteer_query(missions, signups, [2025], None, None)
            assert data[("1", 2025)] == (2, 8.0)  # M1 3 h x 2 + M2 2 h, once each
            assert data[("1.1.1", 2025)] == (1, 6.0)
            assert data[("2", 2025)] == (1, 2.0)
            assert services._volunteer_query(missions, signups, [2025], "sceaux", None)[
                ("1", 2025)
            ] == (1, 6.0)
        finally:
            db.session.rollback()
            meta.drop_all(db.engine)


def test_figures_helpers():
    f = Figures()
    assert f.attendance_rate is None and not f.active
    assert set(f.as_dict()) >= set(services.INDICATORS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025", 2025),
        ("", 7),
        (None, 7),
        ("abc", None),
        ("1800", None),
        ("99999", None),
        ("20 5", None),
        ("-2025", None),
        ("２０２５", None),
    ],
)
def test_parse_year(text, expected):
    assert services.parse_year(text, default=7) == expected


def test_demo_spans_two_years(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        this_year = services.current_year()
        # The demo stores its figures: the site shows them before the first cron run.
        assert {this_year - 1, this_year} <= set(db.session.scalars(sa.select(FigureYear.year)))
        data = services.read([this_year - 1, this_year])
        for year in (this_year - 1, this_year):
            assert data[year]["4"].events > 0 and data[year]["4"].participants > 0
            assert data[year]["4"].attendance_rate is not None
        assert data[this_year - 1]["3"].answered + data[this_year]["3"].answered >= 1
        assert services.targets_for([this_year])[(this_year, "4.7")]["events"] == 12


# --- the stored figures (refresh-figures) -------------------------------------------------------


def stored_rows(app) -> dict:
    with app.app_context():
        rows = db.session.scalars(sa.select(FigureValue)).all()
        return {
            (r.year, r.commune_code, r.node_code, r.indicator, r.breakdown): r.value for r in rows
        }


def test_stored_figures_equal_the_live_computation(app, dataset, refresh_figures):
    """Every year and commune (and the territory) read from the table as computed live."""
    with app.app_context():
        add_missions(dataset)
    refresh_figures()
    with app.app_context():
        communes = [None, *db.session.scalars(sa.text("SELECT code FROM communes"))]
        for commune in communes:
            live = services.live([2024, 2025, 2026], commune)
            assert services.read([2024, 2025, 2026], commune) == live, commune
            assert services.history("1.1", commune, until=2026) == [
                (y, live[y].get("1.1", Figures())) for y in (2024, 2025, 2026)
            ]
        # u1 went to E1 (Sceaux) and E2 (Bagneux): once for the territory, once in each.
        assert services.for_year(2025)["1"].participants == 4
        assert services.for_year(2025, "sceaux")["1"].participants == 3
        assert services.for_year(2025, "bagneux")["1"].participants == 2
        assert services.for_year(2025)["1"].missions == 2
        assert services.for_year(2025, "sceaux")["1"].volunteer_hours == 6.0
        assert services.for_year(2024)["2"].by_status == {"done": 1}


def test_a_year_never_refreshed_is_computed_live_and_not_stored(app):
    with app.app_context():
        build_dataset()
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FigureYear)) == 0
        f = services.for_year(2025)  # no row: computed, not zeros
        assert (f["1"].events, f["1"].participants) == (2, 4)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FigureValue)) == 0
        db.session.remove()


def test_stored_figures_lag_until_the_next_refresh(app, dataset, refresh_figures):
    assert figures(app, 2025)["1.4.1"].registrations == 3
    with app.app_context():
        db.session.add(Registration(event_id=dataset["e1"], name="Sans compte", seats=2,
                                    state="confirmed"))  # fmt: skip
        db.session.commit()
    assert figures(app, 2025)["1.4.1"].registrations == 3  # stored: until the next refresh
    done = refresh_figures([2025])
    assert done.years == [2025] and done.updated > 0
    f = figures(app, 2025)["1.4.1"]
    assert (f.registrations, f.seats, f.without_account) == (4, 6, 2)
    # An activity unlinked from its objectives: its nodes' rows go at the next refresh.
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM event_objectives WHERE event_id = :e"),
                           {"e": dataset["e1"]})  # fmt: skip
        db.session.commit()
    assert refresh_figures().deleted > 0
    f = figures(app, 2025)["1.4.1"]  # I1 is still linked to it
    assert (f.events, f.registrations, f.initiatives) == (0, 0, 1)


def test_refresh_is_idempotent(app, dataset, refresh_figures):
    """A second refresh with nothing new writes no figure and moves no page-cache counter."""
    rows = stored_rows(app)
    assert rows and any(key[1] == "sceaux" for key in rows)  # the communes' figures too
    counters = sa.select(ContentGeneration.name, ContentGeneration.value)
    with app.app_context():
        before = dict(db.session.execute(counters).all())
        db.session.remove()
    again = refresh_figures()
    with app.app_context():
        default = list(range(services.FIRST_YEAR, services.current_year() + 2))
    assert again.changed == 0 and again.years == default
    assert stored_rows(app) == rows
    with app.app_context():
        assert dict(db.session.execute(counters).all()) == before


def test_refresh_figures_command(app, runner):
    with app.app_context():
        build_dataset()
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["refresh-figures", "--year", "2025", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("figures of 2025, 2026: ") and " rows added, 0 changed" in (
        result.output
    )
    with app.app_context():
        assert set(db.session.scalars(sa.select(FigureYear.year))) == {2025, 2026}
        db.session.remove()
    result = runner.invoke(args=["refresh-figures"])
    assert result.exit_code == 0, result.output
    assert "0 rows added, 0 changed, 0 removed" not in result.output  # 2024 was new
    result = runner.invoke(args=["refresh-figures"])
    with app.app_context():
        years = ", ".join(map(str, range(services.FIRST_YEAR, services.current_year() + 2)))
    assert f"figures of {years}: 0 rows added, 0 changed, 0 removed" in result.output
    assert runner.invoke(args=["refresh-figures", "--year", "1800"]).exit_code == 2
