"""Rendered public pages and computed figures, kept until the data they show changes.

Most visits are anonymous reads of a few pages (home, lists, an initiative, an event, the
contract tree). Rendering them costs far more than serving them, so an anonymous visitor's page
is kept in the worker's memory and served again to the next anonymous visitor, as long as:

- nothing it shows has changed: each page names the *domains* it shows (``events``,
  ``initiatives``, ``contract``); every committed change to a table of a domain bumps that
  domain's counter in the database (``content_generations``), in the change's own transaction,
  and a page is served from memory only while the counters read before rendering it are still
  the current ones. A worker reads the counters at most once per PAGE_CACHE_CHECK_SECONDS
  (its own commits make it read them again at once), so a hit usually runs no query and
  another worker's or instance's change shows within that delay;
- it is younger than ``PAGE_CACHE_SECONDS`` (what the clock changes: "upcoming", "this week");
- the visitor is anonymous, has no message waiting (flash), and the page set no cookie and
  holds no form token (a CSRF token belongs to one visitor's session).

Logged-in visitors get a fresh page (it shows their own state), except where a view keeps each
session its own copy (``cached_private_page``: the staff report). ``memoize`` keeps
computed values under the same rule, for every visitor. The yearly figures are not kept here:
they are stored in the database by the ``refresh-figures`` cron command
(``blagis.indicators.services``), and a refresh that changes them moves the ``contract`` counter.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request, session
from flask_login import current_user
from sqlalchemy.orm import Session

from blagis.auth import SESSION_KEY
from blagis.extensions import db
from blagis.models.generation import DOMAINS, ContentGeneration

ALL = frozenset(DOMAINS)
# Which domains a change to a table touches. A table not listed touches every domain (safe);
# the tables listed with no domain are never shown on public pages. ``contract`` is the tree,
# the targets and what is linked to which objective; the activity itself (events,
# registrations, initiatives…) is in ``events`` and ``initiatives``.
TABLE_DOMAINS: dict[str, frozenset[str]] = {
    "content_generations": frozenset(),
    "outbox_messages": frozenset(),
    "audit_entries": frozenset(),
    "user_sessions": frozenset(),
    "volunteer_profiles": frozenset(),
    "events": frozenset({"events"}),
    "event_series": frozenset({"events"}),
    "partners": frozenset({"events"}),
    "registrations": frozenset({"events"}),
    "event_objectives": frozenset({"events", "contract"}),
    "missions": frozenset({"events"}),
    "mission_signups": frozenset({"events"}),
    "initiatives": frozenset({"initiatives"}),
    "initiative_status_changes": frozenset({"initiatives"}),
    "initiative_supports": frozenset({"initiatives"}),
    "initiative_reports": frozenset(),
    "initiative_objectives": frozenset({"initiatives", "contract"}),
    "objective_nodes": ALL,
    "indicator_targets": frozenset({"contract"}),
    # The stored yearly figures: pages showing them follow the contract's counter.
    "indicator_figures": frozenset({"contract"}),
    "indicator_figure_years": frozenset(),
}
# Columns of users that public pages show (authors' names, answers signed by role); log-in
# bookkeeping and preferences change nothing anyone else sees.
PUBLIC_USER_COLUMNS = frozenset({"display_name", "role", "commune_code"})
INFO_KEY = "blagis_changed_domains"
BUMPED_KEY = "blagis_bumped_domains"
# When this process last committed a change (monotonic clock): counters read before are stale.
_last_local_change = 0.0


# --- what changed ------------------------------------------------------------------------------


def _domains_of_object(obj, change: str) -> frozenset[str]:
    table = getattr(obj, "__tablename__", None)
    if table == "users":
        if change == "new":
            return frozenset()  # nobody sees an account until it does something
        if change == "deleted":
            return ALL
        state = sa.inspect(obj)
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        return ALL if changed & PUBLIC_USER_COLUMNS else frozenset()
    return TABLE_DOMAINS.get(table, ALL)


def _note(session: Session, domains: frozenset[str]) -> None:
    if domains:
        session.info.setdefault(INFO_KEY, set()).update(domains)


def _after_flush(session: Session, flush_context) -> None:
    for obj in session.new:
        _note(session, _domains_of_object(obj, "new"))
    for obj in session.deleted:
        _note(session, _domains_of_object(obj, "deleted"))
    for obj in session.dirty:
        if session.is_modified(obj):
            _note(session, _domains_of_object(obj, "updated"))


def _on_execute(state) -> None:
    """Bulk ``insert()/update()/delete()`` statements bypass the flush: note them here."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    _note(state.session, TABLE_DOMAINS.get(name, ALL))


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: note its changes now
    domains = session.info.pop(INFO_KEY, None)
    if domains:
        session.execute(
            sa.update(ContentGeneration)
            .where(ContentGeneration.name.in_(sorted(domains)))
            .values(value=ContentGeneration.value + 1)
        )
        session.info[BUMPED_KEY] = True


