from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import NodeLevel, ObjectiveNode


def node_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ObjectiveNode.id)))


def test_contract_tree_shape(app):
    with app.app_context():
        nodes = db.session.scalars(select(ObjectiveNode)).all()
    axes = [n for n in nodes if n.level == NodeLevel.AXIS]
    assert len(axes) == 4
    assert {n.level for n in nodes} == set(NodeLevel)
    by_code = {n.code: n for n in nodes}
    for n in nodes:
        assert n.title_fr and n.title_en
        if "." in n.code:
            assert by_code[n.code.rsplit(".", 1)[0]].id == n.parent_id
    cafe = [n for n in nodes if "café des bénévoles" in n.title_fr]
    assert cafe and cafe[0].level == NodeLevel.ACTION


def test_load_contract_twice_is_idempotent(app, runner):
    before = node_count(app)
    result = runner.invoke(args=["load-contract"])
    assert result.exit_code == 0, result.output
    assert "nodes created: 0, updated: 0" in result.output
    assert node_count(app) == before


def test_load_contract_reports_changes(app, runner, tmp_path):
    path = tmp_path / "contract.toml"
    path.write_text(
        '[[nodes]]\ncode = "1"\ntitle_fr = "Axe modifié"\ntitle_en = "Changed axis"\n'
        '[[nodes]]\ncode = "9"\ntitle_fr = "Nouvel axe"\ntitle_en = "New axis"\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["load-contract", str(path)])
    assert result.exit_code == 0, result.output
    # One line unless asked for details (a first load creates 58 nodes).
    assert result.output.splitlines() == [
        "communes created: 0; nodes created: 1, updated: 1, unchanged: 0"
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("modifié", "renommé"), "utf-8")
    result = runner.invoke(args=["load-contract", "--verbose", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "communes created: 0; nodes created: 0, updated: 1, unchanged: 1",
        "  ~ 1",
    ]
    path.write_text('[[nodes]]\ncode = "10"\ntitle_fr = "X"\ntitle_en = "Y"\n', "utf-8")
    result = runner.invoke(args=["load-contract", "-v", str(path)])
    assert "nodes created: 1" in result.output and "  + 10" in result.output


def test_load_contract_refuses_broken_file(app, runner, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[nodes]]\ncode = "1.1"\ntitle_fr = "x"\ntitle_en = "y"\n', encoding="utf-8")
    before = node_count(app)
    result = runner.invoke(args=["load-contract", str(path)])
    assert result.exit_code != 0 and "parent 1 must come first" in result.output
    path.write_text("not toml [", encoding="utf-8")
    assert runner.invoke(args=["load-contract", str(path)]).exit_code != 0
    assert node_count(app) == before


def test_objectives_page_both_languages(client):
    fr = client.get("/objectives").get_data(as_text=True)
    assert "Réussite éducative" in fr
    en = client.get("/objectives?lang=en").get_data(as_text=True)
    assert "Educational success" in en


def test_objective_node_page(client):
    response = client.get("/objectives/4.4")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "4.4.1" in html and "café des bénévoles" in html


def test_unknown_objective_is_404(client):
    for code in ("9.9.9", "abc", "1.1.1.1.1", "%25", "' or 1=1"):
        assert client.get(f"/objectives/{code}").status_code == 404


def test_api_objectives(client):
    data = client.get("/api/v1/objectives?lang=en").get_json()
    assert len(data["objectives"]) == 4
    axis = data["objectives"][0]
    assert axis["code"] == "1" and axis["level"] == "axis" and axis["children"]
    assert axis["title"] == axis["title_en"]
