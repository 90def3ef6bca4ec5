"""Rules of initiatives: proposing, moderating, answering, supporting, reporting, linking.

Every function takes the acting user, checks the rule, changes rows and ``flush()``es; the
view commits. Staff actions are written to the audit log and the author is told by e-mail.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blagis import audit, keyset, privacy
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.initiatives.labels import STATUS_LABELS
from blagis.mail import queue_mail
from blagis.models import (
    Commune,
    Initiative,
    InitiativeObjective,
    InitiativeReport,
    InitiativeStatusChange,
    InitiativeSupport,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    User,
    utcnow,
)
from blagis.models.initiative import ANSWER_MAX, BODY_MAX, REASON_MAX, SUMMARY_MAX, TITLE_MAX
from blagis.objectives import services as objectives
from blagis.urls import absolute_url

PER_PAGE = 20
MAX_PAGE = 10_000  # beyond this an OFFSET is pointless (and could overflow a bigint)
SORTS = ("newest", "supported", "answered")
CODE_RE = re.compile(r"^\d{1,4}(\.\d{1,4}){0,5}$")

# decision -> states it may be taken from, state it leads to
DECISIONS: dict[str, tuple[set[ModerationState], ModerationState]] = {
    "publish": (
        {
            ModerationState.PENDING,
            ModerationState.CHANGES_REQUESTED,
            ModerationState.REJECTED,
            ModerationState.HIDDEN,
        },
        ModerationState.PUBLISHED,
    ),
    "reject": (
        {ModerationState.PENDING, ModerationState.CHANGES_REQUESTED},
        ModerationState.REJECTED,
    ),
    "request_changes": ({ModerationState.PENDING}, ModerationState.CHANGES_REQUESTED),
    "hide": ({ModerationState.PUBLISHED}, ModerationState.HIDDEN),
}
DECISION_MAIL = {
    "publish": "initiative_published",
    "reject": "initiative_rejected",
    "request_changes": "initiative_changes_requested",
    "hide": "initiative_hidden",
}
EDITABLE = {ModerationState.PENDING, ModerationState.CHANGES_REQUESTED}


# --- text helpers -----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case, accent-free form of a text (``École`` -> ``ecole``; ``œ`` -> ``oe``)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.casefold().replace("œ", "oe").replace("æ", "ae")


def search_text_for(title: str, summary: str, body: str) -> str:
    return fold(" ".join((title, summary, body)))


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clean(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def _check_limits(title: str, summary: str, body: str) -> None:
    """The forms check these too; the service repeats them so no caller can skip them."""
    for name, value, limit in (
        ("title", title, TITLE_MAX),
        ("summary", summary, SUMMARY_MAX),
        ("body", body, BODY_MAX),
    ):
        if not value:
            raise DomainError(_("This field is required."), field=name)
        if len(value) > limit:
            raise DomainError(_("At most %(max)d characters.", max=limit), field=name)


def _check_commune(code: str | None) -> str:
    if not code or db.session.get(Commune, code) is None:
        raise DomainError(_("Choose a commune of the quarter."), field="commune")
    return code


# --- reading --------------------------------------------------------------------------------


def can_see(initiative: Initiative, user) -> bool:
    """Published ones are public; the others only for their author and the staff who may
    moderate them (those of its commune, or of every commune: ``can_act_in``)."""
    if initiative.state == ModerationState.PUBLISHED:
        return True
    if user is None or not user.is_authenticated:
        return False
    if initiative.author_id is not None and initiative.author_id == user.id:
        return True
    return user.can_act_in(initiative.commune_code)


def get_for_page(initiative_id: int) -> Initiative | None:
    """One initiative with what its page shows, in a bounded number of queries."""
    return db.session.scalar(
        select(Initiative)
        .where(Initiative.id == initiative_id)
        .options(
            joinedload(Initiative.author),
            selectinload(Initiative.status_changes),
            selectinload(Initiative.objective_links).joinedload(InitiativeObjective.objective),
        )
    )


@dataclass
class ListFilters:
    q: str = ""
    status: str = ""
    commune: str = ""
    objective: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args) -> "ListFilters":
        """Read query parameters, ignoring any value that makes no sense."""

        def text(name: str, max_len: int = 200) -> str:
            value = args.get(name, "", type=str) or ""
            return value.strip()[:max_len] if "\x00" not in value else ""

        status = text("status")
        objective = text("objective", 40)
        sort = text("sort")
        return cls(
            q=text("q"),
            status=status if status in PublicStatus._value2member_map_ else "",
            commune=text("commune", 40),
            objective=objective if CODE_RE.match(objective) else "",
            sort=sort if sort in SORTS else "newest",
        )

    def as_args(self) -> dict:
        return {k: v for k, v in vars(self).items() if v and not (k == "sort" and v == "newest")}


def read_page(args, name: str = "page", default: int = 1, maximum: int = MAX_PAGE) -> int:
    """A positive integer query parameter; garbage gives the default."""
    value = args.get(name, default, type=int)
    if value is None or value < 1:
        return default
    return min(value, maximum)


def published_query(filters: ListFilters):
    """The SELECT of published initiatives matching the filters, sorted."""
    query = select(Initiative).where(Initiative.state == ModerationState.PUBLISHED)
    for term in fold(filters.q).split()[:10]:
        query = query.where(Initiative.search_text.like(f"%{escape_like(term)}%", escape="\\"))
    if filters.status:
        query = query.where(Initiative.status == PublicStatus(filters.status))
    if filters.commune:
        query = query.where(Initiative.commune_code == filters.commune)
    if filters.objective:
        code = filters.objective
        linked = (
            select(InitiativeObjective.initiative_id)
            .join(ObjectiveNode, ObjectiveNode.id == InitiativeObjective.objective_id)
            .where((ObjectiveNode.code == code) | ObjectiveNode.code.like(code + ".%"))
        )
        query = query.where(Initiative.id.in_(linked))
    return query.order_by(*(key.order_by() for key in SORT_KEYS[filters.sort]))


# Each sort ends with the id, so that it is a total order: pages neither repeat nor skip rows
# that share a value, and an API cursor can resume after any row. Indexes:
# ix_initiatives_state_published, _state_supports, _state_answered (models/initiative.py).
# ``published_at`` is set on every published initiative (``moderate``), hence not nullable here.
SORT_KEYS: dict[str, tuple[keyset.SortKey, ...]] = {
    "newest": (
        keyset.SortKey(Initiative.published_at, datetime, descending=True),
        keyset.SortKey(Initiative.id, int, descending=True),
    ),
    "supported": (
        keyset.SortKey(Initiative.support_count, int, descending=True),
        keyset.SortKey(Initiative.published_at, datetime, descending=True),
        keyset.SortKey(Initiative.id, int, descending=True),
    ),
    # Recently answered first, then those without an answer yet.
    "answered": (
        keyset.SortKey(Initiative.answered_at, datetime, descending=True, nullable=True),
        keyset.SortKey(Initiative.id, int, descending=True),
    ),
}


def page_after(query, sort: str, cursor: str) -> tuple[Select, int]:
    """``published_query`` resumed after an API cursor; the page number that cursor opens.

    Raises :class:`blagis.keyset.InvalidCursor` for a cursor this sort did not give.
    """
    keys = SORT_KEYS[sort]
    position = keyset.decode(cursor, sort, keys)
    return query.where(keyset.after(keys, position.values)), position.page


def count_published(filters: ListFilters) -> int:
    """How many published initiatives match (the ``total`` of the API)."""
    query = published_query(filters).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(query))


def cursor_after(initiative: Initiative, sort: str, next_page: int) -> str:
    """The API cursor of the page that follows the one ending with ``initiative``."""
    return keyset.encode(sort, next_page, SORT_KEYS[sort], initiative)


def linked_to_node(node: ObjectiveNode, limit: int = 20) -> list[Initiative]:
    """Published initiatives linked to a node or any node below it."""
    query = published_query(ListFilters(objective=node.code)).limit(limit)
    return list(db.session.scalars(query))


# An initiative done this long ago is history, not news: the home page stops featuring it.
FEATURED_DONE_DAYS = 90


def featured(limit: int = 4, now: datetime | None = None) -> list[Initiative]:
    """The initiatives the home page features: published and alive, newest first.

    Alive: not « not retained » (a closed door is no invitation to take part), and not done
    more than FEATURED_DONE_DAYS ago (a recent success is news; an old one is in the list).
    """
    now = now or utcnow()
    done_since = now - timedelta(days=FEATURED_DONE_DAYS)
    query = published_query(ListFilters()).where(
        Initiative.status != PublicStatus.NOT_RETAINED,
        (Initiative.status != PublicStatus.DONE) | (Initiative.answered_at >= done_since),
    )
    return list(db.session.scalars(query.limit(limit)))


def authored_by(user: User) -> list[Initiative]:
    return list(
        db.session.scalars(
            select(Initiative)
            .where(Initiative.author_id == user.id)
            .order_by(Initiative.created_at.desc(), Initiative.id.desc())
        )
    )


def supported_ids(user, initiative_ids: list[int]) -> set[int]:
    """Which of these initiatives the user supports (one query for a whole page)."""
    if user is None or not user.is_authenticated or not initiative_ids:
        return set()
    return set(
        db.session.scalars(
            select(InitiativeSupport.initiative_id).where(
                InitiativeSupport.user_id == user.id,
                InitiativeSupport.initiative_id.in_(initiative_ids),
            )
        )
    )


def has_reported(user, initiative: Initiative) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(InitiativeReport.id).where(
                InitiativeReport.initiative_id == initiative.id,
                InitiativeReport.user_id == user.id,
            )
        )
        is not None
    )


def _reported_ids():
    return select(InitiativeReport.initiative_id)


def report_counts(initiative_ids: list[int]) -> dict[int, int]:
    """Reports per initiative for one page of the queue, in one grouped query."""
    if not initiative_ids:
        return {}
    rows = db.session.execute(
        select(InitiativeReport.initiative_id, func.count(InitiativeReport.id))
        .where(InitiativeReport.initiative_id.in_(initiative_ids))
        .group_by(InitiativeReport.initiative_id)
    )
    return {initiative_id: count for initiative_id, count in rows}


def queue_query(staff: User, state: str | None):
    """Moderation queue, oldest first; ``reported`` lists those with at least one report.

    Staff limited to a commune see only that commune's initiatives.
    """
    query = select(Initiative).order_by(Initiative.created_at, Initiative.id)
    if state in ModerationState._value2member_map_:
        query = query.where(Initiative.state == ModerationState(state))
    elif state == "reported":
        query = query.where(Initiative.id.in_(_reported_ids()))
    if staff.scope_commune_code and not staff.is_admin:
        query = query.where(Initiative.commune_code == staff.scope_commune_code)
    return query


def reports_of(initiative: Initiative) -> list[InitiativeReport]:
    return list(
        db.session.scalars(
            select(InitiativeReport)
            .where(InitiativeReport.initiative_id == initiative.id)
            .order_by(InitiativeReport.created_at)
        )
    )


# --- writing --------------------------------------------------------------------------------


def propose(author: User, *, title: str, summary: str, body: str, commune: str) -> Initiative:
    """A resident proposes: the initiative waits for moderation."""
    title, summary, body = _clean(title), _clean(summary), _clean(body)
    _check_limits(title, summary, body)
    initiative = Initiative(
        title=title,
        summary=summary,
        body=body,
        commune_code=_check_commune(commune),
        author_id=author.id,
        state=ModerationState.PENDING,
        search_text=search_text_for(title, summary, body),
    )
    db.session.add(initiative)
    db.session.flush()
    return initiative


def edit(author: User, initiative: Initiative, *, title, summary, body, commune) -> Initiative:
    """The author edits while pending or asked for changes; an edit goes back to pending."""
    if initiative.author_id != author.id:
        raise DomainError(_("Only the author can edit this initiative."))
    if initiative.state not in EDITABLE:
        raise DomainError(_("This initiative can no longer be edited."))
    title, summary, body = _clean(title), _clean(summary), _clean(body)
    _check_limits(title, summary, body)
    commune = _check_commune(commune)
    if commune != initiative.commune_code:
        _check_links_allow(initiative, commune)
    initiative.title, initiative.summary, initiative.body = title, summary, body
    initiative.commune_code = commune
    initiative.search_text = search_text_for(title, summary, body)
    initiative.state = ModerationState.PENDING
    db.session.flush()
    return initiative


def _check_links_allow(initiative: Initiative, commune: str) -> None:
    """An initiative linked to objectives declined for its commune cannot move to another one
    (the links would then cross communes); staff unlink them first."""
    nodes = db.session.scalars(
        select(ObjectiveNode)
        .join(InitiativeObjective, InitiativeObjective.objective_id == ObjectiveNode.id)
        .where(InitiativeObjective.initiative_id == initiative.id)
        .order_by(ObjectiveNode.position)
    ).all()
    wrong = [n.code for n in nodes if not objectives.linkable(n, commune)]
    if wrong:
        raise DomainError(
            _(
                "This initiative is linked to contract objectives of its commune (%(codes)s): "
                "ask the team to unlink them before moving it to another commune.",
                codes=", ".join(wrong[:10]),
            ),
            field="commune",
        )


def _snapshot(initiative: Initiative) -> dict:
    return {
        "state": str(initiative.state),
        "status": str(initiative.status),
        "reason": initiative.moderation_reason,
    }


def _mail_author(initiative: Initiative, template: str, dedup: str, **context) -> None:
    """Tell the author in their language; nobody to tell once the account is gone."""
    author = db.session.get(User, initiative.author_id) if initiative.author_id else None
    if author is None:
        return
    url = absolute_url("initiatives.show", id=initiative.id)
    queue_mail(
        author.email,
        template,
        locale=author.locale,
        context={"user": author, "initiative": initiative, "url": url, **context},
        dedup_key=dedup,
        category="essential",
        user=author,
    )


def moderate(staff: User, initiative: Initiative, decision: str, reason: str | None) -> None:
    """Publish, reject, ask for changes or hide; a reason is required except to publish."""
    if not staff.can_act_in(initiative.commune_code):
        raise PermissionError
    if decision not in DECISIONS:
        raise DomainError(_("Choose a decision."), field="decision")
    allowed_from, target = DECISIONS[decision]
    if initiative.state not in allowed_from:
        raise DomainError(_("This decision is not possible in the current state."), "decision")
    reason = _clean(reason)
    if decision != "publish" and not reason:
        raise DomainError(_("Give a reason: the author will read it."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("At most %(max)d characters.", max=REASON_MAX), field="reason")
    before = _snapshot(initiative)
    now = utcnow()
    initiative.state = target
    initiative.moderation_reason = reason or None
    if target == ModerationState.PUBLISHED and initiative.published_at is None:
        initiative.published_at = now
    db.session.flush()
    audit.record(
        f"initiative.{decision}",
        "initiative",
        initiative.id,
        actor=staff,
        before=before,
        after=_snapshot(initiative),
        commune_code=initiative.commune_code,
    )
    _mail_author(
        initiative,
        DECISION_MAIL[decision],
        f"initiative:{initiative.id}:{decision}:{now.isoformat()}",
        reason=reason,
    )


def set_status(staff: User, initiative: Initiative, status: str, answer: str | None) -> None:
    """A public status with its official answer, kept in the history (staff may correct)."""
    if not staff.can_act_in(initiative.commune_code):
        raise PermissionError
    if initiative.state != ModerationState.PUBLISHED:
        raise DomainError(_("Only a published initiative has a public status."), field="status")
    if status not in PublicStatus._value2member_map_:
        raise DomainError(_("Choose a status."), field="status")
    answer = _clean(answer)
    if not answer:
        raise DomainError(_("Write the official answer."), field="answer")
    if len(answer) > ANSWER_MAX:
        raise DomainError(_("At most %(max)d characters.", max=ANSWER_MAX), field="answer")
    before = _snapshot(initiative)
    now = utcnow()
    change = InitiativeStatusChange(
        initiative_id=initiative.id,
        status=PublicStatus(status),
        answer=answer,
        actor_role=str(staff.role),
        actor_commune_code=staff.scope_commune_code,
        created_at=now,
    )
    db.session.add(change)
    initiative.status = PublicStatus(status)
    initiative.answered_at = now
    db.session.flush()
    audit.record(
        "initiative.status",
        "initiative",
        initiative.id,
        actor=staff,
        before=before,
        after={**_snapshot(initiative), "answer": answer},
        commune_code=initiative.commune_code,
    )
    _mail_author(
        initiative,
        "initiative_status",
        f"initiative:{initiative.id}:status:{change.id}",
        answer=answer,
        status_label=STATUS_LABELS[str(status)],
    )


def linked_codes(initiative: Initiative) -> list[str]:
    return sorted(
        db.session.scalars(
            select(ObjectiveNode.code)
            .join(InitiativeObjective, InitiativeObjective.objective_id == ObjectiveNode.id)
            .where(InitiativeObjective.initiative_id == initiative.id)
        )
    )


def set_objectives(staff: User, initiative: Initiative, codes: list[str]) -> None:
    """Replace the linked objective codes (any level of the tree)."""
    if not staff.can_act_in(initiative.commune_code):
        raise PermissionError
    wanted = sorted({c.strip() for c in codes if c and c.strip()})
    nodes = (
        list(db.session.scalars(select(ObjectiveNode).where(ObjectiveNode.code.in_(wanted))))
        if wanted
        else []
    )
    unknown = sorted(set(wanted) - {n.code for n in nodes})
    if unknown:
        raise DomainError(
            _("Unknown objective code: %(codes)s.", codes=", ".join(c[:20] for c in unknown[:5])),
            field="objectives",
        )
    objectives.check_communes(nodes, initiative.commune_code)
    before = linked_codes(initiative)
    existing = {
        link.objective_id: link
        for link in db.session.scalars(
            select(InitiativeObjective).where(InitiativeObjective.initiative_id == initiative.id)
        )
    }
    keep = {n.id for n in nodes}
    for objective_id, link in existing.items():
        if objective_id not in keep:
            db.session.delete(link)
    for node in nodes:
        if node.id not in existing:
            db.session.add(InitiativeObjective(initiative_id=initiative.id, objective_id=node.id))
    db.session.flush()
    audit.record(
        "initiative.objectives",
        "initiative",
        initiative.id,
        actor=staff,
        before={"objectives": before},
        after={"objectives": sorted(n.code for n in nodes)},
        commune_code=initiative.commune_code,
    )


def _refresh_support_count(initiative: Initiative) -> None:
    """Recount in SQL, so concurrent toggles never drift from the real number."""
    count = (
        select(func.count(InitiativeSupport.id))
        .where(InitiativeSupport.initiative_id == initiative.id)
        .scalar_subquery()
    )
    db.session.execute(
        update(Initiative).where(Initiative.id == initiative.id).values(support_count=count)
    )
    db.session.refresh(initiative, ["support_count"])


def toggle_support(user: User, initiative: Initiative) -> bool:
    """Support, or withdraw one's support; True when the user now supports it.

    The initiative row is locked first (PostgreSQL) so toggles on one initiative run one
    after the other and the recount is exact; SQLite serialises writers by itself, and the
    unique constraint plus Core DELETE keep a racing double submit harmless there.
    """
    if initiative.state != ModerationState.PUBLISHED:
        raise DomainError(_("Only a published initiative can be supported."))
    if initiative.author_id == user.id:
        raise DomainError(_("You cannot support your own initiative."))
    db.session.execute(
        select(Initiative.id).where(Initiative.id == initiative.id).with_for_update()
    )
    pair = (
        InitiativeSupport.initiative_id == initiative.id,
        InitiativeSupport.user_id == user.id,
    )
    existing = db.session.scalar(select(InitiativeSupport.id).where(*pair))
    if existing is not None:
        db.session.execute(delete(InitiativeSupport).where(*pair))
        supported = False
    else:
        try:
            with db.session.begin_nested():
                db.session.add(InitiativeSupport(initiative_id=initiative.id, user_id=user.id))
        except IntegrityError:
            pass  # a double click raced us: the support exists, which is what was asked
        supported = True
    _refresh_support_count(initiative)
    return supported


def report(user: User, initiative: Initiative, reason: str | None) -> InitiativeReport:
    """Tell moderators; once per account and initiative."""
    if initiative.state != ModerationState.PUBLISHED:
        raise DomainError(_("Only a published initiative can be reported."))
    reason = _clean(reason)
    if not reason:
        raise DomainError(_("Say what is wrong with this initiative."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("At most %(max)d characters.", max=REASON_MAX), field="reason")
    if has_reported(user, initiative):
        raise DomainError(_("You have already reported this initiative."), field="reason")
    item = InitiativeReport(initiative_id=initiative.id, user_id=user.id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        raise DomainError(_("You have already reported this initiative."), field="reason") from None
    return item


# --- personal data (blagis.privacy registries) --------------------------------------------------


def _iso(value):
    return value.isoformat() if value is not None else None


def export_initiatives(user: User) -> dict:
    """My initiatives (whatever their state), the ones I support and the ones I reported."""
    mine = authored_by(user)
    supports = db.session.execute(
        select(InitiativeSupport, Initiative.title)
        .join(Initiative, Initiative.id == InitiativeSupport.initiative_id)
        .where(InitiativeSupport.user_id == user.id)
        .order_by(InitiativeSupport.created_at)
    ).all()
    reports = db.session.execute(
        select(InitiativeReport, Initiative.title)
        .join(Initiative, Initiative.id == InitiativeReport.initiative_id)
        .where(InitiativeReport.user_id == user.id)
        .order_by(InitiativeReport.created_at)
    ).all()
    return {
        "authored": [
            {
                "id": i.id,
                "title": i.title,
                "summary": i.summary,
                "body": i.body,
                "commune": i.commune_code,
                "state": str(i.state),
                "status": str(i.status),
                "moderation_reason": i.moderation_reason,
                "created_at": _iso(i.created_at),
                "published_at": _iso(i.published_at),
            }
            for i in mine
        ],
        "supported": [
            {"initiative_id": s.initiative_id, "title": title, "at": _iso(s.created_at)}
            for s, title in supports
        ],
        "reported": [
            {
                "initiative_id": r.initiative_id,
                "title": title,
                "reason": r.reason,
                "at": _iso(r.created_at),
            }
            for r, title in reports
        ],
    }


def erase_initiatives(user: User) -> None:
    """Account deletion: my initiatives stay, published or not, without my name (author NULL);
    my supports stay counted but anonymous (the figures do not move); my reports are deleted
    (their text is mine; moderators already saw them)."""
    for model, column in (
        (Initiative, Initiative.author_id),
        (InitiativeSupport, InitiativeSupport.user_id),
    ):
        db.session.execute(
            update(model)
            .where(column == user.id)
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        delete(InitiativeReport)
        .where(InitiativeReport.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


privacy.register_exporter("initiatives", export_initiatives)
privacy.register_eraser(erase_initiatives)