def _after_commit(session: Session) -> None:
    """This process changed something: its next request reads the counters again."""
    global _last_local_change
    if session.info.pop(BUMPED_KEY, False):
        _last_local_change = time.monotonic()


def _forget(session: Session, *args) -> None:
    session.info.pop(INFO_KEY, None)
    session.info.pop(BUMPED_KEY, None)


_installed = False


def install_listeners() -> None:
    """Watch every session of the app (once per process)."""
    global _installed
    if _installed:
        return
    from flask_sqlalchemy.session import Session as FlaskSession

    sa.event.listen(FlaskSession, "after_flush", _after_flush)
    sa.event.listen(FlaskSession, "do_orm_execute", _on_execute)
    sa.event.listen(FlaskSession, "before_commit", _before_commit)
    sa.event.listen(FlaskSession, "after_commit", _after_commit)
    sa.event.listen(FlaskSession, "after_rollback", _forget)
    _installed = True


# --- the store ---------------------------------------------------------------------------------


class Store:
    """A bounded least-recently-used map, shared by the threads of one worker."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._data.get(key)
            if item is not None:
                self._data.move_to_end(key)
            return item

    def put(self, key, value, size: int) -> None:
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while self._data and (
                len(self._data) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, (_, gone) = self._data.popitem(last=False)
                self._bytes -= gone

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)


def store() -> Store:
    return current_app.extensions["blagis_pagecache"]


def enabled() -> bool:
    return current_app.config["PAGE_CACHE_SECONDS"] > 0


def generations(domains: frozenset[str]) -> tuple | None:
    """The current counters of these domains.

    Read from the database at most once per request, and, when PAGE_CACHE_CHECK_SECONDS > 0,
    at most once in that many seconds per worker: a hit then costs no query at all. A change
    committed by this worker is seen at once; one committed by another worker or instance after
    at most that delay (1 s by default; 0 reads the counters on every request).

    None when a counter row is missing (a database not built by the migrations): nothing is
    then served from memory, since nothing could tell when it went stale.
    """
    known = g.get("blagis_generations")
    if known is None:
        known = g.blagis_generations = _read_generations()
    if not domains <= known.keys():
        return None
    return tuple(known[name] for name in sorted(domains))


def _read_generations() -> dict[str, int]:
    check = current_app.config["PAGE_CACHE_CHECK_SECONDS"]
    snapshot = current_app.extensions["blagis_generations"]
    now = time.monotonic()
    read_at, values = snapshot
    if check > 0 and read_at > _last_local_change and now - read_at < check:
        return values
    values = dict(
        db.session.execute(sa.select(ContentGeneration.name, ContentGeneration.value)).all()
    )
    current_app.extensions["blagis_generations"] = (now, values)
    return values


def memoize(domains, key: tuple, compute: Callable, max_age: int | None = None):
    """``compute()``, or the value computed earlier for ``key`` if its domains have not changed.

    ``max_age`` (seconds) defaults to PAGE_CACHE_SECONDS; 0 (or the cache turned off) computes
    every time.
    """
    ttl = current_app.config["PAGE_CACHE_SECONDS"] if max_age is None else max_age
    if not enabled() or ttl <= 0:
        return compute()
    current = generations(frozenset(domains))
    if current is None:
        return compute()
    full_key = ("memo", key, current)
    item = store().get(full_key)
    if item is not None and item[0][0] > time.monotonic():
        return item[0][1]
    # One thread computes, the worker's other threads asking for the same key wait for it
    # (the figures take seconds at the territory's size: four threads must not all compute).
    with _computing_lock(full_key):
        item = store().get(full_key)
        now = time.monotonic()
        if item is not None and item[0][0] > now:
            return item[0][1]
        value = compute()
        store().put(full_key, (now + ttl, value), 1)
    with _locks_guard:
        _computing.pop(full_key, None)
    return value


_computing: dict = {}
_locks_guard = threading.Lock()


def _computing_lock(key) -> threading.Lock:
    with _locks_guard:
        return _computing.setdefault(key, threading.Lock())


# --- pages -------------------------------------------------------------------------------------


def _anonymous_without_messages() -> bool:
    return not current_user.is_authenticated and "_flashes" not in session


def _replay_or_render(key: tuple, ttl: int, view, args, kwargs, token_ok: bool):
    """The response kept for ``key`` if still young, else the view's, kept for ``ttl`` seconds.

    A response is kept only when it is a plain 200 that set nothing in the session (no cookie to
    replay) and, unless ``token_ok`` (the key names the session), holds no CSRF token.
    """
    now = time.monotonic()
    item = store().get(key)
    if item is not None and item[0][0] > now:
        _, body, status, headers = item[0]
        response = current_app.response_class(body, status=status, headers=headers)
        return response.make_conditional(request)
    response = current_app.make_response(view(*args, **kwargs))
    if (
        response.status_code == 200
        and not session.modified
        and (token_ok or "csrf_token" not in g)  # a form's token belongs to one session
        and not response.direct_passthrough
        and not response.is_streamed
    ):
        body = response.get_data()
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "etag", "cache-control", "vary",
                             "content-disposition", "last-modified")
        ]  # fmt: skip
        store().put(key, (now + ttl, body, 200, headers), len(body))
    return response


def cached_page(*domains: str):
    """Serve the view's page from memory to anonymous visitors while its domains are unchanged."""
    wanted = frozenset(domains) or ALL

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not (
                enabled() and request.method in ("GET", "HEAD") and _anonymous_without_messages()
            ):
                return view(*args, **kwargs)
            from blagis.i18n import current_locale

            current = generations(wanted)
            if current is None:
                return view(*args, **kwargs)
            # The host too: links follow it in development without BLAGIS_BASE_URL (and a
            # refused host never gets here: Flask answers 400 first, see blagis.urls).
            key = ("page", request.host, request.full_path, current_locale(), current)
            ttl = current_app.config["PAGE_CACHE_SECONDS"]
            return _replay_or_render(key, ttl, view, args, kwargs, token_ok=False)

        return wrapper

    return decorate


