"""Times are stored in UTC and shown, typed and reasoned about in Europe/Paris."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # HTML datetime-local


def to_paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)


def parse_local(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM`` typed in Paris time -> aware UTC datetime (ValueError if invalid)."""
    naive = datetime.strptime(text.strip(), LOCAL_FORMAT)
    return naive.replace(tzinfo=PARIS).astimezone(UTC)


def format_local(value: datetime | None) -> str:
    """The value for a datetime-local input."""
    return to_paris(value).strftime(LOCAL_FORMAT) if value else ""


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, 1 January next year) of a Paris calendar year, in UTC."""
    start = datetime(year, 1, 1, tzinfo=PARIS).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=PARIS).astimezone(UTC)
    return start, end
