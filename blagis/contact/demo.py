"""Demo desks: one or two per commune, plausible but plainly examples.

The addresses say « (exemple) » and the phone numbers are the fictitious 01 00 00 00 0x:
the demo must never send a resident to a real place or number.
"""

from blagis.contact.services import save_desk

SERVICES = "\n".join(
    [
        "Vous inscrire à une activité, même sans compte ni e-mail",
        "Vous aider à créer votre compte ou à retrouver votre mot de passe",
        "Déposer une proposition d'initiative avec vous",
        "Vous orienter vers le bon service ou la bonne association",
    ]
)

DESKS = [
    {
        "commune_code": "bagneux",
        "name": "Accueil de la maison de quartier (exemple)",
        "address": "1 rue de l'Exemple\n92220 Bagneux",
        "hours": "Lundi au vendredi : 9 h – 12 h et 14 h – 18 h\nSamedi : 9 h – 12 h",
        "phone": "01 00 00 00 01",
        "email": "accueil.bagneux@blagis.example",
    },
    {
        "commune_code": "bourg-la-reine",
        "name": "Point d'accueil de l'espace Blagis (exemple)",
        "address": "2 avenue de l'Exemple\n92340 Bourg-la-Reine",
        "hours": "Mardi et jeudi : 14 h – 18 h\nMercredi : 9 h – 12 h",
        "phone": "01 00 00 00 02",
        "email": "",
    },
    {
        "commune_code": "fontenay-aux-roses",
        "name": "Accueil du centre social (exemple)",
        "address": "3 place de l'Exemple\n92260 Fontenay-aux-Roses",
        "hours": "Lundi au vendredi : 9 h 30 – 12 h 30 et 14 h – 17 h 30",
        "phone": "01 00 00 00 03",
        "email": "accueil.fontenay@blagis.example",
    },
    {
        "commune_code": "sceaux",
        "name": "Accueil du centre social des Blagis (exemple)",
        "address": "4 rue de l'Exemple\n92330 Sceaux",
        "hours": "Lundi au vendredi : 9 h – 12 h 30 et 13 h 30 – 18 h\n"
        "Café des bénévoles : le samedi matin",
        "phone": "01 00 00 00 04",
        "email": "accueil.sceaux@blagis.example",
    },
    {
        "commune_code": "sceaux",
        "name": "Permanence numérique de la médiathèque (exemple)",
        "address": "5 allée de l'Exemple\n92330 Sceaux",
        "hours": "Mercredi : 14 h – 17 h",
        "phone": "01 00 00 00 05",
        "email": "",
        "services": "Vous aider avec votre téléphone, votre ordinateur ou vos démarches en ligne\n"
        "Vous inscrire à un café numérique",
        "position": 1,
    },
]


def step(users) -> dict:
    """The desks, written by the administrator as staff would (audited)."""
    admin = users["admin"]
    for desk in DESKS:
        save_desk(admin, None, {"services": SERVICES, "position": 0, **desk})
    return {"desks": len(DESKS)}
