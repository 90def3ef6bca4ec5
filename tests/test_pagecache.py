"""The page cache: anonymous pages served from memory, never once the data they show changed."""

import threading
import time

import pytest
import sqlalchemy as sa

from blagis import create_app, pagecache
from blagis.extensions import db
from blagis.models import (
    ContentGeneration,
    Event,
    Initiative,
    ModerationState,
    ObjectiveNode,
    Role,
    Target,
    User,
    event_objectives,
    utcnow,
)
from tests import conftest, factories_events
from tests.conftest import PASSWORD, csrf_token_from

make_event = factories_events.make_event
add_registration = factories_events.add_registration


def counters(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(ContentGeneration.name, ContentGeneration.value))
        values = dict(rows.all())
        db.session.remove()
    return values


def queries_of(app, client, path: str) -> tuple[int, str]:
    """(SQL statements run, page text) of one request, counted with the cache left as it is."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen), response.get_data(as_text=True)


def rename(app, event_id: int, title: str) -> None:
    with app.app_context():
        db.session.get(Event, event_id).title = title
        db.session.commit()
        db.session.remove()


def test_counters_read_at_most_once_a_second_per_worker(app, client, make_event, monkeypatch):
    """In production a hit runs no query; another worker's change shows within the delay."""
    monkeypatch.setitem(app.config, "PAGE_CACHE_CHECK_SECONDS", 1.0)
    event = make_event(title="Atelier vélo")
    client.get("/events")
    assert queries_of(app, client, "/events")[0] == 0
    # A change committed elsewhere (another worker: not through this process's sessions).
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(Event).where(Event.id == event.id).values(title="Atelier couture"))
        table = ContentGeneration.__table__
        conn.execute(table.update().values(value=table.c.value + 1))
    assert "Atelier vélo" in client.get("/events").get_data(as_text=True)  # within the second
    now = pagecache.time.monotonic()
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now + 1.1)
    assert "Atelier couture" in client.get("/events").get_data(as_text=True)
    # A change committed by this worker shows at once.
    rename(app, event.id, "Atelier tricot")
    assert "Atelier tricot" in client.get("/events").get_data(as_text=True)


def test_second_anonymous_visit_is_served_from_memory(app, client, make_event, monkeypatch):
    # With CSRF on, as in production: a public page must not put a token in the session.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    event = make_event(title="Atelier vélo")
    with app.app_context():
        initiative = Initiative(
            title="Jardin partagé",
            summary="Résumé",
            body="Texte",
            commune_code="sceaux",
            state=ModerationState.PUBLISHED,
            published_at=utcnow(),
            search_text="jardin partage",
        )
        db.session.add(initiative)
        db.session.commit()
        initiative_id = initiative.id
        db.session.remove()
    paths = [
        "/",
        "/initiatives",
        "/initiatives?q=jardin",
        f"/initiatives/{initiative_id}",
        "/events",
        f"/events/{event.id}",
        "/objectives",
        "/objectives/1",
        "/api/v1/events",
        "/api/v1/initiatives",
        "/api/v1/objectives",
    ]
    for path in paths:
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        with app.app_context():  # every counter moves: the next visit renders the page again
            db.session.execute(
                sa.update(ContentGeneration).values(value=ContentGeneration.value + 1)
            )
            db.session.commit()
            db.session.remove()
        first, page = queries_of(app, app.test_client(), path)
        again, page_again = queries_of(app, client, path)
        assert again == 1 < first, path  # only the counters are read
        assert page_again == page


def test_a_committed_change_shows_at_once(app, client, make_event):
    event = make_event(title="Atelier vélo")
    assert "Atelier vélo" in client.get("/events").get_data(as_text=True)
    assert "Atelier vélo" in client.get(f"/events/{event.id}").get_data(as_text=True)
    rename(app, event.id, "Atelier couture")
    assert "Atelier couture" in client.get("/events").get_data(as_text=True)
    assert "Atelier couture" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Atelier couture" in client.get("/api/v1/events").get_data(as_text=True)


