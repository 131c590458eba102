"""After the demo's customer files: activities, identity resolution, segments, a campaign.

Everything goes through the services the product uses: the activity files through the
activity import, the duplicates through the resolution run, RFM/3F/churn through the segments
refresh, so a newcomer opening the demo sees the timeline, the review queue, the dashboards
and a draft campaign filled by the real paths.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from random import Random
from typing import Any

from cordee.activities.cards import loyalty_card_issue
from cordee.activities.imports import activity_import_create, activity_import_run
from cordee.activities.models import Activity, ActivityKind
from cordee.activities.services import activity_record
from cordee.customers.models import Channel, Customer
from cordee.demo.activities import build_activity_files
from cordee.demo.files import DemoFiles
from cordee.partners.models import Partner, User
from cordee.privacy.access import Actor
from cordee.segments.models import LoyaltyGroup

FAMILIES_SLUG = "familles-idf-ete"
SKIERS_SLUG = "skieurs-reguliers"

FAMILIES: dict[str, Any] = {
    "all": [
        {"field": "zone", "op": "in", "value": ["ile-de-france"]},
        {
            "field": "activities",
            "metric": "seasons",
            "seasons": {"kind": "summer", "last": 4},
            "op": "gte",
            "value": 1,
        },
        {
            "any": [
                {"field": "children", "op": "gte", "value": 1},
                {"field": "activities", "product": "famil", "op": "gte", "value": 1},
                {"field": "activities", "product": "pers.", "op": "gte", "value": 1},
                {"field": "activities", "product": "optimist", "op": "gte", "value": 1},
            ]
        },
    ]
}
SKIERS: dict[str, Any] = {
    "field": "activities",
    "metric": "seasons",
    "kind": "ticket",
    "partner": ["remontees"],
    "seasons": {"kind": "winter", "last": 3},
    "op": "gte",
    "value": 2,
}
BLOCKS = [
    {"type": "title", "text": '{{ first_name|default:"Bonjour" }}, l\'été revient au lac !'},
    {
        "type": "paragraph",
        "text": "Plage surveillée, stages de voile pour les enfants et soirées au bord de l'eau : "
        "réservez tôt votre séjour en famille à Saint-Alban-du-Lac.",
    },
    {"type": "button", "text": "Voir les séjours", "url": "https://val-combeyre.example/ete"},
]
# Who follows up what: the office's marketers and the partners' managers.
FOLLOW_UP_OWNERS = ("marc", "julie", "helene", "nadia")


def demo_seed_after_customers(
    folder: Path,
    *,
    demo: DemoFiles,
    seed: int,
    partners: dict[str, Partner],
    actor: Actor,
    out: Callable[[str], object] = print,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Import the activities, resolve identities, refresh the segments, seed examples."""
    from cordee.customers.resolution import resolution_run
    from cordee.segments.services import stats_refresh

    today = today or dt.date.today()
    counts: dict[str, int] = {}
    files = build_activity_files(folder, demo=demo, seed=seed, today=today)
    out(f"Import des activités de {len(files)} partenaires…")
    for activity_file in files:
        if not activity_file.lines:
            continue
        batch = activity_import_create(
            partner=partners[activity_file.partner],
            source=activity_file.path,
            filename=activity_file.path.name,
            actor=actor,
            default_kind=activity_file.default_kind,
        )
        batch = activity_import_run(batch_id=batch.pk)
        out(
            f"  {activity_file.partner:<24} {batch.lines_read:>6} lignes, "
            f"{batch.accepted:>6} acceptées, {batch.rejected:>4} rejetées"
        )
    counts["follow_ups"] = _follow_ups(seed, partners, today)
    out("Rapprochement des doublons et des foyers…")
    run = resolution_run(full=True, actor=actor)
    out(f"  {run.merged} fusionnés, {run.to_review} paires à revoir, {run.households} foyers")
    out("Calcul du RFM, des 3F et du risque de départ…")
    stats_refresh()
    counts |= _examples(seed, today)
    summary = demo_counts()
    out(
        f"La démo contient {summary['customers']} clients, {summary['activities']} activités "
        f"sur {summary['seasons']} saisons, {summary['to_review']} paires à revoir, "
        f"{summary['open_follow_ups']} relances ouvertes, {summary['cards']} cartes de fidélité."
    )
    names = dict(LoyaltyGroup.choices)
    groups = summary["groups"]
    out("  3F : " + ", ".join(f"{names[g]} {groups.get(g, 0)}" for g in names))
    return counts


