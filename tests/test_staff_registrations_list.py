"""Issue 15, item 16: the staff list of an event's registrations is paged (keyset), searchable
and filterable; the signing sheet and the CSV stay whole."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from blagis.extensions import db
from blagis.models import Registration, RegistrationState, utcnow
from tests import factories_events

make_event = factories_events.make_event


@pytest.fixture
def staff(make_user, auth):
    user = make_user(role="staff", scope="sceaux", locale="en")
    auth.login_as(user)
    return user


def fill(app, event, n, *, state="confirmed", prefix="Personne"):
    """``n`` registrations of people without an account, in one statement."""
    now = utcnow()
    with app.app_context():
        db.session.execute(
            insert(Registration),
            [
                {
                    "event_id": event.id,
                    "name": f"{prefix} {i:03d}",
                    "phone": f"06 00 00 {i // 100:02d} {i % 100:02d}",
                    "seats": 1,
                    "state": RegistrationState(state),
                    "created_at": now + timedelta(seconds=i),
                    "reminders_ok": True,
                }
                for i in range(n)
            ],
        )
        db.session.commit()


def names(html: str) -> list[str]:
    return re.findall(r'class="attendance-item__name">([^<]+)<', html)


def next_link(html: str) -> str | None:
    match = re.search(r'rel="next" href="([^"]+)"', html)
    return match and match.group(1).replace("&amp;", "&")


def test_first_page_only_with_a_next_link_that_reaches_the_rest(app, client, staff, make_event):
    event = make_event(capacity=None)
    fill(app, event, 120)
    url = f"/staff/events/{event.id}/registrations"
    html = client.get(url).get_data(as_text=True)
    first = names(html)
    assert len(first) == 50 and first[0] == "Personne 000"
    assert "120 registrations found" in html
    assert 'aria-label="Pages of registrations"' in html
    seen = list(first)
    link = next_link(html)
    pages = 1
    while link:
        html = client.get(link).get_data(as_text=True)
        seen += names(html)
        assert 'rel="first"' in html
        link = next_link(html)
        pages += 1
    assert pages == 3
    assert seen == [f"Personne {i:03d}" for i in range(120)]


def test_search_and_state_filter(app, client, staff, make_event):
    event = make_event(capacity=None)
    fill(app, event, 60)
    fill(app, event, 3, state="cancelled", prefix="Annulé")
    fill(app, event, 2, state="waitlisted", prefix="Attente")
    url = f"/staff/events/{event.id}/registrations"
    html = client.get(url + "?q=personne 04").get_data(as_text=True)
    assert names(html) == [f"Personne {i:03d}" for i in range(40, 50)]
    assert "10 registrations found" in html and 'rel="next"' not in html
    html = client.get(url + "?state=cancelled").get_data(as_text=True)
    assert names(html) == ["Annulé 000", "Annulé 001", "Annulé 002"]
    html = client.get(url + "?state=waitlisted&q=001").get_data(as_text=True)
    assert names(html) == ["Attente 001"]
    # Searching by phone; unknown filters and damaged cursors are ignored (first page).
    assert names(client.get(url + "?q=00 00 00 59").get_data(as_text=True)) == ["Personne 059"]
    html = client.get(url + "?state=nope&cursor=garbage").get_data(as_text=True)
    assert len(names(html)) == 50 and "65 registrations found" in html
    # Filters follow the next link.
    html = client.get(url + "?state=confirmed").get_data(as_text=True)
    assert "state=confirmed" in next_link(html)
    html = client.get(next_link(html)).get_data(as_text=True)
    assert names(html) == [f"Personne {i:03d}" for i in range(50, 60)]


def test_page_query_count_is_bounded(app, client, staff, make_event, count_queries):
    small, large = make_event(capacity=None), make_event(capacity=None)
    fill(app, small, 5)
    fill(app, large, 300)
    counts = []
    for event in (small, large):
        with count_queries() as q:
            response = client.get(f"/staff/events/{event.id}/registrations")
        assert response.status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1] and counts[1] <= 10, counts
    page = client.get(f"/staff/events/{large.id}/registrations").get_data(as_text=True)
    assert len(page) < 200_000


def test_sheet_and_csv_stay_whole(app, client, staff, make_event):
    event = make_event(capacity=None)
    fill(app, event, 120)
    fill(app, event, 2, state="cancelled", prefix="Annulé")
    sheet = client.get(f"/staff/events/{event.id}/registrations/sheet").get_data(as_text=True)
    assert len(names(sheet)) == 120  # who may come and sign
    response = client.get(f"/staff/events/{event.id}/registrations.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 122


def test_desk_registration_and_attendance_keep_working(app, client, staff, make_event):
    event = make_event(capacity=None)
    fill(app, event, 60)
    url = f"/staff/events/{event.id}/registrations"
    response = client.post(url, data={"name": "Mme Ndiaye", "phone": "06 12", "seats": "1"})
    assert response.status_code == 302
    assert client.post(url, data={"name": "", "seats": "1"}).status_code == 422
    html = client.get(url + "?q=ndiaye").get_data(as_text=True)
    assert names(html) == ["Mme Ndiaye"]
    # Marking attendance from a filtered page comes back to it.
    registration_id = re.search(r'id="registration-(\d+)"', html).group(1)
    response = client.post(
        f"/staff/registrations/{registration_id}/attendance",
        data={"present": "1", "q": "ndiaye"},
    )
    assert response.status_code == 302
    assert "q=ndiaye" in response.headers["Location"]
    assert response.headers["Location"].endswith(f"#registration-{registration_id}")
