"""What the valley's visitors did: four winters and four summers of stays, passes and meals.

`build_activity_files` writes one activity CSV per partner, each the way its system exports
(headers, separator, encoding, date and amount formats, a Type column or not), for the people
of the demo's customer files, who are found again by the partner's own customer number, or by
e-mail and phone when the partner's system keeps no number (the restaurant's phone bookings).

Each household draws a story per season kind (winter, summer), so the 3F typology has every
group: loyal returners (fidèles), people who come back despite complaints (forcés), people
who stopped coming (fuyants), new ones this season (nouveaux), now-and-then visitors and
prospects who never came. Deterministic for (seed, today).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import NamedTuple

from cordee.activities.seasons import DEFAULT_WINDOWS, Window
from cordee.demo.files import DemoFiles
from cordee.demo.people import Person, generate_people

__all__ = ["ActivityFile", "STORIES", "build_activity_files", "recent_seasons"]

SEASONS_BACK = 4
# A season counts once it has run for this long: a winter opened yesterday is not "this season".
_SEASON_MARGIN = dt.timedelta(days=14)

# Per season kind, each household's story: which of the last four seasons (0 = the oldest,
# 3 = the latest) it came in, and whether it was happy.
STORIES: dict[str, float] = {
    "loyal": 24,  # fidèles
    "forced": 10,  # forcés: come back, but complain or rate low
    "lapsed": 18,  # fuyants: came, then stopped
    "new": 16,  # nouveaux: first time this season
    "occasional": 14,
    "never": 18,  # prospects for this kind
}


class ActivityFile(NamedTuple):
    partner: str
    path: Path
    lines: int
    default_kind: str  # "" when the file has a Type column


@dataclass(frozen=True, slots=True)
class Offer:
    product: str
    kind: str  # an ActivityKind value
    price: float  # € per unit (a night, a day, a person)
    per_night: bool = False
    for_children: bool = False


@dataclass(frozen=True, slots=True)
class ActivityStyle:
    """How one partner's activity export looks."""

    columns: tuple[tuple[str, str], ...]  # (field, header)
    delimiter: str = ";"
    encoding: str = "utf-8"
    date_format: str = "dmy"  # "dmy" 14/02/2026, "iso", "dmy_dot" 14.02.2026
    amount_format: str = "fr"  # "fr" 1 234,50 · "plain" 1234.50 · "euro" 1 234,50 €
    kind_words: dict[str, str] | None = None  # the word written in the Type column
    default_kind: str = ""  # given to the import when there is no Type column
    reference_prefix: str = ""  # "" = the system keeps no reference
    winter: tuple[Offer, ...] = ()
    summer: tuple[Offer, ...] = ()
    rated: float = 0.0  # share of lines with a satisfaction score

    @property
    def headers(self) -> list[str]:
        return [header for _, header in self.columns]


_FRENCH_KINDS = {
    "stay": "Séjour",
    "ticket": "Forfait",
    "lesson": "Cours",
    "rental": "Location",
    "meal": "Repas",
    "purchase": "Achat",
    "visit": "Visite",
    "request": "Demande",
    "complaint": "Réclamation",
    "call": "Appel",
    "recommendation": "Recommandation",
}

