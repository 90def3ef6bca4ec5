import math

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from blagis import sections
from blagis.api import cached_json
from blagis.domain import DomainError, apply_to_form, commit_or_form_error
from blagis.errors import render_error
from blagis.extensions import db
from blagis.i18n import current_locale, translated
from blagis.initiatives import services
from blagis.initiatives.forms import (
    InitiativeForm,
    ModerateForm,
    ObjectivesForm,
    ReportForm,
    StatusForm,
)
from blagis.initiatives.labels import SORT_LABELS, STATE_LABELS, STATUS_LABELS
from blagis.initiatives.text import render_plain
from blagis.keyset import InvalidCursor, bad_cursor_message
from blagis.models import Initiative, InitiativeObjective, ModerationState, PublicStatus
from blagis.objectives import views as objective_views
from blagis.objectives.services import objective_choices
from blagis.pagecache import cached_page
from blagis.permissions import login_required, require_commune_scope, staff_required
from blagis.ratelimits import limit
from blagis.templating import commune_choices, commune_name
from blagis.urls import absolute_url

bp = Blueprint("initiatives", __name__)
staff_bp = Blueprint("initiatives_staff", __name__)
api_bp = Blueprint("initiatives_api", __name__)


# --- labels shared by the templates ----------------------------------------------------------


def status_labels() -> dict[str, str]:
    return translated(STATUS_LABELS)


def state_labels() -> dict[str, str]:
    return translated(STATE_LABELS)


def role_signature(role: str, commune_code: str | None) -> str:
    """History entries are signed by role, never by a person's name."""
    label = _("City team") if role != "admin" else _("Platform administration")
    return f"{label} — {commune_name(commune_code)}" if commune_code else label


def sort_labels() -> dict[str, str]:
    return translated(SORT_LABELS)


# Globals rather than a context processor: imported macros see globals only.
bp.add_app_template_global(status_labels, "initiative_status_labels")
bp.add_app_template_global(state_labels, "initiative_state_labels")
bp.add_app_template_global(role_signature, "initiative_signature")
bp.add_app_template_filter(render_plain, "plain_text")


# --- helpers -------------------------------------------------------------------------------


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def get_visible_or_404(initiative_id: int) -> Initiative:
    """Load for its page; a non-published one is a 404 for all but its author and the staff
    who may act in its commune."""
    initiative = services.get_for_page(initiative_id)
    if initiative is None or not services.can_see(initiative, current_user):
        abort(404)
    return initiative


def get_published_or_404(initiative_id: int) -> Initiative:
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None or initiative.state != ModerationState.PUBLISHED:
        abort(404)
    return initiative


def _pages_window(pagination) -> list[int | None]:
    return list(pagination.iter_pages(left_edge=1, left_current=2, right_current=2, right_edge=1))


# --- public pages ----------------------------------------------------------------------------


@bp.route("")
@cached_page("initiatives", "contract")
def index():
    filters = services.ListFilters.from_args(request.args)
    page = services.read_page(request.args)
    pagination = db.paginate(
        services.published_query(filters),
        page=page,
        per_page=services.PER_PAGE,
        error_out=False,
        count=True,
    )
    supported = services.supported_ids(_user(), [i.id for i in pagination.items])
    return render_template(
        "initiatives/index.html",
        pagination=pagination,
        filters=filters,
        supported=supported,
        pages=_pages_window(pagination),
        sorts=sort_labels(),
        statuses=status_labels(),
        objective_choices=objective_choices(current_locale()),
    )