def _follow_ups(seed: int, partners: dict[str, Partner], today: dt.date) -> int:
    """Open follow-ups after complaints, owned by the demo's sales people, some overdue."""
    rng = Random(f"follow-ups:{seed}")
    owners = {u.username: u for u in User.objects.filter(username__in=FOLLOW_UP_OWNERS)}
    complaints = list(
        Activity.objects.filter(kind=ActivityKind.COMPLAINT)
        .select_related("customer", "partner")
        .order_by("starts_on", "pk")
    )
    hub = next(p for p in partners.values() if p.kind == "hub")
    made = 0
    for complaint in complaints[-40:]:
        if complaint.partner.slug == "hotel-des-alpes":
            owner, partner = owners.get("helene"), complaint.partner
        elif complaint.partner.slug == "camping-du-lac":
            owner, partner = owners.get("nadia"), complaint.partner
        else:
            owner, partner = owners.get(rng.choice(("marc", "julie"))), hub
        if owner is None:
            continue
        activity_record(
            customer=complaint.customer,
            partner=partner,
            actor=Actor.for_user(owner),
            channel=Channel.PHONE,
            fields={
                "kind": ActivityKind.FOLLOW_UP,
                "starts_on": complaint.starts_on,
                "due_on": today + dt.timedelta(days=rng.randint(-5, 20)),
                "product": f"Rappeler : {complaint.product}"[:200],
            },
            owner=owner,
        )
        made += 1
    return made