STYLES: dict[str, ActivityStyle] = {
    "hotel-des-alpes": ActivityStyle(
        columns=(
            ("reference", "N° de réservation"),
            ("customer", "N° client"),
            ("kind", "Type"),
            ("start", "Date d'arrivée"),
            ("end", "Date de départ"),
            ("product", "Chambre"),
            ("quantity", "Nb personnes"),
            ("amount", "Montant TTC"),
            ("payment", "Règlement"),
            ("satisfaction", "Satisfaction"),
        ),  # fmt: skip
        encoding="cp1252",
        kind_words=_FRENCH_KINDS,
        reference_prefix="R",
        winter=(
            Offer("Chambre double vue montagne", "stay", 145, per_night=True),
            Offer("Chambre familiale", "stay", 195, per_night=True),
            Offer("Chambre simple", "stay", 95, per_night=True),
        ),
        summer=(
            Offer("Chambre double vue lac", "stay", 120, per_night=True),
            Offer("Chambre familiale", "stay", 160, per_night=True),
        ),
        rated=0.6,
    ),
    "camping-du-lac": ActivityStyle(
        columns=(
            ("reference", "Booking ref"),
            ("customer", "Customer ID"),
            ("kind", "Type"),
            ("start", "Check-in"),
            ("end", "Check-out"),
            ("product", "Item"),
            ("quantity", "Pax"),
            ("amount", "Amount"),
            ("payment", "Payment method"),
            ("satisfaction", "Rating"),
        ),  # fmt: skip
        delimiter=",",
        date_format="iso",
        amount_format="plain",
        kind_words={"stay": "stay", "complaint": "complaint", "rental": "rental"},
        reference_prefix="BK",
        summer=(
            Offer("Emplacement tente", "stay", 29, per_night=True),
            Offer("Mobil-home 4 pers.", "stay", 89, per_night=True),
            Offer("Chalet 6 pers.", "stay", 125, per_night=True),
        ),
        rated=0.5,
    ),
    "remontees": ActivityStyle(
        # Ticketing scans: no Type column, imported with --kind forfait.
        columns=(
            ("reference", "Ticket id"),
            ("customer", "Customer ID"),
            ("start", "Date du passage"),
            ("end", "Date de validité fin"),
            ("product", "Forfait"),
            ("amount", "Price"),
            ("payment", "Payment"),
        ),  # fmt: skip
        delimiter="\t",
        date_format="iso",
        amount_format="plain",
        default_kind="ticket",
        reference_prefix="TK",
        winter=(
            Offer("Forfait 6 jours", "ticket", 285),
            Offer("Forfait 6 jours", "ticket", 230, for_children=True),
            Offer("Forfait 3 jours", "ticket", 155),
            Offer("Forfait journée", "ticket", 54),
            Offer("Forfait débutant", "ticket", 26, for_children=True),
        ),
        summer=(Offer("Forfait piéton été", "ticket", 18),),
    ),
    "ecole-de-ski": ActivityStyle(
        columns=(
            ("customer", "Code client"),
            ("kind", "Type"),
            ("start", "Date du cours"),
            ("product", "Cours"),
            ("quantity", "Nombre"),
            ("amount", "Montant"),
            ("payment", "Mode de paiement"),
            ("satisfaction", "Note"),
        ),  # fmt: skip
        encoding="utf-8-sig",
        date_format="dmy_dot",
        amount_format="euro",
        kind_words={"lesson": "Cours de ski", "complaint": "Réclamation"},
        winter=(
            Offer("Cours collectif 6 matinées", "lesson", 215),
            Offer("Piou-Piou 5 jours", "lesson", 185, for_children=True),
            Offer("Cours collectif 6 matinées", "lesson", 199, for_children=True),
            Offer("Cours particulier 1 h", "lesson", 62),
        ),
        rated=0.3,
    ),
    "combeyre-locations": ActivityStyle(
        columns=(
            ("reference", "N° CONTRAT"),
            ("customer", "CODE CLIENT"),
            ("start", "DATE DE DEBUT"),
            ("end", "DATE DE FIN"),
            ("product", "ARTICLE"),
            ("amount", "MONTANT"),
            ("payment", "REGLEMENT"),
        ),  # fmt: skip
        encoding="cp1252",
        default_kind="rental",
        reference_prefix="C",
        winter=(
            Offer("SKIS + CHAUSSURES 6 JOURS", "rental", 145),
            Offer("SKIS ENFANT 6 JOURS", "rental", 75, for_children=True),
            Offer("SNOWBOARD 6 JOURS", "rental", 130),
        ),
        summer=(Offer("VTT ELECTRIQUE JOURNEE", "rental", 55),),
    ),
    "table-du-lac": ActivityStyle(
        # Bookings taken on the phone: no customer number, the e-mail or phone given.
        columns=(
            ("start", "Date"),
            ("kind", "Type"),
            ("email", "E-mail"),
            ("phone", "Téléphone"),
            ("quantity", "Couverts"),
            ("product", "Menu"),
            ("amount", "Total"),
        ),  # fmt: skip
        kind_words={"meal": "repas", "complaint": "réclamation"},
        winter=(Offer("Menu savoyard", "meal", 36),),
        summer=(Offer("Menu du lac", "meal", 39), Offer("Formule midi", "meal", 22)),
    ),
    "ecole-de-voile": ActivityStyle(
        columns=(
            ("reference", "Commande"),
            ("customer", "N° client"),
            ("kind", "Activité"),
            ("start", "Date"),
            ("product", "Prestation"),
            ("quantity", "Participants"),
            ("amount", "Prix TTC"),
        ),  # fmt: skip
        delimiter=",",
        encoding="utf-8-sig",
        kind_words={"lesson": "Stage", "rental": "Location"},
        reference_prefix="V",
        summer=(
            Offer("Stage voile 5 demi-journées", "lesson", 195),
            Offer("Stage optimist 5 matinées", "lesson", 165, for_children=True),
            Offer("Location paddle 1 h", "rental", 20),
        ),
    ),
    "bureau-des-guides": ActivityStyle(
        columns=(
            ("reference", "Booking ref"),
            ("customer", "Customer ID"),
            ("kind", "Type"),
            ("start", "Date"),
            ("product", "Product"),
            ("quantity", "Quantity"),
            ("amount", "Amount"),
            ("satisfaction", "Rating"),
        ),  # fmt: skip
        kind_words={"visit": "visit", "lesson": "lesson"},
        reference_prefix="G",
        winter=(
            Offer("Sortie raquettes demi-journée", "visit", 38),
            Offer("Initiation cascade de glace", "lesson", 120),
        ),
        summer=(Offer("Via ferrata du Roc", "visit", 65), Offer("Lac des Vaches", "visit", 30)),
        rated=0.4,
    ),
    "combeyre-sports": ActivityStyle(
        columns=(
            ("reference", "N° de ticket"),
            ("customer", "Code client"),
            ("start", "Date de vente"),
            ("product", "Article"),
            ("quantity", "Qté"),
            ("amount", "Montant"),
            ("payment", "Moyen de paiement"),
        ),  # fmt: skip
        delimiter="\t",
        default_kind="purchase",
        reference_prefix="T",
        winter=(
            Offer("Masque de ski", "purchase", 89),
            Offer("Gants", "purchase", 45),
            Offer("Veste de ski", "purchase", 229),
        ),
        summer=(Offer("Chaussures de randonnée", "purchase", 139),),
    ),
    "spa-des-cretes": ActivityStyle(
        columns=(
            ("customer", "N° client"),
            ("start", "Date de visite"),
            ("product", "Prestation"),
            ("amount", "Montant TTC"),
            ("satisfaction", "Satisfaction"),
        ),  # fmt: skip
        encoding="cp1252",
        date_format="dmy_dot",
        default_kind="visit",
        winter=(Offer("Accès spa 2 h", "visit", 35), Offer("Massage 1 h", "visit", 95)),
        summer=(Offer("Accès spa 2 h", "visit", 30),),
        rated=0.5,
    ),
    "envol-parapente": ActivityStyle(
        columns=(
            ("start", "Date"),
            ("customer", "Customer ID"),
            ("product", "Flight"),
            ("amount", "Price"),
        ),  # fmt: skip
        delimiter=",",
        date_format="iso",
        amount_format="plain",
        default_kind="purchase",
        summer=(Offer("Baptême biplace", "purchase", 95),),
        winter=(Offer("Vol à skis", "purchase", 120),),
    ),
    "golf-du-lac": ActivityStyle(
        columns=(
            ("reference", "Order id"),
            ("customer", "Customer ID"),
            ("start", "Date"),
            ("product", "Item"),
            ("quantity", "Qty"),
            ("amount", "Amount"),
        ),  # fmt: skip
        delimiter=",",
        encoding="utf-8-sig",
        date_format="iso",
        amount_format="plain",
        default_kind="ticket",
        reference_prefix="GF",
        summer=(
            Offer("Green fee 18 trous", "ticket", 68),
            Offer("Green fee 9 trous", "ticket", 39),
        ),
    ),
    "office": ActivityStyle(
        # The office's contact log: questions, calls and complaints, found by the visitor's
        # number in the newsletter list or else by e-mail.
        columns=(
            ("start", "Date"),
            ("kind", "Nature"),
            ("product", "Libellé"),
            ("customer", "N° client"),
            ("email", "Courriel"),
        ),  # fmt: skip
        kind_words={
            "request": "Demande d'information",
            "call": "Appel",
            "complaint": "Réclamation",
            "recommendation": "Recommandation",
        },  # fmt: skip
    ),
}

