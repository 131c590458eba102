"""Élodie's satisfaction survey after her stay at Hôtel des Alpes: a signed link, a score
from 0 to 10 and a comment, no account; the score becomes the stay's satisfaction, which the
customer's aggregates (and so the 3F typology) read."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from cordee.activities.models import Activity
from cordee.activities.services import activity_record
from cordee.channels import surveys
from cordee.customers.models import Customer
from cordee.privacy.access import Actor

URL = "/enquete/"


@pytest.fixture
def stay(destination, django_capture_on_commit_callbacks):
    from cordee.customers.services import IncomingRecord, source_records_attach

    data = {"first_name": "Élodie", "last_name": "Martin", "email": "elodie@x.fr", "language": "fr"}
    with django_capture_on_commit_callbacks(execute=True):  # the customer's stats row
        ids = source_records_attach(
            partner=destination.hotel,
            channel="import",
            records=[IncomingRecord(raw=dict(data), data=data)],
        )
    elodie = Customer.objects.get(pk=ids.customer_ids[0])
    activity, _status = activity_record(
        customer=elodie,
        partner=destination.hotel,
        actor=Actor.system("test"),
        channel="import",
        fields={"kind": "stay", "starts_on": "2026-02-14", "ends_on": "2026-02-21"},
    )
    return activity


def test_the_page_names_the_stay_and_asks_one_question(client, stay):
    html = client.get(URL, {"t": surveys.survey_token(stay)}).content.decode()
    assert "Élodie, votre avis compte" in html and "Hôtel des Alpes" in html
    assert "février 2026" in html
    assert html.count('name="score"') == 11
    response = client.get(URL, {"t": surveys.survey_token(stay)})
    assert "no-cache" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"


def test_an_answer_becomes_the_stays_satisfaction_and_shows_on_the_timeline(
    client, stay, destination, django_capture_on_commit_callbacks
):
    from cordee.segments.models import CustomerStats

    token = surveys.survey_token(stay)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"t": token, "score": "3", "comment": "Chambre bruyante"})
    assert response.status_code == 200 and "Merci pour votre avis" in response.content.decode()
    stay.refresh_from_db()
    assert stay.satisfaction == 3
    assert stay.details["survey"]["comment"] == "Chambre bruyante"
    # Without a worker the aggregates follow at once.
    assert CustomerStats.objects.get(customer_id=stay.customer_id).satisfaction_avg == 3
    # Answering again replaces the answer; the form shows the previous one.
    page = client.get(URL, {"t": token}).content.decode()
    assert 'value="3" required checked' in page and "Chambre bruyante" in page
    client.post(URL, {"t": token, "score": "9", "comment": ""})
    stay.refresh_from_db()
    assert stay.satisfaction == 9 and Activity.objects.filter(kind="stay").count() == 1
    # The hotel reads the score on the customer's timeline, with the comment if any.
    client.post(URL, {"t": token, "score": "9", "comment": "Très bon accueil"})
    client.force_login(destination.helene)
    page = client.get(f"/clients/{stay.customer_id}/").content.decode()
    assert "satisfaction 9/10" in page and "Très bon accueil" in page


@pytest.mark.parametrize(
    ("score", "comment"),
    [("", ""), ("11", ""), ("-1", ""), ("huit", ""), ("5.5", ""), ("10", "x" * 4_001)],
)
def test_bad_answers_are_refused_and_change_nothing(client, stay, score, comment):
    response = client.post(
        URL, {"t": surveys.survey_token(stay), "score": score, "comment": comment}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "note de 0 à 10" in html or "trop long" in html
    stay.refresh_from_db()
    assert stay.satisfaction is None and "survey" not in stay.details


def test_hostile_comment_is_kept_as_text_and_escaped(client, stay, destination):
    token = surveys.survey_token(stay)
    client.post(URL, {"t": token, "score": "5", "comment": "<script>alert(1)</script>\x00\x1b"})
    stay.refresh_from_db()
    assert stay.details["survey"]["comment"] == "<script>alert(1)</script>"
    client.force_login(destination.camille)
    page = client.get(f"/clients/{stay.customer_id}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_forged_expired_and_foreign_tokens_open_nothing(client, stay, destination):
    assert client.get(URL, {"t": "garbage"}).status_code == 403
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"t": "x" * 5_000}).status_code == 403
    token = surveys.survey_token(stay)
    assert client.get(URL, {"t": token[:-3] + "abc"}).status_code == 403
    # A genuine token from the preference centre's salt is not a survey token.
    other = signing.dumps({"a": stay.pk, "c": stay.customer_id}, salt="cordee.privacy.preferences")
    assert client.get(URL, {"t": other}).status_code == 403
    expired = signing.dumps(
        {"a": stay.pk, "c": stay.customer_id, "k": int(stay.customer.created_at.timestamp()),
         "e": int(time.time()) - 10},
        salt=surveys.SALT, compress=True,
    )  # fmt: skip
    response = client.get(URL, {"t": expired})
    assert response.status_code == 410 and "expiré" in response.content.decode()
    # Not a stay: a meal's number in a token opens nothing.
    meal, _status = activity_record(
        customer=stay.customer, partner=destination.hotel, actor=Actor.system("test"),
        channel="import", fields={"kind": "meal", "starts_on": "2026-02-15"},
    )  # fmt: skip
    forged = signing.dumps(
        {"a": meal.pk, "c": stay.customer_id, "k": int(stay.customer.created_at.timestamp()),
         "e": int(time.time()) + 100},
        salt=surveys.SALT, compress=True,
    )  # fmt: skip
    assert client.get(URL, {"t": forged}).status_code == 410


def test_an_erased_customer_s_link_opens_nothing(client, stay):
    from cordee.privacy.erasure import customers_erase

    token = surveys.survey_token(stay)
    customers_erase(customer_ids=[stay.customer_id], actor=Actor.system("test"), reason="test")
    response = client.post(URL, {"t": token, "score": "7"})
    assert response.status_code == 410
    assert not Activity.objects.filter(pk=stay.pk).exists()


def test_a_huge_body_is_refused(client, stay):
    response = client.post(
        URL, {"t": surveys.survey_token(stay), "score": "7", "comment": "é" * 40_000}
    )
    assert response.status_code == 413
    stay.refresh_from_db()
    assert stay.satisfaction is None


def test_the_page_in_english(client, stay):
    stay.customer.language = "en"
    stay.customer.save(update_fields=["language"])
    html = client.get(URL, {"t": surveys.survey_token(stay)}).content.decode()
    assert "your opinion counts" in html.lower() and "February 2026" in html
