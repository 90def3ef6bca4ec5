from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from blagis import sections
from blagis.api import cached_json
from blagis.i18n import current_locale
from blagis.indicators import services as indicators
from blagis.indicators.charts import bar_chart
from blagis.objectives import services
from blagis.pagecache import cached_page
from blagis.urls import absolute_url

bp = Blueprint("objectives", __name__)
api_bp = Blueprint("objectives_api", __name__)

# Domains that link things to objectives add a block to the node page.
NODE_SECTIONS: list[sections.Section] = []


@bp.route("")
@cached_page()
def index():
    nodes = services.all_nodes()
    year = indicators.current_year()
    return render_template(
        "objectives/index.html",
        tree=services.build_tree(nodes),
        indicators=indicators.for_year(year),
        targets=indicators.targets_by_code(year),
        labels=indicators.INDICATORS,
        empty=indicators.Figures(),
        year=year,
    )


@bp.route("/<code>")
@cached_page()
def node(code: str):
    node = services.get_node(code)
    if node is None:
        abort(404)
    nodes = services.all_nodes()
    by_id = {n.id: n for n in nodes}
    ancestors = []
    parent = by_id.get(node.parent_id)
    while parent is not None:
        ancestors.insert(0, parent)
        parent = by_id.get(parent.parent_id)
    children = [n for n in nodes if n.parent_id == node.id]
    blocks = sections.render_data(NODE_SECTIONS, node)
    history = indicators.history(node.code)
    years = [y for y, _ in history]
    targets = indicators.targets_for(years)
    context = {
        "node": node,
        "ancestors": ancestors,
        "children": children,
        "blocks": blocks,
        "history": history,
        "targets": {y: targets.get((y, node.code), {}) for y in years},
        "year": indicators.current_year(),
        "labels": indicators.INDICATORS,
        "charts": [
            (_key, label, bar_chart([(str(y), f.value(_key)) for y, f in history]))
            for _key, label in (
                ("events", indicators.INDICATORS["events"]),
                ("participants", indicators.INDICATORS["participants"]),
            )
        ],
    }
    if current_user.is_authenticated and current_user.is_staff:
        from blagis.indicators.views import target_form

        form = target_form(indicators.current_year(), None)
        form.node.data = node.code
        context["target_form"] = form
    return render_template("objectives/node.html", **context)


def node_json(node, locale: str) -> dict:
    return {
        "code": node.code,
        "level": str(node.level),
        "title": node.title(locale),
        "title_fr": node.title_fr,
        "title_en": node.title_en,
        "commune": node.commune_code,
    }


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit()):
        return default
    return min(max(int(value), lo), hi)


@api_bp.route("/objectives")
@cached_page()
def api_objectives():
    """The tree, paginated by theme, each node with its figures for ``year`` (and commune)."""
    locale = current_locale()
    year = indicators.parse_year(request.args.get("year"), default=indicators.current_year())
    if year is None:
        abort(404)
    commune = request.args.get("commune") or None
    from blagis.templating import communes

    if commune is not None and commune not in {c.code for c in communes()}:
        abort(404)
    page = _int_arg("page", 1, 1, 100000)
    per_page = _int_arg("per_page", 20, 1, 100)
    roots = services.build_tree(services.all_nodes())
    items = roots[(page - 1) * per_page : page * per_page]
    figures = indicators.for_year(year, commune)
    targets = indicators.targets_for([year], commune)
    empty = indicators.Figures()

    def walk(items):
        return [
            {
                **node_json(i["node"], locale),
                "indicators": figures.get(i["node"].code, empty).as_dict(),
                "targets": targets.get((year, i["node"].code), {}),
                "children": walk(i["children"]),
            }
            for i in items
        ]

    args = {"year": year, "per_page": per_page}
    if commune:
        args["commune"] = commune
    has_next = page * per_page < len(roots)
    return cached_json(
        {
            "objectives": walk(items),
            "year": year,
            "commune": commune,
            "page": page,
            "per_page": per_page,
            "total": len(roots),
            "next": (
                absolute_url("objectives_api.api_objectives", page=page + 1, **args)
                if has_next
                else None
            ),
        }
    )
