"""The register of processing activities (GDPR Art. 30), generated from the purposes.

The page, its CSV and JSON exports and ``cordee privacy register`` all print what
:func:`register_build` returns: the register cannot drift from the purposes the code uses.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cordee.customers.exports import neutralise_cell
from cordee.partners.models import Partner, PartnerKind
from cordee.privacy.models import ControllerKind, Purpose


def security_measures() -> list[str]:
    """What protects the data today (Art. 30(1)(g)); kept in step with what the code does."""
    return [
        _(
            "Accès par compte nominatif et par rôle ; un contrôle d'accès unique décide quels clients chaque partenaire peut voir."
        ),
        _("Mots de passe hachés avec Argon2."),
        _(
            "Recherche par e-mail et par téléphone au moyen d'empreintes à clé, la clé étant gardée hors de la base de données."
        ),
        _(
            "Journal d'audit de qui a consulté, recherché, exporté ou modifié quoi, sans donnée personnelle dans le journal."
        ),
        _(
            "Preuves de consentement en ajout seul : un consentement n'est jamais modifié, un changement d'avis est un nouvel événement."
        ),
        _(
            "En-têtes de sécurité du navigateur : politique de sécurité du contenu, protection contre l'intégration dans d'autres sites."
        ),
        _(
            "Connexion limitée après plusieurs échecs (par identifiant et par adresse) ; second facteur (TOTP) pour le personnel de l'office."
        ),
        _(
            "Liens du centre de préférences signés et à durée limitée ; effacement complet avec une trace pseudonyme."
        ),
    ]


@dataclass
class RegisterEntry:
    slug: str
    name: str
    purpose: str
    legal_basis: str
    controller: str
    data_categories: list[str]
    data_subjects: list[str]
    recipients: list[str]
    processors: list[str]
    transfers: str
    retention: str
    retention_months: int
    risk_level: str
    risk_notes: str
    dpia: str


@dataclass
class Register:
    controller: str
    dpo_contact: str
    generated_at: str
    security_measures: list[str]
    entries: list[RegisterEntry] = field(default_factory=list)


def _controller(purpose: Purpose, hub: str) -> str:
    if purpose.controller == ControllerKind.HUB:
        return hub
    if purpose.controller == ControllerKind.JOINT:
        return _("%(hub)s et les partenaires de la destination (responsables conjoints)") % {
            "hub": hub
        }
    return _("Chaque partenaire, pour les données qu'il collecte")


def _retention(purpose: Purpose) -> str:
    months = ngettext(
        "%(months)s mois après le dernier contact",
        "%(months)s mois après le dernier contact",
        purpose.retention_months,
    ) % {"months": purpose.retention_months}
    return f"{months}. {purpose.retention_scope}" if purpose.retention_scope else months


def _dpia(purpose: Purpose) -> str:
    """Whether an impact assessment (AIPD) is required for the processing, and when it was done."""
    if purpose.dpia_done_on:
        return _("AIPD réalisée le %(date)s") % {"date": purpose.dpia_done_on.isoformat()}
    if purpose.dpia_required:
        return _("AIPD requise, pas encore réalisée")
    return _("AIPD non requise")


def register_build() -> Register:
    hub = Partner.objects.filter(kind=PartnerKind.HUB).first()
    hub_name = hub.name if hub else str(_("L'office de tourisme"))
    register = Register(
        controller=hub_name,
        dpo_contact=settings.CORDEE_DPO_CONTACT,
        generated_at=timezone.localtime().isoformat(timespec="seconds"),
        security_measures=security_measures(),
    )
    for purpose in Purpose.objects.filter(is_active=True):
        register.entries.append(
            RegisterEntry(
                slug=purpose.slug,
                name=purpose.name,
                purpose=purpose.description,
                legal_basis=str(purpose.get_legal_basis_display()),
                controller=_controller(purpose, hub_name),
                data_categories=list(purpose.data_categories),
                data_subjects=list(purpose.data_subjects),
                recipients=list(purpose.recipients),
                processors=list(purpose.processors),
                transfers=purpose.transfers or str(_("Aucun")),
                retention=_retention(purpose),
                retention_months=purpose.retention_months,
                risk_level=str(purpose.get_risk_level_display()) if purpose.risk_level else "",
                risk_notes=purpose.risk_notes,
                dpia=_dpia(purpose),
            )
        )
    return register


def _columns() -> list[tuple[str, str]]:
    return [
        ("slug", _("identifiant")),
        ("name", _("traitement")),
        ("purpose", _("finalité")),
        ("legal_basis", _("base légale")),
        ("controller", _("responsable de traitement")),
        ("data_categories", _("catégories de données")),
        ("data_subjects", _("catégories de personnes")),
        ("recipients", _("destinataires")),
        ("processors", _("sous-traitants")),
        ("transfers", _("transferts hors UE")),
        ("retention", _("durée de conservation")),
        ("risk_level", _("niveau de risque")),
        ("risk_notes", _("risques et mesures")),
        ("dpia", _("analyse d'impact (AIPD)")),
        ("security", _("mesures de sécurité")),
        ("dpo_contact", _("contact du DPO")),
    ]


def register_csv(register: Register) -> str:
    """One row per processing activity; lists joined with " ; " (a spreadsheet opens it as is)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    columns = _columns()
    writer.writerow([label for _name, label in columns])
    security = " ; ".join(register.security_measures)
    for entry in register.entries:
        values = asdict(entry) | {"security": security, "dpo_contact": register.dpo_contact}
        writer.writerow(
            [
                neutralise_cell(" ; ".join(v) if isinstance(v := values[name], list) else str(v))
                for name, _label in columns
            ]
        )
    return out.getvalue()


def register_json(register: Register) -> str:
    data = asdict(register)
    data["processing_activities"] = data.pop("entries")
    return json.dumps(data, ensure_ascii=False, indent=2)


def register_markdown(register: Register) -> str:
    lines = [
        "# " + _("Registre des activités de traitement"),
        "",
        f"- {_('Responsable de traitement')} : {register.controller}",
        f"- {_('Contact du DPO')} : {register.dpo_contact or _('non renseigné (CORDEE_DPO_CONTACT)')}",
        f"- {_('Établi le')} : {register.generated_at}",
        "",
    ]
    for entry in register.entries:
        lines += [
            f"## {entry.name} (`{entry.slug}`)",
            "",
            entry.purpose,
            "",
            f"- {_('Base légale')} : {entry.legal_basis}",
            f"- {_('Responsable de traitement')} : {entry.controller}",
            f"- {_('Catégories de données')} : {', '.join(entry.data_categories)}",
            f"- {_('Catégories de personnes')} : {', '.join(entry.data_subjects)}",
            f"- {_('Destinataires')} : {', '.join(entry.recipients)}",
            f"- {_('Sous-traitants')} : {', '.join(entry.processors)}",
            f"- {_('Transferts hors UE')} : {entry.transfers}",
            f"- {_('Durée de conservation')} : {entry.retention}",
            f"- {_('Niveau de risque')} : {entry.risk_level or _('non évalué')}",
            f"- {_('Risques et mesures')} : {entry.risk_notes or _('non renseignés')}",
            "- " + _("Analyse d'impact") + f" : {entry.dpia}",
            "",
        ]
    lines += ["## " + _("Mesures de sécurité"), ""]
    lines += [f"- {measure}" for measure in register.security_measures]
    return "\n".join(lines) + "\n"
