"""Field by field: what a partner reads of a shared customer follows the purposes granted.

Inès came through the camping and agreed, at the office's desk, to be shared with the
destination's partners. Hélène (Hôtel des Alpes) did not bring her: she reads Inès's names,
language, e-mail and town; the phone only once Inès accepts text messages (``sms``); the
interests and family only once she accepts profiling; never the birth date, profession or
postal address. Every read path says so the same way: a page, the API, an export.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cordee.customers.exports import iter_customer_rows, write_csv
from cordee.customers.models import Customer
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.partners.apikeys import SCOPES, api_key_create
from cordee.privacy.access import (
    PURPOSE_FIELDS,
    SHARED_FIELDS,
    Actor,
    customer_redacted,
    customers_readable_fields,
    customers_visible_to,
)
from cordee.privacy.services import consent_record, consent_withdraw

PHONE = "+33675148293"
QUALIFICATION = {"interests", "preferred_season", "family_situation", "children"}
NEVER = {"birth_date", "gender", "profession", "address_line1", "postal_code"}


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


def bring(partner, **data):
    record = IncomingRecord(raw={k: str(v) for k, v in data.items()}, data=data)
    return source_records_attach(partner=partner, channel="import", records=[record]).customer_ids[
        0
    ]


@pytest.fixture
def ines(destination):
    pk = bring(
        destination.camping,
        first_name="Inès",
        last_name="Garnier",
        email="ines@x.fr",
        phone=PHONE,
        city="Chambéry",
        postal_code="73000",
        address_line1="12 rue des Ducs",
        country="FR",
        birth_date="1988-07-02",
        profession="Architecte",
        family_situation="couple",
        children=2,
        interests=["randonnée", "ski de fond"],
    )
    customer = Customer.objects.get(pk=pk)
    desk = Actor.for_user(destination.camille)
    consent_record(
        customer=customer, purpose="partner_offers", status="granted", channel="desk", actor=desk
    )
    return customer


def grant(destination, customer, purpose, **kwargs):
    consent_record(
        customer=customer,
        purpose=purpose,
        status="granted",
        channel="desk",
        actor=Actor.for_user(destination.camille),
        **kwargs,
    )


def export_row(actor, pk):
    return next(
        r for r in iter_customer_rows(customers_visible_to(actor), actor=actor) if r["id"] == pk
    )


@pytest.fixture
def hotel_key(destination):
    _key, text = api_key_create(
        partner=destination.hotel, scopes=list(SCOPES), actor=Actor.system("test"), name="t"
    )
    return text


def api_get(key, path, **params):
    return Client().get(path, params or None, headers={"Authorization": f"Bearer {key}"})


def every_path(destination, key, pk):
    """What Hélène reads of the customer on each path: {path: (values, hidden fields)}."""
    helene = Actor.for_user(destination.helene)
    row = export_row(helene, pk)
    stream = io.StringIO()
    write_csv(iter([row]), stream, with_sources=False)
    csv_row = next(csv.DictReader(io.StringIO(stream.getvalue())))
    api = api_get(key, f"/api/v1/customers/{pk}").json()
    listed = next(r for r in api_get(key, "/api/v1/customers").json()["results"] if r["id"] == pk)
    lookup = api_get(key, "/api/v1/customers/lookup", email="ines@x.fr").json()["results"][0]
    return {
        "export": (row, set(row.get("hidden", []))),
        "csv": (csv_row, {k for k, v in csv_row.items() if v == "non partagé"}),
        "api": (api, set(api["hidden"])),
        "api_list": (listed, set(listed["hidden"])),
        "api_lookup": (lookup, set(lookup["hidden"])),
    }


def web_pages(destination, pk):
    web = Client()
    web.force_login(destination.helene)
    detail = web.get(f"/clients/{pk}/").content.decode()
    listing = web.get("/clients/", {"q": "Garnier"}).content.decode()
    return detail, listing


def test_the_mapping_is_documented_and_never_shows_what_no_purpose_covers():
    widened = set().union(*PURPOSE_FIELDS.values())
    assert not widened & NEVER
    assert PURPOSE_FIELDS["sms"] == {"phone", "phone_other"}
    assert PURPOSE_FIELDS["profiling"] == QUALIFICATION
    assert {"email", "first_name", "last_name", "city", "country", "language"} <= SHARED_FIELDS


def test_partner_offers_only_shows_the_base(destination, ines, hotel_key):
    for path, (values, hidden) in every_path(destination, hotel_key, ines.pk).items():
        assert values["email"] == "ines@x.fr" and values["city"] == "Chambéry", path
        assert hidden >= {"phone"} | QUALIFICATION | NEVER, path
        assert "phone" in hidden and "interests" in hidden and "birth_date" in hidden, path
        assert PHONE not in str(values.values()) and "randonnée" not in str(values.values()), path
        assert "Architecte" not in str(values.values()), path
    detail, listing = web_pages(destination, ines.pk)
    for page in (detail, listing):
        assert "ines@x.fr" in page or "Garnier" in page
        assert "75 14 82 93" not in page and "75148293" not in page
        assert "non partagé" in page
    assert "randonnée" not in detail and "Architecte" not in detail and "73000" not in detail
    assert "12 rue des Ducs" not in detail and "1988" not in detail
    assert "73000" not in listing


def test_sms_granted_shows_the_phone_then_withdrawing_hides_it(destination, ines, hotel_key):
    grant(destination, ines, "sms")
    for path, (values, hidden) in every_path(destination, hotel_key, ines.pk).items():
        assert values["phone"] == PHONE and "phone" not in hidden, path
        assert "interests" in hidden and "birth_date" in hidden, path
    detail, listing = web_pages(destination, ines.pk)
    assert "randonnée" not in detail
    assert "75 14 82 93" in detail.replace("\u00a0", " ") or PHONE in detail
    consent_withdraw(
        customer=ines, purpose="sms", channel="email", actor=Actor.for_user(destination.camille)
    )
    for path, (values, hidden) in every_path(destination, hotel_key, ines.pk).items():
        assert "phone" in hidden and values["phone"] in (None, "non partagé"), path


def test_profiling_granted_shows_the_qualification(destination, ines, hotel_key):
    grant(destination, ines, "profiling")
    for path, (values, hidden) in every_path(destination, hotel_key, ines.pk).items():
        assert not QUALIFICATION & hidden, path
        assert "randonnée" in str(values["interests"]) and str(values["children"]) == "2", path
        assert "phone" in hidden and "birth_date" in hidden and "postal_code" in hidden, path
    detail, _listing = web_pages(destination, ines.pk)
    assert "randonnée" in detail and "Architecte" not in detail
    consent_withdraw(
        customer=ines,
        purpose="profiling",
        channel="preferences",
        actor=Actor.for_user(destination.camille),
    )
    for path, (_values, hidden) in every_path(destination, hotel_key, ines.pk).items():
        assert hidden >= QUALIFICATION, path


def test_a_consent_given_to_another_partner_does_not_widen_the_view(destination, ines):
    grant(destination, ines, "sms", controller=destination.camping)
    readable = customers_readable_fields(Actor.for_user(destination.helene), [ines.pk])[ines.pk]
    assert readable is not None and "phone" not in readable
    # ...but one given to the reader itself does.
    grant(destination, ines, "sms", controller=destination.hotel)
    readable = customers_readable_fields(Actor.for_user(destination.helene), [ines.pk])[ines.pk]
    assert readable is not None and "phone" in readable


def test_the_partner_that_brought_the_customer_and_the_office_read_everything(destination, ines):
    for person in ("nadia", "camille", "sophie"):
        actor = Actor.for_user(getattr(destination, person))
        row = export_row(actor, ines.pk)
        assert "hidden" not in row, person
        assert row["phone"] == PHONE and row["birth_date"] == "1988-07-02", person
        assert customer_redacted(actor, ines) is ines


def test_a_redacted_customer_is_never_saved(destination, ines):
    copy = customer_redacted(Actor.for_user(destination.helene), ines)
    assert copy.phone is None and "phone" in copy.hidden
    with pytest.raises(RuntimeError):
        copy.save()


def test_the_list_page_reads_the_purposes_for_the_page_not_per_row(destination):
    """Two shared customers or thirty: the list page makes the same number of queries."""
    web = Client()
    web.force_login(destination.helene)

    def add(n, start):
        for i in range(start, start + n):
            customer = Customer.objects.get(
                pk=bring(
                    destination.camping,
                    first_name=f"P{i}",
                    last_name="Partage",
                    email=f"p{i}@x.fr",
                    phone=f"+3361000{i:04d}",
                )
            )
            grant(destination, customer, "partner_offers")
            if i % 2:
                grant(destination, customer, "sms")

    def queries():
        web.get("/clients/")  # warm the session and caches
        with CaptureQueriesContext(connection) as ctx:
            response = web.get("/clients/")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    add(2, 0)
    few, _ = queries()
    add(28, 2)
    many, page = queries()
    assert many == few
    assert page.count("non partagé") >= 10  # the even ones did not accept text messages


def test_a_partner_previews_its_campaign_with_its_own_customers_only(destination, ines):
    """Personalisation (loyalty group, last stay, favourite activity) stays on the office's
    side: previewing or test-sending a partner's campaign to a shared customer is not found."""
    from cordee.campaigns.services import campaign_save

    campaign = campaign_save(
        actor=Actor.for_user(destination.marc),
        partner=destination.hotel,
        name="Offre d'hiver",
        purpose="newsletter",
        channel="email",
        sender_name="Hôtel des Alpes",
        sender_email="hotel@vallee.example",
        subject_fr="Bonjour {{ first_name }}",
        subject_en="",
        blocks_fr=[{"type": "paragraph", "text": "Groupe {{ loyalty_group }}"}],
        blocks_en=[],
        sms_fr="",
        sms_en="",
    )
    own = bring(destination.hotel, first_name="Luc", last_name="Hotel", email="luc@x.fr")
    web = Client()
    web.force_login(destination.helene)
    url = f"/campagnes/{campaign.pk}/apercu/"
    assert web.get(url, {"client": own}).status_code == 200
    assert web.get(url, {"client": ines.pk}).status_code == 404
    frame = f"/campagnes/{campaign.pk}/apercu.html"
    assert web.get(frame, {"client": ines.pk}).status_code == 404
    office = Client()
    office.force_login(destination.marc)
    assert office.get(url, {"client": ines.pk}).status_code == 200


