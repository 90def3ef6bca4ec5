"""Demo initiatives: one in every moderation state, answers, supports, a report, objectives."""

from datetime import timedelta

from sqlalchemy import select

from blagis.extensions import db
from blagis.initiatives.services import search_text_for
from blagis.models import (
    Initiative,
    InitiativeObjective,
    InitiativeReport,
    InitiativeStatusChange,
    InitiativeSupport,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    utcnow,
)
from blagis.objectives.services import linkable_codes

# (author, commune, state, status, title, summary, body, objectives, answers, reason)
DEMO = [
    (
        "habitant",
        "sceaux",
        "published",
        "in_progress",
        "Des bacs potagers partagés au pied des Blagis",
        "Installer quatre bacs de culture entre les immeubles, entretenus par les voisins "
        "et les enfants du centre de loisirs.",
        "Beaucoup d’habitants n’ont ni jardin ni balcon. Des bacs potagers en bois, au pied "
        "des immeubles, permettraient de cultiver herbes aromatiques et légumes ensemble.\n\n"
        "Le centre social a déjà proposé d’aider pour les semis du printemps. Un exemple qui "
        "marche à Bagneux : https://www.bagneux92.fr\n\n"
        "Il faudrait un point d’eau et un petit local pour les outils.",
        ["3.3", "4"],
        [
            ("under_study", "Le service des espaces verts étudie les emplacements possibles."),
            (
                "accepted",
                "Accord du bailleur obtenu : deux bacs seront installés près de la Rotonde.",
            ),
            ("in_progress", "Les bacs sont commandés ; la plantation aura lieu en avril."),
        ],
        None,
    ),
    (
        "fatou",
        "bagneux",
        "published",
        "under_study",
        "Un café des parents le samedi matin",
        "Un moment convivial pour que les parents se rencontrent et échangent sur l’école, "
        "la santé, les loisirs des enfants.",
        "Le samedi matin, de 10 h à 12 h, à la maison de quartier. Café, thé et gâteaux "
        "préparés par les volontaires.\n\nOn pourrait inviter une fois par mois une "
        "professionnelle (PMI, orthophoniste, CAF) pour répondre aux questions.",
        ["1.6", "1.7.1"],
        [("under_study", "La maison de quartier vérifie la disponibilité de la salle.")],
        None,
    ),
    (
        "marc",
        "fontenay-aux-roses",
        "published",
        "new",
        "Aide aux devoirs avec des étudiants bénévoles",
        "Mettre en relation les collégiens qui ont besoin d’aide et les étudiants du quartier "
        "qui veulent donner un coup de main.",
        "Deux soirs par semaine, à la médiathèque ou à l’école élémentaire. Les étudiants "
        "seraient accompagnés par un animateur.",
        ["1.1.2"],
        [],
        None,
    ),
    (
        "benevole",
        "sceaux",
        "published",
        "not_retained",
        "Un marché de nuit en été",
        "Un marché nocturne avec des stands de cuisine du monde en juillet.",
        "Pour animer le quartier les soirs d’été, avec des stands tenus par les habitants.",
        ["4"],
        [
            (
                "not_retained",
                "Les règles de sécurité de la place ne permettent pas un marché de nuit ; "
                "nous proposons plutôt une fête de quartier en journée.",
            )
        ],
        None,
    ),
    (
        "resident.en",
        "bourg-la-reine",
        "published",
        "done",
        "Un atelier vélo pour réparer soi-même",
        "Un atelier mensuel où l’on apprend à réparer son vélo avec des bénévoles.",
        "Avec le Repair café, un samedi par mois : chambres à air, freins, éclairage.",
        ["3", "4.2"],
        [
            ("accepted", "Le Repair café accueille l’atelier vélo dans ses locaux."),
            ("done", "L’atelier a lieu chaque premier samedi du mois depuis septembre."),
        ],
        None,
    ),
    (
        "habitant",
        "sceaux",
        "pending",
        "new",
        "Des bancs le long de l’allée des Blagis",
        "Ajouter des bancs pour que les personnes âgées puissent se reposer en chemin.",
        "Entre l’arrêt de bus et le centre commercial, il n’y a aucun endroit pour s’asseoir.",
        [],
        [],
        None,
    ),
    (
        "fatou",
        "bagneux",
        "changes_requested",
        "new",
        "Cours de français",
        "Des cours.",
        "Des cours de français.",
        [],
        [],
        "Pouvez-vous préciser pour qui, à quel moment de la semaine et avec quel partenaire ?",
    ),
    (
        "marc",
        "fontenay-aux-roses",
        "rejected",
        "new",
        "Vendez vos objets sur mon site",
        "Publicité pour un site de vente en ligne.",
        "Rendez-vous sur mon site pour acheter et vendre.",
        [],
        [],
        "Les initiatives ne peuvent pas servir à la promotion d’une activité commerciale.",
    ),
    (
        "benevole",
        "sceaux",
        "hidden",
        "new",
        "Interdire les poussettes dans le hall",
        "Les poussettes gênent le passage dans le hall de l’immeuble.",
        "Il faudrait les interdire.",
        [],
        [],
        "Ce sujet relève du règlement intérieur de la résidence : contactez votre bailleur.",
    ),
]

SUPPORTERS = ["habitant", "fatou", "marc", "benevole", "resident.en"]


def step(users) -> dict:
    """Create the demo initiatives with answers signed by the staff role."""
    nodes = {n.code: n for n in db.session.scalars(select(ObjectiveNode))}
    now = utcnow()
    agent = users["agent.sceaux"]
    created = 0
    for index, row in enumerate(DEMO):
        author, commune, state, status, title, summary, body, codes, answers, reason = row
        created_at = now - timedelta(days=40 - index * 3)
        initiative = Initiative(
            title=title,
            summary=summary,
            body=body,
            commune_code=commune,
            author_id=users[author].id,
            state=ModerationState(state),
            status=PublicStatus(status),
            moderation_reason=reason,
            search_text=search_text_for(title, summary, body),
            created_at=created_at,
            published_at=created_at + timedelta(days=1)
            if state in ("published", "hidden")
            else None,
        )
        db.session.add(initiative)
        db.session.flush()
        created += 1
        for code in linkable_codes(codes, commune, nodes):
            if code in nodes:
                db.session.add(
                    InitiativeObjective(initiative_id=initiative.id, objective_id=nodes[code].id)
                )
        for offset, (answer_status, answer) in enumerate(answers):
            at = created_at + timedelta(days=3 + offset * 5)
            db.session.add(
                InitiativeStatusChange(
                    initiative_id=initiative.id,
                    status=PublicStatus(answer_status),
                    answer=answer,
                    actor_role=str(agent.role),
                    actor_commune_code=agent.scope_commune_code,
                    created_at=at,
                )
            )
            initiative.answered_at = at
        if state == "published":
            supporters = [u for u in SUPPORTERS[: len(SUPPORTERS) - index] if u != author]
            for name in supporters:
                db.session.add(
                    InitiativeSupport(initiative_id=initiative.id, user_id=users[name].id)
                )
            initiative.support_count = len(supporters)
        if state == "hidden":
            db.session.add(
                InitiativeReport(
                    initiative_id=initiative.id,
                    user_id=users["fatou"].id,
                    reason="Ce message stigmatise les familles avec de jeunes enfants.",
                )
            )
    db.session.flush()
    return {"initiatives": created}
