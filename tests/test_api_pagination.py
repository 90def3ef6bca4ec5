"""The JSON API's ``next`` links resume by cursor (keyset): every row once, in order, at a
constant number of queries; ``page=`` still works; a bad cursor is a localized 400."""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from blagis.extensions import db
from blagis.initiatives.services import search_text_for
from blagis.models import Event, EventKind, Initiative, ModerationState, PublicStatus, utcnow

# A few shared values so that many rows tie on the first sort terms (only the id separates them).
BASE = utcnow().replace(microsecond=0) - timedelta(days=30)


def add_initiatives(app, n: int, start: int = 0) -> None:
    with app.app_context():
        for i in range(start, start + n):
            title = f"Jardin {i}"
            db.session.add(
                Initiative(
                    title=title,
                    summary="Un potager.",
                    body="Texte",
                    commune_code="sceaux" if i % 2 else "bagneux",
                    state=ModerationState.PUBLISHED if i % 7 else ModerationState.PENDING,
                    status=PublicStatus.UNDER_STUDY if i % 3 else PublicStatus.NEW,
                    search_text=search_text_for(title, "Un potager.", "Texte"),
                    published_at=BASE + timedelta(days=i % 3),
                    answered_at=BASE + timedelta(days=i % 2) if i % 4 else None,
                    support_count=i % 3,
                )
            )
        db.session.commit()


def add_events(app, n: int, start: int = 0) -> None:
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        for i in range(start, start + n):
            starts = now + timedelta(days=1 + i % 3) if i % 2 else now - timedelta(days=1 + i % 3)
            db.session.add(
                Event(
                    title=f"Atelier {i}",
                    description="",
                    kind=EventKind.ATELIER,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    place="Centre social",
                    commune_code="sceaux",
                    capacity=10,
                    max_seats=1,
                )
            )
        db.session.commit()


def walk(client, url: str, key: str) -> tuple[list[int], list[dict]]:
    """Follow ``next`` from ``url`` to the end: the ids in the order given, and each answer."""
    ids, answers = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        answers.append(body)
        ids += [row["id"] for row in body[key]]
        url = body["next"]
        assert len(answers) < 200, "the walk does not end"
    return ids, answers


def expected_initiatives(app, sort: str) -> list[int]:
    """The order each sort promises, computed in Python from the rows."""
    with app.app_context():
        rows = db.session.query(Initiative).filter_by(state=ModerationState.PUBLISHED).all()
    if sort == "newest":
        rows.sort(key=lambda r: (r.published_at, r.id), reverse=True)
    elif sort == "supported":
        rows.sort(key=lambda r: (r.support_count, r.published_at, r.id), reverse=True)
    else:  # answered first, most recent first; then the unanswered, newest id first
        rows.sort(key=lambda r: (r.answered_at is not None, r.answered_at or BASE, r.id))
        rows.reverse()
    return [r.id for r in rows]


@pytest.mark.parametrize("sort", ["newest", "supported", "answered"])
@pytest.mark.parametrize("per_page", [1, 4, 100])
def test_initiatives_cursor_walk_gives_every_row_once_in_order(app, client, sort, per_page):
    add_initiatives(app, 23)
    expected = expected_initiatives(app, sort)
    ids, answers = walk(client, f"/api/v1/initiatives?sort={sort}&per_page={per_page}", "items")
    assert ids == expected and len(set(ids)) == len(ids) == 19
    assert [a["page"] for a in answers] == list(range(1, len(answers) + 1))
    assert all(a["total"] == 19 and a["per_page"] == per_page for a in answers)
    for answer in answers[:-1]:
        query = parse_qs(urlsplit(answer["next"]).query)
        assert "cursor" in query and "page" not in query
        assert query["per_page"] == [str(per_page)]
        assert query.get("sort", ["newest"]) == [sort]
    # The offset pages (``page=``) give the same order.
    offset = client.get(f"/api/v1/initiatives?sort={sort}&per_page=100&page=1").get_json()
    assert [row["id"] for row in offset["items"]] == expected


def test_initiatives_cursor_keeps_the_filters(app, client):
    add_initiatives(app, 30)
    ids, answers = walk(client, "/api/v1/initiatives?commune=sceaux&q=jardin&per_page=2", "items")
    with app.app_context():
        wanted = {
            i.id
            for i in db.session.query(Initiative).filter_by(
                state=ModerationState.PUBLISHED, commune_code="sceaux"
            )
        }
    assert sorted(ids) == sorted(wanted) and len(ids) == len(wanted)
    assert "commune=sceaux" in answers[0]["next"] and "q=jardin" in answers[0]["next"]


def test_initiatives_page_parameter_still_works(app, client):
    add_initiatives(app, 12)  # 10 published
    second = client.get("/api/v1/initiatives?per_page=3&page=2").get_json()
    first = client.get("/api/v1/initiatives?per_page=3").get_json()
    assert second["page"] == 2 and second["pages"] == 4 and len(second["items"]) == 3
    assert parse_qs(urlsplit(second["prev"]).query) == {"page": ["1"], "per_page": ["3"]}
    assert first["prev"] is None
    # The cursor of page 1 opens the same rows as page=2.
    by_cursor = client.get(first["next"]).get_json()
    assert by_cursor["items"] == second["items"] and by_cursor["page"] == 2
    last = client.get("/api/v1/initiatives?per_page=3&page=4").get_json()
    assert len(last["items"]) == 1 and last["next"] is None
    beyond = client.get("/api/v1/initiatives?per_page=3&page=9").get_json()
    assert beyond["items"] == [] and beyond["next"] is None