def _form_with_communes(form: InitiativeForm) -> InitiativeForm:
    form.commune.choices = commune_choices(_("Choose…"))
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@limit("RATELIMIT_PROPOSE")
def new():
    form = _form_with_communes(InitiativeForm())
    if request.method == "GET" and current_user.commune_code:
        form.commune.data = current_user.commune_code
    status = 200
    if form.validate_on_submit():
        try:
            initiative = services.propose(
                _user(),
                title=form.title.data,
                summary=form.summary.data,
                body=form.body.data,
                commune=form.commune.data,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
            status = 422
        else:
            flash(
                _("Thank you! Your initiative will be published once a moderator has read it."),
                "success",
            )
            return redirect(url_for("initiatives.show", id=initiative.id))
    elif request.method == "POST":
        status = 422
    return render_template("initiatives/form.html", form=form, initiative=None), status


def _show(initiative: Initiative, report_form: ReportForm | None = None, status: int = 200):
    user = _user()
    return (
        render_template(
            "initiatives/show.html",
            initiative=initiative,
            supported=bool(services.supported_ids(user, [initiative.id])),
            reported=services.has_reported(user, initiative),
            # Anonymous visitors see no report form (and get no CSRF token in their session).
            report_form=report_form or (ReportForm(formdata=None) if user else None),
        ),
        status,
    )


@bp.route("/<int(max=2147483647):id>")
@cached_page("initiatives", "contract")
def show(id: int):
    return _show(get_visible_or_404(id))


@bp.route("/<int(max=2147483647):id>/edit", methods=["GET", "POST"])
@login_required
def edit(id: int):
    initiative = get_visible_or_404(id)
    if initiative.author_id != current_user.id:
        abort(403)
    if initiative.state not in services.EDITABLE:
        flash(_("This initiative can no longer be edited."), "error")
        return redirect(url_for("initiatives.show", id=id))
    form = _form_with_communes(InitiativeForm(obj=initiative))
    if request.method == "GET":
        form.commune.data = initiative.commune_code
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            lambda: services.edit(
                _user(),
                initiative,
                title=form.title.data,
                summary=form.summary.data,
                body=form.body.data,
                commune=form.commune.data,
            ),
        )
        if saved:
            flash(_("Your changes are saved. The initiative awaits moderation."), "success")
            return redirect(url_for("initiatives.show", id=id))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("initiatives/form.html", form=form, initiative=initiative), status


@bp.route("/<int(max=2147483647):id>/support", methods=["POST"])
@login_required
def support(id: int):
    initiative = get_published_or_404(id)
    if initiative.author_id == current_user.id:
        abort(403)
    try:
        supported = services.toggle_support(_user(), initiative)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("Thank you for your support.") if supported else _("Your support is withdrawn."),
            "success",
        )
    return redirect(url_for("initiatives.show", id=id), code=303)


@bp.route("/<int(max=2147483647):id>/report", methods=["POST"])
@login_required
@limit("RATELIMIT_REPORT")
def report(id: int):
    initiative = get_published_or_404(id)
    form = ReportForm()
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form, lambda: services.report(_user(), initiative, form.reason.data)
        )
        if saved:
            flash(_("Thank you: the moderators will look at this initiative."), "success")
            return redirect(url_for("initiatives.show", id=id), code=303)
    return _show(services.get_for_page(id), report_form=form, status=422)


# --- staff -----------------------------------------------------------------------------------


@staff_bp.route("")
@staff_required
def queue():
    state = request.args.get("state", "pending", type=str)
    if state not in ModerationState._value2member_map_ and state not in ("reported", "all"):
        state = "pending"
    page = services.read_page(request.args)
    pagination = db.paginate(
        services.queue_query(_user(), state), page=page, per_page=50, error_out=False
    )
    counts = services.report_counts([i.id for i in pagination.items])
    return render_template(
        "initiatives/staff_queue.html",
        pagination=pagination,
        rows=[(i, counts.get(i.id, 0)) for i in pagination.items],
        state=state,
        pages=_pages_window(pagination),
    )


def _staff_initiative(id: int) -> Initiative:
    initiative = services.get_for_page(id)
    if initiative is None:
        abort(404)
    require_commune_scope(initiative.commune_code)
    return initiative


def _staff_forms(initiative: Initiative, **given):
    moderate_form = given.get("moderate_form") or ModerateForm(formdata=None)
    status_form = given.get("status_form") or StatusForm(
        formdata=None, status=initiative.status.value
    )
    objectives_form = given.get("objectives_form") or ObjectivesForm(
        formdata=None,
        objectives=[link.objective.code for link in initiative.objective_links],
    )
    labels = status_labels()
    status_form.status.choices = [(s.value, labels[s.value]) for s in PublicStatus]
    objectives_form.objectives.choices = objective_choices(current_locale())
    return {
        "moderate_form": moderate_form,
        "status_form": status_form,
        "objectives_form": objectives_form,
    }


def _render_staff(initiative: Initiative, status: int = 200, **given):
    return (
        render_template(
            "initiatives/staff_show.html",
            initiative=initiative,
            reports=services.reports_of(initiative),
            decisions=[
                d
                for d, (allowed, _target) in services.DECISIONS.items()
                if initiative.state in allowed
            ],
            **_staff_forms(initiative, **given),
        ),
        status,
    )


@staff_bp.route("/<int(max=2147483647):id>")
@staff_required
def detail(id: int):
    return _render_staff(_staff_initiative(id))


