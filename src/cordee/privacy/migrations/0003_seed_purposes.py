"""The destination's usual purposes and version 1 of their consent wordings.

Frozen here on purpose: a later change of wording is a new ConsentWording version written by a
new migration or by the DPO, never an edit of these rows (proofs cite them).
"""

from django.db import migrations

NO_TRANSFER = "Aucun transfert hors de l'Union européenne."
HOST = "Hébergeur de Cordée (serveurs situés dans l'Union européenne)"
MAILER = "Prestataire d'envoi d'e-mails"

PURPOSES = [
    {
        "slug": "newsletter",
        "position": 10,
        "name_fr": "Lettre d'information de la destination",
        "name_en": "The destination's newsletter",
        "description_fr": (
            "Recevoir par e-mail la lettre d'information de l'office de tourisme : les temps "
            "forts de la saison, les événements et les bons plans de la vallée. Environ deux "
            "envois par mois ; un lien en bas de chaque message permet de se désinscrire en un clic."
        ),
        "description_en": (
            "Receive the tourist office's newsletter by e-mail: the highlights of the season, "
            "events and good deals in the valley. About two e-mails a month; a link at the "
            "bottom of each one lets you unsubscribe in one click."
        ),
        "legal_basis": "consent",
        "controller": "hub",
        "data_categories": [
            "Identité (civilité, prénom, nom)",
            "Adresse e-mail",
            "Langue",
            "Centres d'intérêt et saison préférée",
            "Ouvertures et clics des lettres envoyées",
        ],
        "data_subjects": [
            "Abonnés à la lettre d'information",
            "Clients et prospects de la destination",
        ],
        "recipients": ["Équipe relation client et marketing de l'office de tourisme"],
        "processors": [MAILER, HOST],
        "transfers": NO_TRANSFER,
        "retention_months": 36,
        "retention_scope": (
            "Coordonnées et préférences de l'abonné : 3 ans après le dernier contact venant de "
            "lui (clic, séjour, achat, réponse). Après une désinscription, l'adresse n'est plus "
            "utilisée ; la preuve du consentement et de son retrait est gardée 5 ans (prescription)."
        ),
        "shown": (
            "J'accepte de recevoir par e-mail la lettre d'information de l'office de tourisme "
            "(environ deux envois par mois). Je peux me désinscrire à tout moment grâce au lien "
            "présent dans chaque message.",
            "I agree to receive the tourist office's newsletter by e-mail (about two e-mails a "
            "month). I can unsubscribe at any time with the link in every message.",
        ),
    },
    {
        "slug": "partner_offers",
        "position": 20,
        "name_fr": "Partage avec les partenaires de la destination",
        "name_en": "Sharing with the destination's partners",
        "description_fr": (
            "Permettre à l'office de tourisme de partager vos coordonnées et vos centres "
            "d'intérêt avec les partenaires de la destination (hébergements, écoles de ski, "
            "remontées mécaniques, restaurants, activités), pour qu'ils vous reconnaissent d'un "
            "séjour à l'autre et vous envoient leurs offres. Vous pouvez retirer cet accord à tout "
            "moment."
        ),
        "description_en": (
            "Allow the tourist office to share your contact details and interests with the "
            "destination's partners (accommodation, ski schools, ski lifts, restaurants, "
            "activities), so that they recognise you from one stay to the next and send you "
            "their offers. You can withdraw this agreement at any time."
        ),
        "legal_basis": "consent",
        "controller": "joint",
        "data_categories": [
            "Identité (civilité, prénom, nom)",
            "Coordonnées (e-mail, téléphone, adresse postale)",
            "Centres d'intérêt, saison préférée, composition de la famille",
            "Séjours et achats auprès des partenaires",
        ],
        "data_subjects": ["Clients et prospects de la destination"],
        "recipients": [
            "Office de tourisme",
            "Partenaires de la destination, pour les seules personnes qui l'ont accepté",
        ],
        "processors": [HOST, MAILER],
        "transfers": NO_TRANSFER,
        "retention_months": 36,
        "retention_scope": (
            "Données partagées : 3 ans après le dernier contact venant de la personne. Un retrait "
            "de l'accord arrête le partage aussitôt ; chaque partenaire garde ce qu'il a lui-même "
            "collecté sous sa propre responsabilité."
        ),
        "shown": (
            "J'accepte que l'office de tourisme partage mes coordonnées et mes centres d'intérêt "
            "avec les partenaires de la destination (hébergements, écoles de ski, remontées "
            "mécaniques, restaurants, activités) pour recevoir leurs offres. Je peux retirer cet "
            "accord à tout moment.",
            "I agree that the tourist office shares my contact details and interests with the "
            "destination's partners (accommodation, ski schools, ski lifts, restaurants, "
            "activities) so that I receive their offers. I can withdraw this agreement at any time.",
        ),
    },
    {
        "slug": "sms",
        "position": 30,
        "name_fr": "Informations et offres par SMS",
        "name_en": "News and offers by text message",
        "description_fr": (
            "Recevoir par SMS des informations pratiques et des offres de la destination "
            "(ouverture de la saison, enneigement, événements). Quelques messages par saison ; "
            "répondez STOP pour ne plus en recevoir."
        ),
        "description_en": (
            "Receive practical news and offers from the destination by text message (season "
            "opening, snow conditions, events). A few messages a season; reply STOP to receive "
            "no more."
        ),
        "legal_basis": "consent",
        "controller": "hub",
        "data_categories": [
            "Identité (prénom, nom)",
            "Numéro de téléphone mobile",
            "Langue",
            "Centres d'intérêt",
        ],
        "data_subjects": ["Clients et prospects de la destination"],
        "recipients": ["Équipe relation client et marketing de l'office de tourisme"],
        "processors": ["Prestataire d'envoi de SMS", HOST],
        "transfers": NO_TRANSFER,
        "retention_months": 36,
        "retention_scope": (
            "Numéro et préférences : 3 ans après le dernier contact venant de la personne ; "
            "un STOP arrête les envois aussitôt."
        ),
        "shown": (
            "J'accepte de recevoir par SMS des informations et des offres de la destination. "
            "Je peux répondre STOP à tout moment pour ne plus en recevoir.",
            "I agree to receive news and offers from the destination by text message. I can "
            "reply STOP at any time to receive no more.",
        ),
    },
    {
        "slug": "profiling",
        "position": 40,
        "name_fr": "Messages adaptés à votre profil",
        "name_en": "Messages suited to your profile",
        "description_fr": (
            "Analyser vos séjours, vos achats et vos réponses pour vous classer dans des groupes "
            "de clients (par exemple « fidèles de l'hiver ») et vous envoyer des messages et des "
            "offres qui vous correspondent. Sans votre accord, vous recevez les mêmes messages "
            "que tout le monde."
        ),
        "description_en": (
            "Analyse your stays, purchases and answers to place you in groups of customers (for "
            'example "winter regulars") and send you messages and offers that suit you. Without '
            "your agreement you receive the same messages as everyone else."
        ),
        "legal_basis": "consent",
        "controller": "hub",
        "data_categories": [
            "Identité",
            "Qualification (tranche d'âge, situation familiale, centres d'intérêt)",
            "Comportement (séjours, visites, achats, montants, dates)",
            "Réactions aux campagnes (ouvertures, clics)",
        ],
        "data_subjects": ["Clients de la destination"],
        "recipients": ["Équipe relation client et marketing de l'office de tourisme"],
        "processors": [HOST],
        "transfers": NO_TRANSFER,
        "retention_months": 36,
        "retention_scope": (
            "Groupes et indicateurs calculés : recalculés à chaque saison, effacés 3 ans après "
            "le dernier contact venant de la personne ou dès le retrait de l'accord."
        ),
        "shown": (
            "J'accepte que l'office de tourisme analyse mes séjours et mes achats pour m'envoyer "
            "des messages et des offres adaptés à mon profil. Je peux retirer cet accord à tout "
            "moment.",
            "I agree that the tourist office analyses my stays and purchases to send me messages "
            "and offers suited to my profile. I can withdraw this agreement at any time.",
        ),
    },
    {
        "slug": "surveys",
        "position": 50,
        "name_fr": "Questionnaires de satisfaction",
        "name_en": "Satisfaction surveys",
        "description_fr": (
            "Recevoir après votre séjour un court questionnaire sur votre satisfaction, pour "
            "aider l'office de tourisme et ses partenaires à mieux vous accueillir. Les réponses "
            "qui concernent un partenaire peuvent lui être communiquées."
        ),
        "description_en": (
            "Receive a short satisfaction survey after your stay, to help the tourist office and "
            "its partners welcome you better. Answers about a partner may be passed on to it."
        ),
        "legal_basis": "consent",
        "controller": "hub",
        "data_categories": [
            "Identité",
            "Adresse e-mail",
            "Séjour ou prestation évalués",
            "Réponses au questionnaire",
        ],
        "data_subjects": ["Clients de la destination"],
        "recipients": ["Office de tourisme", "Partenaire concerné par la prestation évaluée"],
        "processors": [HOST, MAILER],
        "transfers": NO_TRANSFER,
        "retention_months": 36,
        "retention_scope": (
            "Réponses nominatives : 3 ans après le dernier contact venant de la personne ; "
            "au-delà, seules des statistiques anonymes sont gardées."
        ),
        "shown": (
            "J'accepte de recevoir après mon séjour un questionnaire de satisfaction de l'office "
            "de tourisme. Je peux retirer cet accord à tout moment.",
            "I agree to receive a satisfaction survey from the tourist office after my stay. I "
            "can withdraw this agreement at any time.",
        ),
    },
    {
        "slug": "analytics_cookies",
        "position": 60,
        "name_fr": "Cookies de mesure d'audience",
        "name_en": "Audience measurement cookies",
        "description_fr": (
            "Déposer des cookies sur les sites de la destination pour compter les visites et "
            "savoir quelles pages sont utiles, afin d'améliorer ces sites. Sans votre accord, "
            "aucun de ces cookies n'est déposé."
        ),
        "description_en": (
            "Place cookies on the destination's websites to count visits and learn which pages "
            "are useful, in order to improve the sites. Without your agreement none of these "
            "cookies is placed."
        ),
        "legal_basis": "consent",
        "controller": "hub",
        "data_categories": [
            "Identifiant de cookie",
            "Pages consultées, date et heure",
            "Type d'appareil et de navigateur",
            "Adresse IP tronquée",
        ],
        "data_subjects": ["Visiteurs des sites web de la destination"],
        "recipients": ["Équipe web de l'office de tourisme"],
        "processors": ["Outil de mesure d'audience", HOST],
        "transfers": NO_TRANSFER,
        "retention_months": 25,
        "retention_scope": (
            "Cookies : 13 mois au plus après leur dépôt ; données de mesure : 25 mois au plus ; "
            "le choix de la personne lui est redemandé au bout de 6 mois (recommandations CNIL)."
        ),
        "shown": (
            "J'accepte les cookies de mesure d'audience, qui aident l'office de tourisme à "
            "améliorer ses sites. Je peux changer d'avis à tout moment depuis le lien « Cookies » "
            "en bas de page.",
            "I accept audience measurement cookies, which help the tourist office improve its "
            'websites. I can change my mind at any time from the "Cookies" link at the bottom '
            "of the page.",
        ),
    },
    {
        "slug": "orders",
        "position": 70,
        "name_fr": "Commandes et réservations",
        "name_en": "Orders and bookings",
        "description_fr": (
            "Traiter les commandes et réservations que vous passez auprès de l'office de "
            "tourisme pour les prestations de ses partenaires : paiement, confirmation, "
            "transmission au partenaire qui vous accueille, service après-vente et factures."
        ),
        "description_en": (
            "Handle the orders and bookings you place with the tourist office for its partners' "
            "services: payment, confirmation, passing them on to the partner who welcomes you, "
            "after-sales service and invoices."
        ),
        "legal_basis": "contract",
        "controller": "joint",
        "data_categories": [
            "Identité",
            "Coordonnées (e-mail, téléphone, adresse)",
            "Détail de la commande (prestations, dates, participants, montants)",
            "Paiement (référence de transaction, jamais le numéro de carte)",
        ],
        "data_subjects": ["Clients ayant passé commande", "Participants nommés dans la commande"],
        "recipients": [
            "Office de tourisme (service vente)",
            "Partenaire qui fournit la prestation",
            "Expert-comptable et commissaire aux comptes",
        ],
        "processors": ["Prestataire de paiement", HOST, MAILER],
        "transfers": NO_TRANSFER,
        "retention_months": 60,
        "retention_scope": (
            "Commande et échanges : 5 ans après la dernière commande (prescription). Factures et "
            "pièces comptables : 10 ans (art. L123-22 du Code de commerce), le reste de la fiche "
            "étant anonymisé."
        ),
        "shown": (
            "Mes coordonnées sont utilisées pour traiter ma commande et sont transmises au "
            "partenaire qui fournit la prestation.",
            "My contact details are used to handle my order and are passed on to the partner "
            "who provides the service.",
        ),
    },
]

