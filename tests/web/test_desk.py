"""The front desk's entry page: suggestions while typing, creation through the intake,
consents given aloud, and everything a hurried or hostile hand may send."""

from __future__ import annotations

import re
import shutil

import pytest

from cordee.activities.models import Activity
from cordee.customers.models import Customer, SourceRecord
from cordee.privacy.models import ConsentEvent

URL = "/clients/nouveau/"
SUGGEST = "/clients/nouveau/suggestions/"


@pytest.fixture(autouse=True)
def purposes(db):
    """The purposes and wordings seeded by the privacy migration (flushed by transactional tests)."""
    import importlib

    from django.apps import apps

    importlib.import_module("cordee.privacy.migrations.0003_seed_purposes").seed(apps, None)


@pytest.fixture
def with_model(home, trained_model):
    """The trained identity model in the test's data directory: names count, not only keys."""
    (home / "matching").mkdir()
    shutil.copy(trained_model, home / "matching" / "model.json")
    return home


def _token(client) -> str:
    page = client.get(URL)
    assert page.status_code == 200
    match = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert match
    return match[1]


def _post(client, **fields):
    data = {"token": _token(client), "language": "fr"} | fields
    return client.post(URL, data)


def test_the_page_shows_the_form_with_the_consent_wordings(signed_in, destination):
    page = signed_in(destination.helene).get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-get="/clients/nouveau/suggestions/"' in html
    assert "input changed delay:300ms" in html
    assert 'hx-target="#suggestions"' in html  # the form itself is never swapped
    assert "consent_newsletter" in html and "consent_sms" in html


def test_the_customer_list_links_to_the_desk(signed_in, destination):
    html = signed_in(destination.helene).get("/clients/").content.decode()
    assert 'href="/clients/nouveau/"' in html


def test_a_dpo_may_not_enter_customers(signed_in, destination):
    client = signed_in(destination.sophie)
    assert client.get(URL).status_code == 403
    assert client.get(SUGGEST, {"last_name": "Martin"}).status_code == 403
    assert 'href="/clients/nouveau/"' not in client.get("/clients/").content.decode()


def test_create_through_the_intake_with_visit_and_consent(signed_in, destination):
    client = signed_in(destination.helene)
    response = _post(
        client, civility="MME", first_name="anne", last_name="VERDIER",
        email="Anne.Verdier@Example.org", phone="06 11 22 33 44", postal_code="74400",
        city="chamonix", birth_date="02/05/1990", reason="request", note="Horaires du musée",
        consent_newsletter="on",
    )  # fmt: skip
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{customer.pk}/"
    assert (customer.first_name, customer.last_name) == ("Anne", "Verdier")
    assert customer.email == "anne.verdier@example.org"
    assert customer.birth_date.isoformat() == "1990-05-02"
    source = SourceRecord.objects.get()
    assert (source.channel, source.partner) == ("desk", destination.hotel)
    assert source.customer_id == customer.pk
    activity = Activity.objects.get()
    assert (activity.kind, activity.partner, activity.product) == (
        "request", destination.hotel, "Horaires du musée",
    )  # fmt: skip
    consent = ConsentEvent.objects.get()
    assert (consent.purpose.slug, consent.status, consent.channel) == (
        "newsletter", "granted", "desk",
    )  # fmt: skip
    assert consent.recorded_by == destination.helene
    assert consent.wording is not None and consent.wording.purpose.slug == "newsletter"
    assert consent.source_record_id == source.pk
    page = client.get(response["Location"])
    assert "Client créé." in page.content.decode()


def test_the_wording_recorded_is_the_one_the_page_showed(signed_in, destination):
    from cordee.privacy.models import ConsentWording

    client = signed_in(destination.helene)
    token = _token(client)
    shown = ConsentWording.objects.filter(purpose__slug="sms", language="fr", kind="shown").latest(
        "version"
    )
    ConsentWording.objects.create(
        purpose=shown.purpose, kind=shown.kind, language="fr", version=shown.version + 1,
        text="Un texte plus récent, jamais montré sur cette page.",
    )  # fmt: skip
    client.post(URL, {"token": token, "language": "fr", "last_name": "Roux", "consent_sms": "on"})
    assert ConsentEvent.objects.get().wording == shown