_PAYMENTS = ("CB", "CB", "CB", "Espèces", "ANCV", "Chèque", "Virement")
_COMPLAINTS = (
    "Chambre bruyante",
    "Attente aux caisses",
    "Remontées fermées sans prévenir",
    "Facture erronée",
    "Propreté des sanitaires",
    "Moniteur absent au rendez-vous",
)
_REQUESTS = (
    ("request", "Demande de brochure"),
    ("request", "Question sur l'enneigement"),
    ("call", "Appel : disponibilités hébergement"),
    ("request", "Horaires des navettes"),
    ("recommendation", "Recommande la vallée à des amis"),
)


def recent_seasons(
    today: dt.date, kind: str, count: int = SEASONS_BACK
) -> list[tuple[dt.date, dt.date]]:
    """The last `count` seasons of `kind` (usual dates) that had started two weeks before
    `today`, oldest first, each as (first day, last day)."""
    window: Window = DEFAULT_WINDOWS[kind]
    found: list[tuple[dt.date, dt.date]] = []
    year = today.year
    while len(found) < count:
        start = dt.date(year, window.start_month, window.start_day)
        end = dt.date(year + 1 if window.crosses_year else year, window.end_month, window.end_day)
        if start <= today - _SEASON_MARGIN:
            found.append((start, end))
        year -= 1
    return found[::-1]