DECLARATION = (
    "Déclaration de l'organisation qui a transmis ces données : la personne lui a donné ou "
    "refusé son accord pour « {name} ». Cordée n'a pas vu le texte qui lui a été présenté ; "
    "l'organisation en garde la preuve.",
    "Declaration of the organisation that sent this data: the person gave it or refused their "
    'agreement to "{name}". Cordée did not see the text the person was shown; the '
    "organisation keeps the proof of it.",
)


def seed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    ConsentWording = apps.get_model("privacy", "ConsentWording")
    for entry in PURPOSES:
        fields = {k: v for k, v in entry.items() if k not in {"slug", "shown"}}
        purpose, _created = Purpose.objects.get_or_create(slug=entry["slug"], defaults=fields)
        shown_fr, shown_en = entry["shown"]
        texts = {
            ("shown", "fr"): shown_fr,
            ("shown", "en"): shown_en,
            ("declaration", "fr"): DECLARATION[0].format(name=entry["name_fr"]),
            ("declaration", "en"): DECLARATION[1].format(name=entry["name_en"]),
        }
        for (kind, language), text in texts.items():
            ConsentWording.objects.get_or_create(
                purpose=purpose, kind=kind, version=1, language=language, defaults={"text": text}
            )


def unseed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    ConsentWording = apps.get_model("privacy", "ConsentWording")
    slugs = [entry["slug"] for entry in PURPOSES]
    ConsentWording.objects.filter(purpose__slug__in=slugs, version=1).delete()
    Purpose.objects.filter(slug__in=slugs).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_purposes_consents")]

    operations = [migrations.RunPython(seed, unseed)]