def test_a_new_row_between_two_pages_neither_repeats_nor_skips(app, client):
    add_initiatives(app, 8)  # 6 published
    first = client.get("/api/v1/initiatives?per_page=3").get_json()
    with app.app_context():
        db.session.add(
            Initiative(
                title="Toute neuve",
                summary="s",
                body="b",
                commune_code="sceaux",
                state=ModerationState.PUBLISHED,
                search_text="toute neuve",
                published_at=utcnow(),
            )
        )
        db.session.commit()
    ids = [row["id"] for row in first["items"]]
    rest, _answers = walk(client, first["next"], "items")
    assert len(set(ids + rest)) == len(ids + rest) == 6  # the new one is before page 2


@pytest.mark.parametrize("past", [False, True])
@pytest.mark.parametrize("per_page", [1, 2, 100])
def test_events_cursor_walk_gives_every_row_once_in_order(app, client, past, per_page):
    add_events(app, 21)
    with app.app_context():
        now = utcnow()
        rows = db.session.query(Event).all()
    rows = [e for e in rows if (e.ends_at < now) == past]
    rows.sort(key=lambda e: (e.starts_at, e.id), reverse=past)
    url = f"/api/v1/events?per_page={per_page}" + ("&past=1" if past else "")
    ids, answers = walk(client, url, "events")
    assert ids == [e.id for e in rows] and len(set(ids)) == len(ids) > 5
    assert [a["page"] for a in answers] == list(range(1, len(answers) + 1))
    for answer in answers[:-1]:
        query = parse_qs(urlsplit(answer["next"]).query)
        assert "cursor" in query and "page" not in query
        assert query.get("past") == (["1"] if past else None)


def count_walk(client, count_queries, url: str, key: str) -> list[int]:
    counts = []
    while url:
        with count_queries() as q:
            body = client.get(url).get_json()
        counts.append(q.count)
        url = body["next"]
    return counts


@pytest.mark.parametrize(
    ("url", "key", "add"),
    [
        ("/api/v1/initiatives?per_page=5", "items", add_initiatives),
        ("/api/v1/initiatives?per_page=5&sort=answered", "items", add_initiatives),
        ("/api/v1/events?per_page=3", "events", add_events),
        ("/api/v1/events?per_page=3&past=1", "events", add_events),
    ],
)
def test_every_page_runs_the_same_queries_at_two_sizes(app, client, count_queries, url, key, add):
    add(app, 14)
    client.get(url)  # warm the per-process caches
    small = count_walk(client, count_queries, url, key)
    add(app, 140, start=14)
    large = count_walk(client, count_queries, url, key)
    assert len(large) > len(small) > 1
    assert set(small) == set(large) and len(set(large)) == 1, (small, large)


def token(payload) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "garbage",
    "%01",
    "x" * 5000,
    "!!!!",
    token({"not": "a list"}),
    token(["newest"]),
    token(["supported", 2, 3, "2026-01-01T00:00:00+00:00", 4]),  # another sort's cursor
    token(["newest", 1, "2026-01-01T00:00:00+00:00", 4]),  # page 1 has no cursor
    token(["newest", 0, "2026-01-01T00:00:00+00:00", 4]),
    token(["newest", True, "2026-01-01T00:00:00+00:00", 4]),
    token(["newest", 2, "2026-01-01T00:00:00", 4]),  # naive date
    token(["newest", 2, "not a date", 4]),
    token(["newest", 2, None, 4]),  # published_at is never NULL
    token(["newest", 2, "2026-01-01T00:00:00+00:00", -1]),
    token(["newest", 2, "2026-01-01T00:00:00+00:00", 2**40]),
    token(["newest", 2, "2026-01-01T00:00:00+00:00", 4.5]),
    token(["newest", 2, "2026-01-01T00:00:00+00:00", "4"]),
    token(["newest", 2, "2026-01-01T00:00:00+00:00", False]),
    token(["newest", 2, "2026-01-01T00:00:00+00:00", 4, 5]),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_bad_cursor_is_a_localized_400(app, client, cursor):
    add_initiatives(app, 3)
    add_events(app, 3)
    for path in ("/api/v1/initiatives", "/api/v1/events"):
        response = client.get(f"{path}?cursor={cursor}&lang=fr")
        assert response.status_code == 400, (path, cursor)
        error = response.get_json()["error"]
        assert error["status"] == 400 and "curseur" in error["message"]
    english = client.get(f"/api/v1/events?cursor={cursor}&lang=en")
    assert english.status_code == 400 and "cursor" in english.get_json()["error"]["message"]


def test_a_cursor_of_the_other_events_listing_is_refused(app, client):
    add_events(app, 8)
    upcoming = client.get("/api/v1/events?per_page=1").get_json()["next"]
    cursor = parse_qs(urlsplit(upcoming).query)["cursor"][0]
    assert client.get(f"/api/v1/events?past=1&cursor={cursor}").status_code == 400
    add_initiatives(app, 3)
    answered = client.get("/api/v1/initiatives?per_page=1&sort=answered").get_json()["next"]
    cursor = parse_qs(urlsplit(answered).query)["cursor"][0]
    assert client.get(f"/api/v1/initiatives?cursor={cursor}").status_code == 400
    assert client.get(f"/api/v1/initiatives?sort=answered&cursor={cursor}").status_code == 200


def test_an_empty_cursor_is_the_first_page(app, client):
    add_events(app, 4)
    assert client.get("/api/v1/events?cursor=").get_json()["page"] == 1