def _story_indices(story: str, rng: Random) -> list[int]:
    if story == "loyal":
        return rng.choice(([2, 3], [1, 2, 3], [0, 1, 2, 3], [0, 2, 3]))
    if story == "forced":
        return rng.choice(([2, 3], [1, 2, 3], [1, 3]))
    if story == "lapsed":
        return rng.choice(([0], [0], [0, 1]))
    if story == "new":
        return [3]
    if story == "occasional":
        return [rng.choice((1, 2))]
    return []


def _date(day: dt.date, fmt: str) -> str:
    if fmt == "iso":
        return day.isoformat()
    if fmt == "dmy_dot":
        return day.strftime("%d.%m.%Y")
    return day.strftime("%d/%m/%Y")


def _amount(value: float, fmt: str) -> str:
    if fmt == "plain":
        return f"{value:.2f}"
    text = f"{value:,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} €" if fmt == "euro" else text


def _phone(e164: str) -> str:
    if e164.startswith("+33") and len(e164) == 12:
        digits = "0" + e164[3:]
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return e164


class _Sink:
    def __init__(self, slug: str, style: ActivityStyle, path: Path) -> None:
        self.slug, self.style, self.path = slug, style, path
        self.handle = path.open("w", encoding=style.encoding, newline="")
        self.writer = csv.writer(self.handle, delimiter=style.delimiter, lineterminator="\r\n")
        self.writer.writerow(style.headers)
        self.lines = 0
        self.next_reference = 1

    def write(self, values: dict[str, object]) -> None:
        style = self.style
        row: list[str] = []
        for field, _header in style.columns:
            value = values.get(field)
            if value is None or value == "":
                row.append("")
            elif field in ("start", "end"):
                assert isinstance(value, dt.date)
                row.append(_date(value, style.date_format))
            elif field == "amount":
                assert isinstance(value, int | float)
                row.append(_amount(float(value), style.amount_format))
            elif field == "kind":
                row.append((style.kind_words or {}).get(str(value), str(value)))
            elif field == "reference":
                row.append(f"{style.reference_prefix}{self.next_reference:07d}")
                self.next_reference += 1
            else:
                row.append(str(value))
        self.writer.writerow(row)
        self.lines += 1


def _customer_numbers(demo: DemoFiles) -> dict[int, dict[str, str]]:
    """person id -> {partner slug: the customer number the partner first gave them}."""
    numbers: dict[int, dict[str, str]] = defaultdict(dict)
    for partner, external, person, _household in demo.truth.rows():
        known = numbers[person]
        if partner not in known or external < known[partner]:
            known[partner] = external
    return numbers


def _households(people: Iterator[Person]) -> Iterator[list[Person]]:
    household: list[Person] = []
    for person in people:
        if household and person.household_id != household[0].household_id:
            yield household
            household = []
        household.append(person)
    if household:
        yield household


def build_activity_files(
    directory: Path, *, demo: DemoFiles, seed: int = 0, today: dt.date | None = None
) -> list[ActivityFile]:
    """Write `activites-<partner>.csv` for every partner of the demo, for its people."""
    today = today or dt.date.today()
    directory.mkdir(parents=True, exist_ok=True)
    numbers = _customer_numbers(demo)
    seasons = {kind: recent_seasons(today, kind) for kind in ("winter", "summer")}
    sinks = {
        slug: _Sink(slug, style, directory / f"activites-{slug}.csv")
        for slug, style in STYLES.items()
    }
    minor_after = dt.date(today.year - 18, 1, 1)
    stories, weights = list(STORIES), list(STORIES.values())
    try:
        for household in _households(generate_people(demo.people, seed=seed, today=today)):
            rng = Random(f"activities:{seed}:{household[0].household_id}")
            known = [(p, numbers.get(p.person_id, {})) for p in household]
            if not any(k for _, k in known):
                continue
            prefs = {p.preferred_season for p in household}
            for kind in ("winter", "summer"):
                story = rng.choices(stories, weights)[0]
                if not (prefs & {kind, "both"}) and story != "never":
                    story = "never" if rng.random() < 0.7 else "occasional"
                for index in _story_indices(story, rng):
                    start, end = seasons[kind][index]
                    _trip(
                        sinks,
                        rng,
                        known,
                        kind,
                        story,
                        index,
                        start,
                        min(end, today - dt.timedelta(days=1)),
                        minor_after,
                    )
    finally:
        for sink in sinks.values():
            sink.handle.close()
    return [
        ActivityFile(slug, sink.path, sink.lines, STYLES[slug].default_kind)
        for slug, sink in sinks.items()
    ]


