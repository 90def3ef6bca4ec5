"""The contract objectives tree: loading it from the data file and reading it."""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Commune, NodeLevel, ObjectiveNode

DEFAULT_CONTRACT = Path(__file__).resolve().parent.parent / "data" / "contract.toml"
INDENT = "\u2003"  # an em space per level, read as a pause by screen readers
LEVELS = {1: NodeLevel.AXIS, 2: NodeLevel.OBJECTIVE, 3: NodeLevel.ACTION}


class ContractFileError(ValueError):
    """The data file is not a valid objectives tree; nothing is changed."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    communes_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.communes_created)


def parse_contract(path: Path | str) -> dict:
    """Read and check the file: unique codes, parents before children, titles in both languages."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ContractFileError(f"cannot read {path}: {error}") from error
    nodes = data.get("nodes") or []
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        code = str(node.get("code", "")).strip()
        if not code or not all(part.isdigit() for part in code.split(".")):
            raise ContractFileError(f"node #{i + 1}: invalid code {code!r}")
        if code.count(".") > 2:
            raise ContractFileError(f"node {code}: the tree has three levels at most")
        if code in seen:
            raise ContractFileError(f"node {code}: duplicate code")
        parent = code.rsplit(".", 1)[0] if "." in code else None
        if parent is not None and parent not in seen:
            raise ContractFileError(f"node {code}: parent {parent} must come first")
        for key in ("title_fr", "title_en"):
            if not str(node.get(key, "")).strip():
                raise ContractFileError(f"node {code}: {key} is missing")
        seen.add(code)
    return {"communes": data.get("communes") or [], "nodes": nodes}


def load_contract(path: Path | str | None = None) -> LoadReport:
    """Upsert communes and nodes by code; running it twice changes nothing the second time."""
    data = parse_contract(path or DEFAULT_CONTRACT)
    report = LoadReport()

    communes = {c.code: c for c in db.session.scalars(select(Commune))}
    for position, item in enumerate(data["communes"]):
        code, name = str(item["code"]), str(item["name"])
        commune = communes.get(code)
        if commune is None:
            db.session.add(Commune(code=code, name=name, position=position))
            report.communes_created.append(code)
        elif (commune.name, commune.position) != (name, position):
            commune.name, commune.position = name, position
    db.session.flush()

    existing = {n.code: n for n in db.session.scalars(select(ObjectiveNode))}
    for position, item in enumerate(data["nodes"]):
        code = str(item["code"]).strip()
        parent_code = code.rsplit(".", 1)[0] if "." in code else None
        values = {
            "title_fr": str(item["title_fr"]).strip(),
            "title_en": str(item["title_en"]).strip(),
            "commune_code": item.get("commune") or None,
            "level": LEVELS[code.count(".") + 1],
            "position": position,
            "parent_id": existing[parent_code].id if parent_code else None,
        }
        node = existing.get(code)
        if node is None:
            node = ObjectiveNode(code=code, **values)
            db.session.add(node)
            db.session.flush()
            existing[code] = node
            report.created.append(code)
        elif any(getattr(node, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(node, k, v)
            report.updated.append(code)
        else:
            report.unchanged += 1
    db.session.flush()
    return report


def all_nodes() -> list[ObjectiveNode]:
    """Every node in document order (the tree is small: a few dozen rows)."""
    return list(db.session.scalars(select(ObjectiveNode).order_by(ObjectiveNode.position)))


def get_node(code: str) -> ObjectiveNode | None:
    return db.session.scalar(select(ObjectiveNode).where(ObjectiveNode.code == code))


def build_tree(nodes: list[ObjectiveNode]) -> list[dict]:
    """Nested ``{"node": ..., "children": [...]}`` from a flat list ordered parents first."""
    by_id: dict[int, dict] = {}
    roots: list[dict] = []
    for node in nodes:
        item = {"node": node, "children": []}
        by_id[node.id] = item
        if node.parent_id is None:
            roots.append(item)
        elif node.parent_id in by_id:
            by_id[node.parent_id]["children"].append(item)
    return roots


def subtree_codes(code: str) -> list[str]:
    """The codes of a node and every node below it (empty when the code is unknown)."""
    rows = db.session.scalars(
        select(ObjectiveNode.code).where(
            (ObjectiveNode.code == code) | ObjectiveNode.code.like(code + ".%")
        )
    )
    return list(rows)


def objective_choices(locale: str) -> list[tuple[str, str]]:
    """(code, "code — title") pairs for multi-select fields, indented by level."""
    return [(n.code, f"{INDENT * (n.depth - 1)}{n.code} — {n.title(locale)}") for n in all_nodes()]


# --- linking events and initiatives to nodes -----------------------------------------------------


def linkable(node: ObjectiveNode, commune_code: str | None) -> bool:
    """A node of the whole territory (commune NULL) links from anywhere; a node declined for
    one commune only from that commune's events and initiatives."""
    return node.commune_code is None or node.commune_code == commune_code


def check_communes(nodes, commune_code: str | None, field: str = "objectives") -> None:
    """Raise a :class:`DomainError` on ``field`` naming the nodes of another commune."""
    wrong = sorted((n for n in nodes if not linkable(n, commune_code)), key=lambda n: n.position)
    if not wrong:
        return
    codes = sorted({n.commune_code for n in wrong})
    rows = db.session.execute(select(Commune.code, Commune.name).where(Commune.code.in_(codes)))
    names = {code: name for code, name in rows}
    raise DomainError(
        _(
            "%(codes)s: objectives of %(communes)s only. Choose objectives of this commune or "
            "of the whole territory.",
            codes=", ".join(n.code for n in wrong[:10]),
            communes=", ".join(names.get(c, c) for c in codes),
        ),
        field=field,
    )


def linkable_codes(codes, commune_code: str | None, nodes_by_code: dict) -> list[str]:
    """Each code, or its nearest ancestor that this commune may link (demo data), deduplicated
    in order; codes of unknown nodes are dropped."""
    out: list[str] = []
    for code in codes:
        while code and code in nodes_by_code and not linkable(nodes_by_code[code], commune_code):
            code = code.rsplit(".", 1)[0] if "." in code else ""
        if code in nodes_by_code and code not in out:
            out.append(code)
    return out