def cached_private_page(*domains: str, max_age: Callable[[], int] | None = None):
    """Keep a logged-in member's own copy of a page they reload often (the staff report).

    Goes *under* the access decorator: the account is loaded from the database and its rights
    checked on every request, as for any page; only the rendering is spared. The copy is this
    session's alone (its key holds the account, what the layout shows of it and the session's
    CSRF secret, so the tokens in the page stay valid) and is dropped like a public page when
    its domains change, after PAGE_CACHE_SECONDS, or after ``max_age()`` seconds if shorter.
    """
    wanted = frozenset(domains) or ALL

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            ttl = current_app.config["PAGE_CACHE_SECONDS"]
            if max_age is not None:
                ttl = min(ttl, max_age())
            if not (
                ttl > 0
                and request.method in ("GET", "HEAD")
                and current_user.is_authenticated
                and "_flashes" not in session
            ):
                return view(*args, **kwargs)
            from blagis.i18n import current_locale

            current = generations(wanted)
            if current is None:
                return view(*args, **kwargs)
            user = current_user
            # The session's own key: the loader has just found its row (an ended session never
            # gets this far), and no other session, even of the same account, shares the copy.
            key = (
                "private", request.host, request.full_path, current_locale(), current,
                user.id, session.get(SESSION_KEY), str(user.role), user.display_name,
                session.get("csrf_token"),
            )  # fmt: skip
            return _replay_or_render(key, ttl, view, args, kwargs, token_ok=True)

        return wrapper

    return decorate


def init_app(app) -> None:
    app.extensions["blagis_pagecache"] = Store(
        app.config["PAGE_CACHE_MAX_ENTRIES"], app.config["PAGE_CACHE_MAX_BYTES"]
    )
    app.extensions["blagis_generations"] = (0.0, {})
    install_listeners()