def test_bulk_statements_count_as_changes(app, client, make_event):
    event = make_event(title="Atelier vélo")
    client.get("/events")
    with app.app_context():
        db.session.execute(sa.update(Event).where(Event.id == event.id).values(title="Repair café"))
        db.session.commit()
        db.session.remove()
    assert "Repair café" in client.get("/events").get_data(as_text=True)


def test_places_left_follow_registrations(client, make_event, make_user, add_registration):
    event = make_event(capacity=3)
    path = f"/events/{event.id}"
    before = client.get(path).get_data(as_text=True)
    add_registration(event, make_user(), seats=3)
    after = client.get(path).get_data(as_text=True)
    assert after != before


def test_only_the_domains_touched_move(app, make_event, make_user):
    start = counters(app)
    event = make_event()
    moved = counters(app)
    assert moved["events"] == start["events"] + 1
    assert moved["contract"] == start["contract"]  # the tree, targets and links did not change
    assert moved["initiatives"] == start["initiatives"]
    # A new account and log-in bookkeeping (last log-in, failures) are not shown to anyone
    # else: nothing moves.
    quiet = counters(app)
    user = make_user()
    client = app.test_client()
    assert (
        client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    client.post("/auth/login", data={"email": user.email, "password": "wrong password!"})
    assert counters(app) == quiet
    assert event.id


def test_a_rolled_back_change_moves_nothing(app, make_event):
    event = make_event()
    start = counters(app)
    with app.app_context():
        db.session.get(Event, event.id).title = "Jamais enregistré"
        db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert counters(app) == start


def test_logged_in_visitors_always_get_a_fresh_page(app, client, auth, make_event, make_user):
    event = make_event()
    path = f"/events/{event.id}"
    anonymous = client.get(path).get_data(as_text=True)
    user = make_user(name="Camille")
    auth.login_as(user)
    n, page = queries_of(app, client, path)
    assert n > 1 and page != anonymous  # the page knows who is there
    n_again, _ = queries_of(app, client, path)
    assert n_again > 1  # nor is a logged-in page kept


def test_languages_are_kept_apart(client, make_event):
    make_event()
    french = client.get("/events", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    english = client.get("/events", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fr"' in french and 'lang="en"' in english


def test_a_waiting_message_is_never_replaced_by_a_kept_page(app, client, make_event):
    make_event()
    client.get("/events")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Message en attente")]
    assert "Message en attente" in client.get("/events").get_data(as_text=True)


def test_pages_setting_a_cookie_are_not_kept(app, client, make_event):
    make_event()
    response = client.get("/events?lang=en")  # remembers the language in the session
    assert "Set-Cookie" in response.headers
    n, _ = queries_of(app, app.test_client(), "/events?lang=en")
    assert n > 1


def test_pages_with_a_form_token_are_not_kept(database):
    """A visitor who already has a CSRF token in the session: the page would carry it."""
    from flask_wtf.csrf import generate_csrf

    other = create_app(conftest.test_config(database))

    @other.route("/__test__/form")
    @pagecache.cached_page("events")
    def form_page():
        return f'<input name="csrf_token" value="{generate_csrf()}">'

    first, second = other.test_client(), other.test_client()
    first.get("/__test__/form")  # the session now holds the first visitor's token
    mine = csrf_token_from(first.get("/__test__/form").get_data(as_text=True))
    theirs = csrf_token_from(second.get("/__test__/form").get_data(as_text=True))
    assert mine != theirs
    with other.app_context():
        db.engine.dispose()


def test_age_limit(app, client, make_event, monkeypatch):
    make_event()
    client.get("/events")
    assert queries_of(app, client, "/events")[0] == 1
    now = pagecache.time.monotonic()
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now + 31)
    assert queries_of(app, client, "/events")[0] > 1


def test_turned_off(app, client, make_event, monkeypatch):
    make_event()
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    client.get("/events")
    assert queries_of(app, client, "/events")[0] > 1


def test_etag_still_answers_304(client, make_event):
    make_event()
    first = client.get("/api/v1/events")
    again = client.get("/api/v1/events", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_another_instance_sees_the_change(app, database, make_event):
    """Two apps (two workers or servers) on one database: a change made by one shows on both."""
    other = create_app(conftest.test_config(database))
    event = make_event(title="Atelier vélo")
    one, two = app.test_client(), other.test_client()
    assert "Atelier vélo" in one.get("/events").get_data(as_text=True)
    assert "Atelier vélo" in two.get("/events").get_data(as_text=True)
    with other.app_context():
        db.session.get(Event, event.id).title = "Atelier couture"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert "Atelier couture" in one.get("/events").get_data(as_text=True)


def test_report_figures_follow_targets(app, client, auth, make_user):
    staff = make_user(role="admin", scope=None)
    auth.login_as(staff)
    year = 2026
    page = client.get(f"/staff/report?year={year}").get_data(as_text=True)
    with app.app_context():
        node = db.session.scalar(sa.select(ObjectiveNode).where(ObjectiveNode.code == "1"))
        db.session.add(
            Target(node_id=node.id, year=year, indicator="events", value=987, commune_code=None)
        )
        db.session.commit()
        db.session.remove()
    again = client.get(f"/staff/report?year={year}").get_data(as_text=True)
    assert "987" in again and "987" not in page


def test_unknown_counters_turn_the_cache_off(app, client, make_event):
    """A database built without the migrations' rows: every page is rendered, none kept."""
    make_event()
    with app.app_context():
        db.session.execute(sa.delete(ContentGeneration))
        db.session.commit()
        try:
            client.get("/events")
            assert queries_of(app, client, "/events")[0] > 1
        finally:
            db.session.execute(
                sa.insert(ContentGeneration),
                [{"name": name, "value": 1000} for name in pagecache.DOMAINS],
            )
            db.session.commit()
            db.session.remove()


@pytest.mark.parametrize("column", ["display_name", "role"])
def test_public_user_columns_move_every_counter(app, make_user, column):
    user = make_user()
    start = counters(app)
    with app.app_context():
        row = db.session.get(User, user.id)
        setattr(row, column, "Nouveau nom" if column == "display_name" else "volunteer")
        db.session.commit()
        db.session.remove()
    after = counters(app)
    assert all(after[name] == start[name] + 1 for name in pagecache.DOMAINS)


def test_kept_pages_show_the_figures_of_each_refresh(
    app, client, make_event, make_user, add_registration, refresh_figures
):
    """The stored figures change only with a refresh; a refresh that changes them moves the
    contract's counter, so a kept page shows them at once, and one that changes nothing keeps
    the pages."""
    event = make_event(capacity=None)
    with app.app_context():
        from blagis.indicators.services import PARIS

        year = event.starts_at.astimezone(PARIS).year
        node = db.session.scalar(sa.select(ObjectiveNode).where(ObjectiveNode.code == "1.1"))
        db.session.execute(
            sa.insert(event_objectives).values(event_id=event.id, objective_id=node.id)
        )
        db.session.commit()
        db.session.remove()
    refresh_figures()
    url = f"/api/v1/objectives?year={year}"

    def participants() -> int:
        data = client.get(url).get_json()
        axis = next(o for o in data["objectives"] if o["code"] == "1")
        return next(c for c in axis["children"] if c["code"] == "1.1")["indicators"]["participants"]

    assert participants() == 0
    assert queries_of(app, client, url)[0] <= 1  # kept
    add_registration(event, make_user())
    assert participants() == 0  # the stored figures: until the next refresh
    start = counters(app)
    assert refresh_figures().changed > 0
    assert counters(app)["contract"] == start["contract"] + 1
    assert participants() == 1
    assert refresh_figures().changed == 0  # nothing new: no counter moves, the page stays kept
    assert counters(app)["contract"] == start["contract"] + 1
    assert queries_of(app, client, url)[0] <= 1


def test_concurrent_misses_compute_once(app, monkeypatch):
    """Four threads of a worker ask for the same figures at once: one computes, three wait."""
    from concurrent.futures import ThreadPoolExecutor

    calls = []
    start = threading.Barrier(4)

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough for the others to arrive while it computes
        return 42

    def ask(_):
        with app.test_request_context("/"):
            start.wait()
            value = pagecache.memoize(("contract",), ("concurrent-test",), compute, max_age=60)
            db.session.remove()
            return value

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, range(4))) == [42] * 4
    assert len(calls) == 1


# --- a staff member's own copy of the report ----------------------------------------------------


def kept_report(client, path: str = "/staff/report") -> None:
    """Ask twice: the first answer puts the form's token in the session, so is not kept."""
    client.get(path)
    client.get(path)


def update_user(app, user_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(**values))
        db.session.commit()
        db.session.remove()


def test_a_staff_members_report_is_kept_for_their_session(app, client, auth, make_user):
    staff = make_user(role="staff", scope=None, name="Camille Staff")
    auth.login_as(staff)
    kept_report(client)
    n, page = queries_of(app, client, "/staff/report")
    assert n <= 2  # the account (checked on every request) and the counters
    assert "Camille Staff" in page
    # Another staff member gets their own page: their name, their session's form token.
    other_client = app.test_client()
    other = make_user(role="staff", scope=None, name="Dominique Staff")
    conftest.AuthActions(other_client).login_as(other)
    kept_report(other_client)
    _, theirs = queries_of(app, other_client, "/staff/report")
    assert "Dominique Staff" in theirs and "Camille Staff" not in theirs


def test_the_account_is_still_checked_on_every_request(app, client, auth, make_user):
    staff = make_user(role="staff", scope=None, name="Camille Staff")
    auth.login_as(staff)
    client.get("/staff/report")
    client.get("/staff/report")
    update_user(app, staff.id, display_name="Camille Renamed")
    assert "Camille Renamed" in client.get("/staff/report").get_data(as_text=True)
    update_user(app, staff.id, role=Role.RESIDENT)
    assert client.get("/staff/report").status_code == 403
    update_user(app, staff.id, role=Role.STAFF)
    assert client.get("/staff/report").status_code == 200
    # A copy of the cookie is served the kept page while the session lives, never after.
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/staff/report").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert thief.get("/staff/report").status_code == 302
    assert client.get("/staff/report").status_code == 302


def test_a_kept_report_ages_and_follows_the_figures(
    app, client, auth, make_user, make_event, add_registration, refresh_figures, monkeypatch
):
    staff = make_user(role="staff", scope=None)
    auth.login_as(staff)
    kept_report(client)
    assert queries_of(app, client, "/staff/report")[0] <= 2
    now = pagecache.time.monotonic()
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now + 31)
    assert queries_of(app, client, "/staff/report")[0] > 2
    assert queries_of(app, client, "/staff/report")[0] <= 2
    refresh_figures()  # nothing new: the copy stays
    assert queries_of(app, client, "/staff/report")[0] <= 2
    event = make_event(capacity=None)
    with app.app_context():
        node = db.session.scalar(sa.select(ObjectiveNode).where(ObjectiveNode.code == "1"))
        db.session.execute(
            sa.insert(event_objectives).values(event_id=event.id, objective_id=node.id)
        )
        db.session.commit()
        db.session.remove()
    add_registration(event, make_user())
    client.get("/staff/report")  # the new link moved the contract's counter: rendered again
    assert queries_of(app, client, "/staff/report")[0] <= 2  # the activity alone: kept
    assert refresh_figures().changed > 0  # new figures: the copy is dropped
    assert queries_of(app, client, "/staff/report")[0] > 2


def test_the_form_token_of_a_kept_report_is_valid(database, make_user):
    """The copy is the session's own: the target form it holds can still be sent."""
    other = create_app(conftest.test_config(database, WTF_CSRF_ENABLED=True))
    staff = make_user(role="staff", scope=None)
    client = other.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"email": staff.email, "password": PASSWORD,
                                     "csrf_token": token})  # fmt: skip
    kept_report(client, "/staff/report?year=2026")
    n, page = queries_of(other, client, "/staff/report?year=2026")
    assert n <= 2
    response = client.post(
        "/staff/report/targets",
        data={"csrf_token": csrf_token_from(page), "node": "1", "year": "2026",
              "indicator": "events", "value": "654", "commune": ""},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get("/staff/report?year=2026").get_data(as_text=True)
    assert "654" in page  # a new target: the contract moved, the copy is dropped
    with other.app_context():
        db.engine.dispose()
