"""The Host header never reaches a link: absolute links come from BLAGIS_BASE_URL, other hosts
are refused (TRUSTED_HOSTS), and the page cache never hands one visitor's host to another."""

import pytest

from blagis import create_app
from blagis.config import ConfigError
from blagis.extensions import db
from tests import factories_events
from tests.conftest import test_config as make_config

make_event = factories_events.make_event

BASE = "http://blagis.test"
EVIL = "evil.example"
API_PATHS = ("/api/v1/events", "/api/v1/initiatives", "/api/v1/objectives")

_BUILT = []


def build_app(database, **overrides):
    """An app of its own on the test database (page cache on, as in production)."""
    app = create_app(make_config(database, **overrides))
    _BUILT.append(app)
    return app


@pytest.fixture(autouse=True)
def _dispose_extra_apps():
    yield
    while _BUILT:
        app = _BUILT.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def listed(app, make_event):
    """Two events and two published initiatives: every list has a second page (``next``)."""
    from blagis.models import Initiative, ModerationState, PublicStatus, utcnow

    events = [make_event(title=f"Atelier {i}") for i in range(2)]
    with app.app_context():
        for i in range(2):
            db.session.add(
                Initiative(
                    title=f"Idée {i}",
                    summary="Résumé",
                    body="Texte",
                    commune_code="sceaux",
                    state=ModerationState.PUBLISHED,
                    status=PublicStatus.NEW,
                    search_text=f"idee {i}",
                    published_at=utcnow(),
                )
            )
        db.session.commit()
    return events


def links_of(payload) -> list[str]:
    """Every string in a JSON answer that looks like an absolute link."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and "://" in value:
            found.append(value)

    walk(payload)
    return found


def test_unknown_host_is_refused_and_never_cached(app, client, listed):
    for path in (*API_PATHS, "/", "/events", "/no-such-page", "/healthz"):
        response = client.get(path + "?per_page=1", headers={"Host": EVIL})
        assert response.status_code == 400, (path, response.status_code)
        assert EVIL not in response.get_data(as_text=True)
    assert client.post("/auth/login", headers={"Host": EVIL}).status_code == 400
    # The next visitor of the same pages gets the site's own links.
    for path in API_PATHS:
        response = client.get(path + "?per_page=1")
        assert response.status_code == 200
        links = links_of(response.get_json())
        assert links and all(link.startswith(BASE + "/") for link in links), (path, links)


def test_trusted_hosts_come_from_the_base_url(app):
    assert app.config["TRUSTED_HOSTS"] == ["blagis.test", "localhost", "127.0.0.1"]


def test_api_and_calendar_links_use_the_base_url(client, listed):
    event = listed[0]
    events = client.get("/api/v1/events?per_page=1").get_json()
    first = events["events"][0]
    assert first["url"] == f"{BASE}/events/{first['id']}"
    assert first["ics"] == f"{BASE}/events/{first['id']}.ics"
    assert events["next"].startswith(f"{BASE}/api/v1/events?")
    initiatives = client.get("/api/v1/initiatives?per_page=1").get_json()
    assert initiatives["items"][0]["url"].startswith(f"{BASE}/initiatives/")
    assert initiatives["next"].startswith(f"{BASE}/api/v1/initiatives?")
    objectives = client.get("/api/v1/objectives?per_page=1").get_json()
    assert objectives["next"].startswith(f"{BASE}/api/v1/objectives?")
    ics = client.get(f"/events/{event.id}.ics").get_data(as_text=True)
    assert f"URL:{BASE}/events/{event.id}" in ics


def test_a_forged_host_never_reaches_links_even_when_accepted(database, listed):
    """Hosts not checked (TRUSTED_HOSTS off): links still come from the base URL only."""
    open_app = build_app(database, TRUSTED_HOSTS=None, PAGE_CACHE_SECONDS=30)
    client = open_app.test_client()
    for path in API_PATHS:
        forged = client.get(path + "?per_page=1", headers={"Host": EVIL})
        assert forged.status_code == 200
        assert EVIL not in forged.get_data(as_text=True)
        later = client.get(path + "?per_page=1")
        assert EVIL not in later.get_data(as_text=True)
        assert all(link.startswith(BASE + "/") for link in links_of(later.get_json()))


def test_development_without_base_url_keys_the_cache_by_host(database, listed, monkeypatch):
    """Development links follow the browser's host; a cached page never crosses hosts."""
    monkeypatch.delenv("BLAGIS_BASE_URL", raising=False)
    config = make_config(database, BLAGIS_ENV="development", PAGE_CACHE_SECONDS=30)
    del config["BLAGIS_BASE_URL"], config["BLAGIS_EXTRA_HOSTS"]
    dev = create_app(config)
    _BUILT.append(dev)
    assert dev.config["TRUSTED_HOSTS"] is None
    client = dev.test_client()
    forged = client.get("/api/v1/events?per_page=1", headers={"Host": EVIL}).get_json()
    assert all(link.startswith(f"http://{EVIL}/") for link in links_of(forged))
    normal = client.get("/api/v1/events?per_page=1").get_json()
    links = links_of(normal)
    assert links and all(link.startswith("http://localhost/") for link in links)


def test_production_requires_the_base_url(database, monkeypatch):
    monkeypatch.delenv("BLAGIS_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="BLAGIS_BASE_URL"):
        create_app({"BLAGIS_ENV": "production", "SECRET_KEY": "x" * 32, "DATABASE_URL": database})


def test_extra_hosts_and_development_loopback(database, monkeypatch):
    monkeypatch.delenv("BLAGIS_EXTRA_HOSTS", raising=False)
    app = build_app(
        database,
        BLAGIS_BASE_URL="https://participation.example.fr/",
        BLAGIS_EXTRA_HOSTS="www.example.fr, 10.0.0.5",
    )
    assert app.config["TRUSTED_HOSTS"] == ["participation.example.fr", "www.example.fr", "10.0.0.5"]
    config = make_config(
        database, BLAGIS_ENV="development", BLAGIS_BASE_URL="http://127.0.0.1:8000"
    )
    del config["BLAGIS_EXTRA_HOSTS"]
    dev = create_app(config)
    _BUILT.append(dev)
    assert dev.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
