"""iCalendar files of events, built with the ``icalendar`` library.

UIDs are stable (``event-<id>@<host>``), times are given in Europe/Paris with its VTIMEZONE,
SEQUENCE follows the event's edits and a cancelled event says STATUS:CANCELLED, so calendar
applications update or strike out their copy.

Every value goes through the library as a typed value (``vText`` for text, which escapes
``\\ ; ,`` and line breaks); no line is ever written by hand. Text is cleaned first: one line for
titles, places and names (a CR/LF typed into a title before the forms refused it, or written
into the database by other means, must not break the file), lines kept for the description,
and no other control character, which RFC 5545 forbids in text.
"""

from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, vText
from icalendar import Event as VEvent

from blagis.models import Event
from blagis.text import multi_line, single_line
from blagis.timeutils import PARIS
from blagis.urls import base_url


def _host() -> str:
    return urlsplit(current_app.config["BLAGIS_BASE_URL"]).hostname or "blagis"


def _vevent(event: Event, commune_names: dict[str, str]) -> VEvent:
    base = base_url()
    item = VEvent()
    item.add("uid", f"event-{event.id}@{_host()}")
    item.add("dtstamp", event.updated_at)
    item.add("last-modified", event.updated_at)
    item.add("created", event.created_at)
    item.add("sequence", event.sequence)
    item.add("dtstart", event.starts_at.astimezone(PARIS))
    item.add("dtend", event.ends_at.astimezone(PARIS))
    item.add("summary", vText(single_line(event.title)))
    commune = commune_names.get(event.commune_code, event.commune_code)
    item.add("location", vText(single_line(f"{event.place}, {commune}")))
    item.add("description", vText(multi_line(event.description)))
    item.add("url", f"{base}/events/{event.id}")
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if event.partner_id is not None and event.partner is not None:
        item.add(
            "organizer",
            f"mailto:ne-pas-repondre@{_host()}",
            parameters={"CN": single_line(event.partner.name)},
        )
    return item


def _calendar(events, name: str) -> bytes:
    from blagis.templating import communes

    names = {c.code: c.name for c in communes()}
    cal = Calendar()
    cal.add("prodid", "-//Blagis//Engagements Quartiers 2030//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # An X- property is untyped for the library (written raw): say it is text.
    cal.add("x-wr-calname", vText(single_line(name)))
    cal.add("x-wr-timezone", "Europe/Paris")
    for event in events:
        cal.add_component(_vevent(event, names))
    cal.add_missing_timezones()
    return cal.to_ical()


def event_calendar(event: Event) -> bytes:
    """One event (its partner must be loaded)."""
    return _calendar([event], event.title)


def feed_calendar(events, name: str = "Blagis") -> bytes:
    return _calendar(events, name)