def test_a_double_click_creates_one_customer(signed_in, destination):
    client = signed_in(destination.helene)
    data = {"token": _token(client), "language": "fr", "first_name": "Léa", "last_name": "Brun"}
    data |= {"reason": "visit", "consent_sms": "on"}
    first = client.post(URL, data)
    second = client.post(URL, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 1
    assert Activity.objects.count() == 1 and ConsentEvent.objects.count() == 1
    # A new page is a new entry: a namesake met later is another record.
    _post(client, first_name="Léa", last_name="Brun")
    assert SourceRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, None, "Saisissez au moins le nom"),
        ({"first_name": "Jean"}, None, "Saisissez au moins le nom"),
        ({"last_name": "Roux", "email": "pas-une-adresse"}, "email", "mail"),
        ({"last_name": "Roux", "phone": "12"}, "phone", "éléphone"),
        ({"last_name": "Roux", "birth_date": "31/02/1990"}, "birth_date", "ate"),
        ({"last_name": "Roux", "card_number": "1234"}, "card_number", "Numéro de carte faux"),
        ({"last_name": "Ro\x00ux"}, "last_name", "caractère nul"),
        ({"last_name": "Roux\r\nBcc: x@y.fr"}, "last_name", "Caractères de contrôle interdits."),
        ({"last_name": "Roux", "email": "a@b.fr\r\nBcc: c@d.fr"}, "email", "ontrôle"),
        ({"last_name": "x" * 101}, "last_name", "100"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_saved(
    signed_in, destination, fields, field, message
):
    client = signed_in(destination.helene)
    response = _post(client, **fields)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    if field:
        assert f'id="id_{field}_error"' in html
    assert Customer.objects.count() == 0 and SourceRecord.objects.count() == 0


def test_an_expired_or_forged_token_saves_nothing(signed_in, destination):
    client = signed_in(destination.helene)
    response = client.post(URL, {"token": "forged:abc", "language": "fr", "last_name": "Roux"})
    assert "Ce formulaire a expiré" in response.content.decode()
    assert Customer.objects.count() == 0


def test_hostile_names_are_stored_as_text_and_escaped(signed_in, destination):
    client = signed_in(destination.helene)
    response = _post(
        client, first_name="<script>alert(1)</script>", last_name="Robert'); DROP TABLE customers;--",
        city='<img src=x onerror="alert(2)">',
    )  # fmt: skip
    assert response.status_code == 302
    customer = Customer.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "DROP TABLE" in customer.last_name.upper()
    suggest = client.get(SUGGEST, {"last_name": customer.last_name}).content.decode()
    assert "<script>" not in suggest


def test_a_ten_megabyte_body_is_refused(signed_in, destination):
    client = signed_in(destination.helene)
    token = _token(client)
    response = client.post(
        URL, {"token": token, "language": "fr", "last_name": "x" * (10 * 1024 * 1024)}
    )
    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_suggestions_on_an_exact_email_show_the_evidence(signed_in, destination, customers):
    client = signed_in(destination.helene)
    html = client.get(SUGGEST, {"email": "elodie.martin@orange.fr"}).content.decode()
    elodie = customers["Élodie"]
    assert f'href="/clients/{elodie.pk}/"' in html
    assert "C'est ce client" in html
    assert "Concordent" in html and "e-mail" in html.lower()
    assert f'action="/activites/clients/{elodie.pk}/noter/"' in html
    assert "<form" in html and 'name="first_name"' not in html  # a fragment, never the form


def test_suggestions_while_typing_a_name(signed_in, destination, customers, with_model):
    client = signed_in(destination.camille)
    html = client.get(
        SUGGEST, {"first_name": "Elodie", "last_name": "Martin", "postal_code": "74400"}
    ).content.decode()
    assert f'href="/clients/{customers["Élodie"].pk}/"' in html


def test_each_suggested_customer_is_logged_once_per_desk_entry(signed_in, destination, customers):
    """The DPO reads who saw which customer; typing pauses do not flood the trail, and what
    was typed (a name, an e-mail) is never written."""
    from cordee.privacy.models import AuditEvent
    from cordee.privacy.queries import audit_search

    client = signed_in(destination.helene)
    elodie, claire = customers["Élodie"], customers["Claire"]
    client.get(URL)
    for _ in range(3):  # three pauses in the typing, the same suggestion each time
        client.get(SUGGEST, {"email": "elodie.martin@orange.fr"})
    client.get(SUGGEST, {"email": "claire.fontaine@example.fr"})
    shown = AuditEvent.objects.filter(action="customer.desk_suggest")
    assert sorted(shown.values_list("object_id", flat=True)) == sorted(
        [str(elodie.pk), str(claire.pk)]
    )
    assert all(e.actor_label and e.partner_id == destination.hotel.pk for e in shown.all())
    assert "orange.fr" not in str(list(shown.values_list("details", flat=True)))
    assert audit_search(customer=elodie.pk).filter(action="customer.desk_suggest").count() == 1
    # A new entry at the desk: what it shows is logged again.
    client.get(URL)
    client.get(SUGGEST, {"email": "elodie.martin@orange.fr"})
    assert shown.filter(object_id=str(elodie.pk)).count() == 2
    # Nothing shown, nothing logged.
    client.get(SUGGEST, {"email": "personne@nulle-part.example"})
    assert shown.all().count() == 3


def test_a_partner_never_sees_a_customer_outside_its_view(signed_in, destination, customers):
    """Without a trained model the exact keys count: the e-mail and the phone."""
    # Élodie and Jean-Luc are the hotel's, not the camping's.
    for name, query in (
        ("Élodie", {"email": "elodie.martin@orange.fr"}),
        ("Jean-Luc", {"phone": "04 50 11 22 33"}),
    ):
        pk = customers[name].pk
        html = signed_in(destination.nadia).get(SUGGEST, query).content.decode()
        assert f"/clients/{pk}/" not in html and name not in html
        # The hotel sees them with the same query: the gate, not the search, hides them.
        hotel = signed_in(destination.helene).get(SUGGEST, query).content.decode()
        assert f"/clients/{pk}/" in hotel
    nadia = signed_in(destination.nadia)
    # Claire came to both: the camping sees her.
    claire = customers["Claire"]
    html = nadia.get(SUGGEST, {"email": "claire.fontaine@example.fr"}).content.decode()
    assert f"/clients/{claire.pk}/" in html


def test_a_partner_never_sees_a_namesake_outside_its_view(
    signed_in, destination, customers, with_model
):
    elodie = customers["Élodie"]
    query = {"first_name": "Élodie", "last_name": "Martin", "postal_code": "74400"}
    html = signed_in(destination.nadia).get(SUGGEST, query).content.decode()
    assert f"/clients/{elodie.pk}/" not in html and "Élodie" not in html
    html = signed_in(destination.helene).get(SUGGEST, query).content.decode()
    assert f"/clients/{elodie.pk}/" in html
    claire = customers["Claire"]
    query = {"first_name": "Claire", "last_name": "Fontaine", "postal_code": "38000"}
    html = signed_in(destination.nadia).get(SUGGEST, query).content.decode()
    assert f"/clients/{claire.pk}/" in html


def test_log_the_visit_on_the_suggested_customer(signed_in, destination, customers):
    client = signed_in(destination.helene)
    elodie = customers["Élodie"]
    html = client.get(SUGGEST, {"email": "elodie.martin@orange.fr"}).content.decode()
    kind = re.search(r'name="log-kind" value="(\w+)"', html)[1]
    day = re.search(r'name="log-starts_on" value="([\d-]+)"', html)[1]
    response = client.post(
        f"/activites/clients/{elodie.pk}/noter/", {"log-kind": kind, "log-starts_on": day}
    )
    assert response.status_code == 302
    assert Activity.objects.get(customer=elodie).kind == "visit"


def test_suggestions_ignore_garbage(signed_in, destination, customers):
    client = signed_in(destination.helene)
    for query in ({}, {"last_name": "\x00\x01"}, {"email": "x" * 5000}, {"phone": "<script>"}):
        response = client.get(SUGGEST, query)
        assert response.status_code == 200
        assert "C'est ce client" not in response.content.decode()


def test_the_page_in_english(signed_in, destination, settings):
    client = signed_in(destination.helene)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(URL).content.decode()
    assert "New customer at the desk" in html and "Consents given aloud" in html


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_instant_create_one_customer(destination):
    import threading

    from django.db import connection, connections

    from cordee.customers.desk import DeskForm, desk_customer_create
    from cordee.privacy.access import Actor

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no race to lose")
    token = DeskForm().initial["token"]
    data = {"token": token, "language": "fr", "last_name": "Girard", "consent_sms": "on"}
    actor = Actor.for_user(destination.helene)
    barrier = threading.Barrier(2)
    found: list[int] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            form = DeskForm(data)
            assert form.is_valid(), form.errors
            barrier.wait()
            result = desk_customer_create(
                form=form, partner=destination.hotel, user=destination.helene, actor=actor
            )
            found.append(result.customer.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(found) == 2 and found[0] == found[1]
    assert Customer.objects.count() == 1 and SourceRecord.objects.count() == 1
    assert ConsentEvent.objects.count() == 1


def test_a_partner_employee_enters_a_customer_and_opens_the_page(signed_in, destination):
    client = signed_in(destination.lucas)
    response = _post(client, first_name="Inès", last_name="Garnier", phone="07 45 12 98 33")
    assert response.status_code == 302
    assert SourceRecord.objects.get().partner == destination.ski
    assert client.get(response["Location"]).status_code == 200


def test_a_person_known_by_email_is_completed_not_duplicated(signed_in, destination, customers):
    client = signed_in(destination.nadia)
    elodie = customers["Élodie"]
    before = Customer.objects.count()
    response = _post(
        client, first_name="Élodie", last_name="Martin", email="elodie.martin@orange.fr"
    )
    assert response["Location"] == f"/clients/{elodie.pk}/"
    assert Customer.objects.count() == before
    record = SourceRecord.objects.get(channel="desk")
    assert (record.partner, record.customer_id) == (destination.camping, elodie.pk)
    assert "déjà connue" in client.get(response["Location"]).content.decode()


def test_a_person_typed_with_a_typo_joins_her_customer(
    signed_in, destination, customers, with_model
):
    """No exact key: the arrival match finds her (issue 3), and the pair is kept with its why."""
    from cordee.customers.models import PairDecision, ReviewStatus

    client = signed_in(destination.helene)
    elodie = customers["Élodie"]
    before = Customer.objects.count()
    response = _post(
        client,
        first_name="Elodei",
        last_name="Martin",
        birth_date="14/03/1985",
        postal_code="74400",
    )
    assert response["Location"] == f"/clients/{elodie.pk}/"
    assert Customer.objects.count() == before
    (pair,) = PairDecision.objects.filter(reason="arrival")
    assert pair.status == ReviewStatus.MERGED and pair.evidence["birth_date"] == "same"
    # Her page says why the record joined her.
    page = client.get(response["Location"]).content.decode()
    assert f'id="arrival-{pair.pk}"' in page and "Rattachés à leur arrivée" in page
    assert "Pourquoi ?" in page


def test_an_arrival_join_is_undone_from_the_customer_page(
    signed_in, destination, customers, with_model
):
    """Camille says the record that joined Élodie at the desk is someone else: it leaves as a
    new customer, and the pair is decided so that no later run joins them again."""
    from cordee.customers.models import PairDecision, ReviewStatus

    helene = signed_in(destination.helene)
    elodie = customers["Élodie"]
    _post(helene, first_name="Elodei", last_name="Martin", birth_date="14/03/1985",
          postal_code="74400")  # fmt: skip
    (pair,) = PairDecision.objects.filter(reason="arrival", status=ReviewStatus.MERGED)
    arrived = SourceRecord.objects.get(pk=pair.right_id)
    assert arrived.customer_id == elodie.pk and arrived.data["first_name"] == "Elodei"
    url = f"/clients/arrivees/{pair.pk}/separer/"
    # A partner's manager sees why, but may not undo.
    assert url not in helene.get(f"/clients/{elodie.pk}/").content.decode()
    assert helene.post(url).status_code == 403
    camille = signed_in(destination.camille)
    assert f'action="{url}"' in camille.get(f"/clients/{elodie.pk}/").content.decode()
    before = Customer.objects.count()
    response = camille.post(url, follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{elodie.pk}/"
    assert "mis à part dans le client" in response.content.decode()
    arrived.refresh_from_db()
    assert arrived.customer_id != elodie.pk and Customer.objects.count() == before + 1
    assert Customer.objects.get(pk=arrived.customer_id).first_name == "Elodei"
    assert SourceRecord.objects.filter(customer=elodie).exclude(pk=arrived.pk).exists()
    pair.refresh_from_db()
    assert pair.status == ReviewStatus.DIFFERENT and pair.decided_by == destination.camille
    page = camille.get(f"/clients/{elodie.pk}/").content.decode()
    assert f'id="arrival-{pair.pk}"' not in page
    # Twice is refused with a message, nothing moves.
    response = camille.post(url, follow=True)
    assert "déjà été défait" in response.content.decode()
    assert Customer.objects.count() == before + 1
    assert camille.post("/clients/arrivees/999999/separer/").status_code == 403


def test_a_partner_typing_someone_it_does_not_see_creates_a_customer(
    signed_in, destination, customers, with_model
):
    """Nadia (camping) types the hotel's Élodie: the destination reviews, Nadia sees nothing."""
    from cordee.customers.models import PairDecision, ReviewStatus

    client = signed_in(destination.nadia)
    elodie = customers["Élodie"]
    response = _post(
        client,
        first_name="Elodei",
        last_name="Martin",
        birth_date="14/03/1985",
        postal_code="74400",
    )
    assert response.status_code == 302 and response["Location"] != f"/clients/{elodie.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert (
        "orange" not in page.lower()
        and "Lilas" not in page
        and f"/clients/{elodie.pk}/" not in page
    )
    (pair,) = PairDecision.objects.filter(reason="arrival")
    assert pair.status == ReviewStatus.PENDING
    assert client.get(f"/clients/{elodie.pk}/").status_code == 404
