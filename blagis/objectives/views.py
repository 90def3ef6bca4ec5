from flask import Blueprint, abort, jsonify, render_template

from blagis import sections
from blagis.i18n import current_locale
from blagis.objectives import services

bp = Blueprint("objectives", __name__)
api_bp = Blueprint("objectives_api", __name__)

# Domains that link things to objectives add a block to the node page.
NODE_SECTIONS: list[sections.Section] = []


@bp.route("")
def index():
    nodes = services.all_nodes()
    return render_template("objectives/index.html", tree=services.build_tree(nodes))


@bp.route("/<code>")
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
    return render_template(
        "objectives/node.html", node=node, ancestors=ancestors, children=children, blocks=blocks
    )


def node_json(node, locale: str) -> dict:
    return {
        "code": node.code,
        "level": str(node.level),
        "title": node.title(locale),
        "title_fr": node.title_fr,
        "title_en": node.title_en,
        "commune": node.commune_code,
    }


@api_bp.route("/objectives")
def api_objectives():
    locale = current_locale()
    nodes = services.all_nodes()

    def walk(items):
        return [{**node_json(i["node"], locale), "children": walk(i["children"])} for i in items]

    return jsonify({"objectives": walk(services.build_tree(nodes))})
