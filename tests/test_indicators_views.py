"""Objectives pages, the staff report and CSV, targets, and the three open-data APIs."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import AuditEntry, Role, Target, User
from tests.factories_indicators import build_dataset

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?:\+33|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")


@pytest.fixture
def dataset(app, refresh_figures):
    with app.app_context():
        made = build_dataset()
        db.session.remove()
    refresh_figures()  # the pages read the stored figures, as in production
    return made


@pytest.fixture
def staff(make_user, auth):
    user = make_user("agent@example.org", role=Role.STAFF, commune=None)
    auth.login_as(user)
    return user


def test_objectives_page_shows_headline_figures(client, dataset, monkeypatch):
    import blagis.indicators.services as services

    monkeypatch.setattr(services, "current_year", lambda: 2025)
    html = client.get("/objectives?lang=en").get_data(as_text=True)
    assert "Figures for 2025" in html
    assert "2 activities · 4 participants · 2 initiatives" in html  # axis 1 and 1.1


def test_objectives_page_shows_no_target_when_none_is_set(client, dataset, monkeypatch):
    import blagis.indicators.services as services

    monkeypatch.setattr(services, "current_year", lambda: 2025)
    html = client.get("/objectives?lang=en").get_data(as_text=True)
    assert "/ target" not in html and "tree__targets" not in html and "reached" not in html


def test_objectives_page_shows_targets_set_by_staff(client, auth, dataset, staff, monkeypatch):
    import blagis.indicators.services as services

    monkeypatch.setattr(services, "current_year", lambda: 2025)
    # The tree's targets are this year's, territory-wide: not 2024's, not one commune's.
    for node, year, indicator, value, commune in (
        ("1.1", "2025", "events", "4", ""),
        ("1", "2025", "participants", "3", ""),
        ("2", "2024", "events", "9", ""),
        ("3", "2025", "events", "7", "sceaux"),
    ):
        data = {"node": node, "year": year, "indicator": indicator, "value": value}
        response = client.post("/staff/report/targets", data={**data, "commune": commune})
        assert response.status_code == 302
    auth.logout()  # the public page
    html = client.get("/objectives?lang=en").get_data(as_text=True)
    # In words, not by colour only: the figure, the target and how far it is reached.
    assert "Events held: 2 / target 4 · " in html and "50% reached" in html
    assert "Distinct participants: 4 / target 3 · " in html and ">reached<" in html
    assert html.count("<li>Events held:") == 1 and "target 9" not in html and "target 7" not in html
    fr = client.get("/objectives?lang=fr").get_data(as_text=True)
    assert "Activités réalisées : 2 / objectif 4" in fr and "atteint à 50 %" in fr


def test_node_page_has_chart_and_text_table(client, dataset):
    html = client.get("/objectives/1.1?lang=en").get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html and "<title" in html
    assert "Figures of 1.1 since 2024" in html
    # Year columns since 2024 and the 2025 figures (2 events).
    assert re.search(r"<th scope=\"col\">2024</th><th scope=\"col\">2025</th>", html)
    assert "Set a target" not in html  # not staff


def test_report_is_for_staff(client, auth, make_user):
    assert client.get("/staff/report").status_code == 302
    auth.login_as(make_user(role=Role.RESIDENT))
    assert client.get("/staff/report").status_code == 403
    assert client.get("/staff/report.csv").status_code == 403


def test_report_sections_and_gaps(client, dataset, staff):
    html = client.get("/staff/report?year=2025&lang=en").get_data(as_text=True)
    assert 'class="report-axis"' in html and 'id="objective-1.1"' in html
    assert "Réveillon solidaire" in html and "Café numérique" in html
    assert "Galette" not in html and "Annulé" not in html
    assert "Bancs" in html and "Fresque" in html and "Jardin" not in html  # answered in 2025
    assert "No activity in 2025" in html  # e.g. axis 3
    commune = client.get("/staff/report?year=2025&commune=sceaux&lang=en").get_data(as_text=True)
    assert "Café numérique" in commune and "Réveillon solidaire" not in commune


def test_report_lists_the_first_items_and_counts_the_rest(client, dataset, staff, monkeypatch):
    """At territory scale a theme holds thousands of activities: the report names the first."""
    import blagis.indicators.services as services

    monkeypatch.setattr(services, "LISTED_PER_NODE", 1)
    html = client.get("/staff/report?year=2025&lang=en").get_data(as_text=True)
    axis = html[html.index('id="axis-1"') : html.index('id="axis-2"')]
    first_list = axis[axis.index("Activities held") :]
    assert "Café numérique" in first_list.split("</ul>")[0]  # the first, by date
    assert "Réveillon solidaire" not in first_list.split("</ul>")[0]
    assert "And 1 more activity." in axis
    assert re.search(r'href="/events\?(objective=1\.1&amp;past=1|past=1&amp;objective=1\.1)"', axis)
    with client.application.app_context():
        listed = services.events_held(2025, limit=1)
        assert listed["1.1"].total == 2 and len(listed["1.1"].items) == 1
        assert listed["1.1"].more == 1
        answered = services.initiatives_answered(2025, limit=5)
        assert all(len(x.items) == x.total for x in answered.values())


def test_report_csv(client, dataset, staff):
    response = client.get("/staff/report.csv?year=2025")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";")
    rows = {row["code"]: row for row in reader}
    assert rows["1"]["events"] == "2" and rows["1"]["participants"] == "4"
    assert rows["1"]["attendance_rate"] == "86" and rows["1"]["active"] == "yes"
    assert rows["3"]["events"] == "0" and rows["3"]["active"] == "no"
    assert rows["3"]["attendance_rate"] == ""
    assert rows["2"]["answered"] == "1"
    assert "Personne" not in response.data.decode("utf-8-sig")  # figures only, no people


def test_report_csv_quotes_arithmetic_titles(app, client, dataset, staff):
    from blagis.models import ObjectiveNode

    with app.app_context():
        node = db.session.scalar(select(ObjectiveNode).where(ObjectiveNode.code == "1"))
        node.title_fr = "-2+3"
        db.session.commit()
    body = client.get("/staff/report.csv?year=2025").data.decode("utf-8-sig")
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(body), delimiter=";")}
    assert rows["1"]["title"] == "'-2+3"
    assert rows["1"]["events"] == "2"  # numbers stay numbers


@pytest.mark.parametrize(
    "query", ["year=abc", "year=1800", "year=99999", "year=2025&commune=nowhere"]
)
def test_report_bad_input_is_404(client, staff, query):
    assert client.get(f"/staff/report?{query}").status_code == 404
    assert client.get(f"/staff/report.csv?{query}").status_code == 404


def test_bad_codes_and_years_elsewhere(client):
    assert client.get("/objectives/9.9").status_code == 404
    assert client.get("/api/v1/objectives?year=abc").status_code == 404
    assert client.get("/api/v1/objectives?year=1800").status_code == 404
    assert client.get("/api/v1/objectives?commune=%00x").status_code in (400, 404)
    assert client.get("/api/v1/objectives?page=abc&per_page=-4").status_code == 200


def test_set_target_then_report_shows_it(app, client, dataset, staff):
    response = client.post(
        "/staff/report/targets",
        data={"node": "1.1", "year": "2025", "indicator": "events", "value": "4", "commune": ""},
    )
    assert response.status_code == 302 and "year=2025" in response.headers["Location"]
    # Again: an update, not a second row.
    client.post(
        "/staff/report/targets",
        data={"node": "1.1", "year": "2025", "indicator": "events", "value": "2", "commune": ""},
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Target)) == 1
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions.count("target.set") == 2
    html = client.get("/staff/report?year=2025&lang=en").get_data(as_text=True)
    assert "reached" in html
    csv_text = client.get("/staff/report.csv?year=2025").data.decode("utf-8-sig")
    assert next(line for line in csv_text.splitlines() if line.startswith("1.1;"))
    node = client.get("/objectives/1.1?lang=en").get_data(as_text=True)
    assert "Set a target" in node
    # An empty value removes it.
    client.post(
        "/staff/report/targets",
        data={"node": "1.1", "year": "2025", "indicator": "events", "value": "", "commune": ""},
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Target)) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"node": "9.9", "year": "2025", "indicator": "events", "value": "3"},
        {"node": "1", "year": "1800", "indicator": "events", "value": "3"},
        {"node": "1", "year": "abc", "indicator": "events", "value": "3"},
        {"node": "1", "year": "2025", "indicator": "nope", "value": "3"},
        {"node": "1", "year": "2025", "indicator": "events", "value": "-3"},
        {"node": "1", "year": "2025", "indicator": "events", "value": "3", "commune": "x"},
    ],
)
def test_bad_targets_give_the_form_again(client, staff, data):
    response = client.post("/staff/report/targets", data=data)
    assert response.status_code == 422
    assert "form-errors" in response.get_data(as_text=True)


def test_scoped_staff_sets_targets_only_in_their_commune(client, auth, make_user, dataset):
    auth.login_as(make_user(role=Role.STAFF, scope="sceaux"))
    base = {"node": "1", "year": "2025", "indicator": "events", "value": "3"}
    assert client.post("/staff/report/targets", data={**base, "commune": ""}).status_code == 403
    assert (
        client.post("/staff/report/targets", data={**base, "commune": "sceaux"}).status_code == 302
    )


def _grow(app, times, first):
    with app.app_context():
        build_dataset(scale=times, first=first)
        db.session.remove()


def test_query_count_does_not_grow_with_the_data(
    app, client, staff, count_queries, refresh_figures
):
    _grow(app, 1, 0)
    refresh_figures()
    counts = {}
    for size in ("small", "large"):
        if size == "large":
            _grow(app, 9, 1)  # ten times the data
            refresh_figures()
        with count_queries() as objectives:
            assert client.get("/objectives").status_code == 200
        with count_queries() as report:
            assert client.get("/staff/report?year=2025").status_code == 200
        with count_queries() as node:
            assert client.get("/objectives/1").status_code == 200
        with count_queries() as api:
            assert client.get("/api/v1/objectives?year=2025").status_code == 200
        counts[size] = (objectives.count, report.count, node.count, api.count)
    assert counts["small"] == counts["large"], counts
    assert counts["small"][0] <= 10 and counts["small"][1] <= 15, counts


API_URLS = ("/api/v1/initiatives", "/api/v1/events?past=1", "/api/v1/events", "/api/v1/objectives")


def test_apis_carry_no_personal_data(app, client, dataset):
    with app.app_context():
        names = db.session.scalars(select(User.display_name)).all()
    assert names
    for url in API_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert not EMAIL.search(body), url
        assert not PHONE.search(body), url
        for name in names:
            assert name not in body, (url, name)
        assert "Mme Sans Compte" not in body


@pytest.mark.parametrize("url", API_URLS)
def test_apis_are_paginated_and_cacheable(client, dataset, url):
    response = client.get(url + ("&" if "?" in url else "?") + "per_page=1000")
    data = response.get_json()
    assert data["per_page"] == 100 and "next" in data and data["page"] == 1
    etag = response.headers["ETag"]
    assert etag and "max-age" in response.headers["Cache-Control"]
    again = client.get(
        url + ("&" if "?" in url else "?") + "per_page=1000", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    other = client.get(
        url + ("&" if "?" in url else "?") + "per_page=1000",
        headers={"If-None-Match": '"something-else"'},
    )
    assert other.status_code == 200


def test_api_next_link(client, dataset):
    data = client.get("/api/v1/objectives?per_page=1&year=2025").get_json()
    assert data["total"] == 4 and len(data["objectives"]) == 1
    assert data["next"].endswith("page=2&per_page=1&year=2025") or "page=2" in data["next"]
    second = client.get(data["next"].removeprefix("http://blagis.test")).get_json()
    assert second["objectives"][0]["code"] == "2"
    assert second["objectives"][0]["indicators"]["events"] == 2
    last = client.get("/api/v1/objectives?per_page=1&page=4").get_json()
    assert last["next"] is None