def _staff_action(id: int, form_class, form_key: str, action, success: str):
    initiative = _staff_initiative(id)
    form = form_class()
    if form_key == "status_form":
        form.status.choices = [(s.value, s.value) for s in PublicStatus]
    if form.validate_on_submit():
        if commit_or_form_error(form, lambda: action(initiative, form)):
            flash(success, "success")
            return redirect(url_for("initiatives_staff.detail", id=id), code=303)
    return _render_staff(services.get_for_page(id), status=422, **{form_key: form})


@staff_bp.route("/<int(max=2147483647):id>/moderate", methods=["POST"])
@staff_required
def moderate(id: int):
    return _staff_action(
        id,
        ModerateForm,
        "moderate_form",
        lambda i, f: services.moderate(_user(), i, f.decision.data, f.reason.data),
        _("The decision is saved and the author is told by e-mail."),
    )


@staff_bp.route("/<int(max=2147483647):id>/status", methods=["POST"])
@staff_required
def status(id: int):
    return _staff_action(
        id,
        StatusForm,
        "status_form",
        lambda i, f: services.set_status(_user(), i, f.status.data, f.answer.data),
        _("The status and its answer are published."),
    )


@staff_bp.route("/<int(max=2147483647):id>/objectives", methods=["POST"])
@staff_required
def objectives(id: int):
    return _staff_action(
        id,
        ObjectivesForm,
        "objectives_form",
        lambda i, f: services.set_objectives(_user(), i, f.objectives.data or []),
        _("The linked objectives are saved."),
    )


# --- JSON API ----------------------------------------------------------------------------------


def initiative_json(initiative: Initiative) -> dict:
    """Public fields only: no author name, no e-mail, nothing personal."""
    return {
        "id": initiative.id,
        "url": absolute_url("initiatives.show", id=initiative.id),
        "title": initiative.title,
        "summary": initiative.summary,
        "body": initiative.body,
        "commune": initiative.commune_code,
        "status": str(initiative.status),
        "supports": initiative.support_count,
        "published_at": initiative.published_at.isoformat() if initiative.published_at else None,
        "answered_at": initiative.answered_at.isoformat() if initiative.answered_at else None,
        "objectives": sorted(link.objective.code for link in initiative.objective_links),
        "history": [
            {
                "status": str(change.status),
                "answer": change.answer,
                "at": change.created_at.isoformat(),
                "by": change.actor_role,
            }
            for change in initiative.status_changes
        ],
    }


@api_bp.route("/initiatives")
@cached_page("initiatives", "contract")
def api_index():
    """Pages by ``page`` (OFFSET) or, as the ``next`` links do, by ``cursor`` (keyset)."""
    filters = services.ListFilters.from_args(request.args)
    per_page = services.read_page(request.args, "per_page", default=20, maximum=100)
    query = services.published_query(filters)
    cursor = request.args.get("cursor", "", type=str)
    if cursor:
        try:
            query, page = services.page_after(query, filters.sort, cursor)
        except InvalidCursor:
            return render_error(400, bad_cursor_message())
    else:
        page = services.read_page(request.args)
        query = query.offset((page - 1) * per_page)
    rows = db.session.scalars(
        query.limit(per_page + 1).options(
            selectinload(Initiative.status_changes),
            selectinload(Initiative.objective_links).joinedload(InitiativeObjective.objective),
        )
    ).all()
    items = rows[:per_page]
    total = services.count_published(filters)

    def link(**position) -> str:
        return absolute_url(
            "initiatives_api.api_index", **filters.as_args(), **position, per_page=per_page
        )

    next_url = None
    if len(rows) > per_page:
        next_url = link(cursor=services.cursor_after(items[-1], filters.sort, page + 1))
    return cached_json(
        {
            "items": [initiative_json(i) for i in items],
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": math.ceil(total / per_page),
            "next": next_url,
            "prev": link(page=page - 1) if page > 1 else None,
        }
    )


# --- blocks on other pages ---------------------------------------------------------------------


def _home_block() -> dict:
    return {"initiatives": services.featured()}


def _account_block(user) -> dict:
    return {"initiatives": services.authored_by(user)}


def _node_block(node) -> dict:
    return {"node": node, "initiatives": services.linked_to_node(node)}


sections.register(sections.HOME, 20, "initiatives/_home.html", _home_block)
sections.register(sections.ACCOUNT, 10, "initiatives/_account.html", _account_block)
sections.register(objective_views.NODE_SECTIONS, 10, "initiatives/_node.html", _node_block)