def _trip(
    sinks: dict[str, _Sink],
    rng: Random,
    known: list[tuple[Person, dict[str, str]]],
    kind: str,
    story: str,
    index: int,
    first: dt.date,
    last: dt.date,
    minor_after: dt.date,
) -> None:
    """One household's trip in one season: what each member did with the partners who know them."""
    nights = rng.choice((2, 3, 6, 6, 7, 7, 13))
    latest = last - dt.timedelta(days=nights)
    if latest < first:
        return
    arrival = first + dt.timedelta(days=rng.randrange((latest - first).days + 1))
    departure = arrival + dt.timedelta(days=nights)
    unhappy = story == "forced" or (story == "lapsed" and rng.random() < 0.4)
    complains = story == "forced" and (index == 3 or rng.random() < 0.3)
    size = len(known)
    booked: set[str] = set()
    for person, partners in known:
        child = person.birth_date is not None and person.birth_date > minor_after
        for slug, customer in partners.items():
            style = STYLES.get(slug)
            if style is None:
                continue
            if slug == "office":
                _office(sinks["office"], rng, person, customer, arrival, complains)
                continue
            offers = style.winter if kind == "winter" else style.summer
            fitting = [o for o in offers if o.for_children == child] or list(offers)
            if not fitting:
                continue
            offer = rng.choice(fitting)
            if offer.kind == "stay" and slug in booked:
                continue
            booked.add(slug)
            day = arrival + dt.timedelta(days=rng.randrange(max(1, nights)))
            values: dict[str, object] = {
                "customer": customer,
                "email": person.email or "",
                "phone": _phone(person.phone) if person.phone else "",
                "kind": offer.kind,
                "product": offer.product,
                "payment": rng.choice(_PAYMENTS),
                "reference": True,
            }
            if offer.kind == "stay":
                values |= {"start": arrival, "end": departure, "quantity": size}
                values["amount"] = float(round(offer.price * nights * (1 + 0.1 * rng.randrange(4))))
            elif offer.kind in ("ticket", "rental") and "6 JOURS" in offer.product.upper():
                values |= {"start": arrival, "end": arrival + dt.timedelta(days=5)}
                values["amount"] = float(offer.price)
            elif offer.kind == "meal":
                covers = rng.randint(2, max(2, size + 2))
                values |= {"start": day, "quantity": covers, "amount": offer.price * covers}
            else:
                values |= {"start": day, "quantity": 1, "amount": float(offer.price)}
            if slug == "table-du-lac":
                if not values["email"] and not values["phone"]:
                    continue
                if values["email"] and rng.random() < 0.5:
                    values["phone"] = ""  # the one contact the customer gave on the phone
            if style.rated and rng.random() < style.rated:
                values["satisfaction"] = rng.randint(2, 5) if unhappy else rng.randint(7, 10)
            sinks[slug].write(values)
            if complains and offer.kind == "stay" and slug in STYLES and STYLES[slug].kind_words:
                sinks[slug].write(
                    {
                        "customer": customer,
                        "kind": "complaint",
                        "start": min(departure, last),
                        "product": rng.choice(_COMPLAINTS),
                        "satisfaction": rng.randint(1, 4),
                        "reference": True,
                    }
                )
                complains = False


def _office(
    sink: _Sink, rng: Random, person: Person, customer: str, arrival: dt.date, complains: bool
) -> None:
    if complains:
        kind, product = "complaint", rng.choice(_COMPLAINTS)
    elif rng.random() < 0.35:
        kind, product = rng.choice(_REQUESTS)
    else:
        return
    day = arrival + dt.timedelta(days=rng.randrange(3))
    # The office's log has the newsletter number for some, the e-mail for the others.
    by_number = rng.random() < 0.5 or not person.email
    sink.write(
        {
            "start": day,
            "kind": kind,
            "product": product,
            "customer": customer if by_number else "",
            "email": "" if by_number else person.email,
        }
    )