def test_a_search_on_a_hidden_field_does_not_find_the_shared_customer(destination, ines, hotel_key):
    """Finding Inès by her phone or postcode would tell Hélène the value she may not read."""
    web = Client()
    web.force_login(destination.helene)

    def found_on_the_list(q):
        return "Garnier" in web.get("/clients/", {"q": q}).content.decode()

    def found_by_the_api(**params):
        lookup = api_get(hotel_key, "/api/v1/customers/lookup", **params).json()["results"]
        listed = api_get(hotel_key, "/api/v1/customers", **params).json()["results"]
        return bool(lookup) or bool(listed)

    assert found_on_the_list("ines@x.fr") and found_by_the_api(email="ines@x.fr")
    assert not found_on_the_list("06 75 14 82 93") and not found_by_the_api(phone=PHONE)
    assert not found_on_the_list("73000")
    grant(destination, ines, "sms")
    assert found_on_the_list("06 75 14 82 93") and found_by_the_api(phone=PHONE)
    assert not found_on_the_list("73000")  # no purpose shares the postcode
    # The office, and the camping that brought her, find her by anything.
    for person in ("marc", "nadia"):
        web.force_login(getattr(destination, person))
        assert found_on_the_list("73000"), person


def test_the_front_desk_suggests_a_shared_customer_only_on_what_it_may_read(destination, ines):
    """Hélène types at her desk: Inès's phone alone does not bring Inès up (it would tell
    the phone); her e-mail does, compared on the e-mail, with no postcode shown."""
    web = Client()
    web.force_login(destination.helene)
    suggest = "/clients/nouveau/suggestions/"
    by_phone = web.get(suggest, {"phone": PHONE}).content.decode()
    assert f'href="/clients/{ines.pk}/"' not in by_phone
    by_email = web.get(suggest, {"email": "ines@x.fr", "phone": PHONE}).content.decode()
    assert f'href="/clients/{ines.pk}/"' in by_email
    assert "73000" not in by_email and "téléphone" not in by_email.lower()
    grant(destination, ines, "sms")
    by_phone = web.get(suggest, {"phone": PHONE}).content.decode()
    assert f'href="/clients/{ines.pk}/"' in by_phone
    # The camping brought her: its desk sees everything.
    web.force_login(destination.nadia)
    assert "73000" in web.get(suggest, {"phone": PHONE}).content.decode()