def _examples(seed: int, today: dt.date) -> dict[str, int]:
    from cordee.campaigns.services import campaign_save
    from cordee.privacy.models import Purpose
    from cordee.segments.services import segment_save

    marc = User.objects.filter(username="marc").first()
    actor = Actor.for_user(marc) if marc is not None else Actor.system("demo")
    segment_save(
        actor=actor,
        slug=FAMILIES_SLUG,
        name="Familles d'Île-de-France venues l'été",
        description="Familles franciliennes venues au moins un des quatre derniers étés.",
        definition=FAMILIES,
    )
    segment_save(
        actor=actor,
        slug=SKIERS_SLUG,
        name="Skieurs venus au moins deux des trois derniers hivers",
        description="Forfait des remontées mécaniques acheté au moins deux hivers sur trois.",
        definition=SKIERS,
    )
    if not Purpose.objects.filter(slug="newsletter").exists():
        # `demo --reset` flushes the purposes the privacy migration seeds.
        seeding = importlib.import_module("cordee.privacy.migrations.0003_seed_purposes")
        from django.apps import apps

        seeding.seed(apps, None)
    campaign_save(
        actor=actor,
        name=f"Été {today.year + (1 if today.month > 8 else 0)} en famille au lac",
        purpose="newsletter",
        channel="email",
        segment_slug=FAMILIES_SLUG,
        sender_name="Office de tourisme du Val Combeyre",
        sender_email="bonjour@val-combeyre.example",
        subject_fr="L'été en famille au lac, on vous garde une place ?",
        subject_en="",
        blocks_fr=BLOCKS,
        blocks_en=[],
        sms_fr="",
        sms_en="",
    )
    triggers = _triggers(actor)
    # A few regulars got the destination's loyalty card at the office's desk.
    rng = Random(f"cards:{seed}")
    regulars = list(
        Customer.objects.filter(activities__kind=ActivityKind.STAY)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chosen = sorted(rng.sample(regulars, min(25, len(regulars))))
    system = Actor.system("demo")
    for customer in Customer.objects.filter(pk__in=chosen).order_by("pk"):
        loyalty_card_issue(customer=customer, actor=system)
    offers = _partner_offer(today)
    return {
        "segments": 2,
        "campaigns": 1,
        "triggers": triggers,
        "cards": len(chosen),
        "offers": offers,
    }


def _triggers(actor: Actor) -> int:
    """Two daily triggers the office runs: a birthday greeting and the post-stay survey."""
    from cordee.campaigns.models import TriggerRule
    from cordee.campaigns.triggers import trigger_save

    if TriggerRule.objects.exists():
        return 0
    sender_name = "Office de tourisme du Val Combeyre"
    sender_email = "bonjour@val-combeyre.example"
    trigger_save(
        actor=actor,
        rule=None,
        name="Bon anniversaire",
        kind="birthday",
        days=0,
        purpose_slug="newsletter",
        subject_fr="Joyeux anniversaire, {{ first_name }} !",
        blocks_fr=[
            {"type": "title", "text": "Joyeux anniversaire !"},
            {
                "type": "paragraph",
                "text": "Un chocolat chaud vous attend à l'office de tourisme, {{ first_name }} : "
                "passez nous voir avec ce message.",
            },
        ],
        sender_name=sender_name,
        sender_email=sender_email,
    )
    trigger_save(
        actor=actor,
        rule=None,
        name="Votre avis après le séjour",
        kind="post_stay",
        days=2,
        purpose_slug="surveys",
        subject_fr="Comment s'est passé votre séjour, {{ first_name }} ?",
        blocks_fr=[
            {"type": "paragraph", "text": "Merci d'être venu(e) dans le Val Combeyre."},
            {"type": "survey", "text": "Donner mon avis"},
        ],
        sender_name=sender_name,
        sender_email=sender_email,
    )
    return 2


def _partner_offer(today: dt.date) -> int:
    """The office offers its skiers' segment to partners; Hôtel des Alpes proposes a winter
    offer to it, waiting for the office's decision (Marc sees it under Campagnes → Offres)."""
    from cordee.campaigns.offers import offer_save, segment_expose
    from cordee.segments.models import Segment

    marc = User.objects.filter(username="marc").first()
    helene = User.objects.filter(username="helene").first()
    skiers = Segment.objects.filter(slug=SKIERS_SLUG, owner__isnull=True).first()
    if marc is None or helene is None or skiers is None:
        return 0
    segment_expose(actor=Actor.for_user(marc), segment=skiers, exposed=True)
    winter = today.year + (1 if today.month >= 4 else 0)
    offer_save(
        actor=Actor.for_user(helene),
        title="Semaine ski aux Alpes : la 7e nuit offerte",
        valid_from=today,
        valid_until=dt.date(winter, 4, 15),
        link="https://hotel-des-alpes.example/offre-ski",
        code="SKI7",
        segment_slug=SKIERS_SLUG,
        subject_fr='{{ first_name|default:"Bonjour" }}, votre 7e nuit offerte à l\'Hôtel des Alpes',
        blocks_fr=[
            {"type": "title", "text": "La 7e nuit offerte cet hiver"},
            {
                "type": "paragraph",
                "text": "Pour une semaine réservée avant le 15 avril, l'Hôtel des Alpes vous offre "
                "la septième nuit, à deux pas des pistes.",
            },
            {"type": "offer", "text": "Code SKI7 à la réservation"},
            {
                "type": "button",
                "text": "Réserver ma semaine",
                "url": "https://hotel-des-alpes.example/offre-ski",
            },
        ],
    )
    return 1


def demo_counts() -> dict[str, Any]:
    """What the seeded demo holds: shown by `cordee demo` and checked by its tests."""
    from django.db.models import Count

    from cordee.activities.models import LoyaltyCard, Season
    from cordee.campaigns.models import Campaign, PartnerOffer, TriggerRule
    from cordee.customers.models import HouseholdLink, PairDecision, ReviewStatus
    from cordee.segments.models import CustomerStats, Segment

    kinds = dict(
        Activity.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    groups = dict(
        CustomerStats.objects.values_list("loyalty_group")
        .annotate(n=Count("customer_id"))
        .values_list("loyalty_group", "n")
    )
    return {
        "customers": Customer.objects.count(),
        "activities": sum(kinds.values()),
        "kinds": kinds,
        "seasons": Season.objects.count(),
        "groups": groups,
        "churn_scored": CustomerStats.objects.filter(churn_risk__isnull=False).count(),
        "to_review": PairDecision.objects.filter(status=ReviewStatus.PENDING).count(),
        "household_links": HouseholdLink.objects.count(),
        "open_follow_ups": Activity.objects.filter(
            due_on__isnull=False, done_at__isnull=True
        ).count(),
        "segments": Segment.objects.count(),
        "draft_campaigns": Campaign.objects.filter(state="draft").count(),
        "triggers": TriggerRule.objects.count(),
        "cards": LoyaltyCard.objects.count(),
        "pending_offers": PartnerOffer.objects.filter(state="pending").count(),
    }
