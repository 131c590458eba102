"""Recognise the columns of an activity file (bookings, ticketing and till exports).

The usual French and English headers, ignoring case, accents and punctuation (the same
folding as customer files): "Date d'arrivée", "N° de réservation", "Montant TTC"...
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from cordee.collect.columns import fold

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_ref": (
        "id client", "identifiant client", "n client", "no client", "num client",
        "numero client", "numero de client", "code client", "ref client", "reference client",
        "customer id", "customer number", "client id", "client", "customer", "guest id",
        "id", "identifiant",
    ),
    "card_number": (
        "carte", "n carte", "no carte", "numero de carte", "numero carte", "carte fidelite",
        "n carte fidelite", "numero de carte fidelite", "card", "card number",
        "loyalty card", "loyalty card number",
    ),
    "email": (
        "email", "e mail", "courriel", "mail", "adresse mail", "adresse e mail",
        "adresse email", "email address", "email client",
    ),
    "phone": (
        "telephone", "tel", "portable", "mobile", "phone", "phone number",
        "numero de telephone", "telephone client",
    ),
    "reference": (
        "reference", "ref", "n de reservation", "no de reservation", "numero de reservation",
        "n reservation", "reservation", "ref reservation", "reference reservation",
        "booking", "booking ref", "booking reference", "booking number", "booking id",
        "n de billet", "numero de billet", "n billet", "billet", "ticket id",
        "ticket number", "transaction", "n transaction", "n de commande", "commande",
        "order id", "order number", "n de ticket", "reference activite",
    ),
    "kind": (
        "type", "nature", "type d activite", "activite", "kind", "activity type",
        "type de prestation", "categorie", "category",
    ),
    "starts_on": (
        "date", "date d arrivee", "arrivee", "date de debut", "debut", "check in",
        "checkin", "arrival", "arrival date", "start date", "date du passage",
        "date de passage", "date de l achat", "date d achat", "date de visite",
        "date du cours", "date de validite", "date du sejour", "date de la prestation",
        "purchase date", "visit date", "date de vente",
    ),
    "ends_on": (
        "date de depart", "depart", "date de fin", "fin", "check out", "checkout",
        "departure", "departure date", "end date", "date fin",
    ),
    "amount": (
        "montant", "montant ttc", "montant total", "total", "total ttc", "prix", "prix ttc",
        "amount", "price", "ca", "chiffre d affaires", "montant paye", "paid",
    ),
    "currency": ("devise", "monnaie", "currency"),
    "quantity": (
        "quantite", "qte", "nombre", "nb", "quantity", "qty", "nombre de personnes",
        "nb personnes", "personnes", "pax", "participants",
    ),
    "product": (
        "produit", "prestation", "article", "libelle", "product", "item", "designation",
        "forfait", "offre", "chambre", "type de chambre", "cours", "description",
    ),
    "payment_means": (
        "moyen de paiement", "mode de paiement", "paiement", "reglement", "mode de reglement",
        "payment method", "payment", "payment means",
    ),
    "satisfaction": ("satisfaction", "note", "note satisfaction", "score", "rating"),
}  # fmt: skip
_LOOKUP = {fold(syn): name for name, syns in _SYNONYMS.items() for syn in syns} | {
    name: name for name in _SYNONYMS
}

LABELS = {
    "customer_ref": _("identifiant client"),
    "card_number": _("numéro de carte"),
    "email": _("e-mail"),
    "phone": _("téléphone"),
    "reference": _("référence de l'activité"),
    "kind": _("type d'activité"),
    "starts_on": _("date (début)"),
    "ends_on": _("date de fin"),
    "amount": _("montant"),
    "currency": _("devise"),
    "quantity": _("quantité"),
    "product": _("produit"),
    "payment_means": _("moyen de paiement"),
    "satisfaction": _("satisfaction"),
}
KEYS = ("customer_ref", "card_number", "email", "phone")


@dataclass
class ActivityColumns:
    fields: dict[str, int]  # field -> column index
    headers: list[str]
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> list[tuple[str, str | None]]:
        targets = {index: name for name, index in self.fields.items()}
        return [(header, targets.get(i)) for i, header in enumerate(self.headers)]

    def problems(self, *, default_kind: str | None) -> list[str]:
        """Why the file cannot be imported as activities (empty when it can)."""
        missing = []
        if "starts_on" not in self.fields:
            missing.append(str(_("aucune colonne de date (Date, Date d'arrivée, Date de début…)")))
        if not any(key in self.fields for key in KEYS):
            missing.append(
                str(
                    _(
                        "aucune colonne pour retrouver le client (N° client, N° de carte, "
                        "E-mail, Téléphone)"
                    )
                )
            )
        if "kind" not in self.fields and not default_kind:
            missing.append(
                str(_("aucune colonne Type : indiquez le type des activités du fichier"))
            )
        return missing


def looks_like_activity_header(cells: list[str]) -> bool:
    """Whether a row names an activity file's columns (see collect.columns.looks_like_header)."""
    filled = [cell for cell in cells if cell.strip()]
    known = sum(1 for cell in filled if _LOOKUP.get(fold(cell)) is not None)
    return bool(filled) and known >= min(2, len(filled))


def recognise_activity_columns(headers: list[str]) -> ActivityColumns:
    fields: dict[str, int] = {}
    warnings = []
    for index, header in enumerate(headers):
        name = _LOOKUP.get(fold(header))
        if name is None:
            continue
        if name in fields:
            warnings.append(
                str(
                    _(
                        "Les colonnes « %(kept)s » et « %(other)s » désignent toutes deux « %(target)s » : « %(kept)s » est utilisée."
                    )
                    % {"kept": headers[fields[name]], "other": header, "target": LABELS[name]}
                )
            )
            continue
        fields[name] = index
    return ActivityColumns(fields=fields, headers=list(headers), warnings=warnings)
