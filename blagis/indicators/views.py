"""The annual report for staff (/staff/report, /staff/report.csv) and the targets form."""

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from blagis import csvexport
from blagis.domain import DomainError, commit_or_form_error
from blagis.i18n import current_locale
from blagis.indicators import services
from blagis.indicators.forms import TargetForm
from blagis.objectives.services import all_nodes, build_tree, get_node
from blagis.pagecache import cached_private_page, memoize
from blagis.permissions import require_commune_scope, staff_required
from blagis.templating import commune_choices, communes

bp = Blueprint("report", __name__)


def read_filters() -> tuple[int, str | None]:
    """The year (404 when not a plausible year) and commune (404 when unknown) asked for."""
    year = services.parse_year(request.args.get("year"), default=services.current_year())
    if year is None:
        abort(404)
    commune = request.args.get("commune") or None
    if commune is not None and commune not in {c.code for c in communes()}:
        abort(404)
    return year, commune


def target_form(year: int, commune: str | None, formdata=None) -> TargetForm:
    form = TargetForm(formdata=formdata) if formdata is not None else TargetForm()
    locale = current_locale()

    def node_choices() -> list[tuple[str, str]]:
        return [(n.code, f"{n.code} — {n.title(locale)}") for n in all_nodes()]

    # The 58 nodes change only with the contract: kept, not read on every report page.
    choices = memoize(("contract",), ("target-node-choices", locale), node_choices)
    form.node.choices = [SelectChoice(code, label) for code, label in choices]
    form.commune.choices = [SelectChoice(c, n) for c, n in commune_choices(_("Whole territory"))]
    if formdata is None:
        form.year.data = year
        form.commune.data = commune or ""
    return form


def report_body(year: int, commune: str | None) -> Markup:
    """The report itself: the same for every staff member (the page around it holds what is
    personal, the target form and its CSRF token).

    58 nodes, each with its figures (stored, one query: ``services.for_year``), targets,
    activities held and initiatives answered, in a fixed number of queries whatever the data.
    """
    nodes = all_nodes()
    return Markup(  # nosec B704 - the output of an autoescaping template is markup
        render_template(
            "indicators/_report_body.html",
            year=year,
            commune=commune,
            tree=build_tree(nodes),
            figures=services.for_year(year, commune),
            targets=services.targets_by_code(year, commune),
            events=services.events_held(year, commune),
            answered=services.initiatives_answered(year, commune),
            labels=services.INDICATORS,
            empty=services.Figures(),
        )
    )


def report_context(year: int, commune: str | None, form: TargetForm | None = None) -> dict:
    """Everything the report page shows, in a fixed number of queries whatever the data."""
    return {
        "year": year,
        "commune": commune,
        "body": report_body(year, commune),
        "form": form or target_form(year, commune),
        "years": list(range(services.FIRST_YEAR, services.current_year() + 2)),
    }


@bp.route("/report")
@staff_required
# Staff reload the report often and it weighs ~190 kB at the territory's size: each session keeps
# its own copy while the contract is unchanged (a refresh that changes the stored figures is a
# change of the contract's domain, blagis.pagecache.TABLE_DOMAINS).
@cached_private_page("contract")
def index():
    year, commune = read_filters()
    return render_template("indicators/report.html", **report_context(year, commune))


CSV_KEYS = list(services.INDICATORS)


@bp.route("/report.csv")
@staff_required
def report_csv():
    year, commune = read_filters()
    figures = services.for_year(year, commune)
    targets = services.targets_by_code(year, commune)
    out = io.StringIO()
    writer = csvexport.writer(out)
    statuses = [s.value for s in services.PublicStatus]
    writer.writerow(
        ["code", "level", "title", "year", "commune", "active", *CSV_KEYS]
        + [f"initiatives_{s}" for s in statuses]
        + [f"target_{k}" for k in CSV_KEYS]
    )
    empty = services.Figures()
    locale = current_locale()
    for node in all_nodes():
        f = figures.get(node.code, empty)
        node_targets = targets.get(node.code, {})
        writer.writerow(
            [
                node.code,
                node.level.value,
                node.title(locale),
                year,
                commune or "",
                "yes" if f.active else "no",
                *("" if f.value(k) is None else f.value(k) for k in CSV_KEYS),
                *(f.by_status.get(s, 0) for s in statuses),
                *(node_targets.get(k, "") for k in CSV_KEYS),
            ]
        )
    response = Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv")
    suffix = f"-{commune}" if commune else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="rapport-objectifs-{year}{suffix}.csv"'
    )
    return response


@bp.route("/report/targets", methods=["POST"])
@staff_required
def set_target():
    """Set (or, with an empty value, remove) a target, then back to the report of that year."""
    year, commune = services.current_year(), None
    form = target_form(year, commune, formdata=request.form)
    if form.validate():
        commune = form.commune.data or None
        require_commune_scope(commune)
        node = get_node(form.node.data)

        def save():
            if node is None:
                raise DomainError(_("Choose an objective from the list."), field="node")
            services.set_target(
                current_user, node, form.year.data, form.indicator.data, form.value.data, commune
            )

        if commit_or_form_error(form, save):
            flash(_("The target is saved."), "success")
            return redirect(url_for("report.index", year=form.year.data, commune=commune))
    if services.parse_year(str(form.year.data or "")) is not None:
        year = form.year.data
    context = report_context(year, None, form)
    return render_template("indicators/report.html", **context), 422
