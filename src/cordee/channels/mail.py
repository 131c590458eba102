"""The confirmation e-mail of a public form (double opt-in), in the visitor's language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from cordee.channels.models import FormEntry


def confirmation_send(*, entry: FormEntry, address: str, link: str) -> None:
    form = entry.form
    with translation.override(entry.language):
        context = {
            "form": form,
            "title": form.title(entry.language),
            "partner": form.partner,
            "link": link,
            "days": getattr(settings, "CORDEE_OPTIN_DAYS", 7),
        }
        subject = _("Confirmez votre inscription : %(title)s") % {"title": context["title"]}
        text = render_to_string("channels/mail/confirm.txt", context)
        html = render_to_string("channels/mail/confirm.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split())[:200],
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    message.attach_alternative(html, "text/html")
    message.send()
