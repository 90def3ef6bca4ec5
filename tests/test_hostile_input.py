"""Random and hostile values to every route, form field and query parameter: never a 500,
never an HTML fragment echoed unescaped, never a stack trace.

Targets come from ``app.url_map``; the form fields of a page are read from its own HTML
(so a new domain's forms are covered without editing this file), POST-only routes get the
field names of the public contract (docs/product.md), and every GET gets the contract's
query parameters.
"""

import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blagis.models import Role
from tests.conftest import PASSWORD

EXAMPLES = 30

# Field and query names of the public contract (docs/product.md).
CONTRACT_FIELDS = [
    "email", "display_name", "password", "password_confirm", "commune", "accept_terms",
    "title", "summary", "body", "reason", "seats", "skills", "availability", "contact_ok",
    "decision", "status", "answer", "objectives", "description", "kind", "starts_at",
    "ends_at", "place", "capacity", "max_seats", "cancelled", "name", "phone", "present",
    "needed", "user_id", "role",
]  # fmt: skip
QUERY_PARAMS = [
    "q", "status", "commune", "objective", "page", "per_page", "kind", "past", "state", "year",
    "lang", "next", "action", "actor", "object_type", "date_from", "date_to", "role",
]  # fmt: skip

HTML_PAYLOADS = [
    "<script>alert('blagis')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "</textarea><b>bold</b>",
    "javascript:alert(1)//<iframe src=x>",
]
HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "\x00",
    "\x00\x01\x02\x1b[31m",
    "\r\nSet-Cookie: x=1",
    "../../etc/passwd",
    "{{ 7*7 }}",
    "${7*7}",
    "%(name)s",
    "-1",
    "0",
    "99999999999999999999999999",
    "-99999999999999999999",
    "1e308",
    "NaN",
    "Infinity",
    "3.14",
    "0x10",
    "true",
    "[]",
    "{}",
    "null",
    "0000-00-00T00:00",
    "2026-02-30T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-13-01",
    "1900-01-01",
    "\u202eevil",
    "😀" * 10,
    " ",
]

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.sampled_from(HTML_PAYLOADS),
    st.tuples(st.text(max_size=10), st.sampled_from(HTML_PAYLOADS)).map("".join),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=300, max_value=20000).map(lambda n: "x" * n),
    st.dates().map(lambda d: d.isoformat()),
)
field_value = st.one_of(values, st.lists(values, min_size=2, max_size=3))


def _names_in(html: str) -> list[str]:
    return sorted(set(re.findall(r'name="([A-Za-z_][\w-]*)"', html)) - {"csrf_token"})


def _payloads_in(data: dict) -> list[str]:
    found = []
    for value in data.values():
        for item in value if isinstance(value, list) else [value]:
            found += [p for p in HTML_PAYLOADS if p in item]
    return found


def _check(response, sent: dict, where: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{where}: {response.status_code} for {sent!r}"
    assert "Traceback" not in body, where
    if response.mimetype == "text/html":
        for payload in _payloads_in(sent):
            assert payload not in body, f"{where}: {payload!r} echoed unescaped"


def _targets(app, html_by_rule):
    """(rule, method, field names) for every rule but static files."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            names = html_by_rule.get(rule.rule) or CONTRACT_FIELDS
            yield rule, method, names if method == "POST" else QUERY_PARAMS


def _fill(rule, path_values: list[str]) -> str:
    url = rule.rule
    for arg, value in zip(sorted(rule.arguments), path_values, strict=False):
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(arg) + ">", quote(value, safe="") or "x", url)
    return url


def test_hostile_input_never_breaks_a_page(app, make_user):
    admin = make_user("admin@example.org", role=Role.ADMIN, commune=None)
    make_user("resident@example.org")
    login = app.test_client()
    assert (
        login.post("/auth/login", data={"email": admin.email, "password": PASSWORD}).status_code
        == 302
    )
    cookie = login.get_cookie("session").value

    # The form fields of every page that has a GET, read from the page itself.
    html_by_rule = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            client = app.test_client()
            client.set_cookie("session", cookie)
            html_by_rule[rule.rule] = _names_in(client.get(rule.rule).get_data(as_text=True))

    targets = list(_targets(app, html_by_rule))
    assert len(targets) >= 20

    for rule, method, names in targets:
        _probe(app, cookie, rule, method, names)()


def _probe(app, cookie, rule, method, names):
    """A hypothesis test sending random values to one route and method."""
    path_args = st.lists(
        st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(HOSTILE)),
        min_size=len(rule.arguments),
        max_size=len(rule.arguments),
    )
    params = st.dictionaries(st.sampled_from(names), field_value, max_size=len(names))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(path_values=path_args, data=params, as_anonymous=st.booleans())
    def probe(path_values, data, as_anonymous):
        client = app.test_client()
        if not as_anonymous:
            client.set_cookie("session", cookie)
        url = _fill(rule, path_values)
        where = f"{method} {rule.rule} ({url[:80]})"
        if method == "GET":
            response = client.get(url, query_string=data)
        else:
            response = client.open(url, method=method, data=data)
        _check(response, data, where)
        response.close()

    return probe