def test_a_segment_count_does_not_sort_by_a_hidden_field(destination, ines):
    """Hélène's segments do not tell Inès's age or interests through a count."""
    from cordee.segments.compiler import definition_queryset

    helene = Actor.for_user(destination.helene)

    def members(definition):
        return set(definition_queryset(definition, actor=helene).values_list("pk", flat=True))

    age = {"field": "age", "op": "between", "value": [30, 45]}
    likes = {"field": "interests", "op": "contains", "value": "randonnée"}
    town = {"field": "city", "op": "eq", "value": "Chambéry"}
    spent = {"field": "activity_count", "op": "gte", "value": 0}
    assert ines.pk in members(town)  # a field the partner reads
    old = {"field": "age", "op": "between", "value": [60, 70]}
    skis = {"field": "interests", "op": "contains", "value": "ski alpin"}
    # Whatever her age or interests, she falls on the same side: nothing is told.
    for hidden, other in ((age, old), (likes, skis)):
        assert ines.pk not in members(hidden) and ines.pk not in members(other)
        assert ines.pk in members({"not": hidden}) and ines.pk in members({"not": other})
    assert ines.pk not in members(spent)
    grant(destination, ines, "profiling")
    assert ines.pk in members(likes) and ines.pk not in members(age)
    # The office and the camping sort her by anything.
    for person in ("marc", "nadia"):
        actor = Actor.for_user(getattr(destination, person))
        assert ines.pk in set(definition_queryset(age, actor=actor).values_list("pk", flat=True))


def test_a_partners_segment_profile_counts_private_figures_over_its_own_customers(
    destination, ines
):
    """Inès (the camping's, shared) counts in the hotel's totals and origins, never in its
    age bands, spend or 3F groups: she shared neither her birth date nor her behaviour."""
    from cordee.segments.queries import profile_compare

    hotel_guest = Customer.objects.get(
        pk=bring(destination.hotel, first_name="Jean", last_name="Dupont", email="j@x.fr",
                 birth_date="1990-01-01", country="FR")
    )  # fmt: skip
    hotel = Actor.for_user(destination.helene)
    members = customers_visible_to(hotel).filter(pk__in=[ines.pk, hotel_guest.pk])
    cmp = profile_compare(members, hotel, 2026)
    assert cmp["own_only"] and cmp["segment"]["total"] == 2
    assert sum(band["n"] for band in cmp["segment"]["ages"]) == 1  # Jean only
    office = profile_compare(members, Actor.for_user(destination.camille), 2026)
    assert not office["own_only"] and sum(band["n"] for band in office["segment"]["ages"]) == 2
