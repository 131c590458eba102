"""The satisfaction survey after a stay: a signed link per stay, one question, no account.

The post-stay trigger (``campaigns/triggers.py``) writes to the customer N days after a stay;
its message carries ``{{ survey_url }}``, a link to this stay's survey. The visitor gives the
stay a score from 0 to 10 and, if they like, a comment: the score becomes the stay's
``satisfaction`` (what the 3F typology reads as satisfaction, beside complaints), the comment
is kept in the stay's details. Answering again replaces the answer.

The token carries the stay's number, its customer's number and the second that customer was
created (an erased customer's number reused opens nothing), and an expiry date, signed with the
site's secret under its own salt, as the preference centre's links are.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cordee.activities.models import Activity, ActivityKind
from cordee.core import signing as fast_signing
from cordee.core.signals import activities_changed, activities_written
from cordee.privacy.preferences import TokenExpired, TokenInvalid
from cordee.privacy.requests import clean_text

__all__ = [
    "SurveyAnswer",
    "survey_answer",
    "survey_link",
    "survey_stay",
    "survey_token",
    "survey_token_for",
    "survey_url_base",
    "TokenExpired",
    "TokenInvalid",
]

SALT = "cordee.channels.survey"
DEFAULT_DAYS = 60
TOKEN_MAX = 300
COMMENT_MAX = 2_000


def link_days() -> int:
    return int(getattr(settings, "CORDEE_SURVEY_LINK_DAYS", DEFAULT_DAYS))


def survey_token_for(
    stay_id: int, customer_id: int, customer_created: dt.datetime, *, days: int | None = None
) -> str:
    expires = int(time.time()) + 86_400 * (days or link_days())
    payload = {
        "a": stay_id,
        "c": customer_id,
        "k": int(customer_created.timestamp()),
        "e": expires,
    }
    return fast_signing.dumps(payload, salt=SALT, compress=True)


def survey_token(stay: Activity, *, days: int | None = None) -> str:
    return survey_token_for(stay.pk, stay.customer_id, stay.customer.created_at, days=days)


def survey_url_base() -> str:
    """The survey page's address up to its token (``…/enquete/?t=``)."""
    base = (
        getattr(settings, "CORDEE_PUBLIC_URL", "") or os.environ.get("CORDEE_PUBLIC_URL", "")
    ).rstrip("/") or "http://localhost:8000"
    return f"{base}{reverse('channels:survey')}?t="


def survey_link(stay: Activity, *, days: int | None = None) -> str:
    return survey_url_base() + survey_token(stay, days=days)


def survey_stay(token: str) -> Activity:
    """The stay a token opens; TokenInvalid or TokenExpired otherwise."""
    if not token or len(token) > TOKEN_MAX:
        raise TokenInvalid
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TokenInvalid from None
    if not isinstance(payload, dict):
        raise TokenInvalid
    values: list[int] = []
    for key in ("a", "c", "k", "e"):
        value = payload.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenInvalid
        values.append(value)
    activity_id, customer_id, created, expires = values
    if expires < time.time():
        raise TokenExpired
    stay = (
        Activity.objects.select_related("customer", "partner")
        .filter(pk=activity_id, customer_id=customer_id, kind=ActivityKind.STAY)
        .first()
    )
    if stay is None or int(stay.customer.created_at.timestamp()) != created:
        # Erased, merged away or no longer this person's: the link opens nothing.
        raise TokenExpired
    return stay


@dataclass(frozen=True)
class SurveyAnswer:
    score: int
    comment: str


def survey_clean(score: object, comment: object) -> SurveyAnswer:
    """The answer as typed, checked; ValidationError with the French reason otherwise."""
    text = str(score if score is not None else "").strip()
    if not text.isdigit() or not 0 <= int(text) <= 10:
        raise ValidationError(_("Choisissez une note de 0 à 10."))
    raw = str(comment or "")
    if len(raw) > COMMENT_MAX * 2:
        raise ValidationError(
            _("Votre commentaire est trop long (%(max)s caractères au plus).")
            % {"max": COMMENT_MAX}
        )
    return SurveyAnswer(int(text), clean_text(raw, COMMENT_MAX))


def survey_answer(stay: Activity, answer: SurveyAnswer, *, language: str = "fr") -> None:
    """Keep the answer on the stay; the customer's aggregates follow (the 3F typology)."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=stay.pk)
        details = dict(locked.details or {})
        details["survey"] = {
            "score": answer.score,
            "comment": answer.comment,
            "answered_at": timezone.now().isoformat(timespec="seconds"),
            "language": language,
        }
        Activity.objects.filter(pk=stay.pk).update(satisfaction=answer.score, details=details)
        customer_ids = [stay.customer_id]
        activities_written.send(sender=Activity, customer_ids=customer_ids)
        transaction.on_commit(
            lambda: activities_changed.send(
                sender=Activity, customer_ids=customer_ids, stale_marked=True
            )
        )
